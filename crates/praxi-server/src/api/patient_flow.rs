//! `/api/patient-flow/` (api.md §3.18, scheduling.md §5): the waiting room. List, live board,
//! create, detail, update, status change and delete.
//!
//! The status machine and the write rules live in [`praxi_domain::flow`]; the store applies
//! them race-free and keeps the status history the wait and treatment times are computed from.
//! Every change is published on the `patient-flow` board (ids and status only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate};
use praxi_domain::FieldErrors;
use praxi_domain::flow::{
    FlowLink, FlowStatus, FlowUpdate, Transition, TransitionError, initial_state, may_delete,
};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::flow::{FlowFilter, FlowRecord, FlowWrite, LiveWindow, NewFlow, invalid_pk};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Query;
use crate::api::appointments::{appointment_json, local_days};
use crate::api::operations::operation_json;
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody, parse_date_str};
use crate::error::{ApiError, ApiResult};
use crate::events::Board;
use crate::state::AppState;
use crate::usecases::flow::{self, FlowRefusal, FlowStart};
use crate::usecases::{Caller, Failure};
use crate::wire;

const MODEL: &str = "PatientFlow";
const RESOURCE: Area = Area::PatientFlow;

/// How long a status change keeps a flow on today's live board (a patient registered late in
/// the evening is still shown after midnight).
const LIVE_RECENT_HOURS: i64 = 12;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/patient-flow/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/patient-flow/live/",
            get(live).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/patient-flow/{id}/",
            get(detail)
                .put(update)
                .patch(update)
                .delete(delete)
                .fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/patient-flow/{id}/status/",
            patch(change_status).fallback(method_fallback(RESOURCE)),
        )
}

// ---- shapes ----------------------------------------------------------------------------

/// The PatientFlowRead shape (api.md §3.0), keys in the original's order.
fn flow_json(record: &FlowRecord, state: &AppState) -> Value {
    let tz = state.tz();
    let times = record.times(state.now());
    json!({
        "id": record.id,
        "appointment": record.appointment.as_ref().map(|a| appointment_json(a, state)),
        "operation": record.operation.as_ref().map(|o| operation_json(o, state)),
        "status": record.status.as_str(),
        "arrival_time": wire::opt_datetime(record.arrival_time, tz),
        "status_changed_at": wire::datetime(record.status_changed_at, tz),
        "notes": record.notes,
        "wait_time_minutes": times.wait_minutes,
        "treatment_time_minutes": times.treatment_minutes,
    })
}

/// The short write shape the original answers `PUT`/`PATCH` with.
fn write_json(record: &FlowRecord, state: &AppState) -> Value {
    json!({
        "status": record.status.as_str(),
        "arrival_time": wire::opt_datetime(record.arrival_time, state.tz()),
        "notes": record.notes,
    })
}

/// Fields of the read shape that clients may echo back; ignored on writes.
const READ_ONLY: [&str; 7] = [
    "id",
    "appointment",
    "operation",
    "status_changed_at",
    "wait_time_minutes",
    "treatment_time_minutes",
    "created_at",
];

// ---- reads -----------------------------------------------------------------------------

/// A doctor's lists hold only their own flows.
fn list_filter(decision: Decision, auth: &AuthUser) -> FlowFilter {
    FlowFilter {
        member: (decision == Decision::Filtered).then_some(auth.user.id),
        ..Default::default()
    }
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let flows = state
        .store
        .patient_flows(&list_filter(decision, &auth))
        .await?;
    respond_list(&state, &auth, &flows, json!({"count": flows.len()})).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct LiveQuery {
    date: Option<String>,
}

/// The live board (W15): flows not `done` whose appointment or operation is on the day, or
/// whose status changed recently. Without `date` the day is today and "recently" the last 12
/// hours; with `date=YYYY-MM-DD` it is that local day and changes during it.
async fn live(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<LiveQuery>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let date = match query
        .date
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(text) => Some(parse_date_str(text).ok_or_else(|| {
            ApiError::field(
                "date",
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            )
        })?),
    };
    let day_of = |date: NaiveDate| {
        local_days(&state, date, date)
            .ok_or_else(|| ApiError::field("date", "date is outside the supported range."))
    };
    let window = match date {
        Some(date) => {
            let day = day_of(date)?;
            LiveWindow {
                day,
                changed_from: day.start(),
                changed_until: Some(day.end()),
            }
        }
        None => LiveWindow {
            day: day_of(state.today())?,
            changed_from: state.now() - Duration::hours(LIVE_RECENT_HOURS),
            changed_until: None,
        },
    };
    let filter = FlowFilter {
        live: Some(window),
        ..list_filter(decision, &auth)
    };
    let flows = state.store.patient_flows(&filter).await?;
    let mut meta = json!({"live": true, "count": flows.len()});
    if let Some(date) = date {
        meta["date"] = json!(date);
    }
    respond_list(&state, &auth, &flows, meta).await
}

/// Renders a list and writes its one `patient_flow_view` audit row.
async fn respond_list(
    state: &AppState,
    auth: &AuthUser,
    flows: &[FlowRecord],
    meta: Value,
) -> ApiResult<Json<Value>> {
    let body = flows.iter().map(|flow| flow_json(flow, state)).collect();
    state
        .store
        .record_audit(
            &auth
                .audit("patient_flow_view", None, Some(meta))
                .with_subjects(flows.iter().filter_map(FlowRecord::patient_id)),
        )
        .await?;
    Ok(Json(Value::Array(body)))
}

/// A flow the caller may see: unknown and (for doctors) foreign flows are a 404.
async fn find(
    state: &AppState,
    auth: &AuthUser,
    decision: Decision,
    id: i64,
) -> ApiResult<FlowRecord> {
    let record = state
        .store
        .patient_flow(id)
        .await?
        .ok_or(ApiError::NotFound(MODEL))?;
    AuthUser::check_own(decision, record.is_own(auth.user.id), MODEL)?;
    Ok(record)
}

async fn detail(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::Read, MODEL)?;
    let record = find(&state, &auth, decision, id).await?;
    state
        .store
        .record_audit(&auth.audit(
            "patient_flow_view",
            record.patient_id(),
            Some(json!({"flow_id": record.id})),
        ))
        .await?;
    Ok(Json(flow_json(&record, &state)))
}

// ---- writes ----------------------------------------------------------------------------

/// Reads `status` as a choice.
fn read_status(fields: &mut Fields) -> Option<FlowStatus> {
    let text = fields.string("status")?;
    let status = FlowStatus::parse(&text);
    if status.is_none() {
        fields
            .errors_mut()
            .add("status", format!("\"{text}\" is not a valid choice."));
    }
    status
}

/// Adds every message of a domain error to the collected ones.
fn merge(errors: &mut FieldErrors, error: &praxi_domain::ValidationError) {
    for (field, messages) in error.0.fields() {
        for message in messages {
            errors.add(field, message.clone());
        }
    }
}

/// The object-level link rule (exactly one of appointment and operation). As in DRF it is
/// only reported when every field is valid on its own.
fn check_link_rule(fields: &mut Fields, link: &Result<FlowLink, praxi_domain::ValidationError>) {
    if let Err(error) = link
        && fields.errors_mut().is_empty()
    {
        merge(fields.errors_mut(), error);
    }
}

/// The audit-row builder the store calls for each row it writes.
fn auditor(
    auth: &AuthUser,
) -> impl Fn(&str, Option<i32>, Value) -> praxi_store::audit::AuditEntry + Send + Sync + '_ {
    move |action, patient_id, meta| auth.audit(action, patient_id, Some(meta))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let decision = auth.require(RESOURCE, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let appointment_id = fields.opt_int("appointment_id");
    let operation_id = fields.opt_int("operation_id");
    let status = read_status(&mut fields);
    let arrival_time = fields.opt_datetime("arrival_time").flatten();
    let notes = fields.opt_string("notes").flatten();
    let now = state.now();
    let initial = initial_state(status, arrival_time, notes, now);
    if let Err(error) = &initial {
        merge(fields.errors_mut(), error);
    }
    let link = FlowLink::from_ids(appointment_id.flatten(), operation_id.flatten());
    check_link_rule(&mut fields, &link);
    fields.finish()?;
    let (link, initial) = (link?, initial?);
    let caller = Caller::from(&auth);
    let flow = NewFlow {
        link,
        state: initial,
    };
    let record = flow::create(&state, &caller, decision, flow, now, FlowStart::AsRequested)
        .await
        .map_err(flow_failure)?;
    Ok((StatusCode::CREATED, Json(flow_json(&record, &state))))
}

/// A `done` flow is read-only: admin and assistant are refused by the object permission (403),
/// callers the policy restricts to their own flows (doctors) by the field rule (400), as in
/// the original (api.md §2.2).
fn refuse_done(decision: Decision, record: &FlowRecord) -> ApiResult<()> {
    flow::writable(decision, record).map_err(flow_error)
}

/// Renders a refusal of the patient-flow use cases as the original's answer.
fn flow_error(refusal: FlowRefusal) -> ApiError {
    match refusal {
        FlowRefusal::NotFound => ApiError::NotFound(MODEL),
        FlowRefusal::Denied(denial) => ApiError::from_denial(denial, MODEL),
        FlowRefusal::ReadOnly {
            by_field_rule: true,
        } => TransitionError::ReadOnly.into_validation().into(),
        FlowRefusal::ReadOnly {
            by_field_rule: false,
        } => ApiError::Forbidden,
        FlowRefusal::Transition(error) => error.into_validation().into(),
        FlowRefusal::Stale => ApiError::field("status", "stale"),
        FlowRefusal::Unlinked => {
            ApiError::internal("patient flow without appointment or operation")
        }
        FlowRefusal::UnknownLink(FlowLink::Appointment(id)) => {
            ApiError::field("appointment_id", invalid_pk(id))
        }
        FlowRefusal::UnknownLink(FlowLink::Operation(id)) => {
            ApiError::field("operation_id", invalid_pk(id))
        }
        // Arrival rules of the board; the API starts flows as requested.
        FlowRefusal::NotExpected | FlowRefusal::AlreadyArrived => {
            ApiError::internal("arrival rule on an API request")
        }
    }
}

fn flow_failure(failure: Failure<FlowRefusal>) -> ApiError {
    match failure {
        Failure::Refused(refusal) => flow_error(refusal),
        Failure::Store(error) => error.into(),
    }
}

/// `PUT` and `PATCH` (both partial, as in the original): status, arrival time, notes and the
/// link; answers with the short write shape.
async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::Update, MODEL)?;
    let current = find(&state, &auth, decision, id).await?;
    refuse_done(decision, &current)?;
    let stored_link = current
        .link()
        .ok_or_else(|| ApiError::internal("patient flow without appointment or operation"))?;
    let mut fields = Fields::new(body, state.tz());
    fields.ignore(&READ_ONLY);
    let appointment_id = fields
        .opt_int("appointment_id")
        .unwrap_or(stored_link.appointment_id());
    let operation_id = fields
        .opt_int("operation_id")
        .unwrap_or(stored_link.operation_id());
    let update = FlowUpdate {
        status: read_status(&mut fields),
        arrival_time: fields.opt_datetime("arrival_time"),
        notes: fields.opt_string("notes"),
    };
    let link = FlowLink::from_ids(appointment_id, operation_id);
    check_link_rule(&mut fields, &link);
    fields.finish()?;
    let link = link?;
    if link != stored_link {
        // Moving a flow links it anew: the create rule applies (a doctor's own only, 403).
        let link_decision = auth.require(RESOURCE, Action::Create, MODEL)?;
        flow::check_link(&state, &Caller::from(&auth), link_decision, link)
            .await
            .map_err(flow_failure)?;
    }
    let (record, transition) = state
        .store
        .update_patient_flow(
            &current,
            link,
            update,
            FlowWrite::Update,
            Some(auth.user.id),
            state.now(),
            auditor(&auth),
        )
        .await?;
    let kind = match transition {
        Transition::Changed { .. } => "flow.status",
        Transition::Unchanged(_) => "flow.updated",
    };
    publish(&state, kind, &record).await;
    Ok(Json(write_json(&record, &state)))
}

/// `PATCH …/status/ {"status"}`: one step of the chain (or the same status again; `{}` keeps
/// it). Answers with the full read shape.
async fn change_status(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::Update, MODEL)?;
    let current = find(&state, &auth, decision, id).await?;
    refuse_done(decision, &current)?;
    let mut fields = Fields::new(body, state.tz());
    let to = read_status(&mut fields);
    fields.finish()?;
    let record = flow::change_status(&state, &Caller::from(&auth), decision, &current, to, None)
        .await
        .map_err(flow_failure)?;
    Ok(Json(flow_json(&record, &state)))
}

/// Deletes a flow that is not `done` (a finished flow is kept for everyone, api.md §5 item 4).
async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    let decision = auth.require(RESOURCE, Action::Delete, MODEL)?;
    let current = find(&state, &auth, decision, id).await?;
    if !may_delete(current.status) {
        return Err(ApiError::Forbidden);
    }
    state
        .store
        .delete_patient_flow(&current, auditor(&auth))
        .await?;
    publish(&state, "flow.deleted", &current).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Tells the live board (after the commit; ids and status only).
async fn publish(state: &AppState, kind: &str, record: &FlowRecord) {
    state
        .events
        .notify(
            Board::PatientFlow,
            kind,
            record.id,
            Some(record.status.as_str()),
        )
        .await;
}
