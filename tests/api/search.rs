//! Message search: words found inside words in any language, letter case ignored; only what
//! the searcher may read (never others' conversations, servers left or never joined, deleted
//! messages); edits found at once; keyset pages that neither skip nor repeat; the filters; and
//! bad queries refused with a 400.

use crate::gateway::{generous_room as room, post_message};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;

async fn post(app: &TestApp, token: &str, path: &str, content: &str) -> i64 {
    post_message(app, token, path, content).await["id"]
        .as_i64()
        .unwrap_or_default()
}

async fn search_raw(app: &TestApp, token: &str, query: &[(&str, String)]) -> (StatusCode, Value) {
    send(
        app.http
            .get(app.url("/api/search/messages/"))
            .query(query)
            .bearer_auth(token),
    )
    .await
}

/// The ids found for `q` (and the extra parameters), newest first.
async fn found(app: &TestApp, token: &str, q: &str, extra: &[(&str, String)]) -> Vec<i64> {
    let mut query = vec![("q", q.to_owned())];
    query.extend_from_slice(extra);
    let (status, body) = search_raw(app, token, &query).await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    ids(&body)
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|hit| hit["message"]["id"].as_i64().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn words_are_found_inside_words_in_korean_russian_and_english_with_channel_and_excerpt() {
    let room = room().await;
    let app = &room.app;
    let (_, alice) = room.member("alice").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let korean = post(app, &alice, &messages, "안녕하세요 여러분, 오늘 배포합니다").await;
    let russian = post(app, &alice, &messages, "Привет, мир! Релиз в пятницу").await;
    let english = post(
        app,
        &alice,
        &messages,
        "We deploy on Friday, after the standup",
    )
    .await;
    let other = post(app, &alice, &messages, "nothing to see here").await;

    // No spaces needed: a part of a word is found (Korean is written without them often).
    assert_eq!(found(app, &alice, "하세요", &[]).await, vec![korean]);
    assert_eq!(found(app, &alice, "배포", &[]).await, vec![korean]);
    // Letter case ignored, Cyrillic included.
    assert_eq!(found(app, &alice, "ПРИВЕТ", &[]).await, vec![russian]);
    assert_eq!(found(app, &alice, "пятниц", &[]).await, vec![russian]);
    assert_eq!(found(app, &alice, "FRIDAY", &[]).await, vec![english]);
    // Every word must be there, in any order; a quoted phrase as written.
    assert_eq!(
        found(app, &alice, "standup deploy", &[]).await,
        vec![english]
    );
    assert!(found(app, &alice, "deploy monday", &[]).await.is_empty());
    assert_eq!(
        found(app, &alice, "\"on friday\"", &[]).await,
        vec![english]
    );
    assert!(found(app, &alice, "\"friday on\"", &[]).await.is_empty());
    // A word in several messages: newest first.
    let again = post(app, &alice, &messages, "see you friday").await;
    assert_eq!(
        found(app, &alice, "friday", &[]).await,
        vec![again, english]
    );
    assert_eq!(found(app, &alice, "see", &[]).await, vec![again, other]);

    let (status, page) = search_raw(app, &alice, &[("q", "standup".into())]).await;
    assert_eq!(status, StatusCode::OK);
    let hit = &page["results"][0];
    assert_eq!(
        hit["message"]["content"],
        "We deploy on Friday, after the standup"
    );
    assert_eq!(hit["message"]["sender"], "alice");
    assert_eq!(
        hit["channel"],
        json!({"id": room.channel.0, "name": "general", "server_id": room.server.0})
    );
    assert_eq!(
        hit["excerpt"],
        json!([
            {"text": "We deploy on Friday, after the ", "hit": false},
            {"text": "standup", "hit": true},
        ])
    );
    assert_eq!(page["next_before"], Value::Null, "one hit, one page");
}

#[tokio::test]
async fn like_wildcards_are_plain_characters() {
    let room = room().await;
    let app = &room.app;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let token = room.owner_token.clone();
    let percent = post(app, &token, &messages, "we are 100% done").await;
    let underscore = post(app, &token, &messages, "call snake_case names").await;
    let backslash = post(app, &token, &messages, r"the path C:\temp").await;
    post(app, &token, &messages, "1000 things, snakeXcase").await;

    assert_eq!(found(app, &token, "%", &[]).await, vec![percent]);
    assert_eq!(found(app, &token, "100%", &[]).await, vec![percent]);
    assert_eq!(found(app, &token, "e_c", &[]).await, vec![underscore]);
    assert_eq!(found(app, &token, r"\t", &[]).await, vec![backslash]);
}

#[tokio::test]
async fn nothing_the_searcher_may_not_read_is_ever_found() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let (bob_id, bob) = room.member("bob").await;
    let (_, carol) = app.user_with_token("carol").await;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);

    // A server alice never joined.
    let elsewhere = app
        .server(room.owner, app.category("other").await, "Elsewhere")
        .await;
    let hidden = app.channel(elsewhere, room.owner, "hidden").await.id;
    post(
        app,
        &room.owner_token,
        &format!("/api/channels/{}/messages/", hidden.0),
        "secret plan, elsewhere",
    )
    .await;
    // A conversation of bob and the owner, and one of alice and bob.
    let dm = |with: i64, token: String| async move {
        let (status, body) = send(
            app.http
                .post(app.url("/api/dms/"))
                .bearer_auth(&token)
                .json(&json!({"user_id": with})),
        )
        .await;
        assert!(status.is_success(), "{body}");
        format!("/api/dms/{}/messages/", body["id"])
    };
    let theirs = dm(bob_id.0, room.owner_token.clone()).await;
    post(app, &room.owner_token, &theirs, "secret plan, between them").await;
    let ours = dm(alice_id.0, bob.clone()).await;
    let in_ours = post(app, &bob, &ours, "secret plan, for alice").await;
    let public = post(app, &bob, &messages, "secret plan, for everyone").await;
    let gone = post(app, &bob, &messages, "secret plan, soon deleted").await;

    assert_eq!(
        found(app, &alice, "secret plan", &[]).await,
        vec![gone, public, in_ours]
    );
    let (status, _) = send(
        app.http
            .delete(app.url(&format!("/api/messages/{gone}/")))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        found(app, &alice, "secret plan", &[]).await,
        vec![public, in_ours],
        "a deleted message is not found, at once"
    );
    // Asking for a server or channel that is not theirs finds nothing (not an error that
    // would tell what exists).
    for filter in [
        ("server_id", elsewhere.0.to_string()),
        ("channel_id", hidden.0.to_string()),
    ] {
        assert!(found(app, &alice, "secret", &[filter]).await.is_empty());
    }
    // Carol is in nothing: she finds nothing.
    assert!(found(app, &carol, "secret", &[]).await.is_empty());

    // Alice leaves the server: its channels are no longer hers to search; her DM stays.
    let (status, _) = send(
        app.http
            .delete(app.url(&format!(
                "/api/membership/{}/membership/remove_member/",
                room.server.0
            )))
            .bearer_auth(&alice),
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(found(app, &alice, "secret plan", &[]).await, vec![in_ours]);
    // The owner is in the server and in a DM with bob, not in alice's.
    let owners = found(app, &room.owner_token, "secret plan", &[]).await;
    assert!(!owners.contains(&in_ours), "{owners:?}");
    assert_eq!(
        owners.len(),
        3,
        "elsewhere, theirs and the public one: {owners:?}"
    );
}

#[tokio::test]
async fn an_edit_is_found_by_its_new_words_at_once() {
    let room = room().await;
    let app = &room.app;
    let messages = format!("/api/channels/{}/messages/", room.channel.0);
    let token = room.owner_token.clone();
    let id = post(app, &token, &messages, "meeting at noon").await;
    assert_eq!(found(app, &token, "noon", &[]).await, vec![id]);
    let (status, body) = send(
        app.http
            .patch(app.url(&format!("/api/messages/{id}/")))
            .bearer_auth(&token)
            .json(&json!({"content": "meeting at three"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(found(app, &token, "noon", &[]).await.is_empty());
    assert_eq!(found(app, &token, "three", &[]).await, vec![id]);
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_and_the_filters_narrow() {
    let room = room().await;
    let app = &room.app;
    let (alice_id, alice) = room.member("alice").await;
    let general = format!("/api/channels/{}/messages/", room.channel.0);
    let second = app.channel(room.server, room.owner, "second").await.id;
    let other = format!("/api/channels/{}/messages/", second.0);
    let mut all = Vec::new();
    let mut by_alice = Vec::new();
    let mut in_second = Vec::new();
    for i in 0..11 {
        let (token, path) = match i % 3 {
            0 => (&alice, &general),
            1 => (&room.owner_token, &general),
            _ => (&room.owner_token, &other),
        };
        let id = post(app, token, path, &format!("report number {i}")).await;
        all.push(id);
        if i % 3 == 0 {
            by_alice.push(id);
        }
        if i % 3 == 2 {
            in_second.push(id);
        }
        post(app, token, path, "unrelated chatter").await;
    }
    all.reverse();
    by_alice.reverse();
    in_second.reverse();

    // Pages of 4 while new hits arrive meanwhile: each page continues below the last.
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("q", "report".to_owned()), ("limit", "4".to_owned())];
        if let Some(before) = before {
            query.push(("before", before.to_string()));
        }
        let (status, page) = search_raw(app, &alice, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids(&page));
        pages += 1;
        post(app, &alice, &general, "a newer report").await;
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
        assert!(pages < 10, "the pages do not end");
    }
    assert_eq!(seen, all, "every hit once, newest first");
    assert_eq!(pages, 3);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len());

    let q = "report number";
    let alice_filter = ("author_id", alice_id.0.to_string());
    assert_eq!(
        found(app, &alice, q, std::slice::from_ref(&alice_filter)).await,
        by_alice
    );
    let channel = ("channel_id", second.0.to_string());
    assert_eq!(
        found(app, &alice, q, std::slice::from_ref(&channel)).await,
        in_second
    );
    assert!(found(app, &alice, q, &[channel, alice_filter])
        .await
        .is_empty());
    let server = ("server_id", room.server.0.to_string());
    assert_eq!(found(app, &alice, q, &[server]).await, all);
    // `after`: only newer than; with `before`, a window.
    let (newest, oldest) = (all[0], all[all.len() - 1]);
    let window = [
        ("after", oldest.to_string()),
        ("before", newest.to_string()),
    ];
    assert_eq!(
        found(app, &alice, q, &window).await,
        all[1..all.len() - 1].to_vec()
    );
}

#[tokio::test]
async fn bad_queries_are_a_400_that_says_why() {
    let room = room().await;
    let app = &room.app;
    let token = room.owner_token.clone();
    let refused = |q: String| (vec![("q", q)], "invalid_query");
    let long = "a".repeat(201);
    let cases = [
        refused(String::new()),
        refused("   ".into()),
        refused("\"\"".into()),
        refused(long),
        refused("a b c d e f g h i".into()),
        refused("bell\u{7}".into()),
        refused("escape\u{1b}[31m".into()),
        refused("nul\u{0}".into()),
        (vec![("q", "x".into()), ("limit", "0".into())], "invalid"),
        (vec![("q", "x".into()), ("limit", "51".into())], "invalid"),
        (vec![("q", "x".into()), ("limit", "many".into())], "invalid"),
        (vec![("q", "x".into()), ("before", "-".into())], "invalid"),
    ];
    for (query, code) in cases {
        let (status, body) = search_raw(app, &token, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        if code == "invalid_query" {
            assert_error(&body, code);
        } else {
            assert!(body["error"].is_string(), "{query:?}: {body}");
        }
    }
    // No q at all.
    let (status, _) = send(
        app.http
            .get(app.url("/api/search/messages/"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // 200 characters, 8 terms: the most allowed.
    let most = format!("{} b c d e f g h", "a".repeat(186));
    assert_eq!(most.chars().count(), 200);
    assert!(found(app, &token, &most, &[]).await.is_empty());
    // Not signed in.
    let (status, _) = send(app.http.get(app.url("/api/search/messages/?q=x"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn searches_have_a_rate_limit_per_account() {
    let app = TestApp::spawn_with(|s| {
        s.limits.searches = hearth_api::limits::Rate::parse("2/60").ok().flatten();
    })
    .await;
    let (_, token) = app.user_with_token("searcher").await;
    let (_, other) = app.user_with_token("other").await;
    for _ in 0..2 {
        assert_eq!(found(&app, &token, "x", &[]).await, Vec::<i64>::new());
    }
    let (status, body) = search_raw(&app, &token, &[("q", "x".into())]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // A bad query costs nothing, and another account has its own allowance.
    let (status, _) = search_raw(&app, &token, &[("q", String::new())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(found(&app, &other, "x", &[]).await.is_empty());
}
