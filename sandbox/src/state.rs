//! Shared server state: data, clock, settings, limiter, faults, stats.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Duration, Utc};

use crate::config::RuntimeSettings;
use crate::data::Dataset;
use crate::faults::FaultState;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::streams::StreamId;

pub struct AppState {
    pub api_key: String,
    pub seed: u64,
    pub settings: RwLock<RuntimeSettings>,
    pub data: RwLock<Dataset>,
    /// Seconds added to the real UTC clock.
    pub offset_secs: AtomicI64,
    pub limiter: RateLimiter,
    pub faults: FaultState,
    pub stats: Stats,
    /// Largest accepted `limit` per stream, where configured (`--max-limit`).
    pub max_limits: BTreeMap<StreamId, u64>,
}

impl AppState {
    /// The sandbox clock: real UTC now plus the offset.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_secs.load(Ordering::SeqCst))
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
}
