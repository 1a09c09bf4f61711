//! `core_auditlog`: Append-only audit journal. UPDATE and DELETE are refused by a trigger on both backends.

use sea_orm::entity::prelude::*;

/// A row of `core_auditlog`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "core_auditlog")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Acting user, when authenticated.
    pub user_id: Option<i64>,
    /// Snapshot of the actor's username.
    pub username: String,
    /// Snapshot of the actor's role name (`""` without role).
    pub role_name: String,
    pub action: String,
    /// Plain patient number, deliberately no foreign key.
    pub patient_id: Option<i32>,
    pub timestamp: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub meta: Option<Json>,
    pub request_id: Option<String>,
    /// The hash of the previous chained row (m0012; `None` before the chain).
    pub prev_hash: Option<String>,
    /// SHA-256 over this row's canonical encoding and `prev_hash` (m0012).
    pub hash: Option<String>,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
