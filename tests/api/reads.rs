//! Read states: acks that only move forward, unread counts, and `read.updated` on the user's
//! other personal sockets.

use crate::gateway::{generous_room as room, post_message, WAIT};
use crate::personal::personal_after;
use hearth_domain::UserId;
use hearth_tests::TestApp;
use hearth_tests::{assert_error, send, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

async fn ack(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    send(app.http.post(app.url(path)).bearer_auth(token).json(&body)).await
}

/// The caller's unread entries, by channel id.
async fn unread(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = send(app.http.get(app.url("/api/me/unread/")).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["channels"].as_array().cloned().unwrap_or_default()
}

async fn entry(app: &TestApp, token: &str, channel: i64) -> Option<Value> {
    unread(app, token)
        .await
        .into_iter()
        .find(|e| e["channel_id"] == channel)
}

fn counts(entry: &Option<Value>) -> (i64, i64, i64) {
    let e = entry.as_ref().unwrap_or_else(|| panic!("no entry"));
    (
        e["last_seq"].as_i64().unwrap_or(-1),
        e["read_seq"].as_i64().unwrap_or(-1),
        e["unread_count"].as_i64().unwrap_or(-1),
    )
}

async fn open_dm(app: &TestApp, token: &str, with: UserId) -> i64 {
    let (status, body) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(token)
            .json(&json!({"user_id": with.0})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    body["id"].as_i64().unwrap_or_default()
}

#[tokio::test]
async fn acks_only_move_forward_and_unread_counts_what_others_wrote_since() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let ack_path = format!("/api/channels/{}/ack/", room.channel.0);

    assert_eq!(counts(&entry(app, &alice, room.channel.0).await), (0, 0, 0));
    for i in 1..=5 {
        post_message(app, &room.owner_token, &messages, &format!("m{i}")).await;
    }
    // Her own message is no news to her.
    post_message(app, &alice, &messages, "mine").await;
    assert_eq!(counts(&entry(app, &alice, room.channel.0).await), (6, 0, 5));

    let (status, body) = ack(app, &alice, &ack_path, json!({"seq": 3})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"channel_id": room.channel.0, "read_seq": 3, "moved": true})
    );
    assert_eq!(counts(&entry(app, &alice, room.channel.0).await), (6, 3, 2));

    // Older or equal: no error, nothing moves.
    for seq in [3, 2, 0] {
        let (status, body) = ack(app, &alice, &ack_path, json!({"seq": seq})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["read_seq"], 3);
        assert_eq!(body["moved"], false);
    }
    // Past the end: up to the last message.
    let (_, body) = ack(app, &alice, &ack_path, json!({"seq": 1_000_000})).await;
    assert_eq!(body["read_seq"], 6);
    assert_eq!(counts(&entry(app, &alice, room.channel.0).await), (6, 6, 0));

    // A deleted message is not news either; the owner's read state is their own.
    let gone = post_message(app, &room.owner_token, &messages, "oops").await;
    let id = gone["id"].as_i64().unwrap_or_default();
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&room.owner_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(counts(&entry(app, &alice, room.channel.0).await), (7, 6, 0));
    assert_eq!(
        counts(&entry(app, &room.owner_token, room.channel.0).await),
        (7, 0, 1)
    );
}

#[tokio::test]
async fn conversations_have_read_states_too_and_strangers_have_none() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (_, stranger) = app.user_with_token("stranger").await;
    let dm = open_dm(app, &room.owner_token, alice_id).await;
    post_message(
        app,
        &room.owner_token,
        &format!("/api/dms/{dm}/messages/"),
        "psst",
    )
    .await;

    let e = entry(app, &alice, dm).await;
    assert_eq!(counts(&e), (1, 0, 1));
    assert_eq!(
        e.as_ref().map(|e| e["server_id"].clone()),
        Some(Value::Null)
    );
    let (status, body) = ack(
        app,
        &alice,
        &format!("/api/dms/{dm}/ack/"),
        json!({"seq": 1}),
    )
    .await;
    assert_eq!(
        (status, body["moved"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert_eq!(counts(&entry(app, &alice, dm).await), (1, 1, 0));

    // Neither the stranger's list nor their acks reach what they cannot read.
    let theirs = unread(app, &stranger).await;
    assert!(
        theirs
            .iter()
            .all(|e| e["channel_id"] != dm && e["channel_id"] != room.channel.0),
        "{theirs:?}"
    );
    let channel_ack = format!("/api/channels/{}/ack/", room.channel.0);
    let (status, body) = ack(app, &stranger, &channel_ack, json!({"seq": 1})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "not_member");
    let (status, _) = ack(
        app,
        &stranger,
        &format!("/api/dms/{dm}/ack/"),
        json!({"seq": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Each route is for its own kind.
    let (status, _) = ack(
        app,
        &alice,
        &format!("/api/channels/{dm}/ack/"),
        json!({"seq": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let wrong = format!("/api/dms/{}/ack/", room.channel.0);
    let (status, _) = ack(app, &alice, &wrong, json!({"seq": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ack(app, &alice, "/api/channels/999999/ack/", json!({"seq": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_acks_are_400_and_anonymous_ones_401() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let path = format!("/api/channels/{}/ack/", room.channel.0);
    for body in [
        json!({"seq": -1}),
        json!({}),
        json!({"seq": "3"}),
        json!({"seq": 1.5}),
        json!([1]),
    ] {
        let (status, answer) = ack(app, &alice, &path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
    }
    let huge = json!({"seq": "x".repeat(5 << 20)});
    let (status, _) = ack(app, &alice, &path, huge).await;
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::PAYLOAD_TOO_LARGE].contains(&status),
        "{status}"
    );
    let (status, _) = send(app.http.post(app.url(&path)).json(&json!({"seq": 1}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(app.http.get(app.url("/api/me/unread/"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_messages_and_acks_leave_exact_counts_and_the_furthest_ack() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let ack_path = format!("/api/channels/{}/ack/", room.channel.0);
    for i in 0..10 {
        post_message(app, &room.owner_token, &messages, &format!("before {i}")).await;
    }
    let posts = (0..40).map(|i| {
        let (messages, owner) = (messages.clone(), room.owner_token.clone());
        async move { post_message(app, &owner, &messages, &format!("during {i}")).await }
    });
    let acks = (1..=10).rev().map(|seq| {
        let (path, alice) = (ack_path.clone(), alice.clone());
        async move { ack(app, &alice, &path, json!({"seq": seq})).await }
    });
    let (_, answers) = tokio::join!(
        futures_util::future::join_all(posts),
        futures_util::future::join_all(acks)
    );
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK));
    assert!(answers.iter().any(|(_, b)| b["read_seq"] == 10));
    // The furthest ack stands, and the count is exactly what came after it.
    assert_eq!(
        counts(&entry(app, &alice, room.channel.0).await),
        (50, 10, 40)
    );
    let (_, body) = ack(app, &alice, &ack_path, json!({"seq": 45})).await;
    assert_eq!(body["read_seq"], 45);
    assert_eq!(
        counts(&entry(app, &alice, room.channel.0).await),
        (50, 45, 5)
    );
}

#[tokio::test]
async fn a_move_reaches_the_users_personal_sockets_and_resumes_but_not_channel_sockets() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let ack_path = format!("/api/channels/{}/ack/", room.channel.0);
    for i in 0..3 {
        post_message(app, &room.owner_token, &messages, &format!("m{i}")).await;
    }
    let (mut phone, _) = personal_after(app, &alice, None).await;
    let mut channel_socket = room.socket(&alice).await;

    ack(app, &alice, &ack_path, json!({"seq": 2})).await;
    let frame = phone.recv_type("read.updated", WAIT).await;
    assert_eq!(frame["channel_id"], room.channel.0);
    assert_eq!(frame["seq"], 2);
    let cursor = frame["cursor"].as_i64().unwrap_or_default();
    assert!(cursor > 0, "{frame}");

    // An ack that moves nothing says nothing.
    ack(app, &alice, &ack_path, json!({"seq": 1})).await;
    phone
        .assert_no_type("read.updated", Duration::from_millis(500))
        .await;
    channel_socket
        .assert_no_type("read.updated", Duration::from_millis(100))
        .await;

    // A client that was away hears of it from the log.
    let (mut laptop, _) = personal_after(app, &alice, Some(cursor - 1)).await;
    let replayed = laptop.recv_type("read.updated", WAIT).await;
    assert_eq!(
        (replayed["seq"].clone(), replayed["cursor"].clone()),
        (json!(2), json!(cursor))
    );
}

#[tokio::test]
async fn members_personal_sockets_hear_of_news_once_a_tick_not_once_a_message() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let (_, stranger) = app.user_with_token("stranger").await;
    let (mut phone, _) = personal_after(app, &alice, None).await;
    let (mut strangers, _) = personal_after(app, &stranger, None).await;
    let mut channel_socket = room.socket(&alice).await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    for i in 0..20 {
        post_message(app, &room.owner_token, &messages, &format!("m{i}")).await;
    }
    // However the 20 fall across ticks, a few frames say where the channel stands.
    let mut frames = 0;
    loop {
        let frame = phone.recv_type("unread.updated", WAIT).await;
        frames += 1;
        assert_eq!(frame["server_id"], room.server.0, "{frame}");
        let channels = frame["channels"].as_array().cloned().unwrap_or_default();
        assert_eq!(channels.len(), 1, "{frame}");
        assert_eq!(channels[0]["channel_id"], room.channel.0);
        if channels[0]["last_seq"] == 20 {
            break;
        }
    }
    assert!(frames <= 3, "{frames} frames for 20 messages");
    // Nobody else's: not a stranger's, not on a channel socket.
    strangers
        .assert_no_type("unread.updated", Duration::from_millis(2500))
        .await;
    channel_socket
        .assert_no_type("unread.updated", Duration::from_millis(100))
        .await;
}

/// `/api/server/select/?by_user=true&with_unread=true`: the caller's servers.
async fn my_servers(app: &TestApp, token: &str, unread: bool) -> (StatusCode, Value) {
    let path = format!("/api/server/select/?by_user=true&with_unread={unread}");
    send(app.http.get(app.url(&path)).bearer_auth(token)).await
}

#[tokio::test]
async fn the_catalogue_of_my_servers_carries_my_counts_on_request_only() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let second = app.channel(room.server, room.owner, "second").await.id;
    let general = format!("/api/channels/{}/messages/", room.channel.0);
    for content in ["one", "two", &format!("hey <@{}>", alice_id.0)] {
        post_message(app, &room.owner_token, &general, content).await;
    }
    let other = format!("/api/channels/{}/messages/", second.0);
    post_message(app, &room.owner_token, &other, "elsewhere").await;
    // Alice's own message is nothing new to her.
    post_message(app, &alice, &other, "mine").await;

    let (status, servers) = my_servers(app, &alice, true).await;
    assert_eq!(status, StatusCode::OK, "{servers}");
    let server = &servers[0];
    assert_eq!(server["id"], room.server.0);
    assert_eq!(
        server["unread"],
        json!({"unread_count": 4, "mention_count": 1})
    );
    let channel = |id: i64| {
        server["channel_server"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["id"] == id)
            .map(|c| c["unread"].clone())
    };
    assert_eq!(
        channel(room.channel.0),
        Some(json!({"unread_count": 3, "mention_count": 1}))
    );
    assert_eq!(
        channel(second.0),
        Some(json!({"unread_count": 1, "mention_count": 0}))
    );

    let (status, _) = ack(
        app,
        &alice,
        &format!("/api/channels/{}/ack/", room.channel.0),
        json!({"seq": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, servers) = my_servers(app, &alice, true).await;
    assert_eq!(
        servers[0]["unread"],
        json!({"unread_count": 1, "mention_count": 0})
    );

    // Not asked for: the reference's shape, no counts.
    let (status, servers) = my_servers(app, &alice, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(servers[0].get("unread"), None, "{servers}");
    assert_eq!(servers[0]["channel_server"][0].get("unread"), None);
    // Counts are one's own: not on the public catalogue.
    let (status, body) = send(
        app.http
            .get(app.url("/api/server/select/?with_unread=true"))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "unread_needs_by_user");
}

#[tokio::test]
async fn counts_in_the_catalogue_share_the_unread_lists_rate_limit() {
    let app = TestApp::spawn_with(|s| {
        s.limits.unread_lists = hearth_api::limits::Rate::parse("1/60").ok().flatten();
    })
    .await;
    let (_, token) = app.user_with_token("reader").await;
    assert_eq!(my_servers(&app, &token, true).await.0, StatusCode::OK);
    let (status, _) = my_servers(&app, &token, true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The listing without counts is not limited.
    assert_eq!(my_servers(&app, &token, false).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_ack_with_the_token_of_a_deleted_account_is_a_401_and_stores_nothing() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    post_message(app, &room.owner_token, &messages, "hello").await;
    let (status, body) = send(
        app.http
            .delete(app.url("/api/me/"))
            .bearer_auth(&alice)
            .json(&json!({"password": hearth_tests::PASSWORD})),
    )
    .await;
    assert!(status.is_success(), "{status}: {body}");
    let path = format!("/api/channels/{}/ack/", room.channel.0);
    for channel_path in [
        path.as_str(),
        "/api/channels/999999/ack/",
        "/api/dms/999999/ack/",
    ] {
        let (status, body) = ack(app, &alice, channel_path, json!({"seq": 1})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{channel_path}: {body}");
    }
}
