//! `check`: one cheap request per AfterShip API product, concurrently: one record
//! of the list the table marks as the product's probe.
//!
//! A wrong key or a refused request is a FAILED connection status (the user has
//! something to fix); an outage (no connection, timeouts, 5xx after the retries)
//! is a `transient_error`, so that Airbyte does not show it as a bad config.

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

/// What `check` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// A CONNECTION_STATUS: (succeeded, message).
    Status(bool, String),
    /// AfterShip could not be reached: a TRACE ERROR `transient_error`, exit 1.
    Unreachable(String),
}

pub async fn check(config: &Config, stop: Stop, out: Arc<Output>) -> Checked {
    let mut config = config.clone();
    config.max_retries = config.max_retries.min(2);
    let client = match Client::new(&config, stop, out) {
        Ok(c) => c,
        Err(e) => return Checked::Status(false, e),
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
        stream: None,
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

pub fn summarize(results: &[(Product, Probe)]) -> Checked {
    if let Some((_, Probe::Failed(e))) = results
        .iter()
        .find(|(_, p)| matches!(p, Probe::Failed(ApiError::Unauthorized { .. })))
    {
        return Checked::Status(
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
    let outage = results.iter().any(|(_, r)| {
        matches!(
            r,
            Probe::Failed(ApiError::Exhausted { .. } | ApiError::Interrupted)
        )
    });
    if outage {
        return Checked::Unreachable(format!(
            "Could not reach AfterShip (a network failure, a timeout or a server error; try again later): {}",
            failed.join("; ")
        ));
    }
    if !failed.is_empty() {
        return Checked::Status(
            false,
            format!("AfterShip refused the check: {}", failed.join("; ")),
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
        return Checked::Status(
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
    Checked::Status(true, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted() -> Probe {
        Probe::Failed(ApiError::Exhausted {
            product: Product::Returns,
            path: "/returns/2025-07/returns",
            attempts: 3,
            last: "HTTP 503".into(),
        })
    }

    #[test]
    fn an_outage_is_unreachable_and_a_bad_key_a_failed_status() {
        let got = summarize(&[
            (Product::Tracking, Probe::Ok),
            (Product::Returns, exhausted()),
        ]);
        assert!(
            matches!(&got, Checked::Unreachable(m) if m.contains("Returns") && m.contains("HTTP 503")),
            "{got:?}"
        );
        let bad_key = Probe::Failed(ApiError::Unauthorized {
            product: Product::Tracking,
            message: "Invalid API key.".into(),
        });
        let got = summarize(&[
            (Product::Tracking, bad_key),
            (Product::Returns, exhausted()),
        ]);
        assert!(matches!(got, Checked::Status(false, _)), "{got:?}");
        let refused = Probe::Failed(ApiError::Refused {
            product: Product::Shipping,
            status: 400,
            code: Some(4104),
            message: "bad".into(),
        });
        let got = summarize(&[(Product::Tracking, Probe::Ok), (Product::Shipping, refused)]);
        assert!(matches!(got, Checked::Status(false, _)), "{got:?}");
        let got = summarize(&[(Product::Tracking, Probe::Ok)]);
        assert!(matches!(got, Checked::Status(true, _)), "{got:?}");
    }
}
