//! `GET /calendar/print/?date=&doctor_id=|room_id=`: the day schedule of a doctor, a room or
//! the whole practice as a table, styled for paper. Audited as an appointment list read
//! (`appointment_list`, like `GET /api/appointments/`).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_store::StoreError;
use praxi_store::calendar::CalendarFilter;
use praxi_store::users::UserRecord;
use serde_json::json;

use super::grid::{Choice, view_range};
use super::{
    CalendarQuery, QueryNotice, Scope, View, fmt_date, fmt_day, fmt_time, internal,
    operation_status_key, status_key,
};
use crate::state::AppState;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// One line of the schedule.
struct Row {
    start: DateTime<Utc>,
    time: String,
    patient: String,
    kind: String,
    place: String,
    notes: String,
    status: String,
    struck: bool,
}

#[derive(Template)]
#[template(path = "calendar/print.html")]
struct PrintPage {
    chrome: Chrome,
    heading: String,
    date: String,
    rows: Vec<Row>,
    doctor_choices: Vec<Choice>,
    room_choices: Vec<Choice>,
    notices: Vec<String>,
    back_href: String,
    printed: String,
}

/// `GET /calendar/print/`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let decision = match user.require(Area::Appointments, Action::List) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    match build(&state, &user, decision, query.as_deref().unwrap_or("")).await {
        Ok(page) => render(&page, &page.chrome.nonce),
        Err(error) => internal(user.lang, error),
    }
}

fn person(first: &str, last: &str, username: &str) -> String {
    let full = format!("{} {}", first.trim(), last.trim());
    let full = full.trim();
    if full.is_empty() {
        username.to_owned()
    } else {
        full.to_owned()
    }
}

async fn build(
    state: &AppState,
    user: &WebUser,
    decision: Decision,
    query: &str,
) -> Result<PrintPage, StoreError> {
    let tz = state.tz();
    let today = state.today();
    let pairs = wire::url_pairs(query);
    let (mut cal, mut notices) = CalendarQuery::parse(&pairs, today);
    notices.retain(|notice| *notice != QueryNotice::View);
    cal.view = View::Day;
    let own = (decision == Decision::Filtered).then_some(user.user.id);
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
    let range = match view_range(tz, View::Day, cal.date) {
        Some(range) => range,
        None => {
            notices.push(QueryNotice::Date);
            cal.date = today;
            view_range(tz, View::Day, today)
                .ok_or_else(|| StoreError::Db("no range for today".to_owned()))?
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
    let room = cal.scope.room();
    let chrome = Chrome::new(user, "nav.calendar", "calendar.print.title");
    let lang = chrome.lang;
    let span = |start: DateTime<Utc>, end: DateTime<Utc>| {
        let (start, end) = (start.with_timezone(&tz), end.with_timezone(&tz));
        if start.date_naive() == end.date_naive() {
            format!("{}–{}", fmt_time(start.time()), fmt_time(end.time()))
        } else {
            format!(
                "{} {}–{} {}",
                fmt_date(start.date_naive()),
                fmt_time(start.time()),
                fmt_date(end.date_naive()),
                fmt_time(end.time())
            )
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let appointments: Vec<_> = data
        .appointments
        .iter()
        .filter(|a| room.is_none_or(|room| a.resources.iter().any(|r| r.id == room)))
        .collect();
    for record in &appointments {
        let mut place = vec![person(
            &record.doctor_first_name,
            &record.doctor_last_name,
            &record.doctor_username,
        )];
        place.extend(record.resources.iter().map(|r| r.name.clone()));
        let mut status = chrome.t(status_key(record.status));
        if record.is_no_show {
            status = format!("{status}, {}", chrome.t("calendar.no_show"));
        }
        rows.push(Row {
            start: record.start_time,
            time: span(record.start_time, record.end_time),
            patient: display_name(
                record.patient_id,
                &record.patient_first_name,
                &record.patient_last_name,
                record.patient_birth_date,
            ),
            kind: record
                .appointment_type
                .as_ref()
                .map_or_else(|| chrome.t("calendar.no_type"), |t| t.name.clone()),
            place: place.join(" · "),
            notes: record.notes.clone().unwrap_or_default(),
            status,
            struck: record.status == AppointmentStatus::Cancelled,
        });
    }
    let operations: Vec<_> = data
        .operations
        .iter()
        .filter(|o| {
            room.is_none_or(|room| o.room.id == room || o.devices.iter().any(|d| d.id == room))
        })
        .collect();
    for record in &operations {
        rows.push(Row {
            start: record.start_time,
            time: span(record.start_time, record.end_time),
            patient: display_name(
                record.patient_id,
                &record.patient_first_name,
                &record.patient_last_name,
                record.patient_birth_date,
            ),
            kind: format!(
                "{}: {}",
                chrome.t("calendar.operation"),
                record.op_type.name
            ),
            place: format!(
                "{} · {}",
                record.primary_surgeon.display_name(),
                record.room.name
            ),
            notes: record.notes.clone().unwrap_or_default(),
            status: chrome.t(operation_status_key(record.status())),
            struck: record.status() == OperationStatus::Cancelled,
        });
    }
    rows.sort_by_key(|row| row.start);

    state
        .store
        .record_audit(
            &user
                .audit(
                    "appointment_list",
                    None,
                    Some(json!({"count": appointments.len(), "operations": operations.len()})),
                )
                .with_subjects(
                    appointments
                        .iter()
                        .map(|a| a.patient_id)
                        .chain(operations.iter().map(|o| o.patient_id)),
                ),
        )
        .await?;

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
    let mut heading = fmt_day(lang, cal.date);
    if let Some(label) = scope_label {
        heading.push_str(&format!(" – {label}"));
    }
    let doctor_choices = if own.is_some() {
        Vec::new()
    } else {
        std::iter::once(Choice {
            value: String::new(),
            label: chrome.t("calendar.all_doctors"),
            selected: cal.scope.doctor().is_none(),
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
        label: chrome.t("calendar.no_room"),
        selected: room.is_none(),
    })
    .chain(
        data.resources
            .iter()
            .filter(|r| r.kind == "room")
            .map(|r| Choice {
                value: r.id.to_string(),
                label: r.name.clone(),
                selected: room == Some(r.id),
            }),
    )
    .collect();
    let now = state.now().with_timezone(&tz);
    Ok(PrintPage {
        heading,
        date: cal.date.format("%Y-%m-%d").to_string(),
        rows,
        doctor_choices,
        room_choices,
        notices: notices
            .iter()
            .map(|notice| chrome.t(notice.key()))
            .collect(),
        back_href: cal.href(),
        printed: format!("{} {}", fmt_date(now.date_naive()), fmt_time(now.time())),
        chrome,
    })
}
