//! Schedule (one per doctor, id = the doctor's id, `Area::Doctors`) and Slot (`Area::
//! AppointmentSuggest`, like the API's slot suggestions: doctors only for their own schedule,
//! billing may read).
//!
//! Slots are never stored. A search loads the engine input for the doctor and the local days
//! of the range (`Store::schedule`, a fixed number of statements) and cuts the doctor's working
//! time (practice hours ∩ the doctor's hours) into [`SLOT_MINUTES`]-minute slots from the start
//! of each working window. Each slot's status comes from the engine: `free` when the slot lies
//! in the doctor's free time, `busy-unavailable` on an absence or break day/time or in the
//! past, `busy` otherwise (an appointment or operation). The id encodes schedule, start and end
//! (`<doctor>-<YYYYMMDDhhmm>-<YYYYMMDDhhmm>`, UTC), so a client books a slot by naming it in
//! `Appointment.slot` and every server process reads the same id the same way.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{Interval, Participants, UserId};
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;
use serde_json::{Value, json};

use super::people::{find_doctor, is_doctor, numeric_id};
use super::search::{Params, Range, bundle, instant_range};
use super::{FhirError, FhirResult, FhirUser, base_url, fhir_response, instant, resource_response};
use crate::state::AppState;
use crate::usecases::{local_days, own_only};

/// The length of one slot.
pub(crate) const SLOT_MINUTES: i64 = 15;
/// A search without an upper bound covers this many days from its lower bound.
const DEFAULT_DAYS: i64 = 7;
/// A search covers at most this many days.
const MAX_DAYS: i64 = 31;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/Schedule",
            get(search_schedules).fallback(super::unsupported_method),
        )
        .route(
            "/Schedule/{id}",
            get(read_schedule).fallback(super::unsupported_method),
        )
        .route(
            "/Slot",
            get(search_slots).fallback(super::unsupported_method),
        )
        .route(
            "/Slot/{id}",
            get(read_slot).fallback(super::unsupported_method),
        )
}

// ---- Schedule ---------------------------------------------------------------------------------

fn schedule_json(doctor: &UserRecord) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": doctor.id.to_string(),
        "active": doctor.is_active,
        "actor": [{
            "reference": format!("Practitioner/{}", doctor.id),
            "display": doctor.display_name(),
        }],
        "comment": format!(
            "{SLOT_MINUTES}-minute slots within the practice's and the doctor's hours; \
             free/busy computed on request"
        ),
    })
}

async fn read_schedule(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    user.require(Area::Doctors, Action::Read)?;
    let doctor = find_doctor(&state, &id)
        .await
        .map_err(|_| FhirError::not_found("Schedule", &id))?;
    Ok(resource_response(&schedule_json(&doctor)))
}

async fn search_schedules(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    user.require(Area::Doctors, Action::List)?;
    let params = Params::parse(&uri, &["_id", "actor"])?;
    let limit = params.count(200, 200)?;
    let id = params
        .one("_id")?
        .map(|text| numeric_id("Schedule", text).unwrap_or(-1));
    let actor = params.reference("actor", "Practitioner")?;
    let doctors: Vec<UserRecord> = state
        .store
        .list_doctors()
        .await?
        .into_iter()
        .filter(|doctor| id.is_none_or(|id| doctor.id == id))
        .filter(|doctor| actor.is_none_or(|id| doctor.id == id))
        .collect();
    let total = doctors.len();
    let entries = doctors.iter().take(limit).map(schedule_json).collect();
    Ok(fhir_response(
        StatusCode::OK,
        &bundle(&base_url(&headers), &uri, entries, Some(total)),
    ))
}

// ---- Slot -------------------------------------------------------------------------------------

/// What a slot id says: whose schedule, when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotKey {
    pub(crate) doctor: i64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
}

const ID_TIME: &str = "%Y%m%d%H%M";

impl SlotKey {
    pub(crate) fn id(&self) -> String {
        format!(
            "{}-{}-{}",
            self.doctor,
            self.start.format(ID_TIME),
            self.end.format(ID_TIME)
        )
    }

    /// Reads an id written by [`SlotKey::id`]; anything else is `None`.
    pub(crate) fn parse(id: &str) -> Option<SlotKey> {
        let mut parts = id.split('-');
        let (doctor, start, end) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || start.len() != 12 || end.len() != 12 {
            return None;
        }
        let doctor = doctor
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| doctor.parse::<i64>().ok())??;
        let time = |text: &str| {
            text.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| NaiveDateTime::parse_from_str(text, ID_TIME).ok())
                .flatten()
                .map(|naive| naive.and_utc())
        };
        let key = SlotKey {
            doctor,
            start: time(start)?,
            end: time(end)?,
        };
        (doctor > 0 && key.end > key.start).then_some(key)
    }
}

/// A computed slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ComputedSlot {
    pub(crate) key: SlotKey,
    pub(crate) status: &'static str,
}

fn slot_json(slot: &ComputedSlot, state: &AppState) -> Value {
    json!({
        "resourceType": "Slot",
        "id": slot.key.id(),
        "schedule": {"reference": format!("Schedule/{}", slot.key.doctor)},
        "status": slot.status,
        "start": instant(slot.key.start, state),
        "end": instant(slot.key.end, state),
    })
}

/// The doctor's slots starting in `[from, until)`, with free/busy from the engine.
pub(crate) async fn compute_slots(
    state: &AppState,
    doctor: &UserRecord,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> FhirResult<Vec<ComputedSlot>> {
    // Slots are rendered in the practice zone: keep them inside years both ends can write.
    let floor = Utc
        .with_ymd_and_hms(1900, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let ceiling = Utc
        .with_ymd_and_hms(9999, 12, 30, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let (from, until) = (from.max(floor), until.min(ceiling));
    if until <= from {
        return Ok(Vec::new());
    }
    let tz = state.tz();
    let first_day = from.with_timezone(&tz).date_naive();
    let last_day = (until - TimeDelta::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    let Some(period) = local_days(state, first_day, last_day) else {
        return Ok(Vec::new());
    };
    let schedule = state
        .store
        .schedule(tz, period, &ScheduleScope::people(vec![doctor.id]))
        .await?;
    let person = UserId(doctor.id);
    let participants = Participants::doctor(person);
    let length = TimeDelta::minutes(SLOT_MINUTES);
    let now = state.now();
    let range = Range {
        from: Some(from),
        until: Some(until),
    };
    let mut slots = Vec::new();
    for date in first_day.iter_days().take_while(|date| *date <= last_day) {
        let working = schedule.working_time(&[person], date);
        if working.is_empty() {
            continue;
        }
        let absent = schedule.absences_on(person, date).next().is_some();
        let breaks: Vec<Interval> = schedule
            .breaks_on(person, date)
            .filter_map(|b| schedule.break_interval(b))
            .collect();
        let free = schedule.free_time(&participants, date, None);
        for window in working.iter() {
            let mut start = window.start();
            while start + length <= window.end() {
                let end = start + length;
                if range.contains(start)
                    && let Ok(interval) = Interval::new(start, end)
                {
                    let status = if !doctor.is_active
                        || start < now
                        || absent
                        || breaks.iter().any(|b| b.overlaps(&interval))
                    {
                        "busy-unavailable"
                    } else if free.contains(&interval) {
                        "free"
                    } else {
                        "busy"
                    };
                    slots.push(ComputedSlot {
                        key: SlotKey {
                            doctor: doctor.id,
                            start,
                            end,
                        },
                        status,
                    });
                }
                start = end;
            }
        }
    }
    Ok(slots)
}

/// The Slot policy for a doctor's schedule: doctors only their own (403 otherwise).
fn slot_access(user: &FhirUser, doctor: i64) -> FhirResult<()> {
    let decision = user.require(Area::AppointmentSuggest, Action::List)?;
    if decision == Decision::Filtered && doctor != user.user_id() {
        return Err(FhirError::forbidden());
    }
    own_only(decision, doctor == user.user_id())
        .map_err(|denial| FhirError::denied(denial, "Schedule", &doctor.to_string()))
}

async fn read_slot(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    user.require(Area::AppointmentSuggest, Action::Read)?;
    let key = SlotKey::parse(&id).ok_or_else(|| FhirError::not_found("Slot", &id))?;
    let doctor = find_doctor(&state, &key.doctor.to_string())
        .await
        .map_err(|_| FhirError::not_found("Slot", &id))?;
    slot_access(&user, doctor.id)?;
    let slot = compute_slots(
        &state,
        &doctor,
        key.start,
        key.start + TimeDelta::seconds(1),
    )
    .await?
    .into_iter()
    .find(|slot| slot.key == key)
    .ok_or_else(|| FhirError::not_found("Slot", &id))?;
    Ok(resource_response(&slot_json(&slot, &state)))
}

/// `Slot?schedule=Schedule/3&start=ge2030-01-14&start=lt2030-01-15[&status=free]`.
async fn search_slots(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    user.require(Area::AppointmentSuggest, Action::List)?;
    let params = Params::parse(&uri, &["schedule", "start", "status"])?;
    let limit = params.count(usize::MAX, usize::MAX)?;
    let schedule_id = params.reference("schedule", "Schedule")?.ok_or_else(|| {
        FhirError::invalid(
            "schedule",
            "search parameter 'schedule' is required (Schedule/<id>)",
        )
    })?;
    let status = match params.one("status")? {
        None => None,
        Some(status @ ("free" | "busy" | "busy-unavailable")) => Some(status),
        Some(other) => {
            return Err(FhirError::invalid(
                "status",
                format!("'{other}' is not a slot status (free, busy, busy-unavailable)"),
            ));
        }
    };
    let range = instant_range(&params, "start", &state)?;
    let from = range
        .from
        .ok_or_else(|| FhirError::invalid("start", "a lower bound is required (start=ge<date>)"))?;
    let until = range.until.unwrap_or(from + TimeDelta::days(DEFAULT_DAYS));
    if until - from > TimeDelta::days(MAX_DAYS) {
        return Err(FhirError::invalid(
            "start",
            format!("the start range may cover at most {MAX_DAYS} days"),
        ));
    }
    let doctor = state.store.user_by_id(schedule_id).await?.filter(is_doctor);
    let slots = match doctor {
        Some(doctor) if until > from => {
            slot_access(&user, doctor.id)?;
            compute_slots(&state, &doctor, from, until).await?
        }
        _ => Vec::new(),
    };
    let slots: Vec<ComputedSlot> = slots
        .into_iter()
        .filter(|slot| status.is_none_or(|status| slot.status == status))
        .collect();
    let total = slots.len();
    let entries = slots
        .iter()
        .take(limit)
        .map(|slot| slot_json(slot, &state))
        .collect();
    Ok(fhir_response(
        StatusCode::OK,
        &bundle(&base_url(&headers), &uri, entries, Some(total)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ids_round_trip_and_reject_anything_else() {
        let key = SlotKey {
            doctor: 7,
            start: "2030-01-14T07:00:00Z".parse().unwrap(),
            end: "2030-01-14T07:15:00Z".parse().unwrap(),
        };
        assert_eq!(key.id(), "7-203001140700-203001140715");
        assert_eq!(SlotKey::parse(&key.id()), Some(key));
        for bad in [
            "",
            "7",
            "7-203001140700",
            "7-203001140715-203001140700",
            "0-203001140700-203001140715",
            "x-203001140700-203001140715",
            "7-203013140700-203001140715",
            "7-203001140700-203001140715-1",
            "+7-203001140700-203001140715",
        ] {
            assert_eq!(SlotKey::parse(bad), None, "{bad}");
        }
    }
}
