//! Reading single fields out of JSON text — the value of one top-level field (the
//! cursor, a parent id, `meta`) — and recognising date-times with a non-UTC
//! offset. The walking itself is [`crate::json::envelope`]'s, the one JSON reader.

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
    match crate::json::envelope::record(text, Some(key), &crate::json::envelope::NO_TIMES) {
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
    crate::json::envelope::value_at(text, &[key], None)
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]` with an offset that is not RFC 3339's UTC: `±HH:MM`
/// other than `+00:00`/`-00:00`, or any offset written without its colon (`+0800`,
/// `+0000`), which is not RFC 3339 at all.
pub(crate) fn looks_offset_time(s: &[u8]) -> bool {
    let n = s.len();
    if !(24..=40).contains(&n) {
        return false;
    }
    let d = |i: usize| s[i].is_ascii_digit();
    let date = d(0)
        && d(1)
        && d(2)
        && d(3)
        && s[4] == b'-'
        && s[7] == b'-'
        && (s[10] == b'T' || s[10] == b' ')
        && s[13] == b':'
        && s[16] == b':';
    let sign = |i: usize| s[i] == b'+' || s[i] == b'-';
    let colon =
        n >= 25 && sign(n - 6) && d(n - 5) && d(n - 4) && s[n - 3] == b':' && d(n - 2) && d(n - 1);
    let bare = sign(n - 5) && d(n - 4) && d(n - 3) && d(n - 2) && d(n - 1);
    date && ((colon && &s[n - 5..] != b"00:00") || (!colon && bare))
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

    #[test]
    fn recognises_non_utc_offsets() {
        assert!(looks_offset_time(b"2025-01-01T10:00:00+08:00"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00.123-05:00"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00Z"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00+00:00"));
        assert!(!looks_offset_time(b"+1 555-12:34"));
        assert!(!looks_offset_time(b"2025-01-01"));
        // Offsets without a colon are not RFC 3339: rewritten like the others.
        assert!(looks_offset_time(b"2025-01-01T10:00:00+0800"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00.5-0530"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00+0000"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00.123Z"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00.1234"));
    }
}
