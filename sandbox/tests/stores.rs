//! Store and order modes: a store that answers 403 on its Commerce lists, a store and
//! an order that vanish, set at start-up, at run time and from the CLI.

mod common;

use std::io::{BufRead, BufReader};

use aftership_sandbox::SandboxConfig;
use aftership_sandbox::modes::{StoreRef, VanishingOrder, VanishingStore};
use common::*;
use serde_json::{Value, json};

const ORDERS: &str = "/commerce/2025-07/orders";
const PRODUCTS: &str = "/commerce/2025-07/products";
const FULFILLMENTS: &str = "/commerce/2025-07/fulfillments";

async fn small(cfg: SandboxConfig) -> T {
    start(SandboxConfig {
        rate_limit: false,
        records: 200,
        ..cfg
    })
    .await
}

/// The store ids in `/stores` order.
async fn store_ids(t: &T) -> Vec<String> {
    let r = t.get("/commerce/2025-07/stores?limit=50").await;
    assert_eq!(r.status, 200);
    r.body["data"]["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// The order ids of a store's first orders page (default order).
async fn first_orders(t: &T, sid: &str) -> Vec<String> {
    let r = t.get_store(&format!("{ORDERS}?limit=50"), sid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

/// POST a JSON body to an admin path; (status, body).
async fn post_raw(t: &T, path: &str, body: Value) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}{path}", t.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_envelope(r: &Resp, status: u16, code: u64, typ: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["meta"]["code"], code, "{}", r.text);
    assert_eq!(r.body["meta"]["type"], typ, "{}", r.text);
    assert!(r.body["meta"]["message"].is_string());
    assert_eq!(r.body["data"], json!({}));
}

#[tokio::test]
async fn a_forbidden_store_answers_403_and_the_others_answer() {
    let t = small(SandboxConfig {
        forbidden_stores: vec![StoreRef::Index(0)],
        ..SandboxConfig::default()
    })
    .await;
    let ids = store_ids(&t).await;
    assert!(ids.len() >= 3);
    let (s0, s1) = (ids[0].as_str(), ids[1].as_str());
    let cfg = t
        .http
        .get(format!("{}/__sandbox/config", t.url))
        .send()
        .await
        .unwrap();
    let cfg: Value = cfg.json().await.unwrap();
    assert_eq!(
        cfg["forbidden_stores"],
        json!([s0]),
        "indices resolve to ids"
    );
    let o1 = first_orders(&t, s1).await;
    for path in [
        ORDERS.to_string(),
        PRODUCTS.to_string(),
        format!("{FULFILLMENTS}?order_id={}", o1[0]),
    ] {
        assert_envelope(&t.get_store(&path, s0).await, 403, 40300, "Forbidden");
        assert_eq!(t.get_store(&path, s1).await.status, 200, "{path}");
    }
    // the store is still listed; truth leaves out what cannot be read
    assert!(store_ids(&t).await.contains(&s0.to_string()));
    for stream in ["orders", "products", "fulfillments"] {
        let truth = t.truth(stream).await;
        assert!(truth.iter().all(|r| r["store_id"] != s0), "{stream}");
        assert!(truth.iter().any(|r| r["store_id"] == s1), "{stream}");
    }
    // at run time, by id
    t.config(json!({"forbidden_stores": [s1]})).await;
    assert_eq!(t.get_store(ORDERS, s0).await.status, 200);
    assert_envelope(&t.get_store(ORDERS, s1).await, 403, 40300, "Forbidden");
    for bad in [json!([99]), json!(["no-such-store"])] {
        let (status, _) = post_raw(&t, "/__sandbox/config", json!({"forbidden_stores": bad})).await;
        assert_eq!(status, 400, "{bad}");
    }
    t.config(json!({"forbidden_stores": []})).await;
    assert_eq!(t.get_store(ORDERS, s1).await.status, 200);
}

#[tokio::test]
async fn a_store_vanishes_after_its_nth_answer() {
    let t = small(SandboxConfig::default()).await;
    let ids = store_ids(&t).await;
    let (s0, s1) = (ids[0].clone(), ids[1].clone());
    let cfg = json!({"vanishing_stores": [{"store": 1, "after_requests": 2}]});
    t.config(cfg).await;
    // other stores' answers and failed requests do not count
    assert_eq!(t.get_store(ORDERS, &s0).await.status, 200);
    assert_eq!(
        t.get_store(&format!("{ORDERS}?limit=0"), &s1).await.status,
        422
    );
    assert_eq!(t.get_store(ORDERS, &s1).await.status, 200);
    let vanished: Value = t
        .http
        .get(format!("{}/__sandbox/vanished", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vanished["stores"], json!([]));
    assert_eq!(t.get_store(PRODUCTS, &s1).await.status, 200);
    // the second answer was its last
    for path in [ORDERS, PRODUCTS, &format!("{FULFILLMENTS}?order_id=1")] {
        let r = t.get_store(path, &s1).await;
        assert_envelope(&r, 412, 41204, "PreconditionFailed");
    }
    assert!(!store_ids(&t).await.contains(&s1));
    assert!(!t.truth_ids("stores").await.contains(&s1));
    for stream in ["orders", "products", "fulfillments"] {
        let truth = t.truth(stream).await;
        assert!(
            truth.iter().all(|r| r["store_id"] != s1.as_str()),
            "{stream}"
        );
        assert!(
            truth.iter().any(|r| r["store_id"] == s0.as_str()),
            "{stream}"
        );
    }
    let vanished: Value = t
        .http
        .get(format!("{}/__sandbox/vanished", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vanished["stores"], json!([s1]));
    assert_eq!(t.get_store(ORDERS, &s0).await.status, 200);
}

#[tokio::test]
async fn a_store_set_to_vanish_at_once_is_gone_from_the_start() {
    let probe = small(SandboxConfig::default()).await;
    let ids = store_ids(&probe).await;
    let t = small(SandboxConfig {
        vanishing_stores: vec![VanishingStore {
            store: StoreRef::Id(ids[2].clone()),
            after_requests: 0,
        }],
        ..SandboxConfig::default()
    })
    .await;
    let now = store_ids(&t).await;
    assert_eq!(now, [&ids[..2], &ids[3..]].concat());
    assert_envelope(
        &t.get_store(ORDERS, &ids[2]).await,
        412,
        41204,
        "PreconditionFailed",
    );
    // an unknown store or order index refuses to start
    for cfg in [
        SandboxConfig {
            vanishing_stores: vec![VanishingStore {
                store: StoreRef::Index(999),
                after_requests: 0,
            }],
            ..SandboxConfig::default()
        },
        SandboxConfig {
            vanishing_orders: vec![VanishingOrder {
                store: StoreRef::Index(0),
                order: None,
                index: Some(100_000),
                after_requests: 0,
                after_listed: 0,
            }],
            ..SandboxConfig::default()
        },
    ] {
        let e = aftership_sandbox::Sandbox::start(SandboxConfig { records: 50, ..cfg }).await;
        assert_eq!(
            e.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::InvalidInput)
        );
    }
}

#[tokio::test]
async fn an_order_vanishes_once_listed() {
    let t = small(SandboxConfig {
        vanishing_orders: vec![VanishingOrder {
            store: StoreRef::Index(0),
            order: None,
            index: Some(1),
            after_requests: 0,
            after_listed: 1,
        }],
        ..SandboxConfig::default()
    })
    .await;
    let ids = store_ids(&t).await;
    let s0 = ids[0].as_str();
    let cfg: Value = t
        .http
        .get(format!("{}/__sandbox/config", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oid = cfg["vanishing_orders"][0]["order"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(cfg["vanishing_orders"][0]["store"], s0);
    let ful = format!("{FULFILLMENTS}?order_id={oid}");
    // not listed yet: still there
    assert_eq!(t.get_store(&ful, s0).await.status, 200);
    // listed once (it is the store's second order), then deleted
    let listed = first_orders(&t, s0).await;
    assert_eq!(listed[1], oid);
    let r = t.get_store(&ful, s0).await;
    assert_envelope(&r, 404, 40400, "NotFound");
    assert_eq!(r.body["meta"]["errors"][0]["path"], "order_id");
    assert!(!first_orders(&t, s0).await.contains(&oid));
    assert!(!t.truth_ids("orders").await.contains(&oid));
    assert!(
        t.truth("fulfillments")
            .await
            .iter()
            .all(|f| f["order_id"] != oid.as_str())
    );
    // the other orders answer
    assert_eq!(
        t.get_store(&format!("{FULFILLMENTS}?order_id={}", listed[0]), s0)
            .await
            .status,
        200
    );
    let vanished: Value = t
        .http
        .get(format!("{}/__sandbox/vanished", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vanished["orders"], json!([{"store_id": s0, "id": oid}]));
}

#[tokio::test]
async fn an_order_vanishes_after_its_stores_nth_answer() {
    let t = small(SandboxConfig::default()).await;
    let ids = store_ids(&t).await;
    let s1 = ids[1].as_str();
    let orders = first_orders(&t, s1).await;
    let oid = orders[0].clone();
    t.config(json!({"vanishing_orders": [{"store": s1, "order": oid, "after_requests": 2}]}))
        .await;
    let ful = format!("{FULFILLMENTS}?order_id={oid}");
    assert_eq!(t.get_store(PRODUCTS, s1).await.status, 200);
    assert_eq!(t.get_store(&ful, s1).await.status, 200, "the second answer");
    assert_envelope(&t.get_store(&ful, s1).await, 404, 40400, "NotFound");
    // an order id that never existed is not a vanished one
    assert_eq!(
        t.get_store(&format!("{FULFILLMENTS}?order_id=1"), s1)
            .await
            .status,
        200
    );
    for bad in [
        json!([{"store": 0}]),
        json!([{"store": 0, "index": 0, "order": oid}]),
        json!([{"store": 0, "order": "no-such-order"}]),
        json!([{"store": 0, "index": 100000}]),
    ] {
        let (status, _) = post_raw(&t, "/__sandbox/config", json!({"vanishing_orders": bad})).await;
        assert_eq!(status, 400, "{bad}");
    }
}

fn spawn_cli(args: &[&str]) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aftership-sandbox"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cli");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

#[tokio::test]
async fn cli_sets_the_modes() {
    let (mut child, url) = spawn_cli(&[
        "--records",
        "100",
        "--no-rate-limit",
        "--forbid-store",
        "0",
        "--vanish-store",
        "store=1,after_requests=5",
        "--vanish-order",
        "store=2,index=0,after_listed=1",
        "--aftership-side-updates",
        "10:2",
        "--ignore-date-filters",
        "tracking",
        "--ignore-date-filters",
        "shipping",
    ]);
    let cfg: Value = reqwest::get(format!("{url}/__sandbox/config"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(cfg["forbidden_stores"].as_array().unwrap().len(), 1);
    assert!(cfg["forbidden_stores"][0].is_string());
    assert_eq!(cfg["vanishing_stores"][0]["after_requests"], 5);
    assert_eq!(cfg["vanishing_orders"][0]["after_listed"], 1);
    assert!(cfg["vanishing_orders"][0]["order"].is_string());
    assert_eq!(
        cfg["aftership_side_updates"],
        json!({"every": 10, "count": 2, "min_age_days": 30, "fulfillment": false})
    );
    assert_eq!(cfg["ignore_date_filters"], json!(["tracking", "shipping"]));
    for bad in [
        &["--ignore-date-filters", "commerce"][..],
        &["--vanish-order", "store=0"],
        &["--vanish-store", "after_requests=1"],
        &["--forbid-store", "99"],
        &["--aftership-side-updates", "0:1"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftership-sandbox"))
            .args(["--records", "10"])
            .args(bad)
            .output()
            .expect("run cli");
        assert!(!out.status.success(), "{bad:?} accepted");
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn four_stores_with_every_failure_at_once() {
    let t = small(SandboxConfig {
        counts: [("stores".to_string(), 4)].into_iter().collect(),
        forbidden_stores: vec![StoreRef::Index(0)],
        vanishing_stores: vec![VanishingStore {
            store: StoreRef::Index(1),
            after_requests: 1,
        }],
        vanishing_orders: vec![VanishingOrder {
            store: StoreRef::Index(2),
            order: None,
            index: Some(0),
            after_requests: 0,
            after_listed: 1,
        }],
        ..SandboxConfig::default()
    })
    .await;
    let ids = store_ids(&t).await;
    assert_eq!(ids.len(), 4);
    assert_envelope(&t.get_store(ORDERS, &ids[0]).await, 403, 40300, "Forbidden");
    assert_eq!(t.get_store(ORDERS, &ids[1]).await.status, 200);
    assert_envelope(
        &t.get_store(ORDERS, &ids[1]).await,
        412,
        41204,
        "PreconditionFailed",
    );
    let o2 = first_orders(&t, &ids[2]).await;
    let r = t
        .get_store(&format!("{FULFILLMENTS}?order_id={}", o2[0]), &ids[2])
        .await;
    assert_envelope(&r, 404, 40400, "NotFound");
    // the healthy store serves exactly its truth
    let mut served = Vec::new();
    for page in 1.. {
        let r = t
            .get_store(&format!("{ORDERS}?limit=50&page={page}"), &ids[3])
            .await;
        assert_eq!(r.status, 200);
        for o in r.body["data"]["orders"].as_array().unwrap() {
            served.push(o["id"].as_str().unwrap().to_string());
        }
        if r.body["data"]["pagination"]["has_next_page"] != true {
            break;
        }
    }
    let truth: Vec<String> = t
        .truth("orders")
        .await
        .iter()
        .filter(|o| o["store_id"] == ids[3].as_str())
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!truth.is_empty());
    assert_eq!(served, truth);
    let stores: Vec<Value> = t.truth("stores").await;
    assert_eq!(stores.len(), 3, "the vanished store left");
}
