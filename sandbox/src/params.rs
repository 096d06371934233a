//! Query-string access and validation in each product's error dialect.

use chrono::{DateTime, Utc};

use crate::products::{ApiError, ErrKind, Product};
use crate::timefmt::parse_query_ts;

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

pub fn invalid(product: Product, param: &str, info: String) -> ApiError {
    product.error(
        ErrKind::Unprocessable,
        &format!("The value of `{param}` is invalid."),
        &[(param, info)],
    )
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

/// An ISO 8601 date-time parameter (offset required, `+` URL-encoded).
pub fn ts_param(
    p: &Params,
    product: Product,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
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
