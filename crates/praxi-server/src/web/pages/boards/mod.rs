//! The live boards of the staff UI: the patient-flow board (`/flow/`, "Wartezimmer"), the OP
//! board (`/operations/`) and the resource calendar (`/resources/`).
//!
//! Each page follows its SSE board (`chrome.live`), so `app.js` re-reads `<main>` when
//! something changes; without JavaScript the pages are plain server-rendered HTML whose
//! buttons are `POST` forms (CSRF-checked, Post/Redirect/Get with a flash code in the query).
//! Reads and writes use the API's policy rows, store calls and audit actions:
//!
//! * `flow` — `Store::patient_flows` (live window, as `GET /api/patient-flow/live/`),
//!   `Store::update_patient_flow` (as `PATCH …/{id}/status/`) and `Store::create_patient_flow`
//!   (as `POST /api/patient-flow/`); audit `patient_flow_view`, `appointment_list` and the
//!   store's write rows.
//! * `operations` — `Store::op_board` (as `GET /api/op-dashboard/?date=`) and
//!   `Store::set_operation_status` (as `PATCH /api/op-dashboard/{id}/status/`); audit
//!   `op_dashboard_view` and `op_status_update`.
//! * `resources` — `Store::calendar_resources` and `Store::resource_calendar` (as
//!   `GET /api/resource-calendar/`); audit `resource_calendar_view`.
//! * `timeline` — pure geometry of the day timelines (SVG, no inline styles).

mod flow;
mod op_form;
mod operations;
mod resources;
mod timeline;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use praxi_domain::rbac::Denial;

use crate::state::AppState;
use crate::web::error_page;
use crate::web::i18n::Lang;

/// The board routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/flow/", get(flow::page))
        .route("/flow/arrive/", post(flow::arrive))
        .route("/flow/no-show/", post(flow::no_show))
        .route("/flow/{id}/status/", post(flow::change_status))
        .route("/operations/", get(operations::page))
        .route("/operations/{id}/status/", post(operations::change_status))
        .route(
            "/operations/new/",
            get(op_form::new_form).post(op_form::create),
        )
        .route(
            "/operations/{id}/",
            get(op_form::edit_form).post(op_form::update),
        )
        .route("/operations/{id}/cancel/", post(op_form::cancel))
        .route("/resources/", get(resources::page))
}

// ---- small shared helpers --------------------------------------------------------------------

/// A flash message above a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    pub(crate) ok: bool,
    pub(crate) text: String,
}

/// The last value of a query parameter, trimmed; `None` when absent or blank.
pub(crate) fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// `YYYY-MM-DD` (what `<input type=date>` sends) or `dd.mm.yyyy` (typed by hand), years
/// 1–9999.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
        .filter(|date| (1..=9999).contains(&date.year()))
}

/// `dd.mm.yyyy`.
pub(crate) fn fmt_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// `HH:MM` of an instant in the practice zone.
pub(crate) fn fmt_time(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// `Mo 14.01.2030`.
pub(crate) fn fmt_day(lang: Lang, date: NaiveDate) -> String {
    let index = date.weekday().num_days_from_monday() as usize;
    let name = match lang {
        Lang::De => ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"][index],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][index],
    };
    format!("{name} {}", fmt_date(date))
}

/// The Monday of the week of `date`.
pub(crate) fn monday_of(date: NaiveDate) -> NaiveDate {
    date.week(Weekday::Mon).first_day()
}

/// `date` moved by `days` (the date itself at the ends of the calendar).
pub(crate) fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = if days >= 0 {
        date.checked_add_days(chrono::Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(chrono::Days::new(days.unsigned_abs()))
    };
    moved.unwrap_or(date)
}

/// A colour for an SVG `fill` attribute: the value when it is `#RRGGBB`, else a neutral grey.
pub(crate) fn safe_colour(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(colour)
            if colour.len() == 7
                && colour.starts_with('#')
                && colour[1..].bytes().all(|byte| byte.is_ascii_hexdigit()) =>
        {
            colour.to_owned()
        }
        _ => "#8A96A8".to_owned(),
    }
}

/// The error page for a denial.
pub(crate) fn denial_page(lang: Lang, denial: Denial) -> Response {
    match denial {
        Denial::NotFound => error_page(lang, StatusCode::NOT_FOUND, "error.not_found"),
        _ => error_page(lang, StatusCode::FORBIDDEN, "error.forbidden"),
    }
}

/// Logs a store failure and answers with the error page (the cause is never shown).
pub(crate) fn internal(lang: Lang, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "board page failed");
    error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, "boards.internal")
}

/// Texts of the board pages.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "boards.internal" => (
            "Die Übersicht konnte nicht geladen werden. Bitte später erneut versuchen.",
            "The board could not be loaded. Please try again later.",
        ),
        "boards.live_hint" => (
            "Diese Seite aktualisiert sich automatisch.",
            "This page updates itself.",
        ),
        "boards.updated" => ("Stand", "As of"),
        "boards.date" => ("Datum", "Date"),
        "boards.show" => ("Anzeigen", "Show"),
        "boards.prev_day" => ("Vortag", "Previous day"),
        "boards.next_day" => ("Folgetag", "Next day"),
        "boards.prev_week" => ("Vorwoche", "Previous week"),
        "boards.next_week" => ("Folgewoche", "Next week"),
        "boards.today" => ("Heute", "Today"),
        "boards.bad_date" => (
            "Ungültiges Datum – heute wird gezeigt.",
            "Invalid date – showing today.",
        ),
        "boards.minutes" => ("Min.", "min"),
        "boards.read_only" => (
            "Nur Ansicht: Ihre Rolle darf hier nichts ändern.",
            "Read only: your role may not change anything here.",
        ),
        "boards.timeline" => ("Zeitleiste", "Timeline"),
        _ => {
            return flow::texts(key)
                .or_else(|| operations::texts(key))
                .or_else(|| op_form::texts(key))
                .or_else(|| resources::texts(key));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_are_read_in_both_notations_within_the_calendar() {
        let cases = [
            ("2030-01-14", Some(date(2030, 1, 14))),
            (" 14.01.2030 ", Some(date(2030, 1, 14))),
            ("2030-02-30", None),
            ("14/01/2030", None),
            ("+10000-01-01", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), expected, "{text:?}");
        }
    }

    #[test]
    fn weeks_start_on_monday_and_shifts_stay_in_the_calendar() {
        assert_eq!(monday_of(date(2030, 1, 20)), date(2030, 1, 14));
        assert_eq!(monday_of(date(2030, 1, 14)), date(2030, 1, 14));
        assert_eq!(shift(date(2030, 1, 14), 7), date(2030, 1, 21));
        assert_eq!(shift(date(2030, 1, 14), -1), date(2030, 1, 13));
        assert_eq!(shift(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(fmt_day(Lang::De, date(2030, 1, 14)), "Mo 14.01.2030");
        assert_eq!(fmt_day(Lang::En, date(2030, 1, 20)), "Sun 20.01.2030");
    }

    #[test]
    fn only_hex_colours_reach_svg_attributes() {
        let cases = [
            (Some("#1E90ff"), "#1E90ff"),
            (Some(" #445566 "), "#445566"),
            (Some("red"), "#8A96A8"),
            (Some("#12345"), "#8A96A8"),
            (Some("#12345g"), "#8A96A8"),
            (Some("\"><script>"), "#8A96A8"),
            (None, "#8A96A8"),
        ];
        for (value, expected) in cases {
            assert_eq!(safe_colour(value), expected, "{value:?}");
        }
    }
}
