//! REST rate limits against a real server: password guessing on one username and from one
//! address, registrations, refreshes, REST posts sharing the sockets' bucket, and which client
//! address counts behind a (trusted or untrusted) proxy. Each test sets short windows of its own
//! (the harness raises every limit out of the way otherwise).

use hearth_api::config::Settings;
use hearth_api::limits::{Rate, TrustedProxies};
use hearth_tests::ws::{connect, Auth};
use hearth_tests::{assert_error, StatusCode, TestApp, PASSWORD};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::Duration;

fn rate(text: &str) -> Option<Rate> {
    Rate::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `request`; the status, the JSON body and the headers.
async fn exchange(request: reqwest::RequestBuilder) -> (StatusCode, Value, HeaderMap) {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

fn header(headers: &HeaderMap, name: &str) -> u64 {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {name} in {headers:?}"))
}

/// A 429 with the usual body, `retry_after` in ms, `Retry-After` in s and the limit's headers;
/// returns `retry_after`.
fn assert_rate_limited(status: StatusCode, body: &Value, headers: &HeaderMap, limit: u64) -> u64 {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(body, "rate_limited");
    let retry_after = body["retry_after"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retry_after in {body}"));
    assert!(retry_after > 0, "{body}");
    assert_eq!(header(headers, "retry-after"), retry_after.div_ceil(1000));
    assert_eq!(header(headers, "x-ratelimit-limit"), limit);
    assert_eq!(header(headers, "x-ratelimit-remaining"), 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let reset = header(headers, "x-ratelimit-reset");
    assert!(
        reset >= now && reset <= now + 3600,
        "reset {reset}, now {now}"
    );
    retry_after
}

fn login(app: &TestApp, path: &str, username: &str, password: &str) -> reqwest::RequestBuilder {
    app.http
        .post(app.url(path))
        .json(&json!({"username": username, "password": password}))
}

#[tokio::test]
async fn guessing_one_username_is_throttled_then_let_through_once_the_window_passes() {
    // One more every 2 s: the attempts below take far less than that, even on a loaded machine.
    let app = TestApp::spawn_with(|s| s.limits.login_failures = rate("3/6")).await;
    app.register("alice").await;
    for path in ["/api/token/", "/api/auth/token/", "/api/token/"] {
        let (status, _, _) = exchange(login(&app, path, "alice", "wrong password")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Over the limit: refused before the password is checked, the right one included, and
    // whatever the letter case of the name.
    let (status, body, headers) =
        exchange(login(&app, "/api/auth/token/", "ALICE", PASSWORD)).await;
    let retry_after = assert_rate_limited(status, &body, &headers, 3);
    assert!(retry_after <= 2000, "one more every 2 s: {retry_after}");
    // Another username has its own bucket; an unknown one counts as a known one would.
    for _ in 0..3 {
        let (status, _, _) = exchange(login(&app, "/api/token/", "nobody", "guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, headers) = exchange(login(&app, "/api/token/", "nobody", "guess")).await;
    assert_rate_limited(status, &body, &headers, 3);

    tokio::time::sleep(Duration::from_millis(retry_after)).await;
    let (status, body, _) = exchange(login(&app, "/api/token/", "alice", PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the owner gets in once told to: {body}"
    );
    // A success forgives the failures before it: a fresh allowance of wrong passwords.
    for _ in 0..3 {
        let (status, _, _) = exchange(login(&app, "/api/token/", "alice", "wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn guessing_from_one_address_is_throttled_across_usernames() {
    let app = TestApp::spawn_with(|s| s.limits.login_attempts = rate("4/60")).await;
    app.register("alice").await;
    let (status, _, headers) = exchange(login(&app, "/api/token/", "alice", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-ratelimit-limit"), 4);
    assert_eq!(header(&headers, "x-ratelimit-remaining"), 3);
    assert!(headers.contains_key("x-ratelimit-reset"));
    for name in ["bob", "carol", "dave"] {
        let (status, _, _) = exchange(login(&app, "/api/auth/token/", name, "guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, headers) = exchange(login(&app, "/api/token/", "alice", PASSWORD)).await;
    assert_rate_limited(status, &body, &headers, 4);
}

#[tokio::test]
async fn registrations_from_one_address_are_throttled() {
    let app = TestApp::spawn_with(|s| s.limits.registrations = rate("2/4")).await;
    let register = |name: &str| {
        app.http
            .post(app.url("/api/register/"))
            .json(&json!({"username": name, "password": PASSWORD}))
    };
    let (status, _, headers) = exchange(register("first")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(header(&headers, "x-ratelimit-remaining"), 1);
    let (status, _, _) = exchange(register("second")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body, headers) = exchange(register("third")).await;
    let retry_after = assert_rate_limited(status, &body, &headers, 2);
    tokio::time::sleep(Duration::from_millis(retry_after)).await;
    let (status, body, _) = exchange(register("third")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn refreshes_of_one_account_are_throttled_whichever_way_they_come() {
    let app = TestApp::spawn_with(|s| s.limits.refreshes = rate("2/60")).await;
    app.register("alice").await;
    let (_, tokens, _) = exchange(login(&app, "/api/auth/token/", "alice", PASSWORD)).await;
    let refresh = tokens["refresh"].as_str().unwrap_or_default().to_owned();
    let (status, _, headers) = exchange(
        app.http
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": refresh})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-ratelimit-remaining"), 1);
    let (status, _, _) = exchange(
        app.http
            .post(app.url("/api/token/refresh/"))
            .json(&json!({"refresh": refresh})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, headers) = exchange(
        app.http
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": refresh})),
    )
    .await;
    assert_rate_limited(status, &body, &headers, 2);
}

/// Slow enough to refill that a loaded machine's delays between the steps refill nothing.
fn one_message_per_second_burst_3(settings: &mut Settings) {
    settings.ws_rate_per_sec = NonZeroU32::new(1).unwrap_or(NonZeroU32::MIN);
    settings.ws_rate_burst = NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN);
}

#[tokio::test]
async fn rest_posts_share_the_sockets_per_user_bucket() {
    let app = TestApp::spawn_with(one_message_per_second_burst_3).await;
    let (owner, token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let channel = app.channel(server, owner, "general").await.id;
    let post = |text: &str| {
        app.http
            .post(app.url(&format!("/api/channels/{}/messages/", channel.0)))
            .bearer_auth(&token)
            .json(&json!({"content": text}))
    };
    let mut socket = connect(
        app.port,
        &format!("/ws/servers/{}/channels/{}", server.0, channel.0),
        Auth::Bearer(token.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // Two over REST, one on the socket: the bucket of three is spent.
    for (i, expected_remaining) in [(0, 2), (1, 1)] {
        let (status, body, headers) = exchange(post(&format!("rest {i}"))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(header(&headers, "x-ratelimit-limit"), 3);
        assert_eq!(
            header(&headers, "x-ratelimit-remaining"),
            expected_remaining
        );
    }
    socket.say("socket 0").await;
    // Its own message (after the two REST ones) says it was counted.
    loop {
        let frame = socket
            .recv_type("chat.message", Duration::from_secs(5))
            .await;
        if frame["new_message"]["content"] == "socket 0" {
            break;
        }
    }
    let (status, body, headers) = exchange(post("one too many")).await;
    let retry_after = assert_rate_limited(status, &body, &headers, 3);
    // And the other way round: the socket is refused what REST spent.
    tokio::time::sleep(Duration::from_millis(retry_after)).await;
    let (status, _, _) = exchange(post("rest again")).await;
    assert_eq!(status, StatusCode::CREATED);
    socket.say("socket 1").await;
    let error = socket.recv_type("error", Duration::from_secs(5)).await;
    assert_eq!(error["code"], "rate_limited", "{error}");
}

async fn attempts_with_forwarded_for(app: &TestApp, forwarded_for: &str) -> StatusCode {
    let (status, _, _) = exchange(
        login(app, "/api/auth/token/", "nobody", "guess").header("x-forwarded-for", forwarded_for),
    )
    .await;
    status
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_for_is_honoured() {
    let app = TestApp::spawn_with(|s| {
        s.limits.login_attempts = rate("2/60");
        s.trusted_proxies = TrustedProxies::parse("127.0.0.1, ::1").unwrap_or_default();
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            attempts_with_forwarded_for(&app, "198.51.100.7").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempts_with_forwarded_for(&app, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy has a bucket of its own; a hop the client wrote
    // itself in front of it changes nothing.
    assert_eq!(
        attempts_with_forwarded_for(&app, "203.0.113.9").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempts_with_forwarded_for(&app, "1.2.3.4, 198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_for_is_ignored() {
    let app = TestApp::spawn_with(|s| {
        s.limits.login_attempts = rate("2/60");
        s.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").unwrap_or_default();
    })
    .await;
    // Each claims another address; all of them come from 127.0.0.1.
    let statuses = [
        attempts_with_forwarded_for(&app, "198.51.100.1").await,
        attempts_with_forwarded_for(&app, "198.51.100.2").await,
        attempts_with_forwarded_for(&app, "198.51.100.3").await,
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn the_defaults_let_a_person_through_and_hold_a_script() {
    // The harness raises every limit; these are the ones a deployment gets.
    let app = TestApp::spawn_with(|s| s.limits = Default::default()).await;
    app.register("alice").await;
    // A person who mistypes a few times, then gets it right.
    for _ in 0..3 {
        let (status, _, _) = exchange(login(&app, "/api/token/", "alice", "typo")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = exchange(login(&app, "/api/token/", "alice", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    // A script guessing on.
    let mut statuses = Vec::new();
    for i in 0..15 {
        let (status, _, _) =
            exchange(login(&app, "/api/token/", "alice", &format!("guess {i}"))).await;
        statuses.push(status);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 5]);
}
