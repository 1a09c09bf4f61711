//! `GET /api/events/{board}/`: Server-Sent Events for the live boards (`op-board`,
//! `patient-flow`, `resource-calendar`). Each event carries only the kind of change and ids;
//! clients re-read the board through its permission-checked endpoint.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use praxi_domain::rbac::{Action, Area};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::events::Board;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/events/{board}/", get(stream))
}

async fn stream(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(board): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let board = Board::from_path(&board).ok_or(ApiError::NotFoundPlain)?;
    let resource = match board {
        Board::OpBoard => Area::OpDashboard,
        Board::PatientFlow => Area::PatientFlow,
        Board::ResourceCalendar => Area::ResourceCalendar,
    };
    auth.require(resource, Action::List, "Board")?;
    // Counted as a connected client until the stream is dropped.
    let client = crate::metrics::global().sse_client();
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
        let _connected = &client;
        let event = item.ok()?;
        if event.board != board {
            return None;
        }
        let data = serde_json::to_string(&event).ok()?;
        Some(Ok(Event::default().event(event.kind.clone()).data(data)))
    });
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data(board.as_str())));
    let stream = futures_util::StreamExt::take_until(
        hello.chain(events),
        Box::pin(AppState::shutting_down(state.shutdown.clone())),
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
