//! Admin endpoints of the store/order modes: AfterShip-side order updates, what
//! vanished, and the check of a `/__sandbox/config` update that sets these modes.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::json;

use crate::admin::{bad, json_body};
use crate::config::RuntimeUpdate;
use crate::modes::{self, StoreRef, check_ignore_date_filters, default_min_age_days};
use crate::side_updates::SidePick;
use crate::state::AppState;

/// Check the mode fields of a config update and resolve store indices and order
/// indices to ids (against the data as it is now).
pub fn check_and_resolve(st: &AppState, update: &mut RuntimeUpdate) -> Result<(), String> {
    if let Some(Some(su)) = &update.aftership_side_updates {
        su.check()?;
    }
    if let Some(p) = &update.ignore_date_filters {
        check_ignore_date_filters(p)?;
    }
    if update.forbidden_stores.is_none()
        && update.vanishing_stores.is_none()
        && update.vanishing_orders.is_none()
    {
        return Ok(());
    }
    let ds = st.data();
    let r = modes::resolve(
        &ds,
        update.forbidden_stores.as_deref().unwrap_or_default(),
        update.vanishing_stores.as_deref().unwrap_or_default(),
        update.vanishing_orders.as_deref().unwrap_or_default(),
    )?;
    if update.forbidden_stores.is_some() {
        update.forbidden_stores = Some(r.forbidden_stores);
    }
    if update.vanishing_stores.is_some() {
        update.vanishing_stores = Some(r.vanishing_stores);
    }
    if update.vanishing_orders.is_some() {
        update.vanishing_orders = Some(r.vanishing_orders);
    }
    Ok(())
}

/// Body of `POST /__sandbox/aftership-side-update`.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct SideUpdateBody {
    pub store: Option<StoreRef>,
    pub count: usize,
    pub min_age_days: u32,
    pub fulfillment: bool,
}

impl Default for SideUpdateBody {
    fn default() -> Self {
        SideUpdateBody {
            store: None,
            count: 1,
            min_age_days: default_min_age_days(),
            fulfillment: false,
        }
    }
}

/// Change `count` old orders on AfterShip's side now; answer which.
pub async fn side_update(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let b: SideUpdateBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    let store = match &b.store {
        Some(r) => match r.resolve(&st.data()) {
            Ok(id) => Some(id),
            Err(e) => return bad(e),
        },
        None => None,
    };
    let (now, orders) = st.side_update(&SidePick {
        store: store.as_deref(),
        count: b.count,
        min_age_days: b.min_age_days,
        fulfillment: b.fulfillment,
    });
    Json(json!({
        "now": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "orders": orders,
    }))
    .into_response()
}

/// `{"orders": [...]}`: every AfterShip-side change since start, oldest first.
pub async fn side_updates(State(st): State<Arc<AppState>>) -> Response {
    Json(json!({ "orders": st.side_changes() })).into_response()
}

/// `{"stores": [id], "orders": [{"store_id", "id"}]}`: what vanished so far.
pub async fn vanished(State(st): State<Arc<AppState>>) -> Response {
    Json(st.vanished()).into_response()
}
