//! Deterministic record generation: realistic JSON for every stream.

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;
use serde_json::{Value, json};

use crate::streams::StreamId;
use crate::timefmt::{TsStyle, fmt_date, fmt_naive, fmt_ts};

mod commerce;
mod members;
mod mutate;
mod protection;
mod returns;
mod shipping;
mod tracking;

pub use mutate::{mutate, updated_style};
pub use shipping::locations;

pub const COURIERS: &[(&str, &str)] = &[
    ("usps", "USPS"),
    ("ups", "UPS"),
    ("fedex", "FedEx"),
    ("dhl", "DHL Express"),
    ("dhl-global-mail", "DHL eCommerce"),
    ("canada-post", "Canada Post"),
    ("royal-mail", "Royal Mail"),
    ("australia-post", "Australia Post"),
    ("japan-post", "Japan Post"),
    ("china-ems", "China EMS"),
    ("china-post", "China Post"),
    ("hong-kong-post", "Hong Kong Post"),
    ("singapore-post", "Singapore Post"),
    ("la-poste-colissimo", "La Poste Colissimo"),
    ("deutsch-post", "Deutsche Post"),
    ("dpd", "DPD"),
    ("dpd-uk", "DPD UK"),
    ("gls", "GLS"),
    ("hermes", "Evri"),
    ("tnt", "TNT"),
    ("yodel", "Yodel"),
    ("parcelforce", "Parcelforce"),
    ("purolator", "Purolator"),
    ("canpar", "Canpar Courier"),
    ("ontrac", "OnTrac"),
    ("lasership", "LaserShip"),
    ("aramex", "Aramex"),
    ("bluedart", "Blue Dart"),
    ("delhivery", "Delhivery"),
    ("sf-express", "S.F. Express"),
    ("yto", "YTO Express"),
    ("zto-express", "ZTO Express"),
    ("sto", "STO Express"),
    ("yunda", "Yunda Express"),
    ("jd-logistics", "JD Logistics"),
    ("cainiao", "Cainiao"),
    ("posti", "Posti"),
    ("postnord", "PostNord"),
    ("bpost", "bpost"),
    ("correos-de-espana", "Correos de España"),
];

/// (alpha-3, country name, state, city, postal code, street)
pub const PLACES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "USA",
        "United States",
        "CA",
        "Los Angeles",
        "90001",
        "1200 Wilshire Blvd",
    ),
    (
        "USA",
        "United States",
        "NY",
        "New York",
        "10001",
        "350 5th Ave",
    ),
    (
        "GBR",
        "United Kingdom",
        "England",
        "London",
        "EC1A 1BB",
        "1 St Martin's Le Grand",
    ),
    (
        "CHN",
        "China",
        "Guangdong",
        "Shenzhen",
        "518000",
        "88 Shennan Blvd",
    ),
    (
        "HKG",
        "Hong Kong",
        "Kowloon",
        "Kowloon Bay",
        "999077",
        "8 Wang Hoi Rd",
    ),
    (
        "DEU",
        "Germany",
        "Berlin",
        "Berlin",
        "10115",
        "Invalidenstraße 117",
    ),
    (
        "FRA",
        "France",
        "Île-de-France",
        "Paris",
        "75001",
        "12 Rue de Rivoli",
    ),
    ("AUS", "Australia", "NSW", "Sydney", "2000", "200 George St"),
    (
        "CAN",
        "Canada",
        "ON",
        "Toronto",
        "M5H 2N2",
        "100 Queen St W",
    ),
    (
        "JPN",
        "Japan",
        "Tokyo",
        "Chiyoda",
        "100-0001",
        "1-1 Chiyoda",
    ),
    (
        "SGP",
        "Singapore",
        "Singapore",
        "Singapore",
        "018989",
        "10 Marina Blvd",
    ),
];

const FIRST: &[&str] = &[
    "Alice", "Bob", "Chen", "Dana", "Elif", "Farah", "Goro", "Hana", "Ivan", "Jia", "Kofi", "Lena",
    "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
];
const LAST: &[&str] = &[
    "Smith", "Wong", "García", "Müller", "Tanaka", "Okafor", "Dubois", "Rossi", "Kim", "Novak",
    "Silva", "Haddad", "Nguyen", "Larsen",
];
const PRODUCTS: &[&str] = &[
    "Organic Cotton T-Shirt",
    "Trail Running Shoes",
    "Ceramic Pour-Over Set",
    "Wireless Earbuds",
    "Wool Beanie",
    "Leather Wallet",
    "Yoga Mat",
    "Stainless Water Bottle",
    "Linen Duvet Cover",
    "Desk Lamp",
    "Rain Jacket",
    "Bamboo Toothbrush (4-pack)",
];
const TAGS: &[&str] = &[
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
];

/// Everything a generator needs besides the random source.
pub struct Ctx {
    pub org_id: String,
}

pub fn hex(rng: &mut Rng, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| H[rng.usize(..16)] as char).collect()
}

/// A 32-hex id, unique per (stream, idx).
pub fn uid(rng: &mut Rng, idx: usize) -> String {
    format!("{}{:08x}", hex(rng, 24), idx)
}

/// A UUID-shaped id, unique per (stream, idx).
pub fn uuid(rng: &mut Rng, idx: usize) -> String {
    format!(
        "{}-{}-4{}-{}-{:012x}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 4),
        idx
    )
}

pub fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[rng.usize(..xs.len())]
}

fn amount(rng: &mut Rng, lo: u32, hi: u32) -> String {
    let cents = rng.u32(lo * 100..=hi * 100);
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn money(rng: &mut Rng, lo: u32, hi: u32, currency: &str) -> Value {
    json!({"amount": amount(rng, lo, hi), "currency": currency})
}

fn person(rng: &mut Rng) -> (String, String, String) {
    let f = pick(rng, FIRST);
    let l = pick(rng, LAST);
    let email = format!(
        "{}.{}{}@example.com",
        f.to_lowercase(),
        l.to_lowercase().replace(['í', 'ü', 'é'], "e"),
        rng.u32(1..999)
    );
    (f.to_string(), l.to_string(), email)
}

fn phone(rng: &mut Rng) -> String {
    format!("+1{}", rng.u64(2_000_000_000..9_999_999_999))
}

/// Creation and update instants of a record generated at start: created in the past
/// `history_secs` (~400 days by default), updated 0-30 days later but never after
/// the anchor.
pub fn random_stamp(
    rng: &mut Rng,
    anchor: DateTime<Utc>,
    history_secs: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let created = anchor - Duration::seconds(rng.i64(0..history_secs.max(1)));
    let room = (anchor - created).num_seconds().clamp(0, 30 * 86_400);
    let updated = if room == 0 || rng.u8(..10) < 2 {
        created
    } else {
        created + Duration::seconds(rng.i64(0..=room))
    };
    (created, updated)
}

/// Some products show some instants at a local offset (e.g. `+08:00`).
pub fn style_for(stream: StreamId, rng: &mut Rng) -> TsStyle {
    use StreamId::*;
    match stream {
        Trackings | CourierConnections => {
            if rng.u8(..100) < 15 {
                TsStyle::Offset(8)
            } else {
                TsStyle::Plus00
            }
        }
        Stores | Orders | Products | Fulfillments => match rng.u8(..100) {
            0..=9 => TsStyle::Offset(1),
            10..=14 => TsStyle::Offset(-5),
            _ => TsStyle::Zulu,
        },
        ItemReturns | ItemTags => TsStyle::Zulu,
        QueryClaims | QueryCoverages => TsStyle::Millis,
        _ => TsStyle::Plus00,
    }
}

/// Build one record. `created`/`updated` are already decided; `parent` carries the
/// store id (commerce children) and order id (fulfillments).
pub struct Parent<'a> {
    pub store_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
}

pub struct Built {
    pub key: String,
    pub value: Value,
    pub source_created: Option<DateTime<Utc>>,
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    stream: StreamId,
    rng: &mut Rng,
    ctx: &Ctx,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    parent: &Parent<'_>,
) -> Built {
    let style = style_for(stream, rng);
    let c = fmt_ts(created, style);
    let u = fmt_ts(updated, style);
    use StreamId::*;
    match stream {
        Trackings => tracking::tracking(rng, idx, created, updated, c, u),
        Couriers => tracking::courier(rng, idx),
        CourierConnections => tracking::courier_connection(rng, idx, c, u),
        ItemReturns => returns::item_return(rng, ctx, idx, created, c),
        ItemTags => returns::item_tag(rng, idx, c),
        QueryClaims => protection::claim(rng, idx, created, c, u),
        QueryCoverages => protection::coverage(rng, idx, created, c, u),
        Stores => commerce::store(rng, idx, created, style, c, u),
        Orders => commerce::order(rng, idx, created, updated, style, c, u, parent),
        Products => commerce::product(rng, idx, created, updated, style, c, u, parent),
        Fulfillments => commerce::fulfillment(rng, idx, created, updated, style, c, u, parent),
        Memberships => members::membership(rng, ctx, idx),
        Roles => members::role(idx),
        ShippingRates => shipping::rate_request(rng, idx, created, c, u),
        ShippingLabels => shipping::label(rng, idx, created, c, u),
        ShippingManifests => shipping::manifest(rng, idx, created, c, u),
        ShippingCouriers => shipping::shipping_courier(rng, idx),
        CancelLabels => shipping::cancel_label(rng, idx, c, u),
        Pickups => shipping::pickup(rng, idx, created, c, u),
        CancelPickups => shipping::cancel_pickup(rng, idx, c, u),
        ShipperAccounts => shipping::shipper_account(rng, idx, c, u),
        Locations => Built {
            key: String::new(),
            value: Value::Null,
            source_created: None,
        },
    }
}
