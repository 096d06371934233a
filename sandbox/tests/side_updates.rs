//! Orders changed on AfterShip's side: `updated_at` and `fulfillment_status` move,
//! `source_*` times stay, and `sort=±source_updated_at` keeps them where they were.

mod common;

use std::collections::BTreeMap;

use aftership_sandbox::SandboxConfig;
use aftership_sandbox::modes::SideUpdates;
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::{Value, json};

const ORDERS: &str = "/commerce/2025-07/orders";

fn parse(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Every order of a store under `sort`, in the order served.
async fn walk(t: &T, sid: &str, sort: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let r = t
            .get_store(&format!("{ORDERS}?limit=50&page={page}&sort={sort}"), sid)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        out.extend(r.body["data"]["orders"].as_array().unwrap().iter().cloned());
        if r.body["data"]["pagination"]["has_next_page"] != true {
            break;
        }
    }
    out
}

fn by_id(orders: &[Value]) -> BTreeMap<String, Value> {
    orders
        .iter()
        .map(|o| (o["id"].as_str().unwrap().to_string(), o.clone()))
        .collect()
}

fn ids(orders: &[Value]) -> Vec<String> {
    orders
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

async fn store0(t: &T) -> String {
    let r = t.get("/commerce/2025-07/stores").await;
    r.body["data"]["stores"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn old_orders_change_on_aftership_side_only() {
    let t = start_small().await;
    let sid = store0(&t).await;
    let before_sorted = walk(&t, &sid, "-source_updated_at").await;
    let before = by_id(&before_sorted);
    let r = t
        .post(
            "/__sandbox/aftership-side-update",
            json!({"store": 0, "count": 3, "min_age_days": 30}),
        )
        .await;
    let now = parse(&r["now"]);
    let changed = r["orders"].as_array().unwrap();
    assert_eq!(changed.len(), 3, "{r}");
    let after_sorted = walk(&t, &sid, "-source_updated_at").await;
    let after = by_id(&after_sorted);
    for c in changed {
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["store_id"], sid.as_str());
        let (b, a) = (&before[id], &after[id]);
        assert!(
            (parse(&a["updated_at"]) - now).num_seconds().abs() <= 1,
            "{a}"
        );
        assert_eq!(a["updated_at"], c["updated_at"]);
        assert!(parse(&b["updated_at"]) < parse(&a["updated_at"]));
        assert_ne!(a["fulfillment_status"], b["fulfillment_status"]);
        assert_eq!(a["fulfillment_status"], c["fulfillment_status"]);
        for same in ["source_updated_at", "source_created_at", "created_at"] {
            assert_eq!(a[same], b[same], "{same} of {id}");
        }
        assert_eq!(c["source_updated_at"], a["source_updated_at"]);
        assert!(parse(&a["source_updated_at"]) <= now - Duration::days(30));
    }
    // both sorts still sort by source_updated_at: nothing moved
    assert_eq!(ids(&before_sorted), ids(&after_sorted));
    let mut asc = ids(&walk(&t, &sid, "%2Bsource_updated_at").await);
    asc.reverse();
    assert_eq!(asc, ids(&after_sorted));
    // truth sees the new updated_at; the log lists the change
    let truth = t.truth("orders").await;
    for c in changed {
        let tr = truth.iter().find(|o| o["id"] == c["id"]).unwrap();
        assert_eq!(tr["updated_at"], c["updated_at"]);
    }
    let log: Value = t
        .http
        .get(format!("{}/__sandbox/aftership-side-updates", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["orders"], json!(changed));
    // none old enough: nothing changes
    let r = t
        .post(
            "/__sandbox/aftership-side-update",
            json!({"count": 3, "min_age_days": 100000}),
        )
        .await;
    assert_eq!(r["orders"], json!([]));
}

#[tokio::test]
async fn a_change_can_bring_a_fulfillment() {
    let t = start_small().await;
    let r = t
        .post(
            "/__sandbox/aftership-side-update",
            json!({"count": 2, "fulfillment": true}),
        )
        .await;
    let now = parse(&r["now"]);
    let changed = r["orders"].as_array().unwrap();
    assert_eq!(changed.len(), 2);
    for c in changed {
        let (sid, oid) = (c["store_id"].as_str().unwrap(), c["id"].as_str().unwrap());
        let fid = c["fulfillment_id"].as_str().unwrap();
        let f = t
            .get_store(
                &format!("/commerce/2025-07/fulfillments?order_id={oid}&limit=50"),
                sid,
            )
            .await;
        let fs = f.body["data"]["fulfillments"].as_array().unwrap();
        let new = fs.iter().find(|x| x["id"] == fid).expect("new fulfillment");
        assert!((parse(&new["created_at"]) - now).num_seconds().abs() <= 1);
        assert_eq!(new["order_id"], oid);
    }
}

#[tokio::test]
async fn periodic_side_updates_follow_the_request_count() {
    let t = start(SandboxConfig {
        rate_limit: false,
        records: 200,
        aftership_side_updates: Some(SideUpdates {
            every: 2,
            count: 1,
            min_age_days: 30,
            fulfillment: false,
        }),
        ..SandboxConfig::default()
    })
    .await;
    for _ in 0..4 {
        assert_eq!(t.get("/admin/2022-01/roles").await.status, 200);
    }
    let log = || async {
        let v: Value = t
            .http
            .get(format!("{}/__sandbox/aftership-side-updates", t.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["orders"].as_array().unwrap().len()
    };
    assert_eq!(log().await, 2);
    t.config(json!({"aftership_side_updates": {"every": 3, "count": 2}}))
        .await;
    for _ in 0..3 {
        t.get("/admin/2022-01/roles").await;
    }
    assert_eq!(log().await, 4, "the count restarts when set");
    t.config(json!({"aftership_side_updates": null})).await;
    for _ in 0..6 {
        t.get("/admin/2022-01/roles").await;
    }
    assert_eq!(log().await, 4);
    let r = t
        .http
        .post(format!("{}/__sandbox/config", t.url))
        .json(&json!({"aftership_side_updates": {"every": 0, "count": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
