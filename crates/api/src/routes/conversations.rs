//! Direct messages: 1:1 conversations, group conversations, their messages, and blocks.
//!
//! A conversation is a channel without a server: its messages are stored, numbered, replayed,
//! edited and deleted by the same code as a channel's ([`crate::chat`]). Only its participants
//! learn that it exists: anyone else gets `404` for its id, whatever they ask.

use crate::auth::AuthUser;
use crate::chat::{self, Destination};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, RateLimitedErrors};
use crate::json::JsonObject;
use crate::limits::Allowance;
use crate::routes::messages::{
    history_page, post_message, CreateMessageRequest, HistoryQuery, MessageDto,
};
use crate::routes::text::{ids, Name};
use crate::startup::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use hearth_db::messages::Reader;
use hearth_domain::model::{AddOutcome, Conversation, ConversationKind, DirectOutcome};
use hearth_domain::rules;
use hearth_domain::{ChannelId, DomainError, Event, UserId, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

fn not_found() -> ApiError {
    ApiError::not_found("Conversation not found")
}

/// What kind of conversation.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKindDto {
    /// Two users; one per pair.
    Dm,
    /// 3 to 10 users, with a name.
    Group,
}

/// A conversation as its participants see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    /// Its id: the channel id its messages carry, and the id of its socket
    /// (`/ws/dms/{id}`).
    pub id: i64,
    pub kind: ConversationKindDto,
    /// A group's name; null for a 1:1 conversation.
    pub name: Option<String>,
    /// Everyone in it (you included), by user id.
    pub participants: Vec<UserRef>,
    /// The newest message that is not deleted; null before the first.
    pub last_message: Option<MessageDto>,
    /// The sequence number of the newest message (0 before the first): a socket opened with
    /// `?after=<last seq you saw>` replays what came after.
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    /// Its newest message's time, or its creation's: what the list is sorted by.
    pub active_at: DateTime<Utc>,
    /// A 1:1 conversation in which one of the two blocked the other: nobody can post in it
    /// (`403 blocked`) until the block is lifted. Always false for a group.
    pub blocked: bool,
}

impl From<Conversation> for ConversationDto {
    fn from(conversation: Conversation) -> Self {
        let active_at = conversation.active_at();
        Self {
            id: conversation.id.0,
            kind: match conversation.kind {
                ConversationKind::Direct => ConversationKindDto::Dm,
                ConversationKind::Group => ConversationKindDto::Group,
            },
            name: conversation.name,
            participants: conversation.participants,
            last_message: conversation.last_message.map(MessageDto::from),
            last_seq: conversation.last_seq,
            created_at: conversation.created_at,
            active_at,
            blocked: conversation.blocked,
        }
    }
}

async fn load(
    state: &AppState,
    id: ChannelId,
    viewer: UserId,
) -> Result<ConversationDto, ApiError> {
    hearth_db::conversations::find(&state.db, id, viewer)
        .await?
        .map(ConversationDto::from)
        .ok_or_else(not_found)
}

/// Whom to open a 1:1 conversation with.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenDirectRequest {
    /// The other user's id.
    #[serde(deserialize_with = "ids::one")]
    pub user_id: i64,
}

/// Opens the 1:1 conversation with a user: the existing one (`200`), or a new one (`201`).
///
/// Either of the two may open it, any number of times; concurrent opens create one.
#[utoipa::path(
    tag = "conversations",
    request_body = OpenDirectRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationDto),
        (status = 200, description = "It existed already", body = ConversationDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 409, description = "A conversation with yourself (`invalid_participant`)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "That user blocked you (`blocked`)", body = ErrorBody,
            example = json!({"error": "You cannot message this user", "code": "blocked"})),
        (status = 404, description = "No such user", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/dms/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn open_direct(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonObject<OpenDirectRequest>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.conversations.check(&user.id)?;
    let other = UserId(body.user_id);
    if other == user.id {
        return Err(ApiError::conflict(
            "invalid_participant",
            "A conversation needs someone else",
        ));
    }
    let (mut response, id) =
        match hearth_db::conversations::open_direct(&state.db, user.id, other).await? {
            DirectOutcome::Created(id) => {
                chat::announce_conversation(&state, id, &[user.id, other]);
                (HttpResponse::Created(), id)
            }
            DirectOutcome::Existing(id) => (HttpResponse::Ok(), id),
            DirectOutcome::NoSuchUser => return Err(ApiError::not_found("User not found")),
            DirectOutcome::Blocked => {
                return Err(ApiError::forbidden(
                    "blocked",
                    "You cannot message this user",
                ))
            }
        };
    let conversation = load(&state, id, user.id).await?;
    Allowance::apply(allowance, &mut response);
    Ok(response.json(conversation))
}

fn group_name(name: &str) -> Result<(), ValidationError> {
    match rules::normalize_group_name(name) {
        Some(_) => Ok(()),
        None => Err(ValidationError::new("name")
            .with_message("Must have 1 to 100 characters and no control characters.".into())),
    }
}

/// A new group conversation.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateGroupRequest {
    #[validate(custom(function = "group_name"))]
    #[schema(value_type = Name, example = "weekend plans")]
    pub name: String,
    /// The other participants: 2 to 9 user ids (you are added yourself; naming yourself
    /// does not count).
    #[validate(length(min = 2, max = 9, message = "Name 2 to 9 other users."))]
    #[serde(deserialize_with = "ids::list")]
    #[schema(min_items = 2, max_items = 9)]
    pub user_ids: Vec<i64>,
}

/// Creates a group conversation of 3 to 10 participants, you included.
#[utoipa::path(
    tag = "conversations",
    request_body = CreateGroupRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationDto),
        (status = 400, description = "Invalid name, or not 2 to 9 other participants", body = ErrorBody),
        (status = 409, description = "Fewer than 3 different participants once you and repeats are counted once (`invalid_participants`)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "One of the users does not exist", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/dms/groups/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create_group(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonObject<CreateGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.conversations.check(&user.id)?;
    let request = body.into_inner();
    request.validate()?;
    let others: Vec<UserId> = request.user_ids.iter().copied().map(UserId).collect();
    let others = rules::group_participants(user.id, &others)
        .map_err(|problem| ApiError::conflict("invalid_participants", problem))?;
    let name = rules::normalize_group_name(&request.name).unwrap_or_default();
    let id = hearth_db::conversations::create_group(&state.db, user.id, name, &others)
        .await
        .map_err(|e| match e {
            DomainError::NotFound(_) => ApiError::not_found("User not found"),
            other => other.into(),
        })?;
    let mut everyone = others;
    everyone.push(user.id);
    chat::announce_conversation(&state, id, &everyone);
    let conversation = load(&state, id, user.id).await?;
    let mut response = HttpResponse::Created();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(conversation))
}

/// My conversations, the most recently active first, each with its participants and its last
/// message.
#[utoipa::path(
    tag = "conversations",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Conversations", body = Vec<ConversationDto>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
#[get("/api/dms/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_conversations(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<Vec<ConversationDto>>, ApiError> {
    let all = hearth_db::conversations::list(&state.db, user.id).await?;
    Ok(web::Json(all.into_iter().map(Into::into).collect()))
}

/// One of my conversations.
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The conversation's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The conversation", body = ConversationDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such conversation, or you do not take part in it", body = ErrorBody),
    )
)]
#[get("/api/dms/{conversation_id:\\d+}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn get_conversation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<web::Json<ConversationDto>, ApiError> {
    load(&state, ChannelId(id.into_inner()), user.id)
        .await
        .map(web::Json)
}

/// Whom to add to a group.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddParticipantRequest {
    #[serde(deserialize_with = "ids::one")]
    pub user_id: i64,
}

/// Adds someone to a group conversation you take part in (at most 10 participants).
///
/// Its sockets receive `conversation.participant_added`.
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The group's id")),
    request_body = AddParticipantRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Added; the group as it is now", body = ConversationDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such group, you do not take part in it, or no such user", body = ErrorBody),
        (status = 409, description = "Already in it (`already_participant`), or the group is full (`group_full`)", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/dms/{conversation_id}/participants/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn add_participant(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: JsonObject<AddParticipantRequest>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.conversations.check(&user.id)?;
    let channel = ChannelId(id.into_inner());
    let added = UserId(body.user_id);
    match hearth_db::conversations::add(&state.db, channel, user.id, added).await {
        Ok(AddOutcome::Added) => {}
        Ok(AddOutcome::AlreadyParticipant) => {
            return Err(ApiError::conflict(
                "already_participant",
                "This user is in the group already",
            ))
        }
        Ok(AddOutcome::Full) => {
            return Err(ApiError::conflict(
                "group_full",
                format!(
                    "A group has at most {} participants",
                    rules::GROUP_MAX_PARTICIPANTS
                ),
            ))
        }
        Ok(AddOutcome::NoSuchUser) | Err(DomainError::NotFound("user")) => {
            return Err(ApiError::not_found("User not found"))
        }
        Ok(AddOutcome::NoSuchConversation) | Err(DomainError::NotFound(_)) => {
            return Err(not_found())
        }
        Err(e) => return Err(e.into()),
    }
    let conversation = load(&state, channel, user.id).await?;
    if let Some(person) = conversation.participants.iter().find(|p| p.id == added) {
        state.hub.publish(Event::ParticipantAdded {
            channel_id: channel,
            user: person.clone(),
        });
    }
    chat::announce_conversation(&state, channel, &[added]);
    let mut response = HttpResponse::Ok();
    Allowance::apply(allowance, &mut response);
    Ok(response.json(conversation))
}

/// Leaves a group conversation. The last one out deletes it, with its messages.
///
/// Its sockets receive `conversation.participant_left`; yours on it are closed (4004).
/// A 1:1 conversation cannot be left (`404`: it is not a group).
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The group's id")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Left"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such group, or you do not take part in it", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[delete("/api/dms/{conversation_id}/participants/me/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn leave_group(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.conversations.check(&user.id)?;
    let channel = ChannelId(id.into_inner());
    if !hearth_db::conversations::leave_group(&state.db, channel, user.id).await? {
        return Err(not_found());
    }
    state.hub.publish(Event::ParticipantLeft {
        channel_id: channel,
        user_id: user.id,
    });
    let mut response = HttpResponse::NoContent();
    Allowance::apply(allowance, &mut response);
    Ok(response.finish())
}

/// A page of a conversation's history, oldest first, deleted messages left out (as a
/// channel's history).
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The conversation's id"), HistoryQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Messages, oldest first", body = Vec<MessageDto>),
        (status = 400, description = "Malformed parameter, or `limit` out of 1–100", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such conversation, or you do not take part in it", body = ErrorBody),
    )
)]
#[get("/api/dms/{conversation_id}/messages/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_conversation_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<Vec<MessageDto>>, ApiError> {
    let channel = ChannelId(id.into_inner());
    let reader = Reader::Participant(user.id);
    let messages = history_page(&state, channel, reader, user.id, query.into_inner()).await?;
    if messages.is_empty()
        && !hearth_db::conversations::is_participant(&state.db, channel, user.id).await?
    {
        return Err(not_found());
    }
    Ok(web::Json(messages.into_iter().map(Into::into).collect()))
}

/// Posts a message to a conversation you take part in, exactly as to a channel: stored, then
/// published to its sockets as `chat.message`; a repeated `nonce` within 10 minutes answers 200
/// with the first message. The rate limit is the same per-user bucket as every other post.
#[utoipa::path(
    tag = "conversations",
    params(("conversation_id" = i64, Path, description = "The conversation's id")),
    request_body = CreateMessageRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored and published", body = MessageDto),
        (status = 200, description = "Nonce replay: the message stored the first time", body = MessageDto),
        (status = 400, description = "Empty or too long content, or an invalid nonce", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "One of you blocked the other (`blocked`)", body = ErrorBody,
            example = json!({"error": "You cannot send messages in this conversation", "code": "blocked"})),
        (status = 404, description = "No such conversation, or you do not take part in it", body = ErrorBody),
        (status = 409, description = "The nonce already names a message elsewhere", body = ErrorBody),
        RateLimitedErrors,
        JsonBodyErrors,
    )
)]
#[post("/api/dms/{conversation_id}/messages/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create_conversation_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: JsonObject<CreateMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    request.validate()?;
    let allowance = state.messages.check(user.id)?;
    let to = Destination::conversation(ChannelId(id.into_inner()));
    post_message(&state, user, to, &request, allowance)
        .await
        .map_err(|e| match e {
            chat::ChatError::NoSuchChannel => not_found(),
            other => other.into(),
        })
}

/// The users I blocked.
#[utoipa::path(
    tag = "conversations",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Blocked users, by id", body = Vec<UserRef>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
#[get("/api/me/blocks/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_blocks(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<Vec<UserRef>>, ApiError> {
    Ok(web::Json(
        hearth_db::conversations::blocked_by(&state.db, user.id).await?,
    ))
}

/// Blocks a user (idempotent): they can no longer open a 1:1 conversation with you, and
/// neither of you can post in the one you have (`403 blocked`). They are not told.
#[utoipa::path(
    tag = "conversations",
    params(("user_id" = i64, Path, description = "The user to block")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Blocked"),
        (status = 409, description = "Yourself (`invalid_user`)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[put("/api/me/blocks/{user_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn block_user(
    state: web::Data<AppState>,
    user: AuthUser,
    blocked: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.blocks.check(&user.id)?;
    let blocked = UserId(blocked.into_inner());
    if blocked == user.id {
        return Err(ApiError::conflict(
            "invalid_user",
            "You cannot block yourself",
        ));
    }
    if !hearth_db::conversations::block(&state.db, user.id, blocked).await? {
        return Err(ApiError::not_found("User not found"));
    }
    // Neither sees the other online any more.
    state.hub.partners_changed(&[user.id, blocked]);
    let mut response = HttpResponse::NoContent();
    Allowance::apply(allowance, &mut response);
    Ok(response.finish())
}

/// Lifts a block (idempotent).
#[utoipa::path(
    tag = "conversations",
    params(("user_id" = i64, Path, description = "The user to unblock")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Not blocked (any more)"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "Not a user id", body = ErrorBody),
        RateLimitedErrors,
    )
)]
#[delete("/api/me/blocks/{user_id}/")]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn unblock_user(
    state: web::Data<AppState>,
    user: AuthUser,
    blocked: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let allowance = state.limits.blocks.check(&user.id)?;
    let blocked = UserId(blocked.into_inner());
    hearth_db::conversations::unblock(&state.db, user.id, blocked).await?;
    state.hub.partners_changed(&[user.id, blocked]);
    let mut response = HttpResponse::NoContent();
    Allowance::apply(allowance, &mut response);
    Ok(response.finish())
}
