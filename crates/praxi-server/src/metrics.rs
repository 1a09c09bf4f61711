//! Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a small
//! process-wide registry of atomics and one mutex-guarded map for the per-route request series.
//!
//! What is measured: HTTP requests by method, route template (axum's `MatchedPath`, never the
//! raw path, so ids do not explode the series) and status, with a latency histogram; the
//! database pool's connections in use and idle; bookings refused by the scheduling engine;
//! audit rows written and rows per write call (for reads: the size of each group-commit batch
//! of the audit writer); connected Server-Sent-Events clients.
//!
//! `/metrics` on the main listener answers only with `Authorization: Bearer <metrics token>`
//! and is a 404 when no token is configured; a separate listener (`--metrics-bind`) serves
//! [`router`] without a token and is meant for a private address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency bucket bounds in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Bucket bounds for audit rows per write call.
const AUDIT_BUCKETS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];

/// A histogram's cumulative counts, sum and count (guarded by the caller).
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        for (bound, count) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    /// Writes `<name>_bucket`, `_sum` and `_count` lines; `labels` is `k="v",…` or empty.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// One request series: method, route template, status.
type RequestKey = (&'static str, String, u16);

/// The process-wide registry.
#[derive(Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, Histogram>>,
    audit_rows: AtomicU64,
    audit_writes: Mutex<Histogram>,
    sse_clients: AtomicI64,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    requests: Mutex::new(BTreeMap::new()),
    audit_rows: AtomicU64::new(0),
    audit_writes: Mutex::new(Histogram::new(&AUDIT_BUCKETS)),
    sse_clients: AtomicI64::new(0),
});

/// The registry of this process.
pub fn global() -> &'static Metrics {
    &METRICS
}

/// Counts audit rows; registered with the store by [`install`].
fn observe_audit_rows(rows: usize) {
    let metrics = global();
    metrics
        .audit_rows
        .fetch_add(u64::try_from(rows).unwrap_or(u64::MAX), Ordering::Relaxed);
    if let Ok(mut histogram) = metrics.audit_writes.lock() {
        histogram.observe(rows as f64);
    }
}

/// Connects the store's audit writes to the registry (idempotent).
pub fn install() {
    praxi_store::audit::observe_audit_writes(observe_audit_rows);
}

/// A method name with bounded cardinality.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Escapes a label value (backslash, double quote, line feed).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn observe_request(&self, method: &'static str, route: String, status: u16, took: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            requests
                .entry((method, route, status))
                .or_insert_with(|| Histogram::new(&LATENCY_BUCKETS))
                .observe(took.as_secs_f64());
        }
    }

    /// Registers a connected SSE client until the guard drops.
    pub fn sse_client(&'static self) -> SseClientGuard {
        self.sse_clients.fetch_add(1, Ordering::Relaxed);
        SseClientGuard { metrics: self }
    }

    /// The whole exposition, with the pool figures of `store`.
    pub fn render(&self, store: &praxi_store::Store) -> String {
        let mut out = String::new();
        out.push_str("# HELP praxi_build_info Praxi version.\n# TYPE praxi_build_info gauge\n");
        let _ = writeln!(
            out,
            "praxi_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );

        let requests = self
            .requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default();
        out.push_str(
            "# HELP praxi_http_requests_total HTTP requests by method, route template and \
             status.\n# TYPE praxi_http_requests_total counter\n",
        );
        for ((method, route, status), histogram) in &requests {
            let _ = writeln!(
                out,
                "praxi_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape_label(route),
                histogram.count
            );
        }
        out.push_str(
            "# HELP praxi_http_request_duration_seconds Time to the response head.\n\
             # TYPE praxi_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), histogram) in &requests {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape_label(route)
            );
            histogram.render(&mut out, "praxi_http_request_duration_seconds", &labels);
        }

        let pool = store.pool_stats();
        out.push_str(
            "# HELP praxi_db_pool_connections Database pool connections by state.\n\
             # TYPE praxi_db_pool_connections gauge\n",
        );
        let _ = writeln!(
            out,
            "praxi_db_pool_connections{{state=\"in_use\"}} {}",
            pool.in_use()
        );
        let _ = writeln!(
            out,
            "praxi_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle
        );

        out.push_str(
            "# HELP praxi_booking_conflicts_total Bookings refused by the scheduling engine.\n\
             # TYPE praxi_booking_conflicts_total counter\n",
        );
        let _ = writeln!(
            out,
            "praxi_booking_conflicts_total {}",
            praxi_store::ops::booking_conflicts()
        );

        out.push_str(
            "# HELP praxi_audit_rows_written_total Audit rows inserted.\n\
             # TYPE praxi_audit_rows_written_total counter\n",
        );
        let _ = writeln!(
            out,
            "praxi_audit_rows_written_total {}",
            self.audit_rows.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP praxi_audit_rows_per_write Audit rows inserted per write call (the audit batch size: reads share one group-commit transaction).\n\
             # TYPE praxi_audit_rows_per_write histogram\n",
        );
        if let Ok(histogram) = self.audit_writes.lock() {
            histogram.render(&mut out, "praxi_audit_rows_per_write", "");
        }

        out.push_str(
            "# HELP praxi_sse_clients Connected Server-Sent-Events clients.\n\
             # TYPE praxi_sse_clients gauge\n",
        );
        let _ = writeln!(
            out,
            "praxi_sse_clients {}",
            self.sse_clients.load(Ordering::Relaxed)
        );
        out
    }
}

/// Decrements the SSE client gauge when the stream ends.
#[derive(Debug)]
pub struct SseClientGuard {
    metrics: &'static Metrics,
}

impl Drop for SseClientGuard {
    fn drop(&mut self) {
        self.metrics.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: times every request and counts it under its route template.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    global().observe_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

fn exposition(state: &AppState) -> Response {
    let mut response = global().render(&state.store).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Constant-time comparison (the token must not leak through timing).
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// `GET /metrics` on the main listener: 404 unless a metrics token is configured, then 401
/// without the right bearer token.
async fn guarded(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return ApiError::NotFoundPlain.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if same_secret(token.as_bytes(), expected.as_bytes()) => exposition(&state),
        _ => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"detail": "Invalid metrics token."})),
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            response
        }
    }
}

/// The `/metrics` route of the main app (token-guarded).
pub(crate) fn route() -> Router<AppState> {
    Router::new().route("/metrics", get(guarded))
}

/// A router with only an unguarded `/metrics`, for a separate private listener.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { exposition(&state) }),
        )
        .with_state(state)
}

/// Serves [`router`] on its own listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
