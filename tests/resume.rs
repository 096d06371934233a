//! Resumable full refresh: a full refresh killed halfway goes on, from its last
//! STATE, where it stopped: a page-number list (memberships), a list read in
//! created_at windows (item_returns), and a list per store (products). The
//! resumed read asks for at most the pages left (and the last page emitted once
//! more), the two reads together emit every record, and the stream's final
//! STATE says it was read to its end, so that the next read reads it in full.

mod common;
use aftership_sandbox::SandboxConfig;
use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Read `stream` in full refresh from `state`, and kill the connector (SIGKILL)
/// once `after` of its records are out. Every whole line written before the
/// kill counts.
fn read_and_kill(dir: &Dir, config: &Value, stream: &str, after: usize) -> Output {
    let c = dir.write("config.json", config);
    let k = dir.write("catalog.json", &catalog(&[stream], false));
    let s = dir.write("state.json", &json!([]));
    let mut child = Command::new(BIN)
        .args(["read", "--config", &path(&c), "--catalog", &path(&k)])
        .args(["--state", &path(&s)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("connector starts");
    let stdout = child.stdout.take().expect("stdout");
    let (mut lines, mut records, mut killed) = (String::new(), 0, false);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(m) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if m["type"] == "RECORD" && m["record"]["stream"] == stream {
            records += 1;
        }
        lines.push_str(&line);
        lines.push('\n');
        if records >= after && !killed {
            let _ = child.kill();
            killed = true;
        }
    }
    let status = child.wait().expect("connector ends");
    assert!(killed, "{stream}: the read ended before {after} records");
    parse_output(status.code(), lines, String::new())
}

/// The STATE payloads of `stream` in `out`, in order.
fn states(out: &Output, stream: &str) -> Vec<Value> {
    out.messages
        .iter()
        .filter(|m| {
            m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == stream
        })
        .map(|m| m["state"]["stream"]["stream_state"].clone())
        .collect()
}

const COMPLETE: &str = "__ab_full_refresh_sync_complete";

/// Kill a full refresh of `stream` after `after` records, resume it from its last
/// STATE, and check what both reads did. Returns the killed read's last state
/// and the resumed read's requests on `path`.
fn kill_then_resume(
    base: &str,
    stream: &str,
    path: &str,
    config: &Value,
    after: usize,
) -> (Value, u64, Output) {
    let dir = Dir::new(&format!("rfr-{stream}-{after}"));
    let killed = read_and_kill(&dir, config, stream, after);
    assert_ne!(killed.code, Some(0), "{stream}: the first read was killed");
    let last = states(&killed, stream)
        .pop()
        .unwrap_or_else(|| panic!("{stream}: no STATE before the kill"));
    assert!(
        last.get(COMPLETE).is_none() && last != json!({}),
        "{stream}: the state of a read killed halfway claims nothing or everything: {last}"
    );
    admin(base, "POST", "/__sandbox/stats/reset", None);
    let resumed = read(
        &dir,
        config,
        &catalog(&[stream], false),
        Some(&killed.state()),
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stdout);
    let requests = requests_on(&admin(base, "GET", "/__sandbox/stats", None), path);
    eprintln!(
        "{stream}: killed after {} records at state {last}; resumed with {requests} requests, {} records",
        killed.keys(stream).len(),
        resumed.keys(stream).len()
    );
    // Together the two reads emitted every record.
    let union: BTreeSet<String> = killed
        .keys(stream)
        .union(&resumed.keys(stream))
        .cloned()
        .collect();
    assert_eq!(union, truth_keys(base, stream, ""), "{stream}");
    // The resumed read did not start over.
    assert!(
        resumed.keys(stream).len() < union.len(),
        "{stream}: the resumed read emitted every record again"
    );
    // It ends saying the stream was read to its end: the next read reads it all.
    assert_eq!(
        states(&resumed, stream).last(),
        Some(&json!({ COMPLETE: true })),
        "{stream}"
    );
    let again = read(
        &dir,
        config,
        &catalog(&[stream], false),
        Some(&resumed.state()),
    );
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert_eq!(
        again.keys(stream),
        union,
        "{stream}: a read after the end is a full read"
    );
    (last, requests, killed)
}

fn pages(records: usize, size: usize) -> u64 {
    records.div_ceil(size).max(1) as u64
}

fn slow(records: usize, counts: &[(&str, usize)]) -> aftership_sandbox::BlockingSandbox {
    start(SandboxConfig {
        latency_ms: 5,
        ..sandbox_config(records, &[], counts)
    })
}

#[test]
fn a_page_number_full_refresh_resumes_at_the_page_it_reached() {
    let sb = slow(50, &[("memberships", 600)]);
    let base = sb.base_url();
    let config = fast_config(&base, json!({"page_size": 20}));
    let (last, requests, _) = kill_then_resume(&base, "memberships", "/memberships", &config, 300);
    // {"last_page": k, "page_size": 20}: pages 1..=k were emitted.
    assert_eq!(last["page_size"], 20, "{last}");
    let k = last["last_page"].as_u64().expect("last_page");
    assert!(k >= 15, "{last}");
    // The pages after k, and page k once more.
    let all = pages(600, 20);
    assert!(
        requests <= all - k + 1,
        "resumed read asked {requests} pages; {all} in all, {k} emitted"
    );
}

#[test]
fn a_windowed_full_refresh_resumes_in_the_window_it_reached() {
    // 200 pages × 10 = 2,000 returns per query: 3,000 are read in created_at
    // windows (halves), and the kill lands in the second thousand.
    let sb = slow(50, &[("item_returns", 3_000)]);
    let base = sb.base_url();
    let config = fast_config(&base, json!({"page_size": 10}));
    // How many requests a whole read takes.
    let dir = Dir::new("rfr-returns-full");
    admin(&base, "POST", "/__sandbox/stats/reset", None);
    let full = read(&dir, &config, &catalog(&["item_returns"], false), None);
    assert_eq!(full.code, Some(0), "{}", full.stdout);
    let whole = requests_on(&admin(&base, "GET", "/__sandbox/stats", None), "/returns");
    eprintln!("item_returns: a whole read asks {whole} pages");
    // Killed in the first half (its state names the window's both ends) and in
    // the second (open-ended).
    for (after, bounded) in [(700, true), (1_500, false)] {
        admin(&base, "POST", "/__sandbox/stats/reset", None);
        let (last, requests, killed) =
            kill_then_resume(&base, "item_returns", "/returns", &config, after);
        assert_eq!(last["page_size"], 10, "{last}");
        assert!(
            last.get("window_min").is_some() || last.get("window_max").is_some(),
            "a windowed read saves its window: {last}"
        );
        assert_eq!(last.get("window_max").is_some(), bounded, "{last}");
        // Pages whose records the killed read emitted, one STATE each.
        let emitted = states(&killed, "item_returns")
            .iter()
            .filter(|s| s["last_page"].as_u64().is_some_and(|p| p > 0))
            .count() as u64;
        assert!(emitted >= after as u64 / 10, "{emitted}");
        // The rest, the last page emitted once more, and a window edge that
        // moved with the clock (windows are halved at `now`).
        assert!(
            requests <= whole - emitted + 3,
            "resumed read asked {requests} pages; a whole read asks {whole}, {emitted} were emitted"
        );
    }
}

#[test]
fn a_per_store_full_refresh_skips_the_stores_done_and_resumes_the_one_it_reached() {
    let sb = slow(50, &[("stores", 4), ("products", 400)]);
    let base = sb.base_url();
    let config = fast_config(&base, json!({"page_size": 10}));
    let per_store: BTreeMap<String, usize> =
        truth(&base, "products", "")
            .into_iter()
            .fold(BTreeMap::new(), |mut m, r| {
                *m.entry(r.store_id.expect("store_id")).or_default() += 1;
                m
            });
    assert_eq!(per_store.len(), 4, "{per_store:?}");
    let (last, requests, _) = kill_then_resume(&base, "products", "/products", &config, 250);
    // {"states": [{"partition": {"store_id": ..}, "cursor": {..}}]}
    let entries = last["states"].as_array().expect("per-store entries");
    let mut bound = 0;
    let mut done = 0;
    for (store, n) in &per_store {
        let entry = entries
            .iter()
            .find(|e| e["partition"] == json!({"store_id": store}));
        let all = pages(*n, 10);
        bound += match entry.map(|e| &e["cursor"]) {
            Some(c) if c[COMPLETE] == true => {
                done += 1;
                0
            }
            Some(c) => {
                assert_eq!(c["page_size"], 10, "{last}");
                all - c["last_page"].as_u64().expect("last_page") + 1
            }
            None => all,
        };
    }
    assert!(done >= 1, "the kill came after a store was done: {last}");
    assert!(
        requests <= bound,
        "resumed read asked {requests} pages; {bound} were left"
    );
}

#[test]
fn full_refreshes_killed_at_random_moments_lose_nothing() {
    // The four resumable full-refresh streams, locations with three searches.
    let streams = ["memberships", "item_returns", "products", "locations"];
    let sb = start(SandboxConfig {
        latency_ms: 15,
        ..sandbox_config(400, &[], &[("memberships", 300), ("stores", 4)])
    });
    let base = sb.base_url();
    let dir = Dir::new("rfr-random");
    let searches = json!({"locations_searches": [
        {"slug": "fedex", "country": "USA", "postal_code": "10001"},
        {"slug": "ups", "country": "USA", "postal_code": "10001"},
        {"slug": "dhl", "country": "USA", "postal_code": "10001"}]});
    let cfg = config(&base, merged(json!({"page_size": 10}), searches));
    let seen = kill_and_resume(&dir, &cfg, &streams, 5, 900);
    for s in streams {
        let query = if s == "locations" { FEDEX_SEARCH } else { "" };
        let want = truth_keys(&base, s, query);
        assert!(!want.is_empty(), "{s}");
        let missing: Vec<_> = want.difference(&seen[s]).collect();
        assert!(
            missing.is_empty(),
            "{s}: lost {} records across kills: {:?}",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
    }
}

#[test]
fn an_unusable_full_refresh_state_is_a_config_error_naming_the_stream() {
    let sb = sandbox(40, &[], &[]);
    let base = sb.base_url();
    let dir = Dir::new("rfr-bad-state");
    let cfg = fast_config(&base, json!({}));
    let cat = catalog(&["memberships", "products"], false);
    let stream = |name: &str, state: Value| json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}});
    for (state, says) in [
        (
            stream("memberships", json!({"page": 7})),
            "stream `memberships` is not a full-refresh state",
        ),
        (
            stream("memberships", json!({"last_page": -1, "page_size": 20})),
            "`last_page` must be a whole number",
        ),
        (
            stream(
                "products",
                json!({"states": [{"partition": {"store_id": "s1"}}]}),
            ),
            "stream `products`: the entry of partition",
        ),
    ] {
        admin(&base, "POST", "/__sandbox/stats/reset", None);
        let out = read(&dir, &cfg, &cat, Some(&json!([state])));
        assert_eq!(out.code, Some(1), "{state}: {}", out.stdout);
        let e = out.errors();
        assert_eq!(e.len(), 1, "{state}: {e:?}");
        assert_eq!(e[0]["failure_type"], "config_error", "{state}");
        let m = e[0]["message"].as_str().unwrap();
        assert!(m.contains(says), "{state}: {m}");
        let stats = admin(&base, "GET", "/__sandbox/stats", None);
        assert_eq!(stats["total"], 0, "{state}: requests were sent");
    }
}
