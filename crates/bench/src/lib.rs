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

pub mod client;
pub mod fixture;
pub mod http;
pub mod library;
pub mod process;
pub mod rawws;
pub mod report;
pub mod scenarios;
pub mod soak;
pub mod stages;
pub mod stats;
pub mod ws;

use scenarios::{broadcast, crowd, direct, idle, personal, rest, Plan, Target};
use stats::Row;

/// Every scenario, in the order `make bench` runs them. `login` gives two rows (the logins,
/// and is_member meanwhile); `login_memory` and the `idle` ones want a fresh server process of
/// their own.
pub const SCENARIOS: [&str; 20] = [
    "is_member",
    "server_list",
    "join_leave",
    "join_leave_hot",
    "login",
    "fanout_20",
    "fanout_20_tt",
    "fanout_400",
    "chat",
    "chat_tt",
    "dm_pingpong",
    "dm_pingpong_tt",
    "personal_fanout",
    "personal_fanout_tt",
    "presence_crowd",
    "at_size",
    "conversation",
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
    // `<scenario>_tt`: the same scenario with the ordinary client (the row keeps the name).
    let (client, base) = client::Client::of(name);
    let ordinary;
    let target = if client == target.client {
        target
    } else {
        ordinary = Target {
            client,
            ..target.clone()
        };
        &ordinary
    };
    let delivery = matches!(
        base,
        "fanout_20" | "fanout_400" | "chat" | "dm_pingpong" | "personal_fanout"
    );
    let stages_before = match (delivery, target.metrics) {
        (true, Some(addr)) => Some(stages::snapshot(addr).await?),
        _ => None,
    };
    let mut rows = match base {
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
        "presence_crowd" => vec![crowd::run(target, name, plan.crowd, server_pid).await],
        // Many rows: each request at a small size and at the large one.
        "at_size" => rest::at_size::run(target, plan.at_size).await?,
        // Many rows: unread, ack, history plain and rich, search.
        "conversation" => rest::conversation::run(target, plan.at_size).await?,
        "login_memory" => vec![rest::login_memory(target, plan.login_memory, server_pid).await],
        "idle" => vec![idle::run(target, name, plan.idle_sockets, plan.settle, server_pid).await],
        "idle_personal" => {
            let sockets = plan.idle_personal_sockets;
            vec![idle::run(target, name, sockets, plan.settle, server_pid).await]
        }
        other => anyhow::bail!("no scenario named {other}; known: {}", SCENARIOS.join(", ")),
    };
    if let (Some(before), Some(addr)) = (stages_before, target.metrics) {
        let after = stages::snapshot(addr).await?;
        for row in &mut rows {
            let mut told = Vec::new();
            for stage in stages::STAGES {
                for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
                    if let Some(ms) = after.quantile_since(&before, stage, q) {
                        row.figures.insert(format!("{stage}_{label}_ms"), ms);
                    }
                }
                told.push(format!("{stage} {:.0}×", after.count_since(&before, stage)));
            }
            row.notes.push(format!(
                "stages from the server's histograms (wait → store → publish → write): {}",
                told.join(", ")
            ));
        }
    }
    Ok(rows)
}
