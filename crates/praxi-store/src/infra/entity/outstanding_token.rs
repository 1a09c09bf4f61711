//! `token_blacklist_outstandingtoken`: Issued refresh token.

use sea_orm::entity::prelude::*;

/// A row of `token_blacklist_outstandingtoken`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_blacklist_outstandingtoken")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(unique)]
    pub jti: String,
    /// Rotation family shared by every token issued from one login.
    pub family: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_one = "super::blacklisted_token::Entity")]
    BlacklistedToken,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::blacklisted_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BlacklistedToken.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
