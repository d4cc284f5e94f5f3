//! Regressions of what spec fuzzing (`scripts/schemathesis.sh`) found: each test pins a fix, so
//! that the server keeps answering what `openapi/openapi.json` says it answers.

use hearth_tests::{assert_error, send, StatusCode, TestApp};
use serde_json::{json, Value};

/// alice owns a server with a `general` channel, through the API.
async fn alice_with_a_server(app: &TestApp) -> (String, i64, i64) {
    app.category("misc").await;
    let (_, alice) = app.user_with_token("alice").await;
    let (status, server) = send(
        app.http
            .post(app.url("/api/servers/"))
            .bearer_auth(&alice)
            .json(&json!({"name": "Place", "category": "misc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{server}");
    let id = server["id"].as_i64().unwrap_or_default();
    let general = server["channel_server"][0]["id"]
        .as_i64()
        .unwrap_or_default();
    (alice, id, general)
}

/// serde reads a struct from an array of its fields, so `[null, null]` was a valid "change
/// nothing" PATCH and `["bob", "password"]` a registration: every body must be an object.
#[tokio::test]
async fn json_bodies_that_are_not_objects_return_400() {
    let app = TestApp::spawn().await;
    let (alice, server, general) = alice_with_a_server(&app).await;
    let requests = [
        app.http.post(app.url("/api/register/")),
        app.http.post(app.url("/api/auth/token/")),
        app.http
            .patch(app.url(&format!("/api/channels/{general}/")))
            .bearer_auth(&alice),
        app.http
            .patch(app.url(&format!("/api/servers/{server}/")))
            .bearer_auth(&alice),
        app.http
            .post(app.url(&format!("/api/channels/{general}/messages/")))
            .bearer_auth(&alice),
    ];
    for request in requests {
        for body in [
            json!(["bob", "correct horse battery"]),
            json!([null, null]),
            json!([]),
        ] {
            let request = request
                .try_clone()
                .unwrap_or_else(|| panic!("cannot clone"));
            let (status, response) = send(request.json(&body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
            assert_error(&response, "invalid_body");
        }
    }
    // Nothing was registered, renamed or posted.
    let (status, _) = send(
        app.http
            .post(app.url("/api/auth/token/"))
            .json(&json!({"username": "bob", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, history) = send(
        app.http
            .get(app.url(&format!("/api/messages/?channel_id={general}"))),
    )
    .await;
    assert_eq!(history, json!([]));
}

/// Every endpoint with a JSON body answers 415 without one and 413 past the limit, and says so.
#[tokio::test]
async fn json_endpoints_document_the_413_and_415_they_answer() {
    let app = TestApp::spawn().await;
    let (_, spec) = send(app.http.get(app.url("/api/docs/schema/"))).await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let body = &operation["requestBody"];
            if body["content"]["application/json"].is_null() || body["required"] != true {
                continue;
            }
            checked += 1;
            for status in ["413", "415"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    assert!(checked >= 12, "only {checked} JSON endpoints found");

    let (status, body) = send(app.http.post(app.url("/api/register/"))).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
}

/// A path that exists, asked with a method it does not have: 405 with `Allow`, as the
/// reference (Django REST Framework) answers; before, every such request was a 404.
#[tokio::test]
async fn a_known_path_with_another_method_returns_405_with_allow() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        ("TRACE", "/api/server/category/", "GET"),
        ("DELETE", "/healthz", "GET"),
        ("GET", "/api/token", "POST"),
        ("PUT", "/api/servers/1/", "GET, PATCH, DELETE"),
        ("OPTIONS", "/api/servers/1", "GET, PATCH, DELETE"),
        ("POST", "/api/servers/1/icon/", "PUT"),
        ("POST", "/7/8", "GET"),
        ("DELETE", "/ws/servers/7/channels/8", "GET"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.unwrap_or_default();
        assert_error(&body, "method_not_allowed");
    }
    // Paths the API does not have stay 404, whatever the method.
    for (method, path) in [
        (reqwest::Method::POST, "/servers/1"),
        (reqwest::Method::TRACE, "/api/nothing/"),
        (reqwest::Method::TRACE, "/api/servers/abc/"),
    ] {
        let (status, body) = send(app.http.request(method.clone(), app.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(&body, "not_found");
    }
}

/// Both `before` and `after` are well formed on their own, so together they are too: the page
/// is the oldest messages strictly between them (it was a 400).
#[tokio::test]
async fn history_with_before_and_after_returns_the_messages_between() {
    let app = TestApp::spawn().await;
    let (alice, _, general) = alice_with_a_server(&app).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let (status, message) = send(
            app.http
                .post(app.url(&format!("/api/channels/{general}/messages/")))
                .bearer_auth(&alice)
                .json(&json!({"content": format!("m{n}")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{message}");
        ids.push(message["id"].as_i64().unwrap_or_default());
    }
    let page = |query: String| {
        let request = app
            .http
            .get(app.url(&format!("/api/channels/{general}/messages/{query}")))
            .bearer_auth(&alice);
        async move {
            let (status, body) = send(request).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["content"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        page(format!("?after={}&before={}", ids[0], ids[5])).await,
        ["m1", "m2", "m3", "m4"]
    );
    assert_eq!(
        page(format!("?after={}&before={}&limit=2", ids[0], ids[5])).await,
        ["m1", "m2"]
    );
    assert!(page(format!("?after={}&before={}", ids[3], ids[3]))
        .await
        .is_empty());
}

/// A name within 100 characters can lengthen when stored lower-case ("İ" becomes two
/// characters); it used to break the database's length check and answer 500.
#[tokio::test]
async fn a_category_name_too_long_once_lower_cased_returns_400() {
    let app = TestApp::spawn().await;
    let (_, staff) = app.staff_with_token("staffer").await;
    let name = "İ".repeat(60);
    let (status, body) = send(
        app.http
            .post(app.url("/api/categories/"))
            .bearer_auth(&staff)
            .json(&json!({"name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "validation_failed");
    let (status, category) = send(
        app.http
            .post(app.url("/api/categories/"))
            .bearer_auth(&staff)
            .json(&json!({"name": "İ".repeat(50)})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{category}");
    let id = category["id"].as_i64().unwrap_or_default();
    let (status, body) = send(
        app.http
            .patch(app.url(&format!("/api/categories/{id}/")))
            .bearer_auth(&staff)
            .json(&json!({"name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Names, messages and nonces are described by patterns that say what the rules accept,
/// trimming included: what the pattern allows is accepted, what it refuses is refused.
#[tokio::test]
async fn text_at_the_edges_of_the_documented_patterns_is_answered_as_documented() {
    let app = TestApp::spawn().await;
    let (alice, _, general) = alice_with_a_server(&app).await;
    let channels = app.url(&format!("/api/channels/{general}/"));
    let padded = format!("\u{3000} {}\u{a0}", "n".repeat(100));
    for (name, accepted) in [
        (padded.as_str(), true),
        ("\u{2003}x", true),
        ("   ", false),
        ("tab\there", false),
        ("nul\u{0}", false),
        ("\u{85}x", false),
    ] {
        let (status, body) = send(
            app.http
                .patch(&channels)
                .bearer_auth(&alice)
                .json(&json!({ "name": name })),
        )
        .await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{name:?}: {body}");
    }
    let messages = app.url(&format!("/api/channels/{general}/messages/"));
    let long = format!("\n\t {}\u{85}\u{2028}", "m".repeat(2000));
    for (content, nonce, accepted) in [
        (long.as_str(), None, true),
        ("line\u{1}one\nline two", None, true),
        ("\u{2029}", None, false),
        ("ok", Some("tab\tnonce"), false),
        ("ok", Some("\u{9f}"), false),
        ("ok", Some(" spaced nonce "), true),
    ] {
        let (status, body) = send(
            app.http
                .post(&messages)
                .bearer_auth(&alice)
                .json(&json!({ "content": content, "nonce": nonce })),
        )
        .await;
        let expected = if accepted {
            StatusCode::CREATED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{content:?} {nonce:?}: {body}");
    }
}

/// The socket routes are in the spec but left out of spec fuzzing (their only valid request
/// is an upgrade): a plain GET gets their documented 400 with the JSON body.
#[tokio::test]
async fn a_plain_get_on_the_socket_routes_returns_the_documented_400() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let (_, spec) = send(app.http.get(app.url("/api/docs/schema/"))).await;
    for (documented, path) in [
        (
            "/ws/servers/{server_id}/channels/{channel_id}",
            "/ws/servers/1/channels/2",
        ),
        ("/{server_id}/{channel_id}", "/1/2"),
    ] {
        assert!(
            spec["paths"][documented]["get"]["responses"]["400"].is_object(),
            "{documented} does not document 400"
        );
        for request in [
            app.http.get(app.url(path)),
            app.http.get(app.url(path)).bearer_auth(&token),
        ] {
            let (status, body) = send(request).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_error(&body, "websocket_expected");
        }
    }
}

/// Every JSON body the API takes, sent empty: each field its schema requires is named in
/// `fields` (as the reference's Django REST Framework does), not only `invalid_body`.
#[tokio::test]
async fn every_missing_required_field_is_a_field_error() {
    let app = TestApp::spawn().await;
    let (alice, server, general) = alice_with_a_server(&app).await;
    let (_, staff) = app.staff_with_token("staffer").await;
    let (status, message) = send(
        app.http
            .post(app.url(&format!("/api/channels/{general}/messages/")))
            .bearer_auth(&alice)
            .json(&json!({"content": "hello"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let category = app.category("other").await.0;
    let (bob, _) = app.user_with_token("bob").await;
    let (status, conversation) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice)
            .json(&json!({"user_id": bob.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    let ids = [
        ("{conversation_id}", conversation["id"].to_string()),
        ("{server_id}", server.to_string()),
        ("{channel_id}", general.to_string()),
        ("{message_id}", message["id"].to_string()),
        ("{category_id}", category.to_string()),
    ];
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let spec: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("cannot read {}", path.display()));
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Some(reference) =
                operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            else {
                continue;
            };
            let name = reference.rsplit('/').next().unwrap_or_default();
            let required: Vec<&str> = spec["components"]["schemas"][name]["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if required.is_empty() {
                continue;
            }
            let path = ids.iter().fold(template.clone(), |path, (param, id)| {
                path.replace(param, id)
            });
            let token = if path.starts_with("/api/categories") {
                &staff
            } else {
                &alice
            };
            let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            let (status, body) = send(
                app.http
                    .request(method.clone(), app.url(&path))
                    .bearer_auth(token)
                    .json(&json!({})),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
            assert_error(&body, "validation_failed");
            for field in &required {
                assert_eq!(
                    body["fields"][field],
                    json!(["This field is required."]),
                    "{method} {path}: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 9,
        "only {checked} operations with required fields"
    );
}
