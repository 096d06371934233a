#![recursion_limit = "512"]
//! `aftership-sandbox`: a faithful local stand-in for the AfterShip REST APIs
//! (Tracking, Returns, Protection, Commerce, Members, Shipping) for tests, demos and
//! benchmarks. See `sandbox/README.md` for the served endpoints, the admin API and the
//! documented choices.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sb = aftership_sandbox::Sandbox::start(aftership_sandbox::SandboxConfig::default()).await?;
//! let url = format!("{}/tracking/2025-07/trackings", sb.base_url());
//! # let _ = url;
//! sb.shutdown();
//! # Ok(()) }
//! ```

mod admin;
mod admin_modes;
mod api;
mod codec;
pub mod config;
mod data;
pub mod faults;
mod handlers;
pub mod modes;
mod params;
pub mod products;
mod ratelimit;
mod records;
mod side_updates;
mod state;
mod stats;
pub mod streams;
mod timefmt;
mod vanish;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::sync::{Mutex, RwLock};

use axum::Router;
use axum::routing::{get, post};
use chrono::{DurationRound, TimeDelta, Utc};
use tokio::sync::oneshot;

pub use config::{DEFAULT_API_KEY, LiveWrites, RuntimeSettings, SandboxConfig};
pub use faults::{FaultKind, FaultSpec};
pub use modes::{SideUpdates, StoreRef, VanishingOrder, VanishingStore};
pub use products::Product;
pub use streams::StreamId;

use crate::data::Dataset;
use crate::faults::FaultState;
use crate::ratelimit::RateLimiter;
use crate::state::AppState;
use crate::stats::Stats;

/// A running sandbox on 127.0.0.1, served by a task of the current Tokio runtime.
/// Dropping it (or calling [`Sandbox::shutdown`]) stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

fn build_state(cfg: &SandboxConfig) -> Result<Arc<AppState>, String> {
    let anchor = cfg.anchor.unwrap_or_else(|| {
        let now = Utc::now();
        now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now)
    });
    let data = Dataset::generate(cfg.seed, cfg.records, &cfg.counts, anchor, cfg.history_days);
    // checked by `Sandbox::start`
    let max_limits = cfg.max_limits_by_stream().unwrap_or_default();
    let modes = modes::resolve(
        &data,
        &cfg.forbidden_stores,
        &cfg.vanishing_stores,
        &cfg.vanishing_orders,
    )?;
    let state = Arc::new(AppState {
        api_key: cfg.api_key.clone(),
        seed: cfg.seed,
        settings: RwLock::new(RuntimeSettings {
            rate_limit: cfg.rate_limit,
            latency_ms: cfg.latency_ms,
            deny: cfg.deny.clone(),
            faults: cfg.faults.clone(),
            fulfillments_order_id_only: cfg.fulfillments_order_id_only,
            fulfillments_leave_orders: cfg.fulfillments_leave_orders,
            live_writes: cfg.live_writes,
            forbidden_stores: modes.forbidden_stores,
            failing_stores: cfg.failing_stores.clone(),
            vanishing_stores: modes.vanishing_stores,
            vanishing_orders: modes.vanishing_orders,
            aftership_side_updates: cfg.aftership_side_updates,
            ignore_date_filters: cfg.ignore_date_filters.clone(),
        }),
        data: RwLock::new(data),
        offset_secs: AtomicI64::new(0),
        limiter: RateLimiter::default(),
        faults: FaultState::new(cfg.seed),
        stats: Stats::default(),
        max_limits,
        live: Default::default(),
        exact_probe: cfg.exact_probe,
        clamp_limits: cfg.clamp_limits,
        vanish: Default::default(),
        side_log: Default::default(),
    });
    // stores and orders set to vanish after 0 requests are gone from the start
    state.vanish_due(&state.settings());
    Ok(state)
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/__sandbox/advance", post(admin::advance))
        .route("/__sandbox/truth", get(admin::truth))
        .route("/__sandbox/stats", get(admin::stats))
        .route("/__sandbox/stats/reset", post(admin::stats_reset))
        .route("/__sandbox/served", get(admin::served))
        .route("/__sandbox/writes", get(admin::writes))
        .route("/__sandbox/writes/reset", post(admin::writes_reset))
        .route("/__sandbox/vanished", get(admin_modes::vanished))
        .route(
            "/__sandbox/aftership-side-update",
            post(admin_modes::side_update),
        )
        .route(
            "/__sandbox/aftership-side-updates",
            get(admin_modes::side_updates),
        )
        .route(
            "/__sandbox/config",
            get(admin::get_config).post(admin::set_config),
        )
        .fallback(api::handle)
        .with_state(state)
}

impl Sandbox {
    /// Generate the data and start serving on `127.0.0.1:cfg.port` (0 = any free port).
    pub async fn start(cfg: SandboxConfig) -> io::Result<Sandbox> {
        cfg.validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let port = cfg.port;
        // generating a large data set takes a while: keep it off the async workers
        let state = tokio::task::spawn_blocking(move || build_state(&cfg))
            .await
            .map_err(io::Error::other)?
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox {
            addr,
            stop: Mutex::new(Some(tx)),
        })
    }

    /// Start on a dedicated thread with its own runtime, for tests that are not async.
    pub fn start_blocking(cfg: SandboxConfig) -> io::Result<BlockingSandbox> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<SocketAddr>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("aftership-sandbox".to_string())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    match Sandbox::start(cfg).await {
                        Ok(sb) => {
                            let _ = ready_tx.send(Ok(sb.addr));
                            let _ = stop_rx.await;
                            sb.shutdown();
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|_| io::Error::other("sandbox thread ended before it started"))??;
        Ok(BlockingSandbox {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop serving (idempotent; also done on drop).
    pub fn shutdown(&self) {
        let tx = match self.stop.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A sandbox running on its own thread and runtime ([`Sandbox::start_blocking`]).
pub struct BlockingSandbox {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingSandbox {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop serving and join the thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for BlockingSandbox {
    fn drop(&mut self) {
        self.stop_now();
    }
}
