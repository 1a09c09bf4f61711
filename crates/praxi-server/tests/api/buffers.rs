//! Buffers per appointment type (issue #14): the type carries minutes before and after, the
//! doctor and the booked rooms stay busy during them, suggestions leave them free, and the
//! values are validated (0..=120, the field named).

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::Practice;
use crate::helpers::{Client, TestApp};

async fn buffered_type(admin: &Client<'_>) -> i64 {
    let res = admin
        .post(
            "/api/appointment-types/",
            &json!({
                "name": "Wundversorgung",
                "duration_minutes": 30,
                "buffer_before_minutes": 10,
                "buffer_after_minutes": 15,
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["buffer_before_minutes"], 10);
    assert_eq!(res.body["buffer_after_minutes"], 15);
    res.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn buffers_are_validated_and_default_to_zero() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for (field, value) in [
        ("buffer_before_minutes", json!(121)),
        ("buffer_after_minutes", json!(-1)),
        ("buffer_after_minutes", json!("zehn")),
    ] {
        let res = admin
            .post(
                "/api/appointment-types/",
                &json!({"name": "X", field: value}),
            )
            .await;
        assert_eq!(res.status, 400, "{field}: {}", res.text);
        assert!(res.body[field].is_array(), "{field}: {}", res.text);
    }
    let res = admin
        .post("/api/appointment-types/", &json!({"name": "Plain"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["buffer_before_minutes"], 0);
    let id = res.body["id"].as_i64().unwrap();
    let res = admin
        .patch(
            &format!("/api/appointment-types/{id}/"),
            &json!({"buffer_after_minutes": 120}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["buffer_after_minutes"], 120);
    assert_eq!(res.body["buffer_before_minutes"], 0);
    app.stop().await;
}

#[tokio::test]
async fn buffers_keep_the_doctor_and_the_room_busy() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let type_id = buffered_type(&admin).await;
    // 10:00–10:30 with 10 minutes before and 15 after: doctor and room busy 09:50–10:45.
    let mut body = practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30));
    body["type"] = json!(type_id);
    body["resource_ids"] = json!([practice.room]);
    practice.book(&admin, &body).await;

    let refused = |res: &crate::helpers::TestResponse, reason: &str| {
        assert_eq!(res.status, 400, "{}", res.text);
        if reason == "resource" {
            assert_eq!(res.body["non_field_errors"], json!(["Resource conflict"]));
        } else {
            assert_eq!(res.body["reason"], reason, "{}", res.text);
        }
    };
    // Same doctor in the cleaning time: refused; right after it: booked.
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 2, (0, 10, 30), (0, 11, 0)),
        )
        .await;
    refused(&res, "doctor_conflict");
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 2, (0, 9, 20), (0, 9, 50)),
        )
        .await;
    assert_eq!(
        res.status, 201,
        "ends where the preparation starts: {}",
        res.text
    );
    // Another doctor in the same room during the cleaning: refused.
    let mut other = practice.booking(practice.other_doctor.id, 3, (0, 10, 40), (0, 11, 0));
    other["resource_ids"] = json!([practice.room]);
    let res = admin.post("/api/appointments/", &other).await;
    refused(&res, "resource");
    // The patient is only busy for the core: the same patient with another doctor at 10:30.
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.other_doctor.id, 1, (0, 10, 30), (0, 11, 0)),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    // A buffered booking's own preparation may not overlap the previous cleaning either.
    let mut next = practice.booking(practice.doctor.id, 4, (0, 10, 50), (0, 11, 20));
    next["type"] = json!(type_id);
    let res = admin.post("/api/appointments/", &next).await;
    refused(&res, "doctor_conflict");
    let mut next = practice.booking(practice.doctor.id, 4, (0, 10, 55), (0, 11, 25));
    next["type"] = json!(type_id);
    let res = admin.post("/api/appointments/", &next).await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn suggestions_leave_the_buffers_free() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let type_id = buffered_type(&admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    let starts = |body: &Value| -> Vec<String> {
        body["primary_suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start_time"].as_str().unwrap().to_owned())
            .collect()
    };
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&type_id={type_id}&start_date=2030-01-14&limit=3",
            practice.doctor.id
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        starts(&res.body),
        [
            "2030-01-14T08:00:00+01:00",
            "2030-01-14T09:40:00+01:00",
            "2030-01-14T10:10:00+01:00"
        ]
    );
    // The same search without the type's buffers offers 08:30.
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30&start_date=2030-01-14&limit=3",
            practice.doctor.id
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(starts(&res.body)[1], "2030-01-14T08:30:00+01:00");
    // The buffered suggestion can be booked with the type.
    let mut body = practice.booking(practice.doctor.id, 2, (0, 9, 40), (0, 10, 10));
    body["type"] = json!(type_id);
    practice.book(&admin, &body).await;
    app.stop().await;
}
