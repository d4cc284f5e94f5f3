//! Reading history: pages by id, catch-up by sequence number, single messages.

use super::{to_message, MessageRow, COLUMNS};
use crate::error::from_diesel;
use crate::pool::Conn;
use crate::schema::{channels, conversation_participants, messages, users};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hearth_domain::model::Message;
use hearth_domain::{ChannelId, MessageId, ServerId, UserId};

/// Who reads a history page, which decides what it may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Anyone: servers' channels are public, conversations are not (their pages are empty).
    Anyone,
    /// A participant of the conversation: only a conversation this user takes part in shows
    /// messages (a server's channel shows none).
    Participant(UserId),
}

/// The newest `limit` messages of a server's channel that are not deleted, oldest first.
#[tracing::instrument(skip(db))]
pub async fn latest(db: &Db, channel: ChannelId, limit: i64) -> DbResult<Vec<Message>> {
    page(db, channel, Reader::Anyone, None, None, None, limit).await
}

/// A page of a channel's history by message id, oldest first, deleted messages left out.
///
/// With `before`: the newest `limit` messages older than it. With `after`: the oldest `limit`
/// messages newer than it. With neither: the newest `limit`. With both: the oldest `limit`
/// strictly between them.
///
/// With a `viewer`, each reaction says whether they are among its users (`me`), read in the
/// same statement: only messages with reactions look theirs up.
#[tracing::instrument(skip(db))]
pub async fn page(
    db: &Db,
    channel: ChannelId,
    reader: Reader,
    viewer: Option<UserId>,
    before: Option<MessageId>,
    after: Option<MessageId>,
    limit: i64,
) -> DbResult<Vec<Message>> {
    let mut conn = db.conn().await?;
    // The viewer's emoji on a message that has reactions, as a JSON array (no viewer: id 0,
    // nobody's).
    let mine = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
        "CASE WHEN messages.reactions IS NULL THEN NULL ELSE \
         (SELECT json_agg(r.emoji)::text FROM message_reactions r \
          WHERE r.message_id = messages.id AND r.user_id = ",
    )
    .bind::<diesel::sql_types::BigInt, _>(viewer.map_or(0, |v| v.0))
    .sql(") END");
    let mut query = messages::table
        .inner_join(users::table)
        .filter(messages::channel_id.eq(channel.0))
        .filter(messages::deleted_at.is_null())
        .select((COLUMNS, mine))
        .limit(limit)
        .into_boxed();
    // The access rule is part of the page's statement: one round trip either way.
    query = match reader {
        Reader::Anyone => query.filter(
            messages::channel_id.eq_any(
                channels::table
                    .filter(channels::id.eq(channel.0))
                    .filter(channels::server_id.is_not_null())
                    .select(channels::id),
            ),
        ),
        Reader::Participant(user) => query.filter(
            messages::channel_id.eq_any(
                conversation_participants::table
                    .filter(conversation_participants::channel_id.eq(channel.0))
                    .filter(conversation_participants::user_id.eq(user.0))
                    .select(conversation_participants::channel_id),
            ),
        ),
    };
    if let Some(before) = before {
        query = query.filter(messages::id.lt(before.0));
    }
    if let Some(after) = after {
        query = query.filter(messages::id.gt(after.0));
    }
    // Walking forwards reads the page in the order it is returned; every other page is read
    // newest first from the index, so that the limit keeps the newest, then turned around.
    let forwards = after.is_some();
    query = if forwards {
        query.order(messages::id.asc())
    } else {
        query.order(messages::id.desc())
    };
    let mut rows: Vec<(MessageRow, Option<String>)> =
        query.load(&mut conn).await.map_err(from_diesel)?;
    if !forwards {
        rows.reverse();
    }
    Ok(rows
        .into_iter()
        .map(|(row, mine)| {
            let mut message = to_message(row);
            if let Some(mine) = mine {
                let mine: Vec<String> = serde_json::from_str(&mine).unwrap_or_default();
                for reaction in &mut message.reactions {
                    reaction.me = mine.contains(&reaction.emoji);
                }
            }
            message
        })
        .collect())
}

/// Up to `limit` messages of a channel numbered after `after_seq`, in sequence order.
///
/// Deleted messages are left out, so the numbers may skip; [`last_seq`] tells how far the
/// channel's numbering has gone.
#[tracing::instrument(skip(db))]
pub async fn since(
    db: &Db,
    channel: ChannelId,
    after_seq: i64,
    limit: i64,
) -> DbResult<Vec<Message>> {
    let mut conn = db.conn().await?;
    let rows: Vec<MessageRow> = messages::table
        .inner_join(users::table)
        .filter(messages::channel_id.eq(channel.0))
        .filter(messages::seq.gt(after_seq))
        .filter(messages::deleted_at.is_null())
        .order(messages::seq.asc())
        .limit(limit)
        .select(COLUMNS)
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows.into_iter().map(to_message).collect())
}

/// The sequence number of the channel's newest message (0 before the first one), or `None`
/// when there is no such channel.
#[tracing::instrument(skip(db))]
pub async fn last_seq(db: &Db, channel: ChannelId) -> DbResult<Option<i64>> {
    let mut conn = db.conn().await?;
    channels::table
        .find(channel.0)
        .select(channels::last_seq)
        .first(&mut conn)
        .await
        .optional()
        .map_err(from_diesel)
}

/// A message that is not deleted, with the server its channel belongs to (`None` for a
/// conversation's).
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: MessageId) -> DbResult<Option<(Message, Option<ServerId>)>> {
    let mut conn = db.conn().await?;
    find_on(&mut conn, id).await
}

/// [`find`] on a connection the caller already holds.
pub(crate) async fn find_on(
    conn: &mut Conn,
    id: MessageId,
) -> DbResult<Option<(Message, Option<ServerId>)>> {
    messages::table
        .inner_join(users::table)
        .inner_join(channels::table)
        .filter(messages::id.eq(id.0))
        .filter(messages::deleted_at.is_null())
        .select((COLUMNS, channels::server_id))
        .first::<(MessageRow, Option<i64>)>(conn)
        .await
        .optional()
        .map(|row| row.map(|(message, server)| (to_message(message), server.map(ServerId))))
        .map_err(from_diesel)
}
