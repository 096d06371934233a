//! Fixed one-second rate-limit windows per bucket, and the headers each product uses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::products::Product;
use crate::streams::StreamId;

/// The outcome of counting one request against its bucket.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix epoch seconds when the window resets.
    pub reset: u64,
}

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<&'static str, (u64, u32)>>,
}

/// (bucket, requests per second) of a stream: Tracking limits per endpoint, the other
/// products per organisation.
pub fn bucket(stream: StreamId) -> (&'static str, u32) {
    match stream {
        StreamId::Trackings => ("tracking:trackings", 6),
        StreamId::Couriers => ("tracking:couriers", 5),
        StreamId::CourierConnections => ("tracking:courier-connections", 5),
        s => match s.product() {
            Product::Returns => ("returns", 10),
            Product::Protection => ("protection", 10),
            Product::Commerce => ("commerce", 10),
            Product::Members => ("members", 10),
            _ => ("shipping", 10),
        },
    }
}

pub fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl RateLimiter {
    pub fn check(&self, bucket: &'static str, limit: u32) -> Decision {
        let sec = now_epoch();
        let mut w = match self.windows.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let entry = w.entry(bucket).or_insert((sec, 0));
        if entry.0 != sec {
            *entry = (sec, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset: sec + 1,
        }
    }

    /// A decision for a request that is not counted (rate limiting off, or a storm).
    pub fn peek(limit: u32, remaining: u32) -> Decision {
        Decision {
            allowed: remaining > 0,
            limit,
            remaining,
            reset: now_epoch() + 1,
        }
    }
}

/// The rate-limit headers of a product, spelled as that product spells them.
pub fn headers(product: Product, d: &Decision, is_429: bool) -> Vec<(&'static str, String)> {
    let mut h = match product {
        Product::Tracking => vec![
            ("X-RateLimit-Limit", d.limit.to_string()),
            ("X-RateLimit-Remaining", d.remaining.to_string()),
            ("X-RateLimit-Reset", d.reset.to_string()),
        ],
        _ => vec![
            ("ratelimit-limit", d.limit.to_string()),
            ("ratelimit-remaining", d.remaining.to_string()),
            ("ratelimit-reset", d.reset.to_string()),
        ],
    };
    if is_429 && product == Product::Commerce {
        let wait = d.reset.saturating_sub(now_epoch()).max(1);
        h.push(("retry-after", wait.to_string()));
    }
    h
}
