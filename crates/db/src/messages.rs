//! Chat messages.

use crate::error::{foreign_key_violation, from_diesel};
use crate::schema::{channels, messages, users};
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::Message;
use hearth_domain::{ChannelId, DomainError, MessageId, UserId};

type MessageRow = (
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn to_message(row: MessageRow) -> Message {
    let (id, channel_id, sender_id, sender, seq, content, created_at, edited_at) = row;
    Message {
        id: MessageId(id),
        channel_id: ChannelId(channel_id),
        sender_id: UserId(sender_id),
        sender,
        seq,
        content,
        created_at,
        edited_at,
    }
}

/// The newest `limit` messages of a channel that are not deleted, oldest first.
#[tracing::instrument(skip(db))]
pub async fn latest(db: &Db, channel: ChannelId, limit: i64) -> DbResult<Vec<Message>> {
    let mut conn = db.conn().await?;
    let mut rows: Vec<MessageRow> = messages::table
        .inner_join(users::table)
        .filter(messages::channel_id.eq(channel.0))
        .filter(messages::deleted_at.is_null())
        .order(messages::id.desc())
        .limit(limit)
        .select((
            messages::id,
            messages::channel_id,
            messages::sender_id,
            users::username,
            messages::seq,
            messages::content,
            messages::created_at,
            messages::edited_at,
        ))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    rows.reverse();
    Ok(rows.into_iter().map(to_message).collect())
}

/// Stores a message with the channel's next sequence number, in one transaction.
///
/// `content` must already be normalised (see `hearth_domain::rules::normalize_message`).
#[tracing::instrument(skip(db, content))]
pub async fn create(
    db: &Db,
    channel: ChannelId,
    sender: UserId,
    content: &str,
) -> DbResult<Message> {
    let mut conn = db.conn().await?;
    let content = content.to_owned();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            // Locks the channel row, so concurrent senders get consecutive numbers.
            let seq: i64 = diesel::update(channels::table.find(channel.0))
                .set(channels::last_seq.eq(channels::last_seq + 1))
                .returning(channels::last_seq)
                .get_result(conn)
                .await?;
            let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(messages::table)
                .values((
                    messages::channel_id.eq(channel.0),
                    messages::sender_id.eq(sender.0),
                    messages::seq.eq(seq),
                    messages::content.eq(&content),
                ))
                .returning((messages::id, messages::created_at))
                .get_result(conn)
                .await?;
            let username: String = users::table
                .find(sender.0)
                .select(users::username)
                .get_result(conn)
                .await?;
            Ok(Message {
                id: MessageId(id),
                channel_id: channel,
                sender_id: sender,
                sender: username,
                seq,
                content,
                created_at,
                edited_at: None,
            })
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| match (&e, foreign_key_violation(&e)) {
        (diesel::result::Error::NotFound, _) => DomainError::NotFound("channel"),
        (_, Some(_)) => DomainError::AccountGone,
        _ => from_diesel(e),
    })
}
