//! sea-orm-migration migrations: one code path for SQLite and PostgreSQL.
//!
//! The schema keeps the table and column names of the original Django application (see
//! `spec/data-model.md`) so its data can be imported, but expresses in SQL what the original
//! only emulated in the ORM: ON DELETE actions, CHECK constraints, real defaults. The few
//! PostgreSQL-only objects (trigram and exclusion indexes, the audit-log trigger function) are
//! a `match` on the backend inside the migration that owns the table.

use sea_orm_migration::prelude::*;

mod helpers;
pub mod idens;
mod m0001_core;
mod m0002_patients;
mod m0003_calendar_config;
mod m0004_bookings;
mod m0005_flow_and_history;
mod m0006_auth_sessions;
mod m0007_pg_extras;
mod m0008_booking_length;
pub(crate) mod m0009_calendar_feeds;
pub(crate) mod m0010_login_throttle;
mod m0011_fast_paths;
pub(crate) mod m0012_audit_chain;
pub(crate) mod m0013_patient_rights_mfa;
pub(crate) mod m0014_scheduling_features;
pub(crate) mod m0017_reminders;

/// Runs every schema migration of Praxi, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_core::Migration),
            Box::new(m0002_patients::Migration),
            Box::new(m0003_calendar_config::Migration),
            Box::new(m0004_bookings::Migration),
            Box::new(m0005_flow_and_history::Migration),
            Box::new(m0006_auth_sessions::Migration),
            Box::new(m0007_pg_extras::Migration),
            Box::new(m0008_booking_length::Migration),
            Box::new(m0009_calendar_feeds::Migration),
            Box::new(m0010_login_throttle::Migration),
            Box::new(m0011_fast_paths::Migration),
            Box::new(m0012_audit_chain::Migration),
            Box::new(m0013_patient_rights_mfa::Migration),
            Box::new(m0014_scheduling_features::Migration),
            Box::new(m0017_reminders::Migration),
        ]
    }
}
