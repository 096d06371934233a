//! Commerce API records: stores, orders, products, fulfillments.

use super::*;

pub(super) fn address_commerce(rng: &mut Rng, with_coord: bool) -> Value {
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
pub(super) fn address_store(rng: &mut Rng) -> Value {
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

pub(super) fn opening_hours(rng: &mut Rng) -> Value {
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

pub(super) fn store(
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

pub(super) fn line_item(rng: &mut Rng, cur: &str) -> Value {
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
pub(super) fn order(
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
pub(super) fn product(
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
pub(super) fn fulfillment(
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
