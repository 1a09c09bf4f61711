//! `praxi import --from postgres://…`: copy a PraxiApp database into a fresh Praxi database.
//!
//! The source is read in one `REPEATABLE READ` read-only transaction, table by table in
//! keyset-paginated chunks (`WHERE id > last ORDER BY id LIMIT n`); each chunk becomes one
//! multi-row INSERT into the target, all inside one target transaction (all or nothing).
//! Memory stays flat: one chunk at a time. Ids are kept; sequences continue after the
//! imported maxima. Rows Praxi's constraints forbid are copied as they are and reported; the
//! constraints then check new writes only (PostgreSQL: `NOT VALID` / exclusion exceptions,
//! SQLite: checks and foreign keys apply to rows written from now on).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    IsolationLevel, QueryResult, Statement, TransactionTrait, Value,
};

use super::PraxiAppError;
use super::layout;
use super::pg::{self, ConstraintDef, Installed};
use super::report::{Findings, find_violations, get_i64, require_postgres};
use crate::Store;

/// Tables copied, parents before children.
pub(crate) const COPIED_TABLES: [&str; 22] = [
    "core_role",
    "core_user",
    "auth_group",
    "auth_permission",
    "core_user_groups",
    "core_user_user_permissions",
    "patients",
    "patient_documents",
    "patient_notes",
    "appointments_appointmenttype",
    "appointments_practicehours",
    "appointments_doctorhours",
    "appointments_doctorabsence",
    "appointments_doctorbreak",
    "appointments_resource",
    "appointments_operationtype",
    "appointments_appointment",
    "appointments_appointmentresource",
    "appointments_operation",
    "appointments_operationdevice",
    "appointments_patientflow",
    "core_auditlog",
];

/// Tables of the original that are deliberately not copied, with the reason.
pub(crate) const SKIPPED_TABLES: [(&str, &str); 2] = [
    (
        "token_blacklist_outstandingtoken",
        "refresh tokens of the old system are not accepted by Praxi",
    ),
    (
        "token_blacklist_blacklistedtoken",
        "refresh tokens of the old system are not accepted by Praxi",
    ),
];

/// Values Praxi derives for its own columns after the copy (portable SQL).
const BACKFILLS: [&str; 3] = [
    "UPDATE appointments_operation SET \
       prep_duration = COALESCE((SELECT t.prep_duration FROM appointments_operationtype t \
                                 WHERE t.id = appointments_operation.op_type_id), 0), \
       op_duration = COALESCE((SELECT t.op_duration FROM appointments_operationtype t \
                               WHERE t.id = appointments_operation.op_type_id), 0), \
       post_duration = COALESCE((SELECT t.post_duration FROM appointments_operationtype t \
                                 WHERE t.id = appointments_operation.op_type_id), 0)",
    "UPDATE appointments_patientflow SET created_at = COALESCE(arrival_time, status_changed_at)",
    // The copied audit rows predate the hash chain (m0012): it starts after them.
    "UPDATE core_auditlog_chain SET \
       legacy_until = (SELECT COALESCE(MAX(id), 0) FROM core_auditlog), \
       last_id = (SELECT COALESCE(MAX(id), 0) FROM core_auditlog), \
       hash = '0000000000000000000000000000000000000000000000000000000000000000'",
];

/// Rows per INSERT at most (also bounded by the number of bind parameters).
const DEFAULT_BATCH_ROWS: usize = 1000;

/// Options of `praxi import`.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The PraxiApp database (`postgres://…`).
    pub source_url: String,
    /// The new Praxi database (`sqlite://…` or `postgres://…`), created/migrated here.
    pub target_url: String,
    /// Rows per chunk (0: default).
    pub batch_rows: usize,
}

/// Rows per table: in the source and in the target after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub source: i64,
    pub copied: i64,
}

/// What `import` did.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub findings: Findings,
    pub counts: Vec<TableCount>,
    /// Constraints that tolerate old rows (PostgreSQL target), and other remarks.
    pub notes: Vec<String>,
}

/// Receives progress: `(table, rows done, rows total)`.
pub trait Progress {
    fn update(&mut self, table: &str, done: u64, total: u64);
}

impl<F: FnMut(&str, u64, u64)> Progress for F {
    fn update(&mut self, table: &str, done: u64, total: u64) {
        self(table, done, total)
    }
}

/// Copies the PraxiApp database at `options.source_url` into the fresh Praxi database at
/// `options.target_url`.
pub async fn import(
    options: &ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportOutcome, PraxiAppError> {
    let mut source_options = ConnectOptions::new(options.source_url.clone());
    source_options
        .sqlx_logging(false)
        .max_connections(2)
        .connect_timeout(Duration::from_secs(10));
    let source = Database::connect(source_options).await?;
    require_postgres(source.get_database_backend(), "the import source")?;
    let result = import_from(&source, options, progress).await;
    source.close().await?;
    result
}

async fn import_from(
    source: &DatabaseConnection,
    options: &ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportOutcome, PraxiAppError> {
    let snapshot = source
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    layout::recognise(&snapshot).await?;
    layout::check_layout(&snapshot).await?;
    let findings = find_violations(&snapshot).await?;
    let source_columns = layout::columns(&snapshot, "public").await?;

    // A fresh Praxi schema in the target, which must hold no data yet.
    let store = Store::connect(&options.target_url).await?;
    store.migrate().await?;
    let mut not_empty = Vec::new();
    for table in COPIED_TABLES {
        if count(store.conn(), table).await? > 0 {
            not_empty.push(table);
        }
    }
    store.close().await?;
    if !not_empty.is_empty() {
        return Err(PraxiAppError::TargetNotEmpty(format!(
            "{} already hold rows; import into a new database",
            not_empty.join(", ")
        )));
    }

    let target = connect_target(&options.target_url).await?;
    let backend = target.get_database_backend();
    let txn = target.begin().await?;
    let mut notes = Vec::new();

    // Take Praxi's checks off while the original's rows go in (restored below).
    let mut sqlite_triggers: Vec<String> = Vec::new();
    let mut pg_constraints: Vec<ConstraintDef> = Vec::new();
    match backend {
        DbBackend::Sqlite => {
            txn.execute_unprepared("PRAGMA ignore_check_constraints = ON")
                .await?;
            for row in txn
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' \
                     ORDER BY name",
                ))
                .await?
            {
                let name: String = row.try_get("", "name")?;
                let table: String = row.try_get("", "tbl_name")?;
                if COPIED_TABLES.contains(&table.as_str()) {
                    sqlite_triggers.push(row.try_get("", "sql")?);
                    txn.execute_unprepared(&format!("DROP TRIGGER {name}"))
                        .await?;
                }
            }
        }
        _ => {
            for def in pg::constraints(&txn, "public").await? {
                if COPIED_TABLES.contains(&def.table.as_str())
                    && matches!(def.kind.as_str(), "c" | "f" | "x")
                {
                    txn.execute_unprepared(&format!(
                        "ALTER TABLE public.{} DROP CONSTRAINT {}",
                        def.table, def.name
                    ))
                    .await?;
                    pg_constraints.push(def);
                }
            }
        }
    }

    let target_columns = target_columns(&txn).await?;
    let mut counts = Vec::new();
    for table in COPIED_TABLES {
        let Some(from) = source_columns.get(table) else {
            continue;
        };
        let Some(to) = target_columns.get(table) else {
            continue;
        };
        let mut columns: Vec<(&String, &layout::ColumnInfo)> = from
            .iter()
            .filter(|(column, _)| to.contains(*column))
            .collect();
        columns.sort_by_key(|(_, info)| info.position);
        let total = count(&snapshot, table).await?;
        let copied = copy_table(
            &snapshot,
            &txn,
            table,
            &columns,
            options.batch_rows,
            u64::try_from(total).unwrap_or(0),
            progress,
        )
        .await?;
        counts.push(TableCount {
            table: table.to_owned(),
            source: total,
            copied,
        });
    }
    for sql in BACKFILLS {
        txn.execute_unprepared(sql).await?;
    }

    // Praxi's checks back on, tolerant of what the original left behind.
    match backend {
        DbBackend::Sqlite => {
            for sql in &sqlite_triggers {
                txn.execute_unprepared(sql).await?;
            }
            txn.execute_unprepared("PRAGMA ignore_check_constraints = OFF")
                .await?;
        }
        _ => {
            for def in &pg_constraints {
                match pg::install_tolerant(&txn, def, &findings).await? {
                    Installed::Valid => {}
                    Installed::NotValid => notes.push(format!(
                        "constraint {} on {} is NOT VALID: existing rows violate it, new rows are checked",
                        def.name, def.table
                    )),
                    Installed::WithExceptions(ids) => notes.push(format!(
                        "constraint {} on {} excepts {} overlapping old booking(s); new bookings are checked",
                        def.name,
                        def.table,
                        ids.len()
                    )),
                }
            }
            for table in COPIED_TABLES {
                txn.execute_unprepared(&format!(
                    "SELECT setval(seq, GREATEST(m, 1), m IS NOT NULL) FROM ( \
                       SELECT pg_get_serial_sequence('public.{table}', 'id') AS seq, \
                              (SELECT max(id) FROM public.{table}) AS m) s \
                     WHERE seq IS NOT NULL"
                ))
                .await?;
            }
        }
    }
    // Counted again inside the transaction: what the commit will hold.
    for entry in &mut counts {
        entry.copied = count(&txn, &entry.table).await?;
    }
    txn.commit().await?;
    snapshot.commit().await?;
    target.close().await?;
    for (table, reason) in SKIPPED_TABLES {
        if source_columns.contains_key(table) {
            notes.push(format!("not copied: {table} ({reason})"));
        }
    }
    Ok(ImportOutcome {
        findings,
        counts,
        notes,
    })
}

/// The target connection for the copy. SQLite: one connection with foreign keys off (the
/// original has appointments whose patient row is missing; they are copied and reported).
async fn connect_target(url: &str) -> Result<DatabaseConnection, PraxiAppError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(false)
                .busy_timeout(Duration::from_secs(30))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        });
    }
    Ok(Database::connect(options).await?)
}

/// Table → column names of the target.
async fn target_columns<C: ConnectionTrait>(
    txn: &C,
) -> Result<BTreeMap<String, BTreeSet<String>>, PraxiAppError> {
    let backend = txn.get_database_backend();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for table in COPIED_TABLES {
        let rows = match backend {
            DbBackend::Sqlite => {
                txn.query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await?
            }
            _ => {
                txn.query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT column_name AS name FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = $1",
                    [table.into()],
                ))
                .await?
            }
        };
        let columns = out.entry(table.to_owned()).or_default();
        for row in rows {
            columns.insert(row.try_get("", "name")?);
        }
    }
    Ok(out)
}

/// Copies one table chunk by chunk; returns the rows written.
async fn copy_table<S, T>(
    source: &S,
    target: &T,
    table: &str,
    columns: &[(&String, &layout::ColumnInfo)],
    batch_rows: usize,
    total: u64,
    progress: &mut dyn Progress,
) -> Result<i64, PraxiAppError>
where
    S: ConnectionTrait,
    T: ConnectionTrait,
{
    let max_params = 30_000 / columns.len().max(1);
    let batch = if batch_rows == 0 {
        DEFAULT_BATCH_ROWS
    } else {
        batch_rows
    }
    .min(max_params)
    .max(1);
    let column_list = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut last_id: Option<i64> = None;
    let mut done: u64 = 0;
    progress.update(table, 0, total);
    loop {
        let (filter, values): (&str, Vec<Value>) = match last_id {
            Some(id) => ("WHERE id > $1", vec![id.into()]),
            None => ("", Vec::new()),
        };
        let rows = source
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT {column_list} FROM {table} {filter} ORDER BY id LIMIT {batch}"),
                values,
            ))
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        last_id = Some(get_i64(last, "id")?);
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|(name, _)| Alias::new(name.as_str())));
        for row in &rows {
            let mut values = Vec::with_capacity(columns.len());
            for (name, info) in columns {
                values.push(read_value(row, name, &info.data_type)?);
            }
            insert
                .values(values.into_iter().map(Into::into))
                .map_err(|error| PraxiAppError::Db(sea_orm::DbErr::Custom(error.to_string())))?;
        }
        target.execute(&insert).await?;
        done += rows.len() as u64;
        progress.update(table, done, total);
        if rows.len() < batch {
            break;
        }
    }
    Ok(i64::try_from(done).unwrap_or(i64::MAX))
}

/// One source value, typed by the source column's type.
fn read_value(row: &QueryResult, column: &str, data_type: &str) -> Result<Value, PraxiAppError> {
    Ok(match data_type {
        "integer" => row.try_get::<Option<i32>>("", column)?.into(),
        "smallint" => row.try_get::<Option<i16>>("", column)?.into(),
        "bigint" => row.try_get::<Option<i64>>("", column)?.into(),
        "boolean" => row.try_get::<Option<bool>>("", column)?.into(),
        "timestamp with time zone" => row
            .try_get::<Option<chrono::DateTime<chrono::Utc>>>("", column)?
            .into(),
        "date" => row.try_get::<Option<chrono::NaiveDate>>("", column)?.into(),
        "time without time zone" => row.try_get::<Option<chrono::NaiveTime>>("", column)?.into(),
        "jsonb" | "json" => row.try_get::<Option<serde_json::Value>>("", column)?.into(),
        _ => row.try_get::<Option<String>>("", column)?.into(),
    })
}

async fn count<C: ConnectionTrait>(conn: &C, table: &str) -> Result<i64, PraxiAppError> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    })
}
