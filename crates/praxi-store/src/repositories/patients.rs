//! Patients (data-model.md §6.1).

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::patient::{PatientFields, PatientId};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::audit::{AuditEntry, write_audit};
use crate::db::{Store, is_unique_violation};
use crate::error::StoreError;
use crate::migration::idens::Patients;

/// A stored patient.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    pub id: i32,
    pub fields: PatientFields,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct PatientRow {
    id: i32,
    first_name: String,
    last_name: String,
    birth_date: Option<NaiveDate>,
    gender: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl From<PatientRow> for PatientRecord {
    fn from(row: PatientRow) -> Self {
        PatientRecord {
            id: row.id,
            fields: PatientFields {
                first_name: row.first_name,
                last_name: row.last_name,
                birth_date: row.birth_date,
                gender: row.gender,
                phone: row.phone,
                email: row.email,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn patient_select() -> SelectStatement {
    Query::select()
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
        .from(Patients::Table)
        .order_by(Patients::LastName, Order::Asc)
        .order_by(Patients::FirstName, Order::Asc)
        .order_by(Patients::Id, Order::Asc)
        .to_owned()
}

async fn fetch<C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<PatientRecord>, StoreError> {
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| {
            PatientRow::from_query_result(row, "")
                .map(PatientRecord::from)
                .map_err(StoreError::from)
        })
        .collect()
}

/// How many patients a search returns at most, and how many an empty search lists.
pub const SEARCH_LIMIT: u64 = 20;
pub const EMPTY_SEARCH_LIMIT: u64 = 200;

impl Store {
    pub async fn count_patients(&self) -> Result<u64, StoreError> {
        let select = Query::select()
            .expr(Expr::col(Patients::Id).count())
            .from(Patients::Table)
            .to_owned();
        let row = self.conn().query_one(&select).await?;
        let count: i64 = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// One page in list order (last name, first name, id).
    pub async fn list_patients(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let select = patient_select().offset(offset).limit(limit).to_owned();
        fetch(self.conn(), &select).await
    }

    /// The original's search: all digits → exact id; text → case-insensitive substring of
    /// first/last name, phone, e-mail (max 20); empty → the first 200.
    pub async fn search_patients(&self, q: &str) -> Result<Vec<PatientRecord>, StoreError> {
        let Some(select) = self.patient_search(q, true) else {
            return Ok(Vec::new());
        };
        fetch(self.conn(), &select).await
    }

    /// The same search without the SQLite FTS prefilter (tests compare the two).
    pub async fn search_patients_scan(&self, q: &str) -> Result<Vec<PatientRecord>, StoreError> {
        let Some(select) = self.patient_search(q, false) else {
            return Ok(Vec::new());
        };
        fetch(self.conn(), &select).await
    }

    /// The query plan of a text search (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` on
    /// PostgreSQL with sequential and plain index scans discouraged, so the plan shows whether
    /// an index *can* answer it whatever the table's size), one line per row.
    pub async fn explain_patient_search(&self, q: &str) -> Result<Vec<String>, StoreError> {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let Some(select) = self.patient_search(q, true) else {
            return Ok(Vec::new());
        };
        let mut statement = self.backend().build(&select);
        let tx = self.conn().begin().await?;
        let explain = if self.backend() == sea_orm::DbBackend::Postgres {
            // Plain scans of the table or of its name-order index are ruled out, so the plan
            // shows whether the search terms can be answered from an index at all.
            for setting in ["enable_seqscan", "enable_indexscan"] {
                tx.execute_unprepared(&format!("SET LOCAL {setting} = off"))
                    .await?;
            }
            format!("EXPLAIN {}", statement.sql)
        } else {
            format!("EXPLAIN QUERY PLAN {}", statement.sql)
        };
        statement.sql = explain;
        let rows = tx.query_all_raw(statement).await?;
        let mut lines = Vec::new();
        for row in rows {
            let line: String = if self.backend() == sea_orm::DbBackend::Postgres {
                row.try_get_by_index(0)?
            } else {
                row.try_get("", "detail")?
            };
            lines.push(line);
        }
        tx.rollback().await?;
        Ok(lines)
    }

    /// The search statement; `None` when nothing can match.
    fn patient_search(&self, q: &str, use_index: bool) -> Option<SelectStatement> {
        let mut select = patient_select();
        if q.is_empty() {
            select.limit(EMPTY_SEARCH_LIMIT);
        } else if q.bytes().all(|byte| byte.is_ascii_digit()) {
            let Ok(id) = q.parse::<i32>() else {
                return None;
            };
            select.and_where(Expr::col(Patients::Id).eq(id));
        } else {
            let pattern = format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let like = |column: Patients| {
                Expr::expr(Func::lower(Expr::col(column)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
            };
            let mut condition = sea_orm::sea_query::Cond::all().add(
                sea_orm::sea_query::Cond::any()
                    .add(like(Patients::FirstName))
                    .add(like(Patients::LastName))
                    .add(like(Patients::Phone))
                    .add(like(Patients::Email)),
            );
            // PostgreSQL answers the `lower(column) LIKE` terms from its trigram indexes
            // (migration m0011). SQLite narrows the rows through the FTS5 trigram table first
            // (a superset: it folds case more widely than `lower`), and the terms above decide.
            // Trigrams need three characters; shorter texts scan as before.
            if use_index && self.backend() == sea_orm::DbBackend::Sqlite && q.chars().count() >= 3 {
                let phrase = format!("\"{}\"", q.replace('"', "\"\""));
                condition = condition.add(Expr::cust_with_values(
                    "\"patients\".\"id\" IN (SELECT rowid FROM patients_fts WHERE patients_fts MATCH ?)",
                    [phrase],
                ));
            }
            select.cond_where(condition).limit(SEARCH_LIMIT);
        }
        Some(select)
    }

    pub async fn patient(&self, id: i32) -> Result<Option<PatientRecord>, StoreError> {
        let select = patient_select()
            .and_where(Expr::col(Patients::Id).eq(id))
            .to_owned();
        Ok(fetch(self.conn(), &select).await?.into_iter().next())
    }

    /// Which of `ids` exist.
    pub async fn existing_patient_ids(&self, ids: &[i32]) -> Result<Vec<i32>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = Query::select()
            .column(Patients::Id)
            .from(Patients::Table)
            .and_where(Expr::col(Patients::Id).is_in(ids.iter().copied()))
            .to_owned();
        let rows = self.conn().query_all(&select).await?;
        rows.iter()
            .map(|row| row.try_get::<i32>("", "id").map_err(StoreError::from))
            .collect()
    }

    /// Creates a patient. Without an id the next free number is allocated. A taken id is a
    /// field error that keeps the original's `Key (id)=(n) already exists.` text.
    pub async fn create_patient(
        &self,
        id: Option<PatientId>,
        fields: PatientFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i32) -> AuditEntry,
    ) -> Result<PatientRecord, StoreError> {
        let tx = self.write().await?;
        let id = match id {
            Some(id) => id.get(),
            None => {
                if self.backend() == sea_orm::DbBackend::Postgres {
                    // Serialise allocations; the lock ends with the transaction.
                    tx.execute_unprepared("LOCK TABLE patients IN SHARE ROW EXCLUSIVE MODE")
                        .await?;
                }
                let select = Query::select()
                    .expr(Expr::col(Patients::Id).max())
                    .from(Patients::Table)
                    .to_owned();
                let max: Option<i32> = match tx.query_one(&select).await? {
                    Some(row) => row.try_get_by_index(0)?,
                    None => None,
                };
                max.unwrap_or(0)
                    .checked_add(1)
                    .ok_or_else(|| StoreError::field("id", "no patient number left"))?
            }
        };
        let insert = Query::insert()
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
            .values_panic([
                id.into(),
                fields.first_name.clone().into(),
                fields.last_name.clone().into(),
                fields.birth_date.into(),
                fields.gender.clone().into(),
                fields.phone.clone().into(),
                fields.email.clone().into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        if let Err(error) = tx.execute(&insert).await {
            if is_unique_violation(&error) {
                return Err(StoreError::field(
                    "id",
                    format!("Key (id)=({id}) already exists."),
                ));
            }
            return Err(error.into());
        }
        write_audit(&*tx, &audit(id)).await?;
        tx.commit().await?;
        Ok(PatientRecord {
            id,
            fields,
            created_at: Some(now),
            updated_at: Some(now),
        })
    }

    /// Stores new field values for a patient and audits the change, in one transaction.
    pub async fn update_patient(
        &self,
        id: i32,
        fields: PatientFields,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<PatientRecord, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(Patients::Table)
            .values([
                (Patients::FirstName, fields.first_name.clone().into()),
                (Patients::LastName, fields.last_name.clone().into()),
                (Patients::BirthDate, fields.birth_date.into()),
                (Patients::Gender, fields.gender.clone().into()),
                (Patients::Phone, fields.phone.clone().into()),
                (Patients::Email, fields.email.clone().into()),
                (Patients::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Patients::Id).eq(id))
            .to_owned();
        let result = tx.execute(&update).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound("Patient"));
        }
        write_audit(&*tx, audit).await?;
        let select = patient_select()
            .and_where(Expr::col(Patients::Id).eq(id))
            .to_owned();
        let patient = fetch(&*tx, &select)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("Patient"))?;
        tx.commit().await?;
        Ok(patient)
    }
}

/// A structured patient search (FHIR `Patient?name=&birthdate=&identifier=`): every given
/// criterion must match; results in list order, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// The patient number.
    pub id: Option<i32>,
    /// A case-insensitive prefix of the first or the last name.
    pub name_prefix: Option<String>,
    /// A case-insensitive prefix of the last name.
    pub family_prefix: Option<String>,
    /// A case-insensitive prefix of the first name.
    pub given_prefix: Option<String>,
    /// Born on or after this day.
    pub born_from: Option<NaiveDate>,
    /// Born before this day.
    pub born_until: Option<NaiveDate>,
    pub limit: u64,
}

impl Store {
    /// The patients matching a [`PatientQuery`] (one statement).
    pub async fn find_patients(
        &self,
        query: &PatientQuery,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let prefix = |text: &str| {
            let pattern = format!(
                "{}%",
                text.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            move |column: Patients| {
                Expr::expr(Func::lower(Expr::col(column)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
            }
        };
        let mut select = patient_select().limit(query.limit).to_owned();
        if let Some(id) = query.id {
            select.and_where(Expr::col(Patients::Id).eq(id));
        }
        if let Some(name) = &query.name_prefix {
            let like = prefix(name);
            select.cond_where(
                sea_orm::sea_query::Cond::any()
                    .add(like(Patients::FirstName))
                    .add(like(Patients::LastName)),
            );
        }
        if let Some(family) = &query.family_prefix {
            select.and_where(prefix(family)(Patients::LastName));
        }
        if let Some(given) = &query.given_prefix {
            select.and_where(prefix(given)(Patients::FirstName));
        }
        if let Some(from) = query.born_from {
            select.and_where(Expr::col(Patients::BirthDate).gte(from));
        }
        if let Some(until) = query.born_until {
            select.and_where(Expr::col(Patients::BirthDate).lt(until));
        }
        fetch(self.conn(), &select).await
    }
}
