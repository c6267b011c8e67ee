//! A client of the supervisor's attach socket (SOCK_SEQPACKET; the first
//! byte of a packet is its kind, docs/supervisor.md): output to our
//! stdout/stderr, our stdin to the container (`-i`), the terminal in raw
//! mode and its size with `-t`.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use nix::sys::socket::{
    connect, recv, send, socket, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::termios;

pub struct Attach {
    sock: OwnedFd,
    stdin: bool,
    tty: bool,
    /// The detach sequence (with a terminal and stdin); None: off.
    detach_keys: Option<Vec<u8>>,
    detached: Arc<AtomicBool>,
}

impl Attach {
    pub fn connect(path: &Path, stdin: bool, tty: bool) -> anyhow::Result<Attach> {
        let sock = socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        let addr = UnixAddr::new(path)?;
        connect(sock.as_raw_fd(), &addr).with_context(|| format!("attach {}", path.display()))?;
        Ok(Attach::on(sock, stdin, tty))
    }

    /// A client on our end of the socket pair `lifecycle::start` made.
    pub fn on(sock: OwnedFd, stdin: bool, tty: bool) -> Attach {
        Attach {
            sock,
            stdin,
            tty,
            detach_keys: None,
            detached: Arc::default(),
        }
    }

    /// Detaching with `keys` (`--detach-keys`) on a terminal.
    pub fn with_detach_keys(mut self, keys: &super::detach::DetachKeysArg) -> Attach {
        self.detach_keys = keys.keys.0.clone().filter(|_| self.tty && self.stdin);
        self
    }

    /// The user typed the detach keys: the container runs on.
    pub fn detached(&self) -> bool {
        self.detached.load(Ordering::SeqCst)
    }

    /// Streams output (and our input) until the supervisor closes the
    /// socket, or with [`Until::Exit`] until it announces the container's
    /// exit; the last exit code announced.
    pub fn pump(&self, until: Until) -> anyhow::Result<Option<i32>> {
        let raw = self.tty.then(raw_mode).flatten();
        if self.tty {
            if let Some((rows, cols)) = term_size() {
                let _ = send(
                    self.sock.as_raw_fd(),
                    format!("\x02{rows} {cols}").as_bytes(),
                    MsgFlags::empty(),
                );
            }
        }
        if self.stdin {
            let fd = self.sock.try_clone()?;
            let tty = self.tty;
            let matcher = self.detach_keys.clone().map(super::detach::Matcher::new);
            let detached = self.detached.clone();
            std::thread::spawn(move || forward_stdin(fd, tty, matcher, &detached));
        }
        let r = self.read_loop(until);
        if let Some(saved) = raw {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), termios::SetArg::TCSANOW, &saved);
        }
        r
    }

    /// Blocks until the supervisor closes the socket, which it does by
    /// exiting; anything still sent is dropped.
    pub fn wait_closed(&self) {
        let mut buf = [0u8; 4096];
        loop {
            match recv(self.sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::errno::Errno::EINTR) => continue,
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    fn read_loop(&self, until: Until) -> anyhow::Result<Option<i32>> {
        let mut buf = vec![0u8; 65536];
        let mut code = None;
        let mut err = std::io::stderr();
        loop {
            let n = match recv(self.sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(0) => return Ok(code),
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e).context("attach socket"),
            };
            let data = &buf[1..n];
            match buf[0] {
                // A closed stdout ends the CLI (main dies of SIGPIPE); the
                // container goes on, and its supervisor cleans up after it.
                1 => crate::out::write_bytes(data)?,
                2 => {
                    let _ = err.write_all(data);
                }
                3 => {
                    code = std::str::from_utf8(data)
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                    if matches!(until, Until::Exit) && code.is_some() {
                        return Ok(code);
                    }
                }
                _ => {}
            }
        }
    }
}

/// When [`Attach::pump`] returns.
#[derive(Clone, Copy)]
pub enum Until {
    /// The supervisor closed the socket (after the container's last run).
    Closed,
    /// The supervisor announced an exit: for a container it will not
    /// restart, the output is complete (the supervisor drains it first).
    Exit,
}

/// Our stdin to the container. The detach keys, when typed, are not sent:
/// the socket is shut down, which ends the read loop.
fn forward_stdin(
    sock: OwnedFd,
    tty: bool,
    mut detach: Option<super::detach::Matcher>,
    detached: &AtomicBool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut stdin = std::io::stdin();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (data, detach_now) = match &mut detach {
            Some(m) => m.feed(&buf[..n]),
            None => (buf[..n].to_vec(), false),
        };
        if !data.is_empty() {
            let packet = [&[0u8][..], &data].concat();
            if send(sock.as_raw_fd(), &packet, MsgFlags::empty()).is_err() {
                return;
            }
        }
        if detach_now {
            detached.store(true, Ordering::SeqCst);
            let _ = nix::sys::socket::shutdown(sock.as_raw_fd(), nix::sys::socket::Shutdown::Both);
            return;
        }
    }
    if !tty {
        let _ = send(sock.as_raw_fd(), &[1], MsgFlags::empty());
    }
}

/// Puts our terminal in raw mode; the settings to restore.
pub fn raw_mode() -> Option<termios::Termios> {
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
    let mut raw = saved.clone();
    termios::cfmakeraw(&mut raw);
    termios::tcsetattr(stdin.as_fd(), termios::SetArg::TCSANOW, &raw).ok()?;
    Some(saved)
}

pub fn term_size() -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own.
    let r = unsafe { libc::ioctl(libc::STDIN_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Docker's sig-proxy for an attached `run`/`start -a`: SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to this process are blocked and
/// forwarded to the container by `yurta-runtime kill` from a thread.
/// Children get an empty mask (std resets it at spawn).
pub fn proxy_signals(ctx: crate::Ctx, id: String) {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        set.add(s);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        while let Ok(sig) = set.wait() {
            let name = sig.as_str().trim_start_matches("SIG");
            let _ = super::state::runtime(&ctx, &["kill", &id, name]);
        }
    });
}
