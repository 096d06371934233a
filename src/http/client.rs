//! The HTTP client: base URL, the `as-api-key` header, pacing, retries with
//! backoff, bodies read within a limit. The key travels only in a header marked
//! sensitive; it is never part of a URL, a log line or an error.
//!
//! Every wait and every request in flight races the run's [`Stop`]: SIGTERM or a
//! closed stdout ends them at once. A wait on a rate limit longer than
//! [`LONG_WAIT`] is announced as a RATE_LIMITED stream status of the request's
//! stream, and its end as a plain RUNNING.

use super::Stop;
use super::error::{ApiError, classify, classify_code, envelope_message, is_success_code, meta_of};
use super::limits::{LONG_WAIT, Limits, backoff, sleep_interruptible, throttle_wait};
use crate::config::Config;
use crate::protocol::{LogLevel, Output};
use crate::streams::Product;
use reqwest::header::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// The stream the request reads for: its long rate-limit waits are announced
    /// as that stream's RATE_LIMITED status. None for `check`'s probes.
    pub stream: Option<&'static str>,
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
    /// The most bytes one body may hold after decompression.
    max_body: u64,
    /// Where the client's diagnostics go (retries, lowered rate limits): the one
    /// channel every diagnostic of the connector takes.
    out: Arc<Output>,
    /// Requests of each stream now in a long rate-limit wait.
    waiting: Mutex<HashMap<&'static str, usize>>,
    pub stats: Stats,
}

/// One request's long rate-limit wait; dropped when the wait ends (or is
/// cancelled), which announces the end once no request of the stream waits.
struct LongWait<'a> {
    client: &'a Client,
    stream: &'static str,
}

impl Drop for LongWait<'_> {
    fn drop(&mut self) {
        self.client.wait_ended(self.stream);
    }
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
            max_body: config.max_response_bytes.max(1),
            out,
            waiting: Mutex::new(HashMap::new()),
            stats: Stats::default(),
        })
    }

    /// The channel the client's diagnostics take, for the pager's warnings.
    pub fn out(&self) -> &Arc<Output> {
        &self.out
    }

    /// A request of `stream` begins a wait of `wait`: the first such wait of the
    /// stream announces RATE_LIMITED with the moment the quota resets.
    fn wait_began(&self, stream: &'static str, wait: Duration) -> LongWait<'_> {
        let first = match self.waiting.lock() {
            Ok(mut w) => {
                let n = w.entry(stream).or_insert(0);
                *n += 1;
                *n == 1
            }
            Err(_) => false,
        };
        if first {
            let reset = crate::protocol::now_ms()
                .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            self.out.stream_rate_limited(stream, reset);
        }
        LongWait {
            client: self,
            stream,
        }
    }

    fn wait_ended(&self, stream: &'static str) {
        let last = match self.waiting.lock() {
            Ok(mut w) => match w.get_mut(stream) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n == 0
                }
                None => false,
            },
            Err(_) => false,
        };
        // After a stop the stream is about to end INCOMPLETE: no RUNNING first.
        if last && !self.stop.is_set() {
            self.out
                .stream_status(stream, crate::protocol::StreamStatus::Running);
        }
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
            {
                let mut announced = None;
                let mut long = |wait: Duration| {
                    if let (None, Some(stream)) = (&announced, req.stream) {
                        announced = Some(self.wait_began(stream, wait));
                    }
                };
                if !self.limits.pace(&key, rate, &self.stop, &mut long).await {
                    return Err(ApiError::Interrupted);
                }
            }
            let outcome = tokio::select! {
                biased;
                _ = self.stop.stopped() => return Err(ApiError::Interrupted),
                outcome = async {
                    let _permit = self.in_flight.acquire().await;
                    self.stats.requests.fetch_add(1, Ordering::Relaxed);
                    self.attempt(req, &key, &parse).await
                } => outcome,
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
                    path: req.path,
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
            let _announced = (throttled && delay > LONG_WAIT)
                .then_some(req.stream)
                .flatten()
                .map(|stream| self.wait_began(stream, delay));
            if !sleep_interruptible(delay, &self.stop).await {
                return Err(ApiError::Interrupted);
            }
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
        let body = read_body(resp, self.max_body).await.map_err(|e| {
            retry(match e {
                BodyError::TooLarge => format!(
                    "HTTP {status}: the response body passed the limit of {} (`max_response_mb`) before it ended",
                    describe_size(self.max_body)
                ),
                BodyError::Broke(e) => format!(
                    "HTTP {status}: the body broke off ({})",
                    describe_reqwest(&e)
                ),
            })
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
        parse(body).map_err(|e| {
            retry(format!(
                "HTTP {status} but the body is not a complete page ({e})"
            ))
        })
    }
}

enum BodyError {
    TooLarge,
    Broke(reqwest::Error),
}

/// The body of `resp`, read chunk by chunk (each already decompressed) and given
/// up as soon as it passes `limit` bytes, so that a compression bomb or an endless
/// body costs at most `limit` of memory.
async fn read_body(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    // Known only when the body is not compressed: refuse before reading it.
    let announced = resp.content_length();
    if announced.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let capacity = announced.unwrap_or(64 * 1024).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Broke)? {
        if (body.len() as u64).saturating_add(chunk.len() as u64) > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `64 MiB` for whole mebibytes, else bytes.
fn describe_size(bytes: u64) -> String {
    if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
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
