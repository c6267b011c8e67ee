//! A directory tree written as a tar stream: what `import DIR` layers are
//! made of. Everything a rootfs holds is kept: modes, owners, mtimes,
//! symlinks, hardlinks (by inode), device nodes, fifos and xattrs (as
//! `SCHILY.xattr.*` PAX records). Symlinks are stored, never followed.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use tar::{EntryType, Header, HeaderMode};

/// Writes `dir`'s contents (not `dir` itself as a name: paths are relative
/// to it) as a tar stream into `out`.
pub fn write_dir<W: Write>(dir: &Path, out: W) -> io::Result<W> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut walker = Walker {
        b: &mut b,
        links: HashMap::new(),
    };
    walker.tree(dir, Path::new(""))?;
    b.into_inner()
}

struct Walker<'a, W: Write> {
    b: &'a mut tar::Builder<W>,
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> Walker<'_, W> {
    fn tree(&mut self, dir: &Path, rel: &Path) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let rel = rel.join(&name);
            let meta = fs::symlink_metadata(&path)?;
            self.entry(&path, &rel, &meta)?;
            if meta.is_dir() {
                self.tree(&path, &rel)?;
            }
        }
        Ok(())
    }

    fn entry(&mut self, path: &Path, rel: &Path, meta: &fs::Metadata) -> io::Result<()> {
        let xattrs = list_xattrs(path).map_err(|e| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("xattrs of {}: {e}", path.display()),
            )
        })?;
        if !xattrs.is_empty() {
            let recs: Vec<(String, Vec<u8>)> = xattrs
                .into_iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v))
                .collect();
            self.b
                .append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        let mut h = Header::new_gnu();
        h.set_metadata_in_mode(meta, HeaderMode::Complete);
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(path)?;
            return self.b.append_link(&mut h, rel, target);
        }
        if ft.is_dir() {
            let mut name = rel.as_os_str().as_bytes().to_vec();
            name.push(b'/');
            return self.b.append_data(
                &mut h,
                Path::new(std::ffi::OsStr::from_bytes(&name)),
                io::empty(),
            );
        }
        if ft.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    h.set_entry_type(EntryType::Link);
                    h.set_size(0);
                    return self.b.append_link(&mut h, rel, first.clone());
                }
                self.links.insert(key, rel.to_path_buf());
            }
            return self.b.append_data(&mut h, rel, File::open(path)?);
        }
        // fifo, char and block devices: the header already says so.
        h.set_size(0);
        self.b.append_data(&mut h, rel, io::empty())
    }
}

/// The extended attributes of `path` (not following a symlink).
fn list_xattrs(path: &Path) -> Result<Vec<(String, Vec<u8>)>, Errno> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let mut names = vec![0u8; 65536];
    // SAFETY: `c` is NUL-terminated; `names` is writable for its length.
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    let n = match Errno::result(n) {
        Ok(n) => n as usize,
        Err(Errno::ENOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for key in names[..n].split(|b| *b == 0).filter(|k| !k.is_empty()) {
        let ckey = CString::new(key).map_err(|_| Errno::EINVAL)?;
        let mut value = vec![0u8; 65536];
        // SAFETY: both strings are NUL-terminated; `value` is writable for its length.
        let len = unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                ckey.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        match Errno::result(len) {
            Ok(len) => {
                value.truncate(len as usize);
                out.push((String::from_utf8_lossy(key).into_owned(), value));
            }
            Err(Errno::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
