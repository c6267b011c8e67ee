//! The process roles that make a container, named after what they do:
//!
//! - the **parent** is the runtime command itself (`create`, `run`, `exec`):
//!   it forks, puts the child in its cgroup, writes id maps, runs the
//!   runtime-namespace hooks and records the state;
//! - the **intermediate** process joins and creates namespaces, then forks
//!   the init (a new pid namespace only applies to children) and exits;
//! - **init** sets up the root filesystem and waits on the exec fifo for
//!   `start`, then becomes the user's process with `execve`.
//!
//! `exec` uses the same shape: an intermediate joins the container's
//! namespaces and forks the process that execs the command.

pub mod cgroup_fork;
pub mod exec;
pub mod finish;
pub mod init;
pub mod intermediate;
pub mod sched;

use std::convert::Infallible;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use oci_spec::runtime::{Process, Spec};

use crate::channel::Channel;
use crate::error::Error;
use crate::namespaces::Plan;

/// Everything init needs, known before the first fork.
#[derive(Debug, Clone)]
pub struct InitArgs {
    pub id: String,
    pub spec: Spec,
    pub process: Process,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub fifo: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    pub plan: Plan,
    /// Compiled by the parent before the fork (beside its cgroup work).
    pub seccomp: Option<yurta_seccomp::Program>,
}

/// Exit code of a setup process that failed.
pub const SETUP_FAILED: i32 = 1;

/// Runs a child role; reports its error to the parent and exits. Never returns.
pub fn run_role(ch: &Channel, role: impl FnOnce() -> Result<Infallible, (Error, i32)>) -> ! {
    let code = match role() {
        Ok(never) => match never {},
        Err((err, code)) => {
            ch.fail(&err, code);
            code
        }
    };
    // SAFETY: _exit ends this forked child without running the parent's
    // atexit handlers or flushing its copied stdio buffers.
    unsafe { libc::_exit(code) }
}

/// Forks. The child runs `child` and never returns; the parent gets its pid.
pub fn fork_child(child: impl FnOnce() -> Infallible) -> crate::Result<i32> {
    // SAFETY: the runtime is single-threaded, so the child may do anything
    // the parent could; it leaves only through `_exit` or `execve`.
    match unsafe { nix::unistd::fork() } {
        // The child never comes back from `child()`.
        #[allow(unreachable_code)]
        Ok(nix::unistd::ForkResult::Child) => match child() {},
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(child.as_raw()),
        Err(e) => Err(Error::sys("fork", e)),
    }
}

/// Forks `child`, which starts only once the returned pipe end is dropped:
/// the caller first sends the child's pid, which a message of the child
/// on the same channel must not overtake. The pipe's only writer is the
/// caller, so its exit releases the child too.
pub fn fork_held(child: impl FnOnce() -> Infallible) -> crate::Result<(i32, OwnedFd)> {
    let (go_read, go_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let (read_fd, write_fd) = (go_read.as_raw_fd(), go_write.as_raw_fd());
    let pid = fork_child(|| {
        // SAFETY: the child's copies of the pipe's ends; each is closed
        // once, and nothing else in the child owns them.
        unsafe { libc::close(write_fd) };
        wait_for_eof(read_fd);
        // SAFETY: as above.
        unsafe { libc::close(read_fd) };
        child()
    })?;
    drop(go_read);
    Ok((pid, go_write))
}

/// Blocks until every write end of the pipe is closed.
fn wait_for_eof(read_fd: RawFd) {
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(read_fd, &mut byte) {
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
    }
}
