//! Each user's event log (migration 6): what was addressed to them, numbered per user with no
//! gap, written by triggers in the transaction of the change it reports. A personal socket
//! resumes from the last number it received.

use crate::error::from_diesel;
use crate::{Db, DbResult};
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use hearth_domain::UserId;
use std::collections::HashMap;
use std::time::Duration;

/// One logged event: its number in the user's log and its JSON, as live clients receive it
/// (without the cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub seq: i64,
    pub body: String,
}

/// Where a user's log stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// The last number given (0: nothing yet).
    pub seq: i64,
    /// Events up to this number were pruned.
    pub pruned_through: i64,
}

#[derive(QueryableByName)]
struct LoggedRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    body: String,
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    pruned_through: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Where `user`'s log stands.
#[tracing::instrument(skip(db))]
pub async fn head(db: &Db, user: UserId) -> DbResult<Head> {
    Ok(heads(db, &[user]).await?.remove(&user).unwrap_or_default())
}

/// Starts `user`'s log if it has not started (their first personal socket: nothing is logged
/// for a user before, migration 7), and tells where it stands.
#[tracing::instrument(skip(db))]
pub async fn open(db: &Db, user: UserId) -> DbResult<Head> {
    let mut conn = db.conn().await?;
    diesel::sql_query(
        "INSERT INTO user_event_heads (user_id) SELECT $1 \
         WHERE EXISTS (SELECT FROM users WHERE id = $1) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind::<BigInt, _>(user.0)
    .execute(&mut conn)
    .await
    .map_err(from_diesel)?;
    drop(conn);
    head(db, user).await
}

/// Where the logs of `users` stand (one round trip whatever their number); users with no
/// event yet are left out.
#[tracing::instrument(skip_all, fields(users = users.len()))]
pub async fn heads(db: &Db, users: &[UserId]) -> DbResult<HashMap<UserId, Head>> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let mut conn = db.conn().await?;
    let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    let rows: Vec<HeadRow> = diesel::sql_query(
        "SELECT user_id, seq, pruned_through FROM user_event_heads WHERE user_id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(ids)
    .load(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let head = Head {
                seq: row.seq,
                pruned_through: row.pruned_through,
            };
            (UserId(row.user_id), head)
        })
        .collect())
}

/// `user`'s events numbered above `after`, in order, at most `limit`.
#[tracing::instrument(skip(db))]
pub async fn since(db: &Db, user: UserId, after: i64, limit: i64) -> DbResult<Vec<Logged>> {
    let mut conn = db.conn().await?;
    let rows: Vec<LoggedRow> = diesel::sql_query(
        "SELECT seq, body::text AS body FROM user_events \
         WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind::<BigInt, _>(user.0)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|row| Logged {
            seq: row.seq,
            body: row.body,
        })
        .collect())
}

/// Appends events no table change reports (a private message's notice, an alert, a mention;
/// the rest is logged by triggers) to users' logs, each `(user, JSON)` to its user's, in one
/// round trip, users in id order (as every push locks heads).
#[tracing::instrument(skip_all, fields(events = events.len()))]
pub async fn push(db: &Db, events: &[(UserId, String)]) -> DbResult<()> {
    let mut sorted: Vec<&(UserId, String)> = events.iter().collect();
    sorted.sort_by_key(|(user, _)| *user);
    let users: Vec<i64> = sorted.iter().map(|(user, _)| user.0).collect();
    let bodies: Vec<&str> = sorted.iter().map(|(_, body)| body.as_str()).collect();
    let mut conn = db.conn().await?;
    diesel::sql_query(
        "SELECT user_event_push(ARRAY[t.user_id], t.body::jsonb) \
         FROM unnest($1::bigint[], $2::text[]) AS t(user_id, body)",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(users)
    .bind::<diesel::sql_types::Array<Text>, _>(bodies)
    .execute(&mut conn)
    .await
    .map_err(from_diesel)?;
    Ok(())
}

/// Forgets events older than `age`, `batch` at a time until none is left: returns how many
/// went.
#[tracing::instrument(skip(db))]
pub async fn prune(db: &Db, age: Duration, batch: i32) -> DbResult<i64> {
    let mut total = 0;
    let age = format!("{} milliseconds", age.as_millis());
    loop {
        let mut conn = db.conn().await?;
        let gone: Count = diesel::sql_query("SELECT user_events_prune($1::interval, $2) AS count")
            .bind::<Text, _>(&age)
            .bind::<Integer, _>(batch)
            .get_result(&mut conn)
            .await
            .map_err(from_diesel)?;
        total += gone.count;
        if gone.count < i64::from(batch) {
            return Ok(total);
        }
    }
}
