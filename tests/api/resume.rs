//! The personal socket's per-user cursor: every event addressed to the user is numbered in
//! their event log, written with the change it reports, and a socket opened with
//! `?after=<cursor>` replays what it missed from storage (on any instance), or is told to
//! `resync` when that cannot be done.

use crate::gateway::{room_with, WAIT};
use crate::personal::{frames_within, personal_after as personal};
use hearth_tests::ws::{connect, Auth, Next, WsClient};
use hearth_tests::{generous_ws_rates, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

/// The frames that carry a cursor, until `count` of them arrived.
async fn logged(socket: &mut WsClient, count: usize) -> Vec<Value> {
    let mut got = Vec::new();
    while got.len() < count {
        match socket.next(WAIT).await {
            Next::Event(frame) if frame.get("cursor").is_some() => got.push(frame),
            Next::Event(_) => {}
            other => panic!("expected {count} logged frames, got {got:?} then {other:?}"),
        }
    }
    got
}

fn kinds(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter_map(|f| f["type"].as_str()).collect()
}

fn cursors(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter_map(|f| f["cursor"].as_i64()).collect()
}

/// The frame without its cursor: what a channel socket receives of the same event.
fn without_cursor(frame: &Value) -> Value {
    let mut frame = frame.clone();
    if let Some(fields) = frame.as_object_mut() {
        fields.remove("cursor");
    }
    frame
}

async fn ok(request: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let (status, body) = send(request).await;
    assert_eq!(status, expected, "{body}");
    body
}

#[tokio::test]
async fn events_for_the_user_are_numbered_and_resume_from_storage_on_another_instance() {
    // Two instances of one deployment share their token secret.
    let shared = |s: &mut hearth_api::config::Settings| {
        generous_ws_rates(s);
        s.jwt_secret =
            hearth_api::config::JwtSecret::new(b"resume-test-secret-resume-test-secret".to_vec());
    };
    let room = room_with(TestApp::spawn_with(shared).await).await;
    let app = &room.app;
    let owner = &room.owner_token;
    // A log starts with the user's first personal socket: Alice's before she joins.
    let (alice_id, alice) = app.user_with_token("alice").await;
    let (bob_id, bob) = room.member("bob").await;
    personal(app, &bob, None).await.0.close().await;
    let (first, ready) = personal(app, &alice, None).await;
    assert_eq!(ready["cursor"], 0, "nothing is logged before: {ready}");
    first.close().await;
    ok(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", room.server.0)))
            .bearer_auth(&alice),
        StatusCode::OK,
    )
    .await;
    let (mut socket, ready) = personal(app, &alice, None).await;
    // Joining the server was the first thing addressed to her.
    let start = ready["cursor"].as_i64().unwrap_or_default();
    assert_eq!(start, 1, "{ready}");
    // A channel socket of the server hears of the same server events, without cursors.
    let mut channel_socket = room.socket(&bob).await;

    let news = ok(
        app.http
            .post(app.url(&format!("/api/servers/{}/channels/", room.server.0)))
            .bearer_auth(owner)
            .json(&json!({"name": "news", "topic": "what is new"})),
        StatusCode::CREATED,
    )
    .await;
    ok(
        app.http
            .patch(app.url(&format!("/api/servers/{}/", room.server.0)))
            .bearer_auth(owner)
            .json(&json!({"description": "now with news"})),
        StatusCode::OK,
    )
    .await;
    let dm = ok(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&bob)
            .json(&json!({"user_id": alice_id.0})),
        StatusCode::CREATED,
    )
    .await;
    let live = logged(&mut socket, 3).await;
    assert_eq!(
        kinds(&live),
        ["channel.created", "server.updated", "conversation.added"]
    );
    assert_eq!(cursors(&live), [start + 1, start + 2, start + 3]);
    assert_eq!(live[0]["channel"]["id"], news["id"]);
    assert_eq!(live[0]["channel"]["topic"], "what is new");
    assert_eq!(live[2]["conversation_id"], dm["id"]);
    // What the log holds is exactly what live sockets are sent.
    let created = channel_socket.recv_type("channel.created", WAIT).await;
    assert_eq!(without_cursor(&live[0]), created);
    let updated = channel_socket.recv_type("server.updated", WAIT).await;
    assert_eq!(without_cursor(&live[1]), updated);
    let last = start + 3;
    socket.close().await;

    // While she is away: a channel goes, Bob sends her a private message, she is removed.
    ok(
        app.http
            .delete(app.url(&format!("/api/channels/{}/", news["id"])))
            .bearer_auth(owner),
        StatusCode::NO_CONTENT,
    )
    .await;
    channel_socket.say("/pm alice are you there?").await;
    channel_socket
        .recv_type("private_message_delivered", WAIT)
        .await;
    ok(
        app.http
            .delete(app.url(&format!(
                "/api/servers/{}/members/{}/",
                room.server.0, alice_id.0
            )))
            .bearer_auth(owner),
        StatusCode::NO_CONTENT,
    )
    .await;

    // Another instance, which heard of none of it (no Redis here), replays it from storage.
    let other = app.spawn_sibling(shared).await;
    let (mut socket, ready) = personal(&other, &alice, Some(last)).await;
    assert_eq!(ready["cursor"], last);
    let replayed = logged(&mut socket, 3).await;
    assert_eq!(
        kinds(&replayed),
        ["channel.deleted", "private_message", "member.left"]
    );
    assert_eq!(cursors(&replayed), [last + 1, last + 2, last + 3]);
    assert_eq!(replayed[0]["channel_id"], news["id"]);
    assert_eq!(replayed[1]["user"], "bob");
    assert_eq!(replayed[1]["message"], "are you there?");
    assert_eq!(replayed[1]["to"], alice_id.0);
    assert_eq!(replayed[2]["user_id"], alice_id.0);
    let extra = frames_within(&mut socket, Duration::from_millis(400)).await;
    assert!(cursors(&extra).is_empty(), "replayed twice: {extra:?}");

    // And live again from there, without a gap.
    ok(
        other
            .http
            .post(other.url(&format!("/api/membership/{}/membership/", room.server.0)))
            .bearer_auth(&alice),
        StatusCode::OK,
    )
    .await;
    let rejoined = logged(&mut socket, 1).await;
    assert_eq!(kinds(&rejoined), ["member.joined"]);
    assert_eq!(cursors(&rejoined), [last + 4]);
    // Bob's own log is his: it began with his first personal socket, after he joined; then the
    // server's news and the conversation he opened.
    let (mut bobs, ready) = personal(app, &bob, Some(0)).await;
    assert_eq!(ready["cursor"], 0);
    let his = logged(&mut bobs, 3).await;
    assert_eq!(
        kinds(&his),
        ["channel.created", "server.updated", "conversation.added"]
    );
    assert_eq!(his[2]["to"], bob_id.0);
    drop(other);
}

#[tokio::test]
async fn a_cursor_that_cannot_be_resumed_is_answered_with_resync() {
    let app = TestApp::spawn().await;
    let (alice_id, alice) = app.user_with_token("alice").await;
    let (_, bob) = app.user_with_token("bob").await;
    let open = |token: &str, user: i64| {
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(token.to_owned())
            .json(&json!({"user_id": user}))
    };
    let (carol_id, _) = app.user_with_token("carol").await;
    // Her log starts with her first personal socket.
    personal(&app, &alice, None).await.0.close().await;
    ok(open(&bob, alice_id.0), StatusCode::CREATED).await;
    ok(open(&alice, carol_id.0), StatusCode::CREATED).await;

    // A cursor from beyond the log's end (another database, a made-up number).
    let (mut socket, ready) = personal(&app, &alice, Some(99)).await;
    assert_eq!(ready["cursor"], 2);
    let resync = socket.recv_type("resync", WAIT).await;
    assert_eq!(
        resync,
        json!({"type": "resync", "reason": "unknown_cursor", "cursor": 2})
    );
    socket.close().await;

    // Events past their retention are pruned: a cursor before them cannot be resumed.
    let pruned = hearth_db::user_events::prune(&app.db, Duration::ZERO, 1)
        .await
        .unwrap_or_else(|e| panic!("prune: {e}"));
    assert!(pruned >= 2, "pruned {pruned}");
    let (mut socket, ready) = personal(&app, &alice, Some(0)).await;
    assert_eq!(ready["cursor"], 2);
    let resync = socket.recv_type("resync", WAIT).await;
    assert_eq!(
        resync,
        json!({"type": "resync", "reason": "cursor_too_old", "cursor": 2})
    );
    socket.close().await;

    // From the log's end it goes on as usual, no resync.
    let (mut socket, _) = personal(&app, &alice, Some(2)).await;
    // Her partners' presence is all it starts with.
    let start = frames_within(&mut socket, Duration::from_millis(300)).await;
    assert_eq!(kinds(&start), ["user.presence.list"], "{start:?}");
    let (dave_id, _) = app.user_with_token("dave").await;
    ok(open(&alice, dave_id.0), StatusCode::CREATED).await;
    let frames = frames_within(&mut socket, Duration::from_millis(600)).await;
    assert_eq!(kinds(&frames), ["conversation.added"], "{frames:?}");
    assert_eq!(cursors(&frames), [3]);
}

#[tokio::test]
async fn refused_actions_are_alerted_to_the_users_other_clients() {
    let app = TestApp::spawn_with(generous_ws_rates).await;
    let (alice_id, alice) = app.user_with_token("alice").await;
    let (bob_id, bob) = app.user_with_token("bob").await;
    let dm = ok(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&bob)
            .json(&json!({"user_id": alice_id.0})),
        StatusCode::CREATED,
    )
    .await;
    let dm = dm["id"].as_i64().unwrap_or_default();
    ok(
        app.http
            .put(app.url(&format!("/api/me/blocks/{}/", bob_id.0)))
            .bearer_auth(&alice),
        StatusCode::NO_CONTENT,
    )
    .await;
    let (mut phone, _) = personal(&app, &bob, None).await;

    // Refused over REST: the personal socket hears of it.
    let (status, body) = send(
        app.http
            .post(app.url(&format!("/api/dms/{dm}/messages/")))
            .bearer_auth(&bob)
            .json(&json!({"content": "hello?"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let alert = phone.recv_type("alert", WAIT).await;
    assert_eq!(alert["code"], "blocked");
    assert_eq!(alert["to"], bob_id.0);
    assert!(alert["cursor"].as_i64().is_some(), "{alert}");

    // A /pm to nobody on a conversation's socket: an error there, an alert here.
    let mut desk = connect(
        app.port,
        &format!("/ws/dms/{dm}"),
        Auth::Bearer(bob.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"));
    desk.recv_type("presence.list", WAIT).await;
    desk.say("/pm nobody-at-all hi").await;
    let error = desk.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "unknown_user");
    let alert = phone.recv_type("alert", WAIT).await;
    assert_eq!(alert["code"], "unknown_user");
    // Nothing of Bob's reaches Alice.
    let (mut hers, _) = personal(&app, &alice, Some(0)).await;
    let frames = frames_within(&mut hers, Duration::from_millis(500)).await;
    assert!(!kinds(&frames).contains(&"alert"), "{frames:?}");
}

/// One user's joins and leaves at once, on several servers: each is numbered in their log
/// once, with no gap, in the order of their commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_concurrent_membership_changes_are_numbered_once_each_with_no_gap() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.user_with_token("owner").await;
    let (alice_id, alice) = app.user_with_token("alice").await;
    // Her log has started (her first personal socket does that).
    hearth_db::user_events::open(&app.db, alice_id)
        .await
        .unwrap_or_else(|e| panic!("open the log: {e}"));
    let category = app.category("misc").await;
    let mut servers = Vec::new();
    for i in 0..8 {
        servers.push(app.server(owner, category, &format!("s{i}")).await);
    }
    let rounds = 4;
    let requests = servers.iter().map(|server| {
        let base = app.url(&format!("/api/membership/{}/membership/", server.0));
        let (http, alice) = (app.http.clone(), alice.clone());
        async move {
            let mut statuses = Vec::new();
            for _ in 0..rounds {
                let (joined, _) = send(http.post(&base).bearer_auth(&alice)).await;
                let leave = format!("{base}remove_member/");
                let (left, _) = send(http.delete(&leave).bearer_auth(&alice)).await;
                statuses.push((joined, left));
            }
            statuses
        }
    });
    let statuses: Vec<(StatusCode, StatusCode)> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == (StatusCode::OK, StatusCode::OK)),
        "{statuses:?}"
    );
    let log = hearth_db::user_events::since(&app.db, alice_id, 0, 1_000)
        .await
        .unwrap_or_else(|e| panic!("read the log: {e}"));
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=2 * 8 * rounds).collect();
    assert_eq!(seqs, expected, "every change once, no gap");
    let head = hearth_db::user_events::head(&app.db, alice_id)
        .await
        .unwrap_or_else(|e| panic!("read the head: {e}"));
    assert_eq!(head.seq, 2 * 8 * rounds);
    // Per server, each join comes before its leave.
    for server in &servers {
        let kinds: Vec<String> = log
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(&e.body).ok())
            .filter(|body| body["server_id"] == server.0)
            .filter_map(|body| body["type"].as_str().map(str::to_owned))
            .collect();
        let alternating: Vec<&str> = ["member.joined", "member.left"]
            .into_iter()
            .cycle()
            .take(2 * rounds as usize)
            .collect();
        assert_eq!(kinds, alternating, "server {}", server.0);
    }
}
