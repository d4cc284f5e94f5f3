//! Ordered, gap-free delivery of one numbered stream (a channel's messages), as a pure state
//! machine: no database handle, no tokio, no clock. The hub feeds it what arrives and what it
//! read from the database; it says what to deliver, in order, and when to read a gap.
//!
//! Items are numbered 1, 2, 3, ... with no gap at the source. They may arrive out of order
//! (two senders racing, two instances) or not at all (a lost Redis message). An item that
//! arrives early is held until its predecessors are delivered; the first hold asks for a read
//! of what comes after the last delivered number ([`Sequencer::offer`]'s `ask`). A read
//! ([`Sequencer::filled`]) delivers what it found and moves past numbers that can only be
//! deleted items; what was committed after the read is waited for, never skipped.

use std::collections::BTreeMap;

/// What one database read of a gap found.
#[derive(Debug)]
pub struct Read<T> {
    /// The source's counter, read before the items: every number up to it was committed when
    /// the items were read, so one missing from `items` was deleted.
    pub committed: i64,
    /// Items numbered after the last delivered one, in order (deleted ones left out).
    pub items: Vec<(i64, T)>,
    /// Whether the read was cut short by its batch size (then read again at once).
    pub truncated: bool,
}

/// What to do after a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRead {
    /// Nothing is held any more: the gap is closed.
    Closed,
    /// The read was truncated: read the rest now.
    ReadOn,
    /// What is missing was committed after the read; wait for it (or read again later).
    /// `progressed` tells whether this read delivered anything.
    Wait { progressed: bool },
}

/// One stream's delivery state.
#[derive(Debug)]
pub struct Sequencer<T> {
    last: i64,
    pending: BTreeMap<i64, T>,
    filling: bool,
}

impl<T> Sequencer<T> {
    /// A stream whose items up to `last` are delivered (or not wanted).
    pub fn new(last: i64) -> Self {
        Self {
            last,
            pending: BTreeMap::new(),
            filling: false,
        }
    }

    /// The last number delivered.
    pub fn last(&self) -> i64 {
        self.last
    }

    /// Whether a read of the gap is under way.
    #[cfg(test)]
    pub fn filling(&self) -> bool {
        self.filling
    }

    /// Asks for a read after the last delivered number although nothing is held (something
    /// about a message not delivered yet waits for it): `true` when the caller is to start
    /// one, `false` when one is under way already.
    pub fn request_read(&mut self) -> bool {
        !std::mem::replace(&mut self.filling, true)
    }

    /// Offers item `seq`: it, and whatever it unblocks, go to `deliver` in order; one already
    /// delivered is dropped. When it must wait for predecessors and no read is under way yet,
    /// `ask` is called with the number to read after.
    pub fn offer(&mut self, seq: i64, item: T, deliver: &mut impl FnMut(T), ask: impl FnOnce(i64)) {
        if seq <= self.last {
            return;
        }
        self.pending.insert(seq, item);
        self.drain(deliver);
        if !self.pending.is_empty() && !self.filling {
            self.filling = true;
            ask(self.last);
        }
    }

    /// Applies a read of the gap (made after [`Sequencer::last`] as it was then).
    pub fn filled(&mut self, read: Read<T>, deliver: &mut impl FnMut(T)) -> AfterRead {
        let before = self.last;
        for (seq, item) in read.items {
            if seq > self.last {
                deliver(item);
                self.last = seq;
            }
        }
        self.drain(deliver);
        if !read.truncated {
            if let Some((&next, _)) = self.pending.first_key_value() {
                // Committed numbers the read left out were deleted: move past them.
                let deleted_up_to = (next - 1).min(read.committed);
                if deleted_up_to > self.last {
                    self.last = deleted_up_to;
                    self.drain(deliver);
                }
            }
        }
        self.filling = !self.pending.is_empty();
        if !self.filling {
            AfterRead::Closed
        } else if read.truncated {
            AfterRead::ReadOn
        } else {
            AfterRead::Wait {
                progressed: self.last > before,
            }
        }
    }

    /// Gives up on the gap (the database cannot fill it): delivers what is held from its first
    /// number on. Returns the skipped range, if there was one.
    pub fn skip_gap(&mut self, deliver: &mut impl FnMut(T)) -> Option<(i64, i64)> {
        let skipped = self
            .pending
            .first_key_value()
            .map(|(&next, _)| (self.last, next));
        if let Some((_, next)) = skipped {
            self.last = next - 1;
            self.drain(deliver);
        }
        self.filling = false;
        skipped
    }

    /// Delivers held items while they are next in line; drops ones already delivered.
    fn drain(&mut self, deliver: &mut impl FnMut(T)) {
        while let Some(entry) = self.pending.first_entry() {
            let seq = *entry.key();
            if seq <= self.last {
                entry.remove();
            } else if seq == self.last + 1 {
                deliver(entry.remove());
                self.last = seq;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sequencer over plain numbers, what it delivered, and the reads it asked for.
    struct Harness {
        sequencer: Sequencer<i64>,
        delivered: Vec<i64>,
        asked: Vec<i64>,
    }

    impl Harness {
        fn new(last: i64) -> Self {
            Self {
                sequencer: Sequencer::new(last),
                delivered: Vec::new(),
                asked: Vec::new(),
            }
        }

        fn offer(&mut self, seq: i64) {
            let Harness {
                sequencer,
                delivered,
                asked,
            } = self;
            sequencer.offer(seq, seq, &mut |s| delivered.push(s), |after| {
                asked.push(after)
            });
        }

        fn read(&mut self, committed: i64, items: &[i64], truncated: bool) -> AfterRead {
            let read = Read {
                committed,
                items: items.iter().map(|&s| (s, s)).collect(),
                truncated,
            };
            let delivered = &mut self.delivered;
            self.sequencer.filled(read, &mut |s| delivered.push(s))
        }
    }

    #[test]
    fn in_order_items_go_straight_through_and_duplicates_are_dropped() {
        let mut h = Harness::new(0);
        for seq in [1, 2, 2, 3, 1] {
            h.offer(seq);
        }
        assert_eq!(h.delivered, [1, 2, 3]);
        assert!(h.asked.is_empty());
        assert_eq!(h.sequencer.last(), 3);
    }

    #[test]
    fn an_early_item_waits_for_its_predecessors_and_asks_for_one_read() {
        let mut h = Harness::new(4);
        h.offer(7);
        h.offer(6);
        assert!(h.delivered.is_empty());
        assert_eq!(h.asked, [4], "one read, after the last delivered");
        assert!(h.sequencer.filling());
        h.offer(5);
        assert_eq!(h.delivered, [5, 6, 7]);
        assert_eq!(h.asked, [4], "no second read while one is under way");
    }

    #[test]
    fn a_read_fills_the_gap_and_skips_only_numbers_committed_before_it() {
        let mut h = Harness::new(0);
        h.offer(5);
        // 1..=3 committed (2 deleted); 4 committed after the read.
        assert_eq!(
            h.read(3, &[1, 3], false),
            AfterRead::Wait { progressed: true }
        );
        assert_eq!(h.delivered, [1, 3], "2 was deleted; 4 is still awaited");
        assert_eq!(h.sequencer.last(), 3);
        assert_eq!(h.read(5, &[4], false), AfterRead::Closed);
        assert_eq!(h.delivered, [1, 3, 4, 5]);
        assert!(!h.sequencer.filling());
    }

    #[test]
    fn numbers_deleted_before_the_read_are_moved_past() {
        let mut h = Harness::new(0);
        h.offer(4);
        // 1..=3 were all deleted before the read.
        assert_eq!(h.read(4, &[], false), AfterRead::Closed);
        assert_eq!(h.delivered, [4]);
    }

    #[test]
    fn a_truncated_read_reads_on_and_never_skips() {
        let mut h = Harness::new(0);
        h.offer(10);
        assert_eq!(h.read(10, &[1, 2, 3], true), AfterRead::ReadOn);
        assert_eq!(
            h.sequencer.last(),
            3,
            "nothing skipped after a cut-short read"
        );
        assert_eq!(h.read(10, &[4, 5, 6, 7, 8, 9], false), AfterRead::Closed);
        assert_eq!(h.delivered, (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn a_read_that_finds_nothing_new_reports_no_progress() {
        let mut h = Harness::new(2);
        h.offer(4);
        assert_eq!(h.read(2, &[], false), AfterRead::Wait { progressed: false });
        assert!(h.sequencer.filling());
    }

    #[test]
    fn read_items_and_live_ones_never_deliver_twice() {
        let mut h = Harness::new(0);
        h.offer(3);
        h.offer(2);
        // The read returns 1..=3; 2 and 3 are also held from live delivery.
        assert_eq!(h.read(3, &[1, 2, 3], false), AfterRead::Closed);
        assert_eq!(h.delivered, [1, 2, 3]);
        h.offer(3);
        assert_eq!(h.delivered, [1, 2, 3]);
    }

    #[test]
    fn giving_up_delivers_what_is_held_and_says_what_was_skipped() {
        let mut h = Harness::new(1);
        h.offer(4);
        h.offer(5);
        let delivered = &mut h.delivered;
        assert_eq!(
            h.sequencer.skip_gap(&mut |s| delivered.push(s)),
            Some((1, 4))
        );
        assert_eq!(h.delivered, [4, 5]);
        assert!(!h.sequencer.filling());
        h.offer(2);
        assert_eq!(h.delivered, [4, 5], "too late once skipped");
    }
}
