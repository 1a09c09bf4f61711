//! Appointment (`Area::Appointments`): read, search, create through the API's booking use
//! case (`usecases::appointments::book`: the same locks, engine check, audit row and board
//! event as `POST /api/appointments/`), and cancel through its status (`PUT`/`PATCH` setting
//! `status` to `cancelled` → `usecases::appointments::cancel`).
//!
//! Status mapping (Praxi → FHIR): scheduled, confirmed → `booked`; completed → `fulfilled`;
//! cancelled → `cancelled`; a no-show → `noshow`. The patient participant's status tells
//! scheduled (`needs-action`) from confirmed (`accepted`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, TimeZone, Utc};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::Conflict;
use praxi_store::appointments::{AppointmentFilter, AppointmentRecord};
use serde_json::{Map, Value, json};

use super::people::numeric_id;
use super::search::{Params, bundle, instant_range, reference_id};
use super::slots::SlotKey;
use super::{FhirError, FhirResult, FhirUser, base_url, fhir_response, instant};
use crate::state::AppState;
use crate::usecases::appointments::{
    self, AppointmentInput, AppointmentRefusal, BookingConflict, DraftProblem, appointment_etag,
};
use crate::usecases::{Failure, IfMatch};

/// The code system of `Appointment.appointmentType` codes (Praxi's appointment type ids).
pub(crate) const TYPE_SYSTEM: &str = "urn:praxi:appointment-type";

const DEFAULT_COUNT: usize = 100;
const MAX_COUNT: usize = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/Appointment",
            get(search).post(create).fallback(super::unsupported_method),
        )
        .route(
            "/Appointment/{id}",
            get(read)
                .put(update_put)
                .patch(update_patch)
                .fallback(super::unsupported_method),
        )
}

// ---- rendering --------------------------------------------------------------------------------

/// The FHIR status of an appointment.
fn fhir_status(record: &AppointmentRecord) -> &'static str {
    if record.is_no_show {
        return "noshow";
    }
    match record.status {
        AppointmentStatus::Scheduled | AppointmentStatus::Confirmed => "booked",
        AppointmentStatus::Completed => "fulfilled",
        AppointmentStatus::Cancelled => "cancelled",
    }
}

/// The version id (the API's `ETag` without quotes).
fn version(record: &AppointmentRecord) -> String {
    appointment_etag(record).trim_matches('"').to_owned()
}

pub(crate) fn appointment_json(record: &AppointmentRecord, state: &AppState) -> Value {
    let patient_status = match record.status {
        AppointmentStatus::Cancelled => "declined",
        AppointmentStatus::Scheduled => "needs-action",
        AppointmentStatus::Confirmed | AppointmentStatus::Completed => "accepted",
    };
    let patient_name = format!(
        "{} {}",
        record.patient_first_name.trim(),
        record.patient_last_name.trim()
    );
    let doctor_name = format!(
        "{} {}",
        record.doctor_first_name.trim(),
        record.doctor_last_name.trim()
    );
    let display = |name: &str, fallback: &str| {
        let name = name.trim();
        if name.is_empty() {
            fallback.to_owned()
        } else {
            name.to_owned()
        }
    };
    let mut participants = vec![
        json!({
            "actor": {
                "reference": format!("Patient/{}", record.patient_id),
                "display": display(&patient_name, &format!("Patient {}", record.patient_id)),
            },
            "required": "required",
            "status": patient_status,
        }),
        json!({
            "actor": {
                "reference": format!("Practitioner/{}", record.doctor_id),
                "display": display(&doctor_name, &record.doctor_username),
            },
            "required": "required",
            "status": "accepted",
        }),
    ];
    for resource in &record.resources {
        let kind = if resource.kind == "room" {
            "Location"
        } else {
            "Device"
        };
        participants.push(json!({
            "actor": {"reference": format!("{kind}/{}", resource.id), "display": resource.name},
            "required": "required",
            "status": "accepted",
        }));
    }
    let minutes = (record.end_time - record.start_time).num_minutes();
    let mut resource = json!({
        "resourceType": "Appointment",
        "id": record.id.to_string(),
        "meta": {
            "versionId": version(record),
            "lastUpdated": instant(record.updated_at, state),
        },
        "status": fhir_status(record),
        "start": instant(record.start_time, state),
        "end": instant(record.end_time, state),
        "created": instant(record.created_at, state),
        "participant": participants,
    });
    if minutes > 0 {
        resource["minutesDuration"] = json!(minutes);
    }
    if let Some(kind) = &record.appointment_type {
        resource["appointmentType"] = json!({
            "coding": [{"system": TYPE_SYSTEM, "code": kind.id.to_string(), "display": kind.name}],
            "text": kind.name,
        });
    }
    if let Some(notes) = record
        .notes
        .as_deref()
        .filter(|notes| !notes.trim().is_empty())
    {
        resource["comment"] = json!(notes);
    }
    resource
}

/// The resource with its `ETag` (`W/"<versionId>"`).
fn tagged(status: StatusCode, record: &AppointmentRecord, state: &AppState) -> Response {
    let mut response = fhir_response(status, &appointment_json(record, state));
    if let Ok(value) = HeaderValue::from_str(&format!("W/\"{}\"", version(record))) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

// ---- refusals ---------------------------------------------------------------------------------

/// What one engine conflict means, in words.
fn describe(conflict: &Conflict) -> String {
    match conflict {
        Conflict::Holiday(holiday) => format!(
            "the practice is closed on {} ({})",
            holiday.date, holiday.label
        ),
        Conflict::Hours(hours) => format!(
            "outside working hours on {} ({})",
            hours.date,
            hours.reason.as_str()
        ),
        Conflict::Absence(absence) => format!("the doctor is absent on {}", absence.date),
        Conflict::Break(pause) => format!(
            "break on {} from {} to {}",
            pause.date,
            pause.start.format("%H:%M"),
            pause.end.format("%H:%M")
        ),
        Conflict::Booking(booking) => booking.message(),
    }
}

fn conflict_error(conflict: &BookingConflict) -> FhirError {
    let conflict_outcome =
        |diagnostics: String| FhirError::new(StatusCode::CONFLICT, "conflict", diagnostics);
    match conflict {
        BookingConflict::DoctorUnavailable {
            first,
            alternatives,
        } => {
            let mut text = format!("Doctor unavailable: {}", describe(first));
            if !alternatives.is_empty() {
                let names: Vec<String> = alternatives
                    .iter()
                    .map(|alternative| format!("Practitioner/{}", alternative.doctor.id))
                    .collect();
                text.push_str(&format!("; other doctors free then: {}", names.join(", ")));
            }
            conflict_outcome(text)
                .because("doctor_unavailable")
                .because(first.code())
        }
        BookingConflict::Resource { resource_ids } => {
            let ids: Vec<String> = resource_ids.iter().map(i64::to_string).collect();
            conflict_outcome(format!(
                "Resource conflict: resource(s) {} already booked in this time range",
                ids.join(", ")
            ))
            .because("resource_conflict")
        }
        BookingConflict::Patient => conflict_outcome(
            "Appointment conflict: patient already has an appointment in this time range."
                .to_owned(),
        )
        .because("patient_conflict"),
        BookingConflict::Other(conflicts) => {
            let texts: Vec<String> = conflicts.iter().map(describe).collect();
            let mut error = conflict_outcome(format!(
                "Scheduling conflicts detected: {}",
                texts.join("; ")
            ))
            .because("scheduling_conflict");
            for conflict in conflicts {
                error = error.because(conflict.code());
            }
            error
        }
    }
}

fn problem_error(problem: &DraftProblem) -> FhirError {
    let participant = "Appointment.participant";
    match problem {
        DraftProblem::Incomplete => FhirError::invalid("Appointment", "incomplete appointment"),
        DraftProblem::PatientIdInvalid => {
            FhirError::invalid(participant, "the patient reference is not a patient number")
        }
        DraftProblem::PatientUnknown(id) => {
            FhirError::invalid(participant, format!("Patient/{id} does not exist"))
        }
        DraftProblem::DoctorUnknown(id) => {
            FhirError::invalid(participant, format!("Practitioner/{id} does not exist"))
        }
        DraftProblem::NotADoctor => {
            FhirError::invalid(participant, "the practitioner is not a doctor")
        }
        DraftProblem::DoctorInactive => {
            FhirError::invalid(participant, "the practitioner is not active")
        }
        DraftProblem::OnlyOwn => FhirError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "doctors may only book and change their own appointments",
        ),
        DraftProblem::EndNotAfterStart => {
            FhirError::invalid("Appointment.end", "end must be after start")
        }
        DraftProblem::OverrideReasonInvalid => {
            FhirError::invalid("Appointment", "the override reason is blank or too long")
        }
        DraftProblem::TooLong => {
            FhirError::invalid("Appointment.end", "an appointment lasts at most 24 hours")
        }
        DraftProblem::TypeUnknown(id) => FhirError::invalid(
            "Appointment.appointmentType",
            format!("appointment type {id} does not exist"),
        ),
        DraftProblem::ResourcesInvalid => FhirError::invalid(
            participant,
            "a Location or Device is unknown, inactive or of the other kind",
        ),
    }
}

fn failure_error(failure: Failure<AppointmentRefusal>, id: &str) -> FhirError {
    match failure {
        Failure::Refused(AppointmentRefusal::NotFound) => FhirError::not_found("Appointment", id),
        Failure::Refused(AppointmentRefusal::Denied(denial)) => {
            FhirError::denied(denial, "Appointment", id)
        }
        Failure::Refused(AppointmentRefusal::Invalid(problem)) => problem_error(&problem),
        Failure::Refused(AppointmentRefusal::Conflict { conflict, .. }) => {
            conflict_error(&conflict)
        }
        Failure::Refused(AppointmentRefusal::NoShow(_)) => FhirError::invalid(
            "Appointment.status",
            "the appointment cannot be marked as a no-show",
        ),
        Failure::Refused(AppointmentRefusal::Stale) => FhirError::new(
            StatusCode::PRECONDITION_FAILED,
            "conflict",
            "the appointment was changed in the meantime (If-Match does not match the current \
             version); read it again",
        ),
        Failure::Store(error) => FhirError::from(error),
    }
}

// ---- read and search --------------------------------------------------------------------------

async fn read(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    let decision = user.require(Area::Appointments, Action::Read)?;
    let number = numeric_id("Appointment", &id)?;
    let record = appointments::visible(&state, &user.caller(), decision, number)
        .await
        .map_err(|failure| failure_error(failure, &id))?;
    state
        .store
        .record_audit(&user.0.audit(
            "appointment_view",
            Some(record.patient_id),
            Some(json!({"api": "fhir"})),
        ))
        .await?;
    Ok(tagged(StatusCode::OK, &record, &state))
}

/// The earliest and latest instants a search range is clamped to (both databases store them).
fn search_floor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn search_ceiling() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

const STATUSES: [&str; 10] = [
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
];

/// `Appointment?date=…&practitioner=…&patient=…&status=…`: at least one of `_id`, `date`,
/// `practitioner`, `patient`. Doctors see only their own appointments (the list is filtered).
async fn search(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    let decision = user.require(Area::Appointments, Action::List)?;
    let params = Params::parse(&uri, &["_id", "date", "practitioner", "patient", "status"])?;
    let limit = params.count(DEFAULT_COUNT, MAX_COUNT)?;
    let id = params
        .one("_id")?
        .map(|text| numeric_id("Appointment", text).unwrap_or(-1));
    let practitioner = params.reference("practitioner", "Practitioner")?;
    let patient = params.reference("patient", "Patient")?;
    let dates = instant_range(&params, "date", &state)?;
    let statuses: Vec<&str> = match params.one("status")? {
        None => Vec::new(),
        Some(text) => text.split(',').map(str::trim).collect(),
    };
    if let Some(bad) = statuses.iter().find(|status| !STATUSES.contains(status)) {
        return Err(FhirError::invalid(
            "status",
            format!("'{bad}' is not an appointment status"),
        ));
    }
    if id.is_none()
        && practitioner.is_none()
        && patient.is_none()
        && dates.from.is_none()
        && dates.until.is_none()
    {
        return Err(FhirError::invalid(
            "date",
            "name at least one of date, practitioner, patient or _id",
        ));
    }
    let mut filter = AppointmentFilter {
        doctor_id: practitioner,
        ..AppointmentFilter::default()
    };
    if decision == Decision::Filtered {
        if practitioner.is_some_and(|doctor| doctor != user.user_id()) {
            filter.id = Some(-1);
        }
        filter.doctor_id = Some(user.user_id());
    }
    if let Some(id) = id {
        filter.id = Some(i32::try_from(id).unwrap_or(-1));
    }
    if let Some(patient) = patient {
        filter.patient_id = Some(i32::try_from(patient).unwrap_or(-1));
    }
    if dates.from.is_some() || dates.until.is_some() {
        let from = dates.from.unwrap_or_else(search_floor).max(search_floor());
        let until = dates
            .until
            .unwrap_or_else(search_ceiling)
            .min(search_ceiling());
        match praxi_domain::scheduling::Interval::new(from, until) {
            Ok(period) => filter.period = Some(period),
            Err(_) => filter.id = Some(-1),
        }
    }
    let records = if filter.id == Some(-1) {
        Vec::new()
    } else {
        state.store.appointments(&filter).await?
    };
    let matching: Vec<&AppointmentRecord> = records
        .iter()
        .filter(|record| dates.contains(record.start_time))
        .filter(|record| statuses.is_empty() || statuses.contains(&fhir_status(record)))
        .collect();
    let total = matching.len();
    let shown: Vec<&AppointmentRecord> = matching.into_iter().take(limit).collect();
    let ids: Vec<i32> = shown.iter().map(|record| record.id).collect();
    state
        .store
        .record_audit(
            &user
                .0
                .audit(
                    "appointment_list",
                    None,
                    Some(json!({"api": "fhir", "count": ids.len(), "appointment_ids": ids})),
                )
                .with_subjects(shown.iter().map(|record| record.patient_id)),
        )
        .await?;
    let entries = shown
        .iter()
        .map(|record| appointment_json(record, &state))
        .collect();
    Ok(fhir_response(
        StatusCode::OK,
        &bundle(&base_url(&headers), &uri, entries, Some(total)),
    ))
}

// ---- create -----------------------------------------------------------------------------------

/// The request body; too large is 413, unreadable 400 (as `OperationOutcome`s).
fn bytes(body: Result<Bytes, BytesRejection>) -> FhirResult<Bytes> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::error::ApiError::PayloadTooLarge.into()
        } else {
            FhirError::invalid("Appointment", "the request body could not be read")
        }
    })
}

/// The body as a JSON object of `resource_type`; 415 for another media type.
fn read_body(
    headers: &HeaderMap,
    body: &Bytes,
    resource_type: &str,
) -> FhirResult<Map<String, Value>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !(essence == "application/json" || essence.ends_with("+json")) {
        return Err(crate::error::ApiError::UnsupportedMediaType(content_type.to_owned()).into());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| FhirError::invalid(resource_type, format!("invalid JSON: {error}")))?;
    let Value::Object(object) = value else {
        return Err(FhirError::invalid(
            resource_type,
            "the body must be a JSON object",
        ));
    };
    match object.get("resourceType") {
        Some(Value::String(kind)) if kind == resource_type => Ok(object),
        _ => Err(FhirError::invalid(
            &format!("{resource_type}.resourceType"),
            format!("resourceType must be \"{resource_type}\""),
        )),
    }
}

fn string_at<'a>(object: &'a Map<String, Value>, name: &str) -> FhirResult<Option<&'a str>> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(FhirError::invalid(
            &format!("Appointment.{name}"),
            format!("{name} must be a string"),
        )),
    }
}

/// An `instant` (with seconds and offset).
fn instant_at(object: &Map<String, Value>, name: &str) -> FhirResult<Option<DateTime<Utc>>> {
    let Some(text) = string_at(object, name)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(text)
        .map(|at| Some(at.with_timezone(&Utc)))
        .map_err(|_| {
            FhirError::invalid(
                &format!("Appointment.{name}"),
                format!("'{text}' is not an instant (YYYY-MM-DDThh:mm:ss+zz:zz)"),
            )
        })
}

/// The referenced actors of `participant`.
#[derive(Debug, Default)]
struct Actors {
    patient: Option<i64>,
    practitioner: Option<i64>,
    resources: Vec<i64>,
}

fn read_participants(object: &Map<String, Value>) -> FhirResult<Actors> {
    let mut actors = Actors::default();
    let list = match object.get("participant") {
        None | Some(Value::Null) => return Ok(actors),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(FhirError::invalid(
                "Appointment.participant",
                "participant must be a list",
            ));
        }
    };
    for (idx, participant) in list.iter().enumerate() {
        let at = format!("Appointment.participant[{idx}].actor");
        let reference = participant
            .get("actor")
            .and_then(|actor| actor.get("reference"))
            .and_then(Value::as_str)
            .ok_or_else(|| FhirError::invalid(&at, "each participant needs actor.reference"))?;
        let (kind, _) = reference.rsplit_once('/').unwrap_or(("", reference));
        let kind = kind.rsplit('/').next().unwrap_or(kind);
        let id = reference_id(reference, kind).ok_or_else(|| {
            FhirError::invalid(&at, format!("'{reference}' is not a reference (Type/<id>)"))
        })?;
        let once = |slot: &mut Option<i64>, what: &str| {
            if slot.is_some_and(|existing| existing != id) {
                return Err(FhirError::invalid(
                    &at,
                    format!("only one {what} may take part"),
                ));
            }
            *slot = Some(id);
            Ok(())
        };
        match kind {
            "Patient" => once(&mut actors.patient, "Patient")?,
            "Practitioner" => once(&mut actors.practitioner, "Practitioner")?,
            "Location" | "Device" => actors.resources.push(id),
            other => {
                return Err(FhirError::invalid(
                    &at,
                    format!(
                        "participants of type '{other}' are not supported (Patient, Practitioner, Location, Device)"
                    ),
                ));
            }
        }
    }
    Ok(actors)
}

/// `slot`: contiguous slots of one schedule → (doctor, start, end).
fn read_slots(object: &Map<String, Value>) -> FhirResult<Option<SlotKey>> {
    let list = match object.get("slot") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(_) => {
            return Err(FhirError::invalid(
                "Appointment.slot",
                "slot must be a non-empty list of references",
            ));
        }
    };
    let mut keys = Vec::new();
    for (idx, slot) in list.iter().enumerate() {
        let at = format!("Appointment.slot[{idx}]");
        let reference = slot
            .get("reference")
            .and_then(Value::as_str)
            .ok_or_else(|| FhirError::invalid(&at, "slot needs a reference (Slot/<id>)"))?;
        let id = reference
            .strip_prefix("Slot/")
            .or_else(|| reference.rsplit_once("/Slot/").map(|(_, id)| id))
            .unwrap_or("");
        let key = SlotKey::parse(id).ok_or_else(|| {
            FhirError::invalid(&at, format!("'{reference}' is not a Slot of this server"))
        })?;
        keys.push(key);
    }
    keys.sort_by_key(|key| key.start);
    let first = keys[0];
    let mut end = first.end;
    for key in &keys[1..] {
        if key.doctor != first.doctor || key.start != end {
            return Err(FhirError::invalid(
                "Appointment.slot",
                "slots must belong to one schedule and follow each other without gaps",
            ));
        }
        end = key.end;
    }
    Ok(Some(SlotKey { end, ..first }))
}

/// `appointmentType.coding` with Praxi's system → the type id.
fn read_type(object: &Map<String, Value>) -> FhirResult<Option<i64>> {
    let Some(kind) = object.get("appointmentType") else {
        return Ok(None);
    };
    let code = kind
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|coding| coding.get("system").and_then(Value::as_str) == Some(TYPE_SYSTEM))
        .and_then(|coding| coding.get("code").and_then(Value::as_str));
    match code {
        Some(code) => code.parse::<i64>().map(Some).map_err(|_| {
            FhirError::invalid(
                "Appointment.appointmentType",
                format!("'{code}' is not a type id"),
            )
        }),
        None => Err(FhirError::invalid(
            "Appointment.appointmentType",
            format!("appointmentType needs a coding with system {TYPE_SYSTEM}"),
        )),
    }
}

/// The booking a create body asks for.
fn read_booking(object: &Map<String, Value>) -> FhirResult<AppointmentInput> {
    match string_at(object, "status")? {
        None | Some("booked" | "pending" | "proposed") => {}
        Some(other) => {
            return Err(FhirError::invalid(
                "Appointment.status",
                format!(
                    "a new appointment cannot have status '{other}' (booked, pending, proposed)"
                ),
            ));
        }
    }
    let actors = read_participants(object)?;
    let slot = read_slots(object)?;
    let mut start = instant_at(object, "start")?;
    let mut end = instant_at(object, "end")?;
    let mut doctor = actors.practitioner;
    if let Some(slot) = slot {
        if start.is_some_and(|start| start != slot.start) {
            return Err(FhirError::invalid(
                "Appointment.start",
                "start differs from the slot's start",
            ));
        }
        if end.is_some_and(|end| end != slot.end) {
            return Err(FhirError::invalid(
                "Appointment.end",
                "end differs from the slot's end",
            ));
        }
        if doctor.is_some_and(|doctor| doctor != slot.doctor) {
            return Err(FhirError::invalid(
                "Appointment.participant",
                "the Practitioner is not the slot's schedule",
            ));
        }
        start = Some(slot.start);
        end = Some(slot.end);
        doctor = Some(slot.doctor);
    }
    let patient = actors.patient.ok_or_else(|| {
        FhirError::invalid(
            "Appointment.participant",
            "a Patient participant is required",
        )
    })?;
    let doctor = doctor.ok_or_else(|| {
        FhirError::invalid(
            "Appointment.participant",
            "a Practitioner participant (or a slot) is required",
        )
    })?;
    let start = start
        .ok_or_else(|| FhirError::invalid("Appointment.start", "start (or a slot) is required"))?;
    let end =
        end.ok_or_else(|| FhirError::invalid("Appointment.end", "end (or a slot) is required"))?;
    Ok(AppointmentInput {
        patient_id: Some(patient),
        doctor: Some(doctor),
        type_id: read_type(object)?.map(Some),
        resource_ids: (!actors.resources.is_empty()).then_some(actors.resources),
        start_time: Some(start),
        end_time: Some(end),
        status: None,
        notes: string_at(object, "comment")?.map(|text| Some(text.to_owned())),
        ..AppointmentInput::default()
    })
}

async fn create(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> FhirResult<Response> {
    let decision = user.require(Area::Appointments, Action::Create)?;
    let object = read_body(&headers, &bytes(body)?, "Appointment")?;
    let input = read_booking(&object)?;
    let record = appointments::book(&state, &user.caller(), decision, input)
        .await
        .map_err(|failure| failure_error(failure, ""))?;
    let mut response = tagged(StatusCode::CREATED, &record, &state);
    let location = format!(
        "{}/Appointment/{}/_history/{}",
        base_url(&headers),
        record.id,
        version(&record)
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

// ---- cancel through the status ----------------------------------------------------------------

async fn update_put(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> FhirResult<Response> {
    let decision = user.require(Area::Appointments, Action::Update)?;
    let object = read_body(&headers, &bytes(body)?, "Appointment")?;
    match string_at(&object, "id")? {
        Some(body_id) if body_id == id => {}
        _ => {
            return Err(FhirError::invalid(
                "Appointment.id",
                "the body's id must be the id in the URL",
            ));
        }
    }
    let status = string_at(&object, "status")?
        .ok_or_else(|| FhirError::invalid("Appointment.status", "status is required"))?
        .to_owned();
    let record = visible_for_write(&state, &user, decision, &id).await?;
    // Only the status may change here: the rest of the body must describe the stored booking.
    let start = instant_at(&object, "start")?;
    let end = instant_at(&object, "end")?;
    let actors = read_participants(&object)?;
    let moved = start.is_some_and(|start| start != record.start_time)
        || end.is_some_and(|end| end != record.end_time)
        || actors
            .patient
            .is_some_and(|patient| patient != i64::from(record.patient_id))
        || actors
            .practitioner
            .is_some_and(|doctor| doctor != record.doctor_id);
    if moved {
        return Err(FhirError::new(
            StatusCode::BAD_REQUEST,
            "not-supported",
            "only the status can be changed through FHIR (status=cancelled cancels); move or \
             re-assign the appointment through the API",
        )
        .at("Appointment"));
    }
    change_status(&state, &user, decision, &record, &status, &headers).await
}

async fn update_patch(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> FhirResult<Response> {
    let decision = user.require(Area::Appointments, Action::Update)?;
    let status = patch_status(&headers, &bytes(body)?)?;
    let record = visible_for_write(&state, &user, decision, &id).await?;
    change_status(&state, &user, decision, &record, &status, &headers).await
}

/// The status a PATCH sets: a JSON Patch (`application/json-patch+json`) replacing `/status`,
/// or a partial resource (`{"resourceType": "Appointment", "status": …}`).
fn patch_status(headers: &HeaderMap, body: &Bytes) -> FhirResult<String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let only_status = || {
        FhirError::new(
            StatusCode::BAD_REQUEST,
            "not-supported",
            "a PATCH may only set the status (replace /status)",
        )
        .at("Appointment.status")
    };
    if essence == "application/json-patch+json" {
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| FhirError::invalid("Appointment", format!("invalid JSON: {error}")))?;
        let Some([operation]) = value.as_array().map(Vec::as_slice) else {
            return Err(only_status());
        };
        let op = operation.get("op").and_then(Value::as_str);
        let path = operation.get("path").and_then(Value::as_str);
        return match (op, path, operation.get("value").and_then(Value::as_str)) {
            (Some("replace" | "add"), Some("/status"), Some(status)) => Ok(status.to_owned()),
            _ => Err(only_status()),
        };
    }
    let mut object = read_body(headers, body, "Appointment")?;
    object.remove("resourceType");
    object.remove("id");
    let status = string_at(&object, "status")?
        .ok_or_else(|| FhirError::invalid("Appointment.status", "status is required"))?
        .to_owned();
    object.remove("status");
    if !object.is_empty() {
        return Err(only_status());
    }
    Ok(status)
}

async fn visible_for_write(
    state: &AppState,
    user: &FhirUser,
    decision: Decision,
    id: &str,
) -> FhirResult<AppointmentRecord> {
    let number = numeric_id("Appointment", id)?;
    appointments::visible(state, &user.caller(), decision, number)
        .await
        .map_err(|failure| failure_error(failure, id))
}

/// `cancelled` → the cancel use case; the current status → no change; anything else → 400.
async fn change_status(
    state: &AppState,
    user: &FhirUser,
    decision: Decision,
    record: &AppointmentRecord,
    status: &str,
    headers: &HeaderMap,
) -> FhirResult<Response> {
    let if_match = IfMatch::from_headers(headers);
    let id = record.id.to_string();
    if status == "cancelled" {
        let cancelled = appointments::cancel(state, &user.caller(), decision, record, &if_match)
            .await
            .map_err(|failure| failure_error(failure, &id))?;
        return Ok(tagged(StatusCode::OK, &cancelled, state));
    }
    if status == fhir_status(record) {
        if !if_match.allows(&appointment_etag(record)) {
            return Err(failure_error(
                Failure::Refused(AppointmentRefusal::Stale),
                &id,
            ));
        }
        return Ok(tagged(StatusCode::OK, record, state));
    }
    if !STATUSES.contains(&status) {
        return Err(FhirError::invalid(
            "Appointment.status",
            format!("'{status}' is not an appointment status"),
        ));
    }
    Err(FhirError::new(
        StatusCode::BAD_REQUEST,
        "not-supported",
        format!(
            "status '{}' cannot be changed to '{status}' through FHIR; only cancellation \
             (status=cancelled) is supported",
            fhir_status(record)
        ),
    )
    .at("Appointment.status"))
}
