//! `des-applier`: the `applier` function app's custom handler (shipped as `handler`).
//!
//! - no arguments: serve the host (`POST /apply`);
//! - `replay-poison [--max N]`: move messages from `des-apply-poison` back to `des-apply`
//!   (an operator command, run where the `AzureWebJobsStorage` settings are set).

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => des_handlers::apps::run_applier().await?,
        Some("replay-poison") => replay(&args[1..]).await?,
        Some(other) => {
            bail!("unknown command {other:?}; usage: des-applier [replay-poison [--max N]]")
        }
    }
    Ok(())
}

async fn replay(args: &[String]) -> anyhow::Result<()> {
    let limit = match args {
        [] => None,
        [flag, n] if flag == "--max" => Some(n.parse().context("--max takes a number")?),
        _ => bail!("usage: des-applier replay-poison [--max N]"),
    };
    let account = des_azure::StorageAccount::from_env().context("storage settings")?;
    let moved = des_handlers::poison::replay_poison(&account, limit).await?;
    eprintln!("moved {moved} message(s) from des-apply-poison to des-apply");
    Ok(())
}
