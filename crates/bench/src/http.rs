//! A lean HTTP/1.1 keep-alive client: one connection, one request at a time, requests prepared
//! as bytes in advance.
//!
//! Why not reqwest: the load generator shares the machine's two cores with the server and
//! PostgreSQL, so every microsecond it spends per request is taken from what is measured. This
//! client writes prepared bytes and parses the response head with `httparse`, in the calling task
//! (no pool, no dispatch task, no header map), which costs a few microseconds per request.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response; `body` borrows the connection's buffer until the next request.
#[derive(Debug)]
pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// One keep-alive connection that reconnects by itself after an error or `Connection: close`.
pub struct HttpConn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The previous response asked to close the connection.
    close_after: bool,
}

const HEAD_LIMIT: usize = 64 * 1024;

impl HttpConn {
    /// A connection to `addr`, opened on the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            close_after: false,
        }
    }

    async fn stream(&mut self) -> anyhow::Result<&mut TcpStream> {
        if self.close_after {
            self.stream = None;
            self.close_after = false;
        }
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("cannot connect to {}", self.addr))?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.start = 0;
            self.end = 0;
        }
        self.stream
            .as_mut()
            .context("connection vanished while opening it")
    }

    /// Sends one prepared request (see [`request`]) and reads its response.
    pub async fn send(&mut self, request: &[u8]) -> anyhow::Result<Response<'_>> {
        match self.exchange(request).await {
            Ok((status, body_start, body_end)) => Ok(Response {
                status,
                body: &self.buf[body_start..body_end],
            }),
            Err(e) => {
                // Whatever was half-read is garbage now: start over on a new connection.
                self.stream = None;
                Err(e)
            }
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<(u16, usize, usize)> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.stream().await?.write_all(request).await?;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut head = httparse::Response::new(&mut headers);
            let parsed = head
                .parse(&self.buf[self.start..self.end])
                .context("malformed response head")?;
            if let httparse::Status::Complete(head_len) = parsed {
                let status = head.code.context("response without a status")?;
                let mut length = None;
                for header in head.headers.iter() {
                    if header.name.eq_ignore_ascii_case("content-length") {
                        let text = std::str::from_utf8(header.value)?;
                        length = Some(text.trim().parse::<usize>()?);
                    } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                        bail!("chunked responses are not supported by the bench client");
                    } else if header.name.eq_ignore_ascii_case("connection")
                        && header.value.eq_ignore_ascii_case(b"close")
                    {
                        self.close_after = true;
                    }
                }
                // Offsets are relative to `start`, which moves when `fill` compacts the buffer.
                let total = head_len + length.unwrap_or(0);
                while self.end - self.start < total {
                    self.fill(total).await?;
                }
                let body_start = self.start + head_len;
                let body_end = self.start + total;
                self.start = body_end;
                return Ok((status, body_start, body_end));
            }
            if self.end - self.start > HEAD_LIMIT {
                bail!("response head larger than {HEAD_LIMIT} bytes");
            }
            self.fill(self.end - self.start + 1).await?;
        }
    }

    /// Reads more bytes, making room for at least `want` unconsumed bytes in the buffer.
    async fn fill(&mut self, want: usize) -> anyhow::Result<()> {
        if self.start + want > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if want > self.buf.len() {
                self.buf.resize(want.next_power_of_two(), 0);
            }
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let stream = self
            .stream
            .as_mut()
            .context("connection closed while reading")?;
        let read = stream.read(&mut self.buf[self.end..]).await?;
        if read == 0 {
            bail!("the server closed the connection");
        }
        self.end += read;
        Ok(())
    }
}

/// The bytes of a request: `method path`, a `Host`, an optional bearer token, an optional JSON
/// body.
pub fn request(
    method: &str,
    path: &str,
    host: &str,
    token: Option<&str>,
    json: Option<&str>,
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(token) = token {
        out.push_str("Authorization: Bearer ");
        out.push_str(token);
        out.push_str("\r\n");
    }
    match json {
        Some(body) => {
            out.push_str("Content-Type: application/json\r\nContent-Length: ");
            out.push_str(&body.len().to_string());
            out.push_str("\r\n\r\n");
            out.push_str(body);
        }
        None => out.push_str("\r\n"),
    }
    out.into_bytes()
}
