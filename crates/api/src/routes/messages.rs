//! Messages: the reference's history endpoint, and the native ones to post, page through, edit
//! and delete messages. Handlers only translate HTTP; the rules live in [`crate::chat`].

use crate::auth::AuthUser;
use crate::chat::{self, SendOutcome};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::Allowance;
use crate::routes::text::{MessageContent, Nonce};
use crate::startup::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use hearth_domain::model::Message;
use hearth_domain::rules::{COMPAT_HISTORY_LIMIT, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX};
use hearth_domain::{ChannelId, MessageId, Reaction, ReplyPreview, UserId, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// A message as the compatibility history shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompatMessageDto {
    pub id: i64,
    /// The sender's username.
    pub sender: String,
    pub content: String,
    /// RFC 3339, UTC.
    pub timestamp: DateTime<Utc>,
}

impl From<Message> for CompatMessageDto {
    fn from(message: Message) -> Self {
        Self {
            id: message.id.0,
            sender: message.sender,
            content: message.content,
            timestamp: message.created_at,
        }
    }
}

/// Which channel's history to read.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CompatHistoryQuery {
    /// The channel's id.
    #[serde(deserialize_with = "crate::routes::text::ids::query")]
    pub channel_id: i64,
}

/// The newest 50 messages of a channel, oldest first (the reference's history endpoint).
///
/// An unknown channel gives an empty list, as in the reference.
#[utoipa::path(
    tag = "messages",
    params(CompatHistoryQuery),
    responses(
        (status = 200, description = "Messages, oldest first", body = Vec<CompatMessageDto>),
        (status = 400, description = "Missing or malformed channel_id", body = ErrorBody),
    )
)]
#[get("/api/messages/")]
#[tracing::instrument(skip_all, fields(channel_id = query.channel_id))]
pub async fn list_channel_messages_compat(
    state: web::Data<AppState>,
    query: web::Query<CompatHistoryQuery>,
) -> Result<web::Json<Vec<CompatMessageDto>>, ApiError> {
    let messages =
        hearth_db::messages::latest(&state.db, ChannelId(query.channel_id), COMPAT_HISTORY_LIMIT)
            .await?;
    Ok(web::Json(messages.into_iter().map(Into::into).collect()))
}

/// A chat message, as the native endpoints and the gateway's `chat.message` events show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: i64,
    pub channel_id: i64,
    /// The sender's username.
    #[schema(example = "alice")]
    pub sender: String,
    pub sender_id: i64,
    #[schema(example = "Hello!")]
    pub content: String,
    /// When it was sent (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    /// Position in the channel: 1, 2, 3, ... in the order messages were stored.
    pub seq: i64,
    /// The sender's de-duplication key; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nonce: Option<String>,
    /// When the content was last edited; absent when never.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub edited_at: Option<DateTime<Utc>>,
    /// The users it mentions (`<@user_id>` in `content`) who can read the channel, in order;
    /// absent when none (as in live frames).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserRef>,
    /// The message this one answers; absent when it answers none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reply_to: Option<i64>,
    /// What it answers: author and first 100 characters, or `deleted`; absent with `reply_to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reply: Option<ReplyPreview>,
    /// When it was pinned in its channel; absent when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pinned_at: Option<DateTime<Utc>>,
    /// Reactions by emoji, in the order they first appeared; `me` when the caller is among
    /// them (on history pages; false elsewhere). Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
}

impl From<Message> for MessageDto {
    fn from(message: Message) -> Self {
        Self {
            id: message.id.0,
            channel_id: message.channel_id.0,
            sender: message.sender,
            sender_id: message.sender_id.0,
            content: message.content,
            timestamp: message.created_at,
            seq: message.seq,
            nonce: message.nonce,
            edited_at: message.edited_at,
            mentions: message.mentions,
            reply_to: message.reply.as_ref().map(|r| r.id.0),
            reply: message.reply,
            pinned_at: message.pinned_at,
            reactions: message.reactions,
        }
    }
}

/// A message to post.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateMessageRequest {
    /// 1–2000 characters once leading and trailing whitespace is trimmed.
    #[schema(value_type = MessageContent, example = "Hello!")]
    pub content: String,
    /// An optional de-duplication key chosen by the client (1–64 characters, say a UUID):
    /// posting again with the same nonce within 10 minutes returns the message stored the
    /// first time instead of storing another.
    #[validate(length(
        min = 1,
        max = 64,
        message = "Ensure this field has 1 to 64 characters."
    ))]
    #[schema(
        value_type = Option<Nonce>,
        example = "5f0c6c1e-8d5b-4a53-9a8e-3f1d2c9b7a10"
    )]
    pub nonce: Option<String>,
    /// The id of a message of the same channel this one answers (not a deleted one): `400
    /// invalid_reply` otherwise.
    #[serde(default, deserialize_with = "crate::routes::text::ids::opt")]
    #[schema(value_type = Option<i64>)]
    pub reply_to: Option<i64>,
}

/// Posts a message to a channel as the caller, who must be a member of its server.
///
/// Published to the channel's live sockets as `chat.message`. Retrying with the same `nonce`
/// within 10 minutes answers 200 with the message stored the first time.
#[utoipa::path(
    tag = "messages",
    params(("channel_id" = i64, Path, description = "The channel's id")),
    request_body = CreateMessageRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored and published", body = MessageDto, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 200, description = "Nonce replay: the message stored the first time", body = MessageDto, headers(
            ("X-RateLimit-Limit" = u32, description = "Requests the limit allows at once"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left now"),
            ("X-RateLimit-Reset" = u64, description = "When the limit is whole again, in Unix seconds"),
        )),
        (status = 400, description = "Empty or too long content, or an invalid nonce", body = ErrorBody,
            example = json!({"error": "A message must have 1 to 2000 characters (leading and trailing spaces do not count)", "code": "invalid_message"})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a member of the channel's server", body = ErrorBody,
            example = json!({"error": "You must be a member of this server to post in it", "code": "not_member"})),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 409, description = "The nonce already names a message in another channel", body = ErrorBody,
            example = json!({"error": "This nonce was already used for a message in another channel", "code": "nonce_in_use"})),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/channels/{channel_id}/messages/")]
#[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user.id))]
pub async fn create_message(
    state: web::Data<AppState>,
    user: AuthUser,
    channel_id: web::Path<i64>,
    body: JsonObject<CreateMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    request.validate()?;
    // The same per-user bucket as the sockets': the limit holds whatever the transport.
    let allowance = state.messages.check(user.id)?;
    let to = chat::destination(&state, ChannelId(channel_id.into_inner())).await?;
    Ok(post_message(&state, user, to, &request, allowance).await?)
}

/// Posts a checked `request` as `user` to `to` (a channel's or a conversation's), once the
/// user's message bucket allowed it: 201 with the message, or 200 for a nonce replay.
pub(crate) async fn post_message(
    state: &AppState,
    user: AuthUser,
    to: chat::Destination,
    request: &CreateMessageRequest,
    allowance: Allowance,
) -> Result<HttpResponse, chat::ChatError> {
    let sender = UserRef {
        id: user.id,
        username: user.username,
    };
    let post = chat::Post {
        content: &request.content,
        nonce: request.nonce.as_deref(),
        reply_to: request.reply_to.map(MessageId),
    };
    let (message, outcome) = chat::send_message_with_outcome(state, &sender, to, post).await?;
    let mut response = match outcome {
        SendOutcome::Created => HttpResponse::Created(),
        SendOutcome::Replayed => HttpResponse::Ok(),
    };
    Allowance::apply(Some(allowance), &mut response);
    Ok(response.json(MessageDto::from(message)))
}

/// A validated page of history of `channel` as `reader` may see it.
pub(crate) async fn history_page(
    state: &AppState,
    channel: ChannelId,
    reader: hearth_db::messages::Reader,
    viewer: UserId,
    query: HistoryQuery,
) -> Result<Vec<Message>, ApiError> {
    query.validate()?;
    Ok(hearth_db::messages::page(
        &state.db,
        channel,
        reader,
        Some(viewer),
        query.before.map(MessageId),
        query.after.map(MessageId),
        query.limit.unwrap_or(HISTORY_PAGE_DEFAULT),
    )
    .await?)
}

/// Which page of a channel's history to read.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The newest messages older than this message id (scrolling back).
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub before: Option<i64>,
    /// The oldest messages newer than this message id (catching up). With `before` as well: the
    /// oldest messages strictly between the two.
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub after: Option<i64>,
    /// How many messages, 1–100.
    #[validate(range(
        min = 1,
        max = HISTORY_PAGE_MAX,
        message = "Ensure this value is between 1 and 100."
    ))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    #[serde(default, deserialize_with = "crate::routes::text::ids::query_opt")]
    pub limit: Option<i64>,
}

/// A page of a channel's history, oldest first, deleted messages left out.
///
/// Without `before` or `after`, the newest messages. Any authenticated user may read.
#[utoipa::path(
    tag = "messages",
    params(("channel_id" = i64, Path, description = "The channel's id"), HistoryQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Messages, oldest first", body = Vec<MessageDto>),
        (status = 400, description = "Malformed parameter, or `limit` out of 1–100", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    )
)]
#[get("/api/channels/{channel_id}/messages/")]
#[tracing::instrument(skip_all, fields(channel_id = %channel_id))]
pub async fn list_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    channel_id: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<Vec<MessageDto>>, ApiError> {
    let channel = ChannelId(channel_id.into_inner());
    let reader = hearth_db::messages::Reader::Anyone;
    let messages = history_page(&state, channel, reader, user.id, query.into_inner()).await?;
    // Only an empty page needs telling apart from a channel that does not exist.
    if messages.is_empty()
        && hearth_db::channels::find(&state.db, channel)
            .await?
            .is_none()
    {
        return Err(ApiError::not_found("Channel not found"));
    }
    Ok(web::Json(messages.into_iter().map(Into::into).collect()))
}

/// New content for a message.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessageRequest {
    /// 1–2000 characters once leading and trailing whitespace is trimmed.
    #[schema(value_type = MessageContent, example = "Hello, edited")]
    pub content: String,
}

/// Edits a message; only its author may. Published as `message.updated`.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = i64, Path, description = "The message's id")),
    request_body = EditMessageRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = MessageDto),
        (status = 400, description = "Empty or too long content", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, description = "No such message, or deleted", body = ErrorBody),
        JsonBodyErrors,
    )
)]
#[patch("/api/messages/{message_id}/")]
#[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user.id))]
pub async fn edit_message(
    state: web::Data<AppState>,
    user: AuthUser,
    message_id: web::Path<i64>,
    body: JsonObject<EditMessageRequest>,
) -> Result<web::Json<MessageDto>, ApiError> {
    let message = chat::edit_message(
        &state,
        user.id,
        MessageId(message_id.into_inner()),
        &body.content,
    )
    .await?;
    Ok(web::Json(message.into()))
}

/// Deletes a message; its author or the owner of the server may. Published as
/// `message.deleted`; it disappears from every history.
#[utoipa::path(
    tag = "messages",
    params(("message_id" = i64, Path, description = "The message's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Neither the author nor the server's owner", body = ErrorBody),
        (status = 404, description = "No such message, or already deleted", body = ErrorBody),
    )
)]
#[delete("/api/messages/{message_id}/")]
#[tracing::instrument(skip_all, fields(message_id = %message_id, user_id = %user.id))]
pub async fn delete_message(
    state: web::Data<AppState>,
    user: AuthUser,
    message_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    chat::delete_message(&state, user.id, MessageId(message_id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
