//! The built connector against the in-process AfterShip sandbox: every stream's
//! full refresh equals the sandbox's truth, incremental reads catch every change
//! with few requests, a kill at any moment loses nothing, failures are reported
//! the way Airbyte expects.

mod common;
use aftership_sandbox::SandboxConfig;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ALL: &[&str] = &[];

fn search_config(base: &str, page_size: u32) -> Value {
    fast_config(
        base,
        merged(fedex_search(), json!({"page_size": page_size})),
    )
}

#[test]
fn full_refresh_of_every_stream_equals_the_truth() {
    let sb = sandbox(150, &[], &[("orders", 30), ("products", 30)]);
    let base = sb.base_url();
    let dir = Dir::new("full");
    // A small page size forces several pages on every paginated stream.
    let out = read(&dir, &search_config(&base, 7), &catalog(ALL, false), None);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(out.errors().is_empty());
    for s in source_aftership::streams::STREAMS.iter() {
        let want = truth_keys(&base, s.name, truth_query(s));
        let got = out.keys(s.name);
        assert!(!want.is_empty(), "{}: the sandbox serves nothing", s.name);
        assert_eq!(got, want, "stream {} differs from the truth", s.name);
        assert_eq!(
            out.records(s.name).len(),
            want.len(),
            "stream {} has duplicates",
            s.name
        );
        assert_eq!(
            out.statuses(s.name),
            ["STARTED", "RUNNING", "COMPLETE"],
            "{}",
            s.name
        );
    }
    // Commerce children carry their parents' ids.
    for s in ["orders", "products", "fulfillments"] {
        let parents = row(s).parent_fields();
        assert!(!parents.is_empty(), "{s} has parents");
        assert!(
            out.records(s)
                .iter()
                .all(|r| parents.iter().all(|p| r[*p].is_string())),
            "{s}: a record without {parents:?}"
        );
    }
}

#[test]
fn returns_beyond_the_page_cap_are_sliced_not_cut() {
    // 200 pages × 50 = 10,000 returns per query: 12,000 must be read through
    // created_at windows.
    let sb = sandbox(50, &[], &[("item_returns", 12_000)]);
    let base = sb.base_url();
    let dir = Dir::new("cap");
    let out = read(
        &dir,
        &fast_config(&base, json!({})),
        &catalog(&["item_returns"], false),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.keys("item_returns"),
        truth_keys(&base, "item_returns", "")
    );
}

#[test]
fn incremental_reads_catch_every_change_with_few_requests() {
    let streams = [
        "trackings",
        "courier_connections",
        "item_tags",
        "query_claims",
        "stores",
        "orders",
        "fulfillments",
        "shipping_labels",
        "pickups",
        "shipper_accounts",
    ];
    let sb = sandbox(300, &[], &[("orders", 40)]);
    let base = sb.base_url();
    let dir = Dir::new("inc");
    let cat = catalog(&streams, true);
    let first = read(&dir, &fast_config(&base, json!({})), &cat, None);
    assert_eq!(first.code, Some(0), "{}", first.stdout);
    for name in streams {
        assert_eq!(
            first.keys(name),
            truth_keys(&base, name, ""),
            "{name}: the first incremental read differs from the truth"
        );
    }
    let first_stats = admin(&base, "GET", "/__sandbox/stats", None);
    let state = first.state();
    advance(&base, 3600, 0.05, 0.05);
    let second = read(&dir, &fast_config(&base, json!({})), &cat, Some(&state));
    assert_eq!(second.code, Some(0), "{}", second.stdout);
    let second_stats = admin(&base, "GET", "/__sandbox/stats", None);
    for name in streams {
        let def = row(name);
        let old = cursor_in(&state, def);
        let got = second.keys(name);
        let mut want = BTreeSet::new();
        for r in truth(&base, name, "") {
            let Some(t) = r.cursor(def) else {
                continue;
            };
            let Some(since) = claimed(&old, r.store_id.as_deref()) else {
                want.insert(r.key);
                continue;
            };
            // Shipping filters on created_at only: updates to records created
            // before cursor − lookback are out of reach by design (documented).
            if t >= since && reachable(def, &r, &state) {
                want.insert(r.key);
            }
        }
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{name}: incremental read missed {missing:?}"
        );
        assert!(
            !want.is_empty(),
            "{name}: the sandbox changed nothing; the test proves nothing"
        );
    }
    // Server-side filters make the second read cheap.
    for path in ["/trackings", "/labels", "/pickups"] {
        let (a, b) = (
            requests_on(&first_stats, path),
            requests_on(&second_stats, path),
        );
        assert!(
            b * 3 <= a.max(3),
            "{path}: {b} requests on the incremental read vs {a} on the first"
        );
    }
    // Far-future state of the streams with one cursor: nothing to emit for them.
    let single = |s: &&&str| row(s).parent_fields().is_empty();
    let future: Vec<Value> = streams
        .iter()
        .filter(single)
        .map(|s| {
            let f = row(s).cursor.unwrap();
            json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": s}, "stream_state": {f: "2099-01-01T00:00:00Z"}}})
        })
        .collect();
    let third = read(
        &dir,
        &fast_config(&base, json!({})),
        &cat,
        Some(&Value::Array(future)),
    );
    assert_eq!(third.code, Some(0));
    for s in streams.iter().filter(single) {
        assert!(
            third.records(s).is_empty(),
            "{s} emitted records past a 2099 cursor"
        );
    }
}

#[test]
fn kill_at_any_moment_and_resume_loses_nothing() {
    let streams = ["trackings", "shipping_labels", "orders", "query_coverages"];
    let sb = start(SandboxConfig {
        latency_ms: 15,
        ..sandbox_config(400, &[], &[("orders", 60)])
    });
    let base = sb.base_url();
    let dir = Dir::new("kill");
    let cfg = config(&base, json!({"page_size": 20, "slice_days": 3}));
    let seen = kill_and_resume(&dir, &cfg, &streams, 6, 900);
    for s in streams {
        let want = truth_keys(&base, s, "");
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
fn a_product_without_permission_is_skipped_and_the_sync_succeeds() {
    let sb = start(SandboxConfig {
        deny: vec![aftership_sandbox::Product::Protection],
        ..sandbox_config(50, &[], &[])
    });
    let base = sb.base_url();
    let dir = Dir::new("deny");
    let out = read(
        &dir,
        &config(&base, json!({})),
        &catalog(&["trackings", "query_claims", "query_coverages"], true),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(out.errors().is_empty());
    assert_eq!(out.statuses("query_claims"), ["STARTED", "INCOMPLETE"]);
    assert_eq!(out.statuses("trackings").last().unwrap(), "COMPLETE");
    assert_eq!(out.keys("trackings"), truth_keys(&base, "trackings", ""));
    assert!(
        out.stdout
            .contains("no permission for the AfterShip Protection API")
    );
    let c = dir.write("c.json", &config(&base, json!({})));
    let chk = run(&["check", "--config", &path(&c)]);
    let status = &chk.messages.last().unwrap()["connectionStatus"];
    assert_eq!(status["status"], "SUCCEEDED");
    assert!(
        status["message"].as_str().unwrap().contains("Protection"),
        "{status}"
    );
}

#[test]
fn a_wrong_key_fails_check_and_read_as_a_config_error() {
    let sb = sandbox(20, &[], &[]);
    let base = sb.base_url();
    let dir = Dir::new("badkey");
    let cfg = config(&base, json!({"api_key": "wrong-key-0987654321"}));
    let c = dir.write("c.json", &cfg);
    let chk = run(&["check", "--config", &path(&c)]);
    assert_eq!(chk.code, Some(0));
    let status = &chk.messages.last().unwrap()["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    assert!(status["message"].as_str().unwrap().contains("401"));
    assert!(!chk.stdout.contains("wrong-key-0987654321"));
    let out = read(&dir, &cfg, &catalog(&["trackings", "roles"], false), None);
    assert_eq!(out.code, Some(1));
    assert!(!out.stdout.contains("wrong-key-0987654321"));
    let errors = out.errors();
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e["failure_type"] == "config_error"),
        "{errors:?}"
    );
}

#[test]
fn check_reports_an_unreachable_host_clearly() {
    let dir = Dir::new("down");
    let c = dir.write(
        "c.json",
        &config("http://127.0.0.1:9", json!({"max_retries": 0})),
    );
    let chk = run(&["check", "--config", &path(&c)]);
    // An outage is not a config to fix: a transient_error and exit 1, no
    // CONNECTION_STATUS FAILED.
    assert_eq!(chk.code, Some(1), "{}", chk.stdout);
    assert!(
        !chk.messages
            .iter()
            .any(|m| m["type"] == "CONNECTION_STATUS"),
        "{}",
        chk.stdout
    );
    let errors = chk.errors();
    assert_eq!(errors.len(), 1, "{}", chk.stdout);
    assert_eq!(errors[0]["failure_type"], "transient_error");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("Could not reach AfterShip"),
        "{}",
        errors[0]
    );
}

#[test]
fn transient_faults_are_retried_to_the_exact_truth() {
    let sb = sandbox(
        200,
        &[
            "500:0.08",
            "503:0.05",
            "truncate:0.05",
            "reset:0.05",
            "429:0.03",
        ],
        &[],
    );
    let base = sb.base_url();
    let dir = Dir::new("faults");
    let streams = [
        "trackings",
        "item_returns",
        "query_coverages",
        "shipping_labels",
        "memberships",
    ];
    let out = read(
        &dir,
        &fast_config(&base, json!({"page_size": 10, "max_retries": 10})),
        &catalog(&streams, true),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    for s in streams {
        assert_eq!(out.keys(s), truth_keys(&base, s, ""), "{s}");
    }
    let stats = admin(&base, "GET", "/__sandbox/stats", None);
    let failed: u64 = ["500", "503", "429"]
        .iter()
        .map(|code| {
            stats["requests"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(|v| v[code].as_u64())
                .sum::<u64>()
        })
        .sum();
    assert!(failed > 0, "no fault fired; the test proves nothing");
}

#[test]
fn a_looping_api_stops_the_stream_with_a_clear_error() {
    let sb = sandbox(400, &["repeat-cursor:1.0"], &[]);
    let base = sb.base_url();
    let dir = Dir::new("loop");
    let out = read(
        &dir,
        &fast_config(&base, json!({"page_size": 20})),
        &catalog(&["trackings", "shipping_labels", "roles"], false),
        None,
    );
    assert_ne!(out.code, Some(0));
    let errors = out.errors();
    let by_stream: Vec<_> = errors
        .iter()
        .filter_map(|e| e["stream_descriptor"]["name"].as_str())
        .collect();
    assert!(
        by_stream.contains(&"trackings") && by_stream.contains(&"shipping_labels"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("already returned"))
    );
    assert_eq!(out.statuses("roles").last().unwrap(), "COMPLETE");
}

#[test]
fn a_401_in_the_middle_of_a_sync_checkpoints_then_fails_as_config_error() {
    let sb = sandbox(400, &["unauthorized-after:6"], &[]);
    let base = sb.base_url();
    let dir = Dir::new("mid401");
    let out = read(
        &dir,
        &fast_config(&base, json!({"page_size": 20})),
        &catalog(&["trackings"], true),
        None,
    );
    assert_eq!(out.code, Some(1));
    let errors = out.errors();
    assert!(
        errors.iter().any(|e| e["failure_type"] == "config_error"),
        "{errors:?}"
    );
    // Records read before the 401 are emitted; the state never claims more.
    assert!(!out.records("trackings").is_empty());
    let (wrong, claiming) = claims_beyond_emitted(&out, &base, row("trackings"));
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(claiming > 0, "no STATE before the 401: nothing was checked");
}

/// The one TRACE ERROR of a run that failed on its inputs: a config_error whose
/// message contains every one of `names`, exit 1, and nothing read.
fn assert_config_error(out: &Output, names: &[&str]) {
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["failure_type"], "config_error", "{errors:?}");
    let message = errors[0]["message"].as_str().unwrap_or_default();
    for name in names {
        assert!(message.contains(name), "{message:?} does not name {name:?}");
    }
    assert!(out.messages.iter().all(|m| m["type"] != "RECORD"));
}

#[test]
fn bad_inputs_end_in_clear_errors() {
    let dir = Dir::new("bad");
    // Nothing listens on port 9: no retries, so a read that gets that far ends at once.
    let c = dir.write(
        "c.json",
        &config("http://127.0.0.1:9", json!({"max_retries": 0})),
    );
    let entry = |name: &str, mode: &str| json!({"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": mode, "destination_sync_mode": "append"});
    let unknown = "__AIRBYTE__stream_that_does_not_exist";
    for (catalog, names) in [
        (
            json!({"streams": [entry("roles", "full_refresh"), entry(unknown, "full_refresh")]}),
            vec!["streams[1]", "unknown stream", unknown],
        ),
        (
            json!({"streams": [entry("roles", "INVALID")]}),
            vec!["stream `roles`", "INVALID"],
        ),
    ] {
        let cat = dir.write("cat.json", &catalog);
        let out = run(&["read", "--config", &path(&c), "--catalog", &path(&cat)]);
        let file = path(&cat);
        assert_config_error(
            &out,
            &[&["Invalid catalog file", &file], &names[..]].concat(),
        );
    }
    // A config file that is not UTF-8, let alone JSON.
    let bin = dir.0.join("binary.json");
    std::fs::write(&bin, [0u8, 159, 146, 150, 255]).unwrap();
    let bin = path(&bin);
    let cat = dir.write("cat.json", &catalog(&["roles"], false));
    let names = ["The config file", &bin, "not valid JSON"];
    let out = run(&["discover", "--config", &bin]);
    assert_config_error(&out, &names);
    let out = run(&["read", "--config", &bin, "--catalog", &path(&cat)]);
    assert_config_error(&out, &names);
    // `check` says it as a FAILED connection status, and exits 0.
    let out = run(&["check", "--config", &bin]);
    assert_eq!(out.code, Some(0));
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let status = &out.messages.last().unwrap()["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    let message = status["message"].as_str().unwrap_or_default();
    for name in names {
        assert!(message.contains(name), "{message:?} does not name {name:?}");
    }
}

/// A `--state` that is valid JSON but not a state this connector can use fails
/// the read as a config_error naming the file and what is wrong, before any
/// request: starting over silently could mean hours of re-reading. Legacy, empty
/// and `[]` states keep working.
#[test]
fn an_unusable_state_is_a_config_error_never_a_silent_full_resync() {
    let sb = sandbox(60, &[], &[("orders", 10)]);
    let base = sb.base_url();
    let dir = Dir::new("state");
    let cfg = fast_config(&base, json!({}));
    let cat = catalog(&["trackings", "orders"], true);
    let stream = |name: &str, state: Value| json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}});
    for (state, says) in [
        (
            json!([{"type": 42}]),
            "`type` must be one of STREAM, GLOBAL, LEGACY",
        ),
        (json!({"bookmarks": 1}), "names no stream of this source"),
        (
            json!({"trackings": "2025-01-01T00:00:00Z"}),
            "stream `trackings` must be an object",
        ),
        (
            json!([stream("trackings", json!({"updated_at": "soon"}))]),
            "'soon' is not an RFC 3339 date-time",
        ),
        (
            json!([stream("trackings", json!({"updated_at": 5}))]),
            "must be a date-time string",
        ),
        (
            json!([stream("trackings", json!({"bookmark": "x"}))]),
            "another connector",
        ),
        (
            json!([stream(
                "orders",
                json!({"states": {"s1": "2025-01-01T00:00:00Z"}})
            )]),
            "`states` must be a list",
        ),
        (
            json!([stream(
                "orders",
                json!({"updated_at": "2025-01-01T00:00:00Z"})
            )]),
            "not a per-store state",
        ),
        (
            json!([stream(
                "orders",
                json!({"states": [{"partition": {"store_id": "s1"}, "cursor": {"updated_at": "x"}}]})
            )]),
            "not an RFC 3339",
        ),
        (
            json!([stream("orders", json!({"state": {"updated_at": "x"}}))]),
            "state.updated_at 'x' is not an RFC 3339",
        ),
        (json!(42), "state must be"),
    ] {
        admin(&base, "POST", "/__sandbox/stats/reset", None);
        let out = read(&dir, &cfg, &cat, Some(&state));
        assert_eq!(out.code, Some(1), "{state}: {}", out.stdout);
        let e = out.errors();
        assert_eq!(e.len(), 1, "{state}: {e:?}");
        assert_eq!(e[0]["failure_type"], "config_error", "{state}");
        let m = e[0]["message"].as_str().unwrap();
        assert!(
            m.contains("Invalid state file") && m.contains("state.json"),
            "{m}"
        );
        assert!(m.contains(says), "{state}: {m}");
        assert!(out.records("trackings").is_empty() && out.records("orders").is_empty());
        let stats = admin(&base, "GET", "/__sandbox/stats", None);
        assert_eq!(stats["total"], 0, "{state}: requests were sent");
    }
    let first = read(&dir, &cfg, &cat, None);
    assert_eq!(first.code, Some(0));
    let t = first.state();
    let legacy = json!({"trackings": state_of(&t, "trackings").unwrap(), "orders": state_of(&t, "orders").unwrap()});
    for state in [json!([]), json!({}), Value::Null, legacy, t.clone()] {
        let out = read(&dir, &cfg, &cat, Some(&state));
        assert_eq!(out.code, Some(0), "{state}: {:?}", out.errors());
    }
}

#[test]
fn a_fallback_cursor_covers_the_stores_a_state_does_not_name() {
    let sb = sandbox(60, &[], &[("orders", 30)]);
    let base = sb.base_url();
    let dir = Dir::new("fallback");
    let cfg = fast_config(&base, json!({}));
    let cat = catalog(&["orders", "fulfillments"], true);
    let stores: BTreeSet<String> = truth(&base, "orders", "")
        .into_iter()
        .filter_map(|r| r.store_id)
        .collect();
    assert!(stores.len() >= 2, "the test needs two stores: {stores:?}");
    let stream = |name: &str, state: Value| json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}});
    let far = json!({"updated_at": "2099-01-01T00:00:00Z"});

    // A future state that names no store: nothing from any store, and the
    // fallback is kept in the state emitted.
    let future = json!([
        stream("orders", json!({"state": far})),
        stream("fulfillments", json!({"state": far})),
    ]);
    let out = read(&dir, &cfg, &cat, Some(&future));
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    for s in ["orders", "fulfillments"] {
        assert!(out.records(s).is_empty(), "{s} emitted records");
        assert_eq!(
            state_of(&out.state(), s),
            Some(json!({"states": [], "state": far})),
            "{s}"
        );
    }

    // The same fallback beside one named store whose cursor predates everything:
    // that store is read in full on its own cursor, the others not at all.
    let first = stores.iter().next().cloned().unwrap_or_default();
    let named = json!({
        "states": [{"partition": {"store_id": first}, "cursor": {"updated_at": "2015-01-01T00:00:00Z"}}],
        "state": far
    });
    let state = json!([
        stream("orders", named.clone()),
        stream("fulfillments", named)
    ]);
    let out = read(&dir, &cfg, &cat, Some(&state));
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    for s in ["orders", "fulfillments"] {
        let want: BTreeSet<String> = truth(&base, s, "")
            .into_iter()
            .filter(|r| r.store_id.as_deref() == Some(first.as_str()))
            .map(|r| r.key)
            .collect();
        assert!(!want.is_empty(), "{s}: store {first} has no records");
        assert_eq!(
            out.keys(s),
            want,
            "{s}: not exactly store {first}'s records"
        );
        let emitted = state_of(&out.state(), s).unwrap_or_default();
        assert_eq!(emitted["state"], far, "{s}: the fallback was not kept");
        let entries = emitted["states"].as_array().cloned().unwrap_or_default();
        assert_eq!(entries.len(), 1, "{s}: {emitted}");
        assert_eq!(entries[0]["partition"]["store_id"], json!(first));
        let c = entries[0]["cursor"]["updated_at"].as_str().unwrap_or("");
        assert!(
            c > "2015-01-01T00:00:00Z" && c < "2099",
            "{s}: store {first} kept its own cursor: {c}"
        );
    }

    // Without a fallback the stores the state does not name are read in full.
    let one = json!({"states": [{"partition": {"store_id": first}, "cursor": far}]});
    let out = read(&dir, &cfg, &cat, Some(&json!([stream("orders", one)])));
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    let want: BTreeSet<String> = truth(&base, "orders", "")
        .into_iter()
        .filter(|r| r.store_id.as_deref() != Some(first.as_str()))
        .map(|r| r.key)
        .collect();
    assert_eq!(out.keys("orders"), want);
}

#[test]
fn every_message_is_well_formed() {
    let out = run(&["spec"]);
    assert_eq!(out.messages.len(), 1);
    let spec = &out.messages[0]["spec"];
    assert_eq!(
        spec["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"],
        true
    );
    let dir = Dir::new("disc");
    let c = dir.write("c.json", &config("http://127.0.0.1:9", json!({})));
    let out = run(&["discover", "--config", &path(&c)]);
    assert_eq!(
        out.messages[0]["catalog"]["streams"]
            .as_array()
            .unwrap()
            .len(),
        22
    );
    for m in &out.messages {
        assert!(
            !m.to_string().contains(":null"),
            "an optional field written as null: {m}"
        );
    }
}
