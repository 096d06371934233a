//! The config file's fields as serde reads them, named as in the spec, and the
//! defaults of the optional ones. Each default is written once, in [`defaults`]:
//! serde fills a missing field from it and the spec publishes it as `default`.
//!
//! Only a value the spec has already accepted is read here, so types and ranges
//! are known to fit; `parse` turns this into the typed, checked `Config`.

use serde::{Deserialize, Deserializer, de::Error};

/// The default of every optional field that has one.
pub mod defaults {
    use super::super::DEFAULT_BASE_URL;

    pub fn api_base_url() -> String {
        DEFAULT_BASE_URL.to_string()
    }
    pub fn request_timeout_seconds() -> u64 {
        60
    }
    pub fn max_concurrent_requests() -> usize {
        10
    }
    pub fn max_retries() -> u32 {
        6
    }
    pub fn shipping_lookback_days() -> u32 {
        7
    }
    pub fn slice_days() -> u32 {
        7
    }
    pub fn fulfillments_scan_all_orders() -> bool {
        false
    }
    pub fn fulfillments_lookback_days() -> u32 {
        7
    }
    pub fn orders_reconcile_days() -> u32 {
        7
    }
    pub fn include_carrier_credentials() -> bool {
        false
    }
    /// The largest AfterShip page is 200 trackings; a tracking with a long
    /// checkpoint history is tens of KB, so a page is at most a few MB. 64 MiB
    /// leaves a margin of more than ten times that and still fits a pod's memory.
    pub fn max_response_mb() -> u32 {
        64
    }
}

/// A config file. Fields the spec does not know are ignored (the spec allows
/// them), and so is the key of each unknown field inside a location search.
#[derive(Deserialize)]
pub struct ConfigFile {
    pub api_key: String,
    pub start_date: String,
    #[serde(default = "defaults::api_base_url")]
    pub api_base_url: String,
    #[serde(
        default = "defaults::request_timeout_seconds",
        deserialize_with = "whole"
    )]
    pub request_timeout_seconds: u64,
    #[serde(default, deserialize_with = "whole_opt")]
    pub page_size: Option<u32>,
    #[serde(
        default = "defaults::max_concurrent_requests",
        deserialize_with = "whole"
    )]
    pub max_concurrent_requests: usize,
    #[serde(default = "defaults::max_retries", deserialize_with = "whole")]
    pub max_retries: u32,
    #[serde(default, deserialize_with = "whole_opt")]
    pub max_requests_per_second: Option<u32>,
    #[serde(
        default = "defaults::shipping_lookback_days",
        deserialize_with = "whole"
    )]
    pub shipping_lookback_days: u32,
    #[serde(default = "defaults::slice_days", deserialize_with = "whole")]
    pub slice_days: u32,
    /// Empty: the searches are derived from the shipper accounts.
    #[serde(default)]
    pub locations_searches: Vec<SearchFile>,
    #[serde(default = "defaults::fulfillments_scan_all_orders")]
    pub fulfillments_scan_all_orders: bool,
    #[serde(
        default = "defaults::fulfillments_lookback_days",
        deserialize_with = "whole"
    )]
    pub fulfillments_lookback_days: u32,
    #[serde(
        default = "defaults::orders_reconcile_days",
        deserialize_with = "whole"
    )]
    pub orders_reconcile_days: u32,
    #[serde(default = "defaults::include_carrier_credentials")]
    pub include_carrier_credentials: bool,
    #[serde(default = "defaults::max_response_mb", deserialize_with = "whole")]
    pub max_response_mb: u32,
}

/// One entry of `locations_searches`.
#[derive(Deserialize)]
pub struct SearchFile {
    pub slug: String,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub street: Option<String>,
}

impl SearchFile {
    /// The query parameters given, slug first, in the order of
    /// `spec::LOCATION_FIELDS`.
    pub fn params(&self) -> Vec<(String, String)> {
        [
            ("slug", Some(&self.slug)),
            ("country", self.country.as_ref()),
            ("postal_code", self.postal_code.as_ref()),
            ("city", self.city.as_ref()),
            ("state", self.state.as_ref()),
            ("street", self.street.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?.clone())))
        .collect()
    }
}

/// An integer the way JSON Schema counts them: `30` and `30.0` alike (the spec's
/// `"type": "integer"` accepts both; its range has been checked already).
fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let v = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    });
    v.and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number in range")))
}

fn whole_opt<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    whole(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> ConfigFile {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        // (That they agree with the spec is `parse`'s test.)
        let f = read(json!({"api_key": "k", "start_date": "s"}));
        assert_eq!(f.api_base_url, defaults::api_base_url());
        assert_eq!(f.page_size, None);
        assert_eq!(f.max_requests_per_second, None);
        assert!(f.locations_searches.is_empty());
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let f = read(
            json!({"api_key": "k", "start_date": "s", "request_timeout_seconds": 30.0, "page_size": 5.0}),
        );
        assert_eq!(f.request_timeout_seconds, 30);
        assert_eq!(f.page_size, Some(5));
        for bad in [json!(2.5), json!(-1), json!(1e300), json!("7")] {
            let r = serde_json::from_value::<ConfigFile>(
                json!({"api_key": "k", "start_date": "s", "max_retries": bad}),
            );
            assert!(r.is_err(), "{bad}");
        }
    }

    #[test]
    fn search_params_keep_the_spec_order_and_skip_what_is_not_given() {
        let f = read(
            json!({"api_key": "k", "start_date": "s", "locations_searches": [
                {"street": "1 Main St", "slug": "fedex", "country": "USA", "extra": 1}
            ]}),
        );
        let names: Vec<String> = f.locations_searches[0]
            .params()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, ["slug", "country", "street"]);
        let all = read(
            json!({"api_key": "k", "start_date": "s", "locations_searches": [
                {"slug": "a", "country": "b", "postal_code": "c", "city": "d", "state": "e", "street": "f"}
            ]}),
        );
        let names: Vec<String> = all.locations_searches[0]
            .params()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let spec: Vec<&str> = super::super::spec::LOCATION_FIELDS
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(names, spec, "the spec and the struct name the same fields");
    }
}
