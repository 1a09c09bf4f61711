//! Calendar configuration: appointment types, opening hours, doctor hours, absences, breaks,
//! resources (rooms and devices) and operation types.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{
    AppointmentType, CoreUser, DoctorAbsence, DoctorBreak, DoctorHours, OperationType,
    PracticeHours, Resource,
};

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
                    .table(AppointmentType::Table)
                    .col(pk_bigint(AppointmentType::Id))
                    .col(varchar(AppointmentType::Name, 100))
                    .col(
                        varchar_null(AppointmentType::Color, 7)
                            .default("#2E8B57")
                            .take(),
                    )
                    .col(integer_null(AppointmentType::DurationMinutes))
                    .col(boolean(AppointmentType::Active, true))
                    .col(timestamptz_now(AppointmentType::CreatedAt))
                    .col(timestamptz_now(AppointmentType::UpdatedAt))
                    .check(colour_check(
                        "appointments_appointmenttype_color_check",
                        "color",
                    ))
                    .check(check(
                        "appointments_appointmenttype_duration_minutes_check",
                        Expr::col(AppointmentType::DurationMinutes)
                            .is_null()
                            .or(Expr::col(AppointmentType::DurationMinutes).gt(0)),
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PracticeHours::Table)
                    .col(pk_bigint(PracticeHours::Id))
                    .col(integer(PracticeHours::Weekday))
                    .col(time(PracticeHours::StartTime))
                    .col(time(PracticeHours::EndTime))
                    .col(boolean(PracticeHours::Active, true))
                    .col(timestamptz_now(PracticeHours::CreatedAt))
                    .col(timestamptz_now(PracticeHours::UpdatedAt))
                    .check(check(
                        "appointments_practicehours_weekday_check",
                        Expr::col(PracticeHours::Weekday).between(0, 6),
                    ))
                    .check(check(
                        "appointments_practicehours_start_before_end",
                        Expr::col(PracticeHours::StartTime).lt(Expr::col(PracticeHours::EndTime)),
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DoctorHours::Table)
                    .col(pk_bigint(DoctorHours::Id))
                    .col(bigint(DoctorHours::DoctorId))
                    .col(integer(DoctorHours::Weekday))
                    .col(time(DoctorHours::StartTime))
                    .col(time(DoctorHours::EndTime))
                    .col(boolean(DoctorHours::Active, true))
                    .col(timestamptz_now(DoctorHours::CreatedAt))
                    .col(timestamptz_now(DoctorHours::UpdatedAt))
                    .check(check(
                        "appointments_doctorhours_weekday_check",
                        Expr::col(DoctorHours::Weekday).between(0, 6),
                    ))
                    .check(check(
                        "appointments_doctorhours_start_before_end",
                        Expr::col(DoctorHours::StartTime).lt(Expr::col(DoctorHours::EndTime)),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_doctorhours_doctor_id_fkey",
                        DoctorHours::Table,
                        DoctorHours::DoctorId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "uniq_doctorhours_slot_active",
                DoctorHours::Table,
                [
                    DoctorHours::DoctorId,
                    DoctorHours::Weekday,
                    DoctorHours::StartTime,
                    DoctorHours::EndTime,
                    DoctorHours::Active,
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "appointments_doctorhours_doctor_id_weekday_idx",
                DoctorHours::Table,
                [DoctorHours::DoctorId, DoctorHours::Weekday],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DoctorAbsence::Table)
                    .col(pk_bigint(DoctorAbsence::Id))
                    .col(bigint(DoctorAbsence::DoctorId))
                    .col(date(DoctorAbsence::StartDate))
                    .col(date(DoctorAbsence::EndDate))
                    .col(varchar_null(DoctorAbsence::Reason, 255))
                    .col(integer_null(DoctorAbsence::DurationWorkdays))
                    .col(integer_null(DoctorAbsence::RemainingDays))
                    .col(date_null(DoctorAbsence::ReturnDate))
                    .col(boolean(DoctorAbsence::Active, true))
                    .col(timestamptz_now(DoctorAbsence::CreatedAt))
                    .col(timestamptz_now(DoctorAbsence::UpdatedAt))
                    .check(check(
                        "appointments_doctorabsence_start_not_after_end",
                        Expr::col(DoctorAbsence::StartDate).lte(Expr::col(DoctorAbsence::EndDate)),
                    ))
                    .check(check(
                        "appointments_doctorabsence_duration_workdays_check",
                        Expr::col(DoctorAbsence::DurationWorkdays).gte(0),
                    ))
                    .check(check(
                        "appointments_doctorabsence_remaining_days_check",
                        Expr::col(DoctorAbsence::RemainingDays).gte(0),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_doctorabsence_doctor_id_fkey",
                        DoctorAbsence::Table,
                        DoctorAbsence::DoctorId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "appointments_doctorabsence_doctor_id_start_date_idx",
                DoctorAbsence::Table,
                [DoctorAbsence::DoctorId, DoctorAbsence::StartDate],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DoctorBreak::Table)
                    .col(pk_bigint(DoctorBreak::Id))
                    // NULL = practice-wide break.
                    .col(bigint_null(DoctorBreak::DoctorId))
                    .col(date(DoctorBreak::Date))
                    .col(time(DoctorBreak::StartTime))
                    .col(time(DoctorBreak::EndTime))
                    .col(varchar_null(DoctorBreak::Reason, 255))
                    .col(boolean(DoctorBreak::Active, true))
                    .col(timestamptz_now(DoctorBreak::CreatedAt))
                    .col(timestamptz_now(DoctorBreak::UpdatedAt))
                    .check(check(
                        "appointments_doctorbreak_start_before_end",
                        Expr::col(DoctorBreak::StartTime).lt(Expr::col(DoctorBreak::EndTime)),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_doctorbreak_doctor_id_fkey",
                        DoctorBreak::Table,
                        DoctorBreak::DoctorId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "appointments_doctorbreak_date_doctor_id_idx",
                DoctorBreak::Table,
                [DoctorBreak::Date, DoctorBreak::DoctorId],
            ))
            .await?;
        manager
            .create_index(index(
                "appointments_doctorbreak_doctor_id_idx",
                DoctorBreak::Table,
                [DoctorBreak::DoctorId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Resource::Table)
                    .col(pk_bigint(Resource::Id))
                    .col(varchar(Resource::Name, 255))
                    .col(varchar(Resource::Type, 20))
                    .col(varchar_default(Resource::Color, 7, "#6A5ACD"))
                    .col(boolean(Resource::Active, true))
                    .col(timestamptz_now(Resource::CreatedAt))
                    .col(timestamptz_now(Resource::UpdatedAt))
                    .check(check(
                        "appointments_resource_type_check",
                        Expr::col(Resource::Type).is_in(["room", "device"]),
                    ))
                    .check(colour_check("appointments_resource_color_check", "color"))
                    .take(),
            )
            .await?;
        // Target of the composite foreign keys that pin operation rooms to `room` and
        // operation devices to `device` (§15 item 6).
        manager
            .create_index(unique_index(
                "appointments_resource_id_type_key",
                Resource::Table,
                [Resource::Id, Resource::Type],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OperationType::Table)
                    .col(pk_bigint(OperationType::Id))
                    .col(varchar(OperationType::Name, 255))
                    .col(integer(OperationType::PrepDuration).default(0).take())
                    .col(integer(OperationType::OpDuration).default(0).take())
                    .col(integer(OperationType::PostDuration).default(0).take())
                    .col(varchar_default(OperationType::Color, 7, "#8A2BE2"))
                    .col(boolean(OperationType::Active, true))
                    .col(timestamptz_now(OperationType::CreatedAt))
                    .col(timestamptz_now(OperationType::UpdatedAt))
                    .check(check(
                        "appointments_operationtype_durations_check",
                        Expr::col(OperationType::PrepDuration)
                            .gte(0)
                            .and(Expr::col(OperationType::OpDuration).gte(0))
                            .and(Expr::col(OperationType::PostDuration).gte(0)),
                    ))
                    .check(colour_check(
                        "appointments_operationtype_color_check",
                        "color",
                    ))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            drop_table(OperationType::Table),
            drop_table(Resource::Table),
            drop_table(DoctorBreak::Table),
            drop_table(DoctorAbsence::Table),
            drop_table(DoctorHours::Table),
            drop_table(PracticeHours::Table),
            drop_table(AppointmentType::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
