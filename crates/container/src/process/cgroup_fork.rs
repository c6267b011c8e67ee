//! Starting a setup process inside the container's cgroup without the
//! kernel's global threadgroup lock (see `yurta_cgroups::SelfJoin`): on
//! cgroup2 the child is forked straight into the cgroup with
//! `clone3(CLONE_INTO_CGROUP)`; on v1 hierarchies the child writes `0` to
//! each `tasks` file itself, first thing after the fork.

use std::convert::Infallible;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use yurta_cgroups::SelfJoin;

use crate::error::{Error, Result};

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// struct clone_args of clone3(2), version 2 (with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// What the child still has to do to be in the cgroup.
#[derive(Debug, Clone)]
pub struct PendingJoin {
    join: SelfJoin,
    /// clone3 was unavailable: write `0` to the v2 cgroup.procs too.
    v2_by_write: bool,
    /// The runtime process that forked the child.
    parent: i32,
}

impl PendingJoin {
    /// Run first thing in the child. The child dies with the runtime
    /// (PR_SET_PDEATHSIG): a runtime killed before the child is in the
    /// cgroup (v1 hierarchies: the child joins them itself) would leave a
    /// process that `delete --force` cannot find there.
    pub fn finish(&self) -> Result<()> {
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
        if nix::unistd::getppid().as_raw() != self.parent {
            return Err(Error::Setup(
                "the runtime exited before its setup process started".into(),
            ));
        }
        self.join.join_v1()?;
        if let (true, Some(dir)) = (self.v2_by_write, &self.join.v2_dir) {
            let procs = dir.join("cgroup.procs");
            std::fs::write(&procs, "0").map_err(|e| Error::write(procs, e))?;
        }
        Ok(())
    }
}

/// Forks `child` so that it starts in (or immediately joins) the cgroup.
/// The child gets the remaining work as a [`PendingJoin`].
pub fn fork_in_cgroup(
    join: &SelfJoin,
    child: impl FnOnce(PendingJoin) -> Infallible,
) -> Result<i32> {
    let parent = std::process::id() as i32;
    let v2_fd = match &join.v2_dir {
        Some(dir) => Some(open_dir(dir)?),
        None => None,
    };
    if let Some(fd) = &v2_fd {
        match clone3_into(fd) {
            Ok(0) => {
                let pending = PendingJoin {
                    join: join.clone(),
                    v2_by_write: false,
                    parent,
                };
                #[allow(unreachable_code)]
                return match child(pending) {};
            }
            Ok(pid) => return Ok(pid),
            // Older kernels (no clone3 or no CLONE_INTO_CGROUP): fall back.
            Err(
                nix::Error::ENOSYS | nix::Error::E2BIG | nix::Error::EINVAL | nix::Error::EPERM,
            ) => {}
            Err(e) => return Err(Error::sys("clone3(CLONE_INTO_CGROUP)", e)),
        }
    }
    let pending = PendingJoin {
        join: join.clone(),
        v2_by_write: v2_fd.is_some(),
        parent,
    };
    super::fork_child(move || child(pending))
}

fn open_dir(dir: &std::path::Path) -> Result<OwnedFd> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| Error::read(dir, e))?;
    Ok(file.into())
}

/// clone3 with fork semantics (no new stack) into the cgroup `fd`.
fn clone3_into(fd: &OwnedFd) -> nix::Result<i32> {
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: fd.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: with stack 0 clone3 behaves like fork: the child continues on a
    // copy of this (single-threaded) process's stack and returns 0 here.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    nix::Error::result(rc).map(|pid| pid as i32)
}
