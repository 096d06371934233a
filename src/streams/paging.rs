//! How a list endpoint pages: the parameter names it takes, the bounds it sets, and
//! the keys of its reply that say where the list goes on.

/// How a list endpoint pages, with its parameter names, bounds and reply keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub kind: PageKind,
    /// The page-size parameter; None when the endpoint takes none.
    pub limit: Option<Limit>,
    /// Pages one query may walk: the API's documented ceiling (Commerce and
    /// Returns 200, Protection 1000) or, where none is documented, a guard so
    /// that no walk is unbounded. Reaching it is reported as a truncated listing.
    pub max_page: u32,
    /// Where a page's body says how the list goes on.
    pub reply: Reply,
}

/// How the next page is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// One response holds the whole list.
    None,
    /// `param` ← the reply's next cursor, until it says there is no next page.
    Cursor { param: &'static str },
    /// Page numbers in `param` (1, 2, …); `end` says how the API tells the last page.
    Number { param: &'static str, end: PageEnd },
    /// `param` ← the reply's next token, until it is empty (Shipping).
    Token { param: &'static str },
}

/// How a page-number API says whether more pages exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    /// The reply's has-next flag.
    HasNext,
    /// The reply's total (records read < total means more).
    Total,
}

/// A page-size parameter: the largest value we ask for (the documented maximum, or
/// our guess where none is documented) and the API's documented default, which is
/// what we fall back to when the API refuses the larger value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub param: &'static str,
    pub max: u32,
    pub default: u32,
}

/// The keys of a list reply, under `data`, that say where the list goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The object that holds the next cursor, the has-next flag, the total and
    /// the page size served.
    pub pagination: &'static str,
    pub next_cursor: &'static str,
    pub has_next: &'static str,
    pub total: &'static str,
    /// The page size the API says it used (it may clamp ours).
    pub limit: &'static str,
    /// Token walks: the next token, directly under `data`.
    pub next_token: &'static str,
    /// A total directly under `data` (Tracking couriers).
    pub data_total: &'static str,
}

/// Every AfterShip product names these parts of its replies alike (fact sheet §8).
pub const AFTERSHIP_REPLY: Reply = Reply {
    pagination: "pagination",
    next_cursor: "next_cursor",
    has_next: "has_next_page",
    total: "total",
    limit: "limit",
    next_token: "next_token",
    data_total: "total",
};

/// Walks without a documented page ceiling stop here (and say so): at 200 records
/// a page that is 200 million records for one query.
pub const GUARD_PAGES: u32 = 1_000_000;

impl Paging {
    pub const fn none() -> Paging {
        Paging {
            kind: PageKind::None,
            limit: None,
            max_page: 1,
            reply: AFTERSHIP_REPLY,
        }
    }
    pub const fn cursor(param: &'static str, limit: Limit) -> Paging {
        Paging {
            kind: PageKind::Cursor { param },
            limit: Some(limit),
            max_page: GUARD_PAGES,
            reply: AFTERSHIP_REPLY,
        }
    }
    pub const fn token(param: &'static str, limit: Limit) -> Paging {
        Paging {
            kind: PageKind::Token { param },
            limit: Some(limit),
            max_page: GUARD_PAGES,
            reply: AFTERSHIP_REPLY,
        }
    }
    pub const fn pages(param: &'static str, end: PageEnd, limit: Limit, max_page: u32) -> Paging {
        Paging {
            kind: PageKind::Number { param, end },
            limit: Some(limit),
            max_page,
            reply: AFTERSHIP_REPLY,
        }
    }

    /// The page-number parameter, for page-number walks.
    pub fn page_param(&self) -> Option<&'static str> {
        match self.kind {
            PageKind::Number { param, .. } => Some(param),
            _ => None,
        }
    }
}

impl Limit {
    pub const fn new(param: &'static str, max: u32, default: u32) -> Limit {
        Limit {
            param,
            max,
            default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_page_number_walks_have_a_page_parameter() {
        let l = Limit::new("limit", 50, 10);
        assert_eq!(
            Paging::pages("page", PageEnd::Total, l, 200).page_param(),
            Some("page")
        );
        assert_eq!(Paging::cursor("cursor", l).page_param(), None);
        assert_eq!(Paging::none().page_param(), None);
        assert_eq!(Paging::token("next_token", l).max_page, GUARD_PAGES);
    }
}
