//! `/calendar/`: the appointment calendar per doctor and per room (day, week, month), the
//! booking and edit forms, and the printable day schedule.
//!
//! Everything here uses the API's policy, rules and store calls: the grid reads
//! `Store::calendar` (audited like `/api/calendar/…/`), bookings and moves go through
//! `usecases::appointments::{book, change}` exactly like `POST`/`PATCH /api/appointments/`, and the
//! print view is audited as an appointment list read.
//!
//! * `grid` — the calendar page (`GET /calendar/`).
//! * `form` — booking (`/calendar/new/`), edit/move, cancel and no-show.
//! * `print` — the day schedule (`GET /calendar/print/`).
//! * `layout` — pure rules: visible hours, lanes of overlapping cards, month grid, colours.

mod form;
mod grid;
mod layout;
mod list;
mod print;

pub(crate) use form::{FormErrors, patient_choices};
pub(crate) use grid::Choice;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Datelike, Months, NaiveDate, NaiveTime, Weekday};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;

use crate::state::AppState;
use crate::web::error_page;
use crate::web::i18n::Lang;
use crate::web::url_encode;

/// The calendar routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar/", get(grid::page))
        .route("/calendar/new/", get(form::new_form).post(form::create))
        .route(
            "/calendar/appointments/{id}/",
            get(form::edit_form).post(form::update),
        )
        .route("/calendar/appointments/{id}/cancel/", post(form::cancel))
        .route("/calendar/appointments/{id}/restore/", post(form::restore))
        .route("/calendar/appointments/{id}/no-show/", post(form::no_show))
        .route("/calendar/print/", get(print::page))
        .route("/appointments/", get(list::page))
        .route("/appointments/export.csv", get(list::export))
}

/// The three views of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum View {
    Day,
    #[default]
    Week,
    Month,
}

impl View {
    fn parse(text: &str) -> Option<View> {
        match text {
            "day" => Some(View::Day),
            "week" => Some(View::Week),
            "month" => Some(View::Month),
            _ => None,
        }
    }

    /// The query value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            View::Day => "day",
            View::Week => "week",
            View::Month => "month",
        }
    }
}

/// Whose calendar is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Scope {
    /// All doctors (a doctor's own calendar for doctors).
    #[default]
    All,
    Doctor(i64),
    Room(i64),
}

impl Scope {
    pub(crate) fn doctor(self) -> Option<i64> {
        match self {
            Scope::Doctor(id) => Some(id),
            _ => None,
        }
    }

    pub(crate) fn room(self) -> Option<i64> {
        match self {
            Scope::Room(id) => Some(id),
            _ => None,
        }
    }

    /// `&doctor_id=…` / `&room_id=…` (empty for all doctors).
    fn query_suffix(self) -> String {
        match self {
            Scope::All => String::new(),
            Scope::Doctor(id) => format!("&doctor_id={id}"),
            Scope::Room(id) => format!("&room_id={id}"),
        }
    }
}

/// A calendar address: view, date and scope. Every calendar link is built from one, so the
/// filters survive navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CalendarQuery {
    pub(crate) view: View,
    pub(crate) date: NaiveDate,
    pub(crate) scope: Scope,
}

/// What was wrong with a calendar query (shown as a notice; the defaults are used instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryNotice {
    View,
    Date,
    Doctor,
    Room,
}

impl QueryNotice {
    pub(crate) fn key(self) -> &'static str {
        match self {
            QueryNotice::View => "calendar.notice.view",
            QueryNotice::Date => "calendar.notice.date",
            QueryNotice::Doctor => "calendar.notice.doctor",
            QueryNotice::Room => "calendar.notice.room",
        }
    }
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

/// A positive id parameter: `Ok(None)` when absent, `Err(())` when not a positive integer.
pub(crate) fn id_param(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, ()> {
    match param(pairs, name) {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(()),
        },
    }
}

/// `YYYY-MM-DD` (what `<input type=date>` sends) or `dd.mm.yyyy` (typed by hand).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
}

/// `HH:MM` (24 h), also `HH:MM:SS` and `H.MM`.
pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .or_else(|_| NaiveTime::parse_from_str(text, "%H.%M"))
        .ok()
}

impl CalendarQuery {
    /// Reads `view`, `date`, `doctor_id` / `room_id` (a room wins over a doctor). Bad values
    /// fall back to the defaults (week, today, all doctors) and are reported.
    pub(crate) fn parse(
        pairs: &[(String, String)],
        today: NaiveDate,
    ) -> (CalendarQuery, Vec<QueryNotice>) {
        let mut notices = Vec::new();
        let view = match param(pairs, "view") {
            None => View::default(),
            Some(text) => View::parse(&text).unwrap_or_else(|| {
                notices.push(QueryNotice::View);
                View::default()
            }),
        };
        let date = match param(pairs, "date") {
            None => today,
            Some(text) => parse_date(&text).unwrap_or_else(|| {
                notices.push(QueryNotice::Date);
                today
            }),
        };
        let doctor = id_param(pairs, "doctor_id").unwrap_or_else(|()| {
            notices.push(QueryNotice::Doctor);
            None
        });
        let room = id_param(pairs, "room_id").unwrap_or_else(|()| {
            notices.push(QueryNotice::Room);
            None
        });
        let scope = match (room, doctor) {
            (Some(room), _) => Scope::Room(room),
            (None, Some(doctor)) => Scope::Doctor(doctor),
            (None, None) => Scope::All,
        };
        (CalendarQuery { view, date, scope }, notices)
    }

    /// `/calendar/?view=…&date=…[&doctor_id=…|&room_id=…]`.
    pub(crate) fn href(&self) -> String {
        format!(
            "/calendar/?view={}&date={}{}",
            self.view.as_str(),
            self.date.format("%Y-%m-%d"),
            self.scope.query_suffix()
        )
    }

    /// The same calendar at another date.
    pub(crate) fn at(&self, date: NaiveDate) -> CalendarQuery {
        CalendarQuery { date, ..*self }
    }

    /// The same calendar in another view.
    pub(crate) fn with_view(&self, view: View) -> CalendarQuery {
        CalendarQuery { view, ..*self }
    }

    /// The date one step back (`-1`) or forward (`1`) in the current view.
    pub(crate) fn step(&self, direction: i32) -> NaiveDate {
        let forward = direction >= 0;
        let days = |n: u64| {
            if forward {
                self.date.checked_add_days(chrono::Days::new(n))
            } else {
                self.date.checked_sub_days(chrono::Days::new(n))
            }
        };
        let moved = match self.view {
            View::Day => days(1),
            View::Week => days(7),
            View::Month => {
                if forward {
                    self.date.checked_add_months(Months::new(1))
                } else {
                    self.date.checked_sub_months(Months::new(1))
                }
            }
        };
        moved.unwrap_or(self.date)
    }
}

/// `dd.mm.yyyy`.
pub(crate) fn fmt_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// `HH:MM`.
pub(crate) fn fmt_time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// The short weekday name.
pub(crate) fn weekday_short(lang: Lang, weekday: Weekday) -> &'static str {
    let index = weekday.num_days_from_monday() as usize;
    match lang {
        Lang::De => ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"][index],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][index],
    }
}

/// `Mo 14.01.2030`.
pub(crate) fn fmt_day(lang: Lang, date: NaiveDate) -> String {
    format!("{} {}", weekday_short(lang, date.weekday()), fmt_date(date))
}

/// `Januar 2030`.
pub(crate) fn fmt_month(lang: Lang, date: NaiveDate) -> String {
    let index = date.month0() as usize;
    let name = match lang {
        Lang::De => [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ][index],
        Lang::En => [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ][index],
    };
    format!("{name} {}", date.year())
}

/// The label of an appointment status.
pub(crate) fn status_key(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Scheduled => "status.appointment.scheduled",
        AppointmentStatus::Confirmed => "status.appointment.confirmed",
        AppointmentStatus::Cancelled => "status.appointment.cancelled",
        AppointmentStatus::Completed => "status.appointment.completed",
    }
}

/// The label of an operation status.
pub(crate) fn operation_status_key(status: OperationStatus) -> &'static str {
    match status {
        OperationStatus::Planned => "status.operation.planned",
        OperationStatus::Confirmed => "status.operation.confirmed",
        OperationStatus::Running => "status.operation.running",
        OperationStatus::Done => "status.operation.done",
        OperationStatus::Cancelled => "status.operation.cancelled",
    }
}

/// Logs a store failure and answers with the error page (the cause is never shown).
pub(crate) fn internal(lang: Lang, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "calendar page failed");
    error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, "calendar.internal")
}

/// Percent-encodes a query value (also `/`).
pub(crate) fn enc(text: &str) -> String {
    url_encode(text).replace('/', "%2F")
}

/// Texts of the calendar pages.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "calendar.title" => ("Kalender", "Calendar"),
        "calendar.internal" => (
            "Der Kalender konnte nicht geladen werden. Bitte später erneut versuchen.",
            "The calendar could not be loaded. Please try again later.",
        ),
        "calendar.view.day" => ("Tag", "Day"),
        "calendar.view.week" => ("Woche", "Week"),
        "calendar.view.month" => ("Monat", "Month"),
        "calendar.views" => ("Ansicht", "View"),
        "calendar.prev" => ("Zurück", "Previous"),
        "calendar.next" => ("Weiter", "Next"),
        "calendar.today" => ("Heute", "Today"),
        "calendar.new" => ("Neuer Termin", "New appointment"),
        "calendar.print" => ("Tagesplan drucken", "Print day schedule"),
        "calendar.show" => ("Anzeigen", "Show"),
        "calendar.date" => ("Datum", "Date"),
        "calendar.doctor" => ("Arzt/Ärztin", "Doctor"),
        "calendar.room" => ("Raum", "Room"),
        "calendar.all_doctors" => ("Alle Ärzte", "All doctors"),
        "calendar.no_room" => ("– kein Raum –", "– no room –"),
        "calendar.filters" => ("Filter", "Filters"),
        "calendar.legend" => ("Ärzte", "Doctors"),
        "calendar.available" => ("freie Zeit im Zeitraum", "free time in this period"),
        "calendar.unavailable.absent" => ("abwesend", "absent"),
        "calendar.unavailable.no_hours" => ("keine Sprechzeiten", "no consultation hours"),
        "calendar.unavailable.holiday" => ("Feiertag / geschlossen", "Holiday / closed"),
        "calendar.unavailable.busy" => ("ausgebucht", "fully booked"),
        "calendar.unavailable.break" => ("Pause", "break"),
        "calendar.unavailable.elapsed" => ("bereits vergangen", "already past"),
        "calendar.closed" => ("geschlossen", "closed"),
        "calendar.undo" => ("Rückgängig", "Undo"),
        "calendar.err.past" => (
            "Dieser Termin liegt in der Vergangenheit. Bitte Datum und Uhrzeit prüfen.",
            "This appointment is in the past. Please check the date and time.",
        ),
        "calendar.form.past_ok" => (
            "Trotzdem eintragen (z. B. zum Nachtragen eines Besuchs)",
            "Book anyway (e.g. to record a visit afterwards)",
        ),
        "calendar.flash.restored" => (
            "Die Absage wurde rückgängig gemacht.",
            "The cancellation was undone.",
        ),
        "calendar.err.restore_conflict" => (
            "Die Absage kann nicht rückgängig gemacht werden: die Zeit ist inzwischen anderweitig belegt.",
            "The cancellation cannot be undone: the time has been taken meanwhile.",
        ),
        "calendar.nobody" => ("keine Sprechstunde", "no consultation hours"),
        "calendar.absent" => ("abwesend", "absent"),
        "calendar.break" => ("Pause", "Break"),
        "calendar.operation" => ("OP", "Surgery"),
        "calendar.no_show" => ("nicht erschienen", "no-show"),
        "calendar.more" => ("weitere", "more"),
        "calendar.new_at" => ("Neuer Termin am", "New appointment on"),
        "calendar.empty" => (
            "Keine Termine in diesem Zeitraum.",
            "No appointments in this period.",
        ),
        "calendar.time" => ("Zeit", "Time"),
        "calendar.week_of" => ("Woche", "Week"),
        "calendar.notice.view" => (
            "Unbekannte Ansicht – die Wochenansicht wird gezeigt.",
            "Unknown view – showing the week.",
        ),
        "calendar.notice.date" => (
            "Ungültiges Datum – heute wird gezeigt.",
            "Invalid date – showing today.",
        ),
        "calendar.notice.doctor" => (
            "Ungültige Arzt-Auswahl – alle Ärzte werden gezeigt.",
            "Invalid doctor – showing all doctors.",
        ),
        "calendar.notice.room" => (
            "Ungültige Raum-Auswahl wurde ignoriert.",
            "Invalid room ignored.",
        ),
        "calendar.flash.created" => ("Der Termin wurde angelegt.", "The appointment was booked."),
        "calendar.flash.updated" => ("Der Termin wurde geändert.", "The appointment was changed."),
        "calendar.flash.cancelled" => (
            "Der Termin wurde abgesagt.",
            "The appointment was cancelled.",
        ),
        "calendar.flash.no_show" => (
            "Der Termin wurde als „nicht erschienen“ markiert.",
            "The appointment was marked as no-show.",
        ),
        "status.appointment.unknown" => ("Unbekannt", "Unknown"),
        "calendar.no_type" => ("Termin", "Appointment"),
        // The forms.
        "calendar.form.new_title" => ("Neuer Termin", "New appointment"),
        "calendar.form.edit_title" => ("Termin bearbeiten", "Edit appointment"),
        "calendar.form.view_title" => ("Termin", "Appointment"),
        "calendar.form.patient" => ("Patient/in", "Patient"),
        "calendar.form.patient_search" => (
            "Patient suchen (Name, Nummer oder Geburtsdatum)",
            "Find patient (name, number or birth date)",
        ),
        "calendar.form.patient_choose" => ("– bitte Patient/in wählen –", "– choose a patient –"),
        "calendar.form.patient_hint" => (
            "Erst suchen, dann aus der Liste wählen.",
            "Search first, then choose from the list.",
        ),
        "calendar.form.matches" => ("Treffer", "matches"),
        "calendar.form.more_matches" => (
            "Weitere Treffer – bitte die Suche verfeinern.",
            "More matches – please refine the search.",
        ),
        "calendar.form.no_matches" => ("Keine Patienten gefunden.", "No patients found."),
        "calendar.form.doctor_choose" => ("– bitte wählen –", "– please choose –"),
        "calendar.form.type" => ("Terminart", "Appointment type"),
        "calendar.form.no_type" => ("– ohne Terminart –", "– no type –"),
        "calendar.form.date" => ("Datum", "Date"),
        "calendar.form.start" => ("Beginn", "Start"),
        "calendar.form.end" => ("Ende", "End"),
        "calendar.form.end_hint" => (
            "Leer lassen: Dauer der Terminart bzw. 30 Minuten.",
            "Leave empty for the type's duration or 30 minutes.",
        ),
        "calendar.form.resources" => ("Räume und Geräte", "Rooms and devices"),
        "calendar.form.rooms" => ("Räume", "Rooms"),
        "calendar.form.devices" => ("Geräte", "Devices"),
        "calendar.form.inactive" => ("inaktiv", "inactive"),
        "calendar.form.notes" => ("Notizen", "Notes"),
        "calendar.form.status" => ("Status", "Status"),
        "calendar.form.book" => ("Termin buchen", "Book appointment"),
        "calendar.form.save" => ("Änderungen speichern", "Save changes"),
        "calendar.form.back" => ("Zurück zum Kalender", "Back to the calendar"),
        "calendar.form.cancel_appointment" => ("Termin absagen", "Cancel appointment"),
        "calendar.form.no_show" => ("Als „nicht erschienen“ markieren", "Mark as no-show"),
        "calendar.form.no_show_confirm" => (
            "Den Termin als „nicht erschienen“ markieren?",
            "Mark this appointment as no-show?",
        ),
        "calendar.form.errors" => (
            "Bitte die markierten Angaben prüfen.",
            "Please check the marked fields.",
        ),
        "calendar.form.read_only" => (
            "Nur Ansicht: Ihre Rolle darf Termine nicht ändern.",
            "Read only: your role may not change appointments.",
        ),
        "calendar.form.created_at" => ("Angelegt", "Created"),
        "calendar.form.resources_none" => ("keine", "none"),
        "calendar.err.required" => ("Bitte ausfüllen.", "This field is required."),
        "calendar.err.patient_required" => (
            "Bitte eine Patientin / einen Patienten wählen.",
            "Please choose a patient.",
        ),
        "calendar.err.doctor_required" => (
            "Bitte eine Ärztin / einen Arzt wählen.",
            "Please choose a doctor.",
        ),
        "calendar.err.date" => (
            "Bitte ein Datum im Format TT.MM.JJJJ angeben.",
            "Please enter a date as DD.MM.YYYY.",
        ),
        "calendar.err.time" => (
            "Bitte eine Uhrzeit im Format HH:MM angeben.",
            "Please enter a time as HH:MM.",
        ),
        "calendar.err.time_gap" => (
            "Diese Uhrzeit gibt es wegen der Zeitumstellung nicht.",
            "This time does not exist (daylight saving change).",
        ),
        "calendar.err.choice" => ("Ungültige Auswahl.", "Invalid choice."),
        "calendar.err.incomplete" => (
            "Der Termin ist unvollständig.",
            "The appointment is incomplete.",
        ),
        "calendar.err.too_long" => (
            "Ein Termin darf höchstens 24 Stunden dauern.",
            "An appointment may last at most 24 hours.",
        ),
        "calendar.err.end_before_start" => (
            "Das Ende muss nach dem Beginn liegen.",
            "The end must be after the start.",
        ),
        "calendar.err.patient_unknown" => (
            "Diese Patientin / diesen Patienten gibt es nicht.",
            "This patient does not exist.",
        ),
        "calendar.err.doctor_unknown" => (
            "Diese Ärztin / diesen Arzt gibt es nicht.",
            "This doctor does not exist.",
        ),
        "calendar.err.not_a_doctor" => (
            "Die gewählte Person ist keine Ärztin / kein Arzt.",
            "The chosen user is not a doctor.",
        ),
        "calendar.err.doctor_inactive" => (
            "Die Ärztin / der Arzt ist nicht aktiv.",
            "The doctor is inactive.",
        ),
        "calendar.err.only_own" => (
            "Ärzte dürfen nur eigene Termine anlegen und ändern.",
            "Doctors may only book and change their own appointments.",
        ),
        "calendar.err.type_unknown" => (
            "Diese Terminart gibt es nicht.",
            "This appointment type does not exist.",
        ),
        "calendar.err.resources" => (
            "Unbekannte oder inaktive Ressource gewählt.",
            "An unknown or inactive resource was chosen.",
        ),
        "calendar.err.no_show_future" => (
            "„Nicht erschienen“ geht nur für vergangene Termine.",
            "Only past appointments can be marked as no-show.",
        ),
        "calendar.err.stale" => (
            "Der Termin wurde inzwischen geändert. Bitte neu laden und erneut versuchen.",
            "The appointment was changed in the meantime. Please reload and try again.",
        ),
        "calendar.err.no_show_status" => (
            "Nur geplante oder bestätigte Termine können als „nicht erschienen“ markiert werden.",
            "Only scheduled or confirmed appointments can be marked as no-show.",
        ),
        // Conflicts.
        "calendar.conflict.title" => (
            "Der Termin wurde nicht gebucht.",
            "The appointment was not booked.",
        ),
        "calendar.conflict.title_edit" => (
            "Die Änderung wurde nicht gespeichert; der Termin bleibt unverändert.",
            "The change was not saved; the appointment is unchanged.",
        ),
        "calendar.conflict.doctor_unavailable" => (
            "Die Ärztin / der Arzt ist zu dieser Zeit nicht verfügbar:",
            "The doctor is not available at this time:",
        ),
        "calendar.conflict.no_practice_hours" => (
            "Die Praxis hat an diesem Tag keine Öffnungszeiten",
            "The practice is closed on this day",
        ),
        "calendar.conflict.outside_practice" => (
            "außerhalb der Öffnungszeiten der Praxis",
            "outside the practice's opening hours",
        ),
        "calendar.conflict.no_doctor_hours" => (
            "hat an diesem Wochentag keine Sprechzeiten",
            "has no consultation hours on this weekday",
        ),
        "calendar.conflict.outside_doctor" => (
            "außerhalb der Sprechzeiten von",
            "outside the consultation hours of",
        ),
        "calendar.conflict.absent" => ("ist abwesend vom", "is absent from"),
        "calendar.err.override_reason" => (
            "Bitte einen Grund für die Ausnahme angeben (höchstens 500 Zeichen).",
            "Please give a reason for the override (at most 500 characters).",
        ),
        "calendar.overridden" => ("Ausnahme (begründet)", "Override (justified)"),
        "calendar.conflict.closed" => {
            ("Die Praxis ist geschlossen am", "The practice is closed on")
        }
        "calendar.conflict.until" => ("bis", "to"),
        "calendar.conflict.break" => ("Pause von", "Break from"),
        "calendar.conflict.double_booking" => (
            "Doppelbuchung: bereits ein Termin von",
            "Double booking: already an appointment from",
        ),
        "calendar.conflict.on" => ("am", "on"),
        "calendar.conflict.resource" => ("Ressource bereits belegt:", "Resource already booked:"),
        "calendar.conflict.patient" => (
            "Die Patientin / der Patient hat in diesem Zeitraum bereits einen Termin.",
            "The patient already has an appointment in this time range.",
        ),
        "calendar.conflict.doctor_operation" => (
            "ist in diesem Zeitraum für eine Operation eingeplant.",
            "is scheduled for an operation in this time range.",
        ),
        "calendar.conflict.patient_operation" => (
            "Die Patientin / der Patient hat in diesem Zeitraum eine Operation.",
            "The patient has an operation in this time range.",
        ),
        "calendar.conflict.other" => ("Terminkonflikt.", "Scheduling conflict."),
        "calendar.conflict.alternatives" => (
            "Freie Alternativen bei anderen Ärzten:",
            "Free alternatives with other doctors:",
        ),
        "calendar.conflict.next_free" => (
            "Freie Zeiten nahe dem Wunschtermin bei",
            "Free times near the requested time with",
        ),
        "calendar.conflict.none" => (
            "Keine freien Alternativen gefunden.",
            "No free alternatives found.",
        ),
        // The print view.
        "calendar.print.title" => ("Tagesplan", "Day schedule"),
        "calendar.print.button" => ("Drucken", "Print"),
        "calendar.print.patient" => ("Patient/in", "Patient"),
        "calendar.print.type" => ("Terminart", "Type"),
        "calendar.print.where" => ("Arzt / Raum", "Doctor / room"),
        "calendar.print.notes" => ("Notizen", "Notes"),
        "calendar.print.count" => ("Einträge", "entries"),
        "calendar.print.printed" => ("Erstellt", "Printed"),
        _ => return list::texts(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        crate::wire::url_pairs(query)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn calendar_queries_default_to_this_week_of_all_doctors_and_report_bad_values() {
        let today = date(2030, 1, 16);
        let cases: [(&str, View, NaiveDate, Scope, &[QueryNotice]); 8] = [
            ("", View::Week, today, Scope::All, &[]),
            (
                "view=day&date=2030-01-14",
                View::Day,
                date(2030, 1, 14),
                Scope::All,
                &[],
            ),
            (
                "view=month&date=14.01.2030&doctor_id=3",
                View::Month,
                date(2030, 1, 14),
                Scope::Doctor(3),
                &[],
            ),
            (
                "room_id=5&doctor_id=3",
                View::Week,
                today,
                Scope::Room(5),
                &[],
            ),
            (
                "view=year",
                View::Week,
                today,
                Scope::All,
                &[QueryNotice::View],
            ),
            (
                "date=2030-02-30",
                View::Week,
                today,
                Scope::All,
                &[QueryNotice::Date],
            ),
            (
                "doctor_id=-1",
                View::Week,
                today,
                Scope::All,
                &[QueryNotice::Doctor],
            ),
            (
                "room_id=x&doctor_id=",
                View::Week,
                today,
                Scope::All,
                &[QueryNotice::Room],
            ),
        ];
        for (query, view, day, scope, notices) in cases {
            let (parsed, found) = CalendarQuery::parse(&pairs(query), today);
            assert_eq!(
                parsed,
                CalendarQuery {
                    view,
                    date: day,
                    scope
                },
                "{query}"
            );
            assert_eq!(found, notices, "{query}");
        }
    }

    #[test]
    fn navigation_steps_by_the_view_and_keeps_the_filters() {
        let base = CalendarQuery {
            view: View::Week,
            date: date(2030, 1, 14),
            scope: Scope::Room(7),
        };
        assert_eq!(base.step(1), date(2030, 1, 21));
        assert_eq!(base.step(-1), date(2030, 1, 7));
        assert_eq!(base.with_view(View::Day).step(-1), date(2030, 1, 13));
        let month_end = base.with_view(View::Month).at(date(2030, 1, 31));
        assert_eq!(month_end.step(1), date(2030, 2, 28));
        assert_eq!(
            base.at(base.step(1)).href(),
            "/calendar/?view=week&date=2030-01-21&room_id=7"
        );
        let doctor = CalendarQuery {
            scope: Scope::Doctor(2),
            ..base
        };
        assert_eq!(
            doctor.href(),
            "/calendar/?view=week&date=2030-01-14&doctor_id=2"
        );
    }

    #[test]
    fn dates_and_times_are_read_in_both_notations() {
        assert_eq!(parse_date("2030-01-14"), Some(date(2030, 1, 14)));
        assert_eq!(parse_date(" 14.01.2030 "), Some(date(2030, 1, 14)));
        assert_eq!(parse_date("14/01/2030"), None);
        assert_eq!(parse_time("09:30"), NaiveTime::from_hms_opt(9, 30, 0));
        assert_eq!(parse_time("9.30"), NaiveTime::from_hms_opt(9, 30, 0));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(fmt_day(Lang::De, date(2030, 1, 14)), "Mo 14.01.2030");
        assert_eq!(fmt_day(Lang::En, date(2030, 1, 14)), "Mon 14.01.2030");
        assert_eq!(fmt_month(Lang::De, date(2030, 3, 1)), "März 2030");
    }
}
