//! The KPI dashboards: `/dashboard/` (practice overview), `/dashboard/scheduling/`
//! (scheduling KPIs) and `/dashboard/operations/?days=1|7|30` (practice operations).
//!
//! Every figure comes from the functions the KPI API uses (`/api/kpis/…`): the store's
//! set-based loaders in `praxi_store::stats` and the formulas in `praxi_domain::kpi`; the
//! pages only format them. Access follows the `op-stats/overview` row of the policy: admin,
//! assistant and billing see the practice, a doctor sees figures computed from their own
//! appointments and operations only (and is told so on the page). Aggregates carry no patient
//! data, so, like the KPI API, these pages write no audit rows.
//!
//! What the original got wrong and these pages fix (ui.md §1, §8): every card names its window
//! ("Mo 14.–So 20.01.2030", never "Letzte 7 Tage" for a calendar week); cancelled
//! appointments are not counted in volumes but shown separately; a figure without data shows
//! "–" with a note instead of a default (no "Peak 9:00" for an empty practice); times are local;
//! no random demo numbers. Charts are inline SVG drawn by [`crate::web::charts`], each with a
//! data table.

mod operations;
pub(crate) use operations::days_param as operations_days_param;
mod overview;
mod scheduling;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::kpi::{AppointmentStatus, Utilisation};
use praxi_domain::operation::OperationStatus;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{Interval, local_date};
use praxi_store::appointments::ResourceInfo;
use praxi_store::stats::{DoctorInfo, KpiScope};

use crate::state::AppState;
use crate::web::charts::{self, Chart, Colour, Format, Frame, HBar, PALETTE, Part, Unit};
use crate::web::error_page;
use crate::web::i18n::Lang;
use crate::web::pages::calendar::{fmt_day, operation_status_key, status_key, weekday_short};
use crate::web::session::WebUser;

/// The policy row of every dashboard (as `/api/kpis/…`).
const RESOURCE: Area = Area::OpStatsOverview;

/// The dashboard routes (plus the original's addresses, redirected).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/", get(overview::page))
        .route("/dashboard/scheduling/", get(scheduling::page))
        .route("/dashboard/operations/", get(operations::page))
}

/// Texts of the dashboards.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "dashboard.scheduling.title" => ("Terminplanung: Kennzahlen", "Scheduling KPIs"),
        "dashboard.operations.title" => ("Praxisbetrieb: Kennzahlen", "Practice operations KPIs"),
        "dashboard.internal" => (
            "Die Kennzahlen konnten nicht geladen werden. Bitte später erneut versuchen.",
            "The figures could not be loaded. Please try again later.",
        ),
        "dashboard.tabs" => ("Kennzahlen-Seiten", "KPI pages"),
        "dashboard.tab.overview" => ("Übersicht", "Overview"),
        "dashboard.tab.scheduling" => ("Terminplanung", "Scheduling"),
        "dashboard.tab.operations" => ("Praxisbetrieb", "Operations"),
        "dashboard.as_of" => ("Stand", "As of"),
        "dashboard.clock" => ("Uhr", ""),
        "dashboard.scope.doctor" => (
            "Sie sehen Kennzahlen aus Ihren eigenen Terminen und Operationen.",
            "You see figures from your own appointments and operations.",
        ),
        "dashboard.data" => ("Werte als Tabelle", "Values as a table"),
        "dashboard.no_data" => ("Keine Daten im Zeitraum", "No data in this period"),
        "dashboard.missing" => ("–", "–"),
        "dashboard.share" => ("Anteil", "Share"),
        "dashboard.count" => ("Anzahl", "Count"),
        "dashboard.status" => ("Status", "Status"),
        "dashboard.day" => ("Tag", "Day"),
        "dashboard.weekday" => ("Wochentag", "Weekday"),
        "dashboard.hour" => ("Stunde", "Hour"),
        "dashboard.week_of" => ("Woche ab", "Week from"),
        "dashboard.doctor" => ("Arzt/Ärztin", "Doctor"),
        "dashboard.resource" => ("Raum/Gerät", "Room/device"),
        "dashboard.room" => ("Raum", "Room"),
        "dashboard.device" => ("Gerät", "Device"),
        "dashboard.utilisation" => ("Auslastung", "Utilisation"),
        "dashboard.booked_of" => ("Gebucht / Kapazität", "Booked / capacity"),
        "dashboard.no_capacity" => ("keine Kapazität", "no capacity"),
        "dashboard.previous_week" => ("Vorwoche", "Previous week"),
        "dashboard.previous_30" => ("30 Tage davor", "30 days before"),
        "dashboard.cancelled_extra" => ("zusätzlich abgesagt", "cancelled in addition"),
        "dashboard.no_rows" => (
            "Keine Termine im Zeitraum.",
            "No appointments in this period.",
        ),
        "dashboard.no_hours" => (
            "Keine Sprechzeiten im Zeitraum hinterlegt.",
            "No consultation hours in this period.",
        ),
        "dashboard.appointments_n" => ("Termine", "Appointments"),
        "dashboard.starts" => ("Terminbeginne", "Appointment starts"),
        "dashboard.minutes" => ("min", "min"),
        "dashboard.hours" => ("h", "h"),
        "dashboard.days" => ("Tage", "days"),
        "dashboard.pp" => ("Pp.", "pp"),
        "dashboard.of" => ("von", "of"),
        "dashboard.levels.none" => ("Keine", "None"),
        "dashboard.levels.low" => ("Niedrig", "Low"),
        "dashboard.levels.medium" => ("Mittel", "Medium"),
        "dashboard.levels.high" => ("Hoch", "High"),
        "dashboard.levels.peak" => ("Spitze", "Peak"),
        "dashboard.desc.total" => ("Summe", "Total"),
        "dashboard.desc.max" => ("höchster Wert", "highest value"),
        "dashboard.desc.empty" => ("Keine Werte im Zeitraum.", "No values in this period."),
        "dashboard.doctor_utilisation" => {
            ("Auslastung der Ärztinnen und Ärzte", "Doctor utilisation")
        }
        "dashboard.room_utilisation" => ("Auslastung der Räume", "Room utilisation"),
        "dashboard.utilisation.note" => (
            "Gebuchte Zeit (nicht abgesagte Termine und Operationen) innerhalb der Kapazität: \
             Sprechzeiten ∩ Praxiszeiten, ohne Abwesenheiten und Pausen; Räume: Praxiszeiten ohne \
             praxisweite Pausen.",
            "Booked time (appointments and operations that are not cancelled) within capacity: \
             consultation hours ∩ practice hours, minus absences and breaks; rooms: practice \
             hours minus practice-wide breaks.",
        ),
        "dashboard.heatmap" => (
            "Terminbeginne nach Wochentag und Stunde",
            "Appointment starts by weekday and hour",
        ),
        "dashboard.by_hour" => ("Terminbeginne pro Stunde", "Appointment starts per hour"),
        "dashboard.by_weekday" => (
            "Terminbeginne pro Wochentag",
            "Appointment starts per weekday",
        ),
        "dashboard.without_cancelled" => ("ohne abgesagte", "not cancelled"),
        "dashboard.peak" => ("Spitze", "Peak"),
        "dashboard.flow.registered" => ("Angemeldet", "Registered"),
        "dashboard.flow.waiting" => ("Wartend", "Waiting"),
        "dashboard.flow.preparing" => ("Vorbereitung", "Preparing"),
        "dashboard.flow.in_treatment" => ("In Behandlung", "In treatment"),
        "dashboard.flow.post_treatment" => ("Nachbehandlung", "Post-treatment"),
        "dashboard.flow.done" => ("Fertig", "Done"),
        _ => {
            return overview::texts(key)
                .or_else(|| scheduling::texts(key))
                .or_else(|| operations::texts(key));
        }
    })
}

// ---- access and loading ------------------------------------------------------------------

/// The signed-in user's view of the KPIs: the practice, or a doctor's own figures.
fn kpi_scope(decision: Decision, user: &WebUser) -> KpiScope {
    if decision == Decision::Filtered {
        KpiScope::Doctor(user.user.id)
    } else {
        KpiScope::Practice
    }
}

/// Logs a failure and answers with the error page (the cause is never shown).
fn internal(lang: Lang, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard failed");
    error_page(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        "dashboard.internal",
    )
}

/// The policy decision for the dashboards, or the error page.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn require(user: &WebUser) -> Result<Decision, Response> {
    user.require(RESOURCE, Action::List)
}

// ---- the shared page parts ---------------------------------------------------------------

/// One link of the dashboards' sub-navigation.
#[derive(Debug, Clone)]
struct Tab {
    href: &'static str,
    label: String,
    current: bool,
}

fn tabs(lang: Lang, current: &str) -> Vec<Tab> {
    [
        ("/dashboard/", "dashboard.tab.overview"),
        ("/dashboard/scheduling/", "dashboard.tab.scheduling"),
        ("/dashboard/operations/", "dashboard.tab.operations"),
    ]
    .into_iter()
    .map(|(href, key)| Tab {
        href,
        label: lang.t(key).to_owned(),
        current: href == current,
    })
    .collect()
}

/// One KPI card: a title, the value ("–" when the data cannot support one), the window it
/// covers and supporting lines.
#[derive(Debug, Clone, Default)]
struct Card {
    id: &'static str,
    title: String,
    value: String,
    window: String,
    details: Vec<String>,
    /// Why the value is "–".
    note: Option<String>,
    href: Option<String>,
}

impl Card {
    fn new(id: &'static str, title: String, value: String, window: String) -> Card {
        Card {
            id,
            title,
            value,
            window,
            ..Card::default()
        }
    }

    fn detail(mut self, line: impl Into<String>) -> Card {
        let line = line.into();
        if !line.is_empty() {
            self.details.push(line);
        }
        self
    }

    fn note_if(mut self, missing: bool, note: impl Into<String>) -> Card {
        if missing {
            self.note = Some(note.into());
        }
        self
    }

    fn link(mut self, href: Option<String>) -> Card {
        self.href = href;
        self
    }
}

/// Texts the charts need in the page language.
struct Words {
    lang: Lang,
    no_data: String,
    missing: String,
}

impl Words {
    fn new(lang: Lang) -> Words {
        Words {
            lang,
            no_data: lang.t("dashboard.no_data").to_owned(),
            missing: lang.t("dashboard.missing").to_owned(),
        }
    }

    fn frame<'a>(
        &'a self,
        id: &'a str,
        title: &'a str,
        desc: &'a str,
        category: &'a str,
        unit: Unit,
    ) -> Frame<'a> {
        Frame {
            id,
            title,
            desc,
            category,
            no_data: &self.no_data,
            missing: &self.missing,
            format: Format {
                lang: self.lang,
                unit,
            },
        }
    }
}

/// "Stand: Mi 16.01.2030, 10:00 Uhr" in the practice zone.
fn as_of(lang: Lang, tz: Tz, now: DateTime<Utc>) -> String {
    let local = now.with_timezone(&tz);
    let clock = lang.t("dashboard.clock");
    let time = local.format("%H:%M").to_string();
    let time = if clock.is_empty() {
        time
    } else {
        format!("{time} {clock}")
    };
    format!(
        "{}: {}, {time}",
        lang.t("dashboard.as_of"),
        fmt_day(lang, local.date_naive())
    )
}

/// The local dates a window covers: its first and its last.
fn dates(tz: Tz, window: &Interval) -> (NaiveDate, NaiveDate) {
    let first = local_date(tz, window.start());
    let last = local_date(tz, window.end() - TimeDelta::nanoseconds(1));
    (first, last.max(first))
}

/// A window as dates: `Mi 16.01.2030`, `Mo 14.–So 20.01.2030`, `Mo 30.12.2029–So 05.01.2030`.
fn span(lang: Lang, tz: Tz, window: &Interval) -> String {
    let (first, last) = dates(tz, window);
    span_dates(lang, first, last)
}

fn span_dates(lang: Lang, first: NaiveDate, last: NaiveDate) -> String {
    let day = |date: NaiveDate, format: &str| {
        format!(
            "{} {}",
            weekday_short(lang, date.weekday()),
            date.format(format)
        )
    };
    let end = day(last, "%d.%m.%Y");
    if first == last {
        end
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        format!("{}–{end}", day(first, "%d."))
    } else if first.year() == last.year() {
        format!("{}–{end}", day(first, "%d.%m."))
    } else {
        format!("{}–{end}", day(first, "%d.%m.%Y"))
    }
}

/// `dd.mm.` (chart labels).
fn short_date(date: NaiveDate) -> String {
    date.format("%d.%m.").to_string()
}

/// The full weekday name (0 = Monday).
fn weekday_name(lang: Lang, index: usize) -> &'static str {
    let names = match lang {
        Lang::De => [
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ],
        Lang::En => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ],
    };
    names.get(index).copied().unwrap_or_default()
}

/// Short weekday names, Monday first.
fn weekday_labels(lang: Lang) -> Vec<String> {
    [
        chrono::Weekday::Mon,
        chrono::Weekday::Tue,
        chrono::Weekday::Wed,
        chrono::Weekday::Thu,
        chrono::Weekday::Fri,
        chrono::Weekday::Sat,
        chrono::Weekday::Sun,
    ]
    .into_iter()
    .map(|weekday| weekday_short(lang, weekday).to_owned())
    .collect()
}

/// The hours shown in hourly charts: 07–19 at least, widened to every hour with data (nothing
/// is hidden).
fn hour_range(by_hour: &[u64; 24]) -> std::ops::RangeInclusive<usize> {
    let first = by_hour.iter().position(|n| *n > 0).unwrap_or(7).min(7);
    let last = by_hour.iter().rposition(|n| *n > 0).unwrap_or(19).max(19);
    first..=last
}

/// `09:00–10:00`.
fn hour_span(hour: u32) -> String {
    format!("{hour:02}:00–{:02}:00", (hour + 1) % 24)
}

// ---- numbers -----------------------------------------------------------------------------

fn missing(lang: Lang) -> String {
    lang.t("dashboard.missing").to_owned()
}

fn percent_text(lang: Lang, value: Option<f64>) -> String {
    value.map_or_else(|| missing(lang), |v| charts::percent(lang, v))
}

fn minutes_text(lang: Lang, minutes: Option<f64>) -> String {
    minutes.map_or_else(
        || missing(lang),
        |m| {
            format!(
                "{} {}",
                charts::number(lang, m, 1),
                lang.t("dashboard.minutes")
            )
        },
    )
}

/// Whole minutes as hours with one decimal: `12,5 h`.
fn hours_text(lang: Lang, minutes: i64) -> String {
    format!(
        "{} {}",
        charts::number(lang, minutes as f64 / 60.0, 1),
        lang.t("dashboard.hours")
    )
}

/// A lead time: hours below two days, days from there on.
fn lead_text(lang: Lang, hours: f64) -> String {
    if hours < 48.0 {
        format!(
            "{} {}",
            charts::number(lang, hours, 1),
            lang.t("dashboard.hours")
        )
    } else {
        format!(
            "{} {}",
            charts::number(lang, hours / 24.0, 1),
            lang.t("dashboard.days")
        )
    }
}

/// A change in percentage points with its sign: `+5,0 Pp.`.
fn points_text(lang: Lang, change: f64) -> String {
    let sign = if change > 0.0 { "+" } else { "" };
    format!(
        "{sign}{} {}",
        charts::number(lang, change, 1),
        lang.t("dashboard.pp")
    )
}

/// `Vorwoche: 5 (+2)`.
fn compare_text(lang: Lang, label_key: &str, current: u64, previous: u64) -> String {
    let change = current as i64 - previous as i64;
    let sign = match change {
        c if c > 0 => "+",
        0 => "±",
        _ => "",
    };
    format!(
        "{}: {} ({sign}{})",
        lang.t(label_key),
        charts::count(lang, previous),
        charts::number(lang, change as f64, 0)
    )
}

/// `3 von 1.200 <noun>` / `3 of 1,200 <noun>`.
fn of(lang: Lang, part: u64, total: u64, noun: &str) -> String {
    format!(
        "{} {} {} {noun}",
        charts::count(lang, part),
        lang.t("dashboard.of"),
        charts::count(lang, total)
    )
}

/// `label: n` (no plural forms to get wrong).
fn labelled(lang: Lang, key: &str, n: u64) -> String {
    format!("{}: {}", lang.t(key), charts::count(lang, n))
}

/// A chart summary for `<desc>`: total and highest value with its label.
fn describe(lang: Lang, labels: &[String], values: &[u64]) -> String {
    let total: u64 = values.iter().sum();
    let best = values.iter().enumerate().filter(|(_, v)| **v > 0).fold(
        None,
        |best: Option<(usize, u64)>, (i, v)| match best {
            Some((_, b)) if b >= *v => best,
            _ => Some((i, *v)),
        },
    );
    match best {
        None => lang.t("dashboard.desc.empty").to_owned(),
        Some((i, v)) => format!(
            "{}: {}; {}: {} ({}).",
            lang.t("dashboard.desc.total"),
            charts::count(lang, total),
            lang.t("dashboard.desc.max"),
            charts::count(lang, v),
            labels.get(i).map(String::as_str).unwrap_or_default()
        ),
    }
}

// ---- status and utilisation charts shared by the pages ----------------------------------

/// The appointment statuses in reading order (scheduled → confirmed → completed, cancelled).
const APPOINTMENT_ORDER: [(AppointmentStatus, Colour); 4] = [
    (AppointmentStatus::Scheduled, PALETTE[3]),
    (AppointmentStatus::Confirmed, PALETTE[0]),
    (AppointmentStatus::Completed, PALETTE[2]),
    (AppointmentStatus::Cancelled, PALETTE[1]),
];

/// The operation statuses in reading order.
const OPERATION_ORDER: [(OperationStatus, Colour); 5] = [
    (OperationStatus::Planned, PALETTE[3]),
    (OperationStatus::Confirmed, PALETTE[0]),
    (OperationStatus::Running, PALETTE[4]),
    (OperationStatus::Done, PALETTE[2]),
    (OperationStatus::Cancelled, PALETTE[1]),
];

/// Appointment statuses (from `kpi::appointment_statuses`) as a stacked bar.
fn appointment_status_chart(
    words: &Words,
    id: &str,
    title: &str,
    counts: &[(AppointmentStatus, u64); 4],
) -> Chart {
    let lang = words.lang;
    let parts: Vec<Part> = APPOINTMENT_ORDER
        .iter()
        .map(|(status, colour)| Part {
            label: lang.t(status_key(*status)).to_owned(),
            value: counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n),
            colour: *colour,
        })
        .collect();
    status_chart(words, id, title, &parts)
}

/// Operation statuses (from `kpi::operation_statuses`) as a stacked bar.
fn operation_status_chart(
    words: &Words,
    id: &str,
    title: &str,
    counts: &[(OperationStatus, u64); 5],
) -> Chart {
    let lang = words.lang;
    let parts: Vec<Part> = OPERATION_ORDER
        .iter()
        .map(|(status, colour)| Part {
            label: lang.t(operation_status_key(*status)).to_owned(),
            value: counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n),
            colour: *colour,
        })
        .collect();
    status_chart(words, id, title, &parts)
}

fn status_chart(words: &Words, id: &str, title: &str, parts: &[Part]) -> Chart {
    let lang = words.lang;
    let labels: Vec<String> = parts.iter().map(|p| p.label.clone()).collect();
    let values: Vec<u64> = parts.iter().map(|p| p.value).collect();
    let desc = describe(lang, &labels, &values);
    charts::stacked(
        &words.frame(id, title, &desc, lang.t("dashboard.status"), Unit::Count),
        lang.t("dashboard.count"),
        lang.t("dashboard.share"),
        parts,
    )
}

/// Horizontal utilisation bars (percent, scale 0–100) with booked / capacity hours.
fn utilisation_chart(
    words: &Words,
    id: &str,
    title: &str,
    category: &str,
    rows: &[(String, Colour, &Utilisation)],
) -> Chart {
    let lang = words.lang;
    let bars: Vec<HBar> = rows
        .iter()
        .map(|(label, colour, item)| HBar {
            label: label.clone(),
            value: item.rate(),
            colour: *colour,
            detail: Some(if item.capacity_minutes() > 0 {
                format!(
                    "{} / {}",
                    hours_text(lang, item.booked_minutes()),
                    hours_text(lang, item.capacity_minutes())
                )
            } else {
                lang.t("dashboard.no_capacity").to_owned()
            }),
        })
        .collect();
    let desc = bars
        .iter()
        .map(|bar| format!("{}: {}", bar.label, percent_text(lang, bar.value)))
        .collect::<Vec<_>>()
        .join("; ");
    charts::hbars(
        &words.frame(id, title, &desc, category, Unit::Percent),
        lang.t("dashboard.utilisation"),
        Some(lang.t("dashboard.booked_of")),
        &bars,
        Some(100.0),
    )
}

/// The doctors of a utilisation list with their names and calendar colours.
fn doctor_rows<'a>(
    doctors: &[DoctorInfo],
    items: &'a [Utilisation],
) -> Vec<(String, Colour, &'a Utilisation)> {
    items
        .iter()
        .filter_map(|item| {
            let doctor = doctors.iter().find(|d| d.id == item.id)?;
            Some((
                doctor.display_name(),
                Colour::parse_or(&doctor.calendar_color, charts::NEUTRAL),
                item,
            ))
        })
        .collect()
}

/// The rooms/devices of a utilisation list with their names (and kind) and colours.
fn resource_rows<'a>(
    lang: Lang,
    resources: &[ResourceInfo],
    items: &'a [Utilisation],
    with_kind: bool,
) -> Vec<(String, Colour, &'a Utilisation)> {
    items
        .iter()
        .filter_map(|item| {
            let resource = resources.iter().find(|r| r.id == item.id)?;
            let label = if with_kind {
                let kind = if resource.kind == "room" {
                    "dashboard.room"
                } else {
                    "dashboard.device"
                };
                format!("{} ({})", resource.name, lang.t(kind))
            } else {
                resource.name.clone()
            };
            Some((
                label,
                Colour::parse_or(&resource.color, charts::NEUTRAL),
                item,
            ))
        })
        .collect()
}

/// Bars of appointment starts per hour (the shown range of [`hour_range`]).
fn hourly_chart(words: &Words, id: &str, title: &str, by_hour: &[u64; 24]) -> Chart {
    let lang = words.lang;
    let range = hour_range(by_hour);
    let labels: Vec<String> = range.clone().map(|h| format!("{h:02}")).collect();
    let values: Vec<u64> = range.map(|h| by_hour[h]).collect();
    let desc = describe(lang, &labels, &values);
    charts::bars(
        &words.frame(id, title, &desc, lang.t("dashboard.hour"), Unit::Count),
        &labels,
        &[count_series(
            lang.t("dashboard.appointments_n"),
            PALETTE[0],
            &values,
        )],
    )
}

/// A series of counts.
fn count_series(name: &str, colour: Colour, values: &[u64]) -> charts::Series {
    charts::Series {
        name: name.to_owned(),
        colour,
        values: values.iter().map(|v| Some(*v as f64)).collect(),
    }
}

/// The weekday × hour heat map of appointment starts (hours as in [`hour_range`]).
fn heat_chart(words: &Words, id: &str, title: &str, matrix: &[[u64; 24]; 7]) -> Chart {
    let lang = words.lang;
    let mut by_hour = [0u64; 24];
    for row in matrix {
        for (hour, n) in row.iter().enumerate() {
            by_hour[hour] += n;
        }
    }
    let range = hour_range(&by_hour);
    let columns: Vec<String> = range.clone().map(|h| format!("{h:02}")).collect();
    let rows = weekday_labels(lang);
    let cells: Vec<Vec<u64>> = matrix
        .iter()
        .map(|row| range.clone().map(|h| row[h]).collect())
        .collect();
    let levels = [
        "dashboard.levels.none",
        "dashboard.levels.low",
        "dashboard.levels.medium",
        "dashboard.levels.high",
        "dashboard.levels.peak",
    ]
    .map(|key| lang.t(key).to_owned());
    let totals: Vec<u64> = matrix.iter().map(|row| row.iter().sum()).collect();
    let desc = describe(lang, &rows, &totals);
    charts::heat_map(
        &words.frame(id, title, &desc, lang.t("dashboard.weekday"), Unit::Count),
        &rows,
        &columns,
        &cells,
        &levels,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn windows_are_named_by_their_dates() {
        let cases = [
            (Lang::De, (2030, 1, 16), (2030, 1, 16), "Mi 16.01.2030"),
            (
                Lang::De,
                (2030, 1, 14),
                (2030, 1, 20),
                "Mo 14.–So 20.01.2030",
            ),
            (
                Lang::En,
                (2030, 1, 14),
                (2030, 1, 20),
                "Mon 14.–Sun 20.01.2030",
            ),
            (
                Lang::De,
                (2030, 1, 28),
                (2030, 2, 3),
                "Mo 28.01.–So 03.02.2030",
            ),
            (
                Lang::De,
                (2029, 12, 30),
                (2030, 1, 5),
                "So 30.12.2029–Sa 05.01.2030",
            ),
        ];
        for (lang, first, last, expected) in cases {
            let (first, last) = (
                date(first.0, first.1, first.2),
                date(last.0, last.1, last.2),
            );
            assert_eq!(span_dates(lang, first, last), expected);
        }
        // A window [Mon 00:00, next Mon 00:00) ends on Sunday.
        let tz = chrono_tz::Europe::Berlin;
        let week = praxi_domain::kpi::local_days(tz, date(2030, 1, 14), date(2030, 1, 20))
            .expect("window");
        assert_eq!(span(Lang::De, tz, &week), "Mo 14.–So 20.01.2030");
    }

    #[test]
    fn hourly_charts_show_the_working_day_and_every_hour_with_data() {
        let mut hours = [0u64; 24];
        assert_eq!(hour_range(&hours), 7..=19);
        hours[9] = 3;
        assert_eq!(hour_range(&hours), 7..=19);
        hours[6] = 1;
        hours[21] = 1;
        assert_eq!(hour_range(&hours), 6..=21);
        assert_eq!(hour_span(9), "09:00–10:00");
        assert_eq!(hour_span(23), "23:00–00:00");
    }

    #[test]
    fn numbers_and_comparisons_read_naturally() {
        assert_eq!(
            compare_text(Lang::De, "dashboard.previous_week", 7, 5),
            "Vorwoche: 5 (+2)"
        );
        assert_eq!(
            compare_text(Lang::En, "dashboard.previous_week", 3, 5),
            "Previous week: 5 (−2)"
        );
        assert_eq!(
            compare_text(Lang::De, "dashboard.previous_week", 4, 4),
            "Vorwoche: 4 (±0)"
        );
        assert_eq!(points_text(Lang::De, 5.0), "+5,0 Pp.");
        assert_eq!(points_text(Lang::En, -2.5), "−2.5 pp");
        assert_eq!(lead_text(Lang::De, 8.5), "8,5 h");
        assert_eq!(lead_text(Lang::De, 72.0), "3,0 Tage");
        assert_eq!(hours_text(Lang::En, 870), "14.5 h");
        assert_eq!(minutes_text(Lang::De, None), "–");
        assert_eq!(minutes_text(Lang::De, Some(23.3)), "23,3 min");
        assert_eq!(percent_text(Lang::En, None), "–");
    }

    #[test]
    fn descriptions_name_the_total_and_the_first_maximum() {
        let labels: Vec<String> = ["Mo", "Di", "Mi"].map(str::to_owned).to_vec();
        assert_eq!(
            describe(Lang::De, &labels, &[1, 3, 3]),
            "Summe: 7; höchster Wert: 3 (Di)."
        );
        assert_eq!(
            describe(Lang::En, &labels, &[0, 0, 0]),
            "No values in this period."
        );
    }

    #[test]
    fn as_of_is_local_time() {
        let now = DateTime::parse_from_rfc3339("2030-01-16T09:05:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(as_of(Lang::De, tz, now), "Stand: Mi 16.01.2030, 10:05 Uhr");
        assert_eq!(as_of(Lang::En, tz, now), "As of: Wed 16.01.2030, 10:05");
    }
}
