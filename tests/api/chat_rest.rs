//! The native message endpoints: posting (with nonces), paging through history, editing and
//! deleting, and who may do each.

use hearth_domain::model::Channel;
use hearth_domain::{ChannelId, ServerId, UserId};
use hearth_tests::{assert_error, both_slashes, generous_ws_rates, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::collections::HashSet;

/// A server owned by "owner" with a channel, a member who joined through the API and a
/// stranger who did not; each with a bearer token.
struct Chat {
    app: TestApp,
    server: ServerId,
    channel: Channel,
    owner_id: UserId,
    owner: String,
    member: String,
    member_id: UserId,
    stranger: String,
}

async fn setup() -> Chat {
    setup_on(TestApp::spawn().await).await
}

/// For tests that post more messages at once than a user's rate limit lets through (tested in
/// `rest_posts_share_the_sockets_rate_limit`).
async fn setup_for_bursts() -> Chat {
    setup_on(TestApp::spawn_with(generous_ws_rates).await).await
}

async fn setup_on(app: TestApp) -> Chat {
    let (owner_id, owner) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner_id, category, "Place").await;
    let channel = app.channel(server, owner_id, "general").await;
    let (member_id, member) = app.user_with_token("member").await;
    let (status, body) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", server.0)))
            .bearer_auth(&member),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, stranger) = app.user_with_token("stranger").await;
    Chat {
        app,
        server,
        channel,
        owner_id,
        owner,
        member,
        member_id,
        stranger,
    }
}

fn messages_path(channel: ChannelId) -> String {
    format!("/api/channels/{}/messages/", channel.0)
}

fn message_path(id: i64) -> String {
    format!("/api/messages/{id}/")
}

fn id_of(message: &Value) -> i64 {
    message["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {message}"))
}

impl Chat {
    async fn post(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.post_to(self.channel.id, token, body).await
    }

    async fn post_to(&self, channel: ChannelId, token: &str, body: Value) -> (StatusCode, Value) {
        send(
            self.app
                .http
                .post(self.app.url(&messages_path(channel)))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// Posts `content` and asserts it was stored.
    async fn posted(&self, token: &str, content: &str) -> Value {
        let (status, body) = self.post(token, json!({ "content": content })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The native history with `query` (e.g. `?limit=3`).
    async fn history(&self, query: &str) -> Vec<Value> {
        let path = format!("{}{query}", messages_path(self.channel.id));
        let (status, body) = send(
            self.app
                .http
                .get(self.app.url(&path))
                .bearer_auth(&self.stranger),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("not a list: {body}"))
    }

    async fn history_ids(&self, query: &str) -> Vec<i64> {
        self.history(query).await.iter().map(id_of).collect()
    }

    /// The compatibility history (the newest 50).
    async fn compat_history(&self) -> Vec<Value> {
        let path = format!("/api/messages/?channel_id={}", self.channel.id.0);
        let (status, body) = send(self.app.http.get(self.app.url(&path))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().cloned().unwrap_or_default()
    }

    async fn last_seq(&self) -> Option<i64> {
        hearth_db::messages::last_seq(&self.app.db, self.channel.id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn edit(&self, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
        send(
            self.app
                .http
                .patch(self.app.url(&message_path(id)))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    async fn delete(&self, token: &str, id: i64) -> StatusCode {
        send(
            self.app
                .http
                .delete(self.app.url(&message_path(id)))
                .bearer_auth(token),
        )
        .await
        .0
    }
}

#[tokio::test]
async fn posting_as_a_member_returns_201_and_the_message_appears_in_both_histories_numbered_from_1()
{
    let chat = setup().await;
    let mut posted = Vec::new();
    for (i, path) in both_slashes(&messages_path(chat.channel.id))
        .iter()
        .enumerate()
    {
        let (status, body) = send(
            chat.app
                .http
                .post(chat.app.url(path))
                .bearer_auth(&chat.member)
                .json(&json!({ "content": format!("  hello {i}  ") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        posted.push(body);
    }
    posted.push(chat.posted(&chat.owner, "from the owner").await);

    let first = &posted[0];
    assert_eq!(first["content"], "hello 0", "content is trimmed");
    assert_eq!(first["sender"], "member");
    assert_eq!(first["sender_id"], chat.member_id.0);
    assert_eq!(first["channel_id"], chat.channel.id.0);
    let mut keys: Vec<&String> = first
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "channel_id",
            "content",
            "id",
            "sender",
            "sender_id",
            "seq",
            "timestamp"
        ],
        "no nonce or edited_at when there is none"
    );
    let timestamp = first["timestamp"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(timestamp).is_ok() && timestamp.ends_with('Z'),
        "RFC 3339 in UTC: {timestamp}"
    );
    let seqs: Vec<i64> = posted.iter().filter_map(|m| m["seq"].as_i64()).collect();
    assert_eq!(seqs, [1, 2, 3]);

    let history = chat.history("").await;
    assert_eq!(
        history, posted,
        "the native history shows what was posted, oldest first"
    );
    let compat: Vec<(i64, Value)> = chat
        .compat_history()
        .await
        .iter()
        .map(|m| (id_of(m), m["content"].clone()))
        .collect();
    let expected: Vec<(i64, Value)> = posted
        .iter()
        .map(|m| (id_of(m), m["content"].clone()))
        .collect();
    assert_eq!(compat, expected);
    assert_eq!(chat.last_seq().await, Some(3));
}

#[tokio::test]
async fn posting_as_a_non_member_returns_403_not_member() {
    let chat = setup().await;
    let (status, body) = chat.post(&chat.stranger, json!({"content": "hi"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "not_member");
    assert!(chat.history("").await.is_empty());
}

#[tokio::test]
async fn posting_to_an_unknown_or_malformed_channel_returns_404() {
    let chat = setup().await;
    let (status, body) = chat
        .post_to(ChannelId(987_654), &chat.member, json!({"content": "hi"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "not_found");
    for id in ["abc", "99999999999999999999"] {
        let (status, body) = send(
            chat.app
                .http
                .post(chat.app.url(&format!("/api/channels/{id}/messages/")))
                .bearer_auth(&chat.member)
                .json(&json!({"content": "hi"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
    }
}

#[tokio::test]
async fn empty_blank_or_too_long_content_returns_400_invalid_message() {
    let chat = setup().await;
    for content in [String::new(), "   \n\t ".to_owned(), "x".repeat(2001)] {
        let (status, body) = chat.post(&chat.member, json!({ "content": content })).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{} chars: {body}",
            content.len()
        );
        assert_error(&body, "invalid_message");
    }
    for body in [json!({}), json!({"content": 5}), json!({"content": null})] {
        let (status, answer) = chat.post(&chat.member, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    assert!(chat.history("").await.is_empty(), "nothing was stored");
    assert_eq!(chat.last_seq().await, Some(0));

    let longest = format!("  {}  ", "é".repeat(2000));
    let stored = chat.posted(&chat.member, &longest).await;
    assert_eq!(stored["content"], "é".repeat(2000));
    assert_eq!(stored["seq"], 1);
}

#[tokio::test]
async fn an_invalid_nonce_returns_400() {
    let chat = setup().await;
    for nonce in ["x".repeat(65), String::new()] {
        let (status, body) = chat
            .post(&chat.member, json!({"content": "hi", "nonce": nonce}))
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{} chars: {body}",
            nonce.len()
        );
        assert!(body["fields"]["nonce"].is_array(), "{body}");
    }
    let (status, body) = chat
        .post(
            &chat.member,
            json!({"content": "hi", "nonce": "bad\u{7}nonce"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_message");
    assert!(chat.history("").await.is_empty());

    let nonce = "n".repeat(64);
    let (status, body) = chat
        .post(&chat.member, json!({"content": "hi", "nonce": nonce}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["nonce"], nonce.as_str());
}

#[tokio::test]
async fn posting_the_same_nonce_twice_returns_200_with_the_same_message_stored_once() {
    let chat = setup().await;
    let (status, first) = chat
        .post(&chat.member, json!({"content": "once", "nonce": "abc-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["nonce"], "abc-1");
    let (status, again) = chat
        .post(
            &chat.member,
            json!({"content": "once, retried", "nonce": "abc-1"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay is not a creation: {again}"
    );
    assert_eq!(again, first, "the message stored the first time");
    assert_eq!(chat.history_ids("").await, [id_of(&first)]);
    assert_eq!(chat.last_seq().await, Some(1), "the replay used no number");

    // Nonces belong to their sender; and another nonce is another message.
    let (status, owners) = chat
        .post(&chat.owner, json!({"content": "mine", "nonce": "abc-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{owners}");
    let (status, other) = chat
        .post(&chat.member, json!({"content": "once", "nonce": "abc-2"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let seqs: Vec<i64> = chat
        .history("")
        .await
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[tokio::test]
async fn reusing_a_nonce_in_another_channel_returns_409_and_stores_nothing() {
    let chat = setup().await;
    let other = chat.app.channel(chat.server, chat.owner_id, "other").await;
    let (status, _) = chat
        .post(&chat.member, json!({"content": "here", "nonce": "k"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = chat
        .post_to(
            other.id,
            &chat.member,
            json!({"content": "there", "nonce": "k"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "nonce_in_use");
    let (status, body) = send(
        chat.app
            .http
            .get(chat.app.url(&messages_path(other.id)))
            .bearer_auth(&chat.member),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn the_nonce_of_a_deleted_message_stores_a_new_one() {
    let chat = setup().await;
    let (_, first) = chat
        .post(&chat.member, json!({"content": "oops", "nonce": "k"}))
        .await;
    assert_eq!(
        chat.delete(&chat.member, id_of(&first)).await,
        StatusCode::NO_CONTENT
    );
    let (status, again) = chat
        .post(&chat.member, json!({"content": "oops", "nonce": "k"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(id_of(&again), id_of(&first));
    assert_eq!(chat.history_ids("").await, [id_of(&again)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_posts_with_one_nonce_store_exactly_one_message() {
    let chat = setup_for_bursts().await;
    let url = chat.app.url(&messages_path(chat.channel.id));
    let requests = (0..50).map(|i| {
        let request = chat
            .app
            .http
            .post(&url)
            .bearer_auth(&chat.member)
            .json(&json!({"content": format!("attempt {i}"), "nonce": "the-one"}));
        async move { send(request).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    let replayed = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    let summary: Vec<(StatusCode, Value)> = answers
        .iter()
        .map(|(status, body)| (*status, body["id"].clone()))
        .collect();
    assert_eq!((created, replayed), (1, 49), "{summary:?}");
    let ids: HashSet<i64> = answers.iter().map(|(_, body)| id_of(body)).collect();
    assert_eq!(
        ids.len(),
        1,
        "every answer carries the same message: {ids:?}"
    );
    let history = chat.history("").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["seq"], 1);
    assert_eq!(chat.last_seq().await, Some(1), "no number was used up");
    assert_eq!(chat.posted(&chat.member, "next").await["seq"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_posts_get_sequence_numbers_1_to_50_without_gap_or_duplicate() {
    let chat = setup_for_bursts().await;
    let url = chat.app.url(&messages_path(chat.channel.id));
    let requests = (0..50).map(|i| {
        let token = if i % 2 == 0 {
            &chat.member
        } else {
            &chat.owner
        };
        let request = chat
            .app
            .http
            .post(&url)
            .bearer_auth(token)
            .json(&json!({ "content": format!("message {i}") }));
        async move { send(request).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut seqs: Vec<i64> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("no seq in {body}"))
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());

    let history = chat.history("?limit=100").await;
    let history_seqs: Vec<i64> = history.iter().filter_map(|m| m["seq"].as_i64()).collect();
    assert_eq!(
        history_seqs,
        (1..=50).collect::<Vec<_>>(),
        "ids and numbers agree on the order"
    );
    assert_eq!(chat.last_seq().await, Some(50));
}

#[tokio::test]
async fn history_pages_with_before_after_and_limit_oldest_first() {
    let chat = setup().await;
    let mut ids = Vec::new();
    for i in 1..=10 {
        ids.push(id_of(&chat.posted(&chat.member, &format!("m{i}")).await));
    }
    assert_eq!(
        chat.history_ids("").await,
        ids,
        "default: everything, oldest first"
    );
    assert_eq!(chat.history_ids("?limit=3").await, ids[7..]);
    assert_eq!(
        chat.history_ids(&format!("?before={}&limit=3", ids[7]))
            .await,
        ids[4..7]
    );
    assert_eq!(
        chat.history_ids(&format!("?after={}&limit=3", ids[2]))
            .await,
        ids[3..6]
    );
    assert_eq!(
        chat.history_ids(&format!("?before={}", ids[3])).await,
        ids[..3]
    );
    assert_eq!(
        chat.history_ids(&format!("?after={}", ids[6])).await,
        ids[7..]
    );
    assert!(chat
        .history_ids(&format!("?before={}", ids[0]))
        .await
        .is_empty());
    assert!(chat
        .history_ids(&format!("?after={}", ids[9]))
        .await
        .is_empty());

    // Scrolling back page by page visits every message once.
    let mut seen: Vec<i64> = Vec::new();
    let mut query = "?limit=4".to_owned();
    loop {
        let page = chat.history_ids(&query).await;
        let Some(oldest) = page.first().copied() else {
            break;
        };
        seen.splice(0..0, page);
        query = format!("?limit=4&before={oldest}");
    }
    assert_eq!(seen, ids);

    for path in both_slashes(&format!("{}?limit=2", messages_path(chat.channel.id))) {
        let (status, body) = send(
            chat.app
                .http
                .get(chat.app.url(&path))
                .bearer_auth(&chat.member),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body.as_array().map(Vec::len), Some(2), "{path}");
    }
}

#[tokio::test]
async fn history_with_limit_out_of_range_returns_400() {
    let chat = setup().await;
    chat.posted(&chat.member, "hi").await;
    for query in [
        "?limit=0".to_owned(),
        "?limit=101".to_owned(),
        "?limit=-1".to_owned(),
        "?limit=abc".to_owned(),
        "?before=abc".to_owned(),
    ] {
        let path = format!("{}{query}", messages_path(chat.channel.id));
        let (status, body) = send(
            chat.app
                .http
                .get(chat.app.url(&path))
                .bearer_auth(&chat.member),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["code"].is_string(), "{query}: {body}");
    }
    assert_eq!(chat.history("?limit=1").await.len(), 1);
    assert_eq!(chat.history("?limit=100").await.len(), 1);
}

#[tokio::test]
async fn history_of_an_unknown_channel_returns_404_and_of_an_empty_one_an_empty_list() {
    let chat = setup().await;
    let (status, body) = send(
        chat.app
            .http
            .get(chat.app.url(&messages_path(ChannelId(987_654))))
            .bearer_auth(&chat.member),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "not_found");
    assert!(chat.history("").await.is_empty());
}

#[tokio::test]
async fn editing_as_the_author_returns_200_with_edited_at_and_changes_both_histories() {
    let chat = setup().await;
    let original = chat.posted(&chat.member, "first draft").await;
    let id = id_of(&original);
    let (status, edited) = chat
        .edit(&chat.member, id, json!({"content": "  final  "}))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["content"], "final");
    assert_eq!(edited["id"], id);
    assert_eq!(edited["seq"], original["seq"]);
    assert_eq!(edited["timestamp"], original["timestamp"]);
    let edited_at = edited["edited_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(edited_at).is_ok(),
        "edited_at set: {edited}"
    );
    assert_eq!(chat.history("").await, [edited]);
    assert_eq!(chat.compat_history().await[0]["content"], "final");
}

#[tokio::test]
async fn editing_someone_elses_message_returns_403_even_for_the_server_owner() {
    let chat = setup().await;
    let id = id_of(&chat.posted(&chat.member, "mine").await);
    for token in [&chat.owner, &chat.stranger] {
        let (status, body) = chat.edit(token, id, json!({"content": "hijacked"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    assert_eq!(chat.history("").await[0]["content"], "mine");
}

#[tokio::test]
async fn editing_with_invalid_content_returns_400_and_an_unknown_message_404() {
    let chat = setup().await;
    let id = id_of(&chat.posted(&chat.member, "mine").await);
    for content in [String::new(), "  ".to_owned(), "x".repeat(2001)] {
        let (status, body) = chat
            .edit(&chat.member, id, json!({ "content": content }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&body, "invalid_message");
    }
    let (status, body) = chat
        .edit(&chat.member, 987_654, json!({"content": "hello"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "not_found");
    assert_eq!(chat.history("").await[0]["content"], "mine");
    assert!(chat.history("").await[0].get("edited_at").is_none());
}

#[tokio::test]
async fn deleting_as_the_author_returns_204_and_the_message_vanishes_from_both_histories() {
    let chat = setup().await;
    let kept = id_of(&chat.posted(&chat.member, "kept").await);
    let gone = id_of(&chat.posted(&chat.member, "gone").await);
    let [_, without_slash] = both_slashes(&message_path(gone));
    let (status, body) = send(
        chat.app
            .http
            .delete(chat.app.url(&without_slash))
            .bearer_auth(&chat.member),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(chat.history_ids("").await, [kept]);
    assert_eq!(
        chat.history_ids(&format!("?after={kept}")).await,
        Vec::<i64>::new()
    );
    let compat: Vec<i64> = chat.compat_history().await.iter().map(id_of).collect();
    assert_eq!(compat, [kept]);

    assert_eq!(
        chat.delete(&chat.member, gone).await,
        StatusCode::NOT_FOUND,
        "already gone"
    );
    let (status, _) = chat
        .edit(&chat.member, gone, json!({"content": "back"}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a deleted message cannot be edited"
    );
    let next = chat.posted(&chat.member, "after").await;
    assert_eq!(next["seq"], 3, "a deleted message keeps its number");
}

#[tokio::test]
async fn the_server_owner_may_delete_anyones_message() {
    let chat = setup().await;
    let id = id_of(&chat.posted(&chat.member, "spam").await);
    assert_eq!(chat.delete(&chat.owner, id).await, StatusCode::NO_CONTENT);
    assert!(chat.history("").await.is_empty());
}

#[tokio::test]
async fn deleting_as_neither_author_nor_server_owner_returns_403() {
    let chat = setup().await;
    let id = id_of(&chat.posted(&chat.owner, "owner's words").await);
    for token in [&chat.stranger, &chat.member] {
        let (status, body) = send(
            chat.app
                .http
                .delete(chat.app.url(&message_path(id)))
                .bearer_auth(token),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    assert_eq!(chat.history_ids("").await, [id]);
    assert_eq!(
        chat.delete(&chat.owner, 987_654).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn message_endpoints_require_authentication() {
    let chat = setup().await;
    let id = id_of(&chat.posted(&chat.member, "hi").await);
    let http = &chat.app.http;
    let url = |path: &str| chat.app.url(path);
    for request in [
        http.post(url(&messages_path(chat.channel.id)))
            .json(&json!({"content": "hi"})),
        http.get(url(&messages_path(chat.channel.id))),
        http.patch(url(&message_path(id)))
            .json(&json!({"content": "hi"})),
        http.delete(url(&message_path(id))),
        http.get(url(&messages_path(chat.channel.id)))
            .bearer_auth("not-a-token"),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_error(&body, "not_authenticated");
    }
    assert_eq!(chat.history_ids("").await, [id]);
}

#[tokio::test]
async fn a_user_who_left_the_server_can_no_longer_post() {
    let chat = setup().await;
    chat.posted(&chat.member, "bye").await;
    let (status, body) = send(
        chat.app
            .http
            .delete(chat.app.url(&format!(
                "/api/membership/{}/membership/remove_member/",
                chat.server.0
            )))
            .bearer_auth(&chat.member),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = chat
        .post(&chat.member, json!({"content": "still here?"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "not_member");
    assert_eq!(chat.history("").await.len(), 1);
}
