//! Broken dependencies cost nothing: a PostgreSQL restart during traffic gives fast 503s with
//! the JSON body, the pool recovers by itself, and no acknowledged message is lost.

use hearth_tests::pg_server::PrivatePostgres;
use hearth_tests::ws::{connect, Auth, Next, WsClient};
use hearth_tests::TestApp;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One REST request's outcome during the run.
struct Answer {
    status: u16,
    code: Option<String>,
    took: Duration,
}

/// A socket that is subscribed: its first frame (`presence.list`) has arrived. Before that, a
/// message sent by another socket may be published before this one listens (a client would
/// catch up with `?after=`; this test expects every message live).
async fn socket(app: &TestApp, path: &str, token: &str) -> WsClient {
    let mut socket = connect(app.port, path, Auth::Bearer(token.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    socket
        .recv_type("presence.list", Duration::from_secs(10))
        .await;
    socket
}

/// Sends one message and waits for its echo (acknowledged) or its error frame (refused).
async fn send_and_wait(socket: &mut WsClient, nonce: &str) -> Result<(), String> {
    socket
        .send_json(&json!({"type": "message", "message": format!("msg {nonce}"), "nonce": nonce}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match socket.next(left).await {
            Next::Event(frame) if frame["type"] == "chat.message" => {
                if frame["new_message"]["nonce"] == nonce {
                    return Ok(());
                }
            }
            Next::Event(frame) if frame["type"] == "error" && frame["nonce"] == nonce => {
                return Err(frame["code"].as_str().unwrap_or_default().to_owned());
            }
            Next::Event(_) => {}
            Next::Closed(code) => panic!("the sender's socket closed ({code:?})"),
            Next::Timeout => break,
        }
    }
    panic!("no answer to message {nonce} within 10 s: the socket is stuck");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_gives_fast_503s_recovers_and_loses_no_acknowledged_message() {
    let pg = PrivatePostgres::start().await;
    let url = pg.create_database("hearth_faults").await;
    let app = TestApp::spawn_on(&url, |s| {
        s.db_timeout = Duration::from_millis(1000);
        hearth_tests::generous_ws_rates(s);
    })
    .await;
    let (owner, token) = app.user_with_token("owner").await;
    let category = app.category("faults").await;
    let server = app.server(owner, category, "Faults").await;
    let channel = app.channel(server, owner, "general").await;
    let path = format!("/ws/servers/{}/channels/{}", server.0, channel.id.0);
    let mut sender = socket(&app, &path, &token).await;
    let mut listener = socket(&app, &path, &token).await;

    // REST traffic all along: the catalogue (pooled connections) and is_member (a shared,
    // pipelined connection) in turn.
    let stop = Arc::new(AtomicBool::new(false));
    let rest = {
        let stop = stop.clone();
        let http = app.http.clone();
        let urls = [
            app.url("/api/server/select/?with_num_members=true"),
            app.url(&format!(
                "/api/membership/{}/membership/is_member/",
                server.0
            )),
        ];
        let token = token.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for url in urls.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let started = Instant::now();
                let response = http
                    .get(url)
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(15))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("the server stopped answering: {e}"));
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                answers.push(Answer {
                    status,
                    code: body["code"].as_str().map(str::to_owned),
                    took: started.elapsed(),
                });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };

    let mut acknowledged = Vec::new();
    let mut refused = HashMap::<String, usize>::new();
    let mut next = 0_u32;
    // Before, during and after the outage, one message at a time, as a chat client would.
    let before = Instant::now() + Duration::from_millis(800);
    while Instant::now() < before {
        next += 1;
        let nonce = format!("n{next}");
        match send_and_wait(&mut sender, &nonce).await {
            Ok(()) => acknowledged.push(nonce),
            Err(code) => panic!("refused before the outage: {code}"),
        }
    }
    tokio::task::block_in_place(|| pg.stop());
    let outage = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < outage {
        next += 1;
        let nonce = format!("n{next}");
        match send_and_wait(&mut sender, &nonce).await {
            Ok(()) => acknowledged.push(nonce),
            Err(code) => *refused.entry(code).or_default() += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.resume().await;
    // The pool reconnects by itself: messages are accepted again soon, with no restart.
    let recovered_by = Instant::now() + Duration::from_secs(20);
    let mut in_a_row = 0;
    while in_a_row < 20 {
        assert!(
            Instant::now() < recovered_by,
            "not recovered 20 s after PostgreSQL came back"
        );
        next += 1;
        let nonce = format!("n{next}");
        match send_and_wait(&mut sender, &nonce).await {
            Ok(()) => {
                acknowledged.push(nonce);
                in_a_row += 1;
            }
            Err(code) => {
                *refused.entry(code).or_default() += 1;
                in_a_row = 0;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let answers = rest.await.unwrap_or_else(|e| panic!("{e}"));

    eprintln!(
        "acknowledged {}, refused {refused:?}, REST answers {} of which 503: {}",
        acknowledged.len(),
        answers.len(),
        answers.iter().filter(|a| a.status == 503).count()
    );
    // Messages refused during the outage said why, with the documented code.
    assert!(
        refused.keys().all(|code| code == "unavailable"),
        "{refused:?}"
    );
    assert!(
        refused.contains_key("unavailable"),
        "the outage was not noticed"
    );

    // REST: only 200s and fast 503s with the JSON body; never another 5xx, never a hang.
    let unavailable: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!unavailable.is_empty(), "no 503 during the outage");
    for answer in &answers {
        assert!(
            answer.status == 200 || answer.status == 503,
            "status {} during the run",
            answer.status
        );
        assert!(answer.took < Duration::from_secs(5), "a request hung");
    }
    assert!(unavailable
        .iter()
        .all(|a| a.code.as_deref() == Some("unavailable")));
    assert_eq!(answers.last().map(|a| a.status), Some(200));

    // Every acknowledged message is stored exactly once...
    let mut stored = Vec::new();
    let mut after = 0_i64;
    loop {
        let (status, page) = hearth_tests::send(
            app.http
                .get(app.url(&format!(
                    "/api/channels/{}/messages/?after={after}&limit=100",
                    channel.id.0
                )))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().cloned().unwrap_or_default();
        let Some(last) = page.last() else { break };
        after = last["id"].as_i64().unwrap_or(i64::MAX);
        stored.extend(
            page.iter()
                .filter_map(|m| m["nonce"].as_str().map(str::to_owned)),
        );
    }
    let stored_set: HashSet<&String> = stored.iter().collect();
    assert_eq!(stored_set.len(), stored.len(), "a message was stored twice");
    for nonce in &acknowledged {
        assert!(
            stored_set.contains(nonce),
            "acknowledged message {nonce} was lost"
        );
    }
    // ...and reached the other socket once, in order.
    let mut seen = Vec::new();
    while seen.len() < stored.len() {
        match listener.next(Duration::from_secs(10)).await {
            Next::Event(frame) if frame["type"] == "chat.message" => {
                seen.push(
                    frame["new_message"]["nonce"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            Next::Event(_) => {}
            other => panic!(
                "the listener stopped receiving after {} messages: {other:?}",
                seen.len()
            ),
        }
    }
    assert_eq!(
        seen, stored,
        "the listener saw another sequence than was stored"
    );
}
