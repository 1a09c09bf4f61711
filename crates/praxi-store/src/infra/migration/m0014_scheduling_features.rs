//! Scheduling features of issue #14: the practice's holiday region and per-date overrides,
//! buffers per appointment type, slot holds with a time-to-live, and audited overrides on
//! appointments (the reason and what was overridden).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::helpers::*;
use super::idens::{Appointment, CoreUser, Patients, Resource};

/// One-row settings of the practice (`id = 1`).
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum PracticeSettings {
    #[sea_orm(iden = "praxi_practice_settings")]
    Table,
    Id,
    /// `DE` (nationwide holidays only), a state code (`BE`, …) or NULL (no holiday calendar).
    HolidayRegion,
    UpdatedAt,
}

/// Per-date decisions of the practice: open on a holiday, or closed on any other day.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum HolidayOverride {
    #[sea_orm(iden = "praxi_holiday_override")]
    Table,
    Id,
    Date,
    Closed,
    Label,
    CreatedAt,
    UpdatedAt,
}

/// A slot held for a booking in progress; stops counting at `expires_at`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum SlotHold {
    #[sea_orm(iden = "praxi_slot_hold")]
    Table,
    Id,
    DoctorId,
    PatientId,
    StartTime,
    EndTime,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
}

/// Resources a hold reserves.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum SlotHoldResource {
    #[sea_orm(iden = "praxi_slot_hold_resource")]
    Table,
    Id,
    HoldId,
    ResourceId,
}

/// The new appointment-type and appointment columns.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum NewColumns {
    BufferBeforeMinutes,
    BufferAfterMinutes,
    OverrideReason,
    Overridden,
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
                    .table(PracticeSettings::Table)
                    .col(
                        ColumnDef::new(PracticeSettings::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(varchar_null(PracticeSettings::HolidayRegion, 2))
                    .col(timestamptz_now(PracticeSettings::UpdatedAt))
                    .check(check(
                        "praxi_practice_settings_one_row",
                        Expr::col(PracticeSettings::Id).eq(1),
                    ))
                    .take(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PracticeSettings::Table)
                    .columns([PracticeSettings::Id])
                    .values_panic([1.into()])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(HolidayOverride::Table)
                    .col(pk_bigint(HolidayOverride::Id))
                    .col(date(HolidayOverride::Date).unique_key())
                    .col(boolean(HolidayOverride::Closed, true))
                    .col(varchar_null(HolidayOverride::Label, 100))
                    .col(timestamptz_now(HolidayOverride::CreatedAt))
                    .col(timestamptz_now(HolidayOverride::UpdatedAt))
                    .take(),
            )
            .await?;

        let db = manager.get_connection();
        for column in ["buffer_before_minutes", "buffer_after_minutes"] {
            db.execute_unprepared(&format!(
                "ALTER TABLE appointments_appointmenttype ADD COLUMN {column} integer NOT NULL \
                 DEFAULT 0 CONSTRAINT appointments_appointmenttype_{column}_range \
                 CHECK ({column} >= 0 AND {column} <= 120)"
            ))
            .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Appointment::Table)
                    .add_column(text_null(NewColumns::OverrideReason))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Appointment::Table)
                    .add_column(varchar_null(NewColumns::Overridden, 200))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SlotHold::Table)
                    .col(pk_bigint(SlotHold::Id))
                    .col(bigint(SlotHold::DoctorId))
                    .col(integer_null(SlotHold::PatientId))
                    .col(timestamptz(SlotHold::StartTime))
                    .col(timestamptz(SlotHold::EndTime))
                    .col(timestamptz(SlotHold::ExpiresAt))
                    .col(bigint_null(SlotHold::CreatedBy))
                    .col(timestamptz_now(SlotHold::CreatedAt))
                    .check(check(
                        "praxi_slot_hold_end_after_start",
                        Expr::col(SlotHold::EndTime).gt(Expr::col(SlotHold::StartTime)),
                    ))
                    .foreign_key(&mut fk(
                        "praxi_slot_hold_doctor_fkey",
                        SlotHold::Table,
                        SlotHold::DoctorId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "praxi_slot_hold_patient_fkey",
                        SlotHold::Table,
                        SlotHold::PatientId,
                        Patients::Table,
                        Patients::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "praxi_slot_hold_created_by_fkey",
                        SlotHold::Table,
                        SlotHold::CreatedBy,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "praxi_slot_hold_doctor_start_idx",
                SlotHold::Table,
                [SlotHold::DoctorId, SlotHold::StartTime],
            ))
            .await?;
        manager
            .create_index(index(
                "praxi_slot_hold_expires_idx",
                SlotHold::Table,
                [SlotHold::ExpiresAt],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlotHoldResource::Table)
                    .col(pk_bigint(SlotHoldResource::Id))
                    .col(bigint(SlotHoldResource::HoldId))
                    .col(bigint(SlotHoldResource::ResourceId))
                    .foreign_key(&mut fk(
                        "praxi_slot_hold_resource_hold_fkey",
                        SlotHoldResource::Table,
                        SlotHoldResource::HoldId,
                        SlotHold::Table,
                        SlotHold::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "praxi_slot_hold_resource_resource_fkey",
                        SlotHoldResource::Table,
                        SlotHoldResource::ResourceId,
                        Resource::Table,
                        Resource::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "praxi_slot_hold_resource_uniq",
                SlotHoldResource::Table,
                [SlotHoldResource::HoldId, SlotHoldResource::ResourceId],
            ))
            .await?;
        manager
            .create_index(index(
                "praxi_slot_hold_resource_resource_idx",
                SlotHoldResource::Table,
                [SlotHoldResource::ResourceId],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(drop_table(SlotHoldResource::Table))
            .await?;
        manager.drop_table(drop_table(SlotHold::Table)).await?;
        let db = manager.get_connection();
        let columns = [
            ("appointments_appointment", "overridden"),
            ("appointments_appointment", "override_reason"),
            ("appointments_appointmenttype", "buffer_after_minutes"),
            ("appointments_appointmenttype", "buffer_before_minutes"),
        ];
        for (table, column) in columns {
            if manager.get_database_backend() == DbBackend::Postgres {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP COLUMN IF EXISTS {column}"
                ))
                .await?;
            } else {
                db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                    .await?;
            }
        }
        manager
            .drop_table(drop_table(HolidayOverride::Table))
            .await?;
        manager
            .drop_table(drop_table(PracticeSettings::Table))
            .await
    }
}
