//! Shaping a record on its way out, the only rewrites a record gets: the parent ids
//! Commerce children carry, carrier credentials withheld, and date-times with a
//! non-UTC offset rewritten as the same instant in UTC (`Z`).
//!
//! Destinations and PyAirbyte's caches store `format: date-time` values as
//! timestamps; several drop the offset (PyAirbyte keeps `10:00` of
//! `10:00+08:00`), which would shift the instant. Records whose date-times are all
//! UTC already — the common case — pass through as the API's bytes, untouched.

use super::splice;
use serde_json::Value;
use std::borrow::Cow;

pub use super::times::Path;

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

/// The documented rewrites of one stream's records: parent ids to set, top-level
/// fields whose values are withheld.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rewrites<'a> {
    pub parents: &'a [(&'a str, &'a str)],
    pub withheld: &'a [&'a str],
}

/// The record's data as it should be written: the API's bytes, with the UTC text
/// spliced in at `times` (the ranges of `text` where the schema's date-time fields
/// hold a non-UTC offset, found when the page was read, [`super::envelope`]), the
/// parent ids set, withheld values nulled, and, when the text holds line breaks
/// (`multiline`, pretty-printed JSON, which one Airbyte message per line cannot
/// carry), compacted. Nothing else changes: key order, escapes and numbers stay as
/// sent. An error when the record cannot take its parent ids (not an object).
pub fn shape<'a>(
    text: &'a str,
    times: &[(usize, usize)],
    multiline: bool,
    rw: &Rewrites<'_>,
) -> Result<Cow<'a, str>, String> {
    let mut out = splice::utc(text, times);
    if !rw.parents.is_empty() {
        out = Cow::Owned(splice::set_members(&out, rw.parents)?);
    }
    for field in rw.withheld {
        if let Cow::Owned(o) = splice::withhold(&out, field) {
            out = Cow::Owned(o);
        }
    }
    if multiline {
        out = Cow::Owned(splice::compact(&out));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::envelope::record;
    use crate::json::times::TimeFields;
    use serde_json::json;

    fn plain() -> Rewrites<'static> {
        Rewrites::default()
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
        let r = r#"{"updated_at":"2025-01-01T08:00:00+08:00","order_date":"2025-01-01T08:00:00+08:00","checkpoints":[{"created_at":"2025-01-01T00:00:00-05:00"}]}"#;
        let (_, times) = record(r, None, &TimeFields::new(&paths)).unwrap();
        let parents = [("store_id", "s1")];
        for rw in [
            plain(),
            Rewrites {
                parents: &parents,
                withheld: &[],
            },
        ] {
            let out: Value = serde_json::from_str(&shape(r, &times, false, &rw).unwrap()).unwrap();
            assert_eq!(out["updated_at"], "2025-01-01T00:00:00Z");
            assert_eq!(out["order_date"], "2025-01-01T08:00:00+08:00");
            assert_eq!(out["checkpoints"][0]["created_at"], "2025-01-01T05:00:00Z");
        }
    }

    #[test]
    fn pretty_printed_records_are_compacted_in_their_own_order() {
        let r = "{\n  \"updated_at\": \"2025-01-01T08:00:00+08:00\",\n  \"note\": \"a\\nb\"\n}";
        let paths = vec![vec![Some("updated_at".into())]];
        let (rec, times) = record(r, None, &TimeFields::new(&paths)).unwrap();
        assert!(rec.multiline);
        let out = shape(r, &times, rec.multiline, &plain()).unwrap();
        assert_eq!(
            out,
            r#"{"updated_at":"2025-01-01T00:00:00Z","note":"a\nb"}"#
        );
    }

    #[test]
    fn records_keep_every_byte_but_the_documented_rewrites() {
        let r = r#"{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"\u00e9\/","credentials":{"k":"secret"}}"#;
        assert!(matches!(
            shape(r, &[], false, &plain()).unwrap(),
            Cow::Borrowed(_)
        ));
        let parents = [("store_id", "s1")];
        let rw = Rewrites {
            parents: &parents,
            withheld: &["credentials"],
        };
        assert_eq!(
            shape(r, &[], false, &rw).unwrap(),
            r#"{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"\u00e9\/","credentials":{"k":null},"store_id":"s1"}"#
        );
        assert!(shape("[1]", &[], false, &rw).is_err());
    }
}
