//! Lost updates and double bookings through edits (issue #10 item 2): a `PATCH` applies only
//! the fields it sends to the row re-read under its lock inside the transaction, the engine
//! runs on the result, and `If-Match` against the `ETag` of `GET` answers 412 for a stale
//! client. Deterministic by construction: the stale client is one that read before others
//! wrote.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{Practice, at};
use crate::helpers::{Client, TestApp};

fn path(id: i64) -> String {
    format!("/api/appointments/{id}/")
}

async fn patch_if(
    client: &Client<'_>,
    id: i64,
    body: &Value,
    tag: &str,
) -> crate::helpers::TestResponse {
    client
        .send_with(Method::PATCH, &path(id), Some(body), &[("if-match", tag)])
        .await
}

#[tokio::test]
async fn a_notes_edit_after_a_move_keeps_the_move_and_a_stale_if_match_is_412() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let x = app.as_role(Role::Assistant).await;
    let y = app.as_role(Role::Admin).await;
    let doctor = practice.doctor.id;
    // (1) A at 10:00.
    let a = practice
        .book(&y, &practice.booking(doctor, 1, (0, 10, 0), (0, 10, 30)))
        .await;
    // (2) X reads A and keeps its tag.
    let read = x.get(&path(a)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let e1 = read.header("etag").expect("GET answers an ETag").to_owned();
    assert!(e1.starts_with('"') && e1.ends_with('"'), "{e1}");
    assert_eq!(
        x.get(&path(a)).await.header("etag"),
        Some(e1.as_str()),
        "stable while unchanged"
    );
    // (3) Y moves A to 11:00.
    let moved = y
        .patch(
            &path(a),
            &json!({"start_time": at(0, 11, 0), "end_time": at(0, 11, 30)}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let e2 = moved.header("etag").unwrap().to_owned();
    assert_ne!(e1, e2, "a write changes the tag");
    // (4) B is booked into the freed 10:00 slot of the same doctor.
    let b = practice
        .book(&y, &practice.booking(doctor, 2, (0, 10, 0), (0, 10, 30)))
        .await;
    // (6 first, so step 5 cannot have changed the tag) X's stale If-Match → 412, nothing
    // written.
    let stale = patch_if(&x, a, &json!({"notes": "stale"}), &e1).await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    assert!(stale.body["detail"].is_string(), "{}", stale.text);
    let stale_put = x
        .send_with(
            Method::PUT,
            &path(a),
            Some(&practice.booking(doctor, 1, (0, 10, 0), (0, 10, 30))),
            &[("if-match", &e1)],
        )
        .await;
    assert_eq!(stale_put.status, 412, "{}", stale_put.text);
    let stale_delete = x
        .send_with(Method::DELETE, &path(a), None, &[("if-match", &e1)])
        .await;
    assert_eq!(stale_delete.status, 412, "{}", stale_delete.text);
    // (5) X's notes edit without If-Match succeeds and keeps A at 11:00.
    let notes = x
        .patch(&path(a), &json!({"notes": "Befund mitbringen"}))
        .await;
    assert_eq!(notes.status, 200, "{}", notes.text);
    assert_eq!(notes.body["start_time"], at(0, 11, 0));
    assert_eq!(notes.body["end_time"], at(0, 11, 30));
    assert_eq!(notes.body["notes"], "Befund mitbringen");
    let a_now = x.get(&path(a)).await;
    assert_eq!(a_now.body["start_time"], at(0, 11, 0));
    let b_now = x.get(&path(b)).await;
    assert_eq!(b_now.body["start_time"], at(0, 10, 0));
    // The current tag works.
    let tag = a_now.header("etag").unwrap().to_owned();
    let fresh = patch_if(&x, a, &json!({"notes": "ok"}), &tag).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let star = patch_if(&x, a, &json!({"notes": "any"}), "*").await;
    assert_eq!(star.status, 200, "{}", star.text);
    app.stop().await;
}

#[tokio::test]
async fn a_full_put_of_stale_data_into_a_slot_booked_meanwhile_is_a_conflict() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = practice.doctor.id;
    let old = practice.booking(doctor, 1, (0, 10, 0), (0, 10, 30));
    let a = practice.book(&admin, &old).await;
    let moved = admin
        .patch(
            &path(a),
            &json!({"start_time": at(0, 11, 0), "end_time": at(0, 11, 30)}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    practice
        .book(
            &admin,
            &practice.booking(doctor, 2, (0, 10, 0), (0, 10, 30)),
        )
        .await;
    // A stale client writes the whole old row back: the slot is taken now.
    let mut stale = old.clone();
    stale["notes"] = json!("stale");
    let put = admin.put(&path(a), &stale).await;
    assert_eq!(put.status, 400, "{}", put.text);
    assert_eq!(put.body["code"], "doctor_unavailable", "{}", put.text);
    let a_now = admin.get(&path(a)).await;
    assert_eq!(a_now.body["start_time"], at(0, 11, 0), "nothing written");
    assert_eq!(a_now.body["notes"], "");
    // A status-only revival into a taken slot is checked too (decided on the row in the tx).
    let cancel = admin.patch(&path(a), &json!({"status": "cancelled"})).await;
    assert_eq!(cancel.status, 200, "{}", cancel.text);
    practice
        .book(
            &admin,
            &practice.booking(doctor, 3, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    let revive = admin.patch(&path(a), &json!({"status": "scheduled"})).await;
    assert_eq!(revive.status, 400, "{}", revive.text);
    app.stop().await;
}

#[tokio::test]
async fn no_show_with_a_stale_if_match_is_412() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let a = practice
        .book(
            &admin,
            &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30)),
        )
        .await;
    let e1 = admin.get(&path(a)).await.header("etag").unwrap().to_owned();
    let notes = admin.patch(&path(a), &json!({"notes": "x"})).await;
    assert_eq!(notes.status, 200, "{}", notes.text);
    let res = admin
        .send_with(
            Method::POST,
            &format!("/api/appointments/{a}/mark-no-show/"),
            Some(&json!({})),
            &[("if-match", &e1)],
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.text);
    app.stop().await;
}

/// Many rounds of a notes edit racing a move (two tasks, `tokio::join!`), each round followed
/// by a booking of the slot the move just freed: never a lost move (a notes edit writing the
/// old time back would put A onto that booking), never an overlap, and the final position is
/// the last move's.
#[tokio::test]
async fn parallel_notes_edits_and_moves_never_lose_a_move_or_overlap() {
    const ROUNDS: u32 = 50;
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let mover = app.as_role(Role::Admin).await;
    let editor = app.as_role(Role::Assistant).await;
    let doctor = practice.doctor.id;
    // Slot n is 08:00 + 10·n minutes, 10 minutes long.
    let slot = |n: u32| {
        let start = 8 * 60 + 10 * n;
        let end = start + 10;
        (at(0, start / 60, start % 60), at(0, end / 60, end % 60))
    };
    let (start, end) = slot(0);
    let a = practice
        .book(
            &mover,
            &json!({"patient_id": 1, "doctor": doctor, "start_time": start, "end_time": end}),
        )
        .await;
    for round in 1..=ROUNDS {
        let (start, end) = slot(round);
        let move_body = json!({"start_time": start, "end_time": end});
        let notes_body = json!({"notes": format!("round {round}")});
        let target = path(a);
        let (moved, noted) = tokio::join!(
            mover.patch(&target, &move_body),
            editor.patch(&target, &notes_body),
        );
        assert_eq!(moved.status, 200, "round {round}: {}", moved.text);
        assert_eq!(noted.status, 200, "round {round}: {}", noted.text);
        let now = mover.get(&path(a)).await;
        assert_eq!(now.body["start_time"], start, "round {round}: move lost");
        // Book the slot A just left.
        let (freed_start, freed_end) = slot(round - 1);
        practice
            .book(
                &mover,
                &json!({"patient_id": 2, "doctor": doctor, "start_time": freed_start, "end_time": freed_end}),
            )
            .await;
    }
    let a_now = mover.get(&path(a)).await;
    assert_eq!(a_now.body["start_time"], slot(ROUNDS).0);
    // No overlap in the doctor's day.
    let list = mover
        .get(&format!("/api/appointments/?doctor_id={doctor}"))
        .await;
    let rows = list.body.as_array().unwrap();
    assert_eq!(rows.len(), usize::try_from(ROUNDS).unwrap() + 1);
    let mut spans: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["start_time"].as_str().unwrap().to_owned(),
                r["end_time"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlap: {pair:?}");
    }
    app.stop().await;
}

// ---- operations ----------------------------------------------------------------------------

/// An operation type of 10 + 30 + 10 minutes; returns its id.
async fn op_type(app: &TestApp) -> i64 {
    use chrono::Utc;
    use praxi_store::entity;
    use sea_orm::{ActiveModelTrait, Set};
    entity::operation_type::ActiveModel {
        name: Set("Eingriff".to_owned()),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        color: Set("#445566".to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

fn op_path(id: i64) -> String {
    format!("/api/operations/{id}/")
}

#[tokio::test]
async fn operation_notes_edit_after_a_move_keeps_the_move_and_a_stale_if_match_is_412() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let kind = op_type(&app).await;
    let x = app.as_role(Role::Assistant).await;
    let y = app.as_role(Role::Admin).await;
    let body = |patient: i32, h: u32| {
        json!({
            "patient_id": patient,
            "primary_surgeon": practice.doctor.id,
            "op_room": practice.other_room,
            "op_type": kind,
            "start_time": at(0, h, 0),
        })
    };
    let created = y.post("/api/operations/", &body(1, 10)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let a = created.body["id"].as_i64().unwrap();
    let read = x.get(&op_path(a)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let e1 = read.header("etag").expect("GET answers an ETag").to_owned();
    let moved = y
        .patch(&op_path(a), &json!({"start_time": at(0, 12, 0)}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_ne!(moved.header("etag"), Some(e1.as_str()));
    // The freed 10:00 slot of the room and surgeon is planned again.
    let b = y.post("/api/operations/", &body(2, 10)).await;
    assert_eq!(b.status, 201, "{}", b.text);
    // Stale If-Match: 412 for PATCH, PUT and DELETE; nothing written.
    let stale = x
        .send_with(
            Method::PATCH,
            &op_path(a),
            Some(&json!({"notes": "stale"})),
            &[("if-match", &e1)],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    assert!(stale.body["detail"].is_string(), "{}", stale.text);
    let stale_put = x
        .send_with(
            Method::PUT,
            &op_path(a),
            Some(&body(1, 10)),
            &[("if-match", &e1)],
        )
        .await;
    assert_eq!(stale_put.status, 412, "{}", stale_put.text);
    let stale_delete = x
        .send_with(Method::DELETE, &op_path(a), None, &[("if-match", &e1)])
        .await;
    assert_eq!(stale_delete.status, 412, "{}", stale_delete.text);
    // Without If-Match the notes edit works and keeps the move.
    let notes = x.patch(&op_path(a), &json!({"notes": "Nüchtern"})).await;
    assert_eq!(notes.status, 200, "{}", notes.text);
    assert_eq!(notes.body["start_time"], at(0, 12, 0));
    assert_eq!(notes.body["notes"], "Nüchtern");
    // A stale full PUT into the slot planned meanwhile is a conflict.
    let put = x.put(&op_path(a), &body(1, 10)).await;
    assert_eq!(put.status, 400, "{}", put.text);
    assert_eq!(x.get(&op_path(a)).await.body["start_time"], at(0, 12, 0));
    // The current tag works.
    let tag = x.get(&op_path(a)).await.header("etag").unwrap().to_owned();
    let fresh = x
        .send_with(
            Method::PATCH,
            &op_path(a),
            Some(&json!({"notes": "ok"})),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let delete = x
        .send_with(
            Method::DELETE,
            &op_path(a),
            None,
            &[("if-match", fresh.header("etag").unwrap())],
        )
        .await;
    assert_eq!(delete.status, 204, "{}", delete.text);
    app.stop().await;
}

/// Notes edits racing moves of an operation: the final start is the last move's.
#[tokio::test]
async fn parallel_operation_notes_edits_and_moves_never_lose_a_move() {
    const ROUNDS: u32 = 20;
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let kind = op_type(&app).await;
    let mover = app.as_role(Role::Admin).await;
    let editor = app.as_role(Role::Assistant).await;
    let created = mover
        .post(
            "/api/operations/",
            &json!({
                "patient_id": 1,
                "primary_surgeon": practice.doctor.id,
                "op_room": practice.other_room,
                "op_type": kind,
                "start_time": at(0, 8, 0),
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let a = created.body["id"].as_i64().unwrap();
    let target = op_path(a);
    for round in 1..=ROUNDS {
        let minutes = 8 * 60 + 5 * round;
        let start = at(0, minutes / 60, minutes % 60);
        let move_body = json!({"start_time": start});
        let notes_body = json!({"notes": format!("round {round}")});
        let (moved, noted) = tokio::join!(
            mover.patch(&target, &move_body),
            editor.patch(&target, &notes_body),
        );
        assert_eq!(moved.status, 200, "round {round}: {}", moved.text);
        assert_eq!(noted.status, 200, "round {round}: {}", noted.text);
        let now = mover.get(&target).await;
        assert_eq!(now.body["start_time"], start, "round {round}: move lost");
    }
    app.stop().await;
}
