//! Two-factor login (TOTP, RFC 6238): enrolment, the login's second step, recovery codes,
//! replay and throttling, the per-role requirement, disabling (docs/data-protection.md).

use chrono::{Duration, Utc};
use praxi_domain::Role;
use praxi_server::two_factor::code_for_base32;
use serde_json::{Value, json};

use crate::helpers::{Client, PASSWORD, TestApp};

async fn login(app: &TestApp, username: &str) -> crate::helpers::TestResponse {
    app.anonymous()
        .post(
            "/api/auth/login/",
            &json!({"username": username, "password": PASSWORD}),
        )
        .await
}

fn code_at(secret: &str, offset_secs: i64) -> String {
    code_for_base32(secret, Utc::now() + Duration::seconds(offset_secs)).expect("code")
}

/// Enrols the client's user; the base-32 secret and the recovery codes.
async fn enrol(client: &Client<'_>) -> (String, Vec<String>) {
    let res = client.post("/api/auth/totp/enrol/", &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let secret = res.body["secret"].as_str().expect("secret").to_owned();
    assert!(
        res.body["otpauth_uri"]
            .as_str()
            .is_some_and(|uri| uri.starts_with("otpauth://totp/Praxi:") && uri.contains(&secret)),
        "{}",
        res.text
    );
    assert!(
        res.body["qr_svg"]
            .as_str()
            .is_some_and(|svg| svg.starts_with("<svg")),
        "{}",
        res.text
    );
    let res = client
        .post(
            "/api/auth/totp/confirm/",
            &json!({"code": code_at(&secret, 0)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["enabled"], true);
    let codes: Vec<String> = res.body["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|code| code.as_str().map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn totp_enrolment_then_login_needs_the_second_step() {
    let app = TestApp::spawn().await;
    let user = app.create_user("dr.totp", Some(Role::Doctor)).await;
    let client = app.as_user(&user);
    let status = client.get("/api/auth/totp/").await;
    assert_eq!(status.body["enabled"], false, "{}", status.text);

    let (secret, _) = enrol(&client).await;
    let status = client.get("/api/auth/totp/").await;
    assert_eq!(status.body["enabled"], true);
    assert_eq!(status.body["recovery_codes_left"], 10);

    // The password alone gives no tokens any more.
    let res = login(&app, "dr.totp").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["mfa_required"], true);
    assert_eq!(res.body["mfa_enrolment_required"], false);
    assert!(res.body.get("access").is_none(), "{}", res.text);
    let token = res.body["mfa_token"].as_str().expect("token").to_owned();
    // The token is not an access token.
    let me = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 401);

    // The code of the next step (the confirmation used the current one: a step counts once).
    let code = code_at(&secret, 30);
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": token, "code": code}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["user"]["username"], "dr.totp");
    let access = res.body["access"].as_str().expect("access").to_owned();
    let me = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);

    // The same code again (a replay) is refused.
    let res = login(&app, "dr.totp").await;
    let token = res.body["mfa_token"].as_str().expect("token").to_owned();
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": token, "code": code}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body, json!({"code": ["Invalid or expired code."]}));

    // The audit log holds the enrolment, without the secret.
    let rows = app
        .store()
        .audit_log(Some("totp_enabled"), 10)
        .await
        .expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user_id, Some(user.id));
    app.stop().await;
}

#[tokio::test]
async fn recovery_codes_work_once() {
    let app = TestApp::spawn().await;
    let user = app.create_user("assist.totp", Some(Role::Assistant)).await;
    let (_, codes) = enrol(&app.as_user(&user)).await;
    let mfa_token = |res: &crate::helpers::TestResponse| {
        res.body["mfa_token"].as_str().expect("token").to_owned()
    };
    let res = login(&app, "assist.totp").await;
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": mfa_token(&res), "recovery_code": codes[0].to_uppercase()}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = login(&app, "assist.totp").await;
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": mfa_token(&res), "recovery_code": codes[0]}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"recovery_code": ["Invalid or expired code."]})
    );
    let status = app.as_user(&user).get("/api/auth/totp/").await;
    assert_eq!(status.body["recovery_codes_left"], 9);
    app.stop().await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords() {
    let app = TestApp::spawn().await;
    let user = app.create_user("billing.totp", Some(Role::Billing)).await;
    enrol(&app.as_user(&user)).await;
    let res = login(&app, "billing.totp").await;
    let token = res.body["mfa_token"].as_str().expect("token").to_owned();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = app
            .anonymous()
            .post(
                "/api/auth/login/mfa/",
                &json!({"mfa_token": token, "code": "000000"}),
            )
            .await;
        statuses.push(res.status);
    }
    // Three free failures, then the pair waits (429 with Retry-After), as for passwords.
    assert_eq!(statuses, vec![400, 400, 400, 429]);
    app.stop().await;
}

#[tokio::test]
async fn bad_second_step_input_is_a_field_error() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (
            json!({"mfa_token": "nonsense", "code": "123456"}),
            "mfa_token",
        ),
        (json!({"mfa_token": "nonsense"}), "code"),
        (json!({"code": "123456"}), "mfa_token"),
        (json!({"mfa_token": 5, "code": "1"}), "mfa_token"),
    ] {
        let res = app.anonymous().post("/api/auth/login/mfa/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert!(res.body.get(field).is_some(), "{body}: {}", res.text);
    }
    // An access token is no second-step token.
    let user = app.create_user("plain", Some(Role::Admin)).await;
    let access = app.token_for(&user);
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": access, "code": "123456"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn a_role_that_requires_totp_enrols_at_login() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .put(
            "/api/auth/mfa-policy/",
            &json!({"required_roles": ["doctor"]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({"required_roles": ["doctor"]}));
    let res = admin
        .put(
            "/api/auth/mfa-policy/",
            &json!({"required_roles": ["chef"]}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("required_roles").is_some());
    let res = app
        .as_role(Role::Doctor)
        .await
        .put("/api/auth/mfa-policy/", &json!({"required_roles": []}))
        .await;
    assert_eq!(res.status, 403);

    // Other roles log in as before.
    app.create_user("assistant.free", Some(Role::Assistant))
        .await;
    let res = login(&app, "assistant.free").await;
    assert!(res.body["access"].is_string(), "{}", res.text);

    app.create_user("dr.required", Some(Role::Doctor)).await;
    let res = login(&app, "dr.required").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["mfa_required"], true);
    assert_eq!(res.body["mfa_enrolment_required"], true);
    let token = res.body["mfa_token"].as_str().expect("token").to_owned();
    let res = app
        .anonymous()
        .post("/api/auth/login/mfa/enrol/", &json!({"mfa_token": token}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let secret = res.body["secret"].as_str().expect("secret").to_owned();
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/mfa/",
            &json!({"mfa_token": token, "code": code_at(&secret, 0)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body["access"].is_string());
    assert_eq!(
        res.body["recovery_codes"].as_array().map(Vec::len),
        Some(10)
    );
    // From now on the user has the second step.
    let res = login(&app, "dr.required").await;
    assert_eq!(res.body["mfa_enrolment_required"], false, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn disabling_needs_password_and_code() {
    let app = TestApp::spawn().await;
    let user = app.create_user("dr.off", Some(Role::Doctor)).await;
    let client = app.as_user(&user);
    let (secret, _) = enrol(&client).await;
    let res = client
        .post(
            "/api/auth/totp/disable/",
            &json!({"password": "wrong", "code": code_at(&secret, 30)}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("password").is_some());
    let res = client
        .post("/api/auth/totp/disable/", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body.get("code").is_some());
    let res = client
        .post(
            "/api/auth/totp/disable/",
            &json!({"password": PASSWORD, "code": code_at(&secret, 30)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({"enabled": false}));
    let res = login(&app, "dr.off").await;
    assert!(res.body["access"].is_string(), "{}", res.text);
    // Enrolling twice without confirming restarts; enrolling while enabled is 409.
    let (_, _) = enrol(&client).await;
    let res = client.post("/api/auth/totp/enrol/", &json!({})).await;
    assert_eq!(res.status, 409, "{}", res.text);
    let _: Value = res.body;
    app.stop().await;
}
