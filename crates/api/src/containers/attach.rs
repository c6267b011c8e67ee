//! `POST /containers/{id}/attach` (hijacked with `Upgrade: tcp`) and
//! `POST /containers/{id}/resize`: the client's connection becomes the
//! container's stdio, bridged to its supervisor's attach socket
//! (SOCK_SEQPACKET, one kind byte per packet, docs/supervisor.md).
//!
//! `docker run` attaches before it starts the container: such an attach
//! waits in [`Pending`] and the start through this service hands it the
//! socket pair made for the supervisor, so no output is missed; started
//! by another front end, it connects by path once the supervisor listens.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use yurta_engine::lifecycle::single_run;
use yurta_engine::Paths;

use super::{lookup, open};
use crate::body::empty;
use crate::error::ApiError;
use crate::request::{blocking, Call, Reply};

use yurta_engine::lifecycle::attach_protocol::{
    EXITED, FROM_STDERR, FROM_STDOUT, RESIZE, STDIN_CLOSED, TO_STDIN,
};

/// How often a waiting attach looks for a supervisor started elsewhere.
const POLL: Duration = Duration::from_millis(100);

/// Attaches waiting for their container to start: each gets the socket
/// pair's end (the first) or None (connect by path).
#[derive(Default)]
pub(crate) struct Pending(Mutex<HashMap<String, Vec<oneshot::Sender<Option<OwnedFd>>>>>);

impl Pending {
    pub fn add(&self, id: &str) -> oneshot::Receiver<Option<OwnedFd>> {
        let (tx, rx) = oneshot::channel();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(id.to_string()).or_default();
        list.retain(|t| !t.is_closed());
        list.push(tx);
        rx
    }

    /// Whether an attach waits for `id` (its client still connected).
    pub fn waiting(&self, id: &str) -> bool {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .is_some_and(|l| l.iter().any(|t| !t.is_closed()))
    }

    /// Hands `sock` to the first waiting attach of `id`; the others connect
    /// by path.
    pub fn hand_over(&self, id: &str, mut sock: Option<OwnedFd>) {
        let waiting = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.remove(id).unwrap_or_default()
        };
        for tx in waiting {
            if let Err(Some(back)) = tx.send(sock.take()) {
                sock = Some(back);
            }
        }
    }

    /// A start failed: the waiting attaches end (their clients read EOF).
    pub fn cancel(&self, id: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id);
    }
}

/// What the client asked to see and send.
#[derive(Clone, Copy)]
pub(crate) struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// The container has a TTY: raw output, and the client's end of input
    /// does not close its stdin.
    pub tty: bool,
    /// Raw output even without a TTY (the WebSocket attach).
    pub raw: bool,
    /// The container will not be restarted: its exit ends the stream.
    pub single_run: bool,
}

pub(crate) async fn attach(mut c: Call) -> Reply {
    let Some(on_upgrade) = c.parts.extensions.remove::<OnUpgrade>() else {
        return Err(ApiError::bad_request(
            "attach needs a hijacked connection (Connection: Upgrade, Upgrade: tcp)",
        ));
    };
    let (streams, path, pending) = target(&c, false, true).await?;
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let sock = match pending {
            Some(rx) => wait_for_start(rx, &path).await,
            None => connect(&path).ok(),
        };
        if let Some(sock) = sock {
            bridge(TokioIo::new(upgraded), sock, streams).await;
        }
    });
    Ok(hijacked())
}

/// What an attach follows, from the request's `stdin`/`stdout`/`stderr`:
/// the streams, the container's attach socket, and for a container not
/// running yet the start to wait for. `raw`: output without frames
/// (WebSocket); `stream` false sends no live output (Docker's `attach/ws`
/// without `stream`).
pub(crate) async fn target(
    c: &Call,
    raw: bool,
    stream: bool,
) -> Result<(Streams, PathBuf, Option<oneshot::Receiver<Option<OwnedFd>>>), ApiError> {
    let (stdin, stdout, stderr) = (c.flag("stdin")?, c.flag("stdout")?, c.flag("stderr")?);
    let (state, name) = (c.state.clone(), c.param(0).to_string());
    let rec = {
        let state = state.clone();
        blocking(move || lookup(&state, &open(&state)?, &name)).await?
    };
    let streams = Streams {
        stdin: stdin && rec.config.open_stdin,
        stdout: stdout && stream,
        stderr: stderr && stream,
        tty: rec.config.tty,
        raw,
        single_run: single_run(&rec),
    };
    let path = Paths::new(&state.root, &rec.id).attach;
    let pending = (!rec.state.running).then(|| state.attaches.add(&rec.id));
    Ok((streams, path, pending))
}

/// Docker's answer to a hijacking request: 101, `Upgrade: tcp`, a raw
/// stream from then on.
pub(crate) fn hijacked() -> Response<crate::body::Body> {
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.docker.raw-stream"),
    );
    r
}

/// The socket pair's end from a start through this service, or a
/// connection by path to a supervisor started by another front end;
/// None when the start failed.
pub(crate) async fn wait_for_start(
    mut rx: oneshot::Receiver<Option<OwnedFd>>,
    path: &Path,
) -> Option<OwnedFd> {
    loop {
        tokio::select! {
            handed = &mut rx => return match handed {
                Ok(Some(fd)) => Some(fd),
                Ok(None) => connect(path).ok(),
                Err(_) => None,
            },
            _ = tokio::time::sleep(POLL) => {
                if let Ok(fd) = connect(path) {
                    return Some(fd);
                }
            }
        }
    }
}

pub(crate) fn connect(path: &Path) -> nix::Result<OwnedFd> {
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    socket::connect(sock.as_raw_fd(), &UnixAddr::new(path)?)?;
    Ok(sock)
}

/// Copies the container's output to the client and the client's input to
/// the container until the output ends (the container exited, or its
/// supervisor closed the socket) or the client leaves.
pub(crate) async fn bridge<T>(io: T, sock: OwnedFd, s: Streams)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let Ok(reader) = sock.try_clone() else {
        return;
    };
    let output = tokio::task::spawn_blocking(move || read_output(&reader, &tx, s));
    let input = s.stdin.then(|| {
        let sock = sock.try_clone();
        tokio::spawn(async move {
            if let Ok(sock) = sock {
                forward_input(&mut rd, sock, s.tty).await;
            }
        })
    });
    while let Some(chunk) = rx.recv().await {
        if wr.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
    // Unblocks the output reader when the client left first.
    let _ = socket::shutdown(sock.as_raw_fd(), socket::Shutdown::Both);
    let _ = output.await;
    if let Some(i) = input {
        i.abort();
    }
}

/// The supervisor's packets as the client reads them.
fn read_output(sock: &OwnedFd, tx: &mpsc::Sender<Bytes>, s: Streams) {
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match socket::recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(0) => return,
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        };
        let data = &buf[1..n];
        let wanted = match buf[0] {
            FROM_STDOUT => s.stdout,
            FROM_STDERR => s.stderr,
            // For a container that will not run again, the output is
            // complete (the supervisor drains it before announcing).
            EXITED if s.single_run => return,
            _ => false,
        };
        if wanted
            && tx
                .blocking_send(frame(buf[0], data, s.tty || s.raw))
                .is_err()
        {
            return;
        }
    }
}

/// Raw bytes with a TTY; Docker's 8-byte frames without.
pub(crate) fn frame(kind: u8, data: &[u8], tty: bool) -> Bytes {
    if tty {
        return Bytes::copy_from_slice(data);
    }
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend([kind, 0, 0, 0]);
    out.extend((data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    Bytes::from(out)
}

/// The client's bytes to the container's stdin; its end of input closes
/// the container's stdin (without a TTY, as `docker run -i` does).
async fn forward_input<R: tokio::io::AsyncRead + Unpin>(rd: &mut R, sock: OwnedFd, tty: bool) {
    let sock = std::sync::Arc::new(sock);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let packet = [&[TO_STDIN][..], &buf[..n]].concat();
        if !send(&sock, packet).await {
            return;
        }
    }
    if !tty {
        send(&sock, vec![STDIN_CLOSED]).await;
    }
}

async fn send(sock: &std::sync::Arc<OwnedFd>, packet: Vec<u8>) -> bool {
    let sock = sock.clone();
    tokio::task::spawn_blocking(move || {
        socket::send(sock.as_raw_fd(), &packet, MsgFlags::empty()).is_ok()
    })
    .await
    .unwrap_or(false)
}

/// `POST /containers/{id}/resize?h=&w=`: the container's terminal size.
pub(crate) async fn resize(c: Call) -> Reply {
    let size = |key: &str| -> Result<u16, ApiError> {
        let v = c.q(key).unwrap_or("");
        v.parse()
            .map_err(|_| ApiError::bad_request(format!("invalid {key} {v:?}: a number of cells")))
    };
    let (h, w) = (size("h")?, size("w")?);
    let (state, name) = (c.state.clone(), c.param(0).to_string());
    blocking(move || {
        let rec = lookup(&state, &open(&state)?, &name)?;
        if !rec.state.running {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("container {} is not running", rec.bare_name()),
            ));
        }
        let path: PathBuf = Paths::new(&state.root, &rec.id).attach;
        let sock = connect(&path)
            .map_err(|e| ApiError::internal(format!("attach {}: {e}", path.display())))?;
        let packet = format!("{}{h} {w}", RESIZE as char);
        socket::send(sock.as_raw_fd(), packet.as_bytes(), MsgFlags::empty())
            .map_err(|e| ApiError::internal(format!("resize: {e}")))?;
        Ok(())
    })
    .await?;
    Ok(Response::new(empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_framed_unless_a_tty() {
        assert_eq!(
            &frame(FROM_STDOUT, b"hi", false)[..],
            b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
        );
        assert_eq!(&frame(FROM_STDOUT, b"hi", true)[..], b"hi");
    }

    #[test]
    fn a_start_hands_the_socket_to_the_first_waiting_attach() {
        let p = Pending::default();
        let mut first = p.add("c");
        let mut second = p.add("c");
        assert!(p.waiting("c"));
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        p.hand_over("c", Some(OwnedFd::from(a)));
        assert!(first.try_recv().unwrap().is_some());
        assert!(second.try_recv().unwrap().is_none());
        assert!(!p.waiting("c"));
    }
}
