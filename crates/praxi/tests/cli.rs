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
