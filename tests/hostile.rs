//! The connector against a hostile stand-in for AfterShip: a small HTTP/1.1
//! server in this file that answers GET /trackings with a gzip bomb, an endless
//! chunked body, one huge page, a response that never starts, a long 429, or an
//! endless list of big records for a reader that closes stdout.

mod common;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TRACKINGS: &str = "/tracking/2025-07/trackings";

/// How the stand-in answers the n-th request (from 0) for `target`; an error
/// closes the connection.
type Answer = dyn Fn(usize, &str, &mut TcpStream) -> std::io::Result<()> + Send + Sync;

struct StandIn {
    base: String,
    /// Requests received.
    seen: Arc<AtomicUsize>,
    /// Requests whose answer was written in full.
    answered: Arc<AtomicUsize>,
}

fn stand_in(
    answer: impl Fn(usize, &str, &mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let answer: Arc<Answer> = Arc::new(answer);
    let (s, a) = (seen.clone(), answered.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let (seen, answered, answer) = (s.clone(), a.clone(), answer.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut header = String::new();
                    while r.read_line(&mut header).is_ok_and(|n| n > 2) {
                        header.clear();
                    }
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    if answer(n, &target, &mut w).is_err() {
                        return;
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    StandIn {
        base,
        seen,
        answered,
    }
}

fn head(w: &mut TcpStream, status: &str, headers: &[String]) -> std::io::Result<()> {
    let mut h = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n");
    for line in headers {
        h.push_str(line);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    w.write_all(h.as_bytes())
}

fn chunk(w: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
    w.write_all(bytes)?;
    w.write_all(b"\r\n")
}

fn last_page() -> String {
    r#"{"meta":{"code":200},"data":{"pagination":{"total":0,"next_cursor":null,"has_next_page":false},"trackings":[]}}"#.to_string()
}

fn answer_json(w: &mut TcpStream, body: &str) -> std::io::Result<()> {
    head(w, "200 OK", &[format!("content-length: {}", body.len())])?;
    w.write_all(body.as_bytes())
}

/// The connector reading trackings (full refresh) from `base` with `overrides`.
fn spawn_read(dir: &Dir, base: &str, overrides: Value) -> Child {
    let c = dir.write(
        "config.json",
        &fast_config(base, merged(json!({"max_retries": 1}), overrides)),
    );
    let k = dir.write("catalog.json", &catalog(&["trackings"], false));
    Command::new(BIN)
        .args(["read", "--config", &path(&c), "--catalog", &path(&k)])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Wait for `child` with wait4(2): its exit status and its peak RSS in MB.
fn wait_rss(child: &mut Child) -> (ExitStatus, f64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child's pid with pointers to our locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    (
        ExitStatus::from_raw(status),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// Read `child`'s stdout to the end, then wait for it.
fn finish(mut child: Child) -> (Output, f64, usize) {
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let longest = stdout.lines().map(str::len).max().unwrap_or(0);
    let (status, rss) = wait_rss(&mut child);
    (
        parse_output(status.code(), stdout, String::new()),
        rss,
        longest,
    )
}

/// The body failed on its limit, retried once, then the stream failed naming
/// itself, the endpoint and the limit.
fn assert_failed_on_the_limit(out: &Output, seen: usize) {
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert_eq!(seen, 2, "one attempt and one retry");
    let errors = out.errors();
    let e = errors
        .iter()
        .find(|e| e["stream_descriptor"]["name"] == "trackings")
        .unwrap_or_else(|| panic!("no error of trackings: {}", out.stdout));
    assert_eq!(e["failure_type"], "transient_error", "{e}");
    let message = e["message"].as_str().unwrap();
    for part in ["trackings", TRACKINGS, "1 MiB", "max_response_mb"] {
        assert!(message.contains(part), "{part} not in: {message}");
    }
    assert!(out.records("trackings").is_empty());
}

const LIMIT_MB: u64 = 1;
/// Far more than any bounded reader would hold: an unbounded one takes this much.
const BOMB_MB: usize = 256;
const RSS_BOUND_MB: f64 = 100.0;

#[test]
fn a_gzip_bomb_is_cut_off_at_the_limit() {
    use flate2::{Compression, write::GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(br#"{"meta":{"code":200},"data":{"trackings":["#)
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..BOMB_MB {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"]}}").unwrap();
    let bomb = Arc::new(gz.finish().unwrap());
    let sent = bomb.clone();
    let api = stand_in(move |_, _, w| {
        head(
            w,
            "200 OK",
            &[
                "content-encoding: gzip".into(),
                format!("content-length: {}", sent.len()),
            ],
        )?;
        w.write_all(&sent)
    });
    let dir = Dir::new("gzip-bomb");
    let child = spawn_read(&dir, &api.base, json!({"max_response_mb": LIMIT_MB}));
    let (out, rss, _) = finish(child);
    println!(
        "gzip bomb ({} KB → {BOMB_MB} MiB): peak RSS {rss:.1} MB",
        bomb.len() / 1024
    );
    assert_failed_on_the_limit(&out, api.seen.load(Ordering::SeqCst));
    assert!(rss < RSS_BOUND_MB, "peak RSS {rss:.1} MB");
}

#[test]
fn an_endless_body_is_cut_off_at_the_limit() {
    let api = stand_in(|_, _, w| {
        head(w, "200 OK", &["transfer-encoding: chunked".into()])?;
        chunk(w, br#"{"meta":{"code":200},"data":{"trackings":["#)?;
        let rec = br#"{"id":"x","updated_at":"2026-12-01T00:00:00Z"},"#.repeat(1000);
        // Until the reader hangs up (then the write fails and the connection ends).
        loop {
            chunk(w, &rec)?;
        }
    });
    let dir = Dir::new("endless");
    let child = spawn_read(&dir, &api.base, json!({"max_response_mb": LIMIT_MB}));
    let (out, rss, _) = finish(child);
    println!("endless chunked body: peak RSS {rss:.1} MB");
    assert_failed_on_the_limit(&out, api.seen.load(Ordering::SeqCst));
    assert!(rss < RSS_BOUND_MB, "peak RSS {rss:.1} MB");
}

#[test]
fn a_huge_page_never_reaches_stdout() {
    // One record of 3 MiB, sent chunked so that no length announces it.
    let api = stand_in(|_, _, w| {
        head(w, "200 OK", &["transfer-encoding: chunked".into()])?;
        chunk(
            w,
            br#"{"meta":{"code":200},"data":{"pagination":{"next_cursor":null,"has_next_page":false},"trackings":[{"id":"big","updated_at":"2026-12-01T00:00:00Z","note":""#,
        )?;
        let filler = vec![b'x'; 64 * 1024];
        for _ in 0..48 {
            chunk(w, &filler)?;
        }
        chunk(w, br#""}]}}"#)?;
        w.write_all(b"0\r\n\r\n")
    });
    let dir = Dir::new("huge-page");
    let child = spawn_read(&dir, &api.base, json!({"max_response_mb": LIMIT_MB}));
    let (out, _, longest) = finish(child);
    assert!(
        (longest as u64) < LIMIT_MB << 20,
        "a line of {longest} bytes reached stdout"
    );
    assert_failed_on_the_limit(&out, api.seen.load(Ordering::SeqCst));
}

/// SIGTERM to `child` after `after`; returns how long it took to end after it.
fn sigterm_after(child: &mut Child, after: Duration) -> (ExitStatus, Duration) {
    std::thread::sleep(after);
    let sent = Instant::now();
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    (status, sent.elapsed())
}

/// The issue's bound: a source ends within 2 s of SIGTERM (Airbyte's grace
/// period is longer). Measured from the moment the signal is sent.
const STOP_BOUND: Duration = Duration::from_secs(2);

#[test]
fn sigterm_cancels_a_request_that_never_answers() {
    let api = stand_in(|_, _, _| {
        std::thread::sleep(Duration::from_secs(120));
        Err(std::io::ErrorKind::TimedOut.into())
    });
    let dir = Dir::new("never-answers");
    let mut child = spawn_read(&dir, &api.base, json!({"request_timeout_seconds": 60}));
    let mut stdout = child.stdout.take().unwrap();
    let (status, took) = sigterm_after(&mut child, Duration::from_secs(1));
    println!("SIGTERM with a request in flight: ended after {took:?}");
    assert!(took < STOP_BOUND, "ended {took:?} after SIGTERM");
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert_eq!(api.seen.load(Ordering::SeqCst), 1);
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let out = parse_output(None, text, String::new());
    assert_eq!(
        out.statuses("trackings").last().map(String::as_str),
        Some("INCOMPLETE")
    );
    assert!(out.errors().is_empty(), "{:?}", out.errors());
}

/// A 429 that asks for `secs`, then an empty last page.
fn throttled_once(secs: u64) -> StandIn {
    stand_in(move |n, _, w| {
        if n == 0 {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + secs;
            let body =
                r#"{"meta":{"code":429,"type":"TooManyRequests","message":"slow down"},"data":{}}"#;
            head(
                w,
                "429 Too Many Requests",
                &[
                    format!("retry-after: {secs}"),
                    format!("x-ratelimit-reset: {reset}"),
                    format!("content-length: {}", body.len()),
                ],
            )?;
            w.write_all(body.as_bytes())
        } else {
            answer_json(w, &last_page())
        }
    })
}

fn rate_limited_resets(out: &Output) -> Vec<Option<i64>> {
    out.messages
        .iter()
        .filter(|m| m["trace"]["type"] == "STREAM_STATUS")
        .filter(|m| m["trace"]["stream_status"]["status"] == "RUNNING")
        .map(|m| m["trace"]["stream_status"]["reasons"][0]["rate_limited"]["quota_reset"].as_i64())
        .collect()
}

#[test]
fn sigterm_cancels_a_rate_limit_wait_that_was_announced() {
    let api = throttled_once(60);
    let dir = Dir::new("long-429");
    let mut child = spawn_read(&dir, &api.base, json!({}));
    let mut stdout = child.stdout.take().unwrap();
    let (status, took) = sigterm_after(&mut child, Duration::from_secs(1));
    assert!(took < STOP_BOUND, "ended {took:?} after SIGTERM");
    assert_eq!(status.signal(), Some(15), "{status:?}");
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let out = parse_output(None, text, String::new());
    let now = source_aftership::protocol::now_ms();
    let resets = rate_limited_resets(&out);
    // RATE_LIMITED with the reset the server announced (60 s on), and no plain
    // RUNNING after it: the wait never ended, the stop did.
    let Some(Some(reset)) = resets.last() else {
        panic!("no RATE_LIMITED status: {}", out.stdout)
    };
    assert!(
        (now + 50_000..now + 65_000).contains(reset),
        "quota_reset {reset} is not about 60 s after {now}"
    );
    assert_eq!(api.seen.load(Ordering::SeqCst), 1);
}

#[test]
fn a_long_rate_limit_wait_is_announced_and_its_end_too() {
    let api = throttled_once(2);
    let dir = Dir::new("short-429");
    let (out, _, _) = finish(spawn_read(&dir, &api.base, json!({})));
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let statuses = out.statuses("trackings");
    assert_eq!(
        statuses,
        ["STARTED", "RUNNING", "RUNNING", "COMPLETE"],
        "{}",
        out.stdout
    );
    let resets = rate_limited_resets(&out);
    assert!(
        matches!(resets[..], [Some(_), None]),
        "RATE_LIMITED then a plain RUNNING: {resets:?}"
    );
}

#[test]
fn a_closed_stdout_stops_every_request() {
    // An endless list of 16 KB records, one per page, each answer 50 ms late:
    // the 256 KB batch of records reaches the reader after about 16 pages.
    let api = stand_in(|n, _, w| {
        std::thread::sleep(Duration::from_millis(50));
        let body = format!(
            r#"{{"meta":{{"code":200}},"data":{{"pagination":{{"next_cursor":"c{next}","has_next_page":true}},"trackings":[{{"id":"t{n}","updated_at":"2026-12-01T00:00:00Z","note":"{pad}"}}]}}}}"#,
            next = n + 1,
            pad = "x".repeat(16 * 1024)
        );
        answer_json(w, &body)
    });
    let dir = Dir::new("closed-stdout");
    let mut child = spawn_read(&dir, &api.base, json!({"page_size": 1}));
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains(r#""type":"RECORD""#) {
        line.clear();
        assert!(lines.read_line(&mut line).unwrap() > 0, "no record came");
    }
    let seen_at_close = api.seen.load(Ordering::SeqCst);
    let in_flight = seen_at_close - api.answered.load(Ordering::SeqCst);
    drop(lines);
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "still running 10 s after stdout closed; {} requests since",
                api.seen.load(Ordering::SeqCst) - seen_at_close
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = api.seen.load(Ordering::SeqCst) - seen_at_close;
    println!("stdout closed with {in_flight} in flight; {after} requests after");
    // A request sent just before the close may arrive just after it; a page
    // walk has at most the current page and two read ahead in flight.
    assert!(after <= 3, "{after} requests after stdout closed");
}

#[test]
fn overwrite_of_rows_aftership_expires_is_warned_once_per_stream() {
    let api = stand_in(|_, target, w| {
        if target.starts_with(TRACKINGS) {
            answer_json(w, &last_page())
        } else {
            answer_json(
                w,
                r#"{"meta":{"code":200},"data":{"roles":[],"pagination":{"total":0,"has_next_page":false}}}"#,
            )
        }
    });
    let dir = Dir::new("overwrite");
    let mut cat = catalog(&["trackings", "roles"], false);
    for s in cat["streams"].as_array_mut().unwrap() {
        s["destination_sync_mode"] = json!("overwrite");
    }
    let out = read(&dir, &fast_config(&api.base, json!({})), &cat, None);
    let warned: Vec<&str> = out
        .logs("WARN")
        .into_iter()
        .filter(|l| l.contains("overwrite"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", out.stdout);
    assert!(
        warned[0].starts_with("stream trackings:")
            && warned[0].contains("120 days")
            && warned[0].contains("append or append_dedup"),
        "{warned:?}"
    );
}
