//! Every pagination style walked to the end, with default and maximum page sizes.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::Value;

async fn walk_cursor(t: &T, path: &str, key: &str, limit: Option<u32>) -> (HashSet<String>, usize) {
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let mut q = String::new();
        if let Some(l) = limit {
            q.push_str(&format!("limit={l}"));
        }
        if !cursor.is_empty() {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("cursor={cursor}"));
        }
        let p = if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}{sep}{q}")
        };
        let r = t.get(&p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_eq!(r.body["meta"]["code"], 200);
        let n = add_ids(&mut seen, &r.body["data"][key], "id");
        if let Some(l) = limit {
            assert!(n <= l as usize);
        }
        pages += 1;
        let pg = &r.body["data"]["pagination"];
        let next = pg["next_cursor"].as_str().expect("next_cursor").to_string();
        if pg["has_next_page"] == Value::Bool(false) {
            assert_eq!(next, "", "last page has empty next_cursor");
            assert_eq!(pg["total"].as_u64().unwrap() as usize, seen.len());
            break;
        }
        assert!(!next.is_empty());
        cursor = next;
        assert!(pages < 10_000);
    }
    (seen, pages)
}

#[tokio::test]
async fn tracking_cursor_walks_to_truth() {
    let t = start_default().await;
    let truth = t.truth_ids("trackings").await;
    assert!(
        truth.len() > 200,
        "retention leaves several pages: {}",
        truth.len()
    );
    let (ids, pages) = walk_cursor(&t, "/tracking/2025-07/trackings", "trackings", None).await;
    assert_eq!(ids_set(&ids), truth);
    assert!(pages >= 3);
    let (ids, _) = walk_cursor(&t, "/tracking/2026-07/trackings", "trackings", Some(200)).await;
    assert_eq!(ids_set(&ids), truth);
    let (ids, _) = walk_cursor(
        &t,
        "/tracking/2025-07/courier-connections",
        "courier_connections",
        None,
    )
    .await;
    assert_eq!(ids_set(&ids), t.truth_ids("courier_connections").await);
    let (ids, _) = walk_cursor(
        &t,
        "/tracking/2025-07/courier-connections",
        "courier_connections",
        Some(200),
    )
    .await;
    assert_eq!(ids_set(&ids), t.truth_ids("courier_connections").await);

    // newest created first
    let r = t.get("/tracking/2025-07/trackings?limit=50").await;
    let ts: Vec<chrono::DateTime<chrono::FixedOffset>> = r.body["data"]["trackings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| chrono::DateTime::parse_from_rfc3339(x["created_at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]));

    // 2026-07 renamed checkpoint `zip` to `postal_code`
    let old = t.get("/tracking/2025-07/trackings?limit=200").await.text;
    let new = t.get("/tracking/2026-07/trackings?limit=200").await.text;
    assert!(old.contains("\"zip\":") && !old.contains("\"postal_code\":\"518000"));
    assert!(!new.contains("\"zip\":") && new.contains("\"postal_code\":"));

    // couriers: no pagination, key slug
    let r = t.get("/tracking/2025-07/couriers").await;
    assert_eq!(r.status, 200);
    let list = r.body["data"]["couriers"].as_array().unwrap();
    assert_eq!(
        r.body["data"]["total"].as_u64().unwrap() as usize,
        list.len()
    );
    let mut seen = HashSet::new();
    add_ids(&mut seen, &r.body["data"]["couriers"], "slug");
    assert_eq!(ids_set(&seen), t.truth_ids("couriers").await);
}

async fn walk_pages(
    t: &T,
    path: &str,
    key: &str,
    limit: Option<u32>,
    store: Option<&str>,
) -> HashSet<String> {
    let mut seen = HashSet::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    for page in 1.. {
        let mut p = format!("{path}{sep}page={page}");
        if let Some(l) = limit {
            p.push_str(&format!("&limit={l}"));
        }
        let r = match store {
            Some(s) => t.get_store(&p, s).await,
            None => t.get(&p).await,
        };
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        let n = add_ids(&mut seen, &r.body["data"][key], "id");
        let pg = &r.body["data"]["pagination"];
        assert_eq!(pg["page"].as_u64(), Some(page));
        let lim = pg["limit"].as_u64().unwrap();
        assert!(n as u64 <= lim);
        let more = match pg.get("has_next_page") {
            Some(v) => v.as_bool().unwrap(),
            None => page * lim < pg["total"].as_u64().unwrap(),
        };
        if let Some(total) = pg.get("total").and_then(Value::as_u64)
            && !more
        {
            assert_eq!(total as usize, seen.len());
        }
        if !more {
            break;
        }
        assert!(page < 1000);
    }
    seen
}

#[tokio::test]
async fn returns_protection_members_pages_walk_to_truth() {
    let t = start_default().await;
    for (path, key, stream, max) in [
        ("/returns/2025-07/returns", "returns", "item_returns", 50),
        ("/returns/2026-07/returns", "returns", "item_returns", 50),
        ("/admin/2022-01/claims", "claims", "query_claims", 20),
        (
            "/admin/2022-01/coverages",
            "coverages",
            "query_coverages",
            20,
        ),
        (
            "/admin/2022-01/memberships",
            "memberships",
            "memberships",
            200,
        ),
    ] {
        let truth = t.truth_ids(stream).await;
        let a = walk_pages(&t, path, key, None, None).await;
        assert_eq!(ids_set(&a), truth, "{path} default size");
        let b = walk_pages(&t, path, key, Some(max), None).await;
        assert_eq!(ids_set(&b), truth, "{path} max size");
    }
    // defaults echoed
    assert_eq!(
        t.get("/returns/2025-07/returns").await.body["data"]["pagination"]["limit"],
        10
    );
    assert_eq!(
        t.get("/admin/2022-01/claims").await.body["data"]["pagination"]["limit"],
        20
    );
    let m = t.get("/admin/2022-01/memberships").await;
    assert_eq!(m.body["meta"]["code"], 200);
    assert_eq!(m.body["data"]["pagination"]["limit"], 100);
    assert_eq!(m.body["data"]["parameter_string"], "");
    // item tags and roles: whole list
    let r = t.get("/returns/2025-07/item-tags").await;
    let mut seen = HashSet::new();
    add_ids(&mut seen, &r.body["data"]["item_tags"], "id");
    assert_eq!(ids_set(&seen), t.truth_ids("item_tags").await);
    let r = t.get("/admin/2022-01/roles").await;
    let mut seen = HashSet::new();
    add_ids(&mut seen, &r.body["data"]["roles"], "code");
    assert_eq!(ids_set(&seen), t.truth_ids("roles").await);
}

#[tokio::test]
async fn commerce_walks_stores_and_children() {
    let t = start_default().await;
    let stores = walk_pages(&t, "/commerce/2025-07/stores", "stores", None, None).await;
    assert_eq!(ids_set(&stores), t.truth_ids("stores").await);
    assert!(stores.len() >= 3);
    let r = t.get("/commerce/2025-07/stores").await;
    assert_eq!(r.body["meta"]["code"], 20000);
    assert_eq!(r.body["meta"]["type"], "OK");
    assert_eq!(r.body["data"]["parameter_string"], "limit=10&page=1");
    let orders_truth = t.truth("orders").await;
    let products_truth = t.truth("products").await;
    let ful_truth = t.truth("fulfillments").await;
    let mut all_orders = HashSet::new();
    let mut all_products = HashSet::new();
    let mut all_ful = HashSet::new();
    for (i, s) in stores.iter().enumerate() {
        let limit = if i % 2 == 0 { None } else { Some(50) };
        let o = walk_pages(&t, "/commerce/2025-07/orders", "orders", limit, Some(s)).await;
        let want: HashSet<String> = orders_truth
            .iter()
            .filter(|r| r["store_id"] == s.as_str())
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(o, want, "orders of store {s}");
        let p = walk_pages(&t, "/commerce/2025-07/products", "products", limit, Some(s)).await;
        all_products.extend(p);
        for oid in &o {
            let f = walk_pages(
                &t,
                &format!("/commerce/2025-07/fulfillments?order_id={oid}"),
                "fulfillments",
                None,
                Some(s),
            )
            .await;
            assert!(f.len() <= 2);
            all_ful.extend(f);
        }
        all_orders.extend(o);
    }
    let ids = |v: &[Value]| {
        v.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect::<HashSet<_>>()
    };
    assert_eq!(all_orders, ids(&orders_truth));
    assert_eq!(all_products, ids(&products_truth));
    assert_eq!(all_ful, ids(&ful_truth));
    // default order sort: -source_created_at
    let s0 = stores.iter().next().unwrap();
    let r = t.get_store("/commerce/2025-07/orders?limit=50", s0).await;
    let ts: Vec<chrono::DateTime<chrono::FixedOffset>> = r.body["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            chrono::DateTime::parse_from_rfc3339(x["source_created_at"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]));
    let asc = t
        .get_store(
            "/commerce/2025-07/orders?limit=50&sort=%2Bsource_created_at",
            s0,
        )
        .await;
    assert_eq!(asc.status, 200);
}

async fn walk_tokens(t: &T, path: &str, key: &str, limit: Option<u32>) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut token = String::new();
    loop {
        let mut p = path.to_string();
        let mut sep = if p.contains('?') { '&' } else { '?' };
        if let Some(l) = limit {
            p.push_str(&format!("{sep}limit={l}"));
            sep = '&';
        }
        if !token.is_empty() {
            p.push_str(&format!(
                "{sep}next_token={}",
                token
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ));
        }
        let r = t.get(&p).await;
        assert_eq!(r.status, 200, "{p}");
        assert_eq!(r.body["meta"]["code"], 200, "{p}: {}", r.text);
        assert_eq!(r.body["meta"]["message"], "OK");
        assert_eq!(
            r.body["data"]["limit"].as_u64(),
            Some(limit.unwrap_or(20) as u64)
        );
        add_ids(&mut seen, &r.body["data"][key], "id");
        let next = r.body["data"]["next_token"]
            .as_str()
            .expect("next_token")
            .to_string();
        if next.is_empty() {
            break;
        }
        token = next;
        assert!(seen.len() < 1_000_000);
    }
    seen
}

#[tokio::test]
async fn shipping_next_token_walks_to_truth() {
    let t = start_default().await;
    let since = enc("2000-01-01T00:00:00+00:00");
    for (path, key, stream) in [
        ("/postmen/v3/rates", "rates", "shipping_rates"),
        ("/postmen/v3/labels", "labels", "shipping_labels"),
        ("/postmen/v3/manifests", "manifests", "shipping_manifests"),
        (
            "/postmen/v3/cancel-labels",
            "cancel_labels",
            "cancel_labels",
        ),
        ("/postmen/v3/pickups", "pickups", "pickups"),
        (
            "/postmen/v3/cancel-pickups",
            "cancel_pickups",
            "cancel_pickups",
        ),
    ] {
        let truth = t.truth_ids(stream).await;
        let p = format!("{path}?created_at_min={since}");
        assert_eq!(
            ids_set(&walk_tokens(&t, &p, key, None).await),
            truth,
            "{path}"
        );
        assert_eq!(
            ids_set(&walk_tokens(&t, &p, key, Some(100)).await),
            truth,
            "{path}"
        );
    }
    let truth = t.truth_ids("shipper_accounts").await;
    assert_eq!(
        ids_set(&walk_tokens(&t, "/postmen/v3/shipper-accounts", "shipper_accounts", None).await),
        truth
    );
    let r = t.get("/postmen/v3/shipper-accounts").await;
    assert!(r.body["data"].get("created_at_min").is_none());
    let r = t.get("/postmen/v3/couriers").await;
    let mut seen = HashSet::new();
    add_ids(&mut seen, &r.body["data"]["couriers"], "slug");
    assert_eq!(ids_set(&seen), t.truth_ids("shipping_couriers").await);
}

/// The created_at fast path and the filtered scan apply one window rule: with data
/// generated ahead of the clock, neither serves a tracking created after now, even
/// when `created_at_max` is later.
#[tokio::test]
async fn filtered_and_unfiltered_walks_share_one_window() {
    use chrono::{Duration, DurationRound, Utc};
    let anchor = Utc::now().duration_trunc(Duration::seconds(1)).unwrap() + Duration::days(30);
    let t = start(aftership_sandbox::SandboxConfig {
        rate_limit: false,
        records: 600,
        anchor: Some(anchor),
        ..aftership_sandbox::SandboxConfig::default()
    })
    .await;
    let far = "2100-01-01T00:00:00%2B00:00";
    let all = t
        .get(&format!(
            "/tracking/2025-07/trackings?limit=200&created_at_max={far}"
        ))
        .await;
    assert_eq!(all.body["data"]["pagination"]["has_next_page"], false);
    let all = all.body["data"]["trackings"].as_array().unwrap().clone();
    let now = Utc::now() + Duration::seconds(5);
    for x in &all {
        let c = chrono::DateTime::parse_from_rfc3339(x["created_at"].as_str().unwrap()).unwrap();
        assert!(c <= now, "fast path served a tracking created after now");
    }
    let slug = all[0]["slug"].as_str().unwrap().to_string();
    let want: Vec<&Value> = all
        .iter()
        .filter(|x| x["slug"] == slug.as_str())
        .map(|x| &x["id"])
        .collect();
    for filter in [
        format!("slug={slug}"),
        format!("slug={slug}&updated_at_min=2000-01-01T00:00:00%2B00:00"),
    ] {
        let r = t
            .get(&format!(
                "/tracking/2025-07/trackings?limit=200&created_at_max={far}&{filter}"
            ))
            .await;
        let got: Vec<&Value> = r.body["data"]["trackings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| &x["id"])
            .collect();
        assert_eq!(got, want, "{filter}");
        assert_eq!(
            r.body["data"]["pagination"]["total"].as_u64().unwrap() as usize,
            want.len()
        );
    }
    // and truth agrees
    let truth = t.truth_ids("trackings").await;
    assert_eq!(truth.len(), all.len());
}
