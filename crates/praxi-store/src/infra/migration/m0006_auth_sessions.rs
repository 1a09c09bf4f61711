//! Refresh-token bookkeeping (rotation families and blacklist) and server-side sessions for
//! the staff web UI.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{BlacklistedToken, CoreUser, OutstandingToken, PraxiSession};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutstandingToken::Table)
                    .col(pk_bigint(OutstandingToken::Id))
                    .col(bigint(OutstandingToken::UserId))
                    .col(varchar(OutstandingToken::Jti, 64).unique_key())
                    // Rotation family: every refresh token issued from one login shares it, so
                    // reuse of a rotated token can revoke the whole family.
                    .col(varchar(OutstandingToken::Family, 64))
                    .col(timestamptz_now(OutstandingToken::CreatedAt))
                    .col(timestamptz(OutstandingToken::ExpiresAt))
                    .foreign_key(&mut fk(
                        "token_blacklist_outstandingtoken_user_id_fkey",
                        OutstandingToken::Table,
                        OutstandingToken::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "token_blacklist_outstandingtoken_family_idx",
                OutstandingToken::Table,
                [OutstandingToken::Family],
            ))
            .await?;
        manager
            .create_index(index(
                "token_blacklist_outstandingtoken_user_id_idx",
                OutstandingToken::Table,
                [OutstandingToken::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BlacklistedToken::Table)
                    .col(pk_bigint(BlacklistedToken::Id))
                    .col(bigint(BlacklistedToken::TokenId).unique_key())
                    .col(timestamptz_now(BlacklistedToken::BlacklistedAt))
                    .foreign_key(&mut fk(
                        "token_blacklist_blacklistedtoken_token_id_fkey",
                        BlacklistedToken::Table,
                        BlacklistedToken::TokenId,
                        OutstandingToken::Table,
                        OutstandingToken::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PraxiSession::Table)
                    .col(
                        ColumnDef::new(PraxiSession::SessionKey)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(bigint(PraxiSession::UserId))
                    .col(varchar(PraxiSession::CsrfToken, 64))
                    .col(timestamptz_now(PraxiSession::CreatedAt))
                    .col(timestamptz(PraxiSession::ExpireDate))
                    .col(
                        ColumnDef::new(PraxiSession::Data)
                            .text()
                            .not_null()
                            .default("{}"),
                    )
                    .foreign_key(&mut fk(
                        "praxi_session_user_id_fkey",
                        PraxiSession::Table,
                        PraxiSession::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "praxi_session_expire_date_idx",
                PraxiSession::Table,
                [PraxiSession::ExpireDate],
            ))
            .await?;
        manager
            .create_index(index(
                "praxi_session_user_id_idx",
                PraxiSession::Table,
                [PraxiSession::UserId],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            drop_table(PraxiSession::Table),
            drop_table(BlacklistedToken::Table),
            drop_table(OutstandingToken::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
