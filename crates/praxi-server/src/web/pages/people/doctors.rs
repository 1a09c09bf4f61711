//! `/doctors/` and `/doctors/{id}/`: the active doctors with their colour, weekly hours,
//! upcoming absences, today's and next appointments, and figures of a period (`#periodSelect`:
//! the last 7, 30 or 90 days ending today) computed from the stored appointments with the
//! KPI definitions of `praxi_domain::kpi`.
//!
//! Visibility follows the API's list decisions: a doctor sees their own appointments, hours
//! and absences only (the API filters those lists for doctors), so on a colleague's page they
//! see name and colour with a note instead. No "Dr." is forced onto names and no specialty is
//! invented (ui.md §8). The detail page names patients, so it writes the API's
//! `appointment_list` audit row (count and doctor id, no patient data).

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use praxi_domain::Role;
use praxi_domain::kpi::{
    AppointmentFact, AppointmentStatus, KpiClock, appointment_statuses, completion, no_shows,
    volume,
};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area};
use praxi_domain::scheduling::Interval;
use praxi_store::StoreError;
use praxi_store::absences::AbsenceRecord;
use praxi_store::appointments::AppointmentFilter;
use praxi_store::hours::DoctorHoursRecord;
use praxi_store::users::UserRecord;
use serde_json::json;

use super::{
    Scope, appointment_status_class, appointment_status_key, colour_css, failure, fmt_date,
    fmt_datetime, fmt_percent, fmt_time, not_found, swatch_class,
};
use crate::state::AppState;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// The periods of `#periodSelect`, in days.
const PERIODS: [u32; 3] = [7, 30, 90];
const DEFAULT_PERIOD: u32 = 30;
/// How far ahead absences are listed, in days.
const ABSENCE_HORIZON_DAYS: u64 = 90;
/// How far ahead the detail page lists appointments, in days (today included).
const APPOINTMENT_HORIZON_DAYS: i64 = 14;
/// The most appointments the detail page lists.
const APPOINTMENT_ROWS: usize = 40;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/doctors/", get(list))
        .route("/doctors/{id}/", get(detail))
}

pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "doctors.title" => ("Ärztinnen und Ärzte", "Doctors"),
        "doctors.period" => ("Zeitraum", "Period"),
        "doctors.period.7" => ("Letzte 7 Tage", "Last 7 days"),
        "doctors.period.30" => ("Letzte 30 Tage", "Last 30 days"),
        "doctors.period.90" => ("Letzte 90 Tage", "Last 90 days"),
        "doctors.period.show" => ("Anzeigen", "Show"),
        "doctors.active" => ("Aktive Ärztinnen und Ärzte", "Active doctors"),
        "doctors.caption" => (
            "Ärztinnen und Ärzte mit Zahlen des Zeitraums",
            "Doctors with the figures of the period",
        ),
        "doctors.col.name" => ("Name", "Name"),
        "doctors.col.hours" => ("Sprechzeiten pro Woche", "Weekly hours"),
        "doctors.col.absence" => ("Nächste Abwesenheit", "Next absence"),
        "doctors.col.today" => ("Termine heute", "Today"),
        "doctors.col.next" => ("Nächster Termin", "Next appointment"),
        "doctors.col.appointments" => ("Termine im Zeitraum", "Appointments in period"),
        "doctors.col.completion" => ("Erledigt-Quote", "Completion rate"),
        "doctors.col.no_show" => ("No-Show-Quote", "No-show rate"),
        "doctors.none_active" => ("Keine aktiven Ärztinnen und Ärzte.", "No active doctors."),
        "doctors.hours_unit" => ("Std.", "h"),
        "doctors.own_only" => (
            "Termine, Sprechzeiten und Abwesenheiten sehen Sie nur für sich selbst.",
            "You see appointments, hours and absences for yourself only.",
        ),
        "doctors.hidden" => (
            "Termine, Sprechzeiten und Abwesenheiten anderer Ärztinnen und Ärzte sind für Ihre Rolle nicht sichtbar.",
            "Appointments, hours and absences of other doctors are not visible for your role.",
        ),
        "doctors.fig.appointments" => ("Termine im Zeitraum", "Appointments in period"),
        "doctors.fig.held" => ("davon nicht abgesagt", "not cancelled"),
        "doctors.fig.completed" => ("Erledigt", "Completed"),
        "doctors.fig.completion_rate" => ("Erledigt-Quote", "Completion rate"),
        "doctors.fig.no_shows" => ("Nicht erschienen", "No-shows"),
        "doctors.fig.no_show_rate" => ("No-Show-Quote", "No-show rate"),
        "doctors.fig.cancelled" => ("Abgesagt", "Cancelled"),
        "doctors.fig.of_past" => (
            "von vergangenen, nicht abgesagten Terminen",
            "of past appointments not cancelled",
        ),
        "doctors.fig.note" => (
            "Berechnet aus den gespeicherten Terminen, die im Zeitraum beginnen. Quoten beziehen sich auf vergangene, nicht abgesagte Termine; als nicht erschienen zählen markierte Termine und vergangene Termine, die noch geplant oder bestätigt sind.",
            "Computed from the stored appointments starting in the period. Rates refer to past appointments that were not cancelled; no-shows are flagged appointments and past appointments still scheduled or confirmed.",
        ),
        "doctors.statuses" => ("Termine nach Status", "Appointments by status"),
        "doctors.col.status" => ("Status", "Status"),
        "doctors.col.count" => ("Anzahl", "Count"),
        "doctors.back" => ("Zur Übersicht", "Back to the overview"),
        "doctors.contact" => ("E-Mail", "E-mail"),
        "doctors.colour" => ("Kalenderfarbe", "Calendar colour"),
        "doctors.week" => ("Wochenplan", "Weekly schedule"),
        "doctors.col.day" => ("Tag", "Day"),
        "doctors.col.windows" => ("Sprechzeiten", "Hours"),
        "doctors.free" => ("frei", "off"),
        "doctors.week_total" => ("Summe pro Woche", "Total per week"),
        "doctors.absences" => ("Abwesenheiten (nächste 90 Tage)", "Absences (next 90 days)"),
        "doctors.col.from" => ("Von", "From"),
        "doctors.col.to" => ("Bis", "To"),
        "doctors.col.reason" => ("Grund", "Reason"),
        "doctors.upcoming" => (
            "Heutige und nächste Termine (14 Tage)",
            "Today's and next appointments (14 days)",
        ),
        "doctors.col.when" => ("Zeit", "Time"),
        "doctors.col.patient" => ("Patient", "Patient"),
        "doctors.col.type" => ("Terminart", "Type"),
        "doctors.more" => (
            "Weitere Termine im Kalender.",
            "More appointments in the calendar.",
        ),
        "doctors.calendar" => ("Im Kalender öffnen", "Open in the calendar"),
        "people.wd_short.0" => ("Mo", "Mon"),
        "people.wd_short.1" => ("Di", "Tue"),
        "people.wd_short.2" => ("Mi", "Wed"),
        "people.wd_short.3" => ("Do", "Thu"),
        "people.wd_short.4" => ("Fr", "Fri"),
        "people.wd_short.5" => ("Sa", "Sat"),
        "people.wd_short.6" => ("So", "Sun"),
        _ => return None,
    })
}

// ---- pure parts ---------------------------------------------------------------------------

/// `?days=`: one of [`PERIODS`], else [`DEFAULT_PERIOD`].
fn period_days(raw: Option<&str>) -> u32 {
    raw.and_then(|text| text.trim().parse::<u32>().ok())
        .filter(|days| PERIODS.contains(days))
        .unwrap_or(DEFAULT_PERIOD)
}

/// The figures of one doctor (or the practice) for a period.
#[derive(Debug, Clone, Default, PartialEq)]
struct PeriodFigures {
    /// Appointments starting in the window, every status.
    total: u64,
    /// …of which not cancelled.
    held: u64,
    cancelled: u64,
    completed: u64,
    /// Past and not cancelled (the population of the rates).
    past: u64,
    no_shows: u64,
    completion_rate: Option<f64>,
    no_show_rate: Option<f64>,
    /// Not cancelled, starting today.
    today: u64,
    /// Count per status, in the schema's order.
    statuses: Vec<(AppointmentStatus, u64)>,
}

/// The figures of `facts` in `window` at `as_of` (`today` = the practice-zone day).
fn period_figures(
    facts: &[AppointmentFact],
    window: &Interval,
    today: &Interval,
    as_of: DateTime<Utc>,
) -> PeriodFigures {
    let statuses = appointment_statuses(facts, window);
    let count = |wanted: AppointmentStatus| {
        statuses
            .iter()
            .find(|(status, _)| *status == wanted)
            .map_or(0, |(_, count)| *count)
    };
    let shows = no_shows(facts, window, as_of);
    let done = completion(facts, window, as_of);
    PeriodFigures {
        total: statuses.iter().map(|(_, count)| count).sum(),
        held: volume(facts, window),
        cancelled: count(AppointmentStatus::Cancelled),
        completed: count(AppointmentStatus::Completed),
        past: shows.total,
        no_shows: shows.count(),
        completion_rate: done.rate(),
        no_show_rate: shows.rate(),
        today: volume(facts, today),
        statuses: statuses.to_vec(),
    }
}

/// Active windows per weekday (Monday = 0), in start order, and the weekly total.
fn week_plan(hours: &[&DoctorHoursRecord]) -> ([Vec<(NaiveTime, NaiveTime)>; 7], TimeDelta) {
    let mut days: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
    let mut total = TimeDelta::zero();
    for record in hours {
        let window = &record.fields.window;
        let Some(day) = usize::try_from(window.weekday)
            .ok()
            .and_then(|day| days.get_mut(day))
        else {
            continue;
        };
        if !window.active || window.end_time <= window.start_time {
            continue;
        }
        day.push((window.start_time, window.end_time));
        total += window.end_time - window.start_time;
    }
    for day in &mut days {
        day.sort();
    }
    (days, total)
}

/// Hours as `38,5` (German) or `38.5` (English); whole hours without decimals.
fn fmt_hours(lang: crate::web::i18n::Lang, total: TimeDelta) -> String {
    let minutes = total.num_minutes();
    let text = if minutes % 60 == 0 {
        (minutes / 60).to_string()
    } else {
        format!("{:.1}", minutes as f64 / 60.0)
    };
    match lang {
        crate::web::i18n::Lang::De => text.replace('.', ","),
        crate::web::i18n::Lang::En => text,
    }
}

// ---- shared view parts --------------------------------------------------------------------

struct PeriodOption {
    value: u32,
    label: String,
    selected: bool,
}

fn period_options(chrome: &Chrome, days: u32) -> Vec<PeriodOption> {
    PERIODS
        .iter()
        .map(|value| PeriodOption {
            value: *value,
            label: chrome.t(&format!("doctors.period.{value}")),
            selected: *value == days,
        })
        .collect()
}

/// The figures as text.
struct FigureText {
    total: u64,
    held: u64,
    cancelled: u64,
    completed: u64,
    past: u64,
    no_shows: u64,
    completion_rate: String,
    no_show_rate: String,
    today: u64,
    statuses: Vec<(String, u64)>,
}

impl FigureText {
    fn new(lang: crate::web::i18n::Lang, figures: &PeriodFigures) -> FigureText {
        FigureText {
            total: figures.total,
            held: figures.held,
            cancelled: figures.cancelled,
            completed: figures.completed,
            past: figures.past,
            no_shows: figures.no_shows,
            completion_rate: fmt_percent(lang, figures.completion_rate),
            no_show_rate: fmt_percent(lang, figures.no_show_rate),
            today: figures.today,
            statuses: figures
                .statuses
                .iter()
                .map(|(status, count)| (lang.t(appointment_status_key(*status)).to_owned(), *count))
                .collect(),
        }
    }
}

/// The clock of the figures: the window of the last `days` local days ending today, and today.
fn period_window(
    state: &AppState,
    days: u32,
) -> Result<(Interval, Interval, DateTime<Utc>), StoreError> {
    let clock = KpiClock::new(state.tz(), state.now(), None)
        .map_err(|error| StoreError::Db(error.to_string()))?;
    let window = clock
        .last_days(days)
        .map_err(|error| StoreError::Db(error.to_string()))?;
    Ok((window, clock.today, clock.as_of))
}

fn range_text(lang: crate::web::i18n::Lang, window: &Interval, tz: chrono_tz::Tz) -> String {
    let first = window.start().with_timezone(&tz).date_naive();
    let last = (window.end() - TimeDelta::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    format!("{} – {}", fmt_date(lang, first), fmt_date(lang, last))
}

fn absence_text(lang: crate::web::i18n::Lang, absence: &AbsenceRecord) -> String {
    let fields = &absence.fields;
    if fields.start_date == fields.end_date {
        fmt_date(lang, fields.start_date)
    } else {
        format!(
            "{} – {}",
            fmt_date(lang, fields.start_date),
            fmt_date(lang, fields.end_date)
        )
    }
}

fn is_doctor(user: &UserRecord) -> bool {
    user.is_active
        && user
            .role
            .as_ref()
            .is_some_and(|role| role.name == Role::Doctor.name())
}

// ---- list ---------------------------------------------------------------------------------

struct DoctorRow {
    id: i64,
    name: String,
    swatch: Option<String>,
    /// `None` = not visible for this role.
    hours: Option<String>,
    absence: Option<String>,
    next: Option<String>,
    figures: Option<FigureText>,
}

#[derive(Template)]
#[template(path = "doctors/list.html")]
struct ListPage {
    chrome: Chrome,
    /// Where `#periodForm` submits.
    period_action: String,
    days: u32,
    periods: Vec<PeriodOption>,
    range: String,
    active: usize,
    /// Over the visible appointments.
    summary: Option<FigureText>,
    own_only: bool,
    rows: Vec<DoctorRow>,
}

async fn list(State(state): State<AppState>, user: WebUser, RawQuery(query): RawQuery) -> Response {
    if let Err(response) = user.require(Area::Doctors, Action::List) {
        return response;
    }
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let days = period_days(
        pairs
            .iter()
            .find(|(key, _)| key == "days")
            .map(|(_, value)| value.as_str()),
    );
    match list_page(&state, &user, days).await {
        Ok(page) => render(&page, &page.chrome.nonce),
        Err(error) => failure(&user, error),
    }
}

async fn list_page(state: &AppState, user: &WebUser, days: u32) -> Result<ListPage, StoreError> {
    let lang = user.lang;
    let tz = state.tz();
    let today = state.today();
    let (window, today_window, as_of) = period_window(state, days)?;
    let appointment_scope = Scope::of(user, Area::Appointments);
    let hours_scope = Scope::of(user, Area::DoctorHours);
    let absence_scope = Scope::of(user, Area::DoctorAbsences);

    let doctors = state.store.list_doctors().await?;
    let hours = match hours_scope {
        Scope::Hidden => Vec::new(),
        scope => state.store.active_doctor_hours(scope.filter()).await?,
    };
    let until = today
        .checked_add_days(chrono::Days::new(ABSENCE_HORIZON_DAYS))
        .unwrap_or(today);
    let absences = match absence_scope {
        Scope::Hidden => Vec::new(),
        scope => {
            state
                .store
                .upcoming_absences(today, until, scope.filter())
                .await?
        }
    };
    let (facts, next) = match appointment_scope {
        Scope::Hidden => (Vec::new(), Default::default()),
        scope => (
            state
                .store
                .appointment_facts_starting(&window, scope.filter())
                .await?,
            state
                .store
                .next_doctor_appointments(state.now(), scope.filter())
                .await?,
        ),
    };

    let mut chrome = Chrome::new(user, "nav.doctors", "doctors.title");
    chrome.css = colour_css(doctors.iter().map(|doctor| doctor.calendar_color.as_str()));
    let rows = doctors
        .iter()
        .map(|doctor| {
            let own_hours: Vec<&DoctorHoursRecord> = hours
                .iter()
                .filter(|record| record.fields.doctor_id == doctor.id)
                .collect();
            let (plan, total) = week_plan(&own_hours);
            let working_days: Vec<String> = plan
                .iter()
                .enumerate()
                .filter(|(_, windows)| !windows.is_empty())
                .map(|(day, _)| chrome.t(&format!("people.wd_short.{day}")))
                .collect();
            let hours_text = if working_days.is_empty() {
                "–".to_owned()
            } else {
                format!(
                    "{} {} ({})",
                    fmt_hours(lang, total),
                    chrome.t("doctors.hours_unit"),
                    working_days.join(", ")
                )
            };
            let doctor_facts: Vec<AppointmentFact> = facts
                .iter()
                .filter(|fact| fact.doctor == doctor.id)
                .cloned()
                .collect();
            DoctorRow {
                id: doctor.id,
                name: doctor.display_name(),
                swatch: swatch_class(&doctor.calendar_color),
                hours: hours_scope.shows(doctor.id).then_some(hours_text),
                absence: absence_scope.shows(doctor.id).then(|| {
                    absences
                        .iter()
                        .find(|absence| absence.fields.doctor_id == doctor.id)
                        .map_or_else(|| "–".to_owned(), |absence| absence_text(lang, absence))
                }),
                next: appointment_scope.shows(doctor.id).then(|| {
                    next.get(&doctor.id)
                        .map_or_else(|| "–".to_owned(), |start| fmt_datetime(lang, *start, tz))
                }),
                figures: appointment_scope.shows(doctor.id).then(|| {
                    FigureText::new(
                        lang,
                        &period_figures(&doctor_facts, &window, &today_window, as_of),
                    )
                }),
            }
        })
        .collect();
    let summary = (appointment_scope != Scope::Hidden)
        .then(|| FigureText::new(lang, &period_figures(&facts, &window, &today_window, as_of)));
    Ok(ListPage {
        period_action: "/doctors/".to_owned(),
        days,
        periods: period_options(&chrome, days),
        range: range_text(lang, &window, tz),
        active: doctors.len(),
        summary,
        own_only: [appointment_scope, hours_scope, absence_scope]
            .iter()
            .any(|scope| matches!(scope, Scope::Own(_))),
        rows,
        chrome,
    })
}

// ---- detail -------------------------------------------------------------------------------

struct DayRow {
    day: String,
    windows: String,
}

struct AbsenceRow {
    id: i64,
    from: String,
    to: String,
    reason: String,
}

struct AppointmentRow {
    id: i32,
    when: String,
    /// `(id, name)`, when the viewer may read patients.
    patient: Option<(i32, String)>,
    type_name: String,
    status: String,
    status_class: &'static str,
    no_show: bool,
}

struct DoctorHead {
    id: i64,
    email: String,
    colour: String,
    swatch: Option<String>,
}

#[derive(Template)]
#[template(path = "doctors/detail.html")]
struct DetailPage {
    chrome: Chrome,
    /// Where `#periodForm` submits.
    period_action: String,
    days: u32,
    periods: Vec<PeriodOption>,
    range: String,
    doctor: DoctorHead,
    /// `None` = not visible for this role (a colleague's page for a doctor).
    week: Option<(Vec<DayRow>, String)>,
    absences: Option<Vec<AbsenceRow>>,
    figures: Option<FigureText>,
    appointments: Option<Vec<AppointmentRow>>,
    more: bool,
    hidden: bool,
    open_appointments: bool,
}

async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = user.require(Area::Doctors, Action::Read) {
        return response;
    }
    let Some(id) = raw.parse::<i64>().ok().filter(|id| *id > 0) else {
        return not_found(&user);
    };
    let doctor = match state.store.user_by_id(id).await {
        Ok(Some(doctor)) if is_doctor(&doctor) => doctor,
        Ok(_) => return not_found(&user),
        Err(error) => return failure(&user, error),
    };
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let days = period_days(
        pairs
            .iter()
            .find(|(key, _)| key == "days")
            .map(|(_, value)| value.as_str()),
    );
    match detail_page(&state, &user, &doctor, days).await {
        Ok(page) => render(&page, &page.chrome.nonce),
        Err(error) => failure(&user, error),
    }
}

async fn detail_page(
    state: &AppState,
    user: &WebUser,
    doctor: &UserRecord,
    days: u32,
) -> Result<DetailPage, StoreError> {
    let lang = user.lang;
    let tz = state.tz();
    let today = state.today();
    let (window, today_window, as_of) = period_window(state, days)?;
    let appointment_scope = Scope::of(user, Area::Appointments);
    let hours_scope = Scope::of(user, Area::DoctorHours);
    let absence_scope = Scope::of(user, Area::DoctorAbsences);
    let t = |key: &str| lang.t(key).to_owned();

    let week = if hours_scope.shows(doctor.id) {
        let hours = state.store.active_doctor_hours(Some(doctor.id)).await?;
        let refs: Vec<&DoctorHoursRecord> = hours.iter().collect();
        let (plan, total) = week_plan(&refs);
        let rows = plan
            .iter()
            .enumerate()
            .map(|(day, windows)| DayRow {
                day: t(&format!("people.weekday.{day}")),
                windows: if windows.is_empty() {
                    t("doctors.free")
                } else {
                    windows
                        .iter()
                        .map(|(start, end)| format!("{}–{}", fmt_time(*start), fmt_time(*end)))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
            .collect();
        Some((
            rows,
            format!("{} {}", fmt_hours(lang, total), t("doctors.hours_unit")),
        ))
    } else {
        None
    };

    let absences = if absence_scope.shows(doctor.id) {
        let until = today
            .checked_add_days(chrono::Days::new(ABSENCE_HORIZON_DAYS))
            .unwrap_or(today);
        let rows = state
            .store
            .upcoming_absences(today, until, Some(doctor.id))
            .await?
            .iter()
            .map(|absence| AbsenceRow {
                id: absence.id,
                from: fmt_date(lang, absence.fields.start_date),
                to: fmt_date(lang, absence.fields.end_date),
                reason: absence.fields.reason.clone().unwrap_or_default(),
            })
            .collect();
        Some(rows)
    } else {
        None
    };

    let (figures, appointments, more) = if appointment_scope.shows(doctor.id) {
        let facts = state
            .store
            .appointment_facts_starting(&window, Some(doctor.id))
            .await?;
        let figures = FigureText::new(lang, &period_figures(&facts, &window, &today_window, as_of));
        let horizon = Interval::new(
            today_window.start(),
            today_window.start() + TimeDelta::days(APPOINTMENT_HORIZON_DAYS),
        )
        .unwrap_or(today_window);
        let records = state
            .store
            .appointments(&AppointmentFilter {
                period: Some(horizon),
                doctor_id: Some(doctor.id),
                ..Default::default()
            })
            .await?;
        let show_patients = user.can(Area::Patients, Action::Read);
        // The list names patients: audited like `GET /api/appointments/` (count, no names),
        // with the patients of the rows shown as subjects.
        let shown: Vec<i32> = if show_patients {
            records
                .iter()
                .take(APPOINTMENT_ROWS)
                .map(|record| record.patient_id)
                .collect()
        } else {
            Vec::new()
        };
        state
            .store
            .record_audit(
                &user
                    .audit(
                        "appointment_list",
                        None,
                        Some(json!({"count": records.len(), "doctor_id": doctor.id})),
                    )
                    .with_subjects(shown),
            )
            .await?;
        let more = records.len() > APPOINTMENT_ROWS;
        let rows = records
            .iter()
            .take(APPOINTMENT_ROWS)
            .map(|record| AppointmentRow {
                id: record.id,
                when: format!(
                    "{}–{}",
                    fmt_datetime(lang, record.start_time, tz),
                    record.end_time.with_timezone(&tz).format("%H:%M")
                ),
                patient: show_patients.then(|| {
                    (
                        record.patient_id,
                        display_name(
                            record.patient_id,
                            &record.patient_first_name,
                            &record.patient_last_name,
                            None,
                        ),
                    )
                }),
                type_name: record
                    .appointment_type
                    .as_ref()
                    .map(|kind| kind.name.clone())
                    .unwrap_or_else(|| "–".to_owned()),
                status: t(appointment_status_key(record.status)),
                status_class: appointment_status_class(record.status),
                no_show: record.is_no_show,
            })
            .collect();
        (Some(figures), Some(rows), more)
    } else {
        (None, None, false)
    };

    let mut chrome = Chrome::new(user, "nav.doctors", "doctors.title");
    chrome.title = doctor.display_name();
    chrome.css = colour_css([doctor.calendar_color.as_str()]);
    let hidden = week.is_none() || absences.is_none() || figures.is_none();
    Ok(DetailPage {
        period_action: format!("/doctors/{}/", doctor.id),
        days,
        periods: period_options(&chrome, days),
        range: range_text(lang, &window, tz),
        doctor: DoctorHead {
            id: doctor.id,
            email: doctor.email.clone().unwrap_or_default(),
            colour: doctor.calendar_color.clone(),
            swatch: swatch_class(&doctor.calendar_color),
        },
        week,
        absences,
        figures,
        appointments,
        more,
        hidden,
        open_appointments: user.can(Area::Appointments, Action::Read),
        chrome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use praxi_domain::hours::{DoctorHoursFields, HoursWindow};

    #[test]
    fn only_the_offered_periods_are_accepted() {
        for (raw, expected) in [
            (None, 30),
            (Some("7"), 7),
            (Some("30"), 30),
            (Some(" 90 "), 90),
            (Some("14"), 30),
            (Some("-7"), 30),
            (Some("x"), 30),
            (Some("99999999999"), 30),
        ] {
            assert_eq!(period_days(raw), expected, "{raw:?}");
        }
    }

    fn hours(weekday: i32, from: (u32, u32), to: (u32, u32), active: bool) -> DoctorHoursRecord {
        let time = |(h, m): (u32, u32)| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        DoctorHoursRecord {
            id: 1,
            fields: DoctorHoursFields {
                doctor_id: 1,
                window: HoursWindow {
                    weekday,
                    start_time: time(from),
                    end_time: time(to),
                    active,
                },
            },
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_week_plan_keeps_every_window_and_sums_active_time() {
        let rows = [
            hours(0, (14, 0), (18, 0), true),
            hours(0, (8, 0), (12, 0), true),
            hours(2, (8, 0), (12, 30), true),
            hours(3, (8, 0), (12, 0), false),
            hours(9, (8, 0), (12, 0), true),
        ];
        let refs: Vec<&DoctorHoursRecord> = rows.iter().collect();
        let (plan, total) = week_plan(&refs);
        let time = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(
            plan[0],
            vec![(time(8, 0), time(12, 0)), (time(14, 0), time(18, 0))]
        );
        assert_eq!(plan[2].len(), 1);
        assert!(plan[3].is_empty(), "inactive windows are not working time");
        assert_eq!(total, TimeDelta::minutes(8 * 60 + 270));
        assert_eq!(fmt_hours(crate::web::i18n::Lang::De, total), "12,5");
        assert_eq!(
            fmt_hours(crate::web::i18n::Lang::En, TimeDelta::hours(40)),
            "40"
        );
    }

    #[test]
    fn period_figures_use_the_kpi_definitions() {
        use AppointmentStatus::*;
        let at = |day: u32, hour: u32| Utc.with_ymd_and_hms(2030, 1, day, hour, 0, 0).unwrap();
        let fact = |id: i32, day: u32, hour: u32, status: AppointmentStatus, no_show: bool| {
            AppointmentFact {
                id,
                doctor: 1,
                patient: 1,
                start: at(day, hour),
                end: at(day, hour) + TimeDelta::minutes(30),
                status,
                is_no_show: no_show,
                created_at: at(1, 0),
                updated_at: at(1, 0),
                resources: Vec::new(),
            }
        };
        let window = Interval::new(at(10, 0), at(17, 0)).unwrap();
        let today = Interval::new(at(16, 0), at(17, 0)).unwrap();
        let as_of = at(16, 12);
        let facts = [
            fact(1, 9, 9, Completed, false), // before the window
            fact(2, 10, 9, Completed, false),
            fact(3, 11, 9, Scheduled, true),  // flagged no-show
            fact(4, 12, 9, Confirmed, false), // still open after its end: no-show
            fact(5, 13, 9, Cancelled, false),
            fact(6, 16, 9, Completed, false),  // today
            fact(7, 16, 14, Scheduled, false), // today, not over yet
        ];
        let figures = period_figures(&facts, &window, &today, as_of);
        assert_eq!(figures.total, 6);
        assert_eq!(figures.held, 5);
        assert_eq!(figures.cancelled, 1);
        assert_eq!(figures.completed, 2);
        assert_eq!(figures.past, 4);
        assert_eq!(figures.no_shows, 2);
        assert_eq!(figures.no_show_rate, Some(50.0));
        assert_eq!(figures.completion_rate, Some(50.0));
        assert_eq!(figures.today, 2);
        assert_eq!(figures.statuses.iter().map(|(_, n)| n).sum::<u64>(), 6);
    }

    #[test]
    fn period_figures_without_rows_have_no_rates() {
        let at = Utc.with_ymd_and_hms(2030, 1, 10, 0, 0, 0).unwrap();
        let window = Interval::new(at, at + TimeDelta::days(7)).unwrap();
        let figures = period_figures(&[], &window, &window, at);
        assert_eq!(figures.total, 0);
        assert_eq!(figures.no_show_rate, None);
        assert_eq!(figures.completion_rate, None);
    }
}
