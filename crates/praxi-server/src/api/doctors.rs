//! `/api/doctors/` and `/api/appointments/doctors/` (api.md §3.3, identical): active doctors as
//! a plain array `[{id, name, calendar_color}]`, optionally filtered by `q`. Not audited, not
//! paginated. There is no create endpoint: other methods are 405 for users with an API role.

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area};
use serde_json::{Value, json};

use crate::api::practice_hours::query_param;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const MODEL: &str = "User";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/doctors/", get(list).fallback(other_method))
        .route(
            "/api/appointments/doctors/",
            get(list).fallback(other_method),
        )
}

async fn list(State(state): State<AppState>, auth: AuthUser, uri: Uri) -> ApiResult<Json<Value>> {
    auth.require(Area::Doctors, Action::List, MODEL)?;
    let q = query_param(&uri, "q").unwrap_or_default();
    let doctors = state.store.doctor_choices(&q).await?;
    Ok(Json(Value::Array(
        doctors
            .into_iter()
            .map(|doctor| {
                json!({
                    "id": doctor.id,
                    "name": doctor.name,
                    "calendar_color": doctor.calendar_color,
                })
            })
            .collect(),
    )))
}

/// DRF's order for a method the view lacks: 401 without credentials, 403 for users who may
/// not read the list, else 405. (The shared fallback would answer 403: the policy has no
/// write rights here, but the original's read-only view answers 405.)
async fn other_method(auth: AuthUser, method: Method) -> ApiResult<Response> {
    if method == Method::OPTIONS {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        return Ok(response);
    }
    auth.require(Area::Doctors, Action::List, MODEL)?;
    Err(ApiError::MethodNotAllowed(method.to_string()))
}
