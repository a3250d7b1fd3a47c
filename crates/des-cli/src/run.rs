//! `des run`: replicate until Ctrl-C or SIGTERM, resuming from checkpoints on the next run.
//!
//! One process runs the poller, the applier and the DES API (`src/api.rs`) over the same
//! control store and engine ports; the API stops first on the way out, then the engine.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use dataverse_emulator::Emulator;
use des_api::OrgClients;
use des_core::ports::Organization;
use des_core::profile::Profile;
use des_engine::{CachedSinks, EnginePorts, RuntimeHandle};
use tokio::sync::watch;

use crate::api::{ApiArgs, ApiParts};
use crate::catalog::Catalog;
use crate::config::{
    ConfigFile, ExportTables, ExportTablesArgs, SourceArgs, SourceSettings, resolve_target,
};
use crate::environment::{EmulatorOptions, Environment, emulator_banner, emulator_port};
use crate::patience::{Stopped, patiently};
use crate::profile::RUN_PROFILE_NAME;
use crate::progress::Display;
use crate::replication::{self, LocalStores};
use crate::target::Target;
use crate::target_watch::TargetWatch;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    tables: ExportTablesArgs,
    /// Where rows go: sqlite:<path>, postgres://... or mssql:<ADO.NET connection string>;
    /// prefer DES_TARGET for one with a password. Default: sqlite:<data-dir>/export.db.
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
    /// Folder of the control store, work queue, failure log and emulator state.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Random creates, updates and deletes per second in the built-in emulator.
    #[arg(long)]
    changes_per_sec: Option<f64>,
    /// Port of the built-in emulator; default: the previous run's, so saved links stay valid.
    #[arg(long)]
    port: Option<u16>,
    /// Seconds between two reads of the source's changes.
    #[arg(long, default_value_t = 1.0)]
    poll_interval: f64,
    /// Seconds between status lines when stdout is not a terminal.
    #[arg(long, default_value_t = 10.0)]
    status_every: f64,
}

/// Everything `run` resolved from flags, the config file and defaults.
struct RunSetup {
    settings: SourceSettings,
    tables: ExportTables,
    target: Target,
    data_dir: PathBuf,
    changes_per_sec: Option<f64>,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let stop = crate::shutdown::listen();
    let setup = resolve(&args)?;
    crate::data_folder::private_from_now_on();
    crate::data_folder::prepare(&setup.data_dir)?;
    // Held until this function returns (or the process dies): one run per data folder.
    let _lock = crate::folder_lock::lock(&setup.data_dir)?;
    crate::target_check::refuse_non_target(&setup.target, &setup.data_dir)?;
    setup.target.connect().await?;
    let stores = LocalStores::open(&setup.data_dir).await?;
    let state_file = Some(setup.data_dir.join("emulator.json"));
    let options = EmulatorOptions {
        state_file,
        ..Default::default()
    };
    let env = Environment::connect(&setup.settings, options).await?;
    if let Some(emulator) = &env.emulator {
        remember_port(&setup.data_dir, emulator);
        println!("{}", emulator_banner(emulator));
    }
    let result = replicate(&args, &setup, &env, &stores, stop).await;
    env.shutdown().await;
    match result {
        Err(error) if error.is::<Stopped>() => {
            println!("stopped during start-up");
            Ok(())
        }
        other => other,
    }
}

fn resolve(args: &RunArgs) -> anyhow::Result<RunSetup> {
    let file = ConfigFile::load(args.source.config.as_deref())?;
    let data_dir = args.data_dir.clone().or_else(|| file.data_dir.clone());
    let data_dir = data_dir.unwrap_or_else(|| "des-data".into());
    let mut settings = SourceSettings::resolve(&args.source, &file, 1000)?;
    if let SourceSettings::Emulator { port, .. } = &mut settings {
        let saved = || saved_port(&data_dir);
        *port = args.port.or(file.port).or_else(saved).unwrap_or(0);
    }
    let changes_per_sec = args
        .changes_per_sec
        .or(file.changes_per_sec)
        .filter(|r| *r > 0.0);
    if changes_per_sec.is_some() && !matches!(settings, SourceSettings::Emulator { .. }) {
        anyhow::bail!("--changes-per-sec only works with the built-in emulator");
    }
    let target = resolve_target(args.target.as_deref(), &file, &data_dir)?;
    let tables = ExportTables::resolve(&args.tables, &file);
    Ok(RunSetup {
        settings,
        tables,
        target,
        data_dir,
        changes_per_sec,
    })
}

async fn replicate(
    args: &RunArgs,
    setup: &RunSetup,
    env: &Environment,
    stores: &LocalStores,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let org = crate::organization::register(stores, &setup.settings, env, &stop).await?;
    let clients =
        Arc::new(OrgClients::new().with_client(org.organization_id, Arc::clone(&env.client)));
    let secrets = Arc::new(crate::organization::secrets(&setup.data_dir, &setup.target));
    let factory = Box::new(crate::target::open_sink);
    let sinks = Arc::new(CachedSinks::new(Arc::clone(&secrets) as _, factory));
    let ports = stores.ports_with(Arc::clone(&clients) as _, sinks);
    let (profile, resumed) = prepare_profile(setup, env, stores, &ports, &org, &stop).await?;
    replication::check_targets(&ports).await?;
    let api = crate::api::start(
        &args.api,
        ApiParts {
            ports: ports.clone(),
            secrets,
            clients,
            emulator: env.emulator.as_ref(),
            org: &org,
            data_dir: &setup.data_dir,
            authority: &env.authority,
        },
    )
    .await?;
    if let Some(server) = &api {
        println!(
            "{}",
            crate::api::banner(server, &args.api, env.emulator.as_ref(), &org)
        );
    }
    let verb = if resumed { "resuming" } else { "starting" };
    let entities: Vec<&str> = profile.entity_names().collect();
    println!(
        "{verb} export of {} to {} (profile {})",
        entities.join(", "),
        setup.target,
        profile.id
    );
    let poll_interval = Duration::from_secs_f64(args.poll_interval.max(0.05));
    let replicating_since = std::time::Instant::now();
    let handle = replication::start(ports, poll_interval);
    let generator = setup
        .changes_per_sec
        .zip(env.emulator.as_ref())
        .map(|(rate, emulator)| {
            println!("generating {rate} changes/s in the emulator");
            tokio::spawn(crate::changes::generate(
                emulator.control(),
                rate,
                7,
                stop.clone(),
            ))
        });
    let totals = match (&env.emulator, &setup.settings) {
        (Some(emulator), SourceSettings::Emulator { records, .. }) if *records <= MAX_COUNTED => {
            emulator_totals(emulator, &entities)
        }
        _ => HashMap::new(),
    };
    let every = Duration::from_secs_f64(args.status_every.max(0.1));
    let tty = std::io::stdout().is_terminal();
    let display = Display::new(tty, every, resumed, replicating_since);
    let target = crate::target_watch::TargetWatch::new(&setup.target);
    watch_until_stopped(&handle, stores, &totals, (display, target), stop).await;
    if let Some(generator) = generator {
        println!("generated {} changes", generator.await.unwrap_or_default());
    }
    if let Some(server) = api {
        server.shutdown().await;
    }
    handle.shutdown().await;
    println!("stopped cleanly; run again to resume");
    Ok(())
}

/// The stored profile of `des run` (checked against this run's target), or a new one;
/// stored and activated either way. True when it was stored already.
async fn prepare_profile(
    setup: &RunSetup,
    env: &Environment,
    stores: &LocalStores,
    ports: &EnginePorts,
    org: &Organization,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<(Profile, bool)> {
    let (profile, resumed) = match stores.find_profile(RUN_PROFILE_NAME).await? {
        Some(profile) => (profile, true),
        None => {
            let reading = || new_profile(setup, env, org);
            (patiently("reading metadata", stop, reading).await?, false)
        }
    };
    if resumed && profile.destination_type != setup.target.destination_type() {
        bail!(
            "the profile in {} exports to a {:?} target, not to {}; use another --data-dir",
            setup.data_dir.display(),
            profile.destination_type,
            setup.target
        );
    }
    let profile = if resumed {
        profile
    } else {
        replication::create(ports, profile).await?
    };
    // Activation reads the relationships from the source: as patient as the rest.
    let activating = || replication::activate(ports, &profile);
    patiently("activating the profile", stop, activating).await?;
    if resumed && setup.tables.differs_from(&profile) {
        let dir = setup.data_dir.display();
        println!(
            "note: resuming the stored profile; a different layout needs a new data folder, not {dir}"
        );
    }
    Ok((profile, resumed))
}

/// Builds the profile of every exported entity for the registered organization.
async fn new_profile(
    setup: &RunSetup,
    env: &Environment,
    org: &Organization,
) -> anyhow::Result<Profile> {
    let catalog = Catalog::load(env.client.as_ref(), &setup.tables.entities).await?;
    let (tables, target) = (&setup.tables, &setup.target);
    let profile = crate::profile::build(
        RUN_PROFILE_NAME,
        org.organization_id,
        &env.org_url,
        tables,
        &catalog,
        target,
    )?;
    Ok(profile)
}

/// Refreshes the display every half second until Ctrl-C or SIGTERM, and says when the target
/// file was deleted or replaced.
async fn watch_until_stopped(
    handle: &RuntimeHandle,
    stores: &LocalStores,
    totals: &HashMap<String, u64>,
    (mut display, mut target): (Display, Option<TargetWatch>),
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    while !*stop.borrow() {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => display.update(&replication::snapshot(handle, stores, totals).await),
        }
        if let Some(warning) = target.as_mut().and_then(TargetWatch::check) {
            println!("{warning}");
        }
    }
    display.update(&replication::snapshot(handle, stores, totals).await);
    display.finish();
    println!("stopping...");
}

/// Above this many sample records per entity the bars go without totals: counting renders
/// every emulator row.
const MAX_COUNTED: usize = 50_000;

/// Row counts for the progress bars, from the emulator's rows. On a real environment (whose
/// `$count` stops at 5000) the bars grow with what was read instead.
fn emulator_totals(emulator: &Emulator, entities: &[&str]) -> HashMap<String, u64> {
    let control = emulator.control();
    let count = |entity: &&str| ((*entity).to_owned(), control.rows(entity).len() as u64);
    entities.iter().map(count).collect()
}

fn port_file(data_dir: &Path) -> PathBuf {
    data_dir.join("emulator.port")
}

fn saved_port(data_dir: &Path) -> Option<u16> {
    std::fs::read_to_string(port_file(data_dir))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Saved links (nextLink, deltaLink) carry the emulator's address, so the next run reuses it.
fn remember_port(data_dir: &Path, emulator: &Emulator) {
    let Some(port) = emulator_port(emulator) else {
        return;
    };
    if let Err(error) = std::fs::write(port_file(data_dir), port.to_string()) {
        tracing::warn!(%error, "Cannot save the emulator port.");
    }
}
