//! Switching from PraxiApp: the fixture database of the original (`shared/fixtures/praxiapp`)
//! adopted in place, imported into SQLite and into PostgreSQL, then served: old passwords log
//! in (and are rehashed), list / suggest / create work, overlaps are refused, and rows the
//! original allowed but Praxi forbids are reported. The source is always PostgreSQL, so these
//! tests run only when `PRAXI_TEST_DATABASE_URL` is set (CI sets it).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use praxi_server::{AppState, ServerConfig};
use praxi_store::Store;
use praxi_store::praxiapp::{self, AdoptOptions, Findings, ImportOptions};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

const FIXTURE_PASSWORD: &str = "Fixture-pass-1!";

/// The tables whose rows must be equal before and after (what Praxi copies).
const TABLES: [&str; 22] = [
    "core_role",
    "core_user",
    "auth_group",
    "auth_permission",
    "core_user_groups",
    "core_user_user_permissions",
    "patients",
    "patient_documents",
    "patient_notes",
    "appointments_appointmenttype",
    "appointments_practicehours",
    "appointments_doctorhours",
    "appointments_doctorabsence",
    "appointments_doctorbreak",
    "appointments_resource",
    "appointments_operationtype",
    "appointments_appointment",
    "appointments_appointmentresource",
    "appointments_operation",
    "appointments_operationdevice",
    "appointments_patientflow",
    "core_auditlog",
];

/// One overlap (doctor 2, appointments 9001/9002), one 30-hour booking (9003), one
/// appointment whose patient does not exist (9004), one duplicate e-mail (users 2 and 13).
const BROKEN_ROWS: &str = "
INSERT INTO appointments_appointment (id, patient_id, start_time, end_time, status, notes, created_at, updated_at, doctor_id, type_id, is_no_show) VALUES
 (9001, (SELECT min(id) FROM patients), '2030-01-07 08:00+00', '2030-01-07 08:30+00', 'scheduled', NULL, now(), now(), 2, 1, false),
 (9002, (SELECT max(id) FROM patients), '2030-01-07 08:15+00', '2030-01-07 08:45+00', 'scheduled', NULL, now(), now(), 2, 1, false),
 (9003, (SELECT id FROM patients ORDER BY id OFFSET 1 LIMIT 1), '2030-02-04 08:00+00', '2030-02-05 14:00+00', 'scheduled', NULL, now(), now(), 4, 1, false),
 (9004, 999999, '2030-03-04 09:00+00', '2030-03-04 09:30+00', 'scheduled', NULL, now(), now(), 5, 1, false);
UPDATE core_user SET email = 'DR.MUELLER@seed.local' WHERE id = 13;
";

fn admin_url() -> Option<String> {
    match std::env::var("PRAXI_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            eprintln!("skipped: PRAXI_TEST_DATABASE_URL is not set (PraxiApp runs on PostgreSQL)");
            None
        }
    }
}

fn fixture_sql(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/praxiapp")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    // psql meta-commands (none today) are not SQL.
    text.lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A PostgreSQL database created for one test and dropped afterwards.
struct PgDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDb {
    async fn create(admin_url: &str, tag: &str) -> PgDb {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|duration| duration.as_nanos() % 1_000_000_000)
            .unwrap_or(0);
        let name = format!(
            "{run_db}_{tag}_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = Database::connect(admin_url).await.expect("connect admin");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        admin.close().await.expect("close");
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .expect("url has a path");
        PgDb {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// A database holding the PraxiApp fixture (plus `extra` SQL).
    async fn with_fixture(admin_url: &str, tag: &str, extra: &str) -> PgDb {
        let db = PgDb::create(admin_url, tag).await;
        // A connection of its own: the dump empties search_path for its session.
        let conn = Database::connect(db.url.as_str()).await.expect("connect");
        conn.execute_unprepared(&fixture_sql("schema.sql"))
            .await
            .expect("load schema.sql");
        conn.execute_unprepared(&fixture_sql("data.sql"))
            .await
            .expect("load data.sql");
        conn.close().await.expect("close");
        if !extra.is_empty() {
            let conn = Database::connect(db.url.as_str()).await.expect("connect");
            conn.execute_unprepared(extra).await.expect("extra rows");
            conn.close().await.expect("close");
        }
        db
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

async fn row_counts(url: &str) -> BTreeMap<String, i64> {
    let conn = Database::connect(url).await.expect("connect");
    let mut counts = BTreeMap::new();
    for table in TABLES {
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT count(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        counts.insert(table.to_owned(), row.try_get::<i64>("", "n").expect("n"));
    }
    conn.close().await.expect("close");
    counts
}

async fn password_of(url: &str, username: &str) -> String {
    let conn = Database::connect(url).await.expect("connect");
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT password FROM core_user WHERE username = $1",
        _ => "SELECT password FROM core_user WHERE username = ?",
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [username.into()],
        ))
        .await
        .expect("query")
        .expect("user");
    let password: String = row.try_get("", "password").expect("password");
    conn.close().await.expect("close");
    password
}

/// Praxi serving a switched database, as `praxi serve` does (migrate, roles, serve).
struct Served {
    addr: SocketAddr,
    state: AppState,
    http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Served {
    async fn start(url: &str) -> Served {
        let store = Store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate after the switch");
        store.ensure_roles().await.expect("roles");
        let config = ServerConfig::new(b"test-secret-key-that-is-long-enough-0123456789".to_vec());
        let state = AppState::new(store, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = praxi_server::serve(listener, server_state, async {
                let _ = signal.await;
            })
            .await;
        });
        Served {
            addr,
            state,
            http: reqwest::Client::new(),
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("http://{}/api/auth/login/", self.addr))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, username: &str) -> String {
        let (status, body) = self.login(username, FIXTURE_PASSWORD).await;
        assert_eq!(status, 200, "login {username}: {body}");
        body["access"].as_str().expect("access token").to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("http://{}{path}", self.addr))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let _ = self.state.store.clone().close().await;
    }
}

/// Logs in with an old Django password, checks that the hash became argon2id and that the
/// next login (argon2id now) works too.
async fn old_password_logs_in_and_is_rehashed(served: &Served, url: &str) {
    assert!(
        password_of(url, "dr.schmidt")
            .await
            .starts_with("pbkdf2_sha256$1000000$")
    );
    let (status, body) = served.login("dr.schmidt", "wrong password").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        password_of(url, "dr.schmidt")
            .await
            .starts_with("pbkdf2_sha256$")
    );
    let (status, body) = served.login("dr.schmidt", FIXTURE_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "dr.schmidt");
    assert!(
        password_of(url, "dr.schmidt")
            .await
            .starts_with("$argon2id$")
    );
    let (status, body) = served.login("dr.schmidt", FIXTURE_PASSWORD).await;
    assert_eq!(status, 200, "after rehash: {body}");
}

/// List, suggest and create on the switched data; a booking on top of a fixture appointment
/// is refused.
async fn booking_paths_work(served: &Served, url: &str) {
    let admin = served.token("admin").await;
    let (status, list) = served.get(&admin, "/api/appointments/").await;
    assert_eq!(status, 200, "{list}");
    assert!(list.as_array().map(Vec::len).unwrap_or(0) >= 300, "{list}");

    let (status, body) = served
        .get(
            &admin,
            "/api/appointments/suggest/?doctor_id=3&duration_minutes=30&start_date=2030-01-14&limit=3",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["primary_suggestions"].as_array().map(Vec::len),
        Some(3),
        "{body}"
    );

    let (status, created) = served
        .post(
            &admin,
            "/api/appointments/",
            &json!({
                "patient_id": 1,
                "doctor": 3,
                "start_time": "2030-01-14T10:00:00+01:00",
                "end_time": "2030-01-14T10:30:00+01:00",
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created["id"].as_i64().unwrap_or(0) > 300,
        "ids continue after the imported maximum: {created}"
    );

    // Future fixture appointments inside the doctors' hours (Mon–Fri 08–17 local); another
    // patient at the same time with the same doctor is refused for the doctor's booking.
    let conn = Database::connect(url).await.expect("connect");
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT doctor_id, patient_id, start_time, end_time FROM appointments_appointment \
             WHERE status <> 'cancelled' AND start_time > '2027-01-01' AND id < 9000 \
             ORDER BY start_time LIMIT 100",
        ))
        .await
        .expect("query");
    conn.close().await.expect("close");
    let tz = chrono_tz::Europe::Berlin;
    let mut tried = 0;
    let mut refused_for_overlap = false;
    for row in rows {
        use chrono::{Datelike, Timelike};
        let doctor: i64 = row.try_get("", "doctor_id").expect("doctor");
        let patient: i32 = row.try_get("", "patient_id").expect("patient");
        let start: chrono::DateTime<chrono::Utc> = row.try_get("", "start_time").expect("start");
        let end: chrono::DateTime<chrono::Utc> = row.try_get("", "end_time").expect("end");
        let (local_start, local_end) = (start.with_timezone(&tz), end.with_timezone(&tz));
        if local_start.weekday().number_from_monday() > 5
            || local_start.hour() < 9
            || local_end.hour() >= 16
        {
            continue;
        }
        tried += 1;
        let other_patient = if patient == 1 { 2 } else { 1 };
        let (status, refused) = served
            .post(
                &admin,
                "/api/appointments/",
                &json!({
                    "patient_id": other_patient,
                    "doctor": doctor,
                    "start_time": start.to_rfc3339(),
                    "end_time": end.to_rfc3339(),
                }),
            )
            .await;
        assert_eq!(status, 400, "overlap with a fixture appointment: {refused}");
        if refused["reason"] == "doctor_conflict" {
            refused_for_overlap = true;
            break;
        }
        assert!(
            tried < 20,
            "no candidate refused for the overlap: {refused}"
        );
    }
    assert!(refused_for_overlap, "no fixture appointment to overlap");
}

/// Users with roles Praxi does not know (nurse, reception, lab, management) can log in once an
/// admin gives them a password, but every API call is 403 until they get a role — never 500.
async fn unknown_roles_get_403(served: &Served) {
    let nurse = served
        .state
        .store
        .user_by_username("pflege1")
        .await
        .expect("query")
        .expect("pflege1 exists");
    assert_eq!(nurse.api_role(), None);
    let token =
        praxi_server::auth::access_token(&served.state, &nurse, served.state.now()).expect("token");
    for path in [
        "/api/appointments/",
        "/api/patients/",
        "/api/users/",
        "/api/appointments/suggest/?doctor_id=3&duration_minutes=30",
    ] {
        let (status, body) = served.get(&token, path).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
}

fn categories(findings: &Findings) -> BTreeMap<&'static str, usize> {
    findings.counts()
}

#[tokio::test]
async fn adopt_in_place_keeps_every_row_and_praxi_serves_it() {
    let Some(admin_url) = admin_url() else {
        return;
    };
    let db = PgDb::with_fixture(&admin_url, "adopt", "").await;
    let before = row_counts(&db.url).await;
    assert_eq!(before["appointments_appointment"], 300);
    assert_eq!(before["core_user"], 20);

    // A dry run changes nothing.
    let dry = praxiapp::adopt(&db.url, &AdoptOptions { dry_run: true })
        .await
        .expect("dry run");
    assert!(!dry.plan.is_empty());
    assert!(
        dry.plan
            .iter()
            .any(|step| step.contains("core_auditlog.username")),
        "{:?}",
        dry.plan
    );
    let conn = Database::connect(db.url.as_str()).await.expect("connect");
    let seaql = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT to_regclass('public.seaql_migrations') IS NULL AS absent, \
                    to_regclass('public.praxi_session') IS NULL AS no_sessions",
        ))
        .await
        .expect("query")
        .expect("row");
    assert!(seaql.try_get::<bool>("", "absent").expect("absent"));
    assert!(
        seaql
            .try_get::<bool>("", "no_sessions")
            .expect("no_sessions")
    );
    conn.close().await.expect("close");

    let outcome = praxiapp::adopt(&db.url, &AdoptOptions::default())
        .await
        .expect("adopt");
    assert_eq!(
        outcome.plan, dry.plan,
        "the dry run shows the plan that is applied"
    );
    assert!(!outcome.already_adopted);
    assert_eq!(row_counts(&db.url).await, before);
    // The fixture is clean except for the seven users with roles Praxi does not know.
    assert_eq!(
        categories(&outcome.findings),
        BTreeMap::from([("unknown_role", 7)])
    );

    // Twice is harmless.
    let again = praxiapp::adopt(&db.url, &AdoptOptions::default())
        .await
        .expect("adopt again");
    assert!(again.already_adopted, "second run plan: {:?}", again.plan);
    assert!(again.plan.is_empty());
    assert_eq!(row_counts(&db.url).await, before);

    // The original's own tables stay.
    let conn = Database::connect(db.url.as_str()).await.expect("connect");
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (SELECT count(*) FROM django_migrations) AS migrations, \
                    (SELECT count(*) FROM seaql_migrations) AS praxi_migrations, \
                    (SELECT count(*) FROM pg_namespace WHERE nspname = 'praxi_adopt_ref') AS scratch",
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.try_get::<i64>("", "migrations").expect("n"), 56);
    assert!(row.try_get::<i64>("", "praxi_migrations").expect("n") >= 8);
    assert_eq!(row.try_get::<i64>("", "scratch").expect("n"), 0);
    // The audit log is append-only now, and its old rows kept ids and timestamps.
    let refused = conn
        .execute_unprepared("UPDATE core_auditlog SET action = action WHERE id = 1")
        .await;
    assert!(refused.is_err(), "audit log must be append-only");
    conn.close().await.expect("close");

    let served = Served::start(&db.url).await;
    old_password_logs_in_and_is_rehashed(&served, &db.url).await;
    booking_paths_work(&served, &db.url).await;
    unknown_roles_get_403(&served).await;
    served.stop().await;
}

#[tokio::test]
async fn import_into_sqlite_copies_every_row_and_praxi_serves_it() {
    let Some(admin_url) = admin_url() else {
        return;
    };
    let source = PgDb::with_fixture(&admin_url, "src", "").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("praxi.sqlite3").display()
    );
    let mut updates = 0u64;
    let mut progress = |_: &str, _: u64, _: u64| updates += 1;
    let outcome = praxiapp::import(
        &ImportOptions {
            source_url: source.url.clone(),
            target_url: target.clone(),
            batch_rows: 64,
        },
        &mut progress,
    )
    .await
    .expect("import");
    assert!(
        updates > TABLES.len() as u64,
        "progress is reported per chunk"
    );
    let source_counts = row_counts(&source.url).await;
    assert_eq!(row_counts(&target).await, source_counts);
    for count in &outcome.counts {
        assert_eq!(count.source, count.copied, "{}", count.table);
    }
    assert_eq!(
        categories(&outcome.findings),
        BTreeMap::from([("unknown_role", 7)])
    );

    // A second import into the same database is refused; nothing changes.
    let mut quiet = |_: &str, _: u64, _: u64| {};
    let error = praxiapp::import(
        &ImportOptions {
            source_url: source.url.clone(),
            target_url: target.clone(),
            batch_rows: 0,
        },
        &mut quiet,
    )
    .await
    .expect_err("target not empty");
    assert!(error.to_string().contains("not empty"), "{error}");
    assert_eq!(row_counts(&target).await, source_counts);

    let served = Served::start(&target).await;
    old_password_logs_in_and_is_rehashed(&served, &target).await;
    booking_paths_work(&served, &target).await;
    unknown_roles_get_403(&served).await;
    served.stop().await;
}

#[tokio::test]
async fn import_into_postgres_copies_every_row_and_praxi_serves_it() {
    let Some(admin_url) = admin_url() else {
        return;
    };
    let source = PgDb::with_fixture(&admin_url, "src", "").await;
    let target = PgDb::create(&admin_url, "dst").await;
    let mut quiet = |_: &str, _: u64, _: u64| {};
    let outcome = praxiapp::import(
        &ImportOptions {
            source_url: source.url.clone(),
            target_url: target.url.clone(),
            batch_rows: 0,
        },
        &mut quiet,
    )
    .await
    .expect("import");
    assert_eq!(row_counts(&target.url).await, row_counts(&source.url).await);
    assert!(
        outcome
            .counts
            .iter()
            .all(|count| count.source == count.copied)
    );
    assert_eq!(
        categories(&outcome.findings),
        BTreeMap::from([("unknown_role", 7)])
    );
    // Audit rows keep their ids and timestamps.
    let audit = |url: String| async move {
        let conn = Database::connect(url.as_str()).await.expect("connect");
        let rows = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, \"timestamp\"::text AS at FROM core_auditlog ORDER BY id",
            ))
            .await
            .expect("audit");
        conn.close().await.expect("close");
        rows.iter()
            .map(|row| {
                (
                    row.try_get::<i64>("", "id").expect("id"),
                    row.try_get::<String>("", "at").expect("at"),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        audit(target.url.clone()).await,
        audit(source.url.clone()).await
    );

    let served = Served::start(&target.url).await;
    old_password_logs_in_and_is_rehashed(&served, &target.url).await;
    booking_paths_work(&served, &target.url).await;
    served.stop().await;
}

/// The fixture plus one overlap, one 30-hour booking, one orphan patient id and one duplicate
/// e-mail: exactly those four findings (plus the seven unknown-role users in their own
/// category), in adopt and import alike; the practice still starts and refuses new overlaps.
#[tokio::test]
async fn forbidden_rows_are_reported_by_id_and_the_practice_still_starts() {
    let Some(admin_url) = admin_url() else {
        return;
    };
    let db = PgDb::with_fixture(&admin_url, "broken", BROKEN_ROWS).await;
    let before = row_counts(&db.url).await;
    let outcome = praxiapp::adopt(&db.url, &AdoptOptions::default())
        .await
        .expect("adopt");
    let findings = &outcome.findings;
    let report = praxiapp::render_findings(findings);
    let lines: Vec<&str> = report
        .lines()
        .filter(|line| !line.starts_with("unknown_role "))
        .collect();
    assert_eq!(
        lines,
        [
            "overlap doctor=2 appointment#9001 appointment#9002",
            "too_long appointment#9003 minutes=1800",
            "orphan_patient appointment#9004 patient_id=999999",
            "duplicate_email user#2 user#13",
        ],
        "{report}"
    );
    let unknown: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("unknown_role "))
        .collect();
    assert_eq!(
        unknown,
        [
            "unknown_role user#7 role=nurse",
            "unknown_role user#8 role=nurse",
            "unknown_role user#9 role=nurse",
            "unknown_role user#10 role=reception",
            "unknown_role user#11 role=reception",
            "unknown_role user#12 role=lab",
            "unknown_role user#13 role=management",
        ]
    );
    assert!(!report.contains('@'), "no personal data in the report");
    assert_eq!(row_counts(&db.url).await, before, "nothing dropped");
    assert!(
        outcome
            .plan
            .iter()
            .any(|step| step.contains("appointments_no_doctor_overlap") && step.contains("except")),
        "{:?}",
        outcome.plan
    );
    assert!(
        outcome
            .plan
            .iter()
            .any(|step| step.contains("at_most_24h") && step.contains("NOT VALID")),
        "{:?}",
        outcome.plan
    );

    // The same findings when importing the same database into SQLite.
    let dir = tempfile::tempdir().expect("tempdir");
    let target = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("praxi.sqlite3").display()
    );
    let mut quiet = |_: &str, _: u64, _: u64| {};
    let imported = praxiapp::import(
        &ImportOptions {
            source_url: db.url.clone(),
            target_url: target.clone(),
            batch_rows: 0,
        },
        &mut quiet,
    )
    .await
    .expect("import");
    assert_eq!(&imported.findings, findings);
    assert_eq!(row_counts(&target).await, before);
    // Re-checking the SQLite copy finds the same rows.
    let recheck = praxiapp::recheck(&target).await.expect("recheck sqlite");
    assert_eq!(&recheck.findings, findings);

    // Adopted: serves, and refuses a new overlap; the database refuses it too.
    let served = Served::start(&db.url).await;
    booking_paths_work(&served, &db.url).await;
    served.stop().await;
    let conn = Database::connect(db.url.as_str()).await.expect("connect");
    let overlap = conn
        .execute_unprepared(
            "INSERT INTO appointments_appointment (patient_id, start_time, end_time, status, \
             created_at, updated_at, doctor_id, is_no_show) VALUES \
             (1, '2030-01-07 08:10+00', '2030-01-07 08:20+00', 'scheduled', now(), now(), 4, false), \
             (2, '2030-01-07 08:15+00', '2030-01-07 08:25+00', 'scheduled', now(), now(), 4, false)",
        )
        .await;
    assert!(overlap.is_err(), "new overlaps are refused by the database");
    let too_long = conn
        .execute_unprepared(
            "INSERT INTO appointments_appointment (patient_id, start_time, end_time, status, \
             created_at, updated_at, doctor_id, is_no_show) VALUES \
             (1, '2031-01-07 08:00+00', '2031-01-08 09:00+00', 'scheduled', now(), now(), 4, false)",
        )
        .await;
    assert!(too_long.is_err(), "new 25-hour bookings are refused");
    conn.close().await.expect("close");

    // Staff resolve the findings; recheck then makes every constraint hold for all rows.
    let conn = Database::connect(db.url.as_str()).await.expect("connect");
    conn.execute_unprepared(
        "UPDATE appointments_appointment SET status = 'cancelled' WHERE id IN (9002, 9004); \
         UPDATE appointments_appointment SET end_time = '2030-02-04 09:00+00' WHERE id = 9003; \
         DELETE FROM appointments_appointment WHERE id = 9004;",
    )
    .await
    .expect("resolve");
    conn.close().await.expect("close");
    let recheck = praxiapp::recheck(&db.url).await.expect("recheck");
    assert!(
        recheck.still_tolerant.is_empty(),
        "{:?}",
        recheck.still_tolerant
    );
    assert!(
        recheck
            .tightened
            .contains(&"appointments_no_doctor_overlap".to_owned()),
        "{:?}",
        recheck.tightened
    );
}
