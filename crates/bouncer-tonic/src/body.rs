//! Reading the first gRPC message of a request body, and handing tonic the
//! very same bytes afterwards.
//!
//! A gRPC message on the wire is a 5-byte prefix (one compressed-flag byte,
//! a big-endian `u32` length) followed by the message. The layer reads the
//! body until the first message is complete (never more than the limit),
//! decodes it for the method's resolver, and gives tonic a [`Replay`]: the
//! bytes already read, then the rest of the original body, then its
//! trailers. Tonic sees the body it would have seen without the layer.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt as _;
use tonic::body::Body;

/// The gRPC length prefix: compressed flag + `u32` length.
const PREFIX: usize = 5;

/// Why the first message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The message is longer than the limit.
    TooLarge,
    /// The body ended before a whole message arrived.
    Incomplete,
    /// The message is compressed; the layer cannot look inside.
    Compressed,
    /// The body failed (the client went away).
    Broken,
}

/// The first message of a body, and the body to hand on.
#[derive(Debug)]
pub(crate) struct FirstMessage {
    /// Every byte read so far (the prefix, the message, maybe more).
    read: Bytes,
    /// Where the message is inside `read`.
    start: usize,
    end: usize,
    /// Trailers, when the body ended while reading.
    trailers: Option<HeaderMap>,
    /// The rest of the body, when it has not ended.
    rest: Option<Body>,
}

impl FirstMessage {
    /// The message bytes (without the prefix).
    pub(crate) fn message(&self) -> &[u8] {
        self.read.get(self.start..self.end).unwrap_or_default()
    }

    /// A body with exactly the bytes, and trailers, of the original.
    pub(crate) fn replay(self) -> Body {
        Body::new(Replay {
            read: (!self.read.is_empty()).then_some(self.read),
            rest: self.rest,
            trailers: self.trailers,
        })
    }
}

/// Reads `body` until its first message is complete. `limit` bounds the
/// message (not the prefix).
pub(crate) async fn read_first_message(
    mut body: Body,
    limit: usize,
) -> Result<FirstMessage, ReadError> {
    let mut read = BytesMut::new();
    let mut trailers = None;
    let mut ended = false;
    loop {
        if let Some(header) = read.get(..PREFIX) {
            let mut header = header;
            let compressed = header.get_u8();
            let len = usize::try_from(header.get_u32()).map_err(|_| ReadError::TooLarge)?;
            if len > limit {
                return Err(ReadError::TooLarge);
            }
            if compressed != 0 {
                return Err(ReadError::Compressed);
            }
            let end = PREFIX + len;
            if read.len() >= end {
                return Ok(FirstMessage {
                    read: read.freeze(),
                    start: PREFIX,
                    end,
                    trailers,
                    rest: (!ended).then_some(body),
                });
            }
        }
        if ended {
            return Err(ReadError::Incomplete);
        }
        match body.frame().await {
            None => ended = true,
            Some(Err(_)) => return Err(ReadError::Broken),
            Some(Ok(frame)) => match frame.into_data() {
                // The length is checked at the top of the loop, before
                // the next frame is read: at most one frame past the
                // prefix is ever held beyond the limit.
                Ok(data) => read.extend_from_slice(&data),
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers = Some(t);
                    }
                    ended = true;
                }
            },
        }
    }
}

/// The bytes already read, then the rest of the body, then the trailers.
struct Replay {
    read: Option<Bytes>,
    rest: Option<Body>,
    trailers: Option<HeaderMap>,
}

impl HttpBody for Replay {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        if let Some(read) = self.read.take() {
            return Poll::Ready(Some(Ok(Frame::data(read))));
        }
        if let Some(rest) = self.rest.as_mut() {
            match Pin::new(rest).poll_frame(cx) {
                Poll::Ready(None) => self.rest = None,
                other => return other,
            }
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_none()
            && self.trailers.is_none()
            && self.rest.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let read = self.read.as_ref().map_or(0, |b| b.len() as u64);
        let mut hint = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint);
        hint.set_lower(hint.lower().saturating_add(read));
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper.saturating_add(read));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;

    fn framed(message: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&(message.len() as u32).to_be_bytes());
        out.extend_from_slice(message);
        out
    }

    /// A body sending `chunks` one frame each, then `trailers`.
    fn body(chunks: Vec<Vec<u8>>, trailers: Option<HeaderMap>) -> Body {
        let frames = chunks
            .into_iter()
            .map(|c| Ok::<_, tonic::Status>(Frame::data(Bytes::from(c))))
            .chain(trailers.map(|t| Ok(Frame::trailers(t))));
        Body::new(StreamBody::new(futures_util::stream::iter(frames)))
    }

    async fn collect(body: Body) -> (Vec<u8>, Option<HeaderMap>) {
        let collected = body.collect().await.unwrap();
        let trailers = collected.trailers().cloned();
        (collected.to_bytes().to_vec(), trailers)
    }

    #[tokio::test]
    async fn the_message_is_found_across_frames_and_the_body_is_replayed_whole() {
        let mut wire = framed(b"hello");
        wire.extend(framed(b"second"));
        let chunks: Vec<Vec<u8>> = wire.chunks(3).map(<[u8]>::to_vec).collect();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", "1".parse().unwrap());
        let first = read_first_message(body(chunks, Some(trailers)), 64)
            .await
            .unwrap();
        assert_eq!(first.message(), b"hello");
        let (bytes, t) = collect(first.replay()).await;
        assert_eq!(bytes, wire);
        assert_eq!(t.unwrap()["x-t"], "1");
    }

    #[tokio::test]
    async fn an_empty_message_is_a_message() {
        let first = read_first_message(body(vec![framed(b"")], None), 0)
            .await
            .unwrap();
        assert_eq!(first.message(), b"");
        assert_eq!(collect(first.replay()).await.0, framed(b""));
    }

    #[tokio::test]
    async fn too_large_incomplete_and_compressed_messages_are_refused() {
        let big = framed(&[7; 100]);
        let err = read_first_message(body(vec![big], None), 99).await;
        assert_eq!(err.unwrap_err(), ReadError::TooLarge);
        // The length alone decides: the rest is never read.
        let err = read_first_message(body(vec![vec![0, 0xff, 0xff, 0xff, 0xff]], None), 10).await;
        assert_eq!(err.unwrap_err(), ReadError::TooLarge);
        let mut short = framed(b"hello");
        short.truncate(7);
        let err = read_first_message(body(vec![short], None), 64).await;
        assert_eq!(err.unwrap_err(), ReadError::Incomplete);
        let err = read_first_message(body(vec![], None), 64).await;
        assert_eq!(err.unwrap_err(), ReadError::Incomplete);
        let mut compressed = framed(b"hello");
        compressed[0] = 1;
        let err = read_first_message(body(vec![compressed], None), 64).await;
        assert_eq!(err.unwrap_err(), ReadError::Compressed);
    }

    #[tokio::test]
    async fn a_broken_body_is_reported() {
        let frames = vec![
            Ok(Frame::data(Bytes::from_static(&[0, 0, 0]))),
            Err(tonic::Status::cancelled("gone")),
        ];
        let b = Body::new(StreamBody::new(futures_util::stream::iter(frames)));
        assert_eq!(
            read_first_message(b, 64).await.unwrap_err(),
            ReadError::Broken
        );
    }
}
