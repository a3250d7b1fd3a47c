use super::target::fresh;

#[tokio::test]
async fn sqlite_keeps_the_sink_contract() {
    des_contract::sink::run_all(|| async { fresh() }).await;
}
