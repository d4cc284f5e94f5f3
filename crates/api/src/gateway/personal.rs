//! The personal socket (`/ws/me`): one per client session, for what is addressed to its user
//! (private messages, conversations they were added to), and for every channel and
//! conversation it subscribes to, each with a channel socket's guarantees (`seq` order, no gap,
//! no duplicate, `after` replay). A client follows all its servers and conversations with one
//! socket.
//!
//! All its subscriptions share one queue, so frames of different channels interleave as they
//! happen while each channel's stay in order; the socket tells their sequences apart by the
//! frame's channel.

use super::hub::{Arrival, Closer, Frame, Kicked, Kicks, Subscription, Watched, Watching, QUEUE};
use super::protocol::{close, PersonalClientFrame, ServerFrame, SubscribeTo};
use super::session::{
    self, close_with, protocol_failure, rate_limited, replay, send_frame, wait_from, Abuse,
    FORWARD_BATCH, FRAME_FACTOR, TYPING_THROTTLE,
};
use crate::startup::AppState;
use actix_web::web;
use actix_ws::{AggregatedMessage, Session};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hearth_domain::{ChannelId, Event, ServerId, UserRef};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// How many channels and conversations one personal socket may follow at once (and name in
/// one `subscribe` frame).
pub const MAX_SUBSCRIPTIONS: usize = 200;
/// Subscription attempts (each a database read or two) a socket may make at once, and then
/// per second: enough to follow 200 channels twice over on connect, not to scan ids.
const SUBSCRIBE_BURST: NonZeroU32 = match NonZeroU32::new(400) {
    Some(burst) => burst,
    None => NonZeroU32::MIN,
};
const SUBSCRIBE_PER_SEC: NonZeroU32 = match NonZeroU32::new(20) {
    Some(rate) => rate,
    None => NonZeroU32::MIN,
};

/// Events read from the user's log per round trip.
const LOG_BATCH: i64 = 200;

/// One followed channel.
struct Followed {
    subscription: Subscription,
    /// The last sequence number sent to the client.
    last_seq: i64,
}

/// The followed channels, by id: a sorted list sized to what was asked for (a map would keep
/// room for up to twice as many).
#[derive(Default)]
struct Follows(Vec<Followed>);

impl Follows {
    fn find(&self, channel: ChannelId) -> Result<usize, usize> {
        self.0
            .binary_search_by_key(&channel, |f| f.subscription.channel)
    }

    fn get(&self, channel: ChannelId) -> Option<&Followed> {
        self.find(channel).ok().map(|at| &self.0[at])
    }

    fn get_mut(&mut self, channel: ChannelId) -> Option<&mut Followed> {
        self.find(channel).ok().map(|at| &mut self.0[at])
    }

    fn contains(&self, channel: ChannelId) -> bool {
        self.find(channel).is_ok()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Room for `more` (exactly: subscriptions come in frames that say how many).
    fn reserve(&mut self, more: usize) {
        self.0.reserve_exact(more);
    }

    fn insert(&mut self, followed: Followed) {
        match self.find(followed.subscription.channel) {
            Ok(at) => self.0[at] = followed,
            Err(at) => self.0.insert(at, followed),
        }
    }

    /// Stops following `channel` (the subscription leaves the hub); whether it was followed.
    fn remove(&mut self, channel: ChannelId) -> bool {
        let found = self.find(channel).map(|at| self.0.remove(at)).is_ok();
        if self.0.len() <= self.0.capacity() / 2 {
            self.0.shrink_to_fit();
        }
        found
    }
}

/// What the socket's loop does next.
enum Flow {
    Continue,
    Close(u16, &'static str),
    Gone,
}

struct Personal {
    state: web::Data<AppState>,
    user: UserRef,
    /// The queue every subscription of this socket delivers to.
    tx: mpsc::Sender<Arc<Frame>>,
    followed: Follows,
    /// The last typing indicator sent, and where (one per socket is enough: a client types in
    /// one place at a time, and the frame limit bounds the rest).
    last_typing: Option<(ChannelId, Instant)>,
    /// Where the hub says which subscription it closed (every subscription's close goes there).
    kicks: Arc<Kicks>,
    frames: DefaultDirectRateLimiter,
    /// Subscription attempts.
    attempts: DefaultDirectRateLimiter,
    abuse: Abuse,
    /// The last number of the user's event log sent (shared with the hub, which wakes the
    /// socket when the log is ahead of it).
    cursor: Arc<AtomicI64>,
    /// A logged event was announced: read the log.
    wake: bool,
    /// The DM partners whose presence this socket reports.
    watching: Watching,
    /// Whom the user shares conversations with may have changed: read the partners again.
    refresh_partners: bool,
    /// Whether the partners were sent once (`user.presence.list` goes out the first time
    /// even when nobody is online).
    partners_sent: bool,
}

/// Runs a personal socket until either side closes it.
pub async fn run(
    state: web::Data<AppState>,
    mut session: Session,
    stream: actix_ws::MessageStream,
    user: UserRef,
    after: Option<i64>,
) {
    let mut stream = stream
        .max_frame_size(session::MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(session::MAX_FRAME);
    let (tx, mut queue) = mpsc::channel(QUEUE);
    let kicks = Arc::new(Kicks::default());
    // Never behind until it knows where it starts.
    let cursor = Arc::new(AtomicI64::new(i64::MAX));
    let mut registration = state.hub.register_user(user.id, tx.clone(), cursor.clone());
    // Boxed, as every part of the loop that waits for the database: the task keeps room for
    // the largest future it ever awaits, for as long as the socket lives.
    let Some(start) = Box::pin(start(&state, &mut session, &user, after)).await else {
        return;
    };
    cursor.store(start, Ordering::Relaxed);
    let settings = &state.settings;
    let frame_quota = Quota::per_second(settings.ws_rate_per_sec.saturating_mul(FRAME_FACTOR))
        .allow_burst(settings.ws_rate_burst.saturating_mul(FRAME_FACTOR));
    let mut heartbeat = tokio::time::interval(state.settings.ws_ping_interval);
    heartbeat.tick().await;
    let mut unanswered_pings = 0_u8;
    let watching = state.hub.watching(user.id);
    let mut me = Personal {
        state,
        user,
        tx,
        followed: Follows::default(),
        last_typing: None,
        kicks: kicks.clone(),
        frames: RateLimiter::direct(frame_quota),
        attempts: RateLimiter::direct(
            Quota::per_second(SUBSCRIBE_PER_SEC).allow_burst(SUBSCRIBE_BURST),
        ),
        abuse: Abuse::new(),
        cursor,
        // What the log holds after `after` is replayed first.
        wake: true,
        watching,
        refresh_partners: true,
        partners_sent: false,
    };

    let reason = loop {
        if std::mem::take(&mut me.wake) {
            match Box::pin(me.read_log(&mut session)).await {
                Flow::Continue => {}
                Flow::Gone => return,
                Flow::Close(code, reason) => break (code, reason),
            }
        }
        // After the log: a conversation.added comes before its partners' presence.
        if std::mem::take(&mut me.refresh_partners)
            && !Box::pin(me.load_partners(&mut session)).await
        {
            return;
        }
        tokio::select! {
            biased;
            code = &mut registration.kicked => {
                // Say why before closing (account.deleted), unless the queue is the problem.
                if code != Ok(close::TOO_SLOW) {
                    while let Ok(frame) = queue.try_recv() {
                        if me.forward(&mut session, &frame).await.is_none() {
                            return;
                        }
                    }
                }
                break code.map_or((close::GOING_AWAY, "closing"), |code| (code, match code {
                    close::TOO_SLOW => "too slow: reconnect and subscribe with after=<last seq>",
                    close::NOT_AUTHENTICATED => "signed out: the account was deleted",
                    _ => "closed by the server",
                }));
            }
            kick = kicks.next() => {
                match me.kicked(&mut session, kick).await {
                    Flow::Continue => {}
                    Flow::Gone => return,
                    Flow::Close(code, reason) => break (code, reason),
                }
            }
            frame = queue.recv() => {
                let Some(frame) = frame else { break (close::GOING_AWAY, "closing") };
                let mut written = 0;
                // The batch's oldest message, for the `write` stage.
                let oldest = frame.queued;
                let mut next = Some(frame);
                for _ in 0..FORWARD_BATCH {
                    let Some(frame) = next.take().or_else(|| queue.try_recv().ok()) else { break };
                    match me.forward(&mut session, &frame).await {
                        Some(true) => written += 1,
                        Some(false) => {}
                        None => return,
                    }
                }
                me.state.metrics.frames_delivered.increment(written);
                if let (Some(queued), true) = (oldest, written > 0) {
                    me.state.metrics.stages.write.record(queued.elapsed().as_secs_f64());
                }
            }
            message = stream.recv() => {
                let flow = match message {
                    None => return,
                    Some(Err(e)) => break protocol_failure(&e),
                    Some(Ok(AggregatedMessage::Text(text))) => me.text(&mut session, &text).await,
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        let refusal = ServerFrame::error(
                            "unsupported_frame",
                            "Binary frames are not supported; send JSON text frames",
                        );
                        me.limited(&mut session, refusal).await
                    }
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
    tracing::info!(user_id = %me.user.id, code = reason.0, "personal socket closed");
    close_with(session, reason.0, reason.1).await;
}

/// Follows the user's servers, opens their event log and says `ready` (and `resync` for a
/// cursor it cannot go on from): the cursor to go on from, `None` when the socket is done
/// (closed with 1011 when the database failed). Call it once the user is registered, so that
/// a join or an event while the list and the log's head are read is not missed (it is in
/// both).
async fn start(
    state: &AppState,
    session: &mut Session,
    user: &UserRef,
    after: Option<i64>,
) -> Option<i64> {
    let unavailable =
        |session: &Session| close_with(session.clone(), 1011, "temporarily unavailable; reconnect");
    match hearth_db::members::servers_of(&state.db, user.id).await {
        Ok(servers) => state.hub.follow_servers(user.id, &servers),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the user's servers");
            unavailable(session).await;
            return None;
        }
    }
    let head = match hearth_db::user_events::open(&state.db, user.id).await {
        Ok(head) => head,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the user's event log");
            unavailable(session).await;
            return None;
        }
    };
    let (start, resync) = match after {
        None => (head.seq, None),
        Some(after) if after < 0 || after > head.seq => (head.seq, Some("unknown_cursor")),
        Some(after) if after < head.pruned_through => (head.seq, Some("cursor_too_old")),
        Some(after) => (after, None),
    };
    tracing::info!(user_id = %user.id, cursor = start, "personal socket open");
    let ready = ServerFrame::Ready {
        user: user.clone(),
        max_subscriptions: MAX_SUBSCRIPTIONS,
        cursor: start,
    };
    if !send_frame(session, &ready).await {
        return None;
    }
    if let Some(reason) = resync {
        let frame = ServerFrame::Resync {
            reason,
            cursor: start,
        };
        if !send_frame(session, &frame).await {
            return None;
        }
    }
    Some(start)
}

impl Personal {
    /// Sends a frame from the queue unless it is of a channel no longer followed, or a message
    /// already sent; `None` when the connection is gone, else whether it was written.
    async fn forward(&mut self, session: &mut Session, frame: &Frame) -> Option<bool> {
        self.refresh_partners |= frame.partners;
        if frame.logged {
            self.wake = true;
            return Some(false);
        }
        if frame.text.is_empty() {
            // A signal for the socket (refresh_partners), not a frame for the client.
            return Some(false);
        }
        if let Some(channel) = frame.channel {
            let Some(followed) = self.followed.get_mut(channel) else {
                return Some(false);
            };
            if let Some(seq) = frame.seq {
                if seq <= followed.last_seq {
                    return Some(false);
                }
                followed.last_seq = seq;
            }
        }
        session.text(frame.text.clone()).await.ok().map(|()| true)
    }

    /// Sends what the user's event log holds after the socket's cursor, each event with its
    /// number as `cursor`. A log that does not go on from the cursor was pruned meanwhile:
    /// `resync`, and on from the log's end.
    async fn read_log(&mut self, session: &mut Session) -> Flow {
        let db = &self.state.db;
        let user = self.user.id;
        loop {
            let from = self.cursor.load(Ordering::Relaxed);
            let batch = match hearth_db::user_events::since(db, user, from, LOG_BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the user's event log");
                    return Flow::Close(1011, "temporarily unavailable; reconnect with after");
                }
            };
            if batch.first().is_some_and(|first| first.seq != from + 1) {
                let head = match hearth_db::user_events::head(db, user).await {
                    Ok(head) => head.seq,
                    Err(_) => return Flow::Close(1011, "temporarily unavailable; reconnect"),
                };
                self.cursor.store(head, Ordering::Relaxed);
                let frame = ServerFrame::Resync {
                    reason: "cursor_too_old",
                    cursor: head,
                };
                match self.reply(session, &frame).await {
                    Flow::Continue => continue,
                    other => return other,
                }
            }
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= LOG_BATCH;
            let sent = u64::try_from(batch.len()).unwrap_or(u64::MAX);
            for event in batch {
                if session
                    .text(with_cursor(&event.body, event.seq))
                    .await
                    .is_err()
                {
                    return Flow::Gone;
                }
                self.cursor.store(event.seq, Ordering::Relaxed);
            }
            self.state.metrics.frames_delivered.increment(sent);
            if !full {
                return Flow::Continue;
            }
        }
    }

    /// Reads the user's DM partners, watches their presence and sends those newly watched who
    /// are online (`user.presence.list`); `false` when the connection is gone. When they cannot
    /// be read, the partners stay as they were (the socket goes on without that news).
    async fn load_partners(&mut self, session: &mut Session) -> bool {
        let partners =
            match hearth_db::conversations::partners_of(&self.state.db, self.user.id).await {
                Ok(partners) => partners,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the user's conversation partners");
                    return true;
                }
            };
        let Watched { online, dropped } = self.watching.set(partners);
        for user in dropped {
            let offline = ServerFrame::UserPresence {
                user,
                online: false,
            };
            if !send_frame(session, &offline).await {
                return false;
            }
        }
        if online.is_empty() && self.partners_sent {
            return true;
        }
        self.partners_sent = true;
        send_frame(session, &ServerFrame::UserPresenceList { online }).await
    }

    /// One subscription was closed by the hub.
    async fn kicked(&mut self, session: &mut Session, kick: Kicked) -> Flow {
        let Kicked { channel, id, code } = kick;
        // Only the current subscription of the channel counts (one dropped here, unsubscribed,
        // may have been closed meanwhile).
        if self
            .followed
            .get(channel)
            .is_none_or(|f| f.subscription.id != id)
        {
            return Flow::Continue;
        }
        match code {
            // The queue is shared: if it is full, the whole socket is too slow.
            close::TOO_SLOW => Flow::Close(
                close::TOO_SLOW,
                "too slow: reconnect and subscribe with after=<last seq>",
            ),
            close::GOING_AWAY => Flow::Close(close::GOING_AWAY, "closing"),
            _ => {
                self.followed.remove(channel);
                self.reply(
                    session,
                    &ServerFrame::Unsubscribed {
                        channel_id: channel,
                        reason: "not_found",
                    },
                )
                .await
            }
        }
    }

    /// A text frame from the client.
    async fn text(&mut self, session: &mut Session, text: &str) -> Flow {
        if let Some(refused) = self.over_frame_limit(session).await {
            return refused;
        }
        match serde_json::from_str::<PersonalClientFrame>(text) {
            Ok(PersonalClientFrame::Ping) => self.reply(session, &ServerFrame::Pong).await,
            Ok(PersonalClientFrame::Subscribe { channels })
                if channels.len() > MAX_SUBSCRIPTIONS =>
            {
                let refusal = ServerFrame::error(
                    "invalid_frame",
                    format!("A subscribe frame names at most {MAX_SUBSCRIPTIONS} channels"),
                );
                self.reply(session, &refusal).await
            }
            Ok(PersonalClientFrame::Subscribe { channels }) => {
                Box::pin(self.subscribe_all(session, channels)).await
            }
            Ok(PersonalClientFrame::Unsubscribe { channels }) => {
                for channel in channels {
                    if self.followed.remove(channel) {
                        let done = ServerFrame::Unsubscribed {
                            channel_id: channel,
                            reason: "requested",
                        };
                        match self.reply(session, &done).await {
                            Flow::Continue => {}
                            other => return other,
                        }
                    }
                }
                Flow::Continue
            }
            Ok(PersonalClientFrame::Typing { channel_id }) => {
                let due = self.last_typing.is_none_or(|(channel, at)| {
                    channel != channel_id || at.elapsed() >= TYPING_THROTTLE
                });
                if due && self.followed.contains(channel_id) {
                    self.last_typing = Some((channel_id, Instant::now()));
                    self.state.hub.publish(Event::Typing {
                        channel_id,
                        user: self.user.clone(),
                    });
                }
                Flow::Continue
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

    /// A frame that is refused whatever it says, within the frame limit.
    async fn limited(&mut self, session: &mut Session, refusal: ServerFrame) -> Flow {
        if let Some(refused) = self.over_frame_limit(session).await {
            return refused;
        }
        self.reply(session, &refusal).await
    }

    /// Counts a frame against the socket's frame limit: `None` when it may be handled, else
    /// what became of the socket (told when to retry, or closed with 4008 for ignoring that).
    async fn over_frame_limit(&mut self, session: &mut Session) -> Option<Flow> {
        let not_until = self.frames.check().err()?;
        self.state.messages.frames_refused.increment(1);
        let retry_after = wait_from(&not_until);
        if self.abuse.refused(retry_after) {
            return Some(Flow::Close(
                close::RATE_LIMITED,
                "rate limit exceeded repeatedly",
            ));
        }
        Some(self.reply(session, &rate_limited(retry_after)).await)
    }

    /// Follows what a `subscribe` frame names, in its order; which of them the user may read
    /// is asked once for all.
    async fn subscribe_all(&mut self, session: &mut Session, targets: Vec<SubscribeTo>) -> Flow {
        let mut new: Vec<ChannelId> = targets
            .iter()
            .map(|target| target.id)
            .filter(|id| !self.followed.contains(*id))
            .collect();
        new.sort_unstable();
        new.dedup();
        self.followed.reserve(
            new.len()
                .min(MAX_SUBSCRIPTIONS.saturating_sub(self.followed.len())),
        );
        let readable = if new.is_empty() {
            Ok(HashMap::new())
        } else {
            hearth_db::conversations::readable_by(&self.state.db, self.user.id, &new)
                .await
                .map_err(|e| tracing::warn!(error = %e, "cannot check subscriptions"))
        };
        for target in targets {
            match self.subscribe(session, target, &readable).await {
                Flow::Continue => {}
                other => return other,
            }
        }
        Flow::Continue
    }

    /// Follows one channel or conversation the user may read (`readable`: those of the frame
    /// they may, with their server): replays after `after`, then says `subscribed`; anything
    /// else is `unsubscribed` with the reason.
    async fn subscribe(
        &mut self,
        session: &mut Session,
        target: SubscribeTo,
        readable: &Result<HashMap<ChannelId, Option<ServerId>>, ()>,
    ) -> Flow {
        let channel = target.id;
        if let Some(followed) = self.followed.get(channel) {
            // Already followed: nothing to replay, the client has it all.
            let again = ServerFrame::Subscribed {
                channel_id: channel,
                last_seq: followed.last_seq,
                // Nothing new: the client keeps the presence it has.
                online: Vec::new(),
                online_count: 0,
                online_complete: false,
            };
            return self.reply(session, &again).await;
        }
        let refused = |reason| ServerFrame::Unsubscribed {
            channel_id: channel,
            reason,
        };
        if self.followed.len() >= MAX_SUBSCRIPTIONS {
            return self
                .reply(session, &refused("too_many_subscriptions"))
                .await;
        }
        if self.attempts.check().is_err() {
            return self.reply(session, &refused("rate_limited")).await;
        }
        let server = match readable.as_ref().map(|readable| readable.get(&channel)) {
            Ok(Some(server)) => *server,
            Ok(None) => return self.reply(session, &refused("not_found")).await,
            Err(()) => return self.reply(session, &refused("unavailable")).await,
        };
        let closer = Closer::Shared {
            channel,
            to: self.kicks.clone(),
        };
        let subscribed = self
            .state
            .hub
            .subscribe_to(server, channel, self.user.clone(), self.tx.clone(), closer)
            .await;
        let Ok((subscription, arrival)) = subscribed else {
            return self.reply(session, &refused("unavailable")).await;
        };
        let Arrival {
            joined_at_seq,
            online,
            online_count,
            complete,
        } = arrival;
        let mut last_seq = joined_at_seq;
        if let Some(after) = target.after.filter(|after| *after >= 0) {
            match Box::pin(replay(&self.state, session, channel, after, last_seq)).await {
                Ok(sent) => last_seq = sent.max(after),
                Err(()) => return Flow::Close(1011, "replay failed; reconnect"),
            }
        }
        self.followed.insert(Followed {
            subscription,
            last_seq,
        });
        let done = ServerFrame::Subscribed {
            channel_id: channel,
            last_seq,
            online,
            online_count,
            online_complete: complete,
        };
        self.reply(session, &done).await
    }

    async fn reply(&self, session: &mut Session, frame: &ServerFrame) -> Flow {
        if send_frame(session, frame).await {
            Flow::Continue
        } else {
            Flow::Gone
        }
    }
}

/// A logged event's JSON with its number in the log as `cursor`.
fn with_cursor(body: &str, cursor: i64) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.insert("cursor".to_owned(), cursor.into());
            serde_json::Value::Object(fields).to_string()
        }
        // The log holds the objects the triggers and the chat code wrote.
        _ => {
            tracing::error!(cursor, "a logged event is not a JSON object");
            body.to_owned()
        }
    }
}
