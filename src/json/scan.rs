//! Reading single fields out of JSON text: the value of one top-level field (the
//! cursor, a parent id, `meta`). The walking itself is [`crate::json::envelope`]'s
//! and [`crate::json::lookup`]'s, on the one JSON reader.

use super::envelope;
use super::lookup::value_at;
use super::times::NO_TIMES;
use std::borrow::Cow;

/// A top-level field of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Missing,
    Null,
    Str(Cow<'a, str>),
    /// A number, boolean, object or array.
    Other,
}

/// The top-level `key` of `text` (one JSON value); Missing when `text` is not
/// valid JSON.
pub fn top_level_field<'a>(text: &'a str, key: &str) -> Field<'a> {
    match envelope::record(text, Some(key), &NO_TIMES) {
        Some((r, _)) => r
            .cursor
            .map_or(Field::Missing, |(s, e)| field(text.get(s..e).unwrap_or(""))),
        None => Field::Missing,
    }
}

/// A field from the raw text of its (valid) JSON value.
pub fn field(raw: &str) -> Field<'_> {
    match raw.as_bytes().first() {
        Some(b'"') => match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) if !inner.contains('\\') => Field::Str(Cow::Borrowed(inner)),
            _ => serde_json::from_str::<String>(raw)
                .map(|v| Field::Str(Cow::Owned(v)))
                .unwrap_or(Field::Other),
        },
        Some(b'n') => Field::Null,
        _ => Field::Other,
    }
}

/// The raw text of the top-level `key`'s value, stopping as soon as it is read.
/// None when the text is not an object holding `key`.
pub fn top_level_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    value_at(text, &[key], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_level_field_only() {
        let r = r#"{"a":{"updated_at":"nested"},"list":[{"updated_at":"x"}],"updated_at":"2025-01-01T00:00:00Z","z":1}"#;
        assert_eq!(
            top_level_field(r, "updated_at"),
            Field::Str(Cow::Borrowed("2025-01-01T00:00:00Z"))
        );
        assert_eq!(top_level_field(r#"{"id":null}"#, "id"), Field::Null);
        assert_eq!(top_level_field(r#"{"id":5}"#, "id"), Field::Other);
        assert_eq!(top_level_field(r#"{"id":{"x":"y"}}"#, "id"), Field::Other);
        assert_eq!(
            top_level_field(r#"{"x":"id","y":"z"}"#, "id"),
            Field::Missing
        );
        assert_eq!(
            top_level_field(r#"{"id":"a\"b"}"#, "id"),
            Field::Str(Cow::Owned("a\"b".into()))
        );
        assert_eq!(
            top_level_field(r#" { "id" : "v" } "#, "id"),
            Field::Str(Cow::Borrowed("v"))
        );
    }

    #[test]
    fn finds_a_top_level_value_early() {
        let body = r#"{"meta":{"code":200,"message":"a}b"},"data":{"x":[1,2,{"meta":1}]}}"#;
        assert_eq!(
            top_level_value(body, "meta"),
            Some(r#"{"code":200,"message":"a}b"}"#)
        );
        assert_eq!(
            top_level_value(body, "data"),
            Some(r#"{"x":[1,2,{"meta":1}]}"#)
        );
        let late = r#" { "data" : [ "]" ] , "meta" : { "code" : 4104 } } "#;
        assert_eq!(top_level_value(late, "meta"), Some(r#"{ "code" : 4104 }"#));
        assert_eq!(
            top_level_value(r#"{"n": 5, "meta": null}"#, "meta"),
            Some("null")
        );
        assert_eq!(top_level_value(r#"{"data":{}}"#, "meta"), None);
        assert_eq!(top_level_value("[1]", "meta"), None);
        assert_eq!(top_level_value(r#"{"meta":{"code":2"#, "meta"), None);
    }
}
