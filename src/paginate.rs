//! Pages of one list query: parsing AfterShip's list envelopes in one pass, and
//! walking the four pagination styles (cursor, page number with has_next_page or
//! total, next_token, none) to the end, with guards against loops.

use crate::client::{ApiError, Client, Request};
use crate::streams::{Pagination, StreamDef};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::fmt;

/// `data.pagination` in any product's dialect.
#[derive(Debug, Default, Deserialize)]
pub struct PageInfo {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_next_page: Option<bool>,
}

/// One parsed page: the body's text and where each record sits in it (records are
/// handed on as slices of the API's own bytes, never copied one by one).
#[derive(Debug, Default)]
pub struct Page {
    body: String,
    spans: Vec<(usize, usize)>,
    pub info: PageInfo,
    /// Shipping's `data.next_token`.
    pub next_token: Option<String>,
    /// `data.total` where it sits outside `pagination` (couriers).
    pub data_total: Option<u64>,
}

impl Page {
    /// The records' JSON texts, in the API's order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = &str> {
        self.spans
            .iter()
            .map(|&(s, e)| self.body.get(s..e).unwrap_or("{}"))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Parse `{"meta": ..., "data": {<data_key>: [...], "pagination": {...}, ...}}`.
pub fn parse_page(body: &[u8], data_key: &str) -> Result<Page, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let mut page = EnvelopeSeed {
        data_key,
        base: text.as_ptr() as usize,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    page.body = text.to_string();
    Ok(page)
}

struct EnvelopeSeed<'k> {
    data_key: &'k str,
    /// Address of the body's first byte: record spans are offsets from it.
    base: usize,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = Page;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = Page;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AfterShip response envelope")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let mut page = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "data" {
                page = map.next_value_seed(DataSeed {
                    data_key: self.data_key,
                    base: self.base,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        page.ok_or_else(|| de::Error::custom("the response has no `data` object"))
    }
}

struct DataSeed<'k> {
    data_key: &'k str,
    base: usize,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Option<Page>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Page>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Option<Page>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the `data` object of a list response")
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Page>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Page>, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Page>, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Page>, A::Error> {
        let mut page = Page::default();
        let mut found = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.data_key {
                let recs: Option<Vec<&'de RawValue>> = map.next_value()?;
                page.spans = recs
                    .unwrap_or_default()
                    .iter()
                    .map(|r| {
                        let start = r.get().as_ptr() as usize - self.base;
                        (start, start + r.get().len())
                    })
                    .collect();
                found = true;
            } else if key == "pagination" {
                let info: Option<PageInfo> = map.next_value()?;
                page.info = info.unwrap_or_default();
            } else if key == "next_token" {
                page.next_token = map.next_value::<Option<String>>()?;
            } else if key == "total" {
                page.data_total = map.next_value::<Option<u64>>().unwrap_or(None);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !found {
            return Err(de::Error::custom(format_args!(
                "the response has no `data.{}` list",
                self.data_key
            )));
        }
        Ok(Some(page))
    }
}

enum Position {
    First,
    Cursor(String),
    Page(u32),
    Token(String),
    Done,
}

/// Walks one query's pages. `next()` yields pages until the list ends.
pub struct Pager<'a> {
    client: &'a Client,
    def: &'static StreamDef,
    base: Request,
    limit: u32,
    pos: Position,
    seen: HashSet<String>,
    pub pages: u64,
    pub records: u64,
    /// The total the API reported on the first page, where it reports one.
    pub total: Option<u64>,
    /// Set when the API's page cap stopped the walk with more records left.
    pub capped: bool,
}

impl<'a> Pager<'a> {
    pub fn new(
        client: &'a Client,
        def: &'static StreamDef,
        base: Request,
        page_size: Option<u32>,
    ) -> Self {
        let max = match def.pagination {
            Pagination::None => 0,
            Pagination::Cursor { max_limit }
            | Pagination::PageHasNext { max_limit, .. }
            | Pagination::PageTotal { max_limit, .. }
            | Pagination::Token { max_limit } => max_limit,
        };
        let limit = page_size.map_or(max, |p| p.clamp(1, max.max(1)));
        Pager {
            client,
            def,
            base,
            limit,
            pos: Position::First,
            seen: HashSet::new(),
            pages: 0,
            records: 0,
            total: None,
            capped: false,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn broken(&self, message: String) -> ApiError {
        ApiError::Broken {
            product: self.def.product,
            message: format!("stream {}: {message}", self.def.name),
        }
    }

    /// The next page, or None when the list is exhausted.
    pub async fn next(&mut self) -> Result<Option<Page>, ApiError> {
        let mut req = self.base.clone();
        let page_no = match &self.pos {
            Position::Done => return Ok(None),
            Position::First => 1,
            Position::Page(n) => *n,
            _ => 0,
        };
        match (&self.def.pagination, &self.pos) {
            (Pagination::None, _) => {}
            (Pagination::Cursor { .. }, pos) => {
                req.query.push(("limit".into(), self.limit.to_string()));
                if let Position::Cursor(c) = pos {
                    req.query.push(("cursor".into(), c.clone()));
                }
            }
            (Pagination::Token { .. }, pos) => {
                req.query.push(("limit".into(), self.limit.to_string()));
                if let Position::Token(t) = pos {
                    req.query.push(("next_token".into(), t.clone()));
                }
            }
            (Pagination::PageHasNext { .. } | Pagination::PageTotal { .. }, _) => {
                req.query.push(("page".into(), page_no.to_string()));
                req.query.push(("limit".into(), self.limit.to_string()));
            }
        }
        let data_key = self.def.data_key;
        let page = self
            .client
            .get(&req, |body| parse_page(body, data_key))
            .await?;
        self.pages += 1;
        self.records += page.len() as u64;
        let n = page.len() as u64;
        self.pos = match self.def.pagination {
            Pagination::None => Position::Done,
            Pagination::Cursor { .. } => {
                if self.pages == 1 {
                    self.total = page.info.total;
                }
                let next = page.info.next_cursor.clone().unwrap_or_default();
                let more = page.info.has_next_page.unwrap_or(!next.is_empty());
                if !more || next.is_empty() {
                    Position::Done
                } else if !self.seen.insert(next.clone()) {
                    return Err(self.broken(format!(
                        "the API returned a cursor it already returned (after {} pages); stopping instead of looping",
                        self.pages
                    )));
                } else if n == 0 {
                    return Err(
                        self.broken("the API returned an empty page but claims more pages".into())
                    );
                } else {
                    Position::Cursor(next)
                }
            }
            Pagination::Token { .. } => {
                let next = page.next_token.clone().unwrap_or_default();
                if next.is_empty() {
                    Position::Done
                } else if !self.seen.insert(next.clone()) {
                    return Err(self.broken(format!(
                        "the API returned a next_token it already returned (after {} pages); stopping instead of looping",
                        self.pages
                    )));
                } else if n == 0 {
                    return Err(
                        self.broken("the API returned an empty page but a next_token".into())
                    );
                } else {
                    Position::Token(next)
                }
            }
            Pagination::PageHasNext { max_page, .. } | Pagination::PageTotal { max_page, .. } => {
                if self.pages == 1 {
                    self.total = page.info.total;
                }
                let more = match self.def.pagination {
                    Pagination::PageHasNext { .. } => {
                        page.info.has_next_page.unwrap_or(n >= self.limit as u64)
                    }
                    _ => match page.info.total {
                        Some(t) => (page_no as u64) * (self.limit as u64) < t,
                        None => n >= self.limit as u64,
                    },
                };
                if !more {
                    Position::Done
                } else if n == 0 {
                    return Err(self.broken(format!(
                        "the API returned an empty page {page_no} but claims more pages"
                    )));
                } else if page_no >= max_page {
                    self.capped = true;
                    Position::Done
                } else {
                    Position::Page(page_no + 1)
                }
            }
        };
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_dialect() {
        let p = parse_page(
            br#"{"meta":{"code":200},"data":{"pagination":{"total":2,"next_cursor":"abc","has_next_page":true},"trackings":[{"id":"a"},{"id":"b","x":[1,{"y":null}]}]}}"#,
            "trackings",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.records().nth(1), Some(r#"{"id":"b","x":[1,{"y":null}]}"#));
        assert_eq!(p.info.next_cursor.as_deref(), Some("abc"));
        let p = parse_page(
            br#"{"meta":{"code":200,"message":"OK","details":[]},"data":{"next_token":"dG9r","limit":20,"created_at_min":"x","labels":[]}}"#,
            "labels",
        )
        .unwrap();
        assert_eq!(p.next_token.as_deref(), Some("dG9r"));
        let p = parse_page(
            br#"{"meta":{"code":200},"data":{"total":1,"couriers":[{"slug":"ups"}]}}"#,
            "couriers",
        )
        .unwrap();
        assert_eq!(p.data_total, Some(1));
        let p = parse_page(
            br#"{"data":{"claims":[],"pagination":{"page":1,"limit":20,"total":0}},"meta":{"code":20000}}"#,
            "claims",
        )
        .unwrap();
        assert_eq!(p.info.total, Some(0));
    }

    #[test]
    fn rejects_truncated_and_wrong_bodies() {
        assert!(
            parse_page(
                br#"{"meta":{"code":200},"data":{"trackings":[{"id":"a"}"#,
                "trackings"
            )
            .is_err()
        );
        assert!(parse_page(b"<html>", "trackings").is_err());
        assert!(parse_page(br#"{"meta":{"code":200},"data":{"other":[]}}"#, "trackings").is_err());
        assert!(
            parse_page(
                br#"{"meta":{"code":200},"data":{"trackings":[]}} trailing"#,
                "trackings"
            )
            .is_err()
        );
    }
}
