//! The resource calendar (`/api/resource-calendar/` and `/resources/`, api.md §3.13,
//! scheduling.md §6.4). Tests covering the catalogue scenario §8.7 no. 105 are named `vw_105_…`.
//! Fixture days are in January 2030 (Europe/Berlin, UTC+1) unless a test says otherwise.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use praxi_store::resource_calendar::{
    CalendarDays, ResourceCalendarQuery, read_calendar_resources, read_resource_calendar,
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};

use crate::events::{next_event, open_stream};
use crate::fixtures::{Practice, day, practice_break, resource, time, utc};
use crate::helpers::{Client, TestApp};

const PATH: &str = "/api/resource-calendar/";
const RESOURCES_PATH: &str = "/api/resource-calendar/resources/";
const FORBIDDEN: &str = "You do not have permission to perform this action.";

// ---- fixtures --------------------------------------------------------------------------------

async fn appointment_type(app: &TestApp, name: &str, color: Option<&str>) -> i64 {
    entity::appointment_type::ActiveModel {
        name: Set(name.to_owned()),
        color: Set(color.map(str::to_owned)),
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

async fn operation_type(app: &TestApp, name: &str, color: &str) -> i64 {
    entity::operation_type::ActiveModel {
        name: Set(name.to_owned()),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        color: Set(color.to_owned()),
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

/// An appointment row written directly (any time, any status, no hours check).
struct Appt<'a> {
    doctor: i64,
    type_id: Option<i64>,
    status: &'a str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    resources: &'a [i64],
}

async fn appointment_row(app: &TestApp, appt: Appt<'_>) -> i64 {
    let id = entity::appointment::ActiveModel {
        patient_id: Set(1),
        type_id: Set(appt.type_id),
        doctor_id: Set(appt.doctor),
        start_time: Set(appt.start),
        end_time: Set(appt.end),
        status: Set(appt.status.to_owned()),
        is_no_show: Set(false),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    for resource in appt.resources {
        entity::appointment_resource::ActiveModel {
            appointment_id: Set(id),
            resource_id: Set(*resource),
            ..Default::default()
        }
        .insert(app.store().conn())
        .await
        .unwrap();
    }
    i64::from(id)
}

/// An operation row written directly.
struct Op<'a> {
    op_type: i64,
    team: (i64, Option<i64>, Option<i64>),
    room: i64,
    devices: &'a [i64],
    status: &'a str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

async fn operation_row(app: &TestApp, op: Op<'_>) -> i64 {
    let id = entity::operation::ActiveModel {
        patient_id: Set(2),
        primary_surgeon_id: Set(op.team.0),
        assistant_id: Set(op.team.1),
        anesthesist_id: Set(op.team.2),
        op_room_id: Set(op.room),
        op_type_id: Set(op.op_type),
        start_time: Set(op.start),
        end_time: Set(op.end),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
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
    for device in op.devices {
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

async fn absence_row(
    app: &TestApp,
    doctor: i64,
    from: NaiveDate,
    to: NaiveDate,
    reason: Option<&str>,
    active: bool,
) -> i64 {
    entity::doctor_absence::ActiveModel {
        doctor_id: Set(doctor),
        start_date: Set(from),
        end_date: Set(to),
        reason: Set(reason.map(str::to_owned)),
        active: Set(active),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id
}

async fn deactivate_break(app: &TestApp, id: i64) {
    entity::doctor_break::ActiveModel {
        id: Set(id),
        active: Set(false),
        ..Default::default()
    }
    .update(app.store().conn())
    .await
    .unwrap();
}

async fn deactivate_resource(app: &TestApp, id: i64) {
    entity::resource::ActiveModel {
        id: Set(id),
        active: Set(false),
        ..Default::default()
    }
    .update(app.store().conn())
    .await
    .unwrap();
}

async fn set_user(app: &TestApp, id: i64, first: &str, last: &str, color: &str) {
    entity::user::ActiveModel {
        id: Set(id),
        first_name: Set(first.to_owned()),
        last_name: Set(last.to_owned()),
        calendar_color: Set(color.to_owned()),
        ..Default::default()
    }
    .update(app.store().conn())
    .await
    .unwrap();
}

/// A Berlin wall-clock time (the earlier instant when ambiguous).
fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Berlin
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ids_param(ids: &[i64]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn columns(client: &Client<'_>, date: &str, ids: &[i64]) -> Value {
    let res = client
        .get(&format!(
            "{PATH}?date={date}&resource_ids={}",
            ids_param(ids)
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

/// `(kind, id)` of every booking of a column.
fn kinds(column: &Value) -> Vec<(String, i64)> {
    column["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["kind"].as_str().unwrap().to_owned(),
                b["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn column_ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|column| column["resource"]["id"].as_i64().unwrap())
        .collect()
}

fn pairs(items: &[(&str, i64)]) -> Vec<(String, i64)> {
    items.iter().map(|(k, id)| ((*k).to_owned(), *id)).collect()
}

async fn resource_body(client: &Client<'_>, id: i64) -> Value {
    let res = client.get(&format!("/api/resources/{id}/")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body
}

// ---- shapes, labels, colours, order ----------------------------------------------------------

#[tokio::test]
async fn vw_105_bookings_of_every_kind_have_the_original_shape_labels_and_colours() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    set_user(&app, anna, "Erika", "Muster", "#1E90FF").await;
    set_user(&app, bert, "Max", "Beispiel", "#AA0000").await;
    let nameless = app.create_user("dr.nameless", Some(Role::Doctor)).await;
    set_user(&app, nameless.id, "", "", "#00AA00").await;
    let check_up = appointment_type(&app, "Check-up", Some("#112233")).await;
    let uncoloured = appointment_type(&app, "Kontrolle", None).await;
    let op_type = operation_type(&app, "Kleiner Eingriff", "#445566").await;

    let a1 = appointment_row(
        &app,
        Appt {
            doctor: anna,
            type_id: Some(check_up),
            status: "scheduled",
            start: utc(0, 9, 0),
            end: utc(0, 9, 30),
            resources: &[practice.room],
        },
    )
    .await;
    // Cancelled appointments are shown too (all statuses).
    let a2 = appointment_row(
        &app,
        Appt {
            doctor: bert,
            type_id: None,
            status: "cancelled",
            start: utc(0, 9, 0),
            end: utc(0, 10, 0),
            resources: &[practice.room, practice.device],
        },
    )
    .await;
    let a3 = appointment_row(
        &app,
        Appt {
            doctor: anna,
            type_id: Some(uncoloured),
            status: "completed",
            start: utc(0, 11, 0),
            end: utc(0, 11, 30),
            resources: &[practice.device],
        },
    )
    .await;
    let a4 = appointment_row(
        &app,
        Appt {
            doctor: nameless.id,
            type_id: None,
            status: "scheduled",
            start: utc(0, 14, 0),
            end: utc(0, 14, 30),
            resources: &[practice.room],
        },
    )
    .await;
    let o1 = operation_row(
        &app,
        Op {
            op_type,
            team: (bert, None, None),
            room: practice.other_room,
            devices: &[practice.device],
            status: "planned",
            start: utc(0, 10, 0),
            end: utc(0, 10, 50),
        },
    )
    .await;
    let absence = absence_row(&app, anna, day(0), day(0), Some("Fortbildung"), true).await;
    let practice_wide = practice_break(&app, None, day(0), time(12, 0), time(12, 30)).await;
    let berts_break = practice_break(&app, Some(bert), day(0), time(12, 0), time(12, 30)).await;
    // Not shown: another day, an inactive absence and break.
    absence_row(&app, bert, day(1), day(2), None, true).await;
    absence_row(&app, bert, day(0), day(0), Some("storniert"), false).await;
    let inactive_break = practice_break(&app, None, day(0), time(13, 0), time(13, 30)).await;
    deactivate_break(&app, inactive_break).await;

    let body = columns(
        &admin,
        "2030-01-14",
        &[practice.device, practice.room, practice.other_room],
    )
    .await;
    assert_eq!(
        column_ids(&body),
        [practice.device, practice.room, practice.other_room]
    );

    // The device column, byte for byte: absence from local midnight to the last microsecond,
    // then by start; the two 12:00 breaks tie on start, end and kind and go by id.
    let device = resource_body(&admin, practice.device).await;
    assert_eq!(
        body[0],
        json!({
            "resource": device,
            "bookings": [
                {"kind": "absence", "id": absence, "start_time": "2030-01-14T00:00:00+01:00",
                 "end_time": "2030-01-14T23:59:59.999999+01:00", "color": "#FFD700",
                 "label": "Fortbildung – Erika Muster", "status": null},
                {"kind": "appointment", "id": a2, "start_time": "2030-01-14T09:00:00+01:00",
                 "end_time": "2030-01-14T10:00:00+01:00", "color": "#AA0000",
                 "label": "Termin – Max Beispiel", "status": null},
                {"kind": "operation", "id": o1, "start_time": "2030-01-14T10:00:00+01:00",
                 "end_time": "2030-01-14T10:50:00+01:00", "color": "#445566",
                 "label": "Kleiner Eingriff – Max Beispiel", "status": "planned", "progress": 0.0},
                {"kind": "appointment", "id": a3, "start_time": "2030-01-14T11:00:00+01:00",
                 "end_time": "2030-01-14T11:30:00+01:00", "color": "#1E90FF",
                 "label": "Kontrolle – Erika Muster", "status": null},
                {"kind": "break", "id": practice_wide, "start_time": "2030-01-14T12:00:00+01:00",
                 "end_time": "2030-01-14T12:30:00+01:00", "color": "#FFA500",
                 "label": "Pause", "status": null},
                {"kind": "break", "id": berts_break, "start_time": "2030-01-14T12:00:00+01:00",
                 "end_time": "2030-01-14T12:30:00+01:00", "color": "#FFA500",
                 "label": "Pause – Max Beispiel", "status": null},
            ],
        })
    );
    // Key order of the wire (DRF-style byte diffs): resource first, progress last.
    let keys: Vec<&str> = body[0]["bookings"][2]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "id",
            "start_time",
            "end_time",
            "color",
            "label",
            "status",
            "progress"
        ]
    );
    assert_eq!(
        body[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["resource", "bookings"]
    );
    // The label separator is an en dash with spaces.
    assert!(
        body.to_string()
            .contains("Fortbildung \u{2013} Erika Muster")
    );

    // The room: A1 and A2 both start at 09:00, the shorter one first; the username stands in
    // for an empty name.
    assert_eq!(
        kinds(&body[1]),
        pairs(&[
            ("absence", absence),
            ("appointment", a1),
            ("appointment", a2),
            ("break", practice_wide),
            ("break", berts_break),
            ("appointment", a4),
        ])
    );
    assert_eq!(body[1]["bookings"][1]["label"], "Check-up – Erika Muster");
    assert_eq!(body[1]["bookings"][1]["color"], "#112233");
    assert_eq!(body[1]["bookings"][5]["label"], "Termin – dr.nameless");
    assert_eq!(body[1]["bookings"][5]["color"], "#00AA00");
    // The OP room shows the operation through its room; absences and breaks are painted into
    // every column (the original's behaviour, W18).
    assert_eq!(
        kinds(&body[2]),
        pairs(&[
            ("absence", absence),
            ("operation", o1),
            ("break", practice_wide),
            ("break", berts_break),
        ])
    );
    app.stop().await;
}

#[tokio::test]
async fn vw_105_columns_follow_the_requested_order_and_unknown_inactive_and_repeated_ids_drop() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (room, room2) = (practice.room, practice.other_room);
    let retired = resource(&app, "Alt", "room").await;
    deactivate_resource(&app, retired).await;

    // Verified on the original: R2, unknown, R, R2 → [R2, R].
    let res = admin
        .get(&format!(
            "{PATH}?date=2030-01-14&resource_ids={room2},99999,{room},{room2},{retired}"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(column_ids(&res.body), [room2, room]);
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 1)
        .await
        .unwrap();
    assert_eq!(
        audit[0].meta,
        Some(json!({"date": "2030-01-14", "resource_ids": [room2, room]}))
    );

    // Only unknown or inactive ids: an empty array, and the audit has the date only.
    for ids in [
        format!("99999,{retired}"),
        "-1,0".to_owned(),
        "99999999999999999999".to_owned(),
    ] {
        let res = admin
            .get(&format!("{PATH}?date=2030-01-14&resource_ids={ids}"))
            .await;
        assert_eq!(res.status, 200, "{ids}: {}", res.text);
        assert_eq!(res.body, json!([]), "{ids}");
        let audit = app
            .store()
            .audit_log(Some("resource_calendar_view"), 1)
            .await
            .unwrap();
        assert_eq!(audit[0].meta, Some(json!({"date": "2030-01-14"})), "{ids}");
    }
    // Blank items are skipped like the original's.
    let res = admin
        .get(&format!(
            "{PATH}?date=2030-01-14&resource_ids=%20{room},,{room2}%20"
        ))
        .await;
    assert_eq!(column_ids(&res.body), [room, room2]);
    app.stop().await;
}

#[tokio::test]
async fn vw_105_operations_show_in_room_and_device_columns_with_status_and_progress() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    // The server's clock moved to Monday 12:00, so the running operation has progressed (the
    // few milliseconds the test takes do not matter at the asserted precision). Tokens are
    // minted afterwards, on the moved clock.
    let now = utc(0, 12, 0);
    app.state.clock.advance(now - Utc::now());
    let today = "2030-01-14";
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let op_type = operation_type(&app, "Kleiner Eingriff", "#445566").await;
    let unnamed = operation_type(&app, "", "#778899").await;
    let op = |status: &'static str, start: DateTime<Utc>, end: DateTime<Utc>, op_type: i64| Op {
        op_type,
        team: (bert, Some(anna), None),
        room: practice.other_room,
        devices: &[],
        status,
        start,
        end,
    };
    // Half of its hour has passed: progress 0.5.
    let running = operation_row(
        &app,
        Op {
            devices: &[practice.device],
            ..op(
                "running",
                now - Duration::minutes(30),
                now + Duration::minutes(30),
                op_type,
            )
        },
    )
    .await;
    let planned = operation_row(
        &app,
        op(
            "planned",
            now - Duration::minutes(40),
            now - Duration::minutes(35),
            op_type,
        ),
    )
    .await;
    let confirmed = operation_row(
        &app,
        op(
            "confirmed",
            now - Duration::minutes(50),
            now - Duration::minutes(45),
            unnamed,
        ),
    )
    .await;
    let done = operation_row(
        &app,
        op(
            "done",
            now - Duration::minutes(60),
            now - Duration::minutes(55),
            op_type,
        ),
    )
    .await;
    let cancelled = operation_row(
        &app,
        op(
            "cancelled",
            now - Duration::minutes(70),
            now - Duration::minutes(65),
            op_type,
        ),
    )
    .await;
    let body = columns(&admin, today, &[practice.other_room, practice.device]).await;
    let bookings = body[0]["bookings"].as_array().unwrap();
    let find = |id: i64| {
        bookings
            .iter()
            .find(|b| b["id"] == id && b["kind"] == "operation")
            .unwrap_or_else(|| panic!("operation {id} missing: {bookings:?}"))
    };
    assert_eq!(find(running)["status"], "running");
    let progress = find(running)["progress"].as_f64().unwrap();
    assert!((progress - 0.5).abs() < 0.01, "{progress}");
    for (id, status) in [
        (planned, json!("planned")),
        (confirmed, json!("planned")),
        (done, Value::Null),
        (cancelled, Value::Null),
    ] {
        assert_eq!(find(id)["status"], status, "operation {id}");
        assert_eq!(find(id)["progress"], json!(0.0), "operation {id}");
    }
    // A type without a name is labelled "OP".
    assert_eq!(find(confirmed)["label"], "OP – First dr.bert Last dr.bert");
    assert_eq!(find(confirmed)["color"], "#778899");
    // The device column shows only the operation that uses the device.
    assert_eq!(kinds(&body[1]), pairs(&[("operation", running)]));

    // An overrunning running operation stays at 1.0.
    let overrun = operation_row(
        &app,
        op(
            "running",
            now - Duration::minutes(90),
            now - Duration::minutes(80),
            op_type,
        ),
    )
    .await;
    let body = columns(&admin, today, &[practice.other_room]).await;
    let item = body[0]["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == overrun)
        .unwrap()
        .clone();
    assert_eq!(item["progress"], json!(1.0));
    app.stop().await;
}

#[tokio::test]
async fn vw_105_bookings_overlap_the_local_day_half_open() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    let row = |start, end| Appt {
        doctor: anna,
        type_id: None,
        status: "scheduled",
        start,
        end,
        resources: &[],
    };
    let room = [practice.room];
    // Sunday 23:30 to Monday 00:00 ends where Monday begins: not shown. (The two rows that
    // are not shown are cancelled so that PostgreSQL's overlap constraints accept them; status
    // does not decide visibility.)
    appointment_row(
        &app,
        Appt {
            resources: &room,
            status: "cancelled",
            ..row(berlin(2030, 1, 13, 23, 30), utc(0, 0, 0))
        },
    )
    .await;
    // Sunday 23:30 to Monday 00:30 reaches into Monday: shown.
    let across = appointment_row(
        &app,
        Appt {
            resources: &room,
            ..row(berlin(2030, 1, 13, 23, 30), utc(0, 0, 30))
        },
    )
    .await;
    // Monday 23:59 to Tuesday 00:10: shown.
    let late = appointment_row(
        &app,
        Appt {
            resources: &room,
            ..row(utc(0, 23, 59), utc(1, 0, 10))
        },
    )
    .await;
    // Tuesday 00:00: not shown.
    appointment_row(
        &app,
        Appt {
            resources: &room,
            status: "cancelled",
            ..row(utc(1, 0, 0), utc(1, 0, 30))
        },
    )
    .await;
    let body = columns(&admin, "2030-01-14", &room).await;
    assert_eq!(
        kinds(&body[0]),
        pairs(&[("appointment", across), ("appointment", late)])
    );
    assert_eq!(
        body[0]["bookings"][0]["start_time"],
        "2030-01-13T23:30:00+01:00"
    );
    app.stop().await;
}

// ---- doctors -----------------------------------------------------------------------------------

#[tokio::test]
async fn vw_105_doctors_see_only_their_bookings_absences_and_practice_wide_or_own_breaks() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let billing = app.as_role(Role::Billing).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let op_type = operation_type(&app, "Eingriff", "#445566").await;
    let appt = |doctor, h| Appt {
        doctor,
        type_id: None,
        status: "scheduled",
        start: utc(0, h, 0),
        end: utc(0, h, 30),
        resources: &[],
    };
    let ids = [practice.room, practice.other_room];
    let annas = appointment_row(
        &app,
        Appt {
            resources: &ids[..1],
            ..appt(anna, 9)
        },
    )
    .await;
    let berts = appointment_row(
        &app,
        Appt {
            resources: &ids[..1],
            ..appt(bert, 10)
        },
    )
    .await;
    let team = |team, h| Op {
        op_type,
        team,
        room: practice.other_room,
        devices: &[],
        status: "planned",
        start: utc(0, h, 0),
        end: utc(0, h, 50),
    };
    // Anna as anaesthetist: her operation. Bert alone: not hers.
    let with_anna = operation_row(&app, team((bert, None, Some(anna)), 9)).await;
    let without = operation_row(&app, team((bert, None, None), 11)).await;
    let annas_absence = absence_row(&app, anna, day(0), day(0), None, true).await;
    let berts_absence = absence_row(&app, bert, day(0), day(0), Some("Urlaub"), true).await;
    let everyone = practice_break(&app, None, day(0), time(12, 0), time(12, 30)).await;
    let annas_break = practice_break(&app, Some(anna), day(0), time(13, 0), time(13, 30)).await;
    let berts_break = practice_break(&app, Some(bert), day(0), time(14, 0), time(14, 30)).await;

    let doctor = app.as_user(&practice.doctor);
    let body = columns(&doctor, "2030-01-14", &ids).await;
    // Columns stay (resources are not patient data); only the bookings are filtered.
    assert_eq!(column_ids(&body), ids);
    assert_eq!(
        kinds(&body[0]),
        pairs(&[
            ("absence", annas_absence),
            ("appointment", annas),
            ("break", everyone),
            ("break", annas_break),
        ])
    );
    assert_eq!(
        body[0]["bookings"][0]["label"],
        "Abwesenheit – First dr.anna Last dr.anna"
    );
    assert_eq!(
        kinds(&body[1]),
        pairs(&[
            ("absence", annas_absence),
            ("operation", with_anna),
            ("break", everyone),
            ("break", annas_break),
        ])
    );

    // Admin and billing see everything.
    for client in [&admin, &billing] {
        let body = columns(client, "2030-01-14", &ids).await;
        assert_eq!(
            kinds(&body[0]),
            pairs(&[
                ("absence", annas_absence),
                ("absence", berts_absence),
                ("appointment", annas),
                ("appointment", berts),
                ("break", everyone),
                ("break", annas_break),
                ("break", berts_break),
            ])
        );
        assert_eq!(
            kinds(&body[1]),
            pairs(&[
                ("absence", annas_absence),
                ("absence", berts_absence),
                ("operation", with_anna),
                ("operation", without),
                ("break", everyone),
                ("break", annas_break),
                ("break", berts_break),
            ])
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn vw_105_resource_list_is_active_resources_by_type_name_id_and_doctors_get_the_ones_they_used()
 {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let xray = resource(&app, "Röntgen", "device").await;
    let unused = resource(&app, "Aaa Lager", "room").await;
    let retired = resource(&app, "Alt", "room").await;
    let op_type = operation_type(&app, "Eingriff", "#445566").await;
    // Anna: an appointment years ago in the treatment room and the retired room, and an
    // operation as assistant in OP-1 with the ECG. Bert: an operation with the X-ray.
    appointment_row(
        &app,
        Appt {
            doctor: anna,
            type_id: None,
            status: "completed",
            start: berlin(2020, 5, 4, 9, 0),
            end: berlin(2020, 5, 4, 9, 30),
            resources: &[practice.room, retired],
        },
    )
    .await;
    operation_row(
        &app,
        Op {
            op_type,
            team: (bert, Some(anna), None),
            room: practice.other_room,
            devices: &[practice.device],
            status: "cancelled",
            start: utc(3, 9, 0),
            end: utc(3, 9, 50),
        },
    )
    .await;
    operation_row(
        &app,
        Op {
            op_type,
            team: (bert, None, None),
            room: practice.other_room,
            devices: &[xray],
            status: "planned",
            start: utc(4, 9, 0),
            end: utc(4, 9, 50),
        },
    )
    .await;
    deactivate_resource(&app, retired).await;

    let admin = app.as_role(Role::Admin).await;
    let res = admin.get(RESOURCES_PATH).await;
    assert_eq!(res.status, 200, "{}", res.text);
    // type, name, id: devices (EKG, Röntgen) before rooms (Aaa Lager, Behandlungsraum 1, OP-1).
    assert_eq!(
        res.body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [
            practice.device,
            xray,
            unused,
            practice.room,
            practice.other_room
        ]
    );
    // A plain array of the Resource shape.
    assert_eq!(res.body[0], resource_body(&admin, practice.device).await);
    for role in [Role::Assistant, Role::Billing] {
        let res = app.as_role(role).await.get(RESOURCES_PATH).await;
        assert_eq!(res.body.as_array().unwrap().len(), 5, "{role:?}");
    }

    let doctor = app.as_user(&practice.doctor);
    let listed = |body: &Value| -> Vec<i64> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let res = doctor.get(RESOURCES_PATH).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        listed(&res.body),
        [practice.device, practice.room, practice.other_room]
    );
    let res = app
        .as_user(&practice.other_doctor)
        .get(RESOURCES_PATH)
        .await;
    assert_eq!(
        listed(&res.body),
        [practice.device, xray, practice.other_room]
    );
    // A doctor without bookings has nothing to pick.
    let res = app.as_role(Role::Doctor).await.get(RESOURCES_PATH).await;
    assert_eq!(res.body, json!([]));
    app.stop().await;
}

// ---- time zone -----------------------------------------------------------------------------

#[tokio::test]
async fn a_whole_day_absence_spans_the_25_hour_autumn_dst_day() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    let sunday = date(2026, 10, 25);
    let absence = absence_row(
        &app,
        anna,
        date(2026, 10, 20),
        date(2026, 10, 30),
        None,
        true,
    )
    .await;
    let room = [practice.room];
    let appt = |start, end| Appt {
        doctor: anna,
        type_id: None,
        status: "scheduled",
        start,
        end,
        resources: &room,
    };
    // The day runs from 22:00 UTC on Saturday to 23:00 UTC on Sunday (25 hours).
    let first = appointment_row(
        &app,
        appt(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 25, 0, 30)),
    )
    .await;
    let last = appointment_row(
        &app,
        appt(berlin(2026, 10, 25, 23, 30), berlin(2026, 10, 26, 0, 0)),
    )
    .await;
    // Saturday 23:00–23:59 CEST is the day before.
    appointment_row(
        &app,
        appt(berlin(2026, 10, 24, 23, 0), berlin(2026, 10, 24, 23, 59)),
    )
    .await;
    // Monday 00:00 CET is the day after.
    appointment_row(
        &app,
        appt(berlin(2026, 10, 26, 0, 0), berlin(2026, 10, 26, 0, 30)),
    )
    .await;
    // 02:30 happens twice: the earlier (summer-time) instant; 03:30 is winter time.
    let fold = practice_break(&app, None, sunday, time(2, 30), time(3, 30)).await;

    let body = columns(&admin, "2026-10-25", &room).await;
    let bookings = &body[0]["bookings"];
    assert_eq!(
        kinds(&body[0]),
        pairs(&[
            // Both start at local midnight; the appointment ends first.
            ("appointment", first),
            ("absence", absence),
            ("break", fold),
            ("appointment", last),
        ])
    );
    assert_eq!(bookings[0]["start_time"], "2026-10-25T00:00:00+02:00");
    assert_eq!(bookings[1]["start_time"], "2026-10-25T00:00:00+02:00");
    assert_eq!(bookings[1]["end_time"], "2026-10-25T23:59:59.999999+01:00");
    let start = DateTime::parse_from_rfc3339(bookings[1]["start_time"].as_str().unwrap()).unwrap();
    let end = DateTime::parse_from_rfc3339(bookings[1]["end_time"].as_str().unwrap()).unwrap();
    // 25 hours minus one microsecond.
    assert_eq!(end - start, Duration::hours(25) - Duration::microseconds(1));
    assert_eq!(bookings[2]["start_time"], "2026-10-25T02:30:00+02:00");
    assert_eq!(bookings[2]["end_time"], "2026-10-25T03:30:00+01:00");
    assert_eq!(bookings[3]["end_time"], "2026-10-26T00:00:00+01:00");

    // The spring day is 23 hours long.
    let body = columns(&admin, "2026-03-29", &room).await;
    assert_eq!(body[0]["bookings"], json!([]));
    absence_row(
        &app,
        anna,
        date(2026, 3, 29),
        date(2026, 3, 29),
        Some("Kongress"),
        true,
    )
    .await;
    let body = columns(&admin, "2026-03-29", &room).await;
    assert_eq!(
        body[0]["bookings"][0]["start_time"],
        "2026-03-29T00:00:00+01:00"
    );
    assert_eq!(
        body[0]["bookings"][0]["end_time"],
        "2026-03-29T23:59:59.999999+02:00"
    );
    app.stop().await;
}

#[tokio::test]
async fn in_a_utc_practice_bookings_render_like_the_verified_original() {
    let app = TestApp::spawn_with(|config| config.timezone = chrono_tz::UTC).await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    set_user(&app, practice.other_doctor.id, "Max", "Beispiel", "#1E90FF").await;
    let absence = absence_row(
        &app,
        practice.other_doctor.id,
        date(2045, 6, 5),
        date(2045, 6, 5),
        Some("Fortbildung"),
        true,
    )
    .await;
    let body = columns(&admin, "2045-06-05", &[practice.room]).await;
    assert_eq!(
        body[0]["bookings"],
        json!([{"kind": "absence", "id": absence, "start_time": "2045-06-05T00:00:00Z",
                "end_time": "2045-06-05T23:59:59.999999Z", "color": "#FFD700",
                "label": "Fortbildung – Max Beispiel", "status": null}])
    );
    app.stop().await;
}

// ---- several days (additive) --------------------------------------------------------------------

#[tokio::test]
async fn days_shows_consecutive_local_days_and_clips_absences_to_them() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    let room = [practice.room];
    let appt = |d, h| Appt {
        doctor: anna,
        type_id: None,
        status: "scheduled",
        start: utc(d, h, 0),
        end: utc(d, h, 30),
        resources: &room,
    };
    let monday = appointment_row(&app, appt(0, 9)).await;
    let wednesday = appointment_row(&app, appt(2, 9)).await;
    appointment_row(&app, appt(3, 9)).await;
    // Sunday to Friday, shown Monday 00:00 to Wednesday 23:59:59.999999.
    let absence = absence_row(
        &app,
        anna,
        day(0) - chrono::Days::new(1),
        day(4),
        None,
        true,
    )
    .await;
    let tuesday_break = practice_break(&app, None, day(1), time(12, 0), time(12, 30)).await;
    practice_break(&app, None, day(3), time(12, 0), time(12, 30)).await;

    let res = admin
        .get(&format!(
            "{PATH}?date=2030-01-14&resource_ids={}&days=3",
            practice.room
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        kinds(&res.body[0]),
        pairs(&[
            ("absence", absence),
            ("appointment", monday),
            ("break", tuesday_break),
            ("appointment", wednesday),
        ])
    );
    assert_eq!(
        res.body[0]["bookings"][0]["start_time"],
        "2030-01-14T00:00:00+01:00"
    );
    assert_eq!(
        res.body[0]["bookings"][0]["end_time"],
        "2030-01-16T23:59:59.999999+01:00"
    );
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 1)
        .await
        .unwrap();
    assert_eq!(
        audit[0].meta,
        Some(json!({"date": "2030-01-14", "resource_ids": [practice.room], "days": 3}))
    );
    // days=1 is the original's single day.
    let one = admin
        .get(&format!(
            "{PATH}?date=2030-01-14&resource_ids={}&days=1",
            practice.room
        ))
        .await;
    assert_eq!(one.body, columns(&admin, "2030-01-14", &room).await);
    app.stop().await;
}

// ---- errors ------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_or_malformed_parameters_are_400_with_the_original_messages() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let room = practice.room;
    let cases = [
        (String::new(), "Provide ?date=YYYY-MM-DD."),
        (format!("resource_ids={room}"), "Provide ?date=YYYY-MM-DD."),
        (
            format!("date=&resource_ids={room}"),
            "Provide ?date=YYYY-MM-DD.",
        ),
        (
            format!("date=14.01.2030&resource_ids={room}"),
            "Date must be in format YYYY-MM-DD.",
        ),
        (
            format!("date=2030-02-30&resource_ids={room}"),
            "Date must be in format YYYY-MM-DD.",
        ),
        (
            "date=2030-01-14".to_owned(),
            "Provide resource_ids as comma-separated list.",
        ),
        (
            "date=2030-01-14&resource_ids=".to_owned(),
            "Provide resource_ids as comma-separated list.",
        ),
        (
            "date=2030-01-14&resource_ids=,".to_owned(),
            "resource_ids cannot be empty.",
        ),
        (
            "date=2030-01-14&resource_ids=a,b".to_owned(),
            "resource_ids must be integers.",
        ),
        (
            format!("date=2030-01-14&resource_ids={room},1.5"),
            "resource_ids must be integers.",
        ),
        (
            format!("date=2030-01-14&resource_ids={room}&days=0"),
            "days must be an integer between 1 and 31.",
        ),
        (
            format!("date=2030-01-14&resource_ids={room}&days=32"),
            "days must be an integer between 1 and 31.",
        ),
        (
            format!("date=2030-01-14&resource_ids={room}&days=x"),
            "days must be an integer between 1 and 31.",
        ),
    ];
    for (query, message) in cases {
        let res = admin.get(&format!("{PATH}?{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.body, json!({"detail": message}), "{query}");
    }
    // Refused requests are not audited.
    assert!(
        app.store()
            .audit_log(Some("resource_calendar_view"), 1)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

// ---- permissions and audit ---------------------------------------------------------------------

#[tokio::test]
async fn resource_calendar_endpoints_answer_every_role_with_the_exact_status() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let calendar = format!("{PATH}?date=2030-01-14&resource_ids={}", practice.room);
    for path in [calendar.as_str(), RESOURCES_PATH] {
        // Reading: the four roles; nobody else (api.md §5 item 2). Writing: nobody (403), and
        // 401 before that without credentials.
        let cases = [
            ("admin", &admin, 200, 403),
            ("assistant", &assistant, 200, 403),
            ("doctor", &doctor, 200, 403),
            ("billing", &billing, 200, 403),
            ("no role", &nobody, 403, 403),
            ("anonymous", &anonymous, 401, 401),
        ];
        for (who, client, get, write) in cases {
            let res = client.get(path).await;
            assert_eq!(res.status, get, "{who} GET {path}: {}", res.text);
            if get == 200 {
                assert!(res.body.is_array(), "{who} {path}");
            }
            for method in [
                reqwest::Method::POST,
                reqwest::Method::PUT,
                reqwest::Method::PATCH,
                reqwest::Method::DELETE,
            ] {
                let res = client.send(method.clone(), path, Some(&json!({}))).await;
                assert_eq!(res.status, write, "{who} {method} {path}: {}", res.text);
                if write == 403 {
                    assert_eq!(res.body, json!({"detail": FORBIDDEN}));
                }
            }
        }
        assert_eq!(nobody.get(path).await.body, json!({"detail": FORBIDDEN}));
        assert_eq!(
            anonymous.get(path).await.body,
            json!({"detail": "Authentication credentials were not provided."})
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn vw_105_views_are_audited_with_date_and_resource_ids_the_resource_list_is_not() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_user(&practice.doctor);

    columns(&assistant, "2030-01-14", &[practice.device, practice.room]).await;
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].user_id, Some(assistant.user_id()));
    assert_eq!(audit[0].role_name, "assistant");
    assert_eq!(audit[0].patient_id, None);
    assert_eq!(
        audit[0].meta,
        Some(json!({"date": "2030-01-14", "resource_ids": [practice.device, practice.room]}))
    );

    // The resource list is master data without patient data: not audited (issue #16).
    assert_eq!(doctor.get(RESOURCES_PATH).await.status, 200);
    let audit = app
        .store()
        .audit_log(Some("resource_calendar_view"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);

    // Denied requests leave no row.
    app.as_no_role().await.get(RESOURCES_PATH).await;
    assert_eq!(
        app.store()
            .audit_log(Some("resource_calendar_view"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

// ---- set-based reads ---------------------------------------------------------------------------

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

#[tokio::test]
async fn statement_count_does_not_grow_with_resources_bookings_or_days() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let tz = chrono_tz::Europe::Berlin;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let op_type = operation_type(&app, "Eingriff", "#445566").await;
    let (conn, count) = counting_connection(&app);
    let run = |ids: Vec<i64>, days: u32, own: Option<i64>| {
        let conn = conn.clone();
        let count = count.clone();
        async move {
            count.store(0, Ordering::SeqCst);
            let query = ResourceCalendarQuery {
                days: CalendarDays::new(tz, day(0), days).unwrap(),
                resource_ids: ids,
                own_doctor: own,
                now: Utc::now(),
            };
            let columns = read_resource_calendar(&conn, tz, &query).await.unwrap();
            (count.load(Ordering::SeqCst), columns)
        }
    };
    let (small, columns) = run(vec![practice.room], 1, None).await;
    assert_eq!(columns.len(), 1);
    assert!(columns[0].bookings.is_empty());

    // Twenty more resources and ~200 bookings over two weeks.
    let mut ids = vec![practice.room, practice.other_room, practice.device];
    for idx in 0..20 {
        ids.push(resource(&app, &format!("Raum {idx}"), "room").await);
    }
    for offset in 0..14 {
        for (slot, resource) in ids.iter().enumerate().take(12) {
            let hour = 8 + u32::try_from(slot).unwrap();
            // Every appointment also books the device (once).
            let mut booked = vec![*resource];
            if *resource != practice.device {
                booked.push(practice.device);
            }
            appointment_row(
                &app,
                Appt {
                    doctor: if slot % 2 == 0 { anna } else { bert },
                    type_id: None,
                    status: "scheduled",
                    start: utc(offset, hour, 0),
                    end: utc(offset, hour, 30),
                    resources: &booked,
                },
            )
            .await;
        }
        operation_row(
            &app,
            Op {
                op_type,
                team: (bert, Some(anna), None),
                room: practice.other_room,
                devices: &[practice.device],
                status: "running",
                start: utc(offset, 16, 0),
                end: utc(offset, 16, 50),
            },
        )
        .await;
        absence_row(&app, anna, day(offset), day(offset), None, true).await;
        practice_break(&app, None, day(offset), time(12, 0), time(12, 30)).await;
    }
    let (big, columns) = run(ids.clone(), 14, None).await;
    assert_eq!(columns.len(), 23);
    let device = columns
        .iter()
        .find(|c| c.resource.id == practice.device)
        .unwrap();
    // 14 days × (12 appointments + 1 operation + 1 absence + 1 break).
    assert_eq!(device.bookings.len(), 14 * 15);
    assert_eq!(
        small, big,
        "statements must not depend on resources, rows or days"
    );
    assert!(big <= 5, "{big} statements");
    let (doctor, _) = run(ids.clone(), 31, Some(anna)).await;
    assert_eq!(doctor, big);
    // Nothing requested exists: one statement.
    let (none, columns) = run(vec![999_999], 1, None).await;
    assert!(columns.is_empty());
    assert_eq!(none, 1);

    // The column picker is one statement, for doctors too.
    for own in [None, Some(anna)] {
        count.store(0, Ordering::SeqCst);
        let resources = read_calendar_resources(&conn, own).await.unwrap();
        assert!(!resources.is_empty());
        assert_eq!(count.load(Ordering::SeqCst), 1, "{own:?}");
    }
    app.stop().await;
}

// ---- live events --------------------------------------------------------------------------------

#[tokio::test]
async fn appointment_writes_through_the_api_reach_an_open_resource_calendar_stream() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let assistant = app.as_role(Role::Assistant).await;
    let mut stream = open_stream(
        &app,
        assistant.token.as_deref().unwrap(),
        "resource-calendar",
    )
    .await;
    let mut op_board = open_stream(&app, assistant.token.as_deref().unwrap(), "op-board").await;

    let mut body = practice.booking(
        practice.doctor.id,
        practice.patients[0],
        (0, 10, 0),
        (0, 10, 30),
    );
    body["resource_ids"] = json!([practice.room]);
    let id = practice.book(&assistant, &body).await;
    let event = next_event(&mut stream, "appointment.created")
        .await
        .expect("created event");
    assert_eq!(event["board"], "resource-calendar");
    assert_eq!(event["id"], id);
    // Ids only, never patient data.
    assert_eq!(
        event.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["board", "kind", "id", "at"]
    );
    // The board shows it on re-read.
    let columns = columns(&assistant, "2030-01-14", &[practice.room]).await;
    assert_eq!(kinds(&columns[0]), pairs(&[("appointment", id)]));

    let res = assistant
        .patch(
            &format!("/api/appointments/{id}/"),
            &json!({"end_time": crate::fixtures::at(0, 10, 45)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let event = next_event(&mut stream, "appointment.updated")
        .await
        .expect("updated event");
    assert_eq!(event["id"], id);

    let res = assistant.delete(&format!("/api/appointments/{id}/")).await;
    assert_eq!(res.status, 204, "{}", res.text);
    let event = next_event(&mut stream, "appointment.deleted")
        .await
        .expect("deleted event");
    assert_eq!(event["id"], id);

    // Other boards do not receive resource-calendar events.
    assert!(
        next_event_quickly(&mut op_board, "appointment.created")
            .await
            .is_none()
    );
    app.stop().await;
}

/// Like `next_event`, but gives up after half a second.
async fn next_event_quickly(response: &mut reqwest::Response, kind: &str) -> Option<Value> {
    tokio::time::timeout(
        std::time::Duration::from_millis(500),
        next_event(response, kind),
    )
    .await
    .ok()
    .flatten()
}

#[tokio::test]
async fn doctors_may_follow_the_resource_calendar_stream() {
    let app = TestApp::spawn().await;
    let doctor = app.as_role(Role::Doctor).await;
    let mut stream = open_stream(&app, doctor.token.as_deref().unwrap(), "resource-calendar").await;
    app.state
        .events
        .notify(
            praxi_server::events::Board::ResourceCalendar,
            "appointment.deleted",
            5,
            None,
        )
        .await;
    let event = next_event(&mut stream, "appointment.deleted")
        .await
        .expect("event");
    assert_eq!(event["id"], 5);
    let nobody = app.as_no_role().await;
    assert_eq!(
        nobody.get("/api/events/resource-calendar/").await.status,
        403
    );
    app.stop().await;
}
