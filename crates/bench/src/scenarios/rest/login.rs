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
        let body =
            serde_json::json!({"username": user.username, "password": target.fixture.password});
        let bytes = request(
            "POST",
            "/api/token/",
            &target.host,
            None,
            Some(&body.to_string()),
        );
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
            let verdict = match conn.send(&bytes).await {
                Ok(r) if r.status == 200 && r.body.starts_with(br#"{"user_id":"#) => Ok(()),
                Ok(r) => Err(format!(
                    "login: {} {}",
                    r.status,
                    String::from_utf8_lossy(r.body)
                )),
                Err(e) => Err(format!("login failed: {e:#}")),
            };
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
