//! The console socket of a `--tty` container: the runtime's init connects
//! to it during `create` and sends the pty master with SCM_RIGHTS. The
//! connection and the message wait in the socket's queues, so the
//! supervisor can run `create` to completion and take the master afterwards.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use crate::{attach, sys, Error};

pub struct ConsoleSocket {
    listener: OwnedFd,
    /// Where the socket file is.
    file: PathBuf,
    /// The path given to the runtime (shorter when `file` would not fit).
    pub path: PathBuf,
    /// Keeps the directory open for the /proc path form.
    _dir: Option<OwnedFd>,
}

impl ConsoleSocket {
    /// A listening socket `console-<pid>.sock` in `dir` (the bundle). When
    /// that path is longer than a unix socket address allows, it is reached
    /// through `/proc/<pid>/fd/<dirfd>/`, a path of constant length.
    pub fn bind(dir: &Path) -> Result<Self, Error> {
        let pid = std::process::id();
        let name = format!("console-{pid}.sock");
        let file = dir.join(&name);
        let (path, dir_fd) = if file.as_os_str().len() < 100 {
            (file.clone(), None)
        } else {
            let d = std::fs::File::open(dir)
                .map_err(|e| Error(format!("opening bundle {}: {e}", dir.display())))?;
            let fd = OwnedFd::from(d);
            (
                PathBuf::from(format!("/proc/{pid}/fd/{}/{name}", fd.as_raw_fd())),
                Some(fd),
            )
        };
        let listener = listen(&path)?;
        Ok(ConsoleSocket {
            listener,
            file,
            path,
            _dir: dir_fd,
        })
    }

    /// The pty master the runtime sent.
    pub fn receive(&self) -> Result<OwnedFd, Error> {
        // SAFETY: accept4 on our listening socket; the peer address is not wanted.
        let conn = unsafe {
            libc::accept4(
                self.listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            )
        };
        if conn < 0 {
            return Err(sys::err(format!(
                "the runtime did not connect to console socket {}",
                self.path.display()
            )));
        }
        // SAFETY: accept4 returned a new descriptor we own.
        let conn = unsafe { OwnedFd::from_raw_fd(conn) };
        receive_fd(conn.as_raw_fd()).ok_or_else(|| {
            Error(format!(
                "no terminal received on console socket {}",
                self.path.display()
            ))
        })
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

fn listen(path: &Path) -> Result<OwnedFd, Error> {
    let c = sys::cstr(path)?;
    let addr = attach::sockaddr(&c).ok_or_else(|| {
        Error(format!(
            "console socket path {} is too long",
            path.display()
        ))
    })?;
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(sys::err("console socket"));
    }
    // SAFETY: socket returned a new descriptor we own.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let _ = std::fs::remove_file(path);
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_un of `len` bytes.
    if unsafe { libc::bind(fd, (&addr as *const libc::sockaddr_un).cast(), len) } < 0 {
        return Err(sys::err(format!(
            "binding console socket {}",
            path.display()
        )));
    }
    // SAFETY: listen on our bound socket.
    if unsafe { libc::listen(fd, 1) } < 0 {
        return Err(sys::err(format!(
            "listening on console socket {}",
            path.display()
        )));
    }
    Ok(sock)
}

/// The first descriptor passed in an SCM_RIGHTS message on `sock`.
fn receive_fd(sock: RawFd) -> Option<OwnedFd> {
    let mut data = [0u8; 256];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // Room for a cmsg header and a few descriptors, aligned for cmsghdr.
    let mut cbuf = [0u64; 16];
    // SAFETY: msghdr is plain data; the fields set below point at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // SAFETY: `msg` describes buffers that outlive the call.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return None;
    }
    // SAFETY: `msg` was filled by recvmsg; CMSG_* walk its control buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    let mut found = None;
    while !cmsg.is_null() {
        // SAFETY: `cmsg` points into the control buffer recvmsg filled.
        let c = unsafe { &*cmsg };
        if c.cmsg_level == libc::SOL_SOCKET && c.cmsg_type == libc::SCM_RIGHTS {
            // SAFETY: `cmsg` points into the control buffer recvmsg filled.
            let header = unsafe { libc::CMSG_DATA(cmsg) } as usize - cmsg as usize;
            let count = (c.cmsg_len as usize - header) / std::mem::size_of::<RawFd>();
            for k in 0..count {
                // SAFETY: SCM_RIGHTS data is `count` descriptors; read unaligned.
                let fd = unsafe {
                    (libc::CMSG_DATA(cmsg) as *const RawFd)
                        .add(k)
                        .read_unaligned()
                };
                // SAFETY: the kernel gave us this descriptor; nothing else owns it.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                if found.is_none() {
                    found = Some(owned);
                }
            }
        }
        // SAFETY: advancing within the control buffer recvmsg filled.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    found
}
