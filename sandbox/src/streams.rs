//! The 22 streams: names, products, data keys and which of them change over time.

use crate::products::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamId {
    Trackings,
    Couriers,
    CourierConnections,
    ItemReturns,
    ItemTags,
    QueryClaims,
    QueryCoverages,
    Stores,
    Orders,
    Products,
    Fulfillments,
    Memberships,
    Roles,
    ShippingRates,
    ShippingLabels,
    ShippingManifests,
    ShippingCouriers,
    CancelLabels,
    Pickups,
    CancelPickups,
    ShipperAccounts,
    Locations,
}

/// The `limit` parameter of a paginated list endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    /// The page size when `limit` is omitted.
    pub default: u64,
    /// The largest accepted `limit` (documented, or the sandbox's choice).
    pub max: u64,
    /// Whether AfterShip documents that maximum (fact sheet §8); the stores and
    /// Shipping maxima are not documented.
    pub documented: bool,
}

impl StreamId {
    pub const ALL: [StreamId; 22] = [
        StreamId::Trackings,
        StreamId::Couriers,
        StreamId::CourierConnections,
        StreamId::ItemReturns,
        StreamId::ItemTags,
        StreamId::QueryClaims,
        StreamId::QueryCoverages,
        StreamId::Stores,
        StreamId::Orders,
        StreamId::Products,
        StreamId::Fulfillments,
        StreamId::Memberships,
        StreamId::Roles,
        StreamId::ShippingRates,
        StreamId::ShippingLabels,
        StreamId::ShippingManifests,
        StreamId::ShippingCouriers,
        StreamId::CancelLabels,
        StreamId::Pickups,
        StreamId::CancelPickups,
        StreamId::ShipperAccounts,
        StreamId::Locations,
    ];

    pub fn name(self) -> &'static str {
        use StreamId::*;
        match self {
            Trackings => "trackings",
            Couriers => "couriers",
            CourierConnections => "courier_connections",
            ItemReturns => "item_returns",
            ItemTags => "item_tags",
            QueryClaims => "query_claims",
            QueryCoverages => "query_coverages",
            Stores => "stores",
            Orders => "orders",
            Products => "products",
            Fulfillments => "fulfillments",
            Memberships => "memberships",
            Roles => "roles",
            ShippingRates => "shipping_rates",
            ShippingLabels => "shipping_labels",
            ShippingManifests => "shipping_manifests",
            ShippingCouriers => "shipping_couriers",
            CancelLabels => "cancel_labels",
            Pickups => "pickups",
            CancelPickups => "cancel_pickups",
            ShipperAccounts => "shipper_accounts",
            Locations => "locations",
        }
    }

    pub fn parse(s: &str) -> Option<StreamId> {
        StreamId::ALL.into_iter().find(|x| x.name() == s)
    }

    pub fn index(self) -> usize {
        StreamId::ALL.iter().position(|x| *x == self).unwrap_or(0)
    }

    pub fn product(self) -> Product {
        use StreamId::*;
        match self {
            Trackings | Couriers | CourierConnections => Product::Tracking,
            ItemReturns | ItemTags => Product::Returns,
            QueryClaims | QueryCoverages => Product::Protection,
            Stores | Orders | Products | Fulfillments => Product::Commerce,
            Memberships | Roles => Product::Members,
            _ => Product::Shipping,
        }
    }

    /// The key of the records array inside `data`.
    pub fn data_key(self) -> &'static str {
        use StreamId::*;
        match self {
            Trackings => "trackings",
            Couriers => "couriers",
            CourierConnections => "courier_connections",
            ItemReturns => "returns",
            ItemTags => "item_tags",
            QueryClaims => "claims",
            QueryCoverages => "coverages",
            Stores => "stores",
            Orders => "orders",
            Products => "products",
            Fulfillments => "fulfillments",
            Memberships => "memberships",
            Roles => "roles",
            ShippingRates => "rates",
            ShippingLabels => "labels",
            ShippingManifests => "manifests",
            ShippingCouriers => "couriers",
            CancelLabels => "cancel_labels",
            Pickups => "pickups",
            CancelPickups => "cancel_pickups",
            ShipperAccounts => "shipper_accounts",
            Locations => "locations",
        }
    }

    /// Records carry `updated_at` (and so can be marked updated by `/__sandbox/advance`).
    pub fn has_updated_at(self) -> bool {
        use StreamId::*;
        matches!(
            self,
            Trackings
                | CourierConnections
                | QueryClaims
                | QueryCoverages
                | Stores
                | Orders
                | Products
                | Fulfillments
                | ShippingRates
                | ShippingLabels
                | ShippingManifests
                | CancelLabels
                | Pickups
                | CancelPickups
                | ShipperAccounts
        )
    }

    /// Records carry `created_at`.
    pub fn has_created_at(self) -> bool {
        self.has_updated_at() || matches!(self, StreamId::ItemReturns | StreamId::ItemTags)
    }

    /// New records appear over time (`/__sandbox/advance` inserts into these).
    pub fn can_grow(self) -> bool {
        self.has_created_at()
    }

    /// The `limit` parameter's default and maximum; `None` for the endpoints without
    /// one (whole lists, and locations, whose page size is `count`).
    pub fn page_size(self) -> Option<PageSize> {
        use StreamId::*;
        let (default, max, documented) = match self {
            Trackings | CourierConnections => (100, 200, true),
            ItemReturns | Orders | Products | Fulfillments => (10, 50, true),
            QueryClaims | QueryCoverages => (20, 20, true),
            Memberships => (100, 200, true),
            Stores => (10, 50, false),
            s if s.is_shipping_list() => (20, 100, false),
            _ => return None,
        };
        Some(PageSize {
            default,
            max,
            documented,
        })
    }

    /// Shipping list endpoints with `next_token` pagination.
    pub fn is_shipping_list(self) -> bool {
        use StreamId::*;
        matches!(
            self,
            ShippingRates
                | ShippingLabels
                | ShippingManifests
                | CancelLabels
                | Pickups
                | CancelPickups
                | ShipperAccounts
        )
    }

    /// Default record count for a run with `records` trackings (the documented ratios).
    pub fn default_count(self, records: usize) -> usize {
        use StreamId::*;
        let n = records;
        match self {
            Trackings => n,
            Couriers => 40,
            CourierConnections => n / 4,
            ItemReturns => n / 2,
            ItemTags => (n / 40).max(5),
            QueryClaims => n / 5,
            QueryCoverages => n / 2,
            Stores => (n / 80).max(3),
            Orders => n,
            Products => n / 2,
            Fulfillments => n, // upper bound: 0-2 per order, decided per order
            Memberships => (n / 4).max(3),
            Roles => 6,
            ShippingRates => n / 2,
            ShippingLabels => n,
            ShippingManifests => n / 5,
            ShippingCouriers => 30,
            CancelLabels => n / 10,
            Pickups => n / 5,
            CancelPickups => n / 20,
            ShipperAccounts => (n / 20).max(5),
            Locations => 10,
        }
    }
}
