//! `export [-o FILE] CONTAINER`: the container's root filesystem (image
//! plus changes, without its volumes, as Docker's) as a tar stream.
//!
//! The tar is written by a helper (`yurta container export-helper`, this
//! binary again) started in a mount namespace of its own: a stopped
//! container's overlay is mounted there, so the mount exists only in that
//! namespace and goes with it however the helper ends (kill -9
//! included) — nothing is ever mounted on the host. A running container's
//! root, already mounted, is read as it is. The CLI holds `start.lock`
//! meanwhile (no start or removal under the export), and the helper dies
//! with the CLI (`PR_SET_PDEATHSIG`).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use nix::mount::{mount, MsFlags};
use yurta_engine::rootfs::RootfsPaths;
use yurta_engine::volume::is_mountpoint;
use yurta_engine::Engine;
use yurta_images::rwlayer::{write_tree, Source};

use super::args::{ExportArgs, ExportHelperArgs};
use crate::Ctx;
use yurta_engine::lifecycle;

pub fn export(ctx: &Ctx, a: ExportArgs) -> anyhow::Result<()> {
    if a.output.is_none() && std::io::stdout().is_terminal() {
        bail!("export: refusing to write an archive to a terminal; use -o FILE or redirect stdout");
    }
    let engine = Engine::open(&ctx.root)?;
    match &a.output {
        Some(path) => to_file(ctx, &engine, &a.container, path),
        None => run_helper(ctx, &engine, &a.container, Stdio::inherit()),
    }
}

/// Into `FILE.yurta-partial`, renamed to `FILE` when complete (a failed
/// export leaves no partial archive under the name asked for).
fn to_file(ctx: &Ctx, engine: &Engine, container: &str, path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_extension("yurta-partial");
    let file = File::create(&tmp).with_context(|| format!("export: create {}", tmp.display()))?;
    let done = run_helper(ctx, engine, container, Stdio::from(file)).and_then(|()| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("export: rename {} to {}", tmp.display(), path.display()))
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Runs the engine's export with `out` as the helper's stdout; the
/// helper's one-line error is its own, only its exit code is ours.
fn run_helper(ctx: &Ctx, engine: &Engine, container: &str, out: Stdio) -> anyhow::Result<()> {
    let mut e = lifecycle::export::export(ctx, engine, container, out)?;
    let status = e.child.wait().context("export: wait for the helper")?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(super::exit(code)),
        None => bail!("export: its helper ended: {status}"),
    }
}

/// The helper: in its own mount namespace (made by the CLI before the
/// exec), mounts a stopped container's overlay on the container's
/// `rootfs/` — visible here only — and writes the tree to stdout.
pub fn helper(ctx: &Ctx, a: ExportHelperArgs) -> anyhow::Result<()> {
    // Nothing mounted here may propagate back to the host's namespace.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("export: make the mount namespace private")?;
    let engine = Engine::open(&ctx.root)?;
    let rec = engine.containers.read(&a.container)?;
    let paths = RootfsPaths::new(&engine.containers.container_dir(&rec.id));
    if rec.driver != "copy" && !is_mountpoint(&paths.rootfs) {
        let image = engine
            .images
            .resolve(&rec.image)
            .with_context(|| format!("export: the image {} of the container is gone", rec.image))?;
        let (root, upper, work) = (&paths.rootfs, &paths.upper, &paths.work);
        yurta_images::layers::mount_overlay_only(&engine.images, &image, root, upper, work)
            .with_context(|| format!("export: mount the root filesystem of {}", rec.bare_name()))?;
    }
    yurta_fault::point("export.mounted");
    let out = BufWriter::new(crate::out::Stdout::lock());
    let (out, _) = write_tree(&paths.rootfs, Source::Tree, out)
        .with_context(|| format!("export {}", rec.bare_name()))?;
    out.into_inner()
        .map_err(|e| e.into_error())?
        .flush()
        .context("export: write to stdout")
}
