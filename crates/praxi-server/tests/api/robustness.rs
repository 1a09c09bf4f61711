//! Robustness under hostile clients: aborted requests never poison the connection pool,
//! invalid query parameters and request ids never fail a request with a 500, contention is
//! retried once and then answered 503, and CORS follows `--cors-origins`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use praxi_domain::Role;
use praxi_store::{DbFailure, StoreError};
use reqwest::header::HeaderValue;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;

const NUL: &str = "Null characters are not allowed.";
const BAD_UTF8: &str = "Invalid percent-encoded UTF-8.";

/// The test's own PostgreSQL database: (url, name); `None` on SQLite.
async fn pg_database(app: &TestApp) -> Option<(String, String)> {
    let admin = std::env::var("PRAXI_TEST_DATABASE_URL").ok()?;
    let row = app
        .store()
        .conn()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_database() AS name",
        ))
        .await
        .expect("current_database")?;
    let name: String = row.try_get("", "name").expect("name");
    let base = admin.rsplit_once('/').expect("url has a path").0.to_owned();
    Some((format!("{base}/{name}"), name))
}

async fn count(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "n").expect("n")
}

/// Sessions of `database` left inside a transaction while idle.
async fn idle_in_transaction(monitor: &DatabaseConnection, database: &str) -> i64 {
    count(
        monitor,
        &format!(
            "SELECT count(*)::bigint AS n FROM pg_stat_activity WHERE datname = '{database}' \
             AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        ),
    )
    .await
}

fn patient(id: i64) -> Value {
    json!({
        "id": id,
        "first_name": "Abort",
        "last_name": format!("Test {id}"),
        "birth_date": "1980-02-03",
        "gender": "f",
    })
}

/// Sends a complete `POST /api/patients/` and closes the socket `delay` later, without reading
/// the answer.
async fn post_and_abort(addr: SocketAddr, token: String, id: i64, delay: Duration) {
    let body = patient(id).to_string();
    let request = format!(
        "POST /api/patients/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    // tokio's timer has millisecond resolution; yield-spin for the sub-millisecond part.
    let until = Instant::now() + delay;
    while Instant::now() < until {
        tokio::task::yield_now().await;
    }
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_aborting_during_begin_never_leave_a_pooled_connection_in_a_transaction() {
    let app = TestApp::spawn().await;
    let Some((_, database)) = pg_database(&app).await else {
        return; // PostgreSQL only: the driver bug is specific to its protocol.
    };
    let admin_url = std::env::var("PRAXI_TEST_DATABASE_URL").expect("url");
    let monitor = Database::connect(&admin_url).await.expect("monitor");
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().expect("token");

    // How long a complete create takes here: aborts are spread over that time.
    let started = Instant::now();
    for n in 0..5 {
        let res = admin
            .post("/api/patients/", &patient(1_999_999_990 + n))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let latency_us = (started.elapsed().as_micros() / 5).clamp(200, 20_000) as u64;

    // Failing statements on pooled connections: harmless on a clean connection, fatal for one
    // left inside a transaction (it stays aborted).
    let fail_some = || async {
        let mut failures = tokio::task::JoinSet::new();
        for _ in 0..24 {
            let store = app.store().clone();
            failures.spawn(async move {
                store
                    .conn()
                    .execute_unprepared("SELECT 1 / 0")
                    .await
                    .is_err()
            });
        }
        while let Some(failed) = failures.join_next().await {
            assert!(failed.expect("task"), "division by zero must fail");
        }
    };

    // 500 requests whose client goes away at a random moment, 20 at a time, each batch
    // followed by failing statements.
    let mut seed = 0x2545_f491_u64;
    let mut next_delay = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        Duration::from_micros(seed % latency_us)
    };
    for batch in 0..(500 / 20) {
        let mut tasks = tokio::task::JoinSet::new();
        for idx in 0..20 {
            let id = 2_000_000_000 + batch * 20 + idx;
            tasks.spawn(post_and_abort(app.addr, token.clone(), id, next_delay()));
        }
        while tasks.join_next().await.is_some() {}
        fail_some().await;
    }

    // Detached handlers finish on their own; then no session may stay inside a transaction.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stuck = idle_in_transaction(&monitor, &database).await;
    while stuck > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stuck = idle_in_transaction(&monitor, &database).await;
    }
    assert_eq!(stuck, 0, "pooled sessions left idle in transaction");
    fail_some().await;

    // 500 ordinary requests, 10 at a time, with more failing statements in between.
    let mut failed = Vec::new();
    for batch in 0..50_i64 {
        let mut tasks = tokio::task::JoinSet::new();
        for idx in 0..10_i64 {
            let http = app.http.clone();
            let token = token.clone();
            let n = batch * 10 + idx;
            let request = if n % 2 == 0 {
                http.get(app.url("/api/patients/?page_size=5"))
            } else {
                http.post(app.url("/api/patients/"))
                    .json(&patient(2_100_000_000 + n))
            };
            tasks.spawn(async move {
                let response = request.bearer_auth(token).send().await;
                match response {
                    Ok(response) if response.status().is_success() => None,
                    Ok(response) => Some(format!(
                        "{}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    )),
                    Err(error) => Some(error.to_string()),
                }
            });
        }
        while let Some(result) = tasks.join_next().await {
            if let Some(failure) = result.expect("task") {
                failed.push(failure);
            }
        }
        if batch % 10 == 5 {
            fail_some().await;
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 500 failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert_eq!(idle_in_transaction(&monitor, &database).await, 0);
    let _ = monitor.close().await;
    app.stop().await;
}

#[tokio::test]
async fn nul_or_invalid_utf8_in_any_query_parameter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    for (path, param, message) in [
        ("/api/resources/?type=%00", "type", NUL),
        ("/api/patients/search/?q=%00", "q", NUL),
        ("/api/users/?q=%00", "q", NUL),
        ("/api/patients/?page=1&page_size=a%00b", "page_size", NUL),
        ("/api/calendar/day/?date=2026-01-05%00", "date", NUL),
        ("/api/appointments/?doctor=1&status=%00", "status", NUL),
        ("/api/patients/search/?q=%C3%28", "q", BAD_UTF8),
        ("/api/resources/?type=%FF%FE", "type", BAD_UTF8),
    ] {
        let res = admin.get(path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text);
        assert_eq!(res.body, json!({ param: [message] }), "{path}");
    }
    // Unsafe methods are checked the same way, before anything is written.
    let res = admin
        .post("/api/patients/?x=%00", &patient(1_900_000_001))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body, json!({"x": [NUL]}));
    assert_eq!(admin.get("/api/patients/1900000001/").await.status, 404);
    // Valid percent-encoded text still works.
    let res = admin.get("/api/patients/search/?q=M%C3%BCller+x").await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.stop().await;
}

async fn get_with_request_id(app: &TestApp, token: &str, id: HeaderValue) -> reqwest::Response {
    app.http
        .get(app.url("/api/patients/"))
        .bearer_auth(token)
        .header("x-request-id", id)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_request_id_header_never_fails_a_request_and_only_clean_ids_are_kept() {
    let app = TestApp::spawn().await;
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().expect("token");
    let too_long = "a".repeat(200);
    for bad in [
        HeaderValue::from_str(&too_long).expect("header"),
        HeaderValue::from_static("tab\there"),
        HeaderValue::from_bytes("caf\u{e9}-\u{1f600}".as_bytes()).expect("obs-text"),
        HeaderValue::from_static("with spaces in it"),
        HeaderValue::from_static("semi;colon"),
    ] {
        let response = get_with_request_id(&app, &token, bad.clone()).await;
        assert_eq!(response.status(), 200, "{bad:?}");
        let echoed = response
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .expect("a request id is always answered")
            .to_owned();
        assert_ne!(echoed.as_bytes(), bad.as_bytes());
        assert!(praxi_server::resilience::is_valid_request_id(
            echoed.as_bytes()
        ));
        let audit = app
            .store()
            .audit_log(Some("patient_list"), 1)
            .await
            .expect("audit");
        assert_eq!(audit[0].request_id.as_deref(), Some(echoed.as_str()));
    }
    let good = format!("req-42:abc.DEF_{}", "0123456789".repeat(5)[..49].to_owned());
    assert_eq!(good.len(), 64);
    let response =
        get_with_request_id(&app, &token, HeaderValue::from_str(&good).expect("header")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("x-request-id").expect("echoed"),
        good.as_str()
    );
    let audit = app
        .store()
        .audit_log(Some("patient_list"), 1)
        .await
        .expect("audit");
    assert_eq!(audit[0].request_id.as_deref(), Some(good.as_str()));
    app.stop().await;
}

/// Starts a second server over the same database whose connections give up waiting for a lock
/// after `lock_timeout` (a database-level setting, read by new sessions).
async fn server_with_lock_timeout(
    app: &TestApp,
    url: &str,
    database: &str,
) -> (SocketAddr, praxi_server::AppState) {
    let admin = Database::connect(std::env::var("PRAXI_TEST_DATABASE_URL").expect("url"))
        .await
        .expect("admin");
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{database}\" SET lock_timeout = '400ms'"
        ))
        .await
        .expect("set lock_timeout");
    let _ = admin.close().await;
    let store = praxi_store::Store::connect(url).await.expect("connect");
    let state = praxi_server::AppState::new(store, (*app.state.config).clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = praxi_server::serve(listener, server_state, std::future::pending()).await;
    });
    (addr, state)
}

/// The `query_start` of each session of `database` currently waiting for a lock.
async fn lock_waits(monitor: &DatabaseConnection, database: &str) -> Vec<String> {
    monitor
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT query_start::text AS started FROM pg_stat_activity \
                 WHERE datname = '{database}' AND wait_event_type = 'Lock'"
            ),
        ))
        .await
        .expect("pg_stat_activity")
        .iter()
        .filter_map(|row| row.try_get::<String>("", "started").ok())
        .collect()
}

/// Polls until a lock wait starting after every one in `seen` appears, or `done` is set.
async fn await_new_lock_wait(
    monitor: &DatabaseConnection,
    database: &str,
    seen: &mut Vec<String>,
    request: &tokio::task::JoinHandle<reqwest::Response>,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !request.is_finished() {
        for started in lock_waits(monitor, database).await {
            if !seen.contains(&started) {
                seen.push(started);
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_timeout_is_retried_once_and_then_answered_503_json() {
    let app = TestApp::spawn().await;
    let Some((url, database)) = pg_database(&app).await else {
        return; // Lock timeouts need PostgreSQL's row locks.
    };
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(
        admin
            .post("/api/patients/", &patient(1_800_000_001))
            .await
            .status,
        201
    );
    let token = admin.token.clone().expect("token");
    let (addr, state) = server_with_lock_timeout(&app, &url, &database).await;
    let monitor = Database::connect(std::env::var("PRAXI_TEST_DATABASE_URL").expect("url"))
        .await
        .expect("monitor");
    let holder_db = Database::connect(&url).await.expect("holder");
    let patch = |phone: &'static str| {
        let request = app
            .http
            .patch(format!("http://{addr}/api/patients/1800000001/"))
            .bearer_auth(&token)
            .json(&json!({"phone": phone}));
        tokio::spawn(async move { request.send().await.expect("patch") })
    };

    // 1. The row stays locked through both attempts: two lock waits, then 503 with JSON.
    let holder = holder_db.begin().await.expect("begin");
    holder
        .execute_unprepared("SELECT id FROM patients WHERE id = 1800000001 FOR UPDATE")
        .await
        .expect("lock row");
    let request = patch("+49 1");
    let mut seen = Vec::new();
    assert!(
        await_new_lock_wait(&monitor, &database, &mut seen, &request).await,
        "first attempt waits"
    );
    assert!(
        await_new_lock_wait(&monitor, &database, &mut seen, &request).await,
        "the request is retried"
    );
    let response = request.await.expect("join");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").expect("Retry-After"),
        "1"
    );
    let body: Value = response.json().await.expect("json body");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("retry")),
        "{body}"
    );

    // 2. The lock goes away during the retry: the retried request succeeds, once.
    let request = patch("+49 2");
    assert!(
        await_new_lock_wait(&monitor, &database, &mut seen, &request).await,
        "first attempt waits"
    );
    assert!(
        await_new_lock_wait(&monitor, &database, &mut seen, &request).await,
        "the request is retried"
    );
    holder.rollback().await.expect("rollback");
    let response = request.await.expect("join");
    assert_eq!(response.status(), 200);
    let res = admin.get("/api/patients/1800000001/").await;
    assert_eq!(res.body["phone"], "+49 2");
    let updates = state
        .store
        .audit_log(Some("patient_updated"), 10)
        .await
        .expect("audit")
        .len();
    assert_eq!(
        updates, 1,
        "the change and its audit row were written exactly once"
    );

    let _ = holder_db.close().await;
    let _ = monitor.close().await;
    let _ = state.store.clone().close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_deadlock_is_classified_as_contention() {
    let app = TestApp::spawn().await;
    let Some((url, _)) = pg_database(&app).await else {
        return;
    };
    let db = Database::connect(&url).await.expect("connect");
    db.execute_unprepared(
        "CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int); \
         INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)",
    )
    .await
    .expect("table");
    let first = db.begin().await.expect("t1");
    let second = db.begin().await.expect("t2");
    for (txn, n) in [(&first, 1), (&second, 2)] {
        txn.execute_unprepared("SET LOCAL deadlock_timeout = '100ms'")
            .await
            .expect("set");
        txn.execute_unprepared(&format!("UPDATE deadlock_probe SET n = {n} WHERE id = {n}"))
            .await
            .expect("lock own row");
    }
    // Each transaction ends as soon as its statement returns, so the survivor can proceed.
    let blocked = tokio::spawn(async move {
        let result = first
            .execute_unprepared("UPDATE deadlock_probe SET n = 1 WHERE id = 2")
            .await;
        let _ = first.rollback().await;
        result
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second_result = second
        .execute_unprepared("UPDATE deadlock_probe SET n = 2 WHERE id = 1")
        .await;
    let _ = second.rollback().await;
    let first_result = blocked.await.expect("join");
    let errors: Vec<_> = [first_result, second_result]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one transaction is the deadlock victim"
    );
    assert_eq!(
        DbFailure::of(&errors[0]),
        DbFailure::Deadlock,
        "{:?}",
        errors[0]
    );
    let store_error = StoreError::from(errors.into_iter().next().expect("one error"));
    assert!(matches!(
        store_error,
        StoreError::Contention(DbFailure::Deadlock)
    ));
    let _ = db.close().await;
    app.stop().await;
}

#[tokio::test]
async fn cors_answers_listed_origins_only() {
    let app = TestApp::spawn_with(|config| {
        config.cors_origins = vec!["https://app.example.test".to_owned()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/patients/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.test")
        .await
        .expect("preflight");
    assert!(allowed.status().is_success());
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.test"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .expect("methods");
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .expect("headers");
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );

    let refused = preflight("https://evil.example.test")
        .await
        .expect("preflight");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Simple requests: the header only for the listed origin.
    let admin = app.as_role(Role::Admin).await;
    let token = admin.token.clone().expect("token");
    for (origin, expected) in [
        ("https://app.example.test", Some("https://app.example.test")),
        ("https://evil.example.test", None),
    ] {
        let response = app
            .http
            .get(app.url("/api/patients/"))
            .bearer_auth(&token)
            .header("origin", origin)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response
                .headers()
                .get("access-control-allow-origin")
                .and_then(|value| value.to_str().ok()),
            expected
        );
    }
    app.stop().await;

    // Without configured origins no CORS header is ever sent.
    let app = TestApp::spawn().await;
    let response = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/patients/"))
        .header("origin", "https://app.example.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    app.stop().await;
}
