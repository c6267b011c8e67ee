//! `kill`: signals the init process, or with --all every process of the container.

use std::path::Path;

use super::Container;
use crate::error::{Error, Result};
use crate::state::Status;

/// Sends `signal` to the container's init (or all its processes).
pub fn kill(root: &Path, id: &str, signal: i32, all: bool) -> Result<()> {
    let c = Container::load(root, id)?;
    if !all {
        let live = [Status::Created, Status::Running, Status::Paused];
        c.require(&live, "kill", "created, running or paused")?;
    }
    if all {
        let cg = c.state.cgroup()?;
        for pid in cg.pids()? {
            let _ = send(pid, signal);
        }
        // Stopped processes would not see a signal other than KILL until thawed.
        if c.status == Status::Paused {
            let _ = cg.freeze(yurta_cgroups::FreezerState::Thawed);
        }
        return Ok(());
    }
    let result = send(c.state.pid, signal);
    result.map_err(|e| {
        Error::sys(
            format!(
                "sending signal {signal} to container {id:?} (pid {})",
                c.state.pid
            ),
            e,
        )
    })
}

/// kill(2) with any signal number (real-time signals have no `nix` variant).
fn send(pid: i32, signal: i32) -> nix::Result<()> {
    // SAFETY: kill with integer arguments only.
    nix::Error::result(unsafe { libc::kill(pid, signal) }).map(drop)
}
