//! One failure boundary per partition. A stream's cursor groups (its stores, or
//! the whole stream) are read one after another, and each group's partitions
//! (the group itself, its orders, its searches) one after another; each ends
//! complete, skipped, gone or failed, and the stream's outcome is made from all.

use super::cursor::{self, Group};
use super::feed::{Feed, Plan};
use super::listing::Reach;
use super::partition::Partition;
use super::router::row;
use super::run::Run;
use super::walk::Sink;
use crate::http::ApiError;
use crate::paginate::Pager;
use crate::protocol::LogLevel;
use crate::state::Reached;
use crate::streams::Source;
use chrono::Utc;
use std::time::{Duration, Instant};

/// A walk of many parents (fulfillments per order) saves how far it got after
/// this many parents, or this long, whichever comes first.
pub const MARK_EVERY: usize = 100;
pub const MARK_AFTER: Duration = Duration::from_secs(60);

/// How a partition that did not complete ended.
enum Ended {
    /// 403: the key may not read this partition (one store's feature).
    Forbidden(ApiError),
    /// Its parent no longer exists (deleted during the sync): at `level` of its
    /// parents (0 = the outermost).
    Gone {
        level: usize,
        error: ApiError,
    },
    /// A derived search the API refused: skipped.
    Refused(String),
    Failed(ApiError),
}

/// Errors after which nothing more of any partition can be read.
fn fatal(e: &ApiError) -> bool {
    matches!(e, ApiError::Interrupted | ApiError::Unauthorized { .. })
}

impl<'a> Run<'a> {
    /// What `e`, met reading partition `p`, means for it.
    fn ended(&self, p: &Partition, e: ApiError) -> Ended {
        if let ApiError::Refused { status, code, .. } = &e {
            let gone = p.parents.iter().position(|(link, _)| {
                row(link.parent)
                    .ok()
                    .and_then(|r| r.gone)
                    .is_some_and(|g| g.matches(*status, *code))
            });
            if let Some(level) = gone {
                return Ended::Gone { level, error: e };
            }
        }
        match e {
            ApiError::Forbidden { .. } => Ended::Forbidden(e),
            ApiError::Refused { message, .. }
                if !p.params.is_empty() && self.ctx.config.locations_searches.is_empty() =>
            {
                Ended::Refused(message)
            }
            ApiError::Refused { message, .. } if !p.params.is_empty() => {
                // The user's own search: a configuration to fix.
                Ended::Failed(ApiError::BadConfig {
                    product: self.def.product,
                    message: format!(
                        "the configured location search {} was refused: {message}; check `locations_searches`",
                        p.describe().trim_start_matches(", search ")
                    ),
                })
            }
            e => Ended::Failed(e),
        }
    }

    /// Every group of the stream, each read to its own end.
    pub(super) async fn read_groups(&mut self) -> Result<(), ApiError> {
        let groups = self.groups().await?;
        if let [only] = groups.as_slice() {
            if only.parents.is_empty() {
                // The whole stream is one group: its end is the stream's.
                let mut g = self.group(only);
                return self.read_group(only, &mut g).await;
            }
        }
        let mut forbidden = Vec::new();
        let mut failed: Vec<(Partition, ApiError)> = Vec::new();
        for outer in &groups {
            let mut g = self.group(outer);
            match self.read_group(outer, &mut g).await {
                Ok(()) => {}
                Err(e) if fatal(&e) => return Err(e),
                Err(e) => match self.ended(outer, e) {
                    Ended::Forbidden(e) => {
                        let said = match &e {
                            ApiError::Forbidden { message, .. } => message.as_str(),
                            _ => "",
                        };
                        self.incomplete(
                            outer,
                            LogLevel::Warn,
                            &format!(
                                "skipped: AfterShip answered 403 Forbidden ({said}); the key may not read this partition, and the other partitions go on"
                            ),
                        );
                        forbidden.push(e);
                    }
                    Ended::Gone { error, .. } => {
                        self.gone(outer, &error);
                        g.forget(&mut self.cursor);
                    }
                    Ended::Refused(why) => {
                        self.incomplete(outer, LogLevel::Warn, &format!("skipped: {why}"))
                    }
                    Ended::Failed(e) => {
                        self.incomplete(
                            outer,
                            LogLevel::Warn,
                            &format!("failed: {e}; the other partitions go on"),
                        );
                        failed.push((outer.clone(), e));
                    }
                },
            }
            if self.def.cursor.is_some() {
                self.checkpoint();
            }
        }
        if !groups.is_empty() && forbidden.len() == groups.len() {
            // Not one partition may be read: the key lacks the product.
            return Err(forbidden.swap_remove(0));
        }
        in_partition(failed)
    }

    /// The cursor bookkeeping of the group `outer`, begun now (or resuming the
    /// walk its state saved).
    fn group(&self, outer: &Partition) -> Group {
        let store = outer.outer();
        let threshold = self.threshold(store);
        let resume = if self.incremental() {
            &self.cursor
        } else {
            &EMPTY
        };
        let mut g = Group::new(resume, store, threshold, Utc::now());
        g.whole = !self.incremental()
            || cursor::walk_due(
                &self.cursor,
                store,
                self.ctx.now,
                self.ctx.config.orders_reconcile,
            );
        g
    }

    /// One group: its partitions, each walked to its end; then the cursor moves
    /// to the newest value emitted (never past the group's start).
    async fn read_group(&mut self, outer: &Partition, g: &mut Group) -> Result<(), ApiError> {
        let parts = self.partitions(outer, g).await?;
        let nested = self.chain()?.len() >= 2;
        let mut failed: Vec<(Partition, ApiError)> = Vec::new();
        if nested {
            self.read_parents(parts, g, &mut failed).await?;
        } else {
            for p in &parts {
                let fields = p.fields();
                let mut feed = self.feed(p, g);
                match cursor::reached(&self.cursor, &fields) {
                    Some(Reached::Done { .. }) => {
                        self.ctx.out.log(
                            LogLevel::Info,
                            &format!(
                                "stream {}{}: read to its end by an earlier attempt of this full refresh; skipped",
                                self.def.name,
                                p.describe()
                            ),
                        );
                        continue;
                    }
                    Some(Reached::At { place, .. }) => feed.resume(*place),
                    None => {}
                }
                match self.walk(&mut feed, p, &mut Sink::Emit(g)).await {
                    Ok(()) if self.resuming() && !fields.is_empty() => {
                        cursor::reach(&mut self.cursor, &fields, None);
                        self.checkpoint();
                    }
                    Ok(()) => {}
                    Err(e) => self.partition_failed(p, e, &mut failed)?,
                }
            }
        }
        in_partition(failed)?;
        if self.def.cursor.is_some() {
            if let Some(seen) = g.close_window(None) {
                g.settle(&mut self.cursor, seen);
            }
        }
        g.unmark(&mut self.cursor);
        if g.whole && self.reconciles() {
            g.walked(&mut self.cursor);
        }
        Ok(())
    }

    /// A partition of a group failed: a parent that is gone or a refused derived
    /// search is said and passed over; a failure of the group's own parent ends
    /// the group; any other failure is kept, and the group's other partitions
    /// are read first.
    fn partition_failed(
        &mut self,
        p: &Partition,
        e: ApiError,
        failed: &mut Vec<(Partition, ApiError)>,
    ) -> Result<(), ApiError> {
        if fatal(&e) {
            return Err(e);
        }
        match self.ended(p, e) {
            Ended::Gone { level, error } if level > 0 => self.gone(p, &error),
            Ended::Gone { error, .. } | Ended::Forbidden(error) => return Err(error),
            Ended::Refused(why) => self.incomplete(
                p,
                LogLevel::Warn,
                &format!(
                    "the search (derived from a record of {}) was refused: {why}; skipped",
                    match self.def.source {
                        Source::Search(s) => s.parent,
                        _ => "its parent",
                    }
                ),
            ),
            Ended::Failed(e) => {
                if !p.describe().is_empty() {
                    self.incomplete(
                        p,
                        LogLevel::Warn,
                        &format!("failed: {e}; the other partitions go on"),
                    );
                }
                failed.push((p.clone(), e));
            }
        }
        Ok(())
    }

    /// A parent that no longer exists: its records were deleted at AfterShip.
    fn gone(&mut self, p: &Partition, e: &ApiError) {
        let line = format!(
            "stream {}{}: it no longer exists at AfterShip ({e}); its records were deleted with it, and the other partitions go on",
            self.def.name,
            p.describe()
        );
        self.ctx.out.log(LogLevel::Warn, &line);
        self.summary.gone.push(line);
    }

    /// The feed of a partition read on its own: its sorted listing where the
    /// API sorts (in full the first time and whenever a reconcile is due, past
    /// the page ceiling by its two creation orders; otherwise newest-updated
    /// first down to the cursor), else its time windows.
    fn feed(&self, p: &Partition, g: &Group) -> Feed<'a> {
        let plan = Plan {
            ctx: self.ctx,
            def: self.def,
            base: p.request(self.def),
            page_size: self.ctx.config.page_size,
            times: Some(self.time_fields.clone()),
            label: p.describe(),
        };
        let Some(sorts) = self.def.sorts else {
            return Feed::windowed(plan, self.inputs(g.threshold, g.store.as_deref()));
        };
        let reach = match (self.incremental(), g.threshold) {
            (true, Some(t)) if !g.whole => Reach::UpdatedSince(t),
            _ => Reach::All,
        };
        Feed::sorted(plan, sorts, reach)
    }

    /// One request per parent record (fulfillments per order): a few fetched at
    /// a time (the rate limiter still paces them), emitted in a fixed order, and
    /// the walk's progress saved as it goes, so that a resumed sync goes on
    /// after the last parent done.
    async fn read_parents(
        &mut self,
        mut parts: Vec<Partition>,
        g: &mut Group,
        failed: &mut Vec<(Partition, ApiError)>,
    ) -> Result<(), ApiError> {
        parts.sort_by(|a, b| a.inner().cmp(&b.inner()));
        if let Some(after) = g.after.clone() {
            parts.retain(|p| p.inner().is_some_and(|v| v > after.as_str()));
        }
        let width = self.ctx.config.max_concurrent_requests.clamp(1, 4);
        let (mut done, mut since) = (0, Instant::now());
        for chunk in parts.chunks(width) {
            let fetches = chunk.iter().map(|p| {
                Pager::new(
                    &self.ctx.client,
                    &self.ctx.sizes,
                    self.def,
                    p.request(self.def),
                    self.ctx.config.page_size,
                )
                .with_times(&self.time_fields)
                .all()
            });
            let fetched = futures_util::future::join_all(fetches).await;
            for (p, result) in chunk.iter().zip(fetched) {
                let read = match result {
                    Ok((pages, walked)) => {
                        let mut feed = Feed::fetched(pages, walked);
                        self.walk(&mut feed, p, &mut Sink::Emit(g)).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = read {
                    self.partition_failed(p, e, failed)?;
                }
                done += 1;
                let due = done >= MARK_EVERY || since.elapsed() >= MARK_AFTER;
                if due && failed.is_empty() && self.def.cursor.is_some() {
                    if let Some(v) = p.inner() {
                        g.mark(&mut self.cursor, v.to_string());
                        self.checkpoint();
                    }
                    (done, since) = (0, Instant::now());
                }
            }
        }
        Ok(())
    }
}

static EMPTY: crate::state::Cursor = crate::state::Cursor::Single(None);

/// The failures of a group's partitions as one error naming the first (and
/// counting the others, each named in a WARN already).
fn in_partition(mut failed: Vec<(Partition, ApiError)>) -> Result<(), ApiError> {
    if failed.is_empty() {
        return Ok(());
    }
    let others = failed.len() - 1;
    let (p, error) = failed.swap_remove(0);
    let partition = p.describe().trim_start_matches(", ").to_string();
    if partition.is_empty() {
        return Err(error);
    }
    Err(ApiError::InPartition {
        partition,
        error: Box::new(error),
        others,
    })
}
