//! The REST API under `/api/`, one module per resource, each with its own `router()`.

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area, Decision};
use serde_json::json;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) mod appointment_types;
pub(crate) mod appointments;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod availability;
pub(crate) mod calendar;
pub(crate) mod calendar_feeds;
pub(crate) mod doctor_absences;
pub(crate) mod doctor_breaks;
pub(crate) mod doctor_hours;
pub(crate) mod doctors;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod holds;
pub(crate) mod holidays;
pub(crate) mod kpis;
pub(crate) mod master_data;
pub(crate) mod op_dashboard;
pub(crate) mod op_stats;
pub(crate) mod op_timeline;
pub(crate) mod openapi;
pub(crate) mod operation_types;
pub(crate) mod operations;
pub(crate) mod params;
pub(crate) mod patient_flow;
pub(crate) mod patient_rights;
pub(crate) mod patients;
pub(crate) mod practice_hours;
pub(crate) mod reminders;
pub(crate) mod resource_calendar;
pub(crate) mod resources;
pub(crate) mod two_factor;
pub(crate) mod users;

/// All API routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(events::router())
        .merge(auth::router())
        .merge(two_factor::router())
        .merge(patients::router())
        .merge(patient_rights::router())
        .merge(patient_flow::router())
        .merge(holds::router())
        .merge(appointments::router())
        .merge(appointment_types::router())
        .merge(calendar::router())
        .merge(availability::router())
        .merge(operation_types::router())
        .merge(operations::router())
        .merge(op_dashboard::router())
        .merge(op_timeline::router())
        .merge(op_stats::router())
        .merge(kpis::router())
        .merge(resources::router())
        .merge(resource_calendar::router())
        .merge(practice_hours::router())
        .merge(doctor_hours::router())
        .merge(doctor_breaks::router())
        .merge(doctor_absences::router())
        .merge(doctors::router())
        .merge(users::router())
        .merge(calendar_feeds::router())
        .merge(audit::router())
        .merge(holidays::router())
        .merge(reminders::router())
        .merge(openapi::router())
}

/// A numeric path id (`<int:pk>`); anything else is a 404 like the original.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFoundPlain)?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| value.to_owned())
            .ok_or(ApiError::NotFoundPlain)?;
        if raw.is_empty() || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ApiError::NotFoundPlain);
        }
        raw.parse().map(PathId).map_err(|_| ApiError::NotFoundPlain)
    }
}

/// Query parameters read into `T` (all of whose fields are optional strings), like Django's
/// `QueryDict.get`: a repeated parameter is not an error, its last value wins. Anything `T`
/// cannot take is a JSON 400, never axum's plain-text rejection.
#[derive(Debug, Clone)]
pub(crate) struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut values = serde_json::Map::new();
        for (name, value) in parts
            .uri
            .query()
            .map(crate::wire::url_pairs)
            .unwrap_or_default()
        {
            values.insert(name, serde_json::Value::String(value));
        }
        serde_json::from_value(serde_json::Value::Object(values))
            .map(Query)
            .map_err(|error| ApiError::Detail(format!("Invalid query string: {error}")))
    }
}

/// The answer for a method a route does not implement, in DRF's order: 401 without
/// credentials, 403 when the caller may not write here, else 405. OPTIONS is answered 200 with
/// an `Allow` header.
pub(crate) fn method_fallback(
    resource: Area,
) -> impl Fn(State<AppState>, Request) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |State(state): State<AppState>, request: Request| {
        Box::pin(async move {
            let method = request.method().clone();
            let (mut parts, _body) = request.into_parts();
            let auth = match AuthUser::from_request_parts(&mut parts, &state).await {
                Ok(auth) => auth,
                Err(error) => return error.into_response(),
            };
            if method == Method::OPTIONS {
                let mut response = StatusCode::OK.into_response();
                response.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                );
                return response;
            }
            let action = if method == Method::GET || method == Method::HEAD {
                Action::List
            } else {
                Action::Create
            };
            match auth.actor.decide(resource, action) {
                Decision::Deny(_) => ApiError::Forbidden.into_response(),
                _ => ApiError::MethodNotAllowed(method.to_string()).into_response(),
            }
        })
    }
}

/// Unknown `/api/...` paths: a GET without the trailing slash is redirected (301) as Django
/// does; everything else is a JSON 404 (api.md §1.1, §5 item 22).
pub(crate) async fn not_found(request: Request) -> Response {
    let uri = request.uri();
    let path = uri.path();
    if (request.method() == Method::GET || request.method() == Method::HEAD) && !path.ends_with('/')
    {
        let location = match uri.query() {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        if let Ok(value) = HeaderValue::from_str(&location) {
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            return response;
        }
    }
    not_found_response()
}

/// The DRF 404 body.
pub(crate) fn not_found_response() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
}
