//! The chat use cases — sending, editing and deleting messages — shared by the REST routes and
//! the WebSocket gateway, so both enforce the same rules and publish the same events.
//!
//! Each one validates, applies the domain rule, stores, and only after the database committed
//! publishes the event to the hub.

use crate::error::ApiError;
use crate::startup::AppState;
use hearth_db::messages::Stored;
use hearth_domain::model::Message;
use hearth_domain::rules::{self, MESSAGE_MAX_CHARS, NONCE_MAX_CHARS};
use hearth_domain::{
    ChannelId, ChatMessage, DomainError, Event, MessageId, ServerId, UserId, UserRef,
};

#[cfg(test)]
mod tests {
    use super::private_message_command;

    #[test]
    fn pm_commands_name_a_user_and_a_text() {
        assert_eq!(
            private_message_command("/pm bob hi there"),
            Some(("bob", "hi there"))
        );
        assert_eq!(
            private_message_command("  /pm   bob   hi  "),
            Some(("bob", "hi"))
        );
        assert_eq!(private_message_command("/pm bob"), Some(("bob", "")));
        assert_eq!(private_message_command("/pm"), Some(("", "")));
        assert_eq!(private_message_command("/pmbob hi"), None);
        assert_eq!(private_message_command("hello /pm bob hi"), None);
        assert_eq!(private_message_command("/PM bob hi"), None);
    }
}

/// Why a chat action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The content (or the nonce) breaks the message rules.
    #[error("{0}")]
    InvalidMessage(String),
    /// Only members of a server may post in its channels.
    #[error("You must be a member of this server to post in it")]
    NotMember,
    /// One of the two users of a direct conversation blocked the other.
    #[error("You cannot send messages in this conversation")]
    Blocked,
    #[error("Channel not found")]
    NoSuchChannel,
    /// A `/pm` named nobody.
    #[error("No user has this name")]
    UnknownUser,
    /// The message does not exist or was deleted.
    #[error("Message not found")]
    NoSuchMessage,
    /// The nonce already names a message in another channel.
    #[error("This nonce was already used for a message in another channel")]
    NonceInUse,
    /// `reply_to` names no message of this channel (or a deleted one).
    #[error("A reply must answer a message of the same channel that is not deleted")]
    InvalidReply,
    /// The channel has as many pins as it may.
    #[error("This channel has 50 pinned messages already; unpin one first")]
    TooManyPins,
    /// A new emoji on a message that has as many as it may.
    #[error("This message has 20 different reactions already; add to one of them")]
    TooManyReactions,
    /// The caller may not do this to this message (edit someone else's, ...).
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ChatError {
    /// A stable snake_case code, the same on every transport.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::InvalidMessage(_) => "invalid_message",
            ChatError::NonceInUse => "nonce_in_use",
            ChatError::InvalidReply => "invalid_reply",
            ChatError::TooManyPins => "too_many_pins",
            ChatError::TooManyReactions => "too_many_reactions",
            ChatError::NotMember => "not_member",
            ChatError::Blocked => "blocked",
            ChatError::NoSuchChannel | ChatError::NoSuchMessage => "not_found",
            ChatError::UnknownUser => "unknown_user",
            ChatError::NotAllowed(_) => "forbidden",
            ChatError::Unavailable(_) => "unavailable",
            ChatError::Internal(_) => "internal_error",
        }
    }
}

impl From<DomainError> for ChatError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound("channel" | "server" | "conversation") => {
                ChatError::NoSuchChannel
            }
            DomainError::NotFound("message") => ChatError::NoSuchMessage,
            // A deleted account is a member of nothing (its memberships went with it).
            DomainError::AccountGone => ChatError::NotMember,
            DomainError::InvalidInput(problem) => ChatError::InvalidMessage(problem),
            DomainError::Unavailable(cause) => ChatError::Unavailable(cause),
            other @ (DomainError::NotFound(_) | DomainError::Conflict(_)) => {
                ChatError::Internal(other.to_string())
            }
            DomainError::Internal(cause) => ChatError::Internal(cause),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        let code = err.code();
        match err {
            ChatError::InvalidMessage(message) => ApiError::bad_request(code, message),
            ChatError::InvalidReply => ApiError::bad_request(code, err.to_string()),
            // A well-formed request that clashes with what is stored.
            ChatError::NonceInUse | ChatError::TooManyPins | ChatError::TooManyReactions => {
                ApiError::conflict(code, err.to_string())
            }
            ChatError::NotMember | ChatError::Blocked | ChatError::NotAllowed(_) => {
                ApiError::forbidden(code, err.to_string())
            }
            ChatError::NoSuchChannel | ChatError::NoSuchMessage | ChatError::UnknownUser => {
                ApiError::not_found(err.to_string())
            }
            ChatError::Unavailable(cause) => ApiError::Unavailable(cause),
            ChatError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// Whether a send stored a new message or replayed a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Stored now, and published.
    Created,
    /// The nonce was used within the last 10 minutes: the message stored then, nothing published.
    Replayed,
}

fn normalized(content: &str) -> Result<&str, ChatError> {
    rules::normalize_message(content).ok_or_else(|| {
        ChatError::InvalidMessage(format!(
            "A message must have 1 to {MESSAGE_MAX_CHARS} characters (leading and trailing \
             spaces do not count)"
        ))
    })
}

/// Where a message goes: a channel and the server it belongs to, or a conversation (no server:
/// only its participants may post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    pub server: Option<ServerId>,
    pub channel: ChannelId,
}

impl Destination {
    /// The conversation `channel`.
    pub fn conversation(channel: ChannelId) -> Self {
        Self {
            server: None,
            channel,
        }
    }
}

/// Looks up which server `channel` belongs to (a socket knows it from its handshake already).
pub async fn destination(state: &AppState, channel: ChannelId) -> Result<Destination, ChatError> {
    let channel = hearth_db::channels::find(&state.db, channel)
        .await?
        .ok_or(ChatError::NoSuchChannel)?;
    Ok(Destination {
        server: Some(channel.server_id),
        channel: channel.id,
    })
}

/// Sends a message as `user` and tells whether it was new.
///
/// The content is trimmed and must then have 1–2000 characters; the nonce, when given, 1–64
/// characters. Membership of the channel's server is checked now, at send time. A new message
/// is published as `chat.message` once stored; a nonce replay returns the message first sent
/// with it and publishes nothing (the same nonce in another channel is refused). A channel
/// deleted meanwhile is `NoSuchChannel` (the store finds no channel row to number from).
pub async fn send_message_with_outcome(
    state: &AppState,
    user: &UserRef,
    to: Destination,
    post: Post<'_>,
) -> Result<(Message, SendOutcome), ChatError> {
    send_messages(state, user, to, &[post])
        .await
        .pop()
        .unwrap_or_else(|| Err(ChatError::Internal("a send had no outcome".to_owned())))
}

/// A message as a client sent it: its content, an optional nonce, and the message of the same
/// channel it answers, if any. Checked by [`send_messages`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Post<'a> {
    pub content: &'a str,
    pub nonce: Option<&'a str>,
    pub reply_to: Option<MessageId>,
}

/// Sends several messages of `user` to one channel, in the order given, with one database round
/// trip for all of them: what a socket's queue holds when its messages arrive faster than one
/// round trip each. Each [`Post`] gets the outcome [`send_message_with_outcome`] would give
/// it, in order; new messages are published in order.
#[tracing::instrument(skip_all, fields(user_id = %user.id, channel_id = %to.channel, messages = messages.len()))]
pub async fn send_messages(
    state: &AppState,
    user: &UserRef,
    to: Destination,
    messages: &[Post<'_>],
) -> Vec<Result<(Message, SendOutcome), ChatError>> {
    let checked: Vec<Result<hearth_db::messages::Draft<'_>, ChatError>> =
        messages.iter().map(draft).collect();
    // Only the valid ones are stored, one outcome each, in order.
    let drafts: Vec<_> = checked
        .iter()
        .filter_map(|d| d.as_ref().ok().copied())
        .collect();
    let began = std::time::Instant::now();
    let mut stored =
        hearth_db::messages::create_many(&state.db, to.server, to.channel, user, &drafts)
            .await
            .map(Vec::into_iter)
            .map_err(ChatError::from);
    state
        .metrics
        .stages
        .store
        .record(began.elapsed().as_secs_f64());
    let outcomes = checked
        .into_iter()
        .map(|checked| {
            checked?;
            match &mut stored {
                Ok(outcomes) => outcomes
                    .next()
                    .ok_or_else(|| {
                        ChatError::Internal("a stored message had no outcome".to_owned())
                    })?
                    .map_err(ChatError::from)
                    .and_then(|stored| accept(state, to, stored)),
                Err(e) => Err(e.clone()),
            }
        })
        .collect::<Vec<_>>();
    if let Some(Err(refusal @ ChatError::Blocked)) = outcomes.iter().find(|o| o.is_err()) {
        alert(state, user.id, refusal).await;
    }
    for outcome in &outcomes {
        if let Ok((message, SendOutcome::Created)) = outcome {
            tell_mentioned(state, to.server, message).await;
        }
    }
    outcomes
}

/// Tells each user a new message mentions (but its author) on their personal sockets, from
/// their event log (`mention`).
async fn tell_mentioned(state: &AppState, server: Option<ServerId>, message: &Message) {
    let events = message
        .mentions
        .iter()
        .filter(|user| user.id != message.sender_id)
        .map(|user| {
            let event = Event::Mention {
                to: user.id,
                server_id: server,
                message: message.clone().into(),
            };
            (user.id, event)
        })
        .collect();
    log_and_publish_each(state, events).await;
}

/// A `/pm <username> <text>` typed in a channel: the recipient and the text, or `None` when
/// `content` is not a private message command. The command is case-sensitive, as a chat
/// command is; the username is the first word after it.
pub fn private_message_command(content: &str) -> Option<(&str, &str)> {
    let rest = content.trim_start().strip_prefix("/pm")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None; // "/pmx" is an ordinary message
    }
    let rest = rest.trim_start();
    let (target, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    Some((target, text.trim()))
}

/// What a delivered private message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The recipient's username, as stored.
    pub target: String,
    pub message: Message,
}

/// Sends `text` privately from `sender` to the user named `target` (`/pm`): stored in their
/// 1:1 conversation (opened if needed; `chat.message` to its sockets) and announced to every
/// socket of the recipient as `private_message`. Refused like a message to that conversation
/// (`Blocked`, `InvalidMessage`, ...), or `UnknownUser`.
#[tracing::instrument(skip_all, fields(user_id = %sender.id))]
pub async fn send_private_message(
    state: &AppState,
    sender: &UserRef,
    target: &str,
    text: &str,
    nonce: Option<&str>,
) -> Result<(Delivered, SendOutcome), ChatError> {
    let sent = private_message(state, sender, target, text, nonce).await;
    // A blocked one was alerted about where it was refused.
    if let Err(refusal @ ChatError::UnknownUser) = &sent {
        alert(state, sender.id, refusal).await;
    }
    sent
}

async fn private_message(
    state: &AppState,
    sender: &UserRef,
    target: &str,
    text: &str,
    nonce: Option<&str>,
) -> Result<(Delivered, SendOutcome), ChatError> {
    if target.is_empty() {
        return Err(ChatError::InvalidMessage(
            "Write /pm <username> <message>".to_owned(),
        ));
    }
    let recipient = hearth_db::users::find_by_name(&state.db, target)
        .await?
        .ok_or(ChatError::UnknownUser)?;
    if recipient.id == sender.id {
        return Err(ChatError::InvalidMessage(
            "A private message goes to someone else".to_owned(),
        ));
    }
    let conversation =
        match hearth_db::conversations::open_direct(&state.db, sender.id, recipient.id).await? {
            hearth_domain::model::DirectOutcome::Created(id) => {
                announce_conversation(state, id, &[sender.id, recipient.id]);
                id
            }
            hearth_domain::model::DirectOutcome::Existing(id) => id,
            hearth_domain::model::DirectOutcome::NoSuchUser => return Err(ChatError::UnknownUser),
            hearth_domain::model::DirectOutcome::Blocked => {
                alert(state, sender.id, &ChatError::Blocked).await;
                return Err(ChatError::Blocked);
            }
        };
    let (message, outcome) = send_message_with_outcome(
        state,
        sender,
        Destination::conversation(conversation),
        Post {
            content: text,
            nonce,
            reply_to: None,
        },
    )
    .await?;
    if outcome == SendOutcome::Created {
        let notice = Event::PrivateMessage {
            user: sender.username.clone(),
            message: message.content.clone(),
            to: recipient.id,
            conversation_id: conversation,
        };
        log_and_publish(state, recipient.id, notice).await;
    }
    Ok((
        Delivered {
            target: recipient.username,
            message,
        },
        outcome,
    ))
}

/// Tells every client of `user` that an action of theirs was refused, wherever it was taken
/// (logged, so a client that reconnects hears of it too), within the alerts limit.
pub async fn alert(state: &AppState, user: UserId, refusal: &ChatError) {
    if state.limits.alerts.check(&user).is_err() {
        return;
    }
    let event = Event::Alert {
        to: user,
        code: refusal.code().to_owned(),
        message: refusal.to_string(),
    };
    log_and_publish(state, user, event).await;
}

/// Appends an event no table change reports to `user`'s event log, then publishes it. The
/// log is written after the change the event is about, not with it: if it cannot be, the
/// event is not published either (a personal socket only sends what its log holds), and the
/// change itself stands (a private message is in its conversation, which resumes by `seq`).
pub(crate) async fn log_and_publish(state: &AppState, user: UserId, event: Event) {
    log_and_publish_each(state, vec![(user, event)]).await;
}

/// [`log_and_publish`] for several `(user, event)`, logged in one round trip.
async fn log_and_publish_each(state: &AppState, events: Vec<(UserId, Event)>) {
    if events.is_empty() {
        return;
    }
    let mut bodies = Vec::with_capacity(events.len());
    for (user, event) in &events {
        match serde_json::to_string(event) {
            Ok(body) => bodies.push((*user, body)),
            Err(e) => return tracing::error!(error = %e, "cannot serialize an event"),
        }
    }
    match hearth_db::user_events::push(&state.db, &bodies).await {
        Ok(()) => {
            for (_, event) in events {
                state.hub.publish(event);
            }
        }
        Err(e) => tracing::warn!(error = %e, events = bodies.len(), "cannot log events for users"),
    }
}

/// Tells `users` (their personal sockets) that they take part in `conversation` now (the
/// trigger that added them logged it).
pub fn announce_conversation(state: &AppState, conversation: ChannelId, users: &[UserId]) {
    for &to in users {
        state.hub.publish(Event::ConversationAdded {
            conversation_id: conversation,
            to,
        });
    }
}

/// Checks a message against the rules before it is stored.
fn draft<'a>(post: &Post<'a>) -> Result<hearth_db::messages::Draft<'a>, ChatError> {
    let Post {
        content,
        nonce,
        reply_to,
    } = *post;
    let content = normalized(content)?;
    if nonce.is_some_and(|nonce| !rules::nonce_is_valid(nonce)) {
        return Err(ChatError::InvalidMessage(format!(
            "A nonce must have 1 to {NONCE_MAX_CHARS} characters and no control characters"
        )));
    }
    Ok(hearth_db::messages::Draft {
        content,
        nonce,
        reply_to,
    })
}

/// What a stored message means for its sender; a new one is published.
fn accept(
    state: &AppState,
    to: Destination,
    stored: Stored,
) -> Result<(Message, SendOutcome), ChatError> {
    match stored {
        Stored::Created(message) => {
            state.metrics.messages_stored.increment(1);
            let began = std::time::Instant::now();
            state.hub.publish(Event::ChatMessage {
                new_message: ChatMessage {
                    server_id: to.server,
                    ..message.clone().into()
                },
            });
            state
                .metrics
                .stages
                .publish
                .record(began.elapsed().as_secs_f64());
            Ok((message, SendOutcome::Created))
        }
        Stored::NotMember => Err(ChatError::NotMember),
        Stored::Blocked => Err(ChatError::Blocked),
        Stored::InvalidReply => Err(ChatError::InvalidReply),
        Stored::Replayed(message) => {
            // A nonce names one send; reused for another channel it is a client bug, and
            // answering with a message from elsewhere would only hide it.
            if message.channel_id != to.channel {
                return Err(ChatError::NonceInUse);
            }
            tracing::debug!(message_id = %message.id, "nonce replayed");
            Ok((message, SendOutcome::Replayed))
        }
    }
}

/// A conversation's message does not exist for anyone who does not take part in it (not even
/// its author, once they left a group).
async fn hidden_unless_participant(
    state: &AppState,
    message: &Message,
    server: Option<ServerId>,
    user: UserId,
) -> Result<(), ChatError> {
    if server.is_none()
        && !hearth_db::conversations::is_participant(&state.db, message.channel_id, user).await?
    {
        return Err(ChatError::NoSuchMessage);
    }
    Ok(())
}

/// Replaces the content of a message; only its author may. Published as `message.updated`.
#[tracing::instrument(skip(state, content), fields(user_id = %user, message_id = %id))]
pub async fn edit_message(
    state: &AppState,
    user: UserId,
    id: MessageId,
    content: &str,
) -> Result<Message, ChatError> {
    let content = normalized(content)?;
    let (message, server) = hearth_db::messages::find(&state.db, id)
        .await?
        .ok_or(ChatError::NoSuchMessage)?;
    hidden_unless_participant(state, &message, server, user).await?;
    // The author of a message never changes, so checking before writing cannot race.
    if !rules::may_edit_message(message.sender_id, user) {
        return Err(ChatError::NotAllowed(
            "Only the author of a message can edit it",
        ));
    }
    // Deleted in the meantime: `NotFound("message")`, hence `NoSuchMessage`.
    let edited = hearth_db::messages::edit(&state.db, id, content).await?;
    state.hub.publish(Event::MessageUpdated {
        message: edited.clone().into(),
    });
    Ok(edited)
}

/// Deletes a message; its author or the owner of its server may. Published as
/// `message.deleted`.
#[tracing::instrument(skip(state), fields(user_id = %user, message_id = %id))]
pub async fn delete_message(
    state: &AppState,
    user: UserId,
    id: MessageId,
) -> Result<(), ChatError> {
    let (message, server) = hearth_db::messages::find(&state.db, id)
        .await?
        .ok_or(ChatError::NoSuchMessage)?;
    hidden_unless_participant(state, &message, server, user).await?;
    // A conversation has no owner: only authors delete there.
    let owner = match server {
        Some(server) if message.sender_id != user => {
            hearth_db::servers::owner_of(&state.db, server).await?
        }
        _ => None,
    };
    if !rules::may_delete_message(message.sender_id, owner, user) {
        return Err(ChatError::NotAllowed(
            "Only the author of a message or the owner of the server can delete it",
        ));
    }
    // A concurrent delete got there first: the message is gone either way, but only the
    // request that deleted it announces it.
    if !hearth_db::messages::delete(&state.db, id).await? {
        return Err(ChatError::NoSuchMessage);
    }
    state.hub.publish(Event::MessageDeleted {
        id,
        channel_id: message.channel_id,
        message_seq: message.seq,
    });
    Ok(())
}

/// Whether `user` may pin and unpin `message` (of `server`, or a conversation's): see
/// [`rules::may_pin_message`]. A conversation's message is hidden from everyone else.
async fn may_pin(
    state: &AppState,
    message: &Message,
    server: Option<ServerId>,
    user: UserId,
) -> Result<(), ChatError> {
    hidden_unless_participant(state, message, server, user).await?;
    let owner = match server {
        Some(server) => Some(
            hearth_db::servers::owner_of(&state.db, server)
                .await?
                .ok_or(ChatError::NoSuchMessage)?,
        ),
        None => None,
    };
    if !rules::may_pin_message(message.sender_id, owner, user) {
        return Err(ChatError::NotAllowed(
            "Only the author of a message or the owner of the server can pin it",
        ));
    }
    Ok(())
}

/// Pins a message (idempotent); published as `message.pinned` when it was not pinned.
#[tracing::instrument(skip(state), fields(user_id = %user, message_id = %id))]
pub async fn pin_message(
    state: &AppState,
    user: UserId,
    id: MessageId,
) -> Result<Message, ChatError> {
    let (message, server) = hearth_db::messages::find(&state.db, id)
        .await?
        .ok_or(ChatError::NoSuchMessage)?;
    may_pin(state, &message, server, user).await?;
    if message.pinned_at.is_some() {
        return Ok(message);
    }
    match hearth_db::messages::pin(&state.db, id, message.channel_id, user).await? {
        hearth_db::messages::PinOutcome::Pinned(message) => {
            state.hub.publish(Event::MessagePinned {
                message: message.clone().into(),
                pinned_by: user,
            });
            Ok(message)
        }
        hearth_db::messages::PinOutcome::AlreadyPinned(message) => Ok(message),
        hearth_db::messages::PinOutcome::TooMany => Err(ChatError::TooManyPins),
        hearth_db::messages::PinOutcome::NotFound => Err(ChatError::NoSuchMessage),
    }
}

/// Unpins a message (idempotent); published as `message.unpinned` when it was pinned.
#[tracing::instrument(skip(state), fields(user_id = %user, message_id = %id))]
pub async fn unpin_message(
    state: &AppState,
    user: UserId,
    id: MessageId,
) -> Result<Message, ChatError> {
    let (message, server) = hearth_db::messages::find(&state.db, id)
        .await?
        .ok_or(ChatError::NoSuchMessage)?;
    may_pin(state, &message, server, user).await?;
    if message.pinned_at.is_none() {
        return Ok(message);
    }
    let (message, was_pinned) = hearth_db::messages::unpin(&state.db, id)
        .await?
        .ok_or(ChatError::NoSuchMessage)?;
    if was_pinned {
        state.hub.publish(Event::MessageUnpinned {
            id,
            channel_id: message.channel_id,
            message_seq: message.seq,
        });
    }
    Ok(message)
}

/// Adds (`on`) or takes back `user`'s `emoji` reaction to a message (idempotent): members of
/// its server and participants of its conversation may react (a conversation's message does
/// not exist for anyone else), checked by the statement that locks the message. A change is
/// published as `reaction.added` / `reaction.removed` with the emoji's count; the count is
/// returned.
#[tracing::instrument(skip(state), fields(user_id = %user, message_id = %id))]
pub async fn react(
    state: &AppState,
    user: UserId,
    id: MessageId,
    emoji: &'static str,
    on: bool,
) -> Result<i64, ChatError> {
    use hearth_db::messages::ReactOutcome;
    match hearth_db::messages::react(&state.db, id, user, emoji, on).await? {
        ReactOutcome::Reacted {
            count,
            channel,
            seq: message_seq,
            changed: true,
        } => {
            let (message_id, channel_id, emoji, user_id) = (id, channel, emoji.to_owned(), user);
            state.hub.publish(if on {
                Event::ReactionAdded {
                    message_id,
                    channel_id,
                    message_seq,
                    emoji,
                    user_id,
                    count,
                }
            } else {
                Event::ReactionRemoved {
                    message_id,
                    channel_id,
                    message_seq,
                    emoji,
                    user_id,
                    count,
                }
            });
            Ok(count)
        }
        ReactOutcome::Reacted { count, .. } => Ok(count),
        ReactOutcome::TooMany => Err(ChatError::TooManyReactions),
        ReactOutcome::NotMember => Err(ChatError::NotMember),
        ReactOutcome::NotFound => Err(ChatError::NoSuchMessage),
    }
}
