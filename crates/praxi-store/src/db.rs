//! The store handle: connection pool, migrations and write transactions.
//!
//! Writes on SQLite are serialised through one in-process writer lock and start with
//! `BEGIN IMMEDIATE`, so a write transaction never fails half-way with `SQLITE_BUSY`; other
//! processes on the same file wait on the busy timeout. PostgreSQL writes take advisory
//! transaction locks where bookings need them.

use std::sync::Arc;
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
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
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
            options.max_connections(20).min_connections(1);
        }
        let db = Database::connect(options).await?;
        Ok(Store {
            writer: (db.get_database_backend() == DbBackend::Sqlite)
                .then(|| Arc::new(Mutex::new(()))),
            db,
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
        })
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(StoreError::from)
    }
}

/// `true` when the error is a unique violation.
pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    DbFailure::of(error) == DbFailure::Unique
}
