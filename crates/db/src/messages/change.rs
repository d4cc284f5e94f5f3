//! Editing and deleting messages.

use super::{to_message, MessageRow, COLUMNS};
use crate::error::from_diesel;
use crate::schema::{message_nonces, messages, users};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::Message;
use hearth_domain::{rules, DomainError, MessageId};

/// Replaces the content of a message that is not deleted and marks it edited; its mentions
/// are resolved again from the new content, in the same transaction.
///
/// `content` must already be normalised (see `hearth_domain::rules::normalize_message`).
/// A missing or deleted message is [`DomainError::NotFound`].
#[tracing::instrument(skip(db, content))]
pub async fn edit(db: &Db, id: MessageId, content: &str) -> DbResult<Message> {
    let mut conn = db.conn().await?;
    let mentioned: Vec<_> = rules::mentioned_users(content)
        .into_iter()
        .map(|user| (id, user))
        .collect();
    let edited = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                let edited: Option<i64> = diesel::update(
                    messages::table
                        .filter(messages::id.eq(id.0))
                        .filter(messages::deleted_at.is_null()),
                )
                .set((
                    messages::content.eq(content),
                    messages::edited_at.eq(diesel::dsl::now),
                ))
                .returning(messages::id)
                .get_result(conn)
                .await
                .optional()?;
                if edited.is_some() {
                    super::mentions::clear(conn, id).await?;
                    super::mentions::resolve(conn, &mentioned).await?;
                    // Its replies show the new text.
                    diesel::sql_query(
                        "UPDATE messages SET reply_preview = reply_preview_of($1) \
                         WHERE reply_to = $1",
                    )
                    .bind::<diesel::sql_types::BigInt, _>(id.0)
                    .execute(conn)
                    .await?;
                }
                Ok(edited)
            }
            .scope_boxed()
        })
        .await
        .map_err(from_diesel)?;
    if edited.is_none() {
        return Err(DomainError::NotFound("message"));
    }
    // Read back with the sender's name; not filtered on deletion, as the edit did happen.
    messages::table
        .inner_join(users::table)
        .filter(messages::id.eq(id.0))
        .select(COLUMNS)
        .first::<MessageRow>(&mut conn)
        .await
        .map(to_message)
        .map_err(from_diesel)
}

/// Soft-deletes a message; `false` when it was missing or already deleted.
///
/// Its nonce is released in the same transaction: a replay of it stores a new message rather
/// than answering with one that no longer exists.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Db, id: MessageId) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let deleted = diesel::update(
                messages::table
                    .filter(messages::id.eq(id.0))
                    .filter(messages::deleted_at.is_null()),
            )
            // A deleted message is no pin any more.
            .set((
                messages::deleted_at.eq(diesel::dsl::now),
                messages::pinned_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                messages::pinned_by.eq(None::<i64>),
            ))
            .execute(conn)
            .await?;
            if deleted > 0 {
                diesel::delete(message_nonces::table.filter(message_nonces::message_id.eq(id.0)))
                    .execute(conn)
                    .await?;
                // A deleted message mentions nobody any more, and its replies say it is gone.
                super::mentions::clear(conn, id).await?;
                diesel::sql_query(
                    "UPDATE messages \
                     SET reply_preview = json_build_object('id', $1, 'deleted', true)::text \
                     WHERE reply_to = $1",
                )
                .bind::<diesel::sql_types::BigInt, _>(id.0)
                .execute(conn)
                .await?;
            }
            Ok(deleted > 0)
        }
        .scope_boxed()
    })
    .await
    .map_err(from_diesel)
}
