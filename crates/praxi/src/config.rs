//! The one typed configuration of Praxi: flags and environment variables, loaded once.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub(crate) struct Config {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://user@host/db`. Default: an SQLite
    /// file in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub(crate) database_url: Option<String>,

    /// Directory for the SQLite file and the generated secret key.
    #[arg(long, env = "PRAXI_DATA_DIR", default_value = "./data", global = true)]
    pub(crate) data_dir: PathBuf,

    /// Address to serve on.
    #[arg(
        long,
        env = "PRAXI_BIND",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub(crate) bind: String,

    /// The practice's time zone (IANA name).
    #[arg(
        long,
        env = "PRAXI_TIMEZONE",
        default_value = "Europe/Berlin",
        global = true
    )]
    pub(crate) timezone: String,

    /// Signing key for tokens and sessions. When unset, a random key is generated once and kept
    /// in `<data dir>/secret_key`.
    #[arg(long, env = "PRAXI_SECRET_KEY", global = true, hide_env_values = true)]
    pub(crate) secret_key: Option<Secret>,

    /// Browser origins allowed to call the API (comma separated, exact matches).
    #[arg(long, env = "PRAXI_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub(crate) cors_origins: Vec<String>,

    /// Mark cookies `Secure` (set this when Praxi is served behind TLS).
    #[arg(long, env = "PRAXI_SECURE_COOKIES", global = true)]
    pub(crate) secure_cookies: bool,

    /// Access-token lifetime in minutes.
    #[arg(
        long,
        env = "PRAXI_ACCESS_MINUTES",
        default_value_t = 15,
        global = true
    )]
    pub(crate) access_minutes: i64,

    /// Refresh-token lifetime in hours.
    #[arg(long, env = "PRAXI_REFRESH_HOURS", default_value_t = 24, global = true)]
    pub(crate) refresh_hours: i64,

    /// Reverse proxies (addresses or CIDR networks, comma separated) whose `X-Forwarded-For`
    /// header names the client, e.g. for login throttling. Empty: the socket peer is the
    /// client and `X-Forwarded-For` is ignored.
    #[arg(
        long,
        env = "PRAXI_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub(crate) trusted_proxies: Vec<praxi_server::client_ip::TrustedProxy>,

    /// Redis for live board events across several Praxi processes
    /// (`redis://[:password@]host[:port]`). Without it, PostgreSQL `LISTEN`/`NOTIFY` is used on
    /// PostgreSQL, and events stay in the process on SQLite.
    #[arg(long, env = "PRAXI_REDIS_URL", global = true, hide_env_values = true)]
    pub(crate) redis_url: Option<String>,

    /// Log format: `text` (colours only on a terminal) or `json` (one object per line).
    #[arg(
        long,
        env = "PRAXI_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub(crate) log_format: crate::logging::LogFormat,

    /// Bearer token that unlocks `/metrics` on the main address (at least 32 characters).
    /// Without it (and without `--metrics-bind`) there are no metrics.
    #[arg(
        long,
        env = "PRAXI_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub(crate) metrics_token: Option<Secret>,

    /// A separate address serving `/metrics` without a token (keep it private, e.g.
    /// `127.0.0.1:9100`).
    #[arg(long, env = "PRAXI_METRICS_BIND", global = true)]
    pub(crate) metrics_bind: Option<String>,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C.
    #[arg(
        long,
        env = "PRAXI_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub(crate) shutdown_grace_seconds: u64,

    /// SMTP server for appointment reminders: `smtp://host:port` (plain; add `?tls=required`
    /// for STARTTLS) or `smtps://user:password@host[:port]` (TLS). Without it no reminder is
    /// sent (they stay queued, visible under `/admin/reminders/`).
    #[arg(long, env = "PRAXI_SMTP_URL", global = true, hide_env_values = true)]
    pub(crate) smtp_url: Option<Redacted>,

    /// Sender address of reminders (`Praxis Sonne <praxis@example.org>`); required with
    /// `PRAXI_SMTP_URL`.
    #[arg(long, env = "PRAXI_SMTP_FROM", global = true)]
    pub(crate) smtp_from: Option<String>,

    /// Hours before an appointment its reminder is sent (0: no reminders are queued).
    #[arg(
        long,
        env = "PRAXI_REMINDER_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub(crate) reminder_hours: u32,

    /// Language of reminder e-mails: `de` or `en`.
    #[arg(
        long,
        env = "PRAXI_REMINDER_LANGUAGE",
        default_value = "de",
        global = true
    )]
    pub(crate) reminder_language: String,

    /// Practice name in reminder e-mails.
    #[arg(
        long,
        env = "PRAXI_PRACTICE_NAME",
        default_value = "Praxis",
        global = true
    )]
    pub(crate) practice_name: String,

    /// Seconds between the reminder sender's looks at the outbox when nothing was due.
    #[arg(
        long,
        env = "PRAXI_REMINDER_POLL_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub(crate) reminder_poll_seconds: u64,
}

/// A value that never prints (it may carry a password).
#[derive(Clone)]
pub(crate) struct Redacted(pub(crate) String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Redacted {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Redacted(value.to_owned()))
    }
}

/// A secret string that never prints.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.len() < 32 {
            return Err("secrets (keys, tokens) must be at least 32 characters".to_owned());
        }
        Ok(Secret(value.to_owned()))
    }
}

impl Config {
    /// The reminder lead time (`None` when `PRAXI_REMINDER_HOURS` is 0).
    pub(crate) fn reminder_lead(&self) -> Option<chrono::Duration> {
        (self.reminder_hours > 0).then(|| chrono::Duration::hours(i64::from(self.reminder_hours)))
    }

    /// The reminder sender's settings, when SMTP is configured.
    pub(crate) fn reminder_settings(
        &self,
    ) -> anyhow::Result<Option<praxi_server::reminders::ReminderSettings>> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let Some(from) = &self.smtp_from else {
            bail!("PRAXI_SMTP_FROM is required with PRAXI_SMTP_URL");
        };
        let Some(language) = praxi_server::web::i18n::Lang::parse(&self.reminder_language) else {
            bail!("PRAXI_REMINDER_LANGUAGE must be de or en");
        };
        let mut settings =
            praxi_server::reminders::ReminderSettings::new(url.0.clone(), from.clone());
        settings.language = language;
        settings.practice_name = self.practice_name.clone();
        settings.poll_interval = std::time::Duration::from_secs(self.reminder_poll_seconds.max(1));
        Ok(Some(settings))
    }

    /// `true` when running on the zero-setup default database.
    pub(crate) fn uses_default_database(&self) -> bool {
        self.database_url.is_none()
    }

    /// The database URL, creating the data directory for the default SQLite file.
    pub(crate) fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        let path = self.data_dir.join("praxi.sqlite3");
        Ok(format!("sqlite://{}?mode=rwc", path.display()))
    }

    pub(crate) fn timezone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.timezone
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", self.timezone))
    }

    /// The configured key, or the one kept in the data directory (generated on first use).
    pub(crate) fn secret_key(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.secret_key {
            return Ok(secret.0.as_bytes().to_vec());
        }
        load_or_create_key(&self.data_dir.join("secret_key"))
    }
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim();
        if key.len() < 32 {
            bail!("{} holds a key shorter than 32 characters", path.display());
        }
        return Ok(key.as_bytes().to_vec());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let key = crate::random_token(64);
    write_private(path, &key).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(key.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
