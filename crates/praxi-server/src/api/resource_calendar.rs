//! `/api/resource-calendar/` and `/api/resource-calendar/resources/` (api.md §3.13,
//! scheduling.md §6.4): a day view per room or device (appointments, operations, and every
//! absence and break of the day painted into every column, as the original does) and the
//! resources a caller can pick for it.
//!
//! The store reads everything set-based and builds the bookings
//! (`praxi_store::resource_calendar`); this module parses the query, applies the policy
//! (doctors see only their own bookings) and renders the original's shapes. Additive:
//! `?days=N` (1..=31, default 1) shows N consecutive local days in one answer.
//!
//! Every successful read writes a `resource_calendar_view` audit row; invalid requests write
//! none.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::resource_calendar::{
    Booking, CalendarDays, MAX_DAYS, ResourceCalendarQuery, ResourceColumn,
};
use serde_json::{Value, json};

use crate::api::appointments::resource_json;
use crate::api::method_fallback;
use crate::auth::AuthUser;
use crate::body::parse_date_str;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Resource";
const AUDIT_ACTION: &str = "resource_calendar_view";

/// The original's messages (api.md §3.13, verified).
const DATE_REQUIRED: &str = "Provide ?date=YYYY-MM-DD.";
const DATE_FORMAT: &str = "Date must be in format YYYY-MM-DD.";
const IDS_REQUIRED: &str = "Provide resource_ids as comma-separated list.";
const IDS_EMPTY: &str = "resource_ids cannot be empty.";
const IDS_NOT_INTEGERS: &str = "resource_ids must be integers.";
/// Praxi's message for the additive `days` parameter.
const DAYS_RANGE: &str = "days must be an integer between 1 and 31.";

pub(crate) fn router() -> Router<AppState> {
    // Nobody may write here: every other method is 403 (401 without credentials).
    Router::new()
        .route(
            "/api/resource-calendar/",
            get(calendar).fallback(method_fallback(Area::ResourceCalendar)),
        )
        .route(
            "/api/resource-calendar/resources/",
            get(resources).fallback(method_fallback(Area::ResourceCalendar)),
        )
}

/// The raw value of a query parameter (the last one wins, like Django's `QueryDict.get`).
fn raw_param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The parsed query of a calendar request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CalendarParams {
    date: NaiveDate,
    days: u32,
    /// In request order, as sent (duplicates are dropped by the store).
    resource_ids: Vec<i64>,
}

/// `date`: required, `YYYY-MM-DD`.
fn parse_date(raw: Option<&str>) -> Result<NaiveDate, &'static str> {
    let text = raw
        .filter(|text| !text.trim().is_empty())
        .ok_or(DATE_REQUIRED)?;
    parse_date_str(text).ok_or(DATE_FORMAT)
}

/// `resource_ids`: a comma-separated list of integers; blank items are skipped like the
/// original's. An integer too large for an id cannot name a resource and is dropped like any
/// unknown id, not refused.
fn parse_resource_ids(raw: Option<&str>) -> Result<Vec<i64>, &'static str> {
    let raw = raw.filter(|text| !text.is_empty()).ok_or(IDS_REQUIRED)?;
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    if items.is_empty() {
        return Err(IDS_EMPTY);
    }
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        match item.parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) if is_integer(item) => {}
            Err(_) => return Err(IDS_NOT_INTEGERS),
        }
    }
    Ok(ids)
}

/// An optional sign followed by ASCII digits.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

/// `days`: 1..=31, default 1 (an empty value counts as absent).
fn parse_days(raw: Option<&str>) -> Result<u32, &'static str> {
    match raw.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(1),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|days| (1..=MAX_DAYS).contains(days))
            .ok_or(DAYS_RANGE),
    }
}

/// Parses the query in the original's order: date, then resource ids (then the additive days).
fn parse_params(query: Option<&str>) -> Result<CalendarParams, &'static str> {
    let pairs = wire::url_pairs(query.unwrap_or_default());
    let date = parse_date(raw_param(&pairs, "date"))?;
    let resource_ids = parse_resource_ids(raw_param(&pairs, "resource_ids"))?;
    let days = parse_days(raw_param(&pairs, "days"))?;
    Ok(CalendarParams {
        date,
        days,
        resource_ids,
    })
}

/// `{kind, id, start_time, end_time, color, label, status, progress?}`.
fn booking_json(booking: &Booking, tz: Tz) -> Value {
    let mut item = json!({
        "kind": booking.kind.as_str(),
        "id": booking.id,
        "start_time": wire::datetime(booking.start_time, tz),
        "end_time": wire::datetime(booking.end_time, tz),
        "color": booking.color,
        "label": booking.label,
        "status": booking.status,
    });
    if let Some(progress) = booking.progress {
        item["progress"] = json!(progress);
    }
    item
}

fn column_json(column: &ResourceColumn, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "resource": resource_json(&column.resource, state),
        "bookings": column
            .bookings
            .iter()
            .map(|booking| booking_json(booking, tz))
            .collect::<Vec<_>>(),
    })
}

async fn calendar(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::ResourceCalendar, Action::List, MODEL)?;
    let params =
        parse_params(query.as_deref()).map_err(|message| ApiError::Detail(message.to_owned()))?;
    let days = CalendarDays::new(state.tz(), params.date, params.days)
        .ok_or_else(|| ApiError::Detail(DATE_FORMAT.to_owned()))?;
    let query = ResourceCalendarQuery {
        days,
        resource_ids: params.resource_ids,
        own_doctor: (decision == Decision::Filtered).then_some(auth.user.id),
        now: state.now(),
    };
    let columns = state.store.resource_calendar(state.tz(), &query).await?;

    let mut meta = json!({"date": params.date});
    if !columns.is_empty() {
        meta["resource_ids"] = json!(
            columns
                .iter()
                .map(|column| column.resource.id)
                .collect::<Vec<_>>()
        );
    }
    if params.days != 1 {
        meta["days"] = json!(params.days);
    }
    state
        .store
        .record_audit(&auth.audit(AUDIT_ACTION, None, Some(meta)))
        .await?;
    Ok(Json(Value::Array(
        columns
            .iter()
            .map(|column| column_json(column, &state))
            .collect(),
    )))
}

async fn resources(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::ResourceCalendar, Action::List, MODEL)?;
    let own_doctor = (decision == Decision::Filtered).then_some(auth.user.id);
    // Master data, no patient data: not audited (docs/data-protection.md).
    let resources = state.store.calendar_resources(own_doctor).await?;
    Ok(Json(Value::Array(
        resources
            .iter()
            .map(|resource| resource_json(resource, &state))
            .collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw parameter value and what parsing it gives.
    type Case<T> = (Option<&'static str>, Result<T, &'static str>);

    #[test]
    fn resource_ids_parse_like_the_original() {
        let cases: [Case<Vec<i64>>; 12] = [
            (None, Err(IDS_REQUIRED)),
            (Some(""), Err(IDS_REQUIRED)),
            (Some(","), Err(IDS_EMPTY)),
            (Some(" , ,"), Err(IDS_EMPTY)),
            (Some("a,b"), Err(IDS_NOT_INTEGERS)),
            (Some("1,x"), Err(IDS_NOT_INTEGERS)),
            (Some("1.5"), Err(IDS_NOT_INTEGERS)),
            (Some("3,1,2"), Ok(vec![3, 1, 2])),
            (Some(" 3 ,,1 "), Ok(vec![3, 1])),
            (Some("2,2,+4,-1"), Ok(vec![2, 2, 4, -1])),
            // Too large for any id: dropped like an unknown id.
            (Some("99999999999999999999999,7"), Ok(vec![7])),
            (Some("+"), Err(IDS_NOT_INTEGERS)),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_resource_ids(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn dates_are_required_and_iso() {
        let date = NaiveDate::from_ymd_opt(2043, 3, 9).unwrap();
        let cases: [Case<NaiveDate>; 5] = [
            (None, Err(DATE_REQUIRED)),
            (Some(""), Err(DATE_REQUIRED)),
            (Some("09.03.2043"), Err(DATE_FORMAT)),
            (Some("2043-02-30"), Err(DATE_FORMAT)),
            (Some("2043-03-09"), Ok(date)),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_date(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn days_default_to_one_and_stay_within_31() {
        let cases: [Case<u32>; 8] = [
            (None, Ok(1)),
            (Some(""), Ok(1)),
            (Some("1"), Ok(1)),
            (Some("7"), Ok(7)),
            (Some("31"), Ok(31)),
            (Some("0"), Err(DAYS_RANGE)),
            (Some("32"), Err(DAYS_RANGE)),
            (Some("-1"), Err(DAYS_RANGE)),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_days(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn the_date_is_checked_before_the_resource_ids() {
        assert_eq!(parse_params(Some("resource_ids=a")), Err(DATE_REQUIRED));
        assert_eq!(
            parse_params(Some("date=x&resource_ids=a")),
            Err(DATE_FORMAT)
        );
        assert_eq!(parse_params(Some("date=2043-03-09")), Err(IDS_REQUIRED));
        assert_eq!(
            parse_params(Some("date=2043-03-09&resource_ids=1&days=99")),
            Err(DAYS_RANGE)
        );
        assert_eq!(
            parse_params(Some("date=2043-03-01&date=2043-03-09&resource_ids=1%2C2")),
            Ok(CalendarParams {
                date: NaiveDate::from_ymd_opt(2043, 3, 9).unwrap(),
                days: 1,
                resource_ids: vec![1, 2],
            })
        );
    }
}
