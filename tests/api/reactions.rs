//! Reactions: idempotent, one per user and emoji, at most 20 emoji per message, exact counts
//! under concurrency, `me` per reader in history, and the live events.

use crate::gateway::{generous_room as room, post_message, WAIT};
use hearth_tests::{assert_error, send, StatusCode};
use hearth_tests::{TestApp, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

async fn post(app: &TestApp, token: &str, path: &str, content: &str) -> i64 {
    post_message(app, token, path, content).await["id"]
        .as_i64()
        .unwrap_or_default()
}

fn reaction_path(id: i64, emoji: &str) -> String {
    let encoded: String = emoji.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/api/messages/{id}/reactions/{encoded}/me")
}

async fn react(app: &TestApp, token: &str, id: i64, emoji: &str) -> (StatusCode, Value) {
    let path = reaction_path(id, emoji);
    send(app.http.put(app.url(&path)).bearer_auth(token)).await
}

async fn unreact(app: &TestApp, token: &str, id: i64, emoji: &str) -> (StatusCode, Value) {
    let path = reaction_path(id, emoji);
    send(app.http.delete(app.url(&path)).bearer_auth(token)).await
}

/// The message's reactions as `token` reads them in history.
async fn reactions(app: &TestApp, token: &str, messages: &str, id: i64) -> Value {
    let (status, page) = send(app.http.get(app.url(messages)).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page.as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == id)
        .map(|m| m.get("reactions").cloned().unwrap_or(json!([])))
        .unwrap_or_else(|| panic!("{id} not in {page}"))
}

#[tokio::test]
async fn reactions_are_idempotent_counted_and_told_once_per_change() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let (_, bob) = room.member("bob").await;
    let (_, stranger) = app.user_with_token("stranger").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let id = post(app, &alice, &messages, "react to me").await;
    let mut socket = room.socket(&stranger).await;

    let (status, body) = react(app, &alice, id, "👍").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"message_id": id, "emoji": "👍", "count": 1, "me": true})
    );
    let frame = socket.recv_type("reaction.added", WAIT).await;
    assert_eq!(
        (
            frame["message_id"].clone(),
            frame["emoji"].clone(),
            frame["count"].clone()
        ),
        (json!(id), json!("👍"), json!(1))
    );
    assert_eq!(frame["channel_id"], room.channel.0);
    // Again: no change, no frame.
    assert_eq!(react(app, &alice, id, "👍").await.1["count"], 1);
    let (_, body) = react(app, &bob, id, "👍").await;
    assert_eq!(body["count"], 2);
    let frame = socket.recv_type("reaction.added", WAIT).await;
    assert_eq!(frame["count"], 2, "the repeated reaction said nothing");
    react(app, &bob, id, "🎉").await;
    socket.recv_type("reaction.added", WAIT).await;

    // History: counts in the order emoji first appeared, `me` for each reader.
    assert_eq!(
        reactions(app, &alice, &messages, id).await,
        json!([{"emoji": "👍", "count": 2, "me": true}, {"emoji": "🎉", "count": 1, "me": false}])
    );
    assert_eq!(
        reactions(app, &bob, &messages, id).await,
        json!([{"emoji": "👍", "count": 2, "me": true}, {"emoji": "🎉", "count": 1, "me": true}])
    );
    assert_eq!(
        reactions(app, &stranger, &messages, id).await,
        json!([{"emoji": "👍", "count": 2, "me": false}, {"emoji": "🎉", "count": 1, "me": false}])
    );

    let (status, body) = unreact(app, &bob, id, "🎉").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["count"].clone(), body["me"].clone()),
        (json!(0), json!(false))
    );
    let frame = socket.recv_type("reaction.removed", WAIT).await;
    assert_eq!(
        (frame["emoji"].clone(), frame["count"].clone()),
        (json!("🎉"), json!(0))
    );
    assert_eq!(unreact(app, &bob, id, "🎉").await.0, StatusCode::OK);
    socket
        .assert_no_type("reaction.removed", Duration::from_millis(300))
        .await;
    assert_eq!(
        reactions(app, &stranger, &messages, id).await,
        json!([{"emoji": "👍", "count": 2, "me": false}])
    );

    // Only members react; a deleted message takes no reaction.
    let (status, body) = react(app, &stranger, id, "👍").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "not_member");
    assert_eq!(
        react(app, &alice, 999_999, "👍").await.0,
        StatusCode::NOT_FOUND
    );
    send(
        app.http
            .delete(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(react(app, &bob, id, "👍").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_one_emoji_is_a_reaction() {
    let room = room().await;
    let app = &room.app;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let id = post(app, &room.owner_token, &messages, "hm").await;
    for text in ["👍👍", "ok", "a", ":+1:", "👍 ", &"x".repeat(1000)] {
        let (status, body) = react(app, &room.owner_token, id, text).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text:?}: {body}");
        assert_error(&body, "invalid_emoji");
    }
    // 5 MiB never reaches a handler: refused as the request it is.
    let huge = format!("/api/messages/{id}/reactions/{}/me", "x".repeat(5 << 20));
    let status = app
        .http
        .put(app.url(&huge))
        .bearer_auth(&room.owner_token)
        .send()
        .await
        .map(|r| r.status());
    assert!(
        status.as_ref().map_or(true, |s| s.is_client_error()),
        "{status:?}"
    );
    assert_eq!(
        reactions(app, &room.owner_token, &messages, id).await,
        json!([])
    );
}

#[tokio::test]
async fn many_at_once_lose_and_double_nothing_and_the_cap_of_twenty_holds() {
    let room = room().await;
    let app = &room.app;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let mut people = Vec::new();
    for i in 0..30 {
        people.push(room.member(&format!("user{i}")).await.1);
    }
    let id = post(app, &room.owner_token, &messages, "popular").await;
    let added =
        futures_util::future::join_all(people.iter().map(|t| react(app, t, id, "🔥"))).await;
    assert!(added.iter().all(|(s, _)| *s == StatusCode::OK), "{added:?}");
    let mut counts: Vec<i64> = added
        .iter()
        .map(|(_, b)| b["count"].as_i64().unwrap_or_default())
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=30).collect::<Vec<_>>(),
        "each saw its own count"
    );
    assert_eq!(
        reactions(app, &room.owner_token, &messages, id).await,
        json!([{"emoji": "🔥", "count": 30, "me": false}])
    );
    let removed =
        futures_util::future::join_all(people.iter().map(|t| unreact(app, t, id, "🔥"))).await;
    assert!(removed.iter().all(|(s, _)| *s == StatusCode::OK));
    assert_eq!(
        reactions(app, &room.owner_token, &messages, id).await,
        json!([])
    );

    // 30 different emoji at once: 20 make it.
    let emoji: Vec<String> = emojis::iter()
        .take(30)
        .map(|e| e.as_str().to_owned())
        .collect();
    let tries = futures_util::future::join_all(
        people.iter().zip(&emoji).map(|(t, e)| react(app, t, id, e)),
    )
    .await;
    let ok = tries.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let full: Vec<_> = tries
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .collect();
    assert_eq!((ok, full.len()), (20, 10), "{tries:?}");
    assert!(full.iter().all(|(_, b)| b["code"] == "too_many_reactions"));
    let shown = reactions(app, &room.owner_token, &messages, id).await;
    assert_eq!(shown.as_array().map(Vec::len), Some(20));
    // An emoji already there still takes more users.
    let existing = shown[0]["emoji"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        react(app, &room.owner_token, id, &existing).await.1["count"],
        2
    );
}

#[tokio::test]
async fn a_conversations_reactions_are_its_participants_and_go_with_an_account() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (_, stranger) = app.user_with_token("stranger").await;
    let (_, dm) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&room.owner_token)
            .json(&json!({"user_id": alice_id.0})),
    )
    .await;
    let dm_messages = format!("/api/dms/{}/messages/", dm["id"]);
    let id = post(app, &room.owner_token, &dm_messages, "psst").await;
    assert_eq!(react(app, &alice, id, "😀").await.0, StatusCode::OK);
    assert_eq!(
        react(app, &stranger, id, "😀").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reactions(app, &room.owner_token, &dm_messages, id).await,
        json!([{"emoji": "😀", "count": 1, "me": false}])
    );
    let (status, _) = send(
        app.http
            .delete(app.url("/api/me/"))
            .bearer_auth(&alice)
            .json(&json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        reactions(app, &room.owner_token, &dm_messages, id).await,
        json!([])
    );
}
