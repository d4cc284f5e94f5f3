//! Who is online at all: a user is online while any socket of theirs (channel, conversation or
//! personal) is open on any instance, and offline once the last one closes, or once the
//! instance holding it stops reporting (a crash, after the presence silence used for
//! channels). Personal sockets hear of it for the users they watch: their DM partners.

use super::{Frame, Hub};
use crate::gateway::protocol::ServerFrame;
use hearth_domain::{UserId, UserRef};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Default)]
pub(super) struct People {
    /// Users with sockets open here, and how many.
    local: HashMap<UserId, (UserRef, usize)>,
    /// Who watches whom: watched user → watcher → how many of the watcher's personal sockets.
    watchers: HashMap<UserId, HashMap<UserId, usize>>,
}

/// One open socket of a user: they count as online while it lives.
pub struct Online {
    hub: Hub,
    user: UserRef,
}

impl Drop for Online {
    fn drop(&mut self) {
        let last = {
            let mut people = self.hub.people();
            match people.local.get_mut(&self.user.id) {
                Some((_, sockets)) if *sockets > 1 => {
                    *sockets -= 1;
                    false
                }
                Some(_) => {
                    people.local.remove(&self.user.id);
                    true
                }
                None => false,
            }
        };
        if last {
            self.hub.local_user_changed(&self.user, false);
        }
    }
}

/// A personal socket's interest in the presence of some users (its user's DM partners); it
/// stops when dropped.
pub struct Watching {
    hub: Hub,
    watcher: UserId,
    watched: HashSet<UserId>,
}

/// What changed for a personal socket when its watched users were set.
pub struct Watched {
    /// Newly watched users who are online (what the socket was not told yet).
    pub online: Vec<UserRef>,
    /// Users no longer watched who are online: the socket reports them offline, since it will
    /// not hear when they go.
    pub dropped: Vec<UserRef>,
}

impl Watching {
    /// Watches exactly `users` from now on.
    pub fn set(&mut self, users: impl IntoIterator<Item = UserId>) -> Watched {
        let wanted: HashSet<UserId> = users.into_iter().filter(|u| *u != self.watcher).collect();
        let added: Vec<UserId> = wanted.difference(&self.watched).copied().collect();
        let removed: Vec<UserId> = self.watched.difference(&wanted).copied().collect();
        {
            let mut people = self.hub.people();
            for user in &added {
                *people
                    .watchers
                    .entry(*user)
                    .or_default()
                    .entry(self.watcher)
                    .or_default() += 1;
            }
            people.unwatch(self.watcher, &removed);
        }
        self.watched = wanted;
        Watched {
            online: self.hub.online_among(&added),
            dropped: self.hub.online_among(&removed),
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let watched: Vec<UserId> = self.watched.drain().collect();
        self.hub.people().unwatch(self.watcher, &watched);
    }
}

impl People {
    fn unwatch(&mut self, watcher: UserId, users: &[UserId]) {
        for user in users {
            let Some(watchers) = self.watchers.get_mut(user) else {
                continue;
            };
            if let Some(count) = watchers.get_mut(&watcher) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    watchers.remove(&watcher);
                }
            }
            if watchers.is_empty() {
                self.watchers.remove(user);
            }
        }
    }
}

impl Hub {
    /// A socket of `user` opened here: they are online until the returned guard is dropped.
    pub fn connected(&self, user: &UserRef) -> Online {
        let first = {
            let mut people = self.people();
            let (_, sockets) = people
                .local
                .entry(user.id)
                .or_insert_with(|| (user.clone(), 0));
            *sockets += 1;
            *sockets == 1
        };
        if first {
            self.local_user_changed(user, true);
        }
        Online {
            hub: self.clone(),
            user: user.clone(),
        }
    }

    /// A personal socket of `watcher` that watches nobody yet.
    pub fn watching(&self, watcher: UserId) -> Watching {
        Watching {
            hub: self.clone(),
            watcher,
            watched: HashSet::new(),
        }
    }

    /// The users with sockets open here, for the heartbeat other instances rely on.
    pub fn users_snapshot(&self) -> Vec<UserRef> {
        self.people()
            .local
            .values()
            .map(|(user, _)| user.clone())
            .collect()
    }

    /// Those of `users` online anywhere.
    fn online_among(&self, users: &[UserId]) -> Vec<UserRef> {
        let people = self.people();
        let remote = self.remote();
        users
            .iter()
            .filter_map(|id| {
                people
                    .local
                    .get(id)
                    .map(|(user, _)| user.clone())
                    .or_else(|| {
                        remote
                            .values()
                            .find_map(|instance| instance.users.get(id).cloned())
                    })
            })
            .collect()
    }

    /// The user's first socket here opened, or their last one closed: their watchers hear of
    /// it unless another instance has them online, and the other instances are told.
    fn local_user_changed(&self, user: &UserRef, online: bool) {
        if !self.user_online_remotely(user.id, None) {
            self.deliver_user_presence(user, online);
        }
        if let Some(bridge) = self.inner.bridge.get() {
            bridge.publish_user_presence(user, online);
        }
    }

    pub(super) fn user_online_locally(&self, user: UserId) -> bool {
        self.people().local.contains_key(&user)
    }

    pub(super) fn user_online_remotely(&self, user: UserId, except: Option<&str>) -> bool {
        self.remote().iter().any(|(instance, remote)| {
            Some(instance.as_str()) != except && remote.users.contains_key(&user)
        })
    }

    /// Whom `users` may see online changed in a way no conversation event says (a block or an
    /// unblock between them): their personal sockets, here and on other instances, read their
    /// DM partners again.
    pub fn partners_changed(&self, users: &[UserId]) {
        self.deliver_partners_changed(users);
        if let Some(bridge) = self.inner.bridge.get() {
            bridge.publish_partners_changed(users);
        }
    }

    /// [`Hub::partners_changed`] for the personal sockets here.
    pub(crate) fn deliver_partners_changed(&self, users: &[UserId]) {
        self.to_personal_sockets(users, &Arc::new(Frame::refresh_partners()));
    }

    /// Tells the personal sockets here that watch `user` that they came online or went
    /// offline (everywhere).
    pub(super) fn deliver_user_presence(&self, user: &UserRef, online: bool) {
        let watchers: Vec<UserId> = match self.people().watchers.get(&user.id) {
            Some(watchers) => watchers.keys().copied().collect(),
            None => return,
        };
        let frame = ServerFrame::UserPresence {
            user: user.clone(),
            online,
        };
        let text = match serde_json::to_string(&frame) {
            Ok(text) => text,
            Err(e) => return tracing::error!(error = %e, "cannot serialize presence"),
        };
        self.to_personal_sockets(&watchers, &Arc::new(Frame::plain(text.into())));
    }
}
