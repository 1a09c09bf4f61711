//! praxi-store: the database layer. Migrations, SeaORM entities and repositories that speak
//! domain types. Nothing here knows HTTP; nothing outside this crate knows which database runs
//! (SQLite by default, PostgreSQL in production, one code path).

pub mod absences;
pub mod admin_lists;
pub mod appointments;
pub mod audit;
pub mod calendar;
pub mod catalog;
pub mod db;
pub mod entity;
pub mod error;
pub mod feeds;
pub mod flow;
pub mod flow_board;
pub mod hours;
pub mod locks;
pub mod login_throttle;
pub mod master_data;
pub mod migration;
pub mod notify;
pub mod op_board;
pub mod operations;
pub mod ops;
pub mod patients;
pub mod people;
pub mod praxiapp;
pub mod resource_calendar;
pub mod schedule;
pub mod sessions;
pub mod stats;
pub mod tokens;
pub mod users;

pub use db::{Store, UnitOfWork, UnitReport, WriteTx};
pub use error::{DbFailure, StoreError};
