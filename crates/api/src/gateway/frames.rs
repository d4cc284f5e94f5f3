//! A guard on the bytes a socket's client sends: a frame whose header announces more than the
//! limit is refused as soon as the header arrives.
//!
//! actix-http's codec compares a frame's length with its limit only once the whole frame has
//! been buffered, so a client announcing a frame of a gigabyte (or 2^62 bytes) and sending it
//! slowly would make the server buffer all of it, or hold the socket open waiting.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// What `actix_web::dev::Payload` can be built from (actix-http's `BoxedPayloadStream`).
pub type BoxedPayload = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Passes a socket's incoming bytes through, following the frame boundaries, and fails with
/// [`PayloadError::Overflow`] at the first header that announces more than `limit` bytes.
pub struct FrameLimit {
    inner: Payload,
    limit: u64,
    header: [u8; MAX_HEADER],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    failed: bool,
}

impl FrameLimit {
    pub fn new(inner: Payload, limit: usize) -> Self {
        Self {
            inner,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            header: [0; MAX_HEADER],
            header_len: 0,
            payload_left: 0,
            failed: false,
        }
    }

    /// Follows `bytes` through the frames; `false` once a header announces too much.
    fn scan(&mut self, mut bytes: &[u8]) -> bool {
        while let Some((&byte, rest)) = bytes.split_first() {
            if self.payload_left > 0 {
                let skip = usize::try_from(self.payload_left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                self.payload_left -= skip as u64;
                bytes = &bytes[skip..];
                continue;
            }
            self.header[self.header_len] = byte;
            self.header_len += 1;
            bytes = rest;
            if self.header_len < 2 {
                continue;
            }
            let second = self.header[1];
            let extended = match second & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let mask = if second & 0x80 == 0 { 0 } else { 4 };
            if self.header_len < 2 + extended + mask {
                continue;
            }
            let length = match extended {
                0 => u64::from(second & 0x7f),
                2 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
                _ => {
                    let mut be = [0_u8; 8];
                    be.copy_from_slice(&self.header[2..10]);
                    u64::from_be_bytes(be)
                }
            };
            self.header_len = 0;
            if length > self.limit {
                return false;
            }
            self.payload_left = length;
        }
        true
    }
}

impl Stream for FrameLimit {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match ready!(Pin::new(&mut this.inner).poll_next(cx)) {
            Some(Ok(bytes)) => {
                if this.scan(&bytes) {
                    Poll::Ready(Some(Ok(bytes)))
                } else {
                    this.failed = true;
                    Poll::Ready(Some(Err(PayloadError::Overflow)))
                }
            }
            other => Poll::Ready(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> FrameLimit {
        FrameLimit::new(Payload::None, 64 * 1024)
    }

    fn header(length: u64) -> Vec<u8> {
        let mut out = vec![0x81];
        if length < 126 {
            out.push(0x80 | u8::try_from(length).unwrap_or(0));
        } else if let Ok(medium) = u16::try_from(length) {
            out.push(0x80 | 126);
            out.extend_from_slice(&medium.to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&length.to_be_bytes());
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out
    }

    #[test]
    fn frames_within_the_limit_pass_whatever_the_chunking() {
        let mut stream = Vec::new();
        for length in [0_u64, 5, 125, 126, 65_535, 65_536] {
            stream.extend(header(length));
            stream.extend(std::iter::repeat_n(
                b'x',
                usize::try_from(length).unwrap_or(0),
            ));
        }
        for chunk in [1, 3, 7, 1000, stream.len()] {
            let mut guard = guard();
            assert!(
                stream.chunks(chunk).all(|c| guard.scan(c)),
                "chunks of {chunk}"
            );
            assert_eq!(guard.payload_left, 0);
            assert_eq!(guard.header_len, 0);
        }
    }

    #[test]
    fn a_header_announcing_too_much_fails_at_once() {
        for length in [65_537_u64, 1 << 40, 1 << 62, u64::MAX] {
            let mut guard = guard();
            let mut bytes = header(5);
            bytes.extend_from_slice(b"hello");
            assert!(guard.scan(&bytes));
            assert!(!guard.scan(&header(length)), "{length}");
        }
    }
}
