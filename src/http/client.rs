//! The HTTP client: base URL, the `as-api-key` header, pacing, retries with
//! backoff. The key travels only in a header marked sensitive; it is never part of
//! a URL, a log line or an error.

use super::Stop;
use super::error::{ApiError, classify, classify_code, envelope_message, is_success_code, meta_of};
use super::limits::{Limits, backoff, sleep_interruptible, throttle_wait};
use crate::config::Config;
use crate::protocol::{LogLevel, Output};
use crate::streams::Product;
use reqwest::header::{HeaderMap, HeaderValue};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// What one request asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub product: Product,
    pub path: &'static str,
    pub query: Vec<(String, String)>,
    /// Headers beside the key's (a parent's value, as its row says: Commerce's
    /// `as-store-id`).
    pub headers: Vec<(&'static str, String)>,
    /// Documented requests per second of the endpoint's rate-limit bucket.
    pub rate: u32,
}

/// Counters for the end-of-sync summary and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    api_key: HeaderValue,
    limits: Limits,
    in_flight: Semaphore,
    max_retries: u32,
    rate_override: Option<u32>,
    stop: Stop,
    /// Where the client's diagnostics go (retries, lowered rate limits): the one
    /// channel every diagnostic of the connector takes.
    out: Arc<Output>,
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
    /// A client for `config`; `stop` ends its waits and refuses new requests once set;
    /// `out` takes its LOG messages.
    pub fn new(config: &Config, stop: Stop, out: Arc<Output>) -> Result<Client, String> {
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
            limits: Limits::default(),
            in_flight: Semaphore::new(config.max_concurrent_requests.max(1)),
            max_retries: config.max_retries,
            rate_override: config.max_requests_per_second,
            stop,
            out,
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
            if self.stop.is_set() {
                return Err(ApiError::Interrupted);
            }
            let rate = self.rate_override.unwrap_or(req.rate);
            self.limits.pace(&key, rate, &self.stop).await;
            if self.stop.is_set() {
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
                self.limits.pause(&key, delay);
            }
            self.out.log(
                LogLevel::Info,
                &format!(
                    "{} {}: {reason}; retrying in {:.1}s (attempt {})",
                    req.product.name(),
                    req.path,
                    delay.as_secs_f64(),
                    attempts + 1
                ),
            );
            sleep_interruptible(delay, &self.stop).await;
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
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
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
        if let Some(limit) = self.limits.adapt(key, &headers) {
            self.out.log(
                LogLevel::Info,
                &format!("rate limit for {key} lowered to {limit}/s as the server reports"),
            );
        }
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
    msg
}
