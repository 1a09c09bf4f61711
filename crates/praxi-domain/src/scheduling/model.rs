//! Plain input values for the engine: hours, absences, breaks and busy intervals.
//!
//! These mirror the database rows field by field but are values: the store loads them for the
//! period and the people/resources involved and hands them to [`Schedule::new`].
//!
//! [`Schedule::new`]: super::Schedule::new

use std::fmt;

use chrono::{NaiveDate, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::holidays::ClosedDay;
use super::ids::{
    AbsenceId, AppointmentId, BreakId, HoldId, OperationId, PatientId, ResourceId, UserId,
};
use super::interval::Interval;

/// Converts the database weekday number (0 = Monday … 6 = Sunday) to a [`Weekday`].
pub fn weekday_from_index(index: i32) -> Option<Weekday> {
    u8::try_from(index)
        .ok()
        .filter(|i| *i < 7)
        .and_then(|i| Weekday::try_from(i).ok())
}

/// A recurring weekly wall-clock window (practice hours or one doctor's hours).
///
/// Windows with `start >= end` cannot be stored; the engine treats them as empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// Day of the week in the practice zone.
    pub weekday: Weekday,
    /// Local opening time (inclusive).
    pub start: NaiveTime,
    /// Local closing time (a booking may end exactly here).
    pub end: NaiveTime,
    /// Inactive rows are ignored.
    pub active: bool,
}

/// One doctor-hours row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoctorHours {
    /// The doctor these hours belong to.
    pub doctor: UserId,
    /// The weekly window.
    pub window: WeeklyWindow,
}

/// A whole-day absence `[start_date, end_date]` (both inclusive, local dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Absence {
    /// Row id, reported in conflicts.
    pub id: AbsenceId,
    /// The absent doctor.
    pub doctor: UserId,
    /// First absent local date.
    pub start_date: NaiveDate,
    /// Last absent local date.
    pub end_date: NaiveDate,
    /// Inactive rows are ignored.
    pub active: bool,
}

impl Absence {
    /// True when the absence covers local date `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start_date <= date && date <= self.end_date
    }
}

/// A break on one local date, `[start, end)` wall-clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Break {
    /// Row id, reported in conflicts.
    pub id: BreakId,
    /// `None` = practice-wide (blocks every doctor); otherwise this doctor only.
    pub doctor: Option<UserId>,
    /// Local date of the break.
    pub date: NaiveDate,
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time.
    pub end: NaiveTime,
    /// Inactive rows are ignored.
    pub active: bool,
}

/// Buffer time before and after an appointment (cleaning, preparation, documentation), from
/// its appointment type (issue #14): `0..=MAX_BUFFER_MINUTES` minutes each.
///
/// The rule: a booking's doctor and resources are occupied during `[start − before,
/// end + after)`; two bookings of the same doctor or resource conflict when these widened
/// intervals overlap (so one's cleaning never overlaps the next one's preparation). The
/// patient is only occupied by the core `[start, end)`; working hours and breaks are checked
/// against the core only (documentation may run after closing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Buffers {
    /// Minutes before the start.
    pub before_minutes: u16,
    /// Minutes after the end.
    pub after_minutes: u16,
}

/// The longest buffer on either side, in minutes.
pub const MAX_BUFFER_MINUTES: u16 = 120;

impl Buffers {
    /// No buffer.
    pub const NONE: Buffers = Buffers {
        before_minutes: 0,
        after_minutes: 0,
    };

    /// Buffers from stored minutes, clamped to `0..=MAX_BUFFER_MINUTES`.
    pub fn from_minutes(before: i64, after: i64) -> Buffers {
        let clamp = |m: i64| u16::try_from(m.clamp(0, i64::from(MAX_BUFFER_MINUTES))).unwrap_or(0);
        Buffers {
            before_minutes: clamp(before),
            after_minutes: clamp(after),
        }
    }

    /// Time before the start.
    pub fn before(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.before_minutes))
    }

    /// Time after the end.
    pub fn after(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.after_minutes))
    }

    /// True when both sides are zero.
    pub fn is_none(&self) -> bool {
        self.before_minutes == 0 && self.after_minutes == 0
    }

    /// The occupied interval of a booking `core` with these buffers.
    pub fn occupied(&self, core: Interval) -> Interval {
        core.widened(self.before(), self.after())
    }
}

/// The booking row a busy interval comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "model", content = "id")]
pub enum BookingRef {
    /// An appointment row.
    Appointment(AppointmentId),
    /// An operation row.
    Operation(OperationId),
    /// A slot hold that has not expired (issue #14): blocks like an appointment.
    Hold(HoldId),
}

impl BookingRef {
    /// The original's model name: `"Appointment"` or `"Operation"`.
    pub fn model(&self) -> &'static str {
        match self {
            BookingRef::Appointment(_) => "Appointment",
            BookingRef::Operation(_) => "Operation",
            BookingRef::Hold(_) => "SlotHold",
        }
    }

    /// The row id as a plain integer.
    pub fn id(&self) -> i64 {
        match self {
            BookingRef::Appointment(id) => i64::from(id.0),
            BookingRef::Operation(id) => id.0,
            BookingRef::Hold(id) => id.0,
        }
    }
}

impl fmt::Display for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BookingRef::Appointment(id) => write!(f, "appointment #{id}"),
            BookingRef::Operation(id) => write!(f, "operation #{id}"),
            BookingRef::Hold(id) => write!(f, "slot hold #{id}"),
        }
    }
}

/// The role a person plays in a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    /// The (single) doctor of an appointment.
    AppointmentDoctor,
    /// Operation team: primary surgeon.
    PrimarySurgeon,
    /// Operation team: assistant.
    Assistant,
    /// Operation team: anaesthetist (API spelling `anesthesist`).
    #[serde(rename = "anesthesist")]
    Anesthesist,
}

impl PersonRole {
    /// The API name of the role (`doctor`, `primary_surgeon`, `assistant`, `anesthesist`).
    pub fn as_str(&self) -> &'static str {
        match self {
            PersonRole::AppointmentDoctor => "doctor",
            PersonRole::PrimarySurgeon => "primary_surgeon",
            PersonRole::Assistant => "assistant",
            PersonRole::Anesthesist => "anesthesist",
        }
    }
}

/// The kind of a resource (resource `type` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A room (may host appointments and operations).
    Room,
    /// A device.
    Device,
}

/// What a busy interval occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occupant {
    /// A person, in a role of the booking.
    Person {
        /// The user.
        user: UserId,
        /// The role the user plays in this booking.
        role: PersonRole,
    },
    /// The booking's patient.
    Patient(PatientId),
    /// A resource: appointment resource, operation room or operation device.
    Resource(ResourceId),
}

/// Whether a booking row still occupies its interval.
///
/// Only cancellation releases time (scheduling spec §3.6): completed appointments, done
/// operations and no-shows keep blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BookingState {
    /// Blocks its interval (every status except cancelled).
    #[default]
    Active,
    /// Cancelled: ignored by every occupancy check.
    Cancelled,
}

/// One occupied `[start, end)` interval of one occupant, tagged with its booking row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyInterval {
    /// The occupied instants.
    pub interval: Interval,
    /// The booking row the interval belongs to.
    pub booking: BookingRef,
    /// Who or what is occupied.
    pub occupant: Occupant,
    /// Cancelled rows do not block.
    pub state: BookingState,
}

impl BusyInterval {
    /// All busy intervals of one appointment: its doctor, its patient and each resource.
    pub fn for_appointment(
        id: AppointmentId,
        interval: Interval,
        state: BookingState,
        doctor: UserId,
        patient: PatientId,
        resources: &[ResourceId],
    ) -> Vec<BusyInterval> {
        let booking = BookingRef::Appointment(id);
        let busy = |occupant| BusyInterval {
            interval,
            booking,
            occupant,
            state,
        };
        let mut out = vec![
            busy(Occupant::Person {
                user: doctor,
                role: PersonRole::AppointmentDoctor,
            }),
            busy(Occupant::Patient(patient)),
        ];
        out.extend(resources.iter().map(|r| busy(Occupant::Resource(*r))));
        out
    }

    /// All busy intervals of one operation: every team member, the patient, room and devices.
    pub fn for_operation(
        id: OperationId,
        interval: Interval,
        state: BookingState,
        team: &Team,
        patient: PatientId,
        room: ResourceId,
        devices: &[ResourceId],
    ) -> Vec<BusyInterval> {
        let booking = BookingRef::Operation(id);
        let busy = |occupant| BusyInterval {
            interval,
            booking,
            occupant,
            state,
        };
        let mut out: Vec<BusyInterval> = team
            .members()
            .map(|(role, user)| busy(Occupant::Person { user, role }))
            .collect();
        out.push(busy(Occupant::Patient(patient)));
        out.push(busy(Occupant::Resource(room)));
        out.extend(devices.iter().map(|r| busy(Occupant::Resource(*r))));
        out
    }
}

/// An operation team: a primary surgeon and optional assistant and anaesthetist, all distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Team {
    primary_surgeon: UserId,
    assistant: Option<UserId>,
    anesthesist: Option<UserId>,
}

/// Why a [`Team`] is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    /// The same user holds two roles (the original accepted this; Praxi rejects it).
    #[error("user {user} holds more than one role in the operation team")]
    DuplicateMember {
        /// The user named twice.
        user: UserId,
    },
}

impl Team {
    /// Builds a team; the same user may not fill two roles.
    pub fn new(
        primary_surgeon: UserId,
        assistant: Option<UserId>,
        anesthesist: Option<UserId>,
    ) -> Result<Self, TeamError> {
        let team = Self {
            primary_surgeon,
            assistant,
            anesthesist,
        };
        let mut seen: Vec<UserId> = Vec::with_capacity(3);
        for (_, user) in team.members() {
            if seen.contains(&user) {
                return Err(TeamError::DuplicateMember { user });
            }
            seen.push(user);
        }
        Ok(team)
    }

    /// The primary surgeon.
    pub fn primary_surgeon(&self) -> UserId {
        self.primary_surgeon
    }

    /// The assistant, if any.
    pub fn assistant(&self) -> Option<UserId> {
        self.assistant
    }

    /// The anaesthetist, if any.
    pub fn anesthesist(&self) -> Option<UserId> {
        self.anesthesist
    }

    /// Members in check order: primary surgeon, assistant, anaesthetist.
    pub fn members(&self) -> impl Iterator<Item = (PersonRole, UserId)> + '_ {
        [
            Some((PersonRole::PrimarySurgeon, self.primary_surgeon)),
            self.assistant.map(|u| (PersonRole::Assistant, u)),
            self.anesthesist.map(|u| (PersonRole::Anesthesist, u)),
        ]
        .into_iter()
        .flatten()
    }
}

/// Everything the engine needs about one practice for a period, as plain values.
///
/// The store loads hours, the absences/breaks and the bookings overlapping the period of
/// interest for the people, resources and patients involved. Inactive and cancelled rows may be
/// passed in; the engine ignores them.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// The practice time zone: every weekday, date and wall-clock time is read in this zone.
    pub time_zone: Tz,
    /// Practice opening hours.
    pub practice_hours: Vec<WeeklyWindow>,
    /// Doctors' weekly hours.
    pub doctor_hours: Vec<DoctorHours>,
    /// Whole-day absences.
    pub absences: Vec<Absence>,
    /// Breaks (practice-wide and per doctor).
    pub breaks: Vec<Break>,
    /// Busy intervals from appointments and operations.
    pub busy: Vec<BusyInterval>,
    /// Local dates on which the practice is closed (public holidays and per-date overrides):
    /// nobody has working time then.
    pub closed_days: Vec<ClosedDay>,
}

impl ScheduleInput {
    /// An empty input for the given practice zone.
    pub fn new(time_zone: Tz) -> Self {
        Self {
            time_zone,
            practice_hours: Vec::new(),
            doctor_hours: Vec::new(),
            absences: Vec::new(),
            breaks: Vec::new(),
            busy: Vec::new(),
            closed_days: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_numbers_follow_python_convention() {
        let cases = [
            (0, Some(Weekday::Mon)),
            (4, Some(Weekday::Fri)),
            (6, Some(Weekday::Sun)),
            (7, None),
            (-1, None),
        ];
        for (index, expected) in cases {
            assert_eq!(weekday_from_index(index), expected, "{index}");
        }
    }

    #[test]
    fn op_81_same_user_in_two_team_roles_is_rejected() {
        let (a, b) = (UserId(1), UserId(2));
        assert_eq!(
            Team::new(a, Some(a), None),
            Err(TeamError::DuplicateMember { user: a })
        );
        assert_eq!(
            Team::new(a, Some(b), Some(b)),
            Err(TeamError::DuplicateMember { user: b })
        );
        let team = Team::new(a, None, Some(b)).expect("distinct members");
        let members: Vec<_> = team.members().collect();
        assert_eq!(
            members,
            vec![
                (PersonRole::PrimarySurgeon, a),
                (PersonRole::Anesthesist, b)
            ]
        );
    }
}
