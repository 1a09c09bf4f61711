//! The audit log: who did what to which patient, when. Ids and action only; never names,
//! birth dates or other patient data (data-model.md §4.3, §15.6). Append-only in the schema.
//!
//! Each row lists its subjects (the patients it showed or touched) in `core_auditlog_subject`
//! and carries a SHA-256 hash chained to the previous row (docs/data-protection.md): every
//! insert runs [`insert_audits`], which locks the chain head, numbers the rows, hashes them
//! in id order and moves the head, all in the caller's transaction.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LockType, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{CoreAuditlog, CoreAuditlogChain, CoreAuditlogSubject};

/// One audit row to write.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub user_id: Option<i64>,
    pub username: String,
    pub role_name: String,
    pub action: String,
    pub patient_id: Option<i32>,
    /// Ids and flags only.
    pub meta: Option<Value>,
    pub request_id: Option<String>,
    /// The patients the action showed (a list, a calendar, a board) besides `patient_id`;
    /// stored as `core_auditlog_subject` rows together with `patient_id`.
    pub subjects: Vec<i32>,
}

impl AuditEntry {
    /// A row about `user` acting on no patient (logins, second steps, account changes).
    #[must_use]
    pub fn by_user(
        user: &crate::users::UserRecord,
        action: &str,
        request_id: Option<String>,
    ) -> Self {
        Self {
            user_id: Some(user.id),
            username: user.username.clone(),
            role_name: user
                .role
                .as_ref()
                .map(|role| role.name.clone())
                .unwrap_or_default(),
            action: action.to_owned(),
            patient_id: None,
            meta: None,
            request_id,
            subjects: Vec::new(),
        }
    }

    /// The entry with `patients` added to its subjects (the ids a read actually rendered).
    #[must_use]
    pub fn with_subjects<I: IntoIterator<Item = i32>>(mut self, patients: I) -> AuditEntry {
        self.subjects.extend(patients);
        self
    }

    /// `patient_id` and `subjects`, sorted, without duplicates (what is stored and hashed).
    pub fn subject_ids(&self) -> Vec<i32> {
        let mut ids = self.subjects.clone();
        ids.extend(self.patient_id);
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Receives the number of audit rows each write call inserted (the server's metrics).
static AUDIT_OBSERVER: std::sync::OnceLock<fn(usize)> = std::sync::OnceLock::new();

/// Registers the process-wide observer of audit writes (the first registration wins).
pub fn observe_audit_writes(observer: fn(usize)) {
    let _ = AUDIT_OBSERVER.set(observer);
}

/// Reports `rows` audit rows written by one call.
pub(crate) fn report_audit_rows(rows: usize) {
    if let Some(observer) = AUDIT_OBSERVER.get() {
        observer(rows);
    }
}

/// Writes an audit row inside the caller's transaction.
pub(crate) async fn write_audit<C: ConnectionTrait>(
    conn: &C,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    insert_audit(conn, entry).await?;
    report_audit_rows(1);
    Ok(())
}

/// Inserts an audit row without reporting it (callers writing several report them at once).
pub(crate) async fn insert_audit<C: ConnectionTrait>(
    conn: &C,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    insert_audits(conn, &[(entry, Utc::now())]).await
}

/// The fields one chain link hashes: a stored row or a row about to be stored.
#[derive(Debug, Clone, Copy)]
pub struct ChainFields<'a> {
    pub id: i64,
    pub user_id: Option<i64>,
    pub username: &'a str,
    pub role_name: &'a str,
    pub action: &'a str,
    pub patient_id: Option<i32>,
    pub timestamp: DateTime<Utc>,
    pub meta: Option<&'a Value>,
    pub request_id: Option<&'a str>,
    /// Sorted, without duplicates.
    pub subjects: &'a [i32],
}

/// The hex SHA-256 of one row: over the canonical JSON array of its fields (object keys
/// sorted at every level, the timestamp in UTC with microseconds, the subjects sorted) and the
/// previous row's hash.
pub fn chain_hash(row: &ChainFields<'_>, prev_hash: &str) -> String {
    let encoded = Value::Array(vec![
        row.id.into(),
        row.user_id.into(),
        row.username.into(),
        row.role_name.into(),
        row.action.into(),
        row.patient_id.into(),
        row.timestamp
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
            .into(),
        row.meta.map_or(Value::Null, canonical_json),
        row.request_id.into(),
        row.subjects.iter().copied().map(Value::from).collect(),
        prev_hash.into(),
    ]);
    let digest = Sha256::digest(encoded.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `value` with the keys of every object in sorted order (serde_json keeps insertion order
/// in this workspace, and PostgreSQL's `jsonb` reorders keys).
fn canonical_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|key| (key.clone(), canonical_json(&map[key])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

/// The chain head: the hash the next row links to. On PostgreSQL the head row stays locked
/// until the transaction ends, so writers of every process append one after the other (and
/// take their ids from the sequence in that order); SQLite has one writer at a time.
async fn lock_chain_head<C: ConnectionTrait>(conn: &C) -> Result<String, StoreError> {
    if let Some(hash) = select_chain_head(conn).await? {
        return Ok(hash);
    }
    // A database whose schema was adopted in place (`praxi adopt` copies Praxi's tables, not
    // the head row m0012 inserts): the chain starts after the rows written so far, as the
    // migration would have started it.
    conn.execute_unprepared(&format!(
        "INSERT INTO core_auditlog_chain (id, legacy_until, last_id, hash) \
         SELECT 1, COALESCE(MAX(id), 0), COALESCE(MAX(id), 0), '{}' FROM core_auditlog \
         WHERE 1 = 1 ON CONFLICT (id) DO NOTHING",
        crate::migration::m0012_audit_chain::GENESIS_HASH
    ))
    .await?;
    select_chain_head(conn)
        .await?
        .ok_or_else(|| StoreError::Db("the audit chain head is missing".to_owned()))
}

/// The head row's hash, locked (`FOR UPDATE`) on PostgreSQL.
async fn select_chain_head<C: ConnectionTrait>(conn: &C) -> Result<Option<String>, StoreError> {
    let select = Query::select()
        .column(CoreAuditlogChain::Hash)
        .from(CoreAuditlogChain::Table)
        .and_where(Expr::col(CoreAuditlogChain::Id).eq(1))
        .lock(LockType::Update)
        .to_owned();
    match conn.query_one(&select).await? {
        Some(row) => Ok(Some(row.try_get::<String>("", "hash")?)),
        None => Ok(None),
    }
}

/// `count` new audit row ids in ascending order (called with the chain head locked).
async fn allocate_ids<C: ConnectionTrait>(conn: &C, count: usize) -> Result<Vec<i64>, StoreError> {
    let count = i64::try_from(count).map_err(|_| StoreError::Db("too many audit rows".into()))?;
    if conn.get_database_backend() == DbBackend::Postgres {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT nextval(pg_get_serial_sequence('core_auditlog', 'id')) AS id \
                 FROM generate_series(1, $1)",
                [count.into()],
            ))
            .await?;
        let mut ids = rows
            .iter()
            .map(|row| row.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        return Ok(ids);
    }
    let select = Query::select()
        .expr_as(Func::max(Expr::col(CoreAuditlog::Id)), Alias::new("max_id"))
        .from(CoreAuditlog::Table)
        .to_owned();
    let max: Option<i64> = match conn.query_one(&select).await? {
        Some(row) => row.try_get("", "max_id")?,
        None => None,
    };
    let first = max.unwrap_or(0) + 1;
    Ok((first..first + count).collect())
}

/// Inserts audit rows with one multi-row `INSERT`, their subjects with another, chained to
/// the head, which moves to the last of them; all in the caller's transaction.
async fn insert_audits<C: ConnectionTrait>(
    conn: &C,
    rows: &[(&AuditEntry, DateTime<Utc>)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut prev_hash = lock_chain_head(conn).await?;
    let ids = allocate_ids(conn, rows.len()).await?;
    let mut insert = Query::insert()
        .into_table(CoreAuditlog::Table)
        .columns([
            CoreAuditlog::Id,
            CoreAuditlog::UserId,
            CoreAuditlog::Username,
            CoreAuditlog::RoleName,
            CoreAuditlog::Action,
            CoreAuditlog::PatientId,
            CoreAuditlog::Timestamp,
            CoreAuditlog::Meta,
            CoreAuditlog::RequestId,
            CoreAuditlog::PrevHash,
            CoreAuditlog::Hash,
        ])
        .to_owned();
    let mut subjects = Query::insert()
        .into_table(CoreAuditlogSubject::Table)
        .columns([CoreAuditlogSubject::AuditId, CoreAuditlogSubject::PatientId])
        .to_owned();
    let mut n_subjects = 0;
    for ((entry, at), id) in rows.iter().zip(&ids) {
        // Stored with the precision that is hashed (PostgreSQL keeps microseconds).
        let at = at.trunc_subsecs(6);
        let subject_ids = entry.subject_ids();
        let hash = chain_hash(
            &ChainFields {
                id: *id,
                user_id: entry.user_id,
                username: &entry.username,
                role_name: &entry.role_name,
                action: &entry.action,
                patient_id: entry.patient_id,
                timestamp: at,
                meta: entry.meta.as_ref(),
                request_id: entry.request_id.as_deref(),
                subjects: &subject_ids,
            },
            &prev_hash,
        );
        insert.values_panic([
            (*id).into(),
            entry.user_id.into(),
            entry.username.clone().into(),
            entry.role_name.clone().into(),
            entry.action.clone().into(),
            entry.patient_id.into(),
            at.into(),
            entry.meta.clone().into(),
            entry.request_id.clone().into(),
            prev_hash.clone().into(),
            hash.clone().into(),
        ]);
        for patient in subject_ids {
            subjects.values_panic([(*id).into(), patient.into()]);
            n_subjects += 1;
            if n_subjects % MAX_SUBJECT_ROWS == 0 {
                // Flushed before the audit rows exist: the side table has no foreign key.
                conn.execute(&subjects).await?;
                subjects = Query::insert()
                    .into_table(CoreAuditlogSubject::Table)
                    .columns([CoreAuditlogSubject::AuditId, CoreAuditlogSubject::PatientId])
                    .to_owned();
            }
        }
        prev_hash = hash;
    }
    conn.execute(&insert).await?;
    if n_subjects % MAX_SUBJECT_ROWS != 0 {
        conn.execute(&subjects).await?;
    }
    let last_id = ids.last().copied().unwrap_or_default();
    let head = Query::update()
        .table(CoreAuditlogChain::Table)
        .value(CoreAuditlogChain::LastId, last_id)
        .value(CoreAuditlogChain::Hash, prev_hash)
        .and_where(Expr::col(CoreAuditlogChain::Id).eq(1))
        .to_owned();
    conn.execute(&head).await?;
    Ok(())
}

/// Subject rows per `INSERT` at most (2 parameters each).
const MAX_SUBJECT_ROWS: usize = 4000;

// ---- group commit ----------------------------------------------------------------------------

/// The audit rows of one request (all or none) and where to say that they are durable.
pub(crate) struct AuditJob {
    entries: Vec<AuditEntry>,
    /// When the request asked (the rows' `timestamp`, as if written right then).
    at: DateTime<Utc>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The writer task's inbox.
pub(crate) type AuditSender = mpsc::Sender<AuditJob>;

/// Rows per `INSERT` at most (11 parameters each, well below every limit).
const MAX_BATCH_ROWS: usize = 512;

/// The group-commit writer: takes every job waiting in the inbox (at least one), writes all
/// their rows in one transaction, and answers each job only after the commit. If a batch
/// fails, each job of it is written again on its own, so one bad job fails only its request.
///
/// The batch is the unit to extend: rows that belong to an audit row (e.g. its subjects) go
/// into the same transaction, in `write_batch`.
async fn audit_writer(store: Store, mut inbox: mpsc::Receiver<AuditJob>) {
    let mut jobs: Vec<AuditJob> = Vec::new();
    while let Some(job) = inbox.recv().await {
        let mut rows = job.entries.len();
        jobs.push(job);
        while rows < MAX_BATCH_ROWS {
            match inbox.try_recv() {
                Ok(job) => {
                    rows += job.entries.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        match write_batch(&store, &jobs).await {
            Ok(()) => {
                report_audit_rows(rows);
                for job in jobs.drain(..) {
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(error) if jobs.len() == 1 => {
                if let Some(job) = jobs.pop() {
                    let _ = job.done.send(Err(error));
                }
            }
            Err(_) => {
                for job in jobs.drain(..) {
                    let single = std::slice::from_ref(&job);
                    let outcome = write_batch(&store, single).await;
                    if outcome.is_ok() {
                        report_audit_rows(job.entries.len());
                    }
                    let _ = job.done.send(outcome);
                }
            }
        }
    }
}

/// One transaction with the rows of `jobs`.
async fn write_batch(store: &Store, jobs: &[AuditJob]) -> Result<(), StoreError> {
    let rows: Vec<(&AuditEntry, DateTime<Utc>)> = jobs
        .iter()
        .flat_map(|job| job.entries.iter().map(move |entry| (entry, job.at)))
        .collect();
    let tx = store.write().await?;
    for chunk in rows.chunks(MAX_BATCH_ROWS) {
        insert_audits(&*tx, chunk).await?;
    }
    tx.commit_audit().await
}

impl Store {
    /// Writes the audit rows of one read (all or none) and returns once they are durable.
    /// Concurrent requests share one transaction (group commit): the request itself runs no
    /// statement and no transaction for its audit. Fails closed: an error here fails the
    /// request.
    pub async fn record_audits(&self, entries: Vec<AuditEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let inbox = self.audit.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4096);
            tokio::spawn(audit_writer(self.for_audit_writer(), receiver));
            sender
        });
        let (done, durable) = oneshot::channel();
        let job = AuditJob {
            entries,
            at: Utc::now(),
            done,
        };
        inbox
            .send(job)
            .await
            .map_err(|_| StoreError::Db("the audit writer stopped".to_owned()))?;
        let outcome = durable
            .await
            .map_err(|_| StoreError::Db("the audit writer stopped".to_owned()))?;
        if let Err(StoreError::Contention(_)) = &outcome {
            // Nothing was written: the request may run again (`UnitOfWork`).
            crate::db::UnitOfWork::note_contention();
        }
        outcome
    }

    /// Writes an audit row on its own (reads); see [`Store::record_audits`].
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.record_audits(vec![entry.clone()]).await
    }
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult)]
pub struct AuditRecord {
    pub id: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub role_name: String,
    pub action: String,
    pub patient_id: Option<i32>,
    pub timestamp: chrono::DateTime<Utc>,
    pub meta: Option<Value>,
    pub request_id: Option<String>,
}

impl Store {
    /// The newest audit rows first, optionally only one action.
    pub async fn audit_log(
        &self,
        action: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        use sea_orm::sea_query::{Expr, ExprTrait};
        let mut select = Query::select()
            .columns([
                CoreAuditlog::Id,
                CoreAuditlog::UserId,
                CoreAuditlog::Username,
                CoreAuditlog::RoleName,
                CoreAuditlog::Action,
                CoreAuditlog::PatientId,
                CoreAuditlog::Timestamp,
                CoreAuditlog::Meta,
                CoreAuditlog::RequestId,
            ])
            .from(CoreAuditlog::Table)
            .order_by(CoreAuditlog::Id, sea_orm::Order::Desc)
            .limit(limit)
            .to_owned();
        if let Some(action) = action {
            select.and_where(Expr::col(CoreAuditlog::Action).eq(action));
        }
        let rows = self.conn().query_all(&select).await?;
        rows.iter()
            .map(|row| {
                <AuditRecord as sea_orm::FromQueryResult>::from_query_result(row, "")
                    .map_err(StoreError::from)
            })
            .collect()
    }
}

// ---- who accessed whom -----------------------------------------------------------------------

/// Filters of the access report ("who accessed patient X", "what did user U access").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Rows that list this patient as subject (or, written before subjects existed, name it
    /// as `patient_id`).
    pub patient_id: Option<i32>,
    /// Rows of this user.
    pub user_id: Option<i64>,
    /// Rows at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Rows before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Rows of this exact action (the administration page's filter).
    pub action: Option<String>,
    /// Rows whose username snapshot contains this text, case-insensitively (ditto).
    pub username: Option<String>,
}

/// An audit row with the patients it showed or touched.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    pub record: AuditRecord,
    /// Sorted patient ids.
    pub subjects: Vec<i32>,
}

/// The condition selecting the rows with `patient_id` among their subjects (the subject
/// index answers it; `patient_id` covers rows written before m0012).
pub(crate) fn subject_condition(patient_id: i32) -> sea_orm::sea_query::Condition {
    sea_orm::sea_query::Cond::any()
        .add(
            Expr::col((CoreAuditlog::Table, CoreAuditlog::Id)).in_subquery(
                Query::select()
                    .column(CoreAuditlogSubject::AuditId)
                    .from(CoreAuditlogSubject::Table)
                    .and_where(Expr::col(CoreAuditlogSubject::PatientId).eq(patient_id))
                    .to_owned(),
            ),
        )
        .add(Expr::col((CoreAuditlog::Table, CoreAuditlog::PatientId)).eq(patient_id))
}

const RECORD_COLUMNS: [CoreAuditlog; 9] = [
    CoreAuditlog::Id,
    CoreAuditlog::UserId,
    CoreAuditlog::Username,
    CoreAuditlog::RoleName,
    CoreAuditlog::Action,
    CoreAuditlog::PatientId,
    CoreAuditlog::Timestamp,
    CoreAuditlog::Meta,
    CoreAuditlog::RequestId,
];

fn access_filter(query: &AccessQuery) -> sea_orm::sea_query::Condition {
    let mut filter = sea_orm::sea_query::Cond::all();
    if let Some(patient_id) = query.patient_id {
        filter = filter.add(subject_condition(patient_id));
    }
    if let Some(user_id) = query.user_id {
        filter = filter.add(Expr::col(CoreAuditlog::UserId).eq(user_id));
    }
    if let Some(since) = query.since {
        filter = filter.add(Expr::col(CoreAuditlog::Timestamp).gte(since));
    }
    if let Some(until) = query.until {
        filter = filter.add(Expr::col(CoreAuditlog::Timestamp).lt(until));
    }
    if let Some(action) = query
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        filter = filter.add(Expr::col(CoreAuditlog::Action).eq(action));
    }
    if let Some(username) = crate::read_models::master_data::search_text(query.username.as_ref()) {
        filter = filter.add(crate::read_models::master_data::contains(
            crate::entity::audit_log::Column::Username,
            username,
        ));
    }
    filter
}

impl Store {
    /// How many audit rows match `query` (the access report's total).
    pub async fn count_audit_accesses(&self, query: &AccessQuery) -> Result<u64, StoreError> {
        let count = Query::select()
            .expr_as(Func::count(Expr::col(CoreAuditlog::Id)), Alias::new("n"))
            .from(CoreAuditlog::Table)
            .cond_where(access_filter(query))
            .to_owned();
        let total: i64 = match self.conn().query_one(&count).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(u64::try_from(total).unwrap_or_default())
    }

    /// The access report: rows matching `query`, newest first, `limit` from `offset`, each
    /// with its subjects. Two statements: the page, the subjects of the page.
    pub async fn audit_accesses(
        &self,
        query: &AccessQuery,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AccessRecord>, StoreError> {
        let select = Query::select()
            .columns(RECORD_COLUMNS)
            .from(CoreAuditlog::Table)
            .cond_where(access_filter(query))
            .order_by(CoreAuditlog::Id, sea_orm::Order::Desc)
            .offset(offset)
            .limit(limit)
            .to_owned();
        let records = self
            .conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| {
                <AuditRecord as sea_orm::FromQueryResult>::from_query_result(row, "")
                    .map_err(StoreError::from)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut subjects = self
            .audit_subjects(records.iter().map(|record| record.id))
            .await?;
        Ok(records
            .into_iter()
            .map(|record| AccessRecord {
                subjects: subjects.remove(&record.id).unwrap_or_default(),
                record,
            })
            .collect())
    }

    /// The subjects of the given audit rows, sorted per row.
    pub async fn audit_subjects(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<std::collections::BTreeMap<i64, Vec<i32>>, StoreError> {
        let ids: Vec<i64> = ids.into_iter().collect();
        let mut subjects: std::collections::BTreeMap<i64, Vec<i32>> = Default::default();
        if ids.is_empty() {
            return Ok(subjects);
        }
        let select = Query::select()
            .columns([CoreAuditlogSubject::AuditId, CoreAuditlogSubject::PatientId])
            .from(CoreAuditlogSubject::Table)
            .and_where(Expr::col(CoreAuditlogSubject::AuditId).is_in(ids))
            .order_by(CoreAuditlogSubject::AuditId, sea_orm::Order::Asc)
            .order_by(CoreAuditlogSubject::PatientId, sea_orm::Order::Asc)
            .to_owned();
        for row in self.conn().query_all(&select).await? {
            let audit_id: i64 = row.try_get("", "audit_id")?;
            let patient_id: i32 = row.try_get("", "patient_id")?;
            subjects.entry(audit_id).or_default().push(patient_id);
        }
        Ok(subjects)
    }
}

// ---- chain verification ----------------------------------------------------------------------

/// Why a link of the chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenLink {
    /// A row after the chain's start has no hash.
    MissingHash,
    /// The row's `prev_hash` is not the previous row's hash (a row was removed or inserted).
    WrongPrevious,
    /// The row's contents (or its subjects) no longer give its hash (the row was edited).
    ContentChanged,
    /// The chain head does not name the last row (rows at the end were removed).
    HeadMismatch,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BrokenLink::MissingHash => "the row has no hash",
            BrokenLink::WrongPrevious => "prev_hash is not the hash of the row before",
            BrokenLink::ContentChanged => "the row's contents do not match its hash",
            BrokenLink::HeadMismatch => "the chain head does not match the last row",
        })
    }
}

/// The outcome of [`Store::verify_audit_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every chained row recomputes to its hash and links to the one before.
    Intact {
        /// Rows checked.
        chained: u64,
        /// Rows written before the chain existed (not checkable).
        legacy: u64,
    },
    /// The first broken link, by id.
    Broken { id: i64, reason: BrokenLink },
}

/// A stored row with its chain columns.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct ChainRow {
    id: i64,
    user_id: Option<i64>,
    username: String,
    role_name: String,
    action: String,
    patient_id: Option<i32>,
    timestamp: DateTime<Utc>,
    meta: Option<Value>,
    request_id: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

/// Rows read per statement while verifying.
const VERIFY_PAGE: u64 = 2000;

impl Store {
    /// Walks the audit log in id order up to the chain head, recomputes every row's hash
    /// and its link to the previous row, and reports the first broken link.
    pub async fn verify_audit_chain(&self) -> Result<ChainCheck, StoreError> {
        let conn = self.conn();
        let head = Query::select()
            .columns([
                CoreAuditlogChain::LegacyUntil,
                CoreAuditlogChain::LastId,
                CoreAuditlogChain::Hash,
            ])
            .from(CoreAuditlogChain::Table)
            .and_where(Expr::col(CoreAuditlogChain::Id).eq(1))
            .to_owned();
        let head = conn
            .query_one(&head)
            .await?
            .ok_or_else(|| StoreError::Db("the audit chain head is missing".to_owned()))?;
        let legacy_until: i64 = head.try_get("", "legacy_until")?;
        let last_id: i64 = head.try_get("", "last_id")?;
        let head_hash: String = head.try_get("", "hash")?;

        let legacy = Query::select()
            .expr_as(Func::count(Expr::col(CoreAuditlog::Id)), Alias::new("n"))
            .from(CoreAuditlog::Table)
            .and_where(Expr::col(CoreAuditlog::Id).lte(legacy_until))
            .to_owned();
        let legacy: i64 = match conn.query_one(&legacy).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };

        let mut prev_hash = crate::migration::m0012_audit_chain::GENESIS_HASH.to_owned();
        let mut after = legacy_until;
        let mut chained = 0u64;
        let mut last_seen = legacy_until;
        loop {
            let mut columns = RECORD_COLUMNS.to_vec();
            columns.extend([CoreAuditlog::PrevHash, CoreAuditlog::Hash]);
            let page = Query::select()
                .columns(columns)
                .from(CoreAuditlog::Table)
                .and_where(Expr::col(CoreAuditlog::Id).gt(after))
                .and_where(Expr::col(CoreAuditlog::Id).lte(last_id))
                .order_by(CoreAuditlog::Id, sea_orm::Order::Asc)
                .limit(VERIFY_PAGE)
                .to_owned();
            let rows = conn
                .query_all(&page)
                .await?
                .iter()
                .map(|row| {
                    <ChainRow as sea_orm::FromQueryResult>::from_query_result(row, "")
                        .map_err(StoreError::from)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let Some(page_last) = rows.last().map(|row| row.id) else {
                break;
            };
            let subjects = Query::select()
                .columns([CoreAuditlogSubject::AuditId, CoreAuditlogSubject::PatientId])
                .from(CoreAuditlogSubject::Table)
                .and_where(Expr::col(CoreAuditlogSubject::AuditId).gt(after))
                .and_where(Expr::col(CoreAuditlogSubject::AuditId).lte(page_last))
                .order_by(CoreAuditlogSubject::AuditId, sea_orm::Order::Asc)
                .order_by(CoreAuditlogSubject::PatientId, sea_orm::Order::Asc)
                .to_owned();
            let mut by_row: std::collections::BTreeMap<i64, Vec<i32>> = Default::default();
            for row in conn.query_all(&subjects).await? {
                let audit_id: i64 = row.try_get("", "audit_id")?;
                let patient_id: i32 = row.try_get("", "patient_id")?;
                by_row.entry(audit_id).or_default().push(patient_id);
            }
            for row in &rows {
                let (Some(stored_prev), Some(stored_hash)) = (&row.prev_hash, &row.hash) else {
                    return Ok(ChainCheck::Broken {
                        id: row.id,
                        reason: BrokenLink::MissingHash,
                    });
                };
                if *stored_prev != prev_hash {
                    return Ok(ChainCheck::Broken {
                        id: row.id,
                        reason: BrokenLink::WrongPrevious,
                    });
                }
                let subjects = by_row.remove(&row.id).unwrap_or_default();
                let computed = chain_hash(
                    &ChainFields {
                        id: row.id,
                        user_id: row.user_id,
                        username: &row.username,
                        role_name: &row.role_name,
                        action: &row.action,
                        patient_id: row.patient_id,
                        timestamp: row.timestamp,
                        meta: row.meta.as_ref(),
                        request_id: row.request_id.as_deref(),
                        subjects: &subjects,
                    },
                    stored_prev,
                );
                if computed != *stored_hash {
                    return Ok(ChainCheck::Broken {
                        id: row.id,
                        reason: BrokenLink::ContentChanged,
                    });
                }
                prev_hash = computed;
                chained += 1;
                last_seen = row.id;
            }
            // Subjects of ids without a row (a removed row) are caught by the link check of
            // the row after it; subjects added to an existing row change its hash.
            after = page_last;
        }
        if last_seen != last_id || prev_hash != head_hash {
            return Ok(ChainCheck::Broken {
                id: last_id,
                reason: BrokenLink::HeadMismatch,
            });
        }
        // Rows after the head committed later; none of them may lack its hash.
        let unchained = Query::select()
            .expr_as(Func::min(Expr::col(CoreAuditlog::Id)), Alias::new("id"))
            .from(CoreAuditlog::Table)
            .and_where(Expr::col(CoreAuditlog::Id).gt(last_id))
            .and_where(Expr::col(CoreAuditlog::Hash).is_null())
            .to_owned();
        let unchained = match conn.query_one(&unchained).await? {
            Some(row) => row.try_get::<Option<i64>>("", "id")?,
            None => None,
        };
        if let Some(id) = unchained {
            return Ok(ChainCheck::Broken {
                id,
                reason: BrokenLink::MissingHash,
            });
        }
        Ok(ChainCheck::Intact {
            chained,
            legacy: u64::try_from(legacy).unwrap_or_default(),
        })
    }
}
