//! Finding the cgroup hierarchies: parses `/proc/self/mountinfo` once and classifies the host as
//! pure v1, pure v2 or hybrid. Also parses `/proc/self/cgroup` for relative cgroupsPath values.
//! Nothing here creates or writes cgroups.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::fsutil::read_string;
use crate::CgroupError;

/// v1 controller names we recognise in a cgroup mount's super options.
const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "pids",
    "hugetlb",
    "net_cls",
    "net_prio",
    "perf_event",
    "rdma",
    "misc",
];

/// One mounted v1 hierarchy, possibly with several co-mounted controllers ("cpu,cpuacct").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Where it is mounted, e.g. `/sys/fs/cgroup/cpu,cpuacct`.
    pub mount_point: PathBuf,
    /// The cgroup shown at the mount point (not `/` inside a container without cgroupns).
    pub root: PathBuf,
    /// Controllers, plus `name=<x>` for named hierarchies such as `name=systemd`.
    pub controllers: Vec<String>,
}

/// The cgroup2 mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Mount {
    pub mount_point: PathBuf,
    pub root: PathBuf,
    /// Controllers listed in the mount point's `cgroup.controllers`.
    pub controllers: Vec<String>,
}

/// The host's cgroup layout, detected at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CgroupSetup {
    V1(Vec<V1Hierarchy>),
    V2(V2Mount),
    /// v1 controllers plus a cgroup2 mount offering the controllers not bound to v1.
    Hybrid {
        v1: Vec<V1Hierarchy>,
        v2: V2Mount,
    },
}

/// Decodes the octal escapes (`\040` for space) used in mountinfo paths.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A cgroup-relevant mount: (fstype, root, mount point, super options).
struct CgMount<'a> {
    fstype: &'a str,
    root: PathBuf,
    mount_point: PathBuf,
    super_opts: &'a str,
}

fn parse_line(line: &str) -> Option<CgMount<'_>> {
    let (left, right) = line.split_once(" - ")?;
    let fields: Vec<&str> = left.split(' ').collect();
    let mut rest = right.split(' ');
    let fstype = rest.next()?;
    if fstype != "cgroup" && fstype != "cgroup2" {
        return None;
    }
    let _source = rest.next()?;
    Some(CgMount {
        fstype,
        root: PathBuf::from(unescape(fields.get(3)?)),
        mount_point: PathBuf::from(unescape(fields.get(4)?)),
        super_opts: rest.next().unwrap_or(""),
    })
}

fn v1_controllers(super_opts: &str) -> Vec<String> {
    super_opts
        .split(',')
        .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
        .map(str::to_string)
        .collect()
}

/// Classifies the mounts in `mountinfo` text. `v2_controllers` reads `cgroup.controllers` of the
/// cgroup2 mount point (a parameter so tests need no real cgroupfs).
pub fn parse_mountinfo(
    mountinfo: &str,
    v2_controllers: impl Fn(&Path) -> Vec<String>,
) -> Option<CgroupSetup> {
    let mut v1: Vec<V1Hierarchy> = Vec::new();
    let mut v2: Option<V2Mount> = None;
    for m in mountinfo.lines().filter_map(parse_line) {
        if m.fstype == "cgroup2" {
            v2.get_or_insert_with(|| V2Mount {
                controllers: v2_controllers(&m.mount_point),
                mount_point: m.mount_point,
                root: m.root,
            });
            continue;
        }
        let controllers = v1_controllers(m.super_opts);
        // The same hierarchy may be bind-mounted again; keep the first mount.
        if controllers.is_empty() || v1.iter().any(|h| h.controllers == controllers) {
            continue;
        }
        v1.push(V1Hierarchy {
            mount_point: m.mount_point,
            root: m.root,
            controllers,
        });
    }
    let has_v1_controller = v1
        .iter()
        .any(|h| h.controllers.iter().any(|c| !c.starts_with("name=")));
    match (has_v1_controller, v2) {
        (true, Some(v2)) => Some(CgroupSetup::Hybrid { v1, v2 }),
        (true, None) => Some(CgroupSetup::V1(v1)),
        (false, Some(v2)) => Some(CgroupSetup::V2(v2)),
        (false, None) => None,
    }
}

fn read_controllers(mount_point: &Path) -> Vec<String> {
    std::fs::read_to_string(mount_point.join("cgroup.controllers"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Detects the host's cgroup layout from `/proc/self/mountinfo`.
pub fn detect() -> Result<CgroupSetup, CgroupError> {
    let path = Path::new("/proc/self/mountinfo");
    let text = read_string(path)?;
    parse_mountinfo(&text, read_controllers).ok_or_else(|| CgroupError::NoCgroupFs {
        path: path.to_path_buf(),
    })
}

/// The calling process's cgroups from `/proc/self/cgroup`: v1 controller name (and `name=x`) to
/// path, and the v2 path under the key "".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcCgroups(pub HashMap<String, PathBuf>);

impl ProcCgroups {
    pub fn parse(text: &str) -> Self {
        let mut map = HashMap::new();
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if ctrls.is_empty() {
                map.insert(String::new(), PathBuf::from(path));
            }
            for c in ctrls.split(',').filter(|c| !c.is_empty()) {
                map.insert(c.to_string(), PathBuf::from(path));
            }
        }
        ProcCgroups(map)
    }

    pub fn read_self() -> Result<Self, CgroupError> {
        Ok(Self::parse(&read_string(Path::new("/proc/self/cgroup"))?))
    }

    /// Path of the v1 hierarchy holding `controller` ("" for v2).
    pub fn get(&self, controller: &str) -> Option<&Path> {
        self.0.get(controller).map(PathBuf::as_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const V2: &str = "\
22 1 8:1 / / rw - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
    const COMOUNT: &str = "\
25 22 0:22 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct
26 22 0:23 /docker/abc /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory
27 22 0:23 /docker/abc /mnt/again rw - cgroup cgroup rw,memory
";

    fn hugetlb(_: &Path) -> Vec<String> {
        vec!["hugetlb".into()]
    }

    #[test]
    fn hybrid() {
        let Some(CgroupSetup::Hybrid { v1, v2 }) = parse_mountinfo(HYBRID, hugetlb) else {
            panic!("not hybrid");
        };
        assert_eq!(v1.len(), 4);
        assert_eq!(v1[3].controllers, vec!["name=systemd"]);
        assert_eq!(v1[2].mount_point, Path::new("/sys/fs/cgroup/memory"));
        assert_eq!(v2.mount_point, Path::new("/sys/fs/cgroup/unified"));
        assert_eq!(v2.controllers, vec!["hugetlb"]);
    }

    #[test]
    fn pure_v2() {
        let setup = parse_mountinfo(V2, |_| vec!["cpu".into(), "memory".into()]).unwrap();
        let CgroupSetup::V2(m) = setup else {
            panic!("not v2")
        };
        assert_eq!(m.mount_point, Path::new("/sys/fs/cgroup"));
        assert_eq!(m.controllers, vec!["cpu", "memory"]);
    }

    #[test]
    fn pure_v1_comounted_escaped_and_bind_mounted() {
        let Some(CgroupSetup::V1(v1)) = parse_mountinfo(COMOUNT, hugetlb) else {
            panic!("not v1");
        };
        assert_eq!(v1.len(), 2, "bind mount of the same hierarchy is skipped");
        assert_eq!(v1[0].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(v1[0].mount_point, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(v1[1].mount_point, Path::new("/sys/fs/cgroup/my mem"));
        assert_eq!(v1[1].root, Path::new("/docker/abc"));
    }

    #[test]
    fn only_named_v1_and_v2_is_v2() {
        let text = "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        assert!(matches!(
            parse_mountinfo(text, hugetlb),
            Some(CgroupSetup::V2(_))
        ));
        assert_eq!(
            parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", hugetlb),
            None
        );
    }

    #[test]
    fn proc_self_cgroup() {
        let p = ProcCgroups::parse("9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/c\n0::/d\n");
        assert_eq!(p.get("memory"), Some(Path::new("/a/b")));
        assert_eq!(p.get("cpuacct"), Some(Path::new("/c")));
        assert_eq!(p.get("name=systemd"), Some(Path::new("/")));
        assert_eq!(p.get(""), Some(Path::new("/d")));
    }
}
