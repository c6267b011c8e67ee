//! Device nodes in the container's /dev: the defaults every container gets
//! and linux.devices.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::mount::MsFlags;
use nix::sys::stat::{makedev, Mode, SFlag};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::secure_join;
use crate::error::{Error, Result, SysContext};
use crate::syscall::Syscall;

/// A device to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode<'a> {
    pub path: &'a Path,
    pub kind: SFlag,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// The devices the OCI spec requires in every container.
pub const DEFAULTS: &[(&str, u64, u64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// Creates the default devices.
pub fn create_defaults(sys: &dyn Syscall, rootfs: &Path, in_userns: bool) -> Result<()> {
    for (path, major, minor) in DEFAULTS {
        let node = DeviceNode {
            path: Path::new(path),
            kind: SFlag::S_IFCHR,
            major: *major,
            minor: *minor,
            mode: 0o666,
            uid: None,
            gid: None,
        };
        create(sys, rootfs, &node, in_userns)?;
    }
    Ok(())
}

/// The standard /dev symlinks.
pub fn create_symlinks(sys: &dyn Syscall, rootfs: &Path) -> Result<()> {
    let mut links = vec![
        ("/proc/self/fd", "dev/fd"),
        ("/proc/self/fd/0", "dev/stdin"),
        ("/proc/self/fd/1", "dev/stdout"),
        ("/proc/self/fd/2", "dev/stderr"),
        ("pts/ptmx", "dev/ptmx"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "dev/core"));
    }
    for (target, link) in links {
        let link = rootfs.join(link);
        if link.symlink_metadata().is_ok() {
            if link.ends_with("ptmx") {
                // An image may ship a /dev/ptmx node; the pts one is the right one.
                let _ = fs::remove_file(&link);
            } else {
                continue;
            }
        }
        sys.symlink(Path::new(target), &link)
            .sys(|| format!("symlink {} -> {target}", link.display()))?;
    }
    Ok(())
}

/// Creates linux.devices.
pub fn create_configured(
    sys: &dyn Syscall,
    rootfs: &Path,
    devices: &[LinuxDevice],
    in_userns: bool,
) -> Result<()> {
    for d in devices {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(Error::InvalidConfig(format!(
                    "device {}: type 'a' is only valid in cgroup rules",
                    d.path().display()
                )))
            }
        };
        if !d.path().starts_with("/dev") {
            return Err(Error::InvalidConfig(format!(
                "device {} is not under /dev",
                d.path().display()
            )));
        }
        let node = DeviceNode {
            path: d.path(),
            kind,
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666),
            uid: d.uid(),
            gid: d.gid(),
        };
        create(sys, rootfs, &node, in_userns)?;
    }
    Ok(())
}

/// mknod, or in a user namespace (where mknod is refused) a bind mount of
/// the host's node onto an empty file.
pub fn create(sys: &dyn Syscall, rootfs: &Path, node: &DeviceNode, in_userns: bool) -> Result<()> {
    let dest = secure_join(rootfs, node.path)?;
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    }
    if in_userns {
        if dest.symlink_metadata().is_err() {
            fs::File::create(&dest).map_err(|e| Error::write(&dest, e))?;
        }
        return sys
            .mount(Some(node.path), &dest, None, MsFlags::MS_BIND, None)
            .sys(|| {
                format!(
                    "binding host device {} into the container",
                    node.path.display()
                )
            });
    }
    if dest.symlink_metadata().is_ok() {
        fs::remove_file(&dest).map_err(|e| Error::write(&dest, e))?;
    }
    let dev = makedev(node.major, node.minor);
    sys.mknod(
        &dest,
        node.kind,
        Mode::from_bits_truncate(node.mode & 0o7777),
        dev,
    )
    .sys(|| {
        format!(
            "mknod {} ({}:{})",
            node.path.display(),
            node.major,
            node.minor
        )
    })?;
    // mknod is subject to umask: set the mode exactly.
    if dest.exists() {
        fs::set_permissions(&dest, fs::Permissions::from_mode(node.mode & 0o7777))
            .map_err(|e| Error::write(&dest, e))?;
    }
    if node.uid.is_some() || node.gid.is_some() {
        sys.chown(&dest, node.uid, node.gid)
            .sys(|| format!("chown {}", node.path.display()))?;
    }
    Ok(())
}
