//! `tmpcopyup`: a tmpfs mounted over a directory starts with its content.

use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Mounts (through `do_mount`) over `dest`, then copies what was there into
/// the new mount. The old content is read through a descriptor opened before
/// the mount.
pub fn with_copy_up(dest: &Path, do_mount: impl FnOnce() -> Result<()>) -> Result<()> {
    let staging = tempdir_next_to(dest)?;
    let had_content = dest.is_dir()
        && fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
    if had_content {
        copy_tree(dest, &staging)?;
    }
    let result = do_mount().and_then(|()| {
        if had_content {
            copy_tree(&staging, dest)
        } else {
            Ok(())
        }
    });
    let _ = fs::remove_dir_all(&staging);
    result
}

fn tempdir_next_to(dest: &Path) -> Result<std::path::PathBuf> {
    let base = std::env::temp_dir().join(format!(".yurta-copyup-{}", std::process::id()));
    let path = base.join(dest.file_name().unwrap_or_default());
    fs::create_dir_all(&path).map_err(|e| Error::write(&path, e))?;
    Ok(path)
}

/// Copies files, directories and symlinks with modes and owners.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).map_err(|e| Error::read(from, e))?;
    fs::create_dir_all(to).map_err(|e| Error::write(to, e))?;
    fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(|e| Error::write(to, e))?;
    let _ = chown(to, Some(meta.uid()), Some(meta.gid()));
    for entry in fs::read_dir(from).map_err(|e| Error::read(from, e))? {
        let entry = entry.map_err(|e| Error::read(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let m = fs::symlink_metadata(&src).map_err(|e| Error::read(&src, e))?;
        if m.is_dir() {
            copy_tree(&src, &dst)?;
        } else if m.file_type().is_symlink() {
            let target = fs::read_link(&src).map_err(|e| Error::read(&src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| Error::write(&dst, e))?;
        } else if m.is_file() {
            fs::copy(&src, &dst).map_err(|e| Error::write(&dst, e))?;
            let _ = chown(&dst, Some(m.uid()), Some(m.gid()));
        }
    }
    Ok(())
}
