//! `des bench --scenario budget`: an initial sync against the emulator's cost model and
//! service-protection limits, scaled in time so a run takes minutes, not hours.
//!
//! Profile: ten entities of `--records` rows and one (`--entity`) of `--large-factor` (20)
//! times that, as 10 × 100,000 and 2,000,000; with factor 1 all eleven alike. Two readers in the same run, each on a fresh budget:
//! - *parallel*: the engine end to end into SQLite (every stream at once, the Dataverse client
//!   pacing them against one budget);
//! - *sequential*: one stream and one page at a time through the same client, reading only
//!   (no target), so its time is a floor for a one-at-a-time sync and the speedup is not
//!   flattered.

mod figures;
mod users;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dataverse_emulator::{CostModel, ServiceLimits, UserUsage};
use des_core::EntityMetadata;
use des_core::ports::Source;

use super::place::Place;
use super::throughput::{Pages, select_list};
use crate::catalog::Catalog;
use crate::config::SourceSettings;
use crate::environment::{EmulatorOptions, Environment};
use crate::replication::{self, LocalStores};
use figures::{Budget, BudgetReport, EntityRows, RunFigures};

/// The service's page cost: 1 s per request plus 0.2 ms per row.
const PAGE_BASE: Duration = Duration::from_secs(1);
const PAGE_PER_ROW: Duration = Duration::from_micros(200);
/// Dataverse's largest page.
const PAGE_ROWS: u64 = 5000;
/// Entities besides the large one.
const SMALL_ENTITIES: usize = 10;
/// The engine's poll interval at full scale. A caught-up stream reads its delta once per
/// interval, and every request costs at least the page base: at 1 s (`des run`'s default)
/// nine caught-up streams would spend more execution time on empty deltas than the budget
/// gives (4 s per s), so the scenario polls as a bulk sync would.
const POLL_INTERVAL: Duration = Duration::from_secs(30);

/// What the scenario needs from `des bench`'s flags.
pub struct BudgetArgs<'a> {
    pub records: usize,
    pub large_entity: &'a str,
    /// How many times `records` the large entity has.
    pub large_factor: usize,
    pub time_scale: f64,
    /// App users of the third reader (the parallel one through several budgets); 1: none.
    pub app_users: usize,
}

pub async fn run(args: &BudgetArgs<'_>) -> anyhow::Result<BudgetReport> {
    if !(args.time_scale > 0.0 && args.time_scale <= 1.0) {
        bail!("--time-scale must be in (0, 1]");
    }
    if args.large_factor == 0 {
        bail!("--large-factor must be at least 1");
    }
    // Some tables have a natural size (one business unit, three roles): every table of the
    // profile gets its size by name, so a first emulator only names the tables.
    let names = {
        let env = start(args.records, HashMap::new()).await?;
        let names = profile_entities(env.client.as_ref(), args.large_entity).await;
        env.shutdown().await;
        names?
    };
    let mut sizes: HashMap<String, usize> =
        names.iter().map(|n| (n.clone(), args.records)).collect();
    sizes.insert(
        args.large_entity.to_owned(),
        args.records.saturating_mul(args.large_factor),
    );
    let env = start(args.records, sizes).await?;
    let result = measure(args, &env, &names).await;
    env.shutdown().await;
    result
}

async fn start(records: usize, sizes: HashMap<String, usize>) -> anyhow::Result<Environment> {
    let settings = SourceSettings::Emulator { records, port: 0 };
    let options = EmulatorOptions {
        state_file: None,
        seed: Some(1),
        records_per_entity: sizes,
    };
    Environment::connect(&settings, options).await
}

async fn measure(
    args: &BudgetArgs<'_>,
    env: &Environment,
    names: &[String],
) -> anyhow::Result<BudgetReport> {
    let Some(emulator) = &env.emulator else {
        bail!("the budget scenario needs the built-in emulator")
    };
    let catalog = Catalog::load(env.client.as_ref(), names).await?;
    let catalog = Catalog {
        relationships: Vec::new(),
        ..catalog
    };
    let control = emulator.control();
    let cost = CostModel {
        base: PAGE_BASE.mul_f64(args.time_scale),
        per_row: PAGE_PER_ROW.mul_f64(args.time_scale),
    };
    let limits = scaled_limits(args.time_scale);
    let budget = Budget {
        execution_secs: limits.execution.as_secs_f64(),
        window_secs: limits.window.as_secs_f64(),
        requests: limits.requests,
        concurrent: limits.concurrent,
    };
    control.limits().set(limits);
    control.cost().set(cost);
    let load_before = super::api::load_average();
    eprintln!("des bench: budget scenario, parallel reader (engine end to end)...");
    control.limits().reset();
    let mut parallel = parallel_run(env, &catalog, args.time_scale).await?;
    add_usage(&mut parallel, &control.limits().usage());
    eprintln!("des bench: budget scenario, sequential reader...");
    control.limits().reset();
    let (mut sequential, entities) = sequential_run(env.client.as_ref(), &catalog).await?;
    add_usage(&mut sequential, &control.limits().usage());
    let several = if args.app_users > 1 {
        eprintln!(
            "des bench: budget scenario, parallel reader through {} app users...",
            args.app_users
        );
        let env_n = users::environment(env, emulator, args.app_users)?;
        control.limits().reset();
        let mut run = parallel_run(&env_n, &catalog, args.time_scale).await?;
        add_usage(&mut run, &control.limits().usage());
        Some(run)
    } else {
        None
    };
    control.cost().set(CostModel::default());
    if let Some(run) = several.as_ref().filter(|r| r.records != sequential.records) {
        bail!(
            "the reader of several app users applied {} records; the source has {}",
            run.records,
            sequential.records
        );
    }
    if parallel.records != sequential.records {
        bail!(
            "the parallel reader applied {} records; the source has {}",
            parallel.records,
            sequential.records
        );
    }
    let mut report = assemble(args, cost, budget, entities, parallel, sequential);
    if let Some(mut run) = several {
        let together = users::budget_of(budget, args.app_users);
        let bound = together
            .least_time(report.model_execution_secs)
            .max(report.stream_bound_secs);
        run.finish(&together, bound);
        report.several_users = Some(figures::SeveralUsers {
            app_users: args.app_users,
            bound_secs: bound,
            speedup_over_one_user: report.parallel.wall_secs / run.wall_secs.max(f64::MIN_POSITIVE),
            run,
        });
    }
    Ok(BudgetReport {
        load_before,
        load_after: super::api::load_average(),
        ..report
    })
}

/// The service's limits with every duration scaled (request and concurrency counts kept).
fn scaled_limits(scale: f64) -> ServiceLimits {
    let service = ServiceLimits::default();
    ServiceLimits {
        enabled: true,
        execution: service.execution.mul_f64(scale),
        window: service.window.mul_f64(scale),
        ..service
    }
}

/// The large entity and the first ten other exportable entities by name.
async fn profile_entities(source: &dyn Source, large: &str) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = source
        .entities()
        .await?
        .into_iter()
        .filter(|e| e.change_tracking_enabled && !e.is_intersect && e.logical_name != large)
        .map(|e| e.logical_name)
        .collect();
    names.sort();
    names.truncate(SMALL_ENTITIES);
    names.insert(0, large.to_owned());
    Ok(names)
}

async fn parallel_run(
    env: &Environment,
    catalog: &Catalog,
    time_scale: f64,
) -> anyhow::Result<RunFigures> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let place = Place::new(None, dir.path())?;
    let phase = place.phase("budget");
    let stores = LocalStores::open(&dir.path().join("engine")).await?;
    let ports = stores.ports(env.source(), phase.target.open()?);
    let profile = super::bench_profile(env, catalog, &phase)?;
    let started = Instant::now();
    replication::create_and_activate(&ports, profile, false).await?;
    let handle = replication::start(ports, POLL_INTERVAL.mul_f64(time_scale));
    // A stream that waits for its operator is said on stderr as it happens.
    let mut faults = super::report::Faults::default();
    let applied = super::wait_for_initial_sync(&handle, &stores, &mut faults).await;
    let wall_secs = started.elapsed().as_secs_f64();
    handle.shutdown().await;
    Ok(RunFigures {
        wall_secs,
        records: applied?,
        ..RunFigures::default()
    })
}

/// Every entity read one page at a time, one entity after the other.
async fn sequential_run(
    source: &dyn Source,
    catalog: &Catalog,
) -> anyhow::Result<(RunFigures, Vec<EntityRows>)> {
    let started = Instant::now();
    let mut entities = Vec::new();
    for meta in &catalog.entities {
        entities.push(read_all(source, meta).await?);
    }
    let figures = RunFigures {
        wall_secs: started.elapsed().as_secs_f64(),
        records: entities.iter().map(|e| e.records).sum(),
        ..RunFigures::default()
    };
    Ok((figures, entities))
}

async fn read_all(source: &dyn Source, meta: &EntityMetadata) -> anyhow::Result<EntityRows> {
    let mut pages = Pages::new(source, meta, select_list(meta, true));
    let (mut records, mut count) = (0u64, 0u64);
    while let Some(page) = pages.next().await? {
        records += page.changes.len() as u64;
        count += 1;
    }
    Ok(EntityRows {
        entity: meta.logical_name.clone(),
        records,
        pages: count,
    })
}

/// The emulator's totals for the run, every app user added up.
fn add_usage(run: &mut RunFigures, users: &[UserUsage]) {
    for u in users {
        run.requests += u.total_requests;
        run.throttled += u.throttled;
        run.execution_secs += u.total_execution_secs;
        run.peak_in_flight = run.peak_in_flight.max(u.peak_in_flight);
    }
}

fn assemble(
    args: &BudgetArgs<'_>,
    cost: CostModel,
    budget: Budget,
    entities: Vec<EntityRows>,
    mut parallel: RunFigures,
    mut sequential: RunFigures,
) -> BudgetReport {
    let work_of = |e: &EntityRows| {
        // An empty table still answers one (empty) page.
        let pages = e.pages.max(e.records.div_ceil(PAGE_ROWS)).max(1) as f64;
        pages * cost.base.as_secs_f64() + e.records as f64 * cost.per_row.as_secs_f64()
    };
    let model_execution_secs: f64 = entities.iter().map(work_of).sum();
    let stream_bound_secs = entities.iter().map(work_of).fold(0.0, f64::max);
    let budget_bound_secs = budget.least_time(model_execution_secs);
    let bound_secs = budget_bound_secs.max(stream_bound_secs);
    parallel.finish(&budget, bound_secs);
    sequential.finish(&budget, bound_secs);
    BudgetReport {
        scenario: "budget",
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        time_scale: args.time_scale,
        large_factor: args.large_factor,
        page_cost_base_ms: cost.base.as_secs_f64() * 1e3,
        page_cost_per_row_us: cost.per_row.as_secs_f64() * 1e6,
        budget,
        entities,
        model_execution_secs,
        budget_bound_secs,
        stream_bound_secs,
        bound_secs,
        budget_share: parallel.budget_share,
        ratio_to_budget_bound: parallel.ratio_to_budget_bound,
        speedup_over_sequential: sequential.wall_secs / parallel.wall_secs.max(f64::MIN_POSITIVE),
        parallel,
        sequential,
        several_users: None,
        load_before: String::new(),
        load_after: String::new(),
    }
}
