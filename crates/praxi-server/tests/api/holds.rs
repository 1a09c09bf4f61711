//! Slot holds (issue #14): a hold counts for suggest and booking until it expires (the test
//! clock moves past its time-to-live: no job runs), converting it with `hold_id` books and
//! removes it in one transaction, and only whoever may book may hold (doctors their own).

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use chrono::Duration;
use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::{Practice, at};
use crate::helpers::{Client, TestApp};

fn hold_body(practice: &Practice, from: (u32, u32), to: (u32, u32)) -> Value {
    json!({
        "doctor": practice.doctor.id,
        "patient_id": 1,
        "start_time": at(0, from.0, from.1),
        "end_time": at(0, to.0, to.1),
        "ttl_seconds": 120,
    })
}

async fn first_suggestion(client: &Client<'_>, doctor: i64) -> Value {
    let res = client
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={doctor}&duration_minutes=30&start_date=2030-01-14"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["primary_suggestions"][0]["start_time"].clone()
}

#[tokio::test]
async fn a_hold_counts_until_it_expires() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (8, 0), (8, 30)),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["start_time"], "2030-01-14T08:00:00+01:00");
    assert!(res.body["expires_at"].is_string());

    // Suggest skips the held slot; booking it without the hold is refused.
    assert_eq!(
        first_suggestion(&assistant, practice.doctor.id).await,
        "2030-01-14T08:30:00+01:00"
    );
    let booking = practice.booking(practice.doctor.id, 2, (0, 8, 0), (0, 8, 30));
    let res = assistant.post("/api/appointments/", &booking).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["reason"], "doctor_conflict");
    // A second hold on the same slot is refused too.
    let res = assistant
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (8, 15), (8, 45)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["detail"], "Scheduling conflicts detected");
    assert_eq!(res.body["conflicts"][0]["model"], "SlotHold");

    // After its time-to-live the hold simply stops counting.
    app.state.clock.advance(Duration::seconds(121));
    assert_eq!(
        first_suggestion(&assistant, practice.doctor.id).await,
        "2030-01-14T08:00:00+01:00"
    );
    let res = assistant.post("/api/appointments/", &booking).await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn booking_with_the_hold_converts_it_atomically() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (9, 0), (9, 30)),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let hold_id = res.body["id"].as_i64().unwrap();

    // The hold is for these times only.
    let mut wrong = practice.booking(practice.doctor.id, 1, (0, 9, 30), (0, 10, 0));
    wrong["hold_id"] = json!(hold_id);
    let res = assistant.post("/api/appointments/", &wrong).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["hold_id"].is_array(), "{}", res.text);

    let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    body["hold_id"] = json!(hold_id);
    let res = assistant.post("/api/appointments/", &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(app.store().hold(hold_id).await.unwrap().is_none());
    // The hold is spent.
    let res = assistant.post("/api/appointments/", &body).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["hold_id"].is_array(), "{}", res.text);
    let audit = app
        .store()
        .audit_log(Some("slot_hold_create"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].meta, Some(json!({"hold_id": hold_id})));
    app.stop().await;
}

#[tokio::test]
async fn holds_follow_the_booking_rights_and_validate_their_fields() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let billing = app.as_role(Role::Billing).await;
    let res = billing
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (9, 0), (9, 30)),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let doctor = app.as_user(&practice.doctor);
    let res = doctor
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (9, 0), (9, 30)),
        )
        .await;
    assert_eq!(res.status, 201, "own hold: {}", res.text);
    let own = res.body["id"].as_i64().unwrap();
    let mut other = hold_body(&practice, (10, 0), (10, 30));
    other["doctor"] = json!(practice.other_doctor.id);
    let res = doctor.post("/api/appointments/holds/", &other).await;
    assert_eq!(res.status, 403, "{}", res.text);

    let admin = app.as_role(Role::Admin).await;
    for (field, value) in [
        ("ttl_seconds", json!(0)),
        ("ttl_seconds", json!(1801)),
        ("patient_id", json!(999)),
        ("resource_ids", json!([424242])),
        ("end_time", json!(at(0, 9, 0))),
    ] {
        let mut body = hold_body(&practice, (11, 0), (11, 30));
        body[field] = value;
        let res = admin.post("/api/appointments/holds/", &body).await;
        assert_eq!(res.status, 400, "{field}: {}", res.text);
        assert!(res.body[field].is_array(), "{field}: {}", res.text);
    }
    // Outside the hours a hold is refused like a booking.
    let res = admin
        .post(
            "/api/appointments/holds/",
            &hold_body(&practice, (18, 0), (18, 30)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);

    let res = admin
        .delete(&format!("/api/appointments/holds/{own}/"))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    let res = admin
        .delete(&format!("/api/appointments/holds/{own}/"))
        .await;
    assert_eq!(res.status, 404, "{}", res.text);
    app.stop().await;
}
