//! The receiving end of `--console-socket`: a unix socket on which the
//! runtime sends the pty master with SCM_RIGHTS.

use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

pub struct ConsoleSocket {
    pub path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    pub fn bind(path: &Path) -> Self {
        let listener = UnixListener::bind(path).unwrap();
        ConsoleSocket {
            path: path.to_path_buf(),
            listener,
        }
    }

    /// Accepts the runtime's connection in a thread (the runtime sends the
    /// master while `create` or `run` is still running).
    pub fn receive_in_background(self) -> mpsc::Receiver<OwnedFd> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((stream, _)) = self.listener.accept() {
                if let Some(fd) = receive_fd(stream.as_raw_fd()) {
                    let _ = tx.send(fd);
                }
            }
        });
        rx
    }
}

fn receive_fd(sock: RawFd) -> Option<OwnedFd> {
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), MsgFlags::empty()).ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just gave us this descriptor; nothing else owns it.
            return fds.first().map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}

/// Reads the pty master in a thread until `text` shows up, EOF/EIO, or 5 s.
pub fn read_until(master: OwnedFd, text: &str) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut buf = [0u8; 1024];
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut out = Vec::new();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(5)) {
        out.extend(chunk);
        if String::from_utf8_lossy(&out).contains(text) {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
