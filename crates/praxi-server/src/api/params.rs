//! Query parameters shared by the list and suggestion endpoints: the original's messages for
//! a malformed date, integer, id list, limit or slot spacing (`{"detail": "<message>"}` for
//! the suggestion endpoints, a field error for the list dates).

use chrono::NaiveDate;
use praxi_domain::scheduling::{Interval, SlotSpacing};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::local_days;

/// `{"detail": message}` (400).
pub(crate) fn detail_error(message: impl Into<String>) -> ApiError {
    ApiError::Detail(message.into())
}

/// The trimmed value, `None` when absent or blank.
pub(crate) fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// An optional integer parameter (`"<name> must be an integer."`).
pub(crate) fn int_param(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| detail_error(format!("{name} must be an integer."))),
    }
}

/// A required integer parameter (`"<name> query parameter is required."`).
pub(crate) fn required_param(name: &str, value: Option<&str>) -> ApiResult<i64> {
    int_param(name, value)?
        .ok_or_else(|| detail_error(format!("{name} query parameter is required.")))
}

/// An optional list date (`YYYY-MM-DD` as `parse` reads it): a field error naming `name`.
pub(crate) fn query_date(
    name: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<NaiveDate>,
) -> ApiResult<Option<NaiveDate>> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => parse(text).map(Some).ok_or_else(|| {
            ApiError::field(
                name,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            )
        }),
    }
}

/// How an id list treats empty parts (`1,,2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmptyParts {
    /// Skipped (operations).
    Skip,
    /// Refused like any other non-integer (appointments, as in the original).
    Refuse,
}

/// A comma-separated id list, duplicates dropped, first occurrence first
/// (`"<name> must be a comma-separated list of integers."`).
pub(crate) fn id_list(name: &str, value: Option<&str>, empty: EmptyParts) -> ApiResult<Vec<i64>> {
    let Some(text) = non_empty(value) else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.is_empty() && empty == EmptyParts::Skip {
            continue;
        }
        let id: i64 = part.parse().map_err(|_| {
            detail_error(format!(
                "{name} must be a comma-separated list of integers."
            ))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The first day of a suggestion (today when absent).
pub(crate) fn start_date(
    state: &AppState,
    value: Option<&str>,
    parse: fn(&str) -> Option<NaiveDate>,
) -> ApiResult<NaiveDate> {
    match non_empty(value) {
        None => Ok(state.today()),
        Some(text) => {
            parse(text).ok_or_else(|| detail_error("start_date must be in format YYYY-MM-DD."))
        }
    }
}

/// How many suggestions (at least one; `default` when absent).
pub(crate) fn limit(value: Option<&str>, default: i64) -> ApiResult<i64> {
    let limit = int_param("limit", value)?.unwrap_or(default);
    if limit < 1 {
        return Err(detail_error("limit must be >= 1."));
    }
    Ok(limit)
}

/// `spacing=grid` packs slots on the 5-minute grid; anything else back to back.
pub(crate) fn spacing(value: Option<&str>) -> SlotSpacing {
    match value {
        Some("grid") => SlotSpacing::Grid,
        _ => SlotSpacing::BackToBack,
    }
}

/// The local days a suggestion searches: `days` (1–366) from `start`.
pub(crate) fn search_period(state: &AppState, start: NaiveDate, days: u32) -> ApiResult<Interval> {
    let last = start + chrono::Days::new(u64::from(days.clamp(1, 366)) - 1);
    local_days(state, start, last).ok_or_else(|| detail_error("start_date out of range."))
}
