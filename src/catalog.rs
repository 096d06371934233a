//! The configured catalog: which streams to read and in which mode.

use crate::streams::{self, StreamDef};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    FullRefresh,
    Incremental,
}

#[derive(Debug, Clone)]
pub struct Selected {
    pub def: &'static StreamDef,
    pub mode: SyncMode,
    /// An incremental request for a full-refresh-only stream (PyAirbyte asks for
    /// every stream as incremental): read in full, say so once.
    pub downgraded: bool,
    /// The destination replaces the stream's rows on every sync
    /// (`destination_sync_mode: overwrite`).
    pub overwrite: bool,
}

/// One WARN per selected stream whose rows AfterShip expires and whose
/// destination is overwritten: each sync deletes downstream what AfterShip no
/// longer serves.
pub fn overwrite_warnings(selected: &[Selected]) -> Vec<String> {
    selected
        .iter()
        .filter(|s| s.overwrite)
        .filter_map(|s| {
            let days = s.def.retention_days?;
            Some(format!(
                "stream {name}: destination_sync_mode is overwrite, but AfterShip serves {name} only for {days} days: every sync replaces the destination's rows with what AfterShip still serves, so rows older than {days} days are deleted downstream. Use append or append_dedup to keep them.",
                name = s.def.name
            ))
        })
        .collect()
}

pub fn load(path: &std::path::Path) -> Result<Vec<Selected>, String> {
    let v = crate::input::read_json_file(path, "catalog")?;
    parse(&v).map_err(|e| format!("Invalid catalog file {}: {e}", path.display()))
}

pub fn parse(v: &Value) -> Result<Vec<Selected>, String> {
    let list = v
        .get("streams")
        .and_then(Value::as_array)
        .ok_or("a configured catalog must be an object with a `streams` list")?;
    let mut out: Vec<Selected> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let name = entry
            .get("stream")
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("streams[{i}] has no `stream.name`"))?;
        let def = streams::find(name).ok_or_else(|| {
            format!(
                "streams[{i}]: unknown stream `{name}`; this source has: {}",
                streams::STREAMS
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let mode = match entry.get("sync_mode").and_then(Value::as_str) {
            Some("full_refresh") => SyncMode::FullRefresh,
            Some("incremental") => SyncMode::Incremental,
            Some(other) => {
                return Err(format!(
                    "stream `{name}`: sync_mode '{other}' is not one of full_refresh, incremental"
                ));
            }
            None => return Err(format!("stream `{name}` has no `sync_mode`")),
        };
        if out.iter().any(|s| s.def.name == name) {
            return Err(format!("stream `{name}` is listed twice"));
        }
        let downgraded = mode == SyncMode::Incremental && !def.incremental();
        let overwrite =
            entry.get("destination_sync_mode").and_then(Value::as_str) == Some("overwrite");
        out.push(Selected {
            def,
            mode: if downgraded {
                SyncMode::FullRefresh
            } else {
                mode
            },
            downgraded,
            overwrite,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(name: &str, mode: &str) -> Value {
        json!({"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": mode, "destination_sync_mode": "append"})
    }

    #[test]
    fn selects_streams_and_downgrades_full_refresh_only() {
        let c = parse(
            &json!({"streams": [entry("trackings", "incremental"), entry("roles", "incremental")]}),
        )
        .unwrap();
        assert_eq!(c[0].mode, SyncMode::Incremental);
        assert_eq!(c[1].mode, SyncMode::FullRefresh);
        assert!(c[1].downgraded);
    }

    #[test]
    fn overwrite_of_a_stream_aftership_expires_is_warned_once() {
        let mut streams = Vec::new();
        for (name, dest) in [
            ("trackings", "overwrite"),
            ("item_returns", "overwrite"),
            ("roles", "overwrite"),
            ("orders", "append"),
        ] {
            let mut e = entry(name, "full_refresh");
            e["destination_sync_mode"] = json!(dest);
            streams.push(e);
        }
        let c = parse(&json!({ "streams": streams })).unwrap();
        let warnings = overwrite_warnings(&c);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("stream trackings:"), "{warnings:?}");
        assert!(warnings[0].contains("120 days"), "{warnings:?}");
        assert!(warnings[1].contains("item_returns only for 365 days"));
        assert!(warnings[1].contains("append or append_dedup"));
    }

    #[test]
    fn rejects_unknown_streams_and_modes() {
        let e =
            parse(&json!({"streams": [entry("__AIRBYTE__stream_that_does_not_exist", "INVALID")]}))
                .unwrap_err();
        assert!(e.contains("unknown stream"));
        let e = parse(&json!({"streams": [entry("trackings", "INVALID")]})).unwrap_err();
        assert!(e.contains("INVALID"));
        assert!(parse(&json!({"nope": 1})).is_err());
        assert!(parse(&json!({"streams": [{"sync_mode": "full_refresh"}]})).is_err());
    }
}
