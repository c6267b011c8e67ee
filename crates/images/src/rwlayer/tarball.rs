//! A directory tree as a tar stream, read with [`super::tree::walk`] (so a
//! running container cannot redirect the reading out of its tree): what
//! `export` writes of a container's root, and what `commit` makes a layer
//! of, from the overlay's upper directory, with overlayfs's whiteouts and
//! opaque directories turned into the AUFS entries (`.wh.NAME`,
//! `.wh..wh..opq`) that image layers carry, as Docker's overlay2 does.
//!
//! Modes, owners, mtimes, symlinks, hardlinks, device nodes, fifos and
//! xattrs (`SCHILY.xattr.*`, overlayfs's own `trusted.overlay.*` left out)
//! are kept; sockets are skipped, as tar cannot hold them. A file that
//! grows or shrinks while it is read is cut or padded to the size its
//! header gives, so the stream stays a valid tar.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{major, minor, FileStat, Mode, SFlag};
use tar::{EntryType, Header, HeaderMode};

use super::changes::Selection;
use super::lowers::is_whiteout;
use super::tree::{errno_io, walk, Node, Visit};
use crate::layers::fsops::list_xattrs_at;
use crate::layers::OVERLAY_OPAQUE_XATTR;

/// What the tree is.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A root filesystem, written as it is (`export`).
    Tree,
    /// An overlay upper directory (`commit`): only what the changes
    /// select (the runtime's mount points are not changes), whiteouts and
    /// opaque directories in AUFS form.
    Upper(&'a Selection),
    /// A flattened copy of an image (`commit` where overlayfs was
    /// unavailable): only what the changes select, then a `.wh.NAME` for
    /// each path deleted from the image.
    Copy(&'a Selection, &'a [PathBuf]),
}

/// Writes the tree below `root` (paths relative to it, no entry for the
/// root itself) into `out`; returns `out` and the number of entries.
pub fn write_tree<W: Write>(root: &Path, source: Source, out: W) -> io::Result<(W, u64)> {
    write_tree_clamped(root, source, out, None)
}

/// [`write_tree`] with every mtime after `clamp` (Unix seconds) written as
/// `clamp`: reproducible layers (`SOURCE_DATE_EPOCH`).
pub fn write_tree_clamped<W: Write>(
    root: &Path,
    source: Source,
    out: W,
    clamp: Option<u64>,
) -> io::Result<(W, u64)> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut v = TarVisitor {
        b: &mut b,
        root,
        source,
        links: HashMap::new(),
        entries: 0,
        clamp,
    };
    walk(root, &mut v)?;
    if let Source::Copy(_, deleted) = source {
        for path in deleted {
            v.deletion(path)?;
        }
    }
    let entries = v.entries;
    Ok((b.into_inner()?, entries))
}

struct TarVisitor<'a, W: Write> {
    b: &'a mut tar::Builder<W>,
    root: &'a Path,
    source: Source<'a>,
    /// First path of each multiply linked file, by (device, inode).
    links: HashMap<(u64, u64), PathBuf>,
    entries: u64,
    /// The latest mtime written (see [`write_tree_clamped`]).
    clamp: Option<u64>,
}

impl<W: Write> Visit for TarVisitor<'_, W> {
    fn visit(&mut self, n: &Node) -> io::Result<bool> {
        let upper = match self.source {
            Source::Upper(wanted) | Source::Copy(wanted, _) if !wanted.contains(n.rel) => {
                return Ok(false)
            }
            Source::Upper(_) => true,
            Source::Copy(..) | Source::Tree => false,
        };
        if upper && is_whiteout(n.stat) {
            self.whiteout(n)?;
            return Ok(false);
        }
        let all = list_xattrs_at(n.dir, n.name).map_err(|e| self.err("read xattrs of", n, e))?;
        if upper {
            refuse_redirects(&all, &self.root.join(n.rel))?;
        }
        let opaque = upper
            && all
                .iter()
                .any(|(k, v)| k == OVERLAY_OPAQUE_XATTR && v.as_slice() == b"y");
        let xattrs: Vec<_> = all
            .into_iter()
            .filter(|(k, _)| !k.starts_with("trusted.overlay."))
            .collect();
        match file_type(n.stat) {
            SFlag::S_IFDIR => {
                self.directory(n, &xattrs, opaque)?;
                return Ok(true);
            }
            SFlag::S_IFREG => self.regular(n, &xattrs)?,
            SFlag::S_IFLNK => self.symlink(n, &xattrs)?,
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => self.node(n, &xattrs)?,
            _ => {} // sockets
        }
        Ok(false)
    }
}

impl<W: Write> TarVisitor<'_, W> {
    fn err(&self, what: &str, n: &Node, e: nix::errno::Errno) -> io::Error {
        errno_io(what, &self.root.join(n.rel), e)
    }

    fn pax(&mut self, xattrs: &[(String, Vec<u8>)]) -> io::Result<()> {
        if xattrs.is_empty() {
            return Ok(());
        }
        let recs: Vec<(String, &[u8])> = xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
            .collect();
        self.b
            .append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    fn directory(
        &mut self,
        n: &Node,
        xattrs: &[(String, Vec<u8>)],
        opaque: bool,
    ) -> io::Result<()> {
        self.pax(xattrs)?;
        let mut h = header(n.stat, EntryType::Directory, self.clamp);
        let mut name = n.rel.as_os_str().as_bytes().to_vec();
        name.push(b'/');
        self.b
            .append_data(&mut h, Path::new(OsStr::from_bytes(&name)), io::empty())?;
        self.entries += 1;
        if opaque {
            // Docker's: a regular file with the directory's owner and mode.
            let mut h = header(n.stat, EntryType::Regular, self.clamp);
            h.set_mode(n.stat.st_mode & 0o777);
            let marker = n.rel.join(".wh..wh..opq");
            self.b.append_data(&mut h, marker, io::empty())?;
        }
        Ok(())
    }

    /// An overlayfs whiteout (0:0 character device) as `.wh.NAME`, an
    /// empty regular file with mode 0600.
    fn whiteout(&mut self, n: &Node) -> io::Result<()> {
        let mut h = header(n.stat, EntryType::Regular, self.clamp);
        h.set_mode(0o600);
        let mut name = b".wh.".to_vec();
        name.extend_from_slice(n.name.as_bytes());
        let path = n.rel.with_file_name(OsStr::from_bytes(&name));
        self.b.append_data(&mut h, path, io::empty())?;
        self.entries += 1;
        Ok(())
    }

    /// A deletion from the image, for a layer made from a copy: `.wh.NAME`
    /// (root's, mode 0600), as Docker's naive differ writes it.
    fn deletion(&mut self, rel: &Path) -> io::Result<()> {
        let Some(name) = rel.file_name() else {
            return Ok(());
        };
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o600);
        h.set_size(0);
        let mut wh = b".wh.".to_vec();
        wh.extend_from_slice(name.as_bytes());
        self.b.append_data(
            &mut h,
            rel.with_file_name(OsStr::from_bytes(&wh)),
            io::empty(),
        )?;
        self.entries += 1;
        Ok(())
    }

    /// A regular file, opened relative to its directory without following
    /// a symlink; its header comes from the open file (what is read).
    fn regular(&mut self, n: &Node, xattrs: &[(String, Vec<u8>)]) -> io::Result<()> {
        let flags = OFlag::O_RDONLY
            | OFlag::O_NOFOLLOW
            | OFlag::O_CLOEXEC
            | OFlag::O_NONBLOCK
            | OFlag::O_NOCTTY;
        let fd = match openat(Some(n.dir.as_raw_fd()), n.name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(nix::errno::Errno::ENOENT | nix::errno::Errno::ELOOP) => return Ok(()), // replaced meanwhile
            Err(e) => return Err(self.err("open", n, e)),
        };
        // SAFETY: `fd` was just returned by a successful openat(2) and
        // nothing else owns it.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(()); // replaced by something else meanwhile
        }
        let mut h = Header::new_gnu();
        h.set_metadata_in_mode(&meta, HeaderMode::Complete);
        if let Some(c) = self.clamp {
            h.set_mtime(meta.mtime().max(0).min(c as i64) as u64);
        }
        if meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&key).cloned() {
                self.pax(xattrs)?;
                h.set_entry_type(EntryType::Link);
                h.set_size(0);
                self.b.append_link(&mut h, n.rel, first)?;
                self.entries += 1;
                return Ok(());
            }
            self.links.insert(key, n.rel.to_path_buf());
        }
        self.pax(xattrs)?;
        let size = meta.len();
        let data = (&file).take(size).chain(io::repeat(0)).take(size);
        self.b.append_data(&mut h, n.rel, data)?;
        self.entries += 1;
        Ok(())
    }

    fn symlink(&mut self, n: &Node, xattrs: &[(String, Vec<u8>)]) -> io::Result<()> {
        let target = match readlinkat(Some(n.dir.as_raw_fd()), n.name) {
            Ok(t) => t,
            Err(nix::errno::Errno::ENOENT | nix::errno::Errno::EINVAL) => return Ok(()),
            Err(e) => return Err(self.err("read link", n, e)),
        };
        self.pax(xattrs)?;
        let mut h = header(n.stat, EntryType::Symlink, self.clamp);
        self.b.append_link(&mut h, n.rel, Path::new(&target))?;
        self.entries += 1;
        Ok(())
    }

    /// Character and block devices, fifos: the header says it all.
    fn node(&mut self, n: &Node, xattrs: &[(String, Vec<u8>)]) -> io::Result<()> {
        let kind = match file_type(n.stat) {
            SFlag::S_IFCHR => EntryType::Char,
            SFlag::S_IFBLK => EntryType::Block,
            _ => EntryType::Fifo,
        };
        self.pax(xattrs)?;
        let mut h = header(n.stat, kind, self.clamp);
        if kind != EntryType::Fifo {
            h.set_device_major(major(n.stat.st_rdev) as u32)?;
            h.set_device_minor(minor(n.stat.st_rdev) as u32)?;
        }
        self.b.append_data(&mut h, n.rel, io::empty())?;
        self.entries += 1;
        Ok(())
    }
}

fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// A GNU header from lstat(2): mode bits, owner, mtime (no later than
/// `clamp`); size 0.
fn header(st: &FileStat, kind: EntryType, clamp: Option<u64>) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    let mtime = st.st_mtime.max(0) as u64;
    h.set_mtime(clamp.map_or(mtime, |c| mtime.min(c)));
    h.set_size(0);
    h
}

/// overlayfs's redirect and metacopy entries point into the lower layers
/// and cannot be read from the upper directory alone. yurta never mounts
/// with those features; should the kernel have turned them on, commit
/// refuses rather than make an incomplete layer.
fn refuse_redirects(xattrs: &[(String, Vec<u8>)], path: &Path) -> io::Result<()> {
    let found = xattrs
        .iter()
        .find(|(k, _)| k == "trusted.overlay.redirect" || k == "trusted.overlay.metacopy");
    match found {
        Some((k, _)) => Err(io::Error::other(format!(
            "{} has {k}: an overlayfs entry that only points into the image (redirect_dir or metacopy is on), which cannot be committed",
            path.display()
        ))),
        None => Ok(()),
    }
}
