//! Presence across instances: who is online through other instances, as they report it over
//! Redis, merged with this instance's own sockets. Local sockets hear only of users who came
//! online or went offline everywhere.

use super::channel::ChannelState;
use super::crowd::{Tell, Tick};
use super::{Frame, Hub};
use crate::gateway::protocol::ServerFrame;
use hearth_domain::{ChannelId, Event, UserId, UserRef};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How often large channels hear their online count (when it changed).
pub const PRESENCE_TICK: Duration = Duration::from_secs(2);

/// Another instance's presence, as it last reported it.
pub(super) struct RemoteInstance {
    pub(super) seen: Instant,
    pub(super) channels: HashMap<ChannelId, HashMap<UserId, UserRef>>,
    /// The users with any socket open there.
    pub(super) users: HashMap<UserId, UserRef>,
}

/// A change of one user's presence on another instance, or that instance's whole picture.
pub enum RemotePresence {
    Change {
        channel: ChannelId,
        user: UserRef,
        online: bool,
    },
    /// A user's first socket there opened (of any kind), or their last one closed.
    User { user: UserRef, online: bool },
    Snapshot {
        channels: Vec<(ChannelId, Vec<UserRef>)>,
        users: Vec<UserRef>,
    },
}

impl Hub {
    /// A user's first local socket in a channel opened, or their last one closed: tell local
    /// sockets if that changes whether the user is online at all, and tell other instances.
    pub(super) fn local_presence_changed(&self, channel: ChannelId, user: UserRef, online: bool) {
        if !self.online_remotely(channel, user.id, None) {
            self.deliver_presence(channel, user.clone(), online);
        }
        if let Some(bridge) = self.inner.bridge.get() {
            bridge.publish_presence(channel, &user, online);
        }
    }

    fn deliver_presence(&self, channel: ChannelId, user: UserRef, online: bool) {
        {
            let mut channels = self.channels();
            // Nobody here listens: nobody to tell.
            let Some(state) = channels.get_mut(&channel) else {
                return;
            };
            match state.crowd.changed(online, self.inner.presence_limit) {
                Tell::Each => {}
                Tell::Count(count) => {
                    tell(
                        state,
                        channel,
                        &ServerFrame::PresenceCount {
                            channel_id: channel,
                            count,
                        },
                    );
                    return;
                }
                Tell::Nothing => return,
            }
        }
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

    pub(super) fn online_remotely(
        &self,
        channel: ChannelId,
        user: UserId,
        except: Option<&str>,
    ) -> bool {
        self.remote().iter().any(|(instance, remote)| {
            Some(instance.as_str()) != except
                && remote
                    .channels
                    .get(&channel)
                    .is_some_and(|users| users.contains_key(&user))
        })
    }

    /// Tells large channels their online count when it changed, and channels that became
    /// small again their whole list; corrects every channel's count (every [`PRESENCE_TICK`]).
    pub fn presence_tick(&self) {
        let limit = self.inner.presence_limit;
        // Lock order: channels, then remote.
        let mut channels = self.channels();
        let remote = self.remote();
        for (channel, state) in channels.iter_mut() {
            let elsewhere: Vec<&HashMap<UserId, UserRef>> = remote
                .values()
                .filter_map(|r| r.channels.get(channel))
                .collect();
            let exact = if elsewhere.is_empty() {
                state.online.len()
            } else {
                let mut everyone: HashSet<UserId> = state.online.keys().copied().collect();
                everyone.extend(elsewhere.iter().flat_map(|users| users.keys()));
                everyone.len()
            };
            match state.crowd.tick(exact, limit) {
                Tick::Nothing => {}
                Tick::Count(count) => {
                    tell(
                        state,
                        *channel,
                        &ServerFrame::PresenceCount {
                            channel_id: *channel,
                            count,
                        },
                    );
                }
                Tick::List => {
                    let mut users: HashMap<UserId, UserRef> = state
                        .online
                        .iter()
                        .map(|(id, (user, _))| (*id, user.clone()))
                        .collect();
                    for (id, user) in elsewhere.iter().flat_map(|users| users.iter()) {
                        users.entry(*id).or_insert_with(|| user.clone());
                    }
                    let mut users: Vec<UserRef> = users.into_values().collect();
                    users.sort_by_key(|u| u.id);
                    let list = ServerFrame::PresenceList {
                        channel_id: *channel,
                        count: users.len(),
                        users,
                        complete: true,
                    };
                    tell(state, *channel, &list);
                }
            }
        }
    }

    /// Who is online in `channel` (on any instance): how many, and the first `limit` by user
    /// id above `after`.
    pub fn online_page(
        &self,
        channel: ChannelId,
        after: Option<UserId>,
        limit: usize,
    ) -> (usize, Vec<UserRef>) {
        let mut everyone: HashMap<UserId, UserRef> = self
            .channels()
            .get(&channel)
            .map(|state| {
                state
                    .online
                    .iter()
                    .map(|(id, (user, _))| (*id, user.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for users in self
            .remote()
            .values()
            .filter_map(|r| r.channels.get(&channel))
        {
            for (id, user) in users {
                everyone.entry(*id).or_insert_with(|| user.clone());
            }
        }
        let count = everyone.len();
        let mut page: Vec<UserRef> = everyone
            .into_values()
            .filter(|u| after.is_none_or(|after| u.id > after))
            .collect();
        if page.len() > limit {
            page.select_nth_unstable_by_key(limit, |u| u.id);
            page.truncate(limit);
        }
        page.sort_unstable_by_key(|u| u.id);
        (count, page)
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
        let mut people: Vec<(UserRef, bool)> = Vec::new();
        let changes: Vec<(ChannelId, UserRef, bool)> = {
            let mut remote = self.remote();
            let entry = remote
                .entry(instance.to_owned())
                .or_insert_with(|| RemoteInstance {
                    seen: Instant::now(),
                    channels: HashMap::new(),
                    users: HashMap::new(),
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
                RemotePresence::User { user, online } => {
                    let changed = if online {
                        entry.users.insert(user.id, user.clone()).is_none()
                    } else {
                        entry.users.remove(&user.id).is_some()
                    };
                    if changed {
                        people.push((user, online));
                    }
                    Vec::new()
                }
                RemotePresence::Snapshot { channels, users } => {
                    let fresh: HashMap<UserId, UserRef> =
                        users.into_iter().map(|u| (u.id, u)).collect();
                    let old = std::mem::replace(&mut entry.users, fresh);
                    people.extend(
                        old.values()
                            .filter(|u| !entry.users.contains_key(&u.id))
                            .map(|u| (u.clone(), false)),
                    );
                    people.extend(
                        entry
                            .users
                            .values()
                            .filter(|u| !old.contains_key(&u.id))
                            .map(|u| (u.clone(), true)),
                    );
                    let fresh: HashMap<ChannelId, HashMap<UserId, UserRef>> = channels
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
        for (user, online) in people {
            if !self.user_online_locally(user.id)
                && !self.user_online_remotely(user.id, Some(instance))
            {
                self.deliver_user_presence(&user, online);
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
            for user in gone.users.into_values() {
                if !self.user_online_locally(user.id) && !self.user_online_remotely(user.id, None) {
                    self.deliver_user_presence(&user, false);
                }
            }
        }
    }
}

/// Queues a gateway frame about `channel` for every socket following it here.
fn tell(state: &mut ChannelState, channel: ChannelId, frame: &ServerFrame) {
    match serde_json::to_string(frame) {
        Ok(json) => state.broadcast(&Frame::about(Some(channel), json.into()), None),
        Err(e) => tracing::error!(error = %e, "cannot serialize a presence frame"),
    }
}
