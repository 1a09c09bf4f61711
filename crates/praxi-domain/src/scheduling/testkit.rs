//! Test fixtures: a schedule builder in local wall-clock terms and the catalogue's cast
//! (doctors A, B, C; patients P, Q; room R; device V).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::*;

pub(crate) const A: UserId = UserId(1);
pub(crate) const B: UserId = UserId(2);
pub(crate) const C: UserId = UserId(3);
pub(crate) const P: PatientId = PatientId(10);
pub(crate) const Q: PatientId = PatientId(11);
pub(crate) const R: ResourceId = ResourceId(100);
pub(crate) const R2: ResourceId = ResourceId(101);
pub(crate) const V: ResourceId = ResourceId(200);

pub(crate) const MON: Weekday = Weekday::Mon;
pub(crate) const TUE: Weekday = Weekday::Tue;
pub(crate) const WED: Weekday = Weekday::Wed;
pub(crate) const SUN: Weekday = Weekday::Sun;

pub(crate) const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// Hour and minute of a wall-clock time.
pub(crate) type Hm = (u32, u32);
/// A local date with hour and minute.
pub(crate) type At = (NaiveDate, u32, u32);

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The catalogue's "Mon": Monday 2030-01-14 (winter, CET).
pub(crate) fn monday() -> NaiveDate {
    date(2030, 1, 14)
}

pub(crate) fn time((h, m): Hm) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

/// A Berlin wall-clock time as an instant (fails the test on a non-existent time).
pub(crate) fn at(a: At) -> DateTime<Utc> {
    at_in(BERLIN, a)
}

pub(crate) fn at_in(tz: Tz, (d, h, m): At) -> DateTime<Utc> {
    local_to_utc_strict(tz, d.and_time(time((h, m)))).expect("existing local time")
}

pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    date(y, mo, d)
        .and_hms_opt(h, mi, 0)
        .expect("valid time")
        .and_utc()
}

/// A Berlin wall-clock interval.
pub(crate) fn iv(start: At, end: At) -> Interval {
    iv_in(BERLIN, start, end)
}

pub(crate) fn iv_in(tz: Tz, start: At, end: At) -> Interval {
    Interval::new(at_in(tz, start), at_in(tz, end)).expect("non-empty interval")
}

/// A set of Berlin wall-clock intervals, each on one date.
pub(crate) fn set(items: &[(NaiveDate, Hm, Hm)]) -> IntervalSet {
    items
        .iter()
        .map(|&(d, s, e)| iv((d, s.0, s.1), (d, e.0, e.1)))
        .collect()
}

pub(crate) fn team(
    primary: UserId,
    assistant: Option<UserId>,
    anesthesist: Option<UserId>,
) -> Team {
    Team::new(primary, assistant, anesthesist).expect("distinct team")
}

pub(crate) fn minutes(m: i64) -> SlotDuration {
    SlotDuration::from_minutes(m).expect("valid duration")
}

/// Builds a [`Schedule`] from wall-clock values in the fixture's zone.
pub(crate) struct Fixture {
    input: ScheduleInput,
    next_break: i64,
}

impl Fixture {
    pub(crate) fn in_zone(tz: Tz) -> Self {
        Self {
            input: ScheduleInput::new(tz),
            next_break: 1,
        }
    }

    pub(crate) fn berlin() -> Self {
        Self::in_zone(BERLIN)
    }

    fn tz(&self) -> Tz {
        self.input.time_zone
    }

    fn window(weekday: Weekday, start: Hm, end: Hm, active: bool) -> WeeklyWindow {
        WeeklyWindow {
            weekday,
            start: time(start),
            end: time(end),
            active,
        }
    }

    pub(crate) fn practice(mut self, weekday: Weekday, start: Hm, end: Hm) -> Self {
        self.input
            .practice_hours
            .push(Self::window(weekday, start, end, true));
        self
    }

    pub(crate) fn inactive_practice(mut self, weekday: Weekday, start: Hm, end: Hm) -> Self {
        self.input
            .practice_hours
            .push(Self::window(weekday, start, end, false));
        self
    }

    pub(crate) fn doctor_hours(
        mut self,
        doctor: UserId,
        weekday: Weekday,
        start: Hm,
        end: Hm,
    ) -> Self {
        self.input.doctor_hours.push(DoctorHours {
            doctor,
            window: Self::window(weekday, start, end, true),
        });
        self
    }

    /// Practice and doctor hours for every weekday and the given doctors.
    pub(crate) fn open_every_day(mut self, doctors: &[UserId], start: Hm, end: Hm) -> Self {
        for weekday in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            self = self.practice(weekday, start, end);
            for doctor in doctors {
                self = self.doctor_hours(*doctor, weekday, start, end);
            }
        }
        self
    }

    fn push_absence(
        mut self,
        id: i64,
        doctor: UserId,
        from: NaiveDate,
        to: NaiveDate,
        active: bool,
    ) -> Self {
        self.input.absences.push(Absence {
            id: AbsenceId(id),
            doctor,
            start_date: from,
            end_date: to,
            active,
        });
        self
    }

    pub(crate) fn absence(self, id: i64, doctor: UserId, from: NaiveDate, to: NaiveDate) -> Self {
        self.push_absence(id, doctor, from, to, true)
    }

    pub(crate) fn inactive_absence(
        self,
        id: i64,
        doctor: UserId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Self {
        self.push_absence(id, doctor, from, to, false)
    }

    fn push_break(mut self, doctor: Option<UserId>, d: NaiveDate, start: Hm, end: Hm) -> Self {
        self.input.breaks.push(Break {
            id: BreakId(self.next_break),
            doctor,
            date: d,
            start: time(start),
            end: time(end),
            active: true,
        });
        self.next_break += 1;
        self
    }

    pub(crate) fn practice_break(self, d: NaiveDate, start: Hm, end: Hm) -> Self {
        self.push_break(None, d, start, end)
    }

    pub(crate) fn doctor_break(self, doctor: UserId, d: NaiveDate, start: Hm, end: Hm) -> Self {
        self.push_break(Some(doctor), d, start, end)
    }

    fn push_appointment(
        mut self,
        id: i32,
        doctor: UserId,
        patient: PatientId,
        (start, end): (At, At),
        resources: &[ResourceId],
        state: BookingState,
    ) -> Self {
        let interval = iv_in(self.tz(), start, end);
        self.input.busy.extend(BusyInterval::for_appointment(
            AppointmentId(id),
            interval,
            state,
            doctor,
            patient,
            resources,
        ));
        self
    }

    pub(crate) fn appointment(
        self,
        id: i32,
        doctor: UserId,
        patient: PatientId,
        start: At,
        end: At,
        resources: &[ResourceId],
    ) -> Self {
        self.push_appointment(
            id,
            doctor,
            patient,
            (start, end),
            resources,
            BookingState::Active,
        )
    }

    pub(crate) fn cancelled_appointment(
        self,
        id: i32,
        doctor: UserId,
        patient: PatientId,
        start: At,
        end: At,
    ) -> Self {
        self.push_appointment(
            id,
            doctor,
            patient,
            (start, end),
            &[],
            BookingState::Cancelled,
        )
    }

    #[expect(clippy::too_many_arguments, reason = "mirrors the operation row")]
    pub(crate) fn operation(
        mut self,
        id: i64,
        team: Team,
        patient: PatientId,
        room: ResourceId,
        devices: &[ResourceId],
        start: At,
        end: At,
    ) -> Self {
        let interval = iv_in(self.tz(), start, end);
        self.input.busy.extend(BusyInterval::for_operation(
            OperationId(id),
            interval,
            BookingState::Active,
            &team,
            patient,
            room,
            devices,
        ));
        self
    }

    pub(crate) fn build(self) -> Schedule {
        Schedule::new(self.input)
    }
}

impl Fixture {
    /// Closes the practice on `date` (holidays and overrides arrive like this).
    pub(crate) fn closed(mut self, date: NaiveDate, label: &str) -> Self {
        self.input.closed_days.push(ClosedDay {
            date,
            label: label.to_owned(),
            because: ClosedBecause::Holiday,
        });
        self
    }

    /// The raw input, for tests that add hand-made rows.
    pub(crate) fn build_input(self) -> ScheduleInput {
        self.input
    }
}
