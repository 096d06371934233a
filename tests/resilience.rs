//! Resilience against the sandbox: AfterShip's real rate limits, the fault matrix,
//! kill -9 under faults, SIGTERM, and records valid against their schemas.

mod common;
use aftership_sandbox::SandboxConfig;
use common::*;
use serde_json::{Value, json};
use std::process::{Command, Stdio};

#[test]
fn a_full_sync_under_real_rate_limits_draws_almost_no_429s() {
    let sb = start(SandboxConfig {
        rate_limit: true,
        ..sandbox_config(200, &[], &[("orders", 25)])
    });
    let base = sb.base_url();
    let dir = Dir::new("ratelimit");
    let out = read(
        &dir,
        &config(&base, json!({"page_size": 10})),
        &catalog(&[], true),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let stats = admin(&base, "GET", "/__sandbox/stats", None);
    let total = stats["total"].as_u64().unwrap();
    let throttled: u64 = stats["requests"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v["429"].as_u64())
        .sum();
    println!("rate-limited sync: {total} requests, {throttled} answered 429");
    assert!(total > 100, "too few requests to judge: {total}");
    assert!(
        throttled * 100 < total,
        "{throttled} of {total} requests were answered 429 (≥ 1%)"
    );
}

/// One row of the fault matrix: run a sync of a few streams under `faults`.
fn fault_run(
    faults: &[&str],
    streams: &[&str],
) -> (Output, String, aftership_sandbox::BlockingSandbox) {
    let sb = sandbox(150, faults, &[("orders", 15)]);
    let base = sb.base_url();
    let dir = Dir::new("matrix");
    let out = read(
        &dir,
        &fast_config(&base, json!({"page_size": 10, "max_retries": 20})),
        &catalog(streams, true),
        None,
    );
    (out, base, sb)
}

#[test]
fn fault_matrix() {
    let streams = [
        "trackings",
        "item_returns",
        "query_coverages",
        "orders",
        "shipping_labels",
        "memberships",
    ];
    // (faults, expected: Ok(()) = exact truth; Err(failure_type) = that failure)
    let rows: Vec<(Vec<&str>, Result<(), &str>)> = vec![
        (vec!["500:0.15"], Ok(())),
        (vec!["502:0.15"], Ok(())),
        (vec!["503:0.15"], Ok(())),
        (vec!["429:0.1"], Ok(())),
        (vec!["reset:0.15"], Ok(())),
        (vec!["truncate:0.15"], Ok(())),
        (vec!["slow:0.03"], Ok(())),
        (vec!["odd-record:0.5"], Ok(())),
        (
            vec![
                "500:0.05",
                "503:0.05",
                "429:0.05",
                "reset:0.05",
                "truncate:0.05",
                "slow:0.02",
                "odd-record:0.2",
            ],
            Ok(()),
        ),
        (vec!["repeat-cursor:1.0"], Err("system_error")),
        (vec!["unauthorized-after:10"], Err("config_error")),
    ];
    // The rows mostly wait (backoff, retry-after, slow answers): run them side by side.
    let outcomes: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .map(|(faults, expected)| scope.spawn(move || judge(faults, expected, &streams)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| "PANICKED".to_string()))
            .collect()
    });
    let mut table = String::from("| faults | expected | outcome |\n|---|---|---|\n");
    let mut failures = Vec::new();
    for ((faults, expected), outcome) in rows.into_iter().zip(outcomes) {
        let ok = outcome.starts_with("completed") || outcome.starts_with("failed as");
        if !ok {
            failures.push(format!("{faults:?}: {outcome}"));
        }
        let exp = match expected {
            Ok(()) => "complete, exact truth".to_string(),
            Err(ft) => format!("fail as {ft}"),
        };
        table.push_str(&format!("| `{}` | {exp} | {outcome} |\n", faults.join(" ")));
    }
    println!("{table}");
    if let Ok(dir) = std::env::var("FAULT_MATRIX_OUT") {
        let _ = std::fs::write(dir, &table);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn kill_under_faults_and_resume_loses_nothing() {
    let streams = ["trackings", "shipping_labels", "query_claims"];
    let sb = start(SandboxConfig {
        latency_ms: 10,
        ..sandbox_config(300, &["500:0.1", "truncate:0.05", "reset:0.05"], &[])
    });
    let base = sb.base_url();
    let dir = Dir::new("killfault");
    let cfg = config(
        &base,
        json!({"page_size": 15, "slice_days": 2, "max_retries": 12}),
    );
    let seen = kill_and_resume(&dir, &cfg, &streams, 5, 1500);
    for s in streams {
        let want = truth_keys(&base, s, "");
        let missing: Vec<_> = want.difference(&seen[s]).collect();
        assert!(missing.is_empty(), "{s}: lost {} records", missing.len());
    }
}

#[test]
fn sigterm_flushes_state_and_ends_as_killed_by_sigterm() {
    use std::os::unix::process::ExitStatusExt;
    let sb = start(SandboxConfig {
        latency_ms: 40,
        ..sandbox_config(2000, &[], &[])
    });
    let base = sb.base_url();
    let dir = Dir::new("sigterm");
    let c = dir.write(
        "config.json",
        &config(&base, json!({"page_size": 10, "slice_days": 1})),
    );
    let k = dir.write(
        "catalog.json",
        &catalog(&["trackings", "shipping_labels"], true),
    );
    let child = Command::new(BIN)
        .args(["read", "--config", &path(&c), "--catalog", &path(&k)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "took {took:?} to stop"
    );
    assert_eq!(out.status.signal(), Some(15), "{:?}", out.status);
    // Every line is whole; the flushed state covers what was emitted before it,
    // and claims nothing that was not.
    let parsed = parse_output(
        None,
        String::from_utf8_lossy(&out.stdout).into(),
        String::new(),
    );
    let trackings = row("trackings");
    assert!(!parsed.records("trackings").is_empty());
    let (at, cursor) = states_of(&parsed, trackings)
        .pop()
        .expect("the interrupted read saved the state of trackings");
    let saved = claimed(&cursor, None).expect("the saved state has a cursor");
    let field = trackings.cursor.expect("trackings is incremental");
    let cursor_of = |m: &Value| {
        m["record"]["data"][field]
            .as_str()
            .and_then(source_aftership::time::parse_instant)
    };
    let records: Vec<(usize, &Value)> = parsed
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m["type"] == "RECORD" && m["record"]["stream"] == "trackings")
        .collect();
    let before: Vec<_> = records.iter().filter(|(i, _)| *i < at).collect();
    assert!(!before.is_empty(), "no record before the saved state");
    for (i, m) in &before {
        let t = cursor_of(m).expect("a tracking's updated_at");
        assert!(
            t <= saved,
            "record at message {i} ({t}) came before the STATE at {at} ({saved}) but is not covered by it"
        );
    }
    for (i, m) in records.iter().filter(|(i, _)| *i > at) {
        let t = cursor_of(m).expect("a tracking's updated_at");
        assert!(
            t >= saved,
            "record at message {i} ({t}) is covered by the STATE at {at} ({saved}) but came after it"
        );
    }
    for name in ["trackings", "shipping_labels"] {
        let (wrong, _) = claims_beyond_emitted(&parsed, &base, row(name));
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
    assert!(
        parsed.errors().is_empty(),
        "an interrupted read is not an error: {:?}",
        parsed.errors()
    );
}

#[test]
fn every_record_validates_against_its_stream_schema() {
    let sb = sandbox(120, &[], &[("orders", 20)]);
    let base = sb.base_url();
    let dir = Dir::new("schema");
    let out = read(
        &dir,
        &config(&base, fedex_search()),
        &catalog(&[], false),
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    for def in source_aftership::streams::STREAMS.iter() {
        let schema = def.json_schema();
        let validator = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let records = out.records(def.name);
        assert!(!records.is_empty(), "{}", def.name);
        let paths = source_aftership::json::shape::date_time_paths(&schema);
        for r in records {
            for p in &paths {
                for v in values_at(r, p) {
                    assert!(
                        v.ends_with('Z') || v.ends_with("+00:00"),
                        "{}: date-time not in UTC: {v}",
                        def.name
                    );
                }
            }
            if let Some(e) = validator.iter_errors(r).next() {
                panic!(
                    "{} record fails its schema at {}: {e}\n{r}",
                    def.name,
                    e.instance_path()
                );
            }
            // Every field arrives typed: the schema declares all that is served
            // (destinations such as PyAirbyte drop undeclared fields).
            let mut undeclared = Vec::new();
            undeclared_fields(r, &schema, "", &mut undeclared);
            assert!(
                undeclared.is_empty(),
                "{}: fields served but not in the schema: {undeclared:?}",
                def.name
            );
        }
    }
}

/// The paths in `v` that `schema` does not declare (objects with `properties`
/// and arrays with `items`; a schema without either accepts anything below it, and
/// so does a free-form map: `"properties": {}`, `"additionalProperties": true`).
fn undeclared_fields(v: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            let free_form = props.is_empty() && schema["additionalProperties"] == true;
            for (k, child) in m {
                let path = format!("{at}.{k}");
                match props.get(k) {
                    Some(s) => undeclared_fields(child, s, &path, out),
                    None if free_form => {}
                    None => {
                        if !out.contains(&path) {
                            out.push(path);
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for item in items {
                    undeclared_fields(item, s, &format!("{at}[]"), out);
                }
            }
        }
        _ => {}
    }
}

fn values_at<'a>(v: &'a Value, path: &[Option<String>]) -> Vec<&'a str> {
    match path.split_first() {
        None => v.as_str().into_iter().collect(),
        Some((Some(k), rest)) => v
            .get(k.as_str())
            .map(|c| values_at(c, rest))
            .unwrap_or_default(),
        Some((None, rest)) => v
            .as_array()
            .map(|a| a.iter().flat_map(|i| values_at(i, rest)).collect())
            .unwrap_or_default(),
    }
}

/// Run one fault-matrix row and describe its outcome.
fn judge(faults: &[&str], expected: &Result<(), &str>, streams: &[&str]) -> String {
    let (out, base, _sb) = fault_run(faults, streams);
    match (expected, out.code) {
        (Ok(()), Some(0)) => {
            let wrong: Vec<_> = streams
                .iter()
                .filter(|s| out.keys(s) != truth_keys(&base, s, ""))
                .collect();
            if wrong.is_empty() {
                "completed, exact truth".to_string()
            } else {
                format!("MISMATCH in {wrong:?}")
            }
        }
        (Ok(()), code) => format!("FAILED (exit {code:?}): {:?}", out.errors().first()),
        (Err(ft), Some(1)) => {
            let errs = out.errors();
            // Whatever was emitted belongs to the truth; state never claims more.
            let extra: Vec<_> = streams
                .iter()
                .filter(|s| !out.keys(s).is_subset(&truth_keys(&base, s, "")))
                .collect();
            let claims: Vec<String> = streams
                .iter()
                .map(|s| row(s))
                .filter(|d| d.incremental())
                .flat_map(|d| claims_beyond_emitted(&out, &base, d).0)
                .collect();
            if !errs.iter().any(|e| e["failure_type"] == *ft) {
                format!(
                    "wrong failure types: {:?}",
                    errs.iter().map(|e| &e["failure_type"]).collect::<Vec<_>>()
                )
            } else if !extra.is_empty() {
                format!("records outside the truth in {extra:?}")
            } else if !claims.is_empty() {
                format!("STATE claims records not emitted: {claims:?}")
            } else {
                format!("failed as {ft}, exit 1, nothing outside the truth")
            }
        }
        (Err(_), code) => format!("UNEXPECTED exit {code:?}"),
    }
}
