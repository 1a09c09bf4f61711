#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

//! scheduling.md §8 catalogue scenarios that are API behaviour (the pure engine scenarios are
//! tests in `praxi_domain::scheduling`, the operation, flow and view scenarios live next to
//! their endpoints). Each test is named after its catalogue id.

use praxi_domain::Role;
use serde_json::{Value, json};

use crate::fixtures::{Practice, absence, at, day, practice_break, time};
use crate::helpers::{Client, TestApp};

async fn post(client: &Client<'_>, body: &Value) -> crate::helpers::TestResponse {
    client.post("/api/appointments/", body).await
}

/// An operation type of 10 + 30 + 10 minutes and an operation in `room` at Monday 10:00.
async fn operation_at(
    app: &TestApp,
    practice: &Practice,
    admin: &Client<'_>,
    room: i64,
    devices: Vec<i64>,
) -> i64 {
    let op_type = admin
        .post(
            "/api/operation-types/",
            &json!({"name": "Eingriff", "prep_duration": 10, "op_duration": 30, "post_duration": 10}),
        )
        .await;
    assert_eq!(op_type.status, 201, "{}", op_type.text);
    let res = admin
        .post(
            "/api/operations/",
            &json!({
                "patient_id": practice.patients[3],
                "primary_surgeon": practice.other_doctor.id,
                "op_room": room,
                "op_device_ids": devices,
                "op_type": op_type.body["id"],
                "start_time": at(0, 10, 0),
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let _ = app;
    res.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn av_03_07_slots_must_fit_inside_practice_hours_and_may_start_at_opening() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 16, 30), (0, 17, 30)),
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["reason"], "outside_practice");
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 8, 0), (0, 8, 30)),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn av_11_an_appointment_across_midnight_is_refused() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    // Mon 16:00 → Tue 09:00 (the original accepted it: only times of day were compared).
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 16, 0), (1, 9, 0)),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["detail"], json!(["Doctor unavailable."]));
    // Mon 09:00 → Tue 10:00 is longer than a booking may last at all.
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 9, 0), (1, 10, 0)),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("end_time").is_some());
    app.stop().await;
}

#[tokio::test]
async fn av_14_an_inactive_absence_is_ignored() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = absence(&app, practice.doctor.id, day(0), day(0)).await;
    let res = admin
        .patch(
            &format!("/api/doctor-absences/{id}/"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30)),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn av_16_to_19_breaks_block_overlaps_only_and_only_their_doctor() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice_break(
        &app,
        Some(practice.doctor.id),
        day(0),
        time(15, 0),
        time(16, 0),
    )
    .await;
    practice_break(&app, None, day(0), time(12, 0), time(12, 30)).await;
    practice_break(
        &app,
        Some(practice.other_doctor.id),
        day(0),
        time(10, 0),
        time(11, 0),
    )
    .await;
    // 16: inside the doctor's break.
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 1, (0, 15, 30), (0, 16, 0)),
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["reason"], "break");
    // 17: touching the break start; 18: right after its end.
    for (from, to, patient) in [((0, 11, 30), (0, 12, 0), 1), ((0, 12, 30), (0, 13, 0), 2)] {
        let res = post(
            &admin,
            &practice.booking(practice.doctor.id, patient, from, to),
        )
        .await;
        assert_eq!(res.status, 201, "{from:?}: {}", res.text);
    }
    // 19: another doctor's break does not block.
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 3, (0, 10, 0), (0, 10, 30)),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn sg_32_suggest_permissions() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let path = |doctor: i64| {
        format!(
            "/api/appointments/suggest/?doctor_id={doctor}&duration_minutes=30&start_date=2030-01-14"
        )
    };
    let doctor = app.as_user(&practice.doctor);
    assert_eq!(
        doctor.get(&path(practice.other_doctor.id)).await.status,
        403
    );
    assert_eq!(doctor.get(&path(practice.doctor.id)).await.status, 200);
    for role in [Role::Admin, Role::Assistant, Role::Billing] {
        let client = app.as_role(role).await;
        assert_eq!(
            client.get(&path(practice.doctor.id)).await.status,
            200,
            "{role}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn sg_34_36_duration_and_limit_are_validated() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let no_duration = admin
        .post("/api/appointment-types/", &json!({"name": "Offen"}))
        .await;
    assert_eq!(no_duration.status, 201);
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&type_id={}&start_date=2030-01-14",
            practice.doctor.id, no_duration.body["id"]
        ))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30&limit=1000000",
            practice.doctor.id
        ))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn sg_40_a_cancelled_appointment_frees_its_slot_for_suggestions() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut body = practice.booking(practice.doctor.id, 1, (0, 8, 0), (0, 8, 30));
    body["status"] = json!("cancelled");
    assert_eq!(post(&admin, &body).await.status, 201);
    let res = admin
        .get(&format!(
            "/api/appointments/suggest/?doctor_id={}&duration_minutes=30&start_date=2030-01-14",
            practice.doctor.id
        ))
        .await;
    assert_eq!(
        res.body["primary_suggestions"][0]["start_time"],
        "2030-01-14T08:00:00+01:00"
    );
    app.stop().await;
}

#[tokio::test]
async fn cf_45_46_adjacent_is_fine_containing_or_contained_is_not() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 11, 0)),
        )
        .await;
    let res = post(
        &admin,
        &practice.booking(practice.doctor.id, 2, (0, 9, 30), (0, 10, 0)),
    )
    .await;
    assert_eq!(res.status, 201, "adjacent: {}", res.text);
    for (from, to) in [((0, 9, 45), (0, 11, 15)), ((0, 10, 15), (0, 10, 45))] {
        let res = post(&admin, &practice.booking(practice.doctor.id, 3, from, to)).await;
        assert_eq!(res.status, 400, "{from:?}");
        assert_eq!(res.body["detail"], json!(["Doctor unavailable."]));
    }
    app.stop().await;
}

#[tokio::test]
async fn cf_49_50_52_operation_rooms_and_devices_block_appointments_on_create_and_update() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    operation_at(
        &app,
        &practice,
        &admin,
        practice.other_room,
        vec![practice.device],
    )
    .await;
    // 49: the op room as an appointment resource.
    let mut body = practice.booking(practice.doctor.id, 1, (0, 10, 30), (0, 11, 0));
    body["resource_ids"] = json!([practice.other_room]);
    let res = post(&admin, &body).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["non_field_errors"], json!(["Resource conflict"]));
    // 50: the op device.
    body["resource_ids"] = json!([practice.device]);
    assert_eq!(post(&admin, &body).await.status, 400);
    // 52: moving an existing appointment with the room into the operation.
    let mut early = practice.booking(practice.doctor.id, 1, (0, 8, 0), (0, 8, 30));
    early["resource_ids"] = json!([practice.other_room]);
    let id = practice.book(&admin, &early).await;
    let res = admin
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"start_time": at(0, 10, 15), "end_time": at(0, 10, 45)}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn cf_57_58_59_field_and_role_rules() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    for (value, message) in [
        (json!(0), "patient_id muss positiv sein."),
        (json!(-1), "patient_id muss positiv sein."),
        (json!("abc"), "A valid integer is required."),
    ] {
        let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
        body["patient_id"] = value;
        let res = post(&admin, &body).await;
        assert_eq!(res.body["patient_id"], json!([message]));
    }
    let assistant = app.create_user("nurse.x", Some(Role::Assistant)).await;
    let res = post(
        &admin,
        &practice.booking(assistant.id, 1, (0, 9, 0), (0, 9, 30)),
    )
    .await;
    assert_eq!(
        res.body["doctor"],
        json!(["Der Arzt muss die Rolle \"doctor\" haben."])
    );
    app.store()
        .set_user_active(practice.other_doctor.id, false)
        .await
        .unwrap();
    let res = post(
        &admin,
        &practice.booking(practice.other_doctor.id, 1, (0, 9, 0), (0, 9, 30)),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("doctor").is_some());
    let doctor = app.as_user(&practice.doctor);
    let other = app.create_user("dr.third", Some(Role::Doctor)).await;
    let res = post(
        &doctor,
        &practice.booking(other.id, 1, (0, 9, 0), (0, 9, 30)),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("doctor").is_some());
    let billing = app.as_role(Role::Billing).await;
    let res = post(
        &billing,
        &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
    )
    .await;
    assert_eq!(res.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn cf_60_doctors_cannot_touch_other_doctors_appointments() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    let doctor = app.as_user(&practice.doctor);
    let path = format!("/api/appointments/{id}/");
    assert_eq!(doctor.get(&path).await.status, 403);
    assert_eq!(
        doctor.patch(&path, &json!({"notes": "x"})).await.status,
        403
    );
    assert_eq!(doctor.delete(&path).await.status, 403);
    app.stop().await;
}

async fn race(app: &TestApp, token: &str, bodies: Vec<Value>) -> Vec<u16> {
    let url = app.url("/api/appointments/");
    let mut tasks = Vec::new();
    for body in bodies {
        let (http, url, token) = (app.http.clone(), url.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cf_61_62_concurrent_bookings_of_one_doctor_or_one_room_yield_one() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().unwrap();
    // 61: same doctor and slot, two patients.
    let statuses = race(
        &app,
        &token,
        vec![
            practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
            practice.booking(practice.doctor.id, 2, (0, 9, 0), (0, 9, 30)),
        ],
    )
    .await;
    assert_eq!(statuses, [201, 400]);
    // 62: different doctors, same room.
    let mut first = practice.booking(practice.doctor.id, 3, (1, 9, 0), (1, 9, 30));
    first["resource_ids"] = json!([practice.room]);
    let mut second = practice.booking(practice.other_doctor.id, 4, (1, 9, 0), (1, 9, 30));
    second["resource_ids"] = json!([practice.room]);
    assert_eq!(race(&app, &token, vec![first, second]).await, [201, 400]);
    app.stop().await;
}

#[tokio::test]
async fn cf_63_cancelling_after_an_hours_change_works() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 16, 0), (0, 16, 30)),
        )
        .await;
    let hours = admin.get("/api/practice-hours/").await;
    let monday = hours.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["weekday"] == 0)
        .unwrap()["id"]
        .clone();
    let res = admin
        .patch(
            &format!("/api/practice-hours/{monday}/"),
            &json!({"end_time": "12:00"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn cf_67_no_show_is_set_once_and_audited_once() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    app.state.clock.advance(chrono::Duration::days(365 * 5));
    let admin = app.as_role(Role::Admin).await;
    for _ in 0..2 {
        let res = admin
            .post(&format!("/api/appointments/{id}/mark-no-show/"), &json!({}))
            .await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["is_no_show"], true);
    }
    assert_eq!(
        app.store()
            .audit_log(Some("appointment_mark_no_show"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}
