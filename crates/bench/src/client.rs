//! The two WebSocket clients the scenarios drive: the lean raw reader ([`crate::rawws`]), and an
//! ordinary one, tokio-tungstenite with its default configuration, as most Rust clients are. A
//! delivery target holds only if it holds for both; a scenario name ending in
//! [`ORDINARY_SUFFIX`] runs with the ordinary client.

use crate::rawws;
pub use crate::rawws::Frame;
use anyhow::{bail, Context};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A scenario run with the ordinary client is named `<scenario>_tt`.
pub const ORDINARY_SUFFIX: &str = "_tt";

/// Which client opens a scenario's sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Client {
    /// [`crate::rawws`]: framing straight on the TCP stream, no allocation per frame.
    #[default]
    Raw,
    /// tokio-tungstenite, default configuration, split into a stream and a sink.
    Tungstenite,
}

impl Client {
    /// The client a scenario name asks for, and the name of the scenario itself.
    pub fn of(name: &str) -> (Client, &str) {
        match name.strip_suffix(ORDINARY_SUFFIX) {
            Some(base) => (Client::Tungstenite, base),
            None => (Client::Raw, name),
        }
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The receiving half of a socket.
pub enum Reader {
    Raw(rawws::Reader),
    Tungstenite {
        stream: SplitStream<Socket>,
        /// The message [`Reader::next`] last returned a view of.
        last: Option<Message>,
    },
}

/// The sending half of a socket.
#[derive(Clone)]
pub enum Writer {
    Raw(rawws::Writer),
    Tungstenite(Arc<Mutex<SplitSink<Socket, Message>>>),
}

/// Opens a socket on `channel` of `server` (see [`connect_path`]).
pub async fn connect(
    client: Client,
    addr: SocketAddr,
    server: i64,
    channel: i64,
    token: &str,
) -> anyhow::Result<(Reader, Writer)> {
    let path = format!("/ws/servers/{server}/channels/{channel}");
    connect_path(client, addr, &path, token).await
}

/// Opens the socket at `path` as the owner of `token` and waits for its first frame
/// (`presence.list`, or `ready` on the personal socket), which proves the server kept it open.
pub async fn connect_path(
    client: Client,
    addr: SocketAddr,
    path: &str,
    token: &str,
) -> anyhow::Result<(Reader, Writer)> {
    match client {
        Client::Raw => {
            let (reader, writer) = rawws::connect_path(addr, path, token).await?;
            Ok((Reader::Raw(reader), Writer::Raw(writer)))
        }
        Client::Tungstenite => {
            let opened = async {
                let mut request = format!("ws://{addr}{path}").into_client_request()?;
                request.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {token}"))?,
                );
                let (socket, _) = tokio_tungstenite::connect_async(request).await?;
                let (sink, stream) = socket.split();
                let mut reader = Reader::Tungstenite { stream, last: None };
                match reader.next().await? {
                    Some(Frame::Text(text))
                        if text.starts_with(r#"{"type":"presence.list""#)
                            || text.starts_with(r#"{"type":"ready""#) => {}
                    Some(Frame::Close(code)) => bail!("closed at once: {code:?}"),
                    Some(other) => bail!("unexpected first frame: {other:?}"),
                    None => bail!("closed before the first frame"),
                }
                Ok((reader, Writer::Tungstenite(Arc::new(Mutex::new(sink)))))
            };
            tokio::time::timeout(rawws::HANDSHAKE_TIMEOUT, opened)
                .await
                .context("handshake timed out")?
        }
    }
}

impl Reader {
    /// The next frame; `None` at end of stream. Pings are answered by either client.
    pub async fn next(&mut self) -> anyhow::Result<Option<Frame<'_>>> {
        match self {
            Reader::Raw(reader) => reader.next().await,
            Reader::Tungstenite { stream, last } => {
                *last = match stream.next().await {
                    None => return Ok(None),
                    Some(message) => Some(message?),
                };
                Ok(Some(match last {
                    Some(Message::Text(text)) => Frame::Text(text.as_str()),
                    Some(Message::Close(frame)) => {
                        Frame::Close(frame.as_ref().map(|f| u16::from(f.code)))
                    }
                    _ => Frame::Other,
                }))
            }
        }
    }
}

impl Writer {
    /// Sends one text frame.
    pub async fn text(&self, text: &str) -> anyhow::Result<()> {
        match self {
            Writer::Raw(writer) => writer.text(text).await,
            Writer::Tungstenite(sink) => {
                sink.lock()
                    .await
                    .send(Message::Text(text.to_owned()))
                    .await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_ending_in_tt_asks_for_the_ordinary_client() {
        assert_eq!(
            Client::of("fanout_20_tt"),
            (Client::Tungstenite, "fanout_20")
        );
        assert_eq!(Client::of("chat"), (Client::Raw, "chat"));
    }
}
