//! `appointments_patientflow`: Waiting-room / treatment progress of one visit: linked to exactly one appointment or operation.

use sea_orm::entity::prelude::*;

/// A row of `appointments_patientflow`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_patientflow")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub appointment_id: Option<i32>,
    pub operation_id: Option<i64>,
    /// `registered`, `waiting`, `preparing`, `in_treatment`, `post_treatment` or `done`.
    pub status: String,
    pub arrival_time: Option<DateTimeUtc>,
    pub status_changed_at: DateTimeUtc,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::appointment::Entity",
        from = "Column::AppointmentId",
        to = "super::appointment::Column::Id",
        on_delete = "Cascade"
    )]
    Appointment,
    #[sea_orm(
        belongs_to = "super::operation::Entity",
        from = "Column::OperationId",
        to = "super::operation::Column::Id",
        on_delete = "Cascade"
    )]
    Operation,
    #[sea_orm(has_many = "super::patient_flow_event::Entity")]
    Event,
}

impl Related<super::appointment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Appointment.def()
    }
}

impl Related<super::operation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Operation.def()
    }
}

impl Related<super::patient_flow_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
