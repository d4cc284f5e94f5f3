//! The WebSocket delivery scenarios (fan-out and chat): sockets on one channel, some of them
//! sending at a fixed rate; every socket must receive every message exactly once.
//!
//! Each delivery is matched to its message by nonce; a message never received by a socket is
//! lost, one received twice a duplicate, and the latency is from the moment the sender wrote the
//! frame to the moment the receiver read the delivery.

use super::{Broadcast, Target};
use crate::rawws::{self, Frame, Reader};
use crate::stats::{Latencies, Row, Tally};
use crate::ws::{self, Ledger};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// Handshakes in flight at once while sockets open.
const CONNECTING_AT_ONCE: usize = 64;

/// Counts readers that have everything (or died), and wakes whoever waits for all of them;
/// counts every frame received, to tell when the presence frames of the connections settled.
#[derive(Default)]
struct Finished {
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
struct Reception {
    unique: u64,
    duplicates: u64,
    /// Latency of each first delivery, in microseconds: a push per delivery is cheaper for the
    /// client than a histogram per socket (a thousand histograms do not fit in a cache).
    latencies: Vec<u32>,
    tally: Tally,
    last_delivery: Option<Instant>,
}

async fn receive(
    mut reader: Reader,
    ledger: Arc<Ledger>,
    mut stop: watch::Receiver<bool>,
    finished: Arc<Finished>,
) -> Reception {
    let mut seen = vec![0_u8; ledger.total()];
    let mut got = Reception::default();
    let mut complete = false;
    let total = ledger.total() as u64;
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
                    if seen[slot] == 0 {
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
    let opened: Vec<_> = futures_util::stream::iter(0..spec.sockets)
        .map(|i| {
            let token = fixture.users[i % fixture.users.len()].token.clone();
            let (ledger, stop, finished) = (ledger.clone(), stop.clone(), finished.clone());
            async move {
                let started = Instant::now();
                let socket = rawws::connect(addr, server, channel, &token).await;
                let took = started.elapsed();
                let socket = socket.map(|(reader, writer)| {
                    (
                        writer,
                        tokio::spawn(receive(reader, ledger, stop, finished)),
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
    let mut senders = JoinSet::new();
    let (sending, listening): (Vec<_>, Vec<_>) =
        sinks.into_iter().partition(|(i, _)| *i < spec.senders);
    for (i, sink) in sending {
        let ledger = ledger.clone();
        let offset = Duration::from_secs_f64(i as f64 / spec.rate / spec.senders.max(1) as f64);
        senders.spawn(async move {
            let mut tally = Tally::default();
            for n in 0..ledger.per_sender {
                let at = ws::scheduled(send_start + offset, n, spec.rate);
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
    let send_end = Instant::now();

    // Wait for every reader to have everything, or for the drain time to pass.
    let deadline = tokio::time::Instant::now() + drain;
    while finished.count.load(Ordering::Acquire) < open {
        if tokio::time::timeout_at(deadline, finished.notify.notified())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = stop_tx.send(true);
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

/// Waits `settle`, then until no frame arrived for a quarter of it (at most a minute).
async fn quiet(finished: &Finished, settle: Duration) {
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
