//! `GET /calendar/`: the server-rendered calendar grid.
//!
//! Day and week show a time grid whose hours follow the practice hours of the shown days (a
//! day view of all doctors has one column per doctor); month shows a six-week grid. Cards carry
//! the doctor's colour (a page CSS class generated from the validated colour, with black or
//! white text by luminance), the type, the patient and the status as text. The read is
//! audited like `/api/calendar/day|week|month/` (`calendar_<view>` and
//! `doctor_substitution_list`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{Interval, RangeAvailability, UnavailableReason, local_day};
use praxi_store::StoreError;
use praxi_store::appointments::AppointmentRecord;
use praxi_store::calendar::{CalendarData, CalendarFilter, CalendarRange, CalendarView};
use praxi_store::operations::OperationRecord;
use praxi_store::users::UserRecord;
use serde_json::json;

use super::layout::{self, Minute};
use super::{
    CalendarQuery, QueryNotice, Scope, View, fmt_day, fmt_month, fmt_time, internal,
    operation_status_key, param, status_key,
};
use crate::state::AppState;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// One link of the toolbar.
pub(crate) struct NavLink {
    pub(crate) label: String,
    pub(crate) href: String,
    pub(crate) current: bool,
}

/// An option of a filter select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// A card in a column or month cell.
pub(crate) struct Card {
    pub(crate) dom_id: String,
    /// `data-appointment-id` (appointments only).
    pub(crate) appointment_id: Option<i32>,
    pub(crate) href: Option<String>,
    pub(crate) classes: String,
    pub(crate) time: String,
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) who: String,
    pub(crate) place: String,
    pub(crate) status: String,
    pub(crate) struck: bool,
}

/// An empty-slot link ("new appointment at …").
pub(crate) struct SlotLink {
    pub(crate) href: String,
    pub(crate) class: String,
    pub(crate) time: String,
    pub(crate) label: String,
}

/// A day or doctor column of the time grid.
pub(crate) struct Column {
    pub(crate) heading: String,
    pub(crate) heading_href: Option<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) today: bool,
    pub(crate) closed: bool,
    pub(crate) cards: Vec<Card>,
    pub(crate) slots: Vec<SlotLink>,
}

/// An hour label of the time grid.
pub(crate) struct HourLabel {
    pub(crate) class: String,
    pub(crate) text: String,
}

/// Day or week.
pub(crate) struct TimeGrid {
    pub(crate) hours: Vec<HourLabel>,
    pub(crate) columns: Vec<Column>,
}

/// A day of the month grid.
pub(crate) struct MonthCell {
    pub(crate) day: String,
    pub(crate) full_date: String,
    pub(crate) day_href: String,
    pub(crate) in_month: bool,
    pub(crate) today: bool,
    pub(crate) cards: Vec<Card>,
    pub(crate) more: Option<NavLink>,
    pub(crate) new_href: Option<String>,
}

/// Six weeks.
pub(crate) struct MonthGrid {
    pub(crate) weekdays: Vec<String>,
    pub(crate) weeks: Vec<Vec<MonthCell>>,
}

/// A doctor in the legend.
pub(crate) struct LegendItem {
    pub(crate) class: String,
    pub(crate) name: String,
    pub(crate) availability: String,
}

#[derive(Template)]
#[template(path = "calendar/grid.html")]
struct GridPage {
    chrome: Chrome,
    heading: String,
    view: &'static str,
    date: String,
    views: Vec<NavLink>,
    prev: NavLink,
    today: NavLink,
    next: NavLink,
    new_href: Option<String>,
    print_href: String,
    doctor_choices: Vec<Choice>,
    room_choices: Vec<Choice>,
    scope_doctor: Option<i64>,
    scope_room: Option<i64>,
    flash: Option<String>,
    /// After a cancellation: the form that undoes it.
    undo: Option<Undo>,
    notices: Vec<String>,
    legend: Vec<LegendItem>,
    time_grid: Option<TimeGrid>,
    month: Option<MonthGrid>,
    empty: bool,
}

/// The "undo" button of a cancellation flash.
pub(crate) struct Undo {
    pub(crate) action: String,
    pub(crate) was: &'static str,
    pub(crate) view: &'static str,
}

/// The flash message keys a redirect may name (nothing else is shown).
pub(crate) fn flash_key(value: &str) -> Option<&'static str> {
    match value {
        "created" => Some("calendar.flash.created"),
        "updated" => Some("calendar.flash.updated"),
        "cancelled" => Some("calendar.flash.cancelled"),
        "no_show" => Some("calendar.flash.no_show"),
        "restored" => Some("calendar.flash.restored"),
        _ => None,
    }
}

/// Local minutes since midnight of `instant` clipped to the local day `day`.
fn day_minutes(
    tz: Tz,
    day: &Interval,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<(Minute, Minute)> {
    let segment = Interval::new(start, end).ok()?.intersection(day)?;
    let minute = |instant: DateTime<Utc>| {
        let local = instant.with_timezone(&tz).time();
        local.hour() * 60 + local.minute()
    };
    let from = minute(segment.start());
    let to = if segment.end() >= day.end() {
        24 * 60
    } else {
        minute(segment.end())
    };
    Some((from, to.max(from)))
}

/// The `[first, last]` dates of a view and the store's range for them.
pub(crate) fn view_range(tz: Tz, view: View, date: NaiveDate) -> Option<CalendarRange> {
    let (first, last, kind) = match view {
        View::Day => (date, date, CalendarView::Day),
        View::Week => {
            let monday = layout::week_start(date);
            (
                monday,
                monday.checked_add_days(chrono::Days::new(6))?,
                CalendarView::Week,
            )
        }
        View::Month => {
            let first = layout::month_grid_start(date);
            (
                first,
                first.checked_add_days(chrono::Days::new(layout::MONTH_GRID_DAYS - 1))?,
                CalendarView::Month,
            )
        }
    };
    let period = Interval::new(local_day(tz, first)?.start(), local_day(tz, last)?.end()).ok()?;
    Some(CalendarRange {
        view: kind,
        first,
        last,
        period,
    })
}

/// Doctor name as everywhere ("First Last", else the username).
fn person(first: &str, last: &str, username: &str) -> String {
    let full = format!("{} {}", first.trim(), last.trim());
    let full = full.trim();
    if full.is_empty() {
        username.to_owned()
    } else {
        full.to_owned()
    }
}

fn availability_key(availability: &RangeAvailability) -> &'static str {
    match availability.reason() {
        None => "calendar.available",
        Some(UnavailableReason::Absence) => "calendar.unavailable.absent",
        Some(UnavailableReason::NoHours) => "calendar.unavailable.no_hours",
        Some(UnavailableReason::Holiday) => "calendar.unavailable.holiday",
        Some(UnavailableReason::Break) => "calendar.unavailable.break",
        Some(UnavailableReason::Busy) => "calendar.unavailable.busy",
        Some(UnavailableReason::Elapsed) => "calendar.unavailable.elapsed",
    }
}

/// Height of one hour in the day/week grid (the CSS hour lines use the same value).
const HOUR_REM: u32 = 5;
/// The shortest time a card takes on screen: its CSS `min-height` (1.35rem) at `HOUR_REM` per
/// hour is 16.2 minutes. Lanes are computed on these extents, so two short back-to-back cards
/// share a row side by side instead of being drawn over each other.
const MIN_CARD_MINUTES: Minute = 17;

/// Everything the grid needs besides the calendar data.
struct Context<'a> {
    chrome: &'a Chrome,
    tz: Tz,
    cal: CalendarQuery,
    can_create: bool,
    /// The acting doctor (own calendar) or `None`.
    own: Option<i64>,
    /// Practice windows per weekday (0 = Monday) in minutes.
    open: [Vec<(Minute, Minute)>; 7],
    today: NaiveDate,
}

impl Context<'_> {
    fn t(&self, key: &str) -> String {
        self.chrome.t(key)
    }

    fn show_doctor_names(&self) -> bool {
        self.own.is_none() && self.cal.scope.doctor().is_none()
    }

    fn appointment_card(&self, record: &AppointmentRecord, dom_id: String) -> Card {
        let tz = self.tz;
        let start = record.start_time.with_timezone(&tz);
        let end = record.end_time.with_timezone(&tz);
        let cancelled = record.status == AppointmentStatus::Cancelled;
        let mut status = self.t(status_key(record.status));
        if record.is_no_show {
            status = format!("{status}, {}", self.t("calendar.no_show"));
        }
        let mut classes = format!("appt calendar-appointment doc-{}", record.doctor_id);
        if cancelled {
            classes.push_str(" cancelled");
        }
        if record.is_no_show {
            classes.push_str(" noshow");
        }
        // Booked with an audited override (issue #14): say so on the card.
        if !record.overridden.is_empty() {
            status = format!("{status}, {}", self.t("calendar.overridden"));
            classes.push_str(" overridden");
        }
        let place: Vec<&str> = record.resources.iter().map(|r| r.name.as_str()).collect();
        Card {
            dom_id,
            appointment_id: Some(record.id),
            href: Some(format!(
                "/calendar/appointments/{}/?{}",
                record.id,
                self.return_query()
            )),
            classes,
            time: format!("{}–{}", fmt_time(start.time()), fmt_time(end.time())),
            title: display_name(
                record.patient_id,
                &record.patient_first_name,
                &record.patient_last_name,
                record.patient_birth_date,
            ),
            kind: record
                .appointment_type
                .as_ref()
                .map_or_else(|| self.t("calendar.no_type"), |t| t.name.clone()),
            who: if self.show_doctor_names() {
                person(
                    &record.doctor_first_name,
                    &record.doctor_last_name,
                    &record.doctor_username,
                )
            } else {
                String::new()
            },
            place: place.join(", "),
            status,
            struck: cancelled,
        }
    }

    fn operation_card(&self, record: &OperationRecord, dom_id: String) -> Card {
        let tz = self.tz;
        let start = record.start_time.with_timezone(&tz);
        let end = record.end_time.with_timezone(&tz);
        let cancelled = record.status() == OperationStatus::Cancelled;
        let mut classes = format!("appt op doc-{}", record.primary_surgeon.id);
        if cancelled {
            classes.push_str(" cancelled");
        }
        Card {
            dom_id,
            appointment_id: None,
            href: None,
            classes,
            time: format!("{}–{}", fmt_time(start.time()), fmt_time(end.time())),
            title: display_name(
                record.patient_id,
                &record.patient_first_name,
                &record.patient_last_name,
                record.patient_birth_date,
            ),
            kind: format!("{}: {}", self.t("calendar.operation"), record.op_type.name),
            who: record.primary_surgeon.display_name(),
            place: record.room.name.clone(),
            status: self.t(operation_status_key(record.status())),
            struck: cancelled,
        }
    }

    /// `/calendar/new/?…` prefilled with a start (and the column's doctor / the room).
    fn new_href(&self, date: NaiveDate, time: Option<(u32, u32)>, doctor: Option<i64>) -> String {
        let mut href = format!("/calendar/new/?view={}", self.cal.view.as_str());
        match time {
            Some((hour, minute)) => href.push_str(&format!(
                "&start={}T{hour:02}:{minute:02}",
                date.format("%Y-%m-%d")
            )),
            None => href.push_str(&format!("&date={}", date.format("%Y-%m-%d"))),
        }
        if let Some(doctor) = doctor.or(self.cal.scope.doctor()).or(self.own) {
            href.push_str(&format!("&doctor_id={doctor}"));
        }
        if self.cal.scope.doctor().is_some() {
            href.push_str("&by_doctor=1");
        }
        if let Some(room) = self.cal.scope.room() {
            href.push_str(&format!("&room_id={room}"));
        }
        href
    }

    /// `view=…[&by_doctor=1][&room_id=…]` for links to forms, so saving returns here.
    fn return_query(&self) -> String {
        let mut query = format!("view={}", self.cal.view.as_str());
        match self.cal.scope {
            Scope::Doctor(_) => query.push_str("&by_doctor=1"),
            Scope::Room(room) => query.push_str(&format!("&room_id={room}")),
            Scope::All => {}
        }
        query
    }

    fn day_href(&self, date: NaiveDate) -> String {
        self.cal.with_view(View::Day).at(date).href()
    }
}

/// Items of one time-grid column, before layout.
struct ColumnItems<'a> {
    date: NaiveDate,
    doctor: Option<(i64, String)>,
    appointments: Vec<&'a AppointmentRecord>,
    operations: Vec<&'a OperationRecord>,
    breaks: Vec<(Minute, Minute, String)>,
    notes: Vec<String>,
    /// When someone of the column can be booked (local minutes of the date).
    bookable: Vec<(Minute, Minute)>,
}

/// Builds the page model; returns it with the CSS of the page.
fn time_grid(ctx: &Context<'_>, columns: Vec<ColumnItems<'_>>, css: &mut String) -> TimeGrid {
    let tz = ctx.tz;
    // Visible hours: practice hours of the shown days, widened by what is booked on them.
    let mut open = Vec::new();
    let mut booked = Vec::new();
    let mut segments: Vec<Vec<(Minute, Minute, Card)>> = Vec::new();
    for (index, column) in columns.iter().enumerate() {
        let weekday = column.date.weekday().num_days_from_monday() as usize;
        open.extend(ctx.open[weekday].iter().copied());
        let Some(day) = local_day(tz, column.date) else {
            segments.push(Vec::new());
            continue;
        };
        let mut items: Vec<(Minute, Minute, Card)> = Vec::new();
        for record in &column.appointments {
            if let Some((from, to)) = day_minutes(tz, &day, record.start_time, record.end_time) {
                items.push((
                    from,
                    to,
                    ctx.appointment_card(record, format!("c{index}-a{}", record.id)),
                ));
            }
        }
        for record in &column.operations {
            if let Some((from, to)) = day_minutes(tz, &day, record.start_time, record.end_time) {
                items.push((
                    from,
                    to,
                    ctx.operation_card(record, format!("c{index}-o{}", record.id)),
                ));
            }
        }
        for (n, (from, to, label)) in column.breaks.iter().enumerate() {
            items.push((
                *from,
                *to,
                Card {
                    dom_id: format!("c{index}-b{n}"),
                    appointment_id: None,
                    href: None,
                    classes: "appt brk".to_owned(),
                    time: String::new(),
                    title: label.clone(),
                    kind: String::new(),
                    who: String::new(),
                    place: String::new(),
                    status: String::new(),
                    struck: false,
                },
            ));
        }
        items.sort_by_key(|(from, to, _)| (*from, *to));
        booked.extend(items.iter().map(|(from, to, _)| (*from, *to)));
        segments.push(items);
    }
    let hours = layout::visible_hours(&open, &booked);
    let span = hours.1 - hours.0;
    css.push_str(&format!(
        "#appointmentCalendar .tbody{{height:{}rem}}",
        span * HOUR_REM
    ));
    for k in 0..span {
        let top = f64::from(k) * 100.0 / f64::from(span);
        css.push_str(&format!(
            ".slot-{k}{{top:{top:.3}%;height:{:.3}%}}",
            100.0 / f64::from(span)
        ));
    }
    let hour_labels = (0..span)
        .map(|k| HourLabel {
            class: format!("slot-{k}"),
            text: format!("{:02}:00", hours.0 + k),
        })
        .collect();
    let mut out = Vec::new();
    for (column, items) in columns.into_iter().zip(segments) {
        let weekday = column.date.weekday().num_days_from_monday() as usize;
        let closed = ctx.open[weekday].is_empty();
        let spans: Vec<(Minute, Minute)> = items
            .iter()
            .map(|(from, to, _)| (*from, (*to).max(*from + MIN_CARD_MINUTES)))
            .collect();
        let lanes = layout::lanes(&spans);
        let mut cards = Vec::new();
        for ((from, to, card), (lane, count)) in items.into_iter().zip(lanes) {
            let placement = layout::place(from, to, hours, lane, count);
            css.push_str(&format!("#{}{{{}}}", card.dom_id, placement.css()));
            cards.push(card);
        }
        let doctor_id = column.doctor.as_ref().map(|(id, _)| *id);
        // Only hours in which someone of the column can be booked offer a new appointment;
        // the link starts at the first bookable minute of the hour.
        let slots = if ctx.can_create && !closed {
            (0..span)
                .filter_map(|k| {
                    let first = first_bookable_in_hour(&column.bookable, hours.0 + k)?;
                    Some((k, first))
                })
                .map(|(k, first)| {
                    let (hour, minute) = (first / 60, first % 60);
                    let time = format!("{hour:02}:{minute:02}");
                    let mut label = format!(
                        "{} {} {time}",
                        ctx.t("calendar.new_at"),
                        fmt_day(ctx.chrome.lang, column.date)
                    );
                    if let Some((_, name)) = &column.doctor {
                        label.push_str(&format!(" – {name}"));
                    }
                    SlotLink {
                        href: ctx.new_href(column.date, Some((hour, minute)), doctor_id),
                        class: format!("slot-{k}"),
                        time,
                        label,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut notes = column.notes;
        if closed {
            notes.insert(0, ctx.t("calendar.closed"));
        } else if column.bookable.is_empty() {
            notes.insert(0, ctx.t("calendar.nobody"));
        }
        let (heading, heading_href) = match &column.doctor {
            Some((_, name)) => (name.clone(), None),
            None => (
                fmt_day(ctx.chrome.lang, column.date),
                Some(ctx.day_href(column.date)),
            ),
        };
        out.push(Column {
            heading,
            heading_href,
            notes,
            today: column.date == ctx.today && column.doctor.is_none(),
            closed,
            cards,
            slots,
        });
    }
    TimeGrid {
        hours: hour_labels,
        columns: out,
    }
}

fn absence_note(ctx: &Context<'_>, reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => format!("{} ({reason})", ctx.t("calendar.absent")),
        None => ctx.t("calendar.absent"),
    }
}

/// The columns of a day/week grid: one per doctor for a day view of all doctors, else one
/// per day.
fn columns<'a>(
    ctx: &Context<'_>,
    data: &'a CalendarData,
    dates: &[NaiveDate],
    doctors: &[(i64, String)],
) -> Vec<ColumnItems<'a>> {
    let tz = ctx.tz;
    let room = ctx.cal.scope.room();
    let break_doctor = ctx.own.or(ctx.cal.scope.doctor());
    let break_item = |b: &praxi_store::calendar::CalendarBreak| {
        let from = b.start_time.hour() * 60 + b.start_time.minute();
        let to = b.end_time.hour() * 60 + b.end_time.minute();
        (
            from,
            to.max(from),
            format!(
                "{} {}–{}",
                ctx.t("calendar.break"),
                fmt_time(b.start_time),
                fmt_time(b.end_time)
            ),
        )
    };
    let on_date = |date: NaiveDate, start: DateTime<Utc>, end: DateTime<Utc>| {
        local_day(tz, date)
            .is_some_and(|day| Interval::new(start, end).is_ok_and(|i| i.overlaps(&day)))
    };
    let per_doctor = ctx.cal.view == View::Day
        && ctx.cal.scope == Scope::All
        && ctx.own.is_none()
        && !doctors.is_empty();
    if per_doctor {
        let date = dates[0];
        return doctors
            .iter()
            .map(|(id, name)| ColumnItems {
                date,
                doctor: Some((*id, name.clone())),
                appointments: data
                    .appointments
                    .iter()
                    .filter(|a| a.doctor_id == *id)
                    .collect(),
                operations: data
                    .operations
                    .iter()
                    .filter(|o| o.has_member(*id))
                    .collect(),
                breaks: data
                    .breaks
                    .iter()
                    .filter(|b| b.date == date && b.doctor_id.is_none_or(|d| d == *id))
                    .map(break_item)
                    .collect(),
                notes: data
                    .absences
                    .iter()
                    .filter(|a| a.doctor_id == *id && a.start_date <= date && date <= a.end_date)
                    .map(|a| absence_note(ctx, a.reason.as_deref()))
                    .collect(),
                bookable: bookable_minutes(tz, data, date, Some(*id)),
            })
            .collect();
    }
    dates
        .iter()
        .map(|date| {
            let date = *date;
            let appointments = data
                .appointments
                .iter()
                .filter(|a| on_date(date, a.start_time, a.end_time))
                .filter(|a| room.is_none_or(|room| a.resources.iter().any(|r| r.id == room)))
                .collect();
            let operations = data
                .operations
                .iter()
                .filter(|o| on_date(date, o.start_time, o.end_time))
                .filter(|o| {
                    room.is_none_or(|room| {
                        o.room.id == room || o.devices.iter().any(|d| d.id == room)
                    })
                })
                .collect();
            let breaks = if room.is_some() {
                Vec::new()
            } else {
                data.breaks
                    .iter()
                    .filter(|b| {
                        b.date == date && (b.doctor_id.is_none() || b.doctor_id == break_doctor)
                    })
                    .map(break_item)
                    .collect()
            };
            let covering = data
                .absences
                .iter()
                .filter(|a| a.start_date <= date && date <= a.end_date);
            let notes = if room.is_some() {
                Vec::new()
            } else if break_doctor.is_some() {
                covering
                    .map(|a| absence_note(ctx, a.reason.as_deref()))
                    .collect()
            } else {
                let names: Vec<String> = covering
                    .filter_map(|a| {
                        doctors
                            .iter()
                            .find(|(id, _)| *id == a.doctor_id)
                            .map(|(_, name)| name.clone())
                    })
                    .collect();
                if names.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "{}: {}",
                        ctx.t("calendar.absent"),
                        names.join(", ")
                    )]
                }
            };
            ColumnItems {
                date,
                doctor: None,
                appointments,
                operations,
                breaks,
                notes,
                bookable: bookable_minutes(tz, data, date, None),
            }
        })
        .collect()
}

/// The local minutes of `date` in which a listed doctor (or `doctor`) can be booked: practice
/// hours ∩ the doctor's hours, absent days excluded (the store's `working`).
fn bookable_minutes(
    tz: Tz,
    data: &CalendarData,
    date: NaiveDate,
    doctor: Option<i64>,
) -> Vec<(Minute, Minute)> {
    let Some(day) = local_day(tz, date) else {
        return Vec::new();
    };
    data.working
        .iter()
        .filter(|w| w.date == date && doctor.is_none_or(|d| w.doctor_id == d))
        .flat_map(|w| w.intervals.iter())
        .filter_map(|i| day_minutes(tz, &day, i.start(), i.end()))
        .filter(|(from, to)| from < to)
        .collect()
}

/// The first bookable minute of the hour starting at `hour`, if any.
fn first_bookable_in_hour(bookable: &[(Minute, Minute)], hour: u32) -> Option<Minute> {
    let (from, to) = (hour * 60, hour * 60 + 60);
    bookable
        .iter()
        .filter(|(start, end)| *start < to && *end > from)
        .map(|(start, _)| (*start).max(from))
        .min()
}

/// The month grid: up to four entries per day, then "+n more" (a link to the day).
fn month_grid(ctx: &Context<'_>, data: &CalendarData, range: &CalendarRange) -> MonthGrid {
    const PER_DAY: usize = 4;
    let tz = ctx.tz;
    let room = ctx.cal.scope.room();
    let mut by_date: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, Card)>> = BTreeMap::new();
    for record in &data.appointments {
        if room.is_some_and(|room| !record.resources.iter().any(|r| r.id == room)) {
            continue;
        }
        let date = record.start_time.with_timezone(&tz).date_naive();
        let card = ctx.appointment_card(record, format!("m-a{}", record.id));
        by_date
            .entry(date)
            .or_default()
            .push((record.start_time, card));
    }
    for record in &data.operations {
        if room.is_some_and(|room| {
            record.room.id != room && !record.devices.iter().any(|d| d.id == room)
        }) {
            continue;
        }
        let date = record.start_time.with_timezone(&tz).date_naive();
        let card = ctx.operation_card(record, format!("m-o{}", record.id));
        by_date
            .entry(date)
            .or_default()
            .push((record.start_time, card));
    }
    let lang = ctx.chrome.lang;
    let weekdays = (0..7)
        .filter_map(|n| range.first.checked_add_days(chrono::Days::new(n)))
        .map(|date| super::weekday_short(lang, date.weekday()).to_owned())
        .collect();
    let mut weeks = Vec::new();
    let mut week = Vec::new();
    for offset in 0..layout::MONTH_GRID_DAYS {
        let Some(date) = range.first.checked_add_days(chrono::Days::new(offset)) else {
            break;
        };
        let mut cards = by_date.remove(&date).unwrap_or_default();
        cards.sort_by_key(|(start, _)| *start);
        let hidden = cards.len().saturating_sub(PER_DAY);
        let cards: Vec<Card> = cards
            .into_iter()
            .take(PER_DAY)
            .map(|(_, card)| card)
            .collect();
        let weekday = date.weekday().num_days_from_monday() as usize;
        week.push(MonthCell {
            day: date.day().to_string(),
            full_date: fmt_day(lang, date),
            day_href: ctx.day_href(date),
            in_month: date.month() == ctx.cal.date.month(),
            today: date == ctx.today,
            cards,
            more: (hidden > 0).then(|| NavLink {
                label: format!("+{hidden} {}", ctx.t("calendar.more")),
                href: ctx.day_href(date),
                current: false,
            }),
            new_href: (ctx.can_create
                && !ctx.open[weekday].is_empty()
                && !bookable_minutes(ctx.tz, data, date, None).is_empty())
            .then(|| ctx.new_href(date, None, None)),
        });
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
    }
    MonthGrid { weekdays, weeks }
}

/// `GET /calendar/`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let decision = match user.require(Area::Calendar, Action::List) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    match build(&state, &user, decision, query.as_deref().unwrap_or("")).await {
        Ok(page) => render(&page, &page.chrome.nonce),
        Err(error) => internal(user.lang, error),
    }
}

async fn build(
    state: &AppState,
    user: &WebUser,
    decision: Decision,
    query: &str,
) -> Result<GridPage, StoreError> {
    let tz = state.tz();
    let today = state.today();
    let pairs = wire::url_pairs(query);
    let (mut cal, mut notices) = CalendarQuery::parse(&pairs, today);
    let own = (decision == Decision::Filtered).then_some(user.user.id);
    // A doctor's calendar is always their own.
    if own.is_some() && cal.scope.doctor().is_some() {
        cal.scope = Scope::All;
    }
    let doctors: Vec<UserRecord> = match own {
        Some(_) => vec![user.user.clone()],
        None => state.store.list_doctors().await?,
    };
    if let Some(doctor) = cal.scope.doctor()
        && !doctors.iter().any(|d| d.id == doctor)
    {
        notices.push(QueryNotice::Doctor);
        cal.scope = Scope::All;
    }
    let range = match view_range(tz, cal.view, cal.date) {
        Some(range) => range,
        None => {
            notices.push(QueryNotice::Date);
            cal.date = today;
            view_range(tz, cal.view, today)
                .ok_or_else(|| StoreError::Db("no calendar range for today".to_owned()))?
        }
    };
    let filter = CalendarFilter {
        doctor_id: cal.scope.doctor(),
        own_doctor: own,
        ..CalendarFilter::default()
    };
    let data = state
        .store
        .calendar(tz, &range, &filter, state.now())
        .await?;
    if let Some(room) = cal.scope.room()
        && !data.resources.iter().any(|r| r.id == room)
    {
        notices.push(QueryNotice::Room);
        cal.scope = Scope::All;
    }
    let mut open: [Vec<(Minute, Minute)>; 7] = Default::default();
    for hours in state.store.list_practice_hours(0, 10_000).await? {
        let window = hours.window;
        if window.active && (0..7).contains(&window.weekday) {
            let from = window.start_time.hour() * 60 + window.start_time.minute();
            let to = window.end_time.hour() * 60 + window.end_time.minute();
            open[window.weekday as usize].push((from, to));
        }
    }

    let mut chrome = Chrome::new(user, "nav.calendar", "calendar.title");
    let lang = chrome.lang;
    let ctx = Context {
        chrome: &chrome,
        tz,
        cal,
        can_create: user.can(Area::Appointments, Action::Create),
        own,
        open,
        today,
    };

    // Colours: one class per doctor from the validated colour.
    let mut css = String::new();
    let mut coloured: BTreeMap<i64, String> = BTreeMap::new();
    for doctor in &doctors {
        coloured.insert(doctor.id, doctor.calendar_color.clone());
    }
    for record in &data.appointments {
        coloured
            .entry(record.doctor_id)
            .or_insert_with(|| record.doctor_color.clone());
    }
    for record in &data.operations {
        coloured
            .entry(record.primary_surgeon.id)
            .or_insert_with(|| record.primary_surgeon.calendar_color.clone());
    }
    for (id, colour) in &coloured {
        if let Some(rule) = layout::colour_rule(&format!(".doc-{id}"), colour) {
            css.push_str(&rule);
        }
    }

    let doctor_names: Vec<(i64, String)> = data
        .doctors
        .iter()
        .map(|(doctor, _)| (doctor.id, doctor.display_name()))
        .collect();
    let (time_grid, month) = match cal.view {
        View::Month => (None, Some(month_grid(&ctx, &data, &range))),
        View::Day | View::Week => {
            let dates: Vec<NaiveDate> = (0..=(range.last - range.first).num_days())
                .filter_map(|n| {
                    range
                        .first
                        .checked_add_days(chrono::Days::new(u64::try_from(n).unwrap_or(0)))
                })
                .collect();
            let items = columns(&ctx, &data, &dates, &doctor_names);
            (Some(time_grid(&ctx, items, &mut css)), None)
        }
    };
    // What the page shows: with a room chosen, only the bookings of that room.
    let room = cal.scope.room();
    let appointments_shown: Vec<&AppointmentRecord> = data
        .appointments
        .iter()
        .filter(|a| room.is_none_or(|room| a.resources.iter().any(|r| r.id == room)))
        .collect();
    let operations_shown: Vec<&OperationRecord> = data
        .operations
        .iter()
        .filter(|o| {
            room.is_none_or(|room| o.room.id == room || o.devices.iter().any(|d| d.id == room))
        })
        .collect();
    let (shown_appointments, shown_operations) = (appointments_shown.len(), operations_shown.len());
    let shown_patients: Vec<i32> = appointments_shown
        .iter()
        .map(|a| a.patient_id)
        .chain(operations_shown.iter().map(|o| o.patient_id))
        .collect();
    let empty = shown_appointments == 0 && shown_operations == 0;

    let heading = match cal.view {
        View::Day => fmt_day(lang, cal.date),
        View::Week => format!(
            "{} – {}",
            fmt_day(lang, range.first),
            fmt_day(lang, range.last)
        ),
        View::Month => fmt_month(lang, cal.date),
    };
    let scope_label = match cal.scope {
        Scope::All => None,
        Scope::Doctor(id) => doctors
            .iter()
            .find(|d| d.id == id)
            .map(UserRecord::display_name),
        Scope::Room(id) => data
            .resources
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone()),
    };
    let heading = match scope_label {
        Some(label) => format!("{heading} · {label}"),
        None => heading,
    };
    let views = [View::Day, View::Week, View::Month]
        .into_iter()
        .map(|view| NavLink {
            label: ctx.t(&format!("calendar.view.{}", view.as_str())),
            href: cal.with_view(view).href(),
            current: view == cal.view,
        })
        .collect();
    let prev = NavLink {
        label: ctx.t("calendar.prev"),
        href: cal.at(cal.step(-1)).href(),
        current: false,
    };
    let next = NavLink {
        label: ctx.t("calendar.next"),
        href: cal.at(cal.step(1)).href(),
        current: false,
    };
    let today_link = NavLink {
        label: ctx.t("calendar.today"),
        href: cal.at(today).href(),
        current: false,
    };
    let new_href = ctx.can_create.then(|| {
        let date = if cal.view == View::Day {
            cal.date
        } else {
            today.max(range.first).min(range.last)
        };
        ctx.new_href(date, None, None)
    });
    let print_href = {
        let mut href = format!("/calendar/print/?date={}", cal.date.format("%Y-%m-%d"));
        match cal.scope {
            Scope::Doctor(id) => href.push_str(&format!("&doctor_id={id}")),
            Scope::Room(id) => href.push_str(&format!("&room_id={id}")),
            Scope::All => {}
        }
        href
    };
    let doctor_choices = if own.is_some() {
        Vec::new()
    } else {
        std::iter::once(Choice {
            value: String::new(),
            label: ctx.t("calendar.all_doctors"),
            selected: cal.scope == Scope::All,
        })
        .chain(doctors.iter().map(|doctor| Choice {
            value: doctor.id.to_string(),
            label: doctor.display_name(),
            selected: cal.scope == Scope::Doctor(doctor.id),
        }))
        .collect()
    };
    let room_choices = std::iter::once(Choice {
        value: String::new(),
        label: ctx.t("calendar.no_room"),
        selected: cal.scope.room().is_none(),
    })
    .chain(
        data.resources
            .iter()
            .filter(|r| r.kind == "room")
            .map(|room| Choice {
                value: room.id.to_string(),
                label: room.name.clone(),
                selected: cal.scope == Scope::Room(room.id),
            }),
    )
    .collect();
    let legend = data
        .doctors
        .iter()
        .map(|(doctor, availability)| LegendItem {
            class: format!("doc-{}", doctor.id),
            name: doctor.display_name(),
            availability: ctx.t(availability_key(availability)),
        })
        .collect();
    let flash = param(&pairs, "flash")
        .and_then(|value| flash_key(&value))
        .map(|key| ctx.t(key));
    let notices = notices.iter().map(|notice| ctx.t(notice.key())).collect();
    let undo = match (param(&pairs, "flash").as_deref(), param(&pairs, "undo")) {
        (Some("cancelled"), Some(id)) if ctx.can_create => id.parse::<u32>().ok().map(|id| Undo {
            action: format!("/calendar/appointments/{id}/restore/"),
            was: match param(&pairs, "was").as_deref() {
                Some("confirmed") => "confirmed",
                _ => "scheduled",
            },
            view: cal.view.as_str(),
        }),
        _ => None,
    };

    // The read is audited like the calendar API.
    let view_meta = json!({
        "date": cal.date,
        "doctor_id": cal.scope.doctor(),
        "room_id": cal.scope.room(),
        "patient_id": null,
        "type_id": null,
        "appointments": shown_appointments,
        "operations": shown_operations,
    });
    let listed_meta = json!({
        "doctor_ids": data.doctors.iter().map(|(doctor, _)| doctor.id).collect::<Vec<_>>(),
        "available": data.doctors.iter().filter(|(_, a)| a.is_available()).count(),
    });
    state
        .store
        .record_read_audits(&[
            user.audit(range.view.audit_action(), None, Some(view_meta))
                .with_subjects(shown_patients),
            user.audit("doctor_substitution_list", None, Some(listed_meta)),
        ])
        .await?;

    // No live refresh here: card positions live in the page's nonce'd style element, which a
    // refresh of <main> would not replace.
    chrome.css = css;
    Ok(GridPage {
        chrome,
        heading,
        view: cal.view.as_str(),
        date: cal.date.format("%Y-%m-%d").to_string(),
        views,
        prev,
        today: today_link,
        next,
        new_href,
        print_href,
        doctor_choices,
        room_choices,
        scope_doctor: cal.scope.doctor(),
        scope_room: cal.scope.room(),
        flash,
        undo,
        notices,
        legend,
        time_grid,
        month,
        empty,
    })
}
