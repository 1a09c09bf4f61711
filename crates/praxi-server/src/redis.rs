//! Redis pub/sub for board events across processes, on the maintained `redis` crate.
//!
//! Publishing goes through one managed, multiplexed connection (`ConnectionManager`: opened
//! once, shared by every request, reconnected when it breaks). Subscribing uses a dedicated
//! pub/sub connection in a background task that re-subscribes after any error, with a growing
//! pause (up to 30 s). Events published while the subscription is down are not replayed
//! (board clients re-read their board when their stream reconnects).

use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// The pub/sub channel for board events.
pub const CHANNEL: &str = "praxi:events";

/// How long a connect or a command may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two subscription attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A Redis server used for publishing and subscribing.
pub struct Redis {
    client: redis::Client,
    publisher: OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// Parses `redis://[:password@]host[:port][/db]` (no connection yet).
    pub fn open(url: &str) -> Result<Redis, String> {
        let client = redis::Client::open(url).map_err(|error| error.to_string())?;
        Ok(Redis {
            client,
            publisher: OnceCell::new(),
        })
    }

    /// The shared publishing connection, opened on first use (and retried on the next use
    /// when opening fails).
    async fn publisher(&self) -> redis::RedisResult<ConnectionManager> {
        self.publisher
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(2);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
    }

    /// `PUBLISH channel payload` on the managed connection.
    pub async fn publish(&self, channel: &str, payload: &str) -> redis::RedisResult<()> {
        let mut connection = self.publisher().await?;
        let _receivers: i64 = connection.publish(channel, payload).await?;
        Ok(())
    }

    /// Subscribes to `channel` and calls `on_message` for every payload, re-subscribing after
    /// errors; runs until the process ends. `subscribed` fires after the first successful
    /// subscription.
    pub async fn subscribe_forever(
        &self,
        channel: &str,
        on_message: impl Fn(String),
        subscribed: tokio::sync::oneshot::Sender<()>,
    ) {
        let mut subscribed = Some(subscribed);
        let first_pause = Duration::from_millis(250);
        let mut backoff = first_pause;
        loop {
            let mut was_subscribed = false;
            let outcome = self
                .subscribe_once(channel, &on_message, &mut subscribed, &mut was_subscribed)
                .await;
            match outcome {
                Ok(()) => tracing::warn!("redis subscription ended; re-subscribing"),
                Err(error) => tracing::warn!(%error, "redis subscription lost; re-subscribing"),
            }
            if was_subscribed {
                backoff = first_pause;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn subscribe_once(
        &self,
        channel: &str,
        on_message: &impl Fn(String),
        subscribed: &mut Option<tokio::sync::oneshot::Sender<()>>,
        was_subscribed: &mut bool,
    ) -> redis::RedisResult<()> {
        let timed_out =
            || redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let mut pubsub = tokio::time::timeout(TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| timed_out())??;
        tokio::time::timeout(TIMEOUT, pubsub.subscribe(channel))
            .await
            .map_err(|_| timed_out())??;
        *was_subscribed = true;
        if let Some(subscribed) = subscribed.take() {
            let _ = subscribed.send(());
        }
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            match message.get_payload::<String>() {
                Ok(payload) => on_message(payload),
                Err(error) => tracing::warn!(%error, "unreadable redis message"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_without_connecting() {
        assert!(Redis::open("redis://127.0.0.1:6379/0").is_ok());
        assert!(Redis::open("redis://:s3cret@cache").is_ok());
        assert!(Redis::open("http://x").is_err());
    }

    #[test]
    fn debug_output_hides_the_url() {
        let redis = Redis::open("redis://:s3cret@cache").expect("url");
        assert!(!format!("{redis:?}").contains("s3cret"));
    }
}
