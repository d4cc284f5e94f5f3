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
use crate::monitoring::Metrics;
use hearth_db::Db;
use hearth_domain::{Audience, ChannelId, ChatMessage, Event, ServerId, UserId, UserRef};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long a channel holds an early message before reading the gap from the database.
pub const GAP_WAIT: Duration = Duration::from_millis(150);
/// How many frames a socket may have queued before it counts as too slow.
pub const QUEUE: usize = 1024;
/// Messages read from the database per round trip when filling a gap or replaying.
pub const FILL_BATCH: i64 = 500;

mod channel;
mod crowd;
mod news;
mod people;
mod presence;
mod sequence;

use channel::{ChannelState, Subscriber};
pub use channel::{Closer, Frame, Kicked, Kicks};
use people::People;
pub use people::{Watched, Watching};
use presence::RemoteInstance;
pub use presence::{RemotePresence, PRESENCE_TICK};
use sequence::AfterRead;

/// A socket's registration with a channel; unregisters when dropped. Its frames go to the
/// queue it was registered with.
pub struct Subscription {
    pub id: u64,
    pub channel: ChannelId,
    user: UserId,
    hub: Hub,
}

/// What a socket learns when it joins a channel (used once, not kept: a personal socket holds
/// up to 200 subscriptions).
pub struct Arrival {
    /// The channel's last delivered sequence number when this socket joined: a replay covers
    /// everything up to it, live frames everything after.
    pub joined_at_seq: i64,
    /// Who was online in the channel when this socket joined (itself included): everyone in a
    /// small channel, a first page of at most the presence limit in a large one.
    pub online: Vec<UserRef>,
    /// How many were online (anywhere).
    pub online_count: usize,
    /// Whether `online` holds everyone.
    pub complete: bool,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.channel, self.id, self.user);
    }
}

/// A channel socket's registration: its subscription, its own queue, and its close.
pub struct Joined {
    pub subscription: Subscription,
    pub arrival: Arrival,
    pub frames: mpsc::Receiver<Arc<Frame>>,
    /// Fires when the hub closes the socket, with the close code.
    pub kicked: oneshot::Receiver<u16>,
}

/// A personal socket's registration for what is addressed to its user; unregisters when
/// dropped.
pub struct UserRegistration {
    id: u64,
    user: UserId,
    /// Fires when the hub closes the socket (too slow, shutting down), with the close code.
    pub kicked: oneshot::Receiver<u16>,
    hub: Hub,
}

impl Drop for UserRegistration {
    fn drop(&mut self) {
        let last = {
            let mut users = self.hub.users();
            match users.get_mut(&self.user) {
                Some(endpoints) => {
                    endpoints.retain(|e| e.id != self.id);
                    let last = endpoints.is_empty();
                    if last {
                        users.remove(&self.user);
                    }
                    last
                }
                None => false,
            }
        };
        // The user's last personal socket here: nobody hears of their servers for them any
        // more (the users lock is released first: the servers lock is always taken before it).
        if last {
            let mut servers = self.hub.servers();
            servers.retain(|_, users| {
                users.retain(|u| *u != self.user);
                !users.is_empty()
            });
        }
    }
}

/// Routes events to local sockets and, through the Redis bridge, to other instances.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    channels: Mutex<HashMap<ChannelId, ChannelState>>,
    /// The personal sockets of each user, for what is addressed to them.
    users: Mutex<HashMap<UserId, Vec<Subscriber>>>,
    /// The servers each user's personal sockets hear of (the servers the user is a member of).
    servers: Mutex<HashMap<ServerId, Vec<UserId>>>,
    /// New messages of servers' channels since the last tick (`unread.updated`).
    news: Mutex<news::News>,
    db: Db,
    metrics: Metrics,
    next_id: AtomicU64,
    bridge: OnceLock<Bridge>,
    /// Who is online through other instances, by instance id (learned through Redis).
    remote: Mutex<HashMap<String, RemoteInstance>>,
    /// Who has sockets open here, and who watches whose presence. Never locked while
    /// `remote` is held (the other way round is fine).
    people: Mutex<People>,
    /// Past this many online users a channel is large: counts instead of every arrival.
    presence_limit: usize,
}

impl Hub {
    /// A hub whose channels count as large past `presence_limit` online users.
    pub fn new(db: Db, metrics: Metrics, presence_limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                channels: Mutex::new(HashMap::new()),
                users: Mutex::new(HashMap::new()),
                servers: Mutex::new(HashMap::new()),
                news: Mutex::new(HashMap::new()),
                db,
                metrics,
                next_id: AtomicU64::new(1),
                bridge: OnceLock::new(),
                remote: Mutex::new(HashMap::new()),
                people: Mutex::new(People::default()),
                presence_limit,
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Open sockets, the frames queued for them in all, and the longest queue.
    pub fn queue_stats(&self) -> (usize, usize, usize) {
        let queued = |s: &Subscriber| QUEUE.saturating_sub(s.tx.capacity());
        // A personal socket's subscriptions share its queue: it is counted once, as its user
        // registration.
        let channels: Vec<usize> = self
            .channels()
            .values()
            .flat_map(|state| &state.subscribers)
            .filter(|s| !s.personal)
            .map(queued)
            .collect();
        let personal: Vec<usize> = self.users().values().flatten().map(queued).collect();
        channels
            .into_iter()
            .chain(personal)
            .fold((0, 0, 0), |(sockets, total, longest), queued| {
                (sockets + 1, total + queued, longest.max(queued))
            })
    }

    fn servers(&self) -> MutexGuard<'_, HashMap<ServerId, Vec<UserId>>> {
        self.inner
            .servers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The personal sockets of `user` hear of `servers` from now on (what happens in them: the
    /// catalogue's changes, channels, membership), without subscribing to their channels.
    pub fn follow_servers(&self, user: UserId, servers: &[ServerId]) {
        let mut followed = self.servers();
        for server in servers {
            let users = followed.entry(*server).or_default();
            if !users.contains(&user) {
                users.push(user);
            }
        }
    }

    /// Delivers a server's event to the personal sockets of its members here, once each
    /// (membership changes to the member concerned only), and keeps their servers up to date: a user who joins hears of the server from then on
    /// (their own `member.joined` included), one who leaves or is removed, up to and
    /// including their `member.left`.
    fn deliver_to_members(&self, server: ServerId, event: &Event, frame: &Arc<Frame>) {
        let joined = match event {
            Event::MemberJoined { user_id, .. } if self.users().contains_key(user_id) => {
                Some(*user_id)
            }
            _ => None,
        };
        if let Some(user) = joined {
            self.follow_servers(user, &[server]);
        }
        let members: Vec<UserId> = {
            let mut followed = self.servers();
            let mut members = followed.get(&server).cloned().unwrap_or_default();
            // Membership changes reach the personal sockets of the member concerned only: in
            // a crowded server everyone else's would be noise, and a cost that grows with it.
            if let Event::MemberJoined { user_id, .. } | Event::MemberLeft { user_id, .. } = event {
                members.retain(|u| u == user_id);
            }
            match event {
                Event::MemberLeft { user_id, .. } => {
                    if let Some(users) = followed.get_mut(&server) {
                        users.retain(|u| u != user_id);
                    }
                }
                Event::ServerDeleted { .. } => {
                    followed.remove(&server);
                }
                _ => {}
            }
            members
        };
        if !members.is_empty() {
            self.to_personal_sockets(&members, frame);
        }
    }

    /// Queues `frame` to every personal socket here of each of `users`.
    pub(super) fn to_personal_sockets<'a>(
        &self,
        users: impl IntoIterator<Item = &'a UserId>,
        frame: &Arc<Frame>,
    ) {
        let too_slow = &self.inner.metrics.too_slow;
        let mut registrations = self.users();
        for user in users {
            for endpoint in registrations.get_mut(user).into_iter().flatten() {
                endpoint.send(frame, too_slow);
            }
        }
    }

    fn people(&self) -> MutexGuard<'_, People> {
        self.inner
            .people
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn users(&self) -> MutexGuard<'_, HashMap<UserId, Vec<Subscriber>>> {
        self.inner
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a personal socket of `user`, whose queue is `tx`, for events addressed to
    /// that user. It keeps `delivered` at the last number of the user's event log it sent, so
    /// the hub can tell when it is behind the log.
    pub fn register_user(
        &self,
        user: UserId,
        tx: mpsc::Sender<Arc<Frame>>,
        delivered: Arc<AtomicI64>,
    ) -> UserRegistration {
        let (kick, kicked) = oneshot::channel();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.users().entry(user).or_default().push(Subscriber {
            id,
            user,
            tx,
            kick: Some(Closer::Once(kick)),
            personal: true,
            delivered: Some(delivered),
        });
        UserRegistration {
            id,
            user,
            kicked,
            hub: self.clone(),
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
        if let Event::ChatMessage { new_message } = event {
            self.note_news(new_message);
        }
        let mut gap = None;
        {
            let mut channels = self.channels();
            match event.audience() {
                Audience::Channel(channel) => {
                    if let Some(state) = channels.get_mut(&channel) {
                        match (frame.seq, event.message_seq()) {
                            (Some(seq), _) => state.sequence(seq, frame, |_| gap = Some(channel)),
                            // About a message: after it, on every socket.
                            (None, Some(message)) => {
                                if state.about_message(message, frame, echo_exception(event)) {
                                    gap = Some(channel);
                                }
                            }
                            (None, None) => state.broadcast(&frame, echo_exception(event)),
                        }
                    }
                }
                Audience::Server(server) => {
                    // Personal sockets hear of a server through its membership, not through
                    // the channels they follow (once, whatever they follow).
                    for state in channels.values_mut().filter(|s| s.server == Some(server)) {
                        state.broadcast_to_channel_sockets(&frame);
                    }
                    self.deliver_to_members(server, event, &Arc::new(frame));
                }
                Audience::User(user) => {
                    // Rare (a private message): a walk over the channel sockets beats an index
                    // that every connect and disconnect would have to keep. Personal sockets
                    // hear it once, through their user registration.
                    let frame = Arc::new(frame);
                    for state in channels.values_mut() {
                        state.send_to(user, &frame);
                    }
                    self.to_personal_sockets([&user], &frame);
                }
                Audience::Personal(user) => {
                    self.to_personal_sockets([&user], &Arc::new(frame));
                }
            }
            // Sockets of what no longer exists are told why, then closed (on every instance,
            // since remote events arrive here too).
            match event {
                Event::ServerDeleted { server_id } => {
                    for state in channels
                        .values_mut()
                        .filter(|s| s.server == Some(*server_id))
                    {
                        state.close_all(close::NOT_FOUND);
                    }
                }
                Event::ChannelDeleted { channel_id, .. } => {
                    if let Some(state) = channels.get_mut(channel_id) {
                        state.close_all(close::NOT_FOUND);
                    }
                }
                Event::ParticipantLeft {
                    channel_id,
                    user_id,
                } => {
                    if let Some(state) = channels.get_mut(channel_id) {
                        state.close_user(*user_id, close::NOT_FOUND);
                    }
                }
                Event::AccountDeleted { to } => {
                    for endpoint in self.users().get_mut(to).into_iter().flatten() {
                        endpoint.close(close::NOT_AUTHENTICATED);
                    }
                    for state in channels.values_mut() {
                        state.close_user(*to, close::NOT_AUTHENTICATED);
                    }
                }
                _ => {}
            }
        }
        if let Some(channel) = gap {
            self.schedule_fill(channel, GAP_WAIT);
        }
    }

    /// Registers a socket of `user` on `channel` (of `server`; `None` for a conversation),
    /// with a queue of its own.
    pub async fn subscribe(
        &self,
        server: Option<ServerId>,
        channel: ChannelId,
        user: UserRef,
    ) -> Result<Joined, hearth_db::DomainError> {
        let (tx, frames) = mpsc::channel(QUEUE);
        let (kick, kicked) = oneshot::channel();
        let (subscription, arrival) = self
            .subscribe_to(server, channel, user, tx, Closer::Once(kick))
            .await?;
        Ok(Joined {
            subscription,
            arrival,
            frames,
            kicked,
        })
    }

    /// Registers a socket of `user` on `channel` whose frames go to `tx` and whose close goes
    /// to `closer`: a personal socket's queues (`Closer::Shared`), shared by all its
    /// subscriptions, or a channel socket's own.
    pub async fn subscribe_to(
        &self,
        server: Option<ServerId>,
        channel: ChannelId,
        user: UserRef,
        tx: mpsc::Sender<Arc<Frame>>,
        closer: Closer,
    ) -> Result<(Subscription, Arrival), hearth_db::DomainError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut subscriber = Some(Subscriber {
            id,
            user: user.id,
            tx,
            personal: matches!(closer, Closer::Shared { .. }),
            kick: Some(closer),
            delivered: None,
        });
        // A channel nobody here listens to starts from the database's last sequence number. It is
        // read without holding the lock, so check again afterwards: the channel may have gained
        // (or lost) its state meanwhile.
        let limit = self.inner.presence_limit;
        let mut database_seq = None;
        let (joined_at_seq, mut online, first_socket) = loop {
            {
                let mut channels = self.channels();
                let state = match (channels.get_mut(&channel), database_seq) {
                    (Some(_), _) => channels.get_mut(&channel),
                    (None, Some(last_seq)) => Some(channels.entry(channel).or_insert(
                        ChannelState::new(server, last_seq, self.inner.metrics.too_slow.clone()),
                    )),
                    (None, None) => None,
                };
                if let Some(state) = state {
                    state.subscribers.extend(subscriber.take());
                    let count = &mut state.online.entry(user.id).or_insert((user.clone(), 0)).1;
                    *count += 1;
                    let first_socket = *count == 1;
                    // A first page only: a whole list per arrival would make N arrivals cost
                    // N² (the rest is on request).
                    let mut online: Vec<UserRef> =
                        Vec::with_capacity(state.online.len().min(limit));
                    online.push(user.clone());
                    online.extend(
                        state
                            .online
                            .values()
                            .filter(|(u, _)| u.id != user.id)
                            .take(limit.saturating_sub(1))
                            .map(|(u, _)| u.clone()),
                    );
                    break (state.sequence.last(), online, first_socket);
                }
            }
            database_seq = Some(
                hearth_db::messages::last_seq(&self.inner.db, channel)
                    .await?
                    .unwrap_or(0),
            );
        };
        'remote: for remote in self.remote().values() {
            for other in remote
                .channels
                .get(&channel)
                .into_iter()
                .flat_map(|u| u.values())
            {
                if online.len() >= limit {
                    break 'remote;
                }
                if !online.iter().any(|u| u.id == other.id) {
                    online.push(other.clone());
                }
            }
        }
        if first_socket {
            self.local_presence_changed(channel, user.clone(), true);
        }
        // Read after this arrival was counted.
        let (online_count, large) = self
            .channels()
            .get(&channel)
            .map_or((online.len(), false), |state| {
                (state.crowd.count().max(online.len()), state.crowd.large())
            });
        let subscription = Subscription {
            id,
            channel,
            user: user.id,
            hub: self.clone(),
        };
        Ok((
            subscription,
            Arrival {
                joined_at_seq,
                complete: !large && online.len() >= online_count,
                online,
                online_count,
            },
        ))
    }

    fn unsubscribe(&self, channel: ChannelId, id: u64, user: UserId) {
        let gone = {
            let mut channels = self.channels();
            let Some(state) = channels.get_mut(&channel) else {
                return;
            };
            state.subscribers.retain(|s| s.id != id);
            // The user's last socket here: they leave the channel's online list.
            let gone = match state.online.get_mut(&user) {
                Some((_, count)) if *count > 1 => {
                    *count -= 1;
                    None
                }
                Some(_) => state.online.remove(&user).map(|(user, _)| user),
                None => None,
            };
            if state.subscribers.is_empty() {
                channels.remove(&channel);
            }
            gone
        };
        if let Some(user) = gone {
            self.local_presence_changed(channel, user, false);
        }
    }

    /// Closes every socket (shutdown).
    pub fn close_all(&self, code: u16) {
        for state in self.channels().values_mut() {
            state.close_all(code);
        }
        for endpoint in self.users().values_mut().flatten() {
            endpoint.close(code);
        }
    }

    /// Fills every channel that is behind the database: a cheap, batched check for messages
    /// another instance stored but could not announce (its Redis publish failed while ours
    /// kept listening).
    pub async fn catch_up(&self, db: &Db) {
        let delivered: Vec<(ChannelId, i64)> = self
            .channels()
            .iter()
            .map(|(channel, state)| (*channel, state.sequence.last()))
            .collect();
        let ids: Vec<ChannelId> = delivered.iter().map(|(id, _)| *id).collect();
        match hearth_db::channels::last_seqs(db, &ids).await {
            Ok(stored) => {
                for (channel, seq) in delivered {
                    if stored.get(&channel).is_some_and(|last| *last > seq) {
                        self.schedule_fill(channel, Duration::ZERO);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot check channels for missed messages"),
        }
        self.catch_up_users(db).await;
    }

    /// Wakes the personal sockets that are behind their user's event log (one read for all).
    async fn catch_up_users(&self, db: &Db) {
        let ids: Vec<UserId> = self
            .users()
            .iter()
            .filter(|(_, endpoints)| endpoints.iter().any(|e| e.delivered.is_some()))
            .map(|(user, _)| *user)
            .collect();
        match hearth_db::user_events::heads(db, &ids).await {
            Ok(heads) => {
                let heads: Vec<(UserId, i64)> = heads
                    .into_iter()
                    .map(|(user, head)| (user, head.seq))
                    .collect();
                self.wake_users(&heads);
            }
            Err(e) => tracing::warn!(error = %e, "cannot check personal sockets for missed events"),
        }
    }

    /// Wakes the personal sockets of each user whose log reaches a number they did not send.
    fn wake_users(&self, heads: &[(UserId, i64)]) {
        let wake = Arc::new(Frame::wake());
        let too_slow = &self.inner.metrics.too_slow;
        let mut users = self.users();
        for (user, head) in heads {
            for endpoint in users.get_mut(user).into_iter().flatten() {
                let behind = endpoint
                    .delivered
                    .as_ref()
                    .is_some_and(|d| d.load(Ordering::Relaxed) < *head);
                if behind {
                    endpoint.send(&wake, too_slow);
                }
            }
        }
    }

    /// Reads every channel's missed messages from the database, and has every personal socket
    /// read its event log (after a Redis outage).
    pub fn resync(&self) {
        let channels: Vec<ChannelId> = self.channels().keys().copied().collect();
        for channel in channels {
            self.schedule_fill(channel, Duration::ZERO);
        }
        let catch_up = Arc::new(Frame::catch_up());
        let too_slow = &self.inner.metrics.too_slow;
        for endpoint in self.users().values_mut().flatten() {
            endpoint.send(&catch_up, too_slow);
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
    ///
    /// A number the read does not return is either a deleted message or one committed after
    /// the read (its announcement still on the way). Only numbers up to the channel's counter
    /// as read *before* the messages are known to be committed, so only those are skipped as
    /// deleted; anything later is waited for and read again, never skipped (skipping it would
    /// drop the message when its announcement arrives).
    async fn fill(&self, channel: ChannelId) {
        self.inner.metrics.gap_fills.increment(1);
        let mut failures = 0_u32;
        let mut rounds_without_progress = 0_u32;
        loop {
            let Some(from) = self.channels().get(&channel).map(|s| s.sequence.last()) else {
                return;
            };
            let read = async {
                let committed = hearth_db::messages::last_seq(&self.inner.db, channel).await?;
                let messages =
                    hearth_db::messages::since(&self.inner.db, channel, from, FILL_BATCH).await?;
                Ok::<_, hearth_domain::DomainError>((committed, messages))
            };
            let (committed, messages) = match read.await {
                Ok((Some(committed), messages)) => (committed, messages),
                // The channel is gone; its sockets are closed by the deletion event.
                Ok((None, _)) => return,
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
            let truncated = i64::try_from(messages.len()).unwrap_or(i64::MAX) >= FILL_BATCH;
            let items = messages
                .into_iter()
                .filter_map(|message| {
                    let event = Event::ChatMessage {
                        new_message: ChatMessage::from(message),
                    };
                    Some((event.seq()?, Frame::of(&event)?))
                })
                .collect();
            let read = sequence::Read {
                committed,
                items,
                truncated,
            };
            let after = {
                let mut channels = self.channels();
                let Some(state) = channels.get_mut(&channel) else {
                    return;
                };
                state.filled(read)
            };
            match after {
                AfterRead::Closed => return,
                AfterRead::ReadOn => continue,
                AfterRead::Wait { progressed: true } => rounds_without_progress = 0,
                AfterRead::Wait { progressed: false } => rounds_without_progress += 1,
            }
            // What is still missing was committed after the read: its announcement (or the
            // next read) brings it. A number that never appears (a sender's transaction lost
            // in a crash between numbering and commit cannot leave one, but be safe) is given
            // up on after a while rather than holding the channel forever.
            if rounds_without_progress >= 40 {
                self.skip_gap(channel);
                return;
            }
            tokio::time::sleep(GAP_WAIT).await;
        }
    }

    /// Gives up on a gap the database cannot fill (it stays down): deliver what is held.
    fn skip_gap(&self, channel: ChannelId) {
        if let Some(state) = self.channels().get_mut(&channel) {
            if let Some((from, to)) = state.skip_gap() {
                tracing::error!(%channel, from, to, "skipping a gap");
            }
        }
    }
}

/// Typing and presence changes are not echoed to the user they are about.
fn echo_exception(event: &Event) -> Option<UserId> {
    match event {
        Event::Typing { user, .. } | Event::PresenceJoin { user, .. } => Some(user.id),
        _ => None,
    }
}
