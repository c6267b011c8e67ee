//! Container operations, one file per verb (create, start, kill, ...).

mod create;
mod delete;
mod devices;
mod exec;
mod kill;
mod list;
mod pause;
mod ps;
mod seccomp_agent;
mod start;
mod update;

use std::path::Path;

pub use create::{create, CreateOptions};
pub use delete::delete;
pub use exec::{become_subreaper, exec, wait_exit_code, ExecOptions, ExecOutcome};
pub use kill::kill;
pub use list::list;
pub use pause::{pause, resume};
pub use ps::pids;
pub use start::start;
pub use update::update;

use crate::error::Result;
use crate::state::{ContainerDir, State, Status};

/// A container found under the state root, with its current status.
#[derive(Debug)]
pub struct Container {
    pub dir: ContainerDir,
    pub state: State,
    pub status: Status,
}

impl Container {
    /// Loads `id` from `root` and works out its status (including paused).
    pub fn load(root: &Path, id: &str) -> Result<Self> {
        let dir = ContainerDir::new(root, id)?;
        let state = dir.load()?;
        let mut status = state.base_status(&dir);
        if status == Status::Running {
            if let Ok(cg) = state.cgroup() {
                if matches!(cg.freezer_state(), Ok(yurta_cgroups::FreezerState::Frozen)) {
                    status = Status::Paused;
                }
            }
        }
        Ok(Container { dir, state, status })
    }

    /// Fails with a `WrongState` error unless the status is one of `allowed`.
    pub fn require(
        &self,
        allowed: &[Status],
        action: &'static str,
        expected: &'static str,
    ) -> Result<()> {
        if allowed.contains(&self.status) {
            return Ok(());
        }
        Err(crate::Error::WrongState {
            id: self.state.id.clone(),
            status: self.status.to_string(),
            action,
            expected,
        })
    }

    /// The OCI state JSON.
    pub fn state_json(&self) -> String {
        serde_json::to_string_pretty(&self.state.oci(self.status)).unwrap_or_default()
    }
}

impl State {
    /// The cgroup manager of this container.
    pub fn cgroup(&self) -> Result<Box<dyn yurta_cgroups::CgroupManager>> {
        Ok(yurta_cgroups::create_manager(
            self.cgroups_path.as_deref(),
            &self.id,
            self.systemd_cgroup,
        )?)
    }
}

/// Writes a pid file atomically, as runc does (callers poll for it).
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let unsynced = yurta_sysutil::Durability::Unsynced;
    yurta_sysutil::replace_file(path, pid.to_string().as_bytes(), 0o644, unsynced)
        .map_err(|e| crate::Error::write(path, e))
}
