//! Issue #16, part A: the audit log answers "who saw whom" and is tamper-evident
//! (docs/data-protection.md).
//!
//! - `core_auditlog_subject`: the patients each audit row showed or touched, one row per
//!   (audit row, patient), indexed by patient so "who accessed patient X" is an index range.
//!   Append-only like the log itself.
//! - `core_auditlog.prev_hash` / `hash`: each row's SHA-256 over its canonical encoding and
//!   its predecessor's hash (`repositories::audit::chain_hash`).
//! - `core_auditlog_chain`: the single chain-head row (last chained id and hash). Writers lock
//!   it (PostgreSQL `FOR UPDATE`; SQLite has one writer) so concurrent processes never fork
//!   the chain. Rows up to `legacy_until` predate the chain and carry no hash.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::helpers::*;
use super::idens::{CoreAuditlog, CoreAuditlogChain, CoreAuditlogSubject};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The `prev_hash` of the first chained row.
pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// SQLite: the subjects are append-only too.
const SQLITE_SUBJECT_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER core_auditlog_subject_no_update BEFORE UPDATE ON core_auditlog_subject \
     BEGIN SELECT RAISE(ABORT, 'core_auditlog_subject is append-only'); END;",
    "CREATE TRIGGER core_auditlog_subject_no_delete BEFORE DELETE ON core_auditlog_subject \
     BEGIN SELECT RAISE(ABORT, 'core_auditlog_subject is append-only'); END;",
];

/// PostgreSQL: the function of m0001 (it raises `restrict_violation`).
const PG_SUBJECT_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER core_auditlog_subject_no_update_delete BEFORE UPDATE OR DELETE \
     ON core_auditlog_subject FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only()",
    "CREATE TRIGGER core_auditlog_subject_no_truncate BEFORE TRUNCATE ON core_auditlog_subject \
     FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [CoreAuditlog::PrevHash, CoreAuditlog::Hash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CoreAuditlog::Table)
                        .add_column(varchar_null(column, 64))
                        .take(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CoreAuditlogSubject::Table)
                    .col(bigint(CoreAuditlogSubject::AuditId))
                    .col(integer(CoreAuditlogSubject::PatientId))
                    .primary_key(
                        Index::create()
                            .col(CoreAuditlogSubject::AuditId)
                            .col(CoreAuditlogSubject::PatientId),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "core_auditlog_subject_patient_id_audit_id_idx",
                CoreAuditlogSubject::Table,
                [CoreAuditlogSubject::PatientId, CoreAuditlogSubject::AuditId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CoreAuditlogChain::Table)
                    .col(
                        ColumnDef::new(CoreAuditlogChain::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(bigint(CoreAuditlogChain::LegacyUntil))
                    .col(bigint(CoreAuditlogChain::LastId))
                    .col(varchar(CoreAuditlogChain::Hash, 64))
                    .take(),
            )
            .await?;
        let conn = manager.get_connection();
        // Every row written so far predates the chain: the chain starts after them.
        conn.execute_unprepared(&format!(
            "INSERT INTO core_auditlog_chain (id, legacy_until, last_id, hash) \
             SELECT 1, COALESCE(MAX(id), 0), COALESCE(MAX(id), 0), '{GENESIS_HASH}' \
             FROM core_auditlog"
        ))
        .await?;

        let triggers: &[&str] = match manager.get_database_backend() {
            DbBackend::Sqlite => &SQLITE_SUBJECT_TRIGGERS,
            DbBackend::Postgres => &PG_SUBJECT_TRIGGERS,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        };
        for sql in triggers {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(drop_table(CoreAuditlogChain::Table))
            .await?;
        manager
            .drop_table(drop_table(CoreAuditlogSubject::Table))
            .await?;
        for column in [CoreAuditlog::Hash, CoreAuditlog::PrevHash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CoreAuditlog::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
