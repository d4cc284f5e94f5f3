//! Storing messages, gap-free numbering and nonce de-duplication.

use crate::error::{foreign_key_violation, from_diesel, unexpected_outcome};
use crate::pool::Conn;
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use hearth_domain::model::Message;
use hearth_domain::rules::{self, NONCE_WINDOW_MINUTES};
use hearth_domain::{ChannelId, DomainError, MessageId, ServerId, UserId, UserRef};

diesel::define_sql_function! {
    /// The `message_store_many` SQL function (migration 4): `message_store` (migration 3) for
    /// each message in turn, in one call. `message_store` does the membership check, the
    /// numbering, the message and its nonce claim, so a batch is one round trip and one cached
    /// plan however many messages it holds.
    fn message_store_many(
        server: diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        channel: diesel::sql_types::BigInt,
        sender: diesel::sql_types::BigInt,
        contents: diesel::sql_types::Array<diesel::sql_types::Text>,
        nonces: diesel::sql_types::Array<diesel::sql_types::Nullable<diesel::sql_types::Text>>,
        reply_tos: diesel::sql_types::Array<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>,
        window_minutes: diesel::sql_types::Integer,
    ) -> diesel::pg::sql_types::Record<(
        diesel::sql_types::Integer,
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    )>;
}

/// How many times [`create_many`] asks again for a message whose nonce replays a message that
/// was deleted before it could be read (its claim went with it, so the next call stores anew).
/// Twice is unlikely.
const CREATE_ATTEMPTS: usize = 3;

/// What [`create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Stored now, with the channel's next sequence number.
    Created(Message),
    /// The nonce was used by the sender within the window: the message stored then (which may
    /// be in another channel; the caller decides what that means).
    Replayed(Message),
    /// The sender is not a member of the server.
    NotMember,
    /// A 1:1 conversation where one of the two blocked the other.
    Blocked,
    /// `reply_to` is no message of the channel, or a deleted one.
    InvalidReply,
}

/// A message to store: normalised content, an optional validated nonce, and the message of
/// the same channel it answers, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draft<'a> {
    pub content: &'a str,
    pub nonce: Option<&'a str>,
    pub reply_to: Option<MessageId>,
}

type StoreRow = (
    i32,
    String,
    Option<i64>,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// Stores a message from `sender` in `channel` of `server` (`None`: `channel` is a
/// conversation, and only its participants may post), with the channel's next sequence number, unless `nonce` was already used by `sender` within the last 10 minutes: then the
/// message stored with it is returned instead. Membership is checked in the same statement.
/// A missing server or channel is `NotFound("channel")`.
///
/// `content` must already be normalised (see `hearth_domain::rules::normalize_message`) and
/// `nonce` validated (`hearth_domain::rules::nonce_is_valid`).
///
/// Concurrent identical sends store exactly one message: the claim on the nonce is a row keyed
/// by `(sender, nonce)`, inserted in the transaction that stores the message; a competing send
/// waits for the first to commit, finds the claim taken, takes back its own message and number
/// (it still holds the channel row, so numbering stays gap-free) and answers with the winner's.
pub async fn create(
    db: &Db,
    server: Option<ServerId>,
    channel: ChannelId,
    sender: &UserRef,
    content: &str,
    nonce: Option<&str>,
) -> DbResult<Stored> {
    let draft = Draft {
        content,
        nonce,
        reply_to: None,
    };
    let mut stored = create_many(db, server, channel, sender, &[draft]).await?;
    stored.pop().unwrap_or_else(|| {
        Err(DomainError::Internal(
            "message_store_many answered no row".to_owned(),
        ))
    })
}

/// Stores several messages of `sender` in `channel`, in the order given, in one round trip:
/// each as [`create`] would (its own numbering, nonce and membership check), with one outcome
/// per draft, in order. A failure of the whole call (the database is unavailable) is the outer
/// error.
///
/// One message's text that PostgreSQL cannot hold (a NUL character) fails the statement, and
/// so the whole batch: then each message is stored on its own, so only that one is refused. A
/// replayed message deleted before it could be read is stored anew after the rest of the batch.
#[tracing::instrument(skip(db, drafts), fields(messages = drafts.len()))]
pub async fn create_many(
    db: &Db,
    server: Option<ServerId>,
    channel: ChannelId,
    sender: &UserRef,
    drafts: &[Draft<'_>],
) -> DbResult<Vec<DbResult<Stored>>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = db.conn().await?;
    let to = (server, channel, sender);
    match store(&mut conn, to, drafts).await {
        Err(DomainError::InvalidInput(_)) if drafts.len() > 1 => {
            let mut outcomes = Vec::with_capacity(drafts.len());
            for draft in drafts {
                outcomes.push(create_on(&mut conn, to, draft).await);
            }
            Ok(outcomes)
        }
        Err(e) => Err(e),
        Ok(rows) => {
            let mut outcomes = Vec::with_capacity(drafts.len());
            for (draft, row) in drafts.iter().zip(rows) {
                outcomes.push(match outcome(&mut conn, to, draft, row).await {
                    Ok(Some(stored)) => Ok(stored),
                    // The replayed message vanished: its nonce is free again.
                    Ok(None) => create_on(&mut conn, to, draft).await,
                    Err(e) => Err(e),
                });
            }
            mention(&mut conn, &mut outcomes).await;
            Ok(outcomes)
        }
    }
}

/// Resolves the mentions of the new messages among `outcomes` (a second statement, only when
/// one of them mentions someone). The messages are stored whatever happens here: should this
/// fail, they stand without mentions, which is logged.
async fn mention(conn: &mut Conn, outcomes: &mut [DbResult<Stored>]) {
    let mentioned: Vec<(MessageId, UserId)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Ok(Stored::Created(message)) => Some(message),
            _ => None,
        })
        .flat_map(|m| {
            rules::mentioned_users(&m.content)
                .into_iter()
                .map(|user| (m.id, user))
        })
        .collect();
    if mentioned.is_empty() {
        return;
    }
    match super::mentions::resolve(conn, &mentioned).await {
        Ok(mut resolved) => {
            for outcome in outcomes.iter_mut() {
                if let Ok(Stored::Created(message)) = outcome {
                    message.mentions = resolved.remove(&message.id).unwrap_or_default();
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot resolve the mentions of new messages"),
    }
}

/// Where messages go and who sends them.
type To<'a> = (Option<ServerId>, ChannelId, &'a UserRef);

/// Stores one message, asking again while its nonce replays a message that vanishes.
async fn create_on(conn: &mut Conn, to: To<'_>, draft: &Draft<'_>) -> DbResult<Stored> {
    for _ in 0..CREATE_ATTEMPTS {
        let row = store(conn, to, std::slice::from_ref(draft))
            .await?
            .pop()
            .ok_or_else(|| unexpected_outcome("message_store_many", "no row"))?;
        if let Some(stored) = outcome(conn, to, draft, row).await? {
            return Ok(stored);
        }
    }
    Err(DomainError::Internal(
        "the message a nonce replays kept disappearing".to_owned(),
    ))
}

/// One call of `message_store_many`: a row per draft, in the drafts' order.
async fn store(conn: &mut Conn, to: To<'_>, drafts: &[Draft<'_>]) -> DbResult<Vec<StoreRow>> {
    let (server, channel, sender) = to;
    let contents: Vec<&str> = drafts.iter().map(|d| d.content).collect();
    let nonces: Vec<Option<&str>> = drafts.iter().map(|d| d.nonce).collect();
    let replies: Vec<Option<i64>> = drafts.iter().map(|d| d.reply_to.map(|m| m.0)).collect();
    let mut rows: Vec<StoreRow> = diesel::select(message_store_many(
        server.map(|s| s.0),
        channel.0,
        sender.id.0,
        contents,
        nonces,
        replies,
        NONCE_WINDOW_MINUTES,
    ))
    .load(conn)
    .await
    .map_err(|e| match foreign_key_violation(&e) {
        // The channel or the account was deleted while the statement ran.
        Some(constraint) if constraint.contains("channel") => DomainError::NotFound("channel"),
        Some(_) => DomainError::AccountGone,
        None => from_diesel(e),
    })?;
    rows.sort_by_key(|row| row.0);
    let numbered = rows
        .iter()
        .map(|row| row.0)
        .eq((1..).take(drafts.len()).map(|i: i32| i));
    if !numbered {
        return Err(unexpected_outcome(
            "message_store_many",
            &format!("{} rows for {} messages", rows.len(), drafts.len()),
        ));
    }
    Ok(rows)
}

/// What one row of `message_store_many` means; `None` when the nonce replays a message that
/// was deleted before it could be read (store it again).
async fn outcome(
    conn: &mut Conn,
    to: To<'_>,
    draft: &Draft<'_>,
    row: StoreRow,
) -> DbResult<Option<Stored>> {
    let (_, channel, sender) = to;
    let reply = super::json_column(row.5.as_deref(), "reply preview");
    match (row.1.as_str(), row.2, row.3, row.4) {
        ("created", Some(id), Some(seq), Some(created_at)) => Ok(Some(Stored::Created(Message {
            id: MessageId(id),
            channel_id: channel,
            sender_id: sender.id,
            sender: sender.username.clone(),
            seq,
            content: draft.content.to_owned(),
            nonce: draft.nonce.map(str::to_owned),
            created_at,
            edited_at: None,
            mentions: Vec::new(),
            reply,
            pinned_at: None,
            reactions: Vec::new(),
        }))),
        ("replayed", Some(id), _, _) => Ok(super::history::find_on(conn, MessageId(id))
            .await?
            .map(|(message, _)| Stored::Replayed(message))),
        ("not_member", ..) => Ok(Some(Stored::NotMember)),
        ("blocked", ..) => Ok(Some(Stored::Blocked)),
        ("invalid_reply", ..) => Ok(Some(Stored::InvalidReply)),
        ("no_such_channel", ..) => Err(DomainError::NotFound("channel")),
        (other, ..) => Err(unexpected_outcome("message_store_many", other)),
    }
}
