//! `/api/reminders/`: appointment reminders as staff see them (issue #14; beyond the
//! original). The list shows ids, times and states only; `POST /api/reminders/{id}/retry/`
//! queues a failed reminder again. `/api/patients/{id}/reminders/` reads and sets a patient's
//! opt-out (`{"reminder_opt_out": bool}`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_domain::reminder::OutboxStatus;
use praxi_store::outbox::{OutboxEntry, OutboxFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::params::int_param;
use crate::api::{PathId, Query, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::reminders::{self, RetryRefusal};
use crate::wire;

const MODEL: &str = "Reminder";
const RESOURCE: Area = Area::Reminders;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/reminders/",
            get(list).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/reminders/{id}/retry/",
            post(retry).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/patients/{id}/reminders/",
            get(opt_out)
                .put(set_opt_out)
                .patch(set_opt_out)
                .fallback(method_fallback(Area::Patients)),
        )
}

pub(crate) fn entry_json(entry: &OutboxEntry, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": entry.id,
        "kind": entry.kind,
        "appointment_id": entry.appointment_id,
        "patient_id": entry.patient_id,
        "status": entry.status.as_str(),
        "due_at": wire::datetime(entry.due_at, tz),
        "next_attempt_at": wire::datetime(entry.next_attempt_at, tz),
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "sent_at": wire::opt_datetime(entry.sent_at, tz),
        "created_at": wire::datetime(entry.created_at, tz),
        "updated_at": wire::datetime(entry.updated_at, tz),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    appointment_id: Option<String>,
    patient_id: Option<String>,
}

fn id32(name: &str, value: Option<&str>) -> ApiResult<Option<i32>> {
    match int_param(name, value)? {
        None => Ok(None),
        Some(id) => i32::try_from(id)
            .map(Some)
            .map_err(|_| ApiError::field(name, "Invalid id.")),
    }
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            ApiError::field("status", format!("\"{text}\" is not a valid choice."))
        })?),
    };
    let filter = OutboxFilter {
        status,
        appointment_id: id32("appointment_id", query.appointment_id.as_deref())?,
        patient_id: id32("patient_id", query.patient_id.as_deref())?,
        limit: None,
    };
    let entries = reminders::list(&state, &filter).await?;
    Ok(Json(Value::Array(
        entries.iter().map(|e| entry_json(e, &state)).collect(),
    )))
}

async fn retry(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    match reminders::retry(&state, &Caller::from(&auth), id).await? {
        Ok(entry) => Ok(Json(entry_json(&entry, &state))),
        Err(RetryRefusal::NotFound) => Err(ApiError::NotFound(MODEL)),
        Err(RetryRefusal::NotFailed) => Err(ApiError::field(
            "status",
            "Only a failed reminder can be sent again.",
        )),
    }
}

fn patient_id(id: i64) -> ApiResult<i32> {
    i32::try_from(id).map_err(|_| ApiError::NotFound("Patient"))
}

async fn opt_out(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::Read, "Patient")?;
    let id = patient_id(id)?;
    let flag = reminders::opt_out(&state, &Caller::from(&auth), id)
        .await?
        .ok_or(ApiError::NotFound("Patient"))?;
    Ok(Json(json!({"patient_id": id, "reminder_opt_out": flag})))
}

async fn set_opt_out(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Patients, Action::Update, "Patient")?;
    let id = patient_id(id)?;
    let mut fields = Fields::new(body, state.tz());
    let flag = fields.opt_bool("reminder_opt_out");
    if flag.is_none() {
        fields
            .errors_mut()
            .add("reminder_opt_out", "This field is required.");
    } else if flag == Some(None) && !fields.errors_mut().contains("reminder_opt_out") {
        fields
            .errors_mut()
            .add("reminder_opt_out", "This field may not be null.");
    }
    fields.finish()?;
    let Some(Some(flag)) = flag else {
        return Err(ApiError::field(
            "reminder_opt_out",
            "Must be a valid boolean.",
        ));
    };
    if !reminders::set_opt_out(&state, &Caller::from(&auth), id, flag).await? {
        return Err(ApiError::NotFound("Patient"));
    }
    Ok(Json(json!({"patient_id": id, "reminder_opt_out": flag})))
}
