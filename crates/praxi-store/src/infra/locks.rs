//! Booking locks. A booking takes, inside its transaction and before it checks anything, one
//! lock per person, patient and resource it touches, in ascending key order (no deadlocks).
//! PostgreSQL: transaction-scoped advisory locks. SQLite: the store's single writer lock
//! (taken by `Store::write`) already serialises every write, so nothing more is needed.
//!
//! The one lock order (ARCHITECTURE.md, "Lock order"): first the advisory locks of a
//! transaction, all at once and sorted ([`lock`]); then row locks (`FOR UPDATE`, updates),
//! several rows in ascending id order. A row that belongs to a person (an absence, a doctor's
//! hours) is therefore locked through [`lock_person_row`], never `FOR UPDATE` before the
//! person's lock.

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};

use crate::error::{DbFailure, StoreError};
use crate::repositories::{RowLock, row_by_id};

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

/// Locks the row `id` of `E` that belongs to a person in the one lock order: reads the row's
/// owner without a lock, takes the advisory locks of that owner and of `moving_to` (the new
/// owner of an update, if any) sorted, and only then the row (`FOR UPDATE`).
///
/// An owner can only change under the old owner's lock, so once that lock is held the owner
/// is stable; if it changed between the first read and the lock, the caller's locks are the
/// wrong ones and the write answers [`StoreError::Contention`] (the client may retry) rather
/// than take a further lock out of order.
pub(crate) async fn lock_person_row<C, E>(
    conn: &C,
    id: i64,
    owner: fn(&E::Model) -> i64,
    moving_to: Option<i64>,
    model: &'static str,
) -> Result<E::Model, StoreError>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let seen = row_by_id::<E, C>(conn, id, RowLock::None)
        .await?
        .ok_or(StoreError::NotFound(model))?;
    let seen_owner = owner(&seen);
    let mut keys = vec![LockKey::Person(seen_owner)];
    keys.extend(moving_to.map(LockKey::Person));
    lock(conn, &keys).await?;
    let stored = row_by_id::<E, C>(conn, id, RowLock::ForUpdate)
        .await?
        .ok_or(StoreError::NotFound(model))?;
    if owner(&stored) != seen_owner {
        return Err(StoreError::Contention(DbFailure::Serialization));
    }
    Ok(stored)
}
