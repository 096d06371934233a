//! One page of a list response: the body's text, where each record sits in it, and
//! the small envelope parts that say where the list goes on. Laid out in one
//! validating pass ([`crate::json::envelope`]); records are handed on as slices of
//! the API's own bytes, never copied one by one.

use crate::json::envelope::{self, Layout, RecordSpan, Span, TimeFields};
use crate::json::scan::{self, Field};
use crate::streams::{AFTERSHIP_REPLY, Reply};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The pagination object of a reply, read by the keys its row names.
#[derive(Debug, Default, PartialEq)]
pub struct PageInfo {
    pub total: Option<u64>,
    pub next_cursor: Option<String>,
    pub has_next_page: Option<bool>,
    /// The page size the API says it used (it may clamp ours).
    pub limit: Option<u64>,
}

impl PageInfo {
    /// Read the pagination object `raw` (or `null`) by the keys of `reply`; a
    /// value of the wrong type is an error, an unknown key is ignored.
    pub fn parse(raw: &str, reply: &Reply) -> Result<PageInfo, String> {
        let Some(m) =
            serde_json::from_str::<Option<Map<String, Value>>>(raw).map_err(|e| e.to_string())?
        else {
            return Ok(PageInfo::default());
        };
        Ok(PageInfo {
            total: member(&m, reply.total)?,
            next_cursor: member(&m, reply.next_cursor)?,
            has_next_page: member(&m, reply.has_next)?,
            limit: member(&m, reply.limit)?,
        })
    }
}

/// The member `key` of `m` as a `T` (absent or null: None).
fn member<T: DeserializeOwned>(m: &Map<String, Value>, key: &str) -> Result<Option<T>, String> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => Option::<T>::deserialize(v).map_err(|e| format!("`{key}`: {e}")),
    }
}

/// One parsed page.
#[derive(Debug, Default)]
pub struct Page {
    body: String,
    records: Vec<RecordSpan>,
    times: Vec<Span>,
    pub info: PageInfo,
    /// The next token directly under `data` (Shipping).
    pub next_token: Option<String>,
    /// A total directly under `data`, outside the pagination object (couriers).
    pub data_total: Option<u64>,
}

/// One record of a page, with what the page's pass learnt of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<'p> {
    pub text: &'p str,
    /// The record's top-level cursor field (Missing when the stream has none).
    pub cursor: Field<'p>,
    /// Where the record's date-time fields hold a non-UTC offset (ranges of `text`).
    pub times: &'p [Span],
    /// The text holds line breaks (pretty-printed JSON): write it compacted.
    pub multiline: bool,
}

impl Page {
    /// The records' JSON texts, in the API's order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = &str> {
        self.records.iter().map(|r| self.text(r.span))
    }

    /// The records with their cursor values and offset flags, in the API's order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = Item<'_>> {
        self.records.iter().map(|r| Item {
            text: self.text(r.span),
            cursor: r
                .cursor
                .map_or(Field::Missing, |span| scan::field(self.text(span))),
            times: self.times.get(r.times.0..r.times.1).unwrap_or_default(),
            multiline: r.multiline,
        })
    }

    fn text(&self, (s, e): Span) -> &str {
        self.body.get(s..e).unwrap_or("{}")
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The first list item that is not a JSON object (its index and text): AfterShip
    /// lists hold objects, and anything else cannot be a record.
    pub fn non_object(&self) -> Option<(usize, &str)> {
        self.records()
            .enumerate()
            .find(|(_, r)| !r.starts_with('{'))
    }

    /// What tells this page from another: its size and its first and last records.
    /// Two pages alike in these hold the same records (an API that ignores `page`).
    pub fn fingerprint(&self) -> (usize, &str, &str) {
        let mut texts = self.records();
        let first = texts.next().unwrap_or_default();
        let last = texts.last().unwrap_or(first);
        (self.len(), first, last)
    }
}

/// Parse `{"meta": ..., "data": {<data_key>: [...], "pagination": {...}, ...}}`
/// with AfterShip's reply keys ([`parse_page_with`]).
pub fn parse_page(
    body: Vec<u8>,
    data_key: &str,
    cursor: Option<&str>,
    times: &TimeFields,
) -> Result<Page, String> {
    parse_page_with(body, data_key, cursor, times, &AFTERSHIP_REPLY)
}

/// Parse a page, validating the whole body in the same pass; `cursor` is the
/// records' cursor field, `times` their date-time fields, `reply` the keys under
/// `data` that say where the list goes on. The body becomes the page's text
/// without a copy.
pub fn parse_page_with(
    body: Vec<u8>,
    data_key: &str,
    cursor: Option<&str>,
    times: &TimeFields,
    reply: &Reply,
) -> Result<Page, String> {
    let body = String::from_utf8(body).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    let layout = envelope::page(&body, data_key, cursor, times)?;
    let small = |key: &str| laid_out(&layout, key).map(|(s, e)| body.get(s..e).unwrap_or("null"));
    let info = match small(reply.pagination) {
        Some(raw) => {
            PageInfo::parse(raw, reply).map_err(|e| format!("`data.{}`: {e}", reply.pagination))?
        }
        None => PageInfo::default(),
    };
    let next_token = match small(reply.next_token) {
        Some(raw) => serde_json::from_str::<Option<String>>(raw)
            .map_err(|e| format!("`data.{}`: {e}", reply.next_token))?,
        None => None,
    };
    let data_total = small(reply.data_total)
        .and_then(|raw| serde_json::from_str::<Option<u64>>(raw).ok().flatten());
    Ok(Page {
        records: layout.records,
        times: layout.times,
        body,
        info,
        next_token,
        data_total,
    })
}

/// Where the page's one pass laid out the member `key` of `data`. The pass lays
/// out the three members AfterShip's replies have; [`laid_out_keys`] checks that
/// every row names only those.
fn laid_out(layout: &Layout, key: &str) -> Option<Span> {
    match key {
        "pagination" => layout.pagination,
        "next_token" => layout.next_token,
        "total" => layout.total,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::envelope::NO_TIMES;

    #[test]
    fn laid_out_keys() {
        let layout = Layout {
            pagination: Some((1, 2)),
            next_token: Some((3, 4)),
            total: Some((5, 6)),
            ..Layout::default()
        };
        for s in crate::streams::STREAMS.iter() {
            let r = s.paging.reply;
            for key in [r.pagination, r.next_token, r.data_total] {
                assert!(laid_out(&layout, key).is_some(), "{}: {key}", s.name);
            }
        }
    }

    #[test]
    fn reads_pagination_by_the_rows_keys() {
        let other = Reply {
            next_cursor: "after",
            has_next: "more",
            ..AFTERSHIP_REPLY
        };
        let info = PageInfo::parse(r#"{"after":"c","more":true,"total":3,"x":1}"#, &other).unwrap();
        assert_eq!(info.next_cursor.as_deref(), Some("c"));
        assert_eq!(info.has_next_page, Some(true));
        assert_eq!(info.total, Some(3));
        assert_eq!(
            PageInfo::parse("null", &other).unwrap(),
            PageInfo::default()
        );
        assert!(PageInfo::parse(r#"{"total":"many"}"#, &other).is_err());
        assert!(PageInfo::parse("[1]", &other).is_err());
    }

    #[test]
    fn parses_each_dialect() {
        let p = parse_page(
            br#"{"meta":{"code":200},"data":{"pagination":{"total":2,"next_cursor":"abc","has_next_page":true},"trackings":[{"id":"a"},{"id":"b","x":[1,{"y":null}]}]}}"#.to_vec(),
            "trackings",
            None,
            &NO_TIMES,
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.records().nth(1), Some(r#"{"id":"b","x":[1,{"y":null}]}"#));
        assert_eq!(p.info.next_cursor.as_deref(), Some("abc"));
        assert_eq!(p.non_object(), None);
        let p = parse_page(
            br#"{"meta":{"code":200,"message":"OK","details":[]},"data":{"next_token":"dG9r","limit":20,"created_at_min":"x","labels":[]}}"#.to_vec(),
            "labels",
            None,
            &NO_TIMES,
        )
        .unwrap();
        assert_eq!(p.next_token.as_deref(), Some("dG9r"));
        let p = parse_page(
            br#"{"meta":{"code":200},"data":{"total":1,"couriers":[{"slug":"ups"}]}}"#.to_vec(),
            "couriers",
            None,
            &NO_TIMES,
        )
        .unwrap();
        assert_eq!(p.data_total, Some(1));
        let p = parse_page(
            br#"{"data":{"claims":[],"pagination":{"page":1,"limit":20,"total":0}},"meta":{"code":20000}}"#.to_vec(),
            "claims",
            None,
            &NO_TIMES,
        )
        .unwrap();
        assert_eq!(p.info.total, Some(0));
    }

    #[test]
    fn rejects_truncated_and_wrong_bodies() {
        for body in [
            &br#"{"meta":{"code":200},"data":{"trackings":[{"id":"a"}"#[..],
            b"<html>",
            br#"{"meta":{"code":200},"data":{"other":[]}}"#,
            br#"{"meta":{"code":200},"data":{"trackings":[]}} trailing"#,
        ] {
            assert!(parse_page(body.to_vec(), "trackings", None, &NO_TIMES).is_err());
        }
    }

    #[test]
    fn finds_items_that_are_not_objects() {
        for (items, at) in [
            (r#"[{"id":"a"},1]"#, Some((1, "1"))),
            (r#"[null]"#, Some((0, "null"))),
            (r#"["x",{"id":"a"}]"#, Some((0, "\"x\""))),
            (r#"[[{"id":"a"}]]"#, Some((0, r#"[{"id":"a"}]"#))),
            (r#"[{"id":"a"},{}]"#, None),
        ] {
            let body = format!(r#"{{"data":{{"orders":{items}}}}}"#);
            let p = parse_page(body.into_bytes(), "orders", None, &NO_TIMES).unwrap();
            assert_eq!(p.non_object(), at, "{items}");
        }
    }

    #[test]
    fn fingerprints_tell_pages_apart() {
        let page = |items: &str| {
            parse_page(
                format!(r#"{{"data":{{"l":{items}}}}}"#).into_bytes(),
                "l",
                None,
                &NO_TIMES,
            )
            .unwrap()
        };
        let (a, b, c) = (
            page(r#"[{"id":1},{"id":2}]"#),
            page(r#"[{"id":1},{"id":2}]"#),
            page(r#"[{"id":2},{"id":3}]"#),
        );
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(page("[]").fingerprint(), (0, "", ""));
    }
}
