//! `/api/auth/totp/…`: the signed-in user's own two-factor login (status, enrol, confirm,
//! disable), and `/api/auth/mfa-policy/`: the roles for which the practice requires it (admin).
//! The login's second step is in `api/auth.rs`. Docs: docs/api.md, docs/data-protection.md.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use praxi_domain::Role;
use praxi_domain::rbac::{Action, Area};
use serde_json::{Value, json};

use crate::auth::{self, AuthUser, ClientAddress};
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::throttle::LoginAttempt;
use crate::two_factor::EnrolmentView;
use crate::usecases::Failure;
use crate::usecases::two_factor::{self, SecondFactor, TwoFactorRefusal};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/totp/", get(status))
        .route("/api/auth/totp/enrol/", post(enrol))
        .route("/api/auth/totp/confirm/", post(confirm))
        .route("/api/auth/totp/disable/", post(disable))
        .route("/api/auth/mfa-policy/", get(policy).put(set_policy))
}

/// The enrolment answer: the secret (base 32), the `otpauth://` URI and its QR code as SVG.
pub(crate) fn enrolment_json(view: &EnrolmentView) -> Value {
    json!({
        "secret": view.secret_base32,
        "otpauth_uri": view.otpauth_uri,
        "qr_svg": view.qr_svg,
    })
}

fn refusal(failure: Failure<TwoFactorRefusal>, field: &str) -> ApiError {
    match failure {
        Failure::Refused(TwoFactorRefusal::AlreadyEnabled) => {
            ApiError::Conflict(TwoFactorRefusal::AlreadyEnabled.message().to_owned())
        }
        Failure::Refused(TwoFactorRefusal::InvalidCode) => {
            ApiError::field(field, TwoFactorRefusal::InvalidCode.message())
        }
        Failure::Refused(other) => ApiError::field("non_field_errors", other.message()),
        Failure::Store(error) => error.into(),
    }
}

async fn status(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let status = two_factor::status(&state, &auth.user).await?;
    Ok(Json(json!({
        "enabled": status.enabled,
        "pending": status.pending,
        "required": status.required,
        "recovery_codes_left": status.recovery_codes_left,
    })))
}

async fn enrol(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let view = two_factor::start(&state, &auth.user)
        .await
        .map_err(|failure| refusal(failure, "code"))?;
    Ok(Json(enrolment_json(&view)))
}

async fn confirm(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let mut fields = Fields::new(body, state.tz());
    let code = fields.required_string("code");
    fields.finish()?;
    let code = code.unwrap_or_default();
    let codes = two_factor::confirm(
        &state,
        &auth.user,
        &code,
        auth.audit("totp_enabled", None, None),
    )
    .await
    .map_err(|failure| refusal(failure, "code"))?;
    Ok(Json(json!({"enabled": true, "recovery_codes": codes})))
}

/// Disabling needs the password and a current code (or a recovery code); failures count
/// against the login throttle like wrong passwords.
async fn disable(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let mut fields = Fields::new(body, state.tz());
    let password = fields.required_string("password");
    let code = fields.opt_string("code").flatten();
    let recovery_code = fields.opt_string("recovery_code").flatten();
    if code.is_none() && recovery_code.is_none() {
        fields.errors_mut().add("code", "This field is required.");
    }
    fields.finish()?;
    let user = &auth.user;
    let attempt = LoginAttempt::new(
        &state.config.secret_key,
        Some(user),
        &user.username,
        address,
    );
    if let Some(retry_after_secs) = state
        .throttle
        .check(&state.store, &attempt, state.now())
        .await?
    {
        return Err(ApiError::Throttled { retry_after_secs });
    }
    let password_ok = auth::verify_password(
        password.unwrap_or_default(),
        Some(user.password_hash.clone()),
    )
    .await;
    if !password_ok {
        state
            .throttle
            .record_failure(&state.store, &attempt, state.now())
            .await?;
        return Err(ApiError::field("password", "Invalid password."));
    }
    let (field, factor) = match (code, recovery_code) {
        (Some(code), _) => ("code", SecondFactor::Code(code)),
        (None, Some(code)) => ("recovery_code", SecondFactor::RecoveryCode(code)),
        (None, None) => return Err(ApiError::field("code", "This field is required.")),
    };
    match two_factor::disable(
        &state,
        user,
        &factor,
        auth.audit("totp_disabled", None, None),
    )
    .await
    {
        Ok(()) => Ok(Json(json!({"enabled": false}))),
        Err(Failure::Refused(TwoFactorRefusal::InvalidCode)) => {
            state
                .throttle
                .record_failure(&state.store, &attempt, state.now())
                .await?;
            Err(ApiError::field(
                field,
                TwoFactorRefusal::InvalidCode.message(),
            ))
        }
        Err(failure) => Err(refusal(failure, field)),
    }
}

async fn policy(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    auth.require(Area::Users, Action::Read, "User")?;
    let roles = state.store.mfa_required_role_names().await?;
    Ok(Json(json!({"required_roles": roles})))
}

/// `PUT /api/auth/mfa-policy/` `{"required_roles": ["admin", …]}` (admin only).
async fn set_policy(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Users, Action::Update, "User")?;
    let value = body.0.get("required_roles").cloned();
    let Some(Value::Array(items)) = value else {
        return Err(ApiError::field(
            "required_roles",
            "Expected a list of role names.",
        ));
    };
    let mut roles = Vec::new();
    for item in items {
        match item.as_str().and_then(Role::from_name) {
            Some(role) => roles.push(role.name().to_owned()),
            None => {
                return Err(ApiError::field(
                    "required_roles",
                    format!("{item} is not a valid role."),
                ));
            }
        }
    }
    if let Some(unknown) = body.0.keys().find(|key| *key != "required_roles") {
        return Err(ApiError::field(unknown, "Unknown field."));
    }
    state
        .store
        .set_mfa_required_roles(
            &roles,
            &auth.audit(
                "mfa_policy_changed",
                None,
                Some(json!({"required_roles": roles})),
            ),
        )
        .await?;
    let roles = state.store.mfa_required_role_names().await?;
    Ok(Json(json!({"required_roles": roles})))
}
