//! Orders changed on AfterShip's side (a fulfillment created through AfterShip, a
//! store re-import) move `updated_at` but not `source_updated_at`, the clock the
//! incremental listing sorts by, so the stop-at-cursor read never reaches them. An
//! incremental read walks the store's whole order list once its last whole walk is
//! `orders_reconcile_days` old: such changes arrive within that period, and the
//! syncs between walks stay a few pages.

mod common;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn stats(base: &str) -> Value {
    admin(base, "GET", "/__sandbox/stats", None)
}

/// The state with every store's last whole walk moved `days` into the past.
fn walked_days_ago(state: &Value, days: i64) -> Value {
    let mut s = state.clone();
    let mut moved = 0;
    fn visit(v: &mut Value, days: i64, moved: &mut usize) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "walked_at" {
                        let t = chrono::Utc::now() - chrono::Duration::days(days);
                        *x = json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                        *moved += 1;
                    } else {
                        visit(x, days, moved);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| visit(x, days, moved)),
            _ => {}
        }
    }
    visit(&mut s, days, &mut moved);
    assert!(moved >= 2, "no walked_at in {state}");
    s
}

fn last(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

#[test]
fn aftership_side_order_changes_arrive_within_the_reconcile_period() {
    let sb = sandbox(
        20,
        &[],
        &[("stores", 1), ("orders", 600), ("fulfillments", 200)],
    );
    let base = sb.base_url();
    let dir = Dir::new("reconcile");
    let cfg = fast_config(
        &base,
        json!({"page_size": 20, "fulfillments_lookback_days": 0}),
    );
    let cat = catalog(&["orders", "fulfillments"], true);
    let first = read(&dir, &cfg, &cat, None);
    assert_eq!(first.code, Some(0), "{:?}", first.errors());
    assert_eq!(first.keys("orders"), truth_keys(&base, "orders", ""));
    let walk = requests_on(&stats(&base), "/orders");
    let mut state = first.state();

    let changed = admin(
        &base,
        "POST",
        "/__sandbox/aftership-side-update",
        Some(&json!({"count": 10, "min_age_days": 30, "fulfillment": true})),
    );
    let orders: BTreeSet<String> = changed["orders"]
        .as_array()
        .expect("changed orders")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let fulfillments: BTreeSet<String> = changed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["fulfillment_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(orders.len(), 10, "{changed}");
    let want_orders: BTreeSet<String> = truth(&base, "orders", "")
        .into_iter()
        .filter(|r| orders.contains(last(&r.key)))
        .map(|r| r.key)
        .collect();
    let want_fulfillments: BTreeSet<String> = truth(&base, "fulfillments", "")
        .into_iter()
        .filter(|r| fulfillments.contains(last(&r.key)))
        .map(|r| r.key)
        .collect();
    assert_eq!(want_orders.len(), 10);
    assert_eq!(want_fulfillments.len(), fulfillments.len());

    // Daily syncs between walks: the stop-at-cursor read, a few pages each.
    let mut between = Vec::new();
    for _ in 0..3 {
        admin(&base, "POST", "/__sandbox/stats/reset", None);
        let out = read(&dir, &cfg, &cat, Some(&state));
        assert_eq!(out.code, Some(0), "{:?}", out.errors());
        between.push(requests_on(&stats(&base), "/orders"));
        state = out.state();
    }
    println!("orders: whole walk {walk} requests, syncs between walks {between:?}");
    for r in &between {
        assert!(
            r * 5 <= walk,
            "a sync between walks took {r} requests, a walk {walk}"
        );
    }

    // The reconcile period has passed: the next sync walks and finds them.
    let due = walked_days_ago(&state, spec_default("orders_reconcile_days") + 1);
    admin(&base, "POST", "/__sandbox/stats/reset", None);
    let out = read(&dir, &cfg, &cat, Some(&due));
    assert_eq!(out.code, Some(0), "{:?}", out.errors());
    let got = out.keys("orders");
    let missing: Vec<_> = want_orders.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "orders changed on AfterShip's side not read: {missing:?}"
    );
    let got = out.keys("fulfillments");
    let missing: Vec<_> = want_fulfillments.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "their new fulfillments not read: {missing:?}"
    );
    assert_eq!(
        out.records("orders").len(),
        out.keys("orders").len(),
        "orders twice"
    );
    // The walk is saved: the sync after it stops at the cursor again.
    admin(&base, "POST", "/__sandbox/stats/reset", None);
    let after = read(&dir, &cfg, &cat, Some(&out.state()));
    assert_eq!(after.code, Some(0));
    let r = requests_on(&stats(&base), "/orders");
    assert!(r * 5 <= walk, "the sync after a walk took {r} requests");
}
