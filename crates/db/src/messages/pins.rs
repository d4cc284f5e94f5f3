//! Pins (migration 12): at most [`PINS_MAX`] messages per channel, newest pin first.

use super::{to_message, MessageRow, COLUMNS};
use crate::error::from_diesel;
use crate::schema::{messages, users};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::Message;
use hearth_domain::rules::PINS_MAX;
use hearth_domain::{ChannelId, MessageId, UserId};

/// What a pin did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinOutcome {
    /// Pinned now.
    Pinned(Message),
    /// It was pinned already: nothing changed.
    AlreadyPinned(Message),
    /// The channel has [`PINS_MAX`] pins.
    TooMany,
    /// No such message, or a deleted one.
    NotFound,
}

/// Pins a message of `channel` for `by`. The cap is checked under a lock on the channel's
/// row, so pins of one channel at once cannot pass it together.
#[tracing::instrument(skip(db))]
pub async fn pin(db: &Db, id: MessageId, channel: ChannelId, by: UserId) -> DbResult<PinOutcome> {
    let mut conn = db.conn().await?;
    let pinned = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                diesel::sql_query("SELECT id FROM channels WHERE id = $1 FOR UPDATE")
                    .bind::<diesel::sql_types::BigInt, _>(channel.0)
                    .execute(conn)
                    .await?;
                // A statement of its own, after the lock: it counts what pins committed
                // before it.
                diesel::sql_query(
                    "UPDATE messages SET pinned_at = now(), pinned_by = $2 \
                     WHERE id = $1 AND channel_id = $3 AND deleted_at IS NULL \
                       AND pinned_at IS NULL \
                       AND (SELECT count(*) FROM messages \
                            WHERE channel_id = $3 AND pinned_at IS NOT NULL) < $4",
                )
                .bind::<diesel::sql_types::BigInt, _>(id.0)
                .bind::<diesel::sql_types::BigInt, _>(by.0)
                .bind::<diesel::sql_types::BigInt, _>(channel.0)
                .bind::<diesel::sql_types::BigInt, _>(PINS_MAX)
                .execute(conn)
                .await
            }
            .scope_boxed()
        })
        .await
        .map_err(from_diesel)?
        > 0;
    // Not pinned now: pinned meanwhile, deleted meanwhile, or the channel is full.
    Ok(match (read_back(&mut conn, id).await?, pinned) {
        (None, _) => PinOutcome::NotFound,
        (Some(message), true) => PinOutcome::Pinned(message),
        (Some(message), false) if message.pinned_at.is_some() => PinOutcome::AlreadyPinned(message),
        (Some(_), false) => PinOutcome::TooMany,
    })
}

/// Unpins a message: the message (`None`: no such message, or a deleted one) and whether it
/// was pinned.
#[tracing::instrument(skip(db))]
pub async fn unpin(db: &Db, id: MessageId) -> DbResult<Option<(Message, bool)>> {
    let mut conn = db.conn().await?;
    let unpinned = diesel::update(
        messages::table
            .filter(messages::id.eq(id.0))
            .filter(messages::deleted_at.is_null())
            .filter(messages::pinned_at.is_not_null()),
    )
    .set((
        messages::pinned_at.eq(None::<chrono::DateTime<chrono::Utc>>),
        messages::pinned_by.eq(None::<i64>),
    ))
    .execute(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(read_back(&mut conn, id)
        .await?
        .map(|message| (message, unpinned > 0)))
}

/// A channel's pinned messages, the latest pinned first (at most [`PINS_MAX`]).
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, channel: ChannelId) -> DbResult<Vec<Message>> {
    let mut conn = db.conn().await?;
    let rows: Vec<MessageRow> = messages::table
        .inner_join(users::table)
        .filter(messages::channel_id.eq(channel.0))
        .filter(messages::pinned_at.is_not_null())
        .filter(messages::deleted_at.is_null())
        .order((messages::pinned_at.desc(), messages::id.desc()))
        .limit(PINS_MAX)
        .select(COLUMNS)
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows.into_iter().map(to_message).collect())
}

async fn read_back(conn: &mut crate::pool::Conn, id: MessageId) -> DbResult<Option<Message>> {
    Ok(super::history::find_on(conn, id)
        .await?
        .map(|(message, _)| message))
}
