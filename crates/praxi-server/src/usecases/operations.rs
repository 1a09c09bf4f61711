//! Operation use cases. The status change of the OP board (`PATCH
//! /api/op-dashboard/{id}/status/` and the board page's status buttons) is one function,
//! [`change_status`]: it decides with the one transition table
//! ([`praxi_domain::operation::check_transition`]), writes through
//! `Store::set_operation_status` (a conditional `UPDATE … WHERE status = $from` plus the
//! status-history row and the audit row, in one transaction), audits every attempt after the
//! lookup as `op_status_update` `{from, to, ok, detail?}` and publishes every change on the
//! `op-board` event stream (id and status only).
//!
//! Creating, editing and deleting operations (`/api/operations/`) keep their reference rules
//! in `api::operations`; their edits are guarded against lost updates by
//! [`operation_etag`] (checked on the row re-read under its lock inside the transaction).

use chrono::{DateTime, Utc};
use praxi_domain::operation::{OperationStatus, TransitionError, check_transition};
use praxi_domain::rbac::Decision;
use praxi_store::StoreError;
use praxi_store::operations::OperationRecord;
use serde_json::{Value, json};

use super::{Caller, Failure, etag};
use crate::events::Board;
use crate::state::AppState;

/// The entity tag of an operation as read (changes with every write).
pub(crate) fn operation_etag(record: &OperationRecord) -> String {
    let mut devices: Vec<i64> = record.devices.iter().map(|d| d.id).collect();
    devices.sort_unstable();
    let team = record.team_ids();
    etag(&[
        &record.id.to_string(),
        &record.updated_at.to_rfc3339(),
        &record.start_time.to_rfc3339(),
        &record.end_time.to_rfc3339(),
        record.status.as_str(),
        &record.patient_id.to_string(),
        &record.room.id.to_string(),
        &record.op_type.id.to_string(),
        &format!("{team:?}"),
        &format!("{devices:?}"),
        record.notes.as_deref().unwrap_or(""),
    ])
}

/// Why a status change was refused (the board's flash code; the audit `detail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusRefusal {
    /// No operation with this id (also: it vanished before the write).
    NotFound,
    /// The request body could not be read (API only).
    InvalidBody,
    /// No (or an empty) status.
    StatusRequired,
    /// Not a status at all, or a transition the table does not allow.
    InvalidTransition,
    /// `running` before the planned start.
    RunningBeforeStart,
    /// The row's status is no longer the one the caller saw.
    Stale,
}

impl StatusRefusal {
    /// Every refusal.
    pub(crate) const ALL: [StatusRefusal; 6] = [
        StatusRefusal::NotFound,
        StatusRefusal::InvalidBody,
        StatusRefusal::StatusRequired,
        StatusRefusal::InvalidTransition,
        StatusRefusal::RunningBeforeStart,
        StatusRefusal::Stale,
    ];

    /// The machine code (the board's flash code; the original's audit `detail`, except for a
    /// missing status).
    pub(crate) fn code(self) -> &'static str {
        match self {
            StatusRefusal::NotFound => "not_found",
            StatusRefusal::InvalidBody => "invalid_body",
            StatusRefusal::StatusRequired => "status_required",
            StatusRefusal::InvalidTransition => "invalid_transition",
            StatusRefusal::RunningBeforeStart => "running_before_start",
            StatusRefusal::Stale => "stale_status",
        }
    }

    /// The original's audit `detail`.
    pub(crate) fn audit_detail(self) -> &'static str {
        match self {
            StatusRefusal::StatusRequired => "status is required",
            refusal => refusal.code(),
        }
    }

    /// The refusal of a code (flash addresses).
    pub(crate) fn parse(code: &str) -> Option<StatusRefusal> {
        StatusRefusal::ALL
            .into_iter()
            .find(|refusal| refusal.code() == code)
    }

    fn of(error: TransitionError) -> StatusRefusal {
        match error {
            TransitionError::NotAllowed { .. } => StatusRefusal::InvalidTransition,
            TransitionError::RunningBeforeStart => StatusRefusal::RunningBeforeStart,
        }
    }
}

/// A refused status change with what the caller needs to explain it.
#[derive(Debug, Clone)]
pub(crate) struct StatusRefused {
    pub(crate) refusal: StatusRefusal,
    /// The stored row (`None` when not found).
    pub(crate) record: Option<OperationRecord>,
    /// The requested value as sent (non-empty), for the answer and the audit.
    pub(crate) to: Option<String>,
}

/// The request of a status change.
#[derive(Debug, Clone)]
pub(crate) struct StatusRequest {
    /// The requested status as sent; `Err` for an unreadable body.
    pub(crate) requested: Result<Option<String>, ()>,
    /// The status the caller's page showed (the board's buttons send it): a row whose
    /// status moved on is refused as stale before anything else is decided.
    pub(crate) seen: Option<String>,
}

/// The `op_status_update` meta of one attempt.
pub(crate) fn status_meta(from: OperationStatus, to: Option<&str>, failure: Option<&str>) -> Value {
    let mut meta = json!({"from": from.as_str(), "to": to, "ok": failure.is_none()});
    if let Some(detail) = failure {
        meta["detail"] = json!(detail);
    }
    meta
}

/// Decides a requested status against the stored one with the one transition table.
pub(crate) fn decide(
    from: OperationStatus,
    requested: Option<&str>,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<OperationStatus, StatusRefusal> {
    let requested = requested
        .filter(|text| !text.is_empty())
        .ok_or(StatusRefusal::StatusRequired)?;
    let to = OperationStatus::parse(requested).ok_or(StatusRefusal::InvalidTransition)?;
    check_transition(Some(from), to, start_time, now).map_err(StatusRefusal::of)?;
    Ok(to)
}

/// Changes the status of an operation (the OP board). The policy decision is the table's for
/// `OpDashboard × Update` (admins and assistants; no object check). Unknown id → `NotFound`
/// without audit; every later outcome is audited.
pub(crate) async fn change_status(
    state: &AppState,
    caller: &Caller,
    _decision: Decision,
    id: i64,
    request: StatusRequest,
) -> Result<OperationRecord, Failure<StatusRefused>> {
    let refused = |refusal, record: Option<&OperationRecord>, to: Option<&str>| {
        Failure::Refused(StatusRefused {
            refusal,
            record: record.cloned(),
            to: to.map(str::to_owned),
        })
    };
    let Some(record) = state.store.operation(id).await? else {
        return Err(refused(StatusRefusal::NotFound, None, None));
    };
    let from = record.status();
    let audit_refusal = |refusal: StatusRefusal, to: Option<&str>| {
        caller.audit(
            "op_status_update",
            Some(record.patient_id),
            Some(status_meta(from, to, Some(refusal.audit_detail()))),
        )
    };
    let Ok(requested) = request.requested else {
        state
            .store
            .record_audit(&audit_refusal(StatusRefusal::InvalidBody, None))
            .await?;
        return Err(refused(StatusRefusal::InvalidBody, Some(&record), None));
    };
    let to_sent = requested.as_deref().filter(|text| !text.is_empty());
    let now = state.now();
    let decided = match (to_sent, request.seen.as_deref()) {
        (Some(_), Some(seen)) if !seen.is_empty() && seen != from.as_str() => {
            Err(StatusRefusal::Stale)
        }
        _ => decide(from, to_sent, record.start_time, now),
    };
    let to = match decided {
        Ok(to) => to,
        Err(refusal) => {
            state
                .store
                .record_audit(&audit_refusal(refusal, to_sent))
                .await?;
            return Err(refused(refusal, Some(&record), to_sent));
        }
    };
    let audit = caller.audit(
        "op_status_update",
        Some(record.patient_id),
        Some(status_meta(from, Some(to.as_str()), None)),
    );
    let result = state
        .store
        .set_operation_status(id, from, to, Some(caller.user_id()), now, &audit)
        .await;
    match result {
        Ok(updated) => {
            state
                .events
                .notify(
                    Board::OpBoard,
                    "operation.status",
                    updated.id,
                    Some(updated.status.as_str()),
                )
                .await;
            Ok(updated)
        }
        // The row changed (or vanished) between the lookup and the conditional update.
        Err(error @ (StoreError::Invalid(_) | StoreError::NotFound(_))) => {
            let refusal = if matches!(error, StoreError::NotFound(_)) {
                StatusRefusal::NotFound
            } else {
                StatusRefusal::Stale
            };
            state
                .store
                .record_audit(&audit_refusal(refusal, Some(to.as_str())))
                .await?;
            Err(refused(refusal, Some(&record), Some(to.as_str())))
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use praxi_domain::operation::OperationStatus::*;

    use super::*;

    #[test]
    fn requests_are_decided_with_the_one_transition_table() {
        let start = Utc
            .with_ymd_and_hms(2030, 1, 14, 10, 0, 0)
            .single()
            .expect("valid");
        let (before, after) = (start - chrono::Duration::minutes(1), start);
        let invalid = Err(StatusRefusal::InvalidTransition);
        let cases = [
            (Planned, None, after, Err(StatusRefusal::StatusRequired)),
            (Planned, Some(""), after, Err(StatusRefusal::StatusRequired)),
            (Planned, Some("bogus"), after, invalid),
            // Exact values only: the stored and wire values are lowercase.
            (Planned, Some("Confirmed"), after, invalid),
            (Planned, Some("confirmed"), before, Ok(Confirmed)),
            (Planned, Some("planned"), after, invalid),
            (Planned, Some("running"), after, invalid),
            (
                Confirmed,
                Some("running"),
                before,
                Err(StatusRefusal::RunningBeforeStart),
            ),
            (Confirmed, Some("running"), after, Ok(Running)),
            (Running, Some("done"), after, Ok(Done)),
            (Running, Some("cancelled"), after, Ok(Cancelled)),
            (Done, Some("cancelled"), after, invalid),
            (Cancelled, Some("cancelled"), after, invalid),
        ];
        for (from, requested, now, expected) in cases {
            assert_eq!(
                decide(from, requested, start, now),
                expected,
                "{from:?} -> {requested:?} at {now}"
            );
        }
    }

    #[test]
    fn refusal_codes_round_trip_and_carry_the_original_audit_details() {
        for refusal in StatusRefusal::ALL {
            assert_eq!(StatusRefusal::parse(refusal.code()), Some(refusal));
        }
        assert_eq!(
            StatusRefusal::StatusRequired.audit_detail(),
            "status is required"
        );
        assert_eq!(
            StatusRefusal::InvalidTransition.audit_detail(),
            "invalid_transition"
        );
        assert_eq!(
            StatusRefusal::RunningBeforeStart.audit_detail(),
            "running_before_start"
        );
        assert_eq!(
            status_meta(Planned, Some("running"), Some("invalid_transition")),
            json!({"from": "planned", "to": "running", "ok": false, "detail": "invalid_transition"})
        );
        assert_eq!(
            status_meta(Planned, Some("confirmed"), None),
            json!({"from": "planned", "to": "confirmed", "ok": true})
        );
    }
}
