//! Live writes during reads, and fulfillments that leave their order alone.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use aftership_sandbox::{LiveWrites, SandboxConfig, StreamId};
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::{Value, json};

fn parse(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

impl T {
    async fn admin(&self, path: &str) -> Value {
        self.get_h(path, &[]).await.body
    }

    async fn now(&self) -> DateTime<Utc> {
        parse(&self.admin("/__sandbox/truth?stream=roles").await["now"])
    }
}

fn live(every: u64, seconds: u64, updates: usize, inserts: usize) -> Option<LiveWrites> {
    Some(LiveWrites {
        every,
        seconds,
        updates,
        inserts,
    })
}

/// What one burst of `updates`/`inserts` does, per stream name.
fn one_burst(updates: u64, inserts: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let up = StreamId::ALL
        .iter()
        .filter(|s| s.has_updated_at())
        .map(|s| (s.name().to_string(), updates))
        .collect();
    let ins = StreamId::ALL
        .iter()
        .filter(|s| s.can_grow())
        .map(|s| (s.name().to_string(), inserts))
        .collect();
    (up, ins)
}

fn scaled(m: &BTreeMap<String, u64>, k: u64) -> Value {
    json!(
        m.iter()
            .map(|(s, n)| (s.clone(), n * k))
            .collect::<BTreeMap<_, _>>()
    )
}

#[tokio::test]
async fn bursts_after_every_nth_answered_request() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 400,
        live_writes: live(3, 30, 2, 1),
        ..SandboxConfig::default()
    })
    .await;
    let cfg = t.admin("/__sandbox/config").await;
    assert_eq!(
        cfg["live_writes"],
        json!({"every": 3, "seconds": 30, "updates": 2, "inserts": 1})
    );
    assert_eq!(cfg["fulfillments_leave_orders"], false);
    let zero = json!({"bursts": 0, "updated": {}, "inserted": {}});
    assert_eq!(t.admin("/__sandbox/writes").await, zero);
    let t0 = t.now().await;
    let before = t.truth_ids("trackings").await;
    // any status counts: a 200, a 401, a 404; admin requests do not
    assert_eq!(t.get("/tracking/2025-07/couriers").await.status, 200);
    assert_eq!(t.get_h("/admin/2022-01/roles", &[]).await.status, 401);
    t.truth("orders").await;
    t.admin("/__sandbox/stats").await;
    assert_eq!(t.admin("/__sandbox/writes").await, zero);
    assert_eq!(t.get("/tracking/2025-07/nothing").await.status, 404);
    let w = t.admin("/__sandbox/writes").await;
    let (up, ins) = one_burst(2, 1);
    assert_eq!(
        w,
        json!({"bursts": 1, "updated": scaled(&up, 1), "inserted": scaled(&ins, 1)})
    );
    // the clock moved by `seconds`
    let t1 = t.now().await;
    assert!((t1 - t0 - Duration::seconds(30)).num_seconds().abs() <= 3);
    // truth follows at once: one new tracking, created at the burst
    let after = t.truth("trackings").await;
    let new: Vec<&Value> = after
        .iter()
        .filter(|r| !before.contains(r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(new.len(), 1);
    assert!((parse(&new[0]["created_at"]) - t1).num_seconds().abs() <= 3);
    // and a client is served what truth says
    let r = t.get("/tracking/2025-07/trackings?limit=1").await;
    assert_eq!(r.body["data"]["trackings"][0]["id"], new[0]["id"]);
    // two more requests (the one above was the 1st): a second burst after the 3rd
    t.get("/admin/2022-01/roles").await;
    assert_eq!(t.admin("/__sandbox/writes").await["bursts"], 1);
    t.get("/admin/2022-01/roles").await;
    let w = t.admin("/__sandbox/writes").await;
    assert_eq!(w["bursts"], 2);
    assert_eq!(w["updated"], scaled(&up, 2));
    assert_eq!(w["inserted"], scaled(&ins, 2));
    // /__sandbox/advance is not a live-write burst
    t.post(
        "/__sandbox/advance",
        json!({"seconds": 5, "update_fraction": 0.1}),
    )
    .await;
    assert_eq!(t.admin("/__sandbox/writes").await["bursts"], 2);
    // reconfiguring restarts the count: two requests, reconfigure, two more: no burst
    t.get("/admin/2022-01/roles").await;
    t.get("/admin/2022-01/roles").await;
    t.config(json!({"live_writes": {"every": 3, "seconds": 30, "updates": 5, "inserts": 0}}))
        .await;
    t.get("/admin/2022-01/roles").await;
    t.get("/admin/2022-01/roles").await;
    assert_eq!(t.admin("/__sandbox/writes").await["bursts"], 2);
    t.get("/admin/2022-01/roles").await;
    let w = t.admin("/__sandbox/writes").await;
    assert_eq!(w["bursts"], 3);
    assert_eq!(w["updated"]["trackings"], 4 + 5);
    assert_eq!(
        w["updated"]["stores"],
        2 + 2 + 5,
        "five stores, five updates"
    );
    assert_eq!(w["inserted"]["trackings"], 2, "inserts 0: nothing inserted");
    // an absent key leaves live writes on; null turns them off
    t.config(json!({"latency_ms": 0})).await;
    assert_eq!(
        t.admin("/__sandbox/config").await["live_writes"]["updates"],
        5
    );
    t.config(json!({"live_writes": null})).await;
    assert_eq!(
        t.admin("/__sandbox/config").await["live_writes"],
        Value::Null
    );
    for _ in 0..7 {
        t.get("/admin/2022-01/roles").await;
    }
    assert_eq!(t.admin("/__sandbox/writes").await["bursts"], 3);
    // reset
    t.post("/__sandbox/writes/reset", json!({})).await;
    assert_eq!(t.admin("/__sandbox/writes").await, zero);
    // a bad value is refused and changes nothing
    let r = t
        .http
        .post(format!("{}/__sandbox/config", t.url))
        .json(&json!({"live_writes": {"every": 0, "seconds": 1, "updates": 1, "inserts": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = t
        .http
        .post(format!("{}/__sandbox/config", t.url))
        .json(&json!({"live_writes": {"every": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        t.admin("/__sandbox/config").await["live_writes"],
        Value::Null
    );
}

#[tokio::test]
async fn updates_count_is_capped_at_the_stream_size() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        counts: [("stores".to_string(), 3)].into_iter().collect(),
        live_writes: live(1, 1, 10, 0),
        ..SandboxConfig::default()
    })
    .await;
    t.get("/admin/2022-01/roles").await;
    let w = t.admin("/__sandbox/writes").await;
    assert_eq!(w["updated"]["stores"], 3);
    assert_eq!(w["updated"]["trackings"], 10);
    assert_eq!(w["inserted"], json!({}));
    // all three stores carry the burst's updated_at
    let now = t.now().await;
    for s in t.truth("stores").await {
        assert!((parse(&s["updated_at"]) - now).num_seconds().abs() <= 3);
    }
}

/// A cursor walk with a burst after every request loses no record that was there
/// before and after it, and never sees one twice: the keyset stays valid while
/// records are inserted and updated under it.
#[tokio::test]
async fn a_walk_under_live_writes_loses_nothing() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 2000,
        live_writes: live(1, 60, 20, 3),
        ..SandboxConfig::default()
    })
    .await;
    let before = t.truth_ids("trackings").await;
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    loop {
        let p = if cursor.is_empty() {
            "/tracking/2025-07/trackings?limit=25".to_string()
        } else {
            format!("/tracking/2025-07/trackings?limit=25&cursor={cursor}")
        };
        let r = t.get(&p).await;
        assert_eq!(r.status, 200, "{}", r.text);
        add_ids(&mut seen, &r.body["data"]["trackings"], "id");
        cursor = r.body["data"]["pagination"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        if cursor.is_empty() {
            break;
        }
    }
    let after = t.truth_ids("trackings").await;
    let both: BTreeSet<String> = before.intersection(&after).cloned().collect();
    let seen = ids_set(&seen);
    assert!(both.is_subset(&seen), "lost {:?}", both.difference(&seen));
    assert!(
        t.admin("/__sandbox/writes").await["bursts"]
            .as_u64()
            .unwrap()
            > 10
    );
}

/// Concurrent readers under bursts: a response whose clock is after a burst also has
/// that burst's data. Each burst moves the clock 1000 s and inserts one label created
/// then, so a label list whose echoed `created_at_max` (its now) is past a burst must
/// show that burst's label as its newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_sees_a_burst_wholly_or_not_at_all() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        live_writes: live(1, 1000, 1, 1),
        ..SandboxConfig::default()
    })
    .await;
    let start_now = t.now().await;
    let since = enc("2000-01-01T00:00:00+00:00");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (http, url) = (
            t.http.clone(),
            format!("{}/postmen/v3/labels?limit=1&created_at_min={since}", t.url),
        );
        set.spawn(async move {
            let mut out = Vec::new();
            for _ in 0..40 {
                let r = http
                    .get(&url)
                    .header("as-api-key", aftership_sandbox::DEFAULT_API_KEY)
                    .send()
                    .await
                    .unwrap();
                out.push(r.json::<Value>().await.unwrap());
            }
            out
        });
    }
    let mut checked = 0;
    while let Some(res) = set.join_next().await {
        for body in res.unwrap() {
            let d = &body["data"];
            let now = parse(&d["created_at_max"]);
            if now < start_now + Duration::seconds(500) {
                continue;
            }
            let newest = parse(&d["labels"][0]["created_at"]);
            assert!(
                newest <= now && now - newest < Duration::seconds(100),
                "served at {now} without the burst's label (newest {newest})"
            );
            checked += 1;
        }
    }
    assert!(checked > 100);
}

/// Orders whose `updated_at` is the change's instant (within a second).
fn orders_at(orders: &[Value], now: DateTime<Utc>) -> usize {
    orders
        .iter()
        .filter(|o| (parse(&o["updated_at"]) - now).num_seconds().abs() <= 1)
        .count()
}

#[tokio::test]
async fn fulfillment_changes_move_or_leave_their_orders() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 1000,
        ..SandboxConfig::default()
    })
    .await;
    let body = json!({"seconds": 3600, "update_fraction": 0.05, "insert_fraction": 0.01});
    // default: changed fulfillments move their orders too
    let res = t.post("/__sandbox/advance", body.clone()).await;
    let now = parse(&res["now"]);
    let own = (res["updated"]["orders"].as_u64().unwrap()
        + res["inserted"]["orders"].as_u64().unwrap()) as usize;
    assert!(orders_at(&t.truth("orders").await, now) > own + 10);
    // leave-orders mode: only the orders' own changes
    t.config(json!({"fulfillments_leave_orders": true})).await;
    assert_eq!(
        t.admin("/__sandbox/config").await["fulfillments_leave_orders"],
        true
    );
    let res = t.post("/__sandbox/advance", body.clone()).await;
    let now = parse(&res["now"]);
    let own = (res["updated"]["orders"].as_u64().unwrap()
        + res["inserted"]["orders"].as_u64().unwrap()) as usize;
    assert!(res["updated"]["fulfillments"].as_u64().unwrap() > 10);
    assert!(res["inserted"]["fulfillments"].as_u64().unwrap() > 5);
    assert_eq!(orders_at(&t.truth("orders").await, now), own);
    // and in live-write bursts
    t.config(json!({"live_writes": {"every": 1, "seconds": 3600, "updates": 30, "inserts": 5}}))
        .await;
    t.get("/admin/2022-01/roles").await;
    let now = t.now().await;
    assert_eq!(orders_at(&t.truth("orders").await, now), 30 + 5);
    t.config(json!({"fulfillments_leave_orders": false, "live_writes": {"every": 1, "seconds": 3600, "updates": 30, "inserts": 5}}))
        .await;
    t.get("/admin/2022-01/roles").await;
    let now = t.now().await;
    assert!(orders_at(&t.truth("orders").await, now) > 30 + 5 + 10);
}

#[tokio::test]
async fn fulfillments_leave_orders_from_the_config() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 1000,
        fulfillments_leave_orders: true,
        ..SandboxConfig::default()
    })
    .await;
    let res = t
        .post(
            "/__sandbox/advance",
            json!({"seconds": 3600, "update_fraction": 0.05, "insert_fraction": 0.01}),
        )
        .await;
    let own = (res["updated"]["orders"].as_u64().unwrap()
        + res["inserted"]["orders"].as_u64().unwrap()) as usize;
    assert_eq!(orders_at(&t.truth("orders").await, parse(&res["now"])), own);
}

#[tokio::test]
async fn start_refuses_an_invalid_config() {
    for cfg in [
        SandboxConfig {
            live_writes: live(0, 1, 1, 1),
            ..SandboxConfig::default()
        },
        SandboxConfig {
            max_limits: [("roles".to_string(), 5)].into_iter().collect(),
            ..SandboxConfig::default()
        },
    ] {
        let e = aftership_sandbox::Sandbox::start(cfg).await.err().unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}
