//! Shipping API records: rates, labels, manifests, couriers, cancel-labels, pickups,
//! cancel-pickups, shipper accounts, carrier locations.

use super::*;

/// A Shipping `Address.v3` (Postmen style: `street1`, `country` alpha-3, tax and
/// identification fields mostly null).
pub(super) fn address_shipping(rng: &mut Rng) -> Value {
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

pub(super) fn rate(rng: &mut Rng, created: DateTime<Utc>) -> Value {
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

pub(super) fn rate_request(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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

pub(super) fn label(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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

pub(super) fn manifest(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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

pub(super) fn shipping_courier(rng: &mut Rng, idx: usize) -> Built {
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

pub(super) fn cancel_label(rng: &mut Rng, idx: usize, c: String, u: String) -> Built {
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

pub(super) fn pickup(
    rng: &mut Rng,
    idx: usize,
    created: DateTime<Utc>,
    c: String,
    u: String,
) -> Built {
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

pub(super) fn cancel_pickup(rng: &mut Rng, idx: usize, c: String, u: String) -> Built {
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

pub(super) fn shipper_account(rng: &mut Rng, idx: usize, c: String, u: String) -> Built {
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
