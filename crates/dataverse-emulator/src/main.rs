//! `dataverse-emulator`: run the emulator, or benchmark paging through it.

mod bench;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dataverse_emulator::{Emulator, EmulatorConfig};
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

fn parse_pair(s: &str) -> Result<(String, usize), String> {
    let (k, v) = s.split_once('=').ok_or("expected entity=count")?;
    Ok((k.to_owned(), v.parse().map_err(|e| format!("{e}"))?))
}

impl Cli {
    fn config(&self) -> EmulatorConfig {
        let d = EmulatorConfig::default();
        EmulatorConfig {
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
        }
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
    let emulator = Emulator::start(cli.config())
        .await
        .context("starting the emulator")?;
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
