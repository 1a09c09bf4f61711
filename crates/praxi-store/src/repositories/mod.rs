//! Repositories: one module per aggregate, speaking domain types. Every write runs in one
//! transaction (`Store::write`) together with its audit row; reads return one aggregate or a
//! page of it. Query style: sea-query statements built in code (`Query::insert/update/delete/
//! select`) executed on the transaction; the older master-data repositories (`hours`,
//! `absences`, `feeds`) still use SeaORM entity finders for single-row reads.

pub mod absences;
pub mod appointments;
pub mod audit;
pub mod catalog;
pub mod feeds;
pub mod flow;
pub mod hours;
pub mod login_throttle;
pub mod operations;
pub mod patients;
pub mod sessions;
pub mod tokens;
pub mod users;
