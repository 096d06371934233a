//! One stream's read: its partitions, each walked window by window and page by
//! page; records out through the protocol writer; STATE only for what was emitted.

use super::cursor::{self, ceiling};
use super::estimate::Estimate;
use super::windows::{self, Inputs};
use super::{Ctx, Outcome, Summary};
use crate::catalog::SyncMode;
use crate::http::{ApiError, Request};
use crate::json::envelope::TimeFields;
use crate::json::scan::{self, Field};
use crate::json::shape::{self, Rewrites};
use crate::paginate::{End, Item, Pager};
use crate::protocol::{LogLevel, StreamStatus};
use crate::state::Cursor;
use crate::streams::{Source, StreamDef};
use crate::time::{format_filter, parse_instant};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One request target of a stream: the parent ids to send and to put on records.
#[derive(Debug, Clone, Default)]
pub struct Partition {
    pub store_id: Option<String>,
    pub order_id: Option<String>,
}

impl Partition {
    /// `, store S, order O` for messages (empty for a plain list).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(store) = &self.store_id {
            s.push_str(&format!(", store {store}"));
        }
        if let Some(order) = &self.order_id {
            s.push_str(&format!(", order {order}"));
        }
        s
    }
}

/// A record's cursor value.
pub(super) enum CursorVal {
    At(DateTime<Utc>),
    Missing,
    Unparseable,
}

pub(super) fn cursor_val(f: &Field<'_>) -> CursorVal {
    match f {
        Field::Str(s) => parse_instant(s).map_or(CursorVal::Unparseable, CursorVal::At),
        Field::Missing | Field::Null => CursorVal::Missing,
        Field::Other => CursorVal::Unparseable,
    }
}

pub(super) fn string_field(text: &str, field: &str) -> Option<String> {
    match scan::top_level_field(text, field) {
        Field::Str(s) => Some(s.into_owned()),
        _ => None,
    }
}

pub struct Run<'a> {
    pub ctx: &'a Ctx,
    pub def: &'static StreamDef,
    mode: SyncMode,
    pub cursor: Cursor,
    since_state: u64,
    running: bool,
    no_cursor: u64,
    future_cursor: u64,
    pub summary: Summary,
    /// Where this stream's records hold `format: date-time` values, as the tree
    /// the page pass walks.
    pub time_fields: Arc<TimeFields>,
    /// The row estimate announced to Airbyte's progress display.
    estimate: Estimate,
    /// Top-level fields whose values are withheld (carrier credentials).
    withheld: &'static [&'static str],
}

impl<'a> Run<'a> {
    pub fn new(ctx: &'a Ctx, def: &'static StreamDef, mode: SyncMode, cursor: Cursor) -> Self {
        Run {
            ctx,
            def,
            mode,
            cursor,
            since_state: 0,
            running: false,
            no_cursor: 0,
            future_cursor: 0,
            summary: Summary::default(),
            time_fields: Arc::new(TimeFields::new(&shape::date_time_paths(&def.json_schema()))),
            estimate: Estimate::default(),
            withheld: if ctx.config.include_carrier_credentials {
                &[]
            } else {
                def.withheld
            },
        }
    }

    pub fn incremental(&self) -> bool {
        self.mode == SyncMode::Incremental && self.def.incremental()
    }

    /// The request of a partition (the stream's path, its parent ids).
    pub fn request(&self, p: &Partition) -> Request {
        let mut query = Vec::new();
        if let (Source::PerOrder { param, .. }, Some(order)) = (self.def.source, &p.order_id) {
            query.push((param.to_string(), order.clone()));
        }
        Request {
            product: self.def.product,
            path: self.def.path,
            query,
            store_id: p.store_id.clone(),
        }
    }

    /// A walk of `req` with this stream's page size and date-time fields.
    pub fn pager(&self, req: Request) -> Pager {
        Pager::new(
            &self.ctx.client,
            &self.ctx.sizes,
            self.def,
            req,
            self.ctx.config.page_size,
        )
        .with_times(&self.time_fields)
    }

    pub async fn go(&mut self) -> Outcome {
        let result = match self.def.source {
            Source::List => {
                let started = Utc::now();
                let threshold = self.threshold(None);
                self.read_partition(&Partition::default(), threshold, started)
                    .await
            }
            Source::PerStore { parent } => self.read_per_store(parent).await,
            Source::PerOrder { parent, .. } => self.read_per_order(parent).await,
            Source::LocationSearch { parent } => self.read_locations(parent).await,
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
        let field = self.def.cursor.unwrap_or("cursor");
        if self.no_cursor > 0 {
            self.ctx.out.log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a missing or unparseable `{field}`; they were emitted but did not move the cursor",
                    self.def.name, self.no_cursor
                ),
            );
        }
        if self.future_cursor > 0 {
            self.ctx.out.log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a `{field}` more than a day in the future; they were emitted but did not move the cursor",
                    self.def.name, self.future_cursor
                ),
            );
        }
    }

    /// A listing AfterShip cut short: say so now, and in the stream's status and
    /// the read summary at the end.
    pub fn truncated(&mut self, p: &Partition, what: &str) {
        let line = format!("stream {}{}: {what}", self.def.name, p.describe());
        self.ctx.out.log(
            LogLevel::Warn,
            &format!("{line}. This listing is truncated."),
        );
        self.summary.truncated.push(line);
    }

    /// A walk ended at its page bound or with one full page: say what was missed.
    pub fn report_end(&mut self, p: &Partition, pager: &Pager) {
        match pager.end {
            Some(End::Capped) => {
                let missed = match pager.total {
                    Some(t) => format!(
                        "{} records could not be reached ({} of {t} were read)",
                        t.saturating_sub(pager.records),
                        pager.records
                    ),
                    None => format!(
                        "more records exist, but {} were read and the API gives no total",
                        pager.records
                    ),
                };
                let what = format!(
                    "AfterShip serves at most {} pages of {} to one query; {missed}",
                    self.def.paging.max_page,
                    pager.limit()
                );
                self.truncated(p, &what);
            }
            Some(End::OnePage { full: true }) => {
                let what = format!(
                    "the API takes no paging parameters here and its one page is full ({} records); more may exist",
                    pager.limit()
                );
                self.truncated(p, &what);
            }
            _ => {}
        }
    }

    /// Emit a STATE for this stream with the records counted since the last one.
    pub fn checkpoint(&mut self) {
        let state = self.cursor.to_state(self.def);
        self.ctx
            .out
            .stream_state(self.def.name, &state, self.since_state);
        self.since_state = 0;
        self.summary.state = Some(state);
    }

    /// The lowest cursor value to emit for a partition (None: no cursor).
    pub fn threshold(&self, store: Option<&str>) -> Option<DateTime<Utc>> {
        self.def.cursor?;
        Some(cursor::threshold(
            &self.cursor,
            store,
            self.ctx.config.start_date,
            self.incremental(),
        ))
    }

    /// Move the cursor of `store` towards `to`, never past the moment the
    /// partition's read began (less the margin), never back.
    pub fn advance_cursor(
        &mut self,
        store: Option<&str>,
        to: DateTime<Utc>,
        started: DateTime<Utc>,
    ) {
        cursor::advance(&mut self.cursor, store, to, ceiling(started));
    }

    fn inputs(&self, threshold: Option<DateTime<Utc>>, store: Option<&str>) -> Inputs {
        let c = &self.ctx.config;
        Inputs {
            incremental: self.incremental(),
            threshold: threshold.unwrap_or(c.start_date),
            saved: cursor::saved(&self.cursor, store).filter(|_| self.incremental()),
            start_date: c.start_date,
            lookback: c.shipping_lookback,
            slice: c.slice,
            now: self.ctx.now,
        }
    }

    /// Read one partition: its windows in ascending order, each walked to the end.
    /// `threshold` is fixed by the caller for the whole partition; `started` is
    /// when its first request went out.
    pub async fn read_partition(
        &mut self,
        p: &Partition,
        threshold: Option<DateTime<Utc>>,
        started: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let store = p.store_id.as_deref();
        let inputs = self.inputs(threshold, store);
        let mut windows = windows::plan(self.def, &inputs);
        let mut max_seen: Option<DateTime<Utc>> = None;
        while let Some(w) = windows.next_window() {
            let mut req = self.request(p);
            if let Some((min, max)) = self.def.filter.params() {
                if let Some(m) = w.min {
                    req.query.push((min.into(), format_filter(m)));
                }
                if let Some(m) = w.max {
                    req.query.push((max.into(), format_filter(m)));
                }
            }
            let before = self.cursor.clone();
            let mut pager = self.pager(req);
            let mut window_seen: Option<DateTime<Utc>> = None;
            let mut first = true;
            while let Some(page) = pager.next().await? {
                if std::mem::take(&mut first) {
                    let cap = u64::from(self.def.paging.max_page) * u64::from(pager.limit());
                    let halves = pager.total.and_then(|total| {
                        windows::split_if_capped(self.def, &w, total, cap, &inputs)
                    });
                    if let Some(halves) = halves {
                        // Too many records for one query: read the halves instead.
                        windows.split(halves);
                        self.summary.pages += 1;
                        window_seen = None;
                        break;
                    }
                    if let Some(total) = pager.total {
                        self.note_total(&format!("{}{w:?}", p.describe()), total);
                    }
                    // This window is read to its end: fetch each next page while
                    // the current one is written.
                    pager.read_ahead();
                }
                self.take_page(page.items(), threshold, &mut window_seen, p)?;
            }
            self.report_end(p, &pager);
            windows.feedback(pager.pages);
            if let Some(seen) = window_seen {
                max_seen = Some(max_seen.map_or(seen, |m| m.max(seen)));
            }
            // Every record of this window is emitted: the cursor may move to the
            // newest value seen, but never past the end of the window.
            if self.def.filter.params().is_some() && self.incremental() {
                if let Some(seen) = max_seen {
                    let to = w.max.map_or(seen, |end| seen.min(end));
                    self.advance_cursor(store, to, started);
                }
                if !windows.is_done() && (self.since_state > 0 || self.cursor != before) {
                    self.checkpoint();
                }
            }
        }
        if self.def.cursor.is_some() {
            if let Some(seen) = max_seen {
                self.advance_cursor(store, seen, started);
            }
        }
        Ok(())
    }

    /// A query of this stream matches `total` records: tell Airbyte's progress
    /// display when the stream's estimate is new or moved much. Only where the
    /// records emitted follow the total: full refresh, or a server-side filter.
    fn note_total(&mut self, query: &str, total: u64) {
        if self.incremental() && self.def.filter.params().is_none() {
            // Filtered here, not by the API: the total counts records this read skips.
            return;
        }
        if let Some(rows) = self.estimate.observe(query, total) {
            self.ctx.out.estimate(self.def.name, rows);
        }
    }

    /// Emit one page's records that pass `threshold`, tracking the newest cursor.
    pub fn take_page<'r>(
        &mut self,
        records: impl Iterator<Item = Item<'r>>,
        threshold: Option<DateTime<Utc>>,
        seen: &mut Option<DateTime<Utc>>,
        p: &Partition,
    ) -> Result<(), ApiError> {
        let kept = self.filter_and_track(records, threshold, seen);
        self.emit(&kept, p)?;
        self.summary.pages += 1;
        if self.ctx.out.is_broken() {
            return Err(ApiError::Interrupted);
        }
        Ok(())
    }

    /// Keep records at or after `threshold` (records without a usable cursor are
    /// kept and counted); track the newest plausible cursor value.
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

    fn emit(&mut self, records: &[Item<'_>], p: &Partition) -> Result<(), ApiError> {
        if records.is_empty() {
            return Ok(());
        }
        if !self.running {
            self.running = true;
            self.ctx
                .out
                .stream_status(self.def.name, StreamStatus::Running);
        }
        let mut parents: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = &p.store_id {
            parents.push(("store_id", s));
        }
        if let Some(o) = &p.order_id {
            parents.push(("order_id", o));
        }
        let rw = Rewrites {
            parents: &parents,
            withheld: self.withheld,
        };
        let mut data = Vec::with_capacity(records.len());
        for r in records {
            let shaped = shape::shape(r.text, r.times, r.multiline, &rw).map_err(|why| {
                ApiError::Broken {
                    product: self.def.product,
                    message: format!(
                        "stream {}{}: {why}, so it cannot carry its parent ids (part of its primary key)",
                        self.def.name,
                        p.describe()
                    ),
                }
            })?;
            data.push(shaped);
        }
        self.ctx.out.records(self.def.name, &data);
        self.since_state += records.len() as u64;
        self.summary.records += records.len() as u64;
        Ok(())
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
    fn partitions_describe_themselves() {
        let p = Partition {
            store_id: Some("s1".into()),
            order_id: Some("o2".into()),
        };
        assert_eq!(p.describe(), ", store s1, order o2");
        assert_eq!(Partition::default().describe(), "");
    }
}
