//! The attach socket: a SOCK_SEQPACKET unix socket whose clients receive
//! the container's output and may send input, one message per packet, the
//! first byte saying what it is (see docs/supervisor.md).
//!
//! A client that cannot take more output holds one packet back; while any
//! client does, the supervisor stops reading the container's output, so a
//! slow client slows the container down (as `docker attach` does) instead
//! of losing output.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use crate::{sys, Error};

/// Output packet kinds (server to client).
pub const OUT_STDOUT: u8 = 1;
pub const OUT_STDERR: u8 = 2;
pub const OUT_EXIT: u8 = 3;
/// Input packet kinds (client to server).
pub const IN_STDIN: u8 = 0;
pub const IN_CLOSE_STDIN: u8 = 1;
pub const IN_RESIZE: u8 = 2;

/// Largest payload of a packet either way.
pub const PAYLOAD_MAX: usize = 8192;
pub const MAX_CLIENTS: usize = 16;

struct Client {
    fd: OwnedFd,
    /// One output packet the client's socket had no room for; empty if none.
    pending: Vec<u8>,
    dead: bool,
}

pub struct Attach {
    path: PathBuf,
    listener: OwnedFd,
    clients: Vec<Client>,
    /// Receive buffer for input packets, allocated once.
    inbuf: Vec<u8>,
}

/// What a client sent.
pub enum Input<'a> {
    Stdin(&'a [u8]),
    CloseStdin,
    Resize(u16, u16),
    Nothing,
}

impl Attach {
    /// Binds and listens at `path` (replacing a stale socket file).
    pub fn bind(path: &Path) -> Result<Self, Error> {
        let what = || format!("attach socket {}", path.display());
        let c = sys::cstr(path)?;
        // SAFETY: plain socket(2) call.
        let fd = unsafe {
            libc::socket(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if fd < 0 {
            return Err(sys::err(what()));
        }
        // SAFETY: socket returned a new descriptor we own.
        let listener = unsafe { OwnedFd::from_raw_fd(fd) };
        let addr = sockaddr(&c).ok_or_else(|| {
            Error(format!(
                "{}: path too long for a unix socket (max 107 bytes)",
                what()
            ))
        })?;
        let _ = std::fs::remove_file(path);
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        // SAFETY: `addr` is a valid sockaddr_un of `len` bytes.
        if unsafe { libc::bind(fd, (&addr as *const libc::sockaddr_un).cast(), len) } < 0 {
            return Err(sys::err(format!("binding {}", what())));
        }
        // SAFETY: listen on our bound socket.
        if unsafe { libc::listen(fd, MAX_CLIENTS as i32) } < 0 {
            return Err(sys::err(format!("listening on {}", what())));
        }
        Ok(Attach {
            path: path.to_path_buf(),
            listener,
            clients: Vec::with_capacity(MAX_CLIENTS),
            inbuf: Vec::new(),
        })
    }

    pub fn listener(&self) -> RawFd {
        self.listener.as_raw_fd()
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn client_fd(&self, i: usize) -> RawFd {
        self.clients[i].fd.as_raw_fd()
    }

    pub fn client_pending(&self, i: usize) -> bool {
        !self.clients[i].pending.is_empty()
    }

    /// Whether some client still holds output back.
    pub fn blocked(&self) -> bool {
        self.clients.iter().any(|c| !c.pending.is_empty())
    }

    /// Takes an inherited connected socket (`--attach-fd`) as a client.
    pub fn adopt(&mut self, fd: OwnedFd) -> Result<(), Error> {
        sys::set_nonblock(fd.as_raw_fd())?;
        sys::set_cloexec(fd.as_raw_fd())?;
        if self.inbuf.is_empty() {
            self.inbuf = vec![0; PAYLOAD_MAX + 1];
        }
        self.clients.push(Client {
            fd,
            pending: Vec::new(),
            dead: false,
        });
        Ok(())
    }

    /// Accepts every waiting connection (beyond MAX_CLIENTS they are closed).
    pub fn accept(&mut self) {
        loop {
            // SAFETY: accept4 on our listening socket; the peer address is not wanted.
            let fd = unsafe {
                libc::accept4(
                    self.listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                )
            };
            if fd < 0 {
                return;
            }
            // SAFETY: accept4 returned a new descriptor we own.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            if self.clients.len() < MAX_CLIENTS {
                if self.inbuf.is_empty() {
                    self.inbuf = vec![0; PAYLOAD_MAX + 1];
                }
                self.clients.push(Client {
                    fd,
                    pending: Vec::new(),
                    dead: false,
                });
            }
        }
    }

    /// Sends `data` as packets of `kind` to every client.
    pub fn broadcast(&mut self, kind: u8, data: &[u8]) {
        for c in &mut self.clients {
            if c.dead {
                continue;
            }
            for chunk in data.chunks(PAYLOAD_MAX) {
                if !c.pending.is_empty() {
                    // Cannot happen while output is held back; keep order anyway.
                    break;
                }
                match send(c.fd.as_raw_fd(), kind, chunk) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        c.pending.push(kind);
                        c.pending.extend_from_slice(chunk);
                    }
                    Err(_) => c.dead = true,
                }
            }
        }
    }

    /// Retries client `i`'s held-back packet.
    pub fn flush(&mut self, i: usize) {
        let c = &mut self.clients[i];
        if c.pending.is_empty() {
            return;
        }
        match send(c.fd.as_raw_fd(), c.pending[0], &c.pending[1..]) {
            Ok(()) => c.pending.clear(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => c.dead = true,
        }
    }

    /// Reads one packet of client `i`; a closed or failed client is dropped later.
    pub fn receive(&mut self, i: usize) -> Input<'_> {
        let c = &mut self.clients[i];
        // SAFETY: `inbuf` is valid for writes of its length.
        let n = unsafe {
            libc::recv(
                c.fd.as_raw_fd(),
                self.inbuf.as_mut_ptr().cast(),
                self.inbuf.len(),
                0,
            )
        };
        if n <= 0 {
            if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
                c.dead = true;
            }
            return Input::Nothing;
        }
        parse(&self.inbuf[..n as usize])
    }

    pub fn hang_up(&mut self, i: usize) {
        self.clients[i].dead = true;
    }

    /// Forgets clients that hung up or failed.
    pub fn drop_dead(&mut self) {
        self.clients.retain(|c| !c.dead);
    }
}

impl Drop for Attach {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn parse(packet: &[u8]) -> Input<'_> {
    match packet[0] {
        IN_STDIN => Input::Stdin(&packet[1..]),
        IN_CLOSE_STDIN => Input::CloseStdin,
        IN_RESIZE => {
            let text = std::str::from_utf8(&packet[1..]).unwrap_or("");
            let mut it = text.split_ascii_whitespace().map(|v| v.parse::<u16>());
            match (it.next(), it.next()) {
                (Some(Ok(rows)), Some(Ok(cols))) => Input::Resize(rows, cols),
                _ => Input::Nothing,
            }
        }
        _ => Input::Nothing,
    }
}

/// One packet: the kind byte, then `data`, gathered without copying.
fn send(fd: RawFd, kind: u8, data: &[u8]) -> io::Result<()> {
    let kind = [kind];
    let iov = [
        libc::iovec {
            iov_base: kind.as_ptr() as *mut _,
            iov_len: 1,
        },
        libc::iovec {
            iov_base: data.as_ptr() as *mut _,
            iov_len: data.len(),
        },
    ];
    // SAFETY: msghdr is plain data; the fields set below point at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut _;
    msg.msg_iovlen = 2;
    // SAFETY: `msg` describes two valid iovecs that outlive the call.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A sockaddr_un for `path`, if it fits.
pub fn sockaddr(path: &std::ffi::CStr) -> Option<libc::sockaddr_un> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.to_bytes();
    if bytes.len() >= addr.sun_path.len() {
        return None;
    }
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_input_packets() {
        assert!(matches!(parse(b"\x00hi"), Input::Stdin(b"hi")));
        assert!(matches!(parse(b"\x01"), Input::CloseStdin));
        assert!(matches!(parse(b"\x0224 80"), Input::Resize(24, 80)));
        assert!(matches!(parse(b"\x02x"), Input::Nothing));
        assert!(matches!(parse(b"\x09"), Input::Nothing));
    }
}
