//! Patient rights (DSGVO Art. 15 and 17): the export of everything stored about a patient and
//! the erasure of their personal data, shared by `/api/patients/{id}/export/` and `/erase/`
//! and the web pages. Rules: `praxi_domain::retention` (§ 630f BGB); store:
//! `praxi_store::patient_rights`. Docs: docs/data-protection.md, "Patient rights".

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::retention;
use praxi_store::audit::AuditRecord;
use praxi_store::patient_rights::{Erasure, ErasureOutcome, PatientRecordSet};
use serde_json::json;

use crate::state::AppState;
use crate::usecases::{Caller, Failure};

/// Why a patient-rights action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RightsRefusal {
    NotFound,
    /// An erasure without a reason.
    ReasonMissing,
    /// The legal retention period runs until this day; confirm to erase anyway.
    Retained {
        until: NaiveDate,
    },
    AlreadyErased,
}

impl RightsRefusal {
    /// The i18n key of the web message.
    pub(crate) fn message_key(&self) -> &'static str {
        match self {
            RightsRefusal::NotFound => "error.not_found",
            RightsRefusal::ReasonMissing => "erase.reason_missing",
            RightsRefusal::Retained { .. } => "erase.retained",
            RightsRefusal::AlreadyErased => "erase.already",
        }
    }
}

/// What the export holds: the record set and the access log.
#[derive(Debug, Clone)]
pub(crate) struct PatientExport {
    pub(crate) records: PatientRecordSet,
    pub(crate) access_log: Vec<AuditRecord>,
    pub(crate) generated_at: DateTime<Utc>,
    /// The end of the legal retention period, when it still runs.
    pub(crate) retention_until: Option<NaiveDate>,
}

/// The local day of the patient's newest medical record.
fn last_record_day(state: &AppState, records: &PatientRecordSet) -> Option<NaiveDate> {
    records
        .last_record_at()
        .map(|at| at.with_timezone(&state.tz()).date_naive())
}

/// Reads everything about the patient; audited as `patient_export` (after the read, so the
/// export's own row is the next one in the log).
pub(crate) async fn export(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
) -> Result<PatientExport, Failure<RightsRefusal>> {
    let records = state
        .store
        .patient_record_set(patient_id)
        .await?
        .ok_or(Failure::Refused(RightsRefusal::NotFound))?;
    let access_log = state.store.patient_access_log(patient_id).await?;
    state
        .store
        .record_audit(&caller.audit("patient_export", Some(patient_id), None))
        .await?;
    let retention_until =
        retention::retention_applies(last_record_day(state, &records), state.today());
    Ok(PatientExport {
        records,
        access_log,
        generated_at: state.now(),
        retention_until,
    })
}

/// An erasure request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EraseRequest {
    pub(crate) reason: String,
    /// The admin confirms erasing while the retention period runs.
    pub(crate) confirm_retention: bool,
}

/// Erases the patient's personal data; refused while the retention period runs unless
/// confirmed. The audit row (`patient_erase`) holds flags only; the reason goes to the
/// erasure record.
pub(crate) async fn erase(
    state: &AppState,
    caller: &Caller,
    patient_id: i32,
    request: &EraseRequest,
) -> Result<ErasureOutcome, Failure<RightsRefusal>> {
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(Failure::Refused(RightsRefusal::ReasonMissing));
    }
    let records = state
        .store
        .patient_record_set(patient_id)
        .await?
        .ok_or(Failure::Refused(RightsRefusal::NotFound))?;
    if records.erasure.is_some() {
        return Err(Failure::Refused(RightsRefusal::AlreadyErased));
    }
    let retained = retention::retention_applies(last_record_day(state, &records), state.today());
    if let Some(until) = retained
        && !request.confirm_retention
    {
        return Err(Failure::Refused(RightsRefusal::Retained { until }));
    }
    let erasure = Erasure {
        patient_id,
        reason: reason.to_owned(),
        retention_until: retained,
        retention_overridden: retained.is_some(),
        now: state.now(),
    };
    let audit = caller.audit(
        "patient_erase",
        Some(patient_id),
        Some(json!({
            "reason_given": true,
            "retention_overridden": retained.is_some(),
        })),
    );
    match state.store.erase_patient(&erasure, &audit).await {
        Ok(Some(outcome)) => {
            remove_document_files(state, &outcome.document_files).await;
            Ok(outcome)
        }
        Ok(None) => Err(Failure::Refused(RightsRefusal::AlreadyErased)),
        Err(praxi_store::StoreError::NotFound(_)) => Err(Failure::Refused(RightsRefusal::NotFound)),
        Err(error) => Err(error.into()),
    }
}

/// Deletes the files of erased documents that Praxi stored (uploads in the document
/// directory). Files of imported PraxiApp documents live where PraxiApp kept them and are not
/// found here; the erasure's answer lists every path for the operator.
async fn remove_document_files(state: &AppState, names: &[String]) {
    for name in names {
        let Some(path) = super::patient_files::stored_path(&state.config.document_dir, name) else {
            continue;
        };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%error, "an erased document's file could not be deleted"),
        }
    }
}
