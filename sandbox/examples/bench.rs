//! Throughput of the sandbox: walks all trackings at page size 200 over one keep-alive
//! HTTP/1.1 connection (plain TCP client, no extra dependencies) and prints records/s.
//!
//! `cargo run --release -p aftership-sandbox --example bench -- [RECORDS] [SECONDS]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aftership_sandbox::{DEFAULT_API_KEY, Sandbox, SandboxConfig};

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One GET; returns the body.
fn get(r: &mut BufReader<TcpStream>, path: &str) -> Vec<u8> {
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nas-api-key: {DEFAULT_API_KEY}\r\n\r\n");
    r.get_mut().write_all(req.as_bytes()).expect("write");
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().expect("length");
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    body
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sb = rt
        .block_on(Sandbox::start(SandboxConfig {
            records,
            rate_limit: false,
            ..SandboxConfig::default()
        }))
        .expect("start");
    let addr = sb.addr();
    let mut conn = BufReader::with_capacity(1 << 20, TcpStream::connect(addr).expect("connect"));
    let start = Instant::now();
    let (mut recs, mut pages, mut bytes) = (0usize, 0usize, 0usize);
    let mut cursor = String::new();
    let mut walked = 0usize;
    while start.elapsed() < Duration::from_secs(seconds) {
        let path = if cursor.is_empty() {
            "/tracking/2025-07/trackings?limit=200".to_string()
        } else {
            format!("/tracking/2025-07/trackings?limit=200&cursor={cursor}")
        };
        let body = get(&mut conn, &path);
        bytes += body.len();
        pages += 1;
        // the pagination object comes first: read total and next_cursor from the head
        let head = &body[..body.len().min(1024)];
        let k = b"\"next_cursor\":\"";
        let i = find(head, k).expect("next_cursor") + k.len();
        let j = i + head[i..]
            .iter()
            .position(|&b| b == b'"')
            .expect("end of cursor");
        let next = String::from_utf8_lossy(&head[i..j]).to_string();
        let t = find(head, b"\"total\":").expect("total") + 8;
        let te = t + head[t..]
            .iter()
            .position(|&b| b == b',')
            .expect("end of total");
        let total: usize = String::from_utf8_lossy(&head[t..te])
            .parse()
            .expect("total");
        // every page but the last holds 200 records
        walked += 1;
        recs += if next.is_empty() {
            total - 200 * (walked - 1)
        } else {
            200
        };
        if next.is_empty() {
            walked = 0;
        }
        cursor = next
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{recs} tracking records in {pages} pages ({:.1} MB) in {secs:.2}s: {:.0} records/s, {:.0} pages/s, {:.0} MB/s",
        bytes as f64 / 1e6,
        recs as f64 / secs,
        pages as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    sb.shutdown();
}
