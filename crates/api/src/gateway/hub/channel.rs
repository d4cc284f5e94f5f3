//! One channel's state on this instance: its sockets, its sequence and its online users.

use crate::gateway::protocol::close;
use bytestring::ByteString;
use hearth_domain::{Event, ServerId, UserId, UserRef};
use metrics::Counter;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A frame for one socket.
#[derive(Debug, Clone)]
pub struct Frame {
    pub text: ByteString,
    /// The channel sequence number, for new messages.
    pub seq: Option<i64>,
}

impl Frame {
    /// Serializes `event` once.
    pub fn of(event: &Event) -> Option<Frame> {
        match serde_json::to_string(event) {
            Ok(json) => Some(Frame {
                text: json.into(),
                seq: event.seq(),
            }),
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize an event");
                None
            }
        }
    }
}

pub(super) struct Subscriber {
    pub(super) id: u64,
    pub(super) user: UserId,
    /// Shared frames: a queue's first block holds 32 of its items, so a pointer rather than a
    /// frame keeps every socket's queue small.
    pub(super) tx: mpsc::Sender<Arc<Frame>>,
    /// Taken when the subscriber is closed by the hub.
    pub(super) kick: Option<oneshot::Sender<u16>>,
}

impl Subscriber {
    /// Queues `frame`; a socket whose queue is full is closed (4009) and counted in `too_slow`.
    pub(super) fn send(&mut self, frame: &Arc<Frame>, too_slow: &Counter) {
        if self.kick.is_none() {
            return;
        }
        match self.tx.try_send(frame.clone()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(user_id = %self.user, "socket too slow; closing it");
                too_slow.increment(1);
                self.close(close::TOO_SLOW);
            }
            // The socket is going away; its subscription unregisters itself.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    pub(super) fn close(&mut self, code: u16) {
        if let Some(kick) = self.kick.take() {
            let _ = kick.send(code);
        }
    }
}

pub(super) struct ChannelState {
    /// `None` for a conversation.
    pub(super) server: Option<ServerId>,
    /// The last sequence number delivered to this channel's sockets.
    pub(super) last_seq: i64,
    /// Messages that arrived before their predecessors, by sequence number.
    pub(super) pending: BTreeMap<i64, Frame>,
    /// Whether a gap fill is scheduled.
    pub(super) filling: bool,
    pub(super) subscribers: Vec<Subscriber>,
    /// Online users and how many sockets each has open here.
    pub(super) online: HashMap<UserId, (UserRef, usize)>,
    /// Sockets closed for being too slow (the hub's metrics handle).
    pub(super) too_slow: Counter,
}

impl ChannelState {
    pub(super) fn close_all(&mut self, code: u16) {
        for subscriber in &mut self.subscribers {
            subscriber.close(code);
        }
    }

    /// Queues `frame` for the sockets of one user only.
    pub(super) fn send_to(&mut self, user: UserId, frame: &Arc<Frame>) {
        for subscriber in self.subscribers.iter_mut().filter(|s| s.user == user) {
            subscriber.send(frame, &self.too_slow);
        }
    }

    /// Closes the sockets of one user (who lost access).
    pub(super) fn close_user(&mut self, user: UserId, code: u16) {
        for subscriber in self.subscribers.iter_mut().filter(|s| s.user == user) {
            subscriber.close(code);
        }
    }

    pub(super) fn broadcast(&mut self, frame: &Frame, except: Option<UserId>) {
        let frame = Arc::new(frame.clone());
        for subscriber in &mut self.subscribers {
            if Some(subscriber.user) != except {
                subscriber.send(&frame, &self.too_slow);
            }
        }
    }

    /// Delivers a sequenced frame in order; returns whether a gap is waiting to be filled.
    pub(super) fn sequence(&mut self, seq: i64, frame: Frame) -> bool {
        if seq <= self.last_seq {
            return false; // already delivered (a replay, or the database filled it)
        }
        self.pending.insert(seq, frame);
        self.drain();
        !self.pending.is_empty()
    }

    /// Delivers held frames while they are next in line; drops ones already delivered.
    pub(super) fn drain(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            let seq = *entry.key();
            if seq <= self.last_seq {
                entry.remove();
            } else if seq == self.last_seq + 1 {
                let frame = entry.remove();
                self.broadcast(&frame, None);
                self.last_seq = seq;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::{mpsc, oneshot};

    fn frame(seq: Option<i64>) -> Frame {
        Frame {
            text: ByteString::from_static("{}"),
            seq,
        }
    }

    fn state_with(
        capacity: usize,
    ) -> (
        ChannelState,
        mpsc::Receiver<Arc<Frame>>,
        oneshot::Receiver<u16>,
    ) {
        let (tx, rx) = mpsc::channel(capacity);
        let (kick, kicked) = oneshot::channel();
        let state = ChannelState {
            server: Some(ServerId(1)),
            last_seq: 0,
            pending: BTreeMap::new(),
            filling: false,
            subscribers: vec![Subscriber {
                id: 1,
                user: UserId(1),
                tx,
                kick: Some(kick),
            }],
            online: HashMap::new(),
            too_slow: Counter::noop(),
        };
        (state, rx, kicked)
    }

    #[test]
    fn a_socket_whose_queue_is_full_is_closed_with_4009_and_skipped_after() {
        let (mut state, mut rx, mut kicked) = state_with(2);
        for _ in 0..3 {
            state.broadcast(&frame(None), None);
        }
        assert_eq!(kicked.try_recv().ok(), Some(close::TOO_SLOW));
        state.broadcast(&frame(None), None);
        let mut queued = 0;
        while rx.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, 2, "nothing more is queued for a closed socket");
    }

    #[test]
    fn early_messages_wait_for_their_predecessors_and_duplicates_are_dropped() {
        let (mut state, mut rx, _kicked) = state_with(16);
        assert!(state.sequence(2, frame(Some(2))), "2 before 1 is a gap");
        assert!(state.sequence(3, frame(Some(3))));
        assert!(
            rx.try_recv().is_err(),
            "nothing delivered while 1 is missing"
        );
        assert!(!state.sequence(1, frame(Some(1))), "the gap closed");
        assert!(!state.sequence(2, frame(Some(2))), "a duplicate is dropped");
        let delivered: Vec<Option<i64>> =
            std::iter::from_fn(|| rx.try_recv().ok().map(|f| f.seq)).collect();
        assert_eq!(delivered, vec![Some(1), Some(2), Some(3)]);
        assert_eq!(state.last_seq, 3);
    }
}
