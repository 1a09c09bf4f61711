//! Login throttling that does not lock out the owner (docs/security.md, "Login throttling")
//! and the access-token deny-list (logout, refresh-family revocation).
//!
//! The servers trust 127.0.0.1 as a reverse proxy, so each request names its client address
//! in `X-Forwarded-For`.

use chrono::Duration;
use praxi_domain::Role;
use praxi_server::throttle::ThrottlePolicy;
use praxi_server::{AppState, ServerConfig};
use praxi_store::Store;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, into_response};

fn behind_proxy(config: &mut ServerConfig) {
    config.trusted_proxies = vec!["127.0.0.1".parse().expect("proxy")];
}

async fn spawn(policy: impl FnOnce(&mut ThrottlePolicy)) -> TestApp {
    TestApp::spawn_with(|config| {
        behind_proxy(config);
        policy(&mut config.login_throttle);
    })
    .await
}

/// A login through `base` (an `http://host:port`) from client address `from`.
async fn login_at(
    http: &reqwest::Client,
    base: &str,
    from: &str,
    username: &str,
    password: &str,
) -> TestResponse {
    let response = http
        .post(format!("{base}/api/auth/login/"))
        .header("x-forwarded-for", from)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login request");
    into_response(response).await
}

async fn login_from(app: &TestApp, from: &str, username: &str, password: &str) -> TestResponse {
    login_at(&app.http, &app.url(""), from, username, password).await
}

fn retry_after(res: &TestResponse) -> u64 {
    assert_eq!(res.status, 429, "{}", res.text);
    res.header("retry-after")
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("429 without a numeric Retry-After: {:?}", res.headers))
}

#[tokio::test]
async fn delays_grow_per_account_and_address_and_are_answered_429_with_retry_after() {
    let app = spawn(|_| {}).await;
    app.create_user("dr.delay", Some(Role::Doctor)).await;
    let from = "203.0.113.7";
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, from, "dr.delay", "guess").await.status,
            400
        );
    }
    let res = login_from(&app, from, "dr.delay", "guess").await;
    assert_eq!(retry_after(&res), 1);
    assert_eq!(
        res.body,
        json!({"detail": "Request was throttled. Expected available in 1 seconds."})
    );
    // Even the right password waits: a refused attempt is not verified.
    assert_eq!(
        retry_after(&login_from(&app, from, "dr.delay", PASSWORD).await),
        1
    );
    // After waiting, the next failure doubles the delay: 2 s, then 4 s.
    for expected in [2, 4] {
        app.state.clock.advance(Duration::seconds(expected / 2));
        assert_eq!(
            login_from(&app, from, "dr.delay", "guess").await.status,
            400
        );
        let res = login_from(&app, from, "dr.delay", "guess").await;
        assert_eq!(retry_after(&res), u64::try_from(expected).unwrap());
    }
    // Another address is not delayed by this pair's failures.
    assert_eq!(
        login_from(&app, "198.51.100.1", "dr.delay", "guess")
            .await
            .status,
        400
    );
    // After the wait the owner gets in, and the success clears the pair's counter.
    app.state.clock.advance(Duration::seconds(4));
    assert_eq!(
        login_from(&app, from, "dr.delay", PASSWORD).await.status,
        200
    );
    assert_eq!(login_from(&app, from, "dr.delay", "typo").await.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_owner_logs_in_from_a_known_address_while_the_account_is_hammered() {
    let app = spawn(|policy| policy.account_cap = 12).await;
    app.create_user("dr.target", Some(Role::Doctor)).await;
    let home = "198.51.100.10";
    assert_eq!(
        login_from(&app, home, "dr.target", PASSWORD).await.status,
        200
    );

    // Attackers on many addresses, three guesses each (no delays yet), reach the cap.
    for attacker in 1..=4 {
        let from = format!("203.0.113.{attacker}");
        for _ in 0..3 {
            let res = login_from(&app, &from, "dr.target", "guess").await;
            assert_eq!(res.status, 400, "{}", res.text);
        }
    }
    // Unknown addresses are now refused outright, even with the right password ...
    let res = login_from(&app, "203.0.113.99", "dr.target", PASSWORD).await;
    let wait = retry_after(&res);
    assert!((3000..=3600).contains(&wait), "wait {wait}");
    // ... while the owner's known address still gets in, repeatedly.
    for _ in 0..2 {
        let res = login_from(&app, home, "dr.target", PASSWORD).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    // Other accounts are unaffected.
    app.create_user("dr.other", Some(Role::Doctor)).await;
    assert_eq!(
        login_from(&app, "203.0.113.99", "dr.other", PASSWORD)
            .await
            .status,
        200
    );
    // The cap ends with its window.
    app.state.clock.advance(Duration::minutes(61));
    assert_eq!(
        login_from(&app, "203.0.113.99", "dr.target", PASSWORD)
            .await
            .status,
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn one_users_failures_do_not_block_other_users_behind_the_same_address() {
    let app = spawn(|policy| policy.address_cap = 12).await;
    let nat = "192.0.2.50";
    for name in ["anna", "ben", "carla"] {
        app.create_user(name, Some(Role::Assistant)).await;
    }
    // Ben has logged in from the practice's NAT address before.
    assert_eq!(login_from(&app, nat, "ben", PASSWORD).await.status, 200);
    // Anna mistypes until she is delayed ...
    for _ in 0..3 {
        assert_eq!(login_from(&app, nat, "anna", "wrong").await.status, 400);
    }
    assert_eq!(
        retry_after(&login_from(&app, nat, "anna", PASSWORD).await),
        1
    );
    // ... which does not touch Ben or Carla (who never logged in from here).
    assert_eq!(login_from(&app, nat, "ben", PASSWORD).await.status, 200);
    assert_eq!(login_from(&app, nat, "carla", PASSWORD).await.status, 200);

    // A guessing script behind the same NAT pushes the address over its cap ...
    for idx in 0..9 {
        let name = format!("guess{}", idx / 3);
        assert_eq!(login_from(&app, nat, &name, "x").await.status, 400);
    }
    // ... now accounts new to this address get short delays, not a lockout ...
    app.create_user("dora", Some(Role::Billing)).await;
    let wait = retry_after(&login_from(&app, nat, "dora", PASSWORD).await);
    assert!(wait <= 2, "wait {wait}");
    // ... and pairs that logged in from here before are exempt.
    assert_eq!(login_from(&app, nat, "ben", PASSWORD).await.status, 200);
    assert_eq!(login_from(&app, nat, "carla", PASSWORD).await.status, 200);
    app.state.clock.advance(Duration::seconds(2));
    assert_eq!(login_from(&app, nat, "dora", PASSWORD).await.status, 200);
    app.stop().await;
}

/// A second server (its own store connection, state and clock) over the test's database:
/// stands for a second process.
struct Sibling {
    base: String,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Sibling {
    async fn spawn(app: &TestApp) -> Sibling {
        let store = Store::connect(&app.db_url).await.expect("connect");
        // A second process follows auth changes through NOTIFY on PostgreSQL, as `praxi
        // serve` does.
        store.watch_auth_changes().await.expect("listen");
        let mut config = (*app.state.config).clone();
        behind_proxy(&mut config);
        let state = AppState::new(store, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = praxi_server::serve(listener, server_state, async {
                let _ = signal.await;
            })
            .await;
        });
        Sibling {
            base,
            state,
            shutdown: Some(shutdown),
            server,
        }
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = self.server.await;
        let _ = self.state.store.clone().close().await;
    }
}

#[tokio::test]
async fn two_processes_on_one_database_share_the_counters_and_known_addresses() {
    let app = spawn(|policy| policy.account_cap = 9).await;
    let sibling = Sibling::spawn(&app).await;
    app.create_user("shared", Some(Role::Admin)).await;
    let (first, second) = (app.url(""), sibling.base.clone());
    let from = "203.0.113.20";
    // Failures alternate between the processes; the delay sees all of them.
    for base in [&first, &second, &first] {
        let res = login_at(&app.http, base, from, "shared", "guess").await;
        assert_eq!(res.status, 400, "{}", res.text);
    }
    let res = login_at(&app.http, &second, from, "shared", "guess").await;
    assert_eq!(retry_after(&res), 1);
    let res = login_at(&app.http, &first, from, "shared", "guess").await;
    assert_eq!(retry_after(&res), 1);

    // A known address recorded by one process is honoured by the other under the cap.
    let home = "198.51.100.20";
    let res = login_at(&app.http, &first, home, "shared", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    for (idx, base) in [&second, &first, &second].into_iter().enumerate() {
        let attacker = format!("203.0.113.{}", 30 + idx);
        for _ in 0..2 {
            let res = login_at(&app.http, base, &attacker, "shared", "guess").await;
            assert_eq!(res.status, 400, "{}", res.text);
        }
    }
    let res = login_at(&app.http, &first, "203.0.113.40", "shared", PASSWORD).await;
    retry_after(&res);
    let res = login_at(&app.http, &second, home, "shared", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);

    // The access-token deny-list is shared too: logout on one, refused on the other.
    let tokens = res.body;
    let me = app
        .http
        .get(format!("{second}/api/auth/me/"))
        .bearer_auth(tokens["access"].as_str().expect("access"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);
    let res = app
        .http
        .post(format!("{first}/api/auth/logout/"))
        .json(&json!({"refresh": tokens["refresh"]}))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    let me = app
        .http
        .get(format!("{second}/api/auth/me/"))
        .bearer_auth(tokens["access"].as_str().expect("access"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 401);
    sibling.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn expired_counters_are_pruned() {
    let app = spawn(|_| {}).await;
    app.create_user("pruned", Some(Role::Admin)).await;
    login_from(&app, "203.0.113.60", "pruned", "guess").await;
    login_from(&app, "203.0.113.60", "nobody", "guess").await;
    let rows = app.store().count_login_throttle_rows().await.unwrap();
    // pair + account for each name, one shared address row.
    assert_eq!(rows, 5);
    let now = app.state.now();
    assert_eq!(app.store().prune_login_throttle(now).await.unwrap(), 0);
    let later = now + Duration::hours(25);
    assert_eq!(app.store().prune_login_throttle(later).await.unwrap(), 5);
    assert_eq!(app.store().count_login_throttle_rows().await.unwrap(), 0);
    app.stop().await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = TestApp::spawn().await;
    app.create_user("spoofed", Some(Role::Admin)).await;
    for idx in 0..3 {
        let from = format!("203.0.113.{idx}");
        assert_eq!(
            login_from(&app, &from, "spoofed", "guess").await.status,
            400
        );
    }
    // Every attempt came from 127.0.0.1 whatever the header said.
    let res = login_from(&app, "203.0.113.200", "spoofed", "guess").await;
    assert_eq!(retry_after(&res), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_web_login_is_throttled_with_the_same_counters() {
    let app = TestApp::spawn().await;
    app.create_user("webuser", Some(Role::Assistant)).await;
    let page = app.http.get(app.url("/login/")).send().await.expect("page");
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("praxi_login_csrf="))
        .and_then(|value| value.split(';').next())
        .expect("login csrf cookie")
        .to_owned();
    let post = |password: &'static str| {
        app.http
            .post(app.url("/login/"))
            .header("cookie", format!("praxi_login_csrf={csrf}"))
            .form(&[
                ("username", "webuser"),
                ("password", password),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(post("wrong").await.expect("post").status(), 200);
    }
    let res = post(PASSWORD).await.expect("post");
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some("1")
    );
    // The API shares the counters of the same account and address.
    let res = app
        .anonymous()
        .post(
            "/api/auth/login/",
            &json!({"username": "webuser", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 429, "{}", res.text);
    app.state.clock.advance(Duration::seconds(1));
    let res = post(PASSWORD).await.expect("post");
    assert_eq!(res.status(), 303);
    app.stop().await;
}

// ---- access-token deny-list ----------------------------------------------------------------

async fn me(app: &TestApp, access: &Value) -> TestResponse {
    let response = app
        .http
        .get(app.url("/api/auth/me/"))
        .bearer_auth(access.as_str().expect("access token"))
        .send()
        .await
        .expect("me");
    into_response(response).await
}

async fn post(app: &TestApp, path: &str, body: &Value) -> TestResponse {
    app.anonymous().post(path, body).await
}

fn assert_revoked(res: &TestResponse) {
    assert_eq!(res.status, 401, "{}", res.text);
    assert_eq!(res.body["code"], "token_not_valid");
    assert_eq!(res.body["messages"][0]["message"], "Token is blacklisted");
}

#[tokio::test]
async fn logout_revokes_every_access_token_of_the_family() {
    let app = TestApp::spawn().await;
    app.create_user("leaver2", Some(Role::Doctor)).await;
    let creds = json!({"username": "leaver2", "password": PASSWORD});
    let first = post(&app, "/api/auth/login/", &creds).await.body;
    let other_login = post(&app, "/api/auth/login/", &creds).await.body;
    let rotated = post(
        &app,
        "/api/auth/refresh/",
        &json!({"refresh": first["refresh"]}),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let rotated = rotated.body;
    assert_eq!(me(&app, &first["access"]).await.status, 200);
    assert_eq!(me(&app, &rotated["access"]).await.status, 200);

    let res = post(
        &app,
        "/api/auth/logout/",
        &json!({"refresh": rotated["refresh"]}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // Both access tokens of the family stop working at once, before they expire ...
    assert_revoked(&me(&app, &first["access"]).await);
    assert_revoked(&me(&app, &rotated["access"]).await);
    // ... while the other login (another family, e.g. another device) goes on.
    assert_eq!(me(&app, &other_login["access"]).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn logout_also_revokes_the_access_token_it_is_called_with() {
    let app = TestApp::spawn().await;
    let user = app.create_user("bearer", Some(Role::Billing)).await;
    let tokens = post(
        &app,
        "/api/auth/login/",
        &json!({"username": "bearer", "password": PASSWORD}),
    )
    .await
    .body;
    // A token minted outside the login's family (e.g. before an upgrade).
    let loose = app.token_for(&user);
    let res = app
        .http
        .post(app.url("/api/auth/logout/"))
        .bearer_auth(&loose)
        .json(&json!({"refresh": tokens["refresh"]}))
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    assert_revoked(&me(&app, &json!(loose)).await);
    assert_revoked(&me(&app, &tokens["access"]).await);
    app.stop().await;
}

#[tokio::test]
async fn refresh_token_reuse_revokes_the_familys_access_tokens() {
    let app = TestApp::spawn().await;
    app.create_user("stolen", Some(Role::Assistant)).await;
    let creds = json!({"username": "stolen", "password": PASSWORD});
    let login = post(&app, "/api/auth/login/", &creds).await.body;
    let other_login = post(&app, "/api/auth/login/", &creds).await.body;
    // The thief rotates first ...
    let thief = post(
        &app,
        "/api/auth/refresh/",
        &json!({"refresh": login["refresh"]}),
    )
    .await;
    assert_eq!(thief.status, 200, "{}", thief.text);
    assert_eq!(me(&app, &thief.body["access"]).await.status, 200);
    // ... the owner's reuse of the spent token revokes the family, access tokens included.
    let reuse = post(
        &app,
        "/api/auth/refresh/",
        &json!({"refresh": login["refresh"]}),
    )
    .await;
    assert_eq!(reuse.status, 400);
    assert_revoked(&me(&app, &thief.body["access"]).await);
    assert_revoked(&me(&app, &login["access"]).await);
    assert_eq!(me(&app, &other_login["access"]).await.status, 200);
    app.stop().await;
}
