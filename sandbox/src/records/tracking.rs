//! Tracking API records: trackings, couriers, courier connections.

use super::*;

pub(super) fn tracking(
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

pub(super) fn courier(rng: &mut Rng, idx: usize) -> Built {
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

pub(super) fn courier_connection(rng: &mut Rng, idx: usize, c: String, u: String) -> Built {
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
