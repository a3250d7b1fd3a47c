//! `des`: the single-machine Data Export Service.
//!
//! `des run` replicates a Dataverse environment (or the built-in emulator) into a SQL target,
//! `des schema` prints the DDL the planner would run, `des bench` measures throughput and lag.
//! This file only parses arguments, sets up logging and dispatches.

// A command-line tool talks to its user on stdout.
#![allow(clippy::print_stdout)]

/// Pages of thousands of rows are allocated on one thread and freed on another; glibc keeps
/// such memory in per-thread arenas, while mimalloc returns it, so peak memory follows the
/// pages in flight (measured in crates/des-cli/README.md, "Memory"). Built with `override`,
/// mimalloc also serves SQLite's own `malloc` calls (page caches, payload copies).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod app_users;
mod bench;
mod catalog;
mod changes;
mod config;
mod cpu;
mod data_folder;
mod environment;
mod folder_lock;
mod link_key;
mod memory;
mod organization;
mod patience;
mod profile;
mod progress;
mod replication;
mod run;
mod schema_cmd;
mod shutdown;
mod status;
mod target;
mod target_check;
mod target_watch;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "des",
    version,
    about = "An open Data Export Service for Dataverse"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replicate continuously; with no flags, from the built-in emulator into ./des-data.
    // Boxed: its flags make it several times larger than the other commands.
    Run(Box<run::RunArgs>),
    /// Print the DDL the schema planner would run, without touching a database.
    Schema(schema_cmd::SchemaArgs),
    /// Measure source, sink and end-to-end rates, delta latency and memory on emulator data.
    Bench(bench::BenchArgs),
    /// The bench's emulator in a process of its own (started by `des bench`).
    #[command(hide = true)]
    BenchEmulator(bench::EmulatorChildArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(*args).await,
            Command::Schema(args) => schema_cmd::schema(args).await,
            Command::Bench(args) => bench::bench(args).await,
            Command::BenchEmulator(args) => bench::serve_emulator(args).await,
        }
    })
}

/// Logs go to stderr so stdout stays for the user-facing lines; `RUST_LOG` overrides the
/// default, which is quiet enough not to tear progress bars.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
