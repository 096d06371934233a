//! Request counts per path and HTTP status.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct StatsView {
    pub total: u64,
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Default)]
pub struct Stats {
    inner: Mutex<StatsView>,
}

impl Stats {
    pub fn record(&self, path: &str, status: u16) {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.total += 1;
        *g.requests
            .entry(path.to_string())
            .or_default()
            .entry(status.to_string())
            .or_default() += 1;
    }

    pub fn view(&self) -> StatsView {
        match self.inner.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn reset(&self) {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = StatsView::default();
    }
}
