//! `praxi adopt`, `praxi import`, `praxi recheck`: switching from PraxiApp (docs/switching.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use praxi_store::praxiapp::{self, AdoptOptions, Findings, ImportOptions};

use crate::config::Config;

/// `praxi adopt`: make the PraxiApp database in DATABASE_URL a Praxi database, in place.
#[derive(Debug, Clone, Args)]
pub(crate) struct AdoptArgs {
    /// Print the plan and the findings, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where to write the report (default: `<data dir>/praxiapp-report-<time>.txt`).
    #[arg(long)]
    report: Option<PathBuf>,
}

/// `praxi import`: copy a PraxiApp database into the (new) database in DATABASE_URL.
#[derive(Debug, Clone, Args)]
pub(crate) struct ImportArgs {
    /// The PraxiApp database, `postgres://user@host/db`.
    #[arg(long = "from")]
    from: String,
    /// Where to write the report (default: `<data dir>/praxiapp-report-<time>.txt`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Rows per chunk read and per INSERT.
    #[arg(long, default_value_t = 1000)]
    batch_rows: usize,
}

/// `praxi recheck`: run the switch's checks again after staff resolved findings.
#[derive(Debug, Clone, Args)]
pub(crate) struct RecheckArgs {
    /// Where to write the report (default: `<data dir>/praxiapp-report-<time>.txt`).
    #[arg(long)]
    report: Option<PathBuf>,
}

pub(crate) async fn adopt(config: &Config, args: AdoptArgs) -> anyhow::Result<()> {
    let url = config.database_url()?;
    let started = Instant::now();
    let outcome = praxiapp::adopt(
        &url,
        &AdoptOptions {
            dry_run: args.dry_run,
        },
    )
    .await
    .context("praxi adopt")?;
    println!(
        "PraxiApp database recognised ({} django_migrations rows).",
        outcome.django_migrations
    );
    if outcome.already_adopted {
        println!("Already adopted: nothing to do.");
    } else {
        println!(
            "{} ({} step(s)):",
            if args.dry_run {
                "Plan (dry run, nothing changed)"
            } else {
                "Applied"
            },
            outcome.plan.len()
        );
        for step in &outcome.plan {
            println!("  - {step}");
        }
    }
    for note in &outcome.notes {
        println!("  note: {note}");
    }
    println!("Rows per table (unchanged):");
    for (table, rows) in &outcome.row_counts {
        println!("  {table:<36} {rows:>10}");
    }
    let report = write_report(
        config,
        args.report,
        &outcome.findings,
        &[format!(
            "praxi adopt{}",
            if args.dry_run { " --dry-run" } else { "" }
        )],
    )?;
    print_findings(&outcome.findings, &report);
    println!(
        "Practice time zone: {} (PraxiApp stored UTC; set PRAXI_TIMEZONE or --timezone when serving).",
        config.timezone
    );
    println!("Done in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let tz = config.timezone()?;
    let target_url = config.database_url()?;
    let started = Instant::now();
    let mut last_print = Instant::now();
    let mut progress = |table: &str, done: u64, total: u64| {
        if done == total || done == 0 || last_print.elapsed().as_millis() >= 1000 {
            last_print = Instant::now();
            eprintln!("  {table}: {done}/{total} rows");
        }
    };
    let outcome = praxiapp::import(
        &ImportOptions {
            source_url: args.from.clone(),
            target_url,
            batch_rows: args.batch_rows,
        },
        &mut progress,
    )
    .await
    .context("praxi import")?;
    println!("Imported (one transaction):");
    println!("  {:<36} {:>10} {:>10}", "table", "PraxiApp", "Praxi");
    for count in &outcome.counts {
        println!(
            "  {:<36} {:>10} {:>10}",
            count.table, count.source, count.copied
        );
    }
    for note in &outcome.notes {
        println!("  note: {note}");
    }
    let report = write_report(
        config,
        args.report,
        &outcome.findings,
        &["praxi import".to_owned(), format!("time zone {tz}")],
    )?;
    print_findings(&outcome.findings, &report);
    println!(
        "Practice time zone: {tz}. PraxiApp stored UTC and so does Praxi; serve with \
         PRAXI_TIMEZONE={tz} (or --timezone {tz})."
    );
    println!("Done in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) async fn recheck(config: &Config, args: RecheckArgs) -> anyhow::Result<()> {
    let url = config.database_url()?;
    let outcome = praxiapp::recheck(&url).await.context("praxi recheck")?;
    for name in &outcome.tightened {
        println!("constraint {name} now holds for every row");
    }
    for name in &outcome.still_tolerant {
        println!("constraint {name} still tolerates old rows");
    }
    let report = write_report(
        config,
        args.report,
        &outcome.findings,
        &["praxi recheck".to_owned()],
    )?;
    print_findings(&outcome.findings, &report);
    Ok(())
}

/// Writes the report file: `#` comment lines, then one finding per line (ids only).
fn write_report(
    config: &Config,
    path: Option<PathBuf>,
    findings: &Findings,
    header: &[String],
) -> anyhow::Result<PathBuf> {
    let now = chrono::Utc::now();
    let path = path.unwrap_or_else(|| {
        config.data_dir.join(format!(
            "praxiapp-report-{}.txt",
            now.format("%Y%m%dT%H%M%SZ")
        ))
    });
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "# Praxi switch report, {}", now.to_rfc3339())?;
    for line in header {
        writeln!(file, "# {line}")?;
    }
    writeln!(
        file,
        "# one finding per line: category, then ids (see docs/switching.md)"
    )?;
    for (category, count) in findings.counts() {
        writeln!(file, "# {category}: {count}")?;
    }
    file.write_all(praxiapp::render_findings(findings).as_bytes())?;
    Ok(path)
}

fn print_findings(findings: &Findings, report: &Path) {
    if findings.violations.is_empty() {
        println!("No rows that Praxi forbids.");
    } else {
        println!(
            "Rows the original allowed but Praxi forbids (kept as they are, new ones are refused):"
        );
        for violation in &findings.violations {
            println!("  {violation}");
        }
    }
    println!("Report written to {}", report.display());
}
