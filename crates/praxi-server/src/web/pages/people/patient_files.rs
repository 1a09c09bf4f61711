//! Notes and documents on the patient page (#15 item 6c), through
//! `usecases::patient_files`:
//!
//! * `POST /patients/{id}/notes/` — a note (author and time shown with it).
//! * `POST /patients/{id}/documents/` — an upload (`multipart/form-data`: title, kind, note,
//!   file; at most 10 MiB, PDF/PNG/JPEG/text by content).
//! * `GET /patients/{id}/documents/{doc}/` — the authenticated, audited download: always an
//!   attachment with `nosniff` and a sandboxing CSP, never rendered inline.
//!
//! Both writes answer with a redirect to the patient page and a flash (`ok=…` / `error=…`).
//! The policy row is `PatientFiles`; roles without it (billing) see neither section.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::DateTime;
use chrono_tz::Tz;
use praxi_domain::document::{MAX_DOCUMENT_BYTES, NoteProblem, UploadProblem};
use praxi_domain::rbac::{Action, Area};
use praxi_store::patient_files::{DocumentRecord, NoteRecord};

use super::{failure, fmt_datetime, not_found};
use crate::state::AppState;
use crate::usecases::patient_files::{self, FileRefusal, Upload};
use crate::usecases::{Caller, Failure};
use crate::web::i18n::Lang;
use crate::web::multipart;
use crate::web::session::WebUser;
use crate::wire;

/// Room for the form fields around the largest file.
const FORM_OVERHEAD: usize = 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/notes/", post(add_note))
        .route(
            "/patients/{id}/documents/",
            post(upload).layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + FORM_OVERHEAD)),
        )
        .route("/patients/{id}/documents/{document}/", get(download))
}

/// One note as shown.
pub(crate) struct NoteRow {
    pub(crate) id: i64,
    pub(crate) author: String,
    pub(crate) role: String,
    pub(crate) at: String,
    pub(crate) datetime: String,
    pub(crate) content: String,
}

/// One document as shown.
pub(crate) struct DocumentRow {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) at: String,
    pub(crate) note: String,
    pub(crate) href: String,
}

/// The notes and documents sections of the patient page.
pub(crate) struct FilesSection {
    pub(crate) notes: Vec<NoteRow>,
    pub(crate) documents: Vec<DocumentRow>,
    pub(crate) can_add: bool,
}

/// The sections for `user` (`None` when the policy hides them), and the ids shown (audit).
pub(crate) async fn section(
    state: &AppState,
    user: &WebUser,
    patient_id: i32,
) -> Result<Option<(FilesSection, Vec<i64>, Vec<i64>)>, praxi_store::StoreError> {
    if !user.can(Area::PatientFiles, Action::List) {
        return Ok(None);
    }
    let (notes, documents) = patient_files::list(state, patient_id).await?;
    let lang = user.lang;
    let tz = state.tz();
    let note_ids = notes.iter().map(|n| n.id).collect();
    let document_ids = documents.iter().map(|d| d.id).collect();
    let section = FilesSection {
        notes: notes.iter().map(|note| note_row(lang, tz, note)).collect(),
        documents: documents
            .iter()
            .map(|document| document_row(lang, tz, document))
            .collect(),
        can_add: user.can(Area::PatientFiles, Action::Create),
    };
    Ok(Some((section, note_ids, document_ids)))
}

fn iso(at: DateTime<chrono::Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

fn note_row(lang: Lang, tz: Tz, note: &NoteRecord) -> NoteRow {
    let author = note.author_name.trim();
    NoteRow {
        id: note.id,
        author: if author.is_empty() {
            lang.t("patients.notes.unknown_author").to_owned()
        } else {
            author.to_owned()
        },
        role: match note.author_role.trim() {
            "" => String::new(),
            role => {
                let key = format!("role.{role}");
                let text = lang.t(&key);
                if text == key {
                    role.to_owned()
                } else {
                    text.to_owned()
                }
            }
        },
        at: fmt_datetime(lang, note.created_at, tz),
        datetime: iso(note.created_at, tz),
        content: note.content.clone(),
    }
}

fn document_row(lang: Lang, tz: Tz, document: &DocumentRecord) -> DocumentRow {
    DocumentRow {
        id: document.id,
        title: document.title.clone(),
        kind: lang
            .t(if document.doc_type == "report" {
                "patients.documents.report"
            } else {
                "patients.documents.document"
            })
            .to_owned(),
        at: fmt_datetime(lang, document.created_at, tz),
        note: document.note.clone(),
        href: format!(
            "/patients/{}/documents/{}/",
            document.patient_id, document.id
        ),
    }
}

fn patient_id(raw: &str) -> Option<i32> {
    raw.parse::<i32>().ok().filter(|id| *id > 0)
}

fn back(patient: i32, outcome: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/patients/{patient}/?{outcome}#{anchor}")).into_response()
}

/// The flash code of a refusal.
fn refusal_code(refusal: FileRefusal) -> &'static str {
    match refusal {
        FileRefusal::PatientUnknown | FileRefusal::DocumentMissing => "missing",
        FileRefusal::Note(NoteProblem::Empty) => "note_empty",
        FileRefusal::Note(NoteProblem::TooLong) => "note_too_long",
        FileRefusal::Upload(UploadProblem::TitleMissing) => "title_missing",
        FileRefusal::Upload(UploadProblem::TitleTooLong) => "title_too_long",
        FileRefusal::Upload(UploadProblem::FileMissing) => "file_missing",
        FileRefusal::Upload(UploadProblem::FileTooLarge) => "file_too_large",
        FileRefusal::Upload(UploadProblem::FileType) => "file_type",
    }
}

/// The text key of a flash code of the patient page (`None` for unknown codes).
pub(crate) fn flash_key(ok: bool, code: &str) -> Option<&'static str> {
    Some(match (ok, code) {
        (true, "note_added") => "patients.notes.added",
        (true, "document_added") => "patients.documents.added",
        (false, "note_empty") => "patients.notes.err.empty",
        (false, "note_too_long") => "patients.notes.err.too_long",
        (false, "title_missing") => "patients.documents.err.title",
        (false, "title_too_long") => "patients.documents.err.title_long",
        (false, "file_missing") => "patients.documents.err.file",
        (false, "file_too_large") => "patients.documents.err.too_large",
        (false, "file_type") => "patients.documents.err.type",
        (false, "malformed") => "patients.documents.err.malformed",
        (false, "missing") => "patients.documents.err.missing",
        _ => return None,
    })
}

/// `POST /patients/{id}/notes/`.
async fn add_note(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = user.require(Area::PatientFiles, Action::Create) {
        return response;
    }
    let pairs = wire::url_pairs(&String::from_utf8_lossy(&body));
    let field = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    if let Err(response) = user.check_csrf(&field("csrf_token")) {
        return response;
    }
    let Some(patient) = patient_id(&raw) else {
        return not_found(&user);
    };
    let caller = Caller::from(&user);
    let author = user.user.display_name();
    match patient_files::add_note(&state, &caller, &author, patient, &field("content")).await {
        Ok(_) => back(patient, "ok=note_added", "notes"),
        Err(Failure::Refused(FileRefusal::PatientUnknown)) => not_found(&user),
        Err(Failure::Refused(refusal)) => back(
            patient,
            &format!("error={}", refusal_code(refusal)),
            "notes",
        ),
        Err(Failure::Store(error)) => failure(&user, error),
    }
}

/// `POST /patients/{id}/documents/` (multipart).
async fn upload(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = user.require(Area::PatientFiles, Action::Create) {
        return response;
    }
    let Some(patient) = patient_id(&raw) else {
        return not_found(&user);
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let Ok(parts) = multipart::parse(content_type, &body) else {
        // Without a readable body there is no CSRF token either: nothing is written.
        return back(patient, "error=malformed", "documents");
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|part| part.name == name && part.filename.is_none())
            .map(multipart::Part::text)
            .unwrap_or_default()
    };
    if let Err(response) = user.check_csrf(&text("csrf_token")) {
        return response;
    }
    let file = parts
        .iter()
        .find(|part| part.name == "file")
        .map(|part| part.data.clone())
        .unwrap_or_default();
    let upload = Upload {
        title: text("title"),
        doc_type: text("doc_type"),
        note: text("note"),
        file,
    };
    let caller = Caller::from(&user);
    match patient_files::add_document(&state, &caller, patient, upload).await {
        Ok(_) => back(patient, "ok=document_added", "documents"),
        Err(Failure::Refused(FileRefusal::PatientUnknown)) => not_found(&user),
        Err(Failure::Refused(refusal)) => back(
            patient,
            &format!("error={}", refusal_code(refusal)),
            "documents",
        ),
        Err(Failure::Store(error)) => failure(&user, error),
    }
}

/// `GET /patients/{id}/documents/{document}/`: the file as an attachment.
async fn download(
    State(state): State<AppState>,
    user: WebUser,
    Path((raw, document)): Path<(String, String)>,
) -> Response {
    if let Err(response) = user.require(Area::PatientFiles, Action::Read) {
        return response;
    }
    let (Some(patient), Ok(document)) = (patient_id(&raw), document.parse::<i64>()) else {
        return not_found(&user);
    };
    let caller = Caller::from(&user);
    let download = match patient_files::open_document(&state, &caller, patient, document).await {
        Ok(download) => download,
        Err(Failure::Refused(_)) => return not_found(&user),
        Err(Failure::Store(error)) => return failure(&user, error),
    };
    let file = format!(
        "dokument-{}-{}.{}",
        patient,
        download.record.id,
        download.kind.extension()
    );
    let mut response = (StatusCode::OK, download.data).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(download.kind.media_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// Texts of the notes and documents sections.
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "patients.notes.title" => ("Notizen", "Notes"),
        "patients.notes.none" => ("Noch keine Notizen.", "No notes yet."),
        "patients.notes.content" => ("Neue Notiz", "New note"),
        "patients.notes.save" => ("Notiz speichern", "Save note"),
        "patients.notes.unknown_author" => ("Unbekannt", "Unknown"),
        "patients.notes.added" => ("Die Notiz wurde gespeichert.", "The note was saved."),
        "patients.notes.err.empty" => (
            "Die Notiz ist leer und wurde nicht gespeichert.",
            "The note is empty and was not saved.",
        ),
        "patients.notes.err.too_long" => (
            "Die Notiz ist zu lang (höchstens 20 000 Zeichen).",
            "The note is too long (at most 20,000 characters).",
        ),
        "patients.documents.title" => ("Dokumente & Berichte", "Documents & reports"),
        "patients.documents.none" => ("Noch keine Dokumente.", "No documents yet."),
        "patients.documents.upload" => ("Dokument hochladen", "Upload a document"),
        "patients.documents.field.title" => ("Titel", "Title"),
        "patients.documents.field.kind" => ("Art", "Kind"),
        "patients.documents.field.file" => ("Datei", "File"),
        "patients.documents.field.note" => ("Notiz", "Note"),
        "patients.documents.hint" => (
            "PDF, PNG, JPEG oder Text, höchstens 10 MiB.",
            "PDF, PNG, JPEG or text, at most 10 MiB.",
        ),
        "patients.documents.document" => ("Dokument", "Document"),
        "patients.documents.report" => ("Bericht", "Report"),
        "patients.documents.download" => ("Herunterladen", "Download"),
        "patients.documents.col.title" => ("Titel", "Title"),
        "patients.documents.col.kind" => ("Art", "Kind"),
        "patients.documents.col.date" => ("Hochgeladen", "Uploaded"),
        "patients.documents.col.note" => ("Notiz", "Note"),
        "patients.documents.added" => (
            "Das Dokument wurde hochgeladen.",
            "The document was uploaded.",
        ),
        "patients.documents.err.title" => (
            "Bitte einen Titel angeben; das Dokument wurde nicht gespeichert.",
            "Please give a title; the document was not saved.",
        ),
        "patients.documents.err.title_long" => (
            "Der Titel ist zu lang (höchstens 255 Zeichen).",
            "The title is too long (at most 255 characters).",
        ),
        "patients.documents.err.file" => ("Bitte eine Datei wählen.", "Please choose a file."),
        "patients.documents.err.too_large" => (
            "Die Datei ist zu groß (höchstens 10 MiB).",
            "The file is too large (at most 10 MiB).",
        ),
        "patients.documents.err.type" => (
            "Dieser Dateityp ist nicht erlaubt (nur PDF, PNG, JPEG oder Text).",
            "This file type is not allowed (only PDF, PNG, JPEG or text).",
        ),
        "patients.documents.err.malformed" => (
            "Das Formular konnte nicht gelesen werden. Bitte erneut versuchen.",
            "The form could not be read. Please try again.",
        ),
        "patients.documents.err.missing" => (
            "Dieses Dokument gibt es nicht (mehr).",
            "This document does not exist (any more).",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_flash_text_in_both_languages() {
        let refusals = [
            FileRefusal::PatientUnknown,
            FileRefusal::DocumentMissing,
            FileRefusal::Note(NoteProblem::Empty),
            FileRefusal::Note(NoteProblem::TooLong),
            FileRefusal::Upload(UploadProblem::TitleMissing),
            FileRefusal::Upload(UploadProblem::TitleTooLong),
            FileRefusal::Upload(UploadProblem::FileMissing),
            FileRefusal::Upload(UploadProblem::FileTooLarge),
            FileRefusal::Upload(UploadProblem::FileType),
        ];
        for refusal in refusals {
            let key = flash_key(false, refusal_code(refusal)).unwrap();
            assert!(texts(key).is_some(), "{key}");
        }
        for code in ["note_added", "document_added"] {
            assert!(texts(flash_key(true, code).unwrap()).is_some());
        }
        assert_eq!(flash_key(false, "<script>"), None);
        assert_eq!(flash_key(true, "note_empty"), None);
    }
}
