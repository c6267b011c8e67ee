//! Consoles: a pseudo-terminal made inside the container, its master sent to
//! the caller's console socket (SCM_RIGHTS), as runc's contract has it.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use crate::error::{Error, Result};

/// Connects to the console socket (before pivot_root, while its path is visible).
pub fn connect(path: &Path) -> Result<UnixStream> {
    UnixStream::connect(path).map_err(|e| {
        Error::Setup(format!(
            "connecting to console socket {}: {e}",
            path.display()
        ))
    })
}

/// A new pty pair from /dev/ptmx of the current mount namespace.
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Opens a pseudo-terminal pair.
pub fn open_pty() -> Result<Pty> {
    // SAFETY: path is a valid C string; flags are plain integers.
    let master = unsafe {
        libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if master < 0 {
        return Err(Error::sys("opening /dev/ptmx", nix::Error::last()));
    }
    // SAFETY: `master` is a freshly opened descriptor we own.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK takes a pointer to an int.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(Error::sys("unlocking pty (TIOCSPTLCK)", nix::Error::last()));
    }
    // SAFETY: TIOCGPTPEER returns a new descriptor for the slave side.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY,
        )
    };
    if slave < 0 {
        return Err(Error::sys(
            "opening pty slave (TIOCGPTPEER)",
            nix::Error::last(),
        ));
    }
    // SAFETY: `slave` is a freshly opened descriptor we own.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    Ok(Pty { master, slave })
}

/// Sets the window size of a terminal.
pub fn set_size(fd: RawFd, rows: u16, cols: u16) -> Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize structure.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(Error::sys("setting terminal size", nix::Error::last()));
    }
    Ok(())
}

/// Sends the master to the console socket, with the pty's name as payload.
pub fn send_master(socket: &UnixStream, master: &OwnedFd) -> Result<()> {
    let name = b"/dev/ptmx";
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(name)],
        &cmsg,
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| Error::sys("sending the pty master to the console socket", e))?;
    Ok(())
}

/// Makes `slave` the controlling terminal and stdin/stdout/stderr of this process.
pub fn become_console(slave: &OwnedFd) -> Result<()> {
    let fd = slave.as_raw_fd();
    // SAFETY: the process is a session leader (setsid ran); TIOCSCTTY takes an int.
    if unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) } < 0 {
        return Err(Error::sys(
            "making the pty the controlling terminal",
            nix::Error::last(),
        ));
    }
    for target in 0..3 {
        // SAFETY: dup2 on descriptors we own; the targets are the standard ones.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(Error::sys("dup2 of the pty onto stdio", nix::Error::last()));
        }
    }
    Ok(())
}
