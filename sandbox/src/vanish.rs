//! Stores and orders that vanish (are deleted at AfterShip) while clients read: the
//! request counts that trigger them and the deletion itself.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::config::RuntimeSettings;
use crate::data::Dataset;
use crate::state::{AppState, lock};
use crate::streams::StreamId;

/// Counts towards the vanishing modes, and what vanished so far.
#[derive(Debug, Default)]
pub struct VanishState {
    /// Store id → Commerce requests (orders, products, fulfillments) answered 200.
    store_answers: HashMap<String, u64>,
    /// (store id, order id) → orders pages that served it.
    listed: HashMap<(String, String), u64>,
    stores: BTreeSet<String>,
    orders: BTreeSet<(String, String)>,
}

/// `GET /__sandbox/vanished`.
#[derive(Debug, Serialize)]
pub struct VanishedView {
    pub stores: Vec<String>,
    pub orders: Vec<VanishedOrder>,
}

#[derive(Debug, Serialize)]
pub struct VanishedOrder {
    pub store_id: String,
    pub id: String,
}

impl Dataset {
    /// Delete a store with its orders, products and fulfillments.
    pub fn remove_store(&mut self, sid: &str) {
        for s in [
            StreamId::Stores,
            StreamId::Orders,
            StreamId::Products,
            StreamId::Fulfillments,
        ] {
            self.streams[s.index()].retain(|r| {
                if s == StreamId::Stores {
                    r.key != sid
                } else {
                    r.store_id.as_deref() != Some(sid)
                }
            });
        }
        self.store_ids.remove(sid);
    }

    /// Delete an order with its fulfillments; its fulfillments request answers 404.
    pub fn remove_order(&mut self, sid: &str, oid: &str) {
        let mine =
            |store: &Option<String>, order: &str| store.as_deref() == Some(sid) && order == oid;
        self.streams[StreamId::Orders.index()].retain(|r| !mine(&r.store_id, &r.key));
        self.streams[StreamId::Fulfillments.index()]
            .retain(|r| !mine(&r.store_id, r.order_id.as_deref().unwrap_or_default()));
        self.deleted_orders
            .insert((sid.to_string(), oid.to_string()));
    }
}

impl AppState {
    /// A Commerce request for store `sid` was answered 200, serving the orders
    /// `listed` (orders pages only); delete what is now due.
    pub fn commerce_answered(&self, sid: &str, listed: &[String]) {
        let settings = self.settings();
        if settings.vanishing_stores.is_empty() && settings.vanishing_orders.is_empty() {
            return;
        }
        {
            let mut v = lock(&self.vanish);
            *v.store_answers.entry(sid.to_string()).or_default() += 1;
            for oid in listed {
                *v.listed.entry((sid.to_string(), oid.clone())).or_default() += 1;
            }
        }
        self.vanish_due(&settings);
    }

    /// Delete every store and order whose counts reached their thresholds.
    pub fn vanish_due(&self, settings: &RuntimeSettings) {
        let mut v = lock(&self.vanish);
        let mut stores: Vec<String> = Vec::new();
        for vs in &settings.vanishing_stores {
            let Some(sid) = vs.store.id() else { continue };
            let answered = v.store_answers.get(sid).copied().unwrap_or(0);
            if !v.stores.contains(sid) && answered >= vs.after_requests {
                stores.push(sid.to_string());
            }
        }
        let mut orders: Vec<(String, String)> = Vec::new();
        for vo in &settings.vanishing_orders {
            let (Some(sid), Some(oid)) = (vo.store.id(), vo.order.as_deref()) else {
                continue;
            };
            let key = (sid.to_string(), oid.to_string());
            let answered = v.store_answers.get(sid).copied().unwrap_or(0);
            let listed = v.listed.get(&key).copied().unwrap_or(0);
            if !v.orders.contains(&key)
                && answered >= vo.after_requests
                && listed >= vo.after_listed
            {
                orders.push(key);
            }
        }
        if stores.is_empty() && orders.is_empty() {
            return;
        }
        let mut ds = self.data_mut();
        for sid in stores {
            ds.remove_store(&sid);
            v.stores.insert(sid);
        }
        for (sid, oid) in orders {
            ds.remove_order(&sid, &oid);
            v.orders.insert((sid, oid));
        }
    }

    /// The vanishing modes were (re)set: count from zero.
    pub fn restart_vanish_counts(&self) {
        let mut v = lock(&self.vanish);
        v.store_answers.clear();
        v.listed.clear();
    }

    pub fn vanished(&self) -> VanishedView {
        let v = lock(&self.vanish);
        VanishedView {
            stores: v.stores.iter().cloned().collect(),
            orders: v
                .orders
                .iter()
                .map(|(s, o)| VanishedOrder {
                    store_id: s.clone(),
                    id: o.clone(),
                })
                .collect(),
        }
    }
}
