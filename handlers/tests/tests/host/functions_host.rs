//! The Functions host, played by the test (Core Tools cannot be installed here): it POSTs
//! timer invocations to the poller, and takes messages from the Azurite queue `des-apply`
//! and POSTs them to the applier with their dequeue count, as the queue trigger does:
//! delete on 2xx; on anything else make the message visible again, and after the last try
//! move it to `des-apply-poison`. Up to 16 messages run at once (the host's `batchSize`).
//!
//! The payloads are built the way the host source builds them
//! (`ScriptInvocationContextExtensions` in Azure/azure-functions-host): a value that is not a
//! JSON object is serialised to JSON text and sent as a string, so `Data.msg` is the message
//! text quoted twice, `DequeueCount` the string `"2"`, `Id` a quoted string. Every other
//! delivery uses the shape the custom-handler documentation shows (the text quoted once).
//! Each request carries `X-Azure-Functions-InvocationId`, as the host's `AddHeaders` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use des_azure::StorageQueue;
use des_core::ports::{Delivery, WorkQueue};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

/// The host version the played host claims (the source read for it).
const HOST_VERSION: &str = "4.1037.0";

/// What one round of deliveries did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    pub completed: usize,
    pub failed: usize,
    pub poisoned: usize,
}

#[derive(Clone)]
pub struct FunctionsHost {
    http: reqwest::Client,
    pub poll_url: String,
    pub apply_url: String,
    pub work: Arc<StorageQueue>,
    pub poison: Arc<StorageQueue>,
    max_dequeue: u32,
    shapes: Arc<AtomicUsize>,
}

impl FunctionsHost {
    pub fn new(
        poll_url: String,
        apply_url: String,
        work: StorageQueue,
        poison: StorageQueue,
        max_dequeue: u32,
    ) -> Self {
        Self {
            http: reqwest::Client::new(),
            poll_url,
            apply_url,
            work: Arc::new(work),
            poison: Arc::new(poison),
            max_dequeue,
            shapes: Arc::default(),
        }
    }

    /// One timer tick; the handler's `Logs`.
    pub async fn tick(&self) -> Vec<String> {
        let payload = json!({
            "Data": {"myTimer": {
                "Schedule": {"AdjustForDST": true},
                "ScheduleStatus": {"Last": "0001-01-01T00:00:00", "Next": "2026-11-27T13:00:10Z", "LastUpdated": "0001-01-01T00:00:00"},
                "IsPastDue": false
            }},
            "Metadata": {"sys": {"MethodName": "poll", "UtcNow": "2026-11-27T13:00:00Z", "RandGuid": "9a3f0d8e-0000-4000-8000-000000000000"}}
        });
        let answer = self.post(&self.poll_url, &payload).await;
        assert_eq!(answer.0, 200, "poll failed: {}", answer.1);
        logs(&answer.1)
    }

    /// Delivers what is visible now, again and again, until the queue shows nothing.
    pub async fn deliver_all(&self) -> Round {
        let mut total = Round::default();
        loop {
            let deliveries = self
                .work
                .receive(16, Duration::from_secs(60))
                .await
                .expect("receive");
            if deliveries.is_empty() {
                return total;
            }
            let mut tasks = JoinSet::new();
            for delivery in deliveries {
                let host = self.clone();
                tasks.spawn(async move { host.deliver(delivery).await });
            }
            while let Some(result) = tasks.join_next().await {
                match result.expect("delivery task") {
                    Outcome::Completed => total.completed += 1,
                    Outcome::Failed => total.failed += 1,
                    Outcome::Poisoned => total.poisoned += 1,
                }
            }
        }
    }

    async fn deliver(&self, delivery: Delivery) -> Outcome {
        let payload = json!({
            "Data": {"msg": self.message_value(&delivery.body)},
            "Metadata": {
                "DequeueCount": delivery.dequeue_count.to_string(),
                "Id": as_json_text(&delivery.id),
                "PopReceipt": as_json_text(&delivery.receipt),
                "InsertionTime": "2026-11-27T13:00:00+00:00",
                "sys": {"MethodName": "apply", "UtcNow": "2026-11-27T13:00:00Z", "RandGuid": "6b1d2c3e-0000-4000-8000-000000000000"}
            }
        });
        let (status, body) = self.post(&self.apply_url, &payload).await;
        assert!(
            body.get("Logs").is_some_and(Value::is_array),
            "not the host's shape: {body}"
        );
        if (200..300).contains(&status) {
            self.work.delete(&delivery).await.expect("delete");
            return Outcome::Completed;
        }
        if delivery.dequeue_count >= self.max_dequeue {
            self.poison
                .send(&delivery.body, Duration::ZERO)
                .await
                .expect("poison");
            self.work.delete(&delivery).await.expect("delete");
            return Outcome::Poisoned;
        }
        self.work
            .release(&delivery, Duration::ZERO)
            .await
            .expect("release");
        Outcome::Failed
    }

    /// The message text as the host source sends it (quoted twice), or as the documentation
    /// shows it (quoted once), in turn.
    fn message_value(&self, body: &[u8]) -> Value {
        let text = String::from_utf8_lossy(body).into_owned();
        match self.shapes.fetch_add(1, Ordering::Relaxed) % 2 {
            0 => Value::String(as_json_text(&text)),
            _ => Value::String(text),
        }
    }

    async fn post(&self, url: &str, payload: &Value) -> (u16, Value) {
        let answer = self
            .http
            .post(url)
            .header("X-Azure-Functions-InvocationId", Uuid::new_v4().to_string())
            .header("X-Azure-Functions-HostVersion", HOST_VERSION)
            .json(payload)
            .send()
            .await
            .expect("handler answers");
        let status = answer.status().as_u16();
        let text = answer.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

enum Outcome {
    Completed,
    Failed,
    Poisoned,
}

fn logs(answer: &Value) -> Vec<String> {
    assert_eq!(answer["Outputs"], json!({}), "{answer}");
    assert!(answer["ReturnValue"].is_null(), "{answer}");
    answer["Logs"]
        .as_array()
        .unwrap_or_else(|| panic!("no Logs: {answer}"))
        .iter()
        .map(|l| l.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A value as the host sends a non-object: serialised to JSON text.
fn as_json_text(value: &str) -> String {
    serde_json::to_string(value).expect("a string serialises")
}
