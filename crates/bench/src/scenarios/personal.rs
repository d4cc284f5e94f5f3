//! Personal fan-out: many users, each on one personal socket (`/ws/me`) following several
//! channels, and one sender per channel at a steady rate; every follower must receive every
//! message of the channels it follows exactly once.
//!
//! Channel `c` is the `c`-th channel of the seeded servers (the lobby left out); its sender is the
//! owner of its server, on the channel's own socket (sending needs membership, following does
//! not: anyone may read a server's channel). Receiver `u` is user `u`, following channels
//! `(u + k) mod channels` for `k < follows`, so every channel has `users · follows / channels`
//! followers (100 at full size) and the follower sets overlap without repeating. Deliveries are
//! matched to messages by nonce as in [`super::broadcast`], whose reader, senders and
//! bookkeeping this reuses; a message not delivered within [`ARRIVAL`] of being sent is lost.

use super::broadcast::{self, Finished, Gathered, Reception, Wanted};
use super::idle;
use super::{PersonalFanout, Target};
use crate::client::{self, Frame, Reader, Writer};
use crate::stats::{Latencies, Row, Tally};
use crate::ws::{self, Ledger};
use anyhow::{bail, ensure, Context};
use futures_util::StreamExt;
use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Handshakes (and subscriptions) in flight at once while sockets open.
const CONNECTING_AT_ONCE: usize = 64;
/// How long a message may take to arrive before it counts as lost.
const ARRIVAL: Duration = Duration::from_secs(10);
/// How long a personal socket may take to have every subscription answered.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(15);

/// A channel that gets messages, and who sends them.
#[derive(Debug, Clone, Copy)]
struct Feed {
    server: i64,
    channel: i64,
    /// The sender's index in the fixture's users: the server's owner.
    sender: usize,
}

/// The first `count` channels of the seeded servers (not the lobby's), each with its owner.
fn feeds(target: &Target, count: usize) -> anyhow::Result<Vec<Feed>> {
    let feeds: Vec<Feed> = target
        .fixture
        .servers
        .iter()
        .enumerate()
        .flat_map(|(owner, server)| {
            server.channels.iter().map(move |&channel| Feed {
                server: server.id,
                channel,
                sender: owner,
            })
        })
        .take(count)
        .collect();
    ensure!(
        feeds.len() == count,
        "personal_fanout wants {count} channels; the data set has {}",
        feeds.len()
    );
    Ok(feeds)
}

/// The channels (indexes into the feeds) that receiver `user` follows.
fn follows(user: usize, spec: PersonalFanout) -> impl Iterator<Item = usize> {
    (0..spec.follows).map(move |k| (user + k) % spec.channels.max(1))
}

/// Sends one `subscribe` frame for `channels` and reads until each is `subscribed`; an
/// `unsubscribed` answer (a refusal) or an `error` frame fails it.
async fn subscribe(reader: &mut Reader, writer: &Writer, channels: &[i64]) -> anyhow::Result<()> {
    let ids: Vec<serde_json::Value> = channels
        .iter()
        .map(|id| serde_json::json!({ "id": id }))
        .collect();
    let frame = serde_json::json!({"type": "subscribe", "channels": ids});
    writer.text(&frame.to_string()).await?;
    let mut pending: HashSet<i64> = channels.iter().copied().collect();
    let answered = async {
        while !pending.is_empty() {
            match reader.next().await? {
                Some(Frame::Text(text)) if text.starts_with(r#"{"type":"subscribed""#) => {
                    let answer: serde_json::Value =
                        serde_json::from_str(text).context("a subscribed frame is not JSON")?;
                    let id = answer["channel_id"]
                        .as_i64()
                        .context("a subscribed frame without its channel_id")?;
                    pending.remove(&id);
                }
                Some(Frame::Text(text)) if text.starts_with(r#"{"type":"unsubscribed""#) => {
                    bail!("a subscription was refused: {text}")
                }
                Some(Frame::Text(text)) if ws::is_error_frame(text) => {
                    bail!("error frame: {text}")
                }
                Some(Frame::Text(_) | Frame::Other) => {}
                Some(Frame::Close(code)) => bail!("closed by the server: {code:?}"),
                None => bail!("socket closed"),
            }
        }
        Ok(())
    };
    tokio::time::timeout(SUBSCRIBE_TIMEOUT, answered)
        .await
        .context("subscriptions not answered in time")?
}

/// Opens receiver `user`'s personal socket and subscribes it to the channels it follows.
async fn open_receiver(
    target: &Target,
    user: usize,
    spec: PersonalFanout,
    feeds: &[Feed],
) -> anyhow::Result<Reader> {
    let token = &target.fixture.users[user].token;
    let (mut reader, writer) =
        client::connect_path(target.client, target.addr, "/ws/me", token).await?;
    let channels: Vec<i64> = follows(user, spec).map(|c| feeds[c].channel).collect();
    subscribe(&mut reader, &writer, &channels).await?;
    // The reader keeps what it needs of the writer to answer pings.
    Ok(reader)
}

/// Opens and subscribes every receiver; each is read (by [`broadcast::receive`]) from the
/// moment its subscriptions are answered, so presence frames and pings are handled while the
/// others connect. Also returns how long each took (connect + subscribe) and the failures.
async fn open_receivers(
    target: &Target,
    spec: PersonalFanout,
    feeds: &[Feed],
    ledger: &Arc<Ledger>,
    stop: &watch::Receiver<bool>,
    finished: &Arc<Finished>,
) -> (Vec<JoinHandle<Reception>>, Latencies, Tally) {
    let opened: Vec<_> = futures_util::stream::iter(0..spec.users)
        .map(|user| {
            let mut wanted = vec![false; feeds.len()];
            for c in follows(user, spec) {
                wanted[c] = true;
            }
            let wanted = Wanted::Only(wanted.into());
            let (ledger, stop, finished) = (ledger.clone(), stop.clone(), finished.clone());
            async move {
                let started = Instant::now();
                let socket = open_receiver(target, user, spec, feeds).await;
                let took = started.elapsed();
                let reader = socket.map(|reader| {
                    tokio::spawn(broadcast::receive(reader, ledger, wanted, stop, finished))
                });
                (user, reader, took)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let mut took = Latencies::new();
    let mut failures = Tally::default();
    let mut readers = Vec::new();
    for (user, reader, elapsed) in opened {
        match reader {
            Ok(reader) => {
                took.record(elapsed);
                readers.push(reader);
            }
            Err(e) => failures.error(format!("receiver {user} did not subscribe: {e:#}")),
        }
    }
    (readers, took, failures)
}

/// Opens every channel's sender socket; what they receive is read (and discarded) by
/// [`idle::hold`] until `stop`. Returns the writers as `(channel index, writer)`.
async fn open_senders(
    target: &Target,
    feeds: &[Feed],
    stop: &watch::Receiver<bool>,
) -> (Vec<(usize, Writer)>, Vec<JoinHandle<Tally>>, Tally) {
    let (fixture, addr) = (&target.fixture, target.addr);
    let client = target.client;
    let unused = Arc::new(AtomicUsize::new(0));
    let opened: Vec<_> = futures_util::stream::iter(feeds.iter().copied().enumerate())
        .map(|(c, feed)| {
            let token = fixture.users[feed.sender].token.clone();
            async move {
                let socket = client::connect(client, addr, feed.server, feed.channel, &token).await;
                (c, socket)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    let (mut sinks, mut holders, mut failures) = (Vec::new(), Vec::new(), Tally::default());
    for (c, socket) in opened {
        match socket {
            Ok((reader, writer)) => {
                holders.push(tokio::spawn(idle::hold(
                    reader,
                    stop.clone(),
                    unused.clone(),
                )));
                sinks.push((c, writer));
            }
            Err(e) => failures.error(format!("sender {c} did not open: {e:#}")),
        }
    }
    (sinks, holders, failures)
}

/// What the senders' sockets saw (errors only), once they were told to stop.
async fn sender_errors(holders: Vec<JoinHandle<Tally>>) -> Tally {
    let mut total = Tally::default();
    for holder in holders {
        match holder.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(format!("sender socket task failed: {e}")),
        }
    }
    total
}

/// Checks that the data set holds `spec`'s users and channels, and that the spread is even.
fn check(target: &Target, spec: PersonalFanout) -> anyhow::Result<Vec<Feed>> {
    ensure!(
        spec.users <= target.fixture.users.len(),
        "personal_fanout wants {} users; the data set has {}",
        spec.users,
        target.fixture.users.len()
    );
    ensure!(
        (1..=spec.channels).contains(&spec.follows),
        "each user must follow between 1 and {} channels",
        spec.channels
    );
    ensure!(
        spec.rate > 0.0,
        "personal_fanout needs a positive message rate"
    );
    feeds(target, spec.channels)
}

/// Runs the personal fan-out of `spec`: opens and subscribes the receivers, opens the senders,
/// lets presence frames settle, sends, and waits (at most `drain` after the last message) for
/// every delivery.
pub async fn run(
    target: &Target,
    name: &str,
    spec: PersonalFanout,
    settle: Duration,
    drain: Duration,
) -> anyhow::Result<Row> {
    let feeds = check(target, spec)?;
    let ledger = Arc::new(Ledger::new(
        ws::random_tag("pf"),
        feeds.len(),
        spec.messages,
    ));
    let (stop_tx, stop) = watch::channel(false);
    let finished = Arc::new(Finished::default());

    let opening = Instant::now();
    let (readers, subscribing, receive_failures) =
        open_receivers(target, spec, &feeds, &ledger, &stop, &finished).await;
    let (sinks, holders, sender_failures) = open_senders(target, &feeds, &stop).await;
    let opening = opening.elapsed();
    let open = readers.len();
    let settled = Instant::now();
    broadcast::quiet(&finished, settle).await;
    let settled = settled.elapsed();

    let send_start = Instant::now();
    let (send_failures, kept) = broadcast::send_all(&ledger, sinks, spec.rate, send_start).await;
    let send_end = Instant::now();
    broadcast::wait_for(&finished, open, drain).await;
    let _ = stop_tx.send(true);
    let Gathered {
        mut total,
        unique,
        duplicates,
        last_delivery,
    } = broadcast::gather(readers).await;
    total.merge(sender_errors(holders).await);
    drop(kept);
    total.merge(receive_failures);
    total.merge(sender_failures);
    total.merge(send_failures);

    // Late deliveries count as lost; their latencies stay in the histogram.
    let late = total.latencies.count_above(ARRIVAL);
    let delivered = unique.saturating_sub(late);
    total.ok = delivered;
    let expected = (spec.users * spec.follows * spec.messages) as u64;
    let latencies = total.latencies.clone();
    let window = last_delivery.map_or(Duration::ZERO, |last| {
        last.saturating_duration_since(send_start)
    });
    let mut row = Row::from_tally(name, "deliveries/s", total, window);
    row.lost = Some(expected.saturating_sub(delivered));
    row.duplicates = Some(duplicates);
    row.max_ms = Some(latencies.max_ms());

    let mut first = Latencies::new();
    for micros in ledger.first_deliveries() {
        first.record_micros(micros);
    }
    let sent_rate =
        ledger.total() as f64 / send_end.duration_since(send_start).as_secs_f64().max(1e-9);
    row.notes.push(format!(
        "{} users on personal sockets ({open} subscribed), {} subscriptions each over {} \
         channels ({} followers each); a sender per channel on its channel socket, {} messages \
         at {}/s each; sent {sent_rate:.0} msg/s",
        spec.users,
        spec.follows,
        spec.channels,
        spec.users * spec.follows / spec.channels.max(1),
        spec.messages,
        spec.rate,
    ));
    row.notes.push(format!(
        "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {expected} deliveries expected, \
         {delivered} on time, {late} later than {} s (counted lost)",
        latencies.quantile_ms(0.5),
        latencies.quantile_ms(0.99),
        latencies.max_ms(),
        ARRIVAL.as_secs(),
    ));
    row.notes.push(format!(
        "first delivery of each message (store + publish): p50 {:.2} ms, p99 {:.2} ms; \
         connect + subscribe p99 {:.1} ms, all sockets open in {:.1} s; presence frames \
         settled in {:.1} s",
        first.quantile_ms(0.5),
        first.quantile_ms(0.99),
        subscribing.quantile_ms(0.99),
        opening.as_secs_f64(),
        settled.as_secs_f64(),
    ));
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_gets_as_many_followers_and_every_user_distinct_channels() {
        let spec = PersonalFanout {
            users: 1000,
            channels: 100,
            follows: 10,
            messages: 1,
            rate: 1.0,
        };
        let mut followers = vec![0_usize; spec.channels];
        for user in 0..spec.users {
            let mine: HashSet<usize> = follows(user, spec).collect();
            assert_eq!(mine.len(), spec.follows, "user {user}");
            for c in mine {
                followers[c] += 1;
            }
        }
        assert!(followers.iter().all(|&n| n == 100), "{followers:?}");
    }
}
