//! Practice wall-clock time ↔ UTC instants, with the explicit DST policy of the module doc.

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::interval::Interval;

/// Slot grid size in wall-clock minutes: slot starts are local times whose minute is divisible
/// by this value (seconds and sub-seconds zero).
pub const GRID_MINUTES: u32 = 5;

const GRID_SECONDS: i64 = GRID_MINUTES as i64 * 60;

/// A wall-clock time the practice zone cannot resolve strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    /// The local time falls into a spring-forward gap and never happens on that date.
    #[error("non-existent local time {0} in the practice time zone")]
    NonExistent(NaiveDateTime),
}

/// Resolves a wall-clock value from configuration (hours, breaks, day bounds) to an instant.
///
/// Policy: a time inside a spring-forward gap is clamped to the first instant after the gap
/// (02:30 on the Berlin spring day becomes 03:00 CEST = 01:00 UTC); an ambiguous time in the
/// autumn fold takes the earlier instant (02:30 becomes 02:30 CEST = 00:30 UTC).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => gap_end(tz, local),
    }
}

/// Resolves a wall-clock value typed by a user (e.g. a naive request datetime).
///
/// Same as [`local_to_utc`] except that a time inside a spring-forward gap is an error rather
/// than silently moved; ambiguous times take the earlier instant.
pub fn local_to_utc_strict(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, LocalTimeError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Ok(a.min(b).with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::NonExistent(local)),
    }
}

/// The local calendar date of an instant in the practice zone.
pub fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The local wall-clock time of an instant in the practice zone.
pub fn local_time(tz: Tz, t: DateTime<Utc>) -> NaiveTime {
    t.with_timezone(&tz).time()
}

/// The instants of local date `date`: `[00:00 date, 00:00 date+1)` resolved by
/// [`local_to_utc`]. On DST days this is 23 or 25 hours long.
pub fn local_day(tz: Tz, date: NaiveDate) -> Option<Interval> {
    let next = date.succ_opt()?;
    Interval::new(
        local_to_utc(tz, date.and_time(NaiveTime::MIN)),
        local_to_utc(tz, next.and_time(NaiveTime::MIN)),
    )
    .ok()
}

/// The instants of the wall-clock window `[start, end)` on `date`, resolved by
/// [`local_to_utc`]; `None` when the window is empty (or vanishes in a DST gap).
pub fn local_window(tz: Tz, date: NaiveDate, start: NaiveTime, end: NaiveTime) -> Option<Interval> {
    Interval::new(
        local_to_utc(tz, date.and_time(start)),
        local_to_utc(tz, date.and_time(end)),
    )
    .ok()
}

/// True when the wall-clock time of `t` is on the slot grid (minute divisible by
/// [`GRID_MINUTES`], zero seconds).
pub fn is_on_grid(tz: Tz, t: DateTime<Utc>) -> bool {
    t.timestamp_subsec_nanos() == 0
        && (t.timestamp() + offset_seconds(tz, t)).rem_euclid(GRID_SECONDS) == 0
}

/// The first instant `>= t` whose wall-clock time is on the slot grid.
///
/// Any seconds first round up to the next full minute, then the minute rounds up to a multiple
/// of five: 15:00:00 stays, 15:00:01 and 15:02:10 become 15:05. Across an offset change the grid
/// is re-anchored on the new wall clock.
pub fn ceil_to_grid(tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let mut t = t;
    loop {
        let offset = offset_seconds(tz, t);
        let local_seconds = t.timestamp() + offset;
        let rem = local_seconds.rem_euclid(GRID_SECONDS);
        if rem == 0 && t.timestamp_subsec_nanos() == 0 {
            return t;
        }
        let candidate_seconds = local_seconds - rem + GRID_SECONDS - offset;
        let Some(candidate) = DateTime::from_timestamp(candidate_seconds, 0) else {
            return t;
        };
        if offset_seconds(tz, candidate) == offset {
            return candidate;
        }
        // The offset changes inside (t, candidate]: restart from the transition instant, where
        // the new wall clock may already be on the grid.
        t = first_change(tz, t.timestamp(), candidate_seconds, offset);
    }
}

/// Seconds to add to UTC to get the practice wall clock at `t`.
fn offset_seconds(tz: Tz, t: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// The first whole second in `(lo, hi]` whose offset differs from `offset`, given that the
/// offset at `lo` equals `offset` and the offset at `hi` does not.
fn first_change(tz: Tz, mut lo: i64, mut hi: i64, offset: i64) -> DateTime<Utc> {
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_seconds(tz, at(mid)) == offset {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

/// The first instant whose wall clock is at or after `local`, for a `local` inside a gap: the
/// transition instant that ends the gap.
fn gap_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    // Real offsets lie within ±1 day, so the answer lies in this range; wall clock as a function
    // of the instant is increasing here except at a fold, which never sits next to a gap.
    let guess = local.and_utc();
    let day = TimeDelta::days(1);
    let mut lo = guess.checked_sub_signed(day).unwrap_or(guess).timestamp();
    let mut hi = guess.checked_add_signed(day).unwrap_or(guess).timestamp();
    let wall =
        |secs: i64| DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&tz).naive_local());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if wall(mid).is_some_and(|w| w >= local) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(guess)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use chrono_tz::{America, Asia, Australia, Europe};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        date(y, mo, d).and_hms_opt(h, mi, s).expect("valid time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        local(y, mo, d, h, mi, s).and_utc()
    }

    #[test]
    fn wall_clock_resolution_follows_the_dst_policy() {
        let berlin = Europe::Berlin;
        let cases = [
            // Ordinary winter and summer times.
            (local(2026, 1, 12, 8, 30, 0), utc(2026, 1, 12, 7, 30, 0)),
            (local(2026, 7, 13, 8, 30, 0), utc(2026, 7, 13, 6, 30, 0)),
            // Spring gap 02:00–03:00 on 2026-03-29: clamped to 03:00 CEST = 01:00Z.
            (local(2026, 3, 29, 2, 0, 0), utc(2026, 3, 29, 1, 0, 0)),
            (local(2026, 3, 29, 2, 30, 0), utc(2026, 3, 29, 1, 0, 0)),
            (local(2026, 3, 29, 3, 0, 0), utc(2026, 3, 29, 1, 0, 0)),
            (local(2026, 3, 29, 1, 59, 0), utc(2026, 3, 29, 0, 59, 0)),
            // Autumn fold 02:00–03:00 on 2026-10-25: the earlier (CEST) instant.
            (local(2026, 10, 25, 2, 30, 0), utc(2026, 10, 25, 0, 30, 0)),
            (local(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0)),
        ];
        for (wall, expected) in cases {
            assert_eq!(local_to_utc(berlin, wall), expected, "{wall}");
        }
    }

    #[test]
    fn strict_resolution_rejects_gap_times_and_takes_earlier_fold_instant() {
        let berlin = Europe::Berlin;
        let gap = local(2026, 3, 29, 2, 30, 0);
        assert_eq!(
            local_to_utc_strict(berlin, gap),
            Err(LocalTimeError::NonExistent(gap))
        );
        assert_eq!(
            local_to_utc_strict(berlin, local(2026, 10, 25, 2, 30, 0)),
            Ok(utc(2026, 10, 25, 0, 30, 0))
        );
    }

    #[test]
    fn gap_clamping_works_for_other_zones() {
        // New York springs forward 02:00 EST -> 03:00 EDT (07:00Z); Lord Howe by 30 minutes.
        assert_eq!(
            local_to_utc(America::New_York, local(2026, 3, 8, 2, 15, 0)),
            utc(2026, 3, 8, 7, 0, 0)
        );
        assert_eq!(
            local_to_utc(Australia::Lord_Howe, local(2026, 10, 4, 2, 10, 0)),
            utc(2026, 10, 3, 15, 30, 0)
        );
    }

    #[test]
    fn local_day_length_is_real_time_on_dst_days() {
        let berlin = Europe::Berlin;
        let hours = |d| local_day(berlin, d).map(|i| i.duration().num_hours());
        assert_eq!(hours(date(2026, 3, 29)), Some(23));
        assert_eq!(hours(date(2026, 10, 25)), Some(25));
        assert_eq!(hours(date(2026, 6, 1)), Some(24));
    }

    #[test]
    fn ceil_to_grid_rounds_seconds_then_minutes_up() {
        let berlin = Europe::Berlin;
        let cases = [
            (utc(2030, 1, 15, 14, 0, 0), utc(2030, 1, 15, 14, 0, 0)),
            (utc(2030, 1, 15, 14, 0, 1), utc(2030, 1, 15, 14, 5, 0)),
            (utc(2030, 1, 15, 14, 2, 10), utc(2030, 1, 15, 14, 5, 0)),
            (utc(2030, 1, 15, 14, 57, 0), utc(2030, 1, 15, 15, 0, 0)),
            // Across the spring transition (01:00Z): local 01:58 CET -> 03:00 CEST.
            (utc(2026, 3, 29, 0, 58, 0), utc(2026, 3, 29, 1, 0, 0)),
        ];
        for (input, expected) in cases {
            assert_eq!(ceil_to_grid(berlin, input), expected, "{input}");
        }
    }

    #[test]
    fn grid_is_anchored_on_the_local_wall_clock() {
        // Kathmandu is UTC+05:45: local :00 is UTC :15.
        let kathmandu = Asia::Kathmandu;
        let t = ceil_to_grid(kathmandu, utc(2026, 5, 4, 3, 12, 0));
        assert_eq!(t, utc(2026, 5, 4, 3, 15, 0));
        assert!(is_on_grid(kathmandu, t));
        // Monrovia moved from -00:44:30 to GMT at 1972-01-07 00:44:30Z: the local midnight the
        // old wall clock aims for is the transition itself, so the grid is re-anchored.
        let monrovia = chrono_tz::Africa::Monrovia;
        let t = ceil_to_grid(monrovia, utc(1972, 1, 7, 0, 40, 0));
        assert_eq!(t, utc(1972, 1, 7, 0, 45, 0));
        assert!(is_on_grid(monrovia, t));
        assert_eq!(t.with_timezone(&monrovia).minute() % GRID_MINUTES, 0);
    }
}
