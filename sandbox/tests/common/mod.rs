#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};

use aftership_sandbox::{DEFAULT_API_KEY, Sandbox, SandboxConfig};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub struct T {
    pub sb: Sandbox,
    pub http: reqwest::Client,
    pub url: String,
}

pub async fn start(cfg: SandboxConfig) -> T {
    let sb = Sandbox::start(cfg).await.expect("start sandbox");
    let url = sb.base_url();
    T {
        sb,
        http: reqwest::Client::new(),
        url,
    }
}

/// A small data set (200 trackings): for tests that do not need deep pagination.
pub async fn start_small() -> T {
    start(SandboxConfig {
        rate_limit: false,
        records: 200,
        ..SandboxConfig::default()
    })
    .await
}

pub async fn start_default() -> T {
    start(SandboxConfig {
        rate_limit: false,
        ..SandboxConfig::default()
    })
    .await
}

impl T {
    pub async fn get_h(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.http.get(format!("{}{}", self.url, path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.expect("send");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.get_h(path, &[("as-api-key", DEFAULT_API_KEY)]).await
    }

    pub async fn get_store(&self, path: &str, store: &str) -> Resp {
        self.get_h(
            path,
            &[("as-api-key", DEFAULT_API_KEY), ("as-store-id", store)],
        )
        .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{}", self.url, path))
            .json(&body)
            .send()
            .await
            .expect("post");
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.expect("json")
    }

    pub async fn truth(&self, stream: &str) -> Vec<Value> {
        let r = self
            .http
            .get(format!("{}/__sandbox/truth?stream={stream}", self.url))
            .send()
            .await
            .expect("truth");
        let v: Value = r.json().await.expect("truth json");
        v["records"].as_array().cloned().unwrap_or_default()
    }

    pub async fn truth_ids(&self, stream: &str) -> BTreeSet<String> {
        self.truth(stream)
            .await
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub async fn config(&self, cfg: Value) {
        self.post("/__sandbox/config", cfg).await;
    }

    pub async fn faults(&self, faults: Value) {
        self.config(json!({ "faults": faults })).await;
    }
}

/// Collect ids of a page, asserting no duplicate within the whole walk.
pub fn add_ids(seen: &mut HashSet<String>, recs: &Value, key: &str) -> usize {
    let arr = recs.as_array().expect("records array");
    for r in arr {
        let id = r[key].as_str().expect("key").to_string();
        assert!(seen.insert(id.clone()), "duplicate id {id}");
    }
    arr.len()
}

pub fn ids_set(seen: &HashSet<String>) -> BTreeSet<String> {
    seen.iter().cloned().collect()
}

pub fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// An instant as a Tracking date filter wants it: `YYYY-MM-DDTHH:mm:ss+00:00`, encoded.
pub fn tracking_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    enc(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}
