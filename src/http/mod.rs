//! AfterShip over HTTP: [`client`] sends (key header, pacing, retries, bounded
//! bodies), [`error`] turns each product's error envelope into a typed error,
//! [`limits`] paces requests per product and endpoint.

pub mod client;
pub mod error;
pub mod limits;

pub use client::{Client, Request, Stats};
pub use error::ApiError;

use std::sync::Arc;
use tokio::sync::watch;

/// Set on SIGTERM/SIGINT or when stdout's reader has gone: no new request starts,
/// and every request in flight and every wait ends at once ([`Stop::stopped`]).
/// One per run, shared by the signal handler, the stdout writer and the clients.
#[derive(Debug, Clone)]
pub struct Stop(Arc<watch::Sender<bool>>);

impl Default for Stop {
    fn default() -> Self {
        Stop(Arc::new(watch::Sender::new(false)))
    }
}

impl Stop {
    pub fn set(&self) {
        self.0.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop is set (at once if it already is): race it against
    /// anything that may take long.
    pub async fn stopped(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn stopped_wakes_every_waiter_and_resolves_at_once_after() {
        let stop = Stop::default();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = stop.clone();
                tokio::spawn(async move { s.stopped().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!stop.is_set());
        stop.set();
        for w in waiters {
            tokio::time::timeout(Duration::from_secs(5), w)
                .await
                .expect("a waiter was not woken")
                .unwrap();
        }
        tokio::time::timeout(Duration::from_secs(5), stop.stopped())
            .await
            .expect("stopped() after set must resolve at once");
    }
}
