//! Patient-flow use cases. A status step (`PATCH /api/patient-flow/{id}/status/` and the
//! waiting-room board's step buttons) is one function, [`change_status`]: own-only from the
//! policy decision, the read-only rule of a `done` flow, the one transition function of
//! `praxi_domain::flow`, the store's write with its status-history and audit rows, and the
//! board event. Starting a flow (`POST /api/patient-flow/` and the board's "arrived" button)
//! is [`create`].

use chrono::{DateTime, Utc};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::flow::{FlowLink, FlowStatus, FlowUpdate, TransitionError, transition};
use praxi_domain::rbac::{Decision, Denial};
use praxi_store::flow::{FlowRecord, FlowWrite, NewFlow};
use serde_json::Value;

use super::{Caller, Failure, own_only};
use crate::events::Board;
use crate::state::AppState;

/// The one refusal of the patient-flow use cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowRefusal {
    /// No flow with this id.
    NotFound,
    /// The policy's own-only decision: another doctor's flow.
    Denied(Denial),
    /// The flow's status is no longer the one the caller's page showed.
    Stale,
    /// A `done` flow is read-only. `by_field_rule`: the caller is restricted to own records
    /// by the policy (doctors), who are answered by the field rule (400) like the original;
    /// everyone else by the object permission (403).
    ReadOnly { by_field_rule: bool },
    /// Not one step forward.
    Transition(TransitionError),
    /// A stored flow without appointment or operation (the schema forbids it).
    Unlinked,
    /// The appointment or operation a new flow names does not exist.
    UnknownLink(FlowLink),
    /// An arrival for an appointment that is cancelled or a no-show.
    NotExpected,
    /// An arrival for an appointment that already has a flow.
    AlreadyArrived,
}

/// How a new flow starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowStart {
    /// As requested (`POST /api/patient-flow/`): any existing appointment or operation.
    AsRequested,
    /// The patient of an appointment has arrived (the board's button): only an expected
    /// appointment (not cancelled, not a no-show) without a flow yet.
    Arrival,
}

/// The read-only rule of a `done` flow, with how the policy decision says to answer it.
pub(crate) fn writable(decision: Decision, record: &FlowRecord) -> Result<(), FlowRefusal> {
    if record.status.is_terminal() {
        return Err(FlowRefusal::ReadOnly {
            by_field_rule: matches!(decision, Decision::OwnOnly(_)),
        });
    }
    Ok(())
}

/// One flow as the caller may see it (404 for an unknown id, the policy's denial for another
/// doctor's flow under an own-only decision).
pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i64,
) -> Result<FlowRecord, Failure<FlowRefusal>> {
    let Some(record) = state.store.patient_flow(id).await? else {
        return Err(Failure::Refused(FlowRefusal::NotFound));
    };
    own_only(decision, record.is_own(caller.user_id()))
        .map_err(|denial| Failure::Refused(FlowRefusal::Denied(denial)))?;
    Ok(record)
}

/// One status step of `current` (`to: None` keeps the status, as `{}` does in the API);
/// `seen` is the status the caller's page showed (the board's buttons send it). Audited by
/// the store (`patient_flow_status_update`); a change is published as `flow.status`.
pub(crate) async fn change_status(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    current: &FlowRecord,
    to: Option<FlowStatus>,
    seen: Option<&str>,
) -> Result<FlowRecord, Failure<FlowRefusal>> {
    let refused = |refusal| Failure::Refused(refusal);
    own_only(decision, current.is_own(caller.user_id()))
        .map_err(|denial| refused(FlowRefusal::Denied(denial)))?;
    if let Some(seen) = seen
        && !seen.is_empty()
        && seen != current.status.as_str()
    {
        return Err(refused(FlowRefusal::Stale));
    }
    writable(decision, current).map_err(refused)?;
    if let Some(to) = to {
        transition(Some(current.status), to)
            .map_err(|error| refused(FlowRefusal::Transition(error)))?;
    }
    let link = current.link().ok_or(refused(FlowRefusal::Unlinked))?;
    let update = FlowUpdate {
        status: to,
        ..Default::default()
    };
    let (record, transition) = state
        .store
        .update_patient_flow(
            current,
            link,
            update,
            FlowWrite::Status,
            Some(caller.user_id()),
            state.now(),
            |action: &str, patient_id: Option<i32>, meta: Value| {
                caller.audit(action, patient_id, Some(meta))
            },
        )
        .await?;
    if transition.is_change() {
        publish(state, "flow.status", &record).await;
    }
    Ok(record)
}

/// What [`check_link`] found about the appointment or operation a flow names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Linked {
    /// The appointment's id (`None` for an operation).
    appointment_id: Option<i32>,
    /// Not cancelled and not a no-show (operations: always).
    expected: bool,
}

/// Checks that the appointment or operation a flow names exists and, under an own-only
/// decision, is the caller's (their appointment, or an operation they are on the team of).
pub(crate) async fn check_link(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    link: FlowLink,
) -> Result<Linked, Failure<FlowRefusal>> {
    let unknown = || Failure::Refused(FlowRefusal::UnknownLink(link));
    let (is_own, linked) = match link {
        FlowLink::Appointment(id) => {
            let id = i32::try_from(id).map_err(|_| unknown())?;
            let appointment = state.store.appointment(id).await?.ok_or_else(unknown)?;
            (
                appointment.doctor_id == caller.user_id(),
                Linked {
                    appointment_id: Some(id),
                    expected: appointment.status != AppointmentStatus::Cancelled
                        && !appointment.is_no_show,
                },
            )
        }
        FlowLink::Operation(id) => {
            let operation = state.store.operation(id).await?.ok_or_else(unknown)?;
            (
                operation.has_member(caller.user_id()),
                Linked {
                    appointment_id: None,
                    expected: true,
                },
            )
        }
    };
    own_only(decision, is_own).map_err(|denial| Failure::Refused(FlowRefusal::Denied(denial)))?;
    Ok(linked)
}

/// Starts `flow` (its link, and the domain's initial state the caller parsed at `now`, which
/// also stamps the flow's first status):
/// the linked appointment or operation must pass [`check_link`]; an arrival also needs an expected appointment without a flow. Audited by the store
/// (`patient_flow_create`), published as `flow.created`.
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    flow: NewFlow,
    now: DateTime<Utc>,
    start: FlowStart,
) -> Result<FlowRecord, Failure<FlowRefusal>> {
    let refused = |refusal| Err(Failure::Refused(refusal));
    let linked = check_link(state, caller, decision, flow.link).await?;
    if start == FlowStart::Arrival {
        if !linked.expected {
            return refused(FlowRefusal::NotExpected);
        }
        if let Some(id) = linked.appointment_id
            && state.store.appointment_has_flow(id).await?
        {
            return refused(FlowRefusal::AlreadyArrived);
        }
    }
    let record = state
        .store
        .create_patient_flow(
            flow,
            Some(caller.user_id()),
            now,
            |action: &str, patient_id: Option<i32>, meta: Value| {
                caller.audit(action, patient_id, Some(meta))
            },
        )
        .await?;
    publish(state, "flow.created", &record).await;
    Ok(record)
}

/// Tells the live board (after the commit; ids and status only).
pub(crate) async fn publish(state: &AppState, kind: &str, record: &FlowRecord) {
    state
        .events
        .notify(
            Board::PatientFlow,
            kind,
            record.id,
            Some(record.status.as_str()),
        )
        .await;
}
