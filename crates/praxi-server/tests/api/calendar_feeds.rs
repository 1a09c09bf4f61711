//! `/api/calendar-feeds/` (admin-only management) and the iCal feeds at `/ical/<secret>.ics`,
//! parsed with an independent RFC 5545 parser (the `ical` crate).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use chrono::{Duration, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};

use crate::fixtures::{Practice, at, utc};
use crate::helpers::{Client, TestApp};

/// A practice whose clock stands three days before MONDAY, so the fixtures' bookings fall into
/// the feeds' window (30 days back, 180 ahead).
async fn practice() -> (TestApp, Practice) {
    let app = TestApp::spawn().await;
    let target = utc(0, 0, 0) - Duration::days(3);
    app.state.clock.advance(target - Utc::now());
    let practice = Practice::new(&app).await;
    (app, practice)
}

async fn appointment_type(app: &TestApp, name: &str) -> i64 {
    entity::appointment_type::ActiveModel {
        name: Set(name.to_owned()),
        color: Set(Some("#112233".to_owned())),
        duration_minutes: Set(Some(30)),
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

async fn operation_type(app: &TestApp, name: &str) -> i64 {
    entity::operation_type::ActiveModel {
        name: Set(name.to_owned()),
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

async fn plan_operation(client: &Client<'_>, body: &Value) -> i64 {
    let res = client.post("/api/operations/", body).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text);
    res.body["id"].as_i64().unwrap()
}

async fn cancel_appointment(app: &TestApp, id: i64) {
    let mut model = entity::appointment::Entity::find_by_id(i32::try_from(id).unwrap())
        .one(app.store().conn())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    model.status = Set("cancelled".to_owned());
    model.update(app.store().conn()).await.unwrap();
}

/// Creates a feed and returns (id, path).
async fn create_feed(admin: &Client<'_>, body: &Value) -> (i64, String) {
    let res = admin.post("/api/calendar-feeds/", body).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text);
    let path = res.body["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("/ical/") && path.ends_with(".ics"),
        "{path}"
    );
    let url = res.body["url"].as_str().unwrap();
    assert!(url.starts_with("http://") && url.ends_with(&path), "{url}");
    assert_eq!(res.body["active"], true);
    (res.body["id"].as_i64().unwrap(), path)
}

/// GET without credentials: (status, headers, body).
async fn fetch(
    app: &TestApp,
    path: &str,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// One parsed event: (UID, DTSTART, DTEND, SUMMARY).
type Event = (String, String, String, String);

/// Parses with the `ical` crate; exactly one calendar.
fn parse(body: &str) -> Vec<Event> {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(body.as_bytes()));
    let calendar = calendars
        .next()
        .expect("a calendar")
        .expect("valid iCalendar");
    assert!(calendars.next().is_none());
    let version = calendar
        .properties
        .iter()
        .find(|property| property.name == "VERSION")
        .and_then(|property| property.value.clone());
    assert_eq!(version.as_deref(), Some("2.0"));
    let mut events: Vec<Event> = calendar
        .events
        .iter()
        .map(|event| {
            let get = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|property| property.name == name)
                    .and_then(|property| property.value.clone())
                    .unwrap_or_else(|| panic!("{name} missing"))
            };
            assert!(get("DTSTAMP").ends_with('Z'));
            (get("UID"), get("DTSTART"), get("DTEND"), get("SUMMARY"))
        })
        .collect();
    events.sort();
    events
}

/// Content lines end in CRLF and none is longer than 75 octets.
fn assert_wire_format(body: &str) {
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    assert!(!body.replace("\r\n", "").contains('\n'), "bare LF");
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

#[tokio::test]
async fn calendar_feeds_are_managed_by_admins_only() {
    let (app, practice) = practice().await;
    let body = json!({"kind": "doctor", "target_id": practice.doctor.id});
    assert_eq!(
        app.anonymous().get("/api/calendar-feeds/").await.status,
        401
    );
    for role in [Role::Assistant, Role::Doctor, Role::Billing] {
        let client = app.as_role(role).await;
        assert_eq!(client.get("/api/calendar-feeds/").await.status, 403);
        assert_eq!(client.post("/api/calendar-feeds/", &body).await.status, 403);
        assert_eq!(
            client
                .send(reqwest::Method::DELETE, "/api/calendar-feeds/1/", None)
                .await
                .status,
            403
        );
    }
    let admin = app.as_role(Role::Admin).await;
    let (id, _) = create_feed(&admin, &body).await;
    let list = admin.get("/api/calendar-feeds/").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body[0]["id"], id);
    assert_eq!(list.body[0]["kind"], "doctor");
    assert_eq!(list.body[0]["target_id"], practice.doctor.id);
    assert_eq!(list.body[0]["created_by"], admin.user_id());
    // The secret is shown once, at creation.
    assert!(list.body[0].get("url").is_none() && list.body[0].get("path").is_none());
    let audit = app
        .store()
        .audit_log(Some("calendar_feed_create"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].meta, Some(json!({"feed_id": id})));
    app.stop().await;
}

#[tokio::test]
async fn bad_feed_requests_name_the_field() {
    let (app, practice) = practice().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        (
            json!({"kind": "device", "target_id": practice.device}),
            "kind",
        ),
        (json!({"target_id": practice.doctor.id}), "kind"),
        (json!({"kind": "doctor"}), "target_id"),
        (json!({"kind": "doctor", "target_id": 999_999}), "target_id"),
        // An assistant is no doctor, a device no room.
        (
            json!({"kind": "doctor", "target_id": admin.user_id()}),
            "target_id",
        ),
        (
            json!({"kind": "room", "target_id": practice.device}),
            "target_id",
        ),
        (
            json!({"kind": "room", "target_id": practice.room, "secret": "x"}),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let res = admin.post("/api/calendar-feeds/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert!(res.body.get(field).is_some(), "{body}: {}", res.text);
    }
    assert_eq!(
        admin
            .send(reqwest::Method::DELETE, "/api/calendar-feeds/424242/", None)
            .await
            .status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn a_doctor_feed_shows_busy_times_without_patients_and_answers_304_and_404_when_revoked() {
    let (app, practice) = practice().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = practice.doctor.id;
    let checkup = appointment_type(&app, "Vorsorge").await;
    let surgery = operation_type(&app, "Kleiner Eingriff").await;

    let mut booking = practice.booking(doctor, 1, (0, 9, 0), (0, 9, 30));
    booking["type"] = json!(checkup);
    let appointment = practice.book(&admin, &booking).await;
    let cancelled = practice
        .book(
            &admin,
            &practice.booking(doctor, 2, (0, 11, 0), (0, 11, 30)),
        )
        .await;
    cancel_appointment(&app, cancelled).await;
    let other = practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 3, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    // The doctor assists; the operation runs 10:00 + 10 + 30 + 10 minutes.
    let operation = plan_operation(
        &admin,
        &json!({
            "patient_id": 4,
            "primary_surgeon": practice.other_doctor.id,
            "assistant": doctor,
            "op_room": practice.other_room,
            "op_type": surgery,
            "start_time": at(1, 10, 0),
        }),
    )
    .await;

    let (feed, path) = create_feed(&admin, &json!({"kind": "doctor", "target_id": doctor})).await;
    let (status, headers, body) = fetch(&app, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/calendar; charset=utf-8"
    );
    assert_wire_format(&body);
    assert_eq!(
        parse(&body),
        vec![
            (
                format!("appointment-{appointment}@praxi"),
                "20300114T080000Z".to_owned(),
                "20300114T083000Z".to_owned(),
                "Busy".to_owned(),
            ),
            (
                format!("operation-{operation}@praxi"),
                "20300115T090000Z".to_owned(),
                "20300115T095000Z".to_owned(),
                "Busy (operation)".to_owned(),
            ),
        ]
    );
    assert!(!body.contains(&format!("appointment-{other}@")));
    for secret in ["Patient", "Vorsorge", "Kleiner Eingriff"] {
        assert!(!body.contains(secret), "{secret} leaked:\n{body}");
    }

    // Unchanged bookings: the same tag, and 304 for a client that has it.
    let tag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let (status, again, not_modified) = fetch(&app, &path, Some(&tag)).await;
    assert_eq!(status, 304);
    assert!(not_modified.is_empty());
    assert_eq!(again.get("etag").unwrap().to_str().unwrap(), tag);
    let (status, _, _) = fetch(&app, &path, Some("\"something-else\"")).await;
    assert_eq!(status, 200);

    // A change of the bookings changes the tag.
    cancel_appointment(&app, appointment).await;
    let (status, changed, body) = fetch(&app, &path, Some(&tag)).await;
    assert_eq!(status, 200);
    assert_ne!(changed.get("etag").unwrap().to_str().unwrap(), tag);
    assert_eq!(parse(&body).len(), 1);

    // Every read is audited with the feed id, never a patient.
    let reads = app
        .store()
        .audit_log(Some("calendar_feed_read"), 10)
        .await
        .unwrap();
    assert_eq!(reads.len(), 4);
    assert!(reads.iter().all(|row| row.patient_id.is_none()
        && row.user_id.is_none()
        && row.meta == Some(json!({"feed_id": feed}))));

    let res = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/calendar-feeds/{feed}/"),
            None,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(fetch(&app, &path, None).await.0, 404);
    let list = admin.get("/api/calendar-feeds/").await;
    assert_eq!(list.body[0]["active"], false);
    assert!(list.body[0]["revoked_at"].is_string());
    assert_eq!(
        app.store()
            .audit_log(Some("calendar_feed_revoke"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    // A made-up secret is a 404 too.
    assert_eq!(
        fetch(
            &app,
            "/ical/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG.ics",
            None
        )
        .await
        .0,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn room_feeds_show_appointments_using_the_room_and_its_operations_with_types_if_asked() {
    let (app, practice) = practice().await;
    let admin = app.as_role(Role::Admin).await;
    let checkup = appointment_type(&app, "Vorsorge; Kontrolle, lang").await;
    let surgery = operation_type(&app, "Kleiner Eingriff").await;

    let mut in_room = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    in_room["type"] = json!(checkup);
    in_room["resource_ids"] = json!([practice.room]);
    let in_room = practice.book(&admin, &in_room).await;
    practice
        .book(
            &admin,
            &practice.booking(practice.other_doctor.id, 2, (0, 9, 0), (0, 9, 30)),
        )
        .await;
    let operation = plan_operation(
        &admin,
        &json!({
            "patient_id": 3,
            "primary_surgeon": practice.other_doctor.id,
            "op_room": practice.other_room,
            "op_type": surgery,
            "start_time": at(2, 8, 0),
        }),
    )
    .await;
    // Far outside the window (more than 180 days ahead): not shown.
    plan_operation(
        &admin,
        &json!({
            "patient_id": 3,
            "primary_surgeon": practice.other_doctor.id,
            "op_room": practice.other_room,
            "op_type": surgery,
            "start_time": "2030-09-02T08:00:00+02:00",
        }),
    )
    .await;

    let (_, room_path) = create_feed(
        &admin,
        &json!({"kind": "room", "target_id": practice.room, "include_type": true}),
    )
    .await;
    let (status, _, body) = fetch(&app, &room_path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_wire_format(&body);
    let events = parse(&body);
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0].0, format!("appointment-{in_room}@praxi"));
    // Escaped on the wire, unescaped by the parser.
    assert!(
        body.contains("SUMMARY:Vorsorge\\; Kontrolle\\, lang"),
        "{body}"
    );

    let (_, op_path) = create_feed(
        &admin,
        &json!({"kind": "room", "target_id": practice.other_room, "include_type": true}),
    )
    .await;
    let (_, _, body) = fetch(&app, &op_path, None).await;
    let events = parse(&body);
    assert_eq!(
        events,
        vec![(
            format!("operation-{operation}@praxi"),
            "20300116T070000Z".to_owned(),
            "20300116T075000Z".to_owned(),
            "Kleiner Eingriff".to_owned(),
        )]
    );
    assert!(!body.contains("Patient"));
    app.stop().await;
}
