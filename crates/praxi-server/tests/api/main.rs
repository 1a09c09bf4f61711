//! API tests: the real router over a real database (SQLite, or PostgreSQL when
//! `PRAXI_TEST_DATABASE_URL` is set). One file per resource.

mod absences;
mod appointments;
mod audit_subjects;
mod auth;
mod auth_hardening;
mod buffers;
mod calendar;
mod calendar_feeds;
mod catalog;
mod catalogue;
mod concurrency_edit;
mod errors;
mod events;
mod fhir;
mod fixtures;
mod fuzz;
mod helpers;
mod holds;
mod holidays;
mod hours;
mod metrics;
mod op_board;
mod openapi;
mod operations;
mod overrides;
mod patient_flow;
mod patient_rights;
mod patients;
mod praxiapp;
mod resource_calendar;
mod robustness;
mod statements;
mod stats;
mod totp;
mod users;
