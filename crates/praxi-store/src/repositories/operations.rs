//! Operations (data-model.md §5.10, §5.11): reads shaped for the API (two set-based
//! statements, whatever the number of rows), and writes that are race-free on both backends:
//! lock → load → check with the engine → write, in one transaction.
//!
//! Status changes go through [`praxi_domain::operation::check_transition`] on every write
//! path, are written with a conditional `UPDATE … WHERE status = $from` (two concurrent
//! changes cannot both pass the check, data-model.md §15 item 18) and leave a row in
//! `appointments_operationstatusevent` (from, to, at, user) in the same transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::operation::{Durations, OperationStatus, TeamIds, check_transition};
use praxi_domain::scheduling::{
    Interval, OperationId, OperationRequest, PatientId, ResourceId, Schedule,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::appointments::{ResourceInfo, ScheduleCheck, linked_resources};
use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::{DbFailure, StoreError};
use crate::locks::{LockKey, lock};
use crate::migration::idens::{
    CoreUser, Operation, OperationDevice, OperationStatusEvent, OperationType, Patients, Resource,
};
use crate::schedule::{ScheduleScope, load_schedule};

/// The model name the API reports (`No Operation matches the given query.`).
pub const OPERATION: &str = "Operation";

/// The message of a status change that lost a race (the row's status changed in between).
pub const STALE_STATUS: &str =
    "The status was changed in the meantime; reload the operation and try again.";

/// The operation type as embedded in an operation (its current row).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationTypeInfo {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub prep_duration: i32,
    pub op_duration: i32,
    pub post_duration: i32,
}

/// A team member as embedded (the API's Person shape needs name and colour).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamMember {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub calendar_color: String,
}

impl TeamMember {
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

/// An operation with everything its read shape needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRecord {
    pub id: i64,
    pub patient_id: i32,
    pub patient_first_name: String,
    pub patient_last_name: String,
    pub patient_birth_date: Option<NaiveDate>,
    pub op_type: OperationTypeInfo,
    /// The duration snapshot stored on the operation (all zero for legacy rows).
    pub durations: Durations,
    pub room: ResourceInfo,
    /// Devices in id order.
    pub devices: Vec<ResourceInfo>,
    pub primary_surgeon: TeamMember,
    pub assistant: Option<TeamMember>,
    pub anesthesist: Option<TeamMember>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// The stored status (one of [`OperationStatus`]; the schema's CHECK guarantees it).
    pub status: String,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OperationRecord {
    /// The team as ids.
    pub fn team_ids(&self) -> TeamIds {
        TeamIds {
            primary_surgeon: self.primary_surgeon.id,
            assistant: self.assistant.as_ref().map(|m| m.id),
            anesthesist: self.anesthesist.as_ref().map(|m| m.id),
        }
    }

    /// `true` when `user` is in the team (a doctor's "own" operation).
    pub fn has_member(&self, user: i64) -> bool {
        self.team_ids().members().any(|(_, id)| id == user)
    }

    /// The parsed status (`planned` for a value the schema would not allow anyway).
    pub fn status(&self) -> OperationStatus {
        OperationStatus::parse(&self.status).unwrap_or(OperationStatus::Planned)
    }

    /// The durations to show: the snapshot, or the type's durations for legacy rows without
    /// one.
    pub fn effective_durations(&self) -> Durations {
        if self.durations.total_minutes() > 0 {
            self.durations
        } else {
            Durations {
                prep: self.op_type.prep_duration,
                op: self.op_type.op_duration,
                post: self.op_type.post_duration,
            }
        }
    }
}

/// One row of an operation's status history.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct OperationStatusEventRecord {
    pub id: i64,
    pub operation_id: i64,
    /// `None` for the initial status.
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
}

const PRIMARY: &str = "ps";
const ASSISTANT: &str = "asst";
const ANESTHESIST: &str = "anes";
const ROOM: &str = "room";

#[derive(FromQueryResult)]
struct OperationRow {
    id: i64,
    patient_id: i32,
    patient_first_name: Option<String>,
    patient_last_name: Option<String>,
    patient_birth_date: Option<NaiveDate>,
    op_type_id: i64,
    type_name: String,
    type_color: String,
    type_prep: i32,
    type_op: i32,
    type_post: i32,
    prep_duration: i32,
    op_duration: i32,
    post_duration: i32,
    room_id: i64,
    room_name: String,
    room_type: String,
    room_color: String,
    room_active: bool,
    room_created_at: DateTime<Utc>,
    room_updated_at: DateTime<Utc>,
    ps_id: i64,
    ps_username: String,
    ps_first_name: String,
    ps_last_name: String,
    ps_color: String,
    asst_id: Option<i64>,
    asst_username: Option<String>,
    asst_first_name: Option<String>,
    asst_last_name: Option<String>,
    asst_color: Option<String>,
    anes_id: Option<i64>,
    anes_username: Option<String>,
    anes_first_name: Option<String>,
    anes_last_name: Option<String>,
    anes_color: Option<String>,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    status: String,
    notes: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn optional_member(
    id: Option<i64>,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    color: Option<String>,
) -> Option<TeamMember> {
    Some(TeamMember {
        id: id?,
        username: username?,
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        calendar_color: color.unwrap_or_default(),
    })
}

impl OperationRow {
    fn into_record(self, devices: Vec<ResourceInfo>) -> OperationRecord {
        OperationRecord {
            id: self.id,
            patient_id: self.patient_id,
            patient_first_name: self.patient_first_name.unwrap_or_default(),
            patient_last_name: self.patient_last_name.unwrap_or_default(),
            patient_birth_date: self.patient_birth_date,
            op_type: OperationTypeInfo {
                id: self.op_type_id,
                name: self.type_name,
                color: self.type_color,
                prep_duration: self.type_prep,
                op_duration: self.type_op,
                post_duration: self.type_post,
            },
            durations: Durations {
                prep: self.prep_duration,
                op: self.op_duration,
                post: self.post_duration,
            },
            room: ResourceInfo {
                id: self.room_id,
                name: self.room_name,
                kind: self.room_type,
                color: self.room_color,
                active: self.room_active,
                created_at: self.room_created_at,
                updated_at: self.room_updated_at,
            },
            devices,
            primary_surgeon: TeamMember {
                id: self.ps_id,
                username: self.ps_username,
                first_name: self.ps_first_name,
                last_name: self.ps_last_name,
                calendar_color: self.ps_color,
            },
            assistant: optional_member(
                self.asst_id,
                self.asst_username,
                self.asst_first_name,
                self.asst_last_name,
                self.asst_color,
            ),
            anesthesist: optional_member(
                self.anes_id,
                self.anes_username,
                self.anes_first_name,
                self.anes_last_name,
                self.anes_color,
            ),
            start_time: self.start_time,
            end_time: self.end_time,
            status: self.status,
            notes: self.notes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Which operations to read.
#[derive(Debug, Clone, Default)]
pub struct OperationFilter {
    /// Overlapping this interval.
    pub period: Option<Interval>,
    /// Ending after this instant (an open-ended range: `end_time > ends_after`).
    pub ends_after: Option<DateTime<Utc>>,
    /// Starting before this instant (an open-ended range: `start_time < starts_before`).
    pub starts_before: Option<DateTime<Utc>>,
    /// Operations in which this user holds any team role.
    pub team_member: Option<i64>,
    pub patient_id: Option<i32>,
    /// Only these statuses (empty = any).
    pub statuses: Vec<OperationStatus>,
    pub id: Option<i64>,
    /// Only the operations whose ids this subquery selects.
    pub ids_in: Option<SelectStatement>,
}

impl OperationFilter {
    /// The filter for one operation.
    pub fn by_id(id: i64) -> Self {
        OperationFilter {
            id: Some(id),
            ..Default::default()
        }
    }

    fn apply(&self, select: &mut SelectStatement) {
        let col = |c: Operation| Expr::col((Operation::Table, c));
        if let Some(period) = &self.period {
            select.and_where(col(Operation::StartTime).lt(period.end()));
            select.and_where(col(Operation::EndTime).gt(period.start()));
            select.and_where(
                col(Operation::StartTime)
                    .gt(crate::schedule::earliest_overlapping_start(period.start())),
            );
        }
        if let Some(instant) = self.ends_after {
            select.and_where(col(Operation::EndTime).gt(instant));
            select.and_where(
                col(Operation::StartTime).gt(crate::schedule::earliest_overlapping_start(instant)),
            );
        }
        if let Some(instant) = self.starts_before {
            select.and_where(col(Operation::StartTime).lt(instant));
        }
        if let Some(user) = self.team_member {
            select.cond_where(
                sea_orm::sea_query::Cond::any()
                    .add(col(Operation::PrimarySurgeonId).eq(user))
                    .add(col(Operation::AssistantId).eq(user))
                    .add(col(Operation::AnesthesistId).eq(user)),
            );
        }
        if let Some(patient) = self.patient_id {
            select.and_where(col(Operation::PatientId).eq(patient));
        }
        if !self.statuses.is_empty() {
            select
                .and_where(col(Operation::Status).is_in(self.statuses.iter().map(|s| s.as_str())));
        }
        if let Some(id) = self.id {
            select.and_where(col(Operation::Id).eq(id));
        }
        if let Some(ids) = &self.ids_in {
            select.and_where(col(Operation::Id).in_subquery(ids.clone()));
        }
    }
}

/// `alias.column AS name`.
fn aliased(
    select: &mut SelectStatement,
    alias: &'static str,
    column: impl sea_orm::sea_query::IntoIden,
    name: &str,
) {
    select.expr_as(Expr::col((Alias::new(alias), column)), Alias::new(name));
}

fn operation_select() -> SelectStatement {
    let o = Operation::Table;
    let mut select = Query::select();
    select.columns([
        (o, Operation::Id),
        (o, Operation::PatientId),
        (o, Operation::OpTypeId),
        (o, Operation::PrepDuration),
        (o, Operation::OpDuration),
        (o, Operation::PostDuration),
        (o, Operation::StartTime),
        (o, Operation::EndTime),
        (o, Operation::Status),
        (o, Operation::Notes),
        (o, Operation::CreatedAt),
        (o, Operation::UpdatedAt),
    ]);
    select
        .expr_as(
            Expr::col((Patients::Table, Patients::FirstName)),
            Alias::new("patient_first_name"),
        )
        .expr_as(
            Expr::col((Patients::Table, Patients::LastName)),
            Alias::new("patient_last_name"),
        )
        .expr_as(
            Expr::col((Patients::Table, Patients::BirthDate)),
            Alias::new("patient_birth_date"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::Name)),
            Alias::new("type_name"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::Color)),
            Alias::new("type_color"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::PrepDuration)),
            Alias::new("type_prep"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::OpDuration)),
            Alias::new("type_op"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::PostDuration)),
            Alias::new("type_post"),
        );
    for (column, name) in [
        (Resource::Id, "room_id"),
        (Resource::Name, "room_name"),
        (Resource::Type, "room_type"),
        (Resource::Color, "room_color"),
        (Resource::Active, "room_active"),
        (Resource::CreatedAt, "room_created_at"),
        (Resource::UpdatedAt, "room_updated_at"),
    ] {
        aliased(&mut select, ROOM, column, name);
    }
    for alias in [PRIMARY, ASSISTANT, ANESTHESIST] {
        for (column, suffix) in [
            (CoreUser::Id, "id"),
            (CoreUser::Username, "username"),
            (CoreUser::FirstName, "first_name"),
            (CoreUser::LastName, "last_name"),
            (CoreUser::CalendarColor, "color"),
        ] {
            aliased(&mut select, alias, column, &format!("{alias}_{suffix}"));
        }
    }
    let user_join = |select: &mut SelectStatement, kind, alias: &'static str, column| {
        select.join_as(
            kind,
            CoreUser::Table,
            Alias::new(alias),
            Expr::col((Alias::new(alias), CoreUser::Id)).equals((o, column)),
        );
    };
    select
        .from(o)
        .left_join(
            Patients::Table,
            Expr::col((Patients::Table, Patients::Id)).equals((o, Operation::PatientId)),
        )
        .inner_join(
            OperationType::Table,
            Expr::col((OperationType::Table, OperationType::Id)).equals((o, Operation::OpTypeId)),
        )
        .join_as(
            JoinType::InnerJoin,
            Resource::Table,
            Alias::new(ROOM),
            Expr::col((Alias::new(ROOM), Resource::Id)).equals((o, Operation::OpRoomId)),
        );
    user_join(
        &mut select,
        JoinType::InnerJoin,
        PRIMARY,
        Operation::PrimarySurgeonId,
    );
    user_join(
        &mut select,
        JoinType::LeftJoin,
        ASSISTANT,
        Operation::AssistantId,
    );
    user_join(
        &mut select,
        JoinType::LeftJoin,
        ANESTHESIST,
        Operation::AnesthesistId,
    );
    select
        .order_by((o, Operation::StartTime), Order::Asc)
        .order_by((o, Operation::Id), Order::Asc)
        .to_owned()
}

fn devices_select() -> SelectStatement {
    Query::select()
        .column((OperationDevice::Table, OperationDevice::OperationId))
        .columns([
            (Resource::Table, Resource::Id),
            (Resource::Table, Resource::Name),
            (Resource::Table, Resource::Type),
            (Resource::Table, Resource::Color),
            (Resource::Table, Resource::Active),
            (Resource::Table, Resource::CreatedAt),
            (Resource::Table, Resource::UpdatedAt),
        ])
        .from(OperationDevice::Table)
        .inner_join(
            Resource::Table,
            Expr::col((Resource::Table, Resource::Id))
                .equals((OperationDevice::Table, OperationDevice::ResourceId)),
        )
        .inner_join(
            Operation::Table,
            Expr::col((Operation::Table, Operation::Id))
                .equals((OperationDevice::Table, OperationDevice::OperationId)),
        )
        .order_by((Resource::Table, Resource::Id), Order::Asc)
        .to_owned()
}

/// Reads operations matching `filter` in `start_time, id` order, with their devices (two
/// statements, whatever the number of rows).
pub(crate) async fn read_operations<C: ConnectionTrait>(
    conn: &C,
    filter: &OperationFilter,
) -> Result<Vec<OperationRecord>, StoreError> {
    let mut select = operation_select();
    filter.apply(&mut select);
    let rows: Vec<OperationRow> = conn
        .query_all(&select)
        .await?
        .iter()
        .map(|row| OperationRow::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut links = devices_select();
    filter.apply(&mut links);
    let mut devices: HashMap<i64, Vec<ResourceInfo>> =
        linked_resources(conn, &links, "operation_id").await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let own = devices.remove(&row.id).unwrap_or_default();
            row.into_record(own)
        })
        .collect())
}

async fn read_one<C: ConnectionTrait>(conn: &C, id: i64) -> Result<OperationRecord, StoreError> {
    read_operations(conn, &OperationFilter::by_id(id))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound(OPERATION))
}

/// The state an operation should have after a create or an update.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationDraft {
    pub patient_id: i32,
    pub op_type_id: i64,
    /// The duration snapshot to store.
    pub durations: Durations,
    pub room_id: i64,
    /// Effective device set (ids, de-duplicated).
    pub device_ids: Vec<i64>,
    pub team: TeamIds,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: OperationStatus,
    pub notes: Option<String>,
}

/// The stored state an update starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredOperation {
    pub id: i64,
    /// The status the row must still have when it is written (conditional update).
    pub status: OperationStatus,
}

/// The local days a booking touches, as one interval (for loading rules and bookings).
fn check_period(tz: Tz, interval: &Interval) -> Interval {
    let day = |t: DateTime<Utc>| {
        let date = t.with_timezone(&tz).date_naive();
        praxi_domain::scheduling::local_day(tz, date)
    };
    let start = day(interval.start()).map_or(interval.start(), |d| d.start());
    let end = day(interval.end()).map_or(interval.end(), |d| d.end());
    Interval::new(start, end).unwrap_or(*interval)
}

/// Writes one history row (`from: None` = the initial status).
async fn insert_status_event<C: ConnectionTrait>(
    conn: &C,
    operation_id: i64,
    from: Option<OperationStatus>,
    to: OperationStatus,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let insert = Query::insert()
        .into_table(OperationStatusEvent::Table)
        .columns([
            OperationStatusEvent::OperationId,
            OperationStatusEvent::FromStatus,
            OperationStatusEvent::ToStatus,
            OperationStatusEvent::At,
            OperationStatusEvent::UserId,
        ])
        .values_panic([
            operation_id.into(),
            from.map(|s| s.as_str().to_owned()).into(),
            to.as_str().to_owned().into(),
            now.into(),
            user_id.into(),
        ])
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// A conditional update touched no row: the operation is gone, or its status moved on.
async fn missing_or_stale<C: ConnectionTrait>(conn: &C, id: i64) -> StoreError {
    let select = Query::select()
        .column(Operation::Id)
        .from(Operation::Table)
        .and_where(Expr::col(Operation::Id).eq(id))
        .to_owned();
    match conn.query_one(&select).await {
        Ok(Some(_)) => StoreError::field("status", STALE_STATUS),
        Ok(None) => StoreError::NotFound(OPERATION),
        Err(error) => StoreError::from(error),
    }
}

/// The status change guard every write path passes, also when the caller already checked:
/// no write of this module can bypass the transition table.
fn guard_transition(
    from: Option<OperationStatus>,
    to: OperationStatus,
    start_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    check_transition(from, to, start_time, now)
        .map_err(|error| StoreError::field("status", error.detail()))
}

impl Store {
    /// Operations matching the filter, in `start_time, id` order.
    pub async fn operations(
        &self,
        filter: &OperationFilter,
    ) -> Result<Vec<OperationRecord>, StoreError> {
        read_operations(self.conn(), filter).await
    }

    /// One operation.
    pub async fn operation(&self, id: i64) -> Result<Option<OperationRecord>, StoreError> {
        Ok(read_operations(self.conn(), &OperationFilter::by_id(id))
            .await?
            .into_iter()
            .next())
    }

    /// The status history of an operation, oldest first.
    pub async fn operation_status_events(
        &self,
        operation_id: i64,
    ) -> Result<Vec<OperationStatusEventRecord>, StoreError> {
        let select = Query::select()
            .columns([
                OperationStatusEvent::Id,
                OperationStatusEvent::OperationId,
                OperationStatusEvent::FromStatus,
                OperationStatusEvent::ToStatus,
                OperationStatusEvent::At,
                OperationStatusEvent::UserId,
            ])
            .from(OperationStatusEvent::Table)
            .and_where(Expr::col(OperationStatusEvent::OperationId).eq(operation_id))
            .order_by(OperationStatusEvent::At, Order::Asc)
            .order_by(OperationStatusEvent::Id, Order::Asc)
            .to_owned();
        self.conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| OperationStatusEventRecord::from_query_result(row, "").map_err(Into::into))
            .collect()
    }

    /// Creates (`stored: None`) or updates an operation. Inside one transaction: lock the
    /// team, the patient, the room and the devices; load their schedule for the local days
    /// touched; let the engine check the draft (unless `check` is `Skip` or the draft is
    /// cancelled); write the row (an update only while the row still has
    /// `stored.status`), its devices, a status history row when the status is set or changes,
    /// and the audit row.
    ///
    /// A refused booking is [`StoreError::Scheduling`] with every conflict in the original's
    /// check order (room, devices, team members, patient).
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors save_appointment plus the acting user for the status history"
    )]
    pub async fn save_operation(
        &self,
        stored: Option<StoredOperation>,
        draft: OperationDraft,
        tz: Tz,
        check: ScheduleCheck,
        user_id: Option<i64>,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<OperationRecord, StoreError> {
        self.save_operation_checked(stored, draft, tz, check, user_id, now, |_| Ok(()), audit)
            .await
    }

    /// [`Store::save_operation`] with a precondition for updates: inside the transaction the
    /// operation's row lock is taken and the row re-read, and `precondition` decides on that
    /// row (e.g. "unchanged since the caller read it", an `If-Match` tag) before anything is
    /// checked or written.
    #[expect(
        clippy::too_many_arguments,
        reason = "save_operation plus the precondition on the re-read row"
    )]
    pub async fn save_operation_checked<E: From<StoreError>>(
        &self,
        stored: Option<StoredOperation>,
        draft: OperationDraft,
        tz: Tz,
        check: ScheduleCheck,
        user_id: Option<i64>,
        now: DateTime<Utc>,
        precondition: impl FnOnce(&OperationRecord) -> Result<(), E>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<OperationRecord, E> {
        let from = stored.map(|s| s.status);
        if from != Some(draft.status) {
            guard_transition(from, draft.status, draft.start_time, now)?;
        }
        let interval = Interval::new(draft.start_time, draft.end_time)
            .map_err(|_| StoreError::field("start_time", "The operation has no duration."))?;
        let tx = self.write().await?;
        if let Some(stored) = stored {
            lock(&*tx, &[LockKey::Operation(stored.id)]).await?;
            let row = read_one(&*tx, stored.id).await?;
            precondition(&row)?;
        }
        let mut keys: Vec<LockKey> = draft
            .team
            .members()
            .map(|(_, id)| LockKey::Person(id))
            .collect();
        keys.push(LockKey::Patient(draft.patient_id));
        keys.push(LockKey::Resource(draft.room_id));
        keys.extend(draft.device_ids.iter().map(|id| LockKey::Resource(*id)));
        lock(&*tx, &keys).await?;

        if check == ScheduleCheck::Check && draft.status != OperationStatus::Cancelled {
            let team = draft
                .team
                .distinct()
                .map_err(|_| StoreError::field("assistant", "duplicate team member"))?;
            let mut resources = vec![draft.room_id];
            resources.extend(draft.device_ids.iter().copied());
            let scope = ScheduleScope {
                people: Some(team.members().map(|(_, user)| user.0).collect()),
                patients: vec![draft.patient_id],
                resources,
                holds: None,
            };
            let input = load_schedule(&*tx, tz, check_period(tz, &interval), &scope).await?;
            let request = OperationRequest {
                id: stored.map(|s| OperationId(s.id)),
                patient: PatientId(draft.patient_id),
                team,
                room: ResourceId(draft.room_id),
                devices: draft.device_ids.iter().copied().map(ResourceId).collect(),
                interval,
            };
            if let Err(conflicts) = Schedule::new(input).check_operation(&request) {
                crate::ops::count_booking_conflict();
                return Err(StoreError::Scheduling(Box::new(conflicts)).into());
            }
        }

        let status = draft.status.as_str().to_owned();
        let operation_id = match stored {
            None => {
                let insert = Query::insert()
                    .into_table(Operation::Table)
                    .columns([
                        Operation::PatientId,
                        Operation::PrimarySurgeonId,
                        Operation::AssistantId,
                        Operation::AnesthesistId,
                        Operation::OpRoomId,
                        Operation::OpTypeId,
                        Operation::StartTime,
                        Operation::EndTime,
                        Operation::PrepDuration,
                        Operation::OpDuration,
                        Operation::PostDuration,
                        Operation::Status,
                        Operation::Notes,
                        Operation::CreatedAt,
                        Operation::UpdatedAt,
                    ])
                    .values_panic([
                        draft.patient_id.into(),
                        draft.team.primary_surgeon.into(),
                        draft.team.assistant.into(),
                        draft.team.anesthesist.into(),
                        draft.room_id.into(),
                        draft.op_type_id.into(),
                        draft.start_time.into(),
                        draft.end_time.into(),
                        draft.durations.prep.into(),
                        draft.durations.op.into(),
                        draft.durations.post.into(),
                        status.into(),
                        draft.notes.clone().into(),
                        now.into(),
                        now.into(),
                    ])
                    .returning_col(Operation::Id)
                    .to_owned();
                let row = tx
                    .query_one(&insert)
                    .await
                    .map_err(map_operation_db_error)?
                    .ok_or(StoreError::NotFound(OPERATION))?;
                let id: i64 = row.try_get("", "id").map_err(StoreError::from)?;
                insert_status_event(&*tx, id, None, draft.status, user_id, now).await?;
                id
            }
            Some(stored) => {
                let update = Query::update()
                    .table(Operation::Table)
                    .values([
                        (Operation::PatientId, draft.patient_id.into()),
                        (
                            Operation::PrimarySurgeonId,
                            draft.team.primary_surgeon.into(),
                        ),
                        (Operation::AssistantId, draft.team.assistant.into()),
                        (Operation::AnesthesistId, draft.team.anesthesist.into()),
                        (Operation::OpRoomId, draft.room_id.into()),
                        (Operation::OpTypeId, draft.op_type_id.into()),
                        (Operation::StartTime, draft.start_time.into()),
                        (Operation::EndTime, draft.end_time.into()),
                        (Operation::PrepDuration, draft.durations.prep.into()),
                        (Operation::OpDuration, draft.durations.op.into()),
                        (Operation::PostDuration, draft.durations.post.into()),
                        (Operation::Status, status.into()),
                        (Operation::Notes, draft.notes.clone().into()),
                        (Operation::UpdatedAt, now.into()),
                    ])
                    .and_where(Expr::col(Operation::Id).eq(stored.id))
                    .and_where(Expr::col(Operation::Status).eq(stored.status.as_str()))
                    .to_owned();
                let result = tx.execute(&update).await.map_err(map_operation_db_error)?;
                if result.rows_affected() == 0 {
                    return Err(missing_or_stale(&*tx, stored.id).await.into());
                }
                if stored.status != draft.status {
                    insert_status_event(
                        &*tx,
                        stored.id,
                        Some(stored.status),
                        draft.status,
                        user_id,
                        now,
                    )
                    .await?;
                }
                let clear = Query::delete()
                    .from_table(OperationDevice::Table)
                    .and_where(Expr::col(OperationDevice::OperationId).eq(stored.id))
                    .to_owned();
                tx.execute(&clear).await.map_err(StoreError::from)?;
                stored.id
            }
        };
        if !draft.device_ids.is_empty() {
            let mut insert = Query::insert()
                .into_table(OperationDevice::Table)
                .columns([OperationDevice::OperationId, OperationDevice::ResourceId])
                .to_owned();
            for device in &draft.device_ids {
                insert.values_panic([operation_id.into(), (*device).into()]);
            }
            tx.execute(&insert).await.map_err(map_operation_db_error)?;
        }
        write_audit(&*tx, &audit(operation_id)).await?;
        let record = read_one(&*tx, operation_id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Changes only the status of an operation (the OP-dashboard endpoint and every other
    /// status-only write): checks `from → to` with the transition table (`start_time` of the
    /// row, `now`), writes it only while the row still has status `from`, adds the history
    /// row and the audit row, all in one transaction. A row whose status is no longer `from`
    /// is refused with a `status` field error ([`STALE_STATUS`]); an unknown id is
    /// `NotFound`. Returns the updated operation.
    pub async fn set_operation_status(
        &self,
        id: i64,
        from: OperationStatus,
        to: OperationStatus,
        user_id: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<OperationRecord, StoreError> {
        let tx = self.write().await?;
        let select = Query::select()
            .column(Operation::StartTime)
            .from(Operation::Table)
            .and_where(Expr::col(Operation::Id).eq(id))
            .to_owned();
        let row = tx
            .query_one(&select)
            .await?
            .ok_or(StoreError::NotFound(OPERATION))?;
        let start_time: DateTime<Utc> = row.try_get("", "start_time")?;
        guard_transition(Some(from), to, start_time, now)?;
        let update = Query::update()
            .table(Operation::Table)
            .values([
                (Operation::Status, to.as_str().into()),
                (Operation::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Operation::Id).eq(id))
            .and_where(Expr::col(Operation::Status).eq(from.as_str()))
            .to_owned();
        if tx.execute(&update).await?.rows_affected() == 0 {
            return Err(missing_or_stale(&*tx, id).await);
        }
        insert_status_event(&*tx, id, Some(from), to, user_id, now).await?;
        write_audit(&*tx, audit).await?;
        let record = read_one(&*tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an operation (its device links, status history and patient flows go with it)
    /// and audits.
    pub async fn delete_operation(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        self.delete_operation_checked(id, |_| Ok::<(), StoreError>(()), audit)
            .await
    }

    /// Deletes an operation after `precondition` accepted the row as read under its lock
    /// inside the transaction, and audits.
    pub async fn delete_operation_checked<E: From<StoreError>>(
        &self,
        id: i64,
        precondition: impl FnOnce(&OperationRecord) -> Result<(), E>,
        audit: &AuditEntry,
    ) -> Result<(), E> {
        let tx = self.write().await?;
        lock(&*tx, &[LockKey::Operation(id)]).await?;
        let row = read_one(&*tx, id).await?;
        precondition(&row)?;
        let delete = Query::delete()
            .from_table(Operation::Table)
            .and_where(Expr::col(Operation::Id).eq(id))
            .to_owned();
        if tx
            .execute(&delete)
            .await
            .map_err(StoreError::from)?
            .rows_affected()
            == 0
        {
            return Err(StoreError::NotFound(OPERATION).into());
        }
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// PostgreSQL's exclusion constraint on the OP room is the second safety net behind the
/// engine and the locks: a violation there is still a conflict for the client, never a 500.
fn map_operation_db_error(error: sea_orm::DbErr) -> StoreError {
    let failure = DbFailure::of(&error);
    if failure == DbFailure::Exclusion {
        return StoreError::field(
            "op_room",
            "Operation conflict: the room is already booked in this time range.",
        );
    }
    if failure == DbFailure::ForeignKey {
        return StoreError::field(
            "non_field_errors",
            "A referenced patient, user, room, device or operation type does not exist.",
        );
    }
    StoreError::from(error)
}
