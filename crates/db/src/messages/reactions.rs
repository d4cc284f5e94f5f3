//! Reactions (migration 13): each user once per emoji on a message, at most
//! [`REACTIONS_MAX`] distinct emoji. Every change to one message's reactions takes the
//! message's row lock first, so the cap holds and no count is lost or doubled however many
//! react at once; the message carries its counts for history.

use crate::error::{foreign_key_violation, from_diesel};
use crate::{Db, DbResult};
use diesel::sql_types::{BigInt, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::rules::REACTIONS_MAX;
use hearth_domain::{ChannelId, DomainError, MessageId, UserId};

/// What a reaction change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactOutcome {
    /// Done: the emoji's count now, the message's channel, and whether anything changed (no
    /// change: it was so already).
    Reacted {
        count: i64,
        channel: ChannelId,
        /// The message's `seq` in its channel.
        seq: i64,
        changed: bool,
    },
    /// A new emoji on a message with [`REACTIONS_MAX`] already.
    TooMany,
    /// A server's message, and the user is not a member of the server.
    NotMember,
    /// No such message, a deleted one, or one of a conversation the user takes no part in.
    NotFound,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    server_id: Option<i64>,
    /// A member of the server, or a participant of the conversation.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    allowed: bool,
}

#[derive(QueryableByName)]
struct Counts {
    /// Distinct emoji on the message.
    #[diesel(sql_type = BigInt)]
    emoji: i64,
    /// Users who reacted with this one.
    #[diesel(sql_type = BigInt)]
    users: i64,
}

/// Adds (`on`) or takes back `user`'s `emoji` reaction to a message, if they may: members of
/// its server, participants of its conversation (checked in the statement that locks it).
/// `emoji` must be valid (see `hearth_domain::rules::reaction_emoji`). The message's counts
/// follow by trigger (migration 13).
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
            let locked: Option<Locked> = diesel::sql_query(
                "SELECT m.channel_id, m.seq, c.server_id, \
                        CASE WHEN c.server_id IS NULL \
                             THEN EXISTS (SELECT FROM conversation_participants p \
                                          WHERE p.channel_id = c.id AND p.user_id = $2) \
                             ELSE EXISTS (SELECT FROM server_members s \
                                          WHERE s.server_id = c.server_id AND s.user_id = $2) \
                        END AS allowed \
                 FROM messages m JOIN channels c ON c.id = m.channel_id \
                 WHERE m.id = $1 AND m.deleted_at IS NULL FOR UPDATE OF m",
            )
            .bind::<BigInt, _>(message.0)
            .bind::<BigInt, _>(user.0)
            .get_result(conn)
            .await
            .optional()?;
            let (channel_id, seq) = match locked {
                None => return Ok(ReactOutcome::NotFound),
                Some(Locked {
                    allowed: false,
                    server_id: None,
                    ..
                }) => return Ok(ReactOutcome::NotFound),
                Some(Locked { allowed: false, .. }) => return Ok(ReactOutcome::NotMember),
                Some(Locked {
                    channel_id, seq, ..
                }) => (channel_id, seq),
            };
            let before: Counts = diesel::sql_query(
                "SELECT count(DISTINCT emoji) AS emoji, \
                        count(*) FILTER (WHERE emoji = $2) AS users \
                 FROM message_reactions WHERE message_id = $1",
            )
            .bind::<BigInt, _>(message.0)
            .bind::<Text, _>(emoji)
            .get_result(conn)
            .await?;
            if on && before.users == 0 && before.emoji >= REACTIONS_MAX {
                return Ok(ReactOutcome::TooMany);
            }
            let changed = if on {
                diesel::sql_query(
                    "INSERT INTO message_reactions (message_id, emoji, user_id) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
            } else {
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
            let count = match (changed, on) {
                (false, _) => before.users,
                (true, true) => before.users + 1,
                (true, false) => before.users - 1,
            };
            Ok(ReactOutcome::Reacted {
                count,
                channel: ChannelId(channel_id),
                seq,
                changed,
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
