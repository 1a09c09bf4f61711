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
pub mod redis;
pub mod state;
pub mod throttle;
pub mod web;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, Clock, ServerConfig};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application router with its middleware.
pub fn app(state: AppState) -> Router {
    api::router()
        .merge(web::router())
        .fallback(api::not_found)
        .with_state(state)
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
                    path = %request.uri().path(),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
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
