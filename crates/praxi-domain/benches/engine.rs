//! Criterion benchmarks of the scheduling engine on a realistic practice: five doctors,
//! Mon–Fri 08:00–18:00 with a daily practice-wide lunch break, calendars about 70 % booked,
//! operations holding rooms and devices.
//!
//! ```text
//! cargo bench -p praxi-domain --bench engine
//! cargo bench -p praxi-domain --bench engine -- suggest      # one group
//! cargo bench -p praxi-domain --bench engine -- --quick      # shorter runs
//! ```
//!
//! The target (≤ 1 ms for a 14-day suggestion for one doctor with ~100 busy intervals in the
//! horizon) is measured here and by `praxi-bench` (on a schedule loaded from a seeded database),
//! never asserted. `cargo test --benches` runs every benchmark once as a smoke test.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use praxi_domain::scheduling::{
    AppointmentId, AppointmentRequest, BookingState, Break, BreakId, BusyInterval, DoctorHours,
    Interval, OperationId, Participants, PatientId, ResourceId, Schedule, ScheduleInput,
    SlotDuration, SlotQuery, SlotSpacing, Team, UserId, WeeklyWindow, local_to_utc,
};

const DOCTORS: [UserId; 5] = [UserId(1), UserId(2), UserId(3), UserId(4), UserId(5)];
const ROOMS: [ResourceId; 3] = [ResourceId(100), ResourceId(101), ResourceId(102)];
const DEVICE: ResourceId = ResourceId(200);
const TZ: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// Deterministic pseudo-random numbers (no `rand` dependency in the domain crate).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 16).expect("valid date")
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

fn local(date: NaiveDate, minute_of_day: u32) -> DateTime<Utc> {
    local_to_utc(
        TZ,
        date.and_time(hm(minute_of_day / 60, minute_of_day % 60)),
    )
}

/// The practice for `days` days from [`first_day`]; doctor 1's working days are filled up to
/// `fill_until` (exclusive) with 20–40 minute appointments leaving short gaps.
fn practice(days: i64, fill_until: i64) -> ScheduleInput {
    let mut input = ScheduleInput::new(TZ);
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    for weekday in weekdays {
        let window = WeeklyWindow {
            weekday,
            start: hm(8, 0),
            end: hm(18, 0),
            active: true,
        };
        input.practice_hours.push(window);
        for doctor in DOCTORS {
            input.doctor_hours.push(DoctorHours { doctor, window });
        }
    }
    let mut rng = Lcg(42);
    let (mut appointment_id, mut operation_id, mut break_id) = (1, 1, 1);
    for day in 0..days {
        let date = first_day() + TimeDelta::days(day);
        input.breaks.push(Break {
            id: BreakId(break_id),
            doctor: None,
            date,
            start: hm(12, 30),
            end: hm(13, 0),
            active: true,
        });
        break_id += 1;
        for (idx, doctor) in DOCTORS.iter().enumerate() {
            let full = *doctor == DOCTORS[0] && day < fill_until;
            let mut minute = 8 * 60;
            while minute < 18 * 60 {
                let length = 20 + 5 * rng.below(5) as u32;
                let gap = if full {
                    5 * rng.below(3) as u32
                } else {
                    5 * rng.below(12) as u32
                };
                let start = minute + gap;
                minute = start + length;
                if rng.below(10) < 3 && !full {
                    continue; // about 30 % free
                }
                let Ok(interval) = Interval::new(local(date, start), local(date, minute)) else {
                    continue;
                };
                if rng.below(12) == 0 {
                    let Ok(team) = Team::new(*doctor, Some(DOCTORS[(idx + 1) % 5]), None) else {
                        continue;
                    };
                    input.busy.extend(BusyInterval::for_operation(
                        OperationId(operation_id),
                        interval,
                        BookingState::Active,
                        &team,
                        PatientId(10_000 + operation_id as i32),
                        ROOMS[idx % 3],
                        &[DEVICE],
                    ));
                    operation_id += 1;
                } else {
                    let state = if !full && rng.below(20) == 0 {
                        BookingState::Cancelled
                    } else {
                        BookingState::Active
                    };
                    let resources = if rng.below(3) == 0 {
                        vec![ROOMS[idx % 3]]
                    } else {
                        vec![]
                    };
                    input.busy.extend(BusyInterval::for_appointment(
                        AppointmentId(appointment_id),
                        interval,
                        state,
                        *doctor,
                        PatientId(appointment_id),
                        &resources,
                    ));
                    appointment_id += 1;
                }
            }
        }
    }
    input
}

fn now() -> DateTime<Utc> {
    local(first_day(), 7 * 60)
}

fn suggest_query(limit: usize) -> SlotQuery {
    let duration = SlotDuration::from_minutes(30).expect("valid duration");
    let mut query = SlotQuery::for_appointment(DOCTORS[0], vec![ROOMS[0]], duration, first_day());
    query.days = 14;
    query.limit = limit;
    query.spacing = SlotSpacing::BackToBack;
    query
}

fn suggest(c: &mut Criterion) {
    // Doctor 1 is fully booked until the second Friday (day 11 of 14), so the sweep walks
    // almost the whole horizon before it finds room.
    let input = practice(14, 11);
    let in_horizon = input
        .busy
        .iter()
        .filter(|b| {
            matches!(b.occupant, praxi_domain::scheduling::Occupant::Person { user, .. } if user == DOCTORS[0])
        })
        .count();
    let schedule = Schedule::new(input);
    let query = suggest_query(1);
    let slots = schedule.suggest(&query, now()).unwrap_or_default();
    assert_eq!(slots.len(), 1, "the second friday has room");
    let mut group = c.benchmark_group("suggest");
    group.bench_function(
        format!("14 days, limit 1, {in_horizon} busy intervals of the doctor"),
        |b| b.iter(|| schedule.suggest(black_box(&query), now()).ok()),
    );
    let query = suggest_query(50);
    group.bench_function("14 days, limit 50", |b| {
        b.iter(|| schedule.suggest(black_box(&query), now()).ok())
    });
    group.finish();
}

fn build_index(c: &mut Criterion) {
    let input = practice(31, 0);
    let n_busy = input.busy.len();
    c.bench_function(
        &format!("Schedule::new, 31 days, {n_busy} busy intervals"),
        |b| b.iter(|| Schedule::new(black_box(input.clone()))),
    );
}

fn check_appointment(c: &mut Criterion) {
    let schedule = Schedule::new(practice(31, 0));
    let start = local(first_day() + TimeDelta::days(3), 10 * 60);
    let interval = Interval::new(start, start + TimeDelta::minutes(30)).expect("valid interval");
    let request = AppointmentRequest {
        buffers: praxi_domain::scheduling::Buffers::NONE,
        id: None,
        doctor: DOCTORS[2],
        patient: PatientId(1),
        interval,
        resources: Vec::new(),
    };
    c.bench_function("check_appointment", |b| {
        b.iter(|| schedule.check_appointment(black_box(&request)).ok())
    });
}

fn calendar_month(c: &mut Criterion) {
    let schedule = Schedule::new(practice(31, 0));
    let duration = SlotDuration::from_minutes(30).expect("valid duration");
    let to = first_day() + TimeDelta::days(30);
    let mut group = c.benchmark_group("calendar month");
    group.bench_function("availability_for_range, 31 days, 5 doctors", |b| {
        b.iter(|| {
            schedule.doctors_availability_for_range(&DOCTORS, first_day(), to, duration, now())
        })
    });
    let participants = Participants::doctor(DOCTORS[1]);
    group.bench_function("free_time_between, 31 days, 1 doctor", |b| {
        b.iter(|| schedule.free_time_between(&participants, first_day(), to, None))
    });
    group.finish();
}

criterion_group!(
    engine,
    suggest,
    build_index,
    check_appointment,
    calendar_month
);
criterion_main!(engine);
