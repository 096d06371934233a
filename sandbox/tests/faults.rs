//! Each fault kind, switched on and off at run time through /__sandbox/config.

mod common;

use std::time::Instant;

use aftership_sandbox::SandboxConfig;
use common::*;
use serde_json::json;

const TR: &str = "/tracking/2025-07/trackings?limit=50";

#[tokio::test]
async fn error_bursts_in_product_envelopes() {
    let t = start_small().await;
    for (kind, status, path, code) in [
        ("500", 500, TR, 500),
        ("502", 502, "/commerce/2025-07/stores", 50200),
        ("503", 503, "/postmen/v3/couriers", 503),
        ("500", 500, "/returns/2025-07/returns", 50000),
    ] {
        t.faults(json!([{"kind": kind, "rate": 1.0}])).await;
        let r = t.get(path).await;
        assert_eq!(r.status, status, "{kind}");
        assert_eq!(r.body["meta"]["code"], code);
        if path.starts_with("/postmen") {
            assert_eq!(r.body["meta"]["retryable"], true);
        }
        // the burst goes on for 1-3 more requests after the fault is switched off
        t.faults(json!([])).await;
        let mut failed = 0;
        loop {
            let r = t.get(path).await;
            if r.status == 200 {
                break;
            }
            assert_eq!(r.status, status);
            failed += 1;
            assert!(failed <= 3);
        }
        assert!((1..=3).contains(&failed), "burst of {failed}");
    }
}

#[tokio::test]
async fn storm_of_429_with_headers() {
    let t = start_small().await;
    t.faults(json!([{"kind": "429", "rate": 1.0}])).await;
    for (path, hdr) in [
        (TR, "x-ratelimit-reset"),
        ("/commerce/2025-07/stores", "ratelimit-reset"),
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.headers["retry-after"], "1");
        assert!(r.headers.contains_key(hdr));
    }
    t.faults(json!([])).await;
    let mut n = 0;
    while t.get(TR).await.status == 429 {
        n += 1;
        assert!(n <= 5);
    }
}

#[tokio::test]
async fn reset_truncate_slow_latency() {
    let t = start_small().await;
    t.faults(json!([{"kind": "reset", "rate": 1.0}])).await;
    let r = t
        .http
        .get(format!("{}{TR}", t.url))
        .header("as-api-key", aftership_sandbox::DEFAULT_API_KEY)
        .send()
        .await;
    if let Ok(resp) = r {
        assert!(resp.bytes().await.is_err(), "body must break off");
    }
    t.faults(json!([{"kind": "truncate", "rate": 1.0}])).await;
    let r = t.get(TR).await;
    assert_eq!(r.status, 200);
    assert!(!r.text.is_empty());
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    t.faults(json!([{"kind": "slow", "rate": 1.0}])).await;
    let s = Instant::now();
    assert_eq!(t.get(TR).await.status, 200);
    assert!(s.elapsed().as_millis() >= 2000);
    t.faults(json!([])).await;
    t.config(json!({"latency_ms": 300})).await;
    let s = Instant::now();
    assert_eq!(t.get(TR).await.status, 200);
    assert!(s.elapsed().as_millis() >= 300);
    let cfg = t.get_h("/__sandbox/config", &[]).await;
    assert_eq!(cfg.body["latency_ms"], 300);
    assert_eq!(cfg.body["rate_limit"], false);
}

#[tokio::test]
async fn repeat_cursor_loop_trap() {
    let t = start_small().await;
    t.faults(json!([{"kind": "repeat-cursor", "rate": 1.0}]))
        .await;
    let first = t.get(TR).await;
    let c1 = first.body["data"]["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!c1.is_empty());
    let second = t.get(&format!("{TR}&cursor={c1}")).await;
    assert_eq!(
        second.body["data"]["pagination"]["next_cursor"],
        c1.as_str()
    );
    assert_eq!(second.body["data"]["pagination"]["has_next_page"], true);
    t.faults(json!([])).await;
    let third = t.get(&format!("{TR}&cursor={c1}")).await;
    assert_eq!(
        third.body["data"]["pagination"]["next_cursor"],
        c1.as_str(),
        "trap is forever"
    );
    // shipping token
    t.faults(json!([{"kind": "repeat-cursor", "rate": 1.0}]))
        .await;
    let p = format!(
        "/postmen/v3/labels?created_at_min={}",
        enc("2000-01-01T00:00:00+00:00")
    );
    let a = t.get(&p).await;
    let tok = a.body["data"]["next_token"].as_str().unwrap().to_string();
    let b = t
        .get(&format!(
            "{p}&next_token={}",
            tok.replace('=', "%3D")
                .replace('+', "%2B")
                .replace('/', "%2F")
        ))
        .await;
    assert_eq!(b.body["data"]["next_token"], tok.as_str());
    // page-number API: has_next_page true with an empty page
    let r = t.get("/returns/2025-07/returns?page=7").await;
    assert_eq!(r.body["data"]["pagination"]["has_next_page"], true);
    assert!(r.body["data"]["returns"].as_array().unwrap().is_empty());
    let r = t.get("/admin/2022-01/claims?page=3").await;
    assert!(r.body["data"]["claims"].as_array().unwrap().is_empty());
    assert!(r.body["data"]["pagination"]["total"].as_u64().unwrap() > 3 * 20);
}

#[tokio::test]
async fn odd_record_and_unauthorized_after() {
    let t = start_small().await;
    t.faults(json!([{"kind": "odd-record", "rate": 1.0}])).await;
    let r = t.get(TR).await;
    assert_eq!(r.status, 200);
    let odd: Vec<_> = r.body["data"]["trackings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x.as_object().unwrap().values().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.is_empty() || s.len() >= 10_000)
            })
        })
        .collect();
    assert_eq!(odd.len(), 1);
    assert!(odd[0]["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(chrono::DateTime::parse_from_rfc3339(odd[0]["updated_at"].as_str().unwrap()).is_ok());

    let t = start(SandboxConfig {
        rate_limit: false,
        records: 100,
        faults: vec!["unauthorized-after:3".parse().unwrap()],
        ..SandboxConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(t.get(TR).await.status, 200);
    }
    for _ in 0..3 {
        let r = t.get("/admin/2022-01/roles").await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["meta"]["code"], 401);
    }
    // set at run time, the count starts then
    t.faults(json!([])).await;
    assert_eq!(t.get(TR).await.status, 200);
    t.faults(json!([{"kind": "unauthorized-after", "rate": 2}]))
        .await;
    assert_eq!(t.get(TR).await.status, 200);
    assert_eq!(t.get(TR).await.status, 200);
    assert_eq!(t.get(TR).await.status, 401);
}

#[tokio::test]
async fn faults_are_seeded() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let t = start(SandboxConfig {
            rate_limit: false,
            records: 100,
            faults: vec!["503:0.3".parse().unwrap()],
            ..SandboxConfig::default()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(t.get("/admin/2022-01/roles").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&503) && runs[0].contains(&200));
}
