//! German public holidays computed from the year (issue #14): the nationwide ones, the ones
//! of each federal state, and the practice's per-date overrides, folded into the days the
//! practice is closed ([`ClosedDay`]), which the engine treats like a day without hours.
//!
//! Easter Sunday comes from the anonymous Gregorian algorithm (Meeus/Jones/Butcher); every
//! movable holiday is an offset from it. Only statutory holidays of a whole state are listed
//! (no municipal ones such as Fronleichnam in parts of Saxony or Mariä Himmelfahrt in parts of
//! Bavaria), with the year a rule started where it changed recently.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Serialize;

/// Whose holidays apply: nationwide only, or nationwide plus one federal state's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HolidayRegion {
    /// Only the nationwide holidays (`DE`).
    Nationwide,
    /// Baden-Württemberg.
    BW,
    /// Bayern.
    BY,
    /// Berlin.
    BE,
    /// Brandenburg.
    BB,
    /// Bremen.
    HB,
    /// Hamburg.
    HH,
    /// Hessen.
    HE,
    /// Mecklenburg-Vorpommern.
    MV,
    /// Niedersachsen.
    NI,
    /// Nordrhein-Westfalen.
    NW,
    /// Rheinland-Pfalz.
    RP,
    /// Saarland.
    SL,
    /// Sachsen.
    SN,
    /// Sachsen-Anhalt.
    ST,
    /// Schleswig-Holstein.
    SH,
    /// Thüringen.
    TH,
}

impl HolidayRegion {
    /// Every region, nationwide first, then the states in their usual order.
    pub const ALL: [HolidayRegion; 17] = [
        HolidayRegion::Nationwide,
        HolidayRegion::BW,
        HolidayRegion::BY,
        HolidayRegion::BE,
        HolidayRegion::BB,
        HolidayRegion::HB,
        HolidayRegion::HH,
        HolidayRegion::HE,
        HolidayRegion::MV,
        HolidayRegion::NI,
        HolidayRegion::NW,
        HolidayRegion::RP,
        HolidayRegion::SL,
        HolidayRegion::SN,
        HolidayRegion::ST,
        HolidayRegion::SH,
        HolidayRegion::TH,
    ];

    /// The stored and API code (`DE`, `BW`, … `TH`).
    pub fn code(&self) -> &'static str {
        use HolidayRegion::*;
        match self {
            Nationwide => "DE",
            BW => "BW",
            BY => "BY",
            BE => "BE",
            BB => "BB",
            HB => "HB",
            HH => "HH",
            HE => "HE",
            MV => "MV",
            NI => "NI",
            NW => "NW",
            RP => "RP",
            SL => "SL",
            SN => "SN",
            ST => "ST",
            SH => "SH",
            TH => "TH",
        }
    }

    /// The German name (for the administration's select box).
    pub fn name(&self) -> &'static str {
        use HolidayRegion::*;
        match self {
            Nationwide => "Deutschland (nur bundesweite Feiertage)",
            BW => "Baden-Württemberg",
            BY => "Bayern",
            BE => "Berlin",
            BB => "Brandenburg",
            HB => "Bremen",
            HH => "Hamburg",
            HE => "Hessen",
            MV => "Mecklenburg-Vorpommern",
            NI => "Niedersachsen",
            NW => "Nordrhein-Westfalen",
            RP => "Rheinland-Pfalz",
            SL => "Saarland",
            SN => "Sachsen",
            ST => "Sachsen-Anhalt",
            SH => "Schleswig-Holstein",
            TH => "Thüringen",
        }
    }
}

impl fmt::Display for HolidayRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown holiday region (expected DE or a state code such as BE)")]
pub struct UnknownRegion;

impl FromStr for HolidayRegion {
    type Err = UnknownRegion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        HolidayRegion::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or(UnknownRegion)
    }
}

/// One public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// The local date.
    pub date: NaiveDate,
    /// Its German name.
    pub name: &'static str,
}

/// Easter Sunday of `year` (anonymous Gregorian algorithm); `None` outside chrono's range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Buß- und Bettag: the Wednesday before 23 November.
fn repentance_day(year: i32) -> Option<NaiveDate> {
    let mut date = NaiveDate::from_ymd_opt(year, 11, 22)?;
    while date.weekday() != Weekday::Wed {
        date = date.pred_opt()?;
    }
    Some(date)
}

/// The public holidays of `year` in `region`, in date order.
pub fn holidays(year: i32, region: HolidayRegion) -> Vec<Holiday> {
    use HolidayRegion::*;
    let mut out = Vec::new();
    let fixed = |month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day);
    let Some(easter) = easter_sunday(year) else {
        return out;
    };
    let after_easter = |days: u64| easter.checked_add_days(Days::new(days));
    let before_easter = |days: u64| easter.checked_sub_days(Days::new(days));
    let mut push = |date: Option<NaiveDate>, name: &'static str| {
        if let Some(date) = date {
            out.push(Holiday { date, name });
        }
    };
    let is = |states: &[HolidayRegion]| states.contains(&region);

    push(fixed(1, 1), "Neujahr");
    if is(&[BW, BY, ST]) {
        push(fixed(1, 6), "Heilige Drei Könige");
    }
    if (region == BE && year >= 2019) || (region == MV && year >= 2023) {
        push(fixed(3, 8), "Internationaler Frauentag");
    }
    push(before_easter(2), "Karfreitag");
    if region == BB {
        push(Some(easter), "Ostersonntag");
    }
    push(after_easter(1), "Ostermontag");
    push(fixed(5, 1), "Tag der Arbeit");
    if region == BE && (year == 2020 || year == 2025) {
        push(fixed(5, 8), "Tag der Befreiung");
    }
    push(after_easter(39), "Christi Himmelfahrt");
    if region == BB {
        push(after_easter(49), "Pfingstsonntag");
    }
    push(after_easter(50), "Pfingstmontag");
    if is(&[BW, BY, HE, NW, RP, SL]) {
        push(after_easter(60), "Fronleichnam");
    }
    if region == SL {
        push(fixed(8, 15), "Mariä Himmelfahrt");
    }
    if region == TH && year >= 2019 {
        push(fixed(9, 20), "Weltkindertag");
    }
    if year >= 1990 {
        push(fixed(10, 3), "Tag der Deutschen Einheit");
    }
    let reformation =
        is(&[BB, MV, SN, ST, TH]) || (is(&[HB, HH, NI, SH]) && year >= 2018) || year == 2017;
    if reformation {
        push(fixed(10, 31), "Reformationstag");
    }
    if is(&[BW, BY, NW, RP, SL]) {
        push(fixed(11, 1), "Allerheiligen");
    }
    if region == SN {
        push(repentance_day(year), "Buß- und Bettag");
    }
    push(fixed(12, 25), "1. Weihnachtstag");
    push(fixed(12, 26), "2. Weihnachtstag");
    out.sort_by_key(|h| h.date);
    out
}

/// The practice's decision for one date, overriding the holiday calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayOverride {
    /// The local date.
    pub date: NaiveDate,
    /// `true`: closed (e.g. a bridge day or company holidays); `false`: open despite a holiday.
    pub closed: bool,
    /// What the practice calls the day (shown instead of the holiday's name).
    pub label: Option<String>,
}

/// Why a day is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBecause {
    /// A public holiday of the practice's region.
    Holiday,
    /// A per-date override of the practice.
    Override,
}

/// A local date on which the practice is closed for bookings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedDay {
    /// The local date.
    pub date: NaiveDate,
    /// Holiday name or the override's label.
    pub label: String,
    /// Holiday or override.
    pub because: ClosedBecause,
}

/// One day of the holiday calendar as the administration shows it: every holiday of the
/// range and every override, closed or open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    /// The local date.
    pub date: NaiveDate,
    /// The public holiday on that date, if any.
    pub holiday: Option<&'static str>,
    /// The override's label, if any.
    pub label: Option<String>,
    /// Whether bookings are refused on that date.
    pub closed: bool,
    /// Whether a per-date override decides.
    pub overridden: bool,
}

/// Holidays and overrides of the local dates `from..=to`: holidays are closed unless an
/// override opens them; an override can also close any other date. In date order.
pub fn calendar(
    region: Option<HolidayRegion>,
    from: NaiveDate,
    to: NaiveDate,
    overrides: &[DayOverride],
) -> Vec<CalendarDay> {
    let mut days: Vec<CalendarDay> = Vec::new();
    if let Some(region) = region {
        for year in from.year()..=to.year() {
            for holiday in holidays(year, region) {
                if holiday.date >= from && holiday.date <= to {
                    days.push(CalendarDay {
                        date: holiday.date,
                        holiday: Some(holiday.name),
                        label: None,
                        closed: true,
                        overridden: false,
                    });
                }
            }
        }
    }
    for o in overrides.iter().filter(|o| o.date >= from && o.date <= to) {
        match days.iter_mut().find(|d| d.date == o.date) {
            Some(day) => {
                day.closed = o.closed;
                day.label = o.label.clone();
                day.overridden = true;
            }
            None => days.push(CalendarDay {
                date: o.date,
                holiday: None,
                label: o.label.clone(),
                closed: o.closed,
                overridden: true,
            }),
        }
    }
    days.sort_by_key(|d| d.date);
    days
}

/// The closed days of `from..=to` (see [`calendar`]).
pub fn closed_days(
    region: Option<HolidayRegion>,
    from: NaiveDate,
    to: NaiveDate,
    overrides: &[DayOverride],
) -> Vec<ClosedDay> {
    calendar(region, from, to, overrides)
        .into_iter()
        .filter(|d| d.closed)
        .map(|d| ClosedDay {
            date: d.date,
            label: d
                .label
                .clone()
                .or(d.holiday.map(str::to_owned))
                .unwrap_or_else(|| "Praxis geschlossen".to_owned()),
            because: if d.overridden {
                ClosedBecause::Override
            } else {
                ClosedBecause::Holiday
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn easter_sunday_matches_known_years() {
        let cases = [
            (1961, d(1961, 4, 2)),
            (2000, d(2000, 4, 23)),
            (2008, d(2008, 3, 23)),
            (2011, d(2011, 4, 24)),
            (2019, d(2019, 4, 21)),
            (2024, d(2024, 3, 31)),
            (2025, d(2025, 4, 20)),
            (2026, d(2026, 4, 5)),
            (2027, d(2027, 3, 28)),
            (2030, d(2030, 4, 21)),
            (2038, d(2038, 4, 25)),
            (2285, d(2285, 3, 22)),
        ];
        for (year, expected) in cases {
            assert_eq!(easter_sunday(year), Some(expected), "{year}");
        }
    }

    #[test]
    fn nationwide_holidays_of_2026() {
        let names: Vec<(NaiveDate, &str)> = holidays(2026, HolidayRegion::Nationwide)
            .into_iter()
            .map(|h| (h.date, h.name))
            .collect();
        assert_eq!(
            names,
            vec![
                (d(2026, 1, 1), "Neujahr"),
                (d(2026, 4, 3), "Karfreitag"),
                (d(2026, 4, 6), "Ostermontag"),
                (d(2026, 5, 1), "Tag der Arbeit"),
                (d(2026, 5, 14), "Christi Himmelfahrt"),
                (d(2026, 5, 25), "Pfingstmontag"),
                (d(2026, 10, 3), "Tag der Deutschen Einheit"),
                (d(2026, 12, 25), "1. Weihnachtstag"),
                (d(2026, 12, 26), "2. Weihnachtstag"),
            ]
        );
    }

    #[test]
    fn state_holidays_follow_the_state_and_the_year() {
        let has =
            |year, region, date: NaiveDate| holidays(year, region).iter().any(|h| h.date == date);
        use HolidayRegion::*;
        // Berlin: Frauentag since 2019, Tag der Befreiung 2025, no Fronleichnam.
        assert!(has(2026, BE, d(2026, 3, 8)));
        assert!(!has(2018, BE, d(2018, 3, 8)));
        assert!(has(2025, BE, d(2025, 5, 8)));
        assert!(!has(2026, BE, d(2026, 6, 4)));
        // MV: Frauentag only since 2023; Reformationstag always.
        assert!(has(2023, MV, d(2023, 3, 8)));
        assert!(!has(2022, MV, d(2022, 3, 8)));
        assert!(has(2022, MV, d(2022, 10, 31)));
        // Fronleichnam 2026 (Easter + 60 = 4 June) in BY, NW; Allerheiligen in BW.
        assert!(has(2026, BY, d(2026, 6, 4)));
        assert!(has(2026, NW, d(2026, 6, 4)));
        assert!(has(2026, BW, d(2026, 11, 1)));
        assert!(has(2026, BW, d(2026, 1, 6)));
        assert!(!has(2026, NW, d(2026, 1, 6)));
        // Saarland: Mariä Himmelfahrt.
        assert!(has(2026, SL, d(2026, 8, 15)));
        assert!(!has(2026, BY, d(2026, 8, 15)));
        // Buß- und Bettag in Saxony: 2024-11-20, 2026-11-18, 2030-11-20.
        assert!(has(2024, SN, d(2024, 11, 20)));
        assert!(has(2026, SN, d(2026, 11, 18)));
        assert!(has(2030, SN, d(2030, 11, 20)));
        assert!(!has(2026, BE, d(2026, 11, 18)));
        // Weltkindertag in Thuringia since 2019.
        assert!(has(2026, TH, d(2026, 9, 20)));
        assert!(!has(2018, TH, d(2018, 9, 20)));
        // Reformationstag in the north since 2018, everywhere in 2017.
        assert!(has(2018, HH, d(2018, 10, 31)));
        assert!(!has(2016, HH, d(2016, 10, 31)));
        assert!(has(2017, BY, d(2017, 10, 31)));
        assert!(!has(2026, BY, d(2026, 10, 31)));
        // Brandenburg keeps Easter and Whit Sunday.
        assert!(has(2026, BB, d(2026, 4, 5)));
        assert!(has(2026, BB, d(2026, 5, 24)));
    }

    #[test]
    fn easter_monday_2030_is_closed_for_a_berlin_practice() {
        let closed = closed_days(Some(HolidayRegion::BE), d(2030, 4, 1), d(2030, 4, 30), &[]);
        let dates: Vec<NaiveDate> = closed.iter().map(|c| c.date).collect();
        assert_eq!(dates, vec![d(2030, 4, 19), d(2030, 4, 22)]);
        assert_eq!(closed[1].label, "Ostermontag");
        assert_eq!(closed[1].because, ClosedBecause::Holiday);
    }

    #[test]
    fn overrides_open_a_holiday_and_close_a_working_day() {
        let overrides = [
            DayOverride {
                date: d(2030, 4, 22),
                closed: false,
                label: Some("Notdienst".to_owned()),
            },
            DayOverride {
                date: d(2030, 4, 23),
                closed: true,
                label: None,
            },
        ];
        let closed = closed_days(
            Some(HolidayRegion::BE),
            d(2030, 4, 20),
            d(2030, 4, 30),
            &overrides,
        );
        assert_eq!(
            closed,
            vec![ClosedDay {
                date: d(2030, 4, 23),
                label: "Praxis geschlossen".to_owned(),
                because: ClosedBecause::Override,
            }]
        );
        // Without a region only the overrides count.
        let closed = closed_days(None, d(2030, 4, 20), d(2030, 4, 30), &overrides);
        assert_eq!(closed.len(), 1);
    }

    #[test]
    fn region_codes_round_trip() {
        for region in HolidayRegion::ALL {
            assert_eq!(region.code().parse::<HolidayRegion>(), Ok(region));
        }
        assert_eq!("be".parse::<HolidayRegion>(), Ok(HolidayRegion::BE));
        assert!("XX".parse::<HolidayRegion>().is_err());
    }
}

#[cfg(test)]
mod engine_tests {
    use chrono::TimeDelta;

    use super::super::testkit::*;
    use super::super::*;

    /// Easter Monday 2030 with normal Monday hours, closed as a Berlin practice would be.
    fn easter_monday() -> chrono::NaiveDate {
        date(2030, 4, 22)
    }

    fn fixture() -> Fixture {
        Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (8, 0), (16, 0))
            .closed(easter_monday(), "Ostermontag")
    }

    #[test]
    fn a_booking_on_a_closed_day_is_a_holiday_conflict() {
        let schedule = fixture().build();
        let day = easter_monday();
        let request = AppointmentRequest {
            buffers: Buffers::NONE,
            id: None,
            doctor: A,
            patient: P,
            interval: iv((day, 10, 0), (day, 10, 30)),
            resources: Vec::new(),
        };
        let conflicts = schedule
            .check_appointment(&request)
            .expect_err("closed day");
        assert_eq!(conflicts.conflicts().len(), 1, "{conflicts:?}");
        let Conflict::Holiday(holiday) = conflicts.first() else {
            panic!("expected a holiday conflict, got {conflicts:?}");
        };
        assert_eq!(holiday.label, "Ostermontag");
        assert_eq!(conflicts.first().code(), "holiday");
        assert!(conflicts.first().makes_doctor_unavailable());
        // The Monday after is a normal day.
        let next = day + TimeDelta::days(7);
        let request = AppointmentRequest {
            buffers: Buffers::NONE,
            interval: iv((next, 10, 0), (next, 10, 30)),
            ..request
        };
        assert!(schedule.check_appointment(&request).is_ok());
    }

    #[test]
    fn suggest_and_availability_skip_closed_days() {
        let schedule = fixture().build();
        let day = easter_monday();
        let now = utc(2030, 1, 1, 0, 0);
        let mut query = SlotQuery::for_appointment(A, Vec::new(), minutes(30), day);
        query.days = 8;
        let slots = schedule.suggest(&query, now).expect("valid query");
        let first = slots.first().expect("a slot the week after");
        assert_eq!(first.start(), at((day + TimeDelta::days(7), 8, 0)));
        let availability = schedule.availability_for_range(A, day, day, minutes(30), now);
        assert_eq!(availability.reason(), Some(UnavailableReason::Holiday));
        assert!(schedule.working_time(&[A], day).is_empty());
    }
}
