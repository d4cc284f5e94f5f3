//! The records of the product, as read by use cases. Storage rows stay private to `hearth-db`.

use crate::ids::{CategoryId, ChannelId, MessageId, ServerId, UserId};
use chrono::{DateTime, Utc};

/// An account as needed for authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub is_staff: bool,
    pub created_at: DateTime<Utc>,
}

/// An account together with its stored password hash (only used to log in).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A category servers are grouped by. Names are stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub description: String,
    /// A `/media/...` path, when an icon was uploaded.
    pub icon: Option<String>,
}

/// A channel of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub server_id: ServerId,
    pub owner_id: UserId,
    pub name: String,
    pub topic: String,
}

/// A server with what the catalogue shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub id: ServerId,
    pub owner_id: UserId,
    pub category_id: CategoryId,
    /// The category's name (the compatibility surface shows names, not ids).
    pub category: String,
    pub name: String,
    pub description: String,
    pub icon: Option<String>,
    pub banner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub channels: Vec<Channel>,
    /// Present only when the caller asked for member counts.
    pub num_members: Option<i64>,
}

/// A stored chat message with its sender's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub sender_id: UserId,
    pub sender: String,
    /// Position in the channel: 1, 2, 3, ... with no gaps.
    pub seq: i64,
    pub content: String,
    /// The sender's de-duplication key, when one was given.
    pub nonce: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// The users it mentions (`<@id>`) who can read its channel, in order.
    pub mentions: Vec<crate::UserRef>,
    /// What it answers, when it is a reply.
    pub reply: Option<crate::ReplyPreview>,
    /// When it was pinned in its channel, if it is.
    pub pinned_at: Option<DateTime<Utc>>,
    /// Its reactions by emoji, in the order they first appeared (`me` as the reader of the
    /// history page it came from saw it; false anywhere else).
    pub reactions: Vec<crate::Reaction>,
}

/// Filters of the server catalogue; all given filters apply together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFilter {
    /// Category name (compared lower-case).
    pub category: Option<String>,
    /// Only servers this user is a member of.
    pub member: Option<UserId>,
    /// Only this server.
    pub server: Option<ServerId>,
    /// Only servers with an id above this one (keyset pages: the last id of the previous page).
    pub after: Option<ServerId>,
    /// At most this many servers.
    pub limit: Option<i64>,
    /// Count members of each server.
    pub with_num_members: bool,
}

/// How a request to leave a server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveOutcome {
    Left,
    NoSuchServer,
    NotMember,
    OwnerCannotLeave,
    /// The account does not exist (any more).
    NoSuchUser,
}

/// How a request to join a server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    Joined,
    NoSuchServer,
    AlreadyMember,
}

/// What is known of one user's membership of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    NoSuchServer,
    Member,
    NotMember,
}

/// A member of a server, as the member list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub username: String,
    pub joined_at: DateTime<Utc>,
}

/// Changes to a server; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<CategoryId>,
}

impl ServerChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.category.is_none()
    }
}

/// What kind of conversation a direct-message channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationKind {
    /// Two users; there is at most one per pair.
    Direct,
    /// 3 to 10 users with a name; anyone in it may add others, anyone may leave.
    Group,
}

/// A conversation (a channel with no server), as one of its participants sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ChannelId,
    pub kind: ConversationKind,
    /// A group's name; `None` for a direct conversation.
    pub name: Option<String>,
    /// Everyone in it, by user id.
    pub participants: Vec<crate::UserRef>,
    /// The newest message that is not deleted.
    pub last_message: Option<Message>,
    /// The sequence number of its newest message (0 before the first).
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    /// A 1:1 conversation in which one of the two blocked the other: nobody can post.
    pub blocked: bool,
}

impl Conversation {
    /// When something last happened in it: its newest message, or its creation.
    pub fn active_at(&self) -> DateTime<Utc> {
        self.last_message
            .as_ref()
            .map_or(self.created_at, |m| m.created_at.max(self.created_at))
    }
}

/// How opening a direct conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectOutcome {
    Created(ChannelId),
    Existing(ChannelId),
    /// The other user does not exist.
    NoSuchUser,
    /// The other user blocked the caller.
    Blocked,
}

/// How adding someone to a group conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    AlreadyParticipant,
    /// It has the most participants a group may have.
    Full,
    NoSuchUser,
    /// No such group, or the caller does not take part in it.
    NoSuchConversation,
}
