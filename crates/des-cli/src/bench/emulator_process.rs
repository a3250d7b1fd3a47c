//! The bench's emulator in a process of its own. In one process with the engine, the
//! emulator's page rendering and what its allocations leave in the allocator counted as the
//! engine's memory and CPU; a deployment never has them. The child is this same program
//! (`des bench-emulator`, hidden): it prints where it listens as one JSON line, takes marked
//! updates as JSON lines on its stdin and answers each, and ends when its stdin closes, so it
//! cannot outlive the bench, even one killed with SIGKILL.

use std::collections::HashMap;
use std::process::Stdio;

use anyhow::{Context, bail};
use dataverse_emulator::{Emulator, EmulatorConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::environment::EmulatorAddress;

/// The hidden subcommand's flags: the sample data to serve.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// Rows of every entity but `--entity`.
    #[arg(long)]
    records: usize,
    #[arg(long)]
    entity: String,
    /// Rows of `--entity`.
    #[arg(long)]
    entity_records: usize,
    #[arg(long)]
    seed: u64,
}

#[derive(Serialize, Deserialize)]
struct Update {
    entity: String,
    id: Uuid,
    fields: Map<String, Value>,
}

/// The child's answer to one update: `None` when it was applied.
#[derive(Serialize, Deserialize)]
struct Answer {
    refused: Option<String>,
}

/// The child's side: serve until stdin closes.
pub async fn serve(args: ChildArgs) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        records: args.records,
        records_per_entity: HashMap::from([(args.entity, args.entity_records)]),
        seed: args.seed,
        ..Default::default()
    };
    let emulator = Emulator::start(config)
        .await
        .context("cannot start the Dataverse emulator")?;
    let mut out = tokio::io::stdout();
    write_line(&mut out, &EmulatorAddress::of(&emulator)).await?;
    let control = emulator.control();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let refused = match serde_json::from_str::<Update>(&line) {
            Ok(u) => (control.update(&u.entity, u.id, u.fields).err()).map(|e| e.to_string()),
            Err(e) => Some(format!("not an update: {e}")),
        };
        write_line(&mut out, &Answer { refused }).await?;
    }
    emulator.shutdown().await;
    Ok(())
}

async fn write_line(out: &mut tokio::io::Stdout, value: &impl Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line).await?;
    Ok(out.flush().await?)
}

/// The bench's side: the running child.
pub struct EmulatorProcess {
    /// Where the child listens: its first line on stdout.
    pub address: EmulatorAddress,
    pid: u32,
    pipes: Mutex<(ChildStdin, Lines<BufReader<ChildStdout>>)>,
    child: Child,
}

impl EmulatorProcess {
    /// Starts the child with `entity_records` rows of `entity`, `records` of the others.
    pub async fn spawn(
        records: usize,
        entity: &str,
        entity_records: usize,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let program =
            std::env::current_exe().context("cannot find this program to start the emulator")?;
        let mut child = Command::new(program)
            .arg("bench-emulator")
            .args(["--records", &records.to_string(), "--entity", entity])
            .args(["--entity-records", &entity_records.to_string()])
            .args(["--seed", &seed.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the emulator process")?;
        let pid = child.id().context("the emulator process ended at once")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("the emulator process has no pipes");
        };
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next_line()
            .await?
            .context("the emulator process ended before it listened")?;
        let address = serde_json::from_str(&first).with_context(|| {
            format!("the emulator process said {first:?}, not where it listens")
        })?;
        Ok(Self {
            address,
            pid,
            pipes: Mutex::new((stdin, lines)),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Updates a row as a Dataverse user would, and returns once the emulator has it.
    pub async fn update(
        &self,
        entity: &str,
        id: Uuid,
        fields: Map<String, Value>,
    ) -> anyhow::Result<()> {
        let update = Update {
            entity: entity.to_owned(),
            id,
            fields,
        };
        let mut line = serde_json::to_vec(&update)?;
        line.push(b'\n');
        let mut pipes = self.pipes.lock().await;
        pipes.0.write_all(&line).await?;
        pipes.0.flush().await?;
        let answer = pipes
            .1
            .next_line()
            .await?
            .context("the emulator process ended")?;
        match serde_json::from_str::<Answer>(&answer)?.refused {
            None => Ok(()),
            Some(problem) => bail!("the emulator refused an update: {problem}"),
        }
    }

    /// Closes the child's stdin, which ends it, and waits for it.
    pub async fn shutdown(self) {
        let Self {
            pipes, mut child, ..
        } = self;
        drop(pipes);
        if tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}
