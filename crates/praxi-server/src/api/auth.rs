//! `/api/auth/login/`, `refresh/`, `logout/`, `me/` (api.md §1.2, §5 item 12).
//!
//! Refresh tokens rotate: each refresh returns a new refresh token and blacklists the old one.
//! Presenting an already-used refresh token revokes its whole family (token theft detection).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use praxi_store::tokens::RefreshUse;
use praxi_store::users::UserRecord;
use serde_json::{Value, json};

use crate::auth::{self, AuthUser, Claims, ClientAddress, decode_token, random_id};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::throttle::LoginAttempt;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login/", post(login))
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
    state
        .throttle
        .record_success(&state.store, &attempt, now)
        .await?;

    let family = random_id();
    let tokens = issue_tokens(&state, &user, family.clone())?;
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
    Ok(Json(json!({
        "user": user_json(&user),
        "access": tokens.access,
        "refresh": tokens.refresh,
    })))
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
