//! Airbyte protocol messages and the one writer of stdout.
//!
//! Every line on stdout is one AirbyteMessage. Records are written by splicing the
//! API's own bytes into a fixed envelope (no re-serialisation); every other message
//! is built with serde and passes through the secret redactor before it is written.

use serde::Serialize;
use serde_json::Value;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as Airbyte's `emitted_at` wants it (an integer).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How a failure is classified for the platform (`trace.error.failure_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureType {
    ConfigError,
    TransientError,
    SystemError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StreamStatus {
    Started,
    Running,
    Complete,
    Incomplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// Secret strings (the API key) that must never leave the process in a message.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Register a secret; every non-record message is scrubbed of it from now on.
pub fn register_secret(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    if let Ok(mut s) = SECRETS.write() {
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }
}

/// Replace every registered secret in `text` with asterisks.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    if let Ok(secrets) = SECRETS.read() {
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "**********");
            }
        }
    }
    out
}

/// The single stdout writer. Lines are written whole under one lock, so concurrent
/// streams never interleave bytes.
pub struct Output {
    inner: Mutex<BufWriter<Box<dyn Write + Send>>>,
    broken: AtomicBool,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// The process-wide writer (stdout unless a test installed another sink first).
pub fn out() -> &'static Output {
    OUTPUT.get_or_init(|| Output::new(Box::new(io::stdout())))
}

impl Output {
    pub fn new(sink: Box<dyn Write + Send>) -> Self {
        Output {
            inner: Mutex::new(BufWriter::with_capacity(256 * 1024, sink)),
            broken: AtomicBool::new(false),
        }
    }

    /// True once stdout was closed by the reader (EPIPE): stop producing.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    fn write_bytes(&self, bytes: &[u8], flush: bool) {
        if self.is_broken() {
            return;
        }
        let Ok(mut w) = self.inner.lock() else {
            return;
        };
        let mut res = w.write_all(bytes);
        if res.is_ok() && flush {
            res = w.flush();
        }
        if res.is_err() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    pub fn flush(&self) {
        if let Ok(mut w) = self.inner.lock() {
            if w.flush().is_err() {
                self.broken.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Write a message that is not a record: serialised, redacted, flushed.
    pub fn message(&self, msg: &Value) {
        let mut line = redact(&msg.to_string());
        line.push('\n');
        self.write_bytes(line.as_bytes(), true);
    }

    /// Write a batch of records of one stream; `data` is each record's JSON object
    /// as it goes out (the API's own bytes unless it had to be reshaped).
    pub fn records<S: AsRef<str>>(&self, stream: &str, data: &[S]) {
        if data.is_empty() {
            return;
        }
        let emitted_at = now_ms().to_string();
        let name = serde_json::to_string(stream).unwrap_or_else(|_| "\"\"".into());
        let mut buf = Vec::with_capacity(data.iter().map(|r| r.as_ref().len() + 96).sum());
        for rec in data {
            buf.extend_from_slice(b"{\"type\":\"RECORD\",\"record\":{\"stream\":");
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(b",\"data\":");
            buf.extend_from_slice(rec.as_ref().as_bytes());
            buf.extend_from_slice(b",\"emitted_at\":");
            buf.extend_from_slice(emitted_at.as_bytes());
            buf.extend_from_slice(b"}}\n");
        }
        self.write_bytes(&buf, false);
    }
}

pub fn log(level: LogLevel, message: &str) {
    out().message(&serde_json::json!({
        "type": "LOG",
        "log": {"level": level, "message": message}
    }));
}

pub fn spec(spec: Value) {
    out().message(&serde_json::json!({"type": "SPEC", "spec": spec}));
}

pub fn catalog(catalog: Value) {
    out().message(&serde_json::json!({"type": "CATALOG", "catalog": catalog}));
}

pub fn connection_status(succeeded: bool, message: &str) {
    out().message(&serde_json::json!({
        "type": "CONNECTION_STATUS",
        "connectionStatus": {
            "status": if succeeded { "SUCCEEDED" } else { "FAILED" },
            "message": message,
        }
    }));
}

pub fn stream_status(stream: &str, status: StreamStatus) {
    out().message(&serde_json::json!({
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": now_ms(),
            "stream_status": {
                "stream_descriptor": {"name": stream},
                "status": status,
            }
        }
    }));
}

/// A TRACE ERROR. `stream` is set when the error belongs to one stream.
pub fn trace_error(
    failure_type: FailureType,
    message: &str,
    internal_message: Option<&str>,
    stream: Option<&str>,
) {
    let mut error = serde_json::json!({
        "message": message,
        "failure_type": failure_type,
    });
    if let Some(internal) = internal_message {
        error["internal_message"] = Value::String(internal.to_string());
    }
    if let Some(s) = stream {
        error["stream_descriptor"] = serde_json::json!({"name": s});
    }
    out().message(&serde_json::json!({
        "type": "TRACE",
        "trace": {"type": "ERROR", "emitted_at": now_ms(), "error": error}
    }));
}

/// A per-stream STATE message with the count of records since the previous one.
pub fn stream_state(stream: &str, state: &Value, record_count: u64) {
    out().message(&serde_json::json!({
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": stream},
                "stream_state": state,
            },
            "sourceStats": {"recordCount": record_count as f64},
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_registered_secrets() {
        register_secret("super-secret-key-42");
        assert_eq!(
            redact("key super-secret-key-42 leaked"),
            "key ********** leaked"
        );
    }

    #[test]
    fn record_count_is_written_as_a_float() {
        let v = serde_json::json!({"recordCount": 3_f64});
        assert_eq!(v.to_string(), r#"{"recordCount":3.0}"#);
    }
}
