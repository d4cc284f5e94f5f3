//! One socket: replay, live frames out, client frames in, heartbeats, limits.

use super::hub::{Frame, FILL_BATCH};
use super::protocol::{close, ClientFrame, ServerFrame};
use crate::chat::{self, ChatError, Destination};
use crate::startup::AppState;
use actix_web::web;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use hearth_domain::{ChannelId, ChatMessage, Event, ServerId, UserRef};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Largest frame accepted (a 2,000-character message is at most 8 KiB of UTF-8).
pub const MAX_FRAME: usize = 64 * 1024;
/// At most one typing relay per user and socket in this interval.
const TYPING_THROTTLE: Duration = Duration::from_secs(3);
/// Refusals within [`ABUSE_WINDOW`] after which the socket is closed with 4008.
const ABUSE_LIMIT: u32 = 20;
const ABUSE_WINDOW: Duration = Duration::from_secs(10);
/// How much more often than chat messages a socket may send frames of any kind.
const FRAME_FACTOR: NonZeroU32 = match NonZeroU32::new(4) {
    Some(factor) => factor,
    None => NonZeroU32::MIN,
};

/// Queued frames forwarded per turn of a socket's loop before it looks at its other inputs.
const FORWARD_BATCH: usize = 64;

/// Sends a frame from the hub unless its sequence number was already sent (by the replay);
/// `false` when the socket is gone.
async fn forward(session: &mut Session, frame: Arc<Frame>, last_seq: &mut i64) -> bool {
    if let Some(seq) = frame.seq {
        if seq <= *last_seq {
            return true;
        }
        *last_seq = seq;
    }
    session.text(frame.text.clone()).await.is_ok()
}

/// Who connected where, as established by the handshake.
pub struct Connection {
    pub user: UserRef,
    pub server: ServerId,
    pub channel: ChannelId,
    /// Replay messages after this sequence number before going live.
    pub after: Option<i64>,
}

/// Counts refusals to spot sustained abuse.
struct Abuse {
    since: Instant,
    count: u32,
}

impl Abuse {
    /// Records a refusal; returns whether the socket has crossed the line.
    fn refuse(&mut self) -> bool {
        if self.since.elapsed() > ABUSE_WINDOW {
            self.since = Instant::now();
            self.count = 0;
        }
        self.count += 1;
        self.count > ABUSE_LIMIT
    }
}

async fn send_frame(session: &mut Session, frame: &ServerFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(json) => session.text(json).await.is_ok(),
        Err(_) => true,
    }
}

async fn close_with(session: Session, code: u16, reason: &str) {
    let _ = session
        .close(Some(CloseReason {
            code: CloseCode::Other(code),
            description: Some(reason.to_owned()),
        }))
        .await;
}

/// Closes a socket that was accepted only to be told why it cannot stay.
pub async fn refuse(session: Session, code: u16, reason: &str) {
    close_with(session, code, reason).await;
}

/// Sends the messages after `after` up to `until` (both sequence numbers); returns the last sent.
async fn replay(
    state: &AppState,
    session: &mut Session,
    channel: ChannelId,
    after: i64,
    until: i64,
) -> Result<i64, ()> {
    let mut cursor = after;
    while cursor < until {
        let messages = hearth_db::messages::since(&state.db, channel, cursor, FILL_BATCH)
            .await
            .map_err(|e| tracing::warn!(error = %e, "replay failed"))?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            if message.seq > until {
                return Ok(cursor);
            }
            cursor = message.seq;
            let event = Event::ChatMessage {
                new_message: ChatMessage::from(message),
            };
            let Some(frame) = Frame::of(&event) else {
                continue;
            };
            session.text(frame.text).await.map_err(|_| ())?;
        }
    }
    Ok(until.max(cursor))
}

/// Runs a socket until either side closes it.
pub async fn run(
    state: web::Data<AppState>,
    mut session: Session,
    stream: actix_ws::MessageStream,
    connection: Connection,
) {
    let mut stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let user = connection.user;
    // Checked at the handshake; every message reuses it instead of looking the channel up.
    let destination = Destination {
        server: connection.server,
        channel: connection.channel,
    };
    let mut subscription = match state
        .hub
        .subscribe(connection.server, connection.channel, user.clone())
        .await
    {
        Ok(subscription) => subscription,
        Err(e) => {
            tracing::warn!(error = %e, "cannot join the channel");
            close_with(session, 1011, "temporarily unavailable").await;
            return;
        }
    };
    tracing::info!(user_id = %user.id, channel_id = %connection.channel, "socket open");

    // Sent once; not kept for the socket's lifetime (an idle socket should cost little).
    let online = ServerFrame::PresenceList {
        users: std::mem::take(&mut subscription.online),
    };
    let sent = send_frame(&mut session, &online).await;
    drop(online);
    if !sent {
        return;
    }
    let mut last_seq = subscription.joined_at_seq;
    if let Some(after) = connection.after {
        match Box::pin(replay(
            &state,
            &mut session,
            connection.channel,
            after,
            last_seq,
        ))
        .await
        {
            Ok(sent) => last_seq = sent.max(after),
            Err(()) => {
                close_with(session, 1011, "replay failed; reconnect").await;
                return;
            }
        }
    }

    let settings = &state.settings;
    // Frames of any kind (pings, typing, garbage) get a looser limit than chat messages.
    let frame_quota = Quota::per_second(settings.ws_rate_per_sec.saturating_mul(FRAME_FACTOR))
        .allow_burst(settings.ws_rate_burst.saturating_mul(FRAME_FACTOR));
    let frames_limiter = RateLimiter::direct(frame_quota);
    let mut abuse = Abuse {
        since: Instant::now(),
        count: 0,
    };
    let mut last_typing: Option<Instant> = None;
    // Messages are stored by a task of their own, in the order sent, so this loop keeps
    // delivering frames (and reading) while the database works. Started by the first message:
    // most sockets only listen.
    let mut outbox = Outbox { queue: None };
    let mut heartbeat = tokio::time::interval(settings.ws_ping_interval);
    heartbeat.tick().await;
    let mut unanswered_pings = 0_u8;

    let reason = loop {
        // A close from the hub first, then deliveries (at most a batch per turn), then what the
        // client sends: reading it never waits for the database (the outbox stores), so a
        // sender's own messages are not held up behind a busy channel for long.
        tokio::select! {
            biased;
            code = &mut subscription.kicked => {
                // Say why before closing (server.deleted, ...), unless the queue is the problem.
                if code != Ok(close::TOO_SLOW) {
                    while let Ok(frame) = subscription.frames.try_recv() {
                        if !forward(&mut session, frame, &mut last_seq).await {
                            return;
                        }
                    }
                }
                break code.map_or((close::GOING_AWAY, "closing"), |code| (code, match code {
                    close::TOO_SLOW => "too slow: reconnect with ?after=<last seq>",
                    close::NOT_FOUND => "the server or channel is gone",
                    _ => "closed by the server",
                }));
            }
            frame = subscription.frames.recv() => {
                let Some(frame) = frame else { break (close::GOING_AWAY, "closing") };
                if !forward(&mut session, frame, &mut last_seq).await {
                    return;
                }
                // Frames queued meanwhile go out now, without another turn of the select: under
                // load the connection then writes them in one go instead of one by one.
                for _ in 1..FORWARD_BATCH {
                    let Ok(frame) = subscription.frames.try_recv() else { break };
                    if !forward(&mut session, frame, &mut last_seq).await {
                        return;
                    }
                }
            }
            message = stream.recv() => {
                let message = match message {
                    None => return,
                    Some(Ok(message)) => message,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket protocol error");
                        break protocol_failure(&e);
                    }
                };
                let reply = match message {
                    // Every data frame counts, refused binary ones too, so a flood of either
                    // ends in 4008.
                    AggregatedMessage::Text(_) | AggregatedMessage::Binary(_)
                        if frames_limiter.check().is_err() => Some(rate_limited(None)),
                    AggregatedMessage::Text(text) => {
                        handle_text(&state, destination, &mut outbox, &session, &user, &text, &mut last_typing).await
                    }
                    AggregatedMessage::Binary(_) => Some(ServerFrame::error("unsupported_frame", "Binary frames are not supported; send JSON text frames")),
                    AggregatedMessage::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() { return; }
                        None
                    }
                    AggregatedMessage::Pong(_) => {
                        unanswered_pings = 0;
                        None
                    }
                    AggregatedMessage::Close(_) => break (1000, "bye"),
                };
                if let Some(reply) = reply {
                    if let ServerFrame::Error { code: "rate_limited", .. } = reply {
                        if abuse.refuse() {
                            break (close::RATE_LIMITED, "rate limit exceeded repeatedly");
                        }
                    }
                    if !send_frame(&mut session, &reply).await {
                        return;
                    }
                }
            }
            _ = heartbeat.tick() => {
                if unanswered_pings >= 2 {
                    break (close::TIMEOUT, "no pong: connection timed out");
                }
                unanswered_pings += 1;
                if session.ping(b"hearth").await.is_err() {
                    return;
                }
            }
        }
    };
    tracing::info!(user_id = %user.id, channel_id = %connection.channel, code = reason.0, "socket closed");
    close_with(session, reason.0, reason.1).await;
}

/// The close code and reason for a frame that breaks the protocol (RFC 6455 §7.4.1).
fn protocol_failure(error: &actix_ws::ProtocolError) -> (u16, &'static str) {
    use actix_web::error::PayloadError;
    use actix_ws::ProtocolError;
    match error {
        ProtocolError::Overflow => (close::TOO_LARGE, "frame too large"),
        // A header announcing too much, stopped by `frames::FrameLimit`.
        ProtocolError::Io(e)
            if e.get_ref()
                .and_then(|inner| inner.downcast_ref::<PayloadError>())
                .is_some_and(|inner| matches!(inner, PayloadError::Overflow)) =>
        {
            (close::TOO_LARGE, "frame too large")
        }
        // actix-http and actix-ws have no variants of their own for these three: they tell
        // them by message (reserved bits, an oversized fragmented message) or by kind (text
        // that is not UTF-8).
        ProtocolError::Io(e) if e.to_string() == "Received a frame with non-zero reserved bits" => {
            (close::PROTOCOL_ERROR, "protocol error")
        }
        ProtocolError::Io(e) if e.to_string() == "Exceeded maximum continuation size" => {
            (close::TOO_LARGE, "message too large")
        }
        ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            (close::INVALID_TEXT, "text frames must be UTF-8")
        }
        _ => (close::PROTOCOL_ERROR, "protocol error"),
    }
}

fn rate_limited(retry_after: Option<Duration>) -> ServerFrame {
    let retry_after_ms = retry_after.map_or(1000, |d| {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
    });
    ServerFrame::Error {
        code: "rate_limited",
        error: "Too many messages; slow down".to_owned(),
        retry_after: Some(retry_after_ms),
        nonce: None,
    }
}

/// A chat message accepted from the client, waiting to be stored.
struct Outgoing {
    content: String,
    nonce: Option<String>,
}

/// The socket's queue of messages to store, and the task that stores them one by one (started
/// with the first message).
struct Outbox {
    queue: Option<mpsc::Sender<Outgoing>>,
}

impl Outbox {
    /// Messages accepted but not stored yet; beyond this the socket is not read until the
    /// store catches up (rate limits normally keep a socket far below it).
    const CAPACITY: usize = 64;

    /// The queue, starting its task on first use.
    fn queue(
        &mut self,
        state: &web::Data<AppState>,
        user: &UserRef,
        to: Destination,
        session: &Session,
    ) -> &mpsc::Sender<Outgoing> {
        self.queue
            .get_or_insert_with(|| Self::spawn(state.clone(), user.clone(), to, session.clone()))
    }

    fn spawn(
        state: web::Data<AppState>,
        user: UserRef,
        to: Destination,
        mut session: Session,
    ) -> mpsc::Sender<Outgoing> {
        let (queue, mut pending) = mpsc::channel::<Outgoing>(Self::CAPACITY);
        // Ends once the socket's loop is gone and every accepted message was stored.
        actix_web::rt::spawn(async move {
            let mut batch = Vec::new();
            // Whatever queued up while the previous store ran goes in one round trip, in order:
            // a busy sender is then not held to one database round trip per message.
            while pending.recv_many(&mut batch, Self::CAPACITY).await > 0 {
                let messages: Vec<(&str, Option<&str>)> = batch
                    .iter()
                    .map(|m| (m.content.as_str(), m.nonce.as_deref()))
                    .collect();
                let outcomes = chat::send_messages(&state, &user, to, &messages).await;
                // A stored message reaches its socket through the hub, like everyone else's;
                // a refusal is told to this socket only.
                for (message, outcome) in batch.drain(..).zip(outcomes) {
                    if let Err(e) = outcome {
                        let _ = send_frame(&mut session, &chat_error(e).about(message.nonce)).await;
                    }
                }
            }
        });
        queue
    }
}

/// Handles one text frame; returns the frame to answer with, if any.
async fn handle_text(
    state: &web::Data<AppState>,
    to: Destination,
    outbox: &mut Outbox,
    session: &Session,
    user: &UserRef,
    text: &str,
    last_typing: &mut Option<Instant>,
) -> Option<ServerFrame> {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(e) => {
            let (code, error) = if e.is_data() {
                ("invalid_frame", format!("Unknown or malformed frame: {e}"))
            } else {
                ("invalid_frame", format!("Malformed JSON: {e}"))
            };
            return Some(ServerFrame::error(code, error));
        }
    };
    match frame {
        ClientFrame::Ping => Some(ServerFrame::Pong),
        ClientFrame::Typing => {
            if last_typing.is_none_or(|at| at.elapsed() >= TYPING_THROTTLE) {
                *last_typing = Some(Instant::now());
                state.hub.publish(Event::Typing {
                    channel_id: to.channel,
                    user: user.clone(),
                });
            }
            None
        }
        ClientFrame::Message { message, nonce } => {
            // A message ends a typing burst: the next keystroke is news again.
            *last_typing = None;
            if let Err(not_until) = state.message_limiter.check_key(&user.id) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Some(rate_limited(Some(wait)).about(nonce));
            }
            let outgoing = Outgoing {
                content: message,
                nonce,
            };
            // Waits only while the queue is full: then the socket is not read until the store
            // catches up, which is the back-pressure a sender should feel.
            match outbox.queue(state, user, to, session).send(outgoing).await {
                Ok(()) => None,
                Err(mpsc::error::SendError(outgoing)) => Some(
                    ServerFrame::error(
                        "unavailable",
                        "The message was not stored; try again shortly",
                    )
                    .about(outgoing.nonce),
                ),
            }
        }
    }
}

fn chat_error(error: ChatError) -> ServerFrame {
    match error {
        ChatError::InvalidMessage(reason) => ServerFrame::error("invalid_message", reason),
        // Sockets report every refused nonce as `invalid_message` (docs/websocket.md).
        error @ ChatError::NonceInUse => ServerFrame::error("invalid_message", error.to_string()),
        ChatError::NotMember => ServerFrame::error(
            "not_member",
            "Only members of this server can post; join it first",
        ),
        ChatError::NoSuchChannel | ChatError::NoSuchMessage => {
            ServerFrame::error("not_found", "This channel no longer exists")
        }
        ChatError::NotAllowed(reason) => ServerFrame::error("forbidden", reason),
        ChatError::Unavailable(cause) => {
            tracing::warn!(%cause, "message not stored");
            ServerFrame::error(
                "unavailable",
                "The message was not stored; try again shortly",
            )
        }
        ChatError::Internal(cause) => {
            tracing::error!(%cause, "message not stored");
            ServerFrame::error("internal_error", "The message was not stored")
        }
    }
}
