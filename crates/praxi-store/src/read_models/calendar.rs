//! The calendar views and the availability check (api.md §3.5/§3.6, scheduling.md §2.4/§2.5):
//! everything one request needs, read with a fixed number of set-based statements (never one
//! per day, doctor, booking or patient), with availability computed by the scheduling engine
//! over one loaded [`Schedule`].
//!
//! * [`read_calendar`]: at most 14 statements whatever the range and the number of rows —
//!   doctors (1), the engine input (6, see [`load_schedule`]), appointments (2, the appointments
//!   module's reader), operations (2, the operations module's reader), absences (1), breaks (1),
//!   resources (1).
//! * [`read_availability`]: at most 11 — rooms (1), doctors (1), the engine input (8: bookings of
//!   everyone plus the rooms' links), patients (1).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::scheduling::{
    AppointmentId, BookingRef, Interval, Occupant, PatientId, RangeAvailability, ResourceId,
    Schedule, SlotDuration, UserId, local_day,
};
use sea_orm::sea_query::{Cond, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::appointments::{AppointmentFilter, AppointmentRecord, ResourceInfo, read_appointments};
use crate::audit::AuditEntry;
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{CoreRole, CoreUser, DoctorAbsence, DoctorBreak, Patients, Resource};
use crate::operations::{OperationFilter, OperationRecord, read_operations};
use crate::schedule::{ScheduleScope, load_schedule};

/// Length of the free slot a doctor needs to count as available in a calendar range
/// (scheduling.md §1.6).
pub const CALENDAR_SLOT_MINUTES: i64 = 30;

/// At most this many patients are listed by the availability check (api.md §5 item 1).
pub const AVAILABLE_PATIENTS_LIMIT: u64 = 50;

/// The three calendar views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarView {
    /// The local day of the date.
    Day,
    /// Monday to Sunday around the date.
    Week,
    /// First to last day of the date's month.
    Month,
}

impl CalendarView {
    /// The audit action of the view (`calendar_day|week|month`).
    pub fn audit_action(self) -> &'static str {
        match self {
            CalendarView::Day => "calendar_day",
            CalendarView::Week => "calendar_week",
            CalendarView::Month => "calendar_month",
        }
    }

    /// The first and last local date the view shows for `date`; `None` at the ends of the
    /// calendar.
    pub fn dates(self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            CalendarView::Day => Some((date, date)),
            CalendarView::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                let monday = date.checked_sub_days(chrono::Days::new(back))?;
                Some((monday, monday.checked_add_days(chrono::Days::new(6))?))
            }
            CalendarView::Month => {
                let first = date.with_day(1)?;
                let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
                Some((first, last))
            }
        }
    }
}

/// The local dates of a calendar view and their instants in the practice zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRange {
    /// The view the range belongs to.
    pub view: CalendarView,
    /// First local date.
    pub first: NaiveDate,
    /// Last local date (inclusive).
    pub last: NaiveDate,
    /// Local midnight of `first` to local midnight after `last` (23 or 25 hours longer or
    /// shorter around DST changes).
    pub period: Interval,
}

impl CalendarRange {
    /// The range of `view` around `date` in zone `tz`; `None` at the ends of the calendar.
    pub fn new(view: CalendarView, date: NaiveDate, tz: Tz) -> Option<CalendarRange> {
        let (first, last) = view.dates(date)?;
        let start = local_day(tz, first)?.start();
        let end = local_day(tz, last)?.end();
        Some(CalendarRange {
            view,
            first,
            last,
            period: Interval::new(start, end).ok()?,
        })
    }

    /// The first instant of the range (`range_start`).
    pub fn range_start(&self) -> DateTime<Utc> {
        self.period.start()
    }

    /// The last microsecond of the last day (`range_end`, as the original renders it).
    pub fn range_end(&self) -> DateTime<Utc> {
        self.period.end() - TimeDelta::microseconds(1)
    }
}

/// The query filters of a calendar request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CalendarFilter {
    /// `doctor_id`: appointments of, operations with (any team slot), absences and breaks of
    /// this doctor; availability of this doctor only.
    pub doctor_id: Option<i64>,
    /// `patient_id`: appointments and operations of this patient.
    pub patient_id: Option<i64>,
    /// `type_id`: appointments of this appointment type.
    pub type_id: Option<i64>,
    /// A doctor's own view: only their appointments, operations, absences, breaks (plus the
    /// practice-wide ones) and availability. Combines with the filters above.
    pub own_doctor: Option<i64>,
}

/// An active doctor as listed in calendars and availability.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DoctorInfo {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub calendar_color: String,
}

impl DoctorInfo {
    /// Full name, or the username when the name is empty.
    pub fn display_name(&self) -> String {
        person_name(&self.username, &self.first_name, &self.last_name)
    }
}

fn person_name(username: &str, first_name: &str, last_name: &str) -> String {
    let full = format!("{} {}", first_name.trim(), last_name.trim());
    let full = full.trim();
    if full.is_empty() {
        username.to_owned()
    } else {
        full.to_owned()
    }
}

/// An absence row (AbsenceRead; the stored snapshot columns are not exposed).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CalendarAbsence {
    pub id: i64,
    pub doctor_id: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A break row (BreakRead; `doctor_id` `None` = practice-wide).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CalendarBreak {
    pub id: i64,
    pub doctor_id: Option<i64>,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub reason: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything a calendar view shows.
#[derive(Debug, Clone)]
pub struct CalendarData {
    /// Overlapping appointments (any status), in `start_time, id` order, with resources.
    pub appointments: Vec<AppointmentRecord>,
    /// Overlapping operations (any status), in `start_time, id` order.
    pub operations: Vec<OperationRecord>,
    /// Active absences overlapping the dates, in `start_date, id` order.
    pub absences: Vec<CalendarAbsence>,
    /// Active breaks on the dates, in `date, start_time, id` order.
    pub breaks: Vec<CalendarBreak>,
    /// All active resources, in `type, name, id` order.
    pub resources: Vec<ResourceInfo>,
    /// The listed doctors (ordered by id) with their availability in the range.
    pub doctors: Vec<(DoctorInfo, RangeAvailability)>,
    /// When each listed doctor can be booked on each date of the range: practice hours ∩
    /// the doctor's hours, without absent days (breaks and bookings not subtracted).
    pub working: Vec<DoctorDay>,
}

impl CalendarData {
    /// The patients of the appointments and operations shown (the audit's subjects).
    pub fn patient_ids(&self) -> Vec<i32> {
        let mut ids: Vec<i32> = self
            .appointments
            .iter()
            .map(|appointment| appointment.patient_id)
            .chain(self.operations.iter().map(|operation| operation.patient_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// One doctor's bookable time on one local date, as instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorDay {
    pub doctor_id: i64,
    pub date: NaiveDate,
    pub intervals: Vec<Interval>,
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

/// Active users with role doctor, ordered by id; only `only` when given.
async fn read_doctors<C: ConnectionTrait>(
    conn: &C,
    only: Option<i64>,
) -> Result<Vec<DoctorInfo>, StoreError> {
    let mut select = Query::select()
        .columns([
            (CoreUser::Table, CoreUser::Id),
            (CoreUser::Table, CoreUser::Username),
            (CoreUser::Table, CoreUser::FirstName),
            (CoreUser::Table, CoreUser::LastName),
            (CoreUser::Table, CoreUser::CalendarColor),
        ])
        .from(CoreUser::Table)
        .inner_join(
            CoreRole::Table,
            Expr::col((CoreRole::Table, CoreRole::Id)).equals((CoreUser::Table, CoreUser::RoleId)),
        )
        .and_where(Expr::col((CoreRole::Table, CoreRole::Name)).eq(Role::Doctor.name()))
        .and_where(Expr::col((CoreUser::Table, CoreUser::IsActive)).eq(true))
        .order_by((CoreUser::Table, CoreUser::Id), Order::Asc)
        .to_owned();
    if let Some(id) = only {
        select.and_where(Expr::col((CoreUser::Table, CoreUser::Id)).eq(id));
    }
    rows(conn, &select).await
}

fn resource_columns() -> [(Resource, Resource); 7] {
    [
        (Resource::Table, Resource::Id),
        (Resource::Table, Resource::Name),
        (Resource::Table, Resource::Type),
        (Resource::Table, Resource::Color),
        (Resource::Table, Resource::Active),
        (Resource::Table, Resource::CreatedAt),
        (Resource::Table, Resource::UpdatedAt),
    ]
}

/// The doctor whose absences and breaks a request shows: the acting doctor, else the
/// `doctor_id` filter, else everyone (`None`).
fn shown_doctor(filter: &CalendarFilter) -> Option<i64> {
    filter.own_doctor.or(filter.doctor_id)
}

async fn read_absences<C: ConnectionTrait>(
    conn: &C,
    range: &CalendarRange,
    doctor: Option<i64>,
) -> Result<Vec<CalendarAbsence>, StoreError> {
    let mut select = Query::select()
        .columns([
            DoctorAbsence::Id,
            DoctorAbsence::DoctorId,
            DoctorAbsence::StartDate,
            DoctorAbsence::EndDate,
            DoctorAbsence::Reason,
            DoctorAbsence::Active,
            DoctorAbsence::CreatedAt,
            DoctorAbsence::UpdatedAt,
        ])
        .from(DoctorAbsence::Table)
        .and_where(Expr::col(DoctorAbsence::Active).eq(true))
        .and_where(Expr::col(DoctorAbsence::StartDate).lte(range.last))
        .and_where(Expr::col(DoctorAbsence::EndDate).gte(range.first))
        .order_by(DoctorAbsence::StartDate, Order::Asc)
        .order_by(DoctorAbsence::Id, Order::Asc)
        .to_owned();
    if let Some(doctor) = doctor {
        select.and_where(Expr::col(DoctorAbsence::DoctorId).eq(doctor));
    }
    rows(conn, &select).await
}

async fn read_breaks<C: ConnectionTrait>(
    conn: &C,
    range: &CalendarRange,
    doctor: Option<i64>,
) -> Result<Vec<CalendarBreak>, StoreError> {
    let mut select = Query::select()
        .columns([
            DoctorBreak::Id,
            DoctorBreak::DoctorId,
            DoctorBreak::Date,
            DoctorBreak::StartTime,
            DoctorBreak::EndTime,
            DoctorBreak::Reason,
            DoctorBreak::Active,
            DoctorBreak::CreatedAt,
            DoctorBreak::UpdatedAt,
        ])
        .from(DoctorBreak::Table)
        .and_where(Expr::col(DoctorBreak::Active).eq(true))
        .and_where(Expr::col(DoctorBreak::Date).gte(range.first))
        .and_where(Expr::col(DoctorBreak::Date).lte(range.last))
        .order_by(DoctorBreak::Date, Order::Asc)
        .order_by(DoctorBreak::StartTime, Order::Asc)
        .order_by(DoctorBreak::Id, Order::Asc)
        .to_owned();
    if let Some(doctor) = doctor {
        select.cond_where(
            Cond::any()
                .add(Expr::col(DoctorBreak::DoctorId).is_null())
                .add(Expr::col(DoctorBreak::DoctorId).eq(doctor)),
        );
    }
    rows(conn, &select).await
}

async fn read_active_resources<C: ConnectionTrait>(
    conn: &C,
    kind: Option<&str>,
) -> Result<Vec<ResourceInfo>, StoreError> {
    let mut select = Query::select()
        .columns(resource_columns())
        .from(Resource::Table)
        .and_where(Expr::col((Resource::Table, Resource::Active)).eq(true))
        .order_by((Resource::Table, Resource::Type), Order::Asc)
        .order_by((Resource::Table, Resource::Name), Order::Asc)
        .order_by((Resource::Table, Resource::Id), Order::Asc)
        .to_owned();
    if let Some(kind) = kind {
        select.and_where(Expr::col((Resource::Table, Resource::Type)).eq(kind));
    }
    rows(conn, &select).await
}

fn calendar_slot() -> Result<SlotDuration, StoreError> {
    SlotDuration::from_minutes(CALENDAR_SLOT_MINUTES)
        .map_err(|error| StoreError::Db(error.to_string()))
}

/// Reads a calendar view: bookings overlapping the range (filtered as the request says),
/// absences and breaks of its dates, the active resources, and whether each listed doctor has
/// a free [`CALENDAR_SLOT_MINUTES`]-minute slot not before `now` in the range (the engine's
/// [`Schedule::doctors_availability_for_range`]). At most 14 statements.
pub async fn read_calendar<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    range: &CalendarRange,
    filter: &CalendarFilter,
    now: DateTime<Utc>,
) -> Result<CalendarData, StoreError> {
    let slot = calendar_slot()?;
    // A patient id beyond the column's range matches no booking.
    let patient = filter.patient_id.map(i32::try_from);
    let patient_matches_nothing = matches!(patient, Some(Err(_)));
    let patient = patient.and_then(Result::ok);

    let listed_doctor = filter.own_doctor.or(filter.doctor_id);
    let doctors = read_doctors(conn, listed_doctor).await?;
    let doctor_ids: Vec<i64> = doctors.iter().map(|d| d.id).collect();
    let (availability, working) = if doctor_ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let input = load_schedule(
            conn,
            tz,
            range.period,
            &ScheduleScope::people(doctor_ids.clone()),
        )
        .await?;
        let users: Vec<UserId> = doctor_ids.iter().copied().map(UserId).collect();
        let schedule = Schedule::new(input);
        let availability =
            schedule.doctors_availability_for_range(&users, range.first, range.last, slot, now);
        let mut working = Vec::new();
        for user in &users {
            for date in range.first.iter_days().take_while(|d| *d <= range.last) {
                let absent = schedule.absences_on(*user, date).next().is_some();
                let intervals = if absent {
                    Vec::new()
                } else {
                    schedule
                        .working_time(&[*user], date)
                        .iter()
                        .copied()
                        .collect()
                };
                working.push(DoctorDay {
                    doctor_id: user.0,
                    date,
                    intervals,
                });
            }
        }
        (availability, working)
    };
    let doctors = doctors
        .into_iter()
        .zip(availability)
        .map(|(doctor, (_, available))| (doctor, available))
        .collect();

    // Doctors see their own appointments only; a doctor_id filter naming someone else then
    // matches nothing.
    let own_conflicts = matches!(
        (filter.own_doctor, filter.doctor_id),
        (Some(own), Some(other)) if own != other
    );
    let appointments = if patient_matches_nothing || own_conflicts {
        Vec::new()
    } else {
        let appointment_filter = AppointmentFilter {
            period: Some(range.period),
            doctor_id: filter.own_doctor.or(filter.doctor_id),
            patient_id: patient,
            type_id: filter.type_id,
            ..Default::default()
        };
        read_appointments(conn, &appointment_filter).await?
    };
    let operations = if patient_matches_nothing {
        Vec::new()
    } else {
        // Operations in which the doctor (and the doctor_id filter's doctor) has any team role.
        let operation_filter = OperationFilter {
            period: Some(range.period),
            team_member: filter.own_doctor.or(filter.doctor_id),
            patient_id: patient,
            ..OperationFilter::default()
        };
        let mut operations = read_operations(conn, &operation_filter).await?;
        if let (Some(_), Some(other)) = (filter.own_doctor, filter.doctor_id) {
            operations.retain(|operation| operation.has_member(other));
        }
        operations
    };
    let shown = shown_doctor(filter);
    Ok(CalendarData {
        appointments,
        operations,
        absences: read_absences(conn, range, shown).await?,
        breaks: read_breaks(conn, range, shown).await?,
        resources: read_active_resources(conn, None).await?,
        doctors,
        working,
    })
}

/// An active room (`{id, name, type}` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    pub id: i64,
    pub name: String,
    pub kind: String,
}

/// A patient as listed by the availability check.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PatientInfo {
    pub id: i32,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
}

/// What the availability check asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityQuery {
    /// The wanted `[start, end)`.
    pub interval: Interval,
    /// A booking being moved: its own time does not count as busy.
    pub exclude_appointment: Option<i32>,
    /// Only patients matching this search (all digits: the patient number; otherwise a
    /// case-insensitive substring of first/last name, phone or e-mail).
    pub patient_search: Option<String>,
    /// At most this many patients.
    pub patient_limit: u64,
}

/// Who and what is free for an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Active doctors free for the whole interval (hours, absences, breaks, appointments,
    /// operations), ordered by id.
    pub doctors: Vec<DoctorInfo>,
    /// Active rooms not booked by an appointment or used by an operation, ordered by name, id.
    pub rooms: Vec<RoomInfo>,
    /// Patients (matching the search) without an appointment or operation in the interval, in
    /// patient list order (last name, first name, id), at most the query's limit.
    pub patients: Vec<PatientInfo>,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Patients matching `search` in list order, at most `limit`.
async fn read_patient_candidates<C: ConnectionTrait>(
    conn: &C,
    search: Option<&str>,
    limit: u64,
) -> Result<Vec<PatientInfo>, StoreError> {
    let mut select = Query::select()
        .columns([
            Patients::Id,
            Patients::FirstName,
            Patients::LastName,
            Patients::BirthDate,
        ])
        .from(Patients::Table)
        .order_by(Patients::LastName, Order::Asc)
        .order_by(Patients::FirstName, Order::Asc)
        .order_by(Patients::Id, Order::Asc)
        .limit(limit)
        .to_owned();
    match search {
        None => {}
        Some(q) if q.bytes().all(|byte| byte.is_ascii_digit()) => {
            let Ok(id) = q.parse::<i32>() else {
                return Ok(Vec::new());
            };
            select.and_where(Expr::col(Patients::Id).eq(id));
        }
        Some(q) => {
            let pattern = like_pattern(q);
            let like = |column: Patients| {
                Expr::expr(Func::lower(Expr::col(column)))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select.cond_where(
                Cond::any()
                    .add(like(Patients::FirstName))
                    .add(like(Patients::LastName))
                    .add(like(Patients::Phone))
                    .add(like(Patients::Email)),
            );
        }
    }
    rows(conn, &select).await
}

/// The availability check: loads the engine input for the interval once (everyone's bookings,
/// hours, absences, breaks, plus the active rooms' links) and lets the engine decide who is
/// free. Patients are read in one statement with room for every busy one, so the limit is
/// filled whenever enough free patients exist. At most 11 statements.
pub async fn read_availability<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    query: &AvailabilityQuery,
) -> Result<Availability, StoreError> {
    let interval = query.interval;
    // Ordered by type (all "room"), name, id.
    let rooms = read_active_resources(conn, Some("room")).await?;
    let doctors = read_doctors(conn, None).await?;

    // The local days the interval touches, so hours and breaks of every day are loaded.
    let first = interval.start().with_timezone(&tz).date_naive();
    let last = interval.end().with_timezone(&tz).date_naive();
    let period = match (local_day(tz, first), local_day(tz, last)) {
        (Some(a), Some(b)) => Interval::new(a.start(), b.end()).unwrap_or(interval),
        _ => interval,
    };
    let scope = ScheduleScope {
        people: None,
        patients: Vec::new(),
        resources: rooms.iter().map(|room| room.id).collect(),
        holds: None,
    };
    let input = load_schedule(conn, tz, period, &scope).await?;
    let busy_patients = input
        .busy
        .iter()
        .filter_map(|busy| match busy.occupant {
            Occupant::Patient(patient) if busy.interval.overlaps(&interval) => Some(patient),
            _ => None,
        })
        .collect::<HashSet<PatientId>>()
        .len();
    let schedule = Schedule::new(input);
    let exclude = query
        .exclude_appointment
        .map(|id| BookingRef::Appointment(AppointmentId(id)));

    let doctor_ids: Vec<UserId> = doctors.iter().map(|d| UserId(d.id)).collect();
    let free_doctors: HashSet<UserId> = schedule
        .available_doctors(&doctor_ids, &interval, exclude)
        .into_iter()
        .collect();
    let room_ids: Vec<ResourceId> = rooms.iter().map(|r| ResourceId(r.id)).collect();
    let free_rooms: HashSet<ResourceId> = schedule
        .available_resources(&room_ids, &interval, exclude)
        .into_iter()
        .collect();

    let fetch = query
        .patient_limit
        .saturating_add(u64::try_from(busy_patients).unwrap_or(u64::MAX));
    let candidates = read_patient_candidates(conn, query.patient_search.as_deref(), fetch).await?;
    let candidate_ids: Vec<PatientId> = candidates.iter().map(|p| PatientId(p.id)).collect();
    let free_patients: HashSet<PatientId> = schedule
        .available_patients(&candidate_ids, &interval, exclude)
        .into_iter()
        .collect();

    Ok(Availability {
        doctors: doctors
            .into_iter()
            .filter(|d| free_doctors.contains(&UserId(d.id)))
            .collect(),
        rooms: rooms
            .into_iter()
            .filter(|r| free_rooms.contains(&ResourceId(r.id)))
            .map(|r| RoomInfo {
                id: r.id,
                name: r.name,
                kind: r.kind,
            })
            .collect(),
        patients: candidates
            .into_iter()
            .filter(|p| free_patients.contains(&PatientId(p.id)))
            .take(usize::try_from(query.patient_limit).unwrap_or(usize::MAX))
            .collect(),
    })
}

impl Store {
    /// A calendar view (see [`read_calendar`]).
    pub async fn calendar(
        &self,
        tz: Tz,
        range: &CalendarRange,
        filter: &CalendarFilter,
        now: DateTime<Utc>,
    ) -> Result<CalendarData, StoreError> {
        read_calendar(self.conn(), tz, range, filter, now).await
    }

    /// The availability check (see [`read_availability`]).
    pub async fn availability(
        &self,
        tz: Tz,
        query: &AvailabilityQuery,
    ) -> Result<Availability, StoreError> {
        read_availability(self.conn(), tz, query).await
    }

    /// Writes the audit rows of one read in a single transaction (all or none).
    /// Each row carries the patients the read showed (`AuditEntry::subjects`).
    pub async fn record_read_audits(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.record_audits(entries.to_vec()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn views_cover_the_day_the_monday_to_sunday_week_and_the_month() {
        let cases = [
            (
                CalendarView::Day,
                date(2030, 1, 16),
                date(2030, 1, 16),
                date(2030, 1, 16),
            ),
            (
                CalendarView::Week,
                date(2030, 1, 14),
                date(2030, 1, 14),
                date(2030, 1, 20),
            ),
            (
                CalendarView::Week,
                date(2030, 1, 16),
                date(2030, 1, 14),
                date(2030, 1, 20),
            ),
            (
                CalendarView::Week,
                date(2030, 1, 20),
                date(2030, 1, 14),
                date(2030, 1, 20),
            ),
            (
                CalendarView::Week,
                date(2030, 1, 1),
                date(2029, 12, 31),
                date(2030, 1, 6),
            ),
            (
                CalendarView::Month,
                date(2030, 1, 16),
                date(2030, 1, 1),
                date(2030, 1, 31),
            ),
            (
                CalendarView::Month,
                date(2028, 2, 29),
                date(2028, 2, 1),
                date(2028, 2, 29),
            ),
            (
                CalendarView::Month,
                date(2030, 2, 1),
                date(2030, 2, 1),
                date(2030, 2, 28),
            ),
            (
                CalendarView::Month,
                date(2030, 12, 31),
                date(2030, 12, 1),
                date(2030, 12, 31),
            ),
        ];
        for (view, day, first, last) in cases {
            assert_eq!(view.dates(day), Some((first, last)), "{view:?} {day}");
        }
        assert_eq!(CalendarView::Week.dates(NaiveDate::MIN), None);
        assert_eq!(CalendarView::Month.dates(NaiveDate::MAX), None);
    }

    #[test]
    fn ranges_follow_local_midnights_across_dst_changes() {
        let berlin = chrono_tz::Europe::Berlin;
        let utc = |y, m, d, h, min| {
            date(y, m, d)
                .and_hms_opt(h, min, 0)
                .unwrap_or_default()
                .and_utc()
        };
        let cases = [
            // Week of the spring change: 7 days minus one hour.
            (
                CalendarView::Week,
                date(2026, 3, 29),
                utc(2026, 3, 22, 23, 0),
                utc(2026, 3, 29, 22, 0),
                167,
            ),
            (
                CalendarView::Day,
                date(2026, 3, 29),
                utc(2026, 3, 28, 23, 0),
                utc(2026, 3, 29, 22, 0),
                23,
            ),
            (
                CalendarView::Day,
                date(2026, 10, 25),
                utc(2026, 10, 24, 22, 0),
                utc(2026, 10, 25, 23, 0),
                25,
            ),
            (
                CalendarView::Month,
                date(2026, 3, 10),
                utc(2026, 2, 28, 23, 0),
                utc(2026, 3, 31, 22, 0),
                743,
            ),
            (
                CalendarView::Day,
                date(2030, 1, 14),
                utc(2030, 1, 13, 23, 0),
                utc(2030, 1, 14, 23, 0),
                24,
            ),
        ];
        for (view, day, start, end, hours) in cases {
            let range = CalendarRange::new(view, day, berlin);
            let range = range.unwrap_or_else(|| panic!("{view:?} {day}"));
            assert_eq!(range.range_start(), start, "{view:?} {day}");
            assert_eq!(range.period.end(), end, "{view:?} {day}");
            assert_eq!(range.range_end(), end - TimeDelta::microseconds(1));
            assert_eq!(
                range.period.duration(),
                TimeDelta::hours(hours),
                "{view:?} {day}"
            );
        }
    }

    #[test]
    fn audit_actions_name_the_view() {
        let cases = [
            (CalendarView::Day, "calendar_day"),
            (CalendarView::Week, "calendar_week"),
            (CalendarView::Month, "calendar_month"),
        ];
        for (view, action) in cases {
            assert_eq!(view.audit_action(), action);
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        let cases = [
            ("Mül", "%mül%"),
            ("50%", "%50\\%%"),
            ("a_b", "%a\\_b%"),
            ("x\\y", "%x\\\\y%"),
        ];
        for (text, pattern) in cases {
            assert_eq!(like_pattern(text), pattern);
        }
    }

    #[test]
    fn person_names_fall_back_to_the_username() {
        let cases = [
            ("dr.a", "Anna", "Arzt", "Anna Arzt"),
            ("dr.a", " ", "", "dr.a"),
            ("dr.a", "", "Arzt", "Arzt"),
        ];
        for (username, first, last, name) in cases {
            assert_eq!(person_name(username, first, last), name);
        }
    }
}
