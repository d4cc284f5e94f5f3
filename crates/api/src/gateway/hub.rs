//! The in-process hub: who is connected to which channel, and delivery to them.
//!
//! Every event is serialized once; all recipients share the same bytes. Each socket has a
//! bounded queue: a socket that falls behind is closed (4009) rather than slowing the others or
//! growing memory.
//!
//! New messages carry a per-channel sequence number. Each channel keeps the last number it
//! delivered and holds messages that arrive early (two senders racing, or two instances); when a
//! gap does not close by itself within [`GAP_WAIT`], the missing messages are read from the
//! database. So every socket sees a channel's messages in order, once, with no gap.

use super::protocol::close;
use super::redis::Bridge;
use bytestring::ByteString;
use hearth_db::Db;
use hearth_domain::{Audience, ChannelId, ChatMessage, Event, ServerId, UserId, UserRef};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a channel holds an early message before reading the gap from the database.
pub const GAP_WAIT: Duration = Duration::from_millis(150);
/// How many frames a socket may have queued before it counts as too slow.
pub const QUEUE: usize = 1024;
/// Messages read from the database per round trip when filling a gap or replaying.
pub const FILL_BATCH: i64 = 500;

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

struct Subscriber {
    id: u64,
    user: UserId,
    tx: mpsc::Sender<Frame>,
    /// Taken when the subscriber is closed by the hub.
    kick: Option<oneshot::Sender<u16>>,
}

impl Subscriber {
    fn send(&mut self, frame: &Frame) {
        if self.kick.is_none() {
            return;
        }
        match self.tx.try_send(frame.clone()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(user_id = %self.user, "socket too slow; closing it");
                self.close(close::TOO_SLOW);
            }
            // The socket is going away; its subscription unregisters itself.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn close(&mut self, code: u16) {
        if let Some(kick) = self.kick.take() {
            let _ = kick.send(code);
        }
    }
}

struct ChannelState {
    server: ServerId,
    /// The last sequence number delivered to this channel's sockets.
    last_seq: i64,
    /// Messages that arrived before their predecessors, by sequence number.
    pending: BTreeMap<i64, Frame>,
    /// Whether a gap fill is scheduled.
    filling: bool,
    subscribers: Vec<Subscriber>,
    /// Online users and how many sockets each has open here.
    online: HashMap<UserId, (UserRef, usize)>,
}

impl ChannelState {
    fn close_all(&mut self, code: u16) {
        for subscriber in &mut self.subscribers {
            subscriber.close(code);
        }
    }

    fn broadcast(&mut self, frame: &Frame, except: Option<UserId>) {
        for subscriber in &mut self.subscribers {
            if Some(subscriber.user) != except {
                subscriber.send(frame);
            }
        }
    }

    /// Delivers a sequenced frame in order; returns whether a gap is waiting to be filled.
    fn sequence(&mut self, seq: i64, frame: Frame) -> bool {
        if seq <= self.last_seq {
            return false; // already delivered (a replay, or the database filled it)
        }
        self.pending.insert(seq, frame);
        self.drain();
        !self.pending.is_empty()
    }

    /// Delivers held frames while they are next in line; drops ones already delivered.
    fn drain(&mut self) {
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

/// A socket's registration with a channel; unregisters when dropped.
pub struct Subscription {
    pub id: u64,
    pub channel: ChannelId,
    /// Frames for this socket, in order.
    pub frames: mpsc::Receiver<Frame>,
    /// Fires when the hub closes this socket, with the close code.
    pub kicked: oneshot::Receiver<u16>,
    /// The channel's last delivered sequence number when this socket joined: a replay covers
    /// everything up to it, live frames everything after.
    pub joined_at_seq: i64,
    /// Who was online in the channel when this socket joined (itself included).
    pub online: Vec<UserRef>,
    user: UserRef,
    hub: Hub,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.channel, self.id, &self.user);
    }
}

/// Routes events to local sockets and, through the Redis bridge, to other instances.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    channels: Mutex<HashMap<ChannelId, ChannelState>>,
    db: Db,
    next_id: AtomicU64,
    bridge: OnceLock<Bridge>,
    /// Who is online through other instances, by instance id (learned through Redis).
    remote: Mutex<HashMap<String, RemoteInstance>>,
}

/// Another instance's presence, as it last reported it.
struct RemoteInstance {
    seen: Instant,
    channels: HashMap<ChannelId, HashMap<UserId, UserRef>>,
}

/// A change of one user's presence on another instance, or that instance's whole picture.
pub enum RemotePresence {
    Change {
        channel: ChannelId,
        user: UserRef,
        online: bool,
    },
    Snapshot(Vec<(ChannelId, Vec<UserRef>)>),
}

impl Hub {
    pub fn new(db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                channels: Mutex::new(HashMap::new()),
                db,
                next_id: AtomicU64::new(1),
                bridge: OnceLock::new(),
                remote: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Connects the hub to other instances. Only the first bridge set is used.
    pub fn set_bridge(&self, bridge: Bridge) {
        let _ = self.inner.bridge.set(bridge);
    }

    fn remote(&self) -> MutexGuard<'_, HashMap<String, RemoteInstance>> {
        self.inner
            .remote
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<ChannelId, ChannelState>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than losing every socket, so keep serving.
        self.inner
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Delivers `event` to every socket that should see it, here and on other instances.
    ///
    /// Call it after the change it reports is committed.
    pub fn publish(&self, event: Event) {
        let Some(frame) = Frame::of(&event) else {
            return;
        };
        if let Some(bridge) = self.inner.bridge.get() {
            bridge.publish(&frame.text);
        }
        self.deliver(&event, frame);
    }

    /// Delivers an event to local sockets only (events from other instances arrive here).
    pub fn deliver(&self, event: &Event, frame: Frame) {
        let mut gap = None;
        {
            let mut channels = self.channels();
            match event.audience() {
                Audience::Channel(channel) => {
                    if let Some(state) = channels.get_mut(&channel) {
                        match frame.seq {
                            Some(seq) => {
                                if state.sequence(seq, frame) && !state.filling {
                                    state.filling = true;
                                    gap = Some(channel);
                                }
                            }
                            None => state.broadcast(&frame, echo_exception(event)),
                        }
                    }
                }
                Audience::Server(server) => {
                    for state in channels.values_mut().filter(|s| s.server == server) {
                        state.broadcast(&frame, None);
                    }
                }
            }
            // Sockets of what no longer exists are told why, then closed (on every instance,
            // since remote events arrive here too).
            match event {
                Event::ServerDeleted { server_id } => {
                    for state in channels.values_mut().filter(|s| s.server == *server_id) {
                        state.close_all(close::NOT_FOUND);
                    }
                }
                Event::ChannelDeleted { channel_id, .. } => {
                    if let Some(state) = channels.get_mut(channel_id) {
                        state.close_all(close::NOT_FOUND);
                    }
                }
                _ => {}
            }
        }
        if let Some(channel) = gap {
            self.schedule_fill(channel, GAP_WAIT);
        }
    }

    /// Registers a socket of `user` on `channel` (of `server`).
    pub async fn subscribe(
        &self,
        server: ServerId,
        channel: ChannelId,
        user: UserRef,
    ) -> Result<Subscription, hearth_db::DomainError> {
        let (tx, frames) = mpsc::channel(QUEUE);
        let (kick, kicked) = oneshot::channel();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut subscriber = Some(Subscriber {
            id,
            user: user.id,
            tx,
            kick: Some(kick),
        });
        // A channel nobody here listens to starts from the database's last sequence number. It is
        // read without holding the lock, so check again afterwards: the channel may have gained
        // (or lost) its state meanwhile.
        let mut database_seq = None;
        let (joined_at_seq, online, first_socket) = loop {
            {
                let mut channels = self.channels();
                let state = match (channels.get_mut(&channel), database_seq) {
                    (Some(_), _) => channels.get_mut(&channel),
                    (None, Some(last_seq)) => {
                        Some(channels.entry(channel).or_insert(ChannelState {
                            server,
                            last_seq,
                            pending: BTreeMap::new(),
                            filling: false,
                            subscribers: Vec::new(),
                            online: HashMap::new(),
                        }))
                    }
                    (None, None) => None,
                };
                if let Some(state) = state {
                    state.subscribers.extend(subscriber.take());
                    let count = &mut state.online.entry(user.id).or_insert((user.clone(), 0)).1;
                    *count += 1;
                    let first_socket = *count == 1;
                    let online: Vec<UserRef> =
                        state.online.values().map(|(u, _)| u.clone()).collect();
                    break (state.last_seq, online, first_socket);
                }
            }
            database_seq = Some(
                hearth_db::messages::last_seq(&self.inner.db, channel)
                    .await?
                    .unwrap_or(0),
            );
        };
        let mut online = online;
        for remote in self.remote().values() {
            for other in remote
                .channels
                .get(&channel)
                .into_iter()
                .flat_map(|u| u.values())
            {
                if !online.iter().any(|u| u.id == other.id) {
                    online.push(other.clone());
                }
            }
        }
        if first_socket {
            self.local_presence_changed(channel, user.clone(), true);
        }
        Ok(Subscription {
            id,
            channel,
            frames,
            kicked,
            joined_at_seq,
            online,
            user,
            hub: self.clone(),
        })
    }

    fn unsubscribe(&self, channel: ChannelId, id: u64, user: &UserRef) {
        let last_socket = {
            let mut channels = self.channels();
            let Some(state) = channels.get_mut(&channel) else {
                return;
            };
            state.subscribers.retain(|s| s.id != id);
            let last_socket = match state.online.get_mut(&user.id) {
                Some((_, count)) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    state.online.remove(&user.id);
                    true
                }
                None => false,
            };
            if state.subscribers.is_empty() {
                channels.remove(&channel);
            }
            last_socket
        };
        if last_socket {
            self.local_presence_changed(channel, user.clone(), false);
        }
    }

    /// A user's first local socket in a channel opened, or their last one closed: tell local
    /// sockets if that changes whether the user is online at all, and tell other instances.
    fn local_presence_changed(&self, channel: ChannelId, user: UserRef, online: bool) {
        if !self.online_remotely(channel, user.id, None) {
            self.deliver_presence(channel, user.clone(), online);
        }
        if let Some(bridge) = self.inner.bridge.get() {
            bridge.publish_presence(channel, &user, online);
        }
    }

    fn deliver_presence(&self, channel: ChannelId, user: UserRef, online: bool) {
        let event = if online {
            Event::PresenceJoin {
                channel_id: channel,
                user,
            }
        } else {
            Event::PresenceLeave {
                channel_id: channel,
                user,
            }
        };
        if let Some(frame) = Frame::of(&event) {
            self.deliver(&event, frame);
        }
    }

    fn online_locally(&self, channel: ChannelId, user: UserId) -> bool {
        self.channels()
            .get(&channel)
            .is_some_and(|state| state.online.contains_key(&user))
    }

    fn online_remotely(&self, channel: ChannelId, user: UserId, except: Option<&str>) -> bool {
        self.remote().iter().any(|(instance, remote)| {
            Some(instance.as_str()) != except
                && remote
                    .channels
                    .get(&channel)
                    .is_some_and(|users| users.contains_key(&user))
        })
    }

    /// This instance's presence, for the heartbeat other instances rely on.
    pub fn presence_snapshot(&self) -> Vec<(ChannelId, Vec<UserRef>)> {
        self.channels()
            .iter()
            .map(|(channel, state)| {
                let users = state.online.values().map(|(u, _)| u.clone()).collect();
                (*channel, users)
            })
            .collect()
    }

    /// Applies another instance's presence report; local sockets hear of users who came online
    /// or went offline as a result.
    pub fn remote_presence(&self, instance: &str, report: RemotePresence) {
        let changes: Vec<(ChannelId, UserRef, bool)> = {
            let mut remote = self.remote();
            let entry = remote
                .entry(instance.to_owned())
                .or_insert_with(|| RemoteInstance {
                    seen: Instant::now(),
                    channels: HashMap::new(),
                });
            entry.seen = Instant::now();
            match report {
                RemotePresence::Change {
                    channel,
                    user,
                    online,
                } => {
                    let users = entry.channels.entry(channel).or_default();
                    let changed = if online {
                        users.insert(user.id, user.clone()).is_none()
                    } else {
                        users.remove(&user.id).is_some()
                    };
                    if changed {
                        vec![(channel, user, online)]
                    } else {
                        Vec::new()
                    }
                }
                RemotePresence::Snapshot(snapshot) => {
                    let fresh: HashMap<ChannelId, HashMap<UserId, UserRef>> = snapshot
                        .into_iter()
                        .map(|(channel, users)| {
                            (channel, users.into_iter().map(|u| (u.id, u)).collect())
                        })
                        .collect();
                    let old = std::mem::replace(&mut entry.channels, fresh);
                    let mut changes = Vec::new();
                    for (channel, users) in &old {
                        for user in users.values() {
                            if !entry
                                .channels
                                .get(channel)
                                .is_some_and(|u| u.contains_key(&user.id))
                            {
                                changes.push((*channel, user.clone(), false));
                            }
                        }
                    }
                    for (channel, users) in &entry.channels {
                        for user in users.values() {
                            if !old.get(channel).is_some_and(|u| u.contains_key(&user.id)) {
                                changes.push((*channel, user.clone(), true));
                            }
                        }
                    }
                    changes
                }
            }
        };
        for (channel, user, online) in changes {
            // Only a change in whether the user is online anywhere is news.
            if !self.online_locally(channel, user.id)
                && !self.online_remotely(channel, user.id, Some(instance))
            {
                self.deliver_presence(channel, user, online);
            }
        }
    }

    /// Forgets instances that stopped reporting (crashed): their users go offline.
    pub fn expire_instances(&self, max_silence: Duration) {
        let expired: Vec<(String, RemoteInstance)> = {
            let mut remote = self.remote();
            let stale: Vec<String> = remote
                .iter()
                .filter(|(_, r)| r.seen.elapsed() > max_silence)
                .map(|(id, _)| id.clone())
                .collect();
            stale
                .into_iter()
                .filter_map(|id| remote.remove(&id).map(|r| (id, r)))
                .collect()
        };
        for (instance, gone) in expired {
            tracing::warn!(%instance, "an instance stopped reporting; its users are offline");
            for (channel, users) in gone.channels {
                for user in users.into_values() {
                    if !self.online_locally(channel, user.id)
                        && !self.online_remotely(channel, user.id, None)
                    {
                        self.deliver_presence(channel, user, false);
                    }
                }
            }
        }
    }

    /// Closes every socket (shutdown).
    pub fn close_all(&self, code: u16) {
        for state in self.channels().values_mut() {
            state.close_all(code);
        }
    }

    /// Reads every channel's missed messages from the database (after a Redis outage).
    pub fn resync(&self) {
        let channels: Vec<ChannelId> = self.channels().keys().copied().collect();
        for channel in channels {
            self.schedule_fill(channel, Duration::ZERO);
        }
    }

    fn schedule_fill(&self, channel: ChannelId, wait: Duration) {
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            hub.fill(channel).await;
        });
    }

    /// Delivers what the database has after the channel's last delivered message.
    async fn fill(&self, channel: ChannelId) {
        let mut failures = 0_u32;
        loop {
            let Some(from) = self.channels().get(&channel).map(|s| s.last_seq) else {
                return;
            };
            let messages =
                match hearth_db::messages::since(&self.inner.db, channel, from, FILL_BATCH).await {
                    Ok(messages) => messages,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(%channel, error = %e, failures, "cannot fill a gap yet");
                        if failures >= 20 {
                            self.skip_gap(channel);
                            return;
                        }
                        tokio::time::sleep(GAP_WAIT * failures).await;
                        continue;
                    }
                };
            let full_batch = i64::try_from(messages.len()).unwrap_or(i64::MAX) >= FILL_BATCH;
            let mut channels = self.channels();
            let Some(state) = channels.get_mut(&channel) else {
                return;
            };
            for message in messages {
                let event = Event::ChatMessage {
                    new_message: ChatMessage::from(message),
                };
                if let Some(frame) = Frame::of(&event) {
                    let seq = event.seq().unwrap_or_default();
                    if seq > state.last_seq {
                        state.broadcast(&frame, None);
                        state.last_seq = seq;
                    }
                }
            }
            state.drain();
            if full_batch {
                continue;
            }
            if let Some((&next, _)) = state.pending.first_key_value() {
                // What is still missing was deleted before we read it: move past it.
                state.last_seq = next - 1;
                state.drain();
            }
            state.filling = !state.pending.is_empty();
            if !state.filling {
                return;
            }
        }
    }

    /// Gives up on a gap the database cannot fill (it stays down): deliver what is held.
    fn skip_gap(&self, channel: ChannelId) {
        if let Some(state) = self.channels().get_mut(&channel) {
            if let Some((&next, _)) = state.pending.first_key_value() {
                tracing::error!(%channel, from = state.last_seq, to = next, "skipping a gap");
                state.last_seq = next - 1;
                state.drain();
            }
            state.filling = false;
        }
    }

    /// Sockets connected on this instance (for metrics and tests).
    pub fn socket_count(&self) -> usize {
        self.channels().values().map(|s| s.subscribers.len()).sum()
    }
}

/// Typing and presence changes are not echoed to the user they are about.
fn echo_exception(event: &Event) -> Option<UserId> {
    match event {
        Event::Typing { user, .. } | Event::PresenceJoin { user, .. } => Some(user.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: Option<i64>) -> Frame {
        Frame {
            text: ByteString::from_static("{}"),
            seq,
        }
    }

    fn state_with(
        capacity: usize,
    ) -> (ChannelState, mpsc::Receiver<Frame>, oneshot::Receiver<u16>) {
        let (tx, rx) = mpsc::channel(capacity);
        let (kick, kicked) = oneshot::channel();
        let state = ChannelState {
            server: ServerId(1),
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
