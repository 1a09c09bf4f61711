//! Operations (data-model.md §5.10, §10.2; scheduling.md §4): the status state machine, the
//! duration snapshot that fixes an operation's end time, and the reference rules of an
//! operation write in the original's check order.
//!
//! * **One transition function** ([`check_transition`]) decides every status change, whatever
//!   the write path (create, `PUT`/`PATCH`, the OP-dashboard status endpoint). `done` and
//!   `cancelled` are terminal: the original's `done → cancelled` and `cancelled → cancelled`
//!   are rejected (a finished operation is a fact; cancelling it afterwards would free its room
//!   retroactively and remove it from the statistics).
//! * **Durations are a snapshot** ([`Durations`]) taken from the operation type when the
//!   operation is created and whenever its start or type changes; any other edit keeps the
//!   stored snapshot and end time (weak point W12).
//! * **Reference rules** ([`check_references`]) run on values the caller looked up: the type
//!   is active and lasts longer than zero minutes, the room is an active room, the devices are
//!   active devices, the team members are active doctors, nobody holds two team roles.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::scheduling::{PersonRole, ResourceKind, Team, TeamError, UserId};

/// The status of an operation (data-model.md §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Geplant (the default).
    Planned,
    /// Bestätigt.
    Confirmed,
    /// Läuft.
    Running,
    /// Erledigt (terminal).
    Done,
    /// Abgesagt (terminal; the only status that releases the room, devices and team).
    Cancelled,
}

impl OperationStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OperationStatus; 5] = [
        OperationStatus::Planned,
        OperationStatus::Confirmed,
        OperationStatus::Running,
        OperationStatus::Done,
        OperationStatus::Cancelled,
    ];

    /// The stored and wire value.
    pub fn as_str(&self) -> &'static str {
        match self {
            OperationStatus::Planned => "planned",
            OperationStatus::Confirmed => "confirmed",
            OperationStatus::Running => "running",
            OperationStatus::Done => "done",
            OperationStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a wire value (exact, lowercase).
    pub fn parse(value: &str) -> Option<OperationStatus> {
        OperationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// `done` and `cancelled` accept no further transition.
    pub fn is_terminal(&self) -> bool {
        matches!(self, OperationStatus::Done | OperationStatus::Cancelled)
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not in the transition table (including "same status again" and anything out of a
    /// terminal status). `from: None` is the initial status of a new operation.
    #[error("invalid status transition")]
    NotAllowed {
        /// The current status (`None` when the operation is being created).
        from: Option<OperationStatus>,
        /// The requested status.
        to: OperationStatus,
    },
    /// `confirmed → running` before the operation's start time.
    #[error("running is only allowed when now >= start_time")]
    RunningBeforeStart,
}

impl TransitionError {
    /// The original's `detail` text (OP-dashboard status endpoint, api.md §3.9).
    pub fn detail(&self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "Invalid status transition.",
            TransitionError::RunningBeforeStart => {
                "running is only allowed when now >= start_time."
            }
        }
    }

    /// A stable machine code (also the audit `detail` of the original's `op_status_update`).
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "invalid_transition",
            TransitionError::RunningBeforeStart => "running_before_start",
        }
    }
}

/// The one transition table of operation statuses, used by every write path:
///
/// | from \ to   | planned | confirmed | running          | done | cancelled |
/// |-------------|---------|-----------|------------------|------|-----------|
/// | (new)       | ✔       | ✔         | ✘                | ✘    | ✘         |
/// | planned     | ✘       | ✔         | ✘                | ✘    | ✔         |
/// | confirmed   | ✘       | ✘         | ✔ if now ≥ start | ✘    | ✔         |
/// | running     | ✘       | ✘         | ✘                | ✔    | ✔         |
/// | done        | ✘       | ✘         | ✘                | ✘    | ✘         |
/// | cancelled   | ✘       | ✘         | ✘                | ✘    | ✘         |
///
/// A new operation starts as `planned` or `confirmed`; the later states are reached through
/// transitions (so each of them gets its own history row).
pub fn check_transition(
    from: Option<OperationStatus>,
    to: OperationStatus,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    use OperationStatus::{Cancelled, Confirmed, Done, Planned, Running};
    let allowed = match (from, to) {
        (None, Planned | Confirmed) => true,
        (Some(Planned), Confirmed | Cancelled) => true,
        (Some(Confirmed), Running) => {
            if now < start_time {
                return Err(TransitionError::RunningBeforeStart);
            }
            true
        }
        (Some(Confirmed), Cancelled) => true,
        (Some(Running), Done | Cancelled) => true,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(TransitionError::NotAllowed { from, to })
    }
}

/// The status a generic update (`PUT`/`PATCH`) asks for, checked against the stored one.
///
/// Returns `Ok(None)` when the status does not change (absent, or the stored value sent back,
/// as clients echoing a whole object do), `Ok(Some(new))` for an allowed transition.
pub fn status_update(
    stored: OperationStatus,
    requested: Option<OperationStatus>,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<OperationStatus>, TransitionError> {
    match requested {
        None => Ok(None),
        Some(to) if to == stored => Ok(None),
        Some(to) => check_transition(Some(stored), to, start_time, now).map(|()| Some(to)),
    }
}

/// Prep, operation and post-processing minutes of one operation (each ≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Durations {
    /// Preparation minutes.
    pub prep: i32,
    /// Surgery minutes.
    pub op: i32,
    /// Post-processing minutes.
    pub post: i32,
}

/// The total of an operation type is zero minutes (the original's `invalid_duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operation type lasts zero minutes")]
pub struct InvalidDuration;

impl Durations {
    /// The durations of an operation type; negative values count as zero (the original's
    /// rule, data-model.md §5.9).
    pub fn from_type(prep: i32, op: i32, post: i32) -> Durations {
        Durations {
            prep: prep.max(0),
            op: op.max(0),
            post: post.max(0),
        }
    }

    /// `prep + op + post` minutes (negatives count as zero).
    pub fn total_minutes(&self) -> i64 {
        [self.prep, self.op, self.post]
            .iter()
            .map(|minutes| i64::from((*minutes).max(0)))
            .sum()
    }

    /// The end of an operation of these durations starting at `start`: the room, devices and
    /// the whole team are blocked for prep, operation and post-processing.
    pub fn end_after(&self, start: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidDuration> {
        let total = self.total_minutes();
        if total <= 0 {
            return Err(InvalidDuration);
        }
        start
            .checked_add_signed(TimeDelta::minutes(total))
            .ok_or(InvalidDuration)
    }
}

/// Whether a write takes a fresh duration snapshot from the operation type: on create, and on
/// an update that changes the start time or the type. Any other edit keeps the stored
/// snapshot and end time, so later edits of the type's durations never move it (W12).
///
/// `stored` is `(start_time, op_type_id)` of the stored operation.
pub fn needs_fresh_snapshot(
    stored: Option<(DateTime<Utc>, i64)>,
    start_time: DateTime<Utc>,
    op_type_id: i64,
) -> bool {
    match stored {
        None => true,
        Some((stored_start, stored_type)) => {
            stored_start != start_time || stored_type != op_type_id
        }
    }
}

/// What the rules need to know about a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceFacts {
    /// Room or device.
    pub kind: ResourceKind,
    /// Inactive resources cannot be booked.
    pub active: bool,
}

/// A requested device and what was found under its id (`None` = no such resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceFacts {
    /// The requested id.
    pub id: i64,
    /// The resource with that id, if it exists.
    pub found: Option<ResourceFacts>,
}

/// What the rules need to know about a user named in the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts {
    /// The user's role is `doctor`.
    pub is_doctor: bool,
    /// The account is active.
    pub is_active: bool,
}

/// The team as written (ids only), before the duplicate check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamIds {
    /// Required.
    pub primary_surgeon: i64,
    /// Optional.
    pub assistant: Option<i64>,
    /// Optional (API spelling).
    pub anesthesist: Option<i64>,
}

impl TeamIds {
    /// Members in check order with their role.
    pub fn members(&self) -> impl Iterator<Item = (PersonRole, i64)> + '_ {
        [
            Some((PersonRole::PrimarySurgeon, self.primary_surgeon)),
            self.assistant.map(|id| (PersonRole::Assistant, id)),
            self.anesthesist.map(|id| (PersonRole::Anesthesist, id)),
        ]
        .into_iter()
        .flatten()
    }

    /// The team for the engine with every user once: a repeated member (possible in legacy
    /// data, which Praxi keeps as it is until the team is edited) is dropped from the later
    /// role, so their bookings are checked once.
    ///
    /// The result is always `Ok` (the members are distinct by construction); it stays a
    /// `Result` because [`Team::new`] is the only way to build a team.
    pub fn distinct(&self) -> Result<Team, TeamError> {
        let primary = self.primary_surgeon;
        let assistant = self.assistant.filter(|id| *id != primary);
        let anesthesist = self
            .anesthesist
            .filter(|id| *id != primary && Some(*id) != assistant);
        Team::new(
            UserId(primary),
            assistant.map(UserId),
            anesthesist.map(UserId),
        )
    }
}

/// The facts of one operation write. `None`/empty = not (re)checked: on an update only what
/// changes is validated again, so an operation whose room, type or surgeon was deactivated
/// later can still get notes or a status change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReferenceFacts {
    /// `active` of the operation type, when the type is new to the operation.
    pub type_active: Option<bool>,
    /// The fresh duration snapshot, when the end time is derived anew.
    pub fresh_durations: Option<Durations>,
    /// The room, when it is new to the operation.
    pub room: Option<ResourceFacts>,
    /// The requested devices, when the set is sent and differs from the stored one.
    pub devices: Option<Vec<DeviceFacts>>,
    /// The team members that are new to their role, with what is known about them.
    pub new_members: Vec<(PersonRole, MemberFacts)>,
    /// The effective team, when it changes (checked for duplicates).
    pub changed_team: Option<TeamIds>,
}

/// A broken reference rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleViolation {
    /// A field error: `{"<field>": ["<message>"]}`.
    Field {
        /// The field named in the body.
        field: &'static str,
        /// The original's message.
        message: String,
    },
    /// The type lasts zero minutes: the "Operation conflict" body, reason `invalid_duration`.
    InvalidDuration,
}

impl RuleViolation {
    fn field(field: &'static str, message: impl Into<String>) -> Self {
        RuleViolation::Field {
            field,
            message: message.into(),
        }
    }
}

/// The message for a team member without the doctor role (original text).
pub const NOT_A_DOCTOR: &str = "Der Arzt muss die Rolle \"doctor\" haben.";
/// The message for a user holding two roles of one team (Praxi's rule, scheduling.md §4.2).
pub const DUPLICATE_MEMBER: &str = "Eine Person kann im OP-Team nur eine Rolle übernehmen.";
/// The message for devices that are unknown, inactive or rooms (original text).
pub const BAD_DEVICES: &str = "op_device_ids enthält unbekannte/inaktive/nicht-Gerät-Ressource(n).";

/// Checks the references of an operation write in the original's order (scheduling.md §4.3):
/// type active, duration > 0, room is a room, room active, devices, team roles, team active,
/// and (Praxi) no user in two team roles. The first broken rule answers.
pub fn check_references(facts: &ReferenceFacts) -> Result<(), RuleViolation> {
    if facts.type_active == Some(false) {
        return Err(RuleViolation::field("op_type", "op_type ist inaktiv."));
    }
    if facts
        .fresh_durations
        .is_some_and(|durations| durations.total_minutes() <= 0)
    {
        return Err(RuleViolation::InvalidDuration);
    }
    if let Some(room) = facts.room {
        if room.kind != ResourceKind::Room {
            return Err(RuleViolation::field(
                "op_room",
                "op_room muss eine Ressource mit type=\"room\" sein.",
            ));
        }
        if !room.active {
            return Err(RuleViolation::field("op_room", "op_room muss aktiv sein."));
        }
    }
    if let Some(devices) = &facts.devices {
        let valid = |device: &DeviceFacts| {
            device
                .found
                .is_some_and(|r| r.kind == ResourceKind::Device && r.active)
        };
        if !devices.iter().all(valid) {
            return Err(RuleViolation::field("op_device_ids", BAD_DEVICES));
        }
    }
    for (role, member) in &facts.new_members {
        if !member.is_doctor {
            return Err(RuleViolation::field(role.as_str(), NOT_A_DOCTOR));
        }
    }
    for (role, member) in &facts.new_members {
        if !member.is_active {
            return Err(RuleViolation::field(
                role.as_str(),
                format!("{} muss aktiv sein.", role.as_str()),
            ));
        }
    }
    if let Some(team) = facts.changed_team {
        let mut seen: Vec<i64> = Vec::with_capacity(3);
        for (role, id) in team.members() {
            if seen.contains(&id) {
                return Err(RuleViolation::field(role.as_str(), DUPLICATE_MEMBER));
            }
            seen.push(id);
        }
    }
    Ok(())
}

/// Checks a patient reference: a positive 32-bit id (original message).
pub fn check_patient_id(id: i64) -> Result<i32, RuleViolation> {
    i32::try_from(id)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| RuleViolation::field("patient_id", "patient_id muss positiv sein."))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use OperationStatus::{Cancelled, Confirmed, Done, Planned, Running};

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 14, h, 0, 0).unwrap()
    }

    #[test]
    fn statuses_round_trip_through_their_wire_names() {
        for status in OperationStatus::ALL {
            assert_eq!(OperationStatus::parse(status.as_str()), Some(status));
        }
        for bad in ["", "Planned", "bogus", "canceled"] {
            assert_eq!(OperationStatus::parse(bad), None, "{bad}");
        }
        assert!(Done.is_terminal() && Cancelled.is_terminal());
        assert!(!Planned.is_terminal() && !Running.is_terminal());
    }

    /// Every (from, to) pair: `Ok` = allowed, else the error.
    #[test]
    fn transition_table_covers_every_pair() {
        let start = t(10);
        let after = t(11);
        let before = t(9);
        let not_allowed = |from, to| Err(TransitionError::NotAllowed { from, to });
        type Case = (
            Option<OperationStatus>,
            OperationStatus,
            DateTime<Utc>,
            Result<(), TransitionError>,
        );
        let cases: Vec<Case> = vec![
            // Creation.
            (None, Planned, after, Ok(())),
            (None, Confirmed, after, Ok(())),
            (None, Running, after, not_allowed(None, Running)),
            (None, Done, after, not_allowed(None, Done)),
            (None, Cancelled, after, not_allowed(None, Cancelled)),
            // planned
            (
                Some(Planned),
                Planned,
                after,
                not_allowed(Some(Planned), Planned),
            ),
            (Some(Planned), Confirmed, before, Ok(())),
            (
                Some(Planned),
                Running,
                after,
                not_allowed(Some(Planned), Running),
            ),
            (Some(Planned), Done, after, not_allowed(Some(Planned), Done)),
            (Some(Planned), Cancelled, after, Ok(())),
            // confirmed
            (
                Some(Confirmed),
                Planned,
                after,
                not_allowed(Some(Confirmed), Planned),
            ),
            (
                Some(Confirmed),
                Confirmed,
                after,
                not_allowed(Some(Confirmed), Confirmed),
            ),
            (Some(Confirmed), Running, after, Ok(())),
            (Some(Confirmed), Running, start, Ok(())),
            (
                Some(Confirmed),
                Running,
                before,
                Err(TransitionError::RunningBeforeStart),
            ),
            (
                Some(Confirmed),
                Done,
                after,
                not_allowed(Some(Confirmed), Done),
            ),
            (Some(Confirmed), Cancelled, before, Ok(())),
            // running
            (
                Some(Running),
                Planned,
                after,
                not_allowed(Some(Running), Planned),
            ),
            (
                Some(Running),
                Confirmed,
                after,
                not_allowed(Some(Running), Confirmed),
            ),
            (
                Some(Running),
                Running,
                after,
                not_allowed(Some(Running), Running),
            ),
            (Some(Running), Done, after, Ok(())),
            (Some(Running), Cancelled, after, Ok(())),
            // done: terminal (the original allowed done → cancelled)
            (Some(Done), Planned, after, not_allowed(Some(Done), Planned)),
            (
                Some(Done),
                Confirmed,
                after,
                not_allowed(Some(Done), Confirmed),
            ),
            (Some(Done), Running, after, not_allowed(Some(Done), Running)),
            (Some(Done), Done, after, not_allowed(Some(Done), Done)),
            (
                Some(Done),
                Cancelled,
                after,
                not_allowed(Some(Done), Cancelled),
            ),
            // cancelled: terminal (the original allowed cancelled → cancelled)
            (
                Some(Cancelled),
                Planned,
                after,
                not_allowed(Some(Cancelled), Planned),
            ),
            (
                Some(Cancelled),
                Confirmed,
                after,
                not_allowed(Some(Cancelled), Confirmed),
            ),
            (
                Some(Cancelled),
                Running,
                after,
                not_allowed(Some(Cancelled), Running),
            ),
            (
                Some(Cancelled),
                Done,
                after,
                not_allowed(Some(Cancelled), Done),
            ),
            (
                Some(Cancelled),
                Cancelled,
                after,
                not_allowed(Some(Cancelled), Cancelled),
            ),
        ];
        for (from, to, now, expected) in cases {
            assert_eq!(
                check_transition(from, to, start, now),
                expected,
                "{from:?} -> {to:?} at {now}"
            );
        }
    }

    #[test]
    fn transition_errors_carry_the_dashboard_texts() {
        let invalid = TransitionError::NotAllowed {
            from: Some(Done),
            to: Cancelled,
        };
        assert_eq!(invalid.detail(), "Invalid status transition.");
        assert_eq!(invalid.code(), "invalid_transition");
        assert_eq!(
            TransitionError::RunningBeforeStart.detail(),
            "running is only allowed when now >= start_time."
        );
        assert_eq!(
            TransitionError::RunningBeforeStart.code(),
            "running_before_start"
        );
    }

    #[test]
    fn generic_updates_only_transition_when_the_status_changes() {
        let (start, now) = (t(10), t(11));
        let cases = [
            (Planned, None, Ok(None)),
            (Cancelled, Some(Cancelled), Ok(None)),
            (Done, Some(Done), Ok(None)),
            (Planned, Some(Confirmed), Ok(Some(Confirmed))),
            (
                Done,
                Some(Cancelled),
                Err(TransitionError::NotAllowed {
                    from: Some(Done),
                    to: Cancelled,
                }),
            ),
            (
                Planned,
                Some(Done),
                Err(TransitionError::NotAllowed {
                    from: Some(Planned),
                    to: Done,
                }),
            ),
        ];
        for (stored, requested, expected) in cases {
            assert_eq!(
                status_update(stored, requested, start, now),
                expected,
                "{stored:?} -> {requested:?}"
            );
        }
    }

    #[test]
    fn op_71_durations_clamp_negatives_and_reject_a_zero_total() {
        let cases = [
            ((10, 30, 10), Some(50)),
            ((5, 30, 5), Some(40)),
            ((-10, 30, 0), Some(30)),
            ((0, 0, 0), None),
            ((-5, 0, -1), None),
        ];
        for ((prep, op, post), minutes) in cases {
            let durations = Durations::from_type(prep, op, post);
            let end = durations.end_after(t(10));
            match minutes {
                Some(m) => assert_eq!(end, Ok(t(10) + TimeDelta::minutes(m)), "{prep}/{op}/{post}"),
                None => assert_eq!(end, Err(InvalidDuration), "{prep}/{op}/{post}"),
            }
        }
    }

    #[test]
    fn op_79_snapshot_is_only_refreshed_when_start_or_type_changes() {
        let stored = Some((t(10), 7));
        let cases = [
            (None, t(10), 7, true),
            (stored, t(10), 7, false),
            (stored, t(11), 7, true),
            (stored, t(10), 8, true),
        ];
        for (stored, start, type_id, expected) in cases {
            assert_eq!(
                needs_fresh_snapshot(stored, start, type_id),
                expected,
                "{stored:?} {start} {type_id}"
            );
        }
    }

    fn room(active: bool) -> ResourceFacts {
        ResourceFacts {
            kind: ResourceKind::Room,
            active,
        }
    }

    fn device(active: bool) -> ResourceFacts {
        ResourceFacts {
            kind: ResourceKind::Device,
            active,
        }
    }

    const DOCTOR: MemberFacts = MemberFacts {
        is_doctor: true,
        is_active: true,
    };

    fn field(field: &'static str, message: &str) -> Result<(), RuleViolation> {
        Err(RuleViolation::Field {
            field,
            message: message.to_owned(),
        })
    }

    #[test]
    fn reference_rules_answer_in_the_original_order() {
        let zero = Some(Durations::default());
        let ok_durations = Some(Durations::from_type(5, 30, 5));
        let team = |primary, assistant, anesthesist| TeamIds {
            primary_surgeon: primary,
            assistant,
            anesthesist,
        };
        let cases: Vec<(&str, ReferenceFacts, Result<(), RuleViolation>)> = vec![
            ("nothing to check", ReferenceFacts::default(), Ok(())),
            (
                "all valid",
                ReferenceFacts {
                    type_active: Some(true),
                    fresh_durations: ok_durations,
                    room: Some(room(true)),
                    devices: Some(vec![DeviceFacts {
                        id: 3,
                        found: Some(device(true)),
                    }]),
                    new_members: vec![(PersonRole::PrimarySurgeon, DOCTOR)],
                    changed_team: Some(team(1, Some(2), None)),
                },
                Ok(()),
            ),
            (
                "inactive type before zero duration",
                ReferenceFacts {
                    type_active: Some(false),
                    fresh_durations: zero,
                    ..Default::default()
                },
                field("op_type", "op_type ist inaktiv."),
            ),
            (
                "zero duration before the room",
                ReferenceFacts {
                    fresh_durations: zero,
                    room: Some(device(true)),
                    ..Default::default()
                },
                Err(RuleViolation::InvalidDuration),
            ),
            (
                "a device as room",
                ReferenceFacts {
                    room: Some(device(false)),
                    ..Default::default()
                },
                field(
                    "op_room",
                    "op_room muss eine Ressource mit type=\"room\" sein.",
                ),
            ),
            (
                "an inactive room",
                ReferenceFacts {
                    room: Some(room(false)),
                    ..Default::default()
                },
                field("op_room", "op_room muss aktiv sein."),
            ),
            (
                "a room among the devices",
                ReferenceFacts {
                    devices: Some(vec![DeviceFacts {
                        id: 3,
                        found: Some(room(true)),
                    }]),
                    ..Default::default()
                },
                field("op_device_ids", BAD_DEVICES),
            ),
            (
                "an inactive device",
                ReferenceFacts {
                    devices: Some(vec![DeviceFacts {
                        id: 3,
                        found: Some(device(false)),
                    }]),
                    ..Default::default()
                },
                field("op_device_ids", BAD_DEVICES),
            ),
            (
                "an unknown device",
                ReferenceFacts {
                    devices: Some(vec![DeviceFacts { id: 3, found: None }]),
                    ..Default::default()
                },
                field("op_device_ids", BAD_DEVICES),
            ),
            (
                "devices before the team",
                ReferenceFacts {
                    devices: Some(vec![DeviceFacts { id: 3, found: None }]),
                    new_members: vec![(
                        PersonRole::PrimarySurgeon,
                        MemberFacts {
                            is_doctor: false,
                            is_active: true,
                        },
                    )],
                    ..Default::default()
                },
                field("op_device_ids", BAD_DEVICES),
            ),
            (
                "roles of all members before activity",
                ReferenceFacts {
                    new_members: vec![
                        (
                            PersonRole::PrimarySurgeon,
                            MemberFacts {
                                is_doctor: true,
                                is_active: false,
                            },
                        ),
                        (
                            PersonRole::Anesthesist,
                            MemberFacts {
                                is_doctor: false,
                                is_active: true,
                            },
                        ),
                    ],
                    ..Default::default()
                },
                field("anesthesist", NOT_A_DOCTOR),
            ),
            (
                "an inactive assistant",
                ReferenceFacts {
                    new_members: vec![
                        (PersonRole::PrimarySurgeon, DOCTOR),
                        (
                            PersonRole::Assistant,
                            MemberFacts {
                                is_doctor: true,
                                is_active: false,
                            },
                        ),
                    ],
                    ..Default::default()
                },
                field("assistant", "assistant muss aktiv sein."),
            ),
            (
                "op_81 primary surgeon as assistant",
                ReferenceFacts {
                    changed_team: Some(team(1, Some(1), None)),
                    ..Default::default()
                },
                field("assistant", DUPLICATE_MEMBER),
            ),
            (
                "op_81 assistant as anaesthetist",
                ReferenceFacts {
                    changed_team: Some(team(1, Some(2), Some(2))),
                    ..Default::default()
                },
                field("anesthesist", DUPLICATE_MEMBER),
            ),
            (
                "op_81 primary surgeon as anaesthetist",
                ReferenceFacts {
                    changed_team: Some(team(1, None, Some(1))),
                    ..Default::default()
                },
                field("anesthesist", DUPLICATE_MEMBER),
            ),
        ];
        for (name, facts, expected) in cases {
            assert_eq!(check_references(&facts), expected, "{name}");
        }
    }

    #[test]
    fn legacy_teams_with_a_repeated_member_are_checked_once() {
        let cases = [
            (
                (1, Some(1), Some(2)),
                vec![
                    (PersonRole::PrimarySurgeon, 1),
                    (PersonRole::Anesthesist, 2),
                ],
            ),
            (
                (1, Some(2), Some(1)),
                vec![(PersonRole::PrimarySurgeon, 1), (PersonRole::Assistant, 2)],
            ),
            (
                (1, Some(2), Some(2)),
                vec![(PersonRole::PrimarySurgeon, 1), (PersonRole::Assistant, 2)],
            ),
            (
                (1, None, Some(3)),
                vec![
                    (PersonRole::PrimarySurgeon, 1),
                    (PersonRole::Anesthesist, 3),
                ],
            ),
        ];
        for ((primary, assistant, anesthesist), expected) in cases {
            let ids = TeamIds {
                primary_surgeon: primary,
                assistant,
                anesthesist,
            };
            let members: Vec<(PersonRole, i64)> = ids
                .distinct()
                .unwrap()
                .members()
                .map(|(role, user)| (role, user.0))
                .collect();
            assert_eq!(members, expected, "{ids:?}");
        }
    }

    #[test]
    fn patient_ids_must_be_positive_32_bit() {
        let message = || {
            Err(RuleViolation::Field {
                field: "patient_id",
                message: "patient_id muss positiv sein.".to_owned(),
            })
        };
        let cases = [
            (1, Ok(1)),
            (i64::from(i32::MAX), Ok(i32::MAX)),
            (0, message()),
            (-3, message()),
            (i64::from(i32::MAX) + 1, message()),
        ];
        for (id, expected) in cases {
            assert_eq!(check_patient_id(id), expected, "{id}");
        }
    }
}
