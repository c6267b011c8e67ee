//! `kill`: signals the init process, or with --all every process of the container.

use std::path::Path;

use nix::sys::signal::{kill as send, Signal};
use nix::unistd::Pid;

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
    let sig = Signal::try_from(signal).ok();
    if all {
        let cg = c.state.cgroup()?;
        for pid in cg.pids()? {
            let _ = send(Pid::from_raw(pid), sig);
        }
        // Stopped processes would not see a signal other than KILL until thawed.
        if c.status == Status::Paused {
            let _ = cg.freeze(yurta_cgroups::FreezerState::Thawed);
        }
        return Ok(());
    }
    let result = match sig {
        Some(s) => send(Pid::from_raw(c.state.pid), s),
        None => {
            // Real-time signals have no `Signal` variant.
            // SAFETY: kill with integer arguments.
            let rc = unsafe { libc::kill(c.state.pid, signal) };
            nix::Error::result(rc).map(drop)
        }
    };
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
