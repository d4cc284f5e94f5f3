//! The REST scenarios: is_member, the server list with member counts, join + leave, and logins
//! at a fixed rate while is_member runs. Each is a closed loop of clients (see [`Script`]) except
//! the logins, which are offered at a fixed rate.

pub mod at_size;
mod catalogue;
pub mod conversation;
mod login;
mod membership;

pub use catalogue::server_list;
pub use login::{login_memory, login_under_load};
pub use membership::{is_member, join_leave, join_leave_hot, join_leave_server};

use super::HttpLoad;
use crate::fixture::Fixture;
use crate::http::HttpConn;
use crate::stats::Tally;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What one closed-loop client sends, and how it judges each answer.
pub(super) trait Script: Send + 'static {
    fn next_request(&mut self) -> &[u8];
    /// `Err(why)` when the answer is not the right one for the state.
    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String>;
    /// Whether the client may stop now (join + leave stops only after a leave).
    fn at_rest(&self) -> bool {
        true
    }
}

/// A tiny xorshift generator: the request mix must not cost the client anything.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// When the measured window starts and ends.
#[derive(Clone, Copy)]
pub(super) struct Window {
    from: Instant,
    until: Instant,
}

impl Window {
    pub(super) fn starting_now(load: &HttpLoad) -> Self {
        let from = Instant::now() + load.warmup;
        Self {
            from,
            until: from + load.duration,
        }
    }

    pub(super) fn contains(&self, at: Instant) -> bool {
        at >= self.from && at < self.until
    }
}

async fn drive(addr: SocketAddr, mut script: impl Script, window: Window) -> Tally {
    let mut conn = HttpConn::new(addr);
    let mut tally = Tally::default();
    // A client that cannot come to rest (errors) still stops.
    let hard_stop = window.until + Duration::from_secs(5);
    loop {
        let started = Instant::now();
        if (started >= window.until && script.at_rest()) || started >= hard_stop {
            break;
        }
        let measured = window.contains(started);
        let verdict = match conn.send(script.next_request()).await {
            Ok(response) => script.check(response.status, response.body),
            Err(e) => {
                // The server is unreachable: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                Err(format!("request failed: {e:#}"))
            }
        };
        match verdict {
            Ok(()) if measured => {
                tally.ok += 1;
                tally.latencies.record(started.elapsed());
            }
            Ok(()) => {}
            Err(why) => tally.error(why),
        }
    }
    tally
}

pub(super) async fn closed_loop<S: Script>(
    addr: SocketAddr,
    scripts: Vec<S>,
    window: Window,
) -> Tally {
    let mut clients = JoinSet::new();
    for script in scripts {
        clients.spawn(drive(addr, script, window));
    }
    let mut total = Tally::default();
    while let Some(done) = clients.join_next().await {
        match done {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(format!("client task failed: {e}")),
        }
    }
    total
}

/// The user a connection acts as: spread over all users.
pub(super) fn user_of(fixture: &Fixture, connection: usize, connections: usize) -> usize {
    connection * fixture.users.len() / connections.max(1) % fixture.users.len().max(1)
}
