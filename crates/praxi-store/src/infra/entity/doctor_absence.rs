//! `appointments_doctorabsence`: Whole-day absence of a doctor, `[start_date, end_date]` inclusive.

use sea_orm::entity::prelude::*;

/// A row of `appointments_doctorabsence`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_doctorabsence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doctor_id: i64,
    pub start_date: Date,
    pub end_date: Date,
    pub reason: Option<String>,
    pub duration_workdays: Option<i32>,
    pub remaining_days: Option<i32>,
    pub return_date: Option<Date>,
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
