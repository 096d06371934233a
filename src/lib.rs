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
pub mod panics;
pub mod protocol;
pub mod state;
pub mod streams;
pub mod sync;
pub mod time;

use cli::{Cli, Command};
use http::Stop;
use protocol::{FailureType, LogLevel, Output};
use std::sync::Arc;

/// Run one command, writing to stdout; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let out = Arc::new(Output::stdout());
    out.watch_stdout_reader();
    Runner::new(out).run(cli)
}

/// One run of the connector: the writer every message goes through, and the flag
/// that SIGTERM/SIGINT set. Handed down, never global.
pub struct Runner {
    out: Arc<Output>,
    stop: Stop,
}

impl Runner {
    pub fn new(out: Arc<Output>) -> Runner {
        Runner {
            out,
            stop: Stop::default(),
        }
    }

    /// Run one command; returns the process exit code.
    pub fn run(&self, cli: Cli) -> i32 {
        logging::init(cli.debug, self.out.clone());
        panics::install();
        let out = &self.out;
        let code = match cli.command {
            Command::Spec => {
                out.spec(config::spec());
                0
            }
            Command::Check { config } => match self.config(&config) {
                // A config the user can fix is a FAILED status, not a crash.
                Err(e) => {
                    out.connection_status(false, &e);
                    0
                }
                Ok(cfg) => match runtime() {
                    Ok(rt) => {
                        match rt.block_on(check::check(&cfg, self.stop.clone(), self.out.clone())) {
                            check::Checked::Status(ok, msg) => {
                                out.connection_status(ok, &msg);
                                0
                            }
                            // An outage is not a config to fix: say so, and fail.
                            check::Checked::Unreachable(msg) => {
                                out.trace_error(FailureType::TransientError, &msg, None, None);
                                1
                            }
                        }
                    }
                    Err(e) => self.system_error(&e),
                },
            },
            Command::Discover { config } => match self.config(&config) {
                Err(e) => self.config_error(&e),
                Ok(_) => {
                    out.catalog(streams::catalog());
                    0
                }
            },
            Command::Read {
                config,
                catalog,
                state,
            } => self.read(&config, &catalog, state.as_deref()),
        };
        out.flush();
        code
    }

    /// Load the config; from then on its API key is scrubbed from every message.
    fn config(&self, path: &std::path::Path) -> Result<config::Config, String> {
        let cfg = config::load(path)?;
        self.out.register_secret(&cfg.api_key);
        Ok(cfg)
    }

    fn read(
        &self,
        config: &std::path::Path,
        catalog: &std::path::Path,
        state: Option<&std::path::Path>,
    ) -> i32 {
        let cfg = match self.config(config) {
            Ok(c) => c,
            Err(e) => return self.config_error(&e),
        };
        let selected = match catalog::load(catalog) {
            Ok(s) => s,
            Err(e) => return self.config_error(&e),
        };
        for warning in catalog::overwrite_warnings(&selected) {
            self.out.log(LogLevel::Warn, &warning);
        }
        let selected = match state {
            Some(path) => state::InputState::load_cursors(path, selected),
            None => state::InputState::default().cursors(selected),
        };
        let selected = match selected {
            Ok(s) => s,
            Err(e) => return self.config_error(&e),
        };
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => return self.system_error(&e),
        };
        // A reader that has gone stops every stream at once: no new request.
        let stop = self.stop.clone();
        self.out.when_broken(move || stop.set());
        let code = rt.block_on(async {
            self.on_signal_stop();
            sync::read(cfg, selected, self.out.clone(), self.stop.clone()).await
        });
        // Whatever is still running (a DNS lookup on a blocking thread, a
        // cancelled request's connection) must not hold the exit up.
        rt.shutdown_background();
        if self.out.is_broken() {
            // Nobody reads what we would say; the run did not finish.
            return 1;
        }
        if self.stop.is_set() {
            self.die_by_sigterm();
        }
        code
    }

    fn config_error(&self, message: &str) -> i32 {
        self.out
            .trace_error(FailureType::ConfigError, message, None, None);
        1
    }

    fn system_error(&self, message: &str) -> i32 {
        self.out
            .trace_error(FailureType::SystemError, message, None, None);
        1
    }

    /// SIGTERM/SIGINT: stop fetching, let the streams flush what they have and
    /// their state, then exit non-zero.
    fn on_signal_stop(&self) {
        let (stop, out) = (self.stop.clone(), self.out.clone());
        tokio::spawn(async move {
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
            stop.set();
            out.log(
                LogLevel::Warn,
                "interrupted: stopping after the records already received",
            );
        });
    }

    /// After an interrupted read has flushed its records and state, end the way an
    /// unhandled SIGTERM would, so callers that expect "killed by SIGTERM"
    /// (PyAirbyte accepts exit −15 after it stops a read) see exactly that.
    fn die_by_sigterm(&self) {
        self.out.flush();
        // SAFETY: restoring the default disposition and raising a signal on our own
        // process; no memory is touched.
        unsafe {
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            libc::raise(libc::SIGTERM);
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
