//! The `mounts` of a container's spec: Docker's defaults (proc, dev,
//! devpts, sysfs, cgroup, mqueue, shm), the network files, the user's
//! volumes, binds and tmpfs mounts (parents before children; a user mount
//! replaces a default one at the same place), and the init binary.

use std::path::{Component, Path};

use serde_json::{json, Value};

use super::{EtcFiles, INIT_PATH};
use crate::record::{MountPoint, MountType};

/// Docker's default mounts. `privileged` makes /sys and the cgroup mount
/// writable; `shm_size` is in bytes.
pub fn defaults(privileged: bool, shm_size: i64) -> Vec<Value> {
    let ro = |mut opts: Vec<&'static str>| {
        if !privileged {
            opts.push("ro");
        }
        opts
    };
    vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ro(vec!["nosuid", "noexec", "nodev"])}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": ro(vec!["nosuid", "noexec", "nodev", "relatime"])}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm_size}")]}),
    ]
}

/// `--ipc host`: the host's /dev/shm instead of the container's own, so
/// POSIX shared memory is shared with the host as System V IPC is.
pub fn share_host_shm(mounts: &mut [Value]) {
    for m in mounts.iter_mut().filter(|m| m["destination"] == "/dev/shm") {
        *m = json!({"destination": "/dev/shm", "type": "bind", "source": "/dev/shm",
                    "options": ["rbind", "nosuid", "noexec", "nodev"]});
    }
}

/// `/etc/resolv.conf`, `/etc/hostname`, `/etc/hosts` bound from the
/// caller's files; read-only with a read-only root (Docker's rule).
pub fn etc_files(files: &EtcFiles, readonly_rootfs: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for (dest, src) in [
        ("/etc/resolv.conf", &files.resolv_conf),
        ("/etc/hostname", &files.hostname),
        ("/etc/hosts", &files.hosts),
    ] {
        if let Some(src) = src {
            let mut opts = vec!["rbind", "rprivate"];
            if readonly_rootfs {
                opts.push("ro");
            }
            out.push(json!({"destination": dest, "type": "bind",
                            "source": src.display().to_string(), "options": opts}));
        }
    }
    out
}

/// One user mount (a record `Mounts` entry with its host source).
pub fn user_mount(m: &MountPoint) -> Value {
    match m.kind {
        MountType::Tmpfs => {
            let mut opts = vec![
                "nosuid".to_string(),
                "nodev".to_string(),
                "noexec".to_string(),
            ];
            if let Some(size) = m.extra.tmpfs_size {
                opts.push(format!("size={size}"));
            }
            if let Some(mode) = m.extra.tmpfs_mode {
                opts.push(format!("mode={mode:o}"));
            }
            if !m.rw {
                opts.push("ro".to_string());
            }
            json!({"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": opts})
        }
        MountType::Bind | MountType::Volume => {
            let mut opts = vec!["rbind".to_string()];
            if !m.rw {
                opts.push("ro".to_string());
            }
            let prop = if m.propagation.is_empty() {
                "rprivate"
            } else {
                m.propagation.as_str()
            };
            opts.push(prop.to_string());
            json!({"destination": m.destination, "type": "bind", "source": m.source, "options": opts})
        }
    }
}

/// The init binary, bound read-only at [`INIT_PATH`].
pub fn init(path: &Path) -> Value {
    json!({"destination": INIT_PATH, "type": "bind", "source": path.display().to_string(),
           "options": ["rbind", "ro", "rprivate"]})
}

fn depth(p: &str) -> usize {
    Path::new(p)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

fn clean(p: &str) -> String {
    let comps: Vec<String> = Path::new(p)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    format!("/{}", comps.join("/"))
}

/// All mounts in order: defaults and network files not shadowed by a user
/// mount at the same destination, then the user's mounts sorted by depth
/// (stable, so equal depths keep their order), then init.
pub fn assemble(
    defaults: Vec<Value>,
    etc: Vec<Value>,
    user: &[MountPoint],
    init: Option<Value>,
) -> Vec<Value> {
    let user_dests: Vec<String> = user.iter().map(|m| clean(&m.destination)).collect();
    let shadowed = |v: &Value| {
        let d = clean(v["destination"].as_str().unwrap_or_default());
        user_dests.contains(&d)
    };
    let mut out: Vec<Value> = defaults
        .into_iter()
        .chain(etc)
        .filter(|v| !shadowed(v))
        .collect();
    let mut sorted: Vec<&MountPoint> = user.iter().collect();
    sorted.sort_by_key(|m| depth(&m.destination));
    out.extend(sorted.into_iter().map(user_mount));
    out.extend(init);
    out
}
