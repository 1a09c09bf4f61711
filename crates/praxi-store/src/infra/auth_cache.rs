//! Authentication in process: what an authenticated request needs of its user (role, active
//! flag, token version, whether the access token is on the deny-list), cached so that a
//! request does not read the user again (issue #12).
//!
//! Invalidation, by epochs: every cached entry carries the epoch it was read in, and any
//! change bumps the epoch and drops every entry.
//! - In this process: every committed write transaction (`WriteTx::commit`) bumps it, so
//!   whatever a request changed is seen by the next request.
//! - Across processes: on PostgreSQL, triggers on `core_user` and the deny-list notify
//!   `praxi_auth` (migration m0011); [`crate::Store::watch_auth_changes`] listens and bumps.
//!   SQLite has no such channel (a `praxi user` command is another process), so there the
//!   cache is off and every request reads its user, as before.
//! - A reader records the epoch before it reads the database and stores its answer only if
//!   the epoch is unchanged afterwards, so an answer read before a change never outlives it.
//! - Entries also expire after [`TTL`]: the bound for a process that misses a notification
//!   (a listener that is reconnecting).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::users::UserRecord;

/// The longest an entry is trusted without a notification.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries kept at most (a cache full of one-off tokens is dropped whole).
const MAX_ENTRIES: usize = 10_000;

/// `(user id, access token id)`; sessions use an empty token id.
type Key = (i64, String);

struct Entry {
    epoch: u64,
    at: Instant,
    user: UserRecord,
    revoked: bool,
}

/// The cache of one store (shared by its clones).
pub(crate) struct AuthCache {
    /// Off: every request reads its user (a process that cannot learn about changes made by
    /// others, e.g. a second process on one SQLite file without Redis).
    enabled: AtomicBool,
    epoch: AtomicU64,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl AuthCache {
    /// On for PostgreSQL, where every process hears of every change (`NOTIFY praxi_auth` from
    /// triggers, whoever wrote); off for SQLite, where another process (e.g. a `praxi user`
    /// command) could change a user unheard.
    pub(crate) fn new(enabled: bool) -> Self {
        AuthCache {
            enabled: AtomicBool::new(enabled),
            epoch: AtomicU64::new(0),
            entries: Mutex::default(),
        }
    }
}

impl AuthCache {
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
        self.invalidate();
    }

    /// The current epoch (read before a database read that may be stored).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub(crate) fn get(&self, user_id: i64, jti: &str) -> Option<(UserRecord, bool)> {
        if !self.enabled.load(Ordering::SeqCst) {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(&(user_id, jti.to_owned()))?;
        (entry.epoch == self.epoch() && entry.at.elapsed() < TTL)
            .then(|| (entry.user.clone(), entry.revoked))
    }

    /// Stores an answer read in `epoch`, unless something changed since.
    pub(crate) fn put(&self, epoch: u64, user_id: i64, jti: &str, user: UserRecord, revoked: bool) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if self.epoch() != epoch || !self.enabled.load(Ordering::SeqCst) {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            (user_id, jti.to_owned()),
            Entry {
                epoch,
                at: Instant::now(),
                user,
                revoked,
            },
        );
    }

    /// Drops everything (a change somewhere).
    pub(crate) fn invalidate(&self) {
        let entries = self.entries.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = entries {
            entries.clear();
        }
    }

    /// A write of this process committed.
    pub(crate) fn local_write(&self) {
        self.invalidate();
    }
}
