//! Booking locks. A booking takes, inside its transaction and before it checks anything, one
//! lock per person, patient and resource it touches, in ascending key order (no deadlocks).
//! PostgreSQL: transaction-scoped advisory locks. SQLite: the store's single writer lock
//! (taken by `Store::write`) already serialises every write, so nothing more is needed.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::StoreError;

/// What a booking occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockKey {
    Person(i64),
    Patient(i32),
    Resource(i64),
    /// One appointment row: every edit of an existing appointment takes it first (alone),
    /// then re-reads the row, so edits of one appointment are serialised.
    Appointment(i32),
    /// One operation row (like `Appointment`).
    Operation(i64),
}

impl LockKey {
    fn key(self) -> i64 {
        // Kind in the top byte, id below; ids are far below 2^56.
        let (kind, id) = match self {
            LockKey::Person(id) => (1_i64, id),
            LockKey::Patient(id) => (2, i64::from(id)),
            LockKey::Resource(id) => (3, id),
            LockKey::Appointment(id) => (4, i64::from(id)),
            LockKey::Operation(id) => (5, id),
        };
        (kind << 56) | (id & 0x00FF_FFFF_FFFF_FFFF)
    }
}

/// Takes the locks for `keys` (sorted, de-duplicated) in the current transaction.
pub(crate) async fn lock<C: ConnectionTrait>(conn: &C, keys: &[LockKey]) -> Result<(), StoreError> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let mut keys: Vec<i64> = keys.iter().map(|key| key.key()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
