//! `/api/appointments/` (api.md §3.2): list, create, detail, update, delete, mark-no-show and
//! suggest. Every create and update goes through the scheduling engine inside one locked
//! transaction (see `praxi_store::appointments`), so double bookings are impossible.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use praxi_domain::appointment::{AppointmentStatus, NoShowProblem};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{Buffers, ResourceId, SlotDuration, SlotQuery, UserId};
use praxi_store::appointments::{AppointmentFilter, AppointmentRecord, ResourceInfo, TypeInfo};
use praxi_store::schedule::{HoldFilter, ScheduleScope};
use praxi_store::users::UserRecord;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) use crate::usecases::local_days;
pub(crate) use crate::wire::scheduling_conflicts_json;

use crate::api::Query;
use crate::api::params::{self, EmptyParts, detail_error, int_param};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::appointments::{
    self, AppointmentInput, AppointmentRefusal, BookingConflict, DraftProblem, MODEL,
    appointment_etag,
};
use crate::usecases::{Caller, Failure, IfMatch};
use crate::wire::{self, PageRequest};

const ONLY_OWN: &str = "Ärzte dürfen nur eigene Termine anlegen/ändern.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/appointments/",
            get(list)
                .post(create)
                .fallback(method_fallback(Area::Appointments)),
        )
        .route(
            "/api/appointments/suggest/",
            get(suggest).fallback(method_fallback(Area::AppointmentSuggest)),
        )
        .route(
            "/api/appointments/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(Area::Appointments)),
        )
        .route(
            "/api/appointments/{id}/mark-no-show/",
            post(mark_no_show).fallback(method_fallback(Area::Appointments)),
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
    let mut body = json!({
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
        "status": record.status.as_str(),
        "is_no_show": record.is_no_show,
        "notes": record.notes.clone().unwrap_or_default(),
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    });
    // Only a booking made with an audited override carries these (issue #14): the original
    // shape stays as it was for every other appointment.
    if !record.overridden.is_empty()
        && let Value::Object(map) = &mut body
    {
        map.insert("override_reason".to_owned(), json!(record.override_reason));
        map.insert("overridden".to_owned(), json!(record.overridden));
    }
    body
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
    params::query_date(name, value, parse_date_str)
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::Appointments, Action::List, MODEL)?;
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
    let audit = |shown: &[AppointmentRecord]| {
        auth.audit(
            "appointment_list",
            None,
            Some(json!({"count": records.len()})),
        )
        .with_subjects(shown.iter().map(|record| record.patient_id))
    };
    // The original's plain array; a client asking for pages gets the page envelope (spec
    // README rule 5).
    if query.page.is_none() && query.page_size.is_none() {
        state.store.record_audit(&audit(&records)).await?;
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
    let shown: &[AppointmentRecord] = records
        .get(usize::try_from(offset).unwrap_or(usize::MAX)..)
        .unwrap_or_default();
    let shown = &shown[..shown
        .len()
        .min(usize::try_from(request.page_size).unwrap_or(usize::MAX))];
    state.store.record_audit(&audit(shown)).await?;
    let results = shown
        .iter()
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

/// The caller of a request, as the use cases take it.
fn caller(auth: &AuthUser) -> Caller {
    Caller::from(auth)
}

/// Renders a refusal of the appointment use cases as the original's DRF body.
pub(crate) fn refusal_error(refusal: AppointmentRefusal, state: &AppState) -> ApiError {
    match refusal {
        AppointmentRefusal::NotFound => ApiError::NotFound(MODEL),
        AppointmentRefusal::Denied(denial) => ApiError::from_denial(denial, MODEL),
        AppointmentRefusal::Invalid(problem) => {
            ApiError::field(problem_field(&problem), problem_message(&problem))
        }
        AppointmentRefusal::Conflict { conflict, .. } => conflict_error(conflict, state),
        AppointmentRefusal::NoShow(problem) => {
            ApiError::Detail(no_show_message(problem).to_owned())
        }
        AppointmentRefusal::Stale => ApiError::PreconditionFailed(
            "The appointment was changed in the meantime (If-Match does not match); reload it \
             and try again."
                .to_owned(),
        ),
    }
}

fn api_error(failure: Failure<AppointmentRefusal>, state: &AppState) -> ApiError {
    match failure {
        Failure::Refused(refusal) => refusal_error(refusal, state),
        Failure::Store(error) => error.into(),
    }
}

/// A response with the appointment's `ETag`.
fn tagged(record: &AppointmentRecord, state: &AppState) -> Response {
    let mut response = Json(appointment_json(record, state)).into_response();
    if let Ok(value) = HeaderValue::from_str(&appointment_etag(record)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let decision = auth.require(Area::Appointments, Action::Read, MODEL)?;
    let record = appointments::visible(&state, &caller(&auth), decision, id)
        .await
        .map_err(|failure| api_error(failure, &state))?;
    state
        .store
        .record_audit(&auth.audit("appointment_view", Some(record.patient_id), None))
        .await?;
    Ok(tagged(&record, &state))
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
    let status = match fields.opt_string("status").flatten() {
        None => None,
        Some(text) => match text.parse::<AppointmentStatus>() {
            Ok(status) => Some(status),
            Err(unknown) => {
                fields.errors_mut().add("status", unknown.to_string());
                None
            }
        },
    };
    AppointmentInput {
        patient_id,
        doctor: fields.opt_int("doctor").flatten(),
        type_id: fields.opt_int("type"),
        resource_ids: fields.opt_id_list("resource_ids"),
        start_time: fields.opt_datetime("start_time").flatten(),
        end_time: fields.opt_datetime("end_time").flatten(),
        status,
        notes: fields.opt_string("notes"),
        override_reason: fields.opt_string("override_reason").flatten(),
        hold_id: fields.opt_int("hold_id").flatten(),
    }
}

/// The field the API names for a draft problem.
fn problem_field(problem: &DraftProblem) -> &'static str {
    match problem {
        DraftProblem::Incomplete => "non_field_errors",
        DraftProblem::PatientIdInvalid | DraftProblem::PatientUnknown(_) => "patient_id",
        DraftProblem::EndNotAfterStart | DraftProblem::TooLong => "end_time",
        DraftProblem::DoctorUnknown(_)
        | DraftProblem::NotADoctor
        | DraftProblem::DoctorInactive
        | DraftProblem::OnlyOwn => "doctor",
        DraftProblem::TypeUnknown(_) => "type",
        DraftProblem::ResourcesInvalid => "resource_ids",
        DraftProblem::OverrideReasonInvalid => "override_reason",
    }
}

/// The API's message for a draft problem (the original's wording).
fn problem_message(problem: &DraftProblem) -> String {
    match problem {
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
        DraftProblem::OverrideReasonInvalid => format!(
            "override_reason darf nicht leer und höchstens {} Zeichen lang sein.",
            crate::usecases::appointments::MAX_OVERRIDE_REASON_CHARS
        ),
    }
}

/// The API's message for a no-show refusal.
fn no_show_message(problem: NoShowProblem) -> &'static str {
    match problem {
        NoShowProblem::NotPast => "No-Show kann nur für vergangene Termine gesetzt werden.",
        NoShowProblem::WrongStatus => {
            "Nur geplante oder bestätigte Termine können als No-Show markiert werden."
        }
    }
}

/// The original's error body for a refused booking, plus a machine `code`.
fn conflict_error(conflict: BookingConflict, state: &AppState) -> ApiError {
    match conflict {
        BookingConflict::DoctorUnavailable {
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
        BookingConflict::Resource { .. } => ApiError::BadRequest(json!({
            "non_field_errors": ["Resource conflict"],
            "code": "resource_conflict",
        })),
        BookingConflict::Patient => ApiError::BadRequest(json!({
            "detail": ["Appointment conflict: patient already has an appointment in this time range."],
            "code": "patient_conflict",
        })),
        BookingConflict::Other(conflicts) => {
            ApiError::BadRequest(scheduling_conflicts_json(&conflicts))
        }
    }
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let decision = auth.require(Area::Appointments, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, true);
    fields.finish()?;
    let record = appointments::book(&state, &caller(&auth), decision, input)
        .await
        .map_err(|failure| api_error(failure, &state))?;
    Ok((StatusCode::CREATED, Json(appointment_json(&record, &state))))
}

async fn update_put(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    update(state, auth, id, &headers, body, true).await
}

async fn update_patch(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    update(state, auth, id, &headers, body, false).await
}

async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    headers: &HeaderMap,
    body: JsonBody,
    full: bool,
) -> ApiResult<Response> {
    let decision = auth.require(Area::Appointments, Action::Update, MODEL)?;
    let caller = caller(&auth);
    let fail = |failure| api_error(failure, &state);
    let stored = appointments::visible(&state, &caller, decision, id)
        .await
        .map_err(fail)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, full);
    fields.finish()?;
    let if_match = IfMatch::from_headers(headers);
    let record = appointments::change(&state, &caller, decision, &stored, input, &if_match)
        .await
        .map_err(fail)?;
    Ok(tagged(&record, &state))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let decision = auth.require(Area::Appointments, Action::Delete, MODEL)?;
    let caller = caller(&auth);
    let fail = |failure| api_error(failure, &state);
    let stored = appointments::visible(&state, &caller, decision, id)
        .await
        .map_err(fail)?;
    let if_match = IfMatch::from_headers(&headers);
    appointments::delete(&state, &caller, decision, stored.id, &if_match)
        .await
        .map_err(fail)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mark_no_show(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let decision = auth.require(Area::Appointments, Action::Update, MODEL)?;
    let caller = caller(&auth);
    let fail = |failure| api_error(failure, &state);
    let stored = appointments::visible(&state, &caller, decision, id)
        .await
        .map_err(fail)?;
    let if_match = IfMatch::from_headers(&headers);
    let record = appointments::mark_no_show(&state, &caller, decision, stored.id, &if_match)
        .await
        .map_err(fail)?;
    Ok(tagged(&record, &state))
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

async fn suggest(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SuggestQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::AppointmentSuggest, Action::List, MODEL)?;
    let doctor_id = int_param("doctor_id", query.doctor_id.as_deref())?;
    if decision != Decision::Allow && doctor_id != Some(auth.user.id) {
        return Err(ApiError::Forbidden);
    }
    let doctor_id =
        doctor_id.ok_or_else(|| detail_error("doctor_id query parameter is required."))?;
    let type_id = int_param("type_id", query.type_id.as_deref())?;
    let duration = int_param("duration_minutes", query.duration_minutes.as_deref())?;
    let start_date = params::start_date(&state, query.start_date.as_deref(), parse_date_str)?;
    let limit = params::limit(query.limit.as_deref(), 1)?;
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
    let resource_ids = params::id_list(
        "resource_ids",
        query.resource_ids.as_deref(),
        EmptyParts::Refuse,
    )?;
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
    slot_query.spacing = params::spacing(query.spacing.as_deref());
    slot_query.buffers = appointment_type
        .as_ref()
        .map_or(Buffers::NONE, |(info, _)| info.buffers);
    let period = params::search_period(&state, start_date, days)?;
    // Only the requested doctor's schedule first; everyone's only for the substitution.
    let scope = ScheduleScope {
        people: Some(vec![doctor.id]),
        patients: Vec::new(),
        resources: resource_ids.clone(),
        holds: Some(HoldFilter::alive_at(state.now())),
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
            holds: Some(HoldFilter::alive_at(state.now())),
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
