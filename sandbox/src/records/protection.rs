//! Protection API records: claims and coverages.

use super::*;

pub(super) fn claim(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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

pub(super) fn coverage(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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
