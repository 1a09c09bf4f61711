//! `/api/auth/login/`, `refresh/`, `logout/`, `me/` (api.md §1.2, §5 item 12).
//!
//! Refresh tokens rotate: each refresh returns a new refresh token and blacklists the old one.
//! Presenting an already-used refresh token revokes its whole family (token theft detection).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use praxi_store::audit::AuditEntry;
use praxi_store::tokens::RefreshUse;
use praxi_store::users::UserRecord;
use serde_json::{Value, json};

use crate::auth::{self, AuthUser, Claims, ClientAddress, decode_token, random_id};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::throttle::LoginAttempt;
use crate::usecases::Failure;
use crate::usecases::two_factor::{self, PasswordStep, SecondFactor, TwoFactorRefusal};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login/", post(login))
        .route("/api/auth/login/mfa/", post(login_mfa))
        .route("/api/auth/login/mfa/enrol/", post(login_mfa_enrol))
        .route("/api/auth/refresh/", post(refresh))
        .route("/api/auth/logout/", post(logout))
        .route("/api/auth/me/", get(me))
}

fn role_json(user: &UserRecord) -> Value {
    user.role.as_ref().map_or(
        Value::Null,
        |role| json!({"id": role.id, "name": role.name, "label": role.label}),
    )
}

fn user_json(user: &UserRecord) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": role_json(user),
    })
}

/// Freshly issued tokens.
struct IssuedTokens {
    access: String,
    access_jti: String,
    refresh: String,
    refresh_jti: String,
}

/// Issues a fresh refresh token (new or continuing `family`) and an access token.
fn issue_tokens(state: &AppState, user: &UserRecord, family: String) -> ApiResult<IssuedTokens> {
    let now = state.now();
    let jti = random_id();
    let expires_at = now + state.config.refresh_token_ttl;
    let claims = Claims {
        token_type: "refresh".to_owned(),
        exp: expires_at.timestamp(),
        iat: now.timestamp(),
        jti: jti.clone(),
        user_id: user.id.to_string(),
        role: user.role.as_ref().map(|role| role.name.clone()),
        ver: user.token_version,
        fam: Some(family),
    };
    let refresh = auth::encode_token(state, &claims)?;
    let access_claims = auth::access_claims(state, user, now);
    let access = auth::encode_token(state, &access_claims)?;
    Ok(IssuedTokens {
        access,
        access_jti: access_claims.jti,
        refresh,
        refresh_jti: jti,
    })
}

/// The latest expiry an access token issued until now can have: how long a deny-list entry
/// must live.
fn access_expiry_bound(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    state.now() + state.config.access_token_ttl + chrono::Duration::minutes(1)
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let mut fields = Fields::new(body, state.tz());
    let email = fields.opt_string("email").flatten();
    let username = match email {
        // Additive: clients that log in with an e-mail address (api.md §4) are accepted.
        Some(email) if !fields.has("username") => Some(email),
        _ => fields.required_string("username"),
    };
    let password = fields.required_string("password");
    fields.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::Detail("missing credentials".to_owned()));
    };

    // Throttle check → verify → record (docs/security.md, "Login throttling").
    let now = state.now();
    let user = state.store.user_by_login(&username).await?;
    let attempt = LoginAttempt::new(&state.config.secret_key, user.as_ref(), &username, address);
    if let Some(retry_after_secs) = state.throttle.check(&state.store, &attempt, now).await? {
        return Err(ApiError::Throttled { retry_after_secs });
    }
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_ok = auth::verify_password(password.clone(), hash).await;
    let user = match user {
        Some(user) if password_ok && user.is_active => user,
        _ => {
            // Stamped after the (slow) verification: the next delay runs from here.
            state
                .throttle
                .record_failure(&state.store, &attempt, state.now())
                .await?;
            return Err(ApiError::field("non_field_errors", "Invalid credentials."));
        }
    };
    auth::upgrade_legacy_hash(&state, &user, password).await;

    // A second factor: the password step answers a short-lived second-step token instead of
    // the session tokens. The pair counter is not cleared yet, so failed codes keep counting.
    match two_factor::after_password(&state, &user).await? {
        PasswordStep::Complete => {}
        step => {
            let enrol = step == PasswordStep::Enrol;
            let mfa_token =
                crate::two_factor::issue_mfa_token(&state, user.id, user.token_version, enrol)?;
            return Ok(Json(json!({
                "mfa_required": true,
                "mfa_enrolment_required": enrol,
                "mfa_token": mfa_token,
                "methods": if enrol { json!(["totp"]) } else { json!(["totp", "recovery_code"]) },
            })));
        }
    }
    complete_login(&state, &user, &attempt, now).await.map(Json)
}

/// The end of a successful login (after the password, or after the second step): clears the
/// throttle pair, issues the tokens, records the login; the `{user, access, refresh}` body.
async fn complete_login(
    state: &AppState,
    user: &UserRecord,
    attempt: &LoginAttempt,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Value> {
    state
        .throttle
        .record_success(&state.store, attempt, now)
        .await?;

    let family = random_id();
    let tokens = issue_tokens(state, user, family.clone())?;
    state
        .store
        .login_succeeded(
            user.id,
            &tokens.refresh_jti,
            &family,
            &tokens.access_jti,
            now + state.config.refresh_token_ttl,
            now,
        )
        .await?;
    Ok(json!({
        "user": user_json(user),
        "access": tokens.access,
        "refresh": tokens.refresh,
    }))
}

fn invalid_mfa_token() -> ApiError {
    ApiError::field("mfa_token", "Invalid or expired token.")
}

/// The second-step token's user, if the token is valid and the user still may log in.
async fn mfa_user(
    state: &AppState,
    token: &str,
) -> ApiResult<(UserRecord, crate::two_factor::MfaClaims)> {
    let claims = crate::two_factor::decode_mfa_token(state, token).ok_or_else(invalid_mfa_token)?;
    let user_id: i64 = claims.user_id.parse().map_err(|_| invalid_mfa_token())?;
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .filter(|user| user.is_active && user.token_version == claims.ver)
        .ok_or_else(invalid_mfa_token)?;
    Ok((user, claims))
}

/// An audit row for a user acting before they hold an access token (the second step).
fn user_audit(user: &UserRecord, action: &str, headers: &HeaderMap) -> AuditEntry {
    AuditEntry::by_user(user, action, auth::request_id_from_headers(headers))
}

/// `POST /api/auth/login/mfa/` `{mfa_token, code | recovery_code}`: the second step. For an
/// enrolment token (`mfa_enrolment_required`), `code` confirms the enrolment started with
/// `login/mfa/enrol/` and the answer adds the `recovery_codes` (shown once).
async fn login_mfa(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let mut fields = Fields::new(body, state.tz());
    let token = fields.required_string("mfa_token");
    let code = fields.opt_string("code").flatten();
    let recovery_code = fields.opt_string("recovery_code").flatten();
    if code.is_none() && recovery_code.is_none() {
        fields.errors_mut().add("code", "This field is required.");
    }
    fields.finish()?;
    let token = token.ok_or_else(invalid_mfa_token)?;
    let (user, claims) = mfa_user(&state, &token).await?;

    let now = state.now();
    let attempt = LoginAttempt::new(
        &state.config.secret_key,
        Some(&user),
        &user.username,
        address,
    );
    if let Some(retry_after_secs) = state.throttle.check(&state.store, &attempt, now).await? {
        return Err(ApiError::Throttled { retry_after_secs });
    }
    let (field, outcome) = if claims.enrol {
        let Some(code) = code else {
            return Err(ApiError::field(
                "code",
                "A code from the authenticator app is required to finish the enrolment.",
            ));
        };
        let audit = user_audit(&user, "totp_enabled", &headers);
        (
            "code",
            two_factor::confirm(&state, &user, &code, audit)
                .await
                .map(Some),
        )
    } else {
        let (field, factor) = match (code, recovery_code) {
            (Some(code), _) => ("code", SecondFactor::Code(code)),
            (None, Some(code)) => ("recovery_code", SecondFactor::RecoveryCode(code)),
            (None, None) => return Err(ApiError::field("code", "This field is required.")),
        };
        (
            field,
            two_factor::verify(&state, &user, &factor)
                .await
                .map(|()| None),
        )
    };
    let recovery_codes = match outcome {
        Ok(codes) => codes,
        Err(Failure::Refused(TwoFactorRefusal::InvalidCode)) => {
            state
                .throttle
                .record_failure(&state.store, &attempt, state.now())
                .await?;
            return Err(ApiError::field(
                field,
                TwoFactorRefusal::InvalidCode.message(),
            ));
        }
        Err(Failure::Refused(refusal)) => {
            return Err(ApiError::field("non_field_errors", refusal.message()));
        }
        Err(Failure::Store(error)) => return Err(error.into()),
    };
    let mut body = complete_login(&state, &user, &attempt, now).await?;
    if let (Some(codes), Some(object)) = (recovery_codes, body.as_object_mut()) {
        object.insert("recovery_codes".to_owned(), json!(codes));
    }
    Ok(Json(body))
}

/// `POST /api/auth/login/mfa/enrol/` `{mfa_token}`: for a user whose role requires a second
/// factor and who has none, starts the enrolment (secret, `otpauth://` URI, SVG QR code).
async fn login_mfa_enrol(State(state): State<AppState>, body: JsonBody) -> ApiResult<Json<Value>> {
    let mut fields = Fields::new(body, state.tz());
    let token = fields.required_string("mfa_token");
    fields.finish()?;
    let token = token.ok_or_else(invalid_mfa_token)?;
    let (user, claims) = mfa_user(&state, &token).await?;
    if !claims.enrol {
        return Err(ApiError::field(
            "mfa_token",
            "This token is not an enrolment token.",
        ));
    }
    match two_factor::start(&state, &user).await {
        Ok(view) => Ok(Json(crate::api::two_factor::enrolment_json(&view))),
        Err(Failure::Refused(refusal)) => Err(ApiError::Conflict(refusal.message().to_owned())),
        Err(Failure::Store(error)) => Err(error.into()),
    }
}

fn invalid_refresh(message: &str) -> ApiError {
    ApiError::field(
        "refresh",
        format!("Invalid or expired refresh token: {message}"),
    )
}

fn read_refresh(state: &AppState, body: JsonBody) -> ApiResult<Claims> {
    let mut fields = Fields::new(body, state.tz());
    let token = fields.required_string("refresh");
    fields.finish()?;
    let token = token.ok_or_else(|| ApiError::field("refresh", "This field is required."))?;
    decode_token(state, &token, "refresh").map_err(|problem| invalid_refresh(problem.message()))
}

async fn refresh(State(state): State<AppState>, body: JsonBody) -> ApiResult<Json<Value>> {
    let claims = read_refresh(&state, body)?;
    let family = claims
        .fam
        .clone()
        .ok_or_else(|| invalid_refresh("Token is invalid"))?;
    let user_id: i64 = claims
        .user_id
        .parse()
        .map_err(|_| invalid_refresh("Token is invalid"))?;
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .filter(|user| user.is_active && user.token_version == claims.ver)
        .ok_or_else(|| invalid_refresh("Token is blacklisted"))?;

    let tokens = issue_tokens(&state, &user, family.clone())?;
    let now = state.now();
    match state
        .store
        .rotate_refresh_token(
            &claims.jti,
            &tokens.refresh_jti,
            &tokens.access_jti,
            &family,
            user.id,
            now + state.config.refresh_token_ttl,
            access_expiry_bound(&state),
        )
        .await?
    {
        RefreshUse::Rotated => Ok(Json(
            json!({"access": tokens.access, "refresh": tokens.refresh}),
        )),
        RefreshUse::Reused => {
            tracing::warn!(user_id = user.id, "refresh token reused: family revoked");
            Err(invalid_refresh("Token is blacklisted"))
        }
        RefreshUse::Unknown => Err(invalid_refresh("Token is invalid")),
    }
}

/// Revokes the refresh token's family and every access token issued with it; an access token
/// sent as bearer token is revoked too (it may stem from another login).
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let claims = read_refresh(&state, body)?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, token)| decode_token(&state, token.trim(), "access").ok())
        .filter(|access| access.user_id == claims.user_id);
    if let Some(access) = bearer {
        state
            .store
            .revoke_access_tokens(&[access.jti.as_str()], access_expiry_bound(&state))
            .await?;
    }
    if let Some(family) = claims.fam.as_deref() {
        state
            .store
            .revoke_token_family(family, access_expiry_bound(&state), state.now())
            .await?;
    }
    Ok((
        StatusCode::OK,
        Json(json!({"detail": "Successfully logged out."})),
    ))
}

async fn me(auth: AuthUser) -> Json<Value> {
    let user = &auth.user;
    Json(json!({
        "id": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "calendar_color": user.calendar_color,
        "role": role_json(user),
    }))
}
