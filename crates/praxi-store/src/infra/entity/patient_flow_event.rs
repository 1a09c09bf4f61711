//! `appointments_patientflowevent`: One status transition of a patient flow; wait and treatment times are computed from these.

use sea_orm::entity::prelude::*;

/// A row of `appointments_patientflowevent`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments_patientflowevent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub flow_id: i64,
    /// `None` for the initial status.
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTimeUtc,
    pub user_id: Option<i64>,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::patient_flow::Entity",
        from = "Column::FlowId",
        to = "super::patient_flow::Column::Id",
        on_delete = "Cascade"
    )]
    Flow,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "SetNull"
    )]
    User,
}

impl Related<super::patient_flow::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Flow.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
