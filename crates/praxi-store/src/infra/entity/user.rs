//! `core_user`: Staff account. Users are deactivated, never hard-deleted.

use sea_orm::entity::prelude::*;

/// A row of `core_user`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "core_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Argon2 PHC string (or an imported Django hash).
    pub password: String,
    pub last_login: Option<DateTimeUtc>,
    pub is_superuser: bool,
    #[sea_orm(unique)]
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: DateTimeUtc,
    /// NULL when the user has no e-mail (unique when set).
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub role_id: Option<i64>,
    /// `#RRGGBB` colour of the doctor in calendars.
    pub calendar_color: String,
    pub vacation_days_per_year: i32,
    /// Bumped to revoke every access token of the user.
    pub token_version: i32,
}

/// Foreign keys of this table and the tables referencing it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::role::Entity",
        from = "Column::RoleId",
        to = "super::role::Column::Id",
        on_delete = "Restrict"
    )]
    Role,
    #[sea_orm(has_many = "super::audit_log::Entity")]
    AuditLog,
    #[sea_orm(has_many = "super::doctor_hours::Entity")]
    DoctorHours,
    #[sea_orm(has_many = "super::doctor_absence::Entity")]
    DoctorAbsence,
    #[sea_orm(has_many = "super::doctor_break::Entity")]
    DoctorBreak,
    #[sea_orm(has_many = "super::appointment::Entity")]
    Appointment,
    #[sea_orm(has_many = "super::outstanding_token::Entity")]
    OutstandingToken,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_many = "super::user_groups::Entity")]
    UserGroups,
    #[sea_orm(has_many = "super::user_user_permissions::Entity")]
    UserUserPermissions,
}

impl Related<super::role::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Role.def()
    }
}

impl Related<super::audit_log::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuditLog.def()
    }
}

impl Related<super::doctor_hours::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DoctorHours.def()
    }
}

impl Related<super::doctor_absence::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DoctorAbsence.def()
    }
}

impl Related<super::doctor_break::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DoctorBreak.def()
    }
}

impl Related<super::appointment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Appointment.def()
    }
}

impl Related<super::outstanding_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OutstandingToken.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::user_groups::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserGroups.def()
    }
}

impl Related<super::user_user_permissions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserUserPermissions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
