//! source-aftership: an Airbyte source for AfterShip's APIs.
//!
//! `run` maps a parsed command line to Airbyte messages on stdout and an exit code.

pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod http;
pub mod input;
pub mod json;
pub mod logging;
pub mod paginate;
pub mod protocol;
pub mod state;
pub mod streams;
pub mod sync;
pub mod time;

use cli::{Cli, Command};
use protocol::FailureType;

/// Run one command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    logging::init(cli.debug);
    let code = match cli.command {
        Command::Spec => {
            protocol::spec(config::spec());
            0
        }
        Command::Check { config } => match config::load(&config) {
            // A config the user can fix is a FAILED status, not a crash.
            Err(e) => {
                protocol::connection_status(false, &e);
                0
            }
            Ok(cfg) => match runtime() {
                Ok(rt) => {
                    let (ok, msg) = rt.block_on(check::check(&cfg));
                    protocol::connection_status(ok, &msg);
                    0
                }
                Err(e) => system_error(&e),
            },
        },
        Command::Discover { config } => match config::load(&config) {
            Err(e) => config_error(&e),
            Ok(_) => {
                protocol::catalog(streams::catalog());
                0
            }
        },
        Command::Read {
            config,
            catalog,
            state,
        } => {
            let cfg = match config::load(&config) {
                Ok(c) => c,
                Err(e) => return finish(config_error(&e)),
            };
            let selected = match catalog::load(&catalog) {
                Ok(s) => s,
                Err(e) => return finish(config_error(&e)),
            };
            let selected = match state.as_deref() {
                Some(path) => state::InputState::load_cursors(path, selected),
                None => state::InputState::default().cursors(selected),
            };
            let selected = match selected {
                Ok(s) => s,
                Err(e) => return finish(config_error(&e)),
            };
            match runtime() {
                Ok(rt) => {
                    let code = rt.block_on(async {
                        install_signal_handlers();
                        sync::read(cfg, selected).await
                    });
                    if http::interrupted() {
                        die_by_sigterm();
                    }
                    code
                }
                Err(e) => system_error(&e),
            }
        }
    };
    finish(code)
}

fn finish(code: i32) -> i32 {
    protocol::out().flush();
    code
}

fn config_error(message: &str) -> i32 {
    protocol::trace_error(FailureType::ConfigError, message, None, None);
    1
}

fn system_error(message: &str) -> i32 {
    protocol::trace_error(FailureType::SystemError, message, None, None);
    1
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// SIGTERM/SIGINT: stop fetching, let the streams flush what they have and their
/// state, then exit non-zero.
fn install_signal_handlers() {
    tokio::spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        http::INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
        protocol::log(
            protocol::LogLevel::Warn,
            "interrupted: stopping after the records already received",
        );
    });
}

/// After an interrupted read has flushed its records and state, end the way an
/// unhandled SIGTERM would, so callers that expect "killed by SIGTERM" (PyAirbyte
/// accepts exit −15 after it stops a read) see exactly that.
fn die_by_sigterm() {
    protocol::out().flush();
    // SAFETY: restoring the default disposition and raising a signal on our own
    // process; no memory is touched.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        libc::raise(libc::SIGTERM);
    }
}
