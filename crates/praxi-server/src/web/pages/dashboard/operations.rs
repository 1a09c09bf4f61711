//! `/dashboard/operations/?days=1|7|30`: practice operations over the last `days` local days
//! ending today — operations, durations, utilisation, throughput, statuses, today's patient
//! flow, appointment starts per hour and the daily trend.
//!
//! Data: `Store::operations_kpi_data` + `kpi::operations_kpis`, exactly as
//! `/api/kpis/operations/`, plus `kpi::cancellations` and `kpi::no_shows` over the same rows
//! (the one no-show definition of data-model §10.1). The window is `days` days long (the
//! original's "Heute" covered two days, ui.md §3.4). The original's punctuality,
//! documentation, flow-time and billing-code figures were random demo numbers and are not
//! shown: Praxi stores nothing they could be computed from.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono_tz::Tz;
use praxi_domain::flow::FlowStatus;
use praxi_domain::kpi::{self, KpiClock, OperationsKpis};
use praxi_domain::operation::OperationStatus;
use praxi_domain::rbac::{Action, Area};
use praxi_store::stats::OperationsData;

use super::{
    Card, Tab, Words, appointment_status_chart, as_of, count_series, describe, hourly_chart,
    internal, kpi_scope, minutes_text, of, operation_status_chart, percent_text, require,
    resource_rows, short_date, span, tabs, utilisation_chart,
};
use crate::state::AppState;
use crate::web::charts::{self, Chart, HBar, PALETTE, Unit};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

/// The periods the page offers.
pub(super) const PERIODS: [u32; 3] = [1, 7, 30];
/// The period without (or with an unknown) `days` parameter (as `/api/kpis/operations/`).
pub(super) const DEFAULT_DAYS: u32 = 30;

/// Texts of the operations page.
pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "dashboard.ops.period" => ("Zeitraum", "Period"),
        "dashboard.ops.course" => ("Verlauf", "Course"),
        "dashboard.ops.period.1" => ("Heute", "Today"),
        "dashboard.ops.period.7" => ("Letzte 7 Tage (bis heute)", "Last 7 days (to today)"),
        "dashboard.ops.period.30" => ("Letzte 30 Tage (bis heute)", "Last 30 days (to today)"),
        "dashboard.ops.show" => ("Anzeigen", "Show"),
        "dashboard.ops.bad_period" => (
            "Unbekannter Zeitraum – es werden die letzten 30 Tage gezeigt.",
            "Unknown period – showing the last 30 days.",
        ),
        "dashboard.ops.window" => ("Zeitraum", "Period"),
        "dashboard.ops.operations" => ("Operationen", "Operations"),
        "dashboard.ops.operations.detail" => {
            ("nicht abgesagt, nach Beginn", "not cancelled, by start")
        }
        "dashboard.ops.duration" => ("Ø OP-Dauer", "Average operation length"),
        "dashboard.ops.duration.note" => (
            "Keine Operationen im Zeitraum.",
            "No operations in this period.",
        ),
        "dashboard.ops.done" => ("Operationen erledigt", "Operations done"),
        "dashboard.ops.running" => ("Operationen laufend", "Operations running"),
        "dashboard.ops.utilisation" => ("Auslastung Ärztinnen/Ärzte", "Doctor utilisation"),
        "dashboard.ops.throughput" => ("Durchsatz", "Throughput"),
        "dashboard.ops.throughput.detail" => (
            "abgeschlossene Termine + erledigte Operationen",
            "completed appointments + operations done",
        ),
        "dashboard.ops.cancellation" => ("Absagequote Termine", "Appointment cancellation rate"),
        "dashboard.ops.no_show" => ("No-Show-Quote", "No-show rate"),
        "dashboard.ops.flow" => ("Patientenfluss heute", "Patient flow today"),
        "dashboard.ops.flow.note" => (
            "Fälle mit Termin oder Operation heute nach aktuellem Status.",
            "Cases with an appointment or operation today by current status.",
        ),
        "dashboard.ops.flow.link" => ("Zum Wartezimmer", "Open the patient flow board"),
        "dashboard.ops.flows" => ("Fälle", "Cases"),
        "dashboard.ops.appointment_status" => ("Terminstatus", "Appointment status"),
        "dashboard.ops.operation_status" => ("OP-Status", "Operation status"),
        "dashboard.ops.daily" => ("Täglicher Durchsatz", "Daily throughput"),
        "dashboard.ops.completed" => ("Termine abgeschlossen", "Appointments completed"),
        "dashboard.ops.done_series" => ("Operationen erledigt", "Operations done"),
        "dashboard.ops.resources" => ("Auslastung Räume und Geräte", "Room and device utilisation"),
        "dashboard.ops.not_shown" => (
            "Nicht angezeigt: Pünktlichkeit, Dokumentationsquote, Durchlaufzeiten und \
             Leistungsziffern – Praxi speichert keine Daten, aus denen sie sich berechnen ließen \
             (das Altsystem zeigte hier Zufallswerte).",
            "Not shown: punctuality, documentation rate, flow times and billing codes – Praxi \
             stores no data they could be computed from (the old system showed random numbers \
             here).",
        ),
        _ => return None,
    })
}

/// `days`: one of [`PERIODS`]; anything else is `Err` (the page then shows the default).
pub(crate) fn days_param(pairs: &[(String, String)]) -> Result<Option<u32>, ()> {
    let Some((_, text)) = pairs.iter().rev().find(|(key, _)| key == "days") else {
        return Ok(None);
    };
    match text.trim().parse::<u32>() {
        Ok(days) if PERIODS.contains(&days) => Ok(Some(days)),
        _ => Err(()),
    }
}

/// One option of `#periodSelect`.
#[derive(Debug, Clone)]
struct Period {
    days: u32,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/operations.html")]
struct OperationsPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    as_of: String,
    scope_note: Option<String>,
    notice: Option<String>,
    periods: Vec<Period>,
    window: String,
    cards: Vec<Card>,
    flow_chart: Chart,
    flow_note: String,
    flow_link: Option<&'static str>,
    hourly_chart: Chart,
    daily_chart: Chart,
    status_chart: Chart,
    op_status_chart: Chart,
    resource_chart: Chart,
    utilisation_note: String,
    not_shown: String,
    data_label: String,
}

/// `GET /dashboard/operations/?days=…`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let decision = match require(&user) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let lang = user.lang;
    let pairs = crate::wire::url_pairs(query.as_deref().unwrap_or_default());
    let (days, notice) = match days_param(&pairs) {
        Ok(days) => (days.unwrap_or(DEFAULT_DAYS), None),
        Err(()) => (
            DEFAULT_DAYS,
            Some(lang.t("dashboard.ops.bad_period").to_owned()),
        ),
    };
    let tz = state.tz();
    let now = state.now();
    let scope = kpi_scope(decision, &user);
    let clock = match KpiClock::new(tz, now, None) {
        Ok(clock) => clock,
        Err(error) => return internal(lang, error),
    };
    let window = match clock.last_days(days) {
        Ok(window) => window,
        Err(error) => return internal(lang, error),
    };
    let data = match state
        .store
        .operations_kpi_data(tz, &window, &clock.today, scope)
        .await
    {
        Ok(data) => data,
        Err(error) => return internal(lang, error),
    };
    let kpis = kpi::operations_kpis(window, tz, &data.input);
    let chrome = Chrome::new(&user, "nav.dashboard", "dashboard.operations.title");
    let flow_link = user
        .can(Area::PatientFlow, Action::List)
        .then_some("/flow/");
    let doctor_scope = matches!(scope, praxi_store::stats::KpiScope::Doctor(_));
    let view = View {
        lang,
        tz,
        clock: &clock,
        data: &data,
        kpis: &kpis,
    };
    let page = OperationsPage {
        tabs: tabs(lang, "/dashboard/operations/"),
        as_of: as_of(lang, tz, now),
        scope_note: doctor_scope.then(|| lang.t("dashboard.scope.doctor").to_owned()),
        notice,
        periods: PERIODS
            .iter()
            .map(|d| Period {
                days: *d,
                label: lang.t(&format!("dashboard.ops.period.{d}")).to_owned(),
                selected: *d == days,
            })
            .collect(),
        window: span(lang, tz, &window),
        cards: view.cards(),
        flow_chart: view.flow_chart(),
        flow_note: lang.t("dashboard.ops.flow.note").to_owned(),
        flow_link,
        hourly_chart: view.hourly_chart(),
        daily_chart: view.daily_chart(),
        status_chart: view.status_chart(),
        op_status_chart: view.op_status_chart(),
        resource_chart: view.resource_chart(),
        utilisation_note: lang.t("dashboard.utilisation.note").to_owned(),
        not_shown: lang.t("dashboard.ops.not_shown").to_owned(),
        data_label: lang.t("dashboard.data").to_owned(),
        chrome,
    };
    render(&page, &page.chrome.nonce)
}

/// The computed figures of one request, turned into cards and charts.
struct View<'a> {
    lang: Lang,
    tz: Tz,
    clock: &'a KpiClock,
    data: &'a OperationsData,
    kpis: &'a OperationsKpis,
}

impl View<'_> {
    fn t(&self, key: &str) -> String {
        self.lang.t(key).to_owned()
    }

    fn window(&self) -> String {
        span(self.lang, self.tz, &self.kpis.window)
    }

    fn words(&self) -> Words {
        Words::new(self.lang)
    }

    fn operation_count(&self, status: OperationStatus) -> u64 {
        self.kpis
            .operation_statuses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    fn cards(&self) -> Vec<Card> {
        let lang = self.lang;
        let window = self.window();
        let appts = &self.data.input.appointments;
        let cancellations = kpi::cancellations(appts, &self.kpis.window);
        let no_shows = kpi::no_shows(appts, &self.kpis.window, self.clock.as_of);
        let utilisation = &self.kpis.utilisation;
        let completed: u64 = self
            .kpis
            .throughput
            .iter()
            .map(|d| d.appointments_completed)
            .sum();
        let done: u64 = self.kpis.throughput.iter().map(|d| d.operations_done).sum();
        let operations = &self.kpis.operations;
        vec![
            Card::new(
                "kpiOperations",
                self.t("dashboard.ops.operations"),
                charts::count(lang, operations.count),
                window.clone(),
            )
            .detail(self.t("dashboard.ops.operations.detail")),
            Card::new(
                "kpiOperationDuration",
                self.t("dashboard.ops.duration"),
                minutes_text(lang, operations.minutes()),
                window.clone(),
            )
            .note_if(
                operations.minutes().is_none(),
                self.t("dashboard.ops.duration.note"),
            ),
            Card::new(
                "kpiOperationsDone",
                self.t("dashboard.ops.done"),
                charts::count(lang, self.operation_count(OperationStatus::Done)),
                window.clone(),
            ),
            Card::new(
                "kpiOperationsRunning",
                self.t("dashboard.ops.running"),
                charts::count(lang, self.operation_count(OperationStatus::Running)),
                window.clone(),
            ),
            Card::new(
                "kpiUtilisation",
                self.t("dashboard.ops.utilisation"),
                percent_text(lang, utilisation.rate()),
                window.clone(),
            )
            .detail(if utilisation.capacity_minutes() > 0 {
                format!(
                    "{} / {}",
                    super::hours_text(lang, utilisation.booked_minutes()),
                    super::hours_text(lang, utilisation.capacity_minutes())
                )
            } else {
                String::new()
            })
            .note_if(utilisation.rate().is_none(), self.t("dashboard.no_hours")),
            Card::new(
                "kpiThroughput",
                self.t("dashboard.ops.throughput"),
                charts::count(lang, completed + done),
                window.clone(),
            )
            .detail(format!(
                "{} + {} ({})",
                charts::count(lang, completed),
                charts::count(lang, done),
                self.t("dashboard.ops.throughput.detail")
            )),
            Card::new(
                "kpiCancellationRate",
                self.t("dashboard.ops.cancellation"),
                percent_text(lang, cancellations.rate()),
                window.clone(),
            )
            .detail(of(
                lang,
                cancellations.cancelled,
                cancellations.total,
                lang.t("dashboard.sched.cancellation.detail"),
            ))
            .note_if(cancellations.rate().is_none(), self.t("dashboard.no_rows")),
            Card::new(
                "kpiNoShowRate",
                self.t("dashboard.ops.no_show"),
                percent_text(lang, no_shows.rate()),
                window,
            )
            .detail(of(
                lang,
                no_shows.count(),
                no_shows.total,
                lang.t("dashboard.sched.no_show.detail"),
            ))
            .note_if(
                no_shows.rate().is_none(),
                self.t("dashboard.sched.past_note"),
            ),
        ]
    }

    fn flow_chart(&self) -> Chart {
        let lang = self.lang;
        let words = self.words();
        let rows: Vec<HBar> = self
            .kpis
            .flows
            .iter()
            .zip(PALETTE.iter().cycle())
            .map(|((status, n), colour)| HBar {
                label: self.t(&format!("dashboard.flow.{}", flow_key(*status))),
                value: Some(*n as f64),
                colour: *colour,
                detail: None,
            })
            .collect();
        let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
        let values: Vec<u64> = self.kpis.flows.iter().map(|(_, n)| *n).collect();
        let title = format!(
            "{}, {}",
            self.t("dashboard.ops.flow"),
            crate::web::pages::calendar::fmt_day(lang, self.clock.date)
        );
        let desc = describe(lang, &labels, &values);
        let any = values.iter().any(|n| *n > 0);
        charts::hbars(
            &words.frame(
                "flowChart",
                &title,
                &desc,
                lang.t("dashboard.status"),
                Unit::Count,
            ),
            lang.t("dashboard.ops.flows"),
            None,
            &if any { rows } else { Vec::new() },
            None,
        )
    }

    fn hourly_chart(&self) -> Chart {
        let words = self.words();
        let load = kpi::peak_load(&self.data.input.appointments, &self.kpis.window, self.tz);
        hourly_chart(
            &words,
            "hourlyChart",
            &format!(
                "{} ({}), {}",
                self.t("dashboard.by_hour"),
                self.t("dashboard.without_cancelled"),
                self.window()
            ),
            &load.by_hour(),
        )
    }

    fn daily_chart(&self) -> Chart {
        let lang = self.lang;
        let words = self.words();
        let labels: Vec<String> = self
            .kpis
            .throughput
            .iter()
            .map(|d| short_date(d.date))
            .collect();
        let completed: Vec<u64> = self
            .kpis
            .throughput
            .iter()
            .map(|d| d.appointments_completed)
            .collect();
        let done: Vec<u64> = self
            .kpis
            .throughput
            .iter()
            .map(|d| d.operations_done)
            .collect();
        let totals: Vec<u64> = completed.iter().zip(&done).map(|(a, b)| a + b).collect();
        let title = format!("{}, {}", self.t("dashboard.ops.daily"), self.window());
        let desc = describe(lang, &labels, &totals);
        charts::bars(
            &words.frame(
                "dailyTrendChart",
                &title,
                &desc,
                lang.t("dashboard.day"),
                Unit::Count,
            ),
            &labels,
            &[
                count_series(lang.t("dashboard.ops.completed"), PALETTE[2], &completed),
                count_series(lang.t("dashboard.ops.done_series"), PALETTE[4], &done),
            ],
        )
    }

    fn status_chart(&self) -> Chart {
        appointment_status_chart(
            &self.words(),
            "statusChart",
            &format!(
                "{}, {}",
                self.t("dashboard.ops.appointment_status"),
                self.window()
            ),
            &self.kpis.appointment_statuses,
        )
    }

    fn op_status_chart(&self) -> Chart {
        operation_status_chart(
            &self.words(),
            "opStatusChart",
            &format!(
                "{}, {}",
                self.t("dashboard.ops.operation_status"),
                self.window()
            ),
            &self.kpis.operation_statuses,
        )
    }

    fn resource_chart(&self) -> Chart {
        utilisation_chart(
            &self.words(),
            "resourceUtilisationChart",
            &format!("{}, {}", self.t("dashboard.ops.resources"), self.window()),
            self.lang.t("dashboard.resource"),
            &resource_rows(self.lang, &self.data.resources, &self.kpis.resources, true),
        )
    }
}

fn flow_key(status: FlowStatus) -> &'static str {
    status.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        crate::wire::url_pairs(query)
    }

    #[test]
    fn only_the_offered_periods_are_accepted() {
        let cases = [
            ("", Ok(None)),
            ("days=1", Ok(Some(1))),
            ("days=7", Ok(Some(7))),
            ("days=30", Ok(Some(30))),
            ("days=%2030", Ok(Some(30))),
            ("days=1&days=7", Ok(Some(7))),
            ("days=0", Err(())),
            ("days=8", Err(())),
            ("days=-1", Err(())),
            ("days=abc", Err(())),
            ("days=", Err(())),
        ];
        for (query, expected) in cases {
            assert_eq!(days_param(&pairs(query)), expected, "{query:?}");
        }
    }

    #[test]
    fn every_flow_status_and_period_has_a_label() {
        for status in FlowStatus::ALL {
            let key = format!("dashboard.flow.{}", flow_key(status));
            assert_ne!(Lang::De.t(&key), key);
        }
        for days in PERIODS {
            let key = format!("dashboard.ops.period.{days}");
            assert_ne!(Lang::En.t(&key), key);
        }
    }
}
