//! `/api/kpis/scheduling/` and `/api/kpis/operations/` (beyond the original, which rendered
//! these figures into its HTML dashboards only): the scheduling and operations KPIs as JSON
//! (scheduling.md §6.5, ui.md §1.1–§1.2, §3.4).
//!
//! Every figure is defined in [`praxi_domain::kpi`] and computed from rows the store reads with
//! a fixed number of statements. Each block names its window `[from, to)` in the practice
//! zone; rates are percentages with one decimal and `null` when there is nothing to divide by.
//! Access follows the `op-stats/overview` row of the policy: admin, assistant and billing see
//! the practice, a doctor sees figures computed from their own appointments and operations
//! only. Aggregates carry no patient data, so these reads are not audited.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use praxi_domain::kpi::{
    self, AverageDuration, Cancellations, KpiClock, KpiError, LEAD_TIME_BUCKETS, NoShows,
    OperationsKpis, Ratio, SchedulingKpis, Utilisation,
};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{Interval, local_date};
use praxi_store::appointments::ResourceInfo;
use praxi_store::stats::{DoctorInfo, KpiScope, OperationsData, SchedulingData};
use serde_json::{Map, Value, json};

use crate::api::appointments::resource_json;
use crate::api::calendar::query_param;
use crate::api::method_fallback;
use crate::auth::AuthUser;
use crate::body::parse_date_str;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "Appointment";
const RESOURCE: Area = Area::OpStatsOverview;
const DATE_FORMAT: &str = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
const DAYS_DEFAULT: u32 = 30;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/kpis/scheduling/",
            get(scheduling).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/kpis/operations/",
            get(operations).fallback(method_fallback(RESOURCE)),
        )
}

// ---- parameters --------------------------------------------------------------------------

fn scope(decision: Decision, auth: &AuthUser) -> KpiScope {
    if decision == Decision::Filtered {
        KpiScope::Doctor(auth.user.id)
    } else {
        KpiScope::Practice
    }
}

/// `date` (optional, `YYYY-MM-DD`).
fn date_param(pairs: &[(String, String)]) -> ApiResult<Option<NaiveDate>> {
    query_param(pairs, "date")
        .map(|text| parse_date_str(&text).ok_or_else(|| ApiError::field("date", DATE_FORMAT)))
        .transpose()
}

/// `days` (optional, 1..=366, default 30).
fn days_param(pairs: &[(String, String)]) -> ApiResult<u32> {
    let Some(text) = query_param(pairs, "days") else {
        return Ok(DAYS_DEFAULT);
    };
    let days: i64 = text
        .parse()
        .map_err(|_| ApiError::field("days", "A valid integer is required."))?;
    u32::try_from(days)
        .ok()
        .filter(|days| (1..=kpi::MAX_PERIOD_DAYS).contains(days))
        .ok_or_else(|| {
            ApiError::field(
                "days",
                format!(
                    "Ensure this value is between 1 and {}.",
                    kpi::MAX_PERIOD_DAYS
                ),
            )
        })
}

fn clock(state: &AppState, date: Option<NaiveDate>) -> ApiResult<KpiClock> {
    KpiClock::new(state.tz(), state.now(), date)
        .map_err(|_: KpiError| ApiError::field("date", "Date out of range."))
}

// ---- rendering ---------------------------------------------------------------------------

/// `{"from": …, "to": …}` of a window, then the given fields.
fn block(state: &AppState, window: &Interval, fields: Value) -> Value {
    let mut body = Map::new();
    body.insert(
        "from".into(),
        json!(wire::datetime(window.start(), state.tz())),
    );
    body.insert("to".into(), json!(wire::datetime(window.end(), state.tz())));
    if let Value::Object(fields) = fields {
        body.extend(fields);
    }
    Value::Object(body)
}

fn person_json(doctor: &DoctorInfo) -> Value {
    json!({"id": doctor.id, "name": doctor.display_name(), "color": doctor.calendar_color})
}

fn utilisation_fields(item: &Utilisation) -> Value {
    json!({
        "capacity_minutes": item.capacity_minutes(),
        "booked_minutes": item.booked_minutes(),
        "utilization": item.rate(),
    })
}

/// `{"<key>": …, capacity_minutes, booked_minutes, utilization}` per item with known info.
fn utilisation_list<T>(
    items: &[Utilisation],
    key: &str,
    infos: &[T],
    id_of: impl Fn(&T) -> i64,
    render: impl Fn(&T) -> Value,
) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| {
            let info = infos.iter().find(|info| id_of(info) == item.id)?;
            let mut entry = Map::new();
            entry.insert(key.into(), render(info));
            if let Value::Object(fields) = utilisation_fields(item) {
                entry.extend(fields);
            }
            Some(Value::Object(entry))
        })
        .collect()
}

fn cancellation_fields(c: &Cancellations) -> Value {
    json!({
        "appointments": c.total,
        "cancelled": c.cancelled,
        "late": c.late,
        "early": c.early(),
        "rate": c.rate(),
    })
}

fn completion_fields(c: &Ratio) -> Value {
    json!({"appointments": c.total, "completed": c.part, "rate": c.rate()})
}

fn no_show_fields(n: &NoShows) -> Value {
    json!({
        "appointments": n.total,
        "no_shows": n.count(),
        "flagged": n.flagged,
        "unflagged": n.unflagged,
        "rate": n.rate(),
    })
}

fn duration_fields(d: &AverageDuration, noun: &str) -> Value {
    json!({noun: d.count, "average_minutes": d.minutes()})
}

fn extend(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

// ---- handlers ----------------------------------------------------------------------------

async fn scheduling(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let pairs = wire::url_pairs(query.as_deref().unwrap_or_default());
    let clock = clock(&state, date_param(&pairs)?)?;
    let data = state
        .store
        .scheduling_kpi_data(
            state.tz(),
            &clock.scheduling_needs(),
            scope(decision, &auth),
        )
        .await?;
    let kpis = kpi::scheduling_kpis(&clock, &data.input);
    Ok(Json(scheduling_json(&state, &clock, &data, &kpis)))
}

/// The scheduling KPI body.
fn scheduling_json(
    state: &AppState,
    clock: &KpiClock,
    data: &SchedulingData,
    kpis: &SchedulingKpis,
) -> Value {
    let tz = state.tz();

    let slot_rate = kpis.slot_utilisation.rate();
    let previous_slot_rate = kpis.previous_slot_utilisation.rate();
    let no_show_rate = kpis.no_shows.rate();
    let previous_no_show_rate = kpis.previous_no_shows.rate();
    let lead = &kpis.lead_time;
    let peak = &kpis.peak_load;
    let buckets: Map<String, Value> = LEAD_TIME_BUCKETS
        .iter()
        .zip(lead.buckets)
        .map(|(name, count)| ((*name).to_owned(), json!(count)))
        .collect();
    let statuses: Map<String, Value> = kpis
        .statuses
        .iter()
        .map(|(status, count)| (status.as_str().to_owned(), json!(count)))
        .collect();
    let trends: Vec<Value> = kpis
        .trends
        .iter()
        .map(|point| {
            let fields = json!({
                "week_start": local_date(tz, point.week.start()).to_string(),
                "appointments": point.cancellations.total,
                "cancelled": point.cancellations.cancelled,
                "past_appointments": point.completion.total,
                "completed": point.completion.part,
                "no_shows": point.no_shows.count(),
                "cancellation_rate": point.cancellations.rate(),
                "completion_rate": point.completion.rate(),
                "no_show_rate": point.no_shows.rate(),
            });
            block(state, &point.week, fields)
        })
        .collect();

    json!({
        "date": clock.date.to_string(),
        "as_of": wire::datetime(clock.as_of, tz),
        "slot_utilization": block(state, &clock.week, extend(
            utilisation_fields(&kpis.slot_utilisation),
            json!({
                "previous_utilization": previous_slot_rate,
                "trend": kpi::trend(slot_rate, previous_slot_rate),
            }),
        )),
        "no_show_rate": block(state, &clock.last_30, extend(
            no_show_fields(&kpis.no_shows),
            json!({
                "previous_rate": previous_no_show_rate,
                "trend": kpi::trend(no_show_rate, previous_no_show_rate),
            }),
        )),
        "completion_rate": block(state, &clock.last_30, completion_fields(&kpis.completion)),
        "cancellation_rate": block(state, &clock.last_30, cancellation_fields(&kpis.cancellations)),
        "lead_time": block(state, &clock.last_30, json!({
            "appointments": lead.count,
            "average_hours": lead.average_hours(),
            "min_hours": lead.min_hours(),
            "max_hours": lead.max_hours(),
            "same_day_rate": lead.same_day_rate(),
            "buckets": buckets,
        })),
        "average_duration": block(
            state,
            &clock.last_30,
            duration_fields(&kpis.average_duration, "appointments"),
        ),
        "rebooking_rate": block(state, &clock.last_30, json!({
            "cancelled": kpis.rebooking.total,
            "rebooked": kpis.rebooking.part,
            "rate": kpis.rebooking.rate(),
        })),
        "new_patients": block(state, &clock.last_30, json!({
            "patients": kpis.new_patients.total,
            "new": kpis.new_patients.part,
            "rate": kpis.new_patients.rate(),
        })),
        "peak_load": block(state, &clock.last_30, json!({
            "matrix": peak.matrix,
            "by_hour": peak.by_hour(),
            "by_weekday": peak.by_weekday(),
            "peak": peak.peak().map(|p| json!({"weekday": p.weekday, "hour": p.hour, "count": p.count})),
            "peak_hour": peak.peak_hour().map(|(hour, count)| json!({"hour": hour, "count": count})),
            "peak_weekday": peak.peak_weekday().map(|(weekday, count)| json!({"weekday": weekday, "count": count})),
        })),
        "doctor_utilization": block(state, &clock.week, json!({
            "doctors": utilisation_list(&kpis.doctors, "doctor", &data.doctors, |d| d.id, person_json),
        })),
        "room_utilization": block(state, &clock.week, json!({
            "rooms": utilisation_list(
                &kpis.rooms,
                "room",
                &data.rooms,
                |r: &ResourceInfo| r.id,
                |r| resource_json(r, state),
            ),
        })),
        "trends": trends,
        "volume": {
            "today": kpis.volume[0],
            "week": kpis.volume[1],
            "month": kpis.volume[2],
        },
        "status_counts": block(state, &clock.last_30, Value::Object(statuses)),
    })
}

async fn operations(
    State(state): State<AppState>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let decision = auth.require(RESOURCE, Action::List, MODEL)?;
    let pairs = wire::url_pairs(query.as_deref().unwrap_or_default());
    let days = days_param(&pairs)?;
    let clock = clock(&state, date_param(&pairs)?)?;
    let window = clock
        .last_days(days)
        .map_err(|_| ApiError::field("date", "Date out of range."))?;
    let data = state
        .store
        .operations_kpi_data(state.tz(), &window, &clock.today, scope(decision, &auth))
        .await?;
    let kpis = kpi::operations_kpis(window, state.tz(), &data.input);
    Ok(Json(operations_json(&state, &clock, days, &data, &kpis)))
}

/// The operations KPI body.
fn operations_json(
    state: &AppState,
    clock: &KpiClock,
    days: u32,
    data: &OperationsData,
    kpis: &OperationsKpis,
) -> Value {
    let window = kpis.window;

    let throughput: Vec<Value> = kpis
        .throughput
        .iter()
        .map(|day| {
            json!({
                "date": day.date.to_string(),
                "appointments_completed": day.appointments_completed,
                "operations_done": day.operations_done,
                "total": day.appointments_completed + day.operations_done,
            })
        })
        .collect();
    let appointment_statuses: Map<String, Value> = kpis
        .appointment_statuses
        .iter()
        .map(|(status, count)| (status.as_str().to_owned(), json!(count)))
        .collect();
    let operation_statuses: Map<String, Value> = kpis
        .operation_statuses
        .iter()
        .map(|(status, count)| (status.as_str().to_owned(), json!(count)))
        .collect();
    let flows: Map<String, Value> = kpis
        .flows
        .iter()
        .map(|(status, count)| (status.as_str().to_owned(), json!(count)))
        .collect();

    block(
        state,
        &window,
        json!({
            "date": clock.date.to_string(),
            "days": days,
            "as_of": wire::datetime(clock.as_of, state.tz()),
            "utilization": utilisation_fields(&kpis.utilisation),
            "throughput": {
                "appointments_completed": kpis.throughput.iter().map(|d| d.appointments_completed).sum::<u64>(),
                "operations_done": kpis.throughput.iter().map(|d| d.operations_done).sum::<u64>(),
                "days": throughput,
            },
            "resources": utilisation_list(
                &kpis.resources,
                "resource",
                &data.resources,
                |r: &ResourceInfo| r.id,
                |r| resource_json(r, state),
            ),
            "status_distribution": {
                "appointments": appointment_statuses,
                "operations": operation_statuses,
            },
            "operations": duration_fields(&kpis.operations, "count"),
            "patient_flow": {
                "date": clock.date.to_string(),
                "statuses": flows,
            },
        }),
    )
}
