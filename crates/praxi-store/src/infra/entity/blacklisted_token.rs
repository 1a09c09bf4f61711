//! `token_blacklist_blacklistedtoken`: Revoked refresh token.

use sea_orm::entity::prelude::*;

/// A row of `token_blacklist_blacklistedtoken`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_blacklist_blacklistedtoken")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_id: i64,
    pub blacklisted_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::outstanding_token::Entity",
        from = "Column::TokenId",
        to = "super::outstanding_token::Column::Id",
        on_delete = "Cascade"
    )]
    OutstandingToken,
}

impl Related<super::outstanding_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OutstandingToken.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
