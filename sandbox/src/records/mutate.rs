//! Changes of existing records: a visible field and `updated_at`.

use super::*;

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

/// Change a visible field of a record and stamp it updated (used by `/__sandbox/advance`
/// and live writes).
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
