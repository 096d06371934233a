//! The sync engine: one generic loop for all 22 streams.
//!
//! A stream's requests come from its source (one list, per store, per order, per
//! location search); each request walks time windows (where the API can filter)
//! and pages; records go out through the protocol writer, and STATE follows only
//! what was emitted, so a kill at any point loses nothing on resume.

use crate::catalog::{Selected, SyncMode};
use crate::config::{Config, LocationSearch};
use crate::http::{ApiError, Client, Request};
use crate::json::envelope::TimeFields;
use crate::json::scan::{self, Field};
use crate::json::shape as record;
use crate::paginate::{Item, Pager};
use crate::protocol::{self, FailureType, LogLevel, StreamStatus};
use crate::state::{Cursor, InputState};
use crate::streams::{Filter, Pagination, Source, StreamDef};
use crate::time::{format_filter, parse_instant};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// Shared by every stream of one sync.
pub struct Ctx {
    pub client: Arc<Client>,
    pub config: Config,
    /// When the sync started: windows end here, cursors never pass now + 1 day.
    pub now: DateTime<Utc>,
}

/// How one stream ended.
#[derive(Debug)]
pub enum Outcome {
    Complete,
    /// The key may not use this stream's API product: skipped, not a failure.
    Skipped(String),
    Failed(ApiError),
}

/// What a stream did, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub records: u64,
    pub pages: u64,
    pub seconds: f64,
    pub state: Option<Value>,
}

/// Run the selected streams concurrently; returns the process exit code.
pub async fn read(config: Config, selected: Vec<Selected>, input: InputState) -> i32 {
    // Validate all input state before reading anything.
    let mut cursors = Vec::new();
    for sel in &selected {
        let state = input.streams.get(sel.def.name);
        let cursor = if sel.def.incremental() {
            match Cursor::from_state(sel.def, state) {
                Ok(c) => c,
                Err(e) => {
                    protocol::trace_error(
                        FailureType::ConfigError,
                        &format!("Invalid state: {e}"),
                        None,
                        None,
                    );
                    return 1;
                }
            }
        } else {
            Cursor::Single(None)
        };
        cursors.push(cursor);
        if sel.downgraded {
            protocol::log(
                LogLevel::Info,
                &format!(
                    "stream {} supports only full refresh; reading it in full although incremental was requested",
                    sel.def.name
                ),
            );
        }
    }
    let client = match Client::new(&config) {
        Ok(c) => c,
        Err(e) => {
            protocol::trace_error(FailureType::ConfigError, &e, None, None);
            return 1;
        }
    };
    let ctx = Arc::new(Ctx {
        client: Arc::new(client),
        config,
        now: Utc::now(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (sel, cursor) in selected.into_iter().zip(cursors) {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            protocol::stream_status(sel.def.name, StreamStatus::Started);
            let mut run = Run::new(&ctx, sel.def, sel.mode, cursor);
            let outcome = run.go().await;
            run.summary.seconds = started.elapsed().as_secs_f64();
            (sel.def, outcome, run.summary)
        });
    }
    let mut failures: Vec<(&'static str, ApiError)> = Vec::new();
    let mut interrupted = false;
    while let Some(joined) = tasks.join_next().await {
        let Ok((def, outcome, summary)) = joined else {
            protocol::trace_error(
                FailureType::SystemError,
                "a stream task panicked",
                None,
                None,
            );
            failures.push(("unknown", ApiError::Interrupted));
            continue;
        };
        let name = def.name;
        match outcome {
            Outcome::Complete => {
                protocol::stream_status(name, StreamStatus::Complete);
            }
            Outcome::Skipped(why) => {
                protocol::log(LogLevel::Warn, &format!("stream {name} skipped: {why}"));
                protocol::stream_status(name, StreamStatus::Incomplete);
            }
            Outcome::Failed(ApiError::Interrupted) => {
                interrupted = true;
                protocol::stream_status(name, StreamStatus::Incomplete);
            }
            Outcome::Failed(e) => {
                protocol::stream_status(name, StreamStatus::Incomplete);
                let message = format!("Stream {name} failed: {e}");
                protocol::trace_error(
                    e.failure_type(),
                    &message,
                    Some(&format!("{e:?}")),
                    Some(name),
                );
                failures.push((name, e));
            }
        }
        protocol::log(
            LogLevel::Info,
            &format!(
                "summary stream={name} records={} pages={} seconds={:.2} state={}",
                summary.records,
                summary.pages,
                summary.seconds,
                summary
                    .state
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
        );
    }
    let stats = &ctx.client.stats;
    protocol::log(
        LogLevel::Info,
        &format!(
            "http requests={} retries={} throttled={}",
            stats.requests.load(std::sync::atomic::Ordering::Relaxed),
            stats.retries.load(std::sync::atomic::Ordering::Relaxed),
            stats.throttled.load(std::sync::atomic::Ordering::Relaxed)
        ),
    );
    if let Some((_, first)) = failures.first() {
        let names: Vec<_> = failures.iter().map(|(n, _)| *n).collect();
        protocol::trace_error(
            first.failure_type(),
            &format!(
                "During the sync, the following streams did not sync successfully: {}",
                names.join(", ")
            ),
            None,
            None,
        );
        protocol::out().flush();
        return 1;
    }
    protocol::out().flush();
    if interrupted { 143 } else { 0 }
}

/// A record's cursor value.
enum CursorVal {
    At(DateTime<Utc>),
    Missing,
    Unparseable,
}

/// One time window of a filtered query: the params to send (None = omit).
#[derive(Debug, Clone, Copy)]
struct Window {
    min: Option<DateTime<Utc>>,
    max: Option<DateTime<Utc>>,
}

/// Lazily planned windows: each next window starts where the last ended; its size
/// doubles after a window of at most one page and halves after a window of many,
/// so empty years cost a few requests and busy days still checkpoint often.
struct Windows {
    pending: std::collections::VecDeque<Window>,
    next_min: Option<DateTime<Utc>>,
    pos: DateTime<Utc>,
    size: chrono::Duration,
    now: DateTime<Utc>,
    sliced: bool,
    done: bool,
}

impl Windows {
    fn single(min: Option<DateTime<Utc>>) -> Windows {
        Windows {
            pending: std::collections::VecDeque::new(),
            next_min: min,
            pos: DateTime::<Utc>::MIN_UTC,
            size: chrono::Duration::zero(),
            now: DateTime::<Utc>::MIN_UTC,
            sliced: false,
            done: false,
        }
    }

    fn next(&mut self) -> Option<Window> {
        if let Some(w) = self.pending.pop_front() {
            return Some(w);
        }
        if self.done {
            return None;
        }
        // Less than two slices left: one open-ended window is cheaper than two.
        if !self.sliced || self.pos + self.size * 2 >= self.now {
            self.done = true;
            return Some(Window {
                min: self.next_min,
                max: None,
            });
        }
        let end = floor_secs(self.pos + self.size);
        let w = Window {
            min: self.next_min,
            max: Some(end),
        };
        self.next_min = Some(end);
        self.pos = end;
        Some(w)
    }

    fn is_done(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    fn split(&mut self, halves: [Window; 2]) {
        for h in halves.into_iter().rev() {
            self.pending.push_front(h);
        }
    }

    fn feedback(&mut self, pages: u64) {
        if pages <= 1 {
            self.size = (self.size * 2).min(chrono::Duration::days(366));
        } else if pages > 20 {
            self.size = (self.size / 2).max(chrono::Duration::hours(1));
        }
    }
}

/// One request target of a stream: parent ids to send and to add to records.
#[derive(Debug, Clone, Default)]
struct Partition {
    store_id: Option<String>,
    order_id: Option<String>,
}

struct Run<'a> {
    ctx: &'a Ctx,
    def: &'static StreamDef,
    mode: SyncMode,
    cursor: Cursor,
    since_state: u64,
    running: bool,
    no_cursor: u64,
    future_cursor: u64,
    capped_warned: bool,
    summary: Summary,
    /// Where this stream's records hold `format: date-time` values, as the tree
    /// the page pass walks.
    time_fields: Arc<TimeFields>,
}

impl<'a> Run<'a> {
    fn new(ctx: &'a Ctx, def: &'static StreamDef, mode: SyncMode, cursor: Cursor) -> Self {
        Run {
            ctx,
            def,
            mode,
            cursor,
            since_state: 0,
            running: false,
            no_cursor: 0,
            future_cursor: 0,
            capped_warned: false,
            summary: Summary::default(),
            time_fields: Arc::new(TimeFields::new(&record::date_time_paths(
                &def.json_schema(),
            ))),
        }
    }

    fn incremental(&self) -> bool {
        self.mode == SyncMode::Incremental && self.def.incremental()
    }

    fn request(&self, p: &Partition) -> Request {
        let query = p
            .order_id
            .iter()
            .map(|order| ("order_id".to_string(), order.clone()))
            .collect();
        Request {
            product: self.def.product,
            path: self.def.path,
            query,
            store_id: p.store_id.clone(),
        }
    }

    async fn go(&mut self) -> Outcome {
        let result = match self.def.source {
            Source::List => {
                self.read_partition(&Partition::default(), self.threshold(None))
                    .await
            }
            Source::PerStore => self.read_per_store().await,
            Source::PerOrder => self.read_per_order().await,
            Source::LocationSearch => self.read_locations().await,
        };
        self.finish_warnings();
        match result {
            Ok(()) => {
                self.checkpoint();
                Outcome::Complete
            }
            Err(ApiError::Forbidden { product, message }) if self.summary.records == 0 => {
                Outcome::Skipped(format!(
                    "the API key has no permission for the AfterShip {} API (403: {message})",
                    product.name()
                ))
            }
            Err(e) => Outcome::Failed(e),
        }
    }

    fn finish_warnings(&self) {
        if self.no_cursor > 0 {
            protocol::log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a missing or unparseable `{}`; they were emitted but did not move the cursor",
                    self.def.name,
                    self.no_cursor,
                    self.def.cursor.unwrap_or("cursor")
                ),
            );
        }
        if self.future_cursor > 0 {
            protocol::log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a `{}` more than a day in the future; they were emitted but did not move the cursor",
                    self.def.name,
                    self.future_cursor,
                    self.def.cursor.unwrap_or("cursor")
                ),
            );
        }
    }

    /// Emit a STATE for this stream with the records counted since the last one.
    fn checkpoint(&mut self) {
        let state = self.cursor.to_state(self.def);
        protocol::stream_state(self.def.name, &state, self.since_state);
        self.since_state = 0;
        self.summary.state = Some(state);
    }

    /// The lowest cursor value to emit for a partition: the start date, or the
    /// saved cursor in incremental mode (records exactly at it are re-emitted).
    fn threshold(&self, store: Option<&str>) -> Option<DateTime<Utc>> {
        self.def.cursor?;
        let start = self.ctx.config.start_date;
        if !self.incremental() {
            return Some(start);
        }
        let saved = match (&self.cursor, store) {
            (Cursor::Single(c), _) => *c,
            (Cursor::PerStore(map), Some(s)) => map.get(s).copied(),
            (Cursor::PerStore(_), None) => None,
        };
        Some(saved.map_or(start, |c| c.max(start)))
    }

    fn advance_cursor(&mut self, store: Option<&str>, to: DateTime<Utc>) {
        match (&mut self.cursor, store) {
            (Cursor::Single(c), _) => {
                if c.is_none_or(|old| to > old) {
                    *c = Some(to);
                }
            }
            (Cursor::PerStore(map), Some(s)) => {
                let e = map.entry(s.to_string()).or_insert(to);
                if to > *e {
                    *e = to;
                }
            }
            (Cursor::PerStore(_), None) => {}
        }
    }

    /// Read one partition: its windows in ascending order, each walked to the end.
    /// `threshold` is fixed by the caller for the whole partition (for fulfillments,
    /// once per store, before any of its orders moves the store's cursor).
    async fn read_partition(
        &mut self,
        p: &Partition,
        threshold: Option<DateTime<Utc>>,
    ) -> Result<(), ApiError> {
        let mut windows = self.plan_windows(threshold);
        let mut max_seen: Option<DateTime<Utc>> = None;
        while let Some(w) = windows.next() {
            let mut req = self.request(p);
            let (min_param, max_param) = match self.def.filter {
                Filter::UpdatedAt => ("updated_at_min", "updated_at_max"),
                Filter::CreatedAt => ("created_at_min", "created_at_max"),
                Filter::None => ("", ""),
            };
            if let Some(m) = w.min {
                req.query.push((min_param.into(), format_filter(m)));
            }
            if let Some(m) = w.max {
                req.query.push((max_param.into(), format_filter(m)));
            }
            let before = self.cursor.clone();
            let mut pager = Pager::new(&self.ctx.client, self.def, req, self.ctx.config.page_size)
                .with_times(&self.time_fields);
            let mut window_seen: Option<DateTime<Utc>> = None;
            let mut first = true;
            while let Some(page) = pager.next().await? {
                if first {
                    first = false;
                    if let Some(halves) = self.split_if_capped(&w, &pager) {
                        // Too many records for one query: read the halves instead.
                        windows.split(halves);
                        self.summary.pages += 1;
                        window_seen = None;
                        break;
                    }
                    // This window is read to its end: fetch each next page while
                    // the current one is written.
                    pager.read_ahead();
                }
                self.take_page(page.items(), threshold, &mut window_seen, p);
                if protocol::out().is_broken() {
                    return Err(ApiError::Interrupted);
                }
            }
            if pager.capped && !self.capped_warned {
                self.capped_warned = true;
                protocol::log(
                    LogLevel::Warn,
                    &format!(
                        "stream {}{}: AfterShip serves at most {} pages of {} records to one query; {} records were read{}. Older records beyond that cap cannot be reached through this API.",
                        self.def.name,
                        p.store_id
                            .as_deref()
                            .map(|s| format!(", store {s}"))
                            .unwrap_or_default(),
                        max_page(self.def.pagination),
                        pager.limit(),
                        pager.records,
                        pager
                            .total
                            .map(|t| format!(" of {t} that exist"))
                            .unwrap_or_default()
                    ),
                );
            }
            windows.feedback(pager.pages);
            if let Some(seen) = window_seen {
                max_seen = Some(max_seen.map_or(seen, |m| m.max(seen)));
            }
            // Every record of this window is emitted: the cursor may move to the
            // newest value seen, but never past the end of the window.
            if self.def.filter != Filter::None && self.incremental() {
                if let Some(seen) = max_seen {
                    let to = w.max.map_or(seen, |end| seen.min(end));
                    self.advance_cursor(p.store_id.as_deref(), to);
                }
                if !windows.is_done() && (self.since_state > 0 || self.cursor != before) {
                    self.checkpoint();
                }
            }
        }
        if self.def.cursor.is_some() {
            if let Some(seen) = max_seen {
                self.advance_cursor(p.store_id.as_deref(), seen);
            }
        }
        Ok(())
    }

    /// Emit one page's records that pass `threshold`, tracking the newest cursor.
    fn take_page<'r>(
        &mut self,
        records: impl Iterator<Item = Item<'r>>,
        threshold: Option<DateTime<Utc>>,
        seen: &mut Option<DateTime<Utc>>,
        p: &Partition,
    ) {
        let kept = self.filter_and_track(records, threshold, seen);
        self.emit(&kept, p);
        self.summary.pages += 1;
    }

    /// Keep records at or after `threshold` (records without a usable cursor are
    /// kept and counted); track the newest plausible cursor value. Each kept
    /// record comes with whether it holds a non-UTC date-time.
    fn filter_and_track<'r>(
        &mut self,
        records: impl Iterator<Item = Item<'r>>,
        threshold: Option<DateTime<Utc>>,
        seen: &mut Option<DateTime<Utc>>,
    ) -> Vec<Item<'r>> {
        let horizon = self.ctx.now + chrono::Duration::days(1);
        let mut kept = Vec::new();
        for item in records {
            if self.def.cursor.is_some() {
                match cursor_val(&item.cursor) {
                    CursorVal::At(t) => {
                        if threshold.is_some_and(|th| t < th) {
                            continue;
                        }
                        if t > horizon {
                            self.future_cursor += 1;
                        } else if seen.is_none_or(|s| t > s) {
                            *seen = Some(t);
                        }
                    }
                    CursorVal::Missing | CursorVal::Unparseable => self.no_cursor += 1,
                }
            }
            kept.push(item);
        }
        kept
    }

    fn emit(&mut self, records: &[Item<'_>], p: &Partition) {
        if records.is_empty() {
            return;
        }
        if !self.running {
            self.running = true;
            protocol::stream_status(self.def.name, StreamStatus::Running);
        }
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = &p.store_id {
            extra.push(("store_id", s));
        }
        if let Some(o) = &p.order_id {
            extra.push(("order_id", o));
        }
        let data: Vec<_> = records
            .iter()
            .map(|r| record::shape(r.text, &extra, r.times, r.multiline))
            .collect();
        protocol::out().records(self.def.name, &data);
        self.since_state += records.len() as u64;
        self.summary.records += records.len() as u64;
    }

    /// The windows of one partition, ascending. Only incremental reads of streams
    /// with a server-side time filter are sliced; the last window is open-ended so
    /// that a server clock ahead of ours loses nothing.
    fn plan_windows(&self, threshold: Option<DateTime<Utc>>) -> Windows {
        let now = self.ctx.now;
        let retention_edge = self
            .def
            .retention_days
            .map(|d| now - chrono::Duration::days(d));
        let lower: Option<DateTime<Utc>> = match self.def.filter {
            Filter::None => return Windows::single(None),
            Filter::UpdatedAt => threshold,
            Filter::CreatedAt => match (self.def.cursor, self.incremental()) {
                // Shipping: created_at_min = cursor − lookback on incremental reads.
                (Some(_), true) => {
                    let saved = match &self.cursor {
                        Cursor::Single(c) => *c,
                        Cursor::PerStore(_) => None,
                    };
                    Some(match saved {
                        Some(c) => {
                            (c - self.ctx.config.shipping_lookback).max(self.ctx.config.start_date)
                        }
                        None => self.ctx.config.start_date,
                    })
                }
                _ => Some(self.ctx.config.start_date),
            },
        };
        // Older than what the API keeps: let the API's own default lower bound apply.
        let lower = match (lower, retention_edge) {
            (Some(l), Some(edge)) if l <= edge => None,
            (l, _) => l,
        };
        if !self.incremental() {
            return Windows::single(lower);
        }
        let pos = lower
            .or(retention_edge)
            .unwrap_or(self.ctx.config.start_date);
        Windows {
            pending: std::collections::VecDeque::new(),
            next_min: lower,
            pos,
            size: self.ctx.config.slice,
            now,
            sliced: true,
            done: false,
        }
    }

    /// Page-capped APIs with a created_at filter (Returns): when the first page
    /// reports more records than one query can reach, split the window in two.
    fn split_if_capped(&self, w: &Window, pager: &Pager) -> Option<[Window; 2]> {
        let cap = max_page(self.def.pagination) as u64 * pager.limit() as u64;
        let total = pager.total?;
        if self.def.filter != Filter::CreatedAt || cap == 0 || total <= cap {
            return None;
        }
        let lo = w
            .min
            .or(self
                .def
                .retention_days
                .map(|d| self.ctx.now - chrono::Duration::days(d)))
            .unwrap_or(self.ctx.config.start_date);
        let hi = w.max.unwrap_or(self.ctx.now);
        let mid = floor_secs(lo + (hi - lo) / 2);
        if mid <= lo || mid >= hi {
            return None;
        }
        Some([
            Window {
                min: w.min,
                max: Some(mid),
            },
            Window {
                min: Some(mid),
                max: w.max,
            },
        ])
    }

    /// Walk every page of a parent list (stores, a store's orders, shipper
    /// accounts), handing each record to `each`.
    async fn parent_records(
        &self,
        parent: &str,
        store_id: Option<String>,
        mut each: impl FnMut(Item<'_>),
    ) -> Result<(), ApiError> {
        let def = crate::streams::find(parent).ok_or_else(|| ApiError::Broken {
            product: self.def.product,
            message: format!("internal: no parent stream `{parent}`"),
        })?;
        let req = Request {
            product: def.product,
            path: def.path,
            query: Vec::new(),
            store_id,
        };
        let mut pager = Pager::new(&self.ctx.client, def, req, None);
        while let Some(page) = pager.next().await? {
            page.items().for_each(&mut each);
        }
        Ok(())
    }

    /// Commerce stores, each a partition with its `as-store-id`.
    async fn stores(&self) -> Result<Vec<String>, ApiError> {
        let mut ids: Vec<String> = Vec::new();
        self.parent_records("stores", None, |r| {
            if let Some(id) = string_field(r.text, "id") {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        })
        .await?;
        Ok(ids)
    }

    async fn read_per_store(&mut self) -> Result<(), ApiError> {
        for store in self.stores().await? {
            let threshold = self.threshold(Some(&store));
            let p = Partition {
                store_id: Some(store),
                ..Partition::default()
            };
            self.read_partition(&p, threshold).await?;
            if self.def.cursor.is_some() {
                self.checkpoint();
            }
        }
        Ok(())
    }

    /// Fulfillments: per store, the orders changed since the store's fulfillments
    /// cursor (every order on a full read or with `fulfillments_scan_all_orders`),
    /// then each order's fulfillments.
    async fn read_per_order(&mut self) -> Result<(), ApiError> {
        let scan_all = !self.incremental() || self.ctx.config.fulfillments_scan_all_orders;
        for store in self.stores().await? {
            let threshold = self.threshold(Some(&store));
            let mut order_ids = Vec::new();
            // The orders page already read each order's cursor (`updated_at`).
            self.parent_records("orders", Some(store.clone()), |r| {
                let changed = match cursor_val(&r.cursor) {
                    CursorVal::At(t) => threshold.is_none_or(|th| t >= th),
                    _ => true,
                };
                if scan_all || changed {
                    if let Some(id) = string_field(r.text, "id") {
                        order_ids.push(id);
                    }
                }
            })
            .await?;
            // One request per order: fetch a few orders' fulfillments at a time (the
            // Commerce rate limiter still paces them), then emit them in order.
            let width = self.ctx.config.max_concurrent_requests.clamp(1, 4);
            for chunk in order_ids.chunks(width) {
                let (ctx, def, times) = (self.ctx, self.def, &self.time_fields);
                let targets: Vec<(Partition, Request)> = chunk
                    .iter()
                    .map(|order| {
                        let p = Partition {
                            store_id: Some(store.clone()),
                            order_id: Some(order.clone()),
                        };
                        let req = self.request(&p);
                        (p, req)
                    })
                    .collect();
                let fetches = targets.into_iter().map(|(p, req)| async move {
                    let mut pager =
                        Pager::new(&ctx.client, def, req, ctx.config.page_size).with_times(times);
                    let mut pages = Vec::new();
                    while let Some(page) = pager.next().await? {
                        pages.push(page);
                    }
                    Ok::<_, ApiError>((p, pages))
                });
                for fetched in futures_util::future::join_all(fetches).await {
                    let (p, pages) = fetched?;
                    let mut seen = None;
                    for page in &pages {
                        self.take_page(page.items(), threshold, &mut seen, &p);
                    }
                    if let Some(t) = seen {
                        self.advance_cursor(Some(&store), t);
                    }
                }
                if protocol::out().is_broken() {
                    return Err(ApiError::Interrupted);
                }
            }
            self.checkpoint();
        }
        Ok(())
    }

    /// Carrier location searches: the configured ones, else one per distinct
    /// carrier and address of the shipper accounts.
    async fn read_locations(&mut self) -> Result<(), ApiError> {
        let configured = !self.ctx.config.locations_searches.is_empty();
        let searches = if configured {
            self.ctx.config.locations_searches.clone()
        } else {
            self.derived_searches().await?
        };
        if searches.is_empty() {
            protocol::log(
                LogLevel::Info,
                "stream locations: no location searches are configured (`locations_searches`) and no shipper account has a carrier and address to derive one from; nothing to read",
            );
            return Ok(());
        }
        let mut seen_ids = HashSet::new();
        for search in searches {
            let req = Request {
                product: self.def.product,
                path: self.def.path,
                query: search.params.clone(),
                store_id: None,
            };
            let mut pager =
                Pager::new(&self.ctx.client, self.def, req, None).with_times(&self.time_fields);
            loop {
                let page = match pager.next().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(ApiError::Refused { message, .. }) if !configured => {
                        protocol::log(
                            LogLevel::Warn,
                            &format!(
                                "stream locations: the search {} (derived from a shipper account) was refused: {message}; skipped",
                                describe_search(&search)
                            ),
                        );
                        break;
                    }
                    Err(ApiError::Refused {
                        status, message, ..
                    }) => {
                        return Err(ApiError::Refused {
                            product: self.def.product,
                            status,
                            code: None,
                            message: format!(
                                "the configured location search {} was refused: {message}; check `locations_searches`",
                                describe_search(&search)
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                };
                let fresh = page.items().filter(|r| {
                    string_field(r.text, "location_id").is_none_or(|id| seen_ids.insert(id))
                });
                self.take_page(fresh, None, &mut None, &Partition::default());
            }
        }
        Ok(())
    }

    async fn derived_searches(&self) -> Result<Vec<LocationSearch>, ApiError> {
        let mut out: Vec<LocationSearch> = Vec::new();
        self.parent_records("shipper_accounts", None, |r| {
            let search = serde_json::from_str::<Value>(r.text)
                .ok()
                .and_then(|v| search_from_account(&v));
            if let Some(s) = search {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        })
        .await?;
        Ok(out)
    }
}

fn describe_search(s: &LocationSearch) -> String {
    s.params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// slug + the address fields of a shipper account, as a location search.
fn search_from_account(v: &Value) -> Option<LocationSearch> {
    let slug = v
        .get("slug")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let addr = v.get("address")?;
    let mut params = vec![("slug".to_string(), slug.to_string())];
    for (param, fields) in [
        ("country", &["country"][..]),
        ("postal_code", &["postal_code"][..]),
        ("city", &["city"][..]),
        ("state", &["state"][..]),
        ("street", &["street1", "street_1", "street"][..]),
    ] {
        if let Some(val) = fields.iter().find_map(|f| {
            addr.get(*f)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        }) {
            params.push((param.to_string(), val.to_string()));
        }
    }
    (params.len() > 1).then_some(LocationSearch { params })
}

fn max_page(p: Pagination) -> u32 {
    match p {
        Pagination::PageHasNext { max_page, .. } | Pagination::PageTotal { max_page, .. } => {
            max_page
        }
        _ => 0,
    }
}

fn floor_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn string_field(text: &str, field: &str) -> Option<String> {
    match scan::top_level_field(text, field) {
        Field::Str(s) => Some(s.into_owned()),
        _ => None,
    }
}

fn cursor_val(f: &Field<'_>) -> CursorVal {
    match f {
        Field::Str(s) => parse_instant(s).map_or(CursorVal::Unparseable, CursorVal::At),
        Field::Missing | Field::Null => CursorVal::Missing,
        Field::Other => CursorVal::Unparseable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_instant;

    fn cursor_of(text: &str, field: &str) -> CursorVal {
        cursor_val(&scan::top_level_field(text, field))
    }

    #[test]
    fn reads_top_level_cursor_only() {
        let r = r#"{"a":{"updated_at":"2020-01-01T00:00:00Z"},"updated_at":"2025-01-01T08:00:00+08:00","z":[1]}"#;
        match cursor_of(r, "updated_at") {
            CursorVal::At(t) => assert_eq!(format_instant(t), "2025-01-01T00:00:00Z"),
            _ => panic!("no cursor"),
        }
        assert!(matches!(
            cursor_of(r#"{"id":1}"#, "updated_at"),
            CursorVal::Missing
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":null}"#, "updated_at"),
            CursorVal::Missing
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":"soon"}"#, "updated_at"),
            CursorVal::Unparseable
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":5}"#, "updated_at"),
            CursorVal::Unparseable
        ));
        assert_eq!(
            string_field(r#"{"id":"a\"b"}"#, "id").as_deref(),
            Some("a\"b")
        );
    }

    #[test]
    fn location_search_from_shipper_account() {
        let v = serde_json::json!({"slug":"fedex","address":{"country":"USA","postal_code":"10001","street1":"1 Main St","city":null}});
        let s = search_from_account(&v).unwrap();
        assert_eq!(
            s.params,
            vec![
                ("slug".to_string(), "fedex".to_string()),
                ("country".to_string(), "USA".to_string()),
                ("postal_code".to_string(), "10001".to_string()),
                ("street".to_string(), "1 Main St".to_string())
            ]
        );
        assert!(search_from_account(&serde_json::json!({"slug":"fedex"})).is_none());
    }
}
