//! Cross-process change notifications over PostgreSQL `LISTEN`/`NOTIFY` (PostgreSQL only).

use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::db::Store;
use crate::error::StoreError;

/// The channel Praxi publishes board events on.
pub const EVENTS_CHANNEL: &str = "praxi_events";

/// A live `LISTEN` subscription.
pub struct Listener(sea_orm::sqlx::postgres::PgListener);

impl Listener {
    /// The next payload (reconnects transparently; `None` if the connection is gone for good).
    pub async fn recv(&mut self) -> Option<String> {
        self.0
            .recv()
            .await
            .ok()
            .map(|notification| notification.payload().to_owned())
    }
}

impl Store {
    /// `true` when this store can relay notifications between processes.
    pub fn supports_notify(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// `NOTIFY praxi_events, payload` (no-op on SQLite).
    pub async fn notify(&self, payload: &str) -> Result<(), StoreError> {
        if !self.supports_notify() {
            return Ok(());
        }
        self.conn()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [Value::from(EVENTS_CHANNEL), Value::from(payload)],
            ))
            .await?;
        Ok(())
    }

    /// Subscribes to `praxi_events` (PostgreSQL only).
    pub async fn listen(&self) -> Result<Option<Listener>, StoreError> {
        if !self.supports_notify() {
            return Ok(None);
        }
        let pool = self.conn().get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|error| StoreError::Db(error.to_string()))?;
        listener
            .listen(EVENTS_CHANNEL)
            .await
            .map_err(|error| StoreError::Db(error.to_string()))?;
        Ok(Some(Listener(listener)))
    }
}

/// The channel the `core_user` and deny-list triggers notify (migration m0011).
pub const AUTH_CHANNEL: &str = "praxi_auth";

impl Store {
    /// Drops every cached authentication of this process (a change elsewhere).
    pub fn invalidate_auth(&self) {
        self.auth.invalidate();
    }

    /// Turns the authentication cache on or off (off by default; on only on PostgreSQL, and
    /// before `watch_auth_changes`).
    pub fn set_auth_cache(&self, enabled: bool) {
        self.auth.set_enabled(enabled);
    }

    /// On PostgreSQL: listens on `praxi_auth` and drops the cached authentication on every
    /// notification, and whenever the listening connection was lost (a notification may have
    /// been missed). Returns once the first `LISTEN` is in place; no-op on SQLite.
    pub async fn watch_auth_changes(&self) -> Result<(), StoreError> {
        if !self.supports_notify() || !self.auth.is_enabled() {
            return Ok(());
        }
        let pool = self.conn().get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|error| StoreError::Db(error.to_string()))?;
        listener
            .listen(AUTH_CHANNEL)
            .await
            .map_err(|error| StoreError::Db(error.to_string()))?;
        // Whatever was cached before the LISTEN may have missed a change.
        self.invalidate_auth();
        self.auth.listening();
        let auth = self.auth.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    // A change, or a reconnect (notifications in between are lost).
                    Ok(_) => auth.heard(),
                    Err(_) if pool.is_closed() => break,
                    Err(error) => {
                        auth.heard();
                        tracing::warn!(%error, "praxi_auth listener failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
