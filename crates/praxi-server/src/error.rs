//! The one API error type. Every handler returns `Result<_, ApiError>`; the status mapping is
//! a single `match` and the bodies are the original's DRF shapes (api.md §1.8).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praxi_domain::rbac::Denial;
use praxi_domain::{FieldErrors, ValidationError};
use praxi_store::StoreError;
use serde_json::{Value, json};

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with `{"field": ["message"]}`.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400 with a hand-built body (scheduling conflicts and the like).
    #[error("bad request")]
    BadRequest(Value),
    /// 400 `{"detail": "..."}`.
    #[error("bad request: {0}")]
    Detail(String),
    /// 401 without credentials.
    #[error("not authenticated")]
    Unauthenticated,
    /// 401 for a bad, expired or revoked token.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// 401 for a token whose user is gone or inactive.
    #[error("user not usable: {0}")]
    UserUnusable(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// 403 for a cookie-authenticated unsafe request without the right CSRF token.
    #[error("csrf failed")]
    CsrfFailed,
    /// 404 `{"detail": "No <model> matches the given query."}`.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404 `{"detail": "Not found."}`.
    #[error("not found")]
    NotFoundPlain,
    /// 404 with a specific detail (e.g. "Invalid page.").
    #[error("not found: {0}")]
    NotFoundDetail(&'static str),
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// 409 `{"detail": "..."}` (e.g. deleting a referenced row).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("throttled")]
    Throttled { retry_after_secs: u64 },
    /// 503 `{"detail": "..."}` with `Retry-After`: concurrent transactions collided (deadlock,
    /// serialization failure, lock timeout) and the request changed nothing.
    #[error("temporarily unavailable")]
    Unavailable { retry_after_secs: u64 },
    /// 500; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// 412 `{"detail": "..."}`: an `If-Match` precondition names another state of the row.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(FieldErrors::single(field, message))
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }

    /// Maps a policy denial to its status.
    pub fn from_denial(denial: Denial, model: &'static str) -> Self {
        match denial {
            Denial::Forbidden => ApiError::Forbidden,
            Denial::NotFound => ApiError::NotFound(model),
            Denial::MethodNotAllowed => ApiError::MethodNotAllowed(String::new()),
        }
    }

    fn status_and_body(&self) -> (StatusCode, Value) {
        match self {
            ApiError::Validation(errors) => (StatusCode::BAD_REQUEST, field_errors_json(errors)),
            ApiError::BadRequest(body) => (StatusCode::BAD_REQUEST, body.clone()),
            ApiError::Detail(detail) => (StatusCode::BAD_REQUEST, json!({ "detail": detail })),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Authentication credentials were not provided."}),
            ),
            ApiError::InvalidToken(message) => (
                StatusCode::UNAUTHORIZED,
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{
                        "token_class": "AccessToken",
                        "token_type": "access",
                        "message": message,
                    }],
                }),
            ),
            ApiError::UserUnusable(which) => {
                let (detail, code) = if *which == "inactive" {
                    ("User is inactive", "user_inactive")
                } else {
                    ("User not found", "user_not_found")
                };
                (
                    StatusCode::UNAUTHORIZED,
                    json!({"detail": detail, "code": code}),
                )
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                json!({"detail": "You do not have permission to perform this action."}),
            ),
            ApiError::CsrfFailed => (
                StatusCode::FORBIDDEN,
                json!({"detail": "CSRF Failed: CSRF token missing or incorrect."}),
            ),
            ApiError::NotFound(model) => (
                StatusCode::NOT_FOUND,
                json!({"detail": format!("No {model} matches the given query.")}),
            ),
            ApiError::NotFoundPlain => (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
            ApiError::NotFoundDetail(detail) => (StatusCode::NOT_FOUND, json!({"detail": detail})),
            ApiError::MethodNotAllowed(method) => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"detail": format!("Method \"{method}\" not allowed.")}),
            ),
            ApiError::Conflict(detail) => (
                StatusCode::CONFLICT,
                json!({"detail": detail, "code": "still_referenced"}),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"detail": "Request body too large."}),
            ),
            ApiError::UnsupportedMediaType(kind) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"detail": format!("Unsupported media type \"{kind}\" in request.")}),
            ),
            ApiError::Throttled { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"detail": format!(
                    "Request was throttled. Expected available in {retry_after_secs} seconds."
                )}),
            ),
            ApiError::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"detail": "Concurrent changes collided; nothing was changed. Please retry."}),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"detail": "Internal server error."}),
            ),
            ApiError::PreconditionFailed(detail) => {
                (StatusCode::PRECONDITION_FAILED, json!({ "detail": detail }))
            }
        }
    }
}

/// `{"field": ["msg"]}` as DRF renders it.
pub fn field_errors_json(errors: &FieldErrors) -> Value {
    Value::Object(
        errors
            .fields()
            .iter()
            .map(|(field, messages)| (field.clone(), json!(messages)))
            .collect(),
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let (status, body) = self.status_and_body();
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthenticated | ApiError::InvalidToken(_) | ApiError::UserUnusable(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"api\""),
                );
            }
            ApiError::Throttled { retry_after_secs }
            | ApiError::Unavailable { retry_after_secs } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Validation(error.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(model) => ApiError::NotFound(model),
            StoreError::Invalid(errors) => ApiError::Validation(errors),
            StoreError::StillReferenced(what) => {
                ApiError::Conflict(format!("{what} is still referenced"))
            }
            StoreError::Scheduling(conflicts) => ApiError::BadRequest(
                crate::wire::scheduling_conflicts_json(conflicts.conflicts()),
            ),
            StoreError::Contention(failure) => {
                tracing::warn!(?failure, "database contention; request not done");
                ApiError::Unavailable {
                    retry_after_secs: 1,
                }
            }
            StoreError::Db(cause) => ApiError::Internal(cause),
        }
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
