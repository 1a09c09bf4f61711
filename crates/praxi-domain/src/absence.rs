//! Doctor absences (data-model.md §5.4, api.md §3.16): per-row rules, workdays, return date and
//! the vacation balance.
//!
//! Fixes over the original (data-model.md §15 item 19, api.md §5 item 19): the vacation balance
//! of a calendar year counts only **active** "Urlaub" absences, each clipped to that year (the
//! absence being saved or previewed included, and counted once); the reason matches trimmed and
//! case-insensitively on every side. Workdays are Monday to Friday; public holidays are not
//! modelled (as in the original).

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::hours::REASON_MAX_CHARS;
use crate::scheduling::local_day;
use crate::validation::{FieldErrors, REQUIRED, ValidationError, check_max_chars};

/// The constant colour the API shows for absences (not stored).
pub const ABSENCE_COLOR: &str = "#FF4500";
/// The reason with business meaning: vacation, counted against the yearly allowance.
pub const VACATION_REASON: &str = "Urlaub";
/// The original's message for `end_date < start_date`.
pub const DATE_ORDER_MESSAGE: &str = "Enddatum muss am oder nach dem Startdatum liegen.";

/// A validated absence: `start_date <= end_date`, both inclusive local dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceFields {
    pub doctor_id: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: Option<String>,
    pub active: bool,
}

/// Requested values for an absence: `None` = not sent (kept on update).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AbsenceChanges {
    pub doctor_id: Option<i64>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub reason: Option<Option<String>>,
    pub active: Option<bool>,
}

impl AbsenceChanges {
    /// Field-level rules: the reason's length (after trimming, as DRF does).
    pub fn check_fields(&self, errors: &mut FieldErrors) {
        if let Some(Some(reason)) = &self.reason {
            check_max_chars(errors, "reason", reason.trim(), REASON_MAX_CHARS);
        }
    }

    /// A new absence: doctor, start and end date are required; `active` defaults to true.
    pub fn create(self) -> Result<AbsenceFields, ValidationError> {
        let mut errors = FieldErrors::new();
        for (field, present) in [
            ("doctor", self.doctor_id.is_some()),
            ("start_date", self.start_date.is_some()),
            ("end_date", self.end_date.is_some()),
        ] {
            if !present {
                errors.add(field, REQUIRED);
            }
        }
        errors.into_result()?;
        self.apply(AbsenceFields {
            doctor_id: 0,
            start_date: NaiveDate::MIN,
            end_date: NaiveDate::MIN,
            reason: None,
            active: true,
        })
    }

    /// The stored absence with these changes, validated as a whole (a PATCH of `end_date` is
    /// compared with the stored `start_date`).
    pub fn apply(self, current: AbsenceFields) -> Result<AbsenceFields, ValidationError> {
        let mut errors = FieldErrors::new();
        self.check_fields(&mut errors);
        errors.into_result()?;
        let fields = AbsenceFields {
            doctor_id: self.doctor_id.unwrap_or(current.doctor_id),
            start_date: self.start_date.unwrap_or(current.start_date),
            end_date: self.end_date.unwrap_or(current.end_date),
            reason: match self.reason {
                Some(reason) => reason.map(|text| text.trim().to_owned()),
                None => current.reason,
            },
            active: self.active.unwrap_or(current.active),
        };
        if fields.end_date < fields.start_date {
            return Err(ValidationError::field("end_date", DATE_ORDER_MESSAGE));
        }
        Ok(fields)
    }
}

/// Monday to Friday.
pub fn is_workday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday–Friday dates in `[start, end]` inclusive; 0 when the range is inverted. Constant
/// time, so absurd ranges cost nothing.
pub fn workdays(start: NaiveDate, end: NaiveDate) -> u32 {
    if end < start {
        return 0;
    }
    let n_days = (end - start).num_days() + 1;
    let full_weeks = n_days / 7;
    let mut count = full_weeks * 5;
    let mut date = start;
    for _ in 0..n_days % 7 {
        if is_workday(date) {
            count += 1;
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The first Monday–Friday date strictly after `end_date` (`None` only at the end of the
/// calendar).
pub fn return_date(end_date: NaiveDate) -> Option<NaiveDate> {
    let mut date = end_date.succ_opt()?;
    while !is_workday(date) {
        date = date.succ_opt()?;
    }
    Some(date)
}

/// `true` for the vacation reason: trimmed, case-insensitive "Urlaub".
pub fn is_vacation(reason: Option<&str>) -> bool {
    reason.is_some_and(|reason| reason.trim().to_lowercase() == VACATION_REASON.to_lowercase())
}

/// Workdays of `[start, end]` that fall into calendar year `year`.
pub fn workdays_in_year(start: NaiveDate, end: NaiveDate, year: i32) -> u32 {
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return 0;
    };
    workdays(start.max(first), end.min(last))
}

/// One stored absence as the vacation balance sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceSpan {
    pub id: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: Option<String>,
    pub active: bool,
}

impl AbsenceSpan {
    fn counts_as_vacation(&self) -> bool {
        self.active && is_vacation(self.reason.as_deref())
    }
}

/// A doctor's vacation ledger: the yearly allowance and every stored absence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VacationLedger {
    /// `vacation_days_per_year` of the doctor.
    pub allowance: u32,
    pub absences: Vec<AbsenceSpan>,
}

impl VacationLedger {
    /// Vacation workdays taken in `year` by active "Urlaub" absences, each clipped to the
    /// year; `exclude` leaves one absence out (the one being edited).
    pub fn used_in_year(&self, year: i32, exclude: Option<i64>) -> u32 {
        self.absences
            .iter()
            .filter(|absence| Some(absence.id) != exclude && absence.counts_as_vacation())
            .map(|absence| workdays_in_year(absence.start_date, absence.end_date, year))
            .fold(0, u32::saturating_add)
    }

    /// Days left in `year` after the stored vacation (floored at 0).
    pub fn remaining_in_year(&self, year: i32) -> u32 {
        self.allowance.saturating_sub(self.used_in_year(year, None))
    }

    /// The stored snapshot columns of one of this ledger's absences: its workdays, return
    /// date and, for vacation, the balance of its start date's year after all stored active
    /// vacation (itself included once, when active). Other reasons get no balance.
    pub fn snapshot(&self, absence: &AbsenceSpan) -> AbsenceSnapshot {
        AbsenceSnapshot {
            duration_workdays: workdays(absence.start_date, absence.end_date),
            return_date: return_date(absence.end_date),
            remaining_days: is_vacation(absence.reason.as_deref())
                .then(|| self.remaining_in_year(absence.start_date.year())),
        }
    }
}

/// The computed columns stored with an absence (data-model.md §5.4); not on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsenceSnapshot {
    pub duration_workdays: u32,
    pub return_date: Option<NaiveDate>,
    pub remaining_days: Option<u32>,
}

/// The query of `GET /api/doctor-absences/preview/` (every part optional).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviewQuery {
    pub doctor_id: Option<i64>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub reason: Option<String>,
    /// The absence being edited: left out of the balance so it is not counted twice.
    pub exclude_id: Option<i64>,
}

/// The preview numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    /// Monday–Friday days of the range; 0 when a date is missing or the range is inverted.
    pub duration_workdays: u32,
    /// The next workday after `end_date` (also for an inverted range, as the original).
    pub return_date: Option<NaiveDate>,
    /// Only with a known doctor and the vacation reason.
    pub remaining_days: Option<u32>,
}

impl PreviewQuery {
    /// The complete, non-inverted date range, if any.
    pub fn range(&self) -> Option<(NaiveDate, NaiveDate)> {
        match (self.start_date, self.end_date) {
            (Some(start), Some(end)) if start <= end => Some((start, end)),
            _ => None,
        }
    }

    /// Computes the preview. `ledger` is the doctor's (None = no or unknown doctor); the
    /// balance year is the start date's, else the end date's, else `today`'s.
    pub fn preview(&self, ledger: Option<&VacationLedger>, today: NaiveDate) -> Preview {
        let range = self.range();
        let duration_workdays = range.map_or(0, |(start, end)| workdays(start, end));
        let remaining_days = match ledger {
            Some(ledger) if is_vacation(self.reason.as_deref()) => {
                let year = self.start_date.or(self.end_date).unwrap_or(today).year();
                let requested = range.map_or(0, |(start, end)| workdays_in_year(start, end, year));
                Some(
                    ledger
                        .allowance
                        .saturating_sub(ledger.used_in_year(year, self.exclude_id))
                        .saturating_sub(requested),
                )
            }
            _ => None,
        };
        Preview {
            duration_workdays,
            return_date: self.end_date.and_then(return_date),
            remaining_days,
        }
    }
}

/// The instants of the whole local days `[start, end]` in the practice zone: from 00:00 of
/// `start` to 00:00 after `end` (bookings overlapping this are affected by an absence).
pub fn local_range(
    tz: Tz,
    start: NaiveDate,
    end: NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if end < start {
        return None;
    }
    Some((local_day(tz, start)?.start(), local_day(tz, end)?.end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn span(id: i64, start: NaiveDate, end: NaiveDate, reason: &str, active: bool) -> AbsenceSpan {
        AbsenceSpan {
            id,
            start_date: start,
            end_date: end,
            reason: Some(reason.to_owned()),
            active,
        }
    }

    #[test]
    fn workdays_count_monday_to_friday_inclusive() {
        // 2045-06-05 is a Monday.
        let cases = [
            (d(2045, 6, 5), d(2045, 6, 9), 5),
            (d(2045, 6, 5), d(2045, 6, 5), 1),
            (d(2045, 6, 10), d(2045, 6, 11), 0),
            (d(2045, 6, 9), d(2045, 6, 12), 2),
            (d(2045, 6, 5), d(2045, 6, 18), 10),
            (d(2045, 6, 6), d(2045, 6, 19), 10),
            (d(2045, 6, 9), d(2045, 6, 5), 0),
            (d(2024, 1, 1), d(2024, 12, 31), 262),
        ];
        for (start, end, expected) in cases {
            assert_eq!(workdays(start, end), expected, "{start}..{end}");
        }
        // The constant-time count agrees with counting day by day.
        let start = d(2045, 6, 1);
        for length in 0..40 {
            let end = start + chrono::Days::new(length);
            let slow = start
                .iter_days()
                .take_while(|day| *day <= end)
                .filter(|day| is_workday(*day))
                .count();
            assert_eq!(workdays(start, end) as usize, slow, "{length}");
        }
        assert!(workdays(NaiveDate::MIN, NaiveDate::MAX) > 0);
    }

    #[test]
    fn return_date_is_the_next_workday() {
        let cases = [
            (d(2045, 6, 9), Some(d(2045, 6, 12))),
            (d(2045, 6, 5), Some(d(2045, 6, 6))),
            (d(2045, 6, 10), Some(d(2045, 6, 12))),
            (d(2045, 6, 11), Some(d(2045, 6, 12))),
            (NaiveDate::MAX, None),
        ];
        for (end, expected) in cases {
            assert_eq!(return_date(end), expected, "{end}");
        }
    }

    #[test]
    fn vacation_reason_is_trimmed_and_case_insensitive() {
        for (reason, ok) in [
            (Some("Urlaub"), true),
            (Some(" urlaub "), true),
            (Some("URLAUB"), true),
            (Some("Unbezahlter Urlaub"), false),
            (Some("Krank"), false),
            (None, false),
        ] {
            assert_eq!(is_vacation(reason), ok, "{reason:?}");
        }
    }

    #[test]
    fn create_and_merged_updates_check_the_date_order() {
        let created = AbsenceChanges {
            doctor_id: Some(3),
            start_date: Some(d(2045, 6, 5)),
            end_date: Some(d(2045, 6, 6)),
            reason: Some(Some(" Fortbildung ".into())),
            active: None,
        }
        .create()
        .unwrap();
        assert_eq!(created.reason.as_deref(), Some("Fortbildung"));
        assert!(created.active);

        let cases = [
            (None, Some(d(2045, 6, 4)), false),
            (None, Some(d(2045, 6, 5)), true),
            (Some(d(2045, 6, 7)), None, false),
            (Some(d(2045, 6, 1)), Some(d(2045, 6, 2)), true),
        ];
        for (start, end, ok) in cases {
            let result = AbsenceChanges {
                start_date: start,
                end_date: end,
                ..Default::default()
            }
            .apply(created.clone());
            assert_eq!(result.is_ok(), ok, "{start:?} {end:?}");
            if let Err(error) = result {
                assert_eq!(
                    error.0.fields().get("end_date"),
                    Some(&vec![DATE_ORDER_MESSAGE.to_owned()])
                );
            }
        }

        let error = AbsenceChanges::default().create().unwrap_err();
        for field in ["doctor", "start_date", "end_date"] {
            assert!(error.0.contains(field), "{field}");
        }
        let error = AbsenceChanges {
            reason: Some(Some("x".repeat(256))),
            ..Default::default()
        }
        .apply(created)
        .unwrap_err();
        assert!(error.0.contains("reason"));
    }

    #[test]
    fn vacation_is_counted_per_year_clipped_and_only_when_active() {
        let ledger = VacationLedger {
            allowance: 30,
            absences: vec![
                // 5 workdays in June.
                span(1, d(2045, 6, 5), d(2045, 6, 9), "Urlaub", true),
                // Inactive: ignored.
                span(2, d(2045, 7, 3), d(2045, 7, 7), "Urlaub", false),
                // Not vacation: ignored.
                span(3, d(2045, 8, 7), d(2045, 8, 11), "Krank", true),
                // Across the new year: Fri 29 Dec 2045 .. Fri 5 Jan 2046 =
                // 1 workday in 2045 (29th; 30/31 are a weekend), 4 in 2046 (2nd–5th)
                // plus Mon 1 Jan 2046 = 5 in 2046.
                span(4, d(2045, 12, 29), d(2046, 1, 5), " urlaub", true),
            ],
        };
        assert_eq!(ledger.used_in_year(2045, None), 6);
        assert_eq!(ledger.used_in_year(2046, None), 5);
        assert_eq!(ledger.used_in_year(2045, Some(1)), 1);
        assert_eq!(ledger.remaining_in_year(2045), 24);

        let snapshot = ledger.snapshot(&ledger.absences[0]);
        assert_eq!(
            snapshot,
            AbsenceSnapshot {
                duration_workdays: 5,
                return_date: Some(d(2045, 6, 12)),
                remaining_days: Some(24),
            }
        );
        // Across the year: the full duration, the balance of the start year.
        let snapshot = ledger.snapshot(&ledger.absences[3]);
        assert_eq!(snapshot.duration_workdays, 6);
        assert_eq!(snapshot.remaining_days, Some(24));
        // Non-vacation rows carry no balance; inactive vacation rows show the balance
        // without themselves.
        assert_eq!(ledger.snapshot(&ledger.absences[2]).remaining_days, None);
        assert_eq!(
            ledger.snapshot(&ledger.absences[1]).remaining_days,
            Some(24)
        );

        let overdrawn = VacationLedger {
            allowance: 3,
            absences: vec![ledger.absences[0].clone()],
        };
        assert_eq!(overdrawn.remaining_in_year(2045), 0);
    }

    #[test]
    fn preview_matches_the_original_examples() {
        let ledger = VacationLedger {
            allowance: 30,
            absences: vec![],
        };
        let today = d(2045, 1, 10);
        let query = PreviewQuery {
            doctor_id: Some(3),
            start_date: Some(d(2045, 6, 5)),
            end_date: Some(d(2045, 6, 9)),
            reason: Some("urlaub".into()),
            exclude_id: None,
        };
        assert_eq!(
            query.preview(Some(&ledger), today),
            Preview {
                duration_workdays: 5,
                return_date: Some(d(2045, 6, 12)),
                remaining_days: Some(25),
            }
        );
        let other_reason = PreviewQuery {
            reason: Some("Krank".into()),
            ..query.clone()
        };
        assert_eq!(
            other_reason.preview(Some(&ledger), today).remaining_days,
            None
        );
        assert_eq!(
            PreviewQuery::default().preview(None, today),
            Preview {
                duration_workdays: 0,
                return_date: None,
                remaining_days: None,
            }
        );
        let inverted = PreviewQuery {
            start_date: Some(d(2045, 6, 9)),
            end_date: Some(d(2045, 6, 5)),
            ..Default::default()
        };
        assert_eq!(
            inverted.preview(None, today),
            Preview {
                duration_workdays: 0,
                return_date: Some(d(2045, 6, 6)),
                remaining_days: None,
            }
        );
        // Vacation without a (known) doctor has no balance.
        assert_eq!(query.preview(None, today).remaining_days, None);
    }

    #[test]
    fn preview_of_an_edited_absence_counts_it_once() {
        let ledger = VacationLedger {
            allowance: 30,
            absences: vec![span(7, d(2045, 6, 5), d(2045, 6, 9), "Urlaub", true)],
        };
        let query = PreviewQuery {
            doctor_id: Some(3),
            start_date: Some(d(2045, 6, 5)),
            end_date: Some(d(2045, 6, 16)),
            reason: Some("Urlaub".into()),
            exclude_id: Some(7),
        };
        assert_eq!(
            query.preview(Some(&ledger), d(2045, 1, 1)).remaining_days,
            Some(20)
        );
        let without_exclude = PreviewQuery {
            exclude_id: None,
            ..query.clone()
        };
        assert_eq!(
            without_exclude
                .preview(Some(&ledger), d(2045, 1, 1))
                .remaining_days,
            Some(15)
        );
        // A request across the new year only spends days of the start year.
        let across = PreviewQuery {
            start_date: Some(d(2045, 12, 29)),
            end_date: Some(d(2046, 1, 5)),
            exclude_id: None,
            ..query
        };
        assert_eq!(
            across.preview(Some(&ledger), d(2045, 1, 1)).remaining_days,
            Some(24)
        );
        // Without dates the balance of today's year is shown.
        let no_dates = PreviewQuery {
            doctor_id: Some(3),
            reason: Some("Urlaub".into()),
            ..Default::default()
        };
        assert_eq!(
            no_dates
                .preview(Some(&ledger), d(2045, 3, 1))
                .remaining_days,
            Some(25)
        );
        assert_eq!(
            no_dates
                .preview(Some(&ledger), d(2044, 3, 1))
                .remaining_days,
            Some(30)
        );
    }

    #[test]
    fn local_range_covers_whole_practice_days() {
        let tz = chrono_tz::Europe::Berlin;
        let (from, to) = local_range(tz, d(2045, 6, 5), d(2045, 6, 6)).unwrap();
        assert_eq!(from.to_rfc3339(), "2045-06-04T22:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2045-06-06T22:00:00+00:00");
        // Across the autumn DST change the range is 25 hours longer than 24 * days - 1.
        let (from, to) = local_range(tz, d(2026, 10, 25), d(2026, 10, 25)).unwrap();
        assert_eq!((to - from).num_hours(), 25);
        assert_eq!(local_range(tz, d(2045, 6, 6), d(2045, 6, 5)), None);
    }
}
