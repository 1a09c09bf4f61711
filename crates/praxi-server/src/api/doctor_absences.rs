//! `/api/doctor-absences/` (api.md §3.16): whole-day absences of doctors, and the preview of
//! an absence's workdays, return date, vacation balance and affected bookings.
//! Audits `doctor_absence_list|create|view|update|delete`; the preview is not audited.
//! Routes and work of the table: `api::master_data`, `usecases::master_data`.
//!
//! Doctors see, edit and delete only their own absences (others: 404), may not create any and
//! may not hand one to someone else (api.md §5 item 5). The `doctor` must be an active doctor.
//! Writes announce `absence.*` on the resource calendar's board.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::absence::{ABSENCE_COLOR, PreviewQuery, local_range};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::absences::AffectedBooking;
use serde_json::{Value, json};

use crate::api::master_data::{self, ApiTable};
use crate::api::method_fallback;
use crate::api::practice_hours::query_param;
use crate::auth::AuthUser;
use crate::body::parse_date_str;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::master_data::{Absences, MasterData, Record};
use crate::wire;

pub(crate) fn router() -> Router<AppState> {
    master_data::router::<Absences>()
        // A literal segment: axum prefers it over `{id}`.
        .route(
            "/api/doctor-absences/preview/",
            get(preview).fallback(method_fallback(Area::AbsencePreview)),
        )
}

impl ApiTable for Absences {
    const PATH: &'static str = "/api/doctor-absences/";

    fn json(record: &Record<Self>, state: &AppState) -> Value {
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
    auth.require(Area::AbsencePreview, Action::List, Absences::MODEL)?;
    let query = preview_query(&uri)?;
    let ledger = match query.doctor_id {
        Some(doctor_id) => state.store.vacation_ledger(doctor_id).await?,
        None => None,
    };
    let numbers = query.preview(ledger.as_ref(), state.today());
    // Bookings follow the appointment list's rule: a doctor sees only their own.
    let may_see = |doctor_id: i64| match auth.actor.decide(Area::Appointments, Action::List) {
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
