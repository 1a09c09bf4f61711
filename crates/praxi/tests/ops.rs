//! The operable binary: log output (no colour codes into pipes, JSON lines on request),
//! graceful shutdown on SIGTERM, and `praxi backup` / `praxi restore` under write load.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_praxi");
const PASSWORD: &str = "s3cret-password-for-ops-tests";

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn praxi(data_dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("PRAXI_SECRET_KEY")
        .env_remove("PRAXI_LOG_FORMAT")
        .env_remove("PRAXI_METRICS_TOKEN")
        .env("PRAXI_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info");
    command
}

/// Runs `praxi <args>` to completion.
fn run(
    data_dir: &Path,
    database_url: &str,
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

fn run_ok(data_dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let output = run(data_dir, database_url, args, stdin);
    assert!(
        output.status.success(),
        "praxi {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running `praxi serve` whose standard output (a pipe) is collected line by line.
struct Server {
    child: Child,
    base: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(data_dir: &Path, database_url: &str, envs: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut command = praxi(data_dir, database_url);
        command
            .env("PRAXI_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn praxi");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            output,
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
        server
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit; returns the exit status.
    fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "praxi did not stop within {limit:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn output(&self) -> Vec<String> {
        // The reader threads may still be draining the pipes.
        std::thread::sleep(Duration::from_millis(200));
        self.output.lock().expect("lines").clone()
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A data directory with an admin (no first-start banner on serve).
fn prepared(dir: &Path, database_url: &str) {
    run_ok(
        dir,
        database_url,
        &[
            "user",
            "create",
            "admin1",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
}

async fn login(base: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/auth/login/"))
        .json(&json!({"username": "admin1", "password": PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200, "login");
    let body: Value = res.json().await.expect("json");
    body["access"].as_str().expect("access").to_owned()
}

#[tokio::test]
async fn logs_into_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(&dir.path().join("praxi.sqlite3"));
    prepared(dir.path(), &url);
    let mut server = Server::start(dir.path(), &url, &[("RUST_LOG", "debug,sqlx=warn")]).await;
    let token = login(&server.base).await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/patients/", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(server.terminate(Duration::from_secs(15)).success());
    let output = server.output().join("\n");
    assert!(output.contains("Praxi serving"), "{output}");
    assert!(
        output.contains("request"),
        "no request spans logged: {output}"
    );
    assert!(!output.contains("\x1b["), "colour codes in {output:?}");
}

#[tokio::test]
async fn json_log_format_writes_one_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(&dir.path().join("praxi.sqlite3"));
    prepared(dir.path(), &url);
    let mut server = Server::start(
        dir.path(),
        &url,
        &[
            ("PRAXI_LOG_FORMAT", "json"),
            ("RUST_LOG", "debug,sqlx=warn"),
        ],
    )
    .await;
    login(&server.base).await;
    assert!(server.terminate(Duration::from_secs(15)).success());
    let lines: Vec<String> = server
        .output()
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    let mut messages = Vec::new();
    for line in &lines {
        let object: Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {line:?}"));
        assert!(object["timestamp"].is_string(), "{line}");
        assert!(object["level"].is_string(), "{line}");
        messages.push(
            object["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("Praxi serving")),
        "{lines:?}"
    );
    // The flag works as well as the variable.
    let output = run(dir.path(), &url, &["--log-format", "json", "migrate"], None);
    assert!(output.status.success());
    let output = run(dir.path(), &url, &["--log-format", "yaml", "migrate"], None);
    assert!(!output.status.success());
}

#[tokio::test]
async fn sigterm_stops_promptly_and_cleanly_with_open_event_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(&dir.path().join("praxi.sqlite3"));
    prepared(dir.path(), &url);
    let mut server = Server::start(dir.path(), &url, &[]).await;
    let token = login(&server.base).await;
    // A live board stream never ends by itself; shutdown must end it.
    let mut stream = reqwest::Client::new()
        .get(format!("{}/api/events/op-board/", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .expect("ready event in time")
        .expect("chunk");
    assert!(first.is_some());
    let started = Instant::now();
    let status = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The stream was closed by the server, not cut by the test.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok());
    let output = server.output().join("\n");
    assert!(output.contains("shutting down"), "{output}");
}

/// Every row of `table` ordered by id, as JSON objects of the given columns.
async fn rows(
    db: &DatabaseConnection,
    table: &str,
    columns: &str,
) -> Vec<BTreeMap<String, String>> {
    let names: Vec<&str> = columns.split(", ").collect();
    let result = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT {columns} FROM {table} ORDER BY id"),
        ))
        .await
        .expect("select");
    result
        .iter()
        .map(|row| {
            names
                .iter()
                .map(|name| {
                    let value = row
                        .try_get::<Option<String>>("", name)
                        .map(|value| value.unwrap_or_default())
                        .or_else(|_| row.try_get::<i64>("", name).map(|value| value.to_string()))
                        .or_else(|_| row.try_get::<i32>("", name).map(|value| value.to_string()))
                        .or_else(|_| {
                            row.try_get::<Option<i32>>("", name)
                                .map(|value| value.map(|v| v.to_string()).unwrap_or_default())
                        })
                        .unwrap_or_else(|error| panic!("{table}.{name}: {error}"));
                    ((*name).to_owned(), value)
                })
                .collect()
        })
        .collect()
}

const PATIENT_COLUMNS: &str = "id, first_name, last_name";
const AUDIT_COLUMNS: &str = "id, action, patient_id";

/// Posts patients from `workers` tasks until `stop`; returns the ids acknowledged (201), in
/// the order acknowledged.
fn write_load(
    base: &str,
    token: &str,
    workers: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<i64>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let next_id = Arc::new(AtomicI64::new(1000));
    let handles = (0..workers)
        .map(|_| {
            let (base, token) = (base.to_owned(), token.to_owned());
            let (stop, next_id, acknowledged) =
                (stop.clone(), next_id.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    let res = client
                        .post(format!("{base}/api/patients/"))
                        .bearer_auth(&token)
                        .json(
                            &json!({"id": id, "first_name": "Load", "last_name": format!("L{id}")}),
                        )
                        .send()
                        .await
                        .expect("post");
                    assert_eq!(res.status(), 201);
                    acknowledged.lock().expect("ids").push(id);
                }
            })
        })
        .collect();
    (acknowledged, handles)
}

#[tokio::test]
async fn sqlite_backup_under_write_load_is_a_consistent_snapshot_and_restores_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live_path = dir.path().join("praxi.sqlite3");
    let url = sqlite_url(&live_path);
    prepared(dir.path(), &url);
    let mut server = Server::start(dir.path(), &url, &[]).await;
    let token = login(&server.base).await;

    let stop = Arc::new(AtomicBool::new(false));
    let (acknowledged, writers) = write_load(&server.base, &token, 3, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_backup: Vec<i64> = acknowledged.lock().expect("ids").clone();
    assert!(!before_backup.is_empty(), "the load wrote nothing");
    let backup = dir.path().join("backup.sqlite3");
    let backup_arg = backup.display().to_string();
    let (data_dir, backup_url) = (dir.path().to_owned(), url.clone());
    let output = tokio::task::spawn_blocking(move || {
        run_ok(&data_dir, &backup_url, &["backup", &backup_arg], None)
    })
    .await
    .expect("backup task");
    assert!(output.contains("integrity ok"), "{output}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Restoring over the database the server uses is refused.
    let restore_live = run(
        dir.path(),
        &url,
        &["restore", &backup.display().to_string(), "--force"],
        None,
    );
    assert!(!restore_live.status.success());
    assert!(
        String::from_utf8_lossy(&restore_live.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&restore_live.stderr)
    );

    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let written: Vec<i64> = acknowledged.lock().expect("ids").clone();
    assert!(server.terminate(Duration::from_secs(15)).success());

    let backup_db = Database::connect(format!("sqlite://{}?mode=ro", backup.display()))
        .await
        .expect("open backup");
    let live_db = Database::connect(sqlite_url(&live_path))
        .await
        .expect("open live");
    for pragma in ["PRAGMA integrity_check", "PRAGMA foreign_key_check"] {
        let result = backup_db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, pragma))
            .await
            .expect(pragma);
        let lines: Vec<String> = result
            .iter()
            .filter_map(|row| row.try_get_by_index::<String>(0).ok())
            .collect();
        assert!(lines.is_empty() || lines == ["ok"], "{pragma}: {lines:?}");
    }
    let backup_patients = rows(&backup_db, "patients", PATIENT_COLUMNS).await;
    let live_patients = rows(&live_db, "patients", PATIENT_COLUMNS).await;
    let backup_audit = rows(&backup_db, "core_auditlog", AUDIT_COLUMNS).await;
    let live_audit = rows(&live_db, "core_auditlog", AUDIT_COLUMNS).await;
    // Everything acknowledged before the backup began is in it; it is a snapshot taken while
    // writes went on (the live database has more), and each of its rows is in the live one.
    let backup_ids: Vec<i64> = backup_patients
        .iter()
        .map(|row| row["id"].parse().expect("id"))
        .collect();
    for id in &before_backup {
        assert!(
            backup_ids.contains(id),
            "patient {id} acknowledged before the backup is missing"
        );
    }
    assert!(
        backup_patients.len() < live_patients.len(),
        "writes went on after the backup"
    );
    assert_eq!(live_patients.len(), written.len());
    for row in &backup_patients {
        assert!(
            live_patients.contains(row),
            "{row:?} not in the live database"
        );
    }
    for row in &backup_audit {
        assert!(
            live_audit.contains(row),
            "{row:?} not in the live audit log"
        );
    }
    // Consistent: each patient's create and its audit row were one transaction.
    let audited: Vec<String> = backup_audit
        .iter()
        .filter(|row| row["action"] == "patient_created")
        .map(|row| row["patient_id"].clone())
        .collect();
    let mut patient_ids: Vec<String> = backup_ids.iter().map(i64::to_string).collect();
    patient_ids.sort();
    let mut audited_sorted = audited.clone();
    audited_sorted.sort();
    assert_eq!(audited_sorted, patient_ids);

    // Restore into a new place gives exactly the backup's rows.
    let restored_path: PathBuf = dir.path().join("restored").join("praxi.sqlite3");
    let restored_url = sqlite_url(&restored_path);
    let output = run_ok(
        dir.path(),
        &restored_url,
        &["restore", &backup.display().to_string()],
        None,
    );
    assert!(output.contains("restored"), "{output}");
    let restored_db = Database::connect(restored_url.clone())
        .await
        .expect("open restored");
    assert_eq!(
        rows(&restored_db, "patients", PATIENT_COLUMNS).await,
        backup_patients
    );
    assert_eq!(
        rows(&restored_db, "core_auditlog", AUDIT_COLUMNS).await,
        backup_audit
    );
    restored_db.close().await.expect("close");
    // Any open connection counts as "in use", this test's own too.
    let output = run(
        dir.path(),
        &url,
        &["restore", &backup.display().to_string(), "--force"],
        None,
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("in use"));
    live_db.close().await.expect("close");
    // An existing database is only replaced on request; with nobody using it that works.
    let output = run(
        dir.path(),
        &url,
        &["restore", &backup.display().to_string()],
        None,
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--force"), "{stderr}");
    run_ok(
        dir.path(),
        &url,
        &["restore", &backup.display().to_string(), "--force"],
        None,
    );
    let live_db = Database::connect(sqlite_url(&live_path))
        .await
        .expect("reopen live");
    assert_eq!(
        rows(&live_db, "patients", PATIENT_COLUMNS).await,
        backup_patients
    );
    live_db.close().await.expect("close");
    // The restored database serves.
    let mut server = Server::start(dir.path(), &url, &[]).await;
    login(&server.base).await;
    assert!(server.terminate(Duration::from_secs(15)).success());

    // A damaged backup is refused.
    let damaged = dir.path().join("damaged.sqlite3");
    std::fs::write(&damaged, b"not a database at all").expect("write");
    let output = run(
        dir.path(),
        &restored_url,
        &["restore", &damaged.display().to_string(), "--force"],
        None,
    );
    assert!(!output.status.success());
    // An existing backup file is never overwritten.
    let output = run(
        dir.path(),
        &url,
        &["backup", &backup.display().to_string()],
        None,
    );
    assert!(!output.status.success());
}

/// A fresh PostgreSQL database next to `PRAXI_TEST_DATABASE_URL`.
async fn postgres_database(suffix: &str) -> Option<(String, String, String)> {
    let admin_url = std::env::var("PRAXI_TEST_DATABASE_URL").ok()?;
    let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
    let name = format!(
        "{run_db}_ops_{suffix}_{}_{}",
        std::process::id(),
        free_port()
    );
    let admin = Database::connect(&admin_url).await.expect("pg");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create db");
    admin.close().await.expect("close");
    let (base, _) = admin_url.rsplit_once('/').expect("path");
    Some((format!("{base}/{name}"), admin_url, name))
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

#[tokio::test]
async fn postgres_backup_runs_pg_dump_and_restore_runs_pg_restore() {
    let Some((url, admin_url, name)) = postgres_database("src").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let printed = run_ok(
        dir.path(),
        &url,
        &["backup", "/tmp/x.dump", "--print"],
        None,
    );
    assert!(printed.starts_with("pg_dump --format=custom"), "{printed}");
    let with_password = url.replacen("postgres@", "postgres:hunter2@", 1);
    let printed = run_ok(
        dir.path(),
        &with_password,
        &["backup", "/tmp/x.dump", "--print"],
        None,
    );
    assert!(!printed.contains("hunter2"), "{printed}");
    if Command::new("pg_dump").arg("--version").output().is_err() {
        drop_database(&admin_url, &name).await;
        return;
    }
    prepared(dir.path(), &url);
    let dump = dir.path().join("praxi.dump");
    run_ok(
        dir.path(),
        &url,
        &["backup", &dump.display().to_string()],
        None,
    );
    let (target_url, _, target_name) = postgres_database("dst").await.expect("pg");
    run_ok(
        dir.path(),
        &target_url,
        &["restore", &dump.display().to_string()],
        None,
    );
    let source = Database::connect(&url).await.expect("source");
    let target = Database::connect(&target_url).await.expect("target");
    let users = "SELECT username FROM core_user ORDER BY id";
    let read = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            db.query_all_raw(Statement::from_string(DbBackend::Postgres, users))
                .await
                .expect("users")
                .iter()
                .map(|row| row.try_get::<String>("", "username").expect("username"))
                .collect::<Vec<_>>()
        }
    };
    let source_users = read(&source).await;
    assert_eq!(source_users, ["admin1"]);
    assert_eq!(read(&target).await, source_users);
    source.close().await.expect("close");
    target.close().await.expect("close");
    drop_database(&admin_url, &name).await;
    drop_database(&admin_url, &target_name).await;
}

#[tokio::test]
async fn metrics_are_served_with_a_token_or_on_their_own_address_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(&dir.path().join("praxi.sqlite3"));
    prepared(dir.path(), &url);
    let client = reqwest::Client::new();

    // Neither configured: no metrics.
    let mut server = Server::start(dir.path(), &url, &[]).await;
    let res = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 404);
    assert!(server.terminate(Duration::from_secs(15)).success());

    // A separate address: open there, still a 404 on the main one.
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut server = Server::start(
        dir.path(),
        &url,
        &[("PRAXI_METRICS_BIND", metrics_bind.as_str())],
    )
    .await;
    let res = client
        .get(format!("http://{metrics_bind}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = res.text().await.expect("body");
    assert!(
        text.contains(
            "praxi_http_requests_total{method=\"GET\",route=\"/api/health/\",status=\"200\"}"
        ),
        "{text}"
    );
    let res = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 404);
    assert!(server.terminate(Duration::from_secs(15)).success());

    // A token: the main address answers with it, 401 without.
    let token = "a-metrics-token-of-at-least-32-characters";
    let mut server = Server::start(dir.path(), &url, &[("PRAXI_METRICS_TOKEN", token)]).await;
    let res = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 401);
    let res = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(server.terminate(Duration::from_secs(15)).success());
    // Too short a token is refused at start.
    let output = run(
        dir.path(),
        &url,
        &["--metrics-token", "short", "migrate"],
        None,
    );
    assert!(!output.status.success());
}
