//! Bulk seeding for `praxi-bench`: a whole practice (hours, breaks, resources, types, patients,
//! appointments, operations) written with multi-row INSERTs in one transaction, so 50,000
//! appointments take about a hundred statements instead of 50,000 API calls. Also creates and
//! drops the throw-away PostgreSQL databases the benchmark runs on.
//!
//! Nothing here checks business rules: the caller (the benchmark's generator) produces rows
//! that never overlap per doctor, patient or room. On PostgreSQL the exclusion constraints still
//! check every row, so a generator bug fails the seed instead of skewing the numbers.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::{InsertStatement, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use praxi_store::Store;
use praxi_store::StoreError;
use praxi_store::migration::idens::{
    Appointment, AppointmentResource, AppointmentType, DoctorBreak, DoctorHours, Operation,
    OperationDevice, OperationType, Patients, PracticeHours, Resource,
};

/// Rows per INSERT statement (stays below SQLite's and PostgreSQL's bind-parameter limits for
/// the widest table, operations with 15 columns).
const CHUNK_ROWS: usize = 1_000;

/// A weekly window (`weekday` 0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeedWindow {
    pub(crate) weekday: i32,
    pub(crate) start: NaiveTime,
    pub(crate) end: NaiveTime,
}

/// A break on one date; `doctor: None` is practice-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedBreak {
    pub(crate) doctor: Option<i64>,
    pub(crate) date: NaiveDate,
    pub(crate) start: NaiveTime,
    pub(crate) end: NaiveTime,
    pub(crate) reason: String,
}

/// A room or device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedResource {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// `room` or `device`.
    pub(crate) kind: &'static str,
    pub(crate) color: String,
}

/// An appointment type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedAppointmentType {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) color: String,
    pub(crate) duration_minutes: Option<i32>,
}

/// An operation type with its phase durations in minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedOperationType {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) prep: i32,
    pub(crate) op: i32,
    pub(crate) post: i32,
    pub(crate) color: String,
}

/// A patient (the id is the patient number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedPatient {
    pub(crate) id: i32,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) birth_date: Option<NaiveDate>,
    pub(crate) gender: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
}

/// An appointment with its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedAppointment {
    pub(crate) id: i32,
    pub(crate) patient_id: i32,
    pub(crate) type_id: Option<i64>,
    pub(crate) doctor_id: i64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) status: &'static str,
    pub(crate) is_no_show: bool,
    pub(crate) resources: Vec<i64>,
}

/// An operation with its devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedOperation {
    pub(crate) id: i64,
    pub(crate) patient_id: i32,
    pub(crate) primary_surgeon_id: i64,
    pub(crate) assistant_id: Option<i64>,
    pub(crate) anesthesist_id: Option<i64>,
    pub(crate) op_room_id: i64,
    pub(crate) op_type_id: i64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) prep: i32,
    pub(crate) op: i32,
    pub(crate) post: i32,
    pub(crate) status: &'static str,
    pub(crate) devices: Vec<i64>,
}

/// Everything [`bulk_seed`] writes. Ids are given by the caller so links can refer to them;
/// the referenced doctors must exist already.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeedData {
    pub(crate) practice_hours: Vec<SeedWindow>,
    pub(crate) doctor_hours: Vec<(i64, SeedWindow)>,
    pub(crate) breaks: Vec<SeedBreak>,
    pub(crate) resources: Vec<SeedResource>,
    pub(crate) appointment_types: Vec<SeedAppointmentType>,
    pub(crate) operation_types: Vec<SeedOperationType>,
    pub(crate) patients: Vec<SeedPatient>,
    pub(crate) appointments: Vec<SeedAppointment>,
    pub(crate) operations: Vec<SeedOperation>,
}

/// Rows and statements written by [`bulk_seed`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SeedCounts {
    pub(crate) rows: u64,
    pub(crate) statements: u64,
}

/// Runs `insert` with `rows` appended in chunks of [`CHUNK_ROWS`].
async fn insert_chunked<C: ConnectionTrait>(
    conn: &C,
    template: &InsertStatement,
    rows: impl Iterator<Item = Vec<SimpleExpr>>,
    counts: &mut SeedCounts,
) -> Result<(), StoreError> {
    let mut statement = template.clone();
    let mut in_statement = 0usize;
    for row in rows {
        statement.values_panic(row);
        in_statement += 1;
        if in_statement == CHUNK_ROWS {
            conn.execute(&statement).await?;
            counts.rows += in_statement as u64;
            counts.statements += 1;
            statement = template.clone();
            in_statement = 0;
        }
    }
    if in_statement > 0 {
        conn.execute(&statement).await?;
        counts.rows += in_statement as u64;
        counts.statements += 1;
    }
    Ok(())
}

fn v(value: impl Into<Value>) -> SimpleExpr {
    SimpleExpr::Value(value.into())
}

/// Writes `data` in one transaction with multi-row INSERTs; `now` stamps `created_at` and
/// `updated_at`. On PostgreSQL the identity sequences are moved past the given ids (so the API
/// can create rows afterwards) and the tables are analysed, as autovacuum would do shortly after
/// a bulk load. SQLite gets no `ANALYZE`, as in production.
pub(crate) async fn bulk_seed(
    store: &Store,
    data: &SeedData,
    now: DateTime<Utc>,
) -> Result<SeedCounts, StoreError> {
    let mut counts = SeedCounts::default();
    let tx = store.write().await?;
    let conn = &*tx;

    let template = Query::insert()
        .into_table(PracticeHours::Table)
        .columns([
            PracticeHours::Weekday,
            PracticeHours::StartTime,
            PracticeHours::EndTime,
            PracticeHours::Active,
            PracticeHours::CreatedAt,
            PracticeHours::UpdatedAt,
        ])
        .to_owned();
    let rows = data
        .practice_hours
        .iter()
        .map(|w| vec![v(w.weekday), v(w.start), v(w.end), v(true), v(now), v(now)]);
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(DoctorHours::Table)
        .columns([
            DoctorHours::DoctorId,
            DoctorHours::Weekday,
            DoctorHours::StartTime,
            DoctorHours::EndTime,
            DoctorHours::Active,
            DoctorHours::CreatedAt,
            DoctorHours::UpdatedAt,
        ])
        .to_owned();
    let rows = data.doctor_hours.iter().map(|(doctor, w)| {
        vec![
            v(*doctor),
            v(w.weekday),
            v(w.start),
            v(w.end),
            v(true),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(DoctorBreak::Table)
        .columns([
            DoctorBreak::DoctorId,
            DoctorBreak::Date,
            DoctorBreak::StartTime,
            DoctorBreak::EndTime,
            DoctorBreak::Reason,
            DoctorBreak::Active,
            DoctorBreak::CreatedAt,
            DoctorBreak::UpdatedAt,
        ])
        .to_owned();
    let rows = data.breaks.iter().map(|b| {
        vec![
            v(b.doctor),
            v(b.date),
            v(b.start),
            v(b.end),
            v(b.reason.clone()),
            v(true),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(Resource::Table)
        .columns([
            Resource::Id,
            Resource::Name,
            Resource::Type,
            Resource::Color,
            Resource::Active,
            Resource::CreatedAt,
            Resource::UpdatedAt,
        ])
        .to_owned();
    let rows = data.resources.iter().map(|r| {
        vec![
            v(r.id),
            v(r.name.clone()),
            v(r.kind),
            v(r.color.clone()),
            v(true),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(AppointmentType::Table)
        .columns([
            AppointmentType::Id,
            AppointmentType::Name,
            AppointmentType::Color,
            AppointmentType::DurationMinutes,
            AppointmentType::Active,
            AppointmentType::CreatedAt,
            AppointmentType::UpdatedAt,
        ])
        .to_owned();
    let rows = data.appointment_types.iter().map(|t| {
        vec![
            v(t.id),
            v(t.name.clone()),
            v(t.color.clone()),
            v(t.duration_minutes),
            v(true),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(OperationType::Table)
        .columns([
            OperationType::Id,
            OperationType::Name,
            OperationType::PrepDuration,
            OperationType::OpDuration,
            OperationType::PostDuration,
            OperationType::Color,
            OperationType::Active,
            OperationType::CreatedAt,
            OperationType::UpdatedAt,
        ])
        .to_owned();
    let rows = data.operation_types.iter().map(|t| {
        vec![
            v(t.id),
            v(t.name.clone()),
            v(t.prep),
            v(t.op),
            v(t.post),
            v(t.color.clone()),
            v(true),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(Patients::Table)
        .columns([
            Patients::Id,
            Patients::FirstName,
            Patients::LastName,
            Patients::BirthDate,
            Patients::Gender,
            Patients::Phone,
            Patients::Email,
            Patients::CreatedAt,
            Patients::UpdatedAt,
        ])
        .to_owned();
    let rows = data.patients.iter().map(|p| {
        vec![
            v(p.id),
            v(p.first_name.clone()),
            v(p.last_name.clone()),
            v(p.birth_date),
            v(p.gender.clone()),
            v(p.phone.clone()),
            v(p.email.clone()),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(Appointment::Table)
        .columns([
            Appointment::Id,
            Appointment::PatientId,
            Appointment::TypeId,
            Appointment::DoctorId,
            Appointment::StartTime,
            Appointment::EndTime,
            Appointment::Status,
            Appointment::IsNoShow,
            Appointment::Notes,
            Appointment::CreatedAt,
            Appointment::UpdatedAt,
        ])
        .to_owned();
    let rows = data.appointments.iter().map(|a| {
        vec![
            v(a.id),
            v(a.patient_id),
            v(a.type_id),
            v(a.doctor_id),
            v(a.start),
            v(a.end),
            v(a.status),
            v(a.is_no_show),
            v(""),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(AppointmentResource::Table)
        .columns([
            AppointmentResource::AppointmentId,
            AppointmentResource::ResourceId,
        ])
        .to_owned();
    let rows = data
        .appointments
        .iter()
        .flat_map(|a| a.resources.iter().map(move |r| vec![v(a.id), v(*r)]));
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(Operation::Table)
        .columns([
            Operation::Id,
            Operation::PatientId,
            Operation::PrimarySurgeonId,
            Operation::AssistantId,
            Operation::AnesthesistId,
            Operation::OpRoomId,
            Operation::OpTypeId,
            Operation::StartTime,
            Operation::EndTime,
            Operation::PrepDuration,
            Operation::OpDuration,
            Operation::PostDuration,
            Operation::Status,
            Operation::CreatedAt,
            Operation::UpdatedAt,
        ])
        .to_owned();
    let rows = data.operations.iter().map(|o| {
        vec![
            v(o.id),
            v(o.patient_id),
            v(o.primary_surgeon_id),
            v(o.assistant_id),
            v(o.anesthesist_id),
            v(o.op_room_id),
            v(o.op_type_id),
            v(o.start),
            v(o.end),
            v(o.prep),
            v(o.op),
            v(o.post),
            v(o.status),
            v(now),
            v(now),
        ]
    });
    insert_chunked(conn, &template, rows, &mut counts).await?;

    let template = Query::insert()
        .into_table(OperationDevice::Table)
        .columns([OperationDevice::OperationId, OperationDevice::ResourceId])
        .to_owned();
    let rows = data
        .operations
        .iter()
        .flat_map(|o| o.devices.iter().map(move |d| vec![v(o.id), v(*d)]));
    insert_chunked(conn, &template, rows, &mut counts).await?;

    if store.backend() == DbBackend::Postgres {
        for table in [
            "appointments_resource",
            "appointments_appointmenttype",
            "appointments_operationtype",
            "appointments_appointment",
            "appointments_operation",
        ] {
            conn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT MAX(id) FROM {table}))"
                ),
            ))
            .await?;
            counts.statements += 1;
        }
    }
    tx.commit().await?;
    if store.backend() == DbBackend::Postgres {
        store.conn().execute_unprepared("ANALYZE").await?;
        counts.statements += 1;
    }
    Ok(counts)
}

/// `base/name?query` for a PostgreSQL URL `base/db?query`.
fn with_database(url: &str, name: &str) -> Result<String, StoreError> {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let (base, _) = path
        .rsplit_once('/')
        .filter(|(base, _)| base.contains("://"))
        .ok_or_else(|| StoreError::Db(format!("no database name in {path:?}")))?;
    Ok(match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    })
}

/// The database name of a PostgreSQL URL (`postgres` when there is none).
pub(crate) fn database_name(url: &str) -> String {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    path.rsplit_once('/')
        .filter(|(base, name)| base.contains("://") && !name.is_empty())
        .map_or_else(|| "postgres".to_owned(), |(_, name)| name.to_owned())
}

/// Creates the PostgreSQL database `name` through `admin_url` and returns its URL. `name` must
/// be a plain identifier (letters, digits, `_`).
pub(crate) async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    check_identifier(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = admin
        .conn()
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await;
    admin.close().await?;
    result?;
    with_database(admin_url, name)
}

/// Drops the PostgreSQL database `name` (closing its other connections first).
pub(crate) async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    check_identifier(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = admin
        .conn()
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    admin.close().await?;
    result?;
    Ok(())
}

fn check_identifier(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Db(format!("unsafe database name {name:?}")))
    }
}

/// Whether the database holds no users and no patients yet (the benchmark only seeds such a
/// database, never one in use).
pub(crate) async fn is_empty(store: &Store) -> Result<bool, StoreError> {
    let backend = store.backend();
    let row = store
        .conn()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT (SELECT COUNT(*) FROM core_user) + (SELECT COUNT(*) FROM patients) AS n",
        ))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_rewritten() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "x",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "x",
                "postgres://u:p@h/x?sslmode=disable",
            ),
        ];
        for (url, name, expected) in cases {
            assert_eq!(
                with_database(url, name).ok().as_deref(),
                Some(expected),
                "{url}"
            );
        }
        assert!(with_database("nonsense", "x").is_err());
        assert_eq!(database_name("postgres://h:5432/ci_run?x=1"), "ci_run");
        assert_eq!(database_name("postgres://h:5432"), "postgres");
    }

    #[test]
    fn only_plain_identifiers_are_database_names() {
        for (name, ok) in [
            ("praxi_bench_1", true),
            ("", false),
            ("a\"b", false),
            ("a b", false),
            ("a;drop", false),
        ] {
            assert_eq!(check_identifier(name).is_ok(), ok, "{name:?}");
        }
    }
}
