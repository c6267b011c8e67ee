//! The image below a container, as overlayfs shows it: a path looked up
//! through the snapshot directories from the top, a whiteout or a
//! non-directory in a parent position hiding what is below, an opaque
//! directory hiding the lower layers' contents. Nothing is followed: every
//! component is opened with `O_NOFOLLOW` (the layers came from an image,
//! which may be hostile).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{FileStat, SFlag};

use super::tree::errno_io;
use crate::layers::fsops::{get_xattr_at, is_dir, list_dir, lstat_at, open_dir_at, open_root};
use crate::layers::OVERLAY_OPAQUE_XATTR;

/// The snapshot directories of an image, open, topmost first.
pub struct Lowers {
    layers: Vec<(PathBuf, OwnedFd)>,
}

impl Lowers {
    /// Opens the snapshot directories, given bottom first (as
    /// `Store::unpack_image` returns them).
    pub fn open(bottom_first: &[PathBuf]) -> io::Result<Lowers> {
        let mut layers = Vec::with_capacity(bottom_first.len());
        for dir in bottom_first.iter().rev() {
            let fd = open_root(dir).map_err(|e| errno_io("open", dir, e))?;
            layers.push((dir.clone(), fd));
        }
        Ok(Lowers { layers })
    }

    /// An image without layers.
    pub fn none() -> Lowers {
        Lowers { layers: Vec::new() }
    }

    /// lstat(2) of `rel` in the merged image; None when the image has
    /// nothing there.
    pub fn lookup(&self, rel: &Path) -> io::Result<Option<FileStat>> {
        let parts: Vec<OsString> = rel.iter().map(OsStr::to_os_string).collect();
        let Some((last, parents)) = parts.split_last() else {
            return Ok(None);
        };
        for (dir, root) in &self.layers {
            let at = |e| errno_io("look up", &dir.join(rel), e);
            match in_layer(root, parents, last).map_err(at)? {
                Found::Entry(st) => return Ok(Some(st)),
                Found::Hidden => return Ok(None),
                Found::Below => {}
                Found::HiddenBelow => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The names the image shows in its directory `rel` (sorted), or None
    /// when the image has no directory there: the union of the layers'
    /// entries from the top, a whiteout hiding a name in the layers below
    /// it, an opaque directory (or a non-directory) ending the descent.
    pub fn list(&self, rel: &Path) -> io::Result<Option<Vec<OsString>>> {
        let parts: Vec<OsString> = rel.iter().map(OsStr::to_os_string).collect();
        let mut names = std::collections::BTreeSet::new();
        let mut hidden = std::collections::HashSet::new();
        let mut found = false;
        for (dir, root) in &self.layers {
            let at = |e| errno_io("list", &dir.join(rel), e);
            let (fd, opaque) = match dir_in_layer(root, &parts).map_err(at)? {
                Layer::Dir(fd, opaque) => (fd, opaque),
                Layer::Below => continue,
                Layer::End => break,
            };
            found = true;
            for name in list_dir(&fd).map_err(at)? {
                match lstat_at(&fd, &name).map_err(at)? {
                    Some(st) if is_whiteout(&st) => {
                        hidden.insert(name);
                    }
                    Some(_) if !hidden.contains(&name) => {
                        names.insert(name);
                    }
                    _ => {}
                }
            }
            if opaque {
                break;
            }
        }
        Ok(found.then(|| names.into_iter().collect()))
    }
}

/// Where one layer stands on a directory.
enum Layer {
    /// It has the directory (open), opaque or not.
    Dir(OwnedFd, bool),
    /// Nothing here: ask the layer below.
    Below,
    /// A whiteout, a non-directory or an opaque parent: nothing below counts.
    End,
}

fn dir_in_layer(root: &OwnedFd, parts: &[OsString]) -> Result<Layer, Errno> {
    let mut cur = root.try_clone().map_err(|_| Errno::EBADF)?;
    let mut opaque = false;
    for c in parts {
        match lstat_at(&cur, c)? {
            None if opaque => return Ok(Layer::End),
            None => return Ok(Layer::Below),
            Some(st) if is_whiteout(&st) || !is_dir(&st) => return Ok(Layer::End),
            Some(_) => {
                opaque |= is_opaque(&cur, c)?;
                cur = open_dir_at(&cur, c)?;
            }
        }
    }
    Ok(Layer::Dir(cur, opaque))
}

/// What one layer says about a path.
enum Found {
    /// The entry itself.
    Entry(FileStat),
    /// A whiteout of it or of a parent, or a non-directory parent.
    Hidden,
    /// Nothing here: ask the layer below.
    Below,
    /// Nothing here, and an opaque parent hides the layers below.
    HiddenBelow,
}

fn in_layer(root: &OwnedFd, parents: &[OsString], last: &OsStr) -> Result<Found, Errno> {
    let mut cur = root.try_clone().map_err(|_| Errno::EBADF)?;
    let mut opaque = false;
    for c in parents {
        match lstat_at(&cur, c)? {
            None => {
                return Ok(if opaque {
                    Found::HiddenBelow
                } else {
                    Found::Below
                })
            }
            Some(st) if is_whiteout(&st) || !is_dir(&st) => return Ok(Found::Hidden),
            Some(_) => {
                opaque |= is_opaque(&cur, c)?;
                cur = open_dir_at(&cur, c)?;
            }
        }
    }
    Ok(match lstat_at(&cur, last)? {
        Some(st) if is_whiteout(&st) => Found::Hidden,
        Some(st) => Found::Entry(st),
        None if opaque => Found::HiddenBelow,
        None => Found::Below,
    })
}

/// An overlayfs whiteout: a character device 0:0.
pub fn is_whiteout(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFCHR
        && st.st_rdev == 0
}

/// Whether the directory `name` in `dir` is opaque (overlayfs hides the
/// lower layers' contents of it).
pub fn is_opaque(dir: &OwnedFd, name: &OsStr) -> Result<bool, Errno> {
    match get_xattr_at(dir, name, OVERLAY_OPAQUE_XATTR) {
        Ok(v) => Ok(v.as_deref() == Some(b"y")),
        // Not root, or no xattrs on this filesystem: nothing is opaque.
        Err(Errno::EPERM | Errno::ENOTSUP) => Ok(false),
        Err(e) => Err(e),
    }
}
