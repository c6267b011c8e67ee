//! Walking a directory tree whose owner may change it while it is read (a
//! running container's root or upper directory): every directory is opened
//! relative to its parent's descriptor with `O_NOFOLLOW`, so a directory
//! swapped for a symlink meanwhile is never followed out of the tree, and
//! an entry that disappears meanwhile is skipped. Names are visited sorted
//! bytewise, a directory before its contents (Go's `filepath.Walk` order,
//! which Docker's diffs and tars have).

use std::ffi::OsStr;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::FileStat;

use crate::layers::fsops::{is_dir, list_dir, lstat_at, open_dir_at, open_root};

/// One entry met by [`walk`].
pub struct Node<'a> {
    /// The path below the root (`etc/passwd`).
    pub rel: &'a Path,
    /// The directory holding the entry, open.
    pub dir: &'a OwnedFd,
    pub name: &'a OsStr,
    /// lstat(2) of the entry.
    pub stat: &'a FileStat,
}

/// What [`walk`] calls for each entry.
pub trait Visit {
    /// A directory comes before its contents; returns whether to enter it.
    fn visit(&mut self, node: &Node) -> io::Result<bool>;
}

/// Visits every entry below `root` (not `root` itself).
pub fn walk(root: &Path, v: &mut dyn Visit) -> io::Result<()> {
    let fd = open_root(root).map_err(|e| errno_io("open", root, e))?;
    walk_dir(&fd, Path::new(""), root, v)
}

fn walk_dir(dir: &OwnedFd, rel: &Path, root: &Path, v: &mut dyn Visit) -> io::Result<()> {
    let mut names = list_dir(dir).map_err(|e| errno_io("read directory", &root.join(rel), e))?;
    names.sort();
    for name in names {
        let child = rel.join(&name);
        let stat = match lstat_at(dir, &name) {
            Ok(Some(st)) => st,
            Ok(None) => continue, // removed meanwhile
            Err(e) => return Err(errno_io("stat", &root.join(&child), e)),
        };
        let node = Node {
            rel: &child,
            dir,
            name: &name,
            stat: &stat,
        };
        if !v.visit(&node)? || !is_dir(&stat) {
            continue;
        }
        match open_dir_at(dir, &name) {
            Ok(sub) => walk_dir(&sub, &child, root, v)?,
            // Removed or replaced by something else meanwhile.
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => {}
            Err(e) => return Err(errno_io("open", &root.join(&child), e)),
        }
    }
    Ok(())
}

/// An I/O error naming the operation and the path.
pub(crate) fn errno_io(what: &str, path: &Path, e: Errno) -> io::Error {
    io::Error::new(
        io::Error::from(e).kind(),
        format!("{what} {}: {e}", path.display()),
    )
}
