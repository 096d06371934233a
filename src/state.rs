//! Input state in every form Airbyte sends it (a list of STREAM messages, a GLOBAL
//! message, the legacy per-stream dict, `[]`, or nothing), and the cursor state of
//! one stream: a single cursor, or one cursor per Commerce store (with an optional
//! fallback cursor for the stores the state does not name).

use crate::catalog::Selected;
use crate::streams::{self, StreamDef};
use crate::time::{format_instant, parse_instant_lenient};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// The stream states found in the input, by stream name (unknown names ignored).
#[derive(Debug, Default, Clone)]
pub struct InputState {
    pub streams: HashMap<String, Value>,
}

impl InputState {
    /// Load the state file and read the cursor of every selected stream from it.
    /// A state that is not one this connector can use is an error naming the file
    /// and what is wrong: silently starting over could mean hours of re-reading.
    pub fn load_cursors(
        path: &std::path::Path,
        selected: Vec<Selected>,
    ) -> Result<Vec<(Selected, Cursor)>, String> {
        let v = crate::input::read_json_file(path, "state")?;
        parse(&v)
            .and_then(|input| input.cursors(selected))
            .map_err(|e| format!("Invalid state file {}: {e}", path.display()))
    }

    /// The cursor of each selected stream (a fresh one where the state has none).
    pub fn cursors(&self, selected: Vec<Selected>) -> Result<Vec<(Selected, Cursor)>, String> {
        selected
            .into_iter()
            .map(|sel| {
                let cursor = if sel.def.incremental() {
                    Cursor::from_state(sel.def, self.streams.get(sel.def.name))?
                } else if sel.def.resumable() {
                    Cursor::Resume(Resume::from_state(sel.def, self.streams.get(sel.def.name))?)
                } else {
                    Cursor::Single(None)
                };
                Ok((sel, cursor))
            })
            .collect()
    }
}

/// Parse any of the input state shapes.
pub fn parse(v: &Value) -> Result<InputState, String> {
    let mut out = InputState::default();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                parse_message(item, &mut out).map_err(|e| format!("entry {i}: {e}"))?;
            }
        }
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("stream") || map.contains_key("global")
            {
                parse_message(v, &mut out)?;
            } else {
                legacy(map, &mut out)?;
            }
        }
        _ => return Err("state must be a JSON list of state messages or an object".into()),
    }
    Ok(out)
}

fn parse_message(item: &Value, out: &mut InputState) -> Result<(), String> {
    let item = match item.get("state") {
        // A whole AirbyteMessage {"type":"STATE","state":{...}}.
        Some(inner) if item.get("type").and_then(Value::as_str) == Some("STATE") => inner,
        _ => item,
    };
    let Some(obj) = item.as_object() else {
        return Err(format!(
            "a state message must be a JSON object, got {}",
            kind(item)
        ));
    };
    let kind = match obj.get("type") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(format!(
                "`type` must be one of STREAM, GLOBAL, LEGACY, got {}",
                kind_and_value(other)
            ));
        }
    };
    match kind {
        "STREAM" => stream_entry(obj.get("stream"), out),
        "GLOBAL" => {
            let global = obj
                .get("global")
                .and_then(Value::as_object)
                .ok_or("GLOBAL state without a `global` object")?;
            if let Some(list) = global.get("stream_states") {
                let list = list
                    .as_array()
                    .ok_or("`global.stream_states` must be a list")?;
                for s in list {
                    stream_entry(Some(s), out)?;
                }
            }
            Ok(())
        }
        "LEGACY" | "" => {
            if let Some(stream) = obj.get("stream").filter(|s| !s.is_null()) {
                return stream_entry(Some(stream), out);
            }
            match obj.get("data") {
                Some(Value::Object(data)) => legacy(data, out),
                None | Some(Value::Null) if kind.is_empty() => {
                    Err("a state message has no `type`, `stream` or `data`".into())
                }
                None | Some(Value::Null) => Ok(()),
                Some(other) => Err(format!(
                    "LEGACY state `data` must be an object, got {}",
                    kind_and_value(other)
                )),
            }
        }
        other => Err(format!("unknown state type '{other}'")),
    }
}

fn stream_entry(stream: Option<&Value>, out: &mut InputState) -> Result<(), String> {
    let stream = stream
        .and_then(Value::as_object)
        .ok_or("STREAM state without a `stream` object")?;
    let name = stream
        .get("stream_descriptor")
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .ok_or("STREAM state without `stream.stream_descriptor.name`")?;
    match stream.get("stream_state") {
        None | Some(Value::Null) => {}
        Some(s) => {
            out.streams.insert(name.to_string(), s.clone());
        }
    }
    Ok(())
}

/// A legacy state: an object of stream name → that stream's state. `{}` is an
/// empty state; an object that names none of this source's streams is not one of
/// its states.
fn legacy(map: &Map<String, Value>, out: &mut InputState) -> Result<(), String> {
    let mut known = 0;
    for (k, v) in map {
        if streams::find(k).is_none() {
            continue;
        }
        known += 1;
        match v {
            Value::Object(_) => {
                out.streams.insert(k.clone(), v.clone());
            }
            Value::Null => {}
            other => {
                return Err(format!(
                    "the state of stream `{k}` must be an object, got {}",
                    kind_and_value(other)
                ));
            }
        }
    }
    if known == 0 && !map.is_empty() {
        let keys: Vec<&str> = map.keys().take(5).map(String::as_str).collect();
        return Err(format!(
            "it names no stream of this source (keys: {}); is it from another connector?",
            keys.join(", ")
        ));
    }
    Ok(())
}

/// The cursor state of one incremental stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    Single(Option<DateTime<Utc>>),
    /// Commerce children: one cursor per store, so one store's progress never moves
    /// another's.
    PerStore {
        stores: BTreeMap<String, Store>,
        /// The cursor of every store `stores` does not name, when the input state
        /// gives one (`"state": {"updated_at": ...}` beside `"states"`, the shape of
        /// the Airbyte CDK's per-partition state). The connector never sets it
        /// itself: without it an unnamed store (say, one connected since the last
        /// sync) is read from `start_date`. It is kept in every state emitted.
        fallback: Option<DateTime<Utc>>,
    },
    /// A resumable full refresh: how far each partition got ([`Resume`]).
    Resume(Resume),
}

/// Where a resumable full refresh (a full-refresh-only stream that pages by page
/// number, or reads one partition per store or per search) got: each partition
/// done, or the window and page it reached. Airbyte passes it back only to a
/// retried attempt of the same job (the CDK's `ResumableFullRefreshCursor`:
/// state is kept "in between sync attempts of the same job with the platform
/// responsible for removing said state"); the next job reads the stream in full.
///
/// The contract, as airbyte-cdk 7.39.1 implements it
/// (`sources/streams/checkpoint/resumable_full_refresh_cursor.py`,
/// `substream_resumable_full_refresh_cursor.py`, `checkpoint_reader.py`,
/// `streams/core.py` `is_resumable`): a stream that can checkpoint without a
/// cursor field is `is_resumable: true` and has no `source_defined_cursor`; its
/// state is a synthetic cursor (the next page token), per partition
/// `{"states": [{"partition": ..., "cursor": ...}]}` with a finished partition's
/// cursor `{"__ab_full_refresh_sync_complete": true}`; a stream read to its end
/// says so with that marker. One difference: the CDK reads nothing when the
/// marker comes back as input state, trusting the platform to drop full-refresh
/// state between jobs; here the marker means "read it in full", so that a
/// caller that keeps state (PyAirbyte echoes the last STATE back) never gets an
/// empty full refresh.
///
/// STATE shapes, as the CDK's resumable full refresh writes them:
/// - the stream read to its end: `{"__ab_full_refresh_sync_complete": true}`;
/// - a plain list part way: the place itself, `{"last_page": 7, "page_size": 200}`
///   (pages 1..=7 at 200 a page were emitted), with `"window_min"` and
///   `"window_max"` where the API filters on time (every record created before
///   `window_min` was emitted, and the pages counted are those of the window
///   between the two; a window too big for one query is read as halves);
/// - per store or per search: `{"states": [{"partition": {"store_id": "s1"},
///   "cursor": {"__ab_full_refresh_sync_complete": true}}, {"partition": {...},
///   "cursor": {"last_page": 3, "page_size": 50}}]}`; a partition not listed is
///   read from its start.
///
/// A resumed read asks again for the last page emitted: page numbers are
/// offsets, and a record deleted between the attempts moves the records after
/// it one place forward, onto pages already read. Reading that page again keeps
/// up to a page of such deletions from costing records; records added meanwhile
/// only move others back, onto pages still to read (emitted twice at most).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    /// By partition key ([`Resume::key`] of its fields; `{}` for the whole stream).
    pub parts: BTreeMap<String, Reached>,
    /// The stream was read to its end.
    pub complete: bool,
}

/// How far one partition of a resumable full refresh got.
#[derive(Debug, Clone, PartialEq)]
pub enum Reached {
    /// Every record of it was emitted.
    Done { partition: BTreeMap<String, String> },
    At {
        partition: BTreeMap<String, String>,
        place: Place,
    },
}

/// A place in a partition's pages: every record of the windows before
/// `window_min`, and of pages 1..=`last_page` (at `page_size` a page) of the
/// window from `window_min` to `window_max` (open-ended where None), was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub window_min: Option<DateTime<Utc>>,
    pub window_max: Option<DateTime<Utc>>,
    pub last_page: u32,
    pub page_size: u32,
}

/// The CDK's marker of a stream read to its end (`FULL_REFRESH_COMPLETE_STATE`).
pub const FULL_REFRESH_COMPLETE: &str = "__ab_full_refresh_sync_complete";

impl Resume {
    /// The key of a partition with these fields.
    pub fn key(partition: &BTreeMap<String, String>) -> String {
        serde_json::to_string(partition).unwrap_or_default()
    }

    /// Read a full-refresh stream's state. A state that says the stream was read
    /// to its end (or the CDK's no-cursor marker, or nothing) starts it afresh.
    pub fn from_state(def: &StreamDef, state: Option<&Value>) -> Result<Resume, String> {
        let name = def.name;
        let Some(state) = state else {
            return Ok(Resume::default());
        };
        let obj = state.as_object().ok_or_else(|| {
            format!(
                "the state of stream `{name}` must be an object, got {}",
                kind(state)
            )
        })?;
        if obj.is_empty()
            || obj.contains_key(FULL_REFRESH_COMPLETE)
            || obj.contains_key("__ab_no_cursor_state_message")
        {
            return Ok(Resume::default());
        }
        let mut out = Resume::default();
        if let Some(states) = obj.get("states") {
            let list = states
                .as_array()
                .ok_or_else(|| format!("the state of stream `{name}`: `states` must be a list"))?;
            for entry in list {
                let partition = entry
                    .get("partition")
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        format!(
                            "the state of stream `{name}`: each entry needs a `partition` object"
                        )
                    })?;
                let mut fields = BTreeMap::new();
                for (k, v) in partition {
                    let v = v.as_str().ok_or_else(|| {
                        format!(
                            "the state of stream `{name}`: partition field `{k}` must be a string, got {}",
                            kind(v)
                        )
                    })?;
                    fields.insert(k.clone(), v.to_string());
                }
                let key = Resume::key(&fields);
                let cursor = entry.get("cursor").and_then(Value::as_object).ok_or_else(|| {
                    format!("the state of stream `{name}`: the entry of partition {key} needs a `cursor` object")
                })?;
                let reached = if cursor.get(FULL_REFRESH_COMPLETE) == Some(&Value::Bool(true)) {
                    Reached::Done { partition: fields }
                } else {
                    let place = place(cursor).map_err(|e| {
                        format!("the state of stream `{name}`: partition {key}: {e}")
                    })?;
                    Reached::At {
                        partition: fields,
                        place,
                    }
                };
                out.parts.insert(key, reached);
            }
            return Ok(out);
        }
        if obj.contains_key("last_page") {
            let place = place(obj).map_err(|e| format!("the state of stream `{name}`: {e}"))?;
            let partition = BTreeMap::new();
            out.parts
                .insert(Resume::key(&partition), Reached::At { partition, place });
            return Ok(out);
        }
        Err(format!(
            "the state of stream `{name}` is not a full-refresh state (expected {{\"last_page\": ..., \"page_size\": ...}}, {{\"states\": [...]}} or {{\"{FULL_REFRESH_COMPLETE}\": true}}; keys: {}); is it from another connector?",
            obj.keys().take(5).cloned().collect::<Vec<_>>().join(", ")
        ))
    }

    /// The state object to emit.
    pub fn to_state(&self) -> Value {
        if self.complete {
            return json!({ FULL_REFRESH_COMPLETE: true });
        }
        let whole = Resume::key(&BTreeMap::new());
        if let (1, Some(Reached::At { place, .. })) = (self.parts.len(), self.parts.get(&whole)) {
            return place_state(place);
        }
        if self.parts.is_empty() {
            return json!({});
        }
        json!({"states": self.parts.values().map(|r| match r {
            Reached::Done { partition } => json!({"partition": partition, "cursor": {FULL_REFRESH_COMPLETE: true}}),
            Reached::At { partition, place } => json!({"partition": partition, "cursor": place_state(place)}),
        }).collect::<Vec<_>>()})
    }
}

fn place_state(p: &Place) -> Value {
    let mut v = json!({"last_page": p.last_page, "page_size": p.page_size});
    if let Some(m) = p.window_min {
        v["window_min"] = json!(format_instant(m));
    }
    if let Some(m) = p.window_max {
        v["window_max"] = json!(format_instant(m));
    }
    v
}

fn place(obj: &Map<String, Value>) -> Result<Place, String> {
    let number = |field: &str| -> Result<u32, String> {
        obj.get(field)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("`{field}` must be a whole number"))
    };
    let instant = |field: &str| -> Result<Option<DateTime<Utc>>, String> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| format!("`{field}` must be a date-time string"))?;
                parse_instant_lenient(s)
                    .map(Some)
                    .ok_or_else(|| format!("`{field}` '{s}' is not an RFC 3339 date-time"))
            }
        }
    };
    Ok(Place {
        window_min: instant("window_min")?,
        window_max: instant("window_max")?,
        last_page: number("last_page")?,
        page_size: number("page_size")?,
    })
}

/// The state of one store of a per-store stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    /// Every record of the store up to this moment was emitted (None: not yet).
    pub cursor: Option<DateTime<Utc>>,
    /// A walk of the store's parent records that stopped part way.
    pub progress: Option<Progress>,
    /// When the last read that walked the store's whole list (both creation
    /// orders, not stopping at the cursor) began; serialized as `walked_at` in the
    /// store's entry. None (absent, as in states written before it existed):
    /// never walked, so the next incremental read walks.
    pub walked: Option<DateTime<Utc>>,
}

/// How far a walk of one store's parent records (fulfillments per order) got: the
/// children of every parent whose key sorts at or before `after` were emitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// When the walk's first request went out: the cursor, once the walk ends,
    /// never passes it.
    pub started: DateTime<Utc>,
    /// The key of the last parent done, in the walk's order.
    pub after: String,
    /// The newest cursor value emitted so far.
    pub seen: Option<DateTime<Utc>>,
}

impl Store {
    pub fn at(t: DateTime<Utc>) -> Store {
        Store {
            cursor: Some(t),
            progress: None,
            walked: None,
        }
    }
}

impl Cursor {
    /// A per-store cursor of these stores and saved values.
    pub fn per_store<'s>(stores: impl IntoIterator<Item = (&'s str, DateTime<Utc>)>) -> Cursor {
        Cursor::PerStore {
            stores: stores
                .into_iter()
                .map(|(s, t)| (s.to_string(), Store::at(t)))
                .collect(),
            fallback: None,
        }
    }
}

impl Cursor {
    /// Read a stream's state. Errors name the stream and what is wrong with it.
    pub fn from_state(def: &StreamDef, state: Option<&Value>) -> Result<Cursor, String> {
        let field = def.cursor.unwrap_or("updated_at");
        let per_store = !def.parent_fields().is_empty();
        let part = partition_key(def);
        let Some(state) = state else {
            return Ok(if per_store {
                Cursor::per_store([])
            } else {
                Cursor::Single(None)
            });
        };
        let obj = state.as_object().ok_or_else(|| {
            format!(
                "the state of stream `{}` must be an object, got {}",
                def.name,
                kind(state)
            )
        })?;
        if obj.is_empty() {
            return Ok(if per_store {
                Cursor::per_store([])
            } else {
                Cursor::Single(None)
            });
        }
        let read = |v: &Value, what: &str| -> Result<DateTime<Utc>, String> {
            let s = v.as_str().ok_or_else(|| {
                format!(
                    "the state of stream `{}`: {what} must be a date-time string, got {}",
                    def.name,
                    kind(v)
                )
            })?;
            parse_instant_lenient(s).ok_or_else(|| {
                format!(
                    "the state of stream `{}`: {what} '{s}' is not an RFC 3339 date-time",
                    def.name
                )
            })
        };
        if per_store {
            let mut map = BTreeMap::new();
            let fallback = match obj.get("state") {
                None | Some(Value::Null) => None,
                Some(s) => {
                    let c = s.as_object().and_then(|o| o.get(field)).ok_or_else(|| {
                        format!(
                            "the state of stream `{}`: `state` (the cursor of the stores not named) must be {{\"{field}\": ...}}",
                            def.name
                        )
                    })?;
                    Some(read(c, &format!("state.{field}"))?)
                }
            };
            if fallback.is_some() && obj.get("states").is_none() {
                return Ok(Cursor::PerStore {
                    stores: map,
                    fallback,
                });
            }
            if let Some(states) = obj.get("states") {
                let list = states.as_array().ok_or_else(|| {
                    format!(
                        "the state of stream `{}`: `states` must be a list",
                        def.name
                    )
                })?;
                for entry in list {
                    let store = entry
                        .get("partition")
                        .and_then(|p| p.get(part))
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            format!(
                                "the state of stream `{}`: each entry needs `partition.{part}`",
                                def.name
                            )
                        })?;
                    let progress = match entry.get("progress") {
                        None | Some(Value::Null) => None,
                        Some(p) => Some(
                            progress(p, &|v, what| {
                                read(v, &format!("progress.{what} of store {store}"))
                            })
                            .map_err(|e| {
                                format!(
                                    "the state of stream `{}`: entry for store {store}: {e}",
                                    def.name
                                )
                            })?,
                        ),
                    };
                    let cursor = match entry.get("cursor").and_then(|c| c.get(field)) {
                        Some(c) => Some(read(c, &format!("cursor.{field} of store {store}"))?),
                        // A first walk of the store that stopped part way has no cursor yet.
                        None if progress.is_some() => None,
                        None => {
                            return Err(format!(
                                "the state of stream `{}`: entry for store {store} has no `cursor.{field}`",
                                def.name
                            ));
                        }
                    };
                    let walked = match entry.get("walked_at") {
                        None | Some(Value::Null) => None,
                        Some(w) => Some(read(w, &format!("walked_at of store {store}"))?),
                    };
                    map.insert(
                        store.to_string(),
                        Store {
                            cursor,
                            progress,
                            walked,
                        },
                    );
                }
                return Ok(Cursor::PerStore {
                    stores: map,
                    fallback,
                });
            }
            return Err(format!(
                "the state of stream `{}` is not a per-store state (expected {{\"states\": [{{\"partition\": {{\"{part}\": ...}}, \"cursor\": {{\"{field}\": ...}}}}]}}); is it from another connector?",
                def.name
            ));
        }
        match obj.get(field) {
            Some(v) => Ok(Cursor::Single(Some(read(v, field)?))),
            None if obj.contains_key("__ab_no_cursor_state_message")
                || obj.contains_key("__ab_full_refresh_sync_complete") =>
            {
                Ok(Cursor::Single(None))
            }
            None => Err(format!(
                "the state of stream `{}` has no `{field}` cursor (keys: {}); is it from another connector?",
                def.name,
                obj.keys().take(5).cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The state object to emit.
    pub fn to_state(&self, def: &StreamDef) -> Value {
        let field = def.cursor.unwrap_or("updated_at");
        match self {
            Cursor::Resume(r) => r.to_state(),
            Cursor::Single(Some(t)) => json!({ field: format_instant(*t) }),
            Cursor::Single(None) => json!({}),
            Cursor::PerStore { stores, fallback } => {
                let mut state = json!({
                "states": stores.iter().map(|(store, st)| {
                    let mut entry = json!({"partition": {(partition_key(def)): store}});
                    if let Some(t) = st.cursor {
                        entry["cursor"] = json!({field: format_instant(t)});
                    }
                    if let Some(t) = st.walked {
                        entry["walked_at"] = json!(format_instant(t));
                    }
                    if let Some(p) = &st.progress {
                        entry["progress"] = json!({
                            "started_at": format_instant(p.started),
                            "after": p.after,
                            "seen": p.seen.map(format_instant),
                        });
                    }
                    entry
                }).collect::<Vec<_>>()
                });
                if let Some(t) = fallback {
                    state["state"] = json!({ field: format_instant(*t) });
                }
                state
            }
        }
    }
}

/// Reads an instant of a state (the value, what it is) with errors naming it.
type ReadInstant<'r> = dyn Fn(&Value, &str) -> Result<DateTime<Utc>, String> + 'r;

/// A walk's progress as saved in a store's state entry.
fn progress(v: &Value, read: &ReadInstant<'_>) -> Result<Progress, String> {
    let started = v
        .get("started_at")
        .ok_or("`progress` has no `started_at`")?;
    let after = v
        .get("after")
        .and_then(Value::as_str)
        .ok_or("`progress.after` must be a string")?;
    let seen = match v.get("seen") {
        None | Some(Value::Null) => None,
        Some(t) => Some(read(t, "seen")?),
    };
    Ok(Progress {
        started: read(started, "started_at")?,
        after: after.to_string(),
        seen,
    })
}

/// The field a per-partition state names its partitions by: the outermost parent
/// value the stream carries (`store_id`).
fn partition_key(def: &StreamDef) -> &'static str {
    def.parent_fields().first().copied().unwrap_or("store_id")
}

/// The kind of `v` and, for short scalars, the value itself.
fn kind_and_value(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) => kind(v).to_string(),
        scalar => {
            let text: String = scalar.to_string().chars().take(40).collect();
            format!("{} ({text})", kind(v))
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::find;

    #[test]
    fn accepts_every_input_shape() {
        let stream = json!([{"type":"STREAM","stream":{"stream_descriptor":{"name":"trackings"},"stream_state":{"updated_at":"2025-01-01T00:00:00Z"}},"sourceStats":{"recordCount":3.0},"global_":null,"data":null}]);
        assert!(parse(&stream).unwrap().streams.contains_key("trackings"));
        let global = json!([{"type":"GLOBAL","global":{"shared_state":{},"stream_states":[{"stream_descriptor":{"name":"stores"},"stream_state":{"updated_at":"2025-01-01T00:00:00Z"}}]}}]);
        assert!(parse(&global).unwrap().streams.contains_key("stores"));
        let legacy = json!({"pickups": {"updated_at": "2025-01-01T00:00:00Z"}});
        assert!(parse(&legacy).unwrap().streams.contains_key("pickups"));
        assert!(parse(&json!([])).unwrap().streams.is_empty());
        assert!(parse(&json!("nope")).is_err());
        assert!(parse(&json!([{"type":"STREAM"}])).is_err());
        assert!(parse(&json!([{"type":"WEIRD"}])).is_err());
        assert!(parse(&json!({})).unwrap().streams.is_empty());
        assert!(parse(&Value::Null).unwrap().streams.is_empty());
    }

    #[test]
    fn unusable_states_are_errors_not_fresh_starts() {
        for (bad, says) in [
            (
                json!([{"type": 42}]),
                "`type` must be one of STREAM, GLOBAL, LEGACY, got a number (42)",
            ),
            (json!([{"type": null}]), "no `type`"),
            (json!([7]), "must be a JSON object, got a number"),
            (
                json!({"trackings": 5}),
                "stream `trackings` must be an object",
            ),
            (
                json!({"cursor": "2025-01-01"}),
                "names no stream of this source",
            ),
            (
                json!([{"type": "LEGACY", "data": "x"}]),
                "`data` must be an object",
            ),
        ] {
            let e = parse(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // A legacy state with this source's streams, and nulls, is fine.
        let ok = parse(&json!({"trackings": {"updated_at": "2025-01-01T00:00:00Z"}, "orders": null, "gone_stream": 1})).unwrap();
        assert_eq!(ok.streams.len(), 1);
    }

    #[test]
    fn cursors_round_trip_and_errors_name_the_stream() {
        let t = find("trackings").unwrap();
        let c = Cursor::from_state(t, Some(&json!({"updated_at": "2025-01-01T08:00:00+08:00"})))
            .unwrap();
        assert_eq!(c.to_state(t), json!({"updated_at": "2025-01-01T00:00:00Z"}));
        let e = Cursor::from_state(t, Some(&json!({"updated_at": 5}))).unwrap_err();
        assert!(e.contains("trackings"));
        let e = Cursor::from_state(t, Some(&json!({"bookmark": "x"}))).unwrap_err();
        assert!(e.contains("another connector"));
        let o = find("orders").unwrap();
        let s = json!({"states":[{"partition":{"store_id":"s1"},"cursor":{"updated_at":"2025-02-01T00:00:00Z"}}]});
        let c = Cursor::from_state(o, Some(&s)).unwrap();
        assert_eq!(c.to_state(o), s);
        // A store walked part way: its progress round-trips, with or without a cursor.
        let part = json!({"states":[
            {"partition":{"store_id":"s1"},"cursor":{"updated_at":"2025-02-01T00:00:00Z"},
             "progress":{"started_at":"2025-03-01T00:00:00Z","after":"\"o9\"","seen":null}},
            {"partition":{"store_id":"s2"},
             "progress":{"started_at":"2025-03-01T00:00:00Z","after":"\"o1\"","seen":"2025-02-02T00:00:00Z"}}]});
        let c = Cursor::from_state(o, Some(&part)).unwrap();
        assert_eq!(c.to_state(o), part);
        let Cursor::PerStore { stores: map, .. } = &c else {
            panic!("per store")
        };
        assert_eq!(map["s2"].cursor, None);
        assert_eq!(
            map["s1"].progress.as_ref().map(|p| p.after.as_str()),
            Some("\"o9\"")
        );
        // The last whole walk round-trips; a state without it reads as never walked.
        let walked = json!({"states":[{"partition":{"store_id":"s1"},
            "cursor":{"updated_at":"2025-02-01T00:00:00Z"},"walked_at":"2025-02-01T00:05:00Z"}]});
        let c = Cursor::from_state(o, Some(&walked)).unwrap();
        assert_eq!(c.to_state(o), walked);
        let Cursor::PerStore { stores: old, .. } = Cursor::from_state(o, Some(&s)).unwrap() else {
            panic!("per store")
        };
        assert_eq!(old["s1"].walked, None);
        let bad_walk = json!({"states":[{"partition":{"store_id":"s1"},
            "cursor":{"updated_at":"2025-02-01T00:00:00Z"},"walked_at":"soon"}]});
        let e = Cursor::from_state(o, Some(&bad_walk)).unwrap_err();
        assert!(e.contains("walked_at of store s1"), "{e}");
        let bad = json!({"states":[{"partition":{"store_id":"s1"},"progress":{"after":"x"}}]});
        let e = Cursor::from_state(o, Some(&bad)).unwrap_err();
        assert!(e.contains("started_at") && e.contains("s1"), "{e}");
        assert!(
            Cursor::from_state(o, Some(&json!({"updated_at": "2025-01-01T00:00:00Z"}))).is_err()
        );
    }

    #[test]
    fn a_per_store_state_may_carry_a_fallback_for_unnamed_stores() {
        let o = find("orders").unwrap();
        let t = |s: &str| parse_instant_lenient(s).unwrap();
        // The fallback alone: no store named, every store reads from it.
        let only = json!({"state": {"updated_at": "2099-01-01T00:00:00Z"}});
        let c = Cursor::from_state(o, Some(&only)).unwrap();
        assert_eq!(
            c,
            Cursor::PerStore {
                stores: BTreeMap::new(),
                fallback: Some(t("2099-01-01T00:00:00Z"))
            }
        );
        assert_eq!(
            c.to_state(o),
            json!({"states": [], "state": {"updated_at": "2099-01-01T00:00:00Z"}})
        );
        // Beside named stores: each keeps its own cursor, the fallback is kept.
        let both = json!({
            "states": [{"partition": {"store_id": "s1"}, "cursor": {"updated_at": "2025-02-01T00:00:00Z"}}],
            "state": {"updated_at": "2026-01-01T00:00:00+01:00"}
        });
        let c = Cursor::from_state(o, Some(&both)).unwrap();
        assert_eq!(
            c.to_state(o),
            json!({
                "states": [{"partition": {"store_id": "s1"}, "cursor": {"updated_at": "2025-02-01T00:00:00Z"}}],
                "state": {"updated_at": "2025-12-31T23:00:00Z"}
            })
        );
        // Without it the state is as before.
        let plain = json!({"states": []});
        assert_eq!(
            Cursor::from_state(o, Some(&plain)).unwrap(),
            Cursor::per_store([])
        );
        assert_eq!(Cursor::per_store([]).to_state(o), plain);
        let f = find("fulfillments").unwrap();
        assert!(Cursor::from_state(f, Some(&only)).is_ok());
        for (bad, says) in [
            (
                json!({"state": 5}),
                "`state` (the cursor of the stores not named)",
            ),
            (
                json!({"state": {"created_at": "2025-01-01T00:00:00Z"}}),
                "`state`",
            ),
            (
                json!({"state": {"updated_at": "soon"}}),
                "state.updated_at 'soon'",
            ),
        ] {
            let e = Cursor::from_state(o, Some(&bad)).unwrap_err();
            assert!(e.contains("orders") && e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn full_refresh_states_round_trip_and_the_end_marker_starts_afresh() {
        let m = find("memberships").unwrap();
        let place = json!({"last_page": 7, "page_size": 200});
        let r = Resume::from_state(m, Some(&place)).unwrap();
        assert_eq!(r.to_state(), place);
        let windowed = json!({"last_page": 3, "page_size": 50,
            "window_min": "2025-01-01T00:00:00Z", "window_max": "2025-06-01T00:00:00Z"});
        let r = Resume::from_state(find("item_returns").unwrap(), Some(&windowed)).unwrap();
        assert_eq!(r.to_state(), windowed);
        let p = find("products").unwrap();
        let per = json!({"states": [
            {"partition": {"store_id": "s1"}, "cursor": {FULL_REFRESH_COMPLETE: true}},
            {"partition": {"store_id": "s2"}, "cursor": {"last_page": 4, "page_size": 50}}]});
        let r = Resume::from_state(p, Some(&per)).unwrap();
        assert_eq!(r.to_state(), per);
        assert_eq!(r.parts.len(), 2);
        // Read to its end (or the CDK's markers, or nothing): a fresh full read.
        for fresh in [
            json!({FULL_REFRESH_COMPLETE: true}),
            json!({"__ab_no_cursor_state_message": true}),
            json!({}),
        ] {
            assert_eq!(
                Resume::from_state(p, Some(&fresh)).unwrap(),
                Resume::default()
            );
        }
        assert_eq!(Resume::from_state(p, None).unwrap(), Resume::default());
        let done = Resume {
            parts: BTreeMap::new(),
            complete: true,
        };
        assert_eq!(done.to_state(), json!({FULL_REFRESH_COMPLETE: true}));
        assert_eq!(Resume::default().to_state(), json!({}));
        // Through the input state: full-refresh streams that resume get a Resume,
        // the others nothing to resume.
        let input = parse(&json!({"memberships": place, "roles": {"whatever": 1}})).unwrap();
        let sel = |name: &str| Selected {
            def: find(name).unwrap(),
            mode: crate::catalog::SyncMode::FullRefresh,
            downgraded: false,
            overwrite: false,
        };
        let got = input
            .cursors(vec![sel("memberships"), sel("roles")])
            .unwrap();
        assert!(matches!(&got[0].1, Cursor::Resume(r) if r.parts.len() == 1));
        assert_eq!(got[1].1, Cursor::Single(None));
    }

    #[test]
    fn unusable_full_refresh_states_are_errors_naming_the_stream() {
        let m = find("memberships").unwrap();
        for (bad, says) in [
            (json!(5), "must be an object"),
            (json!({"page": 7}), "not a full-refresh state"),
            (
                json!({"last_page": "7", "page_size": 20}),
                "`last_page` must be a whole number",
            ),
            (json!({"last_page": 7}), "`page_size`"),
            (
                json!({"last_page": 1, "page_size": 5, "window_min": "yesterday"}),
                "not an RFC 3339 date-time",
            ),
            (json!({"states": {}}), "`states` must be a list"),
            (json!({"states": [{"cursor": {}}]}), "`partition` object"),
            (
                json!({"states": [{"partition": {"store_id": 5}, "cursor": {}}]}),
                "must be a string",
            ),
            (
                json!({"states": [{"partition": {"store_id": "s1"}}]}),
                "`cursor` object",
            ),
        ] {
            let e = Resume::from_state(m, Some(&bad)).unwrap_err();
            assert!(e.contains("memberships") && e.contains(says), "{bad}: {e}");
        }
    }
}
