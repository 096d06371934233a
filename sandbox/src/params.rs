//! Query-string access and validation in each product's error dialect.

use chrono::{DateTime, Utc};

use crate::products::{ApiError, ErrKind, Product};
use crate::timefmt::{TRACKING_TS_PATTERN, parse_query_ts, parse_tracking_ts};

/// Decoded query parameters in request order (repeated keys such as `ids[]` kept).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Decode a query string; `None` when it is not valid `application/x-www-form-urlencoded`.
    pub fn try_parse(raw: Option<&str>) -> Option<Params> {
        match raw {
            None | Some("") => Some(Params::default()),
            Some(q) => serde_urlencoded::from_str(q).ok().map(Params),
        }
    }

    /// Like [`Params::try_parse`], an undecodable query reads as empty.
    pub fn parse(raw: Option<&str>) -> Params {
        Params::try_parse(raw).unwrap_or_default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeatable parameter (`ids[]=a&ids[]=b`, also `ids=a,b`).
    pub fn all(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if k == name {
                out.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string));
            }
        }
        out
    }
}

/// A validation error naming `param`. Tracking's envelope has no `errors` list, so
/// there the explanation goes into the message.
pub fn invalid(product: Product, param: &str, info: String) -> ApiError {
    let message = if product == Product::Tracking {
        format!("The value of `{param}` is invalid: {info}")
    } else {
        format!("The value of `{param}` is invalid.")
    };
    product.error(ErrKind::Unprocessable, &message, &[(param, info)])
}

/// An integer parameter within `[min, max]`, or its default when absent.
pub fn int_param(
    p: &Params,
    product: Product,
    name: &str,
    default: u64,
    min: u64,
    max: Option<u64>,
) -> Result<u64, ApiError> {
    let Some(raw) = p.get(name) else {
        return Ok(default);
    };
    let range = match max {
        Some(m) => format!("{name} must be an integer between {min} and {m}"),
        None => format!("{name} must be an integer >= {min}"),
    };
    let v: u64 = raw
        .trim()
        .parse()
        .map_err(|_| invalid(product, name, range.clone()))?;
    if v < min || max.is_some_and(|m| v > m) {
        return Err(invalid(product, name, range));
    }
    Ok(v)
}

/// A date-time parameter. Tracking's date filters must match its documented pattern
/// `YYYY-MM-DDTHH:mm:ss±HH:MM` exactly (a present but empty value included); the other
/// products take RFC 3339 with an offset or `Z` (`+` URL-encoded), empty = absent.
pub fn ts_param(
    p: &Params,
    product: Product,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    if product == Product::Tracking {
        return match p.get(name) {
            None => Ok(None),
            Some(raw) => parse_tracking_ts(raw).map(Some).ok_or_else(|| {
                invalid(
                    product,
                    name,
                    format!("{name} must match {TRACKING_TS_PATTERN}, e.g. 2024-01-02T03:04:05+08:00 (URL-encode '+' as %2B)"),
                )
            }),
        };
    }
    match p.get(name) {
        None => Ok(None),
        Some("") => Ok(None),
        Some(raw) => parse_query_ts(raw).map(Some).ok_or_else(|| {
            invalid(
                product,
                name,
                format!("{name} must be an ISO 8601 date-time with offset, e.g. 2024-01-02T03:04:05+08:00 (URL-encode '+')"),
            )
        }),
    }
}

pub fn bool_param(p: &Params, product: Product, name: &str) -> Result<Option<bool>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(invalid(
            product,
            name,
            format!("{name} must be true or false"),
        )),
    }
}
