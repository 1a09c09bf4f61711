//! iCal feeds (per doctor or per room) at secret URLs: create, list, revoke. Shared by
//! `POST/GET/DELETE /api/calendar-feeds/` and the administration page
//! `/admin/calendar-feeds/`. Only a hash of the secret is stored, so the URL exists once: in
//! the answer to the create. Creation and revocation are audited in their transaction
//! (`calendar_feed_create`, `calendar_feed_revoke`, meta `{"feed_id": n}`).
//!
//! The caller's handler or page has already asked the RBAC table (`Area::CalendarFeeds`,
//! admin only); the store checks that the target is an active doctor or a room.

use axum::http::{HeaderMap, header};
use praxi_store::StoreError;
use praxi_store::feeds::{CalendarFeed, NewFeed, hash_feed_token};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use crate::state::AppState;
use crate::usecases::Caller;

/// Length of a feed secret (alphanumeric, about 256 bits).
const SECRET_LEN: usize = 43;

/// A fresh feed secret.
fn new_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

fn meta(feed_id: i64) -> Option<Value> {
    Some(json!({ "feed_id": feed_id }))
}

/// A feed just created, with the only copy of its secret path (`/ical/<secret>.ics`).
#[derive(Debug)]
pub(crate) struct CreatedFeed {
    pub(crate) feed: CalendarFeed,
    pub(crate) path: String,
}

/// Creates a feed; the target must be an active doctor or a room (else a field error on
/// `target_id`).
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    feed: &NewFeed,
) -> Result<CreatedFeed, StoreError> {
    let secret = new_secret();
    let created = state
        .store
        .create_calendar_feed(
            feed,
            &hash_feed_token(&secret),
            Some(caller.user_id()),
            |id| caller.audit("calendar_feed_create", None, meta(id)),
        )
        .await?;
    Ok(CreatedFeed {
        feed: created,
        path: crate::ical::feed_path(&secret),
    })
}

/// Every feed, newest first (revoked ones too).
pub(crate) async fn list(state: &AppState) -> Result<Vec<CalendarFeed>, StoreError> {
    state.store.calendar_feeds().await
}

/// Revokes a feed (idempotent); its URL answers 404 from then on.
pub(crate) async fn revoke(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<CalendarFeed, StoreError> {
    state
        .store
        .revoke_calendar_feed(
            id,
            state.now(),
            &caller.audit("calendar_feed_revoke", None, meta(id)),
        )
        .await
}

/// The absolute feed URL as the caller reached us (`X-Forwarded-Proto` from the proxy, else
/// https when cookies are marked secure).
pub(crate) fn absolute_url(headers: &HeaderMap, state: &AppState, path: &str) -> String {
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let scheme = header_text("x-forwarded-proto")
        .filter(|proto| *proto == "http" || *proto == "https")
        .unwrap_or(if state.config.secure_cookies {
            "https"
        } else {
            "http"
        });
    match header_text(header::HOST.as_str()) {
        Some(host) => format!("{scheme}://{host}{path}"),
        None => path.to_owned(),
    }
}
