//! `GET /api/availability/?start=&end=[&exclude_appointment_id=][&q=]` (api.md §3.6,
//! scheduling.md §2.4): the doctors, rooms and patients free for an interval, as the booking
//! dialog's dropdowns need them.
//!
//! Fixes of api.md §5 item 1: only admin, assistant and doctor may ask (the list holds patient
//! names and birth dates), and at most [`AVAILABLE_PATIENTS_LIMIT`] patients are listed, narrowed
//! by the optional search `q` (the original listed every patient, with two queries each). The
//! store loads the engine input once; the engine decides who is free. Each call writes an
//! `availability_view` audit row (ids and counts only).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area};
use praxi_domain::scheduling::{Interval, MAX_HORIZON_DAYS, local_day};
use praxi_store::calendar::{AVAILABLE_PATIENTS_LIMIT, Availability, AvailabilityQuery};
use serde_json::{Value, json};

use crate::api::calendar::query_param;
use crate::api::method_fallback;
use crate::auth::AuthUser;
use crate::body::{parse_date_str, parse_datetime_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Availability";
const REQUIRED: &str = "start and end query parameters are required (ISO datetime format).";
const END_BEFORE_START: &str = "end_time must be after start_time";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/availability/",
        get(availability).fallback(method_fallback(Area::Availability)),
    )
}

/// An ISO datetime as Python's `fromisoformat` takes it: with `Z`/offset, naive (practice
/// wall-clock time) or a bare date (local midnight). A `+HH:MM` offset sent without URL
/// encoding arrives as ` HH:MM` and is read as the offset it was meant to be.
fn parse_instant(text: &str, tz: Tz) -> ApiResult<DateTime<Utc>> {
    let unencoded_plus = || {
        let (head, offset) = text.rsplit_once(' ')?;
        (head.len() > 10).then(|| format!("{head}+{offset}"))
    };
    parse_datetime_str(text, tz)
        .or_else(|| parse_datetime_str(&unencoded_plus()?, tz))
        .or_else(|| {
            parse_date_str(text)
                .and_then(|date| local_day(tz, date))
                .map(|day| day.start())
        })
        .ok_or_else(|| {
            ApiError::Detail(format!(
                "Invalid datetime format: Invalid isoformat string: '{text}'"
            ))
        })
}

/// Parses and checks the query: both bounds, `end > start`, at most [`MAX_HORIZON_DAYS`] days
/// (the original had no bound), a non-integer `exclude_appointment_id` is ignored.
fn parse_query(query: Option<&str>, tz: Tz) -> ApiResult<AvailabilityQuery> {
    let pairs = wire::url_pairs(query.unwrap_or_default());
    let (Some(start), Some(end)) = (query_param(&pairs, "start"), query_param(&pairs, "end"))
    else {
        return Err(ApiError::Detail(REQUIRED.to_owned()));
    };
    let start = parse_instant(&start, tz)?;
    let end = parse_instant(&end, tz)?;
    let interval =
        Interval::new(start, end).map_err(|_| ApiError::Detail(END_BEFORE_START.to_owned()))?;
    if interval.duration() > TimeDelta::days(i64::from(MAX_HORIZON_DAYS)) {
        return Err(ApiError::Detail(format!(
            "The range from start to end must not exceed {MAX_HORIZON_DAYS} days."
        )));
    }
    Ok(AvailabilityQuery {
        interval,
        exclude_appointment: query_param(&pairs, "exclude_appointment_id")
            .and_then(|id| id.parse().ok()),
        patient_search: query_param(&pairs, "q"),
        patient_limit: AVAILABLE_PATIENTS_LIMIT,
    })
}

async fn availability(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    auth.require(Area::Availability, Action::List, MODEL)?;
    let query = parse_query(query.as_deref(), state.tz())?;
    let found = state.store.availability(state.tz(), &query).await?;
    let meta = json!({
        "exclude_appointment_id": query.exclude_appointment,
        "q_length": query.patient_search.as_deref().map_or(0, |q| q.chars().count()),
        "doctors": found.doctors.len(),
        "rooms": found.rooms.len(),
        "patients": found.patients.len(),
    });
    state
        .store
        .record_audit(
            &auth
                .audit("availability_view", None, Some(meta))
                .with_subjects(found.patients.iter().map(|patient| patient.id)),
        )
        .await?;
    Ok(Json(availability_json(&found)))
}

fn availability_json(found: &Availability) -> Value {
    json!({
        "available_doctors": found.doctors.iter().map(|doctor| json!({
            "id": doctor.id,
            "name": doctor.display_name(),
            "calendar_color": doctor.calendar_color,
        })).collect::<Vec<_>>(),
        "available_rooms": found.rooms.iter().map(|room| json!({
            "id": room.id,
            "name": room.name,
            "type": room.kind,
        })).collect::<Vec<_>>(),
        "available_patients": found.patients.iter().map(|patient| json!({
            "id": patient.id,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "display_name": display_name(patient.id, &patient.first_name, &patient.last_name, patient.birth_date),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn bounds_accept_offsets_z_naive_local_times_and_dates() {
        let cases = [
            ("2030-01-14T09:00:00Z", "2030-01-14T09:00:00Z"),
            ("2030-01-14T09:00:00+01:00", "2030-01-14T08:00:00Z"),
            ("2030-01-14T09:00", "2030-01-14T08:00:00Z"),
            ("2030-07-14T09:00:00", "2030-07-14T07:00:00Z"),
            ("2030-01-14", "2030-01-13T23:00:00Z"),
            ("2030-01-14 09:00", "2030-01-14T08:00:00Z"),
            ("2030-01-14T09:00:00 02:00", "2030-01-14T07:00:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_instant(text, BERLIN).unwrap(),
                utc(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_queries_are_400_with_the_original_messages() {
        let cases = [
            ("", REQUIRED.to_owned()),
            ("start=2030-01-14T09:00:00Z", REQUIRED.to_owned()),
            ("end=2030-01-14T09:00:00Z", REQUIRED.to_owned()),
            (
                "start=abc&end=2030-01-14T09:00:00Z",
                "Invalid datetime format: Invalid isoformat string: 'abc'".to_owned(),
            ),
            (
                "start=2030-01-14T09:00:00Z&end=x",
                "Invalid datetime format: Invalid isoformat string: 'x'".to_owned(),
            ),
            (
                "start=2030-01-14T09:00:00Z&end=2030-01-14T09:00:00Z",
                END_BEFORE_START.to_owned(),
            ),
            (
                "start=2030-01-14T09:00:00Z&end=2030-01-14T08:00:00Z",
                END_BEFORE_START.to_owned(),
            ),
            (
                "start=2030-01-01T00:00:00Z&end=2031-06-01T00:00:00Z",
                format!("The range from start to end must not exceed {MAX_HORIZON_DAYS} days."),
            ),
            // A naive time in the spring-forward gap does not exist.
            (
                "start=2026-03-29T02:30:00&end=2026-03-29T04:00:00",
                "Invalid datetime format: Invalid isoformat string: '2026-03-29T02:30:00'"
                    .to_owned(),
            ),
        ];
        for (query, detail) in cases {
            match parse_query(Some(query), BERLIN) {
                Err(ApiError::Detail(message)) => assert_eq!(message, detail, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
    }

    #[test]
    fn exclude_id_and_search_are_optional_and_lenient() {
        let base = "start=2030-01-14T09:00:00Z&end=2030-01-14T09:30:00Z";
        let cases = [
            ("", None, None),
            ("&exclude_appointment_id=7", Some(7), None),
            ("&exclude_appointment_id=abc", None, None),
            ("&exclude_appointment_id=99999999999", None, None),
            ("&q=+M%C3%BCller+", None, Some("Müller")),
            ("&q=", None, None),
        ];
        for (extra, exclude, search) in cases {
            let query = parse_query(Some(&format!("{base}{extra}")), BERLIN).unwrap();
            assert_eq!(query.exclude_appointment, exclude, "{extra}");
            assert_eq!(query.patient_search.as_deref(), search, "{extra}");
            assert_eq!(query.patient_limit, AVAILABLE_PATIENTS_LIMIT);
            assert_eq!(query.interval.duration(), TimeDelta::minutes(30));
        }
    }
}
