//! The `praxi` binary end to end: first start on an empty data directory, `user create` for
//! every role, logins through the API. Runs on SQLite, and on PostgreSQL too when
//! `PRAXI_TEST_DATABASE_URL` is set.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_praxi");

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn praxi(data_dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("DATABASE_URL")
        .env_remove("PRAXI_SECRET_KEY")
        .env("PRAXI_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

/// Starts `praxi` (no subcommand) and collects its stdout until it serves.
async fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> (Server, String) {
    let port = free_port();
    let mut child = praxi(data_dir, database_url)
        .env("PRAXI_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn praxi");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let health = client
            .get(format!("{}/api/health/", server.base))
            .send()
            .await;
        if health.is_ok_and(|res| res.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "praxi did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let output: Vec<String> = receiver.try_iter().collect();
    (server, output.join("\n"))
}

async fn login(base: &str, username: &str, password: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/auth/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200, "login {username}");
    res.json().await.expect("json")
}

/// A fresh PostgreSQL database when the suite runs against PostgreSQL.
async fn postgres_database() -> Option<(String, String, String)> {
    use sea_orm::ConnectionTrait;
    let admin_url = std::env::var("PRAXI_TEST_DATABASE_URL").ok()?;
    let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
    let name = format!("{run_db}_cli_{}_{}", std::process::id(), free_port());
    let admin = sea_orm::Database::connect(&admin_url).await.expect("pg");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create db");
    admin.close().await.expect("close");
    let (base, _) = admin_url.rsplit_once('/').expect("path");
    Some((format!("{base}/{name}"), admin_url, name))
}

async fn drop_database(admin_url: &str, name: &str) {
    use sea_orm::ConnectionTrait;
    if let Ok(admin) = sea_orm::Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

#[tokio::test]
async fn first_start_seeds_the_demo_and_prints_a_working_admin_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, output) = start(dir.path(), None).await;
    let password = output
        .lines()
        .find_map(|line| line.split("created user 'admin' with password: ").nth(1))
        .unwrap_or_else(|| panic!("no admin password printed in:\n{output}"))
        .trim()
        .to_owned();
    assert!(password.len() >= 16);
    assert!(dir.path().join("praxi.sqlite3").exists());
    assert!(dir.path().join("secret_key").exists());

    let tokens = login(&server.base, "admin", &password).await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/patients/", server.base))
        .bearer_auth(tokens["access"].as_str().expect("access"))
        .send()
        .await
        .expect("patients");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["count"], 20, "demo patients are seeded");
    drop(server);

    // A second start neither re-seeds nor prints a new password; the same key is kept.
    let key = std::fs::read_to_string(dir.path().join("secret_key")).expect("key");
    let (server, output) = start(dir.path(), None).await;
    assert!(!output.contains("password"), "{output}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret_key")).expect("key"),
        key
    );
    login(&server.base, "admin", &password).await;
}

#[tokio::test]
async fn user_create_works_for_every_role_and_each_can_log_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = postgres_database().await;
    let url = pg.as_ref().map(|(url, _, _)| url.as_str());
    let roles = ["admin", "assistant", "doctor", "billing"];
    for role in roles {
        let mut command = praxi(dir.path(), url);
        command.args([
            "user",
            "create",
            &format!("{role}1"),
            "--role",
            role,
            "--password-stdin",
        ]);
        if role == "doctor" {
            command.args(["--display-name", "Dr. Anna Müller", "--colour", "#32CD32"]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"s3cret-password-for-tests\n")
            .expect("write");
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "{role}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Bad input is refused with a message, not a panic.
    let output = praxi(dir.path(), url)
        .args([
            "user",
            "create",
            "x",
            "--role",
            "janitor",
            "--password-stdin",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role"));

    let (server, _) = start(dir.path(), url).await;
    for role in roles {
        let tokens = login(
            &server.base,
            &format!("{role}1"),
            "s3cret-password-for-tests",
        )
        .await;
        assert_eq!(tokens["user"]["role"]["name"], role);
    }
    let doctor = login(&server.base, "doctor1", "s3cret-password-for-tests").await;
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/auth/me/", server.base))
        .bearer_auth(doctor["access"].as_str().expect("access"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["first_name"], "Dr. Anna");
    assert_eq!(me["last_name"], "Müller");
    assert_eq!(me["calendar_color"], "#32CD32");
    drop(server);
    if let Some((_, admin_url, name)) = pg {
        drop_database(&admin_url, &name).await;
    }
}

/// Runs `praxi <args>` to completion, writing `stdin` (if any) to its standard input.
fn run(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut child = praxi(data_dir, database_url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

/// Runs a command that must succeed and returns its standard output.
fn run_ok(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    let output = run(data_dir, database_url, args, stdin);
    assert!(
        output.status.success(),
        "praxi {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command that must fail and returns its standard error.
fn run_err(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    let output = run(data_dir, database_url, args, stdin);
    assert!(!output.status.success(), "praxi {args:?} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn login_status(base: &str, username: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/auth/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login request")
        .status()
        .as_u16()
}

async fn me_status(base: &str, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/auth/me/"))
        .bearer_auth(access)
        .send()
        .await
        .expect("me request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn user_commands_list_change_roles_deactivate_and_reset_passwords() {
    const PASSWORD: &str = "s3cret-password-for-tests\n";
    const PLAIN: &str = "s3cret-password-for-tests";
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = postgres_database().await;
    let url = pg.as_ref().map(|(url, _, _)| url.as_str());
    let dir = dir.path();

    // `user create` applies the domain's password rules.
    let stderr = run_err(
        dir,
        url,
        &[
            "user",
            "create",
            "weak",
            "--role",
            "doctor",
            "--password-stdin",
        ],
        Some("123456789012\n"),
    );
    assert!(
        stderr.contains("password: This password is entirely numeric."),
        "{stderr}"
    );
    let stderr = run_err(
        dir,
        url,
        &[
            "user",
            "create",
            "bad name",
            "--role",
            "doctor",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(
        stderr.contains("username: Enter a valid username."),
        "{stderr}"
    );
    for (name, role) in [("chefin", "admin"), ("dr.cli", "doctor")] {
        run_ok(
            dir,
            url,
            &["user", "create", name, "--role", role, "--password-stdin"],
            Some(PASSWORD),
        );
    }
    let listing = run_ok(dir, url, &["user", "list"], None);
    let lines: Vec<&str> = listing.lines().collect();
    assert!(lines[0].starts_with("ID"), "{listing}");
    assert!(
        lines[1].contains("chefin") && lines[1].contains("admin"),
        "{listing}"
    );
    assert!(
        lines[2].contains("dr.cli") && lines[2].contains("doctor") && lines[2].contains("active"),
        "{listing}"
    );
    assert!(!listing.contains("argon2"), "{listing}");

    let (server, _) = start(dir, url).await;
    let base = server.base.clone();
    let tokens = login(&base, "dr.cli", PLAIN).await;
    let access = tokens["access"].as_str().expect("access").to_owned();
    assert_eq!(me_status(&base, &access).await, 200);

    // Deactivation takes effect on the running server at once.
    let out = run_ok(dir, url, &["user", "deactivate", "dr.cli"], None);
    assert!(out.contains("deactivated"), "{out}");
    assert_eq!(me_status(&base, &access).await, 401);
    assert_eq!(login_status(&base, "dr.cli", PLAIN).await, 400);
    let listing = run_ok(dir, url, &["user", "list"], None);
    assert!(listing.contains("inactive"), "{listing}");

    run_ok(dir, url, &["user", "activate", "dr.cli"], None);
    let tokens = login(&base, "dr.cli", PLAIN).await;
    let access = tokens["access"].as_str().expect("access").to_owned();
    assert_eq!(tokens["user"]["role"]["name"], "doctor");

    // A role change revokes the tokens; the next login carries the new role.
    let stderr = run_err(dir, url, &["user", "set-role", "dr.cli", "janitor"], None);
    assert!(stderr.contains("unknown role"), "{stderr}");
    run_ok(dir, url, &["user", "set-role", "dr.cli", "billing"], None);
    assert_eq!(me_status(&base, &access).await, 401);
    let tokens = login(&base, "dr.cli", PLAIN).await;
    let access = tokens["access"].as_str().expect("access").to_owned();
    assert_eq!(tokens["user"]["role"]["name"], "billing");

    // Password resets follow the same rules and revoke the tokens.
    let stderr = run_err(
        dir,
        url,
        &["user", "reset-password", "dr.cli", "--password-stdin"],
        Some("Dr.Cli1234\n"),
    );
    assert!(
        stderr.contains("The password is too similar to the username."),
        "{stderr}"
    );
    let stderr = run_err(dir, url, &["user", "reset-password", "dr.cli"], None);
    assert!(stderr.contains("--password-stdin"), "{stderr}");
    run_ok(
        dir,
        url,
        &["user", "reset-password", "dr.cli", "--password-stdin"],
        Some("ein ganz neues Passwort\n"),
    );
    assert_eq!(me_status(&base, &access).await, 401);
    assert_eq!(login_status(&base, "dr.cli", PLAIN).await, 400);
    assert_eq!(
        login_status(&base, "dr.cli", "ein ganz neues Passwort").await,
        200
    );

    // Unknown users are an error, not a panic.
    for args in [
        &["user", "deactivate", "niemand"][..],
        &["user", "activate", "niemand"][..],
        &["user", "set-role", "niemand", "admin"][..],
    ] {
        let stderr = run_err(dir, url, args, None);
        assert!(stderr.contains("no user named \"niemand\""), "{stderr}");
    }
    // Removing the last admin is allowed from the command line (it can undo it), with a warning.
    let output = run(dir, url, &["user", "deactivate", "chefin"], None);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no active admin is left"));
    run_ok(dir, url, &["user", "activate", "chefin"], None);
    drop(server);

    // Every change is audited as a command-line action on the user's id.
    let database_url = url.map_or_else(
        || format!("sqlite://{}?mode=rw", dir.join("praxi.sqlite3").display()),
        str::to_owned,
    );
    let db = sea_orm::Database::connect(&database_url).await.expect("db");
    use sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT action, username, user_id FROM core_auditlog ORDER BY id",
        ))
        .await
        .expect("audit rows");
    let actions: Vec<String> = rows
        .iter()
        .map(|row| {
            let username: String = row.try_get("", "username").expect("username");
            let user_id: Option<i64> = row.try_get("", "user_id").expect("user_id");
            assert_eq!(username, "(cli)");
            assert_eq!(user_id, None);
            row.try_get("", "action").expect("action")
        })
        .collect();
    assert_eq!(
        actions,
        [
            "user_create",
            "user_create",
            "user_deactivate",
            "user_activate",
            "user_update",
            "user_set_password",
            "user_deactivate",
            "user_activate"
        ]
    );
    db.close().await.expect("close");
    if let Some((_, admin_url, name)) = pg {
        drop_database(&admin_url, &name).await;
    }
}

/// Crash safety: `kill -9` of a server under eight concurrent writers loses no write it
/// acknowledged (every 201 patient is there after a restart, with its audit row), and leaves no
/// unacknowledged half-write behind (a patient row without its audit row). SQLite, and
/// PostgreSQL when configured.
#[tokio::test]
async fn kill_9_under_writers_loses_no_acknowledged_write() {
    use sea_orm::{ConnectionTrait, Statement};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().expect("tempdir");
    let pg = postgres_database().await;
    let url = pg.as_ref().map(|(url, _, _)| url.as_str());
    let (mut server, output) = start(dir.path(), url).await;
    let password = output
        .lines()
        .find_map(|line| line.split("created user 'admin' with password: ").nth(1))
        .unwrap_or_else(|| panic!("no admin password printed in:\n{output}"))
        .trim()
        .to_owned();
    let tokens = login(&server.base, "admin", &password).await;
    let access = tokens["access"].as_str().expect("access").to_owned();

    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..8_i64 {
        let (base, access) = (server.base.clone(), access.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..100_000_i64 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let id = 1_000_000 + writer * 100_000 + n;
                let sent = client
                    .post(format!("{base}/api/patients/"))
                    .bearer_auth(&access)
                    .json(&json!({
                        "id": id,
                        "first_name": "Crash",
                        "last_name": format!("Test {id}"),
                        "birth_date": "1980-02-03",
                    }))
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == 201 => {
                        acknowledged.lock().expect("lock").push(id);
                    }
                    Ok(res) => panic!("unexpected status {} for patient {id}", res.status()),
                    // The server is gone: this writer is done.
                    Err(_) => break,
                }
            }
        }));
    }
    // Let the writers get going, then kill the server without warning.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().expect("lock").len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reap");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 300,
        "only {} writes acknowledged",
        acknowledged.len()
    );

    // Restart on the same database: it serves again and every acknowledged write is there.
    drop(server);
    let (server, _) = start(dir.path(), url).await;
    login(&server.base, "admin", &password).await;
    drop(server);
    let db_url = match url {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}?mode=rw",
            dir.path().join("praxi.sqlite3").display()
        ),
    };
    let db = sea_orm::Database::connect(&db_url).await.expect("connect");
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT CAST(p.id AS BIGINT) AS id, (SELECT CAST(COUNT(*) AS BIGINT) FROM core_auditlog a \
             WHERE a.patient_id = p.id AND a.action = 'patient_created') AS audits \
             FROM patients p WHERE p.id >= 1000000",
        ))
        .await
        .expect("stored patients");
    let mut stored = std::collections::HashMap::new();
    for row in rows {
        let id: i64 = row.try_get("", "id").expect("id");
        let audits: i64 = row.try_get("", "audits").expect("audits");
        stored.insert(id, audits);
    }
    db.close().await.expect("close");
    let lost: Vec<i64> = acknowledged
        .iter()
        .copied()
        .filter(|id| !stored.contains_key(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let half_written: Vec<i64> = stored
        .iter()
        .filter(|(_, audits)| **audits != 1)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        half_written.is_empty(),
        "rows without exactly one audit row: {half_written:?}"
    );
    println!(
        "kill -9 under 8 writers: {} acknowledged, {} stored (the rest were in flight), 0 lost",
        acknowledged.len(),
        stored.len()
    );
    if let Some((_, admin_url, name)) = &pg {
        drop_database(admin_url, name).await;
    }
}

/// Changes one audit row's `action` behind the append-only trigger's back (what an attacker
/// with database access could do) and returns that row's id.
async fn tamper_with_an_audit_row(url: &str) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) AS id FROM core_auditlog WHERE hash IS NOT NULL",
        ))
        .await
        .expect("select")
        .expect("a row");
    let id: i64 = row.try_get("", "id").expect("id");
    let update = format!("UPDATE core_auditlog SET action = 'user_activate' WHERE id = {id}");
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_update_delete; {update}; \
             ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_no_update_delete;"
        ))
        .await
        .expect("tamper");
    } else {
        db.execute_unprepared(&format!(
            "DROP TRIGGER core_auditlog_no_update; {update}; \
             CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog \
             BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END;"
        ))
        .await
        .expect("tamper");
    }
    db.close().await.expect("close");
    id
}

/// `praxi audit verify` accepts the chain the writers built and names the first row that was
/// edited afterwards (exit status 1).
#[tokio::test]
async fn audit_verify_reports_ok_and_then_the_edited_row() {
    const PASSWORD: &str = "s3cret-password-for-tests\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = postgres_database().await;
    let url = pg.as_ref().map(|(url, _, _)| url.as_str());
    let dir = dir.path();
    for name in ["chain.one", "chain.two", "chain.three"] {
        run_ok(
            dir,
            url,
            &[
                "user",
                "create",
                name,
                "--role",
                "assistant",
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
    }
    let stdout = run_ok(dir, url, &["audit", "verify"], None);
    assert!(stdout.starts_with("OK: "), "{stdout}");
    let chained: u64 = stdout
        .trim_start_matches("OK: ")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(chained >= 3, "{stdout}");

    let sqlite_url = format!("sqlite://{}?mode=rwc", dir.join("praxi.sqlite3").display());
    let tampered = tamper_with_an_audit_row(url.unwrap_or(&sqlite_url)).await;
    let output = run(dir, url, &["audit", "verify"], None);
    assert!(!output.status.success(), "verify must fail after tampering");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("BROKEN: audit row {tampered}: the row's contents")),
        "{stdout}"
    );
    if let Some((_, admin_url, name)) = pg {
        drop_database(&admin_url, &name).await;
    }
}
