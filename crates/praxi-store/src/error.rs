//! Store errors: what callers can act on, without database details.

use praxi_domain::{FieldErrors, ValidationError};
use sea_orm::DbErr;

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
        StoreError::Db(error.to_string())
    }
}

impl From<ValidationError> for StoreError {
    fn from(error: ValidationError) -> Self {
        StoreError::Invalid(error.0)
    }
}
