//! The soak (`make soak`, issue 7): one server for a bounded time under rounds of mixed, moderate
//! REST and WebSocket load, its resident memory sampled after every round.
//!
//! A round runs is_member, the server list and join + leave one after the other (closed loops on
//! a few connections) while a chat (sockets on the lobby channel, a few senders at a moderate
//! rate) runs alongside them, then a small fan-out; every socket of a round is closed before the
//! next one, so each round also churns a few hundred WebSocket connections. After the round the
//! server's VmRSS is read. Logins run alongside too (a few at once, each client logging in again
//! as soon as it is answered), so memory that grows with logins (password hashing's working
//! memory) falls under the same rule.
//!
//! The soak fails when a request failed (an error or a wrong answer), a message was lost or
//! delivered twice, the server died, or its memory kept growing.
//!
//! "Kept growing" ([`memory_check`]): the first 20% of the rounds (rounded up) are a warm-up
//! (pools filling, caches, allocator arenas); the other rounds are split into three thirds, and
//! memory kept growing when the peak VmRSS of the last third exceeds the peak of the middle third
//! by more than 5% + 4 MiB. Peaks rather than single samples, because an allocator keeps freed
//! memory and RSS wobbles by a few MiB from round to round; a leak raises the peaks themselves.
//! Comparing the last two thirds of the run keeps a slow warm-up out of the verdict. What that
//! can see: in a 10-minute soak the two thirds are about 160 s apart, so a server of ~100 MiB
//! fails at a leak of roughly 3 MiB per minute or more; slower leaks need a longer soak
//! (`--soak 3600`).

use crate::process;
use crate::scenarios::{broadcast, rest, Broadcast, HttpLoad, LoginMemory, Target};
use crate::stats::Row;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const MIB: f64 = 1024.0 * 1024.0;

/// The memory criterion's tolerance: the last third may exceed the middle third by this
/// fraction of the middle third's peak ...
pub const GROWTH_FRACTION: f64 = 0.05;
/// ... plus this many bytes (allocator noise: arenas, buffers kept by the allocator).
pub const GROWTH_SLACK_BYTES: u64 = 4 * 1024 * 1024;

/// The memory criterion, in words (for the report).
pub const GROWTH_CRITERION: &str =
    "after a warm-up of the first 20% of the rounds (rounded up, at \
     least one), the other rounds are split into three thirds; memory kept growing when the peak \
     VmRSS of the last third exceeds the peak of the middle third by more than 5% + 4 MiB \
     (judged from 3 rounds after the warm-up on)";

/// A round's nominal length when the soak is sized from a total duration.
const ROUND_SECONDS: u64 = 25;
/// What a round spends outside its HTTP phase (the fan-out, the pause before the sample).
const ROUND_OVERHEAD_SECONDS: f64 = 4.0;

/// The sizes of one soak.
#[derive(Debug, Clone, Serialize)]
pub struct SoakPlan {
    pub rounds: usize,
    /// Each of the three HTTP scenarios of a round.
    pub http: HttpLoad,
    /// Runs alongside the HTTP scenarios.
    pub chat: Broadcast,
    /// After the HTTP scenarios and the chat.
    pub fanout: Broadcast,
    /// Logins while the HTTP scenarios and the chat run.
    pub logins: LoginMemory,
    #[serde(with = "crate::scenarios::secs")]
    pub settle: Duration,
    #[serde(with = "crate::scenarios::secs")]
    pub drain: Duration,
}

impl SoakPlan {
    /// About `seconds` of soak in rounds of about 25 s (at least three rounds): 16 HTTP
    /// connections; a chat of 100 sockets, 10 of them sending 10 messages/s each while the HTTP
    /// scenarios run; 4 clients logging in, 200 logins a round (a core's worth of hashing for
    /// a few seconds); a fan-out of 200 sockets, one sender, 40 messages at 20/s. The server stays
    /// busy without being pushed to its limits: a soak looks for leaks and failures.
    pub fn for_seconds(seconds: u64) -> Self {
        let rounds = usize::try_from(seconds / ROUND_SECONDS)
            .unwrap_or(usize::MAX)
            .max(3);
        let round = seconds as f64 / rounds as f64;
        let per_scenario = ((round - ROUND_OVERHEAD_SECONDS) / 3.0).max(1.5);
        let warmup = 1.0;
        let http = HttpLoad {
            connections: 16,
            warmup: Duration::from_secs_f64(warmup),
            duration: Duration::from_secs_f64(per_scenario - warmup),
        };
        // The chat sends for about 80% of the HTTP phase (its sockets open and settle first).
        let chat_rate = 10.0;
        let chat_seconds = 3.0 * per_scenario * 0.8;
        Self {
            rounds,
            http,
            chat: Broadcast {
                sockets: 100,
                senders: 10,
                messages: ((chat_seconds * chat_rate) as usize).max(10),
                rate: chat_rate,
            },
            fanout: Broadcast {
                sockets: 200,
                senders: 1,
                messages: 40,
                rate: 20.0,
            },
            logins: LoginMemory {
                logins: 200,
                at_once: 4,
            },
            settle: Duration::from_secs(1),
            drain: Duration::from_secs(10),
        }
    }

    /// Toy sizes for the smoke test: three rounds of well under a second each.
    pub fn smoke() -> Self {
        Self {
            rounds: 3,
            http: HttpLoad {
                connections: 4,
                warmup: Duration::from_millis(50),
                duration: Duration::from_millis(150),
            },
            chat: Broadcast {
                sockets: 8,
                senders: 3,
                messages: 6,
                rate: 20.0,
            },
            fanout: Broadcast {
                sockets: 8,
                senders: 1,
                messages: 5,
                rate: 50.0,
            },
            logins: LoginMemory {
                logins: 6,
                at_once: 2,
            },
            settle: Duration::from_millis(100),
            drain: Duration::from_secs(3),
        }
    }
}

/// What one round did, and the server's memory after it.
#[derive(Debug, Clone, Serialize)]
pub struct SoakRound {
    /// From 1.
    pub round: usize,
    /// Seconds since the soak started, at the end of the round.
    pub at_seconds: f64,
    /// The server's VmRSS after the round (its sockets closed), when the server is known.
    pub rss_bytes: Option<u64>,
    /// Why the server's VmRSS could not be read (it is gone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_error: Option<String>,
    /// HTTP requests answered correctly in the measured windows.
    pub requests: u64,
    /// WebSocket messages delivered (first deliveries).
    pub deliveries: u64,
    pub errors: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub first_error: Option<String>,
    pub rows: Vec<Row>,
}

impl SoakRound {
    fn from_rows(
        round: usize,
        at: Duration,
        rss: Option<anyhow::Result<u64>>,
        rows: Vec<Row>,
    ) -> Self {
        let (rss_bytes, rss_error) = match rss {
            Some(Ok(bytes)) => (Some(bytes), None),
            Some(Err(e)) => (None, Some(format!("{e:#}"))),
            None => (None, None),
        };
        let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
        // The WebSocket rows are the ones that count losses.
        Self {
            round,
            at_seconds: at.as_secs_f64(),
            rss_bytes,
            rss_error,
            requests: rows
                .iter()
                .filter(|r| r.lost.is_none())
                .map(|r| r.count)
                .sum(),
            deliveries: rows
                .iter()
                .filter(|r| r.lost.is_some())
                .map(|r| r.count)
                .sum(),
            errors: sum(|r| r.errors),
            lost: sum(|r| r.lost.unwrap_or(0)),
            duplicates: sum(|r| r.duplicates.unwrap_or(0)),
            first_error: rows.iter().find_map(|r| {
                r.first_error
                    .as_ref()
                    .map(|e| format!("{}: {e}", r.scenario))
            }),
            rows,
        }
    }

    /// One line for the progress log.
    pub fn summary(&self) -> String {
        format!(
            "round {}: RSS {} MiB, {} requests, {} deliveries, errors {}, lost {}, dups {}",
            self.round,
            self.rss_bytes
                .map_or_else(|| "-".to_owned(), |b| format!("{:.1}", b as f64 / MIB)),
            self.requests,
            self.deliveries,
            self.errors,
            self.lost,
            self.duplicates
        )
    }
}

/// Runs round `number` of `plan` against `target`; with `server_pid`, reads the server's VmRSS
/// after it.
pub async fn round(
    target: &Target,
    plan: &SoakPlan,
    number: usize,
    started: Instant,
    server_pid: Option<u32>,
) -> SoakRound {
    let lobby = broadcast::lobby(target);
    let http = async {
        vec![
            rest::is_member(target, plan.http).await,
            rest::server_list(target, plan.http).await,
            rest::join_leave(target, plan.http).await,
        ]
    };
    let chat = broadcast::run(target, "chat", plan.chat, lobby, plan.settle, plan.drain);
    // Memory is read after the round, not by the logins' own row.
    let logins = rest::login_memory(target, plan.logins, None);
    let (mut rows, chat, logins) = futures_util::future::join3(http, chat, logins).await;
    rows.push(chat);
    rows.push(logins);
    rows.push(
        broadcast::run(
            target,
            "fanout",
            plan.fanout,
            lobby,
            plan.settle,
            plan.drain,
        )
        .await,
    );
    // Let the closed sockets be released before sampling.
    tokio::time::sleep(plan.settle).await;
    let rss = server_pid.map(process::rss_bytes);
    SoakRound::from_rows(number, started.elapsed(), rss, rows)
}

/// A whole soak: its rounds, and why it stopped early (if it did).
#[derive(Debug, Clone, Serialize)]
pub struct Soak {
    /// The server's VmRSS before the first round.
    pub rss_before_bytes: Option<u64>,
    pub rounds: Vec<SoakRound>,
    /// Set when the soak could not go on (the server died, its memory could not be read).
    pub aborted: Option<String>,
}

/// Runs every round of `plan`, calling `after_round` after each (the orchestration checks there
/// that the server is still alive; an `Err` ends the soak, which then fails).
pub async fn run(
    target: &Target,
    plan: &SoakPlan,
    server_pid: Option<u32>,
    mut after_round: impl FnMut(&SoakRound) -> anyhow::Result<()>,
) -> Soak {
    let started = Instant::now();
    let mut soak = Soak {
        rss_before_bytes: server_pid.and_then(|pid| process::rss_bytes(pid).ok()),
        rounds: Vec::new(),
        aborted: None,
    };
    for number in 1..=plan.rounds {
        let done = round(target, plan, number, started, server_pid).await;
        let checked = after_round(&done);
        let rss_error = done.rss_error.clone();
        soak.rounds.push(done);
        if let Err(e) = checked {
            soak.aborted = Some(format!("{e:#}"));
            break;
        }
        if let Some(e) = rss_error {
            soak.aborted = Some(format!(
                "cannot read the server's memory after round {number} (is it gone?): {e}"
            ));
            break;
        }
    }
    soak
}

/// The memory criterion applied to the samples of a soak (see [`GROWTH_CRITERION`]).
#[derive(Debug, Clone, Serialize)]
pub struct MemoryCheck {
    pub warmup_rounds: usize,
    pub middle_peak_bytes: Option<u64>,
    pub last_peak_bytes: Option<u64>,
    /// The highest last-third peak that passes.
    pub limit_bytes: Option<u64>,
    /// `None`: not judged (too few rounds, or a round without a sample).
    pub kept_growing: Option<bool>,
}

/// Judges the VmRSS samples taken after each round, in order.
pub fn memory_check(samples: &[Option<u64>]) -> MemoryCheck {
    let n = samples.len();
    let warmup_rounds = n.div_ceil(5).max(1).min(n);
    let mut check = MemoryCheck {
        warmup_rounds,
        middle_peak_bytes: None,
        last_peak_bytes: None,
        limit_bytes: None,
        kept_growing: None,
    };
    let Some(rest) = samples
        .get(warmup_rounds..)
        .and_then(|rest| rest.iter().copied().collect::<Option<Vec<u64>>>())
    else {
        return check;
    };
    let m = rest.len();
    if m < 3 {
        return check;
    }
    let peak_of = |third: usize| {
        rest.iter()
            .enumerate()
            .filter(|(i, _)| i * 3 / m == third)
            .map(|(_, &rss)| rss)
            .max()
    };
    let (Some(middle), Some(last)) = (peak_of(1), peak_of(2)) else {
        return check;
    };
    let limit = (middle as f64 * (1.0 + GROWTH_FRACTION)) as u64 + GROWTH_SLACK_BYTES;
    check.middle_peak_bytes = Some(middle);
    check.last_peak_bytes = Some(last);
    check.limit_bytes = Some(limit);
    check.kept_growing = Some(last > limit);
    check
}

/// The soak's verdict: every criterion that failed, in words.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub failures: Vec<String>,
    pub memory: MemoryCheck,
    pub requests: u64,
    pub deliveries: u64,
    pub errors: u64,
    pub lost: u64,
    pub duplicates: u64,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl Soak {
    pub fn verdict(&self, plan: &SoakPlan) -> Verdict {
        let sum = |f: fn(&SoakRound) -> u64| self.rounds.iter().map(f).sum::<u64>();
        let samples: Vec<Option<u64>> = self.rounds.iter().map(|r| r.rss_bytes).collect();
        let memory = memory_check(&samples);
        let verdict = Verdict {
            failures: Vec::new(),
            requests: sum(|r| r.requests),
            deliveries: sum(|r| r.deliveries),
            errors: sum(|r| r.errors),
            lost: sum(|r| r.lost),
            duplicates: sum(|r| r.duplicates),
            memory,
        };
        let mut failures = Vec::new();
        if let Some(why) = &self.aborted {
            failures.push(format!(
                "the server died or vanished after {} of {} rounds: {why}",
                self.rounds.len(),
                plan.rounds
            ));
        } else if self.rounds.len() < plan.rounds {
            failures.push(format!(
                "only {} of {} rounds ran",
                self.rounds.len(),
                plan.rounds
            ));
        }
        if verdict.errors > 0 {
            let first = self.rounds.iter().find_map(|r| {
                r.first_error
                    .as_ref()
                    .map(|e| format!("round {}: {e}", r.round))
            });
            failures.push(format!(
                "requests failed: {} errors or wrong answers (first: {})",
                verdict.errors,
                first.as_deref().unwrap_or("?")
            ));
        }
        if verdict.lost > 0 {
            failures.push(format!(
                "messages lost: {} deliveries never arrived",
                verdict.lost
            ));
        }
        if verdict.duplicates > 0 {
            failures.push(format!(
                "messages duplicated: {} deliveries arrived twice",
                verdict.duplicates
            ));
        }
        if let (Some(true), Some(middle), Some(last), Some(limit)) = (
            verdict.memory.kept_growing,
            verdict.memory.middle_peak_bytes,
            verdict.memory.last_peak_bytes,
            verdict.memory.limit_bytes,
        ) {
            failures.push(format!(
                "memory kept growing: peak VmRSS of the last third {:.1} MiB > middle third's \
                 {:.1} MiB + 5% + 4 MiB = {:.1} MiB",
                last as f64 / MIB,
                middle as f64 / MIB,
                limit as f64 / MIB
            ));
        }
        Verdict {
            failures,
            ..verdict
        }
    }
}

/// The rounds as a compact table, then the memory judgement.
pub fn table(soak: &Soak, verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5} {:>7} {:>8} {:>11} {:>12} {:>7} {:>6} {:>5}",
        "round", "at s", "RSS MiB", "requests", "deliveries", "errors", "lost", "dups"
    );
    if let Some(before) = soak.rss_before_bytes {
        let _ = writeln!(
            out,
            "{:>5} {:>7} {:>8.1}",
            "start",
            "0",
            before as f64 / MIB
        );
    }
    for r in &soak.rounds {
        let rss = r
            .rss_bytes
            .map_or_else(|| "-".to_owned(), |b| format!("{:.1}", b as f64 / MIB));
        let _ = writeln!(
            out,
            "{:>5} {:>7.0} {:>8} {:>11} {:>12} {:>7} {:>6} {:>5}",
            r.round, r.at_seconds, rss, r.requests, r.deliveries, r.errors, r.lost, r.duplicates
        );
    }
    let _ = writeln!(
        out,
        "{:>5} {:>7} {:>8} {:>11} {:>12} {:>7} {:>6} {:>5}",
        "total",
        "",
        "",
        verdict.requests,
        verdict.deliveries,
        verdict.errors,
        verdict.lost,
        verdict.duplicates
    );
    let memory = &verdict.memory;
    let _ = match (
        memory.kept_growing,
        memory.middle_peak_bytes,
        memory.last_peak_bytes,
        memory.limit_bytes,
    ) {
        (Some(grew), Some(middle), Some(last), Some(limit)) => writeln!(
            out,
            "\nmemory: {} (warm-up {} rounds; peak of the middle third {:.1} MiB, of the last \
             third {:.1} MiB, limit {:.1} MiB)",
            if grew { "KEPT GROWING" } else { "steady" },
            memory.warmup_rounds,
            middle as f64 / MIB,
            last as f64 / MIB,
            limit as f64 / MIB
        ),
        _ => writeln!(
            out,
            "\nmemory: not judged (needs 3 sampled rounds after a warm-up of {})",
            memory.warmup_rounds
        ),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 1024 * 1024;

    fn mib(values: &[u64]) -> Vec<Option<u64>> {
        values.iter().map(|v| Some(v * M)).collect()
    }

    #[test]
    fn a_steady_server_with_noise_passes() {
        // 24 rounds: the warm-up climbs, then noise of a few MiB.
        let samples = mib(&[
            40, 60, 70, 74, 75, 76, 78, 75, 77, 79, 76, 78, 77, 80, 76, 79, 78, 81, 77, 79, 80, 78,
            81, 79,
        ]);
        let check = memory_check(&samples);
        assert_eq!(check.warmup_rounds, 5);
        assert_eq!(check.kept_growing, Some(false), "{check:?}");
    }

    #[test]
    fn steady_growth_fails() {
        // 2 MiB more after every round.
        let samples: Vec<Option<u64>> = (0..24).map(|i| Some((80 + 2 * i) * M)).collect();
        let check = memory_check(&samples);
        assert_eq!(check.kept_growing, Some(true), "{check:?}");
    }

    #[test]
    fn an_early_climb_does_not_count() {
        let samples = mib(&[10, 50, 90, 90, 91, 90, 92, 90, 91, 90]);
        assert_eq!(memory_check(&samples).kept_growing, Some(false));
    }

    #[test]
    fn too_few_rounds_are_not_judged() {
        assert_eq!(memory_check(&mib(&[10, 20, 30])).kept_growing, None);
        assert_eq!(memory_check(&[]).kept_growing, None);
        let missing = vec![Some(M), Some(M), None, Some(M), Some(M)];
        assert_eq!(memory_check(&missing).kept_growing, None);
    }

    #[test]
    fn thirds_are_split_after_the_warm_up() {
        // 24 rounds: 5 of warm-up, then thirds of 7, 6 and 6 rounds.
        let mut values = vec![100; 24];
        values[5 + 7 + 6] = 120; // the first round of the last third
        let check = memory_check(&mib(&values));
        assert_eq!(check.middle_peak_bytes, Some(100 * M));
        assert_eq!(check.last_peak_bytes, Some(120 * M));
        assert_eq!(check.kept_growing, Some(true));
    }

    #[test]
    fn a_full_soak_has_about_25_second_rounds() {
        let plan = SoakPlan::for_seconds(600);
        assert_eq!(plan.rounds, 24);
        assert_eq!(plan.http.connections, 16);
        let http = 3.0 * (plan.http.warmup + plan.http.duration).as_secs_f64();
        assert!((20.0..=22.0).contains(&http), "{http}");
        assert!(plan.chat.messages >= 100);
        let short = SoakPlan::for_seconds(30);
        assert_eq!(short.rounds, 3);
        assert!(short.http.duration >= Duration::from_millis(500));
    }
}
