//! The load generator: `clients` tasks each sending requests back to back (a closed loop), or
//! requests at a fixed rate (an open loop); latencies, errors and requests per second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

/// What one phase measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub requests: usize,
    pub errors: usize,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU time of the whole process (server, emulator and the bench's clients) per request,
    /// where the platform tells it.
    pub cpu_ms_per_request: Option<f64>,
}

impl Figures {
    fn from(mut latencies: Vec<Duration>, errors: usize, elapsed: Duration, cpu: Cpu) -> Self {
        latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
            latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Self {
            requests: latencies.len(),
            errors,
            per_sec: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            cpu_ms_per_request: cpu
                .used()
                .map(|used| used.as_secs_f64() * 1000.0 / latencies.len().max(1) as f64),
        }
    }
}

/// One request: `n` numbers it; `Ok(())` when the answer was the expected one.
pub type Request = Arc<dyn Fn(usize) -> futures::future::BoxFuture<'static, bool> + Send + Sync>;

/// `clients` loops, each sending its next request when the last answered, until `total`
/// requests were sent (`Some`) or `duration` passed.
pub async fn closed(
    clients: usize,
    total: Option<usize>,
    duration: Duration,
    request: Request,
) -> Figures {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (started, cpu) = (Instant::now(), Cpu::start());
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (request, next) = (Arc::clone(&request), Arc::clone(&next));
        tasks.spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let done = total.map_or(started.elapsed() >= duration, |t| n >= t);
                if done {
                    break;
                }
                let sent = Instant::now();
                if !request(n).await {
                    errors += 1;
                }
                latencies.push(sent.elapsed());
            }
            (latencies, errors)
        });
    }
    gather(tasks, started, cpu).await
}

/// `rate` requests per second for `duration`, each sent on time whatever the others do.
pub async fn open(rate: f64, duration: Duration, request: Request) -> Figures {
    let (started, cpu) = (Instant::now(), Cpu::start());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut tasks = JoinSet::new();
    let mut n = 0;
    while started.elapsed() < duration {
        tick.tick().await;
        let request = Arc::clone(&request);
        tasks.spawn(async move {
            let sent = Instant::now();
            let ok = request(n).await;
            (vec![sent.elapsed()], usize::from(!ok))
        });
        n += 1;
    }
    gather(tasks, started, cpu).await
}

async fn gather(mut tasks: JoinSet<(Vec<Duration>, usize)>, started: Instant, cpu: Cpu) -> Figures {
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((l, e)) => {
                latencies.extend(l);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    Figures::from(latencies, errors, started.elapsed(), cpu)
}

/// The process's CPU time since a phase started.
struct Cpu(Option<Duration>);

impl Cpu {
    fn start() -> Self {
        Self(process_cpu())
    }

    fn used(&self) -> Option<Duration> {
        Some(process_cpu()?.saturating_sub(self.0?))
    }
}

/// User and system time of every thread of this process, from `/proc/self/stat` (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields that follow come after its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 per second on every architecture it runs on.
    Some(Duration::from_millis(ticks * 10))
}
