//! The table: the 22 streams, one row each. Paths include the API version; the
//! base URL comes from the config. Each product's rows start from that product's
//! defaults; a row names only what differs.

use super::StreamDef;
use super::paging::{Limit, PageEnd, Paging};
use super::product::Product;
use super::query::{Filter, Sort, Sorts};
use super::source::{Gone, Inject, Link, Search, Source};

macro_rules! schema {
    ($name:literal) => {
        include_str!(concat!("../schemas/", $name, ".json"))
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

const UPDATED_AT: Filter = Filter::UpdatedAt {
    min: "updated_at_min",
    max: "updated_at_max",
    field: "updated_at",
};
const CREATED_AT: Filter = Filter::CreatedAt {
    min: "created_at_min",
    max: "created_at_max",
    field: "created_at",
};

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

/// Commerce children: the store id travels in the `as-store-id` header.
const PER_STORE: Source = Source::Child(Link {
    parent: "stores",
    parent_key: "id",
    inject: Inject::Header("as-store-id"),
    carry_as: &["store_id"],
});

/// Fulfillments: per order of each store, `order_id` in the query.
const PER_ORDER: Source = Source::Child(Link {
    parent: "orders",
    parent_key: "id",
    inject: Inject::Query("order_id"),
    carry_as: &["store_id", "order_id"],
});

/// Carrier location searches from each shipper account's carrier and address.
const FROM_SHIPPER_ACCOUNTS: Source = Source::Search(Search {
    parent: "shipper_accounts",
    params: &[
        ("slug", &["slug"]),
        ("country", &["address.country"]),
        ("postal_code", &["address.postal_code"]),
        ("city", &["address.city"]),
        ("state", &["address.state"]),
        (
            "street",
            &["address.street1", "address.street_1", "address.street"],
        ),
    ],
});

const UPD: Option<&str> = Some("updated_at");

/// What a row is unless it says otherwise. Every product but Tracking limits the
/// whole organisation to 10 requests per second.
const BASE: StreamDef = StreamDef {
    name: "",
    product: Product::Tracking,
    path: "",
    data_key: "",
    primary_key: &["id"],
    cursor: None,
    paging: WHOLE,
    filter: Filter::None,
    source: Source::List,
    retention_days: None,
    schema: "{}",
    sorts: None,
    withheld: &[],
    probe: false,
    rate: 10,
    gone: None,
};

/// Tracking limits each endpoint on its own: 5 requests per second, 6 for
/// trackings.
const TRACKING: StreamDef = StreamDef {
    product: Product::Tracking,
    cursor: UPD,
    paging: TRACKING_CURSOR,
    rate: 5,
    ..BASE
};
const RETURNS: StreamDef = StreamDef {
    product: Product::Returns,
    ..BASE
};
const PROTECTION: StreamDef = StreamDef {
    product: Product::Protection,
    cursor: UPD,
    paging: PROTECTION_PAGES,
    ..BASE
};
const COMMERCE: StreamDef = StreamDef {
    product: Product::Commerce,
    paging: COMMERCE_PAGES,
    ..BASE
};
const MEMBERS: StreamDef = StreamDef {
    product: Product::Members,
    ..BASE
};
const SHIPPING: StreamDef = StreamDef {
    product: Product::Shipping,
    cursor: UPD,
    paging: SHIPPING_TOKENS,
    filter: CREATED_AT,
    ..BASE
};

/// The table. `probe: true` marks each product's cheap list that `check` asks
/// for one record of.
pub static STREAMS: [StreamDef; 22] = [
    StreamDef {
        name: "trackings",
        path: "/tracking/2025-07/trackings",
        data_key: "trackings",
        filter: UPDATED_AT,
        retention_days: Some(120),
        schema: schema!("trackings"),
        probe: true,
        rate: 6,
        ..TRACKING
    },
    StreamDef {
        name: "couriers",
        path: "/tracking/2025-07/couriers",
        data_key: "couriers",
        primary_key: &["slug"],
        cursor: None,
        paging: WHOLE,
        schema: schema!("couriers"),
        ..TRACKING
    },
    StreamDef {
        name: "courier_connections",
        path: "/tracking/2025-07/courier-connections",
        data_key: "courier_connections",
        schema: schema!("courier_connections"),
        withheld: &["credentials"],
        ..TRACKING
    },
    StreamDef {
        name: "item_returns",
        path: "/returns/2025-07/returns",
        data_key: "returns",
        paging: RETURNS_PAGES,
        filter: CREATED_AT,
        retention_days: Some(365),
        schema: schema!("item_returns"),
        probe: true,
        ..RETURNS
    },
    StreamDef {
        name: "item_tags",
        path: "/returns/2025-07/item-tags",
        data_key: "item_tags",
        cursor: Some("created_at"),
        schema: schema!("item_tags"),
        ..RETURNS
    },
    StreamDef {
        name: "query_claims",
        path: "/admin/2022-01/claims",
        data_key: "claims",
        schema: schema!("query_claims"),
        ..PROTECTION
    },
    StreamDef {
        name: "query_coverages",
        path: "/admin/2022-01/coverages",
        data_key: "coverages",
        schema: schema!("query_coverages"),
        probe: true,
        ..PROTECTION
    },
    StreamDef {
        name: "stores",
        path: "/commerce/2025-07/stores",
        data_key: "stores",
        cursor: UPD,
        schema: schema!("stores"),
        probe: true,
        // Commerce's "store not found" (request-errors page), for a store deleted
        // while its orders, products or fulfillments are read.
        gone: Some(Gone {
            status: 412,
            code: Some(41204),
        }),
        ..COMMERCE
    },
    StreamDef {
        name: "orders",
        path: "/commerce/2025-07/orders",
        data_key: "orders",
        primary_key: &["store_id", "id"],
        cursor: UPD,
        source: PER_STORE,
        schema: schema!("orders"),
        sorts: Some(ORDER_SORTS),
        // An order deleted while its fulfillments are read.
        gone: Some(Gone {
            status: 404,
            code: None,
        }),
        ..COMMERCE
    },
    StreamDef {
        name: "products",
        path: "/commerce/2025-07/products",
        data_key: "products",
        primary_key: &["store_id", "id"],
        source: PER_STORE,
        schema: schema!("products"),
        ..COMMERCE
    },
    StreamDef {
        name: "fulfillments",
        path: "/commerce/2025-07/fulfillments",
        data_key: "fulfillments",
        primary_key: &["store_id", "order_id", "id"],
        cursor: UPD,
        source: PER_ORDER,
        schema: schema!("fulfillments"),
        ..COMMERCE
    },
    StreamDef {
        name: "memberships",
        path: "/admin/2022-01/memberships",
        data_key: "memberships",
        paging: MEMBERS_PAGES,
        schema: schema!("memberships"),
        ..MEMBERS
    },
    StreamDef {
        name: "roles",
        path: "/admin/2022-01/roles",
        data_key: "roles",
        primary_key: &["code"],
        schema: schema!("roles"),
        probe: true,
        ..MEMBERS
    },
    StreamDef {
        name: "shipping_rates",
        path: "/postmen/v3/rates",
        data_key: "rates",
        schema: schema!("shipping_rates"),
        ..SHIPPING
    },
    StreamDef {
        name: "shipping_labels",
        path: "/postmen/v3/labels",
        data_key: "labels",
        schema: schema!("shipping_labels"),
        ..SHIPPING
    },
    StreamDef {
        name: "shipping_manifests",
        path: "/postmen/v3/manifests",
        data_key: "manifests",
        schema: schema!("shipping_manifests"),
        ..SHIPPING
    },
    StreamDef {
        name: "shipping_couriers",
        path: "/postmen/v3/couriers",
        data_key: "couriers",
        primary_key: &["slug"],
        cursor: None,
        paging: WHOLE,
        filter: Filter::None,
        schema: schema!("shipping_couriers"),
        ..SHIPPING
    },
    StreamDef {
        name: "cancel_labels",
        path: "/postmen/v3/cancel-labels",
        data_key: "cancel_labels",
        schema: schema!("cancel_labels"),
        ..SHIPPING
    },
    StreamDef {
        name: "pickups",
        path: "/postmen/v3/pickups",
        data_key: "pickups",
        schema: schema!("pickups"),
        ..SHIPPING
    },
    StreamDef {
        name: "cancel_pickups",
        path: "/postmen/v3/cancel-pickups",
        data_key: "cancel_pickups",
        schema: schema!("cancel_pickups"),
        ..SHIPPING
    },
    StreamDef {
        name: "shipper_accounts",
        path: "/postmen/v3/shipper-accounts",
        data_key: "shipper_accounts",
        filter: Filter::None,
        schema: schema!("shipper_accounts"),
        probe: true,
        ..SHIPPING
    },
    StreamDef {
        name: "locations",
        path: "/postmen/v3/locations",
        data_key: "locations",
        primary_key: &["location_id"],
        cursor: None,
        paging: WHOLE,
        filter: Filter::None,
        source: FROM_SHIPPER_ACCOUNTS,
        schema: schema!("locations"),
        ..SHIPPING
    },
];

// The table is checked when it is built: every parent a row names is a row of the
// table, and following parents from any row reaches a plain list (no cycle), so
// the engine never meets an unknown parent at run time.
const _: () = assert!(
    parents_resolve(&STREAMS),
    "a row of the stream table names a parent that is not a row, or its parents form a cycle"
);

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn row_named(rows: &[StreamDef], name: &str) -> Option<usize> {
    let mut i = 0;
    while i < rows.len() {
        if same(rows[i].name, name) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether every row's chain of parents is made of rows and ends at a list; a
/// search's parent is read as a plain list, so it must be one.
pub const fn parents_resolve(rows: &[StreamDef]) -> bool {
    let mut i = 0;
    while i < rows.len() {
        let mut at = i;
        let mut steps = 0;
        loop {
            let parent = match rows[at].source {
                Source::List => break,
                Source::Child(link) => link.parent,
                Source::Search(search) => match row_named(rows, search.parent) {
                    Some(p) if matches!(rows[p].source, Source::List) => break,
                    _ => return false,
                },
            };
            match row_named(rows, parent) {
                Some(p) => at = p,
                None => return false,
            }
            steps += 1;
            if steps > rows.len() {
                return false;
            }
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_that_is_no_row_or_a_cycle_is_refused() {
        assert!(parents_resolve(&STREAMS));
        let mut rows = STREAMS;
        // orders names a parent that is not in the table.
        rows[8].source = Source::Child(Link {
            parent: "nowhere",
            parent_key: "id",
            inject: Inject::Header("as-store-id"),
            carry_as: &["store_id"],
        });
        assert_eq!(rows[8].name, "orders");
        assert!(!parents_resolve(&rows));
        // stores made a child of fulfillments: stores → fulfillments → orders → stores.
        let mut rows = STREAMS;
        rows[7].source = Source::Child(Link {
            parent: "fulfillments",
            parent_key: "id",
            inject: Inject::Query("x"),
            carry_as: &["x"],
        });
        assert_eq!(rows[7].name, "stores");
        assert!(!parents_resolve(&rows));
    }
}
