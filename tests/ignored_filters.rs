//! A server that accepts its date filters but ignores them (fact sheet §8: Tracking
//! has not always honoured `updated_at_min/max`): the connector judges each record
//! by the filter's own field, says so once, and reads the stream in one walk
//! without date filters, so every record is emitted once and the requests stay
//! near those of one unfiltered walk.

mod common;
use aftership_sandbox::{Product, SandboxConfig};
use common::*;
use serde_json::Value;
use source_aftership::state::Cursor;
use source_aftership::streams::StreamDef;
use std::collections::BTreeSet;

const STREAMS: [&str; 7] = [
    "trackings",
    "shipping_rates",
    "shipping_labels",
    "shipping_manifests",
    "cancel_labels",
    "pickups",
    "cancel_pickups",
];

fn stats(base: &str) -> Value {
    admin(base, "GET", "/__sandbox/stats", None)
}

fn reset(base: &str) {
    admin(base, "POST", "/__sandbox/stats/reset", None);
}

fn ignoring_warns<'a>(out: &'a Output, stream: &str) -> Vec<&'a str> {
    out.logs("WARN")
        .into_iter()
        .filter(|l| {
            l.starts_with(&format!("stream {stream}:")) && l.contains("ignores the date filter")
        })
        .collect()
}

/// Every record once: no key twice in the stream's records.
fn once(out: &Output, stream: &str) {
    assert_eq!(
        out.records(stream).len(),
        out.keys(stream).len(),
        "{stream}: a record was emitted more than once"
    );
}

#[test]
fn a_server_that_ignores_its_date_filters_costs_one_walk_and_floods_nothing() {
    let sb = start(SandboxConfig {
        ignore_date_filters: vec![Product::Tracking, Product::Shipping],
        ..sandbox_config(600, &[], &[])
    });
    let base = sb.base_url();
    let dir = Dir::new("ignored");
    let cfg = fast_config(&base, serde_json::json!({"page_size": 20}));
    let defs: Vec<&StreamDef> = STREAMS.iter().map(|s| row(s)).collect();

    // One unfiltered walk of each stream: a full refresh from a start date before
    // every record (no record lies outside its one window, so nothing to detect).
    reset(&base);
    let full = read(&dir, &cfg, &catalog(&STREAMS, false), None);
    assert_eq!(full.code, Some(0), "{:?}", full.errors());
    let s = stats(&base);
    let single: Vec<u64> = defs.iter().map(|d| requests_on(&s, d.path)).collect();
    for d in &defs {
        assert_eq!(
            full.keys(d.name),
            truth_keys(&base, d.name, ""),
            "{}",
            d.name
        );
        assert!(!full.keys(d.name).is_empty(), "{}", d.name);
        once(&full, d.name);
    }

    // A first incremental sync: windows from the start date (or the retention
    // edge), which the server ignores.
    reset(&base);
    let first = read(&dir, &cfg, &catalog(&STREAMS, true), None);
    assert_eq!(first.code, Some(0), "{:?}", first.errors());
    let s = stats(&base);
    for (d, walk) in defs.iter().zip(&single) {
        assert_eq!(
            first.keys(d.name),
            truth_keys(&base, d.name, ""),
            "{}",
            d.name
        );
        once(&first, d.name);
        let requests = requests_on(&s, d.path);
        println!(
            "{}: one unfiltered walk {walk} requests, first incremental sync {requests}",
            d.name
        );
        assert!(
            requests <= 3 * walk,
            "{}: {requests} requests, one unfiltered walk takes {walk}",
            d.name
        );
        assert!(ignoring_warns(&first, d.name).len() <= 1, "{}", d.name);
    }
    // The ignored filter is said, once per stream, wherever a window was asked for.
    assert_eq!(
        ignoring_warns(&first, "trackings").len(),
        1,
        "{:?}",
        first.logs("WARN")
    );

    // An incremental sync after changes: what the cursor asks for, each once.
    let state = first.state();
    advance(&base, 3600, 0.05, 0.02);
    let second = read(&dir, &cfg, &catalog(&STREAMS, true), Some(&state));
    assert_eq!(second.code, Some(0), "{:?}", second.errors());
    let s = stats(&base);
    for (d, walk) in defs.iter().zip(&single) {
        let since = match cursor_in(&state, d) {
            Cursor::Single(Some(c)) => c,
            other => panic!("{}: {other:?}", d.name),
        };
        let want: BTreeSet<String> = truth(&base, d.name, "")
            .into_iter()
            .filter(|r| r.cursor(d).is_some_and(|c| c >= since) && reachable(d, r, &state))
            .map(|r| r.key)
            .collect();
        assert!(!want.is_empty(), "{}: nothing changed", d.name);
        assert_eq!(second.keys(d.name), want, "{}", d.name);
        once(&second, d.name);
        let requests = requests_on(&s, d.path);
        assert!(
            requests <= 3 * walk,
            "{}: {requests} requests, one unfiltered walk takes {walk}",
            d.name
        );
    }
}
