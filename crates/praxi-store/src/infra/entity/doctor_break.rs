//! `appointments_doctorbreak`: Blocked time on one date.

use sea_orm::entity::prelude::*;

/// A row of `appointments_doctorbreak`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_doctorbreak")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `None` = practice-wide break.
    pub doctor_id: Option<i64>,
    pub date: Date,
    pub start_time: Time,
    pub end_time: Time,
    pub reason: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::DoctorId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Doctor,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Doctor.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
