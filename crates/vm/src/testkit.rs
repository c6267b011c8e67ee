//! For tests (feature `testkit`): a busybox initramfs for Debian's
//! kernel, and what a test needs to know about the host's QEMU. Used by
//! this crate's tests and by the `yurta vm` CLI's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// Modules for a virtio disk, in load order (those the kernel has built in
/// are skipped).
pub const VIRTIO_BLOCK: &[&str] = &[
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
];

/// virtio_net and its dependencies (modinfo -F depends), after
/// [`VIRTIO_BLOCK`].
pub const VIRTIO_NET: &[&str] = &["failover", "net_failover", "virtio_net"];

/// Printed by /init as soon as it runs.
pub const MARK_UP: &str = "YURTA-GUEST-UP";
/// Printed by /init just before it starts the shell.
pub const MARK_READY: &str = "YURTA-READY";

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo YURTA-GUEST-UP
for m in $(cat /lib/modules/order); do
  insmod /lib/modules/$m.ko || echo "YURTA-INSMOD-FAILED $m"
done
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
if [ -b /dev/vda ]; then
  w=$(sed -n 's/.*yurta\.write=\([^ ]*\).*/\1/p' /proc/cmdline)
  if [ -n "$w" ]; then
    echo "$w" | dd of=/dev/vda conv=fsync 2>/dev/null && echo "YURTA-DISK-WROTE $w"
  fi
  echo "YURTA-DISK-READ $(head -c 64 /dev/vda | tr -d '\000' | head -n 1)"
fi
echo YURTA-READY
exec sh
"#;

/// One QEMU at a time within a test binary: guests under TCG are slow
/// enough without sharing two cores.
pub fn qemu_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Debian's kernel and the QEMU to boot it, or why the test is skipped.
pub fn host_kit() -> Result<PathBuf, String> {
    let ok = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err("no qemu-system-x86_64".into());
    }
    crate::accel::host_kernel().ok_or_else(|| "no /boot/vmlinuz-*".into())
}

/// Builds `dir/initrd.gz` for `kernel` with the guest the tests expect
/// ([`MARK_UP`], virtio disk and network, a shell on the console).
pub fn build_initramfs(kernel: &Path, dir: &Path) -> PathBuf {
    build_initramfs_with(kernel, dir, INIT, &[VIRTIO_BLOCK, VIRTIO_NET].concat())
}

/// Builds `dir/initrd.gz`: static busybox, `init` as /init, and those of
/// `modules` that `kernel` has as modules (from
/// /lib/modules/<version of vmlinuz-VERSION>, decompressed) in
/// /lib/modules, their names in load order in /lib/modules/order.
pub fn build_initramfs_with(kernel: &Path, dir: &Path, init: &str, modules: &[&str]) -> PathBuf {
    let version = kernel
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinuz-"))
        .expect("kernel named vmlinuz-VERSION");
    let root = dir.join("initramfs");
    for d in [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "proc",
        "sys",
        "dev",
        "mnt",
        "lib/modules",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    write_exec(&root.join("init"), init);
    let tree = Path::new("/lib/modules").join(version).join("kernel");
    let found: Vec<&str> = modules
        .iter()
        .copied()
        .filter(|m| copy_module(&tree, m, &root.join("lib/modules")))
        .collect();
    std::fs::write(root.join("lib/modules/order"), found.join("\n")).unwrap();
    let out = dir.join("initrd.gz");
    let script = format!(
        "cd '{}' && find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        root.display(),
        out.display()
    );
    run("sh", &["-c", &script]);
    out
}

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Finds `name.ko` (or `.ko.xz`) under `tree` and puts `name.ko` in
/// `dest`; false when the kernel has no such module (built in, or absent).
fn copy_module(tree: &Path, name: &str, dest: &Path) -> bool {
    let Some(found) = find_file(tree, &format!("{name}.ko"))
        .or_else(|| find_file(tree, &format!("{name}.ko.xz")))
    else {
        return false;
    };
    let target = dest.join(format!("{name}.ko"));
    if found.extension().is_some_and(|e| e == "xz") {
        let out = Command::new("xz").arg("-dc").arg(&found).output().unwrap();
        assert!(out.status.success(), "xz -dc {}", found.display());
        std::fs::write(target, out.stdout).unwrap();
    } else {
        std::fs::copy(&found, target).unwrap();
    }
    true
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let ft = e.file_type().ok()?;
        if ft.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if e.file_name() == name {
            return Some(p);
        }
    }
    None
}

fn run(prog: &str, args: &[&str]) {
    let st = Command::new(prog).args(args).status().unwrap();
    assert!(st.success(), "{prog} {args:?}: {st}");
}

/// Files left in `dir` (for leak checks).
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
