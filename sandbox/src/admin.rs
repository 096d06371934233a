//! The `/__sandbox/` admin API (no auth): clock, truth, served bytes, stats, live
//! writes, runtime config.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{RuntimeSettings, RuntimeUpdate};
use crate::data::{Amount, Change};
use crate::data::{Dataset, Record};
use crate::handlers::{
    RETURNS_RETENTION_DAYS, TRACKING_RETENTION_DAYS, location_bytes, location_results,
    location_search, served_bytes,
};
use crate::params::Params;
use crate::state::AppState;
use crate::streams::StreamId;

pub(crate) fn bad(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdvanceBody {
    pub seconds: u64,
    pub update_fraction: f64,
    pub insert_fraction: f64,
}

#[derive(Debug, Serialize)]
pub struct AdvanceResult {
    pub now: String,
    pub updated: BTreeMap<String, usize>,
    pub inserted: BTreeMap<String, usize>,
}

/// Parse an optional JSON body (no content type needed; empty body = defaults).
pub(crate) fn json_body<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

pub async fn advance(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let b: AdvanceBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    if !(b.update_fraction.is_finite() && b.insert_fraction.is_finite())
        || b.update_fraction < 0.0
        || b.insert_fraction < 0.0
    {
        return bad("fractions must be finite and >= 0".to_string());
    }
    let change = Change {
        update: Amount::Fraction(b.update_fraction),
        insert: Amount::Fraction(b.insert_fraction),
        fulfillments_leave_orders: st.settings().fulfillments_leave_orders,
    };
    let (now, changed) = st.advance(b.seconds, &change, false);
    Json(AdvanceResult {
        now: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        updated: changed.updated,
        inserted: changed.inserted,
    })
    .into_response()
}

/// The stream named by `?stream=`.
fn stream_param(params: &Params) -> Result<StreamId, String> {
    let name = params
        .get("stream")
        .ok_or("query parameter `stream` is required")?;
    StreamId::parse(name).ok_or_else(|| format!("unknown stream {name:?}"))
}

/// The records a client that reads everything it can is served at `now`, in the
/// API's order: retention applied (trackings 120 days, returns 365), nothing created
/// after now; Shipping lists as with an explicit `created_at_min` far in the past.
fn visible<'d>(
    ds: &'d Dataset,
    stream: StreamId,
    now: DateTime<Utc>,
    settings: &RuntimeSettings,
) -> Vec<&'d Record> {
    let floor = match stream {
        StreamId::Trackings => Some(now - Duration::days(TRACKING_RETENTION_DAYS)),
        StreamId::ItemReturns => Some(now - Duration::days(RETURNS_RETENTION_DAYS)),
        _ => None,
    };
    ds.records(stream)
        .iter()
        .filter(|r| match r.created {
            Some(c) => c <= now && floor.is_none_or(|f| c >= f),
            None => true,
        })
        // a forbidden store's records cannot be read
        .filter(|r| {
            r.store_id.as_deref().is_none_or(|s| {
                !settings.store_forbidden(s) && !settings.failing_stores.iter().any(|f| f == s)
            })
        })
        .collect()
}

/// What a client that reads everything it can is served right now.
pub async fn truth(State(st): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let stream = match stream_param(&params) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let settings = st.settings();
    // the clock is read under the data lock: a live-write burst moves both at once
    let ds = st.data();
    let now = st.now();
    let now_s = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let records: Vec<Value> = if stream == StreamId::Locations {
        match location_search(&params, st.seed, ds.locations_per_search) {
            Ok(s) => location_results(&s)
                .into_iter()
                .map(|v| json!({"id": v["location_id"], "created_at": null, "updated_at": null}))
                .collect(),
            Err(e) => return bad(e.body),
        }
    } else {
        visible(&ds, stream, now, &settings)
            .into_iter()
            .map(|r| {
                let mut o = json!({
                    "id": r.key,
                    "created_at": r.str_field("created_at"),
                    "updated_at": r.str_field("updated_at"),
                });
                if matches!(
                    stream,
                    StreamId::Orders | StreamId::Products | StreamId::Fulfillments
                ) {
                    o["store_id"] = json!(r.store_id);
                }
                if stream == StreamId::Fulfillments {
                    o["order_id"] = json!(r.order_id);
                }
                o
            })
            .collect()
    };
    Json(json!({"stream": stream.name(), "now": now_s, "records": records})).into_response()
}

/// The exact text of every record truth lists, in truth's order, as a GET of the
/// 2025-07 path (or the product's only version) serves it now, without faults.
pub async fn served(State(st): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let stream = match stream_param(&params) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    // served_bytes tells only 2026-07 apart; the other versions serve the same bytes
    const VERSION: &str = "2025-07";
    let settings = st.settings();
    let ds = st.data();
    let now = st.now();
    let texts: Vec<Bytes> = if stream == StreamId::Locations {
        match location_search(&params, st.seed, ds.locations_per_search) {
            Ok(s) => location_bytes(&s, VERSION, st.exact_probe),
            Err(e) => return bad(e.body),
        }
    } else {
        visible(&ds, stream, now, &settings)
            .into_iter()
            .map(|r| served_bytes(&r.json, stream, VERSION, st.exact_probe))
            .collect()
    };
    let records: Vec<Value> = texts
        .iter()
        .map(|b| Value::String(String::from_utf8_lossy(b).into_owned()))
        .collect();
    Json(json!({"stream": stream.name(), "records": records})).into_response()
}

pub async fn stats(State(st): State<Arc<AppState>>) -> Response {
    Json(st.stats.view()).into_response()
}

pub async fn stats_reset(State(st): State<Arc<AppState>>) -> Response {
    st.stats.reset();
    Json(json!({"ok": true})).into_response()
}

/// `{"bursts", "updated": {stream: n}, "inserted": {stream: n}}` of the live writes.
pub async fn writes(State(st): State<Arc<AppState>>) -> Response {
    Json(st.writes()).into_response()
}

pub async fn writes_reset(State(st): State<Arc<AppState>>) -> Response {
    st.reset_writes();
    Json(json!({"ok": true})).into_response()
}

pub async fn get_config(State(st): State<Arc<AppState>>) -> Response {
    Json(st.settings()).into_response()
}

pub async fn set_config(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let mut update: RuntimeUpdate = match json_body(&body) {
        Ok(u) => u,
        Err(e) => return bad(e),
    };
    if let Err(e) = crate::admin_modes::check_and_resolve(&st, &mut update) {
        return bad(e);
    }
    if let Some(Some(lw)) = &update.live_writes
        && let Err(e) = lw.check()
    {
        return bad(e);
    }
    if let Some(faults) = &update.faults {
        for f in faults {
            let s = format!("{}:{}", f.kind, f.rate);
            if let Err(e) = s.parse::<crate::faults::FaultSpec>() {
                return bad(e);
            }
        }
    }
    let new = {
        let mut g = match st.settings.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let faults_changed = update.faults.is_some();
        let live_changed = update.live_writes.is_some();
        let side_changed = update.aftership_side_updates.is_some();
        let vanish_changed = update.vanishing_stores.is_some() || update.vanishing_orders.is_some();
        g.apply(update);
        if faults_changed {
            st.faults.restart_count();
        }
        if live_changed {
            st.restart_live_count();
        }
        if side_changed {
            st.restart_side_count();
        }
        if vanish_changed {
            st.restart_vanish_counts();
        }
        g.clone()
    };
    // what is set to vanish after 0 requests goes now
    st.vanish_due(&new);
    Json(new).into_response()
}
