//! Read models for screens: set-based queries that shape rows for one view (calendar, boards,
//! statistics, resource calendar, people pages, master-data lists) and the scheduling engine's
//! input (`schedule`). Never write (except the read audit rows of `calendar`); a fixed number
//! of statements per request, independent of data size. Query style: sea-query `SELECT`s with
//! joins and aggregates (`master_data` uses SeaORM entity queries through its `MasterTable`
//! description).

pub mod admin_lists;
pub mod calendar;
pub mod flow_board;
pub mod master_data;
pub mod op_board;
pub mod people;
pub mod resource_calendar;
pub mod schedule;
pub mod stats;
