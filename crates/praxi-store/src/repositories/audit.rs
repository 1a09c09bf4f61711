//! The audit log: who did what to which patient, when. Ids and action only; never names,
//! birth dates or other patient data (data-model.md §4.3, §15.6). Append-only in the schema.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Query;
use serde_json::Value;

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
    let insert = Query::insert()
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
        .values_panic([
            entry.user_id.into(),
            entry.username.clone().into(),
            entry.role_name.clone().into(),
            entry.action.clone().into(),
            entry.patient_id.into(),
            Utc::now().into(),
            entry.meta.clone().into(),
            entry.request_id.clone().into(),
        ])
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

impl Store {
    /// Writes an audit row on its own (reads). Fails closed: an error here fails the request.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        write_audit(&*tx, entry).await?;
        tx.commit().await
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
