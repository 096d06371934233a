//! `ignore_date_filters`: Tracking and Shipping accept their date parameters (still
//! checked) but serve everything, paginated as usual.

mod common;

use std::collections::{BTreeSet, HashSet};

use aftership_sandbox::{Product, SandboxConfig};
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::{Value, json};

const SHIPPING: [(&str, &str, &str); 6] = [
    ("shipping_rates", "/postmen/v3/rates", "rates"),
    ("shipping_labels", "/postmen/v3/labels", "labels"),
    ("shipping_manifests", "/postmen/v3/manifests", "manifests"),
    (
        "cancel_labels",
        "/postmen/v3/cancel-labels",
        "cancel_labels",
    ),
    ("pickups", "/postmen/v3/pickups", "pickups"),
    (
        "cancel_pickups",
        "/postmen/v3/cancel-pickups",
        "cancel_pickups",
    ),
];

async fn now(t: &T) -> DateTime<Utc> {
    let v: Value = t
        .http
        .get(format!("{}/__sandbox/truth?stream=roles", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    DateTime::parse_from_rfc3339(v["now"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Walk trackings with `query`; (ids, pages).
async fn walk_trackings(t: &T, query: &str) -> (BTreeSet<String>, usize) {
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let r = t
            .get(&format!(
                "/tracking/2025-07/trackings?limit=50&{query}&cursor={cursor}"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        add_ids(&mut seen, &r.body["data"]["trackings"], "id");
        if r.body["data"]["pagination"]["has_next_page"] != true {
            break;
        }
        cursor = r.body["data"]["pagination"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
    }
    (ids_set(&seen), pages)
}

/// Walk a Shipping list with `query`; (ids, pages, the first page's echo).
async fn walk_shipping(
    t: &T,
    path: &str,
    key: &str,
    query: &str,
) -> (BTreeSet<String>, usize, Value) {
    let mut seen = HashSet::new();
    let mut token = String::new();
    let mut pages = 0;
    let mut first = Value::Null;
    loop {
        let r = t
            .get(&format!("{path}?limit=20&{query}&next_token={token}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["meta"]["code"], 200, "{}", r.text);
        if pages == 0 {
            first = r.body["data"].clone();
        }
        pages += 1;
        add_ids(&mut seen, &r.body["data"][key], "id");
        token = r.body["data"]["next_token"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if token.is_empty() {
            break;
        }
    }
    (ids_set(&seen), pages, first)
}

#[tokio::test]
async fn tracking_ignores_its_date_filters_when_told() {
    let t = start_small().await;
    let now = now(&t).await;
    let q = format!(
        "updated_at_min={}&updated_at_max={}",
        tracking_ts(now - Duration::days(2)),
        tracking_ts(now - Duration::days(1))
    );
    let all = t.truth_ids("trackings").await;
    let (honoured, _) = walk_trackings(&t, &q).await;
    assert!(
        honoured.len() < all.len() / 2,
        "off: the filter is honoured"
    );
    t.config(json!({"ignore_date_filters": ["tracking"]})).await;
    let (ignored, pages) = walk_trackings(&t, &q).await;
    assert_eq!(ignored, all);
    assert!(pages > 1, "still paginated");
    let q = format!(
        "created_at_min={}&created_at_max={}",
        tracking_ts(now - Duration::days(2)),
        tracking_ts(now - Duration::days(1))
    );
    assert_eq!(walk_trackings(&t, &q).await.0, all);
    // still checked
    let r = t
        .get("/tracking/2025-07/trackings?updated_at_min=2025-01-01T00:00:00Z")
        .await;
    assert_eq!(r.status, 400);
    // Shipping is not affected
    let (_, path, key) = SHIPPING[1];
    let q = "created_at_min=2000-01-01T00:00:00Z&created_at_max=2000-01-02T00:00:00Z";
    assert!(walk_shipping(&t, path, key, q).await.0.is_empty());
}

#[tokio::test]
async fn shipping_ignores_its_date_filters_when_told() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        ignore_date_filters: vec![Product::Shipping],
        ..SandboxConfig::default()
    })
    .await;
    let min = "2000-01-01T00:00:00Z";
    let max = "2000-01-02T00:00:00Z";
    for (stream, path, key) in SHIPPING {
        let all = t.truth_ids(stream).await;
        assert!(!all.is_empty(), "{stream}");
        for q in [
            format!("created_at_min={min}&created_at_max={max}"),
            String::new(),
        ] {
            let (got, pages, first) = walk_shipping(&t, path, key, &q).await;
            assert_eq!(got, all, "{stream} {q}");
            assert_eq!(pages, all.len().div_ceil(20).max(1), "{stream}");
            if !q.is_empty() {
                // the window is echoed as asked
                assert_eq!(first["created_at_min"], "2000-01-01T00:00:00+00:00");
                assert_eq!(first["created_at_max"], "2000-01-02T00:00:00+00:00");
            }
        }
        let r = t.get(&format!("{path}?created_at_min=yesterday")).await;
        assert_eq!(r.body["meta"]["code"], 4104, "still checked: {stream}");
    }
    // Tracking is not affected; other products cannot be set
    let now = now(&t).await;
    let q = format!("updated_at_min={}", tracking_ts(now + Duration::days(1)));
    assert!(walk_trackings(&t, &q).await.0.is_empty());
    let r = t
        .http
        .post(format!("{}/__sandbox/config", t.url))
        .json(&json!({"ignore_date_filters": ["returns"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    t.config(json!({"ignore_date_filters": []})).await;
    let (_, path, key) = SHIPPING[0];
    let q = format!("created_at_min={min}&created_at_max={max}");
    assert!(walk_shipping(&t, path, key, &q).await.0.is_empty());
}
