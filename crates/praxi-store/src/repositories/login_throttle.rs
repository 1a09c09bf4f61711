//! Login throttling state shared by every Praxi process through the database: failure counters
//! per scope and the addresses each user logged in from before ("known addresses").
//!
//! The store only counts; the policy (which scopes, which windows, which delays) lives in
//! `praxi-server`'s `throttle` module. A counter row holds the failures of one scope within a
//! fixed window that starts with the first failure; a failure after the window ended starts a
//! new window. Increments happen in one atomic upsert, so concurrent failures in several
//! processes are all counted. Addresses are stored as keyed hashes only (see [`address_hash`]).

use std::sync::atomic::{AtomicU64, Ordering};

use blake2::{Blake2b512, Digest};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, UnionType};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::m0010_login_throttle::{LoginKnownAddress, LoginThrottle};

/// One failure counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCounter {
    /// Failures within the current window.
    pub failures: u32,
    /// When the window ends (the counter starts again after it).
    pub window_ends_at: DateTime<Utc>,
    /// The latest failure.
    pub last_failure_at: DateTime<Utc>,
}

/// What one read returns: the counters asked for (absent when never failed or when their
/// window has ended) and whether the address is known for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThrottleSnapshot {
    /// Counters by scope key, in the order asked for.
    pub counters: Vec<(String, FailureCounter)>,
    pub known_address: bool,
}

impl ThrottleSnapshot {
    /// The live counter of a scope.
    pub fn counter(&self, scope_key: &str) -> Option<FailureCounter> {
        self.counters
            .iter()
            .find(|(key, _)| key == scope_key)
            .map(|(_, counter)| *counter)
    }
}

/// A failure to count: the scope and the window a new count starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureScope {
    pub scope_key: String,
    pub window: chrono::Duration,
}

/// The keyed hash under which a client address is stored: BLAKE2b over a domain label, the
/// length-prefixed server key and the address, 128 bits in hex. Without the server key the
/// stored values reveal nothing about the addresses (the IPv4 space is small enough to
/// enumerate an unkeyed hash).
pub fn address_hash(secret_key: &[u8], address: &str) -> String {
    let digest = Blake2b512::new()
        .chain_update(b"praxi-login-address\0")
        .chain_update((secret_key.len() as u64).to_be_bytes())
        .chain_update(secret_key)
        .chain_update(address.as_bytes())
        .finalize();
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[derive(FromQueryResult)]
struct CounterRow {
    scope_key: String,
    failures: i32,
    window_ends_at: DateTime<Utc>,
    last_failure_at: DateTime<Utc>,
}

/// The marker row of the known-address branch of the read.
const KNOWN_MARKER: &str = "\u{1}known";

/// Every this many recorded failures, expired counters are pruned.
const PRUNE_EVERY: u64 = 64;
static FAILURES_RECORDED: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Reads the counters of `scope_keys` and whether `known` (user id, address hash) is a
    /// known address, in one statement. Counters whose window ended before `now` are left out.
    pub async fn login_throttle_snapshot(
        &self,
        scope_keys: &[&str],
        known: Option<(i64, &str)>,
        now: DateTime<Utc>,
    ) -> Result<ThrottleSnapshot, StoreError> {
        let mut select = Query::select()
            .columns([
                LoginThrottle::ScopeKey,
                LoginThrottle::Failures,
                LoginThrottle::WindowEndsAt,
                LoginThrottle::LastFailureAt,
            ])
            .from(LoginThrottle::Table)
            .and_where(Expr::col(LoginThrottle::ScopeKey).is_in(scope_keys.iter().copied()))
            .to_owned();
        if let Some((user_id, hash)) = known {
            let known_select = Query::select()
                .expr_as(Expr::val(KNOWN_MARKER), LoginThrottle::ScopeKey)
                .expr_as(Expr::val(0), LoginThrottle::Failures)
                .expr_as(
                    Expr::col(LoginKnownAddress::LastLoginAt),
                    LoginThrottle::WindowEndsAt,
                )
                .expr_as(
                    Expr::col(LoginKnownAddress::LastLoginAt),
                    LoginThrottle::LastFailureAt,
                )
                .from(LoginKnownAddress::Table)
                .and_where(Expr::col(LoginKnownAddress::UserId).eq(user_id))
                .and_where(Expr::col(LoginKnownAddress::AddressHash).eq(hash))
                .to_owned();
            select.union(UnionType::All, known_select);
        }
        let rows = self.conn().query_all(&select).await?;
        let mut snapshot = ThrottleSnapshot::default();
        let mut found = Vec::new();
        for row in rows {
            let row = CounterRow::from_query_result(&row, "")?;
            if row.scope_key == KNOWN_MARKER {
                snapshot.known_address = true;
            } else if row.window_ends_at > now {
                found.push(row);
            }
        }
        for key in scope_keys {
            if let Some(row) = found.iter().find(|row| row.scope_key == *key) {
                snapshot.counters.push((
                    row.scope_key.clone(),
                    FailureCounter {
                        failures: u32::try_from(row.failures).unwrap_or(0),
                        window_ends_at: row.window_ends_at,
                        last_failure_at: row.last_failure_at,
                    },
                ));
            }
        }
        Ok(snapshot)
    }

    /// Counts one failure in each scope, in one upsert: a scope whose window has ended starts
    /// a new window of its own length at 1. Now and then expired counters are pruned.
    pub async fn record_login_failure(
        &self,
        scopes: &[FailureScope],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if scopes.is_empty() {
            return Ok(());
        }
        let table = "\"praxi_login_throttle\"";
        let restart = format!("{table}.\"window_ends_at\" <= excluded.\"last_failure_at\"");
        let mut insert = Query::insert()
            .into_table(LoginThrottle::Table)
            .columns([
                LoginThrottle::ScopeKey,
                LoginThrottle::Failures,
                LoginThrottle::WindowEndsAt,
                LoginThrottle::LastFailureAt,
            ])
            .on_conflict(
                OnConflict::column(LoginThrottle::ScopeKey)
                    .value(
                        LoginThrottle::Failures,
                        Expr::cust(format!(
                            "CASE WHEN {restart} THEN 1 ELSE {table}.\"failures\" + 1 END"
                        )),
                    )
                    .value(
                        LoginThrottle::WindowEndsAt,
                        Expr::cust(format!(
                            "CASE WHEN {restart} THEN excluded.\"window_ends_at\" \
                             ELSE {table}.\"window_ends_at\" END"
                        )),
                    )
                    .value(
                        LoginThrottle::LastFailureAt,
                        Expr::cust("excluded.\"last_failure_at\""),
                    )
                    .to_owned(),
            )
            .to_owned();
        // One global order of the keys: concurrent upserts never wait on each other in a cycle.
        let mut sorted: Vec<&FailureScope> = scopes.iter().collect();
        sorted.sort_by(|a, b| a.scope_key.cmp(&b.scope_key));
        sorted.dedup_by(|a, b| a.scope_key == b.scope_key);
        for scope in sorted {
            insert.values_panic([
                scope.scope_key.clone().into(),
                1.into(),
                (now + scope.window).into(),
                now.into(),
            ]);
        }
        let tx = self.write().await?;
        tx.execute(&insert).await?;
        if FAILURES_RECORDED.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            prune_counters(&*tx, now).await?;
        }
        tx.commit().await
    }

    /// A successful login: forgets the failures of `clear_scopes`, records the address as
    /// known for the user and forgets the user's known addresses unused since
    /// `forget_known_before`.
    pub async fn record_login_success(
        &self,
        clear_scopes: &[&str],
        user_id: i64,
        address_hash: &str,
        now: DateTime<Utc>,
        forget_known_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        if !clear_scopes.is_empty() {
            let clear = Query::delete()
                .from_table(LoginThrottle::Table)
                .and_where(Expr::col(LoginThrottle::ScopeKey).is_in(clear_scopes.iter().copied()))
                .to_owned();
            tx.execute(&clear).await?;
        }
        let forget = Query::delete()
            .from_table(LoginKnownAddress::Table)
            .and_where(Expr::col(LoginKnownAddress::UserId).eq(user_id))
            .and_where(Expr::col(LoginKnownAddress::LastLoginAt).lt(forget_known_before))
            .to_owned();
        tx.execute(&forget).await?;
        let remember = Query::insert()
            .into_table(LoginKnownAddress::Table)
            .columns([
                LoginKnownAddress::UserId,
                LoginKnownAddress::AddressHash,
                LoginKnownAddress::LastLoginAt,
            ])
            .values_panic([user_id.into(), address_hash.into(), now.into()])
            .on_conflict(
                OnConflict::columns([LoginKnownAddress::UserId, LoginKnownAddress::AddressHash])
                    .update_column(LoginKnownAddress::LastLoginAt)
                    .to_owned(),
            )
            .to_owned();
        tx.execute(&remember).await?;
        tx.commit().await
    }

    /// Deletes every counter whose window ended before `now` (also done now and then by
    /// [`Store::record_login_failure`]). Returns how many went.
    pub async fn prune_login_throttle(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let tx = self.write().await?;
        let pruned = prune_counters(&*tx, now).await?;
        tx.commit().await?;
        Ok(pruned)
    }

    /// How many counter rows exist (tests and diagnostics).
    pub async fn count_login_throttle_rows(&self) -> Result<u64, StoreError> {
        let select = Query::select()
            .expr_as(
                Expr::col(LoginThrottle::ScopeKey).count(),
                LoginThrottle::Failures,
            )
            .from(LoginThrottle::Table)
            .to_owned();
        let row = self.conn().query_one(&select).await?;
        let count: i64 = match row {
            Some(row) => row.try_get("", "failures")?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

async fn prune_counters<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let delete = Query::delete()
        .from_table(LoginThrottle::Table)
        .and_where(Expr::col(LoginThrottle::WindowEndsAt).lt(now))
        .to_owned();
    Ok(conn.execute(&delete).await?.rows_affected())
}
