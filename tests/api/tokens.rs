//! Expired, forged and malformed tokens are refused with 401 and the JSON error body, whether
//! they come as a bearer header or as the cookie, and close a socket with 4001.

use hearth_tests::ws::{connect, Auth};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn claims(user_id: i64, token_type: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"token_type": token_type, "exp": now + exp_offset, "iat": now, "jti": "x", "user_id": user_id})
}

fn sign(header: Header, claims: &serde_json::Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key))
        .unwrap_or_else(|e| panic!("cannot sign: {e}"))
}

fn b64(bytes: &[u8]) -> String {
    // URL-safe base64 without padding, as JWTs use.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Tokens that must never authenticate anybody.
fn bad_tokens(user_id: i64) -> Vec<(&'static str, String)> {
    let payload = b64(claims(user_id, "access", 300).to_string().as_bytes());
    vec![
        (
            "alg none",
            format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
        ),
        (
            "alg none, no dot",
            format!("{}.{payload}", b64(br#"{"alg":"none","typ":"JWT"}"#)),
        ),
        (
            "wrong key",
            sign(
                Header::new(Algorithm::HS256),
                &claims(user_id, "access", 300),
                b"not-the-server-key",
            ),
        ),
        (
            "HS512",
            sign(
                Header::new(Algorithm::HS512),
                &claims(user_id, "access", 300),
                b"not-the-server-key",
            ),
        ),
        ("garbage", "garbage".to_owned()),
        ("three dots of garbage", "a.b.c".to_owned()),
        ("empty", String::new()),
        ("unicode", "jwt-ü-∞".to_owned()),
    ]
}

async fn assert_refused(request: reqwest::RequestBuilder, what: &str) {
    let (status, body) = send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_error(&body, "not_authenticated");
}

#[tokio::test]
async fn forged_and_malformed_tokens_return_401_as_bearer_and_cookie() {
    let app = TestApp::spawn().await;
    let (id, _) = app.user_with_token("alice").await;
    let path = app.url("/api/account/?user_id=1");
    for (what, token) in bad_tokens(id.0) {
        assert_refused(app.http.get(&path).bearer_auth(&token), what).await;
        assert_refused(
            app.http
                .get(&path)
                .header("cookie", format!("access_token={token}")),
            what,
        )
        .await;
    }
}

#[tokio::test]
async fn malformed_authorization_headers_return_401() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let path = app.url("/api/membership/1/membership/is_member/");
    for header in [
        format!("Token {token}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        token.clone(),
    ] {
        assert_refused(
            app.http.get(&path).header("authorization", header.clone()),
            &header,
        )
        .await;
    }
}

#[tokio::test]
async fn expired_token_returns_401() {
    let app = TestApp::spawn_with(|s| s.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let (_, token) = app.user_with_token("alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_refused(
        app.http
            .get(app.url("/api/account/?user_id=1"))
            .bearer_auth(&token),
        "expired",
    )
    .await;
}

#[tokio::test]
async fn refresh_token_is_refused_where_an_access_token_is_expected() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let (_, pair) = send(
        app.http
            .post(app.url("/api/auth/token/"))
            .json(&json!({"username": "alice", "password": hearth_tests::PASSWORD})),
    )
    .await;
    let refresh = pair["refresh"].as_str().unwrap_or_default();
    assert_refused(
        app.http
            .get(app.url("/api/account/?user_id=1"))
            .bearer_auth(refresh),
        "refresh as access",
    )
    .await;
    // And the other way round.
    let access = pair["access"].as_str().unwrap_or_default();
    assert_refused(
        app.http
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": access})),
        "access as refresh",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_another_server_secret_is_refused() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn().await;
    let (_, token) = first.user_with_token("alice").await;
    second.register("alice").await;
    assert_refused(
        second
            .http
            .get(second.url("/api/account/?user_id=1"))
            .bearer_auth(&token),
        "foreign secret",
    )
    .await;
}

#[tokio::test]
async fn a_valid_token_for_a_deleted_account_cannot_join() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let (_, token) = app.user_with_token("ghost").await;
    // The API offers no account deletion yet: delete through the database layer.
    delete_user(&app, "ghost").await;
    let (status, body) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", server.0)))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

async fn delete_user(app: &TestApp, username: &str) {
    hearth_db::users::delete_by_username(&app.db, username)
        .await
        .unwrap_or_else(|e| panic!("cannot delete {username}: {e}"));
}

// --- Tokens signed with the server's own secret, and the socket handshake -------------------

const SECRET: &[u8] = b"a-known-test-secret-of-at-least-32-bytes";

/// A server whose signing secret the test knows, so that it can mint tokens the way an
/// attacker who knows a token's shape (but should not get in) would.
async fn app_with_known_secret() -> TestApp {
    TestApp::spawn_with(|s| s.jwt_secret = hearth_api::config::JwtSecret::new(SECRET.to_vec()))
        .await
}

/// `header.payload.signature` with any header, signed by `algorithm` with `key`.
fn mint(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    algorithm: Algorithm,
    key: &[u8],
) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(key),
        algorithm,
    )
    .unwrap_or_else(|e| panic!("cannot sign: {e}"));
    format!("{message}.{signature}")
}

/// Tokens carrying the server's real signature (or none) that must still be refused.
fn refused_with_the_real_secret(user_id: i64) -> Vec<(&'static str, String)> {
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let now = chrono::Utc::now().timestamp();
    let mut tampered = mint(
        &hs256,
        &claims(user_id, "access", 300),
        Algorithm::HS256,
        SECRET,
    );
    // Same signature, another user's claims.
    let signature = tampered.rsplit('.').next().unwrap_or_default().to_owned();
    tampered = format!(
        "{}.{}.{signature}",
        b64(hs256.to_string().as_bytes()),
        b64(claims(user_id + 1, "access", 300).to_string().as_bytes())
    );
    vec![
        (
            "RS256 header, HMAC signature (key confusion)",
            mint(
                &json!({"alg": "RS256", "typ": "JWT"}),
                &claims(user_id, "access", 300),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "HS512 with the real secret",
            mint(
                &json!({"alg": "HS512", "typ": "JWT"}),
                &claims(user_id, "access", 300),
                Algorithm::HS512,
                SECRET,
            ),
        ),
        (
            "alg none with the real claims",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none","typ":"JWT"}"#),
                b64(claims(user_id, "access", 300).to_string().as_bytes())
            ),
        ),
        (
            "expired",
            mint(
                &hs256,
                &claims(user_id, "access", -10),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "no expiry",
            mint(
                &hs256,
                &json!({"token_type": "access", "iat": now, "jti": "x", "user_id": user_id}),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "refresh token",
            mint(
                &hs256,
                &claims(user_id, "refresh", 300),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "user id as text",
            mint(
                &hs256,
                &json!({"token_type": "access", "exp": now + 300, "iat": now, "jti": "x", "user_id": user_id.to_string()}),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        (
            "an account that never existed",
            mint(
                &hs256,
                &claims(424_242, "access", 300),
                Algorithm::HS256,
                SECRET,
            ),
        ),
        ("claims of another user under this signature", tampered),
    ]
}

#[tokio::test]
async fn tokens_signed_with_the_real_secret_but_wrong_are_refused_on_rest_and_sockets() {
    let app = app_with_known_secret().await;
    let (alice, _) = app.user_with_token("alice").await;
    let category = app.category("misc").await;
    let server = app.server(alice, category, "Place").await;
    let channel = app.channel(server, alice, "general").await;
    let socket = format!("/ws/servers/{}/channels/{}", server.0, channel.id.0);

    // The minting is right: the same recipe with the right claims gets in.
    let good = mint(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(alice.0, "access", 300),
        Algorithm::HS256,
        SECRET,
    );
    let (status, me) = send(app.http.get(app.url("/api/me/")).bearer_auth(&good)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let mut accepted = connect(app.port, &socket, Auth::Bearer(good))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    accepted.recv_type("presence.list", WAIT).await;

    for (what, token) in refused_with_the_real_secret(alice.0) {
        assert_refused(app.http.get(app.url("/api/me/")).bearer_auth(&token), what).await;
        assert_refused(
            app.http
                .get(app.url("/api/account/?user_id=1"))
                .header("cookie", format!("access_token={token}")),
            what,
        )
        .await;
        for auth in [
            Auth::Bearer(token.clone()),
            Auth::Subprotocol(token.clone()),
            Auth::Cookie(token.clone()),
        ] {
            let mut refused = connect(app.port, &socket, auth.clone())
                .await
                .unwrap_or_else(|e| panic!("{what} {auth:?}: {e}"));
            assert_eq!(
                refused.recv_close(WAIT).await,
                Some(4001),
                "{what} {auth:?}"
            );
        }
    }
}

#[tokio::test]
async fn forged_and_malformed_tokens_close_the_socket_with_4001() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.user_with_token("alice").await;
    let category = app.category("misc").await;
    let server = app.server(alice, category, "Place").await;
    let channel = app.channel(server, alice, "general").await;
    for path in [
        format!("/ws/servers/{}/channels/{}", server.0, channel.id.0),
        format!("/{}/{}", server.0, channel.id.0),
    ] {
        for (what, token) in bad_tokens(alice.0) {
            if !token.is_ascii() {
                continue; // not a valid header value at all
            }
            let mut socket = connect(app.port, &path, Auth::Bearer(token))
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(socket.recv_close(WAIT).await, Some(4001), "{path} {what}");
        }
    }
}

/// Every authenticated endpoint, not only joining, refuses a token that outlived its account.
#[tokio::test]
async fn a_valid_token_for_a_deleted_account_is_refused_everywhere() {
    let app = TestApp::spawn().await;
    let (owner, owner_token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let channel = app.channel(server, owner, "general").await;
    let (_, token) = app.user_with_token("ghost").await;
    let (_, browser) = app.logged_in_browser("ghost2").await;
    delete_user(&app, "ghost").await;
    delete_user(&app, "ghost2").await;
    let requests = [
        app.http.get(app.url("/api/me/")),
        app.http.get(app.url("/api/account/?user_id=1")),
        app.http.get(app.url("/api/server/select/?by_user=true")),
        app.http.get(app.url(&format!(
            "/api/membership/{}/membership/is_member/",
            server.0
        ))),
        app.http.delete(app.url(&format!(
            "/api/membership/{}/membership/remove_member/",
            server.0
        ))),
        app.http
            .get(app.url(&format!("/api/channels/{}/messages/", channel.id.0))),
        app.http
            .get(app.url(&format!("/api/servers/{}/members/", server.0))),
        app.http
            .post(app.url(&format!("/api/channels/{}/messages/", channel.id.0)))
            .json(&json!({"content": "boo"})),
        app.http
            .post(app.url("/api/servers/"))
            .json(&json!({"name": "Haunted", "category": "misc"})),
    ];
    for request in requests {
        let cookie_request = request
            .try_clone()
            .unwrap_or_else(|| panic!("cannot clone"))
            .header("cookie", format!("access_token={token}"));
        assert_refused(request.bearer_auth(&token), "bearer of a deleted account").await;
        assert_refused(cookie_request, "cookie of a deleted account").await;
    }
    let (status, _) = send(browser.get(app.url("/api/me/"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let path = format!("/ws/servers/{}/channels/{}", server.0, channel.id.0);
    let mut socket = connect(app.port, &path, Auth::Bearer(token))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(socket.recv_close(WAIT).await, Some(4001));
    // Nothing was created in the ghost's name; the owner still gets in.
    let (status, history) = send(
        app.http
            .get(app.url(&format!("/api/channels/{}/messages/", channel.id.0)))
            .bearer_auth(&owner_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history, json!([]));
}
