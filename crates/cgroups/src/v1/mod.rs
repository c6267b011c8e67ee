//! cgroup v1: one directory per mounted hierarchy (controllers may be co-mounted, e.g.
//! "cpu,cpuacct"). Named hierarchies such as `name=systemd` are joined too, as runc does.

mod resources;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use oci_spec::runtime::LinuxResources;

use crate::cgpath::CgroupPath;
use crate::fsutil::{self, read_string, write_in};
use crate::mountinfo::{ProcCgroups, V1Hierarchy};
use crate::{CgroupError, CgroupManager, FreezerState, SelfJoin, Stats};

/// The container's directory in one v1 hierarchy.
#[derive(Debug)]
struct Dir {
    controllers: Vec<String>,
    mount_point: PathBuf,
    path: PathBuf,
}

/// Manager for the v1 hierarchies of a pure v1 host (and the v1 half of a hybrid one).
#[derive(Debug)]
pub struct V1Manager {
    dirs: Vec<Dir>,
    /// Directories this manager created (leaf and parents), removed again by `remove`.
    created: Mutex<Vec<PathBuf>>,
}

const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

impl V1Manager {
    pub fn new(hierarchies: &[V1Hierarchy], path: &CgroupPath, own: &ProcCgroups) -> Self {
        let dirs = hierarchies
            .iter()
            .map(|h| {
                let own_path = h.controllers.first().and_then(|c| own.get(c));
                Dir {
                    controllers: h.controllers.clone(),
                    mount_point: h.mount_point.clone(),
                    path: path.dir_in(&h.mount_point, &h.root, own_path),
                }
            })
            .collect();
        V1Manager {
            dirs,
            created: Mutex::new(Vec::new()),
        }
    }

    /// The container's directory in the hierarchy holding `controller`, if mounted.
    pub(crate) fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .map(|d| d.path.as_path())
    }

    pub(crate) fn has(&self, controller: &str) -> bool {
        self.dir(controller).is_some()
    }

    /// The directory for `controller`, or an error naming `file` and `value` when not mounted.
    pub(crate) fn need(
        &self,
        controller: &str,
        file: &str,
        value: impl ToString,
    ) -> Result<&Path, CgroupError> {
        self.dir(controller).ok_or_else(|| {
            CgroupError::unsupported(
                file,
                value,
                format!("the {controller} cgroup controller is not mounted"),
            )
        })
    }

    fn join_one(&self, d: &Dir, pid: i32) -> Result<(), CgroupError> {
        self.prepare_one(d)?;
        write_in(&d.path, "cgroup.procs", &pid.to_string())
    }

    fn prepare_one(&self, d: &Dir) -> Result<(), CgroupError> {
        let is_cpuset = d.controllers.iter().any(|c| c == "cpuset");
        let created = fsutil::create_dirs(&d.mount_point, &d.path, |_| Ok(()))?;
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(created);
        if is_cpuset {
            populate_cpuset(&d.mount_point, &d.path)?;
        }
        Ok(())
    }

    fn freezer_dir(&self, value: &str) -> Result<&Path, CgroupError> {
        self.need("freezer", "freezer.state", value)
    }
}

/// A new v1 cpuset cgroup starts with empty cpuset.cpus/mems and refuses tasks until they are
/// set; copy them from the parent at every level from the mount point down.
fn populate_cpuset(mount_point: &Path, leaf: &Path) -> Result<(), CgroupError> {
    let rel = leaf.strip_prefix(mount_point).unwrap_or(Path::new(""));
    let mut dir = mount_point.to_path_buf();
    for comp in rel.components() {
        let parent = dir.clone();
        dir.push(comp);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if read_string(&dir.join(file))?.trim().is_empty() {
                let value = read_string(&parent.join(file))?;
                write_in(&dir, file, value.trim())?;
            }
        }
    }
    Ok(())
}

fn parse_freezer(path: &Path, text: &str) -> Result<FreezerState, CgroupError> {
    match text.trim() {
        "FROZEN" => Ok(FreezerState::Frozen),
        "THAWED" => Ok(FreezerState::Thawed),
        "FREEZING" => Ok(FreezerState::Freezing),
        other => Err(CgroupError::Parse {
            path: path.to_path_buf(),
            value: other.to_string(),
        }),
    }
}

impl CgroupManager for V1Manager {
    fn apply(&self, pid: i32) -> Result<(), CgroupError> {
        self.dirs.iter().try_for_each(|d| self.join_one(d, pid))
    }

    fn prepare(&self) -> Result<(), CgroupError> {
        self.dirs.iter().try_for_each(|d| self.prepare_one(d))
    }

    fn self_join(&self) -> SelfJoin {
        SelfJoin {
            v1_tasks: self.dirs.iter().map(|d| d.path.join("tasks")).collect(),
            v2_dir: None,
        }
    }

    fn set(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        resources::set(self, r)
    }

    fn freeze(&self, state: FreezerState) -> Result<(), CgroupError> {
        let value = match state {
            FreezerState::Frozen => "FROZEN",
            FreezerState::Thawed => "THAWED",
            FreezerState::Freezing => {
                return Err(CgroupError::invalid(
                    "freezer.state",
                    "FREEZING",
                    "not a target state",
                ))
            }
        };
        let dir = self.freezer_dir(value)?;
        let start = Instant::now();
        loop {
            // Writing again while FREEZING nudges tasks that were busy in the kernel.
            write_in(dir, "freezer.state", value)?;
            if self.freezer_state()? == state {
                return Ok(());
            }
            if start.elapsed() > FREEZE_TIMEOUT {
                return Err(CgroupError::Timeout {
                    path: dir.join("freezer.state"),
                    value: value.to_string(),
                    millis: FREEZE_TIMEOUT.as_millis() as u64,
                });
            }
            sleep(Duration::from_millis(1));
        }
    }

    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        let path = self.freezer_dir("")?.join("freezer.state");
        parse_freezer(&path, &read_string(&path)?)
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        // Any hierarchy holds every process; prefer ones every host has.
        let dir = ["freezer", "pids", "memory", "cpu"]
            .iter()
            .find_map(|c| self.dir(c))
            .or_else(|| self.dirs.first().map(|d| d.path.as_path()));
        let mut out = Vec::new();
        if let Some(dir) = dir {
            fsutil::procs_recursive(dir, &mut out)?;
        }
        Ok(out)
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        stats::collect(self)
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let Some(dir) = self.dir("memory") else {
            return Ok(0);
        };
        let text = read_string(&dir.join("memory.oom_control"))?;
        Ok(fsutil::keyed_value(&text, "oom_kill").unwrap_or(0))
    }

    fn remove(&self) -> Result<(), CgroupError> {
        let mut first_err = None;
        for d in &self.dirs {
            if let Err(e) = fsutil::remove_cgroup_dir(&d.path) {
                first_err.get_or_insert(e);
            }
        }
        let created = std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        for d in &self.dirs {
            let mine: Vec<PathBuf> = created
                .iter()
                .filter(|c| c.starts_with(&d.mount_point))
                .cloned()
                .collect();
            fsutil::remove_created_parents(&mine, &d.path);
        }
        first_err.map_or(Ok(()), Err)
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.path.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
