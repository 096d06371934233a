//! Raw transfer bound: walk every trackings page (limit=200, following next_cursor)
//! over one kept-alive HTTP/1.1 connection and discard the bodies. std only, built
//! by bench/run with `rustc -O` (no crate dependencies).
//!
//!   raw_fetch BASE_URL [API_KEY]
//!
//! Prints one line: `pages=N bytes=N records=N seconds=S`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One GET; returns the body (Content-Length or chunked).
fn get(r: &mut BufReader<TcpStream>, host: &str, key: &str, path: &str) -> Vec<u8> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nas-api-key: {key}\r\naccept: application/json\r\n\r\n");
    r.get_mut().write_all(req.as_bytes()).expect("write");
    let mut len = None;
    let mut chunked = false;
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    if !status.contains(" 200 ") {
        panic!("{path}: {}", status.trim_end());
    }
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = Some(v.trim().parse::<usize>().expect("length"));
            } else if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            }
        }
    }
    if chunked {
        let mut body = Vec::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).expect("chunk size");
            let n = usize::from_str_radix(line.trim_end().split(';').next().unwrap(), 16).expect("chunk size");
            let start = body.len();
            body.resize(start + n, 0);
            r.read_exact(&mut body[start..]).expect("chunk");
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf).expect("crlf");
            if n == 0 {
                return body;
            }
        }
    }
    let mut body = vec![0; len.expect("content-length")];
    r.read_exact(&mut body).expect("body");
    body
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).expect("usage: raw_fetch BASE_URL [API_KEY]");
    let key = args.get(2).map(String::as_str).unwrap_or("sandbox-api-key-0123456789");
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = BufReader::with_capacity(1 << 20, TcpStream::connect(host).expect("connect"));
    let start = Instant::now();
    let (mut pages, mut bytes, mut records) = (0usize, 0usize, 0usize);
    let mut cursor = String::new();
    loop {
        let mut path = "/tracking/2025-07/trackings?limit=200".to_string();
        if !cursor.is_empty() {
            path.push_str("&cursor=");
            path.push_str(&cursor);
        }
        let body = get(&mut conn, host, key, &path);
        bytes += body.len();
        pages += 1;
        // records on the page: each tracking object has exactly one top-level
        // "tracking_number"; counting keys is cheaper than parsing (close enough for a bound)
        records += body.windows(18).filter(|w| *w == b"\"tracking_number\":").count();
        let head = &body[..body.len().min(2048)];
        let k = b"\"next_cursor\":";
        let Some(i) = find(head, k).map(|i| i + k.len()) else { break };
        if head[i] != b'"' {
            break; // null
        }
        let j = i + 1 + head[i + 1..].iter().position(|&b| b == b'"').expect("end of cursor");
        let next = String::from_utf8_lossy(&head[i + 1..j]).to_string();
        if next.is_empty() || find(head, b"\"has_next_page\":false").is_some() {
            break;
        }
        cursor = next.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    }
    let secs = start.elapsed().as_secs_f64();
    println!("pages={pages} bytes={bytes} records={records} seconds={secs:.3}");
}
