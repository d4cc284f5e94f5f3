//! Message search over everything the caller may read: the channels of the servers they
//! belong to and their conversations, never anything else.

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody, RateLimitedErrors};
use crate::limits::Allowance;
use crate::routes::messages::MessageDto;
use crate::startup::AppState;
use actix_web::{get, web, HttpResponse};
use hearth_domain::search::{self, QueryError};
use hearth_domain::{ChannelId, MessageId, ServerId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// What to look for.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words (or `"quoted phrases"`) that a message must all hold, letter case ignored,
    /// anywhere in its text (inside words too): 1–8 terms, at most 200 characters.
    #[param(min_length = 1, max_length = 200, example = "deploy friday")]
    pub q: String,
    /// Only in this server's channels.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub server_id: Option<i64>,
    /// Only in this channel or conversation.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub channel_id: Option<i64>,
    /// Only messages of this author.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub author_id: Option<i64>,
    /// Only messages older than this message id: the next page is `before` = the page's
    /// `next_before`.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub before: Option<i64>,
    /// Only messages newer than this message id.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub after: Option<i64>,
    /// How many hits, 1–50.
    #[validate(range(
        min = 1,
        max = search::PAGE_MAX,
        message = "Ensure this value is between 1 and 50."
    ))]
    #[param(minimum = 1, maximum = 50, default = 25)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub limit: Option<i64>,
}

/// A piece of an excerpt: text, and whether it matched the query (to highlight).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExcerptPartDto {
    pub text: String,
    pub hit: bool,
}

/// Where a hit was said.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitChannelDto {
    pub id: i64,
    /// The channel's name (a conversation's own name).
    pub name: String,
    /// The channel's server; null for a conversation.
    pub server_id: Option<i64>,
}

/// A message found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitDto {
    pub message: MessageDto,
    pub channel: HitChannelDto,
    /// About 160 characters of the message around its first hit (`…` where cut), in pieces
    /// that did and did not match: the pieces together are plain text, never markup.
    pub excerpt: Vec<ExcerptPartDto>,
}

/// A page of hits, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub results: Vec<SearchHitDto>,
    /// Pass as `before` for the next (older) page; null when this page is the last.
    pub next_before: Option<i64>,
}

fn refused(error: QueryError) -> ApiError {
    ApiError::bad_request("invalid_query", error.to_string())
}

/// Searches the messages the caller may read: the channels of servers they belong to and
/// their conversations. Newest first, keyset-paged by message id; a deleted message is never
/// found and an edited one is found by its new text. Each hit carries its channel and an
/// excerpt with the matching text marked.
#[utoipa::path(
    tag = "messages",
    params(SearchQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Hits, newest first", body = SearchPage),
        (status = 400, description = "No words, too long, more than 8 terms or a control character (`invalid_query`), or a bad limit or id", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[get("/api/search/messages/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn search_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    query.validate()?;
    let terms = search::terms(&query.q).map_err(refused)?;
    let allowance = state.limits.searches.check(&user.id)?;
    let limit = query.limit.unwrap_or(search::PAGE_DEFAULT);
    let wanted = hearth_db::messages::Search {
        reader: user.id,
        patterns: terms.iter().map(|t| search::like_pattern(t)).collect(),
        server: query.server_id.map(ServerId),
        channel: query.channel_id.map(ChannelId),
        author: query.author_id.map(UserId),
        before: query.before.map(MessageId),
        after: query.after.map(MessageId),
        limit,
    };
    let hits = hearth_db::messages::search(&state.db, &wanted).await?;
    let next_before = match hits.last() {
        Some(last) if hits.len() as i64 == limit => Some(last.message.id.0),
        _ => None,
    };
    let results = hits
        .into_iter()
        .map(|hit| SearchHitDto {
            excerpt: search::excerpt(&hit.message.content, &terms)
                .into_iter()
                .map(|p| ExcerptPartDto {
                    text: p.text,
                    hit: p.hit,
                })
                .collect(),
            channel: HitChannelDto {
                id: hit.message.channel_id.0,
                name: hit.channel_name,
                server_id: hit.server_id.map(|s| s.0),
            },
            message: hit.message.into(),
        })
        .collect();
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(SearchPage {
        results,
        next_before,
    }))
}
