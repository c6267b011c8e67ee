//! Host device nodes for `--device` and `--privileged`: read from the host
//! (stat), turned into `linux.devices` entries and cgroup rules.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::SpecError;
use crate::record::DeviceMapping;

/// One device node as the container gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDevice {
    /// The path inside the container.
    pub path: String,
    /// `c`, `b` or `p`.
    pub kind: char,
    pub major: u64,
    pub minor: u64,
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// cgroup permissions, `rwm` or fewer.
    pub permissions: String,
}

impl HostDevice {
    /// The `linux.devices` entry.
    pub fn spec_entry(&self) -> Value {
        json!({
            "path": self.path,
            "type": self.kind.to_string(),
            "major": self.major,
            "minor": self.minor,
            "fileMode": self.file_mode,
            "uid": self.uid,
            "gid": self.gid,
        })
    }

    /// The `linux.resources.devices` rule allowing it.
    pub fn cgroup_rule(&self) -> Value {
        json!({
            "allow": true,
            "type": self.kind.to_string(),
            "major": self.major,
            "minor": self.minor,
            "access": self.permissions,
        })
    }
}

fn stat_device(
    host: &Path,
    container: &str,
    permissions: &str,
) -> Result<Option<HostDevice>, SpecError> {
    let meta = fs::metadata(host).map_err(|e| SpecError::Device {
        path: host.display().to_string(),
        why: e.to_string(),
    })?;
    let ft = meta.file_type();
    let kind = if ft.is_char_device() {
        'c'
    } else if ft.is_block_device() {
        'b'
    } else if ft.is_fifo() {
        'p'
    } else {
        return Ok(None);
    };
    let rdev = meta.rdev();
    Ok(Some(HostDevice {
        path: container.to_string(),
        kind,
        major: nix::sys::stat::major(rdev),
        minor: nix::sys::stat::minor(rdev),
        file_mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        permissions: permissions.to_string(),
    }))
}

/// The devices of one `--device`: a node, or every node under a
/// directory (placed under the container path, as Docker does).
pub fn resolve(mapping: &DeviceMapping) -> Result<Vec<HostDevice>, SpecError> {
    let host = Path::new(&mapping.path_on_host);
    let perms = &mapping.cgroup_permissions;
    if host.is_dir() {
        let mut out = Vec::new();
        for file in walk(host) {
            let rel = file.strip_prefix(host).unwrap_or(&file);
            let dest = Path::new(&mapping.path_in_container).join(rel);
            out.extend(stat_device(&file, &dest.display().to_string(), perms)?);
        }
        return Ok(out);
    }
    match stat_device(host, &mapping.path_in_container, perms)? {
        Some(d) => Ok(vec![d]),
        None => Err(SpecError::Device {
            path: mapping.path_on_host.clone(),
            why: "not a device node".to_string(),
        }),
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(walk(&p)),
            Ok(t) if !t.is_symlink() => out.push(p),
            _ => {}
        }
    }
    out.sort();
    out
}

/// Every device of the host's /dev for `--privileged` (Docker's
/// `HostDevices`: not pts, shm, mqueue, fd, /dev/console, nor /dev/ptmx,
/// which the runtime makes a link to the container's devpts).
pub fn host_devices() -> Vec<HostDevice> {
    let skip = [
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/dev/fd",
        "/dev/.lxc",
        "/dev/.udev",
    ];
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from("/dev")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            let special = p == Path::new("/dev/console") || p == Path::new("/dev/ptmx");
            if special || skip.iter().any(|s| p == Path::new(s)) {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_char_device() || t.is_block_device() => {
                    if let Ok(Some(d)) = stat_device(&p, &p.display().to_string(), "rwm") {
                        out.push(d);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Docker's default cgroup device rules: deny all, then `mknod` of any
/// node and the usual character devices (null, zero, full, random,
/// urandom, tty, console, ptmx, pts, tun).
pub fn default_rules() -> Vec<Value> {
    let mut rules = vec![json!({"allow": false, "access": "rwm"})];
    rules.push(json!({"allow": true, "type": "c", "access": "m"}));
    rules.push(json!({"allow": true, "type": "b", "access": "m"}));
    for (major, minor) in [
        (1, 3),
        (1, 8),
        (1, 7),
        (5, 0),
        (1, 5),
        (1, 9),
        (5, 1),
        (5, 2),
        (10, 200),
    ] {
        rules.push(
            json!({"allow": true, "type": "c", "major": major, "minor": minor, "access": "rwm"}),
        );
    }
    rules.push(json!({"allow": true, "type": "c", "major": 136, "access": "rwm"}));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_host_nodes() {
        let m = DeviceMapping {
            path_on_host: "/dev/null".into(),
            path_in_container: "/dev/mynull".into(),
            cgroup_permissions: "rw".into(),
        };
        let d = resolve(&m).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].kind, d[0].major, d[0].minor), ('c', 1, 3));
        assert_eq!(d[0].spec_entry()["path"], "/dev/mynull");
        assert_eq!(
            d[0].cgroup_rule(),
            json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"})
        );
        let bad = DeviceMapping {
            path_on_host: "/dev/nope-x".into(),
            ..m.clone()
        };
        assert!(resolve(&bad)
            .unwrap_err()
            .to_string()
            .contains("/dev/nope-x"));
        let not_dev = DeviceMapping {
            path_on_host: "/etc/hostname".into(),
            ..m
        };
        assert!(resolve(&not_dev)
            .unwrap_err()
            .to_string()
            .contains("not a device node"));
        assert!(host_devices().iter().any(|d| d.path == "/dev/null"));
        assert_eq!(default_rules()[0], json!({"allow": false, "access": "rwm"}));
    }
}
