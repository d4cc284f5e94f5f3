//! The scenarios. Each takes a [`Target`] (a running server and the data set seeded into its
//! database) and a size, drives load for a bounded time, and returns table rows.

pub mod broadcast;
pub mod crowd;
pub mod direct;
pub mod idle;
pub mod personal;
pub mod rest;

use crate::fixture::Fixture;
use anyhow::Context;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A running server and what was seeded into its database.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// `127.0.0.1:<port>`, the `Host` header.
    pub host: String,
    pub fixture: Arc<Fixture>,
    /// The client that opens the sockets.
    pub client: crate::client::Client,
    /// The server's metrics listener, when it has one: the delivery scenarios report where a
    /// message's time goes from it.
    pub metrics: Option<SocketAddr>,
}

impl Target {
    /// `base_url` is `http://127.0.0.1:<port>` (loopback only).
    pub fn new(base_url: &str, fixture: Fixture) -> anyhow::Result<Self> {
        let host = base_url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .context("the bench speaks plain http:// to a local server")?;
        let addr: SocketAddr = host
            .parse()
            .context("the base URL must be http://IP:PORT")?;
        Ok(Self {
            addr,
            host: host.to_owned(),
            fixture: Arc::new(fixture),
            client: crate::client::Client::Raw,
            metrics: None,
        })
    }
}

/// A closed-loop HTTP load: `connections` clients, each sending its next request as soon as the
/// previous answer arrived; the first `warmup` is not measured.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HttpLoad {
    pub connections: usize,
    #[serde(with = "secs")]
    pub warmup: Duration,
    #[serde(with = "secs")]
    pub duration: Duration,
}

/// A WebSocket broadcast: `sockets` sockets on one channel, the first `senders` of which each
/// send `messages` messages at `rate` per second.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Broadcast {
    pub sockets: usize,
    pub senders: usize,
    pub messages: usize,
    pub rate: f64,
}

/// Direct messages: `pairs` pairs of users, each exchanging a message each way every
/// `interval`, `exchanges` times.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PingPong {
    pub pairs: usize,
    pub exchanges: usize,
    #[serde(with = "secs")]
    pub interval: Duration,
}

/// Personal fan-out: `users` users, each on one personal socket following `follows` of
/// `channels` channels (each channel followed by as many users); one sender per channel sends
/// `messages` messages at `rate` per second.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PersonalFanout {
    pub users: usize,
    pub channels: usize,
    pub follows: usize,
    pub messages: usize,
    pub rate: f64,
}

/// The login_memory scenario's size.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LoginMemory {
    pub logins: usize,
    pub at_once: usize,
}

/// Every scenario's size: [`Plan::full`] is `make bench`, [`Plan::smoke`] the test's.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub http: HttpLoad,
    /// Logins per second offered while is_member runs.
    pub login_rate: f64,
    /// Logins made on a fresh server before its memory is read, and how many at once.
    pub login_memory: LoginMemory,
    pub fanout_slow: Broadcast,
    pub fanout_fast: Broadcast,
    pub chat: Broadcast,
    pub dm: PingPong,
    pub personal_fanout: PersonalFanout,
    pub crowd: crowd::Crowd,
    /// Each request of the data at size, measured like the other REST scenarios but shorter.
    pub at_size: HttpLoad,
    pub idle_sockets: usize,
    /// Idle personal sockets, each following `idle::SUBSCRIPTIONS` channels.
    pub idle_personal_sockets: usize,
    /// After the last message, how long deliveries may still arrive.
    #[serde(with = "secs")]
    pub drain: Duration,
    /// After the sockets are open, how long to let presence frames settle before sending.
    #[serde(with = "secs")]
    pub settle: Duration,
}

impl Plan {
    /// The sizes of issue 6.
    pub fn full() -> Self {
        Self {
            http: HttpLoad {
                connections: 64,
                warmup: Duration::from_secs(2),
                duration: Duration::from_secs(10),
            },
            login_rate: 40.0,
            login_memory: LoginMemory {
                logins: 10_000,
                at_once: 64,
            },
            fanout_slow: Broadcast {
                sockets: 1000,
                senders: 1,
                messages: 200,
                rate: 20.0,
            },
            // 2,000 rather than 200 messages: at 400/s, 200 would last half a second, too short
            // to tell a sustained rate from a burst absorbed by queues.
            fanout_fast: Broadcast {
                sockets: 1000,
                senders: 1,
                messages: 2000,
                rate: 400.0,
            },
            chat: Broadcast {
                sockets: 100,
                senders: 10,
                messages: 200,
                rate: 50.0,
            },
            // 500 pairs, a message each way every 2 s: 500 messages/s, each its own durable
            // commit (no batching across senders).
            dm: PingPong {
                pairs: 500,
                exchanges: 6,
                interval: Duration::from_secs(2),
            },
            // Issue: 1,000 users on personal sockets following 10 channels each, a message per
            // second per channel; 20 messages per channel make a 20 s measured period.
            personal_fanout: PersonalFanout {
                users: 1000,
                channels: 100,
                follows: 10,
                messages: 20,
                rate: 1.0,
            },
            // Issue 17: 10,000 sockets connecting to one channel within 10 s.
            crowd: crowd::Crowd {
                sockets: 10_000,
                within: Duration::from_secs(10),
            },
            // What a request costs at size, not the server's saturation (which the 64-connection
            // scenarios show): a closed loop's latency is mostly its queue.
            at_size: HttpLoad {
                connections: 16,
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(5),
            },
            idle_sockets: 20_000,
            idle_personal_sockets: 5_000,
            drain: Duration::from_secs(10),
            settle: Duration::from_secs(2),
        }
    }

    /// Toy sizes: every scenario in about half a second.
    pub fn smoke() -> Self {
        Self {
            http: HttpLoad {
                connections: 4,
                warmup: Duration::from_millis(100),
                duration: Duration::from_millis(400),
            },
            login_rate: 5.0,
            login_memory: LoginMemory {
                logins: 24,
                at_once: 4,
            },
            fanout_slow: Broadcast {
                sockets: 8,
                senders: 1,
                messages: 8,
                rate: 20.0,
            },
            fanout_fast: Broadcast {
                sockets: 8,
                senders: 1,
                messages: 40,
                rate: 400.0,
            },
            chat: Broadcast {
                sockets: 8,
                senders: 3,
                messages: 10,
                rate: 50.0,
            },
            dm: PingPong {
                pairs: 3,
                exchanges: 3,
                interval: Duration::from_millis(50),
            },
            personal_fanout: PersonalFanout {
                users: 12,
                channels: 6,
                follows: 3,
                messages: 3,
                rate: 10.0,
            },
            crowd: crowd::Crowd {
                sockets: 30,
                within: Duration::from_millis(300),
            },
            at_size: HttpLoad {
                connections: 4,
                warmup: Duration::from_millis(100),
                duration: Duration::from_millis(300),
            },
            idle_sockets: 40,
            idle_personal_sockets: 20,
            drain: Duration::from_secs(3),
            settle: Duration::from_millis(100),
        }
    }
}

/// `Duration` as seconds in the JSON report.
pub(crate) mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
