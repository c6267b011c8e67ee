//! Where a container's cgroup lives: runc's rules for OCI `linux.cgroupsPath`, including the
//! systemd-style `slice:prefix:name` form, mapped to a directory in each hierarchy.
//!
//! * absolute path: relative to each hierarchy's root;
//! * relative path: relative to the runtime's own cgroup (from `/proc/self/cgroup`);
//! * absent or empty: `/yurta/<id>` (or `system.slice:yurta:<id>` with `--systemd-cgroup`).
//!
//! With `--systemd-cgroup` yurta does not talk to systemd; the slice form is expanded the way
//! systemd lays out cgroupfs and then used like an absolute path.

use std::path::{Component, Path, PathBuf};

use crate::CgroupError;

/// A resolved cgroups path, always lexically clean and without a leading `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CgroupPath {
    /// Below each hierarchy's root.
    Absolute(PathBuf),
    /// Below the runtime's own cgroup in each hierarchy.
    Relative(PathBuf),
}

/// Resolves OCI `cgroupsPath` (and `--systemd-cgroup`) for container `id`.
pub fn resolve(
    cgroups_path: Option<&Path>,
    id: &str,
    systemd: bool,
) -> Result<CgroupPath, CgroupError> {
    let given = cgroups_path.filter(|p| !p.as_os_str().is_empty());
    if systemd {
        let spec = match given {
            Some(p) => p.to_string_lossy().into_owned(),
            None => format!("system.slice:yurta:{id}"),
        };
        return Ok(CgroupPath::Absolute(clean(Path::new(&systemd_to_path(
            &spec,
        )?))));
    }
    match given {
        None => Ok(CgroupPath::Absolute(clean(&Path::new("yurta").join(id)))),
        Some(p) if p.is_absolute() => Ok(CgroupPath::Absolute(clean(p))),
        Some(p) => Ok(CgroupPath::Relative(clean(p))),
    }
}

/// `slice:prefix:name` to a cgroupfs path, e.g. `machine.slice:libpod:abc` to
/// `/machine.slice/libpod-abc.scope`. An empty slice means `system.slice`; a name ending in
/// `.slice` names a slice unit instead of a scope.
pub fn systemd_to_path(spec: &str) -> Result<String, CgroupError> {
    let bad = |reason: &str| CgroupError::Path {
        path: spec.to_string(),
        reason: reason.to_string(),
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let [slice, prefix, name] = parts[..] else {
        return Err(bad("expected slice:prefix:name with --systemd-cgroup"));
    };
    if name.is_empty() {
        return Err(bad("empty unit name"));
    }
    let slice = if slice.is_empty() {
        "system.slice"
    } else {
        slice
    };
    let parent = expand_slice(slice).map_err(|_| bad("slice must look like a-b.slice"))?;
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    if unit.contains('/') {
        return Err(bad("unit name must not contain '/'"));
    }
    Ok(format!("{}/{unit}", parent.trim_end_matches('/')))
}

/// Expands a systemd slice name into its cgroupfs path: `a-b.slice` to `/a.slice/a-b.slice`,
/// `-.slice` (the root slice) to `/`.
pub fn expand_slice(slice: &str) -> Result<String, CgroupError> {
    let bad = |reason: &str| CgroupError::Path {
        path: slice.to_string(),
        reason: reason.to_string(),
    };
    let base = slice
        .strip_suffix(".slice")
        .ok_or_else(|| bad("slice must end in .slice"))?;
    if base.is_empty() || base.contains('/') {
        return Err(bad("invalid slice name"));
    }
    if base == "-" {
        return Ok("/".to_string());
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for part in base.split('-') {
        if part.is_empty() {
            return Err(bad(
                "slice name has an empty component (leading, trailing or double '-')",
            ));
        }
        path.push_str(&format!("/{prefix}{part}.slice"));
        prefix.push_str(part);
        prefix.push('-');
    }
    Ok(path)
}

/// Lexically cleans a path and strips the leading `/`; `..` never climbs above the top.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Strips the hierarchy's mount root (`/docker/abc` in a container without a cgroup namespace)
/// from a cgroup path as seen in /proc/self/cgroup.
fn below_root(path: &Path, mount_root: &Path) -> PathBuf {
    clean(path.strip_prefix(mount_root).unwrap_or(path))
}

impl CgroupPath {
    /// The container's directory in a hierarchy mounted at `mount_point` whose mount root is
    /// `mount_root`; `own` is this process's cgroup in that hierarchy (needed when relative).
    pub fn dir_in(&self, mount_point: &Path, mount_root: &Path, own: Option<&Path>) -> PathBuf {
        match self {
            CgroupPath::Absolute(p) => {
                mount_point.join(below_root(&Path::new("/").join(p), mount_root))
            }
            CgroupPath::Relative(p) => {
                let base = own.map(|o| below_root(o, mount_root)).unwrap_or_default();
                mount_point.join(base).join(p)
            }
        }
    }

    pub fn is_relative(&self) -> bool {
        matches!(self, CgroupPath::Relative(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abs(p: &str) -> CgroupPath {
        CgroupPath::Absolute(PathBuf::from(p))
    }

    #[test]
    fn runc_rules() {
        assert_eq!(resolve(None, "c1", false).unwrap(), abs("yurta/c1"));
        assert_eq!(
            resolve(Some(Path::new("")), "c1", false).unwrap(),
            abs("yurta/c1")
        );
        assert_eq!(
            resolve(Some(Path::new("/a/b/")), "c1", false).unwrap(),
            abs("a/b")
        );
        assert_eq!(
            resolve(Some(Path::new("/a/../../etc")), "c", false).unwrap(),
            abs("etc")
        );
        assert_eq!(
            resolve(Some(Path::new("x/y")), "c1", false).unwrap(),
            CgroupPath::Relative(PathBuf::from("x/y"))
        );
    }

    #[test]
    fn systemd_expansion() {
        let r = |s: &str| resolve(Some(Path::new(s)), "id", true);
        assert_eq!(
            r("machine.slice:libpod:abc").unwrap(),
            abs("machine.slice/libpod-abc.scope")
        );
        assert_eq!(
            r("a-b.slice:p:n").unwrap(),
            abs("a.slice/a-b.slice/p-n.scope")
        );
        assert_eq!(r(":p:n").unwrap(), abs("system.slice/p-n.scope"));
        assert_eq!(r("-.slice::n").unwrap(), abs("n.scope"));
        assert_eq!(
            r("user.slice:p:my.slice").unwrap(),
            abs("user.slice/my.slice")
        );
        assert_eq!(
            resolve(None, "c1", true).unwrap(),
            abs("system.slice/yurta-c1.scope")
        );
        assert!(r("/plain/path").is_err());
        assert!(r("a--b.slice:p:n").is_err());
        assert!(r("nosuffix:p:n").is_err());
        assert!(r("a.slice:p:").is_err());
    }

    #[test]
    fn slices() {
        assert_eq!(expand_slice("a-b.slice").unwrap(), "/a.slice/a-b.slice");
        assert_eq!(
            expand_slice("a-b-c.slice").unwrap(),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        assert_eq!(expand_slice("-.slice").unwrap(), "/");
        assert!(expand_slice("-a.slice").is_err());
        assert!(expand_slice("a-.slice").is_err());
        assert!(expand_slice("a/b.slice").is_err());
    }

    #[test]
    fn directories() {
        let mnt = Path::new("/sys/fs/cgroup/memory");
        let root = Path::new("/");
        assert_eq!(abs("a/b").dir_in(mnt, root, None), mnt.join("a/b"));
        let rel = CgroupPath::Relative(PathBuf::from("c"));
        assert_eq!(
            rel.dir_in(mnt, root, Some(Path::new("/user/1"))),
            mnt.join("user/1/c")
        );
        // Inside a container without a cgroup namespace the mount root is not "/".
        let croot = Path::new("/docker/abc");
        assert_eq!(
            rel.dir_in(mnt, croot, Some(Path::new("/docker/abc/x"))),
            mnt.join("x/c")
        );
        assert_eq!(abs("docker/abc/y").dir_in(mnt, croot, None), mnt.join("y"));
    }
}
