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

pub use change::{delete, edit};
pub use create::{create, create_many, Draft, Stored};
pub use history::{find, last_seq, latest, page, since, Reader};
pub use pins::{list as pins, pin, unpin, PinOutcome};
pub use reactions::{react, ReactOutcome};

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
        mentions: mentions::parse(mentions.as_deref()),
        reply: reply_preview(reply.as_deref()),
        pinned_at,
        reactions: reactions::parse(reactions.as_deref()),
    }
}

/// A reply's preview, from its column (`None`: no reply).
pub(crate) fn reply_preview(column: Option<&str>) -> Option<hearth_domain::ReplyPreview> {
    let json = column?;
    serde_json::from_str(json)
        .map_err(|e| tracing::error!(error = %e, "a message's reply preview is not one"))
        .ok()
}
