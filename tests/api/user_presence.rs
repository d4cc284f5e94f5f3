//! DM partners' online state on the personal socket: a user is online while any socket of
//! theirs is open, on any instance, and offline when the last one closes or their instance
//! stops reporting. Only the users they share a conversation with hear of it, never a blocked
//! or blocking one.

use crate::gateway::{redis_settings, WAIT};
use crate::personal::personal_after;
use hearth_domain::UserId;
use hearth_tests::redis_server::PrivateRedis;
use hearth_tests::ws::{connect, Auth, WsClient};
use hearth_tests::{generous_ws_rates, send, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(500);

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

/// A personal socket and the partners it was told are online.
async fn personal(app: &TestApp, token: &str) -> (WsClient, Vec<String>) {
    let (mut socket, _) = personal_after(app, token, None).await;
    let list = socket.recv_type("user.presence.list", WAIT).await;
    (socket, names(&list["online"]))
}

fn names(users: &Value) -> Vec<String> {
    let mut names: Vec<String> = users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["username"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The next `user.presence` frame, as (username, online).
async fn change(socket: &mut WsClient) -> (String, bool) {
    let frame = socket.recv_type("user.presence", WAIT).await;
    (
        frame["user"]["username"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        frame["online"].as_bool().unwrap_or_default(),
    )
}

#[tokio::test]
async fn dm_partners_hear_when_a_user_comes_online_and_goes_offline() {
    let app = TestApp::spawn_with(generous_ws_rates).await;
    let (alice_id, alice) = app.user_with_token("alice").await;
    let (bob_id, bob) = app.user_with_token("bob").await;
    let (_, carol) = app.user_with_token("carol").await;
    let (_, dave) = app.user_with_token("dave").await;
    let dm = open_dm(&app, &alice, bob_id).await;
    // Dave had a conversation with Alice, then blocked her.
    open_dm(&app, &dave, alice_id).await;
    let (status, body) = send(
        app.http
            .put(app.url(&format!("/api/me/blocks/{}/", alice_id.0)))
            .bearer_auth(&dave),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");

    let (mut hers, online) = personal(&app, &alice).await;
    assert!(online.is_empty(), "{online:?}");

    // Bob's first socket, of any kind, makes him online; a second one is no news.
    let (bobs, bob_sees) = personal(&app, &bob).await;
    assert_eq!(bob_sees, ["alice"]);
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), true));
    let mut bobs_dm = connect(
        app.port,
        &format!("/ws/dms/{dm}"),
        Auth::Bearer(bob.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    bobs_dm.recv_type("presence.list", WAIT).await;
    hers.assert_no_type("user.presence", QUIET).await;

    // Neither a stranger nor a user who blocked her is reported.
    let (_carols, _) = personal(&app, &carol).await;
    let (_daves, dave_sees) = personal(&app, &dave).await;
    assert!(dave_sees.is_empty(), "{dave_sees:?}");
    hers.assert_no_type("user.presence", QUIET).await;

    bobs.close().await;
    hers.assert_no_type("user.presence", QUIET).await;
    bobs_dm.close().await;
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), false));

    // A socket opened while a partner is online hears of them at once.
    let (_bobs, _) = personal(&app, &bob).await;
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), true));
    let (_again, online) = personal(&app, &alice).await;
    assert_eq!(online, ["bob"]);
}

#[tokio::test]
async fn a_new_conversation_brings_its_partners_presence() {
    let app = TestApp::spawn_with(generous_ws_rates).await;
    let (alice_id, alice) = app.user_with_token("alice").await;
    let (_, carol) = app.user_with_token("carol").await;
    let (mut hers, online) = personal(&app, &alice).await;
    assert!(online.is_empty(), "{online:?}");
    let (_carols, _) = personal(&app, &carol).await;
    // Carol is nobody to Alice yet.
    hers.assert_no_type("user.presence", QUIET).await;
    open_dm(&app, &carol, alice_id).await;
    hers.recv_type("conversation.added", WAIT).await;
    let list = hers.recv_type("user.presence.list", WAIT).await;
    assert_eq!(names(&list["online"]), ["carol"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_instances_and_ends_when_an_instance_stops_reporting() {
    let mut redis = PrivateRedis::start().await;
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let settings = |prefix: String| {
        let redis = redis_settings(redis.url(), prefix);
        move |s: &mut hearth_api::config::Settings| {
            redis(s);
            generous_ws_rates(s);
        }
    };
    let first = TestApp::spawn_with(settings(prefix.clone())).await;
    let second = first.spawn_sibling(settings(prefix.clone())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (alice_id, alice) = first.user_with_token("alice").await;
    let (bob_id, bob) = first.user_with_token("bob").await;
    let (ghost_id, ghost) = first.user_with_token("ghost").await;
    open_dm(&first, &alice, bob_id).await;
    open_dm(&first, &ghost, alice_id).await;

    let (mut hers, _) = personal(&first, &alice).await;
    let (mut bobs, bob_sees) = personal(&second, &bob).await;
    assert_eq!(bob_sees, ["alice"], "alice is online on the other instance");
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), true));
    // A block on one instance reaches the blocked user's socket on the other, and so does
    // its end.
    let block = format!("/api/me/blocks/{}/", bob_id.0);
    let (status, body) = send(first.http.put(first.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(change(&mut bobs).await, ("alice".to_owned(), false));
    let (status, body) = send(first.http.delete(first.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    let list = bobs.recv_type("user.presence.list", WAIT).await;
    assert_eq!(names(&list["online"]), ["alice"]);
    hers.recv_type("user.presence.list", WAIT).await;
    // A block while Redis is away (for less than the 15 s after which instances forget each
    // other) reaches the other instance once it is back.
    redis.stop();
    let (status, body) = send(first.http.put(first.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), false));
    redis.restart().await;
    let gone = bobs
        .recv_type("user.presence", Duration::from_secs(10))
        .await;
    assert_eq!(gone["user"]["username"], "alice");
    assert_eq!(gone["online"], false);
    let (status, body) = send(first.http.delete(first.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    bobs.recv_type("user.presence.list", WAIT).await;
    hers.recv_type("user.presence.list", WAIT).await;
    bobs.close().await;
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), false));

    // An instance that then crashes says the ghost came online, and is never heard from again.
    let online = json!({
        "kind": "user",
        "user": {"id": ghost_id.0, "username": "ghost"},
        "online": true
    });
    hearth_tests::redis_server::publish(
        redis.port,
        &format!("{prefix}:presence"),
        &format!("crashed|{online}"),
    )
    .await;
    assert_eq!(change(&mut hers).await, ("ghost".to_owned(), true));
    let gone = hers
        .recv_type("user.presence", Duration::from_secs(30))
        .await;
    assert_eq!(gone["user"]["username"], "ghost");
    assert_eq!(gone["online"], false);
    drop(second);
}

#[tokio::test]
async fn a_block_ends_presence_both_ways_at_once_and_an_unblock_brings_it_back() {
    let app = TestApp::spawn_with(generous_ws_rates).await;
    let (_, alice) = app.user_with_token("alice").await;
    let (bob_id, bob) = app.user_with_token("bob").await;
    open_dm(&app, &alice, bob_id).await;
    let (mut hers, _) = personal(&app, &alice).await;
    let (mut his, bob_sees) = personal(&app, &bob).await;
    assert_eq!(bob_sees, ["alice"]);
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), true));

    // Alice blocks Bob: both are shown the other offline (neither is told more), and Bob's
    // comings and goings no longer reach her.
    let block = format!("/api/me/blocks/{}/", bob_id.0);
    let (status, body) = send(app.http.put(app.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), false));
    assert_eq!(change(&mut his).await, ("alice".to_owned(), false));
    his.close().await;
    hers.assert_no_type("user.presence", QUIET).await;
    let (mut his, bob_sees) = personal(&app, &bob).await;
    assert!(bob_sees.is_empty(), "{bob_sees:?}");
    hers.assert_no_type("user.presence", QUIET).await;

    // Unblocking: each is told the other is online, on the sockets already open.
    let (status, body) = send(app.http.delete(app.url(&block)).bearer_auth(&alice)).await;
    assert!(status.is_success(), "{status} {body}");
    let list = hers.recv_type("user.presence.list", WAIT).await;
    assert_eq!(names(&list["online"]), ["bob"]);
    let list = his.recv_type("user.presence.list", WAIT).await;
    assert_eq!(names(&list["online"]), ["alice"]);
    his.close().await;
    assert_eq!(change(&mut hers).await, ("bob".to_owned(), false));
}
