//! Mentions: `<@user_id>` resolved when a message is stored or edited, only users who can read
//! the channel, mention counts, and the `mention` frame on the mentioned user's personal socket.

use crate::gateway::{generous_room as room, post_message, WAIT};
use crate::personal::personal_after;
use hearth_domain::UserId;
use hearth_tests::{send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

async fn edit(app: &TestApp, token: &str, id: i64, content: &str) -> Value {
    let (status, body) = send(
        app.http
            .patch(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(token)
            .json(&json!({"content": content})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The caller's (unread, mention) counts in `channel`, or `None` when it is not in their list.
async fn counts(app: &TestApp, token: &str, channel: i64) -> Option<(i64, i64)> {
    let (status, body) = send(app.http.get(app.url("/api/me/unread/")).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["channel_id"] == channel)
        .map(|e| {
            (
                e["unread_count"].as_i64().unwrap_or(-1),
                e["mention_count"].as_i64().unwrap_or(-1),
            )
        })
}

fn mentioned(message: &Value) -> Vec<i64> {
    message["mentions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| u["id"].as_i64().unwrap_or_default())
        .collect()
}

fn tag(user: UserId) -> String {
    format!("<@{}>", user.0)
}

#[tokio::test]
async fn only_readers_of_the_channel_are_mentioned_and_counted() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (stranger_id, stranger) = app.user_with_token("stranger").await;
    let (mut phone, _) = personal_after(app, &alice, None).await;
    let (mut strangers_phone, _) = personal_after(app, &stranger, None).await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);

    let content = format!(
        "hey {} {} {} <@999999> and me {} {}",
        tag(alice_id),
        tag(stranger_id),
        tag(alice_id),
        tag(room.owner),
        tag(alice_id)
    );
    let message = post_message(app, &room.owner_token, &messages, &content).await;
    // The stranger is no member: no mention. Each user once, in order; the author may name
    // themselves (shown, not counted).
    assert_eq!(mentioned(&message), vec![alice_id.0, room.owner.0]);
    assert_eq!(message["mentions"][0]["username"], "alice");
    assert_eq!(message["content"], content);

    let frame = phone.recv_type("mention", WAIT).await;
    assert_eq!(frame["message"]["id"], message["id"]);
    assert_eq!(frame["message"]["channel_id"], room.channel.0);
    assert_eq!(frame["server_id"], room.server.0);
    assert!(frame["cursor"].as_i64().unwrap_or_default() > 0, "{frame}");
    strangers_phone
        .assert_no_type("mention", Duration::from_millis(300))
        .await;

    assert_eq!(counts(app, &alice, room.channel.0).await, Some((1, 1)));
    assert_eq!(
        counts(app, &room.owner_token, room.channel.0).await,
        Some((0, 0))
    );
    assert_eq!(counts(app, &stranger, room.channel.0).await, None);

    // History carries them, on every page.
    let (_, page) = send(app.http.get(app.url(&messages)).bearer_auth(&alice)).await;
    assert_eq!(mentioned(&page[0]), vec![alice_id.0, room.owner.0]);

    // Reading clears the count; a plain message is no mention.
    let ack = format!("/api/channels/{}/ack/", room.channel.0);
    let seq = message["seq"].clone();
    send(
        app.http
            .post(app.url(&ack))
            .bearer_auth(&alice)
            .json(&json!({"seq": seq})),
    )
    .await;
    let plain = post_message(app, &room.owner_token, &messages, "no one <@> <@x>").await;
    assert_eq!(plain.get("mentions"), None, "{plain}");
    assert_eq!(counts(app, &alice, room.channel.0).await, Some((1, 0)));
}

#[tokio::test]
async fn edits_and_deletions_change_mentions_and_their_counts() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (bob_id, bob) = room.member("bob").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let mut socket = room.socket(&bob).await;

    let message = post_message(
        app,
        &room.owner_token,
        &messages,
        &format!("hi {}", tag(alice_id)),
    )
    .await;
    let id = message["id"].as_i64().unwrap_or_default();
    assert_eq!(counts(app, &alice, room.channel.0).await, Some((1, 1)));

    let edited = edit(
        app,
        &room.owner_token,
        id,
        &format!("hi {} instead", tag(bob_id)),
    )
    .await;
    assert_eq!(mentioned(&edited), vec![bob_id.0]);
    let update = socket.recv_type("message.updated", WAIT).await;
    assert_eq!(mentioned(&update["message"]), vec![bob_id.0]);
    assert_eq!(counts(app, &alice, room.channel.0).await, Some((1, 0)));
    assert_eq!(counts(app, &bob, room.channel.0).await, Some((1, 1)));

    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&room.owner_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(counts(app, &bob, room.channel.0).await, Some((0, 0)));
}

#[tokio::test]
async fn a_conversation_mentions_its_participants_only_and_sockets_carry_mentions() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (bob_id, _bob) = room.member("bob").await;
    let (status, dm) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&room.owner_token)
            .json(&json!({"user_id": alice_id.0})),
    )
    .await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["id"].as_i64().unwrap_or_default();
    let (mut phone, _) = personal_after(app, &alice, None).await;
    let content = format!("{} and {}", tag(alice_id), tag(bob_id));
    let message = post_message(
        app,
        &room.owner_token,
        &format!("/api/dms/{dm}/messages/"),
        &content,
    )
    .await;
    assert_eq!(mentioned(&message), vec![alice_id.0]);
    let frame = phone.recv_type("mention", WAIT).await;
    assert_eq!(frame["server_id"], Value::Null);
    assert_eq!(counts(app, &alice, dm).await, Some((1, 1)));

    // A message sent on a socket is resolved the same way, and its frame carries them.
    let mut sender = room.socket(&room.owner_token).await;
    let mut reader = room.socket(&alice).await;
    sender
        .send_json(&json!({"type": "message", "message": format!("yo {}", tag(alice_id))}))
        .await;
    let live = reader.recv_type("chat.message", WAIT).await;
    assert_eq!(mentioned(&live["new_message"]), vec![alice_id.0]);
    phone.recv_type("mention", WAIT).await;
    assert_eq!(counts(app, &alice, room.channel.0).await, Some((1, 1)));
}
