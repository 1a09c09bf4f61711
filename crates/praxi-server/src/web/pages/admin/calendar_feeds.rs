//! `/admin/calendar-feeds/`: the iCal feeds (admin only, like `/api/calendar-feeds/`). One
//! page lists every feed (target, kind, whether it shows the appointment type, created,
//! active or revoked), creates one per doctor or per room and revokes one. The secret URL is
//! shown once, on the page the create answers (only its hash is stored), in a read-only field
//! with a copy button. Create and revoke go through `usecases::calendar_feeds`, the same code
//! the API runs (audit rows included); the forms carry the session's CSRF token.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_store::StoreError;
use praxi_store::feeds::{CalendarFeed, FeedKind, NewFeed};

use super::view::{Flash, datetime};
use super::{FormInput, ListQuery, allow, failure, t};
use crate::state::AppState;
use crate::usecases::{Caller, calendar_feeds};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render_status};

const RESOURCE: Area = Area::CalendarFeeds;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar-feeds/", get(page).post(create))
        .route("/admin/calendar-feeds/{id}/revoke/", post(revoke))
}

/// One row of the list.
struct FeedRow {
    id: i64,
    target: String,
    kind: String,
    shows_type: String,
    created_at: String,
    active: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "admin/calendar_feeds.html")]
struct FeedsPage {
    chrome: Chrome,
    flash: Option<Flash>,
    created_url: Option<String>,
    can_create: bool,
    can_revoke: bool,
    doctors: Vec<(String, String)>,
    rooms: Vec<(String, String)>,
    selected: String,
    include_type: bool,
    error: Option<String>,
    feeds: Vec<FeedRow>,
}

/// What the create form showed or sent.
#[derive(Default)]
struct FormState {
    selected: String,
    include_type: bool,
    error: Option<String>,
    created_url: Option<String>,
    flash: Option<Flash>,
}

/// Doctors and rooms to choose from (`doctor:<id>`, `room:<id>`), and every name a feed row
/// may need (inactive doctors included through the store's user lookup).
async fn targets(
    state: &AppState,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>), StoreError> {
    let doctors = state
        .store
        .list_doctors()
        .await?
        .into_iter()
        .map(|doctor| (format!("doctor:{}", doctor.id), doctor.display_name()))
        .collect();
    let rooms = state
        .store
        .calendar_resources(None)
        .await?
        .into_iter()
        .filter(|resource| resource.kind == "room")
        .map(|room| (format!("room:{}", room.id), room.name))
        .collect();
    Ok((doctors, rooms))
}

async fn target_name(
    state: &AppState,
    names: &HashMap<String, String>,
    feed: &CalendarFeed,
) -> Result<String, StoreError> {
    let key = format!("{}:{}", feed.kind.as_str(), feed.target_id);
    if let Some(name) = names.get(&key) {
        return Ok(name.clone());
    }
    Ok(match feed.kind {
        FeedKind::Doctor => match state.store.user_by_id(feed.target_id).await? {
            Some(user) => user.display_name(),
            None => format!("#{}", feed.target_id),
        },
        FeedKind::Room => format!("#{}", feed.target_id),
    })
}

async fn render_page(
    state: &AppState,
    user: &WebUser,
    form: FormState,
    status: StatusCode,
) -> Result<Response, StoreError> {
    let (doctors, rooms) = targets(state).await?;
    let names: HashMap<String, String> = doctors.iter().chain(rooms.iter()).cloned().collect();
    let tz = state.tz();
    let mut feeds = Vec::new();
    for feed in calendar_feeds::list(state).await? {
        let active = feed.revoked_at.is_none();
        feeds.push(FeedRow {
            id: feed.id,
            target: target_name(state, &names, &feed).await?,
            kind: t(
                user,
                &format!("admin.calendar-feeds.kind.{}", feed.kind.as_str()),
            ),
            shows_type: t(
                user,
                if feed.include_type {
                    "admin.calendar-feeds.yes"
                } else {
                    "admin.calendar-feeds.no"
                },
            ),
            created_at: datetime(user.lang, feed.created_at, tz),
            active,
            status: match feed.revoked_at {
                None => t(user, "admin.calendar-feeds.active"),
                Some(at) => format!(
                    "{} {}",
                    t(user, "admin.calendar-feeds.revoked_at"),
                    datetime(user.lang, at, tz)
                ),
            },
        });
    }
    let page = FeedsPage {
        chrome: Chrome::new(user, "nav.admin", "admin.calendar-feeds.title"),
        flash: form.flash,
        created_url: form.created_url,
        can_create: user.can(RESOURCE, Action::Create),
        can_revoke: user.can(RESOURCE, Action::Delete),
        doctors,
        rooms,
        selected: form.selected,
        include_type: form.include_type,
        error: form.error,
        feeds,
    };
    let nonce = page.chrome.nonce.clone();
    Ok(render_status(&page, &nonce, status))
}

async fn page(
    State(state): State<AppState>,
    user: WebUser,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::List)?;
    let query = ListQuery::from_uri(&uri);
    let flash = query.get("revoked").map(|_| Flash {
        ok: true,
        text: t(&user, "admin.calendar-feeds.flash.revoked"),
    });
    let form = FormState {
        flash,
        ..FormState::default()
    };
    render_page(&state, &user, form, StatusCode::OK)
        .await
        .map_err(|error| failure(&user, error))
}

/// `doctor:<id>` or `room:<id>`.
fn parse_target(value: &str) -> Option<(FeedKind, i64)> {
    let (kind, id) = value.split_once(':')?;
    Some((FeedKind::parse(kind)?, id.parse().ok()?))
}

async fn create(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Create)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let selected = input.get("target").unwrap_or("").to_owned();
    let include_type = input.has("include_type");
    let mut form = FormState {
        selected: selected.clone(),
        include_type,
        ..FormState::default()
    };
    let Some((kind, target_id)) = parse_target(&selected) else {
        form.error = Some(t(&user, "admin.calendar-feeds.error.target"));
        return render_page(&state, &user, form, StatusCode::BAD_REQUEST)
            .await
            .map_err(|error| failure(&user, error));
    };
    let created = calendar_feeds::create(
        &state,
        &Caller::from(&user),
        &NewFeed {
            kind,
            target_id,
            include_type,
        },
    )
    .await;
    match created {
        Ok(created) => {
            let form = FormState {
                created_url: Some(calendar_feeds::absolute_url(
                    &headers,
                    &state,
                    &created.path,
                )),
                flash: Some(Flash {
                    ok: true,
                    text: t(&user, "admin.calendar-feeds.flash.created"),
                }),
                ..FormState::default()
            };
            // The secret exists only in this answer: no redirect, and it must not be cached.
            render_page(&state, &user, form, StatusCode::CREATED)
                .await
                .map_err(|error| failure(&user, error))
        }
        Err(StoreError::Invalid(_)) => {
            form.error = Some(t(&user, "admin.calendar-feeds.error.target"));
            render_page(&state, &user, form, StatusCode::BAD_REQUEST)
                .await
                .map_err(|error| failure(&user, error))
        }
        Err(error) => Err(failure(&user, error)),
    }
}

async fn revoke(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Delete)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let id: i64 = raw_id
        .parse()
        .map_err(|_| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))?;
    calendar_feeds::revoke(&state, &Caller::from(&user), id)
        .await
        .map_err(|error| failure(&user, error))?;
    Ok(Redirect::to(&format!("/admin/calendar-feeds/?revoked={id}")).into_response())
}
