//! The practice's holiday calendar (issue #14): read the closed days of a range, choose the
//! region, set or remove a per-date override. Shared by `/api/holidays/…` and the
//! administration page `/admin/holidays/`. Writes are audited in their transaction
//! (`holiday_region_update` with meta `{"region"}`, `holiday_override_update` /
//! `holiday_override_delete` with meta `{"date", "closed"}`); no patient data is involved.
//!
//! The caller's handler or page has already asked the RBAC table (`Area::Holidays`).

use chrono::{Datelike, NaiveDate};
use praxi_domain::scheduling::holidays::{CalendarDay, calendar};
use praxi_domain::scheduling::{DayOverride, HolidayRegion};
use praxi_store::StoreError;
use serde_json::json;

use crate::state::AppState;
use crate::usecases::Caller;

/// Longest label of an override.
pub(crate) const MAX_LABEL_CHARS: usize = 100;

/// The calendar of a date range as the practice sees it.
#[derive(Debug, Clone)]
pub(crate) struct HolidayCalendar {
    pub(crate) region: Option<HolidayRegion>,
    pub(crate) days: Vec<CalendarDay>,
}

/// The holidays and overrides of `from..=to` with the practice's region.
pub(crate) async fn read(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HolidayCalendar, StoreError> {
    let region = state.store.holiday_region().await?;
    let overrides: Vec<DayOverride> = state
        .store
        .holiday_overrides(from, to)
        .await?
        .iter()
        .map(|o| o.as_override())
        .collect();
    Ok(HolidayCalendar {
        region,
        days: calendar(region, from, to, &overrides),
    })
}

/// The whole year of `date`.
pub(crate) fn year_of(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let year = date.year();
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(date),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(date),
    )
}

/// Chooses the region (`None`: no holiday calendar; overrides still count).
pub(crate) async fn set_region(
    state: &AppState,
    caller: &Caller,
    region: Option<HolidayRegion>,
) -> Result<(), StoreError> {
    let audit = caller.audit(
        "holiday_region_update",
        None,
        Some(json!({"region": region.map(|r| r.code())})),
    );
    state
        .store
        .set_holiday_region(region, state.now(), &audit)
        .await
}

/// Why an override cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverrideProblem {
    LabelTooLong,
}

/// Creates or replaces the override of one date. The label is trimmed; empty means none.
pub(crate) async fn put_override(
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
    closed: bool,
    label: Option<String>,
) -> Result<Result<DayOverride, OverrideProblem>, StoreError> {
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS)
    {
        return Ok(Err(OverrideProblem::LabelTooLong));
    }
    let value = DayOverride {
        date,
        closed,
        label,
    };
    let audit = caller.audit(
        "holiday_override_update",
        None,
        Some(json!({"date": date.to_string(), "closed": closed})),
    );
    state
        .store
        .put_holiday_override(&value, state.now(), &audit)
        .await?;
    Ok(Ok(value))
}

/// Removes the override of one date; `false` when there was none.
pub(crate) async fn delete_override(
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
) -> Result<bool, StoreError> {
    let audit = caller.audit(
        "holiday_override_delete",
        None,
        Some(json!({"date": date.to_string()})),
    );
    state.store.delete_holiday_override(date, &audit).await
}
