//! `check`: one cheap request per AfterShip API product, concurrently: one record
//! of the list the table marks as the product's probe.

use crate::config::Config;
use crate::http::{ApiError, Client, Request, Stop};
use crate::protocol::Output;
use crate::streams::{Product, STREAMS, StreamDef, probe_of};
use std::sync::Arc;

/// The outcome of one product's probe.
#[derive(Debug)]
pub enum Probe {
    Ok,
    Denied(String),
    Failed(ApiError),
}

/// Returns (succeeded, message) for the CONNECTION_STATUS.
pub async fn check(config: &Config, stop: Stop, out: Arc<Output>) -> (bool, String) {
    let mut config = config.clone();
    config.max_retries = config.max_retries.min(2);
    let client = match Client::new(&config, stop, out) {
        Ok(c) => c,
        Err(e) => return (false, e),
    };
    let rows = Product::ALL.into_iter().filter_map(probe_of);
    let results = futures_util::future::join_all(rows.map(|row| probe(&client, row))).await;
    summarize(&results)
}

/// One record of `row`'s list.
async fn probe(client: &Client, row: &'static StreamDef) -> (Product, Probe) {
    let product = row.product;
    let req = Request {
        product,
        path: row.path,
        query: row.probe_query(),
        headers: Vec::new(),
        rate: row.rate,
    };
    let result = client
        .get(&req, |body| {
            serde_json::from_slice::<serde::de::IgnoredAny>(&body)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
    let outcome = match result {
        Ok(()) => Probe::Ok,
        Err(ApiError::Forbidden { message, .. }) => Probe::Denied(message),
        Err(e) => Probe::Failed(e),
    };
    (product, outcome)
}

fn streams_of(product: Product) -> String {
    STREAMS
        .iter()
        .filter(|s| s.product == product)
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn summarize(results: &[(Product, Probe)]) -> (bool, String) {
    if let Some((_, Probe::Failed(e))) = results
        .iter()
        .find(|(_, p)| matches!(p, Probe::Failed(ApiError::Unauthorized { .. })))
    {
        return (
            false,
            format!(
                "{e}. The key was not echoed; create a key under AfterShip Admin → Settings → API keys."
            ),
        );
    }
    let failed: Vec<_> = results
        .iter()
        .filter_map(|(p, r)| match r {
            Probe::Failed(e) => Some(format!("{}: {e}", p.name())),
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        return (
            false,
            format!("Could not reach AfterShip: {}", failed.join("; ")),
        );
    }
    let ok: Vec<_> = results
        .iter()
        .filter(|(_, r)| matches!(r, Probe::Ok))
        .map(|(p, _)| p.name())
        .collect();
    let denied: Vec<_> = results
        .iter()
        .filter(|(_, r)| matches!(r, Probe::Denied(_)))
        .map(|(p, _)| format!("{} (streams skipped: {})", p.name(), streams_of(*p)))
        .collect();
    if ok.is_empty() {
        return (
            false,
            format!(
                "The API key has no permission for any AfterShip API: {}",
                denied.join("; ")
            ),
        );
    }
    let mut msg = format!("API key accepted. Reachable APIs: {}.", ok.join(", "));
    if !denied.is_empty() {
        msg.push_str(&format!(" No permission (403) for: {}.", denied.join("; ")));
    }
    (true, msg)
}
