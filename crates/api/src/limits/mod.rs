//! Rate limits of the REST endpoints that an attacker would hammer: logins (failures per
//! username, attempts per client address), registrations per address, and refreshes per
//! account. Chat messages share one per-user limit whatever the transport
//! ([`MessageLimit`]).
//!
//! Each limit is one of governor's keyed GCRA limiters (a bucket of `burst` requests that
//! refills at `burst` per `period`), in this process's memory: behind a load balancer each
//! instance counts on its own (see the README). The state of a key whose bucket is full again
//! is dropped every minute, so an attacker's many keys cost memory only while they matter.

mod client;
mod store;

pub use client::{ClientAddress, TrustedProxies};

use crate::error::ApiError;
use crate::monitoring::Metrics;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpResponseBuilder;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::{NotUntil, Quota, RateLimiter};
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::ForgettingStore;

/// How much a limit lets through: `burst` requests at once, refilled at `burst` per `period`
/// (written `burst/seconds` in the environment, or `off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(burst: NonZeroU32, period: Duration) -> Self {
        Self { burst, period }
    }

    /// `10/600`: 10 at once, then one more every 60 s. `off`: no limit.
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let invalid = || format!("`{text}` is not `<requests>/<seconds>` (say 10/600) or `off`");
        let (burst, seconds) = text.split_once('/').ok_or_else(invalid)?;
        let burst: NonZeroU32 = burst.trim().parse().map_err(|_| invalid())?;
        let seconds: f64 = seconds.trim().parse().map_err(|_| invalid())?;
        let period = Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|p| !p.is_zero())
            .ok_or_else(invalid)?;
        Ok(Some(Rate::new(burst, period)))
    }

    pub fn quota(self) -> Quota {
        Quota::with_period(self.period / self.burst.get())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.burst)
    }
}

/// What a limited endpoint reports in `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// Requests the bucket holds when full.
    pub limit: u32,
    /// Requests left right now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
}

impl Allowance {
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (when the bucket
    /// is full again, in Unix seconds), as GitHub and Discord send them.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 3] {
        let reset = SystemTime::now()
            .checked_add(self.reset_after)
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |at| at.as_secs() + u64::from(at.subsec_nanos() > 0));
        [
            (
                HeaderName::from_static("x-ratelimit-limit"),
                self.limit.into(),
            ),
            (
                HeaderName::from_static("x-ratelimit-remaining"),
                self.remaining.into(),
            ),
            (HeaderName::from_static("x-ratelimit-reset"), reset.into()),
        ]
    }

    /// Adds the headers to a response.
    pub fn apply(allowance: Option<Allowance>, response: &mut HttpResponseBuilder) {
        for header in allowance.iter().flat_map(Allowance::headers) {
            response.insert_header(header);
        }
    }
}

type Limiter<K> = RateLimiter<K, ForgettingStore<K>, DefaultClock, StateInformationMiddleware>;

/// One named, keyed limit.
pub struct Limit<K: Hash + Eq + Clone> {
    name: &'static str,
    /// `None` when the limit is off.
    limiter: Option<Limiter<K>>,
    store: ForgettingStore<K>,
    refused: metrics::Counter,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    pub fn new(name: &'static str, rate: Option<Rate>, metrics: &Metrics) -> Self {
        let store = ForgettingStore::default();
        let limiter = rate.map(|rate| {
            RateLimiter::<K, _, _, governor::middleware::NoOpMiddleware>::new(
                rate.quota(),
                store.clone(),
                DefaultClock::default(),
            )
            .with_middleware::<StateInformationMiddleware>()
        });
        Self {
            name,
            limiter,
            store,
            refused: metrics.rate_limited(name),
        }
    }

    /// Counts one request of `key`: what is left, or a 429 saying when to come back.
    pub fn check(&self, key: &K) -> Result<Option<Allowance>, ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        decide(self.name, limiter.check_key(key), &self.refused).map(Some)
    }

    /// Forgets what `key` spent: its next request finds a full bucket.
    pub fn forget(&self, key: &K) {
        self.store.forget(key);
    }

    /// Drops the keys whose bucket is full again.
    fn shrink(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// A limiter's decision as an allowance, or a 429 naming `limit`.
pub fn decide(
    limit: &'static str,
    outcome: Result<StateSnapshot, NotUntil<<DefaultClock as Clock>::Instant>>,
    refused: &metrics::Counter,
) -> Result<Allowance, ApiError> {
    match outcome {
        Ok(snapshot) => {
            let quota = snapshot.quota();
            let burst = quota.burst_size().get();
            let remaining = snapshot.remaining_burst_capacity();
            Ok(Allowance {
                limit: burst,
                remaining,
                reset_after: quota.replenish_interval() * (burst - remaining.min(burst)),
            })
        }
        Err(not_until) => {
            refused.increment(1);
            let quota = not_until.quota();
            let retry_after = not_until.wait_time_from(DefaultClock::default().now());
            let burst = quota.burst_size().get();
            Err(ApiError::RateLimited {
                limit,
                retry_after,
                allowance: Allowance {
                    limit: burst,
                    remaining: 0,
                    reset_after: retry_after + quota.replenish_interval() * (burst - 1),
                },
            })
        }
    }
}

/// The limits' settings (`HEARTH_RATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed logins per username (known or not).
    pub login_failures: Option<Rate>,
    /// Login attempts per client address.
    pub login_attempts: Option<Rate>,
    /// Registrations per client address.
    pub registrations: Option<Rate>,
    /// Session refreshes per account.
    pub refreshes: Option<Rate>,
    /// Conversation changes per account: opening a direct conversation, creating a group,
    /// adding someone to one, leaving one.
    pub conversations: Option<Rate>,
    /// Blocks and unblocks per account.
    pub blocks: Option<Rate>,
    /// Alerts (a refused action told to the user's other clients) per account: past it, a
    /// refusal is still answered where it happened, just not repeated everywhere.
    pub alerts: Option<Rate>,
    /// Pages of a channel's online list (`GET /api/channels/{id}/online/`) per account.
    pub online_lists: Option<Rate>,
    /// Acks (`POST .../ack/`) per account.
    pub acks: Option<Rate>,
    /// Reads of `GET /api/me/unread/` per account.
    pub unread_lists: Option<Rate>,
    /// Pins and unpins per account.
    pub pins: Option<Rate>,
    /// Reactions added and taken back per account.
    pub reactions: Option<Rate>,
    /// Message searches per account.
    pub searches: Option<Rate>,
}

const fn rate(burst: u32, seconds: u64) -> Option<Rate> {
    match NonZeroU32::new(burst) {
        Some(burst) => Some(Rate::new(burst, Duration::from_secs(seconds))),
        None => None,
    }
}

impl Default for LimitSettings {
    /// Defaults a real deployment can keep: a person who mistypes their password a few times,
    /// an office behind one address, or a dozen open tabs never meets them; a script does.
    fn default() -> Self {
        Self {
            // 10 wrong passwords at once, then one more a minute: 1,440 guesses a day at most.
            login_failures: rate(10, 600),
            // 30 attempts at once, then one a second from one address.
            login_attempts: rate(30, 30),
            // 10 accounts at once, then one a minute from one address.
            registrations: rate(10, 600),
            // 20 at once, then one every 10 s per account (a session refreshes every 5 min).
            refreshes: rate(20, 200),
            // 30 at once, then one every 10 s: far more than people start conversations.
            conversations: rate(30, 300),
            // 30 at once, then one every 2 s.
            blocks: rate(30, 60),
            // 10 at once, then one every 6 s.
            alerts: rate(10, 60),
            // 120 pages at once (12,000 users), then two a second.
            online_lists: rate(120, 60),
            // 300 at once, then five a second: a client acks as it scrolls and switches.
            acks: rate(300, 60),
            // 60 at once, then one a second: a client reads it on start and after a resync.
            unread_lists: rate(60, 60),
            // 30 at once, then one every 2 s.
            pins: rate(30, 60),
            // 60 at once, then two a second.
            reactions: rate(60, 30),
            // 30 at once, then one every 2 s: a person refining a query, not a crawler.
            searches: rate(30, 60),
        }
    }
}

/// Every REST limit of this instance.
pub struct Limits {
    /// Keyed by a hash of the lower-cased username: unknown names count as known ones do, and
    /// an attacker's long made-up names are not kept.
    pub login_failures: Limit<u64>,
    pub login_attempts: Limit<IpAddr>,
    pub registrations: Limit<IpAddr>,
    pub refreshes: Limit<hearth_domain::UserId>,
    pub conversations: Limit<hearth_domain::UserId>,
    pub blocks: Limit<hearth_domain::UserId>,
    pub alerts: Limit<hearth_domain::UserId>,
    pub online_lists: Limit<hearth_domain::UserId>,
    pub acks: Limit<hearth_domain::UserId>,
    pub unread_lists: Limit<hearth_domain::UserId>,
    pub pins: Limit<hearth_domain::UserId>,
    pub reactions: Limit<hearth_domain::UserId>,
    pub searches: Limit<hearth_domain::UserId>,
    usernames: RandomState,
}

impl Limits {
    pub fn new(settings: &LimitSettings, metrics: &Metrics) -> Self {
        Self {
            login_failures: Limit::new("login_failures", settings.login_failures, metrics),
            login_attempts: Limit::new("login_attempts", settings.login_attempts, metrics),
            registrations: Limit::new("registrations", settings.registrations, metrics),
            refreshes: Limit::new("refreshes", settings.refreshes, metrics),
            conversations: Limit::new("conversations", settings.conversations, metrics),
            blocks: Limit::new("blocks", settings.blocks, metrics),
            alerts: Limit::new("alerts", settings.alerts, metrics),
            online_lists: Limit::new("online_lists", settings.online_lists, metrics),
            acks: Limit::new("acks", settings.acks, metrics),
            unread_lists: Limit::new("unread_lists", settings.unread_lists, metrics),
            pins: Limit::new("pins", settings.pins, metrics),
            reactions: Limit::new("reactions", settings.reactions, metrics),
            searches: Limit::new("searches", settings.searches, metrics),
            usernames: RandomState::new(),
        }
    }

    /// The key of a username in [`Limits::login_failures`]: logins ignore letter case.
    pub fn username_key(&self, username: &str) -> u64 {
        self.usernames.hash_one(username.to_lowercase())
    }

    /// Drops the state of keys that are back to a full bucket (run every minute).
    pub fn shrink(&self) {
        self.login_failures.shrink();
        self.login_attempts.shrink();
        self.registrations.shrink();
        self.refreshes.shrink();
        self.conversations.shrink();
        self.blocks.shrink();
        self.alerts.shrink();
        self.online_lists.shrink();
        self.acks.shrink();
        self.unread_lists.shrink();
        self.pins.shrink();
        self.reactions.shrink();
        self.searches.shrink();
    }
}

/// Chat messages per user, shared by every socket and by REST posts of this process, so the
/// limit is per user whatever the transport (`HEARTH_WS_RATE_PER_SEC`, `HEARTH_WS_RATE_BURST`).
pub struct MessageLimit {
    limiter: RateLimiter<
        hearth_domain::UserId,
        governor::state::keyed::DefaultKeyedStateStore<hearth_domain::UserId>,
        DefaultClock,
        StateInformationMiddleware,
    >,
    refused: metrics::Counter,
    /// Socket frames of any kind refused by their (looser) per-socket limit.
    pub frames_refused: metrics::Counter,
}

impl MessageLimit {
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32, metrics: &Metrics) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>(),
            refused: metrics.rate_limited("messages"),
            frames_refused: metrics.rate_limited("frames"),
        }
    }

    /// Counts one message of `user` (a REST post): what is left, or a 429.
    pub fn check(&self, user: hearth_domain::UserId) -> Result<Allowance, ApiError> {
        decide("messages", self.limiter.check_key(&user), &self.refused)
    }

    /// Counts one message of `user` (a socket's): `Err` with how long to wait when over, and
    /// the message is refused.
    pub fn take(&self, user: hearth_domain::UserId) -> Result<(), Duration> {
        self.take_held(user)
            .inspect_err(|_| self.refused.increment(1))
    }

    /// As [`MessageLimit::take`], for a message that waits its turn instead of being refused
    /// (the reference dialect's back-pressure): not counted as a refusal.
    pub fn take_held(&self, user: hearth_domain::UserId) -> Result<(), Duration> {
        self.limiter
            .check_key(&user)
            .map(|_| ())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the state of users whose bucket is full again.
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Milliseconds, rounded up: a client that waits exactly this long is never early.
pub fn millis_ceil(wait: Duration) -> u64 {
    let ms = wait.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_requests_per_seconds_or_off() {
        let ten = NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN);
        assert_eq!(
            Rate::parse("10/600"),
            Ok(Some(Rate::new(ten, Duration::from_secs(600))))
        );
        assert_eq!(
            Rate::parse(" 10 / 0.5 "),
            Ok(Some(Rate::new(ten, Duration::from_millis(500))))
        );
        assert_eq!(Rate::parse("off"), Ok(None));
        for bad in ["", "10", "0/60", "10/0", "10/-1", "x/60", "10/abc"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_limit_counts_down_then_refuses_with_when_to_retry() {
        let limit: Limit<u8> = Limit::new("test", rate(2, 20), &Metrics::disabled());
        let first = limit.check(&1).ok().flatten();
        assert_eq!(first.map(|a| (a.limit, a.remaining)), Some((2, 1)));
        assert_eq!(limit.check(&1).ok().flatten().map(|a| a.remaining), Some(0));
        match limit.check(&1) {
            Err(ApiError::RateLimited {
                limit: "test",
                retry_after,
                allowance,
            }) => {
                assert!(retry_after > Duration::from_secs(9), "{retry_after:?}");
                assert!(retry_after <= Duration::from_secs(10), "{retry_after:?}");
                assert_eq!(allowance.remaining, 0);
                assert!(allowance.reset_after > Duration::from_secs(19));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limit.check(&2).is_ok(), "other keys are not affected");
        limit.forget(&1);
        assert!(limit.check(&1).is_ok(), "a forgotten key starts afresh");
    }

    #[test]
    fn a_limit_that_is_off_lets_everything_through_without_headers() {
        let limit: Limit<u8> = Limit::new("test", None, &Metrics::disabled());
        for _ in 0..1000 {
            assert!(matches!(limit.check(&1), Ok(None)));
        }
    }

    #[test]
    fn usernames_are_keyed_regardless_of_case() {
        let limits = Limits::new(&LimitSettings::default(), &Metrics::disabled());
        assert_eq!(limits.username_key("Alice"), limits.username_key("alice"));
        assert_ne!(limits.username_key("alice"), limits.username_key("bob"));
    }

    #[test]
    fn retry_after_is_rounded_up_to_the_millisecond() {
        assert_eq!(millis_ceil(Duration::from_micros(1500)), 2);
        assert_eq!(millis_ceil(Duration::from_millis(3)), 3);
        assert_eq!(millis_ceil(Duration::ZERO), 1);
    }
}
