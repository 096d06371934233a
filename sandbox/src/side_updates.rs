//! Orders changed on AfterShip's side: `updated_at` (AfterShip's record time) and
//! `fulfillment_status` move while `source_created_at` / `source_updated_at` (the store
//! platform's times) stay as they were, as when a merchant creates a fulfillment
//! through AfterShip's own API or re-imports a store.

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::data::{Dataset, sample_distinct};
use crate::records;
use crate::state::{AppState, lock};
use crate::streams::StreamId;
use crate::timefmt::{fmt_ts, parse_any};

/// One order changed on AfterShip's side.
#[derive(Debug, Clone, Serialize)]
pub struct SideChange {
    pub store_id: String,
    pub id: String,
    pub updated_at: String,
    pub source_updated_at: String,
    pub fulfillment_status: String,
    /// The fulfillment created with the change, if asked for.
    pub fulfillment_id: Option<String>,
}

/// Which orders one AfterShip-side update changes.
#[derive(Debug, Clone)]
pub struct SidePick<'a> {
    /// Only this store's orders; all stores when `None`.
    pub store: Option<&'a str>,
    pub count: usize,
    /// Only orders whose `source_updated_at` is at least this many days before now.
    pub min_age_days: u32,
    /// Also create one fulfillment (created now) for each changed order.
    pub fulfillment: bool,
}

const STATUSES: [&str; 3] = ["unfulfilled", "partially_fulfilled", "fulfilled"];

fn next_status(cur: Option<&str>) -> &'static str {
    let pos = STATUSES
        .iter()
        .position(|s| Some(*s) == cur)
        .map_or(0, |p| p + 1);
    STATUSES[pos % STATUSES.len()]
}

impl Dataset {
    /// Change `pick.count` seeded-random old orders (fewer if fewer qualify) on
    /// AfterShip's side at `now`; orders already updated at `now` are not picked.
    pub fn aftership_side_update(
        &mut self,
        now: DateTime<Utc>,
        pick: &SidePick<'_>,
    ) -> Vec<SideChange> {
        let cutoff = now - Duration::days(i64::from(pick.min_age_days));
        let orders = self.records(StreamId::Orders);
        let candidates: Vec<usize> = orders
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                pick.store.is_none_or(|s| r.store_id.as_deref() == Some(s))
                    && r.updated != Some(now)
                    && r.created.is_some_and(|c| c <= now)
                    && r.str_field("source_updated_at")
                        .and_then(parse_any)
                        .is_some_and(|t| t <= cutoff)
            })
            .map(|(i, _)| i)
            .collect();
        let chosen: Vec<usize> = sample_distinct(&mut self.rng, candidates.len(), pick.count)
            .into_iter()
            .map(|i| candidates[i])
            .collect();
        let mut out = Vec::with_capacity(chosen.len());
        for i in chosen {
            let rec = &mut self.streams[StreamId::Orders.index()][i];
            let mut v = rec.value();
            let ts = fmt_ts(now, records::updated_style(&v));
            v["updated_at"] = Value::from(ts.clone());
            let status = next_status(v.get("fulfillment_status").and_then(Value::as_str));
            v["fulfillment_status"] = Value::from(status);
            rec.updated = Some(now);
            rec.set_value(&v);
            out.push(SideChange {
                store_id: rec.store_id.clone().unwrap_or_default(),
                id: rec.key.clone(),
                updated_at: ts,
                source_updated_at: v["source_updated_at"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                fulfillment_status: status.to_string(),
                fulfillment_id: None,
            });
        }
        if pick.fulfillment && !out.is_empty() {
            for c in &mut out {
                let mut rng = Rng::with_seed(self.rng.u64(..));
                let key = self.insert_with(
                    StreamId::Fulfillments,
                    now,
                    &mut rng,
                    Some(c.store_id.clone()),
                    Some(c.id.clone()),
                );
                c.fulfillment_id = Some(key);
            }
            self.sort(StreamId::Fulfillments);
        }
        out
    }
}

impl AppState {
    /// Run one AfterShip-side update at the sandbox clock's now (the clock does not
    /// move) and log it for `GET /__sandbox/aftership-side-updates`.
    pub fn side_update(&self, pick: &SidePick<'_>) -> (DateTime<Utc>, Vec<SideChange>) {
        let (now, changes) = {
            let mut ds = self.data_mut();
            let now = self.now();
            let changes = ds.aftership_side_update(now, pick);
            (now, changes)
        };
        lock(&self.side_log).extend(changes.iter().cloned());
        (now, changes)
    }

    /// Every AfterShip-side change since start.
    pub fn side_changes(&self) -> Vec<SideChange> {
        lock(&self.side_log).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_rotate() {
        assert_eq!(next_status(Some("unfulfilled")), "partially_fulfilled");
        assert_eq!(next_status(Some("fulfilled")), "unfulfilled");
        assert_eq!(next_status(None), "unfulfilled");
    }
}
