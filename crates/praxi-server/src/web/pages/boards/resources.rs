//! `/resources/`: rooms and devices with their bookings for a day (a timeline per resource)
//! or a week (a resource × day grid), absences and breaks of the period shown once above.
//!
//! Reads `Store::calendar_resources` and `Store::resource_calendar` exactly like
//! `GET /api/resource-calendar/` (doctors see only resources and bookings of their own) and
//! audits `resource_calendar_view` `{date, resource_ids?, days?}` like it. Admins and
//! assistants get an edit link to the resource in the admin.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::appointments::ResourceInfo;
use praxi_store::resource_calendar::{
    Booking, BookingKind, CalendarDays, ResourceCalendarQuery, ResourceColumn,
};
use serde_json::json;

use super::timeline::{self, Day, Item, Timeline};
use super::{fmt_day, fmt_time, internal, monday_of, param, parse_date, safe_colour, shift};
use crate::state::AppState;
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// Day or week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum View {
    #[default]
    Day,
    Week,
}

impl View {
    fn parse(text: &str) -> Option<View> {
        match text {
            "day" => Some(View::Day),
            "week" => Some(View::Week),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            View::Day => "day",
            View::Week => "week",
        }
    }

    /// The first shown date and the number of days for `date`.
    pub(crate) fn days(self, date: NaiveDate) -> (NaiveDate, u32) {
        match self {
            View::Day => (date, 1),
            View::Week => (monday_of(date), 7),
        }
    }
}

fn href(view: View, date: NaiveDate) -> String {
    format!(
        "/resources/?view={}&date={}",
        view.as_str(),
        date.format("%Y-%m-%d")
    )
}

/// The text key of a booking kind.
fn kind_key(kind: BookingKind) -> &'static str {
    match kind {
        BookingKind::Absence => "res.kind.absence",
        BookingKind::Appointment => "res.kind.appointment",
        BookingKind::Break => "res.kind.break",
        BookingKind::Operation => "res.kind.operation",
    }
}

/// Absences and breaks are painted into every column by the store (as the original does);
/// the page shows them once: the distinct ones of the first column.
pub(crate) fn shared_bookings(columns: &[ResourceColumn]) -> Vec<Booking> {
    let mut seen = HashSet::new();
    columns
        .iter()
        .flat_map(|column| column.bookings.iter())
        .filter(|booking| matches!(booking.kind, BookingKind::Absence | BookingKind::Break))
        .filter(|booking| seen.insert((booking.kind, booking.id)))
        .cloned()
        .collect()
}

/// The bookings that belong to the resource itself (appointments and operations).
fn own_bookings(column: &ResourceColumn) -> impl Iterator<Item = &Booking> {
    column.bookings.iter().filter(|booking| {
        matches!(
            booking.kind,
            BookingKind::Appointment | BookingKind::Operation
        )
    })
}

/// One booking in a list.
pub(crate) struct Entry {
    pub(crate) time: String,
    pub(crate) kind: String,
    pub(crate) kind_class: &'static str,
    pub(crate) label: String,
    pub(crate) status: String,
    pub(crate) fill: String,
}

/// `HH:MM–HH:MM` of a booking on `date` (a whole-day absence shows "ganztägig").
fn entry(booking: &Booking, lang: Lang, tz: Tz) -> Entry {
    let time = if booking.kind == BookingKind::Absence {
        lang.t("res.all_day").to_owned()
    } else {
        format!(
            "{}–{}",
            fmt_time(tz, booking.start_time),
            fmt_time(tz, booking.end_time)
        )
    };
    Entry {
        time,
        kind: lang.t(kind_key(booking.kind)).to_owned(),
        kind_class: booking.kind.as_str(),
        label: booking.label.clone(),
        status: match booking.status {
            Some("running") => lang.t("res.status.running").to_owned(),
            Some(_) => String::new(),
            None => String::new(),
        },
        fill: safe_colour(booking.color.as_deref()),
    }
}

/// The entries of `bookings` touching `date`.
fn entries_on<'a>(
    bookings: impl Iterator<Item = &'a Booking>,
    day: &Day,
    lang: Lang,
    tz: Tz,
) -> Vec<Entry> {
    bookings
        .filter(|booking| day.span(booking.start_time, booking.end_time).is_some())
        .map(|booking| entry(booking, lang, tz))
        .collect()
}

/// A resource row.
pub(crate) struct ResourceRow {
    pub(crate) dom_id: String,
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) fill: String,
    pub(crate) edit_href: Option<String>,
    pub(crate) edit_label: String,
    pub(crate) edit_aria: String,
    /// Day view.
    pub(crate) timeline: Option<Timeline>,
    pub(crate) timeline_label: String,
    pub(crate) entries: Vec<Entry>,
    /// Week view: one cell per day.
    pub(crate) cells: Vec<Vec<Entry>>,
}

/// Rooms, devices, others.
pub(crate) struct Group {
    pub(crate) title: String,
    pub(crate) dom_id: &'static str,
    pub(crate) rows: Vec<ResourceRow>,
}

/// A day heading of the week grid.
pub(crate) struct DayHead {
    pub(crate) label: String,
    pub(crate) href: String,
    pub(crate) today: bool,
}

/// A view link.
pub(crate) struct ViewLink {
    pub(crate) label: String,
    pub(crate) href: String,
    pub(crate) current: bool,
}

#[derive(Template)]
#[template(path = "boards/resources.html")]
struct ResourcesPage {
    chrome: Chrome,
    notice: Option<String>,
    week: bool,
    heading: String,
    view: &'static str,
    date_value: String,
    prev: ViewLink,
    today: ViewLink,
    next: ViewLink,
    views: Vec<ViewLink>,
    updated: String,
    heads: Vec<DayHead>,
    /// Absences and breaks: for the day view a list, for the week view one cell per day.
    shared: Vec<Entry>,
    shared_cells: Vec<Vec<Entry>>,
    groups: Vec<Group>,
}

/// Rooms first, then devices, then anything else, each by name (the store orders by type).
fn group_of(kind: &str) -> usize {
    match kind {
        "room" => 0,
        "device" => 1,
        _ => 2,
    }
}

struct Context<'a> {
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
    view: View,
    days: &'a [Day],
    can_edit: bool,
}

fn resource_row(
    resource: &ResourceInfo,
    column: Option<&ResourceColumn>,
    ctx: &Context<'_>,
) -> ResourceRow {
    let lang = ctx.lang;
    let own: Vec<&Booking> = column
        .map(|c| own_bookings(c).collect())
        .unwrap_or_default();
    let mut row = ResourceRow {
        dom_id: format!("res-{}", resource.id),
        id: resource.id,
        name: resource.name.clone(),
        kind: match resource.kind.as_str() {
            "room" => lang.t("res.type.room").to_owned(),
            "device" => lang.t("res.type.device").to_owned(),
            other => other.to_owned(),
        },
        fill: safe_colour(Some(&resource.color)),
        edit_href: ctx
            .can_edit
            .then(|| format!("/admin/resources/{}/", resource.id)),
        edit_label: lang.t("res.edit").to_owned(),
        edit_aria: format!("{}: {}", resource.name, lang.t("res.edit")),
        timeline: None,
        timeline_label: format!("{}: {}", lang.t("boards.timeline"), resource.name),
        entries: Vec::new(),
        cells: Vec::new(),
    };
    match ctx.view {
        View::Day => {
            if let Some(day) = ctx.days.first() {
                let items: Vec<Item> = own
                    .iter()
                    .filter_map(|booking| {
                        Some(Item {
                            span: day.span(booking.start_time, booking.end_time)?,
                            fill: safe_colour(booking.color.as_deref()),
                            class: booking.kind.as_str().to_owned(),
                            title: format!(
                                "{}–{} {}",
                                fmt_time(ctx.tz, booking.start_time),
                                fmt_time(ctx.tz, booking.end_time),
                                booking.label
                            ),
                        })
                    })
                    .collect();
                let spans: Vec<_> = items.iter().map(|item| item.span).collect();
                let window = timeline::window(&spans, 7, 19, day);
                row.timeline = Some(timeline::layout(items, window, day, ctx.tz, ctx.now));
                row.entries = entries_on(own.iter().copied(), day, lang, ctx.tz);
            }
        }
        View::Week => {
            row.cells = ctx
                .days
                .iter()
                .map(|day| entries_on(own.iter().copied(), day, lang, ctx.tz))
                .collect();
        }
    }
    row
}

/// `GET /resources/?view=day|week&date=`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = user.lang;
    let decision = match user.require(Area::ResourceCalendar, Action::List) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let (tz, now, today) = (state.tz(), state.now(), state.today());
    let pairs = wire::url_pairs(query.as_deref().unwrap_or_default());
    let mut bad = false;
    let view = match param(&pairs, "view") {
        None => View::default(),
        Some(text) => View::parse(&text).unwrap_or_else(|| {
            bad = true;
            View::default()
        }),
    };
    let date = match param(&pairs, "date") {
        None => today,
        Some(text) => parse_date(&text).unwrap_or_else(|| {
            bad = true;
            today
        }),
    };
    let (first, count) = view.days(date);
    let Some(days) = CalendarDays::new(tz, first, count) else {
        return internal(lang, "date outside the calendar");
    };
    let day_list: Vec<Day> = (0..i64::from(count))
        .filter_map(|offset| Day::new(tz, shift(first, offset)))
        .collect();
    let own_doctor = (decision == Decision::Filtered).then_some(user.user.id);
    let resources = match state.store.calendar_resources(own_doctor).await {
        Ok(resources) => resources,
        Err(error) => return internal(lang, error),
    };
    let query = ResourceCalendarQuery {
        days,
        resource_ids: resources.iter().map(|resource| resource.id).collect(),
        own_doctor,
        now,
    };
    let columns = match state.store.resource_calendar(tz, &query).await {
        Ok(columns) => columns,
        Err(error) => return internal(lang, error),
    };
    let mut meta = json!({"date": first});
    if !columns.is_empty() {
        meta["resource_ids"] = json!(
            columns
                .iter()
                .map(|column| column.resource.id)
                .collect::<Vec<_>>()
        );
    }
    if count != 1 {
        meta["days"] = json!(count);
    }
    if let Err(error) = state
        .store
        .record_audit(&user.audit("resource_calendar_view", None, Some(meta)))
        .await
    {
        return internal(lang, error);
    }

    let ctx = Context {
        lang,
        tz,
        now,
        view,
        days: &day_list,
        can_edit: user.can(Area::Resources, Action::Update),
    };
    let shared = shared_bookings(&columns);
    let mut groups = vec![
        Group {
            title: lang.t("res.rooms").to_owned(),
            dom_id: "resRooms",
            rows: Vec::new(),
        },
        Group {
            title: lang.t("res.devices").to_owned(),
            dom_id: "resDevices",
            rows: Vec::new(),
        },
        Group {
            title: lang.t("res.others").to_owned(),
            dom_id: "resOthers",
            rows: Vec::new(),
        },
    ];
    let mut sorted: Vec<&ResourceInfo> = resources.iter().collect();
    sorted.sort_by(|a, b| {
        (group_of(&a.kind), a.name.as_str(), a.id).cmp(&(group_of(&b.kind), b.name.as_str(), b.id))
    });
    for resource in sorted {
        let column = columns
            .iter()
            .find(|column| column.resource.id == resource.id);
        groups[group_of(&resource.kind)]
            .rows
            .push(resource_row(resource, column, &ctx));
    }
    groups.retain(|group| !group.rows.is_empty());

    let (step, prev_key, next_key) = match view {
        View::Day => (1, "boards.prev_day", "boards.next_day"),
        View::Week => (7, "boards.prev_week", "boards.next_week"),
    };
    let link = |key: &str, target: NaiveDate| ViewLink {
        label: lang.t(key).to_owned(),
        href: href(view, target),
        current: false,
    };
    let heading = match view {
        View::Day => fmt_day(lang, date),
        View::Week => format!(
            "{} – {}",
            fmt_day(lang, days.first()),
            fmt_day(lang, days.last())
        ),
    };
    let mut chrome = Chrome::new(&user, "nav.resources", "res.title");
    chrome.live = Some("resource-calendar");
    let page = ResourcesPage {
        notice: bad.then(|| lang.t("res.bad_query").to_owned()),
        week: view == View::Week,
        heading,
        view: view.as_str(),
        date_value: date.format("%Y-%m-%d").to_string(),
        prev: link(prev_key, shift(date, -step)),
        today: link("boards.today", today),
        next: link(next_key, shift(date, step)),
        views: [View::Day, View::Week]
            .into_iter()
            .map(|option| ViewLink {
                label: lang
                    .t(match option {
                        View::Day => "res.view.day",
                        View::Week => "res.view.week",
                    })
                    .to_owned(),
                href: href(option, date),
                current: option == view,
            })
            .collect(),
        updated: now.with_timezone(&tz).format("%H:%M:%S").to_string(),
        heads: day_list
            .iter()
            .zip(0..)
            .map(|(_, offset)| {
                let shown = shift(first, offset);
                DayHead {
                    label: fmt_day(lang, shown),
                    href: href(View::Day, shown),
                    today: shown == today,
                }
            })
            .collect(),
        shared: match view {
            View::Day => day_list
                .first()
                .map(|day| entries_on(shared.iter(), day, lang, tz))
                .unwrap_or_default(),
            View::Week => Vec::new(),
        },
        shared_cells: match view {
            View::Day => Vec::new(),
            View::Week => day_list
                .iter()
                .map(|day| entries_on(shared.iter(), day, lang, tz))
                .collect(),
        },
        groups,
        chrome,
    };
    render(&page, &page.chrome.nonce)
}

/// Texts of the resource page.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "res.title" => ("Ressourcen & Räume", "Resources & rooms"),
        "res.rooms" => ("Räume", "Rooms"),
        "res.devices" => ("Geräte", "Devices"),
        "res.others" => ("Weitere", "Other"),
        "res.type.room" => ("Raum", "Room"),
        "res.type.device" => ("Gerät", "Device"),
        "res.view" => ("Ansicht", "View"),
        "res.view.day" => ("Tag", "Day"),
        "res.view.week" => ("Woche", "Week"),
        "res.bad_query" => (
            "Ungültige Ansicht oder ungültiges Datum – der heutige Tag wird gezeigt.",
            "Invalid view or date – showing today.",
        ),
        "res.none" => ("Keine Ressourcen.", "No resources."),
        "res.free" => ("frei", "free"),
        "res.resource" => ("Ressource", "Resource"),
        "res.edit" => ("Bearbeiten", "Edit"),
        "res.shared" => ("Abwesenheiten & Pausen", "Absences & breaks"),
        "res.shared_none" => ("Keine Abwesenheiten oder Pausen.", "No absences or breaks."),
        "res.all_day" => ("ganztägig", "all day"),
        "res.kind.absence" => ("Abwesenheit", "Absence"),
        "res.kind.appointment" => ("Termin", "Appointment"),
        "res.kind.break" => ("Pause", "Break"),
        "res.kind.operation" => ("OP", "Surgery"),
        "res.status.running" => ("läuft", "running"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn booking(kind: BookingKind, id: i64) -> Booking {
        let at = Utc.with_ymd_and_hms(2030, 1, 14, 9, 0, 0).unwrap();
        Booking {
            kind,
            id,
            start_time: at,
            end_time: at + chrono::Duration::minutes(30),
            color: None,
            label: format!("{kind:?} {id}"),
            status: None,
            progress: None,
        }
    }

    fn column(id: i64, bookings: Vec<Booking>) -> ResourceColumn {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        ResourceColumn {
            resource: ResourceInfo {
                id,
                name: format!("R{id}"),
                kind: "room".to_owned(),
                color: "#123456".to_owned(),
                active: true,
                created_at: at,
                updated_at: at,
            },
            bookings,
        }
    }

    #[test]
    fn views_cover_one_day_or_the_monday_week() {
        assert_eq!(View::Day.days(date(2030, 1, 16)), (date(2030, 1, 16), 1));
        assert_eq!(View::Week.days(date(2030, 1, 16)), (date(2030, 1, 14), 7));
        assert_eq!(View::Week.days(date(2030, 1, 20)), (date(2030, 1, 14), 7));
        assert_eq!(View::parse("week"), Some(View::Week));
        assert_eq!(View::parse("month"), None);
        assert_eq!(
            href(View::Week, date(2030, 1, 16)),
            "/resources/?view=week&date=2030-01-16"
        );
    }

    #[test]
    fn absences_and_breaks_are_shown_once_not_per_resource() {
        use BookingKind::*;
        let columns = vec![
            column(
                1,
                vec![
                    booking(Appointment, 5),
                    booking(Absence, 1),
                    booking(Break, 2),
                ],
            ),
            column(
                2,
                vec![
                    booking(Operation, 7),
                    booking(Absence, 1),
                    booking(Break, 2),
                ],
            ),
        ];
        let shared: Vec<(BookingKind, i64)> = shared_bookings(&columns)
            .iter()
            .map(|b| (b.kind, b.id))
            .collect();
        assert_eq!(shared, vec![(Absence, 1), (Break, 2)]);
        let own: Vec<i64> = own_bookings(&columns[1]).map(|b| b.id).collect();
        assert_eq!(own, vec![7]);
        assert!(shared_bookings(&[]).is_empty());
    }

    #[test]
    fn rooms_come_before_devices_before_others() {
        assert!(group_of("room") < group_of("device"));
        assert!(group_of("device") < group_of("other"));
    }
}
