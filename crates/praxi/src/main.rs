//! `praxi`: the binary. Parses flags and environment into one `Config`, then serves, migrates,
//! manages users or seeds the demo practice. Only this crate reads configuration.

mod audit;
mod backup;
mod config;
mod demo;
mod logging;
mod shutdown;
mod switch;

use std::io::Read;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use praxi_domain::Role;
use praxi_domain::user::{AccountDraft, PasswordContext, ProfileChanges};
use praxi_domain::{FieldErrors, ValidationError};
use praxi_server::{AppState, ServerConfig};
use praxi_store::audit::AuditEntry;
use praxi_store::users::{NewUser, UserRecord};
use praxi_store::{Store, StoreError};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "praxi",
    version,
    about = "Praxi: scheduling and practice backend"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate and serve (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Seed the demo practice (idempotent).
    SeedDemo,
    /// Turn a PraxiApp database (PostgreSQL, DATABASE_URL) into a Praxi database in place.
    Adopt(switch::AdoptArgs),
    /// Copy a PraxiApp database into a new Praxi database (DATABASE_URL).
    Import(switch::ImportArgs),
    /// Re-run the switch's checks; tighten constraints once old violations are resolved.
    Recheck(switch::RecheckArgs),
    /// Back up the database into a file (SQLite: online snapshot; PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Restore a backup (SQLite: only while Praxi is stopped; PostgreSQL: pg_restore).
    Restore(backup::RestoreArgs),
    /// Audit log tools (`verify`: check the hash chain).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// Login name.
        name: String,
        /// admin, assistant, doctor or billing.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required: passwords never go on the
        /// command line).
        #[arg(long)]
        password_stdin: bool,
        /// Display name, e.g. "Dr. Anna Müller" (split into first and last name).
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Calendar colour `#RRGGBB` (doctors).
        #[arg(long, alias = "color")]
        colour: Option<String>,
        /// May use the staff web UI (default: everyone but billing).
        #[arg(long)]
        staff: bool,
    },
    /// List every user (username order) with role, status and last login.
    List,
    /// Give a user another role; their tokens are revoked at once.
    SetRole {
        /// Login name.
        name: String,
        /// admin, assistant, doctor or billing.
        role: String,
    },
    /// Deactivate a user: they cannot log in and every token they hold stops working at once.
    Deactivate {
        /// Login name.
        name: String,
    },
    /// Reactivate a user (old tokens stay revoked; they log in again).
    Activate {
        /// Login name.
        name: String,
    },
    /// Set a new password, read from standard input; the user's tokens are revoked.
    ResetPassword {
        /// Login name.
        name: String,
        /// Read the password from standard input (required: passwords never go on the
        /// command line).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A random alphanumeric string (passwords, keys).
pub(crate) fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logging::init(cli.config.log_format);
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("migrations applied");
            store.close().await?;
            Ok(())
        }
        Command::User(command) => user(&config, command).await,
        Command::SeedDemo => {
            let store = open_store(&config).await?;
            let report = demo::seed(&store, config.timezone()?).await?;
            print!("{report}");
            Ok(())
        }
        Command::Adopt(args) => switch::adopt(&config, args).await,
        Command::Import(args) => switch::import(&config, args).await,
        Command::Recheck(args) => switch::recheck(&config, args).await,
        Command::Backup(args) => backup::backup(&config, args).await,
        Command::Restore(args) => backup::restore(&config, args).await,
        Command::Audit(command) => audit::run(&config, command).await,
    }
}

/// Connects and migrates (every command works on an up-to-date schema).
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url()?;
    let mut store = Store::connect(&url)
        .await
        .with_context(|| "connecting to the database")?;
    store.set_reminder_lead(config.reminder_lead());
    store.migrate().await.context("applying migrations")?;
    store.ensure_roles().await?;
    Ok(store)
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let tz = config.timezone()?;
    let store = open_store(config).await?;
    if store.count_users().await? == 0 {
        first_start(&store, config).await?;
    }
    let mut server_config = ServerConfig::new(config.secret_key()?);
    server_config.timezone = tz;
    server_config.cors_origins = config.cors_origins.clone();
    server_config.secure_cookies = config.secure_cookies;
    server_config.trusted_proxies = config.trusted_proxies.clone();
    server_config.access_token_ttl = chrono::Duration::minutes(config.access_minutes.max(1));
    server_config.refresh_token_ttl = chrono::Duration::hours(config.refresh_hours.max(1));
    server_config.metrics_token = config.metrics_token.as_ref().map(|token| token.0.clone());
    server_config.document_dir = config.data_dir.join("documents");
    let mut state = AppState::new(store.clone(), server_config);
    state.events = match &config.redis_url {
        Some(url) => praxi_server::events::EventBus::via_redis(url)
            .await
            .map_err(|error| anyhow::anyhow!("PRAXI_REDIS_URL: {error}"))?,
        None if store.supports_notify() => {
            praxi_server::events::EventBus::via_postgres(store.clone()).await?
        }
        None => praxi_server::events::EventBus::in_process(),
    };
    // Cached authentication (PostgreSQL) follows changes made by other processes and tools.
    store.watch_auth_changes().await?;
    // Appointment reminders: the outbox sender, only when SMTP is configured.
    if let Some(settings) = config.reminder_settings()? {
        let sender = praxi_server::reminders::ReminderSender::new(settings)
            .map_err(|error| anyhow::anyhow!(error))?;
        tokio::spawn(sender.run(state.clone()));
    }
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    tracing::info!("Praxi serving on http://{}", listener.local_addr()?);
    let stop = shutdown::Stop::listen();
    if let Some(bind) = &config.metrics_bind {
        let metrics_listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        tracing::info!(
            "metrics on http://{}/metrics",
            metrics_listener.local_addr()?
        );
        let metrics =
            praxi_server::metrics::serve(metrics_listener, state.clone(), stop.clone().requested());
        tokio::spawn(async move {
            if let Err(error) = metrics.await {
                tracing::error!(%error, "metrics listener failed");
            }
        });
    }
    let grace = std::time::Duration::from_secs(config.shutdown_grace_seconds);
    tokio::select! {
        served = praxi_server::serve(listener, state, stop.clone().requested()) => served?,
        () = stop.deadline(grace) => {
            tracing::warn!("requests still running after {grace:?}; exiting anyway");
        }
    }
    store.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// An empty database: create the admin (password printed once) and, on the zero-setup SQLite
/// default, the demo practice.
async fn first_start(store: &Store, config: &Config) -> anyhow::Result<()> {
    let password = random_token(20);
    let hash = praxi_server::auth::hash_password_blocking(&password)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    store
        .create_user(
            NewUser {
                username: "admin".to_owned(),
                password_hash: hash,
                role: Some(Role::Admin),
                first_name: String::new(),
                last_name: String::new(),
                email: None,
                calendar_color: None,
                is_staff: true,
                is_superuser: true,
            },
            chrono::Utc::now(),
        )
        .await?;
    if config.uses_default_database() {
        let report = demo::seed(store, config.timezone()?).await?;
        print!("{report}");
    }
    println!();
    println!("  First start: created user 'admin' with password: {password}");
    println!("  This password is shown once. Log in and keep it safe.");
    println!();
    Ok(())
}

/// The audit row of a user administration command run from the command line: no acting API
/// user (`user_id` NULL) and `(cli)` as the username snapshot, which no real username can be
/// (parentheses are not allowed in usernames).
fn cli_audit(action: &str, user_id: i64) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "(cli)".to_owned(),
        role_name: String::new(),
        action: action.to_owned(),
        patient_id: None,
        meta: Some(serde_json::json!({ "user_id": user_id })),
        request_id: None,
        subjects: Vec::new(),
    }
}

/// `field: message message; field: …` for the terminal.
fn describe_errors(errors: &FieldErrors) -> String {
    errors
        .fields()
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Store errors as the terminal shows them: field errors by field, the rest as they are.
fn store_error(error: StoreError) -> anyhow::Error {
    match error {
        StoreError::Invalid(errors) => anyhow::anyhow!("{}", describe_errors(&errors)),
        other => anyhow::anyhow!(other),
    }
}

fn validation_error(error: ValidationError) -> anyhow::Error {
    anyhow::anyhow!("{}", describe_errors(&error.0))
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::from_name(role)
        .with_context(|| format!("unknown role {role:?}: use admin, assistant, doctor or billing"))
}

/// Reads a password from standard input (one line; the line break is not part of it).
fn read_password(password_stdin: bool) -> anyhow::Result<String> {
    if !password_stdin {
        bail!("pass --password-stdin and write the password to standard input");
    }
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    Ok(password.trim_end_matches(['\n', '\r']).to_owned())
}

async fn find_user(store: &Store, name: &str) -> anyhow::Result<UserRecord> {
    store
        .user_by_username(name)
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    praxi_server::auth::hash_password_blocking(password).map_err(|error| anyhow::anyhow!("{error}"))
}

/// Warns when no active admin is left (the command line can always undo it).
async fn warn_without_admin(store: &Store) -> anyhow::Result<()> {
    let users = store.list_users().await?;
    let has_admin = users
        .iter()
        .any(|user| user.is_active && user.api_role() == Some(Role::Admin));
    if !has_admin {
        eprintln!(
            "warning: no active admin is left; use `praxi user activate NAME` or \
             `praxi user set-role NAME admin` to restore one"
        );
    }
    Ok(())
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            name,
            role,
            password_stdin,
            display_name,
            first_name,
            last_name,
            email,
            colour,
            staff,
        } => {
            parse_role(&role)?;
            let password = read_password(password_stdin)?;
            let (mut first, mut last) = (String::new(), String::new());
            if let Some(display_name) = display_name {
                let display_name = display_name.trim();
                match display_name.rsplit_once(' ') {
                    Some((head, tail)) => {
                        first = head.trim().to_owned();
                        last = tail.trim().to_owned();
                    }
                    None => last = display_name.to_owned(),
                }
            }
            let account = AccountDraft {
                username: name,
                password,
                role,
                profile: ProfileChanges {
                    first_name: Some(first_name.unwrap_or(first)),
                    last_name: Some(last_name.unwrap_or(last)),
                    email: Some(email),
                    calendar_color: colour,
                    is_staff: staff.then_some(true),
                },
            }
            .validate()
            .map_err(validation_error)?;
            let hash = hash_password(&account.password)?;
            let store = open_store(config).await?;
            let user = store
                .create_user_audited(
                    NewUser {
                        username: account.username,
                        password_hash: hash,
                        role: Some(account.role),
                        first_name: account.profile.first_name,
                        last_name: account.profile.last_name,
                        email: account.profile.email,
                        calendar_color: Some(account.profile.calendar_color),
                        is_staff: account.profile.is_staff,
                        is_superuser: false,
                    },
                    chrono::Utc::now(),
                    |id| cli_audit("user_create", id),
                )
                .await
                .map_err(store_error)?;
            println!(
                "created user {} (id {}, role {})",
                user.username, user.id, account.role
            );
            Ok(())
        }
        UserCommand::List => {
            let store = open_store(config).await?;
            let users = store.list_users().await?;
            print!("{}", user_table(&users));
            Ok(())
        }
        UserCommand::SetRole { name, role } => {
            let role = parse_role(&role)?;
            let store = open_store(config).await?;
            let user = find_user(&store, &name).await?;
            store
                .set_user_role_audited(user.id, Some(role), &cli_audit("user_update", user.id))
                .await
                .map_err(store_error)?;
            println!("user {name} now has role {role}; their tokens were revoked");
            warn_without_admin(&store).await
        }
        UserCommand::Deactivate { name } => {
            let store = open_store(config).await?;
            let user = find_user(&store, &name).await?;
            store
                .set_user_active_audited(user.id, false, &cli_audit("user_deactivate", user.id))
                .await
                .map_err(store_error)?;
            println!("user {name} deactivated; their tokens were revoked");
            warn_without_admin(&store).await
        }
        UserCommand::Activate { name } => {
            let store = open_store(config).await?;
            let user = find_user(&store, &name).await?;
            store
                .set_user_active_audited(user.id, true, &cli_audit("user_activate", user.id))
                .await
                .map_err(store_error)?;
            println!("user {name} activated");
            Ok(())
        }
        UserCommand::ResetPassword {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let store = open_store(config).await?;
            let user = find_user(&store, &name).await?;
            praxi_domain::user::validate_password(
                &password,
                PasswordContext {
                    username: &user.username,
                    first_name: &user.first_name,
                    last_name: &user.last_name,
                    email: user.email.as_deref(),
                },
            )
            .map_err(validation_error)?;
            let hash = hash_password(&password)?;
            store
                .set_user_password_audited(user.id, hash, &cli_audit("user_set_password", user.id))
                .await
                .map_err(store_error)?;
            println!("password of {name} reset; their tokens were revoked");
            Ok(())
        }
    }
}

/// The users as an aligned text table.
fn user_table(users: &[UserRecord]) -> String {
    let header = [
        "ID",
        "USERNAME",
        "ROLE",
        "STATUS",
        "STAFF",
        "EMAIL",
        "LAST LOGIN",
    ];
    let mut rows: Vec<[String; 7]> = vec![header.map(str::to_owned)];
    for user in users {
        rows.push([
            user.id.to_string(),
            user.username.clone(),
            user.role
                .as_ref()
                .map_or_else(|| "-".to_owned(), |role| role.name.clone()),
            if user.is_active { "active" } else { "inactive" }.to_owned(),
            if user.is_staff { "yes" } else { "no" }.to_owned(),
            user.email.clone().unwrap_or_else(|| "-".to_owned()),
            user.last_login.map_or_else(
                || "never".to_owned(),
                |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
