//! Bodies: responses (whole, empty, or a file streamed by a blocking
//! reader), and request bodies read frame by frame with a limit on size
//! and on how long a client may stall between frames.

use std::fs::File;
use std::io;
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

/// How much of a blob file to map per chunk sent: a few of these are
/// mapped at once (the channel's depth), so a large blob costs the
/// service at most that much address space and resident page cache.
const CHUNK: usize = 4 << 20;

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

/// `len` bytes of `path` from `start`, mapped by a blocking task a few
/// chunks ahead of the client: the socket's write copies straight from
/// the page cache (no read into a buffer first, no zeroed buffers).
/// Blob files are written once and renamed into place, never changed,
/// so a mapping cannot see them shrink.
pub fn file_range(path: &Path, start: u64, len: u64) -> io::Result<Body> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if start.checked_add(len).is_none_or(|end| end > size) {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{}: {len} bytes from {start} pass its end", path.display()),
        ));
    }
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut at = start;
        let end = start + len;
        while at < end {
            let want = (end - at).min(CHUNK as u64) as usize;
            let chunk = Mapped::new(&file, at, want).map(Bytes::from_owner);
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
            at += want as u64;
        }
    });
    Ok(Channel(rx).boxed())
}

/// A read-only mapping of `len` bytes of a file from `offset`, unmapped
/// when dropped.
struct Mapped {
    base: *mut libc::c_void,
    map_len: usize,
    /// Where the asked-for bytes start in the mapping (offsets must be
    /// page-aligned).
    skip: usize,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; reading
// it from another thread is as safe as from this one.
unsafe impl Send for Mapped {}
// SAFETY: as above; shared references only read.
unsafe impl Sync for Mapped {}

impl Mapped {
    fn new(file: &File, offset: u64, len: usize) -> io::Result<Mapped> {
        use std::os::fd::AsRawFd;
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        let map_len = skip + len;
        // SAFETY: a fresh private read-only mapping of an open file; the
        // kernel checks the descriptor and range, and the result is
        // checked against MAP_FAILED before use.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                aligned as libc::off_t,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapped {
            base,
            map_len,
            skip,
            len,
        })
    }
}

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base` maps `map_len` readable bytes for this value's
        // life, and `skip + len == map_len`.
        unsafe { std::slice::from_raw_parts((self.base as *const u8).add(self.skip), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, once; no
        // slice of it outlives this value (Bytes owns it).
        unsafe {
            libc::munmap(self.base, self.map_len);
        }
    }
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
