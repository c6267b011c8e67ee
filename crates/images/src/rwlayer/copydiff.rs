//! The changes of a container whose root filesystem is a flattened copy of
//! its image (made where overlayfs was unavailable): there is no upper
//! directory, so the copy is compared with the image's snapshots entry by
//! entry, as Docker's naive differ (its vfs driver) compares two trees. An
//! entry only in the copy is `A`, only in the image `D`; in both, `C` when
//! type, mode, owner or device differ — or, for a non-directory, size or
//! mtime (a directory's mtime and size say nothing: moby#9874); a
//! directory with any change below it is `C` too. The runtime's mount
//! points are left out ([`Ignored`]).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::FileStat;

use super::changes::{Change, ChangeKind, Ignored};
use super::lowers::Lowers;
use super::tree::errno_io;
use crate::layers::fsops::{is_dir, list_dir, lstat_at, open_dir_at, open_root};

/// The changes of the copy `root` over the image `lowers`, in the order of
/// [`super::changes`]. A missing `root` (never started) has none.
pub fn copy_changes(root: &Path, lowers: &Lowers) -> io::Result<Vec<Change>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let ignored = Ignored::find(root, lowers)?;
    let fd = open_root(root).map_err(|e| errno_io("open", root, e))?;
    let mut out = Vec::new();
    CopyDiffer {
        root,
        lowers,
        ignored: &ignored,
    }
    .dir(Some(&fd), Path::new(""), true, &mut out)?;
    Ok(out)
}

/// The paths the changes delete (a layer of them has a whiteout for each).
pub fn deleted(changes: &[Change]) -> Vec<PathBuf> {
    changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Deleted)
        .map(|c| c.path.strip_prefix("/").unwrap_or(&c.path).to_path_buf())
        .collect()
}

struct CopyDiffer<'a> {
    root: &'a Path,
    lowers: &'a Lowers,
    ignored: &'a Ignored,
}

impl CopyDiffer<'_> {
    /// Appends the changes below `rel` (open as `dir`, None when the copy
    /// has no such directory; `image`: the image has it as a directory);
    /// returns whether there was any.
    fn dir(
        &self,
        dir: Option<&OwnedFd>,
        rel: &Path,
        image: bool,
        out: &mut Vec<Change>,
    ) -> io::Result<bool> {
        let at = |what, p: &Path, e| errno_io(what, &self.root.join(p), e);
        let mut names: BTreeSet<OsString> = match dir {
            Some(fd) => list_dir(fd)
                .map_err(|e| at("read directory", rel, e))?
                .into_iter()
                .collect(),
            None => BTreeSet::new(),
        };
        if image {
            names.extend(self.lowers.list(rel)?.unwrap_or_default());
        }
        let mut any = false;
        for name in names {
            let child = rel.join(&name);
            if self.ignored.contains(&child) {
                continue;
            }
            let mine = match dir {
                Some(fd) => lstat_at(fd, &name).map_err(|e| at("stat", &child, e))?,
                None => None,
            };
            let theirs = match image {
                true => self.lowers.lookup(&child)?,
                false => None,
            };
            let kind = match (mine, theirs) {
                (None, None) => None,
                (None, Some(_)) => {
                    out.push(change(ChangeKind::Deleted, &child));
                    Some(ChangeKind::Deleted)
                }
                (Some(st), theirs) if is_dir(&st) => {
                    self.subdir(dir, &name, &child, &st, theirs.as_ref(), out)?
                }
                (Some(st), theirs) => {
                    let kind = match theirs {
                        None => Some(ChangeKind::Added),
                        Some(t) if differ(&st, &t) => Some(ChangeKind::Changed),
                        Some(_) => None,
                    };
                    if let Some(k) = kind {
                        out.push(change(k, &child));
                    }
                    kind
                }
            };
            any |= kind.is_some();
        }
        Ok(any)
    }

    /// A directory of the copy: its own line (if any) before its contents'.
    fn subdir(
        &self,
        parent: Option<&OwnedFd>,
        name: &std::ffi::OsStr,
        rel: &Path,
        st: &FileStat,
        theirs: Option<&FileStat>,
        out: &mut Vec<Change>,
    ) -> io::Result<Option<ChangeKind>> {
        let own = match theirs {
            None => Some(ChangeKind::Added),
            Some(t) if differ(st, t) => Some(ChangeKind::Changed),
            Some(_) => None,
        };
        let fd = match parent.map(|p| open_dir_at(p, name)) {
            Some(Ok(fd)) => Some(fd),
            Some(Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP)) | None => None,
            Some(Err(e)) => return Err(errno_io("open", &self.root.join(rel), e)),
        };
        let mut inner = Vec::new();
        let image_dir = theirs.is_some_and(is_dir);
        let below = self.dir(fd.as_ref(), rel, image_dir, &mut inner)?;
        let kind = own.or(below.then_some(ChangeKind::Changed));
        if let Some(k) = kind {
            out.push(change(k, rel));
        }
        out.append(&mut inner);
        Ok(kind)
    }
}

/// moby's `statDifferent`: type and mode, owner, device; for what is not
/// a directory also size and mtime (seconds, nanoseconds when both have
/// them).
fn differ(new: &FileStat, old: &FileStat) -> bool {
    let same_time = new.st_mtime == old.st_mtime
        && (new.st_mtime_nsec == old.st_mtime_nsec
            || new.st_mtime_nsec == 0
            || old.st_mtime_nsec == 0);
    new.st_mode != old.st_mode
        || new.st_uid != old.st_uid
        || new.st_gid != old.st_gid
        || new.st_rdev != old.st_rdev
        || (!is_dir(old) && (!same_time || new.st_size != old.st_size))
}

fn change(kind: ChangeKind, rel: &Path) -> Change {
    Change {
        kind,
        path: Path::new("/").join(rel),
    }
}
