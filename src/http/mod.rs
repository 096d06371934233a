//! AfterShip over HTTP: [`client`] sends (key header, pacing, retries),
//! [`error`] turns each product's error envelope into a typed error, [`limits`]
//! paces requests per product and endpoint.

pub mod client;
pub mod error;
pub mod limits;

pub use client::{Client, Request, Stats};
pub use error::ApiError;

use std::sync::atomic::{AtomicBool, Ordering};

/// Set on SIGTERM/SIGINT: no new request starts, waits end early.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
