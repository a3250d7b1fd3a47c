//! Record isolation on SQL Server: when the target refuses a batch for a record-class reason
//! (a trigger's `THROW`/`RAISERROR`, a constraint, a conversion) without saying which record,
//! the refused batch is applied again in parts until each refused change stands alone.
//!
//! PostgreSQL and SQLite isolate under savepoints inside the batch's transaction. SQL Server
//! cannot: a trigger error dooms the whole transaction (error 3609, or `XACT_STATE() = -1`
//! under `XACT_ABORT`), and no savepoint survives it. So each part here is a transaction of
//! its own: it locks the watermark and checks the batch is still the next one, writes its
//! changes (version guard, tombstones and `DeleteLog` as for a whole batch, so writing a
//! part twice changes nothing), and leaves the watermark alone. A refused part is split in
//! halves, in order; the other changes keep the batch's order. The watermark moves only in
//! the last transaction, with the refused ids marked seen (a resync's refused ids count as
//! seen: the source returned them) and a finished resync's sweep. A crash between parts
//! leaves the watermark where it was: the whole batch is applied again, which is idempotent.
//!
//! A refusal costs about `2 · refused · log2(changes)` extra transactions.

use std::collections::VecDeque;
use std::ops::Range;

/// The parts still to apply, in batch order, and the changes found refused.
#[derive(Debug)]
pub(super) struct Bisection {
    todo: VecDeque<Range<usize>>,
    refused: Vec<(usize, String)>,
}

impl Bisection {
    /// The batch of `changes` changes was refused as a whole with `reason`.
    pub(super) fn new(changes: usize, reason: String) -> Self {
        let mut bisection = Self {
            todo: VecDeque::new(),
            refused: Vec::new(),
        };
        bisection.refuse(0..changes, reason);
        bisection
    }

    /// The next part to apply in a transaction of its own.
    pub(super) fn next(&mut self) -> Option<Range<usize>> {
        self.todo.pop_front()
    }

    /// `part` was refused for a record-class reason: a single change is refused, a larger
    /// part is applied again in halves, before anything after it.
    pub(super) fn refuse(&mut self, part: Range<usize>, reason: String) {
        match part.len() {
            0 => {}
            1 => self.refused.push((part.start, reason)),
            n => {
                let mid = part.start + n / 2;
                self.todo.push_front(mid..part.end);
                self.todo.push_front(part.start..mid);
            }
        }
    }

    /// The refused changes (index, reason), in batch order.
    pub(super) fn refused(&self) -> &[(usize, String)] {
        &self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays the applier against a target that refuses `refused` indexes: every part that
    /// holds one fails as a whole (as a doomed SQL Server transaction does). Returns the
    /// refused indexes found, the order the accepted changes were written in, and the
    /// number of transactions.
    fn play(changes: usize, refused: &[usize]) -> (Vec<usize>, Vec<usize>, usize) {
        let mut bisection = Bisection::new(changes, "whole batch refused".into());
        let (mut written, mut transactions) = (Vec::new(), 0);
        while let Some(part) = bisection.next() {
            transactions += 1;
            if part.clone().any(|i| refused.contains(&i)) {
                bisection.refuse(part, "refused by a trigger".into());
            } else {
                written.extend(part);
            }
        }
        let found = bisection.refused().iter().map(|(i, _)| *i).collect();
        (found, written, transactions)
    }

    #[test]
    fn each_refused_change_stands_alone_and_the_others_are_written_in_order() {
        for (changes, refused) in [
            (1, vec![0]),
            (2, vec![1]),
            (8, vec![0]),
            (8, vec![7]),
            (8, vec![2, 5]),
            (13, vec![0, 1, 12]),
            (100, vec![37]),
        ] {
            let (found, written, _) = play(changes, &refused);
            assert_eq!(found, refused, "{changes} changes");
            let others: Vec<usize> = (0..changes).filter(|i| !refused.contains(i)).collect();
            assert_eq!(written, others, "{changes} changes, in batch order");
        }
    }

    #[test]
    fn one_refusal_costs_about_two_transactions_per_halving() {
        let (_, _, transactions) = play(1024, &[600]);
        // log2(1024) = 10 halvings, two parts each.
        assert_eq!(transactions, 20);
        let (found, written, transactions) = play(1, &[0]);
        assert_eq!((found, written, transactions), (vec![0], vec![], 0));
    }

    #[test]
    fn a_reason_stays_with_its_change() {
        let mut bisection = Bisection::new(2, "whole".into());
        let first = bisection.next().expect("first half");
        bisection.refuse(first, "refused: lastname".into());
        let second = bisection.next().expect("second half");
        assert_eq!(second, 1..2);
        assert!(bisection.next().is_none());
        assert_eq!(bisection.refused(), &[(0, "refused: lastname".to_owned())]);
    }
}
