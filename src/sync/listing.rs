//! Sorted listings: how a read reaches past a page ceiling, and how an incremental
//! read of a listing without a time filter costs requests in proportion to what
//! changed.
//!
//! Commerce serves at most 200 pages × 50 = 10,000 rows to one query, and its
//! orders take a `sort`. A first read walks newest-created first; past the ceiling
//! it walks oldest-created first until it meets what it read, reaching up to
//! 20,000. An incremental read walks newest-updated first and stops once it has
//! passed the cursor (less [`SORT_LAG`]). Whatever stays out of reach is said.

use super::Ctx;
use super::key::first_time;
use crate::http::{ApiError, Request};
use crate::json::envelope::TimeFields;
use crate::json::scan::{Field, top_level_field};
use crate::paginate::{End, Item, Page, Pager};
use crate::streams::{Sort, Sorts, StreamDef};
use crate::time::{format_instant, parse_instant};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use std::sync::Arc;

/// The sort field is the source platform's update time, the cursor AfterShip's
/// own `updated_at`: an update reaches AfterShip some time after the platform
/// made it. A walk newest-updated first goes on this far past the cursor.
pub const SORT_LAG: Duration = Duration::days(1);

/// Which records of the listing to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// All of them.
    All,
    /// Those updated at or after this moment.
    UpdatedSince(DateTime<Utc>),
    /// Those created at or after this moment.
    CreatedSince(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    UpdatedDesc,
    CreatedDesc,
    CreatedAsc,
}

fn sort_of(sorts: Sorts, pass: Pass) -> Sort {
    match pass {
        Pass::UpdatedDesc => sorts.updated_desc,
        Pass::CreatedDesc => sorts.created_desc,
        Pass::CreatedAsc => sorts.created_asc,
    }
}

/// A walk of `base` in the order of `pass`.
fn sorted_pager(
    ctx: &Ctx,
    def: &'static StreamDef,
    base: &Request,
    sorts: Sorts,
    pass: Pass,
    page_size: Option<u32>,
    times: Option<&Arc<TimeFields>>,
) -> Pager {
    let mut req = base.clone();
    req.query.push((
        sorts.param.to_string(),
        sort_of(sorts, pass).value.to_string(),
    ));
    let pager = Pager::new(&ctx.client, &ctx.sizes, def, req, page_size);
    match times {
        Some(t) => pager.with_times(t),
        None => pager,
    }
}

/// One partition's listing, walked pass after pass. `next()` yields pages; each
/// item should go through [`Listing::fresh`], which drops what an earlier page of
/// this listing already handed out.
pub struct Listing<'c> {
    ctx: &'c Ctx,
    def: &'static StreamDef,
    sorts: Sorts,
    base: Request,
    page_size: Option<u32>,
    times: Option<Arc<TimeFields>>,
    reach: Reach,
    pass: Pass,
    pager: Pager,
    keys: HashSet<String>,
    /// The oldest creation seen walking newest-created first.
    oldest_desc: Option<DateTime<Utc>>,
    /// The newest creation seen walking oldest-created first.
    newest_asc: Option<DateTime<Utc>>,
    stop: bool,
    /// What this listing could not reach, once it ended.
    pub unreached: Option<String>,
    /// Its end was handed to the page loop.
    pub closed: bool,
}

impl<'c> Listing<'c> {
    pub fn new(
        ctx: &'c Ctx,
        def: &'static StreamDef,
        sorts: Sorts,
        base: Request,
        page_size: Option<u32>,
        times: Option<Arc<TimeFields>>,
        reach: Reach,
    ) -> Listing<'c> {
        let pass = match reach {
            Reach::UpdatedSince(_) => Pass::UpdatedDesc,
            _ => Pass::CreatedDesc,
        };
        let pager = sorted_pager(ctx, def, &base, sorts, pass, page_size, times.as_ref());
        Listing {
            ctx,
            def,
            sorts,
            base,
            page_size,
            times,
            reach,
            pass,
            pager,
            keys: HashSet::new(),
            oldest_desc: None,
            newest_asc: None,
            stop: false,
            unreached: None,
            closed: false,
        }
    }

    fn sort(&self) -> Sort {
        sort_of(self.sorts, self.pass)
    }

    /// Walk the listing anew in the order of `pass`.
    fn start(&mut self, pass: Pass) {
        self.pass = pass;
        self.pager = sorted_pager(
            self.ctx,
            self.def,
            &self.base,
            self.sorts,
            pass,
            self.page_size,
            self.times.as_ref(),
        );
    }

    /// The next page, or None when the listing is done.
    pub async fn next(&mut self) -> Result<Option<Page>, ApiError> {
        loop {
            if self.stop {
                return Ok(None);
            }
            if let Some(page) = self.pager.next().await? {
                if self.pass == Pass::CreatedDesc
                    && self.reach == Reach::All
                    && self.pager.pages == 1
                {
                    // Read to its end (or its ceiling): fetch ahead.
                    self.pager.read_ahead();
                }
                self.observe(&page);
                return Ok(Some(page));
            }
            let end = self.pager.end;
            match (self.pass, end) {
                (Pass::UpdatedDesc, Some(End::Capped)) => {
                    // More changed than one query reaches: read the whole listing.
                    self.reach = Reach::All;
                    self.start(Pass::CreatedDesc);
                }
                (Pass::CreatedDesc, Some(End::Capped)) if self.reach == Reach::All => {
                    self.start(Pass::CreatedAsc);
                }
                (Pass::CreatedDesc, Some(End::Capped)) => {
                    self.unreached = Some(format!(
                        "more {} were created since {} than one query can reach ({} pages of {}); the older ones were not reached",
                        self.def.name,
                        self.since_text(),
                        self.def.paging.max_page,
                        self.pager.limit()
                    ));
                    return Ok(None);
                }
                (Pass::CreatedAsc, Some(End::Capped)) => {
                    self.unreached = Some(format!(
                        "AfterShip serves at most {} pages of {} to one query; {} {} were read newest-created first and oldest-created first, and those created between {} and {} (how many, the API does not say) could not be reached",
                        self.def.paging.max_page,
                        self.pager.limit(),
                        self.keys.len(),
                        self.def.name,
                        self.newest_asc
                            .map(format_instant)
                            .unwrap_or_else(|| "?".into()),
                        self.oldest_desc
                            .map(format_instant)
                            .unwrap_or_else(|| "?".into()),
                    ));
                    return Ok(None);
                }
                (_, Some(End::OnePage { full: true })) => {
                    self.unreached = Some(format!(
                        "the API takes no paging parameters here and its one page is full ({} records); more may exist",
                        self.pager.limit()
                    ));
                    return Ok(None);
                }
                _ => return Ok(None),
            }
        }
    }

    fn since_text(&self) -> String {
        match self.reach {
            Reach::CreatedSince(t) | Reach::UpdatedSince(t) => format_instant(t),
            Reach::All => "the start".into(),
        }
    }

    /// Whether to stop after this page, and what it tells of where the walk is.
    fn observe(&mut self, page: &Page) {
        let field = self.sort().field;
        let values: Vec<DateTime<Utc>> = page
            .records()
            .filter_map(|r| match top_level_field(r, field) {
                Field::Str(s) => parse_instant(&s),
                _ => None,
            })
            .collect();
        let (Some(&lo), Some(&hi)) = (values.iter().min(), values.iter().max()) else {
            return;
        };
        match (self.pass, self.reach) {
            (Pass::UpdatedDesc, Reach::UpdatedSince(since)) => self.stop |= lo < since - SORT_LAG,
            (Pass::CreatedDesc, Reach::CreatedSince(since)) => self.stop |= lo < since,
            (Pass::CreatedDesc, _) => {
                self.oldest_desc = Some(self.oldest_desc.map_or(lo, |o| o.min(lo)));
            }
            (Pass::CreatedAsc, _) => {
                self.newest_asc = Some(self.newest_asc.map_or(hi, |n| n.max(hi)));
                // Past the oldest record the first pass read: the passes met.
                self.stop |= self.oldest_desc.is_some_and(|o| hi > o);
            }
            _ => {}
        }
    }

    /// True the first time this listing hands out the record `item` (by the key
    /// fields the API sets); pages shift while records are added, and two passes
    /// overlap where they meet.
    pub fn fresh(&mut self, item: &Item<'_>) -> bool {
        first_time(&mut self.keys, self.def, item.text)
    }

    /// Whether `item` falls inside what this listing was asked to reach.
    pub fn wanted(&self, item: &Item<'_>) -> bool {
        let at = |field: &str| match top_level_field(item.text, field) {
            Field::Str(s) => parse_instant(&s),
            _ => None,
        };
        match self.reach {
            Reach::All | Reach::UpdatedSince(_) => true,
            Reach::CreatedSince(since) => {
                at(self.sorts.created_desc.field).is_none_or(|t| t >= since)
            }
        }
    }
}
