//! The container's /sys/fs/cgroup.
//!
//! On a v2 host: one cgroup2 mount. On v1 and hybrid hosts: a tmpfs holding
//! one directory per hierarchy (and `unified` for the v2 part of a hybrid
//! host). With a new cgroup namespace the hierarchies are mounted fresh, so
//! the container sees its own cgroup as the root; without one, the
//! container's own cgroup directories are bind-mounted from the host.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use super::options::MountOptions;
use super::RootfsContext;
use crate::error::{Error, Result, SysContext};

/// One cgroup hierarchy as seen by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hierarchy {
    /// Directory name in the container: "cpu,cpuacct", "systemd", "unified", or "" for a v2 host.
    name: String,
    /// Mount data for a fresh mount ("cpu,cpuacct", "none,name=systemd").
    data: String,
    fstype: &'static str,
    /// Host directory of this process's cgroup in the hierarchy.
    host_dir: PathBuf,
}

pub(super) fn mount(
    ctx: &RootfsContext,
    dest: &Path,
    typ: &str,
    opts: &MountOptions,
) -> Result<()> {
    let sys = ctx.syscall;
    let hierarchies = discover()?;
    let ro = opts.flags & MsFlags::MS_RDONLY;
    let base = opts.flags - MsFlags::MS_RDONLY - MsFlags::MS_BIND - MsFlags::MS_REC;
    fs::create_dir_all(dest).map_err(|e| Error::write(dest, e))?;
    let v2_only = hierarchies.len() == 1 && hierarchies[0].name.is_empty();
    if v2_only || typ == "cgroup2" {
        let h = hierarchies
            .iter()
            .find(|h| h.fstype == "cgroup2")
            .ok_or_else(|| Error::Setup("no cgroup2 hierarchy on this host".into()))?;
        return mount_hierarchy(ctx, h, dest, base | ro);
    }
    sys.mount(
        Some(Path::new("tmpfs")),
        dest,
        Some("tmpfs"),
        base,
        Some("mode=755"),
    )
    .sys(|| format!("mounting tmpfs on {}", dest.display()))?;
    for h in &hierarchies {
        let target = dest.join(&h.name);
        fs::create_dir_all(&target).map_err(|e| Error::write(&target, e))?;
        mount_hierarchy(ctx, h, &target, base | ro)?;
        // Co-mounted controllers ("cpu,cpuacct") are also reachable by each name.
        if h.name.contains(',') {
            for single in h.name.split(',') {
                let link = dest.join(single);
                if link.symlink_metadata().is_err() {
                    sys.symlink(Path::new(&h.name), &link)
                        .sys(|| format!("symlink {}", link.display()))?;
                }
            }
        }
    }
    if !ro.is_empty() {
        let flags = base | ro | MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
        sys.mount(None, dest, None, flags, None)
            .sys(|| format!("remounting {} read-only", dest.display()))?;
    }
    Ok(())
}

fn mount_hierarchy(
    ctx: &RootfsContext,
    h: &Hierarchy,
    target: &Path,
    flags: MsFlags,
) -> Result<()> {
    let sys = ctx.syscall;
    let what = || {
        format!(
            "mounting cgroup hierarchy {:?} on {}",
            h.name,
            target.display()
        )
    };
    if ctx.new_cgroupns {
        let data = (!h.data.is_empty()).then_some(h.data.as_str());
        return sys
            .mount(
                Some(Path::new("cgroup")),
                target,
                Some(h.fstype),
                flags,
                data,
            )
            .sys(what);
    }
    sys.mount(
        Some(&h.host_dir),
        target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )
    .sys(what)?;
    if flags.contains(MsFlags::MS_RDONLY) {
        let remount = flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | super::locked_flags(target);
        sys.mount(None, target, None, remount, None).sys(what)?;
    }
    Ok(())
}

/// Pairs /proc/self/cgroup with the cgroup mounts of /proc/self/mountinfo.
fn discover() -> Result<Vec<Hierarchy>> {
    let cgroup =
        fs::read_to_string("/proc/self/cgroup").map_err(|e| Error::read("/proc/self/cgroup", e))?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Error::read("/proc/self/mountinfo", e))?;
    Ok(pair(&cgroup, &mountinfo))
}

struct CgroupMount<'a> {
    root: &'a str,
    point: &'a str,
    fstype: &'a str,
    superopts: Vec<&'a str>,
}

fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount<'_>> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            if l.len() < 5 || r.len() < 3 || !(r[0] == "cgroup" || r[0] == "cgroup2") {
                return None;
            }
            Some(CgroupMount {
                root: l[3],
                point: l[4],
                fstype: r[0],
                superopts: r[2].split(',').collect(),
            })
        })
        .collect()
}

fn pair(cgroup: &str, mountinfo: &str) -> Vec<Hierarchy> {
    let mounts = cgroup_mounts(mountinfo);
    let v1_present = mounts.iter().any(|m| m.fstype == "cgroup");
    let mut out = Vec::new();
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let found = if id == "0" {
            mounts.iter().find(|m| m.fstype == "cgroup2")
        } else {
            let wanted: Vec<&str> = controllers.split(',').collect();
            mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && wanted.iter().all(|w| m.superopts.contains(w)))
        };
        let Some(m) = found else { continue };
        if out
            .iter()
            .any(|h: &Hierarchy| h.host_dir.starts_with(m.point))
        {
            continue;
        }
        let rel = path
            .strip_prefix(m.root)
            .unwrap_or(path)
            .trim_start_matches('/');
        let host_dir = Path::new(m.point).join(rel);
        let (name, data, fstype) = if id == "0" {
            (
                if v1_present {
                    "unified".to_string()
                } else {
                    String::new()
                },
                String::new(),
                "cgroup2",
            )
        } else if let Some(named) = controllers.strip_prefix("name=") {
            (named.to_string(), format!("none,name={named}"), "cgroup")
        } else {
            (controllers.to_string(), controllers.to_string(), "cgroup")
        };
        out.push(Hierarchy {
            name,
            data,
            fstype,
            host_dir,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_CGROUP: &str =
        "12:pids:/c1\n11:memory:/c1\n10:cpu,cpuacct:/c1\n1:name=systemd:/c1\n0::/c1\n";
    const HYBRID_MOUNTINFO: &str = "\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";

    #[test]
    fn hybrid_hosts_pair_every_hierarchy() {
        let h = pair(HYBRID_CGROUP, HYBRID_MOUNTINFO);
        let names: Vec<&str> = h.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["pids", "memory", "cpu,cpuacct", "systemd", "unified"]
        );
        assert_eq!(h[2].host_dir, Path::new("/sys/fs/cgroup/cpu,cpuacct/c1"));
        assert_eq!(h[3].data, "none,name=systemd");
        assert_eq!(h[4].fstype, "cgroup2");
    }

    #[test]
    fn pure_v2_host_has_one_unnamed_hierarchy() {
        let h = pair(
            "0::/user.slice/x\n",
            "40 1 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].name, "");
        assert_eq!(h[0].host_dir, Path::new("/sys/fs/cgroup/user.slice/x"));
    }
}
