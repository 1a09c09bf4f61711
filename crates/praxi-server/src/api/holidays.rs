//! `/api/holidays/`: the practice's holiday calendar (issue #14, beyond the original).
//!
//! * `GET /api/holidays/?year=2030` (or `from`/`to`, at most 366 days): the region and every
//!   holiday and override of the range, with whether bookings are refused that day.
//! * `PUT /api/holidays/region/` `{"region": "BE" | "DE" | null}`: the practice's region.
//! * `PUT /api/holidays/overrides/{date}/` `{"closed": bool, "label": str?}`: open a holiday
//!   or close any other date; `DELETE` removes the override (404 when there is none).
//!
//! Everyone with an API role reads; admins and assistants write (`Area::Holidays`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use praxi_domain::rbac::{Action, Area};
use praxi_domain::scheduling::HolidayRegion;
use praxi_domain::scheduling::holidays::CalendarDay;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Query, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::holidays::{self, HolidayCalendar, MAX_LABEL_CHARS, OverrideProblem};

const MODEL: &str = "HolidayOverride";
const RESOURCE: Area = Area::Holidays;
/// Longest range of one read.
const MAX_RANGE_DAYS: i64 = 366;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/holidays/",
            get(list).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/holidays/region/",
            put(set_region).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/holidays/overrides/{date}/",
            put(put_override)
                .delete(delete_override)
                .fallback(method_fallback(RESOURCE)),
        )
}

/// One day as the API shows it.
pub(crate) fn day_json(day: &CalendarDay) -> Value {
    json!({
        "date": day.date.to_string(),
        "holiday": day.holiday,
        "label": day.label,
        "closed": day.closed,
        "overridden": day.overridden,
    })
}

fn calendar_json(calendar: &HolidayCalendar) -> Value {
    json!({
        "region": calendar.region.map(|r| r.code()),
        "days": calendar.days.iter().map(day_json).collect::<Vec<_>>(),
    })
}

#[derive(Debug, Deserialize)]
struct RangeParams {
    year: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn parse_range(params: &RangeParams, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
    let date = |name: &str, value: &Option<String>| -> ApiResult<Option<NaiveDate>> {
        match value {
            None => Ok(None),
            Some(text) => parse_date_str(text)
                .map(Some)
                .ok_or_else(|| ApiError::Detail(format!("{name} must be in format YYYY-MM-DD."))),
        }
    };
    if let Some(year) = &params.year {
        let year: i32 = year
            .trim()
            .parse()
            .ok()
            .filter(|y| (1900..=2200).contains(y))
            .ok_or_else(|| ApiError::Detail("year must be a year between 1900 and 2200.".into()))?;
        let first = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| ApiError::Detail("year must be a year between 1900 and 2200.".into()))?;
        return Ok(holidays::year_of(first));
    }
    let (default_from, default_to) = holidays::year_of(today);
    let from = date("from", &params.from)?.unwrap_or(default_from);
    let to = date("to", &params.to)?.unwrap_or(if params.from.is_some() {
        holidays::year_of(from).1
    } else {
        default_to
    });
    if to < from {
        return Err(ApiError::Detail("to must not be before from.".into()));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(ApiError::Detail(format!(
            "the range must not exceed {MAX_RANGE_DAYS} days."
        )));
    }
    Ok((from, to))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<RangeParams>,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let today = state.now().with_timezone(&state.tz()).date_naive();
    let (from, to) = parse_range(&params, today)?;
    let calendar = holidays::read(&state, from, to).await?;
    Ok(Json(calendar_json(&calendar)))
}

async fn set_region(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let region = fields.opt_string("region");
    let region = match region {
        None => {
            fields.errors_mut().add("region", "This field is required.");
            None
        }
        Some(None) => None,
        Some(Some(code)) if code.trim().is_empty() => None,
        Some(Some(code)) => match code.parse::<HolidayRegion>() {
            Ok(region) => Some(region),
            Err(_) => {
                fields
                    .errors_mut()
                    .add("region", format!("\"{code}\" is not a valid choice."));
                None
            }
        },
    };
    fields.finish()?;
    holidays::set_region(&state, &Caller::from(&auth), region).await?;
    Ok(Json(json!({"region": region.map(|r| r.code())})))
}

fn path_date(raw: &str) -> ApiResult<NaiveDate> {
    parse_date_str(raw).ok_or(ApiError::NotFoundPlain)
}

async fn put_override(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(raw): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let date = path_date(&raw)?;
    let mut fields = Fields::new(body, state.tz());
    let closed = fields.non_null_bool("closed");
    let label = fields.opt_string("label").flatten();
    fields.finish()?;
    let Some(closed) = closed else {
        return Err(ApiError::field("closed", "This field is required."));
    };
    match holidays::put_override(&state, &Caller::from(&auth), date, closed, label).await? {
        Ok(value) => Ok(Json(json!({
            "date": value.date.to_string(),
            "closed": value.closed,
            "label": value.label,
        }))),
        Err(OverrideProblem::LabelTooLong) => Err(ApiError::field(
            "label",
            format!("Ensure this field has no more than {MAX_LABEL_CHARS} characters."),
        )),
    }
}

async fn delete_override(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(RESOURCE, Action::Delete, MODEL)?;
    let date = path_date(&raw)?;
    if holidays::delete_override(&state, &Caller::from(&auth), date).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(MODEL))
    }
}
