//! Creating, changing and deleting servers.

use crate::error::{foreign_key_violation, from_diesel};
use crate::schema::{channels, servers};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hearth_domain::model::ServerChanges;
use hearth_domain::{CategoryId, DomainError, ServerId, UserId};

fn server_write_error(e: diesel::result::Error) -> DomainError {
    match foreign_key_violation(&e) {
        Some(constraint) if constraint.contains("owner") => DomainError::AccountGone,
        Some(_) => DomainError::NotFound("category"),
        None => from_diesel(e),
    }
}

/// Creates a server, its owner's membership (a trigger) and, when `first_channel` is given, that
/// channel, all in one transaction.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &Db,
    owner: UserId,
    category: CategoryId,
    name: &str,
    description: &str,
    first_channel: Option<&str>,
) -> DbResult<ServerId> {
    let mut conn = db.conn().await?;
    let (name, description) = (name.to_owned(), description.to_owned());
    let first_channel = first_channel.map(str::to_owned);
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let id: i64 = diesel::insert_into(servers::table)
                .values((
                    servers::owner_id.eq(owner.0),
                    servers::category_id.eq(category.0),
                    servers::name.eq(&name),
                    servers::description.eq(&description),
                ))
                .returning(servers::id)
                .get_result(conn)
                .await?;
            if let Some(channel) = &first_channel {
                diesel::insert_into(channels::table)
                    .values((
                        channels::server_id.eq(id),
                        channels::owner_id.eq(owner.0),
                        channels::name.eq(channel),
                    ))
                    .execute(conn)
                    .await?;
            }
            Ok(ServerId(id))
        }
        .scope_boxed()
    })
    .await
    .map_err(server_write_error)
}

#[derive(AsChangeset)]
#[diesel(table_name = servers)]
struct ServerChangeset<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    category_id: Option<i64>,
}

/// Applies `changes`; returns whether the server exists.
#[tracing::instrument(skip(db))]
pub async fn update(db: &Db, id: ServerId, changes: &ServerChanges) -> DbResult<bool> {
    if changes.is_empty() {
        return super::exists(db, id).await;
    }
    let mut conn = db.conn().await?;
    diesel::update(servers::table.find(id.0))
        .set(ServerChangeset {
            name: changes.name.as_deref(),
            description: changes.description.as_deref(),
            category_id: changes.category.map(|c| c.0),
        })
        .execute(&mut conn)
        .await
        .map(|rows| rows > 0)
        .map_err(server_write_error)
}

/// Deletes a server with its channels, members and messages; returns its icon and banner paths
/// (so the files can go too), or `None` when there was no such server.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Db, id: ServerId) -> DbResult<Option<(Option<String>, Option<String>)>> {
    let mut conn = db.conn().await?;
    diesel::delete(servers::table.find(id.0))
        .returning((servers::icon, servers::banner))
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(from_diesel)
}
