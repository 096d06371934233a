//! The sync engine: one generic reader for all 22 streams, as a few components.
//!
//! - The partition router (`router`) gives a stream's cursor groups (one per
//!   record of its outermost parent list, or the whole stream) and, within a
//!   group, its partitions ([`partition`]): the group itself, one per record of
//!   each parent level below, or one per search.
//! - Each partition's pages come from a feed (`feed`): its time windows
//!   ([`windows`]), its sorted listing past a page ceiling ([`listing`]), or
//!   pages fetched ahead; the paginator (`paginate`) walks each query.
//! - One page loop (`walk`) hands each page's records to the record selector and
//!   emitter (`emit`), or reads them as parent records.
//! - The cursor ([`cursor`]) holds the checkpoint rules: STATE follows only what
//!   was emitted, never passes the moment its group's read began, never goes
//!   below the input state; per window, per group, and inside long walks. A
//!   resumable full refresh (`state::Resume`) saves instead the window, page and
//!   partition reached after each page (`cursor::reach`), skips the partitions
//!   an earlier attempt finished, and resumes the one it stopped in
//!   (`Feed::resume`).
//! - Each partition ends complete, skipped, gone or failed (`group`), and the
//!   stream's outcome is made from all of them ([`run`]).

pub mod cursor;
mod emit;
mod estimate;
mod feed;
mod group;
mod key;
pub mod listing;
pub mod partition;
mod report;
mod router;
pub mod run;
mod walk;
pub mod windows;

use crate::catalog::Selected;
use crate::config::Config;
use crate::http::Stop;
use crate::http::{ApiError, Client};
use crate::paginate::PageSizes;
use crate::protocol::{FailureType, LogLevel, Output, StreamStatus};
use crate::state::Cursor;
use chrono::{DateTime, Utc};
use run::Run;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::{Id, JoinSet};

/// Shared by every stream of one sync.
pub struct Ctx {
    /// The one writer of stdout.
    pub out: Arc<Output>,
    pub client: Arc<Client>,
    /// The page size each endpoint is asked with (lowered when an API refuses ours).
    pub sizes: Arc<PageSizes>,
    pub config: Config,
    /// When the sync started: windows end here.
    pub now: DateTime<Utc>,
}

/// How one stream ended.
#[derive(Debug)]
pub enum Outcome {
    Complete,
    /// The key may not use this stream's API product: skipped, not a failure.
    Skipped(String),
    Failed(ApiError),
}

/// What a stream did, for the closing summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub records: u64,
    pub pages: u64,
    pub seconds: f64,
    pub state: Option<Value>,
    /// Listings AfterShip cut short, one line each (stream, partition, what).
    pub truncated: Vec<String>,
    /// Partitions skipped or failed, one line each.
    pub incomplete: Vec<String>,
    /// Parents that no longer exist (deleted during the sync), one line each.
    pub gone: Vec<String>,
}

/// Run the selected streams concurrently from their validated cursors; returns
/// the process exit code.
pub async fn read(
    config: Config,
    selected: Vec<(Selected, Cursor)>,
    out: Arc<Output>,
    stop: Stop,
) -> i32 {
    for (sel, _) in &selected {
        if sel.downgraded {
            out.log(
                LogLevel::Info,
                &format!(
                    "stream {} supports only full refresh; reading it in full although incremental was requested",
                    sel.def.name
                ),
            );
        }
    }
    let client = match Client::new(&config, stop, out.clone()) {
        Ok(c) => c,
        Err(e) => {
            out.trace_error(FailureType::ConfigError, &e, None, None);
            return 1;
        }
    };
    let ctx = Arc::new(Ctx {
        out: out.clone(),
        client: Arc::new(client),
        sizes: Arc::new(PageSizes::new(out.clone())),
        config,
        now: Utc::now(),
    });
    let mut tasks = Named::default();
    for (sel, cursor) in selected {
        let ctx = ctx.clone();
        tasks.spawn(sel.def.name, async move {
            let started = Instant::now();
            ctx.out.stream_status(sel.def.name, StreamStatus::Started);
            let mut run = Run::new(&ctx, sel.def, sel.mode, cursor);
            let outcome = run.go().await;
            run.summary.seconds = started.elapsed().as_secs_f64();
            (outcome, run.summary)
        });
    }
    let mut failures: Vec<(&'static str, FailureType)> = Vec::new();
    let mut interrupted = false;
    while let Some((name, joined)) = tasks.next().await {
        let (outcome, summary) = match joined {
            Ok(done) => done,
            Err(bug) => (Outcome::Failed(bug), Summary::default()),
        };
        let truncated = !summary.truncated.is_empty() || !summary.incomplete.is_empty();
        match outcome {
            Outcome::Complete => {
                // A listing AfterShip cut short is not a complete stream.
                let status = if truncated {
                    StreamStatus::Incomplete
                } else {
                    StreamStatus::Complete
                };
                out.stream_status(name, status);
            }
            Outcome::Skipped(why) => {
                out.log(LogLevel::Warn, &format!("stream {name} skipped: {why}"));
                out.stream_status(name, StreamStatus::Incomplete);
            }
            Outcome::Failed(ApiError::Interrupted) => {
                interrupted = true;
                out.stream_status(name, StreamStatus::Incomplete);
            }
            Outcome::Failed(e) => {
                out.stream_status(name, StreamStatus::Incomplete);
                let message = format!("Stream {name} failed: {e}");
                out.trace_error_with_stack(
                    e.failure_type(),
                    &message,
                    Some(&format!("{e:?}")),
                    Some(name),
                    e.stack_trace(),
                );
                failures.push((name, e.failure_type()));
            }
        }
        out.log(LogLevel::Info, &summary_line(name, &summary));
    }
    let stats = &ctx.client.stats;
    let count = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    out.log(
        LogLevel::Info,
        &format!(
            "http requests={} retries={} throttled={}",
            count(&stats.requests),
            count(&stats.retries),
            count(&stats.throttled)
        ),
    );
    if let Some((_, first)) = failures.first() {
        let names: Vec<_> = failures.iter().map(|(n, _)| *n).collect();
        out.trace_error(
            *first,
            &format!(
                "During the sync, the following streams did not sync successfully: {}",
                names.join(", ")
            ),
            None,
            None,
        );
        out.flush();
        return 1;
    }
    out.flush();
    if interrupted { 143 } else { 0 }
}

fn summary_line(name: &str, s: &Summary) -> String {
    let mut line = format!(
        "summary stream={name} records={} pages={} seconds={:.2} state={}",
        s.records,
        s.pages,
        s.seconds,
        s.state
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into())
    );
    for (label, lines) in [
        ("truncated", &s.truncated),
        ("incomplete", &s.incomplete),
        ("gone", &s.gone),
    ] {
        if lines.is_empty() {
            continue;
        }
        let shown: Vec<&str> = lines.iter().take(3).map(String::as_str).collect();
        let more = lines.len() - shown.len();
        line.push_str(&format!(" {label}={} ({}", lines.len(), shown.join("; ")));
        if more > 0 {
            line.push_str(&format!("; and {more} more, each in a WARN above"));
        }
        line.push(')');
    }
    line
}

/// Tasks that each belong to a stream, so that one that panics is still reported
/// under its stream's name.
struct Named<T> {
    set: JoinSet<T>,
    names: HashMap<Id, &'static str>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named {
            set: JoinSet::new(),
            names: HashMap::new(),
        }
    }
}

impl<T: Send + 'static> Named<T> {
    fn spawn(&mut self, name: &'static str, task: impl Future<Output = T> + Send + 'static) {
        let handle = self.set.spawn(task);
        self.names.insert(handle.id(), name);
    }

    /// The next task to end: its stream, and its output or, when it panicked or
    /// was cancelled, the bug that stopped it (with the panic's stack trace).
    async fn next(&mut self) -> Option<(&'static str, Result<T, ApiError>)> {
        let joined = self.set.join_next_with_id().await?;
        Some(match joined {
            Ok((id, out)) => (self.names.remove(&id).unwrap_or("unknown"), Ok(out)),
            Err(e) => {
                let name = self.names.remove(&e.id()).unwrap_or("unknown");
                let stack_trace = crate::panics::take(e.id());
                let why = if e.is_panic() {
                    let payload = e.into_panic();
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .map_or_else(|| "it panicked".into(), |m| format!("it panicked: {m}"))
                } else {
                    "it was cancelled".into()
                };
                let message = format!("the reader of stream {name} stopped: {why}");
                (
                    name,
                    Err(ApiError::Bug {
                        stream: name,
                        message,
                        stack_trace,
                    }),
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_is_reported_under_its_stream_as_a_bug() {
        crate::panics::install();
        let mut tasks: Named<u32> = Named::default();
        tasks.spawn("trackings", async { 1 });
        tasks.spawn("orders", async { panic!("boom") });
        let mut got = Vec::new();
        while let Some((name, out)) = tasks.next().await {
            got.push((name, out));
        }
        got.sort_by_key(|(n, _)| *n);
        assert_eq!(got[0].0, "orders");
        let Err(bug) = &got[0].1 else {
            panic!("{got:?}")
        };
        let text = bug.to_string();
        assert!(text.contains("a bug in the connector"), "{text}");
        assert!(
            text.contains("stream orders") && text.contains("panicked: boom"),
            "{text}"
        );
        assert!(!text.contains("AfterShip Tracking API"), "{text}");
        assert_eq!(bug.failure_type(), FailureType::SystemError);
        let stack = bug.stack_trace().expect("no stack trace");
        assert!(
            stack.contains("boom") && stack.contains("src/sync/mod.rs"),
            "{stack}"
        );
        assert!(matches!(got[1], ("trackings", Ok(1))), "{got:?}");
    }

    #[test]
    fn the_summary_says_what_was_truncated() {
        let s = Summary {
            records: 3,
            truncated: vec!["stream orders, store s1: 2 not reached".into()],
            ..Summary::default()
        };
        let line = summary_line("orders", &s);
        assert!(
            line.contains("truncated=1 (stream orders, store s1: 2 not reached)"),
            "{line}"
        );
        assert!(!summary_line("orders", &Summary::default()).contains("truncated"));
    }
}
