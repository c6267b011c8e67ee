//! The seed image read by the host's `blkid` and `isoinfo` and, as root,
//! by Linux itself: through a loop mount where the kernel has isofs, else
//! in a guest booted under QEMU.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::*;

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        eprintln!("skipping: {name} is not installed");
    }
    found
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(out.status.success(), "{cmd} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn seed_on_disk(dir: &Path) -> String {
    let path = dir.join("seed.iso");
    write_seed_iso(&path, &borrowed(&nocloud())).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn blkid_sees_label_cidata() {
    if !tool("blkid") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let iso = seed_on_disk(tmp.path());
    assert_eq!(
        run("blkid", &["-p", "-o", "value", "-s", "LABEL", &iso]),
        "cidata\n"
    );
    assert_eq!(
        run("blkid", &["-p", "-o", "value", "-s", "TYPE", &iso]),
        "iso9660\n"
    );
}

#[test]
fn isoinfo_lists_and_extracts_exact_names() {
    if !tool("isoinfo") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let iso = seed_on_disk(tmp.path());
    let info = run("isoinfo", &["-d", "-i", &iso]);
    assert!(info.contains("Volume id: CIDATA"), "{info}");
    assert!(info.contains("Joliet with UCS level 3 found"), "{info}");
    assert!(
        info.contains("Rock Ridge signatures version 1 found"),
        "{info}"
    );
    let listed = "/meta-data\n/network-config\n/user-data\n";
    assert_eq!(run("isoinfo", &["-J", "-f", "-i", &iso]), listed);
    assert_eq!(run("isoinfo", &["-R", "-f", "-i", &iso]), listed);
    let plain = run("isoinfo", &["-f", "-i", &iso]);
    assert_eq!(plain, "/META_DAT.;1\n/NETWORK_.;1\n/USER_DAT.;1\n");
    let files: BTreeMap<String, Vec<u8>> = nocloud().into_iter().collect();
    for (name, data) in &files {
        for tree in ["-J", "-R"] {
            let out = Command::new("isoinfo")
                .args([tree, "-i", &iso, "-x", &format!("/{name}")])
                .output()
                .unwrap();
            assert_eq!(&out.stdout, data, "isoinfo {tree} -x /{name}");
        }
    }
}

/// Unmounts on drop, so a failed assertion does not leave a mount.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// A full disk mid-write: one line naming the image, and no temp file or
/// half image left on the (64 KiB tmpfs) filesystem. Root only.
#[test]
fn disk_full_leaves_nothing() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: not root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    fs::create_dir(&small).unwrap();
    let small_str = small.to_str().unwrap();
    run(
        "mount",
        &["-t", "tmpfs", "-o", "size=64k", "tmpfs", small_str],
    );
    let _guard = Mounted(&small);
    let path = small.join("seed.iso");
    let data = vec![7u8; 256 << 10];
    let e = write_seed_iso(&path, &[("user-data", &data)]).unwrap_err();
    let want = format!("write seed {}: No space left on device", path.display());
    assert!(e.to_string().starts_with(&want), "{e}");
    assert!(listing(&small).is_empty(), "{:?}", listing(&small));
}

/// Mount options tried: Rock Ridge names (Linux's default when both are
/// there), then Joliet names (`norock`).
const MOUNT_OPTIONS: [&str; 2] = ["ro", "ro,norock"];

/// Linux reads the image by its exact names, with Rock Ridge and with
/// Joliet: loop-mounted here as root, or, where this kernel has no iso9660
/// (containers on a minimal kernel), in a QEMU guest running the host's
/// distribution kernel. Skipped when neither is possible.
#[test]
fn linux_mounts_it_with_exact_names() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: not root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let iso = seed_on_disk(tmp.path());
    let want: BTreeMap<String, Vec<u8>> = nocloud().into_iter().collect();
    let seen = match host_mounts(Path::new(&iso), tmp.path()) {
        Some(seen) => seen,
        None => match guest_mounts(Path::new(&iso), tmp.path()) {
            Some(seen) => seen,
            None => return,
        },
    };
    assert_eq!(seen.len(), MOUNT_OPTIONS.len(), "{seen:?}");
    for (opts, got) in &seen {
        assert_eq!(got, &want, "mount -o {opts}");
    }
}

/// What each of [`MOUNT_OPTIONS`] shows: file name to contents.
type Seen = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// `mount -o loop,OPTS` here; `None` if this kernel has no iso9660.
fn host_mounts(iso: &Path, dir: &Path) -> Option<Seen> {
    let mnt = dir.join("mnt");
    fs::create_dir(&mnt).unwrap();
    let mut seen = Seen::new();
    for opts in MOUNT_OPTIONS {
        let out = Command::new("mount")
            .args(["-t", "iso9660", "-o", &format!("loop,{opts}")])
            .arg(iso)
            .arg(&mnt)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && stderr.contains("unknown filesystem type") {
            eprintln!("this kernel has no iso9660, trying a guest: {stderr}");
            return None;
        }
        assert!(out.status.success(), "mount -o loop,{opts}: {stderr}");
        let _guard = Mounted(&mnt);
        let mut files = BTreeMap::new();
        for e in fs::read_dir(&mnt).unwrap() {
            let e = e.unwrap();
            let data = fs::read(e.path()).unwrap();
            files.insert(e.file_name().into_string().unwrap(), data);
        }
        for name in ["user-data", "meta-data", "network-config"] {
            assert!(fs::read(mnt.join(name)).is_ok(), "{opts}: open {name}");
        }
        seen.insert(opts.to_string(), files);
    }
    Some(seen)
}

/// The guest's init: load the modules, mount the seed (a read-only virtio
/// disk) with each of [`MOUNT_OPTIONS`] and print `=== OPTS`, then for each
/// file `@@ NAME` and its contents.
const GUEST_INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko; done
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
for o in $OPTIONS; do
  echo "=== $o"
  mount -t iso9660 -o $o /dev/vda /mnt || continue
  for f in $(ls /mnt); do echo "@@ $f"; cat "/mnt/$f"; done
  umount /mnt
done
echo "=== end"
poweroff -f
"#;

/// Boots the host's `/boot/vmlinuz-VERSION` under QEMU (x86_64, TCG) with
/// a busybox initramfs made here, the seed attached as a disk; `None` when
/// something needed (QEMU, kernel, modules, busybox, cpio) is missing.
fn guest_mounts(iso: &Path, dir: &Path) -> Option<Seen> {
    let missing = |what: &str| {
        eprintln!("skipping: no {what} for a guest");
        None
    };
    if !cfg!(target_arch = "x86_64") || !tool("qemu-system-x86_64") || !tool("cpio") {
        return missing("x86_64 QEMU or cpio");
    }
    let Ok(kernel) = crate::testkit::host_kit() else {
        return missing("/boot/vmlinuz-* with modules");
    };
    if !Path::new("/bin/busybox").exists() {
        return missing("busybox");
    }
    let init = GUEST_INIT.replace("$OPTIONS", &MOUNT_OPTIONS.join(" "));
    let initrd = crate::testkit::build_initramfs_with(
        &kernel,
        dir,
        &init,
        &[crate::testkit::VIRTIO_BLOCK, &["cdrom", "isofs"]].concat(),
    );
    let out = Command::new("timeout")
        .args([
            "300",
            "qemu-system-x86_64",
            "-nodefaults",
            "-no-user-config",
        ])
        .args([
            "-machine",
            "q35,accel=tcg",
            "-m",
            "256M",
            "-display",
            "none",
        ])
        .args(["-serial", "stdio", "-no-reboot", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 quiet loglevel=1 panic=-1"])
        .arg("-drive")
        .arg(format!(
            "file={},format=raw,if=virtio,readonly=on",
            iso.display()
        ))
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(
        console.contains("=== end"),
        "guest did not finish: {console}"
    );
    Some(parse_guest(&console))
}

/// `=== OPTS` sections of `@@ NAME` blocks, as printed by [`GUEST_INIT`].
fn parse_guest(console: &str) -> Seen {
    let mut seen = Seen::new();
    let mut section: Option<String> = None;
    let mut file: Option<String> = None;
    for line in console.split_inclusive('\n') {
        if let Some(opts) = line.strip_prefix("=== ") {
            let opts = opts.trim_end().to_string();
            section = (opts != "end").then_some(opts);
            file = None;
            if let Some(s) = &section {
                seen.insert(s.clone(), BTreeMap::new());
            }
        } else if let (Some(s), Some(name)) = (&section, line.strip_prefix("@@ ")) {
            let name = name.trim_end().to_string();
            seen.get_mut(s).unwrap().insert(name.clone(), Vec::new());
            file = Some(name);
        } else if let (Some(s), Some(f)) = (&section, &file) {
            let data = seen.get_mut(s).unwrap().get_mut(f).unwrap();
            data.extend_from_slice(line.as_bytes());
        }
    }
    seen
}
