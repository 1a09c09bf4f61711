//! Calendar configuration rows: practice hours, doctor hours and breaks (data-model.md §5.2,
//! §5.3, §5.5), plus the doctor lists (api.md §3.3).
//!
//! Every write validates the merged row with the domain rules inside its transaction, so a
//! concurrent change cannot slip between the read and the check. Writes that depend on other
//! rows of a doctor (overlapping doctor hours) first take that doctor's booking lock.

use chrono::{DateTime, Utc};
use praxi_domain::Role;
use praxi_domain::hours::{
    BreakChanges, BreakFields, DUPLICATE_SLOT_MESSAGE, DoctorCandidate, DoctorHoursChanges,
    DoctorHoursFields, HoursChanges, HoursWindow, check_doctor, check_no_overlap,
    doctor_display_name, doctor_matches,
};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::admin_lists::Window;
use crate::audit::{AuditEntry, write_audit};
use crate::db::{Store, is_unique_violation};
use crate::entity::{doctor_break, doctor_hours, practice_hours, role, user};
use crate::error::StoreError;
use crate::locks::{LockKey, lock, lock_person_row};
use crate::master_data::{BreakFilter, BreakOwner, Breaks, HoursFilter, PracticeHours};
use crate::repositories::{
    Returning, RowLock, delete_by_id, fetch_models, id_is, inserted, no_row, row_by_id,
    select_rows, updated, write_returning,
};

/// Which rows of a doctor-owned table a count shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every row.
    All,
    /// A doctor's own rows (and, for breaks, the practice-wide ones).
    Doctor(i64),
}

/// A stored practice-hours row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeHoursRecord {
    pub id: i64,
    pub window: HoursWindow,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<practice_hours::Model> for PracticeHoursRecord {
    fn from(row: practice_hours::Model) -> Self {
        PracticeHoursRecord {
            id: row.id,
            window: HoursWindow {
                weekday: row.weekday,
                start_time: row.start_time,
                end_time: row.end_time,
                active: row.active,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A stored doctor-hours row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorHoursRecord {
    pub id: i64,
    pub fields: DoctorHoursFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn doctor_hours_window(row: &doctor_hours::Model) -> HoursWindow {
    HoursWindow {
        weekday: row.weekday,
        start_time: row.start_time,
        end_time: row.end_time,
        active: row.active,
    }
}

impl From<doctor_hours::Model> for DoctorHoursRecord {
    fn from(row: doctor_hours::Model) -> Self {
        DoctorHoursRecord {
            id: row.id,
            fields: DoctorHoursFields {
                doctor_id: row.doctor_id,
                window: doctor_hours_window(&row),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A stored break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakRecord {
    pub id: i64,
    pub fields: BreakFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<doctor_break::Model> for BreakRecord {
    fn from(row: doctor_break::Model) -> Self {
        BreakRecord {
            id: row.id,
            fields: BreakFields {
                doctor_id: row.doctor_id,
                date: row.date,
                start_time: row.start_time,
                end_time: row.end_time,
                reason: row.reason,
                active: row.active,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One entry of the doctor lists: `{id, name, calendar_color}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorChoice {
    pub id: i64,
    pub name: String,
    pub calendar_color: String,
}

/// What the user table says about a user referenced as `doctor`.
pub(crate) async fn doctor_candidate<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<DoctorCandidate, StoreError> {
    let select = Query::select()
        .column((user::Entity, user::Column::IsActive))
        .expr(Expr::col((role::Entity, role::Column::Name)).eq(Role::Doctor.name()))
        .from(user::Entity)
        .join(
            JoinType::LeftJoin,
            role::Entity,
            Expr::col((role::Entity, role::Column::Id))
                .equals((user::Entity, user::Column::RoleId)),
        )
        .and_where(id_is::<user::Entity>(id))
        .to_owned();
    Ok(match conn.query_one(&select).await? {
        None => DoctorCandidate::Unknown,
        Some(row) => DoctorCandidate::User {
            is_active: row.try_get_by_index(0)?,
            // NULL without a role.
            is_doctor: row.try_get_by_index::<Option<bool>>(1)?.unwrap_or(false),
        },
    })
}

/// Fails with a `doctor` field error unless `id` is an active doctor.
pub(crate) async fn require_doctor<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<(), StoreError> {
    check_doctor(id, doctor_candidate(conn, id).await?)?;
    Ok(())
}

impl Store {
    // ---- practice hours -----------------------------------------------------------------

    /// How many practice-hours rows exist.
    pub async fn count_practice_hours(&self) -> Result<u64, StoreError> {
        self.master_count::<PracticeHours>(&HoursFilter::default())
            .await
    }

    /// Every practice-hours row in week order (weekday, start time, id).
    pub async fn list_practice_hours(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<PracticeHoursRecord>, StoreError> {
        self.master_rows::<PracticeHours>(&HoursFilter::default(), (), Window { offset, limit })
            .await
    }

    /// Stores a new (validated) window and its audit row.
    pub async fn create_practice_hours(
        &self,
        window: HoursWindow,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<PracticeHoursRecord, StoreError> {
        let tx = self.write().await?;
        let insert = Query::insert()
            .into_table(practice_hours::Entity)
            .columns([
                practice_hours::Column::Weekday,
                practice_hours::Column::StartTime,
                practice_hours::Column::EndTime,
                practice_hours::Column::Active,
                practice_hours::Column::CreatedAt,
                practice_hours::Column::UpdatedAt,
            ])
            .values_panic([
                window.weekday.into(),
                window.start_time.into(),
                window.end_time.into(),
                window.active.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        let row = inserted::<practice_hours::Entity, _>(&*tx, insert).await?;
        write_audit(&*tx, &audit(row.id)).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Applies `changes` to the stored row and validates the merged window (api.md §5 item
    /// 21: a PATCH of one bound is compared with the stored other bound).
    pub async fn update_practice_hours(
        &self,
        id: i64,
        changes: HoursChanges,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<PracticeHoursRecord, StoreError> {
        let tx = self.write().await?;
        let stored = row_by_id::<practice_hours::Entity, _>(&*tx, id, RowLock::ForUpdate)
            .await?
            .ok_or(StoreError::NotFound("PracticeHours"))?;
        let window = changes.apply(PracticeHoursRecord::from(stored).window)?;
        let update = Query::update()
            .table(practice_hours::Entity)
            .values([
                (practice_hours::Column::Weekday, window.weekday.into()),
                (practice_hours::Column::StartTime, window.start_time.into()),
                (practice_hours::Column::EndTime, window.end_time.into()),
                (practice_hours::Column::Active, window.active.into()),
                (practice_hours::Column::UpdatedAt, now.into()),
            ])
            .and_where(id_is::<practice_hours::Entity>(id))
            .to_owned();
        let row = updated::<practice_hours::Entity, _>(&*tx, update, "PracticeHours").await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Deletes a row (configuration has no dependants).
    pub async fn delete_practice_hours(
        &self,
        id: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write().await?;
        delete_by_id::<practice_hours::Entity, _>(&*tx, id, "PracticeHours").await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    // ---- doctor hours -------------------------------------------------------------------

    /// Stores a new doctor-hours row: the doctor must be an active doctor and the window may
    /// not overlap another active window of theirs on that weekday.
    pub async fn create_doctor_hours(
        &self,
        fields: DoctorHoursFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<DoctorHoursRecord, StoreError> {
        let tx = self.write().await?;
        lock(&*tx, &[LockKey::Person(fields.doctor_id)]).await?;
        require_doctor(&*tx, fields.doctor_id).await?;
        check_doctor_hours_overlap(&*tx, &fields, None).await?;
        let insert = Query::insert()
            .into_table(doctor_hours::Entity)
            .columns([
                doctor_hours::Column::DoctorId,
                doctor_hours::Column::Weekday,
                doctor_hours::Column::StartTime,
                doctor_hours::Column::EndTime,
                doctor_hours::Column::Active,
                doctor_hours::Column::CreatedAt,
                doctor_hours::Column::UpdatedAt,
            ])
            .values_panic([
                fields.doctor_id.into(),
                fields.window.weekday.into(),
                fields.window.start_time.into(),
                fields.window.end_time.into(),
                fields.window.active.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        let row = write_returning::<doctor_hours::Entity, _>(&*tx, Returning::Insert(insert))
            .await
            .map_err(duplicate_slot)?
            .ok_or_else(no_row)?;
        write_audit(&*tx, &audit(row.id)).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Applies `changes` to the stored row and validates the merged row like a create; the
    /// doctor is only checked when it changes (so rows of a deactivated doctor can still be
    /// switched off).
    pub async fn update_doctor_hours(
        &self,
        id: i64,
        changes: DoctorHoursChanges,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<DoctorHoursRecord, StoreError> {
        let tx = self.write().await?;
        // Lock order: the doctors' locks (old and new), then the row.
        let stored = lock_person_row::<_, doctor_hours::Entity>(
            &*tx,
            id,
            |row| row.doctor_id,
            changes.doctor_id,
            "DoctorHours",
        )
        .await?;
        let current = DoctorHoursRecord::from(stored).fields;
        let fields = changes.apply(current)?;
        if fields.doctor_id != current.doctor_id {
            require_doctor(&*tx, fields.doctor_id).await?;
        }
        check_doctor_hours_overlap(&*tx, &fields, Some(id)).await?;
        let update = Query::update()
            .table(doctor_hours::Entity)
            .values([
                (doctor_hours::Column::DoctorId, fields.doctor_id.into()),
                (doctor_hours::Column::Weekday, fields.window.weekday.into()),
                (
                    doctor_hours::Column::StartTime,
                    fields.window.start_time.into(),
                ),
                (doctor_hours::Column::EndTime, fields.window.end_time.into()),
                (doctor_hours::Column::Active, fields.window.active.into()),
                (doctor_hours::Column::UpdatedAt, now.into()),
            ])
            .and_where(id_is::<doctor_hours::Entity>(id))
            .to_owned();
        let row = write_returning::<doctor_hours::Entity, _>(&*tx, Returning::Update(update))
            .await
            .map_err(duplicate_slot)?
            .ok_or(StoreError::NotFound("DoctorHours"))?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Deletes a doctor-hours row.
    pub async fn delete_doctor_hours(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        delete_by_id::<doctor_hours::Entity, _>(&*tx, id, "DoctorHours").await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    // ---- breaks -------------------------------------------------------------------------

    /// How many breaks a list with `visibility` shows.
    pub async fn count_breaks(&self, visibility: Visibility) -> Result<u64, StoreError> {
        let owner = match visibility {
            Visibility::All => BreakOwner::Any,
            Visibility::Doctor(id) => BreakOwner::DoctorOrPractice(id),
        };
        let filter = BreakFilter {
            owner,
            ..BreakFilter::default()
        };
        self.master_count::<Breaks>(&filter).await
    }

    /// Stores a new break; a doctor-specific break needs an active doctor.
    pub async fn create_break(
        &self,
        fields: BreakFields,
        now: DateTime<Utc>,
        audit: impl FnOnce(i64) -> AuditEntry,
    ) -> Result<BreakRecord, StoreError> {
        let tx = self.write().await?;
        if let Some(doctor_id) = fields.doctor_id {
            require_doctor(&*tx, doctor_id).await?;
        }
        let insert = Query::insert()
            .into_table(doctor_break::Entity)
            .columns([
                doctor_break::Column::DoctorId,
                doctor_break::Column::Date,
                doctor_break::Column::StartTime,
                doctor_break::Column::EndTime,
                doctor_break::Column::Reason,
                doctor_break::Column::Active,
                doctor_break::Column::CreatedAt,
                doctor_break::Column::UpdatedAt,
            ])
            .values_panic([
                fields.doctor_id.into(),
                fields.date.into(),
                fields.start_time.into(),
                fields.end_time.into(),
                fields.reason.into(),
                fields.active.into(),
                now.into(),
                now.into(),
            ])
            .to_owned();
        let row = inserted::<doctor_break::Entity, _>(&*tx, insert).await?;
        write_audit(&*tx, &audit(row.id)).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Applies `changes` to the stored break and validates the merged row; a changed doctor
    /// must be an active doctor.
    pub async fn update_break(
        &self,
        id: i64,
        changes: BreakChanges,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<BreakRecord, StoreError> {
        let tx = self.write().await?;
        let stored = row_by_id::<doctor_break::Entity, _>(&*tx, id, RowLock::ForUpdate)
            .await?
            .ok_or(StoreError::NotFound("DoctorBreak"))?;
        let current = BreakRecord::from(stored).fields;
        let fields = changes.apply(current.clone())?;
        if let Some(doctor_id) = fields.doctor_id
            && fields.doctor_id != current.doctor_id
        {
            require_doctor(&*tx, doctor_id).await?;
        }
        let update = Query::update()
            .table(doctor_break::Entity)
            .values([
                (doctor_break::Column::DoctorId, fields.doctor_id.into()),
                (doctor_break::Column::Date, fields.date.into()),
                (doctor_break::Column::StartTime, fields.start_time.into()),
                (doctor_break::Column::EndTime, fields.end_time.into()),
                (doctor_break::Column::Reason, fields.reason.into()),
                (doctor_break::Column::Active, fields.active.into()),
                (doctor_break::Column::UpdatedAt, now.into()),
            ])
            .and_where(id_is::<doctor_break::Entity>(id))
            .to_owned();
        let row = updated::<doctor_break::Entity, _>(&*tx, update, "DoctorBreak").await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Deletes a break.
    pub async fn delete_break(&self, id: i64, audit: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.write().await?;
        delete_by_id::<doctor_break::Entity, _>(&*tx, id, "DoctorBreak").await?;
        write_audit(&*tx, audit).await?;
        tx.commit().await
    }

    // ---- doctor lists -------------------------------------------------------------------

    /// Active users with role `doctor` whose first name, last name, username or e-mail
    /// contains `q` (case-insensitive; empty = all), ordered by last name, first name, id.
    pub async fn doctor_choices(&self, q: &str) -> Result<Vec<DoctorChoice>, StoreError> {
        let select = select_rows::<user::Entity>()
            .join(
                JoinType::InnerJoin,
                role::Entity,
                Expr::col((role::Entity, role::Column::Id))
                    .equals((user::Entity, user::Column::RoleId)),
            )
            .and_where(Expr::col((role::Entity, role::Column::Name)).eq(Role::Doctor.name()))
            .and_where(Expr::col((user::Entity, user::Column::IsActive)).eq(true))
            .order_by((user::Entity, user::Column::LastName), Order::Asc)
            .order_by((user::Entity, user::Column::FirstName), Order::Asc)
            .order_by((user::Entity, user::Column::Id), Order::Asc)
            .to_owned();
        let doctors = fetch_models::<user::Entity, _>(self.conn(), &select).await?;
        // Filtered here rather than in SQL: the practice has few doctors, and Rust's Unicode
        // case folding behaves the same on SQLite (whose lower() is ASCII-only) and PostgreSQL.
        Ok(doctors
            .into_iter()
            .filter(|doctor| {
                doctor_matches(
                    q,
                    &doctor.first_name,
                    &doctor.last_name,
                    &doctor.username,
                    doctor.email.as_deref().unwrap_or(""),
                )
            })
            .map(|doctor| DoctorChoice {
                id: doctor.id,
                name: doctor_display_name(&doctor.first_name, &doctor.last_name, &doctor.username),
                calendar_color: doctor.calendar_color,
            })
            .collect())
    }
}

/// Rejects a window overlapping another active window of the same doctor and weekday.
async fn check_doctor_hours_overlap<C: ConnectionTrait>(
    conn: &C,
    fields: &DoctorHoursFields,
    exclude: Option<i64>,
) -> Result<(), StoreError> {
    if !fields.window.active {
        return Ok(());
    }
    let mut select = select_rows::<doctor_hours::Entity>()
        .and_where(Expr::col(doctor_hours::Column::DoctorId).eq(fields.doctor_id))
        .and_where(Expr::col(doctor_hours::Column::Weekday).eq(fields.window.weekday))
        .and_where(Expr::col(doctor_hours::Column::Active).eq(true))
        .to_owned();
    if let Some(id) = exclude {
        select.and_where(Expr::col(doctor_hours::Column::Id).ne(id));
    }
    let others: Vec<HoursWindow> = fetch_models::<doctor_hours::Entity, _>(conn, &select)
        .await?
        .iter()
        .map(doctor_hours_window)
        .collect();
    check_no_overlap(&fields.window, &others)?;
    Ok(())
}

/// The unique slot index (doctor, weekday, start, end, active) only fires for exact duplicates
/// of inactive rows (active ones are caught as overlaps first).
fn duplicate_slot(error: DbErr) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::field("start_time", DUPLICATE_SLOT_MESSAGE)
    } else {
        error.into()
    }
}
