//! The one page loop: a partition's feed walked to its end, each page's records
//! handed to a sink (emitted for this stream, or read as parent records), each
//! closed query reported and, for emitted records, settled with the cursor.

use super::cursor::{self, Group};
use super::feed::{Closed, Event, Feed};
use super::partition::Partition;
use super::run::Run;
use crate::http::ApiError;
use crate::paginate::{End, Item};
use crate::streams::StreamDef;

/// Where a walk's records go.
pub enum Sink<'s> {
    /// Out as this stream's records, under the checkpoint rules of their group.
    Emit(&'s mut Group),
    /// Read as the records of a parent whose children this stream reads.
    Parents {
        parent: &'static StreamDef,
        take: &'s mut (dyn FnMut(&Item<'_>) + Send),
    },
}

impl Run<'_> {
    /// Walk `feed`, the pages of partition `p`, to its end.
    pub(super) async fn walk(
        &mut self,
        feed: &mut Feed<'_>,
        p: &Partition,
        sink: &mut Sink<'_>,
    ) -> Result<(), ApiError> {
        while let Some(event) = feed.next().await? {
            match event {
                Event::Total { query, total } => {
                    if let Sink::Emit(_) = sink {
                        self.note_total(&query, total);
                    }
                }
                Event::Split => self.summary.pages += 1,
                Event::Page(page) => {
                    let items = page.items().filter(|i| feed.keep(i));
                    match sink {
                        Sink::Emit(g) => {
                            self.take_page(items, g, p)?;
                            self.reached(feed, p);
                        }
                        Sink::Parents { take, .. } => items.for_each(|i| take(&i)),
                    }
                }
                Event::Closed(closed) => {
                    self.closed(&closed, p, sink);
                    if let Sink::Emit(_) = sink {
                        self.reached(feed, p);
                    }
                }
            }
        }
        if let Some(what) = feed.unreached() {
            let what = match sink {
                Sink::Emit(_) => what,
                Sink::Parents { .. } => format!("{what}; their {} were not read", self.def.name),
            };
            self.truncated(p, &what);
        }
        Ok(())
    }

    /// A resumable full refresh emitted every record of `p` up to where `feed`
    /// stands: save it, and say so in a STATE.
    fn reached(&mut self, feed: &Feed<'_>, p: &Partition) {
        if !self.resuming() {
            return;
        }
        if let Some(place) = feed.place() {
            cursor::reach(&mut self.cursor, &p.fields(), Some(place));
            self.checkpoint();
        }
    }

    /// A query of the feed ended: say what it could not reach, and let the cursor
    /// move as far as the window vouches for.
    fn closed(&mut self, c: &Closed, p: &Partition, sink: &mut Sink<'_>) {
        let Some(walked) = c.walked else { return };
        match sink {
            Sink::Emit(g) => {
                self.report_end(p, &walked);
                self.close_window(g, c);
            }
            Sink::Parents { parent, .. } if walked.end == Some(End::Capped) => {
                let what = format!(
                    "its parent list {} stops at AfterShip's ceiling after {} records; the children of the {} not listed were not read",
                    parent.path, walked.records, parent.name
                );
                self.truncated(p, &what);
            }
            Sink::Parents { .. } => {}
        }
    }
}
