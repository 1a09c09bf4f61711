//! Reminders exactly once across processes (issue #14): two real `praxi serve` processes with
//! the reminder sender on one database and one local SMTP sink; N due reminders written by
//! the booking transaction (`Store::save_appointment`) while both run; the sink receives each
//! exactly once. On SQLite (a file shared by both processes: the single-writer claim holds
//! across processes through the file's write lock) and on PostgreSQL (`FOR UPDATE SKIP
//! LOCKED`) when `PRAXI_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use praxi_domain::Role;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::patient::{PatientFields, PatientId};
use praxi_store::Store;
use praxi_store::appointments::{AppointmentDraft, ScheduleCheck};
use praxi_store::audit::AuditEntry;
use praxi_store::outbox::OutboxFilter;
use praxi_store::users::NewUser;

#[path = "../../praxi-server/tests/api/smtp_sink.rs"]
mod smtp_sink;

use smtp_sink::SmtpSink;

const BIN: &str = env!("CARGO_BIN_EXE_praxi");
const SECRET: &str = "reminder-test-secret-key-0123456789abcdef";
/// Reminders written while both processes run (more than one claim batch of 20).
const N: usize = 45;

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

async fn serve(data_dir: &std::path::Path, database_url: &str, smtp_url: &str) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .env_remove("PRAXI_REDIS_URL")
        .env("DATABASE_URL", database_url)
        .env("PRAXI_SECRET_KEY", SECRET)
        .env("PRAXI_DATA_DIR", data_dir)
        .env("PRAXI_BIND", format!("127.0.0.1:{port}"))
        .env("PRAXI_SMTP_URL", smtp_url)
        .env("PRAXI_SMTP_FROM", "Praxis Sonne <praxis@example.test>")
        .env("PRAXI_REMINDER_POLL_SECONDS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn praxi");
    let server = Server { child };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let health = client
            .get(format!("http://127.0.0.1:{port}/api/health/"))
            .send()
            .await;
        if health.is_ok_and(|res| res.status() == 200) {
            return server;
        }
        assert!(Instant::now() < deadline, "praxi did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn audit(action: &str, patient_id: Option<i32>) -> AuditEntry {
    AuditEntry {
        user_id: None,
        username: "test".to_owned(),
        role_name: "system".to_owned(),
        action: action.to_owned(),
        patient_id,
        meta: None,
        request_id: None,
        subjects: Vec::new(),
    }
}

/// A doctor and `N` patients with e-mail addresses (before the processes start, so neither
/// creates the first admin).
async fn seed(store: &Store) -> i64 {
    store.migrate().await.unwrap();
    store.ensure_roles().await.unwrap();
    let doctor = store
        .create_user(
            NewUser {
                username: "dr.anna".to_owned(),
                password_hash: "!".to_owned(),
                role: Some(Role::Doctor),
                first_name: "Anna".to_owned(),
                last_name: "Arzt".to_owned(),
                email: None,
                calendar_color: None,
                is_staff: false,
                is_superuser: false,
            },
            Utc::now(),
        )
        .await
        .unwrap();
    for n in 1..=N {
        let id = i32::try_from(n).unwrap();
        store
            .create_patient(
                Some(PatientId::new(i64::from(id)).unwrap()),
                PatientFields {
                    first_name: "P".to_owned(),
                    last_name: format!("Patient{n}"),
                    email: Some(format!("p{n}@example.test")),
                    ..PatientFields::default()
                },
                Utc::now(),
                |id| audit("patient_create", Some(id)),
            )
            .await
            .unwrap();
    }
    doctor.id
}

async fn exactly_once_with_two_processes(database_url: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(database_url).await.unwrap();
    let doctor = seed(&store).await;
    let sink = SmtpSink::start();
    let first = serve(dir.path(), database_url, &sink.url()).await;
    let second = serve(dir.path(), database_url, &sink.url()).await;

    // N bookings within the next 24 hours: each reminder is due at once.
    let now = Utc::now();
    for n in 1..=N {
        let patient = i32::try_from(n).unwrap();
        let start = now + chrono::Duration::hours(2) + chrono::Duration::minutes(20 * n as i64);
        store
            .save_appointment(
                None,
                AppointmentDraft {
                    patient_id: patient,
                    doctor_id: doctor,
                    type_id: None,
                    resources: Vec::new(),
                    start_time: start,
                    end_time: start + chrono::Duration::minutes(20),
                    status: AppointmentStatus::Scheduled,
                    notes: None,
                    hold_id: None,
                    override_reason: None,
                },
                chrono_tz::Europe::Berlin,
                ScheduleCheck::Skip,
                Utc::now(),
                |_| audit("appointment_create", Some(patient)),
            )
            .await
            .unwrap();
    }

    let deadline = Instant::now() + Duration::from_secs(90);
    while sink.messages().len() < N {
        assert!(
            Instant::now() < deadline,
            "only {} of {N} reminders arrived",
            sink.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give a duplicate every chance to show up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let messages = sink.messages();
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for message in &messages {
        for to in &message.to {
            *per_recipient.entry(to.clone()).or_default() += 1;
        }
    }
    assert_eq!(messages.len(), N, "each reminder exactly once");
    assert_eq!(per_recipient.len(), N);
    assert!(
        per_recipient.values().all(|count| *count == 1),
        "{per_recipient:?}"
    );

    let rows = store
        .outbox_entries(&OutboxFilter {
            limit: Some(1000),
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), N);
    assert!(
        rows.iter()
            .all(|row| row.status.as_str() == "sent" && row.attempts == 1),
        "{rows:?}"
    );
    let senders: std::collections::HashSet<_> = rows
        .iter()
        .filter_map(|row| row.claimed_by.clone())
        .collect();
    eprintln!("reminders sent by {} sender(s)", senders.len());
    drop(second);
    drop(first);
    store.close().await.unwrap();
}

#[tokio::test]
async fn two_processes_deliver_each_reminder_exactly_once_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("reminders.sqlite3").display()
    );
    exactly_once_with_two_processes(&url).await;
}

#[tokio::test]
async fn two_processes_deliver_each_reminder_exactly_once_on_postgres() {
    use sea_orm::ConnectionTrait;
    let Ok(admin_url) = std::env::var("PRAXI_TEST_DATABASE_URL") else {
        eprintln!("PRAXI_TEST_DATABASE_URL not set: PostgreSQL run skipped");
        return;
    };
    let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
    let name = format!("{run_db}_rem_{}_{}", std::process::id(), free_port());
    let admin = sea_orm::Database::connect(&admin_url).await.expect("pg");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create db");
    let (base, _) = admin_url.rsplit_once('/').expect("path");
    exactly_once_with_two_processes(&format!("{base}/{name}")).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    let _ = admin.close().await;
}
