//! `/patients/`: server-side search (name, number, phone, e-mail, birth date) with page links
//! and the registration form; `/patients/{id}/`: master data with its edit form,
//! appointments, operations, the patient-flow history and figures computed from the stored
//! appointments.
//!
//! Reads are audited like the API: `patient_list` (page and ids) or `patient_search` (query
//! length and ids, never the query) for the list, `patient_view` (patient id; ids of what the
//! page shows) for every detail view. Writes go through the API's field readers, the
//! domain's [`PatientChanges`] rules and the store's `create_patient` / `update_patient`
//! with their audit rows (`patient_created`, `patient_updated`) in the same transaction.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::{DateTime, TimeDelta, Utc};
use praxi_domain::FieldErrors;
use praxi_domain::kpi::{AppointmentFact, AppointmentStatus, completion, no_shows};
use praxi_domain::operation::OperationStatus;
use praxi_domain::patient::{PatientChanges, PatientFields, PatientId, display_name};
use praxi_domain::rbac::{Action, Area};
use praxi_domain::scheduling::Interval;
use praxi_store::StoreError;
use praxi_store::admin_lists::{PatientQuery, PatientSort, Window};
use praxi_store::appointments::{AppointmentFilter, AppointmentRecord};
use praxi_store::operations::{OperationFilter, OperationRecord};
use praxi_store::patients::PatientRecord;
use praxi_store::people::{FlowEventRecord, FlowVisit, appointment_fact};
use serde_json::json;

use super::{
    Flash, FormField, FormInput, In, Pager, Scope, age, appointment_status_class,
    appointment_status_key, attach_errors, colour_css, failure, fmt_date, fmt_datetime,
    fmt_percent, not_found, page_number, swatch_class,
};
use crate::body::Fields;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::session::WebUser;
use crate::web::{Chrome, render_status, url_encode};
use crate::wire;

/// Patients per list page.
const PAGE_SIZE: u64 = 25;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/", get(list).post(create))
        .route("/patients/{id}/", get(detail).post(update))
}

pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "patients.title" => ("Patienten", "Patients"),
        "patients.search.label" => (
            "Suche nach Name, Nummer, Telefon, E-Mail oder Geburtsdatum (TT.MM.JJJJ)",
            "Search by name, number, phone, e-mail or birth date (DD.MM.YYYY)",
        ),
        "patients.search.submit" => ("Suchen", "Search"),
        "patients.search.reset" => ("Alle Patienten", "All patients"),
        "patients.total" => ("Patienten gefunden", "patients found"),
        "patients.caption" => ("Patientenliste", "Patient list"),
        "patients.col.name" => ("Patient (Nachname, Vorname)", "Patient (last, first name)"),
        "patients.col.birth_date" => ("Geburtsdatum", "Birth date"),
        "patients.col.age" => ("Alter", "Age"),
        "patients.col.number" => ("Nummer", "Number"),
        "patients.col.next" => ("Nächster Termin", "Next appointment"),
        "patients.empty" => ("Keine Patienten gefunden.", "No patients found."),
        "patients.create.title" => ("Neuen Patienten anlegen", "Register a new patient"),
        "patients.create.submit" => ("Patient anlegen", "Register patient"),
        "patients.field.id" => ("Patientennummer", "Patient number"),
        "patients.field.id.help" => (
            "Leer lassen: Praxi vergibt die nächste freie Nummer.",
            "Leave blank: Praxi assigns the next free number.",
        ),
        "patients.field.last_name" => ("Nachname", "Last name"),
        "patients.field.first_name" => ("Vorname", "First name"),
        "patients.field.birth_date" => ("Geburtsdatum", "Birth date"),
        "patients.field.gender" => ("Geschlecht", "Gender"),
        "patients.field.gender.help" => ("z. B. w, m, d", "e.g. f, m, d"),
        "patients.field.phone" => ("Telefon", "Phone"),
        "patients.field.email" => ("E-Mail", "E-mail"),
        "patients.flash.created" => ("Der Patient wurde angelegt.", "The patient was registered."),
        "patients.flash.saved" => (
            "Die Stammdaten wurden gespeichert.",
            "The master data was saved.",
        ),
        "patients.back" => ("Zur Patientenliste", "Back to the patient list"),
        "patients.master" => ("Stammdaten", "Master data"),
        "patients.edit" => ("Stammdaten bearbeiten", "Edit master data"),
        "patients.save" => ("Speichern", "Save"),
        "patients.read_only" => (
            "Nur lesender Zugriff: Ihre Rolle darf Stammdaten nicht ändern.",
            "Read-only: your role may not change master data.",
        ),
        "patients.created_at" => ("Angelegt", "Created"),
        "patients.updated_at" => ("Zuletzt geändert", "Last changed"),
        "patients.years" => ("Jahre", "years"),
        "patients.figures" => ("Termine in Zahlen", "Appointments in figures"),
        "patients.fig.total" => ("Termine gesamt", "Appointments"),
        "patients.fig.upcoming" => ("Bevorstehend", "Upcoming"),
        "patients.fig.cancelled" => ("Abgesagt", "Cancelled"),
        "patients.fig.no_show_rate" => ("No-Show-Quote", "No-show rate"),
        "patients.fig.completion_rate" => ("Erledigt-Quote", "Completion rate"),
        "patients.fig.of_past" => ("von vergangenen Terminen", "of past appointments"),
        "patients.fig.last_visit" => ("Letzter Besuch", "Last visit"),
        "patients.fig.next" => ("Nächster Termin", "Next appointment"),
        "patients.fig.note" => (
            "Berechnet aus den gespeicherten Terminen. Quoten beziehen sich auf vergangene, nicht abgesagte Termine; als nicht erschienen zählen markierte Termine und vergangene Termine, die noch geplant oder bestätigt sind.",
            "Computed from the stored appointments. Rates refer to past appointments that were not cancelled; no-shows are flagged appointments and past appointments still scheduled or confirmed.",
        ),
        "patients.own_only" => (
            "Sie sehen nur Ihre eigenen Termine, Operationen und Wartezimmer-Einträge dieses Patienten.",
            "You see only your own appointments, operations and patient-flow entries of this patient.",
        ),
        "patients.no_clinical" => (
            "Befunde, Vitalwerte, Laborwerte, Diagnosen, Medikation und Allergien werden in Praxi nicht gespeichert und daher nicht angezeigt.",
            "Findings, vital signs, lab values, diagnoses, medication and allergies are not stored in Praxi and therefore not shown.",
        ),
        "patients.appointments" => ("Termine", "Appointments"),
        "patients.upcoming" => ("Bevorstehende Termine", "Upcoming appointments"),
        "patients.past" => (
            "Vergangene und abgesagte Termine",
            "Past and cancelled appointments",
        ),
        "patients.book" => ("Termin buchen", "Book an appointment"),
        "patients.col.when" => ("Zeit", "Time"),
        "patients.col.doctor" => ("Arzt/Ärztin", "Doctor"),
        "patients.col.type" => ("Terminart", "Type"),
        "patients.col.status" => ("Status", "Status"),
        "patients.col.actions" => ("Aktionen", "Actions"),
        "patients.open" => ("Öffnen", "Open"),
        "patients.no_type" => ("ohne Terminart", "no type"),
        "patients.operations" => ("Operationen", "Operations"),
        "patients.col.op_type" => ("Eingriff", "Procedure"),
        "patients.col.room" => ("Raum", "Room"),
        "patients.col.surgeon" => ("Operateur/in", "Surgeon"),
        "patients.flow" => ("Wartezimmer-Verlauf", "Patient-flow history"),
        "patients.col.at" => ("Zeitpunkt", "Time"),
        "patients.col.change" => ("Statuswechsel", "Status change"),
        "patients.col.visit" => ("Besuch", "Visit"),
        "patients.col.by" => ("Geändert von", "Changed by"),
        "patients.flow.created" => ("angelegt", "created"),
        "patients.visit.appointment" => ("Termin", "Appointment"),
        "patients.visit.operation" => ("Operation", "Operation"),
        _ => return None,
    })
}

// ---- forms --------------------------------------------------------------------------------

/// The registration form: the API's create body (`id` optional).
const CREATE_FORM: [(&str, In); 7] = [
    ("id", In::Optional),
    ("last_name", In::Text),
    ("first_name", In::Text),
    ("birth_date", In::Date),
    ("gender", In::Nullable),
    ("phone", In::Nullable),
    ("email", In::Nullable),
];

/// The edit form: every profile field (a PATCH that sends all of them).
const EDIT_FORM: [(&str, In); 6] = [
    ("last_name", In::Text),
    ("first_name", In::Text),
    ("birth_date", In::Date),
    ("gender", In::Nullable),
    ("phone", In::Nullable),
    ("email", In::Nullable),
];

/// The profile fields of a body, read exactly as `POST/PATCH /api/patients/` reads them.
fn read_changes(fields: &mut Fields) -> PatientChanges {
    PatientChanges {
        first_name: fields.string("first_name"),
        last_name: fields.string("last_name"),
        birth_date: fields.opt_date("birth_date"),
        gender: fields.opt_string("gender"),
        phone: fields.opt_string("phone"),
        email: fields.opt_string("email"),
    }
}

/// Ends reading: the collected errors become `StoreError::Invalid`.
fn finish(fields: Fields) -> Result<(), StoreError> {
    fields.finish().map_err(|error| match error {
        ApiError::Validation(errors) => StoreError::Invalid(errors),
        other => StoreError::Db(other.to_string()),
    })
}

/// The inputs of a patient form; values from the submitted form, else from `current`.
fn form_fields(
    chrome: &Chrome,
    prefix: &str,
    with_id: bool,
    current: Option<&PatientFields>,
    input: Option<&FormInput>,
) -> Vec<FormField> {
    let value = |name: &str, stored: Option<String>| match input {
        Some(input) => input.text(name),
        None => stored.unwrap_or_default(),
    };
    let field = |name: &'static str,
                 kind: &'static str,
                 stored: Option<String>,
                 max: Option<usize>,
                 autocomplete: &'static str| {
        FormField {
            name,
            id: format!("{prefix}-{name}"),
            label: chrome.t(&format!("patients.field.{name}")),
            kind,
            value: value(name, stored),
            autocomplete,
            maxlength: max,
            help: None,
            errors: Vec::new(),
        }
    };
    let mut fields = Vec::new();
    if with_id {
        let mut id = field("id", "number", None, None, "off");
        id.help = Some(chrome.t("patients.field.id.help"));
        fields.push(id);
    }
    fields.push(field(
        "last_name",
        "text",
        current.map(|f| f.last_name.clone()),
        Some(100),
        "off",
    ));
    fields.push(field(
        "first_name",
        "text",
        current.map(|f| f.first_name.clone()),
        Some(100),
        "off",
    ));
    fields.push(field(
        "birth_date",
        "date",
        current
            .and_then(|f| f.birth_date)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        None,
        "off",
    ));
    let mut gender = field(
        "gender",
        "text",
        current.and_then(|f| f.gender.clone()),
        Some(20),
        "off",
    );
    gender.help = Some(chrome.t("patients.field.gender.help"));
    fields.push(gender);
    fields.push(field(
        "phone",
        "tel",
        current.and_then(|f| f.phone.clone()),
        Some(50),
        "off",
    ));
    fields.push(field(
        "email",
        "email",
        current.and_then(|f| f.email.clone()),
        Some(255),
        "off",
    ));
    fields
}

/// A form and what went wrong with its last submit.
struct FormState {
    fields: Vec<FormField>,
    /// Messages that belong to no field.
    other_errors: Vec<String>,
    /// `true` after a failed submit (the form is shown open, with a summary).
    failed: bool,
}

impl FormState {
    fn new(
        lang: crate::web::i18n::Lang,
        mut fields: Vec<FormField>,
        errors: Option<&FieldErrors>,
    ) -> FormState {
        let other_errors = errors
            .map(|errors| attach_errors(lang, &mut fields, errors))
            .unwrap_or_default();
        FormState {
            fields,
            other_errors,
            failed: errors.is_some(),
        }
    }
}

// ---- list ---------------------------------------------------------------------------------

/// One row of `#patientsTable`.
struct ListRow {
    id: i32,
    name: String,
    birth_date: String,
    age: String,
    next: String,
}

#[derive(Template)]
#[template(path = "patients/list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    total: u64,
    rows: Vec<ListRow>,
    pager: Pager,
    /// `None` for roles that may not register patients.
    create: Option<FormState>,
    show_next: bool,
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

async fn list(State(state): State<AppState>, user: WebUser, RawQuery(query): RawQuery) -> Response {
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let q = param(&pairs, "q").unwrap_or("").trim().to_owned();
    let page = param(&pairs, "page").map(str::to_owned);
    render_list(&state, &user, &q, page.as_deref(), None, StatusCode::OK).await
}

async fn render_list(
    state: &AppState,
    user: &WebUser,
    q: &str,
    page: Option<&str>,
    create_input: Option<(&FormInput, &FieldErrors)>,
    status: StatusCode,
) -> Response {
    if let Err(response) = user.require(Area::Patients, Action::List) {
        return response;
    }
    match list_page(state, user, q, page, create_input).await {
        Ok(page) => render_status(&page, &page.chrome.nonce, status),
        Err(error) => failure(user, error),
    }
}

async fn list_page(
    state: &AppState,
    user: &WebUser,
    q: &str,
    raw_page: Option<&str>,
    create_input: Option<(&FormInput, &FieldErrors)>,
) -> Result<ListPage, StoreError> {
    let query = PatientQuery::parse(q);
    let window = |page: u64| Window {
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let requested = raw_page
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1);
    let mut found = state
        .store
        .admin_patients(&query, PatientSort::Name, false, window(requested))
        .await?;
    let page = page_number(raw_page, found.total, PAGE_SIZE);
    if page != requested {
        // Beyond the last page: show the last one.
        found = state
            .store
            .admin_patients(&query, PatientSort::Name, false, window(page))
            .await?;
    }
    let ids: Vec<i32> = found.rows.iter().map(|patient| patient.id).collect();
    let entry = if q.is_empty() {
        user.audit(
            "patient_list",
            None,
            Some(json!({"page": page, "patient_ids": ids})),
        )
        .with_subjects(ids.iter().copied())
    } else {
        // The query may be a name: only its length is kept.
        user.audit(
            "patient_search",
            None,
            Some(json!({"query_length": q.chars().count(), "patient_ids": ids})),
        )
        .with_subjects(ids.iter().copied())
    };
    state.store.record_audit(&entry).await?;

    let appointments = Scope::of(user, Area::Appointments);
    let next = if appointments == Scope::Hidden {
        Default::default()
    } else {
        state
            .store
            .next_patient_appointments(&ids, state.now(), appointments.filter())
            .await?
    };
    let lang = user.lang;
    let today = state.today();
    let tz = state.tz();
    let chrome = Chrome::new(user, "nav.patients", "patients.title");
    let rows = found
        .rows
        .iter()
        .map(|patient| {
            let fields = &patient.fields;
            ListRow {
                id: patient.id,
                name: display_name(patient.id, &fields.first_name, &fields.last_name, None),
                birth_date: fields
                    .birth_date
                    .map(|date| fmt_date(lang, date))
                    .unwrap_or_default(),
                age: fields
                    .birth_date
                    .and_then(|date| age(date, today))
                    .map(|years| years.to_string())
                    .unwrap_or_default(),
                next: next
                    .get(&patient.id)
                    .map(|start| fmt_datetime(lang, *start, tz))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let base_q = url_encode(q);
    let pager = Pager::new(page, found.total, PAGE_SIZE, |n| {
        if q.is_empty() {
            format!("/patients/?page={n}")
        } else {
            format!("/patients/?q={base_q}&page={n}")
        }
    });
    let create = user.can(Area::Patients, Action::Create).then(|| {
        let (input, errors) = match create_input {
            Some((input, errors)) => (Some(input), Some(errors)),
            None => (None, None),
        };
        FormState::new(
            chrome.lang,
            form_fields(&chrome, "create", true, None, input),
            errors,
        )
    });
    Ok(ListPage {
        q: q.to_owned(),
        total: found.total,
        rows,
        pager,
        create,
        show_next: appointments != Scope::Hidden,
        chrome,
    })
}

async fn create(
    State(state): State<AppState>,
    user: WebUser,
    Form(input): Form<FormInput>,
) -> Response {
    if let Err(response) = user.require(Area::Patients, Action::Create) {
        return response;
    }
    if let Err(response) = user.check_csrf(input.csrf()) {
        return response;
    }
    match create_patient(&state, &user, &input).await {
        Ok(id) => Redirect::to(&format!("/patients/{id}/?ok=created")).into_response(),
        Err(StoreError::Invalid(errors)) => {
            render_list(
                &state,
                &user,
                "",
                None,
                Some((&input, &errors)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => failure(&user, error),
    }
}

/// `POST /api/patients/` with a form: the same readers, rules and store call.
async fn create_patient(
    state: &AppState,
    user: &WebUser,
    input: &FormInput,
) -> Result<i32, StoreError> {
    let mut fields = input.fields(state.tz(), &CREATE_FORM);
    let id = match fields.opt_int("id") {
        Some(Some(raw)) => match PatientId::new(raw) {
            Ok(id) => Some(id),
            Err(error) => {
                for message in error.0.fields().get("id").into_iter().flatten() {
                    fields.errors_mut().add("id", message.clone());
                }
                None
            }
        },
        _ => None,
    };
    let changes = read_changes(&mut fields);
    finish(fields)?;
    let profile = changes.apply(PatientFields::default(), state.today())?;
    let patient = state
        .store
        .create_patient(id, profile, state.now(), |id| {
            user.audit("patient_created", Some(id), None)
        })
        .await?;
    Ok(patient.id)
}

// ---- detail -------------------------------------------------------------------------------

/// Appointment figures of one patient, from the stored rows the viewer may see.
#[derive(Debug, Clone, Default, PartialEq)]
struct Figures {
    total: u64,
    upcoming: u64,
    /// Completed among the past ones not cancelled.
    completed: u64,
    cancelled: u64,
    /// Past, not cancelled (the population of the rates).
    past: u64,
    no_shows: u64,
    no_show_rate: Option<f64>,
    completion_rate: Option<f64>,
    last_visit: Option<DateTime<Utc>>,
    next: Option<DateTime<Utc>>,
}

/// The figures of `facts` at `now`, with the KPI definitions of `praxi_domain::kpi`
/// (no-shows: flagged, or still scheduled/confirmed after the end).
fn figures(facts: &[AppointmentFact], now: DateTime<Utc>) -> Figures {
    let mut out = Figures {
        total: facts.len() as u64,
        ..Default::default()
    };
    let open = |status: AppointmentStatus| {
        matches!(
            status,
            AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
        )
    };
    for fact in facts {
        if fact.status == AppointmentStatus::Cancelled {
            out.cancelled += 1;
        }
        if open(fact.status) && fact.start >= now {
            out.upcoming += 1;
            out.next = Some(out.next.map_or(fact.start, |next| next.min(fact.start)));
        }
        if fact.status == AppointmentStatus::Completed && fact.start <= now {
            out.last_visit = Some(
                out.last_visit
                    .map_or(fact.start, |last| last.max(fact.start)),
            );
        }
    }
    let first = facts.iter().map(|fact| fact.start).min();
    let last = facts.iter().map(|fact| fact.start).max();
    // Every row lies in the window from the first start to just after the last one.
    let window = first
        .zip(last)
        .and_then(|(first, last)| Interval::new(first, last + TimeDelta::seconds(1)).ok());
    if let Some(window) = window {
        let shows = no_shows(facts, &window, now);
        out.past = shows.total;
        out.no_shows = shows.count();
        out.no_show_rate = shows.rate();
        let done = completion(facts, &window, now);
        out.completed = done.part;
        out.completion_rate = done.rate();
    }
    out
}

/// One appointment row.
struct AppointmentRow {
    id: i32,
    when: String,
    doctor: String,
    doctor_swatch: Option<String>,
    type_name: Option<String>,
    status: String,
    status_class: &'static str,
    /// "Nicht erschienen" (flagged) or "Nicht abgeschlossen" (past, still open).
    flag: Option<String>,
}

struct OperationRow {
    id: i64,
    when: String,
    op_type: String,
    room: String,
    surgeon: String,
    status: String,
    status_class: &'static str,
}

struct FlowRow {
    id: i64,
    at: String,
    from: Option<String>,
    to: String,
    visit: String,
    by: String,
}

/// The master data as shown (not the form).
struct MasterData {
    id: i32,
    name: String,
    birth_date: String,
    age: Option<u32>,
    gender: String,
    phone: String,
    email: String,
    created_at: String,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "patients/detail.html")]
struct DetailPage {
    chrome: Chrome,
    patient: MasterData,
    flash: Option<Flash>,
    /// `None` for roles that may not change patients (billing).
    edit: Option<FormState>,
    own_only: bool,
    figures: Option<FigureCards>,
    upcoming: Option<Vec<AppointmentRow>>,
    past: Vec<AppointmentRow>,
    book_href: Option<String>,
    open_appointments: bool,
    operations: Option<Vec<OperationRow>>,
    history: Option<Vec<FlowRow>>,
    /// Patient rights (DSGVO): the export and erasure links for the roles that may use them.
    can_export: bool,
    can_erase: bool,
    /// Notes and documents (`None` for roles without `PatientFiles`).
    files: Option<super::patient_files::FilesSection>,
}

/// The figures as text.
struct FigureCards {
    total: u64,
    upcoming: u64,
    completed: u64,
    cancelled: u64,
    past: u64,
    no_shows: u64,
    no_show_rate: String,
    completion_rate: String,
    last_visit: String,
    next: String,
}

fn parse_id(raw: &str) -> Option<i32> {
    raw.parse::<i32>().ok().filter(|id| *id > 0)
}

async fn find_patient(
    state: &AppState,
    user: &WebUser,
    raw: &str,
) -> Result<PatientRecord, Response> {
    let Some(id) = parse_id(raw) else {
        return Err(not_found(user));
    };
    match state.store.patient(id).await {
        Ok(Some(patient)) => Ok(patient),
        Ok(None) => Err(not_found(user)),
        Err(error) => Err(failure(user, error)),
    }
}

async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = user.require(Area::Patients, Action::Read) {
        return response;
    }
    let patient = match find_patient(&state, &user, &raw).await {
        Ok(patient) => patient,
        Err(response) => return response,
    };
    let pairs = wire::url_pairs(query.as_deref().unwrap_or(""));
    let flash = match (param(&pairs, "ok"), param(&pairs, "error")) {
        (Some(key @ ("created" | "saved" | "erased")), _) => Some(Flash {
            ok: true,
            text: user.lang.t(&format!("patients.flash.{key}")).to_owned(),
        }),
        (Some(code), _) => super::patient_files::flash_key(true, code).map(|key| Flash {
            ok: true,
            text: user.lang.t(key).to_owned(),
        }),
        (None, Some(code)) => super::patient_files::flash_key(false, code).map(|key| Flash {
            ok: false,
            text: user.lang.t(key).to_owned(),
        }),
        (None, None) => None,
    };
    render_detail(&state, &user, &patient, flash, None, StatusCode::OK).await
}

async fn update(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(input): Form<FormInput>,
) -> Response {
    if let Err(response) = user.require(Area::Patients, Action::Update) {
        return response;
    }
    if let Err(response) = user.check_csrf(input.csrf()) {
        return response;
    }
    let patient = match find_patient(&state, &user, &raw).await {
        Ok(patient) => patient,
        Err(response) => return response,
    };
    match update_patient(&state, &user, &patient, &input).await {
        Ok(()) => Redirect::to(&format!("/patients/{}/?ok=saved", patient.id)).into_response(),
        Err(StoreError::Invalid(errors)) => {
            render_detail(
                &state,
                &user,
                &patient,
                None,
                Some((&input, &errors)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => failure(&user, error),
    }
}

/// `PATCH /api/patients/{id}/` with every profile field: the same readers, rules and store call.
async fn update_patient(
    state: &AppState,
    user: &WebUser,
    patient: &PatientRecord,
    input: &FormInput,
) -> Result<(), StoreError> {
    let mut fields = input.fields(state.tz(), &EDIT_FORM);
    let changes = read_changes(&mut fields);
    finish(fields)?;
    let profile = changes.apply(patient.fields.clone(), state.today())?;
    state
        .store
        .update_patient(
            patient.id,
            profile,
            state.now(),
            &user.audit("patient_updated", Some(patient.id), None),
        )
        .await?;
    Ok(())
}

async fn render_detail(
    state: &AppState,
    user: &WebUser,
    patient: &PatientRecord,
    flash: Option<Flash>,
    edit_input: Option<(&FormInput, &FieldErrors)>,
    status: StatusCode,
) -> Response {
    match detail_page(state, user, patient, flash, edit_input).await {
        Ok(page) => render_status(&page, &page.chrome.nonce, status),
        Err(error) => failure(user, error),
    }
}

async fn detail_page(
    state: &AppState,
    user: &WebUser,
    patient: &PatientRecord,
    flash: Option<Flash>,
    edit_input: Option<(&FormInput, &FieldErrors)>,
) -> Result<DetailPage, StoreError> {
    let appointment_scope = Scope::of(user, Area::Appointments);
    let operation_scope = Scope::of(user, Area::Operations);
    let flow_scope = Scope::of(user, Area::PatientFlow);
    let appointments: Option<Vec<AppointmentRecord>> = match appointment_scope {
        Scope::Hidden => None,
        scope => Some(
            state
                .store
                .appointments(&AppointmentFilter {
                    patient_id: Some(patient.id),
                    doctor_id: scope.filter(),
                    ..Default::default()
                })
                .await?,
        ),
    };
    let operations: Option<Vec<OperationRecord>> = match operation_scope {
        Scope::Hidden => None,
        scope => Some(
            state
                .store
                .operations(&OperationFilter {
                    patient_id: Some(patient.id),
                    team_member: scope.filter(),
                    ..Default::default()
                })
                .await?,
        ),
    };
    let history: Option<Vec<FlowEventRecord>> = match flow_scope {
        Scope::Hidden => None,
        scope => Some(
            state
                .store
                .patient_flow_history(patient.id, scope.filter())
                .await?,
        ),
    };

    let files = super::patient_files::section(state, user, patient.id).await?;

    // Every view of the page is audited, with the ids of what it shows (never their content).
    let ids = |list: Option<Vec<i64>>| list.map_or(serde_json::Value::Null, |ids| json!(ids));
    let mut meta = json!({
        "appointment_ids": ids(appointments.as_ref().map(|list| list.iter().map(|a| i64::from(a.id)).collect())),
        "operation_ids": ids(operations.as_ref().map(|list| list.iter().map(|o| o.id).collect())),
        "flow_ids": ids(history.as_ref().map(|list| {
            let mut flows: Vec<i64> = list.iter().map(|event| event.flow_id).collect();
            flows.sort_unstable();
            flows.dedup();
            flows
        })),
    });
    if let Some((_, note_ids, document_ids)) = &files {
        meta["note_ids"] = json!(note_ids);
        meta["document_ids"] = json!(document_ids);
    }
    state
        .store
        .record_audit(&user.audit("patient_view", Some(patient.id), Some(meta)))
        .await?;

    let lang = user.lang;
    let tz = state.tz();
    let now = state.now();
    let today = state.today();
    let mut chrome = Chrome::new(user, "nav.patients", "patients.title");
    let fields = &patient.fields;
    let name = display_name(patient.id, &fields.first_name, &fields.last_name, None);
    chrome.title = name.clone();
    let t = |key: &str| lang.t(key).to_owned();

    let mut colours: Vec<String> = Vec::new();
    let (upcoming, past, figure_cards) = match &appointments {
        None => (None, Vec::new(), None),
        Some(list) => {
            let facts: Vec<AppointmentFact> = list.iter().filter_map(appointment_fact).collect();
            let figures = figures(&facts, now);
            let mut upcoming = Vec::new();
            let mut past = Vec::new();
            for record in list {
                colours.push(record.doctor_color.clone());
                let is_open = record.status.is_open();
                let flag = if record.is_no_show {
                    Some(t("people.no_show"))
                } else if is_open && record.end_time <= now {
                    Some(t("people.open_past"))
                } else {
                    None
                };
                let row = AppointmentRow {
                    id: record.id,
                    when: format!(
                        "{}–{}",
                        fmt_datetime(lang, record.start_time, tz),
                        record.end_time.with_timezone(&tz).format("%H:%M")
                    ),
                    doctor: doctor_name(record),
                    doctor_swatch: swatch_class(&record.doctor_color),
                    type_name: record
                        .appointment_type
                        .as_ref()
                        .map(|kind| kind.name.clone()),
                    status: t(appointment_status_key(record.status)),
                    status_class: appointment_status_class(record.status),
                    flag,
                };
                if is_open && record.start_time >= now {
                    upcoming.push(row);
                } else {
                    past.push(row);
                }
            }
            // Most recent first.
            past.reverse();
            let cards = FigureCards {
                total: figures.total,
                upcoming: figures.upcoming,
                completed: figures.completed,
                cancelled: figures.cancelled,
                past: figures.past,
                no_shows: figures.no_shows,
                no_show_rate: fmt_percent(lang, figures.no_show_rate),
                completion_rate: fmt_percent(lang, figures.completion_rate),
                last_visit: figures
                    .last_visit
                    .map(|at| fmt_datetime(lang, at, tz))
                    .unwrap_or_else(|| "–".to_owned()),
                next: figures
                    .next
                    .map(|at| fmt_datetime(lang, at, tz))
                    .unwrap_or_else(|| "–".to_owned()),
            };
            (Some(upcoming), past, Some(cards))
        }
    };

    let operation_rows = operations.as_ref().map(|list| {
        list.iter()
            .rev()
            .map(|record| OperationRow {
                id: record.id,
                when: format!(
                    "{}–{}",
                    fmt_datetime(lang, record.start_time, tz),
                    record.end_time.with_timezone(&tz).format("%H:%M")
                ),
                op_type: record.op_type.name.clone(),
                room: record.room.name.clone(),
                surgeon: record.primary_surgeon.display_name(),
                status: t(&format!("status.operation.{}", record.status().as_str())),
                status_class: match record.status() {
                    OperationStatus::Cancelled => "cancelled",
                    OperationStatus::Done => "ok",
                    _ => "info",
                },
            })
            .collect()
    });

    let history_rows = history.as_ref().map(|list| {
        list.iter()
            .map(|event| FlowRow {
                id: event.id,
                at: fmt_datetime(lang, event.at, tz),
                from: event
                    .from_status
                    .map(|status| t(&format!("people.flow.{}", status.as_str()))),
                to: t(&format!("people.flow.{}", event.to_status.as_str())),
                visit: match event.visit {
                    Some(FlowVisit::Appointment(_, start)) => {
                        format!(
                            "{} {}",
                            t("patients.visit.appointment"),
                            fmt_datetime(lang, start, tz)
                        )
                    }
                    Some(FlowVisit::Operation(_, start)) => {
                        format!(
                            "{} {}",
                            t("patients.visit.operation"),
                            fmt_datetime(lang, start, tz)
                        )
                    }
                    None => "–".to_owned(),
                },
                by: event.changed_by.clone().unwrap_or_else(|| "–".to_owned()),
            })
            .collect()
    });

    let edit = user.can(Area::Patients, Action::Update).then(|| {
        let (input, errors) = match edit_input {
            Some((input, errors)) => (Some(input), Some(errors)),
            None => (None, None),
        };
        FormState::new(
            chrome.lang,
            form_fields(&chrome, "edit", false, Some(fields), input),
            errors,
        )
    });
    chrome.css = colour_css(colours.iter().map(String::as_str));
    let master = MasterData {
        id: patient.id,
        name,
        birth_date: fields
            .birth_date
            .map(|date| fmt_date(lang, date))
            .unwrap_or_else(|| "–".to_owned()),
        age: fields.birth_date.and_then(|date| age(date, today)),
        gender: fields
            .gender
            .as_deref()
            .map(|gender| crate::web::problems::gender_text(lang, gender))
            .unwrap_or_else(|| "–".to_owned()),
        phone: fields.phone.clone().unwrap_or_else(|| "–".to_owned()),
        email: fields.email.clone().unwrap_or_else(|| "–".to_owned()),
        created_at: patient
            .created_at
            .map(|at| fmt_datetime(lang, at, tz))
            .unwrap_or_else(|| "–".to_owned()),
        updated_at: patient
            .updated_at
            .map(|at| fmt_datetime(lang, at, tz))
            .unwrap_or_else(|| "–".to_owned()),
    };
    Ok(DetailPage {
        patient: master,
        flash,
        edit,
        own_only: [appointment_scope, operation_scope, flow_scope]
            .iter()
            .any(|scope| matches!(scope, Scope::Own(_))),
        figures: figure_cards,
        upcoming,
        past,
        book_href: user
            .can(Area::Appointments, Action::Create)
            .then(|| format!("/calendar/new/?patient_id={}", patient.id)),
        open_appointments: user.can(Area::Appointments, Action::Read),
        operations: operation_rows,
        history: history_rows,
        can_export: user.can(Area::PatientRights, Action::Read),
        can_erase: user.can(Area::PatientRights, Action::Delete),
        files: files.map(|(section, _, _)| section),
        chrome,
    })
}

fn doctor_name(record: &AppointmentRecord) -> String {
    let full = format!(
        "{} {}",
        record.doctor_first_name.trim(),
        record.doctor_last_name.trim()
    );
    let full = full.trim();
    if full.is_empty() {
        record.doctor_username.clone()
    } else {
        full.to_owned()
    }
}

/// The badge class of an appointment status (the text says the status; the class only
/// adds colour).
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 14, hour, 0, 0).unwrap()
    }

    fn fact(id: i32, hour: u32, status: AppointmentStatus, no_show: bool) -> AppointmentFact {
        AppointmentFact {
            id,
            doctor: 1,
            patient: 7,
            start: at(hour),
            end: at(hour) + TimeDelta::minutes(30),
            status,
            is_no_show: no_show,
            created_at: at(0),
            updated_at: at(0),
            resources: Vec::new(),
        }
    }

    #[test]
    fn figures_count_stored_rows_with_the_kpi_no_show_rule() {
        use AppointmentStatus::*;
        let now = at(12);
        let facts = [
            fact(1, 8, Completed, false),
            fact(2, 9, Scheduled, true),   // flagged no-show
            fact(3, 10, Confirmed, false), // past and still open: counts as no-show
            fact(4, 11, Cancelled, false), // not in the rates
            fact(5, 14, Scheduled, false), // upcoming
            fact(6, 16, Confirmed, false), // upcoming
        ];
        let figures = figures(&facts, now);
        assert_eq!(figures.total, 6);
        assert_eq!(figures.upcoming, 2);
        assert_eq!(figures.completed, 1);
        assert_eq!(figures.cancelled, 1);
        assert_eq!(figures.past, 3);
        assert_eq!(figures.no_shows, 2);
        assert_eq!(figures.no_show_rate, Some(66.7));
        assert_eq!(figures.completion_rate, Some(33.3));
        assert_eq!(figures.last_visit, Some(at(8)));
        assert_eq!(figures.next, Some(at(14)));
    }

    #[test]
    fn figures_without_rows_have_no_rates() {
        let figures = figures(&[], at(12));
        assert_eq!(figures, Figures::default());
        assert_eq!(figures.no_show_rate, None);
    }

    #[test]
    fn only_positive_ids_are_patients() {
        assert_eq!(parse_id("7"), Some(7));
        assert_eq!(parse_id("0"), None);
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("abc"), None);
        assert_eq!(parse_id("99999999999"), None);
    }
}
