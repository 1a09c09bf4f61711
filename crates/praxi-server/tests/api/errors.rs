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

/// A browser's request (`Accept: text/html`) without following redirects.
async fn browser_get(app: &TestApp, method: Method, path: &str) -> crate::helpers::TestResponse {
    let response = app
        .http
        .request(method, app.url(path))
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .expect("request");
    crate::helpers::into_response(response).await
}

#[tokio::test]
async fn browsers_get_styled_error_pages_and_api_clients_keep_json() {
    let app = TestApp::spawn().await;

    let page = browser_get(&app, Method::GET, "/no-such-page/").await;
    assert_eq!(page.status, 404);
    assert!(
        page.header("content-type")
            .is_some_and(|value| value.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert!(page.text.contains("Seite nicht gefunden"), "{}", page.text);
    assert!(
        page.text.contains("/static/app.css"),
        "styled: {}",
        page.text
    );
    assert!(!page.text.contains("\"detail\""), "{}", page.text);
    assert!(
        page.header("content-security-policy").is_some(),
        "error pages carry the CSP"
    );

    // A page address that only takes POST: 405 as a page, `Allow` kept.
    let page = browser_get(&app, Method::GET, "/flow/arrive/").await;
    assert_eq!(page.status, 405);
    assert!(page.text.contains("Aktion nicht möglich"), "{}", page.text);
    assert!(
        page.header("allow")
            .is_some_and(|allow| allow.contains("POST"))
    );

    // The API keeps its JSON for browsers too, and everyone else keeps the JSON 404.
    let api = browser_get(&app, Method::GET, "/api/no-such-thing/").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.body, json!({"detail": "Not found."}));
    let plain = app.anonymous().get("/no-such-page/").await;
    assert_eq!(plain.status, 404);
    assert_eq!(plain.body, json!({"detail": "Not found."}));
    app.stop().await;
}

#[tokio::test]
async fn old_praxiapp_page_addresses_redirect_to_their_pages() {
    let app = TestApp::spawn().await;
    for (old, new) in [
        ("/praxi_backend/", "/dashboard/"),
        ("/praxi_backend/dashboard/", "/dashboard/"),
        ("/praxi_backend/dashboard/appointments/", "/calendar/"),
        (
            "/praxi_backend/dashboard/appointments/legacy/month/?date=2026-05-04",
            "/calendar/?view=month&date=2026-05-04",
        ),
        ("/praxi_backend/dashboard/resources/", "/resources/"),
        (
            "/praxi_backend/dashboard/patients/?patient_id=3",
            "/patients/3/",
        ),
        ("/praxi_backend/dashboard/doctors/4/", "/doctors/4/"),
        ("/praxi_backend/Dashboardadministration/", "/admin/"),
        ("/praxi_backend/core/user/", "/admin/users/"),
        ("/praxi_backend/scheduling/", "/dashboard/scheduling/"),
    ] {
        let res = browser_get(&app, Method::GET, old).await;
        assert_eq!(res.status, 308, "{old}");
        assert_eq!(res.header("location"), Some(new), "{old}");
        // Every target is a page that exists (the login redirect, not a 404).
        let target = browser_get(&app, Method::GET, new).await;
        assert!(
            target.status == 303 || target.status == 302 || target.status == 200,
            "{new}: {}",
            target.status
        );
    }
    // The original's JSON helpers have no page.
    let res = browser_get(&app, Method::GET, "/praxi_backend/dashboard/api/").await;
    assert_eq!(res.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_favicon_is_served() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("image/x-icon")
    );
    let bytes = res.bytes().await.expect("body");
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let svg = app.anonymous().get("/static/favicon.svg").await;
    assert_eq!(svg.status, 200);
    assert!(svg.text.starts_with("<svg"));
    app.stop().await;
}
