//! A container's changes to its image, read from the overlay's upper
//! directory as Docker's overlay2 driver reads them: an entry there is
//! added (`A`) or, when the image has that path, changed (`C`); a whiteout
//! is a deletion (`D`), and so is an opaque directory that replaces one of
//! the image's; a directory whose own metadata is unchanged shows as `C`
//! only when something directly inside it was added or deleted. The mount
//! points the runtime makes there are not the container's changes
//! ([`Ignored`]).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::FileStat;

use super::lowers::{is_opaque, is_whiteout, Lowers};
use super::tree::errno_io;
use crate::layers::fsops::{is_dir, list_dir, lstat_at, open_dir_at, open_root, walk};

/// Mount points the runtime (or the engine) creates in a container's root
/// when the image lacks them: the kernel filesystems and the files it
/// binds over. Docker keeps them in a separate "init" layer, never shown
/// by `diff` nor committed; here they land in the upper directory and are
/// left out instead. Directories go with everything below them.
pub const MOUNT_POINTS: &[&str] = &[
    "proc",
    "sys",
    "dev",
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    "sbin/docker-init",
];

/// What of an upper directory is not the container's own change: the
/// [`MOUNT_POINTS`] present there, and directories the image lacks that
/// hold nothing else (made only to hold a mount point).
#[derive(Debug, Default)]
pub struct Ignored {
    paths: HashSet<PathBuf>,
    /// Directories with an ignored entry somewhere below (their mtime
    /// changed because of it).
    holders: HashSet<PathBuf>,
}

impl Ignored {
    /// Finds them in `upper` over the image `lowers`.
    pub fn find(upper: &Path, lowers: &Lowers) -> io::Result<Ignored> {
        let root = open_root(upper).map_err(|e| errno_io("open", upper, e))?;
        let mut found = Ignored::default();
        for mp in MOUNT_POINTS {
            let rel = Path::new(mp);
            if lstat_rel(&root, rel)
                .map_err(|e| errno_io("stat", &upper.join(rel), e))?
                .is_some()
            {
                found.paths.insert(rel.to_path_buf());
                found
                    .holders
                    .extend(rel.ancestors().skip(1).map(Path::to_path_buf));
            }
        }
        found.holders.remove(Path::new(""));
        let mut holders: Vec<PathBuf> = found.holders.iter().cloned().collect();
        // Deepest first, so that `a/b` is decided before `a`.
        holders.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for dir in holders {
            if lowers.lookup(&dir)?.is_none() && found.only_ignored(&root, &dir, upper)? {
                found.paths.insert(dir);
            }
        }
        Ok(found)
    }

    /// Whether `rel` is left out (what is below it goes with it).
    pub fn contains(&self, rel: &Path) -> bool {
        self.paths.contains(rel)
    }

    /// Whether an ignored entry lies below the directory `rel`.
    pub fn holds(&self, rel: &Path) -> bool {
        self.holders.contains(rel)
    }

    fn only_ignored(&self, root: &OwnedFd, dir: &Path, upper: &Path) -> io::Result<bool> {
        let at = |e| errno_io("read directory", &upper.join(dir), e);
        let parts: Vec<_> = dir.iter().map(OsStr::to_os_string).collect();
        let fd = walk(root, &parts, false).map_err(at)?;
        Ok(list_dir(&fd)
            .map_err(at)?
            .iter()
            .all(|n| self.contains(&dir.join(n))))
    }
}

/// lstat(2) of `rel` below `root`, following no symlink on the way.
fn lstat_rel(root: &OwnedFd, rel: &Path) -> Result<Option<FileStat>, Errno> {
    let parts: Vec<_> = rel.iter().map(OsStr::to_os_string).collect();
    let Some((last, parents)) = parts.split_last() else {
        return Ok(None);
    };
    match walk(root, parents, false) {
        Ok(dir) => lstat_at(&dir, last),
        Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `A`, `C` or `D`, as Docker prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Added => "A",
            ChangeKind::Changed => "C",
            ChangeKind::Deleted => "D",
        })
    }
}

/// One line of `diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Absolute in the container: `/etc/passwd`.
    pub path: PathBuf,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.path.display())
    }
}

/// What a layer of some changes holds: each changed path and the
/// directories above it (relative to the root).
#[derive(Debug, Default)]
pub struct Selection(HashSet<PathBuf>);

impl Selection {
    pub fn of(changes: &[Change]) -> Selection {
        let mut paths = HashSet::new();
        for c in changes {
            let rel = c.path.strip_prefix("/").unwrap_or(&c.path);
            paths.extend(rel.ancestors().map(Path::to_path_buf));
        }
        Selection(paths)
    }

    pub fn contains(&self, rel: &Path) -> bool {
        self.0.contains(rel)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The changes in `upper` over the image `lowers`, in Docker's order
/// (depth first, names sorted, a directory before its contents). A
/// missing upper directory (a container never started) has none.
pub fn changes(upper: &Path, lowers: &Lowers) -> io::Result<Vec<Change>> {
    if !upper.exists() {
        return Ok(Vec::new());
    }
    let ignored = Ignored::find(upper, lowers)?;
    let root = open_root(upper).map_err(|e| errno_io("open", upper, e))?;
    let mut out = Vec::new();
    Differ {
        upper,
        lowers,
        ignored: &ignored,
    }
    .dir(&root, Path::new(""), false, &mut out)?;
    Ok(out)
}

struct Differ<'a> {
    upper: &'a Path,
    lowers: &'a Lowers,
    ignored: &'a Ignored,
}

impl Differ<'_> {
    /// Appends the changes below `rel` (open as `dir`; `hidden`: the
    /// image's contents of it are not seen, the directory being new or
    /// opaque); returns whether an entry directly inside was added or
    /// deleted.
    fn dir(
        &self,
        dir: &OwnedFd,
        rel: &Path,
        hidden: bool,
        out: &mut Vec<Change>,
    ) -> io::Result<bool> {
        let at = |what, p: &Path, e| errno_io(what, &self.upper.join(p), e);
        let mut names = list_dir(dir).map_err(|e| at("read directory", rel, e))?;
        names.sort();
        let mut added_or_deleted = false;
        for name in names {
            let child = rel.join(&name);
            if self.ignored.contains(&child) {
                continue;
            }
            let Some(st) = lstat_at(dir, &name).map_err(|e| at("stat", &child, e))? else {
                continue;
            };
            let lower = match hidden {
                true => None,
                false => self.lowers.lookup(&child)?,
            };
            let kind = if is_whiteout(&st) {
                out.push(change(ChangeKind::Deleted, &child));
                added_or_deleted = true;
                continue;
            } else if is_dir(&st) {
                self.subdir(dir, &name, &child, &st, lower.as_ref(), out)?
            } else {
                let kind = lower.map_or(ChangeKind::Added, |_| ChangeKind::Changed);
                out.push(change(kind, &child));
                Some(kind)
            };
            added_or_deleted |= matches!(kind, Some(ChangeKind::Added | ChangeKind::Deleted));
        }
        Ok(added_or_deleted)
    }

    /// A directory of the upper layer: its own line (if any) before its
    /// contents'.
    fn subdir(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        rel: &Path,
        st: &FileStat,
        lower: Option<&FileStat>,
        out: &mut Vec<Change>,
    ) -> io::Result<Option<ChangeKind>> {
        let at = |what, e| errno_io(what, &self.upper.join(rel), e);
        let opaque = is_opaque(parent, name).map_err(|e| at("read xattrs of", e))?;
        let own = match lower {
            None => Some(ChangeKind::Added),
            Some(_) if opaque => Some(ChangeKind::Deleted),
            Some(l) if !is_dir(l) || self.dir_changed(rel, st, l) => Some(ChangeKind::Changed),
            Some(_) => None,
        };
        let mut inner = Vec::new();
        let fd = match open_dir_at(parent, name) {
            Ok(fd) => Some(fd),
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => None,
            Err(e) => return Err(at("open", e)),
        };
        let hidden = opaque || !lower.is_some_and(is_dir);
        let child_changes = match &fd {
            Some(fd) => self.dir(fd, rel, hidden, &mut inner)?,
            None => false,
        };
        let kind = own.or(child_changes.then_some(ChangeKind::Changed));
        if let Some(k) = kind {
            out.push(change(k, rel));
        }
        out.append(&mut inner);
        Ok(kind)
    }

    /// A directory present in the image too: changed when its mode or
    /// owner differ, or its mtime — unless a mount point made below it
    /// explains the mtime.
    fn dir_changed(&self, rel: &Path, st: &FileStat, lower: &FileStat) -> bool {
        let meta =
            st.st_mode != lower.st_mode || st.st_uid != lower.st_uid || st.st_gid != lower.st_gid;
        let same_time = st.st_mtime == lower.st_mtime
            && (st.st_mtime_nsec == lower.st_mtime_nsec
                || st.st_mtime_nsec == 0
                || lower.st_mtime_nsec == 0);
        meta || (!same_time && !self.ignored.holds(rel))
    }
}

fn change(kind: ChangeKind, rel: &Path) -> Change {
    Change {
        kind,
        path: Path::new("/").join(rel),
    }
}
