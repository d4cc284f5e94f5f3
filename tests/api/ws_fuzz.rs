//! WebSocket fuzzing: random and hostile frames on a real socket, some of them written as raw
//! bytes after a hand-made handshake. Whatever one socket sends, the server answers with
//! `error` frames or a documented close code (docs/websocket.md), stays up, and the other
//! sockets on the channel keep receiving.
//!
//! Random choices come from a seeded RNG: set `HEARTH_WS_FUZZ_SEED` to replay a failure (the
//! seed is printed when a test fails).

use hearth_domain::{ChannelId, ServerId};
use hearth_tests::ws::{connect, Auth, WsClient};
use hearth_tests::{send, StatusCode, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);
/// The server's frame limit.
const MAX_FRAME: usize = 64 * 1024;

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Error codes a socket may answer a refused frame with (docs/websocket.md); `internal_error`
/// and `unavailable` would be the server's fault, so they are not on the list.
const CLIENT_ERRORS: [&str; 5] = [
    "invalid_frame",
    "invalid_message",
    "not_member",
    "rate_limited",
    "unsupported_frame",
];

fn seed() -> u64 {
    std::env::var("HEARTH_WS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x4865_6172_7468)
}

fn rng(test: &str) -> StdRng {
    let seed = seed();
    eprintln!("ws_fuzz {test}: HEARTH_WS_FUZZ_SEED={seed}");
    // One stream per test, so that tests do not depend on each other's draws.
    let salt = test
        .bytes()
        .fold(0_u64, |acc, b| acc.rotate_left(5) ^ u64::from(b));
    StdRng::seed_from_u64(seed ^ salt)
}

/// owner owns a server with a channel and watches it on a socket; mallory, a member, is the
/// attacker.
struct Stage {
    app: TestApp,
    owner: String,
    mallory: String,
    server: ServerId,
    channel: ChannelId,
    observer: WsClient,
    said: usize,
}

async fn stage_with(tweak: impl FnOnce(&mut hearth_api::config::Settings)) -> Stage {
    let app = TestApp::spawn_with(tweak).await;
    let (owner_id, owner) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner_id, category, "Place").await;
    let channel = app.channel(server, owner_id, "general").await.id;
    let (_, mallory) = app.user_with_token("mallory").await;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", server.0)))
            .bearer_auth(&mallory),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/ws/servers/{}/channels/{}", server.0, channel.0);
    let mut observer = connect(app.port, &path, Auth::Bearer(owner.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    observer.recv_type("presence.list", WAIT).await;
    Stage {
        app,
        owner,
        mallory,
        server,
        channel,
        observer,
        said: 0,
    }
}

/// Chat limits high enough that rate limiting never hides how a frame itself is answered.
fn unlimited(settings: &mut hearth_api::config::Settings) {
    settings.ws_rate_per_sec = NonZeroU32::new(100_000).unwrap_or(NonZeroU32::MIN);
    settings.ws_rate_burst = NonZeroU32::new(100_000).unwrap_or(NonZeroU32::MIN);
}

impl Stage {
    fn path(&self) -> String {
        format!("/ws/servers/{}/channels/{}", self.server.0, self.channel.0)
    }

    /// The server is up and the observer still hears the channel: the owner posts over REST
    /// and the message reaches the observer's socket.
    async fn assert_alive(&mut self, after: &str) {
        self.said += 1;
        // Only the number: `after` may hold anything a fuzzer sent.
        let content = format!("still here #{}", self.said);
        let (status, body) = send(
            self.app
                .http
                .post(
                    self.app
                        .url(&format!("/api/channels/{}/messages/", self.channel.0)),
                )
                .bearer_auth(&self.owner)
                .json(&json!({ "content": content })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{after}: {body}");
        loop {
            let event = self.observer.recv_type("chat.message", WAIT).await;
            let got = event["new_message"]["content"].as_str().unwrap_or_default();
            if got == content {
                break;
            }
            assert!(
                got.starts_with("still here") || event["new_message"]["sender"] == "mallory",
                "{after}: the observer got {event}"
            );
        }
        let (status, _) = send(self.app.http.get(self.app.url("/healthz"))).await;
        assert_eq!(status, StatusCode::OK, "{after}");
    }

    async fn raw(&self, rng: &mut StdRng) -> RawSocket {
        RawSocket::open(self.app.port, &self.path(), &self.mallory, rng).await
    }
}

// --- A raw WebSocket client -------------------------------------------------------------------

/// What came next on a raw socket.
#[derive(Debug)]
enum Raw {
    Frame { opcode: u8, payload: Vec<u8> },
    Eof,
    Timeout,
}

/// A WebSocket written by hand: any frame, valid or not.
struct RawSocket {
    stream: TcpStream,
    buffer: Vec<u8>,
    mask_seed: u64,
}

/// One frame: `fin`, the three reserved bits, the opcode, masked or not.
fn frame(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | ((rsv & 0b111) << 4) | (opcode & 0x0f)];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match u8::try_from(payload.len()) {
        Ok(short) if short < 126 => out.push(mask_bit | short),
        _ => match u16::try_from(payload.len()) {
            Ok(medium) => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&medium.to_be_bytes());
            }
            Err(_) => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
            }
        },
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A hand-written upgrade request as `token`'s user.
fn handshake(port: u16, path: &str, token: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
}

impl RawSocket {
    /// Connects and upgrades with a hand-written handshake as `token`'s user.
    async fn open(port: u16, path: &str, token: &str, rng: &mut StdRng) -> RawSocket {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        stream
            .write_all(handshake(port, path, token).as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut socket = RawSocket {
            stream,
            buffer: Vec::new(),
            mask_seed: rng.gen(),
        };
        let head = socket.read_head().await;
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        // The first frame is always the presence list.
        match socket.next(WAIT).await {
            Raw::Frame {
                opcode: TEXT,
                payload,
            } => {
                let event: Value = serde_json::from_slice(&payload).unwrap_or_default();
                assert_eq!(event["type"], "presence.list", "{event}");
            }
            other => panic!("no presence.list: {other:?}"),
        }
        socket
    }

    async fn read_head(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                self.buffer.drain(..end + 4);
                return head;
            }
            let mut chunk = [0_u8; 4096];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await;
            match read {
                Ok(Ok(n)) if n > 0 => self.buffer.extend_from_slice(&chunk[..n]),
                other => panic!("no response head: {other:?}"),
            }
        }
    }

    fn mask(&mut self) -> [u8; 4] {
        self.mask_seed = self
            .mask_seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.mask_seed >> 16).to_le_bytes()[..4]
            .try_into()
            .unwrap_or([1, 2, 3, 4])
    }

    /// Writes bytes; a server that already closed may refuse them, which is fine.
    async fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// A well-formed client frame (masked, final).
    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        let mask = self.mask();
        self.write(&frame(true, 0, opcode, Some(mask), payload))
            .await;
    }

    /// A fragment of a message: `fin` marks the last one.
    async fn send_fragment(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        let mask = self.mask();
        self.write(&frame(fin, 0, opcode, Some(mask), payload))
            .await;
    }

    async fn next(&mut self, timeout: Duration) -> Raw {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some((opcode, payload, used)) = parse_server_frame(&self.buffer) {
                self.buffer.drain(..used);
                return Raw::Frame { opcode, payload };
            }
            let mut chunk = [0_u8; 16384];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Raw::Timeout,
                Ok(Ok(0) | Err(_)) => return Raw::Eof,
                Ok(Ok(n)) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next JSON text frame, skipping control frames.
    async fn next_json(&mut self, timeout: Duration) -> Result<Value, Raw> {
        loop {
            match self.next(timeout).await {
                Raw::Frame {
                    opcode: TEXT,
                    payload,
                } => {
                    return Ok(serde_json::from_slice(&payload)
                        .unwrap_or_else(|e| panic!("non-JSON text frame: {e}")))
                }
                Raw::Frame {
                    opcode: PING | PONG,
                    ..
                } => continue,
                other => return Err(other),
            }
        }
    }

    /// The close code the server sent, skipping whatever came before it.
    async fn close_code(&mut self, timeout: Duration) -> Option<u16> {
        loop {
            match self.next(timeout).await {
                Raw::Frame {
                    opcode: CLOSE,
                    payload,
                } => {
                    return payload
                        .get(..2)
                        .map(|code| u16::from_be_bytes([code[0], code[1]]))
                }
                Raw::Frame { .. } => continue,
                Raw::Eof => return None,
                Raw::Timeout => panic!("the server did not close the socket in time"),
            }
        }
    }
}

/// `(opcode, payload, bytes used)` of the first complete server frame in `buffer`.
fn parse_server_frame(buffer: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (&first, &second) = (buffer.first()?, buffer.get(1)?);
    assert_eq!(second & 0x80, 0, "the server masked a frame");
    let (length, offset) = match second & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buffer.get(2)?, *buffer.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buffer.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        short => (usize::from(short), 2),
    };
    let payload = buffer.get(offset..offset + length)?.to_vec();
    Some((first & 0x0f, payload, offset + length))
}

// --- Random frames ----------------------------------------------------------------------------

fn random_string(rng: &mut StdRng, max: usize) -> String {
    let len = rng.gen_range(0..=max);
    (0..len)
        .map(|_| match rng.gen_range(0..6) {
            0 => char::from(rng.gen_range(0_u8..0x20)),
            1 => ['"', '\\', '{', '}', '[', ']', ':', ','][rng.gen_range(0..8)],
            2 => char::from_u32(rng.gen_range(0x80..0xD7FF)).unwrap_or('?'),
            3 => char::from_u32(rng.gen_range(0x1_0000..0x10_FFFF)).unwrap_or('?'),
            _ => char::from(rng.gen_range(0x20_u8..0x7f)),
        })
        .collect()
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    let kinds = if depth == 0 { 4 } else { 7 };
    match rng.gen_range(0..kinds) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => match rng.gen_range(0..3) {
            0 => json!(rng.gen::<i64>()),
            1 => json!(rng.gen::<f64>() * 1e300),
            _ => json!(rng.gen::<u64>()),
        },
        3 => json!(random_string(rng, 40)),
        4 => Value::Array(
            (0..rng.gen_range(0..5))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        5 => Value::Object(
            (0..rng.gen_range(0..5))
                .map(|_| (random_string(rng, 8), random_json(rng, depth - 1)))
                .collect(),
        ),
        _ => {
            const TYPES: [&str; 12] = [
                "message",
                "typing",
                "ping",
                "pong",
                "chat.message",
                "error",
                "presence.join",
                "server.deleted",
                "",
                "MESSAGE",
                "message ",
                "ping\u{0}",
            ];
            let mut frame = json!({"type": TYPES[rng.gen_range(0..TYPES.len())]});
            for field in ["message", "nonce", "new_message", "code"] {
                if rng.gen_bool(0.5) {
                    frame[field] = random_json(rng, depth - 1);
                }
            }
            frame
        }
    }
}

/// A hostile text frame: random JSON, random text, or one of the classics.
fn hostile_text(rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0..=4 => random_json(rng, 4).to_string(),
        5 | 6 => random_string(rng, 200),
        7 => {
            let depth = rng.gen_range(1_000..10_000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        }
        8 => {
            // A valid frame with one byte changed.
            let mut bytes = json!({"type": "ping"}).to_string().into_bytes();
            let at = rng.gen_range(0..bytes.len());
            bytes[at] = rng.gen_range(0x20..0x7f);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => json!({"type": "message", "message": random_json(rng, 2)}).to_string(),
    }
}

/// Sends `{"type":"ping"}` and reads up to its pong: everything before it must be an event or
/// an `error` frame with a client error code. Returns the error codes seen.
async fn ping_barrier(socket: &mut WsClient, what: &str) -> Vec<String> {
    socket.send_json(&json!({"type": "ping"})).await;
    let mut codes = Vec::new();
    loop {
        match socket.next(WAIT).await {
            hearth_tests::ws::Next::Event(event) if event["type"] == "pong" => return codes,
            hearth_tests::ws::Next::Event(event) if event["type"] == "error" => {
                let code = event["code"].as_str().unwrap_or_default().to_owned();
                assert!(CLIENT_ERRORS.contains(&code.as_str()), "{what}: {event}");
                assert!(event["error"].is_string(), "{what}: {event}");
                codes.push(code);
            }
            hearth_tests::ws::Next::Event(_) => {}
            other => panic!("{what}: the socket went away: {other:?}"),
        }
    }
}

/// Writes `bytes` from one task while reading the answers in another (a flooding client that
/// does not read would only measure its own buffers); returns the close code.
async fn flood(socket: RawSocket, bytes: Vec<u8>) -> Option<u16> {
    let RawSocket {
        stream, mut buffer, ..
    } = socket;
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // The server may close the socket halfway through: that is the point.
        let _ = writer.write_all(&bytes).await;
        writer
    });
    let code = loop {
        if let Some((opcode, payload, used)) = parse_server_frame(&buffer) {
            buffer.drain(..used);
            if opcode == CLOSE {
                break payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            }
            continue;
        }
        let mut chunk = [0_u8; 16384];
        match tokio::time::timeout(WAIT, reader.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => break None,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the flood was not stopped in time"),
        }
    };
    drop(writing.await);
    code
}

// --- Tests ------------------------------------------------------------------------------------

/// Random JSON, random text, 10,000-level nesting, wrong field types, unknown and server-only
/// types: each gets an `error` frame (or is a valid frame), in order, and the socket stays up.
#[tokio::test]
async fn random_and_hostile_text_frames_get_error_frames_and_the_socket_stays_up() {
    let mut rng = rng("random_text");
    let mut stage = stage_with(unlimited).await;
    let mut mallory = connect(
        stage.app.port,
        &stage.path(),
        Auth::Bearer(stage.mallory.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    mallory.recv_type("presence.list", WAIT).await;

    let spoof = json!({"type": "chat.message", "new_message": {
        "id": 1, "channel_id": stage.channel.0, "sender": "owner", "sender_id": 1,
        "content": "SPOOFED", "timestamp": "2024-01-01T00:00:00Z", "seq": 1}});
    let nested = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let fixed = [
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        nested(10_000),
        format!(
            "{{\"type\":\"message\",\"message\":{}\"x\"{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
        spoof.to_string(),
        json!({"type": "presence.join", "channel_id": stage.channel.0, "user": {"id": 1, "username": "owner"}}).to_string(),
        json!({"type": "message", "message": 5}).to_string(),
        json!({"type": "message", "message": null}).to_string(),
        json!({"type": "message", "message": ["a"]}).to_string(),
        json!({"type": "message", "message": "ok", "nonce": 7}).to_string(),
        json!({"type": "message", "message": "ok", "nonce": "x".repeat(65)}).to_string(),
        json!({"type": "message", "message": "nul\u{0}"}).to_string(),
        json!({"type": "message", "message": "   "}).to_string(),
        json!({"type": "message", "message": "m".repeat(2001)}).to_string(),
        json!({"type": 5}).to_string(),
        json!({"type": null}).to_string(),
        json!({"type": ["ping"]}).to_string(),
        json!({}).to_string(),
        "\u{feff}{\"type\":\"ping\"}".to_owned(),
        "{\"type\":\"ping\",\"type\":\"message\"}".to_owned(),
        "1e999999".to_owned(),
        "-".repeat(MAX_FRAME - 10),
        String::new(),
        "null".to_owned(),
    ];
    for (i, text) in fixed.iter().enumerate() {
        mallory.send(Message::Text(text.clone())).await;
        let what = format!(
            "fixed frame #{i}: {}",
            text.chars().take(60).collect::<String>()
        );
        ping_barrier(&mut mallory, &what).await;
    }
    stage.assert_alive("the fixed hostile frames").await;

    for round in 0..300 {
        let text = hostile_text(&mut rng);
        let what = format!(
            "random frame #{round}: {}",
            text.chars().take(80).collect::<String>()
        );
        mallory.send(Message::Text(text)).await;
        ping_barrier(&mut mallory, &what).await;
        if round % 50 == 49 {
            stage.assert_alive(&what).await;
        }
    }
    // The spoofed message was neither relayed (assert_alive checks every message the observer
    // hears) nor stored.
    let (_, history) = send(
        stage.app.http.get(
            stage
                .app
                .url(&format!("/api/messages/?channel_id={}", stage.channel.0)),
        ),
    )
    .await;
    assert!(
        !history.to_string().contains("SPOOFED"),
        "a spoofed event was stored"
    );
}

/// The personal socket under the same treatment, plus hostile subscriptions: each frame gets
/// an `error` frame or a valid answer, in order, the socket stays up, and nothing it sends
/// leaks into the channel.
#[tokio::test]
async fn hostile_frames_on_the_personal_socket_get_answers_and_the_socket_stays_up() {
    let mut rng = rng("personal");
    let mut stage = stage_with(unlimited).await;
    let mut mallory = connect(
        stage.app.port,
        "/ws/me",
        Auth::Bearer(stage.mallory.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    mallory.recv_type("ready", WAIT).await;
    let channel = stage.channel.0;
    let many: Vec<Value> = (1..=201).map(|id| json!({"id": id})).collect();
    let fixed = [
        json!({"type": "subscribe", "channels": many}).to_string(),
        json!({"type": "subscribe", "channels": [{"id": -1}, {"id": i64::MAX}, {"id": 0}]})
            .to_string(),
        json!({"type": "subscribe", "channels": [{"id": channel, "after": -5}]}).to_string(),
        json!({"type": "subscribe", "channels": [{"id": channel, "after": i64::MAX}]}).to_string(),
        json!({"type": "subscribe", "channels": [{"id": channel, "after": "x"}]}).to_string(),
        json!({"type": "subscribe", "channels": [{"id": 1.5}]}).to_string(),
        json!({"type": "subscribe", "channels": null}).to_string(),
        json!({"type": "subscribe"}).to_string(),
        json!({"type": "unsubscribe", "channels": [channel, channel, -1]}).to_string(),
        json!({"type": "unsubscribe", "channels": "all"}).to_string(),
        json!({"type": "typing", "channel_id": 987_654}).to_string(),
        json!({"type": "typing"}).to_string(),
        json!({"type": "message", "message": "hi"}).to_string(),
        json!({"type": "chat.message", "new_message": {"content": "SPOOFED"}}).to_string(),
        format!(
            "{{\"type\":\"subscribe\",\"channels\":{}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
        "-".repeat(MAX_FRAME - 10),
        String::new(),
    ];
    for (i, text) in fixed.iter().enumerate() {
        mallory.send(Message::Text(text.clone())).await;
        let what = format!(
            "fixed frame #{i}: {}",
            text.chars().take(60).collect::<String>()
        );
        ping_barrier(&mut mallory, &what).await;
    }
    stage.assert_alive("the fixed hostile frames").await;
    for round in 0..300 {
        let text = hostile_text(&mut rng);
        let what = format!(
            "random frame #{round}: {}",
            text.chars().take(80).collect::<String>()
        );
        mallory.send(Message::Text(text)).await;
        ping_barrier(&mut mallory, &what).await;
        if round % 100 == 99 {
            stage.assert_alive(&what).await;
        }
    }
    // Random frames that were valid pings ended their barriers early, so answers may still be
    // on the way: read until the socket is quiet, then check one frame exactly.
    while let hearth_tests::ws::Next::Event(_) = mallory.next(Duration::from_millis(300)).await {}
    mallory.send(Message::Binary(vec![0, 1, 2])).await;
    let codes = ping_barrier(&mut mallory, "a binary frame").await;
    assert_eq!(codes, ["unsupported_frame"]);
}

/// A text frame that is not UTF-8 closes with 1007, whether in one frame or split over
/// fragments; UTF-8 split in the middle of a character is fine.
#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let mut rng = rng("utf8");
    let mut stage = stage_with(unlimited).await;
    for bytes in [
        vec![0xff, 0xfe, 0xfd],
        b"{\"type\":\"ping\"}\xc3".to_vec(),
        vec![0xed, 0xa0, 0x80], // an encoded surrogate
        vec![0xc0, 0xaf],       // an overlong '/'
    ] {
        let mut socket = stage.raw(&mut rng).await;
        socket.send(TEXT, &bytes).await;
        assert_eq!(socket.close_code(WAIT).await, Some(1007), "{bytes:?}");
    }
    // "é" split across two fragments is one valid message.
    let mut socket = stage.raw(&mut rng).await;
    let ping = "{\"type\":\"ping\",\"x\":\"é\"}".as_bytes();
    let split = ping.iter().position(|b| *b == 0xc3).unwrap_or(0) + 1;
    socket.send_fragment(false, TEXT, &ping[..split]).await;
    socket
        .send_fragment(true, CONTINUATION, &ping[split..])
        .await;
    let answer = socket
        .next_json(WAIT)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(answer["type"], "pong");
    // Fragments that assemble to broken UTF-8 close it.
    socket
        .send_fragment(false, TEXT, b"{\"type\":\"ping\",\"x\":\"")
        .await;
    socket
        .send_fragment(true, CONTINUATION, &[0xc3, b'"', b'}'])
        .await;
    assert_eq!(socket.close_code(WAIT).await, Some(1007));
    stage.assert_alive("invalid UTF-8").await;
}

/// A frame over 64 KiB, a frame announcing an absurd length, and a fragmented message over
/// 64 KiB all close with 1009, at once.
#[tokio::test]
async fn frames_and_messages_over_64_kib_close_with_1009() {
    let mut rng = rng("too_large");
    let mut stage = stage_with(unlimited).await;

    let mut socket = stage.raw(&mut rng).await;
    socket.send(TEXT, &vec![b' '; MAX_FRAME + 1]).await;
    assert_eq!(socket.close_code(WAIT).await, Some(1009), "65 KiB frame");

    // Only the header: eight exabytes announced, nothing sent.
    let mut socket = stage.raw(&mut rng).await;
    let mut header = vec![0x80 | TEXT, 0x80 | 127];
    header.extend_from_slice(&(1_u64 << 62).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    socket.write(&header).await;
    assert_eq!(socket.close_code(WAIT).await, Some(1009), "absurd length");

    let mut socket = stage.raw(&mut rng).await;
    socket.send_fragment(false, TEXT, &[b' '; 2048]).await;
    for _ in 0..40 {
        socket
            .send_fragment(false, CONTINUATION, &[b' '; 2048])
            .await;
    }
    socket.send_fragment(true, CONTINUATION, b"{}").await;
    assert_eq!(
        socket.close_code(WAIT).await,
        Some(1009),
        "fragmented 82 KiB"
    );
    stage.assert_alive("oversized frames").await;
}

/// Frames that break RFC 6455 close with 1002: unmasked client frames, reserved opcodes and
/// bits, a continuation without a start, a new message inside a fragmented one, a fragmented or
/// oversized control frame.
#[tokio::test]
async fn protocol_violations_close_with_1002() {
    let mut rng = rng("protocol");
    let mut stage = stage_with(unlimited).await;
    let ping = json!({"type": "ping"}).to_string().into_bytes();
    let key = [9, 8, 7, 6];
    let violations: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("unmasked text", vec![frame(true, 0, TEXT, None, &ping)]),
        ("unmasked ping", vec![frame(true, 0, PING, None, b"p")]),
        (
            "reserved opcode 0x3",
            vec![frame(true, 0, 0x3, Some(key), &ping)],
        ),
        (
            "reserved opcode 0x7",
            vec![frame(true, 0, 0x7, Some(key), b"")],
        ),
        (
            "reserved opcode 0xB",
            vec![frame(true, 0, 0xB, Some(key), b"")],
        ),
        (
            "reserved opcode 0xF",
            vec![frame(true, 0, 0xF, Some(key), b"x")],
        ),
        (
            "RSV1 without an extension",
            vec![frame(true, 0b100, TEXT, Some(key), &ping)],
        ),
        ("RSV3", vec![frame(true, 0b001, BINARY, Some(key), b"x")]),
        (
            "continuation without a start",
            vec![frame(true, 0, CONTINUATION, Some(key), &ping)],
        ),
        (
            "a new message inside a fragmented one",
            vec![
                frame(false, 0, TEXT, Some(key), b"{\"type\":"),
                frame(true, 0, TEXT, Some(key), &ping),
            ],
        ),
        (
            "fragmented ping",
            vec![frame(false, 0, PING, Some(key), b"p")],
        ),
        (
            "ping over 125 bytes",
            vec![frame(true, 0, PING, Some(key), &[b'p'; 126])],
        ),
    ];
    for (what, frames) in violations {
        let mut socket = stage.raw(&mut rng).await;
        for bytes in frames {
            socket.write(&bytes).await;
        }
        assert_eq!(socket.close_code(WAIT).await, Some(1002), "{what}");
    }
    stage.assert_alive("protocol violations").await;
}

/// Fragmented messages are reassembled, also with pings and pongs between their fragments, and
/// random fragmentations of random frames are answered like the whole frames.
#[tokio::test]
async fn fragmented_messages_with_interleaved_control_frames_are_reassembled() {
    let mut rng = rng("fragments");
    let mut stage = stage_with(unlimited).await;
    let mut socket = stage.raw(&mut rng).await;
    socket.send_fragment(false, TEXT, b"{\"ty").await;
    socket.send(PING, b"between").await;
    socket
        .send_fragment(false, CONTINUATION, b"pe\":\"pi")
        .await;
    socket.send(PONG, b"unasked").await;
    socket.send_fragment(true, CONTINUATION, b"ng\"}").await;
    let mut got_pong_frame = false;
    let answer = loop {
        match socket.next(WAIT).await {
            Raw::Frame {
                opcode: PONG,
                payload,
            } => {
                assert_eq!(payload, b"between");
                got_pong_frame = true;
            }
            Raw::Frame {
                opcode: TEXT,
                payload,
            } => break serde_json::from_slice::<Value>(&payload).unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    };
    assert!(
        got_pong_frame,
        "the ping between fragments was not answered"
    );
    assert_eq!(answer["type"], "pong");

    for round in 0..60 {
        let text = hostile_text(&mut rng).into_bytes();
        let pieces = rng.gen_range(1..6);
        let mut cuts: Vec<usize> = (0..pieces - 1)
            .map(|_| rng.gen_range(0..=text.len()))
            .collect();
        cuts.sort_unstable();
        cuts.push(text.len());
        let mut start = 0;
        for (i, end) in cuts.iter().enumerate() {
            let opcode = if i == 0 { TEXT } else { CONTINUATION };
            socket
                .send_fragment(i + 1 == cuts.len(), opcode, &text[start..*end])
                .await;
            if rng.gen_bool(0.3) {
                socket.send(PING, b"x").await;
            }
            start = *end;
        }
        socket.send(TEXT, br#"{"type":"ping"}"#).await;
        loop {
            match socket.next_json(WAIT).await {
                Ok(event) if event["type"] == "pong" => break,
                Ok(event) if event["type"] == "error" => {
                    let code = event["code"].as_str().unwrap_or_default();
                    assert!(CLIENT_ERRORS.contains(&code), "round {round}: {event}");
                }
                Ok(_) => {}
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
    }
    stage.assert_alive("fragmented frames").await;
}

/// Thousands of frames as fast as a client can write them: text, binary and chat floods end in
/// 4008; a flood of pings is answered. Other sockets hear the channel throughout.
#[tokio::test]
async fn floods_end_in_4008_and_never_silence_the_channel() {
    let mut rng = rng("floods");
    let mut stage = stage_with(|_| {}).await;
    let floods: [(&str, u8, Vec<u8>); 3] = [
        ("text", TEXT, br#"{"type":"ping"}"#.to_vec()),
        ("binary", BINARY, vec![0xde, 0xad, 0xbe, 0xef]),
        (
            "chat",
            TEXT,
            json!({"type": "message", "message": "spam"})
                .to_string()
                .into_bytes(),
        ),
    ];
    for (what, opcode, payload) in floods {
        let socket = stage.raw(&mut rng).await;
        let mask = [rng.gen(), rng.gen(), rng.gen(), rng.gen()];
        let one = frame(true, 0, opcode, Some(mask), &payload);
        let burst: Vec<u8> = one.iter().copied().cycle().take(one.len() * 3000).collect();
        assert_eq!(flood(socket, burst).await, Some(4008), "{what} flood");
        stage.assert_alive(&format!("a {what} flood")).await;
    }

    // Pings are control frames: each is answered, and the socket stays.
    let mut socket = stage.raw(&mut rng).await;
    let mask = [1, 2, 3, 4];
    let one = frame(true, 0, PING, Some(mask), b"hi");
    let burst: Vec<u8> = one.iter().copied().cycle().take(one.len() * 2000).collect();
    socket.write(&burst).await;
    let mut pongs = 0;
    while pongs < 2000 {
        match socket.next(WAIT).await {
            Raw::Frame { opcode: PONG, .. } => pongs += 1,
            Raw::Frame { .. } => {}
            other => panic!("ping flood: {other:?} after {pongs} pongs"),
        }
    }
    socket.send(TEXT, br#"{"type":"ping"}"#).await;
    let answer = socket
        .next_json(WAIT)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(answer["type"], "pong");
    stage.assert_alive("a ping flood").await;
}

/// Connections that send half an upgrade request and stall, or upgrade and never read, block
/// nobody: the channel keeps talking, new sockets open, and the stalled requests are dropped.
#[tokio::test]
async fn half_open_handshakes_and_sockets_that_never_read_block_nobody() {
    let mut rng = rng("half_open");
    let mut stage = stage_with(unlimited).await;
    let port = stage.app.port;
    let path = stage.path();
    let partials = [
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr"),
        format!("GET {path} HTTP/1.1\r\n"),
        "GET /ws/serv".to_owned(),
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        ),
        String::new(),
    ];
    let mut stalled = Vec::new();
    for i in 0..40 {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let partial = &partials[i % partials.len()];
        stream
            .write_all(partial.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        stalled.push(stream);
    }
    // An upgraded socket that never reads a byte.
    let deaf = stage.raw(&mut rng).await;
    stage.assert_alive("40 stalled handshakes").await;

    // The channel keeps talking to everyone else while the deaf socket falls behind.
    let big = "x".repeat(1900);
    let started = std::time::Instant::now();
    for n in 0..150 {
        let (status, _) = send(
            stage
                .app
                .http
                .post(
                    stage
                        .app
                        .url(&format!("/api/channels/{}/messages/", stage.channel.0)),
                )
                .bearer_auth(&stage.owner)
                .json(&json!({ "content": format!("{n} {big}") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut heard = 0;
    while heard < 150 {
        let event = stage.observer.recv_type("chat.message", WAIT).await;
        if event["new_message"]["content"]
            .as_str()
            .is_some_and(|c| c.ends_with(&big))
        {
            heard += 1;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let mut fresh = connect(port, &path, Auth::Bearer(stage.owner.clone()))
        .await
        .unwrap_or_else(|e| panic!("a new socket cannot open: {e}"));
    fresh.recv_type("presence.list", WAIT).await;
    stage.assert_alive("a socket that never reads").await;

    // The stalled requests are dropped once the request timeout passes (408, or just closed).
    for (i, mut stream) in stalled.into_iter().enumerate() {
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(12), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "stalled connection #{i} is still open");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty()
                || answer.starts_with("HTTP/1.1 408")
                || answer.starts_with("HTTP/1.1 400"),
            "stalled connection #{i}: {answer}"
        );
    }
    drop(deaf);
    stage
        .assert_alive("the stalled requests were dropped")
        .await;
}

/// A client may send frames right behind its handshake, in the same packet: the server reads
/// the handshake, answers it, and still gets those frames (they arrive before the socket is
/// handed over from HTTP, so they must be carried across).
#[tokio::test]
async fn frames_sent_in_the_same_write_as_the_handshake_are_read() {
    let mut stage = stage_with(unlimited).await;
    let mut stream = TcpStream::connect(("127.0.0.1", stage.app.port))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = handshake(stage.app.port, &stage.path(), &stage.mallory).into_bytes();
    bytes.extend(frame(
        true,
        0,
        TEXT,
        Some([7, 1, 9, 3]),
        br#"{"type":"ping"}"#,
    ));
    bytes.extend(frame(
        true,
        0,
        TEXT,
        Some([2, 8, 4, 6]),
        br#"{"type":"message","message":"right behind the handshake","nonce":"early-1"}"#,
    ));
    stream
        .write_all(&bytes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut socket = RawSocket {
        stream,
        buffer: Vec::new(),
        mask_seed: 1,
    };
    let head = socket.read_head().await;
    assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
    let mut seen = Vec::new();
    while !(seen.iter().any(|t| t == "pong") && seen.iter().any(|t| t == "chat.message")) {
        let event = socket
            .next_json(WAIT)
            .await
            .unwrap_or_else(|raw| panic!("after {seen:?}: {raw:?}"));
        if event["type"] == "chat.message" {
            assert_eq!(
                event["new_message"]["content"],
                "right behind the handshake"
            );
        }
        seen.push(event["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("presence.list"),
        "{seen:?}"
    );
    stage.assert_alive("frames behind the handshake").await;
}

/// Upgrade headers on a request that is not a socket's (here a login with a body) get that
/// route's answer, body read and all, and the connection is closed; nothing waits forever.
#[tokio::test]
async fn upgrade_headers_on_an_ordinary_route_get_its_answer() {
    let stage = stage_with(unlimited).await;
    let body = r#"{"username":"nobody-at-all","password":"wrong password"}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", stage.app.port))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        stage.app.port,
        body.len()
    );
    // The head first, the body a moment later: the body arrives while the route waits for it.
    stream
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream
        .write_all(body.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .unwrap_or_else(|_| panic!("no answer, or the connection stayed open"))
        .unwrap_or_else(|e| panic!("{e}"));
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 401"),
        "expected the login's refusal: {response}"
    );
    assert!(
        response.contains("\"code\""),
        "the refusal's body: {response}"
    );
}
