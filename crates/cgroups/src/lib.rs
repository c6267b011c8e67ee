//! Control groups for yurta containers: one [`CgroupManager`] trait with implementations for
//! cgroup v1, v2 and hybrid hosts, chosen at run time from `/proc/self/mountinfo`.
//!
//! This crate owns creating, configuring (OCI `linux.resources`), freezing, inspecting, killing
//! and removing a container's cgroups. It does not spawn processes, enter namespaces or talk to
//! systemd: with `--systemd-cgroup` the `slice:prefix:name` form is mapped to a cgroupfs path
//! (see [`cgpath`]). See `docs/cgroups.md` for the host support matrix and limitations.

mod convert;
mod error;
mod fsutil;
mod hybrid;
mod kill;
mod stats;
#[cfg(test)]
mod testutil;
mod v1;
mod v2;

#[cfg(test)]
mod hybrid_tests;

pub mod cgpath;
pub mod mountinfo;

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

pub use cgpath::CgroupPath;
pub use error::CgroupError;
pub use hybrid::HybridManager;
pub use mountinfo::{detect, CgroupSetup, ProcCgroups, V1Hierarchy, V2Mount};
pub use stats::{
    parse_blkio_v1, parse_io_stat, read_write, BlkioEntry, BlkioStats, CpuStats, CpuUsage,
    HugetlbStats, MemoryEntry, MemoryStats, PidsStats, Stats, Throttling,
};
pub use v1::V1Manager;
pub use v2::V2Manager;

/// State of the freezer. `Freezing` is only ever reported, never requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreezerState {
    Frozen,
    Thawed,
    Freezing,
}

/// Operations on one container's cgroup(s), whatever the cgroup version of the host.
pub trait CgroupManager: Send + Sync {
    /// Creates the cgroup(s) if needed and moves `pid` into them (cgroup.procs).
    fn apply(&self, pid: i32) -> Result<(), CgroupError>;
    /// Creates the cgroup(s) and makes them ready to accept processes, moving nobody.
    fn prepare(&self) -> Result<(), CgroupError>;
    /// How a new single-threaded process can put itself into the cgroup(s)
    /// cheaply; see [`SelfJoin`]. Call [`CgroupManager::prepare`] first.
    fn self_join(&self) -> SelfJoin;
    /// Applies OCI linux.resources (also used by `update`); only fields present are written.
    fn set(&self, resources: &LinuxResources) -> Result<(), CgroupError>;
    /// Freezes or thaws every process, waiting until the kernel reports the new state.
    fn freeze(&self, state: FreezerState) -> Result<(), CgroupError>;
    fn freezer_state(&self) -> Result<FreezerState, CgroupError>;
    /// All processes in the cgroup and its descendants.
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    fn stats(&self) -> Result<Stats, CgroupError>;
    /// How many processes the OOM killer has killed in this cgroup.
    fn oom_kill_count(&self) -> Result<u64, CgroupError>;
    /// Sends `signal` to every process (freezing first to avoid fork races); with SIGKILL,
    /// repeats until the cgroup is empty.
    fn kill_all(&self, signal: i32) -> Result<(), CgroupError> {
        kill::kill_all(self, signal)
    }
    /// Removes the cgroup directories (retrying briefly on EBUSY) without killing anything.
    /// Missing directories are not an error.
    fn remove(&self) -> Result<(), CgroupError>;
    /// The cgroup directories in use, for diagnostics and tests.
    fn paths(&self) -> Vec<PathBuf>;
}

/// How a freshly forked, single-threaded process joins a cgroup without the
/// kernel's global threadgroup lock, whose first write after an idle period
/// waits for an RCU grace period (7–16 ms measured here, more than the rest
/// of `create` together).
///
/// - v1: the process writes `0` ("myself") to each hierarchy's `tasks` file;
///   moving only the current thread skips the global lock.
/// - v2: the process is forked straight into the cgroup with
///   `clone3(CLONE_INTO_CGROUP)` on a descriptor of `v2_dir`; where that is
///   unavailable it writes `0` to `v2_dir/cgroup.procs` (the slow path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfJoin {
    /// `tasks` files to write `0` into.
    pub v1_tasks: Vec<PathBuf>,
    /// The cgroup2 directory to fork into, if the manager uses cgroup2.
    pub v2_dir: Option<PathBuf>,
}

impl SelfJoin {
    /// Writes `0` to every v1 `tasks` file (call it in the joining process).
    /// Allocates nothing but the error, so it is safe right after fork.
    pub fn join_v1(&self) -> Result<(), CgroupError> {
        for tasks in &self.v1_tasks {
            std::fs::write(tasks, "0").map_err(|e| CgroupError::Write {
                path: tasks.clone(),
                value: "0".into(),
                source: e,
            })?;
        }
        Ok(())
    }
}

/// Creates the manager for container `id`. `cgroups_path` is OCI `linux.cgroupsPath`; `systemd`
/// is the `--systemd-cgroup` flag. Cheap: one read of mountinfo, no directory walks or writes.
pub fn create_manager(
    cgroups_path: Option<&Path>,
    container_id: &str,
    systemd: bool,
) -> Result<Box<dyn CgroupManager>, CgroupError> {
    let setup = detect()?;
    let path = cgpath::resolve(cgroups_path, container_id, systemd)?;
    let own = if path.is_relative() {
        ProcCgroups::read_self()?
    } else {
        ProcCgroups::default()
    };
    Ok(create_manager_in(&setup, &path, &own))
}

/// Creates the manager for an already detected layout and resolved path; `own` is this
/// process's `/proc/self/cgroup` (only consulted for relative paths). Used by tests with fake
/// cgroup trees.
pub fn create_manager_in(
    setup: &CgroupSetup,
    path: &CgroupPath,
    own: &ProcCgroups,
) -> Box<dyn CgroupManager> {
    match setup {
        CgroupSetup::V1(h) => Box::new(V1Manager::new(h, path, own)),
        CgroupSetup::V2(m) => Box::new(V2Manager::new(m, path, own)),
        CgroupSetup::Hybrid { v1, v2 } => Box::new(HybridManager::new(v1, v2, path, own)),
    }
}
