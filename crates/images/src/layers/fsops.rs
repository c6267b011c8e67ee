//! Filesystem operations relative to directory file descriptors, never
//! following a symlink: the primitives that keep a hostile layer inside its
//! snapshot. Every path a layer names is walked one component at a time
//! with `O_NOFOLLOW | O_DIRECTORY`, so a symlink the layer created earlier
//! (or any non-directory) in a parent position is refused, not followed.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Wraps a descriptor returned by a successful open.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful openat(2) and nothing
    // else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Opens a directory by absolute or relative path (following symlinks: the
/// snapshot root itself is trusted).
pub fn open_root(path: &Path) -> Result<OwnedFd, Errno> {
    openat(None, path, DIR_FLAGS, Mode::empty()).map(owned)
}

/// Opens the directory `name` inside `dir`, refusing symlinks.
pub fn open_dir_at(dir: &OwnedFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    openat(Some(dir.as_raw_fd()), name, DIR_FLAGS, Mode::empty()).map(owned)
}

/// lstat relative to `dir`; None when the name does not exist.
pub fn lstat_at(dir: &OwnedFd, name: &OsStr) -> Result<Option<FileStat>, Errno> {
    match fstatat(
        Some(dir.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
}

/// Walks `components` below `root` without following symlinks, creating
/// missing directories (mode 0755) when `create` is set.
pub fn walk(root: &OwnedFd, components: &[OsString], create: bool) -> Result<OwnedFd, Errno> {
    let mut cur = root.try_clone().map_err(|_| Errno::EBADF)?;
    for c in components {
        cur = match open_dir_at(&cur, c) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create => {
                match mkdirat(
                    Some(cur.as_raw_fd()),
                    c.as_os_str(),
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                open_dir_at(&cur, c)?
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

/// Removes `name` in `dir` whatever it is, directories recursively,
/// without following symlinks. A missing name is not an error.
pub fn remove_at(dir: &OwnedFd, name: &OsStr) -> Result<(), Errno> {
    let Some(st) = lstat_at(dir, name)? else {
        return Ok(());
    };
    if !is_dir(&st) {
        return unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir);
    }
    let sub = open_dir_at(dir, name)?;
    clear_dir(&sub, &|_| false)?;
    unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::RemoveDir)
}

/// Removes every entry of `dir` for which `keep` is false.
pub fn clear_dir(dir: &OwnedFd, keep: &dyn Fn(&OsStr) -> bool) -> Result<(), Errno> {
    for name in list_dir(dir)? {
        if !keep(&name) {
            remove_at(dir, &name)?;
        }
    }
    Ok(())
}

/// The names in a directory (without `.` and `..`).
pub fn list_dir(dir: &OwnedFd) -> Result<Vec<OsString>, Errno> {
    let fd = openat(Some(dir.as_raw_fd()), ".", DIR_FLAGS, Mode::empty()).map(owned)?;
    let mut d = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(fd))?;
    let mut names = Vec::new();
    for entry in d.iter() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(OsString::from(std::ffi::OsStr::from_bytes(&name)));
        }
    }
    Ok(names)
}

fn cstring(bytes: &[u8]) -> Result<CString, Errno> {
    CString::new(bytes).map_err(|_| Errno::EINVAL)
}

/// Sets an extended attribute on `name` in `dir` without following a final
/// symlink (`lsetxattr` on `/proc/self/fd/<dir>/<name>`, which resolves the
/// directory by descriptor, not by a path the layer could redirect).
pub fn set_xattr_at(dir: &OwnedFd, name: &OsStr, key: &str, value: &[u8]) -> Result<(), Errno> {
    let path = proc_path(dir, name)?;
    let key = cstring(key.as_bytes())?;
    // SAFETY: both strings are NUL-terminated and live across the call;
    // `value` is a valid buffer of `value.len()` bytes.
    let rc = unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop)
}

/// Sets an extended attribute on an open file or directory.
pub fn set_xattr_fd(fd: &OwnedFd, key: &str, value: &[u8]) -> Result<(), Errno> {
    let key = cstring(key.as_bytes())?;
    // SAFETY: `fd` is open, `key` is NUL-terminated, `value` is valid for
    // `value.len()` bytes.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop)
}

/// `/proc/self/fd/<dir>/<name>`: `name` in `dir` by descriptor, for the
/// `l*xattr` calls, which have no `*at` form.
fn proc_path(dir: &OwnedFd, name: &OsStr) -> Result<CString, Errno> {
    let mut path = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    path.extend_from_slice(name.as_bytes());
    cstring(&path)
}

/// Reads an extended attribute of `name` in `dir` (no symlink following);
/// None when absent.
pub fn get_xattr_at(dir: &OwnedFd, name: &OsStr, key: &str) -> Result<Option<Vec<u8>>, Errno> {
    let path = proc_path(dir, name)?;
    let key = cstring(key.as_bytes())?;
    let mut buf = vec![0u8; 65536];
    // SAFETY: strings are NUL-terminated; `buf` is writable for its length.
    let rc = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            key.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    match Errno::result(rc) {
        Ok(n) => {
            buf.truncate(n as usize);
            Ok(Some(buf))
        }
        Err(Errno::ENODATA) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The extended attributes of `name` in `dir` (no symlink following), in
/// the order the filesystem lists them; none where xattrs are unsupported.
pub fn list_xattrs_at(dir: &OwnedFd, name: &OsStr) -> Result<Vec<(String, Vec<u8>)>, Errno> {
    let path = proc_path(dir, name)?;
    let mut names = vec![0u8; 65536];
    // SAFETY: `path` is NUL-terminated; `names` is writable for its length.
    let n = unsafe { libc::llistxattr(path.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    let n = match Errno::result(n) {
        Ok(n) => n as usize,
        Err(Errno::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for key in names[..n].split(|b| *b == 0).filter(|k| !k.is_empty()) {
        let key = String::from_utf8_lossy(key).into_owned();
        if let Some(value) = get_xattr_at(dir, name, &key)? {
            out.push((key, value));
        }
    }
    Ok(out)
}
