//! How a channel's presence is told as its crowd grows, pure (no lock, no clock, no socket).
//!
//! A small channel tells every arrival and departure to everyone (`presence.join`,
//! `presence.leave`) and gives each new socket the whole list. Past the channel's limit that
//! would cost N frames per arrival, N² in all for N sockets connecting, so a large channel
//! tells only how many are online (`presence.count`), at most once per tick and only when the
//! number changed, and gives each new socket a first page of the list; the rest is on request.
//! It becomes small again at half the limit (not at the limit: a crowd hovering around it would
//! otherwise switch at every arrival), when every socket gets the whole list once more.

/// One channel's presence mode and its online count (users online anywhere: this instance and
/// the others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Crowd {
    /// Kept up to date by every change and set to the exact figure at each tick.
    count: usize,
    large: bool,
    /// The count the sockets were last told, while large.
    told: usize,
}

/// What to tell the channel's sockets of one user's arrival or departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tell {
    /// `presence.join` or `presence.leave`, to everyone.
    Each,
    /// The channel just became large: `presence.count` with this number, to everyone.
    Count(usize),
    /// Nothing now: a large channel's count goes out at the next tick.
    Nothing,
}

/// What to tell the channel's sockets at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tick {
    /// `presence.count` with this number.
    Count(usize),
    /// The channel is small again: the whole list (`presence.list`), after which arrivals and
    /// departures are told one by one again.
    List,
    Nothing,
}

impl Crowd {
    pub(super) fn count(&self) -> usize {
        self.count
    }

    pub(super) fn large(&self) -> bool {
        self.large
    }

    /// A user came online in the channel (their first socket anywhere) or went offline.
    pub(super) fn changed(&mut self, online: bool, limit: usize) -> Tell {
        self.count = if online {
            self.count.saturating_add(1)
        } else {
            self.count.saturating_sub(1)
        };
        if self.large {
            Tell::Nothing
        } else if self.count > limit {
            self.large = true;
            self.told = self.count;
            Tell::Count(self.count)
        } else {
            Tell::Each
        }
    }

    /// The periodic check, with the exact number online now.
    pub(super) fn tick(&mut self, exact: usize, limit: usize) -> Tick {
        self.count = exact;
        if !self.large {
            if exact <= limit {
                return Tick::Nothing;
            }
            // Grown past the limit without a change of ours saying so (another instance's
            // whole picture arrived at once).
            self.large = true;
        } else if exact <= limit / 2 {
            self.large = false;
            return Tick::List;
        }
        if exact == self.told {
            Tick::Nothing
        } else {
            self.told = exact;
            Tick::Count(exact)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 4;

    fn crowd_of(n: usize) -> (Crowd, Vec<Tell>) {
        let mut crowd = Crowd::default();
        let told = (0..n).map(|_| crowd.changed(true, LIMIT)).collect();
        (crowd, told)
    }

    #[test]
    fn a_small_channel_tells_each_arrival_and_departure() {
        let (mut crowd, told) = crowd_of(LIMIT);
        assert_eq!(told, vec![Tell::Each; LIMIT]);
        assert_eq!(crowd.count(), LIMIT);
        assert_eq!(crowd.changed(false, LIMIT), Tell::Each);
        assert_eq!(crowd.tick(LIMIT - 1, LIMIT), Tick::Nothing);
        assert!(!crowd.large());
    }

    #[test]
    fn past_the_limit_the_count_is_told_once_then_only_at_ticks_when_it_changed() {
        let (mut crowd, told) = crowd_of(LIMIT + 1);
        assert_eq!(told.last(), Some(&Tell::Count(LIMIT + 1)));
        assert!(crowd.large());
        // Arrivals and departures between ticks are not told one by one.
        for _ in 0..100 {
            assert_eq!(crowd.changed(true, LIMIT), Tell::Nothing);
        }
        assert_eq!(crowd.changed(false, LIMIT), Tell::Nothing);
        assert_eq!(crowd.count(), LIMIT + 100);
        assert_eq!(crowd.tick(LIMIT + 100, LIMIT), Tick::Count(LIMIT + 100));
        // Nothing changed since: nothing to say.
        assert_eq!(crowd.tick(LIMIT + 100, LIMIT), Tick::Nothing);
        // One left and one came: the same number, still nothing.
        crowd.changed(false, LIMIT);
        crowd.changed(true, LIMIT);
        assert_eq!(crowd.tick(LIMIT + 100, LIMIT), Tick::Nothing);
    }

    #[test]
    fn a_large_channel_becomes_small_at_half_the_limit_with_the_whole_list() {
        let (mut crowd, _) = crowd_of(LIMIT + 1);
        // Hovering around the limit does not switch back and forth.
        crowd.changed(false, LIMIT);
        assert_eq!(crowd.tick(LIMIT, LIMIT), Tick::Count(LIMIT));
        assert!(crowd.large());
        crowd.changed(false, LIMIT);
        crowd.changed(false, LIMIT);
        assert_eq!(crowd.tick(LIMIT / 2, LIMIT), Tick::List);
        assert!(!crowd.large());
        assert_eq!(crowd.changed(true, LIMIT), Tell::Each);
        // And large again past the limit, told again.
        crowd.changed(true, LIMIT);
        assert_eq!(crowd.changed(true, LIMIT), Tell::Count(LIMIT + 1));
    }

    #[test]
    fn a_tick_corrects_the_count_and_notices_a_crowd_that_arrived_unannounced() {
        let mut crowd = Crowd::default();
        // A departure never announced as an arrival does not wrap around.
        crowd.changed(false, LIMIT);
        assert_eq!(crowd.count(), 0);
        assert_eq!(crowd.tick(2, LIMIT), Tick::Nothing);
        assert_eq!(crowd.count(), 2);
        // Another instance's picture brought ten at once.
        assert_eq!(crowd.tick(12, LIMIT), Tick::Count(12));
        assert!(crowd.large());
        assert_eq!(crowd.tick(12, LIMIT), Tick::Nothing);
    }

    #[test]
    fn a_limit_of_zero_makes_every_channel_large_at_its_first_arrival() {
        let mut crowd = Crowd::default();
        assert_eq!(crowd.changed(true, 0), Tell::Count(1));
        assert_eq!(crowd.changed(false, 0), Tell::Nothing);
        assert_eq!(crowd.tick(0, 0), Tick::List);
    }
}
