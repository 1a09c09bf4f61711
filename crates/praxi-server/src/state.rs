//! Shared application state: the store, configuration, the clock and the login throttle.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_store::Store;

use crate::client_ip::TrustedProxy;
use crate::events::EventBus;
use crate::throttle::{LoginThrottle, ThrottlePolicy};

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
    /// Bearer token for `/metrics` on the main listener; without it that route is a 404.
    pub metrics_token: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty: the socket peer is
    /// the client).
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Failed-login throttling (docs/security.md).
    pub login_throttle: ThrottlePolicy,
    /// Where uploaded patient documents are stored (files named by the server; the binary
    /// uses `<data dir>/documents`).
    pub document_dir: std::path::PathBuf,
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
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("login_throttle", &self.login_throttle)
            .field("document_dir", &self.document_dir)
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
            metrics_token: None,
            trusted_proxies: Vec::new(),
            login_throttle: ThrottlePolicy::default(),
            document_dir: std::env::temp_dir().join("praxi-documents"),
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
    /// Live board events (SSE).
    pub events: EventBus,
    /// Flips to `true` when the server shuts down, so long-lived streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    shutdown_trigger: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        let (shutdown_trigger, shutdown) = tokio::sync::watch::channel(false);
        let throttle = Arc::new(LoginThrottle::new(config.login_throttle.clone()));
        AppState {
            shutdown,
            shutdown_trigger: Arc::new(shutdown_trigger),
            store,
            config: Arc::new(config),
            clock: Clock::default(),
            throttle,
            events: EventBus::in_process(),
        }
    }

    /// Ends every long-lived stream (called when the server stops).
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown_trigger.send(true);
    }

    /// Resolves once shutdown has begun.
    pub async fn shutting_down(mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
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
