//! How far each user has read each channel and conversation (migration 9), and what is new
//! for them since.
//!
//! A read state is the `seq` of the last message the user saw; no row is 0 (nothing read). An
//! ack only moves it forward, in one statement that also checks who may read the channel, so
//! concurrent acks from two devices settle on the furthest and an older one changes nothing.
//! An ack behind the read state writes nothing at all (no row lock, no WAL, no commit to wait
//! for): only one that may move it tries to.

use crate::error::{foreign_key_violation, from_diesel};
use crate::{Db, DbResult};
use diesel::sql_types::{BigInt, Bool, Nullable};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use hearth_domain::{ChannelId, DomainError, ServerId, UserId};

/// Unread messages are counted up to this many per channel: past it a client shows "99+", and
/// the count of a channel read long ago costs no more than that of one read a minute ago.
pub const UNREAD_CAP: i64 = 100;

/// What an ack did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The read state moved forward to this `seq`.
    Moved(i64),
    /// It was already there or further (or the channel has no message yet): where it stands.
    Unchanged(i64),
    /// A server's channel, and the user is not a member of the server.
    NotMember,
    /// No such channel, or a conversation the user takes no part in.
    NotFound,
}

#[derive(QueryableByName)]
struct AckRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    server_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    allowed: bool,
    /// Whether the channel exists (of the kind asked for).
    #[diesel(sql_type = Bool)]
    found: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    moved: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    before: Option<i64>,
    /// Whether the account still exists (the caller's token may outlive it).
    #[diesel(sql_type = Bool)]
    account: bool,
}

/// Which kind of channel an ack is for (each has its own route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A server's channel.
    Channel,
    /// A direct or group conversation.
    Conversation,
}

/// Records that `user` has read `channel` (of `kind`) up to `seq` (past the channel's last
/// message: up to that one). Members of the channel's server and participants of a
/// conversation may. The statement also checks that the account exists
/// (`DomainError::AccountGone` when its token outlived it), so no lookup precedes it.
#[tracing::instrument(skip(db))]
pub async fn ack(
    db: &Db,
    user: UserId,
    kind: Kind,
    channel: ChannelId,
    seq: i64,
) -> DbResult<AckOutcome> {
    let mut conn = db.conn().await?;
    let rows: Vec<AckRow> = diesel::sql_query(
        "WITH target AS ( \
             SELECT c.id, c.server_id, LEAST($3, c.last_seq) AS seq, \
                    CASE WHEN c.server_id IS NULL \
                         THEN EXISTS (SELECT FROM conversation_participants p \
                                      WHERE p.channel_id = c.id AND p.user_id = $1) \
                         ELSE EXISTS (SELECT FROM server_members m \
                                      WHERE m.server_id = c.server_id AND m.user_id = $1) \
                    END AS allowed \
             FROM channels c WHERE c.id = $2 AND (c.server_id IS NULL) = $4 \
         ), up AS ( \
             INSERT INTO read_states (user_id, channel_id, read_seq) \
             SELECT $1, id, seq FROM target WHERE allowed AND seq > 0 \
                 AND seq > COALESCE((SELECT r.read_seq FROM read_states r \
                                     WHERE r.user_id = $1 AND r.channel_id = $2), 0) \
             ON CONFLICT (user_id, channel_id) DO UPDATE \
                 SET read_seq = EXCLUDED.read_seq, updated_at = now() \
                 WHERE read_states.read_seq < EXCLUDED.read_seq \
             RETURNING read_seq \
         ) \
         SELECT t.server_id, COALESCE(t.allowed, false) AS allowed, \
                t.id IS NOT NULL AS found, (SELECT read_seq FROM up) AS moved, \
                (SELECT r.read_seq FROM read_states r \
                 WHERE r.user_id = $1 AND r.channel_id = $2) AS before, \
                EXISTS (SELECT FROM users u WHERE u.id = $1) AS account \
         FROM (SELECT) AS one LEFT JOIN target t ON true",
    )
    .bind::<BigInt, _>(user.0)
    .bind::<BigInt, _>(channel.0)
    .bind::<BigInt, _>(seq)
    .bind::<Bool, _>(kind == Kind::Conversation)
    .load(&mut conn)
    .await
    .map_err(|e| match foreign_key_violation(&e) {
        // The account (or the channel) was deleted while the statement ran.
        Some(constraint) if constraint.contains("user_id") => DomainError::AccountGone,
        Some(_) => DomainError::NotFound("channel"),
        None => from_diesel(e),
    })?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(AckOutcome::NotFound);
    };
    if !row.account {
        return Err(DomainError::AccountGone);
    }
    if !row.found {
        return Ok(AckOutcome::NotFound);
    }
    Ok(match (row.allowed, row.moved) {
        (true, Some(seq)) => AckOutcome::Moved(seq),
        (true, None) => AckOutcome::Unchanged(row.before.unwrap_or(0)),
        (false, _) if row.server_id.is_some() => AckOutcome::NotMember,
        (false, _) => AckOutcome::NotFound,
    })
}

/// Where a user stands in one channel or conversation they can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub channel_id: ChannelId,
    /// The channel's server; `None` for a conversation.
    pub server_id: Option<ServerId>,
    /// The channel's last message's `seq` (0: none yet).
    pub last_seq: i64,
    /// How far the user has read.
    pub read_seq: i64,
    /// Messages after `read_seq` by others and not deleted, up to [`UNREAD_CAP`].
    pub unread_count: i64,
    /// Of those, the ones that mention the user (not capped).
    pub mention_count: i64,
}

#[derive(QueryableByName)]
struct UnreadRow {
    #[diesel(sql_type = BigInt)]
    channel_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    server_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = BigInt)]
    read_seq: i64,
    #[diesel(sql_type = BigInt)]
    unread_count: i64,
    #[diesel(sql_type = BigInt)]
    mention_count: i64,
}

/// Every channel of the servers `user` belongs to and every conversation they take part in,
/// by id, with how far they have read it and how much is new: one query, whatever their
/// number. A channel read to its end costs an index probe; one with news, at most
/// [`UNREAD_CAP`] index entries, and its mentions an index range of their own.
#[tracing::instrument(skip(db))]
pub async fn unread(db: &Db, user: UserId) -> DbResult<Vec<Unread>> {
    let mut conn = db.conn().await?;
    let rows: Vec<UnreadRow> = diesel::sql_query(
        "WITH readable AS ( \
             SELECT c.id, c.server_id, c.last_seq FROM server_members m \
                 JOIN channels c ON c.server_id = m.server_id WHERE m.user_id = $1 \
             UNION ALL \
             SELECT c.id, NULL::bigint, c.last_seq FROM conversation_participants p \
                 JOIN channels c ON c.id = p.channel_id WHERE p.user_id = $1 \
         ), states AS ( \
             SELECT r.id, r.server_id, r.last_seq, COALESCE(s.read_seq, 0) AS read_seq \
             FROM readable r LEFT JOIN read_states s \
                 ON s.user_id = $1 AND s.channel_id = r.id \
         ) \
         SELECT id AS channel_id, server_id, last_seq, read_seq, \
                CASE WHEN last_seq > read_seq THEN ( \
                    SELECT count(*) FROM ( \
                        SELECT FROM messages m \
                        WHERE m.channel_id = states.id AND m.seq > states.read_seq \
                          AND m.deleted_at IS NULL AND m.sender_id <> $1 \
                        LIMIT $2) news \
                ) ELSE 0 END AS unread_count, \
                CASE WHEN last_seq > read_seq THEN ( \
                    SELECT count(*) FROM message_mentions mm \
                    WHERE mm.user_id = $1 AND mm.channel_id = states.id \
                      AND mm.seq > states.read_seq \
                ) ELSE 0 END AS mention_count \
         FROM states ORDER BY id",
    )
    .bind::<BigInt, _>(user.0)
    .bind::<BigInt, _>(UNREAD_CAP)
    .load(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|row| Unread {
            channel_id: ChannelId(row.channel_id),
            server_id: row.server_id.map(ServerId),
            last_seq: row.last_seq,
            read_seq: row.read_seq,
            unread_count: row.unread_count,
            mention_count: row.mention_count,
        })
        .collect())
}
