//! One failing store, order or search never takes the others down: four stores,
//! one of them forbidden, vanishing, failing or losing an order, and the healthy
//! stores' records equal to the truth every time.

mod common;

use aftership_sandbox::{SandboxConfig, StoreRef, VanishingOrder, VanishingStore};
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const COMMERCE: [&str; 3] = ["orders", "products", "fulfillments"];

/// Four stores, a few dozen orders each, with `modes` set over them.
fn four_stores(modes: SandboxConfig) -> aftership_sandbox::BlockingSandbox {
    start(SandboxConfig {
        counts: [("stores".to_string(), 4), ("orders".to_string(), 120)]
            .into_iter()
            .collect(),
        ..modes
    })
}

fn base_config() -> SandboxConfig {
    sandbox_config(40, &[], &[])
}

/// The store ids, in `/stores` order (the order indices name).
fn store_ids(base: &str) -> Vec<String> {
    let v = api_get(base, "/commerce/2025-07/stores?limit=50", &[]);
    v["data"]["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// The keys `out` emitted for `stream` in the stores `stores`, and the truth's.
fn of_stores(
    out: &Output,
    base: &str,
    stream: &str,
    stores: &[&str],
) -> (BTreeSet<String>, BTreeSet<String>) {
    let emitted = out
        .records(stream)
        .into_iter()
        .filter(|r| stores.contains(&r["store_id"].as_str().unwrap_or("")))
        .map(|r| key_of(stream, r))
        .collect();
    let truth = truth(base, stream, "")
        .into_iter()
        .filter(|r| r.store_id.as_deref().is_some_and(|s| stores.contains(&s)))
        .map(|r| r.key)
        .collect();
    (emitted, truth)
}

fn assert_healthy(out: &Output, base: &str, stores: &[&str]) {
    for stream in COMMERCE {
        let (emitted, truth) = of_stores(out, base, stream, stores);
        assert!(
            !truth.is_empty(),
            "{stream}: the healthy stores hold records"
        );
        assert_eq!(emitted, truth, "{stream}: the healthy stores' records");
    }
}

fn read_commerce(base: &str, dir: &Dir, state: Option<&Value>) -> Output {
    read(
        dir,
        &fast_config(base, json!({"page_size": 10, "max_retries": 1})),
        &catalog(&COMMERCE, true),
        state,
    )
}

/// The stores a stream's last STATE names.
fn stores_in_state(out: &Output, stream: &str) -> BTreeSet<String> {
    state_of(&out.state(), stream)
        .and_then(|s| s["states"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|e| e["partition"]["store_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_store_that_answers_403_is_skipped_and_the_others_are_read() {
    let sb = four_stores(SandboxConfig {
        forbidden_stores: vec![StoreRef::Index(1)],
        ..base_config()
    });
    let base = sb.base_url();
    let ids = store_ids(&base);
    let out = read_commerce(&base, &Dir::new("part-403"), None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    for stream in COMMERCE {
        assert_eq!(
            out.statuses(stream).last().unwrap(),
            "INCOMPLETE",
            "{stream}"
        );
        let warned = out.logs("WARN").into_iter().any(|l| {
            l.contains(&format!("stream {stream}, store {}", ids[1]))
                && l.contains("403")
                && l.contains(&format!("permission to access the store {}", ids[1]))
        });
        assert!(
            warned,
            "{stream}: a WARN names the store and AfterShip's message"
        );
    }
    assert!(
        !out.stdout
            .contains("no permission for the AfterShip Commerce API"),
        "one store's 403 is not the product's"
    );
    let healthy = [ids[0].as_str(), &ids[2], &ids[3]];
    assert_healthy(&out, &base, &healthy);
    assert!(!stores_in_state(&out, "orders").contains(&ids[1]));
    assert!(
        out.stdout.contains("incomplete=1"),
        "the summary lists the store"
    );
}

#[test]
fn a_403_on_every_store_is_the_product_without_permission() {
    let sb = four_stores(SandboxConfig {
        forbidden_stores: (0..4).map(StoreRef::Index).collect(),
        ..base_config()
    });
    let base = sb.base_url();
    let out = read_commerce(&base, &Dir::new("part-403-all"), None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.errors().is_empty());
    assert!(out.records("orders").is_empty());
    assert!(
        out.stdout
            .contains("no permission for the AfterShip Commerce API")
    );
    assert_eq!(out.statuses("orders").last().unwrap(), "INCOMPLETE");
}

#[test]
fn a_store_deleted_during_the_sync_is_gone_not_an_error_and_its_state_is_dropped() {
    let sb = four_stores(base_config());
    let base = sb.base_url();
    let ids = store_ids(&base);
    let dir = Dir::new("part-gone");
    let first = read_commerce(&base, &dir, None);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(stores_in_state(&first, "orders").contains(&ids[2]));
    // Most orders change, so that each stream needs at least three requests for
    // store 2; it is deleted after answering two: listed in /stores, then
    // 412/41204 part way through its reads.
    advance(&base, 3600, 0.9, 0.1);
    admin(
        &base,
        "POST",
        "/__sandbox/config",
        Some(&json!({"vanishing_stores": [{"store": ids[2], "after_requests": 2}]})),
    );
    let second = read(
        &dir,
        &fast_config(&base, json!({"page_size": 10, "max_retries": 1})),
        &catalog(&["orders", "fulfillments"], true),
        Some(&first.state()),
    );
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.errors().is_empty(), "{:?}", second.errors());
    let vanished = admin(&base, "GET", "/__sandbox/vanished", None);
    assert_eq!(vanished["stores"], json!([ids[2]]));
    let warned = second
        .logs("WARN")
        .into_iter()
        .any(|l| l.contains(&format!("store {}: it no longer exists", ids[2])));
    assert!(warned, "a WARN names the vanished store");
    for stream in ["orders", "fulfillments"] {
        assert!(
            !stores_in_state(&second, stream).contains(&ids[2]),
            "{stream}: the vanished store's cursor is dropped"
        );
        assert!(
            stores_in_state(&second, "orders").contains(&ids[3]),
            "{stream}: the other stores' cursors stand"
        );
    }
    // The healthy stores are exact: everything changed since the first sync.
    let healthy = [ids[0].as_str(), &ids[1], &ids[3]];
    for stream in ["orders", "fulfillments"] {
        let (emitted, _) = of_stores(&second, &base, stream, &healthy);
        let (first_emitted, truth) = of_stores(&first, &base, stream, &healthy);
        let union: BTreeSet<String> = first_emitted.union(&emitted).cloned().collect();
        assert_eq!(union, truth, "{stream}");
    }
}

#[test]
fn an_order_deleted_during_the_sync_ends_only_its_own_fulfillments() {
    let sb = four_stores(SandboxConfig {
        vanishing_orders: vec![VanishingOrder {
            store: StoreRef::Index(2),
            order: None,
            index: Some(3),
            after_requests: 0,
            after_listed: 1,
        }],
        ..base_config()
    });
    let base = sb.base_url();
    let ids = store_ids(&base);
    let out = read(
        &Dir::new("part-order"),
        &fast_config(&base, json!({"page_size": 10, "max_retries": 1})),
        &catalog(&["fulfillments"], true),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let vanished = admin(&base, "GET", "/__sandbox/vanished", None);
    let order = vanished["orders"][0]["id"].as_str().unwrap().to_string();
    assert!(
        out.logs("WARN").iter().any(|l| l.contains(&format!(
            "store {}, order {order}: it no longer exists",
            ids[2]
        ))),
        "a WARN names the order"
    );
    assert_eq!(out.statuses("fulfillments").last().unwrap(), "COMPLETE");
    // Every store, the one that lost an order included, equals the truth.
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (emitted, truth) = of_stores(&out, &base, "fulfillments", &all);
    assert_eq!(emitted, truth);
    assert!(stores_in_state(&out, "fulfillments").contains(&ids[2]));
}

#[test]
fn a_failing_store_fails_the_stream_after_the_other_stores_are_read() {
    let sb = four_stores(base_config());
    let base = sb.base_url();
    let ids = store_ids(&base);
    admin(
        &base,
        "POST",
        "/__sandbox/config",
        Some(&json!({"failing_stores": [ids[0]]})),
    );
    let out = read_commerce(&base, &Dir::new("part-fail"), None);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    for stream in COMMERCE {
        let e = out
            .errors()
            .into_iter()
            .find(|e| e["stream_descriptor"]["name"] == stream)
            .unwrap_or_else(|| panic!("{stream}: a TRACE ERROR"))
            .clone();
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("store {}", ids[0])),
            "{stream}: the error names the store: {message}"
        );
        assert_eq!(e["failure_type"], "transient_error", "{stream}");
    }
    // The other stores were read first, and their state stands.
    let healthy = [ids[1].as_str(), &ids[2], &ids[3]];
    assert_healthy(&out, &base, &healthy);
    let saved = stores_in_state(&out, "orders");
    assert!(healthy.iter().all(|s| saved.contains(*s)) && !saved.contains(&ids[0]));
}

#[test]
fn every_failure_at_once() {
    let sb = four_stores(SandboxConfig {
        forbidden_stores: vec![StoreRef::Index(0)],
        vanishing_stores: vec![VanishingStore {
            store: StoreRef::Index(1),
            after_requests: 2,
        }],
        vanishing_orders: vec![VanishingOrder {
            store: StoreRef::Index(2),
            order: None,
            index: Some(0),
            after_requests: 0,
            after_listed: 1,
        }],
        ..base_config()
    });
    let base = sb.base_url();
    let ids = store_ids(&base);
    let out = read_commerce(&base, &Dir::new("part-all"), None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    // Store 1 was deleted, and store 2 lost an order while it was listed (a
    // deletion shifts the pages after it: see docs, reconcile); store 3 is exact.
    assert_healthy(&out, &base, &[ids[3].as_str()]);
    let warned = |what: &str| out.logs("WARN").iter().any(|l| l.contains(what));
    assert!(warned(&format!("store {}: it no longer exists", ids[1])));
    assert!(warned(&format!(
        "store {}: skipped: AfterShip answered 403",
        ids[0]
    )));
    for stream in ["orders", "fulfillments"] {
        let saved = stores_in_state(&out, stream);
        assert!(
            !saved.contains(&ids[0]) && !saved.contains(&ids[1]),
            "{stream}"
        );
        assert!(
            saved.contains(&ids[2]) && saved.contains(&ids[3]),
            "{stream}"
        );
    }
}

/// The fulfillments STATE messages of `out` that save a walk's progress: their
/// position among the messages, and each store's `after`.
fn progress_states(out: &Output) -> Vec<(usize, Value)> {
    out.messages
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m["type"] == "STATE"
                && m["state"]["stream"]["stream_descriptor"]["name"] == "fulfillments"
        })
        .map(|(i, m)| (i, m["state"].clone()))
        .filter(|(_, s)| {
            s["stream"]["stream_state"]["states"]
                .as_array()
                .is_some_and(|l| l.iter().any(|e| e.get("progress").is_some()))
        })
        .collect()
}

/// No mark claims an order whose fulfillments were not emitted before it.
fn assert_marks_cover_what_they_claim(out: &Output, truth: &[TruthRecord]) -> usize {
    let marks = progress_states(out);
    for (at, state) in &marks {
        let emitted: BTreeSet<String> = out.messages[..*at]
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == "fulfillments")
            .map(|m| key_of("fulfillments", &m["record"]["data"]))
            .collect();
        for entry in state["stream"]["stream_state"]["states"]
            .as_array()
            .unwrap()
        {
            let Some(after) = entry["progress"]["after"].as_str() else {
                continue;
            };
            let store = entry["partition"]["store_id"].as_str().unwrap();
            for r in truth {
                let mine = r.store_id.as_deref() == Some(store);
                if mine && r.order_id.as_deref().is_some_and(|o| o <= after) {
                    assert!(
                        emitted.contains(&r.key),
                        "{} claimed before it was emitted",
                        r.key
                    );
                }
            }
        }
    }
    marks.len()
}

fn one_big_store(latency_ms: u64) -> aftership_sandbox::BlockingSandbox {
    start(SandboxConfig {
        counts: [("stores".to_string(), 1), ("orders".to_string(), 450)]
            .into_iter()
            .collect(),
        latency_ms,
        ..base_config()
    })
}

#[test]
fn a_walk_stopped_by_sigterm_or_kill_9_resumes_and_loses_nothing() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let sb = one_big_store(5);
    let base = sb.base_url();
    let dir = Dir::new("part-marks-kill");
    let cfg = fast_config(&base, json!({"page_size": 50}));
    let truth = truth(&base, "fulfillments", "");
    // SIGTERM once the walk has saved its progress.
    let c = dir.write("config.json", &cfg);
    let k = dir.write("catalog.json", &catalog(&["fulfillments"], true));
    let mut child = Command::new(BIN)
        .args(["read", "--config", &path(&c), "--catalog", &path(&k)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        let marked = line.contains("\"progress\"");
        lines.push(std::mem::take(&mut line));
        if marked {
            break;
        }
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    for l in reader.lines() {
        lines.push(l.unwrap() + "\n");
    }
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
    let stopped = parse_output(None, lines.concat(), String::new());
    assert!(assert_marks_cover_what_they_claim(&stopped, &truth) >= 1);
    // Then kill -9 at random moments, resuming from the last STATE each time.
    let seen = kill_and_resume(&dir, &cfg, &["fulfillments"], 4, 1500);
    let want: BTreeSet<String> = truth.iter().map(|r| r.key.clone()).collect();
    let missing: Vec<_> = want.difference(&seen["fulfillments"]).collect();
    assert!(missing.is_empty(), "lost {} fulfillments", missing.len());
}

#[test]
fn a_long_walk_of_orders_saves_its_progress_and_resumes_after_it() {
    let sb = one_big_store(0);
    let base = sb.base_url();
    let dir = Dir::new("part-marks");
    let cfg = fast_config(&base, json!({"page_size": 50}));
    let cat = catalog(&["fulfillments"], true);
    let out = read(&dir, &cfg, &cat, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let truth = truth(&base, "fulfillments", "");
    let marks = progress_states(&out);
    let _biggest = truth.iter().fold(
        std::collections::BTreeMap::<&str, usize>::new(),
        |mut m, r| {
            *m.entry(r.store_id.as_deref().unwrap()).or_default() += 1;
            m
        },
    );
    assert!(
        marks.len() >= 2,
        "a walk of hundreds of orders saves its progress as it goes ({} marks; fulfillments per store {_biggest:?})",
        marks.len()
    );
    assert_marks_cover_what_they_claim(&out, &truth);
    // A sync resumed from the first mark asks only for the orders after it.
    let (_, first_mark) = &marks[0];
    let entry = first_mark["stream"]["stream_state"]["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e.get("progress").is_some())
        .unwrap()
        .clone();
    let store = entry["partition"]["store_id"].as_str().unwrap().to_string();
    let after = entry["progress"]["after"].as_str().unwrap().to_string();
    let before = requests_on(
        &admin(&base, "GET", "/__sandbox/stats", None),
        "/fulfillments",
    );
    let resumed = read(&dir, &cfg, &cat, Some(&json!([first_mark])));
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    let asked = requests_on(
        &admin(&base, "GET", "/__sandbox/stats", None),
        "/fulfillments",
    ) - before;
    let orders = truth_keys(&base, "orders", "");
    let mine: Vec<&String> = orders
        .iter()
        .filter(|k| k.starts_with(&format!("{store}/")))
        .collect();
    let remaining = mine
        .iter()
        .filter(|k| k.split_once('/').is_some_and(|(_, o)| o > after.as_str()))
        .count();
    let others: usize = orders.len() - mine.len();
    assert!(
        asked as usize <= remaining + others,
        "the resumed walk asked {asked} fulfillments requests; {remaining} orders of store {store} remain after {after}, {others} in other stores"
    );
    assert!(
        (asked as usize) < orders.len(),
        "the store was not started again"
    );
    let mut union = out.keys("fulfillments");
    union.extend(resumed.keys("fulfillments"));
    assert_eq!(union, truth.iter().map(|r| r.key.clone()).collect());
}
