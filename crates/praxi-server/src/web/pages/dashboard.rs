//! `/dashboard/`: the practice overview.

use askama::Template;
use axum::Router;
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard/", get(dashboard))
}

/// Texts of this page.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "dashboard.welcome" => ("Willkommen", "Welcome"),
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
}

async fn dashboard(user: WebUser) -> Response {
    let chrome = Chrome::new(&user, "nav.dashboard", "dashboard.title");
    let page = DashboardPage { chrome };
    render(&page, &page.chrome.nonce)
}
