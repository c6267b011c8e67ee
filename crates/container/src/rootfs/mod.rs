//! The container's root filesystem: mounts, devices, pivot_root, masked and
//! read-only paths.
//!
//! Runs in the container's init process, inside its new mount namespace.
//! Everything before [`pivot`] sees host paths; everything after sees the
//! container's. All kernel calls go through [`Syscall`].

mod cgroupfs;
mod copy;
pub mod devices;
pub mod options;
pub mod paths;

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use oci_spec::runtime::{Mount, Spec};

use crate::error::{Error, Result, SysContext};
use crate::syscall::Syscall;
pub use paths::secure_join;

/// What the rootfs setup needs besides the spec.
pub struct RootfsContext<'a> {
    pub syscall: &'a dyn Syscall,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    /// A new cgroup namespace: mount cgroupfs fresh instead of binding host paths.
    pub new_cgroupns: bool,
    /// In a user namespace, mknod is not allowed: bind host devices instead.
    pub in_userns: bool,
}

/// Sets propagation, binds the rootfs onto itself and mounts everything
/// config.json lists, then creates devices. Host paths are still visible.
pub fn prepare(ctx: &RootfsContext, spec: &Spec) -> Result<()> {
    let sys = ctx.syscall;
    let linux = spec.linux().as_ref();
    let propagation = linux
        .and_then(|l| l.rootfs_propagation().as_deref())
        .map(|p| {
            options::propagation_of(p).ok_or_else(|| {
                Error::InvalidConfig(format!("rootfsPropagation {p:?} is not a propagation mode"))
            })
        })
        .transpose()?
        .unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    // Shared propagation would make pivot_root fail (and leak our mounts to the host).
    let initial = if propagation.contains(MsFlags::MS_SHARED) {
        MsFlags::MS_PRIVATE
    } else {
        propagation
    };
    sys.mount(None, Path::new("/"), None, initial | MsFlags::MS_REC, None)
        .sys(|| "setting mount propagation of / in the container's mount namespace".into())?;
    sys.mount(
        Some(ctx.rootfs),
        ctx.rootfs,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )
    .sys(|| format!("bind mounting rootfs {}", ctx.rootfs.display()))?;

    let mounts = spec.mounts().as_deref().unwrap_or(&[]);
    for m in mounts {
        mount_one(ctx, m)?;
    }
    let dev_is_bind = mounts.iter().any(|m| {
        m.destination() == Path::new("/dev")
            && options::parse(m.options().as_deref().unwrap_or(&[])).is_bind()
    });
    if !dev_is_bind {
        let dev = ctx.rootfs.join("dev");
        fs::create_dir_all(&dev).map_err(|e| Error::write(&dev, e))?;
        devices::create_defaults(sys, ctx.rootfs, ctx.in_userns)?;
        devices::create_symlinks(sys, ctx.rootfs)?;
    }
    if let Some(devs) = linux.and_then(|l| l.devices().as_ref()) {
        devices::create_configured(sys, ctx.rootfs, devs, ctx.in_userns)?;
    }
    Ok(())
}

/// The bundle-relative or absolute source of a mount.
fn source_path(bundle: &Path, m: &Mount) -> Option<PathBuf> {
    m.source().as_ref().map(|s| {
        if s.is_absolute() {
            s.clone()
        } else {
            bundle.join(s)
        }
    })
}

fn mount_one(ctx: &RootfsContext, m: &Mount) -> Result<()> {
    let sys = ctx.syscall;
    let opts = options::parse(m.options().as_deref().unwrap_or(&[]));
    if let Some(bad) = opts.unsupported.first() {
        return Err(Error::InvalidConfig(format!(
            "mount {}: option {bad:?} is not supported",
            m.destination().display()
        )));
    }
    let typ = m.typ().as_deref().unwrap_or("");
    if !m.destination().is_absolute() {
        return Err(Error::InvalidConfig(format!(
            "mount destination {} is not absolute",
            m.destination().display()
        )));
    }
    let dest = secure_join(ctx.rootfs, m.destination())?;
    let what = || {
        format!(
            "mounting {} on {}",
            m.source().as_deref().unwrap_or(Path::new(typ)).display(),
            m.destination().display()
        )
    };

    if typ == "cgroup" || typ == "cgroup2" {
        return cgroupfs::mount(ctx, &dest, typ, &opts);
    }
    if opts.is_bind() || typ == "bind" {
        let src = source_path(ctx.bundle, m).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "bind mount {} has no source",
                m.destination().display()
            ))
        })?;
        make_mountpoint(&dest, src.is_dir())?;
        let bind = MsFlags::MS_BIND | (opts.flags & MsFlags::MS_REC);
        sys.mount(Some(&src), &dest, None, bind, None).sys(what)?;
        let extra = opts.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
        if !extra.is_empty() {
            let flags = extra | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | locked_flags(&dest);
            sys.mount(None, &dest, None, flags, None)
                .sys(|| format!("remounting {} with its options", m.destination().display()))?;
        }
    } else {
        make_mountpoint(&dest, true)?;
        let src = m.source().clone().unwrap_or_else(|| PathBuf::from(typ));
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        if opts.copy_up {
            copy::with_copy_up(&dest, || {
                sys.mount(Some(&src), &dest, Some(typ), opts.flags, data)
                    .sys(what)
            })?;
        } else {
            match sys.mount(Some(&src), &dest, Some(typ), opts.flags, data) {
                // sysfs cannot be mounted in a user namespace without its own
                // network namespace: bind the host's instead, as runc does.
                Err(nix::Error::EPERM) if typ == "sysfs" && ctx.in_userns => {
                    sys.mount(
                        Some(Path::new("/sys")),
                        &dest,
                        None,
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        None,
                    )
                    .sys(what)?;
                    let flags =
                        opts.flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | locked_flags(&dest);
                    sys.mount(None, &dest, None, flags, None).sys(what)?;
                }
                other => other.sys(what)?,
            }
        }
    }
    for prop in &opts.propagation {
        sys.mount(None, &dest, None, *prop, None)
            .sys(|| format!("setting propagation of {}", m.destination().display()))?;
    }
    Ok(())
}

/// Creates the directory (or the empty file, for a file bind mount) to mount on.
fn make_mountpoint(dest: &Path, dir: bool) -> Result<()> {
    if dir {
        return fs::create_dir_all(dest).map_err(|e| Error::write(dest, e));
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    }
    if dest.symlink_metadata().is_err() {
        fs::File::create(dest).map_err(|e| Error::write(dest, e))?;
    }
    Ok(())
}

/// Flags of the mount at `path` that a remount must keep (in a user
/// namespace the kernel refuses to drop them).
pub fn locked_flags(path: &Path) -> MsFlags {
    use nix::sys::statvfs::{statvfs, FsFlags};
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(fs) {
            out |= ms;
        }
    }
    out
}

/// True when the host's `/` is an initramfs (rootfs, a ramfs or tmpfs that
/// is not a mount of its own), where pivot_root fails with EINVAL.
pub fn root_is_initramfs() -> bool {
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let Ok(st) = nix::sys::statfs::statfs("/") else {
        return false;
    };
    // f_type is i64 here but u32/i32 on other architectures (s390x, arm).
    #[allow(clippy::unnecessary_cast)]
    let magic = st.filesystem_type().0 as i64;
    if magic != RAMFS_MAGIC && magic != TMPFS_MAGIC {
        return false;
    }
    // The initramfs is the mount with no parent in mountinfo's first line
    // and the only one whose root is "rootfs".
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| {
            m.lines()
                .any(|l| l.contains(" / / ") && l.contains(" - rootfs "))
        })
        .unwrap_or(false)
}

/// Makes the rootfs the root: pivot_root (or MS_MOVE + chroot with `no_pivot`,
/// needed when the host root is an initramfs).
pub fn pivot(sys: &dyn Syscall, rootfs: &Path, no_pivot: bool) -> Result<()> {
    sys.chdir(rootfs)
        .sys(|| format!("chdir {}", rootfs.display()))?;
    if no_pivot {
        sys.mount(Some(rootfs), Path::new("/"), None, MsFlags::MS_MOVE, None)
            .sys(|| format!("moving {} to /", rootfs.display()))?;
        sys.chroot(Path::new("."))
            .sys(|| "chroot into the rootfs".into())?;
    } else {
        let here = Path::new(".");
        sys.pivot_root(here, here)
            .sys(|| format!("pivot_root into {}", rootfs.display()))?;
        // The old root is stacked on "."; keep its unmount from reaching the host.
        sys.mount(None, here, None, MsFlags::MS_SLAVE | MsFlags::MS_REC, None)
            .sys(|| "making the old root a slave".into())?;
        sys.umount2(here, MntFlags::MNT_DETACH)
            .sys(|| "unmounting the old root".into())?;
    }
    sys.chdir(Path::new("/")).sys(|| "chdir /".into())
}

/// After pivot: masked paths, read-only paths, read-only root, final propagation.
pub fn finalize(sys: &dyn Syscall, spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    for path in linux
        .and_then(|l| l.readonly_paths().as_ref())
        .into_iter()
        .flatten()
    {
        readonly_path(sys, Path::new(path))?;
    }
    for path in linux
        .and_then(|l| l.masked_paths().as_ref())
        .into_iter()
        .flatten()
    {
        mask_path(sys, Path::new(path))?;
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        let flags = MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | locked_flags(Path::new("/"));
        sys.mount(None, Path::new("/"), None, flags, None)
            .sys(|| "remounting / read-only".into())?;
    }
    if let Some(p) = linux
        .and_then(|l| l.rootfs_propagation().as_deref())
        .and_then(options::propagation_of)
    {
        sys.mount(None, Path::new("/"), None, p, None)
            .sys(|| "setting rootfs propagation".into())?;
    }
    Ok(())
}

fn mask_path(sys: &dyn Syscall, path: &Path) -> Result<()> {
    let Ok(meta) = path.symlink_metadata() else {
        return Ok(());
    };
    let result = if meta.is_dir() {
        sys.mount(
            Some(Path::new("tmpfs")),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None,
        )
    } else {
        sys.mount(
            Some(Path::new("/dev/null")),
            path,
            None,
            MsFlags::MS_BIND,
            None,
        )
    };
    result.sys(|| format!("masking {}", path.display()))
}

fn readonly_path(sys: &dyn Syscall, path: &Path) -> Result<()> {
    if path.symlink_metadata().is_err() {
        return Ok(());
    }
    sys.mount(
        Some(path),
        path,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )
    .sys(|| format!("binding read-only path {}", path.display()))?;
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_REC
        | locked_flags(path);
    sys.mount(None, path, None, flags, None)
        .sys(|| format!("remounting {} read-only", path.display()))
}

/// Sets hostname and domainname (only meaningful in a new UTS namespace).
pub fn set_names(sys: &dyn Syscall, spec: &Spec) -> Result<()> {
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        sys.sethostname(h).sys(|| format!("sethostname {h:?}"))?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        sys.setdomainname(d)
            .sys(|| format!("setdomainname {d:?}"))?;
    }
    Ok(())
}

/// Writes linux.sysctl through the container's /proc/sys.
pub fn apply_sysctl(spec: &Spec) -> Result<()> {
    let Some(sysctl) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) else {
        return Ok(());
    };
    for (key, value) in sysctl {
        if key.contains("..") || key.contains('/') && key.contains('.') {
            return Err(Error::InvalidConfig(format!(
                "sysctl {key:?} is not a valid name"
            )));
        }
        let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
        fs::write(&path, value).map_err(|e| {
            Error::Setup(format!(
                "setting sysctl {key}={value} ({}): {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
