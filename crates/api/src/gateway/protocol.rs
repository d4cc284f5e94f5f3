//! The frames a socket exchanges, besides the domain events (see `docs/websocket.md`).

use hearth_domain::{ChannelId, ServerId, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a client may send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// Send a chat message (1–2000 characters after trimming).
    #[serde(rename = "message")]
    Message {
        message: String,
        /// Optional de-duplication key (at most 64 characters): resending the same nonce within
        /// 10 minutes yields the same message.
        #[serde(default)]
        nonce: Option<String>,
        /// The id of a message of the same channel it answers (an `invalid_reply` error
        /// otherwise).
        #[serde(default)]
        reply_to: Option<i64>,
    },
    /// Application-level keep-alive; answered with `{"type":"pong"}`.
    #[serde(rename = "ping")]
    Ping,
    /// The user is typing; relayed to the channel's other sockets, throttled.
    #[serde(rename = "typing")]
    Typing,
}

/// A channel or conversation for a personal socket to follow.
/// A channel and the `seq` of its last message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelSeq {
    pub channel_id: ChannelId,
    pub last_seq: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscribeTo {
    /// The channel's (or the conversation's) id.
    pub id: ChannelId,
    /// Replay its messages with a sequence number above this one first.
    #[serde(default)]
    pub after: Option<i64>,
}

/// What a client may send on its personal socket (`/ws/me`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum PersonalClientFrame {
    /// Follow these channels and conversations (at most 200 per socket).
    #[serde(rename = "subscribe")]
    Subscribe { channels: Vec<SubscribeTo> },
    /// Stop following these.
    #[serde(rename = "unsubscribe")]
    Unsubscribe { channels: Vec<ChannelId> },
    /// The user is typing in a followed channel or conversation; relayed, throttled.
    #[serde(rename = "typing")]
    Typing { channel_id: ChannelId },
    /// Answered with `{"type":"pong"}`.
    #[serde(rename = "ping")]
    Ping,
}

/// Frames only the gateway sends (domain events are sent as they serialize).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type")]
pub enum ServerFrame {
    /// Who is online in the channel: once on connect, and again to every socket when a large
    /// channel becomes small. `count` users are online; `users` holds them all when
    /// `complete`, else a first page of at most the channel's presence limit (100 by default:
    /// the rest from `GET /api/channels/{channel_id}/online/`).
    #[serde(rename = "presence.list")]
    PresenceList {
        channel_id: ChannelId,
        users: Vec<UserRef>,
        count: usize,
        complete: bool,
    },
    /// A large channel's online count changed (at most once every 2 s, instead of a
    /// `presence.join` or `presence.leave` per arrival); also when a channel becomes large.
    /// Until the next `presence.list`, the list a client holds is a sample of who is online.
    #[serde(rename = "presence.count")]
    PresenceCount { channel_id: ChannelId, count: usize },
    /// Personal sockets: channels of `server_id` (one of the user's servers) with new messages
    /// since the last such frame, each with its last `seq` now. At most one per server every
    /// [`crate::gateway::PRESENCE_TICK`], however busy the server: a client raises its unread
    /// counts by how far `last_seq` moved (and asks `GET /api/me/unread/` for exact ones).
    #[serde(rename = "unread.updated")]
    UnreadUpdated {
        server_id: ServerId,
        channels: Vec<ChannelSeq>,
    },
    /// Answer to a client `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// The personal socket is open: who it belongs to, how many channels it may follow, and
    /// where in the user's event log it starts: the `after` it was opened with (what follows
    /// is replayed next), or the log's last number.
    #[serde(rename = "ready")]
    Ready {
        user: UserRef,
        max_subscriptions: usize,
        cursor: i64,
    },
    /// The `after` cursor cannot be resumed: `cursor_too_old` (those events were pruned) or
    /// `unknown_cursor` (beyond the log's end). The client reloads its state (servers,
    /// channels, conversations) and goes on from `cursor`, the log's last number.
    #[serde(rename = "resync")]
    Resync { reason: &'static str, cursor: i64 },
    /// On the personal socket, after `ready` (and again for partners gained later): the
    /// user's DM partners (everyone they share a conversation with, but a blocked or blocking
    /// one) who are online now.
    #[serde(rename = "user.presence.list")]
    UserPresenceList { online: Vec<UserRef> },
    /// On the personal socket: a DM partner came online (their first socket of any kind, on
    /// any instance) or went offline (their last one closed, or their instance stopped
    /// reporting for 15 s).
    #[serde(rename = "user.presence")]
    UserPresence { user: UserRef, online: bool },
    /// The personal socket follows this channel or conversation now (after replaying what
    /// its `after` asked for): its messages up to `last_seq` were sent, and these users are
    /// online in it (all of them when `online_complete`; else a first page of
    /// `online_count`, as in `presence.list`).
    #[serde(rename = "subscribed")]
    Subscribed {
        channel_id: ChannelId,
        last_seq: i64,
        online: Vec<UserRef>,
        online_count: usize,
        online_complete: bool,
    },
    /// The personal socket does not follow this channel (any more): `requested` (it asked),
    /// `not_found` (no such channel, no access, or access lost: deleted, left),
    /// `too_many_subscriptions`, `rate_limited` (more than 400 attempts at once, then 20 a
    /// second: try again later), or `unavailable` (try again).
    #[serde(rename = "unsubscribed")]
    Unsubscribed {
        channel_id: ChannelId,
        reason: &'static str,
    },
    /// A `/pm <username> <text>` this socket sent was stored in the 1:1 conversation with
    /// `target` and delivered to their sockets.
    #[serde(rename = "private_message_delivered")]
    PrivateMessageDelivered {
        /// The recipient's username.
        target: String,
        /// The text.
        message: String,
        /// The `/pm` frame's `nonce`, when it had one: tells the client which pending message
        /// this was.
        #[serde(skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
    /// Something the client sent was refused; the socket stays open.
    #[serde(rename = "error")]
    Error {
        /// `not_member`, `invalid_message`, `rate_limited`, `invalid_frame`, `unsupported_frame`,
        /// `unavailable` or `internal_error`.
        code: &'static str,
        error: String,
        /// With `rate_limited`: milliseconds until a message would be accepted.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// The refused message's `nonce`, when it had one: tells the client which pending
        /// message failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

impl ServerFrame {
    pub fn error(code: &'static str, error: impl Into<String>) -> Self {
        ServerFrame::Error {
            code,
            error: error.into(),
            retry_after: None,
            nonce: None,
        }
    }

    /// The same frame, naming the message it answers (only error frames carry a nonce).
    #[must_use]
    pub fn about(mut self, message_nonce: Option<String>) -> Self {
        if let ServerFrame::Error { nonce, .. } = &mut self {
            *nonce = message_nonce;
        }
        self
    }
}

/// Close codes (see API.md).
pub mod close {
    /// Missing, invalid or expired credentials.
    pub const NOT_AUTHENTICATED: u16 = 4001;
    /// No such server, or the channel is not in that server.
    pub const NOT_FOUND: u16 = 4004;
    /// Rate limit exceeded repeatedly.
    pub const RATE_LIMITED: u16 = 4008;
    /// The socket fell too far behind; reconnect with `?after=<last seq>`.
    pub const TOO_SLOW: u16 = 4009;
    /// A frame (or a fragmented message) was larger than the limit.
    pub const TOO_LARGE: u16 = 1009;
    /// The client broke the WebSocket protocol (unmasked or reserved frames, bad fragments).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame that is not UTF-8.
    pub const INVALID_TEXT: u16 = 1007;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client stopped answering pings.
    pub const TIMEOUT: u16 = 4000;
}
