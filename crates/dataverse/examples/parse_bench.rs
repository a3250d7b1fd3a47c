//! Times `parse_page` on a real page body: an in-process emulator serves one page of `account`
//! rows (every readable column), then the body is parsed N times in a loop. With a third
//! argument it also times a full read of that many rows through the client (HTTP included;
//! the emulator renders pages on the same cores).
//!
//! `cargo run --release -p dataverse --example parse_bench -- [rows_per_page] [iterations]
//! [full_read_rows]`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use dataverse::{CachedToken, ClientConfig, ClientCredentials, ColumnPlan, DataverseClient};
use dataverse::{TokenProvider, parse_page};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_core::ports::{NextLink, PageRequest, Source};
use des_core::{EntityMetadata, Secret};
use url::Url;

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let page_size = args.next().transpose()?.unwrap_or(5000);
    let iterations = args.next().transpose()?.unwrap_or(10);
    let read_rows = args.next().transpose()?.unwrap_or(0);
    let emulator = Emulator::start(EmulatorConfig {
        records: page_size,
        records_per_entity: [("account".to_owned(), page_size.max(read_rows))].into(),
        ..EmulatorConfig::default()
    })
    .await?;
    let (client, tokens) = connect(&emulator, page_size)?;
    let entity = client.entity_metadata("account").await?;
    let plan = ColumnPlan::new(&entity, &readable(&entity))?;
    let body = first_page(&emulator, &plan, &tokens, page_size).await?;
    time_parses(&plan, &body, iterations)?;
    if read_rows > 0 {
        time_read(&client, &plan).await?;
    }
    emulator.shutdown().await;
    Ok(())
}

/// Reads the whole `account` table page by page as a replicator would.
async fn time_read(client: &DataverseClient, plan: &ColumnPlan) -> Result<(), Error> {
    let select: Vec<String> = plan
        .columns
        .iter()
        .map(|c| c.logical_name.clone())
        .collect();
    let entity_set = plan.entity_set.clone();
    let mut request = PageRequest::Start { entity_set, select };
    let (start, mut rows) = (Instant::now(), 0);
    loop {
        let page = client.read_page(&request, &[]).await?;
        rows += page.changes.len();
        match page.next {
            NextLink::More(link) => request = PageRequest::Follow { link },
            NextLink::Done(_) => break,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "full read: {rows} rows in {secs:.2} s, {:.0} rows/s",
        rows as f64 / secs
    );
    Ok(())
}

type Tokens = Arc<CachedToken<ClientCredentials>>;

fn connect(emulator: &Emulator, page_size: usize) -> Result<(DataverseClient, Tokens), Error> {
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
    let mut config = ClientConfig::new(org);
    config.page_size = u32::try_from(page_size)?;
    let client = DataverseClient::new(config, Arc::clone(&tokens) as _)?;
    Ok((client, tokens))
}

/// The body of the first page of `plan`'s read.
async fn first_page(
    emulator: &Emulator,
    plan: &ColumnPlan,
    tokens: &Tokens,
    page_size: usize,
) -> Result<Vec<u8>, Error> {
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
    Ok(body.to_vec())
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
