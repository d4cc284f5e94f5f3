//! Channels of servers. Conversations (direct messages) are channels without a server; every
//! query here reads and writes servers' channels only (`kind = 'text'`, which by the table's
//! constraints always has a server and an owner), so a conversation's id is no channel's.

use crate::error::{from_diesel, unique_violation};
use crate::pool::Conn;
use crate::schema::channels;
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hearth_domain::model::Channel;
use hearth_domain::{ChannelId, DomainError, ServerId, UserId};
use std::collections::HashMap;

#[derive(Queryable, Selectable)]
#[diesel(table_name = channels, check_for_backend(diesel::pg::Pg))]
struct ChannelRow {
    id: i64,
    server_id: Option<i64>,
    owner_id: Option<i64>,
    name: String,
    topic: String,
}

impl From<ChannelRow> for Channel {
    fn from(row: ChannelRow) -> Self {
        // Never `None`: only text channels are read here (see the module's documentation).
        Channel {
            id: ChannelId(row.id),
            server_id: ServerId(row.server_id.unwrap_or_default()),
            owner_id: UserId(row.owner_id.unwrap_or_default()),
            name: row.name,
            topic: row.topic,
        }
    }
}

/// The channels of each of `servers`, by id, in one query.
pub(crate) async fn channels_of(
    conn: &mut Conn,
    servers: &[ServerId],
) -> DbResult<HashMap<ServerId, Vec<Channel>>> {
    if servers.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = servers.iter().map(|id| id.0).collect();
    let rows: Vec<ChannelRow> = channels::table
        .filter(channels::server_id.eq_any(ids))
        .order(channels::id)
        .select(ChannelRow::as_select())
        .load(conn)
        .await
        .map_err(from_diesel)?;
    let mut by_server: HashMap<ServerId, Vec<Channel>> = HashMap::new();
    for row in rows {
        let channel = Channel::from(row);
        by_server
            .entry(channel.server_id)
            .or_default()
            .push(channel);
    }
    Ok(by_server)
}

/// Creates a channel; names are unique within a server.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &Db,
    server: ServerId,
    owner: UserId,
    name: &str,
    topic: &str,
) -> DbResult<Channel> {
    let mut conn = db.conn().await?;
    diesel::insert_into(channels::table)
        .values((
            channels::server_id.eq(server.0),
            channels::owner_id.eq(owner.0),
            channels::name.eq(name),
            channels::topic.eq(topic),
        ))
        .returning(ChannelRow::as_returning())
        .get_result(&mut conn)
        .await
        .map(Channel::from)
        .map_err(|e| match unique_violation(&e) {
            Some(_) => DomainError::Conflict("channel"),
            None => from_diesel(e),
        })
}

/// The channel with this id.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: ChannelId) -> DbResult<Option<Channel>> {
    let mut conn = db.conn().await?;
    channels::table
        .find(id.0)
        .filter(channels::server_id.is_not_null())
        .select(ChannelRow::as_select())
        .first(&mut conn)
        .await
        .optional()
        .map(|row| row.map(Channel::from))
        .map_err(from_diesel)
}

#[derive(AsChangeset)]
#[diesel(table_name = channels)]
struct ChannelChangeset<'a> {
    name: Option<&'a str>,
    topic: Option<&'a str>,
}

/// Renames a channel or changes its topic; `None` when there is no such channel.
#[tracing::instrument(skip(db))]
pub async fn update(
    db: &Db,
    id: ChannelId,
    name: Option<&str>,
    topic: Option<&str>,
) -> DbResult<Option<Channel>> {
    if name.is_none() && topic.is_none() {
        return find(db, id).await;
    }
    let mut conn = db.conn().await?;
    diesel::update(
        channels::table
            .find(id.0)
            .filter(channels::server_id.is_not_null()),
    )
    .set(ChannelChangeset { name, topic })
    .returning(ChannelRow::as_returning())
    .get_result(&mut conn)
    .await
    .optional()
    .map(|row| row.map(Channel::from))
    .map_err(|e| match unique_violation(&e) {
        Some(_) => DomainError::Conflict("channel"),
        None => from_diesel(e),
    })
}

/// Deletes a channel and its messages; returns it, or `None` when there was none.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Db, id: ChannelId) -> DbResult<Option<Channel>> {
    let mut conn = db.conn().await?;
    diesel::delete(
        channels::table
            .find(id.0)
            .filter(channels::server_id.is_not_null()),
    )
    .returning(ChannelRow::as_returning())
    .get_result(&mut conn)
    .await
    .optional()
    .map(|row| row.map(Channel::from))
    .map_err(from_diesel)
}

/// The last sequence number of each of `ids` that exists, in one query.
#[tracing::instrument(skip_all, fields(channels = ids.len()))]
pub async fn last_seqs(db: &Db, ids: &[ChannelId]) -> DbResult<HashMap<ChannelId, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut conn = db.conn().await?;
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let rows: Vec<(i64, i64)> = channels::table
        .filter(channels::id.eq_any(raw))
        .select((channels::id, channels::last_seq))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;
    Ok(rows
        .into_iter()
        .map(|(id, seq)| (ChannelId(id), seq))
        .collect())
}
