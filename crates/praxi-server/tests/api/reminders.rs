#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
//! Appointment reminders (issue #14): the booking transaction enqueues, the sender delivers to
//! a local SMTP sink exactly once (also with two senders racing), opt-out and cancellation send
//! nothing, transient failures back off and end as `failed`, visible to staff and queued again
//! by them. The test clock is moved to the due time (appointments are in January 2030).

use chrono::{DateTime, Duration, Utc};
use praxi_domain::Role;
use praxi_server::reminders::{ReminderSender, ReminderSettings, RoundReport};
use serde_json::json;

use crate::fixtures::{Practice, utc};
use crate::helpers::TestApp;
use crate::smtp_sink::SmtpSink;

fn sender(sink: &SmtpSink, id: &str) -> ReminderSender {
    let mut settings =
        ReminderSettings::new(sink.url(), "Praxis Sonne <praxis@example.test>".into());
    settings.sender_id = id.to_owned();
    settings.practice_name = "Praxis Sonne".to_owned();
    ReminderSender::new(settings).unwrap()
}

/// Moves the app's clock to `to` (forward only).
fn clock_to(app: &TestApp, to: DateTime<Utc>) {
    let by = to - app.state.now();
    assert!(by > Duration::zero(), "the clock only moves forward");
    app.state.clock.advance(by + Duration::seconds(1));
}

async fn set_email(app: &TestApp, patient: i32, email: &str) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .patch(
            &format!("/api/patients/{patient}/"),
            &json!({"email": email}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn reminders_of(app: &TestApp, appointment: i64) -> Vec<serde_json::Value> {
    let staff = app.as_role(Role::Assistant).await;
    let res = staff
        .get(&format!("/api/reminders/?appointment_id={appointment}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_booking_enqueues_a_reminder_that_is_delivered_exactly_once() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    set_email(&app, practice.patients[0], "p1@example.test").await;
    let sink = SmtpSink::start();
    let assistant = app.as_role(Role::Assistant).await;
    // Tuesday 10:00 (Berlin): due Monday 10:00, 24 hours before.
    let body = practice.booking(
        practice.doctor.id,
        practice.patients[0],
        (1, 10, 0),
        (1, 10, 30),
    );
    let id = practice.book(&assistant, &body).await;

    let rows = reminders_of(&app, id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "queued");
    assert_eq!(rows[0]["patient_id"], practice.patients[0]);
    assert_eq!(
        DateTime::parse_from_rfc3339(rows[0]["due_at"].as_str().unwrap()).unwrap(),
        utc(0, 10, 0)
    );

    // Not due yet: nothing is claimed.
    let first = sender(&sink, "sender-a");
    let second = sender(&sink, "sender-b");
    assert_eq!(first.round(&app.state).await.unwrap().claimed, 0);

    // Due: two senders race over the outbox; the sink gets the message once.
    clock_to(&app, utc(0, 10, 0));
    let (a, b) = tokio::join!(first.round(&app.state), second.round(&app.state));
    let (a, b): (RoundReport, RoundReport) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
    assert_eq!(a.claimed + b.claimed, 1, "{a:?} {b:?}");
    for _ in 0..3 {
        assert_eq!(first.round(&app.state).await.unwrap().claimed, 0);
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].to, vec!["<p1@example.test>".to_owned()]);
    assert!(
        messages[0].data.contains("praxis@example.test"),
        "{}",
        messages[0].data
    );

    let rows = reminders_of(&app, id).await;
    assert_eq!(rows[0]["status"], "sent");
    assert_eq!(rows[0]["attempts"], 1);
    assert!(rows[0]["sent_at"].is_string());

    // An edit that does not move the appointment sends nothing again (a fresh login: the
    // clock moved past the first token's lifetime).
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"notes": "bitte nüchtern"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(first.round(&app.state).await.unwrap().claimed, 0);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(reminders_of(&app, id).await.len(), 1);

    // Staff see it; doctors and billing do not.
    let sent = assistant.get("/api/reminders/?status=sent").await;
    assert_eq!(sent.status, 200);
    assert_eq!(sent.body.as_array().unwrap().len(), 1);
    let bad = assistant.get("/api/reminders/?status=lost").await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.body["status"].is_array(), "{}", bad.text);
    for role in [Role::Doctor, Role::Billing] {
        let res = app.as_role(role).await.get("/api/reminders/").await;
        assert_eq!(res.status, 403, "{role:?}: {}", res.text);
    }
}

#[tokio::test]
async fn an_opted_out_patient_and_a_cancelled_appointment_get_no_mail() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    set_email(&app, practice.patients[0], "p1@example.test").await;
    set_email(&app, practice.patients[1], "p2@example.test").await;
    let sink = SmtpSink::start();
    let assistant = app.as_role(Role::Assistant).await;

    let res = assistant
        .put(
            &format!("/api/patients/{}/reminders/", practice.patients[0]),
            &json!({"reminder_opt_out": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = assistant
        .get(&format!(
            "/api/patients/{}/reminders/",
            practice.patients[0]
        ))
        .await;
    assert_eq!(res.body["reminder_opt_out"], true, "{}", res.text);
    let res = assistant
        .put(
            &format!("/api/patients/{}/reminders/", practice.patients[0]),
            &json!({"reminder_opt_out": "maybe"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["reminder_opt_out"].is_array(), "{}", res.text);
    let billing = app.as_role(Role::Billing).await;
    let res = billing
        .put(
            &format!("/api/patients/{}/reminders/", practice.patients[0]),
            &json!({"reminder_opt_out": false}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);

    let opted_out = practice
        .book(
            &assistant,
            &practice.booking(
                practice.doctor.id,
                practice.patients[0],
                (1, 10, 0),
                (1, 10, 30),
            ),
        )
        .await;
    let cancelled = practice
        .book(
            &assistant,
            &practice.booking(
                practice.doctor.id,
                practice.patients[1],
                (1, 11, 0),
                (1, 11, 30),
            ),
        )
        .await;
    let res = assistant
        .patch(
            &format!("/api/appointments/{cancelled}/"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let rows = reminders_of(&app, cancelled).await;
    assert_eq!(rows[0]["status"], "cancelled", "{rows:?}");

    clock_to(&app, utc(0, 11, 0));
    let report = sender(&sink, "s").round(&app.state).await.unwrap();
    assert_eq!(report.claimed, 1, "{report:?}");
    assert_eq!(report.cancelled, 1, "{report:?}");
    assert!(sink.messages().is_empty(), "{:?}", sink.messages());
    let rows = reminders_of(&app, opted_out).await;
    assert_eq!(rows[0]["status"], "cancelled");
    assert_eq!(rows[0]["last_error"], "patient opted out");
}

#[tokio::test]
async fn a_moved_appointment_is_reminded_at_its_new_time() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    set_email(&app, practice.patients[0], "p1@example.test").await;
    let sink = SmtpSink::start();
    let assistant = app.as_role(Role::Assistant).await;
    let id = practice
        .book(
            &assistant,
            &practice.booking(
                practice.doctor.id,
                practice.patients[0],
                (1, 10, 0),
                (1, 10, 30),
            ),
        )
        .await;
    let res = assistant
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"start_time": crate::fixtures::at(2, 9, 0), "end_time": crate::fixtures::at(2, 9, 30)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let rows = reminders_of(&app, id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        DateTime::parse_from_rfc3339(rows[0]["due_at"].as_str().unwrap()).unwrap(),
        utc(1, 9, 0)
    );
    // At the old due time nothing is sent.
    clock_to(&app, utc(0, 10, 0));
    assert_eq!(
        sender(&sink, "s").round(&app.state).await.unwrap().claimed,
        0
    );
    clock_to(&app, utc(1, 9, 0));
    assert_eq!(sender(&sink, "s").round(&app.state).await.unwrap().sent, 1);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn transient_failures_back_off_end_as_failed_and_staff_send_again() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    set_email(&app, practice.patients[0], "p1@example.test").await;
    let sink = SmtpSink::start();
    sink.fail_recipients_with(Some("451 4.3.0 mailbox busy, try again later"));
    let assistant = app.as_role(Role::Assistant).await;
    let id = practice
        .book(
            &assistant,
            &practice.booking(
                practice.doctor.id,
                practice.patients[0],
                (1, 10, 0),
                (1, 10, 30),
            ),
        )
        .await;
    let sender = sender(&sink, "s");
    clock_to(&app, utc(0, 10, 0));
    let waits = [1, 5, 30, 120];
    for (attempt, wait) in waits.iter().enumerate() {
        let report = sender.round(&app.state).await.unwrap();
        assert_eq!(report.retried, 1, "attempt {}: {report:?}", attempt + 1);
        let rows = reminders_of(&app, id).await;
        assert_eq!(rows[0]["status"], "queued");
        assert_eq!(rows[0]["attempts"], attempt + 1);
        let error = rows[0]["last_error"].as_str().unwrap();
        assert!(error.contains("451"), "{error}");
        assert!(
            !error.contains("p1@example.test"),
            "no patient data: {error}"
        );
        // Before the backoff has passed nothing is claimed.
        app.state
            .clock
            .advance(Duration::minutes(wait - 1) + Duration::seconds(30));
        assert_eq!(sender.round(&app.state).await.unwrap().claimed, 0);
        app.state.clock.advance(Duration::seconds(31));
    }
    let report = sender.round(&app.state).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let assistant = app.as_role(Role::Assistant).await;
    let failed = assistant.get("/api/reminders/?status=failed").await;
    assert_eq!(failed.status, 200);
    let failed = failed.body.as_array().unwrap().clone();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["attempts"], 5);
    assert!(sink.messages().is_empty());

    // Staff queue it again once the mailbox works.
    sink.fail_recipients_with(None);
    let outbox_id = failed[0]["id"].as_i64().unwrap();
    let doctor = app.as_role(Role::Doctor).await;
    let res = doctor
        .post(&format!("/api/reminders/{outbox_id}/retry/"), &json!({}))
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = assistant
        .post(&format!("/api/reminders/{outbox_id}/retry/"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "queued");
    let res = assistant
        .post(&format!("/api/reminders/{outbox_id}/retry/"), &json!({}))
        .await;
    assert_eq!(res.status, 400, "only failed ones: {}", res.text);
    let res = assistant
        .post("/api/reminders/999999/retry/", &json!({}))
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    assert_eq!(sender.round(&app.state).await.unwrap().sent, 1);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_permanent_rejection_fails_at_once() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    set_email(&app, practice.patients[0], "p1@example.test").await;
    let sink = SmtpSink::start();
    sink.fail_recipients_with(Some("550 5.1.1 no such user"));
    let assistant = app.as_role(Role::Assistant).await;
    let id = practice
        .book(
            &assistant,
            &practice.booking(
                practice.doctor.id,
                practice.patients[0],
                (1, 10, 0),
                (1, 10, 30),
            ),
        )
        .await;
    clock_to(&app, utc(0, 10, 0));
    let report = sender(&sink, "s").round(&app.state).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let rows = reminders_of(&app, id).await;
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["attempts"], 1);
}
