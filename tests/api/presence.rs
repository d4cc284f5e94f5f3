//! Presence as channels grow: a small channel tells every arrival, a large one (past
//! `presence_limit`) its count and a first page, with the whole list on request; both stay
//! right about who is online.

use crate::gateway::{room_with, Room, WAIT};
use crate::personal::{frames_within, personal_after};
use hearth_tests::ws::{connect, Auth, WsClient};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// Large past four online users, small again at two.
const LIMIT: usize = 4;

async fn large_room() -> Room {
    room_with(TestApp::spawn_with(|s| s.presence_limit = LIMIT).await).await
}

/// A socket on the room's channel, and the `presence.list` it got first.
async fn open(room: &Room, token: &str) -> (WsClient, Value) {
    let mut socket = connect(room.app.port, &room.path(), Auth::Bearer(token.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let list = socket.recv_type("presence.list", WAIT).await;
    (socket, list)
}

fn ids(users: &Value) -> Vec<i64> {
    users
        .as_array()
        .map(|users| users.iter().filter_map(|u| u["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Every page of the channel's online list, `limit` at a time: the ids in order, and the
/// count each page gave.
async fn online_list(room: &Room, token: &str, limit: usize) -> (Vec<i64>, Vec<u64>) {
    let mut all = Vec::new();
    let mut counts = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let mut path = format!("/api/channels/{}/online/?limit={limit}", room.channel.0);
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let (status, page) = send(room.app.http.get(room.app.url(&path)).bearer_auth(token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        counts.push(page["count"].as_u64().unwrap_or_default());
        let users = ids(&page["users"]);
        assert!(users.len() <= limit, "{page}");
        all.extend(&users);
        if users.len() < limit {
            return (all, counts);
        }
        after = users.last().copied();
    }
}

#[tokio::test]
async fn a_large_channel_tells_counts_and_a_first_page_and_lists_everyone_on_request() {
    let room = large_room().await;
    let (mut first, list) = open(&room, &room.owner_token).await;
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["complete"], true, "{list}");

    let mut members = vec![(room.owner, room.owner_token.clone())];
    let mut sockets = Vec::new();
    for i in 1..8 {
        let (id, token) = room.member(&format!("user{i}")).await;
        let (socket, list) = open(&room, &token).await;
        let online = i + 1;
        assert_eq!(list["count"], online, "{list}");
        let page = ids(&list["users"]);
        // Never more than a page, always the socket's own user first.
        assert!(page.len() <= LIMIT, "{list}");
        assert_eq!(page.first(), Some(&id.0), "{list}");
        assert_eq!(list["complete"], online <= LIMIT, "{list}");
        members.push((id, token));
        sockets.push(socket);
    }

    // The first socket heard the arrivals one by one while the channel was small, then a
    // count when it grew past the limit, and no arrival after that.
    let frames = frames_within(&mut first, Duration::from_millis(4500)).await;
    let joins: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "presence.join")
        .collect();
    assert_eq!(joins.len(), LIMIT - 1, "{frames:?}");
    let counts: Vec<u64> = frames
        .iter()
        .filter(|f| f["type"] == "presence.count")
        .map(|f| {
            assert_eq!(f["channel_id"], room.channel.0, "{f}");
            f["count"].as_u64().unwrap_or_default()
        })
        .collect();
    assert_eq!(counts.first(), Some(&(LIMIT as u64 + 1)), "{frames:?}");
    // Within a tick or two, the count the channel has now; each figure told once.
    assert_eq!(counts.last(), Some(&8), "{frames:?}");
    assert!(counts.windows(2).all(|w| w[0] != w[1]), "{counts:?}");

    // The whole list, page by page, without a gap or a repeat, in id order.
    let everyone: Vec<i64> = {
        let mut ids: Vec<i64> = members.iter().map(|(id, _)| id.0).collect();
        ids.sort_unstable();
        ids
    };
    for limit in [1, 3, 100] {
        let (listed, counts) = online_list(&room, &room.owner_token, limit).await;
        assert_eq!(listed, everyone, "pages of {limit}");
        assert!(counts.iter().all(|c| *c == 8), "{counts:?}");
    }

    // A personal socket's subscription says the same.
    let (_, owner_token) = &members[0];
    let (mut me, _) = personal_after(&room.app, owner_token, None).await;
    me.send_json(&json!({"type": "subscribe", "channels": [{"id": room.channel.0}]}))
        .await;
    let subscribed = me.recv_type("subscribed", WAIT).await;
    assert_eq!(subscribed["online_count"], 8, "{subscribed}");
    assert_eq!(subscribed["online_complete"], false, "{subscribed}");
    assert!(ids(&subscribed["online"]).len() <= LIMIT, "{subscribed}");

    // Six leave: back to half the limit, the whole list to everyone left.
    let leaving: Vec<WsClient> = sockets.drain(..6).collect();
    for socket in leaving {
        socket.close().await;
    }
    let list = first
        .recv_type("presence.list", Duration::from_secs(8))
        .await;
    assert_eq!(list["complete"], true, "{list}");
    assert_eq!(list["count"], 2, "{list}");
    let left: BTreeSet<i64> = ids(&list["users"]).into_iter().collect();
    let expected: BTreeSet<i64> = [members[0].0 .0, members[7].0 .0].into();
    assert_eq!(left, expected, "{list}");
    let again = me.recv_type("presence.list", WAIT).await;
    assert_eq!(again["channel_id"], room.channel.0, "{again}");

    // Small again: an arrival is told as such.
    let (_, token) = room.member("latecomer").await;
    let (_latecomer, _) = open(&room, &token).await;
    assert_eq!(
        first.recv_type("presence.join", WAIT).await["user"]["username"],
        "latecomer"
    );
}

#[tokio::test]
async fn the_online_list_is_for_who_may_read_the_channel_and_has_its_limits() {
    let app = TestApp::spawn_with(|s| {
        s.limits.online_lists = hearth_api::limits::Rate::parse("3/60").ok().flatten();
    })
    .await;
    let room = room_with(app).await;
    let (_socket, _) = open(&room, &room.owner_token).await;
    let path = |query: &str| {
        room.app
            .url(&format!("/api/channels/{}/online/{query}", room.channel.0))
    };

    let (status, body) = send(room.app.http.get(path(""))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, token) = room.app.user_with_token("stranger").await;
    let (status, body) = send(room.app.http.get(path("?limit=0")).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Anyone may see a server channel's (as anyone may open its socket).
    let (status, body) = send(room.app.http.get(path("")).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1, "{body}");
    assert_eq!(ids(&body["users"]), vec![room.owner.0], "{body}");

    // A conversation of others does not exist for them.
    let (status, dm) = send(
        room.app
            .http
            .post(room.app.url("/api/dms/"))
            .bearer_auth(&room.owner_token)
            .json(&json!({"user_id": room.app.register("friend").await.0})),
    )
    .await;
    assert!(status.is_success(), "{dm}");
    let dm_path = room.app.url(&format!("/api/channels/{}/online/", dm["id"]));
    let (status, body) = send(room.app.http.get(&dm_path).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = send(room.app.http.get(&dm_path).bearer_auth(&room.owner_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let missing = room.app.url("/api/channels/999999/online/");
    let (status, body) = send(room.app.http.get(&missing).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Past the limit (three per minute): 429 with its code.
    let (status, body) = send(room.app.http.get(path("")).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "rate_limited");
}
