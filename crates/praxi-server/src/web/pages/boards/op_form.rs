//! Planning, changing and cancelling operations (#15 item 6a).
//!
//! * `GET/POST /operations/new/` — the planning form: patient (server-side search `q`, as
//!   the booking form), operation type, date and start (the end follows from the type),
//!   OP room, devices, team (surgeon, assistant, anaesthetist) and notes.
//! * `GET/POST /operations/{id}/` — the edit form (the same fields plus the status; the
//!   patient stays).
//! * `POST /operations/{id}/cancel/` — status "cancelled" through the same change.
//!
//! Every write goes through `usecases::operations::{create, change}` — the path of
//! `POST`/`PATCH /api/operations/` — so the references, the transition table and the
//! scheduling engine decide exactly as for the API. A refusal re-renders the form with every
//! input kept and explains it in words (who is busy or absent, which room or device is
//! booked), with the team's nearest free times as links that prefill the form. The policy
//! rows are `Operations × Create/Update` (admins and assistants).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::operation::{OperationStatus, TeamIds};
use praxi_domain::rbac::{Action, Area, Decision};
use praxi_domain::scheduling::{
    BookingRef, Conflict, ConflictKind, HoursReason, MAX_SUGGEST_LIMIT, OperationId, PatientId,
    PersonRole, ResourceId, SlotDuration, SlotQuery, SlotSpacing, local_to_utc_strict,
};
use praxi_store::StoreError;
use praxi_store::admin_lists::Window;
use praxi_store::appointments::ResourceInfo;
use praxi_store::master_data::{CatalogFilter, OperationTypes};
use praxi_store::operations::OperationRecord;
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::UserRecord;

use super::operations::status_key;
use super::{fmt_date, fmt_day, internal, param};
use crate::state::AppState;
use crate::usecases::operations::{self, OperationInput, OperationRefusal};
use crate::usecases::{Caller, Failure, IfMatch, local_days};
use crate::web::pages::calendar::{Choice, FormErrors, patient_choices};
use crate::web::session::WebUser;
use crate::web::{Chrome, error_page, render_status, url_encode};
use crate::wire;

/// Days searched for the team's next free times after a refusal.
const NEXT_FREE_DAYS: u32 = 14;
/// Next free times offered after a refusal.
const NEXT_FREE_LIMIT: usize = 3;

/// The form's values as typed (a re-rendered form shows exactly what was sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OpValues {
    pub(crate) patient_id: String,
    pub(crate) op_type: String,
    pub(crate) date: String,
    pub(crate) start: String,
    pub(crate) room: String,
    pub(crate) devices: Vec<i64>,
    pub(crate) surgeon: String,
    pub(crate) assistant: String,
    pub(crate) anesthesist: String,
    pub(crate) status: String,
    pub(crate) notes: String,
}

impl OpValues {
    /// From a query (prefill links) or a submitted body.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> OpValues {
        let get = |name: &str| param(pairs, name).unwrap_or_default();
        OpValues {
            patient_id: get("patient_id"),
            op_type: get("op_type"),
            date: get("date"),
            start: get("start"),
            room: get("op_room"),
            devices: pairs
                .iter()
                .filter(|(key, _)| key == "op_device_ids")
                .filter_map(|(_, value)| value.trim().parse().ok())
                .collect(),
            surgeon: get("primary_surgeon"),
            assistant: get("assistant"),
            anesthesist: get("anesthesist"),
            status: get("status"),
            notes: pairs
                .iter()
                .rev()
                .find(|(key, _)| key == "notes")
                .map(|(_, value)| value.clone())
                .unwrap_or_default(),
        }
    }

    /// The form of a stored operation.
    fn from_record(record: &OperationRecord, tz: Tz) -> OpValues {
        let start = record.start_time.with_timezone(&tz);
        OpValues {
            patient_id: record.patient_id.to_string(),
            op_type: record.op_type.id.to_string(),
            date: start.date_naive().format("%Y-%m-%d").to_string(),
            start: start.time().format("%H:%M").to_string(),
            room: record.room.id.to_string(),
            devices: record.devices.iter().map(|d| d.id).collect(),
            surgeon: record.primary_surgeon.id.to_string(),
            assistant: record
                .assistant
                .as_ref()
                .map(|m| m.id.to_string())
                .unwrap_or_default(),
            anesthesist: record
                .anesthesist
                .as_ref()
                .map(|m| m.id.to_string())
                .unwrap_or_default(),
            status: record.status().as_str().to_owned(),
            notes: record.notes.clone().unwrap_or_default(),
        }
    }

    /// The values as query pairs (hidden fields of the patient search, prefill links).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = [
            ("patient_id", &self.patient_id),
            ("op_type", &self.op_type),
            ("date", &self.date),
            ("start", &self.start),
            ("op_room", &self.room),
            ("primary_surgeon", &self.surgeon),
            ("assistant", &self.assistant),
            ("anesthesist", &self.anesthesist),
            ("notes", &self.notes),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.to_owned(), value.clone()))
        .collect();
        pairs.extend(
            self.devices
                .iter()
                .map(|id| ("op_device_ids".to_owned(), id.to_string())),
        );
        pairs
    }

    fn query(&self) -> String {
        self.pairs()
            .iter()
            .map(|(name, value)| format!("{name}={}", url_encode(value).replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A positive id, `None` for anything else.
fn positive(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// Reads the form into the use case's input; `new` = planning (patient required), else an
/// edit (patient fixed, status sent).
fn parse_form(
    values: &OpValues,
    chrome: &Chrome,
    tz: Tz,
    new: bool,
    errors: &mut FormErrors,
) -> OperationInput {
    let t = |key: &str| chrome.t(key);
    let mut input = OperationInput::default();
    if new {
        match positive(&values.patient_id).and_then(|id| i32::try_from(id).ok()) {
            Some(id) => input.patient_id = Some(id),
            None => errors.add("patient", t("calendar.err.patient_required")),
        }
    }
    let mut required = |field: &'static str, text: &str| -> Option<i64> {
        if text.trim().is_empty() {
            errors.add(field, t("calendar.err.required"));
            return None;
        }
        positive(text).or_else(|| {
            errors.add(field, t("calendar.err.choice"));
            None
        })
    };
    input.op_type = required("op_type", &values.op_type);
    input.op_room = required("op_room", &values.room);
    input.primary_surgeon = required("primary_surgeon", &values.surgeon);
    let mut optional = |field: &'static str, text: &str| -> Option<i64> {
        if text.trim().is_empty() {
            return None;
        }
        positive(text).or_else(|| {
            errors.add(field, t("calendar.err.choice"));
            None
        })
    };
    input.assistant = Some(optional("assistant", &values.assistant));
    input.anesthesist = Some(optional("anesthesist", &values.anesthesist));
    input.op_device_ids = Some(values.devices.clone());
    let date = if values.date.is_empty() {
        errors.add("date", t("calendar.err.required"));
        None
    } else {
        super::super::calendar::parse_date(&values.date).or_else(|| {
            errors.add("date", t("calendar.err.date"));
            None
        })
    };
    if values.start.is_empty() {
        errors.add("start", t("calendar.err.required"));
    } else if let Some(time) = super::super::calendar::parse_time(&values.start) {
        if let Some(date) = date {
            match local_to_utc_strict(tz, date.and_time(time)) {
                Ok(start) => input.start_time = Some(start),
                Err(_) => errors.add("start", t("calendar.err.time_gap")),
            }
        }
    } else {
        errors.add("start", t("calendar.err.time"));
    }
    if !new {
        match OperationStatus::parse(&values.status) {
            Some(status) => input.status = Some(status),
            None => errors.add("status", t("calendar.err.choice")),
        }
    }
    input.notes = Some(Some(values.notes.clone()));
    input
}

/// The form field a refusal's API field names.
fn form_field(field: &str) -> &'static str {
    match field {
        "patient_id" => "patient",
        "op_type" | "op_type_id" => "op_type",
        "op_room" | "op_room_id" => "op_room",
        "op_device_ids" => "devices",
        "assistant" => "assistant",
        "anesthesist" => "anesthesist",
        "primary_surgeon" => "primary_surgeon",
        _ => "form",
    }
}

/// The text key of a team role.
fn role_key(role: PersonRole) -> &'static str {
    match role {
        PersonRole::PrimarySurgeon | PersonRole::AppointmentDoctor => "ops.team.surgeon",
        PersonRole::Assistant => "ops.team.assistant",
        PersonRole::Anesthesist => "ops.team.anesthesist",
    }
}

/// The text key of a reference rule, by field.
fn rule_key(field: &str) -> &'static str {
    match field {
        "op_type" | "op_type_id" => "ops.form.err.type_inactive",
        "op_room" | "op_room_id" => "ops.form.err.room",
        "op_device_ids" => "ops.form.err.devices",
        _ => "ops.form.err.member",
    }
}

/// A link offered after a refusal.
pub(crate) struct AltLink {
    label: String,
    href: String,
}

/// A refusal in words.
pub(crate) struct ConflictView {
    lines: Vec<String>,
    next_free: Vec<AltLink>,
}

/// A checkbox of a device.
pub(crate) struct DeviceBox {
    id: i64,
    name: String,
    checked: bool,
    inactive: bool,
}

#[derive(Template)]
#[template(path = "boards/op_form.html")]
struct OpFormPage {
    chrome: Chrome,
    new: bool,
    action: String,
    values: OpValues,
    errors: FormErrors,
    conflict: Option<ConflictView>,
    q: String,
    patients: Vec<Choice>,
    patient_note: Option<String>,
    search_hidden: Vec<(String, String)>,
    operation_id: i64,
    patient_name: String,
    types: Vec<Choice>,
    rooms: Vec<Choice>,
    devices: Vec<DeviceBox>,
    surgeons: Vec<Choice>,
    assistants: Vec<Choice>,
    anesthesists: Vec<Choice>,
    statuses: Vec<Choice>,
    can_cancel: bool,
    back_href: String,
}

impl OpFormPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

/// The options of a select; `blank` is the label of the empty option.
fn options(items: &[(i64, String)], selected: &str, blank: String) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: String::new(),
        label: blank,
        selected: selected.is_empty(),
    }];
    choices.extend(items.iter().map(|(id, name)| Choice {
        value: id.to_string(),
        label: name.clone(),
        selected: selected == id.to_string(),
    }));
    choices
}

/// The selects' entries; the stored operation's type, room, devices and team are listed even
/// when inactive.
struct Lists {
    types: Vec<(i64, String)>,
    rooms: Vec<(i64, String)>,
    devices: Vec<ResourceInfo>,
    doctors: Vec<(i64, String)>,
}

async fn lists(state: &AppState, stored: Option<&OperationRecord>) -> Result<Lists, StoreError> {
    let filter = CatalogFilter {
        active: Some(true),
        ..CatalogFilter::default()
    };
    let window = Window {
        offset: 0,
        limit: 1000,
    };
    let mut types: Vec<(i64, String)> = state
        .store
        .master_rows::<OperationTypes>(&filter, Default::default(), window)
        .await?
        .into_iter()
        .map(|t| (t.id, t.fields.name))
        .collect();
    let mut resources = state.store.calendar_resources(None).await?;
    let mut doctors: Vec<(i64, String)> = state
        .store
        .list_doctors()
        .await?
        .iter()
        .map(|d| (d.id, d.display_name()))
        .collect();
    if let Some(stored) = stored {
        if !types.iter().any(|(id, _)| *id == stored.op_type.id) {
            types.push((stored.op_type.id, stored.op_type.name.clone()));
        }
        for resource in std::iter::once(&stored.room).chain(&stored.devices) {
            if !resources.iter().any(|r| r.id == resource.id) {
                resources.push(resource.clone());
            }
        }
        let members = std::iter::once(&stored.primary_surgeon)
            .chain(stored.assistant.as_ref())
            .chain(stored.anesthesist.as_ref());
        for member in members {
            if !doctors.iter().any(|(id, _)| *id == member.id) {
                doctors.push((member.id, member.display_name()));
            }
        }
    }
    let rooms = resources
        .iter()
        .filter(|r| r.kind == "room")
        .map(|r| (r.id, r.name.clone()))
        .collect();
    let devices = resources.into_iter().filter(|r| r.kind != "room").collect();
    Ok(Lists {
        types,
        rooms,
        devices,
        doctors,
    })
}

/// Where the form returns to: the OP board of the operation's day.
fn board_href(date: NaiveDate) -> String {
    format!("/operations/?date={}", date.format("%Y-%m-%d"))
}

/// What the page shows besides the values.
struct Shown {
    errors: FormErrors,
    conflict: Option<ConflictView>,
    status: StatusCode,
}

impl Shown {
    fn fresh() -> Shown {
        Shown {
            errors: FormErrors::default(),
            conflict: None,
            status: StatusCode::OK,
        }
    }
}

/// Renders the planning form (`stored = None`) or the edit form.
async fn form_page(
    state: &AppState,
    user: &WebUser,
    stored: Option<&OperationRecord>,
    values: OpValues,
    q: String,
    shown: Shown,
) -> Response {
    let new = stored.is_none();
    let title = if new {
        "ops.form.new_title"
    } else {
        "ops.form.edit_title"
    };
    let chrome = Chrome::new(user, "nav.operations", title);
    let lang = chrome.lang;
    let loaded = async {
        let lists = lists(state, stored).await?;
        let patients = if new {
            Some(patient_choices(state, user, &chrome, &q, &values.patient_id).await?)
        } else {
            None
        };
        Ok::<_, StoreError>((lists, patients))
    }
    .await;
    let (lists, patients) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return internal(lang, error),
    };
    let (patients, patient_note) = patients.unwrap_or_default();
    let none = || chrome.t("ops.form.none");
    let choose = || chrome.t("calendar.form.doctor_choose");
    let statuses = match stored {
        Some(_) => OperationStatus::ALL
            .iter()
            .map(|status| Choice {
                value: status.as_str().to_owned(),
                label: chrome.t(status_key(*status)),
                selected: values.status == status.as_str(),
            })
            .collect(),
        None => Vec::new(),
    };
    let devices = lists
        .devices
        .iter()
        .map(|d| DeviceBox {
            id: d.id,
            name: d.name.clone(),
            checked: values.devices.contains(&d.id),
            inactive: !d.active,
        })
        .collect();
    let day = super::super::calendar::parse_date(&values.date).unwrap_or_else(|| state.today());
    let page = OpFormPage {
        new,
        action: match stored {
            Some(record) => format!("/operations/{}/", record.id),
            None => "/operations/new/".to_owned(),
        },
        search_hidden: values
            .pairs()
            .into_iter()
            .filter(|(name, _)| name != "patient_id")
            .collect(),
        types: options(&lists.types, &values.op_type, choose()),
        rooms: options(&lists.rooms, &values.room, choose()),
        devices,
        surgeons: options(&lists.doctors, &values.surgeon, choose()),
        assistants: options(&lists.doctors, &values.assistant, none()),
        anesthesists: options(&lists.doctors, &values.anesthesist, none()),
        statuses,
        can_cancel: stored.is_some_and(|s| s.status() != OperationStatus::Cancelled),
        operation_id: stored.map_or(0, |s| s.id),
        patient_name: stored.map_or_else(String::new, |s| {
            praxi_domain::patient::display_name(
                s.patient_id,
                &s.patient_first_name,
                &s.patient_last_name,
                s.patient_birth_date,
            )
        }),
        back_href: board_href(day),
        patients,
        patient_note,
        q,
        values,
        errors: shown.errors,
        conflict: shown.conflict,
        chrome,
    };
    render_status(&page, &page.chrome.nonce, shown.status)
}

/// `GET /operations/new/`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = user.require(Area::Operations, Action::Create) {
        return response;
    }
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let mut values = OpValues::from_pairs(&pairs);
    if values.date.is_empty() {
        values.date = state.today().format("%Y-%m-%d").to_string();
    }
    let q = param(&pairs, "q").unwrap_or_default();
    form_page(&state, &user, None, values, q, Shown::fresh()).await
}

fn body_pairs(body: &Bytes) -> Vec<(String, String)> {
    wire::url_pairs(&String::from_utf8_lossy(body))
}

/// How the form shows a refused use case.
enum Refused {
    Conflict(ConflictView),
    Form(&'static str, String),
}

/// Sorts a failed use case into what the form shows, or the finished error page.
async fn refused(
    state: &AppState,
    user: &WebUser,
    chrome: &Chrome,
    failure: Failure<OperationRefusal>,
    values: &OpValues,
    moving: Option<i64>,
) -> Result<Refused, Response> {
    let refusal = match failure {
        Failure::Store(error) => return Err(internal(user.lang, error)),
        Failure::Refused(refusal) => refusal,
    };
    let text = chrome.t(refusal.message_key());
    Ok(match refusal {
        OperationRefusal::NotFound => {
            return Err(error_page(
                user.lang,
                StatusCode::NOT_FOUND,
                "error.not_found",
            ));
        }
        OperationRefusal::UnknownReferences(unknown) => {
            let field = unknown
                .first()
                .map_or("form", |(field, _)| form_field(field));
            Refused::Form(field, text)
        }
        OperationRefusal::Rule { field, .. } => {
            Refused::Form(form_field(field), chrome.t(rule_key(field)))
        }
        OperationRefusal::Conflict {
            reason: "invalid_duration",
            ..
        } => Refused::Form("op_type", chrome.t("ops.form.err.duration")),
        OperationRefusal::Conflict { conflict, .. } => {
            let conflicts: Vec<Conflict> = conflict.into_iter().collect();
            Refused::Conflict(explain(state, chrome, &conflicts, values, moving).await)
        }
        OperationRefusal::PatientBusy(conflicts) => {
            Refused::Conflict(explain(state, chrome, &conflicts, values, moving).await)
        }
        OperationRefusal::Incomplete
        | OperationRefusal::Transition { .. }
        | OperationRefusal::Stale
        | OperationRefusal::Contended => Refused::Form("form", text),
    })
}

/// `POST /operations/new/`: plans through the API's path.
pub(super) async fn create(State(state): State<AppState>, user: WebUser, body: Bytes) -> Response {
    let decision = match user.require(Area::Operations, Action::Create) {
        Ok(decision) => decision,
        Err(response) => return response,
    };
    let pairs = body_pairs(&body);
    if let Err(response) = user.check_csrf(&param(&pairs, "csrf_token").unwrap_or_default()) {
        return response;
    }
    let chrome = Chrome::new(&user, "nav.operations", "ops.form.new_title");
    let values = OpValues::from_pairs(&pairs);
    let mut shown = Shown::fresh();
    let input = parse_form(&values, &chrome, state.tz(), true, &mut shown.errors);
    if shown.errors.is_empty() {
        match operations::create(&state, &Caller::from(&user), decision, input).await {
            Ok(record) => return done(&state, &record, "created"),
            Err(failure) => match refused(&state, &user, &chrome, failure, &values, None).await {
                Ok(Refused::Conflict(view)) => shown.conflict = Some(view),
                Ok(Refused::Form(field, text)) => shown.errors.add(field, text),
                Err(response) => return response,
            },
        }
    }
    shown.status = if shown.conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    form_page(&state, &user, None, values, String::new(), shown).await
}

/// Back to the OP board of the operation's day with a flash.
fn done(state: &AppState, record: &OperationRecord, flash: &str) -> Response {
    let date = record.start_time.with_timezone(&state.tz()).date_naive();
    Redirect::to(&format!("{}&form={flash}", board_href(date))).into_response()
}

/// The operation of the path (404 page for an unknown or malformed id).
async fn find(state: &AppState, user: &WebUser, id: &str) -> Result<OperationRecord, Response> {
    let not_found = || error_page(user.lang, StatusCode::NOT_FOUND, "error.not_found");
    let Ok(id) = id.trim().parse::<i64>() else {
        return Err(not_found());
    };
    match state.store.operation(id).await {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(not_found()),
        Err(error) => Err(internal(user.lang, error)),
    }
}

/// Policy, the row and (for writes) CSRF.
async fn editable(
    state: &AppState,
    user: &WebUser,
    id: &str,
    csrf: Option<&str>,
) -> Result<(Decision, OperationRecord), Response> {
    let decision = user.require(Area::Operations, Action::Update)?;
    if let Some(token) = csrf {
        user.check_csrf(token)?;
    }
    let record = find(state, user, id).await?;
    Ok((decision, record))
}

/// `GET /operations/{id}/`: the edit form (audited as `operation_view`, like `GET
/// /api/operations/{id}/`). An alternative's link may override date and start.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let record = match editable(&state, &user, &id, None).await {
        Ok((_, record)) => record,
        Err(response) => return response,
    };
    if let Err(error) = state
        .store
        .record_audit(&user.audit("operation_view", Some(record.patient_id), None))
        .await
    {
        return internal(user.lang, error);
    }
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let mut values = OpValues::from_record(&record, state.tz());
    for (name, slot) in [("date", &mut values.date), ("start", &mut values.start)] {
        if let Some(value) = param(&pairs, name) {
            *slot = value;
        }
    }
    form_page(
        &state,
        &user,
        Some(&record),
        values,
        String::new(),
        Shown::fresh(),
    )
    .await
}

/// `POST /operations/{id}/`: changes through the API's update path.
pub(super) async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = body_pairs(&body);
    let token = param(&pairs, "csrf_token").unwrap_or_default();
    let (decision, stored) = match editable(&state, &user, &id, Some(&token)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let chrome = Chrome::new(&user, "nav.operations", "ops.form.edit_title");
    let mut values = OpValues::from_pairs(&pairs);
    values.patient_id = stored.patient_id.to_string();
    let mut shown = Shown::fresh();
    let input = parse_form(&values, &chrome, state.tz(), false, &mut shown.errors);
    if shown.errors.is_empty() {
        let caller = Caller::from(&user);
        let result = operations::change(
            &state,
            &caller,
            decision,
            stored.clone(),
            input,
            &IfMatch::default(),
        )
        .await;
        match result {
            Ok(record) => return done(&state, &record, "updated"),
            Err(failure) => {
                match refused(&state, &user, &chrome, failure, &values, Some(stored.id)).await {
                    Ok(Refused::Conflict(view)) => shown.conflict = Some(view),
                    Ok(Refused::Form(field, text)) => shown.errors.add(field, text),
                    Err(response) => return response,
                }
            }
        }
    }
    shown.status = if shown.conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    form_page(&state, &user, Some(&stored), values, String::new(), shown).await
}

/// `POST /operations/{id}/cancel/`: status "cancelled" through the update path.
pub(super) async fn cancel(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = body_pairs(&body);
    let token = param(&pairs, "csrf_token").unwrap_or_default();
    let (decision, stored) = match editable(&state, &user, &id, Some(&token)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if stored.status() == OperationStatus::Cancelled {
        return done(&state, &stored, "cancelled");
    }
    let input = OperationInput {
        status: Some(OperationStatus::Cancelled),
        ..OperationInput::default()
    };
    let caller = Caller::from(&user);
    let result = operations::change(
        &state,
        &caller,
        decision,
        stored.clone(),
        input,
        &IfMatch::default(),
    )
    .await;
    let chrome = Chrome::new(&user, "nav.operations", "ops.form.edit_title");
    let values = OpValues::from_record(&stored, state.tz());
    let mut shown = Shown::fresh();
    match result {
        Ok(record) => return done(&state, &record, "cancelled"),
        Err(failure) => {
            match refused(&state, &user, &chrome, failure, &values, Some(stored.id)).await {
                Ok(Refused::Conflict(view)) => shown.conflict = Some(view),
                Ok(Refused::Form(field, text)) => shown.errors.add(field, text),
                Err(response) => return response,
            }
        }
    }
    shown.status = StatusCode::BAD_REQUEST;
    form_page(&state, &user, Some(&stored), values, String::new(), shown).await
}

/// Explains the engine's refusal in words (who, what, when) and offers the team's nearest
/// free times.
async fn explain(
    state: &AppState,
    chrome: &Chrome,
    conflicts: &[Conflict],
    values: &OpValues,
    moving: Option<i64>,
) -> ConflictView {
    let tz = state.tz();
    let lang = chrome.lang;
    let t = |key: &str| chrome.t(key);
    let mut ids: Vec<i64> = Vec::new();
    for conflict in conflicts {
        let person = match conflict {
            Conflict::Hours(h) => Some(h.person.0),
            Conflict::Absence(a) => Some(a.person.0),
            Conflict::Break(b) => Some(b.person.0),
            Conflict::Booking(b) => b.person.map(|p| p.0),
            Conflict::Holiday(_) => None,
        };
        ids.extend(person);
    }
    let mut people: Vec<UserRecord> = Vec::new();
    for id in ids {
        if let Ok(Some(user)) = state.store.user_by_id(id).await {
            people.push(user);
        }
    }
    let name_of = |id: i64| {
        people
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("#{id}"), UserRecord::display_name)
    };
    let resources = state
        .store
        .calendar_resources(None)
        .await
        .unwrap_or_default();
    let resource_name = |id: i64| {
        resources
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| format!("#{id}"), |r| r.name.clone())
    };
    let who = |role: Option<PersonRole>, person: i64| match role {
        Some(role) => format!("{} {}", t(role_key(role)), name_of(person)),
        None => name_of(person),
    };
    let hm = |at: DateTime<Utc>| at.with_timezone(&tz).format("%H:%M").to_string();
    let on = |at: DateTime<Utc>| fmt_day(lang, at.with_timezone(&tz).date_naive());
    let mut lines = Vec::new();
    for conflict in conflicts {
        let line = match conflict {
            Conflict::Holiday(holiday) => format!(
                "{} {} ({}).",
                t("calendar.conflict.closed"),
                fmt_day(lang, holiday.date),
                holiday.label
            ),
            Conflict::Hours(hours) => {
                let person = who(Some(hours.role), hours.person.0);
                let day = fmt_day(lang, hours.date);
                match hours.reason {
                    HoursReason::NoPracticeHours => {
                        format!("{} ({day}).", t("calendar.conflict.no_practice_hours"))
                    }
                    HoursReason::OutsidePracticeHours => {
                        format!("{day}: {}.", t("calendar.conflict.outside_practice"))
                    }
                    HoursReason::NoDoctorHours => {
                        format!(
                            "{person} {} ({day}).",
                            t("calendar.conflict.no_doctor_hours")
                        )
                    }
                    HoursReason::OutsideDoctorHours => {
                        format!("{day}: {} {person}.", t("calendar.conflict.outside_doctor"))
                    }
                }
            }
            Conflict::Absence(absence) => format!(
                "{} {} {} {} {}.",
                who(Some(absence.role), absence.person.0),
                t("calendar.conflict.absent"),
                fmt_date(absence.start_date),
                t("calendar.conflict.until"),
                fmt_date(absence.end_date)
            ),
            Conflict::Break(pause) => format!(
                "{}: {} {} {} {} {} {}.",
                who(Some(pause.role), pause.person.0),
                t("calendar.conflict.break"),
                pause.start.format("%H:%M"),
                t("calendar.conflict.until"),
                pause.end.format("%H:%M"),
                t("calendar.conflict.on"),
                fmt_day(lang, pause.date)
            ),
            Conflict::Booking(booking) => {
                let from = booking.interval.start();
                let to = booking.interval.end();
                let span = format!(
                    "{} {} {} {} {}",
                    hm(from),
                    t("calendar.conflict.until"),
                    hm(to),
                    t("calendar.conflict.on"),
                    on(from)
                );
                let is_operation = matches!(booking.booking, BookingRef::Operation(_));
                match booking.kind {
                    ConflictKind::Doctor => format!(
                        "{} {} {span}.",
                        who(booking.role, booking.person.map_or(0, |p| p.0)),
                        t(if is_operation {
                            "ops.conflict.member_operation"
                        } else {
                            "ops.conflict.member_appointment"
                        })
                    ),
                    ConflictKind::Room | ConflictKind::Device => format!(
                        "{} {} ({span}).",
                        t("calendar.conflict.resource"),
                        booking
                            .resource
                            .map_or_else(String::new, |r| resource_name(r.0))
                    ),
                    ConflictKind::Patient => format!(
                        "{} ({span})",
                        t(if is_operation {
                            "calendar.conflict.patient_operation"
                        } else {
                            "calendar.conflict.patient"
                        })
                    ),
                }
            }
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        lines.push(t("ops.error.conflict"));
    }
    let next_free = next_free(state, values, moving)
        .await
        .into_iter()
        .map(|start| {
            let local = start.with_timezone(&tz);
            let date = local.date_naive().format("%Y-%m-%d").to_string();
            let time = local.time().format("%H:%M").to_string();
            let href = match moving {
                Some(id) => format!("/operations/{id}/?date={date}&start={}", url_encode(&time)),
                None => {
                    let mut moved = values.clone();
                    moved.date = date;
                    moved.start = time.clone();
                    format!("/operations/new/?{}", moved.query())
                }
            };
            AltLink {
                label: format!("{} {time}", fmt_day(lang, local.date_naive())),
                href,
            }
        })
        .collect();
    ConflictView { lines, next_free }
}

/// The team's free starts nearest to the requested one (two weeks from its day) for the same
/// patient, type, room and devices; the operation being moved does not block itself.
async fn next_free(state: &AppState, values: &OpValues, moving: Option<i64>) -> Vec<DateTime<Utc>> {
    let tz = state.tz();
    let (Some(type_id), Some(room), Some(surgeon)) = (
        positive(&values.op_type),
        positive(&values.room),
        positive(&values.surgeon),
    ) else {
        return Vec::new();
    };
    let Some(date) = super::super::calendar::parse_date(&values.date) else {
        return Vec::new();
    };
    let wanted = super::super::calendar::parse_time(&values.start)
        .and_then(|time| local_to_utc_strict(tz, date.and_time(time)).ok());
    let Ok(Some(op_type)) = state.store.operation_type(type_id).await else {
        return Vec::new();
    };
    let Ok(duration) = SlotDuration::for_operation(
        op_type.fields.prep_duration,
        op_type.fields.op_duration,
        op_type.fields.post_duration,
    ) else {
        return Vec::new();
    };
    let team = TeamIds {
        primary_surgeon: surgeon,
        assistant: positive(&values.assistant),
        anesthesist: positive(&values.anesthesist),
    };
    let Ok(team) = team.distinct() else {
        return Vec::new();
    };
    let patient = positive(&values.patient_id).and_then(|id| i32::try_from(id).ok());
    let Some(to) = date.checked_add_days(chrono::Days::new(u64::from(NEXT_FREE_DAYS - 1))) else {
        return Vec::new();
    };
    let Some(period) = local_days(state, date, to) else {
        return Vec::new();
    };
    let devices: Vec<ResourceId> = values.devices.iter().copied().map(ResourceId).collect();
    let mut resources = vec![room];
    resources.extend(values.devices.iter().copied());
    let scope = ScheduleScope {
        people: Some(team.members().map(|(_, user)| user.0).collect()),
        patients: patient.into_iter().collect(),
        resources,
        // Slot holds reserve appointment slots; operations do not see them (docs/scheduling.md).
        holds: None,
    };
    let Ok(schedule) = state.store.schedule(tz, period, &scope).await else {
        return Vec::new();
    };
    let mut query = SlotQuery::for_operation(
        &team,
        ResourceId(room),
        &devices,
        patient.map(PatientId),
        duration,
        date,
    );
    query.days = NEXT_FREE_DAYS;
    query.limit = MAX_SUGGEST_LIMIT;
    query.spacing = SlotSpacing::BackToBack;
    query.exclude = moving.map(|id| BookingRef::Operation(OperationId(id)));
    let mut starts: Vec<DateTime<Utc>> = schedule
        .suggest(&query, state.now())
        .map(|slots| slots.iter().map(|slot| slot.start()).collect())
        .unwrap_or_default();
    let wanted = wanted.unwrap_or_else(|| state.now());
    starts.sort_by_key(|start| ((*start - wanted).abs(), *start));
    starts.truncate(NEXT_FREE_LIMIT);
    starts.sort_unstable();
    starts
}

/// The flash of the OP board after a form (`form=created|updated|cancelled`).
pub(crate) fn flash_key(pairs: &[(String, String)]) -> Option<&'static str> {
    match param(pairs, "form")?.as_str() {
        "created" => Some("ops.form.flash.created"),
        "updated" => Some("ops.form.flash.updated"),
        "cancelled" => Some("ops.form.flash.cancelled"),
        _ => None,
    }
}

/// Texts of the operation forms.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "ops.form.new_title" => ("Neue Operation", "New operation"),
        "ops.form.edit_title" => ("Operation bearbeiten", "Edit operation"),
        "ops.form.new" => ("Operation planen", "Plan an operation"),
        "ops.form.edit" => ("Bearbeiten", "Edit"),
        "ops.form.back" => ("Zurück zur OP-Übersicht", "Back to the operations board"),
        "ops.form.type" => ("Eingriff (OP-Typ)", "Procedure (operation type)"),
        "ops.form.type_hint" => (
            "Die Dauer (Vorbereitung, OP, Nachbereitung) ergibt sich aus dem OP-Typ.",
            "The duration (preparation, operation, aftercare) follows from the operation type.",
        ),
        "ops.form.room" => ("OP-Saal", "Operating room"),
        "ops.form.devices" => ("Geräte", "Devices"),
        "ops.form.no_devices" => ("Keine Geräte angelegt.", "No devices set up."),
        "ops.form.team" => ("OP-Team", "Operation team"),
        "ops.form.none" => ("– niemand –", "– nobody –"),
        "ops.form.save_new" => ("Operation planen", "Plan operation"),
        "ops.form.save" => ("Änderungen speichern", "Save changes"),
        "ops.form.cancel" => ("Operation absagen", "Cancel operation"),
        "ops.form.conflict_title_new" => (
            "Die Operation wurde nicht geplant.",
            "The operation was not planned.",
        ),
        "ops.form.conflict_title_edit" => (
            "Die Änderung wurde nicht gespeichert; die Operation bleibt unverändert.",
            "The change was not saved; the operation is unchanged.",
        ),
        "ops.form.next_free" => (
            "Freie Zeiten des Teams nahe dem Wunschtermin:",
            "Free times of the team near the requested time:",
        ),
        "ops.form.err.type_inactive" => (
            "Dieser OP-Typ ist nicht aktiv.",
            "This operation type is not active.",
        ),
        "ops.form.err.duration" => (
            "Dieser OP-Typ hat keine Dauer (0 Minuten).",
            "This operation type has no duration (0 minutes).",
        ),
        "ops.form.err.room" => (
            "Bitte einen aktiven OP-Saal (Raum) wählen.",
            "Please choose an active operating room.",
        ),
        "ops.form.err.devices" => (
            "Nur aktive Geräte können gewählt werden.",
            "Only active devices can be chosen.",
        ),
        "ops.form.err.member" => (
            "Bitte eine aktive Ärztin / einen aktiven Arzt wählen; niemand darf zwei Rollen im Team haben.",
            "Please choose an active doctor; nobody may hold two roles in the team.",
        ),
        "ops.form.flash.created" => ("Die Operation wurde geplant.", "The operation was planned."),
        "ops.form.flash.updated" => (
            "Die Operation wurde gespeichert.",
            "The operation was saved.",
        ),
        "ops.form.flash.cancelled" => (
            "Die Operation wurde abgesagt.",
            "The operation was cancelled.",
        ),
        "ops.conflict.member_operation" => (
            "ist bereits für eine Operation eingeplant:",
            "is already scheduled for an operation:",
        ),
        "ops.conflict.member_appointment" => {
            ("hat bereits einen Termin:", "already has an appointment:")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_prefill_query() {
        let values = OpValues {
            patient_id: "3".to_owned(),
            op_type: "2".to_owned(),
            date: "2030-01-14".to_owned(),
            start: "09:00".to_owned(),
            room: "5".to_owned(),
            devices: vec![7, 8],
            surgeon: "11".to_owned(),
            assistant: String::new(),
            anesthesist: "12".to_owned(),
            status: String::new(),
            notes: "a&b / c".to_owned(),
        };
        let again = OpValues::from_pairs(&wire::url_pairs(&values.query()));
        assert_eq!(again, values);
    }

    #[test]
    fn every_refused_field_maps_to_a_form_field_with_a_text() {
        for field in [
            "patient_id",
            "op_type",
            "op_room",
            "op_device_ids",
            "primary_surgeon",
            "assistant",
            "anesthesist",
        ] {
            assert_ne!(form_field(field), "form", "{field}");
            let key = rule_key(field);
            assert!(texts(key).is_some(), "{key}");
        }
    }
}
