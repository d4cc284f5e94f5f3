use hearth_tests::{assert_error, both_slashes, send, StatusCode, TestApp};
use serde_json::{json, Value};

#[tokio::test]
async fn compat_history_returns_the_newest_50_oldest_first() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.user_with_token("alice").await;
    let category = app.category("misc").await;
    let server = app.server(alice, category, "Place").await;
    let channel = app.channel(server, alice, "general").await;
    let other = app.channel(server, alice, "other").await;
    let alice = hearth_domain::UserRef {
        id: alice,
        username: "alice".to_owned(),
    };
    for i in 1..=55 {
        hearth_db::messages::create(
            &app.db,
            Some(server),
            channel.id,
            &alice,
            &format!("message {i}"),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    hearth_db::messages::create(&app.db, Some(server), other.id, &alice, "elsewhere", None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for path in both_slashes(&format!("/api/messages/?channel_id={}", channel.id.0)) {
        let (status, body) = send(app.http.get(app.url(&path))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let messages = body.as_array().cloned().unwrap_or_default();
        assert_eq!(messages.len(), 50);
        assert_eq!(messages[0]["content"], "message 6");
        assert_eq!(messages[49]["content"], "message 55");
        let first = &messages[0];
        assert_eq!(first["sender"], "alice");
        assert!(first["id"].is_i64());
        let mut keys: Vec<&String> = first
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        keys.sort();
        assert_eq!(
            keys,
            ["content", "id", "sender", "timestamp"],
            "exactly the reference's fields"
        );
        let timestamp = first["timestamp"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok() && timestamp.ends_with('Z'),
            "RFC 3339 in UTC: {timestamp}"
        );
        let ids: Vec<i64> = messages.iter().filter_map(|m| m["id"].as_i64()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    }
}

#[tokio::test]
async fn compat_history_of_an_unknown_channel_is_empty() {
    let app = TestApp::spawn().await;
    let (status, body) = send(app.http.get(app.url("/api/messages/?channel_id=12345"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn compat_history_with_a_malformed_channel_id_is_400() {
    let app = TestApp::spawn().await;
    for query in [
        "",
        "?channel_id=",
        "?channel_id=abc",
        "?channel_id=99999999999999999999",
    ] {
        let (status, body) = send(app.http.get(app.url(&format!("/api/messages/{query}")))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_error(&body, "invalid_query");
        assert_ne!(body, Value::Null);
    }
}
