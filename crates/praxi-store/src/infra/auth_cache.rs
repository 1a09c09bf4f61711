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
//!   With Redis, the server relays the bump (`on_local_write` → publish → `invalidate_auth`).
//! - A reader records the epoch before it reads the database and stores its answer only if
//!   the epoch is unchanged afterwards, so an answer read before a change never outlives it.
//! - Entries also expire after [`TTL`]: the bound for a process that misses a notification
//!   (SQLite with several processes and no Redis; a listener that is reconnecting).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::users::UserRecord;

/// The longest an entry is trusted without a notification.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries kept at most (a cache full of one-off tokens is dropped whole).
const MAX_ENTRIES: usize = 10_000;

/// What a committed write of this process also does (before the request goes on).
pub(crate) type LocalWriteHook =
    Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

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
    /// Awaited after every local invalidation by a write (the server relays it to Redis).
    on_local_write: OnceLock<LocalWriteHook>,
}

impl Default for AuthCache {
    fn default() -> Self {
        AuthCache {
            enabled: AtomicBool::new(true),
            epoch: AtomicU64::new(0),
            entries: Mutex::default(),
            on_local_write: OnceLock::new(),
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
    pub(crate) async fn local_write(&self) {
        self.invalidate();
        if let Some(hook) = self.on_local_write.get() {
            hook().await;
        }
    }

    pub(crate) fn set_on_local_write(&self, hook: LocalWriteHook) {
        let _ = self.on_local_write.set(hook);
    }
}
