//! Failed-login throttling per account and per client address (in memory, per process).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed per account within the window.
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failures allowed per client address within the window.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// The sliding window.
pub const WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Default)]
struct Failures {
    by_account: HashMap<String, Vec<DateTime<Utc>>>,
    by_address: HashMap<IpAddr, Vec<DateTime<Utc>>>,
}

/// Remembers recent failed logins.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<Failures>,
}

fn prune(times: &mut Vec<DateTime<Utc>>, now: DateTime<Utc>) {
    let horizon = now - Duration::minutes(WINDOW_MINUTES);
    times.retain(|time| *time > horizon);
}

fn retry_after(times: &[DateTime<Utc>], limit: usize, now: DateTime<Utc>) -> Option<u64> {
    if times.len() < limit {
        return None;
    }
    let oldest = times.iter().min()?;
    let free_at = *oldest + Duration::minutes(WINDOW_MINUTES);
    Some(u64::try_from((free_at - now).num_seconds().max(1)).unwrap_or(1))
}

impl LoginThrottle {
    /// `Some(seconds)` when this account or address must wait.
    pub fn check(&self, account: &str, address: Option<IpAddr>, now: DateTime<Utc>) -> Option<u64> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let account_wait = failures
            .by_account
            .get_mut(&account.to_lowercase())
            .and_then(|times| {
                prune(times, now);
                retry_after(times, MAX_FAILURES_PER_ACCOUNT, now)
            });
        let address_wait = address.and_then(|address| {
            failures.by_address.get_mut(&address).and_then(|times| {
                prune(times, now);
                retry_after(times, MAX_FAILURES_PER_ADDRESS, now)
            })
        });
        account_wait.max(address_wait)
    }

    pub fn record_failure(&self, account: &str, address: Option<IpAddr>, now: DateTime<Utc>) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if failures.by_account.len() > 100_000 {
            failures.by_account.clear();
        }
        failures
            .by_account
            .entry(account.to_lowercase())
            .or_default()
            .push(now);
        if let Some(address) = address {
            failures.by_address.entry(address).or_default().push(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures.by_account.remove(&account.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_blocked_after_five_failures_and_freed_after_the_window() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(throttle.check("Admin", None, now), None);
            throttle.record_failure("admin", None, now);
        }
        assert!(throttle.check("ADMIN", None, now).is_some());
        let later = now + Duration::minutes(WINDOW_MINUTES) + Duration::seconds(1);
        assert_eq!(throttle.check("admin", None, later), None);
    }

    #[test]
    fn address_is_blocked_across_accounts() {
        let throttle = LoginThrottle::default();
        let now = Utc::now();
        let address: IpAddr = [127, 0, 0, 1].into();
        for idx in 0..MAX_FAILURES_PER_ADDRESS {
            throttle.record_failure(&format!("user{idx}"), Some(address), now);
        }
        assert!(throttle.check("fresh", Some(address), now).is_some());
        assert_eq!(throttle.check("fresh", None, now), None);
    }
}
