//! `aftership-sandbox` CLI: prints its base URL as the first line of stdout, then serves
//! until SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::io::Write;

use aftership_sandbox::modes::{SideUpdates, StoreRef, VanishingOrder, VanishingStore};
use aftership_sandbox::{
    DEFAULT_API_KEY, FaultSpec, LiveWrites, Product, Sandbox, SandboxConfig, StreamId,
};
use chrono::{DateTime, Utc};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "aftership-sandbox",
    about = "A faithful local AfterShip API for tests, demos and benchmarks"
)]
struct Cli {
    /// Port on 127.0.0.1 (0 = any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated data and of the fault dice
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of trackings; the other streams scale from it
    #[arg(long, default_value_t = 1000)]
    records: usize,
    /// The accepted `as-api-key`
    #[arg(long, default_value = DEFAULT_API_KEY)]
    api_key: String,
    /// Added delay on every API request, in milliseconds
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Turn the documented rate limits off
    #[arg(long)]
    no_rate_limit: bool,
    /// KIND:RATE (500, 502, 503, 429, reset, truncate, slow, repeat-cursor, odd-record, unauthorized-after:COUNT); repeatable
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<FaultSpec>,
    /// Answer 403 for a product (tracking|returns|protection|commerce|members|shipping); repeatable
    #[arg(long = "deny", value_parser = parse_product)]
    deny: Vec<Product>,
    /// STREAM=N overrides one stream's record count; repeatable
    #[arg(long = "count", value_parser = parse_count)]
    counts: Vec<(String, usize)>,
    /// Generate data relative to this RFC 3339 instant instead of now (byte-identical runs)
    #[arg(long, value_parser = parse_anchor)]
    anchor: Option<DateTime<Utc>>,
    /// Days of history the generated data covers (creation times spread over them)
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=3650))]
    history_days: u32,
    /// STREAM=N: the largest `limit` that stream's endpoint accepts (lower than the
    /// sandbox's; stores and Shipping lists, undocumented, may also go higher); repeatable
    #[arg(long = "max-limit", value_parser = parse_max_limit)]
    max_limits: Vec<(String, u64)>,
    /// Fulfillments refuse every query parameter besides order_id or ids[] (page and limit too)
    #[arg(long)]
    fulfillments_order_id_only: bool,
    /// EVERY:SECONDS:UPDATES:INSERTS: after every EVERY answered API requests, advance the
    /// clock SECONDS, update UPDATES records per stream with updated_at, insert INSERTS per
    /// growing stream (e.g. 5:30:2:1)
    #[arg(long, value_parser = parse_live_writes)]
    live_writes: Option<LiveWrites>,
    /// Fulfillment updates and inserts do not move their order's updated_at
    #[arg(long)]
    fulfillments_leave_orders: bool,
    /// Splice an exact-bytes "probe" member first into every served record
    #[arg(long)]
    exact_probe: bool,
    /// Serve a `limit` above the maximum at the maximum instead of refusing it
    #[arg(long)]
    clamp_limits: bool,
    /// STORE (id, or 0-based index in /stores): its orders, products and fulfillments
    /// answer 403; repeatable
    #[arg(long = "forbid-store")]
    forbidden_stores: Vec<StoreRef>,
    /// STORE_ID: its orders, products and fulfillments always answer 500; repeatable
    #[arg(long = "fail-store")]
    failing_stores: Vec<String>,
    /// store=STORE[,after_requests=N]: the store is deleted after answering N Commerce
    /// requests with 200 (0 = from the start); repeatable
    #[arg(long = "vanish-store")]
    vanishing_stores: Vec<VanishingStore>,
    /// store=STORE,order=ID|index=K[,after_requests=N][,after_listed=M]: the order is
    /// deleted once its store answered N requests and it was listed M times; repeatable
    #[arg(long = "vanish-order")]
    vanishing_orders: Vec<VanishingOrder>,
    /// EVERY:COUNT[:MIN_AGE_DAYS[:fulfillment]]: after every EVERY answered API requests,
    /// COUNT old orders change on AfterShip's side (updated_at, fulfillment_status) with
    /// their source_* times untouched
    #[arg(long)]
    aftership_side_updates: Option<SideUpdates>,
    /// PRODUCT (tracking|shipping): its lists accept date filters but ignore them; repeatable
    #[arg(long = "ignore-date-filters", value_parser = parse_dated_product)]
    ignore_date_filters: Vec<Product>,
}

fn parse_dated_product(s: &str) -> Result<Product, String> {
    let p = parse_product(s)?;
    aftership_sandbox::modes::check_ignore_date_filters(&[p])?;
    Ok(p)
}

fn parse_anchor(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("bad --anchor {s:?}: {e}"))
}

fn parse_fault(s: &str) -> Result<FaultSpec, String> {
    s.parse()
}

fn parse_product(s: &str) -> Result<Product, String> {
    Product::parse(s).ok_or_else(|| format!("unknown product {s:?}"))
}

fn parse_count(s: &str) -> Result<(String, usize), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not STREAM=N"))?;
    if StreamId::parse(k).is_none() {
        return Err(format!("unknown stream {k:?}"));
    }
    let n: usize = v.parse().map_err(|_| format!("bad count {v:?}"))?;
    Ok((k.to_string(), n))
}

fn parse_live_writes(s: &str) -> Result<LiveWrites, String> {
    s.parse()
}

fn parse_max_limit(s: &str) -> Result<(String, u64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not STREAM=N"))?;
    let n: u64 = v.parse().map_err(|_| format!("bad limit {v:?}"))?;
    aftership_sandbox::config::check_max_limit(k, n)?;
    Ok((k.to_string(), n))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let cfg = SandboxConfig {
        port: cli.port,
        seed: cli.seed,
        records: cli.records,
        api_key: cli.api_key,
        latency_ms: cli.latency_ms,
        rate_limit: !cli.no_rate_limit,
        faults: cli.faults,
        deny: cli.deny,
        counts: cli.counts.into_iter().collect::<BTreeMap<_, _>>(),
        anchor: cli.anchor,
        history_days: cli.history_days,
        max_limits: cli.max_limits.into_iter().collect(),
        fulfillments_order_id_only: cli.fulfillments_order_id_only,
        live_writes: cli.live_writes,
        fulfillments_leave_orders: cli.fulfillments_leave_orders,
        exact_probe: cli.exact_probe,
        clamp_limits: cli.clamp_limits,
        forbidden_stores: cli.forbidden_stores,
        failing_stores: cli.failing_stores,
        vanishing_stores: cli.vanishing_stores,
        vanishing_orders: cli.vanishing_orders,
        aftership_side_updates: cli.aftership_side_updates,
        ignore_date_filters: cli.ignore_date_filters,
    };
    let sb = Sandbox::start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sb.base_url())?;
        out.flush()?;
    }
    wait_for_signal().await;
    sb.shutdown();
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
