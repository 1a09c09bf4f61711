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
//!
//! # Not enabled yet
//!
//! The cache is off by default (`Store::set_auth_cache(true)` turns it on). The notification
//! reaches another process asynchronously: the writing process waits until it heard its own
//! notification before it answers (`WriteTx::commit_auth_change`), but the other process may
//! still serve a request before its listener task ran. On the busy two-core test machine the
//! cross-process test (`crates/praxi/tests/events.rs`, `auth_changes_reach_…`) saw that about
//! one run in three, so "the next request in another process" is not guaranteed. It needs a
//! synchronous check (e.g. a per-request epoch read folded into the first query of the
//! request) before it can be switched on.

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
    /// `praxi_auth` notifications heard (0 while nobody listens).
    heard: AtomicU64,
    listening: AtomicBool,
    heard_signal: tokio::sync::Notify,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl AuthCache {
    /// Only sensible on PostgreSQL, where every process hears of every change (`NOTIFY
    /// praxi_auth` from triggers, whoever wrote); never on SQLite, where another process (e.g.
    /// a `praxi user` command) could change a user unheard.
    pub(crate) fn new(enabled: bool) -> Self {
        AuthCache {
            enabled: AtomicBool::new(enabled),
            epoch: AtomicU64::new(0),
            heard: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            heard_signal: tokio::sync::Notify::new(),
            entries: Mutex::default(),
        }
    }
}

impl AuthCache {
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

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

    /// The listener is in place.
    pub(crate) fn listening(&self) {
        self.listening.store(true, Ordering::SeqCst);
    }

    /// A `praxi_auth` notification arrived (or the listener reconnected).
    pub(crate) fn heard(&self) {
        self.invalidate();
        self.heard.fetch_add(1, Ordering::SeqCst);
        self.heard_signal.notify_waiters();
    }

    pub(crate) fn heard_count(&self) -> u64 {
        self.heard.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until a notification after the `seen`-th arrived: the
    /// database has then delivered this process's own change to every listener, before the
    /// request that made it answers.
    pub(crate) async fn wait_heard_after(&self, seen: u64, limit: Duration) {
        if !self.listening.load(Ordering::SeqCst) {
            return;
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let signal = self.heard_signal.notified();
            if self.heard_count() > seen {
                return;
            }
            if tokio::time::timeout_at(deadline, signal).await.is_err() {
                return;
            }
        }
    }

    /// A write of this process committed. Nothing to drop while the cache is off (turning it
    /// on starts from an empty cache), so a write costs no lock then.
    pub(crate) fn local_write(&self) {
        if self.is_enabled() {
            self.invalidate();
        }
    }
}
