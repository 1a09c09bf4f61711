//! OP statistics (`/api/op-stats/…/`, api.md §3.11, scheduling.md §6.3) and the KPI endpoints
//! (`/api/kpis/scheduling|operations/`, scheduling.md §6.5). Every expected number is worked
//! out by hand next to its assertion. Tests covering a scenario of the scheduling catalogue
//! §8.7 are named `vw_<n>_…`.
#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_domain::kpi::KpiClock;
use praxi_store::entity;
use praxi_store::stats::{KpiScope, op_stats_operations, operations_data, scheduling_data};
use praxi_store::users::UserRecord;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};

use crate::fixtures::{absence, doctor_hours, practice_break, practice_hours, resource, time};
use crate::helpers::{Client, TestApp};

const BERLIN: chrono_tz::Tz = chrono_tz::Europe::Berlin;
const SCOPES: [&str; 5] = ["overview", "rooms", "devices", "surgeons", "types"];

/// A Berlin wall-clock time as an instant.
fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    BERLIN
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn patient(app: &TestApp, id: i32) {
    entity::patient::ActiveModel {
        id: Set(id),
        first_name: Set("P".to_owned()),
        last_name: Set(format!("Patient{id}")),
        birth_date: Set(None),
        gender: Set(None),
        phone: Set(None),
        email: Set(None),
        created_at: Set(Some(Utc::now())),
        updated_at: Set(Some(Utc::now())),
    }
    .insert(app.store().conn())
    .await
    .unwrap();
}

async fn op_type(app: &TestApp, name: &str, minutes: (i32, i32, i32)) -> i64 {
    entity::operation_type::ActiveModel {
        name: Set(name.to_owned()),
        prep_duration: Set(minutes.0),
        op_duration: Set(minutes.1),
        post_duration: Set(minutes.2),
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

/// An operation row written directly.
struct Op {
    op_type: i64,
    patient: i32,
    team: (i64, Option<i64>, Option<i64>),
    room: i64,
    devices: Vec<i64>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: &'static str,
}

async fn insert_op(app: &TestApp, op: &Op) -> i64 {
    let id = entity::operation::ActiveModel {
        patient_id: Set(op.patient),
        primary_surgeon_id: Set(op.team.0),
        assistant_id: Set(op.team.1),
        anesthesist_id: Set(op.team.2),
        op_room_id: Set(op.room),
        op_type_id: Set(op.op_type),
        start_time: Set(op.start),
        end_time: Set(op.end),
        prep_duration: Set(0),
        op_duration: Set(0),
        post_duration: Set(0),
        status: Set(op.status.to_owned()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    for device in &op.devices {
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

async fn set_op_status(app: &TestApp, id: i64, status: &str) {
    let mut model = entity::operation::Entity::find_by_id(id)
        .one(app.store().conn())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    model.status = Set(status.to_owned());
    model.update(app.store().conn()).await.unwrap();
}

/// An appointment row written directly, with every column the KPIs read.
struct Appt {
    doctor: i64,
    patient: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: &'static str,
    no_show: bool,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    resources: Vec<i64>,
}

async fn insert_appt(app: &TestApp, a: &Appt) -> i32 {
    let id = entity::appointment::ActiveModel {
        patient_id: Set(a.patient),
        type_id: Set(None),
        doctor_id: Set(a.doctor),
        start_time: Set(a.start),
        end_time: Set(a.end),
        status: Set(a.status.to_owned()),
        is_no_show: Set(a.no_show),
        notes: Set(None),
        created_at: Set(a.created),
        updated_at: Set(a.updated),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    for resource in &a.resources {
        entity::appointment_resource::ActiveModel {
            appointment_id: Set(id),
            resource_id: Set(*resource),
            ..Default::default()
        }
        .insert(app.store().conn())
        .await
        .unwrap();
    }
    id
}

async fn flow(app: &TestApp, appointment: Option<i32>, operation: Option<i64>, status: &str) {
    entity::patient_flow::ActiveModel {
        appointment_id: Set(appointment),
        operation_id: Set(operation),
        status: Set(status.to_owned()),
        arrival_time: Set(None),
        status_changed_at: Set(Utc::now()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap();
}

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

async fn get_ok(client: &Client<'_>, path: &str) -> Value {
    let res = client.get(path).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text);
    res.body
}

fn ids(items: &Value, key: &str) -> Vec<i64> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("array expected: {items}"))
        .iter()
        .map(|item| item[key]["id"].as_i64().unwrap())
        .collect()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("object expected: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

// ---- op-stats fixture ---------------------------------------------------------------------

/// Two doctors, a treatment room, an OP room and a device; types of 50 (10 + 30 + 10) and
/// 70 (10 + 50 + 10) minutes. Dates are in January 2030 (CET, UTC+1).
struct Theatre {
    anna: UserRecord,
    bert: UserRecord,
    op_room: i64,
    device: i64,
    short: i64,
    long: i64,
}

impl Theatre {
    async fn new(app: &TestApp) -> Theatre {
        let anna = app.create_user("dr.anna", Some(Role::Doctor)).await;
        let bert = app.create_user("dr.bert", Some(Role::Doctor)).await;
        for id in 1..=3 {
            patient(app, id).await;
        }
        resource(app, "Behandlungsraum 1", "room").await;
        Theatre {
            op_room: resource(app, "OP-1", "room").await,
            device: resource(app, "EKG", "device").await,
            short: op_type(app, "Kleiner Eingriff", (10, 30, 10)).await,
            long: op_type(app, "Großer Eingriff", (10, 50, 10)).await,
            anna,
            bert,
        }
    }

    /// Monday 2030-01-14: a 50-minute op of Anna (09:00–09:50, with the device, Bert
    /// assisting) and a 70-minute op of Bert (11:00–12:10), both in the OP room.
    async fn monday(&self, app: &TestApp) -> (i64, i64) {
        let first = insert_op(
            app,
            &Op {
                op_type: self.short,
                patient: 1,
                team: (self.anna.id, Some(self.bert.id), None),
                room: self.op_room,
                devices: vec![self.device],
                start: berlin(2030, 1, 14, 9, 0),
                end: berlin(2030, 1, 14, 9, 50),
                status: "planned",
            },
        )
        .await;
        let second = insert_op(
            app,
            &Op {
                op_type: self.long,
                patient: 2,
                team: (self.bert.id, None, None),
                room: self.op_room,
                devices: Vec::new(),
                start: berlin(2030, 1, 14, 11, 0),
                end: berlin(2030, 1, 14, 12, 10),
                status: "planned",
            },
        )
        .await;
        (first, second)
    }
}

// ---- op-stats: numbers --------------------------------------------------------------------

#[tokio::test]
async fn vw_102_op_stats_match_the_hand_computed_numbers() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let (_, second) = theatre.monday(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let day = "?date=2030-01-14";

    // Two ops of 50 and 70 minutes: count 2, total 120, average 120 / 2 = 60.0.
    let overview = get_ok(&admin, &format!("/api/op-stats/overview/{day}")).await;
    assert_eq!(
        overview,
        json!({"range_from": "2030-01-14", "range_to": "2030-01-14", "op_count": 2,
               "total_op_minutes": 120, "average_op_duration": 60.0})
    );
    assert_eq!(
        serde_json::to_string(&overview).unwrap(),
        r#"{"range_from":"2030-01-14","range_to":"2030-01-14","op_count":2,"total_op_minutes":120,"average_op_duration":60.0}"#
    );

    // Rooms: one day = 480 minutes, 120 used, 120 / 480 = 0.25.
    let rooms = get_ok(&admin, &format!("/api/op-stats/rooms/{day}")).await;
    assert_eq!(keys(&rooms), ["range_from", "range_to", "rooms"]);
    let room = &rooms["rooms"][0];
    assert_eq!(
        keys(room),
        ["room", "total_minutes", "used_minutes", "utilization"]
    );
    assert_eq!(
        keys(&room["room"]),
        [
            "id",
            "name",
            "type",
            "color",
            "active",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(room["room"]["id"], theatre.op_room);
    assert_eq!(room["room"]["name"], "OP-1");
    assert_eq!(
        (
            &room["total_minutes"],
            &room["used_minutes"],
            &room["utilization"]
        ),
        (&json!(480), &json!(120), &json!(0.25))
    );
    assert_eq!(rooms["rooms"].as_array().unwrap().len(), 1);

    // Three days: 3 × 480 = 1440, 120 / 1440 = 0.08333….
    let three = get_ok(&admin, "/api/op-stats/rooms/?from=2030-01-14&to=2030-01-16").await;
    assert_eq!(three["range_to"], "2030-01-16");
    assert_eq!(three["rooms"][0]["total_minutes"], 1440);
    assert_eq!(three["rooms"][0]["utilization"], json!(0.08333333333333333));

    // Devices: the EKG is used by the 50-minute op only.
    let devices = get_ok(&admin, &format!("/api/op-stats/devices/{day}")).await;
    assert_eq!(keys(&devices["devices"][0]), ["device", "usage_minutes"]);
    assert_eq!(devices["devices"][0]["device"]["id"], theatre.device);
    assert_eq!(devices["devices"][0]["usage_minutes"], 50);

    // Surgeons by primary surgeon, by id: Anna 1 × 50, Bert 1 × 70 (assisting does not count).
    let surgeons = get_ok(&admin, &format!("/api/op-stats/surgeons/{day}")).await;
    assert_eq!(
        surgeons["surgeons"],
        json!([
            {"surgeon": {"id": theatre.anna.id, "name": "First dr.anna Last dr.anna",
                         "color": theatre.anna.calendar_color},
             "op_count": 1, "total_op_minutes": 50, "average_op_duration": 50.0},
            {"surgeon": {"id": theatre.bert.id, "name": "First dr.bert Last dr.bert",
                         "color": theatre.bert.calendar_color},
             "op_count": 1, "total_op_minutes": 70, "average_op_duration": 70.0},
        ])
    );

    // Types by id: 1 × 50 and 1 × 70.
    let types = get_ok(&admin, &format!("/api/op-stats/types/{day}")).await;
    assert_eq!(
        types["types"],
        json!([
            {"type": {"id": theatre.short, "name": "Kleiner Eingriff", "color": "#445566"},
             "count": 1, "avg_duration": 50.0, "min_duration": 50, "max_duration": 50},
            {"type": {"id": theatre.long, "name": "Großer Eingriff", "color": "#445566"},
             "count": 1, "avg_duration": 70.0, "min_duration": 70, "max_duration": 70},
        ])
    );

    // Cancelling one op changes nothing by default (W17, as the original) …
    set_op_status(&app, second, "cancelled").await;
    let after = get_ok(&admin, &format!("/api/op-stats/overview/{day}")).await;
    assert_eq!(
        (&after["op_count"], &after["total_op_minutes"]),
        (&json!(2), &json!(120))
    );
    // … and `include_cancelled=false` leaves the 50-minute op alone: 1 / 50 / 50.0.
    let without = get_ok(
        &admin,
        &format!("/api/op-stats/overview/{day}&include_cancelled=FALSE"),
    )
    .await;
    assert_eq!(
        (
            &without["op_count"],
            &without["total_op_minutes"],
            &without["average_op_duration"]
        ),
        (&json!(1), &json!(50), &json!(50.0))
    );
    let surgeons = get_ok(
        &admin,
        &format!("/api/op-stats/surgeons/{day}&include_cancelled=false"),
    )
    .await;
    assert_eq!(ids(&surgeons["surgeons"], "surgeon"), [theatre.anna.id]);

    // Every successful call wrote `op_stats_view` with `{scope, from, to}`.
    let audit = app
        .store()
        .audit_log(Some("op_stats_view"), 20)
        .await
        .unwrap();
    assert_eq!(audit.len(), 9);
    assert_eq!(
        audit.last().unwrap().meta,
        Some(json!({"scope": "overview", "from": "2030-01-14", "to": "2030-01-14"}))
    );
    assert_eq!(
        audit
            .iter()
            .find(|row| row.meta.as_ref().unwrap()["to"] == "2030-01-16")
            .unwrap()
            .meta,
        Some(json!({"scope": "rooms", "from": "2030-01-14", "to": "2030-01-16"}))
    );
    assert_eq!(audit[0].user_id, admin.user.as_ref().map(|u| u.id));
    app.stop().await;
}

#[tokio::test]
async fn op_stats_of_an_empty_range_are_zero() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    theatre.monday(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let day = "?date=2030-01-20";
    assert_eq!(
        get_ok(&admin, &format!("/api/op-stats/overview/{day}")).await,
        json!({"range_from": "2030-01-20", "range_to": "2030-01-20", "op_count": 0,
               "total_op_minutes": 0, "average_op_duration": 0.0})
    );
    for (scope, key) in [
        ("rooms", "rooms"),
        ("devices", "devices"),
        ("surgeons", "surgeons"),
        ("types", "types"),
    ] {
        let body = get_ok(&admin, &format!("/api/op-stats/{scope}/{day}")).await;
        assert_eq!(body[key], json!([]), "{scope}");
    }
    app.stop().await;
}

#[tokio::test]
async fn op_stats_count_whole_operations_unless_clip_is_asked_for() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    // 23:30 on Monday to 00:20 on Tuesday: 50 minutes, 30 of them on Monday.
    insert_op(
        &app,
        &Op {
            op_type: theatre.short,
            patient: 3,
            team: (theatre.anna.id, None, None),
            room: theatre.op_room,
            devices: vec![theatre.device],
            start: berlin(2030, 1, 14, 23, 30),
            end: berlin(2030, 1, 15, 0, 20),
            status: "planned",
        },
    )
    .await;
    let admin = app.as_role(Role::Admin).await;
    let minutes = |body: &Value| body["total_op_minutes"].as_i64().unwrap();
    let cases = [
        // (query, total minutes)
        ("date=2030-01-14", 50),
        ("date=2030-01-15", 50),
        ("date=2030-01-14&clip=true", 30),
        ("date=2030-01-15&clip=True", 20),
        ("from=2030-01-14&to=2030-01-15&clip=true", 50),
        ("date=2030-01-14&clip=false", 50),
    ];
    for (query, expected) in cases {
        let body = get_ok(&admin, &format!("/api/op-stats/overview/?{query}")).await;
        assert_eq!(minutes(&body), expected, "{query}");
    }
    // Clipping applies to every scope: rooms 30 of 480 = 0.0625, devices 30, types 30/30/30.
    let q = "?date=2030-01-14&clip=true";
    let rooms = get_ok(&admin, &format!("/api/op-stats/rooms/{q}")).await;
    assert_eq!(
        (
            &rooms["rooms"][0]["used_minutes"],
            &rooms["rooms"][0]["utilization"]
        ),
        (&json!(30), &json!(0.0625))
    );
    let devices = get_ok(&admin, &format!("/api/op-stats/devices/{q}")).await;
    assert_eq!(devices["devices"][0]["usage_minutes"], 30);
    let types = get_ok(&admin, &format!("/api/op-stats/types/{q}")).await;
    assert_eq!(
        (
            &types["types"][0]["avg_duration"],
            &types["types"][0]["min_duration"],
            &types["types"][0]["max_duration"]
        ),
        (&json!(30.0), &json!(30), &json!(30))
    );
    app.stop().await;
}

// ---- op-stats: parameters and permissions -------------------------------------------------

#[tokio::test]
async fn vw_103_op_stats_reject_bad_ranges_and_scope_doctors() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    theatre.monday(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let provide = "Provide either ?date=YYYY-MM-DD or ?from=YYYY-MM-DD&to=YYYY-MM-DD.";
    let format = "Dates must be in format YYYY-MM-DD.";
    let cases = [
        ("", provide),
        ("?from=2030-01-14", provide),
        ("?to=2030-01-14", provide),
        ("?date=", provide),
        ("?from=2030-01-15&to=2030-01-14", "from must be <= to."),
        ("?date=14.01.2030", format),
        ("?from=2030-01-14&to=2030-02-30", format),
        (
            "?date=2030-01-14&include_cancelled=no",
            "include_cancelled must be true or false.",
        ),
        ("?date=2030-01-14&clip=1", "clip must be true or false."),
    ];
    for scope in SCOPES {
        for (query, detail) in cases {
            let res = admin.get(&format!("/api/op-stats/{scope}/{query}")).await;
            assert_eq!(res.status, 400, "{scope}{query}: {}", res.text);
            assert_eq!(res.body, json!({"detail": detail}), "{scope}{query}");
        }
    }
    // Rejected requests are not audited.
    assert!(
        app.store()
            .audit_log(Some("op_stats_view"), 5)
            .await
            .unwrap()
            .is_empty()
    );

    // A doctor: `rooms`, `devices`, `types` → 403 (before the parameters are looked at);
    // `overview` → the ops they are in the team of: Anna leads op 1, Bert leads op 2 and
    // assists op 1.
    let anna = app.as_user(&theatre.anna);
    let bert = app.as_user(&theatre.bert);
    for scope in ["rooms", "devices", "types"] {
        let res = anna
            .get(&format!("/api/op-stats/{scope}/?date=2030-01-14"))
            .await;
        assert_eq!(res.status, 403, "{scope}");
        let res = anna.get(&format!("/api/op-stats/{scope}/")).await;
        assert_eq!(res.status, 403, "{scope} without parameters");
    }
    // Anna's team ops: op 1 (50) → 1 / 50. Bert: ops 1 and 2 → 2 / 120.
    let own = get_ok(&anna, "/api/op-stats/overview/?date=2030-01-14").await;
    assert_eq!(
        (&own["op_count"], &own["total_op_minutes"]),
        (&json!(1), &json!(50))
    );
    let own = get_ok(&bert, "/api/op-stats/overview/?date=2030-01-14").await;
    assert_eq!(
        (&own["op_count"], &own["total_op_minutes"]),
        (&json!(2), &json!(120))
    );
    // Surgeons: only ops where the doctor is the primary surgeon; Bert's assisting in op 1
    // does not bring Anna's row in.
    let mine = get_ok(&bert, "/api/op-stats/surgeons/?date=2030-01-14").await;
    assert_eq!(ids(&mine["surgeons"], "surgeon"), [theatre.bert.id]);
    assert_eq!(mine["surgeons"][0]["total_op_minutes"], 70);
    let mine = get_ok(&anna, "/api/op-stats/surgeons/?date=2030-01-14").await;
    assert_eq!(ids(&mine["surgeons"], "surgeon"), [theatre.anna.id]);
    app.stop().await;
}

#[tokio::test]
async fn vw_104_op_stats_ranges_are_bounded_to_366_days() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .get("/api/op-stats/overview/?from=2000-01-01&to=2100-12-31")
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"detail": "The range must not exceed 366 days."})
    );
    // A leap year (366 days) is fine; one more day is not.
    let body = get_ok(&admin, "/api/op-stats/rooms/?from=2028-01-01&to=2028-12-31").await;
    assert_eq!(body["rooms"], json!([]));
    let res = admin
        .get("/api/op-stats/rooms/?from=2028-01-01&to=2029-01-01")
        .await;
    assert_eq!(res.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn op_stats_answer_every_role_with_the_exact_status() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let clients = [&admin, &assistant, &doctor, &billing, &nobody, &anonymous];
    for scope in SCOPES {
        let path = format!("/api/op-stats/{scope}/?date=2030-01-14");
        let doctor_status = if matches!(scope, "overview" | "surgeons") {
            200
        } else {
            403
        };
        let expected = [200, 200, doctor_status, 200, 403, 401];
        for (client, status) in clients.iter().zip(expected) {
            let res = client.get(&path).await;
            assert_eq!(res.status, status, "GET {path}: {}", res.text);
        }
        // Writes: 403 for every role (admin included), 401 without credentials.
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            for (client, status) in clients.iter().zip([403, 403, 403, 403, 403, 401]) {
                let res = client.send(method.clone(), &path, Some(&json!({}))).await;
                assert_eq!(res.status, status, "{method} {path}: {}", res.text);
            }
        }
    }
    let res = admin.post("/api/op-stats/overview/", &json!({})).await;
    assert_eq!(
        res.body,
        json!({"detail": "You do not have permission to perform this action."})
    );
    app.stop().await;
}

// ---- KPI fixture --------------------------------------------------------------------------

/// A small practice in January 2025 (in the past, so every request with `date=` is
/// reproducible; CET = UTC+1).
///
/// * Practice hours Mon–Fri 08:00–16:00; Anna Mon–Fri 08:00–12:00, Bert Mon–Fri 08:00–16:00.
/// * Anna is absent on Friday 2025-01-17; a practice-wide break Monday 2025-01-13
///   12:00–12:30.
/// * Rooms R ("Behandlungsraum 1"), O ("OP-1"), device V ("EKG"); patients 1–5.
///
/// Appointments (local times):
///
/// | # | doctor | patient | start | end | status | no-show flag | created | updated | resources |
/// |---|---|---|---|---|---|---|---|---|---|
/// | 1 | Anna | 1 | Mon 13.01. 09:00 | 09:30 | completed | – | 06.01. 10:00 | 13.01. 10:00 | R |
/// | 2 | Anna | 2 | Mon 13.01. 09:30 | 10:30 | scheduled | – | 13.01. 08:00 | 13.01. 08:00 | R |
/// | 3 | Bert | 3 | Tue 14.01. 10:00 | 11:00 | confirmed | yes | 10.01. 12:00 | 14.01. 12:00 | – |
/// | 4 | Bert | 1 | Wed 15.01. 14:00 | 14:30 | cancelled | – | 01.01. 09:00 | 15.01. 08:00 | R |
/// | 5 | Bert | 4 | Thu 16.01. 09:00 | 09:45 | scheduled | – | 15.01. 09:00 | 15.01. 09:00 | R |
/// | 6 | Anna | 3 | Mon 13.01. 12:30 | 13:00 | completed | – | 02.01. 09:00 | 13.01. 13:00 | – |
/// | 7 | Anna | 2 | Tue 07.01. 08:00 | 09:00 | completed | – | 20.12. 09:00 | 07.01. 09:00 | R |
/// | 8 | Bert | 5 | Wed 08.01. 10:00 | 10:30 | cancelled | – | 27.12. 09:00 | 02.01. 09:00 | – |
/// | 9 | Bert | 1 | Fri 20.12. 10:00 | 10:30 | completed | – | 18.12. 10:00 | 20.12. 11:00 | – |
/// | 10 | Anna | 2 | Tue 10.12. 09:00 | 09:30 | completed | – | 01.12. 09:00 | 10.12. 10:00 | – |
/// | 11 | Bert | 3 | Wed 11.12. 09:00 | 09:30 | scheduled | – | 01.12. 10:00 | 01.12. 10:00 | – |
///
/// Operations: op A Thu 16.01. 10:00–10:50 `done`, Bert leading, Anna assisting, room O,
/// device V; op B Tue 14.01. 13:00–13:50 `cancelled`, Bert, room O.
/// Patient flows: #5 `waiting`, op A `done`, #1 `done`.
struct Clinic {
    anna: UserRecord,
    bert: UserRecord,
    room: i64,
    op_room: i64,
    device: i64,
}

impl Clinic {
    async fn new(app: &TestApp) -> Clinic {
        let anna = app.create_user("dr.anna", Some(Role::Doctor)).await;
        let bert = app.create_user("dr.bert", Some(Role::Doctor)).await;
        for weekday in 0..5 {
            practice_hours(app, weekday, time(8, 0), time(16, 0)).await;
            doctor_hours(app, anna.id, weekday, time(8, 0), time(12, 0)).await;
            doctor_hours(app, bert.id, weekday, time(8, 0), time(16, 0)).await;
        }
        absence(app, anna.id, date(2025, 1, 17), date(2025, 1, 17)).await;
        practice_break(app, None, date(2025, 1, 13), time(12, 0), time(12, 30)).await;
        for id in 1..=5 {
            patient(app, id).await;
        }
        let clinic = Clinic {
            room: resource(app, "Behandlungsraum 1", "room").await,
            op_room: resource(app, "OP-1", "room").await,
            device: resource(app, "EKG", "device").await,
            anna,
            bert,
        };
        clinic.book(app).await;
        clinic
    }

    async fn book(&self, app: &TestApp) {
        let (a, b, r) = (self.anna.id, self.bert.id, self.room);
        let t = |m: u32, d: u32, h: u32, min: u32| {
            let year = if m == 12 { 2024 } else { 2025 };
            berlin(year, m, d, h, min)
        };
        #[rustfmt::skip]
        let rows = [
            (a, 1, t(1, 13, 9, 0), t(1, 13, 9, 30), "completed", false, t(1, 6, 10, 0), t(1, 13, 10, 0), vec![r]),
            (a, 2, t(1, 13, 9, 30), t(1, 13, 10, 30), "scheduled", false, t(1, 13, 8, 0), t(1, 13, 8, 0), vec![r]),
            (b, 3, t(1, 14, 10, 0), t(1, 14, 11, 0), "confirmed", true, t(1, 10, 12, 0), t(1, 14, 12, 0), vec![]),
            (b, 1, t(1, 15, 14, 0), t(1, 15, 14, 30), "cancelled", false, t(1, 1, 9, 0), t(1, 15, 8, 0), vec![r]),
            (b, 4, t(1, 16, 9, 0), t(1, 16, 9, 45), "scheduled", false, t(1, 15, 9, 0), t(1, 15, 9, 0), vec![r]),
            (a, 3, t(1, 13, 12, 30), t(1, 13, 13, 0), "completed", false, t(1, 2, 9, 0), t(1, 13, 13, 0), vec![]),
            (a, 2, t(1, 7, 8, 0), t(1, 7, 9, 0), "completed", false, t(12, 20, 9, 0), t(1, 7, 9, 0), vec![r]),
            (b, 5, t(1, 8, 10, 0), t(1, 8, 10, 30), "cancelled", false, t(12, 27, 9, 0), t(1, 2, 9, 0), vec![]),
            (b, 1, t(12, 20, 10, 0), t(12, 20, 10, 30), "completed", false, t(12, 18, 10, 0), t(12, 20, 11, 0), vec![]),
            (a, 2, t(12, 10, 9, 0), t(12, 10, 9, 30), "completed", false, t(12, 1, 9, 0), t(12, 10, 10, 0), vec![]),
            (b, 3, t(12, 11, 9, 0), t(12, 11, 9, 30), "scheduled", false, t(12, 1, 10, 0), t(12, 1, 10, 0), vec![]),
        ];
        let mut ids = Vec::new();
        for (doctor, patient, start, end, status, no_show, created, updated, resources) in rows {
            let appt = Appt {
                doctor,
                patient,
                start,
                end,
                status,
                no_show,
                created,
                updated,
                resources,
            };
            ids.push(insert_appt(app, &appt).await);
        }
        let op_type = op_type(app, "Eingriff", (10, 30, 10)).await;
        let op_a = insert_op(
            app,
            &Op {
                op_type,
                patient: 2,
                team: (b, Some(a), None),
                room: self.op_room,
                devices: vec![self.device],
                start: t(1, 16, 10, 0),
                end: t(1, 16, 10, 50),
                status: "done",
            },
        )
        .await;
        insert_op(
            app,
            &Op {
                op_type,
                patient: 4,
                team: (b, None, None),
                room: self.op_room,
                devices: Vec::new(),
                start: t(1, 14, 13, 0),
                end: t(1, 14, 13, 50),
                status: "cancelled",
            },
        )
        .await;
        flow(app, Some(ids[4]), None, "waiting").await;
        flow(app, None, Some(op_a), "done").await;
        flow(app, Some(ids[0]), None, "done").await;
    }
}

/// `{from, to}` of a window of local dates `[first 00:00, last+1 00:00)` in Berlin.
fn window(first: (i32, u32, u32), last_excl: (i32, u32, u32)) -> (String, String) {
    let render = |(y, m, d): (i32, u32, u32)| {
        BERLIN
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .earliest()
            .unwrap()
            .to_rfc3339()
    };
    (render(first), render(last_excl))
}

fn assert_window(block: &Value, first: (i32, u32, u32), last_excl: (i32, u32, u32)) {
    let (from, to) = window(first, last_excl);
    assert_eq!(
        (block["from"].as_str(), block["to"].as_str()),
        (Some(from.as_str()), Some(to.as_str())),
        "{block}"
    );
}

// ---- KPIs: scheduling ---------------------------------------------------------------------

#[tokio::test]
async fn scheduling_kpis_match_the_hand_computed_numbers() {
    let app = TestApp::spawn().await;
    let clinic = Clinic::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    // D = Wednesday 2025-01-15, in the past: as_of = 2025-01-16 00:00 (end of D).
    // Windows: week 13.–19.01., previous week 06.–12.01., last 30 days 17.12.–15.01.,
    // the 30 days before 17.11.–16.12.
    let body = get_ok(&admin, "/api/kpis/scheduling/?date=2025-01-15").await;
    assert_eq!(body["date"], "2025-01-15");
    assert_eq!(body["as_of"], "2025-01-16T00:00:00+01:00");

    // Slot utilisation (week 13.–19.01.):
    //   capacity Anna 4 h × 5 days = 1200 − Friday (absent) 240 = 960 min (the Monday break
    //   12:00–12:30 lies outside her hours); Bert 8 h × 5 = 2400 − break 30 = 2370; Σ 3330.
    //   booked Anna: #1 ∪ #2 = 09:00–10:30 = 90, #6 lies outside her hours, op A (assisting)
    //   50 → 140; Bert: #3 60 + #5 45 + op A 50 = 155 (#4 and op B cancelled); Σ 295.
    //   295 / 3330 = 8.858… → 8.9 %. Previous week: capacity 1200 + 2400 = 3600, booked #7 60,
    //   60 / 3600 = 1.666… → 1.7 %; trend 8.9 − 1.7 = 7.2 points.
    let slot = &body["slot_utilization"];
    assert_window(slot, (2025, 1, 13), (2025, 1, 20));
    assert_eq!(
        (
            &slot["capacity_minutes"],
            &slot["booked_minutes"],
            &slot["utilization"],
            &slot["previous_utilization"],
            &slot["trend"]
        ),
        (
            &json!(3330),
            &json!(295),
            &json!(8.9),
            &json!(1.7),
            &json!(7.2)
        )
    );

    // No-shows (start 17.12.–15.01., over by as_of, not cancelled): #1 #2 #3 #6 #7 #9 = 6;
    // flagged #3, still scheduled #2 → 2 / 6 = 33.3 %. The 30 days before: #10 completed,
    // #11 still scheduled → 1 / 2 = 50.0 %; trend 33.3 − 50.0 = −16.7 points.
    let no_show = &body["no_show_rate"];
    assert_window(no_show, (2024, 12, 17), (2025, 1, 16));
    assert_eq!(
        no_show,
        &json!({"from": no_show["from"], "to": no_show["to"], "appointments": 6, "no_shows": 2,
                "flagged": 1, "unflagged": 1, "rate": 33.3, "previous_rate": 50.0,
                "trend": -16.7})
    );

    // Completion over the same 6: #1 #6 #7 #9 completed → 4 / 6 = 66.7 %.
    let completion = &body["completion_rate"];
    assert_eq!(
        (
            &completion["appointments"],
            &completion["completed"],
            &completion["rate"]
        ),
        (&json!(6), &json!(4), &json!(66.7))
    );

    // Cancellations (start 17.12.–15.01., every status): #1 #2 #3 #4 #6 #7 #8 #9 = 8;
    // cancelled #4 and #8 → 2 / 8 = 25.0 %. #4 was last changed 6 h before its start (late),
    // #8 six days before (early).
    let cancel = &body["cancellation_rate"];
    assert_eq!(
        (
            &cancel["appointments"],
            &cancel["cancelled"],
            &cancel["late"],
            &cancel["early"],
            &cancel["rate"]
        ),
        (&json!(8), &json!(2), &json!(1), &json!(1), &json!(25.0))
    );

    // Lead time (created 17.12.–15.01., not cancelled): #1 167 h (7 days), #2 1.5 h (same
    // day), #3 94 h (4 days), #5 24 h (next day), #6 267.5 h (11 days), #7 431 h (18 days),
    // #9 48 h (2 days). Σ 1033 h / 7 = 147.57… → 147.6; min 1.5, max 431.0; same day 1 / 7 =
    // 14.3 %.
    let lead = &body["lead_time"];
    assert_eq!(
        lead,
        &json!({"from": lead["from"], "to": lead["to"], "appointments": 7,
                "average_hours": 147.6, "min_hours": 1.5, "max_hours": 431.0,
                "same_day_rate": 14.3,
                "buckets": {"same_day": 1, "next_day": 1, "2_7_days": 3, "8_30_days": 2,
                            "over_30_days": 0}})
    );

    // Average duration (start in the 30 days, not cancelled): #1 30, #2 60, #3 60, #6 30,
    // #7 60, #9 30 = 270 / 6 = 45.0 minutes.
    let duration = &body["average_duration"];
    assert_eq!(
        (&duration["appointments"], &duration["average_minutes"]),
        (&json!(6), &json!(45.0))
    );

    // Rebooking: cancelled #4 (patient 1, booked 01.01.) and #8 (patient 5). Patient 1 has
    // #1, booked 06.01. → rebooked; patient 5 has nothing else → 1 / 2 = 50.0 %.
    let rebooking = &body["rebooking_rate"];
    assert_eq!(
        (
            &rebooking["cancelled"],
            &rebooking["rebooked"],
            &rebooking["rate"]
        ),
        (&json!(2), &json!(1), &json!(50.0))
    );

    // New patients: patients 1, 2, 3 have kept appointments in the window; first-ever kept
    // appointments: patient 1 #9 (20.12., inside) → new; 2 #10 and 3 #11 (December 10/11,
    // before) → 1 / 3 = 33.3 %.
    let new = &body["new_patients"];
    assert_eq!(
        (&new["patients"], &new["new"], &new["rate"]),
        (&json!(3), &json!(1), &json!(33.3))
    );

    // Peak load (start in the window, not cancelled): Mon 09 h #1 #2, Mon 12 h #6, Tue 10 h
    // #3, Tue 08 h #7, Fri 10 h #9. Peak Monday 09:00 (2); by hour 08:1 09:2 10:2 12:1 → 9;
    // by weekday Mon 3, Tue 2, Fri 1 → Monday.
    let peak = &body["peak_load"];
    assert_eq!(peak["matrix"][0][9], 2);
    assert_eq!(peak["matrix"][0][12], 1);
    assert_eq!(peak["matrix"][1][10], 1);
    assert_eq!(peak["matrix"][1][8], 1);
    assert_eq!(peak["matrix"][4][10], 1);
    assert_eq!(peak["by_weekday"], json!([3, 2, 0, 0, 1, 0, 0]));
    assert_eq!(peak["by_hour"][9], 2);
    assert_eq!(peak["by_hour"][10], 2);
    assert_eq!(peak["peak"], json!({"weekday": 0, "hour": 9, "count": 2}));
    assert_eq!(peak["peak_hour"], json!({"hour": 9, "count": 2}));
    assert_eq!(peak["peak_weekday"], json!({"weekday": 0, "count": 3}));

    // Doctors (week): Anna 140 / 960 = 14.58… → 14.6 %, Bert 155 / 2370 = 6.54… → 6.5 %.
    let doctors = &body["doctor_utilization"]["doctors"];
    assert_eq!(
        doctors,
        &json!([
            {"doctor": {"id": clinic.anna.id, "name": "First dr.anna Last dr.anna",
                        "color": clinic.anna.calendar_color},
             "capacity_minutes": 960, "booked_minutes": 140, "utilization": 14.6},
            {"doctor": {"id": clinic.bert.id, "name": "First dr.bert Last dr.bert",
                        "color": clinic.bert.calendar_color},
             "capacity_minutes": 2370, "booked_minutes": 155, "utilization": 6.5},
        ])
    );

    // Rooms (week): open 8 h × 5 = 2400 − practice-wide break 30 = 2370 min. R: #1 30 + #2 60
    // + #5 45 = 135 → 5.69… → 5.7 %; O: op A 50 (op B cancelled) → 2.10… → 2.1 %.
    let rooms = &body["room_utilization"]["rooms"];
    assert_eq!(ids(rooms, "room"), [clinic.room, clinic.op_room]);
    assert_eq!(
        keys(&rooms[0]),
        ["room", "capacity_minutes", "booked_minutes", "utilization"]
    );
    assert_eq!(
        (
            &rooms[0]["capacity_minutes"],
            &rooms[0]["booked_minutes"],
            &rooms[0]["utilization"]
        ),
        (&json!(2370), &json!(135), &json!(5.7))
    );
    assert_eq!(
        (&rooms[1]["booked_minutes"], &rooms[1]["utilization"]),
        (&json!(50), &json!(2.1))
    );

    // Trends: 12 weeks, the oldest starting Monday 28.10.2024, the newest 13.01.2025.
    let trends = body["trends"].as_array().unwrap();
    assert_eq!(trends.len(), 12);
    assert_eq!(trends[0]["week_start"], "2024-10-28");
    assert_eq!(trends[11]["week_start"], "2025-01-13");
    assert_window(&trends[11], (2025, 1, 13), (2025, 1, 20));
    // 13.01.: #1–#6 start (6), #4 cancelled → 16.7 %; over and kept: #1 #2 #3 #6 → completed
    // #1 #6 = 50.0 %, no-shows #2 #3 = 50.0 %.
    assert_eq!(
        trends[11],
        json!({"from": trends[11]["from"], "to": trends[11]["to"], "week_start": "2025-01-13",
               "appointments": 6, "cancelled": 1, "past_appointments": 4, "completed": 2,
               "no_shows": 2, "cancellation_rate": 16.7, "completion_rate": 50.0,
               "no_show_rate": 50.0})
    );
    // 06.01.: #7 completed, #8 cancelled → 50.0 % cancelled, 100.0 % completed, 0.0 % no-show.
    assert_eq!(
        (
            &trends[10]["cancellation_rate"],
            &trends[10]["completion_rate"],
            &trends[10]["no_show_rate"]
        ),
        (&json!(50.0), &json!(100.0), &json!(0.0))
    );
    // 09.12.: #10 completed, #11 still scheduled → 0.0 / 50.0 / 50.0. An empty week: nulls.
    assert_eq!(trends[6]["week_start"], "2024-12-09");
    assert_eq!(
        (
            &trends[6]["cancellation_rate"],
            &trends[6]["completion_rate"],
            &trends[6]["no_show_rate"]
        ),
        (&json!(0.0), &json!(50.0), &json!(50.0))
    );
    assert_eq!(
        (&trends[0]["appointments"], &trends[0]["completion_rate"]),
        (&json!(0), &Value::Null)
    );

    // Volume: today (15.01.) only the cancelled #4 → 0; week #1 #2 #3 #5 #6 → 5; January
    // #1 #2 #3 #5 #6 #7 → 6.
    assert_eq!(body["volume"], json!({"today": 0, "week": 5, "month": 6}));
    // Status counts (start in the 30 days): scheduled #2, confirmed #3, cancelled #4 #8,
    // completed #1 #6 #7 #9.
    let statuses = &body["status_counts"];
    assert_eq!(
        (
            &statuses["scheduled"],
            &statuses["confirmed"],
            &statuses["cancelled"],
            &statuses["completed"]
        ),
        (&json!(1), &json!(1), &json!(2), &json!(4))
    );
    assert_eq!(
        keys(&body),
        [
            "date",
            "as_of",
            "slot_utilization",
            "no_show_rate",
            "completion_rate",
            "cancellation_rate",
            "lead_time",
            "average_duration",
            "rebooking_rate",
            "new_patients",
            "peak_load",
            "doctor_utilization",
            "room_utilization",
            "trends",
            "volume",
            "status_counts",
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_doctor_sees_kpis_of_their_own_appointments_and_operations_only() {
    let app = TestApp::spawn().await;
    let clinic = Clinic::new(&app).await;
    let anna = app.as_user(&clinic.anna);
    let body = get_ok(&anna, "/api/kpis/scheduling/?date=2025-01-15").await;
    // Anna's rows: #1 #2 #6 #7 #10 and op A. Slot utilisation = her own 140 / 960 = 14.6 %.
    assert_eq!(
        (
            &body["slot_utilization"]["capacity_minutes"],
            &body["slot_utilization"]["utilization"]
        ),
        (&json!(960), &json!(14.6))
    );
    assert_eq!(
        ids(&body["doctor_utilization"]["doctors"], "doctor"),
        [clinic.anna.id]
    );
    // No-shows: #1 #2 #6 #7 are over → #2 → 1 / 4 = 25.0 %.
    assert_eq!(
        (
            &body["no_show_rate"]["appointments"],
            &body["no_show_rate"]["rate"]
        ),
        (&json!(4), &json!(25.0))
    );
    // Nothing of Anna's was cancelled: 0 / 4, no rebooking rate.
    assert_eq!(body["cancellation_rate"]["rate"], 0.0);
    assert_eq!(body["rebooking_rate"]["rate"], Value::Null);
    // Rooms from her bookings only: R #1 + #2 = 90 / 2370 = 3.79… → 3.8 %; O op A 50 → 2.1 %.
    let rooms = &body["room_utilization"]["rooms"];
    assert_eq!(
        (&rooms[0]["booked_minutes"], &rooms[0]["utilization"]),
        (&json!(90), &json!(3.8))
    );

    let ops = get_ok(&anna, "/api/kpis/operations/?date=2025-01-16&days=4").await;
    // Her capacity Mon–Thu 4 × 240 = 960, booked 140 → 14.6 %; flows of the 16th: op A
    // (done, she assists); #5 is Bert's.
    assert_eq!(
        (
            &ops["utilization"]["capacity_minutes"],
            &ops["utilization"]["utilization"]
        ),
        (&json!(960), &json!(14.6))
    );
    assert_eq!(
        ops["patient_flow"]["statuses"],
        json!({"registered": 0, "waiting": 0, "preparing": 0, "in_treatment": 0,
               "post_treatment": 0, "done": 1})
    );
    app.stop().await;
}

#[tokio::test]
async fn vw_109_kpi_today_is_the_practice_zone_date() {
    let app = TestApp::spawn().await;
    let anna = app.create_user("dr.anna", Some(Role::Doctor)).await;
    patient(&app, 1).await;
    let booked = Utc::now() - chrono::Duration::days(30);
    // One appointment on Monday 2030-01-14 (the UTC date of "now") and one on Tuesday the 15th.
    for (start, patient_id) in [
        (berlin(2030, 1, 14, 10, 0), 1),
        (berlin(2030, 1, 15, 8, 0), 1),
    ] {
        insert_appt(
            &app,
            &Appt {
                doctor: anna.id,
                patient: patient_id,
                start,
                end: start + chrono::Duration::minutes(30),
                status: "scheduled",
                no_show: false,
                created: booked,
                updated: booked,
                resources: Vec::new(),
            },
        )
        .await;
    }
    // Now = 2030-01-14 23:30 UTC = 00:30 on the 15th in Berlin.
    let target = Utc.with_ymd_and_hms(2030, 1, 14, 23, 30, 0).unwrap();
    app.state.clock.advance(target - Utc::now());
    let admin = app.as_role(Role::Admin).await;
    let body = get_ok(&admin, "/api/kpis/scheduling/").await;
    assert_eq!(body["date"], "2030-01-15");
    assert_eq!(body["volume"]["today"], 1);
    let ops = get_ok(&admin, "/api/kpis/operations/?days=1").await;
    assert_eq!(ops["date"], "2030-01-15");
    assert_window(&ops, (2030, 1, 15), (2030, 1, 16));
    app.stop().await;
}

#[tokio::test]
async fn vw_108_no_show_rate_of_ten_past_appointments() {
    let app = TestApp::spawn().await;
    let anna = app.create_user("dr.anna", Some(Role::Doctor)).await;
    for id in 1..=10 {
        patient(&app, id).await;
    }
    // Ten past appointments on Monday 2025-01-13, 08:00, 08:30, …: two flagged, one still
    // scheduled, seven completed → (2 + 1) / 10 = 30.0 %.
    for idx in 0..10u32 {
        let start = berlin(2025, 1, 13, 8 + idx / 2, 30 * (idx % 2));
        let (status, flagged) = match idx {
            0 | 1 => ("confirmed", true),
            2 => ("scheduled", false),
            _ => ("completed", false),
        };
        insert_appt(
            &app,
            &Appt {
                doctor: anna.id,
                patient: i32::try_from(idx).unwrap() + 1,
                start,
                end: start + chrono::Duration::minutes(30),
                status,
                no_show: flagged,
                created: start - chrono::Duration::days(3),
                updated: start,
                resources: Vec::new(),
            },
        )
        .await;
    }
    let admin = app.as_role(Role::Admin).await;
    let body = get_ok(&admin, "/api/kpis/scheduling/?date=2025-01-14").await;
    assert_eq!(
        (
            &body["no_show_rate"]["appointments"],
            &body["no_show_rate"]["no_shows"],
            &body["no_show_rate"]["rate"]
        ),
        (&json!(10), &json!(3), &json!(30.0))
    );
    app.stop().await;
}

// ---- KPIs: operations ---------------------------------------------------------------------

#[tokio::test]
async fn operations_kpis_match_the_hand_computed_numbers() {
    let app = TestApp::spawn().await;
    let clinic = Clinic::new(&app).await;
    let billing = app.as_role(Role::Billing).await;
    // D = Thursday 2025-01-16, days = 4: Monday 13.01. 00:00 … Friday 17.01. 00:00.
    let body = get_ok(&billing, "/api/kpis/operations/?date=2025-01-16&days=4").await;
    assert_window(&body, (2025, 1, 13), (2025, 1, 17));
    assert_eq!(
        (&body["date"], &body["days"]),
        (&json!("2025-01-16"), &json!(4))
    );

    // Utilisation: capacity Anna 4 × 240 = 960, Bert 4 × 480 − 30 = 1890, Σ 2850; booked Anna
    // 140, Bert 155 (as in the scheduling test), Σ 295 → 10.35… → 10.4 %.
    assert_eq!(
        body["utilization"],
        json!({"capacity_minutes": 2850, "booked_minutes": 295, "utilization": 10.4})
    );

    // Throughput: completed #1 and #6 on Monday, op A done on Thursday.
    assert_eq!(
        body["throughput"],
        json!({"appointments_completed": 2, "operations_done": 1, "days": [
            {"date": "2025-01-13", "appointments_completed": 2, "operations_done": 0, "total": 2},
            {"date": "2025-01-14", "appointments_completed": 0, "operations_done": 0, "total": 0},
            {"date": "2025-01-15", "appointments_completed": 0, "operations_done": 0, "total": 0},
            {"date": "2025-01-16", "appointments_completed": 0, "operations_done": 1, "total": 1},
        ]})
    );

    // Resources: open 4 × 480 − 30 = 1890 min. R: #1 30 + #2 60 + #5 45 = 135 → 7.14… →
    // 7.1 %; O: op A 50 → 2.64… → 2.6 %; V: op A 50 → 2.6 % (tie: by id, O first).
    let resources = &body["resources"];
    assert_eq!(
        ids(resources, "resource"),
        [clinic.room, clinic.op_room, clinic.device]
    );
    let figures: Vec<(i64, i64, f64)> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["capacity_minutes"].as_i64().unwrap(),
                r["booked_minutes"].as_i64().unwrap(),
                r["utilization"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [(1890, 135, 7.1), (1890, 50, 2.6), (1890, 50, 2.6)]
    );

    // Status distribution (start 13.–16.01.): appointments #1 #6 completed, #2 #5 scheduled,
    // #3 confirmed, #4 cancelled; operations: A done, B cancelled.
    assert_eq!(
        body["status_distribution"],
        json!({
            "appointments": {"scheduled": 2, "confirmed": 1, "cancelled": 1, "completed": 2},
            "operations": {"planned": 0, "confirmed": 0, "running": 0, "done": 1, "cancelled": 1},
        })
    );
    // Operations kept: A (50 min) → 1, 50.0.
    assert_eq!(
        body["operations"],
        json!({"count": 1, "average_minutes": 50.0})
    );
    // Flows of the 16th: #5 waiting, op A done (#1's flow is Monday's).
    assert_eq!(
        body["patient_flow"],
        json!({"date": "2025-01-16", "statuses": {"registered": 0, "waiting": 1,
               "preparing": 0, "in_treatment": 0, "post_treatment": 0, "done": 1}})
    );
    // The default period is 30 days.
    let default = get_ok(&billing, "/api/kpis/operations/?date=2025-01-16").await;
    assert_eq!(default["days"], 30);
    assert_window(&default, (2024, 12, 18), (2025, 1, 17));
    app.stop().await;
}

// ---- KPIs: parameters and permissions -----------------------------------------------------

#[tokio::test]
async fn kpi_parameters_are_validated_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let format = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
    let cases = [
        (
            "/api/kpis/scheduling/?date=15.01.2025",
            json!({"date": [format]}),
        ),
        (
            "/api/kpis/operations/?date=2025-02-30",
            json!({"date": [format]}),
        ),
        (
            "/api/kpis/operations/?days=abc",
            json!({"days": ["A valid integer is required."]}),
        ),
        (
            "/api/kpis/operations/?days=0",
            json!({"days": ["Ensure this value is between 1 and 366."]}),
        ),
        (
            "/api/kpis/operations/?days=367",
            json!({"days": ["Ensure this value is between 1 and 366."]}),
        ),
        (
            "/api/kpis/operations/?days=-3",
            json!({"days": ["Ensure this value is between 1 and 366."]}),
        ),
    ];
    for (path, body) in cases {
        let res = admin.get(path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text);
        assert_eq!(res.body, body, "{path}");
    }
    let body = get_ok(&admin, "/api/kpis/operations/?days=366&date=2025-01-16").await;
    assert_eq!(body["throughput"]["days"].as_array().unwrap().len(), 366);
    // Without any data every rate is absent rather than zero.
    let empty = get_ok(&admin, "/api/kpis/scheduling/?date=2025-01-15").await;
    assert_eq!(empty["no_show_rate"]["rate"], Value::Null);
    assert_eq!(empty["slot_utilization"]["utilization"], Value::Null);
    assert_eq!(empty["peak_load"]["peak"], Value::Null);
    assert_eq!(empty["lead_time"]["average_hours"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn kpis_answer_every_role_with_the_exact_status() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let clients = [&admin, &assistant, &doctor, &billing, &nobody, &anonymous];
    for path in ["/api/kpis/scheduling/", "/api/kpis/operations/"] {
        for (client, status) in clients.iter().zip([200, 200, 200, 200, 403, 401]) {
            let res = client.get(path).await;
            assert_eq!(res.status, status, "GET {path}: {}", res.text);
        }
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            for (client, status) in clients.iter().zip([403, 403, 403, 403, 403, 401]) {
                let res = client.send(method.clone(), path, Some(&json!({}))).await;
                assert_eq!(res.status, status, "{method} {path}: {}", res.text);
            }
        }
    }
    app.stop().await;
}

// ---- statement counts ---------------------------------------------------------------------

#[tokio::test]
async fn statement_counts_do_not_grow_with_data() {
    let app = TestApp::spawn().await;
    let clinic = Clinic::new(&app).await;
    let (conn, count) = counting_connection(&app);
    let now = berlin(2025, 1, 20, 12, 0);
    let clock = KpiClock::new(BERLIN, now, Some(date(2025, 1, 15))).unwrap();
    let needs = clock.scheduling_needs();
    let window = clock.last_days(30).unwrap();
    let today = clock.today;
    let anna = clinic.anna.id;

    let measure = || {
        let conn = conn.clone();
        let count = count.clone();
        async move {
            let mut counts = Vec::new();
            for scope in [KpiScope::Practice, KpiScope::Doctor(anna)] {
                count.store(0, Ordering::SeqCst);
                let data = scheduling_data(&conn, BERLIN, &needs, scope).await.unwrap();
                counts.push((count.load(Ordering::SeqCst), data.input.appointments.len()));
                count.store(0, Ordering::SeqCst);
                let data = operations_data(&conn, BERLIN, &window, &today, scope)
                    .await
                    .unwrap();
                counts.push((count.load(Ordering::SeqCst), data.input.appointments.len()));
            }
            count.store(0, Ordering::SeqCst);
            let ops = op_stats_operations(&conn, window, None).await.unwrap();
            counts.push((count.load(Ordering::SeqCst), ops.len()));
            counts
        }
    };
    let small = measure().await;

    // Ten times the data: more doctors, patients, appointments, operations, flows.
    for idx in 0..4 {
        let doctor = app
            .create_user(&format!("dr.extra{idx}"), Some(Role::Doctor))
            .await;
        for weekday in 0..5 {
            doctor_hours(&app, doctor.id, weekday, time(8, 0), time(16, 0)).await;
        }
        absence(&app, doctor.id, date(2025, 1, 10), date(2025, 1, 10)).await;
        for day in 0..20u32 {
            let patient_id = 100 + idx * 20 + i32::try_from(day).unwrap();
            patient(&app, patient_id).await;
            let start = berlin(2024, 12, 20, 8, 0)
                + chrono::Duration::days(i64::from(day))
                + chrono::Duration::hours(i64::from(idx));
            let id = insert_appt(
                &app,
                &Appt {
                    doctor: doctor.id,
                    patient: patient_id,
                    start,
                    end: start + chrono::Duration::minutes(30),
                    status: if day % 3 == 0 {
                        "cancelled"
                    } else {
                        "completed"
                    },
                    no_show: false,
                    created: start - chrono::Duration::days(2),
                    updated: start,
                    resources: vec![clinic.room, clinic.device],
                },
            )
            .await;
            flow(&app, Some(id), None, "done").await;
        }
    }
    let op_type = op_type(&app, "Noch ein Eingriff", (10, 30, 10)).await;
    for day in 0..20 {
        let start = berlin(2024, 12, 20, 15, 0) + chrono::Duration::days(day);
        insert_op(
            &app,
            &Op {
                op_type,
                patient: 100,
                team: (clinic.bert.id, Some(clinic.anna.id), None),
                room: clinic.op_room,
                devices: vec![clinic.device],
                start,
                end: start + chrono::Duration::minutes(50),
                status: "planned",
            },
        )
        .await;
    }
    let big = measure().await;
    for ((small_count, small_rows), (big_count, big_rows)) in small.iter().zip(&big) {
        assert_eq!(
            small_count, big_count,
            "statements must not depend on rows: {small:?} {big:?}"
        );
        assert!(big_rows >= small_rows, "{small:?} {big:?}");
    }
    assert!(big[0].1 > 50, "{big:?}");
    // Scheduling and operations KPIs: 11 statements each; op-stats: 2.
    let counts: Vec<usize> = big.iter().map(|(count, _)| *count).collect();
    assert_eq!(counts, [11, 11, 11, 11, 2]);
    app.stop().await;
}
