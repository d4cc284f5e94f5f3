//! Idle sockets: many authenticated sockets held open, and what they cost the server in
//! resident memory.
//!
//! Socket `i` belongs to user `i mod users` and opens channel `i mod channels` (every seeded
//! channel, the lobby's included), so users have several channels open, as in a real client, and
//! each channel has many online users. In the personal variant, socket `i` is a personal socket
//! of user `i mod users` subscribed to [`SUBSCRIPTIONS`] channels starting at `i mod channels`.

use super::Target;
use crate::client::{self, Frame, Reader};
use crate::process;
use crate::stats::{Latencies, Row, Tally};
use crate::ws;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const CONNECTING_AT_ONCE: usize = 128;
/// Channels each idle personal socket follows.
pub const SUBSCRIPTIONS: usize = 10;
/// Sockets opened and closed before measuring, so one-off allocations (pool connections, thread
/// buffers) do not count against the sockets.
const WARMUP_SOCKETS: usize = 64;

/// Holds a socket open, reading (and so answering pings) until told to stop; counts the
/// `subscribed` frames of a personal socket in `subscribed`, and `error` frames (a refused
/// message, when the socket sends) as errors.
pub(crate) async fn hold(
    mut socket: Reader,
    mut stop: watch::Receiver<bool>,
    subscribed: Arc<AtomicUsize>,
) -> Tally {
    let mut tally = Tally::default();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = socket.next() => match frame {
                Ok(Some(Frame::Close(code))) => {
                    tally.error(format!("idle socket closed by the server: {code:?}"));
                    break;
                }
                Ok(Some(Frame::Text(text))) if text.starts_with(r#"{"type":"subscribed""#) => {
                    subscribed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(Frame::Text(text))) if text.starts_with(r#"{"type":"unsubscribed""#) => {
                    tally.error(format!("a subscription was refused: {text}"));
                }
                Ok(Some(Frame::Text(text))) if ws::is_error_frame(text) => {
                    tally.error(format!("error frame: {text}"));
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    tally.error(format!("idle socket failed: {e:#}"));
                    break;
                }
                Ok(None) => {
                    tally.error("idle socket closed");
                    break;
                }
            },
        }
    }
    tally
}

/// The (server, channel) pairs of every seeded channel.
fn channels(target: &Target) -> Vec<(i64, i64)> {
    let fixture = &target.fixture;
    std::iter::once(&fixture.lobby)
        .chain(fixture.servers.iter())
        .flat_map(|server| server.channels.iter().map(move |&c| (server.id, c)))
        .collect()
}

/// Opens the sockets numbered `range`; each is held (read) from the moment it is open, so pings
/// are answered while the others connect.
async fn open_all(
    target: &Target,
    range: std::ops::Range<usize>,
    stop: &watch::Receiver<bool>,
    personal: bool,
    subscribed: &Arc<AtomicUsize>,
) -> (Vec<JoinHandle<Tally>>, Latencies, Tally) {
    let (fixture, addr) = (&target.fixture, target.addr);
    let client = target.client;
    let channels = channels(target);
    let opened: Vec<_> = futures_util::stream::iter(range)
        .map(|i| {
            let token = fixture.users[i % fixture.users.len()].token.clone();
            let (server, channel) = channels[i % channels.len()];
            let follows: Vec<serde_json::Value> = (0..SUBSCRIPTIONS)
                .map(|k| serde_json::json!({"id": channels[(i + k) % channels.len()].1}))
                .collect();
            let (stop, subscribed) = (stop.clone(), subscribed.clone());
            async move {
                let started = Instant::now();
                let socket = if personal {
                    match client::connect_path(client, addr, "/ws/me", &token).await {
                        Ok((reader, writer)) => {
                            let frame =
                                serde_json::json!({"type": "subscribe", "channels": follows});
                            writer
                                .text(&frame.to_string())
                                .await
                                .map(|()| (reader, writer))
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    client::connect(client, addr, server, channel, &token).await
                };
                let took = started.elapsed();
                // The reader keeps what it needs of the writer to answer pings.
                let holder = socket.map(|(reader, _)| tokio::spawn(hold(reader, stop, subscribed)));
                (i, holder, took)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let mut handshakes = Latencies::new();
    let mut failures = Tally::default();
    let mut holders = Vec::new();
    for (i, holder, took) in opened {
        match holder {
            Ok(holder) => {
                handshakes.record(took);
                holders.push(holder);
            }
            Err(e) => failures.error(format!("idle socket {i} did not open: {e:#}")),
        }
    }
    (holders, handshakes, failures)
}

async fn close_all(stop: watch::Sender<bool>, holders: Vec<JoinHandle<Tally>>) -> Tally {
    let _ = stop.send(true);
    let mut total = Tally::default();
    for holder in holders {
        match holder.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(format!("idle task failed: {e}")),
        }
    }
    total
}

/// Opens `sockets` sockets and holds them for `settle`; with `server_pid`, measures the
/// server's resident memory before (after a warm-up) and with all sockets open.
pub async fn run(
    target: &Target,
    name: &str,
    sockets: usize,
    settle: Duration,
    server_pid: Option<u32>,
) -> Row {
    let personal = name == "idle_personal";
    let rss = |pid: Option<u32>| pid.and_then(|pid| process::rss_bytes(pid).ok());
    let subscribed = Arc::new(AtomicUsize::new(0));
    if server_pid.is_some() {
        let (stop_tx, stop) = watch::channel(false);
        let warmup = 0..WARMUP_SOCKETS.min(sockets);
        let (warm, _, _) = open_all(target, warmup, &stop, personal, &subscribed).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        close_all(stop_tx, warm).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let before = rss(server_pid);

    let subscribed = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop) = watch::channel(false);
    let started = Instant::now();
    let (holders, handshakes, failures) =
        open_all(target, 0..sockets, &stop, personal, &subscribed).await;
    let connect_phase = started.elapsed();
    if personal {
        // Every subscription answered (or a minute passed) before memory is read.
        let expected = holders.len() * SUBSCRIPTIONS;
        let deadline = Instant::now() + Duration::from_secs(60);
        while subscribed.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(settle).await;
    let after = rss(server_pid);
    let open = holders.iter().filter(|h| !h.is_finished()).count();
    let mut total = close_all(stop_tx, holders).await;
    total.merge(failures);
    total.ok = open as u64;
    total.latencies = handshakes;

    let mut row = Row::from_tally(name, "sockets/s", total, connect_phase);
    if personal {
        row.notes.push(format!(
            "{sockets} personal sockets, {SUBSCRIPTIONS} subscriptions each over {} channels \
             ({} subscribed); latency = handshake until ready",
            channels(target).len(),
            subscribed.load(Ordering::Relaxed)
        ));
    } else {
        row.notes.push(format!(
            "{sockets} sockets over {} channels; latency = handshake until presence.list",
            channels(target).len()
        ));
    }
    if let (Some(before), Some(after)) = (before, after) {
        let per_socket = after.saturating_sub(before) as f64 / open.max(1) as f64 / 1024.0;
        row.rss_per_socket_kib = Some(per_socket);
        row.notes.push(format!(
            "server VmRSS {:.1} MiB before, {:.1} MiB with {open} open: {per_socket:.2} KiB per socket",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
        ));
    }
    row
}
