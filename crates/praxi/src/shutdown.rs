//! Graceful shutdown: SIGTERM (systemd, containers) or Ctrl-C stops accepting connections,
//! lets in-flight requests finish and ends the live event streams; whatever still runs after
//! the grace period is abandoned so the process always exits.

use std::time::Duration;

use tokio::sync::watch;

/// A signal that flips once when the process is asked to stop.
#[derive(Debug, Clone)]
pub(crate) struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Starts listening for SIGTERM and Ctrl-C.
    pub(crate) fn listen() -> Stop {
        let (sender, receiver) = watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = sender.send(true);
        });
        Stop(receiver)
    }

    /// Resolves once a stop was requested.
    pub(crate) async fn requested(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Resolves `grace` after a stop was requested (the hard deadline).
    pub(crate) async fn deadline(self, grace: Duration) {
        self.requested().await;
        tokio::time::sleep(grace).await;
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
