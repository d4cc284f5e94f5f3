//! The black-box test harness: a real Hearth server on a random port, talking to a fresh
//! PostgreSQL database of its own, driven over real HTTP.
//!
//! Databases: the migrations are applied once to a template database named after a hash of
//! `migrations/` (so a changed migration gets a new template), under an advisory lock so that
//! parallel test processes take turns; every test then gets `CREATE DATABASE ... TEMPLATE`,
//! dropped again when its [`TestApp`] is dropped.
//!
//! The PostgreSQL server is `HEARTH_TEST_DATABASE_URL` (`make test` starts a private one).

use anyhow::Context;
use hearth_api::config::Settings;
use hearth_api::startup::Application;
use hearth_db::Db;
use hearth_domain::model::Channel;
use hearth_domain::{CategoryId, ServerId, UserId};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;

pub use reqwest::StatusCode;

pub mod pg_server;
pub mod redis_server;
pub mod ws;

/// The password every helper-made user has.
pub const PASSWORD: &str = "correct horse battery";

fn admin_url() -> String {
    std::env::var("HEARTH_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("database URL has no scheme")? + 3;
    let host_part = &base[scheme_end..];
    let host = host_part.split('/').next().unwrap_or(host_part);
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, database);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// The database name at the end of a URL.
fn database_name(url: &str) -> &str {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

/// A stable fingerprint of every migration file (FNV-1a over names and contents).
fn migrations_fingerprint() -> anyhow::Result<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let migration = entry?.path();
        for name in ["up.sql", "down.sql"] {
            let file = migration.join(name);
            if file.exists() {
                files.push((file.display().to_string(), std::fs::read(&file)?));
            }
        }
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in files {
        let relative = name.rsplit("migrations").next().unwrap_or(&name).to_owned();
        for byte in relative.as_bytes().iter().chain(bytes.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

async fn admin_client() -> anyhow::Result<tokio_postgres::Client> {
    let url = admin_url();
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .with_context(|| {
            "cannot reach the test PostgreSQL (HEARTH_TEST_DATABASE_URL); `make test` starts one"
        })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The migrated template database's name, creating it on first use.
async fn template() -> anyhow::Result<String> {
    TEMPLATE
        .get_or_try_init(|| async {
            let name = format!("hearth_tpl_{}", migrations_fingerprint()?);
            let admin = admin_client().await?;
            // Any fixed key; all test processes agree on it.
            admin
                .execute("SELECT pg_advisory_lock(7243721)", &[])
                .await?;
            let exists = admin
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await?
                .is_some();
            if !exists {
                // Build under a temporary name and rename when complete, so a crash never leaves
                // a half-migrated template behind.
                let building = format!("{name}_building");
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .await?;
                admin
                    .batch_execute(&format!("CREATE DATABASE {building}"))
                    .await?;
                let db = Db::connect(
                    &with_database(&admin_url(), &building)?,
                    &Default::default(),
                )?;
                hearth_db::migrate::run_pending(&db).await?;
                drop(db);
                admin
                    .batch_execute(&format!(
                        "ALTER DATABASE {building} RENAME TO {name}; \
                         ALTER DATABASE {name} WITH IS_TEMPLATE true"
                    ))
                    .await?;
            }
            admin
                .execute("SELECT pg_advisory_unlock(7243721)", &[])
                .await?;
            Ok::<_, anyhow::Error>(name)
        })
        .await
        .cloned()
}

/// A fresh, migrated database for one test; dropped when this value is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let template = template().await?;
        let name = format!("hearth_t_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_client().await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await?;
        Ok(Self {
            url: with_database(&admin_url(), &name)?,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with a runtime of its own does the clean-up.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = admin_client().await?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e:#}", self.name);
        }
    }
}

/// Settings for tests whose sockets send in bursts: 1,000 messages a second per user, so the
/// rate limit (tested on its own) stays out of the way.
pub fn generous_ws_rates(settings: &mut Settings) {
    let rate = std::num::NonZeroU32::new(1000).unwrap_or(std::num::NonZeroU32::MIN);
    settings.ws_rate_per_sec = rate;
    settings.ws_rate_burst = rate;
}

/// REST rate limits far above what any test sends: the tests of the limits set their own.
pub fn generous_rest_limits(settings: &mut Settings) {
    let lots = hearth_api::limits::Rate::parse("100000/1").ok().flatten();
    settings.limits = hearth_api::limits::LimitSettings {
        login_failures: lots,
        login_attempts: lots,
        registrations: lots,
        refreshes: lots,
        conversations: lots,
        blocks: lots,
        alerts: lots,
        online_lists: lots,
        acks: lots,
        unread_lists: lots,
        pins: lots,
        reactions: lots,
        searches: lots,
    };
}

/// A running Hearth server on a fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub port: u16,
    /// Where `GET /metrics` is served, when the test turned metrics on
    /// (`settings.metrics_addr`, port 0 for a free one).
    pub metrics_port: Option<u16>,
    /// The app's database, for fixtures the API cannot create (yet).
    pub db: Db,
    /// A client without a cookie store.
    pub http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    /// The database URL the server uses.
    pub database_url: String,
    /// Where the server stores uploaded images: a fresh temporary folder unless the test chose
    /// one, removed again when this app is dropped.
    pub media_dir: PathBuf,
    owns_media_dir: bool,
    // Dropped last: the server and pool must let go of the database first. A sibling (a second
    // instance on the same database) owns none.
    _database: Option<TestDatabase>,
}

impl TestApp {
    /// Starts a server with local defaults on a fresh database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server after `tweak` adjusted its settings.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let started = async {
            let database = TestDatabase::create().await?;
            Self::start(database.url.clone(), Some(database), tweak).await
        };
        match started.await {
            Ok(app) => app,
            Err(e) => panic!("cannot start the test app: {e:#}"),
        }
    }

    /// Starts a server on a database the test made itself (a private PostgreSQL, say); the
    /// server applies the migrations.
    pub async fn spawn_on(database_url: &str, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        match Self::start(database_url.to_owned(), None, tweak).await {
            Ok(app) => app,
            Err(e) => panic!("cannot start the app on {database_url}: {e:#}"),
        }
    }

    /// Starts another instance on this app's database (drop it before this app).
    pub async fn spawn_sibling(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        match Self::start(self.database_url.clone(), None, tweak).await {
            Ok(app) => app,
            Err(e) => panic!("cannot start the sibling app: {e:#}"),
        }
    }

    async fn start(
        database_url: String,
        database: Option<TestDatabase>,
        tweak: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<TestApp> {
        if std::env::var_os("HEARTH_TEST_LOG").is_some() {
            hearth_api::telemetry::init(hearth_api::config::LogFormat::Pretty);
        }
        let mut settings = Settings::local(database_url.clone());
        settings.port = 0;
        settings.workers = 2;
        settings.db_pool_size = 8;
        let scratch_media = std::env::temp_dir().join(format!(
            "hearth-test-media-{}",
            uuid::Uuid::new_v4().simple()
        ));
        settings.media_dir = scratch_media.clone();
        generous_rest_limits(&mut settings);
        tweak(&mut settings);
        let media_dir = settings.media_dir.clone();
        let app = Application::build(settings).await?;
        let port = app.port();
        let metrics_port = app.metrics_port();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Ok(TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port,
            db: Db::connect(&database_url, &Default::default())?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            handle,
            database_url,
            owns_media_dir: media_dir == scratch_media,
            media_dir,
            _database: database,
        })
    }

    /// Drops the app's database under the running server, as if the database went away.
    pub async fn drop_database_now(&self) {
        let name = database_name(&self.database_url);
        let dropped = async {
            admin_client()
                .await?
                .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await?;
            Ok::<_, anyhow::Error>(())
        };
        if let Err(e) = dropped.await {
            panic!("cannot drop the test database: {e:#}");
        }
    }

    /// A SQL connection of its own to the app's database, for what a test must do behind the
    /// app's back (locks, killed connections, inspecting rows).
    pub async fn sql_client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.database_url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the app's database: {e}"));
        tokio::spawn(connection);
        client
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A browser-like client that keeps cookies.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("cannot build a client: {e}"))
    }

    /// Registers `username` with [`PASSWORD`] through the API and returns its id.
    pub async fn register(&self, username: &str) -> UserId {
        let response = self
            .http
            .post(self.url("/api/register/"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("register request failed: {e}"));
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "registering {username}"
        );
        let credentials = hearth_db::users::credentials(&self.db, username)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{username} not stored"));
        credentials.user.id
    }

    /// Registers `username` and returns a bearer access token for them.
    pub async fn user_with_token(&self, username: &str) -> (UserId, String) {
        let id = self.register(username).await;
        let body: serde_json::Value = self
            .http
            .post(self.url("/api/auth/token/"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request failed: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("token body is not JSON: {e}"));
        let token = body["access"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {body}"))
            .to_owned();
        (id, token)
    }

    /// Registers `username` as staff (may manage categories) and returns a bearer token.
    pub async fn staff_with_token(&self, username: &str) -> (UserId, String) {
        let (id, token) = self.user_with_token(username).await;
        let hash = hearth_db::users::credentials(&self.db, username)
            .await
            .ok()
            .flatten()
            .map(|c| c.password_hash)
            .unwrap_or_else(|| panic!("{username} not stored"));
        hearth_db::users::set_password(&self.db, id, &hash, true)
            .await
            .unwrap_or_else(|e| panic!("cannot make {username} staff: {e}"));
        (id, token)
    }

    /// Registers `username` and logs a cookie-keeping client in as them.
    pub async fn logged_in_browser(&self, username: &str) -> (UserId, reqwest::Client) {
        let id = self.register(username).await;
        let browser = self.browser();
        let response = browser
            .post(self.url("/api/token/"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("login failed: {e}"));
        assert_eq!(response.status(), StatusCode::OK);
        (id, browser)
    }

    /// Creates a category directly in the database.
    pub async fn category(&self, name: &str) -> CategoryId {
        hearth_db::categories::create(&self.db, name, "about it")
            .await
            .unwrap_or_else(|e| panic!("cannot create category {name}: {e}"))
            .id
    }

    /// Creates a server owned by `owner` directly in the database.
    pub async fn server(&self, owner: UserId, category: CategoryId, name: &str) -> ServerId {
        hearth_db::servers::create(&self.db, owner, category, name, "a server", None)
            .await
            .unwrap_or_else(|e| panic!("cannot create server {name}: {e}"))
    }

    /// Creates a channel directly in the database.
    pub async fn channel(&self, server: ServerId, owner: UserId, name: &str) -> Channel {
        hearth_db::channels::create(&self.db, server, owner, name, "")
            .await
            .unwrap_or_else(|e| panic!("cannot create channel {name}: {e}"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close connections; the database is dropped right after.
        let stopping = self.handle.stop(false);
        drop(tokio::spawn(stopping));
        if self.owns_media_dir {
            let _ = std::fs::remove_dir_all(&self.media_dir);
        }
    }
}

/// Sends `request` and returns the status and the JSON body (`Null` when not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value) {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("cannot read body: {e}"));
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Asserts `body` is the common error body with `code`.
pub fn assert_error(body: &serde_json::Value, code: &str) {
    assert_eq!(body["code"], code, "error body {body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error body without a sentence: {body}"
    );
}

/// Both spellings of an API path: with and without the trailing slash.
pub fn both_slashes(path: &str) -> [String; 2] {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (path, String::new()),
    };
    let trimmed = path.trim_end_matches('/');
    [format!("{trimmed}/{query}"), format!("{trimmed}{query}")]
}
