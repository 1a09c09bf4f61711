//! `/api/doctor-breaks/` (api.md §3.17): blocked time on one date, for one doctor or
//! practice-wide (`doctor: null`). Audits `doctor_break_list|create|view|update|delete`.
//!
//! Doctors see their own and the practice-wide breaks (scheduling.md W25: practice-wide
//! breaks block them too), edit and delete only their own (others: 404), and may not hand a
//! break to someone else (api.md §5 item 5). A doctor-specific break needs an active doctor.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::hours::{BREAK_COLOR, BreakChanges, check_doctor_unchanged};
use praxi_domain::rbac::{Action, Decision, Resource};
use praxi_store::hours::BreakRecord;
use serde_json::{Value, json};

use crate::api::practice_hours::{
    Mode, READ_ONLY, id_meta, page_request, read_bool, read_date, read_time, time_json, visibility,
};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "DoctorBreak";

/// Read-only fields of the break shape that clients may echo back.
const IGNORED: [&str; 4] = [READ_ONLY[0], READ_ONLY[1], READ_ONLY[2], "color"];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/doctor-breaks/",
            get(list)
                .post(create)
                .fallback(method_fallback(Resource::DoctorBreaks)),
        )
        .route(
            "/api/doctor-breaks/{id}/",
            get(detail)
                .put(replace)
                .patch(patch)
                .delete(delete)
                .fallback(method_fallback(Resource::DoctorBreaks)),
        )
}

fn read_json(record: &BreakRecord, state: &AppState) -> Value {
    let tz = state.tz();
    let fields = &record.fields;
    json!({
        "id": record.id,
        "doctor": fields.doctor_id,
        "date": fields.date,
        "start_time": time_json(fields.start_time),
        "end_time": time_json(fields.end_time),
        "reason": fields.reason,
        "color": BREAK_COLOR,
        "active": fields.active,
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
    let decision = auth.require(Resource::DoctorBreaks, Action::List, MODEL)?;
    let visibility = visibility(decision, &auth);
    let request = page_request(&uri)?;
    let count = state.store.count_breaks(visibility).await?;
    let (page, offset) = request.resolve(count)?;
    let rows = state
        .store
        .list_breaks(visibility, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("doctor_break_list", None, None))
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
    let decision = auth.require(Resource::DoctorBreaks, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    // Practice-wide breaks are visible to every doctor (they block them too).
    let visible = record
        .fields
        .doctor_id
        .is_none_or(|doctor| doctor == auth.user.id);
    AuthUser::check_own(decision, visible, MODEL)?;
    state
        .store
        .record_audit(&auth.audit("doctor_break_view", None, id_meta(id)))
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<BreakRecord> {
    state
        .store
        .doctor_break(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(fields: &mut Fields, mode: Mode) -> BreakChanges {
    let changes = BreakChanges {
        doctor_id: fields.opt_int("doctor"),
        date: read_date(fields, "date", mode),
        start_time: read_time(fields, "start_time", mode),
        end_time: read_time(fields, "end_time", mode),
        reason: fields.opt_string("reason"),
        active: read_bool(fields, "active"),
    };
    changes.check_fields(fields.errors_mut());
    changes
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Resource::DoctorBreaks, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&IGNORED);
    let changes = read_changes(&mut fields, Mode::Create);
    fields.finish()?;
    let row = changes.create()?;
    let record = state
        .store
        .create_break(row, state.now(), |id| {
            auth.audit("doctor_break_create", None, id_meta(id))
        })
        .await?;
    publish(&state, "break.created", record.id).await;
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
    let decision = auth.require(Resource::DoctorBreaks, Action::Update, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(
        decision,
        stored.fields.doctor_id == Some(auth.user.id),
        MODEL,
    )?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&IGNORED);
    let changes = read_changes(&mut fields, mode);
    if let Decision::OwnOnly(_) = decision {
        check_doctor_unchanged(fields.errors_mut(), auth.user.id, changes.doctor_id);
    }
    fields.finish()?;
    let record = state
        .store
        .update_break(
            id,
            changes,
            state.now(),
            &auth.audit("doctor_break_update", None, id_meta(id)),
        )
        .await?;
    publish(&state, "break.updated", record.id).await;
    Ok(Json(read_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(Resource::DoctorBreaks, Action::Delete, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(
        decision,
        stored.fields.doctor_id == Some(auth.user.id),
        MODEL,
    )?;
    state
        .store
        .delete_break(id, &auth.audit("doctor_break_delete", None, id_meta(id)))
        .await?;
    publish(&state, "break.deleted", id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Breaks are painted on the resource calendar: its live view re-reads.
async fn publish(state: &AppState, kind: &str, id: i64) {
    state
        .events
        .notify(crate::events::Board::ResourceCalendar, kind, id, None)
        .await;
}
