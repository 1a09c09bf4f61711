//! PostgreSQL-only safety nets: exclusion constraints against double bookings (§15 item 16).
//!
//! The application checks for conflicts first (inside the booking transaction, excluding
//! cancelled rows); these constraints catch what a race between two transactions lets
//! through. They need the `btree_gist` extension (for `=` on integer columns inside a GiST
//! index); where it is not available the constraints are skipped with a warning. On SQLite
//! this migration does nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::helpers::pg_extension_available;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// Constraint name, table, and the column that must not be double-booked.
const EXCLUSIONS: [(&str, &str, &str); 3] = [
    (
        "appointments_no_doctor_overlap",
        "appointments_appointment",
        "doctor_id",
    ),
    (
        "appointments_no_patient_overlap",
        "appointments_appointment",
        "patient_id",
    ),
    (
        "operations_no_room_overlap",
        "appointments_operation",
        "op_room_id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        if !pg_extension_available(manager, "btree_gist").await? {
            tracing::warn!(
                "btree_gist is not available; double bookings are only prevented by the application"
            );
            return Ok(());
        }
        let conn = manager.get_connection();
        conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist")
            .await?;
        for (name, table, column) in EXCLUSIONS {
            conn.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist \
                 ({column} WITH =, tstzrange(start_time, end_time, '[)') WITH &&) \
                 WHERE (status <> 'cancelled')"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The btree_gist extension is left installed: other objects may use it.
        let conn = manager.get_connection();
        for (name, table, _) in EXCLUSIONS {
            conn.execute_unprepared(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
            ))
            .await?;
        }
        Ok(())
    }
}
