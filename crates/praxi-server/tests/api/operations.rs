//! `/api/operations/` (api.md §3.7, scheduling.md §3.5, §4, §8.4). Tests covering a scenario
//! of the scheduling catalogue §8.4 are named `op_<n>_…`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]

use chrono::Utc;
use praxi_domain::Role;
use praxi_store::entity;
use praxi_store::users::UserRecord;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};

use crate::fixtures::{
    Practice, absence, at, day, doctor_hours, practice_break, practice_hours, time, utc,
};
use crate::helpers::{Client, TestApp};

const DUPLICATE: &str = "Eine Person kann im OP-Team nur eine Rolle übernehmen.";

/// The practice of the fixtures plus a third doctor (Mon–Fri 08:00–17:00) and an operation
/// type of 10 + 30 + 10 minutes.
struct Theatre {
    practice: Practice,
    third: UserRecord,
    op_type: i64,
}

impl Theatre {
    async fn new(app: &TestApp) -> Theatre {
        let practice = Practice::new(app).await;
        let third = app.create_user("dr.cora", Some(Role::Doctor)).await;
        for weekday in 0..5 {
            doctor_hours(app, third.id, weekday, time(8, 0), time(17, 0)).await;
        }
        let op_type = insert_type(app, "Kleiner Eingriff", 10, 30, 10).await;
        Theatre {
            practice,
            third,
            op_type,
        }
    }

    fn a(&self) -> i64 {
        self.practice.doctor.id
    }

    fn b(&self) -> i64 {
        self.practice.other_doctor.id
    }

    fn c(&self) -> i64 {
        self.third.id
    }

    /// A create body: surgeon `surgeon` alone, patient, the OP room (`other_room`), no devices,
    /// starting on day `day` (0 = MONDAY) at `h:m`.
    fn body(&self, surgeon: i64, patient: i32, (d, h, m): (u32, u32, u32)) -> Value {
        json!({
            "patient_id": patient,
            "primary_surgeon": surgeon,
            "op_room": self.practice.other_room,
            "op_type": self.op_type,
            "start_time": at(d, h, m),
        })
    }

    /// The same with a full team.
    fn team_body(&self, team: (i64, i64, i64), patient: i32, start: (u32, u32, u32)) -> Value {
        let mut body = self.body(team.0, patient, start);
        body["assistant"] = json!(team.1);
        body["anesthesist"] = json!(team.2);
        body
    }
}

async fn insert_type(app: &TestApp, name: &str, prep: i32, op: i32, post: i32) -> i64 {
    entity::operation_type::ActiveModel {
        name: Set(name.to_owned()),
        prep_duration: Set(prep),
        op_duration: Set(op),
        post_duration: Set(post),
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

async fn set_type(
    app: &TestApp,
    id: i64,
    change: impl FnOnce(&mut entity::operation_type::ActiveModel),
) {
    let mut model = entity::operation_type::Entity::find_by_id(id)
        .one(app.store().conn())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    change(&mut model);
    model.update(app.store().conn()).await.unwrap();
}

async fn deactivate_resource(app: &TestApp, id: i64) {
    let mut model = entity::resource::Entity::find_by_id(id)
        .one(app.store().conn())
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    model.active = Set(false);
    model.update(app.store().conn()).await.unwrap();
}

/// POSTs and expects 201; returns the id.
async fn plan(client: &Client<'_>, body: &Value) -> i64 {
    let res = client.post("/api/operations/", body).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text);
    res.body["id"].as_i64().unwrap()
}

/// POSTs and expects the "Operation conflict" body; returns `(reason, who)`.
async fn refused(client: &Client<'_>, body: &Value) -> (String, Option<String>) {
    let res = client.post("/api/operations/", body).await;
    assert_eq!(res.status, 400, "{body}: {}", res.text);
    assert_eq!(
        res.body["detail"],
        json!(["Operation conflict"]),
        "{}",
        res.text
    );
    assert_eq!(res.body["code"], "operation_conflict");
    let reason = res.body["reason"][0].as_str().unwrap().to_owned();
    (reason, res.body["who"].as_str().map(str::to_owned))
}

fn path(id: i64) -> String {
    format!("/api/operations/{id}/")
}

#[tokio::test]
async fn op_68_create_derives_the_end_from_the_type_and_returns_the_read_shape() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let assistant = app.as_role(Role::Assistant).await;
    let mut body = theatre.body(theatre.a(), 1, (0, 10, 0));
    body["assistant"] = json!(theatre.b());
    body["op_device_ids"] = json!([p.device, p.device]);
    body["end_time"] = json!("2000-01-01T00:00:00Z");
    body["notes"] = json!("Knie links");
    let res = assistant.post("/api/operations/", &body).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let keys: Vec<&str> = res
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
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
    let op_type_keys: Vec<&str> = res.body["op_type"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        op_type_keys,
        [
            "id",
            "name",
            "color",
            "prep_duration",
            "op_duration",
            "post_duration"
        ]
    );
    let room_keys: Vec<&str> = res.body["op_room"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        room_keys,
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
    let team_keys: Vec<&str> = res.body["team"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(team_keys, ["primary_surgeon", "assistant", "anesthesist"]);
    assert_eq!(res.body["patient_id"], 1);
    assert_eq!(res.body["patient_name"], "Patient1, P");
    assert_eq!(
        res.body["op_type"],
        json!({"id": theatre.op_type, "name": "Kleiner Eingriff", "color": "#445566",
               "prep_duration": 10, "op_duration": 30, "post_duration": 10})
    );
    assert_eq!(res.body["op_room"]["name"], "OP-1");
    assert_eq!(res.body["op_room"]["type"], "room");
    assert_eq!(
        res.body["op_devices"].as_array().unwrap().len(),
        1,
        "duplicates collapsed"
    );
    assert_eq!(res.body["op_devices"][0]["id"], p.device);
    assert_eq!(
        res.body["team"]["primary_surgeon"],
        json!({"id": theatre.a(), "name": "First dr.anna Last dr.anna", "color": p.doctor.calendar_color})
    );
    assert_eq!(res.body["team"]["assistant"]["id"], theatre.b());
    assert_eq!(res.body["team"]["anesthesist"], Value::Null);
    assert_eq!(res.body["start_time"], "2030-01-14T10:00:00+01:00");
    assert_eq!(
        res.body["end_time"], "2030-01-14T10:50:00+01:00",
        "body end_time is ignored"
    );
    assert_eq!(res.body["color"], "#445566");
    assert_eq!(res.body["status"], "planned");
    assert_eq!(res.body["notes"], "Knie links");
    let id = res.body["id"].as_i64().unwrap();

    let audit = app
        .store()
        .audit_log(Some("operation_create"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].patient_id, Some(1));
    assert_eq!(audit[0].role_name, "assistant");
    let events = app.store().operation_status_events(id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].from_status.as_deref(),
            events[0].to_status.as_str()
        ),
        (None, "planned")
    );
    assert_eq!(events[0].user_id, Some(assistant.user_id()));

    let detail = assistant.get(&path(id)).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body, res.body);
    assert_eq!(
        app.store()
            .audit_log(Some("operation_view"), 5)
            .await
            .unwrap()[0]
            .patient_id,
        Some(1)
    );
    let list = assistant.get("/api/operations/").await;
    assert_eq!(list.body, json!([res.body]));
    assert_eq!(
        app.store()
            .audit_log(Some("operation_list"), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        assistant.get(&path(id + 100)).await.body,
        json!({"detail": "No Operation matches the given query."})
    );
    app.stop().await;
}

#[tokio::test]
async fn op_69_room_double_booking_is_an_operation_conflict_and_audited() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let first = plan(&admin, &theatre.body(theatre.a(), 1, (0, 10, 0))).await;
    let res = admin
        .post(
            "/api/operations/",
            &theatre.body(theatre.b(), 2, (0, 10, 30)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({
            "detail": ["Operation conflict"], "reason": ["room_conflict"], "code": "operation_conflict",
            "resource_id": theatre.practice.other_room, "conflict": {"model": "Operation", "id": first}
        })
    );
    let audit = app
        .store()
        .audit_log(Some("operation_conflict"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].patient_id, Some(2));
    assert_eq!(audit[0].meta, Some(json!({"reason": "room_conflict"})));
    // Touching is fine.
    plan(&admin, &theatre.body(theatre.b(), 2, (0, 10, 50))).await;
    app.stop().await;
}

#[tokio::test]
async fn op_69_78_room_and_device_conflicts_answer_in_the_original_order() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let blocker = app.create_user("dr.dora", Some(Role::Doctor)).await;
    let conn = app.store().conn();
    let operation = |room: i64, patient: i32| entity::operation::ActiveModel {
        patient_id: Set(patient),
        primary_surgeon_id: Set(blocker.id),
        op_room_id: Set(room),
        op_type_id: Set(theatre.op_type),
        start_time: Set(utc(0, 9, 0)),
        end_time: Set(utc(0, 9, 50)),
        prep_duration: Set(10),
        op_duration: Set(30),
        post_duration: Set(10),
        status: Set("planned".to_owned()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let appointment = |from: (u32, u32), to: (u32, u32)| entity::appointment::ActiveModel {
        patient_id: Set(3),
        doctor_id: Set(blocker.id),
        start_time: Set(utc(0, from.0, from.1)),
        end_time: Set(utc(0, to.0, to.1)),
        status: Set("scheduled".to_owned()),
        is_no_show: Set(false),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    // Blockers written directly: the API would (rightly) refuse to create them together.
    let room_op = operation(p.other_room, 2).insert(conn).await.unwrap().id;
    let room_appointment = appointment((9, 0), (9, 20)).insert(conn).await.unwrap().id;
    entity::appointment_resource::ActiveModel {
        appointment_id: Set(room_appointment),
        resource_id: Set(p.other_room),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let device_op = operation(p.room, 4).insert(conn).await.unwrap().id;
    entity::operation_device::ActiveModel {
        operation_id: Set(device_op),
        resource_id: Set(p.device),
        resource_type: Set("device".to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let device_appointment = appointment((9, 25), (9, 45)).insert(conn).await.unwrap().id;
    entity::appointment_resource::ActiveModel {
        appointment_id: Set(device_appointment),
        resource_id: Set(p.device),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();

    let mut body = theatre.team_body((theatre.a(), theatre.b(), theatre.c()), 1, (0, 9, 0));
    body["op_device_ids"] = json!([p.device]);
    let steps = [
        ("room_conflict", format!("/api/operations/{room_op}/")),
        (
            "room_conflict_with_appointments",
            format!("/api/appointments/{room_appointment}/"),
        ),
        ("device_conflict", format!("/api/operations/{device_op}/")),
        (
            "device_conflict_with_appointments",
            format!("/api/appointments/{device_appointment}/"),
        ),
    ];
    for (reason, blocking) in steps {
        let res = admin.post("/api/operations/", &body).await;
        assert_eq!(res.status, 400, "{reason}: {}", res.text);
        assert_eq!(res.body["reason"], json!([reason]), "{}", res.text);
        assert!(res.body.get("who").is_none(), "{}", res.text);
        assert_eq!(admin.delete(&blocking).await.status, 204, "{blocking}");
    }
    plan(&admin, &body).await;
    assert_eq!(
        app.store()
            .audit_log(Some("operation_conflict"), 10)
            .await
            .unwrap()
            .len(),
        4
    );
    app.stop().await;
}

/// §3.5 item 7: hours, absence, break, appointment, operation — for each team role, with the
/// role named in the additive `who`.
#[tokio::test]
async fn op_75_76_77_every_team_member_reason_names_the_role() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let (a, b, c) = (theatre.a(), theatre.b(), theatre.c());
    // Saturday (day 5): practice and doctor hours for A and B only.
    practice_hours(&app, 5, time(8, 0), time(12, 0)).await;
    doctor_hours(&app, a, 5, time(8, 0), time(12, 0)).await;
    doctor_hours(&app, b, 5, time(8, 0), time(12, 0)).await;
    // Tuesday: C absent. Wednesday: C's own break. Thursday: C's appointment. Friday: C operates.
    absence(&app, c, day(1), day(1)).await;
    practice_break(&app, Some(c), day(2), time(9, 30), time(9, 40)).await;
    p.book(&admin, &p.booking(c, 2, (3, 9, 0), (3, 9, 30)))
        .await;
    let mut other = theatre.body(c, 3, (4, 9, 20));
    other["op_room"] = json!(p.room);
    plan(&admin, &other).await;

    let reasons = [
        (5, "hours_conflict"),
        (1, "absence_conflict"),
        (2, "break_conflict"),
        (3, "appointment_conflict"),
        (4, "operation_conflict"),
    ];
    let roles = [
        ("primary_surgeon", (c, a, b)),
        ("assistant", (a, c, b)),
        ("anesthesist", (a, b, c)),
    ];
    for (d, reason) in reasons {
        for (role, team) in roles {
            let (got, who) = refused(&admin, &theatre.team_body(team, 1, (d, 9, 0))).await;
            assert_eq!(
                (got.as_str(), who.as_deref()),
                (reason, Some(role)),
                "day {d}, {role}"
            );
        }
    }
    // Earlier roles answer first: B's break on Tuesday comes after C's absence when C assists,
    // before it when B assists.
    practice_break(&app, Some(b), day(1), time(9, 0), time(9, 10)).await;
    let (got, who) = refused(&admin, &theatre.team_body((a, c, b), 1, (1, 9, 0))).await;
    assert_eq!(
        (got.as_str(), who.as_deref()),
        ("absence_conflict", Some("assistant"))
    );
    let (got, who) = refused(&admin, &theatre.team_body((a, b, c), 1, (1, 9, 0))).await;
    assert_eq!(
        (got.as_str(), who.as_deref()),
        ("break_conflict", Some("assistant"))
    );
    // Hours before everything else of the same member.
    let (got, _) = refused(&admin, &theatre.team_body((c, a, b), 1, (5, 9, 0))).await;
    assert_eq!(got, "hours_conflict");
    let audit = app
        .store()
        .audit_log(Some("operation_conflict"), 50)
        .await
        .unwrap();
    assert_eq!(audit.len(), 18);
    assert_eq!(
        audit[0].meta,
        Some(json!({"reason": "hours_conflict", "who": "primary_surgeon"}))
    );
    app.stop().await;
}

#[tokio::test]
async fn one_members_reasons_come_in_hours_absence_break_appointment_operation_order() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let c = theatre.c();
    // Next Monday (day 7): C has an appointment, an operation, a break and is absent.
    let appointment = p
        .book(&admin, &p.booking(c, 2, (7, 9, 0), (7, 9, 20)))
        .await;
    let mut other = theatre.body(c, 3, (7, 9, 20));
    other["op_room"] = json!(p.room);
    let operation = plan(&admin, &other).await;
    let break_id = practice_break(&app, Some(c), day(7), time(9, 40), time(9, 45)).await;
    let absence_id = absence(&app, c, day(7), day(7)).await;
    let body = theatre.team_body((theatre.a(), c, theatre.b()), 1, (7, 9, 0));
    let conn = app.store().conn();

    assert_eq!(refused(&admin, &body).await.0, "absence_conflict");
    entity::doctor_absence::Entity::delete_by_id(absence_id)
        .exec(conn)
        .await
        .unwrap();
    assert_eq!(refused(&admin, &body).await.0, "break_conflict");
    entity::doctor_break::Entity::delete_by_id(break_id)
        .exec(conn)
        .await
        .unwrap();
    assert_eq!(refused(&admin, &body).await.0, "appointment_conflict");
    assert_eq!(
        admin
            .delete(&format!("/api/appointments/{appointment}/"))
            .await
            .status,
        204
    );
    assert_eq!(refused(&admin, &body).await.0, "operation_conflict");
    assert_eq!(admin.delete(&path(operation)).await.status, 204);
    plan(&admin, &body).await;
    app.stop().await;
}

#[tokio::test]
async fn op_71_a_type_without_duration_is_invalid_duration() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let empty = insert_type(&app, "Leer", 0, 0, 0).await;
    let mut body = theatre.body(theatre.a(), 2, (0, 10, 0));
    body["op_type"] = json!(empty);
    let res = admin.post("/api/operations/", &body).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"detail": ["Operation conflict"], "reason": ["invalid_duration"], "code": "operation_conflict"})
    );
    let audit = app
        .store()
        .audit_log(Some("operation_conflict"), 5)
        .await
        .unwrap();
    assert_eq!(audit[0].patient_id, Some(2));
    assert_eq!(audit[0].meta, Some(json!({"reason": "invalid_duration"})));
    // An inactive type is refused before its duration is looked at.
    set_type(&app, empty, |t| t.active = Set(false)).await;
    let res = admin.post("/api/operations/", &body).await;
    assert_eq!(res.body, json!({"op_type": ["op_type ist inaktiv."]}));
    app.stop().await;
}

#[tokio::test]
async fn op_72_field_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let billing_user = app.create_user("billy", Some(Role::Billing)).await;
    let retired = app.create_user("dr.alt", Some(Role::Doctor)).await;
    app.store()
        .set_user_active(retired.id, false)
        .await
        .unwrap();
    let inactive_room = crate::fixtures::resource(&app, "OP-alt", "room").await;
    deactivate_resource(&app, inactive_room).await;
    let inactive_device = crate::fixtures::resource(&app, "Laser-alt", "device").await;
    deactivate_resource(&app, inactive_device).await;
    let base = theatre.body(theatre.a(), 1, (0, 9, 0));
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let not_doctor = "Der Arzt muss die Rolle \"doctor\" haben.";
    let devices = "op_device_ids enthält unbekannte/inaktive/nicht-Gerät-Ressource(n).";
    let cases = [
        (
            with("patient_id", json!(0)),
            "patient_id",
            "patient_id muss positiv sein.",
        ),
        (
            with("patient_id", json!(-4)),
            "patient_id",
            "patient_id muss positiv sein.",
        ),
        (
            with("patient_id", json!("x")),
            "patient_id",
            "A valid integer is required.",
        ),
        (
            with("patient_id", json!(null)),
            "patient_id",
            "This field may not be null.",
        ),
        (
            with("patient_id", json!(999)),
            "patient_id",
            "Invalid pk \"999\" - object does not exist.",
        ),
        (
            with("primary_surgeon", json!(99999)),
            "primary_surgeon",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            with("primary_surgeon", json!(admin.user_id())),
            "primary_surgeon",
            not_doctor,
        ),
        (
            with("primary_surgeon", json!(retired.id)),
            "primary_surgeon",
            "primary_surgeon muss aktiv sein.",
        ),
        (
            with("assistant", json!(billing_user.id)),
            "assistant",
            not_doctor,
        ),
        (
            with("assistant", json!(99999)),
            "assistant",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            with("assistant", json!(retired.id)),
            "assistant",
            "assistant muss aktiv sein.",
        ),
        (
            with("anesthesist", json!(billing_user.id)),
            "anesthesist",
            not_doctor,
        ),
        (
            with("anesthesist", json!(retired.id)),
            "anesthesist",
            "anesthesist muss aktiv sein.",
        ),
        (
            with("assistant", json!(theatre.a())),
            "assistant",
            DUPLICATE,
        ),
        (
            with("op_room", json!(p.device)),
            "op_room",
            "op_room muss eine Ressource mit type=\"room\" sein.",
        ),
        (
            with("op_room", json!(inactive_room)),
            "op_room",
            "op_room muss aktiv sein.",
        ),
        (
            with("op_room", json!(99999)),
            "op_room",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            with("op_device_ids", json!([p.room])),
            "op_device_ids",
            devices,
        ),
        (
            with("op_device_ids", json!([inactive_device])),
            "op_device_ids",
            devices,
        ),
        (
            with("op_device_ids", json!([4242])),
            "op_device_ids",
            devices,
        ),
        (
            with("op_device_ids", json!("1,2")),
            "op_device_ids",
            "Expected a list of items.",
        ),
        (
            with("op_device_ids", json!(null)),
            "op_device_ids",
            "This field may not be null.",
        ),
        (
            with("op_type", json!(99999)),
            "op_type",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            with("start_time", json!("tomorrow")),
            "start_time",
            "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        (
            with("status", json!("bogus")),
            "status",
            "\"bogus\" is not a valid choice.",
        ),
        (with("surgeon", json!(1)), "surgeon", "Unknown field."),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/operations/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body, json!({ field: [message] }), "{body}");
    }
    let res = admin.post("/api/operations/", &json!({"notes": "x"})).await;
    assert_eq!(res.status, 400);
    for field in [
        "patient_id",
        "primary_surgeon",
        "op_room",
        "op_type",
        "start_time",
    ] {
        assert_eq!(
            res.body[field],
            json!(["This field is required."]),
            "{field}"
        );
    }
    // Several unknown references are all named at once.
    let mut body = with("op_room", json!(99998));
    body["op_type"] = json!(99997);
    let res = admin.post("/api/operations/", &body).await;
    assert_eq!(res.body.as_object().unwrap().len(), 2, "{}", res.text);
    // A starting status beyond planned/confirmed is a transition from nothing.
    let res = admin
        .post("/api/operations/", &with("status", json!("done")))
        .await;
    assert_eq!(
        res.body,
        json!({"detail": "Invalid status transition.", "from": null, "to": "done", "code": "invalid_transition"})
    );
    assert!(
        app.store()
            .audit_log(Some("operation_conflict"), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        admin
            .get("/api/operations/")
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn op_73_74_operations_must_fit_working_hours_on_one_day() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    // 16:20 + 50 min ends after closing time.
    let (reason, who) = refused(&admin, &theatre.body(theatre.a(), 1, (0, 16, 20))).await;
    assert_eq!(
        (reason.as_str(), who.as_deref()),
        ("hours_conflict", Some("primary_surgeon"))
    );
    // Across local midnight.
    let (reason, _) = refused(&admin, &theatre.body(theatre.a(), 1, (0, 23, 30))).await;
    assert_eq!(reason, "hours_conflict");
    // Ending exactly at closing time is fine.
    let res = admin
        .post(
            "/api/operations/",
            &theatre.body(theatre.a(), 1, (0, 16, 10)),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["end_time"], "2030-01-14T17:00:00+01:00");
    app.stop().await;
}

#[tokio::test]
async fn op_79_end_time_is_a_snapshot_refreshed_only_by_start_or_type_changes() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = plan(&admin, &theatre.body(theatre.a(), 1, (0, 10, 0))).await;
    // The type gets longer (30 → 60 minutes of surgery).
    set_type(&app, theatre.op_type, |t| t.op_duration = Set(60)).await;
    let res = admin.patch(&path(id), &json!({"notes": "nur Notiz"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["end_time"], "2030-01-14T10:50:00+01:00",
        "notes do not move the end"
    );
    assert_eq!(
        res.body["op_type"]["op_duration"], 30,
        "the operation keeps its snapshot"
    );
    // A PUT that echoes the same values does not move it either.
    let mut echo = theatre.body(theatre.a(), 1, (0, 10, 0));
    echo["end_time"] = res.body["end_time"].clone();
    let res = admin.put(&path(id), &echo).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["end_time"], "2030-01-14T10:50:00+01:00");
    // Moving the start takes a fresh snapshot: 10 + 60 + 10 minutes.
    let res = admin
        .patch(&path(id), &json!({"start_time": at(0, 11, 0)}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["end_time"], "2030-01-14T12:20:00+01:00");
    assert_eq!(res.body["op_type"]["op_duration"], 60);
    // Changing the type as well.
    let short = insert_type(&app, "Kurz", 0, 15, 5).await;
    let res = admin.patch(&path(id), &json!({"op_type": short})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["end_time"], "2030-01-14T11:20:00+01:00");
    assert_eq!(
        res.body["op_type"],
        json!({"id": short, "name": "Kurz", "color": "#445566", "prep_duration": 0, "op_duration": 15, "post_duration": 5})
    );
    assert_eq!(
        app.store()
            .audit_log(Some("operation_update"), 10)
            .await
            .unwrap()
            .len(),
        4
    );
    app.stop().await;
}

#[tokio::test]
async fn op_80_moving_an_operation_rechecks_its_stored_devices() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let mut first = theatre.body(theatre.a(), 1, (0, 10, 0));
    first["op_device_ids"] = json!([p.device]);
    plan(&admin, &first).await;
    let mut second = theatre.body(theatre.b(), 2, (0, 12, 0));
    second["op_room"] = json!(p.room);
    second["op_device_ids"] = json!([p.device]);
    let id = plan(&admin, &second).await;
    let res = admin
        .patch(&path(id), &json!({"start_time": at(0, 10, 20)}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["reason"], json!(["device_conflict"]));
    assert_eq!(res.body["resource_id"], p.device);
    // Without the device it fits; `[]` clears the set.
    let res = admin
        .patch(
            &path(id),
            &json!({"start_time": at(0, 10, 20), "op_device_ids": []}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["op_devices"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn op_81_the_same_user_cannot_hold_two_team_roles() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/operations/",
            &theatre.team_body((theatre.a(), theatre.b(), theatre.b()), 1, (0, 9, 0)),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"anesthesist": [DUPLICATE]}));
    let id = plan(&admin, &theatre.body(theatre.a(), 1, (0, 9, 0))).await;
    let res = admin
        .patch(&path(id), &json!({"assistant": theatre.a()}))
        .await;
    assert_eq!(res.body, json!({"assistant": [DUPLICATE]}));
    let res = admin
        .patch(
            &path(id),
            &json!({"assistant": theatre.b(), "anesthesist": theatre.c()}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.patch(&path(id), &json!({"anesthesist": null})).await;
    assert_eq!(res.body["team"]["anesthesist"], Value::Null);
    assert_eq!(res.body["team"]["assistant"]["id"], theatre.b());
    app.stop().await;
}

#[tokio::test]
async fn op_82_the_patient_must_be_free_on_create_and_on_update() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let appointment = p
        .book(&admin, &p.booking(theatre.c(), 1, (0, 10, 0), (0, 10, 30)))
        .await;
    let res = admin
        .post(
            "/api/operations/",
            &theatre.body(theatre.a(), 1, (0, 10, 0)),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({
            "detail": "Scheduling conflicts detected",
            "conflicts": [{"type": "patient_conflict", "model": "Appointment", "id": appointment,
                           "message": format!("Patient already has appointment #{appointment} in this time range")}],
            "code": "scheduling_conflict"
        })
    );
    assert!(
        app.store()
            .audit_log(Some("operation_conflict"), 5)
            .await
            .unwrap()
            .is_empty()
    );
    let id = plan(&admin, &theatre.body(theatre.a(), 1, (0, 12, 0))).await;
    // The original let an update move into the patient's appointment (200).
    let res = admin
        .patch(&path(id), &json!({"start_time": at(0, 10, 0)}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["conflicts"][0]["type"], "patient_conflict");
    // Another operation of the patient blocks as well.
    let mut other = theatre.body(theatre.b(), 1, (0, 14, 0));
    other["op_room"] = json!(p.room);
    let other_id = plan(&admin, &other).await;
    let res = admin
        .patch(&path(id), &json!({"start_time": at(0, 14, 30)}))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["conflicts"][0]["model"], "Operation");
    assert_eq!(res.body["conflicts"][0]["id"], other_id);
    assert_eq!(
        res.body["conflicts"][0]["message"],
        format!("Patient already has operation #{other_id} in this time range")
    );
    app.stop().await;
}

#[tokio::test]
async fn op_83_rbac_matrix_per_role() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_user(&theatre.practice.doctor);
    let billing = app.as_role(Role::Billing).await;
    let nobody = app.as_no_role().await;
    let anonymous = app.anonymous();
    let mut own_body = theatre.body(theatre.b(), 1, (0, 9, 0));
    own_body["anesthesist"] = json!(theatre.a());
    let own = plan(&admin, &own_body).await;
    let foreign = plan(&admin, &theatre.body(theatre.b(), 2, (0, 11, 0))).await;

    // List.
    for (client, status) in [
        (&admin, 200),
        (&assistant, 200),
        (&doctor, 200),
        (&billing, 200),
        (&nobody, 403),
        (&anonymous, 401),
    ] {
        assert_eq!(client.get("/api/operations/").await.status, status);
    }
    let ids = |res: &crate::helpers::TestResponse| -> Vec<i64> {
        res.body
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(&doctor.get("/api/operations/").await),
        [own],
        "doctors see their team's operations"
    );
    assert_eq!(ids(&billing.get("/api/operations/").await), [own, foreign]);
    // Detail.
    for (client, id, status) in [
        (&admin, foreign, 200),
        (&assistant, foreign, 200),
        (&billing, foreign, 200),
        (&doctor, own, 200),
        (&doctor, foreign, 403),
        (&doctor, 9999, 404),
        (&nobody, own, 403),
        (&anonymous, own, 401),
    ] {
        assert_eq!(client.get(&path(id)).await.status, status, "GET {id}");
    }
    // Writes: admin and assistant only.
    let create = theatre.body(theatre.c(), 3, (1, 9, 0));
    for (client, status) in [
        (&doctor, 403),
        (&billing, 403),
        (&nobody, 403),
        (&anonymous, 401),
    ] {
        assert_eq!(
            client.post("/api/operations/", &create).await.status,
            status
        );
        assert_eq!(
            client
                .patch(&path(own), &json!({"notes": "x"}))
                .await
                .status,
            status
        );
        assert_eq!(client.put(&path(own), &own_body).await.status, status);
        assert_eq!(client.delete(&path(own)).await.status, status);
        assert_eq!(client.delete("/api/operations/").await.status, status);
    }
    assert_eq!(admin.delete("/api/operations/").await.status, 405);
    for client in [&admin, &assistant] {
        let id = plan(client, &create).await;
        assert_eq!(
            client.patch(&path(id), &json!({"notes": "x"})).await.status,
            200
        );
        assert_eq!(client.put(&path(id), &create).await.status, 200);
        assert_eq!(client.delete(&path(id)).await.status, 204);
    }
    // Suggest: doctors only for themselves as primary surgeon; non-GET is 403 for everyone.
    let query = |surgeon: i64| {
        format!(
            "/api/operations/suggest/?patient_id=1&primary_surgeon_id={surgeon}&op_type_id={}&op_room_id={}&start_date=2030-01-15",
            theatre.op_type, theatre.practice.other_room
        )
    };
    for (client, surgeon, status) in [
        (&admin, theatre.b(), 200),
        (&assistant, theatre.b(), 200),
        (&billing, theatre.b(), 200),
        (&doctor, theatre.a(), 200),
        (&doctor, theatre.b(), 403),
        (&nobody, theatre.a(), 403),
        (&anonymous, theatre.a(), 401),
    ] {
        assert_eq!(
            client.get(&query(surgeon)).await.status,
            status,
            "suggest {surgeon}"
        );
    }
    assert_eq!(
        admin
            .post("/api/operations/suggest/", &json!({}))
            .await
            .status,
        403
    );
    assert_eq!(doctor.get("/api/operations/suggest/").await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn op_70_suggest_needs_team_room_devices_and_patient_free() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    // The OP room is busy 08:00–08:50 and 09:40–10:30.
    let mut early = theatre.body(theatre.a(), 3, (0, 8, 0));
    early["op_device_ids"] = json!([p.device]);
    plan(&admin, &early).await;
    plan(&admin, &theatre.body(theatre.c(), 4, (0, 9, 40))).await;
    let query = |extra: &str| {
        format!(
            "/api/operations/suggest/?patient_id=1&primary_surgeon_id={}&op_type_id={}&op_room_id={}&op_device_ids={}&start_date=2030-01-14{extra}",
            theatre.b(),
            theatre.op_type,
            p.other_room,
            p.device
        )
    };
    let starts = |res: &crate::helpers::TestResponse| -> Vec<(String, String)> {
        res.body["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["start_time"].as_str().unwrap().to_owned(),
                    s["end_time"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let res = admin.get(&query("&limit=1")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body,
        json!({
            "primary_surgeon": {"id": theatre.b(), "name": "First dr.bert Last dr.bert", "color": p.other_doctor.calendar_color},
            "suggestions": [{
                "start_time": "2030-01-14T08:50:00+01:00", "end_time": "2030-01-14T09:40:00+01:00",
                "op_type": {"id": theatre.op_type, "name": "Kleiner Eingriff", "color": "#445566"},
                "op_room": {"id": p.other_room, "name": "OP-1", "color": "#6A5ACD"},
                "op_device_ids": [p.device]
            }]
        })
    );
    // Default limit 3, consecutive slots.
    let res = admin.get(&query("")).await;
    assert_eq!(
        starts(&res)
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>(),
        [
            "2030-01-14T08:50:00+01:00",
            "2030-01-14T10:30:00+01:00",
            "2030-01-14T11:20:00+01:00"
        ]
    );
    // The patient's appointment (W6) and the anaesthetist's appointment (W4) block as well.
    p.book(&admin, &p.booking(theatre.c(), 1, (0, 10, 30), (0, 11, 30)))
        .await;
    let res = admin.get(&query("&limit=2")).await;
    assert_eq!(
        starts(&res)
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>(),
        ["2030-01-14T08:50:00+01:00", "2030-01-14T11:30:00+01:00"]
    );
    p.book(&admin, &p.booking(theatre.a(), 2, (0, 9, 0), (0, 9, 30)))
        .await;
    let res = admin
        .get(&query(&format!("&limit=1&anesthesist_id={}", theatre.a())))
        .await;
    assert_eq!(
        starts(&res)[0].0,
        "2030-01-14T11:30:00+01:00",
        "{}",
        res.text
    );
    // Several days on request (additive `days`).
    let res = admin.get(&query("&limit=50&days=2")).await;
    assert!(
        starts(&res)
            .iter()
            .any(|(s, _)| s.starts_with("2030-01-15"))
    );
    let audit = app
        .store()
        .audit_log(Some("operation_suggest"), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 5);
    assert_eq!(audit[0].patient_id, Some(1));

    let inactive_type = insert_type(&app, "Alt", 0, 10, 0).await;
    set_type(&app, inactive_type, |t| t.active = Set(false)).await;
    let base = |patient: &str, surgeon: &str, op_type: &str, room: &str| {
        format!(
            "patient_id={patient}&primary_surgeon_id={surgeon}&op_type_id={op_type}&op_room_id={room}"
        )
    };
    let (b, t, r) = (
        theatre.b().to_string(),
        theatre.op_type.to_string(),
        p.other_room.to_string(),
    );
    let cases = [
        (
            format!("primary_surgeon_id={b}"),
            "patient_id query parameter is required.",
        ),
        (base("x", &b, &t, &r), "patient_id must be an integer."),
        (
            format!("patient_id=1&primary_surgeon_id={b}&op_room_id={r}"),
            "op_type_id query parameter is required.",
        ),
        (
            format!("{}&limit=0", base("1", &b, &t, &r)),
            "limit must be >= 1.",
        ),
        (
            format!("{}&limit=51", base("1", &b, &t, &r)),
            "limit must be <= 50.",
        ),
        (
            format!("{}&start_date=2030-13-01", base("1", &b, &t, &r)),
            "start_date must be in format YYYY-MM-DD.",
        ),
        (
            format!("{}&op_device_ids=1,x", base("1", &b, &t, &r)),
            "op_device_ids must be a comma-separated list of integers.",
        ),
        (
            format!("{}&op_device_ids={}", base("1", &b, &t, &r), p.room),
            "op_device_ids contains unknown or inactive device(s).",
        ),
        (base("1", "99999", &t, &r), "primary_surgeon_id not found."),
        (
            base("1", &admin.user_id().to_string(), &t, &r),
            "primary_surgeon_id must reference a user with role \"doctor\".",
        ),
        (
            format!("{}&assistant_id={}", base("1", &b, &t, &r), admin.user_id()),
            "assistant_id must reference a user with role \"doctor\".",
        ),
        (
            format!("{}&assistant_id={b}", base("1", &b, &t, &r)),
            "assistant_id must not name a user who already has another team role.",
        ),
        (base("1", &b, "99999", &r), "op_type_id not found."),
        (
            base("1", &b, &inactive_type.to_string(), &r),
            "op_type_id is inactive.",
        ),
        (base("1", &b, &t, "99999"), "op_room_id not found."),
        (
            base("1", &b, &t, &p.device.to_string()),
            "op_room_id must reference a Resource with type \"room\".",
        ),
        (base("999", &b, &t, &r), "patient_id not found."),
    ];
    for (query, detail) in cases {
        let res = admin
            .get(&format!("/api/operations/suggest/?{query}"))
            .await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.body["detail"], detail, "{query}");
    }
    app.stop().await;
}

/// Every (from, to) pair through `PATCH` and `PUT`: the one transition table, a conditional
/// write and one history row per change.
#[tokio::test]
async fn status_changes_through_put_and_patch_follow_the_transition_table() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    // "Now" is Monday 12:00: operations of that morning have started.
    let delta = utc(0, 12, 0) - app.state.now();
    app.state.clock.advance(delta);
    let admin = app.as_role(Role::Admin).await;
    let short = insert_type(&app, "Fünf Minuten", 0, 5, 0).await;
    let statuses = ["planned", "confirmed", "running", "done", "cancelled"];
    let allowed = [
        ("planned", "confirmed"),
        ("planned", "cancelled"),
        ("confirmed", "running"),
        ("confirmed", "cancelled"),
        ("running", "done"),
        ("running", "cancelled"),
    ];
    let mut slot = 0;
    for from in statuses {
        for to in statuses {
            let mut body = theatre.body(theatre.a(), 1, (0, 8 + slot / 12, (slot % 12) * 5));
            body["op_type"] = json!(short);
            slot += 1;
            let id = plan(&admin, &body).await;
            let path = path(id);
            let route: &[&str] = match from {
                "planned" => &[],
                "confirmed" => &["confirmed"],
                "running" => &["confirmed", "running"],
                "done" => &["confirmed", "running", "done"],
                _ => &["cancelled"],
            };
            for step in route {
                let res = admin.patch(&path, &json!({"status": step})).await;
                assert_eq!(res.status, 200, "{from}: step {step}: {}", res.text);
            }
            let events_before = app.store().operation_status_events(id).await.unwrap().len();
            let res = if slot % 2 == 0 {
                admin.patch(&path, &json!({"status": to})).await
            } else {
                let mut put = body.clone();
                put["status"] = json!(to);
                admin.put(&path, &put).await
            };
            let events = app.store().operation_status_events(id).await.unwrap();
            if from == to {
                assert_eq!(res.status, 200, "{from} -> {to} (unchanged): {}", res.text);
                assert_eq!(
                    events.len(),
                    events_before,
                    "{from} -> {to}: no history row"
                );
            } else if allowed.contains(&(from, to)) {
                assert_eq!(res.status, 200, "{from} -> {to}: {}", res.text);
                assert_eq!(res.body["status"], to);
                let last = events.last().unwrap();
                assert_eq!(
                    (last.from_status.as_deref(), last.to_status.as_str()),
                    (Some(from), to)
                );
                assert_eq!(events.len(), events_before + 1);
            } else {
                assert_eq!(res.status, 400, "{from} -> {to}: {}", res.text);
                assert_eq!(
                    res.body,
                    json!({"detail": "Invalid status transition.", "from": from, "to": to, "code": "invalid_transition"}),
                    "{from} -> {to}"
                );
                assert_eq!(admin.get(&path).await.body["status"], from);
                assert_eq!(events.len(), events_before);
            }
        }
    }
    // The full history of a finished operation.
    let mut body = theatre.body(theatre.a(), 1, (0, 11, 0));
    body["op_type"] = json!(short);
    body["status"] = json!("confirmed");
    let id = plan(&admin, &body).await;
    for step in ["running", "done"] {
        assert_eq!(
            admin
                .patch(&path(id), &json!({"status": step}))
                .await
                .status,
            200
        );
    }
    let history: Vec<(Option<String>, String)> = app
        .store()
        .operation_status_events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.from_status, e.to_status))
        .collect();
    assert_eq!(
        history,
        [
            (None, "confirmed".to_owned()),
            (Some("confirmed".to_owned()), "running".to_owned()),
            (Some("running".to_owned()), "done".to_owned())
        ]
    );
    let audit = app
        .store()
        .audit_log(Some("operation_update"), 1)
        .await
        .unwrap();
    assert_eq!(
        audit[0].meta,
        Some(json!({"from": "running", "to": "done"}))
    );
    app.stop().await;
}

#[tokio::test]
async fn running_is_refused_before_the_start_time() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut body = theatre.body(theatre.a(), 1, (0, 10, 0));
    body["status"] = json!("confirmed");
    let id = plan(&admin, &body).await;
    let res = admin.patch(&path(id), &json!({"status": "running"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"detail": "running is only allowed when now >= start_time.", "code": "running_before_start"})
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelled_operations_free_their_room_and_team() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let id = plan(&admin, &theatre.body(theatre.a(), 1, (0, 10, 0))).await;
    assert_eq!(
        admin
            .patch(&path(id), &json!({"status": "cancelled"}))
            .await
            .status,
        200
    );
    plan(&admin, &theatre.body(theatre.a(), 2, (0, 10, 0))).await;
    // Notes on the cancelled one still work; reviving it is not a transition.
    assert_eq!(
        admin
            .patch(&path(id), &json!({"notes": "abgesagt"}))
            .await
            .status,
        200
    );
    let res = admin.patch(&path(id), &json!({"status": "planned"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["from"], "cancelled");
    app.stop().await;
}

#[tokio::test]
async fn unchanged_references_are_not_validated_again() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut body = theatre.body(theatre.a(), 1, (0, 10, 0));
    body["assistant"] = json!(theatre.c());
    let id = plan(&admin, &body).await;
    // Later the room and the assistant are deactivated and the type is retired.
    deactivate_resource(&app, theatre.practice.other_room).await;
    app.store()
        .set_user_active(theatre.c(), false)
        .await
        .unwrap();
    set_type(&app, theatre.op_type, |t| t.active = Set(false)).await;
    let res = admin.patch(&path(id), &json!({"notes": "Nachtrag"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.put(&path(id), &body).await;
    assert_eq!(res.status, 200, "{}", res.text);
    // A new operation cannot use them.
    let res = admin
        .post(
            "/api/operations/",
            &theatre.body(theatre.b(), 2, (1, 10, 0)),
        )
        .await;
    assert_eq!(res.body, json!({"op_type": ["op_type ist inaktiv."]}));
    app.stop().await;
}

#[tokio::test]
async fn put_requires_the_five_fields_and_patch_keeps_unsent_ones() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let mut body = theatre.body(theatre.a(), 1, (0, 10, 0));
    body["assistant"] = json!(theatre.b());
    body["op_device_ids"] = json!([theatre.practice.device]);
    body["notes"] = json!("Erstplanung");
    let id = plan(&admin, &body).await;
    let res = admin.put(&path(id), &json!({"notes": "x"})).await;
    assert_eq!(res.status, 400);
    for field in [
        "patient_id",
        "primary_surgeon",
        "op_room",
        "op_type",
        "start_time",
    ] {
        assert_eq!(
            res.body[field],
            json!(["This field is required."]),
            "{field}"
        );
    }
    // PUT without the optional fields keeps them, as DRF does.
    let res = admin
        .put(&path(id), &theatre.body(theatre.a(), 1, (0, 10, 0)))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["team"]["assistant"]["id"], theatre.b());
    assert_eq!(res.body["op_devices"].as_array().unwrap().len(), 1);
    assert_eq!(res.body["notes"], "Erstplanung");
    let res = admin.patch(&path(id), &json!({"patient_id": 2})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["patient_id"], 2);
    assert_eq!(res.body["start_time"], "2030-01-14T10:00:00+01:00");
    assert_eq!(
        admin
            .patch("/api/operations/9999/", &json!({}))
            .await
            .status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn delete_takes_devices_history_and_flows_along_and_referenced_rows_stay() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let p = &theatre.practice;
    let admin = app.as_role(Role::Admin).await;
    let mut body = theatre.body(theatre.a(), 3, (0, 10, 0));
    body["op_device_ids"] = json!([p.device]);
    let id = plan(&admin, &body).await;
    assert_eq!(
        admin
            .patch(&path(id), &json!({"status": "confirmed"}))
            .await
            .status,
        200
    );
    let flow = entity::patient_flow::ActiveModel {
        operation_id: Set(Some(id)),
        status: Set("registered".to_owned()),
        status_changed_at: Set(Utc::now()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .unwrap()
    .id;
    // api.md §5 item 11: the room, the device and the type an operation uses stay (409).
    for referenced in [
        format!("/api/resources/{}/", p.other_room),
        format!("/api/resources/{}/", p.device),
        format!("/api/operation-types/{}/", theatre.op_type),
    ] {
        let res = admin.delete(&referenced).await;
        assert_eq!(res.status, 409, "{referenced}: {}", res.text);
    }
    assert_eq!(admin.delete(&path(id)).await.status, 204);
    let audit = app
        .store()
        .audit_log(Some("operation_delete"), 5)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].patient_id, Some(3));
    assert_eq!(admin.get(&path(id)).await.status, 404);
    assert_eq!(admin.delete(&path(id)).await.status, 404);
    assert!(
        app.store()
            .operation_status_events(id)
            .await
            .unwrap()
            .is_empty()
    );
    let flow = entity::patient_flow::Entity::find_by_id(flow)
        .one(app.store().conn())
        .await
        .unwrap();
    assert!(flow.is_none());
    let links = entity::operation_device::Entity::find()
        .all(app.store().conn())
        .await
        .unwrap();
    assert!(links.is_empty());
    // Unreferenced now.
    assert_eq!(
        admin
            .delete(&format!("/api/resources/{}/", p.device))
            .await
            .status,
        204
    );
    assert_eq!(
        admin
            .delete(&format!("/api/operation-types/{}/", theatre.op_type))
            .await
            .status,
        204
    );
    app.stop().await;
}

#[tokio::test]
async fn list_filters_by_local_day() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    plan(&admin, &theatre.body(theatre.a(), 1, (0, 8, 0))).await;
    plan(&admin, &theatre.body(theatre.b(), 2, (1, 9, 0))).await;
    let count = |res: crate::helpers::TestResponse| res.body.as_array().map(Vec::len);
    assert_eq!(
        count(admin.get("/api/operations/?date=2030-01-14").await),
        Some(1)
    );
    assert_eq!(
        count(
            admin
                .get("/api/operations/?start_date=2030-01-14&end_date=2030-01-15")
                .await
        ),
        Some(2)
    );
    assert_eq!(
        count(admin.get("/api/operations/?start_date=2030-01-15").await),
        Some(1)
    );
    assert_eq!(
        count(admin.get("/api/operations/?end_date=2030-01-14").await),
        Some(1)
    );
    assert_eq!(
        count(
            admin
                .get("/api/operations/?start_date=2030-01-15&end_date=2030-01-14")
                .await
        ),
        Some(0)
    );
    assert_eq!(
        count(admin.get("/api/operations/?limit=5&page=2").await),
        Some(2),
        "unknown parameters are ignored"
    );
    for (query, field) in [
        ("date=garbage", "date"),
        ("start_date=-5000-01-01", "start_date"),
        ("end_date=10000-01-01", "end_date"),
    ] {
        let res = admin.get(&format!("/api/operations/?{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert!(res.body.get(field).is_some(), "{query}: {}", res.text);
    }
    app.stop().await;
}

/// Issue 4: 30 parallel POSTs for the same room and time, exactly one 201, the others the
/// conflict error, no 5xx — on whichever backend this run uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_plans_of_one_room_yield_exactly_one() {
    let app = TestApp::spawn().await;
    let theatre = Theatre::new(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().unwrap();
    let url = app.url("/api/operations/");
    let mut tasks = Vec::new();
    for idx in 0..30 {
        // Same room and slot; surgeons and patients alternate so the room is the contended
        // occupant across different teams.
        let surgeon = if idx % 2 == 0 {
            theatre.a()
        } else {
            theatre.b()
        };
        let body = theatre.body(surgeon, theatre.practice.patients[idx % 4], (0, 9, 0));
        let http = app.http.clone();
        let url = url.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, text) = task.await.unwrap();
        match status {
            201 => created += 1,
            400 => assert!(
                text.contains("Operation conflict")
                    || text.contains("Scheduling conflicts detected"),
                "{text}"
            ),
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(
        admin
            .get("/api/operations/")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}
