//! The resource calendar (api.md §3.13, scheduling.md §6.4): one column per requested room or
//! device with everything that occupies it on one or more local days — appointments that booked
//! it, operations that use it as room or device — plus every absence and break of those days
//! painted into every column, as the original does (its weak point W18 is kept for
//! compatibility, api.md §5 item 17).
//!
//! Reads are set-based: [`read_resource_calendar`] runs at most five statements whatever the
//! number of resources, bookings or days (resources 1, appointment links 1, operation room and
//! device links 1, absences 1, breaks 1); [`read_calendar_resources`] runs one. No patient data
//! is read: a booking carries only its type, doctor or surgeon, times and status.
//!
//! The rules that turn rows into bookings (labels, colours, statuses, progress, whole-day
//! spans, order) are pure functions at the top of this module, each with its own tests.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::{Interval, local_day, local_to_utc};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, FromQueryResult, Order};

use crate::appointments::ResourceInfo;
use crate::db::Store;
use crate::error::StoreError;
use crate::migration::idens::{
    Appointment, AppointmentResource, AppointmentType, CoreUser, DoctorAbsence, DoctorBreak,
    Operation, OperationDevice, OperationType, Resource,
};

// ---- colours and labels: the one place to change them (api.md §5 item 17) --------------------

/// Colour of absence bookings. The original's value; differs on purpose from the absence API's
/// `#FF4500` (`praxi_domain::absence::ABSENCE_COLOR`), which clients of this view do not expect.
pub const ABSENCE_COLOR: &str = "#FFD700";
/// Colour of break bookings. The original's value; differs on purpose from the break API's
/// `#FFD700` (`praxi_domain::hours::BREAK_COLOR`).
pub const BREAK_COLOR: &str = "#FFA500";
/// Between the name of a booking and the person in its label: an en dash with spaces.
pub const LABEL_SEPARATOR: &str = " – ";
/// Label of an appointment without a type (or with an unnamed one).
pub const APPOINTMENT_FALLBACK_LABEL: &str = "Termin";
/// Label of an operation whose type has no name.
pub const OPERATION_FALLBACK_LABEL: &str = "OP";
/// Label of an absence without a reason.
pub const ABSENCE_FALLBACK_LABEL: &str = "Abwesenheit";
/// Label of a break (followed by the doctor unless it is practice-wide).
pub const BREAK_LABEL: &str = "Pause";
/// Most local days one request may show (`?days=`).
pub const MAX_DAYS: u32 = 31;

// ---- pure rules ------------------------------------------------------------------------------

/// What occupies a column. Declared in the alphabetical order of the wire names so that the
/// derived order is the original's sort by `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BookingKind {
    Absence,
    Appointment,
    Break,
    Operation,
}

impl BookingKind {
    /// The wire name (`kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            BookingKind::Absence => "absence",
            BookingKind::Appointment => "appointment",
            BookingKind::Break => "break",
            BookingKind::Operation => "operation",
        }
    }
}

/// One entry of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub kind: BookingKind,
    pub id: i64,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub color: Option<String>,
    pub label: String,
    /// `running` / `planned` for operations (see [`operation_board_status`]), else `None`.
    pub status: Option<&'static str>,
    /// Operations only (see [`operation_progress`]); other kinds have no `progress` key.
    pub progress: Option<f64>,
}

/// A requested resource with its bookings in `(start, end, kind, id)` order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceColumn {
    pub resource: ResourceInfo,
    pub bookings: Vec<Booking>,
}

/// The local days a request shows: `first` to `last` (inclusive) and their instants
/// (`[first 00:00, last+1 00:00)` in the practice zone, 23 or 25 hours per DST day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDays {
    first: NaiveDate,
    last: NaiveDate,
    period: Interval,
}

impl CalendarDays {
    /// `days` local days from `first` (1..=[`MAX_DAYS`]); `None` for another count or at the
    /// ends of the calendar.
    pub fn new(tz: Tz, first: NaiveDate, days: u32) -> Option<CalendarDays> {
        if !(1..=MAX_DAYS).contains(&days) {
            return None;
        }
        let last = first.checked_add_days(chrono::Days::new(u64::from(days - 1)))?;
        let start = local_day(tz, first)?.start();
        let end = local_day(tz, last)?.end();
        Some(CalendarDays {
            first,
            last,
            period: Interval::new(start, end).ok()?,
        })
    }

    /// The first local date.
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last local date (inclusive).
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// The instants of the days, half-open.
    pub fn period(&self) -> Interval {
        self.period
    }
}

/// "First Last", or the username when the name is empty (the Person rule of api.md §3.0).
pub fn person_name(username: &str, first_name: &str, last_name: &str) -> String {
    let full = format!("{} {}", first_name.trim(), last_name.trim());
    let full = full.trim();
    if full.is_empty() {
        username.to_owned()
    } else {
        full.to_owned()
    }
}

/// `"<name or fallback> – <person>"`, or just the name when there is no person. A blank name
/// counts as missing (the original's `name or fallback`).
pub fn label(name: Option<&str>, fallback: &str, person: Option<&str>) -> String {
    let name = name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(fallback);
    match person {
        Some(person) => format!("{name}{LABEL_SEPARATOR}{person}"),
        None => name.to_owned(),
    }
}

/// An appointment's colour: the type's colour, else the doctor's calendar colour.
pub fn appointment_color(type_color: Option<&str>, doctor_color: &str) -> Option<String> {
    type_color
        .filter(|color| !color.trim().is_empty())
        .or(Some(doctor_color).filter(|color| !color.trim().is_empty()))
        .map(str::to_owned)
}

/// The status an operation shows on the board: `running` while running, `planned` for planned
/// and confirmed ones, nothing for done and cancelled ones.
pub fn operation_board_status(status: &str) -> Option<&'static str> {
    match OperationStatus::parse(status)? {
        OperationStatus::Running => Some("running"),
        OperationStatus::Planned | OperationStatus::Confirmed => Some("planned"),
        OperationStatus::Done | OperationStatus::Cancelled => None,
    }
}

/// The share of a running operation's time that has passed at `now`, in `[0, 1]`; `0.0` for
/// every other status and for operations without a positive duration (as the OP dashboard).
pub fn operation_progress(
    status: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> f64 {
    if OperationStatus::parse(status) != Some(OperationStatus::Running) || end <= start {
        return 0.0;
    }
    let seconds = |delta: TimeDelta| delta.as_seconds_f64();
    (seconds(now - start) / seconds(end - start)).clamp(0.0, 1.0)
}

/// The span an absence covering `start_date..=end_date` shows in the days: from local midnight
/// of its first shown day to the last microsecond of its last shown day (as the original
/// renders a whole day). `None` when it does not touch the days.
pub fn absence_span(
    tz: Tz,
    days: &CalendarDays,
    start_date: NaiveDate,
    end_date: NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let from = Ord::max(start_date, days.first);
    let to = Ord::min(end_date, days.last);
    if from > to {
        return None;
    }
    let start = local_day(tz, from)?.start();
    let end = local_day(tz, to)?.end() - TimeDelta::microseconds(1);
    Some((start, end))
}

/// A break's instants on its date (wall-clock times resolved with the zone policy of
/// [`local_to_utc`]: a time in a spring-forward gap moves to the gap's end, an ambiguous one
/// takes the earlier instant).
pub fn break_span(
    tz: Tz,
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        local_to_utc(tz, date.and_time(start)),
        local_to_utc(tz, date.and_time(end)),
    )
}

/// Sorts bookings by start, end, kind, id (the original's order).
pub fn sort_bookings(bookings: &mut [Booking]) {
    bookings.sort_by(|a, b| {
        (a.start_time, a.end_time, a.kind, a.id).cmp(&(b.start_time, b.end_time, b.kind, b.id))
    });
}

/// The requested ids in request order, first occurrence only.
pub fn dedup_ids(ids: &[i64]) -> Vec<i64> {
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    unique
}

// ---- reads -----------------------------------------------------------------------------------

/// What a resource calendar request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceCalendarQuery {
    pub days: CalendarDays,
    /// Requested resource ids in request order (duplicates are ignored).
    pub resource_ids: Vec<i64>,
    /// A doctor's view: only their appointments, operations in which they hold any team role,
    /// their absences, and practice-wide plus their own breaks.
    pub own_doctor: Option<i64>,
    /// For the progress of running operations.
    pub now: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct AppointmentLinkRow {
    resource_id: i64,
    id: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    type_name: Option<String>,
    type_color: Option<String>,
    doctor_username: String,
    doctor_first_name: String,
    doctor_last_name: String,
    doctor_color: String,
}

#[derive(FromQueryResult)]
struct OperationLinkRow {
    resource_id: i64,
    id: i64,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    status: String,
    type_name: String,
    type_color: String,
    surgeon_username: String,
    surgeon_first_name: String,
    surgeon_last_name: String,
}

#[derive(FromQueryResult)]
struct AbsenceRow {
    id: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
    reason: Option<String>,
    doctor_username: String,
    doctor_first_name: String,
    doctor_last_name: String,
}

#[derive(FromQueryResult)]
struct BreakRow {
    id: i64,
    date: NaiveDate,
    start_time: NaiveTime,
    end_time: NaiveTime,
    doctor_username: Option<String>,
    doctor_first_name: Option<String>,
    doctor_last_name: Option<String>,
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

fn resource_select() -> SelectStatement {
    Query::select()
        .columns([
            (Resource::Table, Resource::Id),
            (Resource::Table, Resource::Name),
            (Resource::Table, Resource::Type),
            (Resource::Table, Resource::Color),
            (Resource::Table, Resource::Active),
            (Resource::Table, Resource::CreatedAt),
            (Resource::Table, Resource::UpdatedAt),
        ])
        .from(Resource::Table)
        .and_where(Expr::col((Resource::Table, Resource::Active)).eq(true))
        .to_owned()
}

/// `user` holds any team role in the operation.
fn team_member(user: i64) -> Cond {
    let col = |column: Operation| Expr::col((Operation::Table, column));
    Cond::any()
        .add(col(Operation::PrimarySurgeonId).eq(user))
        .add(col(Operation::AssistantId).eq(user))
        .add(col(Operation::AnesthesistId).eq(user))
}

/// `user.username/first_name/last_name AS <prefix>_…` for a joined user table alias.
fn person_columns(select: &mut SelectStatement, table: &str, prefix: &str) {
    for (column, suffix) in [
        (CoreUser::Username, "username"),
        (CoreUser::FirstName, "first_name"),
        (CoreUser::LastName, "last_name"),
    ] {
        select.expr_as(
            Expr::col((Alias::new(table), column)),
            Alias::new(format!("{prefix}_{suffix}")),
        );
    }
}

/// Active resources for the column picker, ordered `type, name, id`. For a doctor only those
/// that any of their appointments booked or any operation they are in used (room or device),
/// at any time. One statement.
pub async fn read_calendar_resources<C: ConnectionTrait>(
    conn: &C,
    own_doctor: Option<i64>,
) -> Result<Vec<ResourceInfo>, StoreError> {
    let mut select = resource_select()
        .order_by((Resource::Table, Resource::Type), Order::Asc)
        .order_by((Resource::Table, Resource::Name), Order::Asc)
        .order_by((Resource::Table, Resource::Id), Order::Asc)
        .to_owned();
    if let Some(doctor) = own_doctor {
        let booked = Query::select()
            .column((AppointmentResource::Table, AppointmentResource::ResourceId))
            .from(AppointmentResource::Table)
            .inner_join(
                Appointment::Table,
                Expr::col((Appointment::Table, Appointment::Id)).equals((
                    AppointmentResource::Table,
                    AppointmentResource::AppointmentId,
                )),
            )
            .and_where(Expr::col((Appointment::Table, Appointment::DoctorId)).eq(doctor))
            .to_owned();
        let rooms = Query::select()
            .column((Operation::Table, Operation::OpRoomId))
            .from(Operation::Table)
            .cond_where(team_member(doctor))
            .to_owned();
        let devices = Query::select()
            .column((OperationDevice::Table, OperationDevice::ResourceId))
            .from(OperationDevice::Table)
            .inner_join(
                Operation::Table,
                Expr::col((Operation::Table, Operation::Id))
                    .equals((OperationDevice::Table, OperationDevice::OperationId)),
            )
            .cond_where(team_member(doctor))
            .to_owned();
        let id = || Expr::col((Resource::Table, Resource::Id));
        select.cond_where(
            Cond::any()
                .add(id().in_subquery(booked))
                .add(id().in_subquery(rooms))
                .add(id().in_subquery(devices)),
        );
    }
    rows(conn, &select).await
}

/// Appointments overlapping the period that booked one of `resource_ids`: one row per
/// (appointment, resource) link.
fn appointment_links(
    period: Interval,
    resource_ids: &[i64],
    own_doctor: Option<i64>,
) -> SelectStatement {
    let a = Appointment::Table;
    let mut select = Query::select()
        .column((AppointmentResource::Table, AppointmentResource::ResourceId))
        .columns([
            (a, Appointment::Id),
            (a, Appointment::StartTime),
            (a, Appointment::EndTime),
        ])
        .expr_as(
            Expr::col((AppointmentType::Table, AppointmentType::Name)),
            Alias::new("type_name"),
        )
        .expr_as(
            Expr::col((AppointmentType::Table, AppointmentType::Color)),
            Alias::new("type_color"),
        )
        .expr_as(
            Expr::col((CoreUser::Table, CoreUser::CalendarColor)),
            Alias::new("doctor_color"),
        )
        .from(AppointmentResource::Table)
        .inner_join(
            a,
            Expr::col((a, Appointment::Id)).equals((
                AppointmentResource::Table,
                AppointmentResource::AppointmentId,
            )),
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
        .and_where(
            Expr::col((AppointmentResource::Table, AppointmentResource::ResourceId))
                .is_in(resource_ids.iter().copied()),
        )
        .and_where(Expr::col((a, Appointment::StartTime)).lt(period.end()))
        .and_where(Expr::col((a, Appointment::EndTime)).gt(period.start()))
        .and_where(
            Expr::col((a, Appointment::StartTime))
                .gt(crate::schedule::earliest_overlapping_start(period.start())),
        )
        .to_owned();
    person_columns(&mut select, "core_user", "doctor");
    if let Some(doctor) = own_doctor {
        select.and_where(Expr::col((a, Appointment::DoctorId)).eq(doctor));
    }
    select
}

/// The columns every operation-link row has, with `resource` as the linked resource id.
fn operation_link_select(resource: Expr) -> SelectStatement {
    let o = Operation::Table;
    let mut select = Query::select()
        .expr_as(resource, Alias::new("resource_id"))
        .columns([
            (o, Operation::Id),
            (o, Operation::StartTime),
            (o, Operation::EndTime),
            (o, Operation::Status),
        ])
        .expr_as(
            Expr::col((OperationType::Table, OperationType::Name)),
            Alias::new("type_name"),
        )
        .expr_as(
            Expr::col((OperationType::Table, OperationType::Color)),
            Alias::new("type_color"),
        )
        .to_owned();
    person_columns(&mut select, "core_user", "surgeon");
    select
}

/// Operations overlapping the period whose room is one of `resource_ids` (union) that use one
/// of them as a device: one row per (operation, resource), one statement.
fn operation_links(
    period: Interval,
    resource_ids: &[i64],
    own_doctor: Option<i64>,
) -> SelectStatement {
    let o = Operation::Table;
    let common = |select: &mut SelectStatement| {
        select
            .inner_join(
                OperationType::Table,
                Expr::col((OperationType::Table, OperationType::Id))
                    .equals((o, Operation::OpTypeId)),
            )
            .inner_join(
                CoreUser::Table,
                Expr::col((CoreUser::Table, CoreUser::Id)).equals((o, Operation::PrimarySurgeonId)),
            )
            .and_where(Expr::col((o, Operation::StartTime)).lt(period.end()))
            .and_where(Expr::col((o, Operation::EndTime)).gt(period.start()))
            .and_where(
                Expr::col((o, Operation::StartTime))
                    .gt(crate::schedule::earliest_overlapping_start(period.start())),
            );
        if let Some(doctor) = own_doctor {
            select.cond_where(team_member(doctor));
        }
    };
    let mut rooms = operation_link_select(Expr::col((o, Operation::OpRoomId)));
    rooms
        .from(o)
        .and_where(Expr::col((o, Operation::OpRoomId)).is_in(resource_ids.iter().copied()));
    common(&mut rooms);
    let mut devices = operation_link_select(Expr::col((
        OperationDevice::Table,
        OperationDevice::ResourceId,
    )));
    devices
        .from(OperationDevice::Table)
        .inner_join(
            o,
            Expr::col((o, Operation::Id))
                .equals((OperationDevice::Table, OperationDevice::OperationId)),
        )
        .and_where(
            Expr::col((OperationDevice::Table, OperationDevice::ResourceId))
                .is_in(resource_ids.iter().copied()),
        );
    common(&mut devices);
    rooms.union(UnionType::All, devices).to_owned()
}

/// Active absences touching the days (a doctor's own only), with the doctor's name.
fn absences(days: &CalendarDays, own_doctor: Option<i64>) -> SelectStatement {
    let d = DoctorAbsence::Table;
    let mut select = Query::select()
        .columns([
            (d, DoctorAbsence::Id),
            (d, DoctorAbsence::StartDate),
            (d, DoctorAbsence::EndDate),
            (d, DoctorAbsence::Reason),
        ])
        .from(d)
        .inner_join(
            CoreUser::Table,
            Expr::col((CoreUser::Table, CoreUser::Id)).equals((d, DoctorAbsence::DoctorId)),
        )
        .and_where(Expr::col((d, DoctorAbsence::Active)).eq(true))
        .and_where(Expr::col((d, DoctorAbsence::StartDate)).lte(days.last))
        .and_where(Expr::col((d, DoctorAbsence::EndDate)).gte(days.first))
        .to_owned();
    person_columns(&mut select, "core_user", "doctor");
    if let Some(doctor) = own_doctor {
        select.and_where(Expr::col((d, DoctorAbsence::DoctorId)).eq(doctor));
    }
    select
}

/// Active breaks on the days (for a doctor practice-wide and own ones), with the doctor's name
/// when there is one.
fn breaks(days: &CalendarDays, own_doctor: Option<i64>) -> SelectStatement {
    let b = DoctorBreak::Table;
    let mut select = Query::select()
        .columns([
            (b, DoctorBreak::Id),
            (b, DoctorBreak::Date),
            (b, DoctorBreak::StartTime),
            (b, DoctorBreak::EndTime),
        ])
        .from(b)
        .left_join(
            CoreUser::Table,
            Expr::col((CoreUser::Table, CoreUser::Id)).equals((b, DoctorBreak::DoctorId)),
        )
        .and_where(Expr::col((b, DoctorBreak::Active)).eq(true))
        .and_where(Expr::col((b, DoctorBreak::Date)).gte(days.first))
        .and_where(Expr::col((b, DoctorBreak::Date)).lte(days.last))
        .to_owned();
    person_columns(&mut select, "core_user", "doctor");
    if let Some(doctor) = own_doctor {
        select.cond_where(
            Cond::any()
                .add(Expr::col((b, DoctorBreak::DoctorId)).is_null())
                .add(Expr::col((b, DoctorBreak::DoctorId)).eq(doctor)),
        );
    }
    select
}

impl AppointmentLinkRow {
    fn booking(&self) -> Booking {
        let doctor = person_name(
            &self.doctor_username,
            &self.doctor_first_name,
            &self.doctor_last_name,
        );
        Booking {
            kind: BookingKind::Appointment,
            id: i64::from(self.id),
            start_time: self.start_time,
            end_time: self.end_time,
            color: appointment_color(self.type_color.as_deref(), &self.doctor_color),
            label: label(
                self.type_name.as_deref(),
                APPOINTMENT_FALLBACK_LABEL,
                Some(&doctor),
            ),
            status: None,
            progress: None,
        }
    }
}

impl OperationLinkRow {
    fn booking(&self, now: DateTime<Utc>) -> Booking {
        let surgeon = person_name(
            &self.surgeon_username,
            &self.surgeon_first_name,
            &self.surgeon_last_name,
        );
        Booking {
            kind: BookingKind::Operation,
            id: self.id,
            start_time: self.start_time,
            end_time: self.end_time,
            color: Some(self.type_color.clone()),
            label: label(
                Some(&self.type_name),
                OPERATION_FALLBACK_LABEL,
                Some(&surgeon),
            ),
            status: operation_board_status(&self.status),
            progress: Some(operation_progress(
                &self.status,
                self.start_time,
                self.end_time,
                now,
            )),
        }
    }
}

impl AbsenceRow {
    fn booking(&self, tz: Tz, days: &CalendarDays) -> Option<Booking> {
        let (start_time, end_time) = absence_span(tz, days, self.start_date, self.end_date)?;
        let doctor = person_name(
            &self.doctor_username,
            &self.doctor_first_name,
            &self.doctor_last_name,
        );
        Some(Booking {
            kind: BookingKind::Absence,
            id: self.id,
            start_time,
            end_time,
            color: Some(ABSENCE_COLOR.to_owned()),
            label: label(
                self.reason.as_deref(),
                ABSENCE_FALLBACK_LABEL,
                Some(&doctor),
            ),
            status: None,
            progress: None,
        })
    }
}

impl BreakRow {
    fn booking(&self, tz: Tz) -> Booking {
        let (start_time, end_time) = break_span(tz, self.date, self.start_time, self.end_time);
        let doctor = self.doctor_username.as_deref().map(|username| {
            person_name(
                username,
                self.doctor_first_name.as_deref().unwrap_or_default(),
                self.doctor_last_name.as_deref().unwrap_or_default(),
            )
        });
        Booking {
            kind: BookingKind::Break,
            id: self.id,
            start_time,
            end_time,
            color: Some(BREAK_COLOR.to_owned()),
            label: label(None, BREAK_LABEL, doctor.as_deref()),
            status: None,
            progress: None,
        }
    }
}

/// Reads the columns of a resource calendar: the requested active resources in request order
/// (unknown, inactive and repeated ids are dropped), each with the appointments and operations
/// that occupy it on the days and every absence and break of the days. At most five statements;
/// one when no requested resource exists.
pub async fn read_resource_calendar<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    query: &ResourceCalendarQuery,
) -> Result<Vec<ResourceColumn>, StoreError> {
    let requested = dedup_ids(&query.resource_ids);
    let found: Vec<ResourceInfo> = if requested.is_empty() {
        Vec::new()
    } else {
        let mut select = resource_select();
        select
            .and_where(Expr::col((Resource::Table, Resource::Id)).is_in(requested.iter().copied()));
        rows(conn, &select).await?
    };
    let mut by_id: HashMap<i64, ResourceInfo> = found.into_iter().map(|r| (r.id, r)).collect();
    let resources: Vec<ResourceInfo> = requested.iter().filter_map(|id| by_id.remove(id)).collect();
    if resources.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = resources.iter().map(|resource| resource.id).collect();
    let period = query.days.period;
    let own = query.own_doctor;

    let mut per_resource: HashMap<i64, Vec<Booking>> = HashMap::new();
    let appointment_rows: Vec<AppointmentLinkRow> =
        rows(conn, &appointment_links(period, &ids, own)).await?;
    for row in &appointment_rows {
        per_resource
            .entry(row.resource_id)
            .or_default()
            .push(row.booking());
    }
    let operation_rows: Vec<OperationLinkRow> =
        rows(conn, &operation_links(period, &ids, own)).await?;
    for row in &operation_rows {
        per_resource
            .entry(row.resource_id)
            .or_default()
            .push(row.booking(query.now));
    }
    let absence_rows: Vec<AbsenceRow> = rows(conn, &absences(&query.days, own)).await?;
    let break_rows: Vec<BreakRow> = rows(conn, &breaks(&query.days, own)).await?;
    let everywhere: Vec<Booking> = absence_rows
        .iter()
        .filter_map(|row| row.booking(tz, &query.days))
        .chain(break_rows.iter().map(|row| row.booking(tz)))
        .collect();

    Ok(resources
        .into_iter()
        .map(|resource| {
            let mut bookings = per_resource.remove(&resource.id).unwrap_or_default();
            bookings.extend(everywhere.iter().cloned());
            sort_bookings(&mut bookings);
            ResourceColumn { resource, bookings }
        })
        .collect())
}

impl Store {
    /// The resource calendar's column picker (see [`read_calendar_resources`]).
    pub async fn calendar_resources(
        &self,
        own_doctor: Option<i64>,
    ) -> Result<Vec<ResourceInfo>, StoreError> {
        read_calendar_resources(self.conn(), own_doctor).await
    }

    /// The resource calendar (see [`read_resource_calendar`]).
    pub async fn resource_calendar(
        &self,
        tz: Tz,
        query: &ResourceCalendarQuery,
    ) -> Result<Vec<ResourceColumn>, StoreError> {
        read_resource_calendar(self.conn(), tz, query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn labels_join_name_and_person_with_an_en_dash() {
        let cases: [(Option<&str>, &str, Option<&str>, &str); 7] = [
            (
                Some("Check-up"),
                "Termin",
                Some("Erika Muster"),
                "Check-up – Erika Muster",
            ),
            (
                None,
                "Termin",
                Some("Erika Muster"),
                "Termin – Erika Muster",
            ),
            (Some(""), "OP", Some("Max Beispiel"), "OP – Max Beispiel"),
            (Some("  "), "Abwesenheit", Some("Max"), "Abwesenheit – Max"),
            (
                Some("Fortbildung"),
                "Abwesenheit",
                Some("Max"),
                "Fortbildung – Max",
            ),
            (None, "Pause", None, "Pause"),
            (None, "Pause", Some("Max Beispiel"), "Pause – Max Beispiel"),
        ];
        for (name, fallback, person, expected) in cases {
            assert_eq!(
                label(name, fallback, person),
                expected,
                "{name:?} {person:?}"
            );
        }
        assert_eq!(LABEL_SEPARATOR, " \u{2013} ");
    }

    #[test]
    fn person_names_fall_back_to_the_username() {
        let cases = [
            ("dr.x", "Erika", "Muster", "Erika Muster"),
            ("dr.x", "", "Muster", "Muster"),
            ("dr.x", " Erika ", "", "Erika"),
            ("dr.x", "", " ", "dr.x"),
        ];
        for (username, first, last, expected) in cases {
            assert_eq!(person_name(username, first, last), expected);
        }
    }

    #[test]
    fn appointment_colour_is_the_type_colour_else_the_doctor_colour() {
        let cases = [
            (Some("#112233"), "#1E90FF", Some("#112233")),
            (None, "#1E90FF", Some("#1E90FF")),
            (Some(""), "#1E90FF", Some("#1E90FF")),
            (None, "", None),
        ];
        for (type_color, doctor_color, expected) in cases {
            assert_eq!(
                appointment_color(type_color, doctor_color).as_deref(),
                expected,
                "{type_color:?} {doctor_color}"
            );
        }
    }

    #[test]
    fn operation_statuses_map_to_running_planned_or_nothing() {
        let cases = [
            ("planned", Some("planned")),
            ("confirmed", Some("planned")),
            ("running", Some("running")),
            ("done", None),
            ("cancelled", None),
            ("bogus", None),
        ];
        for (status, expected) in cases {
            assert_eq!(operation_board_status(status), expected, "{status}");
        }
    }

    #[test]
    fn progress_is_the_clamped_share_of_a_running_operation() {
        let start = utc(2030, 1, 14, 9, 0);
        let end = utc(2030, 1, 14, 10, 0);
        let cases = [
            // 15 of 60 minutes passed.
            ("running", start, end, utc(2030, 1, 14, 9, 15), 0.25),
            ("running", start, end, utc(2030, 1, 14, 8, 0), 0.0),
            ("running", start, end, utc(2030, 1, 14, 11, 0), 1.0),
            ("running", start, start, utc(2030, 1, 14, 9, 30), 0.0),
            ("planned", start, end, utc(2030, 1, 14, 9, 30), 0.0),
            ("done", start, end, utc(2030, 1, 14, 9, 30), 0.0),
        ];
        for (status, start, end, now, expected) in cases {
            let progress = operation_progress(status, start, end, now);
            assert!(
                (progress - expected).abs() < 1e-12,
                "{status} {now}: {progress}"
            );
        }
    }

    #[test]
    fn calendar_days_cover_whole_local_days_and_accept_1_to_31() {
        // 2026-10-25 is the autumn DST day in Berlin: 25 hours, 22:00 UTC the evening before to
        // 23:00 UTC.
        let days = CalendarDays::new(Berlin, date(2026, 10, 25), 1).unwrap();
        assert_eq!(days.period().start(), utc(2026, 10, 24, 22, 0));
        assert_eq!(days.period().end(), utc(2026, 10, 25, 23, 0));
        assert_eq!(days.period().duration(), TimeDelta::hours(25));
        let week = CalendarDays::new(Berlin, date(2030, 1, 14), 7).unwrap();
        assert_eq!(week.last(), date(2030, 1, 20));
        assert_eq!(week.period().end(), utc(2030, 1, 20, 23, 0));
        assert!(CalendarDays::new(Berlin, date(2030, 1, 14), 0).is_none());
        assert!(CalendarDays::new(Berlin, date(2030, 1, 14), 31).is_some());
        assert!(CalendarDays::new(Berlin, date(2030, 1, 14), 32).is_none());
        assert!(CalendarDays::new(Berlin, NaiveDate::MAX, 1).is_none());
    }

    #[test]
    fn absences_span_whole_local_days_clipped_to_the_shown_days() {
        let one = CalendarDays::new(Berlin, date(2026, 10, 25), 1).unwrap();
        let micro = TimeDelta::microseconds(1);
        // A week-long absence on the 25-hour day: 00:00 CEST to 23:59:59.999999 CET.
        assert_eq!(
            absence_span(Berlin, &one, date(2026, 10, 20), date(2026, 10, 30)),
            Some((utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0) - micro))
        );
        let week = CalendarDays::new(Berlin, date(2030, 1, 14), 7).unwrap();
        let cases = [
            // Inside: its own days.
            (
                date(2030, 1, 15),
                date(2030, 1, 16),
                Some((utc(2030, 1, 14, 23, 0), utc(2030, 1, 16, 23, 0) - micro)),
            ),
            // Starting before: from the first shown day.
            (
                date(2030, 1, 1),
                date(2030, 1, 14),
                Some((utc(2030, 1, 13, 23, 0), utc(2030, 1, 14, 23, 0) - micro)),
            ),
            // Ending after: to the last shown day.
            (
                date(2030, 1, 20),
                date(2030, 2, 1),
                Some((utc(2030, 1, 19, 23, 0), utc(2030, 1, 20, 23, 0) - micro)),
            ),
            (date(2030, 1, 21), date(2030, 1, 22), None),
            (date(2030, 1, 16), date(2030, 1, 15), None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                absence_span(Berlin, &week, from, to),
                expected,
                "{from}..{to}"
            );
        }
    }

    #[test]
    fn breaks_resolve_wall_clock_times_with_the_zone_policy() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        // Winter: UTC+1.
        assert_eq!(
            break_span(Berlin, date(2030, 1, 14), t(12, 0), t(12, 30)),
            (utc(2030, 1, 14, 11, 0), utc(2030, 1, 14, 11, 30))
        );
        // Autumn fold: 02:30 happens twice; the earlier (CEST) instant is taken.
        assert_eq!(
            break_span(Berlin, date(2026, 10, 25), t(2, 30), t(3, 30)),
            (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
        );
        // Spring gap: 02:30 does not exist and moves to 03:00 CEST.
        assert_eq!(
            break_span(Berlin, date(2026, 3, 29), t(2, 30), t(4, 0)),
            (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0))
        );
    }

    fn booking(kind: BookingKind, id: i64, start: DateTime<Utc>, end: DateTime<Utc>) -> Booking {
        Booking {
            kind,
            id,
            start_time: start,
            end_time: end,
            color: None,
            label: String::new(),
            status: None,
            progress: None,
        }
    }

    #[test]
    fn bookings_sort_by_start_end_kind_id() {
        let (t9, t10, t11) = (
            utc(2030, 1, 14, 9, 0),
            utc(2030, 1, 14, 10, 0),
            utc(2030, 1, 14, 11, 0),
        );
        let mut bookings = vec![
            booking(BookingKind::Operation, 1, t9, t10),
            booking(BookingKind::Appointment, 9, t10, t11),
            booking(BookingKind::Appointment, 2, t9, t11),
            booking(BookingKind::Absence, 5, t9, t10),
            booking(BookingKind::Appointment, 3, t9, t10),
            booking(BookingKind::Break, 4, t9, t10),
            booking(BookingKind::Appointment, 1, t9, t10),
        ];
        sort_bookings(&mut bookings);
        let order: Vec<(&str, i64)> = bookings.iter().map(|b| (b.kind.as_str(), b.id)).collect();
        assert_eq!(
            order,
            [
                ("absence", 5),
                ("appointment", 1),
                ("appointment", 3),
                ("break", 4),
                ("operation", 1),
                ("appointment", 2),
                ("appointment", 9),
            ]
        );
    }

    #[test]
    fn requested_ids_keep_their_first_position() {
        assert_eq!(dedup_ids(&[5, 3, 5, 9, 3]), [5, 3, 9]);
        assert_eq!(dedup_ids(&[]), Vec::<i64>::new());
    }
}
