//! Loads what the scheduling engine needs for a period, with a fixed number of set-based
//! queries (never one per slot or per booking): practice hours, the doctors' hours, absences,
//! breaks, and the busy intervals of the appointments and operations that touch the people,
//! patients and resources in scope.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::holidays::closed_days;
use praxi_domain::scheduling::{
    Absence, AbsenceId, AppointmentId, BookingRef, BookingState, Break, BreakId, BusyInterval,
    DoctorHours, HoldId, Interval, Occupant, OperationId, PatientId, PersonRole, ResourceId,
    ScheduleInput, UserId, WeeklyWindow, weekday_from_index,
};
use praxi_domain::scheduling::{Buffers, ClosedDay, DayOverride, MAX_BUFFER_MINUTES};
use sea_orm::sea_query::{Cond, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::error::StoreError;
use crate::holidays::parse_region;
use crate::migration::idens::{
    Appointment, AppointmentResource, AppointmentType, DoctorAbsence, DoctorBreak,
    DoctorHours as DoctorHoursT, Operation, OperationDevice, PracticeHours,
};
use crate::migration::m0014_scheduling_features::{
    HolidayOverride, NewColumns, PracticeSettings, SlotHold, SlotHoldResource,
};

/// Bookings last at most this long (API rule, database CHECK/trigger), so an overlap query can
/// bound `start_time` from below and use the `(…, start_time)` indexes.
pub const MAX_BOOKING_HOURS: i64 = 24;

/// The earliest start a booking overlapping an interval that begins at `start` can have.
pub fn earliest_overlapping_start(start: DateTime<Utc>) -> DateTime<Utc> {
    start - chrono::Duration::hours(MAX_BOOKING_HOURS)
}

/// Whose rules and bookings to load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleScope {
    /// Doctors (every role a person plays); `None` = all people.
    pub people: Option<Vec<i64>>,
    pub patients: Vec<i32>,
    pub resources: Vec<i64>,
    /// Whether slot holds count (issue #14); `None`: they are not loaded.
    pub holds: Option<HoldFilter>,
}

/// Which slot holds count: those not expired at `now`, except the one being converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldFilter {
    /// A hold counts while `expires_at > now`.
    pub now: DateTime<Utc>,
    /// The hold a booking converts (it must not conflict with itself).
    pub except: Option<i64>,
}

impl HoldFilter {
    /// Every hold alive at `now`.
    pub fn alive_at(now: DateTime<Utc>) -> Self {
        HoldFilter { now, except: None }
    }
}

impl ScheduleScope {
    pub fn people(people: Vec<i64>) -> Self {
        ScheduleScope {
            people: Some(people),
            ..Default::default()
        }
    }

    pub fn everyone() -> Self {
        ScheduleScope::default()
    }
}

#[derive(FromQueryResult)]
struct WindowRow {
    weekday: i32,
    start_time: NaiveTime,
    end_time: NaiveTime,
}

#[derive(FromQueryResult)]
struct DoctorWindowRow {
    doctor_id: i64,
    weekday: i32,
    start_time: NaiveTime,
    end_time: NaiveTime,
}

#[derive(FromQueryResult)]
struct AbsenceRow {
    id: i64,
    doctor_id: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

#[derive(FromQueryResult)]
struct BreakRow {
    id: i64,
    doctor_id: Option<i64>,
    date: NaiveDate,
    start_time: NaiveTime,
    end_time: NaiveTime,
}

#[derive(FromQueryResult)]
struct AppointmentRow {
    id: i32,
    doctor_id: i64,
    patient_id: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    buffer_before_minutes: Option<i32>,
    buffer_after_minutes: Option<i32>,
}

impl AppointmentRow {
    fn buffers(&self) -> Buffers {
        Buffers::from_minutes(
            i64::from(self.buffer_before_minutes.unwrap_or(0)),
            i64::from(self.buffer_after_minutes.unwrap_or(0)),
        )
    }
}

#[derive(FromQueryResult)]
struct OperationRow {
    id: i64,
    patient_id: i32,
    primary_surgeon_id: i64,
    assistant_id: Option<i64>,
    anesthesist_id: Option<i64>,
    op_room_id: i64,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct AppointmentLinkRow {
    booking_id: i32,
    resource_id: i64,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    buffer_before_minutes: Option<i32>,
    buffer_after_minutes: Option<i32>,
}

/// The appointment's type, for its buffers (`LEFT JOIN`: appointments without a type have
/// none).
fn join_type(select: &mut SelectStatement) {
    select
        .column((AppointmentType::Table, NewColumns::BufferBeforeMinutes))
        .column((AppointmentType::Table, NewColumns::BufferAfterMinutes))
        .join(
            JoinType::LeftJoin,
            AppointmentType::Table,
            Expr::col((AppointmentType::Table, AppointmentType::Id))
                .equals((Appointment::Table, Appointment::TypeId)),
        );
}

/// The period widened by the longest buffer on both sides: an appointment just outside it
/// may still occupy it with its buffers.
fn buffered(period: &Interval) -> Interval {
    let max = chrono::Duration::minutes(i64::from(MAX_BUFFER_MINUTES));
    period.widened(max, max)
}

#[derive(FromQueryResult)]
struct LinkRow {
    booking_id: i64,
    resource_id: i64,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
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

/// `start < period.end AND end > period.start` on the given table.
fn overlap_cond<T: sea_orm::sea_query::Iden + Clone + 'static>(
    table: T,
    start: T,
    end: T,
    period: &Interval,
) -> Cond {
    Cond::all()
        .add(Expr::col((table.clone(), start.clone())).lt(period.end()))
        .add(Expr::col((table.clone(), start)).gt(earliest_overlapping_start(period.start())))
        .add(Expr::col((table, end)).gt(period.start()))
}

/// Loads the engine input for `period` (instants) in zone `tz`. Hours, absences and breaks are
/// loaded for the local dates the period touches; bookings overlapping it, except cancelled.
pub async fn load_schedule<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    period: Interval,
    scope: &ScheduleScope,
) -> Result<ScheduleInput, StoreError> {
    let mut input = load_hours(conn, tz, &period, scope.people.as_deref()).await?;
    input.closed_days = load_closed_days(conn, tz, &period).await?;
    load_appointments(conn, &period, scope, &mut input.busy).await?;
    load_operations(conn, &period, scope, &mut input.busy).await?;
    if let Some(filter) = scope.holds {
        load_holds(conn, &period, scope, filter, &mut input.busy).await?;
    }
    Ok(input)
}

/// The hours model of the local dates of `period`: active practice hours, doctor hours, and
/// the absences and breaks of those dates, of `people` (everyone when `None`; practice-wide
/// breaks always). Four statements; bookings are not loaded.
pub(crate) async fn load_hours<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    period: &Interval,
    people: Option<&[i64]>,
) -> Result<ScheduleInput, StoreError> {
    let mut input = ScheduleInput::new(tz);
    let first_date = period.start().with_timezone(&tz).date_naive();
    let last_date = period.end().with_timezone(&tz).date_naive();

    let practice = Query::select()
        .columns([
            PracticeHours::Weekday,
            PracticeHours::StartTime,
            PracticeHours::EndTime,
        ])
        .from(PracticeHours::Table)
        .and_where(Expr::col(PracticeHours::Active).eq(true))
        .to_owned();
    for row in rows::<WindowRow, _>(conn, &practice).await? {
        if let Some(weekday) = weekday_from_index(row.weekday) {
            input.practice_hours.push(WeeklyWindow {
                weekday,
                start: row.start_time,
                end: row.end_time,
                active: true,
            });
        }
    }

    let mut doctor_hours = Query::select()
        .columns([
            DoctorHoursT::DoctorId,
            DoctorHoursT::Weekday,
            DoctorHoursT::StartTime,
            DoctorHoursT::EndTime,
        ])
        .from(DoctorHoursT::Table)
        .and_where(Expr::col(DoctorHoursT::Active).eq(true))
        .to_owned();
    if let Some(people) = people {
        doctor_hours.and_where(Expr::col(DoctorHoursT::DoctorId).is_in(people.iter().copied()));
    }
    for row in rows::<DoctorWindowRow, _>(conn, &doctor_hours).await? {
        if let Some(weekday) = weekday_from_index(row.weekday) {
            input.doctor_hours.push(DoctorHours {
                doctor: UserId(row.doctor_id),
                window: WeeklyWindow {
                    weekday,
                    start: row.start_time,
                    end: row.end_time,
                    active: true,
                },
            });
        }
    }

    let mut absences = Query::select()
        .columns([
            DoctorAbsence::Id,
            DoctorAbsence::DoctorId,
            DoctorAbsence::StartDate,
            DoctorAbsence::EndDate,
        ])
        .from(DoctorAbsence::Table)
        .and_where(Expr::col(DoctorAbsence::Active).eq(true))
        .and_where(Expr::col(DoctorAbsence::StartDate).lte(last_date))
        .and_where(Expr::col(DoctorAbsence::EndDate).gte(first_date))
        .to_owned();
    if let Some(people) = people {
        absences.and_where(Expr::col(DoctorAbsence::DoctorId).is_in(people.iter().copied()));
    }
    for row in rows::<AbsenceRow, _>(conn, &absences).await? {
        input.absences.push(Absence {
            id: AbsenceId(row.id),
            doctor: UserId(row.doctor_id),
            start_date: row.start_date,
            end_date: row.end_date,
            active: true,
        });
    }

    let mut breaks = Query::select()
        .columns([
            DoctorBreak::Id,
            DoctorBreak::DoctorId,
            DoctorBreak::Date,
            DoctorBreak::StartTime,
            DoctorBreak::EndTime,
        ])
        .from(DoctorBreak::Table)
        .and_where(Expr::col(DoctorBreak::Active).eq(true))
        .and_where(Expr::col(DoctorBreak::Date).gte(first_date))
        .and_where(Expr::col(DoctorBreak::Date).lte(last_date))
        .to_owned();
    if let Some(people) = people {
        breaks.cond_where(
            Cond::any()
                .add(Expr::col(DoctorBreak::DoctorId).is_null())
                .add(Expr::col(DoctorBreak::DoctorId).is_in(people.iter().copied())),
        );
    }
    for row in rows::<BreakRow, _>(conn, &breaks).await? {
        input.breaks.push(Break {
            id: BreakId(row.id),
            doctor: row.doctor_id.map(UserId),
            date: row.date,
            start: row.start_time,
            end: row.end_time,
            active: true,
        });
    }

    Ok(input)
}

#[derive(FromQueryResult)]
struct ClosedRow {
    holiday_region: Option<String>,
    date: Option<NaiveDate>,
    closed: Option<bool>,
    label: Option<String>,
}

/// The closed days (public holidays of the practice's region and per-date overrides) of the
/// local dates of `period`: one statement (the settings row joined with the overrides).
pub async fn load_closed_days<C: ConnectionTrait>(
    conn: &C,
    tz: Tz,
    period: &Interval,
) -> Result<Vec<ClosedDay>, StoreError> {
    let first_date = period.start().with_timezone(&tz).date_naive();
    let last_date = period.end().with_timezone(&tz).date_naive();
    let select = Query::select()
        .column((PracticeSettings::Table, PracticeSettings::HolidayRegion))
        .column((HolidayOverride::Table, HolidayOverride::Date))
        .column((HolidayOverride::Table, HolidayOverride::Closed))
        .column((HolidayOverride::Table, HolidayOverride::Label))
        .from(PracticeSettings::Table)
        .join(
            JoinType::LeftJoin,
            HolidayOverride::Table,
            Cond::all()
                .add(Expr::col((HolidayOverride::Table, HolidayOverride::Date)).gte(first_date))
                .add(Expr::col((HolidayOverride::Table, HolidayOverride::Date)).lte(last_date)),
        )
        .and_where(Expr::col((PracticeSettings::Table, PracticeSettings::Id)).eq(1))
        .to_owned();
    let mut region = None;
    let mut overrides = Vec::new();
    for row in rows::<ClosedRow, _>(conn, &select).await? {
        region = parse_region(row.holiday_region.as_deref());
        if let (Some(date), Some(closed)) = (row.date, row.closed) {
            overrides.push(DayOverride {
                date,
                closed,
                label: row.label,
            });
        }
    }
    Ok(closed_days(region, first_date, last_date, &overrides))
}

#[derive(FromQueryResult)]
struct HoldRow {
    id: i64,
    doctor_id: i64,
    patient_id: Option<i32>,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    resource_id: Option<i64>,
}

/// Slot holds alive at `filter.now` overlapping `period` of the people, patients and
/// resources in scope: one statement (holds joined with their resources). An expired hold
/// simply stops counting; nothing has to delete it.
async fn load_holds<C: ConnectionTrait>(
    conn: &C,
    period: &Interval,
    scope: &ScheduleScope,
    filter: HoldFilter,
    out: &mut Vec<BusyInterval>,
) -> Result<(), StoreError> {
    let mut select = Query::select()
        .columns([
            (SlotHold::Table, SlotHold::Id),
            (SlotHold::Table, SlotHold::DoctorId),
            (SlotHold::Table, SlotHold::PatientId),
            (SlotHold::Table, SlotHold::StartTime),
            (SlotHold::Table, SlotHold::EndTime),
        ])
        .column((SlotHoldResource::Table, SlotHoldResource::ResourceId))
        .from(SlotHold::Table)
        .join(
            JoinType::LeftJoin,
            SlotHoldResource::Table,
            Expr::col((SlotHoldResource::Table, SlotHoldResource::HoldId))
                .equals((SlotHold::Table, SlotHold::Id)),
        )
        .and_where(Expr::col((SlotHold::Table, SlotHold::ExpiresAt)).gt(filter.now))
        .cond_where(overlap_cond(
            SlotHold::Table,
            SlotHold::StartTime,
            SlotHold::EndTime,
            &buffered(period),
        ))
        .order_by((SlotHold::Table, SlotHold::Id), sea_orm::Order::Asc)
        .to_owned();
    if let Some(except) = filter.except {
        select.and_where(Expr::col((SlotHold::Table, SlotHold::Id)).ne(except));
    }
    if let Some(people) = &scope.people {
        let mut any = Cond::any()
            .add(Expr::col((SlotHold::Table, SlotHold::DoctorId)).is_in(people.iter().copied()));
        if !scope.patients.is_empty() {
            any = any.add(
                Expr::col((SlotHold::Table, SlotHold::PatientId))
                    .is_in(scope.patients.iter().copied()),
            );
        }
        if !scope.resources.is_empty() {
            any = any.add(
                Expr::col((SlotHoldResource::Table, SlotHoldResource::ResourceId))
                    .is_in(scope.resources.iter().copied()),
            );
        }
        select.cond_where(any);
    }
    let mut last: Option<i64> = None;
    for row in rows::<HoldRow, _>(conn, &select).await? {
        let Ok(interval) = Interval::new(row.start_time, row.end_time) else {
            continue;
        };
        let booking = BookingRef::Hold(HoldId(row.id));
        if last != Some(row.id) {
            last = Some(row.id);
            out.push(busy(
                interval,
                booking,
                Occupant::Person {
                    user: UserId(row.doctor_id),
                    role: PersonRole::AppointmentDoctor,
                },
            ));
            if let Some(patient) = row.patient_id {
                out.push(busy(
                    interval,
                    booking,
                    Occupant::Patient(PatientId(patient)),
                ));
            }
        }
        if let Some(resource) = row.resource_id {
            out.push(busy(
                interval,
                booking,
                Occupant::Resource(ResourceId(resource)),
            ));
        }
    }
    Ok(())
}

fn busy(interval: Interval, booking: BookingRef, occupant: Occupant) -> BusyInterval {
    BusyInterval {
        interval,
        booking,
        occupant,
        state: BookingState::Active,
    }
}

async fn load_appointments<C: ConnectionTrait>(
    conn: &C,
    period: &Interval,
    scope: &ScheduleScope,
    out: &mut Vec<BusyInterval>,
) -> Result<(), StoreError> {
    let mut select = Query::select()
        .columns([
            (Appointment::Table, Appointment::Id),
            (Appointment::Table, Appointment::DoctorId),
            (Appointment::Table, Appointment::PatientId),
            (Appointment::Table, Appointment::StartTime),
            (Appointment::Table, Appointment::EndTime),
        ])
        .from(Appointment::Table)
        .and_where(
            Expr::col((Appointment::Table, Appointment::Status))
                .ne(AppointmentStatus::Cancelled.as_str()),
        )
        .cond_where(overlap_cond(
            Appointment::Table,
            Appointment::StartTime,
            Appointment::EndTime,
            &buffered(period),
        ))
        .to_owned();
    join_type(&mut select);
    if let Some(people) = &scope.people {
        let mut any = Cond::any().add(
            Expr::col((Appointment::Table, Appointment::DoctorId)).is_in(people.iter().copied()),
        );
        if !scope.patients.is_empty() {
            any = any.add(
                Expr::col((Appointment::Table, Appointment::PatientId))
                    .is_in(scope.patients.iter().copied()),
            );
        }
        select.cond_where(any);
    }
    for row in rows::<AppointmentRow, _>(conn, &select).await? {
        let Ok(interval) = Interval::new(row.start_time, row.end_time) else {
            continue;
        };
        let booking = BookingRef::Appointment(AppointmentId(row.id));
        out.push(busy(
            row.buffers().occupied(interval),
            booking,
            Occupant::Person {
                user: UserId(row.doctor_id),
                role: PersonRole::AppointmentDoctor,
            },
        ));
        out.push(busy(
            interval,
            booking,
            Occupant::Patient(PatientId(row.patient_id)),
        ));
    }
    if scope.resources.is_empty() {
        return Ok(());
    }
    let mut links = Query::select()
        .expr_as(
            Expr::col((
                AppointmentResource::Table,
                AppointmentResource::AppointmentId,
            )),
            sea_orm::sea_query::Alias::new("booking_id"),
        )
        .column((AppointmentResource::Table, AppointmentResource::ResourceId))
        .column((Appointment::Table, Appointment::StartTime))
        .column((Appointment::Table, Appointment::EndTime))
        .from(AppointmentResource::Table)
        .inner_join(
            Appointment::Table,
            Expr::col((Appointment::Table, Appointment::Id)).equals((
                AppointmentResource::Table,
                AppointmentResource::AppointmentId,
            )),
        )
        .and_where(
            Expr::col((AppointmentResource::Table, AppointmentResource::ResourceId))
                .is_in(scope.resources.iter().copied()),
        )
        .and_where(
            Expr::col((Appointment::Table, Appointment::Status))
                .ne(AppointmentStatus::Cancelled.as_str()),
        )
        .cond_where(overlap_cond(
            Appointment::Table,
            Appointment::StartTime,
            Appointment::EndTime,
            &buffered(period),
        ))
        .to_owned();
    join_type(&mut links);
    for row in rows::<AppointmentLinkRow, _>(conn, &links).await? {
        let Ok(interval) = Interval::new(row.start_time, row.end_time) else {
            continue;
        };
        let buffers = Buffers::from_minutes(
            i64::from(row.buffer_before_minutes.unwrap_or(0)),
            i64::from(row.buffer_after_minutes.unwrap_or(0)),
        );
        out.push(busy(
            buffers.occupied(interval),
            BookingRef::Appointment(AppointmentId(row.booking_id)),
            Occupant::Resource(ResourceId(row.resource_id)),
        ));
    }
    Ok(())
}

async fn load_operations<C: ConnectionTrait>(
    conn: &C,
    period: &Interval,
    scope: &ScheduleScope,
    out: &mut Vec<BusyInterval>,
) -> Result<(), StoreError> {
    let mut select = Query::select()
        .columns([
            (Operation::Table, Operation::Id),
            (Operation::Table, Operation::PatientId),
            (Operation::Table, Operation::PrimarySurgeonId),
            (Operation::Table, Operation::AssistantId),
            (Operation::Table, Operation::AnesthesistId),
            (Operation::Table, Operation::OpRoomId),
            (Operation::Table, Operation::StartTime),
            (Operation::Table, Operation::EndTime),
        ])
        .from(Operation::Table)
        .and_where(
            Expr::col((Operation::Table, Operation::Status))
                .ne(OperationStatus::Cancelled.as_str()),
        )
        .cond_where(overlap_cond(
            Operation::Table,
            Operation::StartTime,
            Operation::EndTime,
            period,
        ))
        .to_owned();
    if let Some(people) = &scope.people {
        let ids = || people.iter().copied();
        let mut any = Cond::any()
            .add(Expr::col((Operation::Table, Operation::PrimarySurgeonId)).is_in(ids()))
            .add(Expr::col((Operation::Table, Operation::AssistantId)).is_in(ids()))
            .add(Expr::col((Operation::Table, Operation::AnesthesistId)).is_in(ids()));
        if !scope.patients.is_empty() {
            any = any.add(
                Expr::col((Operation::Table, Operation::PatientId))
                    .is_in(scope.patients.iter().copied()),
            );
        }
        if !scope.resources.is_empty() {
            any = any.add(
                Expr::col((Operation::Table, Operation::OpRoomId))
                    .is_in(scope.resources.iter().copied()),
            );
        }
        select.cond_where(any);
    }
    for row in rows::<OperationRow, _>(conn, &select).await? {
        let Ok(interval) = Interval::new(row.start_time, row.end_time) else {
            continue;
        };
        let booking = BookingRef::Operation(OperationId(row.id));
        let team = [
            (PersonRole::PrimarySurgeon, Some(row.primary_surgeon_id)),
            (PersonRole::Assistant, row.assistant_id),
            (PersonRole::Anesthesist, row.anesthesist_id),
        ];
        for (role, user) in team {
            if let Some(user) = user {
                out.push(busy(
                    interval,
                    booking,
                    Occupant::Person {
                        user: UserId(user),
                        role,
                    },
                ));
            }
        }
        out.push(busy(
            interval,
            booking,
            Occupant::Patient(PatientId(row.patient_id)),
        ));
        out.push(busy(
            interval,
            booking,
            Occupant::Resource(ResourceId(row.op_room_id)),
        ));
    }
    if scope.resources.is_empty() {
        return Ok(());
    }
    let links = Query::select()
        .expr_as(
            Expr::col((OperationDevice::Table, OperationDevice::OperationId)),
            sea_orm::sea_query::Alias::new("booking_id"),
        )
        .column((OperationDevice::Table, OperationDevice::ResourceId))
        .column((Operation::Table, Operation::StartTime))
        .column((Operation::Table, Operation::EndTime))
        .from(OperationDevice::Table)
        .inner_join(
            Operation::Table,
            Expr::col((Operation::Table, Operation::Id))
                .equals((OperationDevice::Table, OperationDevice::OperationId)),
        )
        .and_where(
            Expr::col((OperationDevice::Table, OperationDevice::ResourceId))
                .is_in(scope.resources.iter().copied()),
        )
        .and_where(
            Expr::col((Operation::Table, Operation::Status))
                .ne(OperationStatus::Cancelled.as_str()),
        )
        .cond_where(overlap_cond(
            Operation::Table,
            Operation::StartTime,
            Operation::EndTime,
            period,
        ))
        .to_owned();
    for row in rows::<LinkRow, _>(conn, &links).await? {
        let Ok(interval) = Interval::new(row.start_time, row.end_time) else {
            continue;
        };
        out.push(busy(
            interval,
            BookingRef::Operation(OperationId(row.booking_id)),
            Occupant::Resource(ResourceId(row.resource_id)),
        ));
    }
    Ok(())
}
