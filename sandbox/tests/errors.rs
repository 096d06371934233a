//! Envelopes, auth, permissions, validation, commerce rules, filters, retention, rate limits.

mod common;

use aftership_sandbox::{Product, SandboxConfig};
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::Value;

const ONE_PER_PRODUCT: [(&str, &str); 6] = [
    ("tracking", "/tracking/2025-07/trackings"),
    ("returns", "/returns/2025-07/returns"),
    ("protection", "/admin/2022-01/claims"),
    ("commerce", "/commerce/2025-07/stores"),
    ("members", "/admin/2022-01/memberships"),
    ("shipping", "/postmen/v3/labels"),
];

#[tokio::test]
async fn success_envelopes_per_product() {
    let t = start_small().await;
    let metas = [
        serde_json::json!({"code": 200}),
        serde_json::json!({"code": 20000, "type": "OK"}),
        serde_json::json!({"code": 20000, "type": "OK"}),
        serde_json::json!({"code": 20000, "type": "OK"}),
        serde_json::json!({"code": 200, "type": "OK"}),
        serde_json::json!({"code": 200, "message": "OK", "details": []}),
    ];
    for ((_, path), want) in ONE_PER_PRODUCT.iter().zip(metas) {
        let r = t.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        for (k, v) in want.as_object().unwrap() {
            assert_eq!(&r.body["meta"][k], v, "{path} meta.{k}");
        }
        assert!(r.body["data"].is_object());
    }
    let r = t.get("/tracking/2025-07/trackings").await;
    assert_eq!(r.headers["as-api-version"], "2025-07");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn unauthorized_and_forbidden_in_each_envelope() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        deny: vec![Product::Protection],
        ..SandboxConfig::default()
    })
    .await;
    let codes = [
        (401, 401),
        (401, 401),
        (401, 401),
        (401, 401),
        (401, 401),
        (401, 401),
    ];
    for ((name, path), (status, code)) in ONE_PER_PRODUCT.iter().zip(codes) {
        for hdr in [
            vec![],
            vec![("as-api-key", "wrong")],
            vec![("aftership-api-key", aftership_sandbox::DEFAULT_API_KEY)],
        ] {
            let r = t.get_h(path, &hdr).await;
            assert_eq!(r.status, status, "{name}");
            assert_eq!(r.body["meta"]["code"], code, "{name}");
            match *name {
                "shipping" => {
                    assert_eq!(r.body["meta"]["retryable"], false);
                    assert!(r.body["meta"]["details"].is_array());
                }
                "tracking" => assert_eq!(r.body["meta"]["type"], "Unauthorized"),
                "returns" => assert!(r.body["data"].is_null()),
                _ => assert_eq!(r.body["meta"]["type"], "Unauthorized"),
            }
        }
    }
    let r = t.get("/admin/2022-01/claims").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["meta"]["code"], 40300);
    assert_eq!(r.body["meta"]["type"], "Forbidden");
    // the others are not denied; deny can change at run time
    assert_eq!(t.get("/admin/2022-01/roles").await.status, 200);
    t.config(
        serde_json::json!({"deny": ["tracking", "members", "shipping", "returns", "commerce"]}),
    )
    .await;
    for (name, path, code) in [
        ("tracking", "/tracking/2025-07/couriers", 403),
        ("members", "/admin/2022-01/roles", 403),
        ("shipping", "/postmen/v3/couriers", 403),
        ("returns", "/returns/2025-07/item-tags", 40300),
        ("commerce", "/commerce/2025-07/stores", 40300),
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, 403, "{name}");
        assert_eq!(r.body["meta"]["code"], code, "{name}");
    }
    assert_eq!(
        t.get("/admin/2022-01/claims").await.status,
        200,
        "protection no longer denied"
    );
}

#[tokio::test]
async fn above_max_limits_and_page_caps_are_validation_errors() {
    let t = start_small().await;
    let s0 = t.truth("stores").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, status, code) in [
        ("/tracking/2025-07/trackings?limit=201", 400, 400),
        ("/tracking/2025-07/trackings?limit=0", 400, 400),
        ("/tracking/2025-07/courier-connections?limit=201", 400, 400),
        ("/tracking/2025-07/trackings?cursor=notacursor", 400, 400),
        ("/returns/2025-07/returns?limit=51", 422, 42200),
        ("/returns/2025-07/returns?page=201", 422, 42200),
        ("/admin/2022-01/claims?limit=21", 422, 42200),
        ("/admin/2022-01/coverages?page=1001", 422, 42200),
        ("/admin/2022-01/coverages?limit=100", 422, 42200),
        ("/commerce/2025-07/stores?limit=51", 422, 42200),
        ("/admin/2022-01/memberships?limit=201", 422, 422),
        ("/postmen/v3/labels?limit=101", 200, 4104),
        ("/postmen/v3/labels?next_token=%21%21", 200, 4104),
        ("/postmen/v3/rates?created_at_min=yesterday", 200, 4104),
        (
            "/returns/2025-07/returns?created_at_min=2024-01-01",
            422,
            42200,
        ),
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_eq!(r.body["meta"]["code"], code, "{path}");
        if code == 4104 {
            assert_eq!(r.body["meta"]["retryable"], false);
            assert!(!r.body["meta"]["details"].as_array().unwrap().is_empty());
        }
    }
    for path in [
        "/commerce/2025-07/orders?limit=51",
        "/commerce/2025-07/products?page=201",
        "/commerce/2025-07/orders?sort=name",
    ] {
        let r = t.get_store(path, &s0).await;
        assert_eq!(r.status, 422, "{path}");
        assert_eq!(r.body["meta"]["code"], 42200);
        assert!(!r.body["meta"]["errors"].as_array().unwrap().is_empty());
    }
    // maxima themselves are fine
    for path in [
        "/tracking/2025-07/trackings?limit=200",
        "/returns/2025-07/returns?limit=50&page=200",
        "/admin/2022-01/claims?limit=20&page=1000",
        "/admin/2022-01/memberships?limit=200",
        "/postmen/v3/labels?limit=100",
    ] {
        assert_eq!(
            t.get(path).await.body["meta"]["code"]
                .as_u64()
                .map(|c| c == 200 || c == 20000),
            Some(true),
            "{path}"
        );
    }
    // an unencoded '+' in a date arrives as a space and is rejected
    let r = t
        .get("/tracking/2025-07/trackings?created_at_min=2026-01-01T00:00:00+08:00")
        .await;
    assert_eq!(r.status, 400);
    let r = t
        .get(&format!(
            "/tracking/2025-07/trackings?created_at_min={}",
            enc("2026-01-01T00:00:00+08:00")
        ))
        .await;
    assert_eq!(r.status, 200);
    // unknown endpoint
    let r = t.get("/tracking/2025-07/nothing").await;
    assert_eq!(r.status, 404);
    let r = t.get("/postmen/v3//cancel-labels").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn tracking_date_filters_strictly_as_documented() {
    let t = start_small().await;
    for path in ["/tracking/2025-07/trackings", "/tracking/2026-07/trackings"] {
        for name in [
            "created_at_min",
            "created_at_max",
            "updated_at_min",
            "updated_at_max",
        ] {
            for bad in [
                "2026-01-01T00:00:00Z",
                "2026-01-01T00%3A00%3A00Z",
                "2026-01-01T00:00:00%2B0000",
                "2026-01-01T00:00:00.000%2B00:00",
                "2026-01-01T00:00:00.5Z",
                "2026-01-01",
                "2026-01-01T00:00:00+00:00", // unencoded '+' arrives as a space
                "2026-02-30T00:00:00%2B00:00",
                "2026-01-01T25:00:00%2B00:00",
                "",
            ] {
                let r = t.get(&format!("{path}?{name}={bad}")).await;
                assert_eq!(r.status, 400, "{name}={bad}: {}", r.text);
                let meta = r.body["meta"].as_object().unwrap();
                assert_eq!(meta.len(), 3, "{}", r.text);
                assert_eq!(meta["code"], 400);
                assert_eq!(meta["type"], "BadRequest");
                let msg = meta["message"].as_str().unwrap();
                assert!(msg.contains(name), "{msg}");
                assert!(msg.contains("YYYY-MM-DDTHH:mm:ss±HH:MM"), "{msg}");
                assert_eq!(r.body["data"], serde_json::json!({}));
            }
            for good in [
                "2026-01-01T00:00:00%2B00:00",
                "2026-01-01T08:00:00%2B08:00",
                "2025-12-31T19%3A00%3A00-05%3A00",
            ] {
                let r = t.get(&format!("{path}?{name}={good}")).await;
                assert_eq!(r.status, 200, "{name}={good}: {}", r.text);
            }
        }
    }
    // Shipping documents both `Z` and `+00:00`; Returns takes RFC 3339 too
    for path in [
        "/postmen/v3/labels?created_at_min=2026-01-01T00:00:00Z",
        "/postmen/v3/labels?created_at_min=2026-01-01T00:00:00%2B00:00",
        "/postmen/v3/pickups?created_at_max=2026-01-01T00:00:00.250Z",
        "/returns/2025-07/returns?created_at_min=2026-01-01T00:00:00Z",
        "/returns/2025-07/returns?created_at_min=2026-01-01T00:00:00.123456%2B08:00",
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(
            r.body["meta"]["code"] == 200 || r.body["meta"]["code"] == 20000,
            "{path}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn commerce_store_header_and_order_id_rules() {
    let t = start_small().await;
    let orders = t.truth("orders").await;
    let o = &orders[0];
    let (sid, oid) = (o["store_id"].as_str().unwrap(), o["id"].as_str().unwrap());
    for path in [
        "/commerce/2025-07/orders",
        "/commerce/2025-07/products",
        "/commerce/2025-07/fulfillments?order_id=1",
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, 412, "{path}");
        assert_eq!(r.body["meta"]["code"], 41201);
        assert_eq!(r.body["meta"]["type"], "PreconditionFailed");
        let r = t.get_store(path, "no-such-store").await;
        assert_eq!(r.status, 412);
        assert_eq!(r.body["meta"]["code"], 41204);
    }
    let r = t.get_store("/commerce/2025-07/fulfillments", sid).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["meta"]["code"], 40001);
    let r = t
        .get_store(
            &format!("/commerce/2025-07/fulfillments?order_id={oid}"),
            sid,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["meta"]["code"], 20000);
    for f in r.body["data"]["fulfillments"].as_array().unwrap() {
        assert_eq!(f["order_id"], oid);
    }
    let fid = t.truth("fulfillments").await[0].clone();
    let r = t
        .get_store(
            &format!(
                "/commerce/2025-07/fulfillments?ids%5B%5D={}",
                fid["id"].as_str().unwrap()
            ),
            fid["store_id"].as_str().unwrap(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["fulfillments"].as_array().unwrap().len(), 1);
}

fn parse(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn filters_and_retention() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 1000,
        ..SandboxConfig::default()
    })
    .await;
    let now = Utc::now();
    // trackings: nothing older than 120 days, even when asked
    let old = enc("2000-01-01T00:00:00+00:00");
    let r = t
        .get(&format!(
            "/tracking/2025-07/trackings?limit=200&created_at_min={old}"
        ))
        .await;
    let truth = t.truth("trackings").await;
    assert_eq!(
        r.body["data"]["pagination"]["total"].as_u64().unwrap() as usize,
        truth.len()
    );
    for x in &truth {
        assert!(parse(&x["created_at"]) >= now - Duration::days(121));
    }
    assert!(
        truth.len() < 2000 / 2,
        "most of 400 days of trackings are past retention"
    );
    // updated_at window
    let umin = now - Duration::days(10);
    let q = tracking_ts(umin);
    let r = t
        .get(&format!(
            "/tracking/2025-07/trackings?limit=200&updated_at_min={q}"
        ))
        .await;
    let got = r.body["data"]["trackings"].as_array().unwrap();
    let want = truth
        .iter()
        .filter(|x| parse(&x["updated_at"]) >= umin)
        .count();
    assert_eq!(
        r.body["data"]["pagination"]["total"].as_u64().unwrap() as usize,
        want
    );
    assert!(got.iter().all(|x| parse(&x["updated_at"]) >= umin));
    // created_at window
    let (lo, hi) = (now - Duration::days(60), now - Duration::days(30));
    let r = t
        .get(&format!(
            "/tracking/2025-07/trackings?limit=200&created_at_min={}&created_at_max={}",
            tracking_ts(lo),
            tracking_ts(hi)
        ))
        .await;
    for x in r.body["data"]["trackings"].as_array().unwrap() {
        let c = parse(&x["created_at"]);
        assert!(c >= lo && c <= hi);
    }
    // returns: 365 days
    let rt = t.truth("item_returns").await;
    assert!(
        rt.iter()
            .all(|x| parse(&x["created_at"]) >= now - Duration::days(366))
    );
    let r = t
        .get(&format!(
            "/returns/2025-07/returns?created_at_min={}&limit=50",
            enc(&(now - Duration::days(30)).to_rfc3339())
        ))
        .await;
    assert!(
        r.body["data"]["returns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| parse(&x["created_at"]) >= now - Duration::days(30))
    );
    // shipping default window: the last 24 hours only, echoed
    let r = t.get("/postmen/v3/labels?limit=100").await;
    let d = &r.body["data"];
    let (mn, mx) = (parse(&d["created_at_min"]), parse(&d["created_at_max"]));
    assert!((mx - mn - Duration::hours(24)).num_seconds().abs() <= 1);
    assert!((mx - Utc::now()).num_seconds().abs() <= 5);
    for x in d["labels"].as_array().unwrap() {
        assert!(parse(&x["created_at"]) >= mn);
    }
    let all = t.truth("shipping_labels").await;
    assert!(all.len() > d["labels"].as_array().unwrap().len());
    let lo = enc("2026-01-01T00:00:00+00:00");
    let r = t
        .get(&format!("/postmen/v3/labels?created_at_min={lo}"))
        .await;
    assert_eq!(
        r.body["data"]["created_at_min"],
        "2026-01-01T00:00:00+00:00"
    );
    // record shapes: created_at <= updated_at, unique ids, some +08:00 offsets
    let mut plus8 = 0;
    for x in &truth {
        assert!(parse(&x["created_at"]) <= parse(&x["updated_at"]));
        if x["updated_at"].as_str().unwrap().ends_with("+08:00") {
            plus8 += 1;
        }
    }
    assert!(plus8 > 0);
}

#[tokio::test]
async fn locations_search_rules() {
    let t = start_small().await;
    for path in [
        "/postmen/v3/locations",
        "/postmen/v3/locations?slug=dhl",
        "/postmen/v3/locations?slug=dhl&country=USA",
        "/postmen/v3/locations?country=USA&postal_code=10001",
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body["meta"]["code"], 4104, "{path}");
    }
    let q = "slug=dhl&country=USA&postal_code=10001";
    let a = t.get(&format!("/postmen/v3/locations?{q}")).await;
    let b = t.get(&format!("/postmen/v3/locations?{q}")).await;
    assert_eq!(a.text, b.text);
    let locs = a.body["data"]["locations"].as_array().unwrap();
    assert_eq!(locs.len(), 10);
    let truth = t
        .get_h(&format!("/__sandbox/truth?stream=locations&{q}"), &[])
        .await;
    let tids: Vec<&Value> = truth.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    let ids: Vec<&Value> = locs.iter().map(|r| &r["location_id"]).collect();
    assert_eq!(ids, tids);
    let c = t.get(&format!("/postmen/v3/locations?{q}&count=3")).await;
    assert_eq!(c.body["data"]["locations"].as_array().unwrap().len(), 3);
    let other = t
        .get("/postmen/v3/locations?slug=ups&country=USA&postal_code=10001")
        .await;
    assert_ne!(
        other.body["data"]["locations"][0]["location_id"],
        locs[0]["location_id"]
    );
}

#[tokio::test]
async fn rate_limits_and_headers() {
    let t = start(SandboxConfig {
        records: 200,
        ..SandboxConfig::default()
    })
    .await;
    // (path, limit, product header style, 429 meta code)
    for (path, limit, tracking_style, code) in [
        ("/tracking/2025-07/trackings", 6, true, 429),
        ("/tracking/2025-07/couriers", 5, true, 429),
        ("/tracking/2025-07/courier-connections", 5, true, 429),
        ("/commerce/2025-07/stores", 10, false, 42900),
        ("/returns/2025-07/item-tags", 10, false, 42900),
        ("/admin/2022-01/roles", 10, false, 429),
        ("/admin/2022-01/claims", 10, false, 42900),
        ("/postmen/v3/couriers", 10, false, 429),
    ] {
        // a burst of concurrent requests lands in one window even on a slow machine
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..(limit * 3) {
            let (http, url) = (t.http.clone(), format!("{}{}", t.url, path));
            set.spawn(async move {
                let r = http
                    .get(url)
                    .header("as-api-key", aftership_sandbox::DEFAULT_API_KEY)
                    .send()
                    .await
                    .expect("send");
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                let text = r.text().await.unwrap_or_default();
                (status, headers, text)
            });
        }
        let mut limited = None;
        while let Some(res) = set.join_next().await {
            let (status, headers, text) = res.expect("task");
            let (l, rem, reset) = if tracking_style {
                (
                    "x-ratelimit-limit",
                    "x-ratelimit-remaining",
                    "x-ratelimit-reset",
                )
            } else {
                ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
            };
            assert_eq!(headers[l].to_str().unwrap(), limit.to_string(), "{path}");
            assert!(
                headers.contains_key(rem) && headers.contains_key(reset),
                "{path}"
            );
            if status == 429 {
                limited = Some(Resp {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    headers,
                    text,
                });
            }
        }
        let r = limited.unwrap_or_else(|| panic!("{path} never limited"));
        assert_eq!(r.body["meta"]["code"], code, "{path}");
        if !path.starts_with("/postmen") {
            assert_eq!(r.body["meta"]["type"], "TooManyRequests");
        }
        if path.starts_with("/commerce") {
            assert!(r.headers.contains_key("retry-after"));
        }
        if path.starts_with("/postmen") {
            assert_eq!(r.body["meta"]["retryable"], true);
        }
        let reset: u64 = r
            .headers
            .get("x-ratelimit-reset")
            .or(r.headers.get("ratelimit-reset"))
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(reset >= now && reset <= now + 2);
    }
    // switch off at run time
    t.config(serde_json::json!({"rate_limit": false})).await;
    for _ in 0..20 {
        let r = t.get("/tracking/2025-07/couriers").await;
        assert_eq!(r.status, 200);
        assert!(!r.headers.contains_key("x-ratelimit-limit"));
    }
}

async fn get_in(t: &T, path: &str, store: Option<&str>) -> Resp {
    match store {
        Some(s) => t.get_store(path, s).await,
        None => t.get(path).await,
    }
}

#[tokio::test]
async fn configured_max_limits_are_refused_in_each_dialect() {
    let max: [(&str, u64); 10] = [
        ("trackings", 40),
        ("courier_connections", 7),
        ("item_returns", 5),
        ("query_claims", 6),
        ("stores", 2),
        ("orders", 4),
        ("fulfillments", 1),
        ("memberships", 9),
        ("shipping_labels", 15),
        ("shipper_accounts", 150),
    ];
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 400,
        max_limits: max.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..SandboxConfig::default()
    })
    .await;
    let o = t.truth("orders").await[0].clone();
    let (sid, oid) = (o["store_id"].as_str().unwrap(), o["id"].as_str().unwrap());
    let since = enc("2000-01-01T00:00:00+00:00");
    // (stream, path, HTTP status, meta.code, where the page's records are)
    let cases = [
        (
            "trackings",
            "/tracking/2025-07/trackings?x=1".to_string(),
            400,
            400,
            "trackings",
        ),
        (
            "courier_connections",
            "/tracking/2025-07/courier-connections?x=1".to_string(),
            400,
            400,
            "courier_connections",
        ),
        (
            "item_returns",
            "/returns/2025-07/returns?x=1".to_string(),
            422,
            42200,
            "returns",
        ),
        (
            "query_claims",
            "/admin/2022-01/claims?x=1".to_string(),
            422,
            42200,
            "claims",
        ),
        (
            "stores",
            "/commerce/2025-07/stores?x=1".to_string(),
            422,
            42200,
            "stores",
        ),
        (
            "orders",
            "/commerce/2025-07/orders?x=1".to_string(),
            422,
            42200,
            "orders",
        ),
        (
            "fulfillments",
            format!("/commerce/2025-07/fulfillments?order_id={oid}"),
            422,
            42200,
            "fulfillments",
        ),
        (
            "memberships",
            "/admin/2022-01/memberships?x=1".to_string(),
            422,
            422,
            "memberships",
        ),
        (
            "shipping_labels",
            format!("/postmen/v3/labels?created_at_min={since}"),
            200,
            4104,
            "labels",
        ),
        (
            "shipper_accounts",
            "/postmen/v3/shipper-accounts?x=1".to_string(),
            200,
            4104,
            "shipper_accounts",
        ),
    ];
    for (stream, path, status, code, key) in cases {
        let m = max.iter().find(|(s, _)| *s == stream).unwrap().1;
        let store = (path.starts_with("/commerce")
            && !path.starts_with("/commerce/2025-07/stores"))
        .then_some(sid);
        // above the maximum: refused in the product's dialect, naming `limit`
        let r = get_in(&t, &format!("{path}&limit={}", m + 1), store).await;
        assert_eq!(r.status, status, "{stream}: {}", r.text);
        assert_eq!(r.body["meta"]["code"], code, "{stream}: {}", r.text);
        match stream {
            "trackings" | "courier_connections" => {
                assert_eq!(r.body["meta"]["type"], "BadRequest");
                let msg = r.body["meta"]["message"].as_str().unwrap();
                assert!(msg.contains("`limit`"), "{msg}");
                assert!(msg.contains(&m.to_string()), "{msg}");
            }
            "shipping_labels" | "shipper_accounts" => {
                assert_eq!(r.body["meta"]["details"][0]["path"], "limit");
                assert!(r.body["meta"]["details"][0]["info"].is_string());
                assert_eq!(r.body["meta"]["details"].as_array().unwrap().len(), 1);
            }
            _ => {
                let typ = r.body["meta"]["type"].as_str().unwrap();
                assert_eq!(typ, "UnprocessableEntity");
                let errs = r.body["meta"]["errors"].as_array().unwrap();
                assert_eq!(errs.len(), 1, "{}", r.text);
                assert_eq!(errs[0]["path"], "limit");
                assert!(errs[0]["info"].as_str().unwrap().contains(&m.to_string()));
            }
        }
        // at the maximum: served
        let r = get_in(&t, &format!("{path}&limit={m}"), store).await;
        assert_eq!(r.status, 200, "{stream}: {}", r.text);
        let n = r.body["data"][key].as_array().unwrap().len() as u64;
        assert!(n <= m, "{stream}");
        // omitted: the documented default, or the maximum if that is lower
        let default = aftership_sandbox::StreamId::parse(stream)
            .unwrap()
            .page_size()
            .unwrap()
            .default;
        let want = default.min(m);
        let r = get_in(&t, &path, store).await;
        assert_eq!(r.status, 200, "{stream}: {}", r.text);
        let n = r.body["data"][key].as_array().unwrap().len() as u64;
        let echoed = r.body["data"]["pagination"]["limit"]
            .as_u64()
            .or(r.body["data"]["limit"].as_u64());
        if let Some(l) = echoed {
            assert_eq!(l, want, "{stream}: {}", r.text);
        }
        assert!(n <= want, "{stream}");
        if stream != "fulfillments" && stream != "shipper_accounts" {
            assert_eq!(n, want, "{stream}: enough records for a full page");
        }
    }
    // streams not listed keep their maxima; a raised undocumented maximum is accepted
    let r = t.get("/admin/2022-01/coverages?limit=21").await;
    assert_eq!(r.status, 422);
    let r = t.get("/postmen/v3/rates?limit=100").await;
    assert_eq!(r.body["meta"]["code"], 200);
    let r = t.get("/postmen/v3/shipper-accounts?limit=150").await;
    assert_eq!(r.body["meta"]["code"], 200, "{}", r.text);
}

#[tokio::test]
async fn fulfillments_order_id_only_refuses_other_parameters() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        fulfillments_order_id_only: true,
        ..SandboxConfig::default()
    })
    .await;
    let ful = t.truth("fulfillments").await;
    let f = ful[0].clone();
    let (sid, oid, fid) = (
        f["store_id"].as_str().unwrap(),
        f["order_id"].as_str().unwrap(),
        f["id"].as_str().unwrap(),
    );
    let base = "/commerce/2025-07/fulfillments";
    for (q, paths) in [
        (format!("order_id={oid}&page=1"), vec!["page"]),
        (format!("limit=10&order_id={oid}"), vec!["limit"]),
        (
            format!("order_id={oid}&limit=10&page=1&foo=bar&page=2"),
            vec!["limit", "page", "foo"],
        ),
        (format!("ids%5B%5D={fid}&limit=5"), vec!["limit"]),
        (format!("order_id={oid}&sort="), vec!["sort"]),
    ] {
        let r = t.get_store(&format!("{base}?{q}"), sid).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        let meta = &r.body["meta"];
        assert_eq!(meta["code"], 40000, "{q}");
        assert_eq!(meta["type"], "BadRequest");
        assert_eq!(
            meta["message"],
            "Include only one of order_id or ids[]. All other parameters should be omitted."
        );
        let want: Vec<Value> = paths
            .iter()
            .map(|p| serde_json::json!({"path": p, "info": "must be omitted"}))
            .collect();
        assert_eq!(meta["errors"], Value::Array(want), "{q}");
        assert_eq!(r.body["data"], serde_json::json!({}));
    }
    // order_id alone: the first page at the documented default limit
    let r = t.get_store(&format!("{base}?order_id={oid}"), sid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let pg = &r.body["data"]["pagination"];
    assert_eq!(
        pg,
        &serde_json::json!({"page": 1, "limit": 10, "has_next_page": false})
    );
    let got: Vec<&str> = r.body["data"]["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = ful
        .iter()
        .filter(|x| x["order_id"] == oid && x["store_id"] == sid)
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    let r = t.get_store(&format!("{base}?ids%5B%5D={fid}"), sid).await;
    assert_eq!(r.status, 200);
    // the other rules still come first
    let r = t.get_store(&format!("{base}?page=1"), sid).await;
    assert_eq!(r.body["meta"]["code"], 40001);
    // switched at run time, shown by GET /__sandbox/config
    let cfg = t.get_h("/__sandbox/config", &[]).await.body;
    assert_eq!(cfg["fulfillments_order_id_only"], true);
    t.config(serde_json::json!({"fulfillments_order_id_only": false}))
        .await;
    let r = t
        .get_store(&format!("{base}?order_id={oid}&page=1&limit=50"), sid)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.config(serde_json::json!({"rate_limit": false})).await;
    let cfg = t.get_h("/__sandbox/config", &[]).await.body;
    assert_eq!(
        cfg["fulfillments_order_id_only"], false,
        "absent key: unchanged"
    );
    t.config(serde_json::json!({"fulfillments_order_id_only": true}))
        .await;
    let r = t
        .get_store(&format!("{base}?order_id={oid}&page=1"), sid)
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn clamp_limits_serves_an_over_maximum_limit_at_the_maximum() {
    let t = common::start(aftership_sandbox::SandboxConfig {
        rate_limit: false,
        records: 200,
        clamp_limits: true,
        max_limits: [("memberships".to_string(), 20)].into_iter().collect(),
        ..aftership_sandbox::SandboxConfig::default()
    })
    .await;
    let r = t.get("/admin/2022-01/memberships?limit=150").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["pagination"]["limit"], 20);
    assert_eq!(r.body["data"]["memberships"].as_array().unwrap().len(), 20);
    let r = t.get("/admin/2022-01/memberships?limit=0").await;
    assert_eq!(r.status, 422, "below the minimum is still refused");
}
