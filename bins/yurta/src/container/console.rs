//! `exec -t`: the runtime sends the new terminal's master over a console
//! socket (SCM_RIGHTS, as runc's `--console-socket`); we copy it to our
//! stdout, our stdin to it (`-i`), with our terminal raw and its size
//! set, until the runtime's `exec` ends with the process's code.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};

/// Runs `c` (a `yurta-runtime exec --tty --console-socket SOCK …`); its
/// exit code.
pub fn run(c: &mut Command, sock: &Path, stdin: bool) -> anyhow::Result<i32> {
    if let Some(dir) = sock.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(sock);
    let listener = UnixListener::bind(sock).with_context(|| format!("bind {}", sock.display()))?;
    listener.set_nonblocking(true)?;
    let mut child = c.spawn().context("yurta-runtime exec")?;
    let master = loop {
        match listener.accept() {
            Ok((stream, _)) => break receive_fd(stream.as_raw_fd())?,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    let _ = std::fs::remove_file(sock);
                    return Ok(status.code().unwrap_or(125));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e).context("console socket"),
        }
    };
    let _ = std::fs::remove_file(sock);
    if let Some((rows, cols)) = super::attach::term_size() {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads the winsize we pass; the fd is ours.
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    let raw = super::attach::raw_mode();
    if stdin {
        let mut to = std::fs::File::from(master.try_clone()?);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut input = std::io::stdin();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    let mut from = std::fs::File::from(master);
    let mut out = crate::out::Stdout::lock();
    let mut buf = [0u8; 8192];
    // EIO once the last process holding the terminal's other side is gone.
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    if let Some(saved) = raw {
        let stdin = std::io::stdin();
        let _ =
            nix::sys::termios::tcsetattr(stdin.as_fd(), nix::sys::termios::SetArg::TCSANOW, &saved);
    }
    Ok(child.wait()?.code().unwrap_or(125))
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
