//! Airbyte protocol messages and the one writer of stdout.
//!
//! Every line on stdout is one AirbyteMessage. Records are written by splicing the
//! API's own bytes into a fixed envelope (no re-serialisation); every other message
//! is built with serde and passes through the secret redactor before it is written.

use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
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

/// The single stdout writer, handed to whatever writes messages. Lines are written
/// whole under one lock, so concurrent streams never interleave bytes; every
/// message but a record passes through the redactor of the secrets registered
/// with it (the API key).
pub struct Output {
    inner: Mutex<BufWriter<Box<dyn Write + Send>>>,
    broken: AtomicBool,
    /// Called once when the reader is found gone (the run's stop).
    on_broken: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// Streams whose terminal status (COMPLETE, INCOMPLETE) is written: no
    /// status may follow it (a cancelled rate-limit wait ends after its stream).
    ended: Mutex<HashSet<String>>,
    secrets: RwLock<Vec<String>>,
}

impl Output {
    pub fn new(sink: Box<dyn Write + Send>) -> Self {
        Output {
            inner: Mutex::new(BufWriter::with_capacity(256 * 1024, sink)),
            broken: AtomicBool::new(false),
            on_broken: OnceLock::new(),
            ended: Mutex::new(HashSet::new()),
            secrets: RwLock::new(Vec::new()),
        }
    }

    /// Call `f` (once) when the reader of the output is found gone: a write failed,
    /// or [`Output::watch_stdout_reader`] saw the pipe close.
    pub fn when_broken(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_broken.set(Box::new(f));
    }

    fn mark_broken(&self) {
        if !self.broken.swap(true, Ordering::Relaxed) {
            if let Some(f) = self.on_broken.get() {
                f();
            }
        }
    }

    /// Watch stdout for its reader going away, so that a closed pipe stops the run
    /// at once rather than at the next flush (records are written in 256 KB
    /// batches): a thread waits in poll(2) for POLLERR/POLLHUP on fd 1, which a
    /// pipe or socket raises when the other end closes. On a file or terminal
    /// nothing is ever raised and the thread just waits.
    #[cfg(unix)]
    pub fn watch_stdout_reader(self: &Arc<Self>) {
        let out = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("stdout-watch".into())
            .spawn(move || {
                loop {
                    let mut fd = libc::pollfd {
                        fd: libc::STDOUT_FILENO,
                        events: 0,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd on our stack, count 1.
                    let n = unsafe { libc::poll(&mut fd, 1, -1) };
                    if n < 0 {
                        if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        return;
                    }
                    if fd.revents & libc::POLLNVAL != 0 {
                        return;
                    }
                    if fd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                        if let Some(out) = out.upgrade() {
                            out.mark_broken();
                        }
                        return;
                    }
                }
            });
        // Without the watcher a closed pipe is still found at the next write.
        drop(spawned);
    }

    #[cfg(not(unix))]
    pub fn watch_stdout_reader(self: &Arc<Self>) {}

    pub fn stdout() -> Self {
        Output::new(Box::new(io::stdout()))
    }

    /// Register a secret; every non-record message is scrubbed of it from now on.
    pub fn register_secret(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        if let Ok(mut s) = self.secrets.write() {
            if !s.iter().any(|x| x == secret) {
                s.push(secret.to_string());
            }
        }
    }

    /// `text` with every registered secret replaced by asterisks.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Ok(secrets) = self.secrets.read() {
            for s in secrets.iter() {
                if out.contains(s.as_str()) {
                    out = out.replace(s.as_str(), "**********");
                }
            }
        }
        out
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
        drop(w);
        if res.is_err() {
            self.mark_broken();
        }
    }

    pub fn flush(&self) {
        let failed = match self.inner.lock() {
            Ok(mut w) => w.flush().is_err(),
            Err(_) => false,
        };
        if failed {
            self.mark_broken();
        }
    }

    /// Write a message that is not a record: serialised, redacted, flushed.
    pub fn message(&self, msg: &Value) {
        let mut line = self.redact(&msg.to_string());
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

    pub fn log(&self, level: LogLevel, message: &str) {
        self.message(&serde_json::json!({
            "type": "LOG",
            "log": {"level": level, "message": message}
        }));
    }

    pub fn spec(&self, spec: Value) {
        self.message(&serde_json::json!({"type": "SPEC", "spec": spec}));
    }

    pub fn catalog(&self, catalog: Value) {
        self.message(&serde_json::json!({"type": "CATALOG", "catalog": catalog}));
    }

    pub fn connection_status(&self, succeeded: bool, message: &str) {
        self.message(&serde_json::json!({
            "type": "CONNECTION_STATUS",
            "connectionStatus": {
                "status": if succeeded { "SUCCEEDED" } else { "FAILED" },
                "message": message,
            }
        }));
    }

    pub fn stream_status(&self, stream: &str, status: StreamStatus) {
        if !self.status_may_follow(stream, status) {
            return;
        }
        self.message(&serde_json::json!({
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

    /// A RUNNING stream status saying the stream waits on AfterShip's rate limit
    /// until `quota_reset` (ms since the epoch).
    pub fn stream_rate_limited(&self, stream: &str, quota_reset: i64) {
        if !self.status_may_follow(stream, StreamStatus::Running) {
            return;
        }
        self.message(&serde_json::json!({
            "type": "TRACE",
            "trace": {
                "type": "STREAM_STATUS",
                "emitted_at": now_ms(),
                "stream_status": {
                    "stream_descriptor": {"name": stream},
                    "status": StreamStatus::Running,
                    "reasons": [{
                        "type": "RATE_LIMITED",
                        "rate_limited": {"quota_reset": quota_reset}
                    }],
                }
            }
        }));
    }

    /// False for any status after the stream's terminal one; records a terminal one.
    fn status_may_follow(&self, stream: &str, status: StreamStatus) -> bool {
        let Ok(mut ended) = self.ended.lock() else {
            return true;
        };
        if ended.contains(stream) {
            return false;
        }
        if matches!(status, StreamStatus::Complete | StreamStatus::Incomplete) {
            ended.insert(stream.to_string());
        }
        true
    }

    /// A TRACE ESTIMATE of the rows one stream will emit (Airbyte's progress bar).
    pub fn estimate(&self, stream: &str, rows: u64) {
        self.message(&serde_json::json!({
            "type": "TRACE",
            "trace": {
                "type": "ESTIMATE",
                "emitted_at": now_ms(),
                "estimate": {"name": stream, "type": "STREAM", "row_estimate": rows}
            }
        }));
    }

    /// A TRACE ERROR. `stream` is set when the error belongs to one stream.
    pub fn trace_error(
        &self,
        failure_type: FailureType,
        message: &str,
        internal_message: Option<&str>,
        stream: Option<&str>,
    ) {
        self.trace_error_with_stack(failure_type, message, internal_message, stream, None);
    }

    /// A TRACE ERROR with the `stack_trace` of a bug, when there is one.
    pub fn trace_error_with_stack(
        &self,
        failure_type: FailureType,
        message: &str,
        internal_message: Option<&str>,
        stream: Option<&str>,
        stack_trace: Option<&str>,
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
        if let Some(trace) = stack_trace {
            error["stack_trace"] = Value::String(trace.to_string());
        }
        self.message(&serde_json::json!({
            "type": "TRACE",
            "trace": {"type": "ERROR", "emitted_at": now_ms(), "error": error}
        }));
    }

    /// A per-stream STATE message with the count of records since the previous one.
    pub fn stream_state(&self, stream: &str, state: &Value, record_count: u64) {
        self.message(&serde_json::json!({
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn messages_are_redacted_lines_and_records_pass_through() {
        let sink = Sink::default();
        let out = Output::new(Box::new(sink.clone()));
        out.register_secret("super-secret-key-42");
        assert_eq!(
            out.redact("key super-secret-key-42 leaked"),
            "key ********** leaked"
        );
        out.log(LogLevel::Warn, "the key super-secret-key-42 again");
        out.records("trackings", &[r#"{"id":"a","n":98765432109876543210987}"#]);
        out.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("**********") && !lines[0].contains("super-secret"));
        assert!(lines[1].contains(r#""data":{"id":"a","n":98765432109876543210987}"#));
    }

    #[test]
    fn an_estimate_is_a_stream_row_estimate_trace() {
        let sink = Sink::default();
        let out = Output::new(Box::new(sink.clone()));
        out.estimate("trackings", 1234);
        out.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["type"], "TRACE");
        assert_eq!(v["trace"]["type"], "ESTIMATE");
        assert!(v["trace"]["emitted_at"].as_i64().unwrap() > 1_000_000_000_000);
        assert_eq!(
            v["trace"]["estimate"],
            serde_json::json!({"name": "trackings", "type": "STREAM", "row_estimate": 1234})
        );
    }

    #[test]
    fn a_rate_limited_status_and_a_bug_s_stack_trace() {
        let sink = Sink::default();
        let out = Output::new(Box::new(sink.clone()));
        out.stream_rate_limited("orders", 1_800_000_000_123);
        out.trace_error_with_stack(
            FailureType::SystemError,
            "a bug",
            None,
            Some("orders"),
            Some("at src/x.rs:1"),
        );
        out.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0]["trace"]["stream_status"],
            serde_json::json!({
                "stream_descriptor": {"name": "orders"},
                "status": "RUNNING",
                "reasons": [{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 1_800_000_000_123_i64}}]
            })
        );
        assert_eq!(lines[1]["trace"]["error"]["stack_trace"], "at src/x.rs:1");
        assert_eq!(lines[1]["trace"]["error"]["failure_type"], "system_error");
    }

    #[test]
    fn no_status_follows_a_stream_s_terminal_one() {
        let sink = Sink::default();
        let out = Output::new(Box::new(sink.clone()));
        out.stream_status("orders", StreamStatus::Started);
        out.stream_status("orders", StreamStatus::Complete);
        out.stream_rate_limited("orders", 1_800_000_000_000);
        out.stream_status("orders", StreamStatus::Running);
        out.stream_status("stores", StreamStatus::Running);
        out.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let statuses: Vec<(String, String)> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| {
                let s = &v["trace"]["stream_status"];
                (
                    s["stream_descriptor"]["name"].as_str().unwrap().to_string(),
                    s["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected = [
            ("orders", "STARTED"),
            ("orders", "COMPLETE"),
            ("stores", "RUNNING"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(statuses, expected);
    }

    #[test]
    fn record_count_is_written_as_a_float() {
        let v = serde_json::json!({"recordCount": 3_f64});
        assert_eq!(v.to_string(), r#"{"recordCount":3.0}"#);
    }
}
