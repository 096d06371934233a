//! Run-time configuration of a sandbox: the CLI and the library build one of these.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;
use crate::modes::{
    SideUpdates, StoreRef, VanishingOrder, VanishingStore, check_ignore_date_filters,
};
use crate::products::Product;
use crate::streams::StreamId;

/// The API key the sandbox accepts when none is configured.
pub const DEFAULT_API_KEY: &str = "sandbox-api-key-0123456789";

/// Everything that shapes one sandbox run.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of all generated data and of the fault dice.
    pub seed: u64,
    /// Number of trackings; the other streams scale from it (see README).
    pub records: usize,
    /// The only `as-api-key` value accepted.
    pub api_key: String,
    /// Added delay on every API request.
    pub latency_ms: u64,
    /// Enforce the documented rate limits.
    pub rate_limit: bool,
    /// Faults to inject.
    pub faults: Vec<FaultSpec>,
    /// Products that answer 403 to every request.
    pub deny: Vec<Product>,
    /// Per-stream record counts that override the ratios.
    pub counts: BTreeMap<String, usize>,
    /// The instant the data is generated relative to (default: now, whole seconds).
    /// Two sandboxes with the same seed and anchor serve the same bytes.
    pub anchor: Option<DateTime<Utc>>,
    /// Days of history the generated records' creation times spread over (400 by
    /// default, so retention windows matter; 120 puts every tracking inside the
    /// window the API serves, which large benchmarks want).
    pub history_days: u32,
    /// Stream name → the largest `limit` its endpoint accepts, for the streams whose
    /// maximum should be lower than the sandbox's (or, where AfterShip documents none —
    /// stores and the Shipping lists — different). Streams not listed keep theirs.
    /// See [`check_max_limit`].
    pub max_limits: BTreeMap<String, u64>,
    /// Fulfillments refuse any query parameter besides `order_id` or `ids[]` (`page`
    /// and `limit` included), the strict reading of "All other parameters should be
    /// omitted" (fact sheet §8). Changeable at run time.
    pub fulfillments_order_id_only: bool,
    /// Writes while clients read: a burst of changes after every `every` answered API
    /// requests. Changeable at run time.
    pub live_writes: Option<LiveWrites>,
    /// Fulfillment updates and inserts (by `/__sandbox/advance` and live writes) leave
    /// their order alone instead of moving its `updated_at` (fact sheet §8 does not say
    /// which AfterShip does). Changeable at run time.
    pub fulfillments_leave_orders: bool,
    /// Every served record of every stream starts with a `"probe"` member of exact
    /// bytes (unsorted keys, a 23-digit integer, a long decimal, escapes); see
    /// `/__sandbox/served`. What filters and truth read is unchanged.
    pub exact_probe: bool,
    /// A `limit` above an endpoint's maximum is served at the maximum (and echoed
    /// where the product echoes `limit`) instead of refused: the other reading of
    /// the docs, which say neither.
    pub clamp_limits: bool,
    /// Stores whose orders, products and fulfillments answer 403 (Commerce's
    /// envelope); other stores answer normally. Changeable at run time.
    pub forbidden_stores: Vec<StoreRef>,
    /// Store ids whose orders, products and fulfillments always answer 500 (a
    /// store AfterShip cannot serve: retries never help). Changeable at run time.
    pub failing_stores: Vec<String>,
    /// Stores deleted after answering some requests (then gone from `/stores`, and
    /// 412/41204 on their Commerce requests). Changeable at run time.
    pub vanishing_stores: Vec<VanishingStore>,
    /// Orders deleted (with their fulfillments) after some requests; their
    /// fulfillments then answer 404. Changeable at run time.
    pub vanishing_orders: Vec<VanishingOrder>,
    /// Orders changed on AfterShip's side (`updated_at`, `fulfillment_status`) while
    /// their `source_*` times stay old. Changeable at run time.
    pub aftership_side_updates: Option<SideUpdates>,
    /// Products (tracking, shipping) whose lists accept their date filters but ignore
    /// them. Changeable at run time.
    pub ignore_date_filters: Vec<Product>,
}

/// Live writes: after every `every` answered API requests (any status; admin
/// requests do not count) the sandbox advances its clock by `seconds`, marks `updates`
/// distinct random records updated in every stream with `updated_at` (at most all of
/// them) and inserts `inserts` new records into every stream that grows, all at once:
/// a request sees the data wholly before or wholly after a burst.
/// `"5:30:2:1".parse()` reads the CLI form `EVERY:SECONDS:UPDATES:INSERTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWrites {
    pub every: u64,
    pub seconds: u64,
    pub updates: usize,
    pub inserts: usize,
}

impl LiveWrites {
    /// `every` must be at least 1.
    pub fn check(&self) -> Result<(), String> {
        if self.every == 0 {
            return Err("live_writes.every must be at least 1".to_string());
        }
        Ok(())
    }
}

impl std::str::FromStr for LiveWrites {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let [every, seconds, updates, inserts] = parts.as_slice() else {
            return Err(format!("{s:?} is not EVERY:SECONDS:UPDATES:INSERTS"));
        };
        let num = |name: &str, v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("bad {name} {v:?} in {s:?} (EVERY:SECONDS:UPDATES:INSERTS)"))
        };
        let count = |name: &str, v: &str| {
            num(name, v).and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
        };
        let lw = LiveWrites {
            every: num("EVERY", every)?,
            seconds: num("SECONDS", seconds)?,
            updates: count("UPDATES", updates)?,
            inserts: count("INSERTS", inserts)?,
        };
        lw.check()?;
        Ok(lw)
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            seed: 42,
            records: 1000,
            api_key: DEFAULT_API_KEY.to_string(),
            latency_ms: 0,
            rate_limit: true,
            faults: Vec::new(),
            deny: Vec::new(),
            counts: BTreeMap::new(),
            anchor: None,
            history_days: 400,
            max_limits: BTreeMap::new(),
            fulfillments_order_id_only: false,
            live_writes: None,
            fulfillments_leave_orders: false,
            exact_probe: false,
            clamp_limits: false,
            forbidden_stores: Vec::new(),
            failing_stores: Vec::new(),
            vanishing_stores: Vec::new(),
            vanishing_orders: Vec::new(),
            aftership_side_updates: None,
            ignore_date_filters: Vec::new(),
        }
    }
}

impl SandboxConfig {
    /// Check what a struct literal can get wrong (the CLI checks the same as it
    /// parses). [`crate::Sandbox::start`] refuses a configuration that fails this.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(lw) = &self.live_writes {
            lw.check()?;
        }
        if let Some(su) = &self.aftership_side_updates {
            su.check()?;
        }
        check_ignore_date_filters(&self.ignore_date_filters)?;
        for vo in &self.vanishing_orders {
            vo.check()?;
        }
        self.max_limits_by_stream().map(|_| ())
    }

    /// `max_limits`, checked, by stream.
    pub(crate) fn max_limits_by_stream(&self) -> Result<BTreeMap<StreamId, u64>, String> {
        self.max_limits
            .iter()
            .map(|(k, &n)| check_max_limit(k, n).map(|s| (s, n)))
            .collect()
    }
}

/// Check one `max_limits` entry (`--max-limit STREAM=N`): the stream's endpoint takes
/// `limit`, `N` ≥ 1, and where AfterShip documents the maximum, `N` does not exceed
/// it (the sandbox never accepts a page size the docs refuse; only the undocumented
/// stores and Shipping maxima may also be raised).
pub fn check_max_limit(stream: &str, n: u64) -> Result<StreamId, String> {
    let s = StreamId::parse(stream).ok_or_else(|| format!("unknown stream {stream:?}"))?;
    let ps = s
        .page_size()
        .ok_or_else(|| format!("{stream} takes no `limit` parameter"))?;
    if n == 0 {
        return Err(format!("the maximum limit of {stream} must be at least 1"));
    }
    if ps.documented && n > ps.max {
        return Err(format!(
            "{stream}'s documented maximum limit is {}; a maximum of {n} would accept what AfterShip refuses",
            ps.max
        ));
    }
    Ok(s)
}

/// The part of the configuration that `/__sandbox/config` reads and changes at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeSettings {
    pub rate_limit: bool,
    pub latency_ms: u64,
    pub deny: Vec<Product>,
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub fulfillments_order_id_only: bool,
    #[serde(default)]
    pub fulfillments_leave_orders: bool,
    /// `null` when off.
    #[serde(default)]
    pub live_writes: Option<LiveWrites>,
    /// Store ids (indices are resolved when set).
    #[serde(default)]
    pub forbidden_stores: Vec<StoreRef>,
    #[serde(default)]
    pub failing_stores: Vec<String>,
    #[serde(default)]
    pub vanishing_stores: Vec<VanishingStore>,
    #[serde(default)]
    pub vanishing_orders: Vec<VanishingOrder>,
    /// `null` when off.
    #[serde(default)]
    pub aftership_side_updates: Option<SideUpdates>,
    #[serde(default)]
    pub ignore_date_filters: Vec<Product>,
}

/// A partial update of [`RuntimeSettings`] (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeUpdate {
    pub rate_limit: Option<bool>,
    pub latency_ms: Option<u64>,
    pub deny: Option<Vec<Product>>,
    pub faults: Option<Vec<FaultSpec>>,
    pub fulfillments_order_id_only: Option<bool>,
    pub fulfillments_leave_orders: Option<bool>,
    /// Absent: unchanged; `null`: off; an object: on (the request count restarts).
    #[serde(default, deserialize_with = "present")]
    pub live_writes: Option<Option<LiveWrites>>,
    pub forbidden_stores: Option<Vec<StoreRef>>,
    pub failing_stores: Option<Vec<String>>,
    pub vanishing_stores: Option<Vec<VanishingStore>>,
    pub vanishing_orders: Option<Vec<VanishingOrder>>,
    /// Absent: unchanged; `null`: off; an object: on (the request count restarts).
    #[serde(default, deserialize_with = "present")]
    pub aftership_side_updates: Option<Option<SideUpdates>>,
    pub ignore_date_filters: Option<Vec<Product>>,
}

/// A key that is present (even as `null`) reads as `Some`; an absent one stays `None`
/// through `#[serde(default)]`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl RuntimeSettings {
    pub fn apply(&mut self, update: RuntimeUpdate) {
        if let Some(v) = update.rate_limit {
            self.rate_limit = v;
        }
        if let Some(v) = update.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = update.deny {
            self.deny = v;
        }
        if let Some(v) = update.faults {
            self.faults = v;
        }
        if let Some(v) = update.fulfillments_order_id_only {
            self.fulfillments_order_id_only = v;
        }
        if let Some(v) = update.fulfillments_leave_orders {
            self.fulfillments_leave_orders = v;
        }
        if let Some(v) = update.live_writes {
            self.live_writes = v;
        }
        if let Some(v) = update.forbidden_stores {
            self.forbidden_stores = v;
        }
        if let Some(v) = update.failing_stores {
            self.failing_stores = v;
        }
        if let Some(v) = update.vanishing_stores {
            self.vanishing_stores = v;
        }
        if let Some(v) = update.vanishing_orders {
            self.vanishing_orders = v;
        }
        if let Some(v) = update.aftership_side_updates {
            self.aftership_side_updates = v;
        }
        if let Some(v) = update.ignore_date_filters {
            self.ignore_date_filters = v;
        }
    }

    /// Whether the store's Commerce lists answer 403.
    pub fn store_forbidden(&self, store: &str) -> bool {
        self.forbidden_stores.iter().any(|s| s.id() == Some(store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_limits_are_checked() {
        assert_eq!(check_max_limit("trackings", 50), Ok(StreamId::Trackings));
        assert_eq!(check_max_limit("trackings", 200), Ok(StreamId::Trackings));
        assert!(
            check_max_limit("trackings", 201).is_err(),
            "documented maximum"
        );
        assert!(check_max_limit("query_claims", 21).is_err());
        assert_eq!(check_max_limit("stores", 500), Ok(StreamId::Stores));
        assert_eq!(
            check_max_limit("shipping_labels", 250),
            Ok(StreamId::ShippingLabels)
        );
        assert!(check_max_limit("nope", 5).is_err());
        assert!(check_max_limit("orders", 0).is_err());
        for whole in [
            "couriers",
            "item_tags",
            "roles",
            "shipping_couriers",
            "locations",
        ] {
            assert!(check_max_limit(whole, 5).is_err(), "{whole}");
        }
        let cfg = SandboxConfig {
            max_limits: [("trackings".to_string(), 0)].into_iter().collect(),
            ..SandboxConfig::default()
        };
        assert!(cfg.validate().is_err());
        assert!(SandboxConfig::default().validate().is_ok());
    }

    #[test]
    fn live_writes_parse_and_check() {
        let lw: LiveWrites = "5:30:2:1".parse().unwrap();
        assert_eq!(
            lw,
            LiveWrites {
                every: 5,
                seconds: 30,
                updates: 2,
                inserts: 1
            }
        );
        for bad in [
            "0:30:2:1",
            "5:30:2",
            "5:30:2:1:0",
            "a:30:2:1",
            "5:-1:2:1",
            "",
        ] {
            assert!(bad.parse::<LiveWrites>().is_err(), "{bad}");
        }
        let cfg = SandboxConfig {
            live_writes: Some(LiveWrites { every: 0, ..lw }),
            ..SandboxConfig::default()
        };
        assert!(cfg.validate().is_err());
    }

    #[test]
    fn runtime_update_tells_null_from_absent() {
        let mut s = RuntimeSettings {
            rate_limit: true,
            latency_ms: 0,
            deny: Vec::new(),
            faults: Vec::new(),
            fulfillments_order_id_only: false,
            fulfillments_leave_orders: false,
            live_writes: None,
            forbidden_stores: Vec::new(),
            failing_stores: Vec::new(),
            vanishing_stores: Vec::new(),
            vanishing_orders: Vec::new(),
            aftership_side_updates: None,
            ignore_date_filters: Vec::new(),
        };
        let on: RuntimeUpdate = serde_json::from_str(
            r#"{"live_writes": {"every": 5, "seconds": 30, "updates": 2, "inserts": 1}}"#,
        )
        .unwrap();
        assert!(on.live_writes.is_some());
        s.apply(on);
        assert_eq!(s.live_writes.map(|l| l.every), Some(5));
        let absent: RuntimeUpdate = serde_json::from_str(r#"{"rate_limit": false}"#).unwrap();
        assert!(absent.live_writes.is_none());
        s.apply(absent);
        assert!(s.live_writes.is_some(), "an absent key leaves it as is");
        let off: RuntimeUpdate = serde_json::from_str(r#"{"live_writes": null}"#).unwrap();
        assert_eq!(off.live_writes, Some(None));
        s.apply(off);
        assert_eq!(s.live_writes, None);
    }
}
