//! `praxi-bench`: seeds a realistic practice into a fresh database, starts the real router
//! in-process on `127.0.0.1:0` and measures the booking paths over HTTP (suggest, create, list
//! of a day) at fixed concurrency levels, plus the pure engine on a schedule loaded through the
//! store. Reports p50/p99 latency, throughput and the SQL statements each request runs.
//!
//! Every loop is bounded twice: a fixed number of requests and a time cap per case. Traffic goes
//! only to the in-process server on 127.0.0.1 (and to the database the command was given).
//!
//! # The practice
//!
//! 10 doctors, 20 resources (2 OP rooms, 10 treatment rooms, 8 devices), `--patients`
//! patients, `--operations` operations and N appointments over 52 weeks (46 of them history,
//! as in a practice that has been running for a while): Mon–Fri
//! 08:00–18:00 practice and doctor hours, a practice-wide lunch break 12:30–13:00 on every
//! weekday. Operations run in sessions (OP room × half day) with a surgeon, an assistant and
//! sometimes an anaesthetist, who see no patients in that half day; the appointments are spread
//! evenly over the remaining doctor half-days. No doctor, patient, room or device is ever
//! double-booked (on PostgreSQL the exclusion constraints check the seed).
//!
//! Fixed dates relative to the current week `W`: the suggestion horizon is the 14 days from the
//! Monday of `W+1`, the listed day is the Tuesday of `W+1`, and the week `W+3` is left empty so
//! creates always find free slots (15-minute appointments, one patient each).
//!
//! # Counting statements
//!
//! SeaORM instruments every statement with a `trace` span (`execute_raw`, `query_one_raw`,
//! `query_all_raw`, … on the connection and on transactions). The benchmark runs on its own
//! runtime whose threads use a subscriber that counts those spans while a counting pass is on
//! (and forwards log events to the normal logger). The metric callback of SeaORM would need a
//! hook in `Store::connect`; the spans give the same count without one.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::seed::{
    SeedAppointment, SeedAppointmentType, SeedBreak, SeedData, SeedOperation, SeedOperationType,
    SeedPatient, SeedResource, SeedWindow,
};
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::Role;
use praxi_domain::appointment::AppointmentStatus;
use praxi_domain::operation::OperationStatus;
use praxi_domain::scheduling::{
    Interval, SlotDuration, SlotQuery, SlotSpacing, UserId, local_day, local_to_utc,
};
use praxi_server::{AppState, ServerConfig};
use praxi_store::Store;
use praxi_store::schedule::ScheduleScope;
use praxi_store::users::{NewUser, UserRecord};
use serde_json::json;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

/// Flags of `praxi-bench`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchArgs {
    /// Appointments to seed (one size; default 50000).
    #[arg(long, conflicts_with = "sizes")]
    appointments: Option<usize>,
    /// A sweep of sizes (appointments), e.g. `1000,10000,50000`; a fresh database each.
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Patients to seed.
    #[arg(long, default_value_t = 5_000)]
    patients: usize,
    /// Operations to seed.
    #[arg(long, default_value_t = 2_000)]
    operations: usize,
    /// Measured requests per case and concurrency level.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Untimed requests before each measured run.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Sequential requests per case in the statement-counting pass.
    #[arg(long, default_value_t = 5)]
    count_requests: usize,
    /// Calls of `Schedule::suggest` in the engine case.
    #[arg(long, default_value_t = 2_000)]
    engine_iterations: usize,
    /// Concurrency levels of the HTTP cases.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    concurrency: Vec<usize>,
    /// Time cap per measured run, in seconds.
    #[arg(long, default_value_t = 30)]
    time_cap_secs: u64,
    /// PostgreSQL admin URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): every size
    /// runs on a fresh database created there and dropped afterwards.
    #[arg(long)]
    postgres_admin_url: Option<String>,
    /// Backends to run, e.g. `sqlite,postgres` (PostgreSQL needs `--postgres-admin-url`).
    /// Default: PostgreSQL when an admin URL is given, else SQLite.
    #[arg(long, value_delimiter = ',')]
    db: Vec<String>,
    /// The `praxi` binary for the start-time and memory rows (default: next to
    /// `praxi-bench`; the rows are skipped when there is none).
    #[arg(long)]
    praxi_bin: Option<std::path::PathBuf>,
    /// Skip the floor server (minimal axum handlers, one statement each).
    #[arg(long)]
    no_floor: bool,
}

const DOCTORS: usize = 10;
const OP_ROOMS: [i64; 2] = [1, 2];
const TREATMENT_ROOMS: std::ops::RangeInclusive<i64> = 3..=12;
const DEVICES: std::ops::RangeInclusive<i64> = 13..=20;
/// Half days: (start minute, end minute) of the local day, around the lunch break.
const HALVES: [(u32, u32); 2] = [(8 * 60, 12 * 60 + 30), (13 * 60, 18 * 60)];
const CREATE_MINUTES: u32 = 15;
/// Minutes left free at the end of every half day.
const FREE_TAIL_MINUTES: u32 = 30;
pub(crate) const HORIZON_DAYS: u32 = 14;
/// Weeks of bookings before the current week (of 52 in all).
const HISTORY_WEEKS: i64 = 46;

// ----------------------------------------------------------------------------------------------
// Statement counting

/// Counts SeaORM statement spans while switched on; forwards log events to the normal logger.
struct SqlCounter {
    counting: AtomicBool,
    statements: AtomicU64,
    transactions: AtomicU64,
    fallback: Dispatch,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SpanKind {
    Statement,
    Transaction,
}

fn span_kind(meta: &Metadata<'_>) -> Option<SpanKind> {
    if !meta.is_span() {
        return None;
    }
    match (meta.target(), meta.name()) {
        (
            "sea_orm::database::db_connection" | "sea_orm::database::transaction",
            "execute_raw" | "execute_unprepared" | "query_one_raw" | "query_all_raw" | "stream_raw",
        ) => Some(SpanKind::Statement),
        ("sea_orm::database::transaction", "begin") => Some(SpanKind::Transaction),
        _ => None,
    }
}

impl SqlCounter {
    fn start(&self) {
        self.statements.store(0, Ordering::SeqCst);
        self.transactions.store(0, Ordering::SeqCst);
        self.counting.store(true, Ordering::SeqCst);
    }

    /// Stops counting; returns (statements, transactions) since `start`.
    fn stop(&self) -> (u64, u64) {
        self.counting.store(false, Ordering::SeqCst);
        (
            self.statements.load(Ordering::SeqCst),
            self.transactions.load(Ordering::SeqCst),
        )
    }
}

#[derive(Clone)]
struct CountingSubscriber(Arc<SqlCounter>);

impl Subscriber for CountingSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if span_kind(meta).is_some() || meta.is_event() {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        if meta.is_event() {
            return self.0.fallback.enabled(meta);
        }
        span_kind(meta).is_some() && self.0.counting.load(Ordering::Relaxed)
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        match span_kind(attrs.metadata()) {
            Some(SpanKind::Statement) => {
                self.0.statements.fetch_add(1, Ordering::Relaxed);
            }
            Some(SpanKind::Transaction) => {
                self.0.transactions.fetch_add(1, Ordering::Relaxed);
            }
            None => {}
        }
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.0.fallback.event(event);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

thread_local! {
    static COUNTING_GUARD: RefCell<Option<tracing::dispatcher::DefaultGuard>> =
        const { RefCell::new(None) };
}

fn install(dispatch: &Dispatch) {
    COUNTING_GUARD.with(|guard| {
        *guard.borrow_mut() = Some(tracing::dispatcher::set_default(dispatch));
    });
}

fn uninstall() {
    COUNTING_GUARD.with(|guard| guard.borrow_mut().take());
}

// ----------------------------------------------------------------------------------------------
// Entry point

/// Runs the benchmark and prints the report.
pub(crate) async fn run(
    tz: chrono_tz::Tz,
    database_url: Option<String>,
    args: BenchArgs,
) -> anyhow::Result<()> {
    let sizes = if args.sizes.is_empty() {
        vec![args.appointments.unwrap_or(50_000)]
    } else {
        args.sizes.clone()
    };
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        bail!("--concurrency needs levels of at least 1");
    }
    if args.requests == 0 || args.count_requests == 0 {
        bail!("--requests and --count-requests must be at least 1");
    }
    if args.patients == 0 {
        bail!("--patients must be at least 1");
    }
    let mut targets = Vec::new();
    match (&database_url, &args.postgres_admin_url) {
        (Some(_), Some(_)) => bail!("give either --database-url or --postgres-admin-url"),
        (Some(url), None) => {
            if sizes.len() > 1 {
                bail!("a size sweep needs fresh databases: use --postgres-admin-url or neither");
            }
            if !args.db.is_empty() {
                bail!("--db chooses fresh databases; it does not combine with --database-url");
            }
            targets.push(Target::Given(url.clone()));
        }
        (None, admin) => {
            let wanted = if args.db.is_empty() {
                vec![
                    if admin.is_some() {
                        "postgres"
                    } else {
                        "sqlite"
                    }
                    .to_owned(),
                ]
            } else {
                args.db.clone()
            };
            for db in wanted {
                match (db.as_str(), admin) {
                    ("sqlite", _) => targets.push(Target::SqliteTemp),
                    ("postgres", Some(admin)) => targets.push(Target::Postgres(admin.clone())),
                    ("postgres", None) => bail!("--db postgres needs --postgres-admin-url"),
                    (other, _) => bail!("--db: unknown backend {other:?} (sqlite, postgres)"),
                }
            }
        }
    }

    let counter = Arc::new(SqlCounter {
        counting: AtomicBool::new(false),
        statements: AtomicU64::new(0),
        transactions: AtomicU64::new(0),
        fallback: tracing::dispatcher::get_default(Dispatch::clone),
    });
    let dispatch = Dispatch::new(CountingSubscriber(counter.clone()));
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("praxi-bench".to_owned())
        .spawn(move || {
            let for_workers = dispatch.clone();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .on_thread_start(move || install(&for_workers))
                .on_thread_stop(uninstall)
                .build();
            let outcome = match runtime {
                Ok(runtime) => {
                    install(&dispatch);
                    let outcome = runtime.block_on(async {
                        let mut reports = Vec::new();
                        for target in &targets {
                            reports.extend(run_sizes(tz, &args, &sizes, target, &counter).await?);
                        }
                        Ok::<_, anyhow::Error>(reports)
                    });
                    uninstall();
                    outcome
                }
                Err(error) => Err(error.into()),
            };
            let _ = done.send(outcome);
        })
        .context("starting the benchmark thread")?;
    let reports = result.await.context("the benchmark thread stopped")??;
    print!("{}", summary(&reports));
    Ok(())
}

enum Target {
    SqliteTemp,
    Given(String),
    Postgres(String),
}

/// A database for one size, removed on `cleanup`.
struct BenchDb {
    url: String,
    backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl BenchDb {
    async fn open(target: &Target, size: usize) -> anyhow::Result<BenchDb> {
        Ok(match target {
            Target::SqliteTemp => {
                let dir = tempfile::tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.sqlite3").display()
                );
                BenchDb {
                    url,
                    backend: "sqlite",
                    _dir: Some(dir),
                    drop_pg: None,
                }
            }
            Target::Given(url) => BenchDb {
                url: url.clone(),
                backend: if url.starts_with("sqlite:") {
                    "sqlite"
                } else {
                    "postgres"
                },
                _dir: None,
                drop_pg: None,
            },
            Target::Postgres(admin) => {
                let prefix = crate::seed::database_name(admin);
                let name = format!("{prefix}_bench_{}_{size}", std::process::id());
                let url = crate::seed::create_database(admin, &name)
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                BenchDb {
                    url,
                    backend: "postgres",
                    _dir: None,
                    drop_pg: Some((admin.clone(), name)),
                }
            }
        })
    }

    async fn cleanup(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = &self.drop_pg {
            crate::seed::drop_database(admin, name)
                .await
                .with_context(|| format!("dropping database {name}"))?;
        }
        Ok(())
    }
}

async fn run_sizes(
    tz: Tz,
    args: &BenchArgs,
    sizes: &[usize],
    target: &Target,
    counter: &SqlCounter,
) -> anyhow::Result<Vec<SizeReport>> {
    let mut reports = Vec::new();
    for &size in sizes {
        let db = BenchDb::open(target, size).await?;
        let outcome = run_size(tz, args, size, &db, counter).await;
        let cleaned = db.cleanup().await;
        let report = outcome?;
        cleaned?;
        print!("{}", report.render());
        reports.push(report);
    }
    Ok(reports)
}

// ----------------------------------------------------------------------------------------------
// One size

/// Results of one size on one backend.
struct SizeReport {
    backend: &'static str,
    appointments: usize,
    seed_rows: u64,
    seed_statements: u64,
    seed_time: Duration,
    horizon_doctor_bookings: usize,
    horizon_all_bookings: usize,
    list_day_appointments: usize,
    week_list_appointments: usize,
    /// In-process: `AppState::new`, bind, serve, up to the first 200 of the health check.
    inprocess_start: Duration,
    process: Option<ProcessReport>,
    cases: Vec<CaseResult>,
}

/// One measured case at one concurrency.
#[derive(Debug, Clone)]
struct CaseResult {
    name: &'static str,
    concurrency: usize,
    completed: usize,
    errors: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    throughput: f64,
    statements: Option<f64>,
    transactions: Option<f64>,
    /// The floor case this one is compared with.
    floor: Option<&'static str>,
}

impl CaseResult {
    /// From sorted latencies of one run.
    fn from_run(
        name: &'static str,
        concurrency: usize,
        latencies: &[Duration],
        errors: usize,
        wall: Duration,
        floor: Option<&'static str>,
    ) -> CaseResult {
        CaseResult {
            name,
            concurrency,
            completed: latencies.len(),
            errors,
            p50: percentile(latencies, 0.50),
            p95: percentile(latencies, 0.95),
            p99: percentile(latencies, 0.99),
            throughput: latencies.len() as f64 / wall.as_secs_f64().max(1e-9),
            statements: None,
            transactions: None,
            floor,
        }
    }
}

/// Start and memory of the real `praxi serve` process on the seeded database.
struct ProcessReport {
    start_to_first_200: Duration,
    rss_idle_kib: Option<u64>,
    rss_peak_kib: u64,
}

async fn run_size(
    tz: Tz,
    args: &BenchArgs,
    size: usize,
    db: &BenchDb,
    counter: &SqlCounter,
) -> anyhow::Result<SizeReport> {
    eprintln!("== {} with {size} appointments: seeding", db.backend);
    let store = Store::connect(&db.url)
        .await
        .context("connecting to the benchmark database")?;
    store.migrate().await.context("migrating")?;
    if !crate::seed::is_empty(&store).await? {
        bail!("the benchmark only seeds an empty database (no users, no patients)");
    }
    store.ensure_roles().await?;
    let now = Utc::now();
    let admin = create_user(&store, "bench_admin", Role::Admin, 0, now).await?;
    let mut doctors = Vec::new();
    for index in 0..DOCTORS {
        let user = create_user(
            &store,
            &format!("bench_dr{index:02}"),
            Role::Doctor,
            index,
            now,
        )
        .await?;
        doctors.push(user.id);
    }
    let today = now.with_timezone(&tz).date_naive();
    let plan = Plan {
        tz,
        today,
        now,
        doctors: doctors.clone(),
        patients: args.patients,
        operations: args.operations,
        appointments: size,
    };
    let started = Instant::now();
    let generated = generate(&plan)?;
    let seed = crate::seed::bulk_seed(&store, &generated.data, now)
        .await
        .context("seeding")?;
    let seed_time = started.elapsed();
    eprintln!(
        "   {} rows in {} statements, {:.2} s",
        seed.rows,
        seed.statements,
        seed_time.as_secs_f64()
    );

    let secret = crate::random_token(64);
    let mut server_config = ServerConfig::new(secret.clone().into_bytes());
    server_config.timezone = tz;
    server_config.access_token_ttl = chrono::Duration::days(1);
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    // In-process start: state, listener and router up to the first 200 of the health check.
    let started = Instant::now();
    let state = AppState::new(store.clone(), server_config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        praxi_server::serve(listener, server_state, async {
            let _ = stopped.await;
        })
        .await
    });
    let base = format!("http://{addr}");
    loop {
        let health = client.get(format!("{base}/api/health/")).send().await;
        if health.is_ok_and(|res| res.status() == 200) {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the in-process server did not answer");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let inprocess_start = started.elapsed();

    let token = praxi_server::auth::access_token(&state, &admin, state.now())
        .map_err(|error| anyhow::anyhow!("minting a token: {error:?}"))?;
    // A staff session for the dashboard (admin users are staff).
    let session_key = crate::random_token(40);
    let now = state.now();
    store
        .create_session(
            &session_key,
            admin.id,
            &crate::random_token(32),
            now,
            now + TimeDelta::days(1),
        )
        .await
        .context("creating the staff session")?;
    let floor = if args.no_floor {
        None
    } else {
        let queries = crate::matrix::floor_queries(&store, tz, &generated, doctors[0])?;
        Some(crate::floor::start(store.conn().clone(), store.backend(), queries).await?)
    };
    let matrix = crate::matrix::Matrix::new(tz, &generated, doctors[0])?;
    let ctx = Arc::new(HttpContext {
        client,
        base,
        floor_base: floor.as_ref().map(|floor| floor.base.clone()),
        token,
        cookie: format!(
            "{}={session_key}",
            praxi_server::web::session::SESSION_COOKIE
        ),
        doctor: doctors[0],
        horizon_start: generated.horizon_start,
        list_day: generated.list_day,
        creates: generated.creates.clone(),
        next_create: AtomicUsize::new(0),
    });

    let mut cases = Vec::new();
    let mut result = measure_all(&state, &ctx, &matrix, args, counter, &mut cases).await;
    let mut process = None;
    if result.is_ok() {
        match crate::process::find_binary(args.praxi_bin.as_deref()) {
            Some(binary) => {
                match measure_process(&binary, db, &secret, tz, &ctx, &matrix, args).await {
                    Ok((report, process_cases)) => {
                        process = Some(report);
                        cases.extend(process_cases);
                    }
                    Err(error) => result = Err(error),
                }
            }
            None => eprintln!("   no praxi binary next to praxi-bench: start and RSS skipped"),
        }
    }
    if let Some(floor) = floor {
        floor.stop().await;
    }
    let _ = stop.send(());
    let _ = server.await;
    store.close().await?;
    result?;

    Ok(SizeReport {
        backend: db.backend,
        appointments: size,
        seed_rows: seed.rows,
        seed_statements: seed.statements,
        seed_time,
        horizon_doctor_bookings: generated.horizon_doctor_bookings,
        horizon_all_bookings: generated.horizon_all_bookings,
        list_day_appointments: generated.list_day_appointments,
        week_list_appointments: matrix.week_list_appointments,
        inprocess_start,
        process,
        cases,
    })
}

/// Start and memory of the real binary, plus the concurrency-16 reads against it.
async fn measure_process(
    binary: &std::path::Path,
    db: &BenchDb,
    secret: &str,
    tz: Tz,
    ctx: &Arc<HttpContext>,
    matrix: &crate::matrix::Matrix,
    args: &BenchArgs,
) -> anyhow::Result<(ProcessReport, Vec<CaseResult>)> {
    eprintln!("   praxi serve ({})", binary.display());
    let served = crate::process::spawn(binary, &db.url, secret, tz.name()).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = served.pid();
    let rss_idle_kib = crate::process::rss_kib(pid);
    let child_ctx = Arc::new(HttpContext {
        client: ctx.client.clone(),
        base: served.base.clone(),
        floor_base: None,
        token: ctx.token.clone(),
        cookie: ctx.cookie.clone(),
        doctor: ctx.doctor,
        horizon_start: ctx.horizon_start,
        list_day: ctx.list_day,
        creates: Vec::new(),
        next_create: AtomicUsize::new(0),
    });
    let sampler = crate::process::RssSampler::start(pid);
    let cap = Duration::from_secs(args.time_cap_secs.max(1));
    let mut cases = Vec::new();
    for case in matrix.process_cases() {
        let (_, _, _, warm_error) = drive(&child_ctx, &case.request, 16, args.warmup, cap).await;
        if let Some(error) = warm_error {
            bail!("{} (praxi serve): warm-up failed: {error}", case.name);
        }
        let (latencies, errors, wall, first_error) =
            drive(&child_ctx, &case.request, 16, args.requests, cap).await;
        if let Some(error) = &first_error {
            eprintln!(
                "   {} (praxi serve): {errors} error(s), first: {error}",
                case.name
            );
        }
        cases.push(CaseResult::from_run(
            case.name, 16, &latencies, errors, wall, None,
        ));
    }
    let rss_peak_kib = sampler.finish().await;
    let report = ProcessReport {
        start_to_first_200: served.start_to_first_200,
        rss_idle_kib,
        rss_peak_kib,
    };
    drop(served);
    Ok((report, cases))
}

async fn create_user(
    store: &Store,
    username: &str,
    role: Role,
    index: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<UserRecord> {
    const FIRST: [&str; 10] = [
        "Anna", "Thomas", "Julia", "David", "Sarah", "Lukas", "Mia", "Jonas", "Lea", "Paul",
    ];
    const LAST: [&str; 10] = [
        "Müller", "Schmidt", "Meier", "Lehmann", "Klein", "Wolf", "Neumann", "Braun", "Krause",
        "Hahn",
    ];
    Ok(store
        .create_user(
            NewUser {
                username: username.to_owned(),
                // Nobody logs in: tokens are minted directly. "!" is an unusable hash.
                password_hash: "!".to_owned(),
                role: Some(role),
                first_name: FIRST[index % FIRST.len()].to_owned(),
                last_name: LAST[index % LAST.len()].to_owned(),
                email: None,
                calendar_color: Some(format!("#{:02X}80{:02X}", 20 * index, 255 - 20 * index)),
                is_staff: true,
                is_superuser: false,
            },
            now,
        )
        .await?)
}

// ----------------------------------------------------------------------------------------------
// Measuring

pub(crate) struct HttpContext {
    client: reqwest::Client,
    base: String,
    /// The floor server (`floor.rs`), when running.
    floor_base: Option<String>,
    token: String,
    /// `Cookie` header value of a staff session (the dashboard).
    cookie: String,
    doctor: i64,
    horizon_start: NaiveDate,
    list_day: NaiveDate,
    creates: Vec<CreateSlot>,
    next_create: AtomicUsize,
}

type RequestFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub(crate) type RequestFn = Arc<dyn Fn(Arc<HttpContext>) -> RequestFuture + Send + Sync>;

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// `Authorization: Bearer` with the admin's access token.
    Bearer,
    /// The staff UI's session cookie.
    Session,
    None,
}

fn authenticate(
    request: reqwest::RequestBuilder,
    ctx: &HttpContext,
    auth: Auth,
) -> reqwest::RequestBuilder {
    match auth {
        Auth::Bearer => request.bearer_auth(&ctx.token),
        Auth::Session => request.header(reqwest::header::COOKIE, &ctx.cookie),
        Auth::None => request,
    }
}

/// `GET path` on the server (or on the floor server) expecting `status`.
pub(crate) fn get_request(path: String, auth: Auth, floor: bool, status: u16) -> RequestFn {
    let path: Arc<str> = path.into();
    Arc::new(move |ctx: Arc<HttpContext>| {
        let path = path.clone();
        Box::pin(async move {
            let base = if floor {
                ctx.floor_base.clone().ok_or("no floor server")?
            } else {
                ctx.base.clone()
            };
            let request = authenticate(ctx.client.get(format!("{base}{path}")), &ctx, auth);
            expect_status(request, status).await
        })
    })
}

/// `POST path` with a JSON body (bearer token) expecting `status`.
pub(crate) fn post_request(path: String, body: serde_json::Value, status: u16) -> RequestFn {
    let path: Arc<str> = path.into();
    let body = Arc::new(body);
    Arc::new(move |ctx: Arc<HttpContext>| {
        let (path, body) = (path.clone(), body.clone());
        Box::pin(async move {
            let request = ctx
                .client
                .post(format!("{}{path}", ctx.base))
                .bearer_auth(&ctx.token)
                .json(&*body);
            expect_status(request, status).await
        })
    })
}

async fn expect_status(request: reqwest::RequestBuilder, status: u16) -> Result<(), String> {
    let response = request.send().await.map_err(|error| error.to_string())?;
    let got = response.status().as_u16();
    let body = response.bytes().await.map_err(|error| error.to_string())?;
    if got == status {
        Ok(())
    } else {
        Err(format!(
            "status {got}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        ))
    }
}

pub(crate) fn create_request() -> RequestFn {
    Arc::new(|ctx: Arc<HttpContext>| {
        Box::pin(async move {
            let index = ctx.next_create.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = ctx.creates.get(index) else {
                return Err("no free create slot left (raise the reserved week's capacity)".into());
            };
            let body = json!({
                "patient_id": slot.patient,
                "doctor": slot.doctor,
                "start_time": slot.start.to_rfc3339(),
                "end_time": (slot.start + TimeDelta::minutes(i64::from(CREATE_MINUTES))).to_rfc3339(),
                "status": "scheduled",
            });
            let url = format!("{}/api/appointments/", ctx.base);
            expect_status(
                ctx.client.post(url).bearer_auth(&ctx.token).json(&body),
                201,
            )
            .await
        })
    })
}

/// Sorted-sample percentile (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `count` requests (fewer when `cap` runs out) by `concurrency` workers; latencies and wall
/// time of the run.
async fn drive(
    ctx: &Arc<HttpContext>,
    request: &RequestFn,
    concurrency: usize,
    count: usize,
    cap: Duration,
) -> (Vec<Duration>, usize, Duration, Option<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + cap;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (ctx, request, next) = (ctx.clone(), request.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            while next.fetch_add(1, Ordering::Relaxed) < count && Instant::now() < deadline {
                let sent = Instant::now();
                match request(ctx.clone()).await {
                    Ok(()) => latencies.push(sent.elapsed()),
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert(error);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        match worker.await {
            Ok((worker_latencies, worker_errors, worker_error)) => {
                latencies.extend(worker_latencies);
                errors += worker_errors;
                if first_error.is_none() {
                    first_error = worker_error;
                }
            }
            Err(error) => {
                errors += 1;
                first_error.get_or_insert(error.to_string());
            }
        }
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    (latencies, errors, wall, first_error)
}

async fn measure_http(
    case: &crate::matrix::Case,
    ctx: &Arc<HttpContext>,
    args: &BenchArgs,
    counter: &SqlCounter,
) -> anyhow::Result<Vec<CaseResult>> {
    let name = case.name;
    let cap = Duration::from_secs(args.time_cap_secs.max(1));
    let mut results = Vec::new();
    for &concurrency in &args.concurrency {
        let (_, warm_errors, _, warm_error) =
            drive(ctx, &case.request, concurrency, args.warmup, cap).await;
        if let Some(error) = warm_error {
            bail!("{name}: {warm_errors} warm-up request(s) failed, first: {error}");
        }
        let (latencies, errors, wall, first_error) =
            drive(ctx, &case.request, concurrency, args.requests, cap).await;
        if let Some(error) = &first_error {
            eprintln!("   {name} c={concurrency}: {errors} error(s), first: {error}");
        }
        results.push(CaseResult::from_run(
            name,
            concurrency,
            &latencies,
            errors,
            wall,
            case.floor,
        ));
    }
    // Statements per request: sequential requests, nothing else running.
    counter.start();
    let (_, errors, _, error) = drive(ctx, &case.request, 1, args.count_requests, cap).await;
    let (statements, transactions) = counter.stop();
    if let Some(error) = error {
        bail!("{name}: {errors} counted request(s) failed, first: {error}");
    }
    let per = |n: u64| n as f64 / args.count_requests as f64;
    for result in &mut results {
        result.statements = Some(per(statements));
        result.transactions = Some(per(transactions));
    }
    Ok(results)
}

async fn measure_all(
    state: &AppState,
    ctx: &Arc<HttpContext>,
    matrix: &crate::matrix::Matrix,
    args: &BenchArgs,
    counter: &SqlCounter,
    cases: &mut Vec<CaseResult>,
) -> anyhow::Result<()> {
    eprintln!("   engine");
    cases.extend(measure_engine(state, ctx, args, counter).await?);
    for case in matrix.cases(!args.no_floor) {
        eprintln!("   {}", case.name);
        cases.extend(measure_http(&case, ctx, args, counter).await?);
    }
    Ok(())
}

/// The horizon as an instant interval in the practice zone.
fn horizon(tz: Tz, start: NaiveDate) -> anyhow::Result<Interval> {
    let last = start + TimeDelta::days(i64::from(HORIZON_DAYS) - 1);
    let (Some(first), Some(last)) = (local_day(tz, start), local_day(tz, last)) else {
        bail!("horizon out of range");
    };
    Interval::new(first.start(), last.end()).map_err(|error| anyhow::anyhow!("{error:?}"))
}

/// `load`: the store loads one doctor's schedule for the horizon (sequential, timed);
/// `engine suggest`: `Schedule::suggest` on it, in-process.
async fn measure_engine(
    state: &AppState,
    ctx: &Arc<HttpContext>,
    args: &BenchArgs,
    counter: &SqlCounter,
) -> anyhow::Result<Vec<CaseResult>> {
    let tz = state.tz();
    let period = horizon(tz, ctx.horizon_start)?;
    let scope = ScheduleScope::people(vec![ctx.doctor]);
    let cap = Duration::from_secs(args.time_cap_secs.max(1));

    for _ in 0..args.warmup {
        state.store.schedule(tz, period, &scope).await?;
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    for _ in 0..args.requests {
        let sent = Instant::now();
        state.store.schedule(tz, period, &scope).await?;
        latencies.push(sent.elapsed());
        if started.elapsed() > cap {
            break;
        }
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    counter.start();
    for _ in 0..args.count_requests {
        state.store.schedule(tz, period, &scope).await?;
    }
    let (statements, transactions) = counter.stop();
    let per = |n: u64| n as f64 / args.count_requests as f64;
    let load = CaseResult {
        statements: Some(per(statements)),
        transactions: Some(per(transactions)),
        ..CaseResult::from_run("schedule load", 1, &latencies, 0, wall, None)
    };

    let schedule = state.store.schedule(tz, period, &scope).await?;
    let duration = SlotDuration::from_minutes(30).map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut query =
        SlotQuery::for_appointment(UserId(ctx.doctor), Vec::new(), duration, ctx.horizon_start);
    query.days = HORIZON_DAYS;
    query.limit = 5;
    query.spacing = SlotSpacing::BackToBack;
    let now = state.now();
    let slots = schedule
        .suggest(&query, now)
        .map_err(|error| anyhow::anyhow!("engine suggest: {error}"))?;
    if slots.is_empty() {
        bail!("the engine found no slot in the horizon");
    }
    let mut latencies = Vec::with_capacity(args.engine_iterations);
    let started = Instant::now();
    for _ in 0..args.engine_iterations {
        let sent = Instant::now();
        let slots = schedule.suggest(std::hint::black_box(&query), now);
        std::hint::black_box(slots.ok());
        latencies.push(sent.elapsed());
        if started.elapsed() > cap {
            break;
        }
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    let engine = CaseResult {
        statements: Some(0.0),
        transactions: Some(0.0),
        ..CaseResult::from_run("engine suggest", 1, &latencies, 0, wall, None)
    };
    Ok(vec![load, engine])
}

// ----------------------------------------------------------------------------------------------
// Report

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1e3;
    if ms < 1.0 {
        format!("{ms:.3}")
    } else {
        format!("{ms:.2}")
    }
}

fn per_request(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if (v - v.round()).abs() < 1e-9 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

impl SizeReport {
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n### {} — {} appointments\n",
            self.backend, self.appointments
        );
        let _ = writeln!(
            out,
            "seed: {} rows in {} statements, {:.2} s; horizon (14 days): {} bookings of the \
             measured doctor, {} of all doctors; listed day: {} appointments; week list: {} \
             appointments\n",
            self.seed_rows,
            self.seed_statements,
            self.seed_time.as_secs_f64(),
            self.horizon_doctor_bookings,
            self.horizon_all_bookings,
            self.list_day_appointments,
            self.week_list_appointments,
        );
        let _ = write!(
            out,
            "start to first 200: in-process router {} ms",
            ms(self.inprocess_start)
        );
        match &self.process {
            Some(process) => {
                let _ = writeln!(
                    out,
                    "; `praxi serve` child process {} ms (spawn → first 200 of /api/health/)\n\n\
                     RSS of `praxi serve`: idle {}, peak during its c=16 runs {}\n",
                    ms(process.start_to_first_200),
                    process.rss_idle_kib.map_or("-".to_owned(), mib),
                    mib(process.rss_peak_kib),
                );
            }
            None => {
                let _ = writeln!(out, "; `praxi serve`: not measured (no binary)\n");
            }
        }
        let _ = writeln!(
            out,
            "| case | conc. | requests | errors | p50 ms | p95 ms | p99 ms | req/s | SQL/req | \
             tx/req | floor | p50 ÷ floor | req/s ÷ floor |"
        );
        let _ = writeln!(
            out,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
        );
        for case in &self.cases {
            let floor = case
                .floor
                .and_then(|name| self.case(name, case.concurrency));
            let (p50_ratio, rate_ratio) = match floor {
                Some(floor) => (
                    format!(
                        "{:.2}",
                        case.p50.as_secs_f64() / floor.p50.as_secs_f64().max(1e-12)
                    ),
                    format!("{:.2}", case.throughput / floor.throughput.max(1e-12)),
                ),
                None => ("-".to_owned(), "-".to_owned()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                case.name,
                case.concurrency,
                case.completed,
                case.errors,
                ms(case.p50),
                ms(case.p95),
                ms(case.p99),
                case.throughput,
                per_request(case.statements),
                per_request(case.transactions),
                case.floor.unwrap_or("-"),
                p50_ratio,
                rate_ratio,
            );
        }
        out
    }

    fn case(&self, name: &str, concurrency: usize) -> Option<&CaseResult> {
        self.cases
            .iter()
            .find(|case| case.name == name && case.concurrency == concurrency)
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// The reads the issue holds to p50 ≤ 1.2 ms, ≥ 2,000 req/s at 16 and 2× the floor.
const READS: [&str; 9] = [
    "week list",
    "appointment suggest",
    "OP timeline day",
    "OP statistics month",
    "patient search",
    "appointment types",
    "operation types",
    "resources",
    "doctors",
];

/// The targets per size and backend, the cross matrix, the size and backend ratios.
fn summary(reports: &[SizeReport]) -> String {
    let mut out = String::from("\n### Matrix: p50 ms at c=1 / req/s at c=16\n\n");
    let mut names: Vec<&'static str> = Vec::new();
    for report in reports {
        for case in &report.cases {
            if !names.contains(&case.name) {
                names.push(case.name);
            }
        }
    }
    let _ = write!(out, "| case |");
    for report in reports {
        let _ = write!(out, " {} {} |", report.backend, report.appointments);
    }
    let _ = write!(out, "\n|---|");
    for _ in reports {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    for name in &names {
        let _ = write!(out, "| {name} |");
        for report in reports {
            let c1 = report.case(name, 1).map_or("-".to_owned(), |c| ms(c.p50));
            let c16 = report
                .case(name, 16)
                .map_or("-".to_owned(), |c| format!("{:.0}", c.throughput));
            let _ = write!(out, " {c1} / {c16} |");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| start to first 200, `praxi serve` (ms) |{}", {
        let mut cells = String::new();
        for report in reports {
            let cell = report
                .process
                .as_ref()
                .map_or("-".to_owned(), |p| ms(p.start_to_first_200));
            let _ = write!(cells, " {cell} |");
        }
        cells
    });
    let _ = writeln!(out, "| RSS idle / peak at c=16, `praxi serve` |{}", {
        let mut cells = String::new();
        for report in reports {
            let cell = report.process.as_ref().map_or("-".to_owned(), |p| {
                format!(
                    "{} / {}",
                    p.rss_idle_kib.map_or("-".to_owned(), mib),
                    mib(p.rss_peak_kib)
                )
            });
            let _ = write!(cells, " {cell} |");
        }
        cells
    });

    out.push_str("\n### Targets (issue #12)\n\n");
    for report in reports {
        let mut lines = Vec::new();
        let p50 = |name: &str| report.case(name, 1).map(|case| case.p50);
        let check = |name: &str, limit_ms: f64| match p50(name) {
            Some(p50) => format!(
                "{name} p50 ≤ {limit_ms} ms: {} ({} ms)",
                mark(p50.as_secs_f64() * 1e3 <= limit_ms),
                ms(p50)
            ),
            None => format!("{name}: not measured"),
        };
        for name in READS {
            lines.push(check(name, 1.2));
            if let Some(case) = report.case(name, 16) {
                lines.push(format!(
                    "{name} ≥ 2,000 req/s at 16: {} ({:.0})",
                    mark(case.throughput >= 2_000.0),
                    case.throughput
                ));
            }
            for concurrency in [1, 16] {
                if let Some(case) = report.case(name, concurrency)
                    && let Some(floor) = case.floor.and_then(|f| report.case(f, concurrency))
                {
                    let ratio = case.p50.as_secs_f64() / floor.p50.as_secs_f64().max(1e-12);
                    lines.push(format!(
                        "{name} p50 within 2× its floor at {concurrency}: {} ({ratio:.2}×)",
                        mark(ratio <= 2.0)
                    ));
                }
            }
        }
        lines.push(check("patient search", 1.0));
        lines.push(check("operation suggest", 1.5));
        lines.push(check("create", 1.5));
        if let Some(case) = report.case("create", 16) {
            lines.push(format!(
                "create ≥ 1,200 req/s at 16: {} ({:.0})",
                mark(case.throughput >= 1_200.0),
                case.throughput
            ));
        }
        lines.push(check("conflicting create", 2.0));
        lines.push(check("dashboard HTML", 15.0));
        if let Some(process) = &report.process {
            let start_ms = process.start_to_first_200.as_secs_f64() * 1e3;
            lines.push(format!(
                "start to first 200 ≤ 50 ms: {} ({} ms)",
                mark(start_ms <= 50.0),
                ms(process.start_to_first_200)
            ));
            if let Some(idle) = process.rss_idle_kib {
                lines.push(format!(
                    "RSS idle ≤ 40 MiB: {} ({})",
                    mark(idle <= 40 * 1024),
                    mib(idle)
                ));
            }
            lines.push(format!(
                "RSS during c=16 ≤ 120 MiB: {} ({})",
                mark(process.rss_peak_kib <= 120 * 1024),
                mib(process.rss_peak_kib)
            ));
        }
        let _ = writeln!(
            out,
            "- {} {}: {}",
            report.backend,
            report.appointments,
            lines.join("; ")
        );
    }

    for backend in ["sqlite", "postgres"] {
        let of_backend: Vec<&SizeReport> =
            reports.iter().filter(|r| r.backend == backend).collect();
        let smallest = of_backend.iter().min_by_key(|r| r.appointments);
        let largest = of_backend.iter().max_by_key(|r| r.appointments);
        if let (Some(small), Some(large)) = (smallest, largest)
            && large.appointments > small.appointments
        {
            for name in [
                "dashboard HTML",
                "appointment suggest",
                "week list",
                "create",
            ] {
                if let (Some(a), Some(b)) = (small.case(name, 1), large.case(name, 1)) {
                    let ratio = b.p50.as_secs_f64() / a.p50.as_secs_f64().max(1e-12);
                    let _ = writeln!(
                        out,
                        "- {backend}: p50 ratio {name} @{} / @{}: {ratio:.2}",
                        large.appointments, small.appointments
                    );
                }
            }
            let grows: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| {
                    let counts: Vec<Option<f64>> = of_backend
                        .iter()
                        .map(|r| r.case(name, 1).and_then(|c| c.statements))
                        .collect();
                    !counts.windows(2).all(|pair| pair[0] == pair[1])
                })
                .collect();
            let _ = writeln!(
                out,
                "- {backend}: SQL statements per request independent of size: {}{}",
                mark(grows.is_empty()),
                if grows.is_empty() {
                    String::new()
                } else {
                    format!(" (differs: {})", grows.join(", "))
                }
            );
        }
    }
    for sqlite in reports.iter().filter(|r| r.backend == "sqlite") {
        let Some(pg) = reports
            .iter()
            .find(|r| r.backend == "postgres" && r.appointments == sqlite.appointments)
        else {
            continue;
        };
        let mut over = Vec::new();
        for name in READS {
            if let (Some(a), Some(b)) = (sqlite.case(name, 1), pg.case(name, 1))
                && a.p50.as_secs_f64() > 1.2 * b.p50.as_secs_f64()
            {
                over.push(format!("{name} {}/{} ms", ms(a.p50), ms(b.p50)));
            }
        }
        let _ = writeln!(
            out,
            "- SQLite ≤ 1.2× PostgreSQL p50 on the reads @{}: {}{}",
            sqlite.appointments,
            mark(over.is_empty()),
            if over.is_empty() {
                String::new()
            } else {
                format!(" (over: {})", over.join(", "))
            }
        );
    }
    out
}

// ----------------------------------------------------------------------------------------------
// The generated practice

struct Plan {
    tz: Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
    doctors: Vec<i64>,
    patients: usize,
    operations: usize,
    appointments: usize,
}

/// A free slot in the reserved week for one create.
#[derive(Debug, Clone, Copy)]
struct CreateSlot {
    doctor: i64,
    patient: i32,
    start: DateTime<Utc>,
}

pub(crate) struct Generated {
    pub(crate) data: SeedData,
    creates: Vec<CreateSlot>,
    pub(crate) today: NaiveDate,
    pub(crate) horizon_start: NaiveDate,
    pub(crate) list_day: NaiveDate,
    horizon_doctor_bookings: usize,
    horizon_all_bookings: usize,
    list_day_appointments: usize,
}

/// SplitMix64: small, deterministic, good enough for spreading bookings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Busy intervals per key, as `(start, end)` in seconds; `take` books only when free.
#[derive(Default)]
struct Timelines<K: std::hash::Hash + Eq>(HashMap<K, Vec<(i64, i64)>>);

impl<K: std::hash::Hash + Eq> Timelines<K> {
    fn is_free(&self, key: &K, start: i64, end: i64) -> bool {
        self.0
            .get(key)
            .is_none_or(|list| list.iter().all(|&(s, e)| e <= start || s >= end))
    }

    fn book(&mut self, key: K, start: i64, end: i64) {
        self.0.entry(key).or_default().push((start, end));
    }
}

fn at(tz: Tz, date: NaiveDate, minute: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN);
    local_to_utc(tz, date.and_time(time))
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// `floor((i + 1) * total / parts) - floor(i * total / parts)`: an even split of `total`.
fn share(total: usize, parts: usize, i: usize) -> usize {
    if parts == 0 {
        return 0;
    }
    (i + 1) * total / parts - i * total / parts
}

const FIRST_NAMES: [&str; 16] = [
    "Ali", "Omar", "Karim", "Hassan", "Yusuf", "Lena", "Sara", "Layla", "Mariam", "Amina", "Noah",
    "Emma", "Felix", "Hanna", "Ben", "Clara",
];
const LAST_NAMES: [&str; 16] = [
    "Ahmad", "Salim", "Jabari", "Haddad", "Khalil", "Rahman", "Hamidi", "Faruq", "Becker",
    "Fischer", "Weber", "Wagner", "Schulz", "Hoffmann", "Koch", "Richter",
];

/// The whole practice for `plan` (see the module docs).
fn generate(plan: &Plan) -> anyhow::Result<Generated> {
    let tz = plan.tz;
    let mut rng = Rng(0x5EED_0000 ^ plan.appointments as u64);
    let week0 =
        plan.today - TimeDelta::days(i64::from(plan.today.weekday().num_days_from_monday()));
    // A practice's data is mostly history: 46 weeks back, 6 weeks ahead.
    let first_monday = week0 - TimeDelta::weeks(HISTORY_WEEKS);
    let reserved_monday = week0 + TimeDelta::weeks(3);
    let horizon_start = week0 + TimeDelta::weeks(1);
    let list_day = horizon_start + TimeDelta::days(1);
    let weekdays: Vec<NaiveDate> = (0..52 * 7)
        .map(|d| first_monday + TimeDelta::days(d))
        .filter(|d| d.weekday().num_days_from_monday() < 5)
        .collect();
    let workdays: Vec<NaiveDate> = weekdays
        .iter()
        .copied()
        .filter(|d| *d < reserved_monday || *d >= reserved_monday + TimeDelta::weeks(1))
        .collect();
    let now_ts = plan.now.timestamp();
    let n_doctors = plan.doctors.len();
    let n_patients = i32::try_from(plan.patients).context("too many patients")?;

    let mut data = SeedData::default();
    for weekday in 0..5 {
        let window = SeedWindow {
            weekday,
            start: hm(8, 0),
            end: hm(18, 0),
        };
        data.practice_hours.push(window);
        for doctor in &plan.doctors {
            data.doctor_hours.push((*doctor, window));
        }
    }
    for date in &weekdays {
        data.breaks.push(SeedBreak {
            doctor: None,
            date: *date,
            start: hm(12, 30),
            end: hm(13, 0),
            reason: "Mittagspause".to_owned(),
        });
    }
    for id in OP_ROOMS {
        data.resources.push(SeedResource {
            id,
            name: format!("OP {id}"),
            kind: "room",
            color: "#B22222".to_owned(),
        });
    }
    for id in TREATMENT_ROOMS {
        data.resources.push(SeedResource {
            id,
            name: format!("Behandlungsraum {}", id - 2),
            kind: "room",
            color: "#4682B4".to_owned(),
        });
    }
    for id in DEVICES {
        data.resources.push(SeedResource {
            id,
            name: format!("Gerät {}", id - 12),
            kind: "device",
            color: "#6A5ACD".to_owned(),
        });
    }
    let appointment_types = [
        (1, "Kontrolle", 10),
        (2, "Sprechstunde", 15),
        (3, "Beratung", 20),
        (4, "Erstgespräch", 30),
    ];
    for (id, name, minutes) in appointment_types {
        data.appointment_types.push(SeedAppointmentType {
            id,
            name: name.to_owned(),
            color: "#2E8B57".to_owned(),
            duration_minutes: Some(minutes),
        });
    }
    let operation_types = [
        (1_i64, "Arthroskopie", 15, 45, 15),
        (2, "Katarakt", 10, 30, 10),
        (3, "Hernie", 15, 60, 15),
        (4, "Exzision", 20, 40, 20),
    ];
    for (id, name, prep, op, post) in operation_types {
        data.operation_types.push(SeedOperationType {
            id,
            name: name.to_owned(),
            prep,
            op,
            post,
            color: "#8A2BE2".to_owned(),
        });
    }
    for id in 1..=n_patients {
        let first = *rng.pick(&FIRST_NAMES);
        let last = *rng.pick(&LAST_NAMES);
        data.patients.push(SeedPatient {
            id,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            birth_date: NaiveDate::from_ymd_opt(
                1940 + rng.below(80) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            ),
            gender: Some(if id % 2 == 0 { "female" } else { "male" }.to_owned()),
            phone: Some(format!("+49 30 {:07}", rng.below(10_000_000))),
            email: Some(format!("patient{id}@example.test")),
        });
    }

    let mut patients: Timelines<i32> = Timelines::default();
    let mut resources: Timelines<(i64, NaiveDate)> = Timelines::default();
    let mut pick_patient = |rng: &mut Rng, start: i64, end: i64| -> Option<i32> {
        for _ in 0..50 {
            let patient = 1 + rng.below(plan.patients as u64) as i32;
            if patients.is_free(&patient, start, end) {
                patients.book(patient, start, end);
                return Some(patient);
            }
        }
        None
    };

    // Operations: sessions of up to three operations per OP room and half day.
    let mut blocked: HashSet<(i64, NaiveDate, usize)> = HashSet::new();
    let mut operation_id = 0_i64;
    for (day_index, date) in workdays.iter().enumerate() {
        let on_day = share(plan.operations, workdays.len(), day_index);
        let sessions = on_day.div_ceil(3).min(2 * OP_ROOMS.len());
        for session in 0..sessions {
            let ops = share(on_day, sessions, session);
            let half = session / OP_ROOMS.len();
            let in_half = session % OP_ROOMS.len();
            let room = OP_ROOMS[in_half];
            let (from, to) = HALVES[half];
            let base = day_index * 7 + in_half * 3;
            let surgeon = plan.doctors[base % n_doctors];
            let assistant = plan.doctors[(base + 1) % n_doctors];
            let anesthesist =
                (in_half == 0 && n_doctors >= 6).then(|| plan.doctors[(base + 2) % n_doctors]);
            for doctor in [Some(surgeon), Some(assistant), anesthesist]
                .into_iter()
                .flatten()
            {
                blocked.insert((doctor, *date, half));
            }
            let cell = (to - from) / ops.max(1) as u32 / 5 * 5;
            for k in 0..ops {
                let (type_id, _, prep, op, post) = *rng.pick(&operation_types);
                let length = ((prep + op + post) as u32).min(cell);
                if length < 10 {
                    continue;
                }
                let start_minute = from + k as u32 * cell;
                let start = at(tz, *date, start_minute);
                let end = at(tz, *date, start_minute + length);
                let Some(patient) = pick_patient(&mut rng, start.timestamp(), end.timestamp())
                else {
                    continue;
                };
                operation_id += 1;
                let past = end.timestamp() < now_ts;
                let status = match (past, rng.below(50)) {
                    (_, 0) => OperationStatus::Cancelled.as_str(),
                    (true, _) => OperationStatus::Done.as_str(),
                    (false, n) if n % 2 == 0 => OperationStatus::Confirmed.as_str(),
                    (false, _) => OperationStatus::Planned.as_str(),
                };
                let devices = if k % 2 == 0 {
                    vec![*DEVICES.start() + in_half as i64]
                } else {
                    Vec::new()
                };
                data.operations.push(SeedOperation {
                    id: operation_id,
                    patient_id: patient,
                    primary_surgeon_id: surgeon,
                    assistant_id: Some(assistant),
                    anesthesist_id: anesthesist,
                    op_room_id: room,
                    op_type_id: type_id,
                    start,
                    end,
                    prep,
                    op,
                    post,
                    status,
                    devices,
                });
            }
        }
    }

    // Appointments: spread evenly over the doctors' free half days.
    let segments: Vec<(i64, NaiveDate, usize)> = workdays
        .iter()
        .flat_map(|date| {
            plan.doctors
                .iter()
                .flat_map(move |doctor| (0..HALVES.len()).map(move |half| (*doctor, *date, half)))
        })
        .filter(|key| !blocked.contains(key))
        .collect();
    // The last half hour of every half day stays free (acute cases), so 30-minute suggestions
    // exist at every size.
    let minutes = |half: usize| (HALVES[half].1 - HALVES[half].0 - FREE_TAIL_MINUTES) as usize;
    let total_minutes: usize = segments.iter().map(|(_, _, half)| minutes(*half)).sum();
    let mut appointment_id = 0_i32;
    let mut cumulative = 0usize;
    let lengths = [10_u32, 15, 15, 20, 20, 30];
    for (doctor, date, half) in &segments {
        let before = plan.appointments * cumulative / total_minutes.max(1);
        cumulative += minutes(*half);
        let after = plan.appointments * cumulative / total_minutes.max(1);
        let quota = (after - before).min(minutes(*half) / 10);
        if quota == 0 {
            continue;
        }
        let (from, _) = HALVES[*half];
        let cell = (minutes(*half) / quota) as u32 / 5 * 5;
        for k in 0..quota {
            let length = (*rng.pick(&lengths)).min(cell);
            let slack = (cell - length) / 5;
            let start_minute = from + k as u32 * cell + 5 * rng.below(u64::from(slack) + 1) as u32;
            let start = at(tz, *date, start_minute);
            let end = at(tz, *date, start_minute + length);
            let (s, e) = (start.timestamp(), end.timestamp());
            let Some(patient) = pick_patient(&mut rng, s, e) else {
                continue;
            };
            let mut booked_resources = Vec::new();
            if rng.below(10) < 3 {
                for _ in 0..5 {
                    let room = TREATMENT_ROOMS.start() + rng.below(10) as i64;
                    if resources.is_free(&(room, *date), s, e) {
                        resources.book((room, *date), s, e);
                        booked_resources.push(room);
                        break;
                    }
                }
            }
            let type_id = appointment_types
                .iter()
                .find(|(_, _, minutes)| *minutes == length as i32)
                .map(|(id, _, _)| *id)
                .filter(|_| rng.below(10) != 0);
            let past = e < now_ts;
            let roll = rng.below(100);
            let (status, is_no_show) = match (past, roll) {
                (_, 0..=4) => (AppointmentStatus::Cancelled, false),
                (true, 5..=7) => (AppointmentStatus::Scheduled, true),
                (true, _) => (AppointmentStatus::Completed, false),
                (false, 8..=44) => (AppointmentStatus::Confirmed, false),
                (false, _) => (AppointmentStatus::Scheduled, false),
            };
            appointment_id += 1;
            data.appointments.push(SeedAppointment {
                id: appointment_id,
                patient_id: patient,
                type_id,
                doctor_id: *doctor,
                start,
                end,
                status: status.as_str(),
                is_no_show,
                resources: booked_resources,
            });
        }
    }

    // Creates: 15-minute slots in the empty reserved week, one new patient each.
    let mut creates = Vec::new();
    for day in 0..5 {
        let date = reserved_monday + TimeDelta::days(day);
        for (from, to) in HALVES {
            let mut minute = from;
            while minute + CREATE_MINUTES <= to {
                for doctor in &plan.doctors {
                    if creates.len() >= plan.patients {
                        break;
                    }
                    creates.push(CreateSlot {
                        doctor: *doctor,
                        patient: creates.len() as i32 + 1,
                        start: at(tz, date, minute),
                    });
                }
                minute += CREATE_MINUTES;
            }
        }
    }

    let period = horizon(tz, horizon_start)?;
    let in_horizon =
        |start: DateTime<Utc>, end: DateTime<Utc>| start < period.end() && end > period.start();
    let measured = plan.doctors[0];
    let active_appointments = || {
        data.appointments
            .iter()
            .filter(|a| a.status != AppointmentStatus::Cancelled.as_str())
    };
    let active_operations = || {
        data.operations
            .iter()
            .filter(|o| o.status != OperationStatus::Cancelled.as_str())
    };
    let horizon_doctor_bookings = active_appointments()
        .filter(|a| a.doctor_id == measured && in_horizon(a.start, a.end))
        .count()
        + active_operations()
            .filter(|o| {
                (o.primary_surgeon_id == measured
                    || o.assistant_id == Some(measured)
                    || o.anesthesist_id == Some(measured))
                    && in_horizon(o.start, o.end)
            })
            .count();
    let horizon_all_bookings = active_appointments()
        .filter(|a| in_horizon(a.start, a.end))
        .count()
        + active_operations()
            .filter(|o| in_horizon(o.start, o.end))
            .count();
    let list_day_appointments = data
        .appointments
        .iter()
        .filter(|a| a.start.with_timezone(&tz).date_naive() == list_day)
        .count();
    if data.appointments.len() < plan.appointments {
        eprintln!(
            "   note: generated {} of {} appointments (no free patient or slot for the rest)",
            data.appointments.len(),
            plan.appointments
        );
    }
    Ok(Generated {
        data,
        creates,
        today: plan.today,
        horizon_start,
        list_day,
        horizon_doctor_bookings,
        horizon_all_bookings,
        list_day_appointments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(appointments: usize) -> Plan {
        let tz = chrono_tz::Europe::Berlin;
        let now = DateTime::parse_from_rfc3339("2026-03-18T09:00:00+01:00")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        Plan {
            tz,
            today: now.with_timezone(&tz).date_naive(),
            now,
            doctors: (1..=10).collect(),
            patients: 5_000,
            operations: 2_000,
            appointments,
        }
    }

    /// No doctor, patient or resource is booked twice at the same time.
    fn assert_no_overlaps(generated: &Generated) {
        let mut intervals: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        let mut add = |key: String, start: DateTime<Utc>, end: DateTime<Utc>| {
            intervals
                .entry(key)
                .or_default()
                .push((start.timestamp(), end.timestamp()));
        };
        for a in &generated.data.appointments {
            add(format!("d{}", a.doctor_id), a.start, a.end);
            add(format!("p{}", a.patient_id), a.start, a.end);
            for r in &a.resources {
                add(format!("r{r}"), a.start, a.end);
            }
        }
        for o in &generated.data.operations {
            for d in [Some(o.primary_surgeon_id), o.assistant_id, o.anesthesist_id]
                .into_iter()
                .flatten()
            {
                add(format!("d{d}"), o.start, o.end);
            }
            add(format!("p{}", o.patient_id), o.start, o.end);
            add(format!("r{}", o.op_room_id), o.start, o.end);
            for r in &o.devices {
                add(format!("r{r}"), o.start, o.end);
            }
        }
        for (key, mut list) in intervals {
            list.sort_unstable();
            for pair in list.windows(2) {
                assert!(pair[0].1 <= pair[1].0, "{key} double-booked: {pair:?}");
            }
        }
    }

    #[test]
    fn the_generated_practice_has_the_requested_sizes_and_no_double_bookings() {
        for size in [200, 1_000, 50_000] {
            let generated = generate(&plan(size)).expect("generates");
            assert_eq!(generated.data.appointments.len(), size, "size {size}");
            assert_eq!(generated.data.operations.len(), 2_000, "size {size}");
            assert_eq!(generated.data.patients.len(), 5_000);
            assert_eq!(generated.data.resources.len(), 20);
            assert_no_overlaps(&generated);
        }
    }

    #[test]
    fn bookings_stay_inside_hours_and_off_the_lunch_break() {
        use chrono::Timelike;
        let generated = generate(&plan(10_000)).expect("generates");
        let tz = chrono_tz::Europe::Berlin;
        let minute = |t: DateTime<Utc>| {
            let local = t.with_timezone(&tz).time();
            local.hour() * 60 + local.minute()
        };
        for a in &generated.data.appointments {
            let (s, e) = (minute(a.start), minute(a.end));
            assert!(s >= 8 * 60 && e <= 18 * 60, "{a:?}");
            assert!(e <= 12 * 60 + 30 || s >= 13 * 60, "{a:?} crosses lunch");
            assert!(a.start.with_timezone(&tz).weekday().num_days_from_monday() < 5);
        }
    }

    #[test]
    fn the_reserved_week_is_empty_and_creates_are_distinct() {
        let generated = generate(&plan(50_000)).expect("generates");
        let first = generated.creates.first().expect("create slots").start;
        let last = generated.creates.last().expect("create slots").start;
        assert!(
            generated
                .data
                .appointments
                .iter()
                .all(|a| a.end <= first || a.start > last)
        );
        let mut keys: Vec<(i64, i64)> = generated
            .creates
            .iter()
            .map(|c| (c.doctor, c.start.timestamp()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), generated.creates.len());
        assert!(generated.creates.len() >= 1_000);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        for (p, expected) in [(0.5, 50), (0.99, 99), (1.0, 100), (0.001, 1)] {
            assert_eq!(
                percentile(&samples, p),
                Duration::from_millis(expected),
                "{p}"
            );
        }
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn the_counter_sees_every_statement_and_transaction() {
        let counter = Arc::new(SqlCounter {
            counting: AtomicBool::new(false),
            statements: AtomicU64::new(0),
            transactions: AtomicU64::new(0),
            fallback: Dispatch::none(),
        });
        let dispatch = Dispatch::new(CountingSubscriber(counter.clone()));
        let _guard = tracing::dispatcher::set_default(&dispatch);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("c.sqlite3").display()
            );
            let store = Store::connect(&url).await.expect("connect");
            store.ping().await.expect("ping");
            counter.start();
            store.ping().await.expect("ping");
            store.ping().await.expect("ping");
            let tx = store.write().await.expect("begin");
            tx.commit().await.expect("commit");
            assert_eq!(counter.stop(), (2, 1));
            store.ping().await.expect("ping");
            assert_eq!(counter.stop(), (2, 1), "nothing is counted once stopped");
            store.close().await.expect("close");
        });
        assert_eq!(share(10, 3, 0) + share(10, 3, 1) + share(10, 3, 2), 10);
    }
}
