//! Page sizes per endpoint, and the fallback when an API refuses ours.
//!
//! Where AfterShip documents no maximum `limit` (Shipping, stores) we ask for our
//! best guess. If an API refuses the size we send (Shipping's HTTP-200 `meta.code`
//! 4104 naming `limit`, Commerce/Returns/Protection's 422, Tracking's 400), the
//! request is asked again with the API's documented default size, and that endpoint
//! keeps the default for the rest of the sync. If the API refuses paging parameters
//! altogether (fulfillments: "include only one of `order_id` or `ids[]`, all other
//! parameters should be omitted"), it is asked without them. Each step is said once
//! per endpoint in a WARN.

use crate::http::ApiError;
use crate::protocol::{LogLevel, Output};
use crate::streams::StreamDef;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How an endpoint's pages are asked for, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sizing {
    /// No paging parameters at all (page-number walks then read one page).
    Bare,
    /// The API's documented default `limit`.
    Default,
    /// Our size: the documented maximum, our guess, or the configured `page_size`.
    Max,
}

/// The sizing of each endpoint for one sync, shared by every walk; it says when it
/// lowers one.
pub struct PageSizes {
    by_path: Mutex<HashMap<&'static str, Sizing>>,
    out: Arc<Output>,
}

impl PageSizes {
    pub fn new(out: Arc<Output>) -> PageSizes {
        PageSizes {
            by_path: Mutex::new(HashMap::new()),
            out,
        }
    }

    pub fn get(&self, path: &str) -> Sizing {
        self.by_path
            .lock()
            .ok()
            .and_then(|m| m.get(path).copied())
            .unwrap_or(Sizing::Max)
    }

    /// Lower `def`'s endpoint to at most `to`; returns the sizing now in force.
    /// The first walk to lower an endpoint says so in a WARN.
    pub fn lower(&self, def: &StreamDef, to: Sizing, refusal: &ApiError) -> Sizing {
        let Ok(mut map) = self.by_path.lock() else {
            return to;
        };
        let now = map.entry(def.path).or_insert(Sizing::Max);
        if to >= *now {
            return *now;
        }
        *now = to;
        self.out
            .log(LogLevel::Warn, &lowered_message(def, to, refusal));
        to
    }
}

fn lowered_message(def: &StreamDef, to: Sizing, refusal: &ApiError) -> String {
    let what = match (to, def.paging.limit, def.paging.page_param()) {
        (Sizing::Default, Some(l), _) => format!(
            "asking with its documented default page size ({}={}) for the rest of this sync",
            l.param, l.default
        ),
        (_, Some(l), Some(page)) => format!(
            "asking without {page} or {} for the rest of this sync; each such request reads the one page the API answers",
            l.param
        ),
        _ => "asking without a page size for the rest of this sync".to_string(),
    };
    format!(
        "stream {}: {} refused our paging parameters ({refusal}); {what}",
        def.name, def.path
    )
}

/// Which paging parameters a refusal names, if it is a refusal of the request
/// (HTTP 400/422, or Shipping's HTTP-200 error code) that names any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    pub limit: bool,
    pub page: bool,
}

pub fn paging_refusal(def: &StreamDef, e: &ApiError) -> Option<Named> {
    let ApiError::Refused {
        status, message, ..
    } = e
    else {
        return None;
    };
    if !matches!(status, 200 | 400 | 422) {
        return None;
    }
    let limit = def.paging.limit.map(|l| l.param)?;
    let page = def.paging.page_param();
    let words: Vec<String> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_ascii_lowercase)
        .collect();
    let names = |p: &str| words.iter().any(|w| w == p);
    let named = Named {
        limit: names(limit),
        page: page.is_some_and(names),
    };
    (named.limit || named.page).then_some(named)
}

/// The next sizing after a refusal naming `named` at `now`: our size → the default
/// (when it is smaller and only `limit` was named) → no paging parameters.
pub fn after(now: Sizing, named: Named, ours_is_default: bool) -> Option<Sizing> {
    match now {
        Sizing::Max if !named.page && !ours_is_default => Some(Sizing::Default),
        Sizing::Max | Sizing::Default => Some(Sizing::Bare),
        Sizing::Bare => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::{Product, find};

    fn refused(status: u16, message: &str) -> ApiError {
        ApiError::Refused {
            product: Product::Shipping,
            status,
            code: Some(4104),
            message: message.into(),
        }
    }

    #[test]
    fn recognises_refusals_that_name_paging_parameters() {
        let labels = find("shipping_labels").unwrap();
        let e = refused(
            200,
            "The request was invalid or cannot be otherwise served.; limit must be at most 50",
        );
        assert_eq!(
            paging_refusal(labels, &e),
            Some(Named {
                limit: true,
                page: false
            })
        );
        let f = find("fulfillments").unwrap();
        let e = refused(
            400,
            "Include only one of order_id or ids[]. All other parameters should be omitted.; page must be omitted; limit must be omitted",
        );
        assert_eq!(
            paging_refusal(f, &e),
            Some(Named {
                limit: true,
                page: true
            })
        );
        for other in [
            refused(400, "created_at_min must match YYYY-MM-DDTHH:mm:ss+HH:MM"),
            refused(404, "limit"),
            refused(422, "the limitation of this plan"),
        ] {
            assert_eq!(paging_refusal(labels, &other), None, "{other}");
        }
        assert_eq!(
            paging_refusal(find("roles").unwrap(), &e),
            None,
            "no paging"
        );
    }

    #[test]
    fn the_warning_names_the_rows_parameters() {
        let e = refused(422, "limit");
        let m = lowered_message(find("orders").unwrap(), Sizing::Bare, &e);
        assert!(m.contains("asking without page or limit"), "{m}");
        let m = lowered_message(find("shipping_labels").unwrap(), Sizing::Default, &e);
        assert!(m.contains("page size (limit=20)"), "{m}");
        let m = lowered_message(find("shipping_labels").unwrap(), Sizing::Bare, &e);
        assert!(m.contains("without a page size"), "{m}");
    }

    #[test]
    fn steps_down_one_rung_at_a_time() {
        let limit_only = Named {
            limit: true,
            page: false,
        };
        let page_too = Named {
            limit: true,
            page: true,
        };
        assert_eq!(after(Sizing::Max, limit_only, false), Some(Sizing::Default));
        assert_eq!(after(Sizing::Max, limit_only, true), Some(Sizing::Bare));
        assert_eq!(after(Sizing::Max, page_too, false), Some(Sizing::Bare));
        assert_eq!(
            after(Sizing::Default, limit_only, false),
            Some(Sizing::Bare)
        );
        assert_eq!(after(Sizing::Bare, limit_only, false), None);
    }

    #[test]
    fn an_endpoint_is_lowered_once_and_never_raised() {
        let sizes = PageSizes::new(Arc::new(Output::new(Box::new(std::io::sink()))));
        let labels = find("shipping_labels").unwrap();
        let e = refused(200, "limit");
        assert_eq!(sizes.get(labels.path), Sizing::Max);
        assert_eq!(sizes.lower(labels, Sizing::Default, &e), Sizing::Default);
        assert_eq!(sizes.lower(labels, Sizing::Max, &e), Sizing::Default);
        assert_eq!(sizes.get(labels.path), Sizing::Default);
        assert_eq!(sizes.get(find("pickups").unwrap().path), Sizing::Max);
    }
}
