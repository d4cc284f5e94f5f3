//! The data set of the conversation features (issue 18): a reader in many servers with unread
//! news everywhere, a channel of plain history next to one whose every message has reactions
//! and answers another, and a large library of messages in several languages to search.
//!
//! Seeded by [`grow`] next to the ordinary data set, straight into the database as a restore
//! does it: the trigram index of message search is dropped while the library loads and built
//! again at the end (built once, it takes a fraction of the time that a million index inserts
//! take), and its size goes into the report.

use crate::fixture::{mint_token, User};
use anyhow::{ensure, Context as _};
use serde::Serialize;
use std::time::Duration;

/// How big.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LibrarySizes {
    /// Servers the reader belongs to, and channels in each: what `GET /api/me/unread/` counts.
    pub servers: usize,
    pub channels_per_server: usize,
    /// Messages in each of those channels (the reader has read half of every other one).
    pub news_per_channel: usize,
    /// Messages of each history channel (plain, and rich: reactions and replies).
    pub history: usize,
    /// Messages to search, spread over `search_channels` channels.
    pub searchable: usize,
    pub search_channels: usize,
}

impl LibrarySizes {
    /// Issue 18's sizes.
    pub fn full() -> Self {
        Self {
            servers: 50,
            channels_per_server: 10,
            news_per_channel: 20,
            history: 10_000,
            searchable: 1_000_000,
            search_channels: 10,
        }
    }

    pub fn toy() -> Self {
        Self {
            servers: 3,
            channels_per_server: 2,
            news_per_channel: 5,
            history: 200,
            searchable: 2_000,
            search_channels: 2,
        }
    }
}

/// What the scenarios need to know of it.
#[derive(Debug, Clone)]
pub struct Library {
    pub sizes: LibrarySizes,
    /// In every server of it, with news in every channel.
    pub reader: User,
    /// The reader's channels, and how many messages each holds.
    pub channels: Vec<i64>,
    /// A channel of plain messages and one of messages with reactions (the reader's among
    /// them) that each answer the one before; the first and last message id of each.
    pub plain: (i64, (i64, i64)),
    pub rich: (i64, (i64, i64)),
    /// The words the library's messages are made of.
    pub words: Vec<&'static str>,
    /// Messages stored in all (every channel, the data at size included when it was grown).
    pub stored_messages: i64,
    /// The search index's size on disk, in bytes.
    pub index_bytes: i64,
}

/// Words in English, Russian and Korean that the searchable messages are made of: a message
/// is 5–12 of them, drawn at random.
pub const WORDS: [&str; 151] = [
    "deploy",
    "friday",
    "release",
    "meeting",
    "standup",
    "coffee",
    "server",
    "channel",
    "rust",
    "postgres",
    "review",
    "merge",
    "branch",
    "ticket",
    "design",
    "launch",
    "weekend",
    "holiday",
    "project",
    "budget",
    "customer",
    "support",
    "feature",
    "bugfix",
    "crash",
    "latency",
    "database",
    "backup",
    "restore",
    "migration",
    "schedule",
    "deadline",
    "lunch",
    "dinner",
    "travel",
    "airport",
    "weather",
    "football",
    "music",
    "concert",
    "movie",
    "birthday",
    "present",
    "garden",
    "kitchen",
    "recipe",
    "pizza",
    "noodles",
    "bicycle",
    "mountain",
    "river",
    "ocean",
    "island",
    "village",
    "city",
    "market",
    "bakery",
    "library",
    "museum",
    "painting",
    "camera",
    "photo",
    "window",
    "keyboard",
    "monitor",
    "laptop",
    "phone",
    "battery",
    "charger",
    "network",
    "router",
    "printer",
    "invoice",
    "payment",
    "contract",
    "lawyer",
    "doctor",
    "hospital",
    "school",
    "teacher",
    "student",
    "lesson",
    "homework",
    "exam",
    "question",
    "answer",
    "problem",
    "solution",
    "idea",
    "plan",
    "team",
    "manager",
    "office",
    "remote",
    "morning",
    "evening",
    "tonight",
    "tomorrow",
    "yesterday",
    "monday",
    "sunday",
    "релиз",
    "пятница",
    "встреча",
    "сервер",
    "база",
    "данных",
    "проект",
    "команда",
    "отпуск",
    "погода",
    "завтра",
    "сегодня",
    "вечером",
    "утром",
    "обед",
    "кофе",
    "задача",
    "ошибка",
    "решение",
    "вопрос",
    "ответ",
    "город",
    "музыка",
    "фильм",
    "праздник",
    "배포",
    "금요일",
    "회의",
    "서버",
    "채널",
    "데이터베이스",
    "프로젝트",
    "주말",
    "휴가",
    "점심",
    "저녁",
    "커피",
    "날씨",
    "내일",
    "오늘",
    "어제",
    "문제",
    "해결",
    "질문",
    "대답",
    "음악",
    "영화",
    "생일",
    "공항",
    "여행",
];

/// The indexes on message content that make a bulk load slow (the search's trigram index):
/// dropped before it and created again after, as a restore does.
async fn text_indexes(client: &tokio_postgres::Client) -> anyhow::Result<Vec<(String, String)>> {
    let rows = client
        .query(
            "SELECT indexname, indexdef FROM pg_indexes \
             WHERE tablename = 'messages' AND indexdef LIKE '%gin_trgm_ops%'",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Runs `load` with the trigram indexes of messages dropped, and builds them again after.
pub(crate) async fn without_text_indexes<T>(
    client: &tokio_postgres::Client,
    load: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let indexes = text_indexes(client).await?;
    for (name, _) in &indexes {
        client
            .batch_execute(&format!("DROP INDEX \"{name}\""))
            .await?;
    }
    let loaded = load().await;
    client
        .batch_execute("SET maintenance_work_mem = '512MB'")
        .await?;
    for (_, definition) in &indexes {
        client
            .batch_execute(definition)
            .await
            .with_context(|| format!("cannot build again: {definition}"))?;
    }
    client.batch_execute("RESET maintenance_work_mem").await?;
    loaded
}

/// Seeds the library into the bench database, already seeded by [`crate::fixture::seed`].
pub async fn grow(
    database_url: &str,
    sizes: LibrarySizes,
    jwt_secret: &[u8],
    token_ttl: Duration,
) -> anyhow::Result<Library> {
    let (client, connection, hash) = crate::fixture::open_seeded(database_url).await?;
    let user = async |name: &str| -> anyhow::Result<i64> {
        Ok(client
            .query_one(
                "INSERT INTO users (username, password_hash) VALUES ($1, $2) RETURNING id",
                &[&name, &hash],
            )
            .await?
            .get(0))
    };
    let owner = user("bench_library_owner").await?;
    let reader = user("bench_reader").await?;
    let friends = [user("bench_friend_a").await?, user("bench_friend_b").await?];
    let category: i64 = client
        .query_one(
            "INSERT INTO categories (name, description) VALUES ('library', 'bench: issue 18') \
             RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let server = async |name: String| -> anyhow::Result<i64> {
        let id: i64 = client
            .query_one(
                "INSERT INTO servers (owner_id, category_id, name, description) \
                 VALUES ($1, $2, $3, 'bench') RETURNING id",
                &[&owner, &category, &name],
            )
            .await?
            .get(0);
        client
            .execute(
                "INSERT INTO server_members (server_id, user_id) \
                 SELECT $1, u FROM unnest($2::bigint[]) AS u ON CONFLICT DO NOTHING",
                &[&id, &vec![owner, reader, friends[0], friends[1]]],
            )
            .await?;
        Ok(id)
    };
    let channel = async |server: i64, name: String, messages: usize| -> anyhow::Result<i64> {
        let last = i64::try_from(messages)?;
        Ok(client
            .query_one(
                "INSERT INTO channels (server_id, owner_id, name, last_seq) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&server, &owner, &name, &last],
            )
            .await?
            .get(0))
    };
    let ids_of = async |channel: i64| -> anyhow::Result<(i64, i64)> {
        let row = client
            .query_one(
                "SELECT min(id), max(id) FROM messages WHERE channel_id = $1",
                &[&channel],
            )
            .await?;
        let ids: (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        match ids {
            (Some(first), Some(last)) => Ok((first, last)),
            _ => anyhow::bail!("channel {channel} holds no message"),
        }
    };

    // The reader's servers, with news in every channel; every other channel half read, and a
    // mention of the reader in each.
    let news = i64::try_from(sizes.news_per_channel)?;
    let mut channels = Vec::new();
    for s in 0..sizes.servers {
        let id = server(format!("reader-{s:03}")).await?;
        for c in 0..sizes.channels_per_server {
            channels.push(channel(id, format!("news-{c}"), sizes.news_per_channel).await?);
        }
    }
    client
        .execute(
            "INSERT INTO messages (channel_id, sender_id, seq, content) \
             SELECT ch, $2, s, 'news number ' || s FROM unnest($1::bigint[]) AS ch, \
             generate_series(1, $3::bigint) AS s",
            &[&channels, &owner, &news],
        )
        .await?;
    client
        .execute(
            "INSERT INTO read_states (user_id, channel_id, read_seq) \
             SELECT $1, ch, $3::bigint / 2 FROM unnest($2::bigint[]) WITH ORDINALITY AS t(ch, n) \
             WHERE n % 2 = 0",
            &[&reader, &channels, &news],
        )
        .await?;
    client
        .execute(
            "INSERT INTO message_mentions (user_id, channel_id, seq, message_id) \
             SELECT $1, m.channel_id, m.seq, m.id FROM messages m \
             WHERE m.channel_id = ANY($2::bigint[]) AND m.seq = $3::bigint",
            &[&reader, &channels, &news],
        )
        .await?;

    // History: plain, and rich (each message answers the one before and has reactions, the
    // reader's among them).
    let history = server("history".to_owned()).await?;
    let total = i64::try_from(sizes.history)?;
    let mut history_channels = Vec::new();
    for name in ["plain", "rich"] {
        let id = channel(history, name.to_owned(), sizes.history).await?;
        client
            .execute(
                "INSERT INTO messages (channel_id, sender_id, seq, content) \
                 SELECT $1, $2, s, 'a message of ordinary length, number ' || s \
                 FROM generate_series(1, $3::bigint) AS s",
                &[&id, &owner, &total],
            )
            .await?;
        history_channels.push(id);
    }
    let rich = history_channels[1];
    client
        .execute(
            "UPDATE messages r SET reply_to = o.id, reply_preview = reply_preview_of(o.id) \
             FROM messages o WHERE r.channel_id = $1 AND o.channel_id = $1 AND o.seq = r.seq - 1",
            &[&rich],
        )
        .await?;
    client
        .execute(
            "INSERT INTO message_reactions (message_id, emoji, user_id) \
             SELECT m.id, e.emoji, u.id FROM messages m, \
             unnest(ARRAY['👍', '🎉', '❤️']) AS e(emoji), unnest($2::bigint[]) AS u(id) \
             WHERE m.channel_id = $1 AND (e.emoji = '👍' OR u.id <> $3)",
            &[&rich, &vec![reader, friends[0], friends[1]], &reader],
        )
        .await?;
    let plain = (history_channels[0], ids_of(history_channels[0]).await?);
    let rich = (rich, ids_of(rich).await?);

    // The library: messages of 5–12 random words, without the text index while they load.
    let library = server("library".to_owned()).await?;
    let per_channel = sizes.searchable / sizes.search_channels.max(1);
    let words: Vec<&str> = WORDS.to_vec();
    without_text_indexes(&client, async || {
        for c in 0..sizes.search_channels {
            let id = channel(library, format!("shelf-{c}"), per_channel).await?;
            let count = i64::try_from(per_channel)?;
            let senders = vec![owner, friends[0], friends[1]];
            client
                .execute(
                    "INSERT INTO messages (channel_id, sender_id, seq, content, created_at) \
                     SELECT $1, ($4::bigint[])[(1 + s % 3)::int], s, \
                            (SELECT string_agg(($3::text[])[1 + floor(random() * \
                                    cardinality($3::text[]))::int], ' ') \
                             FROM generate_series(1, 5 + (s % 8)::int) AS w), \
                            now() - make_interval(secs => ($2::bigint - s)::double precision) \
                     FROM generate_series(1, $2::bigint) AS s",
                    &[&id, &count, &words, &senders],
                )
                .await?;
        }
        Ok(())
    })
    .await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    let stored_messages: i64 = client
        .query_one("SELECT count(*) FROM messages", &[])
        .await?
        .get(0);
    let index_bytes: i64 = client
        .query_one(
            "SELECT coalesce(sum(pg_relation_size(indexrelid)), 0)::bigint FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname IN (SELECT indexname FROM pg_indexes \
                                 WHERE tablename = 'messages' \
                                   AND indexdef LIKE '%gin_trgm_ops%')",
            &[],
        )
        .await?
        .get(0);
    ensure!(
        index_bytes > 0,
        "the search index is missing (migration 14)"
    );
    drop(client);
    connection.await??;
    Ok(Library {
        sizes,
        reader: User {
            id: reader,
            username: "bench_reader".to_owned(),
            token: mint_token(jwt_secret, reader, token_ttl)?,
        },
        channels,
        plain,
        rich,
        words: WORDS.to_vec(),
        stored_messages,
        index_bytes,
    })
}
