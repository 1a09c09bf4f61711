//! Patient rights in the staff UI (docs/data-protection.md, "Patient rights"):
//! `/patients/{id}/export/` is the printable export of everything stored about a patient
//! (DSGVO Art. 15; admin and assistant), `/patients/{id}/erase/` the erasure form (Art. 17;
//! admin). Both call `usecases::patient_rights`, as the API does.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use praxi_domain::rbac::{Action, Area};
use serde::Deserialize;

use super::{failure, fmt_date, fmt_datetime, not_found};
use crate::state::AppState;
use crate::usecases::patient_rights::{self, EraseRequest, PatientExport, RightsRefusal};
use crate::usecases::{Caller, Failure};
use crate::web::i18n::Lang;
use crate::web::session::WebUser;
use crate::web::{Chrome, render_status};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/export/", get(export))
        .route("/patients/{id}/erase/", get(erase_form).post(erase))
}

pub(super) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "rights.title" => ("Patientenrechte", "Patient rights"),
        "rights.export" => (
            "Datenauskunft (Art. 15 DSGVO)",
            "Data export (GDPR Art. 15)",
        ),
        "rights.export.title" => ("Datenauskunft", "Data export"),
        "rights.export.intro" => (
            "Alle in Praxi gespeicherten Daten zu dieser Person, einschließlich des Zugriffsprotokolls.",
            "Everything Praxi stores about this person, including the access log.",
        ),
        "rights.generated" => ("Erstellt am", "Generated"),
        "rights.retention" => (
            "Gesetzliche Aufbewahrung (§ 630f BGB, 10 Jahre) bis",
            "Legal retention (§ 630f BGB, 10 years) until",
        ),
        "rights.erased" => ("Gelöscht am", "Erased on"),
        "rights.erase" => ("Daten löschen (Art. 17 DSGVO)", "Erase data (GDPR Art. 17)"),
        "rights.erase.title" => ("Patientendaten löschen", "Erase patient data"),
        "rights.erase.intro" => (
            "Name, Geburtsdatum, Geschlecht, Telefon und E-Mail werden unwiderruflich entfernt, Notizen und Dokumente gelöscht, Freitexte an Terminen, Operationen und Wartezimmer-Einträgen geleert. Termine und Operationen bleiben mit Zeit, Status, Arzt und Raum erhalten; das Zugriffsprotokoll bleibt unverändert.",
            "Name, birth date, gender, phone and e-mail are removed irreversibly, notes and documents deleted, free texts of appointments, operations and patient-flow entries cleared. Appointments and operations keep their time, status, doctor and room; the access log stays unchanged.",
        ),
        "rights.reason" => (
            "Grund (ohne Patientendaten)",
            "Reason (without patient data)",
        ),
        "rights.confirm_retention" => (
            "Ich bestätige die Löschung trotz laufender Aufbewahrungsfrist.",
            "I confirm the erasure although the retention period still runs.",
        ),
        "rights.erase.submit" => ("Unwiderruflich löschen", "Erase irreversibly"),
        "erase.reason_missing" => ("Bitte einen Grund angeben.", "Please give a reason."),
        "erase.retained" => (
            "Die gesetzliche Aufbewahrungsfrist läuft noch. Zum Löschen die Bestätigung ankreuzen.",
            "The legal retention period still runs. Tick the confirmation to erase anyway.",
        ),
        "erase.already" => (
            "Diese Person wurde bereits gelöscht.",
            "This person has already been erased.",
        ),
        "patients.flash.erased" => (
            "Die personenbezogenen Daten wurden gelöscht.",
            "The personal data has been erased.",
        ),
        "rights.section.master" => ("Stammdaten", "Master data"),
        "rights.section.appointments" => ("Termine", "Appointments"),
        "rights.section.operations" => ("Operationen", "Operations"),
        "rights.section.flows" => ("Wartezimmer-Verlauf", "Patient flow"),
        "rights.section.notes" => ("Notizen", "Notes"),
        "rights.section.documents" => ("Dokumente", "Documents"),
        "rights.section.access" => ("Zugriffsprotokoll", "Access log"),
        "rights.col.time" => ("Zeit", "Time"),
        "rights.col.end" => ("Ende", "End"),
        "rights.col.status" => ("Status", "Status"),
        "rights.col.person" => ("Person (ID)", "Person (id)"),
        "rights.col.room" => ("Raum (ID)", "Room (id)"),
        "rights.col.notes" => ("Notiz", "Note"),
        "rights.col.history" => ("Verlauf", "History"),
        "rights.col.author" => ("Verfasst von", "Author"),
        "rights.col.title" => ("Titel", "Title"),
        "rights.col.file" => ("Datei", "File"),
        "rights.col.user" => ("Benutzer", "User"),
        "rights.col.role" => ("Rolle", "Role"),
        "rights.col.action" => ("Aktion", "Action"),
        _ => return None,
    })
}

/// One table of the export page.
struct Section {
    id: &'static str,
    title: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "patients/export.html")]
struct ExportPage {
    chrome: Chrome,
    patient_id: i32,
    generated: String,
    retention_until: Option<String>,
    erased_at: Option<String>,
    master: Vec<(String, String)>,
    sections: Vec<Section>,
}

fn parse_id(raw: &str) -> Option<i32> {
    raw.parse::<i32>().ok().filter(|id| *id > 0)
}

fn opt(text: Option<&str>) -> String {
    text.unwrap_or("").to_owned()
}

fn history<'a>(
    events: impl Iterator<Item = (&'a Option<String>, &'a String, DateTime<Utc>)>,
    lang: Lang,
    tz: Tz,
) -> String {
    events
        .map(|(from, to, at)| {
            format!(
                "{} → {} ({})",
                from.as_deref().unwrap_or("–"),
                to,
                fmt_datetime(lang, at, tz)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn export_page(user: &WebUser, export: &PatientExport, tz: Tz) -> ExportPage {
    let lang = user.lang;
    let t = |key: &str| lang.t(key).to_owned();
    let when = |at: DateTime<Utc>| fmt_datetime(lang, at, tz);
    let records = &export.records;
    let patient = &records.patient;
    let master = vec![
        (t("patients.col.number"), patient.id.to_string()),
        (
            t("patients.field.first_name"),
            patient.fields.first_name.clone(),
        ),
        (
            t("patients.field.last_name"),
            patient.fields.last_name.clone(),
        ),
        (
            t("patients.field.birth_date"),
            patient
                .fields
                .birth_date
                .map(|day| fmt_date(lang, day))
                .unwrap_or_default(),
        ),
        (
            t("patients.field.gender"),
            opt(patient.fields.gender.as_deref()),
        ),
        (
            t("patients.field.phone"),
            opt(patient.fields.phone.as_deref()),
        ),
        (
            t("patients.field.email"),
            opt(patient.fields.email.as_deref()),
        ),
        (
            t("patients.created_at"),
            patient.created_at.map(when).unwrap_or_default(),
        ),
    ];
    let sections = vec![
        Section {
            id: "exportAppointments",
            title: t("rights.section.appointments"),
            columns: [
                "rights.col.time",
                "rights.col.end",
                "rights.col.status",
                "rights.col.person",
                "rights.col.notes",
            ]
            .iter()
            .map(|key| t(key))
            .collect(),
            rows: records
                .appointments
                .iter()
                .map(|row| {
                    vec![
                        when(row.start_time),
                        when(row.end_time),
                        row.status.clone(),
                        row.doctor_id.to_string(),
                        opt(row.notes.as_deref()),
                    ]
                })
                .collect(),
        },
        Section {
            id: "exportOperations",
            title: t("rights.section.operations"),
            columns: [
                "rights.col.time",
                "rights.col.end",
                "rights.col.status",
                "rights.col.person",
                "rights.col.room",
                "rights.col.notes",
                "rights.col.history",
            ]
            .iter()
            .map(|key| t(key))
            .collect(),
            rows: records
                .operations
                .iter()
                .map(|row| {
                    vec![
                        when(row.start_time),
                        when(row.end_time),
                        row.status.clone(),
                        row.primary_surgeon_id.to_string(),
                        row.op_room_id.to_string(),
                        opt(row.notes.as_deref()),
                        history(
                            records
                                .operation_events
                                .iter()
                                .filter(|event| event.operation_id == row.id)
                                .map(|event| (&event.from_status, &event.to_status, event.at)),
                            lang,
                            tz,
                        ),
                    ]
                })
                .collect(),
        },
        Section {
            id: "exportFlows",
            title: t("rights.section.flows"),
            columns: [
                "rights.col.time",
                "rights.col.status",
                "rights.col.notes",
                "rights.col.history",
            ]
            .iter()
            .map(|key| t(key))
            .collect(),
            rows: records
                .flows
                .iter()
                .map(|row| {
                    vec![
                        when(row.created_at),
                        row.status.clone(),
                        opt(row.notes.as_deref()),
                        history(
                            records
                                .flow_events
                                .iter()
                                .filter(|event| event.flow_id == row.id)
                                .map(|event| (&event.from_status, &event.to_status, event.at)),
                            lang,
                            tz,
                        ),
                    ]
                })
                .collect(),
        },
        Section {
            id: "exportNotes",
            title: t("rights.section.notes"),
            columns: ["rights.col.time", "rights.col.author", "rights.col.notes"]
                .iter()
                .map(|key| t(key))
                .collect(),
            rows: records
                .notes
                .iter()
                .map(|row| {
                    vec![
                        when(row.created_at),
                        format!("{} ({})", row.author_name, row.author_role),
                        row.content.clone(),
                    ]
                })
                .collect(),
        },
        Section {
            id: "exportDocuments",
            title: t("rights.section.documents"),
            columns: [
                "rights.col.time",
                "rights.col.title",
                "rights.col.file",
                "rights.col.notes",
            ]
            .iter()
            .map(|key| t(key))
            .collect(),
            rows: records
                .documents
                .iter()
                .map(|row| {
                    vec![
                        when(row.created_at),
                        format!("{} ({})", row.title, row.doc_type),
                        opt(row.file.as_deref()),
                        row.note.clone(),
                    ]
                })
                .collect(),
        },
        Section {
            id: "exportAccess",
            title: t("rights.section.access"),
            columns: [
                "rights.col.time",
                "rights.col.user",
                "rights.col.role",
                "rights.col.action",
            ]
            .iter()
            .map(|key| t(key))
            .collect(),
            rows: export
                .access_log
                .iter()
                .map(|row| {
                    vec![
                        when(row.timestamp),
                        row.username.clone(),
                        row.role_name.clone(),
                        row.action.clone(),
                    ]
                })
                .collect(),
        },
    ];
    ExportPage {
        chrome: Chrome::new(user, "nav.patients", "rights.export.title"),
        patient_id: patient.id,
        generated: when(export.generated_at),
        retention_until: export.retention_until.map(|day| fmt_date(lang, day)),
        erased_at: records
            .erasure
            .as_ref()
            .map(|erasure| when(erasure.erased_at)),
        master,
        sections,
    }
}

async fn export(State(state): State<AppState>, user: WebUser, Path(raw): Path<String>) -> Response {
    if let Err(response) = user.require(Area::PatientRights, Action::Read) {
        return response;
    }
    let Some(id) = parse_id(&raw) else {
        return not_found(&user);
    };
    match patient_rights::export(&state, &Caller::from(&user), id).await {
        Ok(export) => {
            let page = export_page(&user, &export, state.tz());
            render_status(&page, &page.chrome.nonce, StatusCode::OK)
        }
        Err(Failure::Refused(_)) => not_found(&user),
        Err(Failure::Store(error)) => failure(&user, error),
    }
}

#[derive(Template)]
#[template(path = "patients/erase.html")]
struct ErasePage {
    chrome: Chrome,
    patient_id: i32,
    patient_name: String,
    error: Option<String>,
    reason: String,
}

async fn erase_page(
    state: &AppState,
    user: &WebUser,
    raw: &str,
    error: Option<String>,
    reason: String,
    status: StatusCode,
) -> Response {
    let Some(id) = parse_id(raw) else {
        return not_found(user);
    };
    let patient = match state.store.patient(id).await {
        Ok(Some(patient)) => patient,
        Ok(None) => return not_found(user),
        Err(error) => return failure(user, error),
    };
    let page = ErasePage {
        chrome: Chrome::new(user, "nav.patients", "rights.erase.title"),
        patient_id: id,
        patient_name: praxi_domain::patient::display_name(
            patient.id,
            &patient.fields.first_name,
            &patient.fields.last_name,
            patient.fields.birth_date,
        ),
        error,
        reason,
    };
    render_status(&page, &page.chrome.nonce, status)
}

async fn erase_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
) -> Response {
    if let Err(response) = user.require(Area::PatientRights, Action::Delete) {
        return response;
    }
    erase_page(&state, &user, &raw, None, String::new(), StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct EraseForm {
    csrf_token: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm_retention: Option<String>,
}

async fn erase(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(form): Form<EraseForm>,
) -> Response {
    if let Err(response) = user.require(Area::PatientRights, Action::Delete) {
        return response;
    }
    if let Err(response) = user.check_csrf(&form.csrf_token) {
        return response;
    }
    let Some(id) = parse_id(&raw) else {
        return not_found(&user);
    };
    let request = EraseRequest {
        reason: form.reason.clone(),
        confirm_retention: form.confirm_retention.is_some(),
    };
    match patient_rights::erase(&state, &Caller::from(&user), id, &request).await {
        Ok(_) => Redirect::to(&format!("/patients/{id}/?ok=erased")).into_response(),
        Err(Failure::Refused(RightsRefusal::NotFound)) => not_found(&user),
        Err(Failure::Refused(refusal)) => {
            let mut message = user.lang.t(refusal.message_key()).to_owned();
            if let RightsRefusal::Retained { until } = refusal {
                message.push_str(&format!(
                    " {} {}.",
                    user.lang.t("rights.retention"),
                    fmt_date(user.lang, until)
                ));
            }
            erase_page(
                &state,
                &user,
                &raw,
                Some(message),
                form.reason,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(Failure::Store(error)) => failure(&user, error),
    }
}
