//! The pages of the staff UI, one module per area, each with its own `router()`.

use axum::Router;

use crate::state::AppState;

pub mod account;
pub mod admin;
pub mod boards;
pub mod calendar;
pub mod dashboard;
pub mod people;

/// Page texts of every page module, for `i18n`.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    dashboard::texts(key)
        .or_else(|| admin::texts(key))
        .or_else(|| calendar::texts(key))
        .or_else(|| people::texts(key))
        .or_else(|| boards::texts(key))
        .or_else(|| account::texts(key))
}

/// All page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(dashboard::router())
        .merge(admin::router())
        .merge(calendar::router())
        .merge(people::router())
        .merge(boards::router())
        .merge(account::router())
}
