//! The requests of one walk, and reading ahead: the next page is requested while
//! the caller works on the current one, for cursor and token walks as soon as the
//! head of a body names it (a guess, kept only when the validated page agrees).

use super::Page;
use super::page::{PageInfo, parse_page_with};
use super::strategy::{Position, page_no};
use crate::http::{ApiError, Client, Request};
use crate::json::envelope::{self, NO_TIMES, TimeFields};
use crate::streams::{PageKind, StreamDef};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What every request of one walk shares.
#[derive(Clone)]
pub(super) struct Walk {
    pub client: Arc<Client>,
    pub def: &'static StreamDef,
    pub base: Request,
    pub times: Option<Arc<TimeFields>>,
    /// The page size sent; None sends no paging parameters but the position
    /// (cursor or token), and for page-number walks not even `page`.
    pub limit: Option<u32>,
    /// Request each next page as soon as it is known, guessing it from the head
    /// of each body.
    pub speculate: bool,
    /// Pages requested ahead and not yet taken: at most this many at a time.
    pub room: Arc<Semaphore>,
}

/// Pages a walk may hold requested ahead of the caller (each ≲ 1 MB).
pub(super) const AHEAD: usize = 2;

/// A page requested ahead, running as its own task; dropped (the walk stopped
/// early, or the guess was wrong), it is cancelled, and so is the one it started.
pub(super) struct Ahead(pub tokio::task::JoinHandle<Result<Fetched, ApiError>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A page, and the request for the page after it that its body's head named.
pub(super) struct Fetched {
    pub page: Page,
    pub next: Option<(Position, Ahead)>,
    pub _room: Option<OwnedSemaphorePermit>,
}

pub(super) type Fetch = Pin<Box<dyn Future<Output = Result<Fetched, ApiError>> + Send>>;

/// GET the page at `pos` and lay it out. With `walk.speculate`, as soon as the body
/// is in, the next page named by its head is requested (before this body is
/// validated; the pager uses that request only if the validated page agrees).
pub(super) fn fetch(walk: Arc<Walk>, pos: Position, ahead: bool) -> Option<Fetch> {
    let req = walk.request(&pos)?;
    Some(Box::pin(async move {
        let room = if ahead {
            Some(
                Arc::clone(&walk.room)
                    .acquire_owned()
                    .await
                    .map_err(|_| ApiError::Interrupted)?,
            )
        } else {
            None
        };
        let times = walk.times.as_deref().unwrap_or(&NO_TIMES);
        let (page, next) = walk
            .client
            .get(&req, |body| {
                let next = walk
                    .speculate
                    .then(|| guess_next(walk.def, &body))
                    .flatten()
                    .and_then(|pos| {
                        let task = fetch(Arc::clone(&walk), pos.clone(), true)?;
                        Some((pos, Ahead(tokio::spawn(task))))
                    });
                // A body that fails here drops `next`, which cancels it.
                let def = walk.def;
                let page =
                    parse_page_with(body, def.data_key, def.cursor, times, &def.paging.reply)?;
                Ok((page, next))
            })
            .await?;
        Ok(Fetched {
            page,
            next,
            _room: room,
        })
    }))
}

/// The next position as the head of a body names it (cursor and token walks,
/// when the pagination object or the next token comes before the records, as
/// AfterShip sends them). Only a guess: the body is not validated yet.
fn guess_next(def: &StreamDef, body: &[u8]) -> Option<Position> {
    let head = &body[..body.len().min(16 * 1024)];
    let head = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let reply = &def.paging.reply;
    let at = |key| envelope::value_at(head, &["data", key], Some(def.data_key));
    match def.paging.kind {
        PageKind::Cursor { .. } => {
            let info = PageInfo::parse(at(reply.pagination)?, reply).ok()?;
            let next = info.next_cursor.filter(|c| !c.is_empty())?;
            (info.has_next_page != Some(false)).then_some(Position::Cursor(next))
        }
        PageKind::Token { .. } => {
            let next: String = serde_json::from_str(at(reply.next_token)?).ok()?;
            (!next.is_empty()).then_some(Position::Token(next))
        }
        _ => None,
    }
}

impl Walk {
    /// The request for the page at `pos`; None when the list ended.
    pub fn request(&self, pos: &Position) -> Option<Request> {
        if *pos == Position::Done {
            return None;
        }
        let mut req = self.base.clone();
        let mut push = |k: &str, v: String| req.query.push((k.to_string(), v));
        let limit = self.def.paging.limit.zip(self.limit);
        match (self.def.paging.kind, pos) {
            (PageKind::None, _) => {}
            (PageKind::Number { param, .. }, pos) => {
                if let Some((l, n)) = limit {
                    push(param, page_no(pos).to_string());
                    push(l.param, n.to_string());
                }
            }
            (PageKind::Cursor { param } | PageKind::Token { param }, pos) => {
                if let Some((l, n)) = limit {
                    push(l.param, n.to_string());
                }
                if let Position::Cursor(c) | Position::Token(c) = pos {
                    push(param, c.clone());
                }
            }
        }
        Some(req)
    }
}
