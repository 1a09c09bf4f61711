//! Doctor absences and the absence preview (api.md §3.16).

use chrono::{DateTime, NaiveDate, Utc};
use praxi_domain::Role;
use praxi_store::entity;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp};
use crate::hours::{Callers, keys, same};

async fn absence_row(
    admin: &Client<'_>,
    doctor: i64,
    start: &str,
    end: &str,
    reason: Option<&str>,
) -> i64 {
    let res = admin
        .post(
            "/api/doctor-absences/",
            &json!({"doctor": doctor, "start_date": start, "end_date": end, "reason": reason}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_i64().expect("created id")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid instant")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn doctor_absences_rbac_matrix() {
    let app = TestApp::spawn().await;
    let callers = Callers::new(&app).await;
    let admin = callers.admin();
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let own = absence_row(admin, callers.doctor_id(), "2045-06-05", "2045-06-06", None).await;
    let foreign = absence_row(admin, other.id, "2045-06-05", "2045-06-06", None).await;
    let path = |id: i64| format!("/api/doctor-absences/{id}/");
    let body = json!({"doctor": other.id, "start_date": "2045-07-01", "end_date": "2045-07-02"});

    callers
        .expect(
            Method::GET,
            &same("/api/doctor-absences/"),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::POST,
            &same("/api/doctor-absences/"),
            Some(&body),
            [201, 201, 403, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::GET,
            &same(&path(own)),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::GET,
            &same(&path(foreign)),
            None,
            [200, 200, 404, 200, 403, 401],
        )
        .await;
    let patch = json!({"reason": "Fortbildung"});
    callers
        .expect(
            Method::PATCH,
            &same(&path(own)),
            Some(&patch),
            [200, 200, 200, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::PATCH,
            &same(&path(foreign)),
            Some(&patch),
            [200, 200, 404, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::PUT,
            &same(&path(own)),
            Some(
                &json!({"doctor": callers.doctor_id(), "start_date": "2045-06-05",
                         "end_date": "2045-06-09"}),
            ),
            [200, 200, 200, 403, 403, 401],
        )
        .await;
    // The preview: any API role (api.md §5 item 2: not role-less users).
    callers
        .expect(
            Method::GET,
            &same("/api/doctor-absences/preview/"),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::POST,
            &same("/api/doctor-absences/preview/"),
            Some(&json!({})),
            [403, 403, 403, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::DELETE,
            &same("/api/doctor-absences/"),
            None,
            [405, 405, 403, 403, 403, 401],
        )
        .await;
    for owner in [callers.doctor_id(), other.id] {
        let mut targets = Vec::new();
        for _ in 0..6 {
            targets.push(path(
                absence_row(admin, owner, "2045-08-01", "2045-08-01", None).await,
            ));
        }
        let targets: [String; 6] = targets.try_into().unwrap();
        let doctor_status = if owner == callers.doctor_id() {
            204
        } else {
            404
        };
        callers
            .expect(
                Method::DELETE,
                &targets,
                None,
                [204, 204, doctor_status, 403, 403, 401],
            )
            .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn absences_have_the_original_shape_and_order() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.as_role(Role::Doctor).await;
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let late = absence_row(&admin, doctor.user_id(), "2045-07-01", "2045-07-03", None).await;
    let long = absence_row(&admin, doctor.user_id(), "2045-06-05", "2045-06-09", None).await;
    let short = absence_row(&admin, doctor.user_id(), "2045-06-05", "2045-06-06", None).await;
    let foreign = absence_row(&admin, other.id, "2045-06-01", "2045-06-01", None).await;

    let res = admin.get(&format!("/api/doctor-absences/{short}/")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        keys(&res.body),
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
    assert_eq!(res.body["doctor"], doctor.user_id());
    assert_eq!(res.body["start_date"], "2045-06-05");
    assert_eq!(res.body["end_date"], "2045-06-06");
    assert_eq!(res.body["reason"], Value::Null);
    assert_eq!(res.body["color"], "#FF4500");
    assert_eq!(res.body["active"], true);

    let ids = |page: &Value| -> Vec<i64> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["id"].as_i64().unwrap())
            .collect()
    };
    let res = doctor.get("/api/doctor-absences/").await;
    assert_eq!(res.body["count"], 3);
    assert_eq!(ids(&res.body), [short, long, late]);
    let res = admin.get("/api/doctor-absences/?page_size=2").await;
    assert_eq!(res.body["count"], 4);
    let mut expected = vec![short, long, late];
    if other.id < doctor.user_id() {
        expected.insert(0, foreign);
    } else {
        expected.push(foreign);
    }
    assert_eq!(ids(&res.body), expected[..2]);
    let res = admin.get("/api/doctor-absences/?page=2&page_size=2").await;
    assert_eq!(ids(&res.body), expected[2..]);

    let res = doctor
        .get(&format!("/api/doctor-absences/{foreign}/"))
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        json!({"detail": "No DoctorAbsence matches the given query."})
    );
    app.stop().await;
}

#[tokio::test]
async fn absence_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let nurse = app.create_user("nurse", None).await;
    let end_message = "Enddatum muss am oder nach dem Startdatum liegen.";
    let nurse_message = format!("Benutzer {} hat nicht die Rolle Arzt.", nurse.id);
    let cases = [
        (
            json!({"doctor": doctor.id, "start_date": "2045-06-09", "end_date": "2045-06-05"}),
            "end_date",
            end_message,
        ),
        (
            json!({"doctor": doctor.id, "start_date": "2045-06-09"}),
            "end_date",
            "This field is required.",
        ),
        (
            json!({"start_date": "2045-06-09", "end_date": "2045-06-10"}),
            "doctor",
            "This field is required.",
        ),
        (
            json!({"doctor": doctor.id, "start_date": "2045-02-30", "end_date": "2045-03-01"}),
            "start_date",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        (
            json!({"doctor": doctor.id, "start_date": "2045-06-09", "end_date": "2045-06-10",
                   "reason": "x".repeat(256)}),
            "reason",
            "Ensure this field has no more than 255 characters.",
        ),
        (
            json!({"doctor": nurse.id, "start_date": "2045-06-09", "end_date": "2045-06-10"}),
            "doctor",
            nurse_message.as_str(),
        ),
        (
            json!({"doctor": 99999, "start_date": "2045-06-09", "end_date": "2045-06-10"}),
            "doctor",
            "Invalid pk \"99999\" - object does not exist.",
        ),
        (
            json!({"doctor": doctor.id, "start_date": "2045-06-09", "end_date": "2045-06-10",
                   "active": null}),
            "active",
            "This field may not be null.",
        ),
        (
            json!({"doctor": doctor.id, "start_date": "2045-06-09", "end_date": "2045-06-10",
                   "remaining_days": 3}),
            "remaining_days",
            "Unknown field.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/doctor-absences/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    assert_eq!(
        app.store()
            .count_absences(praxi_store::hours::Visibility::All)
            .await
            .unwrap(),
        0
    );

    // A PATCH of one date is compared with the stored other one.
    let id = absence_row(&admin, doctor.id, "2045-06-05", "2045-06-06", None).await;
    let path = format!("/api/doctor-absences/{id}/");
    let res = admin.patch(&path, &json!({"end_date": "2045-06-04"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"end_date": [end_message]}));
    let res = admin
        .patch(&path, &json!({"start_date": "2045-06-07"}))
        .await;
    assert_eq!(res.body, json!({"end_date": [end_message]}));
    let res = admin
        .patch(
            &path,
            &json!({"end_date": "2045-06-05", "reason": " Krank ", "color": "#000000"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["end_date"], "2045-06-05");
    assert_eq!(res.body["reason"], "Krank");
    assert_eq!(res.body["color"], "#FF4500");
    let res = admin.patch(&path, &json!({"doctor": nurse.id})).await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("doctor").is_some());
    app.stop().await;
}

/// api.md §5 item 5: doctors may edit their own absences but not hand them to someone else.
#[tokio::test]
async fn doctors_cannot_reassign_their_absences() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.as_role(Role::Doctor).await;
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let id = absence_row(&admin, doctor.user_id(), "2045-06-05", "2045-06-06", None).await;
    let path = format!("/api/doctor-absences/{id}/");
    let res = doctor.patch(&path, &json!({"doctor": other.id})).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"doctor": ["Ärzte dürfen den Arzt eines eigenen Eintrags nicht ändern."]})
    );
    let res = doctor
        .put(
            &path,
            &json!({"doctor": other.id, "start_date": "2045-06-05", "end_date": "2045-06-06"}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("doctor").is_some());
    let stored = app.store().absence(id).await.unwrap().unwrap();
    assert_eq!(
        stored.fields.doctor_id,
        doctor.user_id(),
        "still the doctor's"
    );

    let res = doctor
        .patch(
            &path,
            &json!({"doctor": doctor.user_id(), "end_date": "2045-06-07"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.patch(&path, &json!({"doctor": other.id})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["doctor"], other.id);
    app.stop().await;
}

/// data-model.md §5.4 with the §15 item 19 fix: the snapshot columns are computed by the
/// domain and the vacation balance stays correct when other absences change.
#[tokio::test]
async fn absence_snapshots_track_the_vacation_balance() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let first = absence_row(
        &admin,
        doctor.id,
        "2045-06-05",
        "2045-06-09",
        Some("Urlaub"),
    )
    .await;
    let snapshot = |id: i64| {
        let store = app.store().clone();
        async move { store.absence(id).await.unwrap().unwrap().snapshot }
    };
    let stored = snapshot(first).await;
    assert_eq!(stored.duration_workdays, Some(5));
    assert_eq!(stored.return_date, Some(date("2045-06-12")));
    assert_eq!(stored.remaining_days, Some(25));

    let second = absence_row(
        &admin,
        doctor.id,
        "2045-07-03",
        "2045-07-04",
        Some(" urlaub"),
    )
    .await;
    assert_eq!(snapshot(second).await.remaining_days, Some(23));
    assert_eq!(
        snapshot(first).await.remaining_days,
        Some(23),
        "the earlier absence is updated"
    );

    let sick = absence_row(&admin, doctor.id, "2045-08-07", "2045-08-08", Some("Krank")).await;
    let stored = snapshot(sick).await;
    assert_eq!(stored.remaining_days, None);
    assert_eq!(stored.duration_workdays, Some(2));

    // Deactivating, editing and deleting all recompute the balance.
    let res = admin
        .patch(
            &format!("/api/doctor-absences/{second}/"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(snapshot(first).await.remaining_days, Some(25));
    assert_eq!(
        snapshot(second).await.remaining_days,
        Some(25),
        "inactive rows do not count"
    );
    let res = admin
        .patch(
            &format!("/api/doctor-absences/{first}/"),
            &json!({"end_date": "2045-06-06"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let stored = snapshot(first).await;
    assert_eq!(stored.duration_workdays, Some(2));
    assert_eq!(stored.return_date, Some(date("2045-06-07")));
    assert_eq!(stored.remaining_days, Some(28));
    // An absence across the new year counts only its days in the start year.
    let across = absence_row(
        &admin,
        doctor.id,
        "2045-12-29",
        "2046-01-05",
        Some("Urlaub"),
    )
    .await;
    let stored = snapshot(across).await;
    assert_eq!(stored.duration_workdays, Some(6));
    assert_eq!(stored.remaining_days, Some(27));
    assert_eq!(stored.return_date, Some(date("2046-01-08")));

    let res = admin
        .delete(&format!("/api/doctor-absences/{first}/"))
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(snapshot(across).await.remaining_days, Some(29));
    assert_eq!(
        admin
            .get(&format!("/api/doctor-absences/{first}/"))
            .await
            .status,
        404
    );
    assert_eq!(
        admin
            .delete(&format!("/api/doctor-absences/{first}/"))
            .await
            .status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn absences_are_audited() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let id = absence_row(&assistant, doctor.id, "2045-06-05", "2045-06-06", None).await;
    let path = format!("/api/doctor-absences/{id}/");
    assert_eq!(assistant.get(&path).await.status, 200);
    assert_eq!(
        assistant
            .patch(&path, &json!({"reason": "Fortbildung"}))
            .await
            .status,
        200
    );
    assert_eq!(assistant.get("/api/doctor-absences/").await.status, 200);
    assert_eq!(
        assistant
            .get("/api/doctor-absences/preview/?doctor_id=1")
            .await
            .status,
        200
    );
    assert_eq!(assistant.delete(&path).await.status, 204);
    assert_eq!(assistant.get(&path).await.status, 404);
    let mut actions: Vec<String> = app
        .store()
        .audit_log(None, 5)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "doctor_absence_create",
            "doctor_absence_update",
            "doctor_absence_delete"
        ],
        "the preview is not audited, a 404 writes no view row"
    );
    let rows = app
        .store()
        .audit_log(Some("doctor_absence_create"), 1)
        .await
        .unwrap();
    assert_eq!(rows[0].meta, Some(json!({"id": id})));
    assert_eq!(rows[0].role_name, "assistant");
    assert_eq!(rows[0].patient_id, None);
    app.stop().await;
}

// ---- preview --------------------------------------------------------------------------------

#[tokio::test]
async fn preview_reproduces_the_original_numbers() {
    let app = TestApp::spawn().await;
    let billing = app.as_role(Role::Billing).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let base = "/api/doctor-absences/preview/";
    let res = billing
        .get(&format!(
            "{base}?doctor_id={}&start_date=2045-06-05&end_date=2045-06-09&reason=urlaub",
            doctor.id
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"duration_workdays": 5, "return_date": "2045-06-12", "remaining_days": 25,
               "affected_appointments": []})
    );
    let res = billing
        .get(&format!(
            "{base}?doctor_id={}&start_date=2045-06-05&end_date=2045-06-09&reason=Krank",
            doctor.id
        ))
        .await;
    assert_eq!(res.body["remaining_days"], Value::Null);
    let res = billing.get(base).await;
    assert_eq!(
        res.body,
        json!({"duration_workdays": 0, "return_date": null, "remaining_days": null,
               "affected_appointments": []})
    );
    // Empty values count as missing (the dashboard sends `doctor_id=` without a doctor).
    let res = billing
        .get(&format!(
            "{base}?doctor_id=&start_date=&end_date=&reason=&exclude_id="
        ))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["duration_workdays"], 0);
    // An inverted range still has a return date.
    let res = billing
        .get(&format!("{base}?start_date=2045-06-09&end_date=2045-06-05"))
        .await;
    assert_eq!(res.body["duration_workdays"], 0);
    assert_eq!(res.body["return_date"], "2045-06-06");
    // Unknown doctors have no balance.
    let res = billing
        .get(&format!(
            "{base}?doctor_id=99999&start_date=2045-06-05&end_date=2045-06-09&reason=Urlaub"
        ))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["remaining_days"], Value::Null);
    app.stop().await;
}

/// api.md §5 item 19: the original answered 500 to an impossible date.
#[tokio::test]
async fn preview_rejects_invalid_parameters_with_400() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let base = "/api/doctor-absences/preview/";
    let cases = [
        (
            "start_date=2025-02-30",
            "start_date must be a valid date (YYYY-MM-DD).",
        ),
        (
            "end_date=05.06.2045",
            "end_date must be a valid date (YYYY-MM-DD).",
        ),
        ("doctor_id=abc", "doctor_id must be an integer."),
        ("exclude_id=1.5", "exclude_id must be an integer."),
    ];
    for (query, detail) in cases {
        let res = admin.get(&format!("{base}?{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.body, json!({ "detail": detail }), "{query}");
    }
    app.stop().await;
}

#[tokio::test]
async fn preview_counts_the_edited_absence_once() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let id = absence_row(
        &admin,
        doctor.id,
        "2045-06-05",
        "2045-06-09",
        Some("Urlaub"),
    )
    .await;
    let query = format!(
        "/api/doctor-absences/preview/?doctor_id={}&start_date=2045-06-05&end_date=2045-06-16&reason=Urlaub",
        doctor.id
    );
    let res = admin.get(&query).await;
    assert_eq!(
        res.body["remaining_days"], 15,
        "a new absence on top of the stored one"
    );
    let res = admin.get(&format!("{query}&exclude_id={id}")).await;
    assert_eq!(res.body["duration_workdays"], 10);
    assert_eq!(
        res.body["remaining_days"], 20,
        "editing the stored one: counted once"
    );
    app.stop().await;
}

struct Bookings {
    patient: i32,
    room: i64,
    op_type: i64,
}

async fn booking_fixture(app: &TestApp) -> Bookings {
    let conn = app.store().conn();
    let now = Utc::now();
    let patient = entity::patient::ActiveModel {
        id: Set(4711),
        first_name: Set("P".into()),
        last_name: Set("Patient".into()),
        created_at: Set(Some(now)),
        updated_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert patient");
    let room = entity::resource::ActiveModel {
        name: Set("OP 1".into()),
        r#type: Set("room".into()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert room");
    let op_type = entity::operation_type::ActiveModel {
        name: Set("Arthroskopie".into()),
        op_duration: Set(60),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert operation type");
    Bookings {
        patient: patient.id,
        room: room.id,
        op_type: op_type.id,
    }
}

async fn appointment(
    app: &TestApp,
    fx: &Bookings,
    doctor: i64,
    start: &str,
    end: &str,
    status: &str,
) -> i64 {
    let row = entity::appointment::ActiveModel {
        patient_id: Set(fx.patient),
        doctor_id: Set(doctor),
        start_time: Set(instant(start)),
        end_time: Set(instant(end)),
        status: Set(status.into()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert appointment");
    i64::from(row.id)
}

async fn operation(
    app: &TestApp,
    fx: &Bookings,
    surgeon: i64,
    assistant: Option<i64>,
    start: &str,
    end: &str,
    status: &str,
) -> i64 {
    entity::operation::ActiveModel {
        patient_id: Set(fx.patient),
        primary_surgeon_id: Set(surgeon),
        assistant_id: Set(assistant),
        op_room_id: Set(fx.room),
        op_type_id: Set(fx.op_type),
        start_time: Set(instant(start)),
        end_time: Set(instant(end)),
        op_duration: Set(60),
        status: Set(status.into()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert operation")
    .id
}

/// Issue 3: the preview lists the bookings an absence would affect.
#[tokio::test]
async fn preview_lists_affected_appointments_and_operations() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.as_role(Role::Doctor).await;
    let doctor_id = doctor.user_id();
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let fx = booking_fixture(&app).await;
    // The practice zone is Europe/Berlin: 2045-06-05 starts at 2045-06-04T22:00Z.
    let early = appointment(
        &app,
        &fx,
        doctor_id,
        "2045-06-04T22:00:00Z",
        "2045-06-04T22:30:00Z",
        "scheduled",
    )
    .await;
    let _before = appointment(
        &app,
        &fx,
        doctor_id,
        "2045-06-04T21:00:00Z",
        "2045-06-04T22:00:00Z",
        "scheduled",
    )
    .await;
    let _cancelled = appointment(
        &app,
        &fx,
        doctor_id,
        "2045-06-05T08:00:00Z",
        "2045-06-05T08:30:00Z",
        "cancelled",
    )
    .await;
    let completed = appointment(
        &app,
        &fx,
        doctor_id,
        "2045-06-05T09:00:00Z",
        "2045-06-05T09:30:00Z",
        "completed",
    )
    .await;
    let _foreign = appointment(
        &app,
        &fx,
        other.id,
        "2045-06-05T10:00:00Z",
        "2045-06-05T10:30:00Z",
        "scheduled",
    )
    .await;
    let _after = appointment(
        &app,
        &fx,
        doctor_id,
        "2045-06-06T22:00:00Z",
        "2045-06-06T22:30:00Z",
        "scheduled",
    )
    .await;
    let as_assistant = operation(
        &app,
        &fx,
        other.id,
        Some(doctor_id),
        "2045-06-06T07:00:00Z",
        "2045-06-06T08:00:00Z",
        "planned",
    )
    .await;
    let _cancelled_op = operation(
        &app,
        &fx,
        doctor_id,
        None,
        "2045-06-06T09:00:00Z",
        "2045-06-06T10:00:00Z",
        "cancelled",
    )
    .await;

    let query = format!(
        "/api/doctor-absences/preview/?doctor_id={doctor_id}&start_date=2045-06-05&end_date=2045-06-06&reason=Krank"
    );
    let res = assistant.get(&query).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        keys(&res.body),
        [
            "duration_workdays",
            "return_date",
            "remaining_days",
            "affected_appointments"
        ]
    );
    assert_eq!(
        res.body["affected_appointments"],
        json!([
            {"model": "Appointment", "id": early,
             "start_time": "2045-06-05T00:00:00+02:00", "end_time": "2045-06-05T00:30:00+02:00"},
            {"model": "Appointment", "id": completed,
             "start_time": "2045-06-05T11:00:00+02:00", "end_time": "2045-06-05T11:30:00+02:00"},
            {"model": "Operation", "id": as_assistant,
             "start_time": "2045-06-06T09:00:00+02:00", "end_time": "2045-06-06T10:00:00+02:00"},
        ])
    );
    // The doctor sees their own bookings, but not another doctor's (appointment list rule).
    let res = doctor.get(&query).await;
    assert_eq!(
        res.body["affected_appointments"].as_array().unwrap().len(),
        3
    );
    let res = doctor
        .get(&format!(
            "/api/doctor-absences/preview/?doctor_id={}&start_date=2045-06-05&end_date=2045-06-06",
            other.id
        ))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["affected_appointments"], json!([]));
    let res = assistant
        .get(&format!(
            "/api/doctor-absences/preview/?doctor_id={}&start_date=2045-06-05&end_date=2045-06-06",
            other.id
        ))
        .await;
    assert_eq!(
        res.body["affected_appointments"].as_array().unwrap().len(),
        2
    );
    // Without a complete range nothing is listed.
    let res = assistant
        .get(&format!(
            "/api/doctor-absences/preview/?doctor_id={doctor_id}&start_date=2045-06-05"
        ))
        .await;
    assert_eq!(res.body["affected_appointments"], json!([]));
    app.stop().await;
}

/// Route order: the literal `preview/` is not captured by `{id}`.
#[tokio::test]
async fn preview_route_is_not_an_absence_id() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/doctor-absences/preview/").await;
    assert_eq!(res.status, 200);
    assert!(res.body.get("duration_workdays").is_some());
    assert_eq!(
        admin.get("/api/doctor-absences/previews/").await.status,
        404
    );
    assert_eq!(
        admin
            .send(
                Method::PATCH,
                "/api/doctor-absences/preview/",
                Some(&json!({}))
            )
            .await
            .status,
        403
    );
    app.stop().await;
}

/// Issue #10 item 6: absence writes take the doctor's lock before any row, and rewrite the
/// sibling snapshots in id order, so concurrent edits and creates for one doctor never
/// deadlock (PostgreSQL) and every stored snapshot matches the final ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_absence_edits_for_one_doctor_neither_deadlock_nor_go_stale() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.create_user("dr.busy", Some(Role::Doctor)).await;
    let monday = date("2045-01-02");
    let mut seeded = Vec::new();
    for week in 0..20 {
        let day = (monday + chrono::Duration::weeks(week)).to_string();
        seeded.push(absence_row(&admin, doctor.id, &day, &day, Some("Urlaub")).await);
    }
    let token = admin.token.clone().expect("admin token");
    let mut tasks = Vec::new();
    for (week, id) in seeded.iter().enumerate() {
        let week = i64::try_from(week).expect("small");
        // At once: even weeks' vacations become sick days, odd weeks' move to the Tuesday
        // (PUT); new one-day absences on the Wednesdays, vacation in odd weeks (POST).
        let start = monday + chrono::Duration::weeks(week);
        let odd = week % 2 == 1;
        let day = if odd {
            start + chrono::Duration::days(1)
        } else {
            start
        };
        let put = json!({"doctor": doctor.id, "start_date": day.to_string(),
            "end_date": day.to_string(), "reason": if odd { "Urlaub" } else { "Krank" }});
        let wednesday = (start + chrono::Duration::days(2)).to_string();
        let post = json!({"doctor": doctor.id, "start_date": wednesday, "end_date": wednesday,
            "reason": if odd { "Urlaub" } else { "Fortbildung" }});
        for (method, url, body) in [
            (
                Method::PUT,
                app.url(&format!("/api/doctor-absences/{id}/")),
                put,
            ),
            (Method::POST, app.url("/api/doctor-absences/"), post),
        ] {
            let http = app.http.clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let res = http
                    .request(method, url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("request");
                (res.status().as_u16(), res.text().await.expect("body"))
            }));
        }
    }
    let (mut updated, mut created) = (0, 0);
    for task in tasks {
        let (status, text) = task.await.expect("task");
        assert!(
            !text.to_lowercase().contains("deadlock"),
            "{status}: {text}"
        );
        match status {
            200 => updated += 1,
            201 => created += 1,
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!((updated, created), (20, 20));

    // Final rows: 40 one-day absences, 20 of them vacation; every snapshot as the ledger says.
    let store = app.store();
    let ledger = store
        .vacation_ledger(doctor.id)
        .await
        .expect("ledger")
        .expect("doctor exists");
    assert_eq!(ledger.absences.len(), 40);
    for span in &ledger.absences {
        let expected = ledger.snapshot(span);
        let stored = store
            .absence(span.id)
            .await
            .expect("absence")
            .expect("exists")
            .snapshot;
        assert_eq!(
            stored.duration_workdays,
            Some(i32::try_from(expected.duration_workdays).expect("small")),
            "absence {}",
            span.id
        );
        assert_eq!(stored.return_date, expected.return_date);
        assert_eq!(
            stored.remaining_days,
            expected
                .remaining_days
                .map(|days| i32::try_from(days).expect("small")),
            "absence {}",
            span.id
        );
    }
    // 30 days allowance - 20 vacation days in 2045.
    let balances: Vec<Option<u32>> = ledger
        .absences
        .iter()
        .map(|span| ledger.snapshot(span).remaining_days)
        .collect();
    assert_eq!(
        balances.iter().filter(|days| **days == Some(10)).count(),
        20
    );
    assert_eq!(balances.iter().filter(|days| days.is_none()).count(), 20);
    app.stop().await;
}
