//! One channel's state on this instance: its sockets, its sequence and its online users.

use super::sequence::{AfterRead, Read, Sequencer};
use crate::gateway::protocol::close;
use bytestring::ByteString;
use hearth_domain::{Audience, ChannelId, Event, ServerId, UserId, UserRef};
use metrics::Counter;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot, Notify};

/// A frame for one socket.
#[derive(Debug, Clone)]
pub struct Frame {
    pub text: ByteString,
    /// The channel sequence number, for new messages.
    pub seq: Option<i64>,
    /// The channel the event happened in, for events of one channel (a socket that follows
    /// several tells their sequences apart by it).
    pub channel: Option<ChannelId>,
    /// Kept in its users' event logs: a personal socket sends it from there, with its cursor,
    /// and takes this frame as the sign to read its log.
    pub logged: bool,
    /// Who takes part in a conversation changed: a personal socket reloads its user's DM
    /// partners, whose presence it reports.
    pub partners: bool,
    /// When a new message's frame was made (queued for its sockets right after), for the
    /// `write` stage; `None` for every other frame.
    pub queued: Option<std::time::Instant>,
}

impl Frame {
    /// The frame of `event`, whose JSON is `text`.
    pub fn with_text(event: &Event, text: ByteString) -> Frame {
        Frame {
            text,
            seq: event.seq(),
            channel: match event.audience() {
                Audience::Channel(channel) => Some(channel),
                _ => None,
            },
            logged: event.logged(),
            partners: matches!(
                event,
                Event::ConversationAdded { .. }
                    | Event::ParticipantAdded { .. }
                    | Event::ParticipantLeft { .. }
            ),
            queued: event.seq().map(|_| std::time::Instant::now()),
        }
    }

    /// A frame of no channel that only personal sockets receive (not an event's).
    pub fn plain(text: ByteString) -> Frame {
        Frame {
            text,
            seq: None,
            channel: None,
            logged: false,
            partners: false,
            queued: None,
        }
    }

    /// A gateway frame (not an event's) about `channel`, for the sockets following it.
    pub fn about(channel: Option<ChannelId>, text: ByteString) -> Frame {
        Frame {
            channel,
            ..Frame::plain(text)
        }
    }

    /// Tells a personal socket to read its user's DM partners again (a block or an unblock
    /// changed whose presence it may report). Never sent as it is.
    pub fn refresh_partners() -> Frame {
        Frame {
            text: ByteString::new(),
            seq: None,
            channel: None,
            logged: false,
            partners: true,
            queued: None,
        }
    }

    /// Tells a personal socket to read its event log (something may be there it was not told
    /// of: another instance's announcement lost in a Redis outage). Never sent as it is.
    pub fn wake() -> Frame {
        Frame {
            text: ByteString::new(),
            seq: None,
            channel: None,
            logged: true,
            partners: false,
            queued: None,
        }
    }

    /// After a Redis outage: a personal socket reads its log and its user's DM partners again
    /// (a block on another instance meanwhile changed whose presence it may report). Never
    /// sent as it is.
    pub fn catch_up() -> Frame {
        Frame {
            partners: true,
            ..Frame::wake()
        }
    }

    /// Serializes `event` once.
    pub fn of(event: &Event) -> Option<Frame> {
        match serde_json::to_string(event) {
            Ok(json) => Some(Frame::with_text(event, json.into())),
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
    pub(super) kick: Option<Closer>,
    /// A subscription of a personal socket (its queue is shared with its other ones).
    pub(super) personal: bool,
    /// A personal socket's registration: the last number of its user's event log it sent.
    pub(super) delivered: Option<Arc<AtomicI64>>,
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
        match self.kick.take() {
            Some(Closer::Once(kick)) => {
                let _ = kick.send(code);
            }
            Some(Closer::Shared { channel, to }) => to.push(Kicked {
                channel,
                id: self.id,
                code,
            }),
            None => {}
        }
    }
}

/// How the hub tells a socket that it closed it (or one of its subscriptions).
#[derive(Debug)]
pub enum Closer {
    /// A socket of its own (a channel socket, a personal socket's registration): fires once,
    /// with the close code.
    Once(oneshot::Sender<u16>),
    /// One subscription of a personal socket: a [`Kicked`] on the queue of closes that all its
    /// subscriptions share (a oneshot and a future of its own for each would cost a personal
    /// socket following 200 channels 200 of both).
    Shared { channel: ChannelId, to: Arc<Kicks> },
}

/// The closes of a personal socket's subscriptions, until its loop takes them. Empty, it is
/// a few words (a tokio channel would allocate a block of 32 slots up front).
#[derive(Debug, Default)]
pub struct Kicks {
    closed: Mutex<Vec<Kicked>>,
    added: Notify,
}

impl Kicks {
    fn push(&self, kicked: Kicked) {
        self.closed().push(kicked);
        self.added.notify_one();
    }

    /// The oldest close not taken yet, when there is one. Cancel-safe: a close is taken only
    /// in the poll that returns it.
    pub async fn next(&self) -> Kicked {
        loop {
            // A push after this check leaves a permit, so the wait below cannot miss it.
            if let Some(kicked) = self.take() {
                return kicked;
            }
            self.added.notified().await;
        }
    }

    fn take(&self) -> Option<Kicked> {
        let mut closed = self.closed();
        (!closed.is_empty()).then(|| closed.remove(0))
    }

    fn closed(&self) -> MutexGuard<'_, Vec<Kicked>> {
        self.closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One subscription of a personal socket was closed by the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kicked {
    pub channel: ChannelId,
    /// Which subscription (a channel may be followed again after an unsubscribe, under a new
    /// id).
    pub id: u64,
    pub code: u16,
}

pub(super) struct ChannelState {
    /// `None` for a conversation.
    pub(super) server: Option<ServerId>,
    /// The order of the channel's messages: what was delivered, what waits for a gap.
    pub(super) sequence: Sequencer<Frame>,
    pub(super) subscribers: Vec<Subscriber>,
    /// Online users and how many sockets each has open here.
    pub(super) online: HashMap<UserId, (UserRef, usize)>,
    /// How presence is told here: one by one, or counts (a large channel).
    pub(super) crowd: super::crowd::Crowd,
    /// Sockets closed for being too slow (the hub's metrics handle).
    pub(super) too_slow: Counter,
    /// Frames about messages not delivered here yet (an edit, a deletion, a reaction or a pin
    /// of a message whose `chat.message` waits for a gap, or is still on its way from another
    /// instance), in arrival order: each goes out once its message has, so that no socket
    /// hears of a reaction before the message. With the message's `seq` and who is not to
    /// get it.
    pub(super) held: VecDeque<(i64, Frame, Option<UserId>)>,
}

impl ChannelState {
    /// A new channel state whose messages up to `last` are delivered.
    pub(super) fn new(server: Option<ServerId>, last: i64, too_slow: Counter) -> Self {
        Self {
            server,
            sequence: Sequencer::new(last),
            subscribers: Vec::new(),
            online: HashMap::new(),
            crowd: Default::default(),
            too_slow,
            held: VecDeque::new(),
        }
    }

    /// Sends a frame about the message numbered `message_seq` once that message went out:
    /// now, or after it (and after the frames held before this one). `true` when the caller
    /// is to start a read of the channel's messages (the message may never be announced
    /// here: a lost Redis message).
    pub(super) fn about_message(
        &mut self,
        message_seq: i64,
        frame: Frame,
        except: Option<UserId>,
    ) -> bool {
        if self.held.is_empty() && message_seq <= self.sequence.last() {
            self.broadcast(&frame, except);
            return false;
        }
        self.held.push_back((message_seq, frame, except));
        self.sequence.request_read()
    }

    /// Sends the held frames about messages numbered up to `up_to`, in order.
    fn release(&mut self, up_to: i64) {
        while let Some((seq, _, _)) = self.held.front() {
            if *seq > up_to {
                break;
            }
            if let Some((_, frame, except)) = self.held.pop_front() {
                self.broadcast(&frame, except);
            }
        }
    }

    pub(super) fn close_all(&mut self, code: u16) {
        for subscriber in &mut self.subscribers {
            subscriber.close(code);
        }
    }

    /// Queues `frame` for every channel socket here, not the personal sockets' subscriptions.
    pub(super) fn broadcast_to_channel_sockets(&mut self, frame: &Frame) {
        let frame = Arc::new(frame.clone());
        for subscriber in self.subscribers.iter_mut().filter(|s| !s.personal) {
            subscriber.send(&frame, &self.too_slow);
        }
    }

    /// Queues `frame` for the channel sockets of one user only (their personal sockets hear
    /// it through the user's registration).
    pub(super) fn send_to(&mut self, user: UserId, frame: &Arc<Frame>) {
        let theirs = self
            .subscribers
            .iter_mut()
            .filter(|s| s.user == user && !s.personal);
        for subscriber in theirs {
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

    /// Delivers a sequenced frame in order; `ask` is called with the number to read after
    /// when a gap opens.
    pub(super) fn sequence(&mut self, seq: i64, frame: Frame, ask: impl FnOnce(i64)) {
        let Self {
            sequence,
            subscribers,
            too_slow,
            ..
        } = self;
        sequence.offer(seq, frame, &mut deliver_to(subscribers, too_slow), ask);
        let last = self.sequence.last();
        self.release(last);
    }

    /// Applies a read of the channel's gap from the database.
    pub(super) fn filled(&mut self, read: Read<Frame>) -> AfterRead {
        let committed = read.committed;
        let Self {
            sequence,
            subscribers,
            too_slow,
            ..
        } = self;
        let after = sequence.filled(read, &mut deliver_to(subscribers, too_slow));
        // Nothing held back any more: every message up to the counter read is delivered or
        // was deleted, so what is about them may go.
        let done = if after == AfterRead::Closed {
            committed.max(self.sequence.last())
        } else {
            self.sequence.last()
        };
        self.release(done);
        if after == AfterRead::Closed && !self.held.is_empty() {
            // About a message committed after the read: read again.
            self.sequence.request_read();
            return AfterRead::Wait { progressed: false };
        }
        after
    }

    /// Gives up on the channel's gap; the skipped range, if any.
    pub(super) fn skip_gap(&mut self) -> Option<(i64, i64)> {
        let Self {
            sequence,
            subscribers,
            too_slow,
            ..
        } = self;
        let skipped = sequence.skip_gap(&mut deliver_to(subscribers, too_slow));
        // Given up on: what waits for a message goes out rather than never.
        self.release(i64::MAX);
        skipped
    }
}

/// Delivery of a channel's frames to its sockets, for the sequencer.
fn deliver_to<'a>(
    subscribers: &'a mut [Subscriber],
    too_slow: &'a Counter,
) -> impl FnMut(Frame) + 'a {
    move |frame: Frame| {
        let frame = Arc::new(frame);
        for subscriber in subscribers.iter_mut() {
            subscriber.send(&frame, too_slow);
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
            channel: None,
            logged: false,
            partners: false,
            queued: None,
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
        let mut state = ChannelState::new(Some(ServerId(1)), 0, Counter::noop());
        state.subscribers.push(Subscriber {
            id: 1,
            user: UserId(1),
            tx,
            kick: Some(Closer::Once(kick)),
            personal: false,
            delivered: None,
        });
        (state, rx, kicked)
    }

    /// A frame about a message (not sequenced itself), told apart by its text.
    fn about(text: &'static str) -> Frame {
        Frame {
            text: ByteString::from_static(text),
            ..frame(None)
        }
    }

    /// What was queued, as the frames' texts (a message's as `#seq`).
    fn queued(rx: &mut mpsc::Receiver<Arc<Frame>>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|f| match f.seq {
                Some(seq) => format!("#{seq}"),
                None => f.text.to_string(),
            })
            .collect()
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
    fn a_personal_subscription_is_closed_on_its_sockets_shared_queue_of_closes_once() {
        let (tx, _rx) = mpsc::channel(4);
        let kicks = Arc::new(Kicks::default());
        let mut subscriber = Subscriber {
            id: 7,
            user: UserId(1),
            tx,
            kick: Some(Closer::Shared {
                channel: ChannelId(3),
                to: kicks.clone(),
            }),
            personal: true,
            delivered: None,
        };
        subscriber.close(close::NOT_FOUND);
        subscriber.close(close::GOING_AWAY);
        let expected = Kicked {
            channel: ChannelId(3),
            id: 7,
            code: close::NOT_FOUND,
        };
        assert_eq!(kicks.take(), Some(expected));
        assert_eq!(kicks.take(), None, "a subscription is closed once");
    }

    #[tokio::test]
    async fn a_close_pushed_while_nobody_waits_is_not_missed_and_closes_come_in_order() {
        let kicks = Arc::new(Kicks::default());
        let kicked = |id| Kicked {
            channel: ChannelId(1),
            id,
            code: close::NOT_FOUND,
        };
        kicks.push(kicked(1));
        kicks.push(kicked(2));
        assert_eq!(kicks.next().await, kicked(1));
        assert_eq!(kicks.next().await, kicked(2));
        // A waiter woken by a push from another task.
        let waiting = tokio::spawn({
            let kicks = kicks.clone();
            async move { kicks.next().await }
        });
        tokio::task::yield_now().await;
        kicks.push(kicked(3));
        assert_eq!(waiting.await.ok(), Some(kicked(3)));
    }

    #[test]
    fn early_messages_wait_for_their_predecessors_and_duplicates_are_dropped() {
        let (mut state, mut rx, _kicked) = state_with(16);
        let mut asked = Vec::new();
        state.sequence(2, frame(Some(2)), |after| asked.push(after));
        state.sequence(3, frame(Some(3)), |after| asked.push(after));
        assert_eq!(asked, [0], "2 before 1 is a gap, read once");
        assert!(
            rx.try_recv().is_err(),
            "nothing delivered while 1 is missing"
        );
        state.sequence(1, frame(Some(1)), |after| asked.push(after));
        state.sequence(2, frame(Some(2)), |after| asked.push(after));
        let delivered: Vec<Option<i64>> =
            std::iter::from_fn(|| rx.try_recv().ok().map(|f| f.seq)).collect();
        assert_eq!(delivered, vec![Some(1), Some(2), Some(3)]);
        assert_eq!(state.sequence.last(), 3);
        assert_eq!(asked, [0]);
    }

    #[test]
    fn news_of_a_message_not_delivered_yet_waits_for_it_and_keeps_its_order() {
        let (mut state, mut rx, _kicked) = state_with(16);
        let mut asked = Vec::new();
        state.sequence(1, frame(Some(1)), |after| asked.push(after));
        // About a message delivered: at once, nothing read.
        assert!(!state.about_message(1, about("edit of 1"), None));
        assert_eq!(queued(&mut rx), ["#1", "edit of 1"]);
        // Message 3 waits for 2; a reaction to 3 waits for 3, and what comes after it (even
        // about message 1) waits behind it. One read is asked for, by the gap.
        state.sequence(3, frame(Some(3)), |after| asked.push(after));
        assert_eq!(asked, [1]);
        assert!(!state.about_message(3, about("reaction to 3"), None));
        assert!(!state.about_message(1, about("pin of 1"), None));
        assert!(queued(&mut rx).is_empty());
        state.sequence(2, frame(Some(2)), |after| asked.push(after));
        assert_eq!(queued(&mut rx), ["#2", "#3", "reaction to 3", "pin of 1"]);
        assert!(state.held.is_empty());
    }

    #[test]
    fn news_of_a_message_never_announced_here_asks_for_a_read_once() {
        let (mut state, mut rx, _kicked) = state_with(16);
        // A reaction to message 1, whose own announcement was lost: read the channel.
        assert!(state.about_message(1, about("reaction to 1"), None));
        assert!(!state.about_message(1, about("another"), None), "one read");
        assert!(queued(&mut rx).is_empty());
        let read = Read {
            committed: 1,
            items: vec![(1, frame(Some(1)))],
            truncated: false,
        };
        assert_eq!(state.filled(read), AfterRead::Closed);
        assert_eq!(queued(&mut rx), ["#1", "reaction to 1", "another"]);
    }

    #[test]
    fn news_of_a_message_deleted_before_it_was_delivered_goes_out_after_the_read() {
        let (mut state, mut rx, _kicked) = state_with(16);
        assert!(state.about_message(1, about("deletion of 1"), None));
        // The read finds no message 1, committed: it was deleted.
        let read = Read {
            committed: 1,
            items: Vec::new(),
            truncated: false,
        };
        assert_eq!(state.filled(read), AfterRead::Closed);
        assert_eq!(queued(&mut rx), ["deletion of 1"]);
    }

    #[test]
    fn news_of_a_message_committed_after_the_read_asks_for_another() {
        let (mut state, mut rx, _kicked) = state_with(16);
        assert!(state.about_message(2, about("reaction to 2"), None));
        let read = Read {
            committed: 1,
            items: vec![(1, frame(Some(1)))],
            truncated: false,
        };
        assert_eq!(
            state.filled(read),
            AfterRead::Wait { progressed: false },
            "2 is still to come: read again"
        );
        assert_eq!(queued(&mut rx), ["#1"]);
        // Given up on at last: it goes out rather than never.
        state.skip_gap();
        assert_eq!(queued(&mut rx), ["reaction to 2"]);
    }

    #[test]
    fn news_held_keeps_its_echo_exception() {
        let (mut state, mut rx, _kicked) = state_with(16);
        state.about_message(1, about("not for user 1"), Some(UserId(1)));
        state.sequence(1, frame(Some(1)), |_| {});
        assert_eq!(queued(&mut rx), ["#1"]);
    }
}
