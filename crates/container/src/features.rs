//! The OCI `features` document: what this runtime supports.

use serde_json::{json, Value};

/// Builds the features JSON (runtime-spec features.md). Only what works is
/// listed: the recursive mount options (`rro`, ...) are accepted but apply
/// to the mount itself only (no mount_setattr), so they are not claimed;
/// `supportedFlags` are the seccomp flags this kernel takes.
pub fn features() -> Value {
    let mount_options: Vec<&str> = vec![
        "async",
        "atime",
        "bind",
        "defaults",
        "dev",
        "diratime",
        "dirsync",
        "exec",
        "loud",
        "mand",
        "noatime",
        "nodev",
        "nodiratime",
        "noexec",
        "nomand",
        "norelatime",
        "nostrictatime",
        "nosuid",
        "private",
        "rbind",
        "relatime",
        "remount",
        "ro",
        "rprivate",
        "rshared",
        "rslave",
        "runbindable",
        "rw",
        "shared",
        "silent",
        "slave",
        "strictatime",
        "suid",
        "sync",
        "tmpcopyup",
        "unbindable",
    ];
    let hooks = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ];
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::spec::OCI_VERSION,
        "hooks": hooks,
        "mountOptions": mount_options,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"],
            "capabilities": crate::capabilities::NAMES,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false},
            "seccomp": {
                "enabled": true,
                "actions": yurta_seccomp::known_actions(),
                "operators": yurta_seccomp::known_operators(),
                "archs": yurta_seccomp::supported_archs(),
                "knownFlags": yurta_seccomp::known_flags(),
                "supportedFlags": yurta_seccomp::supported_flags()
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": false}}
        },
        "annotations": {
            "org.opencontainers.runc.version": "compatible",
            "io.yurta.runtime.version": env!("CARGO_PKG_VERSION")
        }
    })
}
