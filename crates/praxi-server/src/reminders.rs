//! Appointment reminders by e-mail (issue #14): the sender loop over the outbox
//! (`praxi_store::outbox`), SMTP delivery with lettre, and the German/English template.
//!
//! Each round claims due rows (a lease of [`LEASE_SECONDS`]), renders every message from the
//! current appointment, patient and doctor rows, hands it to the SMTP server and records the
//! outcome while it still holds the claim. A transient SMTP failure (4xx, connection) is
//! retried with the backoff of `praxi_domain::reminder::retry_delay`; a permanent one (5xx) or
//! the fifth failure marks the row `failed`, which staff see and can queue again.
//!
//! Exactly once: two senders never hold the same row (see `praxi_store::outbox`). The one
//! window is a process dying after the SMTP server accepted a message and before the row was
//! marked sent: its lease runs out and the reminder is sent a second time (at least once).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use praxi_domain::reminder::{LEASE_SECONDS, MAX_ATTEMPTS, retry_delay};
use praxi_store::StoreError;
use praxi_store::audit::AuditEntry;
use praxi_store::outbox::{OutboxEntry, ReminderDetails, ReminderOutcome};
use serde_json::json;

use crate::state::AppState;
use crate::web::i18n::Lang;

/// Rows claimed per round.
const BATCH: u64 = 20;

/// The sender's settings (`PRAXI_SMTP_URL`, `PRAXI_SMTP_FROM`, `PRAXI_PRACTICE_NAME`,
/// `PRAXI_REMINDER_LANGUAGE`).
#[derive(Clone)]
pub struct ReminderSettings {
    /// `smtp://host:port` (plain, STARTTLS with `?tls=required`) or
    /// `smtps://user:pass@host[:port]` (TLS).
    pub smtp_url: String,
    /// The sender address (`Praxis <praxis@example.org>` or a bare address).
    pub from: String,
    /// The practice name in the message.
    pub practice_name: String,
    /// The language of the messages (the practice default).
    pub language: Lang,
    /// Pause between rounds when nothing was due.
    pub poll_interval: StdDuration,
    /// This process's name in `claimed_by`.
    pub sender_id: String,
}

impl std::fmt::Debug for ReminderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderSettings")
            .field("smtp_url", &"<redacted>")
            .field("from", &self.from)
            .field("practice_name", &self.practice_name)
            .field("language", &self.language)
            .field("poll_interval", &self.poll_interval)
            .field("sender_id", &self.sender_id)
            .finish()
    }
}

impl ReminderSettings {
    /// Settings with defaults: German, "Praxis", a 5-second poll, a random sender id.
    pub fn new(smtp_url: String, from: String) -> Self {
        ReminderSettings {
            smtp_url,
            from,
            practice_name: "Praxis".to_owned(),
            language: Lang::De,
            poll_interval: StdDuration::from_secs(5),
            sender_id: format!("praxi-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub cancelled: usize,
}

/// The reminder sender of one process.
pub struct ReminderSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: ReminderSettings,
}

impl std::fmt::Debug for ReminderSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderSender")
            .field("settings", &self.settings)
            .finish()
    }
}

impl ReminderSender {
    /// Checks the settings (URL and sender address) and builds the SMTP transport.
    pub fn new(settings: ReminderSettings) -> Result<ReminderSender, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|error| format!("PRAXI_SMTP_URL: {error}"))?
            .timeout(Some(StdDuration::from_secs(30)))
            .build();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|error| format!("PRAXI_SMTP_FROM: {error}"))?;
        Ok(ReminderSender {
            transport,
            from,
            settings,
        })
    }

    /// Runs rounds until shutdown: straight on while rows were due, else after the poll
    /// interval. A failed round (database unavailable) is logged and tried again later.
    pub async fn run(self, state: AppState) {
        let mut shutdown = state.shutdown.clone();
        tracing::info!(sender = %self.settings.sender_id, "reminder sender started");
        loop {
            let claimed = match self.round(&state).await {
                Ok(report) => report.claimed,
                Err(error) => {
                    tracing::warn!(%error, "reminder round failed");
                    0
                }
            };
            if *shutdown.borrow() {
                break;
            }
            if claimed as u64 >= BATCH {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!("reminder sender stopped");
    }

    /// One round at the state's clock: claim, render, send, record.
    pub async fn round(&self, state: &AppState) -> Result<RoundReport, StoreError> {
        let me = self.settings.sender_id.as_str();
        let now = state.now();
        let claimed = state
            .store
            .claim_reminders(me, now, Duration::seconds(LEASE_SECONDS), BATCH)
            .await?;
        let mut report = RoundReport {
            claimed: claimed.len(),
            ..RoundReport::default()
        };
        if claimed.is_empty() {
            return Ok(report);
        }
        let ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
        let details = state.store.reminder_details(&ids).await?;
        for entry in &claimed {
            let detail = details.iter().find(|d| d.outbox_id == entry.id);
            let outcome = self.deliver(state, entry, detail).await;
            let audit = (outcome == ReminderOutcome::Sent).then(|| sent_audit(entry));
            let now = state.now();
            match &outcome {
                ReminderOutcome::Sent => report.sent += 1,
                ReminderOutcome::Retry { .. } => report.retried += 1,
                ReminderOutcome::Failed { .. } => report.failed += 1,
                ReminderOutcome::Cancelled { .. } => report.cancelled += 1,
            }
            let kept = state
                .store
                .finish_reminder(entry.id, me, &outcome, now, audit.as_ref())
                .await?;
            if !kept {
                tracing::warn!(
                    outbox_id = entry.id,
                    "reminder claim lost before it was recorded"
                );
            }
        }
        Ok(report)
    }

    async fn deliver(
        &self,
        state: &AppState,
        entry: &OutboxEntry,
        detail: Option<&ReminderDetails>,
    ) -> ReminderOutcome {
        let cancelled = |reason: &str| ReminderOutcome::Cancelled {
            reason: reason.to_owned(),
        };
        let Some(detail) = detail else {
            return cancelled("patient deleted");
        };
        let (Some(start), Some(status)) = (detail.start_time, detail.appointment_status.as_deref())
        else {
            return cancelled("appointment deleted");
        };
        let open = praxi_domain::appointment::AppointmentStatus::parse(status)
            .is_some_and(|s| s.is_open());
        if !open || start <= state.now() {
            return cancelled("appointment no longer due");
        }
        if detail.reminder_opt_out {
            return cancelled("patient opted out");
        }
        let Some(email) = detail.email.as_deref().filter(|e| !e.trim().is_empty()) else {
            return cancelled("no e-mail address");
        };
        let Ok(to) = email.trim().parse::<Mailbox>() else {
            return cancelled("invalid e-mail address");
        };
        let (subject, body) = render(
            self.settings.language,
            &self.settings.practice_name,
            detail,
            start,
            state.tz(),
        );
        let message = match Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
        {
            Ok(message) => message,
            Err(_) => return cancelled("message could not be built"),
        };
        match self.transport.send(message).await {
            Ok(_) => ReminderOutcome::Sent,
            Err(error) => failure(entry.attempts, &error, state.now()),
        }
    }
}

/// The outcome of a failed delivery: permanent (5xx) → failed; transient → retry with backoff
/// until [`MAX_ATTEMPTS`]. The stored text names the SMTP code only (a server's answer may
/// quote the address).
fn failure(
    attempts: i32,
    error: &lettre::transport::smtp::Error,
    now: DateTime<Utc>,
) -> ReminderOutcome {
    let code = error
        .status()
        .map(|code| code.to_string())
        .unwrap_or_else(|| "no answer".to_owned());
    if error.is_permanent() {
        return ReminderOutcome::Failed {
            error: format!("smtp permanent error ({code})"),
        };
    }
    let error = format!("smtp transient error ({code}), attempt {attempts} of {MAX_ATTEMPTS}");
    match retry_delay(attempts) {
        Some(delay) => ReminderOutcome::Retry {
            next_attempt_at: now + delay,
            error,
        },
        None => ReminderOutcome::Failed { error },
    }
}

fn sent_audit(entry: &OutboxEntry) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "reminder-sender".to_owned(),
        role_name: "system".to_owned(),
        action: "reminder_sent".to_owned(),
        patient_id: Some(entry.patient_id),
        meta: Some(json!({"outbox_id": entry.id, "appointment_id": entry.appointment_id})),
        request_id: None,
        subjects: Vec::new(),
    }
}

/// Subject and plain-text body of a reminder: practice, date and time in the practice zone,
/// doctor; never a diagnosis or notes.
pub fn render(
    lang: Lang,
    practice: &str,
    detail: &ReminderDetails,
    start: DateTime<Utc>,
    tz: Tz,
) -> (String, String) {
    let local = start.with_timezone(&tz);
    let date = match lang {
        Lang::De => local.format("%d.%m.%Y").to_string(),
        Lang::En => local.format("%Y-%m-%d").to_string(),
    };
    let time = local.format("%H:%M").to_string();
    let doctor = format!(
        "{} {}",
        detail.doctor_first_name.as_deref().unwrap_or_default(),
        detail.doctor_last_name.as_deref().unwrap_or_default()
    );
    let fill = |text: &str| {
        text.replace("{practice}", practice)
            .replace("{date}", &date)
            .replace("{time}", &time)
            .replace("{doctor}", doctor.trim())
            .replace(
                "{name}",
                format!("{} {}", detail.first_name, detail.last_name).trim(),
            )
    };
    (
        fill(lang.t("reminder.mail.subject")),
        fill(lang.t("reminder.mail.body")),
    )
}

/// The texts of reminders and of the reminder pages (chained into the catalogue).
pub(crate) fn texts(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "reminder.mail.subject" => (
            "Terminerinnerung: {date} um {time} Uhr – {practice}",
            "Appointment reminder: {date} at {time} – {practice}",
        ),
        "reminder.mail.body" => (
            "Guten Tag {name},\n\nwir erinnern Sie an Ihren Termin am {date} um {time} Uhr bei {doctor}.\n\nFalls Sie den Termin nicht wahrnehmen können, sagen Sie ihn bitte rechtzeitig ab.\n\nMit freundlichen Grüßen\n{practice}\n",
            "Hello {name},\n\nthis is a reminder of your appointment on {date} at {time} with {doctor}.\n\nIf you cannot keep the appointment, please cancel it in good time.\n\nKind regards\n{practice}\n",
        ),
        "reminders.title" | "admin.reminders.title" => ("Erinnerungen", "Reminders"),
        "admin.reminders.description" => (
            "Terminerinnerungen per E-Mail: versendet, fehlgeschlagen, erneut senden.",
            "Appointment reminders by e-mail: sent, failed, send again.",
        ),
        "reminders.intro" => (
            "Terminerinnerungen per E-Mail: versendet, fehlgeschlagen und wartend.",
            "Appointment reminders by e-mail: sent, failed and waiting.",
        ),
        "reminders.status" => ("Status", "Status"),
        "reminders.due" => ("Fällig", "Due"),
        "reminders.appointment" => ("Termin", "Appointment"),
        "reminders.patient" => ("Patient", "Patient"),
        "reminders.attempts" => ("Versuche", "Attempts"),
        "reminders.sent_at" => ("Versendet", "Sent"),
        "reminders.error" => ("Grund", "Reason"),
        "reminders.retry" => ("Erneut senden", "Send again"),
        "reminders.all" => ("Alle", "All"),
        "reminders.requeued" => (
            "Die Erinnerung wird erneut gesendet.",
            "The reminder will be sent again.",
        ),
        "reminders.status.queued" => ("Wartend", "Queued"),
        "reminders.status.sending" => ("Wird gesendet", "Sending"),
        "reminders.status.sent" => ("Versendet", "Sent"),
        "reminders.status.failed" => ("Fehlgeschlagen", "Failed"),
        "reminders.status.cancelled" => ("Entfallen", "Cancelled"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn detail() -> ReminderDetails {
        ReminderDetails {
            outbox_id: 1,
            appointment_id: Some(2),
            start_time: None,
            end_time: None,
            appointment_status: Some("scheduled".to_owned()),
            patient_id: 3,
            first_name: "Erika".to_owned(),
            last_name: "Muster".to_owned(),
            email: Some("erika@example.test".to_owned()),
            reminder_opt_out: false,
            doctor_first_name: Some("Anna".to_owned()),
            doctor_last_name: Some("Arzt".to_owned()),
        }
    }

    #[test]
    fn the_template_shows_local_date_time_doctor_and_practice_in_both_languages() {
        let start = Utc
            .with_ymd_and_hms(2026, 7, 1, 7, 30, 0)
            .single()
            .unwrap_or_default();
        let tz = chrono_tz::Europe::Berlin;
        let (subject, body) = render(Lang::De, "Praxis Sonne", &detail(), start, tz);
        assert_eq!(
            subject,
            "Terminerinnerung: 01.07.2026 um 09:30 Uhr – Praxis Sonne"
        );
        assert!(body.contains("Guten Tag Erika Muster"), "{body}");
        assert!(body.contains("bei Anna Arzt"), "{body}");
        let (subject, body) = render(Lang::En, "Sun Practice", &detail(), start, tz);
        assert_eq!(
            subject,
            "Appointment reminder: 2026-07-01 at 09:30 – Sun Practice"
        );
        assert!(body.contains("with Anna Arzt"), "{body}");
    }
}
