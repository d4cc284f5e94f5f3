//! Logins at a fixed rate while is_member runs.

use super::membership::is_member_scripts;
use super::{closed_loop, Window};
use crate::http::{request, HttpConn};
use crate::scenarios::{HttpLoad, Target};
use crate::stats::{Row, Tally};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Logins (`POST /api/token/`) at `rate` per second while is_member runs on `load`: a row for
/// the logins and one for is_member meanwhile.
pub async fn login_under_load(target: &Target, load: HttpLoad, rate: f64) -> Vec<Row> {
    let window = Window::starting_now(&load);
    let scripts = is_member_scripts(target, load.connections);
    let members = tokio::spawn(closed_loop(target.addr, scripts, window));
    let (logins, span) = logins(target, window, rate).await;
    let members = members.await.unwrap_or_else(|e| {
        let mut tally = Tally::default();
        tally.error(format!("is_member task failed: {e}"));
        tally
    });
    let mut login_row = Row::from_tally("login", "logins/s", logins, span);
    login_row.notes.push(format!(
        "POST /api/token/ offered at {rate}/s (open loop; latency from the scheduled time; \
         throughput over the window until the last measured login finished, {:.1} s)",
        span.as_secs_f64()
    ));
    let mut member_row = Row::from_tally("is_member+login", "req/s", members, load.duration);
    member_row.notes.push(format!(
        "is_member on {} connections while logins run",
        load.connections
    ));
    vec![login_row, member_row]
}

/// `POST /api/token/` for `username`.
fn login_request(host: &str, username: &str, password: &str) -> Vec<u8> {
    let body = serde_json::json!({"username": username, "password": password});
    request("POST", "/api/token/", host, None, Some(&body.to_string()))
}

/// Whether a login's answer is a session, or why not.
fn login_verdict(answer: anyhow::Result<crate::http::Response<'_>>) -> Result<(), String> {
    match answer {
        Ok(r) if r.status == 200 && r.body.starts_with(br#"{"user_id":"#) => Ok(()),
        Ok(r) => Err(format!(
            "login: {} {}",
            r.status,
            String::from_utf8_lossy(r.body)
        )),
        Err(e) => Err(format!("login failed: {e:#}")),
    }
}

/// How long a connection may wait in the logins' pool; well below the server's keep-alive.
const POOL_IDLE: Duration = Duration::from_secs(2);

/// The logins' tally, and the time from the window's start until the last measured login
/// finished (longer than the window when logins queue up).
async fn logins(target: &Target, window: Window, rate: f64) -> (Tally, Duration) {
    // Connections back from a login, with when they were put back. A connection idle for longer
    // than the server's keep-alive (5 s) may be closed by it just as a request goes out, so the
    // pool drops those (as any keep-alive client's pool does) rather than count a failed login.
    let idle: Arc<Mutex<Vec<(HttpConn, Instant)>>> = Arc::default();
    let start = Instant::now();
    let mut attempts = JoinSet::new();
    for n in 0.. {
        let at = crate::ws::scheduled(start, n, rate);
        if at >= window.until {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let user = &target.fixture.users[n % target.fixture.users.len()];
        let bytes = login_request(&target.host, &user.username, &target.fixture.password);
        let (idle, addr) = (idle.clone(), target.addr);
        attempts.spawn(async move {
            let reused = idle
                .lock()
                .map(|mut conns| {
                    conns.retain(|(_, since)| since.elapsed() < POOL_IDLE);
                    conns.pop().map(|(conn, _)| conn)
                })
                .unwrap_or(None);
            let mut conn = reused.unwrap_or_else(|| HttpConn::new(addr));
            let verdict = login_verdict(conn.send(&bytes).await);
            let latency = at.elapsed();
            if let Ok(mut conns) = idle.lock() {
                conns.push((conn, Instant::now()));
            }
            (at, verdict, latency)
        });
    }
    let mut tally = Tally::default();
    let mut last_done = window.until;
    while let Some(done) = attempts.join_next().await {
        match done {
            Ok((at, Ok(()), latency)) if window.contains(at) => {
                tally.ok += 1;
                tally.latencies.record(latency);
                last_done = last_done.max(at + latency);
            }
            Ok((_, Ok(()), _)) => {}
            Ok((_, Err(why), _)) => tally.error(why),
            Err(e) => tally.error(format!("login task failed: {e}")),
        }
    }
    (tally, last_done.duration_since(window.from))
}

/// Logins on a fresh server, `at_once` clients each logging in again as soon as it is answered,
/// and the server's resident memory after them (a second after the last, so what hashing freed
/// had its chance to go back): memory that grows with the number of logins shows here.
pub async fn login_memory(
    target: &Target,
    size: crate::scenarios::LoginMemory,
    server_pid: Option<u32>,
) -> Row {
    let before = server_pid.and_then(|pid| crate::process::rss_bytes(pid).ok());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let users: Arc<[String]> = target
        .fixture
        .users
        .iter()
        .map(|u| u.username.clone())
        .collect();
    let mut clients = JoinSet::new();
    for _ in 0..size.at_once.max(1) {
        let (next, addr, host) = (next.clone(), target.addr, target.host.clone());
        let (users, password) = (users.clone(), target.fixture.password.clone());
        clients.spawn(async move {
            let mut conn = HttpConn::new(addr);
            let mut tally = Tally::default();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(user) = users
                    .get(n % users.len().max(1))
                    .filter(|_| n < size.logins)
                else {
                    break;
                };
                let bytes = login_request(&host, user, &password);
                let sent = Instant::now();
                let answer = conn.send(&bytes).await;
                // A connection that failed is not used again.
                let failed = answer.is_err();
                match login_verdict(answer) {
                    Ok(()) => {
                        tally.ok += 1;
                        tally.latencies.record(sent.elapsed());
                    }
                    Err(why) => tally.error(why),
                }
                if failed {
                    conn = HttpConn::new(addr);
                }
            }
            tally
        });
    }
    let mut tally = Tally::default();
    while let Some(done) = clients.join_next().await {
        match done {
            Ok(client) => tally.merge(client),
            Err(e) => tally.error(format!("login client failed: {e}")),
        }
    }
    let span = start.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = server_pid.and_then(|pid| crate::process::rss_bytes(pid).ok());
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let mut row = Row::from_tally("login_memory", "logins/s", tally, span);
    row.rss_mib = after.map(mib);
    row.notes.push(format!(
        "{} logins, {} at once, on a fresh server; resident memory before {}, after {}",
        size.logins,
        size.at_once,
        before.map_or_else(|| "unknown".to_owned(), |b| format!("{:.1} MiB", mib(b))),
        after.map_or_else(|| "unknown".to_owned(), |b| format!("{:.1} MiB", mib(b))),
    ));
    row
}
