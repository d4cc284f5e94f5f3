//! is_member, and join + leave alternating.

use super::{closed_loop, user_of, Rng, Script, Window};
use crate::http::request;
use crate::scenarios::{HttpLoad, Target};
use crate::stats::Row;

pub(super) struct IsMember {
    /// Each request with the body it must get.
    requests: Vec<(Vec<u8>, &'static [u8])>,
    rng: Rng,
    current: usize,
}

impl IsMember {
    fn new(target: &Target, connection: usize, connections: usize) -> Self {
        let fixture = &target.fixture;
        let u = user_of(fixture, connection, connections);
        let token = fixture.users[u].token.as_str();
        let path = |id: i64| format!("/api/membership/{id}/membership/is_member/");
        let answer = |member: bool| -> &'static [u8] {
            if member {
                br#"{"is_member":true}"#
            } else {
                br#"{"is_member":false}"#
            }
        };
        let mut requests: Vec<_> = fixture
            .servers
            .iter()
            .enumerate()
            .map(|(s, server)| {
                let bytes = request("GET", &path(server.id), &target.host, Some(token), None);
                (bytes, answer(fixture.is_member(s, u)))
            })
            .collect();
        let lobby = request(
            "GET",
            &path(fixture.lobby.id),
            &target.host,
            Some(token),
            None,
        );
        requests.push((lobby, answer(true)));
        Self {
            requests,
            rng: Rng(0x9E37_79B9_7F4A_7C15 ^ (connection as u64 + 1)),
            current: 0,
        }
    }
}

impl Script for IsMember {
    fn next_request(&mut self) -> &[u8] {
        self.current = self.rng.below(self.requests.len());
        &self.requests[self.current].0
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let expected = self.requests[self.current].1;
        if status == 200 && body == expected {
            Ok(())
        } else {
            Err(format!(
                "is_member: {status} {} (expected {})",
                String::from_utf8_lossy(body),
                String::from_utf8_lossy(expected)
            ))
        }
    }
}

pub(super) fn is_member_scripts(target: &Target, connections: usize) -> Vec<IsMember> {
    (0..connections)
        .map(|c| IsMember::new(target, c, connections))
        .collect()
}

/// `GET /api/membership/{id}/membership/is_member/` over every server, as many users.
pub async fn is_member(target: &Target, load: HttpLoad) -> Row {
    let scripts = is_member_scripts(target, load.connections);
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally("is_member", "req/s", tally, load.duration);
    row.notes.push(format!("{} connections", load.connections));
    row
}

/// One user joining and leaving servers it is not a member of. Its (user, server) pairs are its
/// own, so the right answer is always known: 200 to join, 200 to leave, and every eighth round
/// also a second join (409) and a second leave (404).
struct JoinLeave {
    /// For each server the user may join: the join and the leave request.
    servers: Vec<(Vec<u8>, Vec<u8>)>,
    round: usize,
    step: usize,
}

impl JoinLeave {
    /// The steps of the current round: (join?, expected status).
    fn steps(&self) -> &'static [(bool, u16)] {
        if self.round % 8 == 7 {
            &[(true, 200), (true, 409), (false, 200), (false, 404)]
        } else {
            &[(true, 200), (false, 200)]
        }
    }
}

impl Script for JoinLeave {
    fn next_request(&mut self) -> &[u8] {
        let (join, _) = self.steps()[self.step];
        let (join_request, leave_request) = &self.servers[self.round % self.servers.len()];
        if join {
            join_request
        } else {
            leave_request
        }
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let (join, expected) = self.steps()[self.step];
        self.step += 1;
        if self.step == self.steps().len() {
            self.step = 0;
            self.round += 1;
        }
        if status == expected {
            Ok(())
        } else {
            let what = if join { "join" } else { "leave" };
            Err(format!(
                "{what}: {status} {} (expected {expected})",
                String::from_utf8_lossy(body)
            ))
        }
    }

    fn at_rest(&self) -> bool {
        self.step == 0
    }
}

/// Join + leave alternating, each connection as its own user on servers it is not in.
pub async fn join_leave(target: &Target, load: HttpLoad) -> Row {
    join_leave_on(target, load, "join_leave", None).await
}

/// Join + leave alternating, every connection (each its own user) on the same server: one
/// popular server that many people join and leave at once.
pub async fn join_leave_hot(target: &Target, load: HttpLoad) -> Row {
    let fixture = &target.fixture;
    let users: Vec<usize> = (0..load.connections)
        .map(|c| user_of(fixture, c, load.connections))
        .collect();
    // The server fewest of them are in (at full size, none): those who are sit it out, so
    // every join is a real one.
    let hot = (0..fixture.servers.len())
        .min_by_key(|&s| users.iter().filter(|&&u| fixture.is_member(s, u)).count())
        .unwrap_or_default();
    join_leave_on(target, load, "join_leave_hot", Some(hot)).await
}

/// Join + leave alternating on the server `server_id`, which none of the fixture's users is a
/// member of (the crowded server of the data at size), every connection as its own user.
pub async fn join_leave_server(
    target: &Target,
    load: HttpLoad,
    name: &'static str,
    server_id: i64,
) -> Row {
    let fixture = &target.fixture;
    let scripts: Vec<JoinLeave> = (0..load.connections)
        .map(|c| {
            let token = fixture.users[user_of(fixture, c, load.connections)]
                .token
                .as_str();
            let join = format!("/api/membership/{server_id}/membership/");
            let leave = format!("/api/membership/{server_id}/membership/remove_member/");
            JoinLeave {
                servers: vec![(
                    request("POST", &join, &target.host, Some(token), None),
                    request("DELETE", &leave, &target.host, Some(token), None),
                )],
                round: c,
                step: 0,
            }
        })
        .collect();
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally(name, "req/s", tally, load.duration);
    row.notes.push(format!(
        "{} connections, each its own user, joining and leaving one server; every answer checked",
        load.connections
    ));
    row
}

async fn join_leave_on(
    target: &Target,
    load: HttpLoad,
    name: &'static str,
    only: Option<usize>,
) -> Row {
    let fixture = &target.fixture;
    let scripts = (0..load.connections)
        .map(|c| {
            let u = user_of(fixture, c, load.connections);
            let token = fixture.users[u].token.as_str();
            let servers = fixture
                .servers
                .iter()
                .enumerate()
                .filter(|(s, _)| !fixture.is_member(*s, u) && only.is_none_or(|o| o == *s))
                .map(|(_, server)| {
                    let join = format!("/api/membership/{}/membership/", server.id);
                    let leave = format!("/api/membership/{}/membership/remove_member/", server.id);
                    (
                        request("POST", &join, &target.host, Some(token), None),
                        request("DELETE", &leave, &target.host, Some(token), None),
                    )
                })
                .collect();
            JoinLeave {
                servers,
                round: c,
                step: 0,
            }
        })
        // A user already in every server it could use has nothing to do.
        .filter(|script: &JoinLeave| !script.servers.is_empty())
        .collect::<Vec<_>>();
    let connections = scripts.len();
    let tally = closed_loop(target.addr, scripts, Window::starting_now(&load)).await;
    let mut row = Row::from_tally(name, "req/s", tally, load.duration);
    row.notes.push(format!(
        "{connections} connections, each its own user{}; every answer checked (200/409/404)",
        if only.is_some() {
            ", all on one server"
        } else {
            ""
        }
    ));
    row
}
