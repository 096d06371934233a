//! Shared server state: data, clock, settings, limiter, faults, stats, live writes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::RuntimeSettings;
use crate::data::{Amount, Change, Changed, Dataset};
use crate::faults::FaultState;
use crate::ratelimit::RateLimiter;
use crate::side_updates::{SideChange, SidePick};
use crate::stats::Stats;
use crate::streams::StreamId;
use crate::vanish::VanishState;

/// The clock offset never exceeds this (10 000 years), so the clock stays in range.
const MAX_OFFSET_SECS: i64 = 10_000 * 366 * 86_400;
/// One advance moves the clock by at most 100 years.
const MAX_STEP_SECS: u64 = 100 * 365 * 86_400;

/// What the live-write bursts did since start (or the last reset).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WritesView {
    pub bursts: u64,
    pub updated: BTreeMap<String, u64>,
    pub inserted: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct LiveState {
    /// API requests answered since live writes were last configured.
    answered: u64,
    view: WritesView,
    /// API requests answered since AfterShip-side updates were last configured.
    side_answered: u64,
}

pub struct AppState {
    pub api_key: String,
    pub seed: u64,
    pub settings: RwLock<RuntimeSettings>,
    /// The data set. The clock moves only under its write lock, and a request reads
    /// the clock under its read lock, so a request sees a change of both at once.
    pub data: RwLock<Dataset>,
    /// Seconds added to the real UTC clock.
    pub offset_secs: AtomicI64,
    pub limiter: RateLimiter,
    pub faults: FaultState,
    pub stats: Stats,
    /// Largest accepted `limit` per stream, where configured (`--max-limit`).
    pub max_limits: BTreeMap<StreamId, u64>,
    pub live: Mutex<LiveState>,
    /// Splice the probe into every served record (`--exact-probe`).
    pub exact_probe: bool,
    /// Serve an over-maximum `limit` at the maximum (`--clamp-limits`).
    pub clamp_limits: bool,
    /// Counts towards vanishing stores and orders, and what vanished.
    pub vanish: Mutex<VanishState>,
    /// Every AfterShip-side order change since start.
    pub side_log: Mutex<Vec<SideChange>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl AppState {
    /// The sandbox clock: real UTC now plus the offset.
    pub fn now(&self) -> DateTime<Utc> {
        let off = self.offset_secs.load(Ordering::SeqCst);
        Utc::now()
            .checked_add_signed(Duration::seconds(off))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    pub fn settings(&self) -> RuntimeSettings {
        match self.settings.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn data(&self) -> RwLockReadGuard<'_, Dataset> {
        match self.data.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn data_mut(&self) -> RwLockWriteGuard<'_, Dataset> {
        match self.data.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Move the clock by `seconds` and apply `change` at the new now, both under the
    /// data write lock. A live-write burst is also counted in [`WritesView`] before
    /// the lock is released.
    pub fn advance(&self, seconds: u64, change: &Change, burst: bool) -> (DateTime<Utc>, Changed) {
        let mut ds = self.data_mut();
        let step = i64::try_from(seconds.min(MAX_STEP_SECS)).unwrap_or(0);
        let off = self.offset_secs.load(Ordering::SeqCst);
        self.offset_secs.store(
            off.saturating_add(step).min(MAX_OFFSET_SECS),
            Ordering::SeqCst,
        );
        let now = self.now();
        let changed = ds.advance(now, change);
        if burst {
            let mut live = lock(&self.live);
            let v = &mut live.view;
            v.bursts += 1;
            for (k, n) in &changed.updated {
                *v.updated.entry(k.clone()).or_default() += *n as u64;
            }
            for (k, n) in &changed.inserted {
                *v.inserted.entry(k.clone()).or_default() += *n as u64;
            }
        }
        (now, changed)
    }

    /// Count one answered API request; run a live-write burst when it is the
    /// `every`-th since live writes were configured, and AfterShip-side order updates
    /// when it is their `every`-th.
    pub fn answered(&self) {
        let settings = self.settings();
        if let Some(lw) = settings.live_writes {
            let due = {
                let mut live = lock(&self.live);
                live.answered += 1;
                live.answered.is_multiple_of(lw.every.max(1))
            };
            if due {
                let change = Change {
                    update: Amount::Count(lw.updates),
                    insert: Amount::Count(lw.inserts),
                    fulfillments_leave_orders: settings.fulfillments_leave_orders,
                };
                self.advance(lw.seconds, &change, true);
            }
        }
        if let Some(su) = settings.aftership_side_updates {
            let due = {
                let mut live = lock(&self.live);
                live.side_answered += 1;
                live.side_answered.is_multiple_of(su.every.max(1))
            };
            if due {
                self.side_update(&SidePick {
                    store: None,
                    count: su.count,
                    min_age_days: su.min_age_days,
                    fulfillment: su.fulfillment,
                });
            }
        }
    }

    /// AfterShip-side updates were (re)configured: count answered requests from zero.
    pub fn restart_side_count(&self) {
        lock(&self.live).side_answered = 0;
    }

    /// Live writes were (re)configured: count answered requests from zero.
    pub fn restart_live_count(&self) {
        lock(&self.live).answered = 0;
    }

    pub fn writes(&self) -> WritesView {
        lock(&self.live).view.clone()
    }

    pub fn reset_writes(&self) {
        lock(&self.live).view = WritesView::default();
    }
}
