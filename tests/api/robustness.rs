//! Bad input always gets a 4xx with the JSON error body: never a 500.

use hearth_tests::{assert_error, send, StatusCode, TestApp, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn malformed_json_returns_400() {
    let app = TestApp::spawn().await;
    for body in [
        "{",
        "not json",
        "{\"username\": }",
        "[1,2",
        "\"unterminated",
    ] {
        for path in ["/api/register/", "/api/token/", "/api/auth/token/"] {
            let (status, response) = send(
                app.http
                    .post(app.url(path))
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
            assert!(response["code"].is_string(), "{path} {body}: {response}");
        }
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_return_400_naming_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"username": 5, "password": PASSWORD}), "username"),
        (json!({"username": "a", "password": ["x"]}), "password"),
        (json!({"username": null, "password": PASSWORD}), "username"),
        (json!({"username": "alice"}), "password"),
        (json!({"password": PASSWORD}), "username"),
    ] {
        let (status, response) = send(app.http.post(app.url("/api/register/")).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&response, "validation_failed");
        assert!(
            response["fields"][field]
                .as_array()
                .is_some_and(|problems| !problems.is_empty()),
            "{body}: {response}"
        );
    }
    // Not an object at all: no field to blame.
    for body in [json!([]), json!("string"), json!(42)] {
        let (status, response) = send(app.http.post(app.url("/api/register/")).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&response, "invalid_body");
    }
}

#[tokio::test]
async fn invalid_utf8_body_returns_400() {
    let app = TestApp::spawn().await;
    let (status, response) = send(
        app.http
            .post(app.url("/api/register/"))
            .header("content-type", "application/json")
            .body(b"{\"username\": \"\xff\xfe\", \"password\": \"xxxxxxxxxx\"}".to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(response["code"].is_string());
}

#[tokio::test]
async fn oversized_bodies_return_413() {
    let app = TestApp::spawn().await;
    let huge = "a".repeat(200 * 1024);
    let (status, body) = send(
        app.http
            .post(app.url("/api/register/"))
            .json(&json!({"username": huge, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "payload_too_large");
}

#[tokio::test]
async fn a_non_json_content_type_returns_415() {
    let app = TestApp::spawn().await;
    let (status, body) = send(
        app.http
            .post(app.url("/api/register/"))
            .header("content-type", "text/plain")
            .body("username=alice"),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
}

#[tokio::test]
async fn overlong_credentials_are_refused_without_hashing_them() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let (status, _) = send(
        app.http
            .post(app.url("/api/token/"))
            .json(&json!({"username": "alice", "password": "p".repeat(10_000)})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_routes_return_404_json_and_wrong_methods_405_json() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/nothing/here/"),
        (reqwest::Method::GET, "/definitely/not/a/route"),
    ] {
        let (status, body) = send(app.http.request(method.clone(), app.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(&body, "not_found");
    }
    // A path that exists, with a method it does not have (tests/api/spec_fuzz.rs has more).
    for (method, path) in [
        (reqwest::Method::GET, "/api/register/"),
        (reqwest::Method::PUT, "/api/server/select/"),
    ] {
        let (status, body) = send(app.http.request(method.clone(), app.url(path))).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_error(&body, "method_not_allowed");
    }
}

#[tokio::test]
async fn sql_shaped_input_is_just_data() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    for category in ["' OR 1=1 --", "x'; DROP TABLE users; --", "%", "_"] {
        let (status, body) = send(
            app.http
                .get(app.url("/api/server/select/"))
                .query(&[("category", category)]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{category}");
        assert_eq!(body, json!([]), "{category}");
    }
    // The users table survived.
    let (status, _) = send(
        app.http
            .get(app.url("/api/account/?user_id=1"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// PostgreSQL text cannot hold NUL: every place text reaches the database answers 4xx, never 500.
#[tokio::test]
async fn text_with_nul_characters_is_refused_with_a_4xx_everywhere() {
    let app = TestApp::spawn().await;
    app.category("misc").await;
    let (_, token) = app.user_with_token("alice").await;
    let (_, staff) = app.staff_with_token("staffer").await;
    let (_, server) = send(
        app.http
            .post(app.url("/api/servers/"))
            .bearer_auth(&token)
            .json(&json!({"name": "Place", "category": "misc"})),
    )
    .await;
    let channel = server["channel_server"][0]["id"]
        .as_i64()
        .unwrap_or_default();
    let nul = "a\u{0}b";
    let requests = [
        app.http
            .get(app.url("/api/server/select/"))
            .query(&[("category", nul)]),
        app.http
            .post(app.url("/api/token/"))
            .json(&json!({"username": nul, "password": PASSWORD})),
        app.http
            .post(app.url("/api/auth/token/"))
            .json(&json!({"username": nul, "password": PASSWORD})),
        app.http
            .post(app.url("/api/register/"))
            .json(&json!({"username": nul, "password": PASSWORD})),
        app.http
            .post(app.url(&format!("/api/channels/{channel}/messages/")))
            .bearer_auth(&token)
            .json(&json!({"content": nul})),
        app.http
            .post(app.url("/api/servers/"))
            .bearer_auth(&token)
            .json(&json!({"name": "x", "description": nul, "category": "misc"})),
        app.http
            .patch(app.url(&format!("/api/channels/{channel}/")))
            .bearer_auth(&token)
            .json(&json!({"topic": nul})),
        app.http
            .post(app.url("/api/categories/"))
            .bearer_auth(&staff)
            .json(&json!({"name": "ok", "description": nul})),
    ];
    for request in requests {
        let (status, body) = send(request).await;
        assert!(status.is_client_error(), "{status}: {body}");
        assert!(body["code"].is_string(), "{body}");
    }
    // Nothing was half-stored.
    let (_, history) = send(
        app.http
            .get(app.url(&format!("/api/messages/?channel_id={channel}"))),
    )
    .await;
    assert_eq!(history, json!([]));
}
