//! The admin clock (advance/update/insert), truth, stats, determinism, CLI and blocking start.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};

use aftership_sandbox::{Sandbox, SandboxConfig};
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use serde_json::{Value, json};

fn parse(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn advance_updates_inserts_and_truth_follows() {
    let t = start_default().await;
    let before: BTreeMap<String, Vec<Value>> = {
        let mut m = BTreeMap::new();
        for s in [
            "trackings",
            "orders",
            "fulfillments",
            "shipping_labels",
            "item_returns",
            "memberships",
        ] {
            m.insert(s.to_string(), t.truth(s).await);
        }
        m
    };
    let res = t
        .post(
            "/__sandbox/advance",
            json!({"seconds": 7200, "update_fraction": 0.1, "insert_fraction": 0.05}),
        )
        .await;
    let now = parse(&res["now"]);
    assert!(
        (now - Utc::now() - Duration::seconds(7200))
            .num_seconds()
            .abs()
            <= 5
    );
    let n_tr = before["trackings"].len();
    // counts are ceil(fraction * all records of the stream), not only the visible ones
    let up = res["updated"]["trackings"].as_u64().unwrap() as usize;
    let ins = res["inserted"]["trackings"].as_u64().unwrap() as usize;
    assert_eq!(up, (0.1f64 * 1000.0).ceil() as usize);
    assert_eq!(ins, 50);
    assert!(
        res["updated"].get("item_returns").is_none(),
        "returns have no updated_at"
    );
    assert!(res["inserted"]["item_returns"].as_u64().unwrap() > 0);
    assert!(res["updated"].get("memberships").is_none());
    assert!(res["inserted"].get("memberships").is_none());

    let after = t.truth("trackings").await;
    assert!(after.len() >= n_tr.saturating_sub(5) + ins - 5);
    // records touched at the new "now"
    let fresh: Vec<&Value> = after
        .iter()
        .filter(|r| (parse(&r["updated_at"]) - now).num_seconds().abs() <= 1)
        .collect();
    let fresh_created = fresh
        .iter()
        .filter(|r| (parse(&r["created_at"]) - now).num_seconds().abs() <= 1)
        .count();
    assert_eq!(fresh_created, ins);
    assert!(fresh.len() > ins, "some updates of visible records");
    for r in &after {
        assert!(parse(&r["created_at"]) <= parse(&r["updated_at"]));
    }
    // an incremental read from the old clock sees exactly the fresh ones
    let since = tracking_ts(now - Duration::seconds(60));
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    loop {
        let p = if cursor.is_empty() {
            format!("/tracking/2025-07/trackings?limit=200&updated_at_min={since}")
        } else {
            format!("/tracking/2025-07/trackings?limit=200&updated_at_min={since}&cursor={cursor}")
        };
        let r = t.get(&p).await;
        add_ids(&mut seen, &r.body["data"]["trackings"], "id");
        cursor = r.body["data"]["pagination"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        if cursor.is_empty() {
            break;
        }
    }
    let want: HashSet<String> = fresh
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, want);
    // commerce children went into existing stores / orders
    let stores: HashSet<String> = t.truth_ids("stores").await.into_iter().collect();
    let orders = t.truth("orders").await;
    let order_ids: HashSet<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert!(orders.len() > before["orders"].len());
    for o in &orders {
        assert!(stores.contains(o["store_id"].as_str().unwrap()));
    }
    let ful = t.truth("fulfillments").await;
    assert!(ful.len() > before["fulfillments"].len());
    for f in &ful {
        assert!(order_ids.contains(f["order_id"].as_str().unwrap()));
    }
    // a changed record shows a changed visible field
    let changed = after
        .iter()
        .find(|r| {
            (parse(&r["updated_at"]) - now).num_seconds().abs() <= 1
                && parse(&r["created_at"]) < now - Duration::hours(3)
        })
        .expect("an updated old tracking");
    let old = before["trackings"]
        .iter()
        .find(|r| r["id"] == changed["id"])
        .expect("was there before");
    assert_ne!(old["updated_at"], changed["updated_at"]);
    // time alone moves the retention window
    let res = t
        .post("/__sandbox/advance", json!({"seconds": 60 * 86_400}))
        .await;
    assert!(res["updated"].as_object().unwrap().is_empty());
    assert!(t.truth("trackings").await.len() < after.len());
    let labels = t.truth("shipping_labels").await;
    assert!(
        labels.len() >= before["shipping_labels"].len(),
        "shipping keeps everything"
    );
}

#[tokio::test]
async fn stats_count_paths_and_statuses() {
    let t = start_small().await;
    t.get("/admin/2022-01/roles").await;
    t.get("/admin/2022-01/roles").await;
    t.get_h("/admin/2022-01/roles", &[]).await;
    t.get("/commerce/2025-07/orders?limit=5").await;
    let s = t.get_h("/__sandbox/stats", &[]).await.body;
    assert_eq!(s["total"], 4);
    assert_eq!(s["requests"]["/admin/2022-01/roles"]["200"], 2);
    assert_eq!(s["requests"]["/admin/2022-01/roles"]["401"], 1);
    assert_eq!(s["requests"]["/commerce/2025-07/orders"]["412"], 1);
    t.post("/__sandbox/stats/reset", json!({})).await;
    let s = t.get_h("/__sandbox/stats", &[]).await.body;
    assert_eq!(s["total"], 0);
    // truth rejects unknown streams
    let r = t.get_h("/__sandbox/truth?stream=nope", &[]).await;
    assert_eq!(r.status, 400);
}

fn fixed_cfg(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        records: 400,
        rate_limit: false,
        anchor: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let a = start(fixed_cfg(7)).await;
    let b = start(fixed_cfg(7)).await;
    let c = start(fixed_cfg(8)).await;
    let since = enc("2020-01-01T00:00:00Z");
    let paths = [
        "/tracking/2025-07/trackings?limit=200".to_string(),
        "/tracking/2025-07/couriers".to_string(),
        "/returns/2025-07/returns?limit=50&page=2".to_string(),
        "/admin/2022-01/coverages?page=3".to_string(),
        "/commerce/2025-07/stores".to_string(),
        "/admin/2022-01/memberships".to_string(),
        format!(
            "/postmen/v3/labels?limit=100&created_at_min={since}&created_at_max={}",
            enc("2026-11-01T00:00:00Z")
        ),
        "/postmen/v3/locations?slug=dhl&country=DEU&city=Berlin".to_string(),
    ];
    let mut differs = 0;
    for p in &paths {
        let (x, y, z) = (a.get(p).await, b.get(p).await, c.get(p).await);
        assert_eq!(x.status, 200, "{p}");
        assert_eq!(x.text, y.text, "{p}");
        if x.text != z.text {
            differs += 1;
        }
    }
    assert!(differs >= paths.len() - 2);
    for s in ["trackings", "orders", "fulfillments", "shipper_accounts"] {
        assert_eq!(a.truth(s).await, b.truth(s).await);
    }
}

#[test]
fn cli_prints_base_url_first_and_serves() {
    let (mut child, addr) = spawn_cli(&[
        "--port",
        "0",
        "--seed",
        "3",
        "--records",
        "200",
        "--no-rate-limit",
        "--count",
        "stores=4",
        "--deny",
        "members",
        "--fault",
        "odd-record:0.5",
        "--max-limit",
        "shipping_labels=5",
        "--max-limit",
        "trackings=50",
    ]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let addr = addr.as_str();
    let body = raw_get(
        addr,
        "/commerce/2025-07/stores?limit=50",
        Some(aftership_sandbox::DEFAULT_API_KEY),
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["stores"].as_array().unwrap().len(), 4);
    let body = raw_get(
        addr,
        "/admin/2022-01/roles",
        Some(aftership_sandbox::DEFAULT_API_KEY),
    );
    assert!(body.contains("\"code\":403"));
    let cfg = raw_get(addr, "/__sandbox/config", None);
    assert!(cfg.contains("odd-record"));
    let key = Some(aftership_sandbox::DEFAULT_API_KEY);
    let v: Value = serde_json::from_str(&raw_get(addr, "/postmen/v3/labels?limit=6", key)).unwrap();
    assert_eq!(v["meta"]["code"], 4104);
    assert_eq!(v["meta"]["details"][0]["path"], "limit");
    let v: Value = serde_json::from_str(&raw_get(addr, "/postmen/v3/labels", key)).unwrap();
    assert_eq!(v["data"]["limit"], 5);
    let v: Value =
        serde_json::from_str(&raw_get(addr, "/tracking/2025-07/trackings?limit=51", key)).unwrap();
    assert_eq!(v["meta"]["code"], 400);
    let _ = child.kill();
    let _ = child.wait();
}

/// Start the CLI with `args`, return (child, address).
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
    let addr = line.trim().trim_start_matches("http://").to_string();
    (child, addr)
}

#[test]
fn cli_modes_show_in_config() {
    let (mut child, addr) = spawn_cli(&[
        "--records",
        "100",
        "--no-rate-limit",
        "--live-writes",
        "5:30:2:1",
        "--fulfillments-leave-orders",
        "--fulfillments-order-id-only",
        "--exact-probe",
    ]);
    let cfg: Value = serde_json::from_str(&raw_get(&addr, "/__sandbox/config", None)).unwrap();
    assert_eq!(
        cfg["live_writes"],
        json!({"every": 5, "seconds": 30, "updates": 2, "inserts": 1})
    );
    assert_eq!(cfg["fulfillments_leave_orders"], true);
    assert_eq!(cfg["fulfillments_order_id_only"], true);
    let roles = raw_get(
        &addr,
        "/admin/2022-01/roles",
        Some(aftership_sandbox::DEFAULT_API_KEY),
    );
    assert!(
        roles.contains(r#""roles":[{"probe":{"z":98765432109876543210987,"#),
        "{roles}"
    );
    for _ in 0..4 {
        raw_get(&addr, "/admin/2022-01/roles", None);
    }
    let w: Value = serde_json::from_str(&raw_get(&addr, "/__sandbox/writes", None)).unwrap();
    assert_eq!(w["bursts"], 1);
    assert_eq!(w["updated"]["trackings"], 2);
    assert_eq!(w["inserted"]["trackings"], 1);
    let _ = child.kill();
    let _ = child.wait();
    // off by default
    let (mut child, addr) = spawn_cli(&["--records", "100"]);
    let roles = raw_get(
        &addr,
        "/admin/2022-01/roles",
        Some(aftership_sandbox::DEFAULT_API_KEY),
    );
    assert!(!roles.contains("probe"));
    let cfg: Value = serde_json::from_str(&raw_get(&addr, "/__sandbox/config", None)).unwrap();
    assert_eq!(cfg["live_writes"], Value::Null);
    assert_eq!(cfg["fulfillments_leave_orders"], false);
    assert_eq!(cfg["fulfillments_order_id_only"], false);
    let _ = child.kill();
    let _ = child.wait();
    for bad in ["0:30:2:1", "5:30:2", "5:x:2:1"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftership-sandbox"))
            .args(["--records", "10", "--live-writes", bad])
            .output()
            .expect("run cli");
        assert!(!out.status.success(), "--live-writes {bad} accepted");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn cli_refuses_bad_max_limits() {
    for bad in [
        "nope=5",
        "trackings=0",
        "trackings=201",
        "couriers=5",
        "trackings",
        "trackings=x",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftership-sandbox"))
            .args(["--port", "0", "--records", "10", "--max-limit", bad])
            .output()
            .expect("run cli");
        assert!(!out.status.success(), "--max-limit {bad} accepted");
        assert!(out.stdout.is_empty(), "--max-limit {bad} started serving");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--max-limit"), "{bad}: {err}");
    }
}

/// A plain HTTP/1.1 GET over std's TcpStream (no async runtime needed).
fn raw_get(addr: &str, path: &str, key: Option<&str>) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let key = key
        .map(|k| format!("as-api-key: {k}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{key}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn blocking_start_for_plain_tests() {
    let sb = Sandbox::start_blocking(SandboxConfig {
        records: 100,
        ..SandboxConfig::default()
    })
    .unwrap();
    let addr = sb.base_url().trim_start_matches("http://").to_string();
    let body = raw_get(
        &addr,
        "/tracking/2025-07/couriers",
        Some(aftership_sandbox::DEFAULT_API_KEY),
    );
    assert!(body.contains("\"couriers\""));
    let body = raw_get(&addr, "/__sandbox/truth?stream=trackings", None);
    assert!(body.contains("\"records\""));
    sb.shutdown();
    assert!(std::net::TcpStream::connect(&addr).is_err() || raw_get(&addr, "/", None).is_empty());
}

#[tokio::test]
async fn counts_override_ratios() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 300,
        counts: [
            ("fulfillments", 7),
            ("couriers", 50),
            ("locations", 3),
            ("stores", 5),
            ("roles", 8),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        ..SandboxConfig::default()
    })
    .await;
    assert_eq!(t.truth("fulfillments").await.len(), 7);
    assert_eq!(t.truth("couriers").await.len(), 50);
    assert_eq!(t.truth("stores").await.len(), 5);
    assert_eq!(t.truth("roles").await.len(), 8);
    let r = t
        .get("/postmen/v3/locations?slug=dhl&country=USA&city=Boston")
        .await;
    assert_eq!(r.body["data"]["locations"].as_array().unwrap().len(), 3);
    // ratios: memberships N/4, shipping labels N (all kept by truth)
    assert_eq!(t.truth("memberships").await.len(), 75);
    assert_eq!(t.truth("shipping_labels").await.len(), 300);
}
