//! Patient rights and two-factor login (issue #16 part B; docs/data-protection.md).
//!
//! - `praxi_user_totp`: one TOTP enrolment per user. The shared secret is stored sealed with a
//!   key derived from the server's secret key (never in clear text, never answered after
//!   enrolment); `enabled` turns true once a code confirmed the enrolment; `last_step` is the
//!   last accepted RFC 6238 time step, so a code is accepted once.
//! - `praxi_user_recovery_code`: one-time recovery codes, stored as keyed hashes only.
//! - `praxi_mfa_required_role`: the roles for which the practice requires two-factor login.
//! - `praxi_patient_erasure`: one row per erased patient (when, by whom, the reason, whether
//!   the legal retention period was overridden). The audit log never holds the reason.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{CoreRole, CoreUser, Patients};

/// A user's TOTP enrolment.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum UserTotp {
    #[sea_orm(iden = "praxi_user_totp")]
    Table,
    UserId,
    SealedSecret,
    Enabled,
    CreatedAt,
    EnabledAt,
    LastStep,
}

/// A user's one-time recovery codes (keyed hashes).
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum UserRecoveryCode {
    #[sea_orm(iden = "praxi_user_recovery_code")]
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

/// Roles whose users must log in with a second factor.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum MfaRequiredRole {
    #[sea_orm(iden = "praxi_mfa_required_role")]
    Table,
    RoleId,
}

/// Erased patients.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum PatientErasure {
    #[sea_orm(iden = "praxi_patient_erasure")]
    Table,
    PatientId,
    ErasedAt,
    ErasedById,
    ErasedByUsername,
    Reason,
    RetentionUntil,
    RetentionOverridden,
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
                    .table(UserTotp::Table)
                    .col(bigint(UserTotp::UserId).primary_key())
                    .col(varchar(UserTotp::SealedSecret, 255))
                    .col(boolean(UserTotp::Enabled, false))
                    .col(timestamptz(UserTotp::CreatedAt))
                    .col(timestamptz_null(UserTotp::EnabledAt))
                    .col(bigint_null(UserTotp::LastStep))
                    .foreign_key(&mut fk(
                        "praxi_user_totp_user_id_fkey",
                        UserTotp::Table,
                        UserTotp::UserId,
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
                    .table(UserRecoveryCode::Table)
                    .col(pk_bigint(UserRecoveryCode::Id))
                    .col(bigint(UserRecoveryCode::UserId))
                    .col(varchar(UserRecoveryCode::CodeHash, 64))
                    .col(timestamptz_null(UserRecoveryCode::UsedAt))
                    .foreign_key(&mut fk(
                        "praxi_user_recovery_code_user_id_fkey",
                        UserRecoveryCode::Table,
                        UserRecoveryCode::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "praxi_user_recovery_code_user_id_idx",
                UserRecoveryCode::Table,
                [UserRecoveryCode::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MfaRequiredRole::Table)
                    .col(bigint(MfaRequiredRole::RoleId).primary_key())
                    .foreign_key(&mut fk(
                        "praxi_mfa_required_role_role_id_fkey",
                        MfaRequiredRole::Table,
                        MfaRequiredRole::RoleId,
                        CoreRole::Table,
                        CoreRole::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientErasure::Table)
                    .col(integer(PatientErasure::PatientId).primary_key())
                    .col(timestamptz(PatientErasure::ErasedAt))
                    .col(bigint_null(PatientErasure::ErasedById))
                    .col(varchar(PatientErasure::ErasedByUsername, 150))
                    .col(text_null(PatientErasure::Reason))
                    .col(date_null(PatientErasure::RetentionUntil))
                    .col(boolean(PatientErasure::RetentionOverridden, false))
                    .foreign_key(&mut fk(
                        "praxi_patient_erasure_patient_id_fkey",
                        PatientErasure::Table,
                        PatientErasure::PatientId,
                        Patients::Table,
                        Patients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "praxi_patient_erasure_erased_by_id_fkey",
                        PatientErasure::Table,
                        PatientErasure::ErasedById,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            drop_table(PatientErasure::Table),
            drop_table(MfaRequiredRole::Table),
            drop_table(UserRecoveryCode::Table),
            drop_table(UserTotp::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
