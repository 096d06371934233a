//! Shaping a record on its way out: the parent ids Commerce children carry, and
//! date-times with a non-UTC offset rewritten as the same instant in UTC (`Z`).
//!
//! Destinations and PyAirbyte's caches store `format: date-time` values as
//! timestamps; several drop the offset (PyAirbyte keeps `10:00` of
//! `10:00+08:00`), which would shift the instant. Records whose date-times are all
//! UTC already — the common case — pass through as the API's bytes, untouched.

use crate::time::{format_instant, parse_instant};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A path to a `format: date-time` field; `None` steps into every array item.
pub type Path = Vec<Option<String>>;

/// The date-time paths of a stream's JSON Schema.
pub fn date_time_paths(schema: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    walk(schema, &mut Vec::new(), &mut out);
    out
}

fn walk(schema: &Value, at: &mut Path, out: &mut Vec<Path>) {
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        out.push(at.clone());
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            at.push(Some(k.clone()));
            walk(v, at, out);
            at.pop();
        }
    }
    if let Some(items) = schema.get("items") {
        at.push(None);
        walk(items, at, out);
        at.pop();
    }
}

/// True if the text may hold a date-time with a non-zero offset
/// (`…:ss+08:00"` or `…:ss.fff-05:00"`): a cheap byte scan, no parsing.
pub fn has_offset(text: &str) -> bool {
    let b = text.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 1;
    while i + 6 < b.len() {
        if (b[i] == b'+' || b[i] == b'-')
            && after_seconds(b, i)
            && d(i + 1)
            && d(i + 2)
            && b[i + 3] == b':'
            && d(i + 4)
            && d(i + 5)
            && b[i + 6] == b'"'
            && &b[i + 1..i + 6] != b"00:00"
        {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether the bytes before `i` end a time of day: `:ss` or `:ss.fff`.
fn after_seconds(b: &[u8], i: usize) -> bool {
    let d = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    let mut k = i;
    while k > 0 && d(k - 1) {
        k -= 1;
    }
    // b[k..i] are digits; b[k - 1] is what precedes them.
    if k < 4 {
        return false;
    }
    match b[k - 1] {
        b'.' => k >= 4 && b[k - 4] == b':' && d(k - 3) && d(k - 2) && i > k,
        b':' => i - k == 2,
        _ => false,
    }
}

/// The record's data as it should be written.
pub fn shape<'a>(raw: &'a RawValue, extra: &[(&str, &str)], paths: &[Path]) -> Cow<'a, str> {
    let text = raw.get();
    let rewrite_times = !paths.is_empty() && has_offset(text);
    if extra.is_empty() && !rewrite_times {
        return Cow::Borrowed(text);
    }
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        return Cow::Borrowed(text);
    };
    if let Some(map) = v.as_object_mut() {
        for (k, val) in extra {
            map.insert((*k).to_string(), Value::String((*val).to_string()));
        }
    }
    if rewrite_times {
        for p in paths {
            to_utc(&mut v, p);
        }
    }
    Cow::Owned(v.to_string())
}

fn to_utc(v: &mut Value, path: &[Option<String>]) {
    match path.split_first() {
        None => {
            if let Value::String(s) = v {
                if let Some(t) = parse_instant(s) {
                    let utc = format_instant(t);
                    if *s != utc && !s.ends_with('Z') {
                        *s = utc;
                    }
                }
            }
        }
        Some((Some(key), rest)) => {
            if let Some(child) = v.get_mut(key.as_str()) {
                to_utc(child, rest);
            }
        }
        Some((None, rest)) => {
            if let Value::Array(items) = v {
                for item in items {
                    to_utc(item, rest);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(s: &str) -> Box<RawValue> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn finds_offsets_cheaply() {
        assert!(has_offset(r#"{"a":"2025-01-01T10:00:00+08:00"}"#));
        assert!(has_offset(r#"{"a":"2025-01-01T10:00:00.123-05:00"}"#));
        assert!(!has_offset(
            r#"{"a":"2025-01-01T10:00:00Z","b":"2025-01-01T10:00:00+00:00"}"#
        ));
        assert!(!has_offset(r#"{"phone":"+1 555-12:34"}"#));
    }

    #[test]
    fn rewrites_only_date_time_fields_to_utc() {
        let schema = json!({"properties": {
            "updated_at": {"format": "date-time"},
            "order_date": {"type": "string"},
            "checkpoints": {"items": {"properties": {"created_at": {"format": "date-time"}}}}
        }});
        let paths = date_time_paths(&schema);
        assert_eq!(paths.len(), 2);
        let r = raw(
            r#"{"updated_at":"2025-01-01T08:00:00+08:00","order_date":"2025-01-01T08:00:00+08:00","checkpoints":[{"created_at":"2025-01-01T00:00:00-05:00"}]}"#,
        );
        let out: Value = serde_json::from_str(&shape(&r, &[], &paths)).unwrap();
        assert_eq!(out["updated_at"], "2025-01-01T00:00:00Z");
        assert_eq!(out["order_date"], "2025-01-01T08:00:00+08:00");
        assert_eq!(out["checkpoints"][0]["created_at"], "2025-01-01T05:00:00Z");
    }

    #[test]
    fn utc_records_pass_through_as_bytes() {
        let r = raw(r#"{"updated_at": "2025-01-01T00:00:00Z", "x": [1, 2]}"#);
        assert!(matches!(
            shape(&r, &[], &[vec![Some("updated_at".into())]]),
            Cow::Borrowed(_)
        ));
        let shaped = shape(&r, &[("store_id", "s1")], &[]);
        let v: Value = serde_json::from_str(&shaped).unwrap();
        assert_eq!(v["store_id"], "s1");
    }
}
