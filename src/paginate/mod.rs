//! Pages of one list query: parsing AfterShip's list envelopes in one pass, and
//! walking the four pagination styles (cursor, page number with has_next_page or
//! total, next_token, none) to the end, with guards against loops.

use crate::http::{ApiError, Client, Request};
use crate::json::envelope::{self, NO_TIMES, RecordSpan, Span, TimeFields};
use crate::json::scan::{self, Field};
use crate::streams::{Pagination, StreamDef};
use serde::Deserialize;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

#[derive(Debug, Clone, PartialEq)]
enum Position {
    First,
    Cursor(String),
    Page(u32),
    Token(String),
    Done,
}

/// What every request of one walk shares.
#[derive(Clone)]
struct Walk {
    client: Arc<Client>,
    def: &'static StreamDef,
    base: Request,
    times: Option<Arc<TimeFields>>,
    limit: u32,
    /// Read ahead (see [`Pager::read_ahead`]): request each next page as soon as
    /// it is known, guessing it from the head of each body.
    speculate: bool,
    /// Pages requested ahead and not yet taken: at most this many at a time.
    room: Arc<Semaphore>,
}

/// Walks one query's pages. `next()` yields pages until the list ends. After
/// [`Pager::read_ahead`], the next page is requested while the caller works on
/// the current one.
pub struct Pager {
    walk: Arc<Walk>,
    pos: Position,
    seen: HashSet<String>,
    pub pages: u64,
    pub records: u64,
    /// The total the API reported on the first page, where it reports one.
    pub total: Option<u64>,
    /// Set when the API's page cap stopped the walk with more records left.
    pub capped: bool,
    ahead: Option<Ahead>,
}

/// A page requested ahead, running as its own task; dropped (the walk stopped
/// early, or the guess was wrong), it is cancelled, and so is the one it started.
struct Ahead(tokio::task::JoinHandle<Result<Fetched, ApiError>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A page, and the request for the page after it that its body's head named.
struct Fetched {
    page: Page,
    next: Option<(Position, Ahead)>,
    _room: Option<OwnedSemaphorePermit>,
}

type Fetch = Pin<Box<dyn Future<Output = Result<Fetched, ApiError>> + Send>>;

/// GET the page at `pos` and lay it out. With `walk.speculate`, as soon as the body
/// is in, the next page named by its head is requested (before this body is
/// validated; the pager uses that request only if the validated page agrees).
fn fetch(walk: Arc<Walk>, pos: Position, ahead: bool) -> Option<Fetch> {
    let req = walk.request(&pos)?;
    Some(Box::pin(async move {
        let room = if ahead {
            Some(
                Arc::clone(&walk.room)
                    .acquire_owned()
                    .await
                    .map_err(|_| ApiError::Interrupted)?,
            )
        } else {
            None
        };
        let times = walk.times.as_deref().unwrap_or(&NO_TIMES);
        let (page, next) = walk
            .client
            .get(&req, |body| {
                let next = walk
                    .speculate
                    .then(|| guess_next(walk.def, &body))
                    .flatten()
                    .and_then(|pos| {
                        let task = fetch(Arc::clone(&walk), pos.clone(), true)?;
                        Some((pos, Ahead(tokio::spawn(task))))
                    });
                // A body that fails here drops `next`, which cancels it.
                let page = parse_page(body, walk.def.data_key, walk.def.cursor, times)?;
                Ok((page, next))
            })
            .await?;
        Ok(Fetched {
            page,
            next,
            _room: room,
        })
    }))
}

/// The next position as the head of a body names it (cursor and token walks,
/// when `pagination`/`next_token` come before the records, as AfterShip sends
/// them). Only a guess: the body is not validated yet.
fn guess_next(def: &StreamDef, body: &[u8]) -> Option<Position> {
    let head = &body[..body.len().min(16 * 1024)];
    let head = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    match def.pagination {
        Pagination::Cursor { .. } => {
            let raw = envelope::value_at(head, &["data", "pagination"], Some(def.data_key))?;
            let info: PageInfo = serde_json::from_str(raw).ok()?;
            let next = info.next_cursor.filter(|c| !c.is_empty())?;
            (info.has_next_page != Some(false)).then_some(Position::Cursor(next))
        }
        Pagination::Token { .. } => {
            let raw = envelope::value_at(head, &["data", "next_token"], Some(def.data_key))?;
            let next: String = serde_json::from_str(raw).ok()?;
            (!next.is_empty()).then_some(Position::Token(next))
        }
        _ => None,
    }
}

impl Walk {
    /// The request for the page at `pos`; None when the list ended.
    fn request(&self, pos: &Position) -> Option<Request> {
        let mut req = self.base.clone();
        match (&self.def.pagination, pos) {
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
            (Pagination::PageHasNext { .. } | Pagination::PageTotal { .. }, pos) => {
                req.query.push(("page".into(), page_no(pos).to_string()));
                req.query.push(("limit".into(), self.limit.to_string()));
            }
        }
        Some(req)
    }
}

/// The page number a position stands at (1 for the first page).
fn page_no(pos: &Position) -> u32 {
    match pos {
        Position::Page(n) => *n,
        _ => 1,
    }
}

/// Pages a walk may hold requested ahead of the caller (each ≲ 1 MB).
const AHEAD: usize = 2;

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
            walk: Arc::new(Walk {
                client: Arc::clone(client),
                def,
                base,
                times: None,
                limit,
                speculate: false,
                room: Arc::new(Semaphore::new(AHEAD)),
            }),
            pos: Position::First,
            seen: HashSet::new(),
            pages: 0,
            records: 0,
            total: None,
            capped: false,
            ahead: None,
        }
    }

    fn def(&self) -> &'static StreamDef {
        self.walk.def
    }

    /// Note where the records' date-time fields hold non-UTC offsets.
    pub fn with_times(mut self, times: &Arc<TimeFields>) -> Self {
        self.walk = Arc::new(Walk {
            times: Some(Arc::clone(times)),
            ..(*self.walk).clone()
        });
        self
    }

    /// From now on, request each next page ahead: as soon as the current one is
    /// in hand, or (cursor and token walks) as soon as the head of its body names
    /// the next one, so that the API's time to answer overlaps our work. Only for
    /// walks that are read to the end: a page fetched ahead and not wanted is a
    /// request spent.
    pub fn read_ahead(&mut self) {
        self.walk = Arc::new(Walk {
            speculate: true,
            ..(*self.walk).clone()
        });
        self.spawn_next();
    }

    fn spawn_next(&mut self) {
        if self.walk.speculate && self.ahead.is_none() {
            if let Some(task) = fetch(Arc::clone(&self.walk), self.pos.clone(), true) {
                self.ahead = Some(Ahead(tokio::spawn(task)));
            }
        }
    }

    pub fn limit(&self) -> u32 {
        self.walk.limit
    }

    fn broken(&self, message: String) -> ApiError {
        ApiError::Broken {
            product: self.def().product,
            message: format!("stream {}: {message}", self.def().name),
        }
    }

    /// The next page, or None when the list is exhausted.
    pub async fn next(&mut self) -> Result<Option<Page>, ApiError> {
        let page_no = page_no(&self.pos);
        let fetched = match self.ahead.take() {
            Some(mut ahead) => match (&mut ahead.0).await {
                Ok(fetched) => fetched?,
                Err(e) => return Err(self.broken(format!("the page request stopped ({e})"))),
            },
            None => match fetch(Arc::clone(&self.walk), self.pos.clone(), false) {
                None => return Ok(None),
                Some(task) => task.await?,
            },
        };
        let Fetched { page, next, .. } = fetched;
        self.pages += 1;
        self.records += page.len() as u64;
        let n = page.len() as u64;
        self.pos = match self.def().pagination {
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
                let more = match self.def().pagination {
                    Pagination::PageHasNext { .. } => page
                        .info
                        .has_next_page
                        .unwrap_or(n >= self.walk.limit as u64),
                    _ => match page.info.total {
                        Some(t) => (page_no as u64) * (self.walk.limit as u64) < t,
                        None => n >= self.walk.limit as u64,
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
        // The page the body's head named is the one the validated page names:
        // keep its request; otherwise drop (cancel) it.
        if let Some((guess, ahead)) = next {
            if guess == self.pos {
                self.ahead = Some(ahead);
            }
        }
        self.spawn_next();
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A stand-in that answers trackings pages by cursor, over keep-alive HTTP/1.1;
    /// returns its base URL and the cursors asked for, in order.
    fn canned(pages: Vec<(&'static str, String)>) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (pages, log) = (pages.clone(), Arc::clone(&log));
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut w = conn;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let cursor = line
                            .split_whitespace()
                            .nth(1)
                            .and_then(|p| p.split("cursor=").nth(1))
                            .map(|c| c.split('&').next().unwrap_or("").to_string())
                            .unwrap_or_default();
                        while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                            line.clear();
                        }
                        log.lock().unwrap().push(cursor.clone());
                        let body = pages
                            .iter()
                            .find(|(c, _)| *c == cursor)
                            .map(|(_, b)| b.clone())
                            .unwrap_or_default();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if w.write_all(head.as_bytes())
                            .and_then(|_| w.write_all(body.as_bytes()))
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (base, asked)
    }

    fn trackings_page(head_next: &str, ids: &[u32], last_next: Option<&str>) -> String {
        let recs: Vec<String> = ids
            .iter()
            .map(|i| format!(r#"{{"id":"{i}","updated_at":"2025-01-01T00:00:0{i}Z"}}"#))
            .collect();
        let tail = last_next
            .map(|n| {
                format!(
                    r#","pagination":{{"next_cursor":{n},"has_next_page":{}}}"#,
                    n != "null"
                )
            })
            .unwrap_or_default();
        format!(
            r#"{{"meta":{{"code":200}},"data":{{"pagination":{{"next_cursor":{head_next},"has_next_page":{}}},"trackings":[{}]{tail}}}}}"#,
            head_next != "null",
            recs.join(",")
        )
    }

    async fn walk(base: &str) -> Vec<String> {
        let config = crate::config::parse(&serde_json::json!({
            "api_key": "k-0123456789abcdef", "start_date": "2015-01-01T00:00:00Z",
            "api_base_url": base, "max_requests_per_second": 1000, "max_retries": 1
        }))
        .unwrap();
        let client = Arc::new(Client::new(&config).unwrap());
        let def = crate::streams::find("trackings").unwrap();
        let req = Request {
            product: def.product,
            path: def.path,
            query: Vec::new(),
            store_id: None,
        };
        let mut pager = Pager::new(&client, def, req, None);
        let mut ids = Vec::new();
        let mut first = true;
        while let Some(page) = pager.next().await.unwrap() {
            if std::mem::take(&mut first) {
                pager.read_ahead();
            }
            for item in page.items() {
                ids.push(match crate::json::scan::top_level_field(item.text, "id") {
                    Field::Str(s) => s.into_owned(),
                    other => format!("{other:?}"),
                });
            }
        }
        ids
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_ahead_follows_the_head_and_requests_nothing_extra() {
        let (base, asked) = canned(vec![
            ("", trackings_page(r#""a""#, &[1], None)),
            ("a", trackings_page(r#""b""#, &[2], None)),
            ("b", trackings_page(r#""c""#, &[3], None)),
            ("c", trackings_page("null", &[4], None)),
        ]);
        assert_eq!(walk(&base).await, ["1", "2", "3", "4"]);
        assert_eq!(*asked.lock().unwrap(), ["", "a", "b", "c"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_guess_from_the_head_is_dropped() {
        // Each body names one next page in its head and, in a second `pagination`
        // after the records, another: the validated page (last key wins) decides.
        let (base, asked) = canned(vec![
            ("", trackings_page(r#""wrong1""#, &[1], Some(r#""b""#))),
            ("b", trackings_page(r#""wrong2""#, &[2], Some(r#""c""#))),
            ("c", trackings_page(r#""wrong3""#, &[3], Some("null"))),
            ("wrong1", trackings_page("null", &[7], None)),
            ("wrong2", trackings_page("null", &[8], None)),
            ("wrong3", trackings_page("null", &[9], None)),
        ]);
        assert_eq!(walk(&base).await, ["1", "2", "3"]);
        let asked = asked.lock().unwrap();
        for wanted in ["", "b", "c"] {
            assert_eq!(
                asked.iter().filter(|c| *c == wanted).count(),
                1,
                "{asked:?}"
            );
        }
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
}
