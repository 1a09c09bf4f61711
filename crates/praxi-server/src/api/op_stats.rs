//! `/api/op-stats/{overview,rooms,devices,surgeons,types}/` (api.md §3.11, scheduling.md §6.3):
//! operation statistics over a range of local days, in the original's shapes.
//!
//! The formulas live in [`praxi_domain::kpi`]; the store reads the operations overlapping the
//! range with two statements. By default the numbers are the original's (cancelled operations
//! counted, full durations even when an operation sticks out of the range, rooms at a fixed
//! 480 minutes per calendar day); `include_cancelled=false` and `clip=true` switch on the
//! fixes of W17 one by one. Every successful call writes `op_stats_view` `{scope, from, to}`.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use praxi_domain::kpi::{self, DateRange, OpStatsOptions, OperationFact};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::Interval;
use praxi_store::operations::{OperationRecord, TeamMember};
use praxi_store::stats::operation_fact;
use serde_json::{Map, Value, json};

use crate::api::appointments::{local_days, resource_json};
use crate::api::calendar::query_param;
use crate::api::method_fallback;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Operation";

pub(crate) fn router() -> Router<AppState> {
    // Other methods: 401 without credentials, else 403 for everyone (the original's
    // permission class has no write roles).
    Router::new()
        .route(
            "/api/op-stats/overview/",
            get(overview).fallback(method_fallback(Area::OpStatsOverview)),
        )
        .route(
            "/api/op-stats/surgeons/",
            get(surgeons).fallback(method_fallback(Area::OpStatsSurgeons)),
        )
        .route(
            "/api/op-stats/rooms/",
            get(rooms).fallback(method_fallback(Area::OpStatsOther)),
        )
        .route(
            "/api/op-stats/devices/",
            get(devices).fallback(method_fallback(Area::OpStatsOther)),
        )
        .route(
            "/api/op-stats/types/",
            get(types).fallback(method_fallback(Area::OpStatsOther)),
        )
}

/// A `true`/`false` query flag (case-insensitive); anything else names the parameter.
fn flag(pairs: &[(String, String)], name: &str, default: bool) -> ApiResult<bool> {
    match query_param(pairs, name) {
        None => Ok(default),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ApiError::Detail(format!("{name} must be true or false."))),
    }
}

/// A parsed request: the range, its instants and the options.
struct StatsRequest {
    range: DateRange,
    period: Interval,
    options: OpStatsOptions,
}

fn parse(state: &AppState, query: Option<&str>) -> ApiResult<StatsRequest> {
    let pairs = wire::url_pairs(query.unwrap_or_default());
    let value = |name: &str| query_param(&pairs, name);
    let range = kpi::op_stats_range(
        value("date").as_deref(),
        value("from").as_deref(),
        value("to").as_deref(),
    )
    .map_err(|error| ApiError::Detail(error.to_string()))?;
    let period = local_days(state, range.from, range.to)
        .ok_or_else(|| ApiError::Detail(kpi::RangeError::BadFormat.to_string()))?;
    let options = OpStatsOptions {
        include_cancelled: flag(&pairs, "include_cancelled", true)?,
        clip: flag(&pairs, "clip", false)?,
    };
    Ok(StatsRequest {
        range,
        period,
        options,
    })
}

/// One statistics request: policy, parameters, the operations in range, the audit row.
async fn load(
    state: &AppState,
    auth: &AuthUser,
    resource: Area,
    scope: &str,
    query: Option<&str>,
) -> ApiResult<(StatsRequest, Vec<OperationRecord>, Option<i64>)> {
    let decision = auth.require(resource, Action::List, MODEL)?;
    let request = parse(state, query)?;
    let own = (decision == Decision::Filtered).then_some(auth.user.id);
    let records = state.store.op_stats_operations(request.period, own).await?;
    state
        .store
        .record_audit(&auth.audit(
            "op_stats_view",
            None,
            Some(json!({
                "scope": scope,
                "from": request.range.from.to_string(),
                "to": request.range.to.to_string(),
            })),
        ))
        .await?;
    Ok((request, records, own))
}

/// `{range_from, range_to, <key>: value}`.
fn envelope(range: &DateRange, key: Option<(&str, Value)>) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("range_from".into(), json!(range.from.to_string()));
    body.insert("range_to".into(), json!(range.to.to_string()));
    if let Some((key, value)) = key {
        body.insert(key.into(), value);
    }
    body
}

fn facts(records: &[OperationRecord]) -> Vec<OperationFact> {
    records.iter().map(operation_fact).collect()
}

fn person_json(member: &TeamMember) -> Value {
    json!({"id": member.id, "name": member.display_name(), "color": member.calendar_color})
}

async fn overview(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let (request, records, _) = load(
        &state,
        &auth,
        Area::OpStatsOverview,
        "overview",
        query.as_deref(),
    )
    .await?;
    let totals = kpi::op_overview(&facts(&records), &request.period, request.options);
    let mut body = envelope(&request.range, None);
    body.insert("op_count".into(), json!(totals.count));
    body.insert("total_op_minutes".into(), json!(totals.minutes));
    body.insert("average_op_duration".into(), json!(totals.average()));
    Ok(Json(Value::Object(body)))
}

/// One of the list endpoints: loads the operations the caller may count under `area` and
/// answers the envelope with `key` holding the items `items` computes from them.
async fn listing(
    state: &AppState,
    auth: &AuthUser,
    area: Area,
    key: &'static str,
    query: Option<&str>,
    items: impl FnOnce(&StatsRequest, &[OperationRecord], Option<i64>) -> Vec<Value>,
) -> ApiResult<Json<Value>> {
    let (request, records, own) = load(state, auth, area, key, query).await?;
    let items = items(&request, &records, own);
    Ok(Json(Value::Object(envelope(
        &request.range,
        Some((key, Value::Array(items))),
    ))))
}

async fn rooms(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let area = Area::OpStatsOther;
    listing(
        &state,
        &auth,
        area,
        "rooms",
        query.as_deref(),
        |request, records, _| {
            let rooms: HashMap<i64, _> = records.iter().map(|r| (r.room.id, &r.room)).collect();
            kpi::op_rooms(
                &facts(records),
                &request.period,
                request.range.days(),
                request.options,
            )
            .iter()
            .filter_map(|room| {
                Some(json!({
                    "room": resource_json(rooms.get(&room.room)?, &state),
                    "total_minutes": room.total_minutes,
                    "used_minutes": room.used_minutes,
                    "utilization": room.utilization(),
                }))
            })
            .collect()
        },
    )
    .await
}

async fn devices(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let area = Area::OpStatsOther;
    listing(
        &state,
        &auth,
        area,
        "devices",
        query.as_deref(),
        |request, records, _| {
            let devices: HashMap<i64, _> = records
                .iter()
                .flat_map(|r| r.devices.iter().map(|d| (d.id, d)))
                .collect();
            kpi::op_devices(&facts(records), &request.period, request.options)
                .iter()
                .filter_map(|(device, minutes)| {
                    Some(json!({
                        "device": resource_json(devices.get(device)?, &state),
                        "usage_minutes": minutes,
                    }))
                })
                .collect()
        },
    )
    .await
}

async fn surgeons(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let area = Area::OpStatsSurgeons;
    listing(
        &state,
        &auth,
        area,
        "surgeons",
        query.as_deref(),
        |request, records, own| {
            let surgeons: HashMap<i64, _> = records
                .iter()
                .map(|r| (r.primary_surgeon.id, &r.primary_surgeon))
                .collect();
            kpi::op_surgeons(&facts(records), &request.period, request.options, own)
                .iter()
                .filter_map(|(surgeon, totals)| {
                    Some(json!({
                        "surgeon": person_json(surgeons.get(surgeon)?),
                        "op_count": totals.count,
                        "total_op_minutes": totals.minutes,
                        "average_op_duration": totals.average(),
                    }))
                })
                .collect()
        },
    )
    .await
}

async fn types(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let area = Area::OpStatsOther;
    listing(
        &state,
        &auth,
        area,
        "types",
        query.as_deref(),
        |request, records, _| {
            let types: HashMap<i64, _> =
                records.iter().map(|r| (r.op_type.id, &r.op_type)).collect();
            kpi::op_types(&facts(records), &request.period, request.options)
                .iter()
                .filter_map(|item| {
                    let info = types.get(&item.op_type)?;
                    Some(json!({
                        "type": {"id": info.id, "name": info.name, "color": info.color},
                        "count": item.count,
                        "avg_duration": item.average(),
                        "min_duration": item.min_minutes,
                        "max_duration": item.max_minutes,
                    }))
                })
                .collect()
        },
    )
    .await
}
