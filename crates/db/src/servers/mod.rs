//! Servers and the catalogue.

mod change;

pub use change::{create, delete, update};

use crate::channels::channels_of;
use crate::error::from_diesel;
use crate::schema::{categories, server_members, servers};
use crate::{Db, DbResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hearth_domain::model::{Server, ServerFilter};
use hearth_domain::rules::normalize_category_name;
use hearth_domain::{CategoryId, ServerId, UserId};

#[derive(QueryableByName)]
struct SlotCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

/// The member counts of servers counted in slots (popular ones, migration 8): their row's
/// `member_count` plus their slots, read together (one snapshot: exact).
async fn slot_counts(
    conn: &mut diesel_async::AsyncPgConnection,
    ids: &[i64],
) -> DbResult<std::collections::HashMap<i64, i64>> {
    let counts: Vec<SlotCount> = diesel::sql_query(
        "SELECT s.id, (s.member_count + COALESCE(sum(c.count), 0))::bigint AS total \
         FROM servers s LEFT JOIN server_member_counts c ON c.server_id = s.id \
         WHERE s.id = ANY($1) GROUP BY s.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .load(conn)
    .await
    .map_err(from_diesel)?;
    Ok(counts.into_iter().map(|c| (c.id, c.total)).collect())
}

type ServerRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    i64,
    bool,
);

/// The catalogue: servers matching every given filter, by id, each with its channels.
///
/// Two queries whatever the number of servers: one for the servers (and their member counts,
/// kept by triggers rather than counted per request), one for all their channels; and a third
/// for the counts of the popular servers among them, which are kept in slots.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, filter: &ServerFilter) -> DbResult<Vec<Server>> {
    let mut conn = db.conn().await?;
    let mut query = servers::table
        .inner_join(categories::table)
        .order(servers::id)
        .into_boxed();
    if let Some(category) = &filter.category {
        query = query.filter(categories::name.eq(normalize_category_name(category)));
    }
    if let Some(user) = filter.member {
        query = query.filter(
            servers::id.eq_any(
                server_members::table
                    .filter(server_members::user_id.eq(user.0))
                    .select(server_members::server_id),
            ),
        );
    }
    if let Some(server) = filter.server {
        query = query.filter(servers::id.eq(server.0));
    }
    if let Some(after) = filter.after {
        query = query.filter(servers::id.gt(after.0));
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    let rows: Vec<ServerRow> = query
        .select((
            servers::id,
            servers::owner_id,
            servers::category_id,
            categories::name,
            servers::name,
            servers::description,
            servers::icon,
            servers::banner,
            servers::created_at,
            servers::member_count,
            servers::counted_in_slots,
        ))
        .load(&mut conn)
        .await
        .map_err(from_diesel)?;

    let ids: Vec<ServerId> = rows.iter().map(|row| ServerId(row.0)).collect();
    let mut channels = channels_of(&mut conn, &ids).await?;
    let popular: Vec<i64> = rows
        .iter()
        .filter(|row| filter.with_num_members && row.10)
        .map(|row| row.0)
        .collect();
    let slots = if popular.is_empty() {
        std::collections::HashMap::new()
    } else {
        slot_counts(&mut conn, &popular).await?
    };
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                owner,
                category_id,
                category,
                name,
                description,
                icon,
                banner,
                created_at,
                num,
                _,
            )| {
                Server {
                    id: ServerId(id),
                    owner_id: UserId(owner),
                    category_id: CategoryId(category_id),
                    category,
                    name,
                    description,
                    icon,
                    banner,
                    created_at,
                    channels: channels.remove(&ServerId(id)).unwrap_or_default(),
                    // A row that is not counted in slots holds the whole count.
                    num_members: filter
                        .with_num_members
                        .then(|| slots.get(&id).copied().unwrap_or(num)),
                }
            },
        )
        .collect())
}

/// The server with this id, with its channels and member count.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: ServerId) -> DbResult<Option<Server>> {
    let filter = ServerFilter {
        server: Some(id),
        with_num_members: true,
        ..ServerFilter::default()
    };
    Ok(list(db, &filter).await?.into_iter().next())
}

/// Whether a server with this id exists.
#[tracing::instrument(skip(db))]
pub async fn exists(db: &Db, id: ServerId) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    diesel::select(diesel::dsl::exists(servers::table.find(id.0)))
        .get_result(&mut conn)
        .await
        .map_err(from_diesel)
}

/// The id of the server called `name` owned by `owner`, if any (keeps the seed idempotent).
#[tracing::instrument(skip(db))]
pub async fn find_owned_by_name(db: &Db, owner: UserId, name: &str) -> DbResult<Option<ServerId>> {
    let mut conn = db.conn().await?;
    servers::table
        .filter(servers::owner_id.eq(owner.0))
        .filter(servers::name.eq(name))
        .select(servers::id)
        .first(&mut conn)
        .await
        .optional()
        .map(|id| id.map(ServerId))
        .map_err(from_diesel)
}

/// The owner of a server, or `None` when there is no such server.
#[tracing::instrument(skip(db))]
pub async fn owner_of(db: &Db, id: ServerId) -> DbResult<Option<UserId>> {
    let mut conn = db.conn().await?;
    servers::table
        .find(id.0)
        .select(servers::owner_id)
        .first(&mut conn)
        .await
        .optional()
        .map(|owner| owner.map(UserId))
        .map_err(from_diesel)
}

#[derive(QueryableByName)]
struct Folded {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    folded: i32,
}

/// Moves the member counts of popular servers that quietened down (no join or leave under
/// way) from their slots back into their rows, `batch` servers at a time, so that reading
/// their counts is one column again (migration 8). Returns how many servers it folded.
#[tracing::instrument(skip(db))]
pub async fn fold_member_counts(db: &Db, batch: i32) -> DbResult<i64> {
    let mut total = 0;
    loop {
        let mut conn = db.conn().await?;
        let done: Folded = diesel::sql_query("SELECT server_member_counts_fold($1) AS folded")
            .bind::<diesel::sql_types::Integer, _>(batch)
            .get_result(&mut conn)
            .await
            .map_err(from_diesel)?;
        total += i64::from(done.folded);
        if done.folded < batch {
            return Ok(total);
        }
    }
}
