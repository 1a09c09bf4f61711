//! praxi-domain: the pure core of Praxi. Types, validation, the RBAC policy and the scheduling
//! engine.
//!
//! Invariant: no I/O, no async, no database, no clock. Callers pass "now" in, so every rule
//! here is a plain function of its inputs and is tested as such.

pub mod absence;
pub mod appointment;
pub mod catalog;
pub mod document;
pub mod flow;
pub mod hours;
pub mod kpi;
pub mod operation;
pub mod patient;
pub mod rbac;
pub mod reminder;
pub mod retention;
pub mod role;
pub mod scheduling;
pub mod user;
pub mod validation;

pub use rbac::{Action, Area, Decision};
pub use role::Role;
pub use validation::{FieldErrors, ValidationError};
