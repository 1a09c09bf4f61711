//! Booking and changing appointments from the calendar.
//!
//! * `GET/POST /calendar/new/` — the booking form. The patient is chosen from a server-side
//!   search (`q`: name, number or birth date; a page of matches, never "the first 200").
//! * `GET/POST /calendar/appointments/{id}/` — the edit form (move: date, time, doctor,
//!   resources, type, status, notes); read-only for billing.
//! * `POST …/cancel/` (status cancelled) and `POST …/no-show/` (past appointments).
//!
//! Every write goes through `usecases::appointments` (`book`, `change`, `cancel`,
//! `mark_no_show`) — the exact path of `POST`/`PATCH /api/appointments/` — so the same
//! references, the policy's own-only decision and the scheduling engine decide. Refusals are explained inline in words, with free alternatives as
//! links that prefill the form.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::appointment::{AppointmentStatus, NoShowProblem};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision, Denial};
use praxi_domain::scheduling::{
    AppointmentId, BookingRef, Conflict, ConflictKind, HoursReason, MAX_SUGGEST_LIMIT, PatientId,
    ResourceId, SlotDuration, SlotQuery, SlotSpacing, UserId, local_to_utc_strict,
};
use praxi_store::StoreError;
use praxi_store::admin_lists::{PatientQuery, PatientSort, Window};
use praxi_store::appointments::{AppointmentDraft, AppointmentRecord, ResourceInfo};
use praxi_store::patients::PatientRecord;
use praxi_store::schedule::{HoldFilter, ScheduleScope};
use praxi_store::users::UserRecord;
use serde_json::json;

use super::grid::Choice;
use super::{
    CalendarQuery, Scope, View, enc, fmt_date, fmt_day, fmt_time, internal, param, parse_date,
    parse_time, status_key,
};
use crate::state::AppState;
use crate::usecases::appointments::{
    self, AppointmentInput, AppointmentRefusal, BookingConflict, DraftProblem, books_only_own,
    can_mark_no_show,
};
use crate::usecases::{Caller, Failure, IfMatch, local_days};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render_status};
use crate::wire;

/// Patients listed per search.
const SEARCH_PAGE: u64 = 50;
/// Length of an appointment without an end and without a type duration.
const DEFAULT_MINUTES: i64 = 30;
/// Days searched for the doctor's next free times after a refusal.
const NEXT_FREE_DAYS: u32 = 14;
/// Next free times offered after a refusal.
const NEXT_FREE_LIMIT: usize = 3;

/// The form's values as typed (a re-rendered form shows exactly what was sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FormValues {
    patient_id: String,
    doctor_id: String,
    type_id: String,
    date: String,
    start: String,
    end: String,
    resource_ids: Vec<i64>,
    notes: String,
    status: String,
    /// Where to return: the calendar view, and whether it showed one doctor or a room.
    view: String,
    by_doctor: bool,
    room_id: String,
    /// The user confirmed a booking that starts in the past (e.g. recording a walk-in).
    past_ok: bool,
}

impl FormValues {
    /// From the booking form's query (slot links, alternatives) or a submitted body.
    fn from_pairs(pairs: &[(String, String)]) -> FormValues {
        let get = |name: &str| param(pairs, name).unwrap_or_default();
        let mut values = FormValues {
            patient_id: get("patient_id"),
            doctor_id: get("doctor_id"),
            type_id: get("type_id"),
            date: get("date"),
            start: get("start"),
            end: get("end"),
            resource_ids: pairs
                .iter()
                .filter(|(key, _)| key == "resource_ids")
                .filter_map(|(_, value)| value.trim().parse().ok())
                .collect(),
            notes: pairs
                .iter()
                .rev()
                .find(|(key, _)| key == "notes")
                .map(|(_, value)| value.clone())
                .unwrap_or_default(),
            status: get("status"),
            view: get("view"),
            by_doctor: param(pairs, "by_doctor").is_some(),
            room_id: get("room_id"),
            past_ok: param(pairs, "past_ok").is_some(),
        };
        // A slot link sends `start=YYYY-MM-DDTHH:MM`.
        if let Some((date, time)) = values.start.clone().split_once('T') {
            values.date = date.to_owned();
            values.start = time.to_owned();
        }
        values
    }

    /// The form of a stored appointment.
    fn from_record(record: &AppointmentRecord, tz: Tz) -> FormValues {
        let start = record.start_time.with_timezone(&tz);
        let end = record.end_time.with_timezone(&tz);
        FormValues {
            patient_id: record.patient_id.to_string(),
            doctor_id: record.doctor_id.to_string(),
            type_id: record
                .appointment_type
                .as_ref()
                .map(|t| t.id.to_string())
                .unwrap_or_default(),
            date: start.date_naive().format("%Y-%m-%d").to_string(),
            start: fmt_time(start.time()),
            end: fmt_time(end.time()),
            resource_ids: record.resources.iter().map(|r| r.id).collect(),
            notes: record.notes.clone().unwrap_or_default(),
            status: record.status.as_str().to_owned(),
            view: String::new(),
            by_doctor: false,
            room_id: String::new(),
            past_ok: false,
        }
    }

    /// Overrides from an alternative's link (`doctor_id`, `date`, `start`, `end`).
    fn apply_move(&mut self, pairs: &[(String, String)]) {
        for (name, slot) in [
            ("doctor_id", &mut self.doctor_id),
            ("date", &mut self.date),
            ("start", &mut self.start),
            ("end", &mut self.end),
        ] {
            if let Some(value) = param(pairs, name) {
                *slot = value;
            }
        }
        if let Some(view) = param(pairs, "view") {
            self.view = view;
        }
        self.by_doctor = param(pairs, "by_doctor").is_some();
        if let Some(room) = param(pairs, "room_id") {
            self.room_id = room;
        }
    }

    fn view(&self) -> View {
        View::parse(&self.view).unwrap_or_default()
    }

    /// `view=…[&by_doctor=1][&room_id=…]`: the calendar to return to.
    fn return_query(&self) -> String {
        let mut query = format!("view={}", self.view().as_str());
        if self.by_doctor {
            query.push_str("&by_doctor=1");
        }
        if let Ok(room) = self.room_id.parse::<i64>() {
            query.push_str(&format!("&room_id={room}"));
        }
        query
    }

    /// The query string that prefills the booking form with these values.
    fn prefill_query(&self) -> String {
        let mut query = format!("view={}", enc(self.view().as_str()));
        for (name, value) in [
            ("patient_id", &self.patient_id),
            ("doctor_id", &self.doctor_id),
            ("type_id", &self.type_id),
            ("date", &self.date),
            ("start", &self.start),
            ("end", &self.end),
            ("notes", &self.notes),
            ("room_id", &self.room_id),
        ] {
            if !value.is_empty() {
                query.push_str(&format!("&{name}={}", enc(value)));
            }
        }
        for id in &self.resource_ids {
            query.push_str(&format!("&resource_ids={id}"));
        }
        if self.by_doctor {
            query.push_str("&by_doctor=1");
        }
        query
    }
}

/// Field errors of the form: (field, message).
#[derive(Debug, Default)]
pub(crate) struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub(crate) fn add(&mut self, field: &'static str, message: String) {
        if self.get(field).is_none() {
            self.0.push((field, message));
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The values after parsing (the API's writable fields).
#[derive(Debug, Default)]
struct Parsed {
    patient_id: Option<i64>,
    doctor: Option<i64>,
    type_id: Option<i64>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    status: Option<AppointmentStatus>,
}

/// Reads the form; `full` = booking (patient required), else an edit (patient fixed). An
/// empty end is left `None` (the type's duration applies).
fn parse_form(
    values: &FormValues,
    chrome: &Chrome,
    tz: Tz,
    full: bool,
    errors: &mut FormErrors,
) -> Parsed {
    let t = |key: &str| chrome.t(key);
    let id = |text: &str| text.trim().parse::<i64>().ok().filter(|id| *id > 0);
    let mut parsed = Parsed::default();
    if full {
        match id(&values.patient_id) {
            Some(patient) => parsed.patient_id = Some(patient),
            None => errors.add("patient", t("calendar.err.patient_required")),
        }
    }
    match id(&values.doctor_id) {
        Some(doctor) => parsed.doctor = Some(doctor),
        None => errors.add("doctor", t("calendar.err.doctor_required")),
    }
    if !values.type_id.is_empty() {
        match id(&values.type_id) {
            Some(type_id) => parsed.type_id = Some(type_id),
            None => errors.add("type", t("calendar.err.choice")),
        }
    }
    let date = if values.date.is_empty() {
        errors.add("date", t("calendar.err.required"));
        None
    } else {
        parse_date(&values.date).or_else(|| {
            errors.add("date", t("calendar.err.date"));
            None
        })
    };
    let mut instant = |field: &'static str, text: &str, required: bool| -> Option<DateTime<Utc>> {
        if text.is_empty() {
            if required {
                errors.add(field, t("calendar.err.required"));
            }
            return None;
        }
        let Some(time) = parse_time(text) else {
            errors.add(field, t("calendar.err.time"));
            return None;
        };
        let date = date?;
        local_to_utc_strict(tz, date.and_time(time))
            .map_err(|_| errors.add(field, t("calendar.err.time_gap")))
            .ok()
    };
    parsed.start = instant("start", &values.start, true);
    parsed.end = instant("end", &values.end, false);
    if !full {
        if let Some(status) = AppointmentStatus::parse(&values.status) {
            parsed.status = Some(status);
        } else {
            errors.add("status", t("calendar.err.choice"));
        }
    }
    parsed
}

/// The end of an appointment sent without one: start + the type's duration, else 30 minutes.
fn default_end(start: DateTime<Utc>, type_minutes: Option<i32>) -> DateTime<Utc> {
    let minutes = type_minutes
        .filter(|m| *m > 0)
        .map_or(DEFAULT_MINUTES, i64::from);
    start + TimeDelta::minutes(minutes)
}

/// Start and end of a parsed form; an empty end is the start plus the type's duration (or 30
/// minutes). `None` when the start is missing (parse errors are reported before).
async fn times(
    state: &AppState,
    parsed: &Parsed,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    let Some(start) = parsed.start else {
        return Ok(None);
    };
    if let Some(end) = parsed.end {
        return Ok(Some((start, end)));
    }
    let minutes = match parsed.type_id {
        Some(type_id) => state
            .store
            .appointment_type_info(type_id)
            .await?
            .and_then(|(_, minutes, _)| minutes),
        None => None,
    };
    Ok(Some((start, default_end(start, minutes))))
}

/// The field and text of a refused draft.
fn problem_message(problem: &DraftProblem) -> (&'static str, &'static str) {
    match problem {
        DraftProblem::Incomplete => ("form", "calendar.err.incomplete"),
        DraftProblem::PatientIdInvalid | DraftProblem::PatientUnknown(_) => {
            ("patient", "calendar.err.patient_unknown")
        }
        DraftProblem::EndNotAfterStart => ("end", "calendar.err.end_before_start"),
        DraftProblem::TooLong => ("end", "calendar.err.too_long"),
        DraftProblem::DoctorUnknown(_) => ("doctor", "calendar.err.doctor_unknown"),
        DraftProblem::NotADoctor => ("doctor", "calendar.err.not_a_doctor"),
        DraftProblem::DoctorInactive => ("doctor", "calendar.err.doctor_inactive"),
        DraftProblem::OnlyOwn => ("doctor", "calendar.err.only_own"),
        DraftProblem::TypeUnknown(_) => ("type", "calendar.err.type_unknown"),
        DraftProblem::ResourcesInvalid => ("resources", "calendar.err.resources"),
        DraftProblem::OverrideReasonInvalid => ("override_reason", "calendar.err.override_reason"),
    }
}

/// A link offered after a refusal.
struct AltLink {
    label: String,
    href: String,
}

/// A refusal in words.
struct ConflictView {
    /// "The doctor is not available at this time:" before the reason, if any.
    intro: Option<String>,
    lines: Vec<String>,
    alternatives: Vec<AltLink>,
    next_free: Vec<AltLink>,
    next_free_doctor: String,
}

/// A checkbox of a room or device.
struct ResourceBox {
    id: i64,
    name: String,
    checked: bool,
    inactive: bool,
}

/// What the form page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    New,
    Edit,
    View,
}

#[derive(Template)]
#[template(path = "calendar/form.html")]
struct FormPage {
    chrome: Chrome,
    mode: Mode,
    action: String,
    values: FormValues,
    errors: FormErrors,
    conflict: Option<ConflictView>,
    /// New: the patient search.
    q: String,
    patients: Vec<Choice>,
    patient_note: Option<String>,
    search_hidden: Vec<(String, String)>,
    /// Edit/view: the appointment.
    appointment_id: i32,
    patient_name: String,
    summary: Vec<(String, String)>,
    doctors: Vec<Choice>,
    types: Vec<Choice>,
    statuses: Vec<Choice>,
    rooms: Vec<ResourceBox>,
    devices: Vec<ResourceBox>,
    can_cancel: bool,
    can_no_show: bool,
    back_href: String,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }

    fn is_new(&self) -> bool {
        self.mode == Mode::New
    }

    /// The heading of a refusal: a refused booking was not booked, a refused change was not
    /// saved (the appointment stays as it was).
    fn conflict_title(&self) -> String {
        self.chrome.t(if self.is_new() {
            "calendar.conflict.title"
        } else {
            "calendar.conflict.title_edit"
        })
    }

    fn is_edit(&self) -> bool {
        self.mode == Mode::Edit
    }

    fn is_view(&self) -> bool {
        self.mode == Mode::View
    }
}

/// Choices of the selects and checkboxes; the stored appointment's own doctor, type and
/// resources are listed even when inactive.
async fn choices(
    state: &AppState,
    user: &WebUser,
    chrome: &Chrome,
    values: &FormValues,
    stored: Option<&AppointmentRecord>,
) -> Result<(Vec<Choice>, Vec<Choice>, Vec<ResourceBox>, Vec<ResourceBox>), StoreError> {
    let mut doctors: Vec<(i64, String)> = if books_only_own(&user.actor) {
        vec![(user.user.id, user.user.display_name())]
    } else {
        state
            .store
            .list_doctors()
            .await?
            .iter()
            .map(|d| (d.id, d.display_name()))
            .collect()
    };
    if let Some(stored) = stored
        && !doctors.iter().any(|(id, _)| *id == stored.doctor_id)
    {
        let full = format!(
            "{} {}",
            stored.doctor_first_name.trim(),
            stored.doctor_last_name.trim()
        );
        let name = if full.trim().is_empty() {
            stored.doctor_username.clone()
        } else {
            full.trim().to_owned()
        };
        doctors.push((stored.doctor_id, name));
    }
    let mut doctor_choices = vec![Choice {
        value: String::new(),
        label: chrome.t("calendar.form.doctor_choose"),
        selected: values.doctor_id.is_empty(),
    }];
    doctor_choices.extend(doctors.into_iter().map(|(id, name)| Choice {
        selected: values.doctor_id == id.to_string(),
        value: id.to_string(),
        label: name,
    }));

    let mut types: Vec<(i64, String)> = state
        .store
        .list_appointment_types(Some(true), 0, 10_000)
        .await?
        .into_iter()
        .map(|t| (t.id, t.fields.name))
        .collect();
    if let Some(stored_type) = stored.and_then(|s| s.appointment_type.as_ref())
        && !types.iter().any(|(id, _)| *id == stored_type.id)
    {
        types.push((stored_type.id, stored_type.name.clone()));
    }
    let mut type_choices = vec![Choice {
        value: String::new(),
        label: chrome.t("calendar.form.no_type"),
        selected: values.type_id.is_empty(),
    }];
    type_choices.extend(types.into_iter().map(|(id, name)| Choice {
        selected: values.type_id == id.to_string(),
        value: id.to_string(),
        label: name,
    }));

    let mut resources: Vec<ResourceInfo> = state.store.calendar_resources(None).await?;
    if let Some(stored) = stored {
        for resource in &stored.resources {
            if !resources.iter().any(|r| r.id == resource.id) {
                resources.push(resource.clone());
            }
        }
    }
    let room_id = values.room_id.parse::<i64>().ok();
    let boxes = |kind_is_room: bool| -> Vec<ResourceBox> {
        resources
            .iter()
            .filter(|r| (r.kind == "room") == kind_is_room)
            .map(|r| ResourceBox {
                id: r.id,
                name: r.name.clone(),
                checked: values.resource_ids.contains(&r.id)
                    || (stored.is_none() && room_id == Some(r.id)),
                inactive: !r.active,
            })
            .collect()
    };
    Ok((doctor_choices, type_choices, boxes(true), boxes(false)))
}

/// Where to go after a write: the appointment's date in the view the user came from, showing
/// the appointment (its doctor, or the room when it still books it).
fn return_href(values: &FormValues, record: &AppointmentRecord, tz: Tz, flash: &str) -> String {
    let date = record.start_time.with_timezone(&tz).date_naive();
    let room = values
        .room_id
        .parse::<i64>()
        .ok()
        .filter(|room| record.resources.iter().any(|r| r.id == *room));
    let scope = match (room, values.by_doctor) {
        (Some(room), _) => Scope::Room(room),
        (None, true) => Scope::Doctor(record.doctor_id),
        (None, false) => Scope::All,
    };
    let query = CalendarQuery {
        view: values.view(),
        date,
        scope,
    };
    format!("{}&flash={flash}", query.href())
}

/// The calendar a form's "back" link returns to.
fn back_href(values: &FormValues, today: NaiveDate) -> String {
    let date = parse_date(&values.date).unwrap_or(today);
    let scope = match (
        values.room_id.parse::<i64>().ok(),
        values.doctor_id.parse::<i64>().ok(),
    ) {
        (Some(room), _) => Scope::Room(room),
        (None, Some(doctor)) if values.by_doctor => Scope::Doctor(doctor),
        _ => Scope::All,
    };
    CalendarQuery {
        view: values.view(),
        date,
        scope,
    }
    .href()
}

/// The doctor's free times nearest to the requested start (within two weeks from its day), for
/// the same patient, resources and length, excluding the appointment being moved.
async fn next_free(
    state: &AppState,
    draft: &AppointmentDraft,
    exclude: Option<i32>,
) -> Vec<DateTime<Utc>> {
    let tz = state.tz();
    let from = draft.start_time.with_timezone(&tz).date_naive();
    let Some(to) = from.checked_add_days(chrono::Days::new(u64::from(NEXT_FREE_DAYS - 1))) else {
        return Vec::new();
    };
    let Some(period) = local_days(state, from, to) else {
        return Vec::new();
    };
    let Ok(duration) = SlotDuration::covering(draft.end_time - draft.start_time) else {
        return Vec::new();
    };
    let resource_ids: Vec<i64> = draft.resources.iter().map(|(id, _)| *id).collect();
    let scope = ScheduleScope {
        people: Some(vec![draft.doctor_id]),
        patients: vec![draft.patient_id],
        resources: resource_ids.clone(),
        holds: Some(HoldFilter::alive_at(state.now())),
    };
    let Ok(schedule) = state.store.schedule(tz, period, &scope).await else {
        return Vec::new();
    };
    let mut query = SlotQuery::for_appointment(
        UserId(draft.doctor_id),
        resource_ids.into_iter().map(ResourceId).collect(),
        duration,
        from,
    );
    query.participants.patient = Some(PatientId(draft.patient_id));
    query.days = NEXT_FREE_DAYS;
    query.limit = MAX_SUGGEST_LIMIT;
    query.spacing = SlotSpacing::BackToBack;
    query.exclude = exclude.map(|id| BookingRef::Appointment(AppointmentId(id)));
    let slots: Vec<DateTime<Utc>> = schedule
        .suggest(&query, state.now())
        .map(|slots| slots.iter().map(|slot| slot.start()).collect())
        .unwrap_or_default();
    nearest(slots, draft.start_time, NEXT_FREE_LIMIT)
}

/// The `limit` starts nearest to `wanted` (ties: the earlier), in time order.
fn nearest(
    mut starts: Vec<DateTime<Utc>>,
    wanted: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    starts.sort_by_key(|start| ((*start - wanted).abs(), *start));
    starts.truncate(limit);
    starts.sort_unstable();
    starts
}

/// Explains a refusal in words and lists alternatives as prefilled links.
async fn explain(
    state: &AppState,
    chrome: &Chrome,
    refusal: &BookingConflict,
    draft: &AppointmentDraft,
    values: &FormValues,
    moving: Option<i32>,
) -> ConflictView {
    let tz = state.tz();
    let lang = chrome.lang;
    let t = |key: &str| chrome.t(key);
    let doctors = state.store.list_doctors().await.unwrap_or_default();
    let name_of = |id: i64| {
        doctors
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| format!("#{id}"), UserRecord::display_name)
    };
    let local = |instant: DateTime<Utc>| instant.with_timezone(&tz);
    let mut lines = Vec::new();
    let intro = matches!(refusal, BookingConflict::DoctorUnavailable { .. })
        .then(|| t("calendar.conflict.doctor_unavailable"));
    match refusal {
        BookingConflict::DoctorUnavailable { first, .. } => {
            lines.push(match first {
                Conflict::Holiday(holiday) => format!(
                    "{} {} ({}).",
                    t("calendar.conflict.closed"),
                    fmt_day(lang, holiday.date),
                    holiday.label
                ),
                Conflict::Hours(hours) => {
                    let doctor = name_of(hours.person.0);
                    let day = fmt_day(lang, hours.date);
                    match hours.reason {
                        HoursReason::NoPracticeHours => {
                            format!("{} ({day}).", t("calendar.conflict.no_practice_hours"))
                        }
                        HoursReason::OutsidePracticeHours => {
                            format!("{day}: {}.", t("calendar.conflict.outside_practice"))
                        }
                        HoursReason::NoDoctorHours => format!(
                            "{doctor} {} ({day}).",
                            t("calendar.conflict.no_doctor_hours")
                        ),
                        HoursReason::OutsideDoctorHours => {
                            format!("{day}: {} {doctor}.", t("calendar.conflict.outside_doctor"))
                        }
                    }
                }
                Conflict::Absence(absence) => format!(
                    "{} {} {} {} {}.",
                    name_of(absence.person.0),
                    t("calendar.conflict.absent"),
                    fmt_date(absence.start_date),
                    t("calendar.conflict.until"),
                    fmt_date(absence.end_date)
                ),
                Conflict::Break(pause) => format!(
                    "{} {} {} {} {} {}.",
                    t("calendar.conflict.break"),
                    fmt_time(pause.start),
                    t("calendar.conflict.until"),
                    fmt_time(pause.end),
                    t("calendar.conflict.on"),
                    fmt_day(lang, pause.date)
                ),
                Conflict::Booking(booking) => format!(
                    "{} {} {} {} {} {} ({}).",
                    t("calendar.conflict.double_booking"),
                    fmt_time(local(booking.interval.start()).time()),
                    t("calendar.conflict.until"),
                    fmt_time(local(booking.interval.end()).time()),
                    t("calendar.conflict.on"),
                    fmt_day(lang, local(booking.interval.start()).date_naive()),
                    name_of(booking.person.map_or(draft.doctor_id, |p| p.0))
                ),
            });
        }
        BookingConflict::Resource { resource_ids } => {
            let resources = state
                .store
                .calendar_resources(None)
                .await
                .unwrap_or_default();
            let names: Vec<String> = resource_ids
                .iter()
                .map(|id| {
                    resources
                        .iter()
                        .find(|r| r.id == *id)
                        .map_or_else(|| format!("#{id}"), |r| r.name.clone())
                })
                .collect();
            lines.push(format!(
                "{} {}.",
                t("calendar.conflict.resource"),
                names.join(", ")
            ));
        }
        BookingConflict::Patient => lines.push(t("calendar.conflict.patient")),
        BookingConflict::Other(conflicts) => {
            for conflict in conflicts {
                let line = match conflict {
                    Conflict::Booking(b) if b.kind == ConflictKind::Doctor => format!(
                        "{} {}",
                        name_of(b.person.map_or(draft.doctor_id, |p| p.0)),
                        t("calendar.conflict.doctor_operation")
                    ),
                    Conflict::Booking(b) if b.kind == ConflictKind::Patient => {
                        t("calendar.conflict.patient_operation")
                    }
                    _ => t("calendar.conflict.other"),
                };
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
        }
    }
    let duration = draft.end_time - draft.start_time;
    let link = |doctor: i64, start: DateTime<Utc>| -> String {
        let start_local = local(start);
        let end_local = local(start + duration);
        let mut moved = values.clone();
        moved.doctor_id = doctor.to_string();
        moved.date = start_local.date_naive().format("%Y-%m-%d").to_string();
        moved.start = fmt_time(start_local.time());
        moved.end = fmt_time(end_local.time());
        match moving {
            Some(id) => format!(
                "/calendar/appointments/{id}/?doctor_id={doctor}&date={}&start={}&end={}&{}",
                moved.date,
                enc(&moved.start),
                enc(&moved.end),
                moved.return_query()
            ),
            None => format!("/calendar/new/?{}", moved.prefill_query()),
        }
    };
    let alternatives = match refusal {
        BookingConflict::DoctorUnavailable { alternatives, .. } => alternatives
            .iter()
            .map(|alternative| {
                let start = local(alternative.start);
                AltLink {
                    label: format!(
                        "{} – {} {}",
                        alternative.doctor.display_name(),
                        fmt_day(lang, start.date_naive()),
                        fmt_time(start.time())
                    ),
                    href: link(alternative.doctor.id, alternative.start),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let next_free = next_free(state, draft, moving)
        .await
        .into_iter()
        .map(|start| {
            let local_start = local(start);
            AltLink {
                label: format!(
                    "{} {}",
                    fmt_day(lang, local_start.date_naive()),
                    fmt_time(local_start.time())
                ),
                href: link(draft.doctor_id, start),
            }
        })
        .collect();
    ConflictView {
        intro,
        lines,
        alternatives,
        next_free,
        next_free_doctor: name_of(draft.doctor_id),
    }
}

/// The patient choices of the booking form: the matches of `q` (audited as `patient_search`)
/// and the prefilled patient (audited as `patient_view`).
pub(crate) async fn patient_choices(
    state: &AppState,
    user: &WebUser,
    chrome: &Chrome,
    q: &str,
    selected: &str,
) -> Result<(Vec<Choice>, Option<String>), StoreError> {
    let mut found: Vec<PatientRecord> = Vec::new();
    let mut note = None;
    if !q.is_empty() {
        let query = PatientQuery::parse(q);
        let window = Window {
            offset: 0,
            limit: SEARCH_PAGE,
        };
        let page = state
            .store
            .admin_patients(&query, PatientSort::Name, false, window)
            .await?;
        let ids: Vec<i32> = page.rows.iter().map(|p| p.id).collect();
        state
            .store
            .record_audit(
                &user
                    .audit(
                        "patient_search",
                        None,
                        Some(json!({"query_length": q.chars().count(), "patient_ids": ids})),
                    )
                    .with_subjects(ids.iter().copied()),
            )
            .await?;
        note = Some(if page.rows.is_empty() {
            chrome.t("calendar.form.no_matches")
        } else if page.total > u64::try_from(page.rows.len()).unwrap_or(u64::MAX) {
            format!(
                "{} {} – {}",
                page.total,
                chrome.t("calendar.form.matches"),
                chrome.t("calendar.form.more_matches")
            )
        } else {
            format!("{} {}", page.total, chrome.t("calendar.form.matches"))
        });
        found = page.rows;
    }
    if let Ok(id) = selected.parse::<i32>()
        && !found.iter().any(|p| p.id == id)
        && let Some(patient) = state.store.patient(id).await?
    {
        state
            .store
            .record_audit(&user.audit("patient_view", Some(id), None))
            .await?;
        found.insert(0, patient);
    }
    let mut options = vec![Choice {
        value: String::new(),
        label: chrome.t("calendar.form.patient_choose"),
        selected: selected.is_empty(),
    }];
    options.extend(found.iter().map(|patient| Choice {
        value: patient.id.to_string(),
        label: format!(
            "{} – Nr. {}",
            display_name(
                patient.id,
                &patient.fields.first_name,
                &patient.fields.last_name,
                patient.fields.birth_date
            ),
            patient.id
        ),
        selected: selected == patient.id.to_string(),
    }));
    Ok((options, note))
}

/// Renders the booking form.
async fn new_page(
    state: &AppState,
    user: &WebUser,
    values: FormValues,
    q: String,
    errors: FormErrors,
    conflict: Option<ConflictView>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::new(user, "nav.calendar", "calendar.form.new_title");
    let lang = chrome.lang;
    let loaded = async {
        let (patients, note) =
            patient_choices(state, user, &chrome, &q, &values.patient_id).await?;
        let (doctors, types, rooms, devices) = choices(state, user, &chrome, &values, None).await?;
        Ok::<_, StoreError>((patients, note, doctors, types, rooms, devices))
    }
    .await;
    let (patients, patient_note, doctors, types, rooms, devices) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return internal(lang, error),
    };
    let mut search_hidden: Vec<(String, String)> = [
        ("view", &values.view),
        ("doctor_id", &values.doctor_id),
        ("type_id", &values.type_id),
        ("date", &values.date),
        ("start", &values.start),
        ("end", &values.end),
        ("room_id", &values.room_id),
        ("notes", &values.notes),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| (name.to_owned(), value.clone()))
    .collect();
    search_hidden.extend(
        values
            .resource_ids
            .iter()
            .map(|id| ("resource_ids".to_owned(), id.to_string())),
    );
    if values.by_doctor {
        search_hidden.push(("by_doctor".to_owned(), "1".to_owned()));
    }
    let page = FormPage {
        back_href: back_href(&values, state.today()),
        chrome,
        mode: Mode::New,
        action: "/calendar/new/".to_owned(),
        values,
        errors,
        conflict,
        q,
        patients,
        patient_note,
        search_hidden,
        appointment_id: 0,
        patient_name: String::new(),
        summary: Vec::new(),
        doctors,
        types,
        statuses: Vec::new(),
        rooms,
        devices,
        can_cancel: false,
        can_no_show: false,
    };
    render_status(&page, &page.chrome.nonce, status)
}

/// `GET /calendar/new/`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = user.require(Area::Appointments, Action::Create) {
        return response;
    }
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let mut values = FormValues::from_pairs(&pairs);
    if values.date.is_empty() {
        values.date = state.today().format("%Y-%m-%d").to_string();
    }
    if books_only_own(&user.actor) {
        values.doctor_id = user.user.id.to_string();
    }
    let q = param(&pairs, "q").unwrap_or_default();
    new_page(
        &state,
        &user,
        values,
        q,
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Reads a form body (`application/x-www-form-urlencoded`).
fn body_pairs(body: &Bytes) -> Vec<(String, String)> {
    wire::url_pairs(&String::from_utf8_lossy(body))
}

/// `POST /calendar/new/`: books through the API's path.
pub(super) async fn create(State(state): State<AppState>, user: WebUser, body: Bytes) -> Response {
    let decision = match user.require(Area::Appointments, Action::Create) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let pairs = body_pairs(&body);
    if let Err(response) = user.check_csrf(&param(&pairs, "csrf_token").unwrap_or_default()) {
        return response;
    }
    let tz = state.tz();
    let chrome = Chrome::new(&user, "nav.calendar", "calendar.form.new_title");
    let values = FormValues::from_pairs(&pairs);
    let mut errors = FormErrors::default();
    let parsed = parse_form(&values, &chrome, tz, true, &mut errors);
    let mut conflict = None;
    if errors.is_empty() {
        let (start, end) = match times(&state, &parsed).await {
            Ok(Some(times)) => times,
            Ok(None) => return internal(user.lang, "start missing after parsing"),
            Err(error) => return internal(user.lang, error),
        };
        // A start in the past is most likely a typo: booked only once the user confirms it.
        if start < state.now() && !values.past_ok {
            errors.add("past", chrome.t("calendar.err.past"));
            return new_page(
                &state,
                &user,
                values,
                String::new(),
                errors,
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
        let input = AppointmentInput {
            patient_id: parsed.patient_id,
            doctor: parsed.doctor,
            type_id: Some(parsed.type_id),
            resource_ids: Some(values.resource_ids.clone()),
            start_time: Some(start),
            end_time: Some(end),
            status: None,
            notes: Some(Some(values.notes.clone())),
            ..AppointmentInput::default()
        };
        match appointments::book(&state, &Caller::from(&user), decision, input).await {
            Ok(record) => {
                return Redirect::to(&return_href(&values, &record, tz, "created")).into_response();
            }
            Err(failure) => match refused(&user, failure) {
                Ok(Refused::Conflict(refusal, draft)) => {
                    conflict =
                        Some(explain(&state, &chrome, &refusal, &draft, &values, None).await);
                }
                Ok(Refused::Form(field, key)) => errors.add(field, chrome.t(key)),
                Err(response) => return response,
            },
        }
    }
    let status = if conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    new_page(
        &state,
        &user,
        values,
        String::new(),
        errors,
        conflict,
        status,
    )
    .await
}

/// Reads the appointment of the path (404 page for an unknown or malformed id).
async fn find(state: &AppState, user: &WebUser, id: &str) -> Result<AppointmentRecord, Response> {
    let not_found = || error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found");
    let Ok(id) = id.trim().parse::<i32>() else {
        return Err(not_found());
    };
    match state.store.appointment(id).await {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(not_found()),
        Err(error) => Err(internal(user.lang, error)),
    }
}

/// The doctor-only-own rule of the policy for one appointment.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn check_own(
    user: &WebUser,
    decision: Decision,
    record: &AppointmentRecord,
) -> Result<(), Response> {
    match decision {
        Decision::OwnOnly(denial) if record.doctor_id != user.user.id => {
            let (status, key) = match denial {
                Denial::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
                _ => (StatusCode::FORBIDDEN, "error.forbidden"),
            };
            Err(error_page(user.lang, status, key))
        }
        _ => Ok(()),
    }
}

/// Renders the edit form (or the read-only view for roles that may not change appointments).
/// Showing it is audited like `GET /api/appointments/{id}/` (`appointment_view`).
async fn edit_page(
    state: &AppState,
    user: &WebUser,
    record: &AppointmentRecord,
    values: FormValues,
    errors: FormErrors,
    conflict: Option<ConflictView>,
    status: StatusCode,
) -> Response {
    let editable = user.can(Area::Appointments, Action::Update);
    let title = if editable {
        "calendar.form.edit_title"
    } else {
        "calendar.form.view_title"
    };
    let chrome = Chrome::new(user, "nav.calendar", title);
    let lang = chrome.lang;
    if let Err(error) = state
        .store
        .record_audit(&user.audit("appointment_view", Some(record.patient_id), None))
        .await
    {
        return internal(lang, error);
    }
    let (doctors, types, rooms, devices) =
        match choices(state, user, &chrome, &values, Some(record)).await {
            Ok(loaded) => loaded,
            Err(error) => return internal(lang, error),
        };
    let tz = state.tz();
    let start = record.start_time.with_timezone(&tz);
    let end = record.end_time.with_timezone(&tz);
    let doctor_name = {
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
    };
    let mut status_text = chrome.t(status_key(record.status));
    if record.is_no_show {
        status_text = format!("{status_text}, {}", chrome.t("calendar.no_show"));
    }
    let resources: Vec<&str> = record.resources.iter().map(|r| r.name.as_str()).collect();
    let summary = vec![
        (
            chrome.t("calendar.form.date"),
            fmt_day(lang, start.date_naive()),
        ),
        (
            chrome.t("calendar.time"),
            format!("{}–{}", fmt_time(start.time()), fmt_time(end.time())),
        ),
        (chrome.t("calendar.doctor"), doctor_name),
        (
            chrome.t("calendar.form.type"),
            record
                .appointment_type
                .as_ref()
                .map_or_else(|| chrome.t("calendar.no_type"), |t| t.name.clone()),
        ),
        (
            chrome.t("calendar.form.resources"),
            if resources.is_empty() {
                chrome.t("calendar.form.resources_none")
            } else {
                resources.join(", ")
            },
        ),
        (chrome.t("calendar.form.status"), status_text),
        (
            chrome.t("calendar.form.notes"),
            record.notes.clone().unwrap_or_default(),
        ),
    ];
    let statuses = AppointmentStatus::ALL
        .iter()
        .map(|status| Choice {
            value: status.as_str().to_owned(),
            label: chrome.t(status_key(*status)),
            selected: values.status == status.as_str(),
        })
        .collect();
    let can_cancel = editable && record.status != AppointmentStatus::Cancelled;
    let can_no_show = editable && !record.is_no_show && can_mark_no_show(record, state.now());
    let mut back = values.clone();
    back.date = start.date_naive().format("%Y-%m-%d").to_string();
    let page = FormPage {
        back_href: back_href(&back, state.today()),
        chrome,
        mode: if editable { Mode::Edit } else { Mode::View },
        action: format!("/calendar/appointments/{}/", record.id),
        values,
        errors,
        conflict,
        q: String::new(),
        patients: Vec::new(),
        patient_note: None,
        search_hidden: Vec::new(),
        appointment_id: record.id,
        patient_name: display_name(
            record.patient_id,
            &record.patient_first_name,
            &record.patient_last_name,
            record.patient_birth_date,
        ),
        summary,
        doctors,
        types,
        statuses,
        rooms,
        devices,
        can_cancel,
        can_no_show,
    };
    render_status(&page, &page.chrome.nonce, status)
}

/// `GET /calendar/appointments/{id}/`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let decision = match user.require(Area::Appointments, Action::Read) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let record = match find(&state, &user, &id).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    if let Err(response) = check_own(&user, decision, &record) {
        return response;
    }
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let mut values = FormValues::from_record(&record, state.tz());
    values.apply_move(&pairs);
    edit_page(
        &state,
        &user,
        &record,
        values,
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The checks of every write on one appointment: policy, own record, CSRF.
async fn writable(
    state: &AppState,
    user: &WebUser,
    id: &str,
    pairs: &[(String, String)],
) -> Result<(Decision, AppointmentRecord), Response> {
    let decision = user.require(Area::Appointments, Action::Update)?;
    let record = find(state, user, id).await?;
    check_own(user, decision, &record)?;
    user.check_csrf(&param(pairs, "csrf_token").unwrap_or_default())?;
    Ok((decision, record))
}

/// How a page shows a refused appointment use case.
enum Refused {
    /// The engine refused: explain it with alternatives.
    Conflict(BookingConflict, Box<AppointmentDraft>),
    /// A field rule: the field and the text key.
    Form(&'static str, &'static str),
}

/// Sorts a failed use case into what the form shows, or the finished error page.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished error page"
)]
fn refused(user: &WebUser, failure: Failure<AppointmentRefusal>) -> Result<Refused, Response> {
    match failure {
        Failure::Store(error) => Err(internal(user.lang, error)),
        Failure::Refused(refusal) => match refusal {
            AppointmentRefusal::Conflict { conflict, draft } => {
                Ok(Refused::Conflict(conflict, draft))
            }
            AppointmentRefusal::Invalid(problem) => {
                let (field, key) = problem_message(&problem);
                Ok(Refused::Form(field, key))
            }
            AppointmentRefusal::NoShow(NoShowProblem::NotPast) => {
                Ok(Refused::Form("form", "calendar.err.no_show_future"))
            }
            AppointmentRefusal::NoShow(NoShowProblem::WrongStatus) => {
                Ok(Refused::Form("form", "calendar.err.no_show_status"))
            }
            AppointmentRefusal::Stale => Ok(Refused::Form("form", "calendar.err.stale")),
            AppointmentRefusal::NotFound | AppointmentRefusal::Denied(Denial::NotFound) => Err(
                error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found"),
            ),
            AppointmentRefusal::Denied(_) => Err(error_page(
                user.lang,
                StatusCode::FORBIDDEN,
                "error.forbidden",
            )),
        },
    }
}

/// `POST /calendar/appointments/{id}/`: moves/changes through the API's update path.
pub(super) async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = body_pairs(&body);
    let (decision, stored) = match writable(&state, &user, &id, &pairs).await {
        Ok(writable) => writable,
        Err(response) => return response,
    };
    let tz = state.tz();
    let chrome = Chrome::new(&user, "nav.calendar", "calendar.form.edit_title");
    let mut values = FormValues::from_pairs(&pairs);
    values.patient_id = stored.patient_id.to_string();
    let mut errors = FormErrors::default();
    let parsed = parse_form(&values, &chrome, tz, false, &mut errors);
    let mut conflict = None;
    if errors.is_empty() {
        let (start, end) = match times(&state, &parsed).await {
            Ok(Some(times)) => times,
            Ok(None) => return internal(user.lang, "start missing after parsing"),
            Err(error) => return internal(user.lang, error),
        };
        let mut stored_ids: Vec<i64> = stored.resources.iter().map(|r| r.id).collect();
        let mut sent_ids = values.resource_ids.clone();
        stored_ids.sort_unstable();
        sent_ids.sort_unstable();
        sent_ids.dedup();
        let input = AppointmentInput {
            patient_id: None,
            doctor: parsed.doctor,
            type_id: Some(parsed.type_id),
            // An unchanged set is not re-sent, so a resource deactivated since does not block
            // other changes.
            resource_ids: (sent_ids != stored_ids).then(|| values.resource_ids.clone()),
            start_time: Some(start),
            end_time: Some(end),
            status: parsed.status,
            notes: Some(Some(values.notes.clone())),
            ..AppointmentInput::default()
        };
        let caller = Caller::from(&user);
        let result = appointments::change(
            &state,
            &caller,
            decision,
            &stored,
            input,
            &IfMatch::default(),
        )
        .await;
        match result {
            Ok(record) => {
                return Redirect::to(&return_href(&values, &record, tz, "updated")).into_response();
            }
            Err(failure) => match refused(&user, failure) {
                Ok(Refused::Conflict(refusal, draft)) => {
                    conflict = Some(
                        explain(&state, &chrome, &refusal, &draft, &values, Some(stored.id)).await,
                    );
                }
                Ok(Refused::Form(field, key)) => errors.add(field, chrome.t(key)),
                Err(response) => return response,
            },
        }
    }
    let status = if conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    edit_page(&state, &user, &stored, values, errors, conflict, status).await
}

/// `POST /calendar/appointments/{id}/cancel/`: status cancelled through the update path.
pub(super) async fn cancel(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    one_button(&state, &user, &id, &body, Button::Cancel).await
}

/// `POST /calendar/appointments/{id}/restore/`: undoes a cancellation — the status it had
/// before (`was`: scheduled or confirmed) through the update path, so the engine checks the
/// time again (someone may have booked it meanwhile).
pub(super) async fn restore(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = body_pairs(&body);
    let (decision, stored) = match writable(&state, &user, &id, &pairs).await {
        Ok(writable) => writable,
        Err(response) => return response,
    };
    let mut values = FormValues::from_record(&stored, state.tz());
    values.view = param(&pairs, "view").unwrap_or_default();
    let tz = state.tz();
    if stored.status != AppointmentStatus::Cancelled {
        // Already restored (a second click): nothing to do.
        return Redirect::to(&return_href(&values, &stored, tz, "restored")).into_response();
    }
    let was = match param(&pairs, "was").and_then(|text| text.parse::<AppointmentStatus>().ok()) {
        Some(status @ (AppointmentStatus::Scheduled | AppointmentStatus::Confirmed)) => status,
        _ => AppointmentStatus::Scheduled,
    };
    let input = AppointmentInput {
        status: Some(was),
        ..AppointmentInput::default()
    };
    let caller = Caller::from(&user);
    let result = appointments::change(
        &state,
        &caller,
        decision,
        &stored,
        input,
        &IfMatch::default(),
    )
    .await;
    let chrome = Chrome::new(&user, "nav.calendar", "calendar.form.edit_title");
    let mut errors = FormErrors::default();
    let mut conflict = None;
    match result {
        Ok(record) => {
            return Redirect::to(&return_href(&values, &record, tz, "restored")).into_response();
        }
        Err(failure) => match refused(&user, failure) {
            Ok(Refused::Conflict(refusal, draft)) => {
                errors.add("form", chrome.t("calendar.err.restore_conflict"));
                conflict = Some(
                    explain(&state, &chrome, &refusal, &draft, &values, Some(stored.id)).await,
                );
            }
            Ok(Refused::Form(field, key)) => errors.add(field, chrome.t(key)),
            Err(response) => return response,
        },
    }
    let status = if conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    edit_page(&state, &user, &stored, values, errors, conflict, status).await
}

/// `POST /calendar/appointments/{id}/no-show/`: the no-show use case.
pub(super) async fn no_show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    one_button(&state, &user, &id, &body, Button::NoShow).await
}

/// The one-button actions of the edit page.
#[derive(Debug, Clone, Copy)]
enum Button {
    Cancel,
    NoShow,
}

async fn one_button(
    state: &AppState,
    user: &WebUser,
    id: &str,
    body: &Bytes,
    button: Button,
) -> Response {
    let pairs = body_pairs(body);
    let (decision, stored) = match writable(state, user, id, &pairs).await {
        Ok(writable) => writable,
        Err(response) => return response,
    };
    let mut values = FormValues::from_record(&stored, state.tz());
    values.view = param(&pairs, "view").unwrap_or_default();
    let caller = Caller::from(user);
    let if_match = IfMatch::default();
    let (result, flash) = match button {
        // The calendar offers to undo the cancellation (back to the status it had).
        Button::Cancel => (
            appointments::cancel(state, &caller, decision, &stored, &if_match).await,
            format!(
                "cancelled&undo={}&was={}",
                stored.id,
                stored.status.as_str()
            ),
        ),
        Button::NoShow => (
            appointments::mark_no_show(state, &caller, decision, stored.id, &if_match).await,
            "no_show".to_owned(),
        ),
    };
    finish(state, user, &stored, values, result, &flash).await
}

/// After a one-button action: back to the calendar with a flash, or the edit page explaining
/// the refusal.
async fn finish(
    state: &AppState,
    user: &WebUser,
    stored: &AppointmentRecord,
    values: FormValues,
    result: Result<AppointmentRecord, Failure<AppointmentRefusal>>,
    flash: &str,
) -> Response {
    let key = match result {
        Ok(record) => {
            return Redirect::to(&return_href(&values, &record, state.tz(), flash)).into_response();
        }
        Err(failure) => match refused(user, failure) {
            Ok(Refused::Form(field, key)) => (field, key),
            Ok(Refused::Conflict(..)) => {
                return internal(user.lang, "a status-only change was refused by the engine");
            }
            Err(response) => return response,
        },
    };
    let chrome = Chrome::new(user, "nav.calendar", "calendar.form.edit_title");
    let mut errors = FormErrors::default();
    errors.add(key.0, chrome.t(key.1));
    edit_page(
        state,
        user,
        stored,
        values,
        errors,
        None,
        StatusCode::BAD_REQUEST,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    #[test]
    fn slot_links_and_alternatives_prefill_the_form_and_round_trip() {
        let pairs = wire::url_pairs(
            "start=2030-01-14T09:00&doctor_id=3&by_doctor=1&view=day&resource_ids=4&resource_ids=x&notes=a%26b",
        );
        let values = FormValues::from_pairs(&pairs);
        assert_eq!(values.date, "2030-01-14");
        assert_eq!(values.start, "09:00");
        assert_eq!(values.doctor_id, "3");
        assert!(
            values.by_doctor,
            "a doctor prefill returns to that doctor's calendar"
        );
        assert_eq!(values.resource_ids, vec![4]);
        assert_eq!(values.notes, "a&b");
        let again = FormValues::from_pairs(&wire::url_pairs(&values.prefill_query()));
        assert_eq!(again, values);
    }

    #[test]
    fn appointments_without_an_end_last_the_type_duration_or_thirty_minutes() {
        let start = Utc.with_ymd_and_hms(2030, 1, 14, 8, 0, 0).unwrap();
        let cases = [(None, 30), (Some(45), 45), (Some(0), 30), (Some(-5), 30)];
        for (type_minutes, minutes) in cases {
            assert_eq!(
                default_end(start, type_minutes),
                start + TimeDelta::minutes(minutes),
                "{type_minutes:?}"
            );
        }
    }

    #[test]
    fn every_draft_problem_names_a_form_field_and_a_text() {
        let problems = [
            DraftProblem::Incomplete,
            DraftProblem::PatientIdInvalid,
            DraftProblem::EndNotAfterStart,
            DraftProblem::TooLong,
            DraftProblem::PatientUnknown(1),
            DraftProblem::DoctorUnknown(1),
            DraftProblem::NotADoctor,
            DraftProblem::DoctorInactive,
            DraftProblem::OnlyOwn,
            DraftProblem::TypeUnknown(1),
            DraftProblem::ResourcesInvalid,
        ];
        for problem in problems {
            let (field, key) = problem_message(&problem);
            assert!(
                ["form", "patient", "end", "doctor", "type", "resources"].contains(&field),
                "{problem:?}"
            );
            assert!(super::super::texts(key).is_some(), "{key} has no text");
        }
    }

    #[test]
    fn the_offered_free_times_are_the_nearest_to_the_wanted_start() {
        let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2030, 1, 14, h, m, 0).unwrap();
        let starts = vec![at(8, 0), at(8, 30), at(9, 30), at(10, 0), at(10, 30)];
        assert_eq!(
            nearest(starts.clone(), at(9, 15), 3),
            vec![at(8, 30), at(9, 30), at(10, 0)]
        );
        assert_eq!(
            nearest(starts.clone(), at(7, 0), 2),
            vec![at(8, 0), at(8, 30)]
        );
        assert_eq!(nearest(starts, at(9, 0), 10).len(), 5);
        assert!(nearest(Vec::new(), at(9, 0), 3).is_empty());
    }

    #[test]
    fn form_errors_keep_the_first_message_per_field() {
        let mut errors = FormErrors::default();
        assert!(errors.is_empty());
        errors.add("date", "a".to_owned());
        errors.add("date", "b".to_owned());
        assert_eq!(errors.get("date"), Some("a"));
        assert_eq!(errors.get("start"), None);
    }

    #[test]
    fn the_form_returns_to_the_calendar_it_came_from() {
        let values = FormValues {
            date: "2030-01-16".to_owned(),
            view: "day".to_owned(),
            doctor_id: "3".to_owned(),
            by_doctor: true,
            ..FormValues::default()
        };
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        assert_eq!(
            back_href(&values, today),
            "/calendar/?view=day&date=2030-01-16&doctor_id=3"
        );
        let plain = FormValues::default();
        assert_eq!(
            back_href(&plain, today),
            "/calendar/?view=week&date=2030-01-01"
        );
        let time = NaiveTime::from_hms_opt(9, 5, 0).unwrap();
        assert_eq!(fmt_time(time), "09:05");
    }
}
