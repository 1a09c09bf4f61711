//! Recognising a PraxiApp database and checking the layout Praxi reads.
//!
//! A PraxiApp database is recognised by its `django_migrations` rows: every migration of the
//! original's own apps (core, patients, appointments, token_blacklist) at commit 11e4eb9 must be
//! applied, and none that Praxi does not know. The columns Praxi reads must then have the type
//! the original's migrations give them.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::PraxiAppError;

/// The original's own apps whose migrations decide the layout.
const LAYOUT_APPS: [&str; 4] = ["appointments", "core", "patients", "token_blacklist"];

/// Every migration of those apps that the layout below corresponds to.
pub(crate) const KNOWN_MIGRATIONS: [(&str, &str); 39] = [
    ("appointments", "0001_initial"),
    ("appointments", "0002_appointment_types"),
    ("appointments", "0003_hours"),
    ("appointments", "0004_doctor_absences"),
    ("appointments", "0005_doctor_breaks"),
    ("appointments", "0006_alter_appointmenttype_color"),
    ("appointments", "0007_resources"),
    ("appointments", "0008_operations"),
    ("appointments", "0009_patient_flow"),
    (
        "appointments",
        "0010_alter_appointmentresource_id_alter_operation_id_and_more",
    ),
    ("appointments", "0011_alter_appointment_options_and_more"),
    ("appointments", "0012_doctorabsence_vacation_fields"),
    (
        "appointments",
        "0013_doctorhours_uniq_doctorhours_slot_active",
    ),
    ("appointments", "0014_appointment_is_no_show"),
    ("core", "0001_initial"),
    ("core", "0002_auditlog"),
    ("core", "0003_user_calendar_color"),
    ("core", "0004_add_meta_options_and_indexes"),
    (
        "core",
        "0005_alter_auditlog_options_alter_role_options_and_more",
    ),
    ("core", "0006_user_vacation_days_per_year"),
    ("patients", "0001_initial"),
    ("patients", "0002_rename_table_to_patients_cache"),
    ("patients", "0003_patientdocument"),
    ("patients", "0004_patientnote"),
    ("patients", "0005_patientnote_author_role"),
    ("patients", "0006_unify_single_db_patients"),
    ("token_blacklist", "0001_initial"),
    ("token_blacklist", "0002_outstandingtoken_jti_hex"),
    ("token_blacklist", "0003_auto_20171017_2007"),
    ("token_blacklist", "0004_auto_20171017_2013"),
    ("token_blacklist", "0005_remove_outstandingtoken_jti"),
    ("token_blacklist", "0006_auto_20171017_2113"),
    ("token_blacklist", "0007_auto_20171017_2214"),
    ("token_blacklist", "0008_migrate_to_bigautofield"),
    ("token_blacklist", "0010_fix_migrate_to_bigautofield"),
    ("token_blacklist", "0011_linearizes_history"),
    ("token_blacklist", "0012_alter_outstandingtoken_user"),
    (
        "token_blacklist",
        "0013_alter_blacklistedtoken_options_and_more",
    ),
    ("sessions", "0001_initial"),
];

/// The original's layout of every table Praxi reads or copies: column and
/// `information_schema.columns.data_type`.
pub(crate) const EXPECTED_LAYOUT: &[(&str, &[(&str, &str)])] = &[
    (
        "appointments_appointment",
        &[
            ("id", "integer"),
            ("patient_id", "integer"),
            ("start_time", "timestamp with time zone"),
            ("end_time", "timestamp with time zone"),
            ("status", "character varying"),
            ("notes", "text"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
            ("doctor_id", "bigint"),
            ("type_id", "bigint"),
            ("is_no_show", "boolean"),
        ],
    ),
    (
        "appointments_appointmentresource",
        &[
            ("id", "bigint"),
            ("appointment_id", "integer"),
            ("resource_id", "bigint"),
        ],
    ),
    (
        "appointments_appointmenttype",
        &[
            ("id", "bigint"),
            ("name", "character varying"),
            ("color", "character varying"),
            ("duration_minutes", "integer"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        ],
    ),
    (
        "appointments_doctorabsence",
        &[
            ("id", "bigint"),
            ("start_date", "date"),
            ("end_date", "date"),
            ("reason", "character varying"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
            ("doctor_id", "bigint"),
            ("duration_workdays", "integer"),
            ("remaining_days", "integer"),
            ("return_date", "date"),
        ],
    ),
    (
        "appointments_doctorbreak",
        &[
            ("id", "bigint"),
            ("date", "date"),
            ("start_time", "time without time zone"),
            ("end_time", "time without time zone"),
            ("reason", "character varying"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
            ("doctor_id", "bigint"),
        ],
    ),
    (
        "appointments_doctorhours",
        &[
            ("id", "bigint"),
            ("weekday", "integer"),
            ("start_time", "time without time zone"),
            ("end_time", "time without time zone"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
            ("doctor_id", "bigint"),
        ],
    ),
    (
        "appointments_operation",
        &[
            ("id", "bigint"),
            ("patient_id", "integer"),
            ("start_time", "timestamp with time zone"),
            ("end_time", "timestamp with time zone"),
            ("status", "character varying"),
            ("notes", "text"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
            ("anesthesist_id", "bigint"),
            ("assistant_id", "bigint"),
            ("op_room_id", "bigint"),
            ("op_type_id", "bigint"),
            ("primary_surgeon_id", "bigint"),
        ],
    ),
    (
        "appointments_operationdevice",
        &[
            ("id", "bigint"),
            ("operation_id", "bigint"),
            ("resource_id", "bigint"),
        ],
    ),
    (
        "appointments_operationtype",
        &[
            ("id", "bigint"),
            ("name", "character varying"),
            ("prep_duration", "integer"),
            ("op_duration", "integer"),
            ("post_duration", "integer"),
            ("color", "character varying"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        ],
    ),
    (
        "appointments_patientflow",
        &[
            ("id", "bigint"),
            ("status", "character varying"),
            ("arrival_time", "timestamp with time zone"),
            ("status_changed_at", "timestamp with time zone"),
            ("notes", "text"),
            ("appointment_id", "integer"),
            ("operation_id", "bigint"),
        ],
    ),
    (
        "appointments_practicehours",
        &[
            ("id", "bigint"),
            ("weekday", "integer"),
            ("start_time", "time without time zone"),
            ("end_time", "time without time zone"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        ],
    ),
    (
        "appointments_resource",
        &[
            ("id", "bigint"),
            ("name", "character varying"),
            ("type", "character varying"),
            ("color", "character varying"),
            ("active", "boolean"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        ],
    ),
    (
        "auth_group",
        &[("id", "integer"), ("name", "character varying")],
    ),
    (
        "auth_permission",
        &[
            ("id", "integer"),
            ("name", "character varying"),
            ("content_type_id", "integer"),
            ("codename", "character varying"),
        ],
    ),
    (
        "core_auditlog",
        &[
            ("id", "bigint"),
            ("role_name", "character varying"),
            ("action", "character varying"),
            ("patient_id", "integer"),
            ("timestamp", "timestamp with time zone"),
            ("meta", "jsonb"),
            ("user_id", "bigint"),
        ],
    ),
    (
        "core_role",
        &[
            ("id", "bigint"),
            ("name", "character varying"),
            ("label", "character varying"),
        ],
    ),
    (
        "core_user",
        &[
            ("id", "bigint"),
            ("password", "character varying"),
            ("last_login", "timestamp with time zone"),
            ("is_superuser", "boolean"),
            ("username", "character varying"),
            ("first_name", "character varying"),
            ("last_name", "character varying"),
            ("is_staff", "boolean"),
            ("is_active", "boolean"),
            ("date_joined", "timestamp with time zone"),
            ("email", "character varying"),
            ("role_id", "bigint"),
            ("calendar_color", "character varying"),
            ("vacation_days_per_year", "integer"),
        ],
    ),
    (
        "core_user_groups",
        &[
            ("id", "bigint"),
            ("user_id", "bigint"),
            ("group_id", "integer"),
        ],
    ),
    (
        "core_user_user_permissions",
        &[
            ("id", "bigint"),
            ("user_id", "bigint"),
            ("permission_id", "integer"),
        ],
    ),
    (
        "patient_documents",
        &[
            ("id", "bigint"),
            ("patient_id", "integer"),
            ("title", "character varying"),
            ("doc_type", "character varying"),
            ("file", "character varying"),
            ("note", "text"),
            ("created_at", "timestamp with time zone"),
        ],
    ),
    (
        "patient_notes",
        &[
            ("id", "bigint"),
            ("patient_id", "integer"),
            ("author_name", "character varying"),
            ("content", "text"),
            ("created_at", "timestamp with time zone"),
            ("author_role", "character varying"),
        ],
    ),
    (
        "patients",
        &[
            ("id", "integer"),
            ("first_name", "character varying"),
            ("last_name", "character varying"),
            ("birth_date", "date"),
            ("gender", "character varying"),
            ("phone", "character varying"),
            ("email", "character varying"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        ],
    ),
    (
        "token_blacklist_blacklistedtoken",
        &[
            ("id", "bigint"),
            ("blacklisted_at", "timestamp with time zone"),
            ("token_id", "bigint"),
        ],
    ),
    (
        "token_blacklist_outstandingtoken",
        &[
            ("id", "bigint"),
            ("token", "text"),
            ("created_at", "timestamp with time zone"),
            ("expires_at", "timestamp with time zone"),
            ("user_id", "bigint"),
            ("jti", "character varying"),
        ],
    ),
];

/// Checks the `django_migrations` rows. Returns the number of rows seen.
pub(crate) async fn recognise<C: ConnectionTrait>(conn: &C) -> Result<usize, PraxiAppError> {
    let tables = table_names(conn).await?;
    if !tables.contains("django_migrations") {
        return Err(PraxiAppError::NotPraxiApp(
            "table django_migrations is missing: this is not a PraxiApp (Django) database"
                .to_owned(),
        ));
    }
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT app, name FROM django_migrations",
        ))
        .await?;
    let mut applied = BTreeSet::new();
    for row in &rows {
        let app: String = row.try_get("", "app")?;
        let name: String = row.try_get("", "name")?;
        applied.insert((app, name));
    }
    let known: BTreeSet<(String, String)> = KNOWN_MIGRATIONS
        .iter()
        .map(|(app, name)| ((*app).to_owned(), (*name).to_owned()))
        .collect();
    let missing: Vec<String> = known
        .difference(&applied)
        .map(|(app, name)| format!("{app}.{name}"))
        .collect();
    let unexpected: Vec<String> = applied
        .iter()
        .filter(|(app, _)| LAYOUT_APPS.contains(&app.as_str()) || app == "sessions")
        .filter(|entry| !known.contains(*entry))
        .map(|(app, name)| format!("{app}.{name}"))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "django_migrations lacks {} migration(s) of PraxiApp (an older PraxiApp? update it first): {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "django_migrations has {} migration(s) Praxi does not know (a newer or modified PraxiApp): {}",
            unexpected.len(),
            unexpected.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(rows.len())
    } else {
        Err(PraxiAppError::NotPraxiApp(problems.join("; ")))
    }
}

/// Checks every table and column Praxi reads against [`EXPECTED_LAYOUT`]. Extra columns and
/// tables are allowed (and left alone).
pub(crate) async fn check_layout<C: ConnectionTrait>(conn: &C) -> Result<(), PraxiAppError> {
    let actual = columns(conn, "public").await?;
    let mut problems = Vec::new();
    for (table, expected_columns) in EXPECTED_LAYOUT {
        let Some(columns) = actual.get(*table) else {
            problems.push(format!("table {table} is missing"));
            continue;
        };
        for (column, data_type) in *expected_columns {
            match columns.get(*column) {
                None => problems.push(format!("column {table}.{column} is missing")),
                Some(found) if found.data_type != *data_type => problems.push(format!(
                    "column {table}.{column} is {}, expected {data_type}",
                    found.data_type
                )),
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PraxiAppError::Layout(problems))
    }
}

/// One column as the catalog describes it.
#[derive(Debug, Clone)]
pub(crate) struct ColumnInfo {
    pub(crate) data_type: String,
    /// `format_type` (e.g. `character varying(64)`).
    pub(crate) full_type: String,
    pub(crate) not_null: bool,
    pub(crate) default: Option<String>,
    pub(crate) identity: bool,
    pub(crate) position: i32,
}

/// Table → column → info for one PostgreSQL schema.
pub(crate) async fn columns<C: ConnectionTrait>(
    conn: &C,
    schema: &str,
) -> Result<BTreeMap<String, BTreeMap<String, ColumnInfo>>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT c.relname AS table_name, a.attname AS column_name, \
                    format_type(a.atttypid, a.atttypmod) AS full_type, \
                    a.attnotnull AS not_null, \
                    pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                    (a.attidentity <> '') AS is_identity, \
                    a.attnum::int4 AS position, \
                    ic.data_type AS data_type \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p') \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN information_schema.columns ic ON ic.table_schema = n.nspname \
                  AND ic.table_name = c.relname AND ic.column_name = a.attname \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped",
            [schema.into()],
        ))
        .await?;
    let mut tables: BTreeMap<String, BTreeMap<String, ColumnInfo>> = BTreeMap::new();
    for row in rows {
        let table: String = row.try_get("", "table_name")?;
        let column: String = row.try_get("", "column_name")?;
        tables.entry(table).or_default().insert(
            column,
            ColumnInfo {
                data_type: row.try_get("", "data_type")?,
                full_type: row.try_get("", "full_type")?,
                not_null: row.try_get("", "not_null")?,
                default: row.try_get("", "default_expr")?,
                identity: row.try_get("", "is_identity")?,
                position: row.try_get("", "position")?,
            },
        );
    }
    Ok(tables)
}

/// The ordinary tables of the `public` schema.
pub(crate) async fn table_names<C: ConnectionTrait>(
    conn: &C,
) -> Result<BTreeSet<String>, PraxiAppError> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        ))
        .await?;
    let mut names = BTreeSet::new();
    for row in rows {
        names.insert(row.try_get::<String>("", "tablename")?);
    }
    Ok(names)
}
