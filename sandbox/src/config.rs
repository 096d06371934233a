//! Run-time configuration of a sandbox: the CLI and the library build one of these.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;
use crate::products::Product;
use crate::streams::StreamId;

/// The API key the sandbox accepts when none is configured.
pub const DEFAULT_API_KEY: &str = "sandbox-api-key-0123456789";

/// Everything that shapes one sandbox run.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of all generated data and of the fault dice.
    pub seed: u64,
    /// Number of trackings; the other streams scale from it (see README).
    pub records: usize,
    /// The only `as-api-key` value accepted.
    pub api_key: String,
    /// Added delay on every API request.
    pub latency_ms: u64,
    /// Enforce the documented rate limits.
    pub rate_limit: bool,
    /// Faults to inject.
    pub faults: Vec<FaultSpec>,
    /// Products that answer 403 to every request.
    pub deny: Vec<Product>,
    /// Per-stream record counts that override the ratios.
    pub counts: BTreeMap<String, usize>,
    /// The instant the data is generated relative to (default: now, whole seconds).
    /// Two sandboxes with the same seed and anchor serve the same bytes.
    pub anchor: Option<DateTime<Utc>>,
    /// Days of history the generated records' creation times spread over (400 by
    /// default, so retention windows matter; 120 puts every tracking inside the
    /// window the API serves, which large benchmarks want).
    pub history_days: u32,
    /// Stream name → the largest `limit` its endpoint accepts, for the streams whose
    /// maximum should be lower than the sandbox's (or, where AfterShip documents none —
    /// stores and the Shipping lists — different). Streams not listed keep theirs.
    /// See [`check_max_limit`].
    pub max_limits: BTreeMap<String, u64>,
    /// Fulfillments refuse any query parameter besides `order_id` or `ids[]` (`page`
    /// and `limit` included), the strict reading of "All other parameters should be
    /// omitted" (fact sheet §8). Changeable at run time.
    pub fulfillments_order_id_only: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            seed: 42,
            records: 1000,
            api_key: DEFAULT_API_KEY.to_string(),
            latency_ms: 0,
            rate_limit: true,
            faults: Vec::new(),
            deny: Vec::new(),
            counts: BTreeMap::new(),
            anchor: None,
            history_days: 400,
            max_limits: BTreeMap::new(),
            fulfillments_order_id_only: false,
        }
    }
}

impl SandboxConfig {
    /// Check what a struct literal can get wrong (the CLI checks the same as it
    /// parses). [`crate::Sandbox::start`] refuses a configuration that fails this.
    pub fn validate(&self) -> Result<(), String> {
        self.max_limits_by_stream().map(|_| ())
    }

    /// `max_limits`, checked, by stream.
    pub(crate) fn max_limits_by_stream(&self) -> Result<BTreeMap<StreamId, u64>, String> {
        self.max_limits
            .iter()
            .map(|(k, &n)| check_max_limit(k, n).map(|s| (s, n)))
            .collect()
    }
}

/// Check one `max_limits` entry (`--max-limit STREAM=N`): the stream's endpoint takes
/// `limit`, `N` ≥ 1, and where AfterShip documents the maximum, `N` does not exceed
/// it (the sandbox never accepts a page size the docs refuse; only the undocumented
/// stores and Shipping maxima may also be raised).
pub fn check_max_limit(stream: &str, n: u64) -> Result<StreamId, String> {
    let s = StreamId::parse(stream).ok_or_else(|| format!("unknown stream {stream:?}"))?;
    let ps = s
        .page_size()
        .ok_or_else(|| format!("{stream} takes no `limit` parameter"))?;
    if n == 0 {
        return Err(format!("the maximum limit of {stream} must be at least 1"));
    }
    if ps.documented && n > ps.max {
        return Err(format!(
            "{stream}'s documented maximum limit is {}; a maximum of {n} would accept what AfterShip refuses",
            ps.max
        ));
    }
    Ok(s)
}

/// The part of the configuration that `/__sandbox/config` reads and changes at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeSettings {
    pub rate_limit: bool,
    pub latency_ms: u64,
    pub deny: Vec<Product>,
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub fulfillments_order_id_only: bool,
}

/// A partial update of [`RuntimeSettings`] (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeUpdate {
    pub rate_limit: Option<bool>,
    pub latency_ms: Option<u64>,
    pub deny: Option<Vec<Product>>,
    pub faults: Option<Vec<FaultSpec>>,
    pub fulfillments_order_id_only: Option<bool>,
}

impl RuntimeSettings {
    pub fn apply(&mut self, update: RuntimeUpdate) {
        if let Some(v) = update.rate_limit {
            self.rate_limit = v;
        }
        if let Some(v) = update.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = update.deny {
            self.deny = v;
        }
        if let Some(v) = update.faults {
            self.faults = v;
        }
        if let Some(v) = update.fulfillments_order_id_only {
            self.fulfillments_order_id_only = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_limits_are_checked() {
        assert_eq!(check_max_limit("trackings", 50), Ok(StreamId::Trackings));
        assert_eq!(check_max_limit("trackings", 200), Ok(StreamId::Trackings));
        assert!(
            check_max_limit("trackings", 201).is_err(),
            "documented maximum"
        );
        assert!(check_max_limit("query_claims", 21).is_err());
        assert_eq!(check_max_limit("stores", 500), Ok(StreamId::Stores));
        assert_eq!(
            check_max_limit("shipping_labels", 250),
            Ok(StreamId::ShippingLabels)
        );
        assert!(check_max_limit("nope", 5).is_err());
        assert!(check_max_limit("orders", 0).is_err());
        for whole in [
            "couriers",
            "item_tags",
            "roles",
            "shipping_couriers",
            "locations",
        ] {
            assert!(check_max_limit(whole, 5).is_err(), "{whole}");
        }
        let cfg = SandboxConfig {
            max_limits: [("trackings".to_string(), 0)].into_iter().collect(),
            ..SandboxConfig::default()
        };
        assert!(cfg.validate().is_err());
        assert!(SandboxConfig::default().validate().is_ok());
    }
}
