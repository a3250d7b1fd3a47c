//! `des bench api`: the DES API under load, over real HTTP on loopback, as `des run` serves
//! it (the emulator as Dataverse and token issuer, the local control store in a temp folder).
//!
//! Creates `--profiles` profiles through the API with `--clients` concurrent clients, gives
//! each entity counters, then, `--runs` times: reads of one profile with its status, a page
//! of 50 with status, and the whole list with status, each with `--clients` clients for
//! `--seconds`. Then reads at a fixed 100 requests/s while counting the admin checks that
//! reach Dataverse. Prints requests/s, p50/p99 and errors per phase, the spread over the
//! runs, and the machine's load average before and after.

mod checks;
mod http;
mod load;
mod report;

pub(super) use report::load_average;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::http::{Method, StatusCode};
use des_api::{ApiSettings, ApiState, AuthSettings, Authenticator, LinkKey, OrgClients};
use des_core::ports::ControlStore as _;
use des_core::sync::StatsDelta;
use serde_json::json;
use uuid::Uuid;

use crate::api::{DEFAULT_AUDIENCE, SAMPLE_ADMIN_OID};
use crate::config::SourceSettings;
use crate::environment::{EmulatorOptions, Environment};
use crate::replication::LocalStores;
use checks::CountingChecker;
use load::Request;
use report::Report;

#[derive(Debug, clap::Args)]
pub struct ApiBenchArgs {
    /// Profiles created (and then read) through the API.
    #[arg(long, default_value_t = 500)]
    profiles: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds per read phase.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// How many times the read phases run (the spread is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The API under test and what calls it.
struct ApiUnderTest {
    org_query: String,
    http: Arc<http::Http>,
    checks: Arc<CountingChecker>,
}

pub async fn bench(args: ApiBenchArgs) -> anyhow::Result<()> {
    if args.profiles == 0 || args.clients == 0 || args.runs == 0 || args.seconds <= 0.0 {
        bail!("--profiles, --clients, --runs and --seconds must be positive");
    }
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let settings = SourceSettings::Emulator {
        records: 10,
        port: 0,
    };
    let env = Environment::connect(&settings, EmulatorOptions::default()).await?;
    let stores = LocalStores::open(dir.path()).await?;
    let result = measure(&args, &env, &stores, &settings, dir.path()).await;
    env.shutdown().await;
    let report = result?;
    match args.json {
        true => println!("{}", serde_json::to_string(&report)?),
        false => print!("{}", report.to_table()),
    }
    Ok(())
}

async fn measure(
    args: &ApiBenchArgs,
    env: &Environment,
    stores: &LocalStores,
    settings: &SourceSettings,
    dir: &std::path::Path,
) -> anyhow::Result<Report> {
    let load_before = report::load_average();
    let (under_test, stop) = start(env, stores, settings, dir).await?;
    eprintln!("des bench api: creating {} profiles...", args.profiles);
    let create = load::closed(
        args.clients,
        Some(args.profiles),
        Duration::MAX,
        creates(&under_test),
    )
    .await;
    let ids = profile_ids(&under_test).await?;
    give_counters(stores, &ids).await?;
    let mut report = Report::new(args.profiles, args.clients, create, load_before);
    let seconds = Duration::from_secs_f64(args.seconds);
    for run in 1..=args.runs {
        eprintln!("des bench api: read phases, run {run} of {}...", args.runs);
        let one = load::closed(args.clients, None, seconds, read_one(&under_test, &ids)).await;
        let page = load::closed(args.clients, None, seconds, read_page(&under_test)).await;
        let all = load::closed(args.clients, None, seconds, read_all(&under_test)).await;
        report.runs.push([one, page, all]);
    }
    eprintln!("des bench api: 100 reads/s, counting admin checks...");
    let before = under_test.checks.count();
    let rate = Duration::from_secs(10);
    let steady = load::open(100.0, rate, read_one(&under_test, &ids)).await;
    let checks = under_test.checks.count() - before;
    report.steady(steady, checks, rate);
    report.load_after = report::load_average();
    let _ = stop.send(());
    Ok(report)
}

/// Serves the API for the emulator's organization on a free port, with admin checks counted.
async fn start(
    env: &Environment,
    stores: &LocalStores,
    settings: &SourceSettings,
    dir: &std::path::Path,
) -> anyhow::Result<(ApiUnderTest, tokio::sync::oneshot::Sender<()>)> {
    let Some(emulator) = &env.emulator else {
        bail!("des bench api runs against the built-in emulator");
    };
    // The bench is not stopped by signals while it signs in.
    let (_, never) = tokio::sync::watch::channel(false);
    let org = crate::organization::register(stores, settings, env, &never).await?;
    let clients =
        Arc::new(OrgClients::new().with_client(org.organization_id, Arc::clone(&env.client)));
    let checks = Arc::new(CountingChecker::new(Arc::clone(&clients) as _));
    let target = crate::target::Target::Sqlite(dir.join("export.db"));
    let secrets = Arc::new(crate::organization::secrets(dir, &target));
    let sinks = Arc::new(des_engine::CachedSinks::new(
        Arc::clone(&secrets) as _,
        Box::new(crate::target::open_sink),
    ));
    let ports = stores.ports_with(Arc::clone(&clients) as _, sinks);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let authority = url::Url::parse(&emulator.issuer())?;
    let authenticator = Authenticator::new(AuthSettings::new(authority, DEFAULT_AUDIENCE))?;
    let api = ApiSettings::new(url::Url::parse(&base)?, LinkKey::random());
    let state = ApiState::new(ports, secrets, authenticator, Arc::clone(&checks) as _, api);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(des_api::serve(listener, des_api::router(state), async {
        let _ = stopped.await;
    }));
    emulator
        .control()
        .add_user(SAMPLE_ADMIN_OID, "DES Sample Admin", true);
    let token = emulator
        .control()
        .mint_user_token(SAMPLE_ADMIN_OID, DEFAULT_AUDIENCE);
    let http = Arc::new(http::Http::new(addr, &token)?);
    let org_query = format!("organizationId={}", org.organization_id);
    let under_test = ApiUnderTest {
        org_query,
        http,
        checks,
    };
    Ok((under_test, stop))
}

fn get(under_test: &ApiUnderTest, path: String, expect_items: bool) -> Request {
    let http = Arc::clone(&under_test.http);
    Arc::new(move |_| {
        let (http, path) = (Arc::clone(&http), path.clone());
        Box::pin(async move {
            match http.send(Method::GET, &path, None).await {
                Ok((status, body)) => status.is_success() && (!expect_items || body.len() > 2),
                Err(_) => false,
            }
        })
    })
}

fn read_one(under_test: &ApiUnderTest, ids: &[String]) -> Request {
    let (http, ids) = (Arc::clone(&under_test.http), Arc::new(ids.to_vec()));
    Arc::new(move |n| {
        let path = format!("/crm/exporter/profiles/{}?status=true", ids[n % ids.len()]);
        let http = Arc::clone(&http);
        Box::pin(async move {
            let answer = http.send(Method::GET, &path, None).await;
            answer.is_ok_and(|(status, _)| status.is_success())
        })
    })
}

fn read_page(under_test: &ApiUnderTest) -> Request {
    let path = format!(
        "/crm/exporter/profiles?status=true&x-top=50&{}",
        under_test.org_query
    );
    get(under_test, path, true)
}

fn read_all(under_test: &ApiUnderTest) -> Request {
    let path = format!(
        "/crm/exporter/profiles?status=true&{}",
        under_test.org_query
    );
    get(under_test, path, true)
}

fn creates(under_test: &ApiUnderTest) -> Request {
    let http = Arc::clone(&under_test.http);
    let path = format!("/crm/exporter/profiles?{}", under_test.org_query);
    let run = Uuid::new_v4().simple().to_string();
    Arc::new(move |n| {
        let body = json!({
            "Name": format!("Bench {} {n:05}", &run[..8]),
            "Entities": [{"Type": "account"}, {"Type": "contact"}],
            "DestinationType": "sqlite",
            "DestinationKeyVaultUri": "local:target",
            "DestinationPrefix": format!("b{n}"),
        });
        let (http, path) = (Arc::clone(&http), path.clone());
        Box::pin(async move {
            let answer = http.send(Method::POST, &path, Some(body.to_string().into()));
            answer
                .await
                .is_ok_and(|(status, _)| status == StatusCode::CREATED)
        })
    })
}

async fn profile_ids(under_test: &ApiUnderTest) -> anyhow::Result<Vec<String>> {
    let path = format!("/crm/exporter/profiles?{}", under_test.org_query);
    let (status, body) = under_test.http.send(Method::GET, &path, None).await?;
    if !status.is_success() {
        bail!("listing the profiles answered {status}");
    }
    let listed: serde_json::Value = serde_json::from_slice(&body)?;
    let ids: Vec<String> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Id"].as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() {
        bail!("no profile was created");
    }
    Ok(ids)
}

/// Counters for each entity, as a running export leaves them, so reads of the status find rows.
async fn give_counters(stores: &LocalStores, ids: &[String]) -> anyhow::Result<()> {
    let delta = StatsDelta {
        total: 100,
        success: 99,
        failure: 1,
        last_export_date: Some(time::OffsetDateTime::now_utc()),
        last_export_status: Some("Success".into()),
        ..Default::default()
    };
    for id in ids {
        let id: Uuid = id.parse()?;
        for entity in ["account", "contact"] {
            stores.control.update_stats(id, entity, &delta).await?;
        }
    }
    Ok(())
}
