//! Fake cgroup trees in a temporary directory for unit tests: directories and pre-existing files
//! (cgroup files are never created by the code under test, so missing ones stay missing).

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use crate::mountinfo::{V1Hierarchy, V2Mount};

pub(crate) fn touch(dir: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir).unwrap();
    for (name, content) in files {
        fs::write(dir.join(name), content).unwrap();
    }
}

pub(crate) fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
        .trim()
        .to_string()
}

/// Files a v1 cgroup directory of each controller has (the subset the tests look at).
pub(crate) fn v1_files(controller: &str) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![("cgroup.procs", ""), ("tasks", "")];
    f.extend(match controller {
        "cpu" => vec![
            ("cpu.shares", "1024"),
            ("cpu.cfs_quota_us", "-1"),
            ("cpu.cfs_period_us", "100000"),
            ("cpu.stat", ""),
        ],
        "cpuacct" => vec![
            ("cpuacct.usage", "0"),
            ("cpuacct.usage_percpu", ""),
            ("cpuacct.stat", ""),
        ],
        "cpuset" => vec![("cpuset.cpus", ""), ("cpuset.mems", "")],
        "memory" => vec![
            ("memory.limit_in_bytes", "9223372036854771712"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712"),
            ("memory.soft_limit_in_bytes", ""),
            ("memory.swappiness", "60"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
            ),
            ("memory.usage_in_bytes", "4096"),
        ],
        "pids" => vec![("pids.max", "max"), ("pids.current", "1")],
        "freezer" => vec![("freezer.state", "THAWED")],
        "devices" => vec![("devices.allow", ""), ("devices.deny", "")],
        "blkio" => vec![("blkio.throttle.read_bps_device", "")],
        _ => vec![],
    });
    f
}

/// A v1 tree under `root` with the given hierarchies (mount dir name = controllers joined by
/// ','); the container directory `rel` and its ancestors pre-exist with the controller files.
pub(crate) fn fake_v1(root: &Path, hierarchies: &[&str], rel: &str) -> Vec<V1Hierarchy> {
    hierarchies
        .iter()
        .map(|h| {
            let mount_point = root.join(h.replace("name=", ""));
            let controllers: Vec<String> = h.split(',').map(str::to_string).collect();
            let mut dir = mount_point.clone();
            let files: Vec<_> = controllers.iter().flat_map(|c| v1_files(c)).collect();
            touch(&dir, &files);
            for comp in Path::new(rel).components() {
                dir.push(comp);
                touch(&dir, &files);
            }
            if h.contains("cpuset") {
                touch(
                    &mount_point,
                    &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
                );
            }
            V1Hierarchy {
                mount_point,
                root: PathBuf::from("/"),
                controllers,
            }
        })
        .collect()
}

pub(crate) const V2_FILES: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("cgroup.subtree_control", ""),
    ("cgroup.freeze", "0"),
    ("cgroup.events", "populated 1\nfrozen 0\n"),
    ("cpu.weight", "100"),
    ("cpu.max", "max 100000"),
    ("cpuset.cpus", ""),
    ("memory.max", "max"),
    ("memory.swap.max", "max"),
    ("memory.low", "0"),
    ("memory.events", "low 0\nhigh 0\nmax 0\noom 1\noom_kill 5\n"),
    ("pids.max", "max"),
    ("io.weight", "default 100"),
    ("io.max", ""),
    ("hugetlb.2MB.max", "max"),
];

/// A v2 tree under `root` offering `controllers`, with `rel` pre-created.
pub(crate) fn fake_v2(root: &Path, controllers: &[&str], rel: &str) -> V2Mount {
    let mut dir = root.to_path_buf();
    touch(&dir, V2_FILES);
    touch(&dir, &[("cgroup.controllers", &controllers.join(" "))]);
    for comp in Path::new(rel).components() {
        dir.push(comp);
        touch(&dir, V2_FILES);
    }
    V2Mount {
        mount_point: root.to_path_buf(),
        root: PathBuf::from("/"),
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
    }
}

/// Builds LinuxResources from OCI JSON, the way a config.json carries them.
pub(crate) fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}
