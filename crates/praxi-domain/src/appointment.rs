//! Appointments (data-model.md §10.1, api.md §3.2, §5 item 7): the status, which statuses an
//! appointment may be marked a no-show from, and when an edit needs the scheduling engine.
//!
//! * [`AppointmentStatus`] is the one typed status; its strings exist only in
//!   [`AppointmentStatus::as_str`] / [`AppointmentStatus::parse`] (and serde).
//! * [`no_show_problem`] is the no-show rule: only past appointments that are scheduled or
//!   confirmed (marking one again is allowed and changes nothing).
//! * [`needs_schedule_check`] decides whether an edit must pass the engine: a change of time,
//!   doctor, patient or resources, or a revival of a cancelled appointment. Status-only and
//!   notes-only edits of old appointments always work.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status of an appointment (data-model.md §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Geplant (the default).
    Scheduled,
    /// Bestätigt.
    Confirmed,
    /// Abgesagt / Storniert.
    Cancelled,
    /// Erledigt.
    Completed,
}

impl AppointmentStatus {
    /// Every status, in the order of the schema's choices.
    pub const ALL: [AppointmentStatus; 4] = [
        AppointmentStatus::Scheduled,
        AppointmentStatus::Confirmed,
        AppointmentStatus::Cancelled,
        AppointmentStatus::Completed,
    ];

    /// The status a new appointment gets when none is sent.
    pub const DEFAULT: AppointmentStatus = AppointmentStatus::Scheduled;

    /// The statuses a booking still occupies its slot in (all but cancelled).
    pub const fn is_active(self) -> bool {
        !matches!(self, AppointmentStatus::Cancelled)
    }

    /// Scheduled or confirmed: the patient is still expected.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
        )
    }

    /// The stored and wire value.
    pub fn as_str(&self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "scheduled",
            AppointmentStatus::Confirmed => "confirmed",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Completed => "completed",
        }
    }

    /// Parses a stored or wire value (exact, lowercase).
    pub fn parse(value: &str) -> Option<AppointmentStatus> {
        AppointmentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The stored values of the open statuses (for SQL built from `as_str()`).
    pub fn open_values() -> [&'static str; 2] {
        [
            AppointmentStatus::Scheduled.as_str(),
            AppointmentStatus::Confirmed.as_str(),
        ]
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown status value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" is not a valid choice.", self.0)
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for AppointmentStatus {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        AppointmentStatus::parse(value).ok_or_else(|| UnknownStatus(value.to_owned()))
    }
}

/// Why an appointment cannot be marked as no-show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoShowProblem {
    /// It has not ended yet.
    NotPast,
    /// Only scheduled or confirmed appointments can be no-shows.
    WrongStatus,
}

/// The no-show rule: only past appointments that are scheduled or confirmed; marking one
/// that is already a no-show again is allowed (and changes nothing).
pub fn no_show_problem(
    end_time: DateTime<Utc>,
    status: AppointmentStatus,
    is_no_show: bool,
    now: DateTime<Utc>,
) -> Option<NoShowProblem> {
    if end_time >= now {
        return Some(NoShowProblem::NotPast);
    }
    if !is_no_show && !status.is_open() {
        return Some(NoShowProblem::WrongStatus);
    }
    None
}

/// What the engine looks at in an appointment: when, who, with what, and whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub doctor_id: i64,
    pub patient_id: i32,
    /// Resource ids in any order.
    pub resource_ids: Vec<i64>,
    pub status: AppointmentStatus,
}

/// Whether going from `before` to `after` needs the scheduling engine: a change of time,
/// doctor, patient or resources of an active appointment, or a revival from cancelled
/// (api.md §5 item 7: status/notes edits of old appointments always work). A new booking
/// (`before` = `None`) is checked unless it is created cancelled.
pub fn needs_schedule_check(before: Option<&Placement>, after: &Placement) -> bool {
    if !after.status.is_active() {
        return false;
    }
    let Some(before) = before else {
        return true;
    };
    let mut before_resources = before.resource_ids.clone();
    let mut after_resources = after.resource_ids.clone();
    before_resources.sort_unstable();
    after_resources.sort_unstable();
    after.start_time != before.start_time
        || after.end_time != before.end_time
        || after.doctor_id != before.doctor_id
        || after.patient_id != before.patient_id
        || before_resources != after_resources
        || !before.status.is_active()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
            .single()
            .expect("valid")
    }

    fn placement() -> Placement {
        Placement {
            start_time: at(10),
            end_time: at(11),
            doctor_id: 2,
            patient_id: 7,
            resource_ids: vec![3, 1],
            status: AppointmentStatus::Scheduled,
        }
    }

    #[test]
    fn statuses_round_trip_their_wire_values() {
        for status in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.as_str().parse::<AppointmentStatus>(), Ok(status));
        }
        assert_eq!(AppointmentStatus::parse("Scheduled"), None);
        assert!("no_show".parse::<AppointmentStatus>().is_err());
    }

    #[test]
    fn only_past_open_appointments_can_be_no_shows() {
        use AppointmentStatus::*;
        let now = at(12);
        assert_eq!(
            no_show_problem(at(13), Scheduled, false, now),
            Some(NoShowProblem::NotPast)
        );
        assert_eq!(
            no_show_problem(at(12), Scheduled, false, now),
            Some(NoShowProblem::NotPast)
        );
        assert_eq!(no_show_problem(at(11), Scheduled, false, now), None);
        assert_eq!(no_show_problem(at(11), Confirmed, false, now), None);
        assert_eq!(
            no_show_problem(at(11), Cancelled, false, now),
            Some(NoShowProblem::WrongStatus)
        );
        assert_eq!(
            no_show_problem(at(11), Completed, false, now),
            Some(NoShowProblem::WrongStatus)
        );
        // Marking again is allowed.
        assert_eq!(no_show_problem(at(11), Completed, true, now), None);
    }

    #[test]
    fn edits_that_move_nothing_skip_the_engine() {
        let before = placement();
        let mut same = before.clone();
        same.resource_ids = vec![1, 3];
        assert!(!needs_schedule_check(Some(&before), &same));
        let mut done = before.clone();
        done.status = AppointmentStatus::Completed;
        assert!(!needs_schedule_check(Some(&before), &done));
        let mut cancelled = before.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert!(!needs_schedule_check(Some(&before), &cancelled));
        assert!(!needs_schedule_check(None, &cancelled));
        assert!(needs_schedule_check(None, &before));
    }

    #[test]
    fn moves_and_revivals_need_the_engine() {
        let before = placement();
        let changes: [fn(&mut Placement); 5] = [
            |p| p.start_time = at(9),
            |p| p.end_time = at(12),
            |p| p.doctor_id = 5,
            |p| p.patient_id = 8,
            |p| p.resource_ids = vec![1],
        ];
        for (index, change) in changes.iter().enumerate() {
            let mut after = before.clone();
            change(&mut after);
            assert!(
                needs_schedule_check(Some(&before), &after),
                "change {index}"
            );
        }
        let mut cancelled = before.clone();
        cancelled.status = AppointmentStatus::Cancelled;
        assert!(needs_schedule_check(Some(&cancelled), &before));
    }
}
