//! The access report of the audit log: "who accessed patient X between dates" and "what did
//! user U access", shared by `GET /api/audit/accesses/` and the administration page
//! `/admin/audit-log/` (with their CSV variants). Admin only: the caller's handler or page has
//! asked the RBAC table (`Area::AuditLog`, `Action::List`).
//!
//! Every query is itself audited (`audit_access_query`): the queried patient is the row's
//! `patient_id` (and so its subject), the meta names the user filter, the period, the format
//! and the number of rows found. Never patient data (docs/data-protection.md).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use praxi_store::StoreError;
use praxi_store::audit::{AccessQuery, AccessRecord};
use serde_json::json;

use crate::state::AppState;
use crate::usecases::Caller;
use crate::wire;

/// How the report leaves the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A page of JSON (API) or HTML (page).
    Page,
    /// A CSV download (every matching row, up to [`CSV_MAX_ROWS`]).
    Csv,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Page => "page",
            Format::Csv => "csv",
        }
    }
}

/// Rows in one CSV download at most (the newest first); narrow the period for more.
pub(crate) const CSV_MAX_ROWS: u64 = 100_000;

/// The rows matching `query`: the total, then the window that `pick` chooses for it
/// (`(offset, limit)`; the API answers 404 for a page past the end), then the rows with
/// their subjects; audits the query.
pub(crate) async fn accesses<E: From<StoreError>>(
    state: &AppState,
    caller: &Caller,
    query: &AccessQuery,
    format: Format,
    pick: impl FnOnce(u64) -> Result<(u64, u64), E>,
) -> Result<(u64, Vec<AccessRecord>), E> {
    let total = state.store.count_audit_accesses(query).await?;
    let (offset, limit) = pick(total)?;
    let rows = state.store.audit_accesses(query, offset, limit).await?;
    let entry = caller.audit(
        "audit_access_query",
        query.patient_id,
        Some(json!({
            "user_id": query.user_id,
            "from": query.since.map(|at| at.to_rfc3339()),
            "to": query.until.map(|at| at.to_rfc3339()),
            "format": format.as_str(),
            "count": total,
        })),
    );
    state.store.record_audit(&entry).await?;
    Ok((total, rows))
}

/// The columns of the CSV export.
pub(crate) const CSV_HEADER: [&str; 10] = [
    "id",
    "timestamp",
    "user_id",
    "username",
    "role",
    "action",
    "patient_id",
    "subjects",
    "request_id",
    "meta",
];

/// The rows as CSV (RFC 4180, CRLF line ends; timestamps in the practice zone; subjects
/// separated by spaces). A cell that a spreadsheet would read as a formula gets a leading
/// apostrophe.
pub(crate) fn csv(rows: &[AccessRecord], tz: Tz) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for row in rows {
        let record = &row.record;
        let opt = |value: Option<String>| value.unwrap_or_default();
        let cells = [
            record.id.to_string(),
            timestamp(record.timestamp, tz),
            opt(record.user_id.map(|id| id.to_string())),
            record.username.clone(),
            record.role_name.clone(),
            record.action.clone(),
            opt(record.patient_id.map(|id| id.to_string())),
            row.subjects
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            opt(record.request_id.clone()),
            opt(record.meta.as_ref().map(ToString::to_string)),
        ];
        let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn timestamp(at: DateTime<Utc>, tz: Tz) -> String {
    wire::datetime(at, tz)
}

fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("-5"), "-5");
        assert_eq!(
            csv_cell("{\"a\":1,\"b\":2}"),
            "\"{\"\"a\"\":1,\"\"b\"\":2}\""
        );
    }
}
