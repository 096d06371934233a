//! AfterShip HTTP: base URL, the `as-api-key` header, per-product rate limits,
//! retries with backoff, and turning each product's error envelope into a typed
//! error. The key travels only in a header marked sensitive; it is never part of a
//! URL, a log line or an error.

use crate::config::Config;
use crate::protocol::{self, FailureType};
use crate::streams::Product;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Set on SIGTERM/SIGINT: no new request starts, waits end early.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Why a request did not produce a usable page.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// 401: the key is wrong or revoked.
    Unauthorized { product: Product, message: String },
    /// 403: the key lacks permission for this product.
    Forbidden { product: Product, message: String },
    /// Any other 4xx (or a Shipping error code): the request itself was refused.
    Refused {
        product: Product,
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Retries were used up on 429/5xx/timeouts/broken bodies.
    Exhausted {
        product: Product,
        attempts: u32,
        last: String,
    },
    /// The API answered, but its pages make no sense (a repeated cursor, an empty
    /// page that claims more): stop instead of looping.
    Broken { product: Product, message: String },
    /// The process is shutting down.
    Interrupted,
}

impl ApiError {
    pub fn failure_type(&self) -> FailureType {
        match self {
            ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => FailureType::ConfigError,
            ApiError::Refused { .. } | ApiError::Broken { .. } => FailureType::SystemError,
            ApiError::Exhausted { .. } | ApiError::Interrupted => FailureType::TransientError,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unauthorized { product, message } => write!(
                f,
                "the AfterShip {} API rejected the API key (401 Unauthorized: {message}); check `api_key`",
                product.name()
            ),
            ApiError::Forbidden { product, message } => write!(
                f,
                "the API key has no permission for the AfterShip {} API (403 Forbidden: {message})",
                product.name()
            ),
            ApiError::Refused {
                product,
                status,
                code,
                message,
            } => {
                write!(
                    f,
                    "the AfterShip {} API refused the request (HTTP {status}",
                    product.name()
                )?;
                if let Some(c) = code {
                    write!(f, ", code {c}")?;
                }
                write!(f, "): {message}")
            }
            ApiError::Exhausted {
                product,
                attempts,
                last,
            } => write!(
                f,
                "the AfterShip {} API kept failing after {attempts} attempts; last error: {last}",
                product.name()
            ),
            ApiError::Broken { product, message } => {
                write!(
                    f,
                    "the AfterShip {} API returned inconsistent pages: {message}",
                    product.name()
                )
            }
            ApiError::Interrupted => write!(f, "interrupted by a signal"),
        }
    }
}

/// What one request asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub product: Product,
    pub path: &'static str,
    pub query: Vec<(String, String)>,
    /// Commerce: the `as-store-id` header.
    pub store_id: Option<String>,
}

/// Counters for the end-of-sync summary and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

struct Bucket {
    rate: u32,
    limiter: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    api_key: HeaderValue,
    buckets: Mutex<HashMap<String, Bucket>>,
    in_flight: Semaphore,
    max_retries: u32,
    rate_override: Option<u32>,
    pub stats: Stats,
}

/// A failed attempt: retry it (after `wait` if given) or give up with the error.
enum Attempt {
    Retry {
        reason: String,
        wait: Option<Duration>,
        throttled: bool,
    },
    Fail(ApiError),
}

impl Client {
    pub fn new(config: &Config) -> Result<Client, String> {
        let mut api_key = HeaderValue::from_str(&config.api_key).map_err(|_| {
            "field `api_key`: contains characters not allowed in an HTTP header".to_string()
        })?;
        api_key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(concat!("source-aftership/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(15).min(config.request_timeout))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            http,
            base: config.base_url.as_str().trim_end_matches('/').to_string(),
            api_key,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(config.max_concurrent_requests.max(1)),
            max_retries: config.max_retries,
            rate_override: config.max_requests_per_second,
            stats: Stats::default(),
        })
    }

    /// GET `req` and hand the body to `parse`. 429, 5xx, network failures, and
    /// bodies that `parse` rejects (truncated or not JSON) are retried.
    pub async fn get<T>(
        &self,
        req: &Request,
        parse: impl Fn(Vec<u8>) -> Result<T, String>,
    ) -> Result<T, ApiError> {
        let key = req.product.limit_key(req.path);
        let mut failures = 0u32;
        let mut throttles = 0u32;
        let throttle_budget = self.max_retries.max(1) * 5;
        loop {
            if interrupted() {
                return Err(ApiError::Interrupted);
            }
            let rate = self
                .rate_override
                .unwrap_or_else(|| req.product.rate_limit(req.path));
            self.pace(&key, rate).await;
            if interrupted() {
                return Err(ApiError::Interrupted);
            }
            let outcome = {
                let _permit = self.in_flight.acquire().await;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                self.attempt(req, &key, &parse).await
            };
            let (reason, wait, throttled) = match outcome {
                Ok(v) => return Ok(v),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry {
                    reason,
                    wait,
                    throttled,
                }) => (reason, wait, throttled),
            };
            let attempts = failures + throttles + 1;
            if throttled {
                throttles += 1;
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            } else {
                failures += 1;
            }
            if failures > self.max_retries || throttles > throttle_budget {
                return Err(ApiError::Exhausted {
                    product: req.product,
                    attempts,
                    last: reason,
                });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let delay = match wait {
                Some(w) => w,
                None => backoff(failures.max(1)),
            };
            if throttled {
                self.pause(&key, delay);
            }
            tracing::info!(
                "{} {}: {reason}; retrying in {:.1}s (attempt {})",
                req.product.name(),
                req.path,
                delay.as_secs_f64(),
                attempts + 1
            );
            sleep_interruptible(delay).await;
        }
    }

    async fn attempt<T>(
        &self,
        req: &Request,
        key: &str,
        parse: &impl Fn(Vec<u8>) -> Result<T, String>,
    ) -> Result<T, Attempt> {
        let url = format!("{}{}", self.base, req.path);
        let mut builder = self
            .http
            .get(&url)
            .header("as-api-key", self.api_key.clone())
            .query(&req.query);
        if let Some(store) = &req.store_id {
            builder = builder.header("as-store-id", store);
        }
        let retry = |reason: String| Attempt::Retry {
            reason,
            wait: None,
            throttled: false,
        };
        let resp = builder
            .send()
            .await
            .map_err(|e| retry(describe_reqwest(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.adapt(key, &headers);
        let body = resp.bytes().await.map_err(|e| {
            retry(format!(
                "HTTP {status}: the body broke off ({})",
                describe_reqwest(&e)
            ))
        })?;
        if status == 429 {
            return Err(Attempt::Retry {
                reason: "429 Too Many Requests".into(),
                wait: Some(throttle_wait(&headers)),
                throttled: true,
            });
        }
        if matches!(status, 500 | 502 | 503 | 504) {
            return Err(retry(format!("HTTP {status} {}", envelope_message(&body))));
        }
        if !(200..300).contains(&status) {
            return Err(Attempt::Fail(classify(req.product, status, &body)));
        }
        // Shipping (and in principle any product) can answer an error with HTTP 200:
        // judge by meta.code.
        let meta = meta_of(&body);
        if let Some(code) = meta.code {
            if !is_success_code(code) {
                if meta.retryable == Some(true) || code == 429 || code == 42900 {
                    return Err(Attempt::Retry {
                        reason: format!("meta.code {code} (retryable): {}", meta.message),
                        wait: Some(throttle_wait(&headers)),
                        throttled: code == 429 || code == 42900,
                    });
                }
                return Err(Attempt::Fail(classify_code(
                    req.product,
                    status,
                    code,
                    &meta.message,
                )));
            }
        }
        parse(Vec::from(body)).map_err(|e| {
            retry(format!(
                "HTTP {status} but the body is not a complete page ({e})"
            ))
        })
    }

    /// Wait for the bucket's rate limiter and for any server-ordered pause.
    async fn pace(&self, key: &str, documented: u32) {
        let (limiter, paused) = {
            let Ok(mut buckets) = self.buckets.lock() else {
                return;
            };
            let b = buckets
                .entry(key.to_string())
                .or_insert_with(|| Bucket::new(documented));
            (b.limiter.clone(), b.paused_until)
        };
        if let Some(until) = paused {
            let now = Instant::now();
            if until > now {
                sleep_interruptible(until - now).await;
            }
        }
        limiter.until_ready().await;
    }

    fn pause(&self, key: &str, wait: Duration) {
        if let Ok(mut buckets) = self.buckets.lock() {
            if let Some(b) = buckets.get_mut(key) {
                let until = Instant::now() + wait;
                if b.paused_until.is_none_or(|p| p < until) {
                    b.paused_until = Some(until);
                }
            }
        }
    }

    /// Follow the limit the server announces (`X-RateLimit-Limit` / `ratelimit-limit`,
    /// requests per second): a plan with a lower or higher limit than documented.
    fn adapt(&self, key: &str, headers: &HeaderMap) {
        let limit = header_u64(headers, &["x-ratelimit-limit", "ratelimit-limit"]);
        let Some(limit) = limit.filter(|l| *l > 0 && *l < 10_000) else {
            return;
        };
        if let Ok(mut buckets) = self.buckets.lock() {
            if let Some(b) = buckets.get_mut(key) {
                if (limit as u32) < b.rate {
                    tracing::info!(
                        "rate limit for {key} lowered to {limit}/s as the server reports"
                    );
                    *b = Bucket {
                        paused_until: b.paused_until,
                        ..Bucket::new(limit as u32)
                    };
                }
            }
        }
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
fn backoff(failures: u32) -> Duration {
    let base = 0.5f64 * 2f64.powi(failures.saturating_sub(1).min(10) as i32);
    let capped = base.min(30.0);
    Duration::from_secs_f64(capped * (0.5 + fastrand::f64() * 0.5))
}

async fn sleep_interruptible(total: Duration) {
    let end = Instant::now() + total;
    while !interrupted() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        tokio::time::sleep((end - now).min(Duration::from_millis(200))).await;
    }
}

fn header_u64(headers: &HeaderMap, names: &[&str]) -> Option<u64> {
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
fn throttle_wait(headers: &HeaderMap) -> Duration {
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

fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body broke off"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    protocol::redact(&msg)
}

#[derive(Default)]
struct Meta {
    code: Option<i64>,
    message: String,
    retryable: Option<bool>,
}

/// The envelope's `meta`, found without parsing the whole body (it is usually the
/// first key, before a page of records).
fn meta_of(body: &[u8]) -> Meta {
    let Some(meta) = std::str::from_utf8(body)
        .ok()
        .and_then(|text| crate::scan::top_level_value(text, "meta"))
        .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
    else {
        return Meta::default();
    };
    let mut message = meta
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for list in ["errors", "details"] {
        if let Some(errors) = meta.get(list).and_then(Value::as_array) {
            for e in errors.iter().take(5) {
                let part = match (e.get("path"), e.get("info")) {
                    (Some(p), Some(i)) => {
                        format!("{} {}", p.as_str().unwrap_or(""), i.as_str().unwrap_or(""))
                    }
                    _ => e
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string()),
                };
                if !part.trim().is_empty() {
                    message.push_str("; ");
                    message.push_str(part.trim());
                }
            }
        }
    }
    Meta {
        code: meta.get("code").and_then(Value::as_i64),
        message: protocol::redact(&message),
        retryable: meta.get("retryable").and_then(Value::as_bool),
    }
}

fn envelope_message(body: &[u8]) -> String {
    let m = meta_of(body);
    if m.message.is_empty() {
        String::new()
    } else {
        format!("({})", m.message)
    }
}

/// AfterShip success codes: 200/201 (Tracking, Members, Shipping) and
/// 20000/20100/20200 (Commerce, Returns, Protection).
fn is_success_code(code: i64) -> bool {
    (200..300).contains(&code) || (20000..30000).contains(&code)
}

fn classify(product: Product, status: u16, body: &[u8]) -> ApiError {
    let meta = meta_of(body);
    classify_code(
        product,
        status,
        meta.code.unwrap_or(status as i64),
        &meta.message,
    )
}

fn classify_code(product: Product, status: u16, code: i64, message: &str) -> ApiError {
    let message = if message.is_empty() {
        "no message".to_string()
    } else {
        message.to_string()
    };
    let http_like = if code >= 10000 { code / 100 } else { code };
    if status == 401 || http_like == 401 {
        ApiError::Unauthorized { product, message }
    } else if status == 403 || http_like == 403 {
        ApiError::Forbidden { product, message }
    } else {
        ApiError::Refused {
            product,
            status,
            code: Some(code),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_codes_of_every_dialect() {
        for ok in [200, 201, 20000, 20100, 20200] {
            assert!(is_success_code(ok));
        }
        for bad in [400, 401, 4104, 42900, 41201, 500] {
            assert!(!is_success_code(bad));
        }
    }

    #[test]
    fn classifies_envelopes() {
        let body = br#"{"meta":{"code":401,"type":"Unauthorized","message":"Invalid API key."},"data":{}}"#;
        assert!(matches!(
            classify(Product::Tracking, 401, body),
            ApiError::Unauthorized { .. }
        ));
        let body = br#"{"meta":{"code":41201,"type":"PreconditionFailed","message":"as-store-id missing","errors":[{"path":"as-store-id","info":"required"}]},"data":null}"#;
        match classify(Product::Commerce, 412, body) {
            ApiError::Refused { code, message, .. } => {
                assert_eq!(code, Some(41201));
                assert!(message.contains("as-store-id required"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(Product::Protection, 403, b"not json"),
            ApiError::Forbidden { .. }
        ));
    }

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
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(500));
        assert!(backoff(4) >= Duration::from_secs(2));
        assert!(backoff(30) <= Duration::from_secs(30));
    }
}
