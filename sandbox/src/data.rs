//! The in-memory data set: records per stream, each with its JSON pre-serialised once
//! (and again on mutation), kept in the API's default order.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;
use serde_json::Value;

use crate::products::Product;
use crate::records::{self, Ctx, Parent};
use crate::streams::StreamId;

/// One served record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The stream's own key: id, or slug (couriers), or code (roles).
    pub key: String,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Orders/products: `source_created_at` (orders sort on it).
    pub source_created: Option<DateTime<Utc>>,
    /// The few top-level fields that filters and truth read (see [`INDEXED`]).
    fields: Box<[(&'static str, Value)]>,
    /// The record's JSON, serialised once (and again on mutation). The full JSON tree is
    /// not kept: it would cost several times the bytes.
    pub json: Bytes,
}

/// Top-level fields kept beside the bytes for filtering; `account_email` is
/// `account.email` (memberships).
const INDEXED: &[&str] = &[
    "created_at",
    "updated_at",
    "slug",
    "tag",
    "courier_slug",
    "approval_status",
    "coverage_id",
    "source_id",
    "status",
    "published",
    "active",
    "source_updated_at",
];

fn index_fields(value: &Value) -> Box<[(&'static str, Value)]> {
    let mut f: Vec<(&'static str, Value)> = INDEXED
        .iter()
        .filter_map(|k| value.get(*k).map(|v| (*k, v.clone())))
        .collect();
    if let Some(e) = value.get("account").and_then(|a| a.get("email")) {
        f.push(("account_email", e.clone()));
    }
    f.into_boxed_slice()
}

impl Record {
    fn new(key: String, value: &Value) -> Record {
        Record {
            key,
            store_id: None,
            order_id: None,
            created: None,
            updated: None,
            source_created: None,
            fields: index_fields(value),
            json: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    /// The record as a JSON tree (parsed from its bytes).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    pub(crate) fn set_value(&mut self, value: &Value) {
        self.fields = index_fields(value);
        self.json = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
    }

    fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The value of an indexed top-level string field, if any.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::as_str)
    }

    /// The value of an indexed top-level boolean field, if any.
    pub fn bool_field(&self, name: &str) -> Option<bool> {
        self.field(name).and_then(Value::as_bool)
    }

    /// Sort key of the default order (newest first): orders use `source_created_at`.
    fn sort_key(&self, stream: StreamId) -> (Option<DateTime<Utc>>, &str) {
        if stream == StreamId::Orders {
            (self.source_created, &self.key)
        } else {
            (self.created, &self.key)
        }
    }
}

/// How many records of each stream a change touches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// `ceil(fraction × count)`, count = all the stream's records (`/__sandbox/advance`).
    Fraction(f64),
    /// A number of records (live writes).
    Count(usize),
}

impl Amount {
    /// Whether the change touches anything at all.
    fn is_some(self) -> bool {
        match self {
            Amount::Fraction(f) => f > 0.0,
            Amount::Count(n) => n > 0,
        }
    }

    /// How many records of a stream of `count` records (updates cap it at `count`).
    fn of(self, count: usize) -> usize {
        match self {
            Amount::Fraction(f) => (f.max(0.0) * count as f64).ceil() as usize,
            Amount::Count(n) => n,
        }
    }
}

/// One change of the data set ([`Dataset::advance`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Records marked updated per stream with `updated_at`.
    pub update: Amount,
    /// Records inserted per stream that grows.
    pub insert: Amount,
    /// Fulfillment updates and inserts do not touch their order.
    pub fulfillments_leave_orders: bool,
}

/// What a change did: records updated and inserted per stream name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changed {
    pub updated: BTreeMap<String, usize>,
    pub inserted: BTreeMap<String, usize>,
}

/// `k` distinct positions in `0..count`, in the order a partial Fisher-Yates shuffle
/// of `0..count` puts them first, with the same draws, in O(k) memory: only the
/// displaced entries are kept.
pub(crate) fn sample_distinct(rng: &mut Rng, count: usize, k: usize) -> Vec<usize> {
    let mut moved: HashMap<usize, usize> = HashMap::new();
    let mut out = Vec::with_capacity(k.min(count));
    for i in 0..k.min(count) {
        let j = rng.usize(i..count);
        let at_i = moved.get(&i).copied().unwrap_or(i);
        let at_j = moved.get(&j).copied().unwrap_or(j);
        moved.insert(j, at_i);
        out.push(at_j);
    }
    out
}

/// All records of all streams.
pub struct Dataset {
    pub streams: Vec<Vec<Record>>,
    pub store_ids: HashSet<String>,
    /// (store id, order id) of the orders that vanished: their fulfillments answer 404.
    pub deleted_orders: HashSet<(String, String)>,
    next_idx: Vec<usize>,
    ctx: Ctx,
    pub(crate) rng: Rng,
    /// How many candidates a location search yields.
    pub locations_per_search: usize,
}

fn stream_seed(seed: u64, stream: StreamId) -> u64 {
    // splitmix64 of (seed, stream index)
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(stream.index() as u64 + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Build one record (JSON serialised once) with its filter metadata. `fresh` marks a
/// record created just now: its source timestamps are "now" too.
#[allow(clippy::too_many_arguments)]
fn make_record(
    s: StreamId,
    rng: &mut Rng,
    ctx: &Ctx,
    idx: usize,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    store_id: Option<String>,
    order_id: Option<String>,
    fresh: bool,
) -> Record {
    let parent = Parent {
        store_id: store_id.as_deref(),
        order_id: order_id.as_deref(),
    };
    let mut built = records::build(s, rng, ctx, idx, created, updated, &parent);
    if fresh && built.source_created.is_some() {
        built.source_created = Some(created);
        if let Some(v) = built.value.get("updated_at").cloned() {
            built.value["source_created_at"] = v.clone();
            built.value["source_updated_at"] = v;
        }
    }
    let mut rec = Record::new(built.key, &built.value);
    if s.has_created_at() {
        rec.created = Some(created);
    }
    if s.has_updated_at() {
        rec.updated = Some(updated);
    }
    rec.source_created = built.source_created;
    rec.store_id = store_id;
    rec.order_id = order_id;
    rec
}

fn sort_records(s: StreamId, recs: &mut [Record]) {
    if s.has_created_at() {
        recs.sort_by(|a, b| b.sort_key(s).cmp(&a.sort_key(s)));
    }
}

/// Inputs shared by the generators of all streams.
struct GenInput<'a> {
    seed: u64,
    history_secs: i64,
    anchor: DateTime<Utc>,
    ctx: &'a Ctx,
    records: usize,
    counts: &'a BTreeMap<String, usize>,
}

impl GenInput<'_> {
    fn count(&self, s: StreamId) -> usize {
        self.counts
            .get(s.name())
            .copied()
            .unwrap_or_else(|| s.default_count(self.records))
    }

    /// A stream without parents.
    fn plain(&self, s: StreamId) -> Vec<Record> {
        if s == StreamId::Locations {
            return Vec::new();
        }
        let mut rng = Rng::with_seed(stream_seed(self.seed, s));
        let mut out: Vec<Record> = (0..self.count(s))
            .map(|i| {
                let (c, u) = records::random_stamp(&mut rng, self.anchor, self.history_secs);
                make_record(s, &mut rng, self.ctx, i, c, u, None, None, false)
            })
            .collect();
        sort_records(s, &mut out);
        out
    }

    /// Orders or products, spread over the stores.
    fn per_store(&self, s: StreamId, stores: &[Record]) -> Vec<Record> {
        if stores.is_empty() {
            return Vec::new();
        }
        let mut rng = Rng::with_seed(stream_seed(self.seed, s));
        let mut out: Vec<Record> = (0..self.count(s))
            .map(|i| {
                let sid = stores[rng.usize(..stores.len())].key.clone();
                let (c, u) = records::random_stamp(&mut rng, self.anchor, self.history_secs);
                make_record(s, &mut rng, self.ctx, i, c, u, Some(sid), None, false)
            })
            .collect();
        sort_records(s, &mut out);
        out
    }

    /// 0-2 fulfillments per order by default; an explicit count is spread at random.
    fn fulfillments(&self, orders: &[Record]) -> Vec<Record> {
        let s = StreamId::Fulfillments;
        if orders.is_empty() {
            return Vec::new();
        }
        let mut rng = Rng::with_seed(stream_seed(self.seed, s));
        let plan: Vec<usize> = if self.counts.contains_key(s.name()) {
            (0..self.count(s))
                .map(|_| rng.usize(..orders.len()))
                .collect()
        } else {
            let mut p = Vec::new();
            for oi in 0..orders.len() {
                for _ in 0..rng.usize(0..=2) {
                    p.push(oi);
                }
            }
            p
        };
        let anchor = self.anchor;
        let mut out: Vec<Record> = plan
            .into_iter()
            .enumerate()
            .map(|(i, oi)| {
                let o = &orders[oi];
                let oc = o.created.unwrap_or(anchor);
                let room = (anchor - oc).num_seconds().clamp(0, 5 * 86_400);
                let c = oc + Duration::seconds(if room > 0 { rng.i64(0..=room) } else { 0 });
                let uroom = (anchor - c).num_seconds().clamp(0, 10 * 86_400);
                let u = c + Duration::seconds(if uroom > 0 { rng.i64(0..=uroom) } else { 0 });
                make_record(
                    s,
                    &mut rng,
                    self.ctx,
                    i,
                    c,
                    u,
                    o.store_id.clone(),
                    Some(o.key.clone()),
                    false,
                )
            })
            .collect();
        sort_records(s, &mut out);
        out
    }
}

impl Dataset {
    /// Generate every stream. Two threads share the work (the machine has two cores).
    pub fn generate(
        seed: u64,
        records: usize,
        counts: &BTreeMap<String, usize>,
        anchor: DateTime<Utc>,
        history_days: u32,
    ) -> Dataset {
        let mut org_rng = Rng::with_seed(seed);
        let ctx = Ctx {
            org_id: records::hex(&mut org_rng, 32),
        };
        let input = GenInput {
            history_secs: i64::from(history_days.max(1)) * 86_400,
            seed,
            anchor,
            ctx: &ctx,
            records,
            counts,
        };
        use StreamId::*;
        // Streams without parents (Commerce is built from its stores below; locations
        // per search), split over two threads: the big Tracking/Returns/Protection/
        // Members lists and shipping labels in one, the other Shipping lists in the other.
        let plain: Vec<StreamId> = StreamId::ALL
            .into_iter()
            .filter(|s| s.product() != Product::Commerce && *s != Locations)
            .collect();
        let (group_a, group_b): (Vec<StreamId>, Vec<StreamId>) = plain
            .into_iter()
            .partition(|s| s.product() != Product::Shipping || *s == ShippingLabels);
        let input = &input;
        let (a, b) = std::thread::scope(|scope| {
            let handle = scope.spawn(move || {
                group_a
                    .iter()
                    .map(|&s| (s, input.plain(s)))
                    .collect::<Vec<_>>()
            });
            let stores = input.plain(Stores);
            let orders = input.per_store(Orders, &stores);
            let products = input.per_store(Products, &stores);
            let fulfillments = input.fulfillments(&orders);
            let mut b = vec![
                (Stores, stores),
                (Orders, orders),
                (Products, products),
                (Fulfillments, fulfillments),
            ];
            b.extend(group_b.iter().map(|&s| (s, input.plain(s))));
            let a = match handle.join() {
                Ok(a) => a,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (a, b)
        });
        let locations_per_search = input.count(Locations);
        let mut ds = Dataset {
            streams: vec![Vec::new(); StreamId::ALL.len()],
            store_ids: HashSet::new(),
            deleted_orders: HashSet::new(),
            next_idx: vec![0; StreamId::ALL.len()],
            ctx,
            rng: Rng::with_seed(seed ^ 0xA5A5_5A5A_1234_4321),
            locations_per_search,
        };
        for (s, recs) in a.into_iter().chain(b) {
            ds.next_idx[s.index()] = recs.len();
            ds.streams[s.index()] = recs;
        }
        ds.store_ids = ds.streams[Stores.index()]
            .iter()
            .map(|r| r.key.clone())
            .collect();
        ds
    }

    pub(crate) fn sort(&mut self, s: StreamId) {
        sort_records(s, &mut self.streams[s.index()]);
    }

    pub fn records(&self, s: StreamId) -> &[Record] {
        &self.streams[s.index()]
    }

    /// Apply one change at `now`: in every stream with `updated_at`, mark
    /// `change.update` distinct seeded-random records updated (a visible field changes,
    /// `updated_at` = now); into every stream that grows, insert `change.insert` new
    /// records created now (orders/products into existing stores, fulfillments into
    /// existing orders). Unless `fulfillments_leave_orders`, a changed or new
    /// fulfillment also moves its order (a new `updated_at`, the fulfillment status
    /// rotated). Returns how many records were updated and inserted per stream name;
    /// orders moved by their fulfillments are not counted as updated.
    pub fn advance(&mut self, now: DateTime<Utc>, change: &Change) -> Changed {
        let mut out = Changed::default();
        // Orders whose fulfillments change: a new or changed fulfillment changes the
        // order's fulfillment status, so the order's updated_at moves too.
        let mut touched_orders: Vec<(Option<String>, String)> = Vec::new();
        let moves_orders =
            |s: StreamId| s == StreamId::Fulfillments && !change.fulfillments_leave_orders;
        for s in StreamId::ALL {
            let count = self.streams[s.index()].len();
            if s.has_updated_at() && change.update.is_some() && count > 0 {
                let k = change.update.of(count).min(count);
                for p in sample_distinct(&mut self.rng, count, k) {
                    let rec = &mut self.streams[s.index()][p];
                    let mut v = rec.value();
                    records::mutate(s, &mut v, now, &mut self.rng);
                    rec.updated = Some(now);
                    rec.set_value(&v);
                    if moves_orders(s)
                        && let Some(order) = rec.order_id.clone()
                    {
                        touched_orders.push((rec.store_id.clone(), order));
                    }
                }
                out.updated.insert(s.name().to_string(), k);
            }
            if s.can_grow() && change.insert.is_some() {
                let k = change.insert.of(count);
                let mut done = 0;
                for _ in 0..k {
                    if self.insert_one(s, now) {
                        done += 1;
                        if moves_orders(s)
                            && let Some(rec) = self.streams[s.index()].last()
                            && let Some(order) = rec.order_id.clone()
                        {
                            touched_orders.push((rec.store_id.clone(), order));
                        }
                    }
                }
                self.sort(s);
                out.inserted.insert(s.name().to_string(), done);
            }
        }
        for (store, order) in touched_orders {
            let orders = &mut self.streams[StreamId::Orders.index()];
            if let Some(rec) = orders
                .iter_mut()
                .find(|r| r.key == order && r.store_id == store)
                && rec.updated != Some(now)
            {
                let mut v = rec.value();
                records::mutate(StreamId::Orders, &mut v, now, &mut self.rng);
                rec.updated = Some(now);
                rec.set_value(&v);
            }
        }
        self.store_ids = self.streams[StreamId::Stores.index()]
            .iter()
            .map(|r| r.key.clone())
            .collect();
        out
    }

    fn insert_one(&mut self, s: StreamId, now: DateTime<Utc>) -> bool {
        let mut rng = Rng::with_seed(self.rng.u64(..));
        let (store_id, order_id) = match s {
            StreamId::Orders | StreamId::Products => {
                let stores = &self.streams[StreamId::Stores.index()];
                if stores.is_empty() {
                    return false;
                }
                (Some(stores[rng.usize(..stores.len())].key.clone()), None)
            }
            StreamId::Fulfillments => {
                let orders = &self.streams[StreamId::Orders.index()];
                if orders.is_empty() {
                    return false;
                }
                let o = &orders[rng.usize(..orders.len())];
                (o.store_id.clone(), Some(o.key.clone()))
            }
            _ => (None, None),
        };
        self.insert_with(s, now, &mut rng, store_id, order_id);
        true
    }

    /// Append one record of `s` created at `now` under the given parents (unsorted;
    /// the caller sorts); returns its key.
    pub(crate) fn insert_with(
        &mut self,
        s: StreamId,
        now: DateTime<Utc>,
        rng: &mut Rng,
        store_id: Option<String>,
        order_id: Option<String>,
    ) -> String {
        let idx = self.next_idx[s.index()];
        let rec = make_record(s, rng, &self.ctx, idx, now, now, store_id, order_id, true);
        let key = rec.key.clone();
        self.streams[s.index()].push(rec);
        self.next_idx[s.index()] = idx + 1;
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_distinct_is_the_partial_shuffle() {
        for (count, k) in [(1, 1), (10, 3), (10, 10), (1000, 17), (5, 0)] {
            let mut a = Rng::with_seed(9);
            let mut b = Rng::with_seed(9);
            let mut pos: Vec<usize> = (0..count).collect();
            for i in 0..k {
                let j = a.usize(i..count);
                pos.swap(i, j);
            }
            let got = sample_distinct(&mut b, count, k);
            assert_eq!(got, pos[..k].to_vec());
            assert_eq!(a.u64(..), b.u64(..), "same draws");
        }
        let mut r = Rng::with_seed(1);
        assert_eq!(sample_distinct(&mut r, 3, 10).len(), 3);
    }

    #[test]
    fn amounts() {
        assert_eq!(Amount::Fraction(0.1).of(1000), 100);
        assert_eq!(Amount::Fraction(0.001).of(10), 1);
        assert_eq!(Amount::Count(7).of(3), 7);
        assert!(!Amount::Fraction(0.0).is_some());
        assert!(!Amount::Count(0).is_some());
        assert!(Amount::Count(1).is_some());
    }
}
