//! One stream's read: its partitions, each walked window by window and page by
//! page; records out through the protocol writer; STATE only for what was emitted.

use super::cursor::{self, ceiling};
use super::estimate::Estimate;
use super::partition::Partition;
use super::windows::{self, Inputs};
use super::{Ctx, Outcome, Summary};
use crate::catalog::SyncMode;
use crate::http::{ApiError, Request};
use crate::json::envelope::TimeFields;
use crate::json::shape;
use crate::paginate::Pager;
use crate::state::Cursor;
use crate::streams::{Source, StreamDef};
use crate::time::format_filter;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct Run<'a> {
    pub ctx: &'a Ctx,
    pub def: &'static StreamDef,
    mode: SyncMode,
    pub cursor: Cursor,
    pub(super) since_state: u64,
    pub(super) running: bool,
    pub(super) no_cursor: u64,
    pub(super) future_cursor: u64,
    pub summary: Summary,
    /// Where this stream's records hold `format: date-time` values, as the tree
    /// the page pass walks.
    pub time_fields: Arc<TimeFields>,
    /// The row estimate announced to Airbyte's progress display.
    estimate: Estimate,
    /// Top-level fields whose values are withheld (carrier credentials).
    pub(super) withheld: &'static [&'static str],
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

    /// The request of a partition (the stream's path, its parent values).
    pub fn request(&self, p: &Partition) -> Request {
        p.request(self.def)
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
        let def: &'static StreamDef = self.def;
        let result = match &def.source {
            Source::List => {
                let started = Utc::now();
                let threshold = self.threshold(None);
                self.read_partition(&Partition::default(), threshold, started)
                    .await
            }
            Source::Child(link) => self.read_child(link).await,
            Source::Search(search) => self.read_search(search).await,
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

    /// Read one partition: its windows in ascending order, each walked to the end.
    /// `threshold` is fixed by the caller for the whole partition; `started` is
    /// when its first request went out.
    pub async fn read_partition(
        &mut self,
        p: &Partition,
        threshold: Option<DateTime<Utc>>,
        started: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let store = p.outer();
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
}
