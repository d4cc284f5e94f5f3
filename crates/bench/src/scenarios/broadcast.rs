//! The WebSocket delivery scenarios (fan-out and chat): sockets on one channel, some of them
//! sending at a fixed rate; every socket must receive every message exactly once.
//!
//! Each delivery is matched to its message by nonce; a message never received by a socket is
//! lost, one received twice a duplicate, and the latency is from the moment the sender wrote the
//! frame to the moment the receiver read the delivery.

use super::{Broadcast, Target};
use crate::client::{self, Frame, Reader, Writer};
use crate::stats::{Latencies, Row, Tally};
use crate::ws::{self, Ledger};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

/// Handshakes in flight at once while sockets open.
const CONNECTING_AT_ONCE: usize = 64;

/// Counts readers that have everything (or died), and wakes whoever waits for all of them;
/// counts every frame received, to tell when the presence frames of the connections settled.
#[derive(Default)]
pub(crate) struct Finished {
    count: AtomicUsize,
    notify: Notify,
    frames: AtomicU64,
}

impl Finished {
    fn one(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_one();
    }
}

/// What one socket received.
#[derive(Default)]
pub(crate) struct Reception {
    unique: u64,
    duplicates: u64,
    /// Latency of each first delivery, in microseconds: a push per delivery is cheaper for the
    /// client than a histogram per socket (a thousand histograms do not fit in a cache).
    latencies: Vec<u32>,
    tally: Tally,
    last_delivery: Option<Instant>,
}

/// Which senders' messages a socket must receive: every sender's (a socket on the channel they
/// send to), or only some (a personal socket following some of the senders' channels).
#[derive(Clone)]
pub(crate) enum Wanted {
    All,
    /// `senders[s]`: whether sender `s`'s messages are wanted.
    Only(Arc<[bool]>),
}

impl Wanted {
    fn wants(&self, sender: usize) -> bool {
        match self {
            Self::All => true,
            Self::Only(senders) => senders.get(sender).copied().unwrap_or(false),
        }
    }

    /// How many deliveries a socket wanting these senders expects from `ledger`.
    pub(crate) fn expected(&self, ledger: &Ledger) -> u64 {
        let senders = match self {
            Self::All => ledger.senders,
            Self::Only(senders) => senders.iter().filter(|&&w| w).count(),
        };
        (senders * ledger.per_sender) as u64
    }
}

/// Reads `reader` until told to stop, matching deliveries to `ledger`; a delivery of a sender
/// not `wanted` is an error.
pub(crate) async fn receive(
    mut reader: Reader,
    ledger: Arc<Ledger>,
    wanted: Wanted,
    mut stop: watch::Receiver<bool>,
    finished: Arc<Finished>,
) -> Reception {
    let mut seen = vec![0_u8; ledger.total()];
    let mut got = Reception::default();
    let total = wanted.expected(&ledger);
    let mut complete = total == 0;
    if complete {
        finished.one();
    }
    loop {
        let frame = tokio::select! {
            biased;
            frame = reader.next() => frame,
            _ = stop.changed() => break,
        };
        finished.frames.fetch_add(1, Ordering::Relaxed);
        match frame {
            Ok(Some(Frame::Text(text))) => {
                if let Some((slot, latency)) = ws::nonce_of(text).and_then(|n| ledger.delivered(n))
                {
                    if !wanted.wants(slot / ledger.per_sender.max(1)) {
                        got.tally
                            .error(format!("a delivery not subscribed to: {text}"));
                    } else if seen[slot] == 0 {
                        got.unique += 1;
                        got.last_delivery = Some(Instant::now());
                        if let Some(micros) = latency {
                            got.latencies
                                .push(u32::try_from(micros).unwrap_or(u32::MAX));
                        }
                    } else {
                        got.duplicates += 1;
                    }
                    seen[slot] = seen[slot].saturating_add(1);
                    // Keep reading until told to stop: a duplicate may still come.
                    if got.unique == total && !complete {
                        complete = true;
                        finished.one();
                    }
                } else if ws::is_error_frame(text) {
                    got.tally.error(format!("error frame: {text}"));
                }
            }
            Ok(Some(Frame::Close(code))) => {
                got.tally.error(format!("closed by the server: {code:?}"));
                break;
            }
            Ok(Some(Frame::Other)) => {}
            Err(e) => {
                got.tally.error(format!("socket failed: {e:#}"));
                break;
            }
            Ok(None) => {
                got.tally.error("socket closed");
                break;
            }
        }
    }
    if !complete {
        finished.one();
    }
    got
}

/// Runs one broadcast on `channel` of `server` (every sender must be a member of it).
pub async fn run(
    target: &Target,
    name: &str,
    spec: Broadcast,
    (server, channel): (i64, i64),
    settle: Duration,
    drain: Duration,
) -> Row {
    let fixture = target.fixture.clone();
    let ledger = Arc::new(Ledger::new(
        ws::random_tag(&name[..name.len().min(8)]),
        spec.senders,
        spec.messages,
    ));
    let (stop_tx, stop) = watch::channel(false);
    let finished = Arc::new(Finished::default());
    let mut connect_errors = Tally::default();
    let mut handshakes = Latencies::new();

    // Open every socket; each reader starts as soon as its socket is open, so presence frames
    // and pings are handled while the others connect.
    let addr = target.addr;
    let client = target.client;
    let opened: Vec<_> = futures_util::stream::iter(0..spec.sockets)
        .map(|i| {
            let token = fixture.users[i % fixture.users.len()].token.clone();
            let (ledger, stop, finished) = (ledger.clone(), stop.clone(), finished.clone());
            async move {
                let started = Instant::now();
                let socket = client::connect(client, addr, server, channel, &token).await;
                let took = started.elapsed();
                let socket = socket.map(|(reader, writer)| {
                    (
                        writer,
                        tokio::spawn(receive(reader, ledger, Wanted::All, stop, finished)),
                    )
                });
                (i, socket, took)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let mut sinks = Vec::new();
    let mut readers = Vec::new();
    for (i, socket, took) in opened {
        match socket {
            Ok((sink, reader)) => {
                handshakes.record(took);
                readers.push(reader);
                sinks.push((i, sink));
            }
            Err(e) => connect_errors.error(format!("socket {i} did not open: {e:#}")),
        }
    }
    let open = readers.len();
    // Every socket that opens is announced to those already there (presence.join): n sockets
    // cause about n²/2 frames. Send only once they have all arrived.
    let settled = Instant::now();
    quiet(&finished, settle).await;
    let settled = settled.elapsed();

    // Senders: socket s sends for sender s, the senders staggered evenly over one interval.
    let send_start = Instant::now();
    let (sending, listening): (Vec<_>, Vec<_>) =
        sinks.into_iter().partition(|(i, _)| *i < spec.senders);
    let (send_errors, kept) = send_all(&ledger, sending, spec.rate, send_start).await;
    let send_end = Instant::now();

    wait_for(&finished, open, drain).await;
    let _ = stop_tx.send(true);
    let Gathered {
        mut total,
        unique,
        duplicates,
        last_delivery,
    } = gather(readers).await;
    drop(kept);
    drop(listening);
    total.merge(connect_errors);
    total.merge(send_errors);
    total.ok = unique;

    let expected = (ledger.total() * spec.sockets) as u64;
    let window = last_delivery.map_or(Duration::ZERO, |last| {
        last.saturating_duration_since(send_start)
    });
    let mut row = Row::from_tally(name, "deliveries/s", total, window);
    row.lost = Some(expected.saturating_sub(unique));
    row.duplicates = Some(duplicates);
    let mut first = Latencies::new();
    for micros in ledger.first_deliveries() {
        first.record_micros(micros);
    }
    row.notes.push(format!(
        "first delivery of each message (store + publish): p50 {:.2} ms, p99 {:.2} ms",
        first.quantile_ms(0.5),
        first.quantile_ms(0.99)
    ));
    let sent_rate =
        ledger.total() as f64 / send_end.duration_since(send_start).as_secs_f64().max(1e-9);
    row.notes.push(format!(
        "{} sockets ({} open), {} sender(s) × {} messages at {}/s each; sent {:.0} msg/s; \
         handshake p99 {:.1} ms; presence frames settled in {:.1} s",
        spec.sockets,
        open,
        spec.senders,
        spec.messages,
        spec.rate,
        sent_rate,
        handshakes.quantile_ms(0.99),
        settled.as_secs_f64(),
    ));
    row
}

/// Sends every message of `ledger`: `sinks[k] = (s, writer)` sends sender `s`'s, at `rate` per
/// second from `start` on, the senders staggered evenly over one interval. Returns the send
/// errors and the writers (dropping one closes its socket).
pub(crate) async fn send_all(
    ledger: &Arc<Ledger>,
    sinks: Vec<(usize, Writer)>,
    rate: f64,
    start: Instant,
) -> (Tally, Vec<Writer>) {
    let mut senders = JoinSet::new();
    let count = ledger.senders.max(1) as f64;
    for (i, sink) in sinks {
        let ledger = ledger.clone();
        let offset = Duration::from_secs_f64(i as f64 / rate / count);
        senders.spawn(async move {
            let mut tally = Tally::default();
            for n in 0..ledger.per_sender {
                let at = ws::scheduled(start + offset, n, rate);
                tokio::time::sleep_until(at.into()).await;
                let frame = ledger.send_frame(i, n);
                if let Err(e) = sink.text(&frame).await {
                    tally.error(format!("sender {i} failed: {e:#}"));
                    break;
                }
            }
            (tally, sink)
        });
    }
    let mut send_errors = Tally::default();
    let mut kept = Vec::new();
    while let Some(done) = senders.join_next().await {
        match done {
            Ok((tally, sink)) => {
                send_errors.merge(tally);
                kept.push(sink);
            }
            Err(e) => send_errors.error(format!("sender task failed: {e}")),
        }
    }
    (send_errors, kept)
}

/// Waits for all `open` readers to have everything, or for `drain` to pass.
pub(crate) async fn wait_for(finished: &Finished, open: usize, drain: Duration) {
    let deadline = tokio::time::Instant::now() + drain;
    while finished.count.load(Ordering::Acquire) < open {
        if tokio::time::timeout_at(deadline, finished.notify.notified())
            .await
            .is_err()
        {
            break;
        }
    }
}

/// What all the readers of a scenario received.
pub(crate) struct Gathered {
    /// Errors, and the latency of every first delivery.
    pub total: Tally,
    pub unique: u64,
    pub duplicates: u64,
    pub last_delivery: Option<Instant>,
}

/// Collects what every reader received (they must have been told to stop).
pub(crate) async fn gather(readers: Vec<JoinHandle<Reception>>) -> Gathered {
    let mut total = Tally::default();
    let (mut unique, mut duplicates, mut last_delivery) = (0_u64, 0_u64, None::<Instant>);
    for reader in readers {
        match reader.await {
            Ok(got) => {
                unique += got.unique;
                duplicates += got.duplicates;
                last_delivery = last_delivery.max(got.last_delivery);
                for micros in got.latencies {
                    total.latencies.record_micros(u64::from(micros));
                }
                total.merge(got.tally);
            }
            Err(e) => total.error(format!("reader task failed: {e}")),
        }
    }
    Gathered {
        total,
        unique,
        duplicates,
        last_delivery,
    }
}

/// Waits `settle`, then until no frame arrived for a quarter of it (at most a minute).
pub(crate) async fn quiet(finished: &Finished, settle: Duration) {
    tokio::time::sleep(settle).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = finished.frames.load(Ordering::Relaxed);
    while Instant::now() < deadline {
        tokio::time::sleep(settle / 4).await;
        let now = finished.frames.load(Ordering::Relaxed);
        if now == seen {
            break;
        }
        seen = now;
    }
}

/// Fan-out and chat run on the lobby's channel, where every user is a member.
pub fn lobby(target: &Target) -> (i64, i64) {
    let lobby = &target.fixture.lobby;
    (
        lobby.id,
        lobby.channels.first().copied().unwrap_or_default(),
    )
}
