//! `/dashboard/`: the practice overview — volumes of today, this week and this month, the
//! last 30 days' status mix, averages and peaks, operations per surgeon, utilisation.
//!
//! Data: `Store::scheduling_kpi_data` + `kpi::scheduling_kpis` (as `/api/kpis/scheduling/`),
//! `Store::op_stats_operations` + `kpi::op_surgeons` (as `/api/op-stats/surgeons/`, with the
//! W17 fixes: cancelled operations excluded, minutes clipped to the month), and row counts.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days};
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::kpi::{
    self, AppointmentStatus, KpiClock, OpStatsOptions, SchedulingKpis, local_days,
};
use praxi_domain::operation::OperationStatus;
use praxi_domain::rbac::{Action, Area};
use praxi_store::operations::OperationRecord;
use praxi_store::stats::{SchedulingData, operation_fact};
use praxi_store::users::UserFilter;
use praxi_store::{Store, StoreError};

use super::{
    Card, Tab, Words, appointment_status_chart, as_of, compare_text, count_series, describe,
    doctor_rows, heat_chart, hour_span, internal, kpi_scope, labelled, minutes_text, require,
    resource_rows, span, tabs, utilisation_chart, weekday_name,
};
use crate::state::AppState;
use crate::web::charts::{self, Chart, Colour, HBar, PALETTE, Unit};
use crate::web::i18n::Lang;
use crate::web::pages::calendar::{fmt_day, fmt_month};
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

/// Texts of the overview.
pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "dashboard.section.appointments" => ("Termine", "Appointments"),
        "dashboard.section.operations" => ("Operationen", "Operations"),
        "dashboard.section.last_30" => ("Die letzten 30 Tage", "The last 30 days"),
        "dashboard.section.practice" => ("Praxis (aktueller Stand)", "Practice (current)"),
        "dashboard.section.charts" => ("Verlauf und Verteilung", "Trends and distribution"),
        "dashboard.section.utilisation" => ("Auslastung diese Woche", "Utilisation this week"),
        "dashboard.volume.note" => (
            "Termine zählen nach Beginn; abgesagte Termine sind nicht enthalten und werden \
             gesondert genannt.",
            "Appointments count by their start; cancelled ones are not included and are named \
             separately.",
        ),
        "dashboard.card.appointments_today" => ("Termine heute", "Appointments today"),
        "dashboard.card.appointments_week" => ("Termine diese Woche", "Appointments this week"),
        "dashboard.card.appointments_month" => ("Termine diesen Monat", "Appointments this month"),
        "dashboard.card.operations_today" => ("Operationen heute", "Operations today"),
        "dashboard.card.operations_week" => ("Operationen diese Woche", "Operations this week"),
        "dashboard.card.average_duration" => ("Ø Termindauer", "Average appointment length"),
        "dashboard.card.peak_hour" => ("Stärkste Stunde", "Busiest hour"),
        "dashboard.card.peak_day" => ("Stärkster Wochentag", "Busiest weekday"),
        "dashboard.card.patients" => ("Patienten", "Patients"),
        "dashboard.card.users" => ("Aktive Benutzer", "Active users"),
        "dashboard.card.doctors" => ("Aktive Ärztinnen/Ärzte", "Active doctors"),
        "dashboard.card.rooms" => ("Aktive Räume", "Active rooms"),
        "dashboard.card.devices" => ("Aktive Geräte", "Active devices"),
        "dashboard.card.of_them_doctors" => ("davon Ärztinnen/Ärzte", "of them doctors"),
        "dashboard.card.in_records" => ("im Patientenstamm", "on record"),
        "dashboard.card.current" => ("aktuell", "current"),
        "dashboard.card.not_cancelled" => ("Termine ohne Absage", "Appointments not cancelled"),
        "dashboard.status_chart" => ("Terminstatus", "Appointment status"),
        "dashboard.status_chart.note" => (
            "Alle Termine mit Beginn im Zeitraum, auch abgesagte; spätere Termine zählen nicht.",
            "All appointments starting in the period, cancelled ones included; later ones do not \
             count.",
        ),
        "dashboard.per_day" => ("Termine pro Tag", "Appointments per day"),
        "dashboard.surgeons" => ("Operationen pro Operateur/in", "Operations per surgeon"),
        "dashboard.surgeons.note" => (
            "Nach Hauptoperateur/in; Operationen, die in den Monat fallen, ohne abgesagte.",
            "By primary surgeon; operations falling into the month, cancelled ones excluded.",
        ),
        "dashboard.surgeon" => ("Operateur/in", "Surgeon"),
        "dashboard.op_hours" => ("OP-Zeit im Monat", "Operating time in the month"),
        "dashboard.operations_n" => ("Operationen", "Operations"),
        _ => return None,
    })
}

/// What the cards count besides the KPIs (row counts, current state).
struct Counts {
    /// Active users; only for those who may list users.
    users: Option<u64>,
    doctors: u64,
    patients: u64,
    rooms: u64,
    devices: u64,
}

async fn counts(store: &Store, with_users: bool) -> Result<Counts, StoreError> {
    let active = UserFilter {
        active: Some(true),
        ..UserFilter::default()
    };
    let users = if with_users {
        Some(store.count_users_matching(&active).await?)
    } else {
        None
    };
    let doctors = UserFilter {
        role: Some(Role::Doctor),
        ..active
    };
    Ok(Counts {
        users,
        doctors: store.count_users_matching(&doctors).await?,
        patients: store.count_patients().await?,
        rooms: store.count_active_resources(Some("room")).await?,
        devices: store.count_active_resources(Some("device")).await?,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct OverviewPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    as_of: String,
    scope_note: Option<String>,
    appointment_cards: Vec<Card>,
    operation_cards: Vec<Card>,
    recent_cards: Vec<Card>,
    practice_cards: Vec<Card>,
    status_chart: Chart,
    status_note: String,
    per_day_chart: Chart,
    surgeon_chart: Chart,
    surgeon_note: String,
    heat_chart: Chart,
    doctor_chart: Chart,
    room_chart: Chart,
    utilisation_note: String,
    data_label: String,
}

/// `GET /dashboard/`.
pub(super) async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let decision = match require(&user) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let lang = user.lang;
    let tz = state.tz();
    let now = state.now();
    let scope = kpi_scope(decision, &user);
    let clock = match KpiClock::new(tz, now, None) {
        Ok(clock) => clock,
        Err(error) => return internal(lang, error),
    };
    let data = match state
        .store
        .scheduling_kpi_data(tz, &clock.scheduling_needs(), scope)
        .await
    {
        Ok(data) => data,
        Err(error) => return internal(lang, error),
    };
    let own = match scope {
        praxi_store::stats::KpiScope::Doctor(id) => Some(id),
        praxi_store::stats::KpiScope::Practice => None,
    };
    let month_ops = match state.store.op_stats_operations(clock.month, own).await {
        Ok(records) => records,
        Err(error) => return internal(lang, error),
    };
    let counts = match counts(&state.store, user.can(Area::Users, Action::List)).await {
        Ok(counts) => counts,
        Err(error) => return internal(lang, error),
    };
    let kpis = kpi::scheduling_kpis(&clock, &data.input);
    let chrome = Chrome::new(&user, "nav.dashboard", "dashboard.title");
    let links = Links::for_user(&user);
    let page = build(
        chrome,
        &Inputs {
            lang,
            tz,
            now,
            clock: &clock,
            data: &data,
            kpis: &kpis,
            month_ops: &month_ops,
            own,
            counts: &counts,
            links: &links,
            doctor_scope: own.is_some(),
        },
    );
    render(&page, &page.chrome.nonce)
}

/// Which pages the cards may link to (only those the user may open).
struct Links {
    calendar: bool,
    patients: bool,
    operations: bool,
    users: bool,
    resources: bool,
}

impl Links {
    fn for_user(user: &WebUser) -> Links {
        Links {
            calendar: user.can(Area::Appointments, Action::List),
            patients: user.can(Area::Patients, Action::List),
            operations: user.can(Area::OpDashboard, Action::List),
            users: user.can(Area::Users, Action::List),
            resources: user.can(Area::ResourceCalendar, Action::List),
        }
    }
}

struct Inputs<'a> {
    lang: Lang,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
    clock: &'a KpiClock,
    data: &'a SchedulingData,
    kpis: &'a SchedulingKpis,
    month_ops: &'a [OperationRecord],
    own: Option<i64>,
    counts: &'a Counts,
    links: &'a Links,
    doctor_scope: bool,
}

fn build(chrome: Chrome, input: &Inputs) -> OverviewPage {
    let lang = input.lang;
    let words = Words::new(lang);
    let t = |key: &str| lang.t(key).to_owned();
    let last_30 = span(lang, input.tz, &input.clock.last_30);
    OverviewPage {
        tabs: tabs(lang, "/dashboard/"),
        as_of: as_of(lang, input.tz, input.now),
        scope_note: input.doctor_scope.then(|| t("dashboard.scope.doctor")),
        appointment_cards: appointment_cards(input),
        operation_cards: operation_cards(input),
        recent_cards: recent_cards(input),
        practice_cards: practice_cards(input),
        status_chart: appointment_status_chart(
            &words,
            "statusChart",
            &format!("{}, {last_30}", t("dashboard.status_chart")),
            &input.kpis.statuses,
        ),
        status_note: t("dashboard.status_chart.note"),
        per_day_chart: per_day_chart(&words, input),
        surgeon_chart: surgeon_chart(&words, input),
        surgeon_note: t("dashboard.surgeons.note"),
        heat_chart: heat_chart(
            &words,
            "heatmapChart",
            &format!(
                "{} ({}), {last_30}",
                t("dashboard.heatmap"),
                t("dashboard.without_cancelled")
            ),
            &input.kpis.peak_load.matrix,
        ),
        doctor_chart: utilisation_chart(
            &words,
            "doctorUtilisationChart",
            &format!(
                "{}, {}",
                t("dashboard.doctor_utilisation"),
                span(lang, input.tz, &input.clock.week)
            ),
            lang.t("dashboard.doctor"),
            &doctor_rows(&input.data.doctors, &input.kpis.doctors),
        ),
        room_chart: utilisation_chart(
            &words,
            "roomUtilisationChart",
            &format!(
                "{}, {}",
                t("dashboard.room_utilisation"),
                span(lang, input.tz, &input.clock.week)
            ),
            lang.t("dashboard.room"),
            &resource_rows(lang, &input.data.rooms, &input.kpis.rooms, false),
        ),
        utilisation_note: t("dashboard.utilisation.note"),
        data_label: t("dashboard.data"),
        chrome,
    }
}

/// `+ 2 zusätzlich abgesagt` (empty when none).
fn cancelled_line(lang: Lang, cancelled: u64) -> String {
    if cancelled == 0 {
        String::new()
    } else {
        format!(
            "+ {} {}",
            charts::count(lang, cancelled),
            lang.t("dashboard.cancelled_extra")
        )
    }
}

fn appointments_cancelled(input: &Inputs, window: &praxi_domain::scheduling::Interval) -> u64 {
    kpi::appointment_statuses(&input.data.input.appointments, window)
        .iter()
        .find(|(status, _)| *status == AppointmentStatus::Cancelled)
        .map_or(0, |(_, n)| *n)
}

fn operations_cancelled(input: &Inputs, window: &praxi_domain::scheduling::Interval) -> u64 {
    kpi::operation_statuses(&input.data.input.operations, window)
        .iter()
        .find(|(status, _)| *status == OperationStatus::Cancelled)
        .map_or(0, |(_, n)| *n)
}

fn calendar_link(input: &Inputs, view: &str) -> Option<String> {
    input.links.calendar.then(|| {
        format!(
            "/calendar/?view={view}&date={}",
            input.clock.date.format("%Y-%m-%d")
        )
    })
}

fn appointment_cards(input: &Inputs) -> Vec<Card> {
    let lang = input.lang;
    let clock = input.clock;
    let appts = &input.data.input.appointments;
    let t = |key: &str| lang.t(key).to_owned();
    let [today, week, month] = input.kpis.volume;
    let previous_week = kpi::volume(appts, &clock.previous_week);
    vec![
        Card::new(
            "kpiAppointmentsToday",
            t("dashboard.card.appointments_today"),
            charts::count(lang, today),
            fmt_day(lang, clock.date),
        )
        .detail(cancelled_line(
            lang,
            appointments_cancelled(input, &clock.today),
        ))
        .link(calendar_link(input, "day")),
        Card::new(
            "kpiAppointmentsWeek",
            t("dashboard.card.appointments_week"),
            charts::count(lang, week),
            span(lang, input.tz, &clock.week),
        )
        .detail(compare_text(
            lang,
            "dashboard.previous_week",
            week,
            previous_week,
        ))
        .detail(cancelled_line(
            lang,
            appointments_cancelled(input, &clock.week),
        ))
        .link(calendar_link(input, "week")),
        Card::new(
            "kpiAppointmentsMonth",
            t("dashboard.card.appointments_month"),
            charts::count(lang, month),
            format!(
                "{} ({})",
                fmt_month(lang, clock.date),
                span(lang, input.tz, &clock.month)
            ),
        )
        .detail(cancelled_line(
            lang,
            appointments_cancelled(input, &clock.month),
        ))
        .link(calendar_link(input, "month")),
    ]
}

fn operation_cards(input: &Inputs) -> Vec<Card> {
    let lang = input.lang;
    let clock = input.clock;
    let ops = &input.data.input.operations;
    let t = |key: &str| lang.t(key).to_owned();
    let link = input.links.operations.then(|| "/operations/".to_owned());
    let today = kpi::operation_durations(ops, &clock.today).count;
    let week = kpi::operation_durations(ops, &clock.week).count;
    let previous = kpi::operation_durations(ops, &clock.previous_week).count;
    vec![
        Card::new(
            "kpiOperationsToday",
            t("dashboard.card.operations_today"),
            charts::count(lang, today),
            fmt_day(lang, clock.date),
        )
        .detail(cancelled_line(
            lang,
            operations_cancelled(input, &clock.today),
        ))
        .link(link.clone()),
        Card::new(
            "kpiOperationsWeek",
            t("dashboard.card.operations_week"),
            charts::count(lang, week),
            span(lang, input.tz, &clock.week),
        )
        .detail(compare_text(
            lang,
            "dashboard.previous_week",
            week,
            previous,
        ))
        .detail(cancelled_line(
            lang,
            operations_cancelled(input, &clock.week),
        ))
        .link(link),
    ]
}

fn recent_cards(input: &Inputs) -> Vec<Card> {
    let lang = input.lang;
    let t = |key: &str| lang.t(key).to_owned();
    let window = span(lang, input.tz, &input.clock.last_30);
    let duration = &input.kpis.average_duration;
    let peak = &input.kpis.peak_load;
    let starts = |n: u64| labelled(lang, "dashboard.starts", n);
    let peak_link = Some("/dashboard/scheduling/#peak-load".to_owned());
    let peak_hour = peak.peak_hour();
    let peak_day = peak.peak_weekday();
    vec![
        Card::new(
            "kpiAverageDuration",
            t("dashboard.card.average_duration"),
            minutes_text(lang, duration.minutes()),
            window.clone(),
        )
        .detail(labelled(
            lang,
            "dashboard.card.not_cancelled",
            duration.count,
        ))
        .note_if(duration.minutes().is_none(), t("dashboard.no_rows")),
        Card::new(
            "kpiPeakHour",
            t("dashboard.card.peak_hour"),
            peak_hour.map_or_else(|| t("dashboard.missing"), |(hour, _)| hour_span(hour)),
            window.clone(),
        )
        .detail(peak_hour.map(|(_, n)| starts(n)).unwrap_or_default())
        .note_if(peak_hour.is_none(), t("dashboard.no_rows"))
        .link(peak_link.clone()),
        Card::new(
            "kpiPeakDay",
            t("dashboard.card.peak_day"),
            peak_day.map_or_else(
                || t("dashboard.missing"),
                |(day, _)| weekday_name(lang, day as usize).to_owned(),
            ),
            window,
        )
        .detail(peak_day.map(|(_, n)| starts(n)).unwrap_or_default())
        .note_if(peak_day.is_none(), t("dashboard.no_rows"))
        .link(peak_link),
    ]
}

fn practice_cards(input: &Inputs) -> Vec<Card> {
    let lang = input.lang;
    let t = |key: &str| lang.t(key).to_owned();
    let counts = input.counts;
    let current = t("dashboard.card.current");
    let mut cards = vec![
        Card::new(
            "kpiPatients",
            t("dashboard.card.patients"),
            charts::count(lang, counts.patients),
            t("dashboard.card.in_records"),
        )
        .link(input.links.patients.then(|| "/patients/".to_owned())),
    ];
    if let Some(users) = counts.users {
        cards.push(
            Card::new(
                "kpiUsers",
                t("dashboard.card.users"),
                charts::count(lang, users),
                current.clone(),
            )
            .detail(labelled(
                lang,
                "dashboard.card.of_them_doctors",
                counts.doctors,
            ))
            .link(input.links.users.then(|| "/admin/users/".to_owned())),
        );
    }
    cards.push(Card::new(
        "kpiDoctors",
        t("dashboard.card.doctors"),
        charts::count(lang, counts.doctors),
        current.clone(),
    ));
    cards.push(
        Card::new(
            "kpiRooms",
            t("dashboard.card.rooms"),
            charts::count(lang, counts.rooms),
            current,
        )
        .detail(labelled(lang, "dashboard.card.devices", counts.devices))
        .link(input.links.resources.then(|| "/resources/".to_owned())),
    );
    cards
}

/// Non-cancelled appointments per local day of the last 30 days (`kpi::volume` per day).
fn per_day_chart(words: &Words, input: &Inputs) -> Chart {
    let lang = input.lang;
    let clock = input.clock;
    let first = clock
        .date
        .checked_sub_days(Days::new(u64::from(kpi::ROLLING_DAYS - 1)))
        .unwrap_or(clock.date);
    let days: Vec<_> = first.iter_days().take_while(|d| *d <= clock.date).collect();
    let labels: Vec<String> = days.iter().map(|d| super::short_date(*d)).collect();
    let values: Vec<u64> = days
        .iter()
        .map(|day| {
            local_days(input.tz, *day, *day).map_or(0, |window| {
                kpi::volume(&input.data.input.appointments, &window)
            })
        })
        .collect();
    let title = format!(
        "{} ({}), {}",
        lang.t("dashboard.per_day"),
        lang.t("dashboard.without_cancelled"),
        span(lang, input.tz, &clock.last_30)
    );
    let desc = describe(lang, &labels, &values);
    charts::lines(
        &words.frame(
            "appointmentsPerDayChart",
            &title,
            &desc,
            lang.t("dashboard.day"),
            Unit::Count,
        ),
        &labels,
        &[count_series(
            lang.t("dashboard.appointments_n"),
            PALETTE[0],
            &values,
        )],
        true,
    )
}

/// Operations per primary surgeon in the current month (`kpi::op_surgeons`).
fn surgeon_chart(words: &Words, input: &Inputs) -> Chart {
    let lang = input.lang;
    let facts: Vec<_> = input.month_ops.iter().map(operation_fact).collect();
    let options = OpStatsOptions {
        include_cancelled: false,
        clip: true,
    };
    let totals = kpi::op_surgeons(&facts, &input.clock.month, options, input.own);
    let mut rows: Vec<HBar> = totals
        .iter()
        .map(|(surgeon, totals)| {
            let member = input
                .month_ops
                .iter()
                .map(|record| &record.primary_surgeon)
                .find(|member| member.id == *surgeon);
            HBar {
                label: member.map_or_else(|| format!("#{surgeon}"), |m| m.display_name()),
                value: Some(totals.count as f64),
                colour: member.map_or(charts::NEUTRAL, |m| {
                    Colour::parse_or(&m.calendar_color, charts::NEUTRAL)
                }),
                detail: Some(super::hours_text(lang, totals.minutes)),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.value
            .unwrap_or_default()
            .total_cmp(&a.value.unwrap_or_default())
            .then_with(|| a.label.cmp(&b.label))
    });
    let title = format!(
        "{}, {}",
        lang.t("dashboard.surgeons"),
        fmt_month(
            lang,
            input.clock.date.with_day(1).unwrap_or(input.clock.date)
        )
    );
    let desc = rows
        .iter()
        .map(|row| {
            format!(
                "{}: {}",
                row.label,
                charts::number(lang, row.value.unwrap_or_default(), 0)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    charts::hbars(
        &words.frame(
            "surgeonChart",
            &title,
            &desc,
            lang.t("dashboard.surgeon"),
            Unit::Count,
        ),
        lang.t("dashboard.operations_n"),
        Some(lang.t("dashboard.op_hours")),
        &rows,
        None,
    )
}
