//! The catalogue: categories and servers, as the reference's `/api/server/...` endpoints.

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::limits::Allowance;
use crate::startup::AppState;
use actix_web::dev::Payload;
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use hearth_domain::model::{Category, Channel, Server, ServerFilter};
use hearth_domain::ServerId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// A category servers are browsed by.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    pub id: i64,
    /// Lower-case name.
    #[schema(example = "gaming")]
    pub name: String,
    pub description: String,
    /// A `/media/...` path, or null.
    pub icon: Option<String>,
}

impl From<Category> for CategoryDto {
    fn from(category: Category) -> Self {
        Self {
            id: category.id.0,
            name: category.name,
            description: category.description,
            icon: category.icon,
        }
    }
}

/// Lists every category.
#[utoipa::path(
    tag = "catalogue",
    responses((status = 200, description = "All categories", body = Vec<CategoryDto>))
)]
#[get("/api/server/category/")]
#[tracing::instrument(skip_all)]
pub async fn list_categories(
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<CategoryDto>>, ApiError> {
    let categories = hearth_db::categories::list(&state.db).await?;
    Ok(web::Json(categories.into_iter().map(Into::into).collect()))
}

/// A channel of a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    pub id: i64,
    pub name: String,
    pub topic: String,
    /// The id of the user who created it.
    pub owner: i64,
    /// The id of its server.
    pub server: i64,
    /// What is new in it for the caller; only with `by_user=true&with_unread=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub unread: Option<UnreadCounts>,
}

/// What is new for the caller in a channel, or in all the channels of a server (the sums):
/// as `GET /api/me/unread/` counts them (unread messages up to 100 per channel).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct UnreadCounts {
    pub unread_count: i64,
    pub mention_count: i64,
}

impl From<Channel> for ChannelDto {
    fn from(channel: Channel) -> Self {
        Self {
            id: channel.id.0,
            name: channel.name,
            topic: channel.topic,
            owner: channel.owner_id.0,
            server: channel.server_id.0,
            unread: None,
        }
    }
}

/// A server as the catalogue shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerDto {
    pub id: i64,
    pub name: String,
    /// The owner's user id.
    pub owner: i64,
    /// The category's name.
    pub category: String,
    pub description: String,
    /// A `/media/...` path, or null.
    pub icon: Option<String>,
    /// A `/media/...` path, or null.
    pub banner: Option<String>,
    /// The server's channels, by id.
    pub channel_server: Vec<ChannelDto>,
    /// Only present with `with_num_members=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_members: Option<i64>,
    /// What is new for the caller in all its channels; only with
    /// `by_user=true&with_unread=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub unread: Option<UnreadCounts>,
}

impl From<Server> for ServerDto {
    fn from(server: Server) -> Self {
        Self {
            id: server.id.0,
            name: server.name,
            owner: server.owner_id.0,
            category: server.category,
            description: server.description,
            icon: server.icon,
            banner: server.banner,
            channel_server: server.channels.into_iter().map(Into::into).collect(),
            num_members: server.num_members,
            unread: None,
        }
    }
}

/// Filters of the server list; every given filter applies.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerListQuery {
    /// Only servers of this category (by name). Text with NUL characters is refused with 400.
    #[param(pattern = r"^[^\u0000]*$")]
    pub category: Option<String>,
    /// At most this many servers.
    #[param(minimum = 0, maximum = 4_294_967_295_u32)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub qty: Option<u32>,
    /// `true`: only servers the caller is a member of (requires authentication).
    pub by_user: Option<String>,
    /// Only the server with this id (400 when there is none).
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub by_serverid: Option<i64>,
    /// `true`: include `num_members` in each server.
    pub with_num_members: Option<String>,
    /// `true` (with `by_user=true` only): include the caller's `unread` counts in each server
    /// and each of its channels, as `GET /api/me/unread/` counts them (and rate-limited with
    /// it).
    pub with_unread: Option<String>,
}

/// Each server and channel of `servers` with the caller's counts from `unread`.
fn with_unread(servers: &mut [ServerDto], unread: &[hearth_db::read_states::Unread]) {
    let by_channel: HashMap<i64, UnreadCounts> = unread
        .iter()
        .map(|u| {
            let counts = UnreadCounts {
                unread_count: u.unread_count,
                mention_count: u.mention_count,
            };
            (u.channel_id.0, counts)
        })
        .collect();
    for server in servers {
        let mut total = UnreadCounts::default();
        for channel in &mut server.channel_server {
            let counts = by_channel.get(&channel.id).copied().unwrap_or_default();
            total.unread_count += counts.unread_count;
            total.mention_count += counts.mention_count;
            channel.unread = Some(counts);
        }
        server.unread = Some(total);
    }
}

/// Lists servers, optionally filtered.
#[utoipa::path(
    tag = "catalogue",
    params(ServerListQuery),
    security((), ("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Matching servers", body = Vec<ServerDto>),
        (status = 400, description = "Malformed parameter, no server with `by_serverid`, or `with_unread` without `by_user=true`", body = ErrorBody),
        (status = 401, description = "`by_user=true` without authentication", body = ErrorBody),
        (status = 429, description = "Too many unread counts asked for (`with_unread`)", body = ErrorBody),
    )
)]
#[get("/api/server/select/")]
#[tracing::instrument(skip_all)]
pub async fn list_servers(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ServerListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let unread_wanted = query.with_unread.as_deref() == Some("true");
    if unread_wanted && query.by_user.as_deref() != Some("true") {
        return Err(ApiError::bad_request(
            "unread_needs_by_user",
            "with_unread=true needs by_user=true: counts are the caller's own.",
        ));
    }
    // Only `by_user` needs to know who asks: the public catalogue reads nothing about the
    // caller, so a token (valid or not) costs it nothing.
    let member = if query.by_user.as_deref() == Some("true") {
        let caller = AuthUser::from_request(&req, &mut Payload::None).await?;
        Some(caller.id)
    } else {
        None
    };
    let filter = ServerFilter {
        category: query.category,
        member,
        server: query.by_serverid.map(ServerId),
        after: None,
        limit: query.qty.map(i64::from),
        with_num_members: query.with_num_members.as_deref() == Some("true"),
    };
    let allowance = match (unread_wanted, member) {
        (true, Some(user)) => state.limits.unread_lists.check(&user)?,
        _ => None,
    };
    let servers = hearth_db::servers::list(&state.db, &filter).await?;
    if let (Some(id), true) = (query.by_serverid, servers.is_empty()) {
        // The reference answers 400 rather than an empty list for an unknown id. Whether no
        // server has this id at all, or other filters excluded it, it names nothing here.
        return Err(ApiError::bad_request(
            "server_not_found",
            format!("Server with id {id} not found"),
        ));
    }
    let mut servers: Vec<ServerDto> = servers.into_iter().map(Into::into).collect();
    if let (true, Some(user)) = (unread_wanted, member) {
        let unread = hearth_db::read_states::unread(&state.db, user).await?;
        with_unread(&mut servers, &unread);
    }
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(servers))
}

/// Which page of the catalogue to list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerPageQuery {
    /// Only servers of this category (by name). Text with NUL characters is refused with 400.
    #[param(pattern = r"^[^\u0000]*$")]
    pub category: Option<String>,
    /// Only servers with an id above this one: the last `id` of the previous page.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub after: Option<i64>,
    /// At most this many (1–100, default 50).
    #[validate(range(
        min = 1,
        max = 100,
        message = "Ensure this value is between 1 and 100."
    ))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub limit: Option<i64>,
    /// `true`: include `num_members` in each server.
    pub with_num_members: Option<String>,
}

/// The catalogue a page at a time, by id: pass the last `id` of a page as `after` for the next
/// one. Servers created meanwhile come after the ones already listed, so pages neither skip nor
/// repeat a server; a page shorter than `limit` is the last. (`/api/server/select/` is the
/// reference's unpaged listing, with `qty`.)
#[utoipa::path(
    tag = "catalogue",
    params(ServerPageQuery),
    responses(
        (status = 200, description = "A page of servers", body = Vec<ServerDto>),
        (status = 400, description = "Malformed parameter", body = ErrorBody),
    )
)]
#[get("/api/servers/")]
#[tracing::instrument(skip_all)]
pub async fn list_server_page(
    state: web::Data<AppState>,
    query: web::Query<ServerPageQuery>,
) -> Result<web::Json<Vec<ServerDto>>, ApiError> {
    let query = query.into_inner();
    query.validate()?;
    let filter = ServerFilter {
        category: query.category,
        after: query.after.map(ServerId),
        limit: Some(query.limit.unwrap_or(50)),
        with_num_members: query.with_num_members.as_deref() == Some("true"),
        ..ServerFilter::default()
    };
    let servers = hearth_db::servers::list(&state.db, &filter).await?;
    Ok(web::Json(servers.into_iter().map(Into::into).collect()))
}
