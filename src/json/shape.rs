//! Shaping a record on its way out: the parent ids Commerce children carry, and
//! date-times with a non-UTC offset rewritten as the same instant in UTC (`Z`).
//!
//! Destinations and PyAirbyte's caches store `format: date-time` values as
//! timestamps; several drop the offset (PyAirbyte keeps `10:00` of
//! `10:00+08:00`), which would shift the instant. Records whose date-times are all
//! UTC already — the common case — pass through as the API's bytes, untouched.

use crate::time::{format_instant, parse_instant};
use serde_json::Value;
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

/// The record's data as it should be written. `times` are the ranges of `text`
/// where the schema's date-time fields hold a non-UTC offset, found when the page
/// was read ([`crate::json::envelope`]): the UTC text is spliced in there. `extra` are
/// top-level fields to set (parent ids); `multiline` says the text holds line
/// breaks (pretty-printed JSON), which one Airbyte message per line cannot carry.
/// Either way the record is then re-serialised, compactly.
pub fn shape<'a>(
    text: &'a str,
    extra: &[(&str, &str)],
    times: &[(usize, usize)],
    multiline: bool,
) -> Cow<'a, str> {
    let utc = splice_utc(text, times);
    if extra.is_empty() && !multiline {
        // The common case: the API's bytes, untouched unless a date-time was spliced.
        return utc;
    }
    let Ok(mut v) = serde_json::from_str::<Value>(&utc) else {
        return utc;
    };
    if let Some(map) = v.as_object_mut() {
        for (k, val) in extra {
            map.insert((*k).to_string(), Value::String((*val).to_string()));
        }
    }
    Cow::Owned(v.to_string())
}

fn splice_utc<'a>(text: &'a str, spans: &[(usize, usize)]) -> Cow<'a, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8 * spans.len());
    let mut last = 0;
    for &(start, end) in spans {
        if let Some(t) = text.get(start..end).and_then(parse_instant) {
            if let Some(before) = text.get(last..start) {
                out.push_str(before);
                out.push_str(&format_instant(t));
                last = end;
            }
        }
    }
    out.push_str(text.get(last..).unwrap_or_default());
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::envelope::TimeFields;
    use serde_json::json;

    #[test]
    fn rewrites_only_date_time_fields_to_utc() {
        let schema = json!({"properties": {
            "updated_at": {"format": "date-time"},
            "order_date": {"type": "string"},
            "checkpoints": {"items": {"properties": {"created_at": {"format": "date-time"}}}}
        }});
        let paths = date_time_paths(&schema);
        assert_eq!(paths.len(), 2);
        let r = r#"{"updated_at":"2025-01-01T08:00:00+08:00","order_date":"2025-01-01T08:00:00+08:00","checkpoints":[{"created_at":"2025-01-01T00:00:00-05:00"}]}"#;
        let (_, times) = crate::json::envelope::record(r, None, &TimeFields::new(&paths)).unwrap();
        for extra in [&[][..], &[("store_id", "s1")][..]] {
            let out: Value = serde_json::from_str(&shape(r, extra, &times, false)).unwrap();
            assert_eq!(out["updated_at"], "2025-01-01T00:00:00Z");
            assert_eq!(out["order_date"], "2025-01-01T08:00:00+08:00");
            assert_eq!(out["checkpoints"][0]["created_at"], "2025-01-01T05:00:00Z");
        }
    }

    #[test]
    fn pretty_printed_records_are_compacted() {
        let r = "{\n  \"updated_at\": \"2025-01-01T08:00:00+08:00\",\n  \"note\": \"a\\nb\"\n}";
        let paths = vec![vec![Some("updated_at".into())]];
        let (rec, times) =
            crate::json::envelope::record(r, None, &TimeFields::new(&paths)).unwrap();
        assert!(rec.multiline);
        let out = shape(r, &[], &times, rec.multiline);
        assert_eq!(
            out,
            r#"{"note":"a\nb","updated_at":"2025-01-01T00:00:00Z"}"#
        );
    }

    #[test]
    fn utc_records_pass_through_as_bytes() {
        let r = r#"{"updated_at": "2025-01-01T00:00:00Z", "x": [1, 2]}"#;
        assert!(matches!(shape(r, &[], &[], false), Cow::Borrowed(_)));
        let shaped = shape(r, &[("store_id", "s1")], &[], false);
        let v: Value = serde_json::from_str(&shaped).unwrap();
        assert_eq!(v["store_id"], "s1");
    }
}
