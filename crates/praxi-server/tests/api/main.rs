//! API tests: the real router over a real database (SQLite, or PostgreSQL when
//! `PRAXI_TEST_DATABASE_URL` is set). One file per resource.

mod absences;
mod appointments;
mod auth;
mod auth_hardening;
mod calendar;
mod catalog;
mod catalogue;
mod errors;
mod events;
mod fixtures;
mod helpers;
mod hours;
mod op_board;
mod operations;
mod patient_flow;
mod patients;
mod resource_calendar;
mod stats;
mod users;
