//! A steady stream of creates, updates and deletes in the emulator (`--changes-per-sec`).

use std::time::Duration;

use dataverse_emulator::Control;
use tokio::sync::watch;

/// Makes `per_sec` random changes a second until `stop` turns true; returns how many it made.
/// Ticks are at least 10 ms apart, so high rates make several changes per tick.
pub async fn generate(
    control: Control,
    per_sec: f64,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) -> u64 {
    let mut rng = fastrand::Rng::with_seed(seed);
    let tick = Duration::from_secs_f64((1.0 / per_sec).max(0.01));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = tokio::time::Instant::now();
    let mut made = 0u64;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return made,
        }
        let due = (started.elapsed().as_secs_f64() * per_sec) as u64;
        while made < due {
            if let Err(error) = control.random_change(&mut rng) {
                tracing::warn!(%error, "The emulator refused a generated change.");
            }
            made += 1;
        }
    }
}
