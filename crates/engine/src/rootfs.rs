//! A container's root filesystem from its image: an overlay mounted on
//! `<container dir>/rootfs` with the changes in `diff/` and overlayfs's
//! `work/`, or (where overlayfs is unavailable) a flattened copy in
//! `rootfs/` that persists as the container's own. Mounting and unmounting
//! are idempotent; removal goes on after errors and reports them all.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use yurta_images::layers::{self, LayerError, RootfsKind};
use yurta_images::{ImageRecord, Store};

use crate::volume::is_mountpoint;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("rootfs for image {image}: {source}")]
    Mount { image: String, source: LayerError },
    #[error("unmount {}: {source}", path.display())]
    Unmount { path: PathBuf, source: LayerError },
    #[error("remove {}: {source}", path.display())]
    Remove { path: PathBuf, source: io::Error },
}

/// The paths of a container's root filesystem.
#[derive(Debug, Clone)]
pub struct RootfsPaths {
    pub rootfs: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
}

impl RootfsPaths {
    pub fn new(container_dir: &Path) -> RootfsPaths {
        RootfsPaths {
            rootfs: container_dir.join("rootfs"),
            upper: container_dir.join("diff"),
            work: container_dir.join("work"),
        }
    }
}

/// What [`mount`] found or made: `overlay` or `copy` (the record's
/// `Driver`).
pub fn kind_name(kind: RootfsKind) -> &'static str {
    match kind {
        RootfsKind::Overlay => "overlay",
        RootfsKind::Copy => "copy",
    }
}

/// Mounts (or reuses) the container's root filesystem. An overlay already
/// mounted, or a copy already made (`driver == "copy"` and a non-empty
/// rootfs), is left as it is. `volatile`: the container is removed at
/// exit (`--rm`), its changes need no sync ([`layers::mount_rootfs`]).
pub fn mount(
    store: &Store,
    image: &ImageRecord,
    paths: &RootfsPaths,
    driver: &str,
    volatile: bool,
) -> Result<RootfsKind, RootfsError> {
    if is_mountpoint(&paths.rootfs) {
        return Ok(RootfsKind::Overlay);
    }
    if driver == "copy" && !crate::volume::copyup::is_empty_dir(&paths.rootfs) {
        return Ok(RootfsKind::Copy);
    }
    let (root, upper, work) = (&paths.rootfs, &paths.upper, &paths.work);
    layers::mount_rootfs(store, image, root, upper, work, volatile).map_err(|source| {
        RootfsError::Mount {
            image: image.id.to_string(),
            source,
        }
    })
}

/// Unmounts the overlay (every stacked mount), if mounted.
pub fn unmount(paths: &RootfsPaths) -> Result<(), RootfsError> {
    while is_mountpoint(&paths.rootfs) {
        layers::unmount_rootfs(&paths.rootfs).map_err(|source| RootfsError::Unmount {
            path: paths.rootfs.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Unmounts and deletes the rootfs, diff and work directories; every
/// error is collected, none stops the rest.
pub fn remove(paths: &RootfsPaths) -> Vec<RootfsError> {
    let mut errors = Vec::new();
    if let Err(e) = unmount(paths) {
        errors.push(e);
        return errors; // never delete through a live mount
    }
    for dir in [&paths.rootfs, &paths.upper, &paths.work] {
        match fs::remove_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => errors.push(RootfsError::Remove {
                path: dir.clone(),
                source: e,
            }),
            _ => {}
        }
    }
    let empty = paths.work.with_file_name("empty-lower");
    let _ = fs::remove_dir(empty);
    errors
}
