//! Bodies: responses (whole, empty, or a file streamed by a blocking
//! reader), and request bodies read frame by frame with a limit on size
//! and on how long a client may stall between frames.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body as HttpBody, Frame, Incoming};
use tokio::sync::mpsc;

use crate::errors::{ApiError, Code};

/// Every response's body.
pub type Body = BoxBody<Bytes, io::Error>;

pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// How much of a blob file to read per chunk sent.
const CHUNK: usize = 256 << 10;

struct Channel(mpsc::Receiver<io::Result<Bytes>>);

impl HttpBody for Channel {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|r| r.map(Frame::data)))
    }
}

/// `len` bytes of `path` from `start`, read by a blocking task a few
/// chunks ahead of the client.
pub fn file_range(path: &Path, start: u64, len: u64) -> io::Result<Body> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut left = len;
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            let mut buf = vec![0u8; want];
            let chunk = match file.read_exact(&mut buf) {
                Ok(()) => Ok(Bytes::from(buf)),
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
            left -= want as u64;
        }
    });
    Ok(Channel(rx).boxed())
}

/// The next chunk of a request body, or None at its end; a client that
/// sends nothing for `idle` is cut off (others are not affected: each
/// connection is its own task).
pub async fn next_chunk(body: &mut Incoming, idle: Duration) -> Result<Option<Bytes>, ApiError> {
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => {
                return Err(
                    ApiError::detail(Code::BlobUploadInvalid, "the request body stalled")
                        .with_status(408),
                )
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => {
                return Err(ApiError::detail(
                    Code::BlobUploadInvalid,
                    format!("reading the request body: {e}"),
                ))
            }
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
}

/// A whole request body of at most `max` bytes (manifests).
pub async fn read_limited(
    body: &mut Incoming,
    max: usize,
    idle: Duration,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = next_chunk(body, idle).await? {
        if out.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A body over the limit.
pub fn too_large(max: usize) -> ApiError {
    ApiError::detail(
        Code::SizeInvalid,
        format!("the body is over the limit of {max} bytes"),
    )
    .with_status(413)
}
