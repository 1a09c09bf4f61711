//! Fuzzing the engine with hostile input: inverted and empty windows, windows in DST gaps,
//! zones with 30-minute and whole-day jumps, absences that end before they start, bookings of
//! days, out-of-range horizons, limits and durations. Nothing may panic; whatever is suggested
//! must pass the conflict check.
//!
//! The number of cases is `PRAXI_FUZZ_CASES` (default 1,000, a few seconds); the long run
//! recorded in `docs/reliability.md` used `PRAXI_FUZZ_CASES=1000000` in release mode.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use super::testkit::{A, B, P, Q, R, V};
use super::*;

/// Case count from `PRAXI_FUZZ_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PRAXI_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// Zones with ordinary DST (Berlin), 30-minute DST (Lord Howe), a skipped calendar day (Apia,
/// 2011-12-30) and none (UTC).
fn zones() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(chrono_tz::Europe::Berlin),
        Just(chrono_tz::Australia::Lord_Howe),
        Just(chrono_tz::Pacific::Apia),
        Just(chrono_tz::UTC),
    ]
}

fn start_dates() -> impl Strategy<Value = NaiveDate> {
    let fixed = |y, m, d| Just(NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN));
    prop_oneof![
        fixed(2026, 3, 27),
        fixed(2026, 10, 23),
        fixed(2026, 4, 3),
        fixed(2011, 12, 28),
        (0i64..60_000).prop_map(|days| {
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN) + Duration::days(days)
        }),
    ]
}

fn minute(m: u32) -> NaiveTime {
    NaiveTime::from_num_seconds_from_midnight_opt(m.min(1439) * 60, 0).unwrap_or(NaiveTime::MIN)
}

/// Any window, including inverted and empty ones.
fn window() -> impl Strategy<Value = (u8, u32, u32, bool)> {
    (0u8..7, 0u32..1440, 0u32..1440, prop::bool::weighted(0.8))
}

fn weekly(windows: Vec<(u8, u32, u32, bool)>) -> Vec<WeeklyWindow> {
    windows
        .into_iter()
        .filter_map(|(weekday, start, end, active)| {
            Some(WeeklyWindow {
                weekday: Weekday::try_from(weekday).ok()?,
                start: minute(start),
                end: minute(end),
                active,
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Hostile {
    input: ScheduleInput,
    start_date: NaiveDate,
    duration: i64,
    days: u32,
    limit: usize,
    back_to_back: bool,
    with_room: bool,
    now: DateTime<Utc>,
    request: (i64, i64),
}

prop_compose! {
    fn hostile()(
        tz in zones(),
        start_date in start_dates(),
        practice in prop::collection::vec(window(), 0..10),
        doctor in prop::collection::vec(window(), 0..10),
        absences in prop::collection::vec((-3i64..10, -3i64..10, any::<bool>()), 0..3),
        breaks in prop::collection::vec((-2i64..10, 0u8..3, 0u32..1440, 0u32..1440), 0..4),
        busy in prop::collection::vec((-3000i64..15_000, 1i64..4_000, 0u8..6, any::<bool>()), 0..30),
        duration in -5i64..(i64::from(MAX_DURATION_MINUTES) + 60),
        days in 0u32..20,
        limit in 0usize..(MAX_SUGGEST_LIMIT + 5),
        back_to_back in any::<bool>(),
        with_room in any::<bool>(),
        now_offset in -5000i64..20_000,
        request in (-3000i64..15_000, -30i64..2_000),
    ) -> Hostile {
        let mut input = ScheduleInput::new(tz);
        input.practice_hours = weekly(practice);
        input.doctor_hours = weekly(doctor)
            .into_iter()
            .flat_map(|window| [A, B].map(|doctor| DoctorHours { doctor, window }))
            .collect();
        input.absences = absences
            .into_iter()
            .enumerate()
            .map(|(idx, (from, to, active))| Absence {
                id: AbsenceId(idx as i64 + 1),
                doctor: A,
                start_date: start_date + Duration::days(from),
                end_date: start_date + Duration::days(to),
                active,
            })
            .collect();
        input.breaks = breaks
            .into_iter()
            .enumerate()
            .map(|(idx, (day, who, start, end))| Break {
                id: BreakId(idx as i64 + 1),
                doctor: match who { 0 => None, 1 => Some(A), _ => Some(B) },
                date: start_date + Duration::days(day),
                start: minute(start),
                end: minute(end),
                active: true,
            })
            .collect();
        let origin = start_date.and_time(NaiveTime::MIN).and_utc();
        for (idx, (offset, length, target, active)) in busy.into_iter().enumerate() {
            let Some(interval) =
                Interval::starting_at(origin + Duration::minutes(offset), Duration::minutes(length))
            else {
                continue;
            };
            let occupant = match target {
                0 => Occupant::Person { user: A, role: PersonRole::AppointmentDoctor },
                1 => Occupant::Person { user: A, role: PersonRole::Anesthesist },
                2 => Occupant::Person { user: B, role: PersonRole::AppointmentDoctor },
                3 => Occupant::Resource(R),
                4 => Occupant::Patient(P),
                _ => Occupant::Resource(V),
            };
            input.busy.push(BusyInterval {
                interval,
                booking: BookingRef::Appointment(AppointmentId(idx as i32 + 1)),
                occupant,
                state: if active { BookingState::Active } else { BookingState::Cancelled },
            });
        }
        Hostile {
            input,
            start_date,
            duration,
            days,
            limit,
            back_to_back,
            with_room,
            now: origin + Duration::minutes(now_offset) + Duration::seconds(now_offset % 61),
            request,
        }
    }
}

impl Hostile {
    fn resources(&self) -> Vec<RequestedResource> {
        if self.with_room {
            vec![RequestedResource {
                id: R,
                kind: ResourceKind::Room,
            }]
        } else {
            Vec::new()
        }
    }

    fn appointment(&self, interval: Interval) -> AppointmentRequest {
        AppointmentRequest {
            buffers: Buffers::NONE,
            id: None,
            doctor: A,
            patient: Q,
            interval,
            resources: self.resources(),
        }
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn hostile_schedules_never_panic_and_suggestions_pass_the_checker(h in hostile()) {
        let schedule = Schedule::new(h.input.clone());

        // An arbitrary booking request: checked without panicking, whatever the answer.
        let origin = h.start_date.and_time(NaiveTime::MIN).and_utc();
        if let Some(interval) = Interval::starting_at(
            origin + Duration::minutes(h.request.0),
            Duration::minutes(h.request.1),
        ) {
            let _ = schedule.check_appointment(&h.appointment(interval));
            if let Ok(team) = Team::new(A, Some(B), None) {
                let _ = schedule.check_operation(&OperationRequest {
                    id: None,
                    patient: P,
                    team,
                    room: R,
                    devices: vec![V],
                    interval,
                });
            }
        }

        let Ok(duration) = SlotDuration::from_minutes(h.duration) else {
            prop_assert!(h.duration < 1 || h.duration > i64::from(MAX_DURATION_MINUTES));
            return Ok(());
        };
        let resources = if h.with_room { vec![R] } else { Vec::new() };
        let mut query = SlotQuery::for_appointment(A, resources, duration, h.start_date);
        query.days = h.days;
        query.limit = h.limit;
        query.spacing = if h.back_to_back { SlotSpacing::BackToBack } else { SlotSpacing::Grid };
        let Ok(slots) = schedule.suggest(&query, h.now) else {
            // Refused queries are the out-of-range ones only.
            prop_assert!(h.days == 0 || h.limit == 0 || h.limit > MAX_SUGGEST_LIMIT);
            return Ok(());
        };
        prop_assert!(slots.len() <= h.limit);
        for pair in slots.windows(2) {
            prop_assert!(pair[0].start() < pair[1].start());
        }
        for slot in &slots {
            prop_assert!(is_on_grid(h.input.time_zone, slot.start()));
            prop_assert_eq!(slot.interval().duration(), duration.as_delta());
            prop_assert_eq!(schedule.check_appointment(&h.appointment(slot.interval())), Ok(()));
        }
    }
}
