//! Mentions (migration 10): resolved when a message is stored or edited, against who can read
//! its channel. The message carries them (`messages.mentions`, JSON) for history and live
//! frames; `message_mentions` holds one row per mentioned user but the author, for their
//! mention counts.

use diesel::sql_types::{Array, BigInt, Text};
use diesel::QueryableByName;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use hearth_domain::{MessageId, UserId, UserRef};
use std::collections::HashMap;

#[derive(QueryableByName)]
struct Resolved {
    #[diesel(sql_type = BigInt)]
    message_id: i64,
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Text)]
    username: String,
}

/// Records who of `mentioned` (message, user) pairs can read the message's channel: on the
/// messages themselves and, but for their authors, in `message_mentions`. One statement for
/// a batch of messages; deleted messages and unknown users are left out. Returns each
/// message's mentions, in the order given.
pub(crate) async fn resolve(
    conn: &mut AsyncPgConnection,
    mentioned: &[(MessageId, UserId)],
) -> diesel::QueryResult<HashMap<MessageId, Vec<UserRef>>> {
    if mentioned.is_empty() {
        return Ok(HashMap::new());
    }
    let messages: Vec<i64> = mentioned.iter().map(|(m, _)| m.0).collect();
    let users: Vec<i64> = mentioned.iter().map(|(_, u)| u.0).collect();
    let rows: Vec<Resolved> = diesel::sql_query(
        "WITH pairs AS ( \
             SELECT * FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY \
                 AS p(message_id, user_id, ord) \
         ), readers AS ( \
             SELECT p.message_id, p.user_id, p.ord, m.channel_id, m.seq, m.sender_id, \
                    u.username \
             FROM pairs p \
             JOIN messages m ON m.id = p.message_id AND m.deleted_at IS NULL \
             JOIN channels c ON c.id = m.channel_id \
             JOIN users u ON u.id = p.user_id \
             WHERE CASE WHEN c.server_id IS NULL \
                        THEN EXISTS (SELECT FROM conversation_participants cp \
                                     WHERE cp.channel_id = c.id AND cp.user_id = p.user_id) \
                        ELSE EXISTS (SELECT FROM server_members sm \
                                     WHERE sm.server_id = c.server_id \
                                       AND sm.user_id = p.user_id) \
                   END \
         ), counted AS ( \
             INSERT INTO message_mentions (user_id, channel_id, seq, message_id) \
             SELECT user_id, channel_id, seq, message_id FROM readers \
             WHERE user_id <> sender_id \
             ON CONFLICT DO NOTHING \
         ), carried AS ( \
             UPDATE messages m SET mentions = agg.mentions \
             FROM (SELECT message_id, \
                          json_agg(json_build_object('id', user_id, 'username', username) \
                                   ORDER BY ord)::text AS mentions \
                   FROM readers GROUP BY message_id) agg \
             WHERE m.id = agg.message_id \
         ) \
         SELECT message_id, user_id, username FROM readers ORDER BY ord",
    )
    .bind::<Array<BigInt>, _>(messages)
    .bind::<Array<BigInt>, _>(users)
    .load(conn)
    .await?;
    let mut by_message: HashMap<MessageId, Vec<UserRef>> = HashMap::new();
    for row in rows {
        by_message
            .entry(MessageId(row.message_id))
            .or_default()
            .push(UserRef {
                id: UserId(row.user_id),
                username: row.username,
            });
    }
    Ok(by_message)
}

/// Forgets what a message mentioned (before its mentions are resolved again, after an edit).
pub(crate) async fn clear(
    conn: &mut AsyncPgConnection,
    message: MessageId,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "WITH counted AS (DELETE FROM message_mentions WHERE message_id = $1) \
         UPDATE messages SET mentions = NULL WHERE id = $1 AND mentions IS NOT NULL",
    )
    .bind::<BigInt, _>(message.0)
    .execute(conn)
    .await?;
    Ok(())
}
