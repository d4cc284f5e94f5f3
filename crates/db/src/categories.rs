//! Categories servers are browsed by.

use crate::error::{from_diesel, unique_violation};
use crate::schema::categories;
use crate::{Db, DbResult};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hearth_domain::model::Category;
use hearth_domain::rules::normalize_category_name;
use hearth_domain::{CategoryId, DomainError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
struct CategoryRow {
    id: i64,
    name: String,
    description: String,
    icon: Option<String>,
}

impl From<CategoryRow> for Category {
    fn from(row: CategoryRow) -> Self {
        Category {
            id: CategoryId(row.id),
            name: row.name,
            description: row.description,
            icon: row.icon,
        }
    }
}

/// Every category, by id.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> DbResult<Vec<Category>> {
    let mut conn = db.conn().await?;
    categories::table
        .order(categories::id)
        .select(CategoryRow::as_select())
        .load(&mut conn)
        .await
        .map(|rows| rows.into_iter().map(Category::from).collect())
        .map_err(from_diesel)
}

/// Creates a category; its name is stored lower-case and must be new.
#[tracing::instrument(skip(db))]
pub async fn create(db: &Db, name: &str, description: &str) -> DbResult<Category> {
    let mut conn = db.conn().await?;
    diesel::insert_into(categories::table)
        .values((
            categories::name.eq(normalize_category_name(name)),
            categories::description.eq(description),
        ))
        .returning(CategoryRow::as_returning())
        .get_result(&mut conn)
        .await
        .map(Category::from)
        .map_err(|e| match unique_violation(&e) {
            Some(_) => DomainError::Conflict("category"),
            None => from_diesel(e),
        })
}

/// The category with this name (any letter case).
#[tracing::instrument(skip(db))]
pub async fn find_by_name(db: &Db, name: &str) -> DbResult<Option<Category>> {
    let mut conn = db.conn().await?;
    categories::table
        .filter(categories::name.eq(normalize_category_name(name)))
        .select(CategoryRow::as_select())
        .first(&mut conn)
        .await
        .optional()
        .map(|row| row.map(Category::from))
        .map_err(from_diesel)
}
