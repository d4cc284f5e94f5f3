//! Channels: created, renamed and deleted by their server's owner.

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::Allowance;
use crate::routes::catalogue::ChannelDto;
use crate::routes::servers::require_owner;
use crate::routes::text::{Name, Topic};
use crate::startup::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use hearth_domain::model::Channel;
use hearth_domain::{rules, ChannelId, ChannelView, DomainError, Event, ServerId, UserId, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

fn channel_name(name: &str) -> Result<(), ValidationError> {
    match rules::normalize_channel_name(name) {
        Some(_) => Ok(()),
        None => Err(ValidationError::new("name")
            .with_message("Must have 1 to 100 characters and no control characters.".into())),
    }
}

fn taken(e: DomainError) -> ApiError {
    match e {
        DomainError::Conflict(_) => ApiError::conflict(
            "channel_name_taken",
            "A channel with this name already exists in this server",
        ),
        other => other.into(),
    }
}

/// A new channel; names are stored lower-case and unique within a server.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateChannelRequest {
    #[validate(custom(function = "channel_name"))]
    #[schema(value_type = Name, example = "off-topic")]
    pub name: String,
    #[validate(length(max = 1024))]
    #[serde(default)]
    #[schema(value_type = Topic)]
    pub topic: String,
}

/// Adds a channel to a server (owner only).
#[utoipa::path(
    tag = "channels",
    params(("server_id" = i64, Path, description = "The server's id")),
    request_body = CreateChannelRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ChannelDto),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the server's owner", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        (status = 409, description = "Name taken in this server", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[post("/api/servers/{server_id}/channels/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create_channel(
    state: web::Data<AppState>,
    user: AuthUser,
    server_id: web::Path<i64>,
    body: JsonObject<CreateChannelRequest>,
) -> Result<HttpResponse, ApiError> {
    let server = ServerId(*server_id);
    body.validate()?;
    require_owner(&state, server, user.id).await?;
    let name = rules::normalize_channel_name(&body.name).unwrap_or_default();
    let channel = hearth_db::channels::create(&state.db, server, user.id, &name, body.topic.trim())
        .await
        .map_err(taken)?;
    state.hub.publish(Event::ChannelCreated {
        channel: ChannelView::from(&channel),
    });
    Ok(HttpResponse::Created().json(ChannelDto::from(channel)))
}

/// Changes to a channel; omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateChannelRequest {
    #[validate(custom(function = "channel_name"))]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[validate(length(max = 1024))]
    #[schema(value_type = Option<Topic>)]
    pub topic: Option<String>,
}

/// The channel, after checking the caller owns its server.
async fn owned_channel(
    state: &AppState,
    id: ChannelId,
    user: AuthUser,
) -> Result<Channel, ApiError> {
    let channel = hearth_db::channels::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Channel not found"))?;
    require_owner(state, channel.server_id, user.id).await?;
    Ok(channel)
}

/// Renames a channel or changes its topic (server owner only).
#[utoipa::path(
    tag = "channels",
    params(("channel_id" = i64, Path, description = "The channel's id")),
    request_body = UpdateChannelRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = ChannelDto),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the server's owner", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 409, description = "Name taken in this server", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[patch("/api/channels/{channel_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_channel(
    state: web::Data<AppState>,
    user: AuthUser,
    channel_id: web::Path<i64>,
    body: JsonObject<UpdateChannelRequest>,
) -> Result<web::Json<ChannelDto>, ApiError> {
    body.validate()?;
    let channel = owned_channel(&state, ChannelId(*channel_id), user).await?;
    let name = body.name.as_deref().and_then(rules::normalize_channel_name);
    let topic = body.topic.as_deref().map(str::trim);
    let updated = hearth_db::channels::update(&state.db, channel.id, name.as_deref(), topic)
        .await
        .map_err(taken)?
        .ok_or_else(|| ApiError::not_found("Channel not found"))?;
    state.hub.publish(Event::ChannelUpdated {
        channel: ChannelView::from(&updated),
    });
    Ok(web::Json(ChannelDto::from(updated)))
}

/// Deletes a channel and its messages (server owner only); its sockets are told
/// (`channel.deleted`) and closed with 4004.
#[utoipa::path(
    tag = "channels",
    params(("channel_id" = i64, Path, description = "The channel's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the server's owner", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
#[delete("/api/channels/{channel_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_channel(
    state: web::Data<AppState>,
    user: AuthUser,
    channel_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let channel = owned_channel(&state, ChannelId(*channel_id), user).await?;
    hearth_db::channels::delete(&state.db, channel.id)
        .await?
        .ok_or_else(|| ApiError::not_found("Channel not found"))?;
    state.hub.publish(Event::ChannelDeleted {
        channel_id: channel.id,
        server_id: channel.server_id,
    });
    Ok(HttpResponse::NoContent().finish())
}

/// Which page of a channel's online list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnlineQuery {
    /// Only users with an id above this one (the last id of the previous page).
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub after: Option<i64>,
    /// At most this many (1–100, default 100).
    #[validate(range(
        min = 1,
        max = 100,
        message = "Ensure this value is between 1 and 100."
    ))]
    #[param(minimum = 1, maximum = 100, default = 100)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub limit: Option<i64>,
}

/// Who is online in a channel, a page at a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnlinePage {
    /// How many users are online in the channel (on every instance).
    pub count: usize,
    /// Online users by id, above `after`; fewer than `limit` on the last page.
    pub users: Vec<UserRef>,
}

/// Who has a socket open in a channel or conversation, by user id: the whole list that a
/// large channel's `presence.list` gives only a first page of. Any authenticated user may ask
/// of a server's channel (as they may open its socket), only participants of a conversation.
#[utoipa::path(
    tag = "chat",
    params(("channel_id" = i64, Path, description = "The channel's or conversation's id"), OnlineQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of who is online", body = OnlinePage),
        (status = 400, description = "Malformed parameter, or `limit` out of 1–100", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such channel, or a conversation of others", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[get("/api/channels/{channel_id}/online/")]
#[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
pub async fn list_online(
    state: web::Data<AppState>,
    user: AuthUser,
    channel_id: web::Path<i64>,
    query: web::Query<OnlineQuery>,
) -> Result<HttpResponse, ApiError> {
    query.validate()?;
    let allowance = state.limits.online_lists.check(&user.id)?;
    let channel = ChannelId(channel_id.into_inner());
    let readable = hearth_db::channels::find(&state.db, channel)
        .await?
        .is_some()
        || hearth_db::conversations::is_participant(&state.db, channel, user.id).await?;
    if !readable {
        return Err(ApiError::not_found("Channel not found"));
    }
    let limit = usize::try_from(query.limit.unwrap_or(100)).unwrap_or(100);
    let (count, users) = state
        .hub
        .online_page(channel, query.after.map(UserId), limit);
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(OnlinePage { count, users }))
}
