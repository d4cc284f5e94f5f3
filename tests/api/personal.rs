//! The personal socket (`/ws/me`): what is addressed to the user, and subscriptions to channels
//! and conversations with a channel socket's guarantees (order, no gap, no duplicate, `after`).

use crate::gateway::{room, room_with, WAIT};
use hearth_tests::ws::{connect, Auth, Next, WsClient};
use hearth_tests::{generous_ws_rates, send, StatusCode, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn personal(app: &TestApp, token: &str) -> (WsClient, Value) {
    personal_after(app, token, None).await
}

/// A personal socket opened with `?after=<cursor>` (or none), and its `ready` frame.
pub(crate) async fn personal_after(
    app: &TestApp,
    token: &str,
    after: Option<i64>,
) -> (WsClient, Value) {
    let path = match after {
        Some(after) => format!("/ws/me?after={after}"),
        None => "/ws/me".to_owned(),
    };
    let mut socket = connect(app.port, &path, Auth::Bearer(token.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let ready = socket.recv_type("ready", WAIT).await;
    (socket, ready)
}

async fn subscribe(socket: &mut WsClient, channels: Value) {
    socket
        .send_json(&json!({"type": "subscribe", "channels": channels}))
        .await;
}

async fn post(app: &TestApp, token: &str, path: &str, content: &str) {
    let (status, body) = send(
        app.http
            .post(app.url(path))
            .bearer_auth(token)
            .json(&json!({"content": content})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The next `chat.message` frames, as (channel, seq, content).
async fn messages(socket: &mut WsClient, count: usize) -> Vec<(i64, i64, String)> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = socket.recv_type("chat.message", WAIT).await;
        let m = &frame["new_message"];
        got.push((
            m["channel_id"].as_i64().unwrap_or_default(),
            m["seq"].as_i64().unwrap_or_default(),
            m["content"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    got
}

#[tokio::test]
async fn a_personal_socket_says_who_it_is_and_refuses_strangers() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.user_with_token("alice").await;
    let (_, ready) = personal(&app, &token).await;
    assert_eq!(ready["user"], json!({"id": alice.0, "username": "alice"}));
    assert_eq!(ready["max_subscriptions"], 200);
    for auth in [Auth::None, Auth::Bearer("garbage".to_owned())] {
        let mut socket = connect(app.port, "/ws/me", auth)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(socket.recv_close(WAIT).await, Some(4001));
    }
}

#[tokio::test]
async fn one_socket_follows_a_channel_and_a_conversation_in_order_with_replay() {
    // Alice posts 20 messages at once.
    let room = room_with(TestApp::spawn_with(generous_ws_rates).await).await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let (bob_id, bob) = room.member("bob").await;
    let (status, dm) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice)
            .json(&json!({"user_id": bob_id.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let dm = dm["id"].as_i64().unwrap_or_default();
    let channel = room.channel.0;
    let channel_path = format!("/api/channels/{channel}/messages/");
    let dm_path = format!("/api/dms/{dm}/messages/");
    for i in 1..=3 {
        post(app, &alice, &channel_path, &format!("c{i}")).await;
        post(app, &alice, &dm_path, &format!("d{i}")).await;
    }

    let (mut socket, _) = personal(app, &bob).await;
    // Replay after 1 in the channel, everything in the conversation.
    subscribe(
        &mut socket,
        json!([{"id": channel, "after": 1}, {"id": dm, "after": 0}]),
    )
    .await;
    let replayed = messages(&mut socket, 5).await;
    assert_eq!(
        replayed,
        [
            (channel, 2, "c2".to_owned()),
            (channel, 3, "c3".to_owned()),
            (dm, 1, "d1".to_owned()),
            (dm, 2, "d2".to_owned()),
            (dm, 3, "d3".to_owned()),
        ]
    );
    // Live from both, each in order, none twice.
    for i in 4..=9 {
        post(app, &alice, &channel_path, &format!("c{i}")).await;
        post(app, &alice, &dm_path, &format!("d{i}")).await;
    }
    let live = messages(&mut socket, 12).await;
    for id in [channel, dm] {
        let seqs: Vec<i64> = live.iter().filter(|m| m.0 == id).map(|m| m.1).collect();
        assert_eq!(seqs, (4..=9).collect::<Vec<_>>(), "{id}: {live:?}");
    }

    // Typing on a followed conversation reaches its other sockets.
    let mut alices_dm = connect(
        app.port,
        &format!("/ws/dms/{dm}"),
        Auth::Bearer(alice.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    alices_dm.recv_type("presence.list", WAIT).await;
    socket
        .send_json(&json!({"type": "typing", "channel_id": dm}))
        .await;
    let typing = alices_dm.recv_type("typing", WAIT).await;
    assert_eq!(typing["user"]["username"], "bob");

    // Unsubscribing stops that channel only.
    socket
        .send_json(&json!({"type": "unsubscribe", "channels": [channel]}))
        .await;
    let done = socket.recv_type("unsubscribed", WAIT).await;
    assert_eq!(
        done,
        json!({"type": "unsubscribed", "channel_id": channel, "reason": "requested"})
    );
    post(app, &alice, &channel_path, "c10").await;
    post(app, &alice, &dm_path, "d10").await;
    let next = messages(&mut socket, 1).await;
    assert_eq!(next, [(dm, 10, "d10".to_owned())]);
}

#[tokio::test]
async fn subscriptions_are_refused_for_what_the_user_cannot_read_and_past_the_limit() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let (bob_id, _) = room.member("bob").await;
    let (_, eve) = room.member("eve").await;
    let (_, dm) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice)
            .json(&json!({"user_id": bob_id.0})),
    )
    .await;
    let dm = dm["id"].as_i64().unwrap_or_default();
    let (mut socket, _) = personal(app, &eve).await;
    subscribe(&mut socket, json!([{"id": dm}, {"id": 987_654}])).await;
    for id in [dm, 987_654] {
        let refused = socket.recv_type("unsubscribed", WAIT).await;
        assert_eq!(
            refused,
            json!({"type": "unsubscribed", "channel_id": id, "reason": "not_found"})
        );
    }
    post(app, &alice, &format!("/api/dms/{dm}/messages/"), "private").await;
    socket
        .assert_no_type("chat.message", Duration::from_millis(300))
        .await;

    // 200 at most.
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(
            app.channel(room.server, room.owner, &format!("c{i}"))
                .await
                .id
                .0,
        );
    }
    let extra = app
        .channel(room.server, room.owner, "one-too-many")
        .await
        .id
        .0;
    let all: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    subscribe(&mut socket, Value::Array(all)).await;
    for _ in 0..200 {
        socket.recv_type("subscribed", WAIT).await;
    }
    subscribe(&mut socket, json!([{"id": extra}])).await;
    let refused = socket.recv_type("unsubscribed", WAIT).await;
    assert_eq!(refused["reason"], "too_many_subscriptions");
    // Subscribing again to a followed channel is harmless.
    subscribe(&mut socket, json!([{"id": ids[0]}])).await;
    let again = socket.recv_type("subscribed", WAIT).await;
    assert_eq!(again["channel_id"], ids[0]);
}

#[tokio::test]
async fn what_is_addressed_to_the_user_arrives_once_whatever_it_follows() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (_, bob) = room.member("bob").await;
    let (mut socket, _) = personal(app, &alice).await;
    subscribe(&mut socket, json!([{"id": room.channel.0}])).await;
    socket.recv_type("subscribed", WAIT).await;

    // Bob opens a conversation with alice: she hears of it, subscribes, and a /pm reaches her
    // once (not once per subscription), as does its message in the conversation.
    let mut bobs = room.socket(&bob).await;
    bobs.send_json(&json!({"type": "message", "message": "/pm alice hello you"}))
        .await;
    bobs.recv_type("private_message_delivered", WAIT).await;
    let added = socket.recv_type("conversation.added", WAIT).await;
    assert_eq!(added["to"], alice_id.0);
    let conversation = added["conversation_id"].as_i64().unwrap_or_default();
    let private = socket.recv_type("private_message", WAIT).await;
    assert_eq!(private["message"], "hello you");
    subscribe(&mut socket, json!([{"id": conversation, "after": 0}])).await;
    let replayed = messages(&mut socket, 1).await;
    assert_eq!(replayed, [(conversation, 1, "hello you".to_owned())]);
    bobs.send_json(&json!({"type": "message", "message": "/pm alice again"}))
        .await;
    let mut private_messages = 0;
    let mut in_conversation = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.next(left).await {
            Next::Event(frame) if frame["type"] == "private_message" => private_messages += 1,
            Next::Event(frame) if frame["type"] == "chat.message" => in_conversation += 1,
            Next::Event(_) => {}
            Next::Timeout => break,
            Next::Closed(code) => panic!("closed: {code:?}"),
        }
    }
    assert_eq!((private_messages, in_conversation), (1, 1));
}

#[tokio::test]
async fn leaving_a_group_unsubscribes_without_closing_the_socket() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user_with_token("alice").await;
    let (bob, _) = app.user_with_token("bob").await;
    let (carol, _) = app.user_with_token("carol").await;
    let (_, group) = send(
        app.http
            .post(app.url("/api/dms/groups/"))
            .bearer_auth(&alice)
            .json(&json!({"name": "trio", "user_ids": [bob.0, carol.0]})),
    )
    .await;
    let group = group["id"].as_i64().unwrap_or_default();
    let (mut socket, _) = personal(&app, &alice).await;
    subscribe(&mut socket, json!([{"id": group}])).await;
    socket.recv_type("subscribed", WAIT).await;
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/dms/{group}/participants/me/")))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = socket.recv_type("unsubscribed", WAIT).await;
    assert_eq!(gone["reason"], "not_found");
    socket.send_json(&json!({"type": "ping"})).await;
    socket.recv_type("pong", WAIT).await;
}

#[tokio::test]
async fn hostile_frames_on_the_personal_socket_get_error_frames() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let (mut socket, _) = personal(&app, &token).await;
    for (frame, code) in [
        (Message::Text("not json".into()), "invalid_frame"),
        (
            Message::Text(r#"{"type":"subscribe","channels":"all"}"#.into()),
            "invalid_frame",
        ),
        (
            Message::Text(r#"{"type":"subscribe","channels":[{"id":"x"}]}"#.into()),
            "invalid_frame",
        ),
        (
            Message::Text(r#"{"type":"message","message":"hi"}"#.into()),
            "invalid_frame",
        ),
        (Message::Binary(vec![1, 2, 3]), "unsupported_frame"),
    ] {
        socket.send(frame).await;
        let error = socket.recv_type("error", WAIT).await;
        assert_eq!(error["code"], code, "{error}");
    }
    // Too large a frame closes it (1009), as on channel sockets.
    socket.send(Message::Text("x".repeat(70 * 1024))).await;
    assert_eq!(socket.recv_close(WAIT).await, Some(1009));
}

/// Conversations and what is addressed to a user cross instances through Redis, and a Redis
/// restart loses none of a conversation's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_conversations_and_private_messages_through_redis() {
    let mut redis = hearth_tests::redis_server::PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let settings = |prefix: String| {
        let redis = crate::gateway::redis_settings(redis.url(), prefix);
        move |s: &mut hearth_api::config::Settings| {
            redis(s);
            generous_ws_rates(s);
        }
    };
    let first = TestApp::spawn_with(settings(prefix.clone())).await;
    let second = first.spawn_sibling(settings(prefix)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (alice_id, alice) = first.user_with_token("alice").await;
    let (_, bob) = first.user_with_token("bob").await;

    // Alice's personal socket is on the first instance; Bob works on the second.
    let (mut socket, _) = personal(&first, &alice).await;
    let (status, dm) = send(
        second
            .http
            .post(second.url("/api/dms/"))
            .bearer_auth(&bob)
            .json(&json!({"user_id": alice_id.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let dm = dm["id"].as_i64().unwrap_or_default();
    let added = socket.recv_type("conversation.added", WAIT).await;
    assert_eq!(added["conversation_id"], dm);
    subscribe(&mut socket, json!([{"id": dm}])).await;
    socket.recv_type("subscribed", WAIT).await;

    let dm_path = format!("/api/dms/{dm}/messages/");
    let mut sent = 0;
    for round in 0..2 {
        for _ in 0..5 {
            sent += 1;
            post(&second, &bob, &dm_path, &format!("m{sent}")).await;
        }
        if round == 0 {
            // Redis dies and comes back between the two halves.
            redis.stop();
            for _ in 0..5 {
                sent += 1;
                post(&second, &bob, &dm_path, &format!("m{sent}")).await;
            }
            redis.restart().await;
        }
    }
    let got = messages(&mut socket, sent).await;
    let seqs: Vec<i64> = got.iter().map(|m| m.1).collect();
    assert_eq!(
        seqs,
        (1..=15).collect::<Vec<_>>(),
        "all of them, in order, once"
    );

    // A /pm typed on the second instance reaches the personal socket on the first.
    let mut bobs = connect(
        second.port,
        &format!("/ws/dms/{dm}"),
        Auth::Bearer(bob.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    bobs.recv_type("presence.list", WAIT).await;
    bobs.send_json(&json!({"type": "message", "message": "/pm alice across"}))
        .await;
    let private = socket
        .recv_type("private_message", Duration::from_secs(20))
        .await;
    assert_eq!(private["message"], "across");
    drop(second);
}

/// Counts the frames of each type that arrive within `wait`.
pub(crate) async fn frames_within(socket: &mut WsClient, wait: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.next(left).await {
            Next::Event(frame) => got.push(frame),
            Next::Timeout => return got,
            Next::Closed(code) => panic!("closed: {code:?}"),
        }
    }
}

#[tokio::test]
async fn the_users_servers_are_heard_of_without_subscribing_and_once() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (_, _bob) = room.member("bob").await;
    let (mut socket, _) = personal(app, &alice).await;
    // Following one of the server's channels too must not double what the server says.
    subscribe(&mut socket, json!([{"id": room.channel.0}])).await;
    socket.recv_type("subscribed", WAIT).await;
    let owner = &room.owner_token;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/servers/{}/channels/", room.server.0)))
            .bearer_auth(owner)
            .json(&json!({"name": "news"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(
        app.http
            .patch(app.url(&format!("/api/servers/{}/", room.server.0)))
            .bearer_auth(owner)
            .json(&json!({"description": "now with news"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Someone else joining is not this user's concern.
    let (_, _carol) = room.member("carol").await;
    let got = frames_within(&mut socket, Duration::from_millis(800)).await;
    let kinds: Vec<&str> = got.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "channel.created").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "server.updated").count(),
        1,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"member.joined"), "{kinds:?}");

    // A server joined later is heard of from then on, starting with the user's own join.
    let other = app
        .server(room.owner, app.category("other").await, "Elsewhere")
        .await;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", other.0)))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let joined = socket.recv_type("member.joined", WAIT).await;
    assert_eq!(joined["user_id"], alice_id.0);
    assert_eq!(joined["server_id"], other.0);
    // Removed from it by the owner: told so, then nothing more from it.
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/servers/{}/members/{}/", other.0, alice_id.0)))
            .bearer_auth(owner),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left = socket.recv_type("member.left", WAIT).await;
    assert_eq!(left["server_id"], other.0);
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/servers/{}/channels/", other.0)))
            .bearer_auth(owner)
            .json(&json!({"name": "secret-plans"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    socket
        .assert_no_type("channel.created", Duration::from_millis(400))
        .await;
}

/// Skips frames until the socket is closed; the close code.
async fn close_code(socket: &mut WsClient) -> Option<u16> {
    loop {
        match socket.next(WAIT).await {
            Next::Event(_) => {}
            Next::Closed(code) => return code,
            Next::Timeout => panic!("not closed"),
        }
    }
}

/// Deleting an account is confirmed by its password, and is a forced logout: every socket of
/// the account hears `account.deleted` and is closed with 4001, its token stops working, and
/// those who remain hear of what went with it.
#[tokio::test]
async fn deleting_the_account_logs_every_socket_of_it_out() {
    let room = room().await;
    let app = &room.app;
    let owner = &room.owner_token;
    let (_, bob) = room.member("bob").await;
    let (mut owners_personal, _) = personal(app, owner).await;
    let mut owners_channel = room.socket(owner).await;
    let mut bobs_channel = room.socket(&bob).await;
    let (mut bobs_personal, _) = personal(app, &bob).await;
    let delete = || app.http.delete(app.url("/api/me/")).bearer_auth(owner);

    // A wrong password, or none, deletes nothing.
    let (status, body) = send(delete().json(&json!({"password": "not the password"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = send(delete()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = send(delete().json(&json!({"password": 7}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = send(app.http.get(app.url("/api/me/")).bearer_auth(owner)).await;
    assert_eq!(status, StatusCode::OK);
    owners_personal
        .assert_no_type("account.deleted", Duration::from_millis(300))
        .await;

    let (status, body) = send(delete().json(&json!({"password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for socket in [&mut owners_personal, &mut owners_channel] {
        let frame = socket.recv_type("account.deleted", WAIT).await;
        assert_eq!(
            frame,
            json!({"type": "account.deleted", "to": room.owner.0})
        );
        assert_eq!(close_code(socket).await, Some(4001));
    }
    // The owner's server went with the account.
    bobs_personal.recv_type("server.deleted", WAIT).await;
    bobs_channel.recv_type("server.deleted", WAIT).await;
    assert_eq!(close_code(&mut bobs_channel).await, Some(4004));

    let (status, _) = send(app.http.get(app.url("/api/me/")).bearer_auth(owner)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut again = connect(app.port, "/ws/me", Auth::Bearer(owner.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(close_code(&mut again).await, Some(4001));
    let (status, _) = send(
        app.http
            .post(app.url("/api/token/"))
            .json(&json!({"username": "owner", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
