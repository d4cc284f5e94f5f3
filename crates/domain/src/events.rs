//! Events pushed to live clients, serialized with a `type` tag, one variant per event.
//!
//! These are also the bytes instances exchange through Redis, so they deserialize too.

use crate::ids::{ChannelId, MessageId, ServerId, UserId};
use crate::model::Message;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A chat message as live clients see it (the reference's `new_message`, plus Hearth's extras).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// The channel's server, on a new message's frame (`chat.message`); left out for a
    /// conversation's, and on other frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub server_id: Option<ServerId>,
    /// The sender's username.
    pub sender: String,
    pub sender_id: UserId,
    pub content: String,
    /// When it was sent (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    /// Position in the channel: 1, 2, 3, ... with no gaps.
    pub seq: i64,
    /// The sender's de-duplication key, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// The users it mentions (`<@id>` in `content`) who can read the channel; left out when
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserRef>,
    /// The message it answers (same channel); left out when it answers none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reply_to: Option<MessageId>,
    /// A preview of that message; left out with `reply_to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reply: Option<ReplyPreview>,
    /// When it was pinned; left out when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub pinned_at: Option<DateTime<Utc>>,
}

impl From<Message> for ChatMessage {
    fn from(message: Message) -> Self {
        Self {
            id: message.id,
            channel_id: message.channel_id,
            server_id: None,
            sender: message.sender,
            sender_id: message.sender_id,
            content: message.content,
            timestamp: message.created_at,
            seq: message.seq,
            nonce: message.nonce,
            edited_at: message.edited_at,
            mentions: message.mentions,
            reply_to: message.reply.as_ref().map(|r| r.id),
            reply: message.reply,
            pinned_at: message.pinned_at,
        }
    }
}

/// What a reply shows of the message it answers: its author and first 100 characters, or
/// only its id and `deleted` once it is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyPreview {
    /// The answered message's id.
    pub id: MessageId,
    /// Its author's username; absent once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<UserId>,
    /// Its first 100 characters; absent once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The answered message was deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// One emoji's reactions to a message: how many, and whether the reader is among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    /// The reader reacted with it.
    #[serde(default)]
    pub me: bool,
}

/// A user as presence and typing events name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// A server as live clients see it (the catalogue's shape, without channels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerView {
    pub id: ServerId,
    pub name: String,
    /// The owner's user id.
    pub owner: UserId,
    /// The category's name.
    pub category: String,
    pub description: String,
    /// A `/media/...` path, or null.
    pub icon: Option<String>,
    /// A `/media/...` path, or null.
    pub banner: Option<String>,
}

impl From<&crate::model::Server> for ServerView {
    fn from(server: &crate::model::Server) -> Self {
        Self {
            id: server.id,
            name: server.name.clone(),
            owner: server.owner_id,
            category: server.category.clone(),
            description: server.description.clone(),
            icon: server.icon.clone(),
            banner: server.banner.clone(),
        }
    }
}

/// A channel as live clients see it (the catalogue's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: ChannelId,
    pub name: String,
    pub topic: String,
    /// The id of the user who created it.
    pub owner: UserId,
    /// The id of its server.
    pub server: ServerId,
}

impl From<&crate::model::Channel> for ChannelView {
    fn from(channel: &crate::model::Channel) -> Self {
        Self {
            id: channel.id,
            name: channel.name.clone(),
            topic: channel.topic.clone(),
            owner: channel.owner_id,
            server: channel.server_id,
        }
    }
}

/// Something that happened, to deliver to the sockets that care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type")]
pub enum Event {
    /// A message was stored in a channel.
    #[serde(rename = "chat.message")]
    ChatMessage { new_message: ChatMessage },
    /// A message's content was edited by its author.
    #[serde(rename = "message.updated")]
    MessageUpdated { message: ChatMessage },
    /// `user_id` reacted to a message with `emoji`; `count` is how many did now.
    #[serde(rename = "reaction.added")]
    ReactionAdded {
        message_id: MessageId,
        channel_id: ChannelId,
        /// The message's `seq`: the frame comes after that message's `chat.message`.
        message_seq: i64,
        emoji: String,
        user_id: UserId,
        count: i64,
    },
    /// `user_id` took back their `emoji` reaction; `count` is how many are left.
    #[serde(rename = "reaction.removed")]
    ReactionRemoved {
        message_id: MessageId,
        channel_id: ChannelId,
        /// The message's `seq`: the frame comes after that message's `chat.message`.
        message_seq: i64,
        emoji: String,
        user_id: UserId,
        count: i64,
    },
    /// A message was pinned in its channel (`pinned_by` did).
    #[serde(rename = "message.pinned")]
    MessagePinned {
        message: ChatMessage,
        pinned_by: UserId,
    },
    /// A message was unpinned.
    #[serde(rename = "message.unpinned")]
    MessageUnpinned {
        id: MessageId,
        channel_id: ChannelId,
        /// The message's `seq`: the frame comes after that message's `chat.message`.
        message_seq: i64,
    },
    /// A message was deleted.
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        id: MessageId,
        channel_id: ChannelId,
        /// The message's `seq`: the frame comes after that message's `chat.message`.
        message_seq: i64,
    },
    /// A server's name, description, category, icon or banner changed.
    #[serde(rename = "server.updated")]
    ServerUpdated { server: ServerView },
    /// A server was deleted, with its channels; its sockets are closed next (4004).
    #[serde(rename = "server.deleted")]
    ServerDeleted { server_id: ServerId },
    /// A channel was added to a server.
    #[serde(rename = "channel.created")]
    ChannelCreated { channel: ChannelView },
    /// A channel was renamed or its topic changed.
    #[serde(rename = "channel.updated")]
    ChannelUpdated { channel: ChannelView },
    /// A channel was deleted; its sockets are closed next (4004).
    #[serde(rename = "channel.deleted")]
    ChannelDeleted {
        channel_id: ChannelId,
        server_id: ServerId,
    },
    /// A user joined a server.
    #[serde(rename = "member.joined")]
    MemberJoined {
        server_id: ServerId,
        user_id: UserId,
    },
    /// A user left (or was removed from) a server.
    #[serde(rename = "member.left")]
    MemberLeft {
        server_id: ServerId,
        user_id: UserId,
    },
    /// A user's first socket in a channel opened.
    #[serde(rename = "presence.join")]
    PresenceJoin {
        channel_id: ChannelId,
        user: UserRef,
    },
    /// A user's last socket in a channel closed.
    #[serde(rename = "presence.leave")]
    PresenceLeave {
        channel_id: ChannelId,
        user: UserRef,
    },
    /// A user is typing in a channel; clients show it for about 8 seconds.
    #[serde(rename = "typing")]
    Typing {
        channel_id: ChannelId,
        user: UserRef,
    },
    /// A private message (`/pm <username> <text>` on a socket) for the user `to`: every socket
    /// of theirs that speaks the full protocol receives it. The message itself is stored in
    /// the two users' 1:1 conversation, `conversation_id`.
    #[serde(rename = "private_message")]
    PrivateMessage {
        /// The sender's username.
        user: String,
        /// The text.
        message: String,
        /// The recipient's user id.
        to: UserId,
        /// The 1:1 conversation the message is stored in.
        conversation_id: ChannelId,
    },
    /// The user `to` takes part in a conversation they did not know of (opened with them, or
    /// they were added to a group): their personal sockets may subscribe to it.
    #[serde(rename = "conversation.added")]
    ConversationAdded {
        conversation_id: ChannelId,
        to: UserId,
    },
    /// Someone was added to a group conversation.
    #[serde(rename = "conversation.participant_added")]
    ParticipantAdded {
        channel_id: ChannelId,
        user: UserRef,
    },
    /// Someone left a group conversation; their sockets on it are closed next (4004).
    #[serde(rename = "conversation.participant_left")]
    ParticipantLeft {
        channel_id: ChannelId,
        user_id: UserId,
    },
    /// Something meant for the user `to` only: an action of theirs was refused (on whichever
    /// device or connection they took it), so their other clients can say so too.
    #[serde(rename = "alert")]
    Alert {
        to: UserId,
        /// What happened: `blocked` (a message to someone who blocked them) or `unknown_user`
        /// (a `/pm` to nobody).
        code: String,
        /// A sentence for people.
        message: String,
    },
    /// The forced logout: the account of the user `to` was deleted (from one of their
    /// clients). Every socket of theirs receives this, then is closed with 4001. Not in the
    /// event log, which went with the account.
    #[serde(rename = "account.deleted")]
    AccountDeleted { to: UserId },
    /// The user `to` read a channel or conversation up to `seq` (on one of their clients):
    /// their other clients clear what they show as unread there. Personal sockets only.
    #[serde(rename = "read.updated")]
    ReadUpdated {
        to: UserId,
        channel_id: ChannelId,
        seq: i64,
    },
    /// The user `to` was mentioned in a new message of a channel (of `server_id`) or a
    /// conversation (`server_id` null) they can read. Personal sockets only.
    #[serde(rename = "mention")]
    Mention {
        to: UserId,
        server_id: Option<ServerId>,
        message: ChatMessage,
    },
}

/// Which sockets an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Every socket of this user, wherever it is open.
    User(UserId),
    /// Every socket open on this channel.
    Channel(ChannelId),
    /// Every socket open on any channel of this server.
    Server(ServerId),
    /// The personal sockets of this user only (not their channel sockets).
    Personal(UserId),
}

impl Event {
    /// The sockets that should receive this event.
    pub fn audience(&self) -> Audience {
        match self {
            Event::ChatMessage { new_message: m }
            | Event::MessageUpdated { message: m }
            | Event::MessagePinned { message: m, .. } => Audience::Channel(m.channel_id),
            Event::MessageDeleted { channel_id, .. }
            | Event::MessageUnpinned { channel_id, .. }
            | Event::ReactionAdded { channel_id, .. }
            | Event::ReactionRemoved { channel_id, .. }
            | Event::PresenceJoin { channel_id, .. }
            | Event::PresenceLeave { channel_id, .. }
            | Event::Typing { channel_id, .. }
            | Event::ParticipantAdded { channel_id, .. }
            | Event::ParticipantLeft { channel_id, .. } => Audience::Channel(*channel_id),
            Event::MemberJoined { server_id, .. }
            | Event::MemberLeft { server_id, .. }
            | Event::ServerDeleted { server_id }
            | Event::ChannelDeleted { server_id, .. } => Audience::Server(*server_id),
            Event::ServerUpdated { server } => Audience::Server(server.id),
            Event::PrivateMessage { to, .. }
            | Event::ConversationAdded { to, .. }
            | Event::Alert { to, .. }
            | Event::AccountDeleted { to } => Audience::User(*to),
            Event::ReadUpdated { to, .. } | Event::Mention { to, .. } => Audience::Personal(*to),
            Event::ChannelCreated { channel } | Event::ChannelUpdated { channel } => {
                Audience::Server(channel.server)
            }
        }
    }

    /// Whether the event is kept in its users' event logs (what a personal socket resumes by
    /// cursor): everything addressed to a user or to a server's members, not what happens in
    /// one channel (which resumes by the channel's `seq`, or is ephemeral: presence, typing).
    pub fn logged(&self) -> bool {
        match self {
            Event::MemberJoined { .. }
            | Event::MemberLeft { .. }
            | Event::ServerUpdated { .. }
            | Event::ServerDeleted { .. }
            | Event::ChannelCreated { .. }
            | Event::ChannelUpdated { .. }
            | Event::ChannelDeleted { .. }
            | Event::ConversationAdded { .. }
            | Event::PrivateMessage { .. }
            | Event::Alert { .. }
            | Event::ReadUpdated { .. }
            | Event::Mention { .. } => true,
            Event::ChatMessage { .. }
            | Event::MessageUpdated { .. }
            | Event::MessageDeleted { .. }
            | Event::MessagePinned { .. }
            | Event::MessageUnpinned { .. }
            | Event::ReactionAdded { .. }
            | Event::ReactionRemoved { .. }
            | Event::PresenceJoin { .. }
            | Event::PresenceLeave { .. }
            | Event::Typing { .. }
            | Event::ParticipantAdded { .. }
            | Event::ParticipantLeft { .. }
            | Event::AccountDeleted { .. } => false,
        }
    }

    /// For an event about a message of a channel (an edit, a deletion, a reaction, a pin),
    /// the message's `seq`: a socket must hear of the message before it hears of this.
    pub fn message_seq(&self) -> Option<i64> {
        match self {
            Event::MessageUpdated { message: m } | Event::MessagePinned { message: m, .. } => {
                Some(m.seq)
            }
            Event::MessageDeleted { message_seq, .. }
            | Event::MessageUnpinned { message_seq, .. }
            | Event::ReactionAdded { message_seq, .. }
            | Event::ReactionRemoved { message_seq, .. } => Some(*message_seq),
            _ => None,
        }
    }

    /// The channel sequence number, for events that have one (new messages).
    pub fn seq(&self) -> Option<i64> {
        match self {
            Event::ChatMessage { new_message } => Some(new_message.seq),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_with_their_type_and_round_trip() {
        let event = Event::MemberJoined {
            server_id: ServerId(3),
            user_id: UserId(7),
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"type": "member.joined", "server_id": 3, "user_id": 7})
        );
        assert_eq!(event.audience(), Audience::Server(ServerId(3)));
        let back: Option<Event> = serde_json::from_value(json).ok();
        assert_eq!(back, Some(event));
    }

    #[test]
    fn the_forced_logout_is_for_the_user_and_not_logged() {
        let event = Event::AccountDeleted { to: UserId(5) };
        assert_eq!(
            serde_json::to_value(&event).unwrap_or_default(),
            serde_json::json!({"type": "account.deleted", "to": 5})
        );
        assert_eq!(event.audience(), Audience::User(UserId(5)));
        assert!(!event.logged());
    }

    #[test]
    fn read_updates_are_logged_for_the_users_personal_sockets_only() {
        let event = Event::ReadUpdated {
            to: UserId(5),
            channel_id: ChannelId(8),
            seq: 13,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap_or_default(),
            serde_json::json!({"type": "read.updated", "to": 5, "channel_id": 8, "seq": 13})
        );
        assert_eq!(event.audience(), Audience::Personal(UserId(5)));
        assert!(event.logged());
        assert_eq!(event.seq(), None);
    }

    #[test]
    fn chat_messages_have_the_reference_shape_and_a_sequence() {
        let message = ChatMessage {
            id: MessageId(9),
            channel_id: ChannelId(2),
            server_id: None,
            sender: "alice".to_owned(),
            sender_id: UserId(1),
            content: "hi".to_owned(),
            timestamp: DateTime::<Utc>::UNIX_EPOCH,
            seq: 4,
            nonce: None,
            edited_at: None,
            mentions: Vec::new(),
            reply_to: None,
            reply: None,
            pinned_at: None,
        };
        let event = Event::ChatMessage {
            new_message: message,
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(json["type"], "chat.message");
        assert_eq!(json["new_message"]["sender"], "alice");
        assert_eq!(json["new_message"]["timestamp"], "1970-01-01T00:00:00Z");
        assert!(json["new_message"].get("nonce").is_none());
        assert_eq!(event.seq(), Some(4));
        assert_eq!(event.audience(), Audience::Channel(ChannelId(2)));
    }
}
