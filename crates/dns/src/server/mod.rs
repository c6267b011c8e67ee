//! The resolver process, `yurta-dns --root ROOT`: one per state root,
//! started by the first container that needs it and gone when none does.
//!
//! Start-up: the exclusive flock on `<root>/networks` (the directory
//! itself, so nothing is created) makes it the root's only resolver (a
//! second one exits 0 at once); it binds the control socket (abstract,
//! see [`crate::client`]), forks and the parent exits, so the starter's
//! wait returns with the socket already accepting. The child detaches
//! (new session, stdio on /dev/null) and becomes the keeper: it forks
//! the worker that serves ([`worker`]) and waits for it. The worker exits
//! 0 when no container needs it, and the keeper with it; a worker that
//! dies otherwise (kill -9, the OOM killer, a crash) is forked again at
//! once, and the new one rebinds every namespace's sockets and rules from
//! the records. The keeper holds the lock and the control socket all
//! along, so clients wait in its backlog meanwhile. Five deaths within
//! ten seconds each make the keeper give up (the next container start
//! starts a new resolver).

mod control;
mod forward;
mod nsock;
pub(crate) mod sys;
mod tcp;
mod worker;

use std::fs::File;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

pub use nsock::{rules, RESOLVER_IP, TABLE};

/// Runs the resolver of `root`; the process's exit code.
pub fn main(root: &Path) -> i32 {
    match start(root) {
        Ok(Some(listener)) => keeper(root, listener),
        Ok(None) => 0,
        Err(e) => {
            eprintln!("yurta-dns: {e}");
            1
        }
    }
}

/// Lock, socket, fork: returns in the detached child only (None: another
/// resolver serves the root).
fn start(root: &Path) -> Result<Option<UnixListener>, String> {
    let dir = root.join("networks");
    let lock = File::open(&dir).map_err(|e| format!("open {}: {e}", dir.display()))?;
    if !sys::try_lock(&lock).map_err(|e| format!("lock {}: {e}", dir.display()))? {
        return Ok(None);
    }
    let addr = crate::client::socket_addr(root).map_err(|e| format!("{}: {e}", dir.display()))?;
    let listener = match UnixListener::bind_addr(&addr) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(None),
        Err(e) => return Err(format!("bind the control socket: {e}")),
    };
    match sys::fork().map_err(|e| format!("fork: {e}"))? {
        Some(_) => sys::exit_now(0),
        None => {
            sys::detach().map_err(|e| format!("detach: {e}"))?;
            // The lock lives as long as this descriptor, in the keeper and
            // in each worker.
            std::mem::forget(lock);
            Ok(Some(listener))
        }
    }
}

/// Forks the worker and again when it dies; ends when it exits 0.
fn keeper(root: &Path, listener: UnixListener) -> i32 {
    sys::set_name("yurta-dns");
    yurta_fault::point("dns.keeper");
    let mut quick_deaths = 0;
    loop {
        let began = Instant::now();
        let pid = match sys::fork() {
            Ok(Some(pid)) => pid,
            Ok(None) => sys::exit_now(work(root, &listener)),
            Err(_) => return 1,
        };
        let Ok(status) = sys::wait_child(pid) else {
            return 1;
        };
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            return 0;
        }
        quick_deaths = if began.elapsed() < Duration::from_secs(10) {
            quick_deaths + 1
        } else {
            0
        };
        if quick_deaths >= 5 {
            return 1;
        }
    }
}

/// The worker's life; its exit code.
fn work(root: &Path, listener: &UnixListener) -> i32 {
    sys::set_name("yurta-dns-srv");
    sys::raise_nofile();
    sys::one_malloc_arena();
    let Ok(listener) = listener.try_clone() else {
        return 1;
    };
    match worker::Worker::new(root, listener) {
        Ok(w) => w.run(),
        Err(_) => 1,
    }
}
