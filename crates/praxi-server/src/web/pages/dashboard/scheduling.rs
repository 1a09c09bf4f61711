//! `/dashboard/scheduling/`: the scheduling KPIs — utilisation, completion, cancellations,
//! no-shows, lead time, duration, new patients and rebookings as cards; the booking funnel,
//! weekly trends, lead-time buckets, capacity and peak load as charts.
//!
//! Data: `Store::scheduling_kpi_data` + `kpi::scheduling_kpis`, exactly as
//! `/api/kpis/scheduling/`. Not computed (as in the API): the original's "efficiency score"
//! (fixed weights over proxies).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono_tz::Tz;
use praxi_domain::kpi::{self, AppointmentStatus, KpiClock, LEAD_TIME_BUCKETS, SchedulingKpis};
use praxi_domain::scheduling::local_date;
use praxi_store::stats::SchedulingData;

use super::{
    Card, Tab, Words, as_of, count_series, describe, doctor_rows, heat_chart, hour_span,
    hourly_chart, internal, kpi_scope, labelled, lead_text, minutes_text, of, percent_text,
    points_text, require, resource_rows, short_date, span, tabs, utilisation_chart, weekday_labels,
};
use crate::state::AppState;
use crate::web::charts::{self, Chart, HBar, PALETTE, Series, Unit};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};

/// Texts of the scheduling page.
pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "dashboard.sched.cards" => ("Kennzahlen", "Key figures"),
        "dashboard.sched.slot" => ("Auslastung", "Utilisation"),
        "dashboard.sched.slot.detail" => ("gebucht", "booked"),
        "dashboard.sched.slot.of" => ("von", "of"),
        "dashboard.sched.completion" => ("Abschlussquote", "Completion rate"),
        "dashboard.sched.completion.detail" => (
            "vergangenen Terminen abgeschlossen",
            "past appointments completed",
        ),
        "dashboard.sched.past_note" => (
            "Keine vergangenen, nicht abgesagten Termine im Zeitraum.",
            "No past appointments that are not cancelled in this period.",
        ),
        "dashboard.sched.cancellation" => ("Absagequote", "Cancellation rate"),
        "dashboard.sched.cancellation.detail" => ("Terminen abgesagt", "appointments cancelled"),
        "dashboard.sched.cancellation.late" => (
            "davon weniger als 24 h vor Beginn (letzte Änderung)",
            "of them less than 24 h before the start (last change)",
        ),
        "dashboard.sched.no_show" => ("No-Show-Quote", "No-show rate"),
        "dashboard.sched.no_show.detail" => ("nicht erschienen", "did not attend"),
        "dashboard.sched.no_show.flagged" => ("davon markiert", "of them flagged"),
        "dashboard.sched.lead" => ("Ø Vorlaufzeit", "Average lead time"),
        "dashboard.sched.lead.range" => ("kürzeste / längste", "shortest / longest"),
        "dashboard.sched.lead.same_day" => ("am selben Tag gebucht", "booked the same day"),
        "dashboard.sched.lead.note" => (
            "Keine Buchungen im Zeitraum.",
            "No bookings in this period.",
        ),
        "dashboard.sched.created" => ("gebucht", "booked"),
        "dashboard.sched.duration" => ("Ø Termindauer", "Average length"),
        "dashboard.sched.new_patients" => ("Neupatienten", "New patients"),
        "dashboard.sched.new_patients.detail" => (
            "Patienten zum ersten Mal in der Praxis",
            "patients visiting for the first time",
        ),
        "dashboard.sched.rebooking" => ("Neu gebucht nach Absage", "Rebooked after cancelling"),
        "dashboard.sched.rebooking.detail" => (
            "abgesagten Terminen neu gebucht",
            "cancelled appointments with a new booking",
        ),
        "dashboard.sched.rebooking.note" => (
            "Keine abgesagten Termine im Zeitraum.",
            "No cancelled appointments in this period.",
        ),
        "dashboard.sched.not_computed" => (
            "Nicht berechnet: der „Effizienz-Score“ des Altsystems (feste Gewichte über \
             Näherungswerte ergeben keine belastbare Zahl).",
            "Not computed: the old system's \"efficiency score\" (fixed weights over proxies \
             give no reliable number).",
        ),
        "dashboard.sched.funnel" => ("Buchungsverlauf", "Booking funnel"),
        "dashboard.sched.funnel.all" => ("Alle Termine", "All appointments"),
        "dashboard.sched.funnel.kept" => ("Nicht abgesagt", "Not cancelled"),
        "dashboard.sched.funnel.confirmed" => {
            ("Bestätigt oder abgeschlossen", "Confirmed or completed")
        }
        "dashboard.sched.funnel.note" => (
            "Termine mit Beginn im Zeitraum nach ihrem heutigen Status.",
            "Appointments starting in the period by their current status.",
        ),
        "dashboard.sched.trend" => ("Entwicklung pro Woche", "Weekly trend"),
        "dashboard.sched.trend.note" => (
            "Abschluss- und No-Show-Quote über vergangene, nicht abgesagte Termine; Absagequote \
             über alle Termine der Woche. Wochen ohne Termine bleiben leer.",
            "Completion and no-show rates over past appointments that are not cancelled; \
             cancellation rate over all appointments of the week. Weeks without appointments \
             stay empty.",
        ),
        "dashboard.sched.lead_chart" => ("Vorlaufzeit der Buchungen", "Lead time of bookings"),
        "dashboard.sched.lead_chart.note" => (
            "Buchungen im Zeitraum (nicht abgesagt) nach Kalendertagen zwischen Buchung und Termin.",
            "Bookings in the period (not cancelled) by calendar days between booking and start.",
        ),
        "dashboard.sched.bucket" => ("Vorlauf", "Lead time"),
        "dashboard.sched.bucket.same_day" => ("Gleicher Tag", "Same day"),
        "dashboard.sched.bucket.next_day" => ("Nächster Tag", "Next day"),
        "dashboard.sched.bucket.2_7_days" => ("2–7 Tage", "2–7 days"),
        "dashboard.sched.bucket.8_30_days" => ("8–30 Tage", "8–30 days"),
        "dashboard.sched.bucket.over_30_days" => ("Über 30 Tage", "Over 30 days"),
        "dashboard.sched.bookings" => ("Buchungen", "Bookings"),
        "dashboard.sched.capacity" => ("Kapazität", "Capacity"),
        "dashboard.sched.peak_load" => ("Spitzenzeiten", "Peak load"),
        "dashboard.sched.peak_none" => (
            "Keine Termine im Zeitraum – keine Spitzenzeit.",
            "No appointments in this period – no peak.",
        ),
        "dashboard.sched.at" => ("um", "at"),
        "dashboard.sched.completion_rate" => ("Abschlussquote", "Completion rate"),
        "dashboard.sched.no_show_rate" => ("No-Show-Quote", "No-show rate"),
        "dashboard.sched.cancellation_rate" => ("Absagequote", "Cancellation rate"),
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "dashboard/scheduling.html")]
struct SchedulingPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    as_of: String,
    scope_note: Option<String>,
    cards: Vec<Card>,
    not_computed: String,
    funnel_chart: Chart,
    funnel_note: String,
    trend_chart: Chart,
    trend_note: String,
    lead_chart: Chart,
    lead_note: String,
    doctor_chart: Chart,
    room_chart: Chart,
    utilisation_note: String,
    hourly_chart: Chart,
    weekday_chart: Chart,
    heat_chart: Chart,
    peak_text: String,
    data_label: String,
}

/// `GET /dashboard/scheduling/`.
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
    let kpis = kpi::scheduling_kpis(&clock, &data.input);
    let chrome = Chrome::new(&user, "nav.dashboard", "dashboard.scheduling.title");
    let doctor_scope = matches!(scope, praxi_store::stats::KpiScope::Doctor(_));
    let page = build(chrome, lang, tz, now, &clock, &data, &kpis, doctor_scope);
    render(&page, &page.chrome.nonce)
}

#[expect(clippy::too_many_arguments, reason = "the page's inputs, passed once")]
fn build(
    chrome: Chrome,
    lang: Lang,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
    clock: &KpiClock,
    data: &SchedulingData,
    kpis: &SchedulingKpis,
    doctor_scope: bool,
) -> SchedulingPage {
    let words = Words::new(lang);
    let t = |key: &str| lang.t(key).to_owned();
    let last_30 = span(lang, tz, &clock.last_30);
    let week = span(lang, tz, &clock.week);
    let peak = &kpis.peak_load;
    SchedulingPage {
        tabs: tabs(lang, "/dashboard/scheduling/"),
        as_of: as_of(lang, tz, now),
        scope_note: doctor_scope.then(|| t("dashboard.scope.doctor")),
        cards: cards(lang, tz, clock, kpis),
        not_computed: t("dashboard.sched.not_computed"),
        funnel_chart: funnel_chart(
            &words,
            &format!("{}, {last_30}", t("dashboard.sched.funnel")),
            kpis,
        ),
        funnel_note: t("dashboard.sched.funnel.note"),
        trend_chart: trend_chart(&words, tz, kpis),
        trend_note: t("dashboard.sched.trend.note"),
        lead_chart: lead_chart(
            &words,
            &format!(
                "{}, {} {last_30}",
                t("dashboard.sched.lead_chart"),
                t("dashboard.sched.created")
            ),
            kpis,
        ),
        lead_note: t("dashboard.sched.lead_chart.note"),
        doctor_chart: utilisation_chart(
            &words,
            "doctorUtilisationChart",
            &format!("{}, {week}", t("dashboard.doctor_utilisation")),
            lang.t("dashboard.doctor"),
            &doctor_rows(&data.doctors, &kpis.doctors),
        ),
        room_chart: utilisation_chart(
            &words,
            "roomUtilisationChart",
            &format!("{}, {week}", t("dashboard.room_utilisation")),
            lang.t("dashboard.room"),
            &resource_rows(lang, &data.rooms, &kpis.rooms, false),
        ),
        utilisation_note: t("dashboard.utilisation.note"),
        hourly_chart: hourly_chart(
            &words,
            "hourlyChart",
            &format!(
                "{} ({}), {last_30}",
                t("dashboard.by_hour"),
                t("dashboard.without_cancelled")
            ),
            &peak.by_hour(),
        ),
        weekday_chart: weekday_chart(
            &words,
            &format!(
                "{} ({}), {last_30}",
                t("dashboard.by_weekday"),
                t("dashboard.without_cancelled")
            ),
            &peak.by_weekday(),
        ),
        heat_chart: heat_chart(
            &words,
            "heatmapChart",
            &format!(
                "{} ({}), {last_30}",
                t("dashboard.heatmap"),
                t("dashboard.without_cancelled")
            ),
            &peak.matrix,
        ),
        peak_text: match peak.peak() {
            Some(p) => format!(
                "{}: {} {} {} ({})",
                t("dashboard.peak"),
                super::weekday_name(lang, p.weekday as usize),
                t("dashboard.sched.at"),
                hour_span(p.hour),
                labelled(lang, "dashboard.starts", p.count)
            ),
            None => t("dashboard.sched.peak_none"),
        },
        data_label: t("dashboard.data"),
        chrome,
    }
}

fn cards(lang: Lang, tz: Tz, clock: &KpiClock, kpis: &SchedulingKpis) -> Vec<Card> {
    let t = |key: &str| lang.t(key).to_owned();
    let last_30 = span(lang, tz, &clock.last_30);
    let week = span(lang, tz, &clock.week);
    let slot = &kpis.slot_utilisation;
    let slot_rate = slot.rate();
    let previous_rate = kpis.previous_slot_utilisation.rate();
    let no_show_rate = kpis.no_shows.rate();
    let previous_no_show = kpis.previous_no_shows.rate();
    let lead = &kpis.lead_time;
    let with_change =
        |label: &str, previous: Option<f64>, change: Option<f64>| match (previous, change) {
            (Some(previous), Some(change)) => format!(
                "{}: {} ({})",
                lang.t(label),
                charts::percent(lang, previous),
                points_text(lang, change)
            ),
            (Some(previous), None) => {
                format!("{}: {}", lang.t(label), charts::percent(lang, previous))
            }
            _ => String::new(),
        };
    vec![
        Card::new(
            "kpiSlotUtilisation",
            t("dashboard.sched.slot"),
            percent_text(lang, slot_rate),
            week,
        )
        .detail(if slot.capacity_minutes() > 0 {
            format!(
                "{} {} {} {}",
                super::hours_text(lang, slot.booked_minutes()),
                t("dashboard.sched.slot.detail"),
                t("dashboard.sched.slot.of"),
                super::hours_text(lang, slot.capacity_minutes())
            )
        } else {
            String::new()
        })
        .detail(with_change(
            "dashboard.previous_week",
            previous_rate,
            kpi::trend(slot_rate, previous_rate),
        ))
        .note_if(slot_rate.is_none(), t("dashboard.no_hours")),
        Card::new(
            "kpiCompletionRate",
            t("dashboard.sched.completion"),
            percent_text(lang, kpis.completion.rate()),
            last_30.clone(),
        )
        .detail(of(
            lang,
            kpis.completion.part,
            kpis.completion.total,
            lang.t("dashboard.sched.completion.detail"),
        ))
        .note_if(
            kpis.completion.rate().is_none(),
            t("dashboard.sched.past_note"),
        ),
        Card::new(
            "kpiCancellationRate",
            t("dashboard.sched.cancellation"),
            percent_text(lang, kpis.cancellations.rate()),
            last_30.clone(),
        )
        .detail(of(
            lang,
            kpis.cancellations.cancelled,
            kpis.cancellations.total,
            lang.t("dashboard.sched.cancellation.detail"),
        ))
        .detail(if kpis.cancellations.cancelled > 0 {
            format!(
                "{}: {}",
                t("dashboard.sched.cancellation.late"),
                charts::count(lang, kpis.cancellations.late)
            )
        } else {
            String::new()
        })
        .note_if(kpis.cancellations.rate().is_none(), t("dashboard.no_rows")),
        Card::new(
            "kpiNoShowRate",
            t("dashboard.sched.no_show"),
            percent_text(lang, no_show_rate),
            last_30.clone(),
        )
        .detail(of(
            lang,
            kpis.no_shows.count(),
            kpis.no_shows.total,
            lang.t("dashboard.sched.no_show.detail"),
        ))
        .detail(if kpis.no_shows.count() > 0 {
            format!(
                "{}: {}",
                t("dashboard.sched.no_show.flagged"),
                charts::count(lang, kpis.no_shows.flagged)
            )
        } else {
            String::new()
        })
        .detail(with_change(
            "dashboard.previous_30",
            previous_no_show,
            kpi::trend(no_show_rate, previous_no_show),
        ))
        .note_if(no_show_rate.is_none(), t("dashboard.sched.past_note")),
        Card::new(
            "kpiLeadTime",
            t("dashboard.sched.lead"),
            lead.average_hours()
                .map_or_else(|| t("dashboard.missing"), |h| lead_text(lang, h)),
            format!("{} {last_30}", t("dashboard.sched.created")),
        )
        .detail(match (lead.min_hours(), lead.max_hours()) {
            (Some(min), Some(max)) => format!(
                "{}: {} / {}",
                t("dashboard.sched.lead.range"),
                lead_text(lang, min),
                lead_text(lang, max)
            ),
            _ => String::new(),
        })
        .detail(
            lead.same_day_rate()
                .map(|rate| {
                    format!(
                        "{}: {}",
                        t("dashboard.sched.lead.same_day"),
                        charts::percent(lang, rate)
                    )
                })
                .unwrap_or_default(),
        )
        .note_if(
            lead.average_hours().is_none(),
            t("dashboard.sched.lead.note"),
        ),
        Card::new(
            "kpiAverageDuration",
            t("dashboard.sched.duration"),
            minutes_text(lang, kpis.average_duration.minutes()),
            last_30.clone(),
        )
        .detail(labelled(
            lang,
            "dashboard.card.not_cancelled",
            kpis.average_duration.count,
        ))
        .note_if(
            kpis.average_duration.minutes().is_none(),
            t("dashboard.no_rows"),
        ),
        Card::new(
            "kpiNewPatients",
            t("dashboard.sched.new_patients"),
            percent_text(lang, kpis.new_patients.rate()),
            last_30.clone(),
        )
        .detail(of(
            lang,
            kpis.new_patients.part,
            kpis.new_patients.total,
            lang.t("dashboard.sched.new_patients.detail"),
        ))
        .note_if(kpis.new_patients.rate().is_none(), t("dashboard.no_rows")),
        Card::new(
            "kpiRebookingRate",
            t("dashboard.sched.rebooking"),
            percent_text(lang, kpis.rebooking.rate()),
            last_30,
        )
        .detail(of(
            lang,
            kpis.rebooking.part,
            kpis.rebooking.total,
            lang.t("dashboard.sched.rebooking.detail"),
        ))
        .note_if(
            kpis.rebooking.rate().is_none(),
            t("dashboard.sched.rebooking.note"),
        ),
    ]
}

fn status_count(kpis: &SchedulingKpis, status: AppointmentStatus) -> u64 {
    kpis.statuses
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| *n)
}

/// The funnel over the last 30 days' status counts: all → not cancelled → confirmed or
/// completed → completed, and the cancelled ones; each as a share of all.
fn funnel_chart(words: &Words, title: &str, kpis: &SchedulingKpis) -> Chart {
    let lang = words.lang;
    let total: u64 = kpis.statuses.iter().map(|(_, n)| n).sum();
    let cancelled = status_count(kpis, AppointmentStatus::Cancelled);
    let completed = status_count(kpis, AppointmentStatus::Completed);
    let confirmed = status_count(kpis, AppointmentStatus::Confirmed) + completed;
    let steps = [
        ("dashboard.sched.funnel.all", total, PALETTE[0]),
        ("dashboard.sched.funnel.kept", total - cancelled, PALETTE[0]),
        ("dashboard.sched.funnel.confirmed", confirmed, PALETTE[5]),
        ("status.appointment.completed", completed, PALETTE[2]),
        ("status.appointment.cancelled", cancelled, PALETTE[1]),
    ];
    let rows: Vec<HBar> = steps
        .iter()
        .map(|(key, value, colour)| HBar {
            label: lang.t(key).to_owned(),
            value: Some(*value as f64),
            colour: *colour,
            detail: Some(percent_text(lang, kpi::percent(*value, total))),
        })
        .collect();
    let desc = rows
        .iter()
        .zip(&steps)
        .map(|(row, (_, v, _))| format!("{}: {}", row.label, charts::count(lang, *v)))
        .collect::<Vec<_>>()
        .join("; ");
    charts::hbars(
        &words.frame(
            "funnelChart",
            title,
            &desc,
            lang.t("dashboard.status"),
            Unit::Count,
        ),
        lang.t("dashboard.count"),
        Some(lang.t("dashboard.share")),
        &if total == 0 { Vec::new() } else { rows },
        (total > 0).then_some(total as f64),
    )
}

/// The weekly completion, no-show and cancellation rates of the last 12 weeks.
fn trend_chart(words: &Words, tz: Tz, kpis: &SchedulingKpis) -> Chart {
    let lang = words.lang;
    let labels: Vec<String> = kpis
        .trends
        .iter()
        .map(|point| short_date(local_date(tz, point.week.start())))
        .collect();
    let series = [
        Series {
            name: lang.t("dashboard.sched.completion_rate").to_owned(),
            colour: PALETTE[2],
            values: kpis.trends.iter().map(|p| p.completion.rate()).collect(),
        },
        Series {
            name: lang.t("dashboard.sched.no_show_rate").to_owned(),
            colour: PALETTE[3],
            values: kpis.trends.iter().map(|p| p.no_shows.rate()).collect(),
        },
        Series {
            name: lang.t("dashboard.sched.cancellation_rate").to_owned(),
            colour: PALETTE[1],
            values: kpis.trends.iter().map(|p| p.cancellations.rate()).collect(),
        },
    ];
    let window = match (kpis.trends.first(), kpis.trends.last()) {
        (Some(first), Some(last)) => {
            let whole =
                praxi_domain::scheduling::Interval::new(first.week.start(), last.week.end()).ok();
            whole.map(|w| span(lang, tz, &w)).unwrap_or_default()
        }
        _ => String::new(),
    };
    let title = format!("{}, {window}", lang.t("dashboard.sched.trend"));
    let desc = series
        .iter()
        .map(|s| {
            let latest = s.values.iter().rev().flatten().next().copied();
            format!("{}: {}", s.name, percent_text(lang, latest))
        })
        .collect::<Vec<_>>()
        .join("; ");
    charts::lines(
        &words.frame(
            "trendChart",
            &title,
            &desc,
            lang.t("dashboard.week_of"),
            Unit::Percent,
        ),
        &labels,
        &series,
        false,
    )
}

/// Lead-time buckets of the last 30 days' bookings.
fn lead_chart(words: &Words, title: &str, kpis: &SchedulingKpis) -> Chart {
    let lang = words.lang;
    let labels: Vec<String> = LEAD_TIME_BUCKETS
        .iter()
        .map(|bucket| {
            lang.t(&format!("dashboard.sched.bucket.{bucket}"))
                .to_owned()
        })
        .collect();
    let values = kpis.lead_time.buckets;
    let desc = describe(lang, &labels, &values);
    charts::bars(
        &words.frame(
            "leadTimeChart",
            title,
            &desc,
            lang.t("dashboard.sched.bucket"),
            Unit::Count,
        ),
        &labels,
        &[count_series(
            lang.t("dashboard.sched.bookings"),
            PALETTE[0],
            &values,
        )],
    )
}

/// Appointment starts per weekday, Monday first.
fn weekday_chart(words: &Words, title: &str, by_weekday: &[u64; 7]) -> Chart {
    let lang = words.lang;
    let labels = weekday_labels(lang);
    let desc = describe(lang, &labels, by_weekday);
    charts::bars(
        &words.frame(
            "weekdayChart",
            title,
            &desc,
            lang.t("dashboard.weekday"),
            Unit::Count,
        ),
        &labels,
        &[count_series(
            lang.t("dashboard.appointments_n"),
            PALETTE[0],
            by_weekday,
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lead_time_bucket_has_a_label_in_both_languages() {
        for bucket in LEAD_TIME_BUCKETS {
            let key = format!("dashboard.sched.bucket.{bucket}");
            for lang in [Lang::De, Lang::En] {
                assert_ne!(lang.t(&key), key, "{key}");
            }
        }
    }

    #[test]
    fn counts_read_as_part_of_total() {
        assert_eq!(of(Lang::De, 3, 1200, "Terminen"), "3 von 1.200 Terminen");
        assert_eq!(of(Lang::En, 1, 2, "patients"), "1 of 2 patients");
        assert_eq!(
            labelled(Lang::De, "dashboard.starts", 1),
            "Terminbeginne: 1"
        );
    }
}
