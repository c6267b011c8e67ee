//! A container's root filesystem from an image: overlayfs with the
//! snapshots as lower directories (topmost first, as overlayfs wants), or a
//! flattened copy (every layer extracted in order with whiteouts applied)
//! where overlayfs cannot be mounted.

use std::fs;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::{unpack, LayerError, Whiteouts};
use crate::store::{ImageRecord, Store, StoreError};

/// Longest mount option string the kernel accepts in one page.
const MAX_OPTIONS: usize = 4000;

/// What [`mount_rootfs`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootfsKind {
    Overlay,
    Copy,
}

/// Mounts the image as an overlay on `target` with `upper` and `work` (on
/// the same filesystem as each other) for the container's changes. Falls
/// back to a flattened copy into `target` when overlayfs is unavailable
/// (not compiled in, refused by the filesystem, or the option string is
/// too long for the number of layers).
///
/// `volatile` (for containers removed at exit, whose changes nobody keeps):
/// overlayfs's `volatile` option, Linux 5.10 and later — no sync of the
/// upper directory, also not at unmount, where it otherwise syncs the whole
/// filesystem holding it. Such an overlay must not be mounted again after a
/// crash; yurta never does (the container is removed). Older kernels refuse
/// the option: then the overlay is mounted without it.
pub fn mount_rootfs(
    store: &Store,
    image: &ImageRecord,
    target: &Path,
    upper: &Path,
    work: &Path,
    volatile: bool,
) -> Result<RootfsKind, LayerError> {
    let lowers = store.unpack_image(image)?;
    for d in [target, upper, work] {
        fs::create_dir_all(d).map_err(|e| StoreError::io("create", d)(e))?;
    }
    let Some(options) = overlay_options(&lowers, upper, work) else {
        copy_rootfs(store, image, target)?;
        return Ok(RootfsKind::Copy);
    };
    let mounted = match volatile {
        true => match mount_overlay(target, &format!("{options},volatile")) {
            Err(Errno::EINVAL) => mount_overlay(target, &options),
            other => other,
        },
        false => mount_overlay(target, &options),
    };
    match mounted {
        Ok(()) => Ok(RootfsKind::Overlay),
        Err(Errno::ENODEV | Errno::EINVAL | Errno::EOPNOTSUPP) => {
            copy_rootfs(store, image, target)?;
            Ok(RootfsKind::Copy)
        }
        Err(errno) => Err(LayerError::Mount {
            target: target.to_path_buf(),
            errno,
        }),
    }
}

/// Mounts the image as an overlay on `target` with `upper` and `work`,
/// like [`mount_rootfs`], but never falls back to a flattened copy: a
/// stopped container's root, mounted again to read it (`export`), where a
/// copy into `target` would be neither the container's view nor removed.
pub fn mount_overlay_only(
    store: &Store,
    image: &ImageRecord,
    target: &Path,
    upper: &Path,
    work: &Path,
) -> Result<(), LayerError> {
    let lowers = store.unpack_image(image)?;
    for d in [target, upper, work] {
        fs::create_dir_all(d).map_err(|e| StoreError::io("create", d)(e))?;
    }
    let mount_err = |errno| LayerError::Mount {
        target: target.to_path_buf(),
        errno,
    };
    let options = overlay_options(&lowers, upper, work).ok_or(mount_err(Errno::EINVAL))?;
    mount_overlay(target, &options).map_err(mount_err)
}

fn mount_overlay(target: &Path, options: &str) -> Result<(), Errno> {
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(options),
    )
}

/// `lowerdir=top:...:bottom,upperdir=..,workdir=..`; None when a path holds
/// a character overlayfs cannot take or the string is too long. An image
/// without layers gets an empty lower directory.
fn overlay_options(lowers: &[PathBuf], upper: &Path, work: &Path) -> Option<String> {
    let mut paths: Vec<String> = lowers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    if paths.is_empty() {
        let empty = work.with_file_name("empty-lower");
        fs::create_dir_all(&empty).ok()?;
        paths.push(empty.display().to_string());
    }
    let all = [upper.display().to_string(), work.display().to_string()];
    if paths.iter().chain(&all).any(|p| p.contains([':', ','])) {
        return None;
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        paths.join(":"),
        all[0],
        all[1]
    );
    (options.len() <= MAX_OPTIONS).then_some(options)
}

/// The flattened copy: extracts the image's layers, bottom first, into
/// `target` with whiteouts applied.
pub fn copy_rootfs(store: &Store, image: &ImageRecord, target: &Path) -> Result<(), LayerError> {
    fs::create_dir_all(target).map_err(|e| StoreError::io("create", target)(e))?;
    let _lease = store.lease()?;
    for (layer, diff_id) in image.layers.iter().zip(&image.diff_ids) {
        let actual = unpack(store.open_blob(&layer.digest)?, target, Whiteouts::Apply)?;
        if &actual != diff_id {
            return Err(LayerError::DiffIdMismatch {
                layer: layer.digest.clone(),
                expected: diff_id.clone(),
                actual,
            });
        }
    }
    Ok(())
}

/// Unmounts what [`mount_rootfs`] mounted (lazily, as the container may
/// still be exiting); a copy is left for the caller to remove.
pub fn unmount_rootfs(target: &Path) -> Result<(), LayerError> {
    match umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) => Ok(()),
        Err(errno) => Err(LayerError::Mount {
            target: target.to_path_buf(),
            errno,
        }),
    }
}
