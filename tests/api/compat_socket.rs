//! The compatibility socket `/{server_id}/{channel_id}` speaks the reference's dialect: its
//! clients (the reference's own SPA) render `new_message` of every frame they receive, so they
//! get nothing but `chat.message` frames, refusals are silent, and messages over the rate limit
//! are held and stored in order instead of refused. The 4008 rule of the full protocol is here
//! too: only a client that ignores `retry_after` is closed.

use super::gateway::{room, room_with, Room, WAIT};
use hearth_tests::ws::{connect, Auth, Next, WsClient};
use hearth_tests::{send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn rate(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Room {
    /// A socket on the compatibility path, without the opt-in.
    async fn compat_socket(&self, auth: Auth) -> WsClient {
        connect(self.app.port, &self.compat_path(), auth)
            .await
            .unwrap_or_else(|e| panic!("compat connect: {e}"))
    }

    /// Every message of the channel, oldest first (the native history, a page of 100 at a time).
    async fn all_messages(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (status, page) = send(
                self.app
                    .http
                    .get(self.app.url(&format!(
                        "/api/channels/{}/messages/?after={after}&limit=100",
                        self.channel.0
                    )))
                    .bearer_auth(&self.owner_token),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let page = page.as_array().cloned().unwrap_or_default();
            let Some(last) = page.last() else { break };
            after = last["id"].as_i64().unwrap_or_default();
            all.extend(page);
        }
        all
    }
}

/// Reads frames until a `chat.message` with `content` arrives; returns every frame read.
async fn frames_until(socket: &mut WsClient, content: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        match socket.next(WAIT).await {
            Next::Event(frame) => {
                let last = frame["new_message"]["content"] == content;
                frames.push(frame);
                if last {
                    return frames;
                }
            }
            other => panic!("expected frames up to {content:?}, got {other:?} after {frames:?}"),
        }
    }
}

fn contents(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            f["new_message"]["content"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_compat_socket_sees_nothing_but_chat_messages_whatever_happens_around_it() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let (_, stranger) = room.app.user_with_token("stranger").await;
    let mut watcher = room
        .compat_socket(Auth::Bearer(room.owner_token.clone()))
        .await;
    let mut strangers = room.compat_socket(Auth::Bearer(stranger.clone())).await;

    // People come and go, and type (presence.join, presence.leave, typing on the full protocol).
    let mut bobs = room.socket(&bob).await;
    bobs.send_json(&json!({"type": "typing"})).await;
    room.socket(&stranger).await.close().await;
    // Someone joins the server (member.joined).
    room.member("carol").await;
    // A non-member posts, on both paths; the compat one must not be told (an error frame).
    strangers.say("let me in").await;
    strangers
        .send_json(&json!({"type": "message", "message": "let me in", "nonce": "s-1"}))
        .await;
    // Garbage, unknown types, pings, binary frames and invalid messages: no answer at all.
    watcher.send(Message::Text("{not json".into())).await;
    watcher.send_json(&json!({"type": "nope"})).await;
    watcher.send_json(&json!({"type": "ping"})).await;
    watcher.send(Message::Binary(vec![1, 2, 3])).await;
    watcher.say("   ").await;
    watcher.send_json(&json!({"type": "typing"})).await;
    // A message, edited and deleted (message.updated, message.deleted), and a REST post.
    watcher.say("from the reference SPA").await;
    let first = frames_until(&mut bobs, "from the reference SPA").await;
    let id = first.last().map(|f| f["new_message"]["id"].clone());
    let message = room
        .app
        .url(&format!("/api/messages/{}/", id.unwrap_or_default()));
    let (status, _) = send(
        room.app
            .http
            .patch(&message)
            .bearer_auth(&room.owner_token)
            .json(&json!({"content": "edited"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        room.app
            .http
            .delete(&message)
            .bearer_auth(&room.owner_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        room.app
            .http
            .post(
                room.app
                    .url(&format!("/api/channels/{}/messages/", room.channel.0)),
            )
            .bearer_auth(&bob)
            .json(&json!({"content": "over REST"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // The server and its channels change (server.updated, channel.created).
    let (status, _) = send(
        room.app
            .http
            .patch(room.app.url(&format!("/api/servers/{}/", room.server.0)))
            .bearer_auth(&room.owner_token)
            .json(&json!({"description": "changed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        room.app
            .http
            .post(
                room.app
                    .url(&format!("/api/servers/{}/channels/", room.server.0)),
            )
            .bearer_auth(&room.owner_token)
            .json(&json!({"name": "another"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    bobs.say("the last word").await;
    bobs.close().await;

    // The full-protocol socket saw the rest happen, so all of it reached the hub by now.
    for socket in [&mut watcher, &mut strangers] {
        let frames = frames_until(socket, "the last word").await;
        for frame in &frames {
            assert_eq!(frame["type"], "chat.message", "{frame}");
            assert!(frame["new_message"]["sender"].is_string(), "{frame}");
        }
        assert_eq!(
            contents(&frames),
            ["from the reference SPA", "over REST", "the last word"]
        );
        // Nothing after it either: bob's socket closing is presence.leave.
        match socket.next(Duration::from_millis(400)).await {
            Next::Timeout => {}
            other => panic!("expected nothing more, got {other:?}"),
        }
    }
    let stored = room.all_messages().await;
    assert!(
        stored.iter().all(|m| m["content"] != "let me in"),
        "a non-member's messages are not stored: {stored:?}"
    );
}

#[tokio::test]
async fn every_handshake_works_on_the_compat_path_and_the_first_frame_is_a_message() {
    let room = room().await;
    let token = room.owner_token.clone();
    for auth in [
        Auth::Bearer(token.clone()),
        Auth::Cookie(token.clone()),
        Auth::CookieFrom {
            token: token.clone(),
            origin: format!("http://127.0.0.1:{}", room.app.port),
        },
        Auth::Subprotocol(token.clone()),
    ] {
        let mut socket = room.compat_socket(auth.clone()).await;
        let text = format!("hello via {auth:?}");
        socket.say(&text).await;
        match socket.next(WAIT).await {
            Next::Event(frame) => {
                assert_eq!(frame["type"], "chat.message", "{auth:?}: {frame}");
                assert_eq!(frame["new_message"]["content"], text);
                assert_eq!(frame["new_message"]["sender"], "owner");
            }
            other => panic!("{auth:?}: expected the message, got {other:?}"),
        }
        socket.close().await;
    }
}

#[tokio::test]
async fn the_compat_path_speaks_the_full_protocol_when_asked_to() {
    let room = room().await;
    let mut socket = connect(
        room.app.port,
        &format!("{}?protocol=full", room.compat_path()),
        Auth::Bearer(room.owner_token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    socket.recv_type("presence.list", WAIT).await;
    socket.send_json(&json!({"type": "nope"})).await;
    assert_eq!(
        socket.recv_type("error", WAIT).await["code"],
        "invalid_frame"
    );
    // An unknown dialect is a bad request, not a silent fallback.
    let refused = connect(
        room.app.port,
        &format!("{}?protocol=chatty", room.compat_path()),
        Auth::Bearer(room.owner_token.clone()),
    )
    .await;
    assert!(refused.is_err(), "?protocol=chatty must not upgrade");
}

#[tokio::test]
async fn messages_over_the_limit_on_the_compat_path_are_all_stored_in_order() {
    let room = room_with(
        TestApp::spawn_with(|s| {
            s.ws_rate_per_sec = rate(40);
            s.ws_rate_burst = rate(5);
        })
        .await,
    )
    .await;
    let mut socket = room
        .compat_socket(Auth::Bearer(room.owner_token.clone()))
        .await;
    let sent: Vec<String> = (0..60).map(|i| format!("held {i}")).collect();
    socket
        .send_burst(
            sent.iter()
                .map(|text| Message::Text(json!({"type": "message", "message": text}).to_string()))
                .collect(),
        )
        .await;
    let frames = frames_until(&mut socket, "held 59").await;
    assert_eq!(contents(&frames), sent, "every message, in the order sent");
    let seqs: Vec<i64> = frames
        .iter()
        .map(|f| f["new_message"]["seq"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<_>>());
    let stored: Vec<Value> = room.all_messages().await;
    assert_eq!(
        stored
            .iter()
            .map(|m| m["content"].clone())
            .collect::<Vec<_>>(),
        sent
    );
}

#[tokio::test]
async fn too_many_held_messages_close_the_compat_socket_with_4008_and_the_held_ones_are_stored() {
    let room = room_with(
        TestApp::spawn_with(|s| {
            s.ws_rate_per_sec = rate(50);
            s.ws_rate_burst = rate(1);
        })
        .await,
    )
    .await;
    let mut socket = room
        .compat_socket(Auth::Bearer(room.owner_token.clone()))
        .await;
    socket
        .send_burst(
            (0..150)
                .map(|i| {
                    Message::Text(
                        json!({"type": "message", "message": format!("m{i}")}).to_string(),
                    )
                })
                .collect(),
        )
        .await;
    assert_eq!(socket.recv_close(WAIT).await, Some(4008));
    // What was held when the socket closed is still stored, in order, with nothing skipped.
    let mut stored = Vec::new();
    for _ in 0..100 {
        stored = room.all_messages().await;
        let settled = stored.len() >= 64 && {
            tokio::time::sleep(Duration::from_millis(200)).await;
            room.all_messages().await.len() == stored.len()
        };
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let texts: Vec<String> = stored
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert!(
        (64..150).contains(&texts.len()),
        "the held messages, not all: {}",
        texts.len()
    );
    let expected: Vec<String> = (0..texts.len()).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn a_client_that_waits_as_told_is_never_closed() {
    let room = room_with(
        TestApp::spawn_with(|s| {
            s.ws_rate_per_sec = rate(50);
            s.ws_rate_burst = rate(5);
        })
        .await,
    )
    .await;
    let mut socket = room.socket(&room.owner_token).await;
    let mut refusals = 0;
    for i in 0..200 {
        let nonce = format!("n{i}");
        loop {
            socket
                .send_json(&json!({"type": "message", "message": format!("m{i}"), "nonce": nonce}))
                .await;
            let answer = loop {
                match socket.next(WAIT).await {
                    Next::Event(frame) if frame["type"] == "chat.message" => {
                        if frame["new_message"]["nonce"] == nonce.as_str() {
                            break None;
                        }
                    }
                    Next::Event(frame) if frame["type"] == "error" => break Some(frame),
                    Next::Event(_) => {}
                    other => panic!("message {i}: the obedient client got {other:?}"),
                }
            };
            let Some(error) = answer else { break };
            assert_eq!(error["code"], "rate_limited", "{error}");
            assert_eq!(error["nonce"], nonce.as_str(), "{error}");
            refusals += 1;
            let wait = error["retry_after"].as_u64().unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
    assert!(
        refusals > 25,
        "the client must have been refused more often than the abuse limit: {refusals}"
    );
    assert_eq!(room.all_messages().await.len(), 200);
    socket.send_json(&json!({"type": "ping"})).await;
    socket.recv_type("pong", WAIT).await;
}

#[tokio::test]
async fn a_client_that_sends_again_before_retry_after_is_closed_with_4008() {
    let room = room_with(
        TestApp::spawn_with(|s| {
            s.ws_rate_per_sec = rate(2);
            s.ws_rate_burst = rate(2);
        })
        .await,
    )
    .await;
    let mut socket = room.socket(&room.owner_token).await;
    for i in 0..3 {
        socket.say(&format!("m{i}")).await;
    }
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "rate_limited");
    assert!(error["retry_after"].as_u64().is_some_and(|ms| ms > 0));
    // Keeps sending without waiting as told.
    socket
        .send_burst(
            (0..100)
                .map(|i| {
                    Message::Text(
                        json!({"type": "message", "message": format!("impatient {i}")}).to_string(),
                    )
                })
                .collect(),
        )
        .await;
    assert_eq!(socket.recv_close(WAIT).await, Some(4008));
}
