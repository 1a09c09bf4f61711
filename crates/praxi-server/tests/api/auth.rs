use chrono::Duration;
use praxi_domain::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

async fn login(app: &TestApp, username: &str, password: &str) -> crate::helpers::TestResponse {
    app.anonymous()
        .post(
            "/api/auth/login/",
            &json!({"username": username, "password": password}),
        )
        .await
}

#[tokio::test]
async fn login_returns_user_and_both_tokens() {
    let app = TestApp::spawn().await;
    let user = app.create_user("dr.example", Some(Role::Doctor)).await;
    let res = login(&app, "dr.example", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["user"]["id"], user.id);
    assert_eq!(res.body["user"]["username"], "dr.example");
    assert_eq!(res.body["user"]["role"]["name"], "doctor");
    assert!(res.body["access"].as_str().is_some_and(|t| t.len() > 20));
    assert!(res.body["refresh"].as_str().is_some_and(|t| t.len() > 20));
    // The token works for /me.
    let token = res.body["access"].as_str().unwrap().to_owned();
    let me = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn every_role_can_log_in() {
    let app = TestApp::spawn().await;
    for role in Role::ALL {
        app.create_user(role.name(), Some(role)).await;
        let res = login(&app, role.name(), PASSWORD).await;
        assert_eq!(res.status, 200, "{role}: {}", res.text);
        assert_eq!(res.body["user"]["role"]["name"], role.name());
    }
    app.stop().await;
}

#[tokio::test]
async fn login_with_wrong_password_or_unknown_user_is_400_invalid_credentials() {
    let app = TestApp::spawn().await;
    app.create_user("assistant", Some(Role::Assistant)).await;
    for (username, password) in [("assistant", "wrong password"), ("nobody", PASSWORD)] {
        let res = login(&app, username, password).await;
        assert_eq!(res.status, 400);
        assert_eq!(
            res.body,
            json!({"non_field_errors": ["Invalid credentials."]})
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn login_with_missing_fields_names_each_field() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().post("/api/auth/login/", &json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.body,
        json!({
            "username": ["This field is required."],
            "password": ["This field is required."],
        })
    );
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/",
            &json!({"username": 5, "password": ["x"]}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.get("password").is_some(), "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn login_accepts_the_email_address_as_alternative_identifier() {
    let app = TestApp::spawn().await;
    app.create_user("billing1", Some(Role::Billing)).await;
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/",
            &json!({"email": "BILLING1@example.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["user"]["username"], "billing1");
    app.stop().await;
}

#[tokio::test]
async fn inactive_users_cannot_log_in_and_their_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let user = app.create_user("leaver", Some(Role::Assistant)).await;
    let client = app.as_user(&user);
    assert_eq!(client.get("/api/auth/me/").await.status, 200);
    app.store().set_user_active(user.id, false).await.unwrap();
    let res = login(&app, "leaver", PASSWORD).await;
    assert_eq!(res.status, 400);
    let res = client.get("/api/auth/me/").await;
    assert_eq!(res.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn repeated_failed_logins_are_delayed_per_account_and_address() {
    // Docs: security.md "Login throttling"; the old 5-failure account lockout is gone
    // (compatibility.md, "Login throttling without lockout").
    let app = TestApp::spawn().await;
    app.create_user("target", Some(Role::Admin)).await;
    for _ in 0..3 {
        assert_eq!(login(&app, "target", "guess").await.status, 400);
    }
    let res = login(&app, "target", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.text);
    assert!(res.body["detail"].as_str().unwrap().contains("throttled"));
    assert_eq!(res.header("retry-after"), Some("1"));
    // A delay, not a lockout: after the wait the right password works.
    app.state.clock.advance(Duration::seconds(1));
    assert_eq!(login(&app, "target", PASSWORD).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn me_requires_a_valid_access_token() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let res = anonymous.get("/api/auth/me/").await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(res.header("www-authenticate"), Some("Bearer realm=\"api\""));

    let res = app
        .http
        .get(app.url("/api/auth/me/"))
        .header("authorization", "Token abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let res = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "token_not_valid");
    assert_eq!(body["messages"][0]["message"], "Token is invalid");

    app.create_user("someone", Some(Role::Billing)).await;
    let tokens = login(&app, "someone", PASSWORD).await.body;
    let res = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth(tokens["refresh"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["messages"][0]["message"], "Token has wrong type");
    app.stop().await;
}

#[tokio::test]
async fn me_returns_the_profile_with_the_role_read_from_the_database() {
    let app = TestApp::spawn().await;
    let user = app.create_user("switcher", Some(Role::Billing)).await;
    let client = app.as_user(&user);
    let res = client.get("/api/auth/me/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["role"]["name"], "billing");
    assert_eq!(res.body["calendar_color"], "#1E90FF");
    assert_eq!(res.body["is_active"], true);
    // Promote in the database: the same token now acts with the new role.
    app.store()
        .set_user_role(user.id, Some(Role::Assistant))
        .await
        .unwrap();
    let res = client.get("/api/auth/me/").await;
    // A role change revokes the old tokens (the role claim would be stale).
    assert_eq!(res.status, 401);
    let fresh = app.store().user_by_id(user.id).await.unwrap().unwrap();
    let res = app.as_user(&fresh).get("/api/auth/me/").await;
    assert_eq!(res.body["role"]["name"], "assistant");
    app.stop().await;
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = TestApp::spawn().await;
    let client = app.as_role(Role::Admin).await;
    assert_eq!(client.get("/api/auth/me/").await.status, 200);
    app.state.clock.advance(Duration::minutes(16));
    let res = client.get("/api/auth/me/").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.body["messages"][0]["message"], "Token is expired");
    app.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.create_user("rotator", Some(Role::Assistant)).await;
    let first = login(&app, "rotator", PASSWORD).await.body;
    let refresh1 = first["refresh"].as_str().unwrap().to_owned();

    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": refresh1}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body["access"].is_string());
    let refresh2 = res.body["refresh"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);

    // Reusing the first token is detected ...
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": refresh1}))
        .await;
    assert_eq!(res.status, 400);
    assert!(
        res.body["refresh"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid or expired refresh token")
    );
    // ... and revokes its successor too.
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": refresh2}))
        .await;
    assert_eq!(res.status, 400);

    // A separate login (another family) is unaffected.
    let other = login(&app, "rotator", PASSWORD).await.body;
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": other["refresh"]}))
        .await;
    assert_eq!(res.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn refresh_errors_are_400_like_the_original() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().post("/api/auth/refresh/", &json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"refresh": ["This field is required."]}));
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": "garbage"}))
        .await;
    assert_eq!(
        res.body,
        json!({"refresh": ["Invalid or expired refresh token: Token is invalid"]})
    );
    app.create_user("typed", Some(Role::Admin)).await;
    let tokens = login(&app, "typed", PASSWORD).await.body;
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": tokens["access"]}))
        .await;
    assert_eq!(
        res.body,
        json!({"refresh": ["Invalid or expired refresh token: Token has wrong type"]})
    );
    app.state.clock.advance(Duration::days(2));
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": tokens["refresh"]}))
        .await;
    assert_eq!(
        res.body,
        json!({"refresh": ["Invalid or expired refresh token: Token is expired"]})
    );
    app.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    app.create_user("leaving", Some(Role::Doctor)).await;
    let tokens = login(&app, "leaving", PASSWORD).await.body;
    let res = app
        .anonymous()
        .post("/api/auth/logout/", &json!({"refresh": tokens["refresh"]}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": tokens["refresh"]}))
        .await;
    assert_eq!(res.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn health_is_public_and_checks_the_database() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().get("/api/health/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, json!({"status": "ok"}));
    assert_eq!(app.anonymous().get("/health/").await.status, 200);
    app.stop().await;
}
