//! Docker's copy-up: the content an image has at a volume's mount point is
//! copied into a new, empty volume the first time a container mounts it,
//! keeping modes, owners, times, symlinks, hardlinks, fifos and device
//! nodes (extended attributes are not copied).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::AtFlags;
use nix::sys::stat::{mknod, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, Gid, Uid};

use crate::fsutil::{scoped_join, FsError};

/// Errors of this module; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("copy-up {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Fs(#[from] FsError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |source| CopyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn errno(path: &Path) -> impl FnOnce(nix::errno::Errno) -> CopyError + '_ {
    move |e| io(path)(std::io::Error::from(e))
}

/// Whether `dir` is missing or has no entries.
pub fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

/// Copies what `rootfs` has at `target` (a container path, symlinks
/// resolved inside the rootfs) into `volume_data` when the volume is empty
/// and the image path is a directory; the volume's root takes the image
/// directory's owner and mode. Returns whether anything was copied.
pub fn copy_up(rootfs: &Path, target: &str, volume_data: &Path) -> Result<bool, CopyError> {
    let src = scoped_join(rootfs, Path::new(target))?;
    let Ok(meta) = fs::symlink_metadata(&src) else {
        return Ok(false);
    };
    if !meta.is_dir() || !is_empty_dir(volume_data) {
        return Ok(false);
    }
    let mut links = HashMap::new();
    let entries = fs::read_dir(&src).map_err(io(&src))?;
    let mut copied = false;
    for e in entries {
        let e = e.map_err(io(&src))?;
        copy_tree(&e.path(), &volume_data.join(e.file_name()), &mut links)?;
        copied = true;
    }
    set_owner_mode_times(volume_data, &meta)?;
    Ok(copied)
}

fn copy_tree(
    src: &Path,
    dst: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<(), CopyError> {
    let meta = fs::symlink_metadata(src).map_err(io(src))?;
    let ft = meta.file_type();
    if !ft.is_dir() && meta.nlink() > 1 {
        if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
            return fs::hard_link(first, dst).map_err(io(dst));
        }
        links.insert((meta.dev(), meta.ino()), dst.to_path_buf());
    }
    if ft.is_dir() {
        fs::create_dir(dst).map_err(io(dst))?;
        for e in fs::read_dir(src).map_err(io(src))? {
            let e = e.map_err(io(src))?;
            copy_tree(&e.path(), &dst.join(e.file_name()), links)?;
        }
    } else if ft.is_symlink() {
        symlink(fs::read_link(src).map_err(io(src))?, dst).map_err(io(dst))?;
    } else if ft.is_file() {
        fs::copy(src, dst).map_err(io(dst))?;
    } else {
        let kind = if ft.is_fifo() {
            SFlag::S_IFIFO
        } else if ft.is_char_device() {
            SFlag::S_IFCHR
        } else if ft.is_block_device() {
            SFlag::S_IFBLK
        } else {
            return Ok(()); // sockets are not content
        };
        mknod(
            dst,
            kind,
            Mode::from_bits_truncate(meta.mode()),
            meta.rdev(),
        )
        .map_err(errno(dst))?;
    }
    set_owner_mode_times(dst, &meta)
}

/// Owner first (chown clears set-id bits), then mode, then times; the
/// mode of a symlink is not settable.
fn set_owner_mode_times(path: &Path, meta: &fs::Metadata) -> Result<(), CopyError> {
    fchownat(
        None,
        path,
        Some(Uid::from_raw(meta.uid())),
        Some(Gid::from_raw(meta.gid())),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(errno(path))?;
    if !meta.file_type().is_symlink() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(io(path))?;
    }
    let at = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mt = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    nix::sys::stat::utimensat(None, path, &at, &mt, UtimensatFlags::NoFollowSymlink)
        .map_err(errno(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn copies_modes_links_and_only_into_empty_volumes() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("data/sub")).unwrap();
        fs::write(r.join("data/a.txt"), "hello").unwrap();
        fs::set_permissions(r.join("data/a.txt"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(r.join("data"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(r.join("data/sub/b"), "b").unwrap();
        fs::hard_link(r.join("data/sub/b"), r.join("data/sub/b2")).unwrap();
        symlink("a.txt", r.join("data/link")).unwrap();
        symlink("/data", r.join("alias")).unwrap();
        let vol = tempfile::tempdir().unwrap();
        let v = vol.path();
        assert!(copy_up(r, "/alias", v).unwrap());
        assert_eq!(fs::read_to_string(v.join("a.txt")).unwrap(), "hello");
        assert_eq!(
            fs::metadata(v.join("a.txt")).unwrap().mode() & 0o7777,
            0o640
        );
        assert_eq!(fs::metadata(v).unwrap().mode() & 0o7777, 0o750);
        assert_eq!(fs::read_link(v.join("link")).unwrap(), Path::new("a.txt"));
        assert_eq!(
            fs::metadata(v.join("sub/b")).unwrap().ino(),
            fs::metadata(v.join("sub/b2")).unwrap().ino()
        );
        let mtime = |p: &Path| fs::metadata(p).unwrap().mtime();
        assert_eq!(mtime(&v.join("a.txt")), mtime(&r.join("data/a.txt")));
        // Not empty any more: nothing is copied again; missing paths copy nothing.
        fs::write(r.join("data/new"), "x").unwrap();
        assert!(!copy_up(r, "/data", v).unwrap());
        assert!(!v.join("new").exists());
        let empty = tempfile::tempdir().unwrap();
        assert!(!copy_up(r, "/nope", empty.path()).unwrap());
        assert!(!copy_up(r, "/data/a.txt", empty.path()).unwrap());
    }
}
