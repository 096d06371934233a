//! Shared helpers of the integration tests: a sandbox in-process, the built
//! connector as a subprocess, and parsing of its Airbyte messages.
#![allow(dead_code)]

use aftership_sandbox::{BlockingSandbox, FaultSpec, SandboxConfig};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use source_aftership::state::Cursor;
use source_aftership::streams::{self, Source, StreamDef};
use source_aftership::time::parse_instant;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const KEY: &str = aftership_sandbox::DEFAULT_API_KEY;
pub const BIN: &str = env!("CARGO_BIN_EXE_source-aftership");

pub fn sandbox(records: usize, faults: &[&str], counts: &[(&str, usize)]) -> BlockingSandbox {
    start(sandbox_config(records, faults, counts))
}

pub fn start(cfg: SandboxConfig) -> BlockingSandbox {
    aftership_sandbox::Sandbox::start_blocking(cfg).expect("sandbox starts")
}

/// The one sandbox config of the tests: no rate limits (the tests that pace say
/// so), `records` trackings and the other streams scaled from it, `counts`
/// overriding them. Other fields are set over it:
/// `SandboxConfig { latency_ms: 40, ..sandbox_config(2000, &[], &[]) }`.
pub fn sandbox_config(records: usize, faults: &[&str], counts: &[(&str, usize)]) -> SandboxConfig {
    SandboxConfig {
        records,
        rate_limit: false,
        faults: faults
            .iter()
            .map(|f| f.parse::<FaultSpec>().expect("fault spec"))
            .collect(),
        counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..SandboxConfig::default()
    }
}

pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "sa-it-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    pub fn write(&self, name: &str, v: &Value) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Config for tests where the sandbox enforces no rate limits and the pacing itself
/// is not under test: the connector may go as fast as the sandbox answers.
pub fn fast_config(base: &str, overrides: Value) -> Value {
    config(
        base,
        merged(json!({"max_requests_per_second": 1000}), overrides),
    )
}

/// The one connector config of the tests: the sandbox's key, a start date before
/// every record, the sandbox at `base`; `overrides` adds or replaces fields.
pub fn config(base: &str, overrides: Value) -> Value {
    merged(
        json!({"api_key": KEY, "start_date": "2015-01-01T00:00:00Z", "api_base_url": base}),
        overrides,
    )
}

/// The fields of `fields` with those of `overrides` added or replaced.
pub fn merged(fields: Value, overrides: Value) -> Value {
    let (Value::Object(mut fields), Value::Object(overrides)) = (fields, overrides) else {
        panic!("config fields and their overrides are objects")
    };
    fields.extend(overrides);
    Value::Object(fields)
}

/// The carrier location search the tests configure, and the same search as the
/// query of the sandbox's truth of `locations`.
pub fn fedex_search() -> Value {
    json!({"locations_searches": [{"slug": "fedex", "country": "USA", "postal_code": "10001"}]})
}
pub const FEDEX_SEARCH: &str = "&slug=fedex&country=USA&postal_code=10001";

/// The truth query of `def`: the search for `locations`, nothing for the others.
pub fn truth_query(def: &StreamDef) -> &'static str {
    if matches!(def.source, Source::Search(_)) {
        FEDEX_SEARCH
    } else {
        ""
    }
}

/// The discovered catalog, configured with each stream's best mode (or `mode`).
pub fn catalog(streams: &[&str], incremental: bool) -> Value {
    let cat: Value = serde_json::from_str(&streams::catalog().to_string()).unwrap();
    let list: Vec<Value> = cat["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| streams.is_empty() || streams.contains(&s["name"].as_str().unwrap()))
        .map(|s| {
            let inc = incremental && s["supported_sync_modes"].as_array().unwrap().contains(&json!("incremental"));
            json!({"stream": s, "sync_mode": if inc {"incremental"} else {"full_refresh"}, "destination_sync_mode": "append"})
        })
        .collect();
    json!({"streams": list})
}

pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub messages: Vec<Value>,
}

impl Output {
    pub fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
            .map(|m| &m["record"]["data"])
            .collect()
    }
    pub fn keys(&self, stream: &str) -> BTreeSet<String> {
        self.records(stream)
            .into_iter()
            .map(|r| key_of(stream, r))
            .collect()
    }
    /// The last STATE message per stream, as an input-state list.
    pub fn state(&self) -> Value {
        let mut last: BTreeMap<String, Value> = BTreeMap::new();
        for m in &self.messages {
            if m["type"] == "STATE" {
                let name = m["state"]["stream"]["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                last.insert(name, m["state"].clone());
            }
        }
        Value::Array(last.into_values().collect())
    }
    /// The LOG messages at `level`.
    pub fn logs(&self, level: &str) -> Vec<&str> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "LOG" && m["log"]["level"] == level)
            .filter_map(|m| m["log"]["message"].as_str())
            .collect()
    }
    pub fn errors(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            .map(|m| &m["trace"]["error"])
            .collect()
    }
    pub fn statuses(&self, stream: &str) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| m["type"] == "TRACE" && m["trace"]["type"] == "STREAM_STATUS")
            .filter(|m| m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream)
            .map(|m| {
                m["trace"]["stream_status"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

/// Every stdout line must be one Airbyte message; the key must never appear.
pub fn parse_output(code: Option<i32>, stdout: String, stderr: String) -> Output {
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the API key leaked into the output"
    );
    let messages = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .inspect(|m| assert!(m["type"].is_string(), "not an Airbyte message: {m}"))
        .collect();
    Output {
        code,
        stdout,
        stderr,
        messages,
    }
}

pub fn run(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("connector runs");
    parse_output(
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub fn read(dir: &Dir, config: &Value, catalog: &Value, state: Option<&Value>) -> Output {
    let c = dir.write("config.json", config);
    let k = dir.write("catalog.json", catalog);
    let mut args = vec![
        "read".to_string(),
        "--config".into(),
        path(&c),
        "--catalog".into(),
        path(&k),
    ];
    if let Some(s) = state {
        let s = dir.write("state.json", s);
        args.push("--state".into());
        args.push(path(&s));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

pub fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The row of `name` in the connector's stream table.
pub fn row(name: &str) -> &'static StreamDef {
    streams::find(name).unwrap_or_else(|| panic!("no stream {name} in the table"))
}

/// A key field's value as text: strings as they are, anything else as JSON.
fn key_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// A record's primary key (the stream table's, in its order) as one string.
pub fn key_of(stream: &str, r: &Value) -> String {
    row(stream)
        .primary_key
        .iter()
        .map(|k| key_text(&r[*k]))
        .collect::<Vec<_>>()
        .join("/")
}

/// GET/POST the sandbox admin API (plain HTTP/1.0 over a socket: no client needed).
pub fn admin(base: &str, method: &str, path_and_query: &str, body: Option<&Value>) -> Value {
    http(base, method, path_and_query, body, &[])
}

/// GET an AfterShip endpoint of the sandbox with the test key, as a client would.
pub fn api_get(base: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Value {
    let mut h = vec![("as-api-key", KEY)];
    h.extend_from_slice(headers);
    http(base, "GET", path_and_query, None, &h)
}

fn http(
    base: &str,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Value {
    use std::io::{Read, Write};
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(hostport).expect("connect to sandbox");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path_and_query} HTTP/1.0\r\nHost: {hostport}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (_, payload) = resp.split_once("\r\n\r\n").expect("HTTP response");
    serde_json::from_str(payload)
        .unwrap_or_else(|e| panic!("admin {path_and_query}: {e}: {payload}"))
}

pub struct TruthRecord {
    pub key: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
}

impl TruthRecord {
    /// The value of `def`'s cursor field, as an instant.
    pub fn cursor(&self, def: &StreamDef) -> Option<DateTime<Utc>> {
        let value = match def.cursor? {
            "created_at" => &self.created_at,
            _ => &self.updated_at,
        };
        value.as_deref().and_then(parse_instant)
    }
}

/// What the sandbox serves of `stream` right now. Truth names a record's own key
/// `id` whatever the stream calls it, beside its parents' ids: each record's `key`
/// is built from the stream table's primary key the way [`key_of`] builds it.
pub fn truth(base: &str, stream: &str, extra_query: &str) -> Vec<TruthRecord> {
    let d = row(stream);
    let v = admin(
        base,
        "GET",
        &format!("/__sandbox/truth?stream={stream}{extra_query}"),
        None,
    );
    v["records"]
        .as_array()
        .unwrap_or_else(|| panic!("truth of {stream}: {v}"))
        .iter()
        .map(|r| {
            assert_eq!(d.own_key().count(), 1, "{stream}: one own key field");
            let key = d
                .primary_key
                .iter()
                .map(|k| {
                    let field = if d.parent_fields().contains(k) {
                        k
                    } else {
                        "id"
                    };
                    key_text(&r[field])
                })
                .collect::<Vec<_>>()
                .join("/");
            let text = |k: &str| r[k].as_str().map(str::to_string);
            TruthRecord {
                key,
                created_at: text("created_at"),
                updated_at: text("updated_at"),
                store_id: text("store_id"),
                order_id: text("order_id"),
            }
        })
        .collect()
}

pub fn truth_keys(base: &str, stream: &str, extra_query: &str) -> BTreeSet<String> {
    truth(base, stream, extra_query)
        .into_iter()
        .map(|r| r.key)
        .collect()
}

pub fn requests_on(stats: &Value, suffix: &str) -> u64 {
    stats["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.ends_with(suffix))
                .flat_map(|(_, v)| {
                    v.as_object()
                        .into_iter()
                        .flat_map(|o| o.values().filter_map(Value::as_u64))
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Read `streams` again and again from the last STATE, killing the connector with
/// SIGKILL at a random moment (up to `max_kill_ms`) in the first `kill_rounds`
/// rounds; the round after those must finish. Returns every key emitted per stream.
pub fn kill_and_resume(
    dir: &Dir,
    config: &Value,
    streams: &[&str],
    kill_rounds: u32,
    max_kill_ms: u64,
) -> BTreeMap<String, BTreeSet<String>> {
    let c = dir.write("config.json", config);
    let k = dir.write("catalog.json", &catalog(streams, true));
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut state = json!([]);
    for round in 1..=kill_rounds + 1 {
        let s = dir.write("state.json", &state);
        let child = Command::new(BIN)
            .args([
                "read",
                "--config",
                &path(&c),
                "--catalog",
                &path(&k),
                "--state",
                &path(&s),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("connector starts");
        let pid = child.id();
        let delay = (round <= kill_rounds).then(|| 100 + fastrand::u64(..max_kill_ms));
        let killer = std::thread::spawn(move || {
            if let Some(d) = delay {
                std::thread::sleep(std::time::Duration::from_millis(d));
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        });
        let out = child.wait_with_output().expect("connector output");
        let _ = killer.join();
        // A kill can cut the last line short: only whole lines count.
        let text = String::from_utf8_lossy(&out.stdout);
        let whole: String = text
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).is_ok())
            .map(|l| format!("{l}\n"))
            .collect();
        let parsed = parse_output(out.status.code(), whole, String::new());
        for st in streams {
            seen.entry(st.to_string())
                .or_default()
                .extend(parsed.keys(st));
        }
        // The next round resumes from the newest STATE of every stream.
        let new_state = parsed.state();
        let (Some(old), Some(new)) = (state.as_array(), new_state.as_array()) else {
            unreachable!("states are lists")
        };
        let mut merged: Vec<Value> = old
            .iter()
            .filter(|o| {
                !new.iter()
                    .any(|n| n["stream"]["stream_descriptor"] == o["stream"]["stream_descriptor"])
            })
            .cloned()
            .collect();
        merged.extend(new.iter().cloned());
        state = Value::Array(merged);
        if out.status.success() {
            return seen;
        }
        assert!(
            round <= kill_rounds,
            "the uninterrupted round failed: {:?}",
            out.status
        );
    }
    seen
}

/// The state of stream `name` in a list of STATE messages.
pub fn state_of(state: &Value, name: &str) -> Option<Value> {
    state
        .as_array()?
        .iter()
        .find(|m| m["stream"]["stream_descriptor"]["name"] == name)
        .map(|m| m["stream"]["stream_state"].clone())
}

/// The cursor of `def` in a list of STATE messages the connector wrote.
pub fn cursor_in(state: &Value, def: &StreamDef) -> Cursor {
    Cursor::from_state(def, state_of(state, def.name).as_ref()).expect("the connector's own state")
}

/// The records of `stream` whose `field` (`updated_at` or `created_at`) is at the
/// sandbox clock `now` (the moment an advance changed them), to the second.
pub fn changed_at(base: &str, stream: &str, field: &str, now: DateTime<Utc>) -> Vec<TruthRecord> {
    truth(base, stream, "")
        .into_iter()
        .filter(|r| {
            let v = if field == "created_at" {
                &r.created_at
            } else {
                &r.updated_at
            };
            v.as_deref()
                .and_then(parse_instant)
                .is_some_and(|t| t > now - chrono::Duration::seconds(1))
        })
        .collect()
}

/// Whether an incremental read from `state` can be asked for the changed record
/// `r` at all: Shipping filters on created_at only, so an update to a record
/// created before the cursor minus the lookback (the default
/// `shipping_lookback_days`) is out of reach by design (documented). Everything
/// else is reachable.
pub fn reachable(def: &StreamDef, r: &TruthRecord, state: &Value) -> bool {
    if !def.filter.on_creation() {
        return true;
    }
    let since = match cursor_in(state, def) {
        Cursor::Single(Some(c)) => c,
        _ => return true,
    };
    let created = r.created_at.as_deref().and_then(parse_instant);
    let lookback = chrono::Duration::days(spec_default("shipping_lookback_days"));
    created.is_none_or(|c| c >= since - lookback)
}

/// The spec's default of the integer config field `field` (the tests' configs
/// leave it out, so the connector uses this).
pub fn spec_default(field: &str) -> i64 {
    source_aftership::config::connection_specification()["properties"][field]["default"]
        .as_i64()
        .unwrap_or_else(|| panic!("the spec has no integer default for {field}"))
}

/// Move the sandbox clock `seconds` ahead, updating and inserting those fractions
/// of every stream's records, then zero its request counts; returns the sandbox's
/// new now (the `updated_at` the changed records carry).
pub fn advance(base: &str, seconds: u64, update: f64, insert: f64) -> DateTime<Utc> {
    let moved = admin(
        base,
        "POST",
        "/__sandbox/advance",
        Some(&json!({"seconds": seconds, "update_fraction": update, "insert_fraction": insert})),
    );
    admin(base, "POST", "/__sandbox/stats/reset", None);
    moved["now"]
        .as_str()
        .and_then(parse_instant)
        .expect("the sandbox's now")
}

/// The STATE messages of stream `def` in `out`, in order: each one's position
/// among all messages and the cursor it saves.
pub fn states_of(out: &Output, def: &StreamDef) -> Vec<(usize, Cursor)> {
    out.messages
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == def.name
        })
        .map(|(i, m)| {
            let state = &m["state"]["stream"]["stream_state"];
            let cursor = Cursor::from_state(def, Some(state))
                .unwrap_or_else(|e| panic!("{}: the connector's own state: {e}", def.name));
            (i, cursor)
        })
        .collect()
}

/// What `cursor` claims for a record of store `store` (the stream's cursor, or its
/// store's for per-store state): every change before the instant is read.
pub fn claimed(cursor: &Cursor, store: Option<&str>) -> Option<DateTime<Utc>> {
    match cursor {
        Cursor::Single(c) => *c,
        Cursor::PerStore { stores, fallback } => {
            store.and_then(|s| stores.get(s).and_then(|st| st.cursor).or(*fallback))
        }
        Cursor::Resume(_) => None,
    }
}

/// State never claims a record that was not emitted: for every STATE of `def` in
/// `out` (a read from no input state), each record of the sandbox's truth whose
/// cursor lies before what that STATE claims was emitted before it. Returns the
/// violations and how many STATE messages claimed anything, so that a caller can
/// tell a check of nothing from a pass.
pub fn claims_beyond_emitted(out: &Output, base: &str, def: &StreamDef) -> (Vec<String>, usize) {
    let truth = truth(base, def.name, truth_query(def));
    let mut emitted = BTreeSet::new();
    let mut messages = out.messages.iter().enumerate();
    let mut wrong = Vec::new();
    let mut claiming = 0;
    for (at, cursor) in states_of(out, def) {
        // (take_while also takes the STATE itself, which is no record)
        for (_, m) in messages.by_ref().take_while(|(i, _)| *i < at) {
            if m["type"] == "RECORD" && m["record"]["stream"] == def.name {
                emitted.insert(key_of(def.name, &m["record"]["data"]));
            }
        }
        let mut claims = false;
        for r in &truth {
            let Some(c) = claimed(&cursor, r.store_id.as_deref()) else {
                continue;
            };
            claims = true;
            if r.cursor(def).is_some_and(|t| t < c) && !emitted.contains(&r.key) {
                wrong.push(format!(
                    "{}: the STATE at message {at} claims {} (cursor {c}) before it was emitted",
                    def.name, r.key
                ));
            }
        }
        claiming += usize::from(claims);
    }
    (wrong, claiming)
}
