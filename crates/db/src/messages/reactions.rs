//! Reactions (migration 13): each user once per emoji on a message, at most
//! [`REACTIONS_MAX`] distinct emoji. Every change to one message's reactions takes the
//! message's row lock first, so the cap holds and no count is lost or doubled however many
//! react at once; the message carries its counts for history.

use crate::error::{foreign_key_violation, from_diesel};
use crate::{Db, DbResult};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::rules::REACTIONS_MAX;
use hearth_domain::{ChannelId, DomainError, MessageId, Reaction, UserId};

/// The counts a message carries, from its column (`None`: no reaction).
pub(crate) fn parse(column: Option<&str>) -> Vec<Reaction> {
    match column {
        None => Vec::new(),
        Some(json) => serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a message's reactions are not a JSON array of counts");
            Vec::new()
        }),
    }
}

/// What a reaction change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactOutcome {
    /// Added or removed: the emoji's count now, and the message's channel.
    Changed { count: i64, channel: ChannelId },
    /// It was so already (idempotent): the emoji's count.
    Unchanged { count: i64, channel: ChannelId },
    /// A new emoji on a message with [`REACTIONS_MAX`] already.
    TooMany,
    /// No such message, or a deleted one.
    NotFound,
}

#[derive(QueryableByName)]
struct Channel {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    emoji_count: i64,
    #[diesel(sql_type = Bool)]
    present: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Adds (`on`) or takes back `user`'s `emoji` reaction to a message. `emoji` must be valid
/// (see `hearth_domain::rules::reaction_emoji`).
#[tracing::instrument(skip(db))]
pub async fn react(
    db: &Db,
    message: MessageId,
    user: UserId,
    emoji: &str,
    on: bool,
) -> DbResult<ReactOutcome> {
    let mut conn = db.conn().await?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            // The message's row lock orders every change to its reactions; what they are is
            // read after it, by a statement of its own (so it sees every change committed
            // while this one waited).
            let channel: Option<Channel> = diesel::sql_query(
                "SELECT channel_id FROM messages \
                 WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            )
            .bind::<BigInt, _>(message.0)
            .get_result(conn)
            .await
            .optional()?;
            let Some(Channel { channel_id }) = channel else {
                return Ok(ReactOutcome::NotFound);
            };
            let locked: Locked = diesel::sql_query(
                "SELECT count(DISTINCT emoji) AS emoji_count, \
                        coalesce(bool_or(emoji = $2), false) AS present \
                 FROM message_reactions WHERE message_id = $1",
            )
            .bind::<BigInt, _>(message.0)
            .bind::<Text, _>(emoji)
            .get_result(conn)
            .await?;
            if on && !locked.present && locked.emoji_count >= REACTIONS_MAX {
                return Ok(ReactOutcome::TooMany);
            }
            let changed = if on {
                diesel::sql_query(
                    "INSERT INTO message_reactions (message_id, emoji, user_id) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
            } else {
                // The statement trigger of migration 13 counts the message's reactions again.
                diesel::sql_query(
                    "DELETE FROM message_reactions \
                     WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
                )
            }
            .bind::<BigInt, _>(message.0)
            .bind::<Text, _>(emoji)
            .bind::<BigInt, _>(user.0)
            .execute(conn)
            .await?
                > 0;
            if changed && on {
                diesel::sql_query(
                    "UPDATE messages SET reactions = reaction_counts_of($1) WHERE id = $1",
                )
                .bind::<BigInt, _>(message.0)
                .execute(conn)
                .await?;
            }
            let count: Count = diesel::sql_query(
                "SELECT count(*) AS count FROM message_reactions \
                 WHERE message_id = $1 AND emoji = $2",
            )
            .bind::<BigInt, _>(message.0)
            .bind::<Text, _>(emoji)
            .get_result(conn)
            .await?;
            let channel = ChannelId(channel_id);
            Ok(if changed {
                ReactOutcome::Changed {
                    count: count.count,
                    channel,
                }
            } else {
                ReactOutcome::Unchanged {
                    count: count.count,
                    channel,
                }
            })
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| match foreign_key_violation(&e) {
        // The account was deleted while the statement ran (the message is locked).
        Some(_) => DomainError::AccountGone,
        None => from_diesel(e),
    })
}
