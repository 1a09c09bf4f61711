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
