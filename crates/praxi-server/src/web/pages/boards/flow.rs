//! `/flow/`: the patient-flow board ("Wartezimmer").
//!
//! * `GET /flow/` — today's flows in one column per status (registered → … → done), each card
//!   with the patient, the appointment or operation, arrival time and the wait/treatment minutes
//!   the store computes from the status history; below, the day list of today's appointments
//!   with an "arrived" button for those without a flow. Reads the API's live window
//!   (`GET /api/patient-flow/live/`) plus the flows finished today, and audits like the API
//!   (`patient_flow_view`, `appointment_list`).
//! * `POST /flow/{id}/status/` — one step forward, through `Store::update_patient_flow` exactly
//!   like `PATCH /api/patient-flow/{id}/status/` (the store writes the history row and
//!   `patient_flow_status_update`).
//! * `POST /flow/arrive/` — creates the flow of an appointment with status `waiting` through
//!   `Store::create_patient_flow` like `POST /api/patient-flow/` (the domain's initial state
//!   sets the arrival time; audit `patient_flow_create`).
//!
//! Doctors see and move only their own flows (a foreign flow is a 404, a foreign appointment a
//! 403, as in the API); billing reads without buttons and its posts are refused.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use praxi_domain::appointment::{AppointmentStatus, NoShowProblem, no_show_problem};
use praxi_domain::flow::{FlowLink, FlowStatus, FlowTimes, TransitionError, initial_state};
use praxi_domain::patient::display_name;
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::local_day;
use praxi_store::StoreError;
use praxi_store::appointments::{AppointmentFilter, AppointmentRecord};
use praxi_store::flow::{FlowFilter, FlowRecord, LiveWindow, NewFlow};
use praxi_store::flow_board::FinishedFlow;
use praxi_store::resource_calendar::person_name;
use serde::Deserialize;
use serde_json::json;

use super::{Flash, denial_page, fmt_time, internal, param};
use crate::state::AppState;
use crate::usecases::appointments::{self, AppointmentRefusal};
use crate::usecases::flow::{self, FlowRefusal, FlowStart};
use crate::usecases::{Caller, Failure, IfMatch};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render};
use crate::wire;

/// How long a status change keeps a flow on today's board (the API's live window).
const LIVE_RECENT_HOURS: i64 = 12;
/// From this many minutes on a wait is marked as long (text and colour).
pub(crate) const LONG_WAIT_MINUTES: i64 = 30;

/// The text key of a status.
pub(crate) fn status_key(status: FlowStatus) -> &'static str {
    match status {
        FlowStatus::Registered => "flow.status.registered",
        FlowStatus::Waiting => "flow.status.waiting",
        FlowStatus::Preparing => "flow.status.preparing",
        FlowStatus::InTreatment => "flow.status.in_treatment",
        FlowStatus::PostTreatment => "flow.status.post_treatment",
        FlowStatus::Done => "flow.status.done",
    }
}

/// The text key of the button that moves a flow to `to`.
fn step_key(to: FlowStatus) -> &'static str {
    match to {
        FlowStatus::Registered => "flow.status.registered",
        FlowStatus::Waiting => "flow.step.waiting",
        FlowStatus::Preparing => "flow.step.preparing",
        FlowStatus::InTreatment => "flow.step.in_treatment",
        FlowStatus::PostTreatment => "flow.step.post_treatment",
        FlowStatus::Done => "flow.step.done",
    }
}

/// Why a board write was refused: the flash code in the redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The flow's status changed since the page was shown.
    Stale,
    /// Not one step forward.
    InvalidStep,
    /// A `done` flow.
    ReadOnly,
    /// The flow or appointment does not exist (any more).
    Gone,
    /// The appointment already has a flow.
    Already,
    /// The appointment is cancelled or marked as no-show.
    NotExpected,
    /// A malformed form.
    BadRequest,
    /// "Not arrived" before the appointment has ended.
    NotYetOver,
}

impl Refusal {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::Stale => "stale",
            Refusal::InvalidStep => "invalid_step",
            Refusal::ReadOnly => "read_only",
            Refusal::Gone => "gone",
            Refusal::Already => "already",
            Refusal::NotExpected => "not_expected",
            Refusal::BadRequest => "bad_request",
            Refusal::NotYetOver => "not_yet_over",
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Refusal> {
        [
            Refusal::Stale,
            Refusal::InvalidStep,
            Refusal::ReadOnly,
            Refusal::Gone,
            Refusal::Already,
            Refusal::NotExpected,
            Refusal::BadRequest,
            Refusal::NotYetOver,
        ]
        .into_iter()
        .find(|refusal| refusal.code() == code)
    }

    fn key(self) -> &'static str {
        match self {
            Refusal::Stale => "flow.error.stale",
            Refusal::InvalidStep => "flow.error.invalid_step",
            Refusal::ReadOnly => "flow.error.read_only",
            Refusal::Gone => "flow.error.gone",
            Refusal::Already => "flow.error.already",
            Refusal::NotExpected => "flow.error.not_expected",
            Refusal::BadRequest => "flow.error.bad_request",
            Refusal::NotYetOver => "flow.error.not_yet_over",
        }
    }

    /// The refusal of a transition the domain rejects.
    fn of_transition(error: TransitionError) -> Refusal {
        match error {
            TransitionError::ReadOnly => Refusal::ReadOnly,
            TransitionError::InvalidStep { .. } | TransitionError::InvalidInitial { .. } => {
                Refusal::InvalidStep
            }
        }
    }
}

/// The flash of a board address (`?ok=moved&to=…`, `?ok=arrived`, `?error=<code>`); unknown
/// values show nothing.
pub(crate) fn flash_of(pairs: &[(String, String)], lang: Lang) -> Option<Flash> {
    if let Some(code) = param(pairs, "error") {
        let refusal = Refusal::parse(&code)?;
        return Some(Flash {
            ok: false,
            text: lang.t(refusal.key()).to_owned(),
        });
    }
    match param(pairs, "ok")?.as_str() {
        "arrived" => Some(Flash {
            ok: true,
            text: lang.t("flow.ok.arrived").to_owned(),
        }),
        "no_show" => Some(Flash {
            ok: true,
            text: lang.t("flow.ok.no_show").to_owned(),
        }),
        "moved" => {
            let to = FlowStatus::parse(&param(pairs, "to")?)?;
            Some(Flash {
                ok: true,
                text: format!("{} {}", lang.t("flow.ok.moved"), lang.t(status_key(to))),
            })
        }
        _ => None,
    }
}

// ---- view ---------------------------------------------------------------------------------

/// The button of a card: one step forward.
pub(crate) struct NextStep {
    pub(crate) status: &'static str,
    pub(crate) label: String,
    pub(crate) aria: String,
}

/// One card on the board.
pub(crate) struct FlowCard {
    pub(crate) dom_id: String,
    pub(crate) flow_id: i64,
    pub(crate) patient: String,
    /// Appointment or operation: time and type.
    pub(crate) what: String,
    /// Doctor, or surgeon and room.
    pub(crate) who: String,
    pub(crate) arrival: Option<String>,
    pub(crate) wait: Option<String>,
    pub(crate) long_wait: bool,
    pub(crate) treatment: Option<String>,
    pub(crate) finished: Option<String>,
    pub(crate) next: Option<NextStep>,
}

/// A status column.
pub(crate) struct Column {
    pub(crate) key: &'static str,
    pub(crate) title: String,
    pub(crate) cards: Vec<FlowCard>,
}

/// A row of the day list.
pub(crate) struct DayRow {
    pub(crate) appointment_id: i32,
    pub(crate) time: String,
    pub(crate) patient: String,
    pub(crate) doctor: String,
    pub(crate) kind: String,
    pub(crate) state: String,
    pub(crate) struck: bool,
    /// Show the "arrived" button.
    pub(crate) arrive: bool,
    pub(crate) arrive_aria: String,
    /// Show the "not arrived" button (the appointment is over and nobody came).
    pub(crate) no_show: bool,
    pub(crate) no_show_aria: String,
}

#[derive(Template)]
#[template(path = "boards/flow.html")]
struct FlowPage {
    chrome: Chrome,
    flash: Option<Flash>,
    today: String,
    updated: String,
    can_write: bool,
    columns: Vec<Column>,
    day_rows: Vec<DayRow>,
}

/// `N Min.`.
fn minutes(lang: Lang, value: i64) -> String {
    format!("{value} {}", lang.t("boards.minutes"))
}

/// Who and what a live flow is about, for its card.
fn describe(record: &FlowRecord, lang: Lang, tz: chrono_tz::Tz) -> (String, String, String) {
    if let Some(a) = &record.appointment {
        let patient = display_name(
            a.patient_id,
            &a.patient_first_name,
            &a.patient_last_name,
            None,
        );
        let kind = a
            .appointment_type
            .as_ref()
            .map_or_else(|| lang.t("flow.appointment").to_owned(), |t| t.name.clone());
        let what = format!("{} · {kind}", fmt_time(tz, a.start_time));
        let who = person_name(
            &a.doctor_username,
            &a.doctor_first_name,
            &a.doctor_last_name,
        );
        return (patient, what, who);
    }
    if let Some(o) = &record.operation {
        let patient = display_name(
            o.patient_id,
            &o.patient_first_name,
            &o.patient_last_name,
            None,
        );
        let what = format!(
            "{} {} · {}",
            lang.t("flow.operation"),
            fmt_time(tz, o.start_time),
            o.op_type.name
        );
        let who = format!("{} · {}", o.primary_surgeon.display_name(), o.room.name);
        return (patient, what, who);
    }
    (format!("#{}", record.id), String::new(), String::new())
}

/// The wait and treatment facts of a card.
fn time_facts(
    times: FlowTimes,
    status: FlowStatus,
    lang: Lang,
) -> (Option<String>, bool, Option<String>) {
    let wait = times.wait_minutes.map(|value| minutes(lang, value));
    // Only a wait that is still going on is flagged.
    let waiting = matches!(
        status,
        FlowStatus::Registered | FlowStatus::Waiting | FlowStatus::Preparing
    );
    let long_wait = waiting
        && times
            .wait_minutes
            .is_some_and(|value| value >= LONG_WAIT_MINUTES);
    let treated = matches!(
        status,
        FlowStatus::InTreatment | FlowStatus::PostTreatment | FlowStatus::Done
    );
    let treatment = treated.then(|| minutes(lang, times.treatment_minutes));
    (wait, long_wait, treatment)
}

fn live_card(
    record: &FlowRecord,
    lang: Lang,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    can_write: bool,
) -> FlowCard {
    let (patient, what, who) = describe(record, lang, tz);
    let (wait, long_wait, treatment) = time_facts(record.times(now), record.status, lang);
    let next = record
        .status
        .next()
        .filter(|_| can_write)
        .map(|to| NextStep {
            status: to.as_str(),
            label: lang.t(step_key(to)).to_owned(),
            aria: format!("{patient}: {}", lang.t(step_key(to))),
        });
    FlowCard {
        dom_id: format!("flow-{}", record.id),
        flow_id: record.id,
        patient,
        what,
        who,
        arrival: record.arrival_time.map(|at| fmt_time(tz, at)),
        wait,
        long_wait,
        treatment,
        finished: None,
        next,
    }
}

fn finished_card(
    flow: &FinishedFlow,
    lang: Lang,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> FlowCard {
    let patient = match flow.patient_id {
        Some(id) => display_name(id, &flow.patient_first_name, &flow.patient_last_name, None),
        None => format!("#{}", flow.id),
    };
    let label = if flow.operation_id.is_some() {
        lang.t("flow.operation")
    } else {
        lang.t("flow.appointment")
    };
    let kind = flow.type_name.clone().unwrap_or_else(|| label.to_owned());
    let what = match (flow.start_time, flow.operation_id.is_some()) {
        (Some(start), true) => format!("{label} {} · {kind}", fmt_time(tz, start)),
        (Some(start), false) => format!("{} · {kind}", fmt_time(tz, start)),
        (None, _) => kind,
    };
    let (wait, _, treatment) = time_facts(flow.times(now), FlowStatus::Done, lang);
    FlowCard {
        dom_id: format!("flow-{}", flow.id),
        flow_id: flow.id,
        patient,
        what,
        who: flow.doctor_name.clone().unwrap_or_default(),
        arrival: flow.arrival_time.map(|at| fmt_time(tz, at)),
        wait,
        long_wait: false,
        treatment,
        finished: Some(fmt_time(tz, flow.done_at)),
        next: None,
    }
}

/// The day-list state of an appointment: its flow's status, else what its own status says.
fn day_row(
    appointment: &AppointmentRecord,
    flow_status: Option<Option<FlowStatus>>,
    (can_arrive, can_mark_no_show): (bool, bool),
    lang: Lang,
    (tz, now): (chrono_tz::Tz, DateTime<Utc>),
) -> DayRow {
    let patient = display_name(
        appointment.patient_id,
        &appointment.patient_first_name,
        &appointment.patient_last_name,
        None,
    );
    let cancelled = appointment.status == AppointmentStatus::Cancelled;
    let expected =
        !cancelled && !appointment.is_no_show && appointment.status != AppointmentStatus::Completed;
    let (state, arrive) = match flow_status {
        Some(Some(status)) => (lang.t(status_key(status)).to_owned(), false),
        Some(None) => (lang.t("flow.day.recorded").to_owned(), false),
        None if cancelled => (lang.t("status.appointment.cancelled").to_owned(), false),
        None if appointment.is_no_show => (lang.t("status.appointment.no_show").to_owned(), false),
        None if appointment.status == AppointmentStatus::Completed => {
            (lang.t("status.appointment.completed").to_owned(), false)
        }
        None => (
            lang.t("flow.day.expected").to_owned(),
            can_arrive && expected,
        ),
    };
    // The domain's no-show rule: an open appointment that has ended.
    let no_show = flow_status.is_none()
        && can_mark_no_show
        && no_show_problem(
            appointment.end_time,
            appointment.status,
            appointment.is_no_show,
            now,
        )
        .is_none()
        && !appointment.is_no_show;
    DayRow {
        appointment_id: appointment.id,
        no_show,
        no_show_aria: format!("{patient}: {}", lang.t("flow.day.no_show_action")),
        time: format!(
            "{}–{}",
            fmt_time(tz, appointment.start_time),
            fmt_time(tz, appointment.end_time)
        ),
        arrive_aria: format!("{patient}: {}", lang.t("flow.day.arrive")),
        patient,
        doctor: person_name(
            &appointment.doctor_username,
            &appointment.doctor_first_name,
            &appointment.doctor_last_name,
        ),
        kind: appointment
            .appointment_type
            .as_ref()
            .map_or_else(String::new, |t| t.name.clone()),
        state,
        struck: cancelled,
        arrive,
    }
}

/// `GET /flow/`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = user.lang;
    let decision = match user.require(Area::PatientFlow, Action::List) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let member = (decision == Decision::Filtered).then_some(user.user.id);
    let (tz, now, today) = (state.tz(), state.now(), state.today());
    let Some(day) = local_day(tz, today) else {
        return internal(lang, "today is outside the calendar");
    };
    let filter = FlowFilter {
        member,
        live: Some(LiveWindow {
            day,
            changed_from: now - Duration::hours(LIVE_RECENT_HOURS),
            changed_until: None,
        }),
        ..Default::default()
    };
    let flows = match state.store.patient_flows(&filter).await {
        Ok(flows) => flows,
        Err(error) => return internal(lang, error),
    };
    let finished = match state.store.finished_flows(day, member).await {
        Ok(finished) => finished,
        Err(error) => return internal(lang, error),
    };
    // The day list: today's appointments (a doctor's own), as `GET /api/appointments/` lists them.
    let appointments = match user.require(Area::Appointments, Action::List) {
        Ok(appointment_decision) => {
            let appointment_filter = AppointmentFilter {
                period: Some(day),
                doctor_id: (appointment_decision == Decision::Filtered).then_some(user.user.id),
                ..Default::default()
            };
            match state.store.appointments(&appointment_filter).await {
                Ok(appointments) => Some(appointments),
                Err(error) => return internal(lang, error),
            }
        }
        Err(_) => None,
    };
    let with_flow = match state.store.appointments_with_flow(day).await {
        Ok(ids) => ids,
        Err(error) => return internal(lang, error),
    };

    let mut audits = vec![
        user.audit(
            "patient_flow_view",
            None,
            Some(json!({"live": true, "count": flows.len() + finished.len()})),
        )
        .with_subjects(
            flows
                .iter()
                .filter_map(|flow| flow.patient_id())
                .chain(finished.iter().filter_map(|flow| flow.patient_id)),
        ),
    ];
    if let Some(appointments) = &appointments {
        audits.push(
            user.audit(
                "appointment_list",
                None,
                Some(json!({"count": appointments.len()})),
            )
            .with_subjects(appointments.iter().map(|record| record.patient_id)),
        );
    }
    if let Err(error) = state.store.record_read_audits(&audits).await {
        return internal(lang, error);
    }

    let can_write = user.can(Area::PatientFlow, Action::Update);
    let can_arrive = user.can(Area::PatientFlow, Action::Create);
    let can_mark_no_show = user.can(Area::Appointments, Action::Update);
    let mut columns: Vec<Column> = FlowStatus::ALL
        .into_iter()
        .map(|status| Column {
            key: status.as_str(),
            title: lang.t(status_key(status)).to_owned(),
            cards: Vec::new(),
        })
        .collect();
    // Longest waiting first: by arrival (else last change), then id.
    let mut live: Vec<&FlowRecord> = flows.iter().collect();
    live.sort_by_key(|flow| (flow.arrival_time.unwrap_or(flow.status_changed_at), flow.id));
    let mut flow_of_appointment: HashMap<i32, FlowStatus> = HashMap::new();
    for flow in live {
        if let Some(appointment) = &flow.appointment {
            flow_of_appointment.insert(appointment.id, flow.status);
        }
        let index = FlowStatus::ALL
            .iter()
            .position(|status| *status == flow.status)
            .unwrap_or(0);
        columns[index]
            .cards
            .push(live_card(flow, lang, tz, now, can_write));
    }
    let done = FlowStatus::ALL.len() - 1;
    for flow in &finished {
        if let Some(id) = flow.appointment_id {
            flow_of_appointment.entry(id).or_insert(FlowStatus::Done);
        }
        columns[done].cards.push(finished_card(flow, lang, tz, now));
    }
    let day_rows = appointments
        .unwrap_or_default()
        .iter()
        .map(|appointment| {
            let flow_status = with_flow
                .contains(&appointment.id)
                .then(|| flow_of_appointment.get(&appointment.id).copied());
            day_row(
                appointment,
                flow_status,
                (can_arrive, can_mark_no_show),
                lang,
                (tz, now),
            )
        })
        .collect();

    let pairs = wire::url_pairs(query.as_deref().unwrap_or_default());
    let mut chrome = Chrome::new(&user, "nav.flow", "flow.title");
    chrome.live = Some("patient-flow");
    let page = FlowPage {
        flash: flash_of(&pairs, lang),
        today: super::fmt_day(lang, today),
        updated: now.with_timezone(&tz).format("%H:%M:%S").to_string(),
        can_write,
        columns,
        day_rows,
        chrome,
    };
    render(&page, &page.chrome.nonce)
}

// ---- writes -------------------------------------------------------------------------------

/// The form of a status button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatusForm {
    csrf_token: String,
    status: String,
    /// The status the card showed (a stale page is refused instead of moving on).
    from: String,
}

/// The form of an "arrived" button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ArriveForm {
    csrf_token: String,
    appointment_id: String,
}

fn back(result: Result<String, Refusal>) -> Response {
    let target = match result {
        Ok(query) => format!("/flow/?{query}"),
        Err(refusal) => format!("/flow/?error={}", refusal.code()),
    };
    Redirect::to(&target).into_response()
}

/// `POST /flow/{id}/status/`: one step forward (the same store call as
/// `PATCH /api/patient-flow/{id}/status/`).
pub(super) async fn change_status(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let lang = user.lang;
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let decision = match user.require(Area::PatientFlow, Action::Update) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<i64>() else {
        return back(Err(Refusal::Gone));
    };
    let caller = Caller::from(&user);
    let current = match flow::visible(&state, &caller, decision, id).await {
        Ok(current) => current,
        Err(failure) => return refused(lang, failure),
    };
    let Some(to) = FlowStatus::parse(&form.status) else {
        return back(Err(Refusal::BadRequest));
    };
    let seen = Some(form.from.as_str());
    match flow::change_status(&state, &caller, decision, &current, Some(to), seen).await {
        Ok(record) => back(Ok(format!("ok=moved&to={}", record.status.as_str()))),
        Err(failure) => refused(lang, failure),
    }
}

/// How the board answers a refused flow use case: a flash, or the denial / error page.
fn refused(lang: Lang, failure: Failure<FlowRefusal>) -> Response {
    match failure {
        Failure::Refused(refusal) => match refusal {
            FlowRefusal::NotFound => back(Err(Refusal::Gone)),
            FlowRefusal::Denied(denial) => denial_page(lang, denial),
            FlowRefusal::Stale => back(Err(Refusal::Stale)),
            FlowRefusal::ReadOnly { .. } => back(Err(Refusal::ReadOnly)),
            FlowRefusal::Transition(error) => back(Err(Refusal::of_transition(error))),
            FlowRefusal::Unlinked => {
                internal(lang, "patient flow without appointment or operation")
            }
            FlowRefusal::UnknownLink(_) => back(Err(Refusal::Gone)),
            FlowRefusal::NotExpected => back(Err(Refusal::NotExpected)),
            FlowRefusal::AlreadyArrived => back(Err(Refusal::Already)),
        },
        Failure::Store(StoreError::NotFound(_)) => back(Err(Refusal::Gone)),
        // After the use case's checks only a concurrent change is left.
        Failure::Store(StoreError::Invalid(_)) => back(Err(Refusal::Stale)),
        Failure::Store(error) => internal(lang, error),
    }
}

/// `POST /flow/arrive/`: the patient of an appointment has arrived — a new flow in `waiting`
/// (the same store call as `POST /api/patient-flow/`).
pub(super) async fn arrive(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<ArriveForm>,
) -> Response {
    let lang = user.lang;
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let decision = match user.require(Area::PatientFlow, Action::Create) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let Ok(appointment_id) = form.appointment_id.trim().parse::<i32>() else {
        return back(Err(Refusal::BadRequest));
    };
    let now = state.now();
    let initial = match initial_state(Some(FlowStatus::Waiting), None, None, now) {
        Ok(initial) => initial,
        Err(error) => return internal(lang, error),
    };
    let flow = NewFlow {
        link: FlowLink::Appointment(i64::from(appointment_id)),
        state: initial,
    };
    let caller = Caller::from(&user);
    match flow::create(&state, &caller, decision, flow, now, FlowStart::Arrival).await {
        Ok(_) => back(Ok("ok=arrived".to_owned())),
        // The appointment vanished before the insert (its reference failed).
        Err(Failure::Store(StoreError::Invalid(_))) => back(Err(Refusal::Gone)),
        Err(failure) => refused(lang, failure),
    }
}

/// `POST /flow/no-show/`: the patient of an appointment that has ended did not come (the
/// same use case as `POST /api/appointments/{id}/mark-no-show/`).
pub(super) async fn no_show(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<ArriveForm>,
) -> Response {
    let lang = user.lang;
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let decision = match user.require(Area::Appointments, Action::Update) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let Ok(appointment_id) = form.appointment_id.trim().parse::<i32>() else {
        return back(Err(Refusal::BadRequest));
    };
    let caller = Caller::from(&user);
    let result = appointments::mark_no_show(
        &state,
        &caller,
        decision,
        appointment_id,
        &IfMatch::default(),
    )
    .await;
    match result {
        Ok(_) => back(Ok("ok=no_show".to_owned())),
        Err(Failure::Refused(refusal)) => match refusal {
            AppointmentRefusal::NotFound => back(Err(Refusal::Gone)),
            AppointmentRefusal::Denied(denial) => denial_page(lang, denial),
            AppointmentRefusal::NoShow(NoShowProblem::NotPast) => back(Err(Refusal::NotYetOver)),
            AppointmentRefusal::NoShow(NoShowProblem::WrongStatus) => {
                back(Err(Refusal::NotExpected))
            }
            AppointmentRefusal::Stale => back(Err(Refusal::Stale)),
            AppointmentRefusal::Invalid(_) | AppointmentRefusal::Conflict { .. } => {
                back(Err(Refusal::BadRequest))
            }
        },
        Err(Failure::Store(StoreError::NotFound(_))) => back(Err(Refusal::Gone)),
        Err(Failure::Store(error)) => internal(lang, error),
    }
}

/// Texts of the flow board.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "flow.title" => ("Wartezimmer", "Patient flow"),
        "flow.board" => ("Patientenfluss heute", "Patient flow today"),
        "flow.empty" => ("Niemand.", "Nobody."),
        "flow.appointment" => ("Termin", "Appointment"),
        "flow.operation" => ("OP", "Surgery"),
        "flow.arrival" => ("Ankunft", "Arrived"),
        "flow.wait" => ("Wartezeit", "Waiting"),
        "flow.long_wait" => ("lange Wartezeit", "long wait"),
        "flow.treatment" => ("Behandlung", "Treatment"),
        "flow.finished" => ("Fertig um", "Finished at"),
        "flow.status.registered" => ("Angemeldet", "Registered"),
        "flow.status.waiting" => ("Wartend", "Waiting"),
        "flow.status.preparing" => ("Vorbereitung", "Preparing"),
        "flow.status.in_treatment" => ("In Behandlung", "In treatment"),
        "flow.status.post_treatment" => ("Nachbehandlung", "Post treatment"),
        "flow.status.done" => ("Fertig", "Done"),
        "flow.step.waiting" => ("Ins Wartezimmer", "To waiting room"),
        "flow.step.preparing" => ("Vorbereiten", "Prepare"),
        "flow.step.in_treatment" => ("Behandlung beginnen", "Start treatment"),
        "flow.step.post_treatment" => ("Nachbehandlung", "Post treatment"),
        "flow.step.done" => ("Fertig", "Finish"),
        "flow.ok.no_show" => ("Als nicht erschienen vermerkt.", "Marked as not arrived."),
        "flow.day.no_show_action" => ("Nicht erschienen", "Did not come"),
        "flow.error.not_yet_over" => (
            "Erst nach dem Ende des Termins kann er als nicht erschienen vermerkt werden.",
            "An appointment can be marked as not arrived only after it has ended.",
        ),
        "flow.ok.arrived" => (
            "Ankunft erfasst: Die Patientin / der Patient ist im Wartezimmer.",
            "Arrival recorded: the patient is in the waiting room.",
        ),
        "flow.ok.moved" => ("Status geändert:", "Status changed:"),
        "flow.error.stale" => (
            "Der Status wurde inzwischen geändert. Bitte die aktuelle Anzeige prüfen.",
            "The status was changed in the meantime. Please check the current board.",
        ),
        "flow.error.invalid_step" => (
            "Dieser Statuswechsel ist nicht möglich: nur ein Schritt vorwärts.",
            "This status change is not possible: one step forward only.",
        ),
        "flow.error.read_only" => (
            "Ein abgeschlossener Ablauf kann nicht mehr geändert werden.",
            "A finished flow can no longer be changed.",
        ),
        "flow.error.gone" => (
            "Diesen Eintrag gibt es nicht mehr.",
            "This entry no longer exists.",
        ),
        "flow.error.already" => (
            "Für diesen Termin ist die Ankunft bereits erfasst.",
            "The arrival for this appointment is already recorded.",
        ),
        "flow.error.not_expected" => (
            "Der Termin ist abgesagt oder als „nicht erschienen“ markiert.",
            "The appointment is cancelled or marked as no-show.",
        ),
        "flow.error.bad_request" => ("Ungültige Eingabe.", "Invalid input."),
        "flow.day.title" => ("Tagesliste", "Today's appointments"),
        "flow.day.time" => ("Zeit", "Time"),
        "flow.day.patient" => ("Patient/in", "Patient"),
        "flow.day.doctor" => ("Arzt/Ärztin", "Doctor"),
        "flow.day.type" => ("Terminart", "Type"),
        "flow.day.state" => ("Stand", "State"),
        "flow.day.arrive" => ("Angekommen", "Arrived"),
        "flow.day.expected" => ("erwartet", "expected"),
        "flow.day.recorded" => ("erfasst", "recorded"),
        "flow.day.empty" => ("Heute keine Termine.", "No appointments today."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        wire::url_pairs(query)
    }

    #[test]
    fn flashes_come_only_from_known_codes() {
        let cases = [
            (
                "ok=arrived",
                Some((
                    true,
                    "Ankunft erfasst: Die Patientin / der Patient ist im Wartezimmer.",
                )),
            ),
            (
                "ok=moved&to=preparing",
                Some((true, "Status geändert: Vorbereitung")),
            ),
            ("ok=moved&to=<script>", None),
            ("ok=moved", None),
            ("ok=whatever", None),
            (
                "error=stale",
                Some((
                    false,
                    "Der Status wurde inzwischen geändert. Bitte die aktuelle Anzeige prüfen.",
                )),
            ),
            (
                "error=read_only&ok=arrived",
                Some((
                    false,
                    "Ein abgeschlossener Ablauf kann nicht mehr geändert werden.",
                )),
            ),
            ("error=%3Cb%3E", None),
            ("", None),
        ];
        for (query, expected) in cases {
            let flash = flash_of(&pairs(query), Lang::De);
            let expected = expected.map(|(ok, text)| Flash {
                ok,
                text: text.to_owned(),
            });
            assert_eq!(flash, expected, "{query}");
        }
    }

    #[test]
    fn every_refusal_code_round_trips_and_has_texts() {
        for refusal in [
            Refusal::Stale,
            Refusal::InvalidStep,
            Refusal::ReadOnly,
            Refusal::Gone,
            Refusal::Already,
            Refusal::NotExpected,
            Refusal::BadRequest,
        ] {
            assert_eq!(Refusal::parse(refusal.code()), Some(refusal));
            assert_ne!(Lang::De.t(refusal.key()), refusal.key());
            assert_ne!(Lang::En.t(refusal.key()), refusal.key());
        }
        assert_eq!(
            Refusal::of_transition(TransitionError::ReadOnly),
            Refusal::ReadOnly
        );
        assert_eq!(
            Refusal::of_transition(TransitionError::InvalidStep {
                from: FlowStatus::Waiting,
                to: FlowStatus::Done
            }),
            Refusal::InvalidStep
        );
    }

    #[test]
    fn waits_are_flagged_only_while_the_patient_still_waits() {
        let times = |wait: Option<i64>, treatment: i64| FlowTimes {
            wait_minutes: wait,
            treatment_minutes: treatment,
        };
        let cases = [
            (
                times(Some(12), 0),
                FlowStatus::Waiting,
                (Some("12 Min."), false, None),
            ),
            (
                times(Some(30), 0),
                FlowStatus::Waiting,
                (Some("30 Min."), true, None),
            ),
            (
                times(Some(45), 0),
                FlowStatus::Preparing,
                (Some("45 Min."), true, None),
            ),
            (times(None, 0), FlowStatus::Registered, (None, false, None)),
            (
                times(Some(45), 5),
                FlowStatus::InTreatment,
                (Some("45 Min."), false, Some("5 Min.")),
            ),
            (
                times(Some(3), 20),
                FlowStatus::Done,
                (Some("3 Min."), false, Some("20 Min.")),
            ),
        ];
        for (input, status, (wait, long, treatment)) in cases {
            let (w, l, t) = time_facts(input, status, Lang::De);
            assert_eq!(
                (w.as_deref(), l, t.as_deref()),
                (wait, long, treatment),
                "{input:?} {status:?}"
            );
        }
    }

    #[test]
    fn every_status_and_step_has_texts_in_both_languages() {
        for status in FlowStatus::ALL {
            for key in [status_key(status), step_key(status)] {
                assert_ne!(Lang::De.t(key), key);
                assert_ne!(Lang::En.t(key), key);
            }
        }
    }
}
