//! The use-case layer: one function per action that changes bookings or patient flows,
//! shared by the API handlers and the web pages.
//!
//! ```text
//! request → handler / page (parse) → use case (policy decision + domain rules + store
//!           transaction + audit + board event) → handler / page (render)
//! ```
//!
//! A use case takes the [`Caller`] (who acts, for the audit rows), the policy [`Decision`] the
//! RBAC table gave for the action (never a role predicate: "doctors only their own" is the
//! table's `OwnOnly`/`Filtered`), and typed input. It answers with the result or a
//! [`Failure`]: one typed refusal enum per use-case area, which the API renders as the DRF body
//! and the web UI as a translated message, or a store error.
//!
//! [`Decision`]: praxi_domain::rbac::Decision

pub(crate) mod appointment_list;
pub(crate) mod appointments;
pub(crate) mod audit_log;
pub(crate) mod calendar_feeds;
pub(crate) mod flow;
pub(crate) mod holds;
pub(crate) mod holidays;
pub(crate) mod master_data;
pub(crate) mod operations;
pub(crate) mod patient_files;
pub(crate) mod patient_rights;
pub(crate) mod reminders;
pub(crate) mod two_factor;

use chrono::NaiveDate;
use praxi_domain::rbac::{Actor, Decision, Denial};
use praxi_domain::scheduling::{Interval, local_day};
use praxi_store::StoreError;
use praxi_store::audit::AuditEntry;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::state::AppState;
use crate::web::session::WebUser;

/// Who acts: the policy actor and what every audit row of the action records.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) actor: Actor,
    pub(crate) username: String,
    pub(crate) role: String,
    pub(crate) request_id: Option<String>,
}

impl Caller {
    /// The acting user's id.
    pub(crate) fn user_id(&self) -> i64 {
        self.actor.user_id
    }

    /// An audit entry for this caller.
    pub(crate) fn audit(
        &self,
        action: &str,
        patient_id: Option<i32>,
        meta: Option<Value>,
    ) -> AuditEntry {
        AuditEntry {
            user_id: Some(self.actor.user_id),
            username: self.username.clone(),
            role_name: self.role.clone(),
            action: action.to_owned(),
            patient_id,
            meta,
            request_id: self.request_id.clone(),
            subjects: Vec::new(),
        }
    }
}

impl From<&AuthUser> for Caller {
    fn from(auth: &AuthUser) -> Self {
        Caller {
            actor: auth.actor,
            username: auth.user.username.clone(),
            role: auth
                .user
                .role
                .as_ref()
                .map(|role| role.name.clone())
                .unwrap_or_default(),
            request_id: auth.request_id.clone(),
        }
    }
}

impl From<&WebUser> for Caller {
    fn from(user: &WebUser) -> Self {
        Caller {
            actor: user.actor,
            username: user.user.username.clone(),
            role: user
                .user
                .role
                .as_ref()
                .map(|role| role.name.clone())
                .unwrap_or_default(),
            request_id: user.request_id.clone(),
        }
    }
}

/// A use case that did not happen: refused by a rule (`R`, the area's one refusal enum), or
/// failed in the store.
#[derive(Debug)]
pub(crate) enum Failure<R> {
    Refused(R),
    Store(StoreError),
}

impl<R> From<StoreError> for Failure<R> {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

/// The "own records only" rule as the RBAC table decided it: an `OwnOnly` decision allows
/// only the caller's own records and answers others with its denial.
pub(crate) fn own_only(decision: Decision, is_own: bool) -> Result<(), Denial> {
    match decision {
        Decision::OwnOnly(denial) if !is_own => Err(denial),
        _ => Ok(()),
    }
}

/// The interval of local days `from..=to` in the practice zone.
pub(crate) fn local_days(state: &AppState, from: NaiveDate, to: NaiveDate) -> Option<Interval> {
    let start = local_day(state.tz(), from)?.start();
    let end = local_day(state.tz(), to)?.end();
    Interval::new(start, end).ok()
}

/// An entity tag for a stored row (RFC 9110 §8.8.3): a 64-bit FNV-1a hash over the row's id,
/// `updated_at` and the state the caller sees, quoted. Any write changes it.
pub(crate) fn etag(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("\"{hash:016x}\"")
}

/// An `If-Match` precondition (RFC 9110 §13.1.1): `None` = no header (no check, as before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IfMatch(pub(crate) Option<String>);

impl IfMatch {
    /// The request's `If-Match` header (an unreadable value counts as a tag no row has).
    pub(crate) fn from_headers(headers: &axum::http::HeaderMap) -> IfMatch {
        IfMatch(
            headers
                .get(axum::http::header::IF_MATCH)
                .map(|value| value.to_str().unwrap_or("\"\"").to_owned()),
        )
    }

    /// Whether the current tag satisfies the precondition (`*` matches any existing row;
    /// weak tags `W/"…"` compare by their opaque part, lists are split at commas).
    pub(crate) fn allows(&self, current: &str) -> bool {
        let Some(header) = &self.0 else {
            return true;
        };
        header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctors_are_refused_foreign_rows_only() {
        let own = Decision::OwnOnly(Denial::NotFound);
        assert_eq!(own_only(own, false), Err(Denial::NotFound));
        assert_eq!(own_only(own, true), Ok(()));
        assert_eq!(own_only(Decision::Allow, false), Ok(()));
        assert_eq!(own_only(Decision::Filtered, false), Ok(()));
    }

    #[test]
    fn if_match_compares_tags() {
        let tag = etag(&["1", "2026-01-01T00:00:00Z"]);
        assert!(IfMatch(None).allows(&tag));
        assert!(IfMatch(Some(tag.clone())).allows(&tag));
        assert!(IfMatch(Some(format!("W/{tag}"))).allows(&tag));
        assert!(IfMatch(Some(format!("\"x\", {tag}"))).allows(&tag));
        assert!(IfMatch(Some("*".to_owned())).allows(&tag));
        assert!(!IfMatch(Some("\"0\"".to_owned())).allows(&tag));
        assert_ne!(tag, etag(&["1", "2026-01-01T00:00:01Z"]));
        assert_ne!(etag(&["1", "2"]), etag(&["12", ""]));
    }
}
