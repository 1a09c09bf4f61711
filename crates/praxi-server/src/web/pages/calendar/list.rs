//! `/appointments/`: the appointment list with filters (date range, doctor, status, patient)
//! and its CSV export `/appointments/export.csv` with the same filters (#15 item 6b).
//!
//! Both read through `usecases::appointment_list::list` (the policy row of
//! `GET /api/appointments/`: doctors see only their own; audited as `appointment_list` /
//! `appointment_export`). The CSV file is `;`-separated UTF-8 with a byte-order mark (what
//! German spreadsheet programs open directly), served as an attachment; a cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so no spreadsheet
//! runs it as a formula.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::appointments::AppointmentRecord;

use super::grid::Choice;
use super::{enc, fmt_date, fmt_time, internal, param, parse_date, status_key};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::appointment_list::{self, ListFilter, MAX_DAYS, Purpose};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// Days shown when no range is given (today and the next six days).
const DEFAULT_DAYS: i64 = 7;
/// Rows shown on the page (the export has all).
const PAGE_ROWS: usize = 500;

/// The filter as typed, and what was wrong with it.
struct Query {
    filter: ListFilter,
    /// The values for the form and the export link.
    from: String,
    to: String,
    doctor: String,
    status: String,
    patient: String,
    notices: Vec<&'static str>,
}

fn read_query(pairs: &[(String, String)], today: NaiveDate) -> Query {
    let mut notices = Vec::new();
    let mut date = |name: &str, default: NaiveDate| match param(pairs, name) {
        None => default,
        Some(text) => parse_date(&text).unwrap_or_else(|| {
            notices.push("appointments.notice.date");
            default
        }),
    };
    let from = date("from", today);
    let to = date("to", from + Duration::days(DEFAULT_DAYS - 1));
    let to = if to < from {
        notices.push("appointments.notice.order");
        from
    } else if (to - from).num_days() >= MAX_DAYS {
        notices.push("appointments.notice.range");
        from + Duration::days(MAX_DAYS - 1)
    } else {
        to
    };
    let doctor_id = match param(pairs, "doctor_id") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                notices.push("appointments.notice.doctor");
                None
            }
        },
    };
    let status = match param(pairs, "status") {
        None => None,
        Some(text) => AppointmentStatus::parse(&text).or_else(|| {
            notices.push("appointments.notice.status");
            None
        }),
    };
    let patient = param(pairs, "patient");
    Query {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        doctor: doctor_id.map(|id| id.to_string()).unwrap_or_default(),
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        patient: patient.clone().unwrap_or_default(),
        filter: ListFilter {
            from,
            to,
            doctor_id,
            status,
            patient,
        },
        notices,
    }
}

impl Query {
    /// The filter as a query string (the export link).
    fn query_string(&self) -> String {
        let mut query = format!("from={}&to={}", self.from, self.to);
        for (name, value) in [
            ("doctor_id", &self.doctor),
            ("status", &self.status),
            ("patient", &self.patient),
        ] {
            if !value.is_empty() {
                query.push_str(&format!("&{name}={}", enc(value)));
            }
        }
        query
    }
}

/// One row of the list.
struct Row {
    id: i32,
    date: String,
    time: String,
    patient: String,
    doctor: String,
    kind: String,
    status: String,
    resources: String,
}

fn doctor_name(record: &AppointmentRecord) -> String {
    let full = format!(
        "{} {}",
        record.doctor_first_name.trim(),
        record.doctor_last_name.trim()
    );
    if full.trim().is_empty() {
        record.doctor_username.clone()
    } else {
        full.trim().to_owned()
    }
}

fn status_text(lang: Lang, record: &AppointmentRecord) -> String {
    let mut text = lang.t(status_key(record.status)).to_owned();
    if record.is_no_show {
        text = format!("{text}, {}", lang.t("calendar.no_show"));
    }
    text
}

fn row(lang: Lang, tz: chrono_tz::Tz, record: &AppointmentRecord) -> Row {
    let start = record.start_time.with_timezone(&tz);
    let end = record.end_time.with_timezone(&tz);
    Row {
        id: record.id,
        date: fmt_date(start.date_naive()),
        time: format!("{}–{}", fmt_time(start.time()), fmt_time(end.time())),
        patient: format!(
            "{} – Nr. {}",
            display_name(
                record.patient_id,
                &record.patient_first_name,
                &record.patient_last_name,
                record.patient_birth_date
            ),
            record.patient_id
        ),
        doctor: doctor_name(record),
        kind: record
            .appointment_type
            .as_ref()
            .map_or_else(|| lang.t("calendar.no_type").to_owned(), |t| t.name.clone()),
        status: status_text(lang, record),
        resources: record
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[derive(Template)]
#[template(path = "calendar/list.html")]
struct ListPage {
    chrome: Chrome,
    notices: Vec<String>,
    from: String,
    to: String,
    patient: String,
    /// `None` for doctors (always their own list).
    doctors: Option<Vec<Choice>>,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    count: usize,
    truncated: bool,
    export_href: String,
}

/// The policy decision and the filter of a list request.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn request(
    user: &WebUser,
    query: Option<&str>,
    today: NaiveDate,
) -> Result<(Decision, Query), Response> {
    let decision = user.require(Area::Appointments, Action::List)?;
    let pairs = wire::url_pairs(query.unwrap_or(""));
    Ok((decision, read_query(&pairs, today)))
}

/// `GET /appointments/`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let (decision, query) = match request(&user, query.as_deref(), state.today()) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let chrome = Chrome::new(&user, "nav.appointments", "appointments.title");
    let lang = chrome.lang;
    let caller = Caller::from(&user);
    let records =
        match appointment_list::list(&state, &caller, decision, &query.filter, Purpose::Page).await
        {
            Ok(records) => records,
            Err(error) => return internal(lang, error),
        };
    let doctors = if decision == Decision::Filtered {
        None
    } else {
        let listed = match state.store.list_doctors().await {
            Ok(doctors) => doctors,
            Err(error) => return internal(lang, error),
        };
        let mut choices = vec![Choice {
            value: String::new(),
            label: chrome.t("appointments.all_doctors"),
            selected: query.doctor.is_empty(),
        }];
        choices.extend(listed.iter().map(|doctor| Choice {
            selected: query.doctor == doctor.id.to_string(),
            value: doctor.id.to_string(),
            label: doctor.display_name(),
        }));
        Some(choices)
    };
    let mut statuses = vec![Choice {
        value: String::new(),
        label: chrome.t("appointments.all_statuses"),
        selected: query.status.is_empty(),
    }];
    statuses.extend(AppointmentStatus::ALL.iter().map(|status| Choice {
        value: status.as_str().to_owned(),
        label: chrome.t(status_key(*status)),
        selected: query.status == status.as_str(),
    }));
    let tz = state.tz();
    let count = records.len();
    let rows = records
        .iter()
        .take(PAGE_ROWS)
        .map(|record| row(lang, tz, record))
        .collect();
    let page = ListPage {
        notices: query.notices.iter().map(|key| chrome.t(key)).collect(),
        from: query.from.clone(),
        to: query.to.clone(),
        patient: query.patient.clone(),
        doctors,
        statuses,
        rows,
        count,
        truncated: count > PAGE_ROWS,
        export_href: format!("/appointments/export.csv?{}", query.query_string()),
        chrome,
    };
    render(&page, &page.chrome.nonce)
}

/// A CSV cell: formula starts are neutralised with `'`, and the cell is quoted when it holds
/// the separator, a quote or a line break.
pub(crate) fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([';', ',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The CSV text of the rows (header in the page language, CRLF line ends).
fn csv(lang: Lang, tz: chrono_tz::Tz, records: &[AppointmentRecord]) -> String {
    let header = [
        "appointments.csv.id",
        "appointments.csv.date",
        "appointments.csv.start",
        "appointments.csv.end",
        "appointments.csv.patient_number",
        "appointments.csv.patient",
        "appointments.csv.doctor",
        "appointments.csv.type",
        "appointments.csv.status",
        "appointments.csv.resources",
        "appointments.csv.notes",
    ];
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| {
        let mut line = cells
            .iter()
            .map(|cell| csv_cell(cell))
            .collect::<Vec<_>>()
            .join(";");
        line.push_str("\r\n");
        line
    };
    out.push_str(&line(
        header.iter().map(|key| lang.t(key).to_owned()).collect(),
    ));
    for record in records {
        let start = record.start_time.with_timezone(&tz);
        let end = record.end_time.with_timezone(&tz);
        let name = format!(
            "{} {}",
            record.patient_first_name.trim(),
            record.patient_last_name.trim()
        );
        out.push_str(&line(vec![
            record.id.to_string(),
            fmt_date(start.date_naive()),
            fmt_time(start.time()),
            fmt_time(end.time()),
            record.patient_id.to_string(),
            name.trim().to_owned(),
            doctor_name(record),
            record
                .appointment_type
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            status_text(lang, record),
            record
                .resources
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            record.notes.clone().unwrap_or_default(),
        ]));
    }
    out
}

/// `GET /appointments/export.csv`: the same filters as the page, as a file.
pub(super) async fn export(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let (decision, query) = match request(&user, query.as_deref(), state.today()) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let caller = Caller::from(&user);
    let records =
        match appointment_list::list(&state, &caller, decision, &query.filter, Purpose::Export)
            .await
        {
            Ok(records) => records,
            Err(error) => return internal(user.lang, error),
        };
    let body = csv(user.lang, state.tz(), &records);
    let file = format!("termine-{}-{}.csv", query.from, query.to);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Texts of the appointment list.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "appointments.title" => ("Terminliste", "Appointment list"),
        "appointments.from" => ("Von", "From"),
        "appointments.to" => ("Bis", "To"),
        "appointments.doctor" => ("Ärztin / Arzt", "Doctor"),
        "appointments.status" => ("Status", "Status"),
        "appointments.patient" => ("Patient/in (Name oder Nr.)", "Patient (name or number)"),
        "appointments.all_doctors" => ("Alle Ärztinnen und Ärzte", "All doctors"),
        "appointments.all_statuses" => ("Alle", "All"),
        "appointments.filter" => ("Filtern", "Filter"),
        "appointments.export" => ("Als CSV exportieren", "Export as CSV"),
        "appointments.count" => ("Termine", "appointments"),
        "appointments.truncated" => (
            "Es werden die ersten 500 angezeigt; der CSV-Export enthält alle.",
            "The first 500 are shown; the CSV export contains all.",
        ),
        "appointments.empty" => (
            "Keine Termine für diese Auswahl.",
            "No appointments for this selection.",
        ),
        "appointments.own_only" => (
            "Es werden nur Ihre eigenen Termine gezeigt.",
            "Only your own appointments are shown.",
        ),
        "appointments.col.date" => ("Datum", "Date"),
        "appointments.col.time" => ("Zeit", "Time"),
        "appointments.col.patient" => ("Patient/in", "Patient"),
        "appointments.col.doctor" => ("Ärztin / Arzt", "Doctor"),
        "appointments.col.type" => ("Terminart", "Type"),
        "appointments.col.status" => ("Status", "Status"),
        "appointments.col.resources" => ("Räume / Geräte", "Rooms / devices"),
        "appointments.open" => ("Öffnen", "Open"),
        "appointments.notice.date" => (
            "Ungültiges Datum – der Standardzeitraum wird verwendet.",
            "Invalid date – the default range is used.",
        ),
        "appointments.notice.order" => (
            "Das Enddatum lag vor dem Startdatum – es wird nur der Starttag gezeigt.",
            "The end date was before the start date – only the start day is shown.",
        ),
        "appointments.notice.range" => (
            "Der Zeitraum wurde auf 366 Tage begrenzt.",
            "The range was limited to 366 days.",
        ),
        "appointments.notice.doctor" => (
            "Ungültige Ärztin / ungültiger Arzt – alle werden gezeigt.",
            "Invalid doctor – all are shown.",
        ),
        "appointments.notice.status" => (
            "Ungültiger Status – alle werden gezeigt.",
            "Invalid status – all are shown.",
        ),
        "appointments.csv.id" => ("Termin-Nr.", "Appointment no."),
        "appointments.csv.date" => ("Datum", "Date"),
        "appointments.csv.start" => ("Beginn", "Start"),
        "appointments.csv.end" => ("Ende", "End"),
        "appointments.csv.patient_number" => ("Patienten-Nr.", "Patient no."),
        "appointments.csv.patient" => ("Patient/in", "Patient"),
        "appointments.csv.doctor" => ("Ärztin / Arzt", "Doctor"),
        "appointments.csv.type" => ("Terminart", "Type"),
        "appointments.csv.status" => ("Status", "Status"),
        "appointments.csv.resources" => ("Räume / Geräte", "Rooms / devices"),
        "appointments.csv.notes" => ("Notizen", "Notes"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula_and_are_quoted_when_needed() {
        let cases = [
            ("Müller", "Müller"),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+49 123", "'+49 123"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("a;b", "\"a;b\""),
            ("zwei\nZeilen", "\"zwei\nZeilen\""),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(csv_cell(text), expected, "{text:?}");
        }
    }

    #[test]
    fn the_filter_defaults_to_a_week_and_caps_the_range() {
        let today = NaiveDate::from_ymd_opt(2030, 1, 14).unwrap();
        let pairs = wire::url_pairs("");
        let query = read_query(&pairs, today);
        assert_eq!(query.filter.from, today);
        assert_eq!(
            query.filter.to,
            NaiveDate::from_ymd_opt(2030, 1, 20).unwrap()
        );
        assert!(query.notices.is_empty());
        let pairs = wire::url_pairs("from=2030-01-01&to=2035-01-01&status=bogus&doctor_id=x");
        let query = read_query(&pairs, today);
        assert_eq!(
            (query.filter.to - query.filter.from).num_days(),
            MAX_DAYS - 1
        );
        assert_eq!(query.filter.status, None);
        assert_eq!(query.filter.doctor_id, None);
        assert_eq!(query.notices.len(), 3);
        let pairs = wire::url_pairs("from=2030-01-10&to=2030-01-01&patient=M%C3%BCller");
        let query = read_query(&pairs, today);
        assert_eq!(query.filter.to, query.filter.from);
        assert_eq!(query.filter.patient.as_deref(), Some("Müller"));
        assert!(query.query_string().contains("patient=M%C3%BCller"));
    }
}
