//! praxi-server: everything HTTP. The axum REST API under `/api/` (wire-compatible with the
//! original PraxiApp), and later the staff dashboard and admin. Handlers are thin: extract,
//! authorise through the domain policy, parse into domain types, call the store, shape JSON.
//! No SQL and no business rules live here.

pub mod api;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod error;
pub mod events;
pub mod fhir;
pub mod ical;
pub mod legacy_password;
pub mod metrics;
pub mod redis;
pub mod reminders;
pub mod resilience;
pub mod state;
pub mod throttle;
pub mod two_factor;
pub mod usecases;
pub mod web;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::{from_fn, map_request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use resilience::REQUEST_ID;
pub use state::{AppState, Clock, ServerConfig};

/// The complete application router with its middleware.
pub fn app(state: AppState) -> Router {
    metrics::install();
    let mut api = api::router();
    if let Some(cors) = resilience::cors(&state.config.cors_origins) {
        api = api.layer(cors);
    }
    api.merge(web::router())
        .merge(metrics::route())
        .merge(ical::router())
        .merge(fhir::router())
        .fallback(api::not_found)
        .with_state(state)
        .layer(from_fn(resilience::retry_contention))
        .layer(from_fn(resilience::reject_invalid_query))
        .layer(from_fn(resilience::detach))
        .layer(from_fn(web::html_errors))
        .layer(from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %ical::loggable_path(request.uri().path()),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(map_request(resilience::sanitize_request_id))
}

/// Serves the app on a bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Open event streams would otherwise keep the graceful shutdown waiting forever.
        stopping.begin_shutdown();
    })
    .await
}
