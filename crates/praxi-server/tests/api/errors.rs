use praxi_domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn malformed_json_is_400_with_a_parse_error() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .raw(
            Method::POST,
            "/api/patients/",
            "application/json",
            b"{\"id\": 1,".to_vec(),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(
        res.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - ")
    );
    let res = admin
        .raw(
            Method::POST,
            "/api/patients/",
            "application/json",
            b"[1, 2]".to_vec(),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    );
    app.stop().await;
}

#[tokio::test]
async fn non_json_bodies_are_415() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .raw(
            Method::POST,
            "/api/patients/",
            "application/x-www-form-urlencoded",
            b"id=1".to_vec(),
        )
        .await;
    assert_eq!(res.status, 415);
    assert_eq!(
        res.body,
        json!({"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."})
    );
    let res = app
        .anonymous()
        .raw(
            Method::POST,
            "/api/auth/login/",
            "text/plain",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(res.status, 415);
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_are_413_json() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let huge = format!("{{\"id\": 1, \"first_name\": \"{}\"}}", "x".repeat(200_000));
    let res = admin
        .raw(
            Method::POST,
            "/api/patients/",
            "application/json",
            huge.into_bytes(),
        )
        .await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert!(res.body["detail"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_are_json_404_and_missing_slashes_redirect_gets_only() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/nothing-here/").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Not found."}));
    let res = admin.get("/api/patients?page=2").await;
    assert_eq!(res.status, 301);
    assert_eq!(res.header("location"), Some("/api/patients/?page=2"));
    let res = admin.post("/api/patients", &json!({"id": 1})).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Not found."}));
    assert_eq!(app.store().count_patients().await.unwrap(), 0);
    app.stop().await;
}

#[tokio::test]
async fn unsupported_methods_answer_401_then_403_then_405() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().delete("/api/patients/").await;
    assert_eq!(res.status, 401);
    let billing = app.as_role(Role::Billing).await;
    assert_eq!(billing.delete("/api/patients/").await.status, 403);
    let admin = app.as_role(Role::Admin).await;
    let res = admin.delete("/api/patients/").await;
    assert_eq!(res.status, 405);
    assert_eq!(
        res.body,
        json!({"detail": "Method \"DELETE\" not allowed."})
    );
    app.stop().await;
}

#[tokio::test]
async fn hostile_inputs_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let bodies = [
        json!({"id": 1e300}),
        json!({"id": 2147483648_i64}),
        json!({"id": true}),
        json!({"id": [1]}),
        json!({"id": 3, "birth_date": 19800203}),
        json!({"id": 3, "birth_date": "1980-02-03T00:00:00"}),
        json!({"id": 3, "email": "a@b.c\u{0000}"}),
        json!({"id": 3, "first_name": "\u{1F600}".repeat(100)}),
        json!({"id": "", "last_name": "x"}),
        json!(null),
        json!("string"),
    ];
    for body in bodies {
        let res = admin.post("/api/patients/", &body).await;
        assert!(res.status < 500, "{body}: {} {}", res.status, res.text);
        assert!(
            res.body.is_object(),
            "{body}: JSON body expected, got {}",
            res.text
        );
    }
    for path in [
        "/api/patients/%00/",
        "/api/patients/-1/",
        "/api/patients/1.5/",
    ] {
        let res = admin.get(path).await;
        assert!(res.status < 500, "{path}: {}", res.status);
    }
    app.stop().await;
}
