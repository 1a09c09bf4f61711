//! `appointments_resource`: Bookable room or device. Soft-deleted with `active = false`: referenced rows cannot be deleted.

use sea_orm::entity::prelude::*;

/// A row of `appointments_resource`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_resource")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// `room` or `device`.
    pub r#type: String,
    pub color: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::appointment_resource::Entity")]
    AppointmentResource,
    #[sea_orm(has_many = "super::operation_device::Entity")]
    OperationDevice,
    #[sea_orm(has_many = "super::operation::Entity")]
    OperationAsRoom,
}

impl Related<super::appointment_resource::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AppointmentResource.def()
    }
}

impl Related<super::operation_device::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OperationDevice.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
