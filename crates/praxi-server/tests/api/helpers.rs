// Shared test helpers.
#![allow(dead_code, reason = "not every test uses each helper")]

//! `TestApp`: the real router on a real TCP port over a fresh database per test. SQLite by
//! default; PostgreSQL when `PRAXI_TEST_DATABASE_URL` is set (a fresh database per test,
//! dropped afterwards).

use std::net::SocketAddr;
use std::sync::OnceLock;

use praxi_domain::Role;
use praxi_server::{AppState, ServerConfig};
use praxi_store::Store;
use praxi_store::users::{NewUser, UserRecord};
use serde_json::Value;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        praxi_server::auth::hash_password_blocking(PASSWORD).expect("hashing works")
    })
    .clone()
}

enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let admin_url = admin_url.clone();
            let name = name.clone();
            let _ = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
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
}

/// Which backend this run tests.
pub(crate) fn backend_name() -> &'static str {
    if std::env::var("PRAXI_TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    }
}

async fn fresh_database() -> (String, TestDb) {
    match std::env::var("PRAXI_TEST_DATABASE_URL") {
        Ok(admin_url) => {
            use sea_orm::ConnectionTrait;
            // Named after the run's database so a CI run can drop everything it created.
            let run_db = admin_url.rsplit('/').next().unwrap_or("praxi");
            let name = format!("{run_db}_t_{}", uuid_like());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to PRAXI_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.expect("close admin connection");
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base.to_owned())
                .expect("database url has a path");
            (
                format!("{base}/{name}"),
                TestDb::Postgres { admin_url, name },
            )
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite3").display()
            );
            (url, TestDb::Sqlite(dir))
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) state: AppState,
    pub(crate) http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The test database's URL (a second server on it stands for a second process).
    pub(crate) db_url: String,
    _db: TestDb,
}

impl TestApp {
    pub(crate) async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub(crate) async fn spawn_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
        // Server errors are logged to the test output (shown for failing tests); SQL
        // statements are counted per request (`statements::counted`).
        init_tracing();
        let (url, db) = fresh_database().await;
        let store = Store::connect(&url).await.expect("connect");
        let db_url = url.clone();
        store.migrate().await.expect("migrate");
        store.ensure_roles().await.expect("roles");
        // As `praxi serve`: cached authentication follows changes of other processes.
        store.watch_auth_changes().await.expect("listen");
        let mut config =
            ServerConfig::new(b"test-secret-key-that-is-long-enough-0123456789".to_vec());
        configure(&mut config);
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
        TestApp {
            addr,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            shutdown: Some(shutdown),
            server: Some(server),
            db_url,
            _db: db,
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.state.store
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Creates a user with the test password.
    pub(crate) async fn create_user(&self, username: &str, role: Option<Role>) -> UserRecord {
        self.store()
            .create_user(
                NewUser {
                    username: username.to_owned(),
                    password_hash: password_hash(),
                    role,
                    first_name: format!("First {username}"),
                    last_name: format!("Last {username}"),
                    email: Some(format!("{username}@example.test")),
                    calendar_color: None,
                    is_staff: true,
                    is_superuser: false,
                },
                chrono::Utc::now(),
            )
            .await
            .expect("create user")
    }

    /// An access token for a user, minted directly (login itself is tested in auth tests).
    pub(crate) fn token_for(&self, user: &UserRecord) -> String {
        praxi_server::auth::access_token(&self.state, user, self.state.now()).expect("token")
    }

    /// A client acting as a new user with this role (username = role name + suffix).
    pub(crate) async fn as_role(&self, role: Role) -> Client<'_> {
        let user = self
            .create_user(&format!("{}_{}", role.name(), uuid_like()), Some(role))
            .await;
        Client {
            app: self,
            token: Some(self.token_for(&user)),
            user: Some(user),
        }
    }

    /// A client acting as an existing user.
    pub(crate) fn as_user(&self, user: &UserRecord) -> Client<'_> {
        Client {
            app: self,
            token: Some(self.token_for(user)),
            user: Some(user.clone()),
        }
    }

    /// A client acting as a user without any API role.
    pub(crate) async fn as_no_role(&self) -> Client<'_> {
        let user = self
            .create_user(&format!("nurse_{}", uuid_like()), None)
            .await;
        Client {
            app: self,
            token: Some(self.token_for(&user)),
            user: Some(user),
        }
    }

    pub(crate) fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
            user: None,
        }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let _ = self.state.store.clone().close().await;
    }
}

pub(crate) struct Client<'a> {
    app: &'a TestApp,
    pub(crate) token: Option<String>,
    pub(crate) user: Option<UserRecord>,
}

#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl TestResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl Client<'_> {
    pub(crate) fn user_id(&self) -> i64 {
        self.user
            .as_ref()
            .map(|user| user.id)
            .expect("client has a user")
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        into_response(request.send().await.expect("request")).await
    }

    pub(crate) async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        into_response(request.send().await.expect("request")).await
    }

    pub(crate) async fn get(&self, path: &str) -> TestResponse {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// A request with extra headers (e.g. `If-Match`).
    pub(crate) async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        into_response(request.send().await.expect("request")).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> TestResponse {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

pub(crate) async fn into_response(response: reqwest::Response) -> TestResponse {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        body,
        text,
    }
}

// ---- statements per request (tests/api/statements.rs) -----------------------------------

use std::collections::HashMap;
use std::sync::Mutex;

use tracing::Subscriber;
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Statements and transactions one request ran.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) statements: u32,
    pub(crate) transactions: u32,
}

pub(crate) fn counts() -> &'static Mutex<HashMap<String, Counts>> {
    static COUNTS: OnceLock<Mutex<HashMap<String, Counts>>> = OnceLock::new();
    COUNTS.get_or_init(|| Mutex::new(HashMap::new()))
}

#[derive(Clone, Copy)]
enum Kind {
    Statement,
    Transaction,
}

fn kind(meta: &tracing::Metadata<'_>) -> Option<Kind> {
    if !meta.is_span() {
        return None;
    }
    match (meta.target(), meta.name()) {
        (
            "sea_orm::database::db_connection" | "sea_orm::database::transaction",
            "execute_raw" | "execute_unprepared" | "query_one_raw" | "query_all_raw" | "stream_raw",
        ) => Some(Kind::Statement),
        ("sea_orm::database::transaction", "begin") => Some(Kind::Transaction),
        _ => None,
    }
}

fn is_request_span(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_span() && meta.name() == "request" && meta.target() == "praxi_server"
}

struct RequestId(String);

#[derive(Default)]
struct FindRequestId(Option<String>);

impl tracing::field::Visit for FindRequestId {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

struct CountLayer;

impl<S> Layer<S> for CountLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if is_request_span(attrs.metadata()) {
            let mut found = FindRequestId::default();
            attrs.record(&mut found);
            if let Some(request_id) = found.0 {
                span.extensions_mut().insert(RequestId(request_id));
            }
            return;
        }
        let Some(kind) = kind(attrs.metadata()) else {
            return;
        };
        for ancestor in span.scope().skip(1) {
            if let Some(RequestId(request_id)) = ancestor.extensions().get::<RequestId>() {
                let Ok(mut map) = counts().lock() else {
                    return;
                };
                let entry = map.entry(request_id.clone()).or_default();
                match kind {
                    Kind::Statement => entry.statements += 1,
                    Kind::Transaction => entry.transactions += 1,
                }
                return;
            }
        }
    }
}

/// The test process's subscriber: errors to the test output, statements counted per request.
pub(crate) fn init_tracing() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let log = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::new("error"));
        let count = CountLayer.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            is_request_span(meta) || kind(meta).is_some()
        }));
        let _ = tracing_subscriber::registry()
            .with(log)
            .with(count)
            .try_init();
    });
}
