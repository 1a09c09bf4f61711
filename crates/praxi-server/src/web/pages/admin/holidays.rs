//! `/admin/holidays/`: the practice's holiday calendar (issue #14). One page shows the
//! region (a select of "none", nationwide and the 16 states), every holiday and override of
//! a year with whether bookings are refused that day, a form to open a holiday or close any
//! other date, and a button to remove an override. Everything goes through
//! `usecases::holidays`, the code `/api/holidays/` runs (audit rows included); the forms carry
//! the session's CSRF token. Admins and assistants change it; billing reads.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate};
use praxi_domain::rbac::{Action, Area};
use praxi_domain::scheduling::HolidayRegion;

use super::view::Flash;
use super::{FormInput, ListQuery, allow, failure, t};
use crate::body::parse_date_str;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::holidays::{self, OverrideProblem};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render_status};

const RESOURCE: Area = Area::Holidays;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/holidays/", get(page))
        .route("/admin/holidays/region/", post(set_region))
        .route("/admin/holidays/overrides/", post(put_override))
        .route(
            "/admin/holidays/overrides/{date}/delete/",
            post(delete_override),
        )
}

/// One row of the year's table.
struct DayRow {
    date: String,
    iso: String,
    name: String,
    closed: bool,
    status: String,
    overridden: bool,
}

#[derive(Template)]
#[template(path = "admin/holidays.html")]
struct HolidaysPage {
    chrome: Chrome,
    flash: Option<Flash>,
    can_edit: bool,
    year: i32,
    prev_year: i32,
    next_year: i32,
    regions: Vec<(String, String)>,
    region: String,
    date: String,
    closed: bool,
    label: String,
    error: Option<String>,
    days: Vec<DayRow>,
}

/// What the override form showed or sent.
#[derive(Default)]
struct FormState {
    date: String,
    closed: bool,
    label: String,
    error: Option<String>,
    flash: Option<Flash>,
}

fn weekday_date(user: &WebUser, date: NaiveDate) -> String {
    let day = t(
        user,
        &format!("admin.weekday.{}", date.weekday().num_days_from_monday()),
    );
    format!("{day}, {}", date.format("%d.%m.%Y"))
}

async fn render_page(
    state: &AppState,
    user: &WebUser,
    year: i32,
    form: FormState,
    status: StatusCode,
) -> Result<Response, Response> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))?;
    let (from, to) = holidays::year_of(first);
    let calendar = holidays::read(state, from, to)
        .await
        .map_err(|error| failure(user, error))?;
    let mut regions = vec![(String::new(), t(user, "admin.holidays.region.none"))];
    regions.extend(
        HolidayRegion::ALL
            .iter()
            .map(|r| (r.code().to_owned(), r.name().to_owned())),
    );
    let days = calendar
        .days
        .iter()
        .map(|day| DayRow {
            date: weekday_date(user, day.date),
            iso: day.date.to_string(),
            name: match (&day.label, day.holiday) {
                (Some(label), Some(holiday)) => format!("{holiday} ({label})"),
                (Some(label), None) => label.clone(),
                (None, Some(holiday)) => holiday.to_owned(),
                (None, None) => t(user, "admin.holidays.closed_day"),
            },
            closed: day.closed,
            status: t(
                user,
                if day.closed {
                    "admin.holidays.closed"
                } else {
                    "admin.holidays.open"
                },
            ),
            overridden: day.overridden,
        })
        .collect();
    let page = HolidaysPage {
        chrome: Chrome::new(user, "nav.admin", "admin.holidays.title"),
        flash: form.flash,
        can_edit: user.can(RESOURCE, Action::Update),
        year,
        prev_year: year - 1,
        next_year: year + 1,
        regions,
        region: calendar
            .region
            .map(|r| r.code().to_owned())
            .unwrap_or_default(),
        date: form.date,
        closed: form.closed,
        label: form.label,
        error: form.error,
        days,
    };
    let nonce = page.chrome.nonce.clone();
    Ok(render_status(&page, &nonce, status))
}

fn year_of_query(query: &ListQuery, state: &AppState) -> i32 {
    query
        .int("year")
        .and_then(|y| i32::try_from(y).ok())
        .filter(|y| (1900..=2200).contains(y))
        .unwrap_or_else(|| state.now().with_timezone(&state.tz()).year())
}

async fn page(
    State(state): State<AppState>,
    user: WebUser,
    uri: Uri,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::List)?;
    let query = ListQuery::from_uri(&uri);
    let flash = query.get("saved").map(|_| Flash {
        ok: true,
        text: t(&user, "admin.flash.saved"),
    });
    let form = FormState {
        flash,
        closed: true,
        ..FormState::default()
    };
    render_page(
        &state,
        &user,
        year_of_query(&query, &state),
        form,
        StatusCode::OK,
    )
    .await
}

async fn set_region(
    State(state): State<AppState>,
    user: WebUser,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Update)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let region = match input.get("region").map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(code) => match code.parse::<HolidayRegion>() {
            Ok(region) => Some(region),
            Err(_) => {
                return Err(error_page(
                    user.lang,
                    StatusCode::BAD_REQUEST,
                    "error.bad_request",
                ));
            }
        },
    };
    holidays::set_region(&state, &Caller::from(&user), region)
        .await
        .map_err(|error| failure(&user, error))?;
    Ok(Redirect::to("/admin/holidays/?saved=1").into_response())
}

async fn put_override(
    State(state): State<AppState>,
    user: WebUser,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Update)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let raw_date = input.get("date").unwrap_or("").trim().to_owned();
    let closed = input.get("closed") != Some("false");
    let label = input.get("label").unwrap_or("").to_owned();
    let mut form = FormState {
        date: raw_date.clone(),
        closed,
        label: label.clone(),
        ..FormState::default()
    };
    let this_year = state.now().with_timezone(&state.tz()).year();
    let Some(date) = parse_date_str(&raw_date) else {
        form.error = Some(t(&user, "admin.holidays.error.date"));
        return render_page(&state, &user, this_year, form, StatusCode::BAD_REQUEST).await;
    };
    let stored = holidays::put_override(&state, &Caller::from(&user), date, closed, Some(label))
        .await
        .map_err(|error| failure(&user, error))?;
    match stored {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/holidays/?year={}&saved=1", date.year())).into_response(),
        ),
        Err(OverrideProblem::LabelTooLong) => {
            form.error = Some(t(&user, "admin.holidays.error.label"));
            render_page(&state, &user, date.year(), form, StatusCode::BAD_REQUEST).await
        }
    }
}

async fn delete_override(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(input): Form<FormInput>,
) -> Result<Response, Response> {
    allow(&user, RESOURCE, Action::Delete)?;
    user.check_csrf(input.get("csrf_token").unwrap_or(""))?;
    let date = parse_date_str(&raw)
        .ok_or_else(|| error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"))?;
    holidays::delete_override(&state, &Caller::from(&user), date)
        .await
        .map_err(|error| failure(&user, error))?;
    Ok(Redirect::to(&format!("/admin/holidays/?year={}&saved=1", date.year())).into_response())
}

/// Texts of this page and of the other scheduling features (issue #14).
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "admin.field.buffer_before_minutes" => ("Puffer vorher (Min.)", "Buffer before (min)"),
        "admin.field.buffer_after_minutes" => ("Puffer nachher (Min.)", "Buffer after (min)"),
        "admin.help.buffer" => (
            "0–120 Minuten, in denen Arzt und Räume vor bzw. nach dem Termin belegt bleiben (z. B. Reinigung, Dokumentation).",
            "0–120 minutes during which doctor and rooms stay busy before or after the appointment (e.g. cleaning, documentation).",
        ),
        "admin.holidays.title" => ("Feiertage & Schließtage", "Holidays & closed days"),
        "admin.holidays.description" => (
            "Bundesland wählen; Feiertage sind geschlossen, einzelne Tage öffnen oder schließen.",
            "Choose the state; holidays are closed, open or close single days.",
        ),
        "admin.holidays.intro" => (
            "An Feiertagen des gewählten Bundeslands und an geschlossenen Tagen schlägt der Kalender keine Termine vor und nimmt keine Buchungen an (außer mit begründeter Ausnahme).",
            "On holidays of the chosen state and on closed days the calendar suggests no slots and takes no bookings (except with a justified override).",
        ),
        "admin.holidays.region" => ("Bundesland", "State"),
        "admin.holidays.region.none" => ("Kein Feiertagskalender", "No holiday calendar"),
        "admin.holidays.region.save" => ("Bundesland speichern", "Save state"),
        "admin.holidays.year" => ("Jahr", "Year"),
        "admin.holidays.prev" => ("Vorjahr", "Previous year"),
        "admin.holidays.next" => ("Folgejahr", "Next year"),
        "admin.holidays.override" => ("Einzelnen Tag festlegen", "Set a single day"),
        "admin.holidays.date" => ("Datum", "Date"),
        "admin.holidays.state" => ("Status", "Status"),
        "admin.holidays.label" => ("Bezeichnung (optional)", "Label (optional)"),
        "admin.holidays.name" => ("Feiertag / Bezeichnung", "Holiday / label"),
        "admin.holidays.closed" => ("geschlossen", "closed"),
        "admin.holidays.open" => ("geöffnet", "open"),
        "admin.holidays.closed_day" => ("Praxis geschlossen", "Practice closed"),
        "admin.holidays.overridden" => ("Ausnahme", "Override"),
        "admin.holidays.save" => ("Tag speichern", "Save day"),
        "admin.holidays.remove" => ("Ausnahme entfernen", "Remove override"),
        "admin.holidays.empty" => (
            "Keine Feiertage und keine Ausnahmen in diesem Jahr.",
            "No holidays and no overrides in this year.",
        ),
        "admin.holidays.error.date" => (
            "Bitte ein gültiges Datum angeben.",
            "Please enter a valid date.",
        ),
        "admin.holidays.error.label" => (
            "Die Bezeichnung darf höchstens 100 Zeichen lang sein.",
            "The label must not exceed 100 characters.",
        ),
        _ => return None,
    })
}
