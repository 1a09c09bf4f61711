//! `auth_permission`: Django auth permission, kept only for imports.

use sea_orm::entity::prelude::*;

/// A row of `auth_permission`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_permission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub codename: String,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user_user_permissions::Entity")]
    UserUserPermissions,
}

impl Related<super::user_user_permissions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserUserPermissions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
