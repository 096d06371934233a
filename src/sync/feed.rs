//! Where one partition's pages come from: its time windows walked page by page
//! ([`Windowed`]), its sorted listing walked pass by pass ([`Listing`]), or pages
//! already fetched ahead. Each is a source of [`Event`]s for the one page loop
//! (`walk.rs`), which knows nothing of windows, passes or read-ahead.

use super::Ctx;
use super::key::key_text;
use super::listing::{Listing, Reach};
use super::windows::{self, Inputs, Window, Windows};
use crate::http::{ApiError, Request};
use crate::json::envelope::TimeFields;
use crate::json::scan::{self, Field};
use crate::paginate::{Item, Page, Pager, Walked};
use crate::protocol::LogLevel;
use crate::state::Place;
use crate::streams::{Sorts, StreamDef};
use crate::time::{format_filter, parse_instant};
use chrono::{DateTime, Utc};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// What a feed hands the page loop next.
pub enum Event {
    /// A query reports how many records it matches (`query` tells queries apart).
    Total {
        query: String,
        total: u64,
    },
    /// A page read and thrown away: its window holds more than one query can
    /// reach, so its halves are read instead; or the API ignored the window's
    /// date filter, so the partition is read again without it.
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
            unfiltered: false,
            taken: HashSet::new(),
            verdicts: VecDeque::new(),
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
            unfiltered: false,
            taken: HashSet::new(),
            verdicts: VecDeque::new(),
        }))
    }

    /// The partition's listing in the sort orders `sorts`, reaching `reach`.
    pub fn sorted(plan: Plan<'c>, sorts: Sorts, reach: Reach) -> Feed<'c> {
        Feed::Sorted(Box::new(Listing::new(
            plan.ctx,
            plan.def,
            sorts,
            plan.base,
            plan.page_size,
            plan.times,
            reach,
        )))
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
    /// record out once, and only those within what it was asked to reach; a
    /// window only the records whose filter field lies inside it (the server's
    /// filter is not trusted blindly).
    pub fn keep(&mut self, item: &Item<'_>) -> bool {
        match self {
            Feed::Sorted(l) => l.fresh(item) && l.wanted(item),
            Feed::Windowed(w) => w.keep(item),
            Feed::Fetched(_) => true,
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
    /// The API was seen to ignore its date filter: one walk without it, each
    /// record judged here against the window.
    unfiltered: bool,
    /// The keys of the records a bounded window handed out before the API was
    /// seen to ignore its filter: the unfiltered walk that reads that window
    /// again does not hand them out twice.
    taken: HashSet<String>,
    /// Whether each record of the page just fetched lies inside its window, in
    /// page order, as found when the page was judged: the page loop's
    /// [`Windowed::keep`] takes them instead of scanning each record again.
    verdicts: VecDeque<Option<bool>>,
}

/// How far a record's filter field may lie outside its window and still count as
/// inside it: the filter is sent in whole seconds.
const SLACK: chrono::Duration = chrono::Duration::seconds(1);

/// Whether the record `text` lies inside window `w` by the field `def`'s filter
/// is on (bounds included); None where it cannot be told (no filter, no bound,
/// no usable value: such a record is kept).
pub fn inside(def: &StreamDef, w: &Window, text: &str) -> Option<bool> {
    if w.min.is_none() && w.max.is_none() {
        return None;
    }
    let field = def.filter.field()?;
    let at = match scan::top_level_field(text, field) {
        Field::Str(s) => parse_instant(&s)?,
        _ => return None,
    };
    Some(w.min.is_none_or(|m| at >= m - SLACK) && w.max.is_none_or(|m| at <= m + SLACK))
}

/// [`inside`] for a record of a page: where the filter's field is the stream's
/// cursor, the page pass has already found its value, so the record's text is not
/// scanned again (a few KB per tracking).
fn item_inside(def: &StreamDef, w: &Window, item: &Item<'_>) -> Option<bool> {
    match def.filter.field() {
        Some(field) if def.cursor == Some(field) && (w.min.is_some() || w.max.is_some()) => {
            let at = match &item.cursor {
                Field::Str(s) => parse_instant(s)?,
                _ => return None,
            };
            Some(w.min.is_none_or(|m| at >= m - SLACK) && w.max.is_none_or(|m| at <= m + SLACK))
        }
        _ => inside(def, w, item.text),
    }
}

impl Windowed<'_> {
    /// Whether the page loop takes `item` of the current window: only inside it
    /// (by the filter's own field), and each record once.
    fn keep(&mut self, item: &Item<'_>) -> bool {
        let Some((win, _)) = &self.current else {
            return true;
        };
        let verdict = match self.verdicts.pop_front() {
            Some(v) => v,
            None => item_inside(self.plan.def, win, item),
        };
        if verdict == Some(false) {
            return false;
        }
        let bounded = win.max.is_some() && self.plan.def.filter.params().is_some();
        let untake = self.unfiltered && !self.taken.is_empty();
        let track = bounded && !self.unfiltered;
        if !untake && !track {
            // Nothing to remember or to drop: no key to compute (a scan of the
            // record's text).
            return true;
        }
        match key_text(self.plan.def, item.text) {
            Some(k) if untake => !self.taken.remove(&k),
            Some(k) if !self.unfiltered => {
                self.taken.insert(k);
                true
            }
            _ => true,
        }
    }

    /// A page of window `w` whose records lie mostly outside it: the API ignores
    /// its date filter (evidence, not a reason to split the window). Say so once,
    /// and read the rest of the partition in one walk without the filter, from
    /// the window's lower bound, judged here.
    fn ignores_filter(&mut self, w: &Window, page: &Page) -> bool {
        self.verdicts.clear();
        if self.unfiltered || self.plan.def.filter.params().is_none() {
            return false;
        }
        let (mut outside, mut within) = (0u64, 0u64);
        let mut example = None;
        for item in page.items() {
            let verdict = item_inside(self.plan.def, w, &item);
            self.verdicts.push_back(verdict);
            match verdict {
                Some(false) => {
                    outside += 1;
                    if example.is_none() {
                        let field = self.plan.def.filter.field().unwrap_or_default();
                        example = match scan::top_level_field(item.text, field) {
                            Field::Str(s) => Some(s.to_string()),
                            _ => None,
                        };
                    }
                }
                Some(true) => within += 1,
                None => {}
            }
        }
        if outside == 0 || outside < within {
            return false;
        }
        self.verdicts.clear();
        let def = self.plan.def;
        let (min, max) = def.filter.params().unwrap_or_default();
        let bound = |t: Option<DateTime<Utc>>| t.map_or("open".to_string(), format_filter);
        self.plan.ctx.out.log(
            LogLevel::Warn,
            &format!(
                "stream {}{}: AfterShip ignores the date filter `{min}`/`{max}`: asked for {} from {} to {}, {outside} of the {} records on a page lie outside it (e.g. {} {}); the stream is read in one walk without date filters from {}, each record judged by the connector",
                def.name,
                self.plan.label,
                def.filter.field().unwrap_or_default(),
                bound(w.min),
                bound(w.max),
                outside + within,
                def.filter.field().unwrap_or_default(),
                example.as_deref().unwrap_or("?"),
                bound(w.min),
            ),
        );
        self.unfiltered = true;
        self.windows = Windows::single(w.min);
        if w.max.is_none() {
            // An open-ended window: its query, already without effect, reads on
            // as the unfiltered walk (its records so far were judged the same way).
            let _ = self.windows.next_window();
            self.taken.clear();
            return false;
        }
        self.pending.clear();
        self.current = None;
        true
    }

    fn open(&mut self, w: &Window) -> Pager {
        let mut req = self.plan.base.clone();
        let params = self.plan.def.filter.params().filter(|_| !self.unfiltered);
        if let Some((min, max)) = params {
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
            let page = pager.next().await?;
            if let Some(p) = &page {
                if self.ignores_filter(&w, p) {
                    // The page is thrown away: the unfiltered walk reads its records.
                    return Ok(Some(Event::Split));
                }
            }
            let Some((_, pager)) = &mut self.current else {
                continue;
            };
            match page {
                Some(page) if pager.pages == 1 => {
                    let def = self.plan.def;
                    let cap = u64::from(def.paging.max_page) * u64::from(pager.limit());
                    // Without effective filters, halves would be the same query.
                    let halves = pager.total.filter(|_| !self.unfiltered).and_then(|total| {
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
                    self.taken.clear();
                    return Ok(Some(Event::Closed(Closed {
                        window_max: w.max,
                        filtered: self.plan.def.filter.params().is_some() && !self.unfiltered,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::find;

    fn t(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    #[test]
    fn a_record_is_judged_by_its_filters_own_field() {
        let w = Window {
            min: Some(t("2026-01-01T00:00:00Z")),
            max: Some(t("2026-01-08T00:00:00Z")),
        };
        let tracking = find("trackings").unwrap();
        let labels = find("shipping_labels").unwrap();
        let r = |c: &str, u: &str| format!(r#"{{"id":"a","created_at":"{c}","updated_at":"{u}"}}"#);
        let old_new = r("2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
        // Tracking filters on updated_at, Shipping on created_at.
        assert_eq!(inside(tracking, &w, &old_new), Some(true));
        assert_eq!(inside(labels, &w, &old_new), Some(false));
        // Bounds are inside, with a second's slack; past them is not.
        let at_max = r("2026-01-08T00:00:00.500Z", "2026-01-08T00:00:01Z");
        assert_eq!(inside(tracking, &w, &at_max), Some(true));
        assert_eq!(inside(labels, &w, &at_max), Some(true));
        let late = r("2026-01-08T00:00:02Z", "2026-01-09T00:00:00Z");
        assert_eq!(inside(tracking, &w, &late), Some(false));
        // No value, or no bound: cannot be told, so kept.
        assert_eq!(inside(tracking, &w, r#"{"id":"a"}"#), None);
        let open = Window {
            min: None,
            max: None,
        };
        assert_eq!(inside(tracking, &open, &late), None);
        // No filter at all.
        assert_eq!(inside(find("couriers").unwrap(), &w, &late), None);
    }
}
