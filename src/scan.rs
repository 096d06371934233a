//! One fast pass over a record's JSON text: the value of one top-level field (the
//! cursor, a parent id) and whether any string looks like a date-time with a
//! non-UTC offset. The text was already validated by serde_json when the page was
//! parsed; this pass only follows strings and nesting, with memchr doing the work
//! inside strings, which is where most of a record's bytes are.

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

/// What one pass found.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan<'a> {
    pub field: Field<'a>,
    pub has_offset: bool,
}

/// Scan `text` (one JSON object) for the top-level `key` (None: only offsets).
pub fn scan<'a>(text: &'a str, key: Option<&str>) -> Scan<'a> {
    let b = text.as_bytes();
    let key = key.map(str::as_bytes);
    let mut out = Scan {
        field: Field::Missing,
        has_offset: false,
    };
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut key_matched = false;
    let mut want_value = false;
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let Some((end, escaped)) = string_end(b, start) else {
                    return out;
                };
                let s = &b[start..end];
                if !out.has_offset && looks_offset_time(s) {
                    out.has_offset = true;
                }
                if depth == 1 && expect_key {
                    key_matched = key.is_some_and(|k| !escaped && s == k);
                    expect_key = false;
                } else if depth == 1 && want_value {
                    out.field = if escaped {
                        serde_json::from_str::<String>(&text[i..=end])
                            .map(|v| Field::Str(Cow::Owned(v)))
                            .unwrap_or(Field::Other)
                    } else {
                        Field::Str(Cow::Borrowed(&text[start..end]))
                    };
                    want_value = false;
                }
                i = end + 1;
            }
            b'{' | b'[' => {
                if depth == 1 && want_value {
                    out.field = Field::Other;
                    want_value = false;
                }
                depth += 1;
                expect_key = depth == 1 && b[i] == b'{';
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b',' => {
                expect_key = depth == 1;
                i += 1;
            }
            b':' => {
                if depth == 1 && key_matched {
                    want_value = true;
                    key_matched = false;
                }
                i += 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            c => {
                if depth == 1 && want_value {
                    out.field = if c == b'n' { Field::Null } else { Field::Other };
                    want_value = false;
                }
                i += 1;
            }
        }
    }
    out
}

/// Byte ranges (quotes excluded) of the string values that sit at one of `paths`
/// (see [`crate::record::Path`]: `None` steps into array items) and look like a
/// date-time with a non-UTC offset. None if the text is not a well-formed object.
pub fn offset_times_at(text: &str, paths: &[crate::record::Path]) -> Option<Vec<(usize, usize)>> {
    struct Frame<'t> {
        array: bool,
        key: Option<&'t [u8]>,
        expect_key: bool,
    }
    let b = text.as_bytes();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let (end, _) = string_end(b, start)?;
                let s = &b[start..end];
                match stack.last_mut() {
                    Some(top) if !top.array && top.expect_key => {
                        top.key = Some(s);
                        top.expect_key = false;
                    }
                    Some(_) if looks_offset_time(s) => {
                        let at = |p: &crate::record::Path| {
                            p.len() == stack.len()
                                && p.iter().zip(&stack).all(|(step, f)| match step {
                                    None => f.array,
                                    Some(k) => !f.array && f.key == Some(k.as_bytes()),
                                })
                        };
                        if paths.iter().any(at) {
                            out.push((start, end));
                        }
                    }
                    _ => {}
                }
                i = end + 1;
            }
            c @ (b'{' | b'[') => {
                stack.push(Frame {
                    array: c == b'[',
                    key: None,
                    expect_key: c == b'{',
                });
                i += 1;
            }
            b'}' | b']' => {
                stack.pop()?;
                i += 1;
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.expect_key = !top.array;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    stack.is_empty().then_some(out)
}

/// The raw text of the top-level `key`'s value, stopping as soon as it is read.
/// None when the text is not an object holding `key`.
pub fn top_level_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let b = text.as_bytes();
    let mut i = b.iter().position(|c| !c.is_ascii_whitespace())?;
    if b[i] != b'{' {
        return None;
    }
    i += 1;
    loop {
        // A key, or the end of the object.
        i += b.get(i..)?.iter().position(|c| !c.is_ascii_whitespace())?;
        if b[i] == b'}' {
            return None;
        }
        if b[i] != b'"' {
            return None;
        }
        let (end, escaped) = string_end(b, i + 1)?;
        let matched = !escaped && &b[i + 1..end] == key.as_bytes();
        i = end + 1;
        i += b.get(i..)?.iter().position(|c| *c == b':')? + 1;
        i += b.get(i..)?.iter().position(|c| !c.is_ascii_whitespace())?;
        let start = i;
        i = value_end(b, i)?;
        if matched {
            return text.get(start..i);
        }
        i += b.get(i..)?.iter().position(|c| !c.is_ascii_whitespace())?;
        match b[i] {
            b',' => i += 1,
            _ => return None,
        }
    }
}

/// The index just past the JSON value starting at `i`.
fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i + 1).map(|(e, _)| e + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = string_end(b, i + 1)?.0 + 1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            while let Some(c) = b.get(i) {
                if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

/// The index of the closing quote of the string starting at `start`, and whether
/// the string holds an escape.
fn string_end(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut j = start;
    let mut escaped = false;
    loop {
        let k = memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j + k] == b'\\' {
            escaped = true;
            j += k + 2;
        } else {
            return Some((j + k, escaped));
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]±HH:MM` with an offset other than 00:00.
pub(crate) fn looks_offset_time(s: &[u8]) -> bool {
    let n = s.len();
    if !(25..=40).contains(&n) {
        return false;
    }
    let d = |i: usize| s[i].is_ascii_digit();
    let date = d(0)
        && d(1)
        && d(2)
        && d(3)
        && s[4] == b'-'
        && s[7] == b'-'
        && (s[10] == b'T' || s[10] == b' ');
    let off = n - 6;
    let offset = (s[off] == b'+' || s[off] == b'-')
        && d(off + 1)
        && d(off + 2)
        && s[off + 3] == b':'
        && d(off + 4)
        && d(off + 5);
    date && offset && &s[off + 1..] != b"00:00" && s[13] == b':' && s[16] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_level_field_only() {
        let r = r#"{"a":{"updated_at":"nested"},"list":[{"updated_at":"x"}],"updated_at":"2025-01-01T00:00:00Z","z":1}"#;
        assert_eq!(
            scan(r, Some("updated_at")).field,
            Field::Str(Cow::Borrowed("2025-01-01T00:00:00Z"))
        );
        assert_eq!(scan(r#"{"id":null}"#, Some("id")).field, Field::Null);
        assert_eq!(scan(r#"{"id":5}"#, Some("id")).field, Field::Other);
        assert_eq!(scan(r#"{"id":{"x":"y"}}"#, Some("id")).field, Field::Other);
        assert_eq!(
            scan(r#"{"x":"id","y":"z"}"#, Some("id")).field,
            Field::Missing
        );
        assert_eq!(
            scan(r#"{"id":"a\"b"}"#, Some("id")).field,
            Field::Str(Cow::Owned("a\"b".into()))
        );
        assert_eq!(
            scan(r#" { "id" : "v" } "#, Some("id")).field,
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
    fn detects_non_utc_offsets() {
        assert!(scan(r#"{"t":"2025-01-01T10:00:00+08:00"}"#, None).has_offset);
        assert!(scan(r#"{"a":[{"t":"2025-01-01T10:00:00.123-05:00"}]}"#, None).has_offset);
        assert!(
            !scan(
                r#"{"t":"2025-01-01T10:00:00Z","u":"2025-01-01T10:00:00+00:00"}"#,
                None
            )
            .has_offset
        );
        assert!(!scan(r#"{"phone":"+1 555-12:34","x":"2025-01-01"}"#, None).has_offset);
    }
}
