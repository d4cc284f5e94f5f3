//! Settings, read from the environment (and an optional `.env` file) with safe local defaults.

use crate::limits::{LimitSettings, Rate, TrustedProxies};
use anyhow::{bail, Context};
use rand::RngCore;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Where Hearth runs: local development (the default) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Local,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines (local).
    Pretty,
}

/// The key tokens are signed with. Its bytes never reach a log line.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// A random key, valid until the process exits.
    pub fn random() -> Self {
        let mut bytes = vec![0_u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// A database URL; its `Debug` leaves out the password, so settings can be logged safely.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // scheme://user:password@host/db → scheme://user:<redacted>@host/db
        let redacted = match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let credentials = &self.0[scheme + 3..at];
                match credentials.split_once(':') {
                    Some((user, _)) => format!(
                        "{}{user}:<redacted>{}",
                        &self.0[..scheme + 3],
                        &self.0[at..]
                    ),
                    None => self.0.clone(),
                }
            }
            _ => self.0.clone(),
        };
        f.write_str(&redacted)
    }
}

const DAY: u64 = 24 * 3600;

/// Everything Hearth can be configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// Address to listen on (`HEARTH_HOST`, default `127.0.0.1`).
    pub host: String,
    /// Port to listen on (`HEARTH_PORT`, default 8000; 0 picks a free one).
    pub port: u16,
    /// `DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `HEARTH_DB_POOL_SIZE`, default 16.
    pub db_pool_size: usize,
    /// `HEARTH_DB_TIMEOUT_MS`: how long a request waits for a database connection, default 3000.
    pub db_timeout: Duration,
    /// `HEARTH_JWT_SECRET`; random per start in local mode when unset.
    pub jwt_secret: JwtSecret,
    /// Whether `jwt_secret` was generated because none was configured.
    pub jwt_secret_generated: bool,
    /// `HEARTH_ACCESS_TOKEN_TTL_SECS`, default 300.
    pub access_token_ttl: Duration,
    /// `HEARTH_REFRESH_TOKEN_TTL_SECS`, default 30 days.
    pub refresh_token_ttl: Duration,
    /// `HEARTH_CORS_ORIGINS`, comma-separated; default the Vite dev server origins.
    pub cors_origins: Vec<String>,
    /// `HEARTH_COOKIE_SECURE`: mark cookies `Secure` (default: on in production).
    pub cookie_secure: bool,
    /// `HEARTH_BODY_LIMIT_BYTES`: largest JSON body accepted, default 64 KiB.
    pub body_limit: usize,
    /// `HEARTH_WORKERS`: HTTP worker threads, default the number of cores.
    pub workers: usize,
    /// `HEARTH_HASH_CONCURRENCY`: password hashes computed at once, default the number of cores.
    /// A hash runs on the blocking pool, where the OS shares the cores fairly with the request
    /// workers; with one fewer than the cores, logins on a loaded 2-core machine were starved
    /// (19/s against 29/s), and is_member's p99 stayed within 20 ms with all of them.
    pub hash_concurrency: usize,
    /// `HEARTH_STATIC_DIR`: the built SPA, served at `/` when it holds an `index.html`; default
    /// `frontend/dist` relative to the working directory (`None` in tests: `/` shows the docs).
    pub static_dir: Option<PathBuf>,
    /// `HEARTH_MEDIA_DIR`: where uploaded images are stored (created at start-up), default
    /// `.hearth/media` relative to the working directory; served at `/media/<name>`.
    pub media_dir: PathBuf,
    /// `HEARTH_LOG_FORMAT`: `json` or `pretty` (default: json in production).
    pub log_format: LogFormat,
    /// `REDIS_URL`: fan-out between instances; without it, delivery stays in process.
    pub redis_url: Option<String>,
    /// `HEARTH_REDIS_PREFIX`: namespace of Hearth's Redis channels, default `hearth`.
    pub redis_prefix: String,
    /// `HEARTH_WS_RATE_PER_SEC`: chat messages a user may send per second, default 5.
    pub ws_rate_per_sec: NonZeroU32,
    /// `HEARTH_WS_RATE_BURST`: messages a user may send at once before the rate applies,
    /// default 10.
    pub ws_rate_burst: NonZeroU32,
    /// `HEARTH_WS_PING_SECS`: the server pings every socket this often, default 20; a socket
    /// that misses two pongs is closed.
    pub ws_ping_interval: Duration,
    /// `HEARTH_EVENT_RETENTION_DAYS`: how long each user's event log keeps an event (what a
    /// personal socket resumes from), default 30; a client away longer gets `resync`.
    pub event_retention: Duration,
    /// Whether this instance moves the member counts of popular servers that quietened down
    /// back to their rows (every 10 s). Always on in a deployment; tests that look at the slots
    /// turn it off and fold when they mean to.
    pub fold_member_counts: bool,
    /// `HEARTH_PRESENCE_LIMIT`: past this many users online, a channel is large: its sockets
    /// hear its online count every 2 s and a first page of who is online instead of every
    /// arrival and departure (default 100).
    pub presence_limit: usize,
    /// `HEARTH_RATE_LOGIN_FAILURES`, `HEARTH_RATE_LOGIN_ADDRESS`, `HEARTH_RATE_REGISTER_ADDRESS`,
    /// `HEARTH_RATE_REFRESH_ACCOUNT`: the REST rate limits (`<requests>/<seconds>` or `off`).
    pub limits: LimitSettings,
    /// `HEARTH_TRUSTED_PROXIES`: proxies whose `Forwarded` / `X-Forwarded-For` is believed;
    /// default none (the peer address is the client).
    pub trusted_proxies: TrustedProxies,
    /// `HEARTH_METRICS_ADDR`: where `GET /metrics` is served (say `127.0.0.1:9100`); default
    /// off.
    pub metrics_addr: Option<SocketAddr>,
}

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/hearth";
const DEFAULT_CORS_ORIGINS: [&str; 2] = ["http://localhost:5173", "http://127.0.0.1:5173"];
const DEFAULT_MEDIA_DIR: &str = ".hearth/media";
/// Where `npm run build` (and so `make run`) puts the SPA, relative to the repository root.
const DEFAULT_STATIC_DIR: &str = "frontend/dist";
/// Shortest secret accepted in production (256 bits, as HS256 wants).
const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Settings {
    /// Local defaults against `database_url`, with a random secret; tests start from here.
    pub fn local(database_url: impl Into<String>) -> Self {
        Self {
            environment: Environment::Local,
            host: "127.0.0.1".to_owned(),
            port: 8000,
            database_url: DatabaseUrl::new(database_url),
            db_pool_size: 16,
            db_timeout: Duration::from_millis(3000),
            jwt_secret: JwtSecret::random(),
            jwt_secret_generated: true,
            access_token_ttl: Duration::from_secs(300),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            cors_origins: DEFAULT_CORS_ORIGINS
                .iter()
                .map(|o| (*o).to_owned())
                .collect(),
            cookie_secure: false,
            body_limit: 64 * 1024,
            workers: cores(),
            hash_concurrency: cores(),
            static_dir: None,
            media_dir: PathBuf::from(DEFAULT_MEDIA_DIR),
            log_format: LogFormat::Pretty,
            redis_url: None,
            redis_prefix: "hearth".to_owned(),
            ws_rate_per_sec: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            ws_rate_burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            ws_ping_interval: Duration::from_secs(20),
            event_retention: Duration::from_secs(30 * DAY),
            fold_member_counts: true,
            presence_limit: 100,
            limits: LimitSettings::default(),
            trusted_proxies: TrustedProxies::default(),
            metrics_addr: None,
        }
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|value| !value.trim().is_empty());
        let environment = match get("HEARTH_ENV").as_deref().map(str::to_ascii_lowercase) {
            None => Environment::Local,
            Some(env) if env == "local" || env == "development" || env == "dev" => {
                Environment::Local
            }
            Some(env) if env == "production" || env == "prod" => Environment::Production,
            Some(other) => bail!("HEARTH_ENV must be `local` or `production`, not `{other}`"),
        };
        let production = environment == Environment::Production;
        let mut settings =
            Self::local(get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()));
        settings.environment = environment;

        match get("HEARTH_JWT_SECRET") {
            Some(secret) => {
                if production && secret.len() < MIN_PRODUCTION_SECRET_BYTES {
                    bail!(
                        "HEARTH_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes in production"
                    );
                }
                settings.jwt_secret = JwtSecret::new(secret.into_bytes());
                settings.jwt_secret_generated = false;
            }
            None if production => bail!(
                "refusing to start in production without HEARTH_JWT_SECRET (at least {MIN_PRODUCTION_SECRET_BYTES} random bytes)"
            ),
            None => {}
        }

        if let Some(host) = get("HEARTH_HOST") {
            settings.host = host;
        }
        settings.port = parse(&get, "HEARTH_PORT", settings.port)?;
        settings.db_pool_size = parse(&get, "HEARTH_DB_POOL_SIZE", settings.db_pool_size)?;
        settings.db_timeout = Duration::from_millis(parse(&get, "HEARTH_DB_TIMEOUT_MS", 3000_u64)?);
        settings.access_token_ttl =
            Duration::from_secs(parse(&get, "HEARTH_ACCESS_TOKEN_TTL_SECS", 300_u64)?);
        settings.refresh_token_ttl = Duration::from_secs(parse(
            &get,
            "HEARTH_REFRESH_TOKEN_TTL_SECS",
            30 * 24 * 3600_u64,
        )?);
        if let Some(origins) = get("HEARTH_CORS_ORIGINS") {
            settings.cors_origins = origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            for origin in &settings.cors_origins {
                check_origin(origin)?;
            }
        }
        settings.cookie_secure = parse(&get, "HEARTH_COOKIE_SECURE", production)?;
        settings.body_limit = parse(&get, "HEARTH_BODY_LIMIT_BYTES", settings.body_limit)?;
        settings.workers = parse(&get, "HEARTH_WORKERS", settings.workers)?.max(1);
        settings.hash_concurrency =
            parse(&get, "HEARTH_HASH_CONCURRENCY", settings.hash_concurrency)?.max(1);
        settings.static_dir = Some(
            get("HEARTH_STATIC_DIR")
                .map_or_else(|| PathBuf::from(DEFAULT_STATIC_DIR), PathBuf::from),
        );
        if let Some(dir) = get("HEARTH_MEDIA_DIR") {
            settings.media_dir = PathBuf::from(dir);
        }
        settings.redis_url = get("REDIS_URL");
        if let Some(prefix) = get("HEARTH_REDIS_PREFIX") {
            settings.redis_prefix = prefix;
        }
        settings.ws_rate_per_sec = parse(&get, "HEARTH_WS_RATE_PER_SEC", settings.ws_rate_per_sec)?;
        settings.ws_rate_burst = parse(&get, "HEARTH_WS_RATE_BURST", settings.ws_rate_burst)?;
        settings.ws_ping_interval =
            Duration::from_secs(parse(&get, "HEARTH_WS_PING_SECS", 20_u64)?.max(1));
        settings.presence_limit = parse(&get, "HEARTH_PRESENCE_LIMIT", settings.presence_limit)?;
        settings.event_retention = Duration::from_secs(
            parse(&get, "HEARTH_EVENT_RETENTION_DAYS", 30_u64)?
                .max(1)
                .saturating_mul(DAY),
        );
        for (key, limit) in [
            (
                "HEARTH_RATE_LOGIN_FAILURES",
                &mut settings.limits.login_failures,
            ),
            (
                "HEARTH_RATE_LOGIN_ADDRESS",
                &mut settings.limits.login_attempts,
            ),
            (
                "HEARTH_RATE_REGISTER_ADDRESS",
                &mut settings.limits.registrations,
            ),
            (
                "HEARTH_RATE_REFRESH_ACCOUNT",
                &mut settings.limits.refreshes,
            ),
            (
                "HEARTH_RATE_CONVERSATIONS_ACCOUNT",
                &mut settings.limits.conversations,
            ),
            ("HEARTH_RATE_BLOCKS_ACCOUNT", &mut settings.limits.blocks),
            ("HEARTH_RATE_ALERTS_ACCOUNT", &mut settings.limits.alerts),
            (
                "HEARTH_RATE_ONLINE_ACCOUNT",
                &mut settings.limits.online_lists,
            ),
            ("HEARTH_RATE_ACKS_ACCOUNT", &mut settings.limits.acks),
            (
                "HEARTH_RATE_UNREAD_ACCOUNT",
                &mut settings.limits.unread_lists,
            ),
            ("HEARTH_RATE_PINS_ACCOUNT", &mut settings.limits.pins),
            (
                "HEARTH_RATE_REACTIONS_ACCOUNT",
                &mut settings.limits.reactions,
            ),
            ("HEARTH_RATE_SEARCH_ACCOUNT", &mut settings.limits.searches),
        ] {
            if let Some(raw) = get(key) {
                *limit = Rate::parse(&raw).map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
            }
        }
        if let Some(list) = get("HEARTH_TRUSTED_PROXIES") {
            settings.trusted_proxies = TrustedProxies::parse(&list)
                .map_err(|e| anyhow::anyhow!("HEARTH_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(addr) = get("HEARTH_METRICS_ADDR") {
            settings.metrics_addr = Some(addr.trim().parse().with_context(|| {
                format!("HEARTH_METRICS_ADDR must be an address and port (127.0.0.1:9100), not `{addr}`")
            })?);
        }
        settings.log_format = match get("HEARTH_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some(other) => bail!("HEARTH_LOG_FORMAT must be `json` or `pretty`, not `{other}`"),
        };
        Ok(settings)
    }
}

/// An origin is `scheme://host[:port]`; a wildcard cannot be combined with credentials.
fn check_origin(origin: &str) -> anyhow::Result<()> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .with_context(|| {
            format!("HEARTH_CORS_ORIGINS: `{origin}` must start with http:// or https://")
        })?;
    let valid_host = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid_host {
        bail!("HEARTH_CORS_ORIGINS: `{origin}` is not an origin (scheme://host[:port], no path, no wildcard)");
    }
    Ok(())
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match get(key) {
        Some(raw) => raw
            .trim()
            .parse()
            .with_context(|| format!("{key} has an invalid value `{raw}`")),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|key| map.get(key).cloned())
    }

    #[test]
    fn local_mode_without_secret_generates_one() -> anyhow::Result<()> {
        let s = settings(&[])?;
        assert_eq!(s.environment, Environment::Local);
        assert!(s.jwt_secret_generated);
        assert_eq!(s.port, 8000);
        assert_eq!(s.cors_origins.len(), 2);
        Ok(())
    }

    #[test]
    fn production_without_secret_refuses_to_start() {
        let err = settings(&[("HEARTH_ENV", "production")]).err();
        assert!(err.is_some_and(|e| e.to_string().contains("HEARTH_JWT_SECRET")));
    }

    #[test]
    fn production_with_short_secret_refuses_to_start() {
        assert!(settings(&[
            ("HEARTH_ENV", "production"),
            ("HEARTH_JWT_SECRET", "changeme")
        ])
        .is_err());
    }

    #[test]
    fn production_with_strong_secret_starts_with_secure_cookies() -> anyhow::Result<()> {
        let secret = "x".repeat(48);
        let s = settings(&[("HEARTH_ENV", "production"), ("HEARTH_JWT_SECRET", &secret)])?;
        assert!(!s.jwt_secret_generated);
        assert!(s.cookie_secure);
        assert_eq!(s.log_format, LogFormat::Json);
        Ok(())
    }

    #[test]
    fn invalid_numbers_are_reported_by_name() {
        let err = settings(&[("HEARTH_PORT", "eighty")]).err();
        assert!(err.is_some_and(|e| e.to_string().contains("HEARTH_PORT")));
    }

    #[test]
    fn cors_origins_are_validated() -> anyhow::Result<()> {
        let s = settings(&[(
            "HEARTH_CORS_ORIGINS",
            "https://chat.example.com, http://[::1]:5173/",
        )])?;
        assert_eq!(
            s.cors_origins,
            ["https://chat.example.com", "http://[::1]:5173"]
        );
        for bad in ["*", "chat.example.com", "https://x.com/path", "https://"] {
            assert!(settings(&[("HEARTH_CORS_ORIGINS", bad)]).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn media_dir_defaults_to_a_local_folder_and_can_be_moved() -> anyhow::Result<()> {
        assert_eq!(settings(&[])?.media_dir, PathBuf::from(".hearth/media"));
        let s = settings(&[("HEARTH_MEDIA_DIR", "/var/lib/hearth/media")])?;
        assert_eq!(s.media_dir, PathBuf::from("/var/lib/hearth/media"));
        Ok(())
    }

    #[test]
    fn rate_limits_proxies_and_the_metrics_address_are_read() -> anyhow::Result<()> {
        let s = settings(&[])?;
        assert_eq!(s.limits, LimitSettings::default());
        assert_eq!(s.metrics_addr, None, "metrics are off by default");
        let s = settings(&[
            ("HEARTH_RATE_LOGIN_FAILURES", "3/60"),
            ("HEARTH_RATE_REGISTER_ADDRESS", "off"),
            ("HEARTH_TRUSTED_PROXIES", "10.0.0.0/8"),
            ("HEARTH_METRICS_ADDR", "127.0.0.1:9100"),
        ])?;
        assert_eq!(s.limits.login_failures, Rate::parse("3/60").ok().flatten());
        assert_eq!(s.limits.registrations, None);
        assert_eq!(
            s.limits.login_attempts,
            LimitSettings::default().login_attempts
        );
        assert_ne!(s.trusted_proxies, TrustedProxies::default());
        assert_eq!(s.metrics_addr.map(|a| a.port()), Some(9100));
        for (key, bad) in [
            ("HEARTH_RATE_LOGIN_ADDRESS", "lots"),
            ("HEARTH_TRUSTED_PROXIES", "proxy.internal"),
            ("HEARTH_METRICS_ADDR", "9100"),
        ] {
            let err = settings(&[(key, bad)]).err();
            assert!(
                err.is_some_and(|e| e.to_string().contains(key)),
                "{key}={bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Settings::local("postgres://hearth:hunter2@db.internal:5432/hearth");
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://hearth:<redacted>@db.internal:5432/hearth"));
        assert!(format!("{:?}", s.jwt_secret).contains("redacted"));
    }
}
