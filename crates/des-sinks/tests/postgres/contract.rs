use super::target::{fresh, server};

#[tokio::test]
async fn postgres_keeps_the_sink_contract() {
    let Some(url) = server() else { return };
    des_contract::sink::run_all(|| fresh(&url)).await;
}
