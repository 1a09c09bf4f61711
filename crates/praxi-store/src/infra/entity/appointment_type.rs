//! `appointments_appointmenttype`: Configurable appointment category.

use sea_orm::entity::prelude::*;

/// A row of `appointments_appointmenttype`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_appointmenttype")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub color: Option<String>,
    /// Default duration for suggestions; `> 0` when set.
    pub duration_minutes: Option<i32>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// Minutes before an appointment of this type that keep its doctor and resources busy
    /// (`0..=120`, migration m0014).
    pub buffer_before_minutes: i32,
    /// Minutes after it (`0..=120`).
    pub buffer_after_minutes: i32,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::appointment::Entity")]
    Appointment,
}

impl Related<super::appointment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Appointment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
