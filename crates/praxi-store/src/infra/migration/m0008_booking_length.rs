//! Bookings (appointments and operations) last at most 24 hours.
//!
//! The rule lets every overlap query bound `start_time` from below
//! (`start_time > period.start − 24 h`) and so use the `(…, start_time)` indexes instead of
//! reading the whole history (docs/performance.md). The API refuses longer bookings; the
//! database refuses them too, so imports and admin edits cannot break the bound.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const TABLES: [&str; 2] = ["appointments_appointment", "appointments_operation"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {table}_at_most_24h \
                         CHECK (end_time - start_time <= interval '24 hours')"
                    ))
                    .await?;
                }
                _ => {
                    // SQLite cannot add a CHECK to an existing table: triggers do the same.
                    for event in ["INSERT", "UPDATE"] {
                        let lower = event.to_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_at_most_24h_{lower} BEFORE {event} ON {table} \
                             WHEN julianday(NEW.end_time) - julianday(NEW.start_time) > 1.0 \
                             BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {table}_at_most_24h'); END;"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_at_most_24h"
                    ))
                    .await?;
                }
                _ => {
                    for lower in ["insert", "update"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS {table}_at_most_24h_{lower}"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}
