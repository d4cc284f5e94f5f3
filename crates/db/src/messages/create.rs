//! Storing messages, gap-free numbering and nonce de-duplication.

use crate::error::{foreign_key_violation, from_diesel, unexpected_outcome};
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use hearth_domain::model::Message;
use hearth_domain::rules::NONCE_WINDOW_MINUTES;
use hearth_domain::{ChannelId, DomainError, MessageId, ServerId, UserRef};

diesel::define_sql_function! {
    /// The `message_store` SQL function (migration 3): membership check, numbering, the message
    /// and its nonce claim in one call, so a send is one round trip and one cached plan.
    fn message_store(
        server: diesel::sql_types::BigInt,
        channel: diesel::sql_types::BigInt,
        sender: diesel::sql_types::BigInt,
        content: diesel::sql_types::Text,
        nonce: diesel::sql_types::Nullable<diesel::sql_types::Text>,
        window_minutes: diesel::sql_types::Integer,
    ) -> diesel::pg::sql_types::Record<(
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    )>;
}

/// How many times [`create`] asks again when the message a nonce replays was deleted before it
/// could be read (its claim went with it, so the next call stores anew). Twice is unlikely.
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
}

type StoreRow = (String, Option<i64>, Option<i64>, Option<DateTime<Utc>>);

/// Stores a message from `sender` in `channel` of `server`, with the channel's next sequence
/// number, unless `nonce` was already used by `sender` within the last 10 minutes: then the
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
#[tracing::instrument(skip(db, content))]
pub async fn create(
    db: &Db,
    server: ServerId,
    channel: ChannelId,
    sender: &UserRef,
    content: &str,
    nonce: Option<&str>,
) -> DbResult<Stored> {
    let mut conn = db.conn().await?;
    for _ in 0..CREATE_ATTEMPTS {
        let (outcome, id, seq, created_at): StoreRow = diesel::select(message_store(
            server.0,
            channel.0,
            sender.id.0,
            content,
            nonce,
            NONCE_WINDOW_MINUTES,
        ))
        .get_result(&mut conn)
        .await
        .map_err(|e| match foreign_key_violation(&e) {
            // The channel or the account was deleted while the statement ran.
            Some(constraint) if constraint.contains("channel") => DomainError::NotFound("channel"),
            Some(_) => DomainError::AccountGone,
            None => from_diesel(e),
        })?;
        match (outcome.as_str(), id, seq, created_at) {
            ("created", Some(id), Some(seq), Some(created_at)) => {
                return Ok(Stored::Created(Message {
                    id: MessageId(id),
                    channel_id: channel,
                    sender_id: sender.id,
                    sender: sender.username.clone(),
                    seq,
                    content: content.to_owned(),
                    nonce: nonce.map(str::to_owned),
                    created_at,
                    edited_at: None,
                }))
            }
            ("replayed", Some(id), _, _) => {
                if let Some((message, _)) =
                    super::history::find_on(&mut conn, MessageId(id)).await?
                {
                    return Ok(Stored::Replayed(message));
                }
                // Deleted since; its nonce is free again: ask again.
            }
            ("not_member", ..) => return Ok(Stored::NotMember),
            ("no_such_channel", ..) => return Err(DomainError::NotFound("channel")),
            (other, ..) => return Err(unexpected_outcome("message_store", other)),
        }
    }
    Err(DomainError::Internal(
        "the message a nonce replays kept disappearing".to_owned(),
    ))
}
