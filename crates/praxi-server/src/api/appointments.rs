//! `/api/appointments/` (api.md §3.2): list, create, detail, update, delete, mark-no-show and
//! suggest. Every create and update goes through the scheduling engine inside one locked
//! transaction (see `praxi_store::appointments`), so double bookings are impossible.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Actor, Decision, Resource};
use praxi_domain::scheduling::{
    BookingRef, Conflict, ConflictKind, Interval, ResourceId, SchedulingConflicts, SlotDuration,
    SlotQuery, SlotSpacing, UserId, local_day,
};
use praxi_store::StoreError;
use praxi_store::appointments::{
    AppointmentDraft, AppointmentFilter, AppointmentRecord, ResourceInfo, ScheduleCheck, TypeInfo,
};
use praxi_store::audit::AuditEntry;
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::{self, PageRequest};

const MODEL: &str = "Appointment";
const ONLY_OWN: &str = "Ärzte dürfen nur eigene Termine anlegen/ändern.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/appointments/",
            get(list)
                .post(create)
                .fallback(method_fallback(Resource::Appointments)),
        )
        .route(
            "/api/appointments/suggest/",
            get(suggest).fallback(method_fallback(Resource::AppointmentSuggest)),
        )
        .route(
            "/api/appointments/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(Resource::Appointments)),
        )
        .route(
            "/api/appointments/{id}/mark-no-show/",
            post(mark_no_show).fallback(method_fallback(Resource::Appointments)),
        )
}

/// `{id, name, color}` of a user.
pub(crate) fn person_json(user: &UserRecord) -> Value {
    json!({"id": user.id, "name": user.display_name(), "color": user.calendar_color})
}

pub(crate) fn resource_json(resource: &ResourceInfo, state: &AppState) -> Value {
    json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.kind,
        "color": resource.color,
        "active": resource.active,
        "created_at": wire::datetime(resource.created_at, state.tz()),
        "updated_at": wire::datetime(resource.updated_at, state.tz()),
    })
}

fn type_mini(info: &TypeInfo) -> Value {
    json!({"id": info.id, "name": info.name, "color": info.color})
}

fn doctor_name(record: &AppointmentRecord) -> String {
    let full = format!(
        "{} {}",
        record.doctor_first_name.trim(),
        record.doctor_last_name.trim()
    );
    let full = full.trim();
    if full.is_empty() {
        record.doctor_username.clone()
    } else {
        full.to_owned()
    }
}

/// The AppointmentRead shape (api.md §3.0), keys in the original's order.
pub(crate) fn appointment_json(record: &AppointmentRecord, state: &AppState) -> Value {
    let tz = state.tz();
    let room_name = record
        .resources
        .iter()
        .find(|resource| resource.active && resource.kind == "room")
        .map(|resource| resource.name.clone());
    let resource_names: Vec<&str> = record
        .resources
        .iter()
        .filter(|resource| resource.active && resource.kind != "room")
        .map(|resource| resource.name.as_str())
        .collect();
    json!({
        "id": record.id,
        "patient_id": record.patient_id,
        "patient_name": display_name(
            record.patient_id,
            &record.patient_first_name,
            &record.patient_last_name,
            record.patient_birth_date,
        ),
        "type": record.appointment_type.as_ref().map(type_mini),
        "doctor": record.doctor_id,
        "doctor_name": doctor_name(record),
        "resources": record.resources.iter().map(|r| resource_json(r, state)).collect::<Vec<_>>(),
        "room_name": room_name,
        "resource_names": resource_names,
        "appointment_color": record.appointment_type.as_ref().and_then(|t| t.color.clone()),
        "doctor_color": record.doctor_color,
        "start_time": wire::datetime(record.start_time, tz),
        "end_time": wire::datetime(record.end_time, tz),
        "status": record.status,
        "is_no_show": record.is_no_show,
        "notes": record.notes.clone().unwrap_or_default(),
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

/// The interval of local days `from..=to` in the practice zone.
pub(crate) fn local_days(state: &AppState, from: NaiveDate, to: NaiveDate) -> Option<Interval> {
    let start = local_day(state.tz(), from)?.start();
    let end = local_day(state.tz(), to)?.end();
    Interval::new(start, end).ok()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    date: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    doctor_id: Option<String>,
    patient_id: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

fn query_date(name: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match value.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => parse_date_str(text).map(Some).ok_or_else(|| {
            ApiError::field(
                name,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            )
        }),
    }
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::Appointments, Action::List, MODEL)?;
    let date = query_date("date", query.date.as_deref())?;
    let start_date = query_date("start_date", query.start_date.as_deref())?;
    let end_date = query_date("end_date", query.end_date.as_deref())?;
    let period = match (date, start_date, end_date) {
        (Some(day), _, _) => local_days(&state, day, day),
        (None, None, None) => None,
        (None, from, to) => {
            let from = from.unwrap_or(NaiveDate::MIN);
            let to = to.unwrap_or(NaiveDate::MAX);
            if to < from {
                return Ok(Json(json!([])));
            }
            // Open ends are clamped to years both databases can store.
            let floor = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
            let ceiling = NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or(NaiveDate::MAX);
            let (from, to) = (from.max(floor), to.min(ceiling));
            if to < from {
                return Ok(Json(json!([])));
            }
            local_days(&state, from, to)
        }
    };
    let mut filter = AppointmentFilter {
        period,
        // Non-integer ids are ignored, as in the original.
        doctor_id: query
            .doctor_id
            .as_deref()
            .and_then(|v| v.trim().parse().ok()),
        patient_id: query
            .patient_id
            .as_deref()
            .and_then(|v| v.trim().parse().ok()),
        ..Default::default()
    };
    if decision == Decision::Filtered {
        filter.doctor_id = Some(auth.user.id);
    }
    let records = state.store.appointments(&filter).await?;
    state
        .store
        .record_audit(&auth.audit(
            "appointment_list",
            None,
            Some(json!({"count": records.len()})),
        ))
        .await?;
    // The original's plain array; a client asking for pages gets the page envelope (spec
    // README rule 5).
    if query.page.is_none() && query.page_size.is_none() {
        return Ok(Json(Value::Array(
            records
                .iter()
                .map(|record| appointment_json(record, &state))
                .collect(),
        )));
    }
    let request = PageRequest::from_query(query.page.as_deref(), query.page_size.as_deref())?;
    let count = u64::try_from(records.len()).unwrap_or(u64::MAX);
    let (page, offset) = request.resolve(count)?;
    let results = records
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(request.page_size).unwrap_or(usize::MAX))
        .map(|record| appointment_json(record, &state))
        .collect();
    Ok(Json(wire::page_envelope(
        &headers,
        &uri,
        count,
        page,
        request.page_size,
        results,
    )))
}

async fn find(state: &AppState, id: i64) -> ApiResult<AppointmentRecord> {
    let id = i32::try_from(id).map_err(|_| ApiError::NotFound(MODEL))?;
    state
        .store
        .appointment(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::Appointments, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
    AuthUser::check_own(decision, record.doctor_id == auth.user.id, MODEL)?;
    state
        .store
        .record_audit(&auth.audit("appointment_view", Some(record.patient_id), None))
        .await?;
    Ok(Json(appointment_json(&record, &state)))
}

/// Read-only fields of the read shape that clients may send back.
const READ_ONLY: [&str; 11] = [
    "id",
    "patient_name",
    "doctor_name",
    "resources",
    "room_name",
    "resource_names",
    "appointment_color",
    "doctor_color",
    "is_no_show",
    "created_at",
    "updated_at",
];

/// The acting user as the booking rules need it: the policy actor (for the doctor-only-own
/// rule) and the audit rows it writes. The API's `AuthUser` and the web UI's `WebUser`
/// implement it, so both book through exactly the same code.
pub(crate) trait Caller: Sync {
    /// The policy actor.
    fn actor(&self) -> Actor;
    /// An audit entry for this caller.
    fn audit_entry(&self, action: &str, patient_id: Option<i32>, meta: Option<Value>)
    -> AuditEntry;
}

impl Caller for AuthUser {
    fn actor(&self) -> Actor {
        self.actor
    }

    fn audit_entry(
        &self,
        action: &str,
        patient_id: Option<i32>,
        meta: Option<Value>,
    ) -> AuditEntry {
        self.audit(action, patient_id, meta)
    }
}

/// The appointment statuses (the schema's CHECK values).
pub(crate) const STATUSES: [&str; 4] = ["scheduled", "confirmed", "cancelled", "completed"];

/// The writable fields as sent (`None` = absent).
#[derive(Debug, Default)]
pub(crate) struct AppointmentInput {
    pub(crate) patient_id: Option<i64>,
    pub(crate) doctor: Option<i64>,
    pub(crate) type_id: Option<Option<i64>>,
    pub(crate) resource_ids: Option<Vec<i64>>,
    pub(crate) start_time: Option<DateTime<Utc>>,
    pub(crate) end_time: Option<DateTime<Utc>>,
    pub(crate) status: Option<String>,
    pub(crate) notes: Option<Option<String>>,
}

fn read_input(fields: &mut Fields, full: bool) -> AppointmentInput {
    fields.ignore(&READ_ONLY);
    let required = |fields: &mut Fields, name: &str| {
        if full && !fields.has(name) {
            fields.errors_mut().add(name, "This field is required.");
        }
    };
    for name in ["patient_id", "doctor", "start_time", "end_time"] {
        required(fields, name);
    }
    let patient_id = fields.opt_int("patient_id").flatten();
    if let Some(id) = patient_id
        && (id <= 0 || i32::try_from(id).is_err())
    {
        fields
            .errors_mut()
            .add("patient_id", "patient_id muss positiv sein.");
    }
    let status = fields.opt_string("status").flatten();
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        fields
            .errors_mut()
            .add("status", format!("\"{status}\" is not a valid choice."));
    }
    AppointmentInput {
        patient_id,
        doctor: fields.opt_int("doctor").flatten(),
        type_id: fields.opt_int("type"),
        resource_ids: fields.opt_id_list("resource_ids"),
        start_time: fields.opt_datetime("start_time").flatten(),
        end_time: fields.opt_datetime("end_time").flatten(),
        status,
        notes: fields.opt_string("notes"),
    }
}

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
    /// A doctor books or changes another doctor's appointment.
    OnlyOwn,
    /// No appointment type with this id.
    TypeUnknown(i64),
    /// A requested resource is unknown or inactive.
    ResourcesInvalid,
    /// Longer than the 24 hours a booking may last.
    TooLong,
}

impl DraftProblem {
    /// The field the API names.
    pub(crate) fn field(&self) -> &'static str {
        match self {
            DraftProblem::Incomplete => "non_field_errors",
            DraftProblem::PatientIdInvalid | DraftProblem::PatientUnknown(_) => "patient_id",
            DraftProblem::EndNotAfterStart | DraftProblem::TooLong => "end_time",
            DraftProblem::DoctorUnknown(_)
            | DraftProblem::NotADoctor
            | DraftProblem::DoctorInactive
            | DraftProblem::OnlyOwn => "doctor",
            DraftProblem::TypeUnknown(_) => "type",
            DraftProblem::ResourcesInvalid => "resource_ids",
        }
    }

    /// The API's message (the original's wording).
    fn message(&self) -> String {
        match self {
            DraftProblem::Incomplete => "incomplete appointment".to_owned(),
            DraftProblem::PatientIdInvalid => "patient_id muss positiv sein.".to_owned(),
            DraftProblem::EndNotAfterStart => "Endzeit muss nach der Startzeit liegen.".to_owned(),
            DraftProblem::TooLong => "Ein Termin darf höchstens 24 Stunden dauern.".to_owned(),
            DraftProblem::PatientUnknown(id) => {
                format!("Invalid pk \"{id}\" - object does not exist.")
            }
            DraftProblem::DoctorUnknown(id) | DraftProblem::TypeUnknown(id) => {
                format!("Invalid pk \"{id}\" - object does not exist.")
            }
            DraftProblem::NotADoctor => "Der Arzt muss die Rolle \"doctor\" haben.".to_owned(),
            DraftProblem::DoctorInactive => "Der Arzt ist nicht aktiv.".to_owned(),
            DraftProblem::OnlyOwn => ONLY_OWN.to_owned(),
            DraftProblem::ResourcesInvalid => {
                "resource_ids enthält unbekannte oder inaktive Ressource(n).".to_owned()
            }
        }
    }
}

/// A failed [`resolve`].
#[derive(Debug)]
pub(crate) enum ResolveError {
    Invalid(DraftProblem),
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(error: StoreError) -> Self {
        ResolveError::Store(error)
    }
}

impl From<ResolveError> for ApiError {
    fn from(error: ResolveError) -> Self {
        match error {
            ResolveError::Invalid(problem) => ApiError::field(problem.field(), problem.message()),
            ResolveError::Store(error) => error.into(),
        }
    }
}

/// Checks references (patient, doctor, type, resources) and the doctor-only-own rule; returns
/// the draft to book.
pub(crate) async fn resolve(
    state: &AppState,
    caller: &impl Caller,
    input: AppointmentInput,
    stored: Option<&AppointmentRecord>,
) -> Result<AppointmentDraft, ResolveError> {
    let invalid = |problem| ResolveError::Invalid(problem);
    let missing = || invalid(DraftProblem::Incomplete);
    let patient_id = match input.patient_id {
        Some(id) => i32::try_from(id).map_err(|_| invalid(DraftProblem::PatientIdInvalid))?,
        None => stored.map(|s| s.patient_id).ok_or_else(missing)?,
    };
    let doctor_id = input
        .doctor
        .or(stored.map(|s| s.doctor_id))
        .ok_or_else(missing)?;
    let start_time = input
        .start_time
        .or(stored.map(|s| s.start_time))
        .ok_or_else(missing)?;
    let end_time = input
        .end_time
        .or(stored.map(|s| s.end_time))
        .ok_or_else(missing)?;
    if end_time <= start_time {
        return Err(invalid(DraftProblem::EndNotAfterStart));
    }
    if end_time - start_time > chrono::Duration::hours(praxi_store::schedule::MAX_BOOKING_HOURS) {
        return Err(invalid(DraftProblem::TooLong));
    }
    if input.patient_id.is_some() && state.store.patient(patient_id).await?.is_none() {
        return Err(invalid(DraftProblem::PatientUnknown(patient_id)));
    }
    if input.doctor.is_some() || stored.is_none() {
        let doctor = state
            .store
            .user_by_id(doctor_id)
            .await?
            .ok_or_else(|| invalid(DraftProblem::DoctorUnknown(doctor_id)))?;
        if doctor
            .role
            .as_ref()
            .is_none_or(|role| role.name != "doctor")
        {
            return Err(invalid(DraftProblem::NotADoctor));
        }
        if !doctor.is_active {
            return Err(invalid(DraftProblem::DoctorInactive));
        }
    }
    let actor = caller.actor();
    if actor.is_doctor() {
        let stored_other = stored.is_some_and(|s| s.doctor_id != actor.user_id);
        if doctor_id != actor.user_id || stored_other {
            return Err(invalid(DraftProblem::OnlyOwn));
        }
    }
    let type_id = match input.type_id {
        Some(Some(type_id)) => {
            if state.store.appointment_type_info(type_id).await?.is_none() {
                return Err(invalid(DraftProblem::TypeUnknown(type_id)));
            }
            Some(type_id)
        }
        Some(None) => None,
        None => stored.and_then(|s| s.appointment_type.as_ref().map(|t| t.id)),
    };
    let resources = match input.resource_ids {
        Some(ids) => {
            let found = state.store.resources_by_ids(&ids).await?;
            if found.len() != ids.len() || found.iter().any(|r| !r.active) {
                return Err(invalid(DraftProblem::ResourcesInvalid));
            }
            ids.iter()
                .filter_map(|id| found.iter().find(|r| r.id == *id))
                .map(|r| (r.id, r.resource_kind()))
                .collect()
        }
        None => stored
            .map(|s| {
                s.resources
                    .iter()
                    .map(|r| (r.id, r.resource_kind()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(AppointmentDraft {
        patient_id,
        doctor_id,
        type_id,
        resources,
        start_time,
        end_time,
        status: input
            .status
            .or(stored.map(|s| s.status.clone()))
            .unwrap_or_else(|| "scheduled".to_owned()),
        notes: match input.notes {
            Some(notes) => Some(notes.unwrap_or_default()),
            None => Some(stored.and_then(|s| s.notes.clone()).unwrap_or_default()),
        },
    })
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
pub(crate) enum Refusal {
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

/// Classifies the engine's conflicts. A resource conflict writes the `resource_booking_conflict`
/// audit row (a failed write fails the request).
pub(crate) async fn refusal(
    state: &AppState,
    caller: &impl Caller,
    draft: &AppointmentDraft,
    conflicts: &SchedulingConflicts,
) -> Result<Refusal, StoreError> {
    let all = conflicts.conflicts();
    if let Some(first) = all.iter().find(|c| c.makes_doctor_unavailable()) {
        let alternatives = alternatives(state, draft).await.unwrap_or_default();
        return Ok(Refusal::DoctorUnavailable {
            first: *first,
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
        let audit = caller.audit_entry(
            "resource_booking_conflict",
            Some(draft.patient_id),
            Some(json!({"resource_ids": resource_ids})),
        );
        state.store.record_audit(&audit).await?;
        return Ok(Refusal::Resource { resource_ids });
    }
    let patient_appointment = all.iter().any(|c| {
        matches!(c, Conflict::Booking(b) if b.kind == ConflictKind::Patient && matches!(b.booking, BookingRef::Appointment(_)))
    });
    if patient_appointment {
        return Ok(Refusal::Patient);
    }
    Ok(Refusal::Other(all.to_vec()))
}

/// The original's error body for a refused booking, plus a machine `code`.
fn refusal_error(refusal: Refusal, state: &AppState) -> ApiError {
    match refusal {
        Refusal::DoctorUnavailable {
            first,
            alternatives,
        } => ApiError::BadRequest(json!({
            "detail": ["Doctor unavailable."],
            "alternatives": alternatives
                .iter()
                .map(|alternative| json!({
                    "doctor": {"id": alternative.doctor.id.to_string(), "name": alternative.doctor.display_name()},
                    "next_available": wire::datetime(alternative.start, state.tz()),
                }))
                .collect::<Vec<_>>(),
            "code": "doctor_unavailable",
            "reason": first.code(),
        })),
        Refusal::Resource { .. } => ApiError::BadRequest(json!({
            "non_field_errors": ["Resource conflict"],
            "code": "resource_conflict",
        })),
        Refusal::Patient => ApiError::BadRequest(json!({
            "detail": ["Appointment conflict: patient already has an appointment in this time range."],
            "code": "patient_conflict",
        })),
        Refusal::Other(conflicts) => ApiError::BadRequest(scheduling_conflicts_json(&conflicts)),
    }
}

/// `{"detail": "Scheduling conflicts detected", "conflicts": [...]}`.
pub(crate) fn scheduling_conflicts_json(conflicts: &[Conflict]) -> Value {
    let items: Vec<Value> = conflicts
        .iter()
        .filter_map(|conflict| match conflict {
            Conflict::Booking(b) => {
                let mut item = json!({
                    "type": b.kind.as_str(),
                    "model": b.booking.model(),
                    "id": b.booking.id(),
                    "message": b.message(),
                });
                if let Some(resource) = b.resource {
                    item["resource_id"] = json!(resource.0);
                }
                if let (Some(person), BookingRef::Operation(_)) = (b.person, b.booking) {
                    item["meta"] = json!({"doctor_id": person.0});
                }
                Some(item)
            }
            _ => None,
        })
        .collect();
    json!({"detail": "Scheduling conflicts detected", "conflicts": items, "code": "scheduling_conflict"})
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

/// A failed [`save`].
#[derive(Debug)]
pub(crate) enum SaveError {
    /// The scheduling engine refused the booking.
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for SaveError {
    fn from(error: StoreError) -> Self {
        SaveError::Store(error)
    }
}

/// Whether an update needs the engine: only a change of time, doctor, patient, resources or
/// a revival from "cancelled" does (api.md §5 item 7: status/notes edits of old appointments
/// always work).
pub(crate) fn needs_check(stored: &AppointmentRecord, draft: &AppointmentDraft) -> ScheduleCheck {
    let mut stored_resources: Vec<i64> = stored.resources.iter().map(|r| r.id).collect();
    let mut draft_resources: Vec<i64> = draft.resources.iter().map(|(id, _)| *id).collect();
    stored_resources.sort_unstable();
    draft_resources.sort_unstable();
    let moved = draft.start_time != stored.start_time
        || draft.end_time != stored.end_time
        || draft.doctor_id != stored.doctor_id
        || draft.patient_id != stored.patient_id
        || stored_resources != draft_resources
        || (stored.status == "cancelled" && draft.status != "cancelled");
    if moved {
        ScheduleCheck::Check
    } else {
        ScheduleCheck::Skip
    }
}

/// Creates (`id: None`) or updates an appointment through the store's locked booking path,
/// audited as `appointment_create` / `appointment_update`, and tells the live boards.
pub(crate) async fn save(
    state: &AppState,
    caller: &impl Caller,
    id: Option<i32>,
    draft: AppointmentDraft,
    check: ScheduleCheck,
) -> Result<AppointmentRecord, SaveError> {
    let action = if id.is_some() {
        "appointment_update"
    } else {
        "appointment_create"
    };
    let patient_id = draft.patient_id;
    match state
        .store
        .save_appointment(id, draft.clone(), state.tz(), check, state.now(), |_| {
            caller.audit_entry(action, Some(patient_id), None)
        })
        .await
    {
        Ok(record) => {
            let event = if id.is_some() {
                "appointment.updated"
            } else {
                "appointment.created"
            };
            state
                .events
                .notify(
                    crate::events::Board::ResourceCalendar,
                    event,
                    i64::from(record.id),
                    None,
                )
                .await;
            Ok(record)
        }
        Err(StoreError::Scheduling(conflicts)) => Err(SaveError::Refused(
            refusal(state, caller, &draft, &conflicts).await?,
        )),
        Err(other) => Err(other.into()),
    }
}

async fn book(
    state: &AppState,
    auth: &AuthUser,
    id: Option<i32>,
    draft: AppointmentDraft,
    check: ScheduleCheck,
) -> ApiResult<AppointmentRecord> {
    save(state, auth, id, draft, check)
        .await
        .map_err(|error| match error {
            SaveError::Refused(refusal) => refusal_error(refusal, state),
            SaveError::Store(error) => error.into(),
        })
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Resource::Appointments, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, true);
    fields.finish()?;
    let draft = resolve(&state, &auth, input, None).await?;
    let record = book(&state, &auth, None, draft, ScheduleCheck::Check).await?;
    Ok((StatusCode::CREATED, Json(appointment_json(&record, &state))))
}

async fn update_put(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, true).await
}

async fn update_patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    update(state, auth, id, body, false).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    body: JsonBody,
    full: bool,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::Appointments, Action::Update, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(decision, stored.doctor_id == auth.user.id, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, full);
    fields.finish()?;
    let draft = resolve(&state, &auth, input, Some(&stored)).await?;
    let check = needs_check(&stored, &draft);
    let record = book(&state, &auth, Some(stored.id), draft, check).await?;
    Ok(Json(appointment_json(&record, &state)))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(Resource::Appointments, Action::Delete, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(decision, stored.doctor_id == auth.user.id, MODEL)?;
    state
        .store
        .delete_appointment(
            stored.id,
            &auth.audit("appointment_delete", Some(stored.patient_id), None),
        )
        .await?;
    state
        .events
        .notify(
            crate::events::Board::ResourceCalendar,
            "appointment.deleted",
            i64::from(stored.id),
            None,
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Why an appointment cannot be marked as no-show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoShowProblem {
    /// It has not ended yet.
    NotPast,
    /// Only scheduled or confirmed appointments can be no-shows.
    WrongStatus,
}

impl NoShowProblem {
    /// The API's message.
    fn message(self) -> &'static str {
        match self {
            NoShowProblem::NotPast => "No-Show kann nur für vergangene Termine gesetzt werden.",
            NoShowProblem::WrongStatus => {
                "Nur geplante oder bestätigte Termine können als No-Show markiert werden."
            }
        }
    }
}

/// The no-show rule: only past appointments that are scheduled or confirmed (marking one
/// again is allowed and changes nothing).
pub(crate) fn no_show_problem(
    stored: &AppointmentRecord,
    now: DateTime<Utc>,
) -> Option<NoShowProblem> {
    if stored.end_time >= now {
        return Some(NoShowProblem::NotPast);
    }
    if !stored.is_no_show && !["scheduled", "confirmed"].contains(&stored.status.as_str()) {
        return Some(NoShowProblem::WrongStatus);
    }
    None
}

/// Marks a past appointment as no-show, audited as `appointment_mark_no_show`.
pub(crate) async fn mark_as_no_show(
    state: &AppState,
    caller: &impl Caller,
    stored: &AppointmentRecord,
) -> Result<(), StoreError> {
    let audit = caller.audit_entry(
        "appointment_mark_no_show",
        Some(stored.patient_id),
        Some(json!({"appointment_id": stored.id})),
    );
    state
        .store
        .mark_no_show(stored.id, state.now(), &audit)
        .await?;
    Ok(())
}

async fn mark_no_show(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::Appointments, Action::Update, MODEL)?;
    let stored = find(&state, id).await?;
    AuthUser::check_own(decision, stored.doctor_id == auth.user.id, MODEL)?;
    if let Some(problem) = no_show_problem(&stored, state.now()) {
        return Err(ApiError::Detail(problem.message().to_owned()));
    }
    mark_as_no_show(&state, &auth, &stored).await?;
    let record = find(&state, id).await?;
    Ok(Json(appointment_json(&record, &state)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SuggestQuery {
    doctor_id: Option<String>,
    type_id: Option<String>,
    duration_minutes: Option<String>,
    start_date: Option<String>,
    limit: Option<String>,
    resource_ids: Option<String>,
    days: Option<String>,
    spacing: Option<String>,
}

fn detail_error(message: impl Into<String>) -> ApiError {
    ApiError::Detail(message.into())
}

fn int_param(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| detail_error(format!("{name} must be an integer."))),
    }
}

async fn suggest(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SuggestQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Resource::AppointmentSuggest, Action::List, MODEL)?;
    let doctor_id = int_param("doctor_id", query.doctor_id.as_deref())?;
    if decision != Decision::Allow && doctor_id != Some(auth.user.id) {
        return Err(ApiError::Forbidden);
    }
    let doctor_id =
        doctor_id.ok_or_else(|| detail_error("doctor_id query parameter is required."))?;
    let type_id = int_param("type_id", query.type_id.as_deref())?;
    let duration = int_param("duration_minutes", query.duration_minutes.as_deref())?;
    let start_date = match query
        .start_date
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => state.today(),
        Some(text) => parse_date_str(text)
            .ok_or_else(|| detail_error("start_date must be in format YYYY-MM-DD."))?,
    };
    let limit = int_param("limit", query.limit.as_deref())?.unwrap_or(1);
    if limit < 1 {
        return Err(detail_error("limit must be >= 1."));
    }
    let days = int_param("days", query.days.as_deref())?.unwrap_or(1);
    let doctor = state
        .store
        .user_by_id(doctor_id)
        .await?
        .filter(|d| d.role.as_ref().is_some_and(|r| r.name == "doctor") && d.is_active)
        .ok_or_else(|| detail_error("doctor_id must reference a user with role \"doctor\"."))?;
    let appointment_type = match type_id {
        Some(type_id) => {
            let (info, minutes, active) = state
                .store
                .appointment_type_info(type_id)
                .await?
                .ok_or_else(|| detail_error("type_id not found."))?;
            if !active {
                return Err(detail_error("type_id not found."));
            }
            Some((info, minutes))
        }
        None => None,
    };
    let minutes = match (duration, &appointment_type) {
        (Some(minutes), _) => minutes,
        (None, Some((_, Some(minutes)))) => i64::from(*minutes),
        (None, Some((_, None))) => {
            return Err(detail_error(
                "duration_minutes is required when the type has no duration.",
            ));
        }
        (None, None) => {
            return Err(detail_error(
                "duration_minutes is required when type_id is not provided.",
            ));
        }
    };
    let duration =
        SlotDuration::from_minutes(minutes).map_err(|e| detail_error(format!("{e}.")))?;
    let resource_ids: Vec<i64> = match query
        .resource_ids
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Vec::new(),
        Some(text) => {
            let mut ids = Vec::new();
            for part in text.split(',') {
                let id: i64 = part.trim().parse().map_err(|_| {
                    detail_error("resource_ids must be a comma-separated list of integers.")
                })?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        }
    };
    let resources = state.store.resources_by_ids(&resource_ids).await?;
    if resources.len() != resource_ids.len() || resources.iter().any(|r| !r.active) {
        return Err(detail_error(
            "resource_ids contains unknown or inactive resource(s).",
        ));
    }
    let days = u32::try_from(days).unwrap_or(0);
    let mut slot_query = SlotQuery::for_appointment(
        UserId(doctor.id),
        resource_ids.iter().copied().map(ResourceId).collect(),
        duration,
        start_date,
    );
    slot_query.days = days;
    slot_query.limit = usize::try_from(limit).unwrap_or(usize::MAX);
    slot_query.spacing = match query.spacing.as_deref() {
        Some("grid") => SlotSpacing::Grid,
        _ => SlotSpacing::BackToBack,
    };
    let last_date = start_date + chrono::Days::new(u64::from(days.clamp(1, 366)) - 1);
    let period = local_days(&state, start_date, last_date)
        .ok_or_else(|| detail_error("start_date out of range."))?;
    // Only the requested doctor's schedule first; everyone's only for the substitution.
    let scope = ScheduleScope {
        people: Some(vec![doctor.id]),
        patients: Vec::new(),
        resources: resource_ids.clone(),
    };
    let schedule = state.store.schedule(state.tz(), period, &scope).await?;
    let now = state.now();
    let primary = schedule
        .suggest(&slot_query, now)
        .map_err(|e| detail_error(format!("{e}.")))?;

    let type_json = appointment_type.as_ref().map(|(info, _)| type_mini(info));
    let type_color = appointment_type
        .as_ref()
        .and_then(|(info, _)| info.color.clone());
    let mut sorted_resources = resources.clone();
    sorted_resources.sort_by_key(|r| r.id);
    let slot_json = |slot: &praxi_domain::scheduling::Slot, doctor: &UserRecord| {
        json!({
            "start_time": wire::datetime(slot.start(), state.tz()),
            "end_time": wire::datetime(slot.end(), state.tz()),
            "type": type_json,
            "doctor_color": doctor.calendar_color,
            "type_color": type_color,
            "resource_ids": sorted_resources.iter().map(|r| r.id).collect::<Vec<_>>(),
            "resource_colors": sorted_resources.iter().map(|r| r.color.clone()).collect::<Vec<_>>(),
        })
    };
    let mut fallback = Vec::new();
    if primary.is_empty() {
        let all_doctors = state.store.list_doctors().await?;
        let scope = ScheduleScope {
            people: Some(all_doctors.iter().map(|d| d.id).collect()),
            patients: Vec::new(),
            resources: resource_ids.clone(),
        };
        let schedule = state.store.schedule(state.tz(), period, &scope).await?;
        let doctor_ids: Vec<UserId> = all_doctors.iter().map(|d| UserId(d.id)).collect();
        let substitutes = schedule
            .substitutes(UserId(doctor.id), &doctor_ids, &slot_query, now)
            .map_err(|e| detail_error(format!("{e}.")))?;
        for substitute in substitutes {
            if let Some(other) = all_doctors.iter().find(|d| d.id == substitute.doctor.0) {
                fallback.push(json!({
                    "doctor": person_json(other),
                    "suggestions": substitute.slots.iter().map(|s| slot_json(s, other)).collect::<Vec<_>>(),
                }));
            }
        }
    }
    state
        .store
        .record_audit(&auth.audit(
            "appointment_suggest",
            None,
            Some(json!({"doctor_id": doctor.id})),
        ))
        .await?;
    if !fallback.is_empty() {
        state
            .store
            .record_audit(&auth.audit(
                "doctor_substitution_suggest",
                None,
                Some(json!({"doctor_id": doctor.id})),
            ))
            .await?;
    }
    Ok(Json(json!({
        "primary_doctor": person_json(&doctor),
        "primary_suggestions": primary.iter().map(|s| slot_json(s, &doctor)).collect::<Vec<_>>(),
        "fallback_suggestions": fallback,
    })))
}
