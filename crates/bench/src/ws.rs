//! The bookkeeping of the WebSocket scenarios: every delivery matched to the message sent, by
//! nonce. The client itself is [`crate::rawws`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The `nonce` of a `chat.message` frame, found without parsing the whole frame.
pub fn nonce_of(frame: &str) -> Option<&str> {
    const KEY: &str = r#""nonce":""#;
    let start = frame.find(KEY)? + KEY.len();
    let rest = frame.get(start..)?;
    rest.find('"').and_then(|end| rest.get(..end))
}

/// Whether a frame is an `error` frame (a refused message, a rate limit, ...).
pub fn is_error_frame(frame: &str) -> bool {
    frame.starts_with(r#"{"type":"error""#)
}

/// The messages of one scenario: `senders` senders each sending `per_sender` messages, with
/// nonces `<tag>.<sender>.<index>`, and when each was sent.
pub struct Ledger {
    tag: String,
    pub senders: usize,
    pub per_sender: usize,
    epoch: Instant,
    /// Microseconds after `epoch` + 1 when each message was sent; 0 while not sent.
    sent_at: Vec<AtomicU64>,
    /// The latency of each message's first delivery to any socket (µs): how long storing and
    /// publishing took, before the fan-out spreads it.
    first_delivery: Vec<AtomicU64>,
}

impl Ledger {
    pub fn new(tag: impl Into<String>, senders: usize, per_sender: usize) -> Self {
        Self {
            tag: tag.into(),
            senders,
            per_sender,
            epoch: Instant::now(),
            sent_at: (0..senders * per_sender)
                .map(|_| AtomicU64::new(0))
                .collect(),
            first_delivery: (0..senders * per_sender)
                .map(|_| AtomicU64::new(u64::MAX))
                .collect(),
        }
    }

    pub fn total(&self) -> usize {
        self.senders * self.per_sender
    }

    fn now_micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The frame for message `index` of `sender`, noting that it is being sent now.
    pub fn send_frame(&self, sender: usize, index: usize) -> String {
        if let Some(slot) = self.sent_at.get(sender * self.per_sender + index) {
            slot.store(self.now_micros() + 1, Ordering::Release);
        }
        format!(
            r#"{{"type":"message","message":"bench message {index} from sender {sender}","nonce":"{}.{sender}.{index}"}}"#,
            self.tag
        )
    }

    /// The slot of a delivered nonce and the delivery's latency; `None` for other nonces.
    pub fn delivered(&self, nonce: &str) -> Option<(usize, Option<u64>)> {
        let rest = nonce.strip_prefix(self.tag.as_str())?.strip_prefix('.')?;
        let (sender, index) = rest.split_once('.')?;
        let (sender, index): (usize, usize) = (sender.parse().ok()?, index.parse().ok()?);
        if sender >= self.senders || index >= self.per_sender {
            return None;
        }
        let slot = sender * self.per_sender + index;
        let sent = self.sent_at.get(slot)?.load(Ordering::Acquire);
        let latency = (sent > 0).then(|| self.now_micros().saturating_sub(sent - 1));
        if let (Some(latency), Some(first)) = (latency, self.first_delivery.get(slot)) {
            first.fetch_min(latency, Ordering::Relaxed);
        }
        Some((slot, latency))
    }

    /// The latencies of every message's first delivery (messages never delivered left out).
    pub fn first_deliveries(&self) -> impl Iterator<Item = u64> + '_ {
        self.first_delivery
            .iter()
            .map(|first| first.load(Ordering::Relaxed))
            .filter(|&micros| micros != u64::MAX)
    }
}

/// A short random tag, so that nonces never repeat between runs on one database.
pub fn random_tag(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// Rate limiter for the client's own loops: the instant of the `n`-th event at `per_second`.
pub fn scheduled(start: Instant, n: usize, per_second: f64) -> Instant {
    start + Duration::from_secs_f64(n as f64 / per_second.max(1e-9))
}
