//! The load tool's WebSocket client: RFC 6455 framing straight on the TCP stream, large reads,
//! no allocation per frame.
//!
//! A thousand sockets each receiving hundreds of frames a second made tokio-tungstenite (with a
//! split stream per socket) use most of a core, on the two cores the server needs; like the
//! lean HTTP client of the REST scenarios, this keeps the load generator out of the way. It
//! reads what Hearth sends (unmasked, unfragmented frames), answers pings, and writes masked
//! text frames; anything else is a protocol error.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// How long a handshake (until the first frame, `presence.list`) may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// A socket's read buffer to start with: idle sockets (20,000 of them) never need more.
const INITIAL_BUFFER: usize = 4 * 1024;
/// The buffer grows (by doubling) up to this while frames arrive faster than they are read.
const MAX_BUFFER: usize = 64 * 1024;
/// Largest frame accepted from the server.
const MAX_FRAME: usize = 1 << 20;

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// What [`Reader::next`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Text(&'a str),
    /// A close frame and its code, if it had one.
    Close(Option<u16>),
    /// Binary, pong, or a ping (already answered).
    Other,
}

/// The receiving half of a socket.
pub struct Reader {
    stream: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    writer: Writer,
}

/// The sending half of a socket; cloned by the reader to answer pings.
#[derive(Clone)]
pub struct Writer(Arc<Mutex<OwnedWriteHalf>>);

/// Opens a socket on `channel` of `server` as the owner of `token` and waits for the
/// `presence.list` frame that proves the server kept it open.
pub async fn connect(
    addr: SocketAddr,
    server: i64,
    channel: i64,
    token: &str,
) -> anyhow::Result<(Reader, Writer)> {
    connect_path(
        addr,
        &format!("/ws/servers/{server}/channels/{channel}"),
        token,
    )
    .await
}

/// Opens the socket at `path` (see [`connect`]): a channel's or a conversation's, whose first
/// frame is `presence.list`, or the personal socket, whose first frame is `ready`.
pub async fn connect_path(
    addr: SocketAddr,
    path: &str,
    token: &str,
) -> anyhow::Result<(Reader, Writer)> {
    let opened = async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (read, mut write) = tcp.into_split();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: aGVhcnRoLWJlbmNoLWtleQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        write.write_all(request.as_bytes()).await?;
        let writer = Writer(Arc::new(Mutex::new(write)));
        let mut reader = Reader {
            stream: read,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            writer: writer.clone(),
        };
        reader.read_response_head().await?;
        match reader.next().await? {
            Some(Frame::Text(text))
                if text.starts_with(r#"{"type":"presence.list""#)
                    || text.starts_with(r#"{"type":"ready""#) => {}
            Some(Frame::Close(code)) => bail!("closed at once: {code:?}"),
            Some(other) => bail!("unexpected first frame: {other:?}"),
            None => bail!("closed before the first frame"),
        }
        Ok((reader, writer))
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, opened)
        .await
        .context("handshake timed out")?
}

/// The header of the frame at the start of `bytes`: (opcode, header length, payload length),
/// or `None` when more bytes are needed.
fn header(bytes: &[u8]) -> anyhow::Result<Option<(u8, usize, usize)>> {
    let [first, second, rest @ ..] = bytes else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        bail!("the server masked a frame");
    }
    if first & 0x80 == 0 {
        bail!("the server fragmented a frame");
    }
    let opcode = first & 0x0F;
    let (header_len, payload_len) = match second & 0x7F {
        126 => match rest {
            [a, b, ..] => (4, usize::from(u16::from_be_bytes([*a, *b]))),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(len) => {
                let mut be = [0_u8; 8];
                be.copy_from_slice(len);
                (
                    10,
                    usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
                )
            }
            None => return Ok(None),
        },
        len => (2, usize::from(len)),
    };
    if payload_len > MAX_FRAME {
        bail!("a frame of {payload_len} bytes");
    }
    Ok(Some((opcode, header_len, payload_len)))
}

impl Reader {
    /// Reads more bytes after `end`; `false` at end of stream. Unread bytes move to the front
    /// once the space behind them is used up; the buffer doubles when they fill it (a frame
    /// larger than the buffer: `header` bounds that) or when a read filled all the free space
    /// (more is waiting: read it in larger pieces, up to [`MAX_BUFFER`]).
    async fn fill(&mut self) -> anyhow::Result<bool> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let free = self.buf.len() - self.end;
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        if n == free && self.buf.len() < MAX_BUFFER {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        Ok(n > 0)
    }

    /// Reads the `101 Switching Protocols` head; what follows it stays buffered.
    async fn read_response_head(&mut self) -> anyhow::Result<()> {
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = unread.windows(4).position(|w| w == b"\r\n\r\n") {
                if !unread.starts_with(b"HTTP/1.1 101") {
                    let head = String::from_utf8_lossy(&unread[..at]);
                    bail!("handshake refused: {head}");
                }
                self.start += at + 4;
                return Ok(());
            }
            if self.end - self.start > 16 * 1024 {
                bail!("handshake response head too long");
            }
            if !self.fill().await? {
                bail!("closed during the handshake");
            }
        }
    }

    /// The next frame; `None` at end of stream. Pings are answered before this returns.
    pub async fn next(&mut self) -> anyhow::Result<Option<Frame<'_>>> {
        let (opcode, header_len, payload_len) = loop {
            if let Some(found) = header(&self.buf[self.start..self.end])? {
                if self.end - self.start >= found.1 + found.2 {
                    break found;
                }
            }
            if !self.fill().await? {
                return Ok(None);
            }
        };
        let payload = self.start + header_len..self.start + header_len + payload_len;
        self.start = payload.end;
        let frame = match opcode {
            TEXT => Frame::Text(
                std::str::from_utf8(&self.buf[payload]).context("a text frame is not UTF-8")?,
            ),
            CLOSE => Frame::Close(
                self.buf
                    .get(payload.start..payload.start + 2)
                    .map(|code| u16::from_be_bytes([code[0], code[1]])),
            ),
            PING => {
                let data = self.buf[payload].to_vec();
                self.writer.send(PONG, &data).await?;
                Frame::Other
            }
            BINARY | PONG => Frame::Other,
            other => bail!("unexpected opcode {other:#x}"),
        };
        Ok(Some(frame))
    }
}

impl Writer {
    /// Sends one text frame.
    pub async fn text(&self, text: &str) -> anyhow::Result<()> {
        self.send(TEXT, text.as_bytes()).await
    }

    /// Sends one masked frame (clients must mask; the key need not be secret here).
    async fn send(&self, opcode: u8, payload: &[u8]) -> anyhow::Result<()> {
        const KEY: [u8; 4] = [0x68, 0x65, 0x61, 0x72];
        let mut frame = Vec::with_capacity(payload.len() + 14);
        frame.push(0x80 | opcode);
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=65_535 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&KEY);
        frame.extend(payload.iter().zip(KEY.iter().cycle()).map(|(b, k)| b ^ k));
        self.0.lock().await.write_all(&frame).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_length_form_and_incomplete_ones() -> anyhow::Result<()> {
        assert_eq!(header(&[0x81])?, None);
        assert_eq!(header(&[0x81, 5])?, Some((TEXT, 2, 5)));
        assert_eq!(header(&[0x81, 126, 0x01])?, None);
        assert_eq!(header(&[0x81, 126, 0x01, 0x00])?, Some((TEXT, 4, 256)));
        assert_eq!(
            header(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])?,
            Some((BINARY, 10, 65_536))
        );
        assert!(header(&[0x81, 0x85]).is_err(), "masked by the server");
        assert!(header(&[0x01, 5]).is_err(), "fragmented");
        assert!(
            header(&[0x81, 127, 0, 0, 0, 0, 0x10, 0, 0, 0]).is_err(),
            "too large"
        );
        Ok(())
    }
}
