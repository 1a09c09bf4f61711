//! Appointment use cases: book, move/change, cancel, delete and mark no-show. The API
//! (`api::appointments`) and the calendar pages (`web::pages::calendar::form`) call exactly
//! these functions; each runs the references, the policy's own-only decision, the domain rules
//! (`praxi_domain::appointment`), the store's locked transaction (the engine inside it), the
//! audit row and the board event.
//!
//! Edits are race-free: the row is re-read under its lock inside the write transaction, the
//! request's fields (a patch) are applied to that row, the engine runs whenever the result
//! moves the booking compared with that row, and an `If-Match` precondition is checked against
//! it (issue #10 item 2).

use chrono::{DateTime, Utc};
use praxi_domain::appointment::{AppointmentStatus, NoShowProblem, no_show_problem};
use praxi_domain::rbac::{Action, Actor, Area, Decision, Denial};
use praxi_domain::scheduling::{
    BookingRef, Conflict, ConflictKind, ResourceKind, SchedulingConflicts, SlotDuration, UserId,
};
use praxi_store::StoreError;
use praxi_store::appointments::{AppointmentDraft, AppointmentRecord, ScheduleCheck};
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;
use serde_json::json;

use super::{Caller, Failure, IfMatch, etag, local_days, own_only};
use crate::events::Board;
use crate::state::AppState;

/// The model name of 404 answers.
pub(crate) const MODEL: &str = "Appointment";

/// The writable fields as sent (`None` = absent).
#[derive(Debug, Default, Clone)]
pub(crate) struct AppointmentInput {
    pub(crate) patient_id: Option<i64>,
    pub(crate) doctor: Option<i64>,
    pub(crate) type_id: Option<Option<i64>>,
    pub(crate) resource_ids: Option<Vec<i64>>,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) end_time: Option<DateTime<Utc>>,
    pub(crate) status: Option<AppointmentStatus>,
    pub(crate) notes: Option<Option<String>>,
    /// Book over closed days, hours, absences or breaks with this reason (issue #14).
    pub(crate) override_reason: Option<String>,
    /// Convert this slot hold (create only; issue #14).
    pub(crate) hold_id: Option<i64>,
}

/// Longest override reason, in characters.
pub(crate) const MAX_OVERRIDE_REASON_CHARS: usize = 500;

/// Why an appointment request cannot become a draft: a bad reference or a broken rule, each
/// naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DraftProblem {
    /// A required value is missing (only possible for an update of an incomplete row).
    Incomplete,
    /// `patient_id` is not a positive 32-bit number.
    PatientIdInvalid,
    /// `end_time <= start_time`.
    EndNotAfterStart,
    /// No patient with this number.
    PatientUnknown(i32),
    /// No user with this id.
    DoctorUnknown(i64),
    /// The user does not have the doctor role.
    NotADoctor,
    /// The doctor is deactivated.
    DoctorInactive,
    /// The policy allows only own appointments and this one is (or would become) another
    /// doctor's.
    OnlyOwn,
    /// No appointment type with this id.
    TypeUnknown(i64),
    /// A requested resource is unknown or inactive.
    ResourcesInvalid,
    /// Longer than the 24 hours a booking may last.
    TooLong,
    /// The override reason is blank or longer than [`MAX_OVERRIDE_REASON_CHARS`].
    OverrideReasonInvalid,
}

/// Another doctor's first free slot of the requested length ("Doctor unavailable"
/// alternatives).
#[derive(Debug, Clone)]
pub(crate) struct Alternative {
    pub(crate) doctor: UserRecord,
    pub(crate) start: DateTime<Utc>,
}

/// Why the engine refused a booking, classified as the original answers (api.md §1.8,
/// scheduling.md §3.1): doctor unavailable (with alternatives) → resource conflict → patient
/// appointment overlap → the remaining conflicts (doctor or patient in an operation).
#[derive(Debug, Clone)]
pub(crate) enum BookingConflict {
    /// Hours, absence, break or another appointment of the doctor; `first` is the first such
    /// conflict.
    DoctorUnavailable {
        first: Conflict,
        alternatives: Vec<Alternative>,
    },
    /// A requested room or device is booked; the conflicting resources.
    Resource { resource_ids: Vec<i64> },
    /// The patient already has an appointment then.
    Patient,
    /// Everything else (operations of the doctor or patient).
    Other(Vec<Conflict>),
}

/// The one refusal of the appointment use cases.
#[derive(Debug, Clone)]
pub(crate) enum AppointmentRefusal {
    /// No appointment with this id.
    NotFound,
    /// The policy's own-only decision: another doctor's appointment.
    Denied(Denial),
    /// A reference or field rule.
    Invalid(DraftProblem),
    /// The engine refused; `draft` is what was tried.
    Conflict {
        conflict: BookingConflict,
        draft: Box<AppointmentDraft>,
    },
    /// The no-show rule.
    NoShow(NoShowProblem),
    /// `If-Match` names another state of the row than the one stored.
    Stale,
}

/// The result type of the appointment use cases.
pub(crate) type Outcome<T> = Result<T, Failure<AppointmentRefusal>>;

fn refused<T>(refusal: AppointmentRefusal) -> Outcome<T> {
    Err(Failure::Refused(refusal))
}

/// The entity tag of an appointment as read (changes with every write).
pub(crate) fn appointment_etag(record: &AppointmentRecord) -> String {
    let mut resources: Vec<i64> = record.resources.iter().map(|r| r.id).collect();
    resources.sort_unstable();
    etag(&[
        &record.id.to_string(),
        &record.updated_at.to_rfc3339(),
        &record.start_time.to_rfc3339(),
        &record.end_time.to_rfc3339(),
        &record.doctor_id.to_string(),
        &record.patient_id.to_string(),
        record.status.as_str(),
        if record.is_no_show { "1" } else { "0" },
        record.notes.as_deref().unwrap_or(""),
        &record
            .appointment_type
            .as_ref()
            .map(|t| t.id.to_string())
            .unwrap_or_default(),
        &format!("{resources:?}"),
    ])
}

/// One appointment as the caller may see it: 404 for an unknown id, the policy's denial for
/// another doctor's appointment under an own-only decision.
pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i64,
) -> Outcome<AppointmentRecord> {
    let Ok(id) = i32::try_from(id) else {
        return refused(AppointmentRefusal::NotFound);
    };
    let Some(record) = state.store.appointment(id).await? else {
        return refused(AppointmentRefusal::NotFound);
    };
    if let Err(denial) = own_only(decision, record.doctor_id == caller.user_id()) {
        return refused(AppointmentRefusal::Denied(denial));
    }
    Ok(record)
}

/// The request's fields with their references checked (`None` = keep the stored value).
#[derive(Debug, Clone)]
struct Patch {
    patient_id: Option<i32>,
    doctor_id: Option<i64>,
    type_id: Option<Option<i64>>,
    resources: Option<Vec<(i64, ResourceKind)>>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    status: Option<AppointmentStatus>,
    notes: Option<Option<String>>,
    override_reason: Option<String>,
    hold_id: Option<i64>,
}

/// Applies a patch to a stored row (or to nothing, for a booking) and runs the rules on the
/// result: complete, end after start, at most 24 hours, and — under an own-only decision —
/// the caller's own appointment before and after.
fn merge(
    patch: &Patch,
    stored: Option<&AppointmentRecord>,
    decision: Decision,
    caller: &Caller,
) -> Result<AppointmentDraft, DraftProblem> {
    let patient_id = patch
        .patient_id
        .or(stored.map(|s| s.patient_id))
        .ok_or(DraftProblem::Incomplete)?;
    let doctor_id = patch
        .doctor_id
        .or(stored.map(|s| s.doctor_id))
        .ok_or(DraftProblem::Incomplete)?;
    let start_time = patch
        .start_time
        .or(stored.map(|s| s.start_time))
        .ok_or(DraftProblem::Incomplete)?;
    let end_time = patch
        .end_time
        .or(stored.map(|s| s.end_time))
        .ok_or(DraftProblem::Incomplete)?;
    if end_time <= start_time {
        return Err(DraftProblem::EndNotAfterStart);
    }
    if end_time - start_time > chrono::Duration::hours(praxi_store::schedule::MAX_BOOKING_HOURS) {
        return Err(DraftProblem::TooLong);
    }
    let stored_other = stored.is_some_and(|s| s.doctor_id != caller.user_id());
    if own_only(decision, doctor_id == caller.user_id() && !stored_other).is_err() {
        return Err(DraftProblem::OnlyOwn);
    }
    Ok(AppointmentDraft {
        patient_id,
        doctor_id,
        type_id: match patch.type_id {
            Some(type_id) => type_id,
            None => stored.and_then(|s| s.appointment_type.as_ref().map(|t| t.id)),
        },
        resources: match &patch.resources {
            Some(resources) => resources.clone(),
            None => stored
                .map(|s| {
                    s.resources
                        .iter()
                        .map(|r| (r.id, r.resource_kind()))
                        .collect()
                })
                .unwrap_or_default(),
        },
        start_time,
        end_time,
        status: patch
            .status
            .or(stored.map(|s| s.status))
            .unwrap_or(AppointmentStatus::DEFAULT),
        notes: match &patch.notes {
            Some(notes) => Some(notes.clone().unwrap_or_default()),
            None => Some(stored.and_then(|s| s.notes.clone()).unwrap_or_default()),
        },
        hold_id: if stored.is_none() {
            patch.hold_id
        } else {
            None
        },
        override_reason: patch.override_reason.clone(),
    })
}

/// Checks the references the request names (patient, doctor, type, resources) and the rules
/// of the result against `stored` as last read, in the original's order of errors.
async fn resolve(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    input: AppointmentInput,
    stored: Option<&AppointmentRecord>,
) -> Outcome<Patch> {
    let invalid = |problem| Failure::Refused(AppointmentRefusal::Invalid(problem));
    let patient_id = match input.patient_id {
        Some(id) => Some(i32::try_from(id).map_err(|_| invalid(DraftProblem::PatientIdInvalid))?),
        None => None,
    };
    let override_reason = match input.override_reason {
        None => None,
        Some(reason) => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() || reason.chars().count() > MAX_OVERRIDE_REASON_CHARS {
                return Err(invalid(DraftProblem::OverrideReasonInvalid));
            }
            // The RBAC table decides who may override (admins and assistants).
            if let Decision::Deny(denial) =
                caller.actor.decide(Area::ScheduleOverride, Action::Create)
            {
                return Err(Failure::Refused(AppointmentRefusal::Denied(denial)));
            }
            Some(reason)
        }
    };
    let mut patch = Patch {
        patient_id,
        doctor_id: input.doctor,
        type_id: input.type_id,
        resources: None,
        start_time: input.start_time,
        end_time: input.end_time,
        status: input.status,
        notes: input.notes,
        override_reason,
        hold_id: input.hold_id,
    };
    // The time rules first (the original's order); the own-only rule after the doctor.
    let merged = merge(&patch, stored, Decision::Allow, caller).map_err(invalid)?;
    if let Some(patient_id) = patient_id
        && state.store.patient(patient_id).await?.is_none()
    {
        return Err(invalid(DraftProblem::PatientUnknown(patient_id)));
    }
    if input.doctor.is_some() || stored.is_none() {
        let doctor_id = merged.doctor_id;
        let doctor = state
            .store
            .user_by_id(doctor_id)
            .await?
            .ok_or_else(|| invalid(DraftProblem::DoctorUnknown(doctor_id)))?;
        if doctor
            .role
            .as_ref()
            .is_none_or(|role| role.name != praxi_domain::Role::Doctor.name())
        {
            return Err(invalid(DraftProblem::NotADoctor));
        }
        if !doctor.is_active {
            return Err(invalid(DraftProblem::DoctorInactive));
        }
    }
    merge(&patch, stored, decision, caller).map_err(invalid)?;
    if let Some(Some(type_id)) = input.type_id
        && state.store.appointment_type_info(type_id).await?.is_none()
    {
        return Err(invalid(DraftProblem::TypeUnknown(type_id)));
    }
    if let Some(ids) = input.resource_ids {
        let found = state.store.resources_by_ids(&ids).await?;
        if found.len() != ids.len() || found.iter().any(|r| !r.active) {
            return Err(invalid(DraftProblem::ResourcesInvalid));
        }
        patch.resources = Some(
            ids.iter()
                .filter_map(|id| found.iter().find(|r| r.id == *id))
                .map(|r| (r.id, r.resource_kind()))
                .collect(),
        );
    }
    Ok(patch)
}

/// Turns the store's scheduling refusal into the use case's refusal.
async fn refusal_of(
    state: &AppState,
    caller: &Caller,
    error: Failure<AppointmentRefusal>,
    draft: Option<AppointmentDraft>,
) -> Failure<AppointmentRefusal> {
    match (error, draft) {
        (Failure::Store(StoreError::Scheduling(conflicts)), Some(draft)) => {
            match classify(state, caller, &draft, &conflicts).await {
                Ok(conflict) => Failure::Refused(AppointmentRefusal::Conflict {
                    conflict,
                    draft: Box::new(draft),
                }),
                Err(error) => Failure::Store(error),
            }
        }
        (error, _) => error,
    }
}

/// Books a new appointment (`appointment_create`, board event `appointment.created`).
pub(crate) async fn book(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    input: AppointmentInput,
) -> Outcome<AppointmentRecord> {
    let patch = resolve(state, caller, decision, input, None).await?;
    let draft = merge(&patch, None, decision, caller)
        .map_err(|problem| Failure::Refused(AppointmentRefusal::Invalid(problem)))?;
    let patient_id = draft.patient_id;
    let result = state
        .store
        .save_appointment(
            None,
            draft.clone(),
            state.tz(),
            ScheduleCheck::Check,
            state.now(),
            |_| caller.audit("appointment_create", Some(patient_id), None),
        )
        .await;
    match result {
        Ok(record) => {
            publish(state, "appointment.created", record.id).await;
            Ok(record)
        }
        Err(error) => Err(refusal_of(state, caller, error.into(), Some(draft)).await),
    }
}

/// Changes an appointment (`PUT`/`PATCH`, the calendar's edit form and cancel button): the
/// request's fields are checked against `last_read` (the row the handler showed or looked up),
/// then applied to the row re-read under its lock inside the transaction, where own-only,
/// `If-Match`, the time rules and — if the result moves the booking — the engine decide again.
/// Audited as `appointment_update`, board event `appointment.updated`.
pub(crate) async fn change(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    last_read: &AppointmentRecord,
    input: AppointmentInput,
    if_match: &IfMatch,
) -> Outcome<AppointmentRecord> {
    let patch = resolve(state, caller, decision, input, Some(last_read)).await?;
    let mut tried = None;
    let result = state
        .store
        .update_appointment(
            last_read.id,
            state.tz(),
            state.now(),
            |row| {
                if let Err(denial) = own_only(decision, row.doctor_id == caller.user_id()) {
                    return refused(AppointmentRefusal::Denied(denial));
                }
                if !if_match.allows(&appointment_etag(row)) {
                    return refused(AppointmentRefusal::Stale);
                }
                let draft = merge(&patch, Some(row), decision, caller)
                    .map_err(|problem| Failure::Refused(AppointmentRefusal::Invalid(problem)))?;
                tried = Some(draft.clone());
                Ok(draft)
            },
            |row| caller.audit("appointment_update", Some(row.patient_id), None),
        )
        .await;
    match result {
        Ok(record) => {
            publish(state, "appointment.updated", record.id).await;
            Ok(record)
        }
        Err(error) => Err(refusal_of(state, caller, error, tried).await),
    }
}

/// Cancels an appointment (status cancelled through [`change`]; cancelling never needs the
/// engine).
pub(crate) async fn cancel(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    last_read: &AppointmentRecord,
    if_match: &IfMatch,
) -> Outcome<AppointmentRecord> {
    let input = AppointmentInput {
        status: Some(AppointmentStatus::Cancelled),
        ..AppointmentInput::default()
    };
    change(state, caller, decision, last_read, input, if_match).await
}

/// Deletes an appointment (`appointment_delete`, board event `appointment.deleted`); own-only
/// and `If-Match` are checked on the row read under its lock.
pub(crate) async fn delete(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i32,
    if_match: &IfMatch,
) -> Outcome<()> {
    let deleted = state
        .store
        .delete_appointment_checked(id, |row| {
            if let Err(denial) = own_only(decision, row.doctor_id == caller.user_id()) {
                return refused(AppointmentRefusal::Denied(denial));
            }
            if !if_match.allows(&appointment_etag(row)) {
                return refused(AppointmentRefusal::Stale);
            }
            Ok(caller.audit("appointment_delete", Some(row.patient_id), None))
        })
        .await
        .map_err(not_found)?;
    publish(state, "appointment.deleted", deleted.id).await;
    Ok(())
}

/// Marks a past appointment as no-show (`appointment_mark_no_show`); the no-show rule,
/// own-only and `If-Match` are checked on the row read under its lock. Marking one again is
/// allowed and writes nothing.
pub(crate) async fn mark_no_show(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i32,
    if_match: &IfMatch,
) -> Outcome<AppointmentRecord> {
    let now = state.now();
    state
        .store
        .mark_no_show_checked(id, now, |row| {
            if let Err(denial) = own_only(decision, row.doctor_id == caller.user_id()) {
                return refused(AppointmentRefusal::Denied(denial));
            }
            if !if_match.allows(&appointment_etag(row)) {
                return refused(AppointmentRefusal::Stale);
            }
            if let Some(problem) = no_show_problem(row.end_time, row.status, row.is_no_show, now) {
                return refused(AppointmentRefusal::NoShow(problem));
            }
            Ok(caller.audit(
                "appointment_mark_no_show",
                Some(row.patient_id),
                Some(json!({"appointment_id": row.id})),
            ))
        })
        .await
        .map_err(not_found)
}

/// Whether the policy lets `actor` book only their own appointments (the table's `OwnOnly`
/// decision for creating appointments: doctors).
pub(crate) fn books_only_own(actor: &Actor) -> bool {
    matches!(
        actor.decide(Area::Appointments, Action::Create),
        Decision::OwnOnly(_)
    )
}

/// Whether the calendar may offer the no-show button for this row.
pub(crate) fn can_mark_no_show(record: &AppointmentRecord, now: DateTime<Utc>) -> bool {
    no_show_problem(record.end_time, record.status, record.is_no_show, now).is_none()
}

/// A row that vanished before its lock is an unknown id.
fn not_found(error: Failure<AppointmentRefusal>) -> Failure<AppointmentRefusal> {
    match error {
        Failure::Store(StoreError::NotFound(_)) => Failure::Refused(AppointmentRefusal::NotFound),
        other => other,
    }
}

async fn publish(state: &AppState, event: &str, id: i32) {
    state
        .events
        .notify(Board::ResourceCalendar, event, i64::from(id), None)
        .await;
}

/// Classifies the engine's conflicts. A resource conflict writes the
/// `resource_booking_conflict` audit row (a failed write fails the request).
async fn classify(
    state: &AppState,
    caller: &Caller,
    draft: &AppointmentDraft,
    conflicts: &SchedulingConflicts,
) -> Result<BookingConflict, StoreError> {
    let all = conflicts.conflicts();
    if let Some(first) = all.iter().find(|c| c.makes_doctor_unavailable()) {
        let alternatives = alternatives(state, draft).await.unwrap_or_default();
        return Ok(BookingConflict::DoctorUnavailable {
            first: first.clone(),
            alternatives,
        });
    }
    let is_resource = |c: &&Conflict| matches!(c, Conflict::Booking(b) if matches!(b.kind, ConflictKind::Room | ConflictKind::Device));
    if all.iter().any(|c| is_resource(&c)) {
        let resource_ids: Vec<i64> = all
            .iter()
            .filter(is_resource)
            .filter_map(|c| match c {
                Conflict::Booking(b) => b.resource.map(|r| r.0),
                _ => None,
            })
            .collect();
        let audit = caller.audit(
            "resource_booking_conflict",
            Some(draft.patient_id),
            Some(json!({"resource_ids": resource_ids})),
        );
        state.store.record_audit(&audit).await?;
        return Ok(BookingConflict::Resource { resource_ids });
    }
    let patient_appointment = all.iter().any(|c| {
        matches!(c, Conflict::Booking(b) if b.kind == ConflictKind::Patient && matches!(b.booking, BookingRef::Appointment(_) | BookingRef::Hold(_)))
    });
    if patient_appointment {
        return Ok(BookingConflict::Patient);
    }
    Ok(BookingConflict::Other(all.to_vec()))
}

/// Other active doctors' first free slot of the same length within 31 days.
async fn alternatives(
    state: &AppState,
    draft: &AppointmentDraft,
) -> Result<Vec<Alternative>, StoreError> {
    let doctors = state.store.list_doctors().await?;
    let from_date = draft.start_time.with_timezone(&state.tz()).date_naive();
    let to_date = from_date
        + chrono::Days::new(u64::from(
            praxi_domain::scheduling::ALTERNATIVES_HORIZON_DAYS,
        ));
    let Some(period) = local_days(state, from_date, to_date) else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = doctors.iter().map(|d| d.id).collect();
    let schedule = state
        .store
        .schedule(state.tz(), period, &ScheduleScope::people(ids.clone()))
        .await?;
    let Ok(duration) = SlotDuration::covering(draft.end_time - draft.start_time) else {
        return Ok(Vec::new());
    };
    let user_ids: Vec<UserId> = ids.into_iter().map(UserId).collect();
    Ok(schedule
        .alternatives(
            &user_ids,
            UserId(draft.doctor_id),
            duration,
            from_date,
            state.now(),
        )
        .into_iter()
        .filter_map(|alternative| {
            let doctor = doctors.iter().find(|d| d.id == alternative.doctor.0)?;
            Some(Alternative {
                doctor: doctor.clone(),
                start: alternative.slot.start(),
            })
        })
        .collect())
}
