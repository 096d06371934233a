//! Panics as bug reports. A hook keeps each panic's message, place and backtrace
//! under the tokio task it happened in, so that the stream whose task panicked
//! reports a bug in the connector with its `stack_trace` instead of a bare
//! "it panicked".

use std::backtrace::Backtrace;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, Once};
use tokio::task::Id;

static TRACES: LazyLock<Mutex<HashMap<Id, String>>> = LazyLock::new(Default::default);

/// Install the hook (once per process); the previous hook still runs after it
/// (the default one writes the panic to stderr).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(id) = tokio::task::try_id() {
                let trace = format!("{info}\n{}", Backtrace::force_capture());
                if let Ok(mut traces) = TRACES.lock() {
                    traces.insert(id, trace);
                }
            }
            previous(info);
        }));
    });
}

/// The trace of the panic of task `id`, if it panicked since the hook was
/// installed (taken: asked twice, the second answer is None).
pub fn take(id: Id) -> Option<String> {
    TRACES.lock().ok()?.remove(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_leaves_its_message_place_and_backtrace() {
        install();
        let task = tokio::spawn(async { panic!("an invariant broke") });
        let id = task.id();
        assert!(task.await.is_err());
        let trace = take(id).expect("the hook kept no trace");
        assert!(trace.contains("an invariant broke"), "{trace}");
        assert!(trace.contains("src/panics.rs"), "{trace}");
        assert!(take(id).is_none());
    }
}
