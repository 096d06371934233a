//! One stream's read: the state it carries between its parts (cursor, counters,
//! summary) and how its outcome is made from the outcomes of its partitions.

use super::cursor::{self, Group};
use super::estimate::Estimate;
use super::feed::Closed;
use super::windows::Inputs;
use super::{Ctx, Outcome, Summary};
use crate::catalog::SyncMode;
use crate::http::ApiError;
use crate::json::envelope::TimeFields;
use crate::json::shape;
use crate::state::Cursor;
use crate::streams::{Source, StreamDef};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
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
    /// The keys of records emitted, where partitions overlap (searches): each
    /// record once per sync.
    pub(super) once: Option<HashSet<String>>,
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
            once: matches!(def.source, Source::Search(_)).then(HashSet::new),
        }
    }

    pub fn incremental(&self) -> bool {
        self.mode == SyncMode::Incremental && self.def.incremental()
    }

    /// A full refresh that saves how far it got, so that a retried attempt goes
    /// on from there (`state::Resume`).
    pub fn resuming(&self) -> bool {
        matches!(self.cursor, Cursor::Resume(_))
    }

    pub async fn go(&mut self) -> Outcome {
        let result = self.read_groups().await;
        self.finish_warnings();
        match result {
            Ok(()) => {
                // A full refresh read to its end: the next read starts afresh.
                cursor::complete(&mut self.cursor);
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

    /// A query of a group ended with every record emitted: the cursor may move
    /// to the newest value seen, but never past the end of a filtered window;
    /// STATE follows, unless this was the group's last window.
    pub(super) fn close_window(&mut self, g: &mut Group, c: &Closed) {
        let to = g.close_window(c.window_max);
        if self.def.cursor.is_none() || !c.filtered || !self.incremental() {
            return;
        }
        let before = self.cursor.clone();
        if let Some(to) = to {
            g.settle(&mut self.cursor, to);
        }
        if !c.last && (self.since_state > 0 || self.cursor != before) {
            self.checkpoint();
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

    pub(super) fn inputs(&self, threshold: Option<DateTime<Utc>>, store: Option<&str>) -> Inputs {
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
    pub(super) fn note_total(&mut self, query: &str, total: u64) {
        if self.incremental() && self.def.filter.params().is_none() {
            // Filtered here, not by the API: the total counts records this read skips.
            return;
        }
        if let Some(rows) = self.estimate.observe(query, total) {
            self.ctx.out.estimate(self.def.name, rows);
        }
    }
}
