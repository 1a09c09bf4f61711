//! Reads for the statistics and KPIs of [`praxi_domain::kpi`]: plain rows, loaded with a fixed
//! number of set-based statements per request whatever the number of rows, days or doctors
//! (`op-stats`: 2; each KPI dashboard: 11). The figures themselves are computed in the domain.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::flow::FlowStatus;
use praxi_domain::kpi::{
    AppointmentFact, AppointmentStatus, OperationFact, OperationsInput, PatientHistory,
    SchedulingInput, SchedulingNeeds,
};
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::{Interval, ScheduleInput};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::appointments::ResourceInfo;
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{
    Appointment, AppointmentResource, CoreRole, CoreUser, Operation, OperationDevice, PatientFlow,
    Resource,
};
use crate::operations::{OperationFilter, OperationRecord, read_operations};
use crate::read_models::schedule::load_hours;

/// A doctor as the KPIs show them (the API's Person shape).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DoctorInfo {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub calendar_color: String,
}

impl DoctorInfo {
    /// "First Last", falling back to the username (as for every Person).
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let full = full.trim();
        if full.is_empty() {
            self.username.clone()
        } else {
            full.to_owned()
        }
    }
}

/// The scheduling KPI rows plus what their rendering needs.
#[derive(Debug, Clone)]
pub struct SchedulingData {
    pub input: SchedulingInput,
    /// The doctors of `input.doctors`, by id.
    pub doctors: Vec<DoctorInfo>,
    /// The rooms of `input.rooms`, by id.
    pub rooms: Vec<ResourceInfo>,
}

/// The operations KPI rows plus what their rendering needs.
#[derive(Debug, Clone)]
pub struct OperationsData {
    pub input: OperationsInput,
    /// The rooms and devices of `input.resources`, by id.
    pub resources: Vec<ResourceInfo>,
}

/// Whose rows the KPIs see: everything, or one doctor's own (their appointments, the
/// operations they are in the team of, their hours, absences and breaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KpiScope {
    #[default]
    Practice,
    Doctor(i64),
}

impl KpiScope {
    fn doctor(self) -> Option<i64> {
        match self {
            KpiScope::Practice => None,
            KpiScope::Doctor(id) => Some(id),
        }
    }
}

async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    conn: &C,
    select: &SelectStatement,
) -> Result<Vec<T>, StoreError> {
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| T::from_query_result(row, "").map_err(StoreError::from))
        .collect()
}

fn col<T: sea_orm::sea_query::IntoIden + Copy + 'static>(
    table: T,
    column: T,
) -> sea_orm::sea_query::Expr {
    Expr::col((table, column))
}

// ---- op-stats -----------------------------------------------------------------------------

/// Operations overlapping `period` in every status, with their devices (two statements);
/// `team_member` restricts to the operations a doctor is in the team of.
pub async fn op_stats_operations<C: ConnectionTrait>(
    conn: &C,
    period: Interval,
    team_member: Option<i64>,
) -> Result<Vec<OperationRecord>, StoreError> {
    let filter = OperationFilter {
        period: Some(period),
        team_member,
        ..OperationFilter::default()
    };
    read_operations(conn, &filter).await
}

/// The KPI fact of an operation record.
pub fn operation_fact(record: &OperationRecord) -> OperationFact {
    OperationFact {
        id: record.id,
        op_type: record.op_type.id,
        room: record.room.id,
        devices: record.devices.iter().map(|device| device.id).collect(),
        primary_surgeon: record.primary_surgeon.id,
        assistant: record.assistant.as_ref().map(|member| member.id),
        anesthesist: record.anesthesist.as_ref().map(|member| member.id),
        start: record.start_time,
        end: record.end_time,
        status: record.status(),
    }
}

// ---- appointments and operations ----------------------------------------------------------

#[derive(FromQueryResult)]
struct AppointmentRow {
    id: i32,
    doctor_id: i64,
    patient_id: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    status: String,
    is_no_show: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct AppointmentLinkRow {
    appointment_id: i32,
    resource_id: i64,
}

/// `start < period.end AND end > period.start` on the appointment table.
fn appointment_overlaps(period: &Interval) -> Cond {
    Cond::all()
        .add(col(Appointment::Table, Appointment::StartTime).lt(period.end()))
        .add(col(Appointment::Table, Appointment::EndTime).gt(period.start()))
        .add(
            col(Appointment::Table, Appointment::StartTime)
                .gt(crate::schedule::earliest_overlapping_start(period.start())),
        )
}

/// Appointments matching `cond` (and the scope) with their resource links: two statements.
async fn appointment_facts<C: ConnectionTrait>(
    conn: &C,
    cond: Cond,
    scope: KpiScope,
) -> Result<Vec<AppointmentFact>, StoreError> {
    let a = Appointment::Table;
    let mut select = Query::select()
        .columns([
            (a, Appointment::Id),
            (a, Appointment::DoctorId),
            (a, Appointment::PatientId),
            (a, Appointment::StartTime),
            (a, Appointment::EndTime),
            (a, Appointment::Status),
            (a, Appointment::IsNoShow),
            (a, Appointment::CreatedAt),
            (a, Appointment::UpdatedAt),
        ])
        .from(a)
        .cond_where(cond.clone())
        .order_by((a, Appointment::StartTime), Order::Asc)
        .order_by((a, Appointment::Id), Order::Asc)
        .to_owned();
    let mut links = Query::select()
        .column((
            AppointmentResource::Table,
            AppointmentResource::AppointmentId,
        ))
        .column((AppointmentResource::Table, AppointmentResource::ResourceId))
        .from(AppointmentResource::Table)
        .inner_join(
            a,
            col(a, Appointment::Id).equals((
                AppointmentResource::Table,
                AppointmentResource::AppointmentId,
            )),
        )
        .cond_where(cond)
        .to_owned();
    if let Some(doctor) = scope.doctor() {
        select.and_where(col(a, Appointment::DoctorId).eq(doctor));
        links.and_where(col(a, Appointment::DoctorId).eq(doctor));
    }
    let appointments: Vec<AppointmentRow> = rows(conn, &select).await?;
    let mut resources: HashMap<i32, Vec<i64>> = HashMap::new();
    for link in rows::<AppointmentLinkRow, _>(conn, &links).await? {
        resources
            .entry(link.appointment_id)
            .or_default()
            .push(link.resource_id);
    }
    Ok(appointments
        .into_iter()
        .filter_map(|row| {
            Some(AppointmentFact {
                status: AppointmentStatus::parse(&row.status)?,
                resources: resources.remove(&row.id).unwrap_or_default(),
                id: row.id,
                doctor: row.doctor_id,
                patient: row.patient_id,
                start: row.start_time,
                end: row.end_time,
                is_no_show: row.is_no_show,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect())
}

#[derive(FromQueryResult)]
struct OperationRow {
    id: i64,
    op_type_id: i64,
    op_room_id: i64,
    primary_surgeon_id: i64,
    assistant_id: Option<i64>,
    anesthesist_id: Option<i64>,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    status: String,
}

#[derive(FromQueryResult)]
struct DeviceLinkRow {
    operation_id: i64,
    resource_id: i64,
}

/// Operations overlapping `period` (and in the scope's team) with their devices: two
/// statements.
async fn operation_facts<C: ConnectionTrait>(
    conn: &C,
    period: &Interval,
    scope: KpiScope,
) -> Result<Vec<OperationFact>, StoreError> {
    let o = Operation::Table;
    let mut cond = Cond::all()
        .add(col(o, Operation::StartTime).lt(period.end()))
        .add(col(o, Operation::EndTime).gt(period.start()))
        .add(
            col(o, Operation::StartTime)
                .gt(crate::schedule::earliest_overlapping_start(period.start())),
        );
    if let Some(doctor) = scope.doctor() {
        cond = cond.add(
            Cond::any()
                .add(col(o, Operation::PrimarySurgeonId).eq(doctor))
                .add(col(o, Operation::AssistantId).eq(doctor))
                .add(col(o, Operation::AnesthesistId).eq(doctor)),
        );
    }
    let select = Query::select()
        .columns([
            (o, Operation::Id),
            (o, Operation::OpTypeId),
            (o, Operation::OpRoomId),
            (o, Operation::PrimarySurgeonId),
            (o, Operation::AssistantId),
            (o, Operation::AnesthesistId),
            (o, Operation::StartTime),
            (o, Operation::EndTime),
            (o, Operation::Status),
        ])
        .from(o)
        .cond_where(cond.clone())
        .order_by((o, Operation::StartTime), Order::Asc)
        .order_by((o, Operation::Id), Order::Asc)
        .to_owned();
    let operations: Vec<OperationRow> = rows(conn, &select).await?;
    let links = Query::select()
        .column((OperationDevice::Table, OperationDevice::OperationId))
        .column((OperationDevice::Table, OperationDevice::ResourceId))
        .from(OperationDevice::Table)
        .inner_join(
            o,
            col(o, Operation::Id).equals((OperationDevice::Table, OperationDevice::OperationId)),
        )
        .cond_where(cond)
        .to_owned();
    let mut devices: HashMap<i64, Vec<i64>> = HashMap::new();
    for link in rows::<DeviceLinkRow, _>(conn, &links).await? {
        devices
            .entry(link.operation_id)
            .or_default()
            .push(link.resource_id);
    }
    Ok(operations
        .into_iter()
        .filter_map(|row| {
            Some(OperationFact {
                status: OperationStatus::parse(&row.status)?,
                devices: devices.remove(&row.id).unwrap_or_default(),
                id: row.id,
                op_type: row.op_type_id,
                room: row.op_room_id,
                primary_surgeon: row.primary_surgeon_id,
                assistant: row.assistant_id,
                anesthesist: row.anesthesist_id,
                start: row.start_time,
                end: row.end_time,
            })
        })
        .collect())
}

// ---- hours model, doctors, resources ------------------------------------------------------

/// The hours model of the local dates of `period` (no bookings), of the scope's doctor.
async fn hours_model<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    period: &Interval,
    scope: KpiScope,
) -> Result<ScheduleInput, StoreError> {
    let doctor = scope.doctor().map(|doctor| [doctor]);
    load_hours(conn, tz, period, doctor.as_ref().map(|d| d.as_slice())).await
}

/// Active users with the doctor role (only the asking doctor in a doctor's scope), by id.
async fn active_doctors<C: ConnectionTrait>(
    conn: &C,
    scope: KpiScope,
) -> Result<Vec<DoctorInfo>, StoreError> {
    let u = CoreUser::Table;
    let mut select = Query::select()
        .columns([
            (u, CoreUser::Id),
            (u, CoreUser::Username),
            (u, CoreUser::FirstName),
            (u, CoreUser::LastName),
            (u, CoreUser::CalendarColor),
        ])
        .from(u)
        .inner_join(
            CoreRole::Table,
            col(CoreRole::Table, CoreRole::Id).equals((u, CoreUser::RoleId)),
        )
        .and_where(col(CoreRole::Table, CoreRole::Name).eq(Role::Doctor.name()))
        .and_where(col(u, CoreUser::IsActive).eq(true))
        .order_by((u, CoreUser::Id), Order::Asc)
        .to_owned();
    if let Some(doctor) = scope.doctor() {
        select.and_where(col(u, CoreUser::Id).eq(doctor));
    }
    rows(conn, &select).await
}

/// Active resources, optionally of one type, by id.
async fn active_resources<C: ConnectionTrait>(
    conn: &C,
    kind: Option<&str>,
) -> Result<Vec<ResourceInfo>, StoreError> {
    let mut select = Query::select()
        .columns([
            Resource::Id,
            Resource::Name,
            Resource::Type,
            Resource::Color,
            Resource::Active,
            Resource::CreatedAt,
            Resource::UpdatedAt,
        ])
        .from(Resource::Table)
        .and_where(Expr::col(Resource::Active).eq(true))
        .order_by(Resource::Id, Order::Asc)
        .to_owned();
    if let Some(kind) = kind {
        select.and_where(Expr::col(Resource::Type).eq(kind));
    }
    rows(conn, &select).await
}

#[derive(FromQueryResult)]
struct HistoryRow {
    patient_id: i32,
    first_start: Option<DateTime<Utc>>,
    last_created: Option<DateTime<Utc>>,
}

/// For every patient with an appointment starting in `window` (any status): the first-ever
/// non-cancelled start and the latest booking of a non-cancelled appointment. One aggregate
/// statement (never one per appointment or patient).
async fn patient_histories<C: ConnectionTrait>(
    conn: &C,
    window: &Interval,
    scope: KpiScope,
) -> Result<Vec<PatientHistory>, StoreError> {
    let a = Appointment::Table;
    let mut patients = Query::select()
        .column((a, Appointment::PatientId))
        .from(a)
        .and_where(col(a, Appointment::StartTime).gte(window.start()))
        .and_where(col(a, Appointment::StartTime).lt(window.end()))
        .to_owned();
    let mut select = Query::select()
        .column((a, Appointment::PatientId))
        .expr_as(
            Func::min(col(a, Appointment::StartTime)),
            Alias::new("first_start"),
        )
        .expr_as(
            Func::max(col(a, Appointment::CreatedAt)),
            Alias::new("last_created"),
        )
        .from(a)
        .and_where(col(a, Appointment::Status).ne(AppointmentStatus::Cancelled.as_str()))
        .group_by_col((a, Appointment::PatientId))
        .to_owned();
    if let Some(doctor) = scope.doctor() {
        patients.and_where(col(a, Appointment::DoctorId).eq(doctor));
        select.and_where(col(a, Appointment::DoctorId).eq(doctor));
    }
    select.and_where(col(a, Appointment::PatientId).in_subquery(patients));
    Ok(rows::<HistoryRow, _>(conn, &select)
        .await?
        .into_iter()
        .map(|row| PatientHistory {
            patient: row.patient_id,
            first_start: row.first_start,
            last_created: row.last_created,
        })
        .collect())
}

#[derive(FromQueryResult)]
struct FlowRow {
    status: String,
}

/// Statuses of the patient flows whose appointment or operation starts in `day`: one
/// statement.
async fn flow_statuses<C: ConnectionTrait>(
    conn: &C,
    day: &Interval,
    scope: KpiScope,
) -> Result<Vec<FlowStatus>, StoreError> {
    let (f, a, o) = (PatientFlow::Table, Appointment::Table, Operation::Table);
    let mut appointment_side = Cond::all()
        .add(col(a, Appointment::StartTime).gte(day.start()))
        .add(col(a, Appointment::StartTime).lt(day.end()));
    let mut operation_side = Cond::all()
        .add(col(o, Operation::StartTime).gte(day.start()))
        .add(col(o, Operation::StartTime).lt(day.end()));
    if let Some(doctor) = scope.doctor() {
        appointment_side = appointment_side.add(col(a, Appointment::DoctorId).eq(doctor));
        operation_side = operation_side.add(
            Cond::any()
                .add(col(o, Operation::PrimarySurgeonId).eq(doctor))
                .add(col(o, Operation::AssistantId).eq(doctor))
                .add(col(o, Operation::AnesthesistId).eq(doctor)),
        );
    }
    let select = Query::select()
        .column((f, PatientFlow::Status))
        .from(f)
        .left_join(
            a,
            col(a, Appointment::Id).equals((f, PatientFlow::AppointmentId)),
        )
        .left_join(
            o,
            col(o, Operation::Id).equals((f, PatientFlow::OperationId)),
        )
        .cond_where(Cond::any().add(appointment_side).add(operation_side))
        .to_owned();
    Ok(rows::<FlowRow, _>(conn, &select)
        .await?
        .iter()
        .filter_map(|row| FlowStatus::parse(&row.status))
        .collect())
}

// ---- the two dashboards -------------------------------------------------------------------

/// Everything the scheduling KPIs read (11 statements): appointments of `needs.bookings` or
/// created in `needs.created` (+ resource links), operations of `needs.capacity` (+ devices),
/// the hours model of `needs.capacity`, active doctors, active rooms, patient histories.
pub async fn scheduling_data<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    needs: &SchedulingNeeds,
    scope: KpiScope,
) -> Result<SchedulingData, StoreError> {
    let a = Appointment::Table;
    let bookings = Cond::any().add(appointment_overlaps(&needs.bookings)).add(
        Cond::all()
            .add(col(a, Appointment::CreatedAt).gte(needs.created.start()))
            .add(col(a, Appointment::CreatedAt).lt(needs.created.end())),
    );
    let appointments = appointment_facts(conn, bookings, scope).await?;
    let operations = operation_facts(conn, &needs.capacity, scope).await?;
    let calendar = hours_model(conn, tz, &needs.capacity, scope).await?;
    let doctors = active_doctors(conn, scope).await?;
    let rooms = active_resources(conn, Some("room")).await?;
    let histories = patient_histories(conn, &needs.patients, scope).await?;
    Ok(SchedulingData {
        input: SchedulingInput {
            appointments,
            operations,
            histories,
            calendar,
            doctors: doctors.iter().map(|doctor| doctor.id).collect(),
            rooms: rooms.iter().map(|room| room.id).collect(),
        },
        doctors,
        rooms,
    })
}

/// Everything the operations KPIs read (11 statements): appointments and operations of
/// `window` (+ links), its hours model, active doctors, active rooms and devices, and the
/// patient flows of `day`.
pub async fn operations_data<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    window: &Interval,
    day: &Interval,
    scope: KpiScope,
) -> Result<OperationsData, StoreError> {
    let appointments = appointment_facts(conn, appointment_overlaps(window), scope).await?;
    let operations = operation_facts(conn, window, scope).await?;
    let calendar = hours_model(conn, tz, window, scope).await?;
    let doctors = active_doctors(conn, scope).await?;
    let resources = active_resources(conn, None).await?;
    let flows = flow_statuses(conn, day, scope).await?;
    Ok(OperationsData {
        input: OperationsInput {
            appointments,
            operations,
            calendar,
            doctors: doctors.iter().map(|doctor| doctor.id).collect(),
            resources: resources.iter().map(|resource| resource.id).collect(),
            flows,
        },
        resources,
    })
}

impl Store {
    /// See [`op_stats_operations`].
    pub async fn op_stats_operations(
        &self,
        period: Interval,
        team_member: Option<i64>,
    ) -> Result<Vec<OperationRecord>, StoreError> {
        op_stats_operations(self.conn(), period, team_member).await
    }

    /// See [`scheduling_data`].
    pub async fn scheduling_kpi_data(
        &self,
        tz: Tz,
        needs: &SchedulingNeeds,
        scope: KpiScope,
    ) -> Result<SchedulingData, StoreError> {
        scheduling_data(self.conn(), tz, needs, scope).await
    }

    /// See [`operations_data`].
    pub async fn operations_kpi_data(
        &self,
        tz: Tz,
        window: &Interval,
        day: &Interval,
        scope: KpiScope,
    ) -> Result<OperationsData, StoreError> {
        operations_data(self.conn(), tz, window, day, scope).await
    }
}
