//! Where a walk goes after each page: the rules of the four pagination styles and
//! the guards that stop a walk which would loop or never end. Pure: a position and
//! what a page said in, the next position out.

use crate::streams::{PageEnd, PageKind, Paging};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Where the next request of a walk points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    First,
    Cursor(String),
    Page(u32),
    Token(String),
    Done,
}

/// The page number a position stands at (1 for the first page).
pub fn page_no(pos: &Position) -> u32 {
    match pos {
        Position::Page(n) => *n,
        _ => 1,
    }
}

/// What one page said about the rest of the list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen<'a> {
    pub len: usize,
    pub has_next: Option<bool>,
    pub next_cursor: Option<&'a str>,
    pub total: Option<u64>,
    pub next_token: Option<&'a str>,
    /// The page size the API says it used (`pagination.limit`), if it says.
    pub served_limit: Option<u64>,
    /// Records this walk has read, this page included.
    pub read: u64,
    /// Size, first and last record ([`super::Page::fingerprint`]).
    pub fingerprint: (usize, &'a str, &'a str),
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Go(Position),
    /// The list ended.
    Done,
    /// More records exist, but the walk may not go further (the API's page
    /// ceiling, or our guard where none is documented).
    Capped,
    /// The API's pages make no sense; stop instead of looping.
    Broken(String),
    /// The list is taken as ended although the page pointed further, for the
    /// reason given (to be logged as a WARN): not worth failing the stream over.
    Ended(String),
}

/// Empty pages in a row that a token walk follows before it takes the list as
/// ended. The form of Shipping's last-page token is undocumented: an empty last
/// page that still names a next page is followed a little, never failed.
pub const EMPTY_TOKEN_PAGES: u32 = 2;

/// What a walk remembers to guard against loops.
#[derive(Debug, Default)]
pub struct Guard {
    tokens: HashSet<String>,
    last: Option<u64>,
    pages: u32,
    /// Empty token pages in a row just followed.
    empty_tokens: u32,
}

/// How the page size enters the rules: the `limit` asked for, or, when the walk
/// sends no paging parameters at all (`bare`), the API's documented default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub limit: u32,
    pub bare: bool,
}

/// The position after the page at `pos`.
pub fn step(paging: &Paging, asked: Asked, pos: &Position, seen: &Seen, guard: &mut Guard) -> Step {
    guard.pages = guard.pages.saturating_add(1);
    let nonempty = |s: Option<&str>| s.filter(|c| !c.is_empty()).map(str::to_string);
    match paging.kind {
        PageKind::None => Step::Done,
        PageKind::Cursor { .. } => {
            let next = nonempty(seen.next_cursor);
            let more = seen.has_next.unwrap_or(next.is_some());
            match next {
                _ if !more => Step::Done,
                None if seen.has_next == Some(true) => Step::Broken(format!(
                    "a page says {}: true but gives no {}",
                    paging.reply.has_next, paging.reply.next_cursor
                )),
                None => Step::Done,
                Some(next) => follow(
                    paging,
                    guard,
                    seen,
                    next,
                    Position::Cursor,
                    paging.reply.next_cursor,
                ),
            }
        }
        PageKind::Token { .. } => match nonempty(seen.next_token) {
            None => Step::Done,
            Some(next) if seen.len == 0 => {
                let what = paging.reply.next_token;
                if guard.empty_tokens >= EMPTY_TOKEN_PAGES || guard.tokens.contains(&next) {
                    Step::Ended(format!(
                        "{} empty page(s) in a row still gave a {what}; taking the list as ended",
                        guard.empty_tokens + 1
                    ))
                } else if guard.pages >= paging.max_page {
                    Step::Capped
                } else {
                    guard.empty_tokens += 1;
                    guard.tokens.insert(next.clone());
                    Step::Go(Position::Token(next))
                }
            }
            Some(next) => {
                guard.empty_tokens = 0;
                follow(
                    paging,
                    guard,
                    seen,
                    next,
                    Position::Token,
                    paging.reply.next_token,
                )
            }
        },
        PageKind::Number { end, .. } => {
            let page = page_no(pos);
            let print = fingerprint(seen);
            let repeated = seen.len > 0 && page > 1 && guard.last == Some(print);
            guard.last = Some(print);
            if repeated {
                return Step::Broken(format!(
                    "page {page} holds the same records as page {}",
                    page - 1
                ));
            }
            if asked.bare {
                return Step::Done;
            }
            // An API may clamp the size we ask for: what it says it used counts.
            let size = seen
                .served_limit
                .map_or(u64::from(asked.limit), |l| l.min(u64::from(asked.limit)))
                .max(1);
            let full = seen.len as u64 >= size;
            let more = match (end, seen.total) {
                (PageEnd::HasNext, _) => seen.has_next.unwrap_or(full),
                (PageEnd::Total, Some(t)) => seen.read < t,
                (PageEnd::Total, None) => full,
            };
            if !more {
                Step::Done
            } else if seen.len == 0 {
                Step::Broken(format!("page {page} is empty but claims more pages"))
            } else if page >= paging.max_page {
                Step::Capped
            } else {
                Step::Go(Position::Page(page + 1))
            }
        }
    }
}

/// Follow a cursor or token unless it repeats, the page was empty, or the walk hit
/// its bound.
fn follow(
    paging: &Paging,
    guard: &mut Guard,
    seen: &Seen,
    next: String,
    to: fn(String) -> Position,
    what: &str,
) -> Step {
    if seen.len == 0 {
        Step::Broken(format!("an empty page gives a {what} to more pages"))
    } else if !guard.tokens.insert(next.clone()) {
        Step::Broken(format!(
            "the API returned a {what} it already returned (after {} pages)",
            guard.pages
        ))
    } else if guard.pages >= paging.max_page {
        Step::Capped
    } else {
        Step::Go(to(next))
    }
}

fn fingerprint(seen: &Seen) -> u64 {
    let mut h = DefaultHasher::new();
    seen.fingerprint.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::{Limit, Paging};

    const CURSOR: Paging = Paging::cursor("cursor", Limit::new("limit", 200, 100));
    const TOKEN: Paging = Paging::token("next_token", Limit::new("limit", 100, 20));
    const HAS_NEXT: Paging =
        Paging::pages("page", PageEnd::HasNext, Limit::new("limit", 50, 10), 3);
    const TOTAL: Paging = Paging::pages("page", PageEnd::Total, Limit::new("limit", 20, 20), 1000);
    const ASKED: Asked = Asked {
        limit: 2,
        bare: false,
    };

    fn seen(len: usize, first: &'static str) -> Seen<'static> {
        Seen {
            len,
            fingerprint: (len, first, first),
            ..Seen::default()
        }
    }

    #[test]
    fn cursor_walks_follow_next_cursor_until_has_next_page_is_false() {
        let mut g = Guard::default();
        let s = Seen {
            next_cursor: Some("a"),
            has_next: Some(true),
            ..seen(2, "1")
        };
        assert_eq!(
            step(&CURSOR, ASKED, &Position::First, &s, &mut g),
            Step::Go(Position::Cursor("a".into()))
        );
        let last = Seen {
            next_cursor: Some(""),
            has_next: Some(false),
            ..seen(1, "2")
        };
        assert_eq!(
            step(&CURSOR, ASKED, &Position::Cursor("a".into()), &last, &mut g),
            Step::Done
        );
        // No has_next_page at all: a cursor means more, none means the end.
        let mut g = Guard::default();
        let s = Seen {
            next_cursor: Some("b"),
            ..seen(1, "1")
        };
        assert_eq!(
            step(&CURSOR, ASKED, &Position::First, &s, &mut g),
            Step::Go(Position::Cursor("b".into()))
        );
        assert_eq!(
            step(&CURSOR, ASKED, &Position::First, &seen(1, "1"), &mut g),
            Step::Done
        );
    }

    #[test]
    fn cursor_walks_refuse_loops_and_missing_cursors() {
        let mut g = Guard::default();
        let s = Seen {
            next_cursor: Some("a"),
            has_next: Some(true),
            ..seen(2, "1")
        };
        assert!(matches!(
            step(&CURSOR, ASKED, &Position::First, &s, &mut g),
            Step::Go(_)
        ));
        let again = step(&CURSOR, ASKED, &Position::Cursor("a".into()), &s, &mut g);
        assert!(matches!(again, Step::Broken(m) if m.contains("already returned")));
        let mut g = Guard::default();
        let no_cursor = Seen {
            has_next: Some(true),
            next_cursor: Some(""),
            ..seen(2, "1")
        };
        let s = step(&CURSOR, ASKED, &Position::First, &no_cursor, &mut g);
        assert!(
            matches!(&s, Step::Broken(m) if m.contains("no next_cursor")),
            "{s:?}"
        );
        let empty = Seen {
            has_next: Some(true),
            next_cursor: Some("z"),
            ..seen(0, "")
        };
        let s = step(
            &CURSOR,
            ASKED,
            &Position::First,
            &empty,
            &mut Guard::default(),
        );
        assert!(
            matches!(&s, Step::Broken(m) if m.contains("empty page")),
            "{s:?}"
        );
    }

    #[test]
    fn token_walks_end_on_an_empty_or_missing_token() {
        let mut g = Guard::default();
        let s = Seen {
            next_token: Some("t1"),
            ..seen(2, "1")
        };
        assert_eq!(
            step(&TOKEN, ASKED, &Position::First, &s, &mut g),
            Step::Go(Position::Token("t1".into()))
        );
        let s2 = Seen {
            next_token: Some("t1"),
            ..seen(2, "2")
        };
        assert!(matches!(
            step(&TOKEN, ASKED, &Position::Token("t1".into()), &s2, &mut g),
            Step::Broken(_)
        ));
        for end in [None, Some("")] {
            let s = Seen {
                next_token: end,
                ..seen(2, "3")
            };
            assert_eq!(
                step(&TOKEN, ASKED, &Position::First, &s, &mut Guard::default()),
                Step::Done
            );
        }
    }

    #[test]
    fn an_empty_token_page_is_followed_a_little_then_ends_the_walk() {
        let mut g = Guard::default();
        let full = Seen {
            next_token: Some("t1"),
            ..seen(2, "1")
        };
        assert_eq!(
            step(&TOKEN, ASKED, &Position::First, &full, &mut g),
            Step::Go(Position::Token("t1".into()))
        );
        let mut pos = Position::Token("t1".into());
        let mut steps = Vec::new();
        for t in ["e1", "e2", "e3"] {
            let empty = Seen {
                next_token: Some(t),
                ..seen(0, "")
            };
            let s = step(&TOKEN, ASKED, &pos, &empty, &mut g);
            if let Step::Go(p) = &s {
                pos = p.clone();
            }
            steps.push(s);
        }
        assert_eq!(steps[0], Step::Go(Position::Token("e1".into())));
        assert_eq!(steps[1], Step::Go(Position::Token("e2".into())));
        assert!(
            matches!(&steps[2], Step::Ended(m) if m.contains("3 empty page(s)") && m.contains("next_token")),
            "{steps:?}"
        );
        // An empty page whose token repeats ends the walk too, never fails it.
        let mut g = Guard::default();
        step(&TOKEN, ASKED, &Position::First, &full, &mut g);
        let again = Seen {
            next_token: Some("t1"),
            ..seen(0, "")
        };
        let s = step(&TOKEN, ASKED, &Position::Token("t1".into()), &again, &mut g);
        assert!(matches!(&s, Step::Ended(_)), "{s:?}");
    }

    #[test]
    fn every_walk_is_bounded() {
        let bounded = Paging {
            max_page: 3,
            ..CURSOR
        };
        let mut g = Guard::default();
        let mut pos = Position::First;
        let cursors = ["a", "b", "c", "d"];
        let mut steps = Vec::new();
        for c in cursors {
            let s = Seen {
                next_cursor: Some(c),
                has_next: Some(true),
                ..seen(1, c)
            };
            let st = step(&bounded, ASKED, &pos, &s, &mut g);
            if let Step::Go(p) = &st {
                pos = p.clone();
            }
            steps.push(st);
        }
        assert_eq!(steps[2], Step::Capped, "{steps:?}");
        const { assert!(CURSOR.max_page < u32::MAX && TOKEN.max_page < u32::MAX) };
        for s in crate::streams::STREAMS.iter() {
            assert!(
                s.paging.max_page <= crate::streams::GUARD_PAGES,
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn page_number_walks_with_has_next_page() {
        let mut g = Guard::default();
        let more = Seen {
            has_next: Some(true),
            ..seen(2, "1")
        };
        assert_eq!(
            step(&HAS_NEXT, ASKED, &Position::First, &more, &mut g),
            Step::Go(Position::Page(2))
        );
        let more2 = Seen {
            has_next: Some(true),
            ..seen(2, "3")
        };
        assert_eq!(
            step(&HAS_NEXT, ASKED, &Position::Page(2), &more2, &mut g),
            Step::Go(Position::Page(3))
        );
        // Page 3 is the ceiling of this row: more exist, the walk is capped.
        let more3 = Seen {
            has_next: Some(true),
            ..seen(2, "5")
        };
        assert_eq!(
            step(&HAS_NEXT, ASKED, &Position::Page(3), &more3, &mut g),
            Step::Capped
        );
        // Without has_next_page, a full page means more.
        let mut g = Guard::default();
        assert_eq!(
            step(&HAS_NEXT, ASKED, &Position::First, &seen(2, "1"), &mut g),
            Step::Go(Position::Page(2))
        );
        assert_eq!(
            step(&HAS_NEXT, ASKED, &Position::Page(2), &seen(1, "3"), &mut g),
            Step::Done
        );
    }

    #[test]
    fn page_number_walks_with_total() {
        let mut g = Guard::default();
        let s = Seen {
            total: Some(5),
            read: 2,
            ..seen(2, "1")
        };
        assert_eq!(
            step(&TOTAL, ASKED, &Position::First, &s, &mut g),
            Step::Go(Position::Page(2))
        );
        let s = Seen {
            total: Some(4),
            read: 4,
            ..seen(2, "3")
        };
        assert_eq!(
            step(&TOTAL, ASKED, &Position::Page(2), &s, &mut g),
            Step::Done
        );
        let claims_more = Seen {
            total: Some(50),
            ..seen(0, "")
        };
        let s = step(&TOTAL, ASKED, &Position::Page(3), &claims_more, &mut g);
        assert!(
            matches!(&s, Step::Broken(m) if m.contains("page 3 is empty")),
            "{s:?}"
        );
    }

    #[test]
    fn an_api_that_clamps_our_page_size_is_read_to_the_end() {
        // We ask for 200, the API serves 100 (and says so, or not).
        let asked = Asked {
            limit: 200,
            bare: false,
        };
        let members = Paging::pages(
            "page",
            PageEnd::Total,
            Limit::new("limit", 200, 100),
            10_000,
        );
        let s = Seen {
            total: Some(250),
            read: 100,
            served_limit: Some(100),
            ..seen(100, "1")
        };
        assert_eq!(
            step(&members, asked, &Position::First, &s, &mut Guard::default()),
            Step::Go(Position::Page(2))
        );
        let s = Seen {
            total: Some(250),
            read: 200,
            ..seen(100, "2")
        };
        let mut g = Guard::default();
        assert_eq!(
            step(&members, asked, &Position::Page(2), &s, &mut g),
            Step::Go(Position::Page(3)),
            "total, not page × limit, says whether more exist"
        );
        let commerce = Paging::pages("page", PageEnd::HasNext, Limit::new("limit", 50, 10), 200);
        let s = Seen {
            served_limit: Some(20),
            ..seen(20, "1")
        };
        let asked = Asked {
            limit: 50,
            bare: false,
        };
        assert_eq!(
            step(
                &commerce,
                asked,
                &Position::First,
                &s,
                &mut Guard::default()
            ),
            Step::Go(Position::Page(2)),
            "a full page at the served size means more"
        );
    }

    #[test]
    fn a_repeated_page_is_a_loop() {
        let mut g = Guard::default();
        let s = Seen {
            has_next: Some(true),
            ..seen(2, "same")
        };
        assert!(matches!(
            step(&HAS_NEXT, ASKED, &Position::First, &s, &mut g),
            Step::Go(_)
        ));
        let st = step(&HAS_NEXT, ASKED, &Position::Page(2), &s, &mut g);
        assert!(
            matches!(&st, Step::Broken(m) if m.contains("page 2 holds the same records as page 1")),
            "{st:?}"
        );
    }

    #[test]
    fn a_bare_page_walk_reads_one_page() {
        let bare = Asked {
            limit: 10,
            bare: true,
        };
        let s = Seen {
            has_next: Some(true),
            ..seen(10, "1")
        };
        assert_eq!(
            step(&HAS_NEXT, bare, &Position::First, &s, &mut Guard::default()),
            Step::Done
        );
    }
}
