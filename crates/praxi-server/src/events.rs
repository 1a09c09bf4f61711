//! Live board events (OP board, patient flow, resource calendar) for Server-Sent Events.
//!
//! An event names only the board, the kind of change and the ids involved — never patient
//! data. Clients re-read the board through the normal, permission-checked endpoints.
//!
//! Delivery: within one process through a broadcast channel. With several processes, events
//! are relayed through Redis pub/sub (`PRAXI_REDIS_URL`) or, on PostgreSQL without Redis,
//! through `LISTEN`/`NOTIFY`; every process forwards what the relay delivers to its own
//! subscribers, so an event published anywhere reaches every stream.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use praxi_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// A board clients can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Board {
    OpBoard,
    PatientFlow,
    ResourceCalendar,
}

impl Board {
    /// Parses the path segment (`op-board`, `patient-flow`, `resource-calendar`).
    pub fn from_path(segment: &str) -> Option<Board> {
        match segment {
            "op-board" => Some(Board::OpBoard),
            "patient-flow" => Some(Board::PatientFlow),
            "resource-calendar" => Some(Board::ResourceCalendar),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Board::OpBoard => "op-board",
            Board::PatientFlow => "patient-flow",
            Board::ResourceCalendar => "resource-calendar",
        }
    }
}

/// One change on a board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardEvent {
    pub board: Board,
    /// What happened, e.g. `operation.status`, `flow.status`, `appointment.created`.
    pub kind: String,
    /// The changed row.
    pub id: i64,
    /// Optional new status (no patient data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where events go besides this process.
#[derive(Clone)]
enum Relay {
    None,
    Postgres(Store),
    Redis(Arc<crate::redis::Redis>),
}

/// Publishes and fans out board events.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<BoardEvent>,
    relay: Relay,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::in_process()
    }
}

impl EventBus {
    /// Events stay in this process.
    pub fn in_process() -> EventBus {
        EventBus {
            local: broadcast::channel(1024).0,
            relay: Relay::None,
        }
    }

    /// Relays through PostgreSQL `LISTEN`/`NOTIFY`; starts the listener task.
    pub async fn via_postgres(store: Store) -> Result<EventBus, praxi_store::StoreError> {
        let bus = EventBus {
            local: broadcast::channel(1024).0,
            relay: Relay::Postgres(store.clone()),
        };
        if let Some(mut listener) = store.listen().await? {
            let local = bus.local.clone();
            tokio::spawn(async move {
                while let Some(payload) = listener.recv().await {
                    if let Ok(event) = serde_json::from_str::<BoardEvent>(&payload) {
                        let _ = local.send(event);
                    }
                }
            });
        }
        Ok(bus)
    }

    /// Relays through Redis pub/sub; starts the subscriber task (re-subscribing on errors)
    /// and waits up to five seconds for its first subscription, so that a process that
    /// starts serving also receives. Redis being down is not an error: the task keeps trying.
    pub async fn via_redis(url: &str) -> Result<EventBus, String> {
        let redis = Arc::new(crate::redis::Redis::open(url)?);
        let bus = EventBus {
            local: broadcast::channel(1024).0,
            relay: Relay::Redis(redis.clone()),
        };
        let local = bus.local.clone();
        let (subscribed, first_subscription) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let on_message = move |payload: String| {
                if let Ok(event) = serde_json::from_str::<BoardEvent>(&payload) {
                    let _ = local.send(event);
                }
            };
            redis
                .subscribe_forever(crate::redis::CHANNEL, on_message, subscribed)
                .await;
        });
        if tokio::time::timeout(std::time::Duration::from_secs(5), first_subscription)
            .await
            .is_err()
        {
            tracing::warn!("redis not reachable yet: board events stay local until it is");
        }
        Ok(bus)
    }

    /// Publishes an event (never fails the caller: a relay error is logged and the event is
    /// still delivered locally).
    pub async fn publish(&self, event: BoardEvent) {
        let relayed = match &self.relay {
            Relay::None => false,
            Relay::Postgres(store) => match serde_json::to_string(&event) {
                Ok(payload) => match store.notify(&payload).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, "postgres notify failed");
                        false
                    }
                },
                Err(_) => false,
            },
            Relay::Redis(redis) => match serde_json::to_string(&event) {
                Ok(payload) => match redis.publish(crate::redis::CHANNEL, &payload).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, "redis publish failed");
                        false
                    }
                },
                Err(_) => false,
            },
        };
        if !relayed {
            let _ = self.local.send(event);
        }
    }

    /// Shorthand for `publish` with the current time.
    pub async fn notify(&self, board: Board, kind: &str, id: i64, status: Option<&str>) {
        self.publish(BoardEvent {
            board,
            kind: kind.to_owned(),
            id,
            status: status.map(str::to_owned),
            at: Utc::now(),
        })
        .await;
    }

    /// A new subscription to every event of this process.
    pub fn subscribe(&self) -> broadcast::Receiver<BoardEvent> {
        self.local.subscribe()
    }
}
