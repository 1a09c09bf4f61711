//! `/api/appointments/holds/`: slot holds (issue #14, beyond the original). `POST` holds a
//! slot for `ttl_seconds` (default 300, at most 1800) and answers 201 with the hold; a slot
//! that is not free answers 400 with the "Scheduling conflicts detected" body. `DELETE
//! …/holds/{id}/` releases it. Book it with `POST /api/appointments/` and `"hold_id"`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_store::holds::HoldRecord;
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::holds::{self, HoldInput, HoldRefusal};
use crate::usecases::{Caller, Failure};
use crate::wire;

const MODEL: &str = "SlotHold";
const RESOURCE: Area = Area::SlotHolds;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/appointments/holds/",
            post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/appointments/holds/{id}/",
            delete(release).fallback(method_fallback(RESOURCE)),
        )
}

fn hold_json(hold: &HoldRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": hold.id,
        "doctor": hold.doctor_id,
        "patient_id": hold.patient_id,
        "resource_ids": hold.resource_ids,
        "start_time": wire::datetime(hold.start_time, tz),
        "end_time": wire::datetime(hold.end_time, tz),
        "expires_at": wire::datetime(hold.expires_at, tz),
    })
}

fn api_error(failure: Failure<HoldRefusal>) -> ApiError {
    match failure {
        Failure::Refused(HoldRefusal::Invalid(field, message)) => ApiError::field(field, message),
        Failure::Refused(HoldRefusal::Denied(denial)) => ApiError::from_denial(denial, MODEL),
        Failure::Refused(HoldRefusal::NotFound) => ApiError::NotFound(MODEL),
        Failure::Refused(HoldRefusal::Conflict(conflicts)) => {
            let mut body = wire::scheduling_conflicts_json(conflicts.conflicts());
            if let Value::Object(map) = &mut body {
                map.insert("code".to_owned(), json!("slot_unavailable"));
                // Every reason, including hours, closed days, absences and breaks.
                let reasons: Vec<&str> = conflicts.conflicts().iter().map(|c| c.code()).collect();
                map.insert("reasons".to_owned(), json!(reasons));
            }
            ApiError::BadRequest(body)
        }
        Failure::Store(error) => error.into(),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let decision = auth.require(RESOURCE, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    for name in ["doctor", "start_time", "end_time"] {
        if !fields.has(name) {
            fields.errors_mut().add(name, "This field is required.");
        }
    }
    let input = HoldInput {
        doctor: fields.opt_int("doctor").flatten(),
        patient_id: fields.opt_int("patient_id").flatten(),
        type_id: fields.opt_int("type").flatten(),
        resource_ids: fields.opt_id_list("resource_ids"),
        start_time: fields.opt_datetime("start_time").flatten(),
        end_time: fields.opt_datetime("end_time").flatten(),
        ttl_seconds: fields.opt_int("ttl_seconds").flatten(),
    };
    fields.finish()?;
    let hold = holds::create(&state, &Caller::from(&auth), decision, input)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(hold_json(&hold, &state))))
}

async fn release(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(RESOURCE, Action::Delete, MODEL)?;
    holds::release(&state, &Caller::from(&auth), decision, id)
        .await
        .map_err(api_error)?;
    Ok(StatusCode::NO_CONTENT)
}
