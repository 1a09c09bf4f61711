//! The patient flow (waiting room): status machine, the rules of a flow write and the wait and
//! treatment times (data-model.md §5.12, §10.3; scheduling.md §5).
//!
//! * **One transition function** ([`transition`]) decides every status change, on create and
//!   on every update path: the chain `registered → waiting → preparing → in_treatment →
//!   post_treatment → done` one step forward at a time; the same status again is an accepted
//!   no-op; `done` is terminal and read-only; a new flow starts at `registered` or `waiting`
//!   (the original accepted any initial status, even `done` — W14).
//! * **Arrival**: the first transition to `waiting` sets `arrival_time` when it is still empty
//!   ([`FlowUpdate::apply`], [`initial_state`]); the original never filled it.
//! * **Times** ([`flow_times`]) come from the first transitions to `in_treatment` and `done`
//!   in the flow's status history (the original read them from audit rows, W14/§15 item 25).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::validation::ValidationError;

/// The status of a patient flow (data-model.md §10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowStatus {
    /// Angemeldet (the default).
    Registered,
    /// Wartend.
    Waiting,
    /// Vorbereitung.
    Preparing,
    /// In Behandlung.
    InTreatment,
    /// Nachbehandlung.
    PostTreatment,
    /// Fertig (terminal, read-only).
    Done,
}

impl FlowStatus {
    /// Every status, in chain order.
    pub const ALL: [FlowStatus; 6] = [
        FlowStatus::Registered,
        FlowStatus::Waiting,
        FlowStatus::Preparing,
        FlowStatus::InTreatment,
        FlowStatus::PostTreatment,
        FlowStatus::Done,
    ];

    /// The stored and wire value.
    pub fn as_str(&self) -> &'static str {
        match self {
            FlowStatus::Registered => "registered",
            FlowStatus::Waiting => "waiting",
            FlowStatus::Preparing => "preparing",
            FlowStatus::InTreatment => "in_treatment",
            FlowStatus::PostTreatment => "post_treatment",
            FlowStatus::Done => "done",
        }
    }

    /// Parses a wire value (exact, lowercase).
    pub fn parse(value: &str) -> Option<FlowStatus> {
        FlowStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The one status that may follow this one (`None` for `done`).
    pub fn next(&self) -> Option<FlowStatus> {
        match self {
            FlowStatus::Registered => Some(FlowStatus::Waiting),
            FlowStatus::Waiting => Some(FlowStatus::Preparing),
            FlowStatus::Preparing => Some(FlowStatus::InTreatment),
            FlowStatus::InTreatment => Some(FlowStatus::PostTreatment),
            FlowStatus::PostTreatment => Some(FlowStatus::Done),
            FlowStatus::Done => None,
        }
    }

    /// `done` accepts no change at all.
    pub fn is_terminal(&self) -> bool {
        *self == FlowStatus::Done
    }

    /// The statuses a flow may be created with.
    pub fn is_initial(&self) -> bool {
        matches!(self, FlowStatus::Registered | FlowStatus::Waiting)
    }
}

impl fmt::Display for FlowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The field every status error is reported on.
pub const STATUS_FIELD: &str = "status";

/// Why a flow write is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The flow is `done`: nothing about it may change any more.
    #[error("a done flow is read-only")]
    ReadOnly,
    /// Not exactly one step forward (a skip or a step back).
    #[error("invalid transition {from} -> {to}")]
    InvalidStep { from: FlowStatus, to: FlowStatus },
    /// A new flow must start at `registered` or `waiting`.
    #[error("invalid initial status {to}")]
    InvalidInitial { to: FlowStatus },
}

impl TransitionError {
    /// The message for the `status` field (the original's German texts where it had one).
    pub fn message(&self) -> String {
        match self {
            TransitionError::ReadOnly => "\"done\" ist schreibgeschützt.".to_owned(),
            TransitionError::InvalidStep { from, to } => {
                format!("Ungültiger Übergang {from} -> {to}.")
            }
            TransitionError::InvalidInitial { to } => format!(
                "Ungültiger Anfangsstatus \"{to}\": ein Ablauf beginnt mit \"registered\" oder \"waiting\"."
            ),
        }
    }

    /// The error as a `status` field error.
    pub fn into_validation(self) -> ValidationError {
        ValidationError::field(STATUS_FIELD, self.message())
    }
}

/// The outcome of an accepted status request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The same status again: nothing changes (no history row, `status_changed_at` stays).
    Unchanged(FlowStatus),
    /// A real change; `from: None` is the initial status of a new flow.
    Changed {
        from: Option<FlowStatus>,
        to: FlowStatus,
    },
}

impl Transition {
    /// The status after the transition.
    pub fn to(&self) -> FlowStatus {
        match self {
            Transition::Unchanged(status) => *status,
            Transition::Changed { to, .. } => *to,
        }
    }

    /// `true` for a real change.
    pub fn is_change(&self) -> bool {
        matches!(self, Transition::Changed { .. })
    }
}

/// The one transition function of patient flows, used by create, the generic update and the
/// status endpoint (`from: None` = a new flow):
///
/// | from \ to      | registered | waiting | preparing | in_treatment | post_treatment | done |
/// |----------------|------------|---------|-----------|--------------|----------------|------|
/// | (new)          | ✔          | ✔       | ✘         | ✘            | ✘              | ✘    |
/// | registered     | =          | ✔       | ✘         | ✘            | ✘              | ✘    |
/// | waiting        | ✘          | =       | ✔         | ✘            | ✘              | ✘    |
/// | preparing      | ✘          | ✘       | =         | ✔            | ✘              | ✘    |
/// | in_treatment   | ✘          | ✘       | ✘         | =            | ✔              | ✘    |
/// | post_treatment | ✘          | ✘       | ✘         | ✘            | =              | ✔    |
/// | done           | read-only  | r/o     | r/o       | r/o          | r/o            | r/o  |
///
/// `=` is the accepted no-op [`Transition::Unchanged`].
pub fn transition(from: Option<FlowStatus>, to: FlowStatus) -> Result<Transition, TransitionError> {
    match from {
        None if to.is_initial() => Ok(Transition::Changed { from: None, to }),
        None => Err(TransitionError::InvalidInitial { to }),
        Some(from) if from.is_terminal() => Err(TransitionError::ReadOnly),
        Some(from) if from == to => Ok(Transition::Unchanged(from)),
        Some(from) if from.next() == Some(to) => Ok(Transition::Changed {
            from: Some(from),
            to,
        }),
        Some(from) => Err(TransitionError::InvalidStep { from, to }),
    }
}

/// A flow may be deleted only while it is not `done` (a finished visit is a record; the
/// original let the owning doctor delete it, W14).
pub fn may_delete(status: FlowStatus) -> bool {
    !status.is_terminal()
}

/// What a flow is attached to: exactly one appointment or one operation (the schema's CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowLink {
    Appointment(i64),
    Operation(i64),
}

/// The message when neither link is given (the original's text).
pub const LINK_REQUIRED: &str = "Entweder Termin oder Operation muss gesetzt sein.";
/// The message when both links are given.
pub const LINK_AMBIGUOUS: &str = "Nur Termin oder Operation darf gesetzt sein, nicht beides.";

impl FlowLink {
    /// Exactly one of the two ids; the error names `non_field_errors`.
    pub fn from_ids(
        appointment_id: Option<i64>,
        operation_id: Option<i64>,
    ) -> Result<FlowLink, ValidationError> {
        match (appointment_id, operation_id) {
            (Some(id), None) => Ok(FlowLink::Appointment(id)),
            (None, Some(id)) => Ok(FlowLink::Operation(id)),
            (None, None) => Err(ValidationError::field("non_field_errors", LINK_REQUIRED)),
            (Some(_), Some(_)) => Err(ValidationError::field("non_field_errors", LINK_AMBIGUOUS)),
        }
    }

    /// The appointment, for an appointment flow.
    pub fn appointment_id(&self) -> Option<i64> {
        match self {
            FlowLink::Appointment(id) => Some(*id),
            FlowLink::Operation(_) => None,
        }
    }

    /// The operation, for an operation flow.
    pub fn operation_id(&self) -> Option<i64> {
        match self {
            FlowLink::Operation(id) => Some(*id),
            FlowLink::Appointment(_) => None,
        }
    }
}

/// The editable state of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowState {
    pub status: FlowStatus,
    pub arrival_time: Option<DateTime<Utc>>,
    pub notes: Option<String>,
}

/// The state of a new flow: `status` (default `registered`) must be an initial status; a flow
/// created as `waiting` without an arrival time arrives `now`.
pub fn initial_state(
    status: Option<FlowStatus>,
    arrival_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    now: DateTime<Utc>,
) -> Result<FlowState, ValidationError> {
    let status = transition(None, status.unwrap_or(FlowStatus::Registered))
        .map_err(TransitionError::into_validation)?
        .to();
    Ok(FlowState {
        status,
        arrival_time: arrival_after(status, arrival_time, now),
        notes,
    })
}

/// The arrival time after reaching `status`: the first transition to `waiting` fills an empty
/// arrival time with `now`.
fn arrival_after(
    status: FlowStatus,
    arrival_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match (status, arrival_time) {
        (FlowStatus::Waiting, None) => Some(now),
        (_, arrival_time) => arrival_time,
    }
}

/// A requested change (`None` = not sent, stays as stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowUpdate {
    pub status: Option<FlowStatus>,
    pub arrival_time: Option<Option<DateTime<Utc>>>,
    pub notes: Option<Option<String>>,
}

/// An accepted update: the new state and what happened to the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedUpdate {
    pub state: FlowState,
    pub transition: Transition,
}

impl FlowUpdate {
    /// Applies the change to `current` through [`transition`] (a `done` flow refuses every
    /// change, also of the notes).
    pub fn apply(
        self,
        current: &FlowState,
        now: DateTime<Utc>,
    ) -> Result<AppliedUpdate, TransitionError> {
        let transition = transition(Some(current.status), self.status.unwrap_or(current.status))?;
        let arrival_time = self.arrival_time.unwrap_or(current.arrival_time);
        let arrival_time = if transition.is_change() {
            arrival_after(transition.to(), arrival_time, now)
        } else {
            arrival_time
        };
        Ok(AppliedUpdate {
            state: FlowState {
                status: transition.to(),
                arrival_time,
                notes: self.notes.unwrap_or_else(|| current.notes.clone()),
            },
            transition,
        })
    }
}

/// The first arrival in each status the times need, from the flow's status history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    /// The first transition to `in_treatment`.
    pub in_treatment: Option<DateTime<Utc>>,
    /// The first transition to `done`.
    pub done: Option<DateTime<Utc>>,
}

impl Milestones {
    /// Folds status-history rows `(to, at)` in any order into the first times.
    pub fn from_events(events: impl IntoIterator<Item = (FlowStatus, DateTime<Utc>)>) -> Self {
        let mut milestones = Milestones::default();
        let earliest = |slot: &mut Option<DateTime<Utc>>, at: DateTime<Utc>| {
            *slot = Some(slot.map_or(at, |seen| seen.min(at)));
        };
        for (to, at) in events {
            match to {
                FlowStatus::InTreatment => earliest(&mut milestones.in_treatment, at),
                FlowStatus::Done => earliest(&mut milestones.done, at),
                _ => {}
            }
        }
        milestones
    }
}

/// The derived durations of a flow, in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowTimes {
    /// `None` without an arrival time.
    pub wait_minutes: Option<i64>,
    pub treatment_minutes: i64,
}

/// Wait = arrival → first `in_treatment` (or `now` while still waiting), `None` without an
/// arrival time; treatment = first `in_treatment` → first `done` (or `now` while in
/// treatment), 0 when never treated. Both are floored to whole minutes and never negative
/// (an arrival time in the future waits 0 minutes).
pub fn flow_times(
    arrival_time: Option<DateTime<Utc>>,
    milestones: Milestones,
    now: DateTime<Utc>,
) -> FlowTimes {
    let minutes = |from: DateTime<Utc>, to: DateTime<Utc>| (to - from).num_minutes().max(0);
    FlowTimes {
        wait_minutes: arrival_time
            .map(|arrival| minutes(arrival, milestones.in_treatment.unwrap_or(now))),
        treatment_minutes: milestones
            .in_treatment
            .map_or(0, |start| minutes(start, milestones.done.unwrap_or(now))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlowStatus::{Done, InTreatment, PostTreatment, Preparing, Registered, Waiting};
    use chrono::{Duration, TimeZone};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 14, 8, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn statuses_round_trip_through_their_wire_names() {
        for status in FlowStatus::ALL {
            assert_eq!(FlowStatus::parse(status.as_str()), Some(status));
        }
        for bad in ["", "Waiting", "bogus", "in-treatment", "cancelled"] {
            assert_eq!(FlowStatus::parse(bad), None, "{bad}");
        }
    }

    /// Every (from, to) pair of the 6 × 6 table plus every initial status.
    #[test]
    fn transition_table_covers_every_pair() {
        use Transition::{Changed, Unchanged};
        let ok = |from, to| Ok(Changed { from, to });
        let step = |from, to| Err(TransitionError::InvalidStep { from, to });
        let read_only = Err(TransitionError::ReadOnly);
        let initial = |to| Err(TransitionError::InvalidInitial { to });
        let cases: [(
            Option<FlowStatus>,
            FlowStatus,
            Result<Transition, TransitionError>,
        ); 42] = [
            // A new flow.
            (None, Registered, ok(None, Registered)),
            (None, Waiting, ok(None, Waiting)),
            (None, Preparing, initial(Preparing)),
            (None, InTreatment, initial(InTreatment)),
            (None, PostTreatment, initial(PostTreatment)),
            (None, Done, initial(Done)),
            // registered
            (Some(Registered), Registered, Ok(Unchanged(Registered))),
            (Some(Registered), Waiting, ok(Some(Registered), Waiting)),
            (Some(Registered), Preparing, step(Registered, Preparing)),
            (Some(Registered), InTreatment, step(Registered, InTreatment)),
            (
                Some(Registered),
                PostTreatment,
                step(Registered, PostTreatment),
            ),
            (Some(Registered), Done, step(Registered, Done)),
            // waiting
            (Some(Waiting), Registered, step(Waiting, Registered)),
            (Some(Waiting), Waiting, Ok(Unchanged(Waiting))),
            (Some(Waiting), Preparing, ok(Some(Waiting), Preparing)),
            (Some(Waiting), InTreatment, step(Waiting, InTreatment)),
            (Some(Waiting), PostTreatment, step(Waiting, PostTreatment)),
            (Some(Waiting), Done, step(Waiting, Done)),
            // preparing
            (Some(Preparing), Registered, step(Preparing, Registered)),
            (Some(Preparing), Waiting, step(Preparing, Waiting)),
            (Some(Preparing), Preparing, Ok(Unchanged(Preparing))),
            (
                Some(Preparing),
                InTreatment,
                ok(Some(Preparing), InTreatment),
            ),
            (
                Some(Preparing),
                PostTreatment,
                step(Preparing, PostTreatment),
            ),
            (Some(Preparing), Done, step(Preparing, Done)),
            // in_treatment
            (Some(InTreatment), Registered, step(InTreatment, Registered)),
            (Some(InTreatment), Waiting, step(InTreatment, Waiting)),
            (Some(InTreatment), Preparing, step(InTreatment, Preparing)),
            (Some(InTreatment), InTreatment, Ok(Unchanged(InTreatment))),
            (
                Some(InTreatment),
                PostTreatment,
                ok(Some(InTreatment), PostTreatment),
            ),
            (Some(InTreatment), Done, step(InTreatment, Done)),
            // post_treatment
            (
                Some(PostTreatment),
                Registered,
                step(PostTreatment, Registered),
            ),
            (Some(PostTreatment), Waiting, step(PostTreatment, Waiting)),
            (
                Some(PostTreatment),
                Preparing,
                step(PostTreatment, Preparing),
            ),
            (
                Some(PostTreatment),
                InTreatment,
                step(PostTreatment, InTreatment),
            ),
            (
                Some(PostTreatment),
                PostTreatment,
                Ok(Unchanged(PostTreatment)),
            ),
            (Some(PostTreatment), Done, ok(Some(PostTreatment), Done)),
            // done: terminal and read-only, even "done again"
            (Some(Done), Registered, read_only),
            (Some(Done), Waiting, read_only),
            (Some(Done), Preparing, read_only),
            (Some(Done), InTreatment, read_only),
            (Some(Done), PostTreatment, read_only),
            (Some(Done), Done, read_only),
        ];
        for (from, to, expected) in cases {
            assert_eq!(transition(from, to), expected, "{from:?} -> {to}");
        }
    }

    #[test]
    fn transition_errors_carry_the_original_texts() {
        assert_eq!(
            TransitionError::InvalidStep {
                from: Registered,
                to: InTreatment
            }
            .message(),
            "Ungültiger Übergang registered -> in_treatment."
        );
        assert_eq!(
            TransitionError::ReadOnly.message(),
            "\"done\" ist schreibgeschützt."
        );
        let error = TransitionError::InvalidInitial { to: Done }.into_validation();
        assert!(error.0.contains("status"));
        assert!(error.0.fields()["status"][0].contains("\"done\""));
    }

    #[test]
    fn only_unfinished_flows_may_be_deleted() {
        for status in FlowStatus::ALL {
            assert_eq!(may_delete(status), status != Done, "{status}");
        }
    }

    #[test]
    fn a_flow_links_exactly_one_appointment_or_operation() {
        assert_eq!(
            FlowLink::from_ids(Some(3), None),
            Ok(FlowLink::Appointment(3))
        );
        assert_eq!(
            FlowLink::from_ids(None, Some(4)),
            Ok(FlowLink::Operation(4))
        );
        for (appointment, operation, message) in [
            (None, None, LINK_REQUIRED),
            (Some(3), Some(4), LINK_AMBIGUOUS),
        ] {
            let errors = FlowLink::from_ids(appointment, operation).unwrap_err().0;
            assert_eq!(
                errors.fields()["non_field_errors"],
                vec![message.to_owned()]
            );
        }
    }

    #[test]
    fn new_flows_start_registered_or_waiting_and_waiting_means_arrived() {
        let now = t(0);
        let registered = initial_state(None, None, None, now).unwrap();
        assert_eq!(registered.status, Registered);
        assert_eq!(registered.arrival_time, None);
        let waiting = initial_state(Some(Waiting), None, Some("Rückruf".into()), now).unwrap();
        assert_eq!(waiting.arrival_time, Some(now));
        assert_eq!(waiting.notes.as_deref(), Some("Rückruf"));
        let given = initial_state(Some(Waiting), Some(t(-30)), None, now).unwrap();
        assert_eq!(given.arrival_time, Some(t(-30)));
        let error = initial_state(Some(Done), None, None, now).unwrap_err();
        assert!(error.0.contains("status"));
    }

    #[test]
    fn the_first_step_to_waiting_fills_an_empty_arrival_time() {
        let current = FlowState {
            status: Registered,
            arrival_time: None,
            notes: None,
        };
        let update = FlowUpdate {
            status: Some(Waiting),
            ..Default::default()
        };
        let applied = update.apply(&current, t(5)).unwrap();
        assert_eq!(applied.state.arrival_time, Some(t(5)));
        assert_eq!(
            applied.transition,
            Transition::Changed {
                from: Some(Registered),
                to: Waiting
            }
        );
        // A client-given arrival time wins.
        let update = FlowUpdate {
            status: Some(Waiting),
            arrival_time: Some(Some(t(-10))),
            ..Default::default()
        };
        assert_eq!(
            update.apply(&current, t(5)).unwrap().state.arrival_time,
            Some(t(-10))
        );
        // Staying in waiting is no transition: a cleared arrival time stays cleared.
        let waiting = FlowState {
            status: Waiting,
            arrival_time: Some(t(0)),
            notes: None,
        };
        let update = FlowUpdate {
            status: Some(Waiting),
            arrival_time: Some(None),
            ..Default::default()
        };
        let applied = update.apply(&waiting, t(5)).unwrap();
        assert_eq!(applied.state.arrival_time, None);
        assert_eq!(applied.transition, Transition::Unchanged(Waiting));
    }

    #[test]
    fn updates_keep_unsent_fields_and_done_flows_refuse_every_change() {
        let current = FlowState {
            status: Preparing,
            arrival_time: Some(t(0)),
            notes: Some("alt".into()),
        };
        let notes_only = FlowUpdate {
            notes: Some(Some("neu".into())),
            ..Default::default()
        };
        let applied = notes_only.clone().apply(&current, t(5)).unwrap();
        assert_eq!(applied.state.status, Preparing);
        assert_eq!(applied.state.arrival_time, Some(t(0)));
        assert_eq!(applied.state.notes.as_deref(), Some("neu"));
        assert!(!applied.transition.is_change());
        let done = FlowState {
            status: Done,
            ..current
        };
        assert_eq!(
            notes_only.apply(&done, t(5)),
            Err(TransitionError::ReadOnly)
        );
        assert_eq!(
            FlowUpdate::default().apply(&done, t(5)),
            Err(TransitionError::ReadOnly)
        );
    }

    #[test]
    fn milestones_take_the_first_arrival_in_each_status() {
        let milestones = Milestones::from_events([
            (Done, t(70)),
            (Waiting, t(1)),
            (InTreatment, t(30)),
            (InTreatment, t(20)),
            (Done, t(60)),
        ]);
        assert_eq!(milestones.in_treatment, Some(t(20)));
        assert_eq!(milestones.done, Some(t(60)));
        assert_eq!(Milestones::from_events([]), Milestones::default());
    }

    #[test]
    fn wait_and_treatment_minutes() {
        let m = |in_treatment: Option<i64>, done: Option<i64>| Milestones {
            in_treatment: in_treatment.map(t),
            done: done.map(t),
        };
        // (arrival, milestones, now, wait, treatment)
        let cases = [
            // scheduling.md §8 no. 92: arrived at 0, treated from 20, done at 60.
            (Some(0), m(Some(20), Some(60)), 60, Some(20), 40),
            // Still waiting: wait runs until now; never treated.
            (Some(0), m(None, None), 45, Some(45), 0),
            // In treatment: treatment runs until now.
            (Some(0), m(Some(20), None), 50, Some(20), 30),
            // No arrival time: no wait time.
            (None, m(Some(20), Some(60)), 60, None, 40),
            // An arrival time in the future waits 0 minutes, never negative.
            (Some(30), m(None, None), 10, Some(0), 0),
            // Arrived just now.
            (Some(0), m(None, None), 0, Some(0), 0),
        ];
        for (arrival, milestones, now, wait, treatment) in cases {
            assert_eq!(
                flow_times(arrival.map(t), milestones, t(now)),
                FlowTimes {
                    wait_minutes: wait,
                    treatment_minutes: treatment
                },
                "{arrival:?} {milestones:?} {now}"
            );
        }
        // Floors to whole minutes: 1 min 59 s is 1 minute.
        let almost = t(0) + Duration::seconds(119);
        assert_eq!(
            flow_times(Some(t(0)), Milestones::default(), almost).wait_minutes,
            Some(1)
        );
    }
}
