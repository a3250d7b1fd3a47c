//! Times `parse_page` on a real page body: an in-process emulator serves one page of `account`
//! rows (every readable column), then the body is parsed N times in a loop.
//!
//! `cargo run --release -p dataverse --example parse_bench -- [rows_per_page] [iterations]`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use dataverse::{CachedToken, ClientConfig, ClientCredentials, ColumnPlan, DataverseClient};
use dataverse::{TokenProvider, parse_page};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_core::ports::Source;
use des_core::{EntityMetadata, Secret};
use url::Url;

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let page_size = args.next().transpose()?.unwrap_or(5000);
    let iterations = args.next().transpose()?.unwrap_or(10);
    let emulator = Emulator::start(EmulatorConfig {
        records: page_size,
        ..EmulatorConfig::default()
    })
    .await?;
    let (plan, body) = capture_page(&emulator, page_size).await?;
    emulator.shutdown().await;
    time_parses(&plan, &body, iterations)
}

/// The account plan over every readable column, and the body of the first page.
async fn capture_page(
    emulator: &Emulator,
    page_size: usize,
) -> Result<(ColumnPlan, Vec<u8>), Error> {
    let token_url = Url::parse(&emulator.token_url())?;
    let org = Url::parse(&emulator.base_url())?;
    let secret = Secret::new(emulator.client_secret());
    let scope = ClientCredentials::scope_for(&org);
    let tokens = Arc::new(CachedToken::new(ClientCredentials::new(
        token_url,
        emulator.client_id(),
        secret,
        &scope,
    )));
    let client = DataverseClient::new(ClientConfig::new(org), Arc::clone(&tokens) as _)?;
    let entity = client.entity_metadata("account").await?;
    let plan = ColumnPlan::new(&entity, &readable(&entity))?;
    let url = format!(
        "{}/accounts?$select={}",
        emulator.api_url(),
        plan.select_clause()
    );
    let prefer = format!(
        "odata.track-changes,odata.maxpagesize={page_size},\
         odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""
    );
    let token = tokens.token().await?;
    let body = reqwest::Client::new()
        .get(url)
        .bearer_auth(token.secret().expose())
        .header("Prefer", prefer)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok((plan, body.to_vec()))
}

/// Readable columns that are not companions of another (the `...name` of a lookup, say).
fn readable(entity: &EntityMetadata) -> Vec<String> {
    let columns = entity.attributes.iter();
    let chosen = columns.filter(|a| a.is_readable() && a.attribute_of.is_none());
    chosen.map(|a| a.logical_name.clone()).collect()
}

fn time_parses(plan: &ColumnPlan, body: &[u8], iterations: usize) -> Result<(), Error> {
    if let Ok(path) = std::env::var("PARSE_BENCH_DUMP") {
        std::fs::write(path, body)?;
    }
    let rows = parse_page(body, plan, None)?.changes.len();
    println!(
        "page: {rows} rows x {} columns, {:.2} MB",
        plan.columns.len(),
        body.len() as f64 / 1e6
    );
    let mut best = f64::MAX;
    let start = Instant::now();
    for _ in 0..iterations {
        let one = Instant::now();
        let page = parse_page(body, plan, None)?;
        std::hint::black_box(page);
        best = best.min(one.elapsed().as_secs_f64());
    }
    let mean = start.elapsed().as_secs_f64() / iterations.max(1) as f64;
    for (label, secs) in [("mean", mean), ("best", best)] {
        println!(
            "{label}: {:.1} ms/page, {:.0} rows/s, {:.0} MB/s",
            secs * 1e3,
            rows as f64 / secs,
            body.len() as f64 / secs / 1e6
        );
    }
    Ok(())
}
