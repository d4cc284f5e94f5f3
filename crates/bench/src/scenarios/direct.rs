//! Direct messages: pairs of users ping-ponging in their 1:1 conversations, each on the
//! conversation's socket. Every message must reach the other side once; the latency is from the
//! moment the sender wrote the frame to the moment the other side read it.

use super::{PingPong, Target};
use crate::client::{self, Frame, Reader, Writer};
use crate::stats::{Row, Tally};
use crate::ws;
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Handshakes in flight at once while sockets open.
const CONNECTING_AT_ONCE: usize = 64;
/// How long a message may take to arrive before it counts as lost.
const ARRIVAL: Duration = Duration::from_secs(10);

/// One side of a pair.
struct Side {
    reader: Reader,
    writer: Writer,
}

/// Reads `side` until the frame carrying `nonce` arrives: `Ok(true)` when it did, `Ok(false)`
/// when it did not in time.
async fn await_nonce(side: &mut Side, nonce: &str) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + ARRIVAL;
    loop {
        let frame = match tokio::time::timeout_at(deadline, side.reader.next()).await {
            Err(_) => return Ok(false),
            Ok(frame) => frame?,
        };
        match frame {
            Some(Frame::Text(text)) if ws::nonce_of(text) == Some(nonce) => return Ok(true),
            Some(Frame::Text(text)) if ws::is_error_frame(text) => {
                anyhow::bail!("error frame: {text}")
            }
            Some(Frame::Text(_) | Frame::Other) => {}
            Some(Frame::Close(code)) => anyhow::bail!("closed by the server: {code:?}"),
            None => anyhow::bail!("socket closed"),
        }
    }
}

/// Runs the ping-pong of `spec.pairs` pairs.
pub async fn run(target: &Target, name: &str, spec: PingPong) -> Row {
    let fixture = target.fixture.clone();
    let tag = ws::random_tag("dm");
    let addr = target.addr;
    let client = target.client;
    let pairs = spec.pairs.min(fixture.conversations.len());
    let mut tally = Tally::default();
    let opened: Vec<_> = futures_util::stream::iter(0..pairs * 2)
        .map(|i| {
            let conversation = fixture.conversations[i / 2];
            let token = fixture.users[i].token.clone();
            async move {
                let path = format!("/ws/dms/{conversation}");
                (i, client::connect_path(client, addr, &path, &token).await)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let mut sides: Vec<Option<Side>> = (0..pairs * 2).map(|_| None).collect();
    for (i, socket) in opened {
        match socket {
            Ok((reader, writer)) => sides[i] = Some(Side { reader, writer }),
            Err(e) => tally.error(format!("socket {i} did not open: {e:#}")),
        }
    }
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = JoinSet::new();
    let mut sides = sides.into_iter();
    for pair in 0..pairs {
        let (Some(Some(mut a)), Some(Some(mut b))) = (sides.next(), sides.next()) else {
            continue;
        };
        let tag = tag.clone();
        // Pairs start staggered over one interval, so the load is even.
        let offset = spec.interval.mul_f64(pair as f64 / pairs.max(1) as f64);
        tasks.spawn(async move {
            let mut tally = Tally::default();
            'exchanges: for n in 0..spec.exchanges {
                let at = start + offset + spec.interval * u32::try_from(n).unwrap_or(u32::MAX);
                tokio::time::sleep_until(at.into()).await;
                for direction in 0..2 {
                    let (from, to) = if direction == 0 {
                        (&mut a, &mut b)
                    } else {
                        (&mut b, &mut a)
                    };
                    let nonce = format!("{tag}-{pair}-{n}-{direction}");
                    let frame = serde_json::json!({
                        "type": "message", "message": "ping", "nonce": nonce,
                    })
                    .to_string();
                    let sent = Instant::now();
                    if let Err(e) = from.writer.text(&frame).await {
                        tally.error(format!("pair {pair} send failed: {e:#}"));
                        break 'exchanges;
                    }
                    match await_nonce(to, &nonce).await {
                        Ok(true) => {
                            tally.latencies.record(sent.elapsed());
                            tally.ok += 1;
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tally.error(format!("pair {pair}: {e:#}"));
                            break 'exchanges;
                        }
                    }
                }
            }
            tally
        });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(pair) => tally.merge(pair),
            Err(e) => tally.error(format!("pair task failed: {e}")),
        }
    }
    let window = start.elapsed().max(Duration::from_millis(1));
    let expected = (pairs * spec.exchanges * 2) as u64;
    let received = tally.ok;
    let mut row = Row::from_tally(name, "messages/s", tally, window);
    row.lost = Some(expected.saturating_sub(received));
    row.duplicates = Some(0);
    row.notes.push(format!(
        "{pairs} pairs, each on its conversation's socket, {} exchanges (a message each way) \
         every {:.1} s: {:.0} messages/s offered",
        spec.exchanges,
        spec.interval.as_secs_f64(),
        (pairs * 2) as f64 / spec.interval.as_secs_f64().max(1e-9)
    ));
    row
}
