//! Table and column names shared by all migrations.
//!
//! The names are those of the original Django schema (`core_user`, `appointments_appointment`,
//! `patients`, ...) so that data exported from the original can be imported unchanged. The
//! `Table` variant of each enum carries the table name explicitly; every other variant maps to
//! its snake_case column name.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden, Clone, Copy)]
pub enum CoreRole {
    #[sea_orm(iden = "core_role")]
    Table,
    Id,
    Name,
    Label,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum CoreUser {
    #[sea_orm(iden = "core_user")]
    Table,
    Id,
    Password,
    LastLogin,
    IsSuperuser,
    Username,
    FirstName,
    LastName,
    IsStaff,
    IsActive,
    DateJoined,
    Email,
    RoleId,
    CalendarColor,
    VacationDaysPerYear,
    TokenVersion,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AuthGroup {
    #[sea_orm(iden = "auth_group")]
    Table,
    Id,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AuthPermission {
    #[sea_orm(iden = "auth_permission")]
    Table,
    Id,
    Name,
    Codename,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum CoreUserGroups {
    #[sea_orm(iden = "core_user_groups")]
    Table,
    Id,
    UserId,
    GroupId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum CoreUserUserPermissions {
    #[sea_orm(iden = "core_user_user_permissions")]
    Table,
    Id,
    UserId,
    PermissionId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum CoreAuditlog {
    #[sea_orm(iden = "core_auditlog")]
    Table,
    Id,
    UserId,
    Username,
    RoleName,
    Action,
    PatientId,
    Timestamp,
    Meta,
    RequestId,
    PrevHash,
    Hash,
}

/// The patients each audit row showed or touched (m0012).
#[derive(DeriveIden, Clone, Copy)]
pub enum CoreAuditlogSubject {
    #[sea_orm(iden = "core_auditlog_subject")]
    Table,
    AuditId,
    PatientId,
}

/// The audit log's hash-chain head, one row (m0012).
#[derive(DeriveIden, Clone, Copy)]
pub enum CoreAuditlogChain {
    #[sea_orm(iden = "core_auditlog_chain")]
    Table,
    Id,
    LegacyUntil,
    LastId,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Patients {
    #[sea_orm(iden = "patients")]
    Table,
    Id,
    FirstName,
    LastName,
    BirthDate,
    Gender,
    Phone,
    Email,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PatientDocuments {
    #[sea_orm(iden = "patient_documents")]
    Table,
    Id,
    PatientId,
    Title,
    DocType,
    File,
    Note,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PatientNotes {
    #[sea_orm(iden = "patient_notes")]
    Table,
    Id,
    PatientId,
    AuthorName,
    AuthorRole,
    Content,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AppointmentType {
    #[sea_orm(iden = "appointments_appointmenttype")]
    Table,
    Id,
    Name,
    Color,
    DurationMinutes,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PracticeHours {
    #[sea_orm(iden = "appointments_practicehours")]
    Table,
    Id,
    Weekday,
    StartTime,
    EndTime,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum DoctorHours {
    #[sea_orm(iden = "appointments_doctorhours")]
    Table,
    Id,
    DoctorId,
    Weekday,
    StartTime,
    EndTime,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum DoctorAbsence {
    #[sea_orm(iden = "appointments_doctorabsence")]
    Table,
    Id,
    DoctorId,
    StartDate,
    EndDate,
    Reason,
    DurationWorkdays,
    RemainingDays,
    ReturnDate,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum DoctorBreak {
    #[sea_orm(iden = "appointments_doctorbreak")]
    Table,
    Id,
    DoctorId,
    Date,
    StartTime,
    EndTime,
    Reason,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Resource {
    #[sea_orm(iden = "appointments_resource")]
    Table,
    Id,
    Name,
    Type,
    Color,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OperationType {
    #[sea_orm(iden = "appointments_operationtype")]
    Table,
    Id,
    Name,
    PrepDuration,
    OpDuration,
    PostDuration,
    Color,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Appointment {
    #[sea_orm(iden = "appointments_appointment")]
    Table,
    Id,
    PatientId,
    TypeId,
    DoctorId,
    StartTime,
    EndTime,
    Status,
    IsNoShow,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AppointmentResource {
    #[sea_orm(iden = "appointments_appointmentresource")]
    Table,
    Id,
    AppointmentId,
    ResourceId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Operation {
    #[sea_orm(iden = "appointments_operation")]
    Table,
    Id,
    PatientId,
    PrimarySurgeonId,
    AssistantId,
    AnesthesistId,
    OpRoomId,
    OpRoomType,
    OpTypeId,
    StartTime,
    EndTime,
    PrepDuration,
    OpDuration,
    PostDuration,
    Status,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OperationDevice {
    #[sea_orm(iden = "appointments_operationdevice")]
    Table,
    Id,
    OperationId,
    ResourceId,
    ResourceType,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PatientFlow {
    #[sea_orm(iden = "appointments_patientflow")]
    Table,
    Id,
    AppointmentId,
    OperationId,
    Status,
    ArrivalTime,
    StatusChangedAt,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PatientFlowEvent {
    #[sea_orm(iden = "appointments_patientflowevent")]
    Table,
    Id,
    FlowId,
    FromStatus,
    ToStatus,
    At,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OperationStatusEvent {
    #[sea_orm(iden = "appointments_operationstatusevent")]
    Table,
    Id,
    OperationId,
    FromStatus,
    ToStatus,
    At,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OutstandingToken {
    #[sea_orm(iden = "token_blacklist_outstandingtoken")]
    Table,
    Id,
    UserId,
    Jti,
    Family,
    CreatedAt,
    ExpiresAt,
    /// The access token issued together with this refresh token (m0009).
    AccessJti,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum BlacklistedToken {
    #[sea_orm(iden = "token_blacklist_blacklistedtoken")]
    Table,
    Id,
    TokenId,
    BlacklistedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PraxiSession {
    #[sea_orm(iden = "praxi_session")]
    Table,
    SessionKey,
    UserId,
    CsrfToken,
    CreatedAt,
    ExpireDate,
    Data,
}
