//! Hybrid hosts: v1 hierarchies for the controllers mounted there, plus the cgroup2 mount for
//! controllers only it offers (e.g. hugetlb on the CI machines). Each resource group goes to v1
//! when v1 has its controller, else to v2 when v2 has it, else to v1 (which reports it missing).
//! `unified` always goes to v2.

use std::path::PathBuf;

use oci_spec::runtime::LinuxResources;

use crate::cgpath::CgroupPath;
use crate::mountinfo::{ProcCgroups, V1Hierarchy, V2Mount};
use crate::{CgroupError, CgroupManager, FreezerState, SelfJoin, Stats, V1Manager, V2Manager};

/// Manager for a hybrid host: a v1 manager plus a v2 manager limited to v2-only controllers.
#[derive(Debug)]
pub struct HybridManager {
    v1: V1Manager,
    v2: V2Manager,
}

impl HybridManager {
    pub fn new(v1: &[V1Hierarchy], v2: &V2Mount, path: &CgroupPath, own: &ProcCgroups) -> Self {
        HybridManager {
            v1: V1Manager::new(v1, path, own),
            v2: V2Manager::new(v2, path, own),
        }
    }

    fn on_v2(&self, controller: &str) -> bool {
        !self.v1.has(controller) && self.v2.has(controller)
    }

    /// Splits `r` into the parts for v1 and for v2.
    fn split(&self, r: &LinuxResources) -> (LinuxResources, LinuxResources) {
        let mut v1 = r.clone();
        let mut v2 = LinuxResources::default();
        v1.set_unified(None);
        v2.set_unified(r.unified().clone());
        if self.on_v2("memory") {
            v2.set_memory(v1.memory_mut().take());
        }
        if self.on_v2("cpu") && self.on_v2("cpuset") {
            v2.set_cpu(v1.cpu_mut().take());
        }
        if self.on_v2("pids") {
            v2.set_pids(v1.pids_mut().take());
        }
        if !self.v1.has("blkio") && self.v2.has("io") {
            v2.set_block_io(v1.block_io_mut().take());
        }
        if self.on_v2("hugetlb") {
            v2.set_hugepage_limits(v1.hugepage_limits_mut().take());
        }
        if self.on_v2("rdma") {
            v2.set_rdma(v1.rdma_mut().take());
        }
        (v1, v2)
    }

    /// The freezer lives on v1 when mounted there, else on v2 (cgroup.freeze is always there).
    fn freezer(&self) -> &dyn CgroupManager {
        if self.v1.has("freezer") {
            &self.v1
        } else {
            &self.v2
        }
    }
}

impl CgroupManager for HybridManager {
    fn apply(&self, pid: i32) -> Result<(), CgroupError> {
        self.v1.apply(pid)?;
        self.v2.apply(pid)
    }

    fn prepare(&self) -> Result<(), CgroupError> {
        self.v1.prepare()?;
        self.v2.prepare()
    }

    fn self_join(&self) -> SelfJoin {
        SelfJoin {
            v1_tasks: self.v1.self_join().v1_tasks,
            v2_dir: self.v2.self_join().v2_dir,
        }
    }

    fn set(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        let (v1, v2) = self.split(r);
        self.v1.set(&v1)?;
        self.v2.set(&v2)
    }

    fn freeze(&self, state: FreezerState) -> Result<(), CgroupError> {
        self.freezer().freeze(state)
    }

    fn freezer_state(&self) -> Result<FreezerState, CgroupError> {
        self.freezer().freezer_state()
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        self.v1.pids()
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        let mut s = self.v1.stats()?;
        let v2 = self.v2.stats()?;
        if self.on_v2("hugetlb") {
            s.hugetlb = v2.hugetlb;
        }
        if self.on_v2("pids") {
            s.pids = v2.pids;
        }
        if self.on_v2("memory") {
            s.memory = v2.memory;
        }
        Ok(s)
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        if self.on_v2("memory") {
            self.v2.oom_kill_count()
        } else {
            self.v1.oom_kill_count()
        }
    }

    /// Removes both halves even if one fails, reporting the first error.
    fn remove(&self) -> Result<(), CgroupError> {
        let r1 = self.v1.remove();
        let r2 = self.v2.remove();
        r1.and(r2)
    }

    fn paths(&self) -> Vec<PathBuf> {
        let mut p = self.v1.paths();
        p.extend(self.v2.paths());
        p
    }
}
