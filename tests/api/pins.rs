//! Pins: who may pin, the cap of 50 under concurrency, the lists, and the live events.

use crate::gateway::{generous_room as room, post_message, WAIT};
use hearth_tests::TestApp;
use hearth_tests::{assert_error, send, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

async fn post(app: &TestApp, token: &str, path: &str, content: &str) -> i64 {
    post_message(app, token, path, content).await["id"]
        .as_i64()
        .unwrap_or_default()
}

async fn pin(app: &TestApp, token: &str, id: i64) -> (StatusCode, Value) {
    let path = format!("/api/messages/{id}/pin/");
    send(app.http.put(app.url(&path)).bearer_auth(token)).await
}

async fn unpin(app: &TestApp, token: &str, id: i64) -> (StatusCode, Value) {
    let path = format!("/api/messages/{id}/pin/");
    send(app.http.delete(app.url(&path)).bearer_auth(token)).await
}

async fn pins(app: &TestApp, token: &str, path: &str) -> Vec<i64> {
    let (status, body) = send(app.http.get(app.url(path)).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .into_iter()
        .flatten()
        .map(|m| m["id"].as_i64().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn authors_and_owners_pin_idempotently_and_sockets_hear_each_change_once() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let (_, bob) = room.member("bob").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let list = format!("/api/channels/{}/pins/", room.channel.0);
    let first = post(app, &alice, &messages, "first").await;
    let second = post(app, &alice, &messages, "second").await;
    let mut socket = room.socket(&bob).await;

    let (status, body) = pin(app, &alice, first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["pinned_at"].is_string(), "{body}");
    let frame = socket.recv_type("message.pinned", WAIT).await;
    assert_eq!(frame["message"]["id"], first);
    assert!(frame["message"]["pinned_at"].is_string());
    // Again: nothing changes, nobody is told.
    let (status, _) = pin(app, &alice, first).await;
    assert_eq!(status, StatusCode::OK);
    // The owner may pin anyone's; bob, a member, may not.
    let (status, _) = pin(app, &room.owner_token, second).await;
    assert_eq!(status, StatusCode::OK);
    let frame = socket.recv_type("message.pinned", WAIT).await;
    assert_eq!(
        frame["message"]["id"], second,
        "the repeated pin said nothing"
    );
    let (status, body) = pin(app, &bob, first).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    let (status, _) = unpin(app, &bob, first).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The latest pin first; anyone may read the list, as the history.
    assert_eq!(pins(app, &bob, &list).await, vec![second, first]);

    let (status, body) = unpin(app, &room.owner_token, first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.get("pinned_at"), None, "{body}");
    let frame = socket.recv_type("message.unpinned", WAIT).await;
    assert_eq!(
        (frame["id"].clone(), frame["channel_id"].clone()),
        (json!(first), json!(room.channel.0))
    );
    let (status, _) = unpin(app, &room.owner_token, first).await;
    assert_eq!(status, StatusCode::OK);
    socket
        .assert_no_type("message.unpinned", Duration::from_millis(300))
        .await;
    assert_eq!(pins(app, &bob, &list).await, vec![second]);

    // A deleted message is no pin; unknown ones are 404.
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{second}/")))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(pins(app, &bob, &list).await.is_empty());
    assert_eq!(pin(app, &alice, second).await.0, StatusCode::NOT_FOUND);
    assert_eq!(pin(app, &alice, 999_999).await.0, StatusCode::NOT_FOUND);
    let (status, _) = send(
        app.http
            .get(app.url("/api/channels/999999/pins/"))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fifty_pins_at_most_even_when_sixty_arrive_at_once() {
    let room = room().await;
    let app = &room.app;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(post(app, &room.owner_token, &messages, &format!("m{i}")).await);
    }
    let answers =
        futures_util::future::join_all(ids.iter().map(|id| pin(app, &room.owner_token, *id))).await;
    let pinned = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!((pinned, refused.len()), (50, 10), "{answers:?}");
    assert!(refused.iter().all(|b| b["code"] == "too_many_pins"));
    let list = format!("/api/channels/{}/pins/", room.channel.0);
    assert_eq!(pins(app, &room.owner_token, &list).await.len(), 50);

    // Unpinning one makes room for one.
    let (pinned_ids, left): (Vec<_>, Vec<_>) = ids
        .iter()
        .zip(&answers)
        .partition(|(_, (s, _))| *s == StatusCode::OK);
    unpin(app, &room.owner_token, *pinned_ids[0].0).await;
    assert_eq!(
        pin(app, &room.owner_token, *left[0].0).await.0,
        StatusCode::OK
    );
    assert_eq!(
        pin(app, &room.owner_token, *left[1].0).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn in_a_conversation_participants_pin_and_nobody_else_sees_them() {
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
    let dm = dm["id"].as_i64().unwrap_or_default();
    let message = post(
        app,
        &room.owner_token,
        &format!("/api/dms/{dm}/messages/"),
        "psst",
    )
    .await;
    // Not her message, but she takes part.
    assert_eq!(pin(app, &alice, message).await.0, StatusCode::OK);
    let list = format!("/api/dms/{dm}/pins/");
    assert_eq!(pins(app, &room.owner_token, &list).await, vec![message]);
    assert_eq!(pin(app, &stranger, message).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        unpin(app, &stranger, message).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = send(app.http.get(app.url(&list)).bearer_auth(&stranger)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let wrong = format!("/api/dms/{}/pins/", room.channel.0);
    let (status, _) = send(app.http.get(app.url(&wrong)).bearer_auth(&alice)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
