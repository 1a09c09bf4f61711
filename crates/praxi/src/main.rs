//! `praxi`: the binary. Parses flags and environment into one `Config`, then serves, migrates,
//! manages users or seeds the demo practice. Only this crate reads configuration.

mod config;
mod demo;

use std::io::Read;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use praxi_domain::Role;
use praxi_domain::validation::is_hex_colour;
use praxi_server::{AppState, ServerConfig};
use praxi_store::Store;
use praxi_store::users::NewUser;
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
        /// May use the staff web UI.
        #[arg(long)]
        staff: bool,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let cli = Cli::parse();
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
    }
}

/// Connects and migrates (every command works on an up-to-date schema).
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url()?;
    let store = Store::connect(&url)
        .await
        .with_context(|| "connecting to the database")?;
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
    server_config.access_token_ttl = chrono::Duration::minutes(config.access_minutes.max(1));
    server_config.refresh_token_ttl = chrono::Duration::hours(config.refresh_hours.max(1));
    let state = AppState::new(store, server_config);
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    tracing::info!("Praxi serving on http://{}", listener.local_addr()?);
    praxi_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
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
            let role = Role::from_name(&role).with_context(|| {
                format!("unknown role {role:?}: use admin, assistant, doctor or billing")
            })?;
            if !password_stdin {
                bail!("pass --password-stdin and write the password to standard input");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            if password.chars().count() < 8 {
                bail!("the password must have at least 8 characters");
            }
            if colour.as_deref().is_some_and(|colour| !is_hex_colour(colour)) {
                bail!("--colour must look like #1E90FF");
            }
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
            let hash = praxi_server::auth::hash_password_blocking(&password)
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let store = open_store(config).await?;
            let user = store
                .create_user(
                    NewUser {
                        username: name,
                        password_hash: hash,
                        role: Some(role),
                        first_name: first_name.unwrap_or(first),
                        last_name: last_name.unwrap_or(last),
                        email: email.filter(|email| !email.trim().is_empty()),
                        calendar_color: colour,
                        is_staff: staff || role != Role::Billing,
                        is_superuser: false,
                    },
                    chrono::Utc::now(),
                )
                .await
                .map_err(|error| match error {
                    praxi_store::StoreError::Invalid(errors) => anyhow::anyhow!(
                        "{}",
                        errors
                            .fields()
                            .iter()
                            .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    other => anyhow::anyhow!(other),
                })?;
            println!(
                "created user {} (id {}, role {role})",
                user.username, user.id
            );
            Ok(())
        }
    }
}
