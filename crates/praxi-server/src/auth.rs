//! Authentication: JWT access/refresh tokens, the `AuthUser` extractor and password hashing.
//!
//! The role is read from the database on every request; the `role` claim in tokens is only
//! informational (api.md §1.2). Access tokens carry the user's `token_version`, so deactivating
//! a user or resetting a password revokes every access token at once.

use std::net::{IpAddr, SocketAddr};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use praxi_domain::rbac::{Action, Actor, Area, Decision, Denial};
use praxi_store::audit::AuditEntry;
use praxi_store::users::UserRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// Token claims (SimpleJWT-compatible names plus `ver` and `fam`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// The user id as a string, as the original emits it.
    pub user_id: String,
    pub role: Option<String>,
    /// The user's token version when the token was issued.
    pub ver: i32,
    /// Refresh-token family (rotation chain); absent on access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

/// A fresh random id (32 hex chars, like SimpleJWT's `jti`).
pub fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Signs claims with the server key.
pub fn encode_token(state: &AppState, claims: &Claims) -> Result<String, ApiError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&state.config.secret_key),
    )
    .map_err(ApiError::internal)
}

/// Why a token was refused, in SimpleJWT's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
    WrongType,
}

impl TokenProblem {
    pub fn message(self) -> &'static str {
        match self {
            TokenProblem::Invalid => "Token is invalid",
            TokenProblem::Expired => "Token is expired",
            TokenProblem::WrongType => "Token has wrong type",
        }
    }
}

/// Verifies signature, expiry (against the server clock) and type.
pub fn decode_token(
    state: &AppState,
    token: &str,
    expected_type: &str,
) -> Result<Claims, TokenProblem> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&state.config.secret_key),
        &validation,
    )
    .map_err(|_| TokenProblem::Invalid)?
    .claims;
    if claims.exp <= state.now().timestamp() {
        return Err(TokenProblem::Expired);
    }
    if claims.token_type != expected_type {
        return Err(TokenProblem::WrongType);
    }
    Ok(claims)
}

/// Builds an access token for a user.
pub fn access_token(
    state: &AppState,
    user: &UserRecord,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    encode_token(state, &access_claims(state, user, now))
}

/// The claims of a new access token (a fresh `jti`).
pub fn access_claims(state: &AppState, user: &UserRecord, now: DateTime<Utc>) -> Claims {
    Claims {
        token_type: "access".to_owned(),
        exp: (now + state.config.access_token_ttl).timestamp(),
        iat: now.timestamp(),
        jti: random_id(),
        user_id: user.id.to_string(),
        role: user.role.as_ref().map(|role| role.name.clone()),
        ver: user.token_version,
        fam: None,
    }
}

/// Hashes a password with argon2id (on a blocking thread: it is deliberately slow).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(ApiError::internal)?
}

/// The blocking variant, for the CLI.
pub fn hash_password_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

/// A hash of a random password, checked for unknown users so that timing does not reveal
/// which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wq2UEHUpxtgMGyTRo/Z2wKf7HqsfrtGwvNLQbTQfDBY";

/// Verifies a password against a stored hash; `None` hash = unknown user. Praxi's own PHC
/// strings (argon2id) and PraxiApp's Django `pbkdf2_sha256$…` hashes are accepted; any other
/// format is refused with a log line (see `legacy_password`).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = hash.as_deref().unwrap_or(DUMMY_HASH);
        let ok = match crate::legacy_password::classify(stored) {
            crate::legacy_password::StoredHash::Phc => PasswordHash::new(stored)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false),
            crate::legacy_password::StoredHash::DjangoPbkdf2 {
                iterations,
                salt,
                hash_b64,
            } => {
                crate::legacy_password::verify_django_pbkdf2(&password, iterations, salt, hash_b64)
            }
            crate::legacy_password::StoredHash::Unsupported(format) => {
                tracing::warn!(
                    format = %format,
                    "password hash format is not supported; the user must get a new password"
                );
                false
            }
        };
        ok && hash.is_some()
    })
    .await
    .unwrap_or(false)
}

/// After a successful login: replaces a PraxiApp (Django) hash by Praxi's argon2id, so the old
/// format is used exactly once per user. Failures are logged, never fail the login.
pub async fn upgrade_legacy_hash(state: &AppState, user: &UserRecord, password: String) {
    if !matches!(
        crate::legacy_password::classify(&user.password_hash),
        crate::legacy_password::StoredHash::DjangoPbkdf2 { .. }
    ) {
        return;
    }
    let new_hash = match hash_password(password).await {
        Ok(new_hash) => new_hash,
        Err(error) => {
            tracing::error!(
                user_id = user.id,
                "rehashing a legacy password failed: {error:?}"
            );
            return;
        }
    };
    match praxi_store::praxiapp::replace_password_hash(
        &state.store,
        user.id,
        &user.password_hash,
        &new_hash,
    )
    .await
    {
        Ok(true) => tracing::info!(
            user_id = user.id,
            "legacy password hash replaced by argon2id"
        ),
        Ok(false) => {}
        Err(error) => {
            tracing::error!(
                user_id = user.id,
                "storing the new password hash failed: {error}"
            )
        }
    }
}

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRecord,
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl AuthUser {
    /// Checks the policy; a denial becomes the matching error. Returns the decision so the
    /// handler can apply own-record filtering.
    pub fn require(
        &self,
        resource: Area,
        action: Action,
        model: &'static str,
    ) -> Result<Decision, ApiError> {
        match self.actor.decide(resource, action) {
            Decision::Deny(Denial::MethodNotAllowed) => Err(ApiError::MethodNotAllowed(
                match action {
                    Action::Delete => "DELETE",
                    Action::Create => "POST",
                    Action::Update => "PUT",
                    Action::List | Action::Read => "GET",
                }
                .to_owned(),
            )),
            Decision::Deny(denial) => Err(ApiError::from_denial(denial, model)),
            decision => Ok(decision),
        }
    }

    /// For an own-only decision: allows when `is_own`, else answers with the denial.
    pub fn check_own(
        decision: Decision,
        is_own: bool,
        model: &'static str,
    ) -> Result<(), ApiError> {
        match decision {
            Decision::OwnOnly(denial) if !is_own => Err(ApiError::from_denial(denial, model)),
            _ => Ok(()),
        }
    }

    /// An audit entry for this caller.
    pub fn audit(&self, action: &str, patient_id: Option<i32>, meta: Option<Value>) -> AuditEntry {
        AuditEntry {
            user_id: Some(self.user.id),
            username: self.user.username.clone(),
            role_name: self
                .user
                .role
                .as_ref()
                .map(|role| role.name.clone())
                .unwrap_or_default(),
            action: action.to_owned(),
            patient_id,
            meta,
            request_id: self.request_id.clone(),
            subjects: Vec::new(),
        }
    }
}

/// The request id set by the request-id layer.
pub fn request_id(parts: &Parts) -> Option<String> {
    request_id_from_headers(&parts.headers)
}

/// The request id from headers.
pub fn request_id_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The client's address: the socket peer, or the forwarded client when the peer is a trusted
/// proxy (`ServerConfig::trusted_proxies`, see `client_ip`).
pub fn client_address(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    crate::client_ip::client_ip(peer, &parts.headers, &state.config.trusted_proxies)
}

/// The client's address as an extractor that never fails.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddress
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(ClientAddress(client_address(parts, &state)))
    }
}

/// Resolves a bearer token to an active user whose token version matches.
pub async fn user_from_access_token(state: &AppState, token: &str) -> Result<UserRecord, ApiError> {
    let claims = decode_token(state, token, "access")
        .map_err(|problem| ApiError::InvalidToken(problem.message().to_owned()))?;
    let user_id: i64 = claims
        .user_id
        .parse()
        .map_err(|_| ApiError::InvalidToken(TokenProblem::Invalid.message().to_owned()))?;
    // One statement: the user and the deny-list entry of this token (logout, family
    // revocation).
    let (user, revoked) = state
        .store
        .user_for_access_token(user_id, &claims.jti)
        .await?
        .ok_or(ApiError::UserUnusable("not_found"))?;
    if revoked {
        return Err(ApiError::InvalidToken("Token is blacklisted".to_owned()));
    }
    if !user.is_active {
        return Err(ApiError::UserUnusable("inactive"));
    }
    if user.token_version != claims.ver {
        return Err(ApiError::InvalidToken("Token has been revoked".to_owned()));
    }
    Ok(user)
}

impl<S> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let user = match header_value.and_then(|value| value.split_once(' ')) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                user_from_access_token(&state, token.trim()).await?
            }
            Some(_) => return Err(ApiError::Unauthenticated),
            // No bearer token: the staff UI's session cookie (api.md §1.3), with a CSRF check
            // for unsafe methods (the token from the page's <meta> in `X-CSRF-Token`).
            None => {
                let Some((user, csrf)) =
                    crate::web::session::session_user(&state, &parts.headers).await
                else {
                    return Err(ApiError::Unauthenticated);
                };
                if !parts.method.is_safe() {
                    let sent = parts
                        .headers
                        .get("x-csrf-token")
                        .or_else(|| parts.headers.get("x-csrftoken"))
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("");
                    if !crate::web::session::constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                        return Err(ApiError::CsrfFailed);
                    }
                }
                user
            }
        };
        let actor = user.actor();
        Ok(AuthUser {
            user,
            actor,
            request_id: request_id(parts),
        })
    }
}
