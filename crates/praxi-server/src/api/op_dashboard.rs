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
use praxi_domain::operation::{OperationStatus, TransitionError, check_transition};
use praxi_domain::rbac::{Action, Decision, Resource};
use praxi_domain::scheduling::Interval;
use praxi_store::StoreError;
use praxi_store::op_board::{BoardView, progress};
use praxi_store::operations::OperationRecord;
use serde_json::{Value, json};

use crate::api::appointments::{local_days, resource_json};
use crate::api::operations::{op_type_json, team_json};
use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::events::Board;
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Operation";
const RESOURCE: Resource = Resource::OpDashboard;

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
        .record_audit(&auth.audit(
            "op_dashboard_view",
            None,
            Some(json!({"date": date.to_string()})),
        ))
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
        .record_audit(&auth.audit("op_dashboard_view", None, Some(json!({"live": true}))))
        .await?;
    Ok(Json(json!({"operations": items_json(&records, &state)})))
}

// ---- status ----------------------------------------------------------------------------

/// Why a status request is refused before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// No (or an empty) `status`.
    StatusRequired,
    /// A value that is no status at all: an invalid transition whatever the stored status.
    UnknownStatus(String),
    /// Refused by the transition table.
    Transition(TransitionError),
}

/// Decides a requested status against the stored one with the one transition table.
fn decide(
    from: OperationStatus,
    requested: Option<&str>,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<OperationStatus, Refusal> {
    let requested = requested
        .filter(|text| !text.is_empty())
        .ok_or(Refusal::StatusRequired)?;
    let to = OperationStatus::parse(requested)
        .ok_or_else(|| Refusal::UnknownStatus(requested.to_owned()))?;
    check_transition(Some(from), to, start_time, now).map_err(Refusal::Transition)?;
    Ok(to)
}

impl Refusal {
    /// The original's audit `detail`.
    fn audit_detail(&self) -> &'static str {
        match self {
            Refusal::StatusRequired => "status is required",
            Refusal::UnknownStatus(_) => "invalid_transition",
            Refusal::Transition(error) => error.code(),
        }
    }

    /// The original's 400 body (with an additive `code`).
    fn into_error(self, from: OperationStatus) -> ApiError {
        let invalid = |to: &str| {
            ApiError::BadRequest(json!({
                "detail": "Invalid status transition.",
                "from": from.as_str(),
                "to": to,
                "code": "invalid_transition",
            }))
        };
        match self {
            Refusal::StatusRequired => ApiError::BadRequest(json!({
                "detail": STATUS_REQUIRED,
                "code": "status_required",
            })),
            Refusal::UnknownStatus(to) => invalid(&to),
            Refusal::Transition(TransitionError::NotAllowed { to, .. }) => invalid(to.as_str()),
            Refusal::Transition(error @ TransitionError::RunningBeforeStart) => {
                ApiError::BadRequest(json!({"detail": error.detail(), "code": error.code()}))
            }
        }
    }
}

/// The `op_status_update` meta of one attempt.
fn status_meta(from: OperationStatus, to: Option<&str>, failure: Option<&str>) -> Value {
    let mut meta = json!({"from": from.as_str(), "to": to, "ok": failure.is_none()});
    if let Some(detail) = failure {
        meta["detail"] = json!(detail);
    }
    meta
}

/// The `status` of the body: `Ok(None)` when absent or null; a malformed body, a `status`
/// that is not a string or an unknown field is the error naming it.
fn read_status(body: Result<JsonBody, ApiError>, state: &AppState) -> ApiResult<Option<String>> {
    let mut fields = Fields::new(body?, state.tz());
    let status = fields.opt_string("status").flatten();
    fields.finish()?;
    Ok(status)
}

/// `PATCH /api/op-dashboard/{id}/status/ {"status"}` (admin, assistant; no object check).
/// Unknown id → 404 `{"detail": "Not found."}` without audit; every later outcome is audited.
async fn change_status(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::Update, MODEL)?;
    let record = state
        .store
        .operation(id)
        .await?
        .ok_or(ApiError::NotFoundPlain)?;
    let from = record.status();
    let refused = |to: Option<&str>, detail: &str| {
        auth.audit(
            "op_status_update",
            Some(record.patient_id),
            Some(status_meta(from, to, Some(detail))),
        )
    };

    let requested = match read_status(body, &state) {
        Ok(requested) => requested,
        Err(error) => {
            state
                .store
                .record_audit(&refused(None, "invalid_body"))
                .await?;
            return Err(error);
        }
    };
    let now = state.now();
    let to = match decide(from, requested.as_deref(), record.start_time, now) {
        Ok(to) => to,
        Err(refusal) => {
            let to = requested.as_deref().filter(|text| !text.is_empty());
            state
                .store
                .record_audit(&refused(to, refusal.audit_detail()))
                .await?;
            return Err(refusal.into_error(from));
        }
    };

    let audit = auth.audit(
        "op_status_update",
        Some(record.patient_id),
        Some(status_meta(from, Some(to.as_str()), None)),
    );
    let result = state
        .store
        .set_operation_status(id, from, to, Some(auth.user.id), now, &audit)
        .await;
    let updated = match result {
        Ok(updated) => updated,
        // The row changed (or vanished) between the lookup and the conditional update.
        Err(error @ (StoreError::Invalid(_) | StoreError::NotFound(_))) => {
            let gone = matches!(error, StoreError::NotFound(_));
            let detail = if gone { "not_found" } else { "stale_status" };
            state
                .store
                .record_audit(&refused(Some(to.as_str()), detail))
                .await?;
            return Err(if gone {
                ApiError::NotFoundPlain
            } else {
                error.into()
            });
        }
        Err(error) => return Err(error.into()),
    };
    state
        .events
        .notify(
            Board::OpBoard,
            "operation.status",
            updated.id,
            Some(updated.status.as_str()),
        )
        .await;
    Ok(Json(item_json(&updated, &state, now)))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use praxi_domain::operation::OperationStatus::*;

    use super::*;

    #[test]
    fn requests_are_decided_with_the_one_transition_table() {
        let start = Utc.with_ymd_and_hms(2030, 1, 14, 10, 0, 0).unwrap();
        let (before, after) = (start - chrono::Duration::minutes(1), start);
        let not_allowed = |from, to| {
            Err(Refusal::Transition(TransitionError::NotAllowed {
                from: Some(from),
                to,
            }))
        };
        let cases = [
            (Planned, None, after, Err(Refusal::StatusRequired)),
            (Planned, Some(""), after, Err(Refusal::StatusRequired)),
            (
                Planned,
                Some("bogus"),
                after,
                Err(Refusal::UnknownStatus("bogus".to_owned())),
            ),
            // Exact values only: the stored and wire values are lowercase.
            (
                Planned,
                Some("Confirmed"),
                after,
                Err(Refusal::UnknownStatus("Confirmed".to_owned())),
            ),
            (Planned, Some("confirmed"), before, Ok(Confirmed)),
            (
                Planned,
                Some("planned"),
                after,
                not_allowed(Planned, Planned),
            ),
            (
                Planned,
                Some("running"),
                after,
                not_allowed(Planned, Running),
            ),
            (
                Confirmed,
                Some("running"),
                before,
                Err(Refusal::Transition(TransitionError::RunningBeforeStart)),
            ),
            (Confirmed, Some("running"), after, Ok(Running)),
            (Running, Some("done"), after, Ok(Done)),
            (Running, Some("cancelled"), after, Ok(Cancelled)),
            (Done, Some("cancelled"), after, not_allowed(Done, Cancelled)),
            (
                Cancelled,
                Some("cancelled"),
                after,
                not_allowed(Cancelled, Cancelled),
            ),
        ];
        for (from, requested, now, expected) in cases {
            assert_eq!(
                decide(from, requested, start, now),
                expected,
                "{from:?} -> {requested:?} at {now}"
            );
        }
    }

    #[test]
    fn refusals_carry_the_original_audit_details() {
        let cases = [
            (Refusal::StatusRequired, "status is required"),
            (Refusal::UnknownStatus("x".to_owned()), "invalid_transition"),
            (
                Refusal::Transition(TransitionError::NotAllowed {
                    from: Some(Done),
                    to: Cancelled,
                }),
                "invalid_transition",
            ),
            (
                Refusal::Transition(TransitionError::RunningBeforeStart),
                "running_before_start",
            ),
        ];
        for (refusal, detail) in cases {
            assert_eq!(refusal.audit_detail(), detail, "{refusal:?}");
        }
    }
}
