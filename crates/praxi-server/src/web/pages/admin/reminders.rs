//! `/admin/reminders/`: appointment reminders for staff (admin and assistant, like
//! `/api/reminders/`): the outbox with its states, filtered by status, and "send again" for a
//! failed reminder. Both go through `usecases::reminders`, the same code the API runs (audit
//! rows included); the form carries the session's CSRF token. Ids, times and states only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use praxi_domain::rbac::{Action, Area};
use praxi_domain::reminder::OutboxStatus;
use praxi_store::outbox::OutboxFilter;

use super::view::{Flash, datetime};
use super::{FormInput, ListQuery, allow, failure, t};
use crate::state::AppState;
use crate::usecases::{Caller, reminders};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render_status};

const RESOURCE: Area = Area::Reminders;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/reminders/", get(page))
        .route("/admin/reminders/{id}/retry/", post(retry))
}

/// One row of the list.
struct ReminderRow {
    id: i64,
    status: String,
    failed: bool,
    due_at: String,
    appointment: String,
    patient: i32,
    attempts: i32,
    sent_at: String,
    error: String,
}

#[derive(Template)]
#[template(path = "admin/reminders.html")]
struct RemindersPage {
    chrome: Chrome,
    flash: Option<Flash>,
    can_retry: bool,
    /// (value, label, selected)
    filters: Vec<(String, String, bool)>,
    rows: Vec<ReminderRow>,
}

async fn page(
    State(state): State<AppState>,
    user: WebUser,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::List)?;
    let query = ListQuery::from_uri(&uri);
    let status = query.get("status").and_then(OutboxStatus::parse);
    let flash = query.get("retried").map(|_| Flash {
        ok: true,
        text: t(&user, "reminders.requeued"),
    });
    let entries = reminders::list(
        &state,
        &OutboxFilter {
            status,
            ..OutboxFilter::default()
        },
    )
    .await
    .map_err(|error| failure(&user, error))?;
    let tz = state.tz();
    let rows = entries
        .iter()
        .map(|entry| ReminderRow {
            id: entry.id,
            status: t(
                &user,
                &format!("reminders.status.{}", entry.status.as_str()),
            ),
            failed: entry.status == OutboxStatus::Failed,
            due_at: datetime(user.lang, entry.due_at, tz),
            appointment: entry
                .appointment_id
                .map(|id| format!("#{id}"))
                .unwrap_or_default(),
            patient: entry.patient_id,
            attempts: entry.attempts,
            sent_at: entry
                .sent_at
                .map(|at| datetime(user.lang, at, tz))
                .unwrap_or_default(),
            error: entry.last_error.clone().unwrap_or_default(),
        })
        .collect();
    let mut filters = vec![(String::new(), t(&user, "reminders.all"), status.is_none())];
    filters.extend(OutboxStatus::ALL.into_iter().map(|s| {
        (
            s.as_str().to_owned(),
            t(&user, &format!("reminders.status.{}", s.as_str())),
            status == Some(s),
        )
    }));
    let page = RemindersPage {
        chrome: Chrome::new(&user, "nav.admin", "reminders.title"),
        flash,
        can_retry: user.can(RESOURCE, Action::Update),
        filters,
        rows,
    };
    let nonce = page.chrome.nonce.clone();
    Ok(render_status(&page, &nonce, StatusCode::OK))
}

async fn retry(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw_id): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Update)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let id: i64 = raw_id
        .parse()
        .map_err(|_| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))?;
    match reminders::retry(&state, &Caller::from(&user), id)
        .await
        .map_err(|error| failure(&user, error))?
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/reminders/?retried={id}")).into_response()),
        Err(_) => Err(error_page(
            user.lang,
            StatusCode::NOT_FOUND,
            "error.not_found",
        )),
    }
}
