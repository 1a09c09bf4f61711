//! Patient (`Area::Patients`), Practitioner (doctors, `Area::Doctors`), Location (rooms) and
//! Device (devices, both `Area::Resources`): read and search.
//!
//! Patient reads write the API's audit rows (`patient_view`, `patient_search`: ids only, the
//! search values are never stored).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use praxi_domain::catalog::ResourceKind;
use praxi_domain::rbac::{Action, Area};
use praxi_store::admin_lists::Window;
use praxi_store::catalog::ResourceRecord;
use praxi_store::master_data::{CatalogFilter, CatalogSort};
use praxi_store::patients::{PatientQuery, PatientRecord};
use praxi_store::users::UserRecord;
use serde_json::{Value, json};

use super::search::{Params, bundle, date_range};
use super::{FhirError, FhirResult, FhirUser, base_url, fhir_response, meta, resource_response};
use crate::state::AppState;
use crate::usecases::master_data::{self, Refused, Resources};

/// The identifier system of patient numbers.
pub(crate) const PATIENT_NUMBER_SYSTEM: &str = "urn:praxi:patient-number";

/// Search results are capped at this many entries (`_count` may ask for fewer).
const MAX_COUNT: usize = 200;
const DEFAULT_COUNT: usize = 50;

pub(crate) fn router() -> Router<AppState> {
    let read_only = |path: &str, list, read| {
        Router::new()
            .route(path, list)
            .route(&format!("{path}/{{id}}"), read)
    };
    Router::new()
        .merge(read_only(
            "/Patient",
            get(search_patients).fallback(super::unsupported_method),
            get(read_patient).fallback(super::unsupported_method),
        ))
        .merge(read_only(
            "/Practitioner",
            get(search_practitioners).fallback(super::unsupported_method),
            get(read_practitioner).fallback(super::unsupported_method),
        ))
        .merge(read_only(
            "/Location",
            get(search_locations).fallback(super::unsupported_method),
            get(read_location).fallback(super::unsupported_method),
        ))
        .merge(read_only(
            "/Device",
            get(search_devices).fallback(super::unsupported_method),
            get(read_device).fallback(super::unsupported_method),
        ))
}

/// A FHIR id that must be a positive number here.
pub(crate) fn numeric_id(resource_type: &str, id: &str) -> FhirResult<i64> {
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FhirError::not_found(resource_type, id));
    }
    id.parse()
        .map_err(|_| FhirError::not_found(resource_type, id))
}

fn audit_meta(ids: &[i32]) -> Value {
    json!({"api": "fhir", "patient_ids": ids})
}

// ---- Patient ----------------------------------------------------------------------------------

/// Praxi's free-text gender as FHIR's administrative gender.
fn gender(text: &str) -> &'static str {
    match text.trim().to_lowercase().as_str() {
        "male" | "m" | "männlich" | "maennlich" | "mann" => "male",
        "female" | "f" | "w" | "weiblich" | "frau" => "female",
        "other" | "d" | "divers" | "diverse" | "x" => "other",
        _ => "unknown",
    }
}

pub(crate) fn patient_json(patient: &PatientRecord, state: &AppState) -> Value {
    let fields = &patient.fields;
    let mut resource = json!({
        "resourceType": "Patient",
        "id": patient.id.to_string(),
        "identifier": [{
            "use": "usual",
            "system": PATIENT_NUMBER_SYSTEM,
            "value": patient.id.to_string(),
        }],
        "active": true,
    });
    if let Some(updated_at) = patient.updated_at {
        resource["meta"] = meta(updated_at, state);
    }
    let mut name = json!({"use": "official"});
    if !fields.last_name.trim().is_empty() {
        name["family"] = json!(fields.last_name.trim());
    }
    if !fields.first_name.trim().is_empty() {
        name["given"] = json!([fields.first_name.trim()]);
    }
    if name.as_object().is_some_and(|object| object.len() > 1) {
        resource["name"] = json!([name]);
    }
    let mut telecom = Vec::new();
    if let Some(phone) = fields
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        telecom.push(json!({"system": "phone", "value": phone}));
    }
    if let Some(email) = fields
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        telecom.push(json!({"system": "email", "value": email}));
    }
    if !telecom.is_empty() {
        resource["telecom"] = Value::Array(telecom);
    }
    if let Some(text) = &fields.gender {
        resource["gender"] = json!(gender(text));
    }
    if let Some(birth_date) = fields.birth_date {
        resource["birthDate"] = json!(birth_date.format("%Y-%m-%d").to_string());
    }
    resource
}

async fn read_patient(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    user.require(Area::Patients, Action::Read)?;
    let number = numeric_id("Patient", &id)?;
    let patient = match i32::try_from(number) {
        Ok(number) => state.store.patient(number).await?,
        Err(_) => None,
    }
    .ok_or_else(|| FhirError::not_found("Patient", &id))?;
    state
        .store
        .record_audit(&user.0.audit(
            "patient_view",
            Some(patient.id),
            Some(json!({"api": "fhir"})),
        ))
        .await?;
    Ok(resource_response(&patient_json(&patient, &state)))
}

/// `identifier=[system|]value`: the patient number (other systems match nothing).
fn identifier(text: &str) -> FhirResult<Option<i32>> {
    let (system, value) = match text.split_once('|') {
        Some((system, value)) => (Some(system), value),
        None => (None, text),
    };
    if system.is_some_and(|system| !system.is_empty() && system != PATIENT_NUMBER_SYSTEM) {
        return Ok(None);
    }
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FhirError::invalid(
            "identifier",
            format!("'{text}' is not a patient number ({PATIENT_NUMBER_SYSTEM}|<number>)"),
        ));
    }
    Ok(Some(value.parse().unwrap_or(-1)))
}

async fn search_patients(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    user.require(Area::Patients, Action::List)?;
    let params = Params::parse(
        &uri,
        &["_id", "identifier", "name", "family", "given", "birthdate"],
    )?;
    let limit = params.count(DEFAULT_COUNT, MAX_COUNT)?;
    let mut ids = Vec::new();
    if let Some(id) = params.one("_id")? {
        ids.push(
            numeric_id("Patient", id)
                .ok()
                .and_then(|id| i32::try_from(id).ok())
                .unwrap_or(-1),
        );
    }
    if let Some(text) = params.one("identifier")? {
        ids.push(identifier(text)?.unwrap_or(-1));
    }
    let births = date_range(&params, "birthdate")?;
    let query = PatientQuery {
        id: ids.first().copied(),
        name_prefix: params.one("name")?.map(str::to_owned),
        family_prefix: params.one("family")?.map(str::to_owned),
        given_prefix: params.one("given")?.map(str::to_owned),
        born_from: births.from,
        born_until: births.until,
        limit: u64::try_from(limit + 1).unwrap_or(u64::MAX),
    };
    let conflicting_ids = ids.windows(2).any(|pair| pair[0] != pair[1]);
    let mut patients = if limit == 0 || births.is_empty() || conflicting_ids || ids.contains(&-1) {
        Vec::new()
    } else {
        state.store.find_patients(&query).await?
    };
    let complete = patients.len() <= limit;
    patients.truncate(limit);
    let found: Vec<i32> = patients.iter().map(|patient| patient.id).collect();
    state
        .store
        .record_audit(
            &user
                .0
                .audit("patient_search", None, Some(audit_meta(&found)))
                .with_subjects(found.iter().copied()),
        )
        .await?;
    let entries = patients
        .iter()
        .map(|patient| patient_json(patient, &state))
        .collect();
    let total = complete.then_some(found.len());
    Ok(fhir_response(
        axum::http::StatusCode::OK,
        &bundle(&base_url(&headers), &uri, entries, total),
    ))
}

// ---- Practitioner -----------------------------------------------------------------------------

pub(crate) fn is_doctor(user: &UserRecord) -> bool {
    user.role
        .as_ref()
        .is_some_and(|role| role.name == praxi_domain::Role::Doctor.name())
}

pub(crate) fn practitioner_json(doctor: &UserRecord) -> Value {
    let mut name = json!({"use": "official", "text": doctor.display_name()});
    if !doctor.last_name.trim().is_empty() {
        name["family"] = json!(doctor.last_name.trim());
    }
    if !doctor.first_name.trim().is_empty() {
        name["given"] = json!([doctor.first_name.trim()]);
    }
    json!({
        "resourceType": "Practitioner",
        "id": doctor.id.to_string(),
        "identifier": [{"system": "urn:praxi:username", "value": doctor.username}],
        "active": doctor.is_active,
        "name": [name],
    })
}

async fn read_practitioner(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    user.require(Area::Doctors, Action::Read)?;
    let doctor = find_doctor(&state, &id).await?;
    Ok(resource_response(&practitioner_json(&doctor)))
}

/// A doctor by FHIR id (users without the doctor role are not Practitioners here).
pub(crate) async fn find_doctor(state: &AppState, id: &str) -> FhirResult<UserRecord> {
    let number = numeric_id("Practitioner", id)?;
    state
        .store
        .user_by_id(number)
        .await?
        .filter(is_doctor)
        .ok_or_else(|| FhirError::not_found("Practitioner", id))
}

/// Whether a name part starts with the search text (case-insensitively).
fn name_matches(parts: &[&str], text: &str) -> bool {
    let text = text.to_lowercase();
    parts
        .iter()
        .any(|part| part.trim().to_lowercase().starts_with(&text))
}

async fn search_practitioners(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    user.require(Area::Doctors, Action::List)?;
    let params = Params::parse(&uri, &["_id", "name", "family", "given"])?;
    let limit = params.count(MAX_COUNT, MAX_COUNT)?;
    let id = params
        .one("_id")?
        .map(|id| numeric_id("Practitioner", id).unwrap_or(-1));
    let name = params.one("name")?;
    let family = params.one("family")?;
    let given = params.one("given")?;
    // Active doctors (a handful): filtered here.
    let doctors: Vec<UserRecord> = state
        .store
        .list_doctors()
        .await?
        .into_iter()
        .filter(|doctor| id.is_none_or(|id| doctor.id == id))
        .filter(|doctor| {
            name.is_none_or(|text| {
                name_matches(
                    &[&doctor.first_name, &doctor.last_name, &doctor.username],
                    text,
                )
            })
        })
        .filter(|doctor| family.is_none_or(|text| name_matches(&[&doctor.last_name], text)))
        .filter(|doctor| given.is_none_or(|text| name_matches(&[&doctor.first_name], text)))
        .collect();
    let total = doctors.len();
    let entries = doctors.iter().take(limit).map(practitioner_json).collect();
    Ok(fhir_response(
        axum::http::StatusCode::OK,
        &bundle(&base_url(&headers), &uri, entries, Some(total)),
    ))
}

// ---- Location and Device ----------------------------------------------------------------------

fn refused(error: Refused, resource_type: &str, id: &str) -> FhirError {
    match error {
        Refused::Denied(denial, _) => FhirError::denied(denial, resource_type, id),
        Refused::NotFound(_) => FhirError::not_found(resource_type, id),
        Refused::Invalid(errors) => FhirError::from(crate::error::ApiError::Validation(errors)),
        Refused::StillReferenced(what) => {
            FhirError::new(axum::http::StatusCode::CONFLICT, "conflict", what)
        }
        Refused::Store(error) => FhirError::from(error),
    }
}

pub(crate) fn location_json(room: &ResourceRecord, state: &AppState) -> Value {
    json!({
        "resourceType": "Location",
        "id": room.id.to_string(),
        "meta": meta(room.updated_at, state),
        "status": if room.fields.active { "active" } else { "inactive" },
        "name": room.fields.name,
        "mode": "instance",
        "physicalType": {
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                "code": "ro",
                "display": "Room",
            }],
        },
    })
}

pub(crate) fn device_json(device: &ResourceRecord, state: &AppState) -> Value {
    json!({
        "resourceType": "Device",
        "id": device.id.to_string(),
        "meta": meta(device.updated_at, state),
        "status": if device.fields.active { "active" } else { "inactive" },
        "deviceName": [{"name": device.fields.name, "type": "user-friendly-name"}],
    })
}

/// One room or device by FHIR id (a device is not a Location and vice versa).
async fn read_resource(
    state: &AppState,
    user: &FhirUser,
    id: &str,
    kind: ResourceKind,
) -> FhirResult<Value> {
    let resource_type = match kind {
        ResourceKind::Room => "Location",
        ResourceKind::Device => "Device",
    };
    let decision = user.require(Area::Resources, Action::Read)?;
    let number = numeric_id(resource_type, id)?;
    let record = master_data::view::<Resources>(state, &user.caller(), decision, number)
        .await
        .map_err(|error| refused(error, resource_type, id))?;
    if record.fields.kind != kind {
        return Err(FhirError::not_found(resource_type, id));
    }
    Ok(match kind {
        ResourceKind::Room => location_json(&record, state),
        ResourceKind::Device => device_json(&record, state),
    })
}

async fn read_location(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    Ok(resource_response(
        &read_resource(&state, &user, &id, ResourceKind::Room).await?,
    ))
}

async fn read_device(
    State(state): State<AppState>,
    user: FhirUser,
    Path(id): Path<String>,
) -> FhirResult<Response> {
    Ok(resource_response(
        &read_resource(&state, &user, &id, ResourceKind::Device).await?,
    ))
}

/// Rooms or devices: `_id`, `name` (prefix), `status` (active|inactive; default: all).
async fn search_resources(
    state: &AppState,
    user: &FhirUser,
    headers: &HeaderMap,
    uri: &Uri,
    kind: ResourceKind,
) -> FhirResult<Value> {
    let decision = user.require(Area::Resources, Action::List)?;
    let params = Params::parse(uri, &["_id", "name", "status"])?;
    let limit = params.count(MAX_COUNT, MAX_COUNT)?;
    let active = match params.one("status")? {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(other) => {
            return Err(FhirError::invalid(
                "status",
                format!("'{other}' is not a status (active, inactive)"),
            ));
        }
    };
    let id = params
        .one("_id")?
        .map(|text| numeric_id("Resource", text).unwrap_or(-1));
    let name = params.one("name")?;
    let filter = CatalogFilter {
        active,
        kind: Some(kind.as_str().to_owned()),
        ..CatalogFilter::default()
    };
    let (_, rows) = master_data::list::<Resources, Refused>(
        state,
        &user.caller(),
        decision,
        filter,
        (CatalogSort::Name, false),
        |total| {
            Ok(Window {
                offset: 0,
                limit: total,
            })
        },
    )
    .await
    .map_err(|error| refused(error, "", ""))?;
    let rows: Vec<&ResourceRecord> = rows
        .iter()
        .filter(|row| id.is_none_or(|id| row.id == id))
        .filter(|row| name.is_none_or(|text| name_matches(&[&row.fields.name], text)))
        .collect();
    let total = rows.len();
    let entries = rows
        .into_iter()
        .take(limit)
        .map(|row| match kind {
            ResourceKind::Room => location_json(row, state),
            ResourceKind::Device => device_json(row, state),
        })
        .collect();
    Ok(bundle(&base_url(headers), uri, entries, Some(total)))
}

async fn search_locations(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    let found = search_resources(&state, &user, &headers, &uri, ResourceKind::Room).await?;
    Ok(fhir_response(axum::http::StatusCode::OK, &found))
}

async fn search_devices(
    State(state): State<AppState>,
    user: FhirUser,
    headers: HeaderMap,
    uri: Uri,
) -> FhirResult<Response> {
    let found = search_resources(&state, &user, &headers, &uri, ResourceKind::Device).await?;
    Ok(fhir_response(axum::http::StatusCode::OK, &found))
}
