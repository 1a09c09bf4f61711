//! `patients`: Patient master data. `id` is the legacy patient number.

use sea_orm::entity::prelude::*;

/// A row of `patients`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patients")]
pub struct Model {
    /// Legacy patient number (positive); supplied, not generated.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<Date>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// NULL only for imported legacy rows.
    pub created_at: Option<DateTimeUtc>,
    /// NULL only for imported legacy rows.
    pub updated_at: Option<DateTimeUtc>,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::appointment::Entity")]
    Appointment,
    #[sea_orm(has_many = "super::operation::Entity")]
    Operation,
    #[sea_orm(has_many = "super::patient_document::Entity")]
    Document,
    #[sea_orm(has_many = "super::patient_note::Entity")]
    Note,
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

impl Related<super::patient_document::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Document.def()
    }
}

impl Related<super::patient_note::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Note.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
