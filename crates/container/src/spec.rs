//! Loading config.json and writing the starting one for `spec`.

use std::path::Path;

use oci_spec::runtime::Spec;
use serde_json::json;

use crate::error::{Error, Result};

/// The OCI runtime specification version this runtime implements.
pub const OCI_VERSION: &str = "1.2.0";

/// Reads and parses a config.json.
pub fn load(path: &Path) -> Result<Spec> {
    let data = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    parse(path, &data)
}

/// Parses config.json bytes read from `path`.
pub fn parse(path: &Path, data: &[u8]) -> Result<Spec> {
    serde_json::from_slice(data).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

const DEFAULT_CAPS: &[&str] = &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// The config.json written by `spec`: a shell in ./rootfs with the usual
/// mounts, masked paths and a small capability set, like runc's, plus the
/// default seccomp profile (runc's has none).
pub fn default_config(rootless: bool) -> serde_json::Value {
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "network"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
        json!({"type": "cgroup"}),
    ];
    let mut linux = json!({
        "resources": {"devices": [{"allow": false, "access": "rwm"}]},
        "maskedPaths": [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/proc/scsi", "/sys/devices/virtual/powercap"
        ],
        "readonlyPaths": [
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
        ]
    });
    if rootless {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        namespaces.retain(|n| n["type"] != "network" && n["type"] != "cgroup");
        namespaces.push(json!({"type": "user"}));
        linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
        linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
        linux.as_object_mut().map(|o| o.remove("resources"));
    }
    linux["namespaces"] = json!(namespaces);
    // Secure by default: the Docker-equivalent seccomp profile for these capabilities.
    let caps: Vec<String> = DEFAULT_CAPS.iter().map(|c| c.to_string()).collect();
    linux["seccomp"] =
        serde_json::to_value(yurta_seccomp::default_profile(&caps)).unwrap_or_default();
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}),
    ];
    if rootless {
        mounts[5] = json!({"destination": "/sys", "type": "none", "source": "/sys",
                           "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        mounts.truncate(6);
        mounts[2]["options"] = json!([
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620"
        ]);
    }
    json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": DEFAULT_CAPS, "effective": DEFAULT_CAPS, "permitted": DEFAULT_CAPS
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "yurta",
        "mounts": mounts,
        "linux": linux
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configs_parse_as_oci_specs() {
        for rootless in [false, true] {
            let value = default_config(rootless);
            let data = serde_json::to_vec(&value).unwrap();
            let spec = parse(Path::new("config.json"), &data).unwrap();
            assert_eq!(spec.root().as_ref().unwrap().path(), Path::new("rootfs"));
            let ns = spec
                .linux()
                .as_ref()
                .unwrap()
                .namespaces()
                .as_ref()
                .unwrap();
            assert_eq!(
                ns.iter()
                    .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::User),
                rootless
            );
        }
    }

    #[test]
    fn parse_errors_name_the_file() {
        let err = parse(Path::new("/b/config.json"), b"{\"ociVersion\": 1}").unwrap_err();
        assert!(
            err.to_string().starts_with("parsing /b/config.json"),
            "{err}"
        );
    }
}
