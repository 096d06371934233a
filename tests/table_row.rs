//! A stream that is only a row: a test-only row, not in the table, read by the
//! generic engine without a line of the engine changed. Trackings per courier: a
//! child of `couriers` by each courier's `slug`, sent as Tracking's `slug` query
//! filter (which the sandbox serves as AfterShip documents it) and carried onto
//! each record as `courier`, with one cursor per courier.

use aftership_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use source_aftership::catalog::{Selected, SyncMode};
use source_aftership::http::Stop;
use source_aftership::protocol::Output;
use source_aftership::state::Cursor;
use source_aftership::streams::{self, Inject, Link, Source, StreamDef};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

const NAME: &str = "test_only_trackings_per_courier";

/// The test-only row: the trackings row, read per courier.
fn per_courier() -> &'static StreamDef {
    let trackings = streams::find("trackings").unwrap();
    Box::leak(Box::new(StreamDef {
        name: NAME,
        primary_key: &["courier", "id"],
        source: Source::Child(Link {
            parent: "couriers",
            parent_key: "slug",
            inject: Inject::Query("slug"),
            carry_as: &["courier"],
        }),
        probe: false,
        ..*trackings
    }))
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Read `rows` incrementally from their empty states; the messages written.
async fn read(base: &str, rows: &[&'static StreamDef]) -> Vec<Value> {
    let config = source_aftership::config::parse(&json!({
        "api_key": aftership_sandbox::DEFAULT_API_KEY,
        "start_date": "2015-01-01T00:00:00Z",
        "api_base_url": base,
        "max_requests_per_second": 1000,
    }))
    .unwrap();
    let selected = rows
        .iter()
        .map(|&def| {
            let sel = Selected {
                def,
                mode: SyncMode::Incremental,
                downgraded: false,
                overwrite: false,
            };
            (sel, Cursor::from_state(def, None).unwrap())
        })
        .collect();
    let sink = Sink::default();
    let out = Arc::new(Output::new(Box::new(sink.clone())));
    let code = source_aftership::sync::read(config, selected, out, Stop::default()).await;
    assert_eq!(code, 0);
    let bytes = sink.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn records<'m>(messages: &'m [Value], stream: &str) -> Vec<&'m Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == stream)
        .map(|m| &m["record"]["data"])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_child_relation_is_a_new_row() {
    let sandbox = Sandbox::start(SandboxConfig {
        records: 120,
        rate_limit: false,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let base = sandbox.base_url();
    let row = per_courier();
    assert_eq!(row.parent_fields(), ["courier"]);
    let messages = read(&base, &[row, streams::find("trackings").unwrap()]).await;

    let per_courier = records(&messages, NAME);
    let all = records(&messages, "trackings");
    assert!(!all.is_empty());
    // Each record was asked for by its courier's slug, and carries it.
    for r in &per_courier {
        assert_eq!(r["courier"], r["slug"], "{r}");
    }
    let ids = |rs: &[&Value]| -> BTreeSet<String> {
        rs.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&per_courier),
        ids(&all),
        "every tracking, once per courier"
    );
    assert_eq!(per_courier.len(), all.len());

    // One cursor per courier, named by the row's carried field.
    let state = messages
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE" && m["state"]["stream"]["stream_descriptor"]["name"] == NAME)
        .expect("a STATE for the test-only row");
    let states = state["state"]["stream"]["stream_state"]["states"]
        .as_array()
        .unwrap();
    let couriers: BTreeMap<&str, &Value> = states
        .iter()
        .map(|s| {
            (
                s["partition"]["courier"].as_str().unwrap(),
                &s["cursor"]["updated_at"],
            )
        })
        .collect();
    let slugs: BTreeSet<&str> = per_courier
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(couriers.keys().copied().collect::<BTreeSet<_>>(), slugs);
    assert!(couriers.values().all(|c| c.is_string()));
}
