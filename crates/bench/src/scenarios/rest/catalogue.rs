//! The server list of a category, with member counts.

use super::{closed_loop, user_of, Script, Window};
use crate::http::request;
use crate::scenarios::{HttpLoad, Target};
use crate::stats::Row;
use std::collections::HashMap;
use std::sync::Arc;

struct ServerList {
    requests: Vec<(Vec<u8>, usize)>,
    /// Member and channel count of every server, by id.
    expected: Arc<HashMap<i64, (usize, usize)>>,
    current: usize,
    sent: u64,
}

impl ServerList {
    /// Every 64th answer is parsed in full and every count checked; the others are checked
    /// cheaply (status and number of servers), so the client stays light.
    fn full_check(&self, body: &[u8]) -> Result<(), String> {
        let servers: Vec<serde_json::Value> =
            serde_json::from_slice(body).map_err(|e| format!("server list: not JSON: {e}"))?;
        for server in &servers {
            let id = server["id"].as_i64().unwrap_or_default();
            let expected = self.expected.get(&id).copied();
            let counted = server["num_members"].as_u64().map(|n| n as usize);
            let channels = server["channel_server"].as_array().map_or(0, Vec::len);
            if counted.zip(Some(channels)) != expected {
                return Err(format!(
                    "server {id}: {counted:?} members and {channels} channels, expected {expected:?}"
                ));
            }
        }
        Ok(())
    }
}

impl Script for ServerList {
    fn next_request(&mut self) -> &[u8] {
        self.current = (self.current + 1) % self.requests.len();
        &self.requests[self.current].0
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        self.sent += 1;
        let expected = self.requests[self.current].1;
        let listed = body
            .windows(b"\"num_members\":".len())
            .filter(|w| *w == b"\"num_members\":")
            .count();
        if status != 200 || listed != expected {
            return Err(format!(
                "server list: {status}, {listed} servers with counts (expected {expected})"
            ));
        }
        if self.sent % 64 == 1 {
            self.full_check(body)?;
        }
        Ok(())
    }
}

/// `GET /api/server/select/?category=<c>&with_num_members=true`, every category in turn.
pub async fn server_list(target: &Target, load: HttpLoad) -> Row {
    let fixture = &target.fixture;
    let expected: Arc<HashMap<i64, (usize, usize)>> = Arc::new(
        fixture
            .all_servers()
            .map(|s| (s.id, (s.members, s.channels.len())))
            .collect(),
    );
    let scripts = (0..load.connections)
        .map(|c| {
            let token = fixture.users[user_of(fixture, c, load.connections)]
                .token
                .as_str();
            let requests = fixture
                .categories
                .iter()
                .map(|category| {
                    let path =
                        format!("/api/server/select/?category={category}&with_num_members=true");
                    let bytes = request("GET", &path, &target.host, Some(token), None);
                    (bytes, fixture.servers_in(category).count())
                })
                .collect();
            ServerList {
                requests,
                expected: expected.clone(),
                current: c,
                sent: 0,
            }
        })
        .collect();
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally("server_list", "req/s", tally, load.duration);
    row.notes.push(format!(
        "{} connections, {} to {} servers per category, each with its channels and member count",
        load.connections,
        fixture.servers.len() / fixture.categories.len().max(1),
        fixture.servers.len() / fixture.categories.len().max(1) + 1,
    ));
    row
}
