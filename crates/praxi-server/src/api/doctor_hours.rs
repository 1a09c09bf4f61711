//! `/api/doctor-hours/` (api.md §3.15): recurring weekly availability of each doctor.
//! Doctors see only their own rows (others: 404) and cannot write; admins and assistants
//! manage all. Audits `doctor_hours_list|create|view|update|delete`.
//!
//! Fixes: the `doctor` must be an active user with role doctor (api.md §5 item 5), and active
//! windows of one doctor may not overlap on a weekday (data-model.md §15 item 10).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::hours::{DoctorHoursChanges, HoursChanges};
use praxi_domain::rbac::{Action, Resource};
use praxi_store::hours::DoctorHoursRecord;
use serde_json::{Value, json};

use crate::api::practice_hours::{
    Mode, READ_ONLY, id_meta, page_request, read_bool, read_int, read_time, time_json, visibility,
};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "DoctorHours";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/doctor-hours/",
            get(list)
                .post(create)
                .fallback(method_fallback(Resource::DoctorHours)),
        )
        .route(
            "/api/doctor-hours/{id}/",
            get(detail)
                .put(replace)
                .patch(patch)
                .delete(delete)
                .fallback(method_fallback(Resource::DoctorHours)),
        )
}

fn read_json(record: &DoctorHoursRecord, state: &AppState) -> Value {
    let tz = state.tz();
    let window = &record.fields.window;
    json!({
        "id": record.id,
        "doctor": record.fields.doctor_id,
        "weekday": window.weekday,
        "start_time": time_json(window.start_time),
        "end_time": time_json(window.end_time),
        "active": window.active,
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::DoctorHours, Action::List, MODEL)?;
    let visibility = visibility(decision, &auth);
    let request = page_request(&uri)?;
    let count = state.store.count_doctor_hours(visibility).await?;
    let (page, offset) = request.resolve(count)?;
    let rows = state
        .store
        .list_doctor_hours(visibility, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("doctor_hours_list", None, None))
        .await?;
    let results = rows.iter().map(|row| read_json(row, &state)).collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page,
        request.page_size,
        results,
    )))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::DoctorHours, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    AuthUser::check_own(decision, record.fields.doctor_id == auth.user.id, MODEL)?;
    state
        .store
        .record_audit(&auth.audit("doctor_hours_view", None, id_meta(id)))
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<DoctorHoursRecord> {
    state
        .store
        .doctor_hours(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(fields: &mut Fields, mode: Mode) -> DoctorHoursChanges {
    let changes = DoctorHoursChanges {
        doctor_id: read_int(fields, "doctor", mode),
        window: HoursChanges {
            weekday: read_int(fields, "weekday", mode),
            start_time: read_time(fields, "start_time", mode),
            end_time: read_time(fields, "end_time", mode),
            active: read_bool(fields, "active"),
        },
    };
    changes.check_fields(fields.errors_mut());
    changes
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Resource::DoctorHours, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = read_changes(&mut fields, Mode::Create);
    fields.finish()?;
    let row = changes.create()?;
    let record = state
        .store
        .create_doctor_hours(row, state.now(), |id| {
            auth.audit("doctor_hours_create", None, id_meta(id))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(read_json(&record, &state))))
}

async fn replace(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, Mode::Replace).await
}

async fn patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, Mode::Patch).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: JsonBody,
    mode: Mode,
) -> ApiResult<Json<Value>> {
    auth.require(Resource::DoctorHours, Action::Update, MODEL)?;
    find(&state, id).await?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let changes = read_changes(&mut fields, mode);
    fields.finish()?;
    let record = state
        .store
        .update_doctor_hours(
            id,
            changes,
            state.now(),
            &auth.audit("doctor_hours_update", None, id_meta(id)),
        )
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    auth.require(Resource::DoctorHours, Action::Delete, MODEL)?;
    state
        .store
        .delete_doctor_hours(id, &auth.audit("doctor_hours_delete", None, id_meta(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
