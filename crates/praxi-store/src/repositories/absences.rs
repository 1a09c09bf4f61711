//! Doctor absences (data-model.md §5.4) and what the absence preview needs: the doctor's
//! vacation ledger and the bookings an absence would affect.
//!
//! The stored snapshot columns (`duration_workdays`, `return_date`, `remaining_days`) are
//! computed by the domain. Because `remaining_days` is the balance of a whole calendar year,
//! every write recomputes it for all of the doctor's absences in the same transaction (under
//! the doctor's lock), so the snapshots never go stale (data-model.md §15 item 19).

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::absence::{AbsenceChanges, AbsenceFields, AbsenceSpan, VacationLedger};
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use sea_orm::sea_query::{Order, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::entity::{appointment, doctor_absence, operation, user};
use crate::error::StoreError;
use crate::hours::{Visibility, require_doctor};
use crate::locks::{LockKey, lock, lock_person_row};
use crate::master_data::{AbsenceFilter, Absences};
use crate::repositories::{
    RowLock, delete_by_id, fetch_models, id_is, inserted, row_by_id, select_rows,
};

/// The snapshot columns as stored (NULL for rows imported without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub duration_workdays: Option<i32>,
    pub return_date: Option<NaiveDate>,
    pub remaining_days: Option<i32>,
}

/// A stored absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceRecord {
    pub id: i64,
    pub fields: AbsenceFields,
    /// Not on the wire (api.md §3.0); kept for the dashboard and administration.
    pub snapshot: StoredSnapshot,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<doctor_absence::Model> for AbsenceRecord {
    fn from(row: doctor_absence::Model) -> Self {
        AbsenceRecord {
            id: row.id,
            fields: AbsenceFields {
                doctor_id: row.doctor_id,
                start_date: row.start_date,
                end_date: row.end_date,
                reason: row.reason,
                active: row.active,
            },
            snapshot: StoredSnapshot {
                duration_workdays: row.duration_workdays,
                return_date: row.return_date,
                remaining_days: row.remaining_days,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Which kind of booking an absence affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BookingKind {
    Appointment,
    Operation,
}

impl BookingKind {
    /// The model name used on the wire (as in scheduling conflicts).
    pub fn model(self) -> &'static str {
        match self {
            BookingKind::Appointment => "Appointment",
            BookingKind::Operation => "Operation",
        }
    }
}

/// A non-cancelled booking of a doctor inside an absence range (ids and times only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AffectedBooking {
    pub kind: BookingKind,
    pub id: i64,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

fn clamp_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Loads a doctor's ledger (`None` for an unknown user).
async fn ledger<C: ConnectionTrait>(
    conn: &C,
    doctor_id: i64,
) -> Result<Option<(VacationLedger, Vec<doctor_absence::Model>)>, StoreError> {
    let Some(doctor) = row_by_id::<user::Entity, _>(conn, doctor_id, RowLock::None).await? else {
        return Ok(None);
    };
    let select = select_rows::<doctor_absence::Entity>()
        .and_where(doctor_absence::Column::DoctorId.eq(doctor_id))
        .order_by(doctor_absence::Column::Id, Order::Asc)
        .to_owned();
    let rows = fetch_models::<doctor_absence::Entity, _>(conn, &select).await?;
    let ledger = VacationLedger {
        allowance: u32::try_from(doctor.vacation_days_per_year).unwrap_or(0),
        absences: rows
            .iter()
            .map(|row| AbsenceSpan {
                id: row.id,
                start_date: row.start_date,
                end_date: row.end_date,
                reason: row.reason.clone(),
                active: row.active,
            })
            .collect(),
    };
    Ok(Some((ledger, rows)))
}

/// Recomputes the snapshot columns of every absence of a doctor and writes the ones that
/// changed (`updated_at` stays: the row itself was not edited). The caller holds the doctor's
/// lock; the rows are rewritten in ascending id order (the lock order for several rows).
async fn refresh_snapshots<C: ConnectionTrait>(conn: &C, doctor_id: i64) -> Result<(), StoreError> {
    let Some((ledger, rows)) = ledger(conn, doctor_id).await? else {
        return Ok(());
    };
    for (row, span) in rows.into_iter().zip(&ledger.absences) {
        let snapshot = ledger.snapshot(span);
        let duration_workdays = Some(clamp_i32(snapshot.duration_workdays));
        let remaining_days = snapshot.remaining_days.map(clamp_i32);
        if row.duration_workdays == duration_workdays
            && row.return_date == snapshot.return_date
            && row.remaining_days == remaining_days
        {
            continue;
        }
        let update = Query::update()
            .table(doctor_absence::Entity)
            .values([
                (
                    doctor_absence::Column::DurationWorkdays,
                    duration_workdays.into(),
                ),
                (
                    doctor_absence::Column::ReturnDate,
                    snapshot.return_date.into(),
                ),
                (doctor_absence::Column::RemainingDays, remaining_days.into()),
            ])
            .and_where(id_is::<doctor_absence::Entity>(row.id))
            .to_owned();
        conn.execute(&update).await?;
    }
    Ok(())
}

async fn reload<C: ConnectionTrait>(conn: &C, id: i64) -> Result<AbsenceRecord, StoreError> {
    row_by_id::<doctor_absence::Entity, _>(conn, id, RowLock::None)
        .await?
        .map(AbsenceRecord::from)
        .ok_or(StoreError::NotFound("DoctorAbsence"))
}

impl Store {
    /// How many absences a list with `visibility` shows.
    pub async fn count_absences(&self, visibility: Visibility) -> Result<u64, StoreError> {
        let filter = AbsenceFilter {
            doctor_id: match visibility {
                Visibility::All => None,
                Visibility::Doctor(id) => Some(id),
            },
            ..AbsenceFilter::default()
        };
        self.master_count::<Absences>(&filter).await
    }

    pub async fn absence(&self, id: i64) -> Result<Option<AbsenceRecord>, StoreError> {
        self.master_row::<Absences>(id).await
    }

    /// Stores a new absence of an active doctor with its snapshot columns. Existing bookings
    /// are not checked (data-model.md §9.4); the preview lists them.
    pub async fn create_absence(
        &self,
        fields: AbsenceFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<AbsenceRecord, StoreError> {
        let tx = self.write().await?;
        lock(&*tx, &[LockKey::Person(fields.doctor_id)]).await?;
        require_doctor(&*tx, fields.doctor_id).await?;
        let insert = Query::insert()
            .into_table(doctor_absence::Entity)
            .columns([
                doctor_absence::Column::DoctorId,
                doctor_absence::Column::StartDate,
                doctor_absence::Column::EndDate,
                doctor_absence::Column::Reason,
                doctor_absence::Column::Active,
                doctor_absence::Column::CreatedAt,
                doctor_absence::Column::UpdatedAt,
            ])
            .values_panic([
                fields.doctor_id.into(),
                fields.start_date.into(),
                fields.end_date.into(),
                fields.reason.into(),
                fields.active.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        let row = inserted::<doctor_absence::Entity, _>(&*tx, insert).await?;
        refresh_snapshots(&*tx, row.doctor_id).await?;
        write_audit(&*tx, &audit(row.id)).await?;
        let record = reload(&*tx, row.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Applies `changes` to the stored absence and validates the merged row (a PATCH of one
    /// date is compared with the stored other date); a changed doctor must be an active
    /// doctor. Snapshots of the old and new doctor are recomputed.
    pub async fn update_absence(
        &self,
        id: i64,
        changes: AbsenceChanges,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<AbsenceRecord, StoreError> {
        let tx = self.write().await?;
        // Lock order: the doctors' locks (old and new), then the row.
        let stored = lock_person_row::<_, doctor_absence::Entity>(
            &*tx,
            id,
            |row| row.doctor_id,
            changes.doctor_id,
            "DoctorAbsence",
        )
        .await?;
        let current = AbsenceRecord::from(stored).fields;
        let fields = changes.apply(current.clone())?;
        if fields.doctor_id != current.doctor_id {
            require_doctor(&*tx, fields.doctor_id).await?;
        }
        let update = Query::update()
            .table(doctor_absence::Entity)
            .values([
                (doctor_absence::Column::DoctorId, fields.doctor_id.into()),
                (doctor_absence::Column::StartDate, fields.start_date.into()),
                (doctor_absence::Column::EndDate, fields.end_date.into()),
                (doctor_absence::Column::Reason, fields.reason.clone().into()),
                (doctor_absence::Column::Active, fields.active.into()),
                (doctor_absence::Column::UpdatedAt, now.into()),
            ])
            .and_where(id_is::<doctor_absence::Entity>(id))
            .to_owned();
        tx.execute(&update).await?;
        refresh_snapshots(&*tx, fields.doctor_id).await?;
        if fields.doctor_id != current.doctor_id {
            refresh_snapshots(&*tx, current.doctor_id).await?;
        }
        write_audit(&*tx, audit).await?;
        let record = reload(&*tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an absence and recomputes the doctor's other snapshots.
    pub async fn delete_absence(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        // Lock order: the doctor's lock, then the row.
        let stored = lock_person_row::<_, doctor_absence::Entity>(
            &*tx,
            id,
            |row| row.doctor_id,
            None,
            "DoctorAbsence",
        )
        .await?;
        delete_by_id::<doctor_absence::Entity, _>(&*tx, id, "DoctorAbsence").await?;
        refresh_snapshots(&*tx, stored.doctor_id).await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    /// A user's vacation allowance and absences (`None` for an unknown user).
    pub async fn vacation_ledger(
        &self,
        doctor_id: i64,
    ) -> Result<Option<VacationLedger>, StoreError> {
        Ok(ledger(self.conn(), doctor_id)
            .await?
            .map(|(ledger, _rows)| ledger))
    }

    /// The doctor's non-cancelled appointments and operations (any team role) overlapping
    /// `[from, to)`, ordered by start time.
    pub async fn affected_bookings(
        &self,
        doctor_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AffectedBooking>, StoreError> {
        let select = select_rows::<appointment::Entity>()
            .and_where(appointment::Column::DoctorId.eq(doctor_id))
            .and_where(appointment::Column::Status.ne(AppointmentStatus::Cancelled.as_str()))
            .and_where(appointment::Column::StartTime.lt(to))
            .and_where(appointment::Column::EndTime.gt(from))
            .to_owned();
        let appointments = fetch_models::<appointment::Entity, _>(self.conn(), &select).await?;
        let select = select_rows::<operation::Entity>()
            .cond_where(
                Condition::any()
                    .add(operation::Column::PrimarySurgeonId.eq(doctor_id))
                    .add(operation::Column::AssistantId.eq(doctor_id))
                    .add(operation::Column::AnesthesistId.eq(doctor_id)),
            )
            .and_where(operation::Column::Status.ne(OperationStatus::Cancelled.as_str()))
            .and_where(operation::Column::StartTime.lt(to))
            .and_where(operation::Column::EndTime.gt(from))
            .to_owned();
        let operations = fetch_models::<operation::Entity, _>(self.conn(), &select).await?;
        let mut bookings: Vec<AffectedBooking> = appointments
            .into_iter()
            .map(|row| AffectedBooking {
                kind: BookingKind::Appointment,
                id: i64::from(row.id),
                start_time: row.start_time,
                end_time: row.end_time,
            })
            .chain(operations.into_iter().map(|row| AffectedBooking {
                kind: BookingKind::Operation,
                id: row.id,
                start_time: row.start_time,
                end_time: row.end_time,
            }))
            .collect();
        bookings.sort_by_key(|booking| (booking.start_time, booking.kind, booking.id));
        Ok(bookings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_numbers_fit_the_columns() {
        assert_eq!(clamp_i32(5), 5);
        assert_eq!(clamp_i32(u32::MAX), i32::MAX);
    }

    #[test]
    fn model_names() {
        assert_eq!(BookingKind::Appointment.model(), "Appointment");
        assert_eq!(BookingKind::Operation.model(), "Operation");
    }
}
