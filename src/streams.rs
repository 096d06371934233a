//! The 22 AfterShip streams as rows of one table, and the catalog built from it.
//!
//! Every per-stream difference (API product, path, where records sit, key, cursor,
//! pagination, server-side filter, parent) is a field here; the read engine has no
//! per-stream branches.

use serde_json::{Value, json};

/// The six AfterShip API products. Each has its own envelope dialect, rate limit
/// and permission (a key may be denied one product and allowed the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Tracking,
    Returns,
    Protection,
    Commerce,
    Members,
    Shipping,
}

impl Product {
    pub const ALL: [Product; 6] = [
        Product::Tracking,
        Product::Returns,
        Product::Protection,
        Product::Commerce,
        Product::Members,
        Product::Shipping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Product::Tracking => "Tracking",
            Product::Returns => "Returns",
            Product::Protection => "Protection",
            Product::Commerce => "Commerce",
            Product::Members => "Members",
            Product::Shipping => "Shipping",
        }
    }

    /// A cheap request that proves the key works for this product (`check`).
    pub fn probe(self) -> (&'static str, &'static [(&'static str, &'static str)]) {
        match self {
            Product::Tracking => ("/tracking/2025-07/trackings", &[("limit", "1")]),
            Product::Returns => ("/returns/2025-07/returns", &[("limit", "1")]),
            Product::Protection => ("/admin/2022-01/coverages", &[("limit", "1")]),
            Product::Commerce => ("/commerce/2025-07/stores", &[("limit", "1")]),
            Product::Members => ("/admin/2022-01/roles", &[]),
            Product::Shipping => ("/postmen/v3/shipper-accounts", &[("limit", "1")]),
        }
    }

    /// Documented requests per second. Tracking limits each endpoint on its own;
    /// the other products limit the whole organisation.
    pub fn rate_limit(self, path: &str) -> u32 {
        match self {
            Product::Tracking if path.ends_with("/trackings") => 6,
            Product::Tracking => 5,
            _ => 10,
        }
    }

    /// The rate-limit bucket a request to `path` counts against.
    pub fn limit_key(self, path: &str) -> String {
        match self {
            Product::Tracking => format!("tracking:{path}"),
            other => other.name().to_string(),
        }
    }
}

/// How a list endpoint pages, with its parameter names and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub kind: PageKind,
    /// The page-size parameter; None when the endpoint takes none.
    pub limit: Option<Limit>,
    /// Pages one query may walk: the API's documented ceiling (Commerce and
    /// Returns 200, Protection 1000) or, where none is documented, a guard so
    /// that no walk is unbounded. Reaching it is reported as a truncated listing.
    pub max_page: u32,
}

/// How the next page is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// One response holds the whole list.
    None,
    /// `param` ← `data.pagination.next_cursor`, until `has_next_page` is false.
    Cursor { param: &'static str },
    /// Page numbers in `param` (1, 2, …); `end` says how the API tells the last page.
    Number { param: &'static str, end: PageEnd },
    /// `param` ← `data.next_token`, until it is empty (Shipping).
    Token { param: &'static str },
}

/// How a page-number API says whether more pages exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    /// `data.pagination.has_next_page`.
    HasNext,
    /// `data.pagination.total` (page × limit < total means more).
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

/// Walks without a documented page ceiling stop here (and say so): at 200 records
/// a page that is 200 million records for one query.
pub const GUARD_PAGES: u32 = 1_000_000;

impl Paging {
    pub const fn none() -> Paging {
        Paging {
            kind: PageKind::None,
            limit: None,
            max_page: 1,
        }
    }
    pub const fn cursor(param: &'static str, limit: Limit) -> Paging {
        Paging {
            kind: PageKind::Cursor { param },
            limit: Some(limit),
            max_page: GUARD_PAGES,
        }
    }
    pub const fn token(param: &'static str, limit: Limit) -> Paging {
        Paging {
            kind: PageKind::Token { param },
            limit: Some(limit),
            max_page: GUARD_PAGES,
        }
    }
    pub const fn pages(param: &'static str, end: PageEnd, limit: Limit, max_page: u32) -> Paging {
        Paging {
            kind: PageKind::Number { param, end },
            limit: Some(limit),
            max_page,
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

/// Sort orders a list endpoint offers (Commerce orders), each a parameter value and
/// the record field it sorts on. They let a read reach past a listing ceiling and
/// stop early on incremental reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorts {
    pub param: &'static str,
    /// Newest update first: incremental reads stop once they pass the cursor.
    pub updated_desc: Sort,
    /// Newest creation first (the API's default order).
    pub created_desc: Sort,
    /// Oldest creation first: the far end of a listing the ceiling cuts.
    pub created_asc: Sort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub value: &'static str,
    pub field: &'static str,
}

/// The server-side time filter a list endpoint offers, with its parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    /// On the update time, the cursor itself (Tracking `updated_at_min/max`).
    UpdatedAt {
        min: &'static str,
        max: &'static str,
    },
    /// On the creation time only (Returns, Shipping `created_at_min/max`).
    CreatedAt {
        min: &'static str,
        max: &'static str,
    },
}

impl Filter {
    /// The (min, max) parameter names, where the API filters on time.
    pub fn params(self) -> Option<(&'static str, &'static str)> {
        match self {
            Filter::None => None,
            Filter::UpdatedAt { min, max } | Filter::CreatedAt { min, max } => Some((min, max)),
        }
    }

    pub fn on_creation(self) -> bool {
        matches!(self, Filter::CreatedAt { .. })
    }
}

const UPDATED_AT: Filter = Filter::UpdatedAt {
    min: "updated_at_min",
    max: "updated_at_max",
};
const CREATED_AT: Filter = Filter::CreatedAt {
    min: "created_at_min",
    max: "created_at_max",
};

/// Where a stream's requests come from: one list, or one request target per
/// record of a parent stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list endpoint.
    List,
    /// Once per record of `parent` (Commerce stores), whose id goes in the
    /// `as-store-id` header and onto each record as `store_id`.
    PerStore { parent: &'static str },
    /// Once per record of `parent` (orders, itself read per store), whose id goes
    /// in the query parameter `param` and onto each record as `order_id`.
    PerOrder {
        parent: &'static str,
        param: &'static str,
    },
    /// A carrier location search per configured search, or per distinct carrier
    /// and address of the records of `parent` (shipper accounts).
    LocationSearch { parent: &'static str },
}

#[derive(Debug, Clone, Copy)]
pub struct StreamDef {
    pub name: &'static str,
    pub product: Product,
    pub path: &'static str,
    /// The key under `data` that holds the records.
    pub data_key: &'static str,
    pub primary_key: &'static [&'static str],
    /// The cursor field of incremental streams; None for full-refresh-only streams.
    pub cursor: Option<&'static str>,
    pub paging: Paging,
    pub filter: Filter,
    pub source: Source,
    /// Days of history the API serves at all (older records are gone).
    pub retention_days: Option<i64>,
    pub schema: &'static str,
    /// Sort orders the endpoint offers, if any.
    pub sorts: Option<Sorts>,
    /// Top-level fields whose values are carrier secrets: every value under them is
    /// replaced by null unless the config asks for them (`include_carrier_credentials`).
    pub withheld: &'static [&'static str],
}

impl StreamDef {
    pub fn incremental(&self) -> bool {
        self.cursor.is_some()
    }

    /// Parent ids the engine adds to each record as top-level fields.
    pub fn parent_fields(&self) -> &'static [&'static str] {
        match self.source {
            Source::PerStore { .. } => &["store_id"],
            Source::PerOrder { .. } => &["store_id", "order_id"],
            _ => &[],
        }
    }

    /// The primary key fields the API itself sets (the key without parent ids).
    pub fn own_key(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.primary_key
            .iter()
            .copied()
            .filter(|k| !self.parent_fields().contains(k))
    }

    pub fn json_schema(&self) -> Value {
        serde_json::from_str(self.schema).unwrap_or_else(|_| json!({"type": "object"}))
    }

    /// The AirbyteStream of this row.
    pub fn airbyte_stream(&self) -> Value {
        let mut s = json!({
            "name": self.name,
            "json_schema": self.json_schema(),
            "supported_sync_modes": if self.incremental() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
            "source_defined_primary_key": self.primary_key.iter().map(|k| json!([k])).collect::<Vec<_>>(),
            "is_resumable": self.incremental(),
        });
        if let Some(cursor) = self.cursor {
            s["source_defined_cursor"] = json!(true);
            s["default_cursor_field"] = json!([cursor]);
        }
        s
    }
}

macro_rules! schema {
    ($name:literal) => {
        include_str!(concat!("schemas/", $name, ".json"))
    };
}

const TRACKING_CURSOR: Paging = Paging::cursor("cursor", Limit::new("limit", 200, 100));
const RETURNS_PAGES: Paging =
    Paging::pages("page", PageEnd::Total, Limit::new("limit", 50, 10), 200);
const PROTECTION_PAGES: Paging =
    Paging::pages("page", PageEnd::Total, Limit::new("limit", 20, 20), 1000);
/// Commerce lists: `limit` 1–50 (default 10), `page` ≤ 200. The stores maximum is
/// not documented (default 10): 50 is our guess, and a refusal falls back to 10.
const COMMERCE_PAGES: Paging =
    Paging::pages("page", PageEnd::HasNext, Limit::new("limit", 50, 10), 200);
/// Members: `limit` ≤ 200 (default 100); no page ceiling is documented.
const MEMBERS_PAGES: Paging = Paging::pages(
    "page",
    PageEnd::Total,
    Limit::new("limit", 200, 100),
    10_000,
);
/// Shipping: the maximum `limit` is not documented (examples use 20): 100 is our
/// guess, and a refusal falls back to 20.
const SHIPPING_TOKENS: Paging = Paging::token("next_token", Limit::new("limit", 100, 20));
const WHOLE: Paging = Paging::none();

/// Commerce orders (fact sheet §8): `sort` = ±source_created_at, ±source_updated_at.
const ORDER_SORTS: Sorts = Sorts {
    param: "sort",
    updated_desc: Sort {
        value: "-source_updated_at",
        field: "source_updated_at",
    },
    created_desc: Sort {
        value: "-source_created_at",
        field: "source_created_at",
    },
    created_asc: Sort {
        value: "+source_created_at",
        field: "source_created_at",
    },
};

#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    product: Product,
    path: &'static str,
    data_key: &'static str,
    primary_key: &'static [&'static str],
    cursor: Option<&'static str>,
    paging: Paging,
    filter: Filter,
    source: Source,
    retention_days: Option<i64>,
    schema: &'static str,
) -> StreamDef {
    StreamDef {
        name,
        product,
        path,
        data_key,
        primary_key,
        cursor,
        paging,
        filter,
        source,
        retention_days,
        schema,
        sorts: None,
        withheld: &[],
    }
}

impl StreamDef {
    const fn sorted(self, sorts: Sorts) -> StreamDef {
        StreamDef {
            sorts: Some(sorts),
            ..self
        }
    }

    const fn withholding(self, fields: &'static [&'static str]) -> StreamDef {
        StreamDef {
            withheld: fields,
            ..self
        }
    }
}

use Filter as F;
use Product::*;
use Source as S;

const UPD: Option<&str> = Some("updated_at");
const ID: &[&str] = &["id"];

/// The table. Paths include the API version; the base URL comes from the config.
#[rustfmt::skip]
pub static STREAMS: [StreamDef; 22] = [
    row("trackings", Tracking, "/tracking/2025-07/trackings", "trackings", ID, UPD, TRACKING_CURSOR, UPDATED_AT, S::List, Some(120), schema!("trackings")),
    row("couriers", Tracking, "/tracking/2025-07/couriers", "couriers", &["slug"], None, WHOLE, F::None, S::List, None, schema!("couriers")),
    row("courier_connections", Tracking, "/tracking/2025-07/courier-connections", "courier_connections", ID, UPD, TRACKING_CURSOR, F::None, S::List, None, schema!("courier_connections")).withholding(&["credentials"]),
    row("item_returns", Returns, "/returns/2025-07/returns", "returns", ID, None, RETURNS_PAGES, CREATED_AT, S::List, Some(365), schema!("item_returns")),
    row("item_tags", Returns, "/returns/2025-07/item-tags", "item_tags", ID, Some("created_at"), WHOLE, F::None, S::List, None, schema!("item_tags")),
    row("query_claims", Protection, "/admin/2022-01/claims", "claims", ID, UPD, PROTECTION_PAGES, F::None, S::List, None, schema!("query_claims")),
    row("query_coverages", Protection, "/admin/2022-01/coverages", "coverages", ID, UPD, PROTECTION_PAGES, F::None, S::List, None, schema!("query_coverages")),
    row("stores", Commerce, "/commerce/2025-07/stores", "stores", ID, UPD, COMMERCE_PAGES, F::None, S::List, None, schema!("stores")),
    row("orders", Commerce, "/commerce/2025-07/orders", "orders", &["store_id", "id"], UPD, COMMERCE_PAGES, F::None, S::PerStore { parent: "stores" }, None, schema!("orders")).sorted(ORDER_SORTS),
    row("products", Commerce, "/commerce/2025-07/products", "products", &["store_id", "id"], None, COMMERCE_PAGES, F::None, S::PerStore { parent: "stores" }, None, schema!("products")),
    row("fulfillments", Commerce, "/commerce/2025-07/fulfillments", "fulfillments", &["store_id", "order_id", "id"], UPD, COMMERCE_PAGES, F::None, S::PerOrder { parent: "orders", param: "order_id" }, None, schema!("fulfillments")),
    row("memberships", Members, "/admin/2022-01/memberships", "memberships", ID, None, MEMBERS_PAGES, F::None, S::List, None, schema!("memberships")),
    row("roles", Members, "/admin/2022-01/roles", "roles", &["code"], None, WHOLE, F::None, S::List, None, schema!("roles")),
    row("shipping_rates", Shipping, "/postmen/v3/rates", "rates", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("shipping_rates")),
    row("shipping_labels", Shipping, "/postmen/v3/labels", "labels", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("shipping_labels")),
    row("shipping_manifests", Shipping, "/postmen/v3/manifests", "manifests", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("shipping_manifests")),
    row("shipping_couriers", Shipping, "/postmen/v3/couriers", "couriers", &["slug"], None, WHOLE, F::None, S::List, None, schema!("shipping_couriers")),
    row("cancel_labels", Shipping, "/postmen/v3/cancel-labels", "cancel_labels", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("cancel_labels")),
    row("pickups", Shipping, "/postmen/v3/pickups", "pickups", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("pickups")),
    row("cancel_pickups", Shipping, "/postmen/v3/cancel-pickups", "cancel_pickups", ID, UPD, SHIPPING_TOKENS, CREATED_AT, S::List, None, schema!("cancel_pickups")),
    row("shipper_accounts", Shipping, "/postmen/v3/shipper-accounts", "shipper_accounts", ID, UPD, SHIPPING_TOKENS, F::None, S::List, None, schema!("shipper_accounts")),
    row("locations", Shipping, "/postmen/v3/locations", "locations", &["location_id"], None, WHOLE, F::None, S::LocationSearch { parent: "shipper_accounts" }, None, schema!("locations")),
];

pub fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The CATALOG payload of `discover`.
pub fn catalog() -> Value {
    json!({"streams": STREAMS.iter().map(StreamDef::airbyte_stream).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_two_unique_streams_with_their_modes_and_keys() {
        assert_eq!(STREAMS.len(), 22);
        let mut names: Vec<_> = STREAMS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 22);
        let full: Vec<_> = STREAMS
            .iter()
            .filter(|s| !s.incremental())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            full,
            [
                "couriers",
                "item_returns",
                "products",
                "memberships",
                "roles",
                "shipping_couriers",
                "locations"
            ]
        );
        assert_eq!(find("item_tags").unwrap().cursor, Some("created_at"));
        assert_eq!(find("roles").unwrap().primary_key, ["code"]);
        assert_eq!(find("locations").unwrap().primary_key, ["location_id"]);
        assert_eq!(
            find("fulfillments").unwrap().primary_key,
            ["store_id", "order_id", "id"]
        );
        assert!(
            STREAMS
                .iter()
                .all(|s| s.path.starts_with('/') && !s.path.contains("//"))
        );
    }

    #[test]
    fn every_schema_compiles_and_has_key_and_cursor() {
        for s in &STREAMS {
            let schema: Value = serde_json::from_str(s.schema).expect(s.name);
            assert!(jsonschema::draft7::new(&schema).is_ok(), "{}", s.name);
            let props = &schema["properties"];
            for k in s.primary_key {
                assert!(props.get(*k).is_some(), "{} lacks key {k}", s.name);
            }
            if let Some(c) = s.cursor {
                assert_eq!(props[c]["format"], "date-time", "{} cursor {c}", s.name);
            }
        }
    }
}
