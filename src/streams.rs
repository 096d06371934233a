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

/// How a list endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// One response holds the whole list.
    None,
    /// `cursor` param ← `data.pagination.next_cursor`, stop on `has_next_page` false.
    Cursor { max_limit: u32 },
    /// `page` + `limit`; `data.pagination.has_next_page` says whether more exist.
    PageHasNext { max_limit: u32, max_page: u32 },
    /// `page` + `limit`; `data.pagination.total` says how many exist.
    PageTotal { max_limit: u32, max_page: u32 },
    /// `next_token` param ← `data.next_token` (Shipping).
    Token { max_limit: u32 },
}

/// The server-side time filter a list endpoint offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    /// `updated_at_min` / `updated_at_max` (filters on the cursor itself).
    UpdatedAt,
    /// `created_at_min` / `created_at_max` (only creation time can be filtered).
    CreatedAt,
}

/// Where a stream's requests come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list endpoint.
    List,
    /// Once per Commerce store, with the `as-store-id` header.
    PerStore,
    /// Once per order of each store, with `as-store-id` and `order_id`.
    PerOrder,
    /// A carrier location search per configured (or derived) search.
    LocationSearch,
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
    pub pagination: Pagination,
    pub filter: Filter,
    pub source: Source,
    /// Days of history the API serves at all (older records are gone).
    pub retention_days: Option<i64>,
    pub schema: &'static str,
}

impl StreamDef {
    pub fn incremental(&self) -> bool {
        self.cursor.is_some()
    }

    /// Parent ids the engine adds to each record as top-level fields.
    pub fn parent_fields(&self) -> &'static [&'static str] {
        match self.source {
            Source::PerStore => &["store_id"],
            Source::PerOrder => &["store_id", "order_id"],
            _ => &[],
        }
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

const CURSOR_200: Pagination = Pagination::Cursor { max_limit: 200 };
const COMMERCE_PAGES: Pagination = Pagination::PageHasNext {
    max_limit: 50,
    max_page: 200,
};
const PROTECTION_PAGES: Pagination = Pagination::PageTotal {
    max_limit: 20,
    max_page: 1000,
};
const SHIPPING_TOKENS: Pagination = Pagination::Token { max_limit: 100 };

#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    product: Product,
    path: &'static str,
    data_key: &'static str,
    primary_key: &'static [&'static str],
    cursor: Option<&'static str>,
    pagination: Pagination,
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
        pagination,
        filter,
        source,
        retention_days,
        schema,
    }
}

use Filter as F;
use Pagination as P;
use Product::*;
use Source as S;

const UPD: Option<&str> = Some("updated_at");
const ID: &[&str] = &["id"];

/// The table. Paths include the API version; the base URL comes from the config.
#[rustfmt::skip]
pub static STREAMS: [StreamDef; 22] = [
    row("trackings", Tracking, "/tracking/2025-07/trackings", "trackings", ID, UPD, CURSOR_200, F::UpdatedAt, S::List, Some(120), schema!("trackings")),
    row("couriers", Tracking, "/tracking/2025-07/couriers", "couriers", &["slug"], None, P::None, F::None, S::List, None, schema!("couriers")),
    row("courier_connections", Tracking, "/tracking/2025-07/courier-connections", "courier_connections", ID, UPD, CURSOR_200, F::None, S::List, None, schema!("courier_connections")),
    row("item_returns", Returns, "/returns/2025-07/returns", "returns", ID, None, P::PageTotal { max_limit: 50, max_page: 200 }, F::CreatedAt, S::List, Some(365), schema!("item_returns")),
    row("item_tags", Returns, "/returns/2025-07/item-tags", "item_tags", ID, Some("created_at"), P::None, F::None, S::List, None, schema!("item_tags")),
    row("query_claims", Protection, "/admin/2022-01/claims", "claims", ID, UPD, PROTECTION_PAGES, F::None, S::List, None, schema!("query_claims")),
    row("query_coverages", Protection, "/admin/2022-01/coverages", "coverages", ID, UPD, PROTECTION_PAGES, F::None, S::List, None, schema!("query_coverages")),
    row("stores", Commerce, "/commerce/2025-07/stores", "stores", ID, UPD, COMMERCE_PAGES, F::None, S::List, None, schema!("stores")),
    row("orders", Commerce, "/commerce/2025-07/orders", "orders", &["store_id", "id"], UPD, COMMERCE_PAGES, F::None, S::PerStore, None, schema!("orders")),
    row("products", Commerce, "/commerce/2025-07/products", "products", &["store_id", "id"], None, COMMERCE_PAGES, F::None, S::PerStore, None, schema!("products")),
    row("fulfillments", Commerce, "/commerce/2025-07/fulfillments", "fulfillments", &["store_id", "order_id", "id"], UPD, COMMERCE_PAGES, F::None, S::PerOrder, None, schema!("fulfillments")),
    row("memberships", Members, "/admin/2022-01/memberships", "memberships", ID, None, P::PageTotal { max_limit: 200, max_page: u32::MAX }, F::None, S::List, None, schema!("memberships")),
    row("roles", Members, "/admin/2022-01/roles", "roles", &["code"], None, P::None, F::None, S::List, None, schema!("roles")),
    row("shipping_rates", Shipping, "/postmen/v3/rates", "rates", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("shipping_rates")),
    row("shipping_labels", Shipping, "/postmen/v3/labels", "labels", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("shipping_labels")),
    row("shipping_manifests", Shipping, "/postmen/v3/manifests", "manifests", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("shipping_manifests")),
    row("shipping_couriers", Shipping, "/postmen/v3/couriers", "couriers", &["slug"], None, P::None, F::None, S::List, None, schema!("shipping_couriers")),
    row("cancel_labels", Shipping, "/postmen/v3/cancel-labels", "cancel_labels", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("cancel_labels")),
    row("pickups", Shipping, "/postmen/v3/pickups", "pickups", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("pickups")),
    row("cancel_pickups", Shipping, "/postmen/v3/cancel-pickups", "cancel_pickups", ID, UPD, SHIPPING_TOKENS, F::CreatedAt, S::List, None, schema!("cancel_pickups")),
    row("shipper_accounts", Shipping, "/postmen/v3/shipper-accounts", "shipper_accounts", ID, UPD, SHIPPING_TOKENS, F::None, S::List, None, schema!("shipper_accounts")),
    row("locations", Shipping, "/postmen/v3/locations", "locations", &["location_id"], None, P::None, F::None, S::LocationSearch, None, schema!("locations")),
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
