//! Appointment reminders as staff see them (issue #14): the outbox list, queueing a failed
//! reminder again, and a patient's opt-out. Shared by `/api/reminders/`,
//! `/api/patients/{id}/reminders/` and the administration page `/admin/reminders/`.
//!
//! The caller's handler or page has asked the RBAC table (`Area::Reminders` for the outbox,
//! `Area::Patients` for the opt-out). Every write is audited in its transaction
//! (`reminder_retry`, `patient_reminder_opt_out`); reading a patient's opt-out is audited as a
//! patient read (`patient_reminder_settings_view`).

use praxi_store::StoreError;
use praxi_store::outbox::{OutboxEntry, OutboxFilter};
use serde_json::json;

use crate::state::AppState;
use crate::usecases::Caller;

/// Why a retry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryRefusal {
    NotFound,
    /// Only a failed reminder can be queued again.
    NotFailed,
}

/// The outbox rows for staff, newest first (ids, times and states; no patient data).
pub(crate) async fn list(
    state: &AppState,
    filter: &OutboxFilter,
) -> Result<Vec<OutboxEntry>, StoreError> {
    state.store.outbox_entries(filter).await
}

/// Queues a failed reminder again, due now, with fresh attempts.
pub(crate) async fn retry(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Result<OutboxEntry, RetryRefusal>, StoreError> {
    let retried = state
        .store
        .retry_reminder(id, state.now(), |patient_id| {
            caller.audit(
                "reminder_retry",
                Some(patient_id),
                Some(json!({"outbox_id": id})),
            )
        })
        .await?;
    if let Some(entry) = retried {
        return Ok(Ok(entry));
    }
    let known = state.store.outbox_entry(id).await?.is_some();
    Ok(Err(if known {
        RetryRefusal::NotFailed
    } else {
        RetryRefusal::NotFound
    }))
}

/// A patient's reminder opt-out (`None`: no such patient); audited as a patient read.
pub(crate) async fn opt_out(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
) -> Result<Option<bool>, StoreError> {
    let flag = state.store.reminder_opt_out(patient_id).await?;
    if flag.is_some() {
        state
            .store
            .record_audit(&caller.audit("patient_reminder_settings_view", Some(patient_id), None))
            .await?;
    }
    Ok(flag)
}

/// Sets a patient's reminder opt-out; `false` for an unknown patient.
pub(crate) async fn set_opt_out(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
    opt_out: bool,
) -> Result<bool, StoreError> {
    state
        .store
        .set_reminder_opt_out(
            patient_id,
            opt_out,
            state.now(),
            &caller.audit(
                "patient_reminder_opt_out",
                Some(patient_id),
                Some(json!({"reminder_opt_out": opt_out})),
            ),
        )
        .await
}
