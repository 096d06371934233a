//! One validating pass over a list response body: the whole text is checked to be
//! JSON (RFC 8259: structure, strings, escapes, numbers, literals; the body is
//! already UTF-8) and, on the way, it notes where the envelope's parts sit —
//! `data.pagination`, `data.next_token`, `data.total` and each record of
//! `data.<list>` — and, per record, where its top-level cursor value is and where
//! its schema's date-time fields hold a date-time with a non-UTC offset (those are
//! rewritten to UTC on the way out, see [`crate::json::shape`]).
//!
//! This replaces a serde pass that validated the page plus passes per record that
//! looked for the cursor and for offsets: one walk over the bytes instead of three.
//! Nothing on stdout can come from a body this pass rejected; the property tests
//! check that it accepts exactly what serde_json accepts.
//!
//! The walk is this file's; the JSON reader under it is [`crate::json::reader`],
//! the date-time tree it follows [`crate::json::times`].

use super::reader::{Fail, Reader, Step};
use super::times::looks_offset_time;

// The paths callers outside `json/` use, wherever the items live.
pub use super::lookup::{Member, members, value_at};
pub use super::reader::Span;
pub use super::times::{NO_TIMES, TimeFields};

/// One record of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    pub span: Span,
    /// The raw text of the record's top-level cursor value, if it has that key.
    pub cursor: Option<Span>,
    /// The range of [`Layout::times`] that belongs to this record.
    pub times: (usize, usize),
    /// The record's text holds a line break between tokens (pretty-printed): it
    /// must be written compacted, an Airbyte message being one line.
    pub multiline: bool,
}

/// Where the parts of a list response sit in its body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub records: Vec<RecordSpan>,
    /// Date-time values (quotes excluded) with a non-UTC offset, at the schema's
    /// date-time fields, as ranges relative to the start of their record.
    pub times: Vec<Span>,
    /// `data.pagination`, `data.next_token`, `data.total`: raw values, small.
    pub pagination: Option<Span>,
    pub next_token: Option<Span>,
    pub total: Option<Span>,
}

/// Validate `text` as a list response and lay it out. `list` is the key of the
/// records array inside `data`; `cursor` the records' top-level cursor field;
/// `times` their date-time fields.
pub fn page(
    text: &str,
    list: &str,
    cursor: Option<&str>,
    times: &TimeFields,
) -> Result<Layout, String> {
    let mut r = Reader::new(text);
    let mut out = Layout::default();
    let mut data = false;
    let mut found_list = false;
    r.ws();
    if r.peek() != Some(b'{') {
        r.value()
            .and_then(|()| r.end())
            .map_err(|e| r.describe(e))?;
        return Err("expected an AfterShip response envelope (a JSON object)".into());
    }
    let walked = r.object(|r, key, _| match key {
        b"data" if r.peek() == Some(b'{') => {
            data = true;
            r.object(|r, key, _| {
                if key == list.as_bytes() {
                    found_list = true;
                    out.records.clear();
                    out.times.clear();
                    r.records(cursor, times, &mut out)
                } else {
                    let span = r.spanned(Reader::value)?;
                    match key {
                        b"pagination" => out.pagination = Some(span),
                        b"next_token" => out.next_token = Some(span),
                        b"total" => out.total = Some(span),
                        _ => {}
                    }
                    Ok(())
                }
            })
        }
        b"data" => {
            data = false;
            r.value()
        }
        _ => r.value(),
    });
    walked.and_then(|()| r.end()).map_err(|e| r.describe(e))?;
    if !data {
        return Err("the response has no `data` object".into());
    }
    if !found_list {
        return Err(format!("the response has no `data.{list}` list"));
    }
    Ok(out)
}

/// One record on its own (a parent record, a test): its cursor field and the
/// non-UTC date-times at `times` (relative spans). None when `text` is not one
/// valid JSON value.
pub fn record(
    text: &str,
    cursor: Option<&str>,
    times: &TimeFields,
) -> Option<(RecordSpan, Vec<Span>)> {
    let mut r = Reader::new(text);
    let mut found = Vec::new();
    r.ws();
    let rec = r.record(cursor, times, &mut found).ok()?;
    r.end().ok()?;
    Some((rec, found))
}

/// The page walk's own steps, on the reader: the records list, one record (its
/// cursor, its date-times), a value inside the date-time tree.
impl Reader<'_> {
    /// The records list: an array of records, or null.
    fn records(&mut self, cursor: Option<&str>, times: &TimeFields, out: &mut Layout) -> Step {
        match self.peek() {
            Some(b'[') => self.array(|r| {
                let rec = r.record(cursor, times, &mut out.times)?;
                out.records.push(rec);
                Ok(())
            }),
            Some(b'n') => self.literal(b"null"),
            _ => Err("the records list is not an array"),
        }
    }

    /// One record: any value; for an object, its top-level `cursor` is noted, and
    /// the non-UTC date-times at `times` are appended to `found`.
    fn record(
        &mut self,
        cursor: Option<&str>,
        times: &TimeFields,
        found: &mut Vec<Span>,
    ) -> Result<RecordSpan, Fail> {
        let start = self.i;
        let first = found.len();
        let mut at = None;
        self.broken_line = false;
        if self.peek() == Some(b'{') {
            let want = cursor.map(str::as_bytes);
            self.object(|r, key, escaped| {
                let node = times.key(0, key, escaped);
                let v = r.spanned(|r| r.timed(node, times, found))?;
                if !escaped && Some(key) == want {
                    at = Some(v);
                }
                Ok(())
            })?;
        } else {
            self.value()?;
        }
        for t in &mut found[first..] {
            *t = (t.0 - start, t.1 - start);
        }
        Ok(RecordSpan {
            span: (start, self.i),
            cursor: at,
            times: (first, found.len()),
            multiline: self.broken_line,
        })
    }

    /// A value at `node` of the date-time tree (None: outside it, no checks).
    fn timed(&mut self, node: Option<usize>, times: &TimeFields, found: &mut Vec<Span>) -> Step {
        let Some(n) = node else {
            return self.value();
        };
        match self.peek() {
            Some(b'"') => {
                let s = self.i + 1;
                let e = self.string()?;
                if times.leaf(n) && looks_offset_time(&self.b[s..e]) {
                    found.push((s, e));
                }
                Ok(())
            }
            Some(b'{') => {
                self.object(|r, key, escaped| r.timed(times.key(n, key, escaped), times, found))
            }
            Some(b'[') => {
                let items = times.items(n);
                self.array(|r| r.timed(items, times, found))
            }
            _ => self.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str, s: Span) -> &str {
        &body[s.0..s.1]
    }

    #[test]
    fn lays_out_a_cursor_page() {
        let body = r#"{"meta":{"code":200},"data":{"pagination":{"total":2,"next_cursor":"abc","has_next_page":true},"trackings":[{"id":"a","updated_at":"2025-01-01T00:00:00Z"},{"id":"b","x":[1,{"updated_at":"nested"}],"t":"2025-01-01T10:00:00+08:00"}]}}"#;
        let tf = TimeFields::new(&[
            vec![Some("t".into())],
            vec![Some("x".into()), None, Some("t".into())],
        ]);
        let l = page(body, "trackings", Some("updated_at"), &tf).unwrap();
        assert_eq!(value_at(body, &["meta"], None), Some(r#"{"code":200}"#));
        assert_eq!(
            text(body, l.pagination.unwrap()),
            r#"{"total":2,"next_cursor":"abc","has_next_page":true}"#
        );
        assert_eq!(l.records.len(), 2);
        assert_eq!(
            text(body, l.records[0].span),
            r#"{"id":"a","updated_at":"2025-01-01T00:00:00Z"}"#
        );
        assert_eq!(
            text(body, l.records[0].cursor.unwrap()),
            r#""2025-01-01T00:00:00Z""#
        );
        assert_eq!(l.records[0].times, (0, 0));
        assert!(!l.records[0].multiline);
        assert_eq!(l.records[1].cursor, None, "only the top level counts");
        let (a, b) = l.records[1].times;
        let rec = text(body, l.records[1].span);
        let found: Vec<&str> = l.times[a..b].iter().map(|&s| text(rec, s)).collect();
        assert_eq!(found, ["2025-01-01T10:00:00+08:00"]);
    }

    #[test]
    fn lays_out_other_dialects() {
        let body = r#" { "data" : { "next_token" : "dG9r" , "labels" : [ ] , "total" : 3 } , "meta" : { "code" : 200 } } "#;
        let l = page(body, "labels", None, &NO_TIMES).unwrap();
        assert_eq!(text(body, l.next_token.unwrap()), r#""dG9r""#);
        assert_eq!(text(body, l.total.unwrap()), "3");
        assert_eq!(value_at(body, &["meta"], None), Some(r#"{ "code" : 200 }"#));
        assert!(l.records.is_empty());
        let pretty = "{\"data\": {\"l\": [\n  {\"a\": 1},\n  {\n    \"b\": \"x\\ny\"\n  }\n]}}";
        let l = page(pretty, "l", None, &NO_TIMES).unwrap();
        let broken: Vec<bool> = l.records.iter().map(|r| r.multiline).collect();
        assert_eq!(
            broken,
            [false, true],
            "a \\n inside a string is no line break"
        );
        let l = page(r#"{"data":{"claims":null}}"#, "claims", None, &NO_TIMES).unwrap();
        assert!(l.records.is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_list_response() {
        for (body, why) in [
            (
                r#"{"meta":{"code":200},"data":{"trackings":[{"id":"a"}"#,
                "ends early",
            ),
            ("<html>", "expected a JSON value"),
            (r#"[1]"#, "envelope"),
            (r#"{"meta":{"code":200}}"#, "no `data` object"),
            (r#"{"data":null}"#, "no `data` object"),
            (r#"{"data":{"other":[]}}"#, "no `data.trackings` list"),
            (r#"{"data":{"trackings":{}}}"#, "not an array"),
            (r#"{"data":{"trackings":[]}} trailing"#, "text after"),
            (r#"{"data":{"trackings":["a\u00"]}}"#, "invalid escape"),
            ("{\"data\":{\"trackings\":[\"a\tb\"]}}", "control character"),
            (r#"{"data":{"trackings":[01]}}"#, "expected ','"),
            (r#"{"data":{"trackings":[1.]}}"#, "no digit after"),
            (r#"{"data":{"trackings":[1e]}}"#, "exponent"),
            (r#"{"data":{"trackings":[tru]}}"#, "literal"),
            (r#"{"data":{"trackings":[1,]}}"#, "expected a JSON value"),
            (r#"{"data":{"trackings":[],}}"#, "key in quotes"),
            (r#"{"data" {"trackings":[]}}"#, "':'"),
        ] {
            let e = page(body, "trackings", None, &NO_TIMES).unwrap_err();
            assert!(e.contains(why), "{body}: {e}");
        }
        let deep = format!(
            r#"{{"data":{{"trackings":[{}{}]}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(
            page(&deep, "trackings", None, &NO_TIMES)
                .unwrap_err()
                .contains("deeply")
        );
    }

    #[test]
    fn one_record_alone() {
        let r = record(r#"{"a":{"id":1},"id":"x"}"#, Some("id"), &NO_TIMES).unwrap();
        assert_eq!(r.0.cursor, Some((19, 22)));
        assert!(record(r#"{"id":"x""#, Some("id"), &NO_TIMES).is_none());
        assert_eq!(
            record(r#"[1]"#, Some("id"), &NO_TIMES).unwrap().0.cursor,
            None
        );
    }

    #[test]
    fn finds_date_times_only_at_schema_paths() {
        let tf = TimeFields::new(&[
            vec![Some("updated_at".into())],
            vec![Some("checkpoints".into()), None, Some("created_at".into())],
        ]);
        let r = r#"{"updated_at":"2025-01-01T08:00:00+08:00","order_date":"2025-01-01T08:00:00+08:00","checkpoints":[{"created_at":"2025-01-01T00:00:00-05:00"},{"created_at":"2025-01-01T00:00:00Z"}],"u":{"updated_at":"2025-01-01T08:00:00+08:00"}}"#;
        let (_, found) = record(r, None, &tf).unwrap();
        let texts: Vec<&str> = found.iter().map(|&s| text(r, s)).collect();
        assert_eq!(
            texts,
            ["2025-01-01T08:00:00+08:00", "2025-01-01T00:00:00-05:00"]
        );
        let (_, none) = record(r#"{"updated_at":"2025-01-01T08:00:00+00:00"}"#, None, &tf).unwrap();
        assert!(none.is_empty());
    }
}
