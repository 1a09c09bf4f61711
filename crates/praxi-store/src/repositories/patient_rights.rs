//! Patient rights (DSGVO Art. 15 and 17; docs/data-protection.md, "Patient rights"): the
//! record set of one patient for the export, the access log about them, and the erasure.
//!
//! Erasure pseudonymises instead of deleting: the patient row stays (bookings, flows and audit
//! rows keep pointing at it) but holds no personal data any more: the last name becomes "Gelöscht" with
//! an empty first name, birth date, gender, phone and e-mail are cleared; notes and documents
//! are deleted; the free-text notes of appointments, operations and flows are cleared, while
//! their time slots, statuses, doctors, rooms and status histories stay, so the schedule and
//! the statistics stay right. The SQLite search index follows through its triggers. One
//! `praxi_patient_erasure` row records when, by whom, why, and whether the retention period
//! was overridden; the audit row says only that it happened.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::audit::{AuditEntry, AuditRecord, write_audit};
use crate::db::Store;
use crate::entity::{
    appointment, operation, operation_status_event, patient_document, patient_flow,
    patient_flow_event, patient_note,
};
use crate::error::StoreError;
use crate::locks::{self, LockKey};
use crate::migration::idens::{
    Appointment, CoreAuditlog, Operation, PatientDocuments, PatientFlow, PatientNotes, Patients,
};
use crate::migration::m0013_patient_rights_mfa::PatientErasure;
use crate::patients::PatientRecord;
use crate::repositories::{fetch_models, select_rows};

/// The name an erased patient's row carries.
pub const ERASED_NAME: &str = "Gelöscht";

/// The erasure record of a patient.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ErasureRecord {
    pub patient_id: i32,
    pub erased_at: DateTime<Utc>,
    pub erased_by_id: Option<i64>,
    pub erased_by_username: String,
    /// Visible to admins only; never written to the audit log.
    pub reason: Option<String>,
    pub retention_until: Option<NaiveDate>,
    pub retention_overridden: bool,
}

/// Everything stored about one patient (the export's content, the access log aside).
#[derive(Debug, Clone)]
pub struct PatientRecordSet {
    pub patient: PatientRecord,
    pub erasure: Option<ErasureRecord>,
    pub appointments: Vec<appointment::Model>,
    pub operations: Vec<operation::Model>,
    pub flows: Vec<patient_flow::Model>,
    pub flow_events: Vec<patient_flow_event::Model>,
    pub operation_events: Vec<operation_status_event::Model>,
    pub notes: Vec<patient_note::Model>,
    pub documents: Vec<patient_document::Model>,
}

impl PatientRecordSet {
    /// The newest medical record's time: appointments and operations by their start (a
    /// future booking counts from its date), flows, notes and documents by creation.
    pub fn last_record_at(&self) -> Option<DateTime<Utc>> {
        let appointments = self.appointments.iter().map(|row| row.start_time);
        let operations = self.operations.iter().map(|row| row.start_time);
        let flows = self.flows.iter().map(|row| row.created_at);
        let notes = self.notes.iter().map(|row| row.created_at);
        let documents = self.documents.iter().map(|row| row.created_at);
        appointments
            .chain(operations)
            .chain(flows)
            .chain(notes)
            .chain(documents)
            .max()
    }
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureOutcome {
    pub record: ErasureRecord,
    pub notes_deleted: u64,
    pub documents_deleted: u64,
    /// Storage names of the deleted documents' files: Praxi deletes its own uploads from the
    /// document directory; files of imported PraxiApp documents are deleted by the operator.
    pub document_files: Vec<String>,
}

/// The erasure to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub patient_id: i32,
    pub reason: String,
    pub retention_until: Option<NaiveDate>,
    pub retention_overridden: bool,
    pub now: DateTime<Utc>,
}

async fn erasure_record<C: ConnectionTrait>(
    conn: &C,
    patient_id: i32,
) -> Result<Option<ErasureRecord>, StoreError> {
    let select = Query::select()
        .columns([
            PatientErasure::PatientId,
            PatientErasure::ErasedAt,
            PatientErasure::ErasedById,
            PatientErasure::ErasedByUsername,
            PatientErasure::Reason,
            PatientErasure::RetentionUntil,
            PatientErasure::RetentionOverridden,
        ])
        .from(PatientErasure::Table)
        .and_where(Expr::col(PatientErasure::PatientId).eq(patient_id))
        .to_owned();
    match conn.query_one(&select).await? {
        Some(row) => Ok(Some(ErasureRecord::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}

async fn record_set<C: ConnectionTrait>(
    conn: &C,
    patient: PatientRecord,
) -> Result<PatientRecordSet, StoreError> {
    let id = patient.id;
    let appointments = fetch_models::<appointment::Entity, _>(
        conn,
        select_rows::<appointment::Entity>()
            .and_where(Expr::col(Appointment::PatientId).eq(id))
            .order_by(Appointment::StartTime, Order::Asc),
    )
    .await?;
    let operations = fetch_models::<operation::Entity, _>(
        conn,
        select_rows::<operation::Entity>()
            .and_where(Expr::col(Operation::PatientId).eq(id))
            .order_by(Operation::StartTime, Order::Asc),
    )
    .await?;
    let of_patient_appointments = Query::select()
        .column(Appointment::Id)
        .from(Appointment::Table)
        .and_where(Expr::col(Appointment::PatientId).eq(id))
        .to_owned();
    let of_patient_operations = Query::select()
        .column(Operation::Id)
        .from(Operation::Table)
        .and_where(Expr::col(Operation::PatientId).eq(id))
        .to_owned();
    let flows = fetch_models::<patient_flow::Entity, _>(
        conn,
        select_rows::<patient_flow::Entity>()
            .cond_where(
                Expr::col(PatientFlow::AppointmentId)
                    .in_subquery(of_patient_appointments.clone())
                    .or(Expr::col(PatientFlow::OperationId)
                        .in_subquery(of_patient_operations.clone())),
            )
            .order_by(PatientFlow::Id, Order::Asc),
    )
    .await?;
    let flow_ids: Vec<i64> = flows.iter().map(|flow| flow.id).collect();
    let flow_events = if flow_ids.is_empty() {
        Vec::new()
    } else {
        fetch_models::<patient_flow_event::Entity, _>(
            conn,
            select_rows::<patient_flow_event::Entity>()
                .and_where(Expr::col(patient_flow_event::Column::FlowId).is_in(flow_ids))
                .order_by(patient_flow_event::Column::Id, Order::Asc),
        )
        .await?
    };
    let operation_events = fetch_models::<operation_status_event::Entity, _>(
        conn,
        select_rows::<operation_status_event::Entity>()
            .and_where(
                Expr::col(operation_status_event::Column::OperationId)
                    .in_subquery(of_patient_operations),
            )
            .order_by(operation_status_event::Column::Id, Order::Asc),
    )
    .await?;
    let notes = fetch_models::<patient_note::Entity, _>(
        conn,
        select_rows::<patient_note::Entity>()
            .and_where(Expr::col(PatientNotes::PatientId).eq(id))
            .order_by(PatientNotes::Id, Order::Asc),
    )
    .await?;
    let documents = fetch_models::<patient_document::Entity, _>(
        conn,
        select_rows::<patient_document::Entity>()
            .and_where(Expr::col(PatientDocuments::PatientId).eq(id))
            .order_by(PatientDocuments::Id, Order::Asc),
    )
    .await?;
    let erasure = erasure_record(conn, id).await?;
    Ok(PatientRecordSet {
        patient,
        erasure,
        appointments,
        operations,
        flows,
        flow_events,
        operation_events,
        notes,
        documents,
    })
}

impl Store {
    /// Everything stored about the patient (`None`: no such patient).
    pub async fn patient_record_set(
        &self,
        patient_id: i32,
    ) -> Result<Option<PatientRecordSet>, StoreError> {
        let Some(patient) = self.patient(patient_id).await? else {
            return Ok(None);
        };
        record_set(self.conn(), patient).await.map(Some)
    }

    /// The access log about a patient: every audit row that names the patient (as its
    /// `patient_id` or among the subjects of a list, calendar or board read), oldest first.
    pub async fn patient_access_log(
        &self,
        patient_id: i32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let select = Query::select()
            .columns([
                CoreAuditlog::Id,
                CoreAuditlog::UserId,
                CoreAuditlog::Username,
                CoreAuditlog::RoleName,
                CoreAuditlog::Action,
                CoreAuditlog::PatientId,
                CoreAuditlog::Timestamp,
                CoreAuditlog::Meta,
                CoreAuditlog::RequestId,
            ])
            .from(CoreAuditlog::Table)
            .cond_where(crate::repositories::audit::subject_condition(patient_id))
            .order_by(CoreAuditlog::Id, Order::Asc)
            .to_owned();
        self.conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| AuditRecord::from_query_result(row, "").map_err(StoreError::from))
            .collect()
    }

    /// The erasure record of a patient, if erased.
    pub async fn patient_erasure(
        &self,
        patient_id: i32,
    ) -> Result<Option<ErasureRecord>, StoreError> {
        erasure_record(self.conn(), patient_id).await
    }

    /// Erases a patient's personal data (see the module docs) with its audit row, under the
    /// patient's lock. `NotFound` for an unknown patient; `None` when already erased.
    pub async fn erase_patient(
        &self,
        erasure: &Erasure,
        audit: &AuditEntry,
    ) -> Result<Option<ErasureOutcome>, StoreError> {
        let id = erasure.patient_id;
        let tx = self.write().await?;
        locks::lock(&*tx, &[LockKey::Patient(id)]).await?;
        let exists = Query::select()
            .column(Patients::Id)
            .from(Patients::Table)
            .and_where(Expr::col(Patients::Id).eq(id))
            .lock(sea_orm::sea_query::LockType::Update)
            .to_owned();
        if tx.query_one(&exists).await?.is_none() {
            return Err(StoreError::NotFound("Patient"));
        }
        if erasure_record(&*tx, id).await?.is_some() {
            return Ok(None);
        }
        let pseudonymise = Query::update()
            .table(Patients::Table)
            .value(Patients::FirstName, "")
            .value(Patients::LastName, ERASED_NAME)
            .value(Patients::BirthDate, Option::<NaiveDate>::None)
            .value(Patients::Gender, Option::<String>::None)
            .value(Patients::Phone, Option::<String>::None)
            .value(Patients::Email, Option::<String>::None)
            .value(Patients::UpdatedAt, erasure.now)
            .and_where(Expr::col(Patients::Id).eq(id))
            .to_owned();
        tx.execute(&pseudonymise).await?;

        let document_files: Vec<String> = fetch_models::<patient_document::Entity, _>(
            &*tx,
            select_rows::<patient_document::Entity>()
                .and_where(Expr::col(PatientDocuments::PatientId).eq(id)),
        )
        .await?
        .into_iter()
        .filter_map(|document| document.file.filter(|file| !file.is_empty()))
        .collect();
        let documents_deleted = tx
            .execute(
                &Query::delete()
                    .from_table(PatientDocuments::Table)
                    .and_where(Expr::col(PatientDocuments::PatientId).eq(id))
                    .to_owned(),
            )
            .await?
            .rows_affected();
        let notes_deleted = tx
            .execute(
                &Query::delete()
                    .from_table(PatientNotes::Table)
                    .and_where(Expr::col(PatientNotes::PatientId).eq(id))
                    .to_owned(),
            )
            .await?
            .rows_affected();

        // Free texts of the bookings and flows go; slots, statuses, people and rooms stay.
        // `updated_at` stays too: the booking itself did not change.
        tx.execute(
            &Query::update()
                .table(Appointment::Table)
                .value(Appointment::Notes, Option::<String>::None)
                .and_where(Expr::col(Appointment::PatientId).eq(id))
                .to_owned(),
        )
        .await?;
        tx.execute(
            &Query::update()
                .table(Operation::Table)
                .value(Operation::Notes, Option::<String>::None)
                .and_where(Expr::col(Operation::PatientId).eq(id))
                .to_owned(),
        )
        .await?;
        let of_patient_appointments = Query::select()
            .column(Appointment::Id)
            .from(Appointment::Table)
            .and_where(Expr::col(Appointment::PatientId).eq(id))
            .to_owned();
        let of_patient_operations = Query::select()
            .column(Operation::Id)
            .from(Operation::Table)
            .and_where(Expr::col(Operation::PatientId).eq(id))
            .to_owned();
        tx.execute(
            &Query::update()
                .table(PatientFlow::Table)
                .value(PatientFlow::Notes, Option::<String>::None)
                .cond_where(
                    Expr::col(PatientFlow::AppointmentId)
                        .in_subquery(of_patient_appointments)
                        .or(Expr::col(PatientFlow::OperationId).in_subquery(of_patient_operations)),
                )
                .to_owned(),
        )
        .await?;

        let record = ErasureRecord {
            patient_id: id,
            erased_at: erasure.now,
            erased_by_id: audit.user_id,
            erased_by_username: audit.username.clone(),
            reason: Some(erasure.reason.clone()),
            retention_until: erasure.retention_until,
            retention_overridden: erasure.retention_overridden,
        };
        tx.execute(
            &Query::insert()
                .into_table(PatientErasure::Table)
                .columns([
                    PatientErasure::PatientId,
                    PatientErasure::ErasedAt,
                    PatientErasure::ErasedById,
                    PatientErasure::ErasedByUsername,
                    PatientErasure::Reason,
                    PatientErasure::RetentionUntil,
                    PatientErasure::RetentionOverridden,
                ])
                .values_panic([
                    id.into(),
                    record.erased_at.into(),
                    record.erased_by_id.into(),
                    record.erased_by_username.clone().into(),
                    record.reason.clone().into(),
                    record.retention_until.into(),
                    record.retention_overridden.into(),
                ])
                .to_owned(),
        )
        .await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(Some(ErasureOutcome {
            record,
            notes_deleted,
            documents_deleted,
            document_files,
        }))
    }
}
