//! Appointments: reads shaped for the API, and bookings that are race-free on both backends
//! (lock → load → check with the engine → write, in one transaction).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use praxi_domain::appointment::{AppointmentStatus, Placement, needs_schedule_check};
use praxi_domain::scheduling::{
    AppointmentId, AppointmentRequest, Buffers, Conflict, Interval, PatientId, RequestedResource,
    ResourceId, ResourceKind, Schedule, UserId,
};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, IntoIden, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::audit::{AuditEntry, write_audit};
use crate::db::Store;
use crate::error::{DbFailure, StoreError, violated_constraint};
use crate::locks::{LockKey, lock};
use crate::migration::idens::{
    Appointment, AppointmentResource, AppointmentType, CoreUser, Patients, Resource,
};
use crate::migration::m0014_scheduling_features::{NewColumns, SlotHold};
use crate::schedule::{HoldFilter, ScheduleScope, load_schedule};

/// A resource as embedded in bookings (the API's Resource shape).
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct ResourceInfo {
    pub id: i64,
    pub name: String,
    #[sea_orm(from_alias = "type")]
    pub kind: String,
    pub color: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ResourceInfo {
    pub fn resource_kind(&self) -> ResourceKind {
        if self.kind == "room" {
            ResourceKind::Room
        } else {
            ResourceKind::Device
        }
    }
}

/// The appointment type as embedded (`TypeMini`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeInfo {
    pub id: i64,
    pub name: String,
    pub color: Option<String>,
    /// The type's buffers (not part of the API's `TypeMini`).
    pub buffers: Buffers,
}

/// An appointment with everything its read shape needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentRecord {
    pub id: i32,
    pub patient_id: i32,
    pub patient_first_name: String,
    pub patient_last_name: String,
    pub patient_birth_date: Option<NaiveDate>,
    pub appointment_type: Option<TypeInfo>,
    pub doctor_id: i64,
    pub doctor_username: String,
    pub doctor_first_name: String,
    pub doctor_last_name: String,
    pub doctor_color: String,
    pub resources: Vec<ResourceInfo>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub is_no_show: bool,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why the booking was made against the practice's rules (issue #14), if it was.
    pub override_reason: Option<String>,
    /// What the override overrode (conflict codes such as `holiday`, `break`).
    pub overridden: Vec<String>,
}

#[derive(FromQueryResult)]
struct AppointmentRow {
    id: i32,
    patient_id: i32,
    patient_first_name: Option<String>,
    patient_last_name: Option<String>,
    patient_birth_date: Option<NaiveDate>,
    type_id: Option<i64>,
    type_name: Option<String>,
    type_color: Option<String>,
    type_buffer_before: Option<i32>,
    type_buffer_after: Option<i32>,
    override_reason: Option<String>,
    overridden: Option<String>,
    doctor_id: i64,
    doctor_username: String,
    doctor_first_name: String,
    doctor_last_name: String,
    doctor_color: String,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    status: String,
    is_no_show: bool,
    notes: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Which appointments to read.
#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    /// Overlapping this interval.
    pub period: Option<Interval>,
    pub doctor_id: Option<i64>,
    pub patient_id: Option<i32>,
    pub type_id: Option<i64>,
    pub id: Option<i32>,
    /// Only the appointments whose ids this subquery selects.
    pub ids_in: Option<SelectStatement>,
}

impl AppointmentFilter {
    fn apply(&self, select: &mut SelectStatement) {
        if let Some(period) = &self.period {
            select.and_where(
                Expr::col((Appointment::Table, Appointment::StartTime)).lt(period.end()),
            );
            select.and_where(
                Expr::col((Appointment::Table, Appointment::EndTime)).gt(period.start()),
            );
            select.and_where(
                Expr::col((Appointment::Table, Appointment::StartTime))
                    .gt(crate::schedule::earliest_overlapping_start(period.start())),
            );
        }
        if let Some(doctor) = self.doctor_id {
            select.and_where(Expr::col((Appointment::Table, Appointment::DoctorId)).eq(doctor));
        }
        if let Some(patient) = self.patient_id {
            select.and_where(Expr::col((Appointment::Table, Appointment::PatientId)).eq(patient));
        }
        if let Some(type_id) = self.type_id {
            select.and_where(Expr::col((Appointment::Table, Appointment::TypeId)).eq(type_id));
        }
        if let Some(id) = self.id {
            select.and_where(Expr::col((Appointment::Table, Appointment::Id)).eq(id));
        }
        if let Some(ids) = &self.ids_in {
            select.and_where(
                Expr::col((Appointment::Table, Appointment::Id)).in_subquery(ids.clone()),
            );
        }
    }
}

fn appointment_select() -> SelectStatement {
    let a = Appointment::Table;
    Query::select()
        .columns([
            (a, Appointment::Id),
            (a, Appointment::PatientId),
            (a, Appointment::TypeId),
            (a, Appointment::DoctorId),
            (a, Appointment::StartTime),
            (a, Appointment::EndTime),
            (a, Appointment::Status),
            (a, Appointment::IsNoShow),
            (a, Appointment::Notes),
            (a, Appointment::CreatedAt),
            (a, Appointment::UpdatedAt),
        ])
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
            Expr::col((AppointmentType::Table, AppointmentType::Name)),
            Alias::new("type_name"),
        )
        .expr_as(
            Expr::col((AppointmentType::Table, AppointmentType::Color)),
            Alias::new("type_color"),
        )
        .expr_as(
            Expr::col((AppointmentType::Table, NewColumns::BufferBeforeMinutes)),
            Alias::new("type_buffer_before"),
        )
        .expr_as(
            Expr::col((AppointmentType::Table, NewColumns::BufferAfterMinutes)),
            Alias::new("type_buffer_after"),
        )
        .column((a, NewColumns::OverrideReason))
        .column((a, NewColumns::Overridden))
        .expr_as(
            Expr::col((CoreUser::Table, CoreUser::Username)),
            Alias::new("doctor_username"),
        )
        .expr_as(
            Expr::col((CoreUser::Table, CoreUser::FirstName)),
            Alias::new("doctor_first_name"),
        )
        .expr_as(
            Expr::col((CoreUser::Table, CoreUser::LastName)),
            Alias::new("doctor_last_name"),
        )
        .expr_as(
            Expr::col((CoreUser::Table, CoreUser::CalendarColor)),
            Alias::new("doctor_color"),
        )
        .from(a)
        .left_join(
            Patients::Table,
            Expr::col((Patients::Table, Patients::Id)).equals((a, Appointment::PatientId)),
        )
        .left_join(
            AppointmentType::Table,
            Expr::col((AppointmentType::Table, AppointmentType::Id))
                .equals((a, Appointment::TypeId)),
        )
        .inner_join(
            CoreUser::Table,
            Expr::col((CoreUser::Table, CoreUser::Id)).equals((a, Appointment::DoctorId)),
        )
        .order_by((a, Appointment::StartTime), Order::Asc)
        .order_by((a, Appointment::Id), Order::Asc)
        .to_owned()
}

fn linked_resources_select() -> SelectStatement {
    Query::select()
        .column((
            AppointmentResource::Table,
            AppointmentResource::AppointmentId,
        ))
        .columns([
            (Resource::Table, Resource::Id),
            (Resource::Table, Resource::Name),
            (Resource::Table, Resource::Type),
            (Resource::Table, Resource::Color),
            (Resource::Table, Resource::Active),
            (Resource::Table, Resource::CreatedAt),
            (Resource::Table, Resource::UpdatedAt),
        ])
        .from(AppointmentResource::Table)
        .inner_join(
            Resource::Table,
            Expr::col((Resource::Table, Resource::Id))
                .equals((AppointmentResource::Table, AppointmentResource::ResourceId)),
        )
        .inner_join(
            Appointment::Table,
            Expr::col((Appointment::Table, Appointment::Id)).equals((
                AppointmentResource::Table,
                AppointmentResource::AppointmentId,
            )),
        )
        .order_by((Resource::Table, Resource::Id), Order::Asc)
        .to_owned()
}

/// The resources a links select reads (each row: the booking's id in `owner_column` and the
/// resource's columns), grouped by booking, in the select's order.
pub(crate) async fn linked_resources<C, K>(
    conn: &C,
    links: &SelectStatement,
    owner_column: &str,
) -> Result<HashMap<K, Vec<ResourceInfo>>, StoreError>
where
    C: ConnectionTrait,
    K: sea_orm::TryGetable + Eq + std::hash::Hash,
{
    let mut resources: HashMap<K, Vec<ResourceInfo>> = HashMap::new();
    for row in conn.query_all(links).await? {
        let owner: K = row.try_get("", owner_column)?;
        resources
            .entry(owner)
            .or_default()
            .push(ResourceInfo::from_query_result(&row, "")?);
    }
    Ok(resources)
}

/// Reads appointments matching `filter` in `start_time, id` order, with their resources
/// (two statements, whatever the number of rows).
pub(crate) async fn read_appointments<C: ConnectionTrait>(
    conn: &C,
    filter: &AppointmentFilter,
) -> Result<Vec<AppointmentRecord>, StoreError> {
    let mut select = appointment_select();
    filter.apply(&mut select);
    let rows: Vec<AppointmentRow> = conn
        .query_all(&select)
        .await?
        .iter()
        .map(|row| AppointmentRow::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut links = linked_resources_select();
    filter.apply(&mut links);
    let mut resources: HashMap<i32, Vec<ResourceInfo>> =
        linked_resources(conn, &links, "appointment_id").await?;
    rows.into_iter()
        .map(|row| {
            let status = AppointmentStatus::parse(&row.status).ok_or_else(|| {
                StoreError::Db(format!(
                    "appointment {}: unknown status {:?}",
                    row.id, row.status
                ))
            })?;
            Ok(AppointmentRecord {
                resources: resources.remove(&row.id).unwrap_or_default(),
                id: row.id,
                patient_id: row.patient_id,
                patient_first_name: row.patient_first_name.unwrap_or_default(),
                patient_last_name: row.patient_last_name.unwrap_or_default(),
                patient_birth_date: row.patient_birth_date,
                appointment_type: match (row.type_id, row.type_name) {
                    (Some(id), Some(name)) => Some(TypeInfo {
                        id,
                        name,
                        color: row.type_color,
                        buffers: Buffers::from_minutes(
                            i64::from(row.type_buffer_before.unwrap_or(0)),
                            i64::from(row.type_buffer_after.unwrap_or(0)),
                        ),
                    }),
                    _ => None,
                },
                doctor_id: row.doctor_id,
                doctor_username: row.doctor_username,
                doctor_first_name: row.doctor_first_name,
                doctor_last_name: row.doctor_last_name,
                doctor_color: row.doctor_color,
                start_time: row.start_time,
                end_time: row.end_time,
                status,
                is_no_show: row.is_no_show,
                notes: row.notes,
                override_reason: row.override_reason,
                overridden: row
                    .overridden
                    .map(|codes| {
                        codes
                            .split(',')
                            .filter(|c| !c.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

/// The state an appointment should have after a create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentDraft {
    pub patient_id: i32,
    pub doctor_id: i64,
    pub type_id: Option<i64>,
    /// Effective resource set, with kinds.
    pub resources: Vec<(i64, ResourceKind)>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub notes: Option<String>,
    /// The slot hold this booking converts (create only): it must be alive and match doctor
    /// and times; it is deleted in the booking's transaction (issue #14).
    pub hold_id: Option<i64>,
    /// An audited override (issue #14): book over closed days, hours, absences and breaks
    /// (never over another booking or hold); the reason is stored on the appointment.
    pub override_reason: Option<String>,
}

/// Whether the engine must check the draft (an update that moves nothing skips it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleCheck {
    Check,
    Skip,
}

/// The local days a booking touches, as one interval (for loading rules and bookings).
fn check_period(tz: Tz, interval: &Interval) -> Interval {
    let day_start = |t: DateTime<Utc>| {
        let date = t.with_timezone(&tz).date_naive();
        praxi_domain::scheduling::local_day(tz, date).map(|day| (day.start(), day.end()))
    };
    let start = day_start(interval.start()).map_or(interval.start(), |(s, _)| s);
    let end = day_start(interval.end()).map_or(interval.end(), |(_, e)| e);
    Interval::new(start, end).unwrap_or(*interval)
}

/// The locks a booking of `draft` takes.
fn booking_keys(draft: &AppointmentDraft) -> Vec<LockKey> {
    let mut keys = vec![
        LockKey::Person(draft.doctor_id),
        LockKey::Patient(draft.patient_id),
    ];
    keys.extend(draft.resources.iter().map(|(id, _)| LockKey::Resource(*id)));
    keys
}

/// Where an appointment sits, as the domain's edit rules compare it.
fn placement_of_record(record: &AppointmentRecord) -> Placement {
    Placement {
        start_time: record.start_time,
        end_time: record.end_time,
        doctor_id: record.doctor_id,
        patient_id: record.patient_id,
        resource_ids: record.resources.iter().map(|r| r.id).collect(),
        status: record.status,
    }
}

/// Where a draft would put an appointment.
fn placement_of_draft(draft: &AppointmentDraft) -> Placement {
    Placement {
        start_time: draft.start_time,
        end_time: draft.end_time,
        doctor_id: draft.doctor_id,
        patient_id: draft.patient_id,
        resource_ids: draft.resources.iter().map(|(id, _)| *id).collect(),
        status: draft.status,
    }
}

/// Takes the row lock of one appointment and reads it (inside the write transaction, after
/// the lock: the latest committed state).
async fn lock_and_read<C: ConnectionTrait>(
    conn: &C,
    id: i32,
) -> Result<AppointmentRecord, StoreError> {
    lock(conn, &[LockKey::Appointment(id)]).await?;
    let filter = AppointmentFilter {
        id: Some(id),
        ..Default::default()
    };
    read_appointments(conn, &filter)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("Appointment"))
}

/// The write of a booking inside an open transaction: lock the doctor, patient and resources
/// (plus `extra_keys`), load their schedule, let the engine check the draft (unless `check`
/// is `Skip` or the draft is cancelled), write the row, its resources and the audit row.
#[expect(
    clippy::too_many_arguments,
    reason = "one booking write; every input is needed"
)]
async fn write_booking<C: ConnectionTrait>(
    tx: &C,
    id: Option<i32>,
    draft: &AppointmentDraft,
    extra_keys: &[LockKey],
    tz: Tz,
    check: ScheduleCheck,
    now: DateTime<Utc>,
    audit: impl FnOnce(i32) -> AuditEntry,
) -> Result<AppointmentRecord, StoreError> {
    let interval = Interval::new(draft.start_time, draft.end_time)
        .map_err(|_| StoreError::field("end_time", "Endzeit muss nach der Startzeit liegen."))?;
    let mut keys = booking_keys(draft);
    keys.extend_from_slice(extra_keys);
    lock(tx, &keys).await?;

    let hold_id = match (id, draft.hold_id) {
        (None, Some(hold_id)) => {
            check_hold_matches(tx, hold_id, draft, now).await?;
            Some(hold_id)
        }
        _ => None,
    };
    let mut overridden: Vec<&'static str> = Vec::new();
    if check == ScheduleCheck::Check && draft.status.is_active() {
        let scope = ScheduleScope {
            people: Some(vec![draft.doctor_id]),
            patients: vec![draft.patient_id],
            resources: draft.resources.iter().map(|(id, _)| *id).collect(),
            holds: Some(HoldFilter {
                now,
                except: hold_id,
            }),
        };
        let input = load_schedule(tx, tz, check_period(tz, &interval), &scope).await?;
        let schedule = Schedule::new(input);
        let buffers = match draft.type_id {
            Some(type_id) => type_buffers(tx, type_id).await?,
            None => Buffers::NONE,
        };
        let request = AppointmentRequest {
            buffers,
            id: id.map(AppointmentId),
            doctor: UserId(draft.doctor_id),
            patient: PatientId(draft.patient_id),
            interval,
            resources: draft
                .resources
                .iter()
                .map(|(id, kind)| RequestedResource {
                    id: ResourceId(*id),
                    kind: *kind,
                })
                .collect(),
        };
        if let Err(conflicts) = schedule.check_appointment(&request) {
            let all_overridable = conflicts.conflicts().iter().all(Conflict::is_overridable);
            if draft.override_reason.is_some() && all_overridable {
                for conflict in conflicts.conflicts() {
                    if !overridden.contains(&conflict.code()) {
                        overridden.push(conflict.code());
                    }
                }
            } else {
                crate::ops::count_booking_conflict();
                // An override never books over another booking: report only those.
                let conflicts = match (&draft.override_reason, conflicts.without_overridable()) {
                    (Some(_), Some(rest)) => rest,
                    _ => conflicts,
                };
                return Err(StoreError::Scheduling(Box::new(conflicts)));
            }
        }
    }
    let override_columns = (!overridden.is_empty())
        .then(|| (draft.override_reason.clone(), Some(overridden.join(","))));

    let appointment_id = match id {
        None => {
            let insert = Query::insert()
                .into_table(Appointment::Table)
                .columns([
                    Appointment::PatientId.into_iden(),
                    Appointment::TypeId.into_iden(),
                    Appointment::DoctorId.into_iden(),
                    Appointment::StartTime.into_iden(),
                    Appointment::EndTime.into_iden(),
                    Appointment::Status.into_iden(),
                    Appointment::IsNoShow.into_iden(),
                    Appointment::Notes.into_iden(),
                    Appointment::CreatedAt.into_iden(),
                    Appointment::UpdatedAt.into_iden(),
                    NewColumns::OverrideReason.into_iden(),
                    NewColumns::Overridden.into_iden(),
                ])
                .values_panic([
                    draft.patient_id.into(),
                    draft.type_id.into(),
                    draft.doctor_id.into(),
                    draft.start_time.into(),
                    draft.end_time.into(),
                    draft.status.as_str().into(),
                    false.into(),
                    draft.notes.clone().into(),
                    now.into(),
                    now.into(),
                    override_columns
                        .as_ref()
                        .and_then(|(reason, _)| reason.clone())
                        .into(),
                    override_columns
                        .as_ref()
                        .and_then(|(_, codes)| codes.clone())
                        .into(),
                ])
                .returning_col(Appointment::Id)
                .to_owned();
            let row = tx
                .query_one(&insert)
                .await
                .map_err(map_booking_db_error)?
                .ok_or(StoreError::NotFound("Appointment"))?;
            row.try_get::<i32>("", "id")?
        }
        Some(id) => {
            let mut update = Query::update()
                .table(Appointment::Table)
                .values([
                    (Appointment::PatientId, draft.patient_id.into()),
                    (Appointment::TypeId, draft.type_id.into()),
                    (Appointment::DoctorId, draft.doctor_id.into()),
                    (Appointment::StartTime, draft.start_time.into()),
                    (Appointment::EndTime, draft.end_time.into()),
                    (Appointment::Status, draft.status.as_str().into()),
                    (Appointment::Notes, draft.notes.clone().into()),
                    (Appointment::UpdatedAt, now.into()),
                ])
                .and_where(Expr::col(Appointment::Id).eq(id))
                .to_owned();
            // A move that needed an override records the new one; otherwise the stored
            // override (if any) stays as it was.
            if let Some((reason, codes)) = &override_columns {
                update
                    .value(NewColumns::OverrideReason, reason.clone())
                    .value(NewColumns::Overridden, codes.clone());
            }
            let result = tx.execute(&update).await.map_err(map_booking_db_error)?;
            if result.rows_affected() == 0 {
                return Err(StoreError::NotFound("Appointment"));
            }
            let clear = Query::delete()
                .from_table(AppointmentResource::Table)
                .and_where(Expr::col(AppointmentResource::AppointmentId).eq(id))
                .to_owned();
            tx.execute(&clear).await?;
            id
        }
    };
    if !draft.resources.is_empty() {
        let mut insert = Query::insert()
            .into_table(AppointmentResource::Table)
            .columns([
                AppointmentResource::AppointmentId,
                AppointmentResource::ResourceId,
            ])
            .to_owned();
        for (resource, _) in &draft.resources {
            insert.values_panic([appointment_id.into(), (*resource).into()]);
        }
        tx.execute(&insert).await?;
    }
    if let Some(hold_id) = hold_id {
        let delete = Query::delete()
            .from_table(SlotHold::Table)
            .and_where(Expr::col(SlotHold::Id).eq(hold_id))
            .to_owned();
        tx.execute(&delete).await?;
    }
    let entry = audit(appointment_id);
    write_audit(tx, &entry).await?;
    if !overridden.is_empty() {
        // The reason may hold patient data: it stays on the appointment, not in the log.
        let override_entry = AuditEntry {
            action: "appointment_override".to_owned(),
            meta: Some(serde_json::json!({
                "appointment_id": appointment_id,
                "overridden": overridden,
            })),
            ..entry
        };
        write_audit(tx, &override_entry).await?;
    }
    let filter = AppointmentFilter {
        id: Some(appointment_id),
        ..Default::default()
    };
    let record = read_appointments(tx, &filter)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("Appointment"))?;
    Ok(record)
}

#[derive(FromQueryResult)]
struct HoldCheckRow {
    doctor_id: i64,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
}

/// The hold a booking converts must be alive at `now` and held for the same doctor and the
/// same times (read after the booking's locks, so it cannot change meanwhile).
async fn check_hold_matches<C: ConnectionTrait>(
    conn: &C,
    hold_id: i64,
    draft: &AppointmentDraft,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let select = Query::select()
        .columns([SlotHold::DoctorId, SlotHold::StartTime, SlotHold::EndTime])
        .from(SlotHold::Table)
        .and_where(Expr::col(SlotHold::Id).eq(hold_id))
        .and_where(Expr::col(SlotHold::ExpiresAt).gt(now))
        .to_owned();
    let Some(row) = conn.query_one(&select).await? else {
        return Err(StoreError::field(
            "hold_id",
            "The slot hold does not exist or has expired.",
        ));
    };
    let row = HoldCheckRow::from_query_result(&row, "")?;
    if row.doctor_id != draft.doctor_id
        || row.start_time != draft.start_time
        || row.end_time != draft.end_time
    {
        return Err(StoreError::field(
            "hold_id",
            "The slot hold is for another doctor or time.",
        ));
    }
    Ok(())
}

/// The buffers of an appointment type (none for an unknown id).
async fn type_buffers<C: ConnectionTrait>(conn: &C, type_id: i64) -> Result<Buffers, StoreError> {
    let select = Query::select()
        .columns([
            NewColumns::BufferBeforeMinutes,
            NewColumns::BufferAfterMinutes,
        ])
        .from(AppointmentType::Table)
        .and_where(Expr::col(AppointmentType::Id).eq(type_id))
        .to_owned();
    let Some(row) = conn.query_one(&select).await? else {
        return Ok(Buffers::NONE);
    };
    Ok(Buffers::from_minutes(
        i64::from(row.try_get::<i32>("", "buffer_before_minutes")?),
        i64::from(row.try_get::<i32>("", "buffer_after_minutes")?),
    ))
}

impl Store {
    /// Appointments matching the filter, in `start_time, id` order.
    pub async fn appointments(
        &self,
        filter: &AppointmentFilter,
    ) -> Result<Vec<AppointmentRecord>, StoreError> {
        read_appointments(self.conn(), filter).await
    }

    pub async fn appointment(&self, id: i32) -> Result<Option<AppointmentRecord>, StoreError> {
        let filter = AppointmentFilter {
            id: Some(id),
            ..Default::default()
        };
        Ok(read_appointments(self.conn(), &filter)
            .await?
            .into_iter()
            .next())
    }

    /// Creates (`id: None`) or updates an appointment with a draft the caller made. Inside
    /// one transaction: lock the doctor, patient and resources, load their schedule, let the
    /// engine check the draft (unless `check` is `Skip`), write the row, its resources and the
    /// audit row. Edits of existing appointments from requests go through
    /// [`Store::update_appointment`], which merges inside the transaction.
    pub async fn save_appointment(
        &self,
        id: Option<i32>,
        draft: AppointmentDraft,
        tz: Tz,
        check: ScheduleCheck,
        now: DateTime<Utc>,
        audit: impl FnOnce(i32) -> AuditEntry,
    ) -> Result<AppointmentRecord, StoreError> {
        let tx = self.write().await?;
        let record = write_booking(&*tx, id, &draft, &[], tz, check, now, audit).await?;
        self.sync_reminder_of(&tx, &record, now, id.is_none())
            .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Edits an existing appointment without lost updates: inside one write transaction it
    /// takes the appointment's row lock, re-reads the row, lets `prepare` turn that row into
    /// the new state (a patch applied to the row read here, plus the caller's rules, e.g. an
    /// `If-Match` precondition), locks the old and the new doctor, patient and resources, runs
    /// the engine whenever the domain says the edit moves the booking
    /// ([`needs_schedule_check`], decided against the row read here), and writes.
    pub async fn update_appointment<E: From<StoreError>>(
        &self,
        id: i32,
        tz: Tz,
        now: DateTime<Utc>,
        prepare: impl FnOnce(&AppointmentRecord) -> Result<AppointmentDraft, E>,
        audit: impl FnOnce(&AppointmentRecord) -> AuditEntry,
    ) -> Result<AppointmentRecord, E> {
        let tx = self.write().await?;
        let stored = lock_and_read(&*tx, id).await?;
        let draft = prepare(&stored)?;
        let check = if needs_schedule_check(
            Some(&placement_of_record(&stored)),
            &placement_of_draft(&draft),
        ) {
            ScheduleCheck::Check
        } else {
            ScheduleCheck::Skip
        };
        let stored_keys = booking_keys(&AppointmentDraft {
            patient_id: stored.patient_id,
            doctor_id: stored.doctor_id,
            type_id: None,
            resources: Vec::new(),
            start_time: stored.start_time,
            end_time: stored.end_time,
            status: stored.status,
            notes: None,
            hold_id: None,
            override_reason: None,
        });
        let mut extra: Vec<LockKey> = stored_keys;
        extra.extend(stored.resources.iter().map(|r| LockKey::Resource(r.id)));
        let audit = audit(&stored);
        let record =
            write_booking(&*tx, Some(id), &draft, &extra, tz, check, now, |_| audit).await?;
        self.sync_reminder_of(&tx, &record, now, false).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an appointment after `precondition` accepted the row as read under its lock
    /// inside the transaction (its resource links and patient flows go with it) and audits.
    pub async fn delete_appointment_checked<E: From<StoreError>>(
        &self,
        id: i32,
        precondition: impl FnOnce(&AppointmentRecord) -> Result<AuditEntry, E>,
    ) -> Result<AppointmentRecord, E> {
        let tx = self.write().await?;
        let stored = lock_and_read(&*tx, id).await?;
        let audit = precondition(&stored)?;
        let delete = Query::delete()
            .from_table(Appointment::Table)
            .and_where(Expr::col(Appointment::Id).eq(id))
            .to_owned();
        if tx
            .execute(&delete)
            .await
            .map_err(StoreError::from)?
            .rows_affected()
            == 0
        {
            return Err(StoreError::NotFound("Appointment").into());
        }
        write_audit(&*tx, &audit).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Marks an appointment as no-show after `precondition` accepted the row as read under
    /// its lock inside the transaction (the no-show rule, own record, `If-Match`); returns the
    /// row as written. Marking an appointment that already is a no-show writes nothing.
    pub async fn mark_no_show_checked<E: From<StoreError>>(
        &self,
        id: i32,
        now: DateTime<Utc>,
        precondition: impl FnOnce(&AppointmentRecord) -> Result<AuditEntry, E>,
    ) -> Result<AppointmentRecord, E> {
        let tx = self.write().await?;
        let stored = lock_and_read(&*tx, id).await?;
        let audit = precondition(&stored)?;
        if !stored.is_no_show {
            let update = Query::update()
                .table(Appointment::Table)
                .value(Appointment::IsNoShow, true)
                .value(Appointment::UpdatedAt, now)
                .and_where(Expr::col(Appointment::Id).eq(id))
                .to_owned();
            tx.execute(&update).await.map_err(StoreError::from)?;
            write_audit(&*tx, &audit).await?;
        }
        let record = lock_and_read(&*tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes an appointment (its resource links and patient flows go with it) and audits.
    pub async fn delete_appointment(&self, id: i32, audit: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        let delete = Query::delete()
            .from_table(Appointment::Table)
            .and_where(Expr::col(Appointment::Id).eq(id))
            .to_owned();
        if tx.execute(&delete).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound("Appointment"));
        }
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    /// Sets the no-show flag; returns `false` when it was already set (nothing written).
    pub async fn mark_no_show(
        &self,
        id: i32,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write().await?;
        let update = Query::update()
            .table(Appointment::Table)
            .value(Appointment::IsNoShow, true)
            .value(Appointment::UpdatedAt, now)
            .and_where(Expr::col(Appointment::Id).eq(id))
            .and_where(Expr::col(Appointment::IsNoShow).eq(false))
            .cond_where(
                Cond::any()
                    .add(Expr::col(Appointment::Status).is_in(AppointmentStatus::open_values())),
            )
            .to_owned();
        let changed = tx.execute(&update).await?.rows_affected() > 0;
        if changed {
            write_audit(&*tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Resource rows for ids (any state), for validating requested resources.
    pub async fn resources_by_ids(&self, ids: &[i64]) -> Result<Vec<ResourceInfo>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = Query::select()
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
            .and_where(Expr::col(Resource::Id).is_in(ids.iter().copied()))
            .order_by(Resource::Id, Order::Asc)
            .to_owned();
        self.conn()
            .query_all(&select)
            .await?
            .iter()
            .map(|row| ResourceInfo::from_query_result(row, "").map_err(StoreError::from))
            .collect()
    }

    /// An appointment type (any state).
    pub async fn appointment_type_info(
        &self,
        id: i64,
    ) -> Result<Option<(TypeInfo, Option<i32>, bool)>, StoreError> {
        let select = Query::select()
            .columns([
                AppointmentType::Id,
                AppointmentType::Name,
                AppointmentType::Color,
                AppointmentType::DurationMinutes,
                AppointmentType::Active,
            ])
            .columns([
                NewColumns::BufferBeforeMinutes,
                NewColumns::BufferAfterMinutes,
            ])
            .from(AppointmentType::Table)
            .and_where(Expr::col(AppointmentType::Id).eq(id))
            .to_owned();
        let Some(row) = self.conn().query_one(&select).await? else {
            return Ok(None);
        };
        Ok(Some((
            TypeInfo {
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                color: row.try_get("", "color")?,
                buffers: Buffers::from_minutes(
                    i64::from(row.try_get::<i32>("", "buffer_before_minutes")?),
                    i64::from(row.try_get::<i32>("", "buffer_after_minutes")?),
                ),
            },
            row.try_get("", "duration_minutes")?,
            row.try_get("", "active")?,
        )))
    }

    /// Loads the engine input for a period and scope (read-only, outside any transaction).
    pub async fn schedule(
        &self,
        tz: Tz,
        period: Interval,
        scope: &ScheduleScope,
    ) -> Result<Schedule, StoreError> {
        Ok(Schedule::new(
            load_schedule(self.conn(), tz, period, scope).await?,
        ))
    }
}

/// PostgreSQL's exclusion constraints are the second safety net behind the engine: a violation
/// there is still a conflict for the client, never a 500.
fn map_booking_db_error(error: sea_orm::DbErr) -> StoreError {
    let failure = DbFailure::of(&error);
    if failure == DbFailure::Exclusion {
        let field = if violated_constraint(&error).is_some_and(|name| name.contains("patient")) {
            "patient_id"
        } else {
            "doctor"
        };
        return StoreError::field(
            field,
            "Scheduling conflict: the time range is already booked.",
        );
    }
    if failure == DbFailure::ForeignKey {
        return StoreError::field(
            "non_field_errors",
            "A referenced patient, doctor, type or resource does not exist.",
        );
    }
    StoreError::from(error)
}

impl Store {
    /// Reminders (issue #14): the booking's reminder follows the row just written, in the
    /// same transaction (`outbox::sync_reminder`).
    async fn sync_reminder_of(
        &self,
        tx: &crate::WriteTx,
        record: &AppointmentRecord,
        now: DateTime<Utc>,
        is_new: bool,
    ) -> Result<(), StoreError> {
        crate::outbox::sync_reminder(
            &**tx,
            record.id,
            record.patient_id,
            record.status,
            record.start_time,
            self.reminder_lead,
            now,
            is_new,
        )
        .await
    }
}
