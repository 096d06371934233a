//! Settings of the partition-failure and "AfterShip bends its rules" modes: stores that
//! answer 403, stores and orders that vanish, orders changed on AfterShip's side, date
//! filters that are ignored. Types, CLI forms and the check of each; what they do lives
//! in `vanish.rs`, `side_updates.rs` and the handlers.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::products::Product;
use crate::streams::StreamId;

/// A store named by its id, or by its 0-based position in `GET /stores` (newest created
/// first) when the mode is set. Settings always hold the id (resolved at set time).
/// JSON: a string is an id, a number an index; CLI: all digits is an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoreRef {
    Index(usize),
    Id(String),
}

impl std::str::FromStr for StoreRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty store reference".to_string());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<usize>()
                .map(StoreRef::Index)
                .map_err(|e| format!("bad store index {s:?}: {e}"));
        }
        Ok(StoreRef::Id(s.to_string()))
    }
}

impl StoreRef {
    /// The store's id: an index is looked up in `/stores`' order; an id must exist.
    pub fn resolve(&self, ds: &Dataset) -> Result<String, String> {
        let stores = ds.records(StreamId::Stores);
        match self {
            StoreRef::Index(i) => stores
                .get(*i)
                .map(|r| r.key.clone())
                .ok_or_else(|| format!("there is no store at index {i} ({} stores)", stores.len())),
            StoreRef::Id(id) if ds.store_ids.contains(id) => Ok(id.clone()),
            StoreRef::Id(id) => Err(format!("unknown store {id:?}")),
        }
    }

    /// The id, once resolved.
    pub fn id(&self) -> Option<&str> {
        match self {
            StoreRef::Id(s) => Some(s),
            StoreRef::Index(_) => None,
        }
    }
}

/// A store that is deleted after it answered `after_requests` Commerce requests (those
/// carrying its `as-store-id` and answered 200, counted from the moment the mode is
/// set); 0 = at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VanishingStore {
    pub store: StoreRef,
    #[serde(default)]
    pub after_requests: u64,
}

/// An order (by `order` id or by `index`: 0-based in its store's default order list,
/// newest `source_created_at` first) that is deleted, with its fulfillments, once its
/// store answered `after_requests` Commerce requests with 200 **and** it was served in
/// `after_listed` orders pages (both counted from the moment the mode is set; 0 and 0 =
/// at once). Afterwards its fulfillments request answers 404.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VanishingOrder {
    pub store: StoreRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(default)]
    pub after_requests: u64,
    #[serde(default)]
    pub after_listed: u64,
}

/// AfterShip-side order changes as the service runs: after every `every` answered API
/// requests, `count` orders (of all stores) whose `source_updated_at` is at least
/// `min_age_days` old get `updated_at` = now and a new `fulfillment_status`, their
/// `source_*` times untouched; with `fulfillment`, each also gets a new fulfillment
/// created now (as through AfterShip's own API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideUpdates {
    pub every: u64,
    pub count: usize,
    #[serde(default = "default_min_age_days")]
    pub min_age_days: u32,
    #[serde(default)]
    pub fulfillment: bool,
}

pub fn default_min_age_days() -> u32 {
    30
}

impl SideUpdates {
    pub fn check(&self) -> Result<(), String> {
        if self.every == 0 {
            return Err("aftership_side_updates.every must be at least 1".to_string());
        }
        Ok(())
    }
}

/// CLI `EVERY:COUNT[:MIN_AGE_DAYS[:fulfillment]]`, e.g. `20:3` or `20:3:60:fulfillment`.
impl std::str::FromStr for SideUpdates {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let form = "EVERY:COUNT[:MIN_AGE_DAYS[:fulfillment]]";
        let num = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("bad number {v:?} in {s:?} ({form})"))
        };
        let (every, count, age, ful) = match parts.as_slice() {
            [e, c] => (*e, *c, None, false),
            [e, c, a] => (*e, *c, Some(*a), false),
            [e, c, a, "fulfillment"] => (*e, *c, Some(*a), true),
            _ => return Err(format!("{s:?} is not {form}")),
        };
        let su = SideUpdates {
            every: num(every)?,
            count: usize::try_from(num(count)?).map_err(|e| e.to_string())?,
            min_age_days: match age {
                Some(a) => u32::try_from(num(a)?).map_err(|e| e.to_string())?,
                None => default_min_age_days(),
            },
            fulfillment: ful,
        };
        su.check()?;
        Ok(su)
    }
}

/// `ignore_date_filters` takes only the products whose lists filter on dates on the
/// server: Tracking (`created_at_*`, `updated_at_*` of trackings) and Shipping
/// (`created_at_*` of the six dated lists).
pub fn check_ignore_date_filters(products: &[Product]) -> Result<(), String> {
    match products
        .iter()
        .find(|p| !matches!(p, Product::Tracking | Product::Shipping))
    {
        Some(p) => Err(format!(
            "ignore_date_filters takes tracking or shipping, not {}",
            p.name()
        )),
        None => Ok(()),
    }
}

/// `key=value,key=value` (CLI forms of the vanishing modes).
fn pairs(s: &str) -> Result<Vec<(&str, &str)>, String> {
    s.split(',')
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| format!("{kv:?} in {s:?} is not KEY=VALUE"))
        })
        .collect()
}

fn count(k: &str, v: &str) -> Result<u64, String> {
    v.parse::<u64>().map_err(|_| format!("bad {k} {v:?}"))
}

/// CLI `store=REF[,after_requests=N]`.
impl std::str::FromStr for VanishingStore {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut store = None;
        let mut after_requests = 0;
        for (k, v) in pairs(s)? {
            match k {
                "store" => store = Some(v.parse()?),
                "after_requests" => after_requests = count(k, v)?,
                _ => return Err(format!("unknown key {k:?} (store, after_requests)")),
            }
        }
        Ok(VanishingStore {
            store: store.ok_or("store=REF is required")?,
            after_requests,
        })
    }
}

/// CLI `store=REF,order=ID|index=K[,after_requests=N][,after_listed=M]`.
impl std::str::FromStr for VanishingOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut vo = VanishingOrder {
            store: StoreRef::Index(0),
            order: None,
            index: None,
            after_requests: 0,
            after_listed: 0,
        };
        let mut store = false;
        for (k, v) in pairs(s)? {
            match k {
                "store" => {
                    vo.store = v.parse()?;
                    store = true;
                }
                "order" => vo.order = Some(v.to_string()),
                "index" => {
                    vo.index = Some(usize::try_from(count(k, v)?).map_err(|e| e.to_string())?)
                }
                "after_requests" => vo.after_requests = count(k, v)?,
                "after_listed" => vo.after_listed = count(k, v)?,
                _ => {
                    return Err(format!(
                        "unknown key {k:?} (store, order, index, after_requests, after_listed)"
                    ));
                }
            }
        }
        if !store {
            return Err("store=REF is required".to_string());
        }
        vo.check()?;
        Ok(vo)
    }
}

impl VanishingOrder {
    /// Exactly one of `order` and `index`.
    pub fn check(&self) -> Result<(), String> {
        match (&self.order, self.index) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("a vanishing order needs exactly one of `order` and `index`".to_string()),
        }
    }

    /// Store id and order id, looked up in the data set.
    pub fn resolve(&self, ds: &Dataset) -> Result<VanishingOrder, String> {
        self.check()?;
        let sid = self.store.resolve(ds)?;
        let mut in_store = ds
            .records(StreamId::Orders)
            .iter()
            .filter(|r| r.store_id.as_deref() == Some(sid.as_str()));
        let oid = match (&self.order, self.index) {
            (Some(o), _) => in_store
                .find(|r| &r.key == o)
                .map(|r| r.key.clone())
                .ok_or_else(|| format!("store {sid} has no order {o:?}"))?,
            (None, Some(k)) => in_store
                .nth(k)
                .map(|r| r.key.clone())
                .ok_or_else(|| format!("store {sid} has no order at index {k}"))?,
            (None, None) => return Err("`order` or `index` is required".to_string()),
        };
        Ok(VanishingOrder {
            store: StoreRef::Id(sid),
            order: Some(oid),
            index: None,
            ..self.clone()
        })
    }
}

/// The store-level modes, each resolved against the data set (indices become ids).
pub struct Resolved {
    pub forbidden_stores: Vec<StoreRef>,
    pub vanishing_stores: Vec<VanishingStore>,
    pub vanishing_orders: Vec<VanishingOrder>,
}

pub fn resolve(
    ds: &Dataset,
    forbidden: &[StoreRef],
    stores: &[VanishingStore],
    orders: &[VanishingOrder],
) -> Result<Resolved, String> {
    Ok(Resolved {
        forbidden_stores: forbidden
            .iter()
            .map(|r| r.resolve(ds).map(StoreRef::Id))
            .collect::<Result<_, _>>()?,
        vanishing_stores: stores
            .iter()
            .map(|v| {
                v.store.resolve(ds).map(|id| VanishingStore {
                    store: StoreRef::Id(id),
                    after_requests: v.after_requests,
                })
            })
            .collect::<Result<_, _>>()?,
        vanishing_orders: orders
            .iter()
            .map(|v| v.resolve(ds))
            .collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_forms() {
        assert_eq!("2".parse::<StoreRef>(), Ok(StoreRef::Index(2)));
        assert_eq!(
            "store-ab-1".parse::<StoreRef>(),
            Ok(StoreRef::Id("store-ab-1".into()))
        );
        let v: VanishingStore = "store=1,after_requests=5".parse().unwrap();
        assert_eq!(v.store, StoreRef::Index(1));
        assert_eq!(v.after_requests, 5);
        assert!("after_requests=5".parse::<VanishingStore>().is_err());
        let o: VanishingOrder = "store=0,index=3,after_listed=1".parse().unwrap();
        assert_eq!((o.index, o.after_listed, o.after_requests), (Some(3), 1, 0));
        assert!("store=0".parse::<VanishingOrder>().is_err());
        assert!("store=0,index=1,order=5".parse::<VanishingOrder>().is_err());
        let su: SideUpdates = "20:3".parse().unwrap();
        assert_eq!((su.every, su.count, su.min_age_days), (20, 3, 30));
        let su: SideUpdates = "5:1:60:fulfillment".parse().unwrap();
        assert!(su.fulfillment && su.min_age_days == 60);
        assert!("0:1".parse::<SideUpdates>().is_err());
        assert!(check_ignore_date_filters(&[Product::Tracking, Product::Shipping]).is_ok());
        assert!(check_ignore_date_filters(&[Product::Commerce]).is_err());
    }

    #[test]
    fn json_forms() {
        let v: Vec<StoreRef> = serde_json::from_str(r#"[1, "abc"]"#).unwrap();
        assert_eq!(v, vec![StoreRef::Index(1), StoreRef::Id("abc".into())]);
        let o: VanishingOrder = serde_json::from_str(r#"{"store": 0, "index": 2}"#).unwrap();
        assert_eq!(o.index, Some(2));
        let su: SideUpdates = serde_json::from_str(r#"{"every": 3, "count": 2}"#).unwrap();
        assert_eq!(su.min_age_days, 30);
    }
}
