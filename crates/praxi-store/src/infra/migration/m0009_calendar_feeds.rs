//! iCal feeds: secret URLs that publish a doctor's or a room's busy times (RFC 5545). Only a
//! hash of each secret is stored; a revoked feed keeps its row for the audit trail.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::CoreUser;

/// The `calendar_feeds` table.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum CalendarFeeds {
    #[sea_orm(iden = "calendar_feeds")]
    Table,
    Id,
    Kind,
    TargetId,
    TokenHash,
    IncludeType,
    CreatedBy,
    CreatedAt,
    RevokedAt,
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
                    .table(CalendarFeeds::Table)
                    .col(pk_bigint(CalendarFeeds::Id))
                    .col(varchar(CalendarFeeds::Kind, 16))
                    .col(bigint(CalendarFeeds::TargetId))
                    .col(varchar(CalendarFeeds::TokenHash, 128).unique_key())
                    .col(boolean(CalendarFeeds::IncludeType, false))
                    .col(bigint_null(CalendarFeeds::CreatedBy))
                    .col(timestamptz_now(CalendarFeeds::CreatedAt))
                    .col(timestamptz_null(CalendarFeeds::RevokedAt))
                    .check(check(
                        "calendar_feeds_kind_check",
                        Expr::cust("kind IN ('doctor', 'room')"),
                    ))
                    .foreign_key(&mut fk(
                        "calendar_feeds_created_by_fkey",
                        CalendarFeeds::Table,
                        CalendarFeeds::CreatedBy,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "calendar_feeds_target_idx",
                CalendarFeeds::Table,
                [CalendarFeeds::Kind, CalendarFeeds::TargetId],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table(CalendarFeeds::Table)).await
    }
}
