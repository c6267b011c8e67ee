//! `delete`: removes a stopped container (or, with force, kills it first),
//! running poststop hooks and removing its cgroup and state.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::Container;
use crate::error::{Error, Result};
use crate::hooks;
use crate::state::{ContainerDir, Status};

/// Deletes container `id`. Teardown goes on after a failure and reports all of them.
pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    let c = match Container::load(root, id) {
        Err(Error::NotFound(_)) => {
            return match delete_stale(root, id) {
                // As runc: force makes deleting what is not there a success
                // (engines call it to clean up after a failed create).
                Err(Error::NotFound(_)) if force => Ok(()),
                other => other,
            };
        }
        other => other?,
    };
    if !force {
        c.require(
            &[Status::Stopped, Status::Created],
            "delete",
            "stopped (or use --force)",
        )?;
    }
    let mut errors = Vec::new();
    let cgroup = match c.state.cgroup() {
        Ok(cg) => Some(cg),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    // Also when init is gone: without a pid namespace its children outlive
    // it, and a create killed half way leaves processes with no pid saved.
    if let Some(cg) = &cgroup {
        let stray = c.status == Status::Stopped && cg.pids().is_ok_and(|p| !p.is_empty());
        if c.status != Status::Stopped || stray {
            if let Err(e) = cg.kill_all(libc::SIGKILL) {
                errors.push(e.into());
            }
        }
    }
    if c.status != Status::Stopped {
        let _ = kill(Pid::from_raw(c.state.pid), Signal::SIGKILL);
        wait_gone(&c);
    }
    yurta_fault::point("runtime.delete.killed");
    if let Ok(spec) = c.dir.load_config() {
        if let Some(poststop) = spec.hooks().as_ref().and_then(|h| h.poststop().as_ref()) {
            let json = serde_json::to_string(&c.state.oci(Status::Stopped)).unwrap_or_default();
            // The spec makes poststop failures warnings: report them, go on.
            for e in hooks::run_all("poststop", poststop, &json) {
                eprintln!("warning: {e}");
            }
        }
    }
    if let Some(cg) = &cgroup {
        if let Err(e) = cg.remove() {
            errors.push(e.into());
        }
    }
    yurta_fault::point("runtime.delete.cgroup-removed");
    if let Err(e) = c.dir.remove() {
        errors.push(e);
    }
    Error::from_list(errors)
}

/// A directory without state: a `create` that was killed half way. Remove
/// what it may have made (processes in its cgroup, the cgroup, the directory).
fn delete_stale(root: &Path, id: &str) -> Result<()> {
    let dir = ContainerDir::new(root, id)?;
    if !dir.exists() {
        return Err(Error::NotFound(id.into()));
    }
    let cgroups_path = dir
        .load_config()
        .ok()
        .and_then(|spec| spec.linux().as_ref().and_then(|l| l.cgroups_path().clone()));
    let mut errors = Vec::new();
    if let Ok(cg) = yurta_cgroups::create_manager(cgroups_path.as_deref(), id, false) {
        if let Err(e) = cg.kill_all(libc::SIGKILL).and_then(|()| cg.remove()) {
            errors.push(e.into());
        }
    }
    if let Err(e) = dir.remove() {
        errors.push(e);
    }
    Error::from_list(errors)
}

/// Waits (up to a few seconds) for a killed init to disappear.
fn wait_gone(c: &Container) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pause = Duration::from_micros(200);
    while c.state.init_alive() && Instant::now() < deadline {
        // Our own child (foreground run) must be reaped to stop being "alive".
        let _ = nix::sys::wait::waitpid(
            Pid::from_raw(c.state.pid),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
