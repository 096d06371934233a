//! Pages of one list query: parsing AfterShip's list envelopes in one pass, and
//! walking the four pagination styles (cursor, page number with has_next_page or
//! total, next_token, none) to the end, with guards against loops.

use crate::client::{ApiError, Client, Request};
use crate::envelope::{self, NO_TIMES, RecordSpan, Span, TimeFields};
use crate::scan::{self, Field};
use crate::streams::{Pagination, StreamDef};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

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
    records: Vec<RecordSpan>,
    times: Vec<Span>,
    pub info: PageInfo,
    /// Shipping's `data.next_token`.
    pub next_token: Option<String>,
    /// `data.total` where it sits outside `pagination` (couriers).
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
}

/// Parse `{"meta": ..., "data": {<data_key>: [...], "pagination": {...}, ...}}`,
/// validating the whole body in the same pass; `cursor` is the records' cursor
/// field, `times` their date-time fields. The body becomes the page's text
/// without a copy.
pub fn parse_page(
    body: Vec<u8>,
    data_key: &str,
    cursor: Option<&str>,
    times: &TimeFields,
) -> Result<Page, String> {
    let body = String::from_utf8(body).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    let layout = envelope::page(&body, data_key, cursor, times)?;
    let small = |span: Option<Span>| span.map(|(s, e)| body.get(s..e).unwrap_or("null"));
    let info = match small(layout.pagination) {
        Some(raw) => serde_json::from_str::<Option<PageInfo>>(raw)
            .map_err(|e| format!("`data.pagination`: {e}"))?
            .unwrap_or_default(),
        None => PageInfo::default(),
    };
    let next_token = match small(layout.next_token) {
        Some(raw) => serde_json::from_str::<Option<String>>(raw)
            .map_err(|e| format!("`data.next_token`: {e}"))?,
        None => None,
    };
    let data_total =
        small(layout.total).and_then(|raw| serde_json::from_str::<Option<u64>>(raw).ok().flatten());
    Ok(Page {
        records: layout.records,
        times: layout.times,
        body,
        info,
        next_token,
        data_total,
    })
}

enum Position {
    First,
    Cursor(String),
    Page(u32),
    Token(String),
    Done,
}

/// Walks one query's pages. `next()` yields pages until the list ends. After
/// [`Pager::read_ahead`], the request for the next page is in flight while the
/// caller works on the current one.
pub struct Pager {
    client: Arc<Client>,
    def: &'static StreamDef,
    base: Request,
    times: Option<Arc<TimeFields>>,
    limit: u32,
    pos: Position,
    seen: HashSet<String>,
    pub pages: u64,
    pub records: u64,
    /// The total the API reported on the first page, where it reports one.
    pub total: Option<u64>,
    /// Set when the API's page cap stopped the walk with more records left.
    pub capped: bool,
    read_ahead: bool,
    ahead: Option<Ahead>,
}

/// The request for the next page, running as its own task; dropped (the walk
/// stopped early), it is cancelled.
struct Ahead(tokio::task::JoinHandle<Result<Page, ApiError>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// GET one page and lay it out.
async fn fetch(
    client: Arc<Client>,
    def: &'static StreamDef,
    req: Request,
    times: Option<Arc<TimeFields>>,
) -> Result<Page, ApiError> {
    let times = times.as_deref().unwrap_or(&NO_TIMES);
    client
        .get(&req, |body| {
            parse_page(body, def.data_key, def.cursor, times)
        })
        .await
}

impl Pager {
    pub fn new(
        client: &Arc<Client>,
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
            client: Arc::clone(client),
            def,
            base,
            times: None,
            limit,
            pos: Position::First,
            seen: HashSet::new(),
            pages: 0,
            records: 0,
            total: None,
            capped: false,
            read_ahead: false,
            ahead: None,
        }
    }

    /// From now on, request each next page as soon as the current one is in hand
    /// (starting with the next one now), so that the API's time to answer overlaps
    /// the caller's work. Only for walks that are read to the end: a page fetched
    /// ahead and not wanted is a request spent.
    pub fn read_ahead(&mut self) {
        self.read_ahead = true;
        self.spawn_next();
    }

    fn spawn_next(&mut self) {
        if self.read_ahead && self.ahead.is_none() {
            if let Some(req) = self.request() {
                let task = fetch(self.client.clone(), self.def, req, self.times.clone());
                self.ahead = Some(Ahead(tokio::spawn(task)));
            }
        }
    }

    /// The page number the position stands at (1 for the first page).
    fn page_no(&self) -> u32 {
        match &self.pos {
            Position::Page(n) => *n,
            _ => 1,
        }
    }

    /// The request for the page at the current position; None when the list ended.
    fn request(&self) -> Option<Request> {
        let mut req = self.base.clone();
        match (&self.def.pagination, &self.pos) {
            (_, Position::Done) => return None,
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
                req.query.push(("page".into(), self.page_no().to_string()));
                req.query.push(("limit".into(), self.limit.to_string()));
            }
        }
        Some(req)
    }

    /// Note where the records' date-time fields hold non-UTC offsets.
    pub fn with_times(mut self, times: &Arc<TimeFields>) -> Self {
        self.times = Some(Arc::clone(times));
        self
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
        let page_no = self.page_no();
        let page = match self.ahead.take() {
            Some(mut ahead) => match (&mut ahead.0).await {
                Ok(fetched) => fetched?,
                Err(e) => return Err(self.broken(format!("the page request stopped ({e})"))),
            },
            None => match self.request() {
                None => return Ok(None),
                Some(req) => fetch(self.client.clone(), self.def, req, self.times.clone()).await?,
            },
        };
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
        self.spawn_next();
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            parse_page(
                br#"{"meta":{"code":200},"data":{"trackings":[{"id":"a"}"#.to_vec(),
                "trackings",
                None,
                &NO_TIMES
            )
            .is_err()
        );
        assert!(parse_page(b"<html>".to_vec(), "trackings", None, &NO_TIMES).is_err());
        assert!(
            parse_page(
                br#"{"meta":{"code":200},"data":{"other":[]}}"#.to_vec(),
                "trackings",
                None,
                &NO_TIMES
            )
            .is_err()
        );
        assert!(
            parse_page(
                br#"{"meta":{"code":200},"data":{"trackings":[]}} trailing"#.to_vec(),
                "trackings",
                None,
                &NO_TIMES
            )
            .is_err()
        );
    }
}
