//! Opaque pagination tokens: standard base64 of a small JSON keyset.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn b64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

pub fn b64_decode(input: &str) -> Option<Vec<u8>> {
    let s = input.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The position after which the next page starts (records are newest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    created_at: String,
    id: String,
}

pub fn encode_keyset(k: &Keyset) -> String {
    let w = Wire {
        created_at: k.created_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        id: k.id.clone(),
    };
    b64_encode(serde_json::to_string(&w).unwrap_or_default().as_bytes())
}

pub fn decode_keyset(token: &str) -> Option<Keyset> {
    let raw = b64_decode(token)?;
    let w: Wire = serde_json::from_slice(&raw).ok()?;
    let created_at = DateTime::parse_from_rfc3339(&w.created_at)
        .ok()?
        .with_timezone(&Utc);
    Some(Keyset {
        created_at,
        id: w.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for s in ["", "a", "ab", "abc", "abcd", "{\"x\":1}"] {
            let e = b64_encode(s.as_bytes());
            assert_eq!(b64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(b64_encode(b"Man"), "TWFu");
        assert!(b64_decode("!!").is_none());
    }
}
