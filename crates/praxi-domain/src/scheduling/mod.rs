//! Scheduling engine: availability as interval algebra, conflicts and slot suggestion.
//!
//! # Model
//!
//! The store loads plain values for a period ([`ScheduleInput`]: practice hours, doctor hours,
//! absences, breaks, busy intervals of appointments and operations) and indexes them once with
//! [`Schedule::new`]. Everything else is a pure function of the [`Schedule`] and, where time
//! matters, a `now` passed in by the caller; nothing here reads the clock or does I/O.
//!
//! * Instants are UTC; bookings are half-open `[start, end)` [`Interval`]s. Touching intervals
//!   do not overlap; a booking may end exactly at closing time.
//! * Free time of a doctor on a local date =
//!   practice hours ∩ doctor hours − absences − breaks − busy intervals, where busy covers every
//!   role the person plays (appointment doctor, primary surgeon, assistant, anaesthetist).
//!   Rooms, devices and patients only have busy intervals. Windows of one kind that touch or
//!   overlap are merged before anything else (`08–12` + `12–16` accepts `11:30–12:30`).
//! * Cancelled bookings and inactive configuration rows never block; completed/done bookings
//!   and no-shows do.
//! * A booking is checked per local-day segment; since no window reaches midnight, a booking
//!   that crosses local midnight is outside hours.
//! * Conflict checks ([`Schedule::check_appointment`], [`Schedule::check_operation`]) are one
//!   routine for create and update (the request's own id is excluded) and report every conflict
//!   in the original's check order.
//! * Suggestions ([`Schedule::suggest`]) enumerate grid points of the free intervals (a sweep
//!   over sorted lists per day), never by testing grid steps against bookings.
//!
//! # Time zone and DST policy
//!
//! Every weekday, date and wall-clock time is read in the practice zone ([`chrono_tz::Tz`]).
//! Wall-clock windows (practice/doctor hours, breaks, local day bounds) are mapped to UTC
//! **per local date**, so the same "08:00–12:00" is 07:00Z–11:00Z in winter and 06:00Z–10:00Z in
//! summer, and a local day lasts 23 or 25 real hours on DST days.
//!
//! * **Non-existent local times** (spring-forward gap, e.g. 02:00–03:00 on 2026-03-29 in
//!   Europe/Berlin) in configuration are clamped to the next existing instant, the end of the
//!   gap (02:30 → 03:00 CEST). A window 00:00–06:00 on that day is five real hours; a window
//!   inside the gap is empty. User-typed local times in the gap are rejected instead
//!   ([`local_to_utc_strict`] → [`LocalTimeError::NonExistent`]).
//! * **Ambiguous local times** (autumn fold, e.g. 02:00–03:00 on 2026-10-25) take the earlier
//!   instant (02:30 → 02:30 CEST = 00:30Z), both for configuration and for user input. A window
//!   boundary inside the fold therefore means its first occurrence: a window starting at 02:30
//!   on that day also contains the repeated 02:00–02:30 (CET).
//! * **Durations are real time**: a 60-minute slot is 60 elapsed minutes; 01:30–03:30 local on
//!   the spring day is 60 minutes long.
//! * **The grid** is anchored on the local wall clock: slot starts have a local minute divisible
//!   by [`GRID_MINUTES`] and zero seconds ([`ceil_to_grid`] re-anchors across offset changes),
//!   so no slot ever starts in a non-existent hour.
//!
//! # Performance
//!
//! Busy intervals are kept per occupant sorted by start (window queries are a binary search),
//! hours are merged per weekday once, and a suggestion touches each day's blocked intervals once:
//! a 14-day suggestion for one doctor with ~100 bookings takes well under a millisecond.

mod conflict;
pub mod holidays;
mod ids;
mod interval;
mod model;
mod schedule;
mod suggest;
mod zone;

#[cfg(test)]
mod buffers_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod testkit;

pub use conflict::{
    AbsenceConflict, AppointmentRequest, BookingConflict, BreakConflict, Conflict, ConflictKind,
    HoldRequest, HolidayConflict, HoursConflict, HoursReason, OperationRequest, RequestedResource,
    SchedulingConflicts,
};
pub use holidays::{ClosedBecause, ClosedDay, DayOverride, HolidayRegion};
pub use ids::{
    AbsenceId, AppointmentId, BreakId, HoldId, OperationId, PatientId, ResourceId, UserId,
};
pub use interval::{Interval, IntervalError, IntervalSet};
pub use model::{
    Absence, BookingRef, BookingState, Break, Buffers, BusyInterval, DoctorHours,
    MAX_BUFFER_MINUTES, Occupant, PersonRole, ResourceKind, ScheduleInput, Team, TeamError,
    WeeklyWindow, weekday_from_index,
};
pub use schedule::{Participants, Schedule};
pub use suggest::{
    ALTERNATIVES_HORIZON_DAYS, Alternative, DoctorSlots, MAX_DURATION_MINUTES, MAX_HORIZON_DAYS,
    MAX_SUGGEST_LIMIT, RangeAvailability, Slot, SlotDuration, SlotQuery, SlotSpacing, SuggestError,
    UnavailableReason,
};
pub use zone::{
    GRID_MINUTES, LocalTimeError, ceil_to_grid, is_on_grid, local_date, local_day, local_time,
    local_to_utc, local_to_utc_strict, local_window,
};
