//! `appointments_operationtype`: Kind of surgery with its default durations.

use sea_orm::entity::prelude::*;

/// A row of `appointments_operationtype`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_operationtype")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Minutes of preparation.
    pub prep_duration: i32,
    /// Minutes of surgery.
    pub op_duration: i32,
    /// Minutes of post-processing.
    pub post_duration: i32,
    pub color: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::operation::Entity")]
    Operation,
}

impl Related<super::operation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Operation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
