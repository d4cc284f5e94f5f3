//! Message history.

use crate::error::{ApiError, ErrorBody};
use crate::startup::AppState;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use hearth_domain::model::Message;
use hearth_domain::rules::COMPAT_HISTORY_LIMIT;
use hearth_domain::ChannelId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
