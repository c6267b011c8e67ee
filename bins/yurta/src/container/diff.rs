//! `diff`: the container's changes to its image, Docker's `A`/`C`/`D`
//! lines (`yurta_images::rwlayer`), read from its overlay upper directory —
//! or, on the flattened-copy driver, by comparing the copy with the image;
//! a stopped container needs no mount for either.

use std::path::PathBuf;

use anyhow::Context;
use yurta_engine::record::ContainerRecord;
use yurta_engine::rootfs::RootfsPaths;
use yurta_engine::Engine;
use yurta_images::rwlayer::{self, Lowers};
use yurta_images::ImageRecord;

use super::args::DiffArgs;
use super::reconcile;
use crate::Ctx;

pub fn diff(ctx: &Ctx, a: DiffArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    let image = image_of(&engine, &rec, "diff")?;
    let snapshots = engine.images.unpack_image(&image)?;
    let (fs, dir) = ReadFs::of(&engine, &rec);
    let changes = Lowers::open(&snapshots)
        .and_then(|lowers| match fs {
            ReadFs::Upper => rwlayer::changes(&dir, &lowers),
            ReadFs::Copy => rwlayer::copy_changes(&dir, &lowers),
        })
        .with_context(|| format!("diff {}: read {}", a.container, dir.display()))?;
    for c in changes {
        outln!("{c}")?;
    }
    Ok(())
}

/// The container's image, which its changes are told from.
pub(super) fn image_of(
    engine: &Engine,
    rec: &ContainerRecord,
    verb: &str,
) -> anyhow::Result<ImageRecord> {
    engine
        .images
        .resolve(&rec.image)
        .with_context(|| format!("{verb} {}: its image {}", rec.bare_name(), rec.image))
}

/// Where a container's changes are read.
#[derive(Clone, Copy)]
pub(super) enum ReadFs {
    /// The overlay's upper directory, `<container>/diff`.
    Upper,
    /// The flattened copy in `<container>/rootfs` (overlayfs was
    /// unavailable), compared with the image.
    Copy,
}

impl ReadFs {
    pub(super) fn of(engine: &Engine, rec: &ContainerRecord) -> (ReadFs, PathBuf) {
        let paths = RootfsPaths::new(&engine.containers.container_dir(&rec.id));
        match rec.driver.as_str() {
            "copy" => (ReadFs::Copy, paths.rootfs),
            _ => (ReadFs::Upper, paths.upper),
        }
    }
}
