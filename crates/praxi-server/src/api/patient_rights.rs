//! `/api/patients/{id}/export/` (DSGVO Art. 15) and `/api/patients/{id}/erase/` (Art. 17):
//! parse → `usecases::patient_rights` → render. Docs: docs/data-protection.md, docs/api.md.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area};
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::patient_rights::{self, EraseRequest, PatientExport, RightsRefusal};
use crate::usecases::{Caller, Failure};
use crate::wire;

const MODEL: &str = "Patient";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/patients/{id}/export/",
            get(export).fallback(method_fallback(Area::PatientRights)),
        )
        .route(
            "/api/patients/{id}/erase/",
            post(erase).fallback(method_fallback(Area::PatientRights)),
        )
}

fn refusal(failure: Failure<RightsRefusal>) -> ApiError {
    match failure {
        Failure::Refused(RightsRefusal::NotFound) => ApiError::NotFound(MODEL),
        Failure::Refused(RightsRefusal::ReasonMissing) => {
            ApiError::field("reason", "This field may not be blank.")
        }
        Failure::Refused(RightsRefusal::AlreadyErased) => {
            ApiError::Conflict("The patient has already been erased.".to_owned())
        }
        Failure::Refused(RightsRefusal::Retained { until }) => ApiError::Conflict(format!(
            "The legal retention period (§ 630f BGB, 10 years) runs until {until}; \
             send confirm_retention: true with a reason to erase anyway."
        )),
        Failure::Store(error) => error.into(),
    }
}

fn dt(instant: chrono::DateTime<chrono::Utc>, tz: Tz) -> Value {
    Value::String(wire::datetime(instant, tz))
}

/// The export as JSON (also the content of the web print page).
pub(crate) fn export_json(export: &PatientExport, tz: Tz) -> Value {
    let records = &export.records;
    let patient = &records.patient;
    json!({
        "generated_at": dt(export.generated_at, tz),
        "legal_basis": "DSGVO Art. 15",
        "retention_until": export.retention_until,
        "patient": {
            "id": patient.id,
            "first_name": patient.fields.first_name,
            "last_name": patient.fields.last_name,
            "birth_date": patient.fields.birth_date,
            "gender": patient.fields.gender,
            "phone": patient.fields.phone,
            "email": patient.fields.email,
            "created_at": wire::opt_datetime(patient.created_at, tz),
            "updated_at": wire::opt_datetime(patient.updated_at, tz),
        },
        "erasure": records.erasure.as_ref().map(|erasure| json!({
            "erased_at": dt(erasure.erased_at, tz),
            "retention_until": erasure.retention_until,
            "retention_overridden": erasure.retention_overridden,
        })),
        "appointments": records.appointments.iter().map(|row| json!({
            "id": row.id,
            "doctor": row.doctor_id,
            "appointment_type": row.type_id,
            "start_time": dt(row.start_time, tz),
            "end_time": dt(row.end_time, tz),
            "status": row.status,
            "is_no_show": row.is_no_show,
            "notes": row.notes,
            "created_at": dt(row.created_at, tz),
            "updated_at": dt(row.updated_at, tz),
        })).collect::<Vec<_>>(),
        "operations": records.operations.iter().map(|row| json!({
            "id": row.id,
            "primary_surgeon": row.primary_surgeon_id,
            "assistant": row.assistant_id,
            "anesthesist": row.anesthesist_id,
            "op_room": row.op_room_id,
            "op_type": row.op_type_id,
            "start_time": dt(row.start_time, tz),
            "end_time": dt(row.end_time, tz),
            "status": row.status,
            "notes": row.notes,
            "status_history": records.operation_events.iter()
                .filter(|event| event.operation_id == row.id)
                .map(|event| json!({
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "at": dt(event.at, tz),
                }))
                .collect::<Vec<_>>(),
            "created_at": dt(row.created_at, tz),
            "updated_at": dt(row.updated_at, tz),
        })).collect::<Vec<_>>(),
        "patient_flows": records.flows.iter().map(|row| json!({
            "id": row.id,
            "appointment": row.appointment_id,
            "operation": row.operation_id,
            "status": row.status,
            "arrival_time": wire::opt_datetime(row.arrival_time, tz),
            "notes": row.notes,
            "status_history": records.flow_events.iter()
                .filter(|event| event.flow_id == row.id)
                .map(|event| json!({
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "at": dt(event.at, tz),
                }))
                .collect::<Vec<_>>(),
            "created_at": dt(row.created_at, tz),
        })).collect::<Vec<_>>(),
        "notes": records.notes.iter().map(|row| json!({
            "id": row.id,
            "author_name": row.author_name,
            "author_role": row.author_role,
            "content": row.content,
            "created_at": dt(row.created_at, tz),
        })).collect::<Vec<_>>(),
        "documents": records.documents.iter().map(|row| json!({
            "id": row.id,
            "title": row.title,
            "doc_type": row.doc_type,
            "file": row.file,
            "note": row.note,
            "created_at": dt(row.created_at, tz),
        })).collect::<Vec<_>>(),
        "access_log": export.access_log.iter().map(|row| json!({
            "timestamp": dt(row.timestamp, tz),
            "user": row.user_id,
            "username": row.username,
            "role": row.role_name,
            "action": row.action,
            "request_id": row.request_id,
        })).collect::<Vec<_>>(),
    })
}

fn patient_id(id: i64) -> ApiResult<i32> {
    i32::try_from(id).map_err(|_| ApiError::NotFound(MODEL))
}

async fn export(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    auth.require(Area::PatientRights, Action::Read, MODEL)?;
    let export = patient_rights::export(&state, &Caller::from(&auth), patient_id(id)?)
        .await
        .map_err(refusal)?;
    Ok(Json(export_json(&export, state.tz())))
}

/// `POST /api/patients/{id}/erase/` `{reason, confirm_retention?}` (admin only).
async fn erase(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Response> {
    auth.require(Area::PatientRights, Action::Delete, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let reason = fields.required_string("reason");
    let confirm_retention = fields.opt_bool("confirm_retention").flatten();
    fields.finish()?;
    let request = EraseRequest {
        reason: reason.unwrap_or_default(),
        confirm_retention: confirm_retention.unwrap_or(false),
    };
    let outcome = patient_rights::erase(&state, &Caller::from(&auth), patient_id(id)?, &request)
        .await
        .map_err(refusal)?;
    let record = &outcome.record;
    Ok((
        StatusCode::OK,
        Json(json!({
            "patient_id": record.patient_id,
            "erased_at": wire::datetime(record.erased_at, state.tz()),
            "retention_until": record.retention_until,
            "retention_overridden": record.retention_overridden,
            "notes_deleted": outcome.notes_deleted,
            "documents_deleted": outcome.documents_deleted,
            "document_files": outcome.document_files,
        })),
    )
        .into_response())
}
