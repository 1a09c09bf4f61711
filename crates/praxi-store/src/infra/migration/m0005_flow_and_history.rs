//! Patient flow (waiting room / treatment progress) and the status histories of flows and
//! operations (§15 item 25: durations come from these tables, not from the audit log).

use sea_orm_migration::prelude::*;

use super::helpers::*;
use super::idens::{
    Appointment, CoreUser, Operation, OperationStatusEvent, PatientFlow, PatientFlowEvent,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const FLOW_STATUSES: [&str; 6] = [
    "registered",
    "waiting",
    "preparing",
    "in_treatment",
    "post_treatment",
    "done",
];
const OPERATION_STATUSES: [&str; 5] = ["planned", "confirmed", "running", "done", "cancelled"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PatientFlow::Table)
                    .col(pk_bigint(PatientFlow::Id))
                    .col(integer_null(PatientFlow::AppointmentId))
                    .col(bigint_null(PatientFlow::OperationId))
                    .col(varchar_default(PatientFlow::Status, 32, "registered"))
                    .col(timestamptz_null(PatientFlow::ArrivalTime))
                    .col(timestamptz_now(PatientFlow::StatusChangedAt))
                    .col(text_null(PatientFlow::Notes))
                    .col(timestamptz_now(PatientFlow::CreatedAt))
                    // Exactly one of appointment/operation (§15 item 7).
                    .check(check(
                        "appointments_patientflow_exactly_one_link",
                        Expr::cust(r#"("appointment_id" IS NULL) <> ("operation_id" IS NULL)"#),
                    ))
                    .check(check(
                        "appointments_patientflow_status_check",
                        Expr::col(PatientFlow::Status).is_in(FLOW_STATUSES),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_patientflow_appointment_id_fkey",
                        PatientFlow::Table,
                        PatientFlow::AppointmentId,
                        Appointment::Table,
                        Appointment::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "appointments_patientflow_operation_id_fkey",
                        PatientFlow::Table,
                        PatientFlow::OperationId,
                        Operation::Table,
                        Operation::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        let mut live_board = index(
            "appointments_patientflow_live_idx",
            PatientFlow::Table,
            [PatientFlow::StatusChangedAt],
        );
        // Partial index for the live board (`status <> 'done'`). SQLite supports partial
        // indexes as well, so both backends share this statement.
        live_board.and_where(Expr::col(PatientFlow::Status).ne("done"));
        for stmt in [
            index(
                "appointments_patientflow_status_status_changed_at_idx",
                PatientFlow::Table,
                [PatientFlow::Status, PatientFlow::StatusChangedAt],
            ),
            index(
                "appointments_patientflow_appointment_id_idx",
                PatientFlow::Table,
                [PatientFlow::AppointmentId],
            ),
            index(
                "appointments_patientflow_operation_id_idx",
                PatientFlow::Table,
                [PatientFlow::OperationId],
            ),
            live_board,
        ] {
            manager.create_index(stmt).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(PatientFlowEvent::Table)
                    .col(pk_bigint(PatientFlowEvent::Id))
                    .col(bigint(PatientFlowEvent::FlowId))
                    // NULL for the initial status of a flow.
                    .col(varchar_null(PatientFlowEvent::FromStatus, 32))
                    .col(varchar(PatientFlowEvent::ToStatus, 32))
                    .col(timestamptz_now(PatientFlowEvent::At))
                    .col(bigint_null(PatientFlowEvent::UserId))
                    .check(check(
                        "appointments_patientflowevent_from_status_check",
                        Expr::col(PatientFlowEvent::FromStatus)
                            .is_null()
                            .or(Expr::col(PatientFlowEvent::FromStatus).is_in(FLOW_STATUSES)),
                    ))
                    .check(check(
                        "appointments_patientflowevent_to_status_check",
                        Expr::col(PatientFlowEvent::ToStatus).is_in(FLOW_STATUSES),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_patientflowevent_flow_id_fkey",
                        PatientFlowEvent::Table,
                        PatientFlowEvent::FlowId,
                        PatientFlow::Table,
                        PatientFlow::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "appointments_patientflowevent_user_id_fkey",
                        PatientFlowEvent::Table,
                        PatientFlowEvent::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "appointments_patientflowevent_flow_id_at_idx",
                PatientFlowEvent::Table,
                [PatientFlowEvent::FlowId, PatientFlowEvent::At],
            ))
            .await?;
        manager
            .create_index(index(
                "appointments_patientflowevent_user_id_idx",
                PatientFlowEvent::Table,
                [PatientFlowEvent::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OperationStatusEvent::Table)
                    .col(pk_bigint(OperationStatusEvent::Id))
                    .col(bigint(OperationStatusEvent::OperationId))
                    // NULL for the initial status of an operation.
                    .col(varchar_null(OperationStatusEvent::FromStatus, 20))
                    .col(varchar(OperationStatusEvent::ToStatus, 20))
                    .col(timestamptz_now(OperationStatusEvent::At))
                    .col(bigint_null(OperationStatusEvent::UserId))
                    .check(check(
                        "appointments_operationstatusevent_from_status_check",
                        Expr::col(OperationStatusEvent::FromStatus)
                            .is_null()
                            .or(Expr::col(OperationStatusEvent::FromStatus)
                                .is_in(OPERATION_STATUSES)),
                    ))
                    .check(check(
                        "appointments_operationstatusevent_to_status_check",
                        Expr::col(OperationStatusEvent::ToStatus).is_in(OPERATION_STATUSES),
                    ))
                    .foreign_key(&mut fk(
                        "appointments_operationstatusevent_operation_id_fkey",
                        OperationStatusEvent::Table,
                        OperationStatusEvent::OperationId,
                        Operation::Table,
                        Operation::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "appointments_operationstatusevent_user_id_fkey",
                        OperationStatusEvent::Table,
                        OperationStatusEvent::UserId,
                        CoreUser::Table,
                        CoreUser::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "appointments_operationstatusevent_operation_id_at_idx",
                OperationStatusEvent::Table,
                [OperationStatusEvent::OperationId, OperationStatusEvent::At],
            ))
            .await?;
        manager
            .create_index(index(
                "appointments_operationstatusevent_user_id_idx",
                OperationStatusEvent::Table,
                [OperationStatusEvent::UserId],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            drop_table(OperationStatusEvent::Table),
            drop_table(PatientFlowEvent::Table),
            drop_table(PatientFlow::Table),
        ] {
            manager.drop_table(table).await?;
        }
        Ok(())
    }
}
