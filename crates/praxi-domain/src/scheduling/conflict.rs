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

use super::ids::{AbsenceId, AppointmentId, BreakId, OperationId, PatientId, ResourceId, UserId};
use super::interval::Interval;
use super::model::{BookingRef, PersonRole, ResourceKind, Team};
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

/// What an overlapping booking collides on (API `type` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
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
    /// A stable snake-case code: the hours reason, `absence`, `break`, or the booking conflict
    /// type (`doctor_conflict`, `room_conflict`, `device_conflict`, `patient_conflict`).
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::Hours(h) => h.reason.as_str(),
            Conflict::Absence(_) => "absence",
            Conflict::Break(_) => "break",
            Conflict::Booking(b) => b.kind.as_str(),
        }
    }

    /// The reason of the original's operation conflict body (scheduling spec §3.5).
    pub fn operation_reason(&self) -> &'static str {
        match self {
            Conflict::Hours(_) => "hours_conflict",
            Conflict::Absence(_) => "absence_conflict",
            Conflict::Break(_) => "break_conflict",
            Conflict::Booking(b) => match (b.kind, b.booking) {
                (ConflictKind::Doctor, BookingRef::Appointment(_)) => "appointment_conflict",
                (ConflictKind::Doctor, BookingRef::Operation(_)) => "operation_conflict",
                (ConflictKind::Room, BookingRef::Operation(_)) => "room_conflict",
                (ConflictKind::Room, BookingRef::Appointment(_)) => {
                    "room_conflict_with_appointments"
                }
                (ConflictKind::Device, BookingRef::Operation(_)) => "device_conflict",
                (ConflictKind::Device, BookingRef::Appointment(_)) => {
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
            Conflict::Hours(_) | Conflict::Absence(_) | Conflict::Break(_) => true,
            Conflict::Booking(b) => {
                b.kind == ConflictKind::Doctor && matches!(b.booking, BookingRef::Appointment(_))
            }
        }
    }

    /// The person concerned (hours, absence, break and doctor conflicts).
    pub fn person(&self) -> Option<UserId> {
        match self {
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
        let exclude = request.id.map(BookingRef::Appointment);
        let interval = &request.interval;
        let segments = day_segments(self, interval);
        let mut out = Vec::new();
        self.collect_person_conflicts(
            request.doctor,
            PersonRole::AppointmentDoctor,
            interval,
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
                interval,
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
        if let Some(hours) = self.hours_conflict(person, role, segments) {
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
            interval,
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
