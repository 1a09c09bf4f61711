//! `/api/op-dashboard/` (api.md §3.9, scheduling.md §4.4, §6.1): the operations of a local day,
//! the live board of running operations, and the status endpoint of the OP board.
//!
//! The status endpoint decides with [`praxi_domain::operation::check_transition`], the one
//! transition table of every operation write path (so `done` and `cancelled` are terminal), and
//! writes through `Store::set_operation_status` (a conditional `UPDATE … WHERE status = $from`
//! plus a status-history row and the audit row, in one transaction). Every attempt after the
//! lookup is audited as `op_status_update` `{from, to, ok, detail?}`; every change is published
//! on the `op-board` event stream (id and status only). Items carry no patient data.

use axum::extract::{RawQuery, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use praxi_domain::operation::TransitionError;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::Interval;
use praxi_store::op_board::{BoardView, progress};
use praxi_store::operations::{OperationRecord, STALE_STATUS};
use serde_json::{Value, json};

use crate::api::appointments::{local_days, resource_json};
use crate::api::operations::{op_type_json, team_json};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::operations::{self, StatusRefusal, StatusRefused, StatusRequest};
use crate::usecases::{Caller, Failure};
use crate::wire;

const MODEL: &str = "Operation";
const RESOURCE: Area = Area::OpDashboard;

/// The original's messages (api.md §3.9, verified).
const DATE_REQUIRED: &str = "date query parameter is required (YYYY-MM-DD).";
const DATE_FORMAT: &str = "date must be in format YYYY-MM-DD.";
const STATUS_REQUIRED: &str = "status is required.";

pub(crate) fn router() -> Router<AppState> {
    // Other methods: 401 without credentials, 403 for roles that may not write here, else
    // 405 (the status path answers PATCH only).
    Router::new()
        .route(
            "/api/op-dashboard/",
            get(day).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/op-dashboard/live/",
            get(live).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/op-dashboard/{id}/status/",
            patch(change_status).fallback(method_fallback(RESOURCE)),
        )
}

// ---- shared with the timeline ----------------------------------------------------------

/// The required `date` query parameter of a board day view and its local day: a missing or
/// empty value answers `{"detail": required}`, anything but a `YYYY-MM-DD` date of the years
/// 1–9999 `{"detail": format}` (the last value wins when the parameter repeats, like Django's
/// `QueryDict.get`).
pub(crate) fn required_day(
    state: &AppState,
    query: Option<&str>,
    required: &str,
    format: &str,
) -> ApiResult<(NaiveDate, Interval)> {
    let pairs = wire::url_pairs(query.unwrap_or_default());
    let text = pairs
        .iter()
        .rev()
        .find(|(key, _)| key == "date")
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::Detail(required.to_owned()))?;
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| (1..=9999).contains(&date.year()))
        .ok_or_else(|| ApiError::Detail(format.to_owned()))?;
    let period =
        local_days(state, date, date).ok_or_else(|| ApiError::Detail(format.to_owned()))?;
    Ok((date, period))
}

/// A doctor's board shows only operations in whose team they are.
pub(crate) fn team_filter(decision: Decision, auth: &AuthUser) -> Option<i64> {
    (decision == Decision::Filtered).then_some(auth.user.id)
}

/// The progress of an operation at `now` (0.0 unless running).
pub(crate) fn progress_at(record: &OperationRecord, now: DateTime<Utc>) -> f64 {
    progress(record.status(), record.start_time, record.end_time, now)
}

// ---- read shape ------------------------------------------------------------------------

/// The OpDashboardItem shape (api.md §3.0), keys in the original's order; no patient fields.
fn item_json(record: &OperationRecord, state: &AppState, now: DateTime<Utc>) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "type": op_type_json(record),
        "room": resource_json(&record.room, state),
        "devices": record.devices.iter().map(|d| resource_json(d, state)).collect::<Vec<_>>(),
        "team": team_json(record),
        "start_time": wire::datetime(record.start_time, tz),
        "end_time": wire::datetime(record.end_time, tz),
        "status": record.status,
        "progress": progress_at(record, now),
        "color": record.op_type.color,
    })
}

fn items_json(records: &[OperationRecord], state: &AppState) -> Vec<Value> {
    let now = state.now();
    records.iter().map(|r| item_json(r, state, now)).collect()
}

// ---- reads -----------------------------------------------------------------------------

/// `GET /api/op-dashboard/?date=YYYY-MM-DD`: operations overlapping the local day, any status.
async fn day(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let (date, period) = required_day(&state, query.as_deref(), DATE_REQUIRED, DATE_FORMAT)?;
    let records = state
        .store
        .op_board(
            BoardView::DashboardDay(period),
            team_filter(decision, &auth),
        )
        .await?;
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "op_dashboard_view",
                    None,
                    Some(json!({"date": date.to_string()})),
                )
                .with_subjects(records.iter().map(|record| record.patient_id)),
        )
        .await?;
    Ok(Json(json!({
        "date": date.to_string(),
        "operations": items_json(&records, &state),
    })))
}

/// `GET /api/op-dashboard/live/`: running operations that have started (no end filter: an
/// overrunning operation stays until it is set done).
async fn live(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let view = BoardView::DashboardLive { now: state.now() };
    let records = state
        .store
        .op_board(view, team_filter(decision, &auth))
        .await?;
    state
        .store
        .record_audit(
            &auth
                .audit("op_dashboard_view", None, Some(json!({"live": true})))
                .with_subjects(records.iter().map(|record| record.patient_id)),
        )
        .await?;
    Ok(Json(json!({"operations": items_json(&records, &state)})))
}

// ---- status ----------------------------------------------------------------------------

/// The original's 400 body of a refused status change (with an additive `code`).
fn status_error(refused: StatusRefused, body_error: Option<ApiError>) -> ApiError {
    let from = refused.record.as_ref().map(|r| r.status().as_str());
    match refused.refusal {
        StatusRefusal::NotFound => ApiError::NotFoundPlain,
        StatusRefusal::InvalidBody => {
            body_error.unwrap_or_else(|| ApiError::internal("body error missing"))
        }
        StatusRefusal::StatusRequired => ApiError::BadRequest(json!({
            "detail": STATUS_REQUIRED,
            "code": "status_required",
        })),
        StatusRefusal::InvalidTransition => ApiError::BadRequest(json!({
            "detail": "Invalid status transition.",
            "from": from,
            "to": refused.to,
            "code": "invalid_transition",
        })),
        StatusRefusal::RunningBeforeStart => {
            let error = TransitionError::RunningBeforeStart;
            ApiError::BadRequest(json!({"detail": error.detail(), "code": error.code()}))
        }
        StatusRefusal::Stale => ApiError::field("status", STALE_STATUS),
    }
}

/// The `status` of the body: `Ok(None)` when absent or null; a malformed body, a `status`
/// that is not a string or an unknown field is the error naming it.
fn read_status(body: Result<JsonBody, ApiError>, state: &AppState) -> ApiResult<Option<String>> {
    let mut fields = Fields::new(body?, state.tz());
    let status = fields.opt_string("status").flatten();
    fields.finish()?;
    Ok(status)
}

/// `PATCH /api/op-dashboard/{id}/status/ {"status"}` (admin, assistant; no object check):
/// the `usecases::operations::change_status` use case.
async fn change_status(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::Update, MODEL)?;
    let (requested, body_error) = match read_status(body, &state) {
        Ok(requested) => (Ok(requested), None),
        Err(error) => (Err(()), Some(error)),
    };
    let request = StatusRequest {
        requested,
        seen: None,
    };
    match operations::change_status(&state, &Caller::from(&auth), decision, id, request).await {
        Ok(updated) => Ok(Json(item_json(&updated, &state, state.now()))),
        Err(Failure::Refused(refused)) => Err(status_error(refused, body_error)),
        Err(Failure::Store(error)) => Err(error.into()),
    }
}
