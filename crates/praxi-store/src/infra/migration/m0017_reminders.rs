//! Appointment reminders through a transactional outbox (issue #14): the `praxi_outbox` table,
//! written in the booking transaction and drained by the sender loop (docs/scheduling.md,
//! "Erinnerungen / Reminders"), and the per-patient opt-out `patients.reminder_opt_out`.
//!
//! An outbox row holds ids only (no patient data is copied): the message is rendered from the
//! current rows when it is sent, and `last_error` never holds patient data.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{Appointment, Patients};

/// The outbox of messages to deliver.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Outbox {
    #[sea_orm(iden = "praxi_outbox")]
    Table,
    Id,
    Kind,
    AppointmentId,
    PatientId,
    DueAt,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    ClaimedUntil,
    LastError,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

/// The column added to `patients`.
#[derive(DeriveIden, Clone, Copy)]
enum PatientOptOut {
    ReminderOptOut,
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
                    .table(Outbox::Table)
                    .col(pk_bigint(Outbox::Id))
                    .col(varchar(Outbox::Kind, 16))
                    .col(integer_null(Outbox::AppointmentId))
                    .col(integer(Outbox::PatientId))
                    .col(timestamptz(Outbox::DueAt))
                    .col(varchar(Outbox::Status, 16))
                    .col(
                        ColumnDef::new(Outbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0)
                            .take(),
                    )
                    .col(timestamptz(Outbox::NextAttemptAt))
                    .col(varchar_null(Outbox::ClaimedBy, 64))
                    .col(timestamptz_null(Outbox::ClaimedUntil))
                    .col(varchar_null(Outbox::LastError, 200))
                    .col(timestamptz_null(Outbox::SentAt))
                    .col(timestamptz_now(Outbox::CreatedAt))
                    .col(timestamptz_now(Outbox::UpdatedAt))
                    .check(check(
                        "praxi_outbox_kind_check",
                        Expr::cust("kind IN ('reminder')"),
                    ))
                    .check(check(
                        "praxi_outbox_status_check",
                        Expr::cust(
                            "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')",
                        ),
                    ))
                    .check(check(
                        "praxi_outbox_attempts_check",
                        Expr::col(Outbox::Attempts).gte(0),
                    ))
                    // A deleted appointment leaves the delivery history; the sender cancels a
                    // queued row whose appointment is gone.
                    .foreign_key(&mut fk(
                        "praxi_outbox_appointment_fkey",
                        Outbox::Table,
                        Outbox::AppointmentId,
                        Appointment::Table,
                        Appointment::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "praxi_outbox_patient_fkey",
                        Outbox::Table,
                        Outbox::PatientId,
                        Patients::Table,
                        Patients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "praxi_outbox_due_idx",
                Outbox::Table,
                [Outbox::Status, Outbox::NextAttemptAt],
            ))
            .await?;
        manager
            .create_index(index(
                "praxi_outbox_appointment_idx",
                Outbox::Table,
                [Outbox::AppointmentId],
            ))
            .await?;
        manager
            .create_index(index(
                "praxi_outbox_patient_idx",
                Outbox::Table,
                [Outbox::PatientId],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Patients::Table)
                    .add_column(boolean(PatientOptOut::ReminderOptOut, false))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Patients::Table)
                    .drop_column(PatientOptOut::ReminderOptOut)
                    .take(),
            )
            .await?;
        manager.drop_table(drop_table(Outbox::Table)).await
    }
}
