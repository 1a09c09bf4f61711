//! Issue #12, fast paths.
//!
//! - On PostgreSQL, every change of a user or of the access-token deny-list notifies
//!   `praxi_auth`, so each process drops its cached authentication (`infra::auth_cache`),
//!   whichever process or tool wrote the change.
//! - Patient search (`Store::search_patients`: `lower(column) LIKE '%q%'` over first name,
//!   last name, phone and e-mail) gets an index it can use: on PostgreSQL a trigram GIN index
//!   on each `lower(column)` expression (pg_trgm, when the server has it; m0002 made those of
//!   the names, this adds phone and e-mail); on SQLite an FTS5 trigram table over the four
//!   columns, kept by triggers, used as a prefilter.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The channel the triggers notify (`infra::notify::AUTH_CHANNEL`).
const AUTH_TRIGGERS: &str = r"
CREATE OR REPLACE FUNCTION praxi_auth_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('praxi_auth', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_user_auth_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON core_user
    FOR EACH STATEMENT EXECUTE FUNCTION praxi_auth_changed();
CREATE TRIGGER praxi_revoked_access_token_auth_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON praxi_revoked_access_token
    FOR EACH STATEMENT EXECUTE FUNCTION praxi_auth_changed();
";

/// `(index, column)` of the trigram indexes this migration adds (PostgreSQL). m0002 has those
/// of first and last name; without these two, the `OR` of the four terms could not be answered
/// from indexes at all, and PostgreSQL scanned the table.
const TRIGRAM_INDEXES: [(&str, &str); 2] = [
    ("patients_phone_trgm_idx", "phone"),
    ("patients_email_trgm_idx", "email"),
];

/// The FTS5 table of patient search (SQLite), its initial fill and its triggers.
const PATIENT_FTS: &str = r"
CREATE VIRTUAL TABLE patients_fts USING fts5(
    first_name, last_name, phone, email,
    content='patients', content_rowid='id', tokenize='trigram'
);
INSERT INTO patients_fts(patients_fts) VALUES ('rebuild');
CREATE TRIGGER patients_fts_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patients_fts(rowid, first_name, last_name, phone, email)
    VALUES (new.id, new.first_name, new.last_name, new.phone, new.email);
END;
CREATE TRIGGER patients_fts_delete AFTER DELETE ON patients BEGIN
    INSERT INTO patients_fts(patients_fts, rowid, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.phone, old.email);
END;
CREATE TRIGGER patients_fts_update AFTER UPDATE ON patients BEGIN
    INSERT INTO patients_fts(patients_fts, rowid, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.phone, old.email);
    INSERT INTO patients_fts(rowid, first_name, last_name, phone, email)
    VALUES (new.id, new.first_name, new.last_name, new.phone, new.email);
END;
";

const DROP_PATIENT_FTS: &str = r"
DROP TRIGGER IF EXISTS patients_fts_update;
DROP TRIGGER IF EXISTS patients_fts_delete;
DROP TRIGGER IF EXISTS patients_fts_insert;
DROP TABLE IF EXISTS patients_fts;
";

const DROP_AUTH_TRIGGERS: &str = r"
DROP TRIGGER IF EXISTS praxi_revoked_access_token_auth_changed ON praxi_revoked_access_token;
DROP TRIGGER IF EXISTS core_user_auth_changed ON core_user;
DROP FUNCTION IF EXISTS praxi_auth_changed();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            db.execute_unprepared(PATIENT_FTS).await?;
            return Ok(());
        }
        db.execute_unprepared(AUTH_TRIGGERS).await?;
        if !super::helpers::pg_extension_available(manager, "pg_trgm").await? {
            tracing::warn!("pg_trgm is not available; patient search scans the table");
            return Ok(());
        }
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            .await?;
        for (index, column) in TRIGRAM_INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {index} ON patients USING gin (lower({column}) gin_trgm_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            db.execute_unprepared(DROP_PATIENT_FTS).await?;
            return Ok(());
        }
        // pg_trgm stays installed: other objects may use it.
        for (index, _) in TRIGRAM_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}"))
                .await?;
        }
        db.execute_unprepared(DROP_AUTH_TRIGGERS).await?;
        Ok(())
    }
}
