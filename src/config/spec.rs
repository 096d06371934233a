//! The connector's spec: the SPEC payload and its connectionSpecification, the
//! JSON Schema every config file is validated against. Defaults come from
//! [`defaults`], the same functions serde fills a missing field with.

use super::DEFAULT_BASE_URL;
use super::file::defaults;
use serde_json::{Value, json};

/// Airbyte's documentation address for source-aftership (docs/aftership.md is the page).
pub const DOCUMENTATION_URL: &str = "https://docs.airbyte.com/integrations/sources/aftership";

pub(super) const LOCATION_FIELDS: [(&str, &str); 6] = [
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
                "default": defaults::api_base_url(),
                "pattern": "^https?://",
                "examples": [DEFAULT_BASE_URL],
                "order": 2,
                "group": "advanced"
            },
            "request_timeout_seconds": {
                "type": "integer",
                "title": "Request Timeout (seconds)",
                "description": "How long one HTTP request may take before it is retried.",
                "default": defaults::request_timeout_seconds(), "minimum": 1, "maximum": 600,
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
                "default": defaults::max_concurrent_requests(), "minimum": 1, "maximum": 64,
                "order": 5,
                "group": "advanced"
            },
            "max_retries": {
                "type": "integer",
                "title": "Max Retries",
                "description": "Retries of one request after a 429, a 5xx, a timeout or a broken connection, with exponential backoff and jitter.",
                "default": defaults::max_retries(), "minimum": 0, "maximum": 20,
                "order": 6,
                "group": "advanced"
            },
            "max_requests_per_second": {
                "type": "integer",
                "title": "Requests per Second (override)",
                "description": "Leave unset to pace each AfterShip API at its documented rate limit (GET /trackings 6/s, other Tracking endpoints 5/s, Returns, Protection, Commerce, Members and Shipping 10/s each), lowered (never raised) to a lower limit the server announces in its rate-limit headers. Set it for a plan with higher limits or a local test server.",
                "minimum": 1, "maximum": 100000,
                "order": 11,
                "group": "advanced"
            },
            "shipping_lookback_days": {
                "type": "integer",
                "title": "Shipping Lookback Window (days)",
                "description": "The Shipping API filters only on created_at. An incremental sync asks for records created since the saved cursor minus this window and keeps those updated since the cursor, so updates to records created up to this many days earlier are caught.",
                "default": defaults::shipping_lookback_days(), "minimum": 0, "maximum": 365,
                "order": 7,
                "group": "advanced"
            },
            "slice_days": {
                "type": "integer",
                "title": "Incremental Slice (days)",
                "description": "Incremental reads of trackings and the Shipping streams walk time windows of this size in ascending order and save state after each window.",
                "default": defaults::slice_days(), "minimum": 1, "maximum": 365,
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
                "default": defaults::fulfillments_scan_all_orders(),
                "order": 10,
                "group": "advanced"
            },
            "fulfillments_lookback_days": {
                "type": "integer",
                "title": "Fulfillments Lookback Window (days)",
                "description": "AfterShip does not document that a fulfillment's change (processing → shipped, ready for pickup → picked up) moves its order's updated_at. Incremental syncs therefore also re-read the fulfillments of every order created in this many recent days. It costs one request per such order at Commerce's 10 requests/s (100 orders a day: 700 requests, about 70 s, per sync with the default); 0 turns it off.",
                "default": defaults::fulfillments_lookback_days(), "minimum": 0, "maximum": 90,
                "order": 12,
                "group": "advanced"
            },
            "orders_reconcile_days": {
                "type": "integer",
                "title": "Orders: Reconcile Every (days)",
                "description": "Incremental syncs list a store's orders newest-updated first (by the store platform's clock) and stop at the cursor. A change made on AfterShip's side (a fulfillment created through AfterShip, a store re-import) moves an order's updated_at without moving it up that list, so an incremental sync at least this many days after the store's last whole walk lists the whole store instead (one request per 50 orders in each of its two creation orders at Commerce's 10 requests/s: 5,000 orders cost 200 requests, about 20 s), and the fulfillments of every order it finds changed are read. Such a change reaches the destination within this many days (plus the interval between syncs). 0 walks every sync.",
                "default": defaults::orders_reconcile_days(), "minimum": 0, "maximum": 90,
                "order": 14,
                "group": "advanced"
            },
            "include_carrier_credentials": {
                "type": "boolean",
                "title": "Include Carrier Credentials",
                "description": "Courier connections carry the credentials of your carrier accounts (account numbers, API keys, passwords). By default every value under `credentials` is replaced by null before it leaves the connector (the field names are kept, so you see which credentials exist). Turn this on only if the destination may hold these secrets in clear text: they are then copied as AfterShip returns them.",
                "default": defaults::include_carrier_credentials(),
                "airbyte_secret": false,
                "order": 13,
                "group": "advanced"
            },
            "max_response_mb": {
                "type": "integer",
                "title": "Max Response Size (MiB)",
                "description": "The most one AfterShip response may hold, counted after decompression and enforced while it is read. The largest page AfterShip sends (200 trackings) is a few MB; a larger body is treated like a broken one and retried, and if it persists the stream fails naming the endpoint and this limit. Raise it only if such a failure names a page that is genuinely that large.",
                "default": defaults::max_response_mb(), "minimum": 1, "maximum": 1024,
                "order": 15,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_is_the_acceptance_tests_spec_path_and_its_orders_are_distinct() {
        let committed: Value =
            serde_json::from_str(include_str!("../../integration_tests/spec.json"))
                .expect("integration_tests/spec.json is JSON");
        assert!(
            committed == spec(),
            "integration_tests/spec.json differs from `spec`: rerun integration_tests/generate_expected_records.py"
        );
        let props = connection_specification()["properties"].clone();
        let mut orders: Vec<i64> = props
            .as_object()
            .expect("properties")
            .values()
            .filter_map(|p| p["order"].as_i64())
            .collect();
        let n = orders.len();
        orders.sort_unstable();
        orders.dedup();
        assert_eq!(orders.len(), n, "two fields share an `order`");
    }
}
