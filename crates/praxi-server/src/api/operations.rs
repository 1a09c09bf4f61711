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
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use praxi_domain::FieldErrors;
use praxi_domain::operation::{
    DeviceFacts, Durations, MemberFacts, OperationStatus, ReferenceFacts, ResourceFacts,
    RuleViolation, TeamIds, TransitionError, check_patient_id, check_references, check_transition,
    needs_fresh_snapshot, status_update,
};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{
    Conflict, ConflictKind, PatientId, PersonRole, ResourceId, SlotDuration, SlotQuery,
    SlotSpacing, SuggestError, local_day,
};
use praxi_domain::validation::REQUIRED;
use praxi_store::StoreError;
use praxi_store::appointments::{ResourceInfo, ScheduleCheck};
use praxi_store::catalog::OperationTypeRecord;
use praxi_store::operations::{
    OperationDraft, OperationFilter, OperationRecord, StoredOperation, TeamMember,
};
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Query;
use crate::api::appointments::{local_days, person_json, resource_json, scheduling_conflicts_json};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::events::Board;
use crate::state::AppState;
use crate::usecases::IfMatch;
use crate::usecases::operations::operation_etag;
use crate::wire;

const MODEL: &str = "Operation";
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
    match value.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => parse_day(text).map(Some).ok_or_else(|| {
            ApiError::field(
                name,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            )
        }),
    }
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
        .record_audit(&auth.audit(
            "operation_list",
            None,
            Some(json!({"count": records.len()})),
        ))
        .await?;
    Ok(Json(Value::Array(
        records.iter().map(|r| operation_json(r, &state)).collect(),
    )))
}

async fn find(state: &AppState, id: i64) -> ApiResult<OperationRecord> {
    state
        .store
        .operation(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Response> {
    let decision = auth.require(RESOURCE, Action::Read, MODEL)?;
    let record = find(&state, id).await?;
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

/// The answer to a stale `If-Match`.
fn precondition_failed() -> ApiError {
    ApiError::PreconditionFailed(
        "The operation was changed in the meantime (If-Match does not match); reload it and \
         try again."
            .to_owned(),
    )
}

/// How often an edit is recomputed when the row changed between its read and its write.
const EDIT_ATTEMPTS: usize = 3;

/// What the precondition of an edit found on the row re-read under its lock.
enum Precondition {
    /// `If-Match` names another state: 412.
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

/// The writable fields as sent (`None` = absent).
#[derive(Debug, Default, Clone)]
struct OperationInput {
    patient_id: Option<i32>,
    primary_surgeon: Option<i64>,
    assistant: Option<Option<i64>>,
    anesthesist: Option<Option<i64>>,
    op_room: Option<i64>,
    op_type: Option<i64>,
    op_device_ids: Option<Vec<i64>>,
    start_time: Option<DateTime<Utc>>,
    status: Option<OperationStatus>,
    notes: Option<Option<String>>,
}

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

// ---- reference resolution --------------------------------------------------------------

fn invalid_pk(id: impl std::fmt::Display) -> String {
    format!("Invalid pk \"{id}\" - object does not exist.")
}

/// A checked write: the row to save and whether the engine must look at it.
struct Resolved {
    draft: OperationDraft,
    check: ScheduleCheck,
}

/// What [`resolve`] refuses before the engine runs.
enum Refusal {
    Api(ApiError),
    /// The type lasts zero minutes: the "Operation conflict" body (audited).
    InvalidDuration(i32),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal::Api(error)
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::Api(error.into())
    }
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

fn member_facts(user: &UserRecord) -> MemberFacts {
    MemberFacts {
        is_doctor: user.role.as_ref().is_some_and(|role| role.name == "doctor"),
        is_active: user.is_active,
    }
}

fn resource_facts(resource: &ResourceInfo) -> ResourceFacts {
    ResourceFacts {
        kind: resource.resource_kind(),
        active: resource.active,
    }
}

/// Checks every reference of the write in the original's order (field errors, then the
/// rules of `praxi_domain::operation::check_references`, then the status transition) and
/// builds the draft. On update only what changes is validated again; the stored values fill
/// in what the body does not send.
async fn resolve(
    state: &AppState,
    input: OperationInput,
    stored: Option<&OperationRecord>,
) -> Result<Resolved, Refusal> {
    let incomplete = || ApiError::field("non_field_errors", "incomplete operation");
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

    // Field stage: every reference that is new to the operation must exist.
    let mut errors = FieldErrors::new();
    if stored.is_none_or(|s| s.patient_id != patient_id)
        && state.store.patient(patient_id).await?.is_none()
    {
        errors.add("patient_id", invalid_pk(patient_id));
    }
    let new_type: Option<OperationTypeRecord> = if stored.is_none_or(|s| s.op_type.id != op_type_id)
    {
        let found = state.store.operation_type(op_type_id).await?;
        if found.is_none() {
            errors.add("op_type", invalid_pk(op_type_id));
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
            errors.add("op_room", invalid_pk(room_id));
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
            None => errors.add(role.as_str(), invalid_pk(id)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors).into());
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
            return Err(ApiError::field(field, message).into());
        }
        Err(RuleViolation::InvalidDuration) => return Err(Refusal::InvalidDuration(patient_id)),
    }

    // Status: the one transition table, on create (initial status) and on change.
    let now = state.now();
    let status = match stored {
        None => {
            let status = input.status.unwrap_or(OperationStatus::Planned);
            check_transition(None, status, start_time, now)
                .map_err(|e| transition_error(None, e))?;
            status
        }
        Some(s) => status_update(s.status(), input.status, start_time, now)
            .map_err(|e| transition_error(Some(s.status()), e))?
            .unwrap_or(s.status()),
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

// ---- conflicts -------------------------------------------------------------------------

/// The original's "Operation conflict" body for `reason` (api.md §1.8), with the additive
/// `code` and, where known, `who` (the team role), `resource_id` and the conflicting row
/// (weak point W11). Writes the `operation_conflict` audit row first, as the original does
/// for every 400 that says "Operation conflict".
async fn operation_conflict(
    state: &AppState,
    auth: &AuthUser,
    patient_id: i32,
    reason: &str,
    conflict: Option<&Conflict>,
) -> ApiError {
    let mut body = json!({
        "detail": ["Operation conflict"],
        "reason": [reason],
        "code": "operation_conflict",
    });
    let mut meta = json!({ "reason": reason });
    let role: Option<PersonRole> = match conflict {
        Some(Conflict::Hours(h)) => Some(h.role),
        Some(Conflict::Absence(a)) => Some(a.role),
        Some(Conflict::Break(b)) => Some(b.role),
        Some(Conflict::Booking(b)) => b.role,
        None => None,
    };
    if let Some(role) = role {
        body["who"] = json!(role.as_str());
        meta["who"] = json!(role.as_str());
    }
    if let Some(Conflict::Booking(b)) = conflict {
        if let Some(resource) = b.resource {
            body["resource_id"] = json!(resource.0);
        }
        body["conflict"] = json!({"model": b.booking.model(), "id": b.booking.id()});
    }
    let audit = auth.audit("operation_conflict", Some(patient_id), Some(meta));
    if let Err(error) = state.store.record_audit(&audit).await {
        return error.into();
    }
    ApiError::BadRequest(body)
}

fn is_patient_conflict(conflict: &Conflict) -> bool {
    matches!(conflict, Conflict::Booking(b) if b.kind == ConflictKind::Patient)
}

/// Saves the draft; an engine refusal becomes the original's body: the first conflict's
/// reason, or the stage-2 "Scheduling conflicts detected" body when only the patient is busy.
/// `Ok(None)`: the row changed since `stored` was read (compute the edit again).
async fn save(
    state: &AppState,
    auth: &AuthUser,
    stored: Option<&OperationRecord>,
    resolved: Resolved,
    guard: Option<&Guard<'_>>,
) -> ApiResult<Option<OperationRecord>> {
    let Resolved { draft, check } = resolved;
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
            Some(auth.user.id),
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
            |_| auth.audit(action, Some(patient_id), meta),
        )
        .await;
    let result = match result {
        Ok(record) => Ok(record),
        Err(Precondition::Stale) => return Err(precondition_failed()),
        Err(Precondition::Changed) => return Ok(None),
        Err(Precondition::Store(error)) => Err(error),
    };
    match result {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::Scheduling(conflicts)) => {
            let first = conflicts.first();
            if is_patient_conflict(first) {
                let patient: Vec<Conflict> = conflicts
                    .conflicts()
                    .iter()
                    .filter(|c| is_patient_conflict(c))
                    .copied()
                    .collect();
                return Err(ApiError::BadRequest(scheduling_conflicts_json(&patient)));
            }
            Err(operation_conflict(
                state,
                auth,
                patient_id,
                first.operation_reason(),
                Some(first),
            )
            .await)
        }
        Err(other) => Err(other.into()),
    }
}

async fn write(
    state: &AppState,
    auth: &AuthUser,
    input: OperationInput,
    stored: Option<&OperationRecord>,
    guard: Option<&Guard<'_>>,
) -> ApiResult<Option<OperationRecord>> {
    match resolve(state, input, stored).await {
        Ok(resolved) => save(state, auth, stored, resolved, guard).await,
        Err(Refusal::Api(error)) => Err(error),
        Err(Refusal::InvalidDuration(patient_id)) => {
            Err(operation_conflict(state, auth, patient_id, "invalid_duration", None).await)
        }
    }
}

// ---- writes ----------------------------------------------------------------------------

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(RESOURCE, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, true);
    fields.finish()?;
    let record = write(&state, &auth, input, None, None)
        .await?
        .ok_or_else(|| ApiError::internal("a create has no precondition"))?;
    publish(&state, "operation.created", &record).await;
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

/// An edit is computed from the row as read and written only if the row re-read under its
/// lock inside the transaction is still that row (else it is computed again from the new
/// row, so a concurrent move is never undone); `If-Match` is checked on the re-read row.
async fn update(
    state: AppState,
    auth: AuthUser,
    id: i64,
    headers: &HeaderMap,
    body: JsonBody,
    full: bool,
) -> ApiResult<Response> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let mut stored = find(&state, id).await?;
    let mut fields = Fields::new(body, state.tz());
    let input = read_input(&mut fields, full);
    fields.finish()?;
    let if_match = IfMatch::from_headers(headers);
    for _ in 0..EDIT_ATTEMPTS {
        let guard = Guard {
            if_match: &if_match,
            read_tag: operation_etag(&stored),
        };
        if let Some(record) =
            write(&state, &auth, input.clone(), Some(&stored), Some(&guard)).await?
        {
            publish(&state, "operation.updated", &record).await;
            return Ok(tagged(&record, &state));
        }
        stored = find(&state, id).await?;
    }
    Err(ApiError::Unavailable {
        retry_after_secs: 1,
    })
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    auth.require(RESOURCE, Action::Delete, MODEL)?;
    let stored = find(&state, id).await?;
    let audit = auth.audit("operation_delete", Some(stored.patient_id), None);
    let if_match = IfMatch::from_headers(&headers);
    state
        .store
        .delete_operation_checked(
            stored.id,
            |row| {
                if if_match.allows(&operation_etag(row)) {
                    Ok(())
                } else {
                    Err(Precondition::Stale)
                }
            },
            &audit,
        )
        .await
        .map_err(|error| match error {
            Precondition::Stale => precondition_failed(),
            Precondition::Changed => ApiError::internal("delete has no read tag"),
            Precondition::Store(error) => error.into(),
        })?;
    publish(&state, "operation.deleted", &stored).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Tells the OP board (after the commit; id and status only, never patient data).
/// Operations show on the OP board and, through their room and devices, on the resource
/// calendar.
async fn publish(state: &AppState, kind: &str, record: &OperationRecord) {
    let status = Some(record.status.as_str());
    for board in [Board::OpBoard, Board::ResourceCalendar] {
        state.events.notify(board, kind, record.id, status).await;
    }
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

fn detail_error(message: impl Into<String>) -> ApiError {
    ApiError::Detail(message.into())
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn int_param(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| detail_error(format!("{name} must be an integer."))),
    }
}

fn required_param(name: &str, value: Option<&str>) -> ApiResult<i64> {
    int_param(name, value)?
        .ok_or_else(|| detail_error(format!("{name} query parameter is required.")))
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
    let device_ids: Vec<i64> = match non_empty(query.op_device_ids.as_deref()) {
        None => Vec::new(),
        Some(text) => {
            let mut ids = Vec::new();
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let id: i64 = part.parse().map_err(|_| {
                    detail_error("op_device_ids must be a comma-separated list of integers.")
                })?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        }
    };
    let start_date = match non_empty(query.start_date.as_deref()) {
        None => state.today(),
        Some(text) => parse_day(text)
            .ok_or_else(|| detail_error("start_date must be in format YYYY-MM-DD."))?,
    };
    let limit = int_param("limit", query.limit.as_deref())?.unwrap_or(3);
    if limit < 1 {
        return Err(detail_error("limit must be >= 1."));
    }
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
            slot_query.spacing = match query.spacing.as_deref() {
                Some("grid") => SlotSpacing::Grid,
                _ => SlotSpacing::BackToBack,
            };
            let span = u64::from(slot_query.days.clamp(1, 366)) - 1;
            let period = local_days(&state, start_date, start_date + chrono::Days::new(span))
                .ok_or_else(|| detail_error("start_date out of range."))?;
            let mut resources = vec![room.id];
            resources.extend(device_ids.iter().copied());
            let scope = ScheduleScope {
                people: Some(team.members().map(|(_, user)| user.0).collect()),
                patients: vec![patient],
                resources,
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
