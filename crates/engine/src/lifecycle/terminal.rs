//! An exec with a terminal: `yurta-runtime exec --tty --console-socket`
//! sends the new terminal's master over the socket (SCM_RIGHTS, as runc's
//! contract has it). [`spawn`] listens, starts the command and takes the
//! master; the front end copies bytes (the CLI to its own terminal, the
//! API over the hijacked connection, the web console over a websocket)
//! and sets the size with [`resize`].

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};

/// A started exec with a terminal, or its exit when it ended before
/// sending one (a missing command, say), with what it wrote to its
/// stderr when that was piped.
pub enum Terminal {
    Running {
        child: Child,
        master: OwnedFd,
        /// Our own descriptor of the terminal's other side (TIOCGPTPEER):
        /// while it is open the master's reads do not end with EIO, so a
        /// process that writes and exits at once loses nothing. Drop it
        /// once `child` has exited; the master's reads then drain what is
        /// left and end.
        peer: Option<OwnedFd>,
    },
    Exited {
        code: i32,
        stderr: Vec<u8>,
    },
}

/// Starts `c` (made with a console socket at `sock`) and receives the
/// terminal. The socket file is gone when this returns.
pub fn spawn(c: &mut Command, sock: &Path) -> anyhow::Result<Terminal> {
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(sock);
    let listener = UnixListener::bind(sock).with_context(|| format!("bind {}", sock.display()))?;
    let taken = receive(&listener, c);
    let _ = std::fs::remove_file(sock);
    taken
}

fn receive(listener: &UnixListener, c: &mut Command) -> anyhow::Result<Terminal> {
    listener.set_nonblocking(true)?;
    let mut child = c.spawn().context("yurta-runtime exec")?;
    loop {
        // The exit is looked at before the accept: a runtime that sent the
        // terminal (and wrote its error on it, a missing command's) and
        // then exited has its connection waiting by the time its exit
        // shows, so that output is never taken for "no terminal".
        let exit = child.try_wait()?;
        match listener.accept() {
            Ok((stream, _)) => {
                let master = receive_fd(stream.as_raw_fd());
                if master.is_err() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let master = master?;
                let peer = open_peer(&master);
                return Ok(Terminal::Running {
                    child,
                    master,
                    peer,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = exit {
                    let mut stderr = Vec::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_end(&mut e, &mut stderr);
                    }
                    return Ok(Terminal::Exited {
                        code: status.code().unwrap_or(125),
                        stderr,
                    });
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e).context("console socket");
            }
        }
    }
}

/// The runtime's own failure to start the command — what it writes last
/// on its stderr, `yurta-runtime: exec: "x": executable file not found in
/// $PATH` — without its prefix; None for anything else. Every front end
/// shows it as its one line (with exit 126 or 127).
pub fn start_failure(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let message = text.trim().strip_prefix("yurta-runtime: ")?;
    message.starts_with("exec").then(|| message.to_string())
}

/// Sets the terminal's size (rows, columns); the process sees SIGWINCH.
pub fn resize(master: &OwnedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads the winsize we pass; the descriptor is
    // borrowed for the call and stays open.
    unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
}

/// The terminal's other side, opened through the master (Linux 4.13+);
/// None where the kernel cannot.
fn open_peer(master: &OwnedFd) -> Option<OwnedFd> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor,
    // which we own from here on; the master stays open for the call.
    let fd = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    // SAFETY: a descriptor the kernel just returned, owned by nobody else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn receive_fd(sock: i32) -> anyhow::Result<OwnedFd> {
    let mut buf = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .context("receive the terminal")?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    bail!("the runtime sent no terminal on the console socket")
}
