//! The connector's spec (connectionSpecification) and config validation.
//!
//! A config file is checked twice: against our own spec with the jsonschema crate,
//! then semantically (dates parse, the base URL's scheme/host rule). Every failure
//! is one message naming the file and the field; the API key is never echoed.

use crate::input;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Airbyte's documentation address for source-aftership (docs/aftership.md is the page).
pub const DOCUMENTATION_URL: &str = "https://docs.airbyte.com/integrations/sources/aftership";
pub const DEFAULT_BASE_URL: &str = "https://api.aftership.com";

/// One carrier drop-off location search (the `locations` stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationSearch {
    /// Query parameters, in a fixed order: slug first, then the address fields given.
    pub params: Vec<(String, String)>,
}

/// A validated config. `Debug` never shows the API key.
#[derive(Clone)]
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
    /// Pass carrier account credentials through instead of withholding them.
    pub include_carrier_credentials: bool,
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
            .field(
                "include_carrier_credentials",
                &self.include_carrier_credentials,
            )
            .finish()
    }
}

const LOCATION_FIELDS: [(&str, &str); 6] = [
    (
        "slug",
        "Carrier slug (e.g. `fedex`, `ups`) whose drop-off locations to search.",
    ),
    (
        "country",
        "ISO 3166-1 alpha-3 country code of the address to search around.",
    ),
    (
        "postal_code",
        "Postal code of the address to search around.",
    ),
    ("city", "City of the address to search around."),
    (
        "state",
        "State or province of the address to search around.",
    ),
    ("street", "Street line of the address to search around."),
];

/// The connectionSpecification (JSON Schema draft-07).
pub fn connection_specification() -> Value {
    let mut search_props = serde_json::Map::new();
    for (i, (name, desc)) in LOCATION_FIELDS.iter().enumerate() {
        search_props.insert(
            (*name).to_string(),
            json!({"type": "string", "title": title_case(name), "description": desc, "order": i, "minLength": 1}),
        );
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "AfterShip Source Spec",
        "type": "object",
        "required": ["api_key", "start_date"],
        "additionalProperties": true,
        "groups": [{"id": "auth", "title": "Authentication"}, {"id": "advanced", "title": "Advanced"}],
        "properties": {
            "api_key": {
                "type": "string",
                "title": "API Key",
                "description": "AfterShip API key (Admin → Settings → API keys) with read permission for the AfterShip products you want to sync. Sent only in the `as-api-key` header.",
                "airbyte_secret": true,
                "minLength": 1,
                "order": 0,
                "group": "auth"
            },
            "start_date": {
                "type": "string",
                "title": "Start Date",
                "description": "UTC date and time in RFC 3339 format. Records whose cursor (updated_at, or created_at where that is the only filter) is older are not replicated. AfterShip itself serves trackings only for 120 days and returns for 365 days; an older start date is fine.",
                "format": "date-time",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
                "pattern_descriptor": "YYYY-MM-DDTHH:mm:ssZ",
                "examples": ["2025-01-01T00:00:00Z", "2025-06-30T12:00:00+08:00"],
                "order": 1
            },
            "api_base_url": {
                "type": "string",
                "title": "API Base URL",
                "description": "Base URL of the AfterShip API. Leave the default; `http://` is accepted only for loopback hosts (local testing), so the key never travels in clear over a network.",
                "default": DEFAULT_BASE_URL,
                "pattern": "^https?://",
                "examples": [DEFAULT_BASE_URL],
                "order": 2,
                "group": "advanced"
            },
            "request_timeout_seconds": {
                "type": "integer",
                "title": "Request Timeout (seconds)",
                "description": "How long one HTTP request may take before it is retried.",
                "default": 60, "minimum": 1, "maximum": 600,
                "order": 3,
                "group": "advanced"
            },
            "page_size": {
                "type": "integer",
                "title": "Page Size",
                "description": "Records per page. Unset means the largest size each AfterShip API allows (200 for Tracking, 50 for Returns and Commerce, 20 for Protection, …); a larger value is capped at that maximum.",
                "minimum": 1, "maximum": 200,
                "order": 4,
                "group": "advanced"
            },
            "max_concurrent_requests": {
                "type": "integer",
                "title": "Max Concurrent Requests",
                "description": "Upper bound on HTTP requests in flight across all streams. Each AfterShip API's rate limit is respected regardless.",
                "default": 10, "minimum": 1, "maximum": 64,
                "order": 5,
                "group": "advanced"
            },
            "max_retries": {
                "type": "integer",
                "title": "Max Retries",
                "description": "Retries of one request after a 429, a 5xx, a timeout or a broken connection, with exponential backoff and jitter.",
                "default": 6, "minimum": 0, "maximum": 20,
                "order": 6,
                "group": "advanced"
            },
            "max_requests_per_second": {
                "type": "integer",
                "title": "Requests per Second (override)",
                "description": "Leave unset to pace each AfterShip API at its documented rate limit (GET /trackings 6/s, other Tracking endpoints 5/s, Returns, Protection, Commerce, Members and Shipping 10/s each), lowered or raised to the limit the server announces in its rate-limit headers. Set it only for a plan with different limits or a local test server.",
                "minimum": 1, "maximum": 100000,
                "order": 11,
                "group": "advanced"
            },
            "shipping_lookback_days": {
                "type": "integer",
                "title": "Shipping Lookback Window (days)",
                "description": "The Shipping API filters only on created_at. An incremental sync asks for records created since the saved cursor minus this window and keeps those updated since the cursor, so updates to records created up to this many days earlier are caught.",
                "default": 7, "minimum": 0, "maximum": 365,
                "order": 7,
                "group": "advanced"
            },
            "slice_days": {
                "type": "integer",
                "title": "Incremental Slice (days)",
                "description": "Incremental reads of trackings and the Shipping streams walk time windows of this size in ascending order and save state after each window.",
                "default": 7, "minimum": 1, "maximum": 365,
                "order": 8,
                "group": "advanced"
            },
            "locations_searches": {
                "type": "array",
                "title": "Location Searches",
                "description": "The `locations` stream is AfterShip's carrier drop-off location search. List the searches to run; when empty, searches are derived from your shipper accounts' carriers and addresses.",
                "items": {
                    "type": "object",
                    "required": ["slug"],
                    "additionalProperties": true,
                    "properties": search_props
                },
                "order": 9,
                "group": "advanced"
            },
            "fulfillments_scan_all_orders": {
                "type": "boolean",
                "title": "Fulfillments: Scan All Orders",
                "description": "Incremental fulfillments are fetched for the orders updated since the fulfillments cursor and the orders created within the lookback window. Turn this on to fetch the fulfillments of every order on each sync (one request per order).",
                "default": false,
                "order": 10,
                "group": "advanced"
            },
            "fulfillments_lookback_days": {
                "type": "integer",
                "title": "Fulfillments Lookback Window (days)",
                "description": "AfterShip does not document that a fulfillment's change (processing → shipped, ready for pickup → picked up) moves its order's updated_at. Incremental syncs therefore also re-read the fulfillments of every order created in this many recent days. It costs one request per such order at Commerce's 10 requests/s (100 orders a day: 700 requests, about 70 s, per sync with the default); 0 turns it off.",
                "default": 7, "minimum": 0, "maximum": 90,
                "order": 12,
                "group": "advanced"
            },
            "include_carrier_credentials": {
                "type": "boolean",
                "title": "Include Carrier Credentials",
                "description": "Courier connections carry the credentials of your carrier accounts (account numbers, API keys, passwords). By default every value under `credentials` is replaced by null before it leaves the connector (the field names are kept, so you see which credentials exist). Turn this on only if the destination may hold these secrets in clear text: they are then copied as AfterShip returns them.",
                "default": false,
                "airbyte_secret": false,
                "order": 13,
                "group": "advanced"
            }
        }
    })
}

fn title_case(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SPEC payload.
pub fn spec() -> Value {
    json!({
        "documentationUrl": DOCUMENTATION_URL,
        "changelogUrl": DOCUMENTATION_URL,
        "protocol_version": "0.2.0",
        "connectionSpecification": connection_specification(),
    })
}

/// Load and validate the config file at `path`.
pub fn load(path: &Path) -> Result<Config, String> {
    let value = input::read_json_file(path, "config")?;
    parse(&value).map_err(|e| format!("Invalid config file {}: {e}", path.display()))
}

/// Validate a parsed config value.
pub fn parse(value: &Value) -> Result<Config, String> {
    // No message of this function may echo the key, whatever else is wrong.
    let key = value
        .get("api_key")
        .and_then(Value::as_str)
        .filter(|k| k.len() >= 4);
    let redact = |text: &str| match key {
        Some(k) => text.replace(k, "**********"),
        None => text.to_string(),
    };
    if !value.is_object() {
        return Err("the config must be a JSON object".into());
    }
    let schema = connection_specification();
    let validator = jsonschema::draft7::new(&schema)
        .map_err(|e| format!("internal error: the spec is not a valid schema: {e}"))?;
    if let Some(err) = validator.iter_errors(value).next() {
        let field = err.instance_path().to_string();
        let field = field.trim_start_matches('/').replace('/', ".");
        let detail = if field == "api_key" || field.starts_with("api_key.") {
            "must be a non-empty string".to_string()
        } else if field == "start_date" {
            format!(
                "must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z, got {}",
                redact(&err.instance().to_string())
            )
        } else {
            redact(&err.to_string())
        };
        return Err(if field.is_empty() {
            detail
        } else {
            format!("field `{field}`: {detail}")
        });
    }
    let obj = value
        .as_object()
        .ok_or("the config must be a JSON object")?;
    let get_u64 = |k: &str, d: u64| obj.get(k).and_then(Value::as_u64).unwrap_or(d);

    let api_key = obj
        .get("api_key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if api_key.trim().is_empty() {
        return Err("field `api_key`: must be a non-empty string".into());
    }
    if api_key.chars().any(|c| c.is_control()) {
        return Err("field `api_key`: contains control characters".into());
    }
    let start_raw = obj
        .get("start_date")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let start_date = crate::time::parse_instant(start_raw).ok_or_else(|| {
        format!("field `start_date`: '{start_raw}' is not an RFC 3339 date-time such as 2025-01-01T00:00:00Z")
    })?;
    let base_raw = obj
        .get("api_base_url")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_BASE_URL);
    let base_url = parse_base_url(base_raw)?;
    let mut locations_searches = Vec::new();
    if let Some(list) = obj.get("locations_searches").and_then(Value::as_array) {
        for (i, item) in list.iter().enumerate() {
            let mut params = Vec::new();
            for (name, _) in LOCATION_FIELDS {
                if let Some(v) = item.get(name).and_then(Value::as_str) {
                    params.push((name.to_string(), v.to_string()));
                }
            }
            if params.len() < 2 {
                return Err(format!(
                    "field `locations_searches.{i}`: give the carrier `slug` and at least one address field (country, postal_code, city, state or street)"
                ));
            }
            locations_searches.push(LocationSearch { params });
        }
    }
    Ok(Config {
        api_key,
        start_date,
        base_url,
        request_timeout: Duration::from_secs(get_u64("request_timeout_seconds", 60)),
        page_size: obj
            .get("page_size")
            .and_then(Value::as_u64)
            .map(|v| v as u32),
        max_concurrent_requests: get_u64("max_concurrent_requests", 10) as usize,
        max_retries: get_u64("max_retries", 6) as u32,
        max_requests_per_second: obj
            .get("max_requests_per_second")
            .and_then(Value::as_u64)
            .map(|v| v as u32),
        shipping_lookback: chrono::Duration::days(get_u64("shipping_lookback_days", 7) as i64),
        slice: chrono::Duration::days(get_u64("slice_days", 7) as i64),
        locations_searches,
        fulfillments_scan_all_orders: obj
            .get("fulfillments_scan_all_orders")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        fulfillments_lookback: chrono::Duration::days(
            get_u64("fulfillments_lookback_days", 7) as i64
        ),
        include_carrier_credentials: obj
            .get("include_carrier_credentials")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// `https://` anywhere; `http://` only for loopback hosts.
fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim())
        .map_err(|e| format!("field `api_base_url`: '{raw}' is not a URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "field `api_base_url`: '{raw}' must not carry a query or fragment"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("field `api_base_url`: must not contain credentials".into());
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" if !host.is_empty() => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => Err(format!(
            "field `api_base_url`: plain http:// is accepted only for loopback hosts (127.0.0.1, ::1, localhost), not '{host}': use https://"
        )),
        other => Err(format!(
            "field `api_base_url`: scheme '{other}' is not supported; use https://"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        json!({"api_key": "k-123456789", "start_date": "2025-01-01T00:00:00Z"})
    }

    #[test]
    fn accepts_minimal_config_with_defaults() {
        let c = parse(&good()).unwrap();
        assert_eq!(c.base_url.as_str(), "https://api.aftership.com/");
        assert_eq!(c.max_concurrent_requests, 10);
        assert_eq!(c.fulfillments_lookback, chrono::Duration::days(7));
        assert!(
            !c.include_carrier_credentials,
            "carrier secrets stay at AfterShip"
        );
        assert!(format!("{c:?}").contains("**********"));
        assert!(!format!("{c:?}").contains("k-123456789"));
    }

    #[test]
    fn rejects_missing_and_wrong_fields_by_name() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("start_date");
        assert!(parse(&v).unwrap_err().contains("start_date"));
        let mut v = good();
        v["start_date"] = json!("2025-13-01T00:00:00Z");
        assert!(parse(&v).unwrap_err().contains("start_date"));
        let mut v = good();
        v["api_key"] = json!(12345678);
        let e = parse(&v).unwrap_err();
        assert!(e.contains("api_key") && !e.contains("12345678"), "{e}");
        let mut v = good();
        v["max_concurrent_requests"] = json!(0);
        assert!(parse(&v).unwrap_err().contains("max_concurrent_requests"));
        for bad in [json!(0), json!(100_001), json!("fast"), json!(2.5)] {
            let mut v = good();
            v["max_requests_per_second"] = bad.clone();
            let e = parse(&v).unwrap_err();
            assert!(e.contains("max_requests_per_second"), "{bad}: {e}");
        }
        let mut v = good();
        v["max_requests_per_second"] = json!(100);
        assert_eq!(parse(&v).unwrap().max_requests_per_second, Some(100));
    }

    #[test]
    fn http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://api.aftership.com",
        ] {
            let mut v = good();
            v["api_base_url"] = json!(ok);
            assert!(parse(&v).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.aftership.com",
            "http://10.0.0.1",
            "ftp://x",
            "not a url",
        ] {
            let mut v = good();
            v["api_base_url"] = json!(bad);
            assert!(parse(&v).unwrap_err().contains("api_base_url"), "{bad}");
        }
    }

    #[test]
    fn unknown_fields_are_tolerated() {
        let mut v = good();
        v["something_new"] = json!({"x": 1});
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn location_searches_need_an_address() {
        let mut v = good();
        v["locations_searches"] = json!([{"slug": "fedex"}]);
        assert!(parse(&v).unwrap_err().contains("locations_searches.0"));
        v["locations_searches"] =
            json!([{"slug": "fedex", "country": "USA", "postal_code": "10001"}]);
        let c = parse(&v).unwrap();
        assert_eq!(c.locations_searches[0].params[0].0, "slug");
    }
}
