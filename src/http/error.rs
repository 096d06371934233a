//! Why a request failed, and each AfterShip product's error envelope (its `meta`
//! dialect) turned into a typed error.

use crate::protocol::FailureType;
use crate::streams::Product;
use serde_json::Value;

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
    /// Retries were used up on 429/5xx/timeouts/broken or oversized bodies.
    Exhausted {
        product: Product,
        path: &'static str,
        attempts: u32,
        last: String,
    },
    /// The API answered, but its pages make no sense (a repeated cursor, an empty
    /// page that claims more): stop instead of looping.
    Broken { product: Product, message: String },
    /// The request was refused for a setting the user chose (a configured
    /// search): a configuration to fix, not a bug.
    BadConfig { product: Product, message: String },
    /// A bug in this connector (a panic, a broken internal invariant), not
    /// anything AfterShip sent or the user configured.
    Bug {
        stream: &'static str,
        message: String,
        /// Where it happened, when known (a panic's backtrace).
        stack_trace: Option<String>,
    },
    /// The process is shutting down.
    Interrupted,
    /// One partition of a stream (a store, an order, a search) failed with
    /// `error`, after the stream's other partitions were read; `others` more
    /// failed too.
    InPartition {
        partition: String,
        error: Box<ApiError>,
        others: usize,
    },
}

impl ApiError {
    pub fn failure_type(&self) -> FailureType {
        match self {
            ApiError::Unauthorized { .. }
            | ApiError::Forbidden { .. }
            | ApiError::BadConfig { .. } => FailureType::ConfigError,
            ApiError::Refused { .. } | ApiError::Broken { .. } | ApiError::Bug { .. } => {
                FailureType::SystemError
            }
            ApiError::Exhausted { .. } | ApiError::Interrupted => FailureType::TransientError,
            ApiError::InPartition { error, .. } => error.failure_type(),
        }
    }

    /// The stack trace to send with the error, where there is one.
    pub fn stack_trace(&self) -> Option<&str> {
        match self {
            ApiError::Bug { stack_trace, .. } => stack_trace.as_deref(),
            ApiError::InPartition { error, .. } => error.stack_trace(),
            _ => None,
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
                path,
                attempts,
                last,
            } => write!(
                f,
                "the AfterShip {} API (GET {path}) kept failing after {attempts} attempts; last error: {last}",
                product.name()
            ),
            ApiError::Broken { product, message } => {
                write!(
                    f,
                    "the AfterShip {} API returned inconsistent pages: {message}",
                    product.name()
                )
            }
            ApiError::BadConfig { product, message } => {
                write!(
                    f,
                    "the AfterShip {} API refused a configured request: {message}",
                    product.name()
                )
            }
            ApiError::Bug {
                stream, message, ..
            } => write!(
                f,
                "a bug in the connector, not in AfterShip or the configuration, while reading stream {stream}: {message}. Please report it with this message"
            ),
            ApiError::Interrupted => write!(f, "interrupted by a signal"),
            ApiError::InPartition {
                partition,
                error,
                others,
            } => {
                write!(f, "{partition}: {error}")?;
                if *others > 0 {
                    write!(
                        f,
                        " ({others} more partitions failed too, each named in a WARN above)"
                    )?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Meta {
    pub(crate) code: Option<i64>,
    pub(crate) message: String,
    pub(crate) retryable: Option<bool>,
}

/// The envelope's `meta`, found without parsing the whole body (it is usually the
/// first key, before a page of records).
pub(crate) fn meta_of(body: &[u8]) -> Meta {
    let Some(meta) = std::str::from_utf8(body)
        .ok()
        .and_then(|text| crate::json::scan::top_level_value(text, "meta"))
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
        message,
        retryable: meta.get("retryable").and_then(Value::as_bool),
    }
}

pub(crate) fn envelope_message(body: &[u8]) -> String {
    let m = meta_of(body);
    if m.message.is_empty() {
        String::new()
    } else {
        format!("({})", m.message)
    }
}

/// AfterShip success codes: 200/201 (Tracking, Members, Shipping) and
/// 20000/20100/20200 (Commerce, Returns, Protection).
pub(crate) fn is_success_code(code: i64) -> bool {
    (200..300).contains(&code) || (20000..30000).contains(&code)
}

pub(crate) fn classify(product: Product, status: u16, body: &[u8]) -> ApiError {
    let meta = meta_of(body);
    classify_code(
        product,
        status,
        meta.code.unwrap_or(status as i64),
        &meta.message,
    )
}

pub(crate) fn classify_code(product: Product, status: u16, code: i64, message: &str) -> ApiError {
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
}
