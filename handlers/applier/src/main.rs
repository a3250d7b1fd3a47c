//! `des-applier`: the `applier` function app's custom handler (shipped as `handler`).
//!
//! - no arguments: serve the host (`POST /apply`);
//! - `replay-poison [--max N]`: move messages from `des-apply-poison` back to `des-apply`
//!   (an operator command, run where the `AzureWebJobsStorage` settings are set).

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "des-applier",
    version,
    about = "The DES applier's Azure Functions custom handler; with no command, serves the host"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Move messages from des-apply-poison back to des-apply (run where the
    /// AzureWebJobsStorage settings are set).
    ReplayPoison {
        /// Move at most N messages (all of them without it).
        #[arg(long, value_name = "N")]
        max: Option<usize>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        None => des_handlers::apps::run_applier().await?,
        Some(Command::ReplayPoison { max }) => replay(max).await?,
    }
    Ok(())
}

async fn replay(limit: Option<usize>) -> anyhow::Result<()> {
    let account = des_azure::StorageAccount::from_env().context("storage settings")?;
    let moved = des_handlers::poison::replay_poison(&account, limit).await?;
    eprintln!("moved {moved} message(s) from des-apply-poison to des-apply");
    Ok(())
}
