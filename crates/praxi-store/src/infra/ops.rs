//! Operations support: connection-pool figures for the metrics, and the SQLite side of backup
//! and restore (an online `VACUUM INTO` snapshot, integrity checks, and the "is anyone using
//! this file" probe that restore runs before it replaces a database).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

use crate::db::Store;
use crate::error::StoreError;

/// Bookings the scheduling engine refused in this process.
static BOOKING_CONFLICTS: AtomicU64 = AtomicU64::new(0);

/// Counts one booking refused by the scheduling engine (called where the store refuses it).
pub(crate) fn count_booking_conflict() {
    BOOKING_CONFLICTS.fetch_add(1, Ordering::Relaxed);
}

/// Bookings (appointments and operations) refused by the scheduling engine since start.
pub fn booking_conflicts() -> u64 {
    BOOKING_CONFLICTS.load(Ordering::Relaxed)
}

/// Connections of the pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections (in use plus idle).
    pub size: u32,
    /// Open connections nobody is using.
    pub idle: u32,
}

impl PoolStats {
    /// Connections currently handed out.
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

impl Store {
    /// The pool's open and idle connections.
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match self.backend() {
            DbBackend::Sqlite => {
                let pool = self.conn().get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.conn().get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
        }
    }

    /// SQLite only: writes a consistent snapshot of the live database into `target` (which must
    /// not exist) with `VACUUM INTO`. Runs while the server serves: in WAL mode the snapshot is
    /// one read transaction, writers are not blocked.
    pub async fn backup_sqlite_into(&self, target: &Path) -> Result<(), StoreError> {
        if self.backend() != DbBackend::Sqlite {
            return Err(StoreError::Db(
                "VACUUM INTO backups need an SQLite database".to_owned(),
            ));
        }
        if target.exists() {
            return Err(StoreError::Db(format!(
                "{} already exists",
                target.display()
            )));
        }
        let path = target
            .to_str()
            .ok_or_else(|| StoreError::Db("the backup path is not valid UTF-8".to_owned()))?;
        let literal = path.replace('\'', "''");
        self.conn()
            .execute_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("VACUUM INTO '{literal}'"),
            ))
            .await?;
        Ok(())
    }
}

/// Opens one connection to an SQLite file without waiting on locks.
async fn open_sqlite(
    path: &Path,
    read_only: bool,
) -> Result<sea_orm::DatabaseConnection, StoreError> {
    let url = format!(
        "sqlite://{}?mode={}",
        path.display(),
        if read_only { "ro" } else { "rw" }
    );
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .map_sqlx_sqlite_opts(|opts| opts.busy_timeout(Duration::ZERO));
    Ok(Database::connect(options).await?)
}

/// `PRAGMA integrity_check` of an SQLite file: `Ok(())` when it answers `ok`, else the
/// problems it lists.
pub async fn sqlite_integrity_check(path: &Path) -> Result<(), StoreError> {
    if !path.is_file() {
        return Err(StoreError::Db(format!("{} is not a file", path.display())));
    }
    let db = open_sqlite(path, true).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await;
    let _ = db.close().await;
    let problems: Vec<String> = rows?
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .filter(|line| line != "ok")
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Db(format!(
            "integrity check failed: {}",
            problems.join("; ")
        )))
    }
}

/// `true` when another process has the SQLite file open (a running Praxi keeps its pool's
/// connections open, and in WAL mode each holds a shared lock on the file): the probe takes
/// the file in exclusive locking mode, which fails at once while anyone else holds it.
pub async fn sqlite_in_use(path: &Path) -> Result<bool, StoreError> {
    if !path.exists() {
        return Ok(false);
    }
    let db = open_sqlite(path, false).await?;
    let probe = async {
        db.execute_unprepared("PRAGMA locking_mode = EXCLUSIVE")
            .await?;
        db.execute_unprepared("BEGIN EXCLUSIVE").await?;
        db.execute_unprepared("COMMIT").await
    }
    .await;
    let _ = db.close().await;
    Ok(probe.is_err())
}
