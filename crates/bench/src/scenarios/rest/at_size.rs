//! Data at real sizes (issue 17): what the requests that read or change growing data cost, at a
//! small size and at the large one, so that a row says how each grows. The large data is the
//! fixture's [`Grown`](crate::fixture::Grown): a channel of 10,000,000 messages, a server of
//! 100,000 members, a category of 10,000 servers.
//!
//! Each row is a closed loop of GET requests at random depths (a page anywhere in the history,
//! the member list or the catalogue), every answer checked for its status and for holding what
//! the page must hold; join + leave of the crowded server; and the `?after` replay of the big
//! channel's last 10,000 messages on a socket, in order and without a gap.

use super::{closed_loop, join_leave_server, Rng, Script, Window};
use crate::client::{self, Frame};
use crate::fixture::Grown;
use crate::http::request;
use crate::scenarios::{HttpLoad, Target};
use crate::stats::{Latencies, Row, Tally};
use std::time::{Duration, Instant};

/// Random GETs of one kind; an answer must be 200 and hold `marker` at least `min` times.
struct Pages {
    requests: Vec<Vec<u8>>,
    marker: &'static [u8],
    min: usize,
    rng: Rng,
    what: &'static str,
}

impl Script for Pages {
    fn next_request(&mut self) -> &[u8] {
        let i = self.rng.below(self.requests.len());
        &self.requests[i]
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let found = body
            .windows(self.marker.len())
            .filter(|w| *w == self.marker)
            .count();
        if status == 200 && found >= self.min {
            Ok(())
        } else {
            Err(format!(
                "{}: {status}, {found} × {} (expected at least {})",
                self.what,
                String::from_utf8_lossy(self.marker),
                self.min
            ))
        }
    }
}

/// Requests for `count` random points of `range` (inclusive), made by `path`.
pub(super) fn spread(
    range: (i64, i64),
    count: usize,
    seed: u64,
    path: impl Fn(i64) -> String,
) -> Vec<String> {
    let mut rng = Rng(seed);
    let width = usize::try_from(range.1 - range.0 + 1).unwrap_or(1);
    (0..count)
        .map(|_| path(range.0 + rng.below(width) as i64))
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn pages(
    target: &Target,
    load: HttpLoad,
    name: &str,
    what: &'static str,
    paths: Vec<String>,
    token: Option<&str>,
    marker: &'static [u8],
    min: usize,
) -> Row {
    let requests: Vec<Vec<u8>> = paths
        .iter()
        .map(|path| request("GET", path, &target.host, token, None))
        .collect();
    measure(target, load, name, what, requests, marker, min).await
}

/// A closed loop of `requests` at random; an answer must be 200 and hold `marker` at least
/// `min` times.
#[allow(clippy::too_many_arguments)]
pub(super) async fn measure(
    target: &Target,
    load: HttpLoad,
    name: &str,
    what: &'static str,
    requests: Vec<Vec<u8>>,
    marker: &'static [u8],
    min: usize,
) -> Row {
    let scripts = (0..load.connections)
        .map(|c| Pages {
            requests: requests.clone(),
            marker,
            min,
            rng: Rng(0x2545_F491_4F6C_DD1D ^ (c as u64 + 1)),
            what,
        })
        .collect();
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally(name.to_owned(), "req/s", tally, load.duration);
    row.notes.push(format!(
        "{} connections over {} different requests ({what})",
        load.connections,
        requests.len()
    ));
    row
}

/// Replays the big channel's last `count` messages on a socket (`?after`), `times` times one
/// after the other: each replay's time until its last message, all of them in order.
async fn replay(target: &Target, grown: &Grown, name: &str, count: i64, times: usize) -> Row {
    let total = i64::try_from(grown.sizes.messages).unwrap_or(i64::MAX);
    let after = (total - count).max(0);
    let expected = total - after;
    let token = &target.fixture.users[0].token;
    let path = format!(
        "/ws/servers/{}/channels/{}?after={after}",
        grown.crowded, grown.big_channel
    );
    let mut tally = Tally::default();
    let mut latencies = Latencies::new();
    let started = Instant::now();
    for _ in 0..times {
        let began = Instant::now();
        let replayed = async {
            let (mut reader, _writer) =
                client::connect_path(target.client, target.addr, &path, token).await?;
            let mut next = after + 1;
            while next <= total {
                match reader.next().await? {
                    Some(Frame::Text(text)) if text.starts_with(r#"{"type":"chat.message""#) => {
                        let seq = seq_of(text);
                        anyhow::ensure!(seq == Some(next), "expected seq {next}, got {seq:?}");
                        next += 1;
                    }
                    Some(Frame::Close(code)) => anyhow::bail!("closed: {code:?}"),
                    Some(_) => {}
                    None => anyhow::bail!("closed after {} messages", next - after - 1),
                }
            }
            Ok::<_, anyhow::Error>(())
        };
        match tokio::time::timeout(Duration::from_secs(60), replayed).await {
            Ok(Ok(())) => {
                tally.ok += 1;
                latencies.record(began.elapsed());
            }
            Ok(Err(e)) => tally.error(format!("replay: {e:#}")),
            Err(_) => tally.error("replay: timed out"),
        }
    }
    let elapsed = started.elapsed();
    let replays = tally.ok;
    tally.latencies = latencies;
    let mut row = Row::from_tally(name.to_owned(), "messages/s", tally, elapsed);
    row.throughput = (replays as f64 * expected as f64) / elapsed.as_secs_f64().max(1e-9);
    row.notes.push(format!(
        "{times} replays one after the other of the last {expected} of {total} messages \
         (?after={after}), every one checked in order; latency = connect until the last message"
    ));
    row
}

/// The `seq` of a `chat.message` frame, read without parsing the whole frame.
fn seq_of(frame: &str) -> Option<i64> {
    let at = frame.find(r#""seq":"#)? + r#""seq":"#.len();
    let digits: String = frame[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Every row of the data at size: the requests at the small size and at the large one.
pub async fn run(target: &Target, load: HttpLoad) -> anyhow::Result<Vec<Row>> {
    let fixture = &target.fixture;
    let grown = fixture
        .grown
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the data at size was not grown"))?;
    let token = Some(fixture.users[0].token.as_str());
    let mut rows = Vec::new();
    let history = |channel: i64| {
        move |id: i64| format!("/api/channels/{channel}/messages/?before={id}&limit=50")
    };
    // Pages at any depth: at least one message each (a page right at the start may be short).
    let small = spread(
        (grown.small_ids.0 + 1, grown.small_ids.1),
        1000,
        1,
        history(grown.small_channel),
    );
    rows.push(
        pages(
            target,
            load,
            "history_1k",
            "history pages",
            small,
            token,
            br#""seq":"#,
            1,
        )
        .await,
    );
    let large = spread(
        (grown.big_ids.0 + 1, grown.big_ids.1),
        1000,
        2,
        history(grown.big_channel),
    );
    rows.push(
        pages(
            target,
            load,
            "history_10m",
            "history pages",
            large,
            token,
            br#""seq":"#,
            1,
        )
        .await,
    );
    let compat = vec![format!("/api/messages/?channel_id={}", grown.big_channel)];
    rows.push(
        pages(
            target,
            load,
            "compat_history_10m",
            "the newest 50",
            compat,
            None,
            br#""sender":"#,
            50,
        )
        .await,
    );
    rows.push(replay(target, grown, "replay_10k", 10_000, 10).await);

    // Member pages from anywhere in the list, of the lobby (small) and the crowded server.
    let lobby_members = format!("/api/servers/{}/members/?limit=100", fixture.lobby.id);
    let first_user = fixture.users.first().map_or(0, |u| u.id);
    let last_user = fixture.users.last().map_or(0, |u| u.id);
    // A full page wherever it starts: at toy size the lobby has fewer than two pages of users.
    let page = (fixture.users.len() / 2).clamp(1, 100);
    let small = spread((first_user, last_user - page as i64), 1000, 3, |id| {
        format!("{lobby_members}&after={id}")
    });
    rows.push(
        pages(
            target,
            load,
            "members_1k",
            "member pages",
            small,
            token,
            br#""user_id":"#,
            page,
        )
        .await,
    );
    let crowded_members = format!("/api/servers/{}/members/?limit=100", grown.crowded);
    let large = spread(
        (grown.member_ids.0, grown.member_ids.1 - 100),
        1000,
        4,
        |id| format!("{crowded_members}&after={id}"),
    );
    rows.push(
        pages(
            target,
            load,
            "members_100k",
            "member pages",
            large,
            token,
            br#""user_id":"#,
            100,
        )
        .await,
    );

    // is_member of the crowded server, by its members.
    let path = format!("/api/membership/{}/membership/is_member/", grown.crowded);
    let requests: Vec<Vec<u8>> = grown
        .members
        .iter()
        .map(|m| request("GET", &path, &target.host, Some(&m.token), None))
        .collect();
    let scripts = (0..load.connections)
        .map(|c| Pages {
            requests: requests.clone(),
            marker: br#"{"is_member":true}"#,
            min: 1,
            rng: Rng(0x9E37_79B9 ^ (c as u64 + 1)),
            what: "is_member",
        })
        .collect();
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally("is_member_100k", "req/s", tally, load.duration);
    row.notes.push(format!(
        "{} connections, {} members asking of a server of {}",
        load.connections,
        grown.members.len(),
        grown.sizes.members
    ));
    rows.push(row);
    rows.push(join_leave_server(target, load, "join_leave_100k", grown.crowded).await);

    // Catalogue pages anywhere in a category of 10 servers and in one of 10,000.
    let small_category = &fixture.categories[0];
    let small_ids = fixture
        .servers_in(small_category)
        .map(|s| s.id)
        .fold((i64::MAX, i64::MIN), |(lo, hi), id| {
            (lo.min(id), hi.max(id))
        });
    let catalogue = |category: String| {
        move |id: i64| {
            format!("/api/servers/?category={category}&limit=50&after={id}&with_num_members=true")
        }
    };
    // `after` the first server or earlier: a whole page of the small category's servers.
    let small = spread(
        (small_ids.0 - 1, small_ids.0 - 1),
        1,
        5,
        catalogue(small_category.clone()),
    );
    let small_count = fixture.servers_in(small_category).count().min(50);
    rows.push(
        pages(
            target,
            load,
            "catalogue_small",
            "catalogue pages",
            small,
            None,
            br#""num_members":"#,
            small_count,
        )
        .await,
    );
    let large = spread(
        (grown.catalogue_ids.0, grown.catalogue_ids.1 - 60),
        1000,
        6,
        catalogue(grown.category.clone()),
    );
    rows.push(
        pages(
            target,
            load,
            "catalogue_10k",
            "catalogue pages",
            large,
            None,
            br#""num_members":"#,
            50,
        )
        .await,
    );
    // How each grows: the large size's p99 against the small one's.
    for (small, large) in [
        ("history_1k", "history_10m"),
        ("members_1k", "members_100k"),
        ("catalogue_small", "catalogue_10k"),
    ] {
        let p99 = |name: &str| rows.iter().find(|r| r.scenario == name).map(|r| r.p99_ms);
        if let (Some(a), Some(b)) = (p99(small), p99(large)) {
            let note = format!(
                "p99 {a:.2} ms at the small size ({small}), {b:.2} ms at the large one: ×{:.2}",
                b / a.max(1e-9)
            );
            if let Some(row) = rows.iter_mut().find(|r| r.scenario == large) {
                row.figures
                    .insert("p99_vs_small".to_owned(), b / a.max(1e-9));
                row.notes.push(note);
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::seq_of;

    #[test]
    fn the_seq_of_a_message_frame() {
        let frame = r#"{"type":"chat.message","new_message":{"id":9,"seq":1234,"content":"x"}}"#;
        assert_eq!(seq_of(frame), Some(1234));
        assert_eq!(seq_of(r#"{"type":"pong"}"#), None);
    }
}
