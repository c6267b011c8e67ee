//! The system calls the supervisor makes, each behind a small safe wrapper.
//! Owns descriptors (pipes, signalfd, poll) and process control (fork,
//! session, subreaper, reaping); it knows nothing about containers.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::Error;

/// The last OS error, as `what: error`.
pub fn err(what: impl std::fmt::Display) -> Error {
    Error(format!("{what}: {}", io::Error::last_os_error()))
}

fn check(ret: libc::c_int, what: impl std::fmt::Display) -> Result<libc::c_int, Error> {
    if ret < 0 {
        Err(err(what))
    } else {
        Ok(ret)
    }
}

pub fn cstr(path: &Path) -> Result<CString, Error> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error(format!("path {} contains a NUL byte", path.display())))
}

/// A pipe, both ends close-on-exec: (read, write).
pub fn pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    check(r, "pipe2")?;
    // SAFETY: pipe2 succeeded; both descriptors are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn set_nonblock(fd: RawFd) -> Result<(), Error> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor we hold; no pointers involved.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) }, "fcntl F_GETFL")?;
    // SAFETY: as above.
    let r = unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    check(r, "fcntl F_SETFL O_NONBLOCK")?;
    Ok(())
}

pub fn set_cloexec(fd: RawFd) -> Result<(), Error> {
    // SAFETY: F_SETFD on a descriptor number; fails with EBADF if it is not open.
    let r = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    check(r, format_args!("--sync-fd {fd}"))?;
    Ok(())
}

/// read(2); `Ok(0)` is end of file. EIO (a pty whose other side is gone)
/// also reads as end of file.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EIO) => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// write(2) once, retried on EINTR.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

pub fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

/// poll(2) over `fds`; `timeout_ms` < 0 waits forever. EINTR reads as 0 ready.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize, Error> {
    // SAFETY: `fds` is a valid slice of pollfd structures of the given length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            return Ok(0);
        }
        return Err(err("poll"));
    }
    Ok(n as usize)
}

pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Signals read through the signalfd instead of being delivered.
const SIGNALS: [libc::c_int; 4] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP and returns a non-blocking
/// signalfd for them. Blocked, not ignored: ignored dispositions would be
/// inherited by the runtime and the container, a blocked mask is reset by
/// `std::process::Command` in its children.
pub fn signalfd() -> Result<OwnedFd, Error> {
    // SAFETY: sigset_t is plain data; sigemptyset initializes it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for s in SIGNALS {
        // SAFETY: `set` is initialized; `s` is a valid signal number.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    // SAFETY: `set` is initialized; the old mask is not wanted.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(Error(format!("pthread_sigmask: errno {r}")));
    }
    // SAFETY: -1 asks for a new signalfd with the initialized mask.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    check(fd, "signalfd")?;
    // SAFETY: signalfd returned a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The next pending signal number of a signalfd, if any.
pub fn next_signal(fd: &OwnedFd) -> Option<u32> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: `info` is valid for writes of `size` bytes.
    let n = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    (n as usize == size).then_some(info.ssi_signo)
}

/// One reaped child: pid and raw wait status.
pub fn reap_one() -> Option<(libc::pid_t, libc::c_int)> {
    let mut status = 0;
    // SAFETY: `status` is a valid int for waitpid to fill.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then_some((pid, status))
}

/// Exit code of a wait status: the code, or 128 + signal.
pub fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

/// Closes every descriptor from 3 up except `keep`.
pub fn close_inherited(keep: &[RawFd]) {
    let mut fds = [0 as RawFd; 64];
    loop {
        let n = list_fds(&mut fds);
        let mut closed = 0;
        for &fd in &fds[..n] {
            // SAFETY: closing an inherited descriptor nothing in this process
            // uses (the listing's own, already closed, fails with EBADF).
            if fd > 2 && !keep.contains(&fd) && unsafe { libc::close(fd) } == 0 {
                closed += 1;
            }
        }
        if closed == 0 || n < fds.len() {
            return;
        }
    }
}

/// Up to `out.len()` open descriptors from /proc/self/fd.
fn list_fds(out: &mut [RawFd]) -> usize {
    let Ok(rd) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        if n == out.len() {
            break;
        }
        if let Some(fd) = e.file_name().to_str().and_then(|s| s.parse().ok()) {
            out[n] = fd;
            n += 1;
        }
    }
    n
}

/// Points descriptors 0, 1 and 2 at /dev/null.
pub fn null_stdio() -> Result<(), Error> {
    // SAFETY: the path is a valid C string.
    let fd = check(
        unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) },
        "open /dev/null",
    )?;
    for target in 0..3 {
        if fd != target {
            // SAFETY: dup2 of an open descriptor onto a standard one.
            check(unsafe { libc::dup2(fd, target) }, "dup2 /dev/null")?;
        }
    }
    if fd > 2 {
        // SAFETY: `fd` is ours and no longer needed.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// fork(2): `Some(child pid)` in the parent, `None` in the child.
pub fn fork() -> Result<Option<libc::pid_t>, Error> {
    // SAFETY: the process is single-threaded here, so the child may run Rust code.
    let pid = check(unsafe { libc::fork() }, "fork")?;
    Ok((pid > 0).then_some(pid))
}

/// New session, working directory /, and child subreaper: the container's
/// init becomes our child once the runtime's intermediate process exits.
pub fn detach() -> Result<(), Error> {
    // SAFETY: setsid has no arguments; it fails only for a group leader.
    unsafe { libc::setsid() };
    // SAFETY: the path is a valid C string.
    check(unsafe { libc::chdir(c"/".as_ptr()) }, "chdir /")?;
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    check(r, "prctl PR_SET_CHILD_SUBREAPER")?;
    Ok(())
}

/// Leaves the process at once, without running destructors or atexit hooks.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Whether a path exists (no allocation beyond the C string).
pub fn exists(path: &Path) -> bool {
    let Ok(c) = cstr(path) else { return false };
    // SAFETY: `c` is a valid C string; F_OK only checks existence.
    unsafe { libc::access(c.as_ptr(), libc::F_OK) == 0 }
}

/// Whether another process holds an flock on `path` (a missing file is
/// not locked). A lock we get here is released at once.
pub fn locked_elsewhere(path: &Path) -> bool {
    let Ok(c) = cstr(path) else { return false };
    // SAFETY: `c` is a valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    // SAFETY: `fd` was just opened and is ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: flock on a descriptor we own; non-blocking.
    let r = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    r != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// CLOCK_REALTIME as (seconds, nanoseconds).
pub fn now() -> (i64, u32) {
    // SAFETY: timespec is plain data.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec as i64, ts.tv_nsec as u32)
}

/// Sets the window size of the terminal behind `fd`.
pub fn set_winsize(fd: RawFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize structure that lives for the call.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) };
}
