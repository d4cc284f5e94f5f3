//! Upgraded connections without the HTTP dispatcher's buffers.
//!
//! actix-http's HTTP/1 dispatcher keeps an 8 KiB read and an 8 KiB write buffer for every
//! connection, for as long as the connection lives: two thirds of what an idle WebSocket cost.
//! So WebSocket handshakes go to actix-http's upgrade service instead. It runs the request
//! through the same application (routes, middleware, authentication, actix-ws's handshake), writes
//! the response head itself, and then carries bytes between the TCP stream and actix-ws: what the
//! client sends becomes the request's payload (actix-ws's `MessageStream` reads it), and the
//! response body (actix-ws's frames) is written out as it comes. Nothing is buffered between
//! them but a read on the stack and the frames actix-ws already encoded.

use crate::error::ErrorBody;
use actix_codec::{Encoder, Framed, FramedParts};
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::error::PayloadError;
use actix_http::header::CONTENT_LENGTH;
use actix_http::{h1, ConnectionType, Method, Payload, Request, Response, StatusCode};
use actix_service::{fn_service, IntoServiceFactory, Service, ServiceFactory};
use actix_web::dev::{AppConfig, ServiceResponse};
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpResponse;
use futures_util::future::poll_fn;
use futures_util::Stream;
use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::task::TaskTracker;

/// Client bytes read per system call; the buffer lives on the stack only during the read.
const READ_CHUNK: usize = 4096;
/// How long the application may take to answer an upgrade request (as actix-http gives a
/// request's head).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long a write may wait for a client that does not read.
const WRITE_STALL: Duration = Duration::from_secs(30);
/// How long a closed socket waits for the client's end of the closing handshake.
const LINGER: Duration = Duration::from_secs(1);
/// How long what a client sent before it left (a write to it failed) may still be read.
const DRAIN: Duration = Duration::from_secs(5);

/// What the dispatcher hands over: the handshake request and the connection.
pub type Upgraded = (Request, Framed<TcpStream, h1::Codec>);

/// The upgrade service of one worker, around its own instance of the application that
/// `make_app` builds.
pub fn factory<M, I, T, B>(
    make_app: M,
    sockets: TaskTracker,
) -> impl ServiceFactory<Upgraded, Config = (), Response = (), Error = actix_http::Error, InitError = ()>
where
    M: Fn() -> I + 'static,
    I: IntoServiceFactory<T, Request>,
    T: ServiceFactory<
            Request,
            Config = AppConfig,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    actix_service::fn_factory(move || {
        let app = make_app().into_factory();
        let sockets = sockets.clone();
        async move {
            let service = Rc::new(app.new_service(AppConfig::default()).await?);
            Ok::<_, ()>(fn_service(move |(req, framed): Upgraded| {
                let (service, sockets) = (service.clone(), sockets.clone());
                async move {
                    // A connection that fails now (the client went away) concerns nobody else.
                    if let Err(e) = take_over(service, req, framed, sockets).await {
                        tracing::debug!(error = %e, "upgraded connection ended with an error");
                    }
                    Ok::<_, actix_http::Error>(())
                }
            }))
        }
    })
}

/// Answers one upgrade request on its connection; a socket then goes on in a task of its own
/// (tracked by `sockets`, for the shutdown). Its connection's task, which holds actix-http's
/// dispatcher (3 KiB), ends with the handshake instead of lasting as long as the socket.
async fn take_over<S, B>(
    app: Rc<S>,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
    sockets: TaskTracker,
) -> Result<(), io::Error>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    // Boxed: the handshake's futures are large, and done with once it is answered.
    if let Some(socket) = Box::pin(handshake(app, req, framed)).await? {
        // On this worker's thread, as the socket's own task is (the two share a cell).
        actix_web::rt::spawn(sockets.track_future(async move {
            if let Err(e) = relay(socket).await {
                tracing::debug!(error = %e, "socket connection ended with an error");
            }
        }));
    }
    Ok(())
}

/// A connection whose handshake was answered with 101.
struct Socket {
    io: TcpStream,
    /// Feeds actix-ws's reader.
    feeder: Feeder,
    /// Whether the client may still send (no end of stream or error yet).
    reading: bool,
    /// actix-ws's frames.
    body: BoxBody,
}

/// Runs the handshake request through the application, reading what the client sends meanwhile
/// into the request's payload, and writes the response. Returns the socket when it became one.
async fn handshake<S, B>(
    app: Rc<S>,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
) -> io::Result<Option<Socket>>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let FramedParts {
        mut io,
        mut codec,
        read_buf: early,
        ..
    } = framed.into_parts();
    let head_request = req.head().method == Method::HEAD;
    // A socket's handshake is a GET and its payload is the socket's frames. Any other method is
    // an ordinary request that happens to carry upgrade headers: its body is what
    // `Content-Length` says (nothing without one), not the rest of the connection.
    let body_length = (req.head().method != Method::GET).then(|| {
        req.head()
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    });
    let (feeder, incoming) = hand_off(body_length);
    // Bytes the client sent right behind the request head (copied: the buffer is not kept).
    let mut reading = early.is_empty() || feeder.put(Ok(Bytes::copy_from_slice(&early)));
    drop(early);
    let (req, _) = req.replace_payload(Payload::from(
        Box::pin(incoming) as actix_http::BoxedPayloadStream
    ));
    // The payload is live while the application works: a handler that reads a body (a route
    // that is not a socket, asked with upgrade headers) gets it rather than waiting forever.
    let call = app.call(req);
    tokio::pin!(call);
    let answered = tokio::time::timeout(ANSWER_WITHIN, async {
        loop {
            tokio::select! {
                answer = &mut call => break Ok::<_, io::Error>(answer),
                more = read_once(&io, &feeder), if reading => reading = more?,
            }
        }
    })
    .await;
    let response: Response<BoxBody> = match answered {
        Ok(Ok(Ok(response))) => response.map_into_boxed_body().into(),
        Ok(Ok(Err(e))) => e.error_response().map_into_boxed_body().into(),
        Ok(Err(e)) => return Err(e),
        // A request whose body never comes (the client holds it back).
        Err(_) => HttpResponse::RequestTimeout()
            .json(ErrorBody {
                error: "The request was not complete in time".to_owned(),
                code: "request_timeout",
                fields: None,
                retry_after: None,
            })
            .into(),
    };
    let (mut head, body) = response.into_parts();
    let mut out = BytesMut::new();
    if head.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Not a socket after all (refused, or no such route): answer and close.
        let bytes = if head_request {
            Bytes::new()
        } else {
            actix_web::body::to_bytes(body)
                .await
                .unwrap_or_else(|_| Bytes::new())
        };
        head.head_mut().set_connection_type(ConnectionType::Close);
        let length = BodySize::Sized(bytes.len() as u64);
        codec.encode(h1::Message::Item((head, length)), &mut out)?;
        io.write_all(&out).await?;
        io.write_all(&bytes).await?;
        io.shutdown().await?;
        return Ok(None);
    }
    codec.encode(h1::Message::Item((head, BodySize::Stream)), &mut out)?;
    io.write_all(&out).await?;
    Ok(Some(Socket {
        io,
        feeder,
        reading,
        body,
    }))
}

/// Waits until actix-ws's reader has taken the previous chunk (reading on would buffer without
/// bound) and the client sent something, then hands one read over. Returns whether to keep
/// reading: not after the end of the stream or an error.
async fn read_once(io: &TcpStream, feeder: &Feeder) -> io::Result<bool> {
    if !poll_fn(|cx| feeder.poll_vacant(cx)).await {
        // The reader is gone: nothing to read for.
        std::future::pending::<()>().await;
    }
    io.readable().await?;
    let mut buf = [0_u8; READ_CHUNK];
    Ok(match io.try_read(&mut buf) {
        Ok(0) => {
            feeder.end();
            false
        }
        Ok(n) => feeder.put(Ok(Bytes::copy_from_slice(&buf[..n]))),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Err(e) => {
            feeder.put(Err(PayloadError::Io(e)));
            feeder.end();
            false
        }
    })
}

/// Carries client bytes to actix-ws and actix-ws's frames to the client, until actix-ws ends
/// the body (the socket was closed) or the client goes away.
///
/// A client that leaves right after sending (a last message, then its close frame, then the
/// connection dropped with frames for it unread: a reset) makes the next write fail, possibly
/// before its last bytes were read. Those bytes are still in the kernel's buffer, so they are
/// read and handed to the session before the socket ends, and what was for the client is
/// dropped: a message the server received is not lost because a frame to its sender could not
/// be written any more.
async fn relay(socket: Socket) -> io::Result<()> {
    let Socket {
        mut io,
        feeder,
        mut reading,
        mut body,
    } = socket;
    // Set once a write failed: until then, the rest of what the client sent is read.
    let mut draining: Option<Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        tokio::select! {
            chunk = poll_fn(|cx| Pin::new(&mut body).poll_next(cx)) => match chunk {
                Some(Ok(bytes)) if draining.is_none() => {
                    if let Err(e) = write(&mut io, &bytes).await {
                        // A client that stopped reading is let go at once, as is one with
                        // nothing more to read from.
                        if !reading || e.kind() == io::ErrorKind::TimedOut {
                            return Err(e);
                        }
                        tracing::debug!(error = %e, "client gone: reading what it sent before");
                        draining = Some(Box::pin(tokio::time::sleep(DRAIN)));
                    }
                }
                // For a client that is gone.
                Some(Ok(_)) => {}
                // The session ended (its close frame is out) or failed.
                Some(Err(_)) | None => break,
            },
            more = read_once(&io, &feeder), if reading => reading = more?,
            () = async {
                match draining.as_mut() {
                    Some(deadline) => deadline.await,
                    None => std::future::pending().await,
                }
            } => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "the session outlived its client"));
            }
        }
    }
    // Half-close, then give the client a moment to answer the close frame, so unread bytes of
    // its own do not turn the close into a reset that could drop our close frame.
    drop(feeder);
    io.shutdown().await?;
    // Boxed, as the stalled write below: rare, and the task would keep their room (a read
    // buffer, a timer) for the socket's lifetime.
    let _ = Box::pin(tokio::time::timeout(LINGER, async {
        let mut buf = [0_u8; 512];
        loop {
            io.readable().await?;
            match io.try_read(&mut buf) {
                Ok(0) => return Ok::<_, io::Error>(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }))
    .await;
    Ok(())
}

/// Writes `bytes`, right away when the socket has room (no timer armed), else waiting for it at
/// most [`WRITE_STALL`]: a client that stopped reading altogether is let go instead of holding
/// its socket (and the task feeding it) forever.
async fn write(io: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    let written = match io.try_write(bytes) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e),
    };
    if written < bytes.len() {
        Box::pin(tokio::time::timeout(
            WRITE_STALL,
            io.write_all(&bytes[written..]),
        ))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))??;
    }
    Ok(())
}

/// One chunk of client bytes on its way to actix-ws's reader. The relay and the socket's task
/// run on the same worker thread, so a shared cell does: no channel, no preallocated queue.
#[derive(Default)]
struct Slot {
    chunk: Option<Result<Bytes, PayloadError>>,
    /// No more chunks will come.
    ended: bool,
    /// The reader is gone.
    dropped: bool,
    /// Bytes still to come when the payload has a length.
    remaining: Option<u64>,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// The two ends; with a `length`, the payload ends after that many bytes.
fn hand_off(length: Option<u64>) -> (Feeder, Incoming) {
    let slot = Rc::new(RefCell::new(Slot {
        remaining: length,
        ended: length == Some(0),
        ..Slot::default()
    }));
    (Feeder(slot.clone()), Incoming(slot))
}

/// The relay's end.
struct Feeder(Rc<RefCell<Slot>>);

impl Feeder {
    /// Ready once the previous chunk was taken: `true`, or `false` when the reader is gone.
    fn poll_vacant(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut slot = self.0.borrow_mut();
        if slot.dropped {
            Poll::Ready(false)
        } else if slot.chunk.is_none() {
            Poll::Ready(true)
        } else {
            slot.writer = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Hands over a chunk (once `poll_vacant` said there is room, or as the first one); returns
    /// whether more is wanted. Bytes past the payload's length are dropped.
    fn put(&self, chunk: Result<Bytes, PayloadError>) -> bool {
        let mut slot = self.0.borrow_mut();
        if slot.ended {
            return false;
        }
        let chunk = match (chunk, slot.remaining) {
            (Ok(mut bytes), Some(left)) => {
                let take = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                bytes.truncate(take);
                let left = left - take as u64;
                slot.remaining = Some(left);
                slot.ended = left == 0;
                Ok(bytes)
            }
            (chunk, _) => chunk,
        };
        slot.chunk = Some(chunk);
        if let Some(reader) = slot.reader.take() {
            reader.wake();
        }
        !slot.ended
    }

    fn end(&self) {
        let mut slot = self.0.borrow_mut();
        slot.ended = true;
        if let Some(reader) = slot.reader.take() {
            reader.wake();
        }
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.end();
    }
}

/// The client's bytes, as the handshake request's payload (actix-ws's `MessageStream` reads it).
struct Incoming(Rc<RefCell<Slot>>);

impl Stream for Incoming {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut slot = self.0.borrow_mut();
        if let Some(chunk) = slot.chunk.take() {
            if let Some(writer) = slot.writer.take() {
                writer.wake();
            }
            Poll::Ready(Some(chunk))
        } else if slot.ended {
            Poll::Ready(None)
        } else {
            slot.reader = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        let mut slot = self.0.borrow_mut();
        slot.dropped = true;
        if let Some(writer) = slot.writer.take() {
            writer.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::body::BodyStream;
    use futures_util::StreamExt as _;
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    /// A client that sends its last bytes and leaves with frames for it unread (so its end
    /// resets the connection), before the relay read those bytes: the write to it fails, and
    /// the bytes still reach the session.
    #[tokio::test]
    async fn what_a_client_sent_before_resetting_the_connection_is_still_read() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // The session has not taken the first chunk yet, so the relay cannot read the last
        // bytes before it writes.
        let (feeder, mut incoming) = hand_off(None);
        assert!(feeder.put(Ok(Bytes::from_static(b"early"))));
        server.try_write(b"never read by the client").unwrap();
        client.write_all(b"last words").await.unwrap();
        drop(client);
        // Until the reset arrived (the probe's error is the reset's, consumed here: the relay's
        // write then fails with a broken pipe).
        let mut probes = 0;
        while server.try_write(b"?").is_ok() {
            probes += 1;
            assert!(probes < 400, "the connection was never reset");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let (frames, queued) = mpsc::unbounded_channel::<Bytes>();
        frames
            .send(Bytes::from_static(b"a frame for the client"))
            .unwrap();
        let mut queued = queued;
        let body = BoxBody::new(BodyStream::new(futures_util::stream::poll_fn(move |cx| {
            queued.poll_recv(cx).map(|f| f.map(Ok::<_, io::Error>))
        })));
        let socket = Socket {
            io: server,
            feeder,
            reading: true,
            body,
        };
        let session = async move {
            let mut received = Vec::new();
            while let Some(chunk) = incoming.next().await {
                received.push(chunk.map_err(|e| e.to_string()));
            }
            // The session ends once its client's bytes are all read.
            drop(frames);
            received
        };
        let (_, received) = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join(relay(socket), session),
        )
        .await
        .unwrap();
        let bytes: Vec<u8> = received
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .flat_map(|b| b.to_vec())
            .collect();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "earlylast words",
            "{received:?}"
        );
    }
}
