//! Conversations (direct messages): channels with no server, read and written by their
//! participants only (migration 5). Their messages are stored and read like any channel's
//! (`crate::messages`); this module keeps who takes part, the one 1:1 conversation of each
//! pair, and blocks.

use crate::error::{foreign_key_violation, from_diesel, unexpected_outcome};
use crate::messages::{to_message, MessageRow};
use crate::pool::Conn;
use crate::schema::{channels, conversation_participants, user_blocks, users};
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::{AddOutcome, Conversation, ConversationKind, DirectOutcome, Message};
use hearth_domain::rules::GROUP_MAX_PARTICIPANTS;
use hearth_domain::{ChannelId, DomainError, ServerId, UserId, UserRef};
use std::collections::HashMap;

diesel::define_sql_function! {
    /// The `direct_open` SQL function (migration 5).
    fn direct_open(
        user: diesel::sql_types::BigInt,
        other: diesel::sql_types::BigInt,
    ) -> diesel::pg::sql_types::Record<(
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    )>;
}

diesel::define_sql_function! {
    /// The `conversation_add` SQL function (migration 5).
    fn conversation_add(
        channel: diesel::sql_types::BigInt,
        actor: diesel::sql_types::BigInt,
        user: diesel::sql_types::BigInt,
        max: diesel::sql_types::Integer,
    ) -> diesel::sql_types::Text;
}

/// Opens the 1:1 conversation of `user` with `other`, creating it the first time (concurrent
/// opens of one pair create one). `other` must differ from `user` (the caller checks).
#[tracing::instrument(skip(db))]
pub async fn open_direct(db: &Db, user: UserId, other: UserId) -> DbResult<DirectOutcome> {
    let mut conn = db.conn().await?;
    let (outcome, id): (String, Option<i64>) = diesel::select(direct_open(user.0, other.0))
        .get_result(&mut conn)
        .await
        .map_err(|e| match foreign_key_violation(&e) {
            // One of the accounts was deleted while the statement ran.
            Some(_) => DomainError::NotFound("user"),
            None => from_diesel(e),
        })?;
    match (outcome.as_str(), id) {
        ("created", Some(id)) => Ok(DirectOutcome::Created(ChannelId(id))),
        ("existing", Some(id)) => Ok(DirectOutcome::Existing(ChannelId(id))),
        ("no_such_user", _) => Ok(DirectOutcome::NoSuchUser),
        ("blocked", _) => Ok(DirectOutcome::Blocked),
        (other, _) => Err(unexpected_outcome("direct_open", other)),
    }
}

/// Creates a group conversation of `creator` and `others` (already checked by
/// `rules::group_participants`). An unknown user among them is `NotFound("user")`.
#[tracing::instrument(skip(db))]
pub async fn create_group(
    db: &Db,
    creator: UserId,
    name: &str,
    others: &[UserId],
) -> DbResult<ChannelId> {
    let mut conn = db.conn().await?;
    let name = name.to_owned();
    let mut everyone: Vec<i64> = others.iter().map(|u| u.0).collect();
    everyone.push(creator.0);
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let id: i64 = diesel::insert_into(channels::table)
                .values((
                    channels::name.eq(&name),
                    channels::kind.eq("group"),
                    channels::server_id.eq(None::<i64>),
                    channels::owner_id.eq(None::<i64>),
                ))
                .returning(channels::id)
                .get_result(conn)
                .await?;
            let rows: Vec<_> = everyone
                .iter()
                .map(|user| {
                    (
                        conversation_participants::channel_id.eq(id),
                        conversation_participants::user_id.eq(*user),
                    )
                })
                .collect();
            diesel::insert_into(conversation_participants::table)
                .values(rows)
                .execute(conn)
                .await?;
            Ok(ChannelId(id))
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| match foreign_key_violation(&e) {
        Some(_) => DomainError::NotFound("user"),
        None => from_diesel(e),
    })
}

/// Adds `user` to the group `channel` on behalf of `actor`, who must take part in it.
#[tracing::instrument(skip(db))]
pub async fn add(db: &Db, channel: ChannelId, actor: UserId, user: UserId) -> DbResult<AddOutcome> {
    let mut conn = db.conn().await?;
    let max = i32::try_from(GROUP_MAX_PARTICIPANTS).unwrap_or(i32::MAX);
    let outcome: String = diesel::select(conversation_add(channel.0, actor.0, user.0, max))
        .get_result(&mut conn)
        .await
        .map_err(|e| match foreign_key_violation(&e) {
            // The conversation, or the account, went away meanwhile.
            Some(constraint) if constraint.contains("channel") => {
                DomainError::NotFound("conversation")
            }
            Some(_) => DomainError::NotFound("user"),
            None => from_diesel(e),
        })?;
    match outcome.as_str() {
        "added" => Ok(AddOutcome::Added),
        "already_participant" => Ok(AddOutcome::AlreadyParticipant),
        "full" => Ok(AddOutcome::Full),
        "no_such_user" => Ok(AddOutcome::NoSuchUser),
        "no_such_conversation" => Ok(AddOutcome::NoSuchConversation),
        other => Err(unexpected_outcome("conversation_add", other)),
    }
}

/// Takes `user` out of the group `channel`; `false` when they were not in such a group. The
/// last one out deletes the group with its messages (a trigger).
#[tracing::instrument(skip(db))]
pub async fn leave_group(db: &Db, channel: ChannelId, user: UserId) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    let groups = channels::table
        .filter(channels::id.eq(channel.0))
        .filter(channels::kind.eq("group"))
        .select(channels::id);
    diesel::delete(
        conversation_participants::table
            .filter(conversation_participants::channel_id.eq_any(groups))
            .filter(conversation_participants::user_id.eq(user.0)),
    )
    .execute(&mut conn)
    .await
    .map(|deleted| deleted > 0)
    .map_err(from_diesel)
}

/// Of `ids`, those `user` may read, with their server: every server's channel (anyone may read
/// it) and the conversations they take part in (`None`). One query for a whole `subscribe`
/// frame, rather than one or two per channel it names.
#[tracing::instrument(skip(db, ids), fields(ids = ids.len()))]
pub async fn readable_by(
    db: &Db,
    user: UserId,
    ids: &[ChannelId],
) -> DbResult<HashMap<ChannelId, Option<ServerId>>> {
    let mut conn = db.conn().await?;
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let participates = diesel::dsl::exists(
        conversation_participants::table
            .filter(conversation_participants::channel_id.eq(channels::id))
            .filter(conversation_participants::user_id.eq(user.0)),
    );
    let rows: Vec<(i64, Option<i64>)> = channels::table
        .filter(channels::id.eq_any(ids))
        .filter(channels::server_id.is_not_null().or(participates))
        .select((channels::id, channels::server_id))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|(id, server)| (ChannelId(id), server.map(ServerId)))
        .collect())
}

/// Whether `user` takes part in the conversation `channel` (`false` for a server's channel).
#[tracing::instrument(skip(db))]
pub async fn is_participant(db: &Db, channel: ChannelId, user: UserId) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    diesel::select(diesel::dsl::exists(
        conversation_participants::table
            .filter(conversation_participants::channel_id.eq(channel.0))
            .filter(conversation_participants::user_id.eq(user.0)),
    ))
    .get_result(&mut conn)
    .await
    .map_err(from_diesel)
}

/// The users who share a conversation with `user`, but those either of the two blocked: whose
/// presence their personal sockets report. One query, in id order.
#[tracing::instrument(skip(db))]
pub async fn partners_of(db: &Db, user: UserId) -> DbResult<Vec<UserId>> {
    let mut conn = db.conn().await?;
    let rows: Vec<PartnerRow> = diesel::sql_query(
        "SELECT DISTINCT other.user_id AS id \
         FROM conversation_participants mine \
         JOIN conversation_participants other \
           ON other.channel_id = mine.channel_id AND other.user_id <> mine.user_id \
         WHERE mine.user_id = $1 \
           AND NOT EXISTS (SELECT FROM user_blocks b \
                 WHERE (b.blocker_id = $1 AND b.blocked_id = other.user_id) \
                    OR (b.blocker_id = other.user_id AND b.blocked_id = $1)) \
         ORDER BY 1",
    )
    .bind::<diesel::sql_types::BigInt, _>(user.0)
    .load(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows.into_iter().map(|row| UserId(row.id)).collect())
}

#[derive(diesel::QueryableByName)]
struct PartnerRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The conversation `channel` as `viewer` sees it; `None` unless they take part in it.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, channel: ChannelId, viewer: UserId) -> DbResult<Option<Conversation>> {
    let mut conn = db.conn().await?;
    let mut found = load(&mut conn, viewer, Some(channel)).await?;
    Ok(found.pop())
}

/// Every conversation `user` takes part in, the most recently active first.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, user: UserId) -> DbResult<Vec<Conversation>> {
    let mut conn = db.conn().await?;
    let mut all = load(&mut conn, user, None).await?;
    all.sort_by(|a, b| b.active_at().cmp(&a.active_at()).then(b.id.cmp(&a.id)));
    Ok(all)
}

type HeadRow = (i64, String, String, i64, DateTime<Utc>);

/// The conversations of `user` (only `only`, when given), with participants, last messages
/// and blocks: four queries whatever their number.
async fn load(
    conn: &mut Conn,
    user: UserId,
    only: Option<ChannelId>,
) -> DbResult<Vec<Conversation>> {
    let mut query = channels::table
        .inner_join(conversation_participants::table)
        .filter(conversation_participants::user_id.eq(user.0))
        .select((
            channels::id,
            channels::kind,
            channels::name,
            channels::last_seq,
            channels::created_at,
        ))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(channels::id.eq(only.0));
    }
    let heads: Vec<HeadRow> = query.load(conn).await.map_err(from_diesel)?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = heads.iter().map(|h| h.0).collect();
    let people: Vec<(i64, i64, String)> = conversation_participants::table
        .inner_join(users::table)
        .filter(conversation_participants::channel_id.eq_any(&ids))
        .order((
            conversation_participants::channel_id,
            conversation_participants::user_id,
        ))
        .select((
            conversation_participants::channel_id,
            users::id,
            users::username,
        ))
        .load(conn)
        .await
        .map_err(from_diesel)?;
    let mut participants: HashMap<i64, Vec<UserRef>> = HashMap::new();
    for (channel, id, username) in people {
        participants.entry(channel).or_default().push(UserRef {
            id: UserId(id),
            username,
        });
    }
    let mut last = last_messages(conn, &ids).await?;
    let blocked = blocked_directs(conn, user, &ids).await?;
    Ok(heads
        .into_iter()
        .map(|(id, kind, name, last_seq, created_at)| {
            let group = kind == "group";
            Conversation {
                id: ChannelId(id),
                kind: if group {
                    ConversationKind::Group
                } else {
                    ConversationKind::Direct
                },
                name: group.then_some(name),
                participants: participants.remove(&id).unwrap_or_default(),
                last_message: last.remove(&id),
                last_seq,
                created_at,
                blocked: blocked.contains(&id),
            }
        })
        .collect())
}

/// Which of the 1:1 conversations among `ids` have a block between `user` and the other.
async fn blocked_directs(
    conn: &mut Conn,
    user: UserId,
    ids: &[i64],
) -> DbResult<std::collections::HashSet<i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        channel_id: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT p.channel_id FROM direct_pairs p \
         JOIN user_blocks b \
           ON (b.blocker_id = p.low_id AND b.blocked_id = p.high_id) \
           OR (b.blocker_id = p.high_id AND b.blocked_id = p.low_id) \
         WHERE p.channel_id = ANY($1) AND $2 IN (p.low_id, p.high_id)",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .bind::<diesel::sql_types::BigInt, _>(user.0)
    .load(conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows.into_iter().map(|r| r.channel_id).collect())
}

/// A conversation's newest message, as the LATERAL read below returns it.
#[derive(QueryableByName)]
struct LastRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    channel_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sender_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    username: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    content: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    nonce: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    edited_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    mentions: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    reply_preview: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pinned_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    reactions: Option<String>,
}

/// The newest message of each of `ids` that is not deleted, in one statement: for each, one
/// walk back on the `(channel_id, id)` index from its newest message (diesel's DSL has no
/// LATERAL join, hence the SQL).
async fn last_messages(conn: &mut Conn, ids: &[i64]) -> DbResult<HashMap<i64, Message>> {
    let rows: Vec<LastRow> = diesel::sql_query(
        "SELECT m.id, m.channel_id, m.sender_id, u.username, m.seq, m.content, m.nonce, \
                m.created_at, m.edited_at, m.mentions, m.reply_preview, \
                m.pinned_at, m.reactions \
         FROM unnest($1::bigint[]) AS c(id) \
         CROSS JOIN LATERAL ( \
             SELECT * FROM messages \
             WHERE channel_id = c.id AND deleted_at IS NULL \
             ORDER BY id DESC LIMIT 1 \
         ) m \
         JOIN users u ON u.id = m.sender_id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .load(conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let row: MessageRow = (
                r.id,
                r.channel_id,
                r.sender_id,
                r.username,
                r.seq,
                r.content,
                r.nonce,
                r.created_at,
                r.edited_at,
                r.mentions,
                r.reply_preview,
                r.pinned_at,
                r.reactions,
            );
            (r.channel_id, to_message(row))
        })
        .collect())
}

/// Blocks `blocked` for `blocker` (idempotent); `false` when there is no such user.
#[tracing::instrument(skip(db))]
pub async fn block(db: &Db, blocker: UserId, blocked: UserId) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    diesel::insert_into(user_blocks::table)
        .values((
            user_blocks::blocker_id.eq(blocker.0),
            user_blocks::blocked_id.eq(blocked.0),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await
        .map(|_| true)
        .or_else(|e| match foreign_key_violation(&e) {
            Some(constraint) if constraint.contains("blocked") => Ok(false),
            Some(_) => Err(DomainError::AccountGone),
            None => Err(from_diesel(e)),
        })
}

/// Lifts a block (idempotent).
#[tracing::instrument(skip(db))]
pub async fn unblock(db: &Db, blocker: UserId, blocked: UserId) -> DbResult<()> {
    let mut conn = db.conn().await?;
    diesel::delete(
        user_blocks::table
            .filter(user_blocks::blocker_id.eq(blocker.0))
            .filter(user_blocks::blocked_id.eq(blocked.0)),
    )
    .execute(&mut conn)
    .await
    .map(|_| ())
    .map_err(from_diesel)
}

/// The users `blocker` blocked, by id.
#[tracing::instrument(skip(db))]
pub async fn blocked_by(db: &Db, blocker: UserId) -> DbResult<Vec<UserRef>> {
    let mut conn = db.conn().await?;
    let rows: Vec<(i64, String)> = user_blocks::table
        .inner_join(users::table.on(users::id.eq(user_blocks::blocked_id)))
        .filter(user_blocks::blocker_id.eq(blocker.0))
        .order(users::id)
        .select((users::id, users::username))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|(id, username)| UserRef {
            id: UserId(id),
            username,
        })
        .collect())
}
