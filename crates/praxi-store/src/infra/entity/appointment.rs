//! `appointments_appointment`: Consultation slot of one patient with one doctor, `[start_time, end_time)`.

use sea_orm::entity::prelude::*;

/// A row of `appointments_appointment`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_appointment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub patient_id: i32,
    pub type_id: Option<i64>,
    pub doctor_id: i64,
    pub start_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    /// `scheduled`, `confirmed`, `cancelled` or `completed`.
    pub status: String,
    pub is_no_show: bool,
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
        belongs_to = "super::appointment_type::Entity",
        from = "Column::TypeId",
        to = "super::appointment_type::Column::Id",
        on_delete = "SetNull"
    )]
    AppointmentType,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::DoctorId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Doctor,
    #[sea_orm(has_many = "super::appointment_resource::Entity")]
    AppointmentResource,
    #[sea_orm(has_many = "super::patient_flow::Entity")]
    PatientFlow,
}

impl Related<super::patient::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patient.def()
    }
}

impl Related<super::appointment_type::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AppointmentType.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Doctor.def()
    }
}

impl Related<super::appointment_resource::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AppointmentResource.def()
    }
}

impl Related<super::patient_flow::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PatientFlow.def()
    }
}

impl Related<super::resource::Entity> for Entity {
    fn to() -> RelationDef {
        super::appointment_resource::Relation::Resource.def()
    }

    fn via() -> Option<RelationDef> {
        Some(
            super::appointment_resource::Relation::Appointment
                .def()
                .rev(),
        )
    }
}

impl ActiveModelBehavior for ActiveModel {}
