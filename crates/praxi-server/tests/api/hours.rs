//! Practice hours, doctor hours, breaks and the doctor lists (api.md §3.3, §3.14, §3.15,
//! §3.17).

use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp};

const FORBIDDEN: &str = "You do not have permission to perform this action.";

/// The six callers of the RBAC matrix: admin, assistant, doctor, billing, no role, anonymous.
pub(crate) struct Callers<'a> {
    pub(crate) clients: Vec<(&'static str, Client<'a>)>,
}

impl<'a> Callers<'a> {
    pub(crate) async fn new(app: &'a TestApp) -> Callers<'a> {
        Callers {
            clients: vec![
                ("admin", app.as_role(Role::Admin).await),
                ("assistant", app.as_role(Role::Assistant).await),
                ("doctor", app.as_role(Role::Doctor).await),
                ("billing", app.as_role(Role::Billing).await),
                ("no role", app.as_no_role().await),
                ("anonymous", app.anonymous()),
            ],
        }
    }

    pub(crate) fn admin(&self) -> &Client<'a> {
        &self.clients[0].1
    }

    pub(crate) fn doctor(&self) -> &Client<'a> {
        &self.clients[2].1
    }

    pub(crate) fn doctor_id(&self) -> i64 {
        self.doctor().user_id()
    }

    /// Sends one request per caller (`paths[i]` for caller `i`) and checks the statuses;
    /// 403s must carry DRF's body.
    pub(crate) async fn expect(
        &self,
        method: Method,
        paths: &[String; 6],
        body: Option<&Value>,
        expected: [u16; 6],
    ) {
        for (((who, client), path), status) in self.clients.iter().zip(paths).zip(expected) {
            let res = client.send(method.clone(), path, body).await;
            assert_eq!(res.status, status, "{who} {method} {path}: {}", res.text);
            if status == 403 {
                assert_eq!(
                    res.body,
                    json!({"detail": FORBIDDEN}),
                    "{who} {method} {path}"
                );
            }
        }
    }
}

/// The same path for every caller.
pub(crate) fn same(path: &str) -> [String; 6] {
    std::array::from_fn(|_| path.to_owned())
}

/// The keys of a JSON object, in order.
pub(crate) fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["id"].as_i64().expect("id"))
        .collect()
}

async fn audit_actions(app: &TestApp, n: u64) -> Vec<String> {
    let mut rows: Vec<String> = app
        .store()
        .audit_log(None, n)
        .await
        .expect("audit log")
        .into_iter()
        .map(|row| row.action)
        .collect();
    rows.reverse();
    rows
}

// ---- practice hours -------------------------------------------------------------------------

async fn practice_row(admin: &Client<'_>, weekday: i64, start: &str, end: &str) -> i64 {
    let res = admin
        .post(
            "/api/practice-hours/",
            &json!({"weekday": weekday, "start_time": start, "end_time": end}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_i64().expect("created id")
}

#[tokio::test]
async fn practice_hours_rbac_matrix() {
    let app = TestApp::spawn().await;
    let callers = Callers::new(&app).await;
    let admin = callers.admin();
    let id = practice_row(admin, 0, "08:00", "18:00").await;
    let detail = format!("/api/practice-hours/{id}/");
    let body = json!({"weekday": 1, "start_time": "08:00", "end_time": "12:00"});

    callers
        .expect(
            Method::GET,
            &same("/api/practice-hours/"),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::POST,
            &same("/api/practice-hours/"),
            Some(&body),
            [201, 201, 403, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::GET,
            &same(&detail),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::PUT,
            &same(&detail),
            Some(&body),
            [200, 200, 403, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::PATCH,
            &same(&detail),
            Some(&json!({"active": false})),
            [200, 200, 403, 403, 403, 401],
        )
        .await;
    // No POST on a detail path, no DELETE on the list (DRF: 401 → 403 → 405).
    callers
        .expect(
            Method::POST,
            &same(&detail),
            Some(&body),
            [405, 405, 403, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::DELETE,
            &same("/api/practice-hours/"),
            None,
            [405, 405, 403, 403, 403, 401],
        )
        .await;
    let mut targets = Vec::new();
    for _ in 0..6 {
        targets.push(format!(
            "/api/practice-hours/{}/",
            practice_row(admin, 2, "08:00", "09:00").await
        ));
    }
    let targets: [String; 6] = targets.try_into().unwrap();
    callers
        .expect(
            Method::DELETE,
            &targets,
            None,
            [204, 204, 403, 403, 403, 401],
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn practice_hours_create_returns_the_original_shape() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/practice-hours/",
            &json!({"weekday": 0, "start_time": "08:00", "end_time": "18:00:00"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        keys(&res.body),
        [
            "id",
            "weekday",
            "start_time",
            "end_time",
            "active",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(res.body["weekday"], 0);
    assert_eq!(res.body["start_time"], "08:00:00");
    assert_eq!(res.body["end_time"], "18:00:00");
    assert_eq!(res.body["active"], true);
    assert!(res.body["created_at"].as_str().unwrap().starts_with("20"));
    app.stop().await;
}

#[tokio::test]
async fn practice_hours_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        (
            json!({"weekday": 7, "start_time": "08:00", "end_time": "09:00"}),
            "weekday",
            "Wochentag muss zwischen 0 (Montag) und 6 (Sonntag) liegen.",
        ),
        (
            json!({"weekday": -1, "start_time": "08:00", "end_time": "09:00"}),
            "weekday",
            "Wochentag muss zwischen 0 (Montag) und 6 (Sonntag) liegen.",
        ),
        (
            json!({"weekday": 1, "start_time": "09:00", "end_time": "09:00"}),
            "end_time",
            "Endzeit muss nach der Startzeit liegen.",
        ),
        (
            json!({"weekday": 1, "start_time": "10:00", "end_time": "09:00"}),
            "end_time",
            "Endzeit muss nach der Startzeit liegen.",
        ),
        (
            json!({"weekday": 1, "start_time": "8 Uhr", "end_time": "09:00"}),
            "start_time",
            "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].",
        ),
        (
            json!({"weekday": 1, "start_time": "25:00", "end_time": "09:00"}),
            "start_time",
            "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].",
        ),
        (
            json!({"weekday": "Montag", "start_time": "08:00", "end_time": "09:00"}),
            "weekday",
            "A valid integer is required.",
        ),
        (
            json!({"start_time": "08:00", "end_time": "09:00"}),
            "weekday",
            "This field is required.",
        ),
        (
            json!({"weekday": 1, "end_time": "09:00"}),
            "start_time",
            "This field is required.",
        ),
        (
            json!({"weekday": 1, "start_time": "08:00", "end_time": null}),
            "end_time",
            "This field may not be null.",
        ),
        (
            json!({"weekday": 1, "start_time": "08:00", "end_time": "09:00", "active": null}),
            "active",
            "This field may not be null.",
        ),
        (
            json!({"weekday": 1, "start_time": "08:00", "end_time": "09:00", "active": "ja"}),
            "active",
            "Must be a valid boolean.",
        ),
        (
            json!({"weekday": 1, "start_time": "08:00", "end_time": "09:00", "room": 1}),
            "room",
            "Unknown field.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/practice-hours/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    // Type errors and the weekday rule are reported together.
    let res = admin
        .post(
            "/api/practice-hours/",
            &json!({"weekday": 9, "start_time": "x", "end_time": "09:00"}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("weekday").is_some() && res.body.get("start_time").is_some());
    assert_eq!(app.store().count_practice_hours().await.unwrap(), 0);
    app.stop().await;
}

/// api.md §5 item 21: the original accepted `end_time` 05:00 on a 06:00–06:30 row.
#[tokio::test]
async fn practice_hours_patch_is_checked_against_the_stored_bound() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice_row(&admin, 0, "06:00", "06:30").await;
    let path = format!("/api/practice-hours/{id}/");
    let res = admin.patch(&path, &json!({"end_time": "05:00"})).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"end_time": ["Endzeit muss nach der Startzeit liegen."]})
    );
    let res = admin.patch(&path, &json!({"start_time": "06:30"})).await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("end_time").is_some());
    let res = admin.patch(&path, &json!({"weekday": 8})).await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("weekday").is_some());

    let res = admin.patch(&path, &json!({"start_time": "05:00"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["start_time"], "05:00:00");
    assert_eq!(res.body["end_time"], "06:30:00", "unsent bound kept");

    // PUT needs every required field; omitted `active` keeps the stored value.
    admin.patch(&path, &json!({"active": false})).await;
    let res = admin.put(&path, &json!({"weekday": 3})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["start_time"], json!(["This field is required."]));
    assert_eq!(res.body["end_time"], json!(["This field is required."]));
    let res = admin
        .put(
            &path,
            &json!({"id": 999, "weekday": 3, "start_time": "07:00", "end_time": "08:00",
                    "created_at": "ignored"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["id"], id, "a body id is read-only");
    assert_eq!(res.body["weekday"], 3);
    assert_eq!(res.body["active"], false);
    app.stop().await;
}

#[tokio::test]
async fn practice_hours_list_is_paginated_in_weekday_order() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let c = practice_row(&admin, 2, "08:00", "12:00").await;
    let a = practice_row(&admin, 0, "13:00", "18:00").await;
    let b = practice_row(&admin, 0, "08:00", "12:00").await;
    let d = practice_row(&admin, 2, "08:00", "10:00").await;
    let res = admin.get("/api/practice-hours/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["count"], 4);
    assert_eq!(res.body["next"], Value::Null);
    assert_eq!(res.body["previous"], Value::Null);
    assert_eq!(ids(&res.body), [b, a, c, d]);

    let res = admin.get("/api/practice-hours/?page_size=3").await;
    assert_eq!(ids(&res.body), [b, a, c]);
    assert!(
        res.body["next"]
            .as_str()
            .unwrap()
            .ends_with("/api/practice-hours/?page=2&page_size=3")
    );
    let res = admin.get("/api/practice-hours/?page=2&page_size=3").await;
    assert_eq!(ids(&res.body), [d]);
    let res = admin.get("/api/practice-hours/?page=3&page_size=3").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Invalid page."}));
    app.stop().await;
}

#[tokio::test]
async fn practice_hours_are_audited_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = practice_row(&admin, 0, "08:00", "18:00").await;
    let path = format!("/api/practice-hours/{id}/");
    assert_eq!(admin.get(&path).await.status, 200);
    assert_eq!(
        admin.patch(&path, &json!({"active": false})).await.status,
        200
    );
    assert_eq!(admin.get("/api/practice-hours/").await.status, 200);
    assert_eq!(admin.delete(&path).await.status, 204);
    // Unknown ids: 404 with the model name, and no `view` row.
    let res = admin.get(&path).await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        json!({"detail": "No PracticeHours matches the given query."})
    );
    assert_eq!(admin.delete(&path).await.status, 404);
    assert_eq!(
        admin.patch(&path, &json!({"active": true})).await.status,
        404
    );
    assert_eq!(admin.get("/api/practice-hours/abc/").await.status, 404);
    assert_eq!(
        audit_actions(&app, 5).await,
        [
            "practice_hours_create",
            "practice_hours_update",
            "practice_hours_delete"
        ]
    );
    let rows = app
        .store()
        .audit_log(Some("practice_hours_update"), 1)
        .await
        .unwrap();
    assert_eq!(rows[0].meta, Some(json!({"id": id})));
    assert_eq!(rows[0].role_name, "admin");
    app.stop().await;
}

// ---- doctor hours ---------------------------------------------------------------------------

async fn doctor_hours_row(
    admin: &Client<'_>,
    doctor: i64,
    weekday: i64,
    start: &str,
    end: &str,
) -> i64 {
    let res = admin
        .post(
            "/api/doctor-hours/",
            &json!({"doctor": doctor, "weekday": weekday, "start_time": start, "end_time": end}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_i64().expect("created id")
}

#[tokio::test]
async fn doctor_hours_rbac_matrix() {
    let app = TestApp::spawn().await;
    let callers = Callers::new(&app).await;
    let admin = callers.admin();
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let own = doctor_hours_row(admin, callers.doctor_id(), 0, "08:00", "12:00").await;
    let foreign = doctor_hours_row(admin, other.id, 0, "08:00", "12:00").await;
    let own_path = format!("/api/doctor-hours/{own}/");
    let foreign_path = format!("/api/doctor-hours/{foreign}/");

    callers
        .expect(
            Method::GET,
            &same("/api/doctor-hours/"),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::GET,
            &same(&own_path),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::GET,
            &same(&foreign_path),
            None,
            [200, 200, 404, 200, 403, 401],
        )
        .await;
    // One request per caller on its own weekday, so the successful ones do not overlap.
    let post_paths = same("/api/doctor-hours/");
    for (idx, ((who, client), status)) in callers
        .clients
        .iter()
        .zip([201, 201, 403, 403, 403, 401])
        .enumerate()
    {
        let body = json!({"doctor": other.id, "weekday": idx, "start_time": "14:00",
                          "end_time": "15:00"});
        let res = client.post(&post_paths[idx], &body).await;
        assert_eq!(res.status, status, "{who} POST: {}", res.text);
    }
    for path in [&own_path, &foreign_path] {
        callers
            .expect(
                Method::PATCH,
                &same(path),
                Some(&json!({"active": true})),
                [200, 200, 403, 403, 403, 401],
            )
            .await;
    }
    callers
        .expect(
            Method::PUT,
            &same(&own_path),
            Some(&json!({"doctor": callers.doctor_id(), "weekday": 0,
                         "start_time": "08:00", "end_time": "12:00"})),
            [200, 200, 403, 403, 403, 401],
        )
        .await;
    let mut targets = Vec::new();
    for idx in 0..6 {
        let id = doctor_hours_row(
            admin,
            callers.doctor_id(),
            5,
            &format!("{:02}:00", 8 + idx),
            &format!("{:02}:30", 8 + idx),
        )
        .await;
        targets.push(format!("/api/doctor-hours/{id}/"));
    }
    let targets: [String; 6] = targets.try_into().unwrap();
    callers
        .expect(
            Method::DELETE,
            &targets,
            None,
            [204, 204, 403, 403, 403, 401],
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_list_only_their_own_hours() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.as_role(Role::Doctor).await;
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let own_late = doctor_hours_row(&admin, doctor.user_id(), 1, "13:00", "17:00").await;
    let foreign = doctor_hours_row(&admin, other.id, 0, "08:00", "12:00").await;
    let own_early = doctor_hours_row(&admin, doctor.user_id(), 1, "08:00", "12:00").await;
    let own_monday = doctor_hours_row(&admin, doctor.user_id(), 0, "08:00", "12:00").await;

    let res = doctor.get("/api/doctor-hours/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["count"], 3);
    assert_eq!(ids(&res.body), [own_monday, own_early, own_late]);

    // Everyone else sees all rows ordered by doctor, weekday, start time, id.
    let res = admin.get("/api/doctor-hours/").await;
    assert_eq!(res.body["count"], 4);
    let mut expected = vec![own_monday, own_early, own_late];
    if other.id < doctor.user_id() {
        expected.insert(0, foreign);
    } else {
        expected.push(foreign);
    }
    assert_eq!(ids(&res.body), expected);
    assert_eq!(
        keys(&res.body["results"][0]),
        [
            "id",
            "doctor",
            "weekday",
            "start_time",
            "end_time",
            "active",
            "created_at",
            "updated_at"
        ]
    );

    let res = doctor.get(&format!("/api/doctor-hours/{foreign}/")).await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        json!({"detail": "No DoctorHours matches the given query."})
    );
    assert_eq!(
        app.store()
            .audit_log(Some("doctor_hours_view"), 10)
            .await
            .unwrap()
            .len(),
        0,
        "a hidden row writes no view audit"
    );
    assert!(
        app.store()
            .audit_log(Some("doctor_hours_list"), 1)
            .await
            .unwrap()
            .is_empty(),
        "master-data lists are not audited"
    );
    app.stop().await;
}

/// api.md §5 item 5 / data-model.md §15 item 11: only active doctors own hours.
#[tokio::test]
async fn doctor_hours_need_an_active_doctor() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let retired = app.create_user("dr.retired", Some(Role::Doctor)).await;
    app.store()
        .set_user_active(retired.id, false)
        .await
        .unwrap();
    let nurse = app.create_user("nurse", None).await;
    let body = |doctor: Value| json!({"doctor": doctor, "weekday": 0, "start_time": "08:00", "end_time": "12:00"});
    let not_a_doctor = |id: i64| format!("Benutzer {id} hat nicht die Rolle Arzt.");
    let cases = [
        (
            json!(99999),
            "Invalid pk \"99999\" - object does not exist.".to_owned(),
        ),
        (
            json!(assistant.user_id()),
            not_a_doctor(assistant.user_id()),
        ),
        (json!(nurse.id), not_a_doctor(nurse.id)),
        (
            json!(retired.id),
            format!("Benutzer {} ist nicht aktiv.", retired.id),
        ),
        (json!(null), "This field may not be null.".to_owned()),
        (json!("abc"), "A valid integer is required.".to_owned()),
    ];
    for (doctor, message) in cases {
        let res = assistant
            .post("/api/doctor-hours/", &body(doctor.clone()))
            .await;
        assert_eq!(res.status, 400, "{doctor}: {}", res.text);
        assert_eq!(res.body, json!({"doctor": [message]}), "{doctor}");
    }
    let res = assistant
        .post(
            "/api/doctor-hours/",
            &json!({"weekday": 0, "start_time": "08:00", "end_time": "12:00"}),
        )
        .await;
    assert_eq!(res.body, json!({"doctor": ["This field is required."]}));

    let id = doctor_hours_row(&assistant, doctor.id, 0, "08:00", "12:00").await;
    let path = format!("/api/doctor-hours/{id}/");
    let res = assistant.patch(&path, &json!({"doctor": nurse.id})).await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("doctor").is_some());
    // A doctor who leaves keeps their rows, which can still be switched off.
    app.store().set_user_active(doctor.id, false).await.unwrap();
    let res = assistant.patch(&path, &json!({"active": false})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["active"], false);
    app.stop().await;
}

/// data-model.md §15 item 10: active windows of a doctor may not overlap on a weekday.
#[tokio::test]
async fn overlapping_active_doctor_hours_are_rejected() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let other = app.create_user("dr.b", Some(Role::Doctor)).await;
    let morning = doctor_hours_row(&admin, doctor.id, 0, "08:00", "12:00").await;
    let post = |doctor: i64, weekday: i64, start: &str, end: &str, active: bool| {
        json!({"doctor": doctor, "weekday": weekday, "start_time": start, "end_time": end,
               "active": active})
    };
    let cases = [
        (post(doctor.id, 0, "08:00", "12:00", true), 400),
        (post(doctor.id, 0, "11:00", "13:00", true), 400),
        (post(doctor.id, 0, "07:00", "08:01", true), 400),
        (post(doctor.id, 0, "09:00", "10:00", true), 400),
        (post(doctor.id, 0, "06:00", "14:00", true), 400),
        (post(doctor.id, 0, "12:00", "16:00", true), 201),
        (post(doctor.id, 0, "06:00", "08:00", true), 201),
        (post(doctor.id, 1, "08:00", "12:00", true), 201),
        (post(other.id, 0, "08:00", "12:00", true), 201),
        (post(doctor.id, 0, "09:00", "11:00", false), 201),
        (post(doctor.id, 0, "08:00", "12:00", false), 201),
    ];
    for (body, status) in cases {
        let res = admin.post("/api/doctor-hours/", &body).await;
        assert_eq!(res.status, status, "{body}: {}", res.text);
        if status == 400 {
            let messages = res.body["start_time"].as_array().expect("start_time error");
            assert!(
                messages[0].as_str().unwrap().contains("08:00–12:00"),
                "{}",
                res.text
            );
            assert_eq!(keys(&res.body), ["start_time"]);
        }
    }
    // An exact inactive duplicate hits the database's unique slot: still a 400 on start_time.
    let res = admin
        .post(
            "/api/doctor-hours/",
            &post(doctor.id, 0, "08:00", "12:00", false),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("start_time").is_some());

    // Activating an overlapping inactive window, or moving one into another, is rejected;
    // a row never conflicts with itself.
    let list = admin.get("/api/doctor-hours/?page_size=100").await;
    let inactive = list.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["start_time"] == "09:00:00")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = admin
        .patch(
            &format!("/api/doctor-hours/{inactive}/"),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("start_time").is_some());
    let res = admin
        .patch(
            &format!("/api/doctor-hours/{morning}/"),
            &json!({"end_time": "11:30"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .patch(
            &format!("/api/doctor-hours/{morning}/"),
            &json!({"end_time": "12:30"}),
        )
        .await;
    assert_eq!(res.status, 400, "overlaps 12:00–16:00: {}", res.text);
    let res = admin
        .patch(
            &format!("/api/doctor-hours/{morning}/"),
            &json!({"end_time": "06:00"}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"end_time": ["Endzeit muss nach der Startzeit liegen."]})
    );
    app.stop().await;
}

#[tokio::test]
async fn doctor_hours_are_audited() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let doctor = app.create_user("dr.a", Some(Role::Doctor)).await;
    let id = doctor_hours_row(&assistant, doctor.id, 0, "08:00", "12:00").await;
    let path = format!("/api/doctor-hours/{id}/");
    assert_eq!(assistant.get(&path).await.status, 200);
    assert_eq!(
        assistant
            .put(
                &path,
                &json!({"doctor": doctor.id, "weekday": 1, "start_time": "08:00",
                                "end_time": "12:00"})
            )
            .await
            .status,
        200
    );
    assert_eq!(assistant.get("/api/doctor-hours/").await.status, 200);
    assert_eq!(assistant.delete(&path).await.status, 204);
    assert_eq!(assistant.get(&path).await.status, 404);
    assert_eq!(
        audit_actions(&app, 5).await,
        [
            "doctor_hours_create",
            "doctor_hours_update",
            "doctor_hours_delete"
        ]
    );
    app.stop().await;
}

// ---- breaks ---------------------------------------------------------------------------------

async fn break_row(
    admin: &Client<'_>,
    doctor: Option<i64>,
    date: &str,
    start: &str,
    end: &str,
) -> i64 {
    let res = admin
        .post(
            "/api/doctor-breaks/",
            &json!({"doctor": doctor, "date": date, "start_time": start, "end_time": end}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.body["id"].as_i64().expect("created id")
}

#[tokio::test]
async fn doctor_breaks_rbac_matrix() {
    let app = TestApp::spawn().await;
    let callers = Callers::new(&app).await;
    let admin = callers.admin();
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let own = break_row(
        admin,
        Some(callers.doctor_id()),
        "2045-06-08",
        "12:00",
        "12:30",
    )
    .await;
    let foreign = break_row(admin, Some(other.id), "2045-06-08", "12:00", "12:30").await;
    let practice = break_row(admin, None, "2045-06-08", "12:00", "12:10").await;
    let path = |id: i64| format!("/api/doctor-breaks/{id}/");
    let body = json!({"date": "2045-06-09", "start_time": "12:00", "end_time": "12:30"});

    callers
        .expect(
            Method::GET,
            &same("/api/doctor-breaks/"),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::POST,
            &same("/api/doctor-breaks/"),
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
    // Practice-wide breaks block every doctor, so doctors may read them (scheduling.md W25).
    callers
        .expect(
            Method::GET,
            &same(&path(practice)),
            None,
            [200, 200, 200, 200, 403, 401],
        )
        .await;
    let patch = json!({"reason": "Mittag"});
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
            Method::PATCH,
            &same(&path(practice)),
            Some(&patch),
            [200, 200, 404, 403, 403, 401],
        )
        .await;
    callers
        .expect(
            Method::PUT,
            &same(&path(own)),
            Some(&json!({"doctor": callers.doctor_id(), "date": "2045-06-08",
                         "start_time": "12:00", "end_time": "12:45"})),
            [200, 200, 200, 403, 403, 401],
        )
        .await;
    let mut targets = Vec::new();
    for _ in 0..6 {
        targets.push(path(
            break_row(
                admin,
                Some(callers.doctor_id()),
                "2045-06-10",
                "12:00",
                "12:30",
            )
            .await,
        ));
    }
    let targets: [String; 6] = targets.try_into().unwrap();
    callers
        .expect(
            Method::DELETE,
            &targets,
            None,
            [204, 204, 204, 403, 403, 401],
        )
        .await;
    let mut targets = Vec::new();
    for _ in 0..6 {
        targets.push(path(
            break_row(admin, Some(other.id), "2045-06-10", "12:00", "12:30").await,
        ));
    }
    let targets: [String; 6] = targets.try_into().unwrap();
    callers
        .expect(
            Method::DELETE,
            &targets,
            None,
            [204, 204, 404, 403, 403, 401],
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn doctors_see_own_and_practice_wide_breaks_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.as_role(Role::Doctor).await;
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let practice = break_row(&admin, None, "2045-06-08", "12:00", "12:10").await;
    let own = break_row(
        &admin,
        Some(doctor.user_id()),
        "2045-06-08",
        "12:00",
        "12:30",
    )
    .await;
    let own_early = break_row(
        &admin,
        Some(doctor.user_id()),
        "2045-06-08",
        "09:00",
        "09:30",
    )
    .await;
    let foreign = break_row(&admin, Some(other.id), "2045-06-07", "12:00", "12:30").await;

    let res = doctor.get("/api/doctor-breaks/").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        ids(&res.body),
        [own_early, own, practice],
        "practice-wide last"
    );
    let res = admin.get("/api/doctor-breaks/").await;
    assert_eq!(ids(&res.body), [foreign, own_early, own, practice]);
    let first = &res.body["results"][0];
    assert_eq!(
        keys(first),
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
    assert_eq!(first["color"], "#FFD700");
    assert_eq!(first["reason"], Value::Null, "reason omitted → null");
    assert_eq!(first["doctor"], other.id);
    assert_eq!(res.body["results"][3]["doctor"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn break_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let nurse = app.create_user("nurse", None).await;
    let nurse_message = format!("Benutzer {} hat nicht die Rolle Arzt.", nurse.id);
    let cases = [
        (
            json!({"date": "2045-06-08", "start_time": "12:30", "end_time": "12:00"}),
            "end_time",
            "Endzeit muss nach der Startzeit liegen.",
        ),
        (
            json!({"date": "2045-02-30", "start_time": "12:00", "end_time": "12:30"}),
            "date",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        (
            json!({"start_time": "12:00", "end_time": "12:30"}),
            "date",
            "This field is required.",
        ),
        (
            json!({"date": "2045-06-08", "start_time": "12:00", "end_time": "12:30",
                   "reason": "x".repeat(256)}),
            "reason",
            "Ensure this field has no more than 255 characters.",
        ),
        (
            json!({"doctor": nurse.id, "date": "2045-06-08", "start_time": "12:00",
                   "end_time": "12:30"}),
            "doctor",
            nurse_message.as_str(),
        ),
        (
            json!({"doctor": 99999, "date": "2045-06-08", "start_time": "12:00",
                   "end_time": "12:30"}),
            "doctor",
            "Invalid pk \"99999\" - object does not exist.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/doctor-breaks/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    assert_eq!(
        app.store()
            .count_breaks(praxi_store::hours::Visibility::All)
            .await
            .unwrap(),
        0
    );
    // PATCH of one bound is compared with the stored other one (as in the original).
    let id = break_row(&admin, None, "2045-06-08", "12:00", "12:10").await;
    let path = format!("/api/doctor-breaks/{id}/");
    let res = admin.patch(&path, &json!({"end_time": "11:00"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"end_time": ["Endzeit muss nach der Startzeit liegen."]})
    );
    let res = admin
        .patch(
            &path,
            &json!({"reason": "  Teambesprechung ", "color": "#000000"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["reason"], "Teambesprechung");
    assert_eq!(res.body["color"], "#FFD700", "color is read-only");
    let res = admin.patch(&path, &json!({"reason": null})).await;
    assert_eq!(res.body["reason"], Value::Null);
    app.stop().await;
}

/// api.md §5 item 5: a doctor may edit their own break but not hand it to someone else.
#[tokio::test]
async fn doctors_cannot_reassign_their_breaks() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let doctor = app.as_role(Role::Doctor).await;
    let other = app.create_user("dr.other", Some(Role::Doctor)).await;
    let id = break_row(
        &admin,
        Some(doctor.user_id()),
        "2045-06-08",
        "12:00",
        "12:30",
    )
    .await;
    let path = format!("/api/doctor-breaks/{id}/");
    for doctor_value in [json!(other.id), json!(null)] {
        let res = doctor.patch(&path, &json!({"doctor": doctor_value})).await;
        assert_eq!(res.status, 400, "{doctor_value}: {}", res.text);
        assert_eq!(
            res.body,
            json!({"doctor": ["Ärzte dürfen den Arzt eines eigenen Eintrags nicht ändern."]})
        );
    }
    let res = doctor
        .patch(
            &path,
            &json!({"doctor": doctor.user_id(), "end_time": "12:20"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["doctor"], doctor.user_id());
    // Staff may move a break to another doctor or make it practice-wide.
    let res = admin.patch(&path, &json!({"doctor": other.id})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["doctor"], other.id);
    let res = admin.patch(&path, &json!({"doctor": null})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["doctor"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn breaks_are_audited() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = break_row(&admin, None, "2045-06-08", "12:00", "12:10").await;
    let path = format!("/api/doctor-breaks/{id}/");
    assert_eq!(admin.get(&path).await.status, 200);
    assert_eq!(
        admin.patch(&path, &json!({"active": false})).await.status,
        200
    );
    assert_eq!(admin.get("/api/doctor-breaks/").await.status, 200);
    assert_eq!(admin.delete(&path).await.status, 204);
    let res = admin.get(&path).await;
    assert_eq!(
        res.body,
        json!({"detail": "No DoctorBreak matches the given query."})
    );
    assert_eq!(
        audit_actions(&app, 5).await,
        [
            "doctor_break_create",
            "doctor_break_update",
            "doctor_break_delete"
        ]
    );
    app.stop().await;
}

// ---- doctor lists ---------------------------------------------------------------------------

#[tokio::test]
async fn doctor_lists_rbac_matrix() {
    let app = TestApp::spawn().await;
    let callers = Callers::new(&app).await;
    for path in ["/api/doctors/", "/api/appointments/doctors/"] {
        callers
            .expect(
                Method::GET,
                &same(path),
                None,
                [200, 200, 200, 200, 403, 401],
            )
            .await;
        // No create endpoint: 405 for every API role (api.md §3.3).
        callers
            .expect(
                Method::POST,
                &same(path),
                Some(&json!({})),
                [405, 405, 405, 405, 403, 401],
            )
            .await;
        callers
            .expect(
                Method::DELETE,
                &same(path),
                None,
                [405, 405, 405, 405, 403, 401],
            )
            .await;
    }
    assert!(
        app.store().audit_log(None, 10).await.unwrap().is_empty(),
        "doctor lists are not audited"
    );
    app.stop().await;
}

#[tokio::test]
async fn doctor_lists_show_active_doctors_filtered_by_q() {
    let app = TestApp::spawn().await;
    let billing = app.as_role(Role::Billing).await;
    // helpers name users "First <username>" / "Last <username>".
    let zeta = app.create_user("zeta", Some(Role::Doctor)).await;
    let alpha = app.create_user("alpha", Some(Role::Doctor)).await;
    let retired = app.create_user("retired", Some(Role::Doctor)).await;
    app.store()
        .set_user_active(retired.id, false)
        .await
        .unwrap();
    app.create_user("assist", Some(Role::Assistant)).await;

    let res = billing.get("/api/doctors/").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body,
        json!([
            {"id": alpha.id, "name": "First alpha Last alpha", "calendar_color": "#1E90FF"},
            {"id": zeta.id, "name": "First zeta Last zeta", "calendar_color": "#1E90FF"},
        ])
    );
    let alias = billing.get("/api/appointments/doctors/").await;
    assert_eq!(alias.body, res.body, "both paths are identical");

    for (q, expected) in [
        ("ZETA", vec![zeta.id]),
        ("last al", vec![alpha.id]),
        ("zeta@example", vec![zeta.id]),
        ("example.test", vec![alpha.id, zeta.id]),
        ("retired", vec![]),
        ("assist", vec![]),
        ("%", vec![]),
        ("", vec![alpha.id, zeta.id]),
    ] {
        let res = billing
            .get(&format!(
                "/api/appointments/doctors/?q={}",
                q.replace(' ', "+").replace('%', "%25")
            ))
            .await;
        let found: Vec<i64> = res
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|doctor| doctor["id"].as_i64().unwrap())
            .collect();
        assert_eq!(found, expected, "q={q}");
    }
    app.stop().await;
}
