//! The fixed data set every scenario runs against, seeded with SQL, and the users' tokens.
//!
//! Users `bench_u00000`.. share one password whose Argon2id hash (OWASP cost, as the server
//! makes them) is computed once, so logging in works for real. One "lobby" server has a channel
//! everyone is a member of; the other servers have `channels_per_server` channels each and are
//! spread over the categories; every user is a member of `servers_per_user` of them (user `u` of
//! servers `u, u + stride, u + 2·stride, ...` modulo the number of servers), and server `s` is
//! owned by user `s`, a member by that rule too.

use anyhow::{bail, ensure, Context};
use serde::Serialize;
use std::time::Duration;
use tokio_postgres::NoTls;

/// How big the data set is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sizes {
    pub users: usize,
    /// Servers besides the lobby.
    pub servers: usize,
    pub channels_per_server: usize,
    pub categories: usize,
    /// Servers (besides the lobby) each user is a member of.
    pub servers_per_user: usize,
    /// Users of no server (`bench_c00000`..), who only crowd into a channel (presence).
    pub crowd: usize,
}

impl Sizes {
    /// The data set of `make bench` (issue 6).
    pub fn full() -> Self {
        Self {
            users: 1000,
            servers: 50,
            channels_per_server: 3,
            categories: 5,
            servers_per_user: 10,
            crowd: 10_000,
        }
    }

    /// A few of everything, for the smoke test.
    pub fn toy() -> Self {
        Self {
            users: 12,
            servers: 4,
            channels_per_server: 2,
            categories: 2,
            servers_per_user: 2,
            crowd: 30,
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        ensure!(self.servers >= 1 && self.categories >= 1 && self.channels_per_server >= 1);
        ensure!(
            (1..self.servers.max(2)).contains(&self.servers_per_user),
            "each user must be in at least one server and miss at least one (join/leave needs it)"
        );
        ensure!(self.users >= self.servers, "server s is owned by user s");
        Ok(())
    }

    fn stride(&self) -> usize {
        (self.servers / self.servers_per_user).max(1)
    }
}

/// The data at real sizes (issue 17): how big.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GrowthSizes {
    /// Messages of the big channel.
    pub messages: usize,
    /// Messages of the small channel it is compared with.
    pub small_messages: usize,
    /// Members of the crowded server.
    pub members: usize,
    /// Servers of the big category.
    pub servers: usize,
}

impl GrowthSizes {
    pub fn full() -> Self {
        Self {
            messages: 10_000_000,
            small_messages: 1_000,
            members: 100_000,
            servers: 10_000,
        }
    }

    pub fn toy() -> Self {
        Self {
            messages: 3_000,
            small_messages: 100,
            members: 300,
            servers: 120,
        }
    }
}

/// The data at size, seeded by [`grow`] next to the ordinary data set: a crowded server of
/// `members` members (none of them the fixture's users) with a channel of `messages` messages
/// and one of `small_messages`, in a category of `servers` servers more.
#[derive(Debug, Clone)]
pub struct Grown {
    pub sizes: GrowthSizes,
    pub crowded: i64,
    pub big_channel: i64,
    /// The first and last message id of the big channel.
    pub big_ids: (i64, i64),
    pub small_channel: i64,
    pub small_ids: (i64, i64),
    /// The first and last user id of the crowded server's members.
    pub member_ids: (i64, i64),
    /// Tokens of the first thousand members.
    pub members: Vec<User>,
    pub category: String,
    /// The first and last server id of the big category.
    pub catalogue_ids: (i64, i64),
}

/// Messages inserted per statement while growing the big channel.
const MESSAGE_CHUNK: usize = 1_000_000;

/// A connection to the seeded bench database (with the task that drives it) and the seeded
/// users' password hash, for loads that add users of their own.
pub(crate) async fn open_seeded(
    database_url: &str,
) -> anyhow::Result<(
    tokio_postgres::Client,
    tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    String,
)> {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls)
        .await
        .context("cannot connect to the bench database")?;
    let connection = tokio::spawn(connection);
    let hash: String = client
        .query_one("SELECT password_hash FROM users ORDER BY id LIMIT 1", &[])
        .await?
        .get(0);
    Ok((client, connection, hash))
}

/// Seeds the data at size (see [`Grown`]) into the bench database, already seeded by [`seed`].
pub async fn grow(
    database_url: &str,
    sizes: GrowthSizes,
    jwt_secret: &[u8],
    token_ttl: Duration,
) -> anyhow::Result<Grown> {
    let (client, connection, hash) = open_seeded(database_url).await?;
    let owner: i64 = client
        .query_one(
            "INSERT INTO users (username, password_hash) VALUES ('bench_big_owner', $1) \
             RETURNING id",
            &[&hash],
        )
        .await?
        .get(0);
    let category: i64 = client
        .query_one(
            "INSERT INTO categories (name, description) VALUES ('big', 'bench at size') \
             RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let servers = i32::try_from(sizes.servers)?;
    let range = |rows: &[tokio_postgres::Row]| -> anyhow::Result<(i64, i64)> {
        let ids = rows.iter().map(|r| r.get::<_, i64>(0));
        let (min, max) = ids.fold((i64::MAX, i64::MIN), |(lo, hi), id| {
            (lo.min(id), hi.max(id))
        });
        ensure!(min <= max, "nothing was inserted");
        Ok((min, max))
    };
    let catalogue_ids = range(
        &client
            .query(
                "INSERT INTO servers (owner_id, category_id, name, description) \
                 SELECT $1, $2, format('big-%s', lpad(i::text, 5, '0')), 'bench' \
                 FROM generate_series(0, $3 - 1) AS i RETURNING id",
                &[&owner, &category, &servers],
            )
            .await?,
    )?;
    let crowded: i64 = client
        .query_one(
            "INSERT INTO servers (owner_id, category_id, name, description) \
             VALUES ($1, $2, 'crowded', 'bench') RETURNING id",
            &[&owner, &category],
        )
        .await?
        .get(0);
    let channel = async |name: &str, messages: usize| -> anyhow::Result<(i64, (i64, i64))> {
        let total = i64::try_from(messages)?;
        let id: i64 = client
            .query_one(
                "INSERT INTO channels (server_id, owner_id, name, last_seq) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&crowded, &owner, &name, &total],
            )
            .await?
            .get(0);
        for from in (1..=messages).step_by(MESSAGE_CHUNK) {
            let from = i64::try_from(from)?;
            let to = (from + i64::try_from(MESSAGE_CHUNK)? - 1).min(total);
            client
                .execute(
                    "INSERT INTO messages (channel_id, sender_id, seq, content, created_at) \
                     SELECT $1, $2, s, 'message ' || s, \
                            now() - make_interval(secs => ($4 - s)::double precision) \
                     FROM generate_series($3::bigint, $5::bigint) AS s",
                    &[&id, &owner, &from, &total, &to],
                )
                .await?;
        }
        let ids = client
            .query_one(
                "SELECT min(id), max(id) FROM messages WHERE channel_id = $1",
                &[&id],
            )
            .await?;
        Ok((id, (ids.get(0), ids.get(1))))
    };
    // A bulk load, as a restore does it: without per-row triggers (the foreign key checks, the
    // member count, the user event log), which for 100,000 members of one server in one
    // statement piled up that server's row versions for minutes. Needs a superuser (the bench's
    // admin user); without one the load is only slower. The count is set below.
    let bulk = client
        .batch_execute("SET session_replication_role = replica")
        .await
        .is_ok();
    // Without the search's text index while 10,000,000 messages load: built once after.
    let ((big_channel, big_ids), (small_channel, small_ids)) =
        crate::library::without_text_indexes(&client, async || {
            Ok((
                channel("history", sizes.messages).await?,
                channel("small", sizes.small_messages).await?,
            ))
        })
        .await?;
    let members = i32::try_from(sizes.members)?;
    let member_rows = client
        .query(
            "INSERT INTO users (username, password_hash) \
             SELECT format('bench_m%s', lpad(i::text, 6, '0')), $1 \
             FROM generate_series(0, $2 - 1) AS i RETURNING id",
            &[&hash, &members],
        )
        .await?;
    let member_ids = range(&member_rows)?;
    client
        .execute(
            "INSERT INTO server_members (server_id, user_id) \
             SELECT $1, id FROM users WHERE id BETWEEN $2 AND $3 AND username LIKE 'bench_m%'",
            &[&crowded, &member_ids.0, &member_ids.1],
        )
        .await?;
    if bulk {
        client
            .batch_execute("SET session_replication_role = DEFAULT")
            .await?;
        client
            .execute(
                "UPDATE servers SET member_count = member_count + $2 WHERE id = $1",
                &[&crowded, &i64::from(members)],
            )
            .await?;
    }
    client.batch_execute("VACUUM ANALYZE").await?;
    drop(client);
    connection.await??;
    let mut sample: Vec<i64> = member_rows.iter().map(|r| r.get(0)).collect();
    sample.sort_unstable();
    sample.truncate(1_000);
    let members = sample
        .into_iter()
        .map(|id| {
            Ok(User {
                id,
                username: format!("member {id}"),
                token: mint_token(jwt_secret, id, token_ttl)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Grown {
        sizes,
        crowded,
        big_channel,
        big_ids,
        small_channel,
        small_ids,
        member_ids,
        members,
        category: "big".to_owned(),
        catalogue_ids,
    })
}

/// A seeded account with a valid access token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// A seeded server.
#[derive(Debug, Clone)]
pub struct SeededServer {
    pub id: i64,
    pub category: String,
    pub channels: Vec<i64>,
    /// Members, the owner included.
    pub members: usize,
}

/// Everything the scenarios need to know about the data set.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub sizes: Sizes,
    /// Every user's password.
    pub password: String,
    pub users: Vec<User>,
    /// Users of no server, for the crowd scenario.
    pub crowd: Vec<User>,
    pub categories: Vec<String>,
    /// The server (and its first channel) everybody is a member of.
    pub lobby: SeededServer,
    pub servers: Vec<SeededServer>,
    /// `conversations[i]` is the 1:1 conversation of users `2i` and `2i + 1`.
    pub conversations: Vec<i64>,
    /// The data at size, when it was grown.
    pub grown: Option<Grown>,
    /// The conversation features' data set, when it was grown.
    pub library: Option<crate::library::Library>,
}

impl Fixture {
    /// Whether user number `user` is a member of server number `server` (indexes, not ids).
    pub fn is_member(&self, server: usize, user: usize) -> bool {
        let (servers, stride) = (self.sizes.servers, self.sizes.stride());
        (0..self.sizes.servers_per_user).any(|k| (user + k * stride) % servers == server)
    }

    /// Every server, the lobby first.
    pub fn all_servers(&self) -> impl Iterator<Item = &SeededServer> {
        std::iter::once(&self.lobby).chain(self.servers.iter())
    }

    /// Servers of category `category`, the lobby included when it is one of them.
    pub fn servers_in(&self, category: &str) -> impl Iterator<Item = &SeededServer> {
        let category = category.to_owned();
        self.all_servers().filter(move |s| s.category == category)
    }
}

/// The password of every bench user.
pub const PASSWORD: &str = "bench-password-1";

/// An Argon2id PHC string of `password`, made by the server's own code at the server's cost.
fn hash_password(password: &str) -> anyhow::Result<String> {
    hearth_api::auth::hash_blocking(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the bench password: {e}"))
}

/// An access token for `user_id` in the exact shape the server issues (see
/// `crates/api/src/auth/tokens.rs`), signed with the server's secret. The server verifies it
/// like any other.
pub fn mint_token(secret: &[u8], user_id: i64, ttl: Duration) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "token_type": "access",
        "exp": now + i64::try_from(ttl.as_secs())?,
        "iat": now,
        "jti": uuid::Uuid::new_v4().simple().to_string(),
        "user_id": user_id,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )?)
}

/// Seeds `sizes` into the (migrated, empty) database at `database_url`; tokens are signed with
/// `jwt_secret` and valid for `token_ttl`.
pub async fn seed(
    database_url: &str,
    sizes: Sizes,
    jwt_secret: &[u8],
    token_ttl: Duration,
) -> anyhow::Result<Fixture> {
    sizes.check()?;
    let hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD)).await??;
    let (mut client, connection) = tokio_postgres::connect(database_url, NoTls)
        .await
        .context("cannot connect to the bench database")?;
    let connection = tokio::spawn(connection);
    let tx = client.transaction().await?;

    let users_total = i32::try_from(sizes.users)?;
    let mut user_ids = vec![0_i64; sizes.users];
    for row in tx
        .query(
            "INSERT INTO users (username, password_hash) \
             SELECT format('bench_u%s', lpad(i::text, 5, '0')), $1 \
             FROM generate_series(0, $2 - 1) AS i RETURNING id, username",
            &[&hash, &users_total],
        )
        .await?
    {
        let username: String = row.get(1);
        let index: usize = username.trim_start_matches("bench_u").parse()?;
        *user_ids.get_mut(index).context("unexpected username")? = row.get(0);
    }
    let owner = |index: usize| user_ids.get(index).copied().context("no such user");
    let crowd_total = i32::try_from(sizes.crowd)?;
    let mut crowd_ids: Vec<(usize, i64)> = Vec::with_capacity(sizes.crowd);
    for row in tx
        .query(
            "INSERT INTO users (username, password_hash) \
             SELECT format('bench_c%s', lpad(i::text, 5, '0')), $1 \
             FROM generate_series(0, $2 - 1) AS i RETURNING id, username",
            &[&hash, &crowd_total],
        )
        .await?
    {
        let username: String = row.get(1);
        crowd_ids.push((username.trim_start_matches("bench_c").parse()?, row.get(0)));
    }
    crowd_ids.sort_unstable();

    let mut categories = Vec::new();
    let mut category_ids = Vec::new();
    for c in 0..sizes.categories {
        let name = format!("cat-{c}");
        let row = tx
            .query_one(
                "INSERT INTO categories (name, description) VALUES ($1, 'bench') RETURNING id",
                &[&name],
            )
            .await?;
        category_ids.push(row.get::<_, i64>(0));
        categories.push(name);
    }

    let create_server = async |owner: i64, category: i64, name: &str, channels: usize| {
        let id: i64 = tx
            .query_one(
                "INSERT INTO servers (owner_id, category_id, name, description) \
                 VALUES ($1, $2, $3, 'bench') RETURNING id",
                &[&owner, &category, &name],
            )
            .await?
            .get(0);
        let mut channel_ids = Vec::new();
        for c in 0..channels {
            let channel: i64 = tx
                .query_one(
                    "INSERT INTO channels (server_id, owner_id, name) VALUES ($1, $2, $3) \
                     RETURNING id",
                    &[&id, &owner, &format!("channel-{c}")],
                )
                .await?
                .get(0);
            channel_ids.push(channel);
        }
        Ok::<_, anyhow::Error>((id, channel_ids))
    };

    let first_category = *category_ids.first().context("no category")?;
    let (lobby_id, lobby_channels) = create_server(owner(0)?, first_category, "lobby", 1).await?;
    let mut member_servers = vec![lobby_id; sizes.users];
    let mut member_users = user_ids.clone();

    let mut servers = Vec::new();
    for s in 0..sizes.servers {
        let category = s % sizes.categories;
        let (id, channels) = create_server(
            owner(s)?,
            category_ids[category],
            &format!("server-{s}"),
            sizes.channels_per_server,
        )
        .await?;
        servers.push(SeededServer {
            id,
            category: categories[category].clone(),
            channels,
            members: 0,
        });
    }
    let stride = sizes.stride();
    for (u, user_id) in user_ids.iter().enumerate() {
        for k in 0..sizes.servers_per_user {
            let server = &mut servers[(u + k * stride) % sizes.servers];
            server.members += 1;
            member_servers.push(server.id);
            member_users.push(*user_id);
        }
    }
    // A 1:1 conversation for each pair of users, opened as the API opens one.
    let mut conversations = Vec::new();
    for pair in user_ids.chunks_exact(2) {
        let id: i64 = tx
            .query_one(
                "SELECT o_id FROM direct_open($1, $2)",
                &[&pair[0], &pair[1]],
            )
            .await?
            .get(0);
        conversations.push(id);
    }
    // Owners are members already (a trigger), hence ON CONFLICT.
    tx.execute(
        "INSERT INTO server_members (server_id, user_id) \
         SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING",
        &[&member_servers, &member_users],
    )
    .await?;
    tx.commit().await?;
    // A bulk load leaves the tables' visibility map unset until autovacuum gets to them (up to
    // a minute later, in the middle of a scenario): until then every index-only membership probe
    // also reads the table. Settle the data first, as any database that has been running is.
    client.batch_execute("VACUUM ANALYZE").await?;
    drop(client);
    connection.await??;

    let users = user_ids
        .iter()
        .enumerate()
        .map(|(index, &id)| {
            Ok(User {
                id,
                username: format!("bench_u{index:05}"),
                token: mint_token(jwt_secret, id, token_ttl)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if users.len() != sizes.users {
        bail!("seeded {} users instead of {}", users.len(), sizes.users);
    }
    let crowd = crowd_ids
        .into_iter()
        .map(|(index, id)| {
            Ok(User {
                id,
                username: format!("bench_c{index:05}"),
                token: mint_token(jwt_secret, id, token_ttl)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Fixture {
        sizes,
        password: PASSWORD.to_owned(),
        users,
        crowd,
        categories,
        lobby: SeededServer {
            id: lobby_id,
            category: "cat-0".to_owned(),
            channels: lobby_channels,
            members: sizes.users,
        },
        servers,
        conversations,
        grown: None,
        library: None,
    })
}
