//! Security checks as tests: cookie flags, CORS, injection-shaped input in every parameter of
//! the spec, one user acting on another's messages and servers, and the headers every response
//! carries. Tokens (expired, forged, other algorithms, deleted accounts) are in `tokens.rs`.

use hearth_domain::{ServerId, UserId};
use hearth_tests::ws::{connect, Auth};
use hearth_tests::{send, StatusCode, TestApp, PASSWORD};
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

// --- Cookies ---------------------------------------------------------------------------------

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

fn cookie<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

fn assert_flags(cookie: &str, secure: bool) {
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
}

/// Login, refresh and logout all set their cookies `HttpOnly; SameSite=Lax; Path=/`, and
/// `Secure` exactly when `HEARTH_COOKIE_SECURE` asks for it.
#[tokio::test]
async fn every_session_cookie_is_http_only_lax_root_and_secure_when_configured() {
    for secure in [true, false] {
        let app = TestApp::spawn_with(|s| s.cookie_secure = secure).await;
        app.register("alice").await;
        let login = app
            .http
            .post(app.url("/api/token/"))
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(login.status(), StatusCode::OK);
        let cookies = set_cookies(login.headers());
        for name in ["access_token", "refresh_token"] {
            assert_flags(cookie(&cookies, name), secure);
        }
        let refresh = cookie(&cookies, "refresh_token")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let refreshed = app
            .http
            .post(app.url("/api/token/refresh/"))
            .header("cookie", refresh)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refreshed.status(), StatusCode::OK);
        assert_flags(
            cookie(&set_cookies(refreshed.headers()), "access_token"),
            secure,
        );
        let logout = app
            .http
            .post(app.url("/api/logout/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cleared = set_cookies(logout.headers());
        for name in ["access_token", "refresh_token"] {
            let cookie = cookie(&cleared, name);
            assert_flags(cookie, secure);
            assert!(cookie.contains("Max-Age=0"), "{cookie}");
        }
    }
}

// --- CORS ------------------------------------------------------------------------------------

fn cors_headers(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    (
        get("access-control-allow-origin"),
        get("access-control-allow-credentials"),
    )
}

/// A foreign origin (and every look-alike of an allowed one) is never echoed, on a preflight
/// or on the request itself, and its preflight is refused; an allowed origin is echoed with
/// credentials, never as `*`.
#[tokio::test]
async fn cors_refuses_foreign_origins_and_echoes_only_configured_ones() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user_with_token("alice").await;
    let preflight = |origin: &str, method: &str, headers: &str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/me/"))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .send()
    };
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost:5173.evil.example",
        "http://localhost:51730",
        "https://localhost:5173",
        "http://127.0.0.1:5174",
    ] {
        let response = preflight(origin, "GET", "authorization")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!response.status().is_success(), "{origin} preflight");
        // (actix-cors may still say `Allow-Credentials`: without an allowed origin it grants
        // nothing.)
        assert_eq!(cors_headers(response.headers()).0, None, "{origin}");
        let response = app
            .http
            .get(app.url("/api/me/"))
            .header("origin", origin)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cors_headers(response.headers()).0, None, "{origin}");
    }

    let allowed = "http://127.0.0.1:5173";
    let response = preflight(allowed, "PATCH", "authorization, content-type")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.status().is_success());
    assert_eq!(
        cors_headers(response.headers()),
        (Some(allowed.to_owned()), Some("true".to_owned()))
    );
    let response = app
        .http
        .get(app.url("/api/me/"))
        .header("origin", allowed)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(
        cors_headers(headers),
        (Some(allowed.to_owned()), Some("true".to_owned()))
    );
    let vary = headers
        .get("vary")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(vary.to_ascii_lowercase().contains("origin"), "vary: {vary}");

    // Even an allowed origin may not preflight methods or headers the API does not use.
    for (method, request_headers) in [("TRACE", "content-type"), ("GET", "x-evil")] {
        let response = preflight(allowed, method, request_headers)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !response.status().is_success(),
            "{method} {request_headers}"
        );
    }
}

// --- Injection-shaped input in every parameter -----------------------------------------------

/// SQL- and path-traversal-shaped strings. `pg_sleep` would show as a slow answer.
const PAYLOADS: [&str; 16] = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1 OR 1=1",
    "1; SELECT pg_sleep(3)--",
    "%' AND '%'='",
    "' UNION SELECT password_hash FROM users--",
    "\\'; --",
    "$1",
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "..\\..\\..\\windows\\win.ini",
    "....//....//etc/passwd",
    "/etc/passwd",
    "%252e%252e%252f",
    "file:///etc/passwd",
];

/// What no answer may contain: database or file internals.
const LEAKS: [&str; 11] = [
    "syntax error",
    "SQLSTATE",
    "diesel",
    "postgres",
    "relation \"",
    "panicked",
    ".rs:",
    "root:x:0:0",
    "[extensions]",
    "argon2",
    "hearth_db",
];

/// Every character but the unreserved ones percent-encoded, so that a payload stays one path
/// segment.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A body every JSON operation accepts (so that one injected field is the only thing wrong);
/// `n` keeps names unique between requests.
fn baseline_body(method: &str, path: &str, n: usize) -> Option<Value> {
    let body = match (method, path) {
        ("post", "/api/register/") => json!({"username": format!("user{n}"), "password": PASSWORD}),
        ("post", "/api/token/" | "/api/auth/token/") => {
            json!({"username": "alice", "password": PASSWORD})
        }
        ("post", "/api/token/refresh/" | "/api/auth/refresh/") => json!({"refresh": "x"}),
        ("post", "/api/categories/") | ("patch", "/api/categories/{category_id}/") => {
            json!({"name": format!("category {n}"), "description": "about it"})
        }
        ("post", "/api/servers/") | ("patch", "/api/servers/{server_id}/") => {
            // By id: the category itself gets renamed by the test.
            json!({"name": format!("server {n}"), "description": "d", "category": 1})
        }
        ("post", "/api/servers/{server_id}/channels/")
        | ("patch", "/api/channels/{channel_id}/") => {
            json!({"name": format!("channel-{n}"), "topic": "t"})
        }
        ("post", "/api/channels/{channel_id}/messages/") => {
            json!({"content": "hello", "nonce": format!("nonce-{n}")})
        }
        ("patch", "/api/messages/{message_id}/") => json!({"content": "edited"}),
        ("post", "/api/dms/{conversation_id}/messages/") => {
            json!({"content": "hello", "nonce": format!("dm-nonce-{n}")})
        }
        ("post", "/api/dms/" | "/api/dms/{conversation_id}/participants/") => {
            json!({"user_id": 1})
        }
        // Never alice's password: the account must outlive the probes.
        ("delete", "/api/me/") => json!({"password": "not the password"}),
        ("post", "/api/channels/{channel_id}/ack/" | "/api/dms/{conversation_id}/ack/") => {
            json!({"seq": 1})
        }
        ("post", "/api/dms/groups/") => {
            json!({"name": format!("group {n}"), "user_ids": [1, 2, 3]})
        }
        _ => return None,
    };
    Some(body)
}

/// alice (staff) owns "Place" in "misc" with channel `general` and a message; bob is a member.
struct Fixture {
    app: TestApp,
    alice: String,
    alice_id: UserId,
    bob: String,
    bob_id: UserId,
    server: ServerId,
    channel: i64,
    message: i64,
    /// alice's 1:1 conversation with bob.
    conversation: i64,
}

async fn fixture() -> Fixture {
    fixture_with(TestApp::spawn().await).await
}

async fn fixture_with(app: TestApp) -> Fixture {
    app.category("misc").await;
    let (alice_id, alice) = app.staff_with_token("alice").await;
    let (status, server) = send(
        app.http
            .post(app.url("/api/servers/"))
            .bearer_auth(&alice)
            .json(&json!({"name": "Place", "category": "misc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{server}");
    let server_id = ServerId(server["id"].as_i64().unwrap_or_default());
    let channel = server["channel_server"][0]["id"]
        .as_i64()
        .unwrap_or_default();
    let (status, message) = send(
        app.http
            .post(app.url(&format!("/api/channels/{channel}/messages/")))
            .bearer_auth(&alice)
            .json(&json!({"content": "the original"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let (bob_id, bob) = app.user_with_token("bob").await;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", server_id.0)))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, conversation) = send(
        app.http
            .post(app.url("/api/dms/"))
            .bearer_auth(&alice)
            .json(&json!({"user_id": bob_id.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    Fixture {
        app,
        alice,
        alice_id,
        bob,
        bob_id,
        server: server_id,
        channel,
        message: message["id"].as_i64().unwrap_or_default(),
        conversation: conversation["id"].as_i64().unwrap_or_default(),
    }
}

impl Fixture {
    /// The fixture's own id for a path parameter.
    fn path_value(&self, name: &str) -> String {
        match name {
            "server_id" => self.server.0.to_string(),
            "channel_id" => self.channel.to_string(),
            "message_id" => self.message.to_string(),
            "category_id" => "1".to_owned(),
            "user_id" => self.bob_id.0.to_string(),
            "conversation_id" => self.conversation.to_string(),
            "name" => format!("{}.png", "ab".repeat(32)),
            // 👍, percent-encoded.
            "emoji" => "%F0%9F%91%8D".to_owned(),
            other => panic!("no fixture value for path parameter {other}"),
        }
    }

    fn path_with(
        &self,
        template: &str,
        names: &[String],
        injected: Option<(&str, &str)>,
    ) -> String {
        names.iter().fold(template.to_owned(), |path, name| {
            let value = match injected {
                Some((target, payload)) if target == name => encode_segment(payload),
                _ => self.path_value(name),
            };
            path.replace(&format!("{{{name}}}"), &value)
        })
    }
}

/// Sends one injected request and checks the answer: no 5xx, no leak, not slow, and when it
/// was accepted, the payload came back as data.
async fn probe(request: reqwest::RequestBuilder, what: &str, field: Option<&str>, payload: &str) {
    let started = Instant::now();
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{what} took {:?}",
        started.elapsed()
    );
    assert!(!status.is_server_error(), "{what}: {status} {text}");
    for leak in LEAKS {
        assert!(!text.contains(leak), "{what} leaks {leak:?}: {text}");
    }
    if status.is_client_error() {
        let body: Value = serde_json::from_str(&text).unwrap_or_default();
        assert!(body["code"].is_string(), "{what}: {status} {text}");
    }
    if let (true, Some(field)) = (status.is_success(), field) {
        let body: Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(echoed) = body[field].as_str() {
            let trimmed = payload.trim();
            assert!(
                echoed == payload || echoed == trimmed || echoed == trimmed.to_lowercase(),
                "{what}: stored {echoed:?}"
            );
        }
    }
}

/// Every parameter of every operation in the spec (path, query, JSON body field), one at a
/// time, gets every payload; the socket routes get them in their paths and query too.
#[tokio::test]
async fn injection_shaped_input_in_every_parameter_is_just_data() {
    let f = fixture().await;
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json"),
        )
        .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("the committed spec: {e}"));
    let mut n = 0;
    let mut probes = 0;
    for (template, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(http_method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
            else {
                continue;
            };
            let parameters: Vec<(String, String)> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((p["name"].as_str()?.to_owned(), p["in"].as_str()?.to_owned()))
                })
                .collect();
            let path_names: Vec<String> = parameters
                .iter()
                .filter(|(_, place)| place == "path")
                .map(|(name, _)| name.clone())
                .collect();
            let json_body = !operation["requestBody"]["content"]["application/json"].is_null();
            let fields: Vec<String> = if json_body {
                let body = baseline_body(method, template, 0).unwrap_or_else(|| {
                    panic!("{method} {template} takes JSON: give it a baseline body")
                });
                body.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let is_socket = operation["tags"][0] == "chat";
            for payload in PAYLOADS {
                // One injected place at a time: a path or query parameter, or a body field.
                let mut targets: Vec<(String, String)> = parameters.clone();
                targets.extend(fields.iter().map(|f| (f.clone(), "body".to_owned())));
                for (target, place) in targets {
                    n += 1;
                    let injected_path = (place == "path").then_some((target.as_str(), payload));
                    let path = f.path_with(template, &path_names, injected_path);
                    let what = format!("{method} {template} {place} {target} = {payload:?}");
                    if is_socket {
                        probe_socket(&f, &path, place == "query", payload, &what).await;
                        continue;
                    }
                    let mut request = f
                        .app
                        .http
                        .request(http_method.clone(), f.app.url(&path))
                        .bearer_auth(&f.alice);
                    if place == "query" {
                        request = request.query(&[(target.as_str(), payload)]);
                    }
                    if json_body {
                        let mut body = baseline_body(method, template, n).unwrap_or_default();
                        if place == "body" {
                            body[target.as_str()] = json!(payload);
                        }
                        request = request.json(&body);
                    }
                    let field = (place == "body").then_some(target.as_str());
                    probe(request, &what, field, payload).await;
                    probes += 1;
                }
            }
        }
    }
    assert!(probes > 500, "only {probes} probes: is the spec read?");
    assert_intact(&f).await;
}

async fn probe_socket(f: &Fixture, path: &str, in_query: bool, payload: &str, what: &str) {
    let path = if in_query {
        format!("{path}?after={}", encode_segment(payload))
    } else {
        path.to_owned()
    };
    match connect(f.app.port, &path, Auth::Bearer(f.alice.clone())).await {
        // Upgraded only to be told that no such server or channel exists.
        Ok(mut socket) => {
            let code = socket.recv_close(WAIT).await;
            assert_eq!(code, Some(4004), "{what}");
        }
        Err(e) => {
            let refused = match *e {
                tokio_tungstenite::tungstenite::Error::Http(ref response) => {
                    response.status().is_client_error()
                }
                _ => false,
            };
            assert!(refused, "{what}: {e}");
        }
    }
}

/// The fixture survived: tables, rows, credentials and membership.
async fn assert_intact(f: &Fixture) {
    let client = f.app.sql_client().await;
    for table in [
        "users",
        "categories",
        "servers",
        "channels",
        "server_members",
        "messages",
    ] {
        let rows = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        assert!(rows.get::<_, i64>(0) > 0, "{table} is empty");
    }
    let (status, _) = send(
        f.app
            .http
            .post(f.app.url("/api/auth/token/"))
            .json(&json!({"username": "alice", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "alice can still log in");
    let (status, members) = send(
        f.app
            .http
            .get(f.app.url(&format!("/api/servers/{}/members/", f.server.0)))
            .bearer_auth(&f.alice),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = members
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["user_id"].as_i64())
        .collect();
    assert!(
        ids.contains(&f.alice_id.0) && ids.contains(&f.bob_id.0),
        "{members}"
    );
}

fn png(side: u32) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::RgbaImage::from_pixel(side, side, image::Rgba([200, 30, 30, 255]))
        .write_to(&mut bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("cannot encode a PNG: {e}"));
    bytes.into_inner()
}

/// Upload file names are never used: the file is stored and served under its content hash,
/// whatever the name says, and nothing lands outside the media folder.
#[tokio::test]
async fn upload_file_names_are_ignored_whatever_they_say() {
    // The media folder inside a folder of its own, so that anything written beside it shows.
    let jail = std::env::temp_dir().join(format!("hearth-jail-{}", uuid::Uuid::new_v4().simple()));
    let media = jail.join("media");
    let media_dir = media.clone();
    let f = fixture_with(TestApp::spawn_with(move |s| s.media_dir = media_dir).await).await;
    let escapes = [
        std::env::temp_dir().join("escape.png"),
        std::path::PathBuf::from("/tmp/abs.png"),
    ];
    let existed: Vec<bool> = escapes.iter().map(|p| p.exists()).collect();
    let names = PAYLOADS
        .iter()
        .map(|p| format!("{p}.png"))
        .chain(["../../escape.png".to_owned(), "/tmp/abs.png".to_owned()]);
    for (i, name) in names.enumerate() {
        // A different image each time, so that each upload really writes a file.
        let part = Part::bytes(png(8 + u32::try_from(i).unwrap_or(0)))
            .file_name(name.clone())
            .mime_str("image/png")
            .unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let (status, body) = send(
            f.app
                .http
                .put(f.app.url(&format!("/api/servers/{}/icon/", f.server.0)))
                .bearer_auth(&f.alice)
                .multipart(Form::new().part("file", part)),
        )
        .await;
        assert!(started.elapsed() < Duration::from_millis(2500), "{name:?}");
        assert_eq!(status, StatusCode::OK, "{name:?}: {body}");
        let icon = body["icon"].as_str().unwrap_or_default();
        let stored = icon.strip_prefix("/media/").unwrap_or_default();
        assert!(
            stored.len() == 68
                && stored.ends_with(".png")
                && stored[..64].bytes().all(|b| b.is_ascii_hexdigit()),
            "{name:?} stored as {icon}"
        );
        let response = f
            .app
            .http
            .get(f.app.url(icon))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK);
    }
    let beside: Vec<_> = std::fs::read_dir(&jail)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(beside, ["media"], "files appeared next to the media folder");
    for (path, existed) in escapes.iter().zip(existed) {
        assert!(existed || !path.exists(), "{} was written", path.display());
    }
    for entry in std::fs::read_dir(&f.app.media_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.len() == 68 && name.ends_with(".png"),
            "unexpected file in the media folder: {name}"
        );
    }
    // The field name is not a path either.
    let (status, body) = send(
        f.app
            .http
            .put(f.app.url(&format!("/api/servers/{}/icon/", f.server.0)))
            .bearer_auth(&f.alice)
            .multipart(Form::new().part("../file", Part::bytes(png(8)).file_name("icon.png"))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        (body["code"] == "validation_failed" && body["fields"]["file"].is_array())
            || body["code"] == "invalid_multipart",
        "{body}"
    );
    drop(f);
    let _ = std::fs::remove_dir_all(&jail);
}

// --- One user acting on another's messages and servers ----------------------------------------

/// bob (a member) and carol (a stranger) try everything that only alice (the author of a
/// message, the owner of the server) or staff may do: every attempt is refused and nothing
/// changes.
#[tokio::test]
async fn nobody_acts_on_another_users_messages_or_servers() {
    let f = fixture().await;
    let bob = f.bob.clone();
    let (_, carol) = f.app.user_with_token("carol").await;
    // bob's own message, which alice (the owner) may delete but not edit.
    let (status, bobs) = send(
        f.app
            .http
            .post(f.app.url(&format!("/api/channels/{}/messages/", f.channel)))
            .bearer_auth(&bob)
            .json(&json!({"content": "bob's words"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let bobs = bobs["id"].as_i64().unwrap_or_default();
    let icon = || Form::new().part("file", Part::bytes(png(8)).file_name("i.png"));
    let server = f.server.0;
    let channel = f.channel;
    let message = f.message;
    let alice = f.alice_id.0;
    let bob_id = f.bob_id.0;

    for (who, token) in [("bob", &bob), ("carol", &carol)] {
        let http = &f.app.http;
        let url = |path: &str| f.app.url(path);
        let attempts = [
            http.patch(url(&format!("/api/messages/{message}/")))
                .json(&json!({"content": "hijacked"})),
            http.delete(url(&format!("/api/messages/{message}/"))),
            http.patch(url(&format!("/api/servers/{server}/")))
                .json(&json!({"name": "Hijacked"})),
            http.delete(url(&format!("/api/servers/{server}/"))),
            http.put(url(&format!("/api/servers/{server}/icon/")))
                .multipart(icon()),
            http.put(url(&format!("/api/servers/{server}/banner/")))
                .multipart(icon()),
            http.post(url(&format!("/api/servers/{server}/channels/")))
                .json(&json!({"name": "intruder"})),
            http.patch(url(&format!("/api/channels/{channel}/")))
                .json(&json!({"topic": "hijacked"})),
            http.delete(url(&format!("/api/channels/{channel}/"))),
            http.delete(url(&format!("/api/servers/{server}/members/{alice}/"))),
            http.delete(url(&format!("/api/servers/{server}/members/{bob_id}/"))),
            http.post(url("/api/categories/"))
                .json(&json!({"name": "mine"})),
            http.patch(url("/api/categories/1/"))
                .json(&json!({"name": "mine"})),
            http.delete(url("/api/categories/1/")),
            http.put(url("/api/categories/1/icon/")).multipart(icon()),
        ];
        for attempt in attempts {
            let request = attempt
                .bearer_auth(token)
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            let what = format!("{who}: {} {}", request.method(), request.url().path());
            let response = http
                .execute(request)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let status = response.status();
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
                "{what}: {status}"
            );
        }
    }
    // The server owner cannot rewrite a member's words either.
    let (status, body) = send(
        f.app
            .http
            .patch(f.app.url(&format!("/api/messages/{bobs}/")))
            .bearer_auth(&f.alice)
            .json(&json!({"content": "put in his mouth"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Nothing changed.
    let (_, place) = send(
        f.app
            .http
            .get(f.app.url(&format!("/api/servers/{server}/"))),
    )
    .await;
    assert_eq!(place["name"], "Place");
    assert_eq!(place["icon"], Value::Null);
    assert_eq!(place["banner"], Value::Null);
    let channels: Vec<&str> = place["channel_server"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(channels, ["general"]);
    assert_eq!(place["channel_server"][0]["topic"], "");
    let (_, history) = send(
        f.app
            .http
            .get(f.app.url(&format!("/api/messages/?channel_id={channel}"))),
    )
    .await;
    let contents: Vec<&str> = history
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, ["the original", "bob's words"]);
    let (_, categories) = send(f.app.http.get(f.app.url("/api/server/category/"))).await;
    assert_eq!(categories.as_array().map(Vec::len), Some(1), "{categories}");
    assert_intact(&f).await;
}

// --- Response headers ------------------------------------------------------------------------

fn assert_safe_headers(headers: &HeaderMap, what: &str) {
    assert!(
        headers.get("server").is_none(),
        "{what}: Server header {:?}",
        headers.get("server")
    );
    assert_eq!(
        headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "{what}"
    );
}

/// No `Server` header and `X-Content-Type-Options: nosniff` on every kind of answer: JSON,
/// errors of every status, files, pages, redirects and socket upgrades.
#[tokio::test]
async fn every_kind_of_response_has_nosniff_and_no_server_header() {
    let f = fixture().await;
    let http = &f.app.http;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, icon) = send(
        http.put(f.app.url(&format!("/api/servers/{}/icon/", f.server.0)))
            .bearer_auth(&f.alice)
            .multipart(Form::new().part("file", Part::bytes(png(8)).file_name("i.png"))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let icon = icon["icon"].as_str().unwrap_or_default().to_owned();
    let etag = http
        .get(f.app.url(&icon))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let requests = [
        ("200 JSON", http.get(f.app.url("/api/server/select/"))),
        ("200 spec", http.get(f.app.url("/api/docs/schema/"))),
        (
            "200 Swagger UI",
            http.get(f.app.url("/api/docs/schema/ui/")),
        ),
        (
            "200 Swagger asset",
            http.get(f.app.url("/api/docs/schema/ui/swagger-ui.css")),
        ),
        ("200 image", http.get(f.app.url(&icon))),
        (
            "304 image",
            http.get(f.app.url(&icon)).header("if-none-match", etag),
        ),
        (
            "201",
            http.post(f.app.url(&format!("/api/channels/{}/messages/", f.channel)))
                .bearer_auth(&f.alice)
                .json(&json!({"content": "hi"})),
        ),
        (
            "204",
            http.delete(f.app.url(&format!("/api/messages/{}/", f.message)))
                .bearer_auth(&f.alice),
        ),
        ("307", no_redirects.get(f.app.url("/api/docs/"))),
        (
            "400",
            http.post(f.app.url("/api/register/"))
                .header("content-type", "application/json")
                .body("{"),
        ),
        ("401", http.get(f.app.url("/api/me/"))),
        (
            "403",
            http.post(f.app.url(&format!("/api/servers/{}/channels/", f.server.0)))
                .bearer_auth(&f.bob)
                .json(&json!({"name": "x"})),
        ),
        ("404", http.get(f.app.url("/nope"))),
        ("405", http.delete(f.app.url("/healthz"))),
        (
            "413",
            http.post(f.app.url("/api/register/"))
                .json(&json!({"username": "x".repeat(100_000), "password": PASSWORD})),
        ),
        ("415", http.post(f.app.url("/api/register/")).body("x")),
        (
            "400 plain GET on a socket",
            http.get(f.app.url(&format!(
                "/ws/servers/{}/channels/{}",
                f.server.0, f.channel
            ))),
        ),
    ];
    for (what, request) in requests {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let expected: String = what.chars().take(3).collect();
        assert_eq!(response.status().as_str(), expected, "{what}");
        assert_safe_headers(response.headers(), what);
    }

    // The socket upgrade itself, and a refused cross-site handshake.
    let path = format!("/ws/servers/{}/channels/{}", f.server.0, f.channel);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://127.0.0.1:{}{path}",
            f.app.port
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let bearer = format!("Bearer {}", f.alice)
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    request.headers_mut().insert("authorization", bearer);
    let (_socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.headers().get("server").is_none(), "101");
    assert_eq!(
        response
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "101"
    );
    let refused = connect(
        f.app.port,
        &path,
        Auth::CookieFrom {
            token: f.alice.clone(),
            origin: "https://evil.example".to_owned(),
        },
    )
    .await;
    match refused {
        Err(e) => match *e {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), StatusCode::FORBIDDEN);
                assert!(response.headers().get("server").is_none(), "403 handshake");
            }
            other => panic!("{other}"),
        },
        Ok(_) => panic!("a cross-site cookie handshake was upgraded"),
    }
}

/// Swagger UI's pages carry a Content Security Policy that allows only the server's own
/// scripts, no plugins and no framing (the SPA's pages: `spa.rs`).
#[tokio::test]
async fn swagger_ui_pages_carry_a_content_security_policy() {
    let app = TestApp::spawn().await;
    for path in ["/api/docs/schema/ui/", "/api/docs/schema/ui/index.html"] {
        let response = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no Content-Security-Policy"))
            .to_owned();
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with(name))
                .unwrap_or_else(|| panic!("{path}: no {name} in {csp}"))
                .to_owned()
        };
        assert_eq!(directive("default-src"), "default-src 'self'", "{path}");
        assert_eq!(directive("script-src"), "script-src 'self'", "{path}");
        assert_eq!(directive("object-src"), "object-src 'none'", "{path}");
        assert_eq!(
            directive("frame-ancestors"),
            "frame-ancestors 'none'",
            "{path}"
        );
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        let html = response.text().await.unwrap_or_default();
        assert!(
            !html.contains("<script>"),
            "{path} has an inline script its policy would block"
        );
    }
}
