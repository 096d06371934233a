//! Pages of one list query: walking the four pagination styles (cursor, page
//! number with has_next_page or total, next_token, none) to the end, with guards
//! against loops ([`strategy`]), reading ahead ([`ahead`]) and falling back to a
//! smaller page size when an API refuses ours ([`sizes`]).

mod ahead;
pub mod page;
pub mod sizes;
pub mod strategy;

pub use page::{Item, Page, PageInfo, parse_page};
pub use sizes::PageSizes;

use crate::http::{ApiError, Client, Request};
use crate::json::envelope::TimeFields;
use crate::streams::{PageKind, StreamDef};
use ahead::{AHEAD, Ahead, Fetched, Walk, fetch};
use sizes::{Sizing, paging_refusal};
use std::sync::Arc;
use strategy::{Asked, Guard, Position, Seen, Step, page_no};
use tokio::sync::Semaphore;

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The list ended.
    Complete,
    /// More records exist beyond the walk's page bound.
    Capped,
    /// The API takes no paging parameters here: its one page was read, and `full`
    /// says it held as many records as a page can (more may exist).
    OnePage { full: bool },
}

/// Walks one query's pages. `next()` yields pages until the list ends. After
/// [`Pager::read_ahead`], the next page is requested while the caller works on
/// the current one.
pub struct Pager {
    walk: Arc<Walk>,
    sizes: Arc<PageSizes>,
    /// The size asked for at [`Sizing::Max`].
    ours: Option<u32>,
    sizing: Sizing,
    pos: Position,
    guard: Guard,
    pub pages: u64,
    pub records: u64,
    /// Records read since the walk last started from its first page.
    read: u64,
    /// The page size the API says it used, when it says (it may clamp ours).
    served: Option<u32>,
    /// The total the API reported on the first page, where it reports one.
    pub total: Option<u64>,
    /// Set once the walk is over.
    pub end: Option<End>,
    ahead: Option<Ahead>,
}

impl Pager {
    /// A walk of `base` (its query and headers; paging parameters are added).
    /// `page_size` is the configured size, capped at the endpoint's maximum.
    pub fn new(
        client: &Arc<Client>,
        sizes: &Arc<PageSizes>,
        def: &'static StreamDef,
        base: Request,
        page_size: Option<u32>,
    ) -> Self {
        let ours = def
            .paging
            .limit
            .map(|l| page_size.map_or(l.max, |p| p.clamp(1, l.max.max(1))));
        let sizing = sizes.get(def.path);
        let mut pager = Pager {
            walk: Arc::new(Walk {
                client: Arc::clone(client),
                def,
                base,
                times: None,
                limit: ours,
                speculate: false,
                room: Arc::new(Semaphore::new(AHEAD)),
            }),
            sizes: Arc::clone(sizes),
            ours,
            sizing: Sizing::Max,
            pos: Position::First,
            guard: Guard::default(),
            pages: 0,
            records: 0,
            read: 0,
            served: None,
            total: None,
            end: None,
            ahead: None,
        };
        pager.resize(sizing);
        pager
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

    /// The page size in force: the one asked for (the documented default when no
    /// `limit` is sent), or the smaller one the API says it served.
    pub fn limit(&self) -> u32 {
        let asked = self.asked().limit;
        self.served.map_or(asked, |s| s.min(asked).max(1))
    }

    fn asked(&self) -> Asked {
        let default = self.def().paging.limit.map_or(0, |l| l.default);
        Asked {
            limit: self.walk.limit.unwrap_or(default),
            bare: self.walk.limit.is_none() && self.def().paging.limit.is_some(),
        }
    }

    pub fn capped(&self) -> bool {
        self.end == Some(End::Capped)
    }

    fn broken(&self, message: String) -> ApiError {
        ApiError::Broken {
            product: self.def().product,
            message: format!("stream {}: {message}", self.def().name),
        }
    }

    /// Ask with `sizing` from now on.
    fn resize(&mut self, sizing: Sizing) {
        let def = self.def();
        let limit = match (sizing, def.paging.limit) {
            (_, None) => None,
            (Sizing::Max, Some(_)) => self.ours,
            (Sizing::Default, Some(l)) => Some(l.default),
            (Sizing::Bare, Some(_)) => None,
        };
        let old = self.asked().limit;
        self.sizing = sizing;
        self.walk = Arc::new(Walk {
            limit,
            ..(*self.walk).clone()
        });
        self.ahead = None;
        // A page number means another record offset at another size: go on from
        // the page that starts at the same offset, or from the start.
        let new = self.asked();
        self.pos = match (&self.pos, def.paging.kind) {
            (_, PageKind::Number { .. }) if new.bare => Position::First,
            (Position::Page(k), PageKind::Number { .. }) if new.limit != old => {
                let offset = u64::from(k - 1) * u64::from(old);
                match u32::try_from(offset / u64::from(new.limit.max(1))) {
                    Ok(p) if offset % u64::from(new.limit.max(1)) == 0 => Position::Page(p + 1),
                    _ => Position::First,
                }
            }
            (pos, _) => pos.clone(),
        };
        if self.pos == Position::First {
            self.read = 0;
            self.guard = Guard::default();
        }
    }

    /// After `e`: when it is the API refusing our paging parameters, step down to
    /// a smaller size (or none) and say whether to ask again.
    fn after_refusal(&mut self, e: &ApiError) -> bool {
        let def = self.def();
        let Some(named) = paging_refusal(def, e) else {
            return false;
        };
        let ours_is_default = def
            .paging
            .limit
            .is_some_and(|l| self.ours == Some(l.default));
        let Some(to) = sizes::after(self.sizing, named, ours_is_default) else {
            return false;
        };
        let now = self.sizes.lower(def, to, e);
        self.resize(now.min(to));
        true
    }

    /// The next page, or None when the list is exhausted.
    pub async fn next(&mut self) -> Result<Option<Page>, ApiError> {
        let fetched = loop {
            let attempt = match self.ahead.take() {
                Some(mut ahead) => match (&mut ahead.0).await {
                    Ok(fetched) => fetched,
                    Err(e) => {
                        return Err(self.broken(format!("the page request stopped ({e})")));
                    }
                },
                None => match fetch(Arc::clone(&self.walk), self.pos.clone(), false) {
                    None => return Ok(None),
                    Some(task) => task.await,
                },
            };
            match attempt {
                Ok(fetched) => break fetched,
                Err(e) if self.after_refusal(&e) => continue,
                Err(e) => return Err(e),
            }
        };
        let Fetched { page, next, .. } = fetched;
        let at = page_no(&self.pos);
        if let Some((i, item)) = page.non_object() {
            let shown: String = item.chars().take(60).collect();
            return Err(self.broken(format!(
                "page {} of {} holds an item that is not a JSON object (item {i}: {shown})",
                self.pages + 1,
                self.def().path
            )));
        }
        self.pages += 1;
        self.records += page.len() as u64;
        self.read += page.len() as u64;
        self.served = page
            .info
            .limit
            .and_then(|l| u32::try_from(l).ok())
            .or(self.served);
        if self.pages == 1 {
            self.total = page.info.total;
        }
        let seen = Seen {
            len: page.len(),
            has_next: page.info.has_next_page,
            next_cursor: page.info.next_cursor.as_deref(),
            total: page.info.total,
            next_token: page.next_token.as_deref(),
            served_limit: page.info.limit,
            read: self.read,
            fingerprint: page.fingerprint(),
        };
        let asked = self.asked();
        let step = strategy::step(&self.def().paging, asked, &self.pos, &seen, &mut self.guard);
        self.pos = match step {
            Step::Go(pos) => pos,
            Step::Done => {
                let one_page =
                    asked.bare && matches!(self.def().paging.kind, PageKind::Number { .. });
                self.end = Some(if one_page {
                    End::OnePage {
                        full: page.len() as u64 >= u64::from(asked.limit),
                    }
                } else {
                    End::Complete
                });
                Position::Done
            }
            Step::Capped => {
                self.end = Some(End::Capped);
                Position::Done
            }
            Step::Broken(why) => {
                return Err(self.broken(format!("{why} (page {at}); stopping instead of looping")));
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
    use crate::json::scan::Field;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::Mutex;

    type Respond = fn(&str) -> (u16, String);

    fn sizes() -> Arc<PageSizes> {
        Arc::new(PageSizes::new(Arc::new(crate::protocol::Output::new(
            Box::new(std::io::sink()),
        ))))
    }

    /// A stand-in over keep-alive HTTP/1.1 that answers each request target
    /// (`/path?query`) with `respond`; returns its base URL and the queries asked
    /// for, in order.
    fn canned(respond: Respond) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut w = conn;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                            line.clear();
                        }
                        let query = target.split_once('?').map_or("", |(_, q)| q).to_string();
                        log.lock().unwrap().push(query);
                        let (status, body) = respond(&target);
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
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

    fn param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
        let q = target.split_once('?')?.1;
        q.split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
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

    async fn walk_with(
        base: &str,
        stream: &str,
        sizes: &Arc<PageSizes>,
    ) -> (Result<Vec<String>, ApiError>, Option<End>) {
        let config = crate::config::parse(&serde_json::json!({
            "api_key": "k-0123456789abcdef", "start_date": "2015-01-01T00:00:00Z",
            "api_base_url": base, "max_requests_per_second": 1000, "max_retries": 1
        }))
        .unwrap();
        let client = Arc::new(Client::new(&config, crate::http::Stop::default()).unwrap());
        let def = crate::streams::find(stream).unwrap();
        let req = Request {
            product: def.product,
            path: def.path,
            query: Vec::new(),
            headers: Vec::new(),
            rate: def.rate,
        };
        let mut pager = Pager::new(&client, sizes, def, req, None);
        let mut ids = Vec::new();
        let mut first = true;
        loop {
            match pager.next().await {
                Ok(Some(page)) => {
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
                Ok(None) => return (Ok(ids), pager.end),
                Err(e) => return (Err(e), pager.end),
            }
        }
    }

    async fn walk(base: &str) -> Vec<String> {
        walk_with(base, "trackings", &sizes()).await.0.unwrap()
    }

    fn by_cursor(target: &str) -> (u16, String) {
        let page = match param(target, "cursor").unwrap_or("") {
            "" => trackings_page(r#""a""#, &[1], None),
            "a" => trackings_page(r#""b""#, &[2], None),
            "b" => trackings_page(r#""c""#, &[3], None),
            _ => trackings_page("null", &[4], None),
        };
        (200, page)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_ahead_follows_the_head_and_requests_nothing_extra() {
        let (base, asked) = canned(by_cursor);
        assert_eq!(walk(&base).await, ["1", "2", "3", "4"]);
        let cursors: Vec<String> = asked
            .lock()
            .unwrap()
            .iter()
            .map(|q| param(&format!("?{q}"), "cursor").unwrap_or("").to_string())
            .collect();
        assert_eq!(cursors, ["", "a", "b", "c"]);
    }

    fn wrong_heads(target: &str) -> (u16, String) {
        // Each body names one next page in its head and, in a second `pagination`
        // after the records, another: the validated page (last key wins) decides.
        let page = match param(target, "cursor").unwrap_or("") {
            "" => trackings_page(r#""wrong1""#, &[1], Some(r#""b""#)),
            "b" => trackings_page(r#""wrong2""#, &[2], Some(r#""c""#)),
            "c" => trackings_page(r#""wrong3""#, &[3], Some("null")),
            "wrong1" => trackings_page("null", &[7], None),
            "wrong2" => trackings_page("null", &[8], None),
            _ => trackings_page("null", &[9], None),
        };
        (200, page)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_guess_from_the_head_is_dropped() {
        let (base, asked) = canned(wrong_heads);
        assert_eq!(walk(&base).await, ["1", "2", "3"]);
        let asked = asked.lock().unwrap();
        for wanted in ["", "b", "c"] {
            let n = asked
                .iter()
                .filter(|q| param(&format!("?{q}"), "cursor").unwrap_or("") == wanted)
                .count();
            assert_eq!(n, 1, "{asked:?}");
        }
    }

    /// Shipping labels whose API accepts at most `limit=30` (HTTP 200, code 4104).
    fn labels_up_to_30(target: &str) -> (u16, String) {
        let limit: u32 = param(target, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(20);
        if limit > 30 {
            return (
                200,
                r#"{"meta":{"code":4104,"message":"The request was invalid or cannot be otherwise served.","details":[{"path":"limit","info":"limit must be between 1 and 30"}]},"data":{}}"#.into(),
            );
        }
        let (ids, next) = match param(target, "next_token") {
            None => ((0..limit).collect::<Vec<_>>(), "t2"),
            Some(_) => ((100..105).collect(), ""),
        };
        let recs: Vec<String> = ids.iter().map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
        (
            200,
            format!(
                r#"{{"meta":{{"code":200,"message":"OK","details":[]}},"data":{{"next_token":"{next}","limit":{limit},"labels":[{}]}}}}"#,
                recs.join(",")
            ),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_page_size_falls_back_to_the_documented_default() {
        let (base, asked) = canned(labels_up_to_30);
        let sizes = sizes();
        let (ids, end) = walk_with(&base, "shipping_labels", &sizes).await;
        let ids = ids.unwrap();
        assert_eq!(ids.len(), 25, "20 at the default size, then 5: {ids:?}");
        assert_eq!(end, Some(End::Complete));
        let limits: Vec<String> = asked
            .lock()
            .unwrap()
            .iter()
            .map(|q| param(&format!("?{q}"), "limit").unwrap_or("-").to_string())
            .collect();
        assert_eq!(limits, ["100", "20", "20"]);
        // The endpoint keeps the default for the rest of the sync.
        asked.lock().unwrap().clear();
        let (again, _) = walk_with(&base, "shipping_labels", &sizes).await;
        assert_eq!(again.unwrap().len(), 25);
        assert_eq!(
            param(&format!("?{}", asked.lock().unwrap()[0]), "limit"),
            Some("20")
        );
    }

    /// Fulfillments whose API refuses anything beside order_id (HTTP 400).
    fn order_id_only(target: &str) -> (u16, String) {
        if param(target, "page").is_some() || param(target, "limit").is_some() {
            return (
                400,
                r#"{"meta":{"code":40000,"type":"BadRequest","message":"Include only one of order_id or ids[]. All other parameters should be omitted.","errors":[{"path":"page","info":"must be omitted"},{"path":"limit","info":"must be omitted"}]},"data":{}}"#.into(),
            );
        }
        let recs: Vec<String> = (0..10).map(|i| format!(r#"{{"id":"f{i}"}}"#)).collect();
        (
            200,
            format!(
                r#"{{"meta":{{"code":20000,"type":"OK","message":"OK"}},"data":{{"fulfillments":[{}],"pagination":{{"page":1,"limit":10,"has_next_page":true}}}}}}"#,
                recs.join(",")
            ),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paging_parameters_refused_altogether_read_the_one_page() {
        let (base, asked) = canned(order_id_only);
        let (ids, end) = walk_with(&base, "fulfillments", &sizes()).await;
        assert_eq!(ids.unwrap().len(), 10);
        assert_eq!(end, Some(End::OnePage { full: true }));
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert_eq!(asked[1], "", "asked again with no paging parameters");
    }

    fn holds_a_number(_: &str) -> (u16, String) {
        (
            200,
            r#"{"meta":{"code":20000},"data":{"orders":[{"id":"a"},1],"pagination":{"page":1,"limit":50,"has_next_page":false}}}"#.into(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_item_that_is_not_an_object_is_an_error_naming_the_page() {
        let (base, _) = canned(holds_a_number);
        let (r, _) = walk_with(&base, "orders", &sizes()).await;
        let e = r.unwrap_err();
        assert_eq!(e.failure_type(), crate::protocol::FailureType::SystemError);
        let m = e.to_string();
        assert!(
            m.contains("orders") && m.contains("page 1") && m.contains("not a JSON object"),
            "{m}"
        );
    }
}
