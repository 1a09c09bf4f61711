//! Buffers per appointment type (issue #14): the doctor and resources are occupied during the
//! widened interval; widened intervals of the same doctor or resource must not overlap; the
//! patient, hours and breaks see only the core. The store hands stored appointments in
//! already widened (their type's buffers), so here an existing booking with a 15-minute
//! after-buffer is simply busy until 15 minutes after its end.

use super::testkit::*;
use super::*;

fn fixture() -> Fixture {
    let day = monday();
    Fixture::berlin()
        .practice(MON, (8, 0), (12, 0))
        .doctor_hours(A, MON, (8, 0), (12, 0))
        // Appointment 10:00–10:30 whose type has 15 minutes of cleaning after it.
        .appointment(1, A, P, (day, 10, 0), (day, 10, 45), &[])
}

fn request(start: (u32, u32), end: (u32, u32), buffers: Buffers) -> AppointmentRequest {
    let day = monday();
    AppointmentRequest {
        id: None,
        doctor: A,
        patient: Q,
        interval: iv((day, start.0, start.1), (day, end.0, end.1)),
        resources: Vec::new(),
        buffers,
    }
}

fn buffers(before: u16, after: u16) -> Buffers {
    Buffers {
        before_minutes: before,
        after_minutes: after,
    }
}

#[test]
fn widened_intervals_of_one_doctor_must_not_overlap() {
    let schedule = fixture().build();
    let cases = [
        (
            "inside the other's cleaning",
            (10, 30),
            (11, 0),
            Buffers::NONE,
            false,
        ),
        (
            "right after the cleaning",
            (10, 45),
            (11, 15),
            Buffers::NONE,
            true,
        ),
        (
            "own preparation overlaps the cleaning",
            (10, 50),
            (11, 20),
            buffers(10, 0),
            false,
        ),
        (
            "own preparation touches the cleaning",
            (10, 55),
            (11, 25),
            buffers(10, 0),
            true,
        ),
        (
            "own cleaning runs into the booking",
            (9, 30),
            (9, 55),
            buffers(0, 10),
            false,
        ),
        (
            "own cleaning ends at its start",
            (9, 30),
            (9, 50),
            buffers(0, 10),
            true,
        ),
    ];
    for (name, start, end, buffers, ok) in cases {
        let result = schedule.check_appointment(&request(start, end, buffers));
        assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
        if let Err(conflicts) = result {
            assert_eq!(conflicts.first().code(), "doctor_conflict", "{name}");
        }
    }
}

#[test]
fn buffers_may_leave_the_working_hours_but_the_core_may_not() {
    let schedule = fixture().build();
    // 11:30–12:00 with 20 minutes of documentation after closing time: allowed.
    assert!(
        schedule
            .check_appointment(&request((11, 30), (12, 0), buffers(0, 20)))
            .is_ok()
    );
    // 08:00 with preparation before opening: allowed.
    assert!(
        schedule
            .check_appointment(&request((8, 0), (8, 30), buffers(15, 0)))
            .is_ok()
    );
}

#[test]
fn suggestions_keep_the_buffers_free() {
    let day = monday();
    let schedule = Fixture::berlin()
        .practice(MON, (8, 0), (12, 0))
        .doctor_hours(A, MON, (8, 0), (12, 0))
        .appointment(1, A, P, (day, 9, 0), (day, 9, 30), &[])
        .build();
    let mut query = SlotQuery::for_appointment(A, Vec::new(), minutes(30), day);
    query.limit = 3;
    query.spacing = SlotSpacing::BackToBack;
    query.buffers = buffers(10, 15);
    let slots = schedule
        .suggest(&query, utc(2030, 1, 1, 0, 0))
        .expect("valid query");
    let starts: Vec<_> = slots.iter().map(Slot::start).collect();
    assert_eq!(
        starts,
        vec![at((day, 8, 0)), at((day, 9, 40)), at((day, 10, 10))]
    );
    // Every suggestion passes the booking check with the same buffers.
    for slot in &slots {
        let request = AppointmentRequest {
            id: None,
            doctor: A,
            patient: Q,
            interval: slot.interval(),
            resources: Vec::new(),
            buffers: query.buffers,
        };
        assert!(schedule.check_appointment(&request).is_ok(), "{slot:?}");
    }
    // Without buffers the gap right before the booking is offered.
    query.buffers = Buffers::NONE;
    let slots = schedule
        .suggest(&query, utc(2030, 1, 1, 0, 0))
        .expect("valid query");
    assert_eq!(slots[1].start(), at((day, 8, 30)));
}

#[test]
fn a_hold_blocks_its_doctor_and_an_override_cannot_book_over_it() {
    let day = monday();
    let mut input = Fixture::berlin()
        .practice(MON, (8, 0), (12, 0))
        .doctor_hours(A, MON, (8, 0), (12, 0))
        .appointment(1, B, P, (day, 9, 0), (day, 9, 30), &[])
        .build_input();
    input.busy.push(BusyInterval {
        interval: iv((day, 10, 0), (day, 10, 30)),
        booking: BookingRef::Hold(HoldId(7)),
        occupant: Occupant::Person {
            user: A,
            role: PersonRole::AppointmentDoctor,
        },
        state: BookingState::Active,
    });
    let schedule = Schedule::new(input);
    let conflicts = schedule
        .check_appointment(&request((10, 15), (10, 45), Buffers::NONE))
        .expect_err("held");
    let first = conflicts.first();
    assert_eq!(first.code(), "doctor_conflict");
    assert!(first.makes_doctor_unavailable());
    assert!(!first.is_overridable());
    // A hold without a patient does not look at patients; with P it sees P's appointment.
    let hold = |patient| HoldRequest {
        doctor: A,
        patient,
        interval: iv((day, 9, 0), (day, 9, 30)),
        resources: Vec::new(),
        buffers: Buffers::NONE,
    };
    assert!(schedule.check_hold(&hold(None)).is_ok());
    let conflicts = schedule
        .check_hold(&hold(Some(P)))
        .expect_err("patient busy");
    assert_eq!(conflicts.first().code(), "patient_conflict");
    // Hours, absences, breaks and closed days are what an override may book over.
    let outside = schedule
        .check_appointment(&request((12, 0), (12, 30), Buffers::NONE))
        .expect_err("after hours");
    assert!(outside.conflicts().iter().all(Conflict::is_overridable));
}
