//! Store errors: what callers can act on, without database details.
//!
//! Database failures are classified in exactly one place, [`DbFailure::of`], by the driver's
//! error kind and SQLSTATE (PostgreSQL) or extended result code (SQLite) — never by message
//! text.

use std::ops::Deref;

use praxi_domain::{FieldErrors, ValidationError};
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row with that id (the model name, e.g. "Patient").
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input violates a rule the store checks (uniqueness, references).
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A delete refused because other rows reference this one.
    #[error("{0} is still referenced")]
    StillReferenced(String),
    /// A booking refused by the scheduling engine (every conflict, in check order).
    #[error("scheduling conflict")]
    Scheduling(Box<praxi_domain::scheduling::SchedulingConflicts>),
    /// Concurrent transactions got in each other's way (deadlock, serialization failure, lock
    /// timeout, a busy SQLite file) and the work was not done; the client may retry.
    #[error("database contention: {0:?}")]
    Contention(DbFailure),
    /// Anything else; logged, never shown to clients.
    #[error("database error: {0}")]
    Db(String),
}

impl StoreError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid(FieldErrors::single(field, message))
    }
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        match DbFailure::of(&error) {
            failure if failure.is_contention() => {
                crate::db::UnitOfWork::note_contention();
                StoreError::Contention(failure)
            }
            _ => StoreError::Db(error.to_string()),
        }
    }
}

impl From<ValidationError> for StoreError {
    fn from(error: ValidationError) -> Self {
        StoreError::Invalid(error.0)
    }
}

/// What the database said, classified by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// Unique or primary-key violation (23505; SQLite 2067/1555).
    Unique,
    /// Foreign-key violation (23503; SQLite 787).
    ForeignKey,
    /// Exclusion-constraint violation (23P01, PostgreSQL only): a double booking.
    Exclusion,
    /// Check-constraint violation or a trigger's `RAISE` (23514; SQLite 275/1811).
    Check,
    /// Not-null violation (23502; SQLite 1299).
    NotNull,
    /// Serialization failure (40001).
    Serialization,
    /// Deadlock detected (40P01).
    Deadlock,
    /// Lock not available / lock timeout (55P03) or statement cancelled by timeout (57014).
    LockTimeout,
    /// SQLite: the file is locked by another connection (5, 6 and their extended codes).
    Busy,
    /// Any other database or connection error.
    Other,
}

impl DbFailure {
    /// Classifies `error` by driver error kind and code.
    pub fn of(error: &DbErr) -> DbFailure {
        let Some(database) = database_error(error) else {
            return DbFailure::Other;
        };
        match database.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return DbFailure::Unique,
            sqlx::error::ErrorKind::ForeignKeyViolation => return DbFailure::ForeignKey,
            sqlx::error::ErrorKind::ExclusionViolation => return DbFailure::Exclusion,
            sqlx::error::ErrorKind::CheckViolation => return DbFailure::Check,
            sqlx::error::ErrorKind::NotNullViolation => return DbFailure::NotNull,
            _ => {}
        }
        let code = database.code().unwrap_or_default();
        match code.deref() {
            "23505" | "2067" | "1555" => DbFailure::Unique,
            "23503" | "787" => DbFailure::ForeignKey,
            "23P01" => DbFailure::Exclusion,
            "23514" | "275" | "1811" | "19" => DbFailure::Check,
            "23502" | "1299" => DbFailure::NotNull,
            "40001" => DbFailure::Serialization,
            "40P01" => DbFailure::Deadlock,
            "55P03" | "57014" => DbFailure::LockTimeout,
            "5" | "6" | "261" | "262" | "517" => DbFailure::Busy,
            _ => DbFailure::Other,
        }
    }

    /// `true` for failures caused by concurrent transactions: retrying may succeed.
    pub fn is_contention(self) -> bool {
        matches!(
            self,
            DbFailure::Serialization
                | DbFailure::Deadlock
                | DbFailure::LockTimeout
                | DbFailure::Busy
        )
    }
}

/// The driver's database error inside a SeaORM error, if the database answered one.
fn database_error(error: &DbErr) -> Option<&(dyn sqlx::error::DatabaseError + 'static)> {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner)) => match inner.deref() {
            sqlx::Error::Database(database) => Some(database.as_ref()),
            _ => None,
        },
        _ => None,
    }
}

/// The name of the constraint the database reported as violated, if any.
pub fn violated_constraint(error: &DbErr) -> Option<&str> {
    database_error(error)?.constraint()
}
