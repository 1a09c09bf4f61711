//! Reads for the staff UI's patient and doctor pages (`/patients/`, `/doctors/`): the
//! patient-flow history of one patient, next appointments per patient or doctor, lean
//! appointment facts for the doctor figures, active doctor hours and upcoming absences.
//!
//! Every function is one set-based statement whatever the number of rows. Scopes are passed
//! in by the caller from the RBAC decision (a doctor's own rows only); nothing here decides
//! access.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::flow::FlowStatus;
use praxi_domain::kpi::{AppointmentFact, AppointmentStatus};
use praxi_domain::scheduling::Interval;
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::absences::AbsenceRecord;
use crate::appointments::AppointmentRecord;
use crate::db::Store;
use crate::entity::{doctor_absence, doctor_hours};
use crate::error::StoreError;
use crate::hours::DoctorHoursRecord;
use crate::migration::idens::{Appointment, CoreUser, Operation, PatientFlow, PatientFlowEvent};

/// The most status changes the history of one patient shows (newest first).
pub const FLOW_HISTORY_LIMIT: u64 = 200;

/// The most upcoming absences one read returns.
pub const ABSENCE_LIMIT: u64 = 200;

/// What a patient-flow status change was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowVisit {
    /// The flow's appointment: id and start.
    Appointment(i32, DateTime<Utc>),
    /// The flow's operation: id and start.
    Operation(i64, DateTime<Utc>),
}

/// One row of `appointments_patientflowevent` with what the patient page shows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEventRecord {
    pub id: i64,
    pub flow_id: i64,
    /// `None` for the creation of the flow.
    pub from_status: Option<FlowStatus>,
    pub to_status: FlowStatus,
    pub at: DateTime<Utc>,
    /// The display name of the staff member who made the change, when known.
    pub changed_by: Option<String>,
    pub visit: Option<FlowVisit>,
}

#[derive(FromQueryResult)]
struct FlowEventRow {
    id: i64,
    flow_id: i64,
    from_status: Option<String>,
    to_status: String,
    at: DateTime<Utc>,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    appointment_id: Option<i32>,
    appointment_start: Option<DateTime<Utc>>,
    operation_id: Option<i64>,
    operation_start: Option<DateTime<Utc>>,
}

fn parse_flow_status(value: &str) -> Result<FlowStatus, StoreError> {
    FlowStatus::parse(value)
        .ok_or_else(|| StoreError::Db(format!("unknown patient flow status {value:?}")))
}

/// "First Last", else the username (the Person rule), else nothing.
fn person_name(
    username: Option<String>,
    first: Option<String>,
    last: Option<String>,
) -> Option<String> {
    let full = format!(
        "{} {}",
        first.as_deref().unwrap_or("").trim(),
        last.as_deref().unwrap_or("").trim()
    );
    let full = full.trim();
    if full.is_empty() {
        username.filter(|name| !name.is_empty())
    } else {
        Some(full.to_owned())
    }
}

impl TryFrom<FlowEventRow> for FlowEventRecord {
    type Error = StoreError;

    fn try_from(row: FlowEventRow) -> Result<Self, StoreError> {
        let visit = match (
            row.appointment_id,
            row.appointment_start,
            row.operation_id,
            row.operation_start,
        ) {
            (Some(id), Some(start), _, _) => Some(FlowVisit::Appointment(id, start)),
            (_, _, Some(id), Some(start)) => Some(FlowVisit::Operation(id, start)),
            _ => None,
        };
        Ok(FlowEventRecord {
            id: row.id,
            flow_id: row.flow_id,
            from_status: row
                .from_status
                .as_deref()
                .map(parse_flow_status)
                .transpose()?,
            to_status: parse_flow_status(&row.to_status)?,
            at: row.at,
            changed_by: person_name(row.username, row.first_name, row.last_name),
            visit,
        })
    }
}

/// `patient_id` is a 32-bit column, `doctor_id` a 64-bit one: one row type each.
#[derive(FromQueryResult)]
struct NextPatientRow {
    key: i32,
    next_start: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct NextDoctorRow {
    key: i64,
    next_start: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct FactRow {
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

/// The KPI view of a loaded appointment (`None` for a status the schema does not allow).
pub fn appointment_fact(record: &AppointmentRecord) -> Option<AppointmentFact> {
    Some(AppointmentFact {
        id: record.id,
        doctor: record.doctor_id,
        patient: record.patient_id,
        start: record.start_time,
        end: record.end_time,
        status: record.status,
        is_no_show: record.is_no_show,
        created_at: record.created_at,
        updated_at: record.updated_at,
        resources: record
            .resources
            .iter()
            .map(|resource| resource.id)
            .collect(),
    })
}

/// Statuses of an appointment that is still going to happen.
/// `key, min(start_time) AS next_start` of the open appointments starting at or after `after`,
/// grouped by `key`.
fn next_starts(
    key: Appointment,
    cond: Cond,
    after: DateTime<Utc>,
    doctor: Option<i64>,
) -> sea_orm::sea_query::SelectStatement {
    let mut select = Query::select()
        .expr_as(Expr::col(key), Alias::new("key"))
        .expr_as(
            Expr::col(Appointment::StartTime).min(),
            Alias::new("next_start"),
        )
        .from(Appointment::Table)
        .cond_where(cond)
        .and_where(Expr::col(Appointment::StartTime).gte(after))
        .and_where(Expr::col(Appointment::Status).is_in(AppointmentStatus::open_values()))
        .group_by_col(key)
        .to_owned();
    if let Some(doctor) = doctor {
        select.and_where(Expr::col(Appointment::DoctorId).eq(doctor));
    }
    select
}

impl Store {
    /// The patient-flow status changes of one patient, newest first (at most
    /// [`FLOW_HISTORY_LIMIT`]). A flow belongs to the patient of its appointment, else of its
    /// operation. `member` restricts to the flows of a doctor: their appointments or the
    /// operations they are in the team of (as the patient-flow list does).
    pub async fn patient_flow_history(
        &self,
        patient_id: i32,
        member: Option<i64>,
    ) -> Result<Vec<FlowEventRecord>, StoreError> {
        let e = PatientFlowEvent::Table;
        let f = PatientFlow::Table;
        let a = Appointment::Table;
        let o = Operation::Table;
        let u = CoreUser::Table;
        let mut select = Query::select()
            .columns([
                (e, PatientFlowEvent::Id),
                (e, PatientFlowEvent::FlowId),
                (e, PatientFlowEvent::FromStatus),
                (e, PatientFlowEvent::ToStatus),
                (e, PatientFlowEvent::At),
            ])
            .columns([
                (u, CoreUser::Username),
                (u, CoreUser::FirstName),
                (u, CoreUser::LastName),
            ])
            .expr_as(
                Expr::col((a, Appointment::Id)),
                Alias::new("appointment_id"),
            )
            .expr_as(
                Expr::col((a, Appointment::StartTime)),
                Alias::new("appointment_start"),
            )
            .expr_as(Expr::col((o, Operation::Id)), Alias::new("operation_id"))
            .expr_as(
                Expr::col((o, Operation::StartTime)),
                Alias::new("operation_start"),
            )
            .from(e)
            .inner_join(
                f,
                Expr::col((f, PatientFlow::Id)).equals((e, PatientFlowEvent::FlowId)),
            )
            .left_join(
                a,
                Expr::col((a, Appointment::Id)).equals((f, PatientFlow::AppointmentId)),
            )
            .left_join(
                o,
                Expr::col((o, Operation::Id)).equals((f, PatientFlow::OperationId)),
            )
            .left_join(
                u,
                Expr::col((u, CoreUser::Id)).equals((e, PatientFlowEvent::UserId)),
            )
            .cond_where(
                Cond::any()
                    .add(Expr::col((a, Appointment::PatientId)).eq(patient_id))
                    .add(
                        Cond::all()
                            .add(Expr::col((a, Appointment::Id)).is_null())
                            .add(Expr::col((o, Operation::PatientId)).eq(patient_id)),
                    ),
            )
            .order_by((e, PatientFlowEvent::At), Order::Desc)
            .order_by((e, PatientFlowEvent::Id), Order::Desc)
            .limit(FLOW_HISTORY_LIMIT)
            .to_owned();
        if let Some(user) = member {
            select.cond_where(
                Cond::any()
                    .add(Expr::col((a, Appointment::DoctorId)).eq(user))
                    .add(Expr::col((o, Operation::PrimarySurgeonId)).eq(user))
                    .add(Expr::col((o, Operation::AssistantId)).eq(user))
                    .add(Expr::col((o, Operation::AnesthesistId)).eq(user)),
            );
        }
        self.conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| FlowEventRow::from_query_result(row, "")?.try_into())
            .collect()
    }

    /// The start of each patient's next scheduled or confirmed appointment starting at or
    /// after `after` (patients without one are absent). `doctor` restricts to that doctor's
    /// appointments.
    pub async fn next_patient_appointments(
        &self,
        patient_ids: &[i32],
        after: DateTime<Utc>,
        doctor: Option<i64>,
    ) -> Result<HashMap<i32, DateTime<Utc>>, StoreError> {
        if patient_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let cond =
            Cond::all().add(Expr::col(Appointment::PatientId).is_in(patient_ids.iter().copied()));
        let select = next_starts(Appointment::PatientId, cond, after, doctor);
        let mut out = HashMap::new();
        for row in self.conn().query_all(&select).await? {
            let row = NextPatientRow::from_query_result(&row, "")?;
            if let Some(start) = row.next_start {
                out.insert(row.key, start);
            }
        }
        Ok(out)
    }

    /// The start of each doctor's next scheduled or confirmed appointment starting at or after
    /// `after`. `doctor` restricts to that doctor.
    pub async fn next_doctor_appointments(
        &self,
        after: DateTime<Utc>,
        doctor: Option<i64>,
    ) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        let select = next_starts(Appointment::DoctorId, Cond::all(), after, doctor);
        let mut out = HashMap::new();
        for row in self.conn().query_all(&select).await? {
            let row = NextDoctorRow::from_query_result(&row, "")?;
            if let Some(start) = row.next_start {
                out.insert(row.key, start);
            }
        }
        Ok(out)
    }

    /// Appointments starting in `window` (every status) as KPI facts, without resources.
    /// `doctor` restricts to that doctor's appointments.
    pub async fn appointment_facts_starting(
        &self,
        window: &Interval,
        doctor: Option<i64>,
    ) -> Result<Vec<AppointmentFact>, StoreError> {
        let mut select = Query::select()
            .columns([
                Appointment::Id,
                Appointment::DoctorId,
                Appointment::PatientId,
                Appointment::StartTime,
                Appointment::EndTime,
                Appointment::Status,
                Appointment::IsNoShow,
                Appointment::CreatedAt,
                Appointment::UpdatedAt,
            ])
            .from(Appointment::Table)
            .and_where(Expr::col(Appointment::StartTime).gte(window.start()))
            .and_where(Expr::col(Appointment::StartTime).lt(window.end()))
            .order_by(Appointment::StartTime, Order::Asc)
            .order_by(Appointment::Id, Order::Asc)
            .to_owned();
        if let Some(doctor) = doctor {
            select.and_where(Expr::col(Appointment::DoctorId).eq(doctor));
        }
        let mut facts = Vec::new();
        for row in self.conn().query_all(&select).await? {
            let row = FactRow::from_query_result(&row, "")?;
            let Some(status) = AppointmentStatus::parse(&row.status) else {
                continue;
            };
            facts.push(AppointmentFact {
                id: row.id,
                doctor: row.doctor_id,
                patient: row.patient_id,
                start: row.start_time,
                end: row.end_time,
                status,
                is_no_show: row.is_no_show,
                created_at: row.created_at,
                updated_at: row.updated_at,
                resources: Vec::new(),
            });
        }
        Ok(facts)
    }

    /// Active weekly hours in doctor, weekday, start order; `doctor` restricts to one doctor.
    pub async fn active_doctor_hours(
        &self,
        doctor: Option<i64>,
    ) -> Result<Vec<DoctorHoursRecord>, StoreError> {
        use doctor_hours::Column;
        let mut select = doctor_hours::Entity::find().filter(Column::Active.eq(true));
        if let Some(doctor) = doctor {
            select = select.filter(Column::DoctorId.eq(doctor));
        }
        Ok(select
            .order_by_asc(Column::DoctorId)
            .order_by_asc(Column::Weekday)
            .order_by_asc(Column::StartTime)
            .order_by_asc(Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(DoctorHoursRecord::from)
            .collect())
    }

    /// Active absences ending on or after `from` and starting on or before `until`, in start
    /// order (at most [`ABSENCE_LIMIT`]); `doctor` restricts to one doctor.
    pub async fn upcoming_absences(
        &self,
        from: NaiveDate,
        until: NaiveDate,
        doctor: Option<i64>,
    ) -> Result<Vec<AbsenceRecord>, StoreError> {
        use doctor_absence::Column;
        let mut select = doctor_absence::Entity::find()
            .filter(Column::Active.eq(true))
            .filter(Column::EndDate.gte(from))
            .filter(Column::StartDate.lte(until));
        if let Some(doctor) = doctor {
            select = select.filter(Column::DoctorId.eq(doctor));
        }
        Ok(select
            .order_by_asc(Column::StartDate)
            .order_by_asc(Column::DoctorId)
            .order_by_asc(Column::Id)
            .limit(ABSENCE_LIMIT)
            .all(self.conn())
            .await?
            .into_iter()
            .map(AbsenceRecord::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_fall_back_to_the_username() {
        let s = |text: &str| Some(text.to_owned());
        assert_eq!(
            person_name(s("anna"), s("Anna"), s("Arzt")).as_deref(),
            Some("Anna Arzt")
        );
        assert_eq!(
            person_name(s("anna"), s(" "), None).as_deref(),
            Some("anna")
        );
        assert_eq!(person_name(None, None, None), None);
        assert_eq!(person_name(s(""), s(""), s("")), None);
    }
}
