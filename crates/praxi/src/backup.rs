//! `praxi backup FILE` and `praxi restore FILE`.
//!
//! SQLite: backup takes an online, consistent snapshot with `VACUUM INTO` (the server may keep
//! serving and writing; the snapshot is one read transaction in WAL mode), checks it with
//! `PRAGMA integrity_check` and only then gives it its final name. Restore checks the backup,
//! refuses while any process has the target database open (a running Praxi), and replaces the
//! file atomically (the old `-wal`/`-shm` files are removed with it).
//!
//! PostgreSQL: backup runs `pg_dump --format=custom`, restore `pg_restore --clean`; `--print`
//! shows the command (password redacted) instead of running it. The password travels in
//! `PGPASSWORD`, never on the command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;
use praxi_store::Store;

use crate::config::Config;

/// `praxi backup`.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The backup file to write (must not exist).
    output: PathBuf,
    /// PostgreSQL: print the `pg_dump` command instead of running it.
    #[arg(long)]
    print: bool,
}

/// `praxi restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup file to restore.
    input: PathBuf,
    /// Replace an existing database (SQLite: the file; PostgreSQL: `pg_restore --clean`).
    #[arg(long)]
    force: bool,
    /// PostgreSQL: print the `pg_restore` command instead of running it.
    #[arg(long)]
    print: bool,
}

/// The file of an `sqlite:` URL (`sqlite://PATH?…` or `sqlite:PATH`), `None` for other URLs.
fn sqlite_path(url: &str) -> Option<anyhow::Result<PathBuf>> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Some(Err(anyhow::anyhow!(
            "an in-memory SQLite database cannot be backed up or restored"
        )));
    }
    Some(Ok(PathBuf::from(path)))
}

/// A PostgreSQL URL split into the URL without password and the password.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(password.to_owned()),
        ),
        None => (url.to_owned(), None),
    }
}

/// Quotes an argument for display in a POSIX shell.
fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&byte))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Prints or runs a PostgreSQL client tool.
fn run_pg_tool(
    program: &str,
    args: &[String],
    password: Option<&str>,
    print: bool,
) -> anyhow::Result<()> {
    let shown = std::iter::once(program.to_owned())
        .chain(args.iter().map(|arg| shell_quote(arg)))
        .collect::<Vec<_>>()
        .join(" ");
    if print {
        if password.is_some() {
            println!("PGPASSWORD=… {shown}");
        } else {
            println!("{shown}");
        }
        return Ok(());
    }
    let mut command = Command::new(program);
    command.args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let status = match command.status() {
        Ok(status) => status,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => bail!(
            "{program} is not installed (install the PostgreSQL client tools); the command is:\n  {shown}"
        ),
        Err(error) => return Err(error).with_context(|| format!("running {program}")),
    };
    if !status.success() {
        bail!("{program} failed ({status})");
    }
    Ok(())
}

/// `praxi backup FILE`.
pub(crate) async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    let url = config.database_url()?;
    match sqlite_path(&url) {
        Some(path) => backup_sqlite(&path?, &args.output).await,
        None => {
            if args.output.exists() {
                bail!("{} already exists", args.output.display());
            }
            let (url, password) = split_password(&url);
            let output = args.output.display().to_string();
            let pg_args = vec![
                "--format=custom".to_owned(),
                format!("--file={output}"),
                format!("--dbname={url}"),
            ];
            run_pg_tool("pg_dump", &pg_args, password.as_deref(), args.print)?;
            if !args.print {
                println!("backup written to {output}");
            }
            Ok(())
        }
    }
}

async fn backup_sqlite(database: &Path, output: &Path) -> anyhow::Result<()> {
    if !database.is_file() {
        bail!("no database at {}", database.display());
    }
    if output.exists() {
        bail!("{} already exists", output.display());
    }
    // Written under a temporary name next to the target and renamed once checked, so a
    // half-written file never carries the backup's name.
    let partial = sibling(output, ".partial")?;
    let _ = std::fs::remove_file(&partial);
    let store = Store::connect(&format!("sqlite://{}", database.display()))
        .await
        .context("opening the database")?;
    let result = store.backup_sqlite_into(&partial).await;
    store.close().await?;
    result.context("writing the snapshot")?;
    if let Err(error) = praxi_store::ops::sqlite_integrity_check(&partial).await {
        let _ = std::fs::remove_file(&partial);
        bail!("the snapshot failed its check: {error}");
    }
    std::fs::rename(&partial, output)
        .with_context(|| format!("renaming the snapshot to {}", output.display()))?;
    let size = std::fs::metadata(output)
        .map(|meta| meta.len())
        .unwrap_or(0);
    println!(
        "backup written to {} ({size} bytes, integrity ok)",
        output.display()
    );
    Ok(())
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut name = name.to_os_string();
    name.push(suffix);
    Ok(path.with_file_name(name))
}

/// `praxi restore FILE`.
pub(crate) async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let url = config.database_url()?;
    match sqlite_path(&url) {
        Some(path) => restore_sqlite(&args.input, &path?, args.force).await,
        None => {
            if !args.print && !args.input.is_file() {
                bail!("no backup at {}", args.input.display());
            }
            let (url, password) = split_password(&url);
            let mut pg_args = vec![
                "--no-owner".to_owned(),
                "--single-transaction".to_owned(),
                "--exit-on-error".to_owned(),
            ];
            if args.force {
                pg_args.push("--clean".to_owned());
                pg_args.push("--if-exists".to_owned());
            }
            pg_args.push(format!("--dbname={url}"));
            pg_args.push(args.input.display().to_string());
            run_pg_tool("pg_restore", &pg_args, password.as_deref(), args.print)?;
            if !args.print {
                println!("restored {}", args.input.display());
            }
            Ok(())
        }
    }
}

async fn restore_sqlite(input: &Path, target: &Path, force: bool) -> anyhow::Result<()> {
    praxi_store::ops::sqlite_integrity_check(input)
        .await
        .with_context(|| format!("checking {}", input.display()))?;
    if target.exists() {
        if praxi_store::ops::sqlite_in_use(target).await? {
            bail!(
                "{} is in use (is Praxi running?): stop the server before restoring",
                target.display()
            );
        }
        if !force {
            bail!(
                "{} exists: pass --force to replace it with the backup",
                target.display()
            );
        }
    }
    if let Some(parent) = target
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let partial = sibling(target, ".restoring")?;
    std::fs::copy(input, &partial).with_context(|| format!("copying to {}", partial.display()))?;
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("syncing {}", partial.display()))?;
    // A write-ahead log of the old database must not be replayed onto the restored one.
    for suffix in ["-wal", "-shm", "-journal"] {
        let stale = sibling(target, suffix)?;
        if stale.exists() {
            std::fs::remove_file(&stale)
                .with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    std::fs::rename(&partial, target)
        .with_context(|| format!("moving the restored database to {}", target.display()))?;
    println!(
        "restored {} into {}; start Praxi to apply pending migrations",
        input.display(),
        target.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        let path = sqlite_path("sqlite:///var/lib/praxi/praxi.sqlite3?mode=rwc");
        assert_eq!(
            path.and_then(Result::ok),
            Some(PathBuf::from("/var/lib/praxi/praxi.sqlite3"))
        );
        let path = sqlite_path("sqlite:data/p.db");
        assert_eq!(path.and_then(Result::ok), Some(PathBuf::from("data/p.db")));
        assert!(sqlite_path("postgres://u@h/db").is_none());
        assert!(sqlite_path("sqlite::memory:").is_some_and(|path| path.is_err()));
    }

    #[test]
    fn postgres_passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://praxi:s3cret@db:5432/praxi?sslmode=require"),
            (
                "postgres://praxi@db:5432/praxi?sslmode=require".to_owned(),
                Some("s3cret".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".to_owned(), None)
        );
    }
}
