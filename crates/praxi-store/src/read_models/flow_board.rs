//! Reads for the staff UI's patient-flow board (`/flow/`) that the flow module's filters do
//! not cover:
//!
//! * [`Store::finished_flows`] — the flows that became `done` during a local day (the board's
//!   last column; the live filter of [`crate::flow::FlowFilter`] leaves `done` flows out), with
//!   the few facts a card shows and the status milestones the wait and treatment times are
//!   computed from (two statements whatever the number of rows).
//! * [`Store::appointments_with_flow`], [`Store::appointment_has_flow`] — which appointments
//!   already have a flow (the "arrived" buttons of the day list; one statement each).
//!
//! Scopes are passed in by the caller from the RBAC decision (a doctor's own flows only);
//! nothing here decides access, nothing here writes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use praxi_domain::flow::{FlowStatus, FlowTimes, Milestones, flow_times};
use praxi_domain::scheduling::Interval;
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{
    Appointment, AppointmentType, CoreUser, Operation, OperationType, PatientFlow,
    PatientFlowEvent, Patients,
};

/// The most finished flows one read returns (newest first).
pub const FINISHED_LIMIT: u64 = 200;

/// A flow that became `done` on the day, with what its card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedFlow {
    pub id: i64,
    pub appointment_id: Option<i32>,
    pub operation_id: Option<i64>,
    /// The patient of the appointment or operation.
    pub patient_id: Option<i32>,
    pub patient_first_name: String,
    pub patient_last_name: String,
    /// Start of the appointment or operation.
    pub start_time: Option<DateTime<Utc>>,
    /// The appointment type or operation type.
    pub type_name: Option<String>,
    /// The appointment's doctor or the operation's primary surgeon ("First Last", else the
    /// username).
    pub doctor_name: Option<String>,
    pub arrival_time: Option<DateTime<Utc>>,
    /// When the flow became `done` (its last status change).
    pub done_at: DateTime<Utc>,
    /// The first transitions to `in_treatment` and `done`.
    pub milestones: Milestones,
}

impl FinishedFlow {
    /// Wait and treatment minutes (fixed once the flow is done; `now` only matters for a flow
    /// without a `done` milestone).
    pub fn times(&self, now: DateTime<Utc>) -> FlowTimes {
        flow_times(self.arrival_time, self.milestones, now)
    }
}

#[derive(FromQueryResult)]
struct FinishedRow {
    id: i64,
    appointment_id: Option<i32>,
    operation_id: Option<i64>,
    arrival_time: Option<DateTime<Utc>>,
    status_changed_at: DateTime<Utc>,
    a_patient_id: Option<i32>,
    a_start: Option<DateTime<Utc>>,
    a_type: Option<String>,
    o_patient_id: Option<i32>,
    o_start: Option<DateTime<Utc>>,
    o_type: Option<String>,
    pa_first_name: Option<String>,
    pa_last_name: Option<String>,
    po_first_name: Option<String>,
    po_last_name: Option<String>,
    ad_username: Option<String>,
    ad_first_name: Option<String>,
    ad_last_name: Option<String>,
    os_username: Option<String>,
    os_first_name: Option<String>,
    os_last_name: Option<String>,
}

#[derive(FromQueryResult)]
struct MilestoneRow {
    flow_id: i64,
    to_status: String,
    at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct AppointmentIdRow {
    appointment_id: Option<i32>,
}

/// "First Last", else the username; `None` without a user.
fn person(username: Option<String>, first: Option<String>, last: Option<String>) -> Option<String> {
    let username = username?;
    let full = format!(
        "{} {}",
        first.unwrap_or_default().trim(),
        last.unwrap_or_default().trim()
    );
    let full = full.trim();
    Some(if full.is_empty() {
        username
    } else {
        full.to_owned()
    })
}

const A: &str = "fb_a";
const O: &str = "fb_o";
const AT: &str = "fb_at";
const OT: &str = "fb_ot";
const AD: &str = "fb_ad";
const OS: &str = "fb_os";
const PA: &str = "fb_pa";
const PO: &str = "fb_po";

fn col(table: &str, column: impl sea_orm::sea_query::IntoIden) -> Expr {
    Expr::col((Alias::new(table), column))
}

/// `SELECT … FROM flows LEFT JOIN` appointment, operation, their types, people and patients.
fn finished_select(day: Interval, member: Option<i64>) -> SelectStatement {
    let f = PatientFlow::Table;
    let mut select = Query::select();
    select
        .columns([
            (f, PatientFlow::Id),
            (f, PatientFlow::AppointmentId),
            (f, PatientFlow::OperationId),
            (f, PatientFlow::ArrivalTime),
            (f, PatientFlow::StatusChangedAt),
        ])
        .expr_as(col(A, Appointment::PatientId), Alias::new("a_patient_id"))
        .expr_as(col(A, Appointment::StartTime), Alias::new("a_start"))
        .expr_as(col(AT, AppointmentType::Name), Alias::new("a_type"))
        .expr_as(col(O, Operation::PatientId), Alias::new("o_patient_id"))
        .expr_as(col(O, Operation::StartTime), Alias::new("o_start"))
        .expr_as(col(OT, OperationType::Name), Alias::new("o_type"));
    for (table, prefix) in [(PA, "pa"), (PO, "po")] {
        select
            .expr_as(
                col(table, Patients::FirstName),
                Alias::new(format!("{prefix}_first_name")),
            )
            .expr_as(
                col(table, Patients::LastName),
                Alias::new(format!("{prefix}_last_name")),
            );
    }
    for (table, prefix) in [(AD, "ad"), (OS, "os")] {
        select
            .expr_as(
                col(table, CoreUser::Username),
                Alias::new(format!("{prefix}_username")),
            )
            .expr_as(
                col(table, CoreUser::FirstName),
                Alias::new(format!("{prefix}_first_name")),
            )
            .expr_as(
                col(table, CoreUser::LastName),
                Alias::new(format!("{prefix}_last_name")),
            );
    }
    let left = JoinType::LeftJoin;
    select
        .from(f)
        .join_as(
            left,
            Appointment::Table,
            Alias::new(A),
            col(A, Appointment::Id).equals((f, PatientFlow::AppointmentId)),
        )
        .join_as(
            left,
            Operation::Table,
            Alias::new(O),
            col(O, Operation::Id).equals((f, PatientFlow::OperationId)),
        )
        .join_as(
            left,
            AppointmentType::Table,
            Alias::new(AT),
            col(AT, AppointmentType::Id).equals((Alias::new(A), Appointment::TypeId)),
        )
        .join_as(
            left,
            OperationType::Table,
            Alias::new(OT),
            col(OT, OperationType::Id).equals((Alias::new(O), Operation::OpTypeId)),
        )
        .join_as(
            left,
            CoreUser::Table,
            Alias::new(AD),
            col(AD, CoreUser::Id).equals((Alias::new(A), Appointment::DoctorId)),
        )
        .join_as(
            left,
            CoreUser::Table,
            Alias::new(OS),
            col(OS, CoreUser::Id).equals((Alias::new(O), Operation::PrimarySurgeonId)),
        )
        .join_as(
            left,
            Patients::Table,
            Alias::new(PA),
            col(PA, Patients::Id).equals((Alias::new(A), Appointment::PatientId)),
        )
        .join_as(
            left,
            Patients::Table,
            Alias::new(PO),
            col(PO, Patients::Id).equals((Alias::new(O), Operation::PatientId)),
        );
    select
        .and_where(Expr::col((f, PatientFlow::Status)).eq(FlowStatus::Done.as_str()))
        .and_where(Expr::col((f, PatientFlow::StatusChangedAt)).gte(day.start()))
        .and_where(Expr::col((f, PatientFlow::StatusChangedAt)).lt(day.end()));
    if let Some(user) = member {
        select.cond_where(
            Cond::any()
                .add(col(A, Appointment::DoctorId).eq(user))
                .add(col(O, Operation::PrimarySurgeonId).eq(user))
                .add(col(O, Operation::AssistantId).eq(user))
                .add(col(O, Operation::AnesthesistId).eq(user)),
        );
    }
    select
        .order_by((f, PatientFlow::StatusChangedAt), Order::Desc)
        .order_by((f, PatientFlow::Id), Order::Desc)
        .limit(FINISHED_LIMIT);
    select
}

impl FinishedRow {
    fn into_flow(self, milestones: Milestones) -> FinishedFlow {
        let via_appointment = self.appointment_id.is_some();
        let (patient_id, start_time, type_name, first, last, doctor) = if via_appointment {
            (
                self.a_patient_id,
                self.a_start,
                self.a_type,
                self.pa_first_name,
                self.pa_last_name,
                person(self.ad_username, self.ad_first_name, self.ad_last_name),
            )
        } else {
            (
                self.o_patient_id,
                self.o_start,
                self.o_type,
                self.po_first_name,
                self.po_last_name,
                person(self.os_username, self.os_first_name, self.os_last_name),
            )
        };
        FinishedFlow {
            id: self.id,
            appointment_id: self.appointment_id,
            operation_id: self.operation_id,
            patient_id,
            patient_first_name: first.unwrap_or_default(),
            patient_last_name: last.unwrap_or_default(),
            start_time,
            type_name,
            doctor_name: doctor,
            arrival_time: self.arrival_time,
            done_at: self.status_changed_at,
            milestones,
        }
    }
}

impl Store {
    /// The flows that became `done` during `day` (newest first, at most [`FINISHED_LIMIT`]);
    /// `member` restricts them to that doctor's flows (their appointment, or an operation in
    /// whose team they are). Two statements.
    pub async fn finished_flows(
        &self,
        day: Interval,
        member: Option<i64>,
    ) -> Result<Vec<FinishedFlow>, StoreError> {
        let conn = self.conn();
        let rows: Vec<FinishedRow> = conn
            .query_all(&finished_select(day, member))
            .await?
            .iter()
            .map(|row| FinishedRow::from_query_result(row, ""))
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
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
            .and_where(Expr::col(PatientFlowEvent::FlowId).is_in(ids))
            .to_owned();
        let mut history: HashMap<i64, Vec<(FlowStatus, DateTime<Utc>)>> = HashMap::new();
        for row in conn.query_all(&events).await? {
            let event = MilestoneRow::from_query_result(&row, "")?;
            if let Some(status) = FlowStatus::parse(&event.to_status) {
                history
                    .entry(event.flow_id)
                    .or_default()
                    .push((status, event.at));
            }
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let milestones =
                    Milestones::from_events(history.remove(&row.id).unwrap_or_default());
                row.into_flow(milestones)
            })
            .collect())
    }

    /// `true` when the appointment has at least one flow (in any status). One statement.
    pub async fn appointment_has_flow(&self, appointment_id: i32) -> Result<bool, StoreError> {
        let select = Query::select()
            .column(PatientFlow::AppointmentId)
            .from(PatientFlow::Table)
            .and_where(Expr::col(PatientFlow::AppointmentId).eq(appointment_id))
            .limit(1)
            .to_owned();
        Ok(self.conn().query_one(&select).await?.is_some())
    }

    /// The ids of the appointments overlapping `period` that have at least one flow (in any
    /// status). One statement.
    pub async fn appointments_with_flow(
        &self,
        period: Interval,
    ) -> Result<HashSet<i32>, StoreError> {
        let in_period = Query::select()
            .column(Appointment::Id)
            .from(Appointment::Table)
            .and_where(Expr::col(Appointment::StartTime).lt(period.end()))
            .and_where(Expr::col(Appointment::EndTime).gt(period.start()))
            .to_owned();
        let select = Query::select()
            .distinct()
            .column(PatientFlow::AppointmentId)
            .from(PatientFlow::Table)
            .and_where(Expr::col(PatientFlow::AppointmentId).in_subquery(in_period))
            .to_owned();
        let mut ids = HashSet::new();
        for row in self.conn().query_all(&select).await? {
            if let Some(id) = AppointmentIdRow::from_query_result(&row, "")?.appointment_id {
                ids.insert(id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_named_first_last_else_by_username() {
        let s = |text: &str| Some(text.to_owned());
        let cases = [
            (s("anna"), s("Anna"), s("Berg"), s("Anna Berg")),
            (s("anna"), s(" "), s(""), s("anna")),
            (s("anna"), None, s("Berg"), s("Berg")),
            (None, s("Anna"), s("Berg"), None),
        ];
        for (username, first, last, expected) in cases {
            assert_eq!(
                person(username.clone(), first.clone(), last.clone()),
                expected,
                "{username:?} {first:?} {last:?}"
            );
        }
    }
}
