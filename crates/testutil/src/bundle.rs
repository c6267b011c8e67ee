//! OCI bundles for runtime and supervisor tests: a root filesystem made of
//! the host's static busybox with a symlink per applet, and `config.json`.
//! What goes into the config is each test suite's own business.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The host's busybox binary; panics if it is not installed.
pub fn busybox() -> &'static str {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox is not installed (apt-get install busybox-static)")
}

/// busybox's applet names, listed once per test process.
pub fn applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = Command::new(busybox())
            .arg("--list")
            .output()
            .expect("busybox --list");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    })
}

/// Makes a busybox root filesystem at `rootfs`: `/bin/busybox` and a
/// symlink to it per applet, the usual mount points, a world-writable
/// sticky `/tmp`, and `/etc/passwd` and `/etc/group` with root only.
pub fn make_rootfs(rootfs: &Path) {
    for d in ["bin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt"] {
        let dir = rootfs.join(d);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    fs::copy(busybox(), rootfs.join("bin/busybox"))
        .unwrap_or_else(|e| panic!("copying busybox into {}: {e}", rootfs.display()));
    for applet in applets() {
        if applet != "busybox" {
            let link = rootfs.join("bin").join(applet);
            symlink("busybox", &link).unwrap_or_else(|e| panic!("linking {}: {e}", link.display()));
        }
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))
        .unwrap_or_else(|e| panic!("chmod 1777 {}/tmp: {e}", rootfs.display()));
    write(
        &rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n",
    );
    write(&rootfs.join("etc/group"), "root:x:0:\n");
}

/// Writes `config` as `bundle/config.json` (pretty-printed).
pub fn write_config(bundle: &Path, config: &Value) {
    let text = serde_json::to_string_pretty(config).expect("a config that serializes");
    write(&bundle.join("config.json"), &text);
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
