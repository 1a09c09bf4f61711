//! The OP board: `/api/op-dashboard/` (day, live, status endpoint; api.md §3.9, scheduling.md
//! §4.4, §6.1) and `/api/op-timeline/` (day, rooms, live; api.md §3.10, scheduling.md §6.2).
//! Tests covering a scenario of the scheduling catalogue (§8.5, §8.7) are named `s<n>_…`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_domain::scheduling::{Interval, local_day};
use praxi_store::entity;
use praxi_store::op_board::{BoardView, read_board, read_timeline_rooms};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};

use crate::events::{next_event, open_stream};
use crate::fixtures::{Practice, at, resource, utc};
use crate::helpers::{Client, TestApp};

const MONDAY: &str = "2030-01-14";
const STATUSES: [&str; 5] = ["planned", "confirmed", "running", "done", "cancelled"];
/// The transitions the one transition table allows (scheduling.md §4.4 with the terminal
/// `done` and `cancelled` of `praxi_domain::operation::check_transition`).
const ALLOWED: [(&str, &str); 6] = [
    ("planned", "confirmed"),
    ("planned", "cancelled"),
    ("confirmed", "running"),
    ("confirmed", "cancelled"),
    ("running", "done"),
    ("running", "cancelled"),
];
const DASHBOARD_ITEM_KEYS: [&str; 10] = [
    "id",
    "type",
    "room",
    "devices",
    "team",
    "start_time",
    "end_time",
    "status",
    "progress",
    "color",
];
const TIMELINE_ITEM_KEYS: [&str; 8] = [
    "id",
    "type",
    "team",
    "start_time",
    "end_time",
    "status",
    "progress",
    "color",
];
const RESOURCE_KEYS: [&str; 7] = [
    "id",
    "name",
    "type",
    "color",
    "active",
    "created_at",
    "updated_at",
];

// ---- fixtures --------------------------------------------------------------------------

/// A Berlin wall-clock time as an instant.
fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Berlin
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("object expected: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("array expected: {items}"))
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// `[(room id, [operation ids])]` of a timeline answer.
fn layout(groups: &Value) -> Vec<(i64, Vec<i64>)> {
    groups
        .as_array()
        .unwrap_or_else(|| panic!("array expected: {groups}"))
        .iter()
        .map(|group| {
            (
                group["room"]["id"].as_i64().unwrap(),
                ids(&group["operations"]),
            )
        })
        .collect()
}

/// The timeline item with this id, wherever it is grouped.
fn timeline_item(groups: &Value, id: i64) -> Value {
    groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["operations"].as_array().unwrap().iter())
        .find(|item| item["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("operation {id} missing in {groups}"))
}

fn progress(item: &Value) -> f64 {
    item["progress"].as_f64().unwrap()
}

/// The practice of the fixtures plus an operation type of 10 + 30 + 10 minutes.
struct Theatre {
    practice: Practice,
    op_type: i64,
}

/// One operation row to insert.
#[derive(Clone)]
struct OpRow {
    op_type: i64,
    patient: i32,
    team: (i64, Option<i64>, Option<i64>),
    room: i64,
    devices: Vec<i64>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: &'static str,
}

impl OpRow {
    fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        self
    }

    fn room(mut self, room: i64) -> Self {
        self.room = room;
        self
    }

    fn team(mut self, team: (i64, Option<i64>, Option<i64>)) -> Self {
        self.team = team;
        self
    }

    fn until(mut self, end: DateTime<Utc>) -> Self {
        self.end = end;
        self
    }
}

impl Theatre {
    async fn new(app: &TestApp) -> Theatre {
        let practice = Practice::new(app).await;
        let op_type = entity::operation_type::ActiveModel {
            name: Set("Kleiner Eingriff".to_owned()),
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
        .id;
        Theatre { practice, op_type }
    }

    fn a(&self) -> i64 {
        self.practice.doctor.id
    }

    fn b(&self) -> i64 {
        self.practice.other_doctor.id
    }

    /// A planned 50-minute operation of doctor A (alone) for patient 1 in the OP room.
    fn row(&self, start: DateTime<Utc>) -> OpRow {
        OpRow {
            op_type: self.op_type,
            patient: self.practice.patients[0],
            team: (self.a(), None, None),
            room: self.practice.other_room,
            devices: Vec::new(),
            start,
            end: start + Duration::minutes(50),
            status: "planned",
        }
    }
}

/// Writes an operation row directly (any status, any time, past or future). On PostgreSQL an
/// exclusion constraint refuses overlapping operations in one room unless cancelled, so the
/// fixtures below never overlap in a room.
async fn insert(app: &TestApp, row: &OpRow) -> i64 {
    let id = entity::operation::ActiveModel {
        patient_id: Set(row.patient),
        primary_surgeon_id: Set(row.team.0),
        assistant_id: Set(row.team.1),
        anesthesist_id: Set(row.team.2),
        op_room_id: Set(row.room),
        op_type_id: Set(row.op_type),
        start_time: Set(row.start),
        end_time: Set(row.end),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        status: Set(row.status.to_owned()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    for device in &row.devices {
        entity::operation_device::ActiveModel {
            operation_id: Set(id),
            resource_id: Set(*device),
            ..Default::default()
        }
        .insert(app.store().conn())
        .await
        .unwrap();
    }
    id
}

async fn deactivate(app: &TestApp, resource_id: i64) {
    let mut model = entity::resource::Entity::find_by_id(resource_id)
        .one(app.store().conn())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    model.active = Set(false);
    model.update(app.store().conn()).await.unwrap();
}

async fn stored_status(app: &TestApp, id: i64) -> String {
    app.store().operation(id).await.unwrap().unwrap().status
}

fn status_path(id: i64) -> String {
    format!("/api/op-dashboard/{id}/status/")
}

async fn get_ok(client: &Client<'_>, path: &str) -> Value {
    let res = client.get(path).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text);
    res.body
}

async fn dashboard(client: &Client<'_>, date: &str) -> Value {
    let body = get_ok(client, &format!("/api/op-dashboard/?date={date}")).await;
    assert_eq!(keys(&body), ["date", "operations"]);
    assert_eq!(body["date"], date);
    body["operations"].clone()
}

async fn timeline(client: &Client<'_>, date: &str) -> Value {
    get_ok(client, &format!("/api/op-timeline/?date={date}")).await
}

async fn timeline_rooms(client: &Client<'_>, date: &str) -> Value {
    get_ok(client, &format!("/api/op-timeline/rooms/?date={date}")).await
}

/// PATCHes a status; returns the response.
async fn set_status(client: &Client<'_>, id: i64, status: &str) -> crate::helpers::TestResponse {
    client
        .patch(&status_path(id), &json!({ "status": status }))
        .await
}

fn invalid_transition(from: &str, to: &str) -> Value {
    json!({
        "detail": "Invalid status transition.",
        "from": from,
        "to": to,
        "code": "invalid_transition",
    })
}

fn running_too_early() -> Value {
    json!({
        "detail": "running is only allowed when now >= start_time.",
        "code": "running_before_start",
    })
}

/// The metas of the newest `n` `op_status_update` rows, oldest first.
async fn status_audits(app: &TestApp, n: u64) -> Vec<Value> {
    let mut rows = app
        .store()
        .audit_log(Some("op_status_update"), n)
        .await
        .unwrap();
    rows.reverse();
    rows.into_iter().map(|row| row.meta.unwrap()).collect()
}

// ---- permissions -----------------------------------------------------------------------

/// api.md §2.2: every endpoint × role, with the §5 fix (no API role → 403 everywhere).
#[tokio::test]
async fn every_board_endpoint_answers_every_role_with_the_exact_status() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_user(&theatre.practice.doctor);
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let clients = [
        ("admin", &admin),
        ("assistant", &assistant),
        ("doctor", &doctor),
        ("billing", &billing),
        ("no role", &nobody),
        ("anonymous", &anonymous),
    ];
    let reads = [
        format!("/api/op-dashboard/?date={MONDAY}"),
        "/api/op-dashboard/live/".to_owned(),
        format!("/api/op-timeline/?date={MONDAY}"),
        format!("/api/op-timeline/rooms/?date={MONDAY}"),
        "/api/op-timeline/live/".to_owned(),
    ];
    for path in &reads {
        let expected = [200, 200, 200, 200, 403, 401];
        for ((who, client), status) in clients.iter().zip(expected) {
            assert_eq!(client.get(path).await.status, status, "{who} GET {path}");
        }
    }

    // The status endpoint: PATCH for admin and assistant only (even the operating doctor
    // may not), no object check.
    let expected = [200, 200, 403, 403, 403, 401];
    for (hour, ((who, client), status)) in (8..).zip(clients.iter().zip(expected)) {
        let id = insert(&app, &theatre.row(utc(0, hour, 0))).await;
        let res = set_status(client, id, "confirmed").await;
        assert_eq!(res.status, status, "{who} PATCH: {}", res.text);
        let after = if status == 200 {
            "confirmed"
        } else {
            "planned"
        };
        assert_eq!(stored_status(&app, id).await, after, "{who}");
    }
    // Permission before the lookup: an unknown id is 404 only for those who may write.
    let expected = [404, 404, 403, 403, 403, 401];
    for ((who, client), status) in clients.iter().zip(expected) {
        let res = set_status(client, 999_999, "confirmed").await;
        assert_eq!(res.status, status, "{who} PATCH unknown: {}", res.text);
    }

    // Other methods on the status path: 405 for whoever passes the method class's
    // permission (reads: every API role; writes: admin, assistant), else 403.
    let id = insert(&app, &theatre.row(utc(0, 16, 0))).await;
    let path = status_path(id);
    let methods = [
        (reqwest::Method::GET, [405, 405, 405, 405, 403, 401]),
        (reqwest::Method::PUT, [405, 405, 403, 403, 403, 401]),
        (reqwest::Method::POST, [405, 405, 403, 403, 403, 401]),
        (reqwest::Method::DELETE, [405, 405, 403, 403, 403, 401]),
    ];
    for (method, expected) in methods {
        for ((who, client), status) in clients.iter().zip(expected) {
            let body = json!({"status": "confirmed"});
            let res = client.send(method.clone(), &path, Some(&body)).await;
            assert_eq!(res.status, status, "{who} {method} {path}: {}", res.text);
        }
    }
    let res = admin.put(&path, &json!({"status": "confirmed"})).await;
    assert_eq!(res.body, json!({"detail": "Method \"PUT\" not allowed."}));
    assert_eq!(stored_status(&app, id).await, "planned");

    // Writing to the dashboard lists: 405 for admin/assistant, 403 for the rest.
    for path in ["/api/op-dashboard/", "/api/op-dashboard/live/"] {
        let expected = [405, 405, 403, 403, 403, 401];
        for ((who, client), status) in clients.iter().zip(expected) {
            let res = client.post(path, &json!({})).await;
            assert_eq!(res.status, status, "{who} POST {path}");
        }
    }

    // The timeline is read-only for everyone: 403 (401 without credentials).
    for path in &reads[2..] {
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let expected = [403, 403, 403, 403, 403, 401];
            for ((who, client), status) in clients.iter().zip(expected) {
                let res = client.send(method.clone(), path, Some(&json!({}))).await;
                assert_eq!(res.status, status, "{who} {method} {path}: {}", res.text);
            }
        }
    }

    // A path id that is not a number is not a route.
    let res = admin
        .patch(
            "/api/op-dashboard/abc/status/",
            &json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Not found."}));
    app.stop().await;
}

// ---- dashboard: day --------------------------------------------------------------------

#[tokio::test]
async fn dashboard_day_lists_every_operation_overlapping_the_local_day_in_start_order() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let assistant = app.as_role(Role::Assistant).await;
    let late = insert(&app, &theatre.row(utc(0, 15, 0)).status("done")).await;
    let early = insert(&app, &theatre.row(utc(0, 8, 0)).status("cancelled")).await;
    // Sunday 23:30 → Monday 00:20: overlaps both days.
    let overnight = insert(&app, &theatre.row(berlin(2030, 1, 13, 23, 30))).await;
    // Equal starts are ordered by id.
    let tie_a = insert(&app, &theatre.row(utc(0, 10, 0)).room(p.room)).await;
    let tie_b = insert(&app, &theatre.row(utc(0, 10, 0)).status("confirmed")).await;
    // Sunday 23:00 → Monday 00:00 only touches Monday: not on it.
    insert(
        &app,
        &theatre
            .row(berlin(2030, 1, 13, 23, 0))
            .until(utc(0, 0, 0))
            .room(p.room),
    )
    .await;
    // Tuesday 00:00 starts after Monday.
    insert(&app, &theatre.row(utc(1, 0, 0))).await;

    let operations = dashboard(&assistant, MONDAY).await;
    assert_eq!(ids(&operations), [overnight, early, tie_a, tie_b, late]);
    let sunday = dashboard(&assistant, "2030-01-13").await;
    assert!(ids(&sunday).contains(&overnight), "{sunday}");
    assert!(
        dashboard(&assistant, "2030-01-16")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn dashboard_items_have_the_original_keys_and_no_patient_data() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let mut row = theatre
        .row(utc(0, 9, 0))
        .team((theatre.a(), Some(theatre.b()), None));
    row.devices = vec![p.device];
    let id = insert(&app, &row).await;

    let operations = dashboard(&admin, MONDAY).await;
    let item = &operations[0];
    assert_eq!(keys(item), DASHBOARD_ITEM_KEYS);
    assert_eq!(item["id"], id);
    assert_eq!(
        item["type"],
        json!({"id": theatre.op_type, "name": "Kleiner Eingriff", "color": "#445566",
               "prep_duration": 10, "op_duration": 30, "post_duration": 10})
    );
    assert_eq!(keys(&item["room"]), RESOURCE_KEYS);
    assert_eq!(item["room"]["id"], p.other_room);
    assert_eq!(item["room"]["name"], "OP-1");
    assert_eq!(item["room"]["type"], "room");
    assert_eq!(ids(&item["devices"]), [p.device]);
    assert_eq!(keys(&item["devices"][0]), RESOURCE_KEYS);
    assert_eq!(item["devices"][0]["type"], "device");
    assert_eq!(
        item["team"],
        json!({
            "primary_surgeon": {"id": theatre.a(), "name": "First dr.anna Last dr.anna", "color": p.doctor.calendar_color},
            "assistant": {"id": theatre.b(), "name": "First dr.bert Last dr.bert", "color": p.other_doctor.calendar_color},
            "anesthesist": null,
        })
    );
    // 09:00 Berlin in January is 08:00Z.
    assert_eq!(item["start_time"], "2030-01-14T09:00:00+01:00");
    assert_eq!(item["end_time"], "2030-01-14T09:50:00+01:00");
    assert_eq!(item["status"], "planned");
    assert_eq!(item["progress"], json!(0.0));
    assert_eq!(item["color"], "#445566");
    for patient_key in ["patient_id", "patient_name", "notes"] {
        assert!(item.get(patient_key).is_none(), "{patient_key} leaked");
    }
    app.stop().await;
}

#[tokio::test]
async fn board_day_views_require_a_valid_date_and_audit_nothing_when_refused() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        (
            "/api/op-dashboard/",
            "date query parameter is required (YYYY-MM-DD).",
            "date must be in format YYYY-MM-DD.",
        ),
        (
            "/api/op-timeline/",
            "Provide ?date=YYYY-MM-DD.",
            "Date must be in format YYYY-MM-DD.",
        ),
        (
            "/api/op-timeline/rooms/",
            "Provide ?date=YYYY-MM-DD.",
            "Date must be in format YYYY-MM-DD.",
        ),
    ];
    for (path, required, format) in cases {
        for query in ["", "?date=", "?other=1"] {
            let res = admin.get(&format!("{path}{query}")).await;
            assert_eq!(res.status, 400, "{path}{query}");
            assert_eq!(res.body, json!({"detail": required}), "{path}{query}");
        }
        for bad in [
            "14.01.2030",
            "2030-13-01",
            "2030-02-30",
            "abc",
            "0000-01-01",
            "2030-01-14T00:00",
        ] {
            let res = admin.get(&format!("{path}?date={bad}")).await;
            assert_eq!(res.status, 400, "{path}?date={bad}");
            assert_eq!(res.body, json!({"detail": format}), "{path}?date={bad}");
        }
        // The last value of a repeated parameter counts.
        let res = admin.get(&format!("{path}?date=bad&date={MONDAY}")).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
    }
    let rows = app.store().audit_log(None, 100).await.unwrap();
    let views = rows
        .iter()
        .filter(|row| row.action == "op_dashboard_view" || row.action == "op_timeline_view")
        .count();
    assert_eq!(views, 3, "only the three successful reads are audited");
    app.stop().await;
}

// ---- dashboard: live -------------------------------------------------------------------

/// scheduling.md §8.5 #89.
#[tokio::test]
async fn s89_progress_is_the_running_share_and_live_lists_only_started_running_operations() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let now = app.state.now();
    // Running from now − 25 min to now + 25 min: 25 / 50 = 0.5.
    let half = insert(
        &app,
        &theatre
            .row(now - Duration::minutes(25))
            .status("running")
            .room(p.room),
    )
    .await;
    // Running, ended two hours ago (overrun): 170 / 50 → clamped to 1.0; still live.
    let overrun = insert(
        &app,
        &theatre.row(now - Duration::minutes(170)).status("running"),
    )
    .await;
    // Running but (moved to) the future: not live.
    let future = insert(
        &app,
        &theatre.row(now + Duration::hours(2)).status("running"),
    )
    .await;
    // Started, but not running: not live, progress 0.0.
    let confirmed = insert(
        &app,
        &theatre
            .row(now - Duration::minutes(10))
            .status("confirmed")
            .team((theatre.b(), None, None)),
    )
    .await;
    let spare = resource(&app, "OP-2", "room").await;
    let planned = insert(
        &app,
        &theatre
            .row(now - Duration::minutes(5))
            .room(spare)
            .team((theatre.b(), None, None)),
    )
    .await;

    let body = get_ok(&admin, "/api/op-dashboard/live/").await;
    assert_eq!(keys(&body), ["operations"]);
    let live = &body["operations"];
    assert_eq!(ids(live), [overrun, half]);
    assert_eq!(keys(&live[0]), DASHBOARD_ITEM_KEYS);
    assert_eq!(progress(&live[0]), 1.0);
    assert!((progress(&live[1]) - 0.5).abs() < 0.001, "{}", live[1]);

    // The day view: every status, ordered by start; progress only for running.
    let today = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let day = dashboard(&admin, &today.to_string()).await;
    for item in day.as_array().unwrap() {
        let id = item["id"].as_i64().unwrap();
        if id == confirmed || id == planned || id == future {
            assert_eq!(item["progress"], json!(0.0), "{item}");
        }
    }
    let starts: Vec<&str> = day
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["start_time"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_by_key(|text| DateTime::parse_from_rfc3339(text).unwrap());
    assert_eq!(starts, sorted);
    app.stop().await;
}

#[tokio::test]
async fn board_reads_are_audited_with_the_original_metas() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let paths = [
        (
            format!("/api/op-dashboard/?date={MONDAY}"),
            "op_dashboard_view",
            json!({"date": MONDAY}),
        ),
        (
            "/api/op-dashboard/live/".to_owned(),
            "op_dashboard_view",
            json!({"live": true}),
        ),
        (
            format!("/api/op-timeline/?date={MONDAY}"),
            "op_timeline_view",
            json!({"live": false, "date": MONDAY}),
        ),
        (
            format!("/api/op-timeline/rooms/?date={MONDAY}"),
            "op_timeline_view",
            json!({"rooms": true, "date": MONDAY}),
        ),
        (
            "/api/op-timeline/live/".to_owned(),
            "op_timeline_view",
            json!({"live": true}),
        ),
    ];
    for (path, action, meta) in paths {
        get_ok(&admin, &path).await;
        let rows = app.store().audit_log(None, 1).await.unwrap();
        let row = &rows[0];
        assert_eq!(row.action, action, "{path}");
        assert_eq!(row.meta, Some(meta), "{path}");
        assert_eq!(row.patient_id, None, "{path}");
        assert_eq!(row.user_id, Some(admin.user_id()), "{path}");
        assert_eq!(row.role_name, "admin");
    }
    app.stop().await;
}

// ---- doctors ---------------------------------------------------------------------------

/// A doctor's board holds the operations in whose team they are (any role), on every view;
/// the rooms view still lists every active room.
#[tokio::test]
async fn doctors_see_only_operations_of_their_team_on_every_view() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let (a, b) = (theatre.a(), theatre.b());
    let doctor = app.as_user(&p.doctor);
    let billing = app.as_role(Role::Billing).await;
    let primary = insert(&app, &theatre.row(utc(0, 8, 0)).team((a, None, None))).await;
    let assisting = insert(&app, &theatre.row(utc(0, 9, 0)).team((b, Some(a), None))).await;
    let anaesthesia = insert(&app, &theatre.row(utc(0, 10, 0)).team((b, None, Some(a)))).await;
    let foreign = insert(
        &app,
        &theatre
            .row(utc(0, 11, 0))
            .team((b, None, None))
            .room(p.room),
    )
    .await;
    let now = app.state.now();
    let own_running = insert(
        &app,
        &theatre
            .row(now - Duration::minutes(5))
            .status("running")
            .team((b, Some(a), None)),
    )
    .await;
    let foreign_running = insert(
        &app,
        &theatre
            .row(now - Duration::minutes(5))
            .status("running")
            .team((b, None, None))
            .room(p.room),
    )
    .await;

    assert_eq!(
        ids(&dashboard(&doctor, MONDAY).await),
        [primary, assisting, anaesthesia]
    );
    assert_eq!(
        ids(&dashboard(&billing, MONDAY).await),
        [primary, assisting, anaesthesia, foreign]
    );
    assert_eq!(
        layout(&timeline(&doctor, MONDAY).await),
        [(p.other_room, vec![primary, assisting, anaesthesia])]
    );
    // Both active rooms, the room holding only a foreign operation with an empty list.
    assert_eq!(
        layout(&timeline_rooms(&doctor, MONDAY).await),
        [
            (p.room, vec![]),
            (p.other_room, vec![primary, assisting, anaesthesia])
        ]
    );
    let live = get_ok(&doctor, "/api/op-dashboard/live/").await;
    assert_eq!(ids(&live["operations"]), [own_running]);
    let live = get_ok(&billing, "/api/op-dashboard/live/").await;
    assert_eq!(ids(&live["operations"]).len(), 2);
    assert!(ids(&live["operations"]).contains(&foreign_running));
    let live = get_ok(&doctor, "/api/op-timeline/live/").await;
    assert_eq!(layout(&live), [(p.other_room, vec![own_running])]);
    app.stop().await;
}

// ---- status endpoint: catalogue §8.5 ---------------------------------------------------

/// scheduling.md §8.5 #84.
#[tokio::test]
async fn s84_planned_to_confirmed_is_200_and_confirmed_to_running_before_the_start_is_400() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = insert(&app, &theatre.row(utc(0, 9, 0))).await;

    let res = set_status(&admin, id, "confirmed").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(keys(&res.body), DASHBOARD_ITEM_KEYS);
    assert_eq!(res.body["id"], id);
    assert_eq!(res.body["status"], "confirmed");
    assert_eq!(res.body["progress"], json!(0.0));

    let res = set_status(&admin, id, "running").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, running_too_early());
    assert_eq!(stored_status(&app, id).await, "confirmed");
    app.stop().await;
}

/// scheduling.md §8.5 #85 (an operation in the past: its progress is clamped to 1.0).
#[tokio::test]
async fn s85_confirmed_to_running_after_the_start_is_200_with_clamped_progress() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let start = app.state.now() - Duration::hours(3);
    let id = insert(&app, &theatre.row(start).status("confirmed")).await;

    let res = set_status(&assistant, id, "running").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "running");
    // 180 minutes into a 50-minute operation: 3.6 → 1.0.
    assert_eq!(res.body["progress"], json!(1.0));
    assert_eq!(stored_status(&app, id).await, "running");
    app.stop().await;
}

/// The e2e expectation: confirmed → running is refused before the start and accepted once the
/// clock has passed it.
#[tokio::test]
async fn s85_running_becomes_allowed_when_the_clock_passes_the_start() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let user = app.create_user("op.assistant", Some(Role::Assistant)).await;
    let before = app.as_user(&user);
    let start = app.state.now() + Duration::hours(1);
    let id = insert(&app, &theatre.row(start).status("confirmed")).await;

    let res = set_status(&before, id, "running").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, running_too_early());

    // 85 minutes later the operation has run 25 of its 50 minutes; the old access token
    // (15 minutes) has expired, so a new one is minted.
    app.state.clock.advance(Duration::minutes(85));
    assert_eq!(set_status(&before, id, "running").await.status, 401);
    let after = app.as_user(&user);
    let res = set_status(&after, id, "running").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "running");
    assert!((progress(&res.body) - 0.5).abs() < 0.001, "{}", res.body);
    let live = get_ok(&after, "/api/op-dashboard/live/").await;
    assert_eq!(ids(&live["operations"]), [id]);
    app.stop().await;
}

/// scheduling.md §8.5 #86.
#[tokio::test]
async fn s86_skipping_to_done_and_unknown_targets_are_invalid_transitions() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let start = app.state.now() - Duration::hours(1);
    let planned = insert(&app, &theatre.row(start)).await;
    let confirmed = insert(
        &app,
        &theatre
            .row(start)
            .status("confirmed")
            .room(theatre.practice.room),
    )
    .await;

    let res = set_status(&admin, planned, "done").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, invalid_transition("planned", "done"));
    let res = set_status(&admin, confirmed, "done").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, invalid_transition("confirmed", "done"));
    let res = set_status(&admin, planned, "foo").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, invalid_transition("planned", "foo"));
    assert_eq!(stored_status(&app, planned).await, "planned");
    assert_eq!(stored_status(&app, confirmed).await, "confirmed");
    app.stop().await;
}

/// scheduling.md §8.5 #87: cancelling works from every non-terminal status; `done` and
/// `cancelled` are terminal (the original answered 200 for both).
#[tokio::test]
async fn s87_cancelling_is_allowed_from_every_non_terminal_status_only() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let start = |hours: i64| app.state.now() - Duration::hours(hours);
    for (hours, from) in (1..).zip(["planned", "confirmed", "running"]) {
        let id = insert(&app, &theatre.row(start(hours)).status(from)).await;
        let res = set_status(&admin, id, "cancelled").await;
        assert_eq!(res.status, 200, "{from}: {}", res.text);
        assert_eq!(res.body["status"], "cancelled");
        assert_eq!(res.body["progress"], json!(0.0));
    }
    for (hours, from) in (4..).zip(["done", "cancelled"]) {
        let id = insert(&app, &theatre.row(start(hours)).status(from)).await;
        let res = set_status(&admin, id, "cancelled").await;
        assert_eq!(res.status, 400, "{from}");
        assert_eq!(res.body, invalid_transition(from, "cancelled"));
        assert_eq!(stored_status(&app, id).await, from);
    }
    app.stop().await;
}

/// scheduling.md §8.5 #88.
#[tokio::test]
async fn s88_missing_status_is_400_unknown_id_404_and_doctors_403() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = insert(&app, &theatre.row(utc(0, 9, 0))).await;
    let required = json!({"detail": "status is required.", "code": "status_required"});
    for body in [json!({}), json!({"status": null}), json!({"status": ""})] {
        let res = admin.patch(&status_path(id), &body).await;
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.body, required, "{body}");
    }
    let audits_before = app
        .store()
        .audit_log(Some("op_status_update"), 100)
        .await
        .unwrap()
        .len();
    let res = set_status(&admin, 999_999, "confirmed").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Not found."}));
    let audits_after = app
        .store()
        .audit_log(Some("op_status_update"), 100)
        .await
        .unwrap()
        .len();
    assert_eq!(audits_before, audits_after, "an unknown id is not audited");
    // Even a doctor of the operation's team may not change its status.
    let doctor = app.as_user(&theatre.practice.doctor);
    let res = set_status(&doctor, id, "confirmed").await;
    assert_eq!(res.status, 403);
    assert_eq!(stored_status(&app, id).await, "planned");
    app.stop().await;
}

/// Bodies the status endpoint cannot read name the field (and are audited as attempts).
#[tokio::test]
async fn malformed_status_bodies_name_the_field() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = insert(&app, &theatre.row(utc(0, 9, 0))).await;
    let cases = [
        (
            json!({"status": true}),
            json!({"status": ["Not a valid string."]}),
        ),
        (
            json!({"status": ["confirmed"]}),
            json!({"status": ["Not a valid string."]}),
        ),
        (
            json!({"status": "confirmed", "notes": "x"}),
            json!({"notes": ["Unknown field."]}),
        ),
    ];
    for (body, expected) in cases {
        let res = admin.patch(&status_path(id), &body).await;
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.body, expected, "{body}");
    }
    let res = admin
        .raw(
            reqwest::Method::PATCH,
            &status_path(id),
            "application/json",
            b"[1]".to_vec(),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    );
    let res = admin
        .raw(
            reqwest::Method::PATCH,
            &status_path(id),
            "application/json",
            b"{".to_vec(),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(
        res.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{}",
        res.text
    );
    assert_eq!(stored_status(&app, id).await, "planned");
    let metas = status_audits(&app, 5).await;
    let invalid = json!({"from": "planned", "to": null, "ok": false, "detail": "invalid_body"});
    assert_eq!(metas, vec![invalid; 5]);
    app.stop().await;
}

/// The verified sequence of api.md §3.9, with Praxi's terminal `cancelled`.
#[tokio::test]
async fn the_verified_status_sequence_of_the_original_gives_the_same_answers() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = insert(&app, &theatre.row(app.state.now() + Duration::days(1))).await;
    let steps = [
        (
            "running",
            400,
            Some(invalid_transition("planned", "running")),
        ),
        ("bogus", 400, Some(invalid_transition("planned", "bogus"))),
        (
            "planned",
            400,
            Some(invalid_transition("planned", "planned")),
        ),
        ("confirmed", 200, None),
        ("running", 400, Some(running_too_early())),
        ("cancelled", 200, None),
        // The original: 200 (Praxi: cancelled is terminal).
        (
            "cancelled",
            400,
            Some(invalid_transition("cancelled", "cancelled")),
        ),
        (
            "planned",
            400,
            Some(invalid_transition("cancelled", "planned")),
        ),
    ];
    for (to, status, body) in &steps {
        let res = set_status(&admin, id, to).await;
        assert_eq!(res.status, *status, "→ {to}: {}", res.text);
        if let Some(body) = body {
            assert_eq!(&res.body, body, "→ {to}");
        }
    }
    // One audit row per attempt, in order, with the original's meta.
    let metas = status_audits(&app, 8).await;
    assert_eq!(
        metas,
        [
            json!({"from": "planned", "to": "running", "ok": false, "detail": "invalid_transition"}),
            json!({"from": "planned", "to": "bogus", "ok": false, "detail": "invalid_transition"}),
            json!({"from": "planned", "to": "planned", "ok": false, "detail": "invalid_transition"}),
            json!({"from": "planned", "to": "confirmed", "ok": true}),
            json!({"from": "confirmed", "to": "running", "ok": false, "detail": "running_before_start"}),
            json!({"from": "confirmed", "to": "cancelled", "ok": true}),
            json!({"from": "cancelled", "to": "cancelled", "ok": false, "detail": "invalid_transition"}),
            json!({"from": "cancelled", "to": "planned", "ok": false, "detail": "invalid_transition"}),
        ]
    );
    let required = admin.patch(&status_path(id), &json!({})).await;
    assert_eq!(required.status, 400);
    let metas = status_audits(&app, 1).await;
    assert_eq!(
        metas,
        [json!({"from": "cancelled", "to": null, "ok": false, "detail": "status is required"})]
    );
    let rows = app
        .store()
        .audit_log(Some("op_status_update"), 1)
        .await
        .unwrap();
    assert_eq!(rows[0].patient_id, Some(theatre.practice.patients[0]));
    assert_eq!(rows[0].user_id, Some(admin.user_id()));
    app.stop().await;
}

/// Every (from, to) pair over HTTP: the transition table decides, an allowed change writes the
/// status, one history row and an `ok` audit row; a refused one writes neither status nor
/// history.
#[tokio::test]
async fn every_allowed_and_forbidden_transition_over_http() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    // Every operation started at least an hour ago (running is allowed by time), one hour
    // apart.
    let now = app.state.now();
    let mut hours = 0;
    for from in STATUSES {
        for to in STATUSES.into_iter().chain(["bogus"]) {
            hours += 1;
            let start = now - Duration::hours(hours);
            let id = insert(&app, &theatre.row(start).status(from)).await;
            let res = set_status(&admin, id, to).await;
            let allowed = ALLOWED.contains(&(from, to));
            let history = app.store().operation_status_events(id).await.unwrap();
            let meta = &status_audits(&app, 1).await[0];
            if allowed {
                assert_eq!(res.status, 200, "{from} → {to}: {}", res.text);
                assert_eq!(res.body["status"], to);
                assert_eq!(stored_status(&app, id).await, to);
                assert_eq!(history.len(), 1, "{from} → {to}");
                assert_eq!(history[0].from_status.as_deref(), Some(from));
                assert_eq!(history[0].to_status, to);
                assert_eq!(history[0].user_id, Some(admin.user_id()));
                assert_eq!(meta, &json!({"from": from, "to": to, "ok": true}));
            } else {
                assert_eq!(res.status, 400, "{from} → {to}: {}", res.text);
                assert_eq!(res.body, invalid_transition(from, to), "{from} → {to}");
                assert_eq!(stored_status(&app, id).await, from);
                assert!(history.is_empty(), "{from} → {to}");
                assert_eq!(
                    meta,
                    &json!({"from": from, "to": to, "ok": false, "detail": "invalid_transition"})
                );
            }
        }
    }
    app.stop().await;
}

// ---- timeline --------------------------------------------------------------------------

/// scheduling.md §8.7 #99: grouped by room (name, then id), operations by start (then id),
/// only rooms holding operations, every status.
#[tokio::test]
async fn s99_timeline_groups_by_room_name_then_id_and_orders_by_start() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let op_b = resource(&app, "OP-B", "room").await;
    let op_a_first = resource(&app, "OP-A", "room").await;
    let op_a_second = resource(&app, "OP-A", "room").await;
    let empty = resource(&app, "AAA leer", "room").await;
    let b1 = insert(&app, &theatre.row(utc(0, 11, 0)).room(op_b).status("done")).await;
    let b0 = insert(
        &app,
        &theatre.row(utc(0, 8, 0)).room(op_b).status("cancelled"),
    )
    .await;
    let a2 = insert(&app, &theatre.row(utc(0, 9, 0)).room(op_a_second)).await;
    let a1_late = insert(&app, &theatre.row(utc(0, 10, 0)).room(op_a_first)).await;
    let a1_tie_1 = insert(
        &app,
        &theatre
            .row(utc(0, 8, 0))
            .room(op_a_first)
            .status("confirmed"),
    )
    .await;
    let a1_tie_2 = insert(
        &app,
        &theatre
            .row(utc(0, 8, 0))
            .room(op_a_first)
            .status("cancelled"),
    )
    .await;
    // Other days stay off.
    insert(&app, &theatre.row(utc(1, 8, 0)).room(op_b)).await;

    let groups = timeline(&admin, MONDAY).await;
    assert_eq!(
        layout(&groups),
        [
            (op_a_first, vec![a1_tie_1, a1_tie_2, a1_late]),
            (op_a_second, vec![a2]),
            (op_b, vec![b0, b1]),
        ]
    );
    assert!(
        !layout(&groups)
            .iter()
            .any(|(room, _)| *room == empty || *room == p.room)
    );
    let group = &groups[0];
    assert_eq!(keys(group), ["room", "operations"]);
    assert_eq!(
        group["room"],
        json!({"id": op_a_first, "name": "OP-A", "color": "#6A5ACD"})
    );
    let item = &group["operations"][0];
    assert_eq!(keys(item), TIMELINE_ITEM_KEYS);
    assert_eq!(
        item["type"],
        json!({"id": theatre.op_type, "name": "Kleiner Eingriff", "color": "#445566"})
    );
    assert_eq!(item["team"]["primary_surgeon"]["id"], theatre.a());
    assert_eq!(item["team"]["assistant"], Value::Null);
    assert_eq!(item["start_time"], "2030-01-14T08:00:00+01:00");
    assert_eq!(item["end_time"], "2030-01-14T08:50:00+01:00");
    assert_eq!(item["status"], "confirmed");
    assert_eq!(item["progress"], json!(0.0));
    assert_eq!(item["color"], "#445566");
    assert!(
        timeline(&admin, "2030-01-20")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

/// scheduling.md §8.7 #100: every active room, empty ones included (also for doctors);
/// inactive rooms and their operations are left out; devices are no rooms.
#[tokio::test]
async fn s100_timeline_rooms_lists_every_active_room_including_empty_ones() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let zeta = resource(&app, "Zeta", "room").await;
    let retired = resource(&app, "Alt-OP", "room").await;
    let in_retired = insert(&app, &theatre.row(utc(0, 9, 0)).room(retired)).await;
    let own = insert(&app, &theatre.row(utc(0, 10, 0))).await;
    let foreign = insert(
        &app,
        &theatre.row(utc(0, 8, 0)).team((theatre.b(), None, None)),
    )
    .await;
    deactivate(&app, retired).await;

    let admin = app.as_role(Role::Admin).await;
    // "Behandlungsraum 1" < "OP-1" < "Zeta".
    let expected = [
        (p.room, vec![]),
        (p.other_room, vec![foreign, own]),
        (zeta, vec![]),
    ];
    let groups = timeline_rooms(&admin, MONDAY).await;
    assert_eq!(layout(&groups), expected);
    assert_eq!(
        groups[0]["room"],
        json!({"id": p.room, "name": "Behandlungsraum 1", "color": "#6A5ACD"})
    );
    assert_eq!(groups[0]["operations"], json!([]));
    assert_eq!(keys(&groups[1]["operations"][0]), TIMELINE_ITEM_KEYS);
    let doctor = app.as_user(&p.doctor);
    assert_eq!(
        layout(&timeline_rooms(&doctor, MONDAY).await),
        [(p.room, vec![]), (p.other_room, vec![own]), (zeta, vec![])]
    );
    // The day view still shows the operation in the retired room.
    assert!(layout(&timeline(&admin, MONDAY).await).contains(&(retired, vec![in_retired])));
    // An empty day lists the rooms all the same.
    assert_eq!(
        layout(&timeline_rooms(&admin, "2030-02-01").await),
        [(p.room, vec![]), (p.other_room, vec![]), (zeta, vec![])]
    );
    app.stop().await;
}

/// scheduling.md §8.7 #101 as assigned: the timeline selects by **start** date, so an
/// operation from 23:30 to 00:30 is on its first day only (the dashboard, by overlap, shows it
/// on both days).
#[tokio::test]
async fn s101_an_operation_across_midnight_is_on_the_timeline_of_both_days() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let start = berlin(2030, 1, 13, 23, 30);
    let id = insert(&app, &theatre.row(start).until(berlin(2030, 1, 14, 0, 30))).await;
    let monday = insert(&app, &theatre.row(utc(0, 0, 0)).room(p.room)).await;

    assert_eq!(
        layout(&timeline(&admin, "2030-01-13").await),
        [(p.other_room, vec![id])]
    );
    assert_eq!(
        layout(&timeline(&admin, MONDAY).await),
        [(p.room, vec![monday]), (p.other_room, vec![id])]
    );
    let rooms = timeline_rooms(&admin, MONDAY).await;
    assert_eq!(
        layout(&rooms),
        [(p.room, vec![monday]), (p.other_room, vec![id])]
    );
    assert_eq!(ids(&dashboard(&admin, "2030-01-13").await), [id]);
    assert_eq!(ids(&dashboard(&admin, MONDAY).await), [id, monday]);
    app.stop().await;
}

/// The day boundaries are local (Europe/Berlin), also across a DST change: the timeline of
/// Sunday 2030-03-31 (23 hours) holds 00:00–24:00 local (operations are 50 minutes long).
#[tokio::test]
async fn timeline_days_are_local_days_across_daylight_saving_time() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let first = insert(&app, &theatre.row(berlin(2030, 3, 31, 0, 0))).await;
    let last = insert(&app, &theatre.row(berlin(2030, 3, 31, 23, 5))).await;
    let room = theatre.practice.room;
    let next = insert(&app, &theatre.row(berlin(2030, 4, 1, 0, 0)).room(room)).await;
    let before = insert(&app, &theatre.row(berlin(2030, 3, 30, 23, 10)).room(room)).await;
    let groups = timeline(&admin, "2030-03-31").await;
    assert_eq!(ids(&groups[0]["operations"]), [first, last]);
    assert_eq!(
        groups[0]["operations"][0]["start_time"],
        "2030-03-31T00:00:00+01:00"
    );
    assert_eq!(
        groups[0]["operations"][1]["start_time"],
        "2030-03-31T23:05:00+02:00"
    );
    assert_eq!(
        ids(&timeline(&admin, "2030-04-01").await[0]["operations"]),
        [next]
    );
    assert_eq!(
        ids(&timeline(&admin, "2030-03-30").await[0]["operations"]),
        [before]
    );
    app.stop().await;
}

/// scheduling.md §8.5 #90 (W16 fixed): a running operation stays on the live timeline until it
/// is set done; confirmed operations count from 30 minutes ago on.
#[tokio::test]
async fn s90_a_running_operation_stays_on_the_live_timeline_until_done() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let now = app.state.now();
    let minutes = |m: i64| now + Duration::minutes(m);
    let running_31 = insert(&app, &theatre.row(minutes(-31)).status("running")).await;
    let running_3h = insert(
        &app,
        &theatre.row(minutes(-180)).status("running").room(p.room),
    )
    .await;
    let confirmed_29 = insert(
        &app,
        &theatre.row(minutes(-29)).status("confirmed").room(p.room),
    )
    .await;
    let confirmed_later = insert(&app, &theatre.row(minutes(240)).status("confirmed")).await;
    // Not live: confirmed too long ago, planned, done, cancelled.
    for (idx, (start, status)) in [
        (-31, "confirmed"),
        (-5, "planned"),
        (-5, "done"),
        (-5, "cancelled"),
    ]
    .into_iter()
    .enumerate()
    {
        let spare = resource(&app, &format!("Spare {idx}"), "room").await;
        insert(
            &app,
            &theatre.row(minutes(start)).status(status).room(spare),
        )
        .await;
    }

    let live = get_ok(&admin, "/api/op-timeline/live/").await;
    assert_eq!(
        layout(&live),
        [
            (p.room, vec![running_3h, confirmed_29]),
            (p.other_room, vec![running_31, confirmed_later]),
        ]
    );
    // 31 of 50 minutes: 0.62; an overrun is clamped to 1.0; confirmed report 0.0.
    assert!((progress(&timeline_item(&live, running_31)) - 0.62).abs() < 0.001);
    assert_eq!(progress(&timeline_item(&live, running_3h)), 1.0);
    assert_eq!(progress(&timeline_item(&live, confirmed_29)), 0.0);

    // Set done, it leaves the live timeline.
    let res = set_status(&admin, running_31, "done").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let live = get_ok(&admin, "/api/op-timeline/live/").await;
    assert_eq!(layout(&live)[1], (p.other_room, vec![confirmed_later]));
    app.stop().await;
}

// ---- statement counts ------------------------------------------------------------------

/// A copy of the test's connection that counts the statements it runs.
fn counting_connection(app: &TestApp) -> (DatabaseConnection, Arc<AtomicUsize>) {
    let mut conn = app.store().conn().clone();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (conn, count)
}

fn monday_interval() -> Interval {
    local_day(
        chrono_tz::Europe::Berlin,
        NaiveDate::from_ymd_opt(2030, 1, 14).unwrap(),
    )
    .unwrap()
}

/// `(statements, rows)` of every board read, in the order dashboard day, dashboard live,
/// timeline day, timeline rooms, timeline live.
async fn board_statements(
    app: &TestApp,
    now: DateTime<Utc>,
    team: Option<i64>,
) -> Vec<(usize, usize)> {
    let (conn, count) = counting_connection(app);
    let day = monday_interval();
    let mut out = Vec::new();
    for view in [
        BoardView::DashboardDay(day),
        BoardView::DashboardLive { now },
        BoardView::TimelineDay(day),
    ] {
        count.store(0, Ordering::SeqCst);
        let rows = read_board(&conn, view, team).await.unwrap().len();
        out.push((count.load(Ordering::SeqCst), rows));
    }
    count.store(0, Ordering::SeqCst);
    let groups = read_timeline_rooms(&conn, day, team).await.unwrap();
    let rows = groups.iter().map(|g| g.operations.len()).sum();
    out.push((count.load(Ordering::SeqCst), rows));
    count.store(0, Ordering::SeqCst);
    let rows = read_board(&conn, BoardView::TimelineLive { now }, team)
        .await
        .unwrap()
        .len();
    out.push((count.load(Ordering::SeqCst), rows));
    out
}

/// Each board read runs a fixed number of statements (rows, then their devices; the rooms
/// view adds the rooms; the live timeline reads running and confirmed separately), whatever
/// the number of operations, rooms, devices or team members, and with the doctor filter.
#[tokio::test]
async fn board_statement_counts_do_not_grow_with_the_data() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let now = app.state.now();
    let first = resource(&app, "Erster", "room").await;
    let mut with_device = theatre.row(utc(0, 8, 0)).room(first);
    with_device.devices = vec![p.device];
    insert(&app, &with_device).await;
    insert(
        &app,
        &theatre
            .row(now - Duration::minutes(10))
            .status("running")
            .room(first),
    )
    .await;
    insert(
        &app,
        &theatre
            .row(now + Duration::minutes(50))
            .status("confirmed")
            .room(first),
    )
    .await;
    let small = board_statements(&app, now, None).await;
    assert!(small.iter().all(|(_, rows)| *rows >= 1), "{small:?}");

    // Many more: 8 rooms, 4 devices, 60 operations on the Monday, 40 live ones.
    let mut rooms = vec![p.room, p.other_room];
    for idx in 0..6 {
        rooms.push(resource(&app, &format!("OP-{idx}"), "room").await);
    }
    let mut devices = vec![p.device];
    for idx in 0..3 {
        devices.push(resource(&app, &format!("Gerät {idx}"), "device").await);
    }
    for idx in 0..60_u32 {
        let slot = usize::try_from(idx).unwrap();
        let mut row = theatre
            .row(utc(0, 7 + idx / 8, (idx % 8) * 7))
            .room(rooms[slot % rooms.len()])
            .team((theatre.a(), Some(theatre.b()), None))
            .status(STATUSES[slot % 5]);
        row.devices = devices[..=(slot % devices.len())].to_vec();
        insert(&app, &row).await;
    }
    // Five-minute live operations, 24 minutes apart within a room.
    for idx in 0..20_i64 {
        let room = rooms[usize::try_from(idx).unwrap() % rooms.len()];
        let start = now - Duration::minutes(idx * 3);
        let running = theatre.row(start).status("running").room(room);
        insert(&app, &running.until(start + Duration::minutes(5))).await;
        let start = now + Duration::minutes(60 + idx * 3);
        let confirmed = theatre.row(start).status("confirmed").room(room);
        insert(&app, &confirmed.until(start + Duration::minutes(5))).await;
    }
    let big = board_statements(&app, now, None).await;
    let statements = |counts: &[(usize, usize)]| counts.iter().map(|(n, _)| *n).collect::<Vec<_>>();
    assert!(
        big.iter().zip(&small).all(|(b, s)| b.1 > s.1 * 10),
        "{big:?} vs {small:?}"
    );
    assert_eq!(
        statements(&small),
        statements(&big),
        "statements must not depend on rows"
    );
    assert_eq!(statements(&big), [2, 2, 2, 3, 4]);
    // A doctor's filter adds none.
    let filtered = board_statements(&app, now, Some(theatre.a())).await;
    assert_eq!(statements(&filtered), [2, 2, 2, 3, 4]);
    app.stop().await;
}

// ---- live events -----------------------------------------------------------------------

/// Gives up on an event after 300 ms.
async fn no_event(response: &mut reqwest::Response, kind: &str) -> bool {
    tokio::time::timeout(StdDuration::from_millis(300), next_event(response, kind))
        .await
        .ok()
        .flatten()
        .is_none()
}

#[tokio::test]
async fn a_status_change_reaches_the_op_board_stream_within_a_second() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let id = insert(&app, &theatre.row(utc(0, 9, 0))).await;
    let mut stream = open_stream(&app, assistant.token.as_deref().unwrap(), "op-board").await;

    // A refused attempt publishes nothing.
    assert_eq!(set_status(&assistant, id, "done").await.status, 400);
    assert!(no_event(&mut stream, "operation.status").await);

    let started = std::time::Instant::now();
    assert_eq!(set_status(&assistant, id, "confirmed").await.status, 200);
    let event = tokio::time::timeout(
        StdDuration::from_secs(1),
        next_event(&mut stream, "operation.status"),
    )
    .await
    .expect("within a second")
    .expect("event");
    assert!(started.elapsed() < StdDuration::from_secs(1));
    assert_eq!(keys(&event), ["board", "kind", "id", "status", "at"]);
    assert_eq!(event["board"], "op-board");
    assert_eq!(event["kind"], "operation.status");
    assert_eq!(event["id"], id);
    assert_eq!(event["status"], "confirmed");
    app.stop().await;
}

#[tokio::test]
async fn operation_writes_are_published_on_the_op_board() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut stream = open_stream(&app, admin.token.as_deref().unwrap(), "op-board").await;
    let body = json!({
        "patient_id": theatre.practice.patients[0],
        "primary_surgeon": theatre.a(),
        "op_room": theatre.practice.other_room,
        "op_type": theatre.op_type,
        "start_time": at(0, 9, 0),
    });
    let res = admin.post("/api/operations/", &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["id"].as_i64().unwrap();
    let event = next_event(&mut stream, "operation.created")
        .await
        .expect("created");
    assert_eq!(
        (event["id"].as_i64(), event["status"].as_str()),
        (Some(id), Some("planned"))
    );

    let path = format!("/api/operations/{id}/");
    let res = admin.patch(&path, &json!({"status": "confirmed"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let event = next_event(&mut stream, "operation.updated")
        .await
        .expect("updated");
    assert_eq!(
        (event["id"].as_i64(), event["status"].as_str()),
        (Some(id), Some("confirmed"))
    );

    assert_eq!(admin.delete(&path).await.status, 204);
    let event = next_event(&mut stream, "operation.deleted")
        .await
        .expect("deleted");
    assert_eq!(event["id"], id);
    app.stop().await;
}
