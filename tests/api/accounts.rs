use hearth_tests::{assert_error, both_slashes, send, StatusCode, TestApp, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn register_returns_201_with_the_username_on_both_paths() {
    let app = TestApp::spawn().await;
    for (i, path) in both_slashes("/api/register/").iter().enumerate() {
        let username = format!("alice{i}");
        let (status, body) = send(
            app.http
                .post(app.url(path))
                .json(&json!({"username": username, "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        assert_eq!(body, json!({"username": username}));
    }
}

#[tokio::test]
async fn register_stores_an_argon2id_hash_never_the_password() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let credentials = hearth_db::users::credentials(&app.db, "alice")
        .await
        .ok()
        .flatten();
    let hash = credentials.map(|c| c.password_hash).unwrap_or_default();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn register_taken_username_returns_409_in_any_case() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    for name in ["alice", "ALICE"] {
        let (status, body) = send(
            app.http
                .post(app.url("/api/register/"))
                .json(&json!({"username": name, "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{name}");
        assert_error(&body, "username_taken");
    }
}

#[tokio::test]
async fn register_reserved_username_returns_409() {
    let app = TestApp::spawn().await;
    let (status, body) = send(
        app.http
            .post(app.url("/api/register/"))
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "username_not_allowed");
}

#[tokio::test]
async fn register_invalid_input_returns_400_with_field_errors() {
    let app = TestApp::spawn().await;
    let long_name = "a".repeat(151);
    let cases = [
        (json!({"username": "", "password": PASSWORD}), "username"),
        (
            json!({"username": "has space", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "semi;colon", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": long_name, "password": PASSWORD}),
            "username",
        ),
        (json!({"username": "bob", "password": "short"}), "password"),
        (
            json!({"username": "bob", "password": "1234567890"}),
            "password",
        ),
    ];
    for (input, field) in cases {
        let (status, body) = send(app.http.post(app.url("/api/register/")).json(&input)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}");
        assert_error(&body, "validation_failed");
        assert!(
            body["fields"][field]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{input} → {body}"
        );
    }
    // Nothing was stored.
    assert_eq!(hearth_db::users::count(&app.db).await.ok(), Some(0));
}

#[tokio::test]
async fn register_accepts_django_username_characters() {
    let app = TestApp::spawn().await;
    for name in ["a.b+c-d_e@f", "zoë", &"x".repeat(150)] {
        let (status, _) = send(
            app.http
                .post(app.url("/api/register"))
                .json(&json!({"username": name, "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{name}");
    }
}

#[tokio::test]
async fn login_sets_http_only_cookies_and_returns_user_id_and_refresh() {
    let app = TestApp::spawn().await;
    let id = app.register("alice").await;
    for path in both_slashes("/api/token/") {
        let response = app
            .http
            .post(app.url(&path))
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for (name, max_age) in [
            ("access_token", "Max-Age=300"),
            ("refresh_token", "Max-Age=2592000"),
        ] {
            let cookie = cookies
                .iter()
                .find(|c| c.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
            for flag in ["HttpOnly", "SameSite=Lax", "Path=/", max_age] {
                assert!(cookie.contains(flag), "{name} lacks {flag}: {cookie}");
            }
        }
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(body["user_id"], id.0);
        assert!(body["refresh"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3));
        assert!(
            body.get("access").is_none(),
            "the access token travels only in the cookie"
        );
    }
}

#[tokio::test]
async fn login_with_wrong_credentials_returns_401() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    for (username, password) in [("alice", "wrong password"), ("nobody", PASSWORD), ("", "")] {
        let response = app
            .http
            .post(app.url("/api/token/"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{username}");
        assert!(response.headers().get("set-cookie").is_none());
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_error(&body, "not_authenticated");
    }
}

#[tokio::test]
async fn login_is_case_insensitive_on_the_username() {
    let app = TestApp::spawn().await;
    app.register("Alice").await;
    let (status, _) = send(
        app.http
            .post(app.url("/api/token/"))
            .json(&json!({"username": "alice", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_with_the_cookie_sets_a_new_access_cookie() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.logged_in_browser("alice").await;
    for path in both_slashes("/api/token/refresh/") {
        let response = browser
            .post(app.url(&path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("access_token="))
            .map(str::to_owned);
        assert!(
            cookie.is_some_and(|c| c.contains("HttpOnly") && c.contains("SameSite=Lax")),
            "no fresh access cookie"
        );
    }
}

#[tokio::test]
async fn refresh_with_a_body_token_works_without_cookies() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let (_, login) = send(
        app.http
            .post(app.url("/api/token/"))
            .json(&json!({"username": "alice", "password": PASSWORD})),
    )
    .await;
    let (status, _) = send(
        app.http
            .post(app.url("/api/token/refresh/"))
            .json(&json!({"refresh": login["refresh"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_without_or_with_a_bad_token_returns_401() {
    let app = TestApp::spawn().await;
    let (_, access) = app.user_with_token("alice").await;
    let cases = [
        app.http.post(app.url("/api/token/refresh/")),
        app.http
            .post(app.url("/api/token/refresh/"))
            .json(&json!({"refresh": "not-a-token"})),
        // An access token is not a refresh token.
        app.http
            .post(app.url("/api/token/refresh/"))
            .json(&json!({"refresh": access})),
        app.http
            .post(app.url("/api/token/refresh/"))
            .header("cookie", format!("refresh_token={access}")),
    ];
    for request in cases {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_error(&body, "not_authenticated");
    }
}

#[tokio::test]
async fn logout_clears_both_cookies_and_ends_the_session() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.logged_in_browser("alice").await;
    let (status, _) = send(browser.get(app.url("/api/account/?user_id=1"))).await;
    assert_eq!(status, StatusCode::OK);
    for path in both_slashes("/api/logout/") {
        let response = browser
            .post(app.url(&path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cleared: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for name in ["access_token", "refresh_token"] {
            assert!(
                cleared
                    .iter()
                    .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
                "{name} not cleared: {cleared:?}"
            );
        }
    }
    let (status, _) = send(browser.get(app.url("/api/account/?user_id=1"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn account_lookup_returns_the_username() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let bob = app.register("bob").await;
    for path in both_slashes(&format!("/api/account/?user_id={}", bob.0)) {
        let (status, body) = send(app.http.get(app.url(&path)).bearer_auth(&token)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, json!({"username": "bob"}));
    }
}

#[tokio::test]
async fn account_lookup_errors() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let (status, body) = send(app.http.get(app.url("/api/account/?user_id=999"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "not_authenticated");
    let cases = [
        ("/api/account/?user_id=999", StatusCode::NOT_FOUND),
        ("/api/account/", StatusCode::BAD_REQUEST),
        ("/api/account/?user_id=abc", StatusCode::BAD_REQUEST),
        (
            "/api/account/?user_id=99999999999999999999",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, expected) in cases {
        let (status, body) = send(app.http.get(app.url(path)).bearer_auth(&token)).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["code"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn native_token_endpoint_returns_a_bearer_pair_and_no_cookie() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    for path in both_slashes("/api/auth/token") {
        let response = app
            .http
            .post(app.url(&path))
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers().get("set-cookie").is_none());
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 300);
        let access = body["access"].as_str().unwrap_or_default();
        let (status, _) = send(
            app.http
                .get(app.url("/api/account/?user_id=1"))
                .bearer_auth(access),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        // The native refresh trades the refresh token for a new pair.
        let (status, renewed) = send(
            app.http
                .post(app.url("/api/auth/refresh"))
                .json(&json!({"refresh": body["refresh"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(renewed["access"].is_string());
    }
    let (status, body) = send(
        app.http
            .post(app.url("/api/auth/token"))
            .json(&json!({"username": "alice", "password": "nope nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "not_authenticated");
}

#[tokio::test]
async fn me_returns_the_cookie_session_account() {
    let app = TestApp::spawn().await;
    let (id, browser) = app.logged_in_browser("maude").await;
    let (status, body) = send(browser.get(app.url("/api/me/"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], id.0);
    assert_eq!(body["username"], "maude");
    assert_eq!(body["is_staff"], false);
}

#[tokio::test]
async fn me_without_a_session_or_for_a_deleted_account_is_401() {
    let app = TestApp::spawn().await;
    let (status, body) = send(app.http.get(app.url("/api/me"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, token) = app.user_with_token("ghost").await;
    let deleted = hearth_db::users::delete_by_username(&app.db, "ghost").await;
    assert!(matches!(deleted, Ok(true)), "{deleted:?}");
    let (status, body) = send(app.http.get(app.url("/api/me/")).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"].is_string());
}
