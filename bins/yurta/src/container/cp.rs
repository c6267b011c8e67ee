//! `cp`: files between a container and the host, as tar streams. The
//! container's side runs in a helper (`yurta container cp-helper`, this
//! binary again; `yurta_engine::lifecycle::archive` makes its command)
//! that enters the container's mount namespace (running) or chroots into
//! its root filesystem, mounted for the copy (stopped), so paths —
//! symlinks included — resolve as inside the container and never escape
//! to the host. `SRC/.` copies a directory's contents, as Docker. A
//! stopped container's volumes are not part of the copy.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use yurta_engine::lifecycle::archive::{self, ArchiveOp};
use yurta_engine::Engine;

use super::args::{CpArgs, CpHelperArgs};
use super::reconcile;
use crate::Ctx;

/// `CONTAINER:PATH` → (container, path); a host path → None.
fn split(arg: &str) -> Option<(&str, &str)> {
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty() && !c.contains('/')).then_some((c, p))
}

pub fn cp(ctx: &Ctx, a: CpArgs) -> anyhow::Result<()> {
    let (from, to) = (split(&a.src), split(&a.dest));
    let (name, inside, host, pack_inside) = match (from, to) {
        (Some((c, p)), None) => (c, p, a.dest.as_str(), true),
        (None, Some((c, p))) => (c, p, a.src.as_str(), false),
        _ => bail!(
            "copying between containers or between host paths is not supported: {} {}",
            a.src,
            a.dest
        ),
    };
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(name)?);
    let op = match pack_inside {
        true => ArchiveOp::Pack(inside),
        false => ArchiveOp::Unpack(inside),
    };
    let mut h = archive::helper(ctx, &engine, &rec, op)?;
    let helper = &mut h.command;
    let source = if pack_inside { inside } else { host };
    let contents = source.ends_with("/.");
    if pack_inside {
        let mut child = helper.stdout(Stdio::piped()).spawn()?;
        let out = child.stdout.take().context("helper stdout")?;
        let r = if host == "-" {
            io::copy(&mut { out }, &mut crate::out::Stdout::lock())
                .map(|_| ())
                .map_err(Into::into)
        } else {
            unpack(out, Path::new(host), contents)
        };
        helper_done(child.wait()?)?;
        r
    } else {
        if contents {
            helper.arg("--contents");
        }
        let mut child = helper.stdin(Stdio::piped()).spawn()?;
        let input = child.stdin.take().context("helper stdin")?;
        let r = if host == "-" {
            io::copy(&mut io::stdin(), &mut { input })
                .map(|_| ())
                .map_err(Into::into)
        } else {
            pack(Path::new(host), input)
        };
        helper_done(child.wait()?)?;
        r
    }
}

/// The helper printed its own one-line error; only its code is ours.
fn helper_done(status: std::process::ExitStatus) -> anyhow::Result<()> {
    match status.code() {
        Some(0) => Ok(()),
        code => Err(super::exit(code.unwrap_or(125))),
    }
}

/// The container's side, in its mount namespace or root filesystem.
pub fn helper(a: CpHelperArgs) -> anyhow::Result<()> {
    match (a.pid, &a.root_dir) {
        (Some(pid), _) => enter_running(pid)?,
        (None, Some(dir)) => nix::unistd::chroot(dir.as_path()).context("chroot")?,
        (None, None) => bail!("cp-helper: --pid or --root-dir"),
    }
    std::env::set_current_dir("/")?;
    match (a.pack, a.unpack, a.stat, a.list) {
        (Some(p), None, None, None) => pack(Path::new(&p), crate::out::Stdout::lock()),
        (None, Some(d), None, None) => unpack(io::stdin(), Path::new(&d), a.contents),
        (None, None, Some(p), None) => stat(Path::new(&p)),
        (None, None, None, Some(d)) => list(Path::new(&d)),
        _ => bail!("cp-helper: one of --pack, --unpack, --stat or --list"),
    }
}

/// A directory's entries, sorted by name, as one JSON array on stdout.
fn list(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let entries =
        fs::read_dir(dir).with_context(|| format!("{}: not a directory", dir.display()))?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        let t = meta.file_type();
        let kind = match () {
            _ if t.is_dir() => "dir",
            _ if t.is_file() => "file",
            _ if t.is_symlink() => "link",
            _ => "other",
        };
        let link = match t.is_symlink() {
            true => fs::read_link(e.path())
                .map(|l| l.display().to_string())
                .unwrap_or_default(),
            false => String::new(),
        };
        out.push(serde_json::json!({
            "Name": e.file_name().to_string_lossy(),
            "Type": kind,
            "Size": meta.size(),
            "Mode": format!("{:04o}", meta.mode() & 0o7777),
            "Modified": yurta_time::format(meta.mtime(), meta.mtime_nsec() as u32),
            "Link": link,
        }));
    }
    out.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    outln!("{}", serde_json::Value::Array(out))?;
    Ok(())
}

/// Docker's container path stat, as JSON on stdout: `mode` in Go's
/// os.FileMode bits (directory 1<<31, symlink 1<<27, permissions).
fn stat(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path)
        .with_context(|| format!("Could not find the file {} in container", path.display()))?;
    let mut mode = meta.mode() & 0o777;
    if meta.is_dir() {
        mode |= 1 << 31;
    }
    let link = match meta.file_type().is_symlink() {
        true => {
            mode |= 1 << 27;
            fs::read_link(path)?.display().to_string()
        }
        false => String::new(),
    };
    let name = path
        .file_name()
        .map_or("/".into(), |n| n.to_string_lossy().into_owned());
    let mtime = yurta_time::format(meta.mtime(), meta.mtime_nsec() as u32);
    let v = serde_json::json!({
        "name": name, "size": meta.size(), "mode": mode, "mtime": mtime, "linkTarget": link,
    });
    outln!("{v}")?;
    Ok(())
}

/// Enters a running container's mount namespace and root, as nsenter.
fn enter_running(pid: i32) -> anyhow::Result<()> {
    let ns = fs::File::open(format!("/proc/{pid}/ns/mnt"))?;
    // Opened before setns: the container's /proc is another pid namespace's.
    let root = fs::File::open(format!("/proc/{pid}/root"))?;
    nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNS).context("enter the container")?;
    nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&root))?;
    nix::unistd::chroot(".")?;
    Ok(())
}

/// `path` as a tar of one entry named by its last component; `DIR/.`: the
/// directory's contents.
fn pack(path: &Path, out: impl Write) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path).with_context(|| {
        format!(
            "Could not find the file {} in the container or host",
            path.display()
        )
    })?;
    let contents_only = path.as_os_str().as_encoded_bytes().ends_with(b"/.");
    let name = match path.file_name() {
        Some(n) if !contents_only => PathBuf::from(n),
        _ => PathBuf::from("."),
    };
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    if meta.is_dir() {
        b.append_dir_all(&name, path)?;
    } else {
        b.append_path_with_name(path, &name)?;
    }
    b.into_inner()?.flush()?;
    Ok(())
}

/// Docker's rules, simplified: into `dest` when it is a directory,
/// otherwise the single entry becomes `dest`; a directory's contents
/// (`contents`) make a missing `dest` that directory.
fn unpack(input: impl Read, dest: &Path, contents: bool) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(input);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(true);
    ar.set_overwrite(true);
    if contents && !dest.exists() {
        fs::create_dir(dest).with_context(|| format!("cp: create {}", dest.display()))?;
    }
    if dest.is_dir() {
        return Ok(ar.unpack(dest)?);
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!("cp: {} is not a directory", parent.display());
    }
    let tmp = parent.join(format!(".yurta-cp-{}", std::process::id()));
    fs::create_dir(&tmp)?;
    let r = (|| -> anyhow::Result<()> {
        ar.unpack(&tmp)?;
        let mut entries = fs::read_dir(&tmp)?;
        let first = entries.next().context("cp: empty archive")??;
        fs::rename(first.path(), dest).with_context(|| format!("cp: {}", dest.display()))?;
        Ok(())
    })();
    let _ = fs::remove_dir_all(&tmp);
    r
}
