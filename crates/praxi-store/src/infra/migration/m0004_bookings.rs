//! Bookings: appointments and operations with their resources.
//!
//! Clinical history is protected: patients, doctors, rooms, devices and operation types that
//! are referenced cannot be deleted (RESTRICT, §15 items 1 and 13); configuration rows are
//! soft-deleted with `active = false` instead.

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{
    Appointment, AppointmentResource, AppointmentType, CoreUser, Operation, OperationDevice,
    OperationType, Patients, Resource,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const APPOINTMENT_STATUSES: [&str; 4] = ["scheduled", "confirmed", "cancelled", "completed"];
const OPERATION_STATUSES: [&str; 5] = ["planned", "confirmed", "running", "done", "cancelled"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_appointment(manager).await?;
        create_operation(manager).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            drop_table(OperationDevice::Table),
            drop_table(Operation::Table),
            drop_table(AppointmentResource::Table),
            drop_table(Appointment::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}

async fn create_appointment(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Appointment::Table)
                // 32-bit identity, as in the original.
                .col(
                    ColumnDef::new(Appointment::Id)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(integer(Appointment::PatientId))
                .col(bigint_null(Appointment::TypeId))
                .col(bigint(Appointment::DoctorId))
                .col(timestamptz(Appointment::StartTime))
                .col(timestamptz(Appointment::EndTime))
                .col(varchar_default(Appointment::Status, 20, "scheduled"))
                .col(boolean(Appointment::IsNoShow, false))
                .col(text_null(Appointment::Notes))
                .col(timestamptz_now(Appointment::CreatedAt))
                .col(timestamptz_now(Appointment::UpdatedAt))
                .check(check(
                    "appointments_appointment_start_before_end",
                    Expr::col(Appointment::StartTime).lt(Expr::col(Appointment::EndTime)),
                ))
                .check(check(
                    "appointments_appointment_status_check",
                    Expr::col(Appointment::Status).is_in(APPOINTMENT_STATUSES),
                ))
                .foreign_key(&mut fk(
                    "appointments_appointment_patient_id_fkey",
                    Appointment::Table,
                    Appointment::PatientId,
                    Patients::Table,
                    Patients::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_appointment_type_id_fkey",
                    Appointment::Table,
                    Appointment::TypeId,
                    AppointmentType::Table,
                    AppointmentType::Id,
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    "appointments_appointment_doctor_id_fkey",
                    Appointment::Table,
                    Appointment::DoctorId,
                    CoreUser::Table,
                    CoreUser::Id,
                    ForeignKeyAction::Restrict,
                ))
                .take(),
        )
        .await?;
    for stmt in [
        index(
            "appointments_appointment_doctor_id_start_time_idx",
            Appointment::Table,
            [Appointment::DoctorId, Appointment::StartTime],
        ),
        index(
            "appointments_appointment_patient_id_start_time_idx",
            Appointment::Table,
            [Appointment::PatientId, Appointment::StartTime],
        ),
        index(
            "appointments_appointment_start_time_idx",
            Appointment::Table,
            [Appointment::StartTime],
        ),
        index(
            "appointments_appointment_status_start_time_idx",
            Appointment::Table,
            [Appointment::Status, Appointment::StartTime],
        ),
        index(
            "appointments_appointment_type_id_idx",
            Appointment::Table,
            [Appointment::TypeId],
        ),
    ] {
        manager.create_index(stmt).await?;
    }

    manager
        .create_table(
            Table::create()
                .table(AppointmentResource::Table)
                .col(pk_bigint(AppointmentResource::Id))
                .col(integer(AppointmentResource::AppointmentId))
                .col(bigint(AppointmentResource::ResourceId))
                .foreign_key(&mut fk(
                    "appointments_appointmentresource_appointment_id_fkey",
                    AppointmentResource::Table,
                    AppointmentResource::AppointmentId,
                    Appointment::Table,
                    Appointment::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "appointments_appointmentresource_resource_id_fkey",
                    AppointmentResource::Table,
                    AppointmentResource::ResourceId,
                    Resource::Table,
                    Resource::Id,
                    ForeignKeyAction::Restrict,
                ))
                .take(),
        )
        .await?;
    manager
        .create_index(unique_index(
            "appointments_appointmentresource_appointment_resource_key",
            AppointmentResource::Table,
            [
                AppointmentResource::AppointmentId,
                AppointmentResource::ResourceId,
            ],
        ))
        .await?;
    manager
        .create_index(index(
            "appointments_appointmentresource_resource_id_idx",
            AppointmentResource::Table,
            [AppointmentResource::ResourceId],
        ))
        .await?;
    Ok(())
}

async fn create_operation(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Operation::Table)
                .col(pk_bigint(Operation::Id))
                .col(integer(Operation::PatientId))
                .col(bigint(Operation::PrimarySurgeonId))
                .col(bigint_null(Operation::AssistantId))
                .col(bigint_null(Operation::AnesthesistId))
                .col(bigint(Operation::OpRoomId))
                // Constant 'room': with the composite foreign key below the database itself
                // guarantees that the OP room is a room, not a device (§15 item 6).
                .col(varchar_default(Operation::OpRoomType, 20, "room"))
                .col(bigint(Operation::OpTypeId))
                .col(timestamptz(Operation::StartTime))
                .col(timestamptz(Operation::EndTime))
                // Snapshot of the operation type's durations at write time (§15 item 26).
                .col(integer(Operation::PrepDuration).default(0).take())
                .col(integer(Operation::OpDuration).default(0).take())
                .col(integer(Operation::PostDuration).default(0).take())
                .col(varchar_default(Operation::Status, 20, "planned"))
                .col(text_null(Operation::Notes))
                .col(timestamptz_now(Operation::CreatedAt))
                .col(timestamptz_now(Operation::UpdatedAt))
                .check(check(
                    "appointments_operation_start_before_end",
                    Expr::col(Operation::StartTime).lt(Expr::col(Operation::EndTime)),
                ))
                .check(check(
                    "appointments_operation_status_check",
                    Expr::col(Operation::Status).is_in(OPERATION_STATUSES),
                ))
                .check(check(
                    "appointments_operation_durations_check",
                    Expr::col(Operation::PrepDuration)
                        .gte(0)
                        .and(Expr::col(Operation::OpDuration).gte(0))
                        .and(Expr::col(Operation::PostDuration).gte(0)),
                ))
                .check(check(
                    "appointments_operation_op_room_type_check",
                    Expr::col(Operation::OpRoomType).eq("room"),
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_patient_id_fkey",
                    Operation::Table,
                    Operation::PatientId,
                    Patients::Table,
                    Patients::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_primary_surgeon_id_fkey",
                    Operation::Table,
                    Operation::PrimarySurgeonId,
                    CoreUser::Table,
                    CoreUser::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_assistant_id_fkey",
                    Operation::Table,
                    Operation::AssistantId,
                    CoreUser::Table,
                    CoreUser::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_anesthesist_id_fkey",
                    Operation::Table,
                    Operation::AnesthesistId,
                    CoreUser::Table,
                    CoreUser::Id,
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_op_room_fkey",
                    Operation::Table,
                    (Operation::OpRoomId, Operation::OpRoomType),
                    Resource::Table,
                    (Resource::Id, Resource::Type),
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "appointments_operation_op_type_id_fkey",
                    Operation::Table,
                    Operation::OpTypeId,
                    OperationType::Table,
                    OperationType::Id,
                    ForeignKeyAction::Restrict,
                ))
                .take(),
        )
        .await?;
    for stmt in [
        index(
            "appointments_operation_op_room_id_start_time_idx",
            Operation::Table,
            [Operation::OpRoomId, Operation::StartTime],
        ),
        index(
            "appointments_operation_primary_surgeon_id_start_time_idx",
            Operation::Table,
            [Operation::PrimarySurgeonId, Operation::StartTime],
        ),
        index(
            "appointments_operation_assistant_id_start_time_idx",
            Operation::Table,
            [Operation::AssistantId, Operation::StartTime],
        ),
        index(
            "appointments_operation_anesthesist_id_start_time_idx",
            Operation::Table,
            [Operation::AnesthesistId, Operation::StartTime],
        ),
        index(
            "appointments_operation_patient_id_start_time_idx",
            Operation::Table,
            [Operation::PatientId, Operation::StartTime],
        ),
        index(
            "appointments_operation_start_time_idx",
            Operation::Table,
            [Operation::StartTime],
        ),
        index(
            "appointments_operation_op_type_id_idx",
            Operation::Table,
            [Operation::OpTypeId],
        ),
    ] {
        manager.create_index(stmt).await?;
    }

    manager
        .create_table(
            Table::create()
                .table(OperationDevice::Table)
                .col(pk_bigint(OperationDevice::Id))
                .col(bigint(OperationDevice::OperationId))
                .col(bigint(OperationDevice::ResourceId))
                // Constant 'device', see `op_room_type` above.
                .col(varchar_default(OperationDevice::ResourceType, 20, "device"))
                .check(check(
                    "appointments_operationdevice_resource_type_check",
                    Expr::col(OperationDevice::ResourceType).eq("device"),
                ))
                .foreign_key(&mut fk(
                    "appointments_operationdevice_operation_id_fkey",
                    OperationDevice::Table,
                    OperationDevice::OperationId,
                    Operation::Table,
                    Operation::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "appointments_operationdevice_resource_fkey",
                    OperationDevice::Table,
                    (OperationDevice::ResourceId, OperationDevice::ResourceType),
                    Resource::Table,
                    (Resource::Id, Resource::Type),
                    ForeignKeyAction::Restrict,
                ))
                .take(),
        )
        .await?;
    manager
        .create_index(unique_index(
            "appointments_operationdevice_operation_id_resource_id_key",
            OperationDevice::Table,
            [OperationDevice::OperationId, OperationDevice::ResourceId],
        ))
        .await?;
    manager
        .create_index(index(
            "appointments_operationdevice_resource_id_idx",
            OperationDevice::Table,
            [OperationDevice::ResourceId],
        ))
        .await?;
    Ok(())
}
