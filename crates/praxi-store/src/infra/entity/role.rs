//! `core_role`: RBAC role; a user has at most one.

use sea_orm::entity::prelude::*;

/// A row of `core_role`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "core_role")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Machine key, e.g. `doctor` (unique).
    #[sea_orm(unique)]
    pub name: String,
    /// Human-readable (German) label.
    pub label: String,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
