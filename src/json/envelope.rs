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

use crate::json::scan::looks_offset_time;
use crate::json::shape::Path;

/// A byte range `start..end` of the body.
pub type Span = (usize, usize);

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

/// The date-time fields of a stream's schema as a tree of keys (`None` steps into
/// array items), so that one walk knows which strings are date-times.
#[derive(Debug, Default)]
pub struct TimeFields {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    keys: Vec<(Box<[u8]>, usize)>,
    items: Option<usize>,
    leaf: bool,
}

/// For streams whose records need no date-time rewriting (and parent lookups).
pub static NO_TIMES: TimeFields = TimeFields { nodes: Vec::new() };

impl TimeFields {
    pub fn new(paths: &[Path]) -> TimeFields {
        let mut t = TimeFields {
            nodes: vec![Node::default()],
        };
        for path in paths {
            let mut at = 0;
            for step in path {
                let found = match step {
                    Some(k) => t.nodes[at]
                        .keys
                        .iter()
                        .find(|(key, _)| **key == *k.as_bytes())
                        .map(|&(_, n)| n),
                    None => t.nodes[at].items,
                };
                at = match found {
                    Some(n) => n,
                    None => {
                        let n = t.nodes.len();
                        t.nodes.push(Node::default());
                        match step {
                            Some(k) => t.nodes[at].keys.push((k.as_bytes().into(), n)),
                            None => t.nodes[at].items = Some(n),
                        }
                        n
                    }
                };
            }
            t.nodes[at].leaf = true;
        }
        t
    }

    fn key(&self, node: usize, key: &[u8], escaped: bool) -> Option<usize> {
        if escaped {
            return None;
        }
        let n = self.nodes.get(node)?;
        n.keys.iter().find(|(k, _)| **k == *key).map(|&(_, c)| c)
    }

    fn items(&self, node: usize) -> Option<usize> {
        self.nodes.get(node)?.items
    }

    fn leaf(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(|n| n.leaf)
    }
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

/// Nesting deeper than this is refused (serde_json refuses at the same depth), so
/// a hostile body cannot exhaust the stack.
const MAX_DEPTH: usize = 127;

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

/// The raw text of the value at `path` (object keys from the top), found as soon
/// as it is read: what follows it is not looked at, so `text` may be the head of a
/// body cut short. `stop_at`: a key of the innermost object that, met before the
/// last key of `path`, ends the search (the records list, when only the part of a
/// body before it is wanted). None when the value is not there (or not before
/// `stop_at`), or the text before it is not JSON.
pub fn value_at<'t>(text: &'t str, path: &[&str], stop_at: Option<&str>) -> Option<&'t str> {
    fn find(
        r: &mut Reader<'_>,
        path: &[&str],
        stop_at: Option<&str>,
        found: &mut Option<Span>,
    ) -> Step {
        let Some((&key, rest)) = path.split_first() else {
            return Ok(());
        };
        // Err ends the walk early: found it, or it is not there.
        r.object(|r, k, escaped| {
            if !escaped && k == key.as_bytes() {
                if rest.is_empty() {
                    *found = Some(r.spanned(Reader::value)?);
                    return Err("found");
                }
                if r.peek() == Some(b'{') {
                    find(r, rest, stop_at, found)?;
                    return Err("not inside");
                }
            } else if rest.is_empty() && stop_at.is_some_and(|s| k == s.as_bytes()) {
                return Err("stopped");
            }
            r.value()
        })
    }
    let mut r = Reader::new(text);
    let mut found = None;
    r.ws();
    if r.peek() != Some(b'{') {
        return None;
    }
    let _ = find(&mut r, path, stop_at, &mut found);
    found.and_then(|(s, e)| text.get(s..e))
}

/// One top-level member of an object: its key (raw text, without quotes) and the
/// span of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'t> {
    pub key: &'t str,
    /// The key holds an escape: its raw text is not its value.
    pub escaped: bool,
    pub value: Span,
}

/// The top-level members of `text` and the offset of its closing `}`. None when
/// `text` is not one valid JSON object.
pub fn members(text: &str) -> Option<(Vec<Member<'_>>, usize)> {
    let mut r = Reader::new(text);
    r.ws();
    if r.peek() != Some(b'{') {
        return None;
    }
    let mut out = Vec::new();
    r.object(|r, key, escaped| {
        let value = r.spanned(Reader::value)?;
        out.push(Member {
            key: std::str::from_utf8(key).unwrap_or(""),
            escaped,
            value,
        });
        Ok(())
    })
    .ok()?;
    let close = r.i.checked_sub(1)?;
    r.end().ok()?;
    Some((out, close))
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// Whether the last string read held an escape.
    escaped: bool,
    /// Whether a line break was met between tokens (pretty-printed JSON).
    broken_line: bool,
}

/// What went wrong; where is the reader's position (see [`Reader::describe`]).
/// Kept to a pointer and a length so that results travel in registers.
type Fail = &'static str;
type Step = Result<(), Fail>;

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            b: text.as_bytes(),
            i: 0,
            depth: 0,
            escaped: false,
            broken_line: false,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn describe(&self, what: Fail) -> String {
        if self.i >= self.b.len() {
            format!("the body ends early ({what}, at byte {})", self.i)
        } else {
            format!("{what} at byte {} of {}", self.i, self.b.len())
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(c @ (b' ' | b'\n' | b'\r' | b'\t')) = self.peek() {
            self.broken_line |= c == b'\n' || c == b'\r';
            self.i += 1;
        }
    }

    /// Only whitespace may follow the value.
    fn end(&mut self) -> Step {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err("text after the JSON value")
        }
    }

    /// Run `f` over one value and return the span it covered.
    #[inline]
    fn spanned(&mut self, f: impl FnOnce(&mut Self) -> Step) -> Result<Span, Fail> {
        let start = self.i;
        f(self)?;
        Ok((start, self.i))
    }

    fn enter(&mut self) -> Step {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("JSON nested too deeply");
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// An object at `{`; `each` gets every key (raw text, whether it holds an
    /// escape) with the reader at its value, and must read the value.
    #[inline]
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a [u8], bool) -> Step) -> Step {
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        let b = self.b;
        loop {
            if self.peek() != Some(b'"') {
                return Err("expected a key in quotes");
            }
            let s = self.i + 1;
            let e = self.string()?;
            let escaped = self.escaped;
            self.ws();
            if self.peek() != Some(b':') {
                return Err("expected ':' after a key");
            }
            self.i += 1;
            self.ws();
            each(self, &b[s..e], escaped)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected ',' or '}' in an object"),
            }
        }
    }

    /// An array at `[`; `each` reads one item, with the reader at it.
    #[inline]
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Step) -> Step {
        self.enter()?;
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            each(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected ',' or ']' in an array"),
            }
        }
    }

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

    /// Any value, validated.
    fn value(&mut self) -> Step {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object(|r, _, _| r.value()),
            Some(b'[') => self.array(Reader::value),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err("expected a JSON value"),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Step {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err("invalid literal")
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Step {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err("invalid number: no digit after '.'");
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err("invalid number: no digit in the exponent");
            }
            self.digits();
        }
        Ok(())
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    /// A string at its opening quote: the index of its closing quote (the contents
    /// start just after the opening one); the reader moves past the closing quote
    /// and `escaped` tells whether the string held an escape.
    #[inline(always)]
    fn string(&mut self) -> Result<usize, Fail> {
        let b = self.b;
        let mut i = plain_run(b, self.i + 1);
        if b.get(i) == Some(&b'"') {
            self.escaped = false;
            self.i = i + 1;
            return Ok(i);
        }
        self.escaped = true;
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(i);
                }
                Some(b'\\') => match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u')
                        if b.get(i + 2..i + 6)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                    {
                        i += 6
                    }
                    _ => {
                        self.i = i;
                        return Err("invalid escape in a string");
                    }
                },
                Some(_) => {
                    self.i = i;
                    return Err("control character in a string");
                }
                None => {
                    self.i = i;
                    return Err("unterminated string");
                }
            }
            i = plain_run(b, i);
        }
    }
}

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

/// The index of the first byte at or after `i` that is `"`, `\` or a control
/// character (or the end): eight bytes at a time, then one by one.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let ctrl = x.wrapping_sub(ONES * 0x20) & !x;
        let q = x ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let s = x ^ (ONES * u64::from(b'\\'));
        let slash = s.wrapping_sub(ONES) & !s;
        let hit = (ctrl | quote | slash) & HIGH;
        if hit != 0 {
            // The lowest flagged byte is exact (borrows only run upwards).
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
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
    fn strings_long_and_short_with_escapes() {
        for s in [
            "",
            "a",
            "exactly8",
            "a longer string over several words",
            r#"esc \" quote"#,
            r#"\\"#,
            r#"\u00e9 and \n"#,
            "ünïcödé 中文 text past eight bytes",
        ] {
            let body = format!(r#"{{"data":{{"l":["{s}"]}}}}"#);
            let l = page(&body, "l", None, &NO_TIMES).unwrap();
            assert_eq!(text(&body, l.records[0].span), format!("\"{s}\""));
        }
        for bad in ["\u{1}", "abcdefgh\u{1f}", "\\x", "\\u12"] {
            let body = format!(r#"{{"data":{{"l":["{bad}"]}}}}"#);
            assert!(page(&body, "l", None, &NO_TIMES).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_a_value_from_the_head() {
        let body =
            r#"{"meta":{"code":200},"data":{"pagination":{"next_cursor":"c"},"trackings":[{"id":"#;
        assert_eq!(
            value_at(body, &["data", "pagination"], Some("trackings")),
            Some(r#"{"next_cursor":"c"}"#)
        );
        assert_eq!(
            value_at(body, &["data", "next_token"], Some("trackings")),
            None
        );
        let late = r#"{"data":{"labels":[],"next_token":"t"}}"#;
        assert_eq!(
            value_at(late, &["data", "next_token"], Some("labels")),
            None,
            "records come first"
        );
        assert_eq!(
            value_at("<html>", &["data", "next_token"], Some("labels")),
            None
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
