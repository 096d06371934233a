//! AfterShip over HTTP: [`client`] sends (key header, pacing, retries),
//! [`error`] turns each product's error envelope into a typed error, [`limits`]
//! paces requests per product and endpoint.

pub mod client;
pub mod error;
pub mod limits;

pub use client::{Client, Request, Stats};
pub use error::ApiError;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set on SIGTERM/SIGINT: no new request starts, waits end early. One per run,
/// shared by the signal handler and the clients.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
