//! Read states: how far a user has read each channel and conversation, and what is new for
//! them. An ack only moves forward; the user's other clients hear of it (`read.updated` on
//! their personal sockets, from the user's event log, so a client that reconnects does too).

use crate::auth::{AuthUser, TokenUser};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::Allowance;
use crate::startup::AppState;
use actix_web::{get, post, web, HttpResponse};
use hearth_db::read_states::{AckOutcome, Kind};
use hearth_domain::{ChannelId, Event};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// How far the caller has read.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AckRequest {
    /// The `seq` of the last message read (past the last message: up to that one).
    #[validate(range(min = 0, message = "Ensure this value is greater than or equal to 0."))]
    #[schema(minimum = 0, example = 42)]
    #[serde(deserialize_with = "crate::routes::text::ids::one")]
    pub seq: i64,
}

/// Where the caller's read state stands after an ack.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadStateDto {
    pub channel_id: i64,
    /// How far the caller has read: the ack's `seq`, or further if they had read further.
    pub read_seq: i64,
    /// Whether this ack moved it.
    pub moved: bool,
}

async fn ack(
    state: &AppState,
    user: &TokenUser,
    kind: Kind,
    channel: ChannelId,
    body: &AckRequest,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let allowance = state.limits.acks.check(&user.id)?;
    let outcome = hearth_db::read_states::ack(&state.db, user.id, kind, channel, body.seq).await?;
    let (read_seq, moved) = match outcome {
        AckOutcome::Moved(seq) => {
            let event = Event::ReadUpdated {
                to: user.id,
                channel_id: channel,
                seq,
            };
            crate::chat::log_and_publish(state, user.id, event).await;
            (seq, true)
        }
        AckOutcome::Unchanged(seq) => (seq, false),
        AckOutcome::NotMember => {
            return Err(ApiError::forbidden(
                "not_member",
                "You must be a member of this server to keep read states in it",
            ))
        }
        AckOutcome::NotFound => {
            return Err(ApiError::not_found(match kind {
                Kind::Channel => "Channel not found",
                Kind::Conversation => "Conversation not found",
            }))
        }
    };
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(ReadStateDto {
        channel_id: channel.0,
        read_seq,
        moved,
    }))
}

/// Records how far the caller has read a server's channel (members only). It only moves
/// forward: an older `seq` changes nothing and is no error. The caller's personal sockets
/// hear of a move (`read.updated`).
#[utoipa::path(
    tag = "messages",
    params(("channel_id" = i64, Path, description = "The channel's id")),
    request_body = AckRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Where the read state stands", body = ReadStateDto),
        (status = 400, description = "Malformed body, or a negative `seq`", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not a member of the channel's server (`not_member`)", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/channels/{channel_id}/ack/")]
#[tracing::instrument(skip_all, fields(channel_id = %channel_id, user_id = %user.id))]
pub async fn ack_channel(
    state: web::Data<AppState>,
    user: TokenUser,
    channel_id: web::Path<i64>,
    body: JsonObject<AckRequest>,
) -> Result<HttpResponse, ApiError> {
    let channel = ChannelId(channel_id.into_inner());
    ack(&state, &user, Kind::Channel, channel, &body).await
}

/// Records how far the caller has read a conversation (participants only); as for a
/// channel, it only moves forward.
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The conversation's id")),
    request_body = AckRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Where the read state stands", body = ReadStateDto),
        (status = 400, description = "Malformed body, or a negative `seq`", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such conversation, or one of others", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/dms/{conversation_id}/ack/")]
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id, user_id = %user.id))]
pub async fn ack_conversation(
    state: web::Data<AppState>,
    user: TokenUser,
    conversation_id: web::Path<i64>,
    body: JsonObject<AckRequest>,
) -> Result<HttpResponse, ApiError> {
    let channel = ChannelId(conversation_id.into_inner());
    ack(&state, &user, Kind::Conversation, channel, &body).await
}

/// Where the caller stands in one channel or conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadDto {
    pub channel_id: i64,
    /// The channel's server; null for a conversation.
    pub server_id: Option<i64>,
    /// The `seq` of the channel's last message (0: none yet).
    pub last_seq: i64,
    /// How far the caller has read (0: nothing yet).
    pub read_seq: i64,
    /// Messages after `read_seq` by others, not deleted; counted up to 100 (100 means
    /// "100 or more").
    #[schema(minimum = 0, maximum = 100)]
    pub unread_count: i64,
    /// Messages after `read_seq` that mention the caller (`<@id>`), deleted ones not counted.
    pub mention_count: i64,
}

/// Every channel and conversation the caller can read, with what is new in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadList {
    /// By channel id: the channels of every server the caller belongs to, and their
    /// conversations.
    pub channels: Vec<UnreadDto>,
}

/// What is new for the caller: for every channel of their servers and every conversation
/// they take part in, the last `seq`, how far they have read, how many messages of others
/// came since and how many of them mention the caller. One query whatever their number.
#[utoipa::path(
    tag = "messages",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Read states and unread counts", body = UnreadList),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[get("/api/me/unread/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_unread(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.unread_lists.check(&user.id)?;
    let channels = hearth_db::read_states::unread(&state.db, user.id)
        .await?
        .into_iter()
        .map(|u| UnreadDto {
            channel_id: u.channel_id.0,
            server_id: u.server_id.map(|s| s.0),
            last_seq: u.last_seq,
            read_seq: u.read_seq,
            unread_count: u.unread_count,
            mention_count: u.mention_count,
        })
        .collect();
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(UnreadList { channels }))
}
