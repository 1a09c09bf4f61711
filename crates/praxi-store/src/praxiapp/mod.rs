//! Switching from PraxiApp: recognise its database, check the layout Praxi reads, then either
//! adopt it in place (PostgreSQL) or copy it into a fresh Praxi database (SQLite or
//! PostgreSQL). Rows the original allowed but Praxi forbids are reported by id, never dropped
//! or changed; the constraints that forbid them are installed so that they refuse new
//! violations only (see docs/switching.md).
//!
//! - `layout` — `django_migrations` recognition and the expected column layout.
//! - `report` — the findings (overlaps, over-long bookings, orphans, duplicate e-mails, unknown
//!   roles) and their one-line-per-finding report format.
//! - `pg` — catalog reads and the "tolerant" constraint installer for PostgreSQL.
//! - `adopt` — the in-place plan (diffed against Praxi's own migrations run in a scratch schema).
//! - `import` — the streaming copy into a fresh Praxi database.

mod adopt;
mod import;
mod layout;
mod pg;
mod report;

use sea_orm::{ConnectionTrait, DbErr, Statement};

pub use adopt::{AdoptOptions, AdoptOutcome, adopt};
pub use import::{ImportOptions, ImportOutcome, Progress, TableCount, import};
pub use pg::{RecheckOutcome, recheck};
pub use report::{BookingKind, BookingRef, Findings, Violation, find_violations};

use crate::{Store, StoreError};

/// Why a switch was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PraxiAppError {
    /// Not a PraxiApp database Praxi knows (missing or unexpected `django_migrations` rows).
    #[error("not a known PraxiApp database: {0}")]
    NotPraxiApp(String),
    /// A table or column Praxi reads is missing or has another type.
    #[error("the database layout differs from what Praxi expects:\n  {}", .0.join("\n  "))]
    Layout(Vec<String>),
    /// The import target already holds data.
    #[error("the target database is not empty: {0}")]
    TargetNotEmpty(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Replaces a user's password hash, but only if it is still `old_hash` (the first successful
/// login with a PraxiApp password upgrades it to argon2id; a concurrent change wins). Returns
/// whether the row was changed. The token version stays: the login that triggers this is the
/// same person with the same password.
pub async fn replace_password_hash(
    store: &Store,
    user_id: i64,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, StoreError> {
    let backend = store.backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE core_user SET password = $1 WHERE id = $2 AND password = $3"
        }
        _ => "UPDATE core_user SET password = ? WHERE id = ? AND password = ?",
    };
    let tx = store.write().await?;
    let result = tx
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [new_hash.into(), user_id.into(), old_hash.into()],
        ))
        .await?;
    tx.commit().await?;
    Ok(result.rows_affected() == 1)
}

/// Writes the findings, one per line, as the report file and the terminal show them.
pub fn render_findings(findings: &Findings) -> String {
    let mut out = String::new();
    for violation in &findings.violations {
        out.push_str(&violation.to_string());
        out.push('\n');
    }
    out
}
