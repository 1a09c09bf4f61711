//! PostgreSQL catalog reads and the tolerant constraint installer.
//!
//! Praxi's CHECK and FOREIGN KEY constraints are added `NOT VALID` and then validated; when
//! existing rows violate one, it stays `NOT VALID`: PostgreSQL then checks every new or changed
//! row, but not the old ones. Exclusion constraints (no double booking) cannot be `NOT VALID`;
//! when old rows overlap, the constraint is created with those booking ids excepted
//! (`… AND id <> ALL ('{…}')`), so every other row — and every new one — is still protected.
//! `praxi recheck` tightens both once staff resolved the findings.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use super::PraxiAppError;
use super::report::{BookingKind, Findings, find_violations};

/// One table constraint as the catalog prints it.
#[derive(Debug, Clone)]
pub(crate) struct ConstraintDef {
    pub(crate) table: String,
    pub(crate) name: String,
    /// `c` check, `f` foreign key, `x` exclusion, `u` unique, `p` primary key.
    pub(crate) kind: String,
    pub(crate) definition: String,
    pub(crate) validated: bool,
}

/// Every constraint of the tables in `schema`.
pub(crate) async fn constraints<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
) -> Result<Vec<ConstraintDef>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT c.relname AS table_name, k.conname AS name, k.contype::text AS kind, \
                    pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 ORDER BY c.relname, k.conname",
            [schema.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(ConstraintDef {
            table: row.try_get("", "table_name")?,
            name: row.try_get("", "name")?,
            kind: row.try_get("", "kind")?,
            definition: row.try_get("", "definition")?,
            validated: row.try_get("", "validated")?,
        });
    }
    Ok(out)
}

/// One index that does not back a constraint.
#[derive(Debug, Clone)]
pub(crate) struct IndexDef {
    pub(crate) table: String,
    pub(crate) name: String,
    pub(crate) definition: String,
}

impl IndexDef {
    /// The definition without name and schema (`UNIQUE`, method, columns, predicate), to
    /// recognise equivalent indexes under other names.
    pub(crate) fn shape(&self) -> String {
        let unique = self.definition.starts_with("CREATE UNIQUE");
        let body = self
            .definition
            .split_once(" USING ")
            .map(|(_, body)| body)
            .unwrap_or(&self.definition);
        format!("{}{}|{body}", if unique { "U|" } else { "" }, self.table)
    }
}

/// Every index of the tables in `schema` (including those backing constraints when
/// `with_constraints`).
pub(crate) async fn indexes<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
    with_constraints: bool,
) -> Result<Vec<IndexDef>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT t.relname AS table_name, i.relname AS name, \
                    pg_get_indexdef(x.indexrelid) AS definition, \
                    EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid \
                            AND k.conrelid = x.indrelid) AS backs_constraint \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = $1 ORDER BY t.relname, i.relname",
            [schema.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let backs: bool = row.try_get("", "backs_constraint")?;
        if backs && !with_constraints {
            continue;
        }
        out.push(IndexDef {
            table: row.try_get("", "table_name")?,
            name: row.try_get("", "name")?,
            definition: row.try_get("", "definition")?,
        });
    }
    Ok(out)
}

/// `(table, trigger name, definition)` of the user triggers in `schema`.
pub(crate) async fn triggers<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
) -> Result<Vec<(String, String, String)>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT c.relname AS table_name, t.tgname AS name, \
                    pg_get_triggerdef(t.oid) AS definition \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY c.relname, t.tgname",
            [schema.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push((
            row.try_get("", "table_name")?,
            row.try_get("", "name")?,
            row.try_get("", "definition")?,
        ));
    }
    Ok(out)
}

/// `(name, definition)` of the functions in `schema`.
pub(crate) async fn functions<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
) -> Result<Vec<(String, String)>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT p.proname AS name, pg_get_functiondef(p.oid) AS definition \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = $1 AND p.prokind = 'f' ORDER BY p.proname",
            [schema.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push((row.try_get("", "name")?, row.try_get("", "definition")?));
    }
    Ok(out)
}

/// How a constraint ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Installed {
    /// Valid for every row.
    Valid,
    /// `NOT VALID`: old rows violate it; new and changed rows are checked.
    NotValid,
    /// Exclusion constraint with the overlapping old bookings excepted.
    WithExceptions(Vec<i64>),
}

/// Adds `def` on `table` so that existing violations are tolerated and new ones refused.
/// Runs inside the caller's transaction (savepoints for the attempts).
pub(crate) async fn install_tolerant<C>(
    conn: &C,
    def: &ConstraintDef,
    findings: &Findings,
) -> Result<Installed, PraxiAppError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
{
    let table = &def.table;
    let name = &def.name;
    match def.kind.as_str() {
        "c" | "f" => {
            conn.execute_unprepared(&format!(
                "ALTER TABLE public.{table} ADD CONSTRAINT {name} {} NOT VALID",
                def.definition
            ))
            .await?;
            if try_statement(
                conn,
                &format!("ALTER TABLE public.{table} VALIDATE CONSTRAINT {name}"),
            )
            .await?
            {
                Ok(Installed::Valid)
            } else {
                Ok(Installed::NotValid)
            }
        }
        "x" => {
            let plain = format!(
                "ALTER TABLE public.{table} ADD CONSTRAINT {name} {}",
                def.definition
            );
            if try_statement(conn, &plain).await? {
                return Ok(Installed::Valid);
            }
            let kind = if table == "appointments_operation" {
                BookingKind::Operation
            } else {
                BookingKind::Appointment
            };
            let what: &[&str] = if def.definition.contains("(doctor_id WITH =")
                || def.definition.contains("surgeon_id WITH =")
            {
                &["doctor"]
            } else if def.definition.contains("(patient_id WITH =") {
                &["patient"]
            } else {
                &["room", "device", "resource"]
            };
            let ids = findings.overlapping_ids(kind, what);
            let definition = with_exceptions(&def.definition, &ids);
            conn.execute_unprepared(&format!(
                "ALTER TABLE public.{table} ADD CONSTRAINT {name} {definition}"
            ))
            .await?;
            Ok(Installed::WithExceptions(ids))
        }
        _ => {
            conn.execute_unprepared(&format!(
                "ALTER TABLE public.{table} ADD CONSTRAINT {name} {}",
                def.definition
            ))
            .await?;
            Ok(Installed::Valid)
        }
    }
}

/// Runs one statement in a savepoint; `false` (and rolled back) when it fails.
pub(crate) async fn try_statement<C>(conn: &C, sql: &str) -> Result<bool, PraxiAppError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
{
    let savepoint: sea_orm::DatabaseTransaction = conn.begin().await?;
    match savepoint.execute_unprepared(sql).await {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(_) => {
            savepoint.rollback().await?;
            Ok(false)
        }
    }
}

/// Marker of an exception list inside an exclusion constraint's predicate.
const EXCEPTION_MARKER: &str = "id <> ALL (";

/// `EXCLUDE … WHERE (p)` → `EXCLUDE … WHERE ((p) AND id <> ALL ('{…}'::bigint[]))`.
fn with_exceptions(definition: &str, ids: &[i64]) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let exception = format!("{EXCEPTION_MARKER}'{{{list}}}'::bigint[])");
    match definition.split_once(" WHERE ") {
        Some((head, predicate)) => format!("{head} WHERE (({predicate}) AND {exception})"),
        None => format!("{definition} WHERE ({exception})"),
    }
}

/// What `praxi recheck` found and changed.
#[derive(Debug, Clone, Default)]
pub struct RecheckOutcome {
    pub findings: Findings,
    /// Constraints now valid for every row.
    pub tightened: Vec<String>,
    /// Constraints that still tolerate old rows.
    pub still_tolerant: Vec<String>,
}

/// Re-checks a switched database after staff resolved findings: reports what is left and, on
/// PostgreSQL, validates `NOT VALID` constraints and rebuilds exclusion constraints with the
/// smallest exception list that still holds. On SQLite the checks run; the triggers and
/// constraints there check new writes only anyway.
pub async fn recheck(url: &str) -> Result<RecheckOutcome, PraxiAppError> {
    let db = sea_orm::Database::connect(url).await?;
    let result = recheck_on(&db).await;
    db.close().await?;
    result
}

async fn recheck_on(db: &DatabaseConnection) -> Result<RecheckOutcome, PraxiAppError> {
    let findings = find_violations(db).await?;
    let mut outcome = RecheckOutcome {
        findings,
        ..RecheckOutcome::default()
    };
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(outcome);
    }
    let txn = db.begin().await?;
    for def in constraints(&txn, "public").await? {
        let tolerant_exclusion = def.kind == "x" && def.definition.contains(EXCEPTION_MARKER);
        if !def.validated && matches!(def.kind.as_str(), "c" | "f") {
            let sql = format!(
                "ALTER TABLE public.{} VALIDATE CONSTRAINT {}",
                def.table, def.name
            );
            if try_statement(&txn, &sql).await? {
                outcome.tightened.push(def.name.clone());
            } else {
                outcome.still_tolerant.push(def.name.clone());
            }
        } else if tolerant_exclusion {
            let Some((head, _)) = def.definition.split_once(" WHERE ") else {
                continue;
            };
            let plain = ConstraintDef {
                definition: format!("{head} WHERE ((status)::text <> 'cancelled'::text)"),
                ..def.clone()
            };
            txn.execute_unprepared(&format!(
                "ALTER TABLE public.{} DROP CONSTRAINT {}",
                def.table, def.name
            ))
            .await?;
            match install_tolerant(&txn, &plain, &outcome.findings).await? {
                Installed::Valid => outcome.tightened.push(def.name.clone()),
                _ => outcome.still_tolerant.push(def.name.clone()),
            }
        }
    }
    txn.commit().await?;
    Ok(outcome)
}
