//! Where one partition's pages come from: its time windows walked page by page
//! ([`Windowed`]), its sorted listing walked pass by pass ([`Listing`]), or pages
//! already fetched ahead. Each is a source of [`Event`]s for the one page loop
//! (`walk.rs`), which knows nothing of windows, passes or read-ahead.

use super::Ctx;
use super::listing::{Listing, Reach};
use super::windows::{self, Inputs, Window, Windows};
use crate::http::{ApiError, Request};
use crate::json::envelope::TimeFields;
use crate::paginate::{Item, Page, Pager, Walked};
use crate::state::Place;
use crate::streams::StreamDef;
use crate::time::format_filter;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::Arc;

/// What a feed hands the page loop next.
pub enum Event {
    /// A query reports how many records it matches (`query` tells queries apart).
    Total {
        query: String,
        total: u64,
    },
    /// A page read and thrown away: its window holds more than one query can
    /// reach, so its halves are read instead.
    Split,
    Page(Page),
    /// One query's pages are all read.
    Closed(Closed),
}

/// The end of one query of a feed.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    /// The window's upper bound, where the API filtered on time.
    pub window_max: Option<DateTime<Utc>>,
    /// The API filtered this query on time (the window vouches for its range).
    pub filtered: bool,
    /// No query of this feed follows.
    pub last: bool,
    /// How the walk ended; None where the feed reports its own ends ([`Feed::unreached`]).
    pub walked: Option<Walked>,
}

/// What a feed needs to build its queries.
pub struct Plan<'c> {
    pub ctx: &'c Ctx,
    pub def: &'static StreamDef,
    /// The partition's request (path, parent values, search parameters).
    pub base: Request,
    pub page_size: Option<u32>,
    pub times: Option<Arc<TimeFields>>,
    /// Names the partition in estimate keys.
    pub label: String,
}

impl Plan<'_> {
    fn pager(&self, req: Request) -> Pager {
        let pager = Pager::new(
            &self.ctx.client,
            &self.ctx.sizes,
            self.def,
            req,
            self.page_size,
        );
        match &self.times {
            Some(t) => pager.with_times(t),
            None => pager,
        }
    }
}

/// A partition's pages.
pub enum Feed<'c> {
    Windowed(Box<Windowed<'c>>),
    Sorted(Box<Listing<'c>>),
    Fetched(Fetched),
}

impl<'c> Feed<'c> {
    /// The windows `inputs` plan for the partition, each walked to its end.
    pub fn windowed(plan: Plan<'c>, inputs: Inputs) -> Feed<'c> {
        let windows = windows::plan(plan.def, &inputs);
        Feed::Windowed(Box::new(Windowed {
            plan,
            inputs,
            windows,
            current: None,
            pending: VecDeque::new(),
            start: None,
            closed_at: None,
        }))
    }

    /// Every page of the partition's query, unfiltered (a parent list).
    pub fn plain(plan: Plan<'c>, inputs: Inputs) -> Feed<'c> {
        Feed::Windowed(Box::new(Windowed {
            plan,
            inputs,
            windows: Windows::single(None),
            current: None,
            pending: VecDeque::new(),
            start: None,
            closed_at: None,
        }))
    }

    /// The partition's sorted listing, reaching `reach`.
    pub fn sorted(plan: Plan<'c>, reach: Reach) -> Option<Feed<'c>> {
        let sorts = plan.def.sorts?;
        Some(Feed::Sorted(Box::new(Listing::new(
            plan.ctx,
            plan.def,
            sorts,
            plan.base,
            plan.page_size,
            plan.times,
            reach,
        ))))
    }

    /// Pages fetched ahead, and how their walk ended.
    pub fn fetched(pages: Vec<Page>, walked: Walked) -> Feed<'static> {
        Feed::Fetched(Fetched {
            pages: pages.into(),
            walked: Some(walked),
        })
    }

    pub async fn next(&mut self) -> Result<Option<Event>, ApiError> {
        match self {
            Feed::Windowed(w) => w.next().await,
            Feed::Sorted(l) => Ok(match l.next().await? {
                Some(page) => Some(Event::Page(page)),
                None if !l.closed => {
                    l.closed = true;
                    Some(Event::Closed(Closed {
                        window_max: None,
                        filtered: false,
                        last: true,
                        walked: None,
                    }))
                }
                None => None,
            }),
            Feed::Fetched(f) => Ok(match f.pages.pop_front() {
                Some(page) => Some(Event::Page(page)),
                None => f.walked.take().map(|walked| {
                    Event::Closed(Closed {
                        window_max: None,
                        filtered: false,
                        last: true,
                        walked: Some(walked),
                    })
                }),
            }),
        }
    }

    /// Whether the page loop should take `item`: a sorted listing hands each
    /// record out once, and only those within what it was asked to reach.
    pub fn keep(&mut self, item: &Item<'_>) -> bool {
        match self {
            Feed::Sorted(l) => l.fresh(item) && l.wanted(item),
            _ => true,
        }
    }

    /// Go on from `place`, where an earlier attempt of a full refresh got: from
    /// its window, and from the last page it emitted (read again: a record
    /// deleted meanwhile moves the records after it onto earlier pages). Only a
    /// windowed feed (a full refresh reads one window, split where it is capped)
    /// resumes inside a partition.
    pub fn resume(&mut self, place: Place) {
        if let Feed::Windowed(w) = self {
            if place.window_min.is_some() || place.window_max.is_some() {
                w.windows = Windows::resumed(place.window_min, place.window_max);
            }
            w.start = Some((place.last_page, place.page_size));
            w.closed_at = Some(place);
        }
    }

    /// Where the records handed out so far reach: the window and page of the
    /// last page (page-number walks), or the start of the window after the last
    /// one closed. None where the feed cannot say (sorted listings, pages
    /// fetched ahead, cursor and token walks inside a window).
    pub fn place(&self) -> Option<Place> {
        let Feed::Windowed(w) = self else {
            return None;
        };
        let numbered = w.plan.def.paging.page_param().is_some();
        match &w.current {
            Some((window, pager)) if numbered && pager.at > 0 => Some(Place {
                window_min: window.min,
                window_max: window.max,
                last_page: pager.at,
                page_size: pager.limit(),
            }),
            _ => w.closed_at,
        }
    }

    /// What the feed could not reach, once it ended.
    pub fn unreached(&mut self) -> Option<String> {
        match self {
            Feed::Sorted(l) => l.unreached.take(),
            _ => None,
        }
    }
}

/// A query per time window, in ascending order; a window that holds more than
/// one query can reach is split in two.
pub struct Windowed<'c> {
    plan: Plan<'c>,
    inputs: Inputs,
    windows: Windows,
    current: Option<(Window, Pager)>,
    pending: VecDeque<Event>,
    /// The page (and page size) the first window resumes at.
    start: Option<(u32, u32)>,
    /// The start of the window after the last one closed.
    closed_at: Option<Place>,
}

impl Windowed<'_> {
    fn open(&mut self, w: &Window) -> Pager {
        let mut req = self.plan.base.clone();
        if let Some((min, max)) = self.plan.def.filter.params() {
            if let Some(m) = w.min {
                req.query.push((min.into(), format_filter(m)));
            }
            if let Some(m) = w.max {
                req.query.push((max.into(), format_filter(m)));
            }
        }
        let mut pager = self.plan.pager(req);
        if let Some((page, size)) = self.start.take() {
            pager.start_at(page, size);
        }
        pager
    }

    async fn next(&mut self) -> Result<Option<Event>, ApiError> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let Some((w, pager)) = &mut self.current else {
                let Some(w) = self.windows.next_window() else {
                    return Ok(None);
                };
                let pager = self.open(&w);
                self.current = Some((w, pager));
                continue;
            };
            let w = *w;
            match pager.next().await? {
                Some(page) if pager.pages == 1 => {
                    let def = self.plan.def;
                    let cap = u64::from(def.paging.max_page) * u64::from(pager.limit());
                    let halves = pager.total.and_then(|total| {
                        windows::split_if_capped(def, &w, total, cap, &self.inputs)
                    });
                    if let Some(halves) = halves {
                        // Too many records for one query: read the halves instead
                        // (each from its first page, whatever page this one was).
                        self.windows.split(halves);
                        self.current = None;
                        return Ok(Some(Event::Split));
                    }
                    if let Some(total) = pager.total {
                        self.pending.push_back(Event::Total {
                            query: format!("{}{w:?}", self.plan.label),
                            total,
                        });
                    }
                    // This window is read to its end: fetch each next page while
                    // the current one is written.
                    pager.read_ahead();
                    self.pending.push_back(Event::Page(page));
                }
                Some(page) => return Ok(Some(Event::Page(page))),
                None => {
                    let walked = pager.walked();
                    self.windows.feedback(walked.pages);
                    self.current = None;
                    self.closed_at = w.max.map(|min| Place {
                        window_min: Some(min),
                        window_max: None,
                        last_page: 0,
                        page_size: 0,
                    });
                    return Ok(Some(Event::Closed(Closed {
                        window_max: w.max,
                        filtered: self.plan.def.filter.params().is_some(),
                        last: self.windows.is_done(),
                        walked: Some(walked),
                    })));
                }
            }
        }
    }
}

/// Pages already in hand.
pub struct Fetched {
    pages: VecDeque<Page>,
    walked: Option<Walked>,
}
