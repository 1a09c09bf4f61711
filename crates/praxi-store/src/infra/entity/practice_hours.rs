//! `appointments_practicehours`: Practice-wide opening window on one weekday (0 = Monday).

use sea_orm::entity::prelude::*;

/// A row of `appointments_practicehours`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_practicehours")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i32,
    pub start_time: Time,
    pub end_time: Time,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
