//! `--exact-probe` and `/__sandbox/served`: the exact bytes of every served record.

mod common;

use aftership_sandbox::{SandboxConfig, StreamId};
use chrono::{TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

/// The probe member, byte for byte, as the brief gives it.
const PROBE: &str = r#""probe":{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"caf\u00e9 \/ \ud83d\ude00 \"q\" \\ \t"}"#;

const SEARCH: &str = "slug=dhl&country=USA&postal_code=10001";

fn cfg(probe: bool) -> SandboxConfig {
    SandboxConfig {
        seed: 11,
        records: 200,
        rate_limit: false,
        anchor: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
        exact_probe: probe,
        ..SandboxConfig::default()
    }
}

fn query(stream: StreamId) -> String {
    if stream == StreamId::Locations {
        format!("stream=locations&{SEARCH}")
    } else {
        format!("stream={}", stream.name())
    }
}

impl T {
    async fn served(&self, stream: StreamId) -> Vec<String> {
        let r = self
            .get_h(&format!("/__sandbox/served?{}", query(stream)), &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["stream"], stream.name());
        r.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    async fn truth_of(&self, stream: StreamId) -> Vec<Value> {
        let r = self
            .get_h(&format!("/__sandbox/truth?{}", query(stream)), &[])
            .await;
        r.body["records"].as_array().cloned().unwrap()
    }
}

fn key_of(stream: StreamId) -> &'static str {
    match stream {
        StreamId::Couriers | StreamId::ShippingCouriers => "slug",
        StreamId::Roles => "code",
        StreamId::Locations => "location_id",
        _ => "id",
    }
}

#[tokio::test]
async fn the_probe_is_spliced_first_byte_for_byte() {
    let a = start(cfg(true)).await;
    let b = start(cfg(false)).await;
    for stream in StreamId::ALL {
        let (pa, pb) = (a.served(stream).await, b.served(stream).await);
        assert!(!pa.is_empty(), "{}", stream.name());
        assert_eq!(pa.len(), pb.len());
        let truth = a.truth_of(stream).await;
        assert_eq!(truth, b.truth_of(stream).await, "truth reads no probe");
        assert_eq!(truth.len(), pa.len(), "{}: truth's set", stream.name());
        for ((x, y), t) in pa.iter().zip(&pb).zip(&truth) {
            assert_eq!(*x, format!("{{{PROBE},{}", &y[1..]), "{}", stream.name());
            // valid JSON, in truth's order
            let v: Value = serde_json::from_str(x).unwrap();
            assert_eq!(v[key_of(stream)], t["id"], "{}", stream.name());
            assert!(v["probe"].is_object());
            assert_eq!(v["probe"]["e"], "café / 😀 \"q\" \\ \t");
        }
    }
}

/// Every endpoint's page is the served texts of its records, joined by commas.
async fn pages_are_served_bytes(t: &T) {
    let orders = t.truth_of(StreamId::Orders).await;
    let s0 = orders[0]["store_id"].as_str().unwrap().to_string();
    let ful = t.truth_of(StreamId::Fulfillments).await;
    let (fs, fo) = (
        ful[0]["store_id"].as_str().unwrap().to_string(),
        ful[0]["order_id"].as_str().unwrap().to_string(),
    );
    let since = enc("2000-01-01T00:00:00+00:00");
    use StreamId::*;
    // (stream, path, data key, page size, keep the truth record)
    type Keep = Box<dyn Fn(&Value) -> bool>;
    let all: fn() -> Keep = || Box::new(|_| true);
    let in_store = |s: String| -> Keep { Box::new(move |r: &Value| r["store_id"] == s.as_str()) };
    type Case = (StreamId, String, &'static str, usize, Keep, Option<String>);
    let cases: Vec<Case> = vec![
        (
            Trackings,
            "/tracking/2025-07/trackings?limit=200".into(),
            "trackings",
            200,
            all(),
            None,
        ),
        (
            Couriers,
            "/tracking/2025-07/couriers".into(),
            "couriers",
            1000,
            all(),
            None,
        ),
        (
            CourierConnections,
            "/tracking/2025-07/courier-connections?limit=200".into(),
            "courier_connections",
            200,
            all(),
            None,
        ),
        (
            ItemReturns,
            "/returns/2025-07/returns?limit=50".into(),
            "returns",
            50,
            all(),
            None,
        ),
        (
            ItemTags,
            "/returns/2025-07/item-tags".into(),
            "item_tags",
            1000,
            all(),
            None,
        ),
        (
            QueryClaims,
            "/admin/2022-01/claims".into(),
            "claims",
            20,
            all(),
            None,
        ),
        (
            QueryCoverages,
            "/admin/2022-01/coverages?page=1".into(),
            "coverages",
            20,
            all(),
            None,
        ),
        (
            Stores,
            "/commerce/2025-07/stores?limit=50".into(),
            "stores",
            50,
            all(),
            None,
        ),
        (
            Orders,
            "/commerce/2025-07/orders?limit=50".into(),
            "orders",
            50,
            in_store(s0.clone()),
            Some(s0.clone()),
        ),
        (
            Products,
            "/commerce/2025-07/products?limit=50".into(),
            "products",
            50,
            in_store(s0.clone()),
            Some(s0.clone()),
        ),
        (
            Fulfillments,
            format!("/commerce/2025-07/fulfillments?order_id={fo}"),
            "fulfillments",
            10,
            Box::new(move |r: &Value| r["order_id"] == fo.as_str()),
            Some(fs),
        ),
        (
            Memberships,
            "/admin/2022-01/memberships?limit=200".into(),
            "memberships",
            200,
            all(),
            None,
        ),
        (
            Roles,
            "/admin/2022-01/roles".into(),
            "roles",
            1000,
            all(),
            None,
        ),
        (
            ShippingRates,
            format!("/postmen/v3/rates?limit=100&created_at_min={since}"),
            "rates",
            100,
            all(),
            None,
        ),
        (
            ShippingLabels,
            format!("/postmen/v3/labels?limit=100&created_at_min={since}"),
            "labels",
            100,
            all(),
            None,
        ),
        (
            ShippingManifests,
            format!("/postmen/v3/manifests?limit=100&created_at_min={since}"),
            "manifests",
            100,
            all(),
            None,
        ),
        (
            CancelLabels,
            format!("/postmen/v3/cancel-labels?limit=100&created_at_min={since}"),
            "cancel_labels",
            100,
            all(),
            None,
        ),
        (
            Pickups,
            format!("/postmen/v3/pickups?limit=100&created_at_min={since}"),
            "pickups",
            100,
            all(),
            None,
        ),
        (
            CancelPickups,
            format!("/postmen/v3/cancel-pickups?limit=100&created_at_min={since}"),
            "cancel_pickups",
            100,
            all(),
            None,
        ),
        (
            ShipperAccounts,
            "/postmen/v3/shipper-accounts?limit=100".into(),
            "shipper_accounts",
            100,
            all(),
            None,
        ),
        (
            ShippingCouriers,
            "/postmen/v3/couriers".into(),
            "couriers",
            1000,
            all(),
            None,
        ),
        (
            Locations,
            format!("/postmen/v3/locations?{SEARCH}"),
            "locations",
            1000,
            all(),
            None,
        ),
    ];
    assert_eq!(cases.len(), StreamId::ALL.len());
    for (stream, path, key, size, keep, store) in cases {
        let served = t.served(stream).await;
        let truth = t.truth_of(stream).await;
        let want: Vec<&str> = served
            .iter()
            .zip(&truth)
            .filter(|(_, r)| keep(r))
            .map(|(s, _)| s.as_str())
            .take(size)
            .collect();
        assert!(!want.is_empty(), "{path}");
        let r = match &store {
            Some(s) => t.get_store(&path, s).await,
            None => t.get(&path).await,
        };
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(r.body.is_object(), "{path}: the page is valid JSON");
        assert_eq!(
            r.body["data"][key].as_array().unwrap().len(),
            want.len(),
            "{path}"
        );
        let array = format!("\"{key}\":[{}]", want.join(","));
        assert!(
            r.text.contains(&array),
            "{path}: page bytes differ from served"
        );
    }
}

#[tokio::test]
async fn served_is_what_get_serves_with_and_without_the_probe() {
    pages_are_served_bytes(&start(cfg(true)).await).await;
    pages_are_served_bytes(&start(cfg(false)).await).await;
}

#[tokio::test]
async fn the_probe_on_2026_07_and_odd_records() {
    let t = start(cfg(true)).await;
    let r = t.get("/tracking/2026-07/trackings?limit=5").await;
    let recs = r.body["data"]["trackings"].as_array().unwrap();
    assert_eq!(recs.len(), 5);
    assert_eq!(r.text.matches(&format!("{{{PROBE},")).count(), 5);
    assert!(r.text.contains("\"postal_code\":") && !r.text.contains("\"zip\":"));
    t.faults(json!([{"kind": "odd-record", "rate": 1.0}])).await;
    let r = t.get("/tracking/2025-07/trackings?limit=5").await;
    assert_eq!(r.text.matches(&format!("{{{PROBE},")).count(), 5);
    let odd = "x".repeat(1000);
    assert!(r.text.contains(&odd), "an odd record was served");
    assert!(r.body.is_object());
    // /__sandbox/served is without faults
    let served = t.served(StreamId::Trackings).await;
    assert!(served.iter().all(|s| !s.contains(&odd)));
    // filters read the stored record, not the probe
    t.faults(json!([])).await;
    let all = t.get("/tracking/2025-07/trackings?limit=200").await;
    let slug = all.body["data"]["trackings"][0]["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t
        .get(&format!(
            "/tracking/2025-07/trackings?limit=200&slug={slug}"
        ))
        .await;
    let want = all.body["data"]["trackings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["slug"] == slug.as_str())
        .count();
    assert_eq!(r.body["data"]["trackings"].as_array().unwrap().len(), want);
}

#[tokio::test]
async fn served_refuses_what_truth_refuses() {
    let t = start_small().await;
    for q in [
        "",
        "?stream=nope",
        "?stream=locations",
        "?stream=locations&slug=dhl",
    ] {
        let r = t.get_h(&format!("/__sandbox/served{q}"), &[]).await;
        assert_eq!(r.status, 400, "{q}");
    }
}
