//! Appointment reminders (issue #14): the outbox status, when a reminder is due, what an edit
//! of the appointment does to its reminder, and the retry schedule. Pure: "now" and the lead
//! time are parameters.

use chrono::{DateTime, Duration, Utc};

use crate::appointment::AppointmentStatus;

/// Attempts before a reminder is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 5;

/// How long a claimed row stays with its sender before another process may take it over.
pub const LEASE_SECONDS: i64 = 300;

/// The state of one outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting for `next_attempt_at`.
    Queued,
    /// Claimed by one sender until `claimed_until`.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after [`MAX_ATTEMPTS`] attempts.
    Failed,
    /// Not to be sent (appointment cancelled, moved into the past, deleted; patient opted out
    /// or without e-mail address).
    Cancelled,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Queued,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Cancelled,
    ];

    /// The stored and wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or wire value (exact, lowercase).
    pub fn parse(value: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// When the reminder of an appointment starting at `start` is due: `lead` before the start.
pub fn due_at(start: DateTime<Utc>, lead: Duration) -> DateTime<Utc> {
    start - lead
}

/// Whether an appointment in this state wants a reminder at all: still open (scheduled or
/// confirmed) and starting in the future.
pub fn wants_reminder(status: AppointmentStatus, start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.is_open() && start > now
}

/// The reminder rows an appointment already has that still count (queued, sending or sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingReminder {
    pub id: i64,
    pub status: OutboxStatus,
    pub due_at: DateTime<Utc>,
}

/// What a booking write does to the appointment's reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderPlan {
    /// Nothing to write.
    Keep,
    /// Insert a queued reminder due at `due_at`, first tried at `next_attempt_at`.
    Enqueue {
        due_at: DateTime<Utc>,
        next_attempt_at: DateTime<Utc>,
    },
    /// Move the queued rows to a new due time.
    Reschedule {
        ids: Vec<i64>,
        due_at: DateTime<Utc>,
        next_attempt_at: DateTime<Utc>,
    },
    /// Cancel the queued rows (the appointment no longer wants a reminder).
    Cancel { ids: Vec<i64> },
}

/// Decides what a booking write (create, move, cancel, any edit) does to the appointment's
/// reminder, given the rows it already has. A reminder for the same start that is being sent
/// or was sent is never sent again; a move to another time gets a fresh one. A due time already
/// in the past (booked at short notice) is sent at once.
pub fn plan(
    existing: &[ExistingReminder],
    status: AppointmentStatus,
    start: DateTime<Utc>,
    lead: Option<Duration>,
    now: DateTime<Utc>,
) -> ReminderPlan {
    let queued: Vec<i64> = existing
        .iter()
        .filter(|r| r.status == OutboxStatus::Queued)
        .map(|r| r.id)
        .collect();
    let Some(lead) = lead.filter(|_| wants_reminder(status, start, now)) else {
        return if queued.is_empty() {
            ReminderPlan::Keep
        } else {
            ReminderPlan::Cancel { ids: queued }
        };
    };
    let due = due_at(start, lead);
    let next_attempt_at = due.max(now);
    let handled = existing
        .iter()
        .any(|r| r.due_at == due && matches!(r.status, OutboxStatus::Sending | OutboxStatus::Sent));
    if handled {
        return if queued.is_empty() {
            ReminderPlan::Keep
        } else {
            ReminderPlan::Cancel { ids: queued }
        };
    }
    if queued.is_empty() {
        return ReminderPlan::Enqueue {
            due_at: due,
            next_attempt_at,
        };
    }
    if existing
        .iter()
        .all(|r| r.status != OutboxStatus::Queued || r.due_at == due)
    {
        return ReminderPlan::Keep;
    }
    ReminderPlan::Reschedule {
        ids: queued,
        due_at: due,
        next_attempt_at,
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: 1 min, 5 min, 30 min,
/// 2 h; `None` once [`MAX_ATTEMPTS`] are used up.
pub fn retry_delay(attempts: i32) -> Option<Duration> {
    match attempts {
        ..=1 => Some(Duration::minutes(1)),
        2 => Some(Duration::minutes(5)),
        3 => Some(Duration::minutes(30)),
        n if n < MAX_ATTEMPTS => Some(Duration::hours(2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn row(id: i64, status: OutboxStatus, due: DateTime<Utc>) -> ExistingReminder {
        ExistingReminder {
            id,
            status,
            due_at: due,
        }
    }

    const LEAD: Option<Duration> = Some(Duration::hours(2));

    #[test]
    fn a_new_booking_is_enqueued_lead_before_its_start() {
        let plan = plan(&[], AppointmentStatus::Scheduled, at(12), LEAD, at(8));
        assert_eq!(
            plan,
            ReminderPlan::Enqueue {
                due_at: at(10),
                next_attempt_at: at(10)
            }
        );
    }

    #[test]
    fn short_notice_is_due_now_and_past_or_cancelled_wants_none() {
        let plan_now = plan(&[], AppointmentStatus::Confirmed, at(12), LEAD, at(11));
        assert_eq!(
            plan_now,
            ReminderPlan::Enqueue {
                due_at: at(10),
                next_attempt_at: at(11)
            }
        );
        assert_eq!(
            plan(&[], AppointmentStatus::Scheduled, at(12), LEAD, at(13)),
            ReminderPlan::Keep
        );
        assert_eq!(
            plan(&[], AppointmentStatus::Scheduled, at(12), None, at(8)),
            ReminderPlan::Keep
        );
        let queued = [row(7, OutboxStatus::Queued, at(10))];
        assert_eq!(
            plan(&queued, AppointmentStatus::Cancelled, at(12), LEAD, at(8)),
            ReminderPlan::Cancel { ids: vec![7] }
        );
        assert_eq!(
            plan(&queued, AppointmentStatus::Completed, at(12), LEAD, at(8)),
            ReminderPlan::Cancel { ids: vec![7] }
        );
    }

    #[test]
    fn an_edit_keeps_a_sent_reminder_and_a_move_reschedules_or_sends_again() {
        let sent = [row(3, OutboxStatus::Sent, at(10))];
        assert_eq!(
            plan(&sent, AppointmentStatus::Scheduled, at(12), LEAD, at(11)),
            ReminderPlan::Keep
        );
        assert_eq!(
            plan(&sent, AppointmentStatus::Scheduled, at(15), LEAD, at(11)),
            ReminderPlan::Enqueue {
                due_at: at(13),
                next_attempt_at: at(13)
            }
        );
        let queued = [row(4, OutboxStatus::Queued, at(10))];
        assert_eq!(
            plan(&queued, AppointmentStatus::Scheduled, at(12), LEAD, at(8)),
            ReminderPlan::Keep
        );
        assert_eq!(
            plan(&queued, AppointmentStatus::Scheduled, at(16), LEAD, at(8)),
            ReminderPlan::Reschedule {
                ids: vec![4],
                due_at: at(14),
                next_attempt_at: at(14)
            }
        );
    }

    #[test]
    fn retries_back_off_and_stop_after_five_attempts() {
        let delays: Vec<Option<Duration>> = (1..=5).map(retry_delay).collect();
        assert_eq!(
            delays,
            vec![
                Some(Duration::minutes(1)),
                Some(Duration::minutes(5)),
                Some(Duration::minutes(30)),
                Some(Duration::hours(2)),
                None
            ]
        );
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(status));
        }
    }
}
