//! Failed-login throttling that slows guessing without locking out the owner
//! (docs/security.md, "Login throttling").
//!
//! Three counters per failed login, kept in the database so every process sees the same
//! numbers (`praxi_store::login_throttle`):
//!
//! - **pair** (account, address): the first [`ThrottlePolicy::pair_free_failures`] failures
//!   are free; after that each attempt must wait 1 s, 2 s, 4 s, … (capped) after the latest
//!   failure of the pair.
//! - **account** (all addresses): past [`ThrottlePolicy::account_cap`] failures within the
//!   window, only addresses the user logged in from before ("known addresses") are still
//!   admitted; every other address waits until the window ends.
//! - **address** (all accounts): past [`ThrottlePolicy::address_cap`] failures within the
//!   window, attempts from the address for accounts it is not known for get growing delays
//!   again; known (account, address) pairs are exempt, so a NAT is never locked out.
//!
//! A refused (throttled) attempt is not verified and not counted. A successful login clears
//! the pair counter and records the address as known for the user. The flow in a login
//! handler is: [`LoginAttempt::new`] → [`LoginThrottle::check`] → verify the password →
//! [`LoginThrottle::record_failure`] or [`LoginThrottle::record_success`].

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use praxi_store::login_throttle::{FailureScope, ThrottleSnapshot, address_hash};
use praxi_store::users::UserRecord;
use praxi_store::{Store, StoreError};

/// The numbers of the throttling policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures of one (account, address) pair that need no wait.
    pub pair_free_failures: u32,
    /// The pair counter restarts this long after its first failure (a success clears it).
    pub pair_window: Duration,
    /// The longest delay ever asked for.
    pub max_delay: Duration,
    /// Failures of one account (any address) after which only known addresses get through.
    pub account_cap: u32,
    pub account_window: Duration,
    /// Failures from one address (any account) after which unknown pairs get delays.
    pub address_cap: u32,
    pub address_window: Duration,
    /// A known address is forgotten when the user has not logged in from it for this long.
    pub known_address_ttl: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            pair_free_failures: 3,
            pair_window: Duration::hours(24),
            max_delay: Duration::minutes(15),
            account_cap: 50,
            account_window: Duration::hours(1),
            address_cap: 100,
            address_window: Duration::minutes(10),
            known_address_ttl: Duration::days(180),
        }
    }
}

/// One login attempt: who (the account, by user id when the login names a user) and from
/// where (the keyed hash of the client address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    user_id: Option<i64>,
    account: String,
    address: String,
}

impl LoginAttempt {
    /// `user` is the account the login names (if any), `login` what was typed.
    pub fn new(
        secret_key: &[u8],
        user: Option<&UserRecord>,
        login: &str,
        address: Option<IpAddr>,
    ) -> LoginAttempt {
        let account = match user {
            Some(user) => format!("u{}", user.id),
            // Typed names are hashed too: people type passwords into the username field.
            None => format!(
                "n{}",
                address_hash(secret_key, &format!("name:{}", login.trim().to_lowercase()))
            ),
        };
        let address = address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        LoginAttempt {
            user_id: user.map(|user| user.id),
            account,
            address: address_hash(secret_key, &address),
        }
    }

    fn pair_key(&self) -> String {
        format!("pair:{}:{}", self.account, self.address)
    }

    fn account_key(&self) -> String {
        format!("account:{}", self.account)
    }

    fn address_key(&self) -> String {
        format!("address:{}", self.address)
    }
}

/// `2^steps` seconds, at most `max`.
fn doubling_delay(steps: u32, max: Duration) -> Duration {
    let delay = if steps >= 30 {
        max
    } else {
        Duration::seconds(1_i64 << steps)
    };
    delay.min(max)
}

/// Whole seconds until `ready_at`, rounded up; `None` when it has passed.
fn seconds_until(ready_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    let left = ready_at - now;
    if left <= Duration::zero() {
        return None;
    }
    let millis = u64::try_from(left.num_milliseconds()).unwrap_or(0);
    Some(millis.div_ceil(1000).max(1))
}

/// The throttle: the policy plus the store calls.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    pub policy: ThrottlePolicy,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> LoginThrottle {
        LoginThrottle { policy }
    }

    /// The decision for a snapshot (pure): `Some(seconds)` to wait, `None` to go ahead.
    pub fn decide(
        &self,
        attempt: &LoginAttempt,
        snapshot: &ThrottleSnapshot,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let policy = &self.policy;
        let mut waits = Vec::new();
        if let Some(pair) = snapshot.counter(&attempt.pair_key())
            && pair.failures >= policy.pair_free_failures
        {
            let delay = doubling_delay(pair.failures - policy.pair_free_failures, policy.max_delay);
            waits.push(seconds_until(pair.last_failure_at + delay, now));
        }
        if !snapshot.known_address {
            if let Some(account) = snapshot.counter(&attempt.account_key())
                && account.failures >= policy.account_cap
            {
                waits.push(seconds_until(account.window_ends_at, now));
            }
            if let Some(address) = snapshot.counter(&attempt.address_key())
                && address.failures >= policy.address_cap
            {
                let delay = doubling_delay(address.failures - policy.address_cap, policy.max_delay);
                let ready_at = (address.last_failure_at + delay).min(address.window_ends_at);
                waits.push(seconds_until(ready_at, now));
            }
        }
        waits.into_iter().flatten().max()
    }

    /// One read: `Some(seconds)` when the attempt must wait (answer 429 with `Retry-After`).
    pub async fn check(
        &self,
        store: &Store,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let keys = [
            attempt.pair_key(),
            attempt.account_key(),
            attempt.address_key(),
        ];
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let known = attempt
            .user_id
            .map(|user_id| (user_id, attempt.address.as_str()));
        let snapshot = store.login_throttle_snapshot(&key_refs, known, now).await?;
        Ok(self.decide(attempt, &snapshot, now))
    }

    /// One upsert: counts the failure for the pair, the account and the address.
    pub async fn record_failure(
        &self,
        store: &Store,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let policy = &self.policy;
        let scopes = [
            FailureScope {
                scope_key: attempt.pair_key(),
                window: policy.pair_window,
            },
            FailureScope {
                scope_key: attempt.account_key(),
                window: policy.account_window,
            },
            FailureScope {
                scope_key: attempt.address_key(),
                window: policy.address_window,
            },
        ];
        store.record_login_failure(&scopes, now).await
    }

    /// Clears the pair counter and records the address as known for the user.
    pub async fn record_success(
        &self,
        store: &Store,
        attempt: &LoginAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(user_id) = attempt.user_id else {
            return Ok(());
        };
        let pair = attempt.pair_key();
        store
            .record_login_success(
                &[pair.as_str()],
                user_id,
                &attempt.address,
                now,
                now - self.policy.known_address_ttl,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use praxi_store::login_throttle::FailureCounter;

    use super::*;

    fn attempt(account: &str, address: &str) -> LoginAttempt {
        LoginAttempt {
            user_id: Some(1),
            account: account.to_owned(),
            address: address.to_owned(),
        }
    }

    fn snapshot(entries: &[(String, u32, DateTime<Utc>)], known: bool) -> ThrottleSnapshot {
        ThrottleSnapshot {
            counters: entries
                .iter()
                .map(|(key, failures, last)| {
                    (
                        key.clone(),
                        FailureCounter {
                            failures: *failures,
                            window_ends_at: *last + Duration::minutes(10),
                            last_failure_at: *last,
                        },
                    )
                })
                .collect(),
            known_address: known,
        }
    }

    #[test]
    fn pair_delays_double_after_the_free_failures_and_are_capped() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        let login = attempt("u1", "a");
        let wait = |failures: u32| {
            throttle.decide(
                &login,
                &snapshot(&[(login.pair_key(), failures, now)], false),
                now,
            )
        };
        assert_eq!(wait(2), None);
        assert_eq!(wait(3), Some(1));
        assert_eq!(wait(4), Some(2));
        assert_eq!(wait(5), Some(4));
        assert_eq!(wait(12), Some(512));
        assert_eq!(wait(13), Some(900));
        assert_eq!(wait(1000), Some(900));
        // The wait counts from the latest failure.
        let earlier = now - Duration::seconds(3);
        let res = throttle.decide(
            &login,
            &snapshot(&[(login.pair_key(), 5, earlier)], false),
            now,
        );
        assert_eq!(res, Some(1));
        let res = throttle.decide(
            &login,
            &snapshot(&[(login.pair_key(), 4, earlier)], false),
            now,
        );
        assert_eq!(res, None);
    }

    #[test]
    fn the_account_cap_refuses_unknown_addresses_only() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        let login = attempt("u1", "a");
        let entries = [(login.account_key(), 50, now)];
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, false), now),
            Some(600)
        );
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, true), now),
            None
        );
        let entries = [(login.account_key(), 49, now)];
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, false), now),
            None
        );
    }

    #[test]
    fn the_address_cap_delays_unknown_pairs_and_spares_known_ones() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        let login = attempt("u7", "nat");
        let entries = [(login.address_key(), 99, now)];
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, false), now),
            None
        );
        let entries = [(login.address_key(), 102, now)];
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, false), now),
            Some(4)
        );
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, true), now),
            None
        );
        // Never beyond the end of the address window.
        let entries = [(login.address_key(), 150, now)];
        assert_eq!(
            throttle.decide(&login, &snapshot(&entries, false), now),
            Some(600)
        );
    }

    #[test]
    fn counters_of_other_pairs_do_not_matter() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        let mine = attempt("u1", "nat");
        let theirs = attempt("u2", "nat");
        let entries = [
            (theirs.pair_key(), 40, now),
            (theirs.account_key(), 40, now),
        ];
        assert_eq!(
            throttle.decide(&mine, &snapshot(&entries, false), now),
            None
        );
    }

    #[test]
    fn unknown_names_are_hashed_and_addresses_never_stored_raw() {
        let login = LoginAttempt::new(
            b"key",
            None,
            "My Secret Password",
            Some([192, 0, 2, 1].into()),
        );
        assert!(!login.pair_key().contains("192.0.2.1"));
        assert!(!login.account_key().to_lowercase().contains("secret"));
        let again = LoginAttempt::new(
            b"key",
            None,
            " my secret password",
            Some([192, 0, 2, 1].into()),
        );
        assert_eq!(login, again);
        let other_key = LoginAttempt::new(b"other", None, "x", Some([192, 0, 2, 1].into()));
        assert_ne!(login.address, other_key.address);
    }
}
