//! Chat messages: storing them (with nonce de-duplication), reading history, editing and
//! deleting.
//!
//! Deleting is soft (`deleted_at` is set): a deleted message keeps its sequence number, so the
//! numbering of a channel never changes, but no read of history returns it.

mod change;
mod create;
mod history;
mod mentions;
mod pins;
mod reactions;
mod search;

pub use change::{delete, edit};
pub use create::{create, create_many, Draft, Stored};
pub use history::{find, last_seq, latest, page, since, Reader};
pub use pins::{list as pins, pin, unpin, PinOutcome};
pub use reactions::{react, ReactOutcome};
pub use search::{search, Hit, Search};

use crate::schema::{messages, users};
use chrono::{DateTime, Utc};
use hearth_domain::model::Message;
use hearth_domain::{ChannelId, MessageId, UserId};

pub(crate) type MessageRow = (
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

pub(crate) type MessageColumns = (
    messages::id,
    messages::channel_id,
    messages::sender_id,
    users::username,
    messages::seq,
    messages::content,
    messages::nonce,
    messages::created_at,
    messages::edited_at,
    messages::mentions,
    messages::reply_preview,
    messages::pinned_at,
    messages::reactions,
);

/// What every read selects: a message joined with its sender.
pub(crate) const COLUMNS: MessageColumns = (
    messages::id,
    messages::channel_id,
    messages::sender_id,
    users::username,
    messages::seq,
    messages::content,
    messages::nonce,
    messages::created_at,
    messages::edited_at,
    messages::mentions,
    messages::reply_preview,
    messages::pinned_at,
    messages::reactions,
);

pub(crate) fn to_message(row: MessageRow) -> Message {
    let (
        id,
        channel_id,
        sender_id,
        sender,
        seq,
        content,
        nonce,
        created_at,
        edited_at,
        mentions,
        reply,
        pinned_at,
        reactions,
    ) = row;
    Message {
        id: MessageId(id),
        channel_id: ChannelId(channel_id),
        sender_id: UserId(sender_id),
        sender,
        seq,
        content,
        nonce,
        created_at,
        edited_at,
        mentions: json_column(mentions.as_deref(), "mentions").unwrap_or_default(),
        reply: json_column(reply.as_deref(), "reply preview"),
        pinned_at,
        reactions: json_column(reactions.as_deref(), "reactions").unwrap_or_default(),
    }
}

/// What a message carries as JSON in a column of its own (mentions, a reply's preview,
/// reaction counts), written only by Hearth's statements: `None` when the column is NULL, or
/// (logged) when it does not hold what it should.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    column: Option<&str>,
    what: &'static str,
) -> Option<T> {
    serde_json::from_str(column?)
        .map_err(|e| tracing::error!(error = %e, what, "a message's JSON column does not parse"))
        .ok()
}
