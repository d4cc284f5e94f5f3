//! One socket: replay, live frames out, client frames in, heartbeats, limits.

use super::hub::{Arrival, Frame, Joined, FILL_BATCH};
use super::protocol::{close, ClientFrame, ServerFrame};
use super::Dialect;
use crate::chat::{self, ChatError, Destination};
use crate::startup::AppState;
use actix_web::web;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, NotUntil, Quota, RateLimiter};
use hearth_domain::{ChannelId, ChatMessage, Event, MessageId, ServerId, UserRef};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Largest frame accepted (a 2,000-character message is at most 8 KiB of UTF-8).
pub const MAX_FRAME: usize = 64 * 1024;
/// At most one typing relay per user and socket in this interval.
pub(super) const TYPING_THROTTLE: Duration = Duration::from_secs(3);
/// Premature sends (frames refused before the `retry_after` the client was given had passed)
/// within [`ABUSE_WINDOW`] after which the socket is closed with 4008.
const ABUSE_LIMIT: u32 = 20;
const ABUSE_WINDOW: Duration = Duration::from_secs(10);
/// How much more often than chat messages a socket may send frames of any kind.
pub(super) const FRAME_FACTOR: NonZeroU32 = match NonZeroU32::new(4) {
    Some(factor) => factor,
    None => NonZeroU32::MIN,
};

/// Queued frames forwarded per turn of a socket's loop before it looks at its other inputs.
pub(super) const FORWARD_BATCH: usize = 64;

/// What became of a frame from the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forwarded {
    Written,
    /// Already sent (by the replay), or not for this socket's dialect.
    Skipped,
    /// The socket is gone.
    Gone,
}

/// Sends a frame from the hub unless its sequence number was already sent (by the replay), or
/// the socket speaks the reference's dialect and the frame is not a new message.
async fn forward(
    session: &mut Session,
    frame: Arc<Frame>,
    last_seq: &mut i64,
    dialect: Dialect,
) -> Forwarded {
    match frame.seq {
        Some(seq) if seq <= *last_seq => return Forwarded::Skipped,
        Some(seq) => *last_seq = seq,
        None if dialect == Dialect::Reference => return Forwarded::Skipped,
        None => {}
    }
    match session.text(frame.text.clone()).await {
        Ok(()) => Forwarded::Written,
        Err(_) => Forwarded::Gone,
    }
}

/// Who connected where, as established by the handshake.
pub struct Connection {
    pub user: UserRef,
    /// `None` for a conversation.
    pub server: Option<ServerId>,
    pub channel: ChannelId,
    /// Replay messages after this sequence number before going live.
    pub after: Option<i64>,
    /// Which frames the client receives.
    pub dialect: Dialect,
}

/// Tells a client that ignores the rate limit from one that waits as told: only a frame refused
/// before the `retry_after` of the previous refusal had passed counts against the socket, so a
/// client that waits as told is never closed, however long it keeps sending.
pub(super) struct Abuse {
    /// When the client was told it could send again.
    not_before: Option<Instant>,
    since: Instant,
    count: u32,
}

impl Abuse {
    pub(super) fn new() -> Self {
        Self {
            not_before: None,
            since: Instant::now(),
            count: 0,
        }
    }

    /// Records a refusal that told the client to wait `retry_after`; returns whether the socket
    /// has crossed the line.
    pub(super) fn refused(&mut self, retry_after: Duration) -> bool {
        let now = Instant::now();
        let premature = self.not_before.is_some_and(|allowed| now < allowed);
        self.not_before = Some(now + retry_after);
        premature && self.strike(now)
    }

    /// Counts one frame sent in disregard of the limit; returns whether the socket has crossed
    /// the line.
    fn strike(&mut self, now: Instant) -> bool {
        if now.duration_since(self.since) > ABUSE_WINDOW {
            self.since = now;
            self.count = 0;
        }
        self.count += 1;
        self.count > ABUSE_LIMIT
    }
}

pub(super) async fn send_frame(session: &mut Session, frame: &ServerFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(json) => session.text(json).await.is_ok(),
        Err(_) => true,
    }
}

pub(super) async fn close_with(session: Session, code: u16, reason: &str) {
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
pub(super) async fn replay(
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
            state.metrics.frames_delivered.increment(1);
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
    let dialect = connection.dialect;
    let Joined {
        // Held (not used) for the socket's lifetime: dropped, it leaves the channel.
        subscription: _subscription,
        arrival,
        mut frames,
        mut kicked,
    } = match state
        .hub
        .subscribe(connection.server, connection.channel, user.clone())
        .await
    {
        Ok(subscribed) => subscribed,
        Err(e) => {
            tracing::warn!(error = %e, "cannot join the channel");
            close_with(session, 1011, "temporarily unavailable").await;
            return;
        }
    };
    tracing::info!(user_id = %user.id, channel_id = %connection.channel, ?dialect, "socket open");

    // Sent once; not kept for the socket's lifetime (an idle socket should cost little).
    let Arrival {
        joined_at_seq,
        online,
        online_count,
        complete,
    } = arrival;
    let presence = ServerFrame::PresenceList {
        channel_id: connection.channel,
        users: online,
        count: online_count,
        complete,
    };
    if dialect == Dialect::Full && !send_frame(&mut session, &presence).await {
        return;
    }
    let mut last_seq = joined_at_seq;
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

    let mut heartbeat = tokio::time::interval(state.settings.ws_ping_interval);
    heartbeat.tick().await;
    let mut unanswered_pings = 0_u8;
    // Checked at the handshake; every message reuses it instead of looking the channel up.
    let destination = Destination {
        server: connection.server,
        channel: connection.channel,
    };
    let mut inbox = Inbox::new(state, user, destination, dialect);

    let reason = loop {
        // A close from the hub first, then deliveries (at most a batch per turn), then what the
        // client sends: reading it never waits for the database (the outbox stores), so a
        // sender's own messages are not held up behind a busy channel for long.
        tokio::select! {
            biased;
            code = &mut kicked => {
                // Say why before closing (server.deleted, ...), unless the queue is the problem.
                if code != Ok(close::TOO_SLOW) {
                    while let Ok(frame) = frames.try_recv() {
                        if forward(&mut session, frame, &mut last_seq, dialect).await == Forwarded::Gone {
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
            frame = frames.recv() => {
                let Some(frame) = frame else { break (close::GOING_AWAY, "closing") };
                let mut written = 0;
                // The batch's oldest message, for the `write` stage.
                let oldest = frame.queued;
                let mut next = Some(frame);
                // Frames queued meanwhile go out now, without another turn of the select: under
                // load the connection then writes them in one go instead of one by one.
                for _ in 0..FORWARD_BATCH {
                    let Some(frame) = next.take().or_else(|| frames.try_recv().ok()) else { break };
                    match forward(&mut session, frame, &mut last_seq, dialect).await {
                        Forwarded::Written => written += 1,
                        Forwarded::Skipped => {}
                        Forwarded::Gone => return,
                    }
                }
                // One add per batch, not per frame.
                inbox.state.metrics.frames_delivered.increment(written);
                if let (Some(queued), true) = (oldest, written > 0) {
                    inbox.state.metrics.stages.write.record(queued.elapsed().as_secs_f64());
                }
            }
            message = stream.recv() => {
                let flow = match message {
                    None => return,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket protocol error");
                        break protocol_failure(&e);
                    }
                    Some(Ok(AggregatedMessage::Text(text))) => inbox.text(&mut session, &text).await,
                    Some(Ok(AggregatedMessage::Binary(_))) => inbox.binary(&mut session).await,
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() { return; }
                        Flow::Continue
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {
                        unanswered_pings = 0;
                        Flow::Continue
                    }
                    Some(Ok(AggregatedMessage::Close(_))) => break (1000, "bye"),
                };
                match flow {
                    Flow::Continue => {}
                    Flow::Gone => return,
                    Flow::Close(code, reason) => break (code, reason),
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
    tracing::info!(user_id = %inbox.user.id, channel_id = %destination.channel, code = reason.0, "socket closed");
    close_with(session, reason.0, reason.1).await;
}

/// The close code and reason for a frame that breaks the protocol (RFC 6455 §7.4.1).
pub(super) fn protocol_failure(error: &actix_ws::ProtocolError) -> (u16, &'static str) {
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

pub(super) fn rate_limited(retry_after: Duration) -> ServerFrame {
    ServerFrame::Error {
        code: "rate_limited",
        error: "Too many messages; slow down".to_owned(),
        retry_after: Some(crate::limits::millis_ceil(retry_after)),
        nonce: None,
    }
}

/// What a socket's loop does after a frame from its client.
enum Flow {
    Continue,
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
    /// The connection is gone.
    Gone,
}

/// What a socket does with the frames its client sends: limits, typing, and the outbox that
/// stores its messages.
struct Inbox {
    state: web::Data<AppState>,
    user: UserRef,
    to: Destination,
    dialect: Dialect,
    /// Frames of any kind (pings, typing, garbage) get a looser limit than chat messages.
    frames: DefaultDirectRateLimiter,
    abuse: Abuse,
    last_typing: Option<Instant>,
    outbox: Outbox,
}

impl Inbox {
    fn new(state: web::Data<AppState>, user: UserRef, to: Destination, dialect: Dialect) -> Self {
        let settings = &state.settings;
        let frame_quota = Quota::per_second(settings.ws_rate_per_sec.saturating_mul(FRAME_FACTOR))
            .allow_burst(settings.ws_rate_burst.saturating_mul(FRAME_FACTOR));
        Self {
            frames: RateLimiter::direct(frame_quota),
            abuse: Abuse::new(),
            last_typing: None,
            outbox: Outbox::new(dialect),
            state,
            user,
            to,
            dialect,
        }
    }

    /// A text frame: a client frame, or garbage.
    async fn text(&mut self, session: &mut Session, text: &str) -> Flow {
        let parsed = serde_json::from_str::<ClientFrame>(text);
        // Every data frame counts against the frame limit, refused ones too, so a flood of
        // anything ends in 4008. Messages to hold (the reference's dialect) have their own bound.
        let held =
            self.dialect == Dialect::Reference && matches!(parsed, Ok(ClientFrame::Message { .. }));
        if !held {
            if let Err(not_until) = self.frames.check() {
                self.state.messages.frames_refused.increment(1);
                let nonce = match parsed {
                    Ok(ClientFrame::Message { nonce, .. }) => nonce,
                    _ => None,
                };
                return self.refuse(session, wait_from(&not_until), nonce).await;
            }
        }
        match parsed {
            Ok(ClientFrame::Ping) => self.reply(session, &ServerFrame::Pong).await,
            Ok(ClientFrame::Typing) => {
                if self
                    .last_typing
                    .is_none_or(|at| at.elapsed() >= TYPING_THROTTLE)
                {
                    self.last_typing = Some(Instant::now());
                    self.state.hub.publish(Event::Typing {
                        channel_id: self.to.channel,
                        user: self.user.clone(),
                    });
                }
                Flow::Continue
            }
            Ok(ClientFrame::Message {
                message,
                nonce,
                reply_to,
            }) => {
                // A message ends a typing burst: the next keystroke is news again.
                self.last_typing = None;
                self.message(
                    session,
                    Outgoing {
                        content: message,
                        nonce,
                        reply_to: reply_to.map(MessageId),
                        received: Instant::now(),
                    },
                )
                .await
            }
            Err(e) => {
                let error = if e.is_data() {
                    format!("Unknown or malformed frame: {e}")
                } else {
                    format!("Malformed JSON: {e}")
                };
                self.reply(session, &ServerFrame::error("invalid_frame", error))
                    .await
            }
        }
    }

    async fn binary(&mut self, session: &mut Session) -> Flow {
        if let Err(not_until) = self.frames.check() {
            self.state.messages.frames_refused.increment(1);
            return self.refuse(session, wait_from(&not_until), None).await;
        }
        let refusal = ServerFrame::error(
            "unsupported_frame",
            "Binary frames are not supported; send JSON text frames",
        );
        self.reply(session, &refusal).await
    }

    async fn message(&mut self, session: &mut Session, outgoing: Outgoing) -> Flow {
        if self.dialect == Dialect::Reference {
            // Held, not refused: the outbox stores it once the rate limit allows, in order.
            return match self
                .outbox
                .hold(&self.state, &self.user, self.to, session, outgoing)
            {
                Ok(()) => Flow::Continue,
                Err(Held::TooMany) => Flow::Close(
                    close::RATE_LIMITED,
                    "rate limit exceeded: too many messages waiting",
                ),
                Err(Held::Closed) => {
                    tracing::warn!(user_id = %self.user.id, "a message was not stored: the store task is gone");
                    Flow::Continue
                }
            };
        }
        if let Err(wait) = self.state.messages.take(self.user.id) {
            return self.refuse(session, wait, outgoing.nonce).await;
        }
        // Waits only while the queue is full: then the socket is not read until the store
        // catches up, which is the back-pressure a sender should feel.
        let sent = self
            .outbox
            .send(&self.state, &self.user, self.to, session, outgoing)
            .await;
        match sent {
            Ok(()) => Flow::Continue,
            Err(outgoing) => {
                let refusal = ServerFrame::error(
                    "unavailable",
                    "The message was not stored; try again shortly",
                )
                .about(outgoing.nonce);
                self.reply(session, &refusal).await
            }
        }
    }

    /// A frame over a rate limit: the client is told when to send again (the reference's
    /// dialect tells nothing); only a client that does not wait as told is closed.
    async fn refuse(
        &mut self,
        session: &mut Session,
        retry_after: Duration,
        nonce: Option<String>,
    ) -> Flow {
        let crossed = match self.dialect {
            Dialect::Full => self.abuse.refused(retry_after),
            // Nobody was told to wait: every refusal counts.
            Dialect::Reference => self.abuse.strike(Instant::now()),
        };
        if crossed {
            return Flow::Close(close::RATE_LIMITED, "rate limit exceeded repeatedly");
        }
        self.reply(session, &rate_limited(retry_after).about(nonce))
            .await
    }

    /// Answers the client, in the full protocol only; the reference's dialect answers nothing
    /// (its clients render every frame as a message), so the refusal is only logged.
    async fn reply(&self, session: &mut Session, frame: &ServerFrame) -> Flow {
        if self.dialect == Dialect::Reference {
            log_unsent(&self.user, frame);
            return Flow::Continue;
        }
        if send_frame(session, frame).await {
            Flow::Continue
        } else {
            Flow::Gone
        }
    }
}

pub(super) fn wait_from(not_until: &NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

/// Says in the log what a socket of the reference's dialect was not told.
fn log_unsent(user: &UserRef, frame: &ServerFrame) {
    if let ServerFrame::Error { code, error, .. } = frame {
        tracing::info!(user_id = %user.id, code, error, "refused (not told: reference dialect)");
    }
}

/// A chat message accepted from the client, waiting to be stored.
struct Outgoing {
    content: String,
    nonce: Option<String>,
    /// The message of the channel it answers.
    reply_to: Option<MessageId>,
    /// When it was read from the socket (for the `wait` stage).
    received: Instant,
}

/// Why a message could not be held.
enum Held {
    /// [`Outbox::CAPACITY`] messages are waiting already.
    TooMany,
    /// The store task is gone.
    Closed,
}

/// The socket's queue of messages to store, and the task that stores them in order (started
/// with the first message).
struct Outbox {
    queue: Option<mpsc::Sender<Outgoing>>,
    dialect: Dialect,
    /// Messages queued and not stored yet.
    waiting: Arc<AtomicUsize>,
}

impl Outbox {
    /// Messages accepted but not stored yet; beyond this the socket is not read until the
    /// store catches up (rate limits normally keep a socket far below it). On the reference's
    /// dialect, where messages over the rate limit wait here, one more closes the socket (4008).
    const CAPACITY: usize = 64;

    fn new(dialect: Dialect) -> Self {
        Self {
            queue: None,
            dialect,
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The queue, starting its task on first use.
    fn queue(
        &mut self,
        state: &web::Data<AppState>,
        user: &UserRef,
        to: Destination,
        session: &Session,
    ) -> &mpsc::Sender<Outgoing> {
        self.queue.get_or_insert_with(|| {
            Self::spawn(
                state.clone(),
                user.clone(),
                to,
                session.clone(),
                self.dialect,
                self.waiting.clone(),
            )
        })
    }

    /// Queues a message that waits here until the rate limit allows it (never refused for
    /// the rate, and never stored out of order).
    fn hold(
        &mut self,
        state: &web::Data<AppState>,
        user: &UserRef,
        to: Destination,
        session: &Session,
        outgoing: Outgoing,
    ) -> Result<(), Held> {
        // Counted before it is queued, so the store task never counts it off first.
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= Self::CAPACITY {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Held::TooMany);
        }
        let queued = self.queue(state, user, to, session).try_send(outgoing);
        if queued.is_err() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
        }
        queued.map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Held::TooMany,
            mpsc::error::TrySendError::Closed(_) => Held::Closed,
        })
    }

    /// Queues a message, waiting while the queue is full; gives it back when the store task
    /// is gone.
    async fn send(
        &mut self,
        state: &web::Data<AppState>,
        user: &UserRef,
        to: Destination,
        session: &Session,
        outgoing: Outgoing,
    ) -> Result<(), Outgoing> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let sent = self.queue(state, user, to, session).send(outgoing).await;
        sent.map_err(|mpsc::error::SendError(outgoing)| {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            outgoing
        })
    }

    fn spawn(
        state: web::Data<AppState>,
        user: UserRef,
        to: Destination,
        mut session: Session,
        dialect: Dialect,
        waiting: Arc<AtomicUsize>,
    ) -> mpsc::Sender<Outgoing> {
        let (queue, mut pending) = mpsc::channel::<Outgoing>(Self::CAPACITY);
        let store = Store {
            state,
            user,
            to,
            dialect,
            waiting,
        };
        // Ends once the socket's loop is gone and every accepted message was stored.
        actix_web::rt::spawn(async move {
            let mut batch = Vec::new();
            // Whatever queued up while the previous store ran goes in one round trip, in order:
            // a busy sender is then not held to one database round trip per message.
            while pending.recv_many(&mut batch, Self::CAPACITY).await > 0 {
                if dialect == Dialect::Reference {
                    // Each held message waits for its turn under the user's rate limit; those
                    // whose turn has come are stored together.
                    let mut ready = 0;
                    while ready < batch.len() {
                        match store.state.messages.take_held(store.user.id) {
                            Ok(()) => ready += 1,
                            Err(wait) => {
                                store.store(&mut session, batch.drain(..ready)).await;
                                ready = 0;
                                tokio::time::sleep(wait).await;
                            }
                        }
                    }
                }
                store.store(&mut session, batch.drain(..)).await;
            }
        });
        queue
    }
}

/// What the outbox's task needs to store a socket's messages.
struct Store {
    state: web::Data<AppState>,
    user: UserRef,
    to: Destination,
    dialect: Dialect,
    waiting: Arc<AtomicUsize>,
}

impl Store {
    /// Stores `messages` in one round trip; a refusal is told to this socket only (a stored
    /// message reaches its socket through the hub, like everyone else's).
    async fn store(
        &self,
        session: &mut Session,
        messages: impl ExactSizeIterator<Item = Outgoing>,
    ) {
        let count = messages.len();
        if count == 0 {
            return;
        }
        let mut batch: Vec<Outgoing> = messages.collect();
        // In the order sent: the channel's messages between two `/pm`s go together, each
        // `/pm` on its own (it goes to another conversation).
        while !batch.is_empty() {
            let run = batch
                .iter()
                .position(|m| chat::private_message_command(&m.content).is_some())
                .unwrap_or(batch.len());
            if run == 0 {
                let private = batch.remove(0);
                self.private(session, private).await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                continue;
            }
            let rest = batch.split_off(run);
            self.channel_messages(session, std::mem::replace(&mut batch, rest))
                .await;
        }
    }

    async fn channel_messages(&self, session: &mut Session, batch: Vec<Outgoing>) {
        let count = batch.len();
        // The oldest of the batch waited longest.
        if let Some(first) = batch.first() {
            let waited = first.received.elapsed();
            self.state.metrics.stages.wait.record(waited.as_secs_f64());
        }
        let drafts: Vec<chat::Post<'_>> = batch
            .iter()
            .map(|m| chat::Post {
                content: m.content.as_str(),
                nonce: m.nonce.as_deref(),
                reply_to: m.reply_to,
            })
            .collect();
        let outcomes = chat::send_messages(&self.state, &self.user, self.to, &drafts).await;
        self.waiting.fetch_sub(count, Ordering::AcqRel);
        for (message, outcome) in batch.into_iter().zip(outcomes) {
            if let Err(e) = outcome {
                self.tell(session, &chat_error(e).about(message.nonce))
                    .await;
            }
        }
    }

    /// A `/pm <username> <text>`: stored in the 1:1 conversation with that user, never in
    /// this channel; the sender hears `private_message_delivered` (or why not).
    async fn private(&self, session: &mut Session, outgoing: Outgoing) {
        let Some((target, text)) = chat::private_message_command(&outgoing.content) else {
            return;
        };
        let sent = chat::send_private_message(
            &self.state,
            &self.user,
            target,
            text,
            outgoing.nonce.as_deref(),
        )
        .await;
        let frame = match sent {
            Ok((delivered, _)) => ServerFrame::PrivateMessageDelivered {
                target: delivered.target,
                message: delivered.message.content,
                nonce: outgoing.nonce,
            },
            Err(e) => chat_error(e).about(outgoing.nonce),
        };
        self.tell(session, &frame).await;
    }

    /// Tells this socket's client, in the full protocol only (the reference's dialect is told
    /// nothing; the server logs what it was not told).
    async fn tell(&self, session: &mut Session, frame: &ServerFrame) {
        match self.dialect {
            Dialect::Full => {
                let _ = send_frame(session, frame).await;
            }
            Dialect::Reference => log_unsent(&self.user, frame),
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
        error @ ChatError::Blocked => ServerFrame::error("blocked", error.to_string()),
        error @ ChatError::InvalidReply => ServerFrame::error("invalid_reply", error.to_string()),
        // Pins are REST only; a socket never meets this.
        error @ ChatError::TooManyPins => ServerFrame::error("too_many_pins", error.to_string()),
        error @ ChatError::TooManyReactions => {
            ServerFrame::error("too_many_reactions", error.to_string())
        }
        error @ ChatError::UnknownUser => ServerFrame::error("unknown_user", error.to_string()),
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
