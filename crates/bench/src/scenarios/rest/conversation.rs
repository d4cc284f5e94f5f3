//! The conversation features (issue 18) under load: the unread list of a reader in 50 servers
//! of 10 channels each, acks, history pages with reactions and replies against plain ones, and
//! search over a library of 1,000,000 messages. The data set is [`crate::library`].

use super::at_size::{measure, spread};
use super::Rng;
use crate::http::request;
use crate::scenarios::{HttpLoad, Target};
use crate::stats::Row;

/// `text` percent-encoded for a query string (everything but ASCII letters and digits).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Two different words of the library, at random: what a person types into the search box.
fn two_words(words: &[&str], rng: &mut Rng) -> String {
    let first = rng.below(words.len());
    let second = (first + 1 + rng.below(words.len() - 1)) % words.len();
    format!("{} {}", words[first], words[second])
}

/// Every row of the conversation features.
pub async fn run(target: &Target, load: HttpLoad) -> anyhow::Result<Vec<Row>> {
    let library = target
        .fixture
        .library
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the library was not grown"))?;
    let token = Some(library.reader.token.as_str());
    let host = &target.host;
    let mut rows = Vec::new();
    let sizes = library.sizes;
    let channels = library.channels.len();

    // The unread list: one request, every channel of every server in the answer.
    let unread = vec![request("GET", "/api/me/unread/", host, token, None)];
    let mut row = measure(
        target,
        load,
        "unread",
        "unread lists",
        unread,
        br#""unread_count":"#,
        channels,
    )
    .await;
    row.notes.push(format!(
        "one reader in {} servers of {} channels each ({channels} channels with news)",
        sizes.servers, sizes.channels_per_server
    ));
    rows.push(row);

    // Acks of random channels at random points: some move the read state forward, the others
    // (behind it) change nothing, as when several devices ack the same messages.
    let mut rng = Rng(0x5DEE_CE66);
    let acks: Vec<Vec<u8>> = (0..2_000)
        .map(|_| {
            let channel = library.channels[rng.below(channels)];
            let seq = 1 + rng.below(sizes.news_per_channel);
            let path = format!("/api/channels/{channel}/ack/");
            let body = format!(r#"{{"seq":{seq}}}"#);
            request("POST", &path, host, token, Some(&body))
        })
        .collect();
    let mut row = measure(target, load, "ack", "acks", acks, br#""read_seq":"#, 1).await;
    row.notes.push(format!(
        "acks of {channels} channels at random points (forward or already read)"
    ));
    rows.push(row);

    // History pages at any depth, plain and with reactions and replies.
    let history = |(channel, ids): (i64, (i64, i64)), seed: u64| {
        spread((ids.0 + 50, ids.1), 1000, seed, move |id| {
            format!("/api/channels/{channel}/messages/?before={id}&limit=50")
        })
        .into_iter()
        .map(|path| request("GET", &path, host, token, None))
        .collect::<Vec<_>>()
    };
    let plain = measure(
        target,
        load,
        "history_plain",
        "plain history pages of 50",
        history(library.plain, 7),
        br#""seq":"#,
        50,
    )
    .await;
    // Every message of a rich page has reactions and a reply preview.
    let mut rich = measure(
        target,
        load,
        "history_rich",
        "history pages of 50 with reactions and replies",
        history(library.rich, 8),
        br#""reactions":"#,
        50,
    )
    .await;
    let ratio = rich.throughput / plain.throughput.max(1e-9);
    rich.figures.insert("vs_plain".to_owned(), ratio);
    rich.notes.push(format!(
        "{:.0} % of the plain pages' rate ({:.0} req/s); every message answers the one \
         before and has 3 emoji of 3 users, the reader's among them",
        ratio * 100.0,
        plain.throughput
    ));
    rows.push(plain);
    rows.push(rich);

    // Search: two words of the library's vocabulary at random, the newest 25 hits.
    let mut rng = Rng(0x1234_5678_9ABC);
    let searches: Vec<Vec<u8>> = (0..500)
        .map(|_| {
            let q = encode(&two_words(&library.words, &mut rng));
            let path = format!("/api/search/messages/?q={q}&limit=25");
            request("GET", &path, host, token, None)
        })
        .collect();
    // What one search costs, two at a time (the machine's cores): a person's query, not the
    // server's saturation, which the other rows show (a search is rate-limited to 30 a
    // minute per account).
    let searching = HttpLoad {
        connections: 2,
        ..load
    };
    let mut row = measure(
        target,
        searching,
        "search",
        "two-word searches",
        searches,
        br#""results":["#,
        1,
    )
    .await;
    row.figures
        .insert("messages_stored".to_owned(), library.stored_messages as f64);
    row.figures.insert(
        "index_mib".to_owned(),
        library.index_bytes as f64 / (1024.0 * 1024.0),
    );
    row.notes.push(format!(
        "2 connections; two random words of {} (English, Russian, Korean) over {} messages of 5–12 of them \
         ({} stored in all, the reader may read {}); trigram index {:.1} MiB",
        library.words.len(),
        sizes.searchable,
        library.stored_messages,
        sizes.searchable + 2 * sizes.history + channels * sizes.news_per_channel,
        library.index_bytes as f64 / (1024.0 * 1024.0)
    ));
    rows.push(row);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{encode, two_words, Rng};

    #[test]
    fn queries_are_encoded_and_of_two_different_words() {
        assert_eq!(encode("a b"), "a%20b");
        assert_eq!(encode("배포"), "%EB%B0%B0%ED%8F%AC");
        let words = ["one", "two", "three"];
        let mut rng = Rng(7);
        for _ in 0..100 {
            let q = two_words(&words, &mut rng);
            let (a, b) = q.split_once(' ').unwrap_or_default();
            assert_ne!(a, b);
        }
    }
}
