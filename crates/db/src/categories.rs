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

/// The category with this id.
#[tracing::instrument(skip(db))]
pub async fn find(db: &Db, id: CategoryId) -> DbResult<Option<Category>> {
    let mut conn = db.conn().await?;
    categories::table
        .find(id.0)
        .select(CategoryRow::as_select())
        .first(&mut conn)
        .await
        .optional()
        .map(|row| row.map(Category::from))
        .map_err(from_diesel)
}

#[derive(AsChangeset)]
#[diesel(table_name = categories)]
struct CategoryChangeset {
    name: Option<String>,
    description: Option<String>,
}

/// Renames a category or changes its description; `None` when there is no such category.
#[tracing::instrument(skip(db))]
pub async fn update(
    db: &Db,
    id: CategoryId,
    name: Option<&str>,
    description: Option<&str>,
) -> DbResult<Option<Category>> {
    if name.is_none() && description.is_none() {
        return find(db, id).await;
    }
    let mut conn = db.conn().await?;
    diesel::update(categories::table.find(id.0))
        .set(CategoryChangeset {
            name: name.map(normalize_category_name),
            description: description.map(str::to_owned),
        })
        .returning(CategoryRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map(|row| row.map(Category::from))
        .map_err(|e| match unique_violation(&e) {
            Some(_) => DomainError::Conflict("category"),
            None => from_diesel(e),
        })
}

/// How deleting a category ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryDeletion {
    /// Deleted; its icon path, if it had one.
    Deleted(Option<String>),
    NotFound,
    /// Servers still belong to it: deleting would delete them too.
    NotEmpty,
}

/// Deletes a category that no server belongs to, in one statement.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Db, id: CategoryId) -> DbResult<CategoryDeletion> {
    let mut conn = db.conn().await?;
    let deleted: Option<Option<String>> = diesel::delete(categories::table.find(id.0).filter(
        diesel::dsl::not(diesel::dsl::exists(
            crate::schema::servers::table.filter(crate::schema::servers::category_id.eq(id.0)),
        )),
    ))
    .returning(categories::icon)
    .get_result(&mut conn)
    .await
    .optional()
    .map_err(from_diesel)?;
    if let Some(icon) = deleted {
        return Ok(CategoryDeletion::Deleted(icon));
    }
    Ok(match find(db, id).await? {
        Some(_) => CategoryDeletion::NotEmpty,
        None => CategoryDeletion::NotFound,
    })
}
