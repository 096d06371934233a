//! Listings AfterShip caps: Commerce serves 200 pages × `limit` to one query (50 at
//! most: 10,000 rows), Protection 1000 × 20. A `page_size` of 5 lowers the Commerce
//! ceiling to 1,000 rows, so a store of a few thousand orders is past it.
//!
//! Orders are read past the ceiling by their two creation orders (up to twice the
//! ceiling); incremental orders newest-updated first, stopping at the cursor; what
//! no sort order reaches is said in a WARN, the stream's status and the summary.

mod common;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn small_pages(base: &str) -> Value {
    fast_config(base, json!({"page_size": 5}))
}

fn summary_of<'a>(out: &'a Output, stream: &str) -> &'a str {
    out.logs("INFO")
        .into_iter()
        .find(|l| l.starts_with(&format!("summary stream={stream} ")))
        .unwrap_or_else(|| panic!("no summary of {stream}"))
}

#[test]
fn orders_past_the_ceiling_are_read_by_both_creation_orders() {
    let sb = sandbox(
        20,
        &[],
        &[("stores", 1), ("orders", 1_800), ("fulfillments", 400)],
    );
    let base = sb.base_url();
    let dir = Dir::new("ceiling");
    let out = read(
        &dir,
        &small_pages(&base),
        &catalog(&["orders", "fulfillments"], false),
        None,
    );
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    for stream in ["orders", "fulfillments"] {
        let want = truth_keys(&base, stream, "");
        assert_eq!(out.keys(stream), want, "{stream} differs from the truth");
        assert_eq!(
            out.records(stream).len(),
            want.len(),
            "{stream} has duplicates"
        );
        assert_eq!(
            out.statuses(stream),
            ["STARTED", "RUNNING", "COMPLETE"],
            "{stream}"
        );
        assert!(!summary_of(&out, stream).contains("truncated"), "{stream}");
    }
    assert!(out.logs("WARN").is_empty(), "{:?}", out.logs("WARN"));
}

#[test]
fn what_no_query_reaches_is_said_loudly_never_dropped_in_silence() {
    let sb = sandbox(
        20,
        &[],
        &[
            ("stores", 1),
            ("orders", 2_300),
            ("products", 1_100),
            ("fulfillments", 50),
            ("query_claims", 5_050),
        ],
    );
    let base = sb.base_url();
    let dir = Dir::new("unreached");
    let out = read(
        &dir,
        &small_pages(&base),
        &catalog(
            &["orders", "products", "query_claims", "fulfillments"],
            false,
        ),
        None,
    );
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    let store = truth(&base, "stores", "")[0].key.clone();
    let warns = out.logs("WARN");
    let warned = |stream: &str, needle: &str| {
        warns.iter().any(|w| {
            w.starts_with(&format!("stream {stream}"))
                && w.contains(needle)
                && w.contains("truncated")
        })
    };
    // Orders: 1,000 newest-created and 1,000 oldest-created; 300 in between.
    assert_eq!(out.keys("orders").len(), 2_000);
    assert_eq!(
        out.records("orders").len(),
        2_000,
        "no duplicates where the passes meet"
    );
    assert!(warned("orders", &format!("store {store}")), "{warns:?}");
    assert!(warned("orders", "could not be reached"), "{warns:?}");
    // Fulfillments: their orders listing is cut the same way, and it says so.
    assert!(
        warned("fulfillments", "their fulfillments were not read"),
        "{warns:?}"
    );
    // Products have no sort order to reach further: 1,000 of 1,100.
    assert_eq!(out.keys("products").len(), 1_000);
    assert!(warned("products", "more records exist"), "{warns:?}");
    // Protection gives a total: the exact number missed.
    assert_eq!(out.keys("query_claims").len(), 5_000);
    assert!(
        warned(
            "query_claims",
            "50 records could not be reached (5000 of 5050 were read)"
        ),
        "{warns:?}"
    );
    for stream in ["orders", "products", "query_claims", "fulfillments"] {
        assert_eq!(
            out.statuses(stream).last().map(String::as_str),
            Some("INCOMPLETE"),
            "{stream}"
        );
        assert!(
            summary_of(&out, stream).contains("truncated=1"),
            "{}",
            summary_of(&out, stream)
        );
    }
}

#[test]
fn incremental_orders_cost_requests_in_proportion_to_what_changed() {
    let sb = sandbox(
        20,
        &[],
        &[("stores", 1), ("orders", 1_800), ("fulfillments", 50)],
    );
    let base = sb.base_url();
    let dir = Dir::new("incorders");
    let cfg = small_pages(&base);
    let cat = catalog(&["orders"], true);
    let first = read(&dir, &cfg, &cat, None);
    assert_eq!(first.code, Some(0));
    assert_eq!(first.keys("orders"), truth_keys(&base, "orders", ""));
    let full_requests = requests_on(&admin(&base, "GET", "/__sandbox/stats", None), "/orders");
    let state = first.state();
    let now = advance(&base, 3600, 0.01, 0.005);
    let second = read(&dir, &cfg, &cat, Some(&state));
    assert_eq!(second.code, Some(0), "{:?}", second.errors());
    let inc_requests = requests_on(&admin(&base, "GET", "/__sandbox/stats", None), "/orders");
    let changed: BTreeSet<String> = changed_at(&base, "orders", "updated_at", now)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(changed.len() >= 20, "{} changed", changed.len());
    let got = second.keys("orders");
    let missing: Vec<_> = changed.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "the incremental read missed {missing:?}"
    );
    println!(
        "orders: full read {full_requests} requests, incremental after {} changes {inc_requests} requests",
        changed.len()
    );
    // 27 changed orders at 5 a page: a handful of pages, not the 360 of a full walk.
    assert!(
        inc_requests * 20 <= full_requests,
        "{inc_requests} vs {full_requests}"
    );
}
