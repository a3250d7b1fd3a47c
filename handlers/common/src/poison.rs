//! Replaying the poison queue: the operator's way back after fixing what made messages fail
//! (`des-applier replay-poison`). Each message goes back to `des-apply` unchanged, so the
//! applier's usual rules apply to it (an already-applied batch is a duplicate and skipped).

use std::time::Duration;

use des_azure::StorageAccount;
use des_azure::StorageQueue;
use des_azure::names::{POISON_QUEUE, WORK_QUEUE};
use des_core::ports::{QueueError, WorkQueue};

/// How long a message being moved stays hidden from a second replay.
const MOVING: Duration = Duration::from_secs(60);

/// Moves up to `limit` messages (all when `None`) from `des-apply-poison` to `des-apply`;
/// how many moved.
pub async fn replay_poison(
    account: &StorageAccount,
    limit: Option<usize>,
) -> Result<usize, QueueError> {
    let poison = StorageQueue::open(account, POISON_QUEUE).await?;
    let work = StorageQueue::open(account, WORK_QUEUE).await?;
    let mut moved = 0;
    while limit.is_none_or(|l| moved < l) {
        let want = limit.map_or(32, |l| (l - moved).min(32));
        let deliveries = poison.receive(want, MOVING).await?;
        if deliveries.is_empty() {
            break;
        }
        for delivery in deliveries {
            // Send first: a crash in between leaves a duplicate, never a lost message.
            work.send(&delivery.body, Duration::ZERO).await?;
            poison.delete(&delivery).await?;
            moved += 1;
        }
    }
    Ok(moved)
}
