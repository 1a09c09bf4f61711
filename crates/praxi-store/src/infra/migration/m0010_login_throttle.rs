//! Login throttling shared by every process (failure counters and known addresses) and the
//! deny-list of revoked access tokens (docs/security.md, "Login throttling" and "Token
//! revocation").

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{CoreUser, OutstandingToken};

/// Failure counters, one row per scope (`pair:…`, `account:…`, `address:…`).
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum LoginThrottle {
    #[sea_orm(iden = "praxi_login_throttle")]
    Table,
    ScopeKey,
    Failures,
    WindowEndsAt,
    LastFailureAt,
}

/// Addresses (keyed hashes, never the raw address) a user has logged in from before.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum LoginKnownAddress {
    #[sea_orm(iden = "praxi_login_known_address")]
    Table,
    UserId,
    AddressHash,
    LastLoginAt,
}

/// Access tokens revoked before their expiry (logout, refresh-family revocation).
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum RevokedAccessToken {
    #[sea_orm(iden = "praxi_revoked_access_token")]
    Table,
    Jti,
    ExpiresAt,
}

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
                    .table(LoginThrottle::Table)
                    .col(
                        ColumnDef::new(LoginThrottle::ScopeKey)
                            .string_len(160)
                            .not_null()
                            .primary_key(),
                    )
                    .col(integer(LoginThrottle::Failures))
                    .col(timestamptz(LoginThrottle::WindowEndsAt))
                    .col(timestamptz(LoginThrottle::LastFailureAt))
                    .take(),
            )
            .await?;
        // Pruning deletes by window end.
        manager
            .create_index(index(
                "praxi_login_throttle_window_ends_at_idx",
                LoginThrottle::Table,
                [LoginThrottle::WindowEndsAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginKnownAddress::Table)
                    .col(bigint(LoginKnownAddress::UserId))
                    .col(varchar(LoginKnownAddress::AddressHash, 64))
                    .col(timestamptz(LoginKnownAddress::LastLoginAt))
                    .primary_key(
                        Index::create()
                            .col(LoginKnownAddress::UserId)
                            .col(LoginKnownAddress::AddressHash),
                    )
                    .foreign_key(&mut fk(
                        "praxi_login_known_address_user_id_fkey",
                        LoginKnownAddress::Table,
                        LoginKnownAddress::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RevokedAccessToken::Table)
                    .col(
                        ColumnDef::new(RevokedAccessToken::Jti)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(timestamptz(RevokedAccessToken::ExpiresAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "praxi_revoked_access_token_expires_at_idx",
                RevokedAccessToken::Table,
                [RevokedAccessToken::ExpiresAt],
            ))
            .await?;

        // The access token issued together with each refresh token, so revoking a refresh
        // family can deny the family's access tokens too.
        manager
            .alter_table(
                Table::alter()
                    .table(OutstandingToken::Table)
                    .add_column(varchar_null(OutstandingToken::AccessJti, 64))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OutstandingToken::Table)
                    .drop_column(OutstandingToken::AccessJti)
                    .take(),
            )
            .await?;
        for table in [
            drop_table(RevokedAccessToken::Table),
            drop_table(LoginKnownAddress::Table),
            drop_table(LoginThrottle::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
