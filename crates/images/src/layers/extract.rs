//! Extracting one layer tar into a directory, safely. The layer is treated
//! as hostile: `..` components are refused, absolute paths are taken as
//! relative to the snapshot, every parent is walked without following
//! symlinks (see `fsops`), hardlinks must point at something already inside,
//! and files are created with `O_EXCL | O_NOFOLLOW` after removing whatever
//! was at the name. Whiteouts are either stored the overlayfs way or applied.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, makedev, mknodat, FchmodatFlags, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, Gid, Uid};
use tar::EntryType;

use super::fsops::{
    self, clear_dir, is_dir, lstat_at, remove_at, set_xattr_at, set_xattr_fd, walk,
};
use super::LayerError;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
/// The xattr overlayfs reads to hide a lower directory's contents.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What to do with whiteouts (`.wh.<name>`) and opaque markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// Store them as overlayfs does: a 0:0 character device for a deleted
    /// name, `trusted.overlay.opaque=y` on an opaque directory. For
    /// snapshots that are stacked with overlayfs.
    Overlay,
    /// Delete what they name from the directory (which already holds the
    /// lower layers): the flattened copy, where overlay is unavailable.
    Apply,
}

/// A sanitized entry path: its components below the root.
type Components = Vec<OsString>;

/// Splits a tar path into components, dropping `.` and a leading `/`
/// (absolute paths are confined to the root). `..` is refused.
fn sanitize(raw: &[u8], entry: &str) -> Result<Components, LayerError> {
    let mut out = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(LayerError::Traversal(entry.to_string())),
            _ => out.push(OsStr::from_bytes(c).to_os_string()),
        }
    }
    Ok(out)
}

/// Extracts tar entries into `root`.
pub struct Extractor {
    root: OwnedFd,
    mode: Whiteouts,
    privileged: bool,
    dir_times: Vec<(Components, u64)>,
    created: HashSet<Components>,
}

impl Extractor {
    pub fn new(root: &Path, mode: Whiteouts) -> Result<Extractor, LayerError> {
        let fd = fsops::open_root(root)
            .map_err(|e| LayerError::fs("open", &root.display().to_string(), e))?;
        Ok(Extractor {
            root: fd,
            mode,
            privileged: nix::unistd::geteuid().is_root(),
            dir_times: Vec::new(),
            created: HashSet::new(),
        })
    }

    /// Extracts every entry of `archive`, then sets directory mtimes.
    pub fn extract<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<(), LayerError> {
        let entries = archive
            .entries()
            .map_err(LayerError::tar("read entries of", "layer"))?;
        for entry in entries {
            let mut entry = entry.map_err(LayerError::tar("read entry of", "layer"))?;
            self.entry(&mut entry)?;
        }
        self.finish_dirs()
    }

    fn entry<R: Read>(&mut self, e: &mut tar::Entry<R>) -> Result<(), LayerError> {
        let raw = e.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let path = sanitize(&raw, &name)?;
        let kind = e.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            return Ok(());
        }
        let Some((last, parents)) = path.split_last() else {
            return self.root_entry(e, &name);
        };
        let last_bytes = last.as_bytes();
        if last_bytes.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            return self.whiteout(&path, &name);
        }
        let parent =
            walk(&self.root, parents, true).map_err(|err| LayerError::parent(&name, err))?;
        let meta = Meta::read(e, &name)?;
        match kind {
            EntryType::Directory => self.directory(&parent, last, &path, &meta, &name)?,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.regular(&parent, last, e, &meta, &name)?
            }
            EntryType::Symlink => self.symlink(&parent, last, e, &name)?,
            EntryType::Link => return self.hardlink(&parent, last, e, &name, &path),
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                self.node(&parent, last, kind, &meta, &name)?
            }
            other => return Err(LayerError::UnknownType(name, other.as_byte())),
        }
        if kind != EntryType::Directory {
            meta.apply(
                &parent,
                last,
                kind == EntryType::Symlink,
                self.privileged,
                &name,
            )?;
        }
        self.created.insert(path);
        Ok(())
    }

    /// `./` itself: only its metadata (a directory entry for the root).
    fn root_entry<R: Read>(&mut self, e: &mut tar::Entry<R>, name: &str) -> Result<(), LayerError> {
        if e.header().entry_type() != EntryType::Directory {
            return Err(LayerError::Traversal(name.to_string()));
        }
        let meta = Meta::read(e, name)?;
        let dot = OsStr::new(".");
        meta.apply(&self.root, dot, false, self.privileged, name)?;
        self.dir_times.push((Vec::new(), meta.mtime));
        Ok(())
    }

    fn whiteout(&mut self, path: &[OsString], name: &str) -> Result<(), LayerError> {
        let (last, parents) = path.split_last().expect("whiteout has a name");
        let parent =
            walk(&self.root, parents, true).map_err(|err| LayerError::parent(name, err))?;
        let last = last.as_bytes();
        if last == OPAQUE.as_bytes() {
            return self.opaque(&parent, parents, name);
        }
        if last.starts_with(b".wh..wh.") {
            return Ok(()); // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
        }
        let target = OsStr::from_bytes(&last[WHITEOUT_PREFIX.len()..]);
        if target.is_empty() || target == "." || target == ".." {
            return Err(LayerError::Traversal(name.to_string()));
        }
        remove_at(&parent, target).map_err(|err| LayerError::fs("remove", name, err))?;
        if self.mode == Whiteouts::Overlay {
            let dev = makedev(0, 0);
            mknodat(
                Some(parent.as_raw_fd()),
                target,
                SFlag::S_IFCHR,
                Mode::empty(),
                dev,
            )
            .map_err(|err| LayerError::fs("make whiteout device", name, err))?;
        }
        Ok(())
    }

    fn opaque(
        &mut self,
        dir: &OwnedFd,
        dir_path: &[OsString],
        name: &str,
    ) -> Result<(), LayerError> {
        if self.mode == Whiteouts::Overlay {
            return set_xattr_fd(dir, OVERLAY_OPAQUE_XATTR, b"y")
                .map_err(|err| LayerError::fs("set trusted.overlay.opaque on", name, err));
        }
        let created = &self.created;
        let keep = |child: &OsStr| {
            let mut p = dir_path.to_vec();
            p.push(child.to_os_string());
            created.contains(&p)
        };
        clear_dir(dir, &keep).map_err(|err| LayerError::fs("clear opaque directory", name, err))
    }

    fn directory(
        &mut self,
        parent: &OwnedFd,
        last: &OsStr,
        path: &[OsString],
        meta: &Meta,
        name: &str,
    ) -> Result<(), LayerError> {
        let existing = lstat_at(parent, last).map_err(|err| LayerError::fs("stat", name, err))?;
        if !existing.as_ref().is_some_and(is_dir) {
            remove_at(parent, last).map_err(|err| LayerError::fs("replace", name, err))?;
            nix::sys::stat::mkdirat(
                Some(parent.as_raw_fd()),
                last,
                Mode::from_bits_truncate(0o700),
            )
            .map_err(|err| LayerError::fs("mkdir", name, err))?;
        }
        meta.apply(parent, last, false, self.privileged, name)?;
        self.dir_times.push((path.to_vec(), meta.mtime));
        Ok(())
    }

    fn regular<R: Read>(
        &mut self,
        parent: &OwnedFd,
        last: &OsStr,
        e: &mut tar::Entry<R>,
        meta: &Meta,
        name: &str,
    ) -> Result<(), LayerError> {
        remove_at(parent, last).map_err(|err| LayerError::fs("replace", name, err))?;
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(
            Some(parent.as_raw_fd()),
            last,
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|err| LayerError::fs("create", name, err))?;
        // SAFETY: `fd` was just returned by openat(2) and is owned by nobody else.
        let mut file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        write_sparse(e, &mut file, meta.size).map_err(|err| LayerError::io("write", name, err))
    }

    fn symlink<R: Read>(
        &mut self,
        parent: &OwnedFd,
        last: &OsStr,
        e: &mut tar::Entry<R>,
        name: &str,
    ) -> Result<(), LayerError> {
        let target = e
            .link_name_bytes()
            .ok_or_else(|| LayerError::MissingLinkTarget(name.to_string()))?
            .into_owned();
        remove_at(parent, last).map_err(|err| LayerError::fs("replace", name, err))?;
        symlinkat(OsStr::from_bytes(&target), Some(parent.as_raw_fd()), last)
            .map_err(|err| LayerError::fs("symlink", name, err))
    }

    fn hardlink<R: Read>(
        &mut self,
        parent: &OwnedFd,
        last: &OsStr,
        e: &mut tar::Entry<R>,
        name: &str,
        path: &[OsString],
    ) -> Result<(), LayerError> {
        let raw = e
            .link_name_bytes()
            .ok_or_else(|| LayerError::MissingLinkTarget(name.to_string()))?
            .into_owned();
        let target_name = String::from_utf8_lossy(&raw).into_owned();
        let target = sanitize(&raw, name)?;
        let outside = || LayerError::HardlinkOutside {
            entry: name.to_string(),
            target: target_name.clone(),
        };
        let (tlast, tparents) = target.split_last().ok_or_else(outside)?;
        let tparent = walk(&self.root, tparents, false).map_err(|_| outside())?;
        match lstat_at(&tparent, tlast) {
            Ok(Some(st)) if !is_dir(&st) => {}
            _ => return Err(outside()),
        }
        if target.as_slice() == path {
            return Ok(());
        }
        remove_at(parent, last).map_err(|err| LayerError::fs("replace", name, err))?;
        linkat(
            Some(tparent.as_raw_fd()),
            tlast.as_os_str(),
            Some(parent.as_raw_fd()),
            last,
            AtFlags::empty(),
        )
        .map_err(|err| LayerError::fs("hardlink", name, err))?;
        self.created.insert(path.to_vec());
        Ok(())
    }

    fn node(
        &mut self,
        parent: &OwnedFd,
        last: &OsStr,
        kind: EntryType,
        meta: &Meta,
        name: &str,
    ) -> Result<(), LayerError> {
        remove_at(parent, last).map_err(|err| LayerError::fs("replace", name, err))?;
        let sflag = match kind {
            EntryType::Char => SFlag::S_IFCHR,
            EntryType::Block => SFlag::S_IFBLK,
            _ => SFlag::S_IFIFO,
        };
        let dev = makedev(meta.dev.0, meta.dev.1);
        mknodat(
            Some(parent.as_raw_fd()),
            last,
            sflag,
            Mode::from_bits_truncate(0o600),
            dev,
        )
        .map_err(|err| LayerError::fs("mknod", name, err))
    }

    /// Directory mtimes last: creating children changes them.
    fn finish_dirs(&mut self) -> Result<(), LayerError> {
        for (path, mtime) in self.dir_times.drain(..).rev() {
            let (dir, last) = match path.split_last() {
                Some((last, parents)) => (walk(&self.root, parents, false), last.clone()),
                None => (
                    self.root.try_clone().map_err(|_| Errno::EBADF),
                    OsString::from("."),
                ),
            };
            let dir = dir.map_err(|err| LayerError::fs("reopen", &last.to_string_lossy(), err))?;
            set_mtime(&dir, &last, mtime)
                .map_err(|err| LayerError::fs("set mtime of", &last.to_string_lossy(), err))?;
        }
        Ok(())
    }
}

/// Writes `size` bytes from `r`, leaving holes where whole 4 KiB blocks
/// are zero (sparse files stay sparse, whatever the tar format said).
fn write_sparse(r: &mut impl Read, file: &mut File, size: u64) -> std::io::Result<()> {
    const BLOCK: usize = 4096;
    let mut buf = vec![0u8; 64 * BLOCK];
    let mut pos = 0u64;
    loop {
        let n = read_full(r, &mut buf)?;
        if n == 0 {
            break;
        }
        for block in buf[..n].chunks(BLOCK) {
            if block.iter().all(|b| *b == 0) {
                file.seek(SeekFrom::Current(block.len() as i64))?;
            } else {
                file.write_all(block)?;
            }
        }
        pos += n as u64;
    }
    if pos != size {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{pos} of {size} bytes"),
        ));
    }
    file.set_len(size)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn set_mtime(dir: &OwnedFd, name: &OsStr, mtime: u64) -> Result<(), Errno> {
    let t = TimeSpec::new(mtime as i64, 0);
    nix::sys::stat::utimensat(
        Some(dir.as_raw_fd()),
        name,
        &t,
        &t,
        UtimensatFlags::NoFollowSymlink,
    )
}

/// The metadata of one entry, read before its content.
struct Meta {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
    dev: (u64, u64),
    xattrs: Vec<(String, Vec<u8>)>,
}

impl Meta {
    fn read<R: Read>(e: &mut tar::Entry<R>, name: &str) -> Result<Meta, LayerError> {
        let bad = |what: &str| LayerError::BadHeader(name.to_string(), what.to_string());
        let h = e.header();
        let mut meta = Meta {
            mode: h.mode().map_err(|_| bad("mode"))?,
            uid: h.uid().map_err(|_| bad("uid"))?,
            gid: h.gid().map_err(|_| bad("gid"))?,
            mtime: h.mtime().unwrap_or(0),
            size: e.size(),
            dev: (
                h.device_major().ok().flatten().unwrap_or(0) as u64,
                h.device_minor().ok().flatten().unwrap_or(0) as u64,
            ),
            xattrs: Vec::new(),
        };
        let pax = e.pax_extensions().map_err(|_| bad("pax extensions"))?;
        for ext in pax.into_iter().flatten() {
            let ext = ext.map_err(|_| bad("pax extensions"))?;
            let Ok(key) = ext.key() else { continue };
            let value = ext.value_bytes();
            let number = || {
                std::str::from_utf8(value)
                    .ok()?
                    .split('.')
                    .next()?
                    .parse::<u64>()
                    .ok()
            };
            match key {
                "uid" => meta.uid = number().ok_or_else(|| bad("pax uid"))?,
                "gid" => meta.gid = number().ok_or_else(|| bad("pax gid"))?,
                "mtime" => meta.mtime = number().unwrap_or(meta.mtime),
                _ => {
                    if let Some(x) = key.strip_prefix("SCHILY.xattr.") {
                        meta.xattrs.push((x.to_string(), value.to_vec()));
                    }
                }
            }
        }
        Ok(meta)
    }

    /// Owner, then mode (chown clears set-id bits), then xattrs (chown
    /// clears security.capability), then mtime.
    fn apply(
        &self,
        dir: &OwnedFd,
        name: &OsStr,
        symlink: bool,
        privileged: bool,
        entry: &str,
    ) -> Result<(), LayerError> {
        let fd = Some(dir.as_raw_fd());
        let owner = (
            Uid::from_raw(self.uid as u32),
            Gid::from_raw(self.gid as u32),
        );
        match fchownat(
            fd,
            name,
            Some(owner.0),
            Some(owner.1),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(()) => {}
            Err(Errno::EPERM | Errno::EINVAL) if !privileged => {}
            Err(err) => return Err(LayerError::fs("chown", entry, err)),
        }
        if !symlink {
            fchmodat(
                fd,
                name,
                Mode::from_bits_truncate(self.mode & 0o7777),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(|err| LayerError::fs("chmod", entry, err))?;
        }
        for (key, value) in &self.xattrs {
            match set_xattr_at(dir, name, key, value) {
                Ok(()) => {}
                Err(Errno::EPERM | Errno::ENOTSUP) if !privileged || key.starts_with("user.") => {}
                Err(err) => return Err(LayerError::fs(&format!("set xattr {key} on"), entry, err)),
            }
        }
        set_mtime(dir, name, self.mtime).map_err(|err| LayerError::fs("set mtime of", entry, err))
    }
}
