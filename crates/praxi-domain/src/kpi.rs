//! Statistics and key performance indicators, defined in one place: the `op-stats` figures
//! (api.md §3.11, scheduling.md §6.3) and the scheduling and operations KPIs of the dashboards
//! (scheduling.md §6.5, ui.md §1.1–§1.2, §3.4).
//!
//! Every figure is a pure function over plain rows ([`AppointmentFact`], [`OperationFact`],
//! [`PatientHistory`], the hours model of [`crate::scheduling`]) with
//!
//! * an explicit window `[from, to)` of instants, built from local dates in the practice zone
//!   ([`KpiClock`]); "today" is the practice-zone date of `now`, never the UTC date (W19);
//! * explicit status filters, named in each function's documentation;
//! * minutes clipped to the window wherever time is summed;
//! * capacity from the real hours model: practice hours ∩ doctor hours − absences − breaks
//!   ([`Capacity`]); rooms and devices are open during practice hours − practice-wide breaks;
//! * a fixed `now` ([`KpiClock::as_of`]), so a result is reproducible from its inputs.
//!
//! Rates are percentages rounded to one decimal and `None` when their denominator is zero: a
//! figure the data cannot support is absent, never invented (W20).
//!
//! # Scheduling KPIs (reference date D, `as_of` = min(now, end of D))
//!
//! | KPI | Rows | Formula |
//! |---|---|---|
//! | slot utilisation | D's Monday–Sunday week, and the week before | Σ over active doctors of booked ÷ Σ capacity; booked = time of non-cancelled appointments (as doctor) and operations (any team role) inside the doctor's capacity, so overlaps count once and time outside hours not at all; trend = this − previous week, percentage points |
//! | no-show rate | start in last 30 days (D−29 … D), ended by `as_of`, not cancelled | (flagged `is_no_show` + not flagged but still scheduled/confirmed) ÷ total; trend = this − the 30 days before, percentage points |
//! | completion rate | same rows as the no-show rate | completed ÷ total |
//! | cancellation rate | start in last 30 days, every status | cancelled ÷ total; *late* = cancelled whose last change (`updated_at`, at or after the cancellation) lies less than 24 h before the start, *early* = the rest |
//! | lead time | created in last 30 days, not cancelled, start ≥ created | start − created in hours: average, min, max; buckets by local calendar days: same day, next day, 2–7, 8–30, more than 30 |
//! | average duration | start in last 30 days, not cancelled | mean minutes, clipped to the window |
//! | rebooking rate | cancelled, start in last 30 days | share whose patient holds a non-cancelled appointment booked no earlier than the cancelled one |
//! | new patients | patients with a non-cancelled appointment starting in last 30 days | share whose first-ever non-cancelled appointment starts in the window (patients, not rows) |
//! | peak load | start in last 30 days, not cancelled | 7 × 24 counts by local weekday (Mon = 0) and hour; peak = first maximum in Mon→Sun, 0→23 order, `None` when empty |
//! | doctor utilisation | D's week | per active doctor as for slot utilisation, sorted by utilisation descending |
//! | room utilisation | D's week | per active room: time of non-cancelled appointments linked to it and operations in it, inside practice hours − practice-wide breaks |
//! | trends | the 12 Monday–Sunday weeks ending with D's week | per week the cancellation, completion and no-show figures above |
//! | volume | D, D's week, D's month | non-cancelled appointments starting in the window |
//!
//! # Operations KPIs (the last `days` local days ending with D)
//!
//! utilisation (as slot utilisation, over the window), throughput per local day (completed
//! appointments and done operations by start date), resource utilisation (rooms and devices, as
//! room utilisation), status distributions (every status, start in the window), operation count
//! and average duration (non-cancelled, clipped), and the patient-flow status counts of D.
//!
//! # Not computed
//!
//! The original's efficiency score and bottleneck index (fixed weights over proxies), and its
//! random punctuality, documentation, flow-time and billing-code "demo" numbers (W20).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use crate::flow::FlowStatus;
use crate::operation::OperationStatus;
use crate::scheduling::{
    Interval, IntervalSet, Participants, Schedule, ScheduleInput, UserId, local_date, local_day,
    local_window,
};

/// Fixed capacity per room and calendar day in `op-stats/rooms` (08:00–16:00, the original's
/// formula, weekends included).
pub const OP_STATS_ROOM_DAY_MINUTES: i64 = 480;

/// The longest `op-stats` range in days (W5: a bounded amount of work per request).
pub const MAX_RANGE_DAYS: i64 = 366;

/// A cancellation with less notice than this (in hours) is "late".
pub const LATE_CANCELLATION_HOURS: i64 = 24;

/// Number of weekly points in the scheduling trends.
pub const TREND_WEEKS: usize = 12;

/// Length of the rolling KPI windows in days (D−29 … D).
pub const ROLLING_DAYS: u32 = 30;

/// Bounds of the operations KPI period in days.
pub const MAX_PERIOD_DAYS: u32 = 366;

// ---- rows ---------------------------------------------------------------------------------

pub use crate::appointment::AppointmentStatus;

/// One appointment as the KPIs see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentFact {
    pub id: i32,
    /// The appointment's doctor (user id).
    pub doctor: i64,
    pub patient: i32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: AppointmentStatus,
    /// The confirmed no-show flag (`mark-no-show`).
    pub is_no_show: bool,
    pub created_at: DateTime<Utc>,
    /// The last change; for a cancelled appointment at or after the cancellation.
    pub updated_at: DateTime<Utc>,
    /// Linked resources (rooms and devices).
    pub resources: Vec<i64>,
}

impl AppointmentFact {
    fn starts_in(&self, window: &Interval) -> bool {
        starts_in(self.start, window)
    }

    fn is_cancelled(&self) -> bool {
        self.status == AppointmentStatus::Cancelled
    }

    /// Not cancelled and over by `as_of`: the population of no-show and completion rates.
    fn is_past_booking(&self, as_of: DateTime<Utc>) -> bool {
        !self.is_cancelled() && self.end <= as_of
    }

    /// The KPI convention of data-model.md §10.1 for a past booking: flagged, or still
    /// scheduled/confirmed after its end.
    fn counts_as_no_show(&self) -> bool {
        self.is_no_show
            || matches!(
                self.status,
                AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
            )
    }

    fn interval(&self) -> Option<Interval> {
        Interval::new(self.start, self.end).ok()
    }
}

/// One operation as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationFact {
    pub id: i64,
    pub op_type: i64,
    pub room: i64,
    pub devices: Vec<i64>,
    pub primary_surgeon: i64,
    pub assistant: Option<i64>,
    pub anesthesist: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: OperationStatus,
}

impl OperationFact {
    fn is_cancelled(&self) -> bool {
        self.status == OperationStatus::Cancelled
    }

    fn has_member(&self, user: i64) -> bool {
        self.primary_surgeon == user
            || self.assistant == Some(user)
            || self.anesthesist == Some(user)
    }

    fn uses_resource(&self, resource: i64) -> bool {
        self.room == resource || self.devices.contains(&resource)
    }

    fn overlaps(&self, window: &Interval) -> bool {
        self.start < window.end() && window.start() < self.end
    }

    fn interval(&self) -> Option<Interval> {
        Interval::new(self.start, self.end).ok()
    }
}

/// What the KPIs need to know about one patient's whole history (non-cancelled appointments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientHistory {
    pub patient: i32,
    /// Start of the first-ever non-cancelled appointment.
    pub first_start: Option<DateTime<Utc>>,
    /// Creation time of the most recently booked non-cancelled appointment.
    pub last_created: Option<DateTime<Utc>>,
}

// ---- small helpers ------------------------------------------------------------------------

fn starts_in(start: DateTime<Utc>, window: &Interval) -> bool {
    window.start() <= start && start < window.end()
}

/// The part of `[start, end)` inside `window` (zero when disjoint).
pub fn clipped(start: DateTime<Utc>, end: DateTime<Utc>, window: &Interval) -> TimeDelta {
    let from = start.max(window.start());
    let to = end.min(window.end());
    if from < to {
        to - from
    } else {
        TimeDelta::zero()
    }
}

/// Whole minutes of a duration, rounded down (the original's `// 60`).
pub fn whole_minutes(duration: TimeDelta) -> i64 {
    duration.num_seconds().div_euclid(60)
}

/// Rounds to one decimal (half away from zero).
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// `part / whole` in percent with one decimal; `None` when `whole` is zero.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

/// `part / whole` of two durations in percent with one decimal; `None` when `whole` is zero.
pub fn percent_of_time(part: TimeDelta, whole: TimeDelta) -> Option<f64> {
    let whole = whole.num_seconds();
    (whole > 0).then(|| round1(part.num_seconds() as f64 * 100.0 / whole as f64))
}

/// `current − previous` in percentage points (one decimal), when both exist.
pub fn trend(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    Some(round1(current? - previous?))
}

/// Local dates touched by `window` (the last one is the date of the last instant inside it).
fn dates_of(tz: Tz, window: &Interval) -> impl Iterator<Item = NaiveDate> {
    let first = local_date(tz, window.start());
    let last = local_date(tz, window.end() - TimeDelta::nanoseconds(1));
    first.iter_days().take_while(move |date| *date <= last)
}

// ---- windows ------------------------------------------------------------------------------

/// Why a window cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KpiError {
    /// The date is too far from the calendar's representable range.
    #[error("date out of range")]
    DateOutOfRange,
    /// A period length outside `1..=MAX_PERIOD_DAYS`.
    #[error("period out of range")]
    PeriodOutOfRange,
}

/// `[first 00:00, last+1 00:00)` in the practice zone.
pub fn local_days(tz: Tz, first: NaiveDate, last: NaiveDate) -> Option<Interval> {
    let start = local_day(tz, first)?.start();
    let end = local_day(tz, last)?.end();
    Interval::new(start, end).ok()
}

fn days_back(date: NaiveDate, days: u32) -> Option<NaiveDate> {
    date.checked_sub_days(Days::new(u64::from(days)))
}

/// The reference point of a KPI request: the practice zone, the reference date D and the
/// instant `as_of` = min(now, end of D), with every window derived from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiClock {
    pub tz: Tz,
    /// The reference date ("today" unless the request names another date).
    pub date: NaiveDate,
    /// Bookings ending at or before this instant are over.
    pub as_of: DateTime<Utc>,
    /// D.
    pub today: Interval,
    /// D's Monday–Sunday week.
    pub week: Interval,
    /// The week before.
    pub previous_week: Interval,
    /// D's calendar month.
    pub month: Interval,
    /// D−29 … D.
    pub last_30: Interval,
    /// D−59 … D−30.
    pub previous_30: Interval,
    /// The [`TREND_WEEKS`] Monday–Sunday weeks ending with D's week, oldest first.
    pub trend_weeks: Vec<Interval>,
}

impl KpiClock {
    /// The clock for reference date `date`, or the practice-zone date of `now` when absent.
    pub fn new(tz: Tz, now: DateTime<Utc>, date: Option<NaiveDate>) -> Result<KpiClock, KpiError> {
        let date = date.unwrap_or_else(|| local_date(tz, now));
        Self::build(tz, now, date).ok_or(KpiError::DateOutOfRange)
    }

    fn build(tz: Tz, now: DateTime<Utc>, date: NaiveDate) -> Option<KpiClock> {
        let today = local_days(tz, date, date)?;
        let monday = days_back(date, date.weekday().num_days_from_monday())?;
        let week_at = |weeks_back: u32| -> Option<Interval> {
            let first = days_back(monday, 7 * weeks_back)?;
            local_days(tz, first, first.checked_add_days(Days::new(6))?)
        };
        let month_first = date.with_day(1)?;
        let month_last = month_first
            .checked_add_months(chrono::Months::new(1))?
            .pred_opt()?;
        let trend_weeks = (0..TREND_WEEKS as u32)
            .rev()
            .map(week_at)
            .collect::<Option<Vec<_>>>()?;
        Some(KpiClock {
            tz,
            date,
            as_of: now.min(today.end()),
            today,
            week: week_at(0)?,
            previous_week: week_at(1)?,
            month: local_days(tz, month_first, month_last)?,
            last_30: local_days(tz, days_back(date, ROLLING_DAYS - 1)?, date)?,
            previous_30: local_days(
                tz,
                days_back(date, 2 * ROLLING_DAYS - 1)?,
                days_back(date, ROLLING_DAYS)?,
            )?,
            trend_weeks,
        })
    }

    /// The last `days` local days ending with D (the operations KPI period; the original's
    /// window was one day longer, ui.md §3.4).
    pub fn last_days(&self, days: u32) -> Result<Interval, KpiError> {
        if !(1..=MAX_PERIOD_DAYS).contains(&days) {
            return Err(KpiError::PeriodOutOfRange);
        }
        days_back(self.date, days - 1)
            .and_then(|first| local_days(self.tz, first, self.date))
            .ok_or(KpiError::DateOutOfRange)
    }

    /// What the scheduling KPIs need loaded.
    pub fn scheduling_needs(&self) -> SchedulingNeeds {
        let mut starts = vec![
            self.previous_30.start(),
            self.previous_week.start(),
            self.month.start(),
        ];
        starts.extend(self.trend_weeks.first().map(Interval::start));
        let ends = [self.week.end(), self.month.end(), self.last_30.end()];
        let bookings = starts
            .iter()
            .min()
            .zip(ends.iter().max())
            .and_then(|(start, end)| Interval::new(*start, *end).ok())
            .unwrap_or(self.last_30);
        let capacity =
            Interval::new(self.previous_week.start(), self.week.end()).unwrap_or(self.week);
        SchedulingNeeds {
            bookings,
            created: self.last_30,
            capacity,
            patients: self.last_30,
        }
    }
}

/// The rows the scheduling KPIs read; the store loads them with a fixed number of statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulingNeeds {
    /// Appointments overlapping this interval (the hull of every start window).
    pub bookings: Interval,
    /// …and appointments created in this interval (lead time).
    pub created: Interval,
    /// Operations overlapping this interval, and hours, absences and breaks of its dates.
    pub capacity: Interval,
    /// Histories of the patients with an appointment starting in this interval.
    pub patients: Interval,
}

// ---- op-stats -----------------------------------------------------------------------------

/// An `op-stats` request range error, with the original's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("Provide either ?date=YYYY-MM-DD or ?from=YYYY-MM-DD&to=YYYY-MM-DD.")]
    Missing,
    #[error("Dates must be in format YYYY-MM-DD.")]
    BadFormat,
    #[error("from must be <= to.")]
    FromAfterTo,
    /// Beyond the original: ranges are bounded (W5).
    #[error("The range must not exceed 366 days.")]
    TooLong,
}

/// An inclusive range of local dates `[from, to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// Number of calendar days, both ends included.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, RangeError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| RangeError::BadFormat)
}

/// The `op-stats` range: `date` (one day) wins over `from` + `to`; blank values count as
/// absent; at most [`MAX_RANGE_DAYS`] days.
pub fn op_stats_range(
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<DateRange, RangeError> {
    fn given(value: Option<&str>) -> Option<&str> {
        value.map(str::trim).filter(|text| !text.is_empty())
    }
    let range = match (given(date), given(from), given(to)) {
        (Some(date), _, _) => {
            let date = parse_date(date)?;
            DateRange {
                from: date,
                to: date,
            }
        }
        (None, Some(from), Some(to)) => {
            let range = DateRange {
                from: parse_date(from)?,
                to: parse_date(to)?,
            };
            if range.from > range.to {
                return Err(RangeError::FromAfterTo);
            }
            range
        }
        _ => return Err(RangeError::Missing),
    };
    if range.days() > MAX_RANGE_DAYS {
        return Err(RangeError::TooLong);
    }
    Ok(range)
}

/// The two documented deviations of `op-stats` from the original's formulas; the default is
/// the original (cancelled operations counted, full durations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpStatsOptions {
    /// `include_cancelled=false` excludes cancelled operations (W17).
    pub include_cancelled: bool,
    /// `clip=true` counts only the minutes inside the range (W17).
    pub clip: bool,
}

impl Default for OpStatsOptions {
    fn default() -> Self {
        OpStatsOptions {
            include_cancelled: true,
            clip: false,
        }
    }
}

/// Minutes an operation counts for: `floor((end − start) / 60 s)`, or only the part inside
/// `range` with `clip`.
pub fn op_minutes(op: &OperationFact, range: &Interval, clip: bool) -> i64 {
    if clip {
        whole_minutes(clipped(op.start, op.end, range))
    } else {
        whole_minutes((op.end - op.start).max(TimeDelta::zero()))
    }
}

fn op_selected<'a>(
    ops: &'a [OperationFact],
    range: &'a Interval,
    options: OpStatsOptions,
) -> impl Iterator<Item = (&'a OperationFact, i64)> + 'a {
    ops.iter()
        .filter(move |op| op.overlaps(range))
        .filter(move |op| options.include_cancelled || !op.is_cancelled())
        .map(move |op| (op, op_minutes(op, range, options.clip)))
}

/// A count of operations and their minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpTotals {
    pub count: u64,
    pub minutes: i64,
}

impl OpTotals {
    fn add(&mut self, minutes: i64) {
        self.count += 1;
        self.minutes += minutes;
    }

    /// Σ minutes / count, `0.0` without operations (the original's float).
    pub fn average(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.minutes as f64 / self.count as f64
        }
    }
}

/// `op-stats/overview`: operations overlapping the range.
pub fn op_overview(ops: &[OperationFact], range: &Interval, options: OpStatsOptions) -> OpTotals {
    let mut totals = OpTotals::default();
    for (_, minutes) in op_selected(ops, range, options) {
        totals.add(minutes);
    }
    totals
}

/// One room of `op-stats/rooms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomUsage {
    pub room: i64,
    pub used_minutes: i64,
    /// days × [`OP_STATS_ROOM_DAY_MINUTES`].
    pub total_minutes: i64,
}

impl RoomUsage {
    /// `used / total` as a fraction (may exceed 1, as in the original).
    pub fn utilization(&self) -> f64 {
        if self.total_minutes == 0 {
            0.0
        } else {
            self.used_minutes as f64 / self.total_minutes as f64
        }
    }
}

/// `op-stats/rooms`: rooms that have operations in the range, by room id.
pub fn op_rooms(
    ops: &[OperationFact],
    range: &Interval,
    days: i64,
    options: OpStatsOptions,
) -> Vec<RoomUsage> {
    let mut used: BTreeMap<i64, i64> = BTreeMap::new();
    for (op, minutes) in op_selected(ops, range, options) {
        *used.entry(op.room).or_default() += minutes;
    }
    used.into_iter()
        .map(|(room, used_minutes)| RoomUsage {
            room,
            used_minutes,
            total_minutes: days * OP_STATS_ROOM_DAY_MINUTES,
        })
        .collect()
}

/// `op-stats/devices`: `(device id, usage minutes)` by device id.
pub fn op_devices(
    ops: &[OperationFact],
    range: &Interval,
    options: OpStatsOptions,
) -> Vec<(i64, i64)> {
    let mut usage: BTreeMap<i64, i64> = BTreeMap::new();
    for (op, minutes) in op_selected(ops, range, options) {
        let mut devices = op.devices.clone();
        devices.sort_unstable();
        devices.dedup();
        for device in devices {
            *usage.entry(device).or_default() += minutes;
        }
    }
    usage.into_iter().collect()
}

/// `op-stats/surgeons`: totals per primary surgeon, by surgeon id; `only` restricts to the
/// operations where that user is the primary surgeon (a doctor asking).
pub fn op_surgeons(
    ops: &[OperationFact],
    range: &Interval,
    options: OpStatsOptions,
    only: Option<i64>,
) -> Vec<(i64, OpTotals)> {
    let mut totals: BTreeMap<i64, OpTotals> = BTreeMap::new();
    for (op, minutes) in op_selected(ops, range, options) {
        if only.is_none_or(|user| user == op.primary_surgeon) {
            totals.entry(op.primary_surgeon).or_default().add(minutes);
        }
    }
    totals.into_iter().collect()
}

/// One operation type of `op-stats/types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeDurations {
    pub op_type: i64,
    pub count: u64,
    pub total_minutes: i64,
    pub min_minutes: i64,
    pub max_minutes: i64,
}

impl TypeDurations {
    /// Mean minutes (a float, like the original).
    pub fn average(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_minutes as f64 / self.count as f64
        }
    }
}

/// `op-stats/types`: count and durations per operation type, by type id.
pub fn op_types(
    ops: &[OperationFact],
    range: &Interval,
    options: OpStatsOptions,
) -> Vec<TypeDurations> {
    let mut types: BTreeMap<i64, TypeDurations> = BTreeMap::new();
    for (op, minutes) in op_selected(ops, range, options) {
        let entry = types.entry(op.op_type).or_insert(TypeDurations {
            op_type: op.op_type,
            count: 0,
            total_minutes: 0,
            min_minutes: minutes,
            max_minutes: minutes,
        });
        entry.count += 1;
        entry.total_minutes += minutes;
        entry.min_minutes = entry.min_minutes.min(minutes);
        entry.max_minutes = entry.max_minutes.max(minutes);
    }
    types.into_values().collect()
}

// ---- counting KPIs ------------------------------------------------------------------------

/// A share: `part` of `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    pub part: u64,
    pub total: u64,
}

impl Ratio {
    /// In percent, one decimal; `None` without rows.
    pub fn rate(&self) -> Option<f64> {
        percent(self.part, self.total)
    }
}

/// No-shows among past, non-cancelled appointments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoShows {
    /// Past non-cancelled appointments starting in the window.
    pub total: u64,
    /// Flagged with `is_no_show`.
    pub flagged: u64,
    /// Not flagged but still scheduled/confirmed after their end.
    pub unflagged: u64,
}

impl NoShows {
    /// Flagged + unflagged.
    pub fn count(&self) -> u64 {
        self.flagged + self.unflagged
    }

    /// In percent, one decimal.
    pub fn rate(&self) -> Option<f64> {
        percent(self.count(), self.total)
    }
}

/// No-show rate: appointments starting in `window`, not cancelled, ended by `as_of`.
pub fn no_shows(appts: &[AppointmentFact], window: &Interval, as_of: DateTime<Utc>) -> NoShows {
    let mut out = NoShows::default();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && a.is_past_booking(as_of))
    {
        out.total += 1;
        if a.is_no_show {
            out.flagged += 1;
        } else if a.counts_as_no_show() {
            out.unflagged += 1;
        }
    }
    out
}

/// Completion rate: completed among the no-show population (past, non-cancelled).
pub fn completion(appts: &[AppointmentFact], window: &Interval, as_of: DateTime<Utc>) -> Ratio {
    let mut out = Ratio::default();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && a.is_past_booking(as_of))
    {
        out.total += 1;
        if a.status == AppointmentStatus::Completed {
            out.part += 1;
        }
    }
    out
}

/// Cancellations among every appointment starting in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cancellations {
    pub total: u64,
    pub cancelled: u64,
    /// Cancelled, last changed less than [`LATE_CANCELLATION_HOURS`] before the start.
    pub late: u64,
}

impl Cancellations {
    /// Cancelled with more notice.
    pub fn early(&self) -> u64 {
        self.cancelled - self.late
    }

    /// In percent, one decimal.
    pub fn rate(&self) -> Option<f64> {
        percent(self.cancelled, self.total)
    }
}

/// Cancellation rate: every appointment starting in `window`, whatever its status.
pub fn cancellations(appts: &[AppointmentFact], window: &Interval) -> Cancellations {
    let notice = TimeDelta::hours(LATE_CANCELLATION_HOURS);
    let mut out = Cancellations::default();
    for a in appts.iter().filter(|a| a.starts_in(window)) {
        out.total += 1;
        if a.is_cancelled() {
            out.cancelled += 1;
            let late = a
                .start
                .checked_sub_signed(notice)
                .is_none_or(|limit| a.updated_at > limit);
            if late {
                out.late += 1;
            }
        }
    }
    out
}

/// Lead-time buckets by local calendar days between booking and start.
pub const LEAD_TIME_BUCKETS: [&str; 5] = [
    "same_day",
    "next_day",
    "2_7_days",
    "8_30_days",
    "over_30_days",
];

/// Time between booking and start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeadTime {
    pub count: u64,
    pub total: TimeDelta,
    pub min: Option<TimeDelta>,
    pub max: Option<TimeDelta>,
    /// Counts per [`LEAD_TIME_BUCKETS`] entry.
    pub buckets: [u64; 5],
}

fn hours(duration: TimeDelta) -> f64 {
    round1(duration.num_seconds() as f64 / 3600.0)
}

impl LeadTime {
    /// Mean in hours, one decimal.
    pub fn average_hours(&self) -> Option<f64> {
        let count = i32::try_from(self.count).ok().filter(|count| *count > 0)?;
        Some(hours(self.total / count))
    }

    /// Shortest in hours, one decimal.
    pub fn min_hours(&self) -> Option<f64> {
        self.min.map(hours)
    }

    /// Longest in hours, one decimal.
    pub fn max_hours(&self) -> Option<f64> {
        self.max.map(hours)
    }

    /// Share of same-day bookings in percent.
    pub fn same_day_rate(&self) -> Option<f64> {
        percent(self.buckets[0], self.count)
    }
}

/// Lead time: appointments created in `window`, not cancelled, starting no earlier than they
/// were booked (back-dated entries of past visits say nothing about lead time).
pub fn lead_time(appts: &[AppointmentFact], window: &Interval, tz: Tz) -> LeadTime {
    let mut out = LeadTime::default();
    for a in appts
        .iter()
        .filter(|a| starts_in(a.created_at, window) && !a.is_cancelled() && a.start >= a.created_at)
    {
        let lead = a.start - a.created_at;
        out.count += 1;
        out.total += lead;
        out.min = Some(out.min.map_or(lead, |min| min.min(lead)));
        out.max = Some(out.max.map_or(lead, |max| max.max(lead)));
        let days = (local_date(tz, a.start) - local_date(tz, a.created_at)).num_days();
        let bucket = match days {
            ..=0 => 0,
            1 => 1,
            2..=7 => 2,
            8..=30 => 3,
            _ => 4,
        };
        out.buckets[bucket] += 1;
    }
    out
}

/// Mean appointment length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AverageDuration {
    pub count: u64,
    pub total: TimeDelta,
}

impl AverageDuration {
    /// Mean minutes, one decimal.
    pub fn minutes(&self) -> Option<f64> {
        (self.count > 0).then(|| round1(self.total.num_seconds() as f64 / 60.0 / self.count as f64))
    }
}

/// Average duration: appointments starting in `window`, not cancelled, clipped to it.
pub fn average_duration(appts: &[AppointmentFact], window: &Interval) -> AverageDuration {
    let mut out = AverageDuration::default();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && !a.is_cancelled())
    {
        out.count += 1;
        out.total += clipped(a.start, a.end, window);
    }
    out
}

fn by_patient(histories: &[PatientHistory]) -> HashMap<i32, &PatientHistory> {
    histories.iter().map(|h| (h.patient, h)).collect()
}

/// Rebooking rate: cancelled appointments starting in `window` whose patient holds a
/// non-cancelled appointment booked no earlier than the cancelled one.
pub fn rebooking(
    appts: &[AppointmentFact],
    histories: &[PatientHistory],
    window: &Interval,
) -> Ratio {
    let histories = by_patient(histories);
    let mut out = Ratio::default();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && a.is_cancelled())
    {
        out.total += 1;
        let rebooked = histories
            .get(&a.patient)
            .and_then(|h| h.last_created)
            .is_some_and(|created| created >= a.created_at);
        if rebooked {
            out.part += 1;
        }
    }
    out
}

/// New patients: of the patients with a non-cancelled appointment starting in `window`, those
/// whose first-ever non-cancelled appointment starts in it (counted once per patient).
pub fn new_patients(
    appts: &[AppointmentFact],
    histories: &[PatientHistory],
    window: &Interval,
) -> Ratio {
    let histories = by_patient(histories);
    let mut patients: Vec<i32> = appts
        .iter()
        .filter(|a| a.starts_in(window) && !a.is_cancelled())
        .map(|a| a.patient)
        .collect();
    patients.sort_unstable();
    patients.dedup();
    let new = patients
        .iter()
        .filter(|p| {
            histories
                .get(p)
                .and_then(|h| h.first_start)
                .is_some_and(|first| first >= window.start())
        })
        .count();
    Ratio {
        part: new as u64,
        total: patients.len() as u64,
    }
}

/// The busiest local weekday and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
    pub hour: u32,
    pub count: u64,
}

/// Appointment starts by local weekday (rows, Monday first) and hour (columns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeakLoad {
    pub matrix: [[u64; 24]; 7],
}

impl PeakLoad {
    /// Totals per hour.
    pub fn by_hour(&self) -> [u64; 24] {
        let mut out = [0; 24];
        for row in &self.matrix {
            for (hour, count) in row.iter().enumerate() {
                out[hour] += count;
            }
        }
        out
    }

    /// Totals per weekday.
    pub fn by_weekday(&self) -> [u64; 7] {
        self.matrix.map(|row| row.iter().sum())
    }

    /// The first maximum cell in Monday→Sunday, 0→23 order; `None` when there are no rows.
    pub fn peak(&self) -> Option<Peak> {
        let mut best: Option<Peak> = None;
        for (weekday, row) in (0u32..).zip(&self.matrix) {
            for (hour, &count) in (0u32..).zip(row) {
                if count > 0 && best.is_none_or(|b| count > b.count) {
                    best = Some(Peak {
                        weekday,
                        hour,
                        count,
                    });
                }
            }
        }
        best
    }

    /// The busiest hour over all weekdays (first maximum), `None` without rows.
    pub fn peak_hour(&self) -> Option<(u32, u64)> {
        first_max(&self.by_hour())
    }

    /// The busiest weekday (first maximum), `None` without rows.
    pub fn peak_weekday(&self) -> Option<(u32, u64)> {
        first_max(&self.by_weekday())
    }
}

fn first_max(counts: &[u64]) -> Option<(u32, u64)> {
    let mut best: Option<(u32, u64)> = None;
    for (idx, &count) in (0u32..).zip(counts) {
        if count > 0 && best.is_none_or(|(_, b)| count > b) {
            best = Some((idx, count));
        }
    }
    best
}

/// Peak load: non-cancelled appointments starting in `window`, by local weekday and hour.
pub fn peak_load(appts: &[AppointmentFact], window: &Interval, tz: Tz) -> PeakLoad {
    let mut out = PeakLoad::default();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && !a.is_cancelled())
    {
        let local = a.start.with_timezone(&tz);
        let weekday = local.weekday().num_days_from_monday() as usize;
        let hour = local.hour() as usize;
        out.matrix[weekday][hour] += 1;
    }
    out
}

/// Non-cancelled appointments starting in `window`.
pub fn volume(appts: &[AppointmentFact], window: &Interval) -> u64 {
    appts
        .iter()
        .filter(|a| a.starts_in(window) && !a.is_cancelled())
        .count() as u64
}

/// Appointments starting in `window` per status, in [`AppointmentStatus::ALL`] order.
pub fn appointment_statuses(
    appts: &[AppointmentFact],
    window: &Interval,
) -> [(AppointmentStatus, u64); 4] {
    AppointmentStatus::ALL.map(|status| {
        let count = appts
            .iter()
            .filter(|a| a.starts_in(window) && a.status == status)
            .count();
        (status, count as u64)
    })
}

/// Operations starting in `window` per status, in [`OperationStatus::ALL`] order.
pub fn operation_statuses(ops: &[OperationFact], window: &Interval) -> [(OperationStatus, u64); 5] {
    OperationStatus::ALL.map(|status| {
        let count = ops
            .iter()
            .filter(|op| starts_in(op.start, window) && op.status == status)
            .count();
        (status, count as u64)
    })
}

/// Patient flows per status, in [`FlowStatus::ALL`] order.
pub fn flow_statuses(statuses: &[FlowStatus]) -> [(FlowStatus, u64); 6] {
    FlowStatus::ALL.map(|status| {
        let count = statuses.iter().filter(|s| **s == status).count();
        (status, count as u64)
    })
}

/// Operation count and mean duration: non-cancelled operations starting in `window`, clipped.
pub fn operation_durations(ops: &[OperationFact], window: &Interval) -> AverageDuration {
    let mut out = AverageDuration::default();
    for op in ops
        .iter()
        .filter(|op| starts_in(op.start, window) && !op.is_cancelled())
    {
        out.count += 1;
        out.total += clipped(op.start, op.end, window);
    }
    out
}

/// One week of the scheduling trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendPoint {
    pub week: Interval,
    pub cancellations: Cancellations,
    pub completion: Ratio,
    pub no_shows: NoShows,
}

/// Trends: the cancellation, completion and no-show figures of each week.
pub fn trends(
    appts: &[AppointmentFact],
    weeks: &[Interval],
    as_of: DateTime<Utc>,
) -> Vec<TrendPoint> {
    weeks
        .iter()
        .map(|week| TrendPoint {
            week: *week,
            cancellations: cancellations(appts, week),
            completion: completion(appts, week, as_of),
            no_shows: no_shows(appts, week, as_of),
        })
        .collect()
}

/// Completed appointments and done operations of one local day (by start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayThroughput {
    pub date: NaiveDate,
    pub appointments_completed: u64,
    pub operations_done: u64,
}

/// Throughput per local day of `window`.
pub fn throughput(
    appts: &[AppointmentFact],
    ops: &[OperationFact],
    window: &Interval,
    tz: Tz,
) -> Vec<DayThroughput> {
    let mut days: BTreeMap<NaiveDate, DayThroughput> = dates_of(tz, window)
        .map(|date| {
            (
                date,
                DayThroughput {
                    date,
                    appointments_completed: 0,
                    operations_done: 0,
                },
            )
        })
        .collect();
    for a in appts
        .iter()
        .filter(|a| a.starts_in(window) && a.status == AppointmentStatus::Completed)
    {
        if let Some(day) = days.get_mut(&local_date(tz, a.start)) {
            day.appointments_completed += 1;
        }
    }
    for op in ops
        .iter()
        .filter(|op| starts_in(op.start, window) && op.status == OperationStatus::Done)
    {
        if let Some(day) = days.get_mut(&local_date(tz, op.start)) {
            day.operations_done += 1;
        }
    }
    days.into_values().collect()
}

// ---- capacity and utilisation -------------------------------------------------------------

/// The hours model for capacity: practice ∩ doctor hours − absences − breaks (doctors), and
/// practice hours − practice-wide breaks (rooms and devices). Bookings play no part here.
#[derive(Debug, Clone)]
pub struct Capacity {
    schedule: Schedule,
    practice_breaks: Vec<Interval>,
}

impl Capacity {
    /// Indexes the hours, absences and breaks of `input` (its busy intervals are ignored).
    pub fn new(mut input: ScheduleInput) -> Capacity {
        input.busy.clear();
        let tz = input.time_zone;
        let practice_breaks = input
            .breaks
            .iter()
            .filter(|b| b.active && b.doctor.is_none())
            .filter_map(|b| local_window(tz, b.date, b.start, b.end))
            .collect();
        Capacity {
            schedule: Schedule::new(input),
            practice_breaks,
        }
    }

    fn tz(&self) -> Tz {
        self.schedule.time_zone()
    }

    /// A doctor's working time inside `window`.
    pub fn doctor(&self, doctor: i64, window: &Interval) -> IntervalSet {
        let participants = Participants::doctor(UserId(doctor));
        let mut time = IntervalSet::new();
        for date in dates_of(self.tz(), window) {
            time = time.union(&self.schedule.free_time(&participants, date, None));
        }
        time.intersection(&IntervalSet::from_intervals([*window]))
    }

    /// When rooms and devices are open inside `window`.
    pub fn practice(&self, window: &Interval) -> IntervalSet {
        let mut time = IntervalSet::new();
        for date in dates_of(self.tz(), window) {
            time = time.union(&self.schedule.working_time(&[], date));
        }
        let breaks = IntervalSet::from_intervals(self.practice_breaks.iter().copied());
        time.difference(&breaks)
            .intersection(&IntervalSet::from_intervals([*window]))
    }
}

/// Booked time against capacity of one doctor or resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utilisation {
    /// The doctor's user id or the resource id.
    pub id: i64,
    pub capacity: TimeDelta,
    /// Booked time inside the capacity (never more than it).
    pub booked: TimeDelta,
}

impl Utilisation {
    /// booked / capacity in percent, one decimal; `None` without capacity.
    pub fn rate(&self) -> Option<f64> {
        percent_of_time(self.booked, self.capacity)
    }

    /// Capacity in whole minutes.
    pub fn capacity_minutes(&self) -> i64 {
        whole_minutes(self.capacity)
    }

    /// Booked time in whole minutes.
    pub fn booked_minutes(&self) -> i64 {
        whole_minutes(self.booked)
    }
}

/// The sum of several utilisations (id 0).
pub fn total_utilisation(items: &[Utilisation]) -> Utilisation {
    items.iter().fold(
        Utilisation {
            id: 0,
            capacity: TimeDelta::zero(),
            booked: TimeDelta::zero(),
        },
        |acc, item| Utilisation {
            id: 0,
            capacity: acc.capacity + item.capacity,
            booked: acc.booked + item.booked,
        },
    )
}

/// Highest utilisation first (no capacity last), then by id.
fn sort_utilisation(items: &mut [Utilisation]) {
    items.sort_by(|a, b| {
        let rate = |u: &Utilisation| u.rate().unwrap_or(-1.0);
        rate(b).total_cmp(&rate(a)).then(a.id.cmp(&b.id))
    });
}

fn utilisation(id: i64, capacity: IntervalSet, busy: Vec<Interval>) -> Utilisation {
    let booked = IntervalSet::from_intervals(busy).intersection(&capacity);
    Utilisation {
        id,
        capacity: capacity.total_duration(),
        booked: booked.total_duration(),
    }
}

/// Utilisation of each doctor in `window`: non-cancelled appointments (as doctor) and
/// operations (any team role) inside their capacity; sorted by utilisation descending.
pub fn doctor_utilisation(
    capacity: &Capacity,
    doctors: &[i64],
    appts: &[AppointmentFact],
    ops: &[OperationFact],
    window: &Interval,
) -> Vec<Utilisation> {
    let mut out: Vec<Utilisation> = doctors
        .iter()
        .map(|&doctor| {
            let busy = appts
                .iter()
                .filter(|a| a.doctor == doctor && !a.is_cancelled())
                .filter_map(AppointmentFact::interval)
                .chain(
                    ops.iter()
                        .filter(|op| op.has_member(doctor) && !op.is_cancelled())
                        .filter_map(OperationFact::interval),
                )
                .collect();
            utilisation(doctor, capacity.doctor(doctor, window), busy)
        })
        .collect();
    sort_utilisation(&mut out);
    out
}

/// Utilisation of each room or device in `window`: non-cancelled appointments linked to it and
/// non-cancelled operations using it (room or device), inside practice hours − practice-wide
/// breaks; sorted by utilisation descending.
pub fn resource_utilisation(
    capacity: &Capacity,
    resources: &[i64],
    appts: &[AppointmentFact],
    ops: &[OperationFact],
    window: &Interval,
) -> Vec<Utilisation> {
    let open = capacity.practice(window);
    let mut out: Vec<Utilisation> = resources
        .iter()
        .map(|&resource| {
            let busy = appts
                .iter()
                .filter(|a| a.resources.contains(&resource) && !a.is_cancelled())
                .filter_map(AppointmentFact::interval)
                .chain(
                    ops.iter()
                        .filter(|op| op.uses_resource(resource) && !op.is_cancelled())
                        .filter_map(OperationFact::interval),
                )
                .collect();
            utilisation(resource, open.clone(), busy)
        })
        .collect();
    sort_utilisation(&mut out);
    out
}

// ---- the two dashboards -------------------------------------------------------------------

/// Everything the scheduling KPIs are computed from.
#[derive(Debug, Clone)]
pub struct SchedulingInput {
    pub appointments: Vec<AppointmentFact>,
    pub operations: Vec<OperationFact>,
    pub histories: Vec<PatientHistory>,
    /// Hours, absences and breaks (busy intervals are ignored).
    pub calendar: ScheduleInput,
    /// Active doctors (user ids).
    pub doctors: Vec<i64>,
    /// Active rooms (resource ids).
    pub rooms: Vec<i64>,
}

/// The scheduling dashboard (scheduling.md §6.5, ui.md §1.2).
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulingKpis {
    pub slot_utilisation: Utilisation,
    pub previous_slot_utilisation: Utilisation,
    pub no_shows: NoShows,
    pub previous_no_shows: NoShows,
    pub completion: Ratio,
    pub cancellations: Cancellations,
    pub lead_time: LeadTime,
    pub average_duration: AverageDuration,
    pub rebooking: Ratio,
    pub new_patients: Ratio,
    pub peak_load: PeakLoad,
    pub doctors: Vec<Utilisation>,
    pub rooms: Vec<Utilisation>,
    pub trends: Vec<TrendPoint>,
    /// Non-cancelled appointments starting today, this week, this month.
    pub volume: [u64; 3],
    /// Appointments starting in the last 30 days per status.
    pub statuses: [(AppointmentStatus, u64); 4],
}

/// Computes every scheduling KPI for `clock`.
pub fn scheduling_kpis(clock: &KpiClock, input: &SchedulingInput) -> SchedulingKpis {
    let appts = &input.appointments;
    let ops = &input.operations;
    let capacity = Capacity::new(input.calendar.clone());
    let doctors = doctor_utilisation(&capacity, &input.doctors, appts, ops, &clock.week);
    let previous = doctor_utilisation(&capacity, &input.doctors, appts, ops, &clock.previous_week);
    SchedulingKpis {
        slot_utilisation: total_utilisation(&doctors),
        previous_slot_utilisation: total_utilisation(&previous),
        no_shows: no_shows(appts, &clock.last_30, clock.as_of),
        previous_no_shows: no_shows(appts, &clock.previous_30, clock.as_of),
        completion: completion(appts, &clock.last_30, clock.as_of),
        cancellations: cancellations(appts, &clock.last_30),
        lead_time: lead_time(appts, &clock.last_30, clock.tz),
        average_duration: average_duration(appts, &clock.last_30),
        rebooking: rebooking(appts, &input.histories, &clock.last_30),
        new_patients: new_patients(appts, &input.histories, &clock.last_30),
        peak_load: peak_load(appts, &clock.last_30, clock.tz),
        rooms: resource_utilisation(&capacity, &input.rooms, appts, ops, &clock.week),
        doctors,
        trends: trends(appts, &clock.trend_weeks, clock.as_of),
        volume: [
            volume(appts, &clock.today),
            volume(appts, &clock.week),
            volume(appts, &clock.month),
        ],
        statuses: appointment_statuses(appts, &clock.last_30),
    }
}

/// Everything the operations KPIs are computed from.
#[derive(Debug, Clone)]
pub struct OperationsInput {
    pub appointments: Vec<AppointmentFact>,
    pub operations: Vec<OperationFact>,
    /// Hours, absences and breaks (busy intervals are ignored).
    pub calendar: ScheduleInput,
    /// Active doctors (user ids).
    pub doctors: Vec<i64>,
    /// Active rooms and devices (resource ids).
    pub resources: Vec<i64>,
    /// Statuses of the patient flows of the reference date.
    pub flows: Vec<FlowStatus>,
}

/// The operations dashboard (ui.md §3.4, without its demo numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationsKpis {
    pub window: Interval,
    pub utilisation: Utilisation,
    pub throughput: Vec<DayThroughput>,
    pub resources: Vec<Utilisation>,
    pub appointment_statuses: [(AppointmentStatus, u64); 4],
    pub operation_statuses: [(OperationStatus, u64); 5],
    pub operations: AverageDuration,
    pub flows: [(FlowStatus, u64); 6],
}

/// Computes every operations KPI over `window`.
pub fn operations_kpis(window: Interval, tz: Tz, input: &OperationsInput) -> OperationsKpis {
    let appts = &input.appointments;
    let ops = &input.operations;
    let capacity = Capacity::new(input.calendar.clone());
    let doctors = doctor_utilisation(&capacity, &input.doctors, appts, ops, &window);
    OperationsKpis {
        window,
        utilisation: total_utilisation(&doctors),
        throughput: throughput(appts, ops, &window, tz),
        resources: resource_utilisation(&capacity, &input.resources, appts, ops, &window),
        appointment_statuses: appointment_statuses(appts, &window),
        operation_statuses: operation_statuses(ops, &window),
        operations: operation_durations(ops, &window),
        flows: flow_statuses(&input.flows),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeZone, Weekday};

    use super::*;
    use crate::scheduling::{Absence, AbsenceId, Break, BreakId, DoctorHours, WeeklyWindow};

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    /// Monday 2030-01-14 (CET, UTC+1).
    fn monday() -> NaiveDate {
        date(2030, 1, 14)
    }

    fn day(offset: i64) -> NaiveDate {
        monday() + TimeDelta::days(offset)
    }

    /// Berlin wall clock on `day(offset)`.
    fn at(offset: i64, h: u32, m: u32) -> DateTime<Utc> {
        BERLIN
            .from_local_datetime(&day(offset).and_hms_opt(h, m, 0).expect("time"))
            .single()
            .expect("unambiguous")
            .with_timezone(&Utc)
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn days(first: i64, last: i64) -> Interval {
        local_days(BERLIN, day(first), day(last)).expect("window")
    }

    /// A non-cancelled appointment booked a week before, never changed.
    fn appt(
        id: i32,
        doctor: i64,
        patient: i32,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> AppointmentFact {
        AppointmentFact {
            id,
            doctor,
            patient,
            start,
            end: start + TimeDelta::minutes(minutes),
            status: AppointmentStatus::Scheduled,
            is_no_show: false,
            created_at: start - TimeDelta::days(7),
            updated_at: start - TimeDelta::days(7),
            resources: Vec::new(),
        }
    }

    fn with_status(mut a: AppointmentFact, status: AppointmentStatus) -> AppointmentFact {
        a.status = status;
        a
    }

    fn op(
        id: i64,
        room: i64,
        surgeon: i64,
        op_type: i64,
        start: DateTime<Utc>,
        minutes: i64,
    ) -> OperationFact {
        OperationFact {
            id,
            op_type,
            room,
            devices: Vec::new(),
            primary_surgeon: surgeon,
            assistant: None,
            anesthesist: None,
            start,
            end: start + TimeDelta::minutes(minutes),
            status: OperationStatus::Planned,
        }
    }

    fn window(weekday: Weekday, from: NaiveTime, to: NaiveTime) -> WeeklyWindow {
        WeeklyWindow {
            weekday,
            start: from,
            end: to,
            active: true,
        }
    }

    /// Practice Mon–Fri 08:00–16:00; doctor 1 Mon–Fri 08:00–12:00.
    fn calendar() -> ScheduleInput {
        let mut input = ScheduleInput::new(BERLIN);
        for weekday in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ] {
            input
                .practice_hours
                .push(window(weekday, time(8, 0), time(16, 0)));
            input.doctor_hours.push(DoctorHours {
                doctor: UserId(1),
                window: window(weekday, time(8, 0), time(12, 0)),
            });
        }
        input
    }

    #[test]
    fn vw_109_today_is_the_practice_zone_date_not_the_utc_date() {
        // 2030-01-14 23:30 UTC is 00:30 on Tuesday the 15th in Berlin.
        let now = Utc.with_ymd_and_hms(2030, 1, 14, 23, 30, 0).unwrap();
        let clock = KpiClock::new(BERLIN, now, None).unwrap();
        assert_eq!(clock.date, date(2030, 1, 15));
        assert_eq!(clock.today, days(1, 1));
        assert_eq!(clock.as_of, now);
        // In UTC the same instant is still the 14th.
        let utc = KpiClock::new(chrono_tz::UTC, now, None).unwrap();
        assert_eq!(utc.date, date(2030, 1, 14));
    }

    #[test]
    fn clock_windows_are_local_weeks_months_and_rolling_days() {
        // Wednesday 2030-01-16, asked on the Friday after: as_of = end of the Wednesday.
        let now = at(4, 12, 0);
        let clock = KpiClock::new(BERLIN, now, Some(day(2))).unwrap();
        assert_eq!(clock.as_of, at(3, 0, 0));
        assert_eq!(clock.week, days(0, 6));
        assert_eq!(clock.previous_week, days(-7, -1));
        assert_eq!(
            clock.month,
            local_days(BERLIN, date(2030, 1, 1), date(2030, 1, 31)).unwrap()
        );
        assert_eq!(
            clock.last_30,
            local_days(BERLIN, date(2029, 12, 18), day(2)).unwrap()
        );
        assert_eq!(
            clock.previous_30,
            local_days(BERLIN, date(2029, 11, 18), date(2029, 12, 17)).unwrap()
        );
        assert_eq!(clock.trend_weeks.len(), TREND_WEEKS);
        assert_eq!(clock.trend_weeks[11], clock.week);
        assert_eq!(clock.trend_weeks[0], days(-77, -71));
        assert_eq!(clock.last_days(1).unwrap(), days(2, 2));
        assert_eq!(clock.last_days(7).unwrap(), days(-4, 2));
        assert_eq!(clock.last_days(0), Err(KpiError::PeriodOutOfRange));
        assert_eq!(clock.last_days(367), Err(KpiError::PeriodOutOfRange));
    }

    #[test]
    fn a_dst_week_is_one_hour_shorter() {
        // The week of 2030-03-31 (spring forward on Sunday the 31st) has 7 × 24 − 1 hours.
        let now = Utc.with_ymd_and_hms(2030, 3, 27, 12, 0, 0).unwrap();
        let clock = KpiClock::new(BERLIN, now, None).unwrap();
        assert_eq!(clock.week.duration(), TimeDelta::hours(7 * 24 - 1));
    }

    #[test]
    fn op_stats_range_rules_and_messages() {
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Result<(NaiveDate, NaiveDate), RangeError>,
        );
        let one_day = Ok((date(2043, 3, 4), date(2043, 3, 4)));
        let cases: [Case; 9] = [
            (Some("2043-03-04"), None, None, one_day),
            (Some("2043-03-04"), Some("x"), Some("y"), one_day),
            (
                None,
                Some("2043-03-03"),
                Some("2043-03-10"),
                Ok((date(2043, 3, 3), date(2043, 3, 10))),
            ),
            (None, None, None, Err(RangeError::Missing)),
            (None, Some("2043-03-03"), None, Err(RangeError::Missing)),
            (
                Some(" "),
                Some(""),
                Some("2043-03-03"),
                Err(RangeError::Missing),
            ),
            (Some("2043-3-4x"), None, None, Err(RangeError::BadFormat)),
            (
                None,
                Some("2043-03-10"),
                Some("2043-03-03"),
                Err(RangeError::FromAfterTo),
            ),
            (
                None,
                Some("2000-01-01"),
                Some("2100-12-31"),
                Err(RangeError::TooLong),
            ),
        ];
        for (date_param, from, to, expected) in cases {
            let got = op_stats_range(date_param, from, to).map(|range| (range.from, range.to));
            assert_eq!(got, expected, "{date_param:?} {from:?} {to:?}");
        }
        // 366 days are fine, 367 are not.
        assert!(op_stats_range(None, Some("2024-01-01"), Some("2024-12-31")).is_ok());
        assert_eq!(
            op_stats_range(None, Some("2024-01-01"), Some("2025-01-01")),
            Err(RangeError::TooLong)
        );
        assert_eq!(
            RangeError::Missing.to_string(),
            "Provide either ?date=YYYY-MM-DD or ?from=YYYY-MM-DD&to=YYYY-MM-DD."
        );
    }

    #[test]
    fn vw_102_op_stats_match_the_hand_computed_figures() {
        // Monday: op 1 of 50 min and op 2 of 70 min in room 7, surgeons 1 and 2, types 30/31,
        // op 1 with device 9.
        let mut first = op(1, 7, 1, 30, at(0, 9, 0), 50);
        first.devices = vec![9];
        let ops = vec![first, op(2, 7, 2, 31, at(0, 11, 0), 70)];
        let range = days(0, 0);
        let options = OpStatsOptions::default();
        // overview: 2 ops, 50 + 70 = 120 min, 120 / 2 = 60.0.
        let totals = op_overview(&ops, &range, options);
        assert_eq!(
            (totals.count, totals.minutes, totals.average()),
            (2, 120, 60.0)
        );
        // rooms: 1 day × 480 = 480, used 120, 120 / 480 = 0.25.
        let rooms = op_rooms(&ops, &range, 1, options);
        assert_eq!(
            rooms,
            vec![RoomUsage {
                room: 7,
                used_minutes: 120,
                total_minutes: 480
            }]
        );
        assert_eq!(rooms[0].utilization(), 0.25);
        // A 3-day range: 3 × 480 = 1440, 120 / 1440 = 0.08333….
        let three = op_rooms(&ops, &days(0, 2), 3, options);
        assert_eq!(three[0].total_minutes, 1440);
        assert_eq!(three[0].utilization(), 120.0 / 1440.0);
        // devices: device 9 is used by op 1 only: 50.
        assert_eq!(op_devices(&ops, &range, options), vec![(9, 50)]);
        // types: 1 × 50 and 1 × 70.
        let types = op_types(&ops, &range, options);
        assert_eq!(
            types
                .iter()
                .map(|t| (
                    t.op_type,
                    t.count,
                    t.average(),
                    t.min_minutes,
                    t.max_minutes
                ))
                .collect::<Vec<_>>(),
            vec![(30, 1, 50.0, 50, 50), (31, 1, 70.0, 70, 70)]
        );
        // surgeons: 1 → 1 op / 50, 2 → 1 op / 70; a doctor asking sees only their own.
        let surgeons = op_surgeons(&ops, &range, options, None);
        assert_eq!(surgeons.len(), 2);
        assert_eq!(
            surgeons[1],
            (
                2,
                OpTotals {
                    count: 1,
                    minutes: 70
                }
            )
        );
        assert_eq!(
            op_surgeons(&ops, &range, options, Some(1)),
            vec![(
                1,
                OpTotals {
                    count: 1,
                    minutes: 50
                }
            )]
        );
    }

    #[test]
    fn op_stats_flags_exclude_cancelled_and_clip_to_the_range() {
        // Op 1: Monday 23:00 → Tuesday 01:00 (120 min, 60 of them on Monday); op 2 cancelled.
        let ops = vec![
            op(1, 7, 1, 30, at(0, 23, 0), 120),
            OperationFact {
                status: OperationStatus::Cancelled,
                ..op(2, 7, 1, 30, at(0, 9, 0), 40)
            },
        ];
        let monday_only = days(0, 0);
        let cases = [
            // (include_cancelled, clip) → (count, minutes)
            ((true, false), (2, 160)),
            ((false, false), (1, 120)),
            ((true, true), (2, 100)),
            ((false, true), (1, 60)),
        ];
        for ((include_cancelled, clip), expected) in cases {
            let options = OpStatsOptions {
                include_cancelled,
                clip,
            };
            let totals = op_overview(&ops, &monday_only, options);
            assert_eq!((totals.count, totals.minutes), expected, "{options:?}");
        }
        // An empty range: 0 / 0 / 0.0.
        let empty = op_overview(&ops, &days(5, 5), OpStatsOptions::default());
        assert_eq!((empty.count, empty.minutes, empty.average()), (0, 0, 0.0));
    }

    #[test]
    fn vw_108_no_show_rate_counts_flags_and_stale_bookings() {
        // 10 past appointments: 2 flagged, 1 still scheduled, 7 completed → (2 + 1) / 10 = 30.0 %.
        // One cancelled and one future appointment are not in the population.
        let mut appts: Vec<AppointmentFact> = (0..10)
            .map(|i| {
                with_status(
                    appt(i, 1, i, at(0, 8 + i as u32, 0), 30),
                    AppointmentStatus::Completed,
                )
            })
            .collect();
        for a in &mut appts[0..2] {
            a.status = AppointmentStatus::Confirmed;
            a.is_no_show = true;
        }
        appts[2].status = AppointmentStatus::Scheduled;
        appts.push(with_status(
            appt(20, 1, 20, at(1, 9, 0), 30),
            AppointmentStatus::Cancelled,
        ));
        appts.push(appt(21, 1, 21, at(3, 9, 0), 30));
        let as_of = at(2, 0, 0);
        let window = days(-29, 2);
        let result = no_shows(&appts, &window, as_of);
        assert_eq!(
            result,
            NoShows {
                total: 10,
                flagged: 2,
                unflagged: 1
            }
        );
        assert_eq!(result.rate(), Some(30.0));
        // Completion over the same population: 7 / 10 = 70.0 %.
        assert_eq!(completion(&appts, &window, as_of).rate(), Some(70.0));
        // Nothing past: no rate at all.
        assert_eq!(no_shows(&appts, &window, at(-40, 0, 0)).rate(), None);
    }

    #[test]
    fn cancellations_split_late_and_early_by_the_last_change() {
        let start = at(3, 10, 0);
        let cancelled = |id: i32, changed_hours_before: i64| AppointmentFact {
            updated_at: start - TimeDelta::hours(changed_hours_before),
            ..with_status(appt(id, 1, id, start, 30), AppointmentStatus::Cancelled)
        };
        // 4 appointments: cancelled 2 h before (late), 24 h before (early: not less than 24 h),
        // 48 h before (early), and one kept. 3 / 4 = 75.0 %.
        let appts = vec![
            cancelled(1, 2),
            cancelled(2, 24),
            cancelled(3, 48),
            appt(4, 1, 4, start, 30),
        ];
        let result = cancellations(&appts, &days(0, 6));
        assert_eq!(
            result,
            Cancellations {
                total: 4,
                cancelled: 3,
                late: 1
            }
        );
        assert_eq!((result.early(), result.rate()), (2, Some(75.0)));
    }

    #[test]
    fn lead_time_averages_hours_and_buckets_local_days() {
        let window = days(0, 6);
        let booked = |id: i32, created: DateTime<Utc>, start: DateTime<Utc>| AppointmentFact {
            created_at: created,
            ..appt(id, 1, id, start, 30)
        };
        let appts = vec![
            // Same local day: 2 h.
            booked(1, at(0, 8, 0), at(0, 10, 0)),
            // Created Monday 23:30, starts Tuesday 08:00: next local day, 8.5 h.
            booked(2, at(0, 23, 30), at(1, 8, 0)),
            // 3 days: 72 h.
            booked(3, at(1, 9, 0), at(4, 9, 0)),
            // 40 days: 960 h.
            booked(4, at(2, 9, 0), at(42, 9, 0)),
            // Back-dated (start before booking) and cancelled rows are ignored.
            booked(5, at(2, 9, 0), at(1, 9, 0)),
            with_status(
                booked(6, at(2, 9, 0), at(3, 9, 0)),
                AppointmentStatus::Cancelled,
            ),
            // Created outside the window.
            booked(7, at(-1, 9, 0), at(3, 9, 0)),
        ];
        let result = lead_time(&appts, &window, BERLIN);
        assert_eq!(result.count, 4);
        assert_eq!(result.buckets, [1, 1, 1, 0, 1]);
        // (2 + 8.5 + 72 + 960) / 4 = 1042.5 / 4 = 260.625 → 260.6.
        assert_eq!(result.average_hours(), Some(260.6));
        assert_eq!(
            (result.min_hours(), result.max_hours()),
            (Some(2.0), Some(960.0))
        );
        assert_eq!(result.same_day_rate(), Some(25.0));
    }

    #[test]
    fn average_duration_clips_to_the_window_and_skips_cancelled() {
        let window = days(0, 0);
        let appts = vec![
            appt(1, 1, 1, at(0, 9, 0), 30),
            appt(2, 1, 2, at(0, 10, 0), 45),
            // Legacy row crossing midnight: only 60 of its 120 minutes are inside.
            appt(3, 1, 3, at(0, 23, 0), 120),
            with_status(
                appt(4, 1, 4, at(0, 11, 0), 60),
                AppointmentStatus::Cancelled,
            ),
        ];
        // (30 + 45 + 60) / 3 = 45.0.
        let result = average_duration(&appts, &window);
        assert_eq!((result.count, result.minutes()), (3, Some(45.0)));
        assert_eq!(average_duration(&[], &window).minutes(), None);
    }

    #[test]
    fn rebooking_and_new_patients_use_patient_histories() {
        let window = days(0, 6);
        let cancelled = |id: i32, patient: i32| {
            with_status(
                appt(id, 1, patient, at(1, 9, 0), 30),
                AppointmentStatus::Cancelled,
            )
        };
        let created = at(1, 9, 0) - TimeDelta::days(7);
        let appts = vec![
            cancelled(1, 10),
            cancelled(2, 11),
            cancelled(3, 12),
            appt(4, 1, 10, at(2, 9, 0), 30),
            appt(5, 1, 13, at(2, 10, 0), 30),
            appt(6, 1, 13, at(3, 10, 0), 30),
        ];
        let histories = vec![
            // Patient 10 booked again after the cancelled booking: rebooked; first visit earlier.
            PatientHistory {
                patient: 10,
                first_start: Some(at(-100, 9, 0)),
                last_created: Some(created + TimeDelta::days(1)),
            },
            // Patient 11's last non-cancelled booking predates the cancelled one: not rebooked.
            PatientHistory {
                patient: 11,
                first_start: Some(at(-50, 9, 0)),
                last_created: Some(created - TimeDelta::days(1)),
            },
            // Patient 13's first-ever appointment is in the window: new (once, not per row).
            PatientHistory {
                patient: 13,
                first_start: Some(at(2, 10, 0)),
                last_created: Some(created),
            },
        ];
        // Rebooked: patient 10 only → 1 / 3 = 33.3 %.
        let rebooked = rebooking(&appts, &histories, &window);
        assert_eq!(
            (rebooked.part, rebooked.total, rebooked.rate()),
            (1, 3, Some(33.3))
        );
        // Patients with a kept appointment: 10 and 13; new: 13 → 1 / 2 = 50.0 %.
        let new = new_patients(&appts, &histories, &window);
        assert_eq!((new.part, new.total, new.rate()), (1, 2, Some(50.0)));
    }

    #[test]
    fn peak_load_takes_the_first_maximum_and_is_absent_without_rows() {
        let window = days(0, 6);
        let appts = vec![
            appt(1, 1, 1, at(1, 9, 15), 30),
            appt(2, 1, 2, at(1, 9, 45), 30),
            appt(3, 1, 3, at(3, 14, 0), 30),
            appt(4, 1, 4, at(3, 14, 30), 30),
            appt(5, 1, 5, at(0, 8, 0), 30),
            with_status(appt(6, 1, 6, at(6, 8, 0), 30), AppointmentStatus::Cancelled),
        ];
        let load = peak_load(&appts, &window, BERLIN);
        assert_eq!(load.matrix[1][9], 2);
        assert_eq!(load.matrix[3][14], 2);
        assert_eq!(load.matrix[6][8], 0);
        // Tuesday 09:00 and Thursday 14:00 tie: Tuesday comes first.
        assert_eq!(
            load.peak(),
            Some(Peak {
                weekday: 1,
                hour: 9,
                count: 2
            })
        );
        assert_eq!(load.by_weekday(), [1, 2, 0, 2, 0, 0, 0]);
        assert_eq!(load.peak_hour(), Some((9, 2)));
        assert_eq!(load.peak_weekday(), Some((1, 2)));
        assert_eq!(peak_load(&[], &window, BERLIN).peak(), None);
    }

    #[test]
    fn doctor_capacity_subtracts_absences_and_breaks_and_booked_time_counts_once() {
        let mut input = calendar();
        // Doctor 1 is absent on Wednesday; a practice-wide break Monday 11:00–11:30 and the
        // doctor's own break Tuesday 08:00–09:00.
        input.absences.push(Absence {
            id: AbsenceId(1),
            doctor: UserId(1),
            start_date: day(2),
            end_date: day(2),
            active: true,
        });
        input.breaks.push(Break {
            id: BreakId(1),
            doctor: None,
            date: day(0),
            start: time(11, 0),
            end: time(11, 30),
            active: true,
        });
        input.breaks.push(Break {
            id: BreakId(2),
            doctor: Some(UserId(1)),
            date: day(1),
            start: time(8, 0),
            end: time(9, 0),
            active: true,
        });
        let capacity = Capacity::new(input);
        let week = days(0, 6);
        // 4 h × 5 days = 1200 min − Wednesday 240 − break 30 − own break 60 = 870 min.
        assert_eq!(
            whole_minutes(capacity.doctor(1, &week).total_duration()),
            870
        );
        // Rooms: 8 h × 5 days = 2400 − practice-wide break 30 = 2370 min.
        assert_eq!(
            whole_minutes(capacity.practice(&week).total_duration()),
            2370
        );

        let mut with_room = appt(1, 1, 1, at(0, 9, 0), 60);
        with_room.resources = vec![7];
        let appts = vec![
            with_room,
            // Overlaps the first for 30 minutes: 09:30–10:30 adds 30 minutes.
            appt(2, 1, 2, at(0, 9, 30), 60),
            // During the break and outside hours: not counted.
            appt(3, 1, 3, at(0, 11, 0), 30),
            appt(4, 1, 4, at(0, 13, 0), 30),
            // Cancelled: not counted.
            with_status(
                appt(5, 1, 5, at(1, 10, 0), 60),
                AppointmentStatus::Cancelled,
            ),
        ];
        // Doctor 1 assists an operation in room 7 on Thursday 08:00–08:50 (50 min).
        let ops = vec![OperationFact {
            assistant: Some(1),
            ..op(1, 7, 2, 30, at(3, 8, 0), 50)
        }];
        let doctors = doctor_utilisation(&capacity, &[1, 2], &appts, &ops, &week);
        // Doctor 1: 09:00–10:30 = 90 + 50 = 140 of 870 → 16.09… → 16.1 %.
        assert_eq!(doctors[0].id, 1);
        assert_eq!(
            (doctors[0].booked_minutes(), doctors[0].capacity_minutes()),
            (140, 870)
        );
        assert_eq!(doctors[0].rate(), Some(16.1));
        // Doctor 2 has no hours: capacity 0, no rate, sorted last.
        assert_eq!((doctors[1].id, doctors[1].rate()), (2, None));
        // Room 7: appointment 1 (60) + operation (50) = 110 of 2370 → 4.64… → 4.6 %.
        let rooms = resource_utilisation(&capacity, &[7, 8], &appts, &ops, &week);
        assert_eq!(
            (rooms[0].id, rooms[0].booked_minutes(), rooms[0].rate()),
            (7, 110, Some(4.6))
        );
        assert_eq!(
            (rooms[1].id, rooms[1].booked_minutes(), rooms[1].rate()),
            (8, 0, Some(0.0))
        );
        // Totals: 140 / 870.
        let total = total_utilisation(&doctors);
        assert_eq!(
            (total.booked_minutes(), total.capacity_minutes()),
            (140, 870)
        );
    }

    #[test]
    fn throughput_and_status_counts_use_start_dates() {
        let window = days(0, 1);
        let appts = vec![
            with_status(appt(1, 1, 1, at(0, 9, 0), 30), AppointmentStatus::Completed),
            with_status(appt(2, 1, 2, at(1, 9, 0), 30), AppointmentStatus::Completed),
            with_status(
                appt(3, 1, 3, at(1, 10, 0), 30),
                AppointmentStatus::Cancelled,
            ),
            appt(4, 1, 4, at(2, 9, 0), 30),
        ];
        let ops = vec![
            OperationFact {
                status: OperationStatus::Done,
                ..op(1, 7, 1, 30, at(1, 12, 0), 50)
            },
            op(2, 7, 1, 30, at(1, 14, 0), 70),
        ];
        let days_out = throughput(&appts, &ops, &window, BERLIN);
        assert_eq!(
            days_out
                .iter()
                .map(|d| (d.date, d.appointments_completed, d.operations_done))
                .collect::<Vec<_>>(),
            vec![(day(0), 1, 0), (day(1), 1, 1)]
        );
        assert_eq!(
            appointment_statuses(&appts, &window).map(|(_, n)| n),
            [0, 0, 1, 2]
        );
        assert_eq!(
            operation_statuses(&ops, &window).map(|(_, n)| n),
            [1, 0, 0, 1, 0]
        );
        // Operations: 2 kept, (50 + 70) / 2 = 60.0 minutes.
        let durations = operation_durations(&ops, &window);
        assert_eq!((durations.count, durations.minutes()), (2, Some(60.0)));
        let flows = flow_statuses(&[FlowStatus::Waiting, FlowStatus::Done, FlowStatus::Waiting]);
        assert_eq!(flows.map(|(_, n)| n), [0, 2, 0, 0, 0, 1]);
    }

    #[test]
    fn trends_repeat_the_weekly_figures() {
        let appts = vec![
            with_status(appt(1, 1, 1, at(0, 9, 0), 30), AppointmentStatus::Completed),
            appt(2, 1, 2, at(0, 10, 0), 30),
            with_status(
                appt(3, 1, 3, at(-7, 9, 0), 30),
                AppointmentStatus::Cancelled,
            ),
        ];
        let weeks = [days(-7, -1), days(0, 6)];
        let points = trends(&appts, &weeks, at(7, 0, 0));
        // Previous week: 1 appointment, cancelled → 100 %, no past bookings.
        assert_eq!(points[0].cancellations.rate(), Some(100.0));
        assert_eq!(points[0].completion.rate(), None);
        // This week: 1 completed, 1 still scheduled after its end → 50 % / 50 %.
        assert_eq!(points[1].completion.rate(), Some(50.0));
        assert_eq!(points[1].no_shows.rate(), Some(50.0));
        assert_eq!(trend(Some(50.0), Some(20.0)), Some(30.0));
        assert_eq!(trend(Some(50.0), None), None);
    }

    #[test]
    fn rates_round_to_one_decimal_and_are_absent_without_rows() {
        let cases = [
            (1, 3, Some(33.3)),
            (2, 3, Some(66.7)),
            (0, 5, Some(0.0)),
            (3, 0, None),
        ];
        for (part, whole, expected) in cases {
            assert_eq!(percent(part, whole), expected, "{part}/{whole}");
        }
        assert_eq!(whole_minutes(TimeDelta::seconds(119)), 1);
    }
}
