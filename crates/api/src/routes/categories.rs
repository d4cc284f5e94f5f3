//! Categories, managed by staff (users with `is_staff`, like Django's).

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody, JsonBodyErrors};
use crate::json::JsonObject;
use crate::routes::catalogue::CategoryDto;
use crate::routes::text::{Description, Name};
use crate::startup::AppState;
use actix_web::{delete, patch, post, web, HttpResponse};
use hearth_db::categories::CategoryDeletion;
use hearth_domain::{rules, CategoryId, DomainError};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

fn category_name(name: &str) -> Result<(), ValidationError> {
    // Lower-casing can lengthen a name ("İ" becomes two characters): the stored form must fit too.
    if rules::name_is_valid(name) && rules::name_is_valid(&rules::normalize_category_name(name)) {
        Ok(())
    } else {
        Err(ValidationError::new("name")
            .with_message("Must have 1 to 100 characters and no control characters.".into()))
    }
}

/// The caller must be staff.
pub(crate) fn require_staff(user: &AuthUser) -> Result<(), ApiError> {
    if user.is_staff {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "not_staff",
            "Only staff may manage categories",
        ))
    }
}

fn taken(e: DomainError) -> ApiError {
    match e {
        DomainError::Conflict(_) => ApiError::conflict(
            "category_name_taken",
            "A category with this name already exists",
        ),
        other => other.into(),
    }
}

/// A new category; names are stored lower-case and unique.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateCategoryRequest {
    #[validate(custom(function = "category_name"))]
    #[schema(value_type = Name, example = "gaming")]
    pub name: String,
    #[validate(length(max = 500))]
    #[serde(default)]
    #[schema(value_type = Description)]
    pub description: String,
}

/// Creates a category (staff only).
#[utoipa::path(
    tag = "categories",
    request_body = CreateCategoryRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CategoryDto),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/categories/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create_category(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonObject<CreateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    require_staff(&user)?;
    let category = hearth_db::categories::create(&state.db, &body.name, body.description.trim())
        .await
        .map_err(taken)?;
    Ok(HttpResponse::Created().json(CategoryDto::from(category)))
}

/// Changes to a category; omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateCategoryRequest {
    #[validate(custom(function = "category_name"))]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[validate(length(max = 500))]
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
}

/// Renames a category or changes its description (staff only).
#[utoipa::path(
    tag = "categories",
    params(("category_id" = i64, Path, description = "The category's id")),
    request_body = UpdateCategoryRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = CategoryDto),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[patch("/api/categories/{category_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_category(
    state: web::Data<AppState>,
    user: AuthUser,
    category_id: web::Path<i64>,
    body: JsonObject<UpdateCategoryRequest>,
) -> Result<web::Json<CategoryDto>, ApiError> {
    body.validate()?;
    require_staff(&user)?;
    let description = body.description.as_deref().map(str::trim);
    hearth_db::categories::update(
        &state.db,
        CategoryId(*category_id),
        body.name.as_deref(),
        description,
    )
    .await
    .map_err(taken)?
    .map(|c| web::Json(CategoryDto::from(c)))
    .ok_or_else(|| ApiError::not_found("Category not found"))
}

/// Deletes a category that no server belongs to (staff only).
#[utoipa::path(
    tag = "categories",
    params(("category_id" = i64, Path, description = "The category's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 409, description = "Servers still belong to it", body = ErrorBody),
    )
)]
#[delete("/api/categories/{category_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_category(
    state: web::Data<AppState>,
    user: AuthUser,
    category_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&user)?;
    match hearth_db::categories::delete(&state.db, CategoryId(*category_id)).await? {
        CategoryDeletion::Deleted(icon) => {
            if let Some(icon) = icon {
                state.media.remove_if_unused(&state.db, &icon).await;
            }
            Ok(HttpResponse::NoContent().finish())
        }
        CategoryDeletion::NotFound => Err(ApiError::not_found("Category not found")),
        CategoryDeletion::NotEmpty => Err(ApiError::conflict(
            "category_not_empty",
            "Servers still belong to this category; move or delete them first",
        )),
    }
}
