//! `appointments_doctorhours`: Recurring weekly availability of a doctor.

use sea_orm::entity::prelude::*;

/// A row of `appointments_doctorhours`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_doctorhours")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doctor_id: i64,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i32,
    pub start_time: Time,
    pub end_time: Time,
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
