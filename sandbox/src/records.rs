//! Deterministic record generation: realistic JSON for every stream.

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;
use serde_json::{Value, json};

use crate::streams::StreamId;
use crate::timefmt::{TsStyle, fmt_date, fmt_naive, fmt_ts};

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

fn address_commerce(rng: &mut Rng, with_coord: bool) -> Value {
    let p = pick(rng, PLACES);
    let (f, l, e) = person(rng);
    let mut a = json!({
        "type": pick(rng, &["business", "residential"]),
        "street_1": p.5,
        "street_2": if rng.bool() { Value::from(format!("Unit {}", rng.u32(1..500))) } else { Value::Null },
        "street_3": Value::Null,
        "city": p.3,
        "state": p.2,
        "postal_code": p.4,
        "country_region": p.0,
        "company": if rng.bool() { Value::from("Acme Ltd") } else { Value::Null },
        "first_name": f,
        "last_name": l,
        "email": e,
        "phone": phone(rng),
    });
    if with_coord {
        a["coordinate"] =
            json!({"latitude": rng.f64() * 120.0 - 60.0, "longitude": rng.f64() * 340.0 - 170.0});
    }
    a
}

/// A Store's address (Commerce `Store.v1`): no contact fields, a coordinate.
fn address_store(rng: &mut Rng) -> Value {
    let p = pick(rng, PLACES);
    json!({
        "street_1": p.5,
        "street_2": Value::Null,
        "street_3": Value::Null,
        "city": p.3,
        "state": p.2,
        "postal_code": p.4,
        "country_region": p.0,
        "coordinate": {"latitude": rng.f64() * 120.0 - 60.0, "longitude": rng.f64() * 340.0 - 170.0},
    })
}

/// A Shipping `Address.v3` (Postmen style: `street1`, `country` alpha-3, tax and
/// identification fields mostly null).
fn address_shipping(rng: &mut Rng) -> Value {
    let p = pick(rng, PLACES);
    let (f, l, e) = person(rng);
    let business = rng.bool();
    // EU/UK business senders often register a VAT id and an EORI number.
    let eu = business && matches!(p.0, "GBR" | "DEU" | "FRA");
    let vat = format!("{}{}", &p.0[..2], rng.u64(100_000_000..999_999_999));
    json!({
        "contact_name": format!("{f} {l}"),
        "company_name": if business { Value::from("Acme Ltd") } else { Value::Null },
        "street1": p.5,
        "street2": Value::Null,
        "street3": Value::Null,
        "city": p.3,
        "state": p.2,
        "postal_code": p.4,
        "country": p.0,
        "phone": phone(rng),
        "fax": if business && rng.u8(..4) == 0 { Value::from(phone(rng)) } else { Value::Null },
        "email": e,
        "type": if business { "business" } else { "residential" },
        "tax_id": if eu { Value::from(vat.clone()) } else { Value::Null },
        "tax_id_type": if eu { Value::from("vat") } else { Value::Null },
        "identification_number": Value::Null,
        "identification_type": Value::Null,
        "eori_number": if eu { Value::from(format!("{vat}000")) } else { Value::Null },
        "location": if rng.u8(..4) == 0 {
            json!({"lat": rng.f64() * 120.0 - 60.0, "lng": rng.f64() * 340.0 - 170.0})
        } else { Value::Null },
    })
}

fn opening_hours(rng: &mut Rng) -> Value {
    let mut o = serde_json::Map::new();
    for d in [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ] {
        let open = !(d == "sunday" || (d == "saturday" && rng.bool()));
        o.insert(
            d.to_string(),
            if open {
                json!({"open": true, "from": "09:00", "to": "18:00"})
            } else {
                json!({"open": false, "from": null, "to": null})
            },
        );
    }
    Value::Object(o)
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
        Trackings => tracking(rng, idx, created, updated, c, u),
        Couriers => courier(rng, idx),
        CourierConnections => {
            let id = uid(rng, idx);
            let slug = pick(rng, COURIERS).0;
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "courier_slug": slug,
                    // carrier secrets, as AfterShip returns them (its examples show api keys)
                    "credentials": {
                        "account_number": format!("{}", rng.u64(10_000_000..99_999_999)),
                        "api_key": hex(rng, 20),
                        "password": format!("Pw!{}", hex(rng, 12)),
                    },
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        ItemReturns => item_return(rng, ctx, idx, created, c),
        ItemTags => {
            let id = uid(rng, idx);
            let names = [
                "Defective",
                "Wrong size",
                "Damaged in transit",
                "Not as described",
                "Final sale",
                "Gift",
            ];
            let name = if idx < names.len() {
                names[idx].to_string()
            } else {
                format!("{} #{idx}", pick(rng, &names))
            };
            Built {
                key: id.clone(),
                value: json!({"id": id, "name": name, "created_at": c}),
                source_created: None,
            }
        }
        QueryClaims => claim(rng, idx, created, c, u),
        QueryCoverages => coverage(rng, idx, created, c, u),
        Stores => store(rng, idx, created, style, c, u),
        Orders => order(rng, idx, created, updated, style, c, u, parent),
        Products => product(rng, idx, created, updated, style, c, u, parent),
        Fulfillments => fulfillment(rng, idx, created, updated, style, c, u, parent),
        Memberships => {
            let id = uid(rng, idx);
            let (_, _, e) = person(rng);
            let role = pick(
                rng,
                &[
                    ("owner", "Owner"),
                    ("admin", "Admin"),
                    ("member", "Member"),
                    ("member", "Member"),
                ],
            );
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "organization": {"id": ctx.org_id},
                    "account": {"id": uid(rng, idx), "email": e},
                    "role": {"code": role.0, "name": role.1},
                }),
                source_created: None,
            }
        }
        Roles => {
            let fixed = [
                ("owner", "Owner"),
                ("admin", "Admin"),
                ("member", "Member"),
                ("viewer", "Viewer"),
                ("billing_manager", "Billing manager"),
                ("developer", "Developer"),
            ];
            let (code, name) = if idx < fixed.len() {
                (fixed[idx].0.to_string(), fixed[idx].1.to_string())
            } else {
                (format!("custom_role_{idx}"), format!("Custom role {idx}"))
            };
            Built {
                key: code.clone(),
                value: json!({"code": code, "name": name}),
                source_created: None,
            }
        }
        ShippingRates => {
            let id = uuid(rng, idx);
            let n = rng.usize(1..=3);
            let rates: Vec<Value> = (0..n).map(|_| rate(rng, created)).collect();
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "status": pick(rng, &["calculated", "calculated", "calculated", "calculating", "failed"]),
                    "rates": rates,
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        ShippingLabels => label(rng, idx, created, c, u),
        ShippingManifests => {
            let id = uuid(rng, idx);
            let slug = pick(rng, COURIERS).0;
            let labels: Vec<Value> = (0..rng.usize(1..4))
                .map(|_| {
                    let n = rng.usize(..1_000_000);
                    json!({"id": uuid(rng, n), "manifested": rng.u8(..10) < 9})
                })
                .collect();
            let status = pick(rng, &["manifested", "manifested", "manifesting", "failed"]);
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "status": status,
                    "shipper_account": {"id": uuid(rng, idx), "slug": slug, "description": format!("{slug} account")},
                    "labels": labels,
                    "files": if status == "manifested" {
                        json!({"label": null, "invoice": null, "customs_declaration": null,
                               "packing_slip": null, "qr_code": null,
                               "manifest": {"paper_size": "a4", "url": format!("https://sandbox-download.example.com/manifest/{}/{}.pdf", fmt_date(created), hex(rng, 16)), "file_type": "pdf"}})
                    } else { Value::Null },
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        ShippingCouriers => shipping_courier(rng, idx),
        CancelLabels => {
            let id = uuid(rng, idx);
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "status": pick(rng, &["cancelled", "cancelled", "cancelling", "failed"]),
                    "label": {"id": uuid(rng, idx + 7_000_000)},
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        Pickups => {
            let id = uuid(rng, idx);
            let day = created + Duration::days(1);
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "status": pick(rng, &["created", "created", "creating", "cancelling", "cancelled", "failed"]),
                    "pickup_confirmation_numbers": [format!("PU{}", rng.u64(100_000_000..999_999_999))],
                    "pickup_location_code": format!("LOC{}", rng.u32(100..999)),
                    "pickup_date": fmt_date(day),
                    "pickup_start_time": "09:00:00",
                    "pickup_end_time": "17:00:00",
                    "pickup_from": address_shipping(rng),
                    "ship_to": address_shipping(rng),
                    "label_ids": [uuid(rng, idx + 9_000_000)],
                    "pickup_parcels": [{
                        "weight": {"value": rng.u32(1..30), "unit": "kg"},
                        "quantity": rng.u32(1..4),
                        "service_type": Value::Null,
                        "dimension": {"width": 30, "height": 20, "depth": rng.u32(5..40), "unit": "cm"},
                    }],
                    "shipper_account": {"id": uuid(rng, idx)},
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        CancelPickups => {
            let id = uuid(rng, idx);
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "status": pick(rng, &["cancelled", "cancelling", "failed"]),
                    "pickup": {"id": uuid(rng, idx + 5_000_000)},
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        ShipperAccounts => {
            let id = uuid(rng, idx);
            let slug = pick(rng, COURIERS).0;
            Built {
                key: id.clone(),
                value: json!({
                    "id": id,
                    "address": address_shipping(rng),
                    "slug": slug,
                    "status": pick(rng, &["enabled", "enabled", "enabled", "disabled", "deleted"]),
                    "description": format!("{slug} account {}", idx + 1),
                    "type": pick(rng, &["user", "user", "default"]),
                    "timezone": pick(rng, &["America/Los_Angeles", "Europe/London", "Asia/Hong_Kong"]),
                    "settings": if slug == "fedex" {
                        json!({"electronic_trade_documents_enabled": rng.bool(), "commercial_invoice_signature": Value::Null, "commercial_invoice_letterhead": Value::Null})
                    } else { Value::Null },
                    "created_at": c,
                    "updated_at": u,
                }),
                source_created: None,
            }
        }
        Locations => Built {
            key: String::new(),
            value: Value::Null,
            source_created: None,
        },
    }
}

fn tracking(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
    let id = uid(rng, idx);
    let slug = pick(rng, COURIERS).0;
    let o = pick(rng, PLACES);
    let d = pick(rng, PLACES);
    let tag_i = rng.usize(..TAGS.len());
    let tag = TAGS[tag_i];
    let (f, l, e) = person(rng);
    let tn = format!(
        "{}{}",
        pick(rng, &["1Z", "94", "LX", "RR", "SF"]),
        rng.u64(1_000_000_000..9_999_999_999)
    );
    let n_cp = rng.usize(0..=4);
    let checkpoints: Vec<Value> = (0..n_cp)
        .map(|k| {
            // checkpoints lie between creation and the last update
            let span = (updated - created).num_seconds().max(0);
            let t = created + Duration::seconds(span * (k as i64 + 1) / (n_cp as i64 + 1));
            let loose = match k % 3 {
                0 => fmt_naive(t),
                1 => fmt_ts(t, TsStyle::Plus00),
                _ => fmt_date(t),
            };
            let ct = TAGS[(k + 1).min(TAGS.len() - 1)];
            json!({
                "created_at": fmt_ts(t, TsStyle::Plus00),
                "slug": slug,
                "checkpoint_time": loose,
                "location": format!("{}, {}", d.3, d.0),
                "city": d.3,
                "state": d.2,
                "zip": d.4,
                "coordinate": {"latitude": 22.3 + k as f64, "longitude": 114.1 - k as f64},
                "country_region": d.0,
                "country_region_name": d.1,
                "message": format!("Shipment {} at facility", ct),
                "tag": ct,
                "subtag": format!("{ct}_001"),
                "subtag_message": ct,
                "raw_tag": format!("RT{k}"),
                "events": [{"code": "OTHER", "reason": {"code": null}}],
                "source": "carrier",
                "hash": hex(rng, 40),
            })
        })
        .collect();
    let edd = fmt_date(created + Duration::days(rng.i64(2..10)));
    let delivered = tag == "Delivered";
    let value = json!({
        "id": id,
        "legacy_id": hex(rng, 24),
        "created_at": c,
        "updated_at": u,
        "tracking_number": tn,
        "slug": slug,
        "active": !delivered && tag != "Expired",
        "custom_fields": if rng.u8(..10) < 2 { json!({"item_ref": format!("REF-{}", rng.u32(1000..9999))}) } else { Value::Null },
        "transit_time": if delivered { Value::from(rng.u32(1..15)) } else { Value::Null },
        "origin_country_region": o.0,
        "origin_state": o.2,
        "origin_city": o.3,
        "origin_postal_code": o.4,
        "origin_raw_location": format!("{}, {}, {}", o.3, o.2, o.1),
        "destination_country_region": d.0,
        "destination_state": d.2,
        "destination_city": d.3,
        "destination_postal_code": d.4,
        "destination_raw_location": format!("{}, {}, {}", d.3, d.2, d.1),
        "courier_destination_country_region": d.0,
        "note": if rng.bool() { Value::from("Leave at the door") } else { Value::Null },
        "order_id": format!("ord_{}", hex(rng, 10)),
        "order_id_path": Value::Null,
        "order_date": fmt_ts(created - Duration::days(1), TsStyle::Plus00),
        "order_number": format!("#{}", 1000 + idx),
        "shipment_package_count": rng.u32(1..3),
        "shipment_pickup_date": if n_cp > 0 { Value::from(fmt_date(created)) } else { Value::Null },
        "shipment_delivery_date": if delivered { Value::from(edd.clone()) } else { Value::Null },
        "shipment_type": pick(rng, &["Ground", "Express", "Priority Mail"]),
        "shipment_weight": {"value": (rng.u32(1..200) as f64) / 10.0, "unit": "kg"},
        "signed_by": if delivered { Value::from(f.clone()) } else { Value::Null },
        "source": pick(rng, &["api", "web", "shopify", "email"]),
        "tag": tag,
        "subtag": format!("{tag}_001"),
        "subtag_message": tag,
        "title": format!("Order #{}", 1000 + idx),
        "tracked_count": rng.u32(0..40),
        "last_mile_tracking_supported": rng.bool(),
        "language": pick(rng, &["en", "zh-Hant", "de", "fr"]),
        "unique_token": hex(rng, 12),
        "subscribed_smses": [],
        "subscribed_emails": [e.clone()],
        "return_to_sender": rng.u8(..50) == 0,
        "order_promised_delivery_date": if rng.bool() { Value::from(edd.clone()) } else { Value::Null },
        "delivery_type": pick(rng, &["pickup_at_store", "pickup_at_courier", "door_to_door"]),
        "pickup_location": Value::Null,
        "pickup_note": Value::Null,
        "courier_tracking_link": format!("https://track.example.com/{slug}/{tn}"),
        "courier_redirect_link": Value::Null,
        "first_attempted_at": if delivered { Value::from(fmt_ts(updated, TsStyle::Plus00)) } else { Value::Null },
        "tracking_account_number": Value::Null,
        "tracking_key": Value::Null,
        "tracking_ship_date": Value::Null,
        "on_time_status": pick(rng, &["on-time", "late", "early", "pending"]),
        "on_time_difference": rng.i32(-3..4),
        "order_tags": ["vip"],
        "shipment_tags": [],
        "courier_connection_id": Value::Null,
        "tracking_origin_country_region": Value::Null,
        "tracking_destination_country_region": Value::Null,
        "tracking_postal_code": Value::Null,
        "tracking_state": Value::Null,
        "location_id": Value::Null,
        "shipping_method": pick(rng, &["standard", "express"]),
        "failed_delivery_attempts": rng.u32(0..2),
        "signature_requirement": pick(rng, &["no_signature", "signature"]),
        "delivery_location_type": pick(rng, &["residential", "business"]),
        "aftership_tracking_url": format!("https://example.aftership.com/{tn}"),
        "aftership_tracking_order_url": Value::Null,
        "courier_estimated_delivery_date": {"estimated_delivery_date": edd, "estimated_delivery_date_min": Value::Null, "estimated_delivery_date_max": Value::Null},
        "aftership_estimated_delivery_date": {"estimated_delivery_date": edd, "confidence_code": rng.u32(50..100), "estimated_delivery_date_min": edd, "estimated_delivery_date_max": edd},
        "custom_estimated_delivery_date": {"type": "specific", "datetime": edd, "datetime_min": Value::Null, "datetime_max": Value::Null},
        "first_estimated_delivery": {"type": "specific", "source": "Carrier EDD", "datetime": edd, "datetime_min": Value::Null, "datetime_max": Value::Null},
        "latest_estimated_delivery": {"type": "specific", "source": "Carrier EDD", "datetime": edd, "datetime_min": Value::Null, "datetime_max": Value::Null, "revise_reason": Value::Null},
        "carbon_emissions": {"unit": "kg", "value": (rng.u32(1..500) as f64) / 100.0},
        "first_mile": {"tracking_number": tn, "slug": slug, "transit_time": Value::Null, "courier_tracking_link": Value::Null, "courier_redirect_link": Value::Null},
        "last_mile": {"tracking_number": Value::Null, "slug": Value::Null, "source": Value::Null, "transit_time": Value::Null, "courier_tracking_link": Value::Null, "courier_redirect_link": Value::Null},
        "customers": [{"role": "buyer", "name": format!("{f} {l}"), "phone_number": phone(rng), "email": e, "language": "en", "id": format!("{}", rng.u64(1_000_000_000..9_999_999_999))}],
        "shipment_dimensions": if rng.u8(..4) == 0 { json!({"unit": "cm", "length": 30, "width": 20, "height": rng.u32(5..40)}) } else { Value::Null },
        "proof_of_delivery": if delivered && rng.u8(..4) == 0 { json!([{"type": "image", "url": format!("https://pod.example.com/{}.jpg", hex(rng, 16))}]) } else { Value::Null },
        "multi_piece_info": Value::Null,
        "shipment_direction": if rng.bool() { Value::from("forward") } else { Value::Null },
        "return_shipment": Value::Null,
        "forward_shipment": Value::Null,
        "checkpoints": checkpoints,
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn courier(rng: &mut Rng, idx: usize) -> Built {
    let (slug, name) = if idx < COURIERS.len() {
        (COURIERS[idx].0.to_string(), COURIERS[idx].1.to_string())
    } else {
        (format!("courier-{idx}"), format!("Courier {idx}"))
    };
    let value = json!({
        "slug": slug,
        "name": name,
        "phone": phone(rng),
        "other_name": if rng.bool() { Value::from(name.to_uppercase()) } else { Value::Null },
        "web_url": format!("https://www.{}.example.com", slug),
        "required_fields": if rng.u8(..5) == 0 { json!(["tracking_postal_code"]) } else { json!([]) },
        "optional_fields": [],
        "default_language": "en",
        "support_languages": ["en"],
        "service_from_country_regions": [pick(rng, PLACES).0],
        "active": rng.u8(..4) != 0,
        "credentials": {"fields": [{"name": "account_number", "type": "string", "required": rng.bool()}]},
    });
    Built {
        key: slug,
        value,
        source_created: None,
    }
}

/// A Returns `Address`: `street_1`, `state.name`, `country_region.code`.
fn address_returns(rng: &mut Rng, contact: Option<(&str, &str, &str)>) -> Value {
    let p = pick(rng, PLACES);
    let (name, email) = match contact {
        Some((f, l, e)) => (format!("{f} {l}"), e.to_string()),
        None => {
            let (f, l, e) = person(rng);
            (format!("{f} {l}"), e)
        }
    };
    json!({
        "contact_name": name,
        "company_name": Value::Null,
        "street_1": p.5,
        "street_2": if rng.bool() { Value::from(format!("Apt {}", rng.u32(1..80))) } else { Value::Null },
        "city": p.3,
        "state": {"name": p.2},
        "postal_code": p.4,
        "country_region": {"code": p.0},
        "phone": phone(rng),
        "email": email,
    })
}

fn item_return(rng: &mut Rng, ctx: &Ctx, idx: usize, created: DateTime<Utc>, c: String) -> Built {
    let id = uid(rng, idx);
    let cur = pick(rng, &["USD", "EUR", "GBP"]);
    let status = pick(
        rng,
        &["submitted", "approved", "done", "rejected", "expired"],
    );
    let approved = matches!(status, "approved" | "done");
    let done = status == "done";
    let later = |h: i64| fmt_ts(created + Duration::hours(h), TsStyle::Zulu);
    let (f, l, e) = person(rng);
    let qty = rng.u32(1..3);
    let outcome = pick(rng, &["refund", "refund", "exchange", "store_credit"]);
    let method = pick(
        rng,
        &[
            ("retailer_label", "Prepaid return label"),
            ("retailer_label", "Prepaid return label"),
            ("customer_courier", "Ship with any carrier"),
            ("carrier_dropoff", "Drop off at a carrier location"),
            ("in_store", "Return in store"),
            ("green_return", "Keep the item"),
        ],
    );
    let item_ext = format!("{}", rng.u64(1_000_000..9_999_999));
    let product_ext = format!("{}", rng.u64(1_000_000..9_999_999));
    let variant_ext = format!("{}", rng.u64(1_000_000..9_999_999));
    let sku = format!("SKU-{}", rng.u32(1000..9999));
    let title = pick(rng, PRODUCTS);
    let slug = pick(rng, COURIERS).0;
    let ship_to_merchant = address_returns(rng, None);
    let shipping_address = address_returns(rng, Some((&f, &l, &e)));
    // A label exists once the return is approved and the method ships a parcel.
    let shipped = approved && matches!(method.0, "retailer_label" | "customer_courier");
    let shipments = if shipped {
        json!([{
            "id": uid(rng, idx),
            "tracking_number": format!("9400{}", rng.u64(100_000_000_000..999_999_999_999)),
            "tracking_status": if done { "Delivered" } else { "InTransit" },
            "slug": slug,
            "items": [{"external_order_item_id": item_ext, "quantity": qty}],
            "label": if method.0 == "retailer_label" {
                json!({"url": format!("https://cdn.example.com/labels/{}.pdf", hex(rng, 16)), "aftership_shipping_slug": slug, "slug": slug, "total_charge": money(rng, 5, 15, cur), "qr_code_url": Value::Null})
            } else { Value::Null },
            "packing_slip_url": Value::Null,
            "shipping_documents_url": Value::Null,
            "shipping_documents_components": if method.0 == "retailer_label" { json!(["label"]) } else { json!([]) },
            "conditional_shipping_document_urls": [],
            "source": if method.0 == "retailer_label" { "merchant_generate" } else { "shopper_upload" },
            "created_at": later(3),
            "tracking_status_updated_at": later(if done { 40 } else { 20 }),
            "ship_from": shipping_address.clone(),
            "ship_to": ship_to_merchant,
            "invoice_url": Value::Null,
        }])
    } else {
        json!([])
    };
    let receivings = if done && method.0 != "green_return" {
        json!([{
            "id": uid(rng, idx),
            "items": [{
                "external_id": item_ext,
                "external_product_id": product_ext,
                "external_variant_id": variant_ext,
                "sku": sku,
                "quantity": qty,
                "gradings": if rng.bool() {
                    json!([{"grade": pick(rng, &["a", "b", "c"]), "quantity": qty, "notes": Value::Null, "image_urls": [], "inspector": "Warehouse 1", "inspected_at": later(44)}])
                } else { json!([]) },
            }],
            "received_at": later(44),
        }])
    } else {
        json!([])
    };
    let exchange = if outcome == "exchange" {
        json!({
            "order": if done {
                json!({"external_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)), "order_number": format!("{}-EX", 1000 + idx), "customer": {"emails": [e.clone()], "locale": "en-US"}, "country": pick(rng, PLACES).0, "store": {"platform": "shopify", "external_id": format!("store-{}", rng.u32(1..9))}})
            } else { Value::Null },
            "items": [{
                "external_product_id": product_ext,
                "external_variant_id": format!("{}", rng.u64(1_000_000..9_999_999)),
                "sku": format!("SKU-{}", rng.u32(1000..9999)),
                "title": title,
                "variant_to_replace": {"external_id": variant_ext, "external_product_id": product_ext, "title": "M", "sku": sku},
                "quantity": qty,
                "unit_display_price": money(rng, 10, 150, cur),
                "product_title": title,
                "variant_title": pick(rng, &["S", "M", "L"]),
                "product_image_urls": [format!("https://cdn.example.com/p/{}.jpg", hex(rng, 8))],
            }],
            "tax_total": money(rng, 0, 10, cur),
            "bonus_credits": [],
            "bonus_credits_used_total": Value::Null,
            "exchange_total_including_tax": money(rng, 10, 160, cur),
            "charge_by": "aftership",
        })
    } else {
        Value::Null
    };
    let value = json!({
        "id": id,
        "organization": {"id": ctx.org_id},
        "rma_number": format!("RMA{}", 100_000 + idx),
        "contact_email": e.clone(),
        "filed_by": pick(rng, &["shopper", "merchant", "customer_support"]),
        "approval_status": status,
        "approved_at": if approved { Value::from(later(2)) } else { Value::Null },
        "rejected_at": if status == "rejected" { Value::from(later(3)) } else { Value::Null },
        "resolved_at": if done { Value::from(later(48)) } else { Value::Null },
        "refunded_at": if done && outcome != "exchange" { Value::from(later(50)) } else { Value::Null },
        "expired_at": if status == "expired" { Value::from(later(24 * 30)) } else { Value::Null },
        "auto_approved": approved && rng.bool(),
        "auto_rejected": false,
        "auto_resolved": false,
        "auto_refunded": false,
        "auto_received": false,
        "shop_now": rng.u8(..10) == 0,
        "reject_reason": if status == "rejected" { Value::from("Outside return window") } else { Value::Null },
        "merchant_note": Value::Null,
        "refund_destination": if outcome == "store_credit" { "store_credit" } else { "original_payment" },
        "return_total_including_tax": money(rng, 10, 300, cur),
        "return_tax": money(rng, 0, 20, cur),
        "refunded_total": money(rng, 0, 300, cur),
        "estimated_refund_total": money(rng, 10, 300, cur),
        "checkout_total": money(rng, 0, 50, cur),
        "shipping_address": shipping_address,
        "order": {
            "id": uid(rng, idx),
            "external_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
            "order_number": format!("{}", 1000 + idx),
            "order_name": format!("#{}", 1000 + idx),
            "customer": {"emails": [e], "locale": "en-US"},
            "country_region": pick(rng, PLACES).0,
            "store": {"platform": pick(rng, &["shopify", "bigcommerce", "woocommerce"]), "external_id": format!("store-{}", rng.u32(1..9))},
            "placed_at": fmt_ts(created - Duration::days(rng.i64(3..40)), TsStyle::Zulu),
        },
        "return_items": [{
            "id": uid(rng, idx),
            "external_order_item_id": item_ext,
            "external_product_id": product_ext,
            "external_variant_id": variant_ext,
            "sku": sku,
            "product_title": title,
            "variant_title": pick(rng, &["S", "M", "L", "Default"]),
            "intended_return_quantity": qty,
            "ordered_quantity": qty,
            "return_quantity": qty,
            "refund_quantity": if done { qty } else { 0 },
            "received_quantity": if done && method.0 != "green_return" { qty } else { 0 },
            "restocked_quantity": 0,
            "removed_quantity": 0,
            "return_reason": pick(rng, &["Too small", "Too big", "Damaged", "Changed my mind"]),
            "return_subreason": Value::Null,
            "return_reason_comment": Value::Null,
            "unit_display_price": money(rng, 10, 150, cur),
            "unit_discounted_price_including_tax": money(rng, 10, 150, cur),
            "unit_discount": money(rng, 0, 10, cur),
            "unit_tax": money(rng, 0, 10, cur),
            "properties": [],
            "shopper_uploaded_image_urls": [],
            "product_image_urls": [format!("https://cdn.example.com/p/{}.jpg", hex(rng, 8))],
            "product_categories": ["apparel"],
            "product_tags": [],
            "item_tags": [],
            "merchant_uploaded_image_urls": [],
            "bundled_items": [],
            "exchange_variant": Value::Null,
            "parent_item_id": Value::Null,
            "green_return": method.0 == "green_return",
        }],
        "return_method": {"type": method.0, "name": method.1, "zone": {"name": "Domestic"}, "rule": {"name": "Default rule"}},
        "exchange": exchange,
        "instant_exchange": Value::Null,
        "receivings": receivings,
        "is_gift_return": rng.u8(..20) == 0,
        "shipments": shipments,
        "restocks": [],
        "cost_of_return": if method.0 == "retailer_label" {
            json!({"charged": if done { money(rng, 3, 8, cur) } else { Value::Null }, "value": money(rng, 3, 8, cur)})
        } else { Value::Null },
        "refunds": [],
        "dropoffs": [],
        "outcomes": [outcome],
        "created_at": c,
        "shipping_status": if !shipped { "no_label" } else if done { "received" } else { pick(rng, &["pending", "in_transit", "delivered"]) },
        "exceptions": [],
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn claim(rng: &mut Rng, idx: usize, created: DateTime<Utc>, c: String, u: String) -> Built {
    let id = uid(rng, idx);
    let cur = "USD";
    let status = pick(
        rng,
        &[
            "submitted",
            "under_review",
            "waiting_on_documents",
            "approved",
            "paid",
            "paid",
            "denied",
            "closed",
        ],
    );
    let resolved = matches!(status, "paid" | "closed");
    let method = pick(
        rng,
        &[
            "refund_to_original_payment_method",
            "refund_to_store_credit",
            "reship_the_same_items",
        ],
    );
    let uploaded = if status == "submitted" {
        json!([])
    } else {
        // uploaded with the claim, so never after its last update
        let at = created;
        json!([{
            "file_name": format!("{}.png", hex(rng, 24)),
            "created_at": fmt_ts(at, TsStyle::Millis),
            "url": format!("https://files.example.com/claims/{}.png", hex(rng, 16)),
            "url_expired_at": fmt_ts(at + Duration::days(7), TsStyle::Millis),
        }])
    };
    let value = json!({
        "id": id,
        "number": format!("CLM-{}", 200_000 + idx),
        "coverage_id": uid(rng, idx + 3_000_000),
        "status": status,
        "resolve_status": match status {
            "submitted" => "precheck",
            "denied" => "denied",
            _ if resolved => "resolved",
            _ => "to_be_resolved",
        },
        "resolved_resolution_method": if resolved { Value::from(method) } else { Value::Null },
        "resolved_resolution_detail": Value::Null,
        "customer_resolution_method": method,
        "customer_resolution_detail": Value::Null,
        "created_at": c,
        "updated_at": u,
        "issue_type": pick(rng, &["lost_in_transit", "porch_pirated", "damaged"]),
        "issue_desc": "Package never arrived",
        "issue_commodity": Value::Null,
        "claim_items": [{
            "source_id": format!("{}", rng.u64(1_000_000..9_999_999)),
            "title": pick(rng, PRODUCTS),
            "quantity": rng.u32(1..3),
            "unit_insured_amount": money(rng, 5, 200, cur),
            "sku": format!("SKU-{}", rng.u32(1000..9999)),
            "image_urls": [],
        }],
        "claim_items_amount": money(rng, 5, 400, cur),
        "shipping_amount": money(rng, 0, 20, cur),
        "claim_submit_amount": money(rng, 5, 420, cur),
        "claim_payment_amount": money(rng, 0, 420, cur),
        "uploaded_documents": uploaded,
        "required_document_types": if status == "waiting_on_documents" { json!(["proof_of_purchase"]) } else { json!([]) },
        "paid_at": if status == "paid" { Value::from(u.clone()) } else { Value::Null },
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn coverage(rng: &mut Rng, idx: usize, created: DateTime<Utc>, c: String, u: String) -> Built {
    let id = uid(rng, idx);
    let slug = pick(rng, COURIERS).0;
    let item = json!({
        "source_id": format!("{}", rng.u64(1_000_000..9_999_999)),
        "title": pick(rng, PRODUCTS),
        "quantity": rng.u32(1..4),
        "unit_insured_amount": money(rng, 5, 200, "USD"),
        "sku": format!("SKU-{}", rng.u32(1000..9999)),
        "image_urls": [],
    });
    let addr = |rng: &mut Rng| {
        let p = pick(rng, PLACES);
        let (f, l, e) = person(rng);
        json!({"street_1": p.5, "street_2": Value::Null, "street_3": Value::Null, "postal_code": p.4, "city": p.3,
               "state": {"name": p.2}, "country_region": {"code": p.0}, "phone": phone(rng), "email": e,
               "first_name": f, "last_name": l})
    };
    let value = json!({
        "id": id,
        "source_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
        "policy_number": format!("POL{}", 500_000 + idx),
        "status": pick(rng, &["inactive", "activated", "activated", "claimed", "expired", "void"]),
        "policy_detail_url": format!("https://protection.example.com/policy/{}", hex(rng, 12)),
        "premium": money(rng, 1, 10, "USD"),
        "effective_time": c,
        "expiration_time": fmt_ts(created + Duration::days(90), TsStyle::Millis),
        "created_at": c,
        "updated_at": u,
        "items": [item],
        "shipping_address": addr(rng),
        "sender_address": addr(rng),
        "trackings": [{"slug": slug, "tracking_number": format!("TN{}", rng.u64(100_000_000..999_999_999)), "ship_date": fmt_date(created)}],
        "subtotal": money(rng, 10, 400, "USD"),
        "shipping_total": money(rng, 0, 20, "USD"),
        "premium_paid_by": pick(rng, &["receiver", "sender"]),
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn store(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    style: TsStyle,
    c: String,
    u: String,
) -> Built {
    let id = if idx.is_multiple_of(3) {
        uid(rng, idx)
    } else {
        format!("store-{}-{idx}", hex(rng, 6))
    };
    let src = created - Duration::days(rng.i64(1..200));
    let value = json!({
        "id": id,
        "created_at": c,
        "updated_at": u,
        "source_created_at": fmt_ts(src, style),
        "source_updated_at": u,
        "platform": pick(rng, &["shopify", "aftership", "bigcommerce", "woocommerce", "magento"]),
        "name": format!("{} {}", pick(rng, &["Northwind", "Blue Harbor", "Maple & Co", "Sakura", "Atlas"]), pick(rng, &["Outfitters", "Goods", "Market", "Studio"])),
        "support_email": format!("support{idx}@shop.example.com"),
        "owner_email": format!("owner{idx}@shop.example.com"),
        "timezone_identifier": pick(rng, &["America/New_York", "Europe/Berlin", "Asia/Hong_Kong"]),
        "weight_unit": pick(rng, &["kg", "lb"]),
        "currency": pick(rng, &["USD", "EUR", "HKD"]),
        "phone": phone(rng),
        "url": format!("https://shop{idx}.example.com"),
        "description": "An online store",
        "categories": ["apparel"],
        "address": address_store(rng),
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn line_item(rng: &mut Rng, cur: &str) -> Value {
    json!({
        "id": format!("{}", rng.u64(10_000_000_000..99_999_999_999)),
        "sku": format!("SKU-{}", rng.u32(1000..9999)),
        "quantity": rng.u32(1..4),
        "unit_weight": {"unit": pick(rng, &["kg", "lb", "oz", "g"]), "value": (rng.u32(1..50) as f64) / 10.0},
        "unit_price": {"currency": cur, "amount": amount(rng, 5, 200)},
        "product_title": pick(rng, PRODUCTS),
        "product_variant_title": pick(rng, &["S", "M", "L", "Default Title"]),
        "discount": amount(rng, 0, 5),
        "tax": amount(rng, 0, 10),
        "product_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
        "product_variant_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
        "hs_code": Value::Null,
        "origin_country_region": pick(rng, PLACES).0,
        "image_urls": [format!("https://cdn.example.com/p/{}.jpg", hex(rng, 8))],
        "product_tags": [],
        "product_categories": [],
        "returnable_quantity": 1,
    })
}

#[allow(clippy::too_many_arguments)]
fn order(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    style: TsStyle,
    c: String,
    u: String,
    parent: &Parent<'_>,
) -> Built {
    let id = format!("{}", 5_000_000_000_000u64 + idx as u64 * 7 + rng.u64(..7));
    let cur = pick(rng, &["USD", "EUR", "HKD"]);
    let src_created = created - Duration::seconds(rng.i64(0..172_800));
    let (f, l, e) = person(rng);
    let pickup = rng.u8(..10) == 0;
    let items: Vec<Value> = (0..rng.usize(1..4)).map(|_| line_item(rng, cur)).collect();
    let status = pick(rng, &["open", "open", "closed", "canceled"]);
    let done_at = |st: &str| {
        if status == st {
            Value::from(fmt_ts(updated, style))
        } else {
            Value::Null
        }
    };
    let value = json!({
        "id": id,
        "store": {"id": parent.store_id.unwrap_or_default()},
        "name": format!("#{}", 1000 + idx),
        "number": format!("{}", 1000 + idx),
        "currency": cur,
        "status": status,
        "financial_status": pick(rng, &["paid", "paid", "unpaid", "partially_paid", "refunded", "partially_refunded"]),
        "fulfillment_status": pick(rng, &["unfulfilled", "partially_fulfilled", "fulfilled"]),
        "order_total": amount(rng, 10, 500),
        "shipping_total": amount(rng, 0, 20),
        "tax_total": amount(rng, 0, 40),
        "discount_total": amount(rng, 0, 20),
        "subtotal": amount(rng, 10, 480),
        "items": items,
        "note": if rng.bool() { Value::from("Gift wrap please") } else { Value::Null },
        "source_created_at": fmt_ts(src_created, style),
        "source_updated_at": fmt_ts(updated, style),
        "created_at": c,
        "updated_at": u,
        "customer": {"id": format!("{}", rng.u64(1_000_000..9_999_999)), "first_name": f, "last_name": l, "emails": [e], "locale": "en-US", "phones": [phone(rng)]},
        "shipping_address": address_commerce(rng, false),
        "billing_address": address_commerce(rng, false),
        "tags": if rng.bool() { json!(["wholesale"]) } else { json!([]) },
        "shipping_method": pick(rng, &["Standard", "Express"]),
        "delivery_method": if pickup { "pickup" } else { "shipping" },
        "pickup_location": if pickup { json!({"location_id": format!("loc-{}", rng.u32(1..20)), "address": address_commerce(rng, true), "opening_hours": opening_hours(rng)}) } else { Value::Null },
        "pickup_info": if pickup { json!({"instructions": "Bring your ID", "estimated_ready_for_pickup_at": {"min": c, "max": u}, "pickup_deadline_at": Value::Null}) } else { Value::Null },
        "status_timestamps": {"opened_at": fmt_ts(src_created, style), "canceled_at": done_at("canceled"), "closed_at": done_at("closed")},
        "custom_fields": {},
    });
    Built {
        key: id,
        value,
        source_created: Some(src_created),
    }
}

#[allow(clippy::too_many_arguments)]
fn product(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    style: TsStyle,
    c: String,
    u: String,
    parent: &Parent<'_>,
) -> Built {
    let id = format!("{}", 8_000_000_000_000u64 + idx as u64 * 7 + rng.u64(..7));
    let title = pick(rng, PRODUCTS);
    let src_created = created - Duration::seconds(rng.i64(0..172_800));
    let variants: Vec<Value> = (0..rng.usize(1..4))
        .map(|k| {
            json!({
                "id": format!("{}{k}", id),
                "available_quantity": rng.i32(-2..200),
                "sku": format!("SKU-{}", rng.u32(1000..9999)),
                "title": pick(rng, &["S", "M", "L", "Default Title"]),
                "price": amount(rng, 5, 200),
                "image_urls": [],
                "compare_at_price": amount(rng, 5, 250),
                "weight": {"unit": "kg", "value": (rng.u32(1..50) as f64) / 10.0},
                "allow_backorder": rng.bool(),
                "options": [{"name": "Size", "value": pick(rng, &["S", "M", "L"])}],
            })
        })
        .collect();
    let value = json!({
        "id": id,
        "store": {"id": parent.store_id.unwrap_or_default()},
        "title": title,
        "slug": format!("{}-{idx}", title.to_lowercase().replace([' ', '(', ')'], "-")),
        "categories": ["apparel"],
        "tags": if rng.bool() { json!(["new"]) } else { json!([]) },
        "image_urls": [format!("https://cdn.example.com/p/{}.jpg", hex(rng, 8))],
        "url": format!("https://shop.example.com/products/{idx}"),
        "published": rng.u8(..10) != 0,
        "description": format!("<p>{title}</p>"),
        "variants": variants,
        "source_created_at": fmt_ts(src_created, style),
        "source_updated_at": fmt_ts(updated, style),
        "created_at": c,
        "updated_at": u,
    });
    Built {
        key: id,
        value,
        source_created: Some(src_created),
    }
}

#[allow(clippy::too_many_arguments)]
fn fulfillment(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    style: TsStyle,
    c: String,
    u: String,
    parent: &Parent<'_>,
) -> Built {
    let id = format!("{}", 6_000_000_000_000u64 + idx as u64 * 7 + rng.u64(..7));
    let pickup = rng.u8(..10) == 0;
    let slug = pick(rng, COURIERS).0;
    // AfterShip's fulfillment statuses differ by delivery method.
    let status = if pickup {
        pick(
            rng,
            &[
                "pending",
                "processing",
                "ready_for_pickup",
                "ready_for_pickup",
                "picked_up",
                "picked_up",
                "canceled",
            ],
        )
    } else {
        pick(
            rng,
            &[
                "pending",
                "processing",
                "shipped",
                "shipped",
                "shipped",
                "canceled",
            ],
        )
    };
    let value = json!({
        "id": id,
        "order_id": parent.order_id.unwrap_or_default(),
        "delivery_method": if pickup { "pickup" } else { "shipping" },
        "status": status,
        "line_items": [{
            "id": format!("{}", rng.u64(10_000_000_000..99_999_999_999)),
            "product_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
            "product_variant_id": format!("{}", rng.u64(1_000_000_000..9_999_999_999)),
            "product_title": pick(rng, PRODUCTS),
            "product_variant_title": "Default Title",
            "sku": format!("SKU-{}", rng.u32(1000..9999)),
            "quantity": rng.u32(1..3),
            "unit_price": {"currency": "USD", "amount": amount(rng, 5, 200)},
            "unit_weight": {"unit": "kg", "value": 0.5},
            "image_urls": [],
        }],
        "source_created_at": fmt_ts(created, style),
        "source_updated_at": fmt_ts(updated, style),
        "created_at": c,
        "updated_at": u,
        "ship_from_location": {"location_id": format!("loc-{}", rng.u32(1..20)), "address": address_commerce(rng, false)},
        "pickup_location": if pickup { json!({"location_id": format!("loc-{}", rng.u32(1..20)), "address": address_commerce(rng, true), "opening_hours": opening_hours(rng)}) } else { Value::Null },
        "trackings": if pickup || status == "pending" { json!([]) } else { json!([{
            "tracking_number": format!("TN{}", rng.u64(100_000_000..999_999_999)),
            "slug": slug,
            "service_type": Value::Null,
            "ship_date": fmt_date(created),
            "custom_fields": {},
            "next_couriers": [],
        }]) },
        "pickup_info": if pickup { json!({"instructions": "Bring your ID", "estimated_ready_for_pickup_at": {"min": c, "max": u}, "pickup_deadline_at": fmt_ts(updated + Duration::days(7), style)}) } else { Value::Null },
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn rate(rng: &mut Rng, created: DateTime<Utc>) -> Value {
    let slug = pick(rng, COURIERS).0;
    let ok = rng.u8(..5) != 0;
    let n = rng.usize(..1_000_000);
    json!({
        "shipper_account": {"id": uuid(rng, n), "slug": slug, "description": format!("{slug} account")},
        "service_type": format!("{slug}_ground"),
        "service_name": "Ground",
        "pickup_deadline": Value::Null,
        "booking_cut_off": Value::Null,
        "delivery_date": if ok { Value::from(fmt_ts(created + Duration::days(3), TsStyle::Plus00)) } else { Value::Null },
        "transit_time": if ok { Value::from(rng.u32(1..7)) } else { Value::Null },
        "total_charge": if ok { json!({"amount": (rng.u32(500..20_000) as f64) / 100.0, "currency": "USD"}) } else { Value::Null },
        "charge_weight": {"value": (rng.u32(1..300) as f64) / 10.0, "unit": "kg"},
        "detailed_charges": if ok { json!([{"type": "base", "charge": {"amount": (rng.u32(500..10_000) as f64) / 100.0, "currency": "USD"}}]) } else { json!([]) },
        "error_message": Value::Null,
        "info_message": if ok { Value::Null } else { Value::from("No rate quotes returned from carrier.") },
    })
}

fn label(rng: &mut Rng, idx: usize, created: DateTime<Utc>, c: String, u: String) -> Built {
    let id = uuid(rng, idx);
    let status = pick(
        rng,
        &[
            "created",
            "created",
            "created",
            "cancelled",
            "manifested",
            "failed",
        ],
    );
    let tn = format!("{}", rng.u64(100_000_000_000..999_999_999_999));
    let day = fmt_date(created);
    let value = json!({
        "id": id,
        "status": status,
        "ship_date": day,
        "tracking_numbers": if status == "failed" { json!([]) } else { json!([tn]) },
        "carrier_references": if rng.u8(..5) == 0 {
            json!([{"pickup_reference": format!("PRN{}", rng.u32(100_000..999_999)), "pickup_location_code": format!("LOC{}", rng.u32(100..999))}])
        } else { json!([]) },
        "files": {
            "label": {"paper_size": pick(rng, &["4x6", "a4", "default"]), "url": format!("https://sandbox-download.example.com/label/{day}/{}.pdf", hex(rng, 16)), "file_type": "pdf"},
            "invoice": if rng.bool() { json!({"paper_size": "a4", "url": format!("https://sandbox-download.example.com/invoice/{day}/{}.pdf", hex(rng, 16)), "file_type": "pdf"}) } else { Value::Null },
            "customs_declaration": Value::Null,
            "manifest": Value::Null,
            "packing_slip": Value::Null,
            "qr_code": Value::Null,
        },
        "rate": rate(rng, created),
        "created_at": c,
        "updated_at": u,
        "references": [format!("REF-{}", rng.u32(1000..9999))],
        "shipper_account": {"id": uuid(rng, idx)},
        "service_type": "fedex_ground",
        "order_number": format!("#{}", 1000 + idx),
        "service_options": [],
        "order_id": format!("ord_{}", hex(rng, 10)),
        "custom_fields": {"warehouse": pick(rng, &["east", "west"])},
        "carrier_redirect_link": Value::Null,
    });
    Built {
        key: id,
        value,
        source_created: None,
    }
}

fn shipping_courier(rng: &mut Rng, idx: usize) -> Built {
    let (slug, name) = if idx < COURIERS.len() {
        (COURIERS[idx].0.to_string(), COURIERS[idx].1.to_string())
    } else {
        (format!("carrier-{idx}"), format!("Carrier {idx}"))
    };
    let value = json!({
        "slug": slug,
        "name": name,
        "operations": {
            "post@labels": true,
            "post@cancel-labels": rng.bool(),
            "post@rates": true,
            "post@manifests": rng.bool(),
        },
        "ship_from": if rng.bool() { "Global" } else { pick(rng, PLACES).0 },
        "ship_to": "Global",
        "paper_sizes": ["4x6", "a4", "default"],
        "courier_service_types": [
            {"service_type": format!("{slug}_ground"), "service_name": "Ground", "ship_from.country": "USA, CAN"},
            {"service_type": format!("{slug}_express"), "service_name": "Express", "ship_from.country": "All countries"},
        ],
        "courier_box_types": [
            {"box_name": "Custom", "box_type": "custom", "box_size_cm": {}, "box_size_in": {}},
            {"box_name": format!("{name} Envelope"), "box_type": format!("{slug}_envelope"), "box_size_cm": {"width": "24.1", "height": "31.8", "depth": "2.54"}, "box_size_in": {}},
        ],
    });
    Built {
        key: slug,
        value,
        source_created: None,
    }
}

/// The carrier location search: a deterministic list derived from the search inputs.
pub fn locations(
    search_seed: u64,
    slug: &str,
    country: &str,
    city: &str,
    n: usize,
    unit: &str,
) -> Vec<Value> {
    let mut rng = Rng::with_seed(search_seed);
    (0..n)
        .map(|i| {
            let lid = format!("{slug}-{}-{:03}", hex(&mut rng, 10), i);
            json!({
                "location_id": lid,
                "name": format!("{} Service Point {}", slug.to_uppercase(), i + 1),
                "distance": ((i as f64) * 0.7 + rng.f64() * 0.5 * 100.0).round() / 100.0 + i as f64 * 0.4,
                "distance_unit": unit,
                "phone": phone(&mut rng),
                "services": ["drop_off", "pick_up"],
                "address": {
                    "street": format!("{} MAIN ST", rng.u32(1..999)),
                    "postal_code": format!("{}", rng.u32(10_000..99_999)),
                    "city": if city.is_empty() { Value::Null } else { Value::from(city) },
                    "state": Value::Null,
                    "country": country,
                    "latitude": ((rng.f64() * 120.0 - 60.0) * 1e6).round() / 1e6,
                    "longitude": ((rng.f64() * 340.0 - 170.0) * 1e6).round() / 1e6,
                },
                "business_hours": [
                    {"day_of_week": "Mon", "open_time": "09:00", "close_time": "18:00"},
                    {"day_of_week": "Tue", "open_time": "09:00", "close_time": "18:00"},
                    {"day_of_week": "Wed", "open_time": "09:00", "close_time": "18:00"},
                    {"day_of_week": "Thu", "open_time": "09:00", "close_time": "18:00"},
                    {"day_of_week": "Fri", "open_time": "09:00", "close_time": "18:00"},
                    {"day_of_week": "Sat", "open_time": "10:00", "close_time": "14:00"},
                ],
                "instructions": if rng.bool() { Value::from("Ask at the counter") } else { Value::Null },
                "location_type": pick(&mut rng, &["service_point", "locker", "post_office"]),
                "business_classification": pick(&mut rng, &["retail", "carrier_owned"]),
                "courier_specific": if slug == "ups" {
                    json!({"ups": {"public_access_point_id": format!("U{}", rng.u32(10_000_000..99_999_999))}})
                } else { Value::Null },
            })
        })
        .collect()
}

/// Change a visible field of a record and stamp it updated (used by `/__sandbox/advance`).
/// The timestamp style of a record's `updated_at` (so a change keeps it).
pub fn updated_style(v: &Value) -> TsStyle {
    match v.get("updated_at").and_then(Value::as_str) {
        Some(s) if s.ends_with('Z') && s.contains('.') => TsStyle::Millis,
        Some(s) if s.ends_with('Z') => TsStyle::Zulu,
        Some(s) if s.ends_with("+08:00") => TsStyle::Offset(8),
        Some(s) if s.ends_with("+01:00") => TsStyle::Offset(1),
        Some(s) if s.ends_with("-05:00") => TsStyle::Offset(-5),
        _ => TsStyle::Plus00,
    }
}

pub fn mutate(stream: StreamId, v: &mut Value, now: DateTime<Utc>, rng: &mut Rng) {
    let style = updated_style(v);
    let ts = fmt_ts(now, style);
    v["updated_at"] = Value::from(ts.clone());
    let rotate = |v: &mut Value, field: &str, values: &[&str]| {
        let cur = v.get(field).and_then(Value::as_str).unwrap_or("");
        let pos = values
            .iter()
            .position(|x| *x == cur)
            .map(|p| p + 1)
            .unwrap_or(0);
        v[field] = Value::from(values[pos % values.len()]);
    };
    use StreamId::*;
    match stream {
        Trackings => {
            rotate(
                v,
                "tag",
                &["InfoReceived", "InTransit", "OutForDelivery", "Delivered"],
            );
            let tag = v["tag"].as_str().unwrap_or("InTransit").to_string();
            v["subtag"] = Value::from(format!("{tag}_001"));
            v["subtag_message"] = Value::from(tag);
            let n = v.get("tracked_count").and_then(Value::as_u64).unwrap_or(0);
            v["tracked_count"] = Value::from(n + 1);
        }
        CourierConnections => {
            v["credentials"]["api_key"] = Value::from(hex(rng, 20));
        }
        QueryClaims => rotate(
            v,
            "status",
            &["submitted", "under_review", "approved", "paid"],
        ),
        QueryCoverages => rotate(v, "status", &["activated", "claimed", "expired"]),
        Stores => {
            v["description"] = Value::from(format!("An online store (rev {})", hex(rng, 4)));
            v["source_updated_at"] = Value::from(ts);
        }
        Orders => {
            rotate(
                v,
                "fulfillment_status",
                &["unfulfilled", "partially_fulfilled", "fulfilled"],
            );
            v["source_updated_at"] = Value::from(ts);
        }
        Products => {
            let q = rng.i32(0..500);
            if let Some(first) = v.get_mut("variants").and_then(|x| x.get_mut(0)) {
                first["available_quantity"] = Value::from(q);
            }
            v["source_updated_at"] = Value::from(ts);
        }
        Fulfillments => {
            if v.get("delivery_method").and_then(Value::as_str) == Some("pickup") {
                rotate(v, "status", &["ready_for_pickup", "picked_up"]);
            } else {
                rotate(v, "status", &["pending", "processing", "shipped"]);
            }
            v["source_updated_at"] = Value::from(ts);
        }
        ShippingRates => rotate(v, "status", &["calculating", "calculated"]),
        ShippingLabels => rotate(v, "status", &["created", "manifested", "cancelled"]),
        ShippingManifests => rotate(v, "status", &["manifesting", "manifested"]),
        CancelLabels => rotate(v, "status", &["cancelling", "cancelled"]),
        Pickups => rotate(
            v,
            "status",
            &["creating", "created", "cancelling", "cancelled"],
        ),
        CancelPickups => rotate(v, "status", &["cancelling", "cancelled"]),
        ShipperAccounts => {
            v["description"] = Value::from(format!("account rev {}", hex(rng, 4)));
        }
        _ => {}
    }
}
