//! `/api/calendar/day|week|month/` (api.md §3.5, scheduling.md §2.5 and §1.6): the bookings,
//! absences, breaks and resources of a day, a Monday–Sunday week or a month in the practice
//! zone, and whether each doctor still has a free 30-minute slot in it.
//!
//! The store reads everything with a fixed number of statements and the engine computes the
//! availability (`praxi_store::calendar`); this module parses the query, applies the policy
//! (doctors see only their own rows) and renders the original's shapes. Each call writes two
//! audit rows: `calendar_day|week|month`, then `doctor_substitution_list`.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use praxi_domain::absence::ABSENCE_COLOR;
use praxi_domain::hours::BREAK_COLOR;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{RangeAvailability, UnavailableReason};
use praxi_store::calendar::{
    CalendarAbsence, CalendarBreak, CalendarData, CalendarFilter, CalendarRange, CalendarView,
};
use serde_json::{Value, json};

use crate::api::appointments::{appointment_json, resource_json};
use crate::api::method_fallback;
use crate::api::operations::operation_json;
use crate::auth::AuthUser;
use crate::body::parse_date_str;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Appointment";
const DATE_REQUIRED: &str = "date query parameter is required (YYYY-MM-DD).";
const DATE_FORMAT: &str = "date must be in format YYYY-MM-DD.";

pub(crate) fn router() -> Router<AppState> {
    // Other methods are answered like the original's AppointmentPermission, which guards the
    // calendar views: 405 for the roles that may write appointments, else 403.
    Router::new()
        .route(
            "/api/calendar/day/",
            get(day).fallback(method_fallback(Area::Appointments)),
        )
        .route(
            "/api/calendar/week/",
            get(week).fallback(method_fallback(Area::Appointments)),
        )
        .route(
            "/api/calendar/month/",
            get(month).fallback(method_fallback(Area::Appointments)),
        )
}

/// The value of a query parameter (the last one wins, like Django's `QueryDict.get`), trimmed;
/// `None` when absent or empty.
pub(crate) fn query_param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// An optional integer parameter; anything else is 400 `"<name> must be an integer."`.
fn int_param(pairs: &[(String, String)], name: &str) -> ApiResult<Option<i64>> {
    query_param(pairs, name)
        .map(|text| {
            text.parse()
                .map_err(|_| ApiError::Detail(format!("{name} must be an integer.")))
        })
        .transpose()
}

/// The parsed query of a calendar request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CalendarParams {
    date: NaiveDate,
    doctor_id: Option<i64>,
    patient_id: Option<i64>,
    type_id: Option<i64>,
}

fn parse_params(query: Option<&str>) -> ApiResult<CalendarParams> {
    let pairs = wire::url_pairs(query.unwrap_or_default());
    let date =
        query_param(&pairs, "date").ok_or_else(|| ApiError::Detail(DATE_REQUIRED.to_owned()))?;
    let date = parse_date_str(&date).ok_or_else(|| ApiError::Detail(DATE_FORMAT.to_owned()))?;
    Ok(CalendarParams {
        date,
        doctor_id: int_param(&pairs, "doctor_id")?,
        patient_id: int_param(&pairs, "patient_id")?,
        type_id: int_param(&pairs, "type_id")?,
    })
}

async fn day(state: State<AppState>, auth: AuthUser, query: RawQuery) -> ApiResult<Json<Value>> {
    calendar(state, auth, query, CalendarView::Day).await
}

async fn week(state: State<AppState>, auth: AuthUser, query: RawQuery) -> ApiResult<Json<Value>> {
    calendar(state, auth, query, CalendarView::Week).await
}

async fn month(state: State<AppState>, auth: AuthUser, query: RawQuery) -> ApiResult<Json<Value>> {
    calendar(state, auth, query, CalendarView::Month).await
}

async fn calendar(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
    view: CalendarView,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::Calendar, Action::List, MODEL)?;
    let params = parse_params(query.as_deref())?;
    let tz = state.tz();
    let range = CalendarRange::new(view, params.date, tz)
        .ok_or_else(|| ApiError::Detail(DATE_FORMAT.to_owned()))?;
    let filter = CalendarFilter {
        doctor_id: params.doctor_id,
        patient_id: params.patient_id,
        type_id: params.type_id,
        own_doctor: (decision == Decision::Filtered).then_some(auth.user.id),
    };
    let data = state
        .store
        .calendar(tz, &range, &filter, state.now())
        .await?;

    let patient_id = params.patient_id.and_then(|id| i32::try_from(id).ok());
    let view_meta = json!({
        "date": params.date,
        "doctor_id": params.doctor_id,
        "patient_id": params.patient_id,
        "type_id": params.type_id,
        "appointments": data.appointments.len(),
        "operations": data.operations.len(),
    });
    let listed_meta = json!({
        "doctor_ids": data.doctors.iter().map(|(doctor, _)| doctor.id).collect::<Vec<_>>(),
        "available": data.doctors.iter().filter(|(_, a)| a.is_available()).count(),
    });
    state
        .store
        .record_read_audits(&[
            auth.audit(view.audit_action(), patient_id, Some(view_meta))
                .with_subjects(data.patient_ids()),
            auth.audit("doctor_substitution_list", patient_id, Some(listed_meta)),
        ])
        .await?;
    Ok(Json(calendar_json(&range, &data, &state)))
}

/// The `reason` of an unavailable doctor on the wire. The engine's extra `elapsed` (all working
/// time of the range is already past) is reported as `busy`, one of the four values clients
/// know.
fn reason_wire(availability: &RangeAvailability) -> Value {
    match availability.reason() {
        None => Value::Null,
        Some(UnavailableReason::Elapsed) => json!(UnavailableReason::Busy.as_str()),
        Some(reason) => json!(reason.as_str()),
    }
}

fn calendar_json(range: &CalendarRange, data: &CalendarData, state: &AppState) -> Value {
    let tz = state.tz();
    let resource_bookings: Vec<Value> = data
        .appointments
        .iter()
        .flat_map(|appointment| {
            appointment.resources.iter().map(move |resource| {
                json!({
                    "appointment_id": appointment.id,
                    "resource_id": resource.id,
                    "start_time": wire::datetime(appointment.start_time, tz),
                    "end_time": wire::datetime(appointment.end_time, tz),
                })
            })
        })
        .collect();
    let available_doctors: Vec<Value> = data
        .doctors
        .iter()
        .map(|(doctor, availability)| {
            json!({
                "id": doctor.id,
                "name": doctor.display_name(),
                "color": doctor.calendar_color,
                "available": availability.is_available(),
                "reason": reason_wire(availability),
            })
        })
        .collect();
    json!({
        "range_start": wire::datetime(range.range_start(), tz),
        "range_end": wire::datetime(range.range_end(), tz),
        "appointments": data.appointments.iter().map(|a| appointment_json(a, state)).collect::<Vec<_>>(),
        "operations": data.operations.iter().map(|o| operation_json(o, state)).collect::<Vec<_>>(),
        "absences": data.absences.iter().map(|a| absence_json(a, state)).collect::<Vec<_>>(),
        "breaks": data.breaks.iter().map(|b| break_json(b, state)).collect::<Vec<_>>(),
        "resources": data.resources.iter().map(|r| resource_json(r, state)).collect::<Vec<_>>(),
        "resource_bookings": resource_bookings,
        "available_doctors": available_doctors,
    })
}

/// The AbsenceRead shape (api.md §3.0).
fn absence_json(absence: &CalendarAbsence, state: &AppState) -> Value {
    json!({
        "id": absence.id,
        "doctor": absence.doctor_id,
        "start_date": absence.start_date,
        "end_date": absence.end_date,
        "reason": absence.reason,
        "color": ABSENCE_COLOR,
        "active": absence.active,
        "created_at": wire::datetime(absence.created_at, state.tz()),
        "updated_at": wire::datetime(absence.updated_at, state.tz()),
    })
}

/// The BreakRead shape (api.md §3.0).
fn break_json(item: &CalendarBreak, state: &AppState) -> Value {
    json!({
        "id": item.id,
        "doctor": item.doctor_id,
        "date": item.date,
        "start_time": item.start_time.format("%H:%M:%S").to_string(),
        "end_time": item.end_time.format("%H:%M:%S").to_string(),
        "reason": item.reason,
        "color": BREAK_COLOR,
        "active": item.active,
        "created_at": wire::datetime(item.created_at, state.tz()),
        "updated_at": wire::datetime(item.updated_at, state.tz()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_validated_in_order_and_name_the_parameter() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let ok = [
            ("date=2030-01-14", date(2030, 1, 14), None, None, None),
            ("date=2043-3-2", date(2043, 3, 2), None, None, None),
            (
                "date=2030-01-14&doctor_id=3&patient_id=+4&type_id=",
                date(2030, 1, 14),
                Some(3),
                Some(4),
                None,
            ),
            (
                "date=2030-01-01&date=2030-01-14&doctor_id=",
                date(2030, 1, 14),
                None,
                None,
                None,
            ),
        ];
        for (query, day, doctor_id, patient_id, type_id) in ok {
            let params = parse_params(Some(query)).unwrap();
            assert_eq!(
                params,
                CalendarParams {
                    date: day,
                    doctor_id,
                    patient_id,
                    type_id
                },
                "{query}"
            );
        }
        let bad = [
            ("", DATE_REQUIRED),
            ("date=", DATE_REQUIRED),
            ("doctor_id=x", DATE_REQUIRED),
            ("date=abc", DATE_FORMAT),
            ("date=2043-02-30", DATE_FORMAT),
            ("date=14.01.2030", DATE_FORMAT),
            (
                "date=2030-01-14&doctor_id=x",
                "doctor_id must be an integer.",
            ),
            (
                "date=2030-01-14&patient_id=1.5",
                "patient_id must be an integer.",
            ),
            ("date=2030-01-14&type_id=%FF", "type_id must be an integer."),
        ];
        for (query, detail) in bad {
            match parse_params(Some(query)) {
                Err(ApiError::Detail(message)) => assert_eq!(message, detail, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
