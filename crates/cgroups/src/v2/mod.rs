//! cgroup v2: one directory in the unified hierarchy. Controllers are enabled in every
//! ancestor's cgroup.subtree_control on `apply`. On hybrid hosts this manages only the
//! controllers the cgroup2 mount offers (see `hybrid.rs`).

mod bpf;
mod devices;
mod resources;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use oci_spec::runtime::LinuxResources;

use crate::cgpath::CgroupPath;
use crate::fsutil::{self, keyed_value, read_string, write_in};
use crate::mountinfo::{ProcCgroups, V2Mount};
use crate::{CgroupError, CgroupManager, FreezerState, SelfJoin, Stats};

const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

/// Manager for a container's cgroup in the unified (v2) hierarchy.
#[derive(Debug)]
pub struct V2Manager {
    mount_point: PathBuf,
    path: PathBuf,
    /// Controllers offered at the mount point, enabled down to the container's cgroup.
    controllers: Vec<String>,
    created: Mutex<Vec<PathBuf>>,
}

impl V2Manager {
    pub fn new(mount: &V2Mount, path: &CgroupPath, own: &ProcCgroups) -> Self {
        V2Manager {
            mount_point: mount.mount_point.clone(),
            path: path.dir_in(&mount.mount_point, &mount.root, own.get("")),
            controllers: mount.controllers.clone(),
            created: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.path
    }

    pub(crate) fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// Enables our controllers in each ancestor's subtree_control. All at once first; if the
    /// kernel refuses (one controller busy or missing), one by one, ignoring failures, as runc.
    fn enable_controllers(&self) {
        if self.controllers.is_empty() {
            return;
        }
        let all: Vec<String> = self.controllers.iter().map(|c| format!("+{c}")).collect();
        let all = all.join(" ");
        let mut dir = self.mount_point.clone();
        let rel = self
            .path
            .strip_prefix(&self.mount_point)
            .unwrap_or(Path::new(""));
        for comp in rel.components() {
            if write_in(&dir, "cgroup.subtree_control", &all).is_err() {
                for c in &self.controllers {
                    let _ = write_in(&dir, "cgroup.subtree_control", &format!("+{c}"));
                }
            }
            dir.push(comp);
        }
    }

    fn frozen_event(&self) -> Result<bool, CgroupError> {
        let text = read_string(&self.path.join("cgroup.events"))?;
        Ok(keyed_value(&text, "frozen") == Some(1))
    }
}

impl CgroupManager for V2Manager {
    fn apply(&self, pid: i32) -> Result<(), CgroupError> {
        self.prepare()?;
        write_in(&self.path, "cgroup.procs", &pid.to_string())
    }

    fn prepare(&self) -> Result<(), CgroupError> {
        let created = fsutil::create_dirs(&self.mount_point, &self.path, |_| Ok(()))?;
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(created);
        self.enable_controllers();
        Ok(())
    }

    fn self_join(&self) -> SelfJoin {
        SelfJoin {
            v1_tasks: Vec::new(),
            v2_dir: Some(self.path.clone()),
        }
    }

    fn set(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        resources::set(self, r)
    }

    fn freeze(&self, state: FreezerState) -> Result<(), CgroupError> {
        let (value, want) = match state {
            FreezerState::Frozen => ("1", true),
            FreezerState::Thawed => ("0", false),
            FreezerState::Freezing => {
                return Err(CgroupError::invalid(
                    "cgroup.freeze",
                    "FREEZING",
                    "not a target state",
                ))
            }
        };
        write_in(&self.path, "cgroup.freeze", value)?;
        let start = Instant::now();
        while self.frozen_event()? != want {
            if start.elapsed() > FREEZE_TIMEOUT {
                return Err(CgroupError::Timeout {
                    path: self.path.join("cgroup.events"),
                    value: format!("frozen {value}"),
                    millis: FREEZE_TIMEOUT.as_millis() as u64,
                });
            }
            sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        let path = self.path.join("cgroup.freeze");
        match read_string(&path)?.trim() {
            "0" => Ok(FreezerState::Thawed),
            "1" if self.frozen_event()? => Ok(FreezerState::Frozen),
            "1" => Ok(FreezerState::Freezing),
            other => Err(CgroupError::Parse {
                path,
                value: other.to_string(),
            }),
        }
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let mut out = Vec::new();
        fsutil::procs_recursive(&self.path, &mut out)?;
        Ok(out)
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        stats::collect(&self.path)
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let path = self.path.join("memory.events");
        if !path.exists() {
            return Ok(0);
        }
        Ok(keyed_value(&read_string(&path)?, "oom_kill").unwrap_or(0))
    }

    /// With SIGKILL and a kernel offering cgroup.kill (5.14+), one write kills everything,
    /// forks included; otherwise the generic freeze-signal-thaw loop.
    fn kill_all(&self, signal: i32) -> Result<(), CgroupError> {
        let kill_file = self.path.join("cgroup.kill");
        if signal != libc::SIGKILL || !kill_file.exists() {
            return crate::kill::kill_all(self, signal);
        }
        fsutil::write_file(&kill_file, "1")?;
        let start = Instant::now();
        while !self.pids()?.is_empty() {
            if start.elapsed() > FREEZE_TIMEOUT {
                return crate::kill::kill_all(self, signal);
            }
            sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn remove(&self) -> Result<(), CgroupError> {
        fsutil::remove_cgroup_dir(&self.path)?;
        let created = std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        fsutil::remove_created_parents(&created, &self.path);
        Ok(())
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }
}

#[cfg(test)]
mod tests;
