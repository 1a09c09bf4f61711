//! `praxi adopt`: turn a PraxiApp database into a Praxi database in place (PostgreSQL).
//!
//! How the plan is made: inside one transaction, Praxi's own migrations run into a scratch
//! schema (`praxi_adopt_ref`); the catalog of that schema is compared with `public`, and only
//! what is missing is added to `public` (tables, columns, defaults, constraints, indexes,
//! functions, triggers), plus the rows of `seaql_migrations`, so that `praxi serve` finds
//! nothing to migrate. The scratch schema is dropped before the commit. Nothing is removed or
//! rewritten: the original's tables that Praxi does not use, its extra columns, constraints
//! and indexes stay as they are. A dry run performs the same work and rolls it back, so the
//! printed plan is the one that would be applied.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use super::PraxiAppError;
use super::layout::{self, ColumnInfo};
use super::pg::{self, Installed};
use super::report::{Findings, find_violations, require_postgres};
use crate::migration::Migrator;

/// The scratch schema the reference layout is built in.
const REF_SCHEMA: &str = "praxi_adopt_ref";

/// Values for new NOT NULL columns without a default on tables that already hold rows.
const FILL_VALUES: [(&str, &str, &str); 1] = [("token_blacklist_outstandingtoken", "family", "''")];

/// Columns Praxi adds that can be derived from what the original stored. Run right after the
/// column is added (so a second run never touches them again).
const BACKFILLS: [(&str, &str, &str); 4] = [
    (
        "appointments_operation",
        "prep_duration",
        "UPDATE appointments_operation o SET prep_duration = t.prep_duration \
         FROM appointments_operationtype t WHERE t.id = o.op_type_id",
    ),
    (
        "appointments_operation",
        "op_duration",
        "UPDATE appointments_operation o SET op_duration = t.op_duration \
         FROM appointments_operationtype t WHERE t.id = o.op_type_id",
    ),
    (
        "appointments_operation",
        "post_duration",
        "UPDATE appointments_operation o SET post_duration = t.post_duration \
         FROM appointments_operationtype t WHERE t.id = o.op_type_id",
    ),
    (
        "appointments_patientflow",
        "created_at",
        "UPDATE appointments_patientflow SET created_at = COALESCE(arrival_time, status_changed_at)",
    ),
];

/// Options of `praxi adopt`.
#[derive(Debug, Clone, Default)]
pub struct AdoptOptions {
    /// Compute and print the plan, then roll everything back.
    pub dry_run: bool,
}

/// What `adopt` did (or would do).
#[derive(Debug, Clone, Default)]
pub struct AdoptOutcome {
    /// `django_migrations` rows recognised.
    pub django_migrations: usize,
    /// The plan: one line per change, in order.
    pub plan: Vec<String>,
    /// Remarks that change nothing (kept differences).
    pub notes: Vec<String>,
    /// Findings in the data as it was before the change.
    pub findings: Findings,
    /// Whether the database was already a Praxi database (nothing to do).
    pub already_adopted: bool,
    /// Row counts of the tables Praxi copies/reads, before and after (must be equal).
    pub row_counts: Vec<(String, i64)>,
}

/// Adopts the PostgreSQL database at `url`.
pub async fn adopt(url: &str, options: &AdoptOptions) -> Result<AdoptOutcome, PraxiAppError> {
    let mut connect = ConnectOptions::new(url.to_owned());
    connect.sqlx_logging(false).max_connections(2);
    let db = Database::connect(connect).await?;
    require_postgres(db.get_database_backend(), "praxi adopt")?;
    let result = adopt_on(&db, options).await;
    db.close().await?;
    result
}

async fn adopt_on(
    db: &sea_orm::DatabaseConnection,
    options: &AdoptOptions,
) -> Result<AdoptOutcome, PraxiAppError> {
    let mut outcome = AdoptOutcome::default();
    let txn = db.begin().await?;
    // One adoption at a time; a second concurrent run waits and then finds nothing to do.
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7304501)")
        .await?;
    // The original's foreign keys are DEFERRABLE INITIALLY DEFERRED; checked at once instead,
    // so that ALTER TABLE after a backfill finds no pending trigger events.
    txn.execute_unprepared("SET CONSTRAINTS ALL IMMEDIATE")
        .await?;
    outcome.django_migrations = layout::recognise(&txn).await?;
    layout::check_layout(&txn).await?;
    outcome.findings = find_violations(&txn).await?;
    let before = row_counts(&txn).await?;

    for extension in ["btree_gist", "pg_trgm"] {
        let available = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 AS available FROM pg_available_extensions WHERE name = $1",
                [extension.into()],
            ))
            .await?
            .is_some();
        let installed = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 AS installed FROM pg_extension WHERE extname = $1",
                [extension.into()],
            ))
            .await?
            .is_some();
        if available && !installed {
            txn.execute_unprepared(&format!(
                "CREATE EXTENSION IF NOT EXISTS {extension} SCHEMA public"
            ))
            .await?;
            outcome.plan.push(format!("create extension {extension}"));
        }
    }

    // Praxi's own schema, built by its own migrations, as the reference.
    txn.execute_unprepared(&format!(
        "DROP SCHEMA IF EXISTS {REF_SCHEMA} CASCADE; CREATE SCHEMA {REF_SCHEMA}; \
         SET LOCAL search_path TO {REF_SCHEMA}, public"
    ))
    .await?;
    Migrator::up(&txn, None).await?;
    txn.execute_unprepared("SET LOCAL search_path TO public")
        .await?;

    let reference = layout::columns(&txn, REF_SCHEMA).await?;
    let mut public = layout::columns(&txn, "public").await?;
    let migrations_table = Migrator::migration_table_name().to_string();
    let already = public.contains_key(&migrations_table)
        && applied_migrations(&txn).await? >= Migrator::migrations().len();

    // Tables.
    let mut new_tables = BTreeSet::new();
    for table in reference.keys() {
        if !public.contains_key(table) && *table != migrations_table {
            exec(
                &txn,
                &mut outcome.plan,
                format!("create table {table}"),
                &format!(
                    "CREATE TABLE public.{table} (LIKE {REF_SCHEMA}.{table} INCLUDING DEFAULTS \
                     INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)"
                ),
            )
            .await?;
            new_tables.insert(table.clone());
        }
    }

    // Columns, nullability and defaults of the tables both have.
    for (table, ref_columns) in &reference {
        if new_tables.contains(table) || *table == migrations_table {
            continue;
        }
        let Some(public_columns) = public.get_mut(table) else {
            continue;
        };
        let mut ordered: Vec<(&String, &ColumnInfo)> = ref_columns.iter().collect();
        ordered.sort_by_key(|(_, info)| info.position);
        for (column, info) in ordered {
            match public_columns.get(column) {
                None => add_column(&txn, &mut outcome.plan, table, column, info).await?,
                Some(existing) => {
                    if existing.full_type != info.full_type {
                        outcome.notes.push(format!(
                            "kept {table}.{column} as {} (Praxi creates {})",
                            existing.full_type, info.full_type
                        ));
                    }
                    if existing.not_null && !info.not_null {
                        exec(
                            &txn,
                            &mut outcome.plan,
                            format!("allow NULL in {table}.{column}"),
                            &format!(
                                "ALTER TABLE public.{table} ALTER COLUMN {column} DROP NOT NULL"
                            ),
                        )
                        .await?;
                    }
                    if !existing.not_null && info.not_null {
                        outcome.notes.push(format!(
                            "kept {table}.{column} nullable (Praxi writes it on every new row)"
                        ));
                    }
                    if let Some(default) = info.default.as_ref().filter(|default| {
                        existing.default.is_none()
                            && !existing.identity
                            && !default.contains("nextval(")
                    }) {
                        exec(
                            &txn,
                            &mut outcome.plan,
                            format!("set default of {table}.{column} to {default}"),
                            &format!(
                                "ALTER TABLE public.{table} ALTER COLUMN {column} \
                                 SET DEFAULT {default}"
                            ),
                        )
                        .await?;
                    }
                }
            }
        }
        // Columns only the original has: Praxi never writes them, so they must not block its
        // inserts.
        for (column, existing) in public_columns.iter() {
            if !ref_columns.contains_key(column)
                && existing.not_null
                && existing.default.is_none()
                && !existing.identity
            {
                exec(
                    &txn,
                    &mut outcome.plan,
                    format!(
                        "allow NULL in {table}.{column} (a PraxiApp column Praxi does not write)"
                    ),
                    &format!("ALTER TABLE public.{table} ALTER COLUMN {column} DROP NOT NULL"),
                )
                .await?;
            }
        }
    }

    // Functions (the audit log's append-only trigger function).
    let public_functions: BTreeSet<String> = pg::functions(&txn, "public")
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for (name, definition) in pg::functions(&txn, REF_SCHEMA).await? {
        if !public_functions.contains(&name) {
            exec(
                &txn,
                &mut outcome.plan,
                format!("create function {name}"),
                &to_public(&definition),
            )
            .await?;
        }
    }

    // Indexes (skipping those an equivalent index already provides).
    let mut shapes: BTreeSet<String> = pg::indexes(&txn, "public", true)
        .await?
        .iter()
        .map(pg::IndexDef::shape)
        .collect();
    let public_index_names: BTreeSet<String> = pg::indexes(&txn, "public", true)
        .await?
        .into_iter()
        .map(|index| index.name)
        .collect();
    for index in pg::indexes(&txn, REF_SCHEMA, false).await? {
        if index.table == migrations_table
            || public_index_names.contains(&index.name)
            || shapes.contains(&index.shape())
        {
            continue;
        }
        exec(
            &txn,
            &mut outcome.plan,
            format!("create index {} on {}", index.name, index.table),
            &to_public(&index.definition),
        )
        .await?;
        shapes.insert(index.shape());
    }

    // Constraints: CHECK / FOREIGN KEY (NOT VALID when old rows break them), exclusion
    // constraints (old overlaps excepted), UNIQUE when no equivalent exists.
    let public_constraints = pg::constraints(&txn, "public").await?;
    let public_names: BTreeSet<(String, String)> = public_constraints
        .iter()
        .map(|def| (def.table.clone(), def.name.clone()))
        .collect();
    let public_index_shapes: BTreeSet<String> = pg::indexes(&txn, "public", true)
        .await?
        .iter()
        .map(pg::IndexDef::shape)
        .collect();
    for mut def in pg::constraints(&txn, REF_SCHEMA).await? {
        if def.table == migrations_table
            || def.kind == "p"
            || public_names.contains(&(def.table.clone(), def.name.clone()))
        {
            continue;
        }
        if new_tables.contains(&def.table) && def.kind == "c" {
            continue; // copied with the table
        }
        if def.kind == "u" {
            let shape = format!(
                "U|{}|btree ({})",
                def.table,
                unique_columns(&def.definition)
            );
            if public_index_shapes.contains(&shape) {
                continue;
            }
        }
        def.definition = to_public(&def.definition);
        let installed = pg::install_tolerant(&txn, &def, &outcome.findings).await?;
        let how = match installed {
            Installed::Valid => String::new(),
            Installed::NotValid => {
                " NOT VALID (existing rows violate it; new rows are checked)".to_owned()
            }
            Installed::WithExceptions(ids) => format!(
                " except the {} overlapping old booking(s) (new bookings are checked)",
                ids.len()
            ),
        };
        outcome
            .plan
            .push(format!("add constraint {} on {}{how}", def.name, def.table));
    }

    // Triggers (the audit log stays append-only).
    let public_triggers: BTreeSet<(String, String)> = pg::triggers(&txn, "public")
        .await?
        .into_iter()
        .map(|(table, name, _)| (table, name))
        .collect();
    for (table, name, definition) in pg::triggers(&txn, REF_SCHEMA).await? {
        if !public_triggers.contains(&(table.clone(), name.clone())) {
            exec(
                &txn,
                &mut outcome.plan,
                format!("create trigger {name} on {table}"),
                &to_public(&definition),
            )
            .await?;
        }
    }

    // Praxi's migration table: every migration counts as applied.
    txn.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS public.{migrations_table} \
         (LIKE {REF_SCHEMA}.{migrations_table} INCLUDING ALL)"
    ))
    .await?;
    let inserted = txn
        .execute_unprepared(&format!(
            "INSERT INTO public.{migrations_table} SELECT * FROM {REF_SCHEMA}.{migrations_table} \
             ON CONFLICT DO NOTHING"
        ))
        .await?
        .rows_affected();
    if inserted > 0 {
        outcome.plan.push(format!(
            "record {inserted} Praxi migration(s) as applied in {migrations_table}"
        ));
    }
    txn.execute_unprepared(&format!("DROP SCHEMA {REF_SCHEMA} CASCADE"))
        .await?;

    let after = row_counts(&txn).await?;
    if before != after {
        return Err(PraxiAppError::NotPraxiApp(format!(
            "row counts changed during adoption ({before:?} → {after:?}); rolled back"
        )));
    }
    outcome.row_counts = after;
    outcome.already_adopted = already && outcome.plan.is_empty();
    if options.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(outcome)
}

/// Adds one column Praxi has and the original lacks.
async fn add_column<C: ConnectionTrait>(
    txn: &C,
    plan: &mut Vec<String>,
    table: &str,
    column: &str,
    info: &ColumnInfo,
) -> Result<(), PraxiAppError> {
    let fill = FILL_VALUES
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, value)| *value);
    let default = info.default.as_deref().filter(|d| !d.contains("nextval("));
    let mut sql = format!(
        "ALTER TABLE public.{table} ADD COLUMN {column} {}",
        info.full_type
    );
    match (default, fill) {
        (Some(default), _) => sql.push_str(&format!(" DEFAULT {default}")),
        (None, Some(fill)) if info.not_null => sql.push_str(&format!(" DEFAULT {fill}")),
        _ => {}
    }
    let not_null = info.not_null && (default.is_some() || fill.is_some());
    if not_null {
        sql.push_str(" NOT NULL");
    }
    exec(
        txn,
        plan,
        format!("add column {table}.{column} {}", info.full_type),
        &sql,
    )
    .await?;
    if default.is_none() && fill.is_some() && not_null {
        txn.execute_unprepared(&format!(
            "ALTER TABLE public.{table} ALTER COLUMN {column} DROP DEFAULT"
        ))
        .await?;
    }
    for (backfill_table, backfill_column, backfill) in BACKFILLS {
        if backfill_table == table && backfill_column == column {
            exec(
                txn,
                plan,
                format!("fill {table}.{column} from the original's rows"),
                backfill,
            )
            .await?;
        }
    }
    Ok(())
}

async fn exec<C: ConnectionTrait>(
    txn: &C,
    plan: &mut Vec<String>,
    description: String,
    sql: &str,
) -> Result<(), PraxiAppError> {
    txn.execute_unprepared(sql).await?;
    plan.push(description);
    Ok(())
}

/// Points a catalog definition taken from the scratch schema at `public`.
fn to_public(definition: &str) -> String {
    definition.replace(&format!("{REF_SCHEMA}."), "public.")
}

/// `UNIQUE (a, b)` → `a, b`.
fn unique_columns(definition: &str) -> String {
    definition
        .trim_start_matches("UNIQUE ")
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_owned()
}

async fn applied_migrations<C: ConnectionTrait>(txn: &C) -> Result<usize, PraxiAppError> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM public.{}",
                Migrator::migration_table_name()
            ),
        ))
        .await?;
    let count: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Row counts of every table of the expected layout.
pub(crate) async fn row_counts<C: ConnectionTrait>(
    txn: &C,
) -> Result<Vec<(String, i64)>, PraxiAppError> {
    let mut counts = BTreeMap::new();
    for (table, _) in layout::EXPECTED_LAYOUT {
        let row = txn
            .query_one_raw(Statement::from_string(
                txn.get_database_backend(),
                format!("SELECT count(*) AS n FROM {table}"),
            ))
            .await?;
        let count: i64 = match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        counts.insert((*table).to_owned(), count);
    }
    Ok(counts.into_iter().collect())
}
