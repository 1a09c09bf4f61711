//! `/api/op-timeline/` (api.md §3.10, scheduling.md §6.2): the operations of a local day
//! grouped by OP room, every active room with its operations, and the live timeline.
//!
//! Day views select operations by their **start** date (an operation from 23:30 to 00:30 is on
//! its first day only), every status. The live timeline shows running operations until they
//! are set done, whatever their start (the original dropped them 30 minutes after their start,
//! weak point W16), and confirmed operations starting at or after `now − 30 min`. Rooms are
//! ordered by `name, id`, operations by `start_time, id`. Read-only: every other method is 403
//! (401 without credentials). Items carry no room, devices or patient data.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use praxi_domain::rbac::{Action, Area};
use praxi_store::appointments::ResourceInfo;
use praxi_store::op_board::{BoardView, RoomOperations, group_by_room};
use praxi_store::operations::OperationRecord;
use serde_json::{Value, json};

use crate::api::method_fallback;
use crate::api::op_dashboard::{progress_at, required_day, team_filter};
use crate::api::operations::team_json;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Operation";
const RESOURCE: Area = Area::OpTimeline;

/// The original's messages (api.md §3.10, verified).
const DATE_REQUIRED: &str = "Provide ?date=YYYY-MM-DD.";
const DATE_FORMAT: &str = "Date must be in format YYYY-MM-DD.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/op-timeline/",
            get(day).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/op-timeline/rooms/",
            get(rooms).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/op-timeline/live/",
            get(live).fallback(method_fallback(RESOURCE)),
        )
}

// ---- read shape ------------------------------------------------------------------------

/// The OpTimelineItem shape (api.md §3.0), keys in the original's order.
fn item_json(record: &OperationRecord, state: &AppState, now: DateTime<Utc>) -> Value {
    let tz = state.tz();
    json!({
        "id": record.id,
        "type": {
            "id": record.op_type.id,
            "name": record.op_type.name,
            "color": record.op_type.color,
        },
        "team": team_json(record),
        "start_time": wire::datetime(record.start_time, tz),
        "end_time": wire::datetime(record.end_time, tz),
        "status": record.status,
        "progress": progress_at(record, now),
        "color": record.op_type.color,
    })
}

fn room_json(room: &ResourceInfo) -> Value {
    json!({"id": room.id, "name": room.name, "color": room.color})
}

/// `[{room: {id, name, color}, operations: [OpTimelineItem]}]`.
fn groups_json(groups: &[RoomOperations], state: &AppState) -> Value {
    let now = state.now();
    Value::Array(
        groups
            .iter()
            .map(|group| {
                json!({
                    "room": room_json(&group.room),
                    "operations": group
                        .operations
                        .iter()
                        .map(|record| item_json(record, state, now))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

// ---- reads -----------------------------------------------------------------------------

/// `GET /api/op-timeline/?date=`: rooms holding operations that start on the local day.
async fn day(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let (date, period) = required_day(&state, query.as_deref(), DATE_REQUIRED, DATE_FORMAT)?;
    let records = state
        .store
        .op_board(BoardView::TimelineDay(period), team_filter(decision, &auth))
        .await?;
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "op_timeline_view",
                    None,
                    Some(json!({"live": false, "date": date.to_string()})),
                )
                .with_subjects(records.iter().map(|record| record.patient_id)),
        )
        .await?;
    Ok(Json(groups_json(&group_by_room(records), &state)))
}

/// `GET /api/op-timeline/rooms/?date=`: every active room (also for doctors), each with its
/// operations starting on the local day (possibly none).
async fn rooms(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let (date, period) = required_day(&state, query.as_deref(), DATE_REQUIRED, DATE_FORMAT)?;
    let groups = state
        .store
        .op_timeline_rooms(period, team_filter(decision, &auth))
        .await?;
    state
        .store
        .record_audit(
            &auth
                .audit(
                    "op_timeline_view",
                    None,
                    Some(json!({"rooms": true, "date": date.to_string()})),
                )
                .with_subjects(
                    groups
                        .iter()
                        .flat_map(|group| group.operations.iter().map(|record| record.patient_id)),
                ),
        )
        .await?;
    Ok(Json(groups_json(&groups, &state)))
}

/// `GET /api/op-timeline/live/`: running operations (until they are set done) and confirmed
/// ones starting at or after `now − 30 min`, grouped like the day view.
async fn live(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let view = BoardView::TimelineLive { now: state.now() };
    let records = state
        .store
        .op_board(view, team_filter(decision, &auth))
        .await?;
    state
        .store
        .record_audit(
            &auth
                .audit("op_timeline_view", None, Some(json!({"live": true})))
                .with_subjects(records.iter().map(|record| record.patient_id)),
        )
        .await?;
    Ok(Json(groups_json(&group_by_room(records), &state)))
}
