use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn erika(id: i64) -> Value {
    json!({
        "id": id,
        "first_name": " Erika ",
        "last_name": "Muster",
        "birth_date": "1980-02-03",
        "gender": "f",
        "phone": "+49 30 123",
        "email": "erika@example.test",
    })
}

async fn seed_patient(app: &TestApp, id: i64) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/patients/", &erika(id)).await;
    assert_eq!(res.status, 201, "{}", res.text);
}

#[tokio::test]
async fn create_returns_the_read_shape_with_trimmed_strings() {
    let app = TestApp::spawn().await;
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .post("/api/patients/", &erika(1_500_000_003))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["id"], 1_500_000_003);
    assert_eq!(res.body["first_name"], "Erika");
    assert_eq!(res.body["birth_date"], "1980-02-03");
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
            "first_name",
            "last_name",
            "birth_date",
            "gender",
            "phone",
            "email",
            "created_at",
            "updated_at"
        ]
    );
    // Praxi maintains the timestamps the original left null.
    assert!(res.body["created_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn create_without_id_allocates_the_next_number() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 41).await;
    let doctor = app.as_role(Role::Doctor).await;
    let res = doctor
        .post(
            "/api/patients/",
            &json!({"first_name": "Neu", "last_name": "Patient"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["id"], 42);
    app.stop().await;
}

#[tokio::test]
async fn create_validation_errors_name_their_fields() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let cases = [
        (json!({"id": 0}), "id", "id must be a positive integer."),
        (json!({"id": -3}), "id", "id must be a positive integer."),
        (json!({"id": "abc"}), "id", "A valid integer is required."),
        (
            json!({"id": 7, "birth_date": "2999-01-01"}),
            "birth_date",
            "birth_date darf nicht in der Zukunft liegen.",
        ),
        (
            json!({"id": 7, "birth_date": "1980-02-30"}),
            "birth_date",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        (
            json!({"id": 7, "email": "nope"}),
            "email",
            "Invalid email address.",
        ),
        (
            json!({"id": 7, "gender": "x".repeat(21)}),
            "gender",
            "Ensure this field has no more than 20 characters.",
        ),
        (
            json!({"id": 7, "first_name": "x".repeat(101)}),
            "first_name",
            "Ensure this field has no more than 100 characters.",
        ),
        (
            json!({"id": 7, "nickname": "Eri"}),
            "nickname",
            "Unknown field.",
        ),
        (
            json!({"id": 7, "first_name": null}),
            "first_name",
            "This field may not be null.",
        ),
        (
            json!({"id": 7, "first_name": {"a": 1}}),
            "first_name",
            "Not a valid string.",
        ),
    ];
    for (body, field, message) in cases {
        let res = admin.post("/api/patients/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    // A phone like `abc!` is accepted, as in the original.
    let res = admin
        .post("/api/patients/", &json!({"id": 8, "phone": "abc!"}))
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(
        app.store().count_patients().await.unwrap(),
        1,
        "no rejected row stored"
    );
    app.stop().await;
}

#[tokio::test]
async fn duplicate_id_is_400_keeping_the_key_text() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 5).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/patients/", &erika(5)).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body, json!({"id": ["Key (id)=(5) already exists."]}));
    app.stop().await;
}

#[tokio::test]
async fn patch_changes_only_the_fields_it_sends() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 9).await;
    let assistant = app.as_role(Role::Assistant).await;
    let res = assistant
        .patch("/api/patients/9/", &json!({"phone": "+49 30 999"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body,
        json!({
            "first_name": "Erika",
            "last_name": "Muster",
            "birth_date": "1980-02-03",
            "gender": "f",
            "phone": "+49 30 999",
            "email": "erika@example.test",
        })
    );
    let stored = assistant.get("/api/patients/9/").await;
    assert_eq!(stored.body["first_name"], "Erika");
    assert_eq!(stored.body["phone"], "+49 30 999");
    app.stop().await;
}

#[tokio::test]
async fn put_requires_the_matching_id_and_never_rekeys() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 10).await;
    seed_patient(&app, 11).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .put("/api/patients/10/", &json!({"first_name": "X"}))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["id"], json!(["This field is required."]));
    let res = admin
        .put("/api/patients/10/", &json!({"id": 11, "first_name": "X"}))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("id").is_some());
    let eleven = admin.get("/api/patients/11/").await;
    assert_eq!(eleven.body["first_name"], "Erika", "patient 11 untouched");

    let res = admin
        .put(
            "/api/patients/10/",
            &json!({"id": 10, "first_name": "Erika", "last_name": "Neu"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["last_name"], "Neu");
    assert_eq!(res.body["email"], Value::Null, "PUT replaces the record");
    assert_eq!(
        res.body["birth_date"], "1980-02-03",
        "birth date kept as in the original"
    );
    app.stop().await;
}

#[tokio::test]
async fn list_is_paginated_in_name_order() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for (id, last) in [(1, "Zeta"), (2, "Alpha"), (3, "Mitte")] {
        let res = admin
            .post("/api/patients/", &json!({"id": id, "last_name": last}))
            .await;
        assert_eq!(res.status, 201);
    }
    let res = admin.get("/api/patients/?page_size=2&foo=bar").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["count"], 3);
    assert_eq!(res.body["previous"], Value::Null);
    let next = res.body["next"].as_str().unwrap();
    assert!(
        next.ends_with("/api/patients/?page=2&page_size=2&foo=bar"),
        "{next}"
    );
    let names: Vec<&str> = res.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha", "Mitte"]);
    let res = admin.get("/api/patients/?page=last&page_size=2").await;
    assert_eq!(res.body["results"][0]["last_name"], "Zeta");
    assert!(
        res.body["previous"]
            .as_str()
            .unwrap()
            .contains("page_size=2")
    );
    let res = admin.get("/api/patients/?page=9").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Invalid page."}));
    let res = admin.get("/api/patients/?page=abc").await;
    assert_eq!(res.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn search_matches_ids_exactly_and_text_case_insensitively() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 1_500_000_001).await;
    let billing = app.as_role(Role::Billing).await;
    let res = billing.get("/api/patients/search/?q=muster").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body.as_array().unwrap().len(), 1);
    let res = billing.get("/api/patients/search/?q=1500000001").await;
    assert_eq!(res.body.as_array().unwrap().len(), 1);
    let res = billing.get("/api/patients/search/?q=150000000").await;
    assert_eq!(
        res.body.as_array().unwrap().len(),
        0,
        "partial ids find nothing"
    );
    let res = billing.get("/api/patients/search/?q=%25").await;
    assert_eq!(
        res.body.as_array().unwrap().len(),
        0,
        "LIKE wildcards are literal"
    );
    let res = billing.get("/api/patients/search/").await;
    assert_eq!(res.body.as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/patients/999/").await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        json!({"detail": "No Patient matches the given query."})
    );
    assert_eq!(admin.get("/api/patients/abc/").await.status, 404);
    assert_eq!(admin.get("/api/patients/99999999999999/").await.status, 404);
    let res = admin
        .patch("/api/patients/999/", &json!({"phone": "1"}))
        .await;
    assert_eq!(res.status, 404);
    app.stop().await;
}

/// The patients rows of api.md §2.2 (with §5: role-less users are denied).
#[tokio::test]
async fn patients_rbac_matrix() {
    let app = TestApp::spawn().await;
    seed_patient(&app, 1).await;
    let clients = [
        ("admin", app.as_role(Role::Admin).await),
        ("assistant", app.as_role(Role::Assistant).await),
        ("doctor", app.as_role(Role::Doctor).await),
        ("billing", app.as_role(Role::Billing).await),
        ("no role", app.as_no_role().await),
        ("anonymous", app.anonymous()),
    ];
    // (method, path, body, expected statuses for admin, assistant, doctor, billing, other, anon)
    let mut next_id = 100;
    let rows: Vec<(Method, &str, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            "/api/patients/",
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/patients/search/?q=e",
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/patients/1/",
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            "/api/patients/",
            Some(json!({})),
            [201, 201, 201, 403, 403, 401],
        ),
        (
            Method::PATCH,
            "/api/patients/1/",
            Some(json!({"phone": "1"})),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::PUT,
            "/api/patients/1/",
            Some(json!({"id": 1, "last_name": "Muster"})),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::DELETE,
            "/api/patients/1/",
            None,
            [405, 405, 405, 403, 403, 401],
        ),
    ];
    for (method, path, body, expected) in rows {
        for ((who, client), status) in clients.iter().zip(expected) {
            let body = body.clone().map(|mut body| {
                if method == Method::POST {
                    next_id += 1;
                    body["id"] = json!(next_id);
                }
                body
            });
            let res = client.send(method.clone(), path, body.as_ref()).await;
            assert_eq!(res.status, status, "{who} {method} {path}: {}", res.text);
            if status == 403 {
                assert_eq!(
                    res.body,
                    json!({"detail": "You do not have permission to perform this action."})
                );
            }
        }
    }
    assert_eq!(
        app.store().patient(1).await.unwrap().unwrap().id,
        1,
        "never deleted"
    );
    app.stop().await;
}

/// Every patient read and write is audited with ids only: no name, birth date or contact data.
#[tokio::test]
async fn patient_access_is_audited_without_patient_data() {
    let app = TestApp::spawn().await;
    let doctor = app.as_role(Role::Doctor).await;
    assert_eq!(doctor.post("/api/patients/", &erika(77)).await.status, 201);
    assert_eq!(doctor.get("/api/patients/77/").await.status, 200);
    assert_eq!(doctor.get("/api/patients/").await.status, 200);
    assert_eq!(
        doctor.get("/api/patients/search/?q=Muster").await.status,
        200
    );
    assert_eq!(
        doctor
            .patch("/api/patients/77/", &json!({"last_name": "Neumann"}))
            .await
            .status,
        200
    );
    // A 404 writes no view row.
    assert_eq!(doctor.get("/api/patients/78/").await.status, 404);

    let rows = app.store().audit_log(None, 100).await.unwrap();
    let actions: Vec<&str> = rows.iter().rev().map(|row| row.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "patient_created",
            "patient_view",
            "patient_list",
            "patient_search",
            "patient_updated"
        ]
    );
    let user = doctor.user.as_ref().unwrap();
    for row in &rows {
        assert_eq!(row.user_id, Some(user.id));
        assert_eq!(row.username, user.username);
        assert_eq!(row.role_name, "doctor");
        assert!(row.request_id.as_deref().is_some_and(|id| !id.is_empty()));
        let serialized = format!("{row:?}");
        for secret in [
            "Erika",
            "Muster",
            "Neumann",
            "1980-02-03",
            "erika@",
            "+49 30",
        ] {
            assert!(
                !serialized.contains(secret),
                "audit row leaks {secret}: {serialized}"
            );
        }
    }
    let by_action = |action: &str| rows.iter().find(|row| row.action == action).unwrap();
    assert_eq!(by_action("patient_created").patient_id, Some(77));
    assert_eq!(by_action("patient_view").patient_id, Some(77));
    assert_eq!(by_action("patient_updated").patient_id, Some(77));
    assert_eq!(
        by_action("patient_list").meta.as_ref().unwrap()["patient_ids"],
        json!([77])
    );
    app.stop().await;
}
