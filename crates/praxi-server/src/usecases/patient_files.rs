//! A patient's notes and documents (#15 item 6c; data-model §6.2/§6.3), for the patient page.
//!
//! * [`add_note`] — a note with a snapshot of its author's name and role
//!   (`patient_note_create` `{note_id}`).
//! * [`add_document`] — an upload: title, kind and file checked by
//!   [`praxi_domain::document::check_upload`] (size limit, PDF/PNG/JPEG/text decided by the
//!   content), the file written under the server's document directory with a random name
//!   (`YYYY/<32 hex>.<ext>`; the client's name or path is never used), then the row with its
//!   audit row (`patient_document_upload` `{document_id, bytes, kind}`). A failed row write
//!   removes the file again.
//! * [`open_document`] — a download: the row of this patient, its file read back, audited as
//!   `patient_document_download` `{document_id}`.
//!
//! The policy row is `PatientFiles` (clinical roles read and add; nobody edits or deletes).
//! Audit rows carry ids and sizes, never note text, titles or file content.

use std::path::{Component, Path, PathBuf};

use praxi_domain::document::{
    DocType, FileKind, NoteProblem, UploadProblem, check_note, check_upload,
};
use praxi_store::StoreError;
use praxi_store::patient_files::{DocumentRecord, NewDocument, NewNote, NoteRecord};
use serde_json::json;

use super::{Caller, Failure};
use crate::state::AppState;

/// Why a note or a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileRefusal {
    PatientUnknown,
    Note(NoteProblem),
    Upload(UploadProblem),
    /// The document (or its file) does not exist.
    DocumentMissing,
}

pub(crate) type Outcome<T> = Result<T, Failure<FileRefusal>>;

fn refused<T>(refusal: FileRefusal) -> Outcome<T> {
    Err(Failure::Refused(refusal))
}

async fn require_patient(state: &AppState, patient_id: i32) -> Outcome<()> {
    match state.store.patient(patient_id).await? {
        Some(_) => Ok(()),
        None => refused(FileRefusal::PatientUnknown),
    }
}

/// Saves a note by `author` (name and role are snapshots, as in the original).
pub(crate) async fn add_note(
    state: &AppState,
    caller: &Caller,
    author_name: &str,
    patient_id: i32,
    content: &str,
) -> Outcome<NoteRecord> {
    let content = check_note(content).map_err(|p| Failure::Refused(FileRefusal::Note(p)))?;
    require_patient(state, patient_id).await?;
    let note = NewNote {
        patient_id,
        author_name: author_name.to_owned(),
        author_role: caller.role.clone(),
        content: content.to_owned(),
    };
    let saved = state
        .store
        .add_patient_note(&note, state.now(), |id| {
            caller.audit(
                "patient_note_create",
                Some(patient_id),
                Some(json!({"note_id": id})),
            )
        })
        .await?;
    Ok(saved)
}

/// An upload as received.
pub(crate) struct Upload {
    pub(crate) title: String,
    pub(crate) doc_type: String,
    pub(crate) note: String,
    pub(crate) file: Vec<u8>,
}

/// A new random storage name under the document directory: `YYYY/<32 hex>.<ext>`.
fn storage_name(year: i32, kind: FileKind) -> String {
    let random: [u8; 16] = rand::random();
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{year:04}/{hex}.{}", kind.extension())
}

/// The full path of a stored name, or `None` for anything that is not a plain relative path
/// (a tampered row never reads outside the document directory).
pub(crate) fn stored_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    let plain = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    (plain && !name.is_empty()).then(|| dir.join(relative))
}

/// Checks, stores and records an upload.
pub(crate) async fn add_document(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
    upload: Upload,
) -> Outcome<DocumentRecord> {
    let mut upload = upload;
    let kind = check_upload(&upload.title, &upload.file)
        .map_err(|p| Failure::Refused(FileRefusal::Upload(p)))?;
    require_patient(state, patient_id).await?;
    let now = state.now();
    let name = storage_name(chrono::Datelike::year(&now), kind);
    let dir = &state.config.document_dir;
    let Some(path) = stored_path(dir, &name) else {
        return Err(Failure::Store(StoreError::Db(
            "bad storage name".to_owned(),
        )));
    };
    let data = std::mem::take(&mut upload.file);
    let bytes = data.len();
    let target = path.clone();
    blocking(move || write_new(&target, &data))
        .await
        .map_err(|error| io_failure("writing a document", &error))?;
    let document = NewDocument {
        patient_id,
        title: upload.title.trim().to_owned(),
        doc_type: DocType::parse_lenient(&upload.doc_type).as_str().to_owned(),
        file: name,
        note: upload.note.trim().to_owned(),
    };
    let result = state
        .store
        .add_patient_document(&document, now, |id| {
            caller.audit(
                "patient_document_upload",
                Some(patient_id),
                Some(json!({"document_id": id, "bytes": bytes, "kind": kind.extension()})),
            )
        })
        .await;
    match result {
        Ok(saved) => Ok(saved),
        Err(error) => {
            let _ = blocking(move || std::fs::remove_file(&path)).await;
            Err(error.into())
        }
    }
}

/// Runs file IO off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}

/// Writes a new file (never replaces one; the directory is created) readable only by the
/// server's user.
fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

fn io_failure(what: &str, error: &std::io::Error) -> Failure<FileRefusal> {
    tracing::error!(%error, "{what} failed");
    Failure::Store(StoreError::Db(format!("{what} failed")))
}

/// A document to send.
pub(crate) struct Download {
    pub(crate) record: DocumentRecord,
    pub(crate) kind: FileKind,
    pub(crate) data: Vec<u8>,
}

/// Reads one document of one patient and audits the download.
pub(crate) async fn open_document(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
    document_id: i64,
) -> Outcome<Download> {
    let Some(record) = state
        .store
        .patient_document(patient_id, document_id)
        .await?
    else {
        return refused(FileRefusal::DocumentMissing);
    };
    let name = record.file.clone().unwrap_or_default();
    let kind = Path::new(&name)
        .extension()
        .and_then(|ext| ext.to_str())
        .and_then(FileKind::from_extension);
    let (Some(kind), Some(path)) = (kind, stored_path(&state.config.document_dir, &name)) else {
        return refused(FileRefusal::DocumentMissing);
    };
    let data = match blocking(move || std::fs::read(&path)).await {
        Ok(data) => data,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return refused(FileRefusal::DocumentMissing);
        }
        Err(error) => return Err(io_failure("reading a document", &error)),
    };
    state
        .store
        .record_audit(&caller.audit(
            "patient_document_download",
            Some(patient_id),
            Some(json!({"document_id": record.id})),
        ))
        .await?;
    Ok(Download { record, kind, data })
}

/// The notes and documents shown on the patient page.
pub(crate) async fn list(
    state: &AppState,
    patient_id: i32,
) -> Result<(Vec<NoteRecord>, Vec<DocumentRecord>), StoreError> {
    let notes = state.store.patient_notes(patient_id).await?;
    let documents = state.store.patient_documents(patient_id).await?;
    Ok((notes, documents))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_random_and_stay_inside_the_directory() {
        let a = storage_name(2030, FileKind::Pdf);
        let b = storage_name(2030, FileKind::Pdf);
        assert_ne!(a, b);
        assert!(
            a.starts_with("2030/") && a.ends_with(".pdf") && a.len() <= 100,
            "{a}"
        );
        let dir = Path::new("/data/documents");
        assert_eq!(
            stored_path(dir, &a),
            Some(dir.join(&a)),
            "a generated name is a plain relative path"
        );
        for bad in ["../secret", "/etc/passwd", "2030/../../x", "", "./a"] {
            assert_eq!(stored_path(dir, bad), None, "{bad}");
        }
    }
}
