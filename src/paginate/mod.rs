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

/// What a finished (or abandoned) walk tells of itself.
#[derive(Debug, Clone, Copy)]
pub struct Walked {
    pub end: Option<End>,
    pub total: Option<u64>,
    pub records: u64,
    pub pages: u64,
    /// The page size in force.
    pub limit: u32,
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
    /// The page number of the last page returned (page-number walks; 1 otherwise).
    pub at: u32,
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
            at: 0,
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

    /// Begin at page `page` of a page-number walk, as a resumed walk whose pages
    /// before it were read at `page_size` a page. Where the size in force is
    /// another (or the walk sends no size), page numbers name other records, and
    /// the walk begins at its first page.
    pub fn start_at(&mut self, page: u32, page_size: u32) {
        let numbered = matches!(self.def().paging.kind, PageKind::Number { .. });
        let asked = self.asked();
        if !numbered || asked.bare || page <= 1 || self.limit() != page_size || self.pages > 0 {
            return;
        }
        self.pos = Position::Page(page);
        self.read = u64::from(page - 1) * u64::from(page_size);
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

    /// Where this walk stands.
    pub fn walked(&self) -> Walked {
        Walked {
            end: self.end,
            total: self.total,
            records: self.records,
            pages: self.pages,
            limit: self.limit(),
        }
    }

    /// Every page of the query, read to its end (for a query small enough to
    /// hold: the children of one parent record).
    pub async fn all(mut self) -> Result<(Vec<Page>, Walked), ApiError> {
        let mut pages = Vec::new();
        while let Some(page) = self.next().await? {
            pages.push(page);
        }
        Ok((pages, self.walked()))
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
                        // The task of a page requested ahead panicked or was
                        // cancelled under our feet: ours to fix, not AfterShip's.
                        return Err(ApiError::Bug {
                            stream: self.def().name,
                            message: format!("the request of a page read ahead stopped ({e})"),
                            stack_trace: crate::panics::take(e.id()),
                        });
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
        self.at = at;
        self.records += page.len() as u64;
        self.read += page.len() as u64;
        self.served = page
            .info
            .limit
            .and_then(|l| u32::try_from(l).ok())
            .or(self.served);
        if self.pages == 1 {
            self.total = page.info.total.or(page.data_total);
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
            Step::Ended(why) => {
                self.walk.client.out().log(
                    crate::protocol::LogLevel::Warn,
                    &format!(
                        "stream {}: {why} (page {at} of {})",
                        self.def().name,
                        self.def().path
                    ),
                );
                self.end = Some(End::Complete);
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
mod tests;
