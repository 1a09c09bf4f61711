//! Patient-flow use cases. A status step (`PATCH /api/patient-flow/{id}/status/` and the
//! waiting-room board's step buttons) is one function, [`change_status`]: own-only from the
//! policy decision, the read-only rule of a `done` flow, the one transition function of
//! `praxi_domain::flow`, the store's write with its status-history and audit rows, and the
//! board event.

use praxi_domain::flow::{FlowStatus, FlowUpdate, TransitionError, transition};
use praxi_domain::rbac::{Decision, Denial};
use praxi_store::flow::{FlowRecord, FlowWrite};
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
