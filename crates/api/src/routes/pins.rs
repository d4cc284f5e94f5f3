//! Pins: a channel's or conversation's messages kept at hand, at most 50 per channel. In a
//! server's channel its author and the server's owner pin and unpin a message; in a
//! conversation every participant does.

use crate::auth::AuthUser;
use crate::chat;
use crate::error::{ApiError, ErrorBody, RateLimitedErrors};
use crate::limits::Allowance;
use crate::routes::messages::MessageDto;
use crate::startup::AppState;
use actix_web::{delete, get, put, web, HttpResponse};
use hearth_domain::{ChannelId, MessageId};

fn answer(allowance: Option<Allowance>, message: hearth_domain::model::Message) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    response.json(MessageDto::from(message))
}

/// Pins a message in its channel (idempotent: pinning a pinned message changes nothing). Its
/// channel's sockets hear `message.pinned`.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = i64, Path, description = "The message's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Pinned (`pinned_at` set)", body = MessageDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Neither the author nor the server's owner", body = ErrorBody),
        (status = 404, description = "No such message, deleted, or a conversation of others", body = ErrorBody),
        (status = 409, description = "50 pins in the channel already (`too_many_pins`)", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[put("/api/messages/{message_id}/pin/")]
#[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user.id))]
pub async fn pin_message(
    state: web::Data<AppState>,
    user: AuthUser,
    message_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.pins.check(&user.id)?;
    let message = chat::pin_message(&state, user.id, MessageId(message_id.into_inner())).await?;
    Ok(answer(allowance, message))
}

/// Unpins a message (idempotent). Its channel's sockets hear `message.unpinned`.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = i64, Path, description = "The message's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Not pinned (any more)", body = MessageDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Neither the author nor the server's owner", body = ErrorBody),
        (status = 404, description = "No such message, deleted, or a conversation of others", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[delete("/api/messages/{message_id}/pin/")]
#[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user.id))]
pub async fn unpin_message(
    state: web::Data<AppState>,
    user: AuthUser,
    message_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.pins.check(&user.id)?;
    let message = chat::unpin_message(&state, user.id, MessageId(message_id.into_inner())).await?;
    Ok(answer(allowance, message))
}

/// A server channel's pinned messages, the latest pinned first (at most 50). Any
/// authenticated user may read, as its history.
#[utoipa::path(
    tag = "messages",
    params(("channel_id" = i64, Path, description = "The channel's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Pinned messages", body = Vec<MessageDto>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
#[get("/api/channels/{channel_id}/pins/")]
#[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
pub async fn list_channel_pins(
    state: web::Data<AppState>,
    _user: AuthUser,
    channel_id: web::Path<i64>,
) -> Result<web::Json<Vec<MessageDto>>, ApiError> {
    let channel = ChannelId(channel_id.into_inner());
    if hearth_db::channels::find(&state.db, channel)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("Channel not found"));
    }
    let pins = hearth_db::messages::pins(&state.db, channel).await?;
    Ok(web::Json(pins.into_iter().map(Into::into).collect()))
}

/// A conversation's pinned messages, the latest pinned first (participants only).
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The conversation's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Pinned messages", body = Vec<MessageDto>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such conversation, or one of others", body = ErrorBody),
    )
)]
#[get("/api/dms/{conversation_id}/pins/")]
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
pub async fn list_conversation_pins(
    state: web::Data<AppState>,
    user: AuthUser,
    conversation_id: web::Path<i64>,
) -> Result<web::Json<Vec<MessageDto>>, ApiError> {
    let channel = ChannelId(conversation_id.into_inner());
    if !hearth_db::conversations::is_participant(&state.db, channel, user.id).await? {
        return Err(ApiError::not_found("Conversation not found"));
    }
    let pins = hearth_db::messages::pins(&state.db, channel).await?;
    Ok(web::Json(pins.into_iter().map(Into::into).collect()))
}
