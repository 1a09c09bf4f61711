//! Conflict checking for a requested appointment or operation, and point-in-time availability
//! of doctors, resources and patients (scheduling spec §1.2, §2.4, §3, §4.3).
//!
//! One routine serves create and update: on update the request carries its own id and that
//! booking is excluded from every overlap test. Every conflict found is reported, in the order
//! of the original's checks, so the API can build either the original's first-error bodies or
//! the full Praxi error schema.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use super::holidays::ClosedBecause;
use super::ids::{AbsenceId, AppointmentId, BreakId, OperationId, PatientId, ResourceId, UserId};
use super::interval::Interval;
use super::model::{BookingRef, Buffers, PersonRole, ResourceKind, Team};
use super::schedule::{BusyEntry, OccupantKey, Schedule};
use super::zone::{local_date, local_day};

/// A resource requested by an appointment, with its kind (decides room vs device conflict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedResource {
    /// The resource.
    pub id: ResourceId,
    /// Room or device.
    pub kind: ResourceKind,
}

/// An appointment to create (`id: None`) or the new state of one to update (`id: Some`).
///
/// `resources` is the effective set: on update, the stored set when the client did not send
/// one, so a time move re-checks the resources it keeps (weak point W8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRequest {
    /// The appointment itself on update; excluded from overlap tests.
    pub id: Option<AppointmentId>,
    /// The appointment doctor.
    pub doctor: UserId,
    /// The patient.
    pub patient: PatientId,
    /// Requested `[start, end)`.
    pub interval: Interval,
    /// Effective resource set.
    pub resources: Vec<RequestedResource>,
    /// Buffers of the appointment's type: the doctor and resources are occupied during the
    /// widened interval (see [`Buffers`]).
    pub buffers: Buffers,
}

/// A slot to hold for a booking in progress (issue #14): like an appointment request, the
/// patient optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// The doctor the slot is held for.
    pub doctor: UserId,
    /// The patient, when already known.
    pub patient: Option<PatientId>,
    /// The held `[start, end)`.
    pub interval: Interval,
    /// Resources held with it.
    pub resources: Vec<RequestedResource>,
    /// Buffers of the intended appointment type.
    pub buffers: Buffers,
}

/// An operation to create (`id: None`) or the new state of one to update (`id: Some`).
///
/// `devices` is the effective set (stored set when the client did not send one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRequest {
    /// The operation itself on update; excluded from overlap tests.
    pub id: Option<OperationId>,
    /// The patient.
    pub patient: PatientId,
    /// The team (primary surgeon, optional assistant and anaesthetist).
    pub team: Team,
    /// The operating room.
    pub room: ResourceId,
    /// Devices used.
    pub devices: Vec<ResourceId>,
    /// `[start, start + prep + op + post)`.
    pub interval: Interval,
}

/// Why a booking does not fit working hours (API `reason` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HoursReason {
    /// No active practice window on that weekday.
    #[serde(rename = "no_practice_hours")]
    NoPracticeHours,
    /// Not inside the (merged) practice windows.
    #[serde(rename = "outside_practice")]
    OutsidePracticeHours,
    /// No active window of the doctor on that weekday.
    #[serde(rename = "no_doctor_hours")]
    NoDoctorHours,
    /// Not inside the (merged) windows of the doctor.
    #[serde(rename = "outside_doctor")]
    OutsideDoctorHours,
}

impl HoursReason {
    /// The API reason string (`no_practice_hours`, `outside_practice`, `no_doctor_hours`,
    /// `outside_doctor`, as in api.md §1.8).
    pub fn as_str(&self) -> &'static str {
        match self {
            HoursReason::NoPracticeHours => "no_practice_hours",
            HoursReason::OutsidePracticeHours => "outside_practice",
            HoursReason::NoDoctorHours => "no_doctor_hours",
            HoursReason::OutsideDoctorHours => "outside_doctor",
        }
    }
}

/// A day segment of the booking outside working hours (first failing segment per person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HoursConflict {
    /// The person whose hours are violated.
    pub person: UserId,
    /// Their role in the requested booking.
    pub role: PersonRole,
    /// Local date of the segment.
    pub date: NaiveDate,
    /// What is wrong.
    pub reason: HoursReason,
    /// The part of the booking on that local date.
    pub segment: Interval,
}

/// An active absence of a person covering a local date of the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AbsenceConflict {
    /// The absent person.
    pub person: UserId,
    /// Their role in the requested booking.
    pub role: PersonRole,
    /// The absence row.
    pub absence: AbsenceId,
    /// First absent date.
    pub start_date: NaiveDate,
    /// Last absent date.
    pub end_date: NaiveDate,
    /// First local date of the booking that the absence covers.
    pub date: NaiveDate,
}

/// An active break overlapping the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BreakConflict {
    /// The person the break blocks.
    pub person: UserId,
    /// Their role in the requested booking.
    pub role: PersonRole,
    /// The break row.
    pub break_id: BreakId,
    /// The break's doctor; `None` for a practice-wide break.
    pub break_doctor: Option<UserId>,
    /// Local date of the break.
    pub date: NaiveDate,
    /// Local start time of the break.
    pub start: NaiveTime,
    /// Local end time of the break.
    pub end: NaiveTime,
}

/// The practice is closed on a local date of the booking (public holiday or override).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolidayConflict {
    /// The person the closed day blocks.
    pub person: UserId,
    /// Their role in the requested booking.
    pub role: PersonRole,
    /// The closed local date.
    pub date: NaiveDate,
    /// The holiday's name or the override's label.
    pub label: String,
    /// Holiday or override.
    pub because: ClosedBecause,
}

/// What an overlapping booking collides on (API `type` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ConflictKind {
    /// A person of the request is busy.
    #[serde(rename = "doctor_conflict")]
    Doctor,
    /// A requested room is busy.
    #[serde(rename = "room_conflict")]
    Room,
    /// A requested device is busy.
    #[serde(rename = "device_conflict")]
    Device,
    /// The patient is busy.
    #[serde(rename = "patient_conflict")]
    Patient,
}

impl ConflictKind {
    /// The API `type` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConflictKind::Doctor => "doctor_conflict",
            ConflictKind::Room => "room_conflict",
            ConflictKind::Device => "device_conflict",
            ConflictKind::Patient => "patient_conflict",
        }
    }
}

/// An existing booking overlapping the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BookingConflict {
    /// What collides.
    pub kind: ConflictKind,
    /// The conflicting row (`model` and `id` of the API body).
    pub booking: BookingRef,
    /// The conflicting row's interval.
    pub interval: Interval,
    /// For room/device conflicts: the resource.
    pub resource: Option<ResourceId>,
    /// For doctor conflicts: the person (API `meta.doctor_id`).
    pub person: Option<UserId>,
    /// For doctor conflicts: the person's role in the requested booking (`who`).
    pub role: Option<PersonRole>,
}

impl BookingConflict {
    /// The original's `message` text for this conflict.
    pub fn message(&self) -> String {
        let id = self.booking.id();
        match (self.kind, self.booking) {
            (ConflictKind::Doctor, BookingRef::Operation(_)) => {
                format!("Doctor is involved in operation #{id}")
            }
            (ConflictKind::Doctor, BookingRef::Appointment(_)) => {
                format!("Doctor already has appointment #{id} in this time range")
            }
            (ConflictKind::Patient, BookingRef::Appointment(_)) => {
                format!("Patient already has appointment #{id} in this time range")
            }
            (ConflictKind::Patient, BookingRef::Operation(_)) => {
                format!("Patient already has operation #{id} in this time range")
            }
            (ConflictKind::Doctor, BookingRef::Hold(_)) => {
                format!("The time range is held for the doctor (slot hold #{id})")
            }
            (ConflictKind::Patient, BookingRef::Hold(_)) => {
                format!("The time range is held for the patient (slot hold #{id})")
            }
            (ConflictKind::Room | ConflictKind::Device, booking) => {
                let resource = self.resource.map(|r| r.0).unwrap_or_default();
                format!(
                    "Resource #{resource} is already booked by {} #{id}",
                    booking.model().to_lowercase()
                )
            }
        }
    }
}

/// One reason a requested booking cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    /// The practice is closed that day (public holiday or per-date override).
    Holiday(HolidayConflict),
    /// Outside working hours.
    Hours(HoursConflict),
    /// A team member / the doctor is absent.
    Absence(AbsenceConflict),
    /// A break overlaps.
    Break(BreakConflict),
    /// An existing booking overlaps.
    Booking(BookingConflict),
}

impl Conflict {
    /// A stable snake-case code: `holiday`, the hours reason, `absence`, `break`, or the
    /// booking conflict type (`doctor_conflict`, `room_conflict`, `device_conflict`,
    /// `patient_conflict`).
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::Holiday(_) => "holiday",
            Conflict::Hours(h) => h.reason.as_str(),
            Conflict::Absence(_) => "absence",
            Conflict::Break(_) => "break",
            Conflict::Booking(b) => b.kind.as_str(),
        }
    }

    /// The reason of the original's operation conflict body (scheduling spec §3.5).
    pub fn operation_reason(&self) -> &'static str {
        match self {
            Conflict::Holiday(_) => "holiday_conflict",
            Conflict::Hours(_) => "hours_conflict",
            Conflict::Absence(_) => "absence_conflict",
            Conflict::Break(_) => "break_conflict",
            Conflict::Booking(b) => match (b.kind, b.booking) {
                (ConflictKind::Doctor, BookingRef::Appointment(_) | BookingRef::Hold(_)) => {
                    "appointment_conflict"
                }
                (ConflictKind::Doctor, BookingRef::Operation(_)) => "operation_conflict",
                (ConflictKind::Room, BookingRef::Operation(_)) => "room_conflict",
                (ConflictKind::Room, BookingRef::Appointment(_) | BookingRef::Hold(_)) => {
                    "room_conflict_with_appointments"
                }
                (ConflictKind::Device, BookingRef::Operation(_)) => "device_conflict",
                (ConflictKind::Device, BookingRef::Appointment(_) | BookingRef::Hold(_)) => {
                    "device_conflict_with_appointments"
                }
                (ConflictKind::Patient, _) => "patient_conflict",
            },
        }
    }

    /// True for the reasons the original answers with "Doctor unavailable." on appointments:
    /// hours, absence, break, or another appointment of a person.
    pub fn makes_doctor_unavailable(&self) -> bool {
        match self {
            Conflict::Holiday(_)
            | Conflict::Hours(_)
            | Conflict::Absence(_)
            | Conflict::Break(_) => true,
            Conflict::Booking(b) => {
                b.kind == ConflictKind::Doctor
                    && matches!(b.booking, BookingRef::Appointment(_) | BookingRef::Hold(_))
            }
        }
    }

    /// True for what an audited override may book over (issue #14): a closed day, working
    /// hours, an absence or a break. Another booking or hold of the same doctor, patient,
    /// room or device never is.
    pub fn is_overridable(&self) -> bool {
        !matches!(self, Conflict::Booking(_))
    }

    /// The person concerned (hours, absence, break and doctor conflicts).
    pub fn person(&self) -> Option<UserId> {
        match self {
            Conflict::Holiday(h) => Some(h.person),
            Conflict::Hours(h) => Some(h.person),
            Conflict::Absence(a) => Some(a.person),
            Conflict::Break(b) => Some(b.person),
            Conflict::Booking(b) => b.person,
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Holiday(h) => write!(f, "the practice is closed on {} ({})", h.date, h.label),
            Conflict::Hours(h) => write!(
                f,
                "{} of user {} on {}: {}",
                h.role.as_str(),
                h.person,
                h.date,
                h.reason.as_str()
            ),
            Conflict::Absence(a) => write!(
                f,
                "user {} is absent from {} to {}",
                a.person, a.start_date, a.end_date
            ),
            Conflict::Break(b) => write!(
                f,
                "break #{} on {} {}-{} blocks user {}",
                b.break_id, b.date, b.start, b.end, b.person
            ),
            Conflict::Booking(b) => f.write_str(&b.message()),
        }
    }
}

/// A rejected booking: every conflict found, in check order (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scheduling conflicts detected: {}", .conflicts[0])]
pub struct SchedulingConflicts {
    conflicts: Vec<Conflict>,
}

impl SchedulingConflicts {
    fn from_vec(conflicts: Vec<Conflict>) -> Result<(), Self> {
        if conflicts.is_empty() {
            Ok(())
        } else {
            Err(Self { conflicts })
        }
    }

    /// All conflicts in check order.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// The first conflict (the one the original would report).
    pub fn first(&self) -> &Conflict {
        &self.conflicts[0]
    }

    /// Consumes into the list.
    pub fn into_vec(self) -> Vec<Conflict> {
        self.conflicts
    }

    /// The conflicts an override cannot book over (`None` when there are none).
    pub fn without_overridable(&self) -> Option<SchedulingConflicts> {
        let rest: Vec<Conflict> = self
            .conflicts
            .iter()
            .filter(|c| !c.is_overridable())
            .cloned()
            .collect();
        SchedulingConflicts::from_vec(rest).err()
    }
}

/// Local-day segments of an interval: `(date, part of the interval on that date)`.
pub(crate) fn day_segments(schedule: &Schedule, interval: &Interval) -> Vec<(NaiveDate, Interval)> {
    let tz = schedule.time_zone();
    let mut out = Vec::new();
    let mut date = local_date(tz, interval.start());
    // A booking crossing more days than this is rejected anyway; the cap only bounds the loop.
    for _ in 0..400 {
        let Some(day) = local_day(tz, date) else {
            break;
        };
        if let Some(segment) = day.intersection(interval) {
            out.push((date, segment));
        }
        match date.succ_opt() {
            Some(next) if day.end() < interval.end() => date = next,
            _ => break,
        }
    }
    out
}

/// Which booking model to report first among overlaps of one occupant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelOrder {
    AppointmentsFirst,
    OperationsFirst,
}

impl Schedule {
    /// Checks a requested appointment (create or update) against hours, absences, breaks and
    /// every occupancy: doctor (appointments and operations in any team role), resources
    /// (appointments, operation rooms, operation devices) and patient (appointments and
    /// operations). Cancelled bookings never conflict.
    ///
    /// Order: doctor hours/absence/breaks/appointments/operations, resource conflicts
    /// (appointments first), patient conflicts (appointments first).
    pub fn check_appointment(
        &self,
        request: &AppointmentRequest,
    ) -> Result<(), SchedulingConflicts> {
        self.check_booking(request, Some(request.patient))
    }

    /// Checks a requested slot hold (issue #14) exactly like an appointment, the patient
    /// only when the hold names one.
    pub fn check_hold(&self, hold: &HoldRequest) -> Result<(), SchedulingConflicts> {
        let request = AppointmentRequest {
            id: None,
            doctor: hold.doctor,
            // Never read: the patient check below follows `hold.patient`.
            patient: hold.patient.unwrap_or(PatientId(0)),
            interval: hold.interval,
            resources: hold.resources.clone(),
            buffers: hold.buffers,
        };
        self.check_booking(&request, hold.patient)
    }

    fn check_booking(
        &self,
        request: &AppointmentRequest,
        patient: Option<PatientId>,
    ) -> Result<(), SchedulingConflicts> {
        let exclude = request.id.map(BookingRef::Appointment);
        let interval = &request.interval;
        let occupied = request.buffers.occupied(request.interval);
        let segments = day_segments(self, interval);
        let mut out = Vec::new();
        self.collect_person_conflicts_occupied(
            request.doctor,
            PersonRole::AppointmentDoctor,
            interval,
            &occupied,
            &segments,
            exclude,
            &mut out,
        );
        let mut resource_conflicts = Vec::new();
        for resource in &request.resources {
            let kind = match resource.kind {
                ResourceKind::Room => ConflictKind::Room,
                ResourceKind::Device => ConflictKind::Device,
            };
            self.collect_overlaps(
                OccupantKey::Resource(resource.id),
                kind,
                &occupied,
                exclude,
                ModelOrder::AppointmentsFirst,
                &mut resource_conflicts,
            );
        }
        // The original lists resource appointment conflicts before operation ones.
        resource_conflicts.sort_by_key(|c| match c {
            Conflict::Booking(b) => matches!(b.booking, BookingRef::Operation(_)),
            _ => false,
        });
        out.extend(resource_conflicts);
        if let Some(patient) = patient {
            self.collect_overlaps(
                OccupantKey::Patient(patient),
                ConflictKind::Patient,
                interval,
                exclude,
                ModelOrder::AppointmentsFirst,
                &mut out,
            );
        }
        SchedulingConflicts::from_vec(out)
    }

    /// Checks a requested operation (create or update): room (operations, then appointments),
    /// devices (same), then per team member in the order primary surgeon, assistant,
    /// anaesthetist: hours of every local-day segment, absences, breaks, appointments,
    /// operations; finally the patient (appointments, operations).
    pub fn check_operation(&self, request: &OperationRequest) -> Result<(), SchedulingConflicts> {
        let exclude = request.id.map(BookingRef::Operation);
        let interval = &request.interval;
        let segments = day_segments(self, interval);
        let mut out = Vec::new();
        self.collect_overlaps(
            OccupantKey::Resource(request.room),
            ConflictKind::Room,
            interval,
            exclude,
            ModelOrder::OperationsFirst,
            &mut out,
        );
        for device in &request.devices {
            self.collect_overlaps(
                OccupantKey::Resource(*device),
                ConflictKind::Device,
                interval,
                exclude,
                ModelOrder::OperationsFirst,
                &mut out,
            );
        }
        for (role, user) in request.team.members() {
            self.collect_person_conflicts(user, role, interval, &segments, exclude, &mut out);
        }
        self.collect_overlaps(
            OccupantKey::Patient(request.patient),
            ConflictKind::Patient,
            interval,
            exclude,
            ModelOrder::AppointmentsFirst,
            &mut out,
        );
        SchedulingConflicts::from_vec(out)
    }

    /// Everything that keeps `person` (in `role`) from taking `interval`: hours, absences,
    /// breaks, appointments, operations (booking `exclude` aside).
    pub fn person_conflicts(
        &self,
        person: UserId,
        role: PersonRole,
        interval: &Interval,
        exclude: Option<BookingRef>,
    ) -> Vec<Conflict> {
        let segments = day_segments(self, interval);
        let mut out = Vec::new();
        self.collect_person_conflicts(person, role, interval, &segments, exclude, &mut out);
        out
    }

    /// The doctors (in the given order) free for all of `interval`: hours, absences, breaks,
    /// appointments and operations (scheduling spec §2.4).
    pub fn available_doctors(
        &self,
        doctors: &[UserId],
        interval: &Interval,
        exclude: Option<BookingRef>,
    ) -> Vec<UserId> {
        let segments = day_segments(self, interval);
        doctors
            .iter()
            .copied()
            .filter(|doctor| {
                let mut out = Vec::new();
                self.collect_person_conflicts(
                    *doctor,
                    PersonRole::AppointmentDoctor,
                    interval,
                    &segments,
                    exclude,
                    &mut out,
                );
                out.is_empty()
            })
            .collect()
    }

    /// The resources (in the given order) not booked by any appointment or operation in
    /// `interval`.
    pub fn available_resources(
        &self,
        resources: &[ResourceId],
        interval: &Interval,
        exclude: Option<BookingRef>,
    ) -> Vec<ResourceId> {
        resources
            .iter()
            .copied()
            .filter(|r| {
                self.busy_overlapping(OccupantKey::Resource(*r), interval, exclude)
                    .next()
                    .is_none()
            })
            .collect()
    }

    /// The patients (in the given order) without an appointment or operation in `interval`.
    pub fn available_patients(
        &self,
        patients: &[PatientId],
        interval: &Interval,
        exclude: Option<BookingRef>,
    ) -> Vec<PatientId> {
        patients
            .iter()
            .copied()
            .filter(|p| {
                self.busy_overlapping(OccupantKey::Patient(*p), interval, exclude)
                    .next()
                    .is_none()
            })
            .collect()
    }

    fn collect_person_conflicts(
        &self,
        person: UserId,
        role: PersonRole,
        interval: &Interval,
        segments: &[(NaiveDate, Interval)],
        exclude: Option<BookingRef>,
        out: &mut Vec<Conflict>,
    ) {
        self.collect_person_conflicts_occupied(
            person, role, interval, interval, segments, exclude, out,
        );
    }

    /// [`Self::collect_person_conflicts`] where the person is occupied during `occupied`
    /// (the core `interval` widened by buffers) while hours and breaks apply to the core.
    #[expect(
        clippy::too_many_arguments,
        reason = "internal worker; every input is needed"
    )]
    fn collect_person_conflicts_occupied(
        &self,
        person: UserId,
        role: PersonRole,
        interval: &Interval,
        occupied: &Interval,
        segments: &[(NaiveDate, Interval)],
        exclude: Option<BookingRef>,
        out: &mut Vec<Conflict>,
    ) {
        let mut closed = false;
        for (date, _) in segments {
            if let Some(day) = self.closed_on(*date) {
                closed = true;
                out.push(Conflict::Holiday(HolidayConflict {
                    person,
                    role,
                    date: *date,
                    label: day.label.clone(),
                    because: day.because,
                }));
            }
        }
        // On a closed day the weekly hours say nothing; report the closure alone.
        if !closed && let Some(hours) = self.hours_conflict(person, role, segments) {
            out.push(Conflict::Hours(hours));
        }

        let mut seen_absences: Vec<AbsenceId> = Vec::new();
        for (date, _) in segments {
            for absence in self.absences_on(person, *date) {
                if !seen_absences.contains(&absence.id) {
                    seen_absences.push(absence.id);
                    out.push(Conflict::Absence(AbsenceConflict {
                        person,
                        role,
                        absence: absence.id,
                        start_date: absence.start_date,
                        end_date: absence.end_date,
                        date: *date,
                    }));
                }
            }
        }

        for (date, _) in segments {
            for b in self.breaks_on(person, *date) {
                if self
                    .break_interval(b)
                    .is_some_and(|bi| bi.overlaps(interval))
                {
                    out.push(Conflict::Break(BreakConflict {
                        person,
                        role,
                        break_id: b.id,
                        break_doctor: b.doctor,
                        date: b.date,
                        start: b.start,
                        end: b.end,
                    }));
                }
            }
        }

        let before = out.len();
        self.collect_overlaps(
            OccupantKey::Person(person),
            ConflictKind::Doctor,
            occupied,
            exclude,
            ModelOrder::AppointmentsFirst,
            out,
        );
        for conflict in &mut out[before..] {
            if let Conflict::Booking(b) = conflict {
                b.person = Some(person);
                b.role = Some(role);
            }
        }
    }

    /// The first day segment outside working hours, if any.
    fn hours_conflict(
        &self,
        person: UserId,
        role: PersonRole,
        segments: &[(NaiveDate, Interval)],
    ) -> Option<HoursConflict> {
        segments.iter().find_map(|(date, segment)| {
            let practice = self.practice_windows(*date);
            let own = self.doctor_windows(person, *date);
            let reason = if practice.is_empty() {
                HoursReason::NoPracticeHours
            } else if !self.windows_to_utc(*date, practice).contains(segment) {
                HoursReason::OutsidePracticeHours
            } else if own.is_empty() {
                HoursReason::NoDoctorHours
            } else if !self.windows_to_utc(*date, own).contains(segment) {
                HoursReason::OutsideDoctorHours
            } else {
                return None;
            };
            Some(HoursConflict {
                person,
                role,
                date: *date,
                reason,
                segment: *segment,
            })
        })
    }

    /// Overlapping bookings of one occupant, one entry per booking row, grouped by model.
    fn collect_overlaps(
        &self,
        key: OccupantKey,
        kind: ConflictKind,
        interval: &Interval,
        exclude: Option<BookingRef>,
        order: ModelOrder,
        out: &mut Vec<Conflict>,
    ) {
        let mut hits: Vec<&BusyEntry> = self.busy_overlapping(key, interval, exclude).collect();
        // The same person can appear twice in one operation (legacy data); report a row once.
        let mut seen: Vec<BookingRef> = Vec::with_capacity(hits.len());
        hits.retain(|e| {
            let new = !seen.contains(&e.booking);
            seen.push(e.booking);
            new
        });
        hits.sort_by_key(|e| {
            let is_operation = matches!(e.booking, BookingRef::Operation(_));
            let group = match order {
                ModelOrder::AppointmentsFirst => is_operation,
                ModelOrder::OperationsFirst => !is_operation,
            };
            (group, e.interval.start(), e.booking)
        });
        let resource = match key {
            OccupantKey::Resource(r) => Some(r),
            _ => None,
        };
        out.extend(hits.into_iter().map(|e| {
            Conflict::Booking(BookingConflict {
                kind,
                booking: e.booking,
                interval: e.interval,
                resource,
                person: None,
                role: None,
            })
        }));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDateTime};

    use super::*;
    use crate::scheduling::testkit::*;
    use crate::scheduling::{
        LocalTimeError, SlotDuration, local_to_utc, local_to_utc_strict, model::BookingState,
    };

    /// Appointment request of doctor `doctor` for patient `patient`.
    fn appt(doctor: UserId, patient: PatientId, interval: Interval) -> AppointmentRequest {
        AppointmentRequest {
            buffers: Buffers::NONE,
            id: None,
            doctor,
            patient,
            interval,
            resources: Vec::new(),
        }
    }

    fn with_room(mut request: AppointmentRequest, room: ResourceId) -> AppointmentRequest {
        request.resources.push(RequestedResource {
            id: room,
            kind: ResourceKind::Room,
        });
        request
    }

    fn op(
        team: Team,
        patient: PatientId,
        room: ResourceId,
        interval: Interval,
    ) -> OperationRequest {
        OperationRequest {
            id: None,
            patient,
            team,
            room,
            devices: Vec::new(),
            interval,
        }
    }

    /// Codes of all conflicts, or an empty list when the booking is accepted.
    fn codes(result: Result<(), SchedulingConflicts>) -> Vec<&'static str> {
        result
            .err()
            .map(|c| c.conflicts().iter().map(Conflict::code).collect())
            .unwrap_or_default()
    }

    fn op_reasons(result: Result<(), SchedulingConflicts>) -> Vec<&'static str> {
        result
            .err()
            .map(|c| {
                c.conflicts()
                    .iter()
                    .map(Conflict::operation_reason)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn mon(h: u32, m: u32) -> At {
        (monday(), h, m)
    }

    /// PH Mon 08–18, DH A and B Mon 08–18 (catalogue 8.1 default).
    fn open_monday() -> Fixture {
        Fixture::berlin()
            .practice(MON, (8, 0), (18, 0))
            .doctor_hours(A, MON, (8, 0), (18, 0))
            .doctor_hours(B, MON, (8, 0), (18, 0))
    }

    // ---- 8.1 Availability & working hours -------------------------------------------------

    #[test]
    fn av_01_booking_inside_practice_and_doctor_hours_is_accepted() {
        let schedule = open_monday().build();
        assert_eq!(
            schedule.check_appointment(&appt(A, P, iv(mon(10, 0), mon(10, 30)))),
            Ok(())
        );
    }

    #[test]
    fn av_02_03_outside_doctor_or_practice_hours_names_the_reason() {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (9, 0), (12, 0))
            .build();
        let cases = [
            (
                "av_02 before doctor hours",
                mon(8, 30),
                mon(9, 0),
                "outside_doctor",
            ),
            (
                "av_03 past closing",
                mon(15, 30),
                mon(16, 30),
                "outside_practice",
            ),
        ];
        for (name, start, end, expected) in cases {
            let result = schedule.check_appointment(&appt(A, P, iv(start, end)));
            let conflicts = result.expect_err(name);
            assert_eq!(conflicts.first().code(), expected, "{name}");
            assert!(conflicts.first().makes_doctor_unavailable(), "{name}");
        }
    }

    #[test]
    fn av_04_weekday_without_practice_hours_is_no_practice_hours() {
        let schedule = open_monday().build();
        let sunday = monday() - Duration::days(1);
        let result = schedule.check_appointment(&appt(A, P, iv((sunday, 10, 0), (sunday, 10, 30))));
        let conflicts = result.expect_err("no hours on sunday");
        let Conflict::Hours(hours) = conflicts.first() else {
            panic!("expected an hours conflict, got {conflicts:?}");
        };
        assert_eq!(hours.reason, HoursReason::NoPracticeHours);
        assert_eq!(hours.person, A);
        assert_eq!(hours.date, sunday);
    }

    #[test]
    fn av_05_practice_open_but_no_doctor_hours_is_no_doctor_hours() {
        let schedule = Fixture::berlin().practice(MON, (8, 0), (18, 0)).build();
        let result = schedule.check_appointment(&appt(A, P, iv(mon(10, 0), mon(10, 30))));
        assert_eq!(codes(result), ["no_doctor_hours"]);
    }

    #[test]
    fn av_06_07_window_edges_are_inclusive() {
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (9, 0), (12, 0))
            .build();
        let cases = [
            ("av_06 ends at window end", mon(11, 30), mon(12, 0)),
            ("av_07 starts at window start", mon(9, 0), mon(9, 30)),
        ];
        for (name, start, end) in cases {
            assert_eq!(
                schedule.check_appointment(&appt(A, P, iv(start, end))),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn av_08_inactive_practice_hours_count_as_none() {
        let schedule = Fixture::berlin()
            .inactive_practice(MON, (8, 0), (18, 0))
            .doctor_hours(A, MON, (8, 0), (18, 0))
            .build();
        let result = schedule.check_appointment(&appt(A, P, iv(mon(10, 0), mon(10, 30))));
        assert_eq!(codes(result), ["no_practice_hours"]);
    }

    #[test]
    fn av_09_touching_windows_are_merged_before_the_containment_test() {
        let practice_split = Fixture::berlin()
            .practice(MON, (8, 0), (12, 0))
            .practice(MON, (12, 0), (16, 0))
            .doctor_hours(A, MON, (8, 0), (16, 0))
            .build();
        let doctor_split = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (8, 0), (12, 0))
            .doctor_hours(A, MON, (12, 0), (16, 0))
            .build();
        for schedule in [practice_split, doctor_split] {
            assert_eq!(
                schedule.check_appointment(&appt(A, P, iv(mon(11, 30), mon(12, 30)))),
                Ok(())
            );
        }
    }

    #[test]
    fn av_10_11_bookings_crossing_local_midnight_are_outside_hours() {
        let tuesday = monday() + Duration::days(1);
        let schedule = open_monday()
            .practice(TUE, (8, 0), (18, 0))
            .doctor_hours(A, TUE, (8, 0), (18, 0))
            .build();
        let cases = [
            ("av_10 16:00 to midnight", mon(16, 0), (tuesday, 0, 0)),
            ("av_11 09:00 to next day 10:00", mon(9, 0), (tuesday, 10, 0)),
        ];
        for (name, start, end) in cases {
            let result = schedule.check_appointment(&appt(A, P, iv(start, end)));
            let conflicts = result.expect_err(name);
            let Conflict::Hours(hours) = conflicts.first() else {
                panic!("{name}: expected hours conflict, got {conflicts:?}");
            };
            assert_eq!(hours.reason, HoursReason::OutsidePracticeHours, "{name}");
            assert_eq!(hours.date, monday(), "{name}: the monday segment fails");
        }
    }

    #[test]
    fn av_12_active_absence_blocks_with_its_id() {
        let schedule = open_monday().absence(7, A, monday(), monday()).build();
        let result = schedule.check_appointment(&appt(A, P, iv(mon(10, 0), mon(10, 30))));
        let conflicts = result.expect_err("absent");
        assert_eq!(
            conflicts.conflicts(),
            [Conflict::Absence(AbsenceConflict {
                person: A,
                role: PersonRole::AppointmentDoctor,
                absence: AbsenceId(7),
                start_date: monday(),
                end_date: monday(),
                date: monday(),
            })]
        );
        assert!(conflicts.first().makes_doctor_unavailable());
    }

    #[test]
    fn av_13_14_day_after_absence_and_inactive_absence_do_not_block() {
        let next_monday = monday() + Duration::days(7);
        let schedule = open_monday()
            .absence(
                1,
                A,
                monday() - Duration::days(7),
                monday() - Duration::days(1),
            )
            .inactive_absence(2, A, next_monday, next_monday)
            .build();
        let cases = [
            ("av_13 day after absence end", monday()),
            ("av_14 inactive absence", next_monday),
        ];
        for (name, day) in cases {
            assert_eq!(
                schedule.check_appointment(&appt(A, P, iv((day, 10, 0), (day, 10, 30)))),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn av_15_16_17_18_19_breaks_block_half_open_and_only_their_doctor() {
        let schedule = open_monday()
            .practice_break(monday(), (12, 0), (13, 0)) // break #1
            .doctor_break(A, monday(), (15, 0), (16, 0)) // break #2
            .doctor_break(B, monday(), (10, 0), (11, 0)) // break #3
            .build();
        // Expected break id and break doctor, or `None` when the booking is accepted.
        type ExpectedBreak = Option<(i64, Option<UserId>)>;
        let cases: [(&str, At, At, ExpectedBreak); 5] = [
            (
                "av_15 practice-wide break",
                mon(12, 30),
                mon(13, 0),
                Some((1, None)),
            ),
            (
                "av_16 own break",
                mon(15, 30),
                mon(16, 0),
                Some((2, Some(A))),
            ),
            ("av_17 touching break start", mon(11, 30), mon(12, 0), None),
            ("av_18 right after break end", mon(13, 0), mon(13, 30), None),
            ("av_19 other doctor's break", mon(10, 0), mon(10, 30), None),
        ];
        for (name, start, end, expected) in cases {
            let result = schedule.check_appointment(&appt(A, P, iv(start, end)));
            match expected {
                None => assert_eq!(result, Ok(()), "{name}"),
                Some((id, doctor)) => {
                    let conflicts = result.expect_err(name);
                    let Conflict::Break(b) = conflicts.first() else {
                        panic!("{name}: expected a break conflict, got {conflicts:?}");
                    };
                    assert_eq!(
                        (b.break_id, b.break_doctor),
                        (BreakId(id), doctor),
                        "{name}"
                    );
                    assert_eq!((b.person, b.date), (A, monday()), "{name}");
                }
            }
        }
        let b = schedule
            .check_appointment(&appt(A, P, iv(mon(12, 30), mon(13, 0))))
            .expect_err("break");
        let Conflict::Break(b) = b.first() else {
            panic!("expected a break conflict");
        };
        assert_eq!((b.start, b.end), (time((12, 0)), time((13, 0))));
    }

    #[test]
    fn av_20_absence_is_reported_before_an_overlapping_break() {
        let wednesday = monday() + Duration::days(2);
        let schedule = Fixture::berlin()
            .practice(WED, (8, 0), (18, 0))
            .doctor_hours(A, WED, (8, 0), (18, 0))
            .absence(1, A, monday(), monday() + Duration::days(4))
            .doctor_break(A, wednesday, (12, 0), (13, 0))
            .build();
        let result =
            schedule.check_appointment(&appt(A, P, iv((wednesday, 12, 0), (wednesday, 12, 30))));
        assert_eq!(codes(result), ["absence", "break"]);
    }

    /// Europe/Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25
    /// (03:00 → 02:00); both are Sundays.
    fn dst_sunday_fixture() -> Schedule {
        Fixture::berlin()
            .practice(SUN, (0, 0), (6, 0))
            .doctor_hours(A, SUN, (0, 0), (6, 0))
            .build()
    }

    fn local(d: chrono::NaiveDate, h: u32, m: u32) -> NaiveDateTime {
        d.and_time(time((h, m)))
    }

    #[test]
    fn av_21_non_existent_local_time_is_rejected() {
        let spring = date(2026, 3, 29);
        assert_eq!(
            local_to_utc_strict(BERLIN, local(spring, 2, 30)),
            Err(LocalTimeError::NonExistent(local(spring, 2, 30)))
        );
        // The lenient (configuration) mapping clamps the same wall time to the end of the gap,
        // so the gap hour is simply absent from the 00:00–06:00 window: it lasts five hours.
        let schedule = dst_sunday_fixture();
        let working = schedule.working_time(&[A], spring);
        assert_eq!(working.total_duration(), Duration::hours(5));
        assert_eq!(
            local_to_utc(BERLIN, local(spring, 2, 30)),
            utc(2026, 3, 29, 1, 0)
        );
    }

    #[test]
    fn av_22_spring_booking_across_the_gap_lasts_real_minutes_and_fits() {
        let spring = date(2026, 3, 29);
        let interval = iv((spring, 1, 30), (spring, 3, 30));
        assert_eq!(interval.start(), utc(2026, 3, 29, 0, 30));
        assert_eq!(interval.end(), utc(2026, 3, 29, 1, 30));
        assert_eq!(interval.duration(), Duration::minutes(60));
        assert_eq!(
            dst_sunday_fixture().check_appointment(&appt(A, P, interval)),
            Ok(())
        );
    }

    #[test]
    fn av_23_ambiguous_autumn_time_takes_the_earlier_instant() {
        let autumn = date(2026, 10, 25);
        let start = local_to_utc_strict(BERLIN, local(autumn, 2, 30));
        assert_eq!(start, Ok(utc(2026, 10, 25, 0, 30)));
        // 02:30 (first, CEST) to 03:00 (CET) is 90 real minutes and fits 00:00–06:00.
        let interval = iv((autumn, 2, 30), (autumn, 3, 0));
        assert_eq!(interval.duration(), Duration::minutes(90));
        assert_eq!(
            dst_sunday_fixture().check_appointment(&appt(A, P, interval)),
            Ok(())
        );
        // The autumn day's window 00:00–06:00 lasts seven real hours.
        assert_eq!(
            dst_sunday_fixture()
                .working_time(&[A], autumn)
                .total_duration(),
            Duration::hours(7)
        );
    }

    #[test]
    fn av_25_utc_instants_are_judged_by_berlin_wall_clock_in_winter_and_summer() {
        let winter = date(2030, 1, 14);
        let summer = date(2030, 7, 15);
        let schedule = Fixture::berlin()
            .practice(MON, (8, 0), (16, 0))
            .doctor_hours(A, MON, (8, 0), (16, 0))
            .build();
        let at_utc = |d: chrono::NaiveDate, h, m| {
            let start = d.and_time(time((h, m))).and_utc();
            Interval::starting_at(start, Duration::minutes(30)).expect("interval")
        };
        let cases = [
            (
                "07:30Z in winter = 08:30 local",
                at_utc(winter, 7, 30),
                vec![],
            ),
            (
                "07:30Z in summer = 09:30 local",
                at_utc(summer, 7, 30),
                vec![],
            ),
            (
                "06:30Z in winter = 07:30 local",
                at_utc(winter, 6, 30),
                vec!["outside_practice"],
            ),
        ];
        for (name, interval, expected) in cases {
            assert_eq!(
                codes(schedule.check_appointment(&appt(A, P, interval))),
                expected,
                "{name}"
            );
        }
    }

    // ---- 8.3 Conflict validation – appointments --------------------------------------------

    /// A has appointment #1 for P 10:00–10:30 on Monday.
    fn booked_monday() -> Fixture {
        open_monday().appointment(1, A, P, mon(10, 0), mon(10, 30), &[])
    }

    #[test]
    fn cf_42_doctor_double_booking_conflicts_and_other_doctors_are_alternatives() {
        let schedule = booked_monday()
            .practice(TUE, (8, 0), (18, 0))
            .doctor_hours(C, TUE, (8, 0), (18, 0))
            .build();
        let request = appt(A, Q, iv(mon(10, 0), mon(10, 30)));
        let conflicts = schedule.check_appointment(&request).expect_err("busy");
        assert_eq!(
            conflicts.conflicts(),
            [Conflict::Booking(BookingConflict {
                kind: ConflictKind::Doctor,
                booking: BookingRef::Appointment(AppointmentId(1)),
                interval: iv(mon(10, 0), mon(10, 30)),
                resource: None,
                person: Some(A),
                role: Some(PersonRole::AppointmentDoctor),
            })]
        );
        assert!(conflicts.first().makes_doctor_unavailable());

        let now = utc(2030, 1, 1, 0, 0);
        let duration = SlotDuration::covering(request.interval.duration()).expect("duration");
        let alternatives = schedule.alternatives(&[C, A, B], A, duration, monday(), now);
        let found: Vec<_> = alternatives
            .iter()
            .map(|a| (a.doctor, a.slot.start()))
            .collect();
        // The requested doctor is excluded; others are ordered by id with their first free slot.
        assert_eq!(
            found,
            [
                (B, at(mon(8, 0))),
                (C, at((monday() + Duration::days(1), 8, 0)))
            ]
        );
    }

    #[test]
    fn cf_43_update_excludes_itself_and_rejects_moving_into_a_busy_slot() {
        let schedule = booked_monday()
            .appointment(2, B, Q, mon(11, 0), mon(11, 30), &[])
            .build();
        let moved = |doctor, start, end| AppointmentRequest {
            buffers: Buffers::NONE,
            id: Some(AppointmentId(2)),
            ..appt(doctor, Q, iv(start, end))
        };
        let cases = [
            (
                "into A's slot",
                moved(A, mon(10, 0), mon(10, 30)),
                vec!["doctor_conflict"],
            ),
            (
                "into a free slot",
                moved(A, mon(11, 0), mon(11, 30)),
                vec![],
            ),
            ("unchanged", moved(B, mon(11, 0), mon(11, 30)), vec![]),
        ];
        for (name, request, expected) in cases {
            assert_eq!(
                codes(schedule.check_appointment(&request)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn cf_44_45_46_overlap_is_half_open() {
        let schedule = booked_monday().build();
        let cases = [
            (
                "cf_44 starts at existing end",
                mon(10, 30),
                mon(11, 0),
                false,
            ),
            (
                "cf_44 shifted by five minutes",
                mon(10, 5),
                mon(10, 35),
                true,
            ),
            (
                "cf_45 ends at existing start",
                mon(9, 30),
                mon(10, 0),
                false,
            ),
            ("cf_46 containing", mon(9, 30), mon(11, 0), true),
            ("cf_46 contained", mon(10, 10), mon(10, 20), true),
        ];
        for (name, start, end, conflict) in cases {
            let result = schedule.check_appointment(&appt(A, Q, iv(start, end)));
            assert_eq!(result.is_err(), conflict, "{name}");
        }
    }

    #[test]
    fn cf_47_same_patient_with_another_doctor_is_a_patient_conflict() {
        let schedule = booked_monday().build();
        let conflicts = schedule
            .check_appointment(&appt(B, P, iv(mon(10, 15), mon(10, 45))))
            .expect_err("patient busy");
        let Conflict::Booking(b) = conflicts.first() else {
            panic!("expected booking conflict");
        };
        assert_eq!(b.kind, ConflictKind::Patient);
        assert_eq!(b.booking, BookingRef::Appointment(AppointmentId(1)));
        assert_eq!(conflicts.conflicts().len(), 1);
        assert!(!conflicts.first().makes_doctor_unavailable());
    }

    #[test]
    fn cf_48_49_50_requested_resources_conflict_with_appointments_and_operations() {
        let schedule = open_monday()
            .appointment(1, A, P, mon(10, 0), mon(10, 30), &[R])
            .operation(5, team(C, None, None), Q, R2, &[V], mon(10, 0), mon(10, 50))
            .build();
        let device = |mut r: AppointmentRequest, id| {
            r.resources.push(RequestedResource {
                id,
                kind: ResourceKind::Device,
            });
            r
        };
        let cases = [
            (
                "cf_48 room booked by another appointment",
                with_room(appt(B, PatientId(12), iv(mon(10, 15), mon(10, 45))), R),
                (
                    ConflictKind::Room,
                    BookingRef::Appointment(AppointmentId(1)),
                    R,
                ),
            ),
            (
                "cf_49 room is an operation's room",
                with_room(appt(B, PatientId(12), iv(mon(10, 30), mon(11, 0))), R2),
                (
                    ConflictKind::Room,
                    BookingRef::Operation(OperationId(5)),
                    R2,
                ),
            ),
            (
                "cf_50 device used by an operation",
                device(appt(B, PatientId(12), iv(mon(10, 30), mon(11, 0))), V),
                (
                    ConflictKind::Device,
                    BookingRef::Operation(OperationId(5)),
                    V,
                ),
            ),
        ];
        for (name, request, (kind, booking, resource)) in cases {
            let conflicts = schedule.check_appointment(&request).expect_err(name);
            let Conflict::Booking(b) = conflicts.first() else {
                panic!("{name}: expected booking conflict");
            };
            assert_eq!(
                (b.kind, b.booking, b.resource),
                (kind, booking, Some(resource)),
                "{name}"
            );
            assert_eq!(conflicts.conflicts().len(), 1, "{name}");
        }
    }

    #[test]
    fn cf_51_52_doctor_in_any_operation_role_conflicts_on_create_and_update() {
        let schedule = open_monday()
            .appointment(3, A, Q, mon(8, 0), mon(8, 30), &[])
            .operation(
                9,
                team(B, None, Some(A)),
                P,
                R,
                &[],
                mon(10, 0),
                mon(10, 50),
            )
            .build();
        let create = appt(A, PatientId(12), iv(mon(10, 30), mon(11, 0)));
        let update = AppointmentRequest {
            buffers: Buffers::NONE,
            id: Some(AppointmentId(3)),
            ..appt(A, Q, iv(mon(10, 30), mon(11, 0)))
        };
        for (name, request) in [("cf_51 create", create), ("cf_52 update", update)] {
            let conflicts = schedule.check_appointment(&request).expect_err(name);
            let Conflict::Booking(b) = conflicts.first() else {
                panic!("{name}: expected booking conflict");
            };
            assert_eq!(b.kind.as_str(), "doctor_conflict", "{name}");
            assert_eq!(b.booking.model(), "Operation", "{name}");
            assert_eq!(b.booking.id(), 9, "{name}");
            assert_eq!(b.message(), "Doctor is involved in operation #9", "{name}");
            assert!(!conflicts.first().makes_doctor_unavailable(), "{name}");
        }
    }

    #[test]
    fn cf_53_patient_in_an_operation_conflicts_on_create_and_update() {
        let schedule = open_monday()
            .appointment(3, B, P, mon(8, 0), mon(8, 30), &[])
            .operation(9, team(C, None, None), P, R, &[], mon(10, 0), mon(10, 50))
            .build();
        let create = appt(B, P, iv(mon(10, 30), mon(11, 0)));
        let update = AppointmentRequest {
            buffers: Buffers::NONE,
            id: Some(AppointmentId(3)),
            ..create.clone()
        };
        for (name, request) in [("create", create), ("update", update)] {
            let conflicts = schedule.check_appointment(&request).expect_err(name);
            let Conflict::Booking(b) = conflicts.first() else {
                panic!("{name}: expected booking conflict");
            };
            assert_eq!(b.kind, ConflictKind::Patient, "{name}");
            assert_eq!(
                b.message(),
                "Patient already has operation #9 in this time range",
                "{name}"
            );
        }
    }

    #[test]
    fn cf_54_time_move_rechecks_the_stored_resources() {
        let schedule = open_monday()
            .appointment(1, A, P, mon(10, 0), mon(10, 30), &[R])
            .appointment(2, B, Q, mon(11, 0), mon(11, 30), &[R])
            .build();
        // The client only sends a new time; the store passes the stored resource set.
        let moved = with_room(
            AppointmentRequest {
                buffers: Buffers::NONE,
                id: Some(AppointmentId(2)),
                ..appt(B, Q, iv(mon(10, 0), mon(10, 30)))
            },
            R,
        );
        assert_eq!(codes(schedule.check_appointment(&moved)), ["room_conflict"]);
    }

    #[test]
    fn cf_55_cancelled_bookings_never_block() {
        let schedule = open_monday()
            .cancelled_appointment(1, A, P, mon(10, 0), mon(10, 30))
            .build();
        assert_eq!(
            schedule.check_appointment(&appt(A, P, iv(mon(10, 0), mon(10, 30)))),
            Ok(())
        );
    }

    #[test]
    fn cf_56_66_empty_or_inverted_intervals_cannot_be_built() {
        assert!(Interval::new(at(mon(10, 0)), at(mon(10, 0))).is_err());
        assert!(Interval::new(at(mon(10, 0)), at(mon(9, 0))).is_err());
    }

    #[test]
    fn cf_64_65_availability_excludes_busy_people_unless_their_booking_is_excluded() {
        let schedule = booked_monday().build();
        let overlapping = iv(mon(10, 15), mon(10, 45));
        let later = iv(mon(11, 0), mon(11, 30));
        let own = Some(BookingRef::Appointment(AppointmentId(1)));
        assert_eq!(schedule.available_doctors(&[A, B], &overlapping, None), [B]);
        assert_eq!(
            schedule.available_patients(&[P, Q], &overlapping, None),
            [Q]
        );
        assert_eq!(schedule.available_doctors(&[A, B], &later, None), [A, B]);
        assert_eq!(schedule.available_patients(&[P, Q], &later, None), [P, Q]);
        assert_eq!(
            schedule.available_doctors(&[A, B], &overlapping, own),
            [A, B]
        );
        assert_eq!(
            schedule.available_patients(&[P, Q], &overlapping, own),
            [P, Q]
        );
    }

    #[test]
    fn availability_of_rooms_counts_appointment_resources_and_operation_rooms() {
        let schedule = open_monday()
            .appointment(1, A, P, mon(10, 0), mon(10, 30), &[R])
            .operation(2, team(B, None, None), Q, R2, &[], mon(11, 0), mon(12, 0))
            .build();
        let cases = [
            (iv(mon(10, 0), mon(10, 30)), vec![R2]),
            (iv(mon(11, 30), mon(12, 30)), vec![R]),
            (iv(mon(10, 30), mon(11, 0)), vec![R, R2]),
        ];
        for (interval, expected) in cases {
            assert_eq!(
                schedule.available_resources(&[R, R2], &interval, None),
                expected
            );
        }
    }

    #[test]
    fn doctor_availability_also_applies_hours_absences_breaks_and_operations() {
        let schedule = open_monday()
            .doctor_hours(C, MON, (8, 0), (18, 0))
            .absence(1, B, monday(), monday())
            .doctor_break(C, monday(), (10, 0), (10, 15))
            .operation(4, team(A, None, None), P, R, &[], mon(9, 0), mon(10, 10))
            .build();
        assert!(
            schedule
                .available_doctors(&[A, B, C], &iv(mon(10, 0), mon(10, 30)), None)
                .is_empty()
        );
        assert_eq!(
            schedule.available_doctors(&[A, B, C], &iv(mon(10, 15), mon(10, 45)), None),
            [A, C]
        );
        assert!(
            schedule
                .available_doctors(&[A], &iv(mon(18, 0), mon(18, 30)), None)
                .is_empty()
        );
    }

    #[test]
    fn appointment_conflicts_are_listed_in_the_original_order() {
        let schedule = open_monday()
            .doctor_break(A, monday(), (10, 0), (10, 10))
            .appointment(1, A, Q, mon(10, 0), mon(10, 20), &[])
            .operation(
                2,
                team(A, None, None),
                PatientId(12),
                R2,
                &[],
                mon(10, 0),
                mon(10, 20),
            )
            .operation(
                3,
                team(B, None, None),
                PatientId(13),
                R,
                &[],
                mon(10, 0),
                mon(10, 20),
            )
            .appointment(4, B, PatientId(14), mon(10, 0), mon(10, 20), &[R])
            .appointment(5, B, P, mon(10, 20), mon(10, 40), &[])
            .build();
        let request = with_room(appt(A, P, iv(mon(10, 0), mon(10, 30))), R);
        let conflicts = schedule.check_appointment(&request).expect_err("busy");
        let summary: Vec<_> = conflicts
            .conflicts()
            .iter()
            .map(|c| match c {
                Conflict::Booking(b) => format!("{}:{}", b.kind.as_str(), b.booking),
                other => other.code().to_owned(),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "break",
                "doctor_conflict:appointment #1",
                "doctor_conflict:operation #2",
                "room_conflict:appointment #4",
                "room_conflict:operation #3",
                "patient_conflict:appointment #5",
            ]
        );
    }

    // ---- 8.4 Operations ---------------------------------------------------------------------

    /// PH and DH for A, B, C Mon 10–12.
    fn op_monday() -> Fixture {
        Fixture::berlin()
            .practice(MON, (10, 0), (12, 0))
            .doctor_hours(A, MON, (10, 0), (12, 0))
            .doctor_hours(B, MON, (10, 0), (12, 0))
            .doctor_hours(C, MON, (10, 0), (12, 0))
    }

    fn op_interval(start: At, duration: SlotDuration) -> Interval {
        Interval::starting_at(at(start), duration.as_delta()).expect("interval")
    }

    #[test]
    fn op_68_operation_inside_hours_is_accepted_with_its_derived_end() {
        let duration = SlotDuration::for_operation(10, 30, 10).expect("50 minutes");
        let interval = op_interval(mon(10, 0), duration);
        assert_eq!(interval.end(), at(mon(10, 50)));
        let mut request = op(team(A, None, None), P, R, interval);
        request.devices.push(V);
        assert_eq!(op_monday().build().check_operation(&request), Ok(()));
    }

    #[test]
    fn op_69_same_room_overlap_is_room_conflict() {
        let schedule = op_monday()
            .operation(1, team(A, None, None), P, R, &[V], mon(10, 0), mon(10, 50))
            .build();
        let request = op(team(B, None, None), Q, R, iv(mon(10, 30), mon(11, 20)));
        assert_eq!(
            op_reasons(schedule.check_operation(&request)),
            ["room_conflict"]
        );
    }

    #[test]
    fn op_71_operation_duration_counts_negative_parts_as_zero() {
        assert_eq!(
            SlotDuration::for_operation(0, 0, 0),
            Err(crate::scheduling::SuggestError::DurationTooShort)
        );
        assert_eq!(
            SlotDuration::for_operation(-10, 30, 0).map(|d| d.minutes()),
            Ok(30)
        );
    }

    #[test]
    fn op_73_74_operation_must_end_within_hours_and_not_cross_midnight() {
        let tuesday = monday() + Duration::days(1);
        let schedule = op_monday()
            .practice(MON, (0, 0), (9, 0))
            .practice(MON, (20, 0), (23, 59))
            .doctor_hours(A, MON, (20, 0), (23, 59))
            .practice(TUE, (0, 0), (8, 0))
            .doctor_hours(A, TUE, (0, 0), (8, 0))
            .build();
        let cases = [
            (
                "op_73 11:30 + 50 min past 12:00",
                iv(mon(11, 30), mon(12, 20)),
                vec!["hours_conflict"],
            ),
            (
                "op_73 11:10–12:00 ends at window end",
                iv(mon(11, 10), mon(12, 0)),
                vec![],
            ),
            (
                "op_74 23:30 to 00:20 crosses midnight",
                iv(mon(23, 30), (tuesday, 0, 20)),
                vec!["hours_conflict"],
            ),
        ];
        for (name, interval, expected) in cases {
            let request = op(team(A, None, None), P, R, interval);
            assert_eq!(
                op_reasons(schedule.check_operation(&request)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn op_75_76_77_78_team_members_are_checked_and_named() {
        let schedule = op_monday()
            .appointment(1, B, Q, mon(10, 30), mon(11, 0), &[]) // assistant busy
            .absence(2, C, monday(), monday()) // anaesthetist absent
            .build();
        let request = op(team(A, Some(B), Some(C)), P, R, iv(mon(10, 0), mon(10, 50)));
        let conflicts = schedule.check_operation(&request).expect_err("team");
        let found: Vec<_> = conflicts
            .conflicts()
            .iter()
            .map(|c| (c.operation_reason(), c.person()))
            .collect();
        assert_eq!(
            found,
            [
                ("appointment_conflict", Some(B)), // op_75
                ("absence_conflict", Some(C)),     // op_76
            ]
        );
        let Conflict::Booking(b) = conflicts.first() else {
            panic!("expected a booking conflict");
        };
        assert_eq!(b.role, Some(PersonRole::Assistant), "who: assistant");

        let with_break = op_monday()
            .practice_break(monday(), (10, 20), (10, 30))
            .build();
        let request = op(team(A, Some(B), None), P, R, iv(mon(10, 0), mon(10, 50)));
        // op_77: a practice-wide break blocks every member.
        assert_eq!(
            op_reasons(with_break.check_operation(&request)),
            ["break_conflict", "break_conflict"]
        );

        // op_78: the room is booked as an appointment resource.
        let room_booked = op_monday()
            .appointment(1, C, Q, mon(10, 40), mon(11, 0), &[R])
            .build();
        assert_eq!(
            op_reasons(room_booked.check_operation(&request)),
            ["room_conflict_with_appointments"]
        );
    }

    #[test]
    fn op_80_82_updates_recheck_stored_devices_and_the_patient() {
        let schedule = op_monday()
            .operation(1, team(A, None, None), P, R, &[V], mon(10, 0), mon(10, 50))
            .operation(2, team(B, None, None), Q, R2, &[V], mon(11, 0), mon(11, 50))
            .appointment(3, C, Q, mon(11, 0), mon(11, 30), &[])
            .build();
        // op_80: operation 1 moves to 11:00 keeping its stored device V (busy in op 2).
        let mut moved = op(team(A, None, None), P, R, iv(mon(11, 0), mon(11, 50)));
        moved.id = Some(OperationId(1));
        moved.devices.push(V);
        assert_eq!(
            op_reasons(schedule.check_operation(&moved)),
            ["device_conflict"]
        );
        // op_82: a new operation for Q where Q already has appointment 3 (and operation 2).
        let create = op(team(A, None, None), Q, R, iv(mon(11, 0), mon(11, 50)));
        let conflicts = schedule.check_operation(&create).expect_err("patient");
        let patient: Vec<_> = conflicts
            .conflicts()
            .iter()
            .filter_map(|c| match c {
                Conflict::Booking(b) if b.kind == ConflictKind::Patient => Some(b.booking),
                _ => None,
            })
            .collect();
        assert_eq!(
            patient,
            [
                BookingRef::Appointment(AppointmentId(3)),
                BookingRef::Operation(OperationId(2)),
            ]
        );
        // Update of operation 2 into Q's appointment: still a patient conflict, self excluded.
        let mut update = op(team(B, None, None), Q, R2, iv(mon(11, 0), mon(11, 50)));
        update.id = Some(OperationId(2));
        assert_eq!(
            op_reasons(schedule.check_operation(&update)),
            ["patient_conflict"]
        );
    }

    #[test]
    fn operation_conflicts_follow_room_device_team_patient_order() {
        let schedule = op_monday()
            .appointment(1, C, PatientId(20), mon(10, 0), mon(10, 20), &[R, V])
            .operation(
                2,
                team(B, None, None),
                PatientId(21),
                R,
                &[V],
                mon(10, 30),
                mon(10, 50),
            )
            .appointment(3, A, P, mon(10, 0), mon(10, 10), &[])
            .build();
        let mut request = op(team(A, Some(B), None), P, R, iv(mon(10, 0), mon(10, 50)));
        request.devices.push(V);
        assert_eq!(
            op_reasons(schedule.check_operation(&request)),
            [
                "room_conflict",
                "room_conflict_with_appointments",
                "device_conflict",
                "device_conflict_with_appointments",
                "appointment_conflict",
                "operation_conflict",
                "patient_conflict",
            ]
        );
    }

    #[test]
    fn legacy_operation_with_one_person_in_two_roles_is_reported_once() {
        let mut input = op_monday().build_input();
        let interval = iv(mon(10, 0), mon(10, 50));
        for role in [PersonRole::PrimarySurgeon, PersonRole::Anesthesist] {
            input.busy.push(crate::scheduling::BusyInterval {
                interval,
                booking: BookingRef::Operation(OperationId(1)),
                occupant: crate::scheduling::Occupant::Person { user: A, role },
                state: BookingState::Active,
            });
        }
        let schedule = Schedule::new(input);
        let request = appt(A, P, iv(mon(10, 30), mon(11, 0)));
        assert_eq!(
            codes(schedule.check_appointment(&request)),
            ["doctor_conflict"]
        );
    }
}
