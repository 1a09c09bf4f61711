//! FHIR errors: every refusal under `/fhir/` is an `OperationOutcome` with the HTTP status of
//! the API's answer (400, 401, 403, 404, 405, 409, 412, 415, 503, 500). `diagnostics` says
//! what went wrong, `expression` names the element or search parameter at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praxi_domain::rbac::Denial;
use praxi_store::StoreError;
use serde_json::{Value, json};

use crate::error::ApiError;

/// The media type of every FHIR answer.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A FHIR answer body with the FHIR media type.
pub(crate) fn fhir_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

/// One refused FHIR request.
#[derive(Debug)]
pub(crate) struct FhirError {
    pub(crate) status: StatusCode,
    /// The issue type (http://hl7.org/fhir/ValueSet/issue-type).
    pub(crate) code: &'static str,
    pub(crate) diagnostics: String,
    /// The element or search parameter at fault (`Appointment.participant`, `start`).
    pub(crate) expression: Option<String>,
    /// Machine codes of the reason (`details.coding[].code`), e.g. the conflict reason.
    pub(crate) reasons: Vec<String>,
    /// Set for 401 answers (`WWW-Authenticate`), 503 (`Retry-After`).
    retry_after: Option<u64>,
}

/// The result type of FHIR handlers.
pub(crate) type FhirResult<T> = Result<T, FhirError>;

/// The code system of [`FhirError::reason`].
pub(crate) const REASON_SYSTEM: &str = "urn:praxi:fhir:reason";

impl FhirError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        diagnostics: impl Into<String>,
    ) -> Self {
        FhirError {
            status,
            code,
            diagnostics: diagnostics.into(),
            expression: None,
            reasons: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 naming the element or parameter at fault.
    pub(crate) fn invalid(expression: &str, diagnostics: impl Into<String>) -> Self {
        FhirError::new(StatusCode::BAD_REQUEST, "invalid", diagnostics).at(expression)
    }

    /// 400 for a search parameter this server does not know or a value it cannot use.
    pub(crate) fn unsupported_param(name: &str) -> Self {
        FhirError::new(
            StatusCode::BAD_REQUEST,
            "not-supported",
            format!("search parameter '{name}' is not supported here"),
        )
        .at(name)
    }

    pub(crate) fn not_found(resource_type: &str, id: &str) -> Self {
        FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{resource_type}/{id} is not known"),
        )
    }

    pub(crate) fn forbidden() -> Self {
        FhirError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You do not have permission to perform this action.",
        )
    }

    /// The answer for a policy denial of `resource_type/id`.
    pub(crate) fn denied(denial: Denial, resource_type: &str, id: &str) -> Self {
        match denial {
            Denial::Forbidden => FhirError::forbidden(),
            Denial::NotFound => FhirError::not_found(resource_type, id),
            Denial::MethodNotAllowed => FhirError::method_not_allowed(),
        }
    }

    pub(crate) fn method_not_allowed() -> Self {
        FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            "this interaction is not supported for this resource",
        )
    }

    /// Names the element or parameter at fault.
    pub(crate) fn at(mut self, expression: &str) -> Self {
        self.expression = Some(expression.to_owned());
        self
    }

    /// Adds a machine reason.
    pub(crate) fn because(mut self, reason: &str) -> Self {
        self.reasons.push(reason.to_owned());
        self
    }

    /// The `OperationOutcome` body.
    pub(crate) fn outcome(&self) -> Value {
        let mut issue = json!({
            "severity": if self.status.is_server_error() { "fatal" } else { "error" },
            "code": self.code,
            "diagnostics": self.diagnostics,
        });
        if let Some(expression) = &self.expression {
            issue["expression"] = json!([expression]);
        }
        if !self.reasons.is_empty() {
            let coding: Vec<Value> = self
                .reasons
                .iter()
                .map(|code| json!({"system": REASON_SYSTEM, "code": code}))
                .collect();
            issue["details"] = json!({"coding": coding, "text": self.diagnostics});
        }
        json!({"resourceType": "OperationOutcome", "issue": [issue]})
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let mut response = fhir_response(self.status, &self.outcome());
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fhir\""),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<ApiError> for FhirError {
    fn from(error: ApiError) -> Self {
        use StatusCode as S;
        match error {
            ApiError::Validation(errors) => {
                let (field, messages) = errors
                    .fields()
                    .iter()
                    .next()
                    .map(|(field, messages)| (field.clone(), messages.join(" ")))
                    .unwrap_or_default();
                FhirError::invalid(&field, messages)
            }
            ApiError::BadRequest(body) => {
                FhirError::new(S::BAD_REQUEST, "invalid", body.to_string())
            }
            ApiError::Detail(detail) => FhirError::new(S::BAD_REQUEST, "invalid", detail),
            ApiError::Unauthenticated => FhirError::new(
                S::UNAUTHORIZED,
                "login",
                "Authentication credentials were not provided.",
            ),
            ApiError::InvalidToken(message) => FhirError::new(
                S::UNAUTHORIZED,
                "login",
                format!("Given token not valid: {message}"),
            ),
            ApiError::UserUnusable(which) => {
                FhirError::new(S::UNAUTHORIZED, "login", format!("User {which}"))
            }
            ApiError::Forbidden | ApiError::CsrfFailed => FhirError::forbidden(),
            ApiError::NotFound(model) => FhirError::new(
                S::NOT_FOUND,
                "not-found",
                format!("No {model} matches the given query."),
            ),
            ApiError::NotFoundPlain | ApiError::NotFoundDetail(_) => {
                FhirError::new(S::NOT_FOUND, "not-found", "Not found.")
            }
            ApiError::MethodNotAllowed(_) => FhirError::method_not_allowed(),
            ApiError::Conflict(detail) => FhirError::new(S::CONFLICT, "conflict", detail),
            ApiError::PayloadTooLarge => {
                FhirError::new(S::PAYLOAD_TOO_LARGE, "too-long", "Request body too large.")
            }
            ApiError::UnsupportedMediaType(kind) => FhirError::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "not-supported",
                format!("Unsupported media type \"{kind}\" in request."),
            ),
            ApiError::Throttled { retry_after_secs } => FhirError {
                retry_after: Some(retry_after_secs),
                ..FhirError::new(S::TOO_MANY_REQUESTS, "throttled", "Request was throttled.")
            },
            ApiError::Unavailable { retry_after_secs } => FhirError {
                retry_after: Some(retry_after_secs),
                ..FhirError::new(
                    S::SERVICE_UNAVAILABLE,
                    "transient",
                    "Concurrent changes collided; nothing was changed. Please retry.",
                )
            },
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "fhir request failed");
                FhirError::new(
                    S::INTERNAL_SERVER_ERROR,
                    "exception",
                    "Internal server error.",
                )
            }
            ApiError::PreconditionFailed(detail) => {
                FhirError::new(S::PRECONDITION_FAILED, "conflict", detail)
            }
        }
    }
}

impl From<StoreError> for FhirError {
    fn from(error: StoreError) -> Self {
        FhirError::from(ApiError::from(error))
    }
}
