//! Direct messages: opening 1:1 conversations (once per pair, whoever opens and however many at
//! once), group conversations, their messages on REST and sockets with a channel's guarantees,
//! privacy (a non-participant learns nothing, by any path), and blocks.

use crate::gateway::WAIT;
use hearth_domain::UserId;
use hearth_tests::ws::{connect, Auth, WsClient};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

struct Person {
    id: UserId,
    token: String,
}

async fn person(app: &TestApp, name: &str) -> Person {
    let (id, token) = app.user_with_token(name).await;
    Person { id, token }
}

async fn open(app: &TestApp, who: &Person, other: UserId) -> (StatusCode, Value) {
    send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&who.token)
            .json(&json!({"user_id": other.0})),
    )
    .await
}

async fn post(app: &TestApp, who: &Person, dm: i64, content: &str) -> (StatusCode, Value) {
    send(
        app.http
            .post(app.url(&format!("/api/dms/{dm}/messages/")))
            .bearer_auth(&who.token)
            .json(&json!({"content": content})),
    )
    .await
}

async fn history(app: &TestApp, who: &Person, dm: i64) -> (StatusCode, Value) {
    send(
        app.http
            .get(app.url(&format!("/api/dms/{dm}/messages/")))
            .bearer_auth(&who.token),
    )
    .await
}

async fn socket(app: &TestApp, who: &Person, path: &str) -> WsClient {
    let mut socket = connect(app.port, path, Auth::Bearer(who.token.clone()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    socket.recv_type("presence.list", WAIT).await;
    socket
}

async fn group(
    app: &TestApp,
    creator: &Person,
    others: &[&Person],
    name: &str,
) -> (StatusCode, Value) {
    let ids: Vec<i64> = others.iter().map(|p| p.id.0).collect();
    send(
        app.http
            .post(app.url("/api/dms/groups/"))
            .bearer_auth(&creator.token)
            .json(&json!({"name": name, "user_ids": ids})),
    )
    .await
}

fn id_of(body: &Value) -> i64 {
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {body}"))
}

#[tokio::test]
async fn either_user_opens_the_same_direct_conversation_once() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let (status, first) = open(&app, &alice, bob.id).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["kind"], "dm");
    assert_eq!(first["name"], Value::Null);
    assert_eq!(first["last_seq"], 0);
    assert_eq!(first["last_message"], Value::Null);
    assert_eq!(first["blocked"], false);
    let names: Vec<&str> = first["participants"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["username"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["alice", "bob"]);
    let (status, again) = open(&app, &alice, bob.id).await;
    assert_eq!(status, StatusCode::OK);
    let (status, from_bob) = open(&app, &bob, alice.id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(id_of(&again), id_of(&first));
    assert_eq!(id_of(&from_bob), id_of(&first));

    // Yourself and nobody are refused.
    let (status, body) = open(&app, &alice, alice.id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "invalid_participant");
    // An integral number is an id (JSON Schema counts 7.0 as an integer); 7.5 is not.
    let (status, _) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice.token)
            .json(&json!({"user_id": bob.id.0 as f64})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice.token)
            .json(&json!({"user_id": 7.5})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["fields"]["user_id"].is_array(), "{body}");
    let (status, _) = open(&app, &alice, UserId(987_654)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice.token)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["fields"]["user_id"].is_array(), "{body}");
    let (status, _) = send(
        app.http
            .post(app.url("/api/dms/"))
            .json(&json!({"user_id": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_opens_of_one_pair_create_one_conversation() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let opens = (0..24).map(|i| {
        let (who, other) = if i % 2 == 0 {
            (&alice, bob.id)
        } else {
            (&bob, alice.id)
        };
        open(&app, who, other)
    });
    let results = futures_util::future::join_all(opens).await;
    let created = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
    let ids: std::collections::HashSet<i64> = results.iter().map(|(_, b)| id_of(b)).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    let sql = app.sql_client().await;
    let rows = sql
        .query_one("SELECT count(*) FROM channels WHERE kind = 'dm'", &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows.get::<_, i64>(0),
        1,
        "no orphan conversation left behind"
    );
}

#[tokio::test]
async fn direct_messages_are_stored_numbered_and_listed_newest_conversation_first() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let carol = person(&app, "carol").await;
    let with_bob = id_of(&open(&app, &alice, bob.id).await.1);
    let with_carol = id_of(&open(&app, &alice, carol.id).await.1);
    for (i, text) in ["hi bob", "how are you?"].iter().enumerate() {
        let (status, message) = post(&app, &alice, with_bob, text).await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        assert_eq!(message["seq"], i64::try_from(i).unwrap_or_default() + 1);
        assert_eq!(message["channel_id"], with_bob);
    }
    let (status, reply) = post(&app, &bob, with_bob, "fine!").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["seq"], 3);

    // A nonce replays, as in channels.
    let send_with_nonce = || {
        send(
            app.http
                .post(app.url(&format!("/api/dms/{with_bob}/messages/")))
                .bearer_auth(&alice.token)
                .json(&json!({"content": "once", "nonce": "n-1"})),
        )
    };
    let (first, a) = send_with_nonce().await;
    let (second, b) = send_with_nonce().await;
    assert_eq!((first, second), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(a["id"], b["id"]);

    let (status, page) = history(&app, &bob, with_bob).await;
    assert_eq!(status, StatusCode::OK);
    let contents: Vec<&str> = page
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["content"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(contents, ["hi bob", "how are you?", "fine!", "once"]);

    // Keyset paging works as on channels.
    let second_id = page[1]["id"].as_i64().unwrap_or_default();
    let (_, older) = send(
        app.http
            .get(app.url(&format!(
                "/api/dms/{with_bob}/messages/?before={second_id}&limit=1"
            )))
            .bearer_auth(&bob.token),
    )
    .await;
    assert_eq!(older[0]["content"], "hi bob");

    // Carol's conversation was opened later but is silent: Bob's comes first.
    let (status, list) = send(app.http.get(app.url("/api/dms/")).bearer_auth(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = list
        .as_array()
        .map(|a| a.iter().map(id_of).collect())
        .unwrap_or_default();
    assert_eq!(ids, [with_bob, with_carol]);
    assert_eq!(list[0]["last_message"]["content"], "once");
    assert_eq!(list[0]["last_seq"], 4);
    let (_, for_carol) = send(app.http.get(app.url("/api/dms/")).bearer_auth(&carol.token)).await;
    assert_eq!(
        for_carol.as_array().map(Vec::len),
        Some(1),
        "only her own: {for_carol}"
    );

    // Edit and delete by the author, as in channels; the last message follows.
    let last = b["id"].as_i64().unwrap_or_default();
    let (status, _) = send(
        app.http
            .patch(app.url(&format!("/api/messages/{last}/")))
            .bearer_auth(&bob.token)
            .json(&json!({"content": "not yours"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{last}/")))
            .bearer_auth(&alice.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = send(app.http.get(app.url("/api/dms/")).bearer_auth(&bob.token)).await;
    assert_eq!(list[0]["last_message"]["content"], "fine!");
}

#[tokio::test]
async fn a_non_participant_learns_nothing_about_a_conversation() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let eve = person(&app, "eve").await;
    let dm = id_of(&open(&app, &alice, bob.id).await.1);
    let (_, message) = post(&app, &alice, dm, "secret").await;
    let message_id = message["id"].as_i64().unwrap_or_default();
    let missing = dm + 1000;

    // Every REST path answers for a leaked id exactly as for an id that does not exist.
    for id in [dm, missing] {
        let (status, body) = send(
            app.http
                .get(app.url(&format!("/api/dms/{id}/")))
                .bearer_auth(&eve.token),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        let (status, _) = history(&app, &eve, id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        let (status, _) = post(&app, &eve, id, "hello?").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        let (status, _) = send(
            app.http
                .post(app.url(&format!("/api/dms/{id}/participants/")))
                .bearer_auth(&eve.token)
                .json(&json!({"user_id": eve.id.0})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
    }
    // Nor through the channel endpoints, public or not.
    let (status, body) = send(
        app.http
            .get(app.url(&format!("/api/messages/?channel_id={dm}"))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]), "the compatibility history shows nothing");
    let (status, _) = send(
        app.http
            .get(app.url(&format!("/api/channels/{dm}/messages/")))
            .bearer_auth(&eve.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/channels/{dm}/messages/")))
            .bearer_auth(&eve.token)
            .json(&json!({"content": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (method, path) in [
        ("PATCH", "/api/channels/{dm}/"),
        ("DELETE", "/api/channels/{dm}/"),
    ] {
        let path = path.replace("{dm}", &dm.to_string());
        let request = match method {
            "PATCH" => app
                .http
                .patch(app.url(&path))
                .json(&json!({"name": "mine"})),
            _ => app.http.delete(app.url(&path)),
        };
        let (status, _) = send(request.bearer_auth(&eve.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Its messages cannot be edited or deleted, and look like messages that do not exist.
    for request in [
        app.http
            .patch(app.url(&format!("/api/messages/{message_id}/")))
            .json(&json!({"content": "x"})),
        app.http
            .delete(app.url(&format!("/api/messages/{message_id}/"))),
    ] {
        let (status, _) = send(request.bearer_auth(&eve.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Sockets: 4004 on the conversation's path and on any channel path naming it.
    for path in [format!("/ws/dms/{dm}"), format!("/ws/dms/{missing}")] {
        let mut socket = connect(app.port, &path, Auth::Bearer(eve.token.clone()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(socket.recv_close(WAIT).await, Some(4004), "{path}");
    }
    let (status, page) = history(&app, &bob, dm).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page[0]["content"], "secret", "untouched");
}

#[tokio::test]
async fn a_conversation_socket_has_a_channels_guarantees() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let dm = id_of(&open(&app, &alice, bob.id).await.1);
    let path = format!("/ws/dms/{dm}");
    let mut bobs = socket(&app, &bob, &path).await;
    let mut alices = socket(&app, &alice, &path).await;
    let joined = bobs.recv_type("presence.join", WAIT).await;
    assert_eq!(joined["user"]["username"], "alice");

    alices.send_json(&json!({"type": "typing"})).await;
    let typing = bobs.recv_type("typing", WAIT).await;
    assert_eq!(typing["channel_id"], dm);
    for i in 1..=5 {
        alices
            .send_json(&json!({"type": "message", "message": format!("m{i}")}))
            .await;
    }
    let (status, _) = post(&app, &bob, dm, "over rest").await;
    assert_eq!(status, StatusCode::CREATED);
    let mut seqs = Vec::new();
    for _ in 0..6 {
        let frame = bobs.recv_type("chat.message", WAIT).await;
        seqs.push(frame["new_message"]["seq"].as_i64().unwrap_or_default());
    }
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "in order, no gap, no duplicate");
    drop(bobs);

    // Resume: what was said while away is replayed, then live.
    alices
        .send_json(&json!({"type": "message", "message": "while you were away"}))
        .await;
    alices.recv_type("chat.message", WAIT).await;
    let mut back = connect(
        app.port,
        &format!("{path}?after=4"),
        Auth::Bearer(bob.token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut replayed = Vec::new();
    for _ in 0..3 {
        let frame = back.recv_type("chat.message", WAIT).await;
        replayed.push(frame["new_message"]["seq"].as_i64().unwrap_or_default());
    }
    assert_eq!(replayed, [5, 6, 7]);
}

#[tokio::test]
async fn groups_have_three_to_ten_participants_who_add_and_leave() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(person(&app, &format!("user{i}")).await);
    }
    let (creator, rest) = people.split_at(1);
    let creator = &creator[0];
    // Too few, too many, bad names, unknown people.
    let (status, body) = group(&app, creator, &[&rest[0]], "pair").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let ten: Vec<&Person> = rest.iter().take(10).collect();
    let (status, _) = group(&app, creator, &ten, "crowd").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "eleven with the creator");
    let (status, body) = group(&app, creator, &[&rest[0], &rest[1]], "   ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["fields"]["name"].is_array(), "{body}");
    // Yourself and repeats do not count.
    let (status, body) = send(
        app.http
            .post(app.url("/api/dms/groups/"))
            .bearer_auth(&creator.token)
            .json(&json!({"name": "me twice", "user_ids": [creator.id.0, rest[0].id.0]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "invalid_participants");
    let (status, _) = send(
        app.http
            .post(app.url("/api/dms/groups/"))
            .bearer_auth(&creator.token)
            .json(&json!({"name": "ghosts", "user_ids": [rest[0].id.0, 999_999]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, created) = group(&app, creator, &[&rest[0], &rest[1]], " plans ").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["kind"], "group");
    assert_eq!(created["name"], "plans");
    assert_eq!(created["participants"].as_array().map(Vec::len), Some(3));
    let id = id_of(&created);
    let path = format!("/ws/dms/{id}");
    let mut watcher = socket(&app, &rest[0], &path).await;

    // Anyone in it adds; the group fills up at ten.
    let add = |who: &Person, user: UserId| {
        send(
            app.http
                .post(app.url(&format!("/api/dms/{id}/participants/")))
                .bearer_auth(&who.token)
                .json(&json!({"user_id": user.0})),
        )
    };
    let (status, body) = add(&rest[1], rest[2].id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let added = watcher
        .recv_type("conversation.participant_added", WAIT)
        .await;
    assert_eq!(added["user"]["username"], "user3");
    let (status, body) = add(&rest[1], rest[2].id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "already_participant");
    // Concurrent adds past the limit: exactly enough succeed.
    let adds = rest[3..].iter().map(|p| add(creator, p.id));
    let results = futures_util::future::join_all(adds).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 6, "4 + 6 = 10: {results:?}");
    assert!(results
        .iter()
        .filter(|(s, _)| *s != StatusCode::OK)
        .all(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "group_full"));

    // Leaving closes the leaver's socket and tells the others; the leaver loses access.
    let mut leaver = socket(&app, &rest[1], &path).await;
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/dms/{id}/participants/me")))
            .bearer_auth(&rest[1].token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(leaver.recv_close(WAIT).await, Some(4004));
    let left = watcher
        .recv_type("conversation.participant_left", WAIT)
        .await;
    assert_eq!(left["user_id"], rest[1].id.0);
    let (status, _) = history(&app, &rest[1], id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The last one out deletes it.
    let (_, now) = send(
        app.http
            .get(app.url(&format!("/api/dms/{id}/")))
            .bearer_auth(&creator.token),
    )
    .await;
    let remaining: Vec<&Person> = now["participants"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| people.iter().find(|q| p["id"] == q.id.0))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(remaining.len(), 9);
    for who in &remaining {
        let (status, _) = send(
            app.http
                .delete(app.url(&format!("/api/dms/{id}/participants/me")))
                .bearer_auth(&who.token),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let sql = app.sql_client().await;
    let row = sql
        .query_one("SELECT count(*) FROM channels WHERE id = $1", &[&id])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.get::<_, i64>(0), 0, "gone with its last participant");

    // A 1:1 conversation cannot be left.
    let dm = id_of(&open(&app, &people[0], people[1].id).await.1);
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/dms/{dm}/participants/me")))
            .bearer_auth(&people[0].token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_block_stops_direct_messages_both_ways_on_both_transports() {
    let app = TestApp::spawn().await;
    let alice = person(&app, "alice").await;
    let mallory = person(&app, "mallory").await;
    let dm = id_of(&open(&app, &mallory, alice.id).await.1);
    let block = |method: reqwest::Method, user: UserId| {
        send(
            app.http
                .request(method, app.url(&format!("/api/me/blocks/{}", user.0)))
                .bearer_auth(&alice.token),
        )
    };
    for _ in 0..2 {
        let (status, _) = block(reqwest::Method::PUT, mallory.id).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");
    }
    let (status, list) = send(
        app.http
            .get(app.url("/api/me/blocks/"))
            .bearer_auth(&alice.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([{"id": mallory.id.0, "username": "mallory"}]));
    let (status, _) = block(reqwest::Method::PUT, alice.id).await;
    assert_eq!(status, StatusCode::CONFLICT, "not yourself");
    let (status, _) = block(reqwest::Method::PUT, UserId(999_999)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The blocked user cannot open a conversation, nor post in the one there is.
    let (status, body) = open(&app, &mallory, alice.id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "blocked");
    let (status, body) = post(&app, &mallory, dm, "let me in").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "blocked");
    // Nor does the blocker write to them.
    let (status, body) = post(&app, &alice, dm, "bye").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "blocked");
    // On the socket: an error frame, nothing stored.
    let mut socket = socket(&app, &mallory, &format!("/ws/dms/{dm}")).await;
    socket
        .send_json(&json!({"type": "message", "message": "sneaky", "nonce": "s1"}))
        .await;
    let error = socket.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "blocked", "{error}");
    assert_eq!(error["nonce"], "s1");
    let (_, page) = history(&app, &alice, dm).await;
    assert_eq!(page, json!([]));
    // Both see that the conversation is blocked, before trying to post.
    for who in [&alice, &mallory] {
        let (_, conversation) = send(
            app.http
                .get(app.url(&format!("/api/dms/{dm}/")))
                .bearer_auth(&who.token),
        )
        .await;
        assert_eq!(conversation["blocked"], true);
    }

    let (status, _) = block(reqwest::Method::DELETE, mallory.id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = block(reqwest::Method::DELETE, mallory.id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");
    let (status, _) = post(&app, &mallory, dm, "sorry").await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = send(app.http.get(app.url("/api/dms/")).bearer_auth(&alice.token)).await;
    assert_eq!(list[0]["blocked"], false);
    let (status, _) = open(&app, &mallory, alice.id).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn opening_conversations_is_rate_limited_per_account() {
    let app = TestApp::spawn_with(|settings| {
        settings.limits.conversations = hearth_api::limits::Rate::parse("3/60").ok().flatten();
    })
    .await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    for _ in 0..3 {
        let (status, _) = open(&app, &alice, bob.id).await;
        assert!(status.is_success());
    }
    let (status, body) = open(&app, &alice, bob.id).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_error(&body, "rate_limited");
    assert!(body["retry_after"].as_u64().is_some_and(|ms| ms > 0));
    // Someone else is not held up.
    let (status, _) = open(&app, &bob, alice.id).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pm_in_a_channel_goes_privately_to_every_socket_of_the_target() {
    let room = crate::gateway::room().await;
    let app = &room.app;
    let (alice_id, alice_token) = room.member("alice").await;
    let (bob_id, bob_token) = room.member("bob").await;
    let (_, carol_token) = room.member("carol").await;
    let bob = Person {
        id: bob_id,
        token: bob_token.clone(),
    };
    let mut alices = room.socket(&alice_token).await;
    let mut bobs = room.socket(&bob_token).await;
    let mut carols = room.socket(&carol_token).await;
    // Bob's compatibility socket without the opt-in must not receive the frame.
    let mut bobs_compat = connect(
        app.port,
        &room.compat_path(),
        Auth::Bearer(bob_token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    alices
        .send_json(&json!({"type": "message", "message": "/pm BOB   psst, bob ", "nonce": "p1"}))
        .await;
    let delivered = alices.recv_type("private_message_delivered", WAIT).await;
    assert_eq!(
        delivered,
        json!({"type": "private_message_delivered", "target": "bob", "message": "psst, bob", "nonce": "p1"})
    );
    let private = bobs.recv_type("private_message", WAIT).await;
    assert_eq!(private["user"], "alice");
    assert_eq!(private["message"], "psst, bob");
    assert_eq!(private["to"], bob_id.0);
    let conversation = private["conversation_id"].as_i64().unwrap_or_default();

    // Stored in their 1:1 conversation, not in the channel.
    let (status, page) = history(app, &bob, conversation).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page[0]["content"], "psst, bob");
    assert_eq!(page[0]["sender_id"], alice_id.0);
    assert_eq!(page[0]["nonce"], "p1");
    assert_eq!(
        room.history().await,
        Vec::<Value>::new(),
        "nothing posted to the channel"
    );
    carols
        .assert_no_type("private_message", Duration::from_millis(300))
        .await;
    carols
        .assert_no_type("chat.message", Duration::from_millis(100))
        .await;
    bobs_compat
        .assert_no_type("private_message", Duration::from_millis(100))
        .await;

    // Errors: nobody by that name, yourself, no text, a block.
    for (command, code) in [
        ("/pm nobody hello", "unknown_user"),
        ("/pm alice hello", "invalid_message"),
        ("/pm bob   ", "invalid_message"),
        ("/pm", "invalid_message"),
    ] {
        alices
            .send_json(&json!({"type": "message", "message": command}))
            .await;
        let error = alices.recv_type("error", WAIT).await;
        assert_eq!(error["code"], code, "{command}: {error}");
    }
    let (status, _) = send(
        app.http
            .put(app.url(&format!("/api/me/blocks/{}/", alice_id.0)))
            .bearer_auth(&bob_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    alices
        .send_json(&json!({"type": "message", "message": "/pm bob still there?"}))
        .await;
    let error = alices.recv_type("error", WAIT).await;
    assert_eq!(error["code"], "blocked");
    bobs.assert_no_type("private_message", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn pm_from_a_compatibility_socket_is_delivered_privately_and_tells_the_sender_nothing() {
    let room = crate::gateway::room().await;
    let app = &room.app;
    let (_, alice_token) = room.member("alice").await;
    let (bob_id, bob_token) = room.member("bob").await;
    let mut bobs = room.socket(&bob_token).await;
    let mut alices = connect(
        app.port,
        &room.compat_path(),
        Auth::Bearer(alice_token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    alices
        .send_json(&json!({"type": "message", "message": "/pm bob from the old app"}))
        .await;
    let private = bobs.recv_type("private_message", WAIT).await;
    assert_eq!(private["message"], "from the old app");
    // An ordinary message after it still reaches the channel, and is all alice's socket sees.
    alices
        .send_json(&json!({"type": "message", "message": "hello everyone"}))
        .await;
    let next = alices.recv_type("chat.message", WAIT).await;
    assert_eq!(next["new_message"]["content"], "hello everyone");
    let history = room.history().await;
    assert_eq!(history.len(), 1, "{history:?}");
    let conversation = private["conversation_id"].as_i64().unwrap_or_default();
    let bob = Person {
        id: bob_id,
        token: bob_token,
    };
    let (_, page) = crate::conversations::history(app, &bob, conversation).await;
    assert_eq!(page[0]["content"], "from the old app");
}
