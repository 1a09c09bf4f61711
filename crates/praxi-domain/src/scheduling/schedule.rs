//! The indexed schedule: hours merged per weekday, absences and breaks per person, busy
//! intervals per occupant sorted by start. Built once per request from a [`ScheduleInput`];
//! every query is a sweep over these sorted lists.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta};
use chrono_tz::Tz;

use super::holidays::ClosedDay;
use super::ids::{PatientId, ResourceId, UserId};
use super::interval::{Interval, IntervalSet};
use super::model::{
    Absence, BookingRef, BookingState, Break, Buffers, BusyInterval, Occupant, PersonRole,
    ScheduleInput, WeeklyWindow,
};
use super::zone::{local_day, local_window};

/// Who has to be free for a booking or a slot search.
///
/// People are bound by practice hours ∩ their own hours, absences and breaks; resources and the
/// patient only by their busy intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Participants {
    /// Doctors / team members (each needs hours and must not be absent, on break or busy).
    pub people: Vec<UserId>,
    /// Rooms and devices (all needed at the same time).
    pub resources: Vec<ResourceId>,
    /// The patient, if they must be free as well.
    pub patient: Option<PatientId>,
}

impl Participants {
    /// One doctor, nothing else.
    pub fn doctor(doctor: UserId) -> Self {
        Self {
            people: vec![doctor],
            ..Self::default()
        }
    }
}

/// A merged wall-clock window `[start, end)` of one weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalWindow {
    pub(crate) start: NaiveTime,
    pub(crate) end: NaiveTime,
}

/// Active windows, sorted, with touching/overlapping ones merged.
fn merge_windows(mut windows: Vec<LocalWindow>) -> Vec<LocalWindow> {
    windows.retain(|w| w.start < w.end);
    windows.sort_unstable_by_key(|w| (w.start, w.end));
    let mut merged: Vec<LocalWindow> = Vec::with_capacity(windows.len());
    for w in windows {
        match merged.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => merged.push(w),
        }
    }
    merged
}

/// Intersection of two merged window lists.
fn intersect_windows(a: &[LocalWindow], b: &[LocalWindow]) -> Vec<LocalWindow> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let (start, end) = (x.start.max(y.start), x.end.min(y.end));
        if start < end {
            out.push(LocalWindow { start, end });
        }
        if x.end <= y.end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

type WeekWindows = [Vec<LocalWindow>; 7];

fn group_by_weekday<'a>(windows: impl Iterator<Item = &'a WeeklyWindow>) -> WeekWindows {
    let mut week: WeekWindows = Default::default();
    for w in windows.filter(|w| w.active) {
        week[w.weekday.num_days_from_monday() as usize].push(LocalWindow {
            start: w.start,
            end: w.end,
        });
    }
    week.map(merge_windows)
}

/// Index key of a busy list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OccupantKey {
    Person(UserId),
    Patient(PatientId),
    Resource(ResourceId),
}

/// One busy interval in an occupant's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BusyEntry {
    pub(crate) interval: Interval,
    pub(crate) booking: BookingRef,
    /// The role of a person occupant (`None` for patients and resources).
    pub(crate) role: Option<PersonRole>,
}

/// Busy entries of one occupant sorted by `(start, booking)`, with the longest duration so a
/// window query is a binary search plus a short scan.
#[derive(Debug, Clone, Default)]
struct BusyList {
    entries: Vec<BusyEntry>,
    max_len: TimeDelta,
}

impl BusyList {
    fn sort_key(e: &BusyEntry) -> (chrono::DateTime<chrono::Utc>, BookingRef) {
        (e.interval.start(), e.booking)
    }

    fn insert(&mut self, entry: BusyEntry) {
        let key = Self::sort_key(&entry);
        let idx = self.entries.partition_point(|e| Self::sort_key(e) <= key);
        self.entries.insert(idx, entry);
        self.max_len = self.max_len.max(entry.interval.duration());
    }

    /// Entries overlapping `window`, in start order.
    fn overlapping<'a>(&'a self, window: &'a Interval) -> impl Iterator<Item = &'a BusyEntry> + 'a {
        let earliest_start = window
            .start()
            .checked_sub_signed(self.max_len)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let from = self
            .entries
            .partition_point(|e| e.interval.start() < earliest_start);
        self.entries[from..]
            .iter()
            .take_while(move |e| e.interval.start() < window.end())
            .filter(move |e| e.interval.overlaps(window))
    }
}

/// Hours, absences, breaks and bookings of one practice, indexed for sweeps.
///
/// Build it with [`Schedule::new`] from a [`ScheduleInput`]; inactive configuration rows and
/// cancelled bookings are dropped on construction.
#[derive(Debug, Clone)]
pub struct Schedule {
    tz: Tz,
    practice: WeekWindows,
    doctor_hours: HashMap<UserId, WeekWindows>,
    absences: HashMap<UserId, Vec<Absence>>,
    practice_breaks: Vec<Break>,
    doctor_breaks: HashMap<UserId, Vec<Break>>,
    busy: HashMap<OccupantKey, BusyList>,
    closed: HashMap<NaiveDate, ClosedDay>,
}

/// What one local day looks like for a set of participants.
#[derive(Debug, Clone, Default)]
pub(crate) struct DayPlan {
    /// Practice ∩ every person's hours (the whole day when there are no people).
    pub(crate) working: IntervalSet,
    /// Some person is absent on this date (then nothing else is computed).
    pub(crate) absent: bool,
    /// Breaks of the people (practice-wide and own).
    pub(crate) breaks: IntervalSet,
    /// Busy intervals of people, resources and the patient.
    pub(crate) busy: IntervalSet,
}

impl DayPlan {
    /// Free time: working − breaks − busy, or nothing on an absence day.
    pub(crate) fn free(&self) -> IntervalSet {
        if self.absent {
            return IntervalSet::new();
        }
        self.working.difference(&self.breaks).difference(&self.busy)
    }
}

impl Schedule {
    /// Indexes the input. Inactive hours/absences/breaks and cancelled bookings are dropped.
    pub fn new(input: ScheduleInput) -> Self {
        let ScheduleInput {
            time_zone,
            practice_hours,
            doctor_hours,
            absences,
            breaks,
            busy,
            closed_days,
        } = input;

        let mut per_doctor: HashMap<UserId, Vec<WeeklyWindow>> = HashMap::new();
        for row in doctor_hours {
            per_doctor.entry(row.doctor).or_default().push(row.window);
        }

        let mut absence_map: HashMap<UserId, Vec<Absence>> = HashMap::new();
        for a in absences.into_iter().filter(|a| a.active) {
            absence_map.entry(a.doctor).or_default().push(a);
        }
        for list in absence_map.values_mut() {
            list.sort_unstable_by_key(|a| (a.start_date, a.end_date, a.id));
        }

        let mut practice_breaks = Vec::new();
        let mut doctor_breaks: HashMap<UserId, Vec<Break>> = HashMap::new();
        for b in breaks.into_iter().filter(|b| b.active && b.start < b.end) {
            match b.doctor {
                None => practice_breaks.push(b),
                Some(doctor) => doctor_breaks.entry(doctor).or_default().push(b),
            }
        }
        let break_key = |b: &Break| (b.date, b.start, b.end, b.id);
        practice_breaks.sort_unstable_by_key(break_key);
        for list in doctor_breaks.values_mut() {
            list.sort_unstable_by_key(break_key);
        }

        let mut schedule = Self {
            tz: time_zone,
            practice: group_by_weekday(practice_hours.iter()),
            doctor_hours: per_doctor
                .into_iter()
                .map(|(doctor, rows)| (doctor, group_by_weekday(rows.iter())))
                .collect(),
            absences: absence_map,
            practice_breaks,
            doctor_breaks,
            busy: HashMap::new(),
            closed: closed_days.into_iter().map(|d| (d.date, d)).collect(),
        };
        // Sort each list once instead of inserting one by one.
        let mut lists: HashMap<OccupantKey, Vec<BusyEntry>> = HashMap::new();
        for b in busy.into_iter().filter(|b| b.state == BookingState::Active) {
            let (key, entry) = Self::busy_entry(&b);
            lists.entry(key).or_default().push(entry);
        }
        for (key, mut entries) in lists {
            entries.sort_unstable_by_key(BusyList::sort_key);
            let max_len = entries
                .iter()
                .map(|e| e.interval.duration())
                .max()
                .unwrap_or_default();
            schedule.busy.insert(key, BusyList { entries, max_len });
        }
        schedule
    }

    fn busy_entry(b: &BusyInterval) -> (OccupantKey, BusyEntry) {
        let (key, role) = match b.occupant {
            Occupant::Person { user, role } => (OccupantKey::Person(user), Some(role)),
            Occupant::Patient(p) => (OccupantKey::Patient(p), None),
            Occupant::Resource(r) => (OccupantKey::Resource(r), None),
        };
        (
            key,
            BusyEntry {
                interval: b.interval,
                booking: b.booking,
                role,
            },
        )
    }

    /// Adds a busy interval (e.g. a booking just made); cancelled ones are ignored.
    pub fn add_busy(&mut self, busy: BusyInterval) {
        if busy.state == BookingState::Cancelled {
            return;
        }
        let (key, entry) = Self::busy_entry(&busy);
        self.busy.entry(key).or_default().insert(entry);
    }

    /// The practice time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Merged practice windows of a weekday (local wall clock).
    pub(crate) fn practice_windows(&self, date: NaiveDate) -> &[LocalWindow] {
        &self.practice[date.weekday().num_days_from_monday() as usize]
    }

    /// Merged windows of one doctor on a weekday (local wall clock).
    pub(crate) fn doctor_windows(&self, doctor: UserId, date: NaiveDate) -> &[LocalWindow] {
        self.doctor_hours
            .get(&doctor)
            .map(|week| week[date.weekday().num_days_from_monday() as usize].as_slice())
            .unwrap_or_default()
    }

    /// Resolves local windows of `date` to instants (DST policy of [`super::zone`]).
    pub(crate) fn windows_to_utc(&self, date: NaiveDate, windows: &[LocalWindow]) -> IntervalSet {
        // Resolution is monotone, so sorted disjoint local windows stay sorted; merging again
        // covers windows that touch after a gap clamp.
        windows
            .iter()
            .filter_map(|w| local_window(self.tz, date, w.start, w.end))
            .collect()
    }

    /// The closed day (public holiday or override) on local date `date`, if the practice is
    /// closed then.
    pub fn closed_on(&self, date: NaiveDate) -> Option<&ClosedDay> {
        self.closed.get(&date)
    }

    /// Practice ∩ every person's hours on `date`, as instants; practice hours alone when
    /// `people` is empty; nothing on a closed day. Absences, breaks and bookings are not
    /// subtracted.
    pub fn working_time(&self, people: &[UserId], date: NaiveDate) -> IntervalSet {
        if self.closed.contains_key(&date) {
            return IntervalSet::new();
        }
        let mut windows = self.practice_windows(date).to_vec();
        for person in people {
            if windows.is_empty() {
                break;
            }
            windows = intersect_windows(&windows, self.doctor_windows(*person, date));
        }
        self.windows_to_utc(date, &windows)
    }

    /// Active absences of `person` covering `date`, in start order.
    pub fn absences_on(&self, person: UserId, date: NaiveDate) -> impl Iterator<Item = &Absence> {
        self.absences
            .get(&person)
            .map(|list| list.as_slice())
            .unwrap_or_default()
            .iter()
            .take_while(move |a| a.start_date <= date)
            .filter(move |a| a.end_date >= date)
    }

    /// Active breaks blocking `person` on `date`: practice-wide ones first, then the person's.
    pub fn breaks_on(&self, person: UserId, date: NaiveDate) -> impl Iterator<Item = &Break> {
        let own = self
            .doctor_breaks
            .get(&person)
            .map(|list| list.as_slice())
            .unwrap_or_default();
        breaks_of_date(&self.practice_breaks, date).chain(breaks_of_date(own, date))
    }

    /// The instants of a break, resolved in the practice zone.
    pub fn break_interval(&self, b: &Break) -> Option<Interval> {
        local_window(self.tz, b.date, b.start, b.end)
    }

    /// Busy entries of one occupant overlapping `window`, without `exclude`, in start order.
    pub(crate) fn busy_overlapping<'a>(
        &'a self,
        key: OccupantKey,
        window: &'a Interval,
        exclude: Option<BookingRef>,
    ) -> impl Iterator<Item = &'a BusyEntry> + 'a {
        self.busy
            .get(&key)
            .into_iter()
            .flat_map(move |list| list.overlapping(window))
            .filter(move |e| Some(e.booking) != exclude)
    }

    /// Free time of the participants on local date `date`: practice ∩ hours of every person −
    /// absences − breaks − busy intervals of people, resources and patient (bookings `exclude`
    /// aside). Without people the whole local day minus busy intervals.
    pub fn free_time(
        &self,
        participants: &Participants,
        date: NaiveDate,
        exclude: Option<BookingRef>,
    ) -> IntervalSet {
        self.day_plan(participants, date, exclude, Buffers::NONE)
            .free()
    }

    /// [`Schedule::free_time`] for a booking with `buffers`: the free time its core may use,
    /// so that its widened interval overlaps no (widened) busy interval of the people and
    /// resources.
    pub fn free_time_with_buffers(
        &self,
        participants: &Participants,
        date: NaiveDate,
        exclude: Option<BookingRef>,
        buffers: Buffers,
    ) -> IntervalSet {
        self.day_plan(participants, date, exclude, buffers).free()
    }

    /// Free time over the local dates `from..=to`, merged into one set.
    pub fn free_time_between(
        &self,
        participants: &Participants,
        from: NaiveDate,
        to: NaiveDate,
        exclude: Option<BookingRef>,
    ) -> IntervalSet {
        let mut free = IntervalSet::new();
        for date in from.iter_days().take_while(|d| *d <= to) {
            free = free.union(&self.free_time(participants, date, exclude));
        }
        free
    }

    /// The building blocks of one day's free time (also used for availability diagnostics).
    pub(crate) fn day_plan(
        &self,
        participants: &Participants,
        date: NaiveDate,
        exclude: Option<BookingRef>,
        buffers: Buffers,
    ) -> DayPlan {
        let working = if participants.people.is_empty() {
            local_day(self.tz, date).into_iter().collect()
        } else {
            self.working_time(&participants.people, date)
        };
        if working.is_empty() {
            return DayPlan::default();
        }
        let absent = participants
            .people
            .iter()
            .any(|p| self.absences_on(*p, date).next().is_some());
        if absent {
            return DayPlan {
                working,
                absent,
                ..DayPlan::default()
            };
        }

        let mut breaks = Vec::new();
        if !participants.people.is_empty() {
            breaks.extend(
                breaks_of_date(&self.practice_breaks, date).filter_map(|b| self.break_interval(b)),
            );
        }
        for person in &participants.people {
            let own = self
                .doctor_breaks
                .get(person)
                .map(|list| list.as_slice())
                .unwrap_or_default();
            breaks.extend(breaks_of_date(own, date).filter_map(|b| self.break_interval(b)));
        }

        // Only busy time inside the working hull matters.
        let mut busy = Vec::new();
        if let (Some(first), Some(last)) = (working.as_slice().first(), working.as_slice().last())
            && let Ok(hull) = Interval::new(first.start(), last.end())
        {
            // A busy interval blocks the core [s, e) of a buffered slot when it overlaps
            // [s − before, e + after), i.e. when the busy interval widened the other way
            // round overlaps the core.
            let (grow_start, grow_end) = (buffers.after(), buffers.before());
            let wide_hull = hull.widened(grow_end, grow_start);
            let keys = participants
                .people
                .iter()
                .map(|p| OccupantKey::Person(*p))
                .chain(
                    participants
                        .resources
                        .iter()
                        .map(|r| OccupantKey::Resource(*r)),
                );
            for key in keys {
                busy.extend(
                    self.busy_overlapping(key, &wide_hull, exclude)
                        .map(|e| e.interval.widened(grow_start, grow_end)),
                );
            }
            if let Some(patient) = participants.patient {
                busy.extend(
                    self.busy_overlapping(OccupantKey::Patient(patient), &hull, exclude)
                        .map(|e| e.interval),
                );
            }
        }

        DayPlan {
            working,
            absent,
            breaks: IntervalSet::from_intervals(breaks),
            busy: IntervalSet::from_intervals(busy),
        }
    }
}

/// Breaks of one date from a list sorted by date.
fn breaks_of_date(list: &[Break], date: NaiveDate) -> impl Iterator<Item = &Break> {
    let from = list.partition_point(|b| b.date < date);
    list[from..].iter().take_while(move |b| b.date == date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduling::testkit::*;
    use crate::scheduling::{OperationId, local_day};

    #[test]
    fn working_time_is_practice_intersected_with_merged_doctor_hours() {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (12, 0))
            .practice(MON, (12, 0), (16, 0))
            .doctor_hours(A, MON, (9, 0), (11, 0))
            .doctor_hours(A, MON, (10, 30), (17, 0))
            .build();
        let working = schedule.working_time(&[A], monday());
        assert_eq!(working, set(&[(monday(), (9, 0), (16, 0))]));
    }

    #[test]
    fn free_time_subtracts_absences_breaks_and_every_role_the_doctor_plays() {
        let day = monday();
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (18, 0))
            .doctor_hours(A, MON, (8, 0), (18, 0))
            .practice_break(day, (12, 0), (13, 0))
            .doctor_break(A, day, (15, 0), (15, 30))
            .doctor_break(B, day, (9, 0), (10, 0))
            .appointment(1, A, P, (day, 8, 0), (day, 9, 0), &[])
            .operation(
                2,
                team(B, None, Some(A)),
                Q,
                R,
                &[],
                (day, 10, 0),
                (day, 10, 50),
            )
            .cancelled_appointment(3, A, P, (day, 16, 0), (day, 17, 0))
            .build();
        let free = schedule.free_time(&Participants::doctor(A), day, None);
        assert_eq!(
            free,
            set(&[
                (day, (9, 0), (10, 0)),
                (day, (10, 50), (12, 0)),
                (day, (13, 0), (15, 0)),
                (day, (15, 30), (18, 0)),
            ])
        );
        // Excluding the operation (moving it) frees its time again.
        let free = schedule.free_time(
            &Participants::doctor(A),
            day,
            Some(BookingRef::Operation(OperationId(2))),
        );
        assert!(free.contains(&iv((day, 10, 0), (day, 10, 50))));
    }

    #[test]
    fn resources_are_free_all_day_except_when_busy() {
        let day = monday();
        let schedule = Fixture::berlin()
            .appointment(1, A, P, (day, 10, 0), (day, 10, 30), &[R])
            .build();
        let room = Participants {
            resources: vec![R],
            ..Participants::default()
        };
        let free = schedule.free_time(&room, day, None);
        let whole_day: IntervalSet = local_day(BERLIN, day).into_iter().collect();
        assert_eq!(free, whole_day.remove(iv((day, 10, 0), (day, 10, 30))));
    }

    #[test]
    fn absence_empties_the_day() {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (18, 0))
            .doctor_hours(A, MON, (8, 0), (18, 0))
            .absence(1, A, monday(), monday())
            .build();
        assert!(
            schedule
                .free_time(&Participants::doctor(A), monday(), None)
                .is_empty()
        );
        assert!(
            !schedule
                .free_time(
                    &Participants::doctor(A),
                    monday() + TimeDelta::days(7),
                    None
                )
                .is_empty()
        );
    }

    #[test]
    fn free_time_between_spans_several_days() {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (9, 0))
            .practice(TUE, (8, 0), (9, 0))
            .doctor_hours(A, MON, (8, 0), (9, 0))
            .doctor_hours(A, TUE, (8, 0), (9, 0))
            .build();
        let free = schedule.free_time_between(
            &Participants::doctor(A),
            monday(),
            monday() + TimeDelta::days(6),
            None,
        );
        assert_eq!(free.len(), 2);
        assert_eq!(free.total_duration(), TimeDelta::hours(2));
    }
}
