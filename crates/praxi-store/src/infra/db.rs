//! The store handle: connection pool, migrations and write transactions.
//!
//! Writes on SQLite are serialised through one in-process writer lock and start with
//! `BEGIN IMMEDIATE`, so a write transaction never fails half-way with `SQLITE_BUSY`; other
//! processes on the same file wait on the busy timeout. PostgreSQL writes take advisory
//! transaction locks where bookings need them.
//!
//! A pooled PostgreSQL connection never goes back into service inside a transaction: see
//! [`release_outside_transaction`]. [`UnitOfWork`] records, per request, whether a write
//! committed and whether the database refused work because of contention, so the server can
//! re-run a request that changed nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{DbFailure, StoreError};
use crate::migration::Migrator;

/// The database behind Praxi.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite only: the single-writer lock.
    writer: Option<Arc<Mutex<()>>>,
    /// Cached authentication (`auth_cache`), dropped on every committed write.
    pub(crate) auth: Arc<crate::infra::auth_cache::AuthCache>,
    /// The audit group-commit writer (`audit`), started by the first audited read.
    pub(crate) audit: Arc<std::sync::OnceLock<crate::audit::AuditSender>>,
    /// How long before an appointment its reminder is due (`None`: no reminders are
    /// enqueued); see `repositories::outbox`.
    pub(crate) reminder_lead: Option<chrono::Duration>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

/// An open write transaction (holding the SQLite writer lock while it lives).
pub struct WriteTx {
    pub(crate) txn: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
    auth: Arc<crate::infra::auth_cache::AuthCache>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().await.map_err(StoreError::from)?;
        UnitOfWork::note_commit();
        // Whatever this wrote, the next request sees it: cached authentication goes.
        self.auth.local_write();
        Ok(())
    }

    /// Commits a change of a user or of the token deny-list (PostgreSQL triggers notify
    /// `praxi_auth`), then waits until this process heard that notification (at most 500 ms),
    /// so every process has been told before the request answers.
    pub async fn commit_auth_change(self) -> Result<(), StoreError> {
        let auth = self.auth.clone();
        let seen = auth.heard_count();
        self.commit().await?;
        auth.wait_heard_after(seen, Duration::from_millis(500))
            .await;
        Ok(())
    }

    /// Commits without touching the authentication cache (the audit writer: audit rows
    /// change nothing a request authenticates with).
    pub(crate) async fn commit_audit(self) -> Result<(), StoreError> {
        self.txn.commit().await.map_err(StoreError::from)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let is_sqlite = url.starts_with("sqlite:");
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if is_sqlite {
            options
                .max_connections(8)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|opts| {
                    opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(30))
                        .foreign_keys(true)
                        .create_if_missing(true)
                });
        } else {
            options
                .max_connections(20)
                .min_connections(1)
                .map_sqlx_postgres_pool_opts(|pool| {
                    pool.after_release(|conn, _meta| Box::pin(release_outside_transaction(conn)))
                });
        }
        let db = Database::connect(options).await?;
        Ok(Store {
            writer: (db.get_database_backend() == DbBackend::Sqlite)
                .then(|| Arc::new(Mutex::new(()))),
            // Off by default: see `infra::auth_cache` ("Not enabled yet").
            auth: Arc::new(crate::infra::auth_cache::AuthCache::new(false)),
            db,
            audit: Arc::default(),
            reminder_lead: Some(chrono::Duration::hours(crate::outbox::DEFAULT_LEAD_HOURS)),
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// `SELECT 1`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .execute_raw(Statement::from_string(self.backend(), "SELECT 1"))
            .await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The connection for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Opens a write transaction.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        let guard = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = if guard.is_some() {
            self.db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
        } else {
            self.db.begin().await?
        };
        Ok(WriteTx {
            txn,
            _writer: guard,
            auth: self.auth.clone(),
        })
    }

    /// A handle for the audit writer task: the same pool and caches, but its own (never
    /// started) writer cell, so the task does not keep its own inbox open.
    pub(crate) fn for_audit_writer(&self) -> Store {
        Store {
            db: self.db.clone(),
            writer: self.writer.clone(),
            auth: self.auth.clone(),
            audit: Arc::default(),
            reminder_lead: self.reminder_lead,
        }
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(StoreError::from)
    }
}

/// The pool's `after_release` hook on PostgreSQL: a connection that comes back inside a
/// transaction block is rolled back before anyone else can use it; one that cannot answer
/// (e.g. a transaction in the failed state) is discarded.
///
/// sqlx 0.9.0 could hand back a connection whose cancelled `BEGIN` had already reached the
/// server (sqlx issues 4385/4393): every later statement on it then ran inside that stray
/// transaction, and after the first error answered "current transaction is aborted" until the
/// process restarted. The request layer no longer cancels database work halfway, and sqlx
/// 0.9.1 fixes the driver, but the pool must not depend on either.
///
/// The check costs one extra round trip per release, off the request's path (sqlx returns
/// connections to the pool in a background task). It cannot look at the protocol's
/// transaction status (sqlx keeps it private), so it asks the server: inside a transaction
/// block `transaction_timestamp()` is the time of the `BEGIN`, while outside one every statement
/// is its own transaction and the two timestamps are the same value. sqlx drains the answer of
/// any unfinished statement before sending this query, so a pending `BEGIN` has been processed
/// a full round trip earlier and its timestamp differs. An unconditional `ROLLBACK` would be
/// just as cheap and correct, but outside a transaction PostgreSQL answers it with a warning
/// that would land in the server log for every pooled statement.
async fn release_outside_transaction(
    conn: &mut sea_orm::sqlx::postgres::PgConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx;
    use sqlx::Row;
    // The simple query protocol on purpose: one `Query` message, so outside a transaction block
    // the implicit transaction starts at that very message and both timestamps are equal. (With
    // the extended protocol, Parse starts the implicit transaction and Bind/Execute move
    // `statement_timestamp()` on, which would report a transaction that is not there.)
    let in_transaction = sqlx::raw_sql("SELECT transaction_timestamp() <> statement_timestamp()")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get::<bool, _>(0));
    match in_transaction {
        Ok(false) => Ok(true),
        Ok(true) => {
            tracing::warn!("pooled connection released inside a transaction; rolling it back");
            match sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await {
                Ok(_) => Ok(true),
                Err(error) => {
                    tracing::warn!(%error, "rollback on release failed; discarding the connection");
                    Ok(false)
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "pooled connection unusable on release; discarding it");
            Ok(false)
        }
    }
}

tokio::task_local! {
    static UNIT: Arc<UnitOfWork>;
}

/// What the store did while one unit of work (a request) ran: how many write transactions
/// committed, and whether the database refused work because of contention.
#[derive(Debug, Default)]
pub struct UnitOfWork {
    commits: AtomicU32,
    contention: AtomicBool,
}

/// The outcome of [`UnitOfWork::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitReport {
    /// Write transactions that committed.
    pub commits: u32,
    /// A statement failed with a deadlock, serialization failure, lock timeout or busy file.
    pub contention: bool,
}

impl UnitReport {
    /// `true` when the unit failed because of contention and changed nothing, so running it
    /// again from the start is safe.
    pub fn may_rerun(&self) -> bool {
        self.contention && self.commits == 0
    }
}

impl UnitOfWork {
    /// Runs `work`, recording the store's commits and contention failures within it (also
    /// across `.await`s, on this task only).
    pub async fn run<F: Future>(work: F) -> (F::Output, UnitReport) {
        let unit = Arc::new(UnitOfWork::default());
        let output = UNIT.scope(unit.clone(), work).await;
        let report = UnitReport {
            commits: unit.commits.load(Ordering::SeqCst),
            contention: unit.contention.load(Ordering::SeqCst),
        };
        (output, report)
    }

    fn note_commit() {
        let _ = UNIT.try_with(|unit| unit.commits.fetch_add(1, Ordering::SeqCst));
    }

    pub(crate) fn note_contention() {
        let _ = UNIT.try_with(|unit| unit.contention.store(true, Ordering::SeqCst));
    }
}

/// `true` when the error is a unique violation.
pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    DbFailure::of(error) == DbFailure::Unique
}
