//! Presence at scale: `sockets` users (the fixture's crowd, each on one socket) connecting to
//! one channel within `within`, the frames the server sent them meanwhile, by type, and the
//! server's CPU time. Telling every arrival to everyone would be N²/2 frames; the target is a
//! few per socket.

use super::{secs, Target};
use crate::client::{self, Frame, Reader};
use crate::process;
use crate::stats::{Latencies, Row, Tally};
use crate::ws;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The crowd scenario's size.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Crowd {
    pub sockets: usize,
    #[serde(with = "secs")]
    pub within: Duration,
}

/// Handshakes in flight at most (the schedule paces them; this bounds a slow server's backlog).
const CONNECTING_AT_ONCE: usize = 512;
/// After the last socket opened, how long the frames it caused may take to arrive: two of the
/// server's 2 s presence ticks.
const SETTLE: Duration = Duration::from_secs(5);

/// The frames one socket received, by type (its first, `presence.list`, included).
#[derive(Default)]
struct Received {
    by_type: BTreeMap<String, u64>,
    bytes: u64,
    tally: Tally,
}

fn frame_type(text: &str) -> &str {
    text.strip_prefix(r#"{"type":""#)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("?")
}

/// Reads a socket until told to stop, counting what arrives.
async fn listen(mut socket: Reader, mut stop: watch::Receiver<bool>) -> Received {
    let mut got = Received::default();
    *got.by_type.entry("presence.list".to_owned()).or_default() += 1;
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = socket.next() => match frame {
                Ok(Some(Frame::Text(text))) => {
                    if ws::is_error_frame(text) {
                        got.tally.error(format!("error frame: {text}"));
                    }
                    got.bytes += text.len() as u64;
                    *got.by_type.entry(frame_type(text).to_owned()).or_default() += 1;
                }
                Ok(Some(Frame::Close(code))) => {
                    got.tally.error(format!("closed by the server: {code:?}"));
                    break;
                }
                Ok(Some(Frame::Other)) => {}
                Ok(None) => {
                    got.tally.error("closed");
                    break;
                }
                Err(e) => {
                    got.tally.error(format!("socket failed: {e:#}"));
                    break;
                }
            },
        }
    }
    got
}

/// Connects the crowd to the lobby's channel on schedule, lets the presence frames settle, and
/// reports frames per socket and the server's CPU time (with `server_pid`).
pub async fn run(target: &Target, name: &str, spec: Crowd, server_pid: Option<u32>) -> Row {
    let fixture = &target.fixture;
    let sockets = spec.sockets.min(fixture.crowd.len());
    let (server, channel) = (fixture.lobby.id, fixture.lobby.channels[0]);
    let cpu = || server_pid.and_then(|pid| process::cpu_seconds(pid).ok());
    let cpu_before = cpu();
    let (stop_tx, stop) = watch::channel(false);
    let per_second = sockets as f64 / spec.within.as_secs_f64().max(1e-3);
    let started = Instant::now();
    let opened: Vec<_> = futures_util::stream::iter(0..sockets)
        .map(|i| {
            let token = fixture.crowd[i].token.clone();
            let stop = stop.clone();
            async move {
                tokio::time::sleep_until(ws::scheduled(started, i, per_second).into()).await;
                let began = Instant::now();
                let socket =
                    client::connect(target.client, target.addr, server, channel, &token).await;
                let took = began.elapsed();
                (
                    i,
                    socket.map(|(reader, _)| tokio::spawn(listen(reader, stop))),
                    took,
                )
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let connect_phase = started.elapsed();
    let mut total = Tally::default();
    let mut handshakes = Latencies::new();
    let mut listeners = Vec::new();
    for (i, listener, took) in opened {
        match listener {
            Ok(listener) => {
                handshakes.record(took);
                listeners.push(listener);
            }
            Err(e) => total.error(format!("socket {i} did not open: {e:#}")),
        }
    }
    tokio::time::sleep(SETTLE).await;
    let cpu_after = cpu();
    let open = listeners.iter().filter(|l| !l.is_finished()).count();
    let _ = stop_tx.send(true);
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut bytes = 0;
    for listener in listeners {
        match listener.await {
            Ok(got) => {
                for (kind, n) in got.by_type {
                    *by_type.entry(kind).or_default() += n;
                }
                bytes += got.bytes;
                total.merge(got.tally);
            }
            Err(e) => total.error(format!("listener failed: {e}")),
        }
    }
    total.ok = open as u64;
    total.latencies = handshakes;
    let frames: u64 = by_type.values().sum();
    let presence: u64 = by_type
        .iter()
        .filter(|(kind, _)| kind.starts_with("presence."))
        .map(|(_, n)| n)
        .sum();
    let opened = open.max(1) as f64;
    let mut row = Row::from_tally(name, "sockets/s", total, connect_phase);
    row.figures
        .insert("frames_per_socket".to_owned(), frames as f64 / opened);
    row.figures
        .insert("presence_frames".to_owned(), presence as f64);
    row.figures
        .insert("kib_per_socket".to_owned(), bytes as f64 / 1024.0 / opened);
    row.notes.push(format!(
        "{sockets} users connecting to one channel within {:.1} s (took {:.1} s); {frames} frames \
         in all ({by_type:?}), {:.1} KiB; latency = handshake until presence.list",
        spec.within.as_secs_f64(),
        connect_phase.as_secs_f64(),
        bytes as f64 / 1024.0,
    ));
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let seconds = after - before;
        row.figures.insert("server_cpu_s".to_owned(), seconds);
        row.figures.insert(
            "server_cpu_ms_per_socket".to_owned(),
            seconds * 1000.0 / opened,
        );
        row.notes.push(format!(
            "server CPU {seconds:.2} s over the connects and {:.0} s after them",
            SETTLE.as_secs_f64()
        ));
    }
    row
}

#[cfg(test)]
mod tests {
    use super::frame_type;

    #[test]
    fn frame_types_are_read_off_the_start_of_a_frame() {
        assert_eq!(
            frame_type(r#"{"type":"presence.count","count":3}"#),
            "presence.count"
        );
        assert_eq!(frame_type(r#"{"new_message":{}}"#), "?");
    }
}
