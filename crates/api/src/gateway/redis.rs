//! Fan-out between instances through Redis pub/sub.
//!
//! Each process publishes every event it delivers (through a deadpool-redis pool, in order, from
//! one task) and keeps **one** subscriber connection that hands other instances' events to the
//! local hub. Payloads are `<instance id>|<event JSON>`, so an instance skips its own events and
//! delivers the others' bytes as they are, without re-serializing.
//!
//! When Redis goes away, local delivery goes on; the subscriber reconnects with back-off and,
//! once subscribed again, every channel reads what it missed from the database.
//!
//! Every [`HEARTBEAT`], channels are also compared with the database, in one query, so a
//! message whose announcement was lost (another instance's publish failed) still arrives.
//!
//! Presence travels on a second topic: each instance announces its users' first and last
//! sockets per channel and, every [`HEARTBEAT`], its whole picture. An instance not heard from
//! for [`SILENCE`] (a crash) is forgotten, and its users go offline everywhere.

use super::hub::{Frame, Hub, RemotePresence};
use bytestring::ByteString;
use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Config, Runtime};
use futures_util::StreamExt;
use hearth_db::Db;
use hearth_domain::{ChannelId, Event, UserId, UserRef};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::mpsc;

/// Events waiting to be published; beyond this an outage drops them (receivers refill chat
/// messages from the database once they resubscribe).
const OUTBOX: usize = 65_536;
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often an instance reports its presence picture.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long an instance may stay silent before its users count as offline.
pub const SILENCE: Duration = Duration::from_secs(15);

/// Which topic an outgoing payload goes to.
#[derive(Debug, Clone, Copy)]
enum Topic {
    Events,
    Presence,
}

/// What instances tell each other about presence.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum PresenceMessage {
    Change {
        channel_id: ChannelId,
        user: UserRef,
        online: bool,
    },
    /// A user's first socket of any kind opened here, or their last one closed.
    User { user: UserRef, online: bool },
    /// These users' DM partners changed (a block or an unblock between them).
    Partners { users: Vec<UserId> },
    Snapshot {
        channels: Vec<(ChannelId, Vec<UserRef>)>,
        /// Every user with a socket open (absent from older instances' reports).
        #[serde(default)]
        users: Vec<UserRef>,
    },
}

/// The link from this instance to the others.
#[derive(Clone)]
pub struct Bridge {
    outbox: mpsc::Sender<(Topic, ByteString)>,
}

impl Bridge {
    /// Starts the publisher and the subscriber tasks on the current runtime.
    /// `upkeep` is the heartbeat's own connection (its checks run off the request workers).
    pub fn start(url: &str, prefix: &str, hub: Hub, upkeep: Db) -> anyhow::Result<Bridge> {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let topics = Topics {
            events: format!("{prefix}:events"),
            presence: format!("{prefix}:presence"),
        };
        let pool = Config::from_url(url).create_pool(Some(Runtime::Tokio1))?;
        let client = redis::Client::open(url)?;
        let (outbox, queue) = mpsc::channel(OUTBOX);
        let bridge = Bridge { outbox };
        tokio::spawn(publish_loop(pool, topics.clone(), instance.clone(), queue));
        tokio::spawn(subscribe_loop(client, topics, instance, hub.clone()));
        tokio::spawn(heartbeat_loop(bridge.clone(), hub, upkeep));
        Ok(bridge)
    }

    fn send(&self, topic: Topic, payload: ByteString) {
        if self.outbox.try_send((topic, payload)).is_err() {
            tracing::warn!(
                ?topic,
                "redis outbox full: a message was not sent to other instances"
            );
        }
    }

    /// Queues `event_json` for the other instances; never blocks the caller.
    pub fn publish(&self, event_json: &ByteString) {
        self.send(Topic::Events, event_json.clone());
    }

    /// Tells other instances a user's first (or last) local socket in a channel opened (closed).
    pub fn publish_presence(&self, channel: ChannelId, user: &UserRef, online: bool) {
        self.send_presence(&PresenceMessage::Change {
            channel_id: channel,
            user: user.clone(),
            online,
        });
    }

    /// Tells other instances a user's first (or last) local socket of any kind opened (closed).
    pub fn publish_user_presence(&self, user: &UserRef, online: bool) {
        self.send_presence(&PresenceMessage::User {
            user: user.clone(),
            online,
        });
    }

    /// Tells other instances that `users`' personal sockets should read their partners again.
    pub fn publish_partners_changed(&self, users: &[UserId]) {
        self.send_presence(&PresenceMessage::Partners {
            users: users.to_vec(),
        });
    }

    fn send_presence(&self, message: &PresenceMessage) {
        match serde_json::to_string(message) {
            Ok(json) => self.send(Topic::Presence, json.into()),
            Err(e) => tracing::error!(error = %e, "cannot serialize presence"),
        }
    }
}

#[derive(Clone)]
struct Topics {
    events: String,
    presence: String,
}

async fn heartbeat_loop(bridge: Bridge, hub: Hub, db: Db) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        bridge.send_presence(&PresenceMessage::Snapshot {
            channels: hub.presence_snapshot(),
            users: hub.users_snapshot(),
        });
        hub.expire_instances(SILENCE);
        hub.catch_up(&db).await;
    }
}

async fn publish_loop(
    pool: deadpool_redis::Pool,
    topics: Topics,
    instance: String,
    mut queue: mpsc::Receiver<(Topic, ByteString)>,
) {
    let mut healthy = true;
    while let Some((topic, event)) = queue.recv().await {
        let topic = match topic {
            Topic::Events => &topics.events,
            Topic::Presence => &topics.presence,
        };
        let mut payload = Vec::with_capacity(instance.len() + 1 + event.len());
        payload.extend_from_slice(instance.as_bytes());
        payload.push(b'|');
        payload.extend_from_slice(event.as_bytes());
        let sent = async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            conn.publish::<_, _, ()>(topic, payload)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(Duration::from_secs(2), sent).await {
            Ok(Ok(())) => {
                if !healthy {
                    tracing::info!("publishing to redis again");
                    healthy = true;
                }
            }
            Ok(Err(e)) => {
                if healthy {
                    tracing::warn!(error = %e, "cannot publish to redis; other instances will catch up from the database");
                    healthy = false;
                }
            }
            Err(_) => {
                if healthy {
                    tracing::warn!("publishing to redis timed out");
                    healthy = false;
                }
            }
        }
    }
}

async fn subscribe_loop(client: redis::Client, topics: Topics, instance: String, hub: Hub) {
    let mut backoff = Duration::from_millis(100);
    let mut subscribed_before = false;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub
                .subscribe(&[topics.events.as_str(), topics.presence.as_str()])
                .await
            {
                Ok(()) => {
                    tracing::info!(topic = %topics.events, "subscribed to redis");
                    backoff = Duration::from_millis(100);
                    if subscribed_before {
                        hub.metrics().redis_reconnects.increment(1);
                    }
                    subscribed_before = true;
                    // Whatever other instances sent while we were not listening is in the
                    // database.
                    hub.resync();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let presence = message.get_channel_name() == topics.presence;
                        receive(&hub, &instance, message.get_payload_bytes(), presence);
                    }
                    tracing::warn!("lost the redis subscription; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to redis"),
            },
            Err(e) => tracing::warn!(error = %e, ?backoff, "cannot connect to redis; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn receive(hub: &Hub, instance: &str, payload: &[u8], presence: bool) {
    let Some(split) = payload.iter().position(|b| *b == b'|') else {
        tracing::warn!("ignoring a malformed redis message");
        return;
    };
    let (origin, json) = (&payload[..split], &payload[split + 1..]);
    if origin == instance.as_bytes() {
        return;
    }
    if presence {
        let (Ok(origin), Ok(message)) = (
            std::str::from_utf8(origin),
            serde_json::from_slice::<PresenceMessage>(json),
        ) else {
            tracing::warn!("ignoring an undecodable presence message");
            return;
        };
        let report = match message {
            PresenceMessage::Change {
                channel_id,
                user,
                online,
            } => RemotePresence::Change {
                channel: channel_id,
                user,
                online,
            },
            PresenceMessage::User { user, online } => RemotePresence::User { user, online },
            PresenceMessage::Partners { users } => {
                hub.deliver_partners_changed(&users);
                return;
            }
            PresenceMessage::Snapshot { channels, users } => {
                RemotePresence::Snapshot { channels, users }
            }
        };
        hub.remote_presence(origin, report);
        return;
    }
    let (Ok(event), Ok(text)) = (
        serde_json::from_slice::<Event>(json),
        std::str::from_utf8(json),
    ) else {
        tracing::warn!("ignoring an undecodable redis message");
        return;
    };
    if let Event::ChatMessage { new_message } = &event {
        // Stored (and published) on the other instance at `timestamp`: clocks of one cluster
        // agree closely enough for a lag in milliseconds.
        let lag = chrono::Utc::now() - new_message.timestamp;
        hub.metrics()
            .redis_lag
            .record(lag.to_std().unwrap_or_default().as_secs_f64());
    }
    let frame = Frame::with_text(&event, ByteString::from(text));
    hub.deliver(&event, frame);
}
