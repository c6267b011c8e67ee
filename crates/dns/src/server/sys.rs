//! The few system calls the resolver makes through libc: epoll, inotify,
//! setns, flock, fork, random ids.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// An epoll instance; events carry a u64 token.
pub struct Epoll(OwnedFd);

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes flags only and returns a new descriptor.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: the descriptor was just created and is ours.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Watches `fd` for input; closing `fd` removes it.
    pub fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: a valid epoll descriptor and an event that lives for the call.
        check(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        Ok(())
    }

    /// The tokens of ready descriptors; waits at most `timeout_ms` (-1:
    /// forever). An interrupted wait returns nothing.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<Vec<u64>> {
        const MAX: usize = 64;
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; MAX];
        // SAFETY: the buffer holds MAX events and lives for the call.
        let n = unsafe {
            libc::epoll_wait(self.0.as_raw_fd(), evs.as_mut_ptr(), MAX as i32, timeout_ms)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(Vec::new()),
                _ => Err(e),
            };
        }
        Ok(evs[..n as usize].iter().map(|e| e.u64).collect())
    }
}

/// An inotify instance watching one directory for files written,
/// renamed in or out, and removed.
pub struct Inotify(OwnedFd);

impl Inotify {
    pub fn watch_dir(dir: &Path) -> io::Result<Inotify> {
        // SAFETY: inotify_init1 takes flags only and returns a new descriptor.
        let fd = check(unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) })?;
        // SAFETY: the descriptor was just created and is ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let path = cstring(dir)?;
        let mask = libc::IN_CLOSE_WRITE
            | libc::IN_MOVED_TO
            | libc::IN_MOVED_FROM
            | libc::IN_DELETE
            | libc::IN_DELETE_SELF;
        // SAFETY: a valid inotify descriptor and a NUL-terminated path.
        check(unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) })?;
        Ok(Inotify(fd))
    }

    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Reads every queued event; whether one of them was about a record
    /// (`NAME.json`; not the lock file, the journal or a temporary file)
    /// or the directory itself, or events were lost.
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 4096];
        let mut relevant = false;
        loop {
            // SAFETY: reading into a buffer that lives for the call.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return relevant;
            }
            relevant |= events_name_a_record(&buf[..n as usize]);
        }
    }
}

/// Whether a buffer of inotify events has one that matters to the zone.
fn events_name_a_record(mut buf: &[u8]) -> bool {
    const HEAD: usize = 16; // wd, mask, cookie, len
    let mut relevant = false;
    while buf.len() >= HEAD {
        let word = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let (mask, len) = (word(4), word(12) as usize);
        let name = buf.get(HEAD..HEAD + len).unwrap_or_default();
        let name = name.split(|b| *b == 0).next().unwrap_or_default();
        let lost = libc::IN_Q_OVERFLOW | libc::IN_DELETE_SELF | libc::IN_IGNORED;
        relevant |= mask & lost != 0 || (!name.starts_with(b".") && name.ends_with(b".json"));
        buf = buf.get(HEAD + len..).unwrap_or_default();
    }
    relevant
}

fn cstring(p: &Path) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

/// Moves the calling thread into the network namespace `ns`.
pub fn setns_net(ns: &File) -> io::Result<()> {
    // SAFETY: setns with an open namespace descriptor; it affects this thread only.
    check(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) })?;
    Ok(())
}

/// Takes an exclusive flock on `file` without waiting; false when another
/// holds it.
pub fn try_lock(file: &File) -> io::Result<bool> {
    // SAFETY: flock on an open descriptor.
    match check(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}

/// fork(2): the child's pid in the parent, None in the child. The caller
/// is single-threaded.
pub fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: the process has one thread when it forks (the resolver forks
    // before it starts any).
    let pid = check(unsafe { libc::fork() })?;
    Ok((pid > 0).then_some(pid))
}

/// Waits for the child; its wait status.
pub fn wait_child(pid: libc::pid_t) -> io::Result<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a status that lives for the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A new session, `/` as the working directory, stdio on /dev/null.
pub fn detach() -> io::Result<()> {
    // SAFETY: setsid takes no arguments; it fails only for a group leader.
    unsafe { libc::setsid() };
    std::env::set_current_dir("/")?;
    let null = File::options().read(true).write(true).open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 of an open descriptor onto the standard ones.
        check(unsafe { libc::dup2(null.as_raw_fd(), fd) })?;
    }
    Ok(())
}

/// Ends the process at once (no destructors, no atexit handlers: after a
/// fork, the parent's copies of the child's state must stay untouched).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Names the calling thread (`comm`, what `ps` and `top` show).
pub fn set_name(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}

/// A random 16-bit id (query ids of forwarded queries).
pub fn random_u16() -> u16 {
    let mut b = [0u8; 2];
    // SAFETY: getrandom fills the two bytes of a buffer that lives for the call.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 2, 0) };
    if n != 2 {
        // Not expected on Linux ≥ 3.17; the address of a stack value then.
        let x = &b as *const _ as usize;
        return (x >> 4) as u16;
    }
    u16::from_ne_bytes(b)
}

/// The uid of the peer of a unix stream socket.
pub fn peer_uid(fd: RawFd) -> Option<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes a ucred of `len` bytes into `cred`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(cred.uid)
}

/// One malloc arena for every thread: the TCP threads would each get
/// their own otherwise (glibc), for a few short-lived allocations.
pub fn one_malloc_arena() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt with an integer parameter, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Raises the soft limit of open files to the hard one (four descriptors
/// per served namespace).
pub fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with an rlimit that lives for the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(mask: u32, name: &str) -> Vec<u8> {
        let len = if name.is_empty() {
            0
        } else {
            (name.len() + 1).next_multiple_of(16)
        };
        let mut out = Vec::new();
        for w in [1u32, mask, 0, len as u32] {
            out.extend_from_slice(&w.to_ne_bytes());
        }
        let mut n = name.as_bytes().to_vec();
        n.resize(len, 0);
        out.extend(n);
        out
    }

    #[test]
    fn only_records_matter() {
        let ignored = [
            event(libc::IN_CLOSE_WRITE, ".lock"),
            event(libc::IN_CLOSE_WRITE, ".n1.json.tmp-1-2"),
            event(libc::IN_DELETE, ".pending.json"),
        ]
        .concat();
        assert!(!events_name_a_record(&ignored));
        let renamed = [ignored.clone(), event(libc::IN_MOVED_TO, "n1.json")].concat();
        assert!(events_name_a_record(&renamed));
        assert!(events_name_a_record(&event(libc::IN_Q_OVERFLOW, "")));
        assert!(
            !events_name_a_record(&renamed[..20]),
            "a cut event is not read past"
        );
    }
}
