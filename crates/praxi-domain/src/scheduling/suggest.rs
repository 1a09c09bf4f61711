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
use super::model::{BookingRef, Team};
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
        if !self.hours {
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
                SlotSpacing::Grid => start + TimeDelta::nanoseconds(1),
                SlotSpacing::BackToBack => slot.end(),
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
            let free = self.free_time(participants, date, exclude);
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
            let plan = self.day_plan(&participants, date, None);
            if plan.working.is_empty() {
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
