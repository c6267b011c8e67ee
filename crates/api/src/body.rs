//! Response bodies: whole (JSON, text) or streamed from a channel that a
//! blocking task or a follower fills (save, events).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame};
use tokio::sync::mpsc;

/// Every response's body type.
pub type Body = BoxBody<Bytes, io::Error>;

/// A whole body.
pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// A body read from a channel: each `Ok` is sent as it comes, an `Err`
/// aborts the response (the client sees a truncated stream), the
/// channel's end is the body's end.
pub struct Channel {
    rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl Channel {
    /// The body and the sender that fills it (`capacity` chunks ahead).
    pub fn open(capacity: usize) -> (mpsc::Sender<io::Result<Bytes>>, Body) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, Channel { rx }.boxed())
    }
}

impl HttpBody for Channel {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|r| r.map(Frame::data)))
    }
}

/// A `Write` for blocking code (save) that sends what it is given into a
/// [`Channel`]; a client gone makes the write fail (BrokenPipe).
pub struct ChannelWriter {
    pub tx: mpsc::Sender<io::Result<Bytes>>,
}

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A `Read` for blocking code (load) over chunks an async task pumps from
/// the request body; an `Err` chunk is a failed upload.
pub struct ChannelReader {
    pub rx: mpsc::Receiver<io::Result<Bytes>>,
    pub buf: Bytes,
}

impl io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.buf = chunk?,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

/// Sends a request body's data chunks into `tx` (for a [`ChannelReader`]
/// on blocking code: load, import, a build context) until the body ends,
/// fails (an `Err` chunk), or the reader goes away.
pub async fn pump(mut body: hyper::body::Incoming, tx: mpsc::Sender<io::Result<Bytes>>) {
    while let Some(frame) = body.frame().await {
        let chunk = match frame {
            Ok(f) => match f.into_data() {
                Ok(d) => Ok(d),
                Err(_) => continue,
            },
            Err(e) => Err(io::Error::other(e)),
        };
        if tx.send(chunk).await.is_err() {
            break;
        }
    }
}
