//! The API request pipeline: route, auth, deny, rate limit, faults, handler, body faults.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};

use crate::faults::PreFault;
use crate::handlers::{self, Req};
use crate::params::Params;
use crate::products::{ApiError, ErrKind, Product, default_message};
use crate::ratelimit::{self, Decision, RateLimiter};
use crate::state::AppState;
use crate::streams::StreamId;

/// (product, stream if the path is a known list endpoint, API version string).
pub fn route(path: &str) -> Option<(Product, Option<StreamId>, &'static str)> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let dated = |v: &str| match v {
        "2025-07" => Some("2025-07"),
        "2026-07" => Some("2026-07"),
        _ => None,
    };
    use StreamId::*;
    match segs.as_slice() {
        ["tracking", v, rest @ ..] => {
            let s = match (dated(v), rest) {
                (Some(_), ["trackings"]) => Some(Trackings),
                (Some(_), ["couriers"]) => Some(Couriers),
                (Some(_), ["courier-connections"]) => Some(CourierConnections),
                _ => None,
            };
            Some((Product::Tracking, s, dated(v).unwrap_or("")))
        }
        ["returns", v, rest @ ..] => {
            let s = match (dated(v), rest) {
                (Some(_), ["returns"]) => Some(ItemReturns),
                (Some(_), ["item-tags"]) => Some(ItemTags),
                _ => None,
            };
            Some((Product::Returns, s, dated(v).unwrap_or("")))
        }
        ["commerce", v, rest @ ..] => {
            let s = match (dated(v), rest) {
                (Some(_), ["stores"]) => Some(Stores),
                (Some(_), ["orders"]) => Some(Orders),
                (Some(_), ["products"]) => Some(Products),
                (Some(_), ["fulfillments"]) => Some(Fulfillments),
                _ => None,
            };
            Some((Product::Commerce, s, dated(v).unwrap_or("")))
        }
        ["admin", "2022-01", "claims"] => Some((Product::Protection, Some(QueryClaims), "2022-01")),
        ["admin", "2022-01", "coverages"] => {
            Some((Product::Protection, Some(QueryCoverages), "2022-01"))
        }
        ["admin", "2022-01", "memberships"] => {
            Some((Product::Members, Some(Memberships), "2022-01"))
        }
        ["admin", "2022-01", "roles"] => Some((Product::Members, Some(Roles), "2022-01")),
        ["admin", ..] => Some((Product::Members, None, "")),
        ["postmen", "v3", rest @ ..] => {
            let s = match rest {
                ["rates"] => Some(ShippingRates),
                ["labels"] => Some(ShippingLabels),
                ["manifests"] => Some(ShippingManifests),
                ["cancel-labels"] => Some(CancelLabels),
                ["pickups"] => Some(Pickups),
                ["cancel-pickups"] => Some(CancelPickups),
                ["shipper-accounts"] => Some(ShipperAccounts),
                ["couriers"] => Some(ShippingCouriers),
                ["locations"] => Some(Locations),
                _ => None,
            };
            Some((Product::Shipping, s, "v3"))
        }
        _ => None,
    }
}

enum BodyFault {
    None,
    Truncate,
    Reset,
}

fn respond(
    status: u16,
    body: Vec<u8>,
    headers: &[(&'static str, String)],
    body_fault: BodyFault,
) -> Response<Body> {
    let full_len = body.len();
    let body = match body_fault {
        BodyFault::None => Body::from(body),
        BodyFault::Truncate => {
            let cut = (full_len * 3 / 5).max(1).min(full_len);
            let mut b = body;
            b.truncate(cut);
            Body::from(b)
        }
        BodyFault::Reset => {
            let cut = (full_len / 2).max(1).min(full_len);
            let first = bytes::Bytes::from(body).slice(..cut);
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
                Ok(first),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox fault: reset",
                )),
            ];
            Body::from_stream(futures_util::stream::iter(chunks))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let BodyFault::Reset = body_fault {
        // announce the whole body, then break off half-way
        if let Ok(v) = HeaderValue::from_str(&full_len.to_string()) {
            h.insert("content-length", v);
        }
    }
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    resp
}

fn error_response(e: ApiError, headers: &[(&'static str, String)]) -> Response<Body> {
    respond(e.status, e.body.into_bytes(), headers, BodyFault::None)
}

/// Fallback handler for every non-admin path.
pub async fn handle(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let path = uri.path().to_string();
    let mut listed: Vec<String> = Vec::new();
    let resp = pipeline(&st, &method, &uri, &headers, &mut listed).await;
    st.stats.record(&path, resp.status().as_u16());
    // vanishing stores and orders count their store's answered Commerce requests; what
    // is due is deleted before this answer is sent
    if resp.status() == StatusCode::OK
        && let Some(sid) = commerce_store(&path, &headers)
    {
        st.commerce_answered(sid, &listed);
    }
    // Live writes: the every-th answer is built; the burst runs before it is sent, so
    // the next request sees the data after it.
    st.answered();
    resp
}

/// The `as-store-id` of a request to a store's Commerce list (orders, products,
/// fulfillments), trimmed and not empty.
fn commerce_store<'h>(path: &str, headers: &'h HeaderMap) -> Option<&'h str> {
    let (_, stream, _) = route(path)?;
    if !matches!(
        stream,
        Some(StreamId::Orders | StreamId::Products | StreamId::Fulfillments)
    ) {
        return None;
    }
    headers
        .get("as-store-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

async fn pipeline(
    st: &Arc<AppState>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    listed: &mut Vec<String>,
) -> Response<Body> {
    let settings = st.settings();
    if settings.latency_ms > 0 {
        tokio::time::sleep(StdDuration::from_millis(settings.latency_ms)).await;
    }
    let path = uri.path();
    let Some((product, stream, version)) = route(path) else {
        let e = Product::Tracking.error(ErrKind::NotFound, default_message(ErrKind::NotFound), &[]);
        return error_response(e, &[]);
    };
    let mut base_headers: Vec<(&'static str, String)> = Vec::new();
    if matches!(
        product,
        Product::Tracking | Product::Commerce | Product::Returns
    ) && !version.is_empty()
    {
        base_headers.push(("as-api-version", version.to_string()));
    }
    let plan = st.faults.plan(&settings.faults, path);

    // authentication
    let key_ok = headers
        .get("as-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == st.api_key);
    if !key_ok || plan.pre == Some(PreFault::Unauthorized) {
        let e = product.error(
            ErrKind::Unauthorized,
            default_message(ErrKind::Unauthorized),
            &[],
        );
        return error_response(e, &base_headers);
    }
    if settings.deny.contains(&product) {
        let e = product.error(
            ErrKind::Forbidden,
            "The API key does not have permission for this product (missing required scope `read`).",
            &[],
        );
        return error_response(e, &base_headers);
    }
    if let Some(sid) = commerce_store(path, headers)
        && settings.store_forbidden(sid)
    {
        let e = product.error(
            ErrKind::Forbidden,
            &format!("The API key does not have permission to access the store {sid}."),
            &[],
        );
        return error_response(e, &base_headers);
    }
    if let Some(sid) = commerce_store(path, headers)
        && settings.failing_stores.iter().any(|s| s == sid)
    {
        let e = product.error(
            ErrKind::Internal,
            "Something went wrong on AfterShip's end.",
            &[],
        );
        return error_response(e, &base_headers);
    }
    let Some(stream) = stream else {
        let e = product.error(ErrKind::NotFound, default_message(ErrKind::NotFound), &[]);
        return error_response(e, &base_headers);
    };
    if *method != Method::GET {
        let e = product.error(
            ErrKind::NotFound,
            "The sandbox serves GET list endpoints only.",
            &[],
        );
        return error_response(e, &base_headers);
    }

    // rate limit
    let (bucket, limit) = ratelimit::bucket(stream);
    let decision: Option<Decision> = if settings.rate_limit {
        Some(st.limiter.check(bucket, limit))
    } else {
        None
    };
    let mut ok_headers = base_headers.clone();
    if let Some(d) = decision {
        if !d.allowed {
            let mut h = base_headers.clone();
            h.extend(ratelimit::headers(product, &d, true));
            let e = product.error(
                ErrKind::TooManyRequests,
                default_message(ErrKind::TooManyRequests),
                &[],
            );
            return error_response(e, &h);
        }
        ok_headers.extend(ratelimit::headers(product, &d, false));
    }

    // faults before the handler
    match plan.pre {
        Some(PreFault::Status(s)) => {
            let kind = match s {
                502 => ErrKind::BadGateway,
                503 => ErrKind::Unavailable,
                _ => ErrKind::Internal,
            };
            let e = product.error(kind, default_message(kind), &[]);
            return error_response(e, &ok_headers);
        }
        Some(PreFault::Storm429) => {
            let d = RateLimiter::peek(limit, 0);
            let mut h = base_headers.clone();
            h.extend(ratelimit::headers(product, &d, true));
            if !h.iter().any(|(k, _)| *k == "retry-after") {
                h.push(("retry-after", "1".to_string()));
            }
            let e = product.error(
                ErrKind::TooManyRequests,
                default_message(ErrKind::TooManyRequests),
                &[],
            );
            return error_response(e, &h);
        }
        _ => {}
    }
    if plan.slow {
        tokio::time::sleep(StdDuration::from_secs(2)).await;
    }

    let Some(params) = Params::try_parse(uri.query()) else {
        let e = product.error(
            ErrKind::BadRequest,
            "The query string cannot be decoded.",
            &[],
        );
        return error_response(e, &ok_headers);
    };
    let store_header = headers.get("as-store-id").and_then(|v| v.to_str().ok());
    let served_orders = RefCell::new(Vec::new());
    let result = {
        // the clock is read under the data lock: a live-write burst moves both at once
        let ds = st.data();
        let req = Req {
            stream,
            version,
            params: &params,
            store_header,
            now: st.now(),
            plan: &plan,
            faults: &st.faults,
            max_limits: &st.max_limits,
            fulfillments_order_id_only: settings.fulfillments_order_id_only,
            exact_probe: st.exact_probe,
            clamp_limits: st.clamp_limits,
            ignore_date_filters: settings.ignore_date_filters.contains(&product),
            listed: (stream == StreamId::Orders && !settings.vanishing_orders.is_empty())
                .then_some(&served_orders),
        };
        handlers::dispatch(&ds, &req, st.seed)
    };
    *listed = served_orders.into_inner();
    match result {
        Ok(body) => {
            let bf = if plan.reset {
                BodyFault::Reset
            } else if plan.truncate {
                BodyFault::Truncate
            } else {
                BodyFault::None
            };
            respond(200, body, &ok_headers, bf)
        }
        Err(e) => error_response(e, &ok_headers),
    }
}
