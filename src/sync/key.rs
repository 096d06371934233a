//! What a record is known by: its key, as the raw JSON text of each key value
//! (a number key is as good as a string one, and `7` is not `"7"`), and the value
//! of a parent's field that its children are asked for. Pure.

use crate::json::scan::{Field, top_level_field, top_level_value};
use crate::streams::StreamDef;

/// The key fields the API sets (`def`'s primary key without the parent values the
/// engine adds) of the record `text`, as their raw JSON texts, whatever their
/// type. The one record key of the engine: listings and searches dedupe by it.
/// None when a key value is missing or null: such a record is never taken for
/// another.
pub fn key_text(def: &StreamDef, text: &str) -> Option<String> {
    let mut out = String::new();
    for (i, k) in def.own_key().enumerate() {
        let raw = top_level_value(text, k).filter(|v| *v != "null")?;
        if i > 0 {
            out.push('\u{1f}');
        }
        out.push_str(raw);
    }
    Some(out)
}

/// Whether `text` is a record not handed out before (recording it in `seen`);
/// a record without a full key always is.
pub fn first_time(
    seen: &mut std::collections::HashSet<String>,
    def: &StreamDef,
    text: &str,
) -> bool {
    key_text(def, text).is_none_or(|k| seen.insert(k))
}

/// The value of `field` in a parent record, as sent to its children's request and
/// carried onto their records: a string as it reads, a number as written. None
/// for anything else (missing, null, an object): such a parent cannot be asked
/// about.
pub fn parent_value(text: &str, field: &str) -> Option<String> {
    match top_level_field(text, field) {
        Field::Str(s) => Some(s.into_owned()),
        Field::Other => top_level_value(text, field)
            .filter(|raw| raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
            .map(str::to_string),
        Field::Missing | Field::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::find;

    #[test]
    fn records_are_told_apart_by_the_raw_text_of_the_keys_the_api_sets() {
        let orders = find("orders").unwrap();
        assert_eq!(
            key_text(orders, r#"{"id":"5001","store":{"id":"s"}}"#).as_deref(),
            Some(r#""5001""#)
        );
        assert_ne!(
            key_text(orders, r#"{"id":7}"#),
            key_text(orders, r#"{"id":8}"#)
        );
        assert_ne!(
            key_text(orders, r#"{"id":"7"}"#),
            key_text(orders, r#"{"id":7}"#)
        );
        let fulfillments = find("fulfillments").unwrap();
        assert_eq!(
            key_text(fulfillments, r#"{"order_id":"o","id":"f1"}"#).as_deref(),
            Some(r#""f1""#),
            "parent ids are not part of the key the engine compares"
        );
        let locations = find("locations").unwrap();
        assert_eq!(
            key_text(locations, r#"{"location_id":12}"#).as_deref(),
            Some("12")
        );
        assert_eq!(key_text(locations, r#"{"location_id":null}"#), None);
        assert_eq!(key_text(locations, r#"{}"#), None);
        // Records without a key are never taken for one another.
        let mut seen = std::collections::HashSet::new();
        assert!(first_time(&mut seen, locations, r#"{"location_id":5}"#));
        assert!(!first_time(&mut seen, locations, r#"{"location_id":5}"#));
        assert!(first_time(&mut seen, locations, r#"{"location_id":"5"}"#));
        assert!(first_time(&mut seen, locations, r#"{}"#));
        assert!(first_time(&mut seen, locations, r#"{}"#));
    }

    #[test]
    fn a_numeric_parent_id_is_a_parent_id() {
        assert_eq!(parent_value(r#"{"id":"s1"}"#, "id").as_deref(), Some("s1"));
        assert_eq!(parent_value(r#"{"id":5}"#, "id").as_deref(), Some("5"));
        assert_eq!(
            parent_value(r#"{"id":"a\"b"}"#, "id").as_deref(),
            Some("a\"b")
        );
        for none in [
            r#"{"id":null}"#,
            r#"{}"#,
            r#"{"id":{"x":1}}"#,
            r#"{"id":true}"#,
        ] {
            assert_eq!(parent_value(none, "id"), None, "{none}");
        }
    }
}
