//! `dataverse-emulator`: run the emulator, or benchmark paging through it.

mod bench;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dataverse_emulator::{
    CostModel, CostRequest, Emulator, EmulatorConfig, LimitsRequest, ServiceLimits,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A Dataverse Web API v9.2 + Entra ID emulator with sample CRM data and faults on demand.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Sample rows per table.
    #[arg(long, default_value_t = 100)]
    records: usize,
    /// Per-table row counts, e.g. `--entity-records account=1000000` (repeatable).
    #[arg(long = "entity-records", value_parser = parse_pair)]
    entity_records: Vec<(String, usize)>,
    /// Seed of the deterministic sample data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long)]
    client_secret: Option<String>,
    /// One more app user, `CLIENT_ID=SECRET` (repeatable): each signs in with client
    /// credentials and has its own service-protection budget.
    #[arg(long = "more-app", value_parser = parse_app)]
    more_apps: Vec<(String, String)>,
    /// Keep rows, versions, deletes and change tokens in this file across restarts.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Random creates/updates/deletes per second on the sample tables.
    #[arg(long, default_value_t = 0.0)]
    changes_per_sec: f64,
    /// Throttle (429, Retry-After: 1) every n-th Web API request.
    #[arg(long)]
    throttle_every: Option<u32>,
    /// Add this latency (milliseconds) to every Web API request.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Delta tokens older than this many seconds expire.
    #[arg(long)]
    token_retention_secs: Option<u64>,
    #[command(flatten)]
    limits: LimitFlags,
}

/// Service protection and the cost model (see the README, "Service protection").
#[derive(clap::Args, Debug)]
struct LimitFlags {
    /// Requests per user in the window before 429 (service default 6000).
    #[arg(long)]
    limit_requests: Option<u32>,
    /// Combined execution seconds per user in the window before 429 (service default 1200).
    #[arg(long)]
    limit_execution_secs: Option<f64>,
    /// Requests per user in flight at once before 429 (service default 52).
    #[arg(long)]
    limit_concurrent: Option<u32>,
    /// The sliding window of the request and time limits, in seconds (service default 300).
    #[arg(long)]
    limit_window_secs: Option<f64>,
    /// The `x-ms-dop-hint` header value (default 4).
    #[arg(long)]
    dop_hint: Option<u32>,
    /// Count and report usage in headers, but never answer 429 for it.
    #[arg(long)]
    no_limits: bool,
    /// Cost model: every Web API request takes at least this many milliseconds.
    #[arg(long, default_value_t = 0.0)]
    cost_base_ms: f64,
    /// Cost model: plus this many microseconds per row returned.
    #[arg(long, default_value_t = 0.0)]
    cost_per_row_us: f64,
}

impl LimitFlags {
    fn limits(&self) -> anyhow::Result<ServiceLimits> {
        let req = LimitsRequest {
            enabled: self.no_limits.then_some(false),
            requests: self.limit_requests,
            execution_secs: self.limit_execution_secs,
            concurrent: self.limit_concurrent,
            window_secs: self.limit_window_secs,
            dop_hint: self.dop_hint,
            ..LimitsRequest::default()
        };
        req.apply_to(&ServiceLimits::default())
            .map_err(|problem| anyhow::anyhow!("bad --limit-* flag: {problem}"))
    }

    fn cost(&self) -> anyhow::Result<CostModel> {
        let req = CostRequest {
            base_ms: self.cost_base_ms,
            per_row_us: self.cost_per_row_us,
        };
        req.model()
            .map_err(|problem| anyhow::anyhow!("bad --cost-* flag: {problem}"))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start in-process, read every account page over HTTP and print throughput and peak RSS.
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        #[arg(long, default_value_t = 5000)]
        page_size: usize,
    },
}

fn parse_app(s: &str) -> Result<(String, String), String> {
    let (id, secret) = s.split_once('=').ok_or("expected CLIENT_ID=SECRET")?;
    Ok((id.to_owned(), secret.to_owned()))
}

fn parse_pair(s: &str) -> Result<(String, usize), String> {
    let (k, v) = s.split_once('=').ok_or("expected entity=count")?;
    Ok((k.to_owned(), v.parse().map_err(|e| format!("{e}"))?))
}

impl Cli {
    fn config(&self) -> anyhow::Result<EmulatorConfig> {
        let d = EmulatorConfig::default();
        Ok(EmulatorConfig {
            port: self.port,
            records: self.records,
            records_per_entity: self
                .entity_records
                .iter()
                .cloned()
                .collect::<HashMap<_, _>>(),
            seed: self.seed,
            tenant_id: self.tenant.clone().unwrap_or(d.tenant_id),
            client_id: self.client_id.clone().unwrap_or(d.client_id),
            client_secret: self.client_secret.clone().unwrap_or(d.client_secret),
            state_file: self.state.clone(),
            change_token_retention: self.token_retention_secs.map(Duration::from_secs),
            limits: self.limits.limits()?,
            cost: self.limits.cost()?,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    if let Some(Command::Bench { records, page_size }) = cli.command {
        return bench::run(records, page_size).await;
    }
    let emulator = Emulator::start(cli.config()?)
        .await
        .context("starting the emulator")?;
    for (id, secret) in &cli.more_apps {
        emulator.control().register_confidential_app(id, secret);
    }
    print_banner(&emulator);
    let faults = emulator.control().faults();
    if let Some(n) = cli.throttle_every {
        faults.throttle_every(n);
    }
    if let Some(ms) = cli.latency_ms {
        faults.set_latency(Duration::from_millis(ms));
    }
    if cli.changes_per_sec > 0.0 {
        tokio::spawn(change_feed(emulator.control(), cli.changes_per_sec));
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.shutdown().await;
    Ok(())
}

async fn change_feed(control: dataverse_emulator::Control, per_sec: f64) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
    let mut rng = fastrand::Rng::new();
    loop {
        tick.tick().await;
        if let Err(e) = control.random_change(&mut rng) {
            tracing::warn!(error = %e, "random change failed");
        }
    }
}

#[allow(clippy::print_stdout)]
fn print_banner(e: &Emulator) {
    println!("Dataverse emulator running");
    println!("  base URL (org): {}", e.base_url());
    println!("  API URL:        {}", e.api_url());
    println!("  token URL:      {}", e.token_url());
    println!("  tenant id:      {}", e.tenant_id());
    println!("  client id:      {}", e.client_id());
    println!("  client secret:  {}   (emulator-only)", e.client_secret());
    let (l, cost) = (e.control().limits().settings(), e.control().cost().get());
    println!(
        "  limits per user: {} requests and {} s execution per {} s, {} concurrent{}; dop hint {}",
        l.requests,
        l.execution.as_secs_f64(),
        l.window.as_secs_f64(),
        l.concurrent,
        if l.enabled { "" } else { " (reported only)" },
        l.dop_hint
    );
    if !cost.is_off() {
        println!(
            "  cost model:     {:?} per request + {:?} per row",
            cost.base, cost.per_row
        );
    }
    println!();
    println!("Try:");
    println!(
        "  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id={} -d client_secret={} -d scope={}/.default {} | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')",
        e.client_id(),
        e.client_secret(),
        e.base_url(),
        e.token_url()
    );
    println!(
        "  curl -H \"Authorization: Bearer $TOKEN\" -H 'Prefer: odata.maxpagesize=2' '{}/accounts?$select=name'",
        e.api_url()
    );
}
