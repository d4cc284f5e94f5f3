//! Live chat over real WebSockets: authentication, close codes, delivery, order, replay,
//! presence, typing, limits, and two instances sharing a conversation through Redis.

use hearth_domain::{ChannelId, ServerId, UserId};
use hearth_tests::redis_server::PrivateRedis;
use hearth_tests::ws::{connect, Auth, Next, WsClient};
use hearth_tests::{generous_ws_rates, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A server with one channel, its owner, and helpers for sockets on it.
pub(crate) struct Room {
    pub(crate) app: TestApp,
    pub(crate) server: ServerId,
    pub(crate) channel: ChannelId,
    pub(crate) owner: UserId,
    pub(crate) owner_token: String,
}

pub(crate) async fn room_with(app: TestApp) -> Room {
    let (owner, owner_token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let channel = app.channel(server, owner, "general").await.id;
    Room {
        app,
        server,
        channel,
        owner,
        owner_token,
    }
}

pub(crate) async fn room() -> Room {
    room_with(TestApp::spawn().await).await
}

/// A room whose rate limits (sockets' and REST's) stay out of the way of tests that send a lot.
pub(crate) async fn generous_room() -> Room {
    room_with(
        TestApp::spawn_with(|s| {
            hearth_tests::generous_ws_rates(s);
            hearth_tests::generous_rest_limits(s);
        })
        .await,
    )
    .await
}

/// Posts `content` at `path` (a channel's or a conversation's messages) as `token`, and
/// returns the stored message.
pub(crate) async fn post_message(app: &TestApp, token: &str, path: &str, content: &str) -> Value {
    let (status, body) = send(
        app.http
            .post(app.url(path))
            .bearer_auth(token)
            .json(&serde_json::json!({"content": content})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

impl Room {
    pub(crate) fn path(&self) -> String {
        format!("/ws/servers/{}/channels/{}", self.server.0, self.channel.0)
    }

    pub(crate) fn compat_path(&self) -> String {
        format!("/{}/{}", self.server.0, self.channel.0)
    }

    pub(crate) async fn socket(&self, token: &str) -> WsClient {
        let mut socket = connect(self.app.port, &self.path(), Auth::Bearer(token.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        socket.recv_type("presence.list", WAIT).await;
        socket
    }

    /// A new user who joined the server, with a token.
    pub(crate) async fn member(&self, name: &str) -> (UserId, String) {
        let (id, token) = self.app.user_with_token(name).await;
        let (status, _) = send(
            self.app
                .http
                .post(
                    self.app
                        .url(&format!("/api/membership/{}/membership/", self.server.0)),
                )
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        (id, token)
    }

    pub(crate) async fn history(&self) -> Vec<Value> {
        let (_, body) = send(
            self.app.http.get(
                self.app
                    .url(&format!("/api/messages/?channel_id={}", self.channel.0)),
            ),
        )
        .await;
        body.as_array().cloned().unwrap_or_default()
    }
}

async fn closed_with(port: u16, path: &str, auth: Auth) -> Option<u16> {
    let mut socket = connect(port, path, auth)
        .await
        .unwrap_or_else(|e| panic!("the upgrade is accepted, then closed: {e}"));
    socket.recv_close(WAIT).await
}

#[tokio::test]
async fn unauthenticated_or_invalid_tokens_close_with_4001() {
    let room = room().await;
    for path in [room.path(), room.compat_path()] {
        for auth in [
            Auth::None,
            Auth::Bearer("garbage".to_owned()),
            Auth::Cookie("garbage".to_owned()),
            Auth::Subprotocol("garbage".to_owned()),
        ] {
            assert_eq!(
                closed_with(room.app.port, &path, auth.clone()).await,
                Some(4001),
                "{path} {auth:?}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_server_or_channel_closes_with_4004() {
    let room = room().await;
    let other_server = room
        .app
        .server(room.owner, room.app.category("other").await, "Other")
        .await;
    let token = room.owner_token.clone();
    for path in [
        format!("/ws/servers/{}/channels/999999", room.server.0),
        format!("/ws/servers/999999/channels/{}", room.channel.0),
        format!("/ws/servers/{}/channels/{}", other_server.0, room.channel.0),
        format!("/999999/{}", room.channel.0),
    ] {
        assert_eq!(
            closed_with(room.app.port, &path, Auth::Bearer(token.clone())).await,
            Some(4004),
            "{path}"
        );
    }
}

#[tokio::test]
async fn cookie_bearer_and_subprotocol_handshakes_all_work() {
    let room = room().await;
    let token = room.owner_token.clone();
    let own_origin = format!("http://127.0.0.1:{}", room.app.port);
    for (auth, expect_protocol) in [
        (Auth::Bearer(token.clone()), None),
        (Auth::Cookie(token.clone()), None),
        (
            Auth::CookieFrom {
                token: token.clone(),
                origin: own_origin,
            },
            None,
        ),
        (
            Auth::CookieFrom {
                token: token.clone(),
                origin: "http://localhost:5173".to_owned(),
            },
            None,
        ),
        (Auth::Subprotocol(token.clone()), Some("bearer")),
    ] {
        // The compatibility path speaks the whole protocol when asked to; without the opt-in
        // its handshakes are tested in `compat_socket`.
        for path in [room.path(), format!("{}?protocol=full", room.compat_path())] {
            let mut socket = connect(room.app.port, &path, auth.clone())
                .await
                .unwrap_or_else(|e| panic!("{auth:?}: {e}"));
            assert_eq!(socket.protocol.as_deref(), expect_protocol);
            let presence = socket.recv_type("presence.list", WAIT).await;
            assert_eq!(presence["users"][0]["username"], "owner", "{auth:?}");
            socket.send_json(&json!({"type": "ping"})).await;
            socket.recv_type("pong", WAIT).await;
            socket.close().await;
        }
    }
}

#[tokio::test]
async fn cookie_handshake_from_a_foreign_origin_is_refused() {
    let room = room().await;
    let attempt = connect(
        room.app.port,
        &room.path(),
        Auth::CookieFrom {
            token: room.owner_token.clone(),
            origin: "https://evil.example".to_owned(),
        },
    )
    .await;
    assert!(
        attempt.is_err(),
        "cross-site WebSocket hijacking must be refused"
    );
}

#[tokio::test]
async fn a_members_message_is_stored_then_delivered_to_every_socket() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let mut owner = room.socket(&room.owner_token).await;
    let mut listener = room.socket(&bob).await;
    owner.say("  hello there  ").await;
    for socket in [&mut owner, &mut listener] {
        let event = socket.recv_type("chat.message", WAIT).await;
        let message = &event["new_message"];
        assert_eq!(message["sender"], "owner");
        assert_eq!(message["content"], "hello there", "trimmed");
        assert_eq!(message["seq"], 1);
        assert!(message["id"].is_i64());
        assert!(message["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
    }
    // Stored before delivery: it is in the history as soon as it has arrived.
    let history = room.history().await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["content"], "hello there");
}

#[tokio::test]
async fn a_non_member_gets_an_error_frame_and_the_socket_stays_open() {
    let room = room().await;
    let (_, stranger) = room.app.user_with_token("stranger").await;
    let mut socket = room.socket(&stranger).await;
    socket.say("let me in").await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "not_member");
    socket.send_json(&json!({"type": "ping"})).await;
    socket.recv_type("pong", WAIT).await;
    assert!(room.history().await.is_empty());
}

#[tokio::test]
async fn leaving_the_server_stops_posting_on_an_open_socket() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let mut socket = room.socket(&bob).await;
    socket.say("still here").await;
    socket.recv_type("chat.message", WAIT).await;
    let (status, _) = send(
        room.app
            .http
            .delete(room.app.url(&format!(
                "/api/membership/{}/membership/remove_member/",
                room.server.0
            )))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    socket.say("gone now").await;
    assert_eq!(socket.recv_type("error", WAIT).await["code"], "not_member");
    assert_eq!(room.history().await.len(), 1);
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_up() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    for (frame, code) in [
        (Message::Text("{not json".to_owned()), "invalid_frame"),
        (
            Message::Text(json!({"type": "dance"}).to_string()),
            "invalid_frame",
        ),
        (
            Message::Text(json!({"type": "message"}).to_string()),
            "invalid_frame",
        ),
        (
            Message::Text(json!({"type": "message", "message": 5}).to_string()),
            "invalid_frame",
        ),
        (
            Message::Text(json!({"type": "message", "message": "   "}).to_string()),
            "invalid_message",
        ),
        (
            Message::Text(json!({"type": "message", "message": "x".repeat(2001)}).to_string()),
            "invalid_message",
        ),
        (
            Message::Text(
                json!({"type": "message", "message": "hi", "nonce": "n".repeat(65)}).to_string(),
            ),
            "invalid_message",
        ),
        (Message::Binary(vec![0, 1, 2]), "unsupported_frame"),
    ] {
        socket.send(frame).await;
        assert_eq!(socket.recv_type("error", WAIT).await["code"], code);
    }
    socket.say("still works").await;
    socket.recv_type("chat.message", WAIT).await;
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    socket.say(&"x".repeat(100 * 1024)).await;
    assert_eq!(socket.recv_close(WAIT).await, Some(1009));
}

#[tokio::test]
async fn the_same_nonce_yields_one_message() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    for _ in 0..3 {
        socket
            .send_json(&json!({"type": "message", "message": "once", "nonce": "abc-123"}))
            .await;
    }
    let event = socket.recv_type("chat.message", WAIT).await;
    assert_eq!(event["new_message"]["nonce"], "abc-123");
    socket
        .assert_no_type("chat.message", Duration::from_millis(500))
        .await;
    assert_eq!(room.history().await.len(), 1);
}

#[tokio::test]
async fn reconnecting_with_after_replays_then_continues_live_without_gap_or_duplicate() {
    let room = room().await;
    let mut first = room.socket(&room.owner_token).await;
    for i in 1..=5 {
        first.say(&format!("m{i}")).await;
        first.recv_type("chat.message", WAIT).await;
    }
    first.close().await;
    let mut resumed = connect(
        room.app.port,
        &format!("{}?after=2", room.path()),
        Auth::Bearer(room.owner_token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    resumed.say("m6").await;
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let event = resumed.recv_type("chat.message", WAIT).await;
        seqs.push(event["new_message"]["seq"].as_i64().unwrap_or_default());
    }
    assert_eq!(seqs, vec![3, 4, 5, 6]);
    resumed
        .assert_no_type("chat.message", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn presence_list_join_and_leave() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let mut owner = room.socket(&room.owner_token).await;
    let mut bob_socket = connect(room.app.port, &room.path(), Auth::Bearer(bob.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let list = bob_socket.recv_type("presence.list", WAIT).await;
    let names: HashSet<String> = list["users"]
        .as_array()
        .map(|users| {
            users
                .iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, HashSet::from(["owner".to_owned(), "bob".to_owned()]));
    // A small channel's list is whole.
    assert_eq!(list["count"], 2, "{list}");
    assert_eq!(list["complete"], true, "{list}");
    assert_eq!(list["channel_id"], room.channel.0, "{list}");
    assert_eq!(
        owner.recv_type("presence.join", WAIT).await["user"]["username"],
        "bob"
    );
    // A second socket of the same user is no news; closing only one of them is not leaving.
    let extra = room.socket(&bob).await;
    extra.close().await;
    owner
        .assert_no_type("presence.leave", Duration::from_millis(300))
        .await;
    bob_socket.close().await;
    assert_eq!(
        owner.recv_type("presence.leave", WAIT).await["user"]["username"],
        "bob"
    );
}

#[tokio::test]
async fn typing_is_relayed_to_others_throttled_and_not_echoed() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let mut owner = room.socket(&room.owner_token).await;
    let mut bob_socket = room.socket(&bob).await;
    for _ in 0..3 {
        bob_socket.send_json(&json!({"type": "typing"})).await;
    }
    assert_eq!(
        owner.recv_type("typing", WAIT).await["user"]["username"],
        "bob"
    );
    owner
        .assert_no_type("typing", Duration::from_millis(500))
        .await;
    bob_socket
        .assert_no_type("typing", Duration::from_millis(200))
        .await;
}

#[tokio::test]
async fn typing_right_after_a_message_is_relayed_again() {
    let room = room().await;
    let (_, bob) = room.member("bob").await;
    let mut owner = room.socket(&room.owner_token).await;
    let mut bob_socket = room.socket(&bob).await;
    bob_socket.send_json(&json!({"type": "typing"})).await;
    owner.recv_type("typing", WAIT).await;
    bob_socket.say("done typing").await;
    owner.recv_type("chat.message", WAIT).await;
    // Well inside the 3 s throttle, but a new burst after the message: others must see it.
    bob_socket.send_json(&json!({"type": "typing"})).await;
    assert_eq!(
        owner.recv_type("typing", WAIT).await["user"]["username"],
        "bob"
    );
}

#[tokio::test]
async fn a_refused_message_names_its_nonce() {
    let room = room().await;
    let (_, stranger) = room.app.user_with_token("stranger").await;
    let mut socket = room.socket(&stranger).await;
    socket
        .send_json(&json!({"type": "message", "message": "hi", "nonce": "n-1"}))
        .await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "not_member");
    assert_eq!(error["nonce"], "n-1");
    let (_, member) = room.member("member").await;
    let mut socket = room.socket(&member).await;
    socket
        .send_json(&json!({"type": "message", "message": "   ", "nonce": "n-2"}))
        .await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "invalid_message");
    assert_eq!(error["nonce"], "n-2");
    // Frames that are not messages have no nonce to name.
    socket.send_json(&json!({"type": "nope"})).await;
    let error = socket.recv_type("error", WAIT).await;
    assert!(error.get("nonce").is_none(), "{error}");
}

#[tokio::test]
async fn rate_limited_messages_get_retry_after_and_abuse_closes_with_4008() {
    let room = room_with(
        TestApp::spawn_with(|s| {
            s.ws_rate_per_sec = std::num::NonZeroU32::MIN;
            s.ws_rate_burst = std::num::NonZeroU32::MIN;
        })
        .await,
    )
    .await;
    let mut socket = room.socket(&room.owner_token).await;
    socket.say("first").await;
    socket.say("second").await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "rate_limited");
    assert!(
        error["retry_after"]
            .as_u64()
            .is_some_and(|ms| ms > 0 && ms <= 1000),
        "{error}"
    );
    for i in 0..40 {
        socket.say(&format!("spam {i}")).await;
    }
    assert_eq!(socket.recv_close(WAIT).await, Some(4008));
}

#[tokio::test]
async fn sockets_survive_heartbeats_when_they_answer_pings() {
    let room =
        room_with(TestApp::spawn_with(|s| s.ws_ping_interval = Duration::from_secs(1)).await).await;
    let mut socket = room.socket(&room.owner_token).await;
    // tungstenite answers pings while the test reads.
    socket
        .assert_no_type("chat.message", Duration::from_millis(3500))
        .await;
    socket.say("alive").await;
    socket.recv_type("chat.message", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_senders_are_delivered_in_sequence_once() {
    let room = room_with(TestApp::spawn_with(generous_ws_rates).await).await;
    let mut listener = room.socket(&room.owner_token).await;
    let mut senders = Vec::new();
    for name in ["s1", "s2", "s3", "s4"] {
        let (_, token) = room.member(name).await;
        senders.push(room.socket(&token).await);
    }
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, mut socket)| {
            tokio::spawn(async move {
                for i in 0..50 {
                    socket.say(&format!("{n}-{i}")).await;
                }
                socket
            })
        })
        .collect();
    let mut seqs = Vec::new();
    while seqs.len() < 200 {
        let event = listener.recv_type("chat.message", WAIT).await;
        seqs.push(event["new_message"]["seq"].as_i64().unwrap_or_default());
    }
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    for task in tasks {
        let _ = task.await;
    }
}

#[tokio::test]
async fn a_burst_of_messages_is_stored_in_order_and_refusals_stay_with_their_own_message() {
    let room = room_with(TestApp::spawn_with(generous_ws_rates).await).await;
    let mut listener = room.socket(&room.owner_token).await;
    let mut sender = room.socket(&room.owner_token).await;
    // Sent in one go, so most of it queues while the first store runs and is stored together.
    let frame = |i: usize| {
        let (message, nonce) = match i {
            10 => ("bad\u{0}one".to_owned(), "nul".to_owned()),
            20 => ("again".to_owned(), "n-5".to_owned()),
            30 => ("   ".to_owned(), "blank".to_owned()),
            i => (format!("m{i}"), format!("n-{i}")),
        };
        Message::Text(json!({"type": "message", "message": message, "nonce": nonce}).to_string())
    };
    sender.send_burst((0..40).map(frame).collect()).await;
    let expected: Vec<String> = (0..40)
        .filter(|i| ![10, 20, 30].contains(i))
        .map(|i| format!("m{i}"))
        .collect();
    let mut delivered = Vec::new();
    while delivered.len() < expected.len() {
        let event = listener.recv_type("chat.message", WAIT).await;
        let message = &event["new_message"];
        delivered.push((
            message["seq"].as_i64().unwrap_or_default(),
            message["content"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    let numbered: Vec<(i64, String)> = (1..).zip(expected).collect();
    assert_eq!(delivered, numbered);
    let mut refused = HashSet::new();
    for _ in 0..2 {
        let error = sender.recv_type("error", WAIT).await;
        assert_eq!(error["code"], "invalid_message", "{error}");
        refused.insert(error["nonce"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        refused,
        HashSet::from(["nul".to_owned(), "blank".to_owned()])
    );
    listener
        .assert_no_type("chat.message", Duration::from_millis(300))
        .await;
    assert_eq!(room.history().await.len(), 37);
}

/// Two instances on one database and one Redis, several senders on each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_conversation_in_order_once_even_when_redis_restarts() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let fast = |s: &mut hearth_api::config::Settings, url: String, prefix: String| {
        s.redis_url = Some(url);
        s.redis_prefix = prefix;
        // Instances behind one load balancer share the signing key.
        s.jwt_secret =
            hearth_api::config::JwtSecret::new(b"shared-test-secret-shared-test-secret".to_vec());
        s.ws_rate_per_sec = std::num::NonZeroU32::new(10_000).unwrap_or(std::num::NonZeroU32::MIN);
        s.ws_rate_burst = std::num::NonZeroU32::new(10_000).unwrap_or(std::num::NonZeroU32::MIN);
    };
    let (u1, p1) = (url.clone(), prefix.clone());
    let room = room_with(TestApp::spawn_with(move |s| fast(s, u1, p1)).await).await;
    let (u2, p2) = (url.clone(), prefix.clone());
    let second = room.app.spawn_sibling(move |s| fast(s, u2, p2)).await;
    // Let both subscribers attach.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let path = room.path();
    let mut receivers = Vec::new();
    for port in [room.app.port, second.port] {
        let mut socket = connect(port, &path, Auth::Bearer(room.owner_token.clone()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        socket.recv_type("presence.list", WAIT).await;
        receivers.push(socket);
    }
    let mut senders = Vec::new();
    for (i, port) in [room.app.port, second.port, room.app.port, second.port]
        .into_iter()
        .enumerate()
    {
        let (_, token) = room.member(&format!("sender{i}")).await;
        let mut socket = connect(port, &path, Auth::Bearer(token))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        socket.recv_type("presence.list", WAIT).await;
        senders.push(socket);
    }
    const TOTAL: usize = 2000;
    let per_sender = TOTAL / senders.len();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, mut socket)| {
            tokio::spawn(async move {
                for i in 0..per_sender {
                    socket
                        .send_json(&json!({"type": "message", "message": format!("{n}-{i}"), "nonce": format!("{n}-{i}")}))
                        .await;
                    // Read what arrives meanwhile, as a chat client does: a socket that never
                    // reads is eventually closed as too slow (4009), and what it sent after
                    // that point is never read by the server.
                    while let Next::Event(_) = socket.next(Duration::ZERO).await {}
                    if i % 50 == 0 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                socket
            })
        })
        .collect();

    let started = std::time::Instant::now();
    let mut received = [Vec::new(), Vec::new()];
    let mut restarted = false;
    while received.iter().any(|r| r.len() < TOTAL) {
        if !restarted && received[0].len() >= TOTAL / 3 {
            // Redis dies mid-run and comes back: nothing may be lost.
            redis.stop();
            tokio::time::sleep(Duration::from_millis(300)).await;
            redis.restart().await;
            restarted = true;
        }
        for (i, socket) in receivers.iter_mut().enumerate() {
            if received[i].len() >= TOTAL {
                continue;
            }
            match socket.next(Duration::from_millis(50)).await {
                Next::Event(event) if event["type"] == "chat.message" => {
                    received[i].push(event["new_message"]["seq"].as_i64().unwrap_or_default());
                }
                Next::Event(_) | Next::Timeout => {}
                Next::Closed(code) => panic!("receiver {i} closed with {code:?}"),
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "messages lost: received {} and {} of {TOTAL}",
            received[0].len(),
            received[1].len()
        );
    }
    for (i, seqs) in received.iter().enumerate() {
        assert_eq!(
            seqs,
            &(1..=TOTAL as i64).collect::<Vec<_>>(),
            "receiver on instance {i}"
        );
    }
    for task in tasks {
        let _ = task.await;
    }
    let (_, history) = send(
        room.app.http.get(
            room.app
                .url(&format!("/api/messages/?channel_id={}", room.channel.0)),
        ),
    )
    .await;
    assert_eq!(history.as_array().map(Vec::len), Some(50));
    drop(second);
}

pub(crate) fn redis_settings(
    url: String,
    prefix: String,
) -> impl FnOnce(&mut hearth_api::config::Settings) {
    move |s| {
        s.redis_url = Some(url);
        s.redis_prefix = prefix;
        s.jwt_secret =
            hearth_api::config::JwtSecret::new(b"shared-test-secret-shared-test-secret".to_vec());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_shared_across_instances() {
    let redis = PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let room =
        room_with(TestApp::spawn_with(redis_settings(redis.url(), prefix.clone())).await).await;
    let second = room
        .app
        .spawn_sibling(redis_settings(redis.url(), prefix))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, bob) = room.member("bob").await;

    let mut owner = room.socket(&room.owner_token).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bob_socket = connect(second.port, &room.path(), Auth::Bearer(bob.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let list = bob_socket.recv_type("presence.list", WAIT).await;
    let names: HashSet<String> = list["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        HashSet::from(["owner".to_owned(), "bob".to_owned()]),
        "{list}"
    );
    assert_eq!(
        owner.recv_type("presence.join", WAIT).await["user"]["username"],
        "bob"
    );

    // The owner opens a second socket on the other instance: still one "owner" online, no news.
    let mut owner_elsewhere = connect(
        second.port,
        &room.path(),
        Auth::Bearer(room.owner_token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Subscribed once its first frame arrives: only then would a presence.join have been sent.
    owner_elsewhere.recv_type("presence.list", WAIT).await;
    bob_socket
        .assert_no_type("presence.join", Duration::from_millis(500))
        .await;
    owner.close().await;
    bob_socket
        .assert_no_type("presence.leave", Duration::from_millis(500))
        .await;
    owner_elsewhere.close().await;
    assert_eq!(
        bob_socket.recv_type("presence.leave", WAIT).await["user"]["username"],
        "owner"
    );
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_of_an_instance_that_stops_reporting_go_offline() {
    let redis = PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let room =
        room_with(TestApp::spawn_with(redis_settings(redis.url(), prefix.clone())).await).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut owner = room.socket(&room.owner_token).await;
    // An instance that then crashes says a user came online...
    let change = json!({
        "kind": "change",
        "channel_id": room.channel.0,
        "user": {"id": 4242, "username": "ghost"},
        "online": true
    });
    hearth_tests::redis_server::publish(
        redis.port,
        &format!("{prefix}:presence"),
        &format!("crashed|{change}"),
    )
    .await;
    assert_eq!(
        owner.recv_type("presence.join", WAIT).await["user"]["username"],
        "ghost"
    );
    // ...and is never heard from again: the user goes offline once it has been silent too long.
    let leave = owner
        .recv_type("presence.leave", Duration::from_secs(30))
        .await;
    assert_eq!(leave["user"]["username"], "ghost");
}

/// Another instance announced message 2 while message 1 was still being committed there: the
/// gap is waited for and filled, never skipped as if message 1 had been deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_still_being_committed_is_filled_not_skipped() {
    let redis = PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let room =
        room_with(TestApp::spawn_with(redis_settings(redis.url(), prefix.clone())).await).await;
    let mut socket = room.socket(&room.owner_token).await;
    let owner = hearth_domain::UserRef {
        id: room.owner,
        username: "owner".to_owned(),
    };
    let early = json!({
        "type": "chat.message",
        "new_message": {
            "id": 999_999, "channel_id": room.channel.0, "sender": "owner",
            "sender_id": room.owner.0, "content": "second", "timestamp": "2026-01-01T00:00:00Z",
            "seq": 2
        }
    });
    hearth_tests::redis_server::publish(
        redis.port,
        &format!("{prefix}:events"),
        &format!("other|{early}"),
    )
    .await;
    // Several gap-fill rounds pass while neither message is in the database yet.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for content in ["first", "second"] {
        hearth_db::messages::create(
            &room.app.db,
            Some(room.server),
            room.channel,
            &owner,
            content,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let first = socket.recv_type("chat.message", WAIT).await;
    assert_eq!(first["new_message"]["seq"], 1, "{first}");
    assert_eq!(first["new_message"]["content"], "first");
    let second = socket.recv_type("chat.message", WAIT).await;
    assert_eq!(second["new_message"]["seq"], 2, "{second}");
}

#[tokio::test]
async fn a_socket_that_stops_answering_pings_is_closed() {
    let room =
        room_with(TestApp::spawn_with(|s| s.ws_ping_interval = Duration::from_secs(1)).await).await;
    let (_, bob) = room.member("bob").await;
    let mut observer = room.socket(&room.owner_token).await;
    let mut silent = room.socket(&bob).await;
    observer.recv_type("presence.join", WAIT).await;
    // Not reading means not answering pings (tungstenite answers them while reading). The
    // observer reads, so it answers, and sees the silent socket's user go.
    let leave = observer
        .recv_type("presence.leave", Duration::from_secs(6))
        .await;
    assert_eq!(leave["user"]["username"], "bob");
    // The silent client's late pongs may reset the connection before it reads the close frame;
    // when it does read one, the code says why.
    if let Some(code) = silent.recv_close(WAIT).await {
        assert_eq!(code, 4000);
    }
}

#[tokio::test]
async fn rest_posts_edits_and_deletes_arrive_live() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    let messages = room
        .app
        .url(&format!("/api/channels/{}/messages/", room.channel.0));
    let (status, posted) = send(
        room.app
            .http
            .post(&messages)
            .bearer_auth(&room.owner_token)
            .json(&json!({"content": "from REST", "nonce": "rest-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let live = socket.recv_type("chat.message", WAIT).await;
    assert_eq!(live["new_message"]["id"], posted["id"]);
    assert_eq!(live["new_message"]["content"], "from REST");
    assert_eq!(live["new_message"]["nonce"], "rest-1");

    let message = room.app.url(&format!("/api/messages/{}/", posted["id"]));
    let (status, _) = send(
        room.app
            .http
            .patch(&message)
            .bearer_auth(&room.owner_token)
            .json(&json!({"content": "edited"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let updated = socket.recv_type("message.updated", WAIT).await;
    assert_eq!(updated["message"]["content"], "edited");
    assert!(updated["message"]["edited_at"].is_string());

    let (status, _) = send(
        room.app
            .http
            .delete(&message)
            .bearer_auth(&room.owner_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = socket.recv_type("message.deleted", WAIT).await;
    assert_eq!(deleted["id"], posted["id"]);
    assert_eq!(deleted["channel_id"], room.channel.0);
    assert!(
        room.history().await.is_empty(),
        "deleted messages vanish from history"
    );
}

#[tokio::test]
async fn joins_and_leaves_reach_the_servers_sockets() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    let (bob, token) = room.member("bob").await;
    let joined = socket.recv_type("member.joined", WAIT).await;
    assert_eq!(
        joined,
        json!({"type": "member.joined", "server_id": room.server.0, "user_id": bob.0})
    );
    send(
        room.app
            .http
            .delete(room.app.url(&format!(
                "/api/membership/{}/membership/remove_member/",
                room.server.0
            )))
            .bearer_auth(&token),
    )
    .await;
    let left = socket.recv_type("member.left", WAIT).await;
    assert_eq!(left["user_id"], bob.0);
}

#[tokio::test]
async fn a_message_whose_announcement_was_lost_still_arrives() {
    let redis = PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let room = room_with(TestApp::spawn_with(redis_settings(redis.url(), prefix)).await).await;
    let mut socket = room.socket(&room.owner_token).await;
    // Stored by "another instance" whose publish never reached anyone.
    let owner = hearth_domain::UserRef {
        id: room.owner,
        username: "owner".to_owned(),
    };
    hearth_db::messages::create(
        &room.app.db,
        Some(room.server),
        room.channel,
        &owner,
        "unannounced",
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let event = socket
        .recv_type("chat.message", Duration::from_secs(12))
        .await;
    assert_eq!(event["new_message"]["content"], "unannounced");
    assert_eq!(event["new_message"]["seq"], 1);
}

#[tokio::test]
async fn a_message_with_a_nul_character_gets_an_error_frame() {
    let room = room().await;
    let mut socket = room.socket(&room.owner_token).await;
    socket.say("nul\u{0}inside").await;
    assert_eq!(
        socket.recv_type("error", WAIT).await["code"],
        "invalid_message"
    );
    socket.say("fine").await;
    socket.recv_type("chat.message", WAIT).await;
}

#[tokio::test]
async fn a_malformed_authorization_header_is_refused_even_with_a_valid_cookie() {
    let room = room().await;
    let auth = Auth::CookieWithMalformedHeader(room.owner_token.clone());
    assert_eq!(
        closed_with(room.app.port, &room.path(), auth).await,
        Some(4001)
    );
}
