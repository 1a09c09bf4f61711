//! Operation use cases. The status change of the OP board (`PATCH
//! /api/op-dashboard/{id}/status/` and the board page's status buttons) is one function,
//! [`change_status`]: it decides with the one transition table
//! ([`praxi_domain::operation::check_transition`]), writes through
//! `Store::set_operation_status` (a conditional `UPDATE … WHERE status = $from` plus the
//! status-history row and the audit row, in one transaction), audits every attempt after the
//! lookup as `op_status_update` `{from, to, ok, detail?}` and publishes every change on the
//! `op-board` event stream (id and status only).
//!
//! Creating, changing (move, team, room, devices, status, notes) and deleting operations
//! (`/api/operations/`) are [`create`], [`change`] and [`delete`]: the references the input
//! names, the rules of [`praxi_domain::operation`] (reference rules, duration snapshot,
//! transition table), one locked store transaction with the engine inside and the audit row,
//! then the board events. They answer one typed refusal, [`OperationRefusal`], which the API
//! renders as the original's DRF body and the staff UI as a translated message
//! ([`OperationRefusal::message_key`]). Edits are guarded against lost updates by
//! [`operation_etag`] (checked on the row re-read under its lock inside the transaction).

use chrono::{DateTime, Utc};
use praxi_domain::operation::{
    DeviceFacts, Durations, MemberFacts, OperationStatus, ReferenceFacts, ResourceFacts,
    RuleViolation, TeamIds, TransitionError, check_references, check_transition,
    needs_fresh_snapshot, status_update,
};
use praxi_domain::rbac::Decision;
use praxi_domain::scheduling::{Conflict, ConflictKind, PersonRole};
use praxi_store::StoreError;
use praxi_store::appointments::{ResourceInfo, ScheduleCheck};
use praxi_store::catalog::OperationTypeRecord;
use praxi_store::operations::{OperationDraft, OperationRecord, StoredOperation};
use praxi_store::users::UserRecord;
use serde_json::{Value, json};

use super::{Caller, Failure, IfMatch, etag};
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

/// The model name of 404 answers.
pub(crate) const MODEL: &str = "Operation";

/// How often an edit is recomputed when the row changed between its read and its write.
const EDIT_ATTEMPTS: usize = 3;

/// The writable fields of an operation as sent (`None` = absent; `Some(None)` = an explicit
/// null of a nullable field).
#[derive(Debug, Default, Clone)]
pub(crate) struct OperationInput {
    pub(crate) patient_id: Option<i32>,
    pub(crate) primary_surgeon: Option<i64>,
    pub(crate) assistant: Option<Option<i64>>,
    pub(crate) anesthesist: Option<Option<i64>>,
    pub(crate) op_room: Option<i64>,
    pub(crate) op_type: Option<i64>,
    pub(crate) op_device_ids: Option<Vec<i64>>,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) status: Option<OperationStatus>,
    pub(crate) notes: Option<Option<String>>,
}

/// The one refusal of creating, changing and deleting operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OperationRefusal {
    /// No operation with this id.
    NotFound,
    /// A required value is missing (only possible for an update of an incomplete row).
    Incomplete,
    /// References new to the operation that do not exist, as `(field, id)` in the original's
    /// order (`patient_id`, `op_type`, `op_room`, then the team roles).
    UnknownReferences(Vec<(&'static str, i64)>),
    /// A reference rule of [`check_references`] (inactive type, not a room, team member not
    /// an active doctor, one person in two roles, …) for `field`.
    Rule {
        field: &'static str,
        message: String,
    },
    /// A status the transition table does not allow (`from` is `None` on create).
    Transition {
        from: Option<OperationStatus>,
        error: TransitionError,
    },
    /// The engine refused, or the type lasts zero minutes (`reason` `invalid_duration`):
    /// the original's "Operation conflict" (already audited as `operation_conflict`).
    Conflict {
        reason: &'static str,
        conflict: Option<Conflict>,
    },
    /// Only the patient is busy then: the patient's conflicts.
    PatientBusy(Vec<Conflict>),
    /// `If-Match` names another state of the row than the one stored.
    Stale,
    /// The row kept changing while the edit was computed (try again later).
    Contended,
}

impl OperationRefusal {
    /// The key of the translated message (`web/i18n.rs`) the staff UI shows for it.
    pub(crate) fn message_key(&self) -> &'static str {
        match self {
            OperationRefusal::NotFound => "ops.error.not_found",
            OperationRefusal::Incomplete => "ops.error.incomplete",
            OperationRefusal::UnknownReferences(_) => "ops.error.unknown_reference",
            OperationRefusal::Rule { .. } => "ops.error.rule",
            OperationRefusal::Transition {
                error: TransitionError::RunningBeforeStart,
                ..
            } => "ops.error.running_before_start",
            OperationRefusal::Transition { .. } => "ops.error.invalid_transition",
            OperationRefusal::Conflict { .. } | OperationRefusal::PatientBusy(_) => {
                "ops.error.conflict"
            }
            OperationRefusal::Stale | OperationRefusal::Contended => "ops.error.stale",
        }
    }
}

/// The result type of the operation use cases.
pub(crate) type Outcome<T> = Result<T, Failure<OperationRefusal>>;

fn refusal<T>(refusal: OperationRefusal) -> Outcome<T> {
    Err(Failure::Refused(refusal))
}

/// One operation by id (`NotFound` for an unknown id).
pub(crate) async fn find(state: &AppState, id: i64) -> Outcome<OperationRecord> {
    match state.store.operation(id).await? {
        Some(record) => Ok(record),
        None => refusal(OperationRefusal::NotFound),
    }
}

/// The facts the reference rules need about a team member.
pub(crate) fn member_facts(user: &UserRecord) -> MemberFacts {
    MemberFacts {
        is_doctor: user
            .role
            .as_ref()
            .is_some_and(|role| role.name == praxi_domain::Role::Doctor.name()),
        is_active: user.is_active,
    }
}

fn resource_facts(resource: &ResourceInfo) -> ResourceFacts {
    ResourceFacts {
        kind: resource.resource_kind(),
        active: resource.active,
    }
}

/// A checked write: the row to save and whether the engine must look at it.
struct Resolved {
    draft: OperationDraft,
    check: ScheduleCheck,
}

/// Checks every reference of the write in the original's order (references that must exist,
/// then the rules of [`check_references`], then the status transition) and builds the draft.
/// On update only what changes is validated again; the stored values fill in what the input
/// does not send.
async fn resolve(
    state: &AppState,
    caller: &Caller,
    input: OperationInput,
    stored: Option<&OperationRecord>,
) -> Outcome<Resolved> {
    let incomplete = || Failure::Refused(OperationRefusal::Incomplete);
    let patient_id = input
        .patient_id
        .or(stored.map(|s| s.patient_id))
        .ok_or_else(incomplete)?;
    let start_time = input
        .start_time
        .or(stored.map(|s| s.start_time))
        .ok_or_else(incomplete)?;
    let op_type_id = input
        .op_type
        .or(stored.map(|s| s.op_type.id))
        .ok_or_else(incomplete)?;
    let room_id = input
        .op_room
        .or(stored.map(|s| s.room.id))
        .ok_or_else(incomplete)?;
    let stored_team = stored.map(OperationRecord::team_ids);
    let team = TeamIds {
        primary_surgeon: input
            .primary_surgeon
            .or(stored_team.map(|t| t.primary_surgeon))
            .ok_or_else(incomplete)?,
        assistant: input
            .assistant
            .unwrap_or_else(|| stored_team.and_then(|t| t.assistant)),
        anesthesist: input
            .anesthesist
            .unwrap_or_else(|| stored_team.and_then(|t| t.anesthesist)),
    };
    let stored_devices: Vec<i64> = stored
        .map(|s| s.devices.iter().map(|d| d.id).collect())
        .unwrap_or_default();
    let devices_changed = input.op_device_ids.as_ref().is_some_and(|ids| {
        let (mut a, mut b) = (ids.clone(), stored_devices.clone());
        a.sort_unstable();
        b.sort_unstable();
        stored.is_none() || a != b
    });
    let device_ids = input.op_device_ids.clone().unwrap_or(stored_devices);

    // Every reference that is new to the operation must exist.
    let mut unknown = Vec::new();
    if stored.is_none_or(|s| s.patient_id != patient_id)
        && state.store.patient(patient_id).await?.is_none()
    {
        unknown.push(("patient_id", i64::from(patient_id)));
    }
    let new_type: Option<OperationTypeRecord> = if stored.is_none_or(|s| s.op_type.id != op_type_id)
    {
        let found = state.store.operation_type(op_type_id).await?;
        if found.is_none() {
            unknown.push(("op_type", op_type_id));
        }
        found
    } else {
        None
    };
    let new_room = if stored.is_none_or(|s| s.room.id != room_id) {
        let found = state
            .store
            .resources_by_ids(&[room_id])
            .await?
            .into_iter()
            .next();
        if found.is_none() {
            unknown.push(("op_room", room_id));
        }
        found
    } else {
        None
    };
    let mut new_members = Vec::new();
    for (role, id) in team.members() {
        let unchanged = stored_team.is_some_and(|t| {
            t.members()
                .any(|(stored_role, stored_id)| stored_role == role && stored_id == id)
        });
        if unchanged {
            continue;
        }
        match state.store.user_by_id(id).await? {
            Some(user) => new_members.push((role, member_facts(&user))),
            None => unknown.push((role.as_str(), id)),
        }
    }
    if !unknown.is_empty() {
        return refusal(OperationRefusal::UnknownReferences(unknown));
    }
    let devices = if devices_changed {
        let found = state.store.resources_by_ids(&device_ids).await?;
        Some(
            device_ids
                .iter()
                .map(|id| DeviceFacts {
                    id: *id,
                    found: found.iter().find(|r| r.id == *id).map(resource_facts),
                })
                .collect(),
        )
    } else {
        None
    };

    // Durations: a fresh snapshot from the type on create and when start or type change.
    let fresh = needs_fresh_snapshot(
        stored.map(|s| (s.start_time, s.op_type.id)),
        start_time,
        op_type_id,
    );
    let (durations, end_time) = match (fresh, stored) {
        (false, Some(s)) => (s.durations, s.end_time),
        _ => {
            let (prep, op, post) = match (&new_type, stored) {
                (Some(t), _) => (
                    t.fields.prep_duration,
                    t.fields.op_duration,
                    t.fields.post_duration,
                ),
                (None, Some(s)) => (
                    s.op_type.prep_duration,
                    s.op_type.op_duration,
                    s.op_type.post_duration,
                ),
                (None, None) => (0, 0, 0),
            };
            let durations = Durations::from_type(prep, op, post);
            // A zero total is refused by the rules below; the placeholder end is never saved.
            let end = durations.end_after(start_time).unwrap_or(start_time);
            (durations, end)
        }
    };
    let team_changed = stored_team != Some(team);
    let facts = ReferenceFacts {
        type_active: new_type.as_ref().map(|t| t.fields.active),
        fresh_durations: fresh.then_some(durations),
        room: new_room.as_ref().map(resource_facts),
        devices,
        new_members,
        changed_team: team_changed.then_some(team),
    };
    match check_references(&facts) {
        Ok(()) => {}
        Err(RuleViolation::Field { field, message }) => {
            return refusal(OperationRefusal::Rule { field, message });
        }
        Err(RuleViolation::InvalidDuration) => {
            return Err(conflict(state, caller, patient_id, "invalid_duration", None).await);
        }
    }

    // Status: the one transition table, on create (initial status) and on change.
    let now = state.now();
    let status = match stored {
        None => {
            let status = input.status.unwrap_or(OperationStatus::Planned);
            if let Err(error) = check_transition(None, status, start_time, now) {
                return refusal(OperationRefusal::Transition { from: None, error });
            }
            status
        }
        Some(s) => match status_update(s.status(), input.status, start_time, now) {
            Ok(status) => status.unwrap_or(s.status()),
            Err(error) => {
                return refusal(OperationRefusal::Transition {
                    from: Some(s.status()),
                    error,
                });
            }
        },
    };

    // Only a change of time, room, devices, team or patient (or a revival from "cancelled")
    // needs the engine, so notes and status edits of old operations always work.
    let moved = match stored {
        None => true,
        Some(s) => {
            s.start_time != start_time
                || s.end_time != end_time
                || s.room.id != room_id
                || devices_changed
                || team_changed
                || s.patient_id != patient_id
                || (s.status() == OperationStatus::Cancelled
                    && status != OperationStatus::Cancelled)
        }
    };
    Ok(Resolved {
        draft: OperationDraft {
            patient_id,
            op_type_id,
            durations,
            room_id,
            device_ids,
            team,
            start_time,
            end_time,
            status,
            notes: match input.notes {
                Some(notes) => Some(notes.unwrap_or_default()),
                None => Some(stored.and_then(|s| s.notes.clone()).unwrap_or_default()),
            },
        },
        check: if moved {
            ScheduleCheck::Check
        } else {
            ScheduleCheck::Skip
        },
    })
}

/// The "Operation conflict" refusal for `reason`, after its `operation_conflict` audit row
/// (as the original writes one for every such answer; a failed write fails the request).
async fn conflict(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
    reason: &'static str,
    conflict: Option<Conflict>,
) -> Failure<OperationRefusal> {
    let mut meta = json!({ "reason": reason });
    if let Some(role) = conflict.as_ref().and_then(conflict_role) {
        meta["who"] = json!(role.as_str());
    }
    let audit = caller.audit("operation_conflict", Some(patient_id), Some(meta));
    if let Err(error) = state.store.record_audit(&audit).await {
        return error.into();
    }
    Failure::Refused(OperationRefusal::Conflict { reason, conflict })
}

/// The team role a conflict concerns, where it names one.
pub(crate) fn conflict_role(conflict: &Conflict) -> Option<PersonRole> {
    match conflict {
        Conflict::Holiday(h) => Some(h.role),
        Conflict::Hours(h) => Some(h.role),
        Conflict::Absence(a) => Some(a.role),
        Conflict::Break(b) => Some(b.role),
        Conflict::Booking(b) => b.role,
    }
}

fn is_patient_conflict(conflict: &Conflict) -> bool {
    matches!(conflict, Conflict::Booking(b) if b.kind == ConflictKind::Patient)
}

/// What the precondition of an edit found on the row re-read under its lock.
enum Precondition {
    /// `If-Match` names another state.
    Stale,
    /// The row changed since the edit was computed from it: compute again.
    Changed,
    Store(StoreError),
}

impl From<StoreError> for Precondition {
    fn from(error: StoreError) -> Self {
        Precondition::Store(error)
    }
}

/// The guard of an edit: the caller's `If-Match`, and the tag of the row the edit was
/// computed from (the re-read row must still have it, or the edit is computed again).
struct Guard<'a> {
    if_match: &'a IfMatch,
    read_tag: String,
}

/// Resolves and saves one write; an engine refusal becomes the first conflict's reason, or
/// [`OperationRefusal::PatientBusy`] when only the patient is busy. `Ok(None)`: the row
/// changed since `stored` was read (compute the edit again).
async fn write(
    state: &AppState,
    caller: &Caller,
    input: OperationInput,
    stored: Option<&OperationRecord>,
    guard: Option<&Guard<'_>>,
) -> Outcome<Option<OperationRecord>> {
    let Resolved { draft, check } = resolve(state, caller, input, stored).await?;
    let (action, meta) = match stored {
        None => ("operation_create", None),
        Some(s) if s.status() != draft.status => (
            "operation_update",
            Some(json!({"from": s.status().as_str(), "to": draft.status.as_str()})),
        ),
        Some(_) => ("operation_update", None),
    };
    let patient_id = draft.patient_id;
    let stored_state = stored.map(|s| StoredOperation {
        id: s.id,
        status: s.status(),
    });
    let result = state
        .store
        .save_operation_checked(
            stored_state,
            draft,
            state.tz(),
            check,
            Some(caller.user_id()),
            state.now(),
            |row| match guard {
                None => Ok(()),
                Some(guard) => {
                    let tag = operation_etag(row);
                    if !guard.if_match.allows(&tag) {
                        Err(Precondition::Stale)
                    } else if tag != guard.read_tag {
                        Err(Precondition::Changed)
                    } else {
                        Ok(())
                    }
                }
            },
            |_| caller.audit(action, Some(patient_id), meta),
        )
        .await;
    match result {
        Ok(record) => Ok(Some(record)),
        Err(Precondition::Stale) => refusal(OperationRefusal::Stale),
        Err(Precondition::Changed) => Ok(None),
        Err(Precondition::Store(StoreError::Scheduling(conflicts))) => {
            let first = conflicts.first().clone();
            if is_patient_conflict(&first) {
                let patient: Vec<Conflict> = conflicts
                    .conflicts()
                    .iter()
                    .filter(|c| is_patient_conflict(c))
                    .cloned()
                    .collect();
                return refusal(OperationRefusal::PatientBusy(patient));
            }
            Err(conflict(
                state,
                caller,
                patient_id,
                first.operation_reason(),
                Some(first),
            )
            .await)
        }
        Err(Precondition::Store(error)) => Err(error.into()),
    }
}

/// Creates an operation (`operation_create`; board events `operation.created` on the OP
/// board and the resource calendar). The policy decision is the table's for
/// `Operations × Create` (staff; no object check).
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    _decision: Decision,
    input: OperationInput,
) -> Outcome<OperationRecord> {
    // A create has no precondition, so it is never asked to be computed again.
    let Some(record) = write(state, caller, input, None, None).await? else {
        return refusal(OperationRefusal::Contended);
    };
    publish(state, "operation.created", &record).await;
    Ok(record)
}

/// Changes an operation (move, team, room, devices, status, notes; `operation_update`, board
/// events `operation.updated`). The edit is computed from `last_read` and written only if the
/// row re-read under its lock inside the transaction is still that row (else it is computed
/// again from the new row, so a concurrent move is never undone; after
/// [`EDIT_ATTEMPTS`] → `Contended`); `If-Match` is checked on the re-read row.
pub(crate) async fn change(
    state: &AppState,
    caller: &Caller,
    _decision: Decision,
    last_read: OperationRecord,
    input: OperationInput,
    if_match: &IfMatch,
) -> Outcome<OperationRecord> {
    let mut stored = last_read;
    for _ in 0..EDIT_ATTEMPTS {
        let guard = Guard {
            if_match,
            read_tag: operation_etag(&stored),
        };
        if let Some(record) =
            write(state, caller, input.clone(), Some(&stored), Some(&guard)).await?
        {
            publish(state, "operation.updated", &record).await;
            return Ok(record);
        }
        stored = find(state, stored.id).await?;
    }
    refusal(OperationRefusal::Contended)
}

/// Deletes an operation (`operation_delete`, board events `operation.deleted`); `If-Match`
/// is checked on the row read under its lock.
pub(crate) async fn delete(
    state: &AppState,
    caller: &Caller,
    _decision: Decision,
    last_read: &OperationRecord,
    if_match: &IfMatch,
) -> Outcome<()> {
    let audit = caller.audit("operation_delete", Some(last_read.patient_id), None);
    let result = state
        .store
        .delete_operation_checked(
            last_read.id,
            |row| {
                if if_match.allows(&operation_etag(row)) {
                    Ok(())
                } else {
                    Err(Precondition::Stale)
                }
            },
            &audit,
        )
        .await;
    match result {
        Ok(()) => {}
        Err(Precondition::Stale | Precondition::Changed) => {
            return refusal(OperationRefusal::Stale);
        }
        Err(Precondition::Store(error)) => return Err(error.into()),
    }
    publish(state, "operation.deleted", last_read).await;
    Ok(())
}

/// Tells the boards (after the commit; id and status only, never patient data). Operations
/// show on the OP board and, through their room and devices, on the resource calendar.
async fn publish(state: &AppState, kind: &str, record: &OperationRecord) {
    let status = Some(record.status.as_str());
    for board in [Board::OpBoard, Board::ResourceCalendar] {
        state.events.notify(board, kind, record.id, status).await;
    }
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
