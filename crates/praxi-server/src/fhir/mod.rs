//! FHIR R4 (JSON, `application/fhir+json`) under `/fhir/`: a second wire format over the same
//! policy, use cases and store as the REST API (docs/fhir.md).
//!
//! - `metadata.rs` — the `CapabilityStatement` (exactly what is routed here).
//! - `people.rs` — Patient, Practitioner (doctors), Location (rooms), Device (devices).
//! - `slots.rs` — Schedule (one per doctor) and Slot (free/busy computed by the scheduling
//!   engine, never stored; ids encode schedule, start and end).
//! - `appointments.rs` — Appointment read/search, create through
//!   `usecases::appointments::book`, cancel through its status (`usecases::appointments::cancel`).
//! - `search.rs` — search parameters (dates with prefixes, references), the searchset `Bundle`.
//! - `outcome.rs` — `FhirError`: every refusal is an `OperationOutcome`.
//!
//! Authentication is the API's (`AuthUser`: JWT bearer), permissions are rows of the RBAC
//! table (`praxi_domain::rbac::Area`), and reads of patient data write the API's audit rows
//! (ids and action only, `{"api": "fhir"}` in the meta).

mod appointments;
mod metadata;
mod outcome;
mod people;
mod search;
mod slots;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::{DateTime, Utc};
use praxi_domain::rbac::{Action, Area, Decision, Denial};
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::state::AppState;
use crate::usecases::Caller;

pub(crate) use outcome::{FhirError, FhirResult, fhir_response};

/// The FHIR version this server speaks.
pub(crate) const FHIR_VERSION: &str = "4.0.1";

/// Everything under `/fhir/`; unknown paths and methods answer an `OperationOutcome`.
pub(crate) fn router() -> Router<AppState> {
    let inner = Router::new()
        .merge(metadata::router())
        .merge(people::router())
        .merge(slots::router())
        .merge(appointments::router())
        .fallback(unknown_path);
    Router::new()
        .route("/fhir", any(unknown_path))
        .route("/fhir/", any(unknown_path))
        .nest("/fhir", inner)
}

async fn unknown_path(request: Request) -> Response {
    FhirError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no FHIR endpoint at {}", request.uri().path()),
    )
    .into_response()
}

/// The shared method fallback: 401 without credentials, else 405.
pub(crate) async fn unsupported_method(_user: FhirUser) -> FhirError {
    FhirError::method_not_allowed()
}

/// The authenticated caller of a FHIR request (the API's `AuthUser`; a missing or bad token
/// is a 401 `OperationOutcome`).
pub(crate) struct FhirUser(pub(crate) AuthUser);

impl FromRequestParts<AppState> for FhirUser {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, FhirError> {
        AuthUser::from_request_parts(parts, state)
            .await
            .map(FhirUser)
            .map_err(FhirError::from)
    }
}

impl FhirUser {
    /// The policy decision; a denial is a 403 (or the table's 404).
    pub(crate) fn require(&self, area: Area, action: Action) -> FhirResult<Decision> {
        match self.0.actor.decide(area, action) {
            Decision::Deny(Denial::MethodNotAllowed) => Err(FhirError::method_not_allowed()),
            // A denial at the collection level has no id to hide: always 403.
            Decision::Deny(_) => Err(FhirError::forbidden()),
            decision => Ok(decision),
        }
    }

    pub(crate) fn caller(&self) -> Caller {
        Caller::from(&self.0)
    }

    pub(crate) fn user_id(&self) -> i64 {
        self.0.user.id
    }
}

/// The service base URL as the client addressed it (`Bundle.entry.fullUrl`, `Location`):
/// `Host`, and `X-Forwarded-Proto` from a TLS-terminating proxy.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(',').next().unwrap_or("").trim().to_owned())
            .filter(|value| {
                !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
            })
    };
    let scheme = text("x-forwarded-proto")
        .filter(|proto| proto == "https" || proto == "http")
        .unwrap_or_else(|| "http".to_owned());
    // The reverse proxy passes the client's `Host` on (deploy/nginx-praxi.conf).
    let host = text(header::HOST.as_str()).unwrap_or_else(|| "localhost".to_owned());
    format!("{scheme}://{host}/fhir")
}

/// An instant as FHIR `instant`/`dateTime`: seconds and the practice zone's offset.
pub(crate) fn instant(value: DateTime<Utc>, state: &AppState) -> String {
    value
        .with_timezone(&state.tz())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `meta` of a stored resource.
pub(crate) fn meta(updated_at: DateTime<Utc>, state: &AppState) -> Value {
    json!({"lastUpdated": instant(updated_at, state)})
}

/// A single resource with the FHIR media type.
pub(crate) fn resource_response(resource: &Value) -> Response {
    fhir_response(StatusCode::OK, resource)
}
