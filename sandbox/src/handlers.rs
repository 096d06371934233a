//! One function per pagination style; each builds the page body by concatenating the
//! records' pre-serialised bytes.

use std::cell::RefCell;
use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

use crate::codec::{Keyset, decode_keyset, encode_keyset};
use crate::data::{Dataset, Record};
use crate::faults::{FaultState, Plan, odd_version};
use crate::params::{Params, bool_param, int_param, invalid, ts_param};
use crate::products::{ApiError, ErrKind, Product, default_message};
use crate::records;
use crate::streams::StreamId;
use crate::timefmt::{TsStyle, fmt_ts};

/// Tracking keeps 120 days; Returns lists reach back 365 days.
pub const TRACKING_RETENTION_DAYS: i64 = 120;
pub const RETURNS_RETENTION_DAYS: i64 = 365;

/// Everything a list handler needs about the request.
pub struct Req<'a> {
    pub stream: StreamId,
    /// The dated version in the path (`2025-07`, `2026-07`, `2022-01`, `v3`).
    pub version: &'a str,
    pub params: &'a Params,
    pub store_header: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub plan: &'a Plan,
    pub faults: &'a FaultState,
    /// Configured maxima of `limit` (`--max-limit`); other streams keep their own.
    pub max_limits: &'a BTreeMap<StreamId, u64>,
    /// Fulfillments answer 400 to any parameter besides `order_id` / `ids[]`.
    pub fulfillments_order_id_only: bool,
    /// Splice [`PROBE`] into every served record (`--exact-probe`).
    pub exact_probe: bool,
    /// Serve a `limit` above the maximum at the maximum (`--clamp-limits`).
    pub clamp_limits: bool,
    /// The product's lists accept their date filters but ignore them
    /// (`ignore_date_filters`; Tracking and Shipping).
    pub ignore_date_filters: bool,
    /// Collects the keys of the records a page serves (orders, while orders are set to
    /// vanish after being listed).
    pub listed: Option<&'a RefCell<Vec<String>>>,
}

type Out = Result<Vec<u8>, ApiError>;

/// The page size of a paginated list: `limit` within 1 ..= the stream's maximum (its
/// own, or the configured one), refused above it in the product's dialect, naming
/// `limit`; when omitted, the documented default, or the maximum if that is lower.
fn page_limit(req: &Req<'_>) -> Result<u64, ApiError> {
    let ps = req.stream.page_size().unwrap_or(crate::streams::PageSize {
        default: 1,
        max: 1,
        documented: false,
    });
    let max = req.max_limits.get(&req.stream).copied().unwrap_or(ps.max);
    let over = req
        .params
        .get("limit")
        .and_then(|l| l.trim().parse::<u64>().ok())
        .is_some_and(|l| l > max);
    if req.clamp_limits && over {
        return Ok(max);
    }
    int_param(
        req.params,
        req.stream.product(),
        "limit",
        ps.default.min(max),
        1,
        Some(max),
    )
}

/// `{"meta":M,"data":{PREFIX"key":[...]SUFFIX}}`
fn assemble(product: Product, prefix: &str, key: &str, recs: &[Bytes], suffix: &str) -> Vec<u8> {
    let size: usize =
        recs.iter().map(|r| r.len() + 1).sum::<usize>() + prefix.len() + suffix.len() + 128;
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(b"{\"meta\":");
    b.extend_from_slice(product.success_meta().as_bytes());
    b.extend_from_slice(b",\"data\":{");
    b.extend_from_slice(prefix.as_bytes());
    b.push(b'"');
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(b"\":[");
    for (i, r) in recs.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(r);
    }
    b.push(b']');
    b.extend_from_slice(suffix.as_bytes());
    b.extend_from_slice(b"}}");
    b
}

/// The member `--exact-probe` puts first into every served record: keys out of
/// order, an integer beyond 64 bits, a decimal an f64 round trip shortens to 0.1, and
/// escapes (`\u00e9`, `\/`, a surrogate pair, `\"`, `\\`, `\t`), so a test can see
/// whether a client passes the bytes through unchanged.
pub const PROBE: &str = r#""probe":{"z":98765432109876543210987,"a":0.1000000000000000055511151231257827,"e":"caf\u00e9 \/ \ud83d\ude00 \"q\" \\ \t"}"#;

/// The one place a record's served bytes are built from its stored JSON (pages,
/// locations and `/__sandbox/served`): Tracking 2026-07 renames the checkpoint field
/// `zip` to `postal_code` (Tracking 2026-01), and with `--exact-probe` the probe is
/// spliced in as the first member. Filters and truth read the stored JSON.
pub fn served_bytes(json: &Bytes, stream: StreamId, version: &str, probe: bool) -> Bytes {
    let json = if stream == StreamId::Trackings && version == "2026-07" {
        rename_zip(json)
    } else {
        json.clone()
    };
    if !probe {
        return json;
    }
    let Some(rest) = json.strip_prefix(b"{") else {
        return json;
    };
    let mut out = Vec::with_capacity(json.len() + PROBE.len() + 1);
    out.push(b'{');
    out.extend_from_slice(PROBE.as_bytes());
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

/// The page's bytes, with one odd record when that fault fired.
fn page_bytes(page: &[&Record], req: &Req<'_>) -> Vec<Bytes> {
    let serve = |json: &Bytes| served_bytes(json, req.stream, req.version, req.exact_probe);
    let mut out: Vec<Bytes> = page.iter().map(|r| serve(&r.json)).collect();
    if req.plan.odd_record && !out.is_empty() {
        let i = req.faults.pick(out.len());
        let odd = odd_version(&page[i].value());
        out[i] = serve(&Bytes::from(serde_json::to_vec(&odd).unwrap_or_default()));
    }
    out
}

/// `"zip":` → `"postal_code":` in a tracking's JSON (the key only occurs in checkpoints).
fn rename_zip(json: &Bytes) -> Bytes {
    const FROM: &[u8] = b"\"zip\":";
    const TO: &[u8] = b"\"postal_code\":";
    let mut out = Vec::with_capacity(json.len() + 64);
    let mut i = 0;
    while i < json.len() {
        if json[i..].starts_with(FROM) {
            out.extend_from_slice(TO);
            i += FROM.len();
        } else {
            out.push(json[i]);
            i += 1;
        }
    }
    Bytes::from(out)
}

fn js(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn bad_token(product: Product, name: &str) -> ApiError {
    invalid(product, name, format!("{name} is invalid or expired"))
}

/// The range of newest-first `records` created in `[lo, hi]`, and where in it the
/// page after keyset `ks` starts. One rule for both walks: a record without
/// `created_at` counts as created at the earliest instant.
fn window_range(
    records: &[Record],
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    ks: Option<&Keyset>,
) -> (usize, usize, usize) {
    let created = |r: &Record| r.created.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let start = records.partition_point(|r| created(r) > hi);
    let end = records.partition_point(|r| created(r) >= lo).max(start);
    let from = match ks {
        Some(k) => records
            .partition_point(|r| (created(r), r.key.as_str()) >= (k.created_at, k.id.as_str()))
            .clamp(start, end),
        None => start,
    };
    (start, from, end)
}

/// Keyset walk over the newest-first records created in `[lo, hi]` that `keep`
/// accepts: returns (total, page, more). A scan of the window.
fn keyset_walk<'d>(
    records: &'d [Record],
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    ks: Option<&Keyset>,
    limit: usize,
    keep: impl Fn(&Record) -> bool,
) -> (usize, Vec<&'d Record>, bool) {
    let (start, from, end) = window_range(records, lo, hi, ks);
    let total = records[start..from].iter().filter(|r| keep(r)).count();
    let mut page = Vec::with_capacity(limit.min(end - from));
    let mut rest = 0;
    for r in records[from..end].iter().filter(|r| keep(r)) {
        if page.len() < limit {
            page.push(r);
        } else {
            rest += 1;
        }
    }
    (total + page.len() + rest, page, rest > 0)
}

/// The same walk when the only filter is the created_at window: binary searches on
/// the newest-first order, so a page costs O(log n + limit) instead of a scan.
fn window_walk<'d>(
    records: &'d [Record],
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    ks: Option<&Keyset>,
    limit: usize,
) -> (usize, Vec<&'d Record>, bool) {
    let (start, from, end) = window_range(records, lo, hi, ks);
    let to = (from + limit).min(end);
    (end - start, records[from..to].iter().collect(), to < end)
}

/// Next token after `page`, or the request's own token when the loop trap is on.
fn next_token(
    req: &Req<'_>,
    current: Option<&str>,
    page: &[&Record],
    more: bool,
) -> (String, bool) {
    if let Some(cur) = current
        && (req.plan.repeat_cursor || req.faults.is_trapped(cur))
    {
        req.faults.trap(cur);
        return (cur.to_string(), true);
    }
    match (more, page.last()) {
        (true, Some(last)) => (
            encode_keyset(&Keyset {
                created_at: last.created.unwrap_or(DateTime::<Utc>::MIN_UTC),
                id: last.key.clone(),
            }),
            true,
        ),
        _ => (String::new(), false),
    }
}

/// Tracking `cursor` pagination: trackings and courier-connections.
pub fn tracking_cursor(ds: &Dataset, req: &Req<'_>) -> Out {
    let p = req.params;
    let prod = Product::Tracking;
    let limit = page_limit(req)? as usize;
    let cursor = p.get("cursor").filter(|c| !c.is_empty());
    let ks = match cursor {
        Some(c) => Some(decode_keyset(c).ok_or_else(|| bad_token(prod, "cursor"))?),
        None => None,
    };
    let (total, page, more) = if req.stream == StreamId::Trackings {
        let floor = req.now - Duration::days(TRACKING_RETENTION_DAYS);
        let cmin = ts_param(p, prod, "created_at_min")?.map_or(floor, |t| t.max(floor));
        let cmax = ts_param(p, prod, "created_at_max")?.unwrap_or(req.now);
        let umin = ts_param(p, prod, "updated_at_min")?;
        let umax = ts_param(p, prod, "updated_at_max")?;
        let slugs = p.all("slug");
        let tags = p.all("tag");
        let recs = ds.records(req.stream);
        // nothing created after now, whatever created_at_max says
        let (lo, hi) = (cmin, cmax.min(req.now));
        // a server that ignores its date filters: checked, then the whole retention
        let (lo, hi, umin, umax) = if req.ignore_date_filters {
            (floor, req.now, None, None)
        } else {
            (lo, hi, umin, umax)
        };
        if umin.is_none() && umax.is_none() && slugs.is_empty() && tags.is_empty() {
            window_walk(recs, lo, hi, ks.as_ref(), limit)
        } else {
            keyset_walk(recs, lo, hi, ks.as_ref(), limit, |r| {
                let any = |xs: &[String], f: &str| {
                    xs.is_empty() || r.str_field(f).is_some_and(|s| xs.iter().any(|x| x == s))
                };
                umin.is_none_or(|m| r.updated.is_some_and(|u| u >= m))
                    && umax.is_none_or(|m| r.updated.is_some_and(|u| u <= m))
                    && any(&slugs, "slug")
                    && any(&tags, "tag")
            })
        }
    } else {
        let recs = ds.records(req.stream);
        let (lo, hi) = (DateTime::<Utc>::MIN_UTC, req.now);
        match p.get("courier_slug").filter(|s| !s.is_empty()) {
            None => window_walk(recs, lo, hi, ks.as_ref(), limit),
            Some(slug) => keyset_walk(recs, lo, hi, ks.as_ref(), limit, |r| {
                r.str_field("courier_slug") == Some(slug)
            }),
        }
    };
    let (next, has_next) = next_token(req, cursor, &page, more);
    let prefix = format!(
        "\"pagination\":{{\"total\":{total},\"next_cursor\":{},\"has_next_page\":{has_next}}},",
        js(&next)
    );
    Ok(assemble(
        prod,
        &prefix,
        req.stream.data_key(),
        &page_bytes(&page, req),
        "",
    ))
}

/// Tracking couriers: `{total, couriers}`, no pagination.
pub fn tracking_couriers(ds: &Dataset, req: &Req<'_>) -> Out {
    let p = req.params;
    let active = bool_param(p, Product::Tracking, "active")?;
    let slugs = p.all("slug");
    let page: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| {
            active.is_none_or(|a| !a || r.bool_field("active") == Some(true))
                && (slugs.is_empty() || slugs.contains(&r.key))
        })
        .collect();
    let prefix = format!("\"total\":{},", page.len());
    Ok(assemble(
        Product::Tracking,
        &prefix,
        "couriers",
        &page_bytes(&page, req),
        "",
    ))
}

/// How a page-number API reports its position.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageInfo {
    /// Returns: `{total, page, limit, has_next_page}`
    TotalAndNext,
    /// Protection, Members: `{page, limit, total}`
    Total,
    /// Commerce: `{page, limit, has_next_page}`
    Next,
}

/// A page-number API's rules besides `limit` (see [`StreamId::page_size`]).
struct PageSpec {
    max_page: Option<u64>,
    info: PageInfo,
    /// Suffix after the pagination object (e.g. parameter_string); given page & limit.
    parameter_string: Option<fn(u64, u64) -> String>,
}

fn commerce_ps(page: u64, limit: u64) -> String {
    format!("limit={limit}&page={page}")
}

fn empty_ps(_: u64, _: u64) -> String {
    String::new()
}

fn paged(req: &Req<'_>, spec: &PageSpec, matched: Vec<&Record>) -> Out {
    let prod = req.stream.product();
    let p = req.params;
    let page = int_param(p, prod, "page", 1, 1, spec.max_page)?;
    let limit = page_limit(req)?;
    let total = matched.len() as u64;
    let start = (page - 1).saturating_mul(limit);
    let (rows, mut has_next, mut total_shown): (Vec<&Record>, bool, u64) = if start >= total {
        (Vec::new(), false, total)
    } else {
        let end = (start + limit).min(total);
        (
            matched[start as usize..end as usize].to_vec(),
            end < total,
            total,
        )
    };
    let rows = if req.plan.repeat_cursor {
        // loop trap: "there is more" but the page is empty
        has_next = true;
        total_shown = total_shown.max(page * limit + 1);
        Vec::new()
    } else {
        rows
    };
    // the records this page serves (a fault's empty page lists none)
    if let Some(l) = req.listed {
        l.borrow_mut().extend(rows.iter().map(|r| r.key.clone()));
    }
    let pagination = match spec.info {
        PageInfo::TotalAndNext => format!(
            "\"pagination\":{{\"total\":{total_shown},\"page\":{page},\"limit\":{limit},\"has_next_page\":{has_next}}}"
        ),
        PageInfo::Total => {
            format!("\"pagination\":{{\"page\":{page},\"limit\":{limit},\"total\":{total_shown}}}")
        }
        PageInfo::Next => {
            format!(
                "\"pagination\":{{\"page\":{page},\"limit\":{limit},\"has_next_page\":{has_next}}}"
            )
        }
    };
    let mut suffix = format!(",{pagination}");
    if let Some(ps) = spec.parameter_string {
        suffix.push_str(&format!(",\"parameter_string\":{}", js(&ps(page, limit))));
    }
    Ok(assemble(
        prod,
        "",
        req.stream.data_key(),
        &page_bytes(&rows, req),
        &suffix,
    ))
}

/// Returns `GET /returns`: page/limit, created_at window within the last 365 days.
pub fn returns(ds: &Dataset, req: &Req<'_>) -> Out {
    let p = req.params;
    let prod = Product::Returns;
    let floor = req.now - Duration::days(RETURNS_RETENTION_DAYS);
    let cmin = ts_param(p, prod, "created_at_min")?.map_or(floor, |t| t.max(floor));
    let cmax = ts_param(p, prod, "created_at_max")?.unwrap_or(req.now);
    let status = p.get("approval_status").filter(|s| !s.is_empty());
    let matched: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| {
            r.created.is_some_and(|c| c >= cmin && c <= cmax)
                && status.is_none_or(|s| r.str_field("approval_status") == Some(s))
        })
        .collect();
    let spec = PageSpec {
        max_page: Some(200),
        info: PageInfo::TotalAndNext,
        parameter_string: None,
    };
    paged(req, &spec, matched)
}

/// Returns `GET /item-tags`: the whole list, no pagination.
pub fn item_tags(ds: &Dataset, req: &Req<'_>) -> Out {
    let page: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| r.created.is_some_and(|c| c <= req.now))
        .collect();
    Ok(assemble(
        Product::Returns,
        "",
        "item_tags",
        &page_bytes(&page, req),
        "",
    ))
}

/// Protection claims/coverages: page ≤ 1000, limit ≤ 20.
pub fn protection(ds: &Dataset, req: &Req<'_>) -> Out {
    let (field, param) = if req.stream == StreamId::QueryClaims {
        ("coverage_id", "coverage_id")
    } else {
        ("source_id", "source_id")
    };
    let want = req.params.get(param).filter(|s| !s.is_empty());
    let matched: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| {
            r.created.is_some_and(|c| c <= req.now)
                && want.is_none_or(|w| r.str_field(field) == Some(w))
        })
        .collect();
    let spec = PageSpec {
        max_page: Some(1000),
        info: PageInfo::Total,
        parameter_string: None,
    };
    paged(req, &spec, matched)
}

const COMMERCE_PAGES: PageSpec = PageSpec {
    max_page: Some(200),
    info: PageInfo::Next,
    parameter_string: Some(commerce_ps),
};

fn ids_filter(req: &Req<'_>, name: &str, max: usize) -> Result<Vec<String>, ApiError> {
    let ids = req.params.all(name);
    if ids.len() > max {
        return Err(invalid(
            Product::Commerce,
            name,
            format!("at most {max} values of {name} are allowed"),
        ));
    }
    Ok(ids)
}

/// Commerce `GET /stores`.
pub fn stores(ds: &Dataset, req: &Req<'_>) -> Out {
    let ids = ids_filter(req, "ids[]", 50)?;
    let matched: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| {
            r.created.is_some_and(|c| c <= req.now) && (ids.is_empty() || ids.contains(&r.key))
        })
        .collect();
    paged(req, &COMMERCE_PAGES, matched)
}

/// The `as-store-id` rules: missing → 412/41201, unknown → 412/41204.
fn store_id<'a>(ds: &Dataset, req: &Req<'a>) -> Result<&'a str, ApiError> {
    let sid = req
        .store_header
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Product::Commerce.error(
                ErrKind::StoreIdMissing,
                default_message(ErrKind::StoreIdMissing),
                &[("as-store-id", "as-store-id header is required".to_string())],
            )
        })?;
    if !ds.store_ids.contains(sid) {
        return Err(Product::Commerce.error(
            ErrKind::StoreNotFound,
            &format!("The store {sid} could not be found."),
            &[("as-store-id", "store not found".to_string())],
        ));
    }
    Ok(sid)
}

/// Commerce orders/products/fulfillments of one store.
pub fn commerce_child(ds: &Dataset, req: &Req<'_>) -> Out {
    let sid = store_id(ds, req)?;
    let p = req.params;
    let in_store =
        |r: &&Record| r.store_id.as_deref() == Some(sid) && r.created.is_some_and(|c| c <= req.now);
    let matched: Vec<&Record> = match req.stream {
        StreamId::Orders => {
            let ids = ids_filter(req, "ids[]", 50)?;
            let sort = p.get("sort").unwrap_or("-source_created_at");
            let mut v: Vec<&Record> = ds
                .records(req.stream)
                .iter()
                .filter(in_store)
                .filter(|r| ids.is_empty() || ids.contains(&r.key))
                .collect();
            match sort {
                "-source_created_at" => {}
                "+source_created_at" => v.reverse(),
                "-source_updated_at" | "+source_updated_at" => {
                    v.sort_by(|a, b| {
                        let ka = (
                            a.str_field("source_updated_at")
                                .and_then(crate::timefmt::parse_any),
                            &a.key,
                        );
                        let kb = (
                            b.str_field("source_updated_at")
                                .and_then(crate::timefmt::parse_any),
                            &b.key,
                        );
                        kb.cmp(&ka)
                    });
                    if sort.starts_with('+') {
                        v.reverse();
                    }
                }
                other => {
                    return Err(invalid(
                        Product::Commerce,
                        "sort",
                        format!(
                            "sort {other:?} must be one of -source_created_at, +source_created_at, -source_updated_at, +source_updated_at"
                        ),
                    ));
                }
            }
            v
        }
        StreamId::Products => {
            let ids = ids_filter(req, "ids[]", 50)?;
            let slugs = ids_filter(req, "slugs[]", 50)?;
            let published = bool_param(p, Product::Commerce, "published")?;
            ds.records(req.stream)
                .iter()
                .filter(in_store)
                .filter(|r| {
                    (ids.is_empty() || ids.contains(&r.key))
                        && (slugs.is_empty()
                            || r.str_field("slug")
                                .is_some_and(|s| slugs.iter().any(|x| x == s)))
                        && published.is_none_or(|b| r.bool_field("published") == Some(b))
                })
                .collect()
        }
        _ => {
            let order_id = p.get("order_id").filter(|s| !s.is_empty());
            let ids = ids_filter(req, "ids[]", 20)?;
            match (order_id, ids.is_empty()) {
                (None, true) => {
                    return Err(Product::Commerce.error(
                        ErrKind::MissingParameter,
                        default_message(ErrKind::MissingParameter),
                        &[(
                            "order_id",
                            "one of order_id or ids[] is required".to_string(),
                        )],
                    ));
                }
                (Some(_), false) => {
                    return Err(Product::Commerce.error(
                        ErrKind::BadRequest,
                        "Only one of order_id or ids[] may be sent.",
                        &[(
                            "order_id",
                            "send either order_id or ids[], not both".to_string(),
                        )],
                    ));
                }
                _ => {}
            }
            if req.fulfillments_order_id_only {
                only_order_id_or_ids(p)?;
            }
            if let Some(o) = order_id
                && ds
                    .deleted_orders
                    .contains(&(sid.to_string(), o.to_string()))
            {
                return Err(Product::Commerce.error(
                    ErrKind::NotFound,
                    &format!("The order {o} could not be found."),
                    &[("order_id", "order not found".to_string())],
                ));
            }
            ds.records(req.stream)
                .iter()
                .filter(in_store)
                .filter(|r| match order_id {
                    Some(o) => r.order_id.as_deref() == Some(o),
                    None => ids.contains(&r.key),
                })
                .collect()
        }
    };
    paged(req, &COMMERCE_PAGES, matched)
}

/// "Include only one of `order_id` or `ids[]`. All other parameters should be
/// omitted" (fulfillments), read strictly: every other parameter, once per name, is
/// an error.
fn only_order_id_or_ids(p: &Params) -> Result<(), ApiError> {
    let mut extra: Vec<&str> = Vec::new();
    for (k, _) in &p.0 {
        if k != "order_id" && k != "ids[]" && !extra.contains(&k.as_str()) {
            extra.push(k);
        }
    }
    if extra.is_empty() {
        return Ok(());
    }
    let errors: Vec<(&str, String)> = extra
        .into_iter()
        .map(|k| (k, "must be omitted".to_string()))
        .collect();
    Err(Product::Commerce.error(
        ErrKind::BadRequest,
        "Include only one of order_id or ids[]. All other parameters should be omitted.",
        &errors,
    ))
}

/// Members `GET /memberships`: limit default 100, max 200.
pub fn memberships(ds: &Dataset, req: &Req<'_>) -> Out {
    let email = req.params.get("email").filter(|s| !s.is_empty());
    let matched: Vec<&Record> = ds
        .records(req.stream)
        .iter()
        .filter(|r| email.is_none_or(|e| r.str_field("account_email") == Some(e)))
        .collect();
    let spec = PageSpec {
        max_page: None,
        info: PageInfo::Total,
        parameter_string: Some(empty_ps),
    };
    paged(req, &spec, matched)
}

/// Members `GET /roles`: no pagination.
pub fn roles(ds: &Dataset, req: &Req<'_>) -> Out {
    let page: Vec<&Record> = ds.records(req.stream).iter().collect();
    Ok(assemble(
        Product::Members,
        "",
        "roles",
        &page_bytes(&page, req),
        ",\"parameter_string\":\"\"",
    ))
}

/// Shipping lists with `next_token`, `limit` (1–100, default 20) and the created window.
pub fn shipping_list(ds: &Dataset, req: &Req<'_>) -> Out {
    let p = req.params;
    let prod = Product::Shipping;
    let limit = page_limit(req)? as usize;
    let token = p.get("next_token").filter(|c| !c.is_empty());
    let ks = match token {
        Some(c) => Some(decode_keyset(c).ok_or_else(|| bad_token(prod, "next_token"))?),
        None => None,
    };
    let status = p.get("status").filter(|s| !s.is_empty());
    let (window, slug) = if req.stream == StreamId::ShipperAccounts {
        (None, p.get("slug").filter(|s| !s.is_empty()))
    } else {
        let cmin = ts_param(p, prod, "created_at_min")?.unwrap_or(req.now - Duration::hours(24));
        let cmax = ts_param(p, prod, "created_at_max")?.unwrap_or(req.now);
        (Some((cmin, cmax)), None)
    };
    let recs = ds.records(req.stream);
    // a server that ignores its date filters serves everything (and still echoes them)
    let walked = window.filter(|_| !req.ignore_date_filters);
    let (lo, hi) = walked.unwrap_or((DateTime::<Utc>::MIN_UTC, req.now));
    let hi = hi.min(req.now);
    let (_, page, more) = if status.is_none() && slug.is_none() {
        window_walk(recs, lo, hi, ks.as_ref(), limit)
    } else {
        keyset_walk(recs, lo, hi, ks.as_ref(), limit, |r| {
            status.is_none_or(|s| r.str_field("status") == Some(s))
                && slug.is_none_or(|s| r.str_field("slug") == Some(s))
        })
    };
    let (next, _) = next_token(req, token, &page, more);
    let mut prefix = format!("\"next_token\":{},\"limit\":{limit},", js(&next));
    if let Some((lo, hi)) = window {
        prefix.push_str(&format!(
            "\"created_at_min\":{},\"created_at_max\":{},",
            js(&fmt_ts(lo, TsStyle::Plus00)),
            js(&fmt_ts(hi, TsStyle::Plus00))
        ));
    }
    Ok(assemble(
        prod,
        &prefix,
        req.stream.data_key(),
        &page_bytes(&page, req),
        "",
    ))
}

/// Shipping `GET /couriers`: the whole list.
pub fn shipping_couriers(ds: &Dataset, req: &Req<'_>) -> Out {
    let page: Vec<&Record> = ds.records(req.stream).iter().collect();
    Ok(assemble(
        Product::Shipping,
        "",
        "couriers",
        &page_bytes(&page, req),
        "",
    ))
}

/// The inputs of a carrier location search, validated.
pub struct LocationSearch {
    pub seed: u64,
    pub slug: String,
    pub country: String,
    pub city: String,
    pub count: usize,
    pub unit: String,
}

fn fnv(parts: &[&str], seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `slug` and `country` (ISO alpha-3) are required, plus `postal_code` or `city`.
pub fn location_search(
    p: &Params,
    seed: u64,
    per_search: usize,
) -> Result<LocationSearch, ApiError> {
    let prod = Product::Shipping;
    let get = |n: &str| p.get(n).map(str::trim).filter(|s| !s.is_empty());
    let missing = |n: &str| {
        prod.error(
            ErrKind::MissingParameter,
            "The request was invalid or cannot be otherwise served.",
            &[(n, format!("{n} is required"))],
        )
    };
    let slug = get("slug").ok_or_else(|| missing("slug"))?;
    let country = get("country").ok_or_else(|| missing("country"))?;
    if country.len() != 3 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            prod,
            "country",
            "country must be ISO 3166-1 alpha-3".to_string(),
        ));
    }
    let postal = get("postal_code");
    let city = get("city");
    if postal.is_none() && city.is_none() {
        return Err(missing("postal_code"));
    }
    let count = int_param(p, prod, "count", per_search as u64, 1, Some(50))? as usize;
    let unit = get("distance_unit").unwrap_or("km");
    if unit != "km" && unit != "mi" {
        return Err(invalid(
            prod,
            "distance_unit",
            "distance_unit must be km or mi".to_string(),
        ));
    }
    let street = get("street").unwrap_or("");
    let state = get("state").unwrap_or("");
    Ok(LocationSearch {
        seed: fnv(
            &[
                slug,
                country,
                postal.unwrap_or(""),
                city.unwrap_or(""),
                state,
                street,
            ],
            seed,
        ),
        slug: slug.to_string(),
        country: country.to_string(),
        city: city.unwrap_or("").to_string(),
        count: count.min(per_search),
        unit: unit.to_string(),
    })
}

pub fn location_results(s: &LocationSearch) -> Vec<serde_json::Value> {
    records::locations(s.seed, &s.slug, &s.country, &s.city, s.count, &s.unit)
}

/// The served bytes of a location search's results.
pub fn location_bytes(s: &LocationSearch, version: &str, probe: bool) -> Vec<Bytes> {
    location_results(s)
        .into_iter()
        .map(|v| {
            let json = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
            served_bytes(&json, StreamId::Locations, version, probe)
        })
        .collect()
}

/// Shipping `GET /locations`.
pub fn locations(ds: &Dataset, req: &Req<'_>, seed: u64) -> Out {
    let search = location_search(req.params, seed, ds.locations_per_search)?;
    let recs = location_bytes(&search, req.version, req.exact_probe);
    Ok(assemble(Product::Shipping, "", "locations", &recs, ""))
}

/// Dispatch a list request to its handler.
pub fn dispatch(ds: &Dataset, req: &Req<'_>, seed: u64) -> Out {
    use StreamId::*;
    match req.stream {
        Trackings | CourierConnections => tracking_cursor(ds, req),
        Couriers => tracking_couriers(ds, req),
        ItemReturns => returns(ds, req),
        ItemTags => item_tags(ds, req),
        QueryClaims | QueryCoverages => protection(ds, req),
        Stores => stores(ds, req),
        Orders | Products | Fulfillments => commerce_child(ds, req),
        Memberships => memberships(ds, req),
        Roles => roles(ds, req),
        ShippingCouriers => shipping_couriers(ds, req),
        Locations => locations(ds, req, seed),
        _ => shipping_list(ds, req),
    }
}
