//! Legal retention of medical records (docs/data-protection.md, "Patient rights").
//!
//! § 630f Abs. 3 BGB: the patient file is kept for ten years after the treatment ended.
//! Praxi counts from the local day of the patient's newest medical record (appointment or
//! operation start, flow, note or document), so a patient with a booking in the future is
//! retained until ten years after that booking. Erasure before the end needs an explicit
//! override (an admin confirms with a reason).

use chrono::{Datelike, NaiveDate};

/// Years medical records are kept (§ 630f Abs. 3 BGB).
pub const RETENTION_YEARS: i32 = 10;

/// The last day of the retention period of records whose newest is from `last_record_day`.
/// A 29 February ends on 28 February.
pub fn retention_until(last_record_day: NaiveDate) -> NaiveDate {
    let year = last_record_day.year() + RETENTION_YEARS;
    last_record_day
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, last_record_day.month(), 28))
        .unwrap_or(last_record_day)
}

/// The end of the retention period when it still runs on `today` (`None`: no records, or the
/// period is over, so erasure needs no override).
pub fn retention_applies(
    last_record_day: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let until = retention_until(last_record_day?);
    (today <= until).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn records_are_kept_ten_years() {
        assert_eq!(retention_until(day(2020, 3, 15)), day(2030, 3, 15));
        assert_eq!(retention_until(day(2024, 2, 29)), day(2034, 2, 28));
        assert_eq!(
            retention_applies(Some(day(2020, 3, 15)), day(2030, 3, 15)),
            Some(day(2030, 3, 15))
        );
        assert_eq!(
            retention_applies(Some(day(2020, 3, 15)), day(2030, 3, 16)),
            None
        );
        assert_eq!(retention_applies(None, day(2030, 3, 16)), None);
    }
}
