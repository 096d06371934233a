//! Run-time configuration of a sandbox: the CLI and the library build one of these.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;
use crate::products::Product;

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
        }
    }
}

/// The part of the configuration that `/__sandbox/config` reads and changes at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeSettings {
    pub rate_limit: bool,
    pub latency_ms: u64,
    pub deny: Vec<Product>,
    pub faults: Vec<FaultSpec>,
}

/// A partial update of [`RuntimeSettings`] (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeUpdate {
    pub rate_limit: Option<bool>,
    pub latency_ms: Option<u64>,
    pub deny: Option<Vec<Product>>,
    pub faults: Option<Vec<FaultSpec>>,
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
    }
}
