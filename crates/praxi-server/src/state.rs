//! Shared application state: the store, configuration, the clock and the login throttle.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_store::Store;

use crate::throttle::LoginThrottle;

/// Server settings, built by the `praxi` binary from flags and environment.
#[derive(Clone)]
pub struct ServerConfig {
    /// The practice's wall-clock zone.
    pub timezone: Tz,
    /// HMAC key for tokens and session ids.
    pub secret_key: Vec<u8>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Origins allowed to call the API from a browser (exact matches; never a wildcard).
    pub cors_origins: Vec<String>,
    /// Mark cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("timezone", &self.timezone)
            .field("secret_key", &"<redacted>")
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("cors_origins", &self.cors_origins)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

impl ServerConfig {
    /// Defaults for a given key: Europe/Berlin, 15-minute access and 1-day refresh tokens.
    pub fn new(secret_key: Vec<u8>) -> Self {
        ServerConfig {
            timezone: chrono_tz::Europe::Berlin,
            secret_key,
            access_token_ttl: Duration::minutes(15),
            refresh_token_ttl: Duration::days(1),
            cors_origins: Vec::new(),
            secure_cookies: false,
        }
    }
}

/// The wall clock, with an offset tests can move forward.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests only need this; production never calls it).
    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub clock: Clock,
    pub throttle: Arc<LoginThrottle>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            clock: Clock::default(),
            throttle: Arc::new(LoginThrottle::default()),
        }
    }

    pub fn tz(&self) -> Tz {
        self.config.timezone
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today's date in the practice zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz()).date_naive()
    }
}
