//! Slot holds (issue #14): hold a slot for a few minutes while a booking is being made
//! (`POST /api/appointments/holds/`), release it (`DELETE …/holds/{id}/`), or convert it
//! into the appointment by booking with `hold_id` (`usecases::appointments::book`, atomic in
//! the booking's transaction). A hold is validated like a booking: the doctor must be an
//! active doctor (doctors hold only for themselves: `Area::SlotHolds` is own-only for them),
//! the patient must exist, the resources must be active, and the engine checks the slot
//! inside the locked transaction. Audited as `slot_hold_create` / `slot_hold_delete` (meta
//! `{"hold_id"}`).

use chrono::{DateTime, Duration, Utc};
use praxi_domain::rbac::{Decision, Denial};
use praxi_domain::scheduling::{Buffers, SchedulingConflicts};
use praxi_store::StoreError;
use praxi_store::holds::{HoldDraft, HoldRecord};
use serde_json::json;

use super::{Caller, Failure, own_only};
use crate::state::AppState;

/// Time-to-live of a hold when the request names none.
pub(crate) const DEFAULT_TTL_SECONDS: i64 = 300;
/// Longest time-to-live.
pub(crate) const MAX_TTL_SECONDS: i64 = 1800;

/// A hold as requested (`None` = not sent).
#[derive(Debug, Default, Clone)]
pub(crate) struct HoldInput {
    pub(crate) doctor: Option<i64>,
    pub(crate) patient_id: Option<i64>,
    pub(crate) type_id: Option<i64>,
    pub(crate) resource_ids: Option<Vec<i64>>,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) end_time: Option<DateTime<Utc>>,
    pub(crate) ttl_seconds: Option<i64>,
}

/// Why a hold was refused.
#[derive(Debug)]
pub(crate) enum HoldRefusal {
    /// A field is missing or wrong: (field, message).
    Invalid(&'static str, String),
    /// The policy's own-only rule.
    Denied(Denial),
    /// No such hold.
    NotFound,
    /// The engine refused the slot.
    Conflict(Box<SchedulingConflicts>),
}

fn invalid<T>(field: &'static str, message: impl Into<String>) -> Result<T, Failure<HoldRefusal>> {
    Err(Failure::Refused(HoldRefusal::Invalid(
        field,
        message.into(),
    )))
}

/// Holds a slot.
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    input: HoldInput,
) -> Result<HoldRecord, Failure<HoldRefusal>> {
    let Some(doctor_id) = input.doctor else {
        return invalid("doctor", "This field is required.");
    };
    let (Some(start), Some(end)) = (input.start_time, input.end_time) else {
        return invalid("start_time", "start_time and end_time are required.");
    };
    if end <= start {
        return invalid("end_time", "Endzeit muss nach der Startzeit liegen.");
    }
    if end - start > Duration::hours(praxi_store::schedule::MAX_BOOKING_HOURS) {
        return invalid("end_time", "Ein Termin darf höchstens 24 Stunden dauern.");
    }
    let ttl = input.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return invalid(
            "ttl_seconds",
            format!("ttl_seconds muss zwischen 1 und {MAX_TTL_SECONDS} liegen."),
        );
    }
    if let Err(denial) = own_only(decision, doctor_id == caller.user_id()) {
        return Err(Failure::Refused(HoldRefusal::Denied(denial)));
    }
    let doctor = state.store.user_by_id(doctor_id).await?;
    let is_doctor = doctor.as_ref().is_some_and(|d| {
        d.is_active
            && d.role
                .as_ref()
                .is_some_and(|role| role.name == praxi_domain::Role::Doctor.name())
    });
    if !is_doctor {
        return invalid(
            "doctor",
            "Der Arzt muss ein aktiver Benutzer mit Rolle \"doctor\" sein.",
        );
    }
    let patient_id = match input.patient_id {
        None => None,
        Some(id) => {
            let Ok(id) = i32::try_from(id) else {
                return invalid("patient_id", "patient_id muss positiv sein.");
            };
            if id <= 0 || state.store.patient(id).await?.is_none() {
                return invalid(
                    "patient_id",
                    format!("Invalid pk \"{id}\" - object does not exist."),
                );
            }
            Some(id)
        }
    };
    let buffers = match input.type_id {
        None => Buffers::NONE,
        Some(type_id) => match state.store.appointment_type_info(type_id).await? {
            Some((info, _, _)) => info.buffers,
            None => {
                return invalid(
                    "type",
                    format!("Invalid pk \"{type_id}\" - object does not exist."),
                );
            }
        },
    };
    let ids = input.resource_ids.unwrap_or_default();
    let found = state.store.resources_by_ids(&ids).await?;
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if found.len() != unique.len() || found.iter().any(|r| !r.active) {
        return invalid(
            "resource_ids",
            "resource_ids enthält unbekannte oder inaktive Ressource(n).",
        );
    }
    let now = state.now();
    let draft = HoldDraft {
        doctor_id,
        patient_id,
        resources: found.iter().map(|r| (r.id, r.resource_kind())).collect(),
        start_time: start,
        end_time: end,
        buffers,
        expires_at: now + Duration::seconds(ttl),
    };
    let result = state
        .store
        .create_hold(&draft, state.tz(), now, Some(caller.user_id()), |id| {
            caller.audit("slot_hold_create", patient_id, Some(json!({"hold_id": id})))
        })
        .await;
    match result {
        Ok(record) => Ok(record),
        Err(StoreError::Scheduling(conflicts)) => {
            Err(Failure::Refused(HoldRefusal::Conflict(conflicts)))
        }
        Err(error) => Err(error.into()),
    }
}

/// Releases a hold (doctors only their own).
pub(crate) async fn release(
    state: &AppState,
    caller: &Caller,
    decision: Decision,
    id: i64,
) -> Result<(), Failure<HoldRefusal>> {
    let result = state
        .store
        .delete_hold(id, |hold| {
            if let Err(denial) = own_only(decision, hold.doctor_id == caller.user_id()) {
                return Err(Failure::Refused(HoldRefusal::Denied(denial)));
            }
            Ok(caller.audit(
                "slot_hold_delete",
                hold.patient_id,
                Some(json!({"hold_id": hold.id})),
            ))
        })
        .await;
    match result {
        Err(Failure::Store(StoreError::NotFound(_))) => {
            Err(Failure::Refused(HoldRefusal::NotFound))
        }
        other => other,
    }
}
