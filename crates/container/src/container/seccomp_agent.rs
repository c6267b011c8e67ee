//! `linux.seccomp.listenerPath`: handing a seccomp notify listener to the
//! agent, as the runtime spec describes it. The container process loads its
//! filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` and reports the
//! listener's descriptor number (`Message::SeccompListener`); the runtime
//! copies it with pidfd_getfd (as runc does), lets the process go on,
//! connects to the agent's socket and sends one "container process state"
//! JSON document with the descriptor (`SCM_RIGHTS`, name `seccompFd`), then
//! closes the connection. Any failure fails the command, whose cleanup
//! kills the process: nothing waits for an agent that is not there.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use oci_spec::runtime::{LinuxSeccompAction, Spec};

use crate::channel::{Channel, Message};
use crate::error::{Error, Result};
use crate::state::OciState;

/// How long connecting to and writing to the agent may block (a full
/// listen backlog, an agent that does not read).
const AGENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses notify rules without an agent to receive their listener.
pub fn check_config(spec: &Spec) -> Result<()> {
    let Some(seccomp) = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) else {
        return Ok(());
    };
    let notifies = seccomp
        .syscalls()
        .iter()
        .flatten()
        .any(|s| s.action() == LinuxSeccompAction::ScmpActNotify);
    let path = seccomp.listener_path().as_deref();
    if notifies && path.is_none_or(|p| p.as_os_str().is_empty()) {
        return Err(Error::InvalidConfig(
            "linux.seccomp has SCMP_ACT_NOTIFY rules but no listenerPath for a seccomp agent"
                .into(),
        ));
    }
    Ok(())
}

/// Answers `Message::SeccompListener { fd }` of process `pid`: copies the
/// descriptor, tells the process, and sends `state` (the container's, with
/// `pid` as the process) to the agent.
pub fn hand_over(ch: &Channel, spec: &Spec, pid: i32, fd: i32, state: &OciState) -> Result<()> {
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let path = seccomp
        .and_then(|s| s.listener_path().clone())
        .ok_or_else(|| Error::Setup("a seccomp listener came without a listenerPath".into()))?;
    let listener = copy_fd(pid, fd)?;
    ch.send(&Message::SeccompListenerTaken)?;
    let mut doc = serde_json::json!({
        "ociVersion": crate::spec::OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": pid,
        "state": state,
    });
    if let Some(meta) = seccomp.and_then(|s| s.listener_metadata().as_ref()) {
        doc["metadata"] = serde_json::Value::String(meta.clone());
    }
    send_to_agent(&path, doc.to_string().as_bytes(), &listener)
}

/// pidfd_open + pidfd_getfd (Linux 5.6).
fn copy_fd(pid: i32, fd: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags; the result is a new descriptor.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return Err(Error::sys(
            format!("pidfd_open of pid {pid} for its seccomp listener"),
            nix::Error::last(),
        ));
    }
    // SAFETY: pidfd_open returned a descriptor that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: pidfd_getfd takes a pidfd, a descriptor number and flags.
    let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if copy < 0 {
        return Err(Error::sys(
            format!("pidfd_getfd of the seccomp listener (fd {fd} of pid {pid})"),
            nix::Error::last(),
        ));
    }
    // SAFETY: pidfd_getfd returned a new descriptor (close-on-exec) we own.
    Ok(unsafe { OwnedFd::from_raw_fd(copy as i32) })
}

/// One connection, one document, the descriptor with its first byte.
fn send_to_agent(path: &Path, doc: &[u8], listener: &OwnedFd) -> Result<()> {
    let what = |e: std::io::Error| {
        Error::Setup(format!(
            "seccomp agent at listenerPath {}: {e}",
            path.display()
        ))
    };
    let sock = connect(path).map_err(what)?;
    let fds = [listener.as_raw_fd()];
    let mut sent = 0;
    while sent < doc.len() {
        let iov = [IoSlice::new(&doc[sent..])];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        let cmsgs: &[ControlMessage] = if sent == 0 { &cmsg } else { &[] };
        match sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) => sent += n,
            Err(nix::Error::EINTR) => {}
            Err(e) => return Err(what(e.into())),
        }
    }
    Ok(())
}

/// A stream connection whose connect and writes give up after [`AGENT_TIMEOUT`].
fn connect(path: &Path) -> std::io::Result<UnixStream> {
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let timeout = nix::sys::time::TimeVal::new(AGENT_TIMEOUT.as_secs() as _, 0);
    nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::SendTimeout, &timeout)?;
    let addr = nix::sys::socket::UnixAddr::new(path)?;
    nix::sys::socket::connect(sock.as_raw_fd(), &addr)?;
    Ok(UnixStream::from(sock))
}
