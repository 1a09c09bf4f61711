//! `/api/operations/` (api.md §3.7): list, create, detail, update, delete and suggest.
//!
//! Every create and update goes through the scheduling engine inside one locked transaction
//! (see `praxi_store::operations`): room, devices, every team member and the patient are
//! checked on create **and** update, and every status change passes the one transition table
//! of `praxi_domain::operation`. Error bodies are the original's (api.md §1.8) with an
//! additive `code`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use praxi_domain::FieldErrors;
use praxi_domain::operation::{
    Durations, OperationStatus, ReferenceFacts, RuleViolation, TeamIds, TransitionError,
    check_patient_id, check_references,
};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{
    Conflict, PatientId, ResourceId, SlotDuration, SlotQuery, SuggestError, local_day,
};
use praxi_domain::validation::REQUIRED;
use praxi_store::operations::{OperationFilter, OperationRecord, TeamMember};
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Query;
use crate::api::appointments::{local_days, person_json, resource_json, scheduling_conflicts_json};
use crate::api::params::{self, EmptyParts, detail_error, int_param, non_empty, required_param};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::operations::{
    self, MODEL, OperationInput, OperationRefusal, conflict_role, member_facts, operation_etag,
};
use crate::usecases::{Caller, Failure, IfMatch};
use crate::wire;

const RESOURCE: Area = Area::Operations;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/operations/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/operations/suggest/",
            get(suggest).fallback(method_fallback(Area::OperationSuggest)),
        )
        .route(
            "/api/operations/{id}/",
            get(detail)
                .put(update_put)
                .patch(update_patch)
                .delete(delete)
                .fallback(method_fallback(RESOURCE)),
        )
}

// ---- read shape ------------------------------------------------------------------------

/// `{id, name, color}` of a team member.
fn member_json(member: &TeamMember) -> Value {
    json!({"id": member.id, "name": member.display_name(), "color": member.calendar_color})
}

/// OpTypeNested with the operation's own durations (its snapshot; the type's current values
/// for legacy rows without one), so `end_time − start_time` is always their sum.
pub(crate) fn op_type_json(record: &OperationRecord) -> Value {
    let durations = record.effective_durations();
    json!({
        "id": record.op_type.id,
        "name": record.op_type.name,
        "color": record.op_type.color,
        "prep_duration": durations.prep,
        "op_duration": durations.op,
        "post_duration": durations.post,
    })
}

/// The Team shape: `{primary_surgeon, assistant, anesthesist}`, each Person or null.
pub(crate) fn team_json(record: &OperationRecord) -> Value {
    json!({
        "primary_surgeon": member_json(&record.primary_surgeon),
        "assistant": record.assistant.as_ref().map(member_json),
        "anesthesist": record.anesthesist.as_ref().map(member_json),
    })
}

/// The OperationRead shape (api.md §3.0, §3.7), keys in the original's order.
pub(crate) fn operation_json(record: &OperationRecord, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "patient_id": record.patient_id,
        "patient_name": display_name(
            record.patient_id,
            &record.patient_first_name,
            &record.patient_last_name,
            record.patient_birth_date,
        ),
        "op_type": op_type_json(record),
        "op_room": resource_json(&record.room, state),
        "op_devices": record.devices.iter().map(|d| resource_json(d, state)).collect::<Vec<_>>(),
        "team": team_json(record),
        "start_time": wire::datetime(record.start_time, tz),
        "end_time": wire::datetime(record.end_time, tz),
        "color": record.op_type.color,
        "status": record.status,
        "notes": record.notes.clone().unwrap_or_default(),
        "created_at": wire::datetime(record.created_at, tz),
        "updated_at": wire::datetime(record.updated_at, tz),
    })
}

// ---- list and detail -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    date: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

/// `YYYY-MM-DD` within the years 1–9999 (Python's `date`, and every database's range).
fn parse_day(text: &str) -> Option<NaiveDate> {
    parse_date_str(text).filter(|date| (1..=9999).contains(&date.year()))
}

fn query_date(name: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    params::query_date(name, value, parse_day)
}

/// The day filter of the list: `date` (one local day) wins over `start_date`/`end_date`
/// (each optional, open-ended when absent); overlap semantics. `None` = an empty range.
fn list_filter(state: &AppState, query: &ListQuery) -> ApiResult<Option<OperationFilter>> {
    let date = query_date("date", query.date.as_deref())?;
    let start_date = query_date("start_date", query.start_date.as_deref())?;
    let end_date = query_date("end_date", query.end_date.as_deref())?;
    let mut filter = OperationFilter::default();
    match (date, start_date, end_date) {
        (Some(day), _, _) => filter.period = local_days(state, day, day),
        (None, Some(from), Some(to)) if to < from => return Ok(None),
        (None, from, to) => {
            filter.ends_after = from
                .and_then(|d| local_day(state.tz(), d))
                .map(|day| day.start());
            filter.starts_before = to
                .and_then(|d| local_day(state.tz(), d))
                .map(|day| day.end());
        }
    }
    Ok(Some(filter))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let records = match list_filter(&state, &query)? {
        None => Vec::new(),
        Some(mut filter) => {
            if decision == Decision::Filtered {
                filter.team_member = Some(auth.user.id);
            }
            state.store.operations(&filter).await?
        }
    };
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "operation_list",
                    None,
                    Some(json!({"count": records.len()})),
                )
                .with_subjects(records.iter().map(|record| record.patient_id)),
        )
        .await?;
    Ok(Json(Value::Array(
        records.iter().map(|r| operation_json(r, &state)).collect(),
    )))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let decision = auth.require(RESOURCE, Action::Read, MODEL)?;
    let record = operations::find(&state, id).await.map_err(api_error)?;
    AuthUser::check_own(decision, record.has_member(auth.user.id), MODEL)?;
    state
        .store
        .record_audit(&auth.audit("operation_view", Some(record.patient_id), None))
        .await?;
    Ok(tagged(&record, &state))
}

/// A response with the operation's `ETag`.
fn tagged(record: &OperationRecord, state: &AppState) -> Response {
    let mut response = Json(operation_json(record, state)).into_response();
    if let Ok(value) = HeaderValue::from_str(&operation_etag(record)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

// ---- body ------------------------------------------------------------------------------

/// Read-only fields of the read shape that clients may send back (`end_time` is derived).
const READ_ONLY: [&str; 8] = [
    "id",
    "patient_name",
    "op_devices",
    "team",
    "end_time",
    "color",
    "created_at",
    "updated_at",
];

/// A non-nullable field: a value, or `None` with the error recorded (missing when `required`,
/// null, or unparsable).
fn non_null<T>(
    fields: &mut Fields,
    name: &str,
    required: bool,
    read: impl FnOnce(&mut Fields, &str) -> Option<Option<T>>,
) -> Option<T> {
    let present = fields.has(name);
    match read(fields, name) {
        Some(Some(value)) => Some(value),
        Some(None) => {
            if !fields.errors_mut().contains(name) {
                fields.errors_mut().add(name, "This field may not be null.");
            }
            None
        }
        None => {
            if required && !present {
                fields.errors_mut().add(name, REQUIRED);
            }
            None
        }
    }
}

/// Reads the body; `full` (POST, PUT) requires `patient_id`, `primary_surgeon`, `op_room`,
/// `op_type` and `start_time`.
fn read_input(fields: &mut Fields, full: bool) -> OperationInput {
    fields.ignore(&READ_ONLY);
    let patient_id = non_null(fields, "patient_id", full, Fields::opt_int).and_then(|id| {
        check_patient_id(id)
            .map_err(|violation| {
                if let RuleViolation::Field { field, message } = violation {
                    fields.errors_mut().add(field, message);
                }
            })
            .ok()
    });
    let primary_surgeon = non_null(fields, "primary_surgeon", full, Fields::opt_int);
    let assistant = fields.opt_int("assistant");
    let anesthesist = fields.opt_int("anesthesist");
    let op_room = non_null(fields, "op_room", full, Fields::opt_int);
    let op_device_ids = fields.opt_id_list("op_device_ids");
    let op_type = non_null(fields, "op_type", full, Fields::opt_int);
    let start_time = non_null(fields, "start_time", full, Fields::opt_datetime);
    let status = non_null(fields, "status", false, Fields::opt_string).and_then(|value| {
        let status = OperationStatus::parse(&value);
        if status.is_none() {
            fields
                .errors_mut()
                .add("status", format!("\"{value}\" is not a valid choice."));
        }
        status
    });
    let notes = fields.opt_string("notes");
    OperationInput {
        patient_id,
        primary_surgeon,
        // `Some(None)` is an explicit null (or an unparsable id, already recorded as an
        // error, so the body is refused anyway).
        assistant,
        anesthesist,
        op_room,
        op_type,
        op_device_ids,
        start_time,
        status,
        notes,
    }
}

// ---- refusals --------------------------------------------------------------------------

fn invalid_pk(id: impl std::fmt::Display) -> String {
    format!("Invalid pk \"{id}\" - object does not exist.")
}

fn transition_error(from: Option<OperationStatus>, error: TransitionError) -> ApiError {
    match error {
        TransitionError::NotAllowed { to, .. } => ApiError::BadRequest(json!({
            "detail": error.detail(),
            "from": from.map(|s| s.as_str()),
            "to": to.as_str(),
            "code": error.code(),
        })),
        TransitionError::RunningBeforeStart => ApiError::BadRequest(json!({
            "detail": error.detail(),
            "code": error.code(),
        })),
    }
}

/// The original's "Operation conflict" body for `reason` (api.md §1.8), with the additive
/// `code` and, where known, `who` (the team role), `resource_id` and the conflicting row
/// (weak point W11).
fn operation_conflict(reason: &str, conflict: Option<&Conflict>) -> ApiError {
    let mut body = json!({
        "detail": ["Operation conflict"],
        "reason": [reason],
        "code": "operation_conflict",
    });
    if let Some(role) = conflict.and_then(conflict_role) {
        body["who"] = json!(role.as_str());
    }
    if let Some(Conflict::Booking(b)) = conflict {
        if let Some(resource) = b.resource {
            body["resource_id"] = json!(resource.0);
        }
        body["conflict"] = json!({"model": b.booking.model(), "id": b.booking.id()});
    }
    ApiError::BadRequest(body)
}

/// Renders a refusal of the operation use cases as the original's DRF body.
fn refusal_error(refusal: OperationRefusal) -> ApiError {
    match refusal {
        OperationRefusal::NotFound => ApiError::NotFound(MODEL),
        OperationRefusal::Incomplete => ApiError::field("non_field_errors", "incomplete operation"),
        OperationRefusal::UnknownReferences(unknown) => {
            let mut errors = FieldErrors::new();
            for (field, id) in unknown {
                errors.add(field, invalid_pk(id));
            }
            ApiError::Validation(errors)
        }
        OperationRefusal::Rule { field, message } => ApiError::field(field, message),
        OperationRefusal::Transition { from, error } => transition_error(from, error),
        OperationRefusal::Conflict { reason, conflict } => {
            operation_conflict(reason, conflict.as_ref())
        }
        OperationRefusal::PatientBusy(conflicts) => {
            ApiError::BadRequest(scheduling_conflicts_json(&conflicts))
        }
        OperationRefusal::Stale => ApiError::PreconditionFailed(
            "The operation was changed in the meantime (If-Match does not match); reload it and \
             try again."
                .to_owned(),
        ),
        OperationRefusal::Contended => ApiError::Unavailable {
            retry_after_secs: 1,
        },
    }
}

fn api_error(failure: Failure<OperationRefusal>) -> ApiError {
    match failure {
        Failure::Refused(refusal) => refusal_error(refusal),
        Failure::Store(error) => error.into(),
    }
}

// ---- writes ----------------------------------------------------------------------------

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let decision = auth.require(RESOURCE, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, true);
    fields.finish()?;
    let record = operations::create(&state, &Caller::from(&auth), decision, input)
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(operation_json(&record, &state))))
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
    let decision = auth.require(RESOURCE, Action::Update, MODEL)?;
    let stored = operations::find(&state, id).await.map_err(api_error)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, full);
    fields.finish()?;
    let if_match = IfMatch::from_headers(headers);
    let caller = Caller::from(&auth);
    let record = operations::change(&state, &caller, decision, stored, input, &if_match)
        .await
        .map_err(api_error)?;
    Ok(tagged(&record, &state))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let decision = auth.require(RESOURCE, Action::Delete, MODEL)?;
    let stored = operations::find(&state, id).await.map_err(api_error)?;
    let if_match = IfMatch::from_headers(&headers);
    operations::delete(&state, &Caller::from(&auth), decision, &stored, &if_match)
        .await
        .map_err(api_error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- suggest ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct SuggestQuery {
    patient_id: Option<String>,
    primary_surgeon_id: Option<String>,
    assistant_id: Option<String>,
    anesthesist_id: Option<String>,
    op_type_id: Option<String>,
    op_room_id: Option<String>,
    op_device_ids: Option<String>,
    start_date: Option<String>,
    limit: Option<String>,
    days: Option<String>,
    spacing: Option<String>,
}

/// A team member named in the query: an existing, active doctor.
async fn suggest_member(state: &AppState, key: &str, id: i64) -> ApiResult<UserRecord> {
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| detail_error(format!("{key} not found.")))?;
    let facts = member_facts(&user);
    if !facts.is_doctor {
        return Err(detail_error(format!(
            "{key} must reference a user with role \"doctor\"."
        )));
    }
    if !facts.is_active {
        return Err(detail_error(format!(
            "{key} must reference an active doctor."
        )));
    }
    Ok(user)
}

/// `GET /api/operations/suggest/`: free slots for the whole team, the room, the devices and
/// the patient (weak points W4, W6), computed by the engine from one schedule load.
async fn suggest(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SuggestQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(Area::OperationSuggest, Action::List, MODEL)?;
    let lenient_surgeon =
        non_empty(query.primary_surgeon_id.as_deref()).and_then(|v| v.parse().ok());
    if decision != Decision::Allow && lenient_surgeon != Some(auth.user.id) {
        return Err(ApiError::Forbidden);
    }
    let patient_id = required_param("patient_id", query.patient_id.as_deref())?;
    let surgeon_id = required_param("primary_surgeon_id", query.primary_surgeon_id.as_deref())?;
    let assistant_id = int_param("assistant_id", query.assistant_id.as_deref())?;
    let anesthesist_id = int_param("anesthesist_id", query.anesthesist_id.as_deref())?;
    let op_type_id = required_param("op_type_id", query.op_type_id.as_deref())?;
    let op_room_id = required_param("op_room_id", query.op_room_id.as_deref())?;
    let device_ids = params::id_list(
        "op_device_ids",
        query.op_device_ids.as_deref(),
        EmptyParts::Skip,
    )?;
    let start_date = params::start_date(&state, query.start_date.as_deref(), parse_day)?;
    let limit = params::limit(query.limit.as_deref(), 3)?;
    let days = int_param("days", query.days.as_deref())?.unwrap_or(1);

    let surgeon = suggest_member(&state, "primary_surgeon_id", surgeon_id).await?;
    let assistant = match assistant_id {
        Some(id) => Some(suggest_member(&state, "assistant_id", id).await?),
        None => None,
    };
    let anesthesist = match anesthesist_id {
        Some(id) => Some(suggest_member(&state, "anesthesist_id", id).await?),
        None => None,
    };
    let team_ids = TeamIds {
        primary_surgeon: surgeon.id,
        assistant: assistant.as_ref().map(|u| u.id),
        anesthesist: anesthesist.as_ref().map(|u| u.id),
    };
    let op_type = state
        .store
        .operation_type(op_type_id)
        .await?
        .ok_or_else(|| detail_error("op_type_id not found."))?;
    if !op_type.fields.active {
        return Err(detail_error("op_type_id is inactive."));
    }
    let room = state
        .store
        .resources_by_ids(&[op_room_id])
        .await?
        .into_iter()
        .find(|r| r.active)
        .ok_or_else(|| detail_error("op_room_id not found."))?;
    if room.kind != "room" {
        return Err(detail_error(
            "op_room_id must reference a Resource with type \"room\".",
        ));
    }
    let devices = state.store.resources_by_ids(&device_ids).await?;
    if devices.len() != device_ids.len() || devices.iter().any(|d| !d.active || d.kind != "device")
    {
        return Err(detail_error(
            "op_device_ids contains unknown or inactive device(s).",
        ));
    }
    let patient = i32::try_from(patient_id)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| detail_error("patient_id not found."))?;
    if state.store.patient(patient).await?.is_none() {
        return Err(detail_error("patient_id not found."));
    }
    let duplicates = ReferenceFacts {
        changed_team: Some(team_ids),
        ..Default::default()
    };
    if let Err(RuleViolation::Field { field, .. }) = check_references(&duplicates) {
        return Err(detail_error(format!(
            "{field}_id must not name a user who already has another team role."
        )));
    }
    let team = team_ids
        .distinct()
        .map_err(|_| detail_error("the team members must be different users."))?;
    let durations = Durations::from_type(
        op_type.fields.prep_duration,
        op_type.fields.op_duration,
        op_type.fields.post_duration,
    );

    let mut slots = Vec::new();
    match SlotDuration::for_operation(durations.prep, durations.op, durations.post) {
        Err(SuggestError::DurationTooShort) => {
            return Err(detail_error(
                "op_type_id has a total duration of 0 minutes.",
            ));
        }
        // Longer than a day: it cannot fit any working day.
        Err(_) => {}
        Ok(duration) => {
            let device_resources: Vec<ResourceId> =
                device_ids.iter().copied().map(ResourceId).collect();
            let mut slot_query = SlotQuery::for_operation(
                &team,
                ResourceId(room.id),
                &device_resources,
                Some(PatientId(patient)),
                duration,
                start_date,
            );
            slot_query.days = u32::try_from(days).unwrap_or(0);
            slot_query.limit = usize::try_from(limit).unwrap_or(usize::MAX);
            slot_query.spacing = params::spacing(query.spacing.as_deref());
            let period = params::search_period(&state, start_date, slot_query.days)?;
            let mut resources = vec![room.id];
            resources.extend(device_ids.iter().copied());
            let scope = ScheduleScope {
                people: Some(team.members().map(|(_, user)| user.0).collect()),
                patients: vec![patient],
                resources,
                holds: None,
            };
            let schedule = state.store.schedule(state.tz(), period, &scope).await?;
            slots = schedule
                .suggest(&slot_query, state.now())
                .map_err(|e| detail_error(format!("{e}.")))?;
        }
    }

    state
        .store
        .record_audit(&auth.audit(
            "operation_suggest",
            Some(patient),
            Some(json!({"primary_surgeon_id": surgeon.id})),
        ))
        .await?;
    let tz = state.tz();
    let suggestions: Vec<Value> = slots
        .iter()
        .map(|slot| {
            json!({
                "start_time": wire::datetime(slot.start(), tz),
                "end_time": wire::datetime(slot.end(), tz),
                "op_type": {"id": op_type.id, "name": op_type.fields.name, "color": op_type.fields.color},
                "op_room": {"id": room.id, "name": room.name, "color": room.color},
                "op_device_ids": device_ids,
            })
        })
        .collect();
    Ok(Json(json!({
        "primary_surgeon": person_json(&surgeon),
        "suggestions": suggestions,
    })))
}
