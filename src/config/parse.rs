//! Validating a config value: against our own spec with the jsonschema crate,
//! then read by serde (missing fields take their defaults) and checked
//! semantically (dates parse, the base URL's scheme/host rule, searches with an
//! address). Every failure is one message naming the field; the API key is never
//! echoed.

use super::file::ConfigFile;
use super::spec::connection_specification;
use super::{Config, LocationSearch};
use reqwest::Url;
use serde_json::Value;
use std::net::IpAddr;
use std::time::Duration;

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
    against_spec(value, &redact)?;
    let file: ConfigFile = serde_json::from_value(value.clone()).map_err(|e| {
        format!(
            "the config does not fit its spec: {}",
            redact(&e.to_string())
        )
    })?;
    checked(file)
}

/// The first way `value` breaks the spec, naming the field.
fn against_spec(value: &Value, redact: &dyn Fn(&str) -> String) -> Result<(), String> {
    let schema = connection_specification();
    let validator = jsonschema::draft7::new(&schema)
        .map_err(|e| format!("internal error: the spec is not a valid schema: {e}"))?;
    let Some(err) = validator.iter_errors(value).next() else {
        return Ok(());
    };
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
    Err(if field.is_empty() {
        detail
    } else {
        format!("field `{field}`: {detail}")
    })
}

/// The typed config of a file the spec accepted, or what is wrong with it.
fn checked(f: ConfigFile) -> Result<Config, String> {
    if f.api_key.trim().is_empty() {
        return Err("field `api_key`: must be a non-empty string".into());
    }
    if f.api_key.chars().any(|c| c.is_control()) {
        return Err("field `api_key`: contains control characters".into());
    }
    let start_date = crate::time::parse_instant(&f.start_date).ok_or_else(|| {
        format!(
            "field `start_date`: '{}' is not an RFC 3339 date-time such as 2025-01-01T00:00:00Z",
            f.start_date
        )
    })?;
    let base_url = parse_base_url(&f.api_base_url)?;
    let mut locations_searches = Vec::new();
    for (i, search) in f.locations_searches.iter().enumerate() {
        let params = search.params();
        if params.len() < 2 {
            return Err(format!(
                "field `locations_searches.{i}`: give the carrier `slug` and at least one address field (country, postal_code, city, state or street)"
            ));
        }
        locations_searches.push(LocationSearch { params });
    }
    let days = |d: u32| chrono::Duration::days(i64::from(d));
    Ok(Config {
        api_key: f.api_key,
        start_date,
        base_url,
        request_timeout: Duration::from_secs(f.request_timeout_seconds),
        page_size: f.page_size,
        max_concurrent_requests: f.max_concurrent_requests,
        max_retries: f.max_retries,
        max_requests_per_second: f.max_requests_per_second,
        shipping_lookback: days(f.shipping_lookback_days),
        slice: days(f.slice_days),
        locations_searches,
        fulfillments_scan_all_orders: f.fulfillments_scan_all_orders,
        fulfillments_lookback: days(f.fulfillments_lookback_days),
        orders_reconcile: days(f.orders_reconcile_days),
        include_carrier_credentials: f.include_carrier_credentials,
        max_response_bytes: u64::from(f.max_response_mb) << 20,
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
    use serde_json::json;

    fn good() -> Value {
        json!({"api_key": "k-123456789", "start_date": "2025-01-01T00:00:00Z"})
    }

    /// Each `default` the spec publishes is what serde gives a missing field: a
    /// config that spells every default out parses to the minimal config's
    /// `Config`, field by field, and another value of the field changes it.
    #[test]
    fn every_default_in_the_spec_is_what_a_missing_field_gets() {
        let minimal = parse(&good()).unwrap();
        let spec = connection_specification();
        let props = spec["properties"].as_object().unwrap();
        let mut defaulted = Vec::new();
        for (name, prop) in props {
            let Some(default) = prop.get("default") else {
                continue;
            };
            let mut v = good();
            v[name] = default.clone();
            let spelled_out = parse(&v).unwrap_or_else(|e| panic!("`{name}`: {e}"));
            assert!(
                spelled_out == minimal,
                "`{name}`: the spec's default {default} is not what a missing field gets:\n{spelled_out:?}\nvs\n{minimal:?}"
            );
            v[name] = match default {
                Value::Bool(b) => json!(!b),
                Value::Number(n) => {
                    let n = n.as_u64().unwrap();
                    let max = prop["maximum"].as_u64().unwrap();
                    json!(if n < max { n + 1 } else { n - 1 })
                }
                _ => json!("http://127.0.0.1:1"),
            };
            assert!(parse(&v).unwrap() != minimal, "`{name}` is not read");
            defaulted.push(name.as_str());
        }
        defaulted.sort_unstable();
        assert_eq!(
            defaulted,
            [
                "api_base_url",
                "fulfillments_lookback_days",
                "fulfillments_scan_all_orders",
                "include_carrier_credentials",
                "max_concurrent_requests",
                "max_response_mb",
                "max_retries",
                "orders_reconcile_days",
                "request_timeout_seconds",
                "shipping_lookback_days",
                "slice_days",
            ]
        );
        // The optional fields without a default are unset.
        assert_eq!(minimal.page_size, None);
        assert_eq!(minimal.max_requests_per_second, None);
        assert!(minimal.locations_searches.is_empty());
    }

    #[test]
    fn integers_written_with_a_zero_fraction_count() {
        let mut v = good();
        v["request_timeout_seconds"] = json!(30.0);
        let c = parse(&v).unwrap();
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        v["request_timeout_seconds"] = json!(30.5);
        assert!(parse(&v).unwrap_err().contains("request_timeout_seconds"));
    }

    #[test]
    fn accepts_minimal_config_with_defaults() {
        let c = parse(&good()).unwrap();
        assert_eq!(c.base_url.as_str(), "https://api.aftership.com/");
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
