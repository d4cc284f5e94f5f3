//! Which uploaded image each server and category shows, by its public `/media/...` path.
//!
//! Each change is one statement that also returns the path it replaced, read under the row's
//! lock, so the caller knows exactly which file may have become unused.

use crate::error::from_diesel;
use crate::schema::{categories, servers};
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use hearth_domain::model::Category;
use hearth_domain::{CategoryId, ServerId};

#[derive(QueryableByName)]
struct Replaced {
    #[diesel(sql_type = Nullable<Text>)]
    previous: Option<String>,
}

// `FOR UPDATE` in the CTE makes the old value the one this statement replaces, even when two
// uploads to the same server race.
const SET_SERVER_ICON: &str = "WITH old AS (SELECT icon FROM servers WHERE id = $1 FOR UPDATE) \
     UPDATE servers s SET icon = $2 FROM old WHERE s.id = $1 RETURNING old.icon AS previous";
const SET_SERVER_BANNER: &str =
    "WITH old AS (SELECT banner FROM servers WHERE id = $1 FOR UPDATE) \
     UPDATE servers s SET banner = $2 FROM old WHERE s.id = $1 RETURNING old.banner AS previous";

async fn replace_server_image(
    db: &Db,
    statement: &'static str,
    server: ServerId,
    path: &str,
) -> DbResult<Option<Option<String>>> {
    let mut conn = db.conn().await?;
    diesel::sql_query(statement)
        .bind::<BigInt, _>(server.0)
        .bind::<Text, _>(path)
        .get_result::<Replaced>(&mut conn)
        .await
        .optional()
        .map(|row| row.map(|row| row.previous))
        .map_err(from_diesel)
}

/// Sets a server's icon to `path`. `None` when there is no such server; otherwise the icon it
/// had before (`Some(None)` when it had none).
#[tracing::instrument(skip(db))]
pub async fn set_server_icon(
    db: &Db,
    server: ServerId,
    path: &str,
) -> DbResult<Option<Option<String>>> {
    replace_server_image(db, SET_SERVER_ICON, server, path).await
}

/// Sets a server's banner to `path`. `None` when there is no such server; otherwise the banner
/// it had before.
#[tracing::instrument(skip(db))]
pub async fn set_server_banner(
    db: &Db,
    server: ServerId,
    path: &str,
) -> DbResult<Option<Option<String>>> {
    replace_server_image(db, SET_SERVER_BANNER, server, path).await
}

#[derive(QueryableByName)]
struct CategoryIconRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Nullable<Text>)]
    icon: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    previous: Option<String>,
}

/// A category after its icon changed, and the icon it had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryIconChange {
    pub category: Category,
    pub previous: Option<String>,
}

/// Sets a category's icon to `path`; `None` when there is no such category.
#[tracing::instrument(skip(db))]
pub async fn set_category_icon(
    db: &Db,
    category: CategoryId,
    path: &str,
) -> DbResult<Option<CategoryIconChange>> {
    let mut conn = db.conn().await?;
    diesel::sql_query(
        "WITH old AS (SELECT icon FROM categories WHERE id = $1 FOR UPDATE) \
         UPDATE categories c SET icon = $2 FROM old WHERE c.id = $1 \
         RETURNING c.id, c.name, c.description, c.icon, old.icon AS previous",
    )
    .bind::<BigInt, _>(category.0)
    .bind::<Text, _>(path)
    .get_result::<CategoryIconRow>(&mut conn)
    .await
    .optional()
    .map(|row| {
        row.map(|row| CategoryIconChange {
            category: Category {
                id: CategoryId(row.id),
                name: row.name,
                description: row.description,
                icon: row.icon,
            },
            previous: row.previous,
        })
    })
    .map_err(from_diesel)
}

/// Whether any server icon or banner, or any category icon, is `path`.
///
/// A sequential scan of both tables (the columns have no index): fine while it only runs when an
/// image is replaced or a server is deleted.
#[tracing::instrument(skip(db))]
pub async fn is_referenced(db: &Db, path: &str) -> DbResult<bool> {
    let mut conn = db.conn().await?;
    diesel::select(
        diesel::dsl::exists(
            servers::table.filter(servers::icon.eq(path).or(servers::banner.eq(path))),
        )
        .or(diesel::dsl::exists(
            categories::table.filter(categories::icon.eq(path)),
        )),
    )
    .get_result(&mut conn)
    .await
    .map_err(from_diesel)
}
