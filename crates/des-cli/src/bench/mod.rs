//! `des bench`: one run on emulator data (the emulator in a process of its own) measures the
//! engine end to end, delta latency under a steady change stream, the source alone, the sink
//! alone, and peak memory, against fresh SQLite files (default) or fresh schemas on a
//! PostgreSQL or SQL Server database (`--target postgres://...` or `--target
//! mssql:<connection string>`), each read back by a plain client of its own for the
//! end-to-end check and the latency probe.

mod api;
mod budget;
mod dialect;
mod emulator_process;
mod faults;
mod latency;
mod place;
mod reader;
mod report;
mod throughput;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dataverse_emulator::EmulatorConfig;
use des_core::Secret;
use des_core::ports::Sink;
use des_core::schema::SchemaPlan;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::config::{ExportTables, target_spec};
use crate::cpu::CpuTimes;
use crate::environment::Environment;
use crate::memory;
use crate::replication::{self, LocalStores};
use crate::target::Target;
use emulator_process::EmulatorProcess;
pub use emulator_process::{ChildArgs as EmulatorChildArgs, serve as serve_emulator};
use place::{Phase, Place};
use reader::Reader;
use report::{Rate, Report};

/// Rows of every entity but the measured one.
const OTHER_ENTITY_RECORDS: usize = 10;
/// The engine's poll interval while latency is measured.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// Records of the measured entity in the emulator.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// The entity to read, write and replicate.
    #[arg(long, default_value = "account")]
    entity: String,
    /// Marked updates per second during the latency measurement.
    #[arg(long, default_value_t = 50.0)]
    changes_per_sec: f64,
    /// How long to measure delta latency.
    #[arg(long, default_value_t = 10.0)]
    delta_seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// `budget`: an initial sync of 10 entities × --records and --entity × --large-factor on
    /// the emulator's cost model and service-protection limits, parallel against one page at
    /// a time (README: "des bench --scenario budget").
    #[arg(long, value_enum)]
    scenario: Option<Scenario>,
    /// The budget scenario's time scale: page cost, window and execution budget times this.
    #[arg(long, default_value_t = 0.1)]
    time_scale: f64,
    /// The budget scenario's large entity has this many times --records rows (1: every
    /// entity alike, so no one entity's chain of pages bounds the profile).
    #[arg(long, default_value_t = 20)]
    large_factor: usize,
    /// The budget scenario also reads through this many app users (each its own budget) and
    /// prints it beside the one-user reader (1: not).
    #[arg(long, default_value_t = 1)]
    app_users: usize,
    /// A server to measure (or DES_TARGET): postgres://... or mssql:<ADO.NET connection
    /// string>. Each phase writes to a fresh schema in its database, dropped at the end.
    /// Default: SQLite files in a temp folder.
    #[arg(long)]
    target: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Scenario {
    Budget,
}

/// Benches other than the engine's.
#[derive(Debug, clap::Subcommand)]
enum BenchWhat {
    /// The DES API under load: requests/s, p50/p99 and errors for creates and reads.
    Api(api::ApiBenchArgs),
}

pub async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(BenchWhat::Api(api_args)) = args.what {
        return api::bench(api_args).await;
    }
    if let Some(Scenario::Budget) = args.scenario {
        return budget_scenario(&args).await;
    }
    if args.changes_per_sec <= 0.0 || args.delta_seconds <= 0.0 {
        bail!("--changes-per-sec and --delta-seconds must be positive");
    }
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let target = target_spec(args.target.as_deref())
        .map(|spec| spec.parse::<Target>())
        .transpose()?;
    let place = Place::new(target, dir.path())?;
    place.reach().await?;
    let server_cpu_counted = place.count_server_cpu().await;
    let load_before = api::load_average();
    let source = Emulated::start(&args).await?;
    let result = measure(&args, &source, &place, dir.path()).await;
    let emulator_peak_rss_bytes = source.peak_rss_bytes();
    source.process.shutdown().await;
    let report = Report {
        server_cpu_counted,
        load_before,
        load_after: api::load_average(),
        emulator_peak_rss_bytes,
        ..result?
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// The source: the emulator in a process of its own (counted in the measured CPU, its memory
/// reported apart) and a client of it.
struct Emulated {
    env: Environment,
    process: EmulatorProcess,
}

impl Emulated {
    async fn start(args: &BenchArgs) -> anyhow::Result<Self> {
        // Only the measured entity is large; the others keep a token size.
        let process =
            EmulatorProcess::spawn(OTHER_ENTITY_RECORDS, &args.entity, args.records, 1).await?;
        crate::cpu::count_tree(process.pid());
        let secret = Secret::new(EmulatorConfig::default().client_secret);
        let env = Environment::at_emulator(process.address.clone(), secret)?;
        Ok(Self { env, process })
    }

    fn peak_rss_bytes(&self) -> Option<u64> {
        memory::peak_rss_bytes_of(&self.process.pid().to_string())
    }
}

async fn budget_scenario(args: &BenchArgs) -> anyhow::Result<()> {
    let budget_args = budget::BudgetArgs {
        records: args.records,
        large_entity: &args.entity,
        large_factor: args.large_factor,
        time_scale: args.time_scale,
        app_users: args.app_users.max(1),
    };
    let report = budget::run(&budget_args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

async fn measure(
    args: &BenchArgs,
    source: &Emulated,
    place: &Place,
    dir: &Path,
) -> anyhow::Result<Report> {
    let env = &source.env;
    let catalog = Catalog::load(env.client.as_ref(), std::slice::from_ref(&args.entity)).await?;
    let catalog = Catalog {
        relationships: Vec::new(),
        ..catalog
    };
    let meta = &catalog.entities[0];
    let mut report = Report {
        entity: args.entity.clone(),
        target: place.label().to_owned(),
        ..Default::default()
    };
    // Phases of a large run take minutes; say where it is, on stderr so --json stays clean.
    let progress = |phase: &str| eprintln!("des bench: {phase}...");
    report.records = args.records as u64;
    // End to end first, in a process that has done nothing else yet, as `des run` starts:
    // what the other phases leave in the allocator would otherwise count in its peak.
    progress("end to end");
    let (sink_phase, e2e_phase) = (place.phase("sink"), place.phase("e2e"));
    let result = async {
        let e2e_dir = dir.join("e2e");
        end_to_end(
            args,
            source,
            &catalog,
            place,
            &e2e_phase,
            &e2e_dir,
            &mut report,
        )
        .await?;
        source_phases(env, meta, &mut report, progress).await?;
        progress("sink write");
        let plan = plan_for(env, &catalog, &sink_phase)?;
        let sink = sink_phase.target.open()?;
        report.sink_write =
            throughput::sink_write(env.client.as_ref(), sink.as_ref(), &plan, meta).await?;
        anyhow::Ok(())
    }
    .await;
    place.clean_up(&[&sink_phase, &e2e_phase]).await;
    result?;
    report.finish_ratio();
    report.finish_peak(memory::peak_rss_bytes());
    report.finish_cpu_ceiling(crate::cpu::cores());
    Ok(report)
}

/// The same full read without, then with the lookup names (formatted values asked for):
/// what the names cost in bytes and time. The second is what the engine reads.
async fn source_phases(
    env: &Environment,
    meta: &des_core::metadata::EntityMetadata,
    report: &mut Report,
    progress: impl Fn(&str),
) -> anyhow::Result<()> {
    let client = env.client.as_ref();
    progress("source read without lookup names");
    let (rate, bytes) = throughput::source_read(client, meta, false).await?;
    (
        report.source_read_without_names,
        report.page_bytes_without_names,
    ) = (rate, bytes);
    progress("source read");
    (report.source_read, report.page_bytes) = throughput::source_read(client, meta, true).await?;
    if report.source_read.records != report.records {
        bail!(
            "the source read {} records; the emulator holds {}",
            report.source_read.records,
            report.records
        );
    }
    Ok(())
}

fn plan_for(env: &Environment, catalog: &Catalog, phase: &Phase) -> anyhow::Result<SchemaPlan> {
    Ok(catalog.plan(&bench_profile(env, catalog, phase)?))
}

fn bench_profile(
    env: &Environment,
    catalog: &Catalog,
    phase: &Phase,
) -> anyhow::Result<des_core::profile::Profile> {
    let tables = ExportTables {
        entities: catalog.entity_names(),
        prefix: String::new(),
        schema: phase.schema.clone(),
        delete_log: false,
    };
    crate::profile::build(
        "des bench",
        Uuid::new_v4(),
        &env.org_url,
        &tables,
        catalog,
        &phase.target,
    )
}

/// Initial sync through the real engine, then delta latency on the same running engine.
async fn end_to_end(
    args: &BenchArgs,
    source: &Emulated,
    catalog: &Catalog,
    place: &Place,
    phase: &Phase,
    dir: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let env = &source.env;
    let stores = LocalStores::open(dir).await?;
    let sink: Arc<dyn Sink> = phase.target.open()?;
    let ports = stores.ports(env.source(), sink);
    let profile = bench_profile(env, catalog, phase)?;
    let table = place.table_sql(&catalog.plan(&profile), &catalog.entities[0].logical_name)?;
    memory::reset_peak();
    let cpu_before = CpuTimes::now();
    let started = Instant::now();
    replication::create_and_activate(&ports, profile, false).await?;
    let handle = replication::start(ports, POLL_INTERVAL);
    let applied = wait_for_initial_sync(&handle, &stores, &mut report.faults).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(CpuTimes::now()).map(|(b, a)| a.since(b));
    report.end_to_end = Rate::new(applied, seconds, memory::peak_rss_bytes()).with_cpu(cpu);
    let result = async {
        let reader = place.reader(phase).await?;
        let in_target = reader.count(&table).await?;
        if in_target != report.records {
            bail!(
                "the initial sync left {in_target} rows in the target; the source has {}",
                report.records
            );
        }
        let dialect = place.dialect();
        delta_latency(args, &source.process, catalog, &reader, &table, dialect).await
    }
    .await;
    let last = replication::snapshot(&handle, &stores, &HashMap::new()).await;
    note_faults(&last, &mut report.faults);
    report.faults.failures = last.failed();
    handle.shutdown().await;
    report.delta_latency = result?;
    report.delta_latency.poll_interval_ms = POLL_INTERVAL.as_millis() as u64;
    Ok(())
}

async fn wait_for_initial_sync(
    handle: &des_engine::RuntimeHandle,
    stores: &LocalStores,
    faults: &mut report::Faults,
) -> anyhow::Result<u64> {
    loop {
        let snap = replication::snapshot(handle, stores, &HashMap::new()).await;
        note_faults(&snap, faults);
        if snap.initial_sync_done() {
            return Ok(snap.applied());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A stream that waits for its operator would otherwise look like a slow bench: say why,
/// as it happens, and keep it for the report.
fn note_faults(snap: &crate::status::Snapshot, faults: &mut report::Faults) {
    for repair in &snap.repairs {
        eprintln!("des bench: target check: {repair}");
        faults.repairs.push(repair.clone());
    }
    for stream in &snap.streams {
        if let Some(hint) = &stream.hint
            && faults.note_wait(&stream.name, hint)
        {
            eprintln!("des bench: {} waits: {hint}", stream.name);
        }
    }
}

async fn delta_latency(
    args: &BenchArgs,
    emulator: &EmulatorProcess,
    catalog: &Catalog,
    reader: &Reader,
    table: &str,
    dialect: dialect::Dialect,
) -> anyhow::Result<report::Latency> {
    let meta = &catalog.entities[0];
    let Some(marked) = meta.primary_name_attribute.as_deref() else {
        bail!(
            "{} has no primary name attribute to mark",
            meta.logical_name
        );
    };
    let column_sql = dialect.quote(marked);
    let probe = latency::Probe {
        reader,
        table,
        marked_column: &column_sql,
        entity: &meta.logical_name,
        marked_attribute: marked,
    };
    let duration = Duration::from_secs_f64(args.delta_seconds);
    latency::measure(emulator, &probe, args.changes_per_sec, duration).await
}
