//! `/api/calendar-feeds/`: admin-only management of the iCal feeds (beyond the original).
//! List every feed, create one (the answer carries the secret URL, once; only its hash is
//! stored) and revoke one with DELETE (the row stays, the URL answers 404 from then on).
//! Creation and revocation are audited (`calendar_feed_create`, `calendar_feed_revoke`, meta
//! `{"feed_id": n}`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_store::feeds::{CalendarFeed, FeedKind, NewFeed};
use serde_json::{Value, json};

use crate::api::{PathId, method_fallback};
use crate::auth::AuthUser;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usecases::{Caller, calendar_feeds};
use crate::wire;

const MODEL: &str = "CalendarFeed";
const RESOURCE: Area = Area::CalendarFeeds;

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

async fn list(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Value>> {
    auth.require(RESOURCE, Action::List, MODEL)?;
    let feeds = calendar_feeds::list(&state).await?;
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
    let created = calendar_feeds::create(
        &state,
        &Caller::from(&auth),
        &NewFeed {
            kind,
            target_id,
            include_type,
        },
    )
    .await?;
    let mut body = feed_json(&created.feed, &state);
    if let Value::Object(map) = &mut body {
        map.insert(
            "url".to_owned(),
            json!(calendar_feeds::absolute_url(
                &headers,
                &state,
                &created.path
            )),
        );
        map.insert("path".to_owned(), json!(created.path));
    }
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    auth.require(RESOURCE, Action::Delete, MODEL)?;
    calendar_feeds::revoke(&state, &Caller::from(&auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
