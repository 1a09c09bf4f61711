//! `praxi-bench` end to end with tiny sizes, so CI exercises the whole code path: bulk seeding,
//! the in-process server, every measured case and the statement counter. On SQLite always; on
//! PostgreSQL too when `PRAXI_TEST_DATABASE_URL` is set (the bench then creates and drops its
//! own database next to it). Numbers are printed, never asserted.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_praxi-bench");

fn bench(extra: &[&str]) -> String {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .env_remove("PRAXI_SECRET_KEY")
        .env("PRAXI_DATA_DIR", data_dir.path())
        .env("RUST_LOG", "warn")
        .args([
            "--appointments",
            "200",
            "--operations",
            "100",
            "--patients",
            "500",
            "--requests",
            "5",
            "--warmup",
            "1",
            "--count-requests",
            "2",
            "--engine-iterations",
            "50",
            "--concurrency",
            "1,4",
            "--time-cap-secs",
            "60",
        ])
        .args(extra)
        .output()
        .expect("run praxi-bench");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "praxi-bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    println!("{stdout}");
    stdout
}

/// The table row of `case` at `concurrency`, split into cells.
fn row<'a>(report: &'a str, case: &str, concurrency: usize) -> Vec<&'a str> {
    report
        .lines()
        .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
        .find(|cells| cells.len() > 3 && cells[1] == case && cells[2] == concurrency.to_string())
        .unwrap_or_else(|| panic!("no row for {case} at concurrency {concurrency} in\n{report}"))
}

fn assert_complete(report: &str) {
    for (case, levels) in [
        ("schedule load", &[1][..]),
        ("engine suggest", &[1][..]),
        ("suggest", &[1, 4][..]),
        ("create", &[1, 4][..]),
        ("list day", &[1, 4][..]),
    ] {
        for &concurrency in levels {
            let cells = row(report, case, concurrency);
            // | case | conc. | requests | errors | p50 | p99 | req/s | SQL/req | tx/req |
            assert_ne!(cells[3], "0", "{case}: no request completed");
            assert_eq!(cells[4], "0", "{case}: requests failed");
            if case != "engine suggest" {
                let statements: f64 = cells[8].parse().expect("a statement count");
                assert!(statements >= 1.0, "{case}: statements were not counted");
            }
        }
    }
    assert!(report.contains("### Targets"), "{report}");
}

#[test]
fn bench_runs_every_case_on_sqlite() {
    let report = bench(&[]);
    assert!(report.contains("### sqlite — 200 appointments"), "{report}");
    assert_complete(&report);
}

#[test]
fn bench_runs_every_case_on_postgres_when_configured() {
    let Ok(admin_url) = std::env::var("PRAXI_TEST_DATABASE_URL") else {
        return;
    };
    let report = bench(&["--postgres-admin-url", &admin_url]);
    assert!(
        report.contains("### postgres — 200 appointments"),
        "{report}"
    );
    assert_complete(&report);
}
