//! praxi-store: the database layer. Migrations, SeaORM entities and repositories that speak
//! domain types. Nothing here knows HTTP; nothing outside this crate knows which database runs
//! (SQLite by default, PostgreSQL in production, one code path).
//!
//! The source shows its kinds in folders: `infra/` (pool, transactions, errors, locks,
//! notifications, migrations, entities), `repositories/` (aggregates and their writes),
//! `read_models/` (screen queries and the engine's input) and `praxiapp/` (switching from
//! PraxiApp). The modules are re-exported at the crate root, so paths such as
//! `praxi_store::appointments` stay short.

pub mod infra;
pub mod praxiapp;
pub mod read_models;
pub mod repositories;

pub use infra::{db, entity, error, locks, migration, notify, ops};
pub use read_models::{
    admin_lists, calendar, flow_board, master_data, op_board, people, resource_calendar, schedule,
    stats,
};
pub use repositories::{
    absences, appointments, audit, catalog, feeds, flow, holds, holidays, hours, login_throttle,
    operations, outbox, patient_files, patient_rights, patients, sessions, tokens, two_factor,
    users,
};

pub use db::{Store, UnitOfWork, UnitReport, WriteTx};
pub use error::{DbFailure, StoreError};
