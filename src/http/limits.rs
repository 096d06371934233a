//! Pacing: one rate limiter per AfterShip product (per endpoint for Tracking) that
//! follows a lower limit the server announces, server-ordered pauses after a 429,
//! and the waits between retries.

use super::Stop;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Bucket {
    rate: u32,
    limiter: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
}

/// The buckets of one sync, by rate-limit key ([`Product::limit_key`]).
///
/// [`Product::limit_key`]: crate::streams::Product::limit_key
#[derive(Default)]
pub struct Limits {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// A wait longer than this is announced (a RATE_LIMITED stream status): shorter
/// ones are the ordinary spacing between requests.
pub const LONG_WAIT: Duration = Duration::from_secs(1);

impl Limits {
    /// Wait for any server-ordered pause of the bucket and for its rate limiter.
    /// `long` hears of each wait longer than [`LONG_WAIT`] before it begins.
    /// Returns false when `stop` ended the wait.
    pub async fn pace(
        &self,
        key: &str,
        documented: u32,
        stop: &Stop,
        long: &mut (dyn FnMut(Duration) + Send),
    ) -> bool {
        let (limiter, paused) = {
            let Ok(mut buckets) = self.buckets.lock() else {
                return !stop.is_set();
            };
            let b = buckets
                .entry(key.to_string())
                .or_insert_with(|| Bucket::new(documented));
            (b.limiter.clone(), b.paused_until)
        };
        if let Some(until) = paused {
            let now = Instant::now();
            if until > now {
                if until - now > LONG_WAIT {
                    long(until - now);
                }
                if !sleep_interruptible(until - now, stop).await {
                    return false;
                }
            }
        }
        match limiter.check() {
            Ok(()) => true,
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                if wait > LONG_WAIT {
                    long(wait);
                }
                tokio::select! {
                    _ = limiter.until_ready() => true,
                    _ = stop.stopped() => false,
                }
            }
        }
    }

    pub fn pause(&self, key: &str, wait: Duration) {
        if let Ok(mut buckets) = self.buckets.lock() {
            if let Some(b) = buckets.get_mut(key) {
                let until = Instant::now() + wait;
                if b.paused_until.is_none_or(|p| p < until) {
                    b.paused_until = Some(until);
                }
            }
        }
    }

    /// Follow a lower limit the server announces (`X-RateLimit-Limit` /
    /// `ratelimit-limit`): a plan with a lower limit than documented. A higher
    /// announced limit is not followed: AfterShip documents these headers as the
    /// per-second ceiling only for Tracking, Commerce and Members; for Returns and
    /// Shipping their meaning is unconfirmed (the legacy Postmen SDK shows
    /// `limit: 600`, a per-minute quota), and raising the pace on such a number
    /// would draw 429s by the hundred. `max_requests_per_second` raises it.
    /// Returns the new limit when it was lowered (for the caller to report).
    pub fn adapt(&self, key: &str, headers: &HeaderMap) -> Option<u64> {
        let limit = header_u64(headers, &["x-ratelimit-limit", "ratelimit-limit"]);
        let limit = limit.filter(|l| *l > 0 && *l < 10_000)?;
        if let Ok(mut buckets) = self.buckets.lock() {
            if let Some(b) = buckets.get_mut(key) {
                if (limit as u32) < b.rate {
                    *b = Bucket {
                        paused_until: b.paused_until,
                        ..Bucket::new(limit as u32)
                    };
                    return Some(limit);
                }
            }
        }
        None
    }
}

impl Bucket {
    fn new(rate: u32) -> Bucket {
        let rate = rate.max(1);
        // Pace slightly under the limit: AfterShip counts in fixed one-second windows,
        // and network jitter can bunch evenly spaced requests together.
        let period = Duration::from_secs_f64(1.0 / rate as f64 * 1.05);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Bucket {
            rate,
            limiter: Arc::new(RateLimiter::direct(quota)),
            paused_until: None,
        }
    }
}

/// Exponential backoff with full jitter: 0.5 s, 1 s, 2 s, ... capped at 30 s.
pub(crate) fn backoff(failures: u32) -> Duration {
    let base = 0.5f64 * 2f64.powi(failures.saturating_sub(1).min(10) as i32);
    let capped = base.min(30.0);
    Duration::from_secs_f64(capped * (0.5 + fastrand::f64() * 0.5))
}

/// Sleep for `total` unless `stop` is set first; true when the sleep ran out.
pub(crate) async fn sleep_interruptible(total: Duration, stop: &Stop) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(total) => !stop.is_set(),
        _ = stop.stopped() => false,
    }
}

pub(crate) fn header_u64(headers: &HeaderMap, names: &[&str]) -> Option<u64> {
    names.iter().find_map(|n| {
        headers
            .get(*n)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64)
    })
}

/// How long a 429 says to wait: `retry-after` seconds, else the reset time (epoch
/// seconds, or delta seconds when small), never less than the server asks, at
/// least 1 s, at most 5 minutes.
pub(crate) fn throttle_wait(headers: &HeaderMap) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let from_retry_after = header_u64(headers, &["retry-after"]).map(|s| s as f64);
    let from_reset = header_u64(headers, &["x-ratelimit-reset", "ratelimit-reset"]).map(|r| {
        let r = r as f64;
        if r > 1_000_000_000.0 { r - now } else { r }
    });
    let secs = from_retry_after
        .into_iter()
        .chain(from_reset)
        .fold(1.0f64, f64::max);
    // Add a little so the next request lands after the reset, not on it.
    Duration::from_secs_f64(secs.min(300.0) + 0.05 + fastrand::f64() * 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn throttle_wait_honours_retry_after_and_reset() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert!(throttle_wait(&h) >= Duration::from_secs(3));
        let mut h = HeaderMap::new();
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2;
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        let w = throttle_wait(&h);
        assert!(
            w >= Duration::from_secs(1) && w <= Duration::from_secs(4),
            "{w:?}"
        );
        assert!(throttle_wait(&HeaderMap::new()) >= Duration::from_secs(1));
    }

    #[test]
    fn an_announced_limit_lowers_the_pace_and_never_raises_it_as_the_spec_says() {
        let limits = Limits::default();
        let stop = Stop::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(limits.pace("returns", 10, &stop, &mut |_| {}));
        let announce = |n: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("x-ratelimit-limit", HeaderValue::from_static(n));
            h
        };
        assert_eq!(limits.adapt("returns", &announce("600")), None);
        assert_eq!(limits.adapt("returns", &announce("4")), Some(4));
        assert_eq!(limits.adapt("returns", &announce("10")), None);
        let spec = crate::config::spec();
        let text =
            spec["connectionSpecification"]["properties"]["max_requests_per_second"]["description"]
                .as_str()
                .unwrap();
        assert!(text.contains("lowered (never raised)"), "{text}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(500));
        assert!(backoff(4) >= Duration::from_secs(2));
        assert!(backoff(30) <= Duration::from_secs(30));
    }
}
