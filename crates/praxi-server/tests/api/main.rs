//! API tests: the real router over a real database (SQLite, or PostgreSQL when
//! `PRAXI_TEST_DATABASE_URL` is set). One file per resource.

mod auth;
mod errors;
mod helpers;
mod patients;
