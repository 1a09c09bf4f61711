//! `praxi-bench`: seeds a practice of a given size into a fresh database, serves it in process
//! and measures the API (latency percentiles, throughput, statements per request).
//!
//! Kept out of the `praxi` binary so the production build links no HTTP client and no seeding
//! code. Run it with `cargo run --release -p praxi-bench -- --sizes 1000,10000,50000`.

mod bench;
mod floor;
mod matrix;
mod process;
mod seed;

use clap::Parser;
use rand::Rng;
use rand::distr::Alphanumeric;

/// Command line of `praxi-bench`.
#[derive(Debug, Parser)]
#[command(name = "praxi-bench", version, about)]
struct Cli {
    /// Benchmark against this database (must be empty; one size only). Default: a temporary
    /// SQLite file per size.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Practice time zone.
    #[arg(long, env = "PRAXI_TIMEZONE", default_value = "Europe/Berlin")]
    timezone: String,
    #[command(flatten)]
    args: bench::BenchArgs,
}

/// Alphanumeric random text (secret keys, passwords of benchmark users).
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
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let tz: chrono_tz::Tz = cli
        .timezone
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", cli.timezone))?;
    bench::run(tz, cli.database_url, cli.args).await
}
