//! Storing messages, gap-free numbering and nonce de-duplication.

use super::{to_message, MessageRow, COLUMNS};
use crate::error::{foreign_key_violation, from_diesel};
use crate::pool::Conn;
use crate::schema::{channels, message_nonces, messages, users};
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::Message;
use hearth_domain::rules::NONCE_WINDOW_MINUTES;
use hearth_domain::{ChannelId, DomainError, MessageId, UserId, UserRef};

/// How many times [`create`] starts over when the claim that beat it on a nonce vanished
/// before it could be read (its message was deleted in between). Twice is already unlikely.
const CREATE_ATTEMPTS: usize = 3;

/// Stores a message with the channel's next sequence number, unless `nonce` was already used by
/// `sender` within the last 10 minutes: then the message stored with it is returned instead.
///
/// The flag is `true` when the message was stored now, `false` for a replay. `content` must
/// already be normalised (see `hearth_domain::rules::normalize_message`) and `nonce` validated
/// (`hearth_domain::rules::nonce_is_valid`).
///
/// Concurrent identical sends store exactly one message: the claim on the nonce is a row keyed
/// by `(sender, nonce)`, inserted in the transaction that stores the message. A competing
/// transaction's insert waits for the first to commit, finds the claim taken, rolls back (its
/// sequence number with it, so numbering stays gap-free) and reads the winner's message.
#[tracing::instrument(skip(db, content))]
pub async fn create(
    db: &Db,
    channel: ChannelId,
    sender: &UserRef,
    content: &str,
    nonce: Option<&str>,
) -> DbResult<(Message, bool)> {
    let mut conn = db.conn().await?;
    for _ in 0..CREATE_ATTEMPTS {
        if let Some(nonce) = nonce {
            if let Some(existing) = claimed(&mut conn, sender.id, nonce).await? {
                return Ok((existing, false));
            }
        }
        match store(&mut conn, channel, sender, content, nonce).await {
            Ok(message) => return Ok((message, true)),
            Err(StoreError::NonceTaken) => continue,
            Err(StoreError::Db(e)) => {
                return Err(match (&e, foreign_key_violation(&e)) {
                    (diesel::result::Error::NotFound, _) => DomainError::NotFound("channel"),
                    (_, Some(_)) => DomainError::AccountGone,
                    _ => from_diesel(e),
                })
            }
        }
    }
    Err(DomainError::Internal(
        "the claim on a message nonce kept changing hands".to_owned(),
    ))
}

/// The live message claimed by `sender`'s `nonce` within the window, if any.
async fn claimed(conn: &mut Conn, sender: UserId, nonce: &str) -> DbResult<Option<Message>> {
    message_nonces::table
        .inner_join(messages::table.inner_join(users::table))
        .filter(message_nonces::sender_id.eq(sender.0))
        .filter(message_nonces::nonce.eq(nonce))
        .filter(
            diesel::dsl::sql::<Bool>("message_nonces.created_at > now() - make_interval(mins => ")
                .bind::<Integer, _>(NONCE_WINDOW_MINUTES)
                .sql(")"),
        )
        .filter(messages::deleted_at.is_null())
        .select(COLUMNS)
        .first::<MessageRow>(conn)
        .await
        .optional()
        .map(|row| row.map(to_message))
        .map_err(from_diesel)
}

/// Why [`store`] gave up.
enum StoreError {
    Db(diesel::result::Error),
    /// A fresh claim on the nonce exists (committed by a concurrent send); rolled back.
    NonceTaken,
}

impl From<diesel::result::Error> for StoreError {
    fn from(err: diesel::result::Error) -> Self {
        StoreError::Db(err)
    }
}

/// Takes over the claim on `sender`'s `nonce` for `message`: inserts it, or replaces a claim
/// older than the window. Nothing changes (0) when a fresh claim exists; if another
/// transaction is inserting the same claim, PostgreSQL makes this wait for its outcome.
const CLAIM_NONCE: &str = "\
    INSERT INTO message_nonces (sender_id, nonce, message_id) VALUES ($1, $2, $3) \
    ON CONFLICT (sender_id, nonce) DO UPDATE \
        SET message_id = EXCLUDED.message_id, created_at = now() \
        WHERE message_nonces.created_at <= now() - make_interval(mins => $4)";

/// One attempt at storing a new message, in one transaction. The sender's name comes from the
/// caller (who authenticated them), not from another read while the channel row is locked.
async fn store(
    conn: &mut Conn,
    channel: ChannelId,
    sender: &UserRef,
    content: &str,
    nonce: Option<&str>,
) -> Result<Message, StoreError> {
    conn.transaction::<_, StoreError, _>(|conn| {
        async move {
            // Locks the channel row until commit, so concurrent senders get consecutive
            // numbers; a missing channel is `NotFound`.
            let seq: i64 = diesel::update(channels::table.find(channel.0))
                .set(channels::last_seq.eq(channels::last_seq + 1))
                .returning(channels::last_seq)
                .get_result(conn)
                .await?;
            let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(messages::table)
                .values((
                    messages::channel_id.eq(channel.0),
                    messages::sender_id.eq(sender.id.0),
                    messages::seq.eq(seq),
                    messages::content.eq(content),
                    messages::nonce.eq(nonce),
                ))
                .returning((messages::id, messages::created_at))
                .get_result(conn)
                .await?;
            if let Some(nonce) = nonce {
                let claimed = diesel::sql_query(CLAIM_NONCE)
                    .bind::<BigInt, _>(sender.id.0)
                    .bind::<Text, _>(nonce)
                    .bind::<BigInt, _>(id)
                    .bind::<Integer, _>(NONCE_WINDOW_MINUTES)
                    .execute(conn)
                    .await?;
                if claimed == 0 {
                    return Err(StoreError::NonceTaken);
                }
            }
            Ok(Message {
                id: MessageId(id),
                channel_id: channel,
                sender_id: sender.id,
                sender: sender.username.clone(),
                seq,
                content: content.to_owned(),
                nonce: nonce.map(str::to_owned),
                created_at,
                edited_at: None,
            })
        }
        .scope_boxed()
    })
    .await
}
