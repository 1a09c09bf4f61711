//! `praxi adopt` end to end through the binary: dry run, report file, second run, then
//! `praxi migrate` on the adopted database. PostgreSQL only (PraxiApp runs on PostgreSQL):
//! skipped when `PRAXI_TEST_DATABASE_URL` is not set.

use std::process::Command;

use sea_orm::{ConnectionTrait, Database};

const BIN: &str = env!("CARGO_BIN_EXE_praxi");

/// One overlap, one 30-hour booking, one orphan patient id, one duplicate e-mail.
const BROKEN_ROWS: &str = "
INSERT INTO appointments_appointment (id, patient_id, start_time, end_time, status, notes, created_at, updated_at, doctor_id, type_id, is_no_show) VALUES
 (9001, 1, '2030-01-07 08:00+00', '2030-01-07 08:30+00', 'scheduled', NULL, now(), now(), 2, 1, false),
 (9002, 2, '2030-01-07 08:15+00', '2030-01-07 08:45+00', 'scheduled', NULL, now(), now(), 2, 1, false),
 (9003, 3, '2030-02-04 08:00+00', '2030-02-05 14:00+00', 'scheduled', NULL, now(), now(), 4, 1, false),
 (9004, 999999, '2030-03-04 09:00+00', '2030-03-04 09:30+00', 'scheduled', NULL, now(), now(), 5, 1, false);
UPDATE core_user SET email = 'DR.MUELLER@seed.local' WHERE id = 13;
";

fn fixture_sql(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/praxiapp")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn praxi(data_dir: &std::path::Path, url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env("PRAXI_DATA_DIR", data_dir)
        .env_remove("PRAXI_SECRET_KEY")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run praxi");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn adopt_writes_the_report_and_the_database_then_migrates() {
    let Ok(admin_url) = std::env::var("PRAXI_TEST_DATABASE_URL") else {
        eprintln!("skipped: PRAXI_TEST_DATABASE_URL is not set");
        return;
    };
    let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
    let name = format!("{run_db}_cli_adopt_{}", std::process::id());
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("path");
    let url = format!("{base}/{name}");
    let admin = Database::connect(admin_url.as_str()).await.expect("admin");
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create");
    for sql in [fixture_sql("schema.sql"), fixture_sql("data.sql")] {
        let conn = Database::connect(url.as_str()).await.expect("connect");
        conn.execute_unprepared(&sql).await.expect("load fixture");
        conn.close().await.expect("close");
    }
    let conn = Database::connect(url.as_str()).await.expect("connect");
    conn.execute_unprepared(BROKEN_ROWS)
        .await
        .expect("broken rows");
    conn.close().await.expect("close");

    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.txt");
    let report_arg = report.display().to_string();

    let (ok, out) = praxi(dir.path(), &url, &["adopt", "--dry-run"]);
    assert!(ok, "{out}");
    assert!(out.contains("Plan (dry run, nothing changed)"), "{out}");
    let (ok, out) = praxi(dir.path(), &url, &["migrate"]);
    assert!(
        !ok,
        "a PraxiApp database cannot be migrated before adoption: {out}"
    );

    let (ok, out) = praxi(dir.path(), &url, &["adopt", "--report", &report_arg]);
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(&report).expect("report file");
    let findings: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("unknown_role "))
        .collect();
    assert_eq!(
        findings,
        [
            "overlap doctor=2 appointment#9001 appointment#9002",
            "too_long appointment#9003 minutes=1800",
            "orphan_patient appointment#9004 patient_id=999999",
            "duplicate_email user#2 user#13",
        ],
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|line| line.starts_with("unknown_role "))
            .count(),
        7,
        "{text}"
    );
    assert!(out.contains("overlap doctor=2 appointment#9001 appointment#9002"));

    let (ok, out) = praxi(dir.path(), &url, &["adopt"]);
    assert!(ok, "{out}");
    assert!(out.contains("Already adopted: nothing to do."), "{out}");
    let (ok, out) = praxi(dir.path(), &url, &["migrate"]);
    assert!(ok, "praxi migrate after adopt: {out}");
    let (ok, out) = praxi(dir.path(), &url, &["recheck", "--report", &report_arg]);
    assert!(ok, "{out}");
    assert!(
        out.contains("constraint appointments_no_doctor_overlap still tolerates old rows"),
        "{out}"
    );

    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop");
    admin.close().await.expect("close");
}
