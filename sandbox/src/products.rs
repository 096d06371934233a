//! The six AfterShip products: their success `meta` and their error envelopes.

use serde::{Deserialize, Serialize};

/// One AfterShip API product (each has its own envelope dialect and rate limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    Tracking,
    Returns,
    Protection,
    Commerce,
    Members,
    Shipping,
}

/// What went wrong, independent of the product's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    BadRequest,
    MissingParameter,
    Unauthorized,
    Forbidden,
    NotFound,
    StoreIdMissing,
    StoreNotFound,
    Unprocessable,
    TooManyRequests,
    Internal,
    BadGateway,
    Unavailable,
}

/// A rendered error: HTTP status and JSON body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub body: String,
}

impl Product {
    pub const ALL: [Product; 6] = [
        Product::Tracking,
        Product::Returns,
        Product::Protection,
        Product::Commerce,
        Product::Members,
        Product::Shipping,
    ];

    pub fn parse(s: &str) -> Option<Product> {
        Product::ALL
            .into_iter()
            .find(|p| p.name() == s.trim().to_ascii_lowercase())
    }

    pub fn name(self) -> &'static str {
        match self {
            Product::Tracking => "tracking",
            Product::Returns => "returns",
            Product::Protection => "protection",
            Product::Commerce => "commerce",
            Product::Members => "members",
            Product::Shipping => "shipping",
        }
    }

    /// The `meta` object of a successful answer, as JSON text.
    pub fn success_meta(self) -> &'static str {
        match self {
            Product::Tracking => r#"{"code":200}"#,
            Product::Returns | Product::Protection | Product::Commerce => {
                r#"{"code":20000,"type":"OK","message":"The request was successfully processed by AfterShip."}"#
            }
            Product::Members => {
                r#"{"code":200,"type":"OK","message":"Everything worked as expected."}"#
            }
            Product::Shipping => r#"{"code":200,"message":"OK","details":[]}"#,
        }
    }

    /// Render an error in this product's envelope. `errors` are (path, info) pairs.
    pub fn error(self, kind: ErrKind, message: &str, errors: &[(&str, String)]) -> ApiError {
        let (status, code, typ) = self.codes(kind);
        let errs: Vec<serde_json::Value> = errors
            .iter()
            .map(|(p, i)| serde_json::json!({"path": p, "info": i}))
            .collect();
        let body = match self {
            Product::Tracking => serde_json::json!({
                "meta": {"code": code, "message": message, "type": typ},
                "data": {}
            }),
            Product::Returns => serde_json::json!({
                "meta": {"code": code, "type": typ, "message": message, "errors": errs},
                "data": null
            }),
            Product::Protection | Product::Commerce | Product::Members => serde_json::json!({
                "meta": {"code": code, "type": typ, "message": message, "errors": errs},
                "data": {}
            }),
            Product::Shipping => serde_json::json!({
                "meta": {
                    "code": code,
                    "message": message,
                    "details": errs,
                    "retryable": matches!(kind, ErrKind::TooManyRequests | ErrKind::Internal | ErrKind::BadGateway | ErrKind::Unavailable)
                },
                "data": {}
            }),
        };
        ApiError {
            status,
            body: body.to_string(),
        }
    }

    /// (HTTP status, meta.code, meta.type) of an error kind in this product's dialect.
    pub fn codes(self, kind: ErrKind) -> (u16, u32, &'static str) {
        use ErrKind::*;
        match self {
            Product::Tracking => match kind {
                BadRequest | MissingParameter | Unprocessable | StoreIdMissing | StoreNotFound => {
                    (400, 400, "BadRequest")
                }
                Unauthorized => (401, 401, "Unauthorized"),
                Forbidden => (403, 403, "Forbidden"),
                NotFound => (404, 404, "NotFound"),
                TooManyRequests => (429, 429, "TooManyRequests"),
                Internal => (500, 500, "InternalError"),
                BadGateway => (502, 502, "BadGateway"),
                Unavailable => (503, 503, "ServiceUnavailable"),
            },
            Product::Returns | Product::Protection | Product::Commerce => match kind {
                BadRequest => (400, 40000, "BadRequest"),
                MissingParameter => (400, 40001, "MissingParameter"),
                Unauthorized => (401, 401, "Unauthorized"),
                Forbidden => (403, 40300, "Forbidden"),
                NotFound => (404, 40400, "NotFound"),
                StoreIdMissing => (412, 41201, "PreconditionFailed"),
                StoreNotFound => (412, 41204, "PreconditionFailed"),
                Unprocessable => (422, 42200, "UnprocessableEntity"),
                TooManyRequests => (429, 42900, "TooManyRequests"),
                Internal => (500, 50000, "InternalError"),
                BadGateway => (502, 50200, "BadGateway"),
                Unavailable => (503, 50300, "ServiceUnavailable"),
            },
            Product::Members => match kind {
                BadRequest | MissingParameter | StoreIdMissing | StoreNotFound => {
                    (400, 400, "BadRequest")
                }
                Unauthorized => (401, 401, "Unauthorized"),
                Forbidden => (403, 403, "Forbidden"),
                NotFound => (404, 404, "NotFound"),
                Unprocessable => (422, 422, "UnprocessableEntity"),
                TooManyRequests => (429, 429, "TooManyRequests"),
                Internal => (500, 500, "InternalError"),
                BadGateway => (502, 502, "BadGateway"),
                Unavailable => (503, 503, "ServiceUnavailable"),
            },
            // Shipping validation errors come back with HTTP 200 and meta.code 4104.
            Product::Shipping => match kind {
                BadRequest | MissingParameter | Unprocessable | StoreIdMissing | StoreNotFound => {
                    (200, 4104, "BadRequest")
                }
                Unauthorized => (401, 401, "Unauthorized"),
                Forbidden => (403, 403, "Forbidden"),
                NotFound => (404, 4153, "NotFound"),
                TooManyRequests => (429, 429, "TooManyRequests"),
                Internal => (500, 500, "InternalError"),
                BadGateway => (502, 502, "BadGateway"),
                Unavailable => (503, 503, "ServiceUnavailable"),
            },
        }
    }
}

/// The human message of an error kind (used when a handler has nothing more specific).
pub fn default_message(kind: ErrKind) -> &'static str {
    match kind {
        ErrKind::BadRequest => "The request was invalid or cannot be otherwise served.",
        ErrKind::MissingParameter => "Missing required parameters.",
        ErrKind::Unauthorized => "The API key is invalid.",
        ErrKind::Forbidden => {
            "The request is understood, but it has been refused or access is not allowed."
        }
        ErrKind::NotFound => {
            "The requested URI is invalid or the specified resource does not exist."
        }
        ErrKind::StoreIdMissing => "Invalid as-store-id or date header value.",
        ErrKind::StoreNotFound => "The store could not be found.",
        ErrKind::Unprocessable => "Invalid request parameters.",
        ErrKind::TooManyRequests => "You have exceeded the API call rate limit.",
        ErrKind::Internal => "Something went wrong on AfterShip's end.",
        ErrKind::BadGateway => "Bad gateway.",
        ErrKind::Unavailable => "Service is temporarily unavailable.",
    }
}
