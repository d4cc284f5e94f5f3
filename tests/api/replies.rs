//! Replies: a message answering another of the same channel, with a preview of it (author and
//! first 100 characters) in history and live frames, "deleted" once it is gone.

use crate::gateway::{generous_room as room, WAIT};
use hearth_tests::{assert_error, send, StatusCode};
use hearth_tests::{TestApp, PASSWORD};
use serde_json::{json, Value};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    send(app.http.post(app.url(path)).bearer_auth(token).json(&body)).await
}

async fn history(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let (status, body) = send(app.http.get(app.url(path)).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

fn by_id(page: &[Value], id: &Value) -> Value {
    page.iter()
        .find(|m| &m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {page:?}"))
}

#[tokio::test]
async fn a_reply_carries_a_preview_that_follows_edits_and_deletion() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let long = "é".repeat(150);
    let (_, original) = post(app, &alice, &messages, json!({"content": long})).await;
    let mut socket = room.socket(&room.owner_token).await;

    let body = json!({"content": "answer", "reply_to": original["id"], "nonce": "r-1"});
    let (status, reply) = post(app, &room.owner_token, &messages, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["reply_to"], original["id"]);
    let preview = &reply["reply"];
    assert_eq!(preview["id"], original["id"]);
    assert_eq!(preview["sender"], "alice");
    assert_eq!(preview["sender_id"], alice_id.0);
    assert_eq!(
        preview["content"],
        "é".repeat(100),
        "the first 100 characters"
    );
    assert_eq!(preview["deleted"], false);
    // Live, in history, and on a nonce replay: the same preview.
    let live = socket.recv_type("chat.message", WAIT).await;
    assert_eq!(live["new_message"]["reply"], *preview);
    assert_eq!(live["new_message"]["reply_to"], original["id"]);
    assert_eq!(
        by_id(&history(app, &alice, &messages).await, &reply["id"])["reply"],
        *preview
    );
    let (status, again) = post(app, &room.owner_token, &messages, body).await;
    assert_eq!(
        (status, again["reply"].clone()),
        (StatusCode::OK, preview.clone())
    );
    // A message that answers nothing says nothing of it.
    assert_eq!(original.get("reply_to"), None);
    assert_eq!(original.get("reply"), None);

    let id = original["id"].as_i64().unwrap_or_default();
    let (status, _) = send(
        app.http
            .patch(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&alice)
            .json(&json!({"content": "changed my mind"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shown = by_id(&history(app, &alice, &messages).await, &reply["id"]);
    assert_eq!(shown["reply"]["content"], "changed my mind");

    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let shown = by_id(&history(app, &alice, &messages).await, &reply["id"]);
    assert_eq!(shown["reply"], json!({"id": id, "deleted": true}));
}

#[tokio::test]
async fn a_reply_outlives_its_authors_account() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let (_, original) = post(app, &alice, &messages, json!({"content": "bye"})).await;
    let body = json!({"content": "see you", "reply_to": original["id"]});
    let (_, reply) = post(app, &room.owner_token, &messages, body).await;
    let (status, _) = send(
        app.http
            .delete(app.url("/api/me/"))
            .bearer_auth(&alice)
            .json(&json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let shown = by_id(
        &history(app, &room.owner_token, &messages).await,
        &reply["id"],
    );
    assert_eq!(
        shown["reply"],
        json!({"id": original["id"], "deleted": true})
    );
}

#[tokio::test]
async fn a_reply_must_answer_a_live_message_of_its_own_channel() {
    let room = room().await;
    let app = &room.app;
    let token = &room.owner_token;
    let other = app.channel(room.server, room.owner, "other").await.id;
    let here = format!("/api/channels/{}/messages/", room.channel.0);
    let there = format!("/api/channels/{}/messages/", other.0);
    let (_, elsewhere) = post(app, token, &there, json!({"content": "over there"})).await;
    let (_, gone) = post(app, token, &here, json!({"content": "soon gone"})).await;
    let gone_id = gone["id"].as_i64().unwrap_or_default();
    send(
        app.http
            .delete(app.url(&format!("/api/messages/{gone_id}/")))
            .bearer_auth(token),
    )
    .await;
    let (alice_id, _) = room.member("alice").await;
    let (_, dm) = post(app, token, "/api/dms/", json!({"user_id": alice_id.0})).await;
    let dm_messages = format!("/api/dms/{}/messages/", dm["id"]);

    for (path, reply_to) in [
        (&here, elsewhere["id"].clone()),
        (&here, json!(gone_id)),
        (&here, json!(999_999_999)),
        (&dm_messages, elsewhere["id"].clone()),
    ] {
        let body = json!({"content": "hm", "reply_to": reply_to});
        let (status, answer) = post(app, token, path, body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{path} {reply_to}: {answer}"
        );
        assert_error(&answer, "invalid_reply");
    }
    for reply_to in [json!("7"), json!(1.5), json!([1]), json!(1e30)] {
        let body = json!({"content": "hm", "reply_to": reply_to});
        let (status, _) = post(app, token, &here, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reply_to}");
    }
    // Nothing refused was stored.
    let page = history(app, token, &here).await;
    assert!(page.is_empty(), "{page:?}");

    // On a socket: an error frame, then a good reply goes through.
    let mut socket = room.socket(token).await;
    socket
        .send_json(&json!({"type": "message", "message": "no", "reply_to": elsewhere["id"]}))
        .await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "invalid_reply");
    let (_, target) = post(app, token, &here, json!({"content": "target"})).await;
    socket
        .send_json(&json!({"type": "message", "message": "yes", "reply_to": target["id"]}))
        .await;
    let mut live = socket.recv_type("chat.message", WAIT).await;
    if live["new_message"]["content"] == "target" {
        live = socket.recv_type("chat.message", WAIT).await;
    }
    assert_eq!(live["new_message"]["content"], "yes");
    assert_eq!(live["new_message"]["reply"]["content"], "target");
}
