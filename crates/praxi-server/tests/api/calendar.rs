//! Calendar views (`/api/calendar/day|week|month/`, api.md §3.5) and the availability check
//! (`/api/availability/`, api.md §3.6 with the §5 item 1 fix). Test names carry the
//! scheduling.md §8 catalogue ids where they cover one.
#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::calendar::{
    AVAILABLE_PATIENTS_LIMIT, AvailabilityQuery, CalendarFilter, CalendarRange, CalendarView,
    read_availability, read_calendar,
};
use praxi_store::entity;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};

use crate::fixtures::{Practice, absence, day, doctor_hours, practice_break, time, utc};
use crate::helpers::{Client, TestApp};

const VIEWS: [&str; 3] = ["day", "week", "month"];

const TOP_KEYS: [&str; 9] = [
    "range_start",
    "range_end",
    "appointments",
    "operations",
    "absences",
    "breaks",
    "resources",
    "resource_bookings",
    "available_doctors",
];

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("object expected: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn ids(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("array expected: {value}"))
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// A Berlin wall-clock time as an instant (the earlier one when ambiguous).
fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Berlin
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

async fn appointment_type(app: &TestApp, name: &str, color: &str) -> i64 {
    entity::appointment_type::ActiveModel {
        name: Set(name.to_owned()),
        color: Set(Some(color.to_owned())),
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

/// An operation row written directly (the operations API is another module's business).
#[allow(
    clippy::too_many_arguments,
    reason = "a test fixture mirroring the row"
)]
async fn operation(
    app: &TestApp,
    op_type: i64,
    patient: i32,
    team: (i64, Option<i64>, Option<i64>),
    room: i64,
    devices: &[i64],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> i64 {
    let id = entity::operation::ActiveModel {
        patient_id: Set(patient),
        primary_surgeon_id: Set(team.0),
        assistant_id: Set(team.1),
        anesthesist_id: Set(team.2),
        op_room_id: Set(room),
        op_type_id: Set(op_type),
        start_time: Set(start),
        end_time: Set(end),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        status: Set("planned".to_owned()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    for device in devices {
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

/// An appointment row written directly (past dates, DST edges, bulk data).
async fn appointment_row(
    app: &TestApp,
    doctor: i64,
    patient: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    resources: &[i64],
) -> i64 {
    let id = entity::appointment::ActiveModel {
        patient_id: Set(patient),
        type_id: Set(None),
        doctor_id: Set(doctor),
        start_time: Set(start),
        end_time: Set(end),
        status: Set("scheduled".to_owned()),
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
    for resource in resources {
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

async fn patient_row(app: &TestApp, id: i32, first: &str, last: &str, birth: Option<NaiveDate>) {
    entity::patient::ActiveModel {
        id: Set(id),
        first_name: Set(first.to_owned()),
        last_name: Set(last.to_owned()),
        birth_date: Set(birth),
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

async fn calendar(client: &Client<'_>, view: &str, query: &str) -> Value {
    let res = client.get(&format!("/api/calendar/{view}/?{query}")).await;
    assert_eq!(res.status, 200, "{view}?{query}: {}", res.text);
    res.body
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

// ---- calendar: permissions -----------------------------------------------------------------

#[tokio::test]
async fn calendar_views_answer_every_role_with_the_exact_status() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    for view in VIEWS {
        let path = format!("/api/calendar/{view}/?date=2030-01-14");
        let cases = [
            ("admin", &admin, 200, 405),
            ("assistant", &assistant, 200, 405),
            ("doctor", &doctor, 200, 405),
            ("billing", &billing, 200, 403),
            ("no role", &nobody, 403, 403),
            ("anonymous", &anonymous, 401, 401),
        ];
        for (who, client, get, post) in cases {
            let res = client.get(&path).await;
            assert_eq!(res.status, get, "{who} GET {view}: {}", res.text);
            if get == 200 {
                assert_eq!(keys(&res.body), TOP_KEYS, "{who} {view}");
            }
            let res = client.post(&path, &json!({})).await;
            assert_eq!(res.status, post, "{who} POST {view}: {}", res.text);
            assert_eq!(
                client.delete(&path).await.status,
                post,
                "{who} DELETE {view}"
            );
        }
    }
    assert_eq!(
        nobody.get("/api/calendar/day/?date=2030-01-14").await.body,
        json!({"detail": "You do not have permission to perform this action."})
    );
    app.stop().await;
}

// ---- calendar: shapes -------------------------------------------------------------------------

#[tokio::test]
async fn calendar_day_lists_every_item_in_the_original_shapes() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let checkup = appointment_type(&app, "Kontrolle", "#112233").await;
    let mut body = practice.booking(practice.doctor.id, 1, (0, 9, 0), (0, 9, 30));
    body["type"] = json!(checkup);
    body["resource_ids"] = json!([practice.room, practice.device]);
    let appointment = practice.book(&admin, &body).await;
    let op_type = operation_type(&app, "Kleiner Eingriff").await;
    let op = operation(
        &app,
        op_type,
        2,
        (practice.other_doctor.id, Some(practice.doctor.id), None),
        practice.other_room,
        &[practice.device],
        utc(0, 11, 0),
        utc(0, 11, 50),
    )
    .await;
    let absence_id = absence(&app, practice.other_doctor.id, day(0), day(1)).await;
    let break_id = practice_break(&app, None, day(0), time(12, 0), time(12, 15)).await;

    let body = calendar(&admin, "day", "date=2030-01-14").await;
    assert_eq!(keys(&body), TOP_KEYS);
    assert_eq!(body["range_start"], "2030-01-14T00:00:00+01:00");
    assert_eq!(body["range_end"], "2030-01-14T23:59:59.999999+01:00");

    let item = &body["appointments"][0];
    assert_eq!(
        keys(item),
        [
            "id",
            "patient_id",
            "patient_name",
            "type",
            "doctor",
            "doctor_name",
            "resources",
            "room_name",
            "resource_names",
            "appointment_color",
            "doctor_color",
            "start_time",
            "end_time",
            "status",
            "is_no_show",
            "notes",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(item["id"], appointment);
    assert_eq!(item["appointment_color"], "#112233");
    assert_eq!(item["doctor_color"], json!(practice.doctor.calendar_color));
    assert_eq!(
        item["type"],
        json!({"id": checkup, "name": "Kontrolle", "color": "#112233"})
    );
    assert_eq!(item["start_time"], "2030-01-14T09:00:00+01:00");

    let item = &body["operations"][0];
    assert_eq!(
        keys(item),
        [
            "id",
            "patient_id",
            "patient_name",
            "op_type",
            "op_room",
            "op_devices",
            "team",
            "start_time",
            "end_time",
            "color",
            "status",
            "notes",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(item["id"], op);
    assert_eq!(item["patient_name"], "Patient2, P");
    assert_eq!(
        keys(&item["op_type"]),
        [
            "id",
            "name",
            "color",
            "prep_duration",
            "op_duration",
            "post_duration"
        ]
    );
    assert_eq!(item["op_type"]["op_duration"], 30);
    assert_eq!(
        keys(&item["op_room"]),
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
    assert_eq!(item["op_room"]["id"], practice.other_room);
    assert_eq!(ids(&item["op_devices"]), [practice.device]);
    assert_eq!(
        item["team"],
        json!({
            "primary_surgeon": {
                "id": practice.other_doctor.id,
                "name": practice.other_doctor.display_name(),
                "color": practice.other_doctor.calendar_color,
            },
            "assistant": {
                "id": practice.doctor.id,
                "name": practice.doctor.display_name(),
                "color": practice.doctor.calendar_color,
            },
            "anesthesist": null,
        })
    );
    assert_eq!(item["color"], "#445566");
    assert_eq!(item["status"], "planned");
    assert_eq!(item["notes"], "");
    assert_eq!(item["end_time"], "2030-01-14T11:50:00+01:00");

    let item = &body["absences"][0];
    assert_eq!(
        keys(item),
        [
            "id",
            "doctor",
            "start_date",
            "end_date",
            "reason",
            "color",
            "active",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(item["id"], absence_id);
    assert_eq!(item["doctor"], practice.other_doctor.id);
    assert_eq!(item["start_date"], "2030-01-14");
    assert_eq!(item["end_date"], "2030-01-15");
    assert_eq!(item["color"], "#FF4500");

    let item = &body["breaks"][0];
    assert_eq!(
        keys(item),
        [
            "id",
            "doctor",
            "date",
            "start_time",
            "end_time",
            "reason",
            "color",
            "active",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(item["id"], break_id);
    assert_eq!(item["doctor"], Value::Null);
    assert_eq!(item["start_time"], "12:00:00");
    assert_eq!(item["end_time"], "12:15:00");
    assert_eq!(item["color"], "#FFD700");

    // All active resources, ordered by type, name, id.
    assert_eq!(
        ids(&body["resources"]),
        [practice.device, practice.room, practice.other_room]
    );
    assert_eq!(
        keys(&body["resources"][0]),
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
    let mut bookings = body["resource_bookings"].as_array().unwrap().clone();
    bookings.sort_by_key(|b| b["resource_id"].as_i64());
    assert_eq!(
        bookings,
        [practice.room, practice.device].map(|resource| json!({
            "appointment_id": appointment,
            "resource_id": resource,
            "start_time": "2030-01-14T09:00:00+01:00",
            "end_time": "2030-01-14T09:30:00+01:00",
        }))
    );

    let doctors = body["available_doctors"].as_array().unwrap();
    assert_eq!(doctors.len(), 2, "{doctors:?}");
    assert_eq!(
        keys(&doctors[0]),
        ["id", "name", "color", "available", "reason"]
    );
    assert_eq!(
        doctors[0],
        json!({
            "id": practice.doctor.id,
            "name": practice.doctor.display_name(),
            "color": practice.doctor.calendar_color,
            "available": true,
            "reason": null,
        })
    );
    assert_eq!(doctors[1]["id"], practice.other_doctor.id);
    assert_eq!(doctors[1]["available"], false);
    assert_eq!(doctors[1]["reason"], "absence");
    app.stop().await;
}

// ---- calendar: availability of doctors and audits --------------------------------------------

#[tokio::test]
async fn vw_106_available_doctors_give_the_reason_doctors_see_themselves_and_two_audit_rows() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    // Monday: Anna absent. Tuesday: Bert's break covers his whole day. Wednesday: Anna booked
    // but for a 20-minute gap, too short for 30 minutes. Saturday: no hours at all.
    absence(&app, anna, day(0), day(0)).await;
    practice_break(&app, Some(bert), day(1), time(8, 0), time(17, 0)).await;
    practice
        .book(&admin, &practice.booking(anna, 1, (2, 8, 0), (2, 12, 0)))
        .await;
    practice
        .book(&admin, &practice.booking(anna, 2, (2, 12, 20), (2, 17, 0)))
        .await;

    let status = |body: &Value| -> Vec<(i64, bool, Value)> {
        body["available_doctors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_i64().unwrap(),
                    d["available"].as_bool().unwrap(),
                    d["reason"].clone(),
                )
            })
            .collect()
    };
    let cases = [
        ("2030-01-14", (false, json!("absence")), (true, Value::Null)),
        ("2030-01-15", (true, Value::Null), (false, json!("break"))),
        ("2030-01-16", (false, json!("busy")), (true, Value::Null)),
        (
            "2030-01-19",
            (false, json!("no_hours")),
            (false, json!("no_hours")),
        ),
    ];
    for (date, (anna_ok, anna_reason), (bert_ok, bert_reason)) in cases {
        let body = calendar(&admin, "day", &format!("date={date}")).await;
        assert_eq!(
            status(&body),
            [(anna, anna_ok, anna_reason), (bert, bert_ok, bert_reason)],
            "{date}"
        );
    }
    // Absent on one day of the week is still available in the week view.
    let body = calendar(&admin, "week", "date=2030-01-14").await;
    assert_eq!(
        status(&body),
        [(anna, true, Value::Null), (bert, true, Value::Null)]
    );

    // A doctor only sees themselves, whatever doctor_id says.
    let doctor = app.as_user(&practice.doctor);
    for query in [
        "date=2030-01-14",
        &format!("date=2030-01-14&doctor_id={bert}"),
    ] {
        let body = calendar(&doctor, "day", query).await;
        assert_eq!(status(&body), [(anna, false, json!("absence"))], "{query}");
    }
    // doctor_id lists that doctor only, and nobody when it is not an active doctor.
    let body = calendar(&admin, "day", &format!("date=2030-01-15&doctor_id={bert}")).await;
    assert_eq!(status(&body), [(bert, false, json!("break"))]);
    let body = calendar(
        &admin,
        "day",
        &format!("date=2030-01-15&doctor_id={}", admin.user_id()),
    )
    .await;
    assert_eq!(body["available_doctors"], json!([]));

    // Every call writes the view row, then doctor_substitution_list.
    for view in VIEWS {
        calendar(&admin, view, "date=2030-01-14&patient_id=3").await;
        let audit = app.store().audit_log(None, 2).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|row| row.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "doctor_substitution_list",
                format!("calendar_{view}").as_str()
            ]
        );
        for row in &audit {
            assert_eq!(row.user_id, Some(admin.user_id()));
            assert_eq!(row.role_name, "admin");
            assert_eq!(row.patient_id, Some(3));
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn past_ranges_report_the_doctor_busy_not_free() {
    // The engine calls time before "now" `elapsed`; the wire keeps the original's four reasons.
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let body = calendar(&admin, "week", "date=2025-01-15").await;
    for doctor in body["available_doctors"].as_array().unwrap() {
        assert_eq!(doctor["available"], false, "{doctor}");
        assert_eq!(doctor["reason"], "busy", "{doctor}");
    }
    assert_eq!(body["available_doctors"].as_array().unwrap().len(), 2);
    let _ = practice;
    app.stop().await;
}

// ---- calendar: absences -----------------------------------------------------------------------

#[tokio::test]
async fn av_12_absence_blocks_booking_and_shows_in_the_calendar_week() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let absence_id = absence(&app, practice.doctor.id, day(0), day(0)).await;
    let res = admin
        .post(
            "/api/appointments/",
            &practice.booking(practice.doctor.id, 1, (0, 10, 0), (0, 10, 30)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    for date in ["2030-01-14", "2030-01-20"] {
        let body = calendar(&admin, "week", &format!("date={date}")).await;
        assert_eq!(ids(&body["absences"]), [absence_id], "{date}");
        assert_eq!(body["absences"][0]["color"], "#FF4500");
    }
    // Not in the week before, nor for another doctor's filter.
    let body = calendar(&admin, "week", "date=2030-01-13").await;
    assert_eq!(body["absences"], json!([]));
    let body = calendar(
        &admin,
        "week",
        &format!("date=2030-01-14&doctor_id={}", practice.other_doctor.id),
    )
    .await;
    assert_eq!(body["absences"], json!([]));
    app.stop().await;
}

type Ids = Vec<i64>;
/// (client, query, appointments, operations, absences, breaks, listed doctors).
type FilterCase<'c, 'a> = (&'c Client<'a>, String, Ids, Ids, Ids, Ids, Ids);

// ---- calendar: filters and the doctor's own view ----------------------------------------------

#[tokio::test]
async fn calendar_filters_by_doctor_patient_and_type_and_doctors_see_only_their_own() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let first_type = appointment_type(&app, "Erstgespräch", "#101010").await;
    let second_type = appointment_type(&app, "Kontrolle", "#202020").await;
    let mut body = practice.booking(anna, 1, (0, 9, 0), (0, 9, 30));
    body["type"] = json!(first_type);
    body["resource_ids"] = json!([practice.room]);
    let a1 = practice.book(&admin, &body).await;
    let mut body = practice.booking(bert, 2, (0, 10, 0), (0, 10, 30));
    body["type"] = json!(second_type);
    let a2 = practice.book(&admin, &body).await;
    let op_type = operation_type(&app, "Eingriff").await;
    // Anna assists Bert in o1; o2 is Bert's alone.
    let o1 = operation(
        &app,
        op_type,
        3,
        (bert, Some(anna), None),
        practice.other_room,
        &[],
        utc(0, 11, 0),
        utc(0, 11, 50),
    )
    .await;
    let o2 = operation(
        &app,
        op_type,
        4,
        (bert, None, None),
        practice.other_room,
        &[],
        utc(1, 13, 0),
        utc(1, 13, 50),
    )
    .await;
    let bert_away = absence(&app, bert, day(1), day(1)).await;
    let anna_away = absence(&app, anna, day(3), day(3)).await;
    let lunch = practice_break(&app, None, day(0), time(12, 0), time(12, 30)).await;
    let anna_break = practice_break(&app, Some(anna), day(1), time(15, 0), time(15, 15)).await;
    let bert_break = practice_break(&app, Some(bert), day(2), time(15, 0), time(15, 15)).await;

    let doctor = app.as_user(&practice.doctor);
    let billing = app.as_role(Role::Billing).await;
    let assistant = app.as_role(Role::Assistant).await;
    // (client, query, appointments, operations, absences, breaks, listed doctors)
    let cases: Vec<FilterCase<'_, '_>> = vec![
        (
            &admin,
            String::new(),
            vec![a1, a2],
            vec![o1, o2],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        (
            &billing,
            String::new(),
            vec![a1, a2],
            vec![o1, o2],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        (
            &assistant,
            format!("&doctor_id={anna}"),
            vec![a1],
            vec![o1],
            vec![anna_away],
            vec![lunch, anna_break],
            vec![anna],
        ),
        (
            &admin,
            format!("&doctor_id={bert}"),
            vec![a2],
            vec![o1, o2],
            vec![bert_away],
            vec![lunch, bert_break],
            vec![bert],
        ),
        (
            &admin,
            "&patient_id=3".to_owned(),
            vec![],
            vec![o1],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        (
            &admin,
            "&patient_id=1".to_owned(),
            vec![a1],
            vec![],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        // The type filter applies to appointments only.
        (
            &admin,
            format!("&type_id={first_type}"),
            vec![a1],
            vec![o1, o2],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        (
            &admin,
            "&doctor_id=999999".to_owned(),
            vec![],
            vec![],
            vec![],
            vec![lunch],
            vec![],
        ),
        (
            &admin,
            "&patient_id=99999999999".to_owned(),
            vec![],
            vec![],
            vec![bert_away, anna_away],
            vec![lunch, anna_break, bert_break],
            vec![anna, bert],
        ),
        // A doctor: own appointments, operations on their team, own absences, practice-wide and
        // own breaks, only themselves; filters narrow further but never widen.
        (
            &doctor,
            String::new(),
            vec![a1],
            vec![o1],
            vec![anna_away],
            vec![lunch, anna_break],
            vec![anna],
        ),
        (
            &doctor,
            format!("&doctor_id={bert}"),
            vec![],
            vec![o1],
            vec![anna_away],
            vec![lunch, anna_break],
            vec![anna],
        ),
        (
            &doctor,
            "&patient_id=2".to_owned(),
            vec![],
            vec![],
            vec![anna_away],
            vec![lunch, anna_break],
            vec![anna],
        ),
    ];
    for (client, filter, appointments, operations, absences, breaks, doctors) in cases {
        let body = calendar(client, "week", &format!("date=2030-01-16{filter}")).await;
        let who = client
            .user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default();
        assert_eq!(ids(&body["appointments"]), appointments, "{who} {filter}");
        assert_eq!(ids(&body["operations"]), operations, "{who} {filter}");
        assert_eq!(ids(&body["absences"]), absences, "{who} {filter}");
        assert_eq!(ids(&body["breaks"]), breaks, "{who} {filter}");
        assert_eq!(ids(&body["available_doctors"]), doctors, "{who} {filter}");
        let booked: Vec<i64> = body["resource_bookings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["appointment_id"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = appointments
            .iter()
            .copied()
            .filter(|id| *id == a1)
            .collect();
        assert_eq!(booked, expected, "{who} {filter}");
    }
    app.stop().await;
}

// ---- calendar: ranges -------------------------------------------------------------------------

#[tokio::test]
async fn calendar_ranges_are_the_local_day_the_monday_to_sunday_week_and_the_month() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    // Crossing into Monday 2030-01-14 from Sunday, inside, and crossing out of Sunday 01-20.
    let into = appointment_row(
        &app,
        anna,
        1,
        berlin(2030, 1, 13, 23, 30),
        berlin(2030, 1, 14, 0, 15),
        &[],
    )
    .await;
    let before = appointment_row(
        &app,
        practice.other_doctor.id,
        2,
        berlin(2030, 1, 13, 22, 0),
        berlin(2030, 1, 14, 0, 0),
        &[],
    )
    .await;
    let inside = appointment_row(
        &app,
        anna,
        1,
        berlin(2030, 1, 16, 9, 0),
        berlin(2030, 1, 16, 9, 30),
        &[],
    )
    .await;
    let last = appointment_row(
        &app,
        anna,
        1,
        berlin(2030, 1, 20, 23, 45),
        berlin(2030, 1, 21, 0, 15),
        &[],
    )
    .await;
    let after = appointment_row(
        &app,
        anna,
        2,
        berlin(2030, 1, 21, 0, 15),
        berlin(2030, 1, 21, 1, 0),
        &[],
    )
    .await;
    let february = appointment_row(
        &app,
        anna,
        2,
        berlin(2030, 2, 1, 0, 0),
        berlin(2030, 2, 1, 0, 30),
        &[],
    )
    .await;
    let cases = [
        (
            "day",
            "2030-01-14",
            "2030-01-14T00:00:00+01:00",
            "2030-01-14T23:59:59.999999+01:00",
            vec![into],
        ),
        (
            "day",
            "2030-1-20",
            "2030-01-20T00:00:00+01:00",
            "2030-01-20T23:59:59.999999+01:00",
            vec![last],
        ),
        (
            "week",
            "2030-01-14",
            "2030-01-14T00:00:00+01:00",
            "2030-01-20T23:59:59.999999+01:00",
            vec![into, inside, last],
        ),
        (
            "week",
            "2030-01-16",
            "2030-01-14T00:00:00+01:00",
            "2030-01-20T23:59:59.999999+01:00",
            vec![into, inside, last],
        ),
        (
            "week",
            "2030-01-20",
            "2030-01-14T00:00:00+01:00",
            "2030-01-20T23:59:59.999999+01:00",
            vec![into, inside, last],
        ),
        (
            "week",
            "2030-01-21",
            "2030-01-21T00:00:00+01:00",
            "2030-01-27T23:59:59.999999+01:00",
            vec![last, after],
        ),
        (
            "month",
            "2030-01-31",
            "2030-01-01T00:00:00+01:00",
            "2030-01-31T23:59:59.999999+01:00",
            vec![before, into, inside, last, after],
        ),
        (
            "month",
            "2030-02-14",
            "2030-02-01T00:00:00+01:00",
            "2030-02-28T23:59:59.999999+01:00",
            vec![february],
        ),
    ];
    for (view, date, start, end, expected) in cases {
        let body = calendar(&admin, view, &format!("date={date}")).await;
        assert_eq!(body["range_start"], start, "{view} {date}");
        assert_eq!(body["range_end"], end, "{view} {date}");
        assert_eq!(ids(&body["appointments"]), expected, "{view} {date}");
    }
    app.stop().await;
}

#[tokio::test]
async fn av_21_calendar_week_containing_the_spring_dst_change_is_one_hour_short() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    let sunday_before = appointment_row(
        &app,
        anna,
        1,
        berlin(2026, 3, 22, 23, 30),
        berlin(2026, 3, 22, 23, 45),
        &[],
    )
    .await;
    let monday = appointment_row(
        &app,
        anna,
        1,
        berlin(2026, 3, 23, 0, 0),
        berlin(2026, 3, 23, 0, 15),
        &[],
    )
    .await;
    // 01:30 CET to 03:30 CEST: one real hour across the gap.
    let across_gap = appointment_row(
        &app,
        anna,
        2,
        berlin(2026, 3, 29, 1, 30),
        berlin(2026, 3, 29, 3, 30),
        &[],
    )
    .await;
    let sunday_late = appointment_row(
        &app,
        anna,
        1,
        berlin(2026, 3, 29, 23, 30),
        berlin(2026, 3, 29, 23, 45),
        &[],
    )
    .await;
    let next_monday = appointment_row(
        &app,
        anna,
        1,
        berlin(2026, 3, 30, 0, 0),
        berlin(2026, 3, 30, 0, 15),
        &[],
    )
    .await;

    let body = calendar(&admin, "week", "date=2026-03-25").await;
    assert_eq!(body["range_start"], "2026-03-23T00:00:00+01:00");
    assert_eq!(body["range_end"], "2026-03-29T23:59:59.999999+02:00");
    assert_eq!(
        ids(&body["appointments"]),
        [monday, across_gap, sunday_late]
    );
    let gap = &body["appointments"][1];
    assert_eq!(gap["start_time"], "2026-03-29T01:30:00+01:00");
    assert_eq!(gap["end_time"], "2026-03-29T03:30:00+02:00");

    let body = calendar(&admin, "day", "date=2026-03-29").await;
    assert_eq!(body["range_start"], "2026-03-29T00:00:00+01:00");
    assert_eq!(body["range_end"], "2026-03-29T23:59:59.999999+02:00");
    assert_eq!(ids(&body["appointments"]), [across_gap, sunday_late]);

    let body = calendar(&admin, "week", "date=2026-03-30").await;
    assert_eq!(body["range_start"], "2026-03-30T00:00:00+02:00");
    assert_eq!(ids(&body["appointments"]), [next_monday]);
    let body = calendar(&admin, "week", "date=2026-03-22").await;
    assert_eq!(body["range_end"], "2026-03-22T23:59:59.999999+01:00");
    assert_eq!(ids(&body["appointments"]), [sunday_before]);

    let body = calendar(&admin, "month", "date=2026-03-01").await;
    assert_eq!(body["range_start"], "2026-03-01T00:00:00+01:00");
    assert_eq!(body["range_end"], "2026-03-31T23:59:59.999999+02:00");
    assert_eq!(
        ids(&body["appointments"]),
        [sunday_before, monday, across_gap, sunday_late, next_monday]
    );

    // Autumn: the day of the fold lasts 25 hours and ends in winter time.
    let body = calendar(&admin, "day", "date=2026-10-25").await;
    assert_eq!(body["range_start"], "2026-10-25T00:00:00+02:00");
    assert_eq!(body["range_end"], "2026-10-25T23:59:59.999999+01:00");
    app.stop().await;
}

// ---- calendar: bad input ----------------------------------------------------------------------

#[tokio::test]
async fn calendar_rejects_bad_query_parameters_with_400_naming_them() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        ("", "date query parameter is required (YYYY-MM-DD)."),
        ("date=", "date query parameter is required (YYYY-MM-DD)."),
        ("date=abc", "date must be in format YYYY-MM-DD."),
        ("date=2043-02-30", "date must be in format YYYY-MM-DD."),
        (
            "date=2030-01-14T00:00",
            "date must be in format YYYY-MM-DD.",
        ),
        (
            "date=2030-01-14&doctor_id=x",
            "doctor_id must be an integer.",
        ),
        (
            "date=2030-01-14&patient_id=1.5",
            "patient_id must be an integer.",
        ),
        // Invalid UTF-8 (`%FF`) is refused before the view: see robustness.rs.
        (
            "date=2030-01-14&type_id=%C3%BC",
            "type_id must be an integer.",
        ),
    ];
    for view in VIEWS {
        for (query, detail) in cases {
            let res = admin.get(&format!("/api/calendar/{view}/?{query}")).await;
            assert_eq!(res.status, 400, "{view}?{query}: {}", res.text);
            assert_eq!(res.body, json!({"detail": detail}), "{view}?{query}");
        }
    }
    assert!(
        app.store()
            .audit_log(Some("calendar_day"), 5)
            .await
            .unwrap()
            .is_empty()
    );
    // Without zero padding the date is accepted, as in the original.
    let body = calendar(&admin, "day", "date=2043-3-2").await;
    assert_eq!(body["range_start"], "2043-03-02T00:00:00+01:00");
    app.stop().await;
}

// ---- calendar: statement count ----------------------------------------------------------------

#[tokio::test]
async fn vw_107_calendar_statement_count_does_not_grow_with_rows_days_or_doctors() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let tz = chrono_tz::Europe::Berlin;
    let now = utc(0, 0, 0) - chrono::Duration::days(30);
    let op_type = operation_type(&app, "Eingriff").await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    // One of everything on the Monday.
    appointment_row(&app, anna, 1, utc(0, 9, 0), utc(0, 9, 30), &[practice.room]).await;
    operation(
        &app,
        op_type,
        2,
        (bert, None, None),
        practice.other_room,
        &[practice.device],
        utc(0, 10, 0),
        utc(0, 10, 50),
    )
    .await;
    absence(&app, anna, day(0), day(0)).await;
    practice_break(&app, None, day(0), time(12, 0), time(12, 30)).await;

    let (conn, count) = counting_connection(&app);
    let run = |view: CalendarView, filter: CalendarFilter| {
        let conn = conn.clone();
        let count = count.clone();
        async move {
            count.store(0, Ordering::SeqCst);
            let range = CalendarRange::new(view, day(0), tz).unwrap();
            let data = read_calendar(&conn, tz, &range, &filter, now)
                .await
                .unwrap();
            (count.load(Ordering::SeqCst), data)
        }
    };
    let (small, data) = run(CalendarView::Day, CalendarFilter::default()).await;
    assert_eq!(
        (
            data.appointments.len(),
            data.operations.len(),
            data.doctors.len()
        ),
        (1, 1, 2)
    );

    // A busy month: four more doctors, ~100 appointments, operations, absences and breaks.
    let mut doctors = vec![anna, bert];
    for idx in 0..4 {
        let user = app
            .create_user(&format!("dr.extra{idx}"), Some(Role::Doctor))
            .await;
        for weekday in 0..5 {
            doctor_hours(&app, user.id, weekday, time(8, 0), time(17, 0)).await;
        }
        doctors.push(user.id);
    }
    for offset in 1..17 {
        for (slot, doctor) in doctors.iter().enumerate() {
            let hour = 8 + u32::try_from(slot).unwrap();
            let patient = practice.patients[slot % 4];
            appointment_row(
                &app,
                *doctor,
                patient,
                utc(offset, hour, 0),
                utc(offset, hour, 30),
                &[practice.room, practice.device],
            )
            .await;
        }
        operation(
            &app,
            op_type,
            3,
            (anna, Some(bert), None),
            practice.other_room,
            &[practice.device],
            utc(offset, 16, 0),
            utc(offset, 16, 50),
        )
        .await;
        absence(
            &app,
            doctors[usize::try_from(offset).unwrap() % 6],
            day(offset),
            day(offset),
        )
        .await;
        practice_break(&app, Some(doctors[2]), day(offset), time(7, 0), time(7, 30)).await;
    }
    let (big, data) = run(CalendarView::Month, CalendarFilter::default()).await;
    assert!(data.appointments.len() > 90, "{}", data.appointments.len());
    assert_eq!(data.doctors.len(), 6);
    assert_eq!(
        small, big,
        "statements must not depend on rows, days or doctors"
    );
    // One more than before issue #14: the closed days (holiday region + overrides, one join).
    assert!((7..=15).contains(&big), "{big} statements");

    // Filters do not add statements either.
    let filter = CalendarFilter {
        doctor_id: Some(bert),
        patient_id: Some(3),
        type_id: None,
        own_doctor: None,
    };
    let (filtered, _) = run(CalendarView::Month, filter).await;
    assert!(filtered <= big, "{filtered} statements");
    app.stop().await;
}

// ---- availability -----------------------------------------------------------------------------

fn window(from: (u32, u32, u32), to: (u32, u32, u32)) -> String {
    let iso = |(d, h, m): (u32, u32, u32)| utc(d, h, m).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    format!("/api/availability/?start={}&end={}", iso(from), iso(to))
}

#[tokio::test]
async fn availability_requires_a_clinical_role() {
    let app = TestApp::spawn().await;
    let path = window((0, 10, 0), (0, 10, 30));
    let cases = [
        ("admin", app.as_role(Role::Admin).await, 200),
        ("assistant", app.as_role(Role::Assistant).await, 200),
        ("doctor", app.as_role(Role::Doctor).await, 200),
        ("billing", app.as_role(Role::Billing).await, 403),
        ("no role", app.as_no_role().await, 403),
    ];
    for (who, client, status) in &cases {
        let res = client.get(&path).await;
        assert_eq!(res.status, *status, "{who}: {}", res.text);
        if *status == 200 {
            assert_eq!(
                keys(&res.body),
                ["available_doctors", "available_rooms", "available_patients"]
            );
        } else {
            assert_eq!(
                res.body,
                json!({"detail": "You do not have permission to perform this action."})
            );
        }
        assert_eq!(
            client.post(&path, &json!({})).await.status,
            403,
            "{who} POST"
        );
    }
    assert_eq!(app.anonymous().get(&path).await.status, 401);
    assert_eq!(app.anonymous().post(&path, &json!({})).await.status, 401);
    // Denied calls leave no audit row; each allowed one writes availability_view.
    let audit = app
        .store()
        .audit_log(Some("availability_view"), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].patient_id, None);
    app.stop().await;
}

#[tokio::test]
async fn cf_64_availability_excludes_the_busy_doctor_room_and_patient() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let mut body = practice.booking(anna, 1, (0, 10, 0), (0, 10, 30));
    body["resource_ids"] = json!([practice.room]);
    practice.book(&admin, &body).await;

    let res = admin.get(&window((0, 10, 15), (0, 10, 45))).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(ids(&res.body["available_doctors"]), [bert]);
    assert_eq!(
        res.body["available_doctors"][0],
        json!({"id": bert, "name": practice.other_doctor.display_name(), "calendar_color": practice.other_doctor.calendar_color})
    );
    // Rooms only (the device never appears), ordered by name.
    assert_eq!(
        res.body["available_rooms"],
        json!([{"id": practice.other_room, "name": "OP-1", "type": "room"}])
    );
    assert_eq!(ids(&res.body["available_patients"]), [2, 3, 4]);
    assert_eq!(
        res.body["available_patients"][0],
        json!({"id": 2, "first_name": "P", "last_name": "Patient2", "display_name": "Patient2, P"})
    );

    // Touching the booking is free again.
    let res = admin.get(&window((0, 10, 30), (0, 11, 0))).await;
    assert_eq!(ids(&res.body["available_doctors"]), [anna, bert]);
    assert_eq!(
        ids(&res.body["available_rooms"]),
        [practice.room, practice.other_room]
    );
    assert_eq!(ids(&res.body["available_patients"]), [1, 2, 3, 4]);

    // An operation occupies its whole team, its room and its patient.
    let op_type = operation_type(&app, "Eingriff").await;
    operation(
        &app,
        op_type,
        3,
        (bert, None, Some(anna)),
        practice.other_room,
        &[practice.device],
        utc(0, 11, 0),
        utc(0, 11, 50),
    )
    .await;
    let res = admin.get(&window((0, 11, 30), (0, 12, 0))).await;
    assert_eq!(ids(&res.body["available_doctors"]), Vec::<i64>::new());
    assert_eq!(ids(&res.body["available_rooms"]), [practice.room]);
    assert_eq!(ids(&res.body["available_patients"]), [1, 2, 4]);

    // Hours, absences and breaks count too.
    absence(&app, bert, day(1), day(1)).await;
    practice_break(&app, Some(anna), day(1), time(9, 0), time(9, 30)).await;
    let res = admin.get(&window((1, 9, 0), (1, 9, 30))).await;
    assert_eq!(ids(&res.body["available_doctors"]), Vec::<i64>::new());
    let res = admin.get(&window((1, 9, 30), (1, 10, 0))).await;
    assert_eq!(ids(&res.body["available_doctors"]), [anna]);
    let res = admin.get(&window((0, 16, 45), (0, 17, 15))).await;
    assert_eq!(
        ids(&res.body["available_doctors"]),
        Vec::<i64>::new(),
        "past closing time"
    );
    let res = admin.get(&window((5, 10, 0), (5, 10, 30))).await;
    assert_eq!(
        ids(&res.body["available_doctors"]),
        Vec::<i64>::new(),
        "Saturday"
    );
    assert_eq!(
        ids(&res.body["available_rooms"]),
        [practice.room, practice.other_room]
    );
    app.stop().await;
}

#[tokio::test]
async fn cf_65_availability_honours_exclude_appointment_id() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let (anna, bert) = (practice.doctor.id, practice.other_doctor.id);
    let mut body = practice.booking(anna, 1, (0, 10, 0), (0, 10, 30));
    body["resource_ids"] = json!([practice.room]);
    let booked = practice.book(&admin, &body).await;
    let path = window((0, 10, 0), (0, 10, 30));
    let cases = [
        (
            format!("&exclude_appointment_id={booked}"),
            vec![anna, bert],
            vec![practice.room, practice.other_room],
            vec![1, 2, 3, 4],
        ),
        (
            "&exclude_appointment_id=abc".to_owned(),
            vec![bert],
            vec![practice.other_room],
            vec![2, 3, 4],
        ),
        (
            "&exclude_appointment_id=424242".to_owned(),
            vec![bert],
            vec![practice.other_room],
            vec![2, 3, 4],
        ),
    ];
    for (extra, doctors, rooms, patients) in cases {
        let res = admin.get(&format!("{path}{extra}")).await;
        assert_eq!(res.status, 200, "{extra}: {}", res.text);
        assert_eq!(ids(&res.body["available_doctors"]), doctors, "{extra}");
        assert_eq!(ids(&res.body["available_rooms"]), rooms, "{extra}");
        assert_eq!(ids(&res.body["available_patients"]), patients, "{extra}");
    }
    app.stop().await;
}

#[tokio::test]
async fn cf_66_availability_rejects_missing_unparsable_or_inverted_bounds() {
    let app = TestApp::spawn().await;
    let doctor = app.as_role(Role::Doctor).await;
    let cases = [
        (
            "",
            "start and end query parameters are required (ISO datetime format).",
        ),
        (
            "?start=2030-01-14T10:00:00Z",
            "start and end query parameters are required (ISO datetime format).",
        ),
        (
            "?end=2030-01-14T10:00:00Z",
            "start and end query parameters are required (ISO datetime format).",
        ),
        (
            "?start=abc&end=2030-01-14T10:00:00Z",
            "Invalid datetime format: Invalid isoformat string: 'abc'",
        ),
        (
            "?start=2030-01-14T10:00:00Z&end=2030-01-14T10:00:00Z",
            "end_time must be after start_time",
        ),
        (
            "?start=2030-01-14T10:00:00Z&end=2030-01-14T09:00:00Z",
            "end_time must be after start_time",
        ),
        (
            "?start=2030-01-01T00:00:00Z&end=2032-01-01T00:00:00Z",
            "The range from start to end must not exceed 366 days.",
        ),
    ];
    for (query, detail) in cases {
        let res = doctor.get(&format!("/api/availability/{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.body, json!({"detail": detail}), "{query}");
    }
    // Naive times are practice wall-clock time: 10:00 Berlin is 09:00Z in winter.
    let res = doctor
        .get("/api/availability/?start=2030-01-14T10:00&end=2030-01-14T10:30")
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn availability_lists_at_most_fifty_free_patients_narrowed_by_q() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let anna = practice.doctor.id;
    // 60 patients sorting before the fixture's four; the first three are busy.
    for idx in 0..60 {
        let last = if idx < 12 {
            format!("Aaberg{idx:02}")
        } else {
            format!("Abel{idx:02}")
        };
        patient_row(
            &app,
            100 + idx,
            "Eva",
            &last,
            NaiveDate::from_ymd_opt(1980, 5, 17),
        )
        .await;
    }
    for (idx, patient) in [100, 101, 102].into_iter().enumerate() {
        let start = 9 * 60 + 20 * u32::try_from(idx).unwrap();
        appointment_row(
            &app,
            anna,
            patient,
            utc(0, start / 60, start % 60),
            utc(0, (start + 20) / 60, (start + 20) % 60),
            &[],
        )
        .await;
    }
    let path = window((0, 9, 0), (0, 10, 0));
    let res = admin.get(&path).await;
    let listed = ids(&res.body["available_patients"]);
    assert_eq!(
        listed.len(),
        usize::try_from(AVAILABLE_PATIENTS_LIMIT).unwrap()
    );
    assert_eq!(
        listed,
        (103..153).collect::<Vec<i64>>(),
        "busy ones skipped, the cap still filled"
    );
    assert_eq!(
        res.body["available_patients"][0]["display_name"],
        "Aaberg03, Eva (17.05.1980)"
    );

    let cases = [
        ("aaberg", (103..112).collect::<Vec<i64>>()),
        ("ABERG1", vec![110, 111]),
        ("150", vec![150]),
        ("101", vec![]),
        ("nobody", vec![]),
        ("%", vec![]),
    ];
    for (q, expected) in cases {
        let res = admin.get(&format!("{path}&q={q}")).await;
        assert_eq!(res.status, 200, "{q}: {}", res.text);
        assert_eq!(ids(&res.body["available_patients"]), expected, "{q}");
    }
    let audit = app
        .store()
        .audit_log(Some("availability_view"), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].meta.as_ref().unwrap()["q_length"], 1);
    app.stop().await;
}

#[tokio::test]
async fn availability_statement_count_does_not_grow_with_patients_or_bookings() {
    let app = TestApp::spawn().await;
    let practice = Practice::new(&app).await;
    let tz = chrono_tz::Europe::Berlin;
    let op_type = operation_type(&app, "Eingriff").await;
    appointment_row(
        &app,
        practice.doctor.id,
        1,
        utc(0, 9, 0),
        utc(0, 9, 30),
        &[practice.room],
    )
    .await;
    operation(
        &app,
        op_type,
        2,
        (practice.other_doctor.id, None, None),
        practice.other_room,
        &[practice.device],
        utc(0, 9, 0),
        utc(0, 9, 50),
    )
    .await;
    let (conn, count) = counting_connection(&app);
    let query = AvailabilityQuery {
        interval: praxi_domain::scheduling::Interval::new(utc(0, 9, 0), utc(0, 10, 0)).unwrap(),
        exclude_appointment: None,
        patient_search: None,
        patient_limit: AVAILABLE_PATIENTS_LIMIT,
    };
    let found = read_availability(&conn, tz, &query).await.unwrap();
    assert_eq!(found.patients.len(), 2);
    let small = count.swap(0, Ordering::SeqCst);

    for idx in 0..80 {
        patient_row(&app, 1000 + idx, "Max", &format!("Muster{idx:02}"), None).await;
    }
    for idx in 0..12 {
        let start = 9 * 60 + 10 * idx;
        let (from, to) = (
            utc(1, start / 60, start % 60),
            utc(1, (start + 10) / 60, (start + 10) % 60),
        );
        appointment_row(
            &app,
            practice.doctor.id,
            1000 + i32::try_from(idx).unwrap(),
            from,
            to,
            &[practice.room],
        )
        .await;
    }
    let query = AvailabilityQuery {
        interval: praxi_domain::scheduling::Interval::new(utc(0, 8, 0), utc(2, 17, 0)).unwrap(),
        ..query
    };
    let found = read_availability(&conn, tz, &query).await.unwrap();
    assert_eq!(found.patients.len(), 50);
    let big = count.load(Ordering::SeqCst);
    assert_eq!(
        small, big,
        "statements must not depend on patients or bookings"
    );
    // One more than before issue #14: the closed days (holiday region + overrides, one join).
    assert!((7..=12).contains(&big), "{big} statements");
    app.stop().await;
}
