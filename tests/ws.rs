//! WebSocket test clients: every wait has a timeout, so a missing frame fails a test instead of
//! hanging it.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How a test client authenticates its handshake.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Cookie(String),
    CookieFrom {
        token: String,
        origin: String,
    },
    Subprotocol(String),
    /// A valid cookie next to a malformed `Authorization` header.
    CookieWithMalformedHeader(String),
}

/// What a connection attempt ended in.
pub type Connected = Result<WsClient, Box<tokio_tungstenite::tungstenite::Error>>;

/// A connected test socket.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server selected.
    pub protocol: Option<String>,
}

/// Opens `ws://127.0.0.1:<port><path>`.
pub async fn connect(port: u16, path: &str, auth: Auth) -> Connected {
    let mut request = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .map_err(Box::new)?;
    let headers = request.headers_mut();
    let header = |value: String| {
        HeaderValue::from_str(&value).unwrap_or_else(|e| panic!("bad header value: {e}"))
    };
    match auth {
        Auth::None => {}
        Auth::Bearer(token) => {
            headers.insert("authorization", header(format!("Bearer {token}")));
        }
        Auth::Cookie(token) => {
            headers.insert("cookie", header(format!("access_token={token}")));
        }
        Auth::CookieFrom { token, origin } => {
            headers.insert("cookie", header(format!("access_token={token}")));
            headers.insert("origin", header(origin));
        }
        Auth::CookieWithMalformedHeader(token) => {
            headers.insert("cookie", header(format!("access_token={token}")));
            headers.insert("authorization", header(format!("Token {token}")));
        }
        Auth::Subprotocol(token) => {
            headers.insert("sec-websocket-protocol", header(format!("bearer, {token}")));
        }
    }
    let connecting = tokio_tungstenite::connect_async(request);
    let (stream, response) = match tokio::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(result) => result.map_err(Box::new)?,
        Err(_) => panic!("handshake timed out"),
    };
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(WsClient { stream, protocol })
}

/// What the next thing on a socket was.
#[derive(Debug)]
pub enum Next {
    Event(Value),
    Closed(Option<u16>),
    Timeout,
}

impl WsClient {
    /// The next frame, JSON-decoded, or the close code.
    pub async fn next(&mut self, timeout: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(remaining, self.stream.next()).await {
                Err(_) => return Next::Timeout,
                Ok(None) => return Next::Closed(None),
                Ok(Some(Err(_))) => return Next::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("server sent non-JSON {text}: {e}"));
                    return Next::Event(value);
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Next::Closed(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => continue, // pings are answered by tungstenite itself
            }
        }
    }

    /// The next frame of type `kind`, skipping others (presence, typing, ...).
    pub async fn recv_type(&mut self, kind: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(remaining).await {
                Next::Event(event) if event["type"] == kind => return event,
                Next::Event(_) => continue,
                other => panic!("expected a {kind} frame, got {other:?}"),
            }
        }
    }

    /// Asserts no frame of type `kind` arrives within `wait`.
    pub async fn assert_no_type(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(remaining).await {
                Next::Timeout => return,
                Next::Event(event) if event["type"] == kind => panic!("unexpected {event}"),
                Next::Event(_) => continue,
                Next::Closed(code) => panic!("closed ({code:?}) while waiting"),
            }
        }
    }

    /// The close code, skipping frames before it.
    pub async fn recv_close(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(remaining).await {
                Next::Closed(code) => return code,
                Next::Event(_) => continue,
                Next::Timeout => panic!("the socket was not closed in time"),
            }
        }
    }

    pub async fn send_json(&mut self, value: &Value) {
        self.send(Message::Text(value.to_string())).await;
    }

    pub async fn send(&mut self, message: Message) {
        let sent = tokio::time::timeout(Duration::from_secs(10), self.stream.send(message)).await;
        assert!(matches!(sent, Ok(Ok(()))), "send failed: {sent:?}");
    }

    /// Sends frames back to back and flushes once: they reach the server in as few writes as
    /// the stream makes of them (a burst, as from a client that queued while offline).
    pub async fn send_burst(&mut self, messages: Vec<Message>) {
        let burst = async {
            for message in messages {
                self.stream.feed(message).await?;
            }
            self.stream.flush().await
        };
        let sent = tokio::time::timeout(Duration::from_secs(10), burst).await;
        assert!(matches!(sent, Ok(Ok(()))), "send failed: {sent:?}");
    }

    /// Sends a chat message.
    pub async fn say(&mut self, text: &str) {
        self.send_json(&serde_json::json!({"type": "message", "message": text}))
            .await;
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Closes with a code, as a client would.
    pub async fn close_with(mut self, code: u16) {
        let _ = self
            .stream
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::from(code),
                reason: "".into(),
            }))
            .await;
    }
}
