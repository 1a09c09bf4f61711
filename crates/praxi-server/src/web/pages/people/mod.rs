//! The patient and doctor pages (ui.md §3.1–§3.3, fixing §8): `/patients/` (server-side
//! search with pages, registration), `/patients/{id}/` (master data, appointments,
//! operations, patient-flow history, real figures), `/doctors/` and `/doctors/{id}/` (hours,
//! absences, appointments and figures of a period).
//!
//! Everything shown is stored data: no vitals, labs, risk scores or other invented values
//! (ui.md §8 "Fake / demo data"). Access follows the API's policy row by row: a doctor sees
//! only their own appointments, operations, patient flows, hours and absences (the API's
//! filtered lists); billing staff read everything a list shows but get no forms, and their
//! POSTs are refused. Every view of patient data writes the API's audit rows.

mod doctors;
mod patient_files;
mod patients;
mod rights;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use praxi_domain::FieldErrors;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::validation::is_hex_colour;
use praxi_store::StoreError;
use serde_json::{Map, Value};

use crate::body::{Fields, JsonBody};
use crate::state::AppState;
use crate::web::error_page;
use crate::web::i18n::Lang;
use crate::web::session::WebUser;

/// The routes of both pages, plus the original's dashboard URLs as permanent redirects.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(patients::router())
        .merge(patient_files::router())
        .merge(doctors::router())
        .merge(rights::router())
}

/// The texts of both pages (German, English).
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        // Shared
        "people.not_visible" => ("nicht sichtbar", "not visible"),
        "people.error.internal" => (
            "Die Seite konnte nicht geladen werden. Bitte später erneut versuchen.",
            "The page could not be loaded. Please try again later.",
        ),
        "people.form.errors" => (
            "Bitte die markierten Felder korrigieren.",
            "Please correct the marked fields.",
        ),
        "people.pages" => ("Seiten", "Pages"),
        "people.prev" => ("Zurück", "Previous"),
        "people.next" => ("Weiter", "Next"),
        "people.page_of" => ("Seite", "Page"),
        "people.flow.registered" => ("Angemeldet", "Registered"),
        "people.flow.waiting" => ("Wartend", "Waiting"),
        "people.flow.preparing" => ("Vorbereitung", "Preparing"),
        "people.flow.in_treatment" => ("In Behandlung", "In treatment"),
        "people.flow.post_treatment" => ("Nachbehandlung", "Post-treatment"),
        "people.flow.done" => ("Fertig", "Done"),
        "people.no_show" => ("Nicht erschienen", "No-show"),
        "people.open_past" => ("Nicht abgeschlossen", "Not closed"),
        "people.weekday.0" => ("Montag", "Monday"),
        "people.weekday.1" => ("Dienstag", "Tuesday"),
        "people.weekday.2" => ("Mittwoch", "Wednesday"),
        "people.weekday.3" => ("Donnerstag", "Thursday"),
        "people.weekday.4" => ("Freitag", "Friday"),
        "people.weekday.5" => ("Samstag", "Saturday"),
        "people.weekday.6" => ("Sonntag", "Sunday"),
        _ => {
            return patients::texts(key)
                .or_else(|| doctors::texts(key))
                .or_else(|| rights::texts(key))
                .or_else(|| patient_files::texts(key));
        }
    })
}

// ---- shared helpers -----------------------------------------------------------------------

/// The user whose rows a filtered list keeps (`Some(user)` for a doctor's own rows), or
/// `None` when the section is not visible at all, as the API's list endpoints decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every row.
    All,
    /// Only the rows of this user.
    Own(i64),
    /// Nothing (the policy denies the list).
    Hidden,
}

impl Scope {
    /// The scope of `resource`'s list for this user.
    pub(super) fn of(user: &WebUser, resource: Area) -> Scope {
        match user.actor.decide(resource, Action::List) {
            Decision::Allow => Scope::All,
            Decision::Filtered | Decision::OwnOnly(_) => Scope::Own(user.user.id),
            Decision::Deny(_) => Scope::Hidden,
        }
    }

    /// The user filter for a store read (`None` = every row).
    pub(super) fn filter(self) -> Option<i64> {
        match self {
            Scope::Own(id) => Some(id),
            Scope::All | Scope::Hidden => None,
        }
    }

    /// `true` when the rows of `owner` are visible.
    pub(super) fn shows(self, owner: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Own(id) => id == owner,
            Scope::Hidden => false,
        }
    }
}

/// A flash message (from a known `?ok=` key, never free text from the URL).
#[derive(Debug, Clone)]
pub(super) struct Flash {
    pub ok: bool,
    pub text: String,
}

/// A date as staff read it: `dd.mm.yyyy` in German, ISO in English.
pub(super) fn fmt_date(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::De => date.format("%d.%m.%Y").to_string(),
        Lang::En => date.format("%Y-%m-%d").to_string(),
    }
}

/// An instant as a local date and 24-hour time in the practice zone.
pub(super) fn fmt_datetime(lang: Lang, instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    format!(
        "{} {}",
        fmt_date(lang, local.date_naive()),
        local.format("%H:%M")
    )
}

/// A time of day, 24 h.
pub(super) fn fmt_time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// A percentage with one decimal in the language's notation, `–` without data.
pub(super) fn fmt_percent(lang: Lang, value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        Some(value) => match lang {
            Lang::De => format!("{} %", format!("{value:.1}").replace('.', ",")),
            Lang::En => format!("{value:.1} %"),
        },
    }
}

/// Full years between `birth` and `today` (`None` for a birth date after today).
pub(super) fn age(birth: NaiveDate, today: NaiveDate) -> Option<u32> {
    today.years_since(birth)
}

/// The CSS class of a validated `#RRGGBB` colour (`None` for anything else).
pub(super) fn swatch_class(colour: &str) -> Option<String> {
    is_hex_colour(colour).then(|| format!("sw-{}", colour[1..].to_ascii_lowercase()))
}

/// Page CSS for these colours; only validated hex digits reach the style sheet.
pub(super) fn colour_css<'a>(colours: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    for colour in colours {
        if let Some(class) = swatch_class(colour) {
            seen.insert((class, colour.to_ascii_lowercase()));
        }
    }
    seen.into_iter()
        .map(|(class, colour)| format!(".{class}{{background:{colour}}}"))
        .collect()
}

/// The text key of a stored appointment status.
pub(super) fn appointment_status_key(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Confirmed => "status.appointment.confirmed",
        AppointmentStatus::Cancelled => "status.appointment.cancelled",
        AppointmentStatus::Completed => "status.appointment.completed",
        AppointmentStatus::Scheduled => "status.appointment.scheduled",
    }
}

/// The CSS class of an appointment status in the people pages' tables.
pub(super) fn appointment_status_class(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Cancelled => "cancelled",
        AppointmentStatus::Completed => "ok",
        AppointmentStatus::Confirmed => "info",
        AppointmentStatus::Scheduled => "",
    }
}

/// A store failure that is not the user's fault: logged, answered with an error page.
pub(super) fn failure(user: &WebUser, error: StoreError) -> Response {
    match error {
        StoreError::NotFound(_) => error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"),
        error => {
            tracing::error!(%error, "patient/doctor page failed");
            error_page(
                user.lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "people.error.internal",
            )
        }
    }
}

/// The 404 page.
pub(super) fn not_found(user: &WebUser) -> Response {
    error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found")
}

// ---- forms --------------------------------------------------------------------------------

/// A submitted form (every value as sent; the last value of a repeated name wins).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub(super) struct FormInput(Vec<(String, String)>);

/// How a form value becomes a value of the API's JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum In {
    /// The text as typed (blank stays blank).
    Text,
    /// Blank means null (clears an optional value).
    Nullable,
    /// Blank means "not sent".
    Optional,
    /// A date: `dd.mm.yyyy` (typed without a date picker) is read as ISO; blank means null.
    Date,
}

impl FormInput {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value to show again after a failed submit.
    pub(super) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    pub(super) fn csrf(&self) -> &str {
        self.get("csrf_token").unwrap_or("")
    }

    /// The form as the API's JSON body, read by the API's field readers (same messages).
    pub(super) fn fields(&self, tz: Tz, spec: &[(&'static str, In)]) -> Fields {
        Fields::new(JsonBody(self.body(spec)), tz)
    }

    fn body(&self, spec: &[(&'static str, In)]) -> Map<String, Value> {
        let mut map = Map::new();
        for (name, how) in spec {
            let Some(text) = self.get(name) else { continue };
            let blank = text.trim().is_empty();
            let value = match how {
                In::Text => Some(Value::String(text.to_owned())),
                In::Nullable | In::Date if blank => Some(Value::Null),
                In::Optional if blank => None,
                In::Date => Some(Value::String(iso_date(text))),
                In::Nullable | In::Optional => Some(Value::String(text.to_owned())),
            };
            if let Some(value) = value {
                map.insert((*name).to_owned(), value);
            }
        }
        map
    }
}

/// `dd.mm.yyyy` → `yyyy-mm-dd`; anything else is passed on unchanged (and judged by the
/// API's date reader).
fn iso_date(text: &str) -> String {
    match NaiveDate::parse_from_str(text.trim(), "%d.%m.%Y") {
        Ok(date) => date.format("%Y-%m-%d").to_string(),
        Err(_) => text.to_owned(),
    }
}

/// One input of a form, with its value and messages.
#[derive(Debug, Clone)]
pub(super) struct FormField {
    pub name: &'static str,
    pub id: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub maxlength: Option<usize>,
    pub help: Option<String>,
    pub errors: Vec<String>,
}

impl FormField {
    /// `aria-describedby`: the help text and the messages, when present.
    pub(super) fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-help", self.id));
        }
        if !self.errors.is_empty() {
            ids.push(format!("{}-errors", self.id));
        }
        ids.join(" ")
    }
}

/// Attaches errors to the fields of their name; returns the messages no field took.
pub(super) fn attach_errors(
    lang: Lang,
    fields: &mut [FormField],
    errors: &FieldErrors,
) -> Vec<String> {
    let mut rest = Vec::new();
    for (name, messages) in errors.fields() {
        let texts = messages
            .iter()
            .map(|message| crate::web::problems::problem_text(lang, message));
        match fields.iter_mut().find(|field| field.name == name) {
            Some(field) => field.errors.extend(texts),
            None => rest.extend(texts),
        }
    }
    rest
}

// ---- pagination ---------------------------------------------------------------------------

/// One entry of the page links (`href = None` is a gap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageLink {
    pub label: String,
    pub href: Option<String>,
    pub current: bool,
}

/// Page links: first, last, the current page and two neighbours on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pager {
    pub page: u64,
    pub pages: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

impl Pager {
    /// `page` (1-based, already clamped) of `total` rows at `size` per page.
    pub(super) fn new(page: u64, total: u64, size: u64, href: impl Fn(u64) -> String) -> Pager {
        let pages = total.div_ceil(size.max(1)).max(1);
        let page = page.clamp(1, pages);
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=pages {
            let near = n + 2 >= page && n <= page + 2;
            if n == 1 || n == pages || near {
                if n == last_shown + 2 {
                    // A gap of one page: show the page itself.
                    let skipped = last_shown + 1;
                    links.push(PageLink {
                        label: skipped.to_string(),
                        href: Some(href(skipped)),
                        current: false,
                    });
                } else if n > last_shown + 2 {
                    links.push(PageLink {
                        label: "…".to_owned(),
                        href: None,
                        current: false,
                    });
                }
                links.push(PageLink {
                    label: n.to_string(),
                    href: Some(href(n)),
                    current: n == page,
                });
                last_shown = n;
            }
        }
        Pager {
            page,
            pages,
            prev: (page > 1).then(|| href(page - 1)),
            next: (page < pages).then(|| href(page + 1)),
            links,
        }
    }
}

/// The requested page number: a positive integer, else 1; beyond the last page, the last.
pub(super) fn page_number(raw: Option<&str>, total: u64, size: u64) -> u64 {
    let pages = total.div_ceil(size.max(1)).max(1);
    raw.and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1)
        .min(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pager: &Pager) -> Vec<&str> {
        pager.links.iter().map(|link| link.label.as_str()).collect()
    }

    #[test]
    fn pager_shows_first_last_neighbours_and_gaps() {
        for (page, total, expected) in [
            (1, 0, vec!["1"]),
            (1, 25, vec!["1"]),
            (1, 26, vec!["1", "2"]),
            (1, 250, vec!["1", "2", "3", "…", "10"]),
            (5, 250, vec!["1", "2", "3", "4", "5", "6", "7", "…", "10"]),
            (6, 250, vec!["1", "…", "4", "5", "6", "7", "8", "9", "10"]),
            (
                12,
                500,
                vec!["1", "…", "10", "11", "12", "13", "14", "…", "20"],
            ),
            (10, 250, vec!["1", "…", "8", "9", "10"]),
        ] {
            let pager = Pager::new(page, total, 25, |n| format!("?page={n}"));
            assert_eq!(labels(&pager), expected, "page {page} of {total}");
        }
        let pager = Pager::new(2, 60, 25, |n| format!("?page={n}"));
        assert_eq!(pager.prev.as_deref(), Some("?page=1"));
        assert_eq!(pager.next.as_deref(), Some("?page=3"));
        assert!(pager.links[1].current);
    }

    #[test]
    fn page_numbers_are_clamped() {
        for (raw, total, expected) in [
            (None, 100, 1),
            (Some("2"), 100, 2),
            (Some("0"), 100, 1),
            (Some("-3"), 100, 1),
            (Some("abc"), 100, 1),
            (Some("99"), 100, 4),
            (Some("3"), 0, 1),
        ] {
            assert_eq!(page_number(raw, total, 25), expected, "{raw:?} of {total}");
        }
    }

    #[test]
    fn form_values_become_the_api_body() {
        let input = FormInput(vec![
            ("first_name".into(), " Erika ".into()),
            ("phone".into(), " ".into()),
            ("birth_date".into(), "03.02.1980".into()),
            ("id".into(), "".into()),
            ("email".into(), "e@example.test".into()),
            ("csrf_token".into(), "x".into()),
        ]);
        let body = input.body(&[
            ("id", In::Optional),
            ("first_name", In::Text),
            ("phone", In::Nullable),
            ("birth_date", In::Date),
            ("email", In::Nullable),
            ("gender", In::Nullable),
        ]);
        assert_eq!(
            Value::Object(body),
            serde_json::json!({
                "first_name": " Erika ",
                "phone": null,
                "birth_date": "1980-02-03",
                "email": "e@example.test",
            })
        );
        assert_eq!(iso_date("2030-01-14"), "2030-01-14");
        assert_eq!(
            iso_date("31.02.2030"),
            "31.02.2030",
            "invalid dates reach the API reader unchanged"
        );
    }

    #[test]
    fn only_valid_colours_reach_the_style_sheet() {
        let css = colour_css(["#1E90FF", "red", "#12345", "}body{x", "#00aa00"]);
        assert_eq!(
            css,
            ".sw-00aa00{background:#00aa00}.sw-1e90ff{background:#1e90ff}"
        );
        assert_eq!(swatch_class("#ABCDEF").as_deref(), Some("sw-abcdef"));
        assert_eq!(swatch_class("red"), None);
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        let day = NaiveDate::from_ymd_opt(2030, 1, 14).unwrap();
        assert_eq!(fmt_date(Lang::De, day), "14.01.2030");
        assert_eq!(fmt_date(Lang::En, day), "2030-01-14");
        assert_eq!(fmt_percent(Lang::De, Some(12.5)), "12,5 %");
        assert_eq!(fmt_percent(Lang::En, Some(12.5)), "12.5 %");
        assert_eq!(fmt_percent(Lang::De, None), "–");
        let instant = DateTime::parse_from_rfc3339("2030-07-01T06:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            fmt_datetime(Lang::De, instant, chrono_tz::Europe::Berlin),
            "01.07.2030 08:30"
        );
        let born = NaiveDate::from_ymd_opt(1980, 1, 15).unwrap();
        assert_eq!(age(born, day), Some(49));
        assert_eq!(age(day, born), None);
    }

    #[test]
    fn every_generated_text_key_exists() {
        use praxi_domain::flow::FlowStatus;
        use praxi_domain::kpi::AppointmentStatus;
        use praxi_domain::operation::OperationStatus;
        let mut keys: Vec<String> = Vec::new();
        keys.extend(
            AppointmentStatus::ALL
                .iter()
                .map(|s| appointment_status_key(*s).to_owned()),
        );
        keys.extend(
            OperationStatus::ALL
                .iter()
                .map(|s| format!("status.operation.{}", s.as_str())),
        );
        keys.extend(
            FlowStatus::ALL
                .iter()
                .map(|s| format!("people.flow.{}", s.as_str())),
        );
        for day in 0..7 {
            keys.push(format!("people.weekday.{day}"));
            keys.push(format!("people.wd_short.{day}"));
        }
        for days in [7, 30, 90] {
            keys.push(format!("doctors.period.{days}"));
        }
        for name in [
            "id",
            "last_name",
            "first_name",
            "birth_date",
            "gender",
            "phone",
            "email",
        ] {
            keys.push(format!("patients.field.{name}"));
        }
        keys.push("patients.flash.created".to_owned());
        keys.push("patients.flash.saved".to_owned());
        for key in keys {
            // Through the whole catalogue (status names are shared by every page).
            let (de, en) = (Lang::De.t(&key), Lang::En.t(&key));
            assert!(de != key && en != key, "missing text {key}");
            assert!(!de.is_empty() && !en.is_empty(), "{key}");
        }
    }

    #[test]
    fn scopes_follow_the_list_decisions() {
        assert!(Scope::All.shows(5));
        assert!(Scope::Own(5).shows(5));
        assert!(!Scope::Own(5).shows(6));
        assert!(!Scope::Hidden.shows(5));
        assert_eq!(Scope::Own(5).filter(), Some(5));
        assert_eq!(Scope::All.filter(), None);
    }
}
