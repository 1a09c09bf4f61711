//! The rows of issue #12's table: which request each case sends, which status it expects, and
//! which floor (see `floor.rs`) it is compared against.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::local_day;
use praxi_store::Store;
use sea_orm::{DbBackend, Value};
use serde_json::json;

use crate::bench::{Auth, Generated, HORIZON_DAYS, RequestFn, create_request, get_request};
use crate::floor::FloorQuery;

/// One measured case: the request and the floor case it is compared with.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) request: RequestFn,
    pub(crate) floor: Option<&'static str>,
}

fn case(name: &'static str, request: RequestFn, floor: Option<&'static str>) -> Case {
    Case {
        name,
        request,
        floor,
    }
}

/// The requests of one size (paths relative to the server's base URL).
pub(crate) struct Matrix {
    week_list: String,
    appointment_suggest: String,
    operation_suggest: String,
    conflicting_create: serde_json::Value,
    op_stats_month: String,
    op_timeline_day: String,
    list_day: String,
    /// Appointments (all states) the week list returns.
    pub(crate) week_list_appointments: usize,
}

/// The week list's week: Monday of `W+1` (the horizon's first day) to Sunday.
fn week(generated: &Generated) -> (NaiveDate, NaiveDate) {
    let monday = generated.horizon_start;
    (monday, monday + TimeDelta::days(6))
}

/// The month before the current one (history: full of operations).
fn last_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_this = today.with_day(1).unwrap_or(today);
    let last = first_this.pred_opt().unwrap_or(first_this);
    (last.with_day(1).unwrap_or(last), last)
}

fn bounds(
    tz: Tz,
    from: NaiveDate,
    to_inclusive: NaiveDate,
) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    match (local_day(tz, from), local_day(tz, to_inclusive)) {
        (Some(first), Some(last)) => Ok((first.start(), last.end())),
        _ => bail!("date out of range"),
    }
}

impl Matrix {
    pub(crate) fn new(tz: Tz, generated: &Generated, doctor: i64) -> anyhow::Result<Matrix> {
        let (monday, sunday) = week(generated);
        let data = &generated.data;
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let week_list_appointments = data
            .appointments
            .iter()
            .filter(|a| a.doctor_id == doctor && (monday..=sunday).contains(&local(a.start)))
            .count();
        // The conflict: the first active appointment from the listed day on (the measured
        // doctor's if there is one), booked again for a patient who is free then, so the
        // doctor is the conflict.
        let taken = data
            .appointments
            .iter()
            .filter(|a| {
                local(a.start) >= generated.list_day
                    && a.status != AppointmentStatus::Cancelled.as_str()
            })
            .min_by_key(|a| (a.doctor_id != doctor, a.start))
            .context("no active appointment from the listed day on")?;
        let busy: HashSet<i32> = data
            .appointments
            .iter()
            .filter(|a| a.start < taken.end && a.end > taken.start)
            .map(|a| a.patient_id)
            .chain(
                data.operations
                    .iter()
                    .filter(|o| o.start < taken.end && o.end > taken.start)
                    .map(|o| o.patient_id),
            )
            .collect();
        let patient = data
            .patients
            .iter()
            .map(|p| p.id)
            .find(|id| !busy.contains(id))
            .context("no free patient for the conflicting create")?;
        let (month_from, month_to) = last_month(generated.today);
        Ok(Matrix {
            week_list: format!(
                "/api/appointments/?doctor_id={doctor}&start_date={monday}&end_date={sunday}"
            ),
            appointment_suggest: format!(
                "/api/appointments/suggest/?doctor_id={doctor}&start_date={}&days={HORIZON_DAYS}\
                 &limit=5&duration_minutes=30",
                generated.horizon_start
            ),
            operation_suggest: format!(
                "/api/operations/suggest/?patient_id={patient}&primary_surgeon_id={doctor}\
                 &op_type_id=1&op_room_id=1&start_date={}",
                generated.horizon_start
            ),
            conflicting_create: json!({
                "patient_id": patient,
                "doctor": taken.doctor_id,
                "start_time": taken.start.to_rfc3339(),
                "end_time": taken.end.to_rfc3339(),
                "status": "scheduled",
            }),
            op_stats_month: format!("/api/op-stats/overview/?from={month_from}&to={month_to}"),
            op_timeline_day: format!("/api/op-timeline/?date={}", generated.list_day),
            list_day: format!("/api/appointments/?date={}", generated.list_day),
            week_list_appointments,
        })
    }

    /// Every row of the table, each followed by its floor (measured right after it,
    /// under the same conditions; a floor shared by several rows is measured once).
    pub(crate) fn cases(&self, with_floor: bool) -> Vec<Case> {
        let get = |path: &str| get_request(path.to_owned(), Auth::Bearer, false, 200);
        let floor = |name: &str| get_request(format!("/rows/{name}"), Auth::None, true, 200);
        let mut cases = vec![
            case(
                "health",
                get_request("/api/health/".to_owned(), Auth::None, false, 200),
                Some("floor: health"),
            ),
            case(
                "floor: health",
                get_request("/health".to_owned(), Auth::None, true, 200),
                None,
            ),
            case("week list", get(&self.week_list), Some("floor: week list")),
            case("floor: week list", floor("week"), None),
            case(
                "appointment suggest",
                get(&self.appointment_suggest),
                Some("floor: doctor's horizon"),
            ),
            case("floor: doctor's horizon", floor("horizon"), None),
            case(
                "operation suggest",
                get(&self.operation_suggest),
                Some("floor: OP horizon"),
            ),
            case("floor: OP horizon", floor("op_horizon"), None),
            case("create", create_request(), None),
            case(
                "conflicting create",
                crate::bench::post_request(
                    "/api/appointments/".to_owned(),
                    self.conflicting_create.clone(),
                    400,
                ),
                None,
            ),
            case(
                "OP statistics month",
                get(&self.op_stats_month),
                Some("floor: OP month"),
            ),
            case("floor: OP month", floor("op_month"), None),
            case(
                "OP timeline day",
                get(&self.op_timeline_day),
                Some("floor: OP day"),
            ),
            case("floor: OP day", floor("op_day"), None),
            case(
                "patient search",
                get("/api/patients/search/?q=Weber"),
                Some("floor: patient search"),
            ),
            case("floor: patient search", floor("search"), None),
            case(
                "dashboard HTML",
                get_request("/dashboard/".to_owned(), Auth::Session, false, 200),
                None,
            ),
            case(
                "appointment types",
                get("/api/appointment-types/"),
                Some("floor: appointment types"),
            ),
            case("floor: appointment types", floor("appointment_types"), None),
            case(
                "operation types",
                get("/api/operation-types/"),
                Some("floor: operation types"),
            ),
            case("floor: operation types", floor("operation_types"), None),
            case(
                "resources",
                get("/api/resources/"),
                Some("floor: resources"),
            ),
            case("floor: resources", floor("resources"), None),
            case("doctors", get("/api/doctors/"), Some("floor: doctors")),
            case("floor: doctors", floor("doctors"), None),
            case("list day", get(&self.list_day), Some("floor: day list")),
            case("floor: day list", floor("day"), None),
        ];
        if !with_floor {
            cases.retain(|case| !case.name.starts_with("floor:"));
            for case in &mut cases {
                case.floor = None;
            }
        }
        cases
    }

    /// The reads sent at concurrency 16 to the real `praxi serve` process (memory under load).
    pub(crate) fn process_cases(&self) -> Vec<Case> {
        let get = |path: &str| get_request(path.to_owned(), Auth::Bearer, false, 200);
        vec![
            case("week list (praxi serve)", get(&self.week_list), None),
            case(
                "appointment suggest (praxi serve)",
                get(&self.appointment_suggest),
                None,
            ),
            case(
                "patient search (praxi serve)",
                get("/api/patients/search/?q=Weber"),
                None,
            ),
            case(
                "dashboard HTML (praxi serve)",
                get_request("/dashboard/".to_owned(), Auth::Session, false, 200),
                None,
            ),
        ]
    }
}

/// The floor statements: one indexed query each, returning the rows of the real read (for the
/// suggestions: the bookings the engine has to read).
pub(crate) fn floor_queries(
    store: &Store,
    tz: Tz,
    generated: &Generated,
    doctor: i64,
) -> anyhow::Result<HashMap<&'static str, FloorQuery>> {
    let backend = store.backend();
    let q = |sql: &str, values: Vec<Value>| FloorQuery::new(backend, sql, values);
    let (monday, sunday) = week(generated);
    let (week_from, week_to) = bounds(tz, monday, sunday)?;
    let horizon_last = generated.horizon_start + TimeDelta::days(i64::from(HORIZON_DAYS) - 1);
    let (horizon_from, horizon_to) = bounds(tz, generated.horizon_start, horizon_last)?;
    let (day_from, day_to) = bounds(tz, generated.list_day, generated.list_day)?;
    let (month_first, month_last) = last_month(generated.today);
    let (month_from, month_to) = bounds(tz, month_first, month_last)?;
    let cancelled_op = OperationStatus::Cancelled.as_str();
    let cancelled = AppointmentStatus::Cancelled.as_str();
    const LIST: &str = "SELECT a.id, a.patient_id, a.doctor_id, a.type_id, a.start_time, \
         a.end_time, a.status, a.is_no_show, p.first_name, p.last_name, t.name AS type_name \
         FROM appointments_appointment a JOIN patients p ON p.id = a.patient_id \
         LEFT JOIN appointments_appointmenttype t ON t.id = a.type_id";
    let pattern = "%weber%".to_owned();
    let search = if backend == DbBackend::Sqlite {
        q(
            "SELECT id, first_name, last_name, birth_date, phone, email FROM patients \
             WHERE (lower(first_name) LIKE ? OR lower(last_name) LIKE ? OR lower(phone) LIKE ? \
             OR lower(email) LIKE ?) AND id IN (SELECT rowid FROM patients_fts \
             WHERE patients_fts MATCH ?) ORDER BY last_name, first_name, id LIMIT 20",
            vec![
                pattern.clone().into(),
                pattern.clone().into(),
                pattern.clone().into(),
                pattern.into(),
                "\"Weber\"".to_owned().into(),
            ],
        )
    } else {
        q(
            "SELECT id, first_name, last_name, birth_date, phone, email FROM patients \
             WHERE lower(first_name) LIKE ? OR lower(last_name) LIKE ? OR lower(phone) LIKE ? \
             OR lower(email) LIKE ? ORDER BY last_name, first_name, id LIMIT 20",
            vec![
                pattern.clone().into(),
                pattern.clone().into(),
                pattern.clone().into(),
                pattern.into(),
            ],
        )
    };
    Ok(HashMap::from([
        (
            "week",
            q(
                &format!(
                    "{LIST} WHERE a.doctor_id = ? AND a.start_time >= ? AND a.start_time < ? \
                     ORDER BY a.start_time, a.id"
                ),
                vec![doctor.into(), week_from.into(), week_to.into()],
            ),
        ),
        (
            "day",
            q(
                &format!(
                    "{LIST} WHERE a.start_time >= ? AND a.start_time < ? \
                     ORDER BY a.start_time, a.id"
                ),
                vec![day_from.into(), day_to.into()],
            ),
        ),
        (
            "horizon",
            q(
                "SELECT start_time, end_time FROM appointments_appointment \
                 WHERE doctor_id = ? AND start_time >= ? AND start_time < ? AND status <> ? \
                 ORDER BY start_time",
                vec![
                    doctor.into(),
                    horizon_from.into(),
                    horizon_to.into(),
                    cancelled.to_owned().into(),
                ],
            ),
        ),
        (
            "op_horizon",
            q(
                "SELECT start_time, end_time FROM appointments_operation \
                 WHERE start_time >= ? AND start_time < ? AND status <> ? \
                 AND (op_room_id = ? OR primary_surgeon_id = ?) ORDER BY start_time",
                vec![
                    horizon_from.into(),
                    horizon_to.into(),
                    cancelled_op.to_owned().into(),
                    1_i64.into(),
                    doctor.into(),
                ],
            ),
        ),
        (
            "op_day",
            q(
                "SELECT o.id, o.start_time, o.end_time, o.status, o.op_room_id, \
                 o.primary_surgeon_id, p.first_name, p.last_name, t.name AS type_name \
                 FROM appointments_operation o JOIN patients p ON p.id = o.patient_id \
                 JOIN appointments_operationtype t ON t.id = o.op_type_id \
                 WHERE o.start_time >= ? AND o.start_time < ? ORDER BY o.start_time, o.id",
                vec![day_from.into(), day_to.into()],
            ),
        ),
        (
            "op_month",
            q(
                "SELECT status, COUNT(*) AS n, SUM(op_duration) AS minutes \
                 FROM appointments_operation WHERE start_time >= ? AND start_time < ? \
                 GROUP BY status ORDER BY status",
                vec![month_from.into(), month_to.into()],
            ),
        ),
        ("search", search),
        (
            "appointment_types",
            q(
                "SELECT id, name, color, duration_minutes, active FROM \
                 appointments_appointmenttype ORDER BY name",
                vec![],
            ),
        ),
        (
            "operation_types",
            q(
                "SELECT id, name, prep_duration, op_duration, post_duration, color, active \
                 FROM appointments_operationtype ORDER BY name",
                vec![],
            ),
        ),
        (
            "resources",
            q(
                "SELECT id, name, type, color, active FROM appointments_resource ORDER BY name",
                vec![],
            ),
        ),
        (
            "doctors",
            q(
                "SELECT u.id, u.username, u.first_name, u.last_name, u.calendar_color \
                 FROM core_user u JOIN core_role r ON r.id = u.role_id \
                 WHERE r.name = ? AND u.is_active = ? ORDER BY u.last_name, u.first_name",
                vec!["doctor".to_owned().into(), true.into()],
            ),
        ),
    ]))
}
