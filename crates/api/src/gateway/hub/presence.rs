//! Presence across instances: who is online through other instances, as they report it over
//! Redis, merged with this instance's own sockets. Local sockets hear only of users who came
//! online or went offline everywhere.

use super::{Frame, Hub};
use hearth_domain::{ChannelId, Event, UserId, UserRef};
use std::collections::HashMap;
use std::time::{Duration, Instant};

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
