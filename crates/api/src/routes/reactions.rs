//! Reactions: `PUT` and `DELETE /api/messages/{id}/reactions/{emoji}/me`, idempotent. An emoji
//! is exactly one emoji of Unicode's list (any skin tone); a message has at most 20 distinct.

use crate::auth::AuthUser;
use crate::chat;
use crate::error::{ApiError, ErrorBody, RateLimitedErrors};
use crate::limits::Allowance;
use crate::startup::AppState;
use actix_web::{delete, put, web, HttpResponse};
use hearth_domain::{rules, MessageId};
use serde::Serialize;
use utoipa::ToSchema;

/// The caller's reaction after a change, and how many reacted so.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReactionDto {
    pub message_id: i64,
    pub emoji: String,
    /// How many users reacted with this emoji now.
    pub count: i64,
    /// Whether the caller is among them.
    pub me: bool,
}

async fn react(
    state: &AppState,
    user: &AuthUser,
    path: (i64, String),
    on: bool,
) -> Result<HttpResponse, ApiError> {
    let (id, emoji) = path;
    let emoji = rules::reaction_emoji(&emoji).ok_or_else(|| {
        ApiError::bad_request("invalid_emoji", "A reaction is exactly one Unicode emoji")
    })?;
    let allowance = state.limits.reactions.check(&user.id)?;
    let count = chat::react(state, user.id, MessageId(id), emoji, on).await?;
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(ReactionDto {
        message_id: id,
        emoji: emoji.to_owned(),
        count,
        me: on,
    }))
}

/// Reacts to a message with an emoji (members of its server, participants of its
/// conversation); again is no change. Its channel's sockets hear `reaction.added`.
#[utoipa::path(
    tag = "messages",
    params(
        ("message_id" = i64, Path, description = "The message's id"),
        ("emoji" = String, Path, description = "One emoji, percent-encoded", example = "👍"),
    ),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Reacted", body = ReactionDto),
        (status = 400, description = "Not exactly one emoji (`invalid_emoji`)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a member of the message's server (`not_member`)", body = ErrorBody),
        (status = 404, description = "No such message, deleted, or a conversation of others", body = ErrorBody),
        (status = 409, description = "20 different emoji on the message already (`too_many_reactions`)", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[put("/api/messages/{message_id}/reactions/{emoji}/me/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn add_reaction(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    react(&state, &user, path.into_inner(), true).await
}

/// Takes back the caller's reaction (no reaction is no change). Its channel's sockets hear
/// `reaction.removed`.
#[utoipa::path(
    tag = "messages",
    params(
        ("message_id" = i64, Path, description = "The message's id"),
        ("emoji" = String, Path, description = "One emoji, percent-encoded", example = "👍"),
    ),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Not reacted (any more)", body = ReactionDto),
        (status = 400, description = "Not exactly one emoji (`invalid_emoji`)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a member of the message's server (`not_member`)", body = ErrorBody),
        (status = 404, description = "No such message, deleted, or a conversation of others", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[delete("/api/messages/{message_id}/reactions/{emoji}/me/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn remove_reaction(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    react(&state, &user, path.into_inner(), false).await
}
