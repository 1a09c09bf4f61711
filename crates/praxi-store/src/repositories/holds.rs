//! Slot holds (issue #14): a slot reserved for a few minutes while a booking is being made.
//! A hold is checked and written like a booking (the same locks, the same engine, in one
//! transaction) and then counts as busy for suggestions and bookings until `expires_at`.
//! An expired hold simply stops counting (every query asks `expires_at > now`); nothing has
//! to clean it up, though creating a hold deletes the expired ones of its doctor on the way.
//! Converting a hold into an appointment happens in the booking's transaction
//! (`AppointmentDraft::hold_id`).

use chrono::{DateTime, Utc};
use praxi_domain::scheduling::{
    Buffers, HoldRequest, Interval, PatientId, RequestedResource, ResourceId, ResourceKind,
    Schedule, UserId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::StoreError;
use crate::locks::{LockKey, lock};
use crate::migration::m0014_scheduling_features::{SlotHold, SlotHoldResource};
use crate::schedule::{HoldFilter, ScheduleScope, load_schedule};

/// A hold to create.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldDraft {
    pub doctor_id: i64,
    pub patient_id: Option<i32>,
    pub resources: Vec<(i64, ResourceKind)>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// Buffers of the intended appointment type.
    pub buffers: Buffers,
    pub expires_at: DateTime<Utc>,
}

/// A stored hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRecord {
    pub id: i64,
    pub doctor_id: i64,
    pub patient_id: Option<i32>,
    pub resource_ids: Vec<i64>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

#[derive(FromQueryResult)]
struct HoldRow {
    id: i64,
    doctor_id: i64,
    patient_id: Option<i32>,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    created_by: Option<i64>,
}

/// The local days around a hold, for loading the rules (as a booking does).
fn check_period(tz: chrono_tz::Tz, interval: &Interval) -> Interval {
    let day = |t: DateTime<Utc>| {
        praxi_domain::scheduling::local_day(tz, t.with_timezone(&tz).date_naive())
    };
    match (day(interval.start()), day(interval.end())) {
        (Some(first), Some(last)) => Interval::new(first.start(), last.end()).unwrap_or(*interval),
        _ => *interval,
    }
}

async fn read_hold<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<HoldRecord>, StoreError> {
    let select = Query::select()
        .columns([
            SlotHold::Id,
            SlotHold::DoctorId,
            SlotHold::PatientId,
            SlotHold::StartTime,
            SlotHold::EndTime,
            SlotHold::ExpiresAt,
            SlotHold::CreatedBy,
        ])
        .from(SlotHold::Table)
        .and_where(Expr::col(SlotHold::Id).eq(id))
        .to_owned();
    let Some(row) = conn.query_one(&select).await? else {
        return Ok(None);
    };
    let row = HoldRow::from_query_result(&row, "")?;
    let resources = Query::select()
        .column(SlotHoldResource::ResourceId)
        .from(SlotHoldResource::Table)
        .and_where(Expr::col(SlotHoldResource::HoldId).eq(id))
        .order_by(SlotHoldResource::ResourceId, sea_orm::Order::Asc)
        .to_owned();
    let resource_ids = conn
        .query_all(&resources)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "resource_id"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(HoldRecord {
        id: row.id,
        doctor_id: row.doctor_id,
        patient_id: row.patient_id,
        resource_ids,
        start_time: row.start_time,
        end_time: row.end_time,
        expires_at: row.expires_at,
        created_by: row.created_by,
    }))
}

impl Store {
    /// A hold by id (expired ones included: the caller compares `expires_at`).
    pub async fn hold(&self, id: i64) -> Result<Option<HoldRecord>, StoreError> {
        read_hold(self.conn(), id).await
    }

    /// Holds a slot: locks the doctor, patient and resources like a booking, lets the engine
    /// check the slot against hours, closed days, absences, breaks, bookings and live holds,
    /// writes the hold and its audit row, in one transaction.
    pub async fn create_hold(
        &self,
        draft: &HoldDraft,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        created_by: Option<i64>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<HoldRecord, StoreError> {
        let interval = Interval::new(draft.start_time, draft.end_time).map_err(|_| {
            StoreError::field("end_time", "Endzeit muss nach der Startzeit liegen.")
        })?;
        let tx = self.write().await?;
        let mut keys = vec![LockKey::Person(draft.doctor_id)];
        keys.extend(draft.patient_id.map(LockKey::Patient));
        keys.extend(draft.resources.iter().map(|(id, _)| LockKey::Resource(*id)));
        lock(&*tx, &keys).await?;

        // Expired holds of this doctor are gone for good; tidy them up on the way.
        let tidy = Query::delete()
            .from_table(SlotHold::Table)
            .and_where(Expr::col(SlotHold::DoctorId).eq(draft.doctor_id))
            .and_where(Expr::col(SlotHold::ExpiresAt).lte(now))
            .to_owned();
        tx.execute(&tidy).await?;

        let scope = ScheduleScope {
            people: Some(vec![draft.doctor_id]),
            patients: draft.patient_id.into_iter().collect(),
            resources: draft.resources.iter().map(|(id, _)| *id).collect(),
            holds: Some(HoldFilter::alive_at(now)),
        };
        let input = load_schedule(&*tx, tz, check_period(tz, &interval), &scope).await?;
        let request = HoldRequest {
            doctor: UserId(draft.doctor_id),
            patient: draft.patient_id.map(PatientId),
            interval,
            resources: draft
                .resources
                .iter()
                .map(|(id, kind)| RequestedResource {
                    id: ResourceId(*id),
                    kind: *kind,
                })
                .collect(),
            buffers: draft.buffers,
        };
        if let Err(conflicts) = Schedule::new(input).check_hold(&request) {
            return Err(StoreError::Scheduling(Box::new(conflicts)));
        }

        let insert = Query::insert()
            .into_table(SlotHold::Table)
            .columns([
                SlotHold::DoctorId,
                SlotHold::PatientId,
                SlotHold::StartTime,
                SlotHold::EndTime,
                SlotHold::ExpiresAt,
                SlotHold::CreatedBy,
                SlotHold::CreatedAt,
            ])
            .values_panic([
                draft.doctor_id.into(),
                draft.patient_id.into(),
                draft.start_time.into(),
                draft.end_time.into(),
                draft.expires_at.into(),
                created_by.into(),
                now.into(),
            ])
            .returning_col(SlotHold::Id)
            .to_owned();
        let row = tx
            .query_one(&insert)
            .await?
            .ok_or(StoreError::NotFound("SlotHold"))?;
        let id: i64 = row.try_get("", "id")?;
        if !draft.resources.is_empty() {
            let mut links = Query::insert()
                .into_table(SlotHoldResource::Table)
                .columns([SlotHoldResource::HoldId, SlotHoldResource::ResourceId])
                .to_owned();
            for (resource, _) in &draft.resources {
                links.values_panic([id.into(), (*resource).into()]);
            }
            tx.execute(&links).await?;
        }
        write_audit(&*tx, &audit(id)).await?;
        let record = read_hold(&*tx, id)
            .await?
            .ok_or(StoreError::NotFound("SlotHold"))?;
        tx.commit().await?;
        Ok(record)
    }

    /// Releases a hold after `precondition` accepted it (own-only); `NotFound` when there is
    /// none (expired holds can still be released).
    pub async fn delete_hold<E: From<StoreError>>(
        &self,
        id: i64,
        precondition: impl FnOnce(&HoldRecord) -> Result<AuditEntry, E>,
    ) -> Result<(), E> {
        let tx = self.write().await?;
        let stored = read_hold(&*tx, id)
            .await?
            .ok_or(StoreError::NotFound("SlotHold"))?;
        lock(&*tx, &[LockKey::Person(stored.doctor_id)]).await?;
        let audit = precondition(&stored)?;
        let delete = Query::delete()
            .from_table(SlotHold::Table)
            .and_where(Expr::col(SlotHold::Id).eq(id))
            .to_owned();
        if tx
            .execute(&delete)
            .await
            .map_err(StoreError::from)?
            .rows_affected()
            == 0
        {
            return Err(StoreError::NotFound("SlotHold").into());
        }
        write_audit(&*tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
