//! Hearth's load tool (issue 6).
//!
//! The library holds the scenarios: each takes a [`scenarios::Target`] (the base URL of a
//! running server and the data set seeded into its database, tokens included) and returns table
//! rows. The `hearth-bench` binary orchestrates `make bench`: a private database, the release
//! server, the full-size data set, every scenario, the table and its JSON. The smoke test
//! (`tests/smoke.rs`) runs every scenario at toy size against the test harness's in-process
//! server, so the harness cannot rot. The soak (`make soak`, issue 7) is in [`soak`]: rounds of
//! mixed, moderate load against one server for a bounded time, failing on any error, any lost
//! message, or memory that keeps growing.

pub mod fixture;
pub mod http;
pub mod process;
pub mod rawws;
pub mod report;
pub mod scenarios;
pub mod soak;
pub mod stats;
pub mod ws;

use scenarios::{broadcast, direct, idle, personal, rest, Plan, Target};
use stats::Row;

/// Every scenario, in the order `make bench` runs them. `login` gives two rows (the logins,
/// and is_member meanwhile); `login_memory` and the `idle` ones want a fresh server process of
/// their own.
pub const SCENARIOS: [&str; 13] = [
    "is_member",
    "server_list",
    "join_leave",
    "join_leave_hot",
    "login",
    "fanout_20",
    "fanout_400",
    "chat",
    "dm_pingpong",
    "personal_fanout",
    "login_memory",
    "idle",
    "idle_personal",
];

/// The scenarios that measure a fresh server's memory, each run on a server of its own.
pub fn wants_fresh_server(name: &str) -> bool {
    name.starts_with("idle") || name == "login_memory"
}

/// Runs scenario `name` against `target`; `server_pid` lets the idle scenario read the server's
/// memory (when the server is a process of its own).
pub async fn run_scenario(
    target: &Target,
    plan: &Plan,
    name: &str,
    server_pid: Option<u32>,
) -> anyhow::Result<Vec<Row>> {
    let lobby = broadcast::lobby(target);
    let rows = match name {
        "is_member" => vec![rest::is_member(target, plan.http).await],
        "server_list" => vec![rest::server_list(target, plan.http).await],
        "join_leave" => vec![rest::join_leave(target, plan.http).await],
        "join_leave_hot" => vec![rest::join_leave_hot(target, plan.http).await],
        "login" => rest::login_under_load(target, plan.http, plan.login_rate).await,
        "fanout_20" => {
            let spec = plan.fanout_slow;
            vec![broadcast::run(target, name, spec, lobby, plan.settle, plan.drain).await]
        }
        "fanout_400" => {
            let spec = plan.fanout_fast;
            vec![broadcast::run(target, name, spec, lobby, plan.settle, plan.drain).await]
        }
        "chat" => {
            let spec = plan.chat;
            vec![broadcast::run(target, name, spec, lobby, plan.settle, plan.drain).await]
        }
        "dm_pingpong" => vec![direct::run(target, name, plan.dm).await],
        "personal_fanout" => {
            let spec = plan.personal_fanout;
            vec![personal::run(target, name, spec, plan.settle, plan.drain).await?]
        }
        "login_memory" => vec![rest::login_memory(target, plan.login_memory, server_pid).await],
        "idle" => vec![idle::run(target, name, plan.idle_sockets, plan.settle, server_pid).await],
        "idle_personal" => {
            let sockets = plan.idle_personal_sockets;
            vec![idle::run(target, name, sockets, plan.settle, server_pid).await]
        }
        other => anyhow::bail!("no scenario named {other}; known: {}", SCENARIOS.join(", ")),
    };
    Ok(rows)
}
