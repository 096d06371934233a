//! Returns API records: returns and item tags.

use super::*;

/// A Returns `Address`: `street_1`, `state.name`, `country_region.code`.
pub(super) fn address_returns(rng: &mut Rng, contact: Option<(&str, &str, &str)>) -> Value {
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

pub(super) fn item_return(
    rng: &mut Rng,
    ctx: &Ctx,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
) -> Built {
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

pub(super) fn item_tag(rng: &mut Rng, idx: usize, c: String) -> Built {
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
