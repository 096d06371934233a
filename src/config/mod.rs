//! The connector's config: the spec it is validated against (`spec.rs`), the
//! file's fields and their defaults as serde reads them (`file.rs`), the
//! validation (`parse.rs`), and here the typed `Config` the rest of the
//! connector uses.
//!
//! A config file is checked twice: against our own spec with the jsonschema crate,
//! then semantically (dates parse, the base URL's scheme/host rule). Every failure
//! is one message naming the file and the field; the API key is never echoed.

mod file;
mod parse;
mod spec;

pub use parse::parse;
pub use spec::{DOCUMENTATION_URL, connection_specification, spec};

use crate::input;
use chrono::{DateTime, Utc};
use reqwest::Url;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.aftership.com";

/// One carrier drop-off location search (the `locations` stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationSearch {
    /// Query parameters, in a fixed order: slug first, then the address fields given.
    pub params: Vec<(String, String)>,
}

/// A validated config. `Debug` never shows the API key.
#[derive(Clone, PartialEq)]
pub struct Config {
    pub api_key: String,
    pub start_date: DateTime<Utc>,
    pub base_url: Url,
    pub request_timeout: Duration,
    pub page_size: Option<u32>,
    pub max_concurrent_requests: usize,
    pub max_retries: u32,
    /// Replaces AfterShip's documented per-API request rates when set.
    pub max_requests_per_second: Option<u32>,
    pub shipping_lookback: chrono::Duration,
    pub slice: chrono::Duration,
    pub locations_searches: Vec<LocationSearch>,
    pub fulfillments_scan_all_orders: bool,
    /// Incremental fulfillments also re-read the orders created this recently.
    pub fulfillments_lookback: chrono::Duration,
    /// An incremental read of a sorted per-store list (orders, and the orders
    /// whose fulfillments are read) walks the store's whole list when its last
    /// whole walk began this long ago or more.
    pub orders_reconcile: chrono::Duration,
    /// Pass carrier account credentials through instead of withholding them.
    pub include_carrier_credentials: bool,
    /// The most bytes one response body may hold, counted after decompression.
    pub max_response_bytes: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &"**********")
            .field("start_date", &self.start_date)
            .field("base_url", &self.base_url.as_str())
            .field("request_timeout", &self.request_timeout)
            .field("page_size", &self.page_size)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("max_retries", &self.max_retries)
            .field("max_requests_per_second", &self.max_requests_per_second)
            .field("shipping_lookback", &self.shipping_lookback)
            .field("slice", &self.slice)
            .field("locations_searches", &self.locations_searches)
            .field(
                "fulfillments_scan_all_orders",
                &self.fulfillments_scan_all_orders,
            )
            .field("fulfillments_lookback", &self.fulfillments_lookback)
            .field("orders_reconcile", &self.orders_reconcile)
            .field(
                "include_carrier_credentials",
                &self.include_carrier_credentials,
            )
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// Load and validate the config file at `path`.
pub fn load(path: &Path) -> Result<Config, String> {
    let value = input::read_json_file(path, "config")?;
    parse(&value).map_err(|e| format!("Invalid config file {}: {e}", path.display()))
}
