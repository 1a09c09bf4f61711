//! Patient flows (waiting room, data-model.md §5.12, §10.3; scheduling.md §5).
//!
//! * Reads are set-based: a list costs at most six statements whatever its length — the flows,
//!   their status milestones, the linked appointments and their resources, the linked
//!   operations and their devices. The nested rows are selected through a subquery on the
//!   same flow filter, never one query per flow.
//! * Status changes go through [`praxi_domain::flow::transition`] (via
//!   [`FlowUpdate::apply`]), are written with a conditional `UPDATE … WHERE status = $from`
//!   (two concurrent changes cannot both pass the check, §15 item 18) and leave a row in
//!   `appointments_patientflowevent` (from, to, at, user) in the same transaction as the audit
//!   rows. Wait and treatment times are computed from those history rows, not from the audit
//!   log (§15 item 25).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use praxi_domain::flow::{
    FlowLink, FlowState, FlowStatus, FlowTimes, FlowUpdate, Milestones, STATUS_FIELD, Transition,
    TransitionError, flow_times, may_delete,
};
use praxi_domain::scheduling::Interval;
use sea_orm::sea_query::{Cond, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, DbErr, FromQueryResult, IsolationLevel, Order,
    TransactionTrait,
};
use serde_json::{Value, json};

use crate::appointments::{AppointmentFilter, AppointmentRecord, read_appointments};
use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::{DbFailure, StoreError};
use crate::migration::idens::{Appointment, Operation, PatientFlow, PatientFlowEvent};
use crate::operations::{OperationFilter, OperationRecord, read_operations};

/// The model name the API reports (`No PatientFlow matches the given query.`).
pub const PATIENT_FLOW: &str = "PatientFlow";

/// The message of a change that lost a race (the flow's status changed in between).
pub const STALE_FLOW_STATUS: &str =
    "The status was changed in the meantime; reload the patient flow and try again.";

/// The live board's window (scheduling.md §5.3, W15): flows that are not `done` and whose
/// appointment or operation overlaps `day`, or whose status changed at or after
/// `changed_from` (and before `changed_until`, when set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveWindow {
    /// The local day of the board.
    pub day: Interval,
    /// Recent activity: the earliest `status_changed_at` that keeps a flow on the board.
    pub changed_from: DateTime<Utc>,
    /// The end of the activity window (`None` = open).
    pub changed_until: Option<DateTime<Utc>>,
}

/// Which flows to read.
#[derive(Debug, Clone, Default)]
pub struct FlowFilter {
    pub id: Option<i64>,
    /// Only this doctor's flows: their appointment's doctor or a member of their operation's
    /// team.
    pub member: Option<i64>,
    /// Only the live board.
    pub live: Option<LiveWindow>,
}

impl FlowFilter {
    /// The filter for one flow.
    pub fn by_id(id: i64) -> Self {
        FlowFilter {
            id: Some(id),
            ..Default::default()
        }
    }

    fn apply(&self, select: &mut SelectStatement) {
        let col = |c: PatientFlow| Expr::col((PatientFlow::Table, c));
        if let Some(id) = self.id {
            select.and_where(col(PatientFlow::Id).eq(id));
        }
        if let Some(user) = self.member {
            let own_appointments = Query::select()
                .column(Appointment::Id)
                .from(Appointment::Table)
                .and_where(Expr::col(Appointment::DoctorId).eq(user))
                .to_owned();
            let own_operations = Query::select()
                .column(Operation::Id)
                .from(Operation::Table)
                .cond_where(
                    Cond::any()
                        .add(Expr::col(Operation::PrimarySurgeonId).eq(user))
                        .add(Expr::col(Operation::AssistantId).eq(user))
                        .add(Expr::col(Operation::AnesthesistId).eq(user)),
                )
                .to_owned();
            select.cond_where(
                Cond::any()
                    .add(col(PatientFlow::AppointmentId).in_subquery(own_appointments))
                    .add(col(PatientFlow::OperationId).in_subquery(own_operations)),
            );
        }
        if let Some(live) = &self.live {
            let day_appointments = Query::select()
                .column(Appointment::Id)
                .from(Appointment::Table)
                .and_where(Expr::col(Appointment::StartTime).lt(live.day.end()))
                .and_where(Expr::col(Appointment::EndTime).gt(live.day.start()))
                .and_where(Expr::col(Appointment::StartTime).gt(
                    crate::schedule::earliest_overlapping_start(live.day.start()),
                ))
                .to_owned();
            let day_operations = Query::select()
                .column(Operation::Id)
                .from(Operation::Table)
                .and_where(Expr::col(Operation::StartTime).lt(live.day.end()))
                .and_where(Expr::col(Operation::EndTime).gt(live.day.start()))
                .and_where(Expr::col(Operation::StartTime).gt(
                    crate::schedule::earliest_overlapping_start(live.day.start()),
                ))
                .to_owned();
            select.and_where(col(PatientFlow::Status).ne(FlowStatus::Done.as_str()));
            select.cond_where(
                Cond::any()
                    .add(col(PatientFlow::AppointmentId).in_subquery(day_appointments))
                    .add(col(PatientFlow::OperationId).in_subquery(day_operations))
                    .add({
                        let mut recent = Cond::all()
                            .add(col(PatientFlow::StatusChangedAt).gte(live.changed_from));
                        if let Some(until) = live.changed_until {
                            recent = recent.add(col(PatientFlow::StatusChangedAt).lt(until));
                        }
                        recent
                    }),
            );
        }
    }

    /// `SELECT <column> FROM flows WHERE <filter>`: the subquery that selects nested rows.
    fn column_of_matches(&self, column: PatientFlow) -> SelectStatement {
        let mut select = Query::select()
            .column((PatientFlow::Table, column))
            .from(PatientFlow::Table)
            .to_owned();
        self.apply(&mut select);
        select
    }
}

/// A patient flow with everything its read shape needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    pub id: i64,
    pub appointment: Option<AppointmentRecord>,
    pub operation: Option<OperationRecord>,
    pub status: FlowStatus,
    pub arrival_time: Option<DateTime<Utc>>,
    /// The last status change (or the creation).
    pub status_changed_at: DateTime<Utc>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The first transitions to `in_treatment` and `done`.
    pub milestones: Milestones,
}

impl FlowRecord {
    /// The patient: the appointment's, else the operation's.
    pub fn patient_id(&self) -> Option<i32> {
        self.appointment
            .as_ref()
            .map(|appointment| appointment.patient_id)
            .or_else(|| {
                self.operation
                    .as_ref()
                    .map(|operation| operation.patient_id)
            })
    }

    /// `true` for the doctor of the appointment or a member of the operation's team.
    pub fn is_own(&self, user: i64) -> bool {
        self.appointment
            .as_ref()
            .is_some_and(|appointment| appointment.doctor_id == user)
            || self
                .operation
                .as_ref()
                .is_some_and(|operation| operation.has_member(user))
    }

    /// What the flow is attached to.
    pub fn link(&self) -> Option<FlowLink> {
        match (&self.appointment, &self.operation) {
            (Some(appointment), _) => Some(FlowLink::Appointment(i64::from(appointment.id))),
            (None, Some(operation)) => Some(FlowLink::Operation(operation.id)),
            (None, None) => None,
        }
    }

    /// The editable state.
    pub fn state(&self) -> FlowState {
        FlowState {
            status: self.status,
            arrival_time: self.arrival_time,
            notes: self.notes.clone(),
        }
    }

    /// Wait and treatment minutes at `now`.
    pub fn times(&self, now: DateTime<Utc>) -> FlowTimes {
        flow_times(self.arrival_time, self.milestones, now)
    }
}

/// A new flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlow {
    pub link: FlowLink,
    /// From [`praxi_domain::flow::initial_state`].
    pub state: FlowState,
}

/// Which endpoint changes a flow; it decides the audit rows (api.md §3.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowWrite {
    /// `PUT`/`PATCH patient-flow/{id}/`: `patient_flow_update` always, plus
    /// `patient_flow_status_update` when the status changes.
    Update,
    /// `PATCH patient-flow/{id}/status/`: `patient_flow_status_update` on every accepted call,
    /// also for a same-status no-op.
    Status,
}

/// Builds an audit row: `(action, patient_id, meta)`.
pub trait FlowAudit: Fn(&str, Option<i32>, Value) -> AuditEntry + Send + Sync {}
impl<F: Fn(&str, Option<i32>, Value) -> AuditEntry + Send + Sync> FlowAudit for F {}

#[derive(FromQueryResult)]
struct FlowRow {
    id: i64,
    appointment_id: Option<i32>,
    operation_id: Option<i64>,
    status: String,
    arrival_time: Option<DateTime<Utc>>,
    status_changed_at: DateTime<Utc>,
    notes: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct MilestoneRow {
    flow_id: i64,
    to_status: String,
    at: DateTime<Utc>,
}

fn parse_status(value: &str) -> Result<FlowStatus, StoreError> {
    FlowStatus::parse(value)
        .ok_or_else(|| StoreError::Db(format!("unknown patient flow status {value:?}")))
}

/// Reads the flows matching `filter` in `status_changed_at desc, id desc` order, with their
/// appointments, operations and milestones (at most six statements).
pub async fn read_flows<C: ConnectionTrait>(
    conn: &C,
    filter: &FlowFilter,
) -> Result<Vec<FlowRecord>, StoreError> {
    let f = PatientFlow::Table;
    let mut select = Query::select()
        .columns([
            (f, PatientFlow::Id),
            (f, PatientFlow::AppointmentId),
            (f, PatientFlow::OperationId),
            (f, PatientFlow::Status),
            (f, PatientFlow::ArrivalTime),
            (f, PatientFlow::StatusChangedAt),
            (f, PatientFlow::Notes),
            (f, PatientFlow::CreatedAt),
        ])
        .from(f)
        .order_by((f, PatientFlow::StatusChangedAt), Order::Desc)
        .order_by((f, PatientFlow::Id), Order::Desc)
        .to_owned();
    filter.apply(&mut select);
    let rows: Vec<FlowRow> = conn
        .query_all(&select)
        .await?
        .iter()
        .map(|row| FlowRow::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }

    let events = Query::select()
        .columns([
            PatientFlowEvent::FlowId,
            PatientFlowEvent::ToStatus,
            PatientFlowEvent::At,
        ])
        .from(PatientFlowEvent::Table)
        .and_where(
            Expr::col(PatientFlowEvent::ToStatus)
                .is_in([FlowStatus::InTreatment.as_str(), FlowStatus::Done.as_str()]),
        )
        .and_where(
            Expr::col(PatientFlowEvent::FlowId)
                .in_subquery(filter.column_of_matches(PatientFlow::Id)),
        )
        .to_owned();
    let mut history: HashMap<i64, Vec<(FlowStatus, DateTime<Utc>)>> = HashMap::new();
    for row in conn.query_all(&events).await? {
        let event = MilestoneRow::from_query_result(&row, "")?;
        history
            .entry(event.flow_id)
            .or_default()
            .push((parse_status(&event.to_status)?, event.at));
    }

    let appointments = if rows.iter().any(|row| row.appointment_id.is_some()) {
        linked_appointments(conn, filter.column_of_matches(PatientFlow::AppointmentId)).await?
    } else {
        HashMap::new()
    };
    let operations = if rows.iter().any(|row| row.operation_id.is_some()) {
        linked_operations(conn, filter.column_of_matches(PatientFlow::OperationId)).await?
    } else {
        HashMap::new()
    };

    rows.into_iter()
        .map(|row| {
            Ok(FlowRecord {
                id: row.id,
                // Several flows may share an appointment or operation: each gets a copy.
                appointment: row
                    .appointment_id
                    .and_then(|id| appointments.get(&id).cloned()),
                operation: row.operation_id.and_then(|id| operations.get(&id).cloned()),
                status: parse_status(&row.status)?,
                arrival_time: row.arrival_time,
                status_changed_at: row.status_changed_at,
                notes: row.notes,
                created_at: row.created_at,
                milestones: Milestones::from_events(history.remove(&row.id).unwrap_or_default()),
            })
        })
        .collect()
}

async fn read_one<C: ConnectionTrait>(conn: &C, id: i64) -> Result<FlowRecord, StoreError> {
    read_flows(conn, &FlowFilter::by_id(id))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound(PATIENT_FLOW))
}

async fn insert_event<C: ConnectionTrait>(
    conn: &C,
    flow_id: i64,
    from: Option<FlowStatus>,
    to: FlowStatus,
    user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let insert = Query::insert()
        .into_table(PatientFlowEvent::Table)
        .columns([
            PatientFlowEvent::FlowId,
            PatientFlowEvent::FromStatus,
            PatientFlowEvent::ToStatus,
            PatientFlowEvent::At,
            PatientFlowEvent::UserId,
        ])
        .values_panic([
            flow_id.into(),
            from.map(|status| status.as_str()).into(),
            to.as_str().into(),
            at.into(),
            user_id.into(),
        ])
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

/// A foreign-key failure on the link columns is the client's unknown id, never a 500.
fn map_link_error(error: DbErr, link: FlowLink) -> StoreError {
    if DbFailure::of(&error) == DbFailure::ForeignKey {
        let (field, id) = match link {
            FlowLink::Appointment(id) => ("appointment_id", id),
            FlowLink::Operation(id) => ("operation_id", id),
        };
        return StoreError::field(field, invalid_pk(id));
    }
    StoreError::from(error)
}

/// DRF's text for an unknown related id.
pub fn invalid_pk(id: i64) -> String {
    format!("Invalid pk \"{id}\" - object does not exist.")
}

/// The link columns as values (`appointment_id` is a 32-bit column).
fn link_values(link: FlowLink) -> Result<(Option<i32>, Option<i64>), StoreError> {
    match link {
        FlowLink::Appointment(id) => i32::try_from(id)
            .map(|id| (Some(id), None))
            .map_err(|_| StoreError::field("appointment_id", invalid_pk(id))),
        FlowLink::Operation(id) => Ok((None, Some(id))),
    }
}

/// After a conditional write touched nothing: the flow is gone, or its status moved on.
async fn missing_or_stale<C: ConnectionTrait>(conn: &C, id: i64) -> StoreError {
    let select = Query::select()
        .column(PatientFlow::Status)
        .from(PatientFlow::Table)
        .and_where(Expr::col(PatientFlow::Id).eq(id))
        .to_owned();
    match conn.query_one(&select).await {
        Ok(Some(_)) => StoreError::field(STATUS_FIELD, STALE_FLOW_STATUS),
        Ok(None) => StoreError::NotFound(PATIENT_FLOW),
        Err(error) => error.into(),
    }
}

fn status_meta(flow_id: i64, from: FlowStatus, to: FlowStatus) -> Value {
    json!({"flow_id": flow_id, "from": from.as_str(), "to": to.as_str()})
}

impl Store {
    /// Flows matching the filter, newest status change first.
    ///
    /// The statements run in one read-only snapshot, so a flow that changes meanwhile is never
    /// shown without its appointment or operation.
    pub async fn patient_flows(&self, filter: &FlowFilter) -> Result<Vec<FlowRecord>, StoreError> {
        let (isolation, access) = match self.backend() {
            DbBackend::Postgres => (
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            ),
            // A SQLite (WAL) read transaction keeps the snapshot of its first read.
            _ => (None, None),
        };
        let tx = self.conn().begin_with_config(isolation, access).await?;
        let flows = read_flows(&tx, filter).await?;
        tx.commit().await?;
        Ok(flows)
    }

    /// One flow.
    pub async fn patient_flow(&self, id: i64) -> Result<Option<FlowRecord>, StoreError> {
        Ok(self
            .patient_flows(&FlowFilter::by_id(id))
            .await?
            .into_iter()
            .next())
    }

    /// Creates a flow with its first history row (`from` empty) and the audit row
    /// `patient_flow_create` (meta `{flow_id, status}`), in one transaction. An unknown
    /// appointment or operation is a field error on `appointment_id`/`operation_id`.
    pub async fn create_patient_flow(
        &self,
        flow: NewFlow,
        user_id: Option<i64>,
        now: DateTime<Utc>,
        audit: impl FlowAudit,
    ) -> Result<FlowRecord, StoreError> {
        let (appointment_id, operation_id) = link_values(flow.link)?;
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(PatientFlow::Table)
            .columns([
                PatientFlow::AppointmentId,
                PatientFlow::OperationId,
                PatientFlow::Status,
                PatientFlow::ArrivalTime,
                PatientFlow::StatusChangedAt,
                PatientFlow::Notes,
                PatientFlow::CreatedAt,
            ])
            .values_panic([
                appointment_id.into(),
                operation_id.into(),
                flow.state.status.as_str().into(),
                flow.state.arrival_time.into(),
                now.into(),
                flow.state.notes.clone().into(),
                now.into(),
            ])
            .returning_col(PatientFlow::Id)
            .to_owned();
        let row = tx
            .query_one(&insert)
            .await
            .map_err(|error| map_link_error(error, flow.link))?
            .ok_or(StoreError::NotFound(PATIENT_FLOW))?;
        let id: i64 = row.try_get("", "id")?;
        insert_event(&*tx, id, None, flow.state.status, user_id, now).await?;
        let record = read_one(&*tx, id).await?;
        write_audit(
            &*tx,
            &audit(
                "patient_flow_create",
                record.patient_id(),
                json!({"flow_id": id, "status": record.status.as_str()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Changes a flow read as `current`: applies `update` through the transition function,
    /// moves the flow to `link`, and writes only while the row still has `current.status`
    /// (else a `status` field error, [`STALE_FLOW_STATUS`]). A real status change also sets
    /// `status_changed_at` and adds a history row; the audit rows follow `write`. All in one
    /// transaction. Returns the stored flow and what happened to its status.
    #[expect(
        clippy::too_many_arguments,
        reason = "the change, the endpoint, the acting user, the clock and the audit builder"
    )]
    pub async fn update_patient_flow(
        &self,
        current: &FlowRecord,
        link: FlowLink,
        update: FlowUpdate,
        write: FlowWrite,
        user_id: Option<i64>,
        now: DateTime<Utc>,
        audit: impl FlowAudit,
    ) -> Result<(FlowRecord, Transition), StoreError> {
        let applied = update
            .apply(&current.state(), now)
            .map_err(|error| StoreError::from(error.into_validation()))?;
        let (appointment_id, operation_id) = link_values(link)?;
        let tx = self.write().await?;
        let mut values = vec![
            (PatientFlow::AppointmentId, appointment_id.into()),
            (PatientFlow::OperationId, operation_id.into()),
            (PatientFlow::Status, applied.state.status.as_str().into()),
            (PatientFlow::ArrivalTime, applied.state.arrival_time.into()),
            (PatientFlow::Notes, applied.state.notes.clone().into()),
        ];
        if applied.transition.is_change() {
            values.push((PatientFlow::StatusChangedAt, now.into()));
        }
        let statement = Query::update()
            .table(PatientFlow::Table)
            .values(values)
            .and_where(Expr::col(PatientFlow::Id).eq(current.id))
            .and_where(Expr::col(PatientFlow::Status).eq(current.status.as_str()))
            .to_owned();
        let result = tx
            .execute(&statement)
            .await
            .map_err(|error| map_link_error(error, link))?;
        if result.rows_affected() == 0 {
            return Err(missing_or_stale(&*tx, current.id).await);
        }
        if let Transition::Changed { from, to } = applied.transition {
            insert_event(&*tx, current.id, from, to, user_id, now).await?;
        }
        let record = read_one(&*tx, current.id).await?;
        let patient_id = record.patient_id();
        if write == FlowWrite::Update {
            write_audit(
                &*tx,
                &audit(
                    "patient_flow_update",
                    patient_id,
                    json!({"flow_id": current.id}),
                ),
            )
            .await?;
        }
        if write == FlowWrite::Status || applied.transition.is_change() {
            write_audit(
                &*tx,
                &audit(
                    "patient_flow_status_update",
                    patient_id,
                    status_meta(current.id, current.status, record.status),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((record, applied.transition))
    }

    /// Deletes a flow read as `current` (its history goes with it) and audits
    /// `patient_flow_delete` (meta `{flow_id, status}`). A `done` flow is never deleted, also
    /// when it became `done` after it was read.
    pub async fn delete_patient_flow(
        &self,
        current: &FlowRecord,
        audit: impl FlowAudit,
    ) -> Result<(), StoreError> {
        if !may_delete(current.status) {
            return Err(TransitionError::ReadOnly.into_validation().into());
        }
        let tx = self.write().await?;
        let delete = Query::delete()
            .from_table(PatientFlow::Table)
            .and_where(Expr::col(PatientFlow::Id).eq(current.id))
            .and_where(Expr::col(PatientFlow::Status).eq(current.status.as_str()))
            .to_owned();
        if tx.execute(&delete).await?.rows_affected() == 0 {
            return Err(missing_or_stale(&*tx, current.id).await);
        }
        write_audit(
            &*tx,
            &audit(
                "patient_flow_delete",
                current.patient_id(),
                json!({"flow_id": current.id, "status": current.status.as_str()}),
            ),
        )
        .await?;
        tx.commit().await
    }
}

/// The appointments whose ids `ids` selects, keyed by id (the shared appointment reader).
async fn linked_appointments<C: ConnectionTrait>(
    conn: &C,
    ids: SelectStatement,
) -> Result<HashMap<i32, AppointmentRecord>, StoreError> {
    let filter = AppointmentFilter {
        ids_in: Some(ids),
        ..Default::default()
    };
    Ok(read_appointments(conn, &filter)
        .await?
        .into_iter()
        .map(|record| (record.id, record))
        .collect())
}

/// The operations whose ids `ids` selects, keyed by id (the shared operation reader).
async fn linked_operations<C: ConnectionTrait>(
    conn: &C,
    ids: SelectStatement,
) -> Result<HashMap<i64, OperationRecord>, StoreError> {
    let filter = OperationFilter {
        ids_in: Some(ids),
        ..Default::default()
    };
    Ok(read_operations(conn, &filter)
        .await?
        .into_iter()
        .map(|record| (record.id, record))
        .collect())
}
