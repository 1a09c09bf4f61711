//! A patient's notes (`patient_notes`) and uploaded documents (`patient_documents`),
//! data-model §6.2/§6.3: notes carry a snapshot of their author's name and role, documents a
//! title, a kind (`document`/`report`), a note and the storage name of their file under the
//! server's document directory (never a client path). Both are written only together with
//! their audit row; neither is edited.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::entity::{patient_document, patient_note};
use crate::error::StoreError;
use crate::repositories::{fetch_models, inserted, select_rows};

/// A note on a patient.
pub type NoteRecord = patient_note::Model;
/// An uploaded document of a patient.
pub type DocumentRecord = patient_document::Model;

/// A note to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub patient_id: i32,
    pub author_name: String,
    pub author_role: String,
    pub content: String,
}

/// A document to save (its file is already stored under `file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub patient_id: i32,
    pub title: String,
    /// `document` or `report`.
    pub doc_type: String,
    /// The storage name relative to the document directory.
    pub file: String,
    pub note: String,
}

impl Store {
    /// The patient's notes, newest first.
    pub async fn patient_notes(&self, patient_id: i32) -> Result<Vec<NoteRecord>, StoreError> {
        let select = select_rows::<patient_note::Entity>()
            .and_where(Expr::col(patient_note::Column::PatientId).eq(patient_id))
            .order_by(patient_note::Column::CreatedAt, Order::Desc)
            .order_by(patient_note::Column::Id, Order::Desc)
            .to_owned();
        fetch_models::<patient_note::Entity, _>(self.conn(), &select).await
    }

    /// The patient's documents, newest first.
    pub async fn patient_documents(
        &self,
        patient_id: i32,
    ) -> Result<Vec<DocumentRecord>, StoreError> {
        let select = select_rows::<patient_document::Entity>()
            .and_where(Expr::col(patient_document::Column::PatientId).eq(patient_id))
            .order_by(patient_document::Column::CreatedAt, Order::Desc)
            .order_by(patient_document::Column::Id, Order::Desc)
            .to_owned();
        fetch_models::<patient_document::Entity, _>(self.conn(), &select).await
    }

    /// One document of one patient (`None` when the id does not belong to the patient).
    pub async fn patient_document(
        &self,
        patient_id: i32,
        id: i64,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        let select = select_rows::<patient_document::Entity>()
            .and_where(Expr::col(patient_document::Column::PatientId).eq(patient_id))
            .and_where(Expr::col(patient_document::Column::Id).eq(id))
            .to_owned();
        Ok(
            fetch_models::<patient_document::Entity, _>(self.conn(), &select)
                .await?
                .into_iter()
                .next(),
        )
    }

    /// Saves a note with its audit row (`audit` gets the new id).
    pub async fn add_patient_note(
        &self,
        note: &NewNote,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<NoteRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(patient_note::Entity)
            .columns([
                patient_note::Column::PatientId,
                patient_note::Column::AuthorName,
                patient_note::Column::AuthorRole,
                patient_note::Column::Content,
                patient_note::Column::CreatedAt,
            ])
            .values_panic([
                note.patient_id.into(),
                note.author_name.clone().into(),
                note.author_role.clone().into(),
                note.content.clone().into(),
                now.into(),
            ])
            .to_owned();
        let saved = inserted::<patient_note::Entity, _>(&*tx, insert).await?;
        write_audit(&*tx, &audit(saved.id)).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Saves a document row with its audit row (`audit` gets the new id).
    pub async fn add_patient_document(
        &self,
        document: &NewDocument,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<DocumentRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(patient_document::Entity)
            .columns([
                patient_document::Column::PatientId,
                patient_document::Column::Title,
                patient_document::Column::DocType,
                patient_document::Column::File,
                patient_document::Column::Note,
                patient_document::Column::CreatedAt,
            ])
            .values_panic([
                document.patient_id.into(),
                document.title.clone().into(),
                document.doc_type.clone().into(),
                document.file.clone().into(),
                document.note.clone().into(),
                now.into(),
            ])
            .to_owned();
        let saved = inserted::<patient_document::Entity, _>(&*tx, insert).await?;
        write_audit(&*tx, &audit(saved.id)).await?;
        tx.commit().await?;
        Ok(saved)
    }
}
