//! Typed messages between the process roles that set a container up.
//!
//! The runtime (`parent`), the namespace-making `intermediate` and the
//! container's `init` share a SOCK_SEQPACKET socket pair; each message is
//! one JSON datagram, so boundaries are kept by the kernel and a peer that
//! dies shows up as end-of-file rather than a hang.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::socket::{recv, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Messages exchanged while a container or an exec'd process is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// intermediate → parent: write uid_map/gid_map for this pid.
    WriteIdMaps { pid: i32 },
    /// parent → intermediate: the maps are written.
    IdMapsWritten,
    /// intermediate → parent: host pid of the process that becomes init.
    InitPid { pid: i32 },
    /// init → parent: run prestart and createRuntime hooks now.
    RunCreateRuntimeHooks,
    /// parent → init: those hooks ran.
    HooksDone,
    /// init → parent: setup finished; waiting for `start` (or about to exec).
    Ready,
    /// init or exec'd process → parent: a seccomp notify listener is open
    /// as this descriptor number; take a copy (pidfd_getfd).
    SeccompListener { fd: i32 },
    /// parent → init or exec'd process: the copy is taken.
    SeccompListenerTaken,
    /// any → parent: setup failed; the text says where and why.
    Failed { message: String, exit_code: i32 },
}

/// One end of the channel.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// Makes a connected pair of channel ends (close-on-exec).
pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::sys("socketpair(AF_UNIX, SOCK_SEQPACKET)", e))?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// Sends one message. With write(2), not send(2): a seccomp profile may
    /// make any syscall but `write` wait for a notify agent, and init still
    /// talks to the parent after its filter is loaded. (The runtime ignores
    /// SIGPIPE, as every Rust program does, so a closed peer is EPIPE.)
    pub fn send(&self, msg: &Message) -> Result<()> {
        let data = serde_json::to_vec(msg).map_err(|e| Error::Setup(e.to_string()))?;
        loop {
            match nix::unistd::write(&self.fd, &data) {
                Ok(_) => return Ok(()),
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(Error::sys("sending on the setup channel", e)),
            }
        }
    }

    /// Receives one message; `None` when the peer closed its end.
    pub fn recv(&self) -> Result<Option<Message>> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => break n,
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(Error::sys("receiving on the setup channel", e)),
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|e| Error::Setup(format!("bad message on the setup channel: {e}")))
    }

    /// Receives a message and requires it to be `want`-shaped.
    pub fn expect(&self, what: &str, accept: impl Fn(&Message) -> bool) -> Result<Message> {
        match self.recv()? {
            Some(Message::Failed { message, .. }) => Err(Error::Setup(message)),
            Some(m) if accept(&m) => Ok(m),
            Some(m) => Err(Error::Setup(format!("expected {what}, got {m:?}"))),
            None => Err(Error::Setup(format!("setup process exited before {what}"))),
        }
    }

    /// Reports a failure to the parent (best effort: the parent may be gone).
    pub fn fail(&self, err: &Error, exit_code: i32) {
        let _ = self.send(&Message::Failed {
            message: err.to_string(),
            exit_code,
        });
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_and_eof_is_seen() {
        let (a, b) = pair().unwrap();
        a.send(&Message::InitPid { pid: 42 }).unwrap();
        assert_eq!(b.recv().unwrap(), Some(Message::InitPid { pid: 42 }));
        a.send(&Message::Failed {
            message: "mount /proc: EPERM".into(),
            exit_code: 1,
        })
        .unwrap();
        let err = b.expect("Ready", |m| *m == Message::Ready).unwrap_err();
        assert!(err.to_string().contains("mount /proc"));
        drop(a);
        assert_eq!(b.recv().unwrap(), None);
    }
}
