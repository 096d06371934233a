//! The pager against a stand-in API over keep-alive HTTP/1.1: read-ahead, wrong
//! guesses, page-size fallback, refused paging parameters, items that are not
//! objects.

use super::*;
use crate::json::scan::Field;
use std::io::{BufRead, BufReader, Write};
use std::sync::Mutex;

type Respond = fn(&str) -> (u16, String);

fn sizes() -> Arc<PageSizes> {
    Arc::new(PageSizes::new(Arc::new(crate::protocol::Output::new(
        Box::new(std::io::sink()),
    ))))
}

/// A stand-in over keep-alive HTTP/1.1 that answers each request target
/// (`/path?query`) with `respond`; returns its base URL and the queries asked
/// for, in order.
fn canned(respond: Respond) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let query = target.split_once('?').map_or("", |(_, q)| q).to_string();
                    log.lock().unwrap().push(query);
                    let (status, body) = respond(&target);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if w.write_all(head.as_bytes())
                        .and_then(|_| w.write_all(body.as_bytes()))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (base, asked)
}

fn param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let q = target.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn trackings_page(head_next: &str, ids: &[u32], last_next: Option<&str>) -> String {
    let recs: Vec<String> = ids
        .iter()
        .map(|i| format!(r#"{{"id":"{i}","updated_at":"2025-01-01T00:00:0{i}Z"}}"#))
        .collect();
    let tail = last_next
        .map(|n| {
            format!(
                r#","pagination":{{"next_cursor":{n},"has_next_page":{}}}"#,
                n != "null"
            )
        })
        .unwrap_or_default();
    format!(
        r#"{{"meta":{{"code":200}},"data":{{"pagination":{{"next_cursor":{head_next},"has_next_page":{}}},"trackings":[{}]{tail}}}}}"#,
        head_next != "null",
        recs.join(",")
    )
}

async fn walk_with(
    base: &str,
    stream: &str,
    sizes: &Arc<PageSizes>,
) -> (Result<Vec<String>, ApiError>, Option<End>) {
    let config = crate::config::parse(&serde_json::json!({
        "api_key": "k-0123456789abcdef", "start_date": "2015-01-01T00:00:00Z",
        "api_base_url": base, "max_requests_per_second": 1000, "max_retries": 1
    }))
    .unwrap();
    let out = Arc::new(crate::protocol::Output::new(Box::new(std::io::sink())));
    let client = Arc::new(Client::new(&config, crate::http::Stop::default(), out).unwrap());
    let def = crate::streams::find(stream).unwrap();
    let req = Request {
        product: def.product,
        path: def.path,
        query: Vec::new(),
        headers: Vec::new(),
        rate: def.rate,
        stream: Some(def.name),
    };
    let mut pager = Pager::new(&client, sizes, def, req, None);
    let mut ids = Vec::new();
    let mut first = true;
    loop {
        match pager.next().await {
            Ok(Some(page)) => {
                if std::mem::take(&mut first) {
                    pager.read_ahead();
                }
                for item in page.items() {
                    ids.push(match crate::json::scan::top_level_field(item.text, "id") {
                        Field::Str(s) => s.into_owned(),
                        other => format!("{other:?}"),
                    });
                }
            }
            Ok(None) => return (Ok(ids), pager.end),
            Err(e) => return (Err(e), pager.end),
        }
    }
}

async fn walk(base: &str) -> Vec<String> {
    walk_with(base, "trackings", &sizes()).await.0.unwrap()
}

fn by_cursor(target: &str) -> (u16, String) {
    let page = match param(target, "cursor").unwrap_or("") {
        "" => trackings_page(r#""a""#, &[1], None),
        "a" => trackings_page(r#""b""#, &[2], None),
        "b" => trackings_page(r#""c""#, &[3], None),
        _ => trackings_page("null", &[4], None),
    };
    (200, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_ahead_follows_the_head_and_requests_nothing_extra() {
    let (base, asked) = canned(by_cursor);
    assert_eq!(walk(&base).await, ["1", "2", "3", "4"]);
    let cursors: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|q| param(&format!("?{q}"), "cursor").unwrap_or("").to_string())
        .collect();
    assert_eq!(cursors, ["", "a", "b", "c"]);
}

fn wrong_heads(target: &str) -> (u16, String) {
    // Each body names one next page in its head and, in a second `pagination`
    // after the records, another: the validated page (last key wins) decides.
    let page = match param(target, "cursor").unwrap_or("") {
        "" => trackings_page(r#""wrong1""#, &[1], Some(r#""b""#)),
        "b" => trackings_page(r#""wrong2""#, &[2], Some(r#""c""#)),
        "c" => trackings_page(r#""wrong3""#, &[3], Some("null")),
        "wrong1" => trackings_page("null", &[7], None),
        "wrong2" => trackings_page("null", &[8], None),
        _ => trackings_page("null", &[9], None),
    };
    (200, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_guess_from_the_head_is_dropped() {
    let (base, asked) = canned(wrong_heads);
    assert_eq!(walk(&base).await, ["1", "2", "3"]);
    let asked = asked.lock().unwrap();
    for wanted in ["", "b", "c"] {
        let n = asked
            .iter()
            .filter(|q| param(&format!("?{q}"), "cursor").unwrap_or("") == wanted)
            .count();
        assert_eq!(n, 1, "{asked:?}");
    }
}

/// Shipping labels whose API accepts at most `limit=30` (HTTP 200, code 4104).
fn labels_up_to_30(target: &str) -> (u16, String) {
    let limit: u32 = param(target, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    if limit > 30 {
        return (
            200,
            r#"{"meta":{"code":4104,"message":"The request was invalid or cannot be otherwise served.","details":[{"path":"limit","info":"limit must be between 1 and 30"}]},"data":{}}"#.into(),
        );
    }
    let (ids, next) = match param(target, "next_token") {
        None => ((0..limit).collect::<Vec<_>>(), "t2"),
        Some(_) => ((100..105).collect(), ""),
    };
    let recs: Vec<String> = ids.iter().map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
    (
        200,
        format!(
            r#"{{"meta":{{"code":200,"message":"OK","details":[]}},"data":{{"next_token":"{next}","limit":{limit},"labels":[{}]}}}}"#,
            recs.join(",")
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_page_size_falls_back_to_the_documented_default() {
    let (base, asked) = canned(labels_up_to_30);
    let sizes = sizes();
    let (ids, end) = walk_with(&base, "shipping_labels", &sizes).await;
    let ids = ids.unwrap();
    assert_eq!(ids.len(), 25, "20 at the default size, then 5: {ids:?}");
    assert_eq!(end, Some(End::Complete));
    let limits: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|q| param(&format!("?{q}"), "limit").unwrap_or("-").to_string())
        .collect();
    assert_eq!(limits, ["100", "20", "20"]);
    // The endpoint keeps the default for the rest of the sync.
    asked.lock().unwrap().clear();
    let (again, _) = walk_with(&base, "shipping_labels", &sizes).await;
    assert_eq!(again.unwrap().len(), 25);
    assert_eq!(
        param(&format!("?{}", asked.lock().unwrap()[0]), "limit"),
        Some("20")
    );
}

/// Fulfillments whose API refuses anything beside order_id (HTTP 400).
fn order_id_only(target: &str) -> (u16, String) {
    if param(target, "page").is_some() || param(target, "limit").is_some() {
        return (
            400,
            r#"{"meta":{"code":40000,"type":"BadRequest","message":"Include only one of order_id or ids[]. All other parameters should be omitted.","errors":[{"path":"page","info":"must be omitted"},{"path":"limit","info":"must be omitted"}]},"data":{}}"#.into(),
        );
    }
    let recs: Vec<String> = (0..10).map(|i| format!(r#"{{"id":"f{i}"}}"#)).collect();
    (
        200,
        format!(
            r#"{{"meta":{{"code":20000,"type":"OK","message":"OK"}},"data":{{"fulfillments":[{}],"pagination":{{"page":1,"limit":10,"has_next_page":true}}}}}}"#,
            recs.join(",")
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_parameters_refused_altogether_read_the_one_page() {
    let (base, asked) = canned(order_id_only);
    let (ids, end) = walk_with(&base, "fulfillments", &sizes()).await;
    assert_eq!(ids.unwrap().len(), 10);
    assert_eq!(end, Some(End::OnePage { full: true }));
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[1], "", "asked again with no paging parameters");
}

fn holds_a_number(_: &str) -> (u16, String) {
    (
        200,
        r#"{"meta":{"code":20000},"data":{"orders":[{"id":"a"},1],"pagination":{"page":1,"limit":50,"has_next_page":false}}}"#.into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_that_is_not_an_object_is_an_error_naming_the_page() {
    let (base, _) = canned(holds_a_number);
    let (r, _) = walk_with(&base, "orders", &sizes()).await;
    let e = r.unwrap_err();
    assert_eq!(e.failure_type(), crate::protocol::FailureType::SystemError);
    let m = e.to_string();
    assert!(
        m.contains("orders") && m.contains("page 1") && m.contains("not a JSON object"),
        "{m}"
    );
}

/// Shipping labels whose last page is empty but still gives a fresh token each
/// time (the form of Shipping's last-page token is undocumented).
fn labels_with_an_endless_empty_tail(target: &str) -> (u16, String) {
    let (labels, next) = match param(target, "next_token") {
        None => (r#"{"id":"1"},{"id":"2"}"#.to_string(), "t1".to_string()),
        Some(t) => (String::new(), format!("{t}x")),
    };
    (
        200,
        format!(
            r#"{{"meta":{{"code":200,"message":"OK","details":[]}},"data":{{"next_token":"{next}","limit":20,"labels":[{labels}]}}}}"#
        ),
    )
}

/// 95 memberships, `limit` a page, with the total.
fn members_95(target: &str) -> (u16, String) {
    let limit: usize = param(target, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100);
    let page: usize = param(target, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let recs: Vec<String> = ((page - 1) * limit..(page * limit).min(95))
        .map(|i| format!(r#"{{"id":"m{i}"}}"#))
        .collect();
    (
        200,
        format!(
            r#"{{"meta":{{"code":200}},"data":{{"memberships":[{}],"pagination":{{"total":95,"page":{page},"limit":{limit}}}}}}}"#,
            recs.join(",")
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_token_page_ends_the_walk_instead_of_failing_it() {
    let (base, asked) = canned(labels_with_an_endless_empty_tail);
    let (ids, end) = walk_with(&base, "shipping_labels", &sizes()).await;
    assert_eq!(ids.expect("the walk failed"), ["1", "2"]);
    assert_eq!(end, Some(End::Complete));
    // The first page, then the empty ones followed before giving up; the page
    // the last body's head named may have gone out ahead before it was dropped.
    let n = asked.lock().unwrap().len();
    let followed = 1 + 1 + strategy::EMPTY_TOKEN_PAGES as usize;
    assert!((followed..=followed + 1).contains(&n), "{n} requests");
}

/// A walk of memberships at 20 a page, begun with `start_at(page, size)`: the
/// pages asked for and the page number of the last one.
async fn members_from(page: u32, size: u32) -> (Vec<String>, u32) {
    let (base, asked) = canned(members_95);
    let config = crate::config::parse(&serde_json::json!({
        "api_key": "k-0123456789abcdef", "start_date": "2015-01-01T00:00:00Z",
        "api_base_url": base, "max_requests_per_second": 1000, "max_retries": 1
    }))
    .unwrap();
    let out = Arc::new(crate::protocol::Output::new(Box::new(std::io::sink())));
    let client = Arc::new(Client::new(&config, crate::http::Stop::default(), out).unwrap());
    let def = crate::streams::find("memberships").unwrap();
    let req = Request {
        product: def.product,
        path: def.path,
        query: Vec::new(),
        headers: Vec::new(),
        rate: def.rate,
        stream: None,
    };
    let mut pager = Pager::new(&client, &sizes(), def, req, Some(20));
    pager.start_at(page, size);
    while pager.next().await.unwrap().is_some() {}
    let pages = asked
        .lock()
        .unwrap()
        .iter()
        .map(|q| param(&format!("?{q}"), "page").unwrap_or("-").to_string())
        .collect();
    (pages, pager.at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_page_number_walk_begins_at_its_page_and_ends_by_the_total() {
    // Pages 1..=3 were read at 20 a page: page 3 again, then 4 and 5 (95 in all).
    let (pages, last) = members_from(3, 20).await;
    assert_eq!(pages, ["3", "4", "5"]);
    assert_eq!(last, 5);
    // Read at another size: page numbers name other records, begin at page 1.
    let (pages, _) = members_from(3, 50).await;
    assert_eq!(pages, ["1", "2", "3", "4", "5"]);
}
