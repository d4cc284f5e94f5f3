//! The native server API: create, read, change, delete; members and their removal.

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody, JsonBodyErrors};
use crate::json::JsonObject;
use crate::routes::catalogue::ServerDto;
use crate::routes::membership::{remove_from_server, Remover};
use crate::routes::text::{Description, Name};
use crate::startup::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use hearth_domain::model::{Server, ServerChanges};
use hearth_domain::{rules, CategoryId, Event, ServerId, ServerView, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

fn display_name(name: &str) -> Result<(), ValidationError> {
    if rules::name_is_valid(name) {
        Ok(())
    } else {
        Err(ValidationError::new("name")
            .with_message("Must have 1 to 100 characters and no control characters.".into()))
    }
}

/// A category given by id or by name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CategoryRef {
    Id(i64),
    Name(String),
}

impl CategoryRef {
    async fn resolve(&self, state: &AppState) -> Result<CategoryId, ApiError> {
        let found = match self {
            CategoryRef::Id(id) => hearth_db::categories::find(&state.db, CategoryId(*id)).await?,
            CategoryRef::Name(name) => hearth_db::categories::find_by_name(&state.db, name).await?,
        };
        found.map(|c| c.id).ok_or_else(|| {
            ApiError::Validation(
                [("category".to_owned(), vec!["No such category.".to_owned()])].into(),
            )
        })
    }
}

/// A new server.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateServerRequest {
    #[validate(custom(function = "display_name"))]
    #[schema(value_type = Name, example = "Rustaceans")]
    pub name: String,
    #[validate(length(max = 500))]
    #[serde(default)]
    #[schema(value_type = Description)]
    pub description: String,
    /// The category's id or name.
    #[schema(example = "programming")]
    pub category: CategoryRef,
}

/// The server after a change, as the catalogue shows it.
async fn server_dto(state: &AppState, id: ServerId) -> Result<(Server, ServerDto), ApiError> {
    let server = hearth_db::servers::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Server not found"))?;
    let dto = ServerDto::from(server.clone());
    Ok((server, dto))
}

/// The caller must own the server.
pub(crate) async fn require_owner(
    state: &AppState,
    server: ServerId,
    user: UserId,
) -> Result<(), ApiError> {
    match hearth_db::servers::owner_of(&state.db, server).await? {
        None => Err(ApiError::not_found("Server not found")),
        Some(owner) if owner == user => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "not_owner",
            "Only the server's owner may do this",
        )),
    }
}

/// Creates a server owned by the caller, with a `general` channel; the caller is its first member.
#[utoipa::path(
    tag = "servers",
    request_body = CreateServerRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ServerDto),
        (status = 400, description = "Invalid input or unknown category", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/servers/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create_server(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonObject<CreateServerRequest>,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let category = body.category.resolve(&state).await?;
    let id = hearth_db::servers::create(
        &state.db,
        user.id,
        category,
        body.name.trim(),
        body.description.trim(),
        Some(rules::FIRST_CHANNEL),
    )
    .await?;
    // The owner is its first member: their other clients hear of it (and of its channel).
    state.hub.publish(Event::MemberJoined {
        server_id: id,
        user_id: user.id,
    });
    let (_, dto) = server_dto(&state, id).await?;
    tracing::info!(server_id = %id, "server created");
    Ok(HttpResponse::Created().json(dto))
}

/// A server with its channels and member count.
#[utoipa::path(
    tag = "servers",
    params(("server_id" = i64, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server", body = ServerDto),
        (status = 404, description = "No such server", body = ErrorBody),
    )
)]
#[get("/api/servers/{server_id}/")]
#[tracing::instrument(skip_all)]
pub async fn get_server(
    state: web::Data<AppState>,
    server_id: web::Path<i64>,
) -> Result<web::Json<ServerDto>, ApiError> {
    Ok(web::Json(server_dto(&state, ServerId(*server_id)).await?.1))
}

/// Changes to a server; omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateServerRequest {
    #[validate(custom(function = "display_name"))]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[validate(length(max = 500))]
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
    /// The category's id or name.
    pub category: Option<CategoryRef>,
}

/// Changes a server's name, description or category (owner only).
#[utoipa::path(
    tag = "servers",
    params(("server_id" = i64, Path, description = "The server's id")),
    request_body = UpdateServerRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = ServerDto),
        (status = 400, description = "Invalid input or unknown category", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[patch("/api/servers/{server_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_server(
    state: web::Data<AppState>,
    user: AuthUser,
    server_id: web::Path<i64>,
    body: JsonObject<UpdateServerRequest>,
) -> Result<web::Json<ServerDto>, ApiError> {
    let server = ServerId(*server_id);
    body.validate()?;
    require_owner(&state, server, user.id).await?;
    let category = match &body.category {
        Some(category) => Some(category.resolve(&state).await?),
        None => None,
    };
    let changes = ServerChanges {
        name: body.name.as_deref().map(|n| n.trim().to_owned()),
        description: body.description.as_deref().map(|d| d.trim().to_owned()),
        category,
    };
    if !hearth_db::servers::update(&state.db, server, &changes).await? {
        return Err(ApiError::not_found("Server not found"));
    }
    let (updated, dto) = server_dto(&state, server).await?;
    state.hub.publish(Event::ServerUpdated {
        server: ServerView::from(&updated),
    });
    Ok(web::Json(dto))
}

/// Deletes a server with its channels, members and messages (owner only); its sockets are
/// told (`server.deleted`) and closed with 4004.
#[utoipa::path(
    tag = "servers",
    params(("server_id" = i64, Path, description = "The server's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    )
)]
#[delete("/api/servers/{server_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_server(
    state: web::Data<AppState>,
    user: AuthUser,
    server_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let server = ServerId(*server_id);
    require_owner(&state, server, user.id).await?;
    let (icon, banner) = hearth_db::servers::delete(&state.db, server)
        .await?
        .ok_or_else(|| ApiError::not_found("Server not found"))?;
    state
        .hub
        .publish(Event::ServerDeleted { server_id: server });
    for image in [icon, banner].into_iter().flatten() {
        state.media.remove_if_unused(&state.db, &image).await;
    }
    tracing::info!(server_id = %server, "server deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Which members to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MembersQuery {
    /// Only members with a user id above this one (the last `user_id` of the previous page).
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub after: Option<i64>,
    /// At most this many (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub limit: Option<i64>,
}

/// A member of a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub user_id: i64,
    pub username: String,
    pub joined_at: DateTime<Utc>,
}

/// Members of a server by user id, a page at a time.
#[utoipa::path(
    tag = "servers",
    params(("server_id" = i64, Path, description = "The server's id"), MembersQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of members", body = Vec<MemberDto>),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    )
)]
#[get("/api/servers/{server_id}/members/")]
#[tracing::instrument(skip_all)]
pub async fn list_members(
    state: web::Data<AppState>,
    _caller: AuthUser,
    server_id: web::Path<i64>,
    query: web::Query<MembersQuery>,
) -> Result<web::Json<Vec<MemberDto>>, ApiError> {
    let server = ServerId(*server_id);
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::Validation(
            [(
                "limit".to_owned(),
                vec!["Must be between 1 and 100.".to_owned()],
            )]
            .into(),
        ));
    }
    if !hearth_db::servers::exists(&state.db, server).await? {
        return Err(ApiError::not_found("Server not found"));
    }
    let members =
        hearth_db::members::list(&state.db, server, query.after.map(UserId), limit).await?;
    Ok(web::Json(
        members
            .into_iter()
            .map(|m| MemberDto {
                user_id: m.user_id.0,
                username: m.username,
                joined_at: m.joined_at,
            })
            .collect(),
    ))
}

/// Removes a member from a server (owner only; the owner cannot be removed). The removed user
/// can no longer post, also on sockets already open.
#[utoipa::path(
    tag = "servers",
    params(
        ("server_id" = i64, Path, description = "The server's id"),
        ("user_id" = i64, Path, description = "The member's user id"),
    ),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such server, or not a member", body = ErrorBody),
        (status = 409, description = "The owner cannot be removed", body = ErrorBody),
    )
)]
#[delete("/api/servers/{server_id}/members/{user_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (server, member) = (ServerId(path.0), UserId(path.1));
    require_owner(&state, server, user.id).await?;
    remove_from_server(&state, server, member, Remover::Owner).await?;
    Ok(HttpResponse::NoContent().finish())
}
