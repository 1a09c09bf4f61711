//! `/api/doctor-absences/` (api.md §3.16): whole-day absences of doctors, and the preview of
//! an absence's workdays, return date, vacation balance and affected bookings.
//! Audits `doctor_absence_list|create|view|update|delete`; the preview is not audited.
//!
//! Doctors see, edit and delete only their own absences (others: 404), may not create any and
//! may not hand one to someone else (api.md §5 item 5). The `doctor` must be an active doctor.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::absence::{ABSENCE_COLOR, AbsenceChanges, PreviewQuery, local_range};
use praxi_domain::hours::check_doctor_unchanged;
use praxi_domain::rbac::{Action, Decision, Resource};
use praxi_store::absences::{AbsenceRecord, AffectedBooking};
use serde_json::{Value, json};

use crate::api::practice_hours::{
    Mode, READ_ONLY, id_meta, page_request, query_param, read_bool, read_date, read_int, visibility,
};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "DoctorAbsence";

/// Read-only fields of the absence shape that clients may echo back.
const IGNORED: [&str; 4] = [READ_ONLY[0], READ_ONLY[1], READ_ONLY[2], "color"];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/doctor-absences/",
            get(list)
                .post(create)
                .fallback(method_fallback(Resource::DoctorAbsences)),
        )
        // A literal segment: axum prefers it over `{id}`.
        .route(
            "/api/doctor-absences/preview/",
            get(preview).fallback(method_fallback(Resource::AbsencePreview)),
        )
        .route(
            "/api/doctor-absences/{id}/",
            get(detail)
                .put(replace)
                .patch(patch)
                .delete(delete)
                .fallback(method_fallback(Resource::DoctorAbsences)),
        )
}

fn read_json(record: &AbsenceRecord, state: &AppState) -> Value {
    let tz = state.tz();
    let fields = &record.fields;
    json!({
        "id": record.id,
        "doctor": fields.doctor_id,
        "start_date": fields.start_date,
        "end_date": fields.end_date,
        "reason": fields.reason,
        "color": ABSENCE_COLOR,
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
    let decision = auth.require(Resource::DoctorAbsences, Action::List, MODEL)?;
    let visibility = visibility(decision, &auth);
    let request = page_request(&uri)?;
    let count = state.store.count_absences(visibility).await?;
    let (page, offset) = request.resolve(count)?;
    let rows = state
        .store
        .list_absences(visibility, offset, request.page_size)
        .await?;
    state
        .store
        .record_audit(&auth.audit("doctor_absence_list", None, None))
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
    let decision = auth.require(Resource::DoctorAbsences, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    AuthUser::check_own(decision, record.fields.doctor_id == auth.user.id, MODEL)?;
    state
        .store
        .record_audit(&auth.audit("doctor_absence_view", None, id_meta(id)))
        .await?;
    Ok(Json(read_json(&record, &state)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<AbsenceRecord> {
    state
        .store
        .absence(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

fn read_changes(fields: &mut Fields, mode: Mode) -> AbsenceChanges {
    let changes = AbsenceChanges {
        doctor_id: read_int(fields, "doctor", mode),
        start_date: read_date(fields, "start_date", mode),
        end_date: read_date(fields, "end_date", mode),
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
    auth.require(Resource::DoctorAbsences, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&IGNORED);
    let changes = read_changes(&mut fields, Mode::Create);
    fields.finish()?;
    let row = changes.create()?;
    let record = state
        .store
        .create_absence(row, state.now(), |id| {
            auth.audit("doctor_absence_create", None, id_meta(id))
        })
        .await?;
    publish(&state, "absence.created", record.id).await;
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
    let decision = auth.require(Resource::DoctorAbsences, Action::Update, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(decision, stored.fields.doctor_id == auth.user.id, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&IGNORED);
    let changes = read_changes(&mut fields, mode);
    if let Decision::OwnOnly(_) = decision {
        check_doctor_unchanged(
            fields.errors_mut(),
            auth.user.id,
            changes.doctor_id.map(Some),
        );
    }
    fields.finish()?;
    let record = state
        .store
        .update_absence(
            id,
            changes,
            state.now(),
            &auth.audit("doctor_absence_update", None, id_meta(id)),
        )
        .await?;
    publish(&state, "absence.updated", record.id).await;
    Ok(Json(read_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(Resource::DoctorAbsences, Action::Delete, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(decision, stored.fields.doctor_id == auth.user.id, MODEL)?;
    state
        .store
        .delete_absence(id, &auth.audit("doctor_absence_delete", None, id_meta(id)))
        .await?;
    publish(&state, "absence.deleted", id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the preview parameters. Empty values count as missing; malformed or impossible
/// values are a 400 naming the parameter (the original answered 500 to `2025-02-30`).
fn preview_query(uri: &Uri) -> ApiResult<PreviewQuery> {
    let text = |name: &str| query_param(uri, name).filter(|value| !value.trim().is_empty());
    let id = |name: &str| -> ApiResult<Option<i64>> {
        text(name)
            .map(|value| {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::Detail(format!("{name} must be an integer.")))
            })
            .transpose()
    };
    let date = |name: &str| {
        text(name)
            .map(|value| {
                parse_date_str(&value).ok_or_else(|| {
                    ApiError::Detail(format!("{name} must be a valid date (YYYY-MM-DD)."))
                })
            })
            .transpose()
    };
    Ok(PreviewQuery {
        doctor_id: id("doctor_id")?,
        start_date: date("start_date")?,
        end_date: date("end_date")?,
        reason: query_param(uri, "reason"),
        exclude_id: id("exclude_id")?,
    })
}

fn booking_json(booking: &AffectedBooking, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "model": booking.kind.model(),
        "id": booking.id,
        "start_time": wire::datetime(booking.start_time, tz),
        "end_time": wire::datetime(booking.end_time, tz),
    })
}

/// `GET /api/doctor-absences/preview/`: the original's three numbers plus (additive)
/// `affected_appointments`, the doctor's non-cancelled appointments and operations in the
/// range (ids and times only). `exclude_id` leaves the absence being edited out of the
/// vacation balance.
async fn preview(
    State(state): State<AppState>,
    auth: AuthUser,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    auth.require(Resource::AbsencePreview, Action::List, MODEL)?;
    let query = preview_query(&uri)?;
    let ledger = match query.doctor_id {
        Some(doctor_id) => state.store.vacation_ledger(doctor_id).await?,
        None => None,
    };
    let numbers = query.preview(ledger.as_ref(), state.today());
    // Bookings follow the appointment list's rule: a doctor sees only their own.
    let may_see = |doctor_id: i64| match auth.actor.decide(Resource::Appointments, Action::List) {
        Decision::Allow => true,
        Decision::Filtered | Decision::OwnOnly(_) => doctor_id == auth.user.id,
        Decision::Deny(_) => false,
    };
    let range = query
        .range()
        .and_then(|(start, end)| local_range(state.tz(), start, end));
    let affected = match (query.doctor_id, range) {
        (Some(doctor_id), Some((from, to))) if may_see(doctor_id) => {
            state.store.affected_bookings(doctor_id, from, to).await?
        }
        _ => Vec::new(),
    };
    Ok(Json(json!({
        "duration_workdays": numbers.duration_workdays,
        "return_date": numbers.return_date,
        "remaining_days": numbers.remaining_days,
        "affected_appointments": affected
            .iter()
            .map(|booking| booking_json(booking, &state))
            .collect::<Vec<_>>(),
    })))
}

/// Absences are painted on the resource calendar: its live view re-reads.
async fn publish(state: &AppState, kind: &str, id: i64) {
    state
        .events
        .notify(crate::events::Board::ResourceCalendar, kind, id, None)
        .await;
}
