//! API tests: the real router over a real database (SQLite, or PostgreSQL when
//! `PRAXI_TEST_DATABASE_URL` is set). One file per resource.

mod absences;
mod appointments;
mod auth;
mod auth_hardening;
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
mod hours;
mod metrics;
mod op_board;
mod openapi;
mod operations;
mod patient_flow;
mod patients;
mod praxiapp;
mod reminders;
mod resource_calendar;
mod robustness;
mod smtp_sink;
mod statements;
mod stats;
mod users;
