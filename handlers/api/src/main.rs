//! `des-api-handler`: the `api` function app's custom handler (shipped as `handler`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    des_handlers::apps::run_api().await?;
    Ok(())
}
