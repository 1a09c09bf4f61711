//! `/api/calendar-feeds/`: admin-only management of the iCal feeds (beyond the original).
//! List every feed, create one (the answer carries the secret URL, once; only its hash is
//! stored) and revoke one with DELETE (the row stays, the URL answers 404 from then on).
//! Creation and revocation are audited (`calendar_feed_create`, `calendar_feed_revoke`, meta
//! `{"feed_id": n}`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get};
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_store::feeds::{CalendarFeed, FeedKind, NewFeed, hash_feed_token};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;

const MODEL: &str = "CalendarFeed";
const RESOURCE: Area = Area::CalendarFeeds;

/// Length of a feed secret (alphanumeric, about 256 bits).
const SECRET_LEN: usize = 43;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/calendar-feeds/",
            get(list).post(create).fallback(method_fallback(RESOURCE)),
        )
        .route(
            "/api/calendar-feeds/{id}/",
            delete(revoke).fallback(method_fallback(RESOURCE)),
        )
}

fn feed_json(feed: &CalendarFeed, state: &AppState) -> Value {
    let tz = state.tz();
    json!({
        "id": feed.id,
        "kind": feed.kind.as_str(),
        "target_id": feed.target_id,
        "include_type": feed.include_type,
        "created_by": feed.created_by,
        "created_at": wire::datetime(feed.created_at, tz),
        "revoked_at": wire::opt_datetime(feed.revoked_at, tz),
        "active": feed.revoked_at.is_none(),
    })
}

fn meta(feed_id: i64) -> Option<Value> {
    Some(json!({ "feed_id": feed_id }))
}

/// A fresh feed secret.
pub(crate) fn new_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
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

async fn list(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let feeds = state.store.calendar_feeds().await?;
    Ok(Json(Value::Array(
        feeds.iter().map(|feed| feed_json(feed, &state)).collect(),
    )))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(RESOURCE, Action::Create, MODEL)?;
    let mut fields = Fields::new(body, state.tz());
    let kind = fields.required_string("kind");
    let target_id = fields.required_int("target_id");
    let include_type = fields.opt_bool("include_type").flatten().unwrap_or(false);
    let kind = match kind.as_deref().map(FeedKind::parse) {
        Some(Some(kind)) => Some(kind),
        Some(None) => {
            fields.errors_mut().add(
                "kind",
                format!(
                    "\"{}\" is not a valid choice.",
                    kind.as_deref().unwrap_or_default()
                ),
            );
            None
        }
        None => None,
    };
    fields.finish()?;
    let (Some(kind), Some(target_id)) = (kind, target_id) else {
        return Err(ApiError::field("non_field_errors", "Invalid data."));
    };
    let secret = new_secret();
    let feed = state
        .store
        .create_calendar_feed(
            &NewFeed {
                kind,
                target_id,
                include_type,
            },
            &hash_feed_token(&secret),
            Some(auth.user.id),
            |id| auth.audit("calendar_feed_create", None, meta(id)),
        )
        .await?;
    let path = crate::ical::feed_path(&secret);
    let mut body = feed_json(&feed, &state);
    if let Value::Object(map) = &mut body {
        map.insert(
            "url".to_owned(),
            json!(absolute_url(&headers, &state, &path)),
        );
        map.insert("path".to_owned(), json!(path));
    }
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    auth.require(RESOURCE, Action::Delete, MODEL)?;
    state
        .store
        .revoke_calendar_feed(
            id,
            state.now(),
            &auth.audit("calendar_feed_revoke", None, meta(id)),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
