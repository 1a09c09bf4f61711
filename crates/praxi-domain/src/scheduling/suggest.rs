//! Slot suggestion on the 5-minute wall-clock grid, "next available" alternatives, doctor
//! substitution and calendar availability (scheduling spec §1.4–§1.6, §2.1, §2.3, §3.3).
//!
//! Slots are enumerated from free intervals (working time − absences − breaks − busy), never by
//! testing grid steps against bookings: per day the cost is one sort of that day's blocked
//! intervals plus one step per emitted slot.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::ids::{PatientId, ResourceId, UserId};
use super::interval::{Interval, IntervalSet};
use super::model::{BookingRef, Buffers, Team};
use super::schedule::{Participants, Schedule};
use super::zone::{ceil_to_grid, local_day};

/// Upper bound for `limit` (weak point W5: the original had none).
pub const MAX_SUGGEST_LIMIT: usize = 50;
/// Upper bound for a search horizon and for availability ranges, in days.
pub const MAX_HORIZON_DAYS: u32 = 366;
/// Horizon of the "doctor unavailable" alternatives (scheduling spec §3.3).
pub const ALTERNATIVES_HORIZON_DAYS: u32 = 31;
/// Longest bookable duration: a booking cannot cross local midnight anyway.
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;

/// Why a slot query is invalid (the API answers 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SuggestError {
    /// Duration below one minute (or an operation type totalling zero minutes).
    #[error("duration_minutes must be >= 1")]
    DurationTooShort,
    /// Duration above [`MAX_DURATION_MINUTES`].
    #[error("duration_minutes must be <= {max}")]
    DurationTooLong {
        /// The cap.
        max: u32,
    },
    /// `limit` is zero.
    #[error("limit must be >= 1")]
    LimitTooSmall,
    /// `limit` above [`MAX_SUGGEST_LIMIT`].
    #[error("limit must be <= {max}")]
    LimitTooLarge {
        /// The cap.
        max: usize,
    },
    /// Horizon of zero days.
    #[error("days must be >= 1")]
    HorizonTooShort,
    /// Horizon above [`MAX_HORIZON_DAYS`].
    #[error("days must be <= {max}")]
    HorizonTooLong {
        /// The cap.
        max: u32,
    },
}

/// A booking length in whole real minutes, `1..=MAX_DURATION_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SlotDuration(u32);

impl SlotDuration {
    /// Parses a minute count.
    pub fn from_minutes(minutes: i64) -> Result<Self, SuggestError> {
        if minutes < 1 {
            return Err(SuggestError::DurationTooShort);
        }
        match u32::try_from(minutes) {
            Ok(m) if m <= MAX_DURATION_MINUTES => Ok(Self(m)),
            _ => Err(SuggestError::DurationTooLong {
                max: MAX_DURATION_MINUTES,
            }),
        }
    }

    /// The duration of an existing booking, rounded up to whole minutes (at least one), as used
    /// for "doctor unavailable" alternatives.
    pub fn covering(length: TimeDelta) -> Result<Self, SuggestError> {
        let whole = length.num_minutes();
        let minutes = if length > TimeDelta::minutes(whole) {
            whole + 1
        } else {
            whole
        };
        Self::from_minutes(minutes.max(1))
    }

    /// Total of an operation type: `max(0, prep) + max(0, op) + max(0, post)` minutes; a total
    /// of zero is [`SuggestError::DurationTooShort`] (the original's `invalid_duration`).
    pub fn for_operation(prep: i32, op: i32, post: i32) -> Result<Self, SuggestError> {
        let total: i64 = [prep, op, post]
            .iter()
            .map(|m| i64::from((*m).max(0)))
            .sum();
        Self::from_minutes(total)
    }

    /// Whole minutes.
    pub fn minutes(&self) -> u32 {
        self.0
    }

    /// As a time delta (real elapsed time).
    pub fn as_delta(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.0))
    }
}

/// How far apart consecutive suggestions of one free interval are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SlotSpacing {
    /// Every grid point (5 minutes apart) that fits is offered.
    #[default]
    Grid,
    /// Offered slots do not overlap: the next one starts at the previous end (rounded up to the
    /// grid).
    BackToBack,
}

/// A slot search: who must be free, for how long, from which local date, over how many days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    /// People (hours apply), resources and patient that must all be free.
    pub participants: Participants,
    /// Slot length in real minutes.
    pub duration: SlotDuration,
    /// First local date searched.
    pub start_date: NaiveDate,
    /// Number of local days searched (`1..=MAX_HORIZON_DAYS`).
    pub days: u32,
    /// Maximum number of slots (`1..=MAX_SUGGEST_LIMIT`).
    pub limit: usize,
    /// Distance between consecutive slots.
    pub spacing: SlotSpacing,
    /// A booking to ignore (the one being moved).
    pub exclude: Option<BookingRef>,
    /// Buffers of the appointment type: a slot's widened interval must be free for the
    /// people and resources (see [`Buffers`]).
    pub buffers: Buffers,
}

impl SlotQuery {
    /// A one-day query for one slot on the grid.
    pub fn new(participants: Participants, duration: SlotDuration, start_date: NaiveDate) -> Self {
        Self {
            participants,
            duration,
            start_date,
            days: 1,
            limit: 1,
            spacing: SlotSpacing::default(),
            exclude: None,
            buffers: Buffers::NONE,
        }
    }

    /// Appointment suggestion: the doctor plus every requested resource (spec §2.2).
    pub fn for_appointment(
        doctor: UserId,
        resources: Vec<ResourceId>,
        duration: SlotDuration,
        start_date: NaiveDate,
    ) -> Self {
        Self::new(
            Participants {
                people: vec![doctor],
                resources,
                patient: None,
            },
            duration,
            start_date,
        )
    }

    /// Operation suggestion: every team member, the room, the devices and the patient
    /// (weak points W4 and W6).
    pub fn for_operation(
        team: &Team,
        room: ResourceId,
        devices: &[ResourceId],
        patient: Option<PatientId>,
        duration: SlotDuration,
        start_date: NaiveDate,
    ) -> Self {
        let mut resources = vec![room];
        resources.extend_from_slice(devices);
        Self::new(
            Participants {
                people: team.members().map(|(_, user)| user).collect(),
                resources,
                patient,
            },
            duration,
            start_date,
        )
    }

    fn validate(&self) -> Result<(), SuggestError> {
        match (self.limit, self.days) {
            (0, _) => Err(SuggestError::LimitTooSmall),
            (l, _) if l > MAX_SUGGEST_LIMIT => Err(SuggestError::LimitTooLarge {
                max: MAX_SUGGEST_LIMIT,
            }),
            (_, 0) => Err(SuggestError::HorizonTooShort),
            (_, d) if d > MAX_HORIZON_DAYS => Err(SuggestError::HorizonTooLong {
                max: MAX_HORIZON_DAYS,
            }),
            _ => Ok(()),
        }
    }
}

/// A suggested `[start, end)`: on the grid, inside working time, free for every participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Slot(Interval);

impl Slot {
    /// First instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.0.start()
    }

    /// End instant (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.0.end()
    }

    /// As an interval.
    pub fn interval(&self) -> Interval {
        self.0
    }

    /// Start in the practice zone (for rendering with its offset).
    pub fn start_local(&self, tz: Tz) -> DateTime<Tz> {
        self.0.start().with_timezone(&tz)
    }

    /// End in the practice zone.
    pub fn end_local(&self, tz: Tz) -> DateTime<Tz> {
        self.0.end().with_timezone(&tz)
    }
}

/// The first free slot of another doctor ("doctor unavailable" alternatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Alternative {
    /// The other doctor.
    pub doctor: UserId,
    /// Their first free slot (`next_available` is its start).
    pub slot: Slot,
}

/// Suggestions of one substitute doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorSlots {
    /// The doctor.
    pub doctor: UserId,
    /// Their slots, chronological, never empty.
    pub slots: Vec<Slot>,
}

/// Why a doctor has no slot in a date range (calendar `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableReason {
    /// No day of the range has practice ∩ doctor hours (also for an inverted range).
    NoHours,
    /// Every day that would have hours is a closed day (public holiday or override).
    Holiday,
    /// The days with hours are absence days (and nothing else blocked).
    Absence,
    /// Breaks blocked the time (and no booking).
    Break,
    /// Bookings blocked the time, or the free gaps are too short.
    Busy,
    /// All working time of the range is before `now` (the original reported past time as
    /// free; Praxi never offers the past).
    Elapsed,
}

impl UnavailableReason {
    /// The API string.
    pub fn as_str(&self) -> &'static str {
        match self {
            UnavailableReason::NoHours => "no_hours",
            UnavailableReason::Holiday => "holiday",
            UnavailableReason::Absence => "absence",
            UnavailableReason::Break => "break",
            UnavailableReason::Busy => "busy",
            UnavailableReason::Elapsed => "elapsed",
        }
    }
}

/// Whether a doctor has a free slot in a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RangeAvailability {
    /// At least one slot exists; the first one.
    Available {
        /// The first free slot of the range.
        first_slot: Slot,
    },
    /// No slot in the range.
    Unavailable {
        /// The dominant reason (scheduling spec §1.6 precedence).
        reason: UnavailableReason,
    },
}

impl RangeAvailability {
    /// True when a slot exists.
    pub fn is_available(&self) -> bool {
        matches!(self, RangeAvailability::Available { .. })
    }

    /// The reason when unavailable.
    pub fn reason(&self) -> Option<UnavailableReason> {
        match self {
            RangeAvailability::Available { .. } => None,
            RangeAvailability::Unavailable { reason } => Some(*reason),
        }
    }
}

/// What an availability scan ran into (spec §1.6 diagnostics).
#[derive(Debug, Default)]
struct Seen {
    /// Some day had practice ∩ doctor hours.
    hours: bool,
    /// Some day was closed (holiday or override).
    closed: bool,
    /// Some day with hours was an absence day.
    absence: bool,
    /// A break blocked open working time.
    breaks: bool,
    /// A booking blocked open working time.
    busy: bool,
    /// Some working time was still ahead of `now`.
    open: bool,
    /// Some day's working time was entirely before `now`.
    elapsed: bool,
}

impl Seen {
    fn reason(&self) -> UnavailableReason {
        if !self.hours && self.closed {
            UnavailableReason::Holiday
        } else if !self.hours {
            UnavailableReason::NoHours
        } else if self.absence && !self.breaks && !self.busy {
            UnavailableReason::Absence
        } else if self.breaks && !self.busy {
            UnavailableReason::Break
        } else if self.elapsed && !self.open {
            UnavailableReason::Elapsed
        } else {
            // Bookings, or gaps too short for the duration.
            UnavailableReason::Busy
        }
    }
}

/// Appends grid slots of `free` starting at or after `earliest` until `out` holds `limit`.
fn collect_slots(
    tz: Tz,
    free: &IntervalSet,
    earliest: DateTime<Utc>,
    duration: TimeDelta,
    spacing: SlotSpacing,
    limit: usize,
    out: &mut Vec<Slot>,
) {
    let first = free.as_slice().partition_point(|f| f.end() <= earliest);
    for f in &free.as_slice()[first..] {
        let mut start = ceil_to_grid(tz, f.start().max(earliest));
        while out.len() < limit {
            let Some(slot) = Interval::starting_at(start, duration) else {
                break;
            };
            if slot.end() > f.end() {
                break;
            }
            out.push(Slot(slot));
            let next = match spacing {
                SlotSpacing::Grid => start.checked_add_signed(TimeDelta::nanoseconds(1)),
                SlotSpacing::BackToBack => Some(slot.end()),
            };
            let Some(next) = next else {
                return;
            };
            start = ceil_to_grid(tz, next);
        }
        if out.len() >= limit {
            return;
        }
    }
}

impl Schedule {
    /// The first instant a slot may start: `now` rounded up to the grid, and not before local
    /// midnight of `start_date`.
    pub fn earliest_start(&self, start_date: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
        let grid_now = ceil_to_grid(self.time_zone(), now);
        local_day(self.time_zone(), start_date).map_or(grid_now, |day| day.start().max(grid_now))
    }

    /// Up to `limit` slots in chronological order over `days` local days from `start_date`,
    /// each on the 5-minute wall-clock grid, not before `now` (rounded up to the grid), inside
    /// practice ∩ hours of every person, outside absences, breaks and busy intervals of every
    /// participant. A past `start_date` is clamped to `now`.
    pub fn suggest(
        &self,
        query: &SlotQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<Slot>, SuggestError> {
        query.validate()?;
        Ok(self.slots(
            &query.participants,
            query.duration,
            query.start_date,
            query.days,
            query.limit,
            query.spacing,
            query.exclude,
            query.buffers,
            now,
        ))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "internal worker behind the validated SlotQuery"
    )]
    fn slots(
        &self,
        participants: &Participants,
        duration: SlotDuration,
        start_date: NaiveDate,
        days: u32,
        limit: usize,
        spacing: SlotSpacing,
        exclude: Option<BookingRef>,
        buffers: Buffers,
        now: DateTime<Utc>,
    ) -> Vec<Slot> {
        let tz = self.time_zone();
        let earliest = self.earliest_start(start_date, now);
        let mut out = Vec::with_capacity(limit.min(MAX_SUGGEST_LIMIT));
        for date in start_date.iter_days().take(days as usize) {
            let Some(day) = local_day(tz, date) else {
                break;
            };
            if day.end() <= earliest {
                continue;
            }
            let free = self.free_time_with_buffers(participants, date, exclude, buffers);
            collect_slots(
                tz,
                &free,
                earliest,
                duration.as_delta(),
                spacing,
                limit,
                &mut out,
            );
            if out.len() >= limit {
                break;
            }
        }
        out
    }

    /// The first free slot of the participants within `days` days from `from_date`.
    pub fn next_available(
        &self,
        participants: &Participants,
        duration: SlotDuration,
        from_date: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Option<Slot> {
        let days = days.min(MAX_HORIZON_DAYS);
        self.slots(
            participants,
            duration,
            from_date,
            days,
            1,
            SlotSpacing::Grid,
            None,
            Buffers::NONE,
            now,
        )
        .into_iter()
        .next()
    }

    /// "Doctor unavailable" alternatives: for each doctor except `requested`, ordered by id,
    /// the first free slot of `duration` within [`ALTERNATIVES_HORIZON_DAYS`] days from
    /// `from_date`; doctors without a slot are omitted.
    pub fn alternatives(
        &self,
        doctors: &[UserId],
        requested: UserId,
        duration: SlotDuration,
        from_date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<Alternative> {
        let mut candidates: Vec<UserId> = doctors
            .iter()
            .copied()
            .filter(|d| *d != requested)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter_map(|doctor| {
                self.next_available(
                    &Participants::doctor(doctor),
                    duration,
                    from_date,
                    ALTERNATIVES_HORIZON_DAYS,
                    now,
                )
                .map(|slot| Alternative { doctor, slot })
            })
            .collect()
    }

    /// Doctor substitution (spec §2.1 step 2): runs `query` for every doctor in `doctors`
    /// except `primary` (ordered by id, people of the query replaced by that doctor, resources
    /// and patient kept) and returns those with at least one slot, sorted by their first slot
    /// (ties keep id order).
    pub fn substitutes(
        &self,
        primary: UserId,
        doctors: &[UserId],
        query: &SlotQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<DoctorSlots>, SuggestError> {
        query.validate()?;
        let mut candidates: Vec<UserId> =
            doctors.iter().copied().filter(|d| *d != primary).collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut out: Vec<DoctorSlots> = Vec::new();
        for doctor in candidates {
            let participants = Participants {
                people: vec![doctor],
                ..query.participants.clone()
            };
            let slots = self.slots(
                &participants,
                query.duration,
                query.start_date,
                query.days,
                query.limit,
                query.spacing,
                query.exclude,
                query.buffers,
                now,
            );
            if !slots.is_empty() {
                out.push(DoctorSlots { doctor, slots });
            }
        }
        out.sort_by_key(|d| d.slots.first().map(Slot::start));
        Ok(out)
    }

    /// Calendar availability of one doctor over local dates `from..=to` (at most
    /// [`MAX_HORIZON_DAYS`] days): the first free slot of `duration` not before `now`, or the
    /// reason with the precedence of spec §1.6: no hours → absence (nothing else seen) →
    /// break (no booking seen) → busy; time entirely before `now` is `elapsed`.
    pub fn availability_for_range(
        &self,
        doctor: UserId,
        from: NaiveDate,
        to: NaiveDate,
        duration: SlotDuration,
        now: DateTime<Utc>,
    ) -> RangeAvailability {
        let tz = self.time_zone();
        let participants = Participants::doctor(doctor);
        let earliest = self.earliest_start(from, now);
        let past = Interval::new(DateTime::<Utc>::MIN_UTC, earliest).ok();
        let mut seen = Seen::default();
        let mut slot = Vec::with_capacity(1);
        for date in from
            .iter_days()
            .take_while(|d| *d <= to)
            .take(MAX_HORIZON_DAYS as usize)
        {
            let plan = self.day_plan(&participants, date, None, Buffers::NONE);
            if plan.working.is_empty() {
                seen.closed |= self.closed_on(date).is_some();
                continue;
            }
            seen.hours = true;
            if plan.absent {
                seen.absence = true;
                continue;
            }
            let open = match past {
                Some(past) => plan.working.remove(past),
                None => plan.working.clone(),
            };
            if open.is_empty() {
                seen.elapsed = true;
                continue;
            }
            seen.open = true;
            seen.breaks |= !open.intersection(&plan.breaks).is_empty();
            seen.busy |= !open.intersection(&plan.busy).is_empty();
            let free = open.difference(&plan.breaks).difference(&plan.busy);
            collect_slots(
                tz,
                &free,
                earliest,
                duration.as_delta(),
                SlotSpacing::Grid,
                1,
                &mut slot,
            );
            if let Some(first_slot) = slot.first() {
                return RangeAvailability::Available {
                    first_slot: *first_slot,
                };
            }
        }
        RangeAvailability::Unavailable {
            reason: seen.reason(),
        }
    }

    /// [`Schedule::availability_for_range`] for several doctors, in the given order.
    pub fn doctors_availability_for_range(
        &self,
        doctors: &[UserId],
        from: NaiveDate,
        to: NaiveDate,
        duration: SlotDuration,
        now: DateTime<Utc>,
    ) -> Vec<(UserId, RangeAvailability)> {
        doctors
            .iter()
            .map(|d| (*d, self.availability_for_range(*d, from, to, duration, now)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::scheduling::is_on_grid;
    use crate::scheduling::testkit::*;

    fn mon(h: u32, m: u32) -> At {
        (monday(), h, m)
    }

    /// Well before the catalogue Monday, so `now` does not clip.
    fn early() -> DateTime<Utc> {
        utc(2030, 1, 1, 0, 0)
    }

    fn starts(slots: &[Slot]) -> Vec<DateTime<Utc>> {
        slots.iter().map(Slot::start).collect()
    }

    fn query(doctor: UserId, duration: i64, start_date: NaiveDate) -> SlotQuery {
        SlotQuery::for_appointment(doctor, Vec::new(), minutes(duration), start_date)
    }

    // ---- 8.2 Suggestions --------------------------------------------------------------------

    #[test]
    fn sg_26_first_slot_follows_the_existing_appointment() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (9, 0), (12, 0))
            .appointment(1, A, P, mon(9, 0), mon(9, 30), &[])
            .build();
        let slots = schedule.suggest(&query(A, 30, monday()), early())?;
        assert_eq!(slots, [Slot(iv(mon(9, 30), mon(10, 0)))]);
        Ok(())
    }

    #[test]
    fn sg_27_28_today_starts_at_now_rounded_up_to_the_grid() -> TestResult {
        let tuesday = date(2030, 1, 15);
        let schedule = Fixture::berlin()
            .practice(TUE, (9, 0), (17, 0))
            .doctor_hours(A, TUE, (9, 0), (17, 0))
            .build();
        let cases = [
            ("sg_27 now on the grid", (15, 0, 0), (15, 0)),
            ("sg_28 now 15:02:10", (15, 2, 10), (15, 5)),
        ];
        for (name, (h, m, s), (eh, em)) in cases {
            let now = crate::scheduling::local_to_utc(
                BERLIN,
                tuesday.and_hms_opt(h, m, s).ok_or("time")?,
            );
            let slots = schedule.suggest(&query(A, 30, tuesday), now)?;
            assert_eq!(starts(&slots), [at((tuesday, eh, em))], "{name}");
        }
        Ok(())
    }

    #[test]
    fn sg_29_breaks_and_bookings_are_skipped_and_long_durations_find_nothing() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (9, 0), (17, 0))
            .doctor_hours(A, MON, (9, 0), (17, 0))
            .appointment(1, A, P, mon(9, 0), mon(12, 0), &[])
            .practice_break(monday(), (12, 0), (13, 0))
            .appointment(2, A, Q, mon(13, 0), mon(14, 0), &[])
            .doctor_break(A, monday(), (15, 0), (16, 0))
            .build();
        let slots = schedule.suggest(&query(A, 30, monday()), early())?;
        assert_eq!(slots, [Slot(iv(mon(14, 0), mon(14, 30)))]);
        assert!(
            schedule
                .suggest(&query(A, 90, monday()), early())?
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn sg_30_requested_resource_busy_with_another_doctor_delays_the_slot() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (10, 0), (12, 0))
            .doctor_hours(B, MON, (10, 0), (12, 0))
            .appointment(1, A, P, mon(10, 0), mon(10, 30), &[R])
            .build();
        let q = SlotQuery::for_appointment(B, vec![R], minutes(30), monday());
        assert_eq!(
            schedule.suggest(&q, early())?,
            [Slot(iv(mon(10, 30), mon(11, 0)))]
        );
        Ok(())
    }

    #[test]
    fn sg_31_absent_doctor_gets_substitutes_sorted_by_first_slot() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (17, 0))
            .doctor_hours(A, MON, (9, 0), (17, 0))
            .doctor_hours(B, MON, (9, 0), (17, 0))
            .doctor_hours(C, MON, (8, 0), (17, 0))
            .absence(1, A, monday(), monday())
            .build();
        let q = query(A, 30, monday());
        assert!(schedule.suggest(&q, early())?.is_empty());
        let substitutes = schedule.substitutes(A, &[C, B, A], &q, early())?;
        let found: Vec<_> = substitutes
            .iter()
            .map(|s| (s.doctor, starts(&s.slots)))
            .collect();
        assert_eq!(found, [(C, vec![at(mon(8, 0))]), (B, vec![at(mon(9, 0))])]);
        Ok(())
    }

    #[test]
    fn sg_33_36_invalid_limits_and_durations_are_rejected() {
        let mut q = query(A, 30, monday());
        q.limit = 0;
        assert_eq!(schedule_err(&q), SuggestError::LimitTooSmall);
        q.limit = 1_000_000;
        assert_eq!(
            schedule_err(&q),
            SuggestError::LimitTooLarge {
                max: MAX_SUGGEST_LIMIT
            }
        );
        q.limit = 1;
        q.days = MAX_HORIZON_DAYS + 1;
        assert_eq!(
            schedule_err(&q),
            SuggestError::HorizonTooLong {
                max: MAX_HORIZON_DAYS
            }
        );
        for bad in [0, -5] {
            assert_eq!(
                SlotDuration::from_minutes(bad),
                Err(SuggestError::DurationTooShort)
            );
        }
    }

    fn schedule_err(q: &SlotQuery) -> SuggestError {
        Fixture::berlin()
            .build()
            .suggest(q, early())
            .expect_err("invalid query")
    }

    #[test]
    fn sg_35_one_window_yields_as_many_slots_as_the_limit() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (9, 0), (12, 0))
            .doctor_hours(A, MON, (9, 0), (12, 0))
            .build();
        let mut q = query(A, 30, monday());
        q.limit = 5;
        let grid = schedule.suggest(&q, early())?;
        let expected: Vec<_> = [(9, 0), (9, 5), (9, 10), (9, 15), (9, 20)]
            .map(|(h, m)| at(mon(h, m)))
            .into();
        assert_eq!(starts(&grid), expected);
        q.spacing = SlotSpacing::BackToBack;
        let back_to_back = schedule.suggest(&q, early())?;
        let expected: Vec<_> = [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0)]
            .map(|(h, m)| at(mon(h, m)))
            .into();
        assert_eq!(starts(&back_to_back), expected);
        Ok(())
    }

    #[test]
    fn sg_37_past_start_date_never_yields_past_slots() -> TestResult {
        let schedule = Fixture::berlin()
            .open_every_day(&[A], (7, 0), (19, 0))
            .build();
        let now = at(mon(10, 3));
        let mut q = query(A, 30, monday() - Duration::days(1));
        q.days = 3;
        let slots = schedule.suggest(&q, now)?;
        assert_eq!(starts(&slots), [at(mon(10, 5))]);
        Ok(())
    }

    #[test]
    fn sg_38_duration_longer_than_every_window_finds_nothing() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (8, 0), (16, 0))
            .build();
        assert!(
            schedule
                .suggest(&query(A, 600, monday()), early())?
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn sg_39_40_operations_block_and_cancelled_appointments_do_not() -> TestResult {
        let base = || {
            Fixture::berlin()
                .practice(MON, (9, 0), (12, 0))
                .doctor_hours(A, MON, (9, 0), (12, 0))
        };
        let with_operation = base()
            .operation(1, team(A, None, None), P, R, &[], mon(9, 0), mon(9, 50))
            .build();
        let with_cancelled = base()
            .cancelled_appointment(2, A, P, mon(9, 0), mon(9, 30))
            .build();
        let q = query(A, 30, monday());
        assert_eq!(
            starts(&with_operation.suggest(&q, early())?),
            [at(mon(9, 50))]
        );
        assert_eq!(
            starts(&with_cancelled.suggest(&q, early())?),
            [at(mon(9, 0))]
        );
        Ok(())
    }

    #[test]
    fn sg_41_grid_is_aligned_to_the_wall_clock_not_the_window_start() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (12, 0))
            .doctor_hours(A, MON, (9, 2), (12, 0))
            .build();
        assert_eq!(
            starts(&schedule.suggest(&query(A, 30, monday()), early())?),
            [at(mon(9, 5))]
        );
        Ok(())
    }

    #[test]
    fn av_24_dst_days_render_the_right_offset_and_keep_the_wall_clock_grid() -> TestResult {
        let spring = date(2026, 3, 29);
        let autumn = date(2026, 10, 25);
        let schedule = Fixture::berlin()
            .practice(SUN, (0, 0), (12, 0))
            .doctor_hours(A, SUN, (0, 0), (6, 0))
            .doctor_hours(A, SUN, (8, 0), (12, 0))
            .build();
        let now = utc(2026, 1, 1, 0, 0);

        // Morning window 08:00–12:00: local 08:00 with the day's (post-change) offset.
        for (day, offset, utc_start) in [
            (spring, "+02:00", utc(2026, 3, 29, 6, 0)),
            (autumn, "+01:00", utc(2026, 10, 25, 7, 0)),
        ] {
            let mut q = query(A, 30, day);
            q.limit = 50;
            q.spacing = SlotSpacing::BackToBack;
            let slots = schedule.suggest(&q, now)?;
            let morning = slots
                .iter()
                .find(|s| s.start() >= utc_start)
                .ok_or("no morning slot")?;
            assert_eq!(morning.start(), utc_start);
            assert!(morning.start_local(BERLIN).to_rfc3339().ends_with(offset));
        }

        // Night window 00:00–06:00 across the spring change, hour-long back-to-back slots.
        let mut q = query(A, 60, spring);
        q.limit = 10;
        q.spacing = SlotSpacing::BackToBack;
        let night: Vec<String> = schedule
            .suggest(&q, now)?
            .iter()
            .take_while(|s| s.start() < utc(2026, 3, 29, 6, 0))
            .map(|s| s.start_local(BERLIN).to_rfc3339())
            .collect();
        assert_eq!(
            night,
            [
                "2026-03-29T00:00:00+01:00",
                "2026-03-29T01:00:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-29T04:00:00+02:00",
                "2026-03-29T05:00:00+02:00",
            ]
        );

        // Autumn: the repeated hour is offered twice, each slot 60 real minutes.
        let mut q = query(A, 60, autumn);
        q.limit = 10;
        q.spacing = SlotSpacing::BackToBack;
        let slots = schedule.suggest(&q, now)?;
        let night: Vec<String> = slots
            .iter()
            .take_while(|s| s.start() < utc(2026, 10, 25, 7, 0))
            .map(|s| s.start_local(BERLIN).to_rfc3339())
            .collect();
        assert_eq!(
            night,
            [
                "2026-10-25T00:00:00+02:00",
                "2026-10-25T01:00:00+02:00",
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:00:00+01:00",
                "2026-10-25T03:00:00+01:00",
                "2026-10-25T04:00:00+01:00",
                "2026-10-25T05:00:00+01:00",
            ]
        );
        assert!(
            slots
                .iter()
                .all(|s| s.interval().duration() == Duration::hours(1))
        );
        Ok(())
    }

    #[test]
    fn op_70_operation_suggestion_needs_team_room_and_devices_free() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (10, 0), (12, 0))
            .doctor_hours(A, MON, (10, 0), (12, 0))
            .doctor_hours(B, MON, (10, 0), (12, 0))
            .operation(1, team(A, None, None), P, R, &[V], mon(10, 0), mon(10, 50))
            .build();
        let duration = SlotDuration::for_operation(10, 30, 10)?;
        let mut q =
            SlotQuery::for_operation(&team(B, None, None), R, &[V], Some(Q), duration, monday());
        q.limit = 3;
        q.spacing = SlotSpacing::BackToBack;
        assert_eq!(
            schedule.suggest(&q, early())?,
            [Slot(iv(mon(10, 50), mon(11, 40)))]
        );
        // The patient is part of the search (W6): a busy patient moves the slot.
        let patient_busy = Fixture::berlin()
            .practice(MON, (10, 0), (12, 0))
            .doctor_hours(B, MON, (10, 0), (12, 0))
            .appointment(2, C, Q, mon(10, 0), mon(10, 30), &[])
            .build();
        assert_eq!(
            starts(&patient_busy.suggest(&q, early())?),
            [at(mon(10, 30))]
        );
        Ok(())
    }

    #[test]
    fn suggestions_span_several_days_in_chronological_order() -> TestResult {
        let schedule = Fixture::berlin()
            .open_every_day(&[A], (9, 0), (10, 0))
            .build();
        let mut q = query(A, 60, monday());
        q.days = 14;
        q.limit = 20;
        let slots = schedule.suggest(&q, early())?;
        assert_eq!(slots.len(), 14);
        assert!(slots.windows(2).all(|w| w[0].start() < w[1].start()));
        Ok(())
    }

    #[test]
    fn moving_a_booking_may_reuse_its_own_time() -> TestResult {
        let schedule = Fixture::berlin()
            .practice(MON, (9, 0), (10, 0))
            .doctor_hours(A, MON, (9, 0), (10, 0))
            .appointment(1, A, P, mon(9, 0), mon(10, 0), &[])
            .build();
        let mut q = query(A, 60, monday());
        assert!(schedule.suggest(&q, early())?.is_empty());
        q.exclude = Some(BookingRef::Appointment(crate::scheduling::AppointmentId(1)));
        assert_eq!(starts(&schedule.suggest(&q, early())?), [at(mon(9, 0))]);
        Ok(())
    }

    // ---- 8.7 Views ---------------------------------------------------------------------------

    #[test]
    fn vw_106_calendar_availability_reports_the_dominant_reason() {
        let day = monday();
        let base = || {
            Fixture::berlin()
                .practice(MON, (9, 0), (10, 0))
                .doctor_hours(A, MON, (9, 0), (10, 0))
        };
        let cases: Vec<(&str, Schedule, Option<UnavailableReason>)> = vec![
            ("free", base().build(), None),
            (
                "no hours",
                Fixture::berlin().practice(MON, (9, 0), (10, 0)).build(),
                Some(UnavailableReason::NoHours),
            ),
            (
                "absent",
                base().absence(1, A, day, day).build(),
                Some(UnavailableReason::Absence),
            ),
            (
                "break",
                base().practice_break(day, (9, 0), (9, 45)).build(),
                Some(UnavailableReason::Break),
            ),
            (
                "busy",
                base()
                    .practice_break(day, (9, 0), (9, 30))
                    .appointment(1, A, P, mon(9, 30), mon(10, 0), &[])
                    .build(),
                Some(UnavailableReason::Busy),
            ),
            (
                "operation fills the window (W4)",
                base()
                    .operation(2, team(B, Some(A), None), P, R, &[], mon(9, 0), mon(10, 0))
                    .build(),
                Some(UnavailableReason::Busy),
            ),
        ];
        let duration = minutes(30);
        for (name, schedule, expected) in cases {
            let availability = schedule.availability_for_range(A, day, day, duration, early());
            assert_eq!(availability.reason(), expected, "{name}");
            assert_eq!(availability.is_available(), expected.is_none(), "{name}");
        }
        // Inverted range and an elapsed day.
        let schedule = base().build();
        assert_eq!(
            schedule
                .availability_for_range(A, day, day - Duration::days(1), duration, early())
                .reason(),
            Some(UnavailableReason::NoHours)
        );
        assert_eq!(
            schedule
                .availability_for_range(A, day, day, duration, at(mon(11, 0)))
                .reason(),
            Some(UnavailableReason::Elapsed)
        );
        let all = schedule.doctors_availability_for_range(&[A, B], day, day, duration, early());
        let reasons: Vec<_> = all.iter().map(|(d, a)| (*d, a.reason())).collect();
        assert_eq!(reasons, [(A, None), (B, Some(UnavailableReason::NoHours))]);
    }

    #[test]
    fn vw_110_full_horizon_without_hours_terminates_with_nothing() -> TestResult {
        let schedule = Fixture::berlin().build();
        let mut q = query(A, 30, monday());
        q.days = MAX_HORIZON_DAYS;
        q.limit = MAX_SUGGEST_LIMIT;
        let started = std::time::Instant::now();
        assert!(schedule.suggest(&q, early())?.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        Ok(())
    }

    // ---- Properties ----------------------------------------------------------------------------

    mod properties {
        use chrono::{NaiveTime, Weekday};
        use proptest::prelude::*;

        use super::*;
        use crate::scheduling::{
            AppointmentId, AppointmentRequest, BookingState, Break, BreakId, BusyInterval,
            DoctorHours, Occupant, PersonRole, RequestedResource, ResourceKind, ScheduleInput,
            WeeklyWindow, local_date, local_to_utc, local_window,
        };

        /// A generated scenario: hours, absences, breaks and bookings around a start date.
        #[derive(Debug, Clone)]
        struct Scenario {
            start_date: NaiveDate,
            days: u32,
            input: ScheduleInput,
            with_room: bool,
            duration: i64,
            limit: usize,
            spacing: SlotSpacing,
            now: DateTime<Utc>,
        }

        /// Start dates: a Berlin spring DST week, an autumn DST week, an ordinary week.
        fn start_dates() -> impl Strategy<Value = NaiveDate> {
            prop_oneof![
                Just(date(2026, 3, 27)),
                Just(date(2026, 10, 23)),
                Just(date(2030, 1, 14)),
            ]
        }

        fn minute_of_day(m: u32) -> NaiveTime {
            NaiveTime::from_num_seconds_from_midnight_opt(m * 60, 0).unwrap_or(NaiveTime::MIN)
        }

        /// `(start minute, length)` within one day, any minute (not only the grid).
        fn window() -> impl Strategy<Value = (u32, u32)> {
            (0u32..1380, 10u32..900).prop_map(|(s, l)| (s, (s + l).min(1439)))
        }

        fn weekly(windows: Vec<(u8, (u32, u32), bool)>) -> Vec<WeeklyWindow> {
            windows
                .into_iter()
                .filter_map(|(wd, (s, e), active)| {
                    Some(WeeklyWindow {
                        weekday: Weekday::try_from(wd % 7).ok()?,
                        start: minute_of_day(s),
                        end: minute_of_day(e),
                        active,
                    })
                })
                .collect()
        }

        prop_compose! {
            fn scenario()(
                start_date in start_dates(),
                days in 1u32..6,
                practice in prop::collection::vec((0u8..7, window(), prop::bool::weighted(0.9)), 6..16),
                doctor in prop::collection::vec((0u8..7, window(), prop::bool::weighted(0.9)), 6..16),
                absences in prop::collection::vec((0i64..6, 0i64..2), 0..2),
                breaks in prop::collection::vec((0i64..6, prop::option::of(0u8..2), window()), 0..5),
                busy in prop::collection::vec((0i64..6 * 1440, 5i64..240, 0u8..6, prop::bool::weighted(0.8)), 0..40),
                with_room in any::<bool>(),
                duration in 5i64..120,
                limit in 1usize..=MAX_SUGGEST_LIMIT,
                back_to_back in any::<bool>(),
                now_offset in -2880i64..720,
            ) -> Scenario {
                let mut input = ScheduleInput::new(BERLIN);
                input.practice_hours = weekly(practice);
                // B works the same hours as A (for team searches) but has other bookings.
                input.doctor_hours = weekly(doctor)
                    .into_iter()
                    .flat_map(|window| [A, B].map(|doctor| DoctorHours { doctor, window }))
                    .collect();
                input.absences = absences
                    .into_iter()
                    .enumerate()
                    .map(|(i, (from, len))| crate::scheduling::Absence {
                        id: crate::scheduling::AbsenceId(i as i64 + 1),
                        doctor: A,
                        start_date: start_date + Duration::days(from),
                        end_date: start_date + Duration::days(from + len),
                        active: true,
                    })
                    .collect();
                input.breaks = breaks
                    .into_iter()
                    .enumerate()
                    .map(|(i, (day, who, (s, e)))| Break {
                        id: BreakId(i as i64 + 1),
                        doctor: who.map(|w| if w == 0 { A } else { B }),
                        date: start_date + Duration::days(day),
                        start: minute_of_day(s),
                        end: minute_of_day(e),
                        active: true,
                    })
                    .collect();
                let origin = local_to_utc(BERLIN, start_date.and_time(NaiveTime::MIN));
                for (i, (offset, len, target, active)) in busy.into_iter().enumerate() {
                    let start = origin + Duration::minutes(offset);
                    let Some(interval) = Interval::starting_at(start, Duration::minutes(len)) else {
                        continue;
                    };
                    let occupant = match target {
                        0 => Occupant::Person { user: A, role: PersonRole::AppointmentDoctor },
                        1 => Occupant::Person { user: A, role: PersonRole::Assistant },
                        2 => Occupant::Person { user: B, role: PersonRole::AppointmentDoctor },
                        3 => Occupant::Resource(R),
                        4 => Occupant::Patient(P),
                        _ => Occupant::Resource(V),
                    };
                    input.busy.push(BusyInterval {
                        interval,
                        booking: BookingRef::Appointment(AppointmentId(i as i32 + 1)),
                        occupant,
                        state: if active { BookingState::Active } else { BookingState::Cancelled },
                    });
                }
                Scenario {
                    start_date,
                    days,
                    input,
                    with_room,
                    duration,
                    limit,
                    spacing: if back_to_back { SlotSpacing::BackToBack } else { SlotSpacing::Grid },
                    now: origin + Duration::minutes(now_offset) + Duration::seconds(now_offset % 60),
                }
            }
        }

        impl Scenario {
            fn query(&self) -> SlotQuery {
                let resources = if self.with_room { vec![R] } else { Vec::new() };
                let mut q = SlotQuery::for_appointment(
                    A,
                    resources,
                    minutes(self.duration),
                    self.start_date,
                );
                q.days = self.days;
                q.limit = self.limit;
                q.spacing = self.spacing;
                q
            }

            fn request(&self, slot: &Slot) -> AppointmentRequest {
                AppointmentRequest {
                    buffers: crate::scheduling::Buffers::NONE,
                    id: None,
                    doctor: A,
                    patient: Q,
                    interval: slot.interval(),
                    resources: if self.with_room {
                        vec![RequestedResource {
                            id: R,
                            kind: ResourceKind::Room,
                        }]
                    } else {
                        Vec::new()
                    },
                }
            }

            /// Naive oracle: active windows of a weekday merged by sorting, resolved per date.
            fn covered(&self, windows: &[WeeklyWindow], slot: &Slot) -> bool {
                let day = local_date(BERLIN, slot.start());
                let mut list: Vec<(NaiveTime, NaiveTime)> = windows
                    .iter()
                    .filter(|w| w.active && w.weekday == day.weekday() && w.start < w.end)
                    .map(|w| (w.start, w.end))
                    .collect();
                list.sort();
                let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::new();
                for (s, e) in list {
                    match merged.last_mut() {
                        Some(last) if s <= last.1 => last.1 = last.1.max(e),
                        _ => merged.push((s, e)),
                    }
                }
                merged.iter().any(|(s, e)| {
                    local_window(BERLIN, day, *s, *e).is_some_and(|w| w.contains(&slot.interval()))
                })
            }
        }

        use chrono::Datelike;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(192))]

            #[test]
            fn suggested_slots_are_on_grid_inside_hours_and_free(s in scenario()) {
                let schedule = Schedule::new(s.input.clone());
                let slots = schedule.suggest(&s.query(), s.now).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(slots.len() <= s.limit);
                let earliest = ceil_to_grid(BERLIN, s.now);
                let doctor_windows: Vec<WeeklyWindow> = s
                    .input
                    .doctor_hours
                    .iter()
                    .filter(|h| h.doctor == A)
                    .map(|h| h.window)
                    .collect();
                for w in slots.windows(2) {
                    prop_assert!(w[0].start() < w[1].start(), "chronological");
                }
                for slot in &slots {
                    // Grid, real duration, not in the past, inside the horizon.
                    prop_assert!(is_on_grid(BERLIN, slot.start()));
                    prop_assert_eq!(slot.interval().duration(), Duration::minutes(s.duration));
                    prop_assert!(slot.start() >= earliest);
                    let day = local_date(BERLIN, slot.start());
                    prop_assert!(day >= s.start_date && day < s.start_date + Duration::days(i64::from(s.days)));
                    // Inside practice ∩ doctor hours (independent merge + resolution).
                    prop_assert!(s.covered(&s.input.practice_hours, slot), "practice hours");
                    prop_assert!(s.covered(&doctor_windows, slot), "doctor hours");
                    // No active busy interval of the doctor (any role) or the room overlaps.
                    for b in &s.input.busy {
                        let relevant = match b.occupant {
                            Occupant::Person { user, .. } => user == A,
                            Occupant::Resource(r) => s.with_room && r == R,
                            Occupant::Patient(_) => false,
                        };
                        if relevant && b.state == BookingState::Active {
                            prop_assert!(!b.interval.overlaps(&slot.interval()), "busy {:?}", b);
                        }
                    }
                    // No break of the doctor or the practice, no absence day.
                    for b in &s.input.breaks {
                        if b.doctor.is_none_or(|d| d == A)
                            && let Some(bi) = local_window(BERLIN, b.date, b.start, b.end)
                        {
                            prop_assert!(!bi.overlaps(&slot.interval()), "break {:?}", b);
                        }
                    }
                    prop_assert!(!s.input.absences.iter().any(|a| a.covers(day)), "absence");
                    // The conflict checker agrees.
                    prop_assert_eq!(schedule.check_appointment(&s.request(slot)), Ok(()));
                }
            }

            #[test]
            fn sweep_finds_exactly_the_grid_points_the_checker_accepts(s in scenario()) {
                let schedule = Schedule::new(s.input.clone());
                let mut q = s.query();
                q.limit = MAX_SUGGEST_LIMIT;
                q.spacing = SlotSpacing::Grid;
                let slots = schedule.suggest(&q, s.now).map_err(|e| TestCaseError::fail(e.to_string()))?;
                // Brute force: every grid point of the horizon, tested by the conflict checker.
                let mut expected = Vec::new();
                let earliest = schedule.earliest_start(s.start_date, s.now);
                'days: for date in s.start_date.iter_days().take(s.days as usize) {
                    let Some(day) = crate::scheduling::local_day(BERLIN, date) else { break };
                    let mut start = ceil_to_grid(BERLIN, day.start().max(earliest));
                    while start < day.end() {
                        if let Some(interval) = Interval::starting_at(start, Duration::minutes(s.duration)) {
                            let slot = Slot(interval);
                            if schedule.check_appointment(&s.request(&slot)).is_ok() {
                                expected.push(slot);
                                if expected.len() == MAX_SUGGEST_LIMIT {
                                    break 'days;
                                }
                            }
                        }
                        start = ceil_to_grid(BERLIN, start + Duration::nanoseconds(1));
                    }
                }
                prop_assert_eq!(slots, expected);
            }

            #[test]
            fn booking_suggestions_one_after_another_never_overlaps(s in scenario()) {
                let mut schedule = Schedule::new(s.input.clone());
                let mut q = s.query();
                q.limit = 1;
                let mut booked: Vec<Interval> = Vec::new();
                for n in 0..25 {
                    let slots = schedule.suggest(&q, s.now).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let Some(slot) = slots.first() else { break };
                    prop_assert_eq!(schedule.check_appointment(&s.request(slot)), Ok(()));
                    for other in &booked {
                        prop_assert!(!other.overlaps(&slot.interval()), "{:?} overlaps {:?}", slot, other);
                    }
                    booked.push(slot.interval());
                    let resources = if s.with_room { vec![R] } else { Vec::new() };
                    for busy in BusyInterval::for_appointment(
                        AppointmentId(10_000 + n), slot.interval(), BookingState::Active, A, Q, &resources,
                    ) {
                        schedule.add_busy(busy);
                    }
                }
            }

            #[test]
            fn operation_slots_keep_team_room_devices_and_patient_free(s in scenario()) {
                let schedule = Schedule::new(s.input.clone());
                let team = crate::scheduling::Team::new(A, Some(B), None)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut q = SlotQuery::for_operation(&team, R, &[V], Some(P), minutes(s.duration), s.start_date);
                q.days = s.days;
                q.limit = s.limit;
                q.spacing = s.spacing;
                let slots = schedule.suggest(&q, s.now).map_err(|e| TestCaseError::fail(e.to_string()))?;
                for slot in &slots {
                    let request = crate::scheduling::OperationRequest {
                        id: None,
                        patient: P,
                        team,
                        room: R,
                        devices: vec![V],
                        interval: slot.interval(),
                    };
                    prop_assert_eq!(schedule.check_operation(&request), Ok(()));
                }
            }

            #[test]
            fn dst_days_have_no_slot_in_the_gap_and_real_durations(
                duration in 5i64..120,
                spring in any::<bool>(),
                limit in 1usize..=MAX_SUGGEST_LIMIT,
            ) {
                let day = if spring { date(2026, 3, 29) } else { date(2026, 10, 25) };
                let schedule = Fixture::berlin()
                    .practice(Weekday::Sun, (0, 0), (23, 59))
                    .doctor_hours(A, Weekday::Sun, (0, 0), (23, 59))
                    .build();
                let mut q = SlotQuery::for_appointment(A, Vec::new(), minutes(duration), day);
                q.limit = limit;
                q.spacing = SlotSpacing::BackToBack;
                let slots = schedule
                    .suggest(&q, utc(2026, 1, 1, 0, 0))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(!slots.is_empty() && slots.len() <= limit);
                for w in slots.windows(2) {
                    prop_assert!(w[0].end() <= w[1].start());
                }
                for slot in &slots {
                    let local = slot.start_local(BERLIN).naive_local();
                    prop_assert_eq!(local.date(), day);
                    if spring {
                        prop_assert!(!(time((2, 0))..time((3, 0))).contains(&local.time()));
                    }
                    prop_assert_eq!(slot.end() - slot.start(), Duration::minutes(duration));
                    prop_assert!(is_on_grid(BERLIN, slot.start()));
                }
            }
        }
    }
}
