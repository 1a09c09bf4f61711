//! SeaORM entities, one module per table (classic `DeriveEntityModel` style).
//!
//! Each module exports `Entity`, `Model`, `ActiveModel`, `Column` and `Relation`. Column types
//! mirror the migrations in [`crate::migration`]: `i64` for bigint ids, `i32` for
//! appointment and patient ids, `DateTimeUtc` for `timestamptz`, `Date`/`Time` for the
//! practice's local calendar values.

pub mod appointment;
pub mod appointment_resource;
pub mod appointment_type;
pub mod audit_log;
pub mod auth_group;
pub mod auth_permission;
pub mod blacklisted_token;
pub mod doctor_absence;
pub mod doctor_break;
pub mod doctor_hours;
pub mod operation;
pub mod operation_device;
pub mod operation_status_event;
pub mod operation_type;
pub mod outstanding_token;
pub mod patient;
pub mod patient_document;
pub mod patient_flow;
pub mod patient_flow_event;
pub mod patient_note;
pub mod practice_hours;
pub mod prelude;
pub mod resource;
pub mod role;
pub mod session;
pub mod user;
pub mod user_groups;
pub mod user_user_permissions;
