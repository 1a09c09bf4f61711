//! `/api/users/`: the admin-only user administration (beyond the original).

use praxi_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse};

const NEW_PASSWORD: &str = "ein-langes-neues-Passwort";

fn new_user(username: &str) -> Value {
    json!({
        "username": username,
        "password": NEW_PASSWORD,
        "role": "doctor",
        "first_name": " Nora ",
        "last_name": "Neumann",
        "email": "Nora.Neumann@Praxis.Example.TEST",
        "calendar_color": "#32CD32",
    })
}

async fn login(app: &TestApp, username: &str, password: &str) -> TestResponse {
    app.anonymous()
        .post(
            "/api/auth/login/",
            &json!({"username": username, "password": password}),
        )
        .await
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.anonymous()
        .post("/api/auth/refresh/", &json!({"refresh": token}))
        .await
}

fn usernames(res: &TestResponse) -> Vec<String> {
    res.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|user| user["username"].as_str().expect("username").to_owned())
        .collect()
}

/// The users rows: admins only; every other role (and a user without one) 403, anonymous 401.
#[tokio::test]
async fn users_rbac_matrix() {
    let app = TestApp::spawn().await;
    let target = app.create_user("target", Some(Role::Assistant)).await;
    let clients = [
        ("admin", app.as_role(Role::Admin).await),
        ("assistant", app.as_role(Role::Assistant).await),
        ("doctor", app.as_role(Role::Doctor).await),
        ("billing", app.as_role(Role::Billing).await),
        ("no role", app.as_no_role().await),
        ("anonymous", app.anonymous()),
    ];
    let one = format!("/api/users/{}/", target.id);
    let deactivate = format!("/api/users/{}/deactivate/", target.id);
    let activate = format!("/api/users/{}/activate/", target.id);
    let set_password = format!("/api/users/{}/set-password/", target.id);
    let mut n_created = 0;
    // (method, path, body, expected statuses for admin, assistant, doctor, billing, other, anon)
    let rows: Vec<(Method, &str, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            "/api/users/",
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "/api/users/",
            Some(new_user("placeholder")),
            [201, 403, 403, 403, 403, 401],
        ),
        (Method::GET, &one, None, [200, 403, 403, 403, 403, 401]),
        (
            Method::PATCH,
            &one,
            Some(json!({"first_name": "Tanja"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            &one,
            Some(json!({"first_name": "Tanja"})),
            [405, 403, 403, 403, 403, 401],
        ),
        (Method::DELETE, &one, None, [405, 403, 403, 403, 403, 401]),
        (
            Method::POST,
            &deactivate,
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            &activate,
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            &deactivate,
            None,
            [405, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            &set_password,
            Some(json!({"password": NEW_PASSWORD})),
            [200, 403, 403, 403, 403, 401],
        ),
    ];
    for (method, path, body, expected) in rows {
        for ((who, client), status) in clients.iter().zip(expected) {
            let body = body.clone().map(|mut body| {
                if body.get("username").is_some() {
                    n_created += 1;
                    body["username"] = json!(format!("new{n_created}"));
                    body["email"] = json!(format!("new{n_created}@example.test"));
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
    // Only the admin's create went through.
    let created = app.store().user_by_username("new1").await.unwrap();
    assert!(created.is_some());
    for n in 2..=n_created {
        let other = app.store().user_by_username(&format!("new{n}")).await;
        assert!(other.unwrap().is_none(), "new{n} must not exist");
    }
    app.stop().await;
}

#[tokio::test]
async fn create_returns_the_read_shape_without_the_password_and_the_user_can_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/users/", &new_user("dr.neumann")).await;
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
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "calendar_color",
            "role",
            "date_joined",
            "last_login"
        ]
    );
    assert_eq!(res.body["username"], "dr.neumann");
    assert_eq!(res.body["first_name"], "Nora", "names are trimmed");
    assert_eq!(
        res.body["email"], "Nora.Neumann@praxis.example.test",
        "the e-mail domain is lower-cased"
    );
    assert_eq!(res.body["is_active"], true);
    assert_eq!(
        res.body["is_staff"], true,
        "clinical staff default to staff"
    );
    assert_eq!(res.body["calendar_color"], "#32CD32");
    assert_eq!(res.body["role"]["name"], "doctor");
    assert_eq!(res.body["role"]["label"], "Arzt");
    assert!(res.body["role"]["id"].is_i64());
    assert!(res.body["date_joined"].is_string());
    assert_eq!(res.body["last_login"], Value::Null);
    assert!(!res.text.contains("argon2"), "no hash in {}", res.text);
    assert!(
        !res.text.contains("password"),
        "no password in {}",
        res.text
    );

    let id = res.body["id"].as_i64().unwrap();
    let tokens = login(&app, "dr.neumann", NEW_PASSWORD).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.body["user"]["role"]["name"], "doctor");
    let res = admin.get(&format!("/api/users/{id}/")).await;
    assert_eq!(res.status, 200);
    assert!(res.body["last_login"].is_string(), "{}", res.text);
    assert!(!res.text.contains("argon2"));

    // Defaults: colour, and no staff access for billing; an omitted e-mail is "".
    let res = admin
        .post(
            "/api/users/",
            &json!({"username": "abrechnung", "password": NEW_PASSWORD, "role": "billing"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["calendar_color"], "#1E90FF");
    assert_eq!(res.body["is_staff"], false);
    assert_eq!(res.body["email"], "");
    assert_eq!(res.body["first_name"], "");
    // Two users without e-mail are fine (NULL, not "", data-model.md §15 item 8).
    let res = admin
        .post(
            "/api/users/",
            &json!({"username": "abrechnung2", "password": NEW_PASSWORD, "role": "billing",
                    "email": "", "is_staff": true}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["is_staff"], true);
    app.stop().await;
}

#[tokio::test]
async fn create_validation_errors_name_their_fields() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let with = |changes: Value| {
        let mut body = new_user("valid.name");
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let without = |field: &str| {
        let mut body = new_user("valid.name");
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let too_short = "This password is too short. It must contain at least 10 characters.";
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        (
            without("username"),
            "username",
            vec!["This field is required."],
        ),
        (
            without("password"),
            "password",
            vec!["This field is required."],
        ),
        (without("role"), "role", vec!["This field is required."]),
        (
            with(json!({"username": "  "})),
            "username",
            vec!["This field may not be blank."],
        ),
        (
            with(json!({"username": "mit leerzeichen"})),
            "username",
            vec![
                "Enter a valid username. This value may contain only letters, numbers, and \
                 @/./+/-/_ characters.",
            ],
        ),
        (
            with(json!({"username": "a".repeat(151)})),
            "username",
            vec!["Ensure this field has no more than 150 characters."],
        ),
        (
            with(json!({"username": null})),
            "username",
            vec!["This field may not be null."],
        ),
        (
            with(json!({"password": "kurz"})),
            "password",
            vec![too_short],
        ),
        (
            with(json!({"password": "12345678901"})),
            "password",
            vec!["This password is entirely numeric."],
        ),
        (
            with(json!({"password": "1234"})),
            "password",
            vec![too_short, "This password is entirely numeric."],
        ),
        (
            with(json!({"password": "Valid.Name"})),
            "password",
            vec!["The password is too similar to the username."],
        ),
        (
            with(json!({"password": "neumann123"})),
            "password",
            vec!["The password is too similar to the last name."],
        ),
        (
            with(json!({"role": "janitor"})),
            "role",
            vec!["\"janitor\" is not a valid choice."],
        ),
        (
            with(json!({"role": "Admin"})),
            "role",
            vec!["\"Admin\" is not a valid choice."],
        ),
        (
            with(json!({"role": null})),
            "role",
            vec!["This field may not be null."],
        ),
        (
            with(json!({"email": "nope"})),
            "email",
            vec!["Enter a valid email address."],
        ),
        (
            with(json!({"email": format!("{}@example.test", "a".repeat(250))})),
            "email",
            vec!["Ensure this field has no more than 254 characters."],
        ),
        (
            with(json!({"calendar_color": "red"})),
            "calendar_color",
            vec!["Enter a colour in the form #RRGGBB."],
        ),
        (
            with(json!({"calendar_color": null})),
            "calendar_color",
            vec!["This field may not be null."],
        ),
        (
            with(json!({"first_name": "x".repeat(151)})),
            "first_name",
            vec!["Ensure this field has no more than 150 characters."],
        ),
        (
            with(json!({"is_staff": "vielleicht"})),
            "is_staff",
            vec!["Must be a valid boolean."],
        ),
        (
            with(json!({"is_staff": null})),
            "is_staff",
            vec!["This field may not be null."],
        ),
        (
            with(json!({"is_superuser": true})),
            "is_superuser",
            vec!["Unknown field."],
        ),
        (
            with(json!({"is_active": false})),
            "is_active",
            vec!["Use POST /api/users/{id}/activate/ or /deactivate/ to change this field."],
        ),
        (
            with(json!({"username": "nul\u{0}byte"})),
            "username",
            vec!["Null characters are not allowed."],
        ),
    ];
    for (body, field, messages) in cases {
        let res = admin.post("/api/users/", &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!(messages), "{body}: {}", res.text);
    }
    // All bad fields are named at once.
    let res = admin
        .post(
            "/api/users/",
            &json!({"username": "x y", "password": "1", "role": "x", "email": "@"}),
        )
        .await;
    assert_eq!(res.status, 400);
    for field in ["username", "password", "role", "email"] {
        assert!(res.body.get(field).is_some(), "{field}: {}", res.text);
    }
    assert!(
        app.store()
            .user_by_username("valid.name")
            .await
            .unwrap()
            .is_none(),
        "no rejected user stored"
    );
    assert!(
        app.store()
            .audit_log(Some("user_create"), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing audited for rejected requests"
    );
    // Echoed read-only fields and a role object are accepted.
    let res = admin
        .post(
            "/api/users/",
            &with(
                json!({"id": 999, "date_joined": "x", "last_login": null, "is_active": true,
                         "role": {"id": 1, "name": "assistant", "label": "Assistent"}}),
            ),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["role"]["name"], "assistant");
    assert_ne!(res.body["id"], 999);
    app.stop().await;
}

#[tokio::test]
async fn usernames_are_unique_and_emails_unique_case_insensitively() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(
        admin.post("/api/users/", &new_user("erste")).await.status,
        201
    );
    let mut body = new_user("erste");
    body["email"] = json!("other@example.test");
    let res = admin.post("/api/users/", &body).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"username": ["A user with that username already exists."]})
    );
    let res = admin
        .post("/api/users/", &{
            let mut body = new_user("zweite");
            body["email"] = json!("NORA.NEUMANN@praxis.example.test");
            body
        })
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"email": ["A user with that email already exists."]})
    );
    // PATCH: another user's e-mail is refused, one's own (in another case) is fine.
    let other = app.create_user("andere", Some(Role::Billing)).await;
    let res = admin
        .patch(
            &format!("/api/users/{}/", other.id),
            &json!({"email": "nora.neumann@PRAXIS.example.test"}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"email": ["A user with that email already exists."]})
    );
    let res = admin
        .patch(
            &format!("/api/users/{}/", other.id),
            &json!({"email": "ANDERE@example.test"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["email"], "ANDERE@example.test");
    app.stop().await;
}

#[tokio::test]
async fn list_is_paginated_in_username_order_and_filters_by_role_active_and_q() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("zz_admin", Some(Role::Admin)).await;
    let client = app.as_user(&admin);
    let doctor = app.create_user("dr.b", Some(Role::Doctor)).await;
    app.create_user("dr.a", Some(Role::Doctor)).await;
    app.create_user("billing_x", Some(Role::Billing)).await;
    app.create_user("nurse", None).await;
    app.store().set_user_active(doctor.id, false).await.unwrap();

    let res = client.get("/api/users/?page_size=2&foo=bar").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["count"], 5);
    assert_eq!(res.body["previous"], Value::Null);
    let next = res.body["next"].as_str().unwrap();
    assert!(
        next.ends_with("/api/users/?page=2&page_size=2&foo=bar"),
        "{next}"
    );
    assert_eq!(usernames(&res), ["billing_x", "dr.a"]);
    let res = client.get("/api/users/?page=last&page_size=2").await;
    assert_eq!(usernames(&res), ["zz_admin"]);
    let res = client.get("/api/users/?page=9").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"detail": "Invalid page."}));

    let res = client.get("/api/users/?role=doctor").await;
    assert_eq!(usernames(&res), ["dr.a", "dr.b"]);
    let res = client.get("/api/users/?role=doctor&active=false").await;
    assert_eq!(usernames(&res), ["dr.b"]);
    let res = client.get("/api/users/?active=true&role=").await;
    assert_eq!(res.body["count"], 4);
    let res = client.get("/api/users/?active=0").await;
    assert_eq!(usernames(&res), ["dr.b"]);
    // q: case-insensitive substring of username, names and e-mail; wildcards are literal.
    let res = client.get("/api/users/?q=LAST%20dr").await;
    assert_eq!(usernames(&res), ["dr.a", "dr.b"]);
    let res = client.get("/api/users/?q=billing_x%40EXAMPLE").await;
    assert_eq!(usernames(&res), ["billing_x"]);
    let res = client.get("/api/users/?q=%25").await;
    assert_eq!(res.body["count"], 0, "% is literal");
    let res = client.get("/api/users/?q=_").await;
    assert_eq!(usernames(&res), ["billing_x", "zz_admin"], "_ is literal");
    let res = client.get("/api/users/?q=Nurse&q=first%20dr.a").await;
    assert_eq!(usernames(&res), ["dr.a"], "the last value wins");
    assert!(!res.text.contains("argon2"));
    app.stop().await;
}

#[tokio::test]
async fn list_rejects_unknown_role_and_active_values() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/users/?role=janitor&active=maybe").await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({
            "active": ["Must be a valid boolean."],
            "role": ["Select a valid choice. janitor is not one of the available choices."],
        })
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/users/99999/").await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        json!({"detail": "No User matches the given query."})
    );
    assert_eq!(admin.get("/api/users/abc/").await.status, 404);
    assert_eq!(
        admin.get("/api/users/99999999999999999999/").await.status,
        404
    );
    for path in ["/api/users/99999/deactivate/", "/api/users/99999/activate/"] {
        assert_eq!(admin.post(path, &json!({})).await.status, 404, "{path}");
    }
    let res = admin
        .post(
            "/api/users/99999/set-password/",
            &json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = admin
        .patch("/api/users/99999/", &json!({"first_name": "X"}))
        .await;
    assert_eq!(res.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn patch_changes_only_the_fields_it_sends_and_accepts_the_echoed_read_shape() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let user = app.create_user("dr.k", Some(Role::Doctor)).await;
    let user_client = app.as_user(&user);
    let path = format!("/api/users/{}/", user.id);
    let res = admin
        .patch(
            &path,
            &json!({"last_name": " Krüger ", "calendar_color": "#abcdef", "is_staff": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["last_name"], "Krüger");
    assert_eq!(
        res.body["first_name"], "First dr.k",
        "unsent fields are kept"
    );
    assert_eq!(res.body["email"], "dr.k@example.test");
    assert_eq!(res.body["calendar_color"], "#abcdef");
    assert_eq!(res.body["is_staff"], false);
    assert_eq!(
        user_client.get("/api/auth/me/").await.status,
        200,
        "a profile change keeps the user's tokens"
    );

    // What a client read can be sent back unchanged.
    let read = admin.get(&path).await.body;
    let res = admin.patch(&path, &read).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, read);
    assert_eq!(user_client.get("/api/auth/me/").await.status, 200);

    // Clearing the e-mail.
    let res = admin.patch(&path, &json!({"email": null})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], "");
    let stored = app.store().user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.email, None);
    app.stop().await;
}

#[tokio::test]
async fn patch_refuses_username_activity_and_password_changes_and_bad_values() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let user = app.create_user("fest", Some(Role::Assistant)).await;
    let path = format!("/api/users/{}/", user.id);
    let cases = [
        (
            json!({"username": "anders"}),
            "username",
            "Usernames cannot be changed.",
        ),
        (
            json!({"is_active": false}),
            "is_active",
            "Use POST /api/users/{id}/activate/ or /deactivate/ to change this field.",
        ),
        (
            json!({"password": NEW_PASSWORD}),
            "password",
            "Use POST /api/users/{id}/set-password/ to change the password.",
        ),
        (
            json!({"role": "nurse"}),
            "role",
            "\"nurse\" is not a valid choice.",
        ),
        (json!({"role": null}), "role", "This field may not be null."),
        (
            json!({"email": "kaputt"}),
            "email",
            "Enter a valid email address.",
        ),
        (
            json!({"calendar_color": "#12"}),
            "calendar_color",
            "Enter a colour in the form #RRGGBB.",
        ),
        (json!({"nickname": "f"}), "nickname", "Unknown field."),
    ];
    for (body, field, message) in cases {
        let res = admin.patch(&path, &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.body[field], json!([message]), "{body}: {}", res.text);
    }
    let stored = app.store().user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.username, "fest");
    assert!(stored.is_active);
    assert_eq!(stored.role.unwrap().name, "assistant");
    assert_eq!(stored.token_version, user.token_version, "nothing revoked");
    assert!(
        app.store()
            .audit_log(Some("user_update"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_role_change_revokes_the_users_tokens_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let user = app.create_user("wechsel", Some(Role::Billing)).await;
    let tokens = login(&app, "wechsel", PASSWORD).await.body;
    let access = tokens["access"].as_str().unwrap().to_owned();
    let user_client = app.as_user(&user);
    assert_eq!(user_client.get("/api/auth/me/").await.status, 200);

    let res = admin
        .patch(
            &format!("/api/users/{}/", user.id),
            &json!({"role": "assistant"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["role"]["name"], "assistant");
    for token in [&access, user_client.token.as_ref().unwrap()] {
        let res = app
            .http
            .get(app.url("/api/auth/me/"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "old access tokens are revoked");
    }
    let res = refresh(&app, tokens["refresh"].as_str().unwrap()).await;
    assert_eq!(
        res.status, 400,
        "old refresh tokens are revoked: {}",
        res.text
    );
    let fresh = login(&app, "wechsel", PASSWORD).await;
    assert_eq!(fresh.body["user"]["role"]["name"], "assistant");
    app.stop().await;
}

#[tokio::test]
async fn deactivation_revokes_every_token_and_activation_allows_login_again() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let user = app.create_user("geht", Some(Role::Doctor)).await;
    let tokens = login(&app, "geht", PASSWORD).await.body;
    let access = tokens["access"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh"].as_str().unwrap().to_owned();
    let me = |token: String| {
        let request = app.http.get(app.url("/api/auth/me/")).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(access.clone()).await, 200);

    let res = admin
        .post(&format!("/api/users/{}/deactivate/", user.id), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["is_active"], false);
    assert_eq!(
        me(access.clone()).await,
        401,
        "access token refused at once"
    );
    assert_eq!(refresh(&app, &refresh_token).await.status, 400);
    assert_eq!(login(&app, "geht", PASSWORD).await.status, 400);
    // Deactivating twice is harmless.
    let res = admin
        .post(&format!("/api/users/{}/deactivate/", user.id), &json!({}))
        .await;
    assert_eq!(res.status, 200);

    let res = admin
        .post(&format!("/api/users/{}/activate/", user.id), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["is_active"], true);
    assert_eq!(me(access).await, 401, "old tokens stay revoked");
    assert_eq!(refresh(&app, &refresh_token).await.status, 400);
    let res = login(&app, "geht", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin.get("/api/users/?active=true&role=doctor").await;
    assert_eq!(usernames(&res), ["geht"]);
    app.stop().await;
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let me = admin.user_id();
    let res = admin
        .post(&format!("/api/users/{me}/deactivate/"), &json!({}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"non_field_errors": ["You cannot deactivate your own account."]})
    );
    let res = admin
        .patch(&format!("/api/users/{me}/"), &json!({"role": "doctor"}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"role": ["You cannot remove your own admin role."]})
    );
    // Keeping one's own admin role and editing one's own profile are fine (no revocation).
    let res = admin
        .patch(
            &format!("/api/users/{me}/"),
            &json!({"role": "admin", "first_name": "Chefin"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(admin.get("/api/auth/me/").await.status, 200);
    let stored = app.store().user_by_id(me).await.unwrap().unwrap();
    assert!(stored.is_active);
    assert_eq!(stored.role.unwrap().name, "admin");

    // Another admin may be demoted and deactivated.
    let other = app.create_user("zweite_admin", Some(Role::Admin)).await;
    let res = admin
        .patch(
            &format!("/api/users/{}/", other.id),
            &json!({"role": "assistant"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = admin
        .post(&format!("/api/users/{}/deactivate/", other.id), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);

    // A superuser stays an admin whatever their role, so they may change their own.
    let root = app
        .store()
        .create_user(
            praxi_store::users::NewUser {
                username: "root".to_owned(),
                password_hash: "x".to_owned(),
                role: Some(Role::Admin),
                first_name: String::new(),
                last_name: String::new(),
                email: None,
                calendar_color: None,
                is_staff: true,
                is_superuser: true,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let root_client = app.as_user(&root);
    let res = root_client
        .patch(
            &format!("/api/users/{}/", root.id),
            &json!({"role": "doctor"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = root_client
        .post(&format!("/api/users/{}/deactivate/", root.id), &json!({}))
        .await;
    // The role change revoked root's token.
    assert_eq!(res.status, 401, "{}", res.text);
    let root = app.store().user_by_id(root.id).await.unwrap().unwrap();
    let res = app
        .as_user(&root)
        .post(&format!("/api/users/{}/deactivate/", root.id), &json!({}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    app.stop().await;
}

#[tokio::test]
async fn set_password_follows_the_password_rules_and_revokes_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let user = app.create_user("vergesslich", Some(Role::Assistant)).await;
    let user_client = app.as_user(&user);
    let path = format!("/api/users/{}/set-password/", user.id);
    let cases = [
        (json!({}), vec!["This field is required."]),
        (
            json!({"password": "kurz"}),
            vec!["This password is too short. It must contain at least 10 characters."],
        ),
        (
            json!({"password": "0123456789"}),
            vec!["This password is entirely numeric."],
        ),
        (
            json!({"password": "Vergesslich1"}),
            vec!["The password is too similar to the username."],
        ),
        (
            json!({"password": "vergesslich@example"}),
            vec!["The password is too similar to the username."],
        ),
    ];
    for (body, messages) in cases {
        let res = admin.post(&path, &body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(
            res.body["password"],
            json!(messages),
            "{body}: {}",
            res.text
        );
    }
    let res = admin
        .post(&path, &json!({"password": NEW_PASSWORD, "extra": 1}))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, json!({"extra": ["Unknown field."]}));
    assert_eq!(user_client.get("/api/auth/me/").await.status, 200);

    let res = admin.post(&path, &json!({"password": NEW_PASSWORD})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["username"], "vergesslich");
    assert!(!res.text.contains("argon2"));
    assert_eq!(user_client.get("/api/auth/me/").await.status, 401);
    assert_eq!(login(&app, "vergesslich", PASSWORD).await.status, 400);
    assert_eq!(login(&app, "vergesslich", NEW_PASSWORD).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn every_admin_action_is_audited_with_the_user_id_only() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/users/", &new_user("audited")).await;
    assert_eq!(res.status, 201);
    let id = res.body["id"].as_i64().unwrap();
    let base = format!("/api/users/{id}/");
    assert_eq!(
        admin
            .patch(&base, &json!({"role": "assistant"}))
            .await
            .status,
        200
    );
    assert_eq!(
        admin
            .post(&format!("{base}deactivate/"), &json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        admin
            .post(&format!("{base}activate/"), &json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        admin
            .post(
                &format!("{base}set-password/"),
                &json!({"password": "noch-ein-Passwort-42"})
            )
            .await
            .status,
        200
    );
    // Reads are not audited.
    assert_eq!(admin.get(&base).await.status, 200);
    assert_eq!(admin.get("/api/users/").await.status, 200);

    let rows = app.store().audit_log(None, 100).await.unwrap();
    let actions: Vec<&str> = rows.iter().rev().map(|row| row.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_create",
            "user_update",
            "user_deactivate",
            "user_activate",
            "user_set_password"
        ]
    );
    let actor = admin.user.as_ref().unwrap();
    for row in &rows {
        assert_eq!(row.user_id, Some(actor.id));
        assert_eq!(row.username, actor.username);
        assert_eq!(row.role_name, "admin");
        assert_eq!(row.patient_id, None);
        assert_eq!(row.meta, Some(json!({"user_id": id})));
        assert!(row.request_id.as_deref().is_some_and(|id| !id.is_empty()));
    }
    app.stop().await;
}

/// Two admins creating accounts with the same e-mail in different case at the same moment:
/// exactly one succeeds (the check is serialised, not only the case-sensitive constraint).
#[tokio::test]
async fn concurrent_creates_cannot_share_an_email() {
    let app = TestApp::spawn().await;
    let first = app.as_role(Role::Admin).await;
    let second = app.as_role(Role::Admin).await;
    for round in 0..5 {
        let mut one = new_user(&format!("eins{round}"));
        one["email"] = json!(format!("gleich{round}@example.test"));
        let mut two = new_user(&format!("zwei{round}"));
        two["email"] = json!(format!("GLEICH{round}@example.test"));
        let (a, b) = tokio::join!(
            first.post("/api/users/", &one),
            second.post("/api/users/", &two)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 400], "{} / {}", a.text, b.text);
    }
    app.stop().await;
}
