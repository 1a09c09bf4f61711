//! `appointments_operation`: Surgery occupying an OP room for prep + op + post time.

use sea_orm::entity::prelude::*;

/// A row of `appointments_operation`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_operation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patient_id: i32,
    pub primary_surgeon_id: i64,
    pub assistant_id: Option<i64>,
    pub anesthesist_id: Option<i64>,
    pub op_room_id: i64,
    /// Always `room` (database default); part of the composite foreign key that makes the
    /// database refuse a device as OP room.
    pub op_room_type: String,
    pub op_type_id: i64,
    pub start_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    /// Snapshot of the type's preparation minutes at write time.
    pub prep_duration: i32,
    /// Snapshot of the type's surgery minutes at write time.
    pub op_duration: i32,
    /// Snapshot of the type's post-processing minutes at write time.
    pub post_duration: i32,
    /// `planned`, `confirmed`, `running`, `done` or `cancelled`.
    pub status: String,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::patient::Entity",
        from = "Column::PatientId",
        to = "super::patient::Column::Id",
        on_delete = "Restrict"
    )]
    Patient,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::PrimarySurgeonId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    PrimarySurgeon,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AssistantId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Assistant,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AnesthesistId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Anesthesist,
    #[sea_orm(
        belongs_to = "super::resource::Entity",
        from = "Column::OpRoomId",
        to = "super::resource::Column::Id",
        on_delete = "Restrict"
    )]
    OpRoom,
    #[sea_orm(
        belongs_to = "super::operation_type::Entity",
        from = "Column::OpTypeId",
        to = "super::operation_type::Column::Id",
        on_delete = "Restrict"
    )]
    OperationType,
    #[sea_orm(has_many = "super::operation_device::Entity")]
    OperationDevice,
    #[sea_orm(has_many = "super::patient_flow::Entity")]
    PatientFlow,
    #[sea_orm(has_many = "super::operation_status_event::Entity")]
    StatusEvent,
}

impl Related<super::patient::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patient.def()
    }
}

impl Related<super::resource::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OpRoom.def()
    }
}

impl Related<super::operation_type::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OperationType.def()
    }
}

impl Related<super::operation_device::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OperationDevice.def()
    }
}

impl Related<super::patient_flow::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PatientFlow.def()
    }
}

impl Related<super::operation_status_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::StatusEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
