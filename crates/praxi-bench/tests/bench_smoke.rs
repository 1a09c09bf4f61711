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
    let http = [
        "health",
        "week list",
        "appointment suggest",
        "operation suggest",
        "create",
        "conflicting create",
        "OP statistics month",
        "OP timeline day",
        "patient search",
        "dashboard HTML",
        "appointment types",
        "operation types",
        "resources",
        "doctors",
        "list day",
    ];
    let floors = [
        "floor: health",
        "floor: week list",
        "floor: doctor's horizon",
        "floor: OP horizon",
        "floor: OP month",
        "floor: OP day",
        "floor: patient search",
        "floor: appointment types",
        "floor: operation types",
        "floor: resources",
        "floor: doctors",
        "floor: day list",
    ];
    let mut cases: Vec<(&str, &[usize])> = vec![("schedule load", &[1]), ("engine suggest", &[1])];
    cases.extend(http.iter().chain(&floors).map(|name| (*name, &[1, 4][..])));
    for (case, levels) in cases {
        for &concurrency in levels {
            let cells = row(report, case, concurrency);
            // | case | conc. | requests | errors | p50 | p95 | p99 | req/s | SQL/req | tx/req |
            // floor | p50 ÷ floor | req/s ÷ floor |
            assert_ne!(cells[3], "0", "{case}: no request completed");
            assert_eq!(cells[4], "0", "{case}: requests failed");
            if !["engine suggest", "health", "floor: health"].contains(&case) {
                let statements: f64 = cells[9].parse().expect("a statement count");
                assert!(statements >= 1.0, "{case}: statements were not counted");
            }
            if case == "floor: health" {
                assert_eq!(cells[9], "0", "{case}: the health floor reads nothing");
            } else if case.starts_with("floor:") {
                assert_eq!(cells[9], "1", "{case}: a floor runs one statement");
            } else if http.contains(&case)
                && case != "create"
                && case != "conflicting create"
                && case != "dashboard HTML"
            {
                let ratio: f64 = cells[12].parse().expect("a ratio to the floor");
                assert!(ratio > 0.0, "{case}: {ratio}");
            }
        }
    }
    assert!(report.contains("### Targets (issue #12)"), "{report}");
    assert!(report.contains("### Matrix"), "{report}");
    // The real binary: start time and memory, when `praxi` was built next to praxi-bench
    // (`cargo build -p praxi`; `cargo test -p praxi-bench` alone does not build it).
    if report.contains("not measured (no binary)") {
        eprintln!("no praxi binary next to praxi-bench: the start and RSS rows were skipped");
        return;
    }
    for case in [
        "week list (praxi serve)",
        "appointment suggest (praxi serve)",
        "patient search (praxi serve)",
        "dashboard HTML (praxi serve)",
    ] {
        let cells = row(report, case, 16);
        assert_ne!(cells[3], "0", "{case}: no request completed");
        assert_eq!(cells[4], "0", "{case}: requests failed");
    }
    assert!(report.contains("`praxi serve` child process"), "{report}");
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
