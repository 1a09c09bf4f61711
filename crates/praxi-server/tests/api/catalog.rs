//! Catalogue master data: `/api/appointment-types/`, `/api/operation-types/`,
//! `/api/resources/` (api.md §3.4, §3.8, §3.12).

use chrono::{DateTime, Duration, TimeZone, Utc};
use praxi_domain::Role;
use praxi_store::entity::{appointment, appointment_resource, operation, operation_device};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp};

const FORBIDDEN: &str = "You do not have permission to perform this action.";

fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .expect("object body")
        .keys()
        .map(String::as_str)
        .collect()
}

fn names(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .expect("results array")
        .iter()
        .map(|item| item["name"].as_str().expect("name"))
        .collect()
}

async fn create(client: &Client<'_>, path: &str, body: Value) -> i64 {
    let res = client.post(path, &body).await;
    assert_eq!(res.status, 201, "{path} {body}: {}", res.text);
    res.body["id"].as_i64().expect("id")
}

/// The audit actions written so far, oldest first.
async fn audit_actions(app: &TestApp) -> Vec<String> {
    let rows = app.store().audit_log(None, 1000).await.expect("audit log");
    rows.into_iter().rev().map(|row| row.action).collect()
}

// ---- bookings inserted directly (there is no booking API yet) ----------------------------

/// A patient and a doctor that bookings can point at.
struct Booker {
    patient_id: i32,
    doctor_id: i64,
}

async fn booker(app: &TestApp) -> Booker {
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/patients/",
            &json!({"id": 4711, "last_name": "Muster"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let doctor = app.create_user("doc", Some(Role::Doctor)).await;
    Booker {
        patient_id: 4711,
        doctor_id: doctor.id,
    }
}

/// A start time per slot number, far enough apart never to overlap.
fn slot(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2043, 3, 2, 8, 0, 0)
        .single()
        .expect("valid")
        + Duration::hours(2 * n)
}

async fn insert_appointment(app: &TestApp, booker: &Booker, n: i64, type_id: Option<i64>) -> i32 {
    let now = Utc::now();
    let row = appointment::ActiveModel {
        patient_id: Set(booker.patient_id),
        type_id: Set(type_id),
        doctor_id: Set(booker.doctor_id),
        start_time: Set(slot(n)),
        end_time: Set(slot(n) + Duration::minutes(30)),
        status: Set("scheduled".to_owned()),
        is_no_show: Set(false),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert appointment");
    row.id
}

async fn link_appointment_resource(app: &TestApp, appointment_id: i32, resource_id: i64) {
    appointment_resource::ActiveModel {
        appointment_id: Set(appointment_id),
        resource_id: Set(resource_id),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert appointment resource");
}

async fn insert_operation(
    app: &TestApp,
    booker: &Booker,
    n: i64,
    room_id: i64,
    op_type_id: i64,
) -> i64 {
    let now = Utc::now();
    let row = operation::ActiveModel {
        patient_id: Set(booker.patient_id),
        primary_surgeon_id: Set(booker.doctor_id),
        assistant_id: Set(None),
        anesthesist_id: Set(None),
        op_room_id: Set(room_id),
        op_room_type: Set("room".to_owned()),
        op_type_id: Set(op_type_id),
        start_time: Set(slot(n)),
        end_time: Set(slot(n) + Duration::minutes(40)),
        prep_duration: Set(5),
        op_duration: Set(30),
        post_duration: Set(5),
        status: Set("planned".to_owned()),
        notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert operation");
    row.id
}

async fn link_operation_device(app: &TestApp, operation_id: i64, resource_id: i64) {
    operation_device::ActiveModel {
        operation_id: Set(operation_id),
        resource_id: Set(resource_id),
        resource_type: Set("device".to_owned()),
        ..Default::default()
    }
    .insert(app.store().conn())
    .await
    .expect("insert operation device");
}

// ---- RBAC ----------------------------------------------------------------------------

/// Runs `(method, path, body, [admin, assistant, doctor, billing, no role, anonymous])`
/// rows against one client per role; every 403 must carry DRF's body.
async fn check_matrix(app: &TestApp, rows: Vec<(Method, String, Option<Value>, [u16; 6])>) {
    let clients = [
        ("admin", app.as_role(Role::Admin).await),
        ("assistant", app.as_role(Role::Assistant).await),
        ("doctor", app.as_role(Role::Doctor).await),
        ("billing", app.as_role(Role::Billing).await),
        ("no role", app.as_no_role().await),
        ("anonymous", app.anonymous()),
    ];
    for (method, path, body, expected) in rows {
        for ((who, client), status) in clients.iter().zip(expected) {
            let res = client.send(method.clone(), &path, body.as_ref()).await;
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

/// The matrix of a catalogue resource (api.md §2.2 with §5: no role → 403 everywhere).
/// `writers` are the expected statuses of a successful write for the four roles.
fn matrix_rows(
    base: &str,
    id: i64,
    body: &Value,
    write: [u16; 6],
    delete: [u16; 6],
    other_method: [u16; 6],
) -> Vec<(Method, String, Option<Value>, [u16; 6])> {
    let read = [200, 200, 200, 200, 403, 401];
    let created = write.map(|status| if status == 200 { 201 } else { status });
    let detail = format!("{base}{id}/");
    vec![
        (Method::GET, base.to_owned(), None, read),
        (Method::GET, detail.clone(), None, read),
        (Method::POST, base.to_owned(), Some(body.clone()), created),
        (Method::PUT, detail.clone(), Some(body.clone()), write),
        (
            Method::PATCH,
            detail.clone(),
            Some(json!({"active": true})),
            write,
        ),
        // Methods a route does not implement: 401, then 403 for non-writers, else 405.
        (Method::DELETE, base.to_owned(), None, other_method),
        (
            Method::PUT,
            base.to_owned(),
            Some(body.clone()),
            other_method,
        ),
        (
            Method::POST,
            detail.clone(),
            Some(body.clone()),
            other_method,
        ),
        // The first allowed DELETE removes the row; later writers would get 404.
        (Method::DELETE, detail, None, delete),
    ]
}

#[tokio::test]
async fn appointment_types_rbac_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(&admin, "/api/appointment-types/", json!({"name": "A"})).await;
    let rows = matrix_rows(
        "/api/appointment-types/",
        id,
        &json!({"name": "B"}),
        [200, 403, 403, 403, 403, 401],
        [204, 403, 403, 403, 403, 401],
        [405, 403, 403, 403, 403, 401],
    );
    check_matrix(&app, rows).await;
    app.stop().await;
}

#[tokio::test]
async fn operation_types_rbac_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(&admin, "/api/operation-types/", json!({"name": "A"})).await;
    let rows = matrix_rows(
        "/api/operation-types/",
        id,
        &json!({"name": "B"}),
        [200, 403, 403, 403, 403, 401],
        [204, 403, 403, 403, 403, 401],
        [405, 403, 403, 403, 403, 401],
    );
    check_matrix(&app, rows).await;
    app.stop().await;
}

#[tokio::test]
async fn resources_rbac_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(
        &admin,
        "/api/resources/",
        json!({"name": "A", "type": "room"}),
    )
    .await;
    let rows = matrix_rows(
        "/api/resources/",
        id,
        &json!({"name": "B", "type": "room"}),
        [200, 200, 403, 403, 403, 401],
        [204, 404, 403, 403, 403, 401],
        [405, 405, 403, 403, 403, 401],
    );
    check_matrix(&app, rows).await;
    app.stop().await;
}

#[tokio::test]
async fn a_forbidden_write_is_403_even_with_a_broken_body() {
    let app = TestApp::spawn().await;
    let billing = app.as_role(Role::Billing).await;
    for path in [
        "/api/appointment-types/",
        "/api/operation-types/",
        "/api/resources/",
    ] {
        let res = billing
            .raw(Method::POST, path, "application/json", b"{oops".to_vec())
            .await;
        assert_eq!(res.status, 403, "{path}: {}", res.text);
    }
    app.stop().await;
}

// ---- appointment types -----------------------------------------------------------------

#[tokio::test]
async fn appointment_type_create_returns_the_item_with_the_original_defaults() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post("/api/appointment-types/", &json!({"name": " Check-up "}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        keys(&res.body),
        [
            "id",
            "name",
            "color",
            "duration_minutes",
            "active",
            "created_at",
            "updated_at",
            "buffer_before_minutes",
            "buffer_after_minutes"
        ]
    );
    assert_eq!(res.body["name"], "Check-up");
    assert_eq!(res.body["color"], "#2E8B57");
    assert_eq!(res.body["duration_minutes"], Value::Null);
    assert_eq!(res.body["active"], true);
    assert!(res.body["created_at"].is_string());

    let res = admin
        .post(
            "/api/appointment-types/",
            &json!({"name": "Kurz", "color": "#112233", "duration_minutes": 20, "active": false}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["color"], "#112233");
    assert_eq!(res.body["duration_minutes"], 20);
    assert_eq!(res.body["active"], false);
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_validation_errors_name_their_fields() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        (json!({}), "name", "This field is required."),
        (
            json!({"name": "  "}),
            "name",
            "This field may not be blank.",
        ),
        (json!({"name": null}), "name", "This field may not be null."),
        (
            json!({"name": "x".repeat(101)}),
            "name",
            "Ensure this field has no more than 100 characters.",
        ),
        (
            json!({"name": "A", "duration_minutes": 0}),
            "duration_minutes",
            "duration_minutes muss > 0 sein.",
        ),
        (
            json!({"name": "A", "duration_minutes": -10}),
            "duration_minutes",
            "duration_minutes muss > 0 sein.",
        ),
        (
            json!({"name": "A", "duration_minutes": "zwanzig"}),
            "duration_minutes",
            "A valid integer is required.",
        ),
        (
            json!({"name": "A", "duration_minutes": 3_000_000_000_i64}),
            "duration_minutes",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        // The original accepted any colour text; Praxi requires #RRGGBB.
        (
            json!({"name": "A", "color": "red"}),
            "color",
            "Enter a colour in the form #RRGGBB.",
        ),
        (
            json!({"name": "A", "color": "#12"}),
            "color",
            "Enter a colour in the form #RRGGBB.",
        ),
        (
            json!({"name": "A", "active": null}),
            "active",
            "This field may not be null.",
        ),
        (
            json!({"name": "A", "active": "vielleicht"}),
            "active",
            "Must be a valid boolean.",
        ),
        (
            json!({"name": "A", "colour": "#112233"}),
            "colour",
            "Unknown field.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/appointment-types/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body, json!({ field: [message] }), "{body}");
    }
    let res = admin.get("/api/appointment-types/").await;
    assert_eq!(res.body["count"], 0, "no rejected row stored");
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_blank_or_null_colour_is_stored_as_no_colour() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for color in [json!(null), json!("")] {
        let res = admin
            .post(
                "/api/appointment-types/",
                &json!({"name": "Ohne Farbe", "color": color}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["color"], Value::Null);
    }
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_list_is_paginated_in_name_order_and_filters_active() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for (name, active) in [("Zeta", true), ("Alpha", false), ("Mitte", true)] {
        create(
            &admin,
            "/api/appointment-types/",
            json!({"name": name, "active": active}),
        )
        .await;
    }
    let res = admin.get("/api/appointment-types/").await;
    assert_eq!(res.status, 200);
    assert_eq!(keys(&res.body), ["count", "next", "previous", "results"]);
    assert_eq!(names(&res.body), ["Alpha", "Mitte", "Zeta"]);

    let res = admin.get("/api/appointment-types/?active=true").await;
    assert_eq!(names(&res.body), ["Mitte", "Zeta"]);
    let res = admin.get("/api/appointment-types/?active=FALSE").await;
    assert_eq!(names(&res.body), ["Alpha"]);
    let res = admin.get("/api/appointment-types/?active=maybe").await;
    assert_eq!(res.body["count"], 3, "unknown values filter nothing");

    let res = admin
        .get("/api/appointment-types/?active=true&page_size=1")
        .await;
    assert_eq!(res.body["count"], 2);
    assert_eq!(names(&res.body), ["Mitte"]);
    let next = res.body["next"].as_str().expect("next link");
    assert!(
        next.ends_with("/api/appointment-types/?page=2&active=true&page_size=1"),
        "{next}"
    );
    let res = admin
        .get("/api/appointment-types/?page=3&page_size=1&active=true")
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Invalid page."}));
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_patch_changes_only_sent_fields_and_put_requires_name() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(
        &admin,
        "/api/appointment-types/",
        json!({"name": "Vorsorge", "color": "#112233", "duration_minutes": 30}),
    )
    .await;
    let path = format!("/api/appointment-types/{id}/");
    let res = admin.patch(&path, &json!({"duration_minutes": 45})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["name"], "Vorsorge");
    assert_eq!(res.body["color"], "#112233");
    assert_eq!(res.body["duration_minutes"], 45);
    assert_eq!(res.body["id"], id);

    let res = admin.put(&path, &json!({"color": "#445566"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"name": ["This field is required."]}));

    // PUT replaces the sent fields; the read-only fields a client echoes back are ignored.
    let mut echoed = admin.get(&path).await.body;
    echoed["name"] = json!("Vorsorge neu");
    echoed["duration_minutes"] = json!(null);
    echoed["id"] = json!(999);
    let res = admin.put(&path, &echoed).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["id"], id);
    assert_eq!(res.body["name"], "Vorsorge neu");
    assert_eq!(res.body["duration_minutes"], Value::Null);
    assert_eq!(res.body["color"], "#112233");

    let res = admin.patch(&path, &json!({"color": "blau"})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"color": ["Enter a colour in the form #RRGGBB."]})
    );
    assert_eq!(admin.get(&path).await.body["color"], "#112233", "unchanged");
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_unknown_ids_are_404_before_body_errors() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let not_found = json!({"detail": "No AppointmentType matches the given query."});
    let res = admin.get("/api/appointment-types/999/").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, not_found);
    let res = admin
        .patch("/api/appointment-types/999/", &json!({"name": ""}))
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, not_found);
    let res = admin.delete("/api/appointment-types/999/").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, not_found);
    assert_eq!(admin.get("/api/appointment-types/abc/").await.status, 404);
    assert!(
        audit_actions(&app).await.is_empty(),
        "404s write no audit rows"
    );
    app.stop().await;
}

#[tokio::test]
async fn appointment_type_actions_are_audited_with_the_spec_action_strings() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(&admin, "/api/appointment-types/", json!({"name": "A"})).await;
    let path = format!("/api/appointment-types/{id}/");
    assert_eq!(admin.get(&path).await.status, 200);
    assert_eq!(admin.get("/api/appointment-types/").await.status, 200);
    assert_eq!(admin.patch(&path, &json!({"name": "B"})).await.status, 200);
    assert_eq!(admin.put(&path, &json!({"name": "C"})).await.status, 200);
    assert_eq!(admin.delete(&path).await.status, 204);
    assert_eq!(admin.get(&path).await.status, 404);
    assert_eq!(
        audit_actions(&app).await,
        [
            "appointment_type_create",
            "appointment_type_update",
            "appointment_type_update",
            "appointment_type_delete"
        ]
    );
    let rows = app.store().audit_log(None, 10).await.expect("audit");
    let user = admin.user.as_ref().expect("user");
    for row in &rows {
        assert_eq!(row.user_id, Some(user.id));
        assert_eq!(row.role_name, "admin");
        assert_eq!(row.patient_id, None);
    }
    let delete = app
        .store()
        .audit_log(Some("appointment_type_delete"), 1)
        .await
        .expect("audit");
    assert_eq!(delete[0].meta, Some(json!({"appointment_type_id": id})));
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_appointment_type_that_appointments_use_is_409_and_deactivating_works() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let booker = booker(&app).await;
    let used = create(&admin, "/api/appointment-types/", json!({"name": "Used"})).await;
    let unused = create(&admin, "/api/appointment-types/", json!({"name": "Unused"})).await;
    insert_appointment(&app, &booker, 0, Some(used)).await;

    let res = admin
        .delete(&format!("/api/appointment-types/{used}/"))
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"detail": "AppointmentType is still referenced", "code": "still_referenced"})
    );
    assert!(
        app.store()
            .appointment_type(used)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        app.store()
            .audit_log(Some("appointment_type_delete"), 1)
            .await
            .expect("audit")
            .is_empty(),
        "a refused delete is not audited"
    );

    let res = admin
        .patch(
            &format!("/api/appointment-types/{used}/"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["active"], false);

    let res = admin
        .delete(&format!("/api/appointment-types/{unused}/"))
        .await;
    assert_eq!(res.status, 204);
    assert!(res.text.is_empty());
    app.stop().await;
}

// ---- operation types -------------------------------------------------------------------

#[tokio::test]
async fn operation_type_create_returns_the_item_with_the_original_defaults() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/operation-types/",
            &json!({"name": "Kleiner Eingriff"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        keys(&res.body),
        [
            "id",
            "name",
            "prep_duration",
            "op_duration",
            "post_duration",
            "color",
            "active",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(res.body["prep_duration"], 0);
    assert_eq!(res.body["op_duration"], 0);
    assert_eq!(res.body["post_duration"], 0);
    assert_eq!(res.body["color"], "#8A2BE2");
    assert_eq!(res.body["active"], true);

    let res = admin
        .post(
            "/api/operation-types/",
            &json!({"name": "Knie", "prep_duration": 5, "op_duration": "30",
                    "post_duration": 5, "color": "#445566"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["op_duration"], 30);
    assert_eq!(res.body["color"], "#445566");
    app.stop().await;
}

#[tokio::test]
async fn operation_type_validation_errors_name_their_fields() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let min = "Ensure this value is greater than or equal to 0.";
    let cases = [
        (json!({}), "name", "This field is required."),
        (json!({"name": ""}), "name", "This field may not be blank."),
        (
            json!({"name": "x".repeat(256)}),
            "name",
            "Ensure this field has no more than 255 characters.",
        ),
        // The original stored negative durations (verified); Praxi rejects them.
        (
            json!({"name": "X", "prep_duration": -1}),
            "prep_duration",
            min,
        ),
        (json!({"name": "X", "op_duration": -30}), "op_duration", min),
        (
            json!({"name": "X", "post_duration": -5}),
            "post_duration",
            min,
        ),
        (
            json!({"name": "X", "op_duration": null}),
            "op_duration",
            "This field may not be null.",
        ),
        (
            json!({"name": "X", "op_duration": 1.5}),
            "op_duration",
            "A valid integer is required.",
        ),
        (
            json!({"name": "X", "op_duration": 2_147_483_648_i64}),
            "op_duration",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        (
            json!({"name": "X", "color": "purple"}),
            "color",
            "Enter a colour in the form #RRGGBB.",
        ),
        (
            json!({"name": "X", "color": ""}),
            "color",
            "This field may not be blank.",
        ),
        (
            json!({"name": "X", "color": null}),
            "color",
            "This field may not be null.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/operation-types/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body, json!({ field: [message] }), "{body}");
    }
    let res = admin
        .post(
            "/api/operation-types/",
            &json!({"name": " ", "prep_duration": -1, "op_duration": -1, "color": "x"}),
        )
        .await;
    assert_eq!(res.status, 400);
    for field in ["name", "prep_duration", "op_duration", "color"] {
        assert!(res.body.get(field).is_some(), "{field}: {}", res.text);
    }
    let res = admin.get("/api/operation-types/").await;
    assert_eq!(res.body["count"], 0, "no rejected row stored");
    app.stop().await;
}

#[tokio::test]
async fn operation_type_list_filters_active_and_patch_rejects_negative_durations() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(
        &admin,
        "/api/operation-types/",
        json!({"name": "Knie", "op_duration": 60}),
    )
    .await;
    create(
        &admin,
        "/api/operation-types/",
        json!({"name": "Alt", "active": false}),
    )
    .await;
    let res = admin.get("/api/operation-types/").await;
    assert_eq!(names(&res.body), ["Alt", "Knie"]);
    let res = admin.get("/api/operation-types/?active=true").await;
    assert_eq!(names(&res.body), ["Knie"]);

    let path = format!("/api/operation-types/{id}/");
    let res = admin.patch(&path, &json!({"post_duration": -1})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"post_duration": ["Ensure this value is greater than or equal to 0."]})
    );
    let res = admin.patch(&path, &json!({"post_duration": 15})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["op_duration"], 60);
    assert_eq!(res.body["post_duration"], 15);
    let res = admin.put(&path, &json!({"op_duration": 10})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"name": ["This field is required."]}));
    let res = admin.get("/api/operation-types/999/").await;
    assert_eq!(
        res.body,
        json!({"detail": "No OperationType matches the given query."})
    );
    app.stop().await;
}

#[tokio::test]
async fn operation_type_actions_are_audited_with_the_spec_action_strings() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(&admin, "/api/operation-types/", json!({"name": "A"})).await;
    let path = format!("/api/operation-types/{id}/");
    assert_eq!(admin.get(&path).await.status, 200);
    assert_eq!(admin.get("/api/operation-types/").await.status, 200);
    assert_eq!(
        admin.patch(&path, &json!({"op_duration": 5})).await.status,
        200
    );
    assert_eq!(admin.get("/api/operation-types/998/").await.status, 404);
    assert_eq!(admin.delete(&path).await.status, 204);
    assert_eq!(
        audit_actions(&app).await,
        [
            "operation_type_create",
            "operation_type_update",
            "operation_type_delete"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_operation_type_that_operations_use_is_409_instead_of_a_cascade() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let booker = booker(&app).await;
    let used = create(
        &admin,
        "/api/operation-types/",
        json!({"name": "Used", "op_duration": 30}),
    )
    .await;
    let unused = create(&admin, "/api/operation-types/", json!({"name": "Unused"})).await;
    let room = create(
        &admin,
        "/api/resources/",
        json!({"name": "OP 1", "type": "room"}),
    )
    .await;
    let operation_id = insert_operation(&app, &booker, 0, room, used).await;

    let res = admin.delete(&format!("/api/operation-types/{used}/")).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"detail": "OperationType is still referenced", "code": "still_referenced"})
    );
    let stored = operation::Entity::find_by_id(operation_id)
        .one(app.store().conn())
        .await
        .expect("read operation");
    assert!(stored.is_some(), "the operation survives");

    let res = admin
        .patch(
            &format!("/api/operation-types/{used}/"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(
        res.status, 200,
        "deactivating is always allowed: {}",
        res.text
    );
    assert_eq!(
        admin
            .delete(&format!("/api/operation-types/{unused}/"))
            .await
            .status,
        204
    );
    app.stop().await;
}

// ---- resources -------------------------------------------------------------------------

#[tokio::test]
async fn resource_create_returns_the_item_with_the_original_defaults() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .post(
            "/api/resources/",
            &json!({"name": "Gerät Y", "type": "device", "active": false}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        keys(&res.body),
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
    assert_eq!(res.body["type"], "device");
    assert_eq!(res.body["color"], "#6A5ACD");
    assert_eq!(res.body["active"], false);
    app.stop().await;
}

#[tokio::test]
async fn resource_validation_errors_name_their_fields() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/resources/", &json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"name": ["This field is required."], "type": ["This field is required."]})
    );
    let cases = [
        (
            json!({"name": "Bett", "type": "bed"}),
            "type",
            "\"bed\" is not a valid choice.",
        ),
        (
            json!({"name": "Bett", "type": null}),
            "type",
            "This field may not be null.",
        ),
        (
            json!({"name": "  ", "type": "room"}),
            "name",
            "This field may not be blank.",
        ),
        (
            json!({"name": "x".repeat(256), "type": "room"}),
            "name",
            "Ensure this field has no more than 255 characters.",
        ),
        (
            json!({"name": "Raum", "type": "room", "color": "red"}),
            "color",
            "Enter a colour in the form #RRGGBB.",
        ),
        (
            json!({"name": "Raum", "type": "room", "active": null}),
            "active",
            "This field may not be null.",
        ),
        (
            json!({"name": "Raum", "type": "room", "capacity": 3}),
            "capacity",
            "Unknown field.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/resources/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body, json!({ field: [message] }), "{body}");
    }
    let res = admin.put("/api/resources/1/", &json!({"name": "X"})).await;
    assert_eq!(res.status, 404, "unknown id before body checks");
    app.stop().await;
}

#[tokio::test]
async fn resource_list_shows_active_resources_in_type_name_order_and_filters_type() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for (name, kind, active) in [
        ("Zimmer 2", "room", true),
        ("EKG", "device", true),
        ("Zimmer 1", "room", true),
        ("Altgerät", "device", false),
    ] {
        create(
            &admin,
            "/api/resources/",
            json!({"name": name, "type": kind, "active": active}),
        )
        .await;
    }
    let res = admin.get("/api/resources/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["count"], 3);
    assert_eq!(names(&res.body), ["EKG", "Zimmer 1", "Zimmer 2"]);
    let res = admin.get("/api/resources/?type=room").await;
    assert_eq!(names(&res.body), ["Zimmer 1", "Zimmer 2"]);
    let res = admin.get("/api/resources/?type=device").await;
    assert_eq!(names(&res.body), ["EKG"], "inactive devices stay hidden");
    let res = admin.get("/api/resources/?type=bed").await;
    assert_eq!(res.body["count"], 0);
    let res = admin.get("/api/resources/?type=").await;
    assert_eq!(res.body["count"], 3);
    let res = admin.get("/api/resources/?type=room&page_size=1").await;
    let next = res.body["next"].as_str().expect("next link");
    assert!(
        next.ends_with("/api/resources/?page=2&type=room&page_size=1"),
        "{next}"
    );
    app.stop().await;
}

#[tokio::test]
async fn inactive_resources_are_still_readable_by_id() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let id = create(
        &admin,
        "/api/resources/",
        json!({"name": "Altgerät", "type": "device", "active": false}),
    )
    .await;
    let billing = app.as_role(Role::Billing).await;
    let res = billing.get(&format!("/api/resources/{id}/")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["name"], "Altgerät");
    assert_eq!(res.body["active"], false);
    let res = billing.get("/api/resources/999/").await;
    assert_eq!(
        res.body,
        json!({"detail": "No Resource matches the given query."})
    );
    app.stop().await;
}

#[tokio::test]
async fn resource_actions_are_audited_except_the_detail_read() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let id = create(
        &assistant,
        "/api/resources/",
        json!({"name": "OP 1", "type": "room"}),
    )
    .await;
    let path = format!("/api/resources/{id}/");
    assert_eq!(assistant.get(&path).await.status, 200);
    assert_eq!(assistant.get("/api/resources/").await.status, 200);
    let res = assistant
        .put(
            &path,
            &json!({"name": "OP 2", "type": "room", "color": "#ABCDEF"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["name"], "OP 2");
    assert_eq!(res.body["color"], "#ABCDEF");
    assert_eq!(assistant.delete(&path).await.status, 204);
    assert_eq!(
        audit_actions(&app).await,
        ["resource_create", "resource_update", "resource_delete"]
    );
    let rows = app.store().audit_log(None, 10).await.expect("audit");
    for row in &rows {
        assert_eq!(row.role_name, "assistant");
    }
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_resource_that_bookings_use_is_409() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let booker = booker(&app).await;
    let op_type = create(
        &admin,
        "/api/operation-types/",
        json!({"name": "Knie", "op_duration": 30}),
    )
    .await;
    let booked_room = create(
        &admin,
        "/api/resources/",
        json!({"name": "Zimmer", "type": "room"}),
    )
    .await;
    let op_room = create(
        &admin,
        "/api/resources/",
        json!({"name": "OP 1", "type": "room"}),
    )
    .await;
    let op_device = create(
        &admin,
        "/api/resources/",
        json!({"name": "C-Bogen", "type": "device"}),
    )
    .await;
    let unused = create(
        &admin,
        "/api/resources/",
        json!({"name": "Frei", "type": "device"}),
    )
    .await;

    let appointment_id = insert_appointment(&app, &booker, 0, None).await;
    link_appointment_resource(&app, appointment_id, booked_room).await;
    let operation_id = insert_operation(&app, &booker, 1, op_room, op_type).await;
    link_operation_device(&app, operation_id, op_device).await;

    let conflict = json!({"detail": "Resource is still referenced", "code": "still_referenced"});
    for id in [booked_room, op_room, op_device] {
        let res = admin.delete(&format!("/api/resources/{id}/")).await;
        assert_eq!(res.status, 409, "resource {id}: {}", res.text);
        assert_eq!(res.body, conflict);
        assert!(app.store().resource(id).await.expect("read").is_some());
    }
    let stored = operation::Entity::find_by_id(operation_id)
        .one(app.store().conn())
        .await
        .expect("read operation");
    assert!(stored.is_some(), "no cascade into the operation");

    // Retiring a used resource: deactivate it. It leaves the list but stays readable.
    let res = admin
        .patch(
            &format!("/api/resources/{op_room}/"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.get("/api/resources/?type=room").await;
    assert_eq!(names(&res.body), ["Zimmer"]);

    let res = admin.delete(&format!("/api/resources/{unused}/")).await;
    assert_eq!(res.status, 204);
    let deletes = app
        .store()
        .audit_log(Some("resource_delete"), 10)
        .await
        .expect("audit");
    assert_eq!(deletes.len(), 1, "only the successful delete is audited");
    assert_eq!(deletes[0].meta, Some(json!({"resource_id": unused})));
    app.stop().await;
}

#[tokio::test]
async fn a_resource_type_cannot_change_while_bookings_use_it() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let booker = booker(&app).await;
    let op_type = create(
        &admin,
        "/api/operation-types/",
        json!({"name": "Knie", "op_duration": 30}),
    )
    .await;
    let booked = create(
        &admin,
        "/api/resources/",
        json!({"name": "Zimmer", "type": "room"}),
    )
    .await;
    let op_room = create(
        &admin,
        "/api/resources/",
        json!({"name": "OP 1", "type": "room"}),
    )
    .await;
    let op_device = create(
        &admin,
        "/api/resources/",
        json!({"name": "C-Bogen", "type": "device"}),
    )
    .await;
    let free = create(
        &admin,
        "/api/resources/",
        json!({"name": "Frei", "type": "room"}),
    )
    .await;
    let appointment_id = insert_appointment(&app, &booker, 0, None).await;
    link_appointment_resource(&app, appointment_id, booked).await;
    let operation_id = insert_operation(&app, &booker, 1, op_room, op_type).await;
    link_operation_device(&app, operation_id, op_device).await;

    for (id, other) in [(booked, "device"), (op_room, "device"), (op_device, "room")] {
        let path = format!("/api/resources/{id}/");
        let res = admin.patch(&path, &json!({"type": other})).await;
        assert_eq!(res.status, 400, "resource {id}: {}", res.text);
        assert_eq!(keys(&res.body), ["type"], "{}", res.text);
        let res = admin
            .put(&path, &json!({"name": "Neu", "type": other}))
            .await;
        assert_eq!(res.status, 400, "PUT on {id}: {}", res.text);
        assert!(res.body.get("type").is_some());
        // Everything else may still change, including deactivation.
        let res = admin
            .patch(&path, &json!({"name": "Umbenannt", "active": false}))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let stored = admin.get(&format!("/api/resources/{op_device}/")).await;
    assert_eq!(stored.body["type"], "device");

    let res = admin
        .patch(
            &format!("/api/resources/{free}/"),
            &json!({"type": "device"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["type"], "device");
    app.stop().await;
}

#[tokio::test]
async fn catalogue_lists_reject_no_one_with_odd_query_parameters() {
    let app = TestApp::spawn().await;
    let doctor = app.as_role(Role::Doctor).await;
    for path in [
        "/api/appointment-types/?active=true&active=false&x=%ZZ",
        "/api/operation-types/?page=1&page=1",
        "/api/resources/?type=room&type=device",
    ] {
        let res = doctor.get(path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        assert!(res.body["results"].is_array());
    }
    app.stop().await;
}
