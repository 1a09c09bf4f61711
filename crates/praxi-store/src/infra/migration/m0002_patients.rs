//! Patient master data, documents and notes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::helpers::*;
use super::idens::{PatientDocuments, PatientNotes, Patients};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Trigram indexes for the case-insensitive substring search on names (PostgreSQL only, and
/// only where the `pg_trgm` extension is installable).
const PG_TRGM_INDEXES: [&str; 2] = [
    "CREATE INDEX patients_first_name_trgm_idx ON patients \
     USING gin (lower(first_name) gin_trgm_ops)",
    "CREATE INDEX patients_last_name_trgm_idx ON patients \
     USING gin (lower(last_name) gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patients::Table)
                    // The legacy patient number, supplied by the client (no identity). On
                    // SQLite an INTEGER PRIMARY KEY is the rowid and would be filled in when
                    // omitted; the application always supplies it.
                    .col(
                        ColumnDef::new(Patients::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(varchar_default(Patients::FirstName, 100, ""))
                    .col(varchar_default(Patients::LastName, 100, ""))
                    .col(date_null(Patients::BirthDate))
                    .col(varchar_null(Patients::Gender, 20))
                    .col(varchar_null(Patients::Phone, 50))
                    .col(varchar_null(Patients::Email, 255))
                    // Nullable for imported legacy rows; the application fills both.
                    .col(timestamptz_null(Patients::CreatedAt))
                    .col(timestamptz_null(Patients::UpdatedAt))
                    .check(check("patients_id_positive", Expr::col(Patients::Id).gt(0)))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "patients_last_name_first_name_id_idx",
                Patients::Table,
                [Patients::LastName, Patients::FirstName, Patients::Id],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientDocuments::Table)
                    .col(pk_bigint(PatientDocuments::Id))
                    .col(integer(PatientDocuments::PatientId))
                    .col(varchar(PatientDocuments::Title, 255))
                    .col(varchar_default(PatientDocuments::DocType, 20, "document"))
                    .col(varchar_null(PatientDocuments::File, 100))
                    .col(
                        ColumnDef::new(PatientDocuments::Note)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(timestamptz_now(PatientDocuments::CreatedAt))
                    .check(check(
                        "patient_documents_doc_type_check",
                        Expr::col(PatientDocuments::DocType).is_in(["document", "report"]),
                    ))
                    .foreign_key(&mut fk(
                        "patient_documents_patient_id_fkey",
                        PatientDocuments::Table,
                        PatientDocuments::PatientId,
                        Patients::Table,
                        Patients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "patient_documents_patient_id_idx",
                PatientDocuments::Table,
                [PatientDocuments::PatientId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientNotes::Table)
                    .col(pk_bigint(PatientNotes::Id))
                    .col(integer(PatientNotes::PatientId))
                    .col(varchar_default(PatientNotes::AuthorName, 255, ""))
                    .col(varchar_default(PatientNotes::AuthorRole, 255, ""))
                    .col(ColumnDef::new(PatientNotes::Content).text().not_null())
                    .col(timestamptz_now(PatientNotes::CreatedAt))
                    .foreign_key(&mut fk(
                        "patient_notes_patient_id_fkey",
                        PatientNotes::Table,
                        PatientNotes::PatientId,
                        Patients::Table,
                        Patients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "patient_notes_patient_id_idx",
                PatientNotes::Table,
                [PatientNotes::PatientId],
            ))
            .await?;

        if manager.get_database_backend() == DbBackend::Postgres {
            if pg_extension_available(manager, "pg_trgm").await? {
                let conn = manager.get_connection();
                conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                for sql in PG_TRGM_INDEXES {
                    conn.execute_unprepared(sql).await?;
                }
            } else {
                tracing::warn!("pg_trgm is not available; patient name search stays unindexed");
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The pg_trgm extension is left installed: other objects may use it.
        for table in [
            drop_table(PatientNotes::Table),
            drop_table(PatientDocuments::Table),
            drop_table(Patients::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
