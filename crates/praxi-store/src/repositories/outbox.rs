//! The outbox of appointment reminders (`praxi_outbox`, migration m0017; issue #14).
//!
//! * The booking transaction keeps the appointment's reminder in step with the row it writes
//!   ([`sync_reminder`], called by `Store::save_appointment` / `update_appointment` right
//!   before their commit): enqueue, move, or cancel, as `praxi_domain::reminder::plan` decides.
//! * The sender claims due rows ([`Store::claim_reminders`]): PostgreSQL
//!   `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, SQLite the same
//!   statement inside the single-writer transaction (`BEGIN IMMEDIATE` holds the file's write
//!   lock, so two processes never claim the same row). A claim is a lease: a row whose sender
//!   died is claimed again after `claimed_until`.
//! * The sender finishes a row ([`Store::finish_reminder`]) only while it still holds the
//!   claim (`claimed_by` = its id and status `sending`).
//!
//! Rows hold ids only; the message is rendered from the current rows ([`Store::reminder_details`]).
//! `last_error` never holds patient data.

use chrono::{DateTime, Duration, Utc};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::reminder::{ExistingReminder, OutboxStatus, ReminderPlan, plan};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, LockBehavior, LockType, Order, Query, SelectStatement,
};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{Appointment, CoreUser, Patients};
use crate::migration::m0017_reminders::Outbox;

/// The kind of every reminder row.
pub const REMINDER: &str = "reminder";

/// The default lead time of a reminder before the appointment (`PRAXI_REMINDER_HOURS`).
pub const DEFAULT_LEAD_HOURS: i64 = 24;

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub appointment_id: Option<i32>,
    pub patient_id: i32,
    pub due_at: DateTime<Utc>,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct OutboxRow {
    id: i64,
    kind: String,
    appointment_id: Option<i32>,
    patient_id: i32,
    due_at: DateTime<Utc>,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    claimed_by: Option<String>,
    claimed_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl OutboxRow {
    fn into_entry(self) -> Result<OutboxEntry, StoreError> {
        Ok(OutboxEntry {
            status: OutboxStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Db(format!("unknown outbox status {:?}", self.status))
            })?,
            id: self.id,
            kind: self.kind,
            appointment_id: self.appointment_id,
            patient_id: self.patient_id,
            due_at: self.due_at,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            claimed_by: self.claimed_by,
            claimed_until: self.claimed_until,
            last_error: self.last_error,
            sent_at: self.sent_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: [Outbox; 14] = [
    Outbox::Id,
    Outbox::Kind,
    Outbox::AppointmentId,
    Outbox::PatientId,
    Outbox::DueAt,
    Outbox::Status,
    Outbox::Attempts,
    Outbox::NextAttemptAt,
    Outbox::ClaimedBy,
    Outbox::ClaimedUntil,
    Outbox::LastError,
    Outbox::SentAt,
    Outbox::CreatedAt,
    Outbox::UpdatedAt,
];

async fn entries<C: ConnectionTrait, S: sea_orm::StatementBuilder>(
    conn: &C,
    statement: &S,
) -> Result<Vec<OutboxEntry>, StoreError> {
    conn.query_all(statement)
        .await?
        .iter()
        .map(|row| OutboxRow::from_query_result(row, "")?.into_entry())
        .collect()
}

/// Keeps an appointment's reminder in step with the booking just written, inside the booking's
/// transaction: `is_new` skips the read of existing rows (a new appointment has none).
#[expect(
    clippy::too_many_arguments,
    reason = "the booking's facts, each needed"
)]
pub(crate) async fn sync_reminder<C: ConnectionTrait>(
    conn: &C,
    appointment_id: i32,
    patient_id: i32,
    status: AppointmentStatus,
    start: DateTime<Utc>,
    lead: Option<Duration>,
    now: DateTime<Utc>,
    is_new: bool,
) -> Result<(), StoreError> {
    let existing = if is_new {
        Vec::new()
    } else {
        let select = Query::select()
            .columns(COLUMNS)
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::AppointmentId).eq(appointment_id))
            .and_where(Expr::col(Outbox::Kind).eq(REMINDER))
            .and_where(Expr::col(Outbox::Status).is_in([
                OutboxStatus::Queued.as_str(),
                OutboxStatus::Sending.as_str(),
                OutboxStatus::Sent.as_str(),
            ]))
            .to_owned();
        entries(conn, &select)
            .await?
            .into_iter()
            .map(|e| ExistingReminder {
                id: e.id,
                status: e.status,
                due_at: e.due_at,
            })
            .collect()
    };
    match plan(&existing, status, start, lead, now) {
        ReminderPlan::Keep => {}
        ReminderPlan::Enqueue {
            due_at,
            next_attempt_at,
        } => {
            let insert = Query::insert()
                .into_table(Outbox::Table)
                .columns([
                    Outbox::Kind,
                    Outbox::AppointmentId,
                    Outbox::PatientId,
                    Outbox::DueAt,
                    Outbox::Status,
                    Outbox::Attempts,
                    Outbox::NextAttemptAt,
                    Outbox::CreatedAt,
                    Outbox::UpdatedAt,
                ])
                .values_panic([
                    REMINDER.into(),
                    appointment_id.into(),
                    patient_id.into(),
                    due_at.into(),
                    OutboxStatus::Queued.as_str().into(),
                    0i32.into(),
                    next_attempt_at.into(),
                    now.into(),
                    now.into(),
                ])
                .to_owned();
            conn.execute(&insert).await?;
        }
        ReminderPlan::Reschedule {
            ids,
            due_at,
            next_attempt_at,
        } => {
            let update = Query::update()
                .table(Outbox::Table)
                .values([
                    (Outbox::DueAt, due_at.into()),
                    (Outbox::NextAttemptAt, next_attempt_at.into()),
                    (Outbox::PatientId, patient_id.into()),
                    (Outbox::UpdatedAt, now.into()),
                ])
                .and_where(Expr::col(Outbox::Id).is_in(ids))
                .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Queued.as_str()))
                .to_owned();
            conn.execute(&update).await?;
        }
        ReminderPlan::Cancel { ids } => {
            let update = Query::update()
                .table(Outbox::Table)
                .values([
                    (Outbox::Status, OutboxStatus::Cancelled.as_str().into()),
                    (Outbox::LastError, "appointment no longer due".into()),
                    (Outbox::UpdatedAt, now.into()),
                ])
                .and_where(Expr::col(Outbox::Id).is_in(ids))
                .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Queued.as_str()))
                .to_owned();
            conn.execute(&update).await?;
        }
    }
    Ok(())
}

/// What a reminder message is rendered from: the current rows, read when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ReminderDetails {
    pub outbox_id: i64,
    pub appointment_id: Option<i32>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub appointment_status: Option<String>,
    pub patient_id: i32,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub reminder_opt_out: bool,
    pub doctor_first_name: Option<String>,
    pub doctor_last_name: Option<String>,
}

/// How the sender finished one claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderOutcome {
    /// The SMTP server accepted the message.
    Sent,
    /// Try again at `next_attempt_at`; `error` names the failure without patient data.
    Retry {
        next_attempt_at: DateTime<Utc>,
        error: String,
    },
    /// Given up.
    Failed { error: String },
    /// Not to be sent (`reason` without patient data).
    Cancelled { reason: String },
}

/// Filter of the staff list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub appointment_id: Option<i32>,
    pub patient_id: Option<i32>,
    pub limit: Option<u64>,
}

fn claimable(now: DateTime<Utc>) -> sea_orm::sea_query::Condition {
    sea_orm::sea_query::Condition::any()
        .add(
            Expr::col(Outbox::Status)
                .eq(OutboxStatus::Queued.as_str())
                .and(Expr::col(Outbox::NextAttemptAt).lte(now)),
        )
        .add(
            Expr::col(Outbox::Status)
                .eq(OutboxStatus::Sending.as_str())
                .and(Expr::col(Outbox::ClaimedUntil).lt(now)),
        )
}

impl Store {
    /// The lead time of reminders before the appointment (`None`: reminders are off).
    pub fn reminder_lead(&self) -> Option<Duration> {
        self.reminder_lead
    }

    /// Sets the lead time of reminders (`None` turns enqueueing off).
    pub fn set_reminder_lead(&mut self, lead: Option<Duration>) {
        self.reminder_lead = lead;
    }

    /// Claims up to `limit` due reminders for the sender `me` until `now + lease`: queued rows
    /// whose `next_attempt_at` has come, and rows whose previous sender's lease ran out. Each
    /// claim counts as an attempt. Never hands one row to two senders at once (PostgreSQL:
    /// `FOR UPDATE SKIP LOCKED`; SQLite: the single writer across processes).
    pub async fn claim_reminders(
        &self,
        me: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let tx = self.write().await?;
        let mut due: SelectStatement = Query::select()
            .column(Outbox::Id)
            .from(Outbox::Table)
            .cond_where(claimable(now))
            .order_by(Outbox::Id, Order::Asc)
            .limit(limit)
            .to_owned();
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        let claim = Query::update()
            .table(Outbox::Table)
            .values([
                (Outbox::Status, OutboxStatus::Sending.as_str().into()),
                (Outbox::ClaimedBy, me.into()),
                (Outbox::ClaimedUntil, (now + lease).into()),
                (Outbox::UpdatedAt, now.into()),
            ])
            .value(Outbox::Attempts, Expr::col(Outbox::Attempts).add(1))
            .and_where(Expr::col(Outbox::Id).in_subquery(due))
            // Re-checked on the row itself (PostgreSQL re-evaluates it after a lock wait).
            .cond_where(claimable(now))
            .returning(Query::returning().columns(COLUMNS))
            .to_owned();
        let mut claimed = entries(&*tx, &claim).await?;
        tx.commit().await?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    /// The current appointment, patient and doctor of claimed reminders (one statement).
    pub async fn reminder_details(&self, ids: &[i64]) -> Result<Vec<ReminderDetails>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let doctor = Alias::new("doctor");
        let select = Query::select()
            .expr_as(
                Expr::col((Outbox::Table, Outbox::Id)),
                Alias::new("outbox_id"),
            )
            .expr_as(
                Expr::col((Appointment::Table, Appointment::Id)),
                Alias::new("appointment_id"),
            )
            .column((Appointment::Table, Appointment::StartTime))
            .column((Appointment::Table, Appointment::EndTime))
            .expr_as(
                Expr::col((Appointment::Table, Appointment::Status)),
                Alias::new("appointment_status"),
            )
            .expr_as(
                Expr::col((Patients::Table, Patients::Id)),
                Alias::new("patient_id"),
            )
            .column((Patients::Table, Patients::FirstName))
            .column((Patients::Table, Patients::LastName))
            .column((Patients::Table, Patients::Email))
            .expr_as(
                Expr::col((Patients::Table, Alias::new("reminder_opt_out"))),
                Alias::new("reminder_opt_out"),
            )
            .expr_as(
                Expr::col((doctor.clone(), CoreUser::FirstName)),
                Alias::new("doctor_first_name"),
            )
            .expr_as(
                Expr::col((doctor.clone(), CoreUser::LastName)),
                Alias::new("doctor_last_name"),
            )
            .from(Outbox::Table)
            .inner_join(
                Patients::Table,
                Expr::col((Patients::Table, Patients::Id))
                    .equals((Outbox::Table, Outbox::PatientId)),
            )
            .left_join(
                Appointment::Table,
                Expr::col((Appointment::Table, Appointment::Id))
                    .equals((Outbox::Table, Outbox::AppointmentId)),
            )
            .join_as(
                sea_orm::sea_query::JoinType::LeftJoin,
                CoreUser::Table,
                doctor.clone(),
                Expr::col((doctor, CoreUser::Id))
                    .equals((Appointment::Table, Appointment::DoctorId)),
            )
            .and_where(Expr::col((Outbox::Table, Outbox::Id)).is_in(ids.iter().copied()))
            .to_owned();
        Ok(self
            .conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| ReminderDetails::from_query_result(row, ""))
            .collect::<Result<_, _>>()?)
    }

    /// Records how the sender `me` finished a claimed row, only while it still holds the claim;
    /// `false` when the claim had passed to another sender (nothing written). A sent reminder
    /// writes the audit row `reminder_sent` (the patient's e-mail address was read).
    pub async fn finish_reminder(
        &self,
        id: i64,
        me: &str,
        outcome: &ReminderOutcome,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        let mut update = Query::update();
        update
            .table(Outbox::Table)
            .value(Outbox::UpdatedAt, now)
            .value(Outbox::ClaimedUntil, Option::<DateTime<Utc>>::None)
            .and_where(Expr::col(Outbox::Id).eq(id))
            .and_where(Expr::col(Outbox::ClaimedBy).eq(me))
            .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Sending.as_str()));
        match outcome {
            ReminderOutcome::Sent => {
                update
                    .value(Outbox::Status, OutboxStatus::Sent.as_str())
                    .value(Outbox::SentAt, now)
                    .value(Outbox::LastError, Option::<String>::None);
            }
            ReminderOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                update
                    .value(Outbox::Status, OutboxStatus::Queued.as_str())
                    .value(Outbox::NextAttemptAt, *next_attempt_at)
                    .value(Outbox::LastError, truncate(error));
            }
            ReminderOutcome::Failed { error } => {
                update
                    .value(Outbox::Status, OutboxStatus::Failed.as_str())
                    .value(Outbox::LastError, truncate(error));
            }
            ReminderOutcome::Cancelled { reason } => {
                update
                    .value(Outbox::Status, OutboxStatus::Cancelled.as_str())
                    .value(Outbox::LastError, truncate(reason));
            }
        }
        let tx = self.write().await?;
        let changed = tx.execute(&update).await?.rows_affected() > 0;
        if changed && let Some(audit) = audit {
            write_audit(&*tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Outbox rows for staff, newest first.
    pub async fn outbox_entries(
        &self,
        filter: &OutboxFilter,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut select = Query::select();
        select
            .columns(COLUMNS)
            .from(Outbox::Table)
            .order_by(Outbox::Id, Order::Desc)
            .limit(filter.limit.unwrap_or(200));
        if let Some(status) = filter.status {
            select.and_where(Expr::col(Outbox::Status).eq(status.as_str()));
        }
        if let Some(id) = filter.appointment_id {
            select.and_where(Expr::col(Outbox::AppointmentId).eq(id));
        }
        if let Some(id) = filter.patient_id {
            select.and_where(Expr::col(Outbox::PatientId).eq(id));
        }
        entries(self.conn(), &select).await
    }

    /// One outbox row.
    pub async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
        let select = Query::select()
            .columns(COLUMNS)
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::Id).eq(id))
            .to_owned();
        Ok(entries(self.conn(), &select).await?.into_iter().next())
    }

    /// Queues a failed reminder again, due now, with fresh attempts; audited.
    /// `None` for an unknown id or a row in another state.
    pub async fn retry_reminder(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: impl FnOnce(i32) -> AuditEntry,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(Outbox::Table)
            .values([
                (Outbox::Status, OutboxStatus::Queued.as_str().into()),
                (Outbox::Attempts, 0i32.into()),
                (Outbox::NextAttemptAt, now.into()),
                (Outbox::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Outbox::Id).eq(id))
            .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Failed.as_str()))
            .returning(Query::returning().columns(COLUMNS))
            .to_owned();
        let Some(entry) = entries(&*tx, &update).await?.into_iter().next() else {
            return Ok(None);
        };
        write_audit(&*tx, &audit(entry.patient_id)).await?;
        tx.commit().await?;
        Ok(Some(entry))
    }

    /// Whether a patient opted out of reminders (`None`: no such patient).
    pub async fn reminder_opt_out(&self, patient_id: i32) -> Result<Option<bool>, StoreError> {
        #[derive(FromQueryResult)]
        struct Flag {
            reminder_opt_out: bool,
        }
        let select = Query::select()
            .column(Alias::new("reminder_opt_out"))
            .from(Patients::Table)
            .and_where(Expr::col(Patients::Id).eq(patient_id))
            .to_owned();
        Ok(match self.conn().query_one(&select).await? {
            Some(row) => Some(Flag::from_query_result(&row, "")?.reminder_opt_out),
            None => None,
        })
    }

    /// Sets a patient's reminder opt-out (audited); `false` for an unknown patient. Opting out
    /// leaves queued reminders in place: the sender checks the flag when it sends.
    pub async fn set_reminder_opt_out(
        &self,
        patient_id: i32,
        opt_out: bool,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(Patients::Table)
            .value(Alias::new("reminder_opt_out"), opt_out)
            .value(Patients::UpdatedAt, now)
            .and_where(Expr::col(Patients::Id).eq(patient_id))
            .to_owned();
        if tx.execute(&update).await?.rows_affected() == 0 {
            return Ok(false);
        }
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// `last_error` holds at most 200 characters.
fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}
