//! `cp`: files between a running container and the host, as tar streams.
//! The container's side runs in a helper (`yurta container cp-helper`, this
//! binary again) that enters the container's mount namespace first, so
//! paths — symlinks and volumes included — resolve as inside the
//! container and never escape to the host.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use yurta_engine::Engine;

use super::args::{CpArgs, CpHelperArgs};
use super::{state, Paths};
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
    let rec = state::refresh(ctx, &engine, engine.containers.lookup(name)?);
    let pid = state::init_pid(&Paths::new(&ctx.root, &rec.id))
        .filter(|_| rec.state.running)
        .with_context(|| format!("cp {name}: the container is not running (cp of stopped containers is not supported yet)"))?;
    let mut helper = Command::new(std::env::current_exe()?);
    helper.args(["container", "cp-helper", "--pid", &pid.to_string()]);
    if pack_inside {
        helper.args(["--pack", inside]);
        let mut child = helper.stdout(Stdio::piped()).spawn()?;
        let out = child.stdout.take().context("helper stdout")?;
        let r = if host == "-" {
            io::copy(&mut { out }, &mut io::stdout())
                .map(|_| ())
                .map_err(Into::into)
        } else {
            unpack(out, Path::new(host))
        };
        helper_done(child.wait()?)?;
        r
    } else {
        helper.args(["--unpack", inside]);
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

/// The container's side, in its mount namespace.
pub fn helper(a: CpHelperArgs) -> anyhow::Result<()> {
    let ns = fs::File::open(format!("/proc/{}/ns/mnt", a.pid))?;
    // Opened before setns: the container's /proc is another pid namespace's.
    let root = fs::File::open(format!("/proc/{}/root", a.pid))?;
    nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNS).context("enter the container")?;
    // Like nsenter: chdir to the container's root and chroot there.
    nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&root))?;
    nix::unistd::chroot(".")?;
    std::env::set_current_dir("/")?;
    match (a.pack, a.unpack) {
        (Some(p), None) => pack(Path::new(&p), io::stdout()),
        (None, Some(d)) => unpack(io::stdin(), Path::new(&d)),
        _ => bail!("cp-helper: --pack or --unpack"),
    }
}

/// `path` as a tar of one entry named by its last component.
fn pack(path: &Path, out: impl Write) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path).with_context(|| {
        format!(
            "Could not find the file {} in the container or host",
            path.display()
        )
    })?;
    let name = path
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
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
/// otherwise the single entry becomes `dest`.
fn unpack(input: impl Read, dest: &Path) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(input);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(true);
    ar.set_overwrite(true);
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
