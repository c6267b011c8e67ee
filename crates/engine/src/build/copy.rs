//! COPY and ADD: files from the build context, from an earlier stage or
//! from an image, written into the step image's root filesystem mounted
//! with a fresh upper directory (so parents that exist keep what they
//! are, and the destination resolves through the image's own symlinks,
//! never out of it), then committed from that upper directory. Owners are
//! root or `--chown` (numeric or names from the image's /etc/passwd and
//! /etc/group), modes the source's or `--chmod`, mtimes the source's. ADD
//! unpacks a local tar archive (plain, gzip or zstd) into the destination.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{chown, Gid, Uid};
use yurta_build::ast::Source;
use yurta_build::context::{Context, EntryKind};
use yurta_build::plan::{CopyFrom, CopyOp};
use yurta_images::commit::{commit, CommitOptions, ContainerFs};
use yurta_images::layers::{mount_rootfs, unmount_rootfs, RootfsKind};
use yurta_images::spec::RunConfig;
use yurta_images::{ImageRecord, Store};

use crate::fsutil::scoped_join;

/// A root filesystem mounted for one step, unmounted and removed on drop.
pub struct Mounted {
    dir: PathBuf,
    pub merged: PathBuf,
    pub upper: PathBuf,
    /// An overlay is mounted on `merged` (else `merged` is a flattened
    /// copy, or the upper directory of an image without layers).
    overlay: bool,
    /// `merged` is a flattened copy of the image (no overlayfs here).
    copy: bool,
}

impl Mounted {
    /// `image` on `<dir>/merged` with a fresh upper directory; an image
    /// without layers (`scratch`) is its empty upper directory itself.
    pub fn new(store: &Store, image: &ImageRecord, dir: PathBuf) -> anyhow::Result<Mounted> {
        let (merged, upper, work) = (dir.join("merged"), dir.join("upper"), dir.join("work"));
        let mut m = Mounted {
            dir,
            merged: merged.clone(),
            upper: upper.clone(),
            overlay: false,
            copy: false,
        };
        if image.layers.is_empty() {
            fs::create_dir_all(&upper)?;
            m.merged = upper;
            return Ok(m);
        }
        match mount_rootfs(store, image, &merged, &upper, &work, true)
            .with_context(|| format!("mount the image {}", image.id))?
        {
            RootfsKind::Overlay => m.overlay = true,
            RootfsKind::Copy => m.copy = true,
        }
        Ok(m)
    }

    /// How the store reads the changes made under `merged`.
    pub fn changes(&self) -> ContainerFs<'_> {
        match self.copy {
            true => ContainerFs::Copy(&self.merged),
            false => ContainerFs::Upper(&self.upper),
        }
    }

    /// Unmounts the overlay (its upper directory stays for the commit).
    pub fn unmount(&mut self) {
        if std::mem::take(&mut self.overlay) {
            let _ = unmount_rootfs(&self.merged);
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.unmount();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What a COPY reads besides its op.
pub struct Sources<'a> {
    pub context: &'a Context,
    /// The image of `--from` (a stage's result or an image).
    pub from: Option<&'a ImageRecord>,
    /// `SOURCE_DATE_EPOCH` (see `BuildOptions::timestamp`).
    pub timestamp: Option<i64>,
}

/// Runs `op` on `parent` and returns the step's image.
pub fn copy(
    store: &Store,
    scratch: &Path,
    parent: &ImageRecord,
    run: &RunConfig,
    op: &CopyOp,
    sources: &Sources,
    created_by: &str,
) -> anyhow::Result<ImageRecord> {
    let mut target = Mounted::new(store, parent, scratch.join("target"))?;
    yurta_fault::point("build.copy.mounted");
    let owner = match &op.chown {
        Some(spec) => Some(owner(&target.merged, spec)?),
        None => None,
    };
    let w = Writer {
        root: target.merged.clone(),
        owner,
        chmod: op.chmod,
    };
    let dest_is_dir = op.dest.ends_with('/') || op.sources.len() > 1;
    match (&op.from, sources.from) {
        (CopyFrom::Context, _) => from_context(&w, op, sources.context, dest_is_dir)?,
        (_, Some(image)) => {
            let from = Mounted::new(store, image, scratch.join("from"))?;
            from_tree(&w, op, &from.merged, dest_is_dir)?;
        }
        (_, None) => bail!("the source of --from is not built"),
    }
    target.unmount();
    let opts = CommitOptions {
        config: run.clone(),
        created_by: created_by.to_string(),
        build_cache: true,
        timestamp: sources.timestamp,
        ..CommitOptions::default()
    };
    Ok(commit(store, parent, target.changes(), &opts)?)
}

/// Writes files into the step's root filesystem.
struct Writer {
    root: PathBuf,
    /// `--chown`; else root for the context's files, and the source's
    /// owner for another image's (as Docker's COPY --from).
    owner: Option<(u32, u32)>,
    chmod: Option<u32>,
}

impl Writer {
    /// The host path of `path` in the image, resolved in scope.
    fn path(&self, path: &str) -> anyhow::Result<PathBuf> {
        Ok(scoped_join(&self.root, Path::new(path))?)
    }

    /// Missing directories up to `dir`, 0755, owned by root or by
    /// `--chown` (as Docker's classic builder makes them).
    fn parents(&self, dir: &Path) -> anyhow::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(up) = dir.parent() {
            self.parents(up)?;
        }
        fs::create_dir(dir).with_context(|| format!("create {}", dir.display()))?;
        let (uid, gid) = self.owner.unwrap_or((0, 0));
        chown(dir, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
            .with_context(|| format!("chown {}", dir.display()))?;
        Ok(())
    }

    /// Copies `src` (not following a symlink) to `dst`; `mode` and the
    /// owner of the context's files are given, those of an image's tree
    /// are the source's.
    fn entry(
        &self,
        src: &Path,
        dst: &Path,
        mode: Option<u32>,
        context: bool,
    ) -> anyhow::Result<()> {
        let meta = fs::symlink_metadata(src).with_context(|| format!("read {}", src.display()))?;
        let ft = meta.file_type();
        if let Some(parent) = dst.parent() {
            self.parents(parent)?;
        }
        if ft.is_dir() {
            match fs::symlink_metadata(dst) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => fs::remove_file(dst)?,
                Err(_) => {}
            }
            if !dst.exists() {
                fs::create_dir(dst).with_context(|| format!("create {}", dst.display()))?;
            }
        } else {
            if let Ok(m) = fs::symlink_metadata(dst) {
                match m.is_dir() {
                    true => fs::remove_dir_all(dst)?,
                    false => fs::remove_file(dst)?,
                }
            }
            if ft.is_symlink() {
                symlink(fs::read_link(src)?, dst)?;
            } else if ft.is_file() {
                fs::copy(src, dst)
                    .with_context(|| format!("copy {} to {}", src.display(), dst.display()))?;
            } else {
                bail!(
                    "{}: only files, directories and links are copied",
                    src.display()
                );
            }
        }
        use std::os::unix::fs::MetadataExt;
        let (uid, gid) = match (self.owner, context) {
            (Some(o), _) => o,
            (None, true) => (0, 0),
            (None, false) => (meta.uid(), meta.gid()),
        };
        let _ = nix::unistd::fchownat(
            None,
            dst,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        );
        if !ft.is_symlink() {
            let bits = self
                .chmod
                .or(mode)
                .unwrap_or(meta.permissions().mode() & 0o7777);
            fs::set_permissions(dst, fs::Permissions::from_mode(bits))?;
        }
        let (atime, mtime) = times(&meta);
        let _ = utimensat(None, dst, &atime, &mtime, UtimensatFlags::NoFollowSymlink);
        Ok(())
    }

    /// `src` and, for a directory, everything below it, to `dst`.
    fn tree(&self, src: &Path, dst: &Path) -> anyhow::Result<()> {
        self.entry(src, dst, None, false)?;
        if fs::symlink_metadata(src)?.is_dir() {
            let mut names: Vec<_> = fs::read_dir(src)?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                self.tree(&src.join(&n), &dst.join(&n))?;
            }
            // The directory's own times once its contents are written.
            let meta = fs::symlink_metadata(src)?;
            let (atime, mtime) = times(&meta);
            let _ = utimensat(None, dst, &atime, &mtime, UtimensatFlags::NoFollowSymlink);
        }
        Ok(())
    }
}

fn times(meta: &fs::Metadata) -> (TimeSpec, TimeSpec) {
    use std::os::unix::fs::MetadataExt;
    (
        TimeSpec::new(meta.atime(), meta.atime_nsec()),
        TimeSpec::new(meta.mtime(), meta.mtime_nsec()),
    )
}

/// COPY from the context: the selection's entries (`.dockerignore`
/// applied), heredocs as files.
fn from_context(
    w: &Writer,
    op: &CopyOp,
    context: &Context,
    dest_is_dir: bool,
) -> anyhow::Result<()> {
    let mut paths = Vec::new();
    for s in &op.sources {
        match s {
            Source::Path(p) if yurta_build::context::is_url(p) => {
                let name = url_file_name(p)?;
                let dst = w.path(&join(&op.dest, &name, dest_is_dir))?;
                if let Some(parent) = dst.parent() {
                    w.parents(parent)?;
                }
                download(p, &dst, op.checksum.as_deref())?;
                let (uid, gid) = w.owner.unwrap_or((0, 0));
                let _ = chown(&dst, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
                // Docker: a downloaded file is 0600 unless --chmod says.
                fs::set_permissions(&dst, fs::Permissions::from_mode(w.chmod.unwrap_or(0o600)))?;
            }
            Source::Path(p) => paths.push(p.clone()),
            Source::Heredoc(h) => {
                let dst = w.path(&join(&op.dest, &h.name, dest_is_dir))?;
                if let Some(parent) = dst.parent() {
                    w.parents(parent)?;
                }
                fs::write(&dst, h.body())?;
                let (uid, gid) = w.owner.unwrap_or((0, 0));
                let _ = chown(&dst, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
                fs::set_permissions(&dst, fs::Permissions::from_mode(w.chmod.unwrap_or(0o644)))?;
            }
        }
    }
    if paths.is_empty() {
        return Ok(());
    }
    let sel = context.select(&paths)?;
    let single_file = sel.entries.len() == 1 && sel.entries[0].rel.is_empty();
    for e in &sel.entries {
        if e.rel.is_empty() && matches!(e.kind, EntryKind::Dir) {
            // A directory's contents are copied, not the directory: the
            // destination is made if missing, left as it is otherwise.
            w.parents(&w.path(&op.dest)?)?;
            continue;
        }
        let root_is_file = e.rel.is_empty();
        if op.add && root_is_file && is_archive(&e.host_path) {
            let dst = w.path(&op.dest)?;
            w.parents(&dst)?;
            unpack(&e.host_path, &dst)?;
            continue;
        }
        let dest = match root_is_file {
            true => {
                let name = Path::new(&sel.names[e.root])
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                join(&op.dest, &name, dest_is_dir || !single_file)
            }
            false => join(&op.dest, &e.rel, true),
        };
        let dst = w.path(&dest)?;
        // The context resolved the roots' links; below them a link is
        // copied as a link.
        w.entry(&e.host_path, &dst, Some(e.mode), true)?;
    }
    Ok(())
}

/// COPY --from: paths in another image's root filesystem (resolved in
/// its scope; the last component's link is followed, as Docker does).
fn from_tree(w: &Writer, op: &CopyOp, root: &Path, dest_is_dir: bool) -> anyhow::Result<()> {
    for s in &op.sources {
        let Source::Path(p) = s else {
            bail!("COPY --from takes paths, not heredocs");
        };
        if p.contains(['*', '?', '[']) {
            let matched = glob(root, p)?;
            if matched.is_empty() {
                bail!("COPY --from {p}: no source files were specified");
            }
            let dst = w.path(&op.dest)?;
            w.parents(&dst)?;
            for rel in matched {
                let src = scoped_join(root, Path::new(&rel))?;
                let name = Path::new(&rel)
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_default();
                w.tree(&src, &dst.join(name))?;
            }
            continue;
        }
        let src = scoped_join(root, Path::new(p))?;
        let meta = fs::symlink_metadata(&src)
            .with_context(|| format!("COPY --from: {p}: no such file or directory"))?;
        if meta.is_dir() {
            let dst = w.path(&op.dest)?;
            w.parents(&dst)?;
            let mut names: Vec<_> = fs::read_dir(&src)?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                w.tree(&src.join(&n), &dst.join(&n))?;
            }
        } else {
            let name = Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dst = w.path(&join(&op.dest, &name, dest_is_dir))?;
            w.entry(&src, &dst, None, false)?;
        }
    }
    Ok(())
}

/// The file name an `ADD URL` gets in a destination directory: the
/// URL path's last segment.
fn url_file_name(url: &str) -> anyhow::Result<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = path.splitn(4, '/').nth(3).unwrap_or("");
    match after_host.rsplit('/').next().filter(|n| !n.is_empty()) {
        Some(n) => Ok(n.to_string()),
        None => {
            bail!("ADD {url}: cannot determine a file name from the URL; give a destination file")
        }
    }
}

/// `ADD URL`: the body, streamed to `dst`, its digest checked against
/// `--checksum` when given (a mismatch leaves no file).
fn download(url: &str, dst: &Path, checksum: Option<&str>) -> anyhow::Result<()> {
    use sha2::Digest as _;
    use std::io::Write;
    let mut body = crate::fetch::get(url).map_err(|e| anyhow::anyhow!("ADD {e}"))?;
    let mut file = fs::File::create(dst).with_context(|| format!("create {}", dst.display()))?;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body
            .read(&mut buf)
            .with_context(|| format!("ADD {url}: read"))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        file.write_all(&buf[..n])?;
    }
    let got = format!("sha256:{}", hex::encode(hash.finalize()));
    if let Some(want) = checksum {
        if want != got {
            drop(file);
            let _ = fs::remove_file(dst);
            bail!("ADD {url}: checksum mismatch: expected {want}, got {got}");
        }
    }
    Ok(())
}

/// The paths below `root` (relative, sorted) that the pattern `p` (an
/// absolute or relative path with `*`, `?`, `[…]`) matches, walking only
/// the directories its fixed part names.
fn glob(root: &Path, p: &str) -> anyhow::Result<Vec<String>> {
    let pattern = p.trim_start_matches('/');
    let fixed: Vec<&str> = pattern
        .split('/')
        .take_while(|c| !c.contains(['*', '?', '[']))
        .collect();
    let start = fixed.join("/");
    let compiled = yurta_build::ignore::Pattern::new(pattern, false)
        .map_err(|e| anyhow::anyhow!("COPY --from {p}: {e}"))?;
    let depth = pattern.split('/').count();
    let mut out = Vec::new();
    let mut stack = vec![start.clone()];
    while let Some(dir) = stack.pop() {
        let host = scoped_join(root, Path::new(&dir))?;
        let Ok(entries) = fs::read_dir(&host) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = match dir.is_empty() {
                true => e.file_name().to_string_lossy().into_owned(),
                false => format!("{dir}/{}", e.file_name().to_string_lossy()),
            };
            if compiled.matches(&rel) {
                out.push(rel.clone());
            }
            let deeper = rel.split('/').count() < depth;
            if deeper && e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `dest` itself, or `dest/name` when it is a directory.
fn join(dest: &str, name: &str, into: bool) -> String {
    match into && !name.is_empty() {
        true => format!("{}/{name}", dest.trim_end_matches('/')),
        false => dest.to_string(),
    }
}

/// Whether `path` is a tar archive, compressed or not (by content).
fn is_archive(path: &Path) -> bool {
    let Ok(file) = fs::File::open(path) else {
        return false;
    };
    let Ok(mut r) = yurta_images::layers::decompress(file) else {
        return false;
    };
    let mut head = [0u8; 512];
    r.read_exact(&mut head).is_ok() && &head[257..262] == b"ustar"
}

/// ADD of an archive: its entries unpacked into `dst` (the tar crate
/// refuses paths that leave it).
fn unpack(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let file = fs::File::open(src)?;
    let mut a = tar::Archive::new(yurta_images::layers::decompress(file)?);
    a.set_preserve_permissions(true);
    a.set_preserve_ownerships(true);
    a.set_unpack_xattrs(false);
    a.set_overwrite(true);
    a.unpack(dst)
        .with_context(|| format!("ADD {}: unpack into {}", src.display(), dst.display()))
}

/// `--chown USER[:GROUP]`: numbers, or names from the image's files.
fn owner(root: &Path, spec: &str) -> anyhow::Result<(u32, u32)> {
    let u =
        crate::user::resolve_in_rootfs(root, spec).with_context(|| format!("--chown {spec}"))?;
    Ok((u.uid, u.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_in_another_image() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["out/a.so", "out/b.so", "out/c.txt", "lib/x.so"] {
            let p = tmp.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "x").unwrap();
        }
        assert_eq!(
            glob(tmp.path(), "/out/*.so").unwrap(),
            ["out/a.so", "out/b.so"]
        );
        assert_eq!(glob(tmp.path(), "*/x.so").unwrap(), ["lib/x.so"]);
        assert!(glob(tmp.path(), "/none/*").unwrap().is_empty());
    }

    #[test]
    fn url_file_names() {
        assert_eq!(
            url_file_name("http://h:1/a/b.tar.gz?x=1").unwrap(),
            "b.tar.gz"
        );
        assert!(url_file_name("https://h/").is_err());
        assert!(url_file_name("https://h").is_err());
    }

    #[test]
    fn destinations() {
        assert_eq!(join("/app/", "a.txt", true), "/app/a.txt");
        assert_eq!(join("/app", "a.txt", false), "/app");
        assert_eq!(join("/app", "", true), "/app");
    }
}
