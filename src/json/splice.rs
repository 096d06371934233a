//! Edits spliced into a record's JSON text, leaving every other byte as the API
//! sent it (key order, escapes, numbers with all their digits). The input is one
//! valid JSON value: it has passed [`super::envelope`]'s validating pass.

use super::lookup;
use super::reader::Span;
use crate::time::{format_instant, parse_instant};
use std::borrow::Cow;

/// The UTC text of each non-UTC date-time at `spans` (ranges of `text`, quotes
/// excluded), spliced in; the rest untouched.
pub fn utc<'a>(text: &'a str, spans: &[Span]) -> Cow<'a, str> {
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

/// Set top-level string members of the object `text`: a member the object already
/// has with that very value stays as it is; one with another value gets this one
/// (the value is part of the record's key); a missing one is added at the end.
/// An error when `text` is not an object.
pub fn set_members(text: &str, set: &[(&str, &str)]) -> Result<String, String> {
    let (members, close) =
        lookup::members(text).ok_or_else(|| "the record is not a JSON object".to_string())?;
    let mut edits: Vec<(Span, String)> = Vec::new();
    let mut added = String::new();
    for (key, value) in set {
        let quoted = quote(value);
        match members.iter().rev().find(|m| !m.escaped && m.key == *key) {
            Some(m) if text.get(m.value.0..m.value.1) == Some(quoted.as_str()) => {}
            Some(m) => edits.push((m.value, quoted)),
            None => {
                if !members.is_empty() || !added.is_empty() {
                    added.push(',');
                }
                added.push_str(&quote(key));
                added.push(':');
                added.push_str(&quoted);
            }
        }
    }
    edits.push(((close, close), added));
    edits.sort_by_key(|(span, _)| *span);
    Ok(apply(text, &edits))
}

/// The object `text` with every value under its top-level member `field`
/// replaced by `null`, the field names kept; unchanged when it has no such member.
pub fn withhold<'a>(text: &'a str, field: &str) -> Cow<'a, str> {
    let Some((members, _)) = lookup::members(text) else {
        return Cow::Borrowed(text);
    };
    let spans: Vec<Span> = members
        .iter()
        .filter(|m| !m.escaped && m.key == field)
        .map(|m| m.value)
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let edits: Vec<(Span, String)> = spans
        .into_iter()
        .map(|(s, e)| ((s, e), null_leaves(text.get(s..e).unwrap_or("null"))))
        .collect();
    Cow::Owned(apply(text, &edits))
}

/// The JSON value `v` with every string, number and literal that is a value (not
/// a key) replaced by `null`: objects keep their keys, arrays their length.
pub fn null_leaves(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = String::with_capacity(v.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = string_end(b, i);
                let mut j = end;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if b.get(j) == Some(&b':') {
                    out.push_str(v.get(i..end).unwrap_or(""));
                } else {
                    out.push_str("null");
                }
                i = end;
            }
            c @ (b'{' | b'}' | b'[' | b']' | b',' | b':') => {
                out.push(c as char);
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                // A number or literal: up to the next structural byte.
                while i < b.len()
                    && !matches!(b[i], b',' | b'}' | b']')
                    && !b[i].is_ascii_whitespace()
                {
                    i += 1;
                }
                out.push_str("null");
            }
        }
    }
    out
}

/// `text` without the whitespace between its tokens (an Airbyte message is one
/// line); strings, numbers and key order untouched.
pub fn compact(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i),
            c if c.is_ascii_whitespace() => {
                out.push_str(text.get(last..i).unwrap_or(""));
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

/// The index just after the string that starts at the quote at `i`.
fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `text` with each span replaced by its text (spans sorted, not overlapping).
fn apply(text: &str, edits: &[(Span, String)]) -> String {
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.1.len()).sum::<usize>());
    let mut last = 0;
    for ((s, e), with) in edits {
        out.push_str(text.get(last..*s).unwrap_or(""));
        out.push_str(with);
        last = *e;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXACT: &str = r#"{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"caf\u00e9 \/ \ud83d\ude00 \"q\"","id":"1"}"#;

    #[test]
    fn parent_ids_are_spliced_in_and_nothing_else_moves() {
        let out = set_members(EXACT, &[("store_id", "s1"), ("order_id", "o\"2")]).unwrap();
        assert_eq!(
            out,
            r#"{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"caf\u00e9 \/ \ud83d\ude00 \"q\"","id":"1","store_id":"s1","order_id":"o\"2"}"#
        );
        assert_eq!(
            set_members("{}", &[("store_id", "s")]).unwrap(),
            r#"{"store_id":"s"}"#
        );
        assert_eq!(
            set_members(" { \"a\" : 1 } ", &[("store_id", "s")]).unwrap(),
            r#" { "a" : 1 ,"store_id":"s"} "#
        );
    }

    #[test]
    fn a_member_already_there_keeps_its_bytes_or_takes_the_parent_id() {
        let same = r#"{"order_id":"o1","id":"f"}"#;
        assert_eq!(set_members(same, &[("order_id", "o1")]).unwrap(), same);
        for other in [
            r#"{"order_id":null,"id":"f"}"#,
            r#"{"order_id":"o9","id":"f"}"#,
            r#"{"order_id":7,"id":"f"}"#,
        ] {
            assert_eq!(
                set_members(other, &[("order_id", "o1")]).unwrap(),
                r#"{"order_id":"o1","id":"f"}"#,
                "{other}"
            );
        }
    }

    #[test]
    fn only_objects_take_parent_ids() {
        for not_object in ["1", "null", r#"["a"]"#, r#""x""#] {
            assert!(
                set_members(not_object, &[("store_id", "s")]).is_err(),
                "{not_object}"
            );
        }
    }

    #[test]
    fn withheld_values_become_null_and_names_stay() {
        let r = r#"{"id":"c1","credentials":{"account_number":"12345","api_key":"sk_live_x","nested":{"password":"p@ss","n":5},"list":["a",true]},"note":"credentials"}"#;
        assert_eq!(
            withhold(r, "credentials"),
            r#"{"id":"c1","credentials":{"account_number":null,"api_key":null,"nested":{"password":null,"n":null},"list":[null,null]},"note":"credentials"}"#
        );
        assert_eq!(
            withhold(r#"{"credentials":null}"#, "credentials"),
            r#"{"credentials":null}"#
        );
        let none = r#"{"id":"x"}"#;
        assert!(matches!(withhold(none, "credentials"), Cow::Borrowed(_)));
        assert_eq!(
            null_leaves(r#" { "a\"b" : "v" , "c" : [ 1 , -2.5e3 ] } "#),
            r#"{"a\"b":null,"c":[null,null]}"#
        );
    }

    #[test]
    fn compaction_keeps_strings_and_numbers() {
        let pretty = "{\n  \"a\" : \"x y\\n\\\"z\\\"\",\n  \"n\" : 98765432109876543210987 ,\t\"l\": [ 1 , 2 ]\n}";
        assert_eq!(
            compact(pretty),
            r#"{"a":"x y\n\"z\"","n":98765432109876543210987,"l":[1,2]}"#
        );
        assert_eq!(compact(EXACT), EXACT);
    }

    #[test]
    fn utc_splices_only_the_given_spans() {
        let r = r#"{"updated_at":"2025-01-01T08:00:00+08:00","n":1.50}"#;
        assert_eq!(
            utc(r, &[(15, 40)]),
            r#"{"updated_at":"2025-01-01T00:00:00Z","n":1.50}"#
        );
        assert!(matches!(utc(r, &[]), Cow::Borrowed(_)));
    }
}
