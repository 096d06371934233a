//! The connector's diagnostics take one channel, `Output::log` (LOG messages through
//! the one stdout writer), called with the `Output` each part is handed. This layer
//! only brings the `tracing` events of the crates we use (hyper, reqwest, h2, …:
//! warnings and errors, and more with `--debug`) into that same channel, so nothing
//! of theirs reaches stdout as free text.

use crate::protocol::{LogLevel, Output};
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

struct LogLayer {
    max: Level,
    out: Arc<Output>,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= self.max
            && (metadata.target().starts_with("source_aftership")
                || *metadata.level() <= Level::WARN)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut msg = Message::default();
        event.record(&mut msg);
        let level = match *event.metadata().level() {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        };
        self.out.log(level, &msg.0);
    }
}

/// Install the LOG layer writing to `out`; `debug` lowers the threshold from INFO
/// to DEBUG. (tracing's subscriber is the one process-wide registration here: it is
/// how the `tracing` macros find their layer.)
pub fn init(debug: bool, out: Arc<Output>) {
    let layer = LogLayer {
        max: if debug { Level::DEBUG } else { Level::INFO },
        out,
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
