//! The audit log: who did what to which patient, when. Ids and action only; never names,
//! birth dates or other patient data (data-model.md §4.3, §15.6). Append-only in the schema.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Query;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::CoreAuditlog;

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

/// Inserts audit rows with one multi-row `INSERT` (the group commit's batch).
async fn insert_audits<C: ConnectionTrait>(
    conn: &C,
    rows: &[(&AuditEntry, DateTime<Utc>)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert()
        .into_table(CoreAuditlog::Table)
        .columns([
            CoreAuditlog::UserId,
            CoreAuditlog::Username,
            CoreAuditlog::RoleName,
            CoreAuditlog::Action,
            CoreAuditlog::PatientId,
            CoreAuditlog::Timestamp,
            CoreAuditlog::Meta,
            CoreAuditlog::RequestId,
        ])
        .to_owned();
    for (entry, at) in rows {
        insert.values_panic([
            entry.user_id.into(),
            entry.username.clone().into(),
            entry.role_name.clone().into(),
            entry.action.clone().into(),
            entry.patient_id.into(),
            (*at).into(),
            entry.meta.clone().into(),
            entry.request_id.clone().into(),
        ]);
    }
    conn.execute(&insert).await?;
    Ok(())
}

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

/// Rows written in one transaction at most (8 parameters each, well below every limit).
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
